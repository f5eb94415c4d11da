"""Names an object or field may not take, and why.

Field names become column names and expression names; object names become table
names. Words that clash with system columns, the expression language or SQL are
refused up front rather than quoted everywhere later.
"""

from __future__ import annotations

# Columns every record table has; the engine owns them.
SYSTEM_FIELDS = frozenset(
    {"id", "owner", "owner_id", "created_at", "created_by", "updated_at", "updated_by", "version",
     "deleted_at"}
)  # fmt: skip

# System fields an expression may read besides the object's own fields.
EXPRESSION_SYSTEM_NAMES = frozenset(
    {"id", "owner", "created_at", "created_by", "updated_at", "updated_by", "version"}
)

PYTHON_WORDS = frozenset(
    {"and", "or", "not", "in", "is", "if", "else", "none", "true", "false", "lambda", "for", "while",
     "import", "from", "class", "def", "return", "yield", "with", "as", "pass", "break", "continue",
     "global", "nonlocal", "assert", "del", "try", "except", "finally", "raise", "async", "await", "elif",
     "match", "case"}
)  # fmt: skip

SQL_WORDS = frozenset(
    {"select", "from", "where", "table", "order", "group", "by", "having", "limit", "offset", "user",
     "column", "index", "join", "union", "insert", "update", "delete", "create", "drop", "alter", "primary",
     "key", "foreign", "references", "default", "null", "check", "constraint", "distinct", "all", "any",
     "case", "when", "then", "end", "grant", "session", "current_date", "current_time", "current_timestamp",
     "current_user"}
)  # fmt: skip

RESERVED_FIELD_NAMES = SYSTEM_FIELDS | PYTHON_WORDS | SQL_WORDS
RESERVED_OBJECT_PREFIX = "loom"


def field_name_reserved(name: str) -> str | None:
    """Why `name` cannot be a field name, or None when it can."""
    if name in SYSTEM_FIELDS:
        return f"{name!r} is a system field every record already has"
    if name in PYTHON_WORDS:
        return f"{name!r} is a word of the expression language"
    if name in SQL_WORDS:
        return f"{name!r} is a reserved SQL word"
    return None


def object_name_reserved(name: str) -> str | None:
    """Why `name` cannot be an object name, or None when it can."""
    if name in SQL_WORDS:
        return f"{name!r} is a reserved SQL word"
    if name.startswith(RESERVED_OBJECT_PREFIX):
        return f"names starting with {RESERVED_OBJECT_PREFIX!r} are reserved for Loom's own tables"
    return None
