"""How field errors show the value they refused: short, quoted when text, never the whole of a long value."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from engine.base.messages import Message

_MAX_SHOWN = 40


def shown(value: Any) -> str:
    """Render a refused value for an error message: 'text' quoted, numbers bare, long text cut."""
    if isinstance(value, str):
        if len(value) > _MAX_SHOWN:
            value = value[: _MAX_SHOWN - 1] + "…"
        return repr(value)
    if isinstance(value, bool) or value is None:
        return "true" if value is True else "false" if value is False else "null"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple | dict):
        return type(value).__name__
    text = str(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…"


def not_one_of(options: Sequence[Any], got: Any, limit: int = 10) -> Message:
    """ "must be one of …", the list cut after `limit` so a 300-option select stays readable.

    Each option is a value or a label ({"en": …, "zh_CN": …}).
    """
    if len(options) <= limit:
        return Message("not_one_of", options=list(options), got=shown(got))
    return Message(
        "not_one_of_more", options=list(options[:limit]), more=len(options) - limit, got=shown(got)
    )
