"""The load driver of `make bench` against a real deployment: two web processes and a worker."""

from __future__ import annotations

from pathlib import Path

from bench import load
from bench.setup import postgres_schema
from tests.conftest import postgres_or_skip

# A small company and one gunicorn worker per web process: the test checks the driver, not speed.
SMALL = {"demo_customers": 15, "extra_customers": 200, "web_workers": 1, "baseline": False}


def test_a_short_mixed_load_on_a_deployment_gets_every_kind_answered_without_error(tmp_path: Path) -> None:
    server = postgres_or_skip()
    with postgres_schema(server) as url, load.deployment(url, **SMALL, log_dir=tmp_path) as (target, _):
        outcome = load.drive(target, load.CONNECTIONS, duration=3.0)
        logged = load.logged_errors(target)
    assert outcome.samples == []
    assert outcome.errors == 0
    assert logged == []  # neither web process nor the worker logged an error
    assert outcome.conflicts == 0  # each connection changes only the customers it created
    assert {kind for kind, figures in outcome.kinds.items() if figures.count == 0} == set()
    # Every approval the reps submitted was found in the manager's inbox and approved.
    assert outcome.kinds["submit"].count == outcome.kinds["approve"].count
