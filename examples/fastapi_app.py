"""A small FastAPI service on moltres: per-request transactions and JSON errors.

Run it with::

    pip install "moltres[fastapi]" uvicorn
    MOLTRES_DSN=sqlite:///shop.db uvicorn examples.fastapi_app:app --reload

Then ``curl -X POST localhost:8000/users -H 'content-type: application/json' -d '{"id": 1, "name": "Ada"}'``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException
from pydantic import BaseModel

from moltres import Database, col, column, connect
from moltres.expressions import functions as F
from moltres.integrations.fastapi import get_db, register_exception_handlers


class User(BaseModel):
    """A user as the API sees it."""

    id: int
    name: str
    age: int | None = None


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open the Database when the app starts, create the table, close it at shutdown."""
    db = connect(os.environ.get("MOLTRES_DSN", "sqlite:///shop.db"))
    if not db.table_exists("users"):
        db.create_table(
            "users",
            [column("id", "INTEGER", primary_key=True), column("name", "TEXT"), column("age", "INTEGER")],
        ).collect()
    app.state.moltres_db = db
    yield
    db.close()


app = FastAPI(title="moltres example", lifespan=lifespan)
register_exception_handlers(app)
DB = Annotated[Database, Depends(get_db)]


@app.get("/users")
def list_users(db: DB, min_age: int = 0, limit: int = 100) -> list[dict[str, Any]]:
    """Users at least `min_age` old, youngest first."""
    return db.table("users").where(col("age") >= min_age).order_by("age").limit(limit).collect()


@app.get("/users/stats")
def user_stats(db: DB) -> dict[str, Any]:
    """Head-count and average age, computed by the database."""
    stats = db.table("users").agg(F.count("*").alias("users"), F.avg(col("age")).alias("average_age")).first()
    return stats or {"users": 0, "average_age": None}


@app.get("/users/{user_id}")
def read_user(user_id: int, db: DB) -> dict[str, Any]:
    """One user, or 404."""
    user = db.table("users").where(col("id") == user_id).first()
    if user is None:
        raise HTTPException(status_code=404, detail=f"no user {user_id}")
    return user


@app.post("/users", status_code=201)
def create_users(users: list[User], db: DB) -> dict[str, int]:
    """Insert users in one transaction: all of them, or (on any error) none."""
    return {"inserted": db.insert("users", [u.model_dump() for u in users])}


@app.delete("/users/{user_id}")
def delete_user(user_id: int, db: DB) -> dict[str, int]:
    """Delete one user."""
    return {"deleted": db.delete("users", where=col("id") == user_id)}
