"""The app's JSON: Chinese as it is, and any engine value (moment, date, decimal) in the API's forms
rather than Flask's defaults (an RFC 822 date, a decimal in exponent form)."""

from __future__ import annotations

from typing import Any

from flask.json.provider import DefaultJSONProvider

from runtime.web.api.record_json import plain_json


class LoomJSONProvider(DefaultJSONProvider):
    ensure_ascii = False

    @staticmethod
    def default(o: Any) -> Any:  # type: ignore[override]
        """A value the encoder does not know, as `plain_json` writes it; TypeError if it has no JSON form."""
        shown = plain_json(o)
        if shown is o:
            raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")
        return shown
