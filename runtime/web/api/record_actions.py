"""The record page's actions over the API: convert a lead (线索转客户), claim from and return to the
pool (公海), and transfer the owner (转移负责人). The engine decides who may do each."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from engine.records import conversion, ownership
from engine.records.conversion import TargetPlan
from engine.rules import pool
from runtime.web.api.blueprint import blueprint
from runtime.web.api.inputs import MAX_ID, json_object, optional_text, required_id
from runtime.web.api.record_json import add_titles, record_json
from runtime.web.api.records import RECORD
from runtime.web.auth import current_actor, current_loom
from runtime.web.errors import RequestInvalid

MAX_REASON = 500


@blueprint.get(f"{RECORD}/convert")
def conversion_plan(name: str, record_id: int) -> Response:
    """What converting the record would make, with the likely duplicates that may be linked instead."""
    loom, actor = current_loom(), current_actor()
    plans = conversion.plan(loom, actor, name, record_id)
    return jsonify({"targets": [plan_json(plan) for plan in plans]})


@blueprint.post(f"{RECORD}/convert")
def convert_record(name: str, record_id: int) -> tuple[Response, int]:
    """Convert the record in one transaction: `values`, `existing` and `include` per target object."""
    loom, actor = current_loom(), current_actor()
    body = json_object() if request.get_data() else {}
    values, existing, include = _conversion_request(body)
    done = conversion.convert(loom, actor, name, record_id, values=values, existing=existing, include=include)
    registry = loom.registry
    return jsonify(
        {
            "source": record_json(registry.object(name), done.source),
            "records": {obj: record_json(registry.object(obj), rec) for obj, rec in done.records.items()},
            "linked": sorted(done.linked),
        }
    ), 201


@blueprint.post(f"{RECORD}/claim")
def claim_record(name: str, record_id: int) -> Response:
    """Take the record out of the pool for the caller, within the pool's cap and cooldown."""
    loom, actor = current_loom(), current_actor()
    [record] = pool.claim(loom, actor, name, [record_id])
    return _answer(name, record)


@blueprint.post(f"{RECORD}/return")
def return_record(name: str, record_id: int) -> Response:
    """Give the record back to the pool, with the reason why."""
    loom, actor = current_loom(), current_actor()
    body = json_object() if request.get_data() else {}
    reason = optional_text(body, "reason")
    if reason is not None and len(reason) > MAX_REASON:
        raise RequestInvalid(
            f"reason must be at most {MAX_REASON} characters",
            {"reason": [f"at most {MAX_REASON} characters"]},
        )
    [record] = pool.release(loom, actor, name, [record_id], reason)
    return _answer(name, record)


@blueprint.post(f"{RECORD}/owner")
def transfer_record(name: str, record_id: int) -> Response:
    """Give the record to another user (`owner`, a user id); `version` refuses a stale change."""
    loom, actor = current_loom(), current_actor()
    body = json_object()
    new_owner = required_id(body, "owner")
    version = body.get("version")
    if version is not None and (type(version) is not int or not 0 < version <= MAX_ID):
        raise RequestInvalid("version must be a positive whole number", {"version": ["a positive integer"]})
    record = ownership.transfer_owner(loom, actor, name, record_id, new_owner, version=version)
    return _answer(name, record)


def _answer(name: str, record: dict[str, Any]) -> Response:
    loom = current_loom()
    row = record_json(loom.registry.object(name), record)
    add_titles(loom.queries(current_actor()), loom.registry.object(name), [row])
    return jsonify(row)


def plan_json(plan: TargetPlan) -> dict[str, Any]:
    target = plan.target
    return {
        "object": target.object,
        "link": target.link,
        "optional": target.optional,
        "link_existing": target.link_existing,
        "values": {name: _plain(value) for name, value in plan.values.items()},
        "duplicates": [{"id": d.id, "title": d.title, "rule": d.rule} for d in plan.duplicates],
        "hidden_duplicates": plan.hidden_duplicates,
    }


def _plain(value: Any) -> Any:
    return value if value is None or isinstance(value, (str, int, float, bool, list)) else str(value)


def _conversion_request(body: dict[str, Any]) -> tuple[dict[str, dict], dict[str, int], list[str]]:
    values = body.get("values", {})
    if not isinstance(values, dict) or not all(isinstance(v, dict) for v in values.values()):
        raise RequestInvalid(
            "values maps a target object to the field values to use",
            {"values": ["must map object names to objects of field values"]},
        )
    existing = body.get("existing", {})
    if not isinstance(existing, dict) or not all(
        type(v) is int and 0 < v <= MAX_ID for v in existing.values()
    ):
        raise RequestInvalid(
            "existing maps a target object to the id of the record to link",
            {"existing": ["must map object names to positive record ids"]},
        )
    include = body.get("include", [])
    if not isinstance(include, list) or not all(isinstance(v, str) for v in include):
        raise RequestInvalid(
            "include lists the optional target objects to make",
            {"include": ["must be a list of object names"]},
        )
    return values, existing, include
