"""The OpenAPI document: generated from the live metadata, and true to what the API sends.

The fuzzing test runs schemathesis in-process against the WSGI app with the CRM installed, as
an administrator with a bearer token: no request it makes may get a 5xx, an undocumented status
or a response that breaks the document. Each request generated goes to the same world on SQLite
and on PostgreSQL. It is bounded (a fixed seed, few examples, a handful of objects standing for
every field type) so it runs in about a minute.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import negative_data_rejection, positive_data_acceptance
from schemathesis.core import NOT_SET
from schemathesis.core.failures import Failure, FailureGroup

from engine import identity
from engine.base.actors import SYSTEM
from engine.base.clock import Clock
from engine.base.settings import Settings
from engine.loom import Loom
from runtime.web.app import create_app
from tests.conftest import IN_CI, POSTGRES_URL, fresh_database
from tests.database_templates import DatabaseTemplates, TemplateContent

PASSWORD = "a-long-admin-password"
# Between them these objects hold every field type of the CRM: text, select, multi_select, tags,
# decimals and currency, dates and datetimes, lookups, users, formulas, roll-ups and attachments;
# the lead adds the pool and conversion actions.
# LOOM_SCHEMATHESIS_OBJECTS=all fuzzes every object of the CRM (the long local run).
FUZZED_OBJECTS = ("customer", "followup", "contract", "lead")
FUZZ_EVERY_OBJECT = os.environ.get("LOOM_SCHEMATHESIS_OBJECTS") == "all"
# Every check schemathesis has runs; 200 examples per operation and generation mode locally
# (LOOM_SCHEMATHESIS_EXAMPLES=200), a smaller bound by default so the suite stays quick in CI.
DEFAULT_EXAMPLES = "25"
# The operations are fuzzed in this many tests, each on worlds of its own, so that a part that
# fails can be run again alone.
FUZZ_PARTS = 4
# Replaced by the checks below: the first allows the refusals listed in REFUSALS, the second
# leaves out file uploads.
EXCLUDED_CHECKS = [positive_data_acceptance, negative_data_rejection]
# Requests the document calls valid that the server refuses for a reason no JSON Schema can state,
# as (error code, words of the message, the reason). Every other refusal of a valid request fails.
REFUSALS = (
    ("/records/", "invalid_record", "does not exist", "a lookup names a record that does not exist"),
    ("/records/", "invalid_records", "does not exist", "a row's lookup names a record that does not exist"),
    ("/records/", "invalid_request", "no active user", "the owner given is not an active user"),
    ("/owner", "transfer_refused", "no active user", "the new owner is not an active user"),
    ("/records/", "bad_query", "", "filter, sort and fields are expressions over the object's fields"),
    ("/records/", "bad_query", "not one this server produced", "a cursor is opaque: only one sent is valid"),
    ("/meta/", "invalid_metadata", "", "a metadata document is checked against its kind's schema"),
    (
        "/files/",
        "invalid_file",
        "",
        "an attachment field takes only its listed kinds, sizes and non-empty files",
    ),
    ("/tasks/", "invalid_request", "", "what a task action needs depends on the action in its path"),
    ("/rules/runs", "bad_query", "", "rule runs need rule=, or object= and record_id="),
    ("/reports/", "bad_query", "", "a report's filter is an expression over its object's fields"),
    ("/reports/", "invalid_parameter", "", "a period's dates must be real and in order"),
    ("/dashboards/", "bad_query", "period: ", "a period's dates must be real and in order"),
    ("/records/", "invalid_record", "is already used", "a unique field's value belongs to another record"),
    ("/records/", "invalid_records", "is already used", "a unique field's value belongs to another record"),
    ("/records/", "invalid_records", "is also in an earlier row", "two rows give a unique field one value"),
    ("/records/", "invalid_record", "not uploaded by you", "an attachment value names files uploaded first"),
    ("/records/", "invalid_record", '"phone":["must be', "a phone field's format, named in the document"),
    ("/records/", "invalid_records", '"phone":["must be', "a phone field's format, named in the document"),
    ("/records/", "invalid_records", "not uploaded by you", "an attachment value names files uploaded first"),
)


def _schemas_in(schema: dict) -> list[dict]:
    """A schema and every schema inside its anyOf, depth first."""
    found = [schema]
    for inner in schema.get("anyOf", []):
        found += _schemas_in(inner)
    return found


def _refused_for_a_listed_reason(case: schemathesis.Case, response: schemathesis.Response) -> bool:
    if response.status_code not in (400, 422):
        return False
    error = (response.json() or {}).get("error", {})
    return any(
        where in case.operation.path and error.get("code") == code and words in response.text
        for where, code, words, _ in REFUSALS
    )


def valid_requests_are_accepted(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """schemathesis' positive_data_acceptance, less the refusals in REFUSALS."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except Failure:
        if _refused_for_a_listed_reason(case, response):
            return None
        raise


def invalid_requests_are_refused(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """schemathesis' negative_data_rejection, except for multipart file uploads."""
    if case.media_type == "multipart/form-data":
        # A file part is bytes whatever schemathesis meant to send: its "null" or "-1" is a
        # valid file of 4 or 2 bytes, so an invalid upload cannot be made this way.
        return None
    return negative_data_rejection(ctx, response, case)


def _storable(case: schemathesis.Case) -> bool:
    """False for a request holding text no database can store, which the API refuses with 400."""
    # NUL (PostgreSQL text cannot hold it) and unpaired surrogates (not encodable as UTF-8); the
    # document cannot say this of every string, the API says it in the 400's message.
    sent = json.dumps([case.body if case.body is not NOT_SET else None, case.query, case.path_parameters])
    return "\\u0000" not in sent and not re.search(r"\\ud[89ab][0-9a-f]{2}(?!\\ud[c-f])", sent)


@pytest.fixture
def app(crm: Loom) -> Flask:
    return create_app(crm, config={"SECRET_KEY": "a-test-secret", "TESTING": True})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def admin_headers(crm: Loom, app: Flask) -> dict[str, str]:
    return _signed_in_admin(crm, app)


def _signed_in_admin(crm: Loom, app: Flask) -> dict[str, str]:
    identity.create_user(crm, "admin.li", "李管理", PASSWORD, roles=["admin"], actor=SYSTEM)
    body = {"username": "admin.li", "password": PASSWORD, "name": "fuzzing"}
    token = app.test_client().post("/api/v1/auth/token", json=body).get_json()["token"]
    return {"Authorization": f"Bearer {token}"}


def _fuzzed(path: str) -> bool:
    if "/records/" not in path or FUZZ_EVERY_OBJECT:
        return True
    return path.split("/records/", 1)[1].split("/", 1)[0] in FUZZED_OBJECTS


@dataclass
class World:
    """One database with the CRM, a few records with small ids, and its app signed in as an admin."""

    database: str
    app: Flask
    headers: dict[str, str]


@pytest.fixture
def worlds(tmp_path: Path, database_templates: DatabaseTemplates, clock: Clock) -> Iterator[list[World]]:
    """The same world on SQLite and on PostgreSQL (outside CI, on SQLite alone without a server).

    Generating the requests is most of the fuzzing's time; each request goes to both databases.
    """
    kinds = ["sqlite", "postgresql"] if POSTGRES_URL or IN_CI else ["sqlite"]
    content = TemplateContent(crm=True, now=clock.now(), timezone=str(clock.timezone))
    with ExitStack() as stack:
        made = []
        for kind in kinds:
            folder = tmp_path / kind
            folder.mkdir()
            url = stack.enter_context(fresh_database(kind, content, folder, database_templates))
            settings = Settings.from_env(files_dir=str(folder / "files"))
            crm = Loom(url, clock=clock, settings=settings)
            stack.callback(crm.close)
            crm.init()
            app = create_app(crm, config={"SECRET_KEY": "a-test-secret", "TESTING": True})
            made.append(World(kind, app, _signed_in_admin(crm, app)))
            _seed(crm)
        yield made


def _seed(crm: Loom) -> None:
    """A few records with small ids, so generated ids find something to read, change and delete."""
    records = crm.records(SYSTEM)
    customer = records.create("customer", {"name": "上海云杉科技有限公司", "level": "vip"})
    records.create("followup", {"subject": "电话", "content": "首次沟通", "customer": customer["id"]})
    records.create("contract", {"name": "框架合同", "customer": customer["id"], "amount": "120000.50"})


def _api_schema(world: World) -> schemathesis.BaseSchema:
    config = schemathesis.Config()
    config.update(seed=20261126, max_failures=None)
    project = config.projects.default
    project.update(headers=dict(world.headers))
    project.generation.update(max_examples=4, deterministic=True, database="none", no_shrink=True)
    project.phases.update(phases=["examples", "fuzzing"])
    schema = schemathesis.openapi.from_wsgi(
        "/api/v1/openapi.json", world.app, config=config, headers=dict(world.headers)
    )
    return schema.include(lambda ctx: _fuzzed(ctx.operation.path))


@pytest.mark.parametrize("part", range(FUZZ_PARTS))
def test_no_request_gets_a_server_error_or_an_answer_the_document_does_not_describe(
    worlds: list[World], part: int
) -> None:
    operations = [result.ok() for result in _api_schema(worlds[0]).get_all_operations()]
    assert len(operations) > 30
    examples = int(os.environ.get("LOOM_SCHEMATHESIS_EXAMPLES", DEFAULT_EXAMPLES))
    found: dict[tuple[str, str, str], str] = {}
    for operation in operations[part::FUZZ_PARTS]:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = operation.as_strategy(generation_mode=mode)
            if mode is GenerationMode.POSITIVE:
                strategy = strategy.filter(_storable)

            @given(case=strategy)
            @settings(
                max_examples=examples,
                derandomize=True,
                database=None,
                deadline=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def call(case: schemathesis.Case) -> None:
                for world in worlds:
                    sent = {"headers": world.headers, "app": world.app}
                    response = case.call(**sent)
                    try:
                        case.validate_response(
                            response,
                            headers=world.headers,
                            excluded_checks=EXCLUDED_CHECKS,
                            additional_checks=[valid_requests_are_accepted, invalid_requests_are_refused],
                            transport_kwargs=sent,
                        )
                    except (Failure, FailureGroup) as failed:
                        for failure in getattr(failed, "exceptions", (failed,)):
                            key = (world.database, case.operation.label, failure.title)
                            found.setdefault(
                                key,
                                f"{case.as_curl_command()[:400]}\n    -> {response.status_code} "
                                f"{response.text[:300]}",
                            )

            try:
                call()
            except Unsatisfiable:
                # An operation with no parameters and no body has no invalid request to make.
                assert mode is GenerationMode.NEGATIVE
    report = (
        f"{database}: {label}: {title}\n    {example}" for (database, label, title), example in found.items()
    )
    assert not found, "\n".join(report)


# -- the document follows the metadata ----------------------------------------------------------------


def test_a_field_added_through_the_meta_api_is_in_the_next_document(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    before = client.get("/api/v1/openapi.json", headers=admin_headers).get_json()
    assert "wechat_id" not in before["components"]["schemas"]["customer.read"]["properties"]
    customer = client.get("/api/v1/meta/objects/customer", headers=admin_headers).get_json()["document"]
    customer["fields"].append(
        {
            "name": "wechat_id",
            "type": "text",
            "label": {"zh_CN": "微信号", "en": "WeChat ID"},
            "max_length": 64,
        }
    )
    changed = client.put("/api/v1/meta/objects/customer", json=customer, headers=admin_headers)
    assert changed.status_code == 200
    after = client.get("/api/v1/openapi.json", headers=admin_headers).get_json()
    assert after["components"]["schemas"]["customer.read"]["properties"]["wechat_id"] == {
        "type": ["string", "null"],
        "maxLength": 64,
    }
    assert "wechat_id" in after["components"]["schemas"]["customer.create"]["properties"]


def test_field_types_are_described_as_the_api_sends_them(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    document = client.get("/api/v1/openapi.json", headers=admin_headers).get_json()
    assert document["openapi"] == "3.1.0"
    assert document["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    contract = document["components"]["schemas"]["contract.read"]["properties"]
    assert contract["amount"]["type"] == ["string", "null"]
    assert contract["amount"]["format"] == "decimal"
    assert contract["signed_at"] == {"type": ["string", "null"], "format": "date"}
    assert contract["customer"] == {"type": ["integer", "null"], "minimum": 1, "maximum": 2**63 - 1}
    assert contract["status"]["enum"][-1] is None
    assert "draft" in contract["status"]["enum"]
    error = document["components"]["schemas"]["Error"]
    assert set(error["properties"]["error"]["required"]) == {"code", "message"}
    # A phone field that takes mainland numbers only says so.
    phone = document["components"]["schemas"]["customer.create"]["properties"]["phone"]
    [described] = [schema for schema in _schemas_in(phone) if "format" in schema]
    assert described["format"] == "phone-cn" and "400/800" in described["description"]
    created = client.post(
        "/api/v1/records/customer", json={"name": "杭州青禾贸易有限公司"}, headers=admin_headers
    ).get_json()
    contract_body = {
        "name": "年度框架合同",
        "customer": created["id"],
        "amount": 120000.5,
        "signed_at": "2026-11-20",
    }
    sent = client.post("/api/v1/records/contract", json=contract_body, headers=admin_headers).get_json()
    assert sent["amount"] == "120000.50"
    assert sent["signed_at"] == "2026-11-20"
    assert sent["_titles"] == {"customer": "杭州青禾贸易有限公司"}


def test_hidden_fields_are_not_in_the_document_of_a_role_that_cannot_see_them(
    crm: Loom, client: FlaskClient
) -> None:
    from engine.identity.permissions import access_for

    registry = crm.registry
    hidden = next(
        (role, name, sorted(access_for(registry, identity_actor(role), name).hidden))
        for role in registry.roles
        for name in registry.objects
        if access_for(registry, identity_actor(role), name).hidden
    )
    role, object_name, fields = hidden
    identity.create_user(crm, "someone", "某人", PASSWORD, roles=[role], actor=SYSTEM)
    body = {"username": "someone", "password": PASSWORD, "name": "t"}
    token = client.post("/api/v1/auth/token", json=body).get_json()["token"]
    document = client.get("/api/v1/openapi.json", headers={"Authorization": f"Bearer {token}"}).get_json()
    properties = document["components"]["schemas"][f"{object_name}.read"]["properties"]
    assert not set(fields) & set(properties)


def identity_actor(role: str):  # type: ignore[no-untyped-def]
    from engine.base.actors import Actor

    return Actor.user(999_999, "probe", {role})


def test_the_document_needs_a_token(client: FlaskClient) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthenticated"
