"""Properties with an oracle: random filters and arithmetic over a small generated table give the
same rows from the database as from Python.

Hypothesis draws a few rows (ints and floats with NULLs, short lowercase strings) and an
expression tree. The database evaluates it over the rows, held inline as ``VALUES`` (no DDL per
example); Python evaluates the same tree with SQL's semantics: NULL propagates, AND/OR/NOT
use three-valued logic, ``%`` keeps the dividend's sign, and WHERE keeps rows that are TRUE.

Values stay where every database computes exactly as Python does: small ints (no overflow),
floats that are multiples of 1/4 (exact in binary and in MySQL's decimals), division by
non-zero literals only, and no rounding of ties.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from moltres import col, lit
from moltres.expressions import functions as F

if TYPE_CHECKING:
    from moltres import Column, Database
    from tests._backends import Backend

Row = dict[str, Any]
Value = Any  # None (SQL NULL), bool, int, float or str

EXAMPLES = 25


@dataclass(frozen=True)
class Expr:
    """An expression twice: as a moltres Column, and as a Python function of a row."""

    column: Column
    evaluate: Callable[[Row], Value]
    text: str

    def __repr__(self) -> str:
        return self.text


def null_safe(fn: Callable[..., Value]) -> Callable[..., Value]:
    def apply(*args: Value) -> Value:
        return None if any(a is None for a in args) else fn(*args)

    return apply


def sql_and(a: Value, b: Value) -> Value:
    if a is False or b is False:
        return False
    if a is None or b is None:
        return None
    return True


def sql_or(a: Value, b: Value) -> Value:
    if a is True or b is True:
        return True
    if a is None or b is None:
        return None
    return False


def sql_not(a: Value) -> Value:
    return None if a is None else not a


def sql_mod(a: int, b: int) -> int:
    return int(math.fmod(a, b))  # truncated: the sign of the dividend, as in SQL


# ------------------------------------------------------------------------------------ strategies

ints = st.integers(min_value=-50, max_value=50)
quarters = st.integers(min_value=-400, max_value=400).map(lambda k: k / 4)
words = st.text(alphabet="abc", min_size=0, max_size=3)


@st.composite
def tables(draw: st.DrawFn) -> list[Row]:
    """3 to 8 rows; each column holds at least one non-NULL value (it gives the column its type)."""
    size = draw(st.integers(min_value=3, max_value=8))
    rows = [
        {
            "id": i,
            "a": draw(st.none() | ints),
            "b": draw(st.none() | ints),
            "x": draw(st.none() | quarters),
            "s": draw(st.none() | words),
        }
        for i in range(size)
    ]
    rows[0].update(a=draw(ints), b=draw(ints), x=draw(quarters), s=draw(words))
    return rows


def column_expr(name: str) -> Expr:
    return Expr(col(name), lambda r: r[name], name)


def literal_expr(value: int | float) -> Expr:
    return Expr(lit(value), lambda r: value, repr(value))


def leaf_int() -> st.SearchStrategy[Expr]:
    return st.sampled_from(["a", "b"]).map(column_expr) | st.integers(min_value=-20, max_value=20).map(literal_expr)


def int_exprs() -> st.SearchStrategy[Expr]:
    def extend(inner: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
        divisor = st.integers(min_value=-7, max_value=7).filter(bool)
        return (
            st.tuples(inner, inner).map(lambda p: binary(p, "+", lambda a, b: a + b))
            | st.tuples(inner, inner).map(lambda p: binary(p, "-", lambda a, b: a - b))
            | st.tuples(inner, inner).map(lambda p: binary(p, "*", lambda a, b: a * b))
            | inner.map(lambda e: Expr(-e.column, lambda r: null_safe(lambda v: -v)(e.evaluate(r)), f"-({e})"))
            | inner.map(lambda e: Expr(F.abs(e.column), lambda r: null_safe(abs)(e.evaluate(r)), f"abs({e})"))
            | st.tuples(inner, divisor).map(
                lambda p: Expr(
                    p[0].column % p[1], lambda r: null_safe(sql_mod)(p[0].evaluate(r), p[1]), f"({p[0]} % {p[1]})"
                )
            )
            | st.tuples(inner, st.integers(-5, 5)).map(
                lambda p: Expr(
                    F.coalesce(p[0].column, lit(p[1])),
                    lambda r: p[1] if p[0].evaluate(r) is None else p[0].evaluate(r),
                    f"coalesce({p[0]}, {p[1]})",
                )
            )
        )

    return st.recursive(leaf_int(), extend, max_leaves=4)


def binary(pair: tuple[Expr, Expr], op: str, fn: Callable[[Any, Any], Any]) -> Expr:
    left, right = pair
    column = {
        "+": lambda: left.column + right.column,
        "-": lambda: left.column - right.column,
        "*": lambda: left.column * right.column,
    }[op]()
    return Expr(column, lambda r: null_safe(fn)(left.evaluate(r), right.evaluate(r)), f"({left} {op} {right})")


def float_exprs() -> st.SearchStrategy[Expr]:
    leaf = st.just(column_expr("x")) | quarters.map(literal_expr)
    power = st.sampled_from([1, 2, 4, -2, 0.5])

    def extend(inner: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
        mixed = inner | int_exprs()
        return (
            st.tuples(inner, mixed).map(lambda p: binary(p, "+", lambda a, b: a + b))
            | st.tuples(inner, mixed).map(lambda p: binary(p, "-", lambda a, b: a - b))
            | st.tuples(inner, leaf).map(lambda p: binary(p, "*", lambda a, b: a * b))
            | st.tuples(mixed, power).map(
                lambda p: Expr(
                    p[0].column / p[1], lambda r: null_safe(lambda v: v / p[1])(p[0].evaluate(r)), f"({p[0]} / {p[1]})"
                )
            )
            | inner.map(
                lambda e: Expr(F.floor(e.column), lambda r: null_safe(math.floor)(e.evaluate(r)), f"floor({e})")
            )
            | inner.map(lambda e: Expr(F.ceil(e.column), lambda r: null_safe(math.ceil)(e.evaluate(r)), f"ceil({e})"))
        )

    return st.recursive(leaf, extend, max_leaves=3)


numbers = int_exprs() | float_exprs()

COMPARE: dict[str, tuple[Callable[[Column, Column], Column], Callable[[Any, Any], bool]]] = {
    "=": (lambda a, b: a == b, lambda a, b: a == b),
    "!=": (lambda a, b: a != b, lambda a, b: a != b),
    "<": (lambda a, b: a < b, lambda a, b: a < b),
    "<=": (lambda a, b: a <= b, lambda a, b: a <= b),
    ">": (lambda a, b: a > b, lambda a, b: a > b),
    ">=": (lambda a, b: a >= b, lambda a, b: a >= b),
}


def comparison(left: Expr, op: str, right: Expr) -> Expr:
    build, fn = COMPARE[op]
    return Expr(
        build(left.column, right.column),
        lambda r: null_safe(fn)(left.evaluate(r), right.evaluate(r)),
        f"({left} {op} {right})",
    )


def string_predicates() -> st.SearchStrategy[Expr]:
    s = Expr(col("s"), lambda r: r["s"], "s")
    return (
        words.map(lambda w: Expr(col("s") == w, lambda r: null_safe(lambda v: v == w)(r["s"]), f"(s = {w!r})"))
        | words.map(
            lambda w: Expr(
                col("s").startswith(w), lambda r: null_safe(lambda v: v.startswith(w))(r["s"]), f"startswith(s, {w!r})"
            )
        )
        | words.map(
            lambda w: Expr(col("s").contains(w), lambda r: null_safe(lambda v: w in v)(r["s"]), f"contains(s, {w!r})")
        )
        | st.integers(0, 3).map(
            lambda k: Expr(F.length("s") > k, lambda r: null_safe(lambda v: len(v) > k)(r["s"]), f"(length(s) > {k})")
        )
        | st.just(Expr(s.column.is_null(), lambda r: r["s"] is None, "s IS NULL"))
    )


def atoms() -> st.SearchStrategy[Expr]:
    ops = st.sampled_from(sorted(COMPARE))
    return (
        st.builds(comparison, numbers, ops, numbers)
        | int_exprs().map(
            lambda e: Expr(e.column.is_not_null(), lambda r: e.evaluate(r) is not None, f"{e} IS NOT NULL")
        )
        | st.tuples(int_exprs(), st.lists(st.integers(-10, 10), min_size=1, max_size=4)).map(
            lambda p: Expr(
                p[0].column.isin(p[1]), lambda r: null_safe(lambda v: v in p[1])(p[0].evaluate(r)), f"{p[0]} IN {p[1]}"
            )
        )
        | st.tuples(numbers, st.integers(-20, 0), st.integers(0, 20)).map(
            lambda p: Expr(
                p[0].column.between(p[1], p[2]),
                lambda r: null_safe(lambda v: p[1] <= v <= p[2])(p[0].evaluate(r)),
                f"{p[0]} BETWEEN {p[1]} AND {p[2]}",
            )
        )
        | string_predicates()
    )


def predicates() -> st.SearchStrategy[Expr]:
    def extend(inner: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
        return (
            st.tuples(inner, inner).map(
                lambda p: Expr(
                    p[0].column & p[1].column,
                    lambda r: sql_and(p[0].evaluate(r), p[1].evaluate(r)),
                    f"({p[0]} AND {p[1]})",
                )
            )
            | st.tuples(inner, inner).map(
                lambda p: Expr(
                    p[0].column | p[1].column,
                    lambda r: sql_or(p[0].evaluate(r), p[1].evaluate(r)),
                    f"({p[0]} OR {p[1]})",
                )
            )
            | inner.map(lambda e: Expr(~e.column, lambda r: sql_not(e.evaluate(r)), f"NOT {e}"))
        )

    return st.recursive(atoms(), extend, max_leaves=3)


# ------------------------------------------------------------------------------------ properties


@pytest.fixture(scope="module")
def database(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    from moltres import connect

    with backend.fresh(tmp_path_factory.mktemp(backend.name)) as url, connect(url) as db:
        yield db


SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)


@SETTINGS
@given(rows=tables(), predicate=predicates())
def test_filter_matches_python(database: Database, rows: list[Row], predicate: Expr) -> None:
    df = database.create_dataframe(rows).where(predicate.column).select("id")
    got = sorted(r["id"] for r in df.collect())
    want = [r["id"] for r in rows if predicate.evaluate(r) is True]
    assert got == want, f"{predicate} over {rows}"


@SETTINGS
@given(rows=tables(), expression=numbers)
def test_arithmetic_matches_python(database: Database, rows: list[Row], expression: Expr) -> None:
    df = database.create_dataframe(rows).select("id", expression.column.alias("v")).order_by("id")
    got = [r["v"] for r in df.collect()]
    want = [expression.evaluate(r) for r in rows]
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        if w is None or g is None:
            assert g is w, f"{expression} over {rows}: {got} != {want}"
        else:
            assert float(g) == pytest.approx(w, rel=1e-9, abs=1e-9), f"{expression} over {rows}: {got} != {want}"


@settings(SETTINGS, max_examples=10)
@given(rows=tables(), predicate=predicates(), expression=numbers)
def test_filter_then_compute_then_count(database: Database, rows: list[Row], predicate: Expr, expression: Expr) -> None:
    # the same pieces through a derived table and an aggregate: WHERE, then a projection, then count()
    df = database.create_dataframe(rows).where(predicate.column).with_column("v", expression.column)
    kept = [r for r in rows if predicate.evaluate(r) is True]
    assert df.count() == len(kept)
    nulls = df.where(col("v").is_null()).count()
    assert nulls == sum(1 for r in kept if expression.evaluate(r) is None)
