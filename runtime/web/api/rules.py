"""Rules over the API: the run log (administrators), and inbound rules called by outside systems.

`POST /api/v1/hooks/<rule>` takes no API token: the caller proves it holds the rule's key
(engine/rules/inbound.py), either as `?key=…` or by signing the body (`X-Loom-Signature`).
"""

from __future__ import annotations

from flask import Response, jsonify, request

from engine.base.errors import LoomError
from engine.identity import AuthenticationFailed
from engine.rules.inbound import inbound_call_allowed
from engine.rules.runlog import runs_for_record, runs_for_rule
from runtime.web.api.blueprint import blueprint
from runtime.web.api.inputs import MAX_ID, BadQuery, int_arg, takes_query
from runtime.web.api.meta import require_admin
from runtime.web.api.record_json import plain_json
from runtime.web.auth import current_actor, current_loom

RUN_KEYS = (
    "id", "at", "rule", "object", "record_id", "trigger", "status", "condition", "condition_value",
    "inputs", "actions", "error", "actor_name", "depth",
)  # fmt: skip
BAD_KEY = "this call does not carry the rule's key: send ?key=… or sign the body in X-Loom-Signature"


class NoSuchInboundRule(LoomError):
    code = "not_found"


@blueprint.get("/rules/runs")
@takes_query("rule", "object", "record_id", "limit")
def rule_runs() -> Response:
    """The newest runs of one rule (`rule=`) or on one record (`object=` and `record_id=`)."""
    loom = current_loom()
    require_admin(loom, current_actor())
    rule, object_name = request.args.get("rule"), request.args.get("object")
    limit = int_arg("limit", 100, 1, 500)
    # Read even when rule= decides, so a malformed record_id is refused rather than ignored.
    record_id = int_arg("record_id", 0, 1, MAX_ID)
    with loom.read() as conn:
        if rule:
            rows = runs_for_rule(conn, rule, limit)
        elif object_name:
            if not record_id:
                raise BadQuery("give record_id with object")
            rows = runs_for_record(conn, object_name, record_id, limit)
        else:
            raise BadQuery("say whose runs: rule=<name>, or object=<name> and record_id=<id>")
    return jsonify({"data": [plain_json({key: row[key] for key in RUN_KEYS}) for row in rows]})


@blueprint.post("/hooks/<rule_name>")
@takes_query("key")
def inbound_hook(rule_name: str) -> Response:
    """Run an inbound rule with the request's JSON body as its `payload`."""
    loom = current_loom()
    allowed = inbound_call_allowed(
        loom.settings,
        rule_name,
        key=request.args.get("key") or request.headers.get("X-Loom-Key"),
        body=request.get_data(),
        signature=request.headers.get("X-Loom-Signature"),
    )
    if not allowed:
        raise AuthenticationFailed(BAD_KEY)
    rule = loom.registry.rules.get(rule_name)
    if rule is None or rule.trigger.type != "inbound" or not rule.active:
        raise NoSuchInboundRule(f"there is no active inbound rule named {rule_name!r}")
    payload = request.get_json(silent=True)
    if payload is None and request.get_data():
        raise BadQuery("the body must be JSON")
    entry = loom.rules.fire_inbound(rule_name, payload if payload is not None else {})
    return jsonify({"rule": entry.rule, "status": entry.status, "error": entry.error})
