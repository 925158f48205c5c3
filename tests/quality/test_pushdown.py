"""Checks over a million rows run inside the database: one statement, and no rows in Python."""

from __future__ import annotations

import tracemalloc

from moltres import column, connect
from moltres.quality import DataQualityCheck as Q
from moltres.quality import QualityChecker
from tests.quality.conftest import statements

ROWS = 1_000_000
# VARCHAR, not TEXT: MariaDB counts DISTINCT TEXT values in an on-disk temporary table (25 s
# for a million rows instead of 1.5 s); emails are VARCHAR in real schemas anyway.

# One INSERT ... SELECT per backend, generating the rows inside the database.
FILL = {
    "sqlite": (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :rows) "
        "INSERT INTO big SELECT i, 'user' || i || '@example.org', i % 90, "
        "CASE i % 3 WHEN 0 THEN 'new' WHEN 1 THEN 'active' ELSE 'gone' END FROM n"
    ),
    "postgresql": (
        "INSERT INTO big SELECT i, 'user' || i || '@example.org', i % 90, "
        "CASE i % 3 WHEN 0 THEN 'new' WHEN 1 THEN 'active' ELSE 'gone' END FROM generate_series(1, :rows) AS i"
    ),
    "mysql": (
        "INSERT INTO big SELECT seq, CONCAT('user', seq, '@example.org'), seq % 90, "
        "CASE seq % 3 WHEN 0 THEN 'new' WHEN 1 THEN 'active' ELSE 'gone' END FROM seq_1_to_1000000 WHERE seq <= :rows"
    ),
    "duckdb": (
        "INSERT INTO big SELECT i, 'user' || i || '@example.org', i % 90, "
        "CASE i % 3 WHEN 0 THEN 'new' WHEN 1 THEN 'active' ELSE 'gone' END FROM range(1, :rows + 1) AS t(i)"
    ),
}

#: The seven column checks of the benchmark.
COLUMN_CHECKS = [
    Q.column_not_null("email"),
    Q.column_range("age", min=0, max=150),
    Q.column_unique("email"),
    Q.column_type("age", int),
    Q.column_completeness("email", threshold=0.99),
    Q.accepted_values("status", ["new", "active", "gone"]),
    Q.value_length("email", min=5, max=40),
]


def test_a_million_rows_are_checked_in_one_statement_without_loading_them(db, backend):
    db.create_table(
        "big",
        [
            column("id", "INTEGER", primary_key=True),
            column("email", "VARCHAR(64)"),
            column("age", "INTEGER"),
            column("status", "VARCHAR(16)"),
        ],
    ).collect()
    db.execute(FILL[backend.name], rows=ROWS)
    df = db.table("big")
    _ = df.columns  # reflect the table before counting statements

    tracemalloc.start()
    try:
        with statements(db) as seen:
            report = QualityChecker().check(df, COLUMN_CHECKS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert report.passed, str(report)
    assert all(r.total_rows == ROWS for r in report if r.type in ("not_null", "completeness"))
    assert len(seen) == 1, seen  # one aggregate statement: no sample query, no row fetch
    assert "count(" in seen[0].lower()
    assert peak < 10 * 2**20, f"peak Python allocation {peak / 2**20:.1f} MiB: rows were loaded"


def test_a_failing_check_over_a_million_rows_fetches_only_its_sample(tmp_path):
    # the sample query is the same on every backend (see test_checker.py); SQLite keeps this quick
    db = connect(f"sqlite:///{tmp_path / 'big.sqlite'}")
    db.create_table(
        "big",
        [
            column("id", "INTEGER", primary_key=True),
            column("email", "VARCHAR(64)"),
            column("age", "INTEGER"),
            column("status", "VARCHAR(16)"),
        ],
    ).collect()
    db.execute(FILL["sqlite"], rows=ROWS)
    df = db.table("big")
    _ = df.columns
    with statements(db) as seen:
        report = QualityChecker().check(df, [Q.column_range("age", max=10)])
    result = report["range_age"]
    assert result.failed_rows == ROWS - sum(1 for i in range(1, ROWS + 1) if i % 90 <= 10)
    assert len(result.sample) == 5
    assert len(seen) == 2 and "LIMIT" in seen[1].upper()
    db.close()
