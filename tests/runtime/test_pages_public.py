"""Public web forms: a visitor creates a lead (its rules fire), sees field errors; bots and floods fail."""

from __future__ import annotations

import pytest

from engine.loom import Loom
from tests.runtime.pages_world import Team, build_team, text, token_in

WEB_LEAD = {"lead": ["name", "company", "phone", "email", "notes", "score"]}


@pytest.fixture
def team(crm: Loom) -> Team:
    team = build_team(crm)
    team.app.config.update(LOOM_PUBLIC_FORMS=WEB_LEAD, LOOM_PUBLIC_FORM_LIMIT=3)
    return team


def _form(client) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"csrf_token": token_in(text(client.get("/public/forms/lead")))}


def test_a_visitor_creates_a_lead_and_its_rules_fire(team: Team) -> None:
    client = team.app.test_client()
    page = text(client.get("/public/forms/lead"))
    assert 'name="company"' in page and 'name="status"' not in page and 'name="owner"' not in page
    form = {**_form(client), "name": "陈明", "company": "杭州星河科技", "phone": "13800138000", "score": "90"}
    sent = client.post("/public/forms/lead", data=form)
    assert sent.status_code == 302 and sent.headers["Location"] == "/public/forms/lead/thanks"
    assert "感谢" in text(client.get(sent.headers["Location"]))
    [lead] = team.loom.queries().find("lead").records
    assert lead["name"] == "陈明" and lead["company"] == "杭州星河科技"
    assert lead["status"] == "qualified"  # lead_score_qualified ran for the web form's lead


def test_field_errors_show_beside_their_fields_and_nothing_is_lost(team: Team) -> None:
    client = team.app.test_client()
    form = {**_form(client), "company": "苏州远航", "email": "not-an-email"}
    page = text(client.post("/public/forms/lead", data=form))
    assert 'id="error-name"' in page and "为必填项" in page and 'id="error-email"' in page
    assert 'value="苏州远航"' in page
    assert team.loom.queries().count("lead") == 0


def test_a_filled_honeypot_pretends_success_and_creates_nothing(team: Team) -> None:
    client = team.app.test_client()
    form = {**_form(client), "name": "Bot", "website_url": "http://spam.example"}
    sent = client.post("/public/forms/lead", data=form)
    assert sent.status_code == 302 and sent.headers["Location"] == "/public/forms/lead/thanks"
    assert team.loom.queries().count("lead") == 0


def test_the_submission_after_the_limit_gets_a_friendly_429(team: Team) -> None:
    client = team.app.test_client()
    form = _form(client)
    for number in range(3):
        assert client.post("/public/forms/lead", data={**form, "name": f"访客{number}"}).status_code == 302
    refused = client.post("/public/forms/lead", data={**form, "name": "访客3"})
    assert refused.status_code == 429 and "提交次数过多" in text(refused)
    assert int(refused.headers["Retry-After"]) > 0
    assert team.loom.queries().count("lead") == 3


def test_a_form_not_made_public_is_not_found(team: Team) -> None:
    client = team.app.test_client()
    assert client.get("/public/forms/customer").status_code == 404
    assert client.get("/public/forms/no_such_form").status_code == 404
    team.app.config["LOOM_PUBLIC_FORMS"] = ""
    assert client.get("/public/forms/lead").status_code == 404


def test_the_form_refuses_a_post_without_its_csrf_token(team: Team) -> None:
    client = team.app.test_client()
    assert client.post("/public/forms/lead", data={"name": "陈明"}).status_code == 400
    assert team.loom.queries().count("lead") == 0
