"""The Streamlit helpers one by one, each in a small AppTest script (or bare, for caching)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from moltres import col, connect
from moltres.integrations.streamlit import (
    cached_query,
    invalidate_query_cache,
    plan_tree,
    query_fingerprint,
)
from moltres.utils.exceptions import ValidationError


def run(script, **kwargs) -> AppTest:
    at = AppTest.from_function(script, kwargs=kwargs, default_timeout=30)
    at.run()
    return at


# ------------------------------------------------------------------------- moltres_dataframe


def show_frame(url: str, max_rows: int) -> None:
    from moltres import connect
    from moltres.integrations.streamlit import moltres_dataframe

    db = connect(url)
    db.execute("CREATE TABLE IF NOT EXISTS numbers (n INTEGER)")
    if db.table("numbers").count() == 0:
        db.insert("numbers", [{"n": i} for i in range(30)])
    moltres_dataframe(db.table("numbers").order_by("n"), max_rows=max_rows, height=200)


def test_moltres_dataframe_shows_at_most_max_rows_and_counts_the_rest(tmp_path):
    at = run(show_frame, url=f"sqlite:///{tmp_path / 'n.db'}", max_rows=10)
    assert not at.exception
    assert list(at.dataframe[0].value["n"]) == list(range(10))
    assert at.caption[0].value == "Showing the first 10 of 30 rows."
    assert at.expander[0].label == "Query"
    assert at.code[0].value.startswith("SELECT numbers.n")
    assert at.caption[1].value == "30 rows"


def test_moltres_dataframe_without_truncation(tmp_path):
    at = run(show_frame, url=f"sqlite:///{tmp_path / 'n.db'}", max_rows=100)
    assert len(at.dataframe[0].value) == 30
    assert [c.value for c in at.caption] == ["30 rows"]


def test_moltres_dataframe_rejects_a_silly_max_rows(tmp_path):
    at = run(show_frame, url=f"sqlite:///{tmp_path / 'n.db'}", max_rows=0)
    assert at.exception[0].message == "max_rows must be at least 1, got 0"


def empty_frame(url: str) -> None:
    from moltres import connect
    from moltres.integrations.streamlit import moltres_dataframe

    db = connect(url)
    moltres_dataframe(db.table("users").where("age > 1000"), show_query=False)


def test_empty_result_keeps_its_columns(app_dsn):
    at = run(empty_frame, url=app_dsn)
    frame = at.dataframe[0].value
    assert list(frame.columns) == ["id", "name", "age", "city"]
    assert len(frame) == 0
    assert not at.expander


# ------------------------------------------------------------------------- query_builder


def builder(url: str) -> None:
    import streamlit as st

    from moltres import connect
    from moltres.integrations.streamlit import query_builder

    query = query_builder(connect(url), key="qb", tables=["users"])
    st.write("none" if query is None else query.collect())


def filtered(at: AppTest, op: str, value: str = "", column: str = "name") -> list[str]:
    at.selectbox(key="qb.filter0.column").select(column).run()
    at.selectbox(key="qb.filter0.op").select(op).run()
    if value:
        at.text_input(key="qb.filter0.value").input(value).run()
    assert not at.exception
    return sorted(row["name"] for row in at.json[0].value_as_dict) if at.json else []


@pytest.fixture
def qb(app_dsn) -> AppTest:
    at = run(builder, url=app_dsn)
    assert at.markdown[0].value == "none"
    at.selectbox(key="qb.table").select("users").run()
    at.number_input(key="qb.filters").set_value(1).run()
    return at


def rows_of(at: AppTest) -> list[str]:
    import json

    return sorted(row["name"] for row in json.loads(at.json[0].proto.body))


@pytest.mark.parametrize(
    ("column", "op", "value", "expected"),
    [
        ("name", "=", "Ada", ["Ada"]),
        ("name", "!=", "Ada", ["Alan", "Grace", "Linus"]),
        ("age", ">=", "41", ["Alan", "Grace"]),
        ("age", "<", "36", ["Linus"]),
        ("age", "<=", "36", ["Ada", "Linus"]),
        ("name", "contains", "a", ["Ada", "Alan", "Grace"]),
        ("name", "starts with", "A", ["Ada", "Alan"]),
        ("city", "is null", "", ["Grace"]),
        ("city", "is not null", "", ["Ada", "Alan", "Linus"]),
        ("name", "=", "x' OR '1'='1", []),
    ],
)
def test_filters(qb, column, op, value, expected):
    qb.selectbox(key="qb.filter0.column").select(column).run()
    qb.selectbox(key="qb.filter0.op").select(op).run()
    if value:
        qb.text_input(key="qb.filter0.value").input(value).run()
    assert not qb.exception
    assert rows_of(qb) == expected


def test_a_value_of_the_wrong_type_is_ignored_with_a_warning(qb):
    qb.selectbox(key="qb.filter0.column").select("age").run()
    qb.text_input(key="qb.filter0.value").input("old").run()
    assert qb.warning[0].value == "'old' is not a valid INTEGER for age; filter ignored."
    assert len(rows_of(qb)) == 4


def test_an_empty_value_adds_no_filter(qb):
    assert len(rows_of(qb)) == 4


# ------------------------------------------------------------------------- caching


def test_cached_query_hashes_lazy_frames_by_sql_and_params(app_db):
    calls: list[int] = []

    @cached_query(ttl=60, key="ages")
    def older_than(df):
        calls.append(1)
        return df

    adults = older_than(app_db.table("users").where(col("age") > 30).select("name"))
    assert sorted(r["name"] for r in adults) == ["Ada", "Alan", "Grace"]  # collected, not lazy
    older_than(app_db.table("users").where(col("age") > 30).select("name"))  # built again: same SQL
    assert len(calls) == 1
    older_than(app_db.table("users").where(col("age") > 40).select("name"))  # other parameter
    assert len(calls) == 2
    assert invalidate_query_cache("ages") == 1
    older_than(app_db.table("users").where(col("age") > 30).select("name"))
    assert len(calls) == 3


def test_cached_query_with_a_database_argument_and_ttl(app_db):
    calls: list[int] = []

    @cached_query(ttl=0.2)
    def head_count(db, minimum: int) -> int:
        calls.append(1)
        return int(db.table("users").where(col("age") >= minimum).count())

    assert head_count(app_db, 40) == 2
    assert head_count(app_db, 40) == 2
    assert len(calls) == 1
    time.sleep(0.3)
    assert head_count(app_db, 40) == 2
    assert len(calls) == 2


def test_bare_decorator_and_invalidate_everything(app_db):
    calls: list[int] = []

    @cached_query
    def everyone(db):
        calls.append(1)
        return db.table("users").select("name")

    everyone(app_db)
    everyone(app_db)
    assert len(calls) == 1
    assert invalidate_query_cache() >= 1
    everyone(app_db)
    assert len(calls) == 2


def test_fingerprint(app_db, app_dsn, tmp_path: Path):
    users = app_db.table("users")
    assert query_fingerprint(users.where(col("age") > 1)) == query_fingerprint(users.where(col("age") > 1))
    assert query_fingerprint(users.where(col("age") > 1)) != query_fingerprint(users.where(col("age") > 2))
    with connect(app_dsn) as same_file:
        assert query_fingerprint(same_file.table("users")) == query_fingerprint(users)
    with connect("sqlite://") as one, connect("sqlite://") as two:
        assert query_fingerprint(one.sql("SELECT 1 AS x")) != query_fingerprint(two.sql("SELECT 1 AS x"))


# ------------------------------------------------------------------------- session state


def session_helpers(url: str) -> None:
    import streamlit as st

    from moltres.integrations.streamlit import close_session_databases, get_db_from_session

    if st.session_state.get("closed"):
        st.write(f"after close: {'warehouse' in st.session_state}")
        return
    first = get_db_from_session("warehouse", url=url)
    again = get_db_from_session("warehouse")
    st.write(f"same: {first is again}, users: {again.table('users').count()}")
    if st.button("Close"):
        st.session_state.closed = close_session_databases()
        st.rerun()


def test_session_databases_are_opened_once_and_closed(app_dsn):
    at = run(session_helpers, url=app_dsn)
    assert at.markdown[0].value == "same: True, users: 4"
    at.run()
    assert at.markdown[0].value == "same: True, users: 4"
    at.button[0].click().run()
    assert at.session_state.closed == ["warehouse"]
    assert at.markdown[0].value == "after close: False"


def seed_session_pattern(url: str) -> None:
    import streamlit as st

    from moltres import connect
    from moltres.integrations.streamlit import get_db_from_session

    if "db" not in st.session_state:
        st.session_state.db = connect(url)
    db = get_db_from_session()
    st.write(db.table("users").select("name").order_by("name").first())


def test_seed_session_pattern(app_dsn):
    at = run(seed_session_pattern, url=app_dsn)
    assert at.json[0].value == '{"name": "Ada"}'


def missing_session_db() -> None:
    import streamlit as st

    from moltres.integrations.streamlit import get_db_from_session

    st.session_state.other = 42
    name = st.radio("key", ["db", "other"])
    get_db_from_session(str(name))


def test_session_errors_explain_what_to_do():
    at = run(missing_session_db)
    assert "no Database in st.session_state['db']" in at.exception[0].message
    at.radio[0].set_value("other").run()
    assert "holds a int, not a moltres Database" in at.exception[0].message


# ------------------------------------------------------------------------- st.connection


def connection_script(url: str | None) -> None:
    import streamlit as st

    from moltres.integrations.streamlit import MoltresConnection

    conn = (
        st.connection("warehouse", type=MoltresConnection, url=url)
        if url
        else st.connection("warehouse", type=MoltresConnection)
    )
    st.write(conn.query("SELECT name FROM users WHERE age > :age ORDER BY name", age=40, ttl=60))
    st.write(conn.table("users").count())
    st.write(conn.sql("SELECT count(*) AS n FROM users WHERE city IS NULL").first())
    if st.button("Reset"):
        old = conn.db
        conn.reset()
        st.write(f"new database: {conn.db is not old}")


def test_st_connection(app_dsn):
    at = run(connection_script, url=app_dsn)
    assert not at.exception
    assert at.json[0].value == '[{"name": "Alan"}, {"name": "Grace"}]'
    assert at.markdown[0].value == "`4`"
    assert at.json[1].value == '{"n": 1}'
    at.button[0].click().run()
    assert at.markdown[1].value == "new database: True"


def test_st_connection_without_url_explains():
    at = run(connection_script, url=None)
    assert "[connections.warehouse]" in at.exception[0].message


# ------------------------------------------------------------------------- visualize_query


def visualize(url: str) -> None:
    import streamlit as st

    from moltres import col, connect
    from moltres.integrations.streamlit import visualize_query

    report = visualize_query(connect(url).table("users").where(col("age") > 25).select("name"))
    st.write(f"rows={report.row_count} timed={report.seconds > 0}")


def test_visualize_query(app_dsn):
    at = run(visualize, url=app_dsn)
    assert not at.exception
    assert [t.label for t in at.tabs] == ["SQL", "Logical plan", "EXPLAIN"]
    sql, plan, explain = (c.value for c in at.code)
    assert "WHERE users.age > ?" in sql
    assert plan.splitlines()[0].startswith("Project(")
    assert "  Filter(" in plan and "    Table(name='users'" in plan
    assert "users" in explain
    assert [m.label for m in at.metric] == ["Execution time", "Rows"]
    assert at.metric[1].value == "3"
    assert at.markdown[-1].value == "rows=3 timed=True"


def test_plan_tree_lists_every_input_of_a_join(app_db):
    users = app_db.table("users")
    tree = plan_tree(users.join(users.alias("u2"), on="id").plan)
    assert tree.count("Table(name='users'") == 2


def test_validation_error_class_is_public():
    assert issubclass(ValidationError, ValueError)
