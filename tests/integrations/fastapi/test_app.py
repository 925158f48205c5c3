"""FastAPI: error handlers, the route decorator and the per-request get_db, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI, HTTPException
from fastapi.testclient import TestClient

from moltres import Database, col, column, connect
from moltres.integrations.fastapi import get_db, handle_moltres_errors, register_exception_handlers
from moltres.utils.exceptions import DatabaseConnectionError, QueryTimeoutError

pytestmark = pytest.mark.parametrize(
    "backend",
    [
        pytest.param("sqlite", marks=pytest.mark.sqlite, id="sqlite"),
        pytest.param("postgresql", marks=pytest.mark.postgresql, id="postgresql"),
    ],
    indirect=True,
)

DB = Annotated[Database, Depends(get_db)]


def build_app(database: Database, *, debug: bool = False) -> FastAPI:
    app = FastAPI(debug=debug)
    app.state.moltres_db = database
    register_exception_handlers(app)

    @app.get("/users")
    def users(db: DB) -> list[dict[str, Any]]:
        return db.table("users").select("id", "name").order_by("id").collect()

    @app.get("/users/{user_id}")
    def user(user_id: int, db: DB) -> dict[str, Any]:
        found = db.table("users").where(col("id") == user_id).first()
        if found is None:
            raise HTTPException(status_code=404, detail="no such user")
        return found

    @app.post("/users", status_code=201)
    def add_user(body: dict[str, Any], db: DB) -> dict[str, Any]:
        db.insert("users", [body])
        return body

    @app.post("/users/then-fail")
    def add_then_fail(body: dict[str, Any], db: DB) -> None:
        db.insert("users", [body])
        raise RuntimeError("after the write")

    @app.post("/users/then-http-error")
    def add_then_refuse(body: dict[str, Any], db: DB) -> None:
        db.insert("users", [body])
        raise HTTPException(status_code=422, detail="refused")

    @app.post("/orders", status_code=201)
    def add_order(body: dict[str, Any], db: DB) -> dict[str, Any]:
        # The foreign key is checked at COMMIT: the failure arrives after the route returned.
        db.insert("orders", [body])
        return body

    @app.get("/missing")
    def missing(db: DB) -> list[dict[str, Any]]:
        return db.table("no_such_table").collect()

    @app.get("/bad-column")
    def bad_column(db: DB) -> list[dict[str, Any]]:
        return db.table("users").select("nmae").collect()

    @app.get("/timeout")
    def timeout() -> None:
        raise QueryTimeoutError("cancelled after 1s", sql="SELECT secret FROM vault", suggestion="add an index")

    @app.get("/unavailable")
    async def unavailable() -> None:
        raise DatabaseConnectionError("server closed the connection")

    return app


@pytest.fixture
def database(dsn: str, backend) -> Iterator[Database]:
    db = connect(dsn)
    db.create_table("users", [column("id", "INTEGER", primary_key=True), column("name", "TEXT")]).collect()
    db.insert("users", [{"id": 1, "name": "Ada"}, {"id": 2, "name": "Grace"}])
    references = "REFERENCES users (id) DEFERRABLE INITIALLY DEFERRED"
    db.execute(f"CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL {references})")
    yield db
    db.close()


@pytest.fixture
def client(database: Database) -> Iterator[TestClient]:
    with TestClient(build_app(database), raise_server_exceptions=False) as test_client:
        yield test_client


def names(database: Database) -> list[str]:
    return [r["name"] for r in database.table("users").select("name").order_by("id").collect()]


def test_reads_and_writes(client, database):
    assert client.get("/users").json() == [{"id": 1, "name": "Ada"}, {"id": 2, "name": "Grace"}]
    assert client.post("/users", json={"id": 3, "name": "Linus"}).status_code == 201
    assert names(database) == ["Ada", "Grace", "Linus"]
    assert client.get("/users/3").json() == {"id": 3, "name": "Linus"}
    assert client.get("/users/9").status_code == 404


def test_a_route_that_raises_after_writing_leaves_nothing(client, database):
    assert client.post("/users/then-fail", json={"id": 3, "name": "Ghost"}).status_code == 500
    assert client.post("/users/then-http-error", json={"id": 4, "name": "Ghost"}).status_code == 422
    assert names(database) == ["Ada", "Grace"]


def test_a_commit_that_fails_is_never_reported_as_success(client, database):
    response = client.post("/orders", json={"id": 1, "user_id": 99})
    assert response.status_code == 409
    assert response.json()["error"] == "conflict"
    assert database.table("orders").count() == 0
    assert client.post("/orders", json={"id": 1, "user_id": 1}).status_code == 201
    assert database.table("orders").count() == 1


def test_database_errors_map_to_statuses(client):
    missing = client.get("/missing")
    assert (missing.status_code, missing.json()["error"]) == (404, "table_not_found")
    bad = client.get("/bad-column")
    assert (bad.status_code, bad.json()["error"]) == (400, "column_not_found")
    assert "nmae" in bad.json()["message"]
    duplicate = client.post("/users", json={"id": 1, "name": "Again"})
    assert (duplicate.status_code, duplicate.json()["error"]) == (409, "conflict")


def test_production_bodies_hide_sql_and_suggestions(client):
    response = client.get("/timeout")
    assert response.status_code == 504
    assert response.json() == {
        "error": "query_timeout",
        "status": 504,
        "message": "The query took too long and was cancelled.",
    }
    unavailable = client.get("/unavailable")
    assert (unavailable.status_code, unavailable.headers["Retry-After"]) == (503, "1")


def test_debug_apps_show_details(database):
    with TestClient(build_app(database, debug=True), raise_server_exceptions=False) as debug_client:
        body = debug_client.get("/timeout").json()
    assert body["suggestion"] == "add an index"
    assert body["sql"] == "SELECT secret FROM vault"


def test_errors_are_logged(client, caplog):
    with caplog.at_level(logging.WARNING, logger="moltres.integrations.fastapi"):
        client.get("/bad-column")
        client.get("/timeout")
    levels = [(r.levelname, r.getMessage().split(" failed")[0]) for r in caplog.records]
    assert levels == [("WARNING", "GET /bad-column"), ("ERROR", "GET /timeout")]


def test_concurrent_requests_each_get_their_own_transaction(database):
    app = build_app(database)

    async def scenario() -> list[int]:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as ac:
            # A running app has reflected its tables; a cold start on SQLite can see a
            # deadlock (503 database_busy) between requests reflecting and writing at once.
            assert (await ac.get("/users")).status_code == 200
            writes = [ac.post("/users", json={"id": 100 + i, "name": f"user{i}"}) for i in range(20)]
            failures = [ac.post("/users/then-fail", json={"id": 200 + i, "name": "ghost"}) for i in range(5)]
            reads = [ac.get("/users") for _ in range(10)]
            responses = await asyncio.gather(*writes, *failures, *reads)
            return [r.status_code for r in responses]

    statuses = asyncio.run(scenario())
    assert statuses == [201] * 20 + [500] * 5 + [200] * 10
    assert database.table("users").count() == 22
    assert database.table("users").where(col("name") == "ghost").count() == 0


def test_route_decorator_without_registered_handlers(database):
    app = FastAPI()
    app.state.moltres_db = database

    @app.get("/sync/{name}")
    @handle_moltres_errors
    def sync_route(name: str, db: DB) -> list[dict[str, Any]]:
        return db.table(name).collect()

    @app.get("/async")
    @handle_moltres_errors(debug=True)
    async def async_route() -> None:
        raise QueryTimeoutError("slow", sql="SELECT 1", suggestion="wait less")

    with TestClient(app) as plain:
        assert plain.get("/sync/users").status_code == 200
        missing = plain.get("/sync/nope")
        assert missing.status_code == 404
        assert missing.json()["detail"]["error"] == "table_not_found"
        slow = plain.get("/async")
        assert slow.status_code == 504
        assert slow.json()["detail"]["suggestion"] == "wait less"


def test_get_db_without_a_configured_database_explains(backend):
    app = FastAPI()
    register_exception_handlers(app, debug=True)

    @app.get("/")
    def index(db: DB) -> None:
        return None

    with TestClient(app) as plain:
        response = plain.get("/")
    assert response.status_code == 400
    assert "app.state.moltres_db holds nothing" in response.json()["message"]
    assert "connect(url)" in response.json()["suggestion"]
