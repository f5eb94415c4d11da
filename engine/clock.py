"""The engine's clock: real time, or a fixed moment from LOOM_NOW so time-based behaviour is testable."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime


def parse_instant(text: str) -> datetime:
    """Parse an ISO date or datetime into a naive UTC datetime (the engine's storage form)."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


class Clock:
    """Tells the time in naive UTC; fixed when constructed with `fixed` or when LOOM_NOW is set."""

    def __init__(self, fixed: datetime | None = None, *, read_env: bool = True) -> None:
        self._fixed = fixed
        self._read_env = read_env and fixed is None

    def now(self) -> datetime:
        if self._fixed is not None:
            return self._fixed
        if self._read_env and (override := os.environ.get("LOOM_NOW")):
            return parse_instant(override)
        return datetime.now(UTC).replace(tzinfo=None, microsecond=0)

    def today(self) -> date:
        return self.now().date()

    def set(self, moment: datetime | str | None) -> None:
        """Pin the clock to a moment (or release it with None); used by tests and `loom shell`."""
        self._fixed = parse_instant(moment) if isinstance(moment, str) else moment
