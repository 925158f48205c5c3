"""Whatever moltres writes to a file and reads back is what it started with (hypothesis)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from moltres.integrations.pytest import assert_dataframe_equal
from moltres.table.schema import column

if TYPE_CHECKING:
    from moltres import Database

COLUMNS = [
    column("id", "INTEGER"),
    column("n", "BIGINT"),
    column("x", "DOUBLE"),
    column("t", "TEXT"),
    column("b", "BOOLEAN"),
    column("d", "DATE"),
]
# quotes, separators, line breaks, backslashes and non-ASCII text: what breaks naive CSV and JSON
HOSTILE = st.text(
    alphabet=st.sampled_from(list("ab Z09,;\"'\n\\\t|{}[]:é中🙂"))
    | st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]),
    min_size=1,
    max_size=12,
)


@st.composite
def tables(draw: st.DrawFn) -> list[dict[str, Any]]:
    size = draw(st.integers(min_value=0, max_value=12))
    return [
        {
            "id": i,
            "n": draw(st.none() | st.integers(min_value=-(2**62), max_value=2**62)),
            "x": draw(st.none() | st.floats(allow_nan=False, allow_infinity=False, min_value=-1e300, max_value=1e300)),
            "t": draw(st.none() | HOSTILE),
            "b": draw(st.none() | st.booleans()),
            "d": draw(st.none() | st.dates(min_value=dt.date(1000, 1, 1), max_value=dt.date(9999, 12, 31))),
        }
        for i in range(size)
    ]


def _reset(db: Database, rows: list[dict[str, Any]]) -> None:
    for name in ("source", "copy"):
        db.drop_table(name).collect()
        db.create_table(name, COLUMNS).collect()
    db.insert("source", rows)


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "json", "parquet"])
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=tables())
def test_write_then_read_gives_the_rows_back(
    db: Database, tmp_path: Path, fmt: str, rows: list[dict[str, Any]]
) -> None:
    if fmt == "parquet":
        pytest.importorskip("pyarrow")
    _reset(db, rows)
    path = tmp_path / f"rows.{fmt}"
    written = db.table("source").write.mode("overwrite").save(path)
    assert written == len(rows)
    loaded = getattr(db.read, fmt)(path, into="copy")
    assert_dataframe_equal(loaded, db.table("source"), check_dtypes=False, rtol=0)
    assert loaded.count() == len(rows)
