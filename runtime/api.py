"""The REST API under /api/v1 (JSON only): issuing and revoking API tokens, and who the caller is.

Integrations authenticate with `Authorization: Bearer loom_…`; see runtime/auth.py. The other
parts of the API (records, metadata, approvals, notifications, rules, the OpenAPI document) live
in the runtime/api_*.py modules and register their routes on this blueprint.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request
from flask.blueprints import BlueprintSetupState

from engine import identity
from runtime.api_requests import IdConverter, json_object, refuse_unstorable_text, texts
from runtime.auth import current_actor, current_loom

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")


@blueprint.record_once
def _add_id_converter(state: BlueprintSetupState) -> None:
    # Before any route of the blueprint is added, so `<id:…>` is known when they are.
    state.app.url_map.converters.setdefault("id", IdConverter)


blueprint.before_request(refuse_unstorable_text)


@blueprint.post("/auth/token")
def issue_token() -> Response:
    """Exchange a username and password for a new API token, shown in this response only."""
    body = json_object()
    username, password, name = texts(body, "username", "password", "name")
    loom = current_loom()
    actor = identity.authenticate(loom, username, password, request.remote_addr)
    token, row = identity.create_token(loom, actor.user_id, name, actor=actor)
    response = jsonify({"token": token, "id": row["id"], "name": row["name"]})
    response.status_code = 201
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/me")
def me() -> Response:
    actor = current_actor()
    loom = current_loom()
    user = identity.get_user(loom, actor.user_id)
    department = None
    if actor.department_id is not None:
        found = identity.get_department(loom, actor.department_id)
        department = {"id": found["id"], "name": found["name"]}
    return jsonify(
        {
            "id": actor.user_id,
            "username": user["username"],
            "name": actor.name,
            "roles": sorted(actor.roles),
            "department": department,
            "locale": actor.locale,
        }
    )


@blueprint.delete("/auth/token/<int:token_id>")
def revoke_token(token_id: int) -> tuple[str, int]:
    """Revoke one of the caller's own tokens; it is refused from the next request on."""
    actor = current_actor()
    loom = current_loom()
    if token_id not in {row["id"] for row in identity.list_tokens(loom, actor.user_id)}:
        # Someone else's token is as absent as one that never existed.
        raise identity.TokenNotFound(token_id)
    identity.revoke_token(loom, token_id, actor=actor)
    return "", 204


# Each part of the API adds its routes to `blueprint` when imported; imported last, as they import it.
from runtime import (  # noqa: E402
    api_approvals,
    api_files,
    api_meta,
    api_notifications,
    api_record_actions,
    api_records,
    api_rules,
    openapi,
)

__all__ = [
    "api_approvals",
    "api_files",
    "api_meta",
    "api_notifications",
    "api_record_actions",
    "api_records",
    "api_rules",
    "blueprint",
    "openapi",
]
