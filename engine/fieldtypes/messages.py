"""How field errors show the value they refused: short, quoted when text, never the whole of a long value."""

from __future__ import annotations

from typing import Any

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


def one_of(values: list[str], limit: int = 10) -> str:
    """List allowed values for "must be one of …", cut after `limit` so a 300-option select stays readable."""
    if len(values) <= limit:
        return ", ".join(values)
    return ", ".join(values[:limit]) + f", … ({len(values) - limit} more)"
