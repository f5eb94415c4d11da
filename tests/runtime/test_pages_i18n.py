"""Chinese and English pages: the switcher, the user's preference, and complete, compiled translations."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from engine import identity
from engine.loom import Loom
from tests.runtime.pages_world import Team, build_team, csrf, text

TRANSLATIONS = Path(__file__).resolve().parents[2] / "runtime" / "translations"
CHINESE = TRANSLATIONS / "zh_Hans_CN" / "LC_MESSAGES"


@pytest.fixture
def team(crm: Loom) -> Team:
    return build_team(crm)


def test_switching_to_english_is_remembered_as_the_users_preference(team: Team) -> None:
    client = team.client("wang.fang")
    assert "我的任务" in text(client.get("/"))
    response = client.post(
        "/locale", data={"csrf_token": csrf(client), "locale": "en", "next": "/app/customer"}
    )
    assert response.headers["Location"] == "/app/customer"
    page = text(client.get("/app/customer"))
    assert '<html lang="en">' in page and "Customer name" in page and "New Customer" in page
    assert identity.actor_for(team.loom, team.ids["wang.fang"]).locale == "en"
    assert "My tasks" in text(team.client("wang.fang", locale="").get("/"))  # a new session, same language


def test_the_switcher_goes_back_only_to_pages_of_this_site(team: Team) -> None:
    client = team.client("wang.fang")
    response = client.post(
        "/locale", data={"csrf_token": csrf(client), "locale": "en", "next": "//evil.example/x"}
    )
    assert response.headers["Location"] == "/"


def test_the_compiled_catalogue_matches_its_source() -> None:
    with (CHINESE / "messages.po").open("rb") as source:
        catalogue = read_po(source)
    with (CHINESE / "messages.mo").open("rb") as compiled:
        shipped = read_mo(compiled)
    expected = {message.id: message.string for message in catalogue if message.id}
    assert {message.id: message.string for message in shipped if message.id} == expected


def test_every_page_text_has_a_chinese_translation(tmp_path: Path) -> None:
    template = tmp_path / "messages.pot"
    root = str(TRANSLATIONS.parents[1])
    arguments = [
        "pybabel",
        "-q",
        "extract",
        "-F",
        str(TRANSLATIONS / "babel.cfg"),
        "-k",
        "_l",
        "-o",
        str(template),
    ]
    CommandLineInterface().run([*arguments, root])
    with template.open("rb") as extracted, (CHINESE / "messages.po").open("rb") as source:
        wanted = {message.id for message in read_po(extracted) if message.id}
        translated = {
            message.id for message in read_po(source) if message.id and message.string and not message.fuzzy
        }
    assert sorted(wanted - translated) == []
