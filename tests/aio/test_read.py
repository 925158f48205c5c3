"""``db.read`` / ``db.load`` in both modes, and what only the async loader has to get right.

The first tests run on ``either`` (a Database or an AsyncDatabase, see conftest.py): the same
lines load the same files, so the two modes cannot drift apart. The later ones are about the
async side alone: the file is parsed off the event loop, staged tables are seen by every
pooled connection, a load joins an open transaction, and a cancelled load undoes itself and
gives its connection back.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from moltres import AsyncDatabase, col
from moltres.dataframe.async_dataframe import AsyncDataFrame
from moltres.dataframe.async_reader import AsyncDataLoader
from moltres.expressions import functions as F
from moltres.io.formats.csv import CsvFile
from moltres.table.schema import column
from moltres.utils.exceptions import DataFormatError, SourceNotFoundError, ValidationError
from tests.aio.conftest import eventually, pool_of, run, seed

pytestmark = pytest.mark.anyio

PEOPLE = "id,name,score\n1,Ada,9.5\n2,Alan,\n3,Grace,7.25\n"


async def every_table(database: Any) -> list[str]:
    """All the tables, moltres' staging tables too (``tables()`` leaves those out)."""
    return sorted(await run(database.executor.run(lambda conn: sa.inspect(conn).get_table_names())))


async def staged(database: Any) -> list[str]:
    return [t for t in await every_table(database) if t.startswith("moltres_read_")]


# ------------------------------------------------------------------------------ both modes


async def test_every_format_loads_and_joins_with_tables(either: Any, tmp_path: Path) -> None:
    await seed(either)
    people = tmp_path / "people.csv"
    people.write_text(PEOPLE)
    scores = await run(either.read.csv(people))
    assert await run(scores.order_by("id").collect()) == [
        {"id": 1, "name": "Ada", "score": 9.5},
        {"id": 2, "name": "Alan", "score": None},
        {"id": 3, "name": "Grace", "score": 7.25},
    ]
    report = either.read.last_report
    assert report is not None and (report.rows, report.format) == (3, "csv")
    assert report.table.startswith("moltres_read_")
    joined = scores.join(either.table("orders"), on=[("id", "user_id")]).group_by("name").agg(F.count("*").alias("n"))
    assert await run(joined.order_by("name").collect()) == [{"name": "Ada", "n": 2}, {"name": "Alan", "n": 1}]

    (tmp_path / "a.json").write_text(json.dumps([{"id": 1, "tags": ["x"]}, {"id": 2, "tags": None}]))
    assert await run((await run(either.read.json(tmp_path / "a.json"))).select("id").order_by("id").collect()) == [
        {"id": 1},
        {"id": 2},
    ]
    with gzip.open(tmp_path / "events.jsonl.gz", "wt") as out:
        out.write('{"id": 1, "kind": "click"}\n{"id": 2, "kind": "view"}\n')
    events = await run(either.load(tmp_path / "events.jsonl.gz"))  # format and compression from the name
    assert await run(events.where(col("kind") == "view").collect()) == [{"id": 2, "kind": "view"}]
    (tmp_path / "app.log").write_text("GET /\nPOST /login\n")
    lines = await run(either.read.text(tmp_path / "app.log"))
    assert await run(lines.where(col("value").startswith("POST")).collect()) == [{"value": "POST /login"}]

    written = await run(either.table("users").write.mode("overwrite").parquet(tmp_path / "users.parquet"))
    assert written == 3
    users = await run(either.read.parquet(tmp_path / "users.parquet", columns=["id", "name"]))
    assert await run(users.order_by("id").select("name").collect()) == [
        {"name": "Ada"},
        {"name": "Alan"},
        {"name": "Grace"},
    ]
    semi = tmp_path / "semi.csv"
    semi.write_text("a;b\n1;2\n")
    built = await run(either.read.format("csv").option("sep", ";").load(semi))
    assert await run(built.collect()) == [{"a": 1, "b": 2}]
    assert await run((await run(either.read.table("users"))).count()) == 3


async def test_bad_value_names_file_line_and_column(either: Any, tmp_path: Path) -> None:
    path = tmp_path / "scores.csv"
    path.write_text("id,score\n1,10\n2,11\n3,twelve\n4,13\n")
    with pytest.raises(DataFormatError) as info:
        await run(either.read.csv(path, schema={"score": "INTEGER"}))
    err = info.value
    assert (err.path, err.line, err.column) == (str(path), 4, "score")
    assert "line 4" in str(err)
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b\n1,2\n3,4,5\n6,7\n")
    with pytest.raises(DataFormatError) as info:
        await run(either.read.csv(ragged, schema={"a": "INTEGER", "b": "INTEGER"}))
    assert (info.value.path, info.value.line) == (str(ragged), 3)
    assert await staged(either) == []


async def test_on_error_skip_and_null_count_bad_rows(either: Any, tmp_path: Path) -> None:
    path = tmp_path / "dirty.csv"
    path.write_text("a,b\n1,2\n3,x\n4,5,6\n7,8\n")
    schema = {"a": "INTEGER", "b": "INTEGER"}
    skipped = await run(either.read.csv(path, schema=schema, on_error="skip"))
    assert await run(skipped.order_by("a").collect()) == [{"a": 1, "b": 2}, {"a": 7, "b": 8}]
    report = either.read.last_report
    assert (report.rows, report.skipped, report.nulled) == (2, 2, 0)
    assert [(p.line, p.column) for p in report.problems] == [(3, "b"), (4, None)]
    nulled = await run(either.read.option("on_error", "null").csv(path, schema=schema))
    assert await run(nulled.count()) == 4
    assert (either.read.last_report.skipped, either.read.last_report.nulled) == (0, 2)


async def test_missing_file_and_bad_options_are_refused(either: Any, tmp_path: Path) -> None:
    (tmp_path / "users.csv").write_text("id\n1\n")
    with pytest.raises(SourceNotFoundError, match="file not found") as info:
        await run(either.read.csv(tmp_path / "user.csv"))
    assert "users.csv" in str(info.value.suggestion)
    with pytest.raises(ValidationError, match=r"unknown option\(s\) for csv: colour"):
        await run(either.read.option("colour", "red").csv(tmp_path / "users.csv"))
    with pytest.raises(ValidationError, match="unknown file format 'xml'"):
        either.read.format("xml")  # a builder: refused at once, in both modes


async def test_failed_load_leaves_nothing_behind(either: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # small batches, so that many are inserted before the bad row comes
    monkeypatch.setattr("moltres.io.formats.csv.ARROW_BLOCK", 1 << 12)
    monkeypatch.setattr("moltres.io.formats.csv.DEFAULT_BATCH", 100)
    path = tmp_path / "big.csv"
    path.write_text("id,value\n" + "".join(f"{i},{i * 2}\n" for i in range(3000)) + "3000,oops\n3001,1\n")
    await run(either.create_table("target", [column("id", "INTEGER"), column("value", "INTEGER")]))
    await run(either.insert("target", [{"id": -1, "value": 0}]))
    before = await every_table(either)
    with pytest.raises(DataFormatError) as info:
        await run(either.read.csv(path, into="target"))
    assert (info.value.line, info.value.column) == (3002, "value")
    with pytest.raises(DataFormatError):
        await run(either.read.csv(path, into="target", mode="overwrite"))
    assert await run(either.table("target").collect()) == [{"id": -1, "value": 0}]
    with pytest.raises(DataFormatError):
        await run(either.read.csv(path, schema={"value": "INTEGER"}))
    with pytest.raises(DataFormatError):
        await run(either.read.csv(path, into="fresh", schema={"value": "INTEGER"}))
    assert await every_table(either) == before


# ------------------------------------------------------------------------------ async only


async def test_the_loader_is_the_sync_one_awaited(adb: AsyncDatabase, tmp_path: Path) -> None:
    assert isinstance(adb.read, AsyncDataLoader) and adb.load is adb.read
    assert repr(adb.read.format("csv").options(sep=";", header=False)) == "DataLoader<csv delimiter=';' header=False>"
    path = tmp_path / "people.csv"
    path.write_text(PEOPLE)
    pending = adb.read.csv(path)
    assert asyncio.iscoroutine(pending)  # nothing ran yet
    df = await pending
    assert isinstance(df, AsyncDataFrame) and await df.columns == ["id", "name", "score"]
    assert adb.read.format("csv").last_report is adb.read.last_report  # builders share the report


async def test_the_file_is_parsed_off_the_event_loop(
    adb: AsyncDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: set[int] = set()
    parse = CsvFile.rows

    def spied(self: CsvFile, *args: Any, **kwargs: Any) -> Iterator[tuple[Any, ...]]:
        threads.add(threading.get_ident())
        yield from parse(self, *args, **kwargs)

    monkeypatch.setattr(CsvFile, "rows", spied)
    path = tmp_path / "rows.csv"
    path.write_text("a,b\n" + "".join(f"{i},{i}\n" for i in range(20_000)))
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0)
            ticks += 1

    other = asyncio.create_task(ticker())
    try:
        df = await adb.read.csv(path, on_error="skip")  # the Python parser
    finally:
        other.cancel()
    assert await df.count() == 20_000
    assert threads and threading.get_ident() not in threads  # parsed on a worker thread
    assert ticks > 10  # and the loop kept serving other tasks meanwhile


async def test_staged_rows_serve_fifty_concurrent_queries_and_go_on_close(
    pooled: AsyncDatabase, adb: AsyncDatabase, tmp_path: Path
) -> None:
    path = tmp_path / "nums.csv"
    path.write_text("n,sq\n" + "".join(f"{i},{i * i}\n" for i in range(50)))
    nums, again = await asyncio.gather(pooled.read.csv(path), pooled.read.csv(path))  # two loads at once
    results = await asyncio.gather(*(nums.where(col("n") == i).select("sq").collect() for i in range(50)))
    assert results == [[{"sq": i * i}] for i in range(50)]
    assert await again.count() == 50 and pool_of(pooled).checkedout() == 0
    report = pooled.read.last_report
    assert report is not None
    table = report.table
    assert await adb.table_exists(table)  # committed: other databases see it too
    await pooled.close()
    assert not await adb.table_exists(table)


async def test_a_load_joins_the_open_transaction(adb: AsyncDatabase, tmp_path: Path) -> None:
    await adb.create_table("target", [column("id", "INTEGER"), column("name", "TEXT")])
    path = tmp_path / "people.csv"
    path.write_text("id,name\n1,Ada\n2,Alan\n")

    class Undo(Exception):
        pass

    with pytest.raises(Undo):
        async with adb.transaction():
            loaded = await adb.read.csv(path, into="target")
            assert await loaded.count() == 2  # seen inside the transaction
            raise Undo
    assert await adb.table("target").count() == 0
    async with adb.transaction():
        await adb.read.csv(path, into="target")
        await adb.insert("target", [{"id": 3, "name": "Grace"}])
    assert await adb.table("target").count() == 3


async def test_a_cancelled_load_undoes_itself_and_frees_its_connection(
    pooled: AsyncDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("moltres.io.formats.csv.DEFAULT_BATCH", 500)
    inserted = threading.Event()
    parse = CsvFile.rows

    def slowed(self: CsvFile, *args: Any, **kwargs: Any) -> Iterator[tuple[Any, ...]]:
        for i, row in enumerate(parse(self, *args, **kwargs)):
            if i == 1000:  # two batches are in: from now on the load takes its time
                inserted.set()
            if i > 1000 and i % 500 == 0:
                time.sleep(0.01)
            yield row

    monkeypatch.setattr(CsvFile, "rows", slowed)
    await pooled.create_table("target", [column("id", "INTEGER"), column("value", "INTEGER")])
    path = tmp_path / "big.csv"
    path.write_text("id,value\n" + "".join(f"{i},{i}\n" for i in range(200_000)))
    before = await every_table(pooled)
    for into in ("target", None):
        inserted.clear()
        task = asyncio.create_task(pooled.read.csv(path, into=into, on_error="skip"))
        await eventually(inserted.is_set, within=10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await eventually(lambda: pool_of(pooled).checkedout() == 0) < 3
        assert await pooled.table("target").count() == 0  # nothing half-inserted
        assert await every_table(pooled) == before  # no staging table left behind
    loaded = await pooled.read.csv(path, into="target")  # the database still works
    assert await loaded.count() == 200_000
