"""Issuing and revoking API tokens, and who the caller is."""

from __future__ import annotations

from flask import Response, jsonify, request

from engine import identity
from runtime.web.api.blueprint import blueprint
from runtime.web.api.inputs import json_object, texts
from runtime.web.auth import current_actor, current_loom


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
