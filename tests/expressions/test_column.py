"""The Column wrapper: which node each operator and method builds, immutability, and misuse.

Pure unit tests: no database.
"""

from __future__ import annotations

import datetime as dt
import decimal

import pytest

from moltres import col, lit
from moltres.expressions import functions as F
from moltres.expressions import nodes as n
from moltres.expressions.column import Column, column_of, to_node
from moltres.expressions.window import Window
from moltres.utils.exceptions import ValidationError

a, b = n.Col("a"), n.Col("b")


def L(value: object) -> n.Lit:
    return n.Lit(value, type(value))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("built", "node"),
    [
        (col("a") == 1, n.Compare(n.CompareOp.EQ, a, L(1))),
        (col("a") != "x", n.Compare(n.CompareOp.NE, a, L("x"))),
        (col("a") < col("b"), n.Compare(n.CompareOp.LT, a, b)),
        (col("a") <= 2.5, n.Compare(n.CompareOp.LE, a, L(2.5))),
        (col("a") > 0, n.Compare(n.CompareOp.GT, a, L(0))),
        (col("a") >= 0, n.Compare(n.CompareOp.GE, a, L(0))),
        (1 < col("a"), n.Compare(n.CompareOp.GT, a, L(1))),  # noqa: SIM300 - Python reflects it to a > 1
        (col("a") + 1, n.Add(a, L(1))),
        (1 + col("a"), n.Add(L(1), a)),
        (col("a") - col("b"), n.Sub(a, b)),
        (10 - col("a"), n.Sub(L(10), a)),
        (col("a") * 2, n.Mul(a, L(2))),
        (2 * col("a"), n.Mul(L(2), a)),
        (col("a") / 2, n.Div(a, L(2))),
        (2 / col("a"), n.Div(L(2), a)),
        (col("a") % 2, n.Mod(a, L(2))),
        (7 % col("a"), n.Mod(L(7), a)),
        (col("a") ** 2, n.Power(a, L(2))),
        (-col("a"), n.Neg(a)),
        (
            (col("a") > 1) & (col("b") < 2),
            n.And(n.Compare(n.CompareOp.GT, a, L(1)), n.Compare(n.CompareOp.LT, b, L(2))),
        ),
        ((col("a") > 1) | True, n.Or(n.Compare(n.CompareOp.GT, a, L(1)), L(True))),
        (True & col("a"), n.And(L(True), a)),
        (False | col("a"), n.Or(L(False), a)),
        (~col("a"), n.Not(a)),
        (col("a").is_null(), n.IsNull(a)),
        (col("a").isNull(), n.IsNull(a)),
        (col("a").is_not_null(), n.IsNotNull(a)),
        (col("a").isin([1, 2]), n.InList(a, (L(1), L(2)))),
        (col("a").isin(1, 2), n.InList(a, (L(1), L(2)))),
        (col("a").isin({3}), n.InList(a, (L(3),))),
        (col("a").isin(col("b")), n.InList(a, (b,))),
        (col("a").between(1, col("b")), n.Between(a, L(1), b)),
        (col("a").like("x%"), n.Like(a, L("x%"))),
        (col("a").ilike("x%"), n.ILike(a, L("x%"))),
        (col("a").rlike("^x"), n.RLike(a, L("^x"))),
        (col("a").startswith("x"), n.StartsWith(a, L("x"))),
        (col("a").startsWith("x"), n.StartsWith(a, L("x"))),
        (col("a").endswith("x"), n.EndsWith(a, L("x"))),
        (col("a").contains("x"), n.Contains(a, L("x"))),
        (col("a").cast(" INTEGER "), n.Cast(a, "INTEGER")),
        (col("a").alias("z"), n.Alias(a, "z")),
        (col("a").alias("y").alias("z"), n.Alias(a, "z")),
        (col("a").name_as("z"), n.Alias(a, "z")),
    ],
)
def test_operators_build_nodes(built: Column, node: n.Node) -> None:
    assert isinstance(built, Column)
    assert built.node == node


def test_literals_keep_their_python_type() -> None:
    assert lit(1).node != lit(1.0).node
    assert lit(1).node != lit(True).node
    for value in (
        None,
        "s",
        b"x",
        decimal.Decimal("1.5"),
        dt.date(2024, 1, 1),
        dt.datetime(2024, 1, 1, 1),
        dt.time(1),
        dt.timedelta(1),
    ):
        node = to_node(value)
        assert isinstance(node, n.Lit) and node.value == value and node.kind is type(value)
    assert to_node((1, 2)) == n.Lit((1, 2), tuple)
    assert to_node(col("a")) == a
    assert to_node(a) is a


def test_to_node_refuses_other_objects() -> None:
    for bad in (object(), {"a": 1}, [object()], {1, 2}):
        with pytest.raises(ValidationError, match="cannot use a value"):
            to_node(bad)
    with pytest.raises(ValidationError):
        col("a") + object()


def test_column_names_parse_qualifiers_and_stars() -> None:
    assert col("users.age").node == n.Col("age", "users")
    assert col("*").node == n.Star()
    assert col("u.*").node == n.Star("u")
    assert col("a b.c").node == n.Col("a b.c")  # a space means it is not table.column
    assert col("a.b.c").node == n.Col("a.b.c")
    assert column_of("x") == n.Col("x")
    assert column_of(col("x")) == n.Col("x")
    with pytest.raises(ValidationError):
        column_of(3)
    for bad in ("", None, 3):
        with pytest.raises(ValidationError):
            col(bad)  # type: ignore[arg-type]


def test_column_is_immutable_unhashable_and_has_no_truth_value() -> None:
    c = col("a")
    with pytest.raises(AttributeError):
        c.node = b
    with pytest.raises(TypeError):
        hash(c)
    with pytest.raises(ValidationError, match="truth value"):
        bool(col("a") > 1)
    with pytest.raises(ValidationError):
        if col("a") > 1 and col("b") > 2:  # the classic mistake: `and` instead of `&`
            pass
    with pytest.raises(ValidationError):
        _ = 1 < col("a") < 3  # a chained comparison needs bool() of the first
    with pytest.raises(TypeError):
        list(col("a"))


def test_equals_is_structural() -> None:
    assert (col("a") + 1).equals(col("a") + 1)
    assert not (col("a") + 1).equals(col("a") + 2)
    assert not col("a").equals(col("a").alias("a"))


def test_name() -> None:
    assert col("a").name == "a"
    assert col("t.a").name == "a"
    assert col("a").alias("b").name == "b"
    assert (col("a") + 1).name is None
    with pytest.raises(ValidationError):
        col("a").alias("")


@pytest.mark.parametrize(
    ("built", "descending", "nulls_first"),
    [
        (col("a").asc(), False, None),
        (col("a").desc(), True, None),
        (col("a").asc_nulls_first(), False, True),
        (col("a").asc_nulls_last(), False, False),
        (col("a").desc_nulls_first(), True, True),
        (col("a").desc_nulls_last(), True, False),
        (col("a").desc().nulls_first(), True, True),
        (col("a").desc().nulls_last(), True, False),
        (col("a").nulls_first(), False, True),
        (col("a").desc().asc(), False, None),
        (F.asc("a"), False, None),
        (F.desc("a"), True, None),
    ],
)
def test_sort_keys(built: Column, descending: bool, nulls_first: bool | None) -> None:
    assert built.node == n.SortKey(a, descending, nulls_first)


def test_when_chain_nodes() -> None:
    chain = F.when(col("a") > 1, "x").when(col("a") > 0, col("b")).otherwise(None)
    assert chain.node == n.Case(
        ((n.Compare(n.CompareOp.GT, a, L(1)), L("x")), (n.Compare(n.CompareOp.GT, a, L(0)), b)),
        n.Lit(None, type(None)),
    )


def test_over_builds_window_nodes() -> None:
    w = Window.partition_by("a").order_by(col("b").desc()).rows_between(Window.unbounded_preceding, 0)
    over = F.sum("b").over(w).node
    assert over == n.Over(n.Sum(b), (a,), (n.SortKey(b, True),), n.Frame("rows", None, 0))
    named = F.row_number().alias("rn").over(Window.order_by("a"))
    assert named.node == n.Alias(n.Over(n.RowNumber(), (), (n.SortKey(a),), None), "rn")
    assert F.count("*").over().node == n.Over(n.Count(n.Star()), (), (), None)
    spec = Window.partitionBy("a").orderBy("b").rangeBetween(-1, Window.unbounded_following)
    assert spec.frame == n.Frame("range", -1, None)


def test_nodes_and_plans_are_hashable_values() -> None:
    e1 = (col("a") + 1 > 2) & col("b").isin([1, 2])
    e2 = (col("a") + 1 > 2) & col("b").isin([1, 2])
    assert e1.node == e2.node
    assert hash(e1.node) == hash(e2.node)
    assert len({e1.node, e2.node}) == 1


def test_function_nodes() -> None:
    assert F.lower("a").node == n.Lower(a)
    assert F.substring("a", 2).node == n.Substring(a, L(2), None)
    assert F.coalesce("a", lit(0)).node == n.Coalesce((a, L(0)))
    assert F.round("a", 2).node == n.Round(a, 2)
    assert F.date_sub("a", 3).node == n.DateAdd(a, L(-3))
    assert F.date_trunc("MONTH", "a").node == n.DateTrunc(n.DatePart.MONTH, a)
    assert F.count().node == n.Count(n.Star())
    assert F.lag("a", 2, 0).node == n.Lag(a, 2, L(0))
    assert F.expr("a + 1").node == n.Add(a, L(1))
    assert F.col("a").node == a
