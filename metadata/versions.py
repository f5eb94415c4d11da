"""Semantic versions and the version ranges a package's `depends` names.

A range is comparisons joined by commas, all of which must hold: `>=1.0,<2`. Operators are
`>=`, `>`, `<=`, `<`, `==` (or `=`), `!=`, `^` and `~`; `*` is any version. Missing parts of
a version in a range count as 0 (`>=1.2` is `>=1.2.0`), except with `==` and `!=`, where
they mean "any": `==1.2` is every 1.2.x. `^1.2.3` is `>=1.2.3,<2.0.0` (`^0.3.1` is
`>=0.3.1,<0.4.0`); `~1.2` is `>=1.2.0,<1.3.0` and `~1` is `>=1.0.0,<2.0.0`.

Pre-releases sort before their release (`2.0.0-beta.1` < `2.0.0`), but an upper bound written
without a pre-release excludes the pre-releases of that bound: `<2` does not admit
`2.0.0-beta.1`, which is usually what someone writing `<2` means.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import total_ordering
from typing import Any

_VERSION = re.compile(r"^(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")
_COMPARISON = re.compile(r"^(>=|<=|==|!=|>|<|=|\^|~)?\s*(.+)$")


class VersionError(ValueError):
    """A version or range that cannot be read."""


@total_ordering
@dataclass(frozen=True)
class Version:
    """A semantic version; build metadata (`+…`) is ignored, as semver says."""

    major: int
    minor: int = 0
    patch: int = 0
    pre: tuple[int | str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> Version:
        version, _ = _parse_partial(text)
        return version

    def _key(self) -> tuple:
        # A release sorts after its pre-releases; numeric identifiers sort before alphanumeric ones.
        pre = tuple((0, part, "") if isinstance(part, int) else (1, 0, part) for part in self.pre)
        return (self.major, self.minor, self.patch, 1 if not self.pre else 0, pre)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() < other._key()

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        return f"{text}-{'.'.join(str(part) for part in self.pre)}" if self.pre else text


def _parse_partial(text: str) -> tuple[Version, int]:
    """The version and how many of MAJOR.MINOR.PATCH were written (1 to 3)."""
    match = _VERSION.match(text.strip())
    if not match:
        raise VersionError(f"{text!r} is not a version such as 1.2.0")
    major, minor, patch, pre = match.groups()
    given = 1 + (minor is not None) + (patch is not None)
    parts = tuple(int(p) if p.isdigit() else p for p in pre.split(".")) if pre else ()
    return Version(int(major), int(minor or 0), int(patch or 0), parts), given


@dataclass(frozen=True)
class _Bound:
    op: str  # one of >=, >, <=, <, ==, !=
    version: Version
    given: int = 3  # parts written, for the "any" meaning of == and != on partial versions

    def admits(self, version: Version) -> bool:
        if self.op in {"==", "!="}:
            same = _same_prefix(version, self.version, self.given)
            return same if self.op == "==" else not same
        bound = self.version
        if self.op == "<" and not bound.pre:
            bound = Version(bound.major, bound.minor, bound.patch, (0,))  # `<2` keeps 2.0.0-x out too
        return {
            ">=": version >= bound,
            ">": version > bound,
            "<=": version <= bound,
            "<": version < bound,
        }[self.op]


def _same_prefix(version: Version, wanted: Version, given: int) -> bool:
    if given == 3:
        return version == wanted
    return (version.major, version.minor, version.patch)[:given] == (
        wanted.major,
        wanted.minor,
        wanted.patch,
    )[:given] and not version.pre


@dataclass(frozen=True)
class VersionRange:
    """A version range as written in `depends`; `admits(version)` says whether it is inside."""

    text: str
    bounds: tuple[_Bound, ...]

    @classmethod
    def parse(cls, text: str) -> VersionRange:
        bounds: list[_Bound] = []
        for part in text.split(","):
            part = part.strip()
            if part == "*":
                continue
            match = _COMPARISON.match(part)
            if not part or not match:
                raise VersionError(f"{text!r} is not a version range such as >=1.0,<2")
            op, written = match.group(1) or "==", match.group(2)
            bounds += _bounds(op, written, text)
        return cls(text, tuple(bounds))

    def admits(self, version: Version | str) -> bool:
        if isinstance(version, str):
            version = Version.parse(version)
        return all(bound.admits(version) for bound in self.bounds)

    def __str__(self) -> str:
        return self.text


def _bounds(op: str, written: str, text: str) -> list[_Bound]:
    try:
        version, given = _parse_partial(written)
    except VersionError:
        raise VersionError(f"{text!r}: {written!r} is not a version such as 1.2.0") from None
    if op == "=":
        op = "=="
    if op == "^":
        if version.major > 0 or given == 1:
            upper = Version(version.major + 1)
        elif version.minor > 0 or given == 2:
            upper = Version(0, version.minor + 1)
        else:
            upper = Version(0, 0, version.patch + 1)
        return [_Bound(">=", version), _Bound("<", upper)]
    if op == "~":
        upper = Version(version.major + 1) if given == 1 else Version(version.major, version.minor + 1)
        return [_Bound(">=", version), _Bound("<", upper)]
    return [_Bound(op, version, given)]


def dependency_problems(manifest: Mapping[str, Any], installed: Mapping[str, str]) -> list[str]:
    """Why a package's `depends` is not met by the installed packages (name → version); empty when it is."""
    problems = []
    for name, text in manifest.get("depends", {}).items():
        wanted = VersionRange.parse(text)
        if name not in installed:
            problems.append(f"{manifest['name']} needs {name} {text}, which is not installed")
        elif not wanted.admits(installed[name]):
            problems.append(
                f"{manifest['name']} needs {name} {text}, but {name} {installed[name]} is installed"
            )
    return problems
