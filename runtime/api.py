"""The REST API under /api/v1: issuing and revoking API tokens, and who the caller is.

Integrations authenticate with `Authorization: Bearer loom_…`; see runtime/auth.py.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import BadRequest

from engine import identity
from runtime.auth import current_actor, current_loom
from runtime.errors import RequestInvalid

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")


@blueprint.post("/auth/token")
def issue_token() -> Response:
    """Exchange a username and password for a new API token, shown in this response only."""
    body = _json_object()
    username, password, name = _texts(body, "username", "password", "name")
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


def _json_object() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object sent as application/json")
    return body


def _texts(body: dict[str, Any], *names: str) -> list[str]:
    missing = {name: ["required, as a non-empty string"] for name in names if not _is_text(body.get(name))}
    if missing:
        raise RequestInvalid(f"missing or not a string: {', '.join(missing)}", missing)
    return [body[name] for name in names]


def _is_text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())
