namespace Pipeline.EmbeddedKafka; internal static class AssemblyMarker { }
