"""Static files (styles, scripts, vendored libraries) cached by browsers until they change.

Each static URL carries the file's version (`?v=` its modification time), so a browser may keep
the file for a year without asking again, and a changed file is a new URL it fetches at once.
Without this, every page view asked again for each style sheet and script of the page.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

A_YEAR = 365 * 24 * 3600


def init_static_files(app: Flask) -> None:
    """Version every static URL the app builds and let browsers cache the files for a year."""
    if app.config.get("SEND_FILE_MAX_AGE_DEFAULT") is None:  # Flask's default: ask again every time
        app.config["SEND_FILE_MAX_AGE_DEFAULT"] = A_YEAR

    @app.url_defaults
    def add_version(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint.rpartition(".")[2] != "static" or "filename" not in values or "v" in values:
            return
        folder = _static_folder(app, endpoint)
        if folder is not None:
            values["v"] = _version(Path(folder) / values["filename"])


def _static_folder(app: Flask, endpoint: str) -> str | None:
    blueprint, _, _ = endpoint.rpartition(".")
    if not blueprint:
        return app.static_folder
    found = app.blueprints.get(blueprint)
    return found.static_folder if found is not None else None


def _version(path: Path) -> str:
    try:
        return format(os.stat(path).st_mtime_ns // 1_000_000, "x")
    except OSError:
        return "0"  # a missing file is answered 404 as before
