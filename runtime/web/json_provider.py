"""The app's JSON: Chinese as it is, and any engine value (moment, date, decimal) in the API's forms
rather than Flask's defaults (an RFC 822 date, a decimal in exponent form).

Responses are encoded with orjson: a page of 50 records took 0.4 ms of CPU in the json module, a
seventh of the whole request (docs/performance.md). What orjson refuses (an integer beyond 64 bits,
a nesting deeper than 254) is encoded by the json module as before, so no value that encoded then
fails now.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response
from flask.json.provider import DefaultJSONProvider

from runtime.web.api.record_json import plain_json

# Moments and dates go through `default` (the API writes moments with a Z, without microseconds);
# dataclasses too, as Flask writes them (a dict, keys sorted like every other).
_OPTIONS = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_NON_STR_KEYS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_APPEND_NEWLINE
)


class LoomJSONProvider(DefaultJSONProvider):
    ensure_ascii = False

    @staticmethod
    def default(o: Any) -> Any:  # type: ignore[override]
        """A value the encoder does not know, as `plain_json` writes it, else as Flask does; TypeError
        if it has no JSON form."""
        shown = plain_json(o)
        return DefaultJSONProvider.default(o) if shown is o else shown

    def response(self, *args: Any, **kwargs: Any) -> Response:
        """`jsonify`: the body encoded by orjson, indented where Flask would indent it."""
        obj = self._prepare_response_obj(args, kwargs)
        indented = self.compact is False or (self.compact is None and self._app.debug)
        options = _OPTIONS | orjson.OPT_INDENT_2 if indented else _OPTIONS
        try:
            body = orjson.dumps(obj, default=self.default, option=options)
        except orjson.JSONEncodeError:
            return super().response(obj)
        return self._app.response_class(body, mimetype=self.mimetype)
