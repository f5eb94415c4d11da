"""The API refuses what its document calls invalid and accepts what it calls valid.

Each case here was found by running schemathesis against the CRM: a server error, a bad request
accepted or a valid one refused.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine import identity
from engine.base.actors import SYSTEM
from engine.loom import Loom
from runtime.web.app import create_app

PASSWORD = "a-long-admin-password"


@pytest.fixture
def app(crm: Loom) -> Flask:
    return create_app(crm, config={"SECRET_KEY": "a-test-secret", "TESTING": True})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def headers(crm: Loom, client: FlaskClient) -> dict[str, str]:
    identity.create_user(crm, "admin.li", "李管理", PASSWORD, roles=["admin"], actor=SYSTEM)
    body = {"username": "admin.li", "password": PASSWORD, "name": "t"}
    token = client.post("/api/v1/auth/token", json=body).get_json()["token"]
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def document(client: FlaskClient, headers: dict[str, str]) -> dict:
    return client.get("/api/v1/openapi.json", headers=headers).get_json()


def test_an_owner_beyond_64_bits_is_refused_not_a_server_error(
    client: FlaskClient, headers: dict[str, str]
) -> None:
    body = {"name": "上海云杉科技有限公司", "owner": -106948721205142028288}
    response = client.post("/api/v1/records/customer", json=body, headers=headers)
    assert response.status_code == 422
    assert "owner" in response.get_json()["error"]["fields"]


def test_a_record_cannot_be_given_to_a_user_who_does_not_exist(
    client: FlaskClient, headers: dict[str, str]
) -> None:
    body = {"name": "上海云杉科技有限公司", "owner": 6274}
    response = client.post("/api/v1/records/customer", json=body, headers=headers)
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]["owner"] == ["there is no active user with id 6274"]


def test_a_version_beyond_64_bits_is_refused(client: FlaskClient, headers: dict[str, str]) -> None:
    created = client.post("/api/v1/records/customer", json={"name": "杭州青禾"}, headers=headers).get_json()
    body = {"city": "杭州", "version": 2**70}
    response = client.patch(f"/api/v1/records/customer/{created['id']}", json=body, headers=headers)
    assert response.status_code == 422
    assert "version" in response.get_json()["error"]["fields"]


def test_a_whole_number_written_as_3_0_is_an_integer(client: FlaskClient, headers: dict[str, str]) -> None:
    created = client.post("/api/v1/records/customer", json={"name": "杭州青禾"}, headers=headers).get_json()
    body = {"city": "杭州", "version": float(created["version"])}
    response = client.patch(f"/api/v1/records/customer/{created['id']}", json=body, headers=headers)
    assert response.status_code == 200
    assert response.get_json()["city"] == "杭州"


def test_a_malformed_record_id_is_refused_even_beside_a_rule(
    client: FlaskClient, headers: dict[str, str]
) -> None:
    response = client.get("/api/v1/rules/runs?rule=customer_vip&record_id=abc", headers=headers)
    assert response.status_code == 400


def test_required_fields_and_their_limits_are_in_the_document(document: dict) -> None:
    create = document["components"]["schemas"]["customer.create"]
    assert "name" in create["required"]
    name = create["properties"]["name"]
    assert name["type"] == "string"
    assert name["minLength"] == 1
    assert name["maxLength"] >= 1
    phone = create["properties"]["phone"]["anyOf"][0]
    assert phone["pattern"].startswith("^")
    assert phone["maxLength"] == 255


def test_a_value_the_document_calls_valid_is_accepted(
    client: FlaskClient, headers: dict[str, str], document: dict
) -> None:
    phone = document["components"]["schemas"]["customer.create"]["properties"]["phone"]["anyOf"][0]
    assert re.fullmatch(phone["pattern"], "(021) 5555-0101")
    assert not re.fullmatch(phone["pattern"], "call me")
    body = {"name": "上海云杉科技有限公司", "phone": "(021) 5555-0101"}
    assert client.post("/api/v1/records/customer", json=body, headers=headers).status_code == 201
    body = {"name": "上海云杉科技有限公司", "phone": "call me"}
    assert client.post("/api/v1/records/customer", json=body, headers=headers).status_code == 422


@pytest.mark.parametrize("record_id", ["0", str(2**63)])
def test_an_id_no_record_can_have_is_not_found_whatever_the_method(
    client: FlaskClient, headers: dict[str, str], record_id: str
) -> None:
    path = f"/api/v1/records/customer/{record_id}"
    assert client.delete(path, headers=headers).status_code == 404
    assert client.patch(path, json={"version": 1}, headers=headers).status_code == 404
    assert client.get(path, headers=headers).status_code == 404
    assert (
        client.post(f"/api/v1/records/lead/{record_id}/convert", json={}, headers=headers).status_code == 404
    )
