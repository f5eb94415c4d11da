"""While the database cannot be reached (restarting, down, unreachable) the web answers 503 with
Retry-After — try again shortly — rather than 500, which would say Loom is broken."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from engine.database import database_unavailable, open_database
from engine.loom import Loom
from runtime.app import create_app
from tests.conftest import nothing_listening


@pytest.fixture
def client(tmp_path: Path) -> Iterator[FlaskClient]:
    loom = Loom(f"sqlite:///{tmp_path / 'loom.db'}")
    app = create_app(loom, config={"SECRET_KEY": "a-test-secret", "TESTING": True})
    # The server the app was started on goes away: every connection it opens from now on is refused.
    loom.db.dispose()
    loom.db = open_database(nothing_listening())
    yield app.test_client()
    loom.close()


def failure(run: str, url: str) -> DBAPIError:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text(run))
    except DBAPIError as error:
        return error
    finally:
        engine.dispose()
    raise AssertionError(f"{run!r} did not fail")


def test_an_api_call_gets_503_with_retry_after_and_a_code_to_act_on(client: FlaskClient) -> None:
    response = client.get("/api/v1/records/customer", headers={"Authorization": "Bearer loom_x"})
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    error = response.get_json()["error"]
    assert error["code"] == "database_unavailable"
    assert "try again" in error["message"]


def test_a_page_says_so_in_the_readers_language(client: FlaskClient) -> None:
    response = client.get("/public/forms/web_lead?lang=zh_CN")
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    assert "暂时无法连接数据库" in response.get_data(as_text=True)


def test_only_a_database_that_cannot_be_reached_counts_as_unavailable(tmp_path: Path) -> None:
    assert database_unavailable(failure("SELECT 1", nothing_listening().replace("://", "+psycopg://")))
    sqlite = f"sqlite:///{tmp_path / 'x.db'}"
    assert not database_unavailable(failure("SELECT * FROM no_such_table", sqlite))
    assert not database_unavailable(failure("SELEKT 1", sqlite))
