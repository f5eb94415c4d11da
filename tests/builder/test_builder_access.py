"""The builder at /builder: administrators reach it from the menu; everyone else gets a 403."""

from __future__ import annotations

from tests.runtime.pages_world import Team, text


def test_only_an_administrator_reaches_the_builder_and_sees_it_in_the_menu(team: Team) -> None:
    page = team.client("guan.li").get("/builder/")
    assert page.status_code == 200
    assert "<h1>设置</h1>" in text(page) and "个对象" in text(page)
    assert 'href="/builder/"' in text(team.client("guan.li").get("/"))
    rep = team.client("wang.fang")
    assert rep.get("/builder/").status_code == 403
    assert 'href="/builder/"' not in text(rep.get("/"))


def test_signed_out_visitors_are_sent_to_sign_in(team: Team) -> None:
    assert team.app.test_client().get("/builder/").status_code in (302, 401)
