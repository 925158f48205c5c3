"""Explore a database with moltres and Streamlit: pick a table, filter it, see rows and SQL.

Run it with::

    pip install "moltres[streamlit]"
    streamlit run examples/streamlit_app.py

It opens (and fills, the first time) a small SQLite database; set ``MOLTRES_EXAMPLE_DSN`` to
point it at another database, or configure ``[connections.example] url = ...`` in
``.streamlit/secrets.toml``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import streamlit as st

from moltres import Database, col, column
from moltres.expressions import functions as F
from moltres.integrations.streamlit import (
    MoltresConnection,
    cached_query,
    invalidate_query_cache,
    moltres_dataframe,
    query_builder,
    visualize_query,
)

DEFAULT_DSN = f"sqlite:///{Path(tempfile.gettempdir()) / 'moltres_streamlit_example.db'}"


def connection_options() -> dict[str, str]:
    """The URL to pass to st.connection: none when secrets.toml configures it."""
    if os.environ.get("MOLTRES_EXAMPLE_DSN"):
        return {"url": os.environ["MOLTRES_EXAMPLE_DSN"]}
    try:
        if "example" in st.secrets.get("connections", {}):
            return {}  # [connections.example] url = "..." in .streamlit/secrets.toml
    except FileNotFoundError:  # no secrets.toml at all
        pass
    return {"url": DEFAULT_DSN}


USERS = [
    {"id": 1, "name": "Ada", "age": 36, "city": "London"},
    {"id": 2, "name": "Grace", "age": 45, "city": "New York"},
    {"id": 3, "name": "Linus", "age": 21, "city": "Helsinki"},
    {"id": 4, "name": "Margaret", "age": 33, "city": "Boston"},
    {"id": 5, "name": "Edsger", "age": 72, "city": "Austin"},
]
ORDERS = [
    {"id": 1, "user_id": 1, "amount": 120.0},
    {"id": 2, "user_id": 1, "amount": 80.5},
    {"id": 3, "user_id": 2, "amount": 42.0},
    {"id": 4, "user_id": 5, "amount": 300.0},
]


def seed(db: Database) -> None:
    """Create and fill the demo tables unless they already exist."""
    if not db.table_exists("users"):
        db.create_table(
            "users",
            [
                column("id", "INTEGER", primary_key=True),
                column("name", "TEXT"),
                column("age", "INTEGER"),
                column("city", "TEXT"),
            ],
        ).collect()
        db.insert("users", USERS)
    if not db.table_exists("orders"):
        db.create_table(
            "orders",
            [column("id", "INTEGER", primary_key=True), column("user_id", "INTEGER"), column("amount", "REAL")],
        ).collect()
        db.insert("orders", ORDERS)


@cached_query(ttl=600, key="stats")
def user_stats(db: Database) -> list[dict[str, Any]]:
    """Head-count and average age, cached for ten minutes."""
    return db.table("users").agg(F.count("*").alias("users"), F.avg(col("age")).alias("average_age")).collect()


st.set_page_config(page_title="moltres explorer", layout="wide")
conn = st.connection("example", type=MoltresConnection, **connection_options())
db = conn.db
seed(db)

st.title("moltres explorer")
with st.sidebar:
    stats = user_stats(db)[0]
    st.metric("Users", stats["users"])
    st.metric("Average age", f"{float(stats['average_age']):.1f}")
    if st.button("Refresh statistics"):
        invalidate_query_cache("stats")

query = query_builder(db, key="explorer")
if query is None:
    st.info("Choose a table to start.")
else:
    moltres_dataframe(query, max_rows=1000)
    st.subheader("How this query runs")
    visualize_query(query)
