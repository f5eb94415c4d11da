"""Reading API requests: JSON bodies, query parameters and ids, refused with a clear 4xx when malformed.

Nothing a client sends may reach the database in a form it cannot store: text with a NUL
character or a lone surrogate (which PostgreSQL refuses outright) is turned away up front.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from flask import current_app, request
from werkzeug.exceptions import BadRequest, NotFound
from werkzeug.routing import BaseConverter

from engine import identity
from engine.base.errors import LoomError
from engine.loom import Loom
from runtime.web.errors import RequestInvalid

MAX_ID = 2**63 - 1


class BadQuery(LoomError):
    """A query parameter (filter, sort, fields, limit, cursor) cannot be used as given."""

    code = "bad_query"


View = TypeVar("View", bound=Callable[..., Any])


def takes_query(*names: str) -> Callable[[View], View]:
    """The query parameters a view reads. Any other is refused: a mistyped `filtr=` must not quietly
    list every record, and the OpenAPI document names exactly these."""

    def mark(view: View) -> View:
        view.loom_query_parameters = frozenset(names)  # type: ignore[attr-defined]
        return view

    return mark


def refuse_unknown_query() -> None:
    """Before every API request: refuse query parameters the view does not take, naming them."""
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or getattr(view, "loom_any_query", False):
        return  # no route matched (the 404 says so), or the view names unknown parameters itself
    known: frozenset[str] = getattr(view, "loom_query_parameters", frozenset())
    unknown = sorted(set(request.args) - known)
    if unknown:
        takes = f"it takes {', '.join(sorted(known))}" if known else "it takes none"
        raise BadQuery(f"unknown query parameter {', '.join(unknown)}: {takes}")


class IdConverter(BaseConverter):
    """`<id:record_id>`: a positive 64-bit id; anything else is a 404 rather than a database error."""

    regex = r"[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 0 < number <= MAX_ID:
            # No record has this id. Not matching the route would let a sibling route answer
            # 405 for the method; the id is what is wrong, so it is a 404 whatever the method.
            raise NotFound("no record has this id")
        return number

    def to_url(self, value: Any) -> str:
        return str(int(value))


def json_object() -> dict[str, Any]:
    """The request's JSON object body, with whole numbers written as 3.0 read as integers."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object sent as application/json")
    return _whole_numbers(body)


def _whole_numbers(value: Any) -> Any:
    # JSON has one number type and JSON Schema calls 3.0 an integer, so an id or a count sent
    # as 3.0 means 3.
    if type(value) is float:
        return int(value) if value.is_integer() else value
    if isinstance(value, dict):
        return {key: _whole_numbers(member) for key, member in value.items()}
    if isinstance(value, list):
        return [_whole_numbers(member) for member in value]
    return value


def texts(body: Mapping[str, Any], *names: str) -> list[str]:
    """Required non-empty string members of a body, all reported at once when missing."""
    missing = {name: ["required, as a non-empty string"] for name in names if not is_text(body.get(name))}
    if missing:
        raise RequestInvalid(f"missing or not a string: {', '.join(missing)}", missing)
    return [body[name] for name in names]


def optional_text(body: Mapping[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise RequestInvalid(f"{name} must be a string", {name: ["must be a string"]})
    return value


def required_id(body: Mapping[str, Any], name: str) -> int:
    value = body.get(name)
    if type(value) is not int or not 0 < value <= MAX_ID:
        raise RequestInvalid(f"{name} must be a positive id", {name: ["required, as a positive integer id"]})
    return value


def record_values(loom: Loom, body: dict[str, Any], object_name: str) -> dict[str, Any]:
    """A record's values from a request body, refusing an `owner` who is not an active user and
    anything but a string for a text field, as the OpenAPI document says (the engine itself takes a
    number for text from a spreadsheet or a rule; an API client sending one has made a mistake)."""
    model = loom.registry.object(object_name)
    not_text = {
        name: [f"must be text (got {value!r})"]
        for name, value in body.items()
        if name in model.fields
        and value is not None
        and not isinstance(value, str)
        and loom.field_types.get(model.fields[name].type).value_kind == "text"
        and model.fields[name].type not in ("select", "multi_select")
    }
    if not_text:
        raise RequestInvalid(f"not text: {', '.join(not_text)}", not_text)
    # null leaves a record without an owner, as a lead in the pool is.
    if body.get("owner") is not None:
        owner = required_id(body, "owner")
        if not identity.is_active_user(loom, owner):
            message = f"there is no active user with id {owner}"
            raise RequestInvalid(message, {"owner": [message]})
    return body


def is_text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadQuery(f"{name} must be a whole number from {low} to {high} (got {raw!r})") from None
    if not low <= value <= high:
        raise BadQuery(f"{name} must be a whole number from {low} to {high} (got {value})")
    return value


def refuse_unstorable_text() -> None:
    """Refuse a request whose path, query or JSON body holds text no database can store."""
    where = _unstorable(request.path, "path")
    for name, value in request.args.items(multi=True):
        where = where or _unstorable(name, "query") or _unstorable(value, f"query parameter {name}")
    if where is None and request.is_json:
        where = _unstorable(request.get_json(silent=True), "body")
    if where is not None:
        raise BadRequest(
            f"the {where} holds a NUL character or an unpaired surrogate, which cannot be stored"
        )


def _unstorable(value: Any, where: str) -> str | None:
    if isinstance(value, str):
        return where if "\x00" in value or not _encodable(value) else None
    if isinstance(value, Mapping):
        for key, item in value.items():
            found = _unstorable(key, where) or _unstorable(item, f"{where} member {key}")
            if found:
                return found
    elif isinstance(value, list):
        for item in value:
            found = _unstorable(item, where)
            if found:
                return found
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
