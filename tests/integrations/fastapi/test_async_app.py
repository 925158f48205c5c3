"""get_async_db: an AsyncDatabase per request, committed before the response, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI

from moltres import AsyncDatabase, async_connect, col, column
from moltres.integrations.fastapi import get_async_db, get_db, register_exception_handlers

pytestmark = pytest.mark.parametrize(
    "backend",
    [
        pytest.param("sqlite", marks=pytest.mark.sqlite, id="sqlite"),
        pytest.param("postgresql", marks=pytest.mark.postgresql, id="postgresql"),
    ],
    indirect=True,
)

ADB = Annotated[AsyncDatabase, Depends(get_async_db)]


def async_dsn(dsn: str) -> str:
    scheme, rest = dsn.split("://", 1)
    driver = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+psycopg_async"}[scheme.split("+")[0]]
    return f"{driver}://{rest}"


def build_app(url: str) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        adb = await async_connect(url)
        await adb.create_table("items", [column("id", "INTEGER", primary_key=True), column("name", "TEXT")]).collect()
        app.state.moltres_db = adb
        yield
        await adb.close()

    app = FastAPI(lifespan=lifespan)
    register_exception_handlers(app)

    @app.post("/items", status_code=201)
    async def add(item: dict[str, Any], db: ADB) -> dict[str, Any]:
        await db.insert("items", [item])
        return item

    @app.post("/items/then-fail")
    async def add_then_fail(item: dict[str, Any], db: ADB) -> None:
        await db.insert("items", [item])
        raise RuntimeError("after the write")

    @app.get("/items")
    async def items(db: ADB) -> list[dict[str, Any]]:
        return await db.table("items").order_by("id").collect()

    @app.get("/items/{item_id}")
    async def item(item_id: int, db: ADB) -> dict[str, Any] | None:
        return await db.table("items").where(col("id") == item_id).first()

    @app.get("/sync-dependency")
    def wrong(db: Annotated[Any, Depends(get_db)]) -> None:
        return None

    return app


def test_async_routes(dsn):
    app = build_app(async_dsn(dsn))

    async def scenario() -> None:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://test") as client,
        ):
            assert (await client.get("/items")).json() == []
            adds = [client.post("/items", json={"id": i, "name": f"item{i}"}) for i in range(15)]
            fails = [client.post("/items/then-fail", json={"id": 100 + i, "name": "ghost"}) for i in range(5)]
            statuses = [r.status_code for r in await asyncio.gather(*adds, *fails)]
            assert statuses == [201] * 15 + [500] * 5
            assert len((await client.get("/items")).json()) == 15
            assert (await client.get("/items/3")).json() == {"id": 3, "name": "item3"}
            duplicate = await client.post("/items", json={"id": 3, "name": "again"})
            assert (duplicate.status_code, duplicate.json()["error"]) == (409, "conflict")
            wrong = await client.get("/sync-dependency")
            assert wrong.status_code == 400
            assert "not a moltres Database" in wrong.json()["message"]

    asyncio.run(scenario())
