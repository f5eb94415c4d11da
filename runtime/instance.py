"""Where this installation's database is: the URL given, else $LOOM_DATABASE_URL, else instance/loom.db."""

from __future__ import annotations

import os

DEFAULT_DATABASE = "sqlite:///instance/loom.db"


def database_url(explicit: str | None = None) -> str:
    """The database a command or the web app opens when none is configured in its own way."""
    return explicit or os.environ.get("LOOM_DATABASE_URL") or DEFAULT_DATABASE
