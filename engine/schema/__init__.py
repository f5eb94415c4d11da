"""Objects as tables: the registry, table shapes, schema sync, removal and metadata changes."""
