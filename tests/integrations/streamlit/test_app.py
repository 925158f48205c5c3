"""examples/streamlit_app.py driven by Streamlit's AppTest: pick a table and a filter, read the table."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.integrations.streamlit.conftest import EXAMPLE


@pytest.fixture
def app(tmp_path, monkeypatch) -> AppTest:
    monkeypatch.setenv("MOLTRES_EXAMPLE_DSN", f"sqlite:///{tmp_path / 'example.db'}")
    at = AppTest.from_file(str(EXAMPLE), default_timeout=30)
    at.run()
    assert not at.exception, at.exception
    return at


def test_first_screen_asks_for_a_table(app):
    assert app.title[0].value == "moltres explorer"
    assert app.info[0].value == "Choose a table to start."
    assert [m.label for m in app.sidebar.metric] == ["Users", "Average age"]
    assert app.sidebar.metric[0].value == "5"
    assert app.selectbox(key="explorer.table").options == ["orders", "users"]


def test_choose_table_and_filter(app):
    app.selectbox(key="explorer.table").select("users").run()
    frame = app.dataframe[0].value
    assert len(frame) == 5
    app.number_input(key="explorer.filters").set_value(1).run()
    app.selectbox(key="explorer.filter0.column").select("age").run()
    app.selectbox(key="explorer.filter0.op").select(">").run()
    app.text_input(key="explorer.filter0.value").input("35").run()
    assert not app.exception
    frame = app.dataframe[0].value
    assert sorted(frame["name"]) == ["Ada", "Edsger", "Grace"]
    sql = app.code[0].value
    assert "WHERE users.age > ?" in sql
    assert "35" not in sql  # the value is a bound parameter
    assert app.caption[0].value == "3 rows"


def test_columns_sort_and_limit(app):
    app.selectbox(key="explorer.table").select("users").run()
    app.multiselect(key="explorer.columns").set_value(["name", "age"]).run()
    app.selectbox(key="explorer.sort").select("age").run()
    app.checkbox(key="explorer.descending").check().run()
    app.number_input(key="explorer.limit").set_value(2).run()
    frame = app.dataframe[0].value
    assert list(frame.columns) == ["name", "age"]
    assert list(frame["name"]) == ["Edsger", "Grace"]


def test_query_details_show_plan_explain_and_timing(app):
    app.selectbox(key="explorer.table").select("orders").run()
    codes = [c.value for c in app.code]
    assert any(code.startswith("Limit(") and "Table(name='orders'" in code for code in codes)
    assert any("orders" in code.lower() and "SCAN" in code.upper() for code in codes)  # SQLite's EXPLAIN
    labels = [m.label for m in app.main.metric]
    assert labels == ["Execution time", "Rows"]
    assert app.main.metric[1].value == "4"


def test_refresh_button_clears_the_statistics_cache(app, tmp_path):
    from moltres import connect

    with connect(f"sqlite:///{tmp_path / 'example.db'}") as db:
        db.insert("users", [{"id": 6, "name": "Barbara", "age": 82, "city": "Boston"}])
    app.run()
    assert app.sidebar.metric[0].value == "5"  # cached for ten minutes
    app.sidebar.button[0].click().run()
    app.run()
    assert app.sidebar.metric[0].value == "6"
