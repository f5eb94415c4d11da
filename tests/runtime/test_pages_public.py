"""The CRM's public web form (官网留资): a visitor's lead lands with its source, an owner and a
notification; consent is required; bots and floods are turned away without a captcha."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pytest
from flask.testing import FlaskClient

from engine import identity
from engine.base.actors import SYSTEM
from engine.loom import Loom
from engine.schema.changes import apply_objects
from engine.work.notifications import unread_for
from runtime.web.app import create_app
from tests.runtime.pages_world import Team, build_team, text

URL = "/public/forms/web_lead"


@pytest.fixture
def team(crm: Loom) -> Team:
    return build_team(crm)


def later(loom: Loom, seconds: float) -> None:
    loom.clock.set(loom.clock.now() + dt.timedelta(seconds=seconds))


def filled(client: FlaskClient, loom: Loom, consent: bool = True, **values: str) -> dict[str, str]:
    """The served form's hidden fields with the visitor's values, sent a person's minute later."""
    page = text(client.get(URL))
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    later(loom, 60)
    return {**hidden, **({"_consent": "yes"} if consent else {}), **values}


def leads(loom: Loom) -> list[dict]:
    return loom.queries().find("lead", sort="id").records


def test_the_page_shows_its_title_intro_consent_and_only_the_visitor_fields(team: Team) -> None:
    page = text(team.app.test_client().get(URL))
    assert "<h1>联系我们</h1>" in page and "一个工作日内与您联系" in page
    assert "《隐私政策》" in page and 'name="_consent"' in page
    assert 'name="company"' in page and 'name="notes"' in page
    assert 'name="source"' not in page and 'name="status"' not in page and 'name="owner"' not in page


def test_a_web_lead_gets_its_source_the_next_rep_and_a_notification(team: Team) -> None:
    client = team.app.test_client()
    sent = client.post(
        URL, data=filled(client, team.loom, name="陈明", company="杭州星河科技", phone="13800138000")
    )
    assert sent.status_code == 302 and sent.headers["Location"] == f"{URL}/thanks"
    assert "顾问将在一个工作日内与您联系" in text(client.get(sent.headers["Location"]))
    client.post(URL, data=filled(client, team.loom, name="周婷", company="宁波海韵"))
    first, second = leads(team.loom)
    assert first["source"] == "website" and second["source"] == "website"
    # Round robin among the sales reps, in username order: 李娜 (li.na), then 王芳 (wang.fang).
    assert (first["owner"], second["owner"]) == (team.ids["li.na"], team.ids["wang.fang"])
    assert not first["in_pool"]
    with team.loom.read() as conn:
        [note] = unread_for(conn, team.ids["li.na"])
        assert note["title"] == "新的官网线索：陈明（杭州星河科技）" and note["record_id"] == first["id"]
        assert [n["title"] for n in unread_for(conn, team.ids["wang.fang"])] == [
            "新的官网线索：周婷（宁波海韵）"
        ]


def test_with_no_rep_to_take_it_the_web_lead_goes_to_the_pool(team: Team) -> None:
    for rep in ("li.na", "wang.fang"):
        identity.remove_role(team.loom, team.ids[rep], "sales_rep", actor=SYSTEM)
    client = team.app.test_client()
    assert client.post(URL, data=filled(client, team.loom, name="陈明")).status_code == 302
    [lead] = leads(team.loom)
    assert lead["owner"] is None and lead["in_pool"] and lead["pool_entered_at"] is not None


def test_without_the_consent_ticked_nothing_is_sent_and_nothing_is_lost(team: Team) -> None:
    client = team.app.test_client()
    page = text(
        client.post(URL, data=filled(client, team.loom, consent=False, name="陈明", company="苏州远航"))
    )
    assert 'id="error-_consent"' in page and "请先同意隐私条款" in page
    assert 'value="陈明"' in page and 'value="苏州远航"' in page
    assert leads(team.loom) == []


def test_field_errors_show_beside_their_fields(team: Team) -> None:
    client = team.app.test_client()
    page = text(client.post(URL, data=filled(client, team.loom, company="苏州远航", email="not-an-email")))
    assert 'id="error-name"' in page and "为必填项" in page and 'id="error-email"' in page
    assert leads(team.loom) == []


def test_a_filled_honeypot_pretends_success_and_creates_nothing(team: Team) -> None:
    client = team.app.test_client()
    sent = client.post(URL, data=filled(client, team.loom, name="Bot", website_url="http://spam.example"))
    assert sent.status_code == 302 and sent.headers["Location"] == f"{URL}/thanks"
    assert leads(team.loom) == []


def test_a_form_sent_back_at_once_or_without_its_stamp_creates_nothing(team: Team) -> None:
    client = team.app.test_client()
    page = text(client.get(URL))
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    later(team.loom, 1)  # sooner than the form's min_fill_seconds (3)
    assert client.post(URL, data={**hidden, "_consent": "yes", "name": "Bot"}).status_code == 302
    forged = {**hidden, "_served": hidden["_served"][:-2] + "xx", "_consent": "yes", "name": "Bot"}
    later(team.loom, 60)
    assert client.post(URL, data=forged).status_code == 302
    assert leads(team.loom) == []
    assert client.post(URL, data={**hidden, "_consent": "yes", "name": "陈明"}).status_code == 302
    assert [lead["name"] for lead in leads(team.loom)] == ["陈明"]


def test_one_address_gets_a_429_after_its_limit_until_the_window_passes(team: Team) -> None:
    client = team.app.test_client()
    for number in range(5):  # the CRM form allows 5 per address per 10 minutes
        assert client.post(URL, data=filled(client, team.loom, name=f"访客{number}")).status_code == 302
    refused = client.post(URL, data=filled(client, team.loom, name="访客5"))
    assert refused.status_code == 429 and "提交次数过多" in text(refused)
    assert 0 < int(refused.headers["Retry-After"]) <= 600
    neighbour = team.app.test_client()
    other = filled(neighbour, team.loom, name="邻居")
    assert neighbour.post(URL, data=other, environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 302
    later(team.loom, 600)
    assert client.post(URL, data=filled(client, team.loom, name="访客6")).status_code == 302
    assert len(leads(team.loom)) == 7


@pytest.mark.both_databases("the count is shared through the database")
def test_the_limits_are_counted_in_the_database_across_web_processes(team: Team, database_url: str) -> None:
    form = team.loom.registry.forms()["web_lead"]
    limits = {**form.public.limits, "per_address": 50, "per_form": 3}
    apply_objects(
        team.loom,
        [],
        forms=[dataclasses.replace(form, public=dataclasses.replace(form.public, limits=limits))],
    )
    other = Loom(database_url, clock=team.loom.clock)
    second_process = create_app(other, config={"SECRET_KEY": "pages-test-secret", "TESTING": True})
    try:
        clients = [team.app.test_client(), second_process.test_client()]
        for number in range(3):
            client = clients[number % 2]
            sent = client.post(URL, data=filled(client, team.loom, name=f"访客{number}"))
            assert sent.status_code == 302
        last = clients[1]
        data = filled(last, team.loom, name="访客3")
        assert last.post(URL, data=data, environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 429
    finally:
        other.close()
    assert len(leads(team.loom)) == 3


def test_a_form_not_made_public_is_not_found(team: Team) -> None:
    client = team.app.test_client()
    assert client.get("/public/forms/lead").status_code == 404  # the lead's own form is for staff
    assert client.get("/public/forms/customer").status_code == 404
    assert client.get("/public/forms/no_such_form").status_code == 404


def test_the_form_refuses_a_post_without_its_csrf_token(team: Team) -> None:
    client = team.app.test_client()
    data = {
        key: value for key, value in filled(client, team.loom, name="陈明").items() if key != "csrf_token"
    }
    assert client.post(URL, data=data).status_code == 400
    assert leads(team.loom) == []


def test_the_page_reads_in_english(team: Team) -> None:
    page = text(team.app.test_client().get(URL, query_string={"lang": "en"}))
    assert "<h1>Contact us</h1>" in page and "privacy policy" in page
