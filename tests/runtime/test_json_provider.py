"""Whatever a response carries, moments, dates and decimals are written in the API's documented forms
(2026-11-26T09:00:00Z, 2026-11-26, "120000.50"), never Flask's defaults, and Chinese as it is."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import pytest

from engine.loom import Loom
from runtime.web.app import create_app


def test_engine_values_anywhere_in_a_response_take_the_documented_forms(crm: Loom) -> None:
    app = create_app(crm, config={"SECRET_KEY": "a-test-secret", "TESTING": True})
    body = {
        "客户": "杭州云栖科技",
        "at": datetime(2026, 11, 26, 9, 0, 0, 123456),
        "on": date(2026, 11, 26),
        "amount": Decimal("1.2E+5"),
        "nested": [{"paid": Decimal("0.50")}, {"seen": {datetime(2026, 1, 2)}}],
    }
    with app.app_context():
        sent = app.json.dumps(body)
        assert "杭州云栖科技" in sent  # not \u escapes
        assert json.loads(sent) == {
            "客户": "杭州云栖科技",
            "at": "2026-11-26T09:00:00Z",  # Flask alone: "Thu, 26 Nov 2026 09:00:00 GMT"
            "on": "2026-11-26",
            "amount": "120000",  # Flask alone: "1.2E+5"
            "nested": [{"paid": "0.50"}, {"seen": ["2026-01-02T00:00:00Z"]}],
        }
        with pytest.raises(TypeError, match="not JSON serializable"):
            app.json.dumps({"unknown": object()})


def test_responses_encode_the_same_values_the_same_way_whatever_encodes_them(crm: Loom) -> None:
    app = create_app(crm, config={"SECRET_KEY": "a-test-secret", "TESTING": True})
    usual = {
        "客户": "杭州云栖科技",
        "at": datetime(2026, 11, 26, 9, 0, 0, 5),
        "amount": Decimal("0.50"),
        "n": 3,
    }
    # An integer beyond 64 bits is more than the fast encoder takes; the response still carries it.
    huge = {**usual, "n": 2**70}
    with app.app_context():
        for body in (usual, huge):
            response = app.json.response(body)
            assert response.mimetype == "application/json"
            assert response.get_data(as_text=True).endswith("\n")
            assert json.loads(response.get_data()) == json.loads(app.json.dumps(body))
        assert json.loads(app.json.response(huge).get_data())["n"] == 2**70
        with pytest.raises(TypeError, match="not JSON serializable"):
            app.json.response({"unknown": object()})
