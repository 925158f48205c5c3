"""The `moltres` command line: `moltres demo` builds its database and prints a readable tour."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from moltres.cli import demo_data, main

SRC = Path(__file__).resolve().parents[1] / "src"


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))}
    return subprocess.run(
        [sys.executable, "-m", "moltres.cli", *args],
        check=False,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def expected_top_product(seed: int) -> tuple[str, float]:
    """The best-selling product and its revenue, computed in Python from the generated rows."""
    data = demo_data(seed)
    revenue: dict[int, float] = defaultdict(float)
    for line in data.order_lines:
        revenue[line["product_id"]] += line["quantity"] * line["unit_price"]
    best = max(revenue, key=lambda k: revenue[k])
    name = next(p["name"] for p in data.products if p["id"] == best)
    return name, round(revenue[best], 2)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    workdir = tmp_path_factory.mktemp("demo")
    return run_cli("demo", "--plain", cwd=workdir), workdir


def test_demo_exits_zero_and_creates_the_default_file(demo_run):
    result, workdir = demo_run
    assert result.returncode == 0, result.stderr
    assert (workdir / "moltres_demo.db").exists()
    assert result.stderr == ""


def test_demo_prints_each_query_with_its_sql(demo_run):
    out = demo_run[0].stdout
    titles = [
        "1. Best-selling products",
        "2. Revenue per country",
        "3. Top two customers by spend in each country (window function: rank)",
        "4. Orders per status",
        "5. Cancel the orders still pending",
        "6. Remove cancelled orders and their lines, in one transaction",
        "7. Orders per status, after the update",
        "8. Rebuild the category_sales table",
        "9. category_sales, read back",
    ]
    positions = [out.index(title) for title in titles]
    assert positions == sorted(positions)
    for fragment in (
        "JOIN products ON",
        "GROUP BY",
        "rank() OVER (PARTITION BY customers.country ORDER BY",
        "UPDATE orders SET status=?",
        "DELETE FROM order_lines WHERE order_lines.order_id IN (",
        "DELETE FROM orders WHERE orders.status = ?",
        "CREATE TABLE category_sales__moltres_",
        "ALTER TABLE category_sales__moltres_",
    ):
        assert fragment in out, fragment
    # values are bound parameters, never pasted into the SQL
    assert "'cancelled'" not in out


def test_demo_results_match_the_generated_rows(demo_run):
    out = demo_run[0].stdout
    name, revenue = expected_top_product(7)
    first_table = out[out.index("1. Best-selling") : out.index("2. Revenue per country")]
    top_row = next(line for line in first_table.splitlines() if line.startswith("| ") and "name" not in line)
    assert name in top_row
    assert f"{revenue:,.2f}" in top_row
    assert "+--" in first_table  # a readable table, with borders
    assert "(5 rows)" in first_table


def test_demo_leaves_the_database_in_the_state_it_describes(demo_run):
    _, workdir = demo_run
    data = demo_data(7)
    with sqlite3.connect(workdir / "moltres_demo.db") as conn:
        statuses = dict(conn.execute("SELECT status, count(*) FROM orders GROUP BY status").fetchall())
        assert "cancelled" not in statuses
        assert sum(statuses.values()) == len(data.orders) - sum(
            1
            for o in data.orders
            if o["status"] == "cancelled" or (o["status"] == "pending" and str(o["placed_on"]) < "2023-09-01")
        )
        orphans = conn.execute(
            "SELECT count(*) FROM order_lines WHERE order_id NOT IN (SELECT id FROM orders)"
        ).fetchone()[0]
        assert orphans == 0
        summary = conn.execute("SELECT sum(revenue), sum(units) FROM category_sales").fetchone()
        lines = conn.execute("SELECT sum(quantity * unit_price), sum(quantity) FROM order_lines").fetchone()
        assert summary[0] == pytest.approx(lines[0])
        assert summary[1] == lines[1]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert tables == {"customers", "products", "orders", "order_lines", "category_sales"}


def test_demo_is_deterministic_and_recreates_its_file(tmp_path, demo_run):
    target = tmp_path / "shop.db"
    target.write_text("not a database")
    first = run_cli("demo", "--plain", "--path", str(target), cwd=tmp_path)
    second = run_cli("demo", "--plain", "--path", str(target), cwd=tmp_path)
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr

    def stable(text: str) -> str:  # the staging table of the overwrite has a random suffix
        return "\n".join(line for line in text.splitlines() if "__moltres_" not in line and "shop.db" not in line)

    assert stable(first.stdout) == stable(second.stdout)
    assert stable(first.stdout) == stable(demo_run[0].stdout.replace("moltres_demo.db", "shop.db"))


def test_demo_seed_changes_the_data(tmp_path):
    assert demo_data(1).orders != demo_data(2).orders
    name, revenue = expected_top_product(3)
    out = run_cli("demo", "--plain", "--seed", "3", "--path", str(tmp_path / "d.db"), cwd=tmp_path).stdout
    assert f"{revenue:,.2f}" in out
    assert name in out


def test_demo_with_rich_tables(tmp_path):
    pytest.importorskip("rich")
    result = run_cli("demo", "--path", str(tmp_path / "d.db"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "┃ name" in result.stdout
    assert "rank() OVER (PARTITION BY" in result.stdout  # SQL lines are printed whole when piped


def test_main_in_process(tmp_path, capsys):
    assert main(["demo", "--plain", "--path", str(tmp_path / "d.db")]) == 0
    out = capsys.readouterr().out
    assert "9. category_sales, read back" in out


def test_unusable_path_is_a_clear_error(tmp_path, capsys):
    code = main(["demo", "--plain", "--path", str(tmp_path / "missing" / "dir" / "d.db")])
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("moltres: error:")
    assert "Traceback" not in err


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "demo" in capsys.readouterr().out


def test_version(tmp_path):
    result = run_cli("--version", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith("moltres ")
