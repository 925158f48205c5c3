"""The compiled-SQL cache is keyed by plan shape: a statement compiled for one plan is reused,
with new values, for every plan of the same shape. That is only right if everything the
compiled statement depends on, besides the values, is in the shape.

The oracle: for two plans `a` and `b` of equal shape, the statement compiled for `a` and run with
`b`'s values must send the driver exactly what compiling `b` itself sends (the same SQL and the
same parameters). If `b` cannot be compiled at all, it must not share `a`'s shape, or the cache
would run it. Every case is checked on each dialect's compiler, offline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from moltres import col, connect, lit
from moltres.expressions import functions as F
from moltres.expressions import nodes as n
from moltres.logical import plan as p
from moltres.logical.rewrites import parameterize
from moltres.sql.catalog import StaticCatalog
from moltres.sql.compiler import CompiledQuery
from moltres.sql.dialects import compiler_for
from moltres.utils.exceptions import MoltresError
from tests._backends import BACKENDS

if TYPE_CHECKING:
    from moltres import Database
    from moltres.dataframe.dataframe import DataFrame

CATALOG = StaticCatalog(
    {
        "users": {"id": "INTEGER", "name": "VARCHAR(50)", "age": "INTEGER", "born": "DATE"},
        "orders": {"id": "BIGINT", "user_id": "INTEGER", "amount": "DOUBLE", "placed": "TIMESTAMP"},
        "shifts": {"id": "INTEGER", "starts": "TIME"},
    },
    sql_columns={
        "SELECT id FROM users WHERE age > :n": ["id"],
        "SELECT id FROM orders WHERE amount > :n": ["id"],
        "SELECT id FROM users WHERE age > :p0": ["id"],
    },
)

UTC = dt.timezone.utc


@pytest.fixture(scope="module")
def db() -> Iterator[Database]:
    """Only builds DataFrames: every plan here is compiled offline against CATALOG."""
    with connect("sqlite://") as database:
        yield database


def compile_plan(plan: p.Plan, dialect: str) -> CompiledQuery:
    return compiler_for(dialect).compile(plan, CATALOG)  # a new compiler: alias numbers start at 0


def driver_form(compiled: CompiledQuery, values: list[Any]) -> tuple[str, dict[str, Any]]:
    """What the driver receives: the SQL text and every parameter's value."""
    form = compiled.statement.compile(dialect=compiled.dialect)
    return form.string, dict(form.construct_params(compiled.params(values)))


def check_cache(a: p.Plan, b: p.Plan, dialect: str) -> bool:
    """Apply the oracle to `a` (compiled first, so cached) and `b`; return whether they share a shape."""
    shape_a, values_a = parameterize(a)
    shape_b, values_b = parameterize(b)
    try:
        fresh = compile_plan(b, dialect)
    except MoltresError:
        assert shape_a != shape_b, "a plan that cannot compile shares the shape of a cached one"
        return False
    if shape_a != shape_b:
        return False
    cached = compile_plan(a, dialect)
    assert cached.param_count == len(values_a) == len(values_b)
    assert driver_form(cached, values_b) == driver_form(fresh, values_b)
    return True


Build = Callable[["Database", Any], "DataFrame"]


def cte_self_join(db: Database, values: tuple[int, int]) -> DataFrame:
    left = db.table("orders").where(col("amount") > values[0]).cte("big")
    right = db.table("orders").where(col("amount") > values[1]).cte("big")
    return left.join(right.alias("b2"), on=col("big.id") == col("b2.id"))


def cte_reused(db: Database, value: int) -> DataFrame:
    big = db.table("orders").where(col("amount") > value).cte("big")  # one object, used twice
    return big.join(big.alias("b2"), on=(col("big.user_id") == col("b2.user_id")) & (col("big.id") < lit(value)))


def nested_ctes(db: Database, values: tuple[int, int]) -> DataFrame:
    inner = db.table("users").where(col("age") > values[0]).cte("inner")
    outer = inner.where(col("id") > values[1]).cte("outer")
    return outer.join(inner.alias("i2"), on=col("outer.id") == col("i2.id"))


def raw_union(db: Database, values: tuple[int, int]) -> DataFrame:
    first = db.sql("SELECT id FROM users WHERE age > :n", n=values[0])
    return first.union_all(db.sql("SELECT id FROM orders WHERE amount > :n", n=values[1]))


def raw_named_like_ours(db: Database, values: tuple[int, int]) -> DataFrame:
    return db.sql("SELECT id FROM users WHERE age > :p0", p0=values[0]).where(col("id") < values[1])


def int_filter(db: Database, value: int) -> DataFrame:
    return db.table("orders").where(col("id") == value).select("id", (col("user_id") + value).alias("next"))


def timestamp_filter(db: Database, value: dt.datetime) -> DataFrame:
    return db.table("orders").where(col("placed") >= value)


def time_filter(db: Database, value: dt.time) -> DataFrame:
    return db.table("shifts").where(col("starts") < value)


def main_shapes(db: Database, values: tuple[int, str, dt.date, float]) -> DataFrame:
    age, name, day, amount = values
    users = db.table("users").where((col("age") >= age) & col("name").like(name) & (col("born") < day))
    orders = db.table("orders").where(col("amount") > amount)
    return (
        users.join(orders, on=[("id", "user_id")])
        .group_by("name")
        .agg(F.sum("amount").alias("total"), F.count("*").alias("n"))
        .where(col("total") > amount)
        .order_by(col("total").desc())
        .limit(5)
    )


# (how to build the query, its values the first time, values that must share its SQL, values that must not)
CASES: dict[str, tuple[Build, Any, list[Any], list[Any]]] = {
    "cte-self-join": (cte_self_join, (5, 5), [(15, 15)], [(5, 15), (15, 5)]),
    "cte-reused": (cte_reused, 5, [15], []),
    "nested-ctes": (nested_ctes, (30, 1), [(40, 2)], []),
    "raw-sql-sources": (raw_union, (30, 5), [], [(40, 1), (30, 30)]),  # raw SQL values are in the shape
    "raw-sql-p0": (raw_named_like_ours, (30, 5), [], [(40, 1), (5, 30)]),
    "int-beyond-32-bits": (int_filter, 7, [-7, 2**31 - 1], [2**31, -(2**40), 2**62]),
    "timestamp-time-zone": (
        timestamp_filter,
        dt.datetime(2024, 1, 1, 12),
        [dt.datetime(2025, 6, 1)],
        [dt.datetime(2024, 1, 1, 12, tzinfo=UTC), dt.datetime(2025, 6, 1, tzinfo=dt.timezone(dt.timedelta(hours=2)))],
    ),
    "time-time-zone": (time_filter, dt.time(9), [dt.time(17, 30)], [dt.time(9, tzinfo=UTC)]),
    "main-shapes": (main_shapes, (18, "A%", dt.date(1950, 1, 1), 10.0), [(30, "B%", dt.date(1990, 5, 5), 0.5)], []),
}


@pytest.mark.parametrize("dialect", BACKENDS)
@pytest.mark.parametrize("case", CASES)
def test_reused_statement_sends_what_a_fresh_compile_sends(db: Database, case: str, dialect: str) -> None:
    build, first, sharing, apart = CASES[case]
    cached = build(db, first).plan
    for values in sharing:
        assert check_cache(cached, build(db, values).plan, dialect), f"{values} should reuse the statement of {first}"
    for values in apart:
        assert not check_cache(cached, build(db, values).plan, dialect), f"{values} must not reuse {first}'s statement"
    # and the other way round: whichever of the two is compiled first
    for values in [*sharing, *apart]:
        check_cache(build(db, values).plan, cached, dialect)


def test_a_cte_used_again_gives_its_values_once(db: Database) -> None:
    same_object = parameterize(cte_reused(db, 5).plan)
    equal_copies = parameterize(cte_self_join(db, (5, 5)).plan)
    different = parameterize(cte_self_join(db, (5, 15)).plan)
    assert same_object[1] == [5, 5]  # the CTE's 5 once, then the join condition's
    assert equal_copies[1] == [5]
    assert different[1] == [5, 15]
    assert equal_copies[0] != different[0]


def test_cte_names_inside_a_cte_of_the_same_name_are_refused(db: Database) -> None:
    inner = db.table("users").where(col("age") > 30).cte("x")
    outer = inner.where(col("id") > 1).cte("x")
    for dialect in BACKENDS:
        with pytest.raises(MoltresError, match="both named 'x'"):
            compile_plan(outer.plan, dialect)


def test_in_list_literals_are_typed_by_their_first_item() -> None:
    def shape(items: tuple[Any, ...]) -> Any:
        return parameterize(n.Lit(items, tuple))[0]

    assert shape((1, 2)) == shape((3, 4))
    assert shape((1, 2)) != shape((1, 2, 3))
    assert shape((1, 2)) != shape(("1", "2"))
    assert shape((1, 2)) != shape((2**40, 2))
    assert shape((dt.datetime(2024, 1, 1),)) != shape((dt.datetime(2024, 1, 1, tzinfo=UTC),))
    assert shape(()) == shape(())


@pytest.mark.parametrize("dialect", BACKENDS)
def test_raw_sql_parameters_keep_their_own_values(db: Database, dialect: str) -> None:
    # two raw queries both using :n, and a raw :p0 beside moltres's own p0: each keeps its value
    for query, expected in [(raw_union(db, (30, 5)), [5, 30]), (raw_named_like_ours(db, (30, 5)), [5, 30])]:
        compiled = compile_plan(query.plan, dialect)
        _, sent = driver_form(compiled, parameterize(query.plan)[1])
        assert sorted(sent.values()) == expected
