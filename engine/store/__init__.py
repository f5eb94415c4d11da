"""The database: opening it, Loom's own tables, the audit log, counters and metadata documents."""
