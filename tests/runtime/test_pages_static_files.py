"""Styles and scripts are cached by the browser until they change, instead of asked for on every page."""

from __future__ import annotations

import os
import re

from engine.loom import Loom
from tests.runtime.pages_world import build_team, text


def _static_urls(page: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/(?:builder/)?static/[^"]+)"', page)


def test_every_static_file_of_a_page_is_cached_for_a_year_under_a_versioned_address(crm: Loom) -> None:
    client = build_team(crm).client("wang.fang")
    urls = _static_urls(text(client.get("/app/customer")))
    assert {"loom.css", "loom.js"} <= {url.split("?")[0].rsplit("/", 1)[1] for url in urls}
    for url in urls:
        assert re.search(r"\?v=[0-9a-f]+$", url), url
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "public, max-age=31536000", url


def test_a_changed_file_gets_a_new_address(crm: Loom) -> None:
    team = build_team(crm)
    client = team.client("wang.fang")
    [before] = [url for url in _static_urls(text(client.get("/"))) if "/loom.css?" in url]
    path = os.path.join(team.app.static_folder, "loom.css")
    stat = os.stat(path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    try:
        [after] = [url for url in _static_urls(text(client.get("/"))) if "/loom.css?" in url]
    finally:
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert after != before
