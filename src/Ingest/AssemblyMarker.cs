namespace Pipeline.Ingest; internal static class AssemblyMarker { }
