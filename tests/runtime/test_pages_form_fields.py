"""The record form for every object of the CRM, as a browser posts it: read-only and computed fields
never block a save, metadata defaults fill the create form, check boxes round-trip exactly, and a
record in approval offers no edit to those the lock refuses."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict

from engine import identity
from engine.base.actors import SYSTEM
from engine.base.clock import Clock
from engine.identity.permissions import PermissionDenied
from engine.loom import Loom
from engine.packages.install import CRM_PACKAGE, install_package
from metadata.loading import read_package
from runtime.demo.data import load_demo_data
from runtime.web.app import create_app
from tests.runtime.pages_world import PASSWORD, Team, build_team, csrf, submitted, text, token_in

CRM_OBJECTS = sorted(document.body["name"] for document in read_package(CRM_PACKAGE).of_kind("object"))
TEXT_TYPES = ("long_text", "text")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Loom, dict[str, str]]]:
    """The CRM with a small demo year of records of every object; the sign-ins by role."""
    path: Path = tmp_path_factory.mktemp("demo") / "loom.db"
    loom = Loom(f"sqlite:///{path}", clock=Clock(datetime(2026, 11, 26, 9, 0)))
    loom.init()
    install_package(loom, CRM_PACKAGE)
    report = load_demo_data(loom, customers=12, password=PASSWORD)
    logins = {login.role: login.username for login in reversed(report.logins)}
    yield loom, logins
    loom.close()


def _client(loom: Loom, username: str) -> FlaskClient:
    app = create_app(loom, config={"SECRET_KEY": "form-fields-secret", "TESTING": True})
    client = app.test_client()
    form = {"csrf_token": token_in(text(client.get("/login"))), "username": username, "password": PASSWORD}
    assert client.post("/login", data=form).status_code == 302
    return client


def _note_field(loom: Loom, client: FlaskClient, object_name: str, record_id: int) -> str | None:
    """A free-text field the form shows this person, editable, to change on the edit."""
    states = client.post(
        f"/app/{object_name}/form-state",
        json={"values": {}, "record_id": record_id},
        headers={"X-CSRFToken": csrf(client, f"/app/{object_name}/{record_id}/edit")},
    ).get_json()["fields"]
    fields = loom.registry.object(object_name).spec.fields
    free = [f for f in fields if f.type in TEXT_TYPES and not f.unique and not f.param("pattern")]
    free.sort(key=lambda f: TEXT_TYPES.index(f.type))
    shown = [f.name for f in free if states.get(f.name, {}).get("visible") and not states[f.name]["readonly"]]
    return shown[0] if shown else None


@pytest.mark.parametrize("object_name", CRM_OBJECTS)
@pytest.mark.parametrize("role", ["admin", "sales_rep"])
def test_the_edit_form_saves_as_the_browser_posts_it(
    demo: tuple[Loom, dict[str, str]], object_name: str, role: str
) -> None:
    loom, logins = demo
    client = _client(loom, logins[role])
    record = _record_the_user_may_edit(loom, client, object_name)
    if record is None:  # then the engine must refuse this user every change to these records too
        _assert_no_record_is_editable(loom, logins[role], object_name)
        return
    path = f"/app/{object_name}/{record['id']}/edit"
    form = submitted(text(client.get(path)))
    field = _note_field(loom, client, object_name, record["id"])
    if field is not None:
        form[field] = "客户要求周五前回复"
    response = client.post(path, data=form)
    errors = text(response) if response.status_code != 302 else ""
    assert response.status_code == 302, f"{object_name} edit refused: {_field_errors(errors)}"
    saved = loom.records().get(object_name, record["id"])
    if field is not None:
        assert saved[field] == "客户要求周五前回复"
    for name, spec in loom.registry.object(object_name).fields.items():
        if spec.type in ("autonumber", "rollup"):
            assert saved[name] == record[name], f"{name} changed by an edit that did not touch it"


def _assert_no_record_is_editable(loom: Loom, username: str, object_name: str) -> None:
    actor = identity.actor_for(loom, identity.user_by_username(loom, username)["id"])
    try:
        editable = loom.queries(actor).find(object_name, operation="update", limit=40).records
    except PermissionDenied:
        return
    for record in editable:
        assert loom.flows.lock_on(object_name, record["id"], actor), f"#{record['id']} offers no edit"


def _record_the_user_may_edit(loom: Loom, client: FlaskClient, object_name: str) -> dict | None:
    """The first record whose page offers the user 编辑 (unlocked and in their scope)."""
    for record in loom.queries().find(object_name, limit=40).records:
        page = client.get(f"/app/{object_name}/{record['id']}")
        if page.status_code == 200 and f'href="/app/{object_name}/{record["id"]}/edit"' in text(page):
            return record
    return None


def _field_errors(page: str) -> list[str]:
    return re.findall(r'class="field-error" id="error-([a-z_]+)">([^<]*)<', page)


# -- defaults -----------------------------------------------------------------------------------


@pytest.fixture
def team(crm: Loom) -> Team:
    return build_team(crm)


@pytest.mark.parametrize("object_name", CRM_OBJECTS)
def test_the_create_form_is_filled_with_the_fields_metadata_defaults(crm: Loom, object_name: str) -> None:
    team = build_team(crm)
    admin = _admin(team)
    page = admin.get(f"/app/{object_name}/new")
    assert page.status_code == 200
    form = submitted(text(page))
    model = crm.registry.object(object_name)
    for spec in model.spec.fields:
        if spec.default is None or spec.readonly or f'name="{spec.name}' not in text(page):
            continue
        if spec.type == "boolean":
            default_true = spec.default.strip().lower() == "true"
            assert (form.get(spec.name) == "true") is default_true, f"{spec.name} ticked wrongly"
        else:
            assert form.get(spec.name), f"{object_name}.{spec.name}: default {spec.default} not filled"


def test_a_contract_created_in_the_form_gets_its_default_status_and_can_be_submitted(team: Team) -> None:
    customer = team.customer("苏州精工机械有限公司")
    client = team.client("wang.fang")
    form = submitted(text(client.get("/app/contract/new")))
    _fill(form, name="设备采购合同", customer=str(customer["id"]), amount="86000")
    response = client.post("/app/contract/new", data=form)
    assert response.status_code == 302, _field_errors(text(response))
    [contract] = team.loom.queries().find("contract").records
    assert contract["status"] == "draft" and contract["type"] == "sales"
    team.loom.flows.submit("contract", contract["id"], actor=team.actor("wang.fang"))


def test_a_check_box_ticked_by_default_stays_ticked_when_saved_untouched(team: Team) -> None:
    client = _admin(team)
    form = submitted(text(client.get("/app/product/new")))
    _fill(form, name="数控车床 CK6150", code="CK6150", unit_price="128000")
    response = client.post("/app/product/new", data=form)
    assert response.status_code == 302, _field_errors(text(response))
    [product] = team.loom.queries().find("product").records
    assert product["active"] is True


def test_an_unticked_check_box_stays_unticked_after_a_validation_error(team: Team) -> None:
    client = _admin(team)
    form = submitted(text(client.get("/app/product/new")))
    form.pop("active", None)  # the admin unticks 启用 and forgets the name
    _fill(form, code="CK6150", unit_price="128000")
    page = text(client.post("/app/product/new", data=form))
    assert 'id="error-name"' in page
    again = submitted(page)
    assert "active" not in again, "the unticked box came back ticked"
    again["name"] = "数控车床 CK6150"
    assert client.post("/app/product/new", data=again).status_code == 302
    [product] = team.loom.queries().find("product").records
    assert product["active"] is False


# -- approval -----------------------------------------------------------------------------------


def test_a_contract_in_approval_shows_its_state_and_offers_no_edit_to_its_owner(team: Team) -> None:
    customer = team.customer("苏州精工机械有限公司")
    contract = team.loom.records().create(
        "contract",
        {"name": "设备采购合同", "customer": customer["id"], "amount": 86000, "owner": team.ids["wang.fang"]},
    )
    team.loom.flows.submit("contract", contract["id"], actor=team.actor("wang.fang"))
    client = team.client("wang.fang")
    path = f"/app/contract/{contract['id']}"
    page = text(client.get(path))
    assert "审批中" in page
    assert f'href="{path}/edit"' not in page
    refused = client.get(f"{path}/edit")
    assert refused.status_code == 302 and refused.headers["Location"] == path
    assert "审批中" in text(client.get(path))
    form = {"csrf_token": csrf(client, path), "name": "改名合同", "_version": str(contract["version"])}
    client.post(f"{path}/edit", data=form)
    assert team.loom.records().get("contract", contract["id"])["name"] == "设备采购合同"


def _fill(form: MultiDict, **values: str) -> None:
    """Type into the form's inputs (replacing what they held, as a person typing does)."""
    for name, value in values.items():
        form[name] = value


def _admin(team: Team) -> FlaskClient:
    if "boss" not in team.ids:
        team.ids["boss"] = identity.create_user(
            team.loom, "boss", "老板", PASSWORD, roles=["admin"], actor=SYSTEM
        )["id"]
    return team.client("boss")
