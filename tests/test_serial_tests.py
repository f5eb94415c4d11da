"""Tests marked serial run in `make test`'s second pass, which collects only their folder: a test
marked serial anywhere else would run in neither pass."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERIAL_MARK = re.compile(r"\bmark\.serial\b")


def serial_folder() -> Path:
    found = re.search(r"^SERIAL_TESTS\s*\??=\s*(\S+)\s*$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert found, "the Makefile names no SERIAL_TESTS folder"
    return ROOT / found.group(1)


def test_every_test_marked_serial_is_in_the_folder_the_serial_pass_collects() -> None:
    folder = serial_folder()
    marked = {p for p in (ROOT / "tests").rglob("*.py") if SERIAL_MARK.search(p.read_text(encoding="utf-8"))}
    assert marked, "no test is marked serial: the serial pass would have nothing to run"
    outside = sorted(str(p.relative_to(ROOT)) for p in marked if folder not in p.parents)
    assert outside == [], f"marked serial outside {folder.relative_to(ROOT)}: {outside}"
