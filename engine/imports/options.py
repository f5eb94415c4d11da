"""What an import is asked to do, and the error raised when the request itself cannot run."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.base.errors import LoomError
from engine.base.messages import Message

ON_DUPLICATE = ("skip", "update", "merge")
DATE_ORDERS = ("auto", "dmy", "mdy")
BATCH_ROWS = 2000


class ImportRefused(LoomError):
    """The import cannot start as asked (bad mapping, unknown key field, changed file…); nothing ran."""

    code = "invalid_import"

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__(Message("import_refused", problems=self.problems))


@dataclass(frozen=True)
class ImportOptions:
    """How rows become records.

    mapping: file column → field name (columns left out are ignored; None = auto-map by name or label).
    on_duplicate: what a row matching an existing record does — skip it, update (overwrite the
    mapped fields with the row's non-empty cells) or merge (fill only the record's empty fields).
    key: match rows to records on this unique field instead of the object's duplicate rules.
    normalise: trim cells, make full-width digits and letters half-width, tidy mobile numbers.
    values: per select field, cell text → option value (None: leave the field empty), for words
    that are neither an option's value, label nor alias.
    date_order: how dates like 03/04/2026 read: dmy, mdy, or auto (as the file's other dates show).
    """

    mapping: Mapping[str, str | None] | None = None
    on_duplicate: str = "skip"
    key: str | None = None
    normalise: bool = True
    batch_rows: int = BATCH_ROWS
    values: Mapping[str, Mapping[str, str | None]] = field(default_factory=dict)
    date_order: str = "auto"

    def __post_init__(self) -> None:
        if self.on_duplicate not in ON_DUPLICATE:
            raise ImportRefused([Message("bad_on_duplicate", choices=list(ON_DUPLICATE))])
        if self.batch_rows < 1:
            raise ImportRefused(["batch_rows must be at least 1"])
        if self.date_order not in DATE_ORDERS:
            raise ImportRefused([Message("bad_date_order", choices=list(DATE_ORDERS))])

    def to_json(self) -> dict[str, Any]:
        return {
            "on_duplicate": self.on_duplicate,
            "key": self.key,
            "normalise": self.normalise,
            "batch_rows": self.batch_rows,
            "values": {name: dict(words) for name, words in self.values.items()},
            "date_order": self.date_order,
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any], mapping: Mapping[str, str | None]) -> ImportOptions:
        return cls(
            mapping=dict(mapping),
            values=doc.get("values") or {},
            date_order=doc.get("date_order", "auto"),
            **{k: doc[k] for k in ("on_duplicate", "key", "normalise", "batch_rows")},
        )


@dataclass
class Counts:
    """How many data rows went which way."""

    created: int = 0
    updated: int = 0
    merged: int = 0
    unchanged: int = 0
    skipped: int = 0  # duplicates left alone
    invalid: int = 0

    def to_json(self) -> dict[str, int]:
        return dict(vars(self))

    @classmethod
    def from_json(cls, doc: Mapping[str, int]) -> Counts:
        return cls(**{name: int(doc.get(name, 0)) for name in vars(cls())})

    def add(self, other: Counts) -> None:
        for name, value in vars(other).items():
            setattr(self, name, getattr(self, name) + value)


@dataclass(frozen=True)
class Problem:
    """A row that was not imported (kind invalid) or was left alone as a duplicate (kind duplicate)."""

    line: int
    kind: str
    cells: list[Any]
    reasons: dict[str, list[str]]


@dataclass
class ImportReport:
    """The outcome of a dry run or of a finished (or resumed) import."""

    object: str
    import_id: int | None
    status: str
    rows: int
    counts: Counts = field(default_factory=Counts)
    problems: list[Problem] = field(default_factory=list)  # a dry run's; an import stores its own
    unmapped: list[str] = field(default_factory=list)  # the file's columns no field takes
    unknown_values: dict[str, dict[str, int]] = field(default_factory=dict)  # field → text → rows (dry run)
    guessed_values: dict[str, dict[str, str]] = field(default_factory=dict)  # field → text → option taken
    date_orders: dict[str, str] = field(default_factory=dict)  # separator → dmy/mdy, as the file shows

    @property
    def invalid(self) -> list[Problem]:
        return [p for p in self.problems if p.kind == "invalid"]

    @property
    def duplicates(self) -> list[Problem]:
        return [p for p in self.problems if p.kind == "duplicate"]
