namespace Pipeline.Inventory; internal static class AssemblyMarker { }
