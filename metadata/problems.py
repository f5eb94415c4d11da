"""A problem found in metadata, located by file and JSON pointer."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with one place in one metadata document."""

    file: str
    path: str  # a JSON pointer such as /fields/3/options/0; "" is the whole document
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path or '/'}: {self.message}"


def pointer(*parts: str | int) -> str:
    """Build a JSON pointer (RFC 6901) from path parts."""
    escaped = (str(part).replace("~", "~0").replace("/", "~1") for part in parts)
    return "".join("/" + part for part in escaped)
