"""Data quality and the pytest plugin: checks pushed down vs one hand-written query, fixture overhead.

- **Seven column checks over a million rows** (not_null, range, unique, type, completeness,
  accepted_values, value_length) with ``QualityChecker``, against one hand-written SQL
  query computing the same counts, on the same engine, alternating, best of three. Target:
  at most 1.5x the hand-written query, and flat memory (the peak of Python allocations
  while checking, which would be hundreds of MB if the rows were loaded).
- **moltres_db fixture overhead**: the setup and teardown the plugin adds to each test
  (SQLite and PostgreSQL: connection, transaction, rollback; MariaDB: the session's throwaway
  database dropped and re-created). Target: at most 50 ms per test.

Servers: ``MOLTRES_BENCH_PG_DSN`` (default the loopback PostgreSQL) and
``MOLTRES_BENCH_MYSQL_DSN`` (default the loopback MariaDB); an unreachable one is reported
as a row with a note, not a failure of the module.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from benchmarks import DATA_DIR, QUICK

ROWS = 100_000 if QUICK else 1_000_000
REPEAT = 2 if QUICK else 3
FIXTURE_ROUNDS = 20 if QUICK else 100
PG_DSN = os.environ.get("MOLTRES_BENCH_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
MYSQL_DSN = os.environ.get("MOLTRES_BENCH_MYSQL_DSN", "mysql://root@127.0.0.1:3306/test")

Row = dict[str, Any]

FILL = {
    "sqlite": (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows}) "
        "INSERT INTO big SELECT i, 'user' || i || '@example.org', i % 90, "
        "CASE i % 3 WHEN 0 THEN 'new' WHEN 1 THEN 'active' ELSE 'gone' END FROM n"
    ),
    "postgresql": (
        "INSERT INTO big SELECT i, 'user' || i || '@example.org', i % 90, "
        "CASE i % 3 WHEN 0 THEN 'new' WHEN 1 THEN 'active' ELSE 'gone' END FROM generate_series(1, {rows}) AS i"
    ),
    "mysql": (
        "INSERT INTO big SELECT seq, CONCAT('user', seq, '@example.org'), seq % 90, "
        "CASE seq % 3 WHEN 0 THEN 'new' WHEN 1 THEN 'active' ELSE 'gone' END FROM seq_1_to_{rows}"
    ),
}

# What a careful person writes by hand to compute the same seven checks in one scan.
HAND_WRITTEN = """
SELECT count(*),
       sum(CASE WHEN email IS NULL THEN 1 ELSE 0 END),
       sum(CASE WHEN age < 0 OR age > 150 THEN 1 ELSE 0 END),
       count(email) - count(DISTINCT email),
       count(age),
       sum(CASE WHEN status NOT IN ('new', 'active', 'gone') THEN 1 ELSE 0 END),
       sum(CASE WHEN {length}(email) < 5 OR {length}(email) > 40 THEN 1 ELSE 0 END)
FROM big
"""
LENGTH = {"sqlite": "length", "postgresql": "char_length", "mysql": "char_length"}


def log(message: str) -> None:
    print(f"   [quality] {message}", file=sys.stderr, flush=True)


def row(name: str, moltres_s: float | None, raw_s: float | None, *, note: str, **extra: Any) -> Row:
    ratio = moltres_s / raw_s if moltres_s is not None and raw_s else None
    return {
        "name": name,
        "moltres_s": moltres_s,
        "raw_s": raw_s,
        "ratio": ratio,
        "peak_mb": None,
        "note": note,
        **extra,
    }


def checks() -> list[dict[str, Any]]:
    from moltres.quality import DataQualityCheck as Q

    return [
        Q.column_not_null("email"),
        Q.column_range("age", min=0, max=150),
        Q.column_unique("email"),
        Q.column_type("age", int),
        Q.column_completeness("email", threshold=0.99),
        Q.accepted_values("status", ["new", "active", "gone"]),
        Q.value_length("email", min=5, max=40),
    ]


# ------------------------------------------------------------------------------------ engines


@contextlib.contextmanager
def scratch(name: str) -> Iterator[str]:
    """A DSN for a database only this run uses, removed afterwards."""
    import sqlalchemy as sa

    if name == "sqlite":
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        path = DATA_DIR / "quality.sqlite"
        path.unlink(missing_ok=True)
        try:
            yield f"sqlite:///{path}"
        finally:
            path.unlink(missing_ok=True)
        return
    from moltres.engine.url import resolve_dsn

    server = resolve_dsn(PG_DSN if name == "postgresql" else MYSQL_DSN)
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    space = f"bench_quality_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE {'SCHEMA' if name == 'postgresql' else 'DATABASE'} {space}")
        if name == "postgresql":
            yield server.update_query_dict({"options": f"-csearch_path={space}"}).render_as_string(hide_password=False)
        else:
            yield server.set(database=space).render_as_string(hide_password=False)
    finally:
        with contextlib.suppress(Exception), admin.connect() as conn:
            drop = (
                f"DROP SCHEMA IF EXISTS {space} CASCADE" if name == "postgresql" else f"DROP DATABASE IF EXISTS {space}"
            )
            conn.exec_driver_sql(drop)
        admin.dispose()


def fill(db: Any, name: str) -> None:
    from moltres import column

    db.create_table(
        "big",
        [
            column("id", "INTEGER", primary_key=True),
            column("email", "VARCHAR(64)"),
            column("age", "INTEGER"),
            column("status", "VARCHAR(16)"),
        ],
    ).collect()
    started = time.perf_counter()
    db.execute(FILL[name].format(rows=ROWS))
    if name == "postgresql":
        db.execute("ANALYZE big")
    log(f"{name}: {ROWS:,} rows in {time.perf_counter() - started:.1f} s")


def raw_query(db: Any, name: str) -> tuple[Any, ...]:
    """The hand-written query on the engine's own driver connection (no moltres, no SQLAlchemy Core)."""
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(HAND_WRITTEN.format(length=LENGTH[name]))
        result = tuple(cursor.fetchone())
        cursor.close()
        return result
    finally:
        raw.close()


def timed(fn: Callable[[], Any]) -> tuple[float, Any, float]:
    """Seconds, result, and peak MB of Python allocations of one call."""
    gc.collect()
    tracemalloc.start()
    started = time.perf_counter()
    try:
        result = fn()
        seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return seconds, result, peak / 2**20


def bench_checks(name: str) -> Row:
    from moltres import connect
    from moltres.quality import QualityChecker

    label = f"7 column checks over {ROWS:,} rows [{name}]"
    try:
        with scratch(name) as dsn, connect(dsn) as db:
            fill(db, name)
            df = db.table("big")
            _ = df.columns  # reflect once, as any second run would find it cached
            best = {"moltres": float("inf"), "raw": float("inf")}
            peak = 0.0
            report = None
            expected = raw_query(db, name)  # warm the cache for both paths
            for _ in range(REPEAT):
                seconds, report, mb = timed(lambda: QualityChecker().check(df, checks()))
                best["moltres"] = min(best["moltres"], seconds)
                peak = max(peak, mb)
                seconds, got, _ = timed(lambda: raw_query(db, name))
                best["raw"] = min(best["raw"], seconds)
            assert report is not None and report.passed, str(report)
            assert report.statements == 1
            assert int(expected[0]) == ROWS and got == expected
    except Exception as exc:  # an unreachable server is a finding, not a crash
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return row(label, None, None, note=f"not measured: {type(exc).__name__}: {first}")
    out = row(
        label,
        best["moltres"],
        best["raw"],
        note="one QualityChecker statement (conditional aggregates over the query) vs one hand-written "
        "SELECT of the same counts on the driver's cursor; peak_mb: Python allocations while checking",
        target="<= 1.5x, memory flat",
    )
    out["peak_mb"] = peak
    out["passed"] = out["ratio"] is not None and out["ratio"] <= 1.5 and peak < 10
    log(f"{label}: {best['moltres']:.3f} s vs {best['raw']:.3f} s, peak {peak:.2f} MB")
    return out


# ------------------------------------------------------------------------------------ fixture


def bench_fixture(name: str) -> Row:
    """Setup plus teardown of ``moltres_db`` per test, as the plugin does it (warm session).

    Each "test" runs one query, so that lazily begun transactions are really begun; the
    same query on a plain, shared ``Database`` is the baseline, and the overhead is the
    difference.
    """
    from moltres import connect
    from moltres.integrations.pytest.backends import TestDatabases

    label = f"moltres_db fixture overhead per test [{name}]"
    dsn = {"sqlite": "sqlite://", "postgresql": PG_DSN, "mysql": MYSQL_DSN, "duckdb": "duckdb:///:memory:"}[name]
    databases = TestDatabases([dsn])
    try:
        backend = databases.backend(name)
        with databases.database(backend) as db:  # the session's first test pays for the engine
            db.sql("SELECT 1 AS one").collect()
        started = time.perf_counter()
        for _ in range(FIXTURE_ROUNDS):
            with databases.database(backend) as db:
                db.sql("SELECT 1 AS one").collect()
        with_fixture = (time.perf_counter() - started) / FIXTURE_ROUNDS
        with connect(dsn) as plain:
            plain.sql("SELECT 1 AS one").collect()
            started = time.perf_counter()
            for _ in range(FIXTURE_ROUNDS):
                plain.sql("SELECT 1 AS one").collect()
            baseline = (time.perf_counter() - started) / FIXTURE_ROUNDS
        per_test = max(with_fixture - baseline, 0.0)
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return row(label, None, None, note=f"not measured: {type(exc).__name__}: {first}")
    finally:
        databases.close()
    how = {
        "sqlite": "connection + BEGIN + ROLLBACK on the session's in-memory engine",
        "postgresql": "connection + BEGIN + ROLLBACK on the session's engine",
        "mysql": "DROP DATABASE + CREATE DATABASE of the session's throwaway database",
        "duckdb": "a new in-memory database",
    }[name]
    log(f"{label}: {per_test * 1000:.1f} ms")
    return row(
        label,
        per_test,
        None,  # an overhead, not a ratio: the baseline is already subtracted
        note=f"a one-query test with the fixture (mean of {FIXTURE_ROUNDS}) minus the same query on a shared "
        f"Database ({baseline * 1000:.2f} ms); the fixture: {how}",
        target="<= 0.050 s",
        passed=per_test <= 0.050,
    )


def run() -> list[Row]:
    """All figures of this module."""
    rows = [bench_checks(name) for name in ("sqlite", "postgresql", "mysql")]
    rows += [bench_fixture(name) for name in ("sqlite", "postgresql", "mysql", "duckdb")]
    return rows


if __name__ == "__main__":  # pragma: no cover - a quick look without the harness
    for figure in run():
        print(figure)
