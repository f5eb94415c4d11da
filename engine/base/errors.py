"""The one exception hierarchy of the engine; the runtime maps it to HTTP statuses in one place."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from engine.base.messages import Message, localize
from metadata.problems import Problem


class LoomError(Exception):
    """Base of every error the engine raises on purpose."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def localized(self, locale: str) -> str:
        """The message in `locale` when it comes from the message catalogue; as it is otherwise."""
        return localize(self.message, locale)


class ActionRefused(LoomError):
    """A record action (convert, claim, return, transfer) refused as asked; nothing was changed.

    `reason` names the refusal and `params` its details, so pages can say it in the reader's language.
    """

    def __init__(self, message: str, reason: str = "other", **params: Any) -> None:
        super().__init__(message)
        self.reason = reason
        self.params = params


class InvalidMetadata(LoomError):
    """Metadata failed validation; nothing was applied."""

    code = "invalid_metadata"

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = sorted(problems)
        lines = "\n".join(f"  {problem}" for problem in self.problems)
        super().__init__(f"{len(self.problems)} problem(s) in the metadata:\n{lines}")


class RecordInvalid(LoomError):
    """A record failed coercion or validation; `fields` maps each field to all its errors."""

    code = "invalid_record"

    def __init__(self, object_name: str, fields: Mapping[str, Sequence[str]], row: int | None = None) -> None:
        self.object_name = object_name
        self.fields = {name: list(messages) for name, messages in fields.items()}
        self.row = row
        detail = [Message("field_messages", field=name, messages=m) for name, m in self.fields.items()]
        if row is None:
            super().__init__(Message("record_invalid", object=object_name, detail=detail))
        else:
            super().__init__(Message("record_row_invalid", object=object_name, row=row, detail=detail))


class FieldValueError(ValueError):
    """Raised by a field type when a single value cannot be coerced or is invalid.

    `str(error)` is its message: a catalogue `Message` when the type raised one, so it can be localized.
    """


class RecordNotFound(LoomError):
    code = "not_found"

    def __init__(self, object_name: str, record_id: object) -> None:
        self.object_name = object_name
        self.record_id = record_id
        super().__init__(Message("record_missing", object=object_name, id=record_id))


class UnknownObject(LoomError):
    code = "not_found"

    def __init__(self, object_name: str) -> None:
        self.object_name = object_name
        super().__init__(f"there is no object named {object_name!r}")


class UnknownReport(LoomError):
    code = "not_found"

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"there is no report named {name!r}")


class ConflictError(LoomError):
    """The record changed since the caller read it (optimistic locking)."""

    code = "conflict"

    def __init__(self, object_name: str, record_id: object, expected: int, actual: int | None) -> None:
        self.object_name = object_name
        self.record_id = record_id
        self.expected = expected
        self.actual = actual
        super().__init__(
            Message("record_changed", object=object_name, id=record_id, expected=expected, actual=actual)
        )


class ExpressionError(LoomError):
    """An expression is malformed, unsafe, or failed while evaluating."""

    code = "invalid_expression"


class NotCompilable(ExpressionError):
    """An expression cannot be turned into SQL; it is refused rather than run in Python."""

    code = "filter_not_supported"


class SchemaChangeRefused(LoomError):
    """A schema change would lose data, so it was not applied."""

    code = "schema_change_refused"

    def __init__(self, message: str, record_ids: Sequence[object] = ()) -> None:
        self.record_ids = list(record_ids)
        super().__init__(message)


class BulkInvalid(LoomError):
    """Rows of a bulk create failed validation; nothing was written. `rows` maps row index → field errors."""

    code = "invalid_records"

    def __init__(self, object_name: str, rows: Mapping[int, Mapping[str, Sequence[str]]]) -> None:
        self.object_name = object_name
        self.rows = {index: {name: list(m) for name, m in fields.items()} for index, fields in rows.items()}
        first = list(self.rows)[:10]
        super().__init__(Message("rows_invalid", count=len(self.rows), object=object_name, rows=first))


class PackageRefused(LoomError):
    """A package operation was refused: a dependency missing or out of range, a dependent package, records."""

    code = "package_refused"


class MergeConflicts(LoomError):
    """An upgrade's three-way merge left conflicts; nothing was applied."""

    code = "merge_conflict"

    def __init__(self, conflicts: Sequence[object]) -> None:
        self.conflicts = list(conflicts)
        super().__init__(
            f"{len(self.conflicts)} conflict(s) between your changes and the new version; nothing was applied"
        )


class DatabaseUnavailable(LoomError):
    """The database cannot be reached just now (restarting, down): the request may be made again shortly."""

    code = "database_unavailable"
    retry_after = 5  # seconds: a restarting PostgreSQL is usually back well within them

    def __init__(self) -> None:
        super().__init__(Message("database_unavailable", seconds=self.retry_after))


class BackupRefused(LoomError):
    """A backup could not be taken, read, verified or restored; nothing was changed."""

    code = "backup_refused"
