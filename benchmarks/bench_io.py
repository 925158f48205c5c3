"""IO: loading a 1,000,000-row CSV and Parquet file into PostgreSQL and SQLite, and exporting to Parquet.

Every figure runs moltres and the raw path in fresh interpreters, one after the other on the
same engine, alternating and keeping the best time (and the highest memory peak). Memory is
the peak RSS above the process's baseline, taken after imports and connecting, so it counts
what the load itself holds. The raw paths are what one would write by hand with the driver:

- CSV into PostgreSQL: ``COPY ... FROM STDIN (FORMAT csv)`` fed the file's bytes;
- CSV into SQLite: ``csv.reader`` into ``executemany`` in one transaction (strings; SQLite's
  column affinity stores the numbers as numbers);
- Parquet: ``pyarrow.parquet.ParquetFile.iter_batches`` into ``COPY ... write_row``
  (PostgreSQL) or ``executemany`` (SQLite);
- export: the driver's cursor (server-side on PostgreSQL) ``fetchmany`` into Arrow arrays
  and a ``ParquetWriter``.

moltres does more than the raw paths: it infers the column types from a sample, creates the
staging table, and (CSV) checks every value.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import gc
import json
import os
import random
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks import DATA_DIR, QUICK

ROWS = 100_000 if QUICK else 1_000_000
REPEATS = 1 if QUICK else 2
PG_DSN = os.environ.get("MOLTRES_BENCH_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
ENGINES = tuple(os.environ.get("MOLTRES_BENCH_IO_ENGINES", "postgresql,sqlite").split(","))
LOAD_TARGET = 0.7  # moltres throughput as a fraction of the raw path's
MEMORY_TARGET_MB = 150.0
COLUMNS = "id BIGINT, name TEXT, score DOUBLE PRECISION, active BOOLEAN, born DATE"
BATCH = 50_000

Row = dict[str, Any]


def log(message: str) -> None:
    print(f"   [io] {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------ data


def csv_file() -> Path:
    """A CSV of ROWS rows (id, name, score with 10% NULLs, active, born), made once."""
    path = DATA_DIR / f"io_{ROWS}.csv"
    if path.exists():
        return path
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    rng = random.Random(7)
    start = dt.date(1950, 1, 1)
    temp = path.with_suffix(".part")
    with open(temp, "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["id", "name", "score", "active", "born"])
        for i in range(ROWS):
            score = "" if rng.random() < 0.1 else f"{rng.random() * 1000:.3f}"
            born = (start + dt.timedelta(days=i % 20_000)).isoformat()
            writer.writerow([i, f"user {i}, the {rng.choice(['first', 'second', 'third'])}", score, i % 2 == 0, born])
    temp.rename(path)
    return path


def parquet_file() -> Path:
    """The same rows as Parquet (row groups of 128k rows, as most writers make)."""
    path = DATA_DIR / f"io_{ROWS}.parquet"
    if not path.exists():
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        pq.write_table(pacsv.read_csv(csv_file()), path, row_group_size=128 * 1024)
    return path


# ------------------------------------------------------------------------------------ engines


@contextlib.contextmanager
def engine_dsn(name: str) -> Iterator[str]:
    """A DSN for a scratch namespace: a new SQLite file, or a new PostgreSQL schema."""
    if name == "sqlite":
        path = DATA_DIR / f"io_{os.getpid()}.sqlite"
        yield f"sqlite:///{path}"
        for suffix in ("", "-journal", "-wal"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{path}{suffix}").unlink()
        return
    import sqlalchemy as sa

    schema = f"moltres_bench_io_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(PG_DSN)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in PG_DSN else "?"
    try:
        yield f"{PG_DSN}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        admin.dispose()


def reachable(name: str) -> str | None:
    if name != "postgresql":
        return None
    import sqlalchemy as sa

    try:
        engine = sa.create_engine(PG_DSN)
        with engine.connect():
            pass
        engine.dispose()
    except Exception as exc:
        return f"PostgreSQL unreachable: {str(exc).splitlines()[0]}"
    return None


# ------------------------------------------------------------------------------------ child


def _rss_mb(field_name: str) -> float:
    match = re.search(rf"{field_name}:\s+(\d+) kB", Path("/proc/self/status").read_text())
    return int(match.group(1)) / 1024 if match else float("nan")


def _raw_table(db: Any, name: str) -> None:
    columns = COLUMNS if db.dialect_name == "postgresql" else COLUMNS.replace("DOUBLE PRECISION", "DOUBLE")
    db.execute(f"DROP TABLE IF EXISTS {name}")
    db.execute(f"CREATE TABLE {name} ({columns})")


def child(figure: str, engine: str, path: str, dsn: str, source: str) -> dict[str, Any]:
    """In a fresh interpreter: one run of one path of one figure; seconds, peak MB, rows."""
    import pyarrow as pa
    import pyarrow.csv
    import pyarrow.parquet as pq

    import moltres.io.formats.arrow
    import moltres.io.formats.csv
    import moltres.io.formats.parquet  # noqa: F401
    from moltres import connect

    db = connect(dsn)
    if path == "raw" and figure.startswith("load"):
        _raw_table(db, "raw_target")
    if figure == "export":
        db.table("export_source").head(1)  # warm up: reflection, pool, driver
    raw = db.engine.raw_connection()
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")  # reset the RSS high-water mark
    baseline = _rss_mb("VmRSS")
    start = time.perf_counter()
    rows = 0
    if figure == "load_csv" and path == "moltres":
        db.read.csv(source)
        rows = db.read.last_report.rows if db.read.last_report else 0
    elif figure == "load_parquet" and path == "moltres":
        db.read.parquet(source)
        rows = db.read.last_report.rows if db.read.last_report else 0
    elif figure == "load_csv" and engine == "postgresql":
        statement = "COPY raw_target FROM STDIN (FORMAT csv, HEADER true)"
        with raw.cursor() as cur, cur.copy(statement) as copy, open(source, "rb") as f:
            while chunk := f.read(1 << 20):
                copy.write(chunk)
        raw.commit()
    elif figure == "load_csv":
        cur = raw.cursor()
        cur.execute("BEGIN")
        with open(source, newline="") as f:
            reader = csv.reader(f)
            next(reader)
            cur.executemany("INSERT INTO raw_target VALUES (?, ?, ?, ?, ?)", reader)
        raw.commit()
    elif figure == "load_parquet" and engine == "postgresql":
        with raw.cursor() as cur, cur.copy("COPY raw_target FROM STDIN") as copy:
            for batch in pq.ParquetFile(source).iter_batches(BATCH):
                for values in zip(*(c.to_pylist() for c in batch.columns), strict=True):
                    copy.write_row(values)
        raw.commit()
    elif figure == "load_parquet":
        cur = raw.cursor()
        cur.execute("BEGIN")
        for batch in pq.ParquetFile(source).iter_batches(BATCH):
            columns = [c.to_pylist() for c in batch.columns]
            columns[4] = [None if d is None else d.isoformat() for d in columns[4]]
            cur.executemany("INSERT INTO raw_target VALUES (?, ?, ?, ?, ?)", zip(*columns, strict=True))
        raw.commit()
    elif figure == "export" and path == "moltres":
        rows = db.table("export_source").write.mode("overwrite").parquet(source)
    elif figure == "export":
        cur = raw.cursor(name="moltres_bench") if engine == "postgresql" else raw.cursor()
        cur.execute("SELECT * FROM export_source")
        names = [d[0] for d in cur.description]
        writer = None
        while part := cur.fetchmany(BATCH):
            arrays = [pa.array(list(values)) for values in zip(*part, strict=True)]
            batch = pa.RecordBatch.from_arrays(arrays, names=names)
            if writer is None:
                writer = pq.ParquetWriter(source, batch.schema)
            writer.write_batch(batch)
            rows += len(part)
        cur.close()
        if writer is not None:
            writer.close()
    seconds = time.perf_counter() - start
    peak = _rss_mb("VmHWM") - baseline
    if figure.startswith("load") and path == "raw":
        rows = db.table("raw_target").count()
    raw.close()
    db.close()
    return {"seconds": seconds, "peak_mb": peak, "rows": rows}


def _spawn(figure: str, engine: str, path: str, dsn: str, source: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_io", "child", figure, engine, path, dsn, source],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, "MOLTRES_BENCH_QUICK": "1" if QUICK else "0"},
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{figure} {engine} {path} failed:\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    if result["rows"] != ROWS:
        raise RuntimeError(f"{figure} {engine} {path} handled {result['rows']} rows, not {ROWS}")
    return result


def _measure(figure: str, engine: str, dsn: str, source: str, target: str | None = None) -> dict[str, dict[str, float]]:
    best: dict[str, dict[str, float]] = {}
    for _ in range(REPEATS):
        for path in ("moltres", "raw"):
            result = _spawn(figure, engine, path, dsn, target or source)
            seen = best.setdefault(path, {"seconds": float("inf"), "peak_mb": 0.0})
            seen["seconds"] = min(seen["seconds"], result["seconds"])
            seen["peak_mb"] = max(seen["peak_mb"], result["peak_mb"])
    return best


# ------------------------------------------------------------------------------------ figures


def _row(name: str, m: float | None, r: float | None, *, note: str, **extra: Any) -> Row:
    return {"name": name, "moltres_s": m, "raw_s": r, "ratio": (m / r) if m and r else None, "note": note, **extra}


def figure_load(figure: str, engine: str, dsn: str, source: Path, raw_note: str) -> list[Row]:
    kind = "CSV" if figure == "load_csv" else "Parquet"
    log(f"{figure} [{engine}]")
    best = _measure(figure, engine, dsn, str(source))
    m, r = best["moltres"]["seconds"], best["raw"]["seconds"]
    throughput = r / m
    peak = best["moltres"]["peak_mb"]
    rows_s = ROWS / m
    return [
        _row(
            f"load {ROWS:,}-row {kind} [{engine}]",
            m,
            r,
            target=f">= {LOAD_TARGET}× raw throughput",
            passed=throughput >= LOAD_TARGET,
            peak_mb=peak,
            note=f"{rows_s:,.0f} rows/s, {throughput:.2f}× the raw throughput; raw: {raw_note} "
            f"(raw peak {best['raw']['peak_mb']:.1f} MB)",
        ),
        _row(
            f"load {ROWS:,}-row {kind}, peak memory [{engine}]",
            None,
            None,
            target=f"<= {MEMORY_TARGET_MB:.0f} MB above baseline",
            passed=peak <= MEMORY_TARGET_MB,
            peak_mb=peak,
            note="peak RSS above the baseline while reading, staging and inserting",
        ),
    ]


def figure_export(engine: str, dsn: str, source: Path) -> list[Row]:
    from moltres import connect

    log(f"export [{engine}]")
    with connect(dsn) as db:
        db.read.parquet(source, into="export_source")
    target = DATA_DIR / f"io_export_{os.getpid()}.parquet"
    try:
        best = _measure("export", engine, dsn, str(source), str(target))
    finally:
        with contextlib.suppress(FileNotFoundError):
            target.unlink()
    m, r = best["moltres"]["seconds"], best["raw"]["seconds"]
    cursor = "a server-side (named) psycopg cursor" if engine == "postgresql" else "the sqlite3 cursor"
    return [
        _row(
            f"export {ROWS:,} rows to Parquet [{engine}]",
            m,
            r,
            peak_mb=best["moltres"]["peak_mb"],
            note=f"{ROWS / m:,.0f} rows/s; moltres: df.write.parquet (typed from the query); raw: {cursor} "
            f"fetchmany({BATCH:,}) into pa.array per column (types inferred) and a ParquetWriter "
            f"(raw peak {best['raw']['peak_mb']:.1f} MB)",
        )
    ]


RAW_NOTES = {
    ("load_csv", "postgresql"): "COPY FROM STDIN (FORMAT csv) fed the file's bytes, into a table created beforehand",
    ("load_csv", "sqlite"): "csv.reader into executemany, one transaction, strings",
    ("load_parquet", "postgresql"): "ParquetFile.iter_batches into psycopg COPY write_row",
    ("load_parquet", "sqlite"): "ParquetFile.iter_batches into executemany, one transaction",
}


def run() -> list[Row]:
    started = time.perf_counter()
    csv_path, parquet_path = csv_file(), parquet_file()
    log(f"data ready: {csv_path.name}, {parquet_path.name} ({time.perf_counter() - started:.0f} s)")
    out: list[Row] = []
    for engine in ENGINES:
        problem = reachable(engine)
        if problem is not None:
            out.append(_row(f"io [{engine}]", None, None, note=f"skipped: {problem}"))
            continue
        with engine_dsn(engine) as dsn:
            out += figure_load("load_csv", engine, dsn, csv_path, RAW_NOTES["load_csv", engine])
            out += figure_load("load_parquet", engine, dsn, parquet_path, RAW_NOTES["load_parquet", engine])
            out += figure_export(engine, dsn, parquet_path)
    return out


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "child":
        print(json.dumps(child(*sys.argv[2:7])))
    else:
        for r in run():
            print(r)
