"""Row changes on every backend: insert (and Records), update, delete, merge/upsert, execute.

Each returns the number of rows it affected; each is atomic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from moltres import col, lit
from moltres.io.records import Records
from moltres.sql.dialects.postgresql import CHECK_ROWS
from moltres.table.schema import column
from moltres.utils.exceptions import (
    ColumnNotFoundError,
    DataFormatError,
    ExecutionError,
    TableNotFoundError,
    ValidationError,
)

if TYPE_CHECKING:
    from moltres import Database

PEOPLE: list[dict[str, Any]] = [
    {"id": 1, "name": "Ada", "age": 36},
    {"id": 2, "name": "Alan", "age": 41},
    {"id": 3, "name": "Grace", "age": 85},
]


@pytest.fixture
def people(db: Database) -> Database:
    db.create_table(
        "people",
        [
            column("id", "INTEGER", primary_key=True),
            column("name", "VARCHAR(40)", nullable=False),
            column("age", "INTEGER"),
        ],
    ).collect()
    db.insert("people", PEOPLE)
    return db


def rows(db: Database) -> list[dict[str, Any]]:
    return db.table("people").order_by("id").collect()


# ------------------------------------------------------------------------------------ insert


def test_insert_returns_count_and_rows_arrive(people: Database) -> None:
    assert rows(people) == PEOPLE
    assert people.insert("people", [{"id": 4, "name": "Linus", "age": None}]) == 1
    assert people.insert("people", []) == 0
    assert rows(people)[-1] == {"id": 4, "name": "Linus", "age": None}


def test_insert_rows_with_missing_keys_get_null(people: Database) -> None:
    assert people.insert("people", [{"id": 4, "name": "A"}, {"id": 5, "name": "B", "age": 9}]) == 2
    assert rows(people)[3:] == [{"id": 4, "name": "A", "age": None}, {"id": 5, "name": "B", "age": 9}]


def test_insert_many_rows_in_batches(people: Database) -> None:
    many = [{"id": i, "name": f"n{i}", "age": i % 90} for i in range(10, 10_060)]  # two batches
    assert people.insert("people", many) == len(many)
    assert people.table("people").count() == len(many) + len(PEOPLE)
    assert people.table("people").where(col("id") == 10_059).first() == many[-1]


def test_insert_is_atomic(people: Database) -> None:
    # the last row breaks the primary key: none of the batch stays, even across batches
    bad = [{"id": i, "name": f"n{i}", "age": 1} for i in range(10, 2_010)] + [{"id": 1, "name": "dup", "age": 1}]
    with pytest.raises(ExecutionError, match="constraint"):
        people.insert("people", bad)
    assert rows(people) == PEOPLE


def test_large_insert_whose_later_rows_take_another_format(db: Database) -> None:
    # PostgreSQL checks a binary COPY's values chunk by chunk as it sends them: the ints in a
    # DOUBLE column after the first chunk cannot go in binary, so those rows go as text
    db.create_table(
        "t", [column("id", "INTEGER", primary_key=True), column("f", "DOUBLE"), column("s", "TEXT")]
    ).collect()
    n = CHECK_ROWS + 1000
    many = [{"id": i, "f": i if i > CHECK_ROWS + 500 else i + 0.5, "s": None if i % 7 else f"s{i}"} for i in range(n)]
    assert db.insert("t", many) == n
    got = db.table("t").order_by("id").collect()
    assert got == many
    assert all(isinstance(r["f"], float) for r in got)


def test_large_insert_with_a_bad_value_after_the_first_chunk(db: Database) -> None:
    if db.dialect_name != "postgresql":  # the others take or refuse a text in an INTEGER column their own way
        pytest.skip("COPY reports the line of a bad value on PostgreSQL")
    db.create_table("t", [column("id", "INTEGER", primary_key=True), column("n", "INTEGER")]).collect()
    bad = [{"id": i, "n": i if i != CHECK_ROWS + 500 else "x"} for i in range(CHECK_ROWS + 1000)]
    with pytest.raises(DataFormatError) as info:
        db.insert("t", bad)
    assert info.value.line == CHECK_ROWS + 501  # counted from the insert's first row, not from its second COPY's
    assert info.value.column == "n"
    assert db.table("t").count() == 0  # the rows of the first COPY are rolled back with the rest


def _wide(db: Database) -> list[dict[str, Any]]:
    db.create_table(
        "t",
        [column("id", "INTEGER", primary_key=True), column("a", "INTEGER"), column("b", "TEXT"), column("c", "TEXT")],
    ).collect()
    return [{"id": i, "a": i, "b": f"b{i}"} for i in range(2 * CHECK_ROWS + 100)]


def test_large_insert_with_other_keys_after_the_first_chunk(db: Database) -> None:
    # PostgreSQL makes the tuples a chunk at a time inside its COPY: the columns come from every
    # row, before the first chunk is sent
    many = _wide(db)
    many[CHECK_ROWS + 5] = {"id": CHECK_ROWS + 5, "b": "no a"}  # a key missing: NULL
    many[2 * CHECK_ROWS + 7] = {"id": 2 * CHECK_ROWS + 7, "a": 7, "c": "c, not b"}  # as many keys, another one
    assert db.insert("t", many) == len(many)
    got = db.table("t").order_by("id").collect()
    assert got == [{"a": None, "b": None, "c": None} | row for row in many]


@pytest.mark.parametrize("swap", [False, True])
def test_large_insert_with_an_unknown_key_after_the_first_chunk(db: Database, swap: bool) -> None:
    many = _wide(db)
    late = many[CHECK_ROWS + 5]
    if swap:  # as many keys as every other row: only its names tell
        del late["b"]
    late["bee"] = "x"
    with pytest.raises(ColumnNotFoundError) as info:
        db.insert("t", many)
    assert info.value.column == "bee"
    assert db.table("t").count() == 0


def test_large_insert_with_a_bad_value_after_a_text_chunk(db: Database) -> None:
    if db.dialect_name != "postgresql":  # the others take or refuse a text in an INTEGER column their own way
        pytest.skip("COPY reports the line of a bad value on PostgreSQL")
    db.create_table(
        "t", [column("id", "INTEGER", primary_key=True), column("a", "INTEGER"), column("f", "DOUBLE")]
    ).collect()
    many: list[dict[str, object]] = [{"id": i, "a": i, "f": i + 0.5} for i in range(3 * CHECK_ROWS)]
    many[CHECK_ROWS + 3]["f"] = 3  # no binary DOUBLE for an int: this chunk and the next go as text
    many[2 * CHECK_ROWS + 11]["a"] = "x"
    with pytest.raises(DataFormatError) as info:
        db.insert("t", many)
    assert (info.value.line, info.value.column) == (2 * CHECK_ROWS + 12, "a")  # from the insert's first row
    assert db.table("t").count() == 0


def test_large_insert_keeps_integers_at_the_ends_of_their_range(db: Database) -> None:
    db.create_table(
        "t", [column("id", "BIGINT", primary_key=True), column("n", "INTEGER"), column("s", "SMALLINT")]
    ).collect()
    ends = [(-(2**63), -(2**31), -(2**15)), (2**63 - 1, 2**31 - 1, 2**15 - 1)]
    many = [{"id": i, "n": i, "s": i % 100} for i in range(1, 1500)]
    many += [{"id": i, "n": n, "s": s} for i, n, s in ends]
    assert db.insert("t", many) == len(many)
    assert db.table("t").order_by("id").collect() == sorted(many, key=lambda r: r["id"])


@pytest.mark.parametrize(("name", "value"), [("n", 2**40 + 7), ("s", 70_000), ("id", 2**63)])
def test_large_insert_refuses_an_integer_out_of_its_column_range(db: Database, name: str, value: int) -> None:
    if db.dialect_name != "postgresql":  # SQLite stores any integer; the others refuse it their own way
        pytest.skip("COPY reports the line of a bad value on PostgreSQL")
    db.create_table(
        "t", [column("id", "BIGINT", primary_key=True), column("n", "INTEGER"), column("s", "SMALLINT")]
    ).collect()
    bad = [{"id": i, "n": i, "s": 1} for i in range(1500)]
    bad[700][name] = value  # binary COPY would have written it truncated
    with pytest.raises(DataFormatError, match="out of range") as info:
        db.insert("t", bad)
    assert (info.value.line, info.value.column) == (701, name)
    assert db.table("t").count() == 0


def test_insert_refuses_unknown_columns_and_tables(people: Database) -> None:
    with pytest.raises(ColumnNotFoundError) as info:
        people.insert("people", [{"id": 9, "nmae": "x"}])
    assert "name" in str(info.value.suggestion)
    with pytest.raises(TableNotFoundError) as tinfo:
        people.insert("peple", [{"id": 9}])
    assert "people" in str(tinfo.value.suggestion)
    with pytest.raises(ValidationError):
        people.insert("people", "not rows")
    with pytest.raises(ValidationError):
        people.insert("people", [("id", 1)])
    assert rows(people) == PEOPLE


def test_insert_from_pandas_and_polars(people: Database) -> None:
    pd = pytest.importorskip("pandas")
    pl = pytest.importorskip("polars")
    assert people.insert("people", pd.DataFrame([{"id": 4, "name": "P", "age": 1}])) == 1
    assert people.insert("people", pl.DataFrame([{"id": 5, "name": "Q", "age": 2}])) == 1
    assert [r["name"] for r in rows(people)[3:]] == ["P", "Q"]


def test_records_forms(people: Database) -> None:
    assert Records(_data=[{"id": 4, "name": "D", "age": 4}], _database=people).insert_into("people") == 1
    records = Records.from_list([{"id": 5, "name": "E", "age": 5}, {"id": 6, "name": "F", "age": 6}], database=people)
    assert len(records) == 2 and list(records) == records.rows
    assert records.insert_into("people") == 2
    assert Records.from_dicts([{"id": 7, "name": "G", "age": 7}], database=people).insert_into("people") == 1
    assert [r["id"] for r in rows(people)] == [1, 2, 3, 4, 5, 6, 7]
    with pytest.raises(ValidationError, match="not bound"):
        Records.from_list([{"id": 8, "name": "H"}]).insert_into("people")
    with pytest.raises(ValidationError):
        Records(_data=[1, 2], _database=people)  # type: ignore[list-item]


# ------------------------------------------------------------------------------------ update


def test_update_with_expression_where_and_set(people: Database) -> None:
    assert people.update("people", where=col("age") > 40, set={"age": col("age") + 1, "name": F_upper("name")}) == 2
    assert rows(people) == [
        {"id": 1, "name": "Ada", "age": 36},
        {"id": 2, "name": "ALAN", "age": 42},
        {"id": 3, "name": "GRACE", "age": 86},
    ]


def F_upper(name: str) -> Any:
    from moltres.expressions import functions as F

    return F.upper(name)


def test_update_with_string_where_and_literals(people: Database) -> None:
    assert people.update("people", where="id = 1 OR name = 'Grace'", set={"age": 0}) == 2
    assert [r["age"] for r in rows(people)] == [0, 41, 0]
    assert people.update("people", where=col("id") == 99, set={"age": 5}) == 0


def test_update_everything_and_to_null(people: Database) -> None:
    assert people.update("people", set={"age": None}) == 3
    assert {r["age"] for r in rows(people)} == {None}
    assert people.update("people", set={"age": lit(7)}) == 3


def test_update_errors_leave_table_unchanged(people: Database) -> None:
    with pytest.raises(ColumnNotFoundError):
        people.update("people", where=col("id") == 1, set={"agee": 1})
    with pytest.raises(ColumnNotFoundError):
        people.update("people", where=col("idd") == 1, set={"age": 1})
    with pytest.raises(ValidationError):
        people.update("people", where=col("id") == 1, set={})
    with pytest.raises(ExecutionError):
        people.update("people", where=col("id") == 1, set={"name": None})  # NOT NULL
    with pytest.raises(ExecutionError):
        people.update("people", set={"id": 1})  # duplicate keys
    assert rows(people) == PEOPLE


def test_repeated_updates_reuse_their_statement_with_each_ones_values(people: Database) -> None:
    # the statement is cached by shape; every call must still bind its own values
    for person in PEOPLE:
        assert people.update("people", where=col("id") == person["id"], set={"age": person["age"] * 2}) == 1
    assert [r["age"] for r in rows(people)] == [72, 82, 170]
    assert people.update("people", where="name = 'Ada'", set={"age": 1}) == 1
    assert people.update("people", where="name = 'Alan'", set={"age": 2}) == 1
    # a None value changes the SQL (IS NULL, SET age = NULL): same shape only for other Nones
    assert people.update("people", where=col("id") == 3, set={"age": None}) == 1
    assert people.update("people", where=col("age") == None, set={"age": 3}) == 1  # noqa: E711
    assert people.update("people", where=col("age") == 3, set={"age": None}) == 1
    assert [r["age"] for r in rows(people)] == [1, 2, None]
    for i in (1, 2):
        assert people.delete("people", where=col("id") == i) == 1
    assert [r["id"] for r in rows(people)] == [3]


def test_cached_update_follows_a_changed_table(people: Database) -> None:
    assert people.update("people", where=col("id") == 1, set={"age": 50}) == 1
    people.drop_table("people").collect()
    people.create_table("people", [column("id", "INTEGER", primary_key=True), column("age", "INTEGER")]).collect()
    people.insert("people", [{"id": 1, "age": 1}])
    assert people.update("people", where=col("id") == 1, set={"age": 51}) == 1
    with pytest.raises(ColumnNotFoundError):
        people.update("people", where=col("id") == 1, set={"name": "Ada"})
    assert people.table("people").collect() == [{"id": 1, "age": 51}]


# ------------------------------------------------------------------------------------ delete


def test_delete(people: Database) -> None:
    assert people.delete("people", where=col("age") < 50) == 2
    assert rows(people) == [PEOPLE[2]]
    assert people.delete("people", where="name = 'nobody'") == 0
    assert people.delete("people") == 1
    assert rows(people) == []


def test_delete_with_injection_value_deletes_nothing(people: Database) -> None:
    assert people.delete("people", where=col("name") == "x' OR '1'='1") == 0
    assert rows(people) == PEOPLE


# ------------------------------------------------------------------------------------ merge


def test_merge_inserts_and_updates(people: Database) -> None:
    changed = people.merge(
        "people", [{"id": 2, "name": "Alan T", "age": 42}, {"id": 4, "name": "Linus", "age": 28}], on="id"
    )
    assert changed == 2
    assert rows(people) == [
        PEOPLE[0],
        {"id": 2, "name": "Alan T", "age": 42},
        PEOPLE[2],
        {"id": 4, "name": "Linus", "age": 28},
    ]
    assert people.upsert("people", [{"id": 1, "name": "Ada L", "age": 37}], on=["id"]) == 1
    assert rows(people)[0] == {"id": 1, "name": "Ada L", "age": 37}
    assert people.merge("people", [], on="id") == 0


def test_merge_updates_only_chosen_columns(people: Database) -> None:
    people.merge("people", [{"id": 1, "name": "ignored", "age": 99}], on="id", update=["age"])
    assert rows(people)[0] == {"id": 1, "name": "Ada", "age": 99}
    people.merge(
        "people", [{"id": 1, "name": "ignored", "age": 1}, {"id": 5, "name": "New", "age": 5}], on="id", update=[]
    )
    assert rows(people)[0] == {"id": 1, "name": "Ada", "age": 99}
    assert rows(people)[-1] == {"id": 5, "name": "New", "age": 5}


def test_merge_on_composite_key(db: Database) -> None:
    db.create_table(
        "stock",
        [
            column("shop", "INTEGER", primary_key=True),
            column("item", "VARCHAR(10)", primary_key=True),
            column("qty", "INTEGER"),
        ],
    ).collect()
    db.insert("stock", [{"shop": 1, "item": "a", "qty": 1}, {"shop": 2, "item": "a", "qty": 2}])
    db.merge("stock", [{"shop": 1, "item": "a", "qty": 10}, {"shop": 1, "item": "b", "qty": 5}], on=["shop", "item"])
    got = db.table("stock").order_by("shop", "item").collect()
    assert [(r["shop"], r["item"], r["qty"]) for r in got] == [(1, "a", 10), (1, "b", 5), (2, "a", 2)]


def test_merge_errors(people: Database) -> None:
    with pytest.raises(ColumnNotFoundError):
        people.merge("people", [{"id": 1, "name": "x"}], on="idd")
    with pytest.raises(ValidationError, match="key column"):
        people.merge("people", [{"name": "x"}], on="id")
    with pytest.raises(ColumnNotFoundError):
        people.merge("people", [{"id": 1, "nmae": "x"}], on="id")
    assert rows(people) == PEOPLE


def test_merge_is_atomic(people: Database) -> None:
    with pytest.raises(ExecutionError):
        people.merge("people", [{"id": 2, "name": "changed", "age": 1}, {"id": 7, "name": None, "age": 1}], on="id")
    assert rows(people) == PEOPLE


# ------------------------------------------------------------------------------------ execute


def test_execute_raw_statement_with_parameters(people: Database) -> None:
    assert people.execute("UPDATE people SET age = age + :n WHERE id <= :id", n=1, id=2) == 2
    assert people.execute("DELETE FROM people WHERE name = :name", {"name": "Grace"}) == 1
    assert [r["age"] for r in rows(people)] == [37, 42]
    with pytest.raises(ValidationError):
        people.execute("  ")
    with pytest.raises(ExecutionError):
        people.execute("UPDATE nope SET x = 1")


def test_execute_ddl_is_seen_by_later_queries(people: Database) -> None:
    assert people.table("people").columns == ["id", "name", "age"]
    people.execute("ALTER TABLE people ADD COLUMN email VARCHAR(50)")
    assert people.table("people").columns == ["id", "name", "age", "email"]
