"""The restricted evaluator behind moltres_query, on its own (no Django database involved)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from moltres import Database, col, column, connect, lit
from moltres.expressions import functions
from moltres.integrations.django._restricted import ExpressionRefused, RestrictedEvaluator, function_namespace


@pytest.fixture
def evaluator() -> Iterator[RestrictedEvaluator]:
    db: Database = connect("sqlite://")
    db.create_table("t", [column("id", "INTEGER", primary_key=True), column("name", "TEXT")]).collect()
    db.insert("t", [{"id": 1, "name": "Ada"}, {"id": 2, "name": "Bob"}])
    yield RestrictedEvaluator({"db": db, "col": col, "lit": lit, "F": function_namespace(functions, "F")})
    db.close()


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("db.table('t').where((col('id') > 1) | (col('name') == 'Ada')).count()", 2),
        ("db.table('t').where(~(col('id') == 1)).collect()[0]['name']", "Bob"),
        ("db.table('t').select(F.lower(col('name')).alias('n')).order_by('n').collect()[-1]", {"n": "bob"}),
        ("db.table('t').where(col('id') >= -1 + 2 * 1).count()", 2),
        ("db.table('t').where(col('id') != 2).where(col('id') <= 1).where(col('id') < 5).count()", 1),
        ("db.table('t').select('name').limit(1).collect()", [{"name": "Ada"}]),
        ("{'a': [1, 2.5, None, True], 'b': (1,)}", {"a": [1, 2.5, None, True], "b": (1,)}),
        ("+1 - 2 % 2 / 1", 1.0),
    ],
)
def test_allowed(evaluator, source, expected):
    assert evaluator.evaluate(source) == expected


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("db.table(*['t'])", "*arguments"),
        ("db.table(**{'name': 't'})", "**arguments"),
        ("{**{'a': 1}}", "**mapping"),
        ("'a'[0]", "indexing a str"),
        ("db.table('t').collect()[col('id')]", "the index"),
        ("2 ** 3", "the operator Pow"),
        ("1 in [1]", "the comparison In"),
        ("col('id') > 1 or col('id') < 0", "'or'"),
        ("b'bytes'", "the constant"),
        ("db.connection", "'connection'"),
        ("1 if True else 0", "IfExp syntax"),
        ("F.nope", "F.nope is not allowed"),
        ("F.lower.__name__", "'__name__'"),
        ("x", "unknown name"),
        ("_private", "private"),
        ("(", "not a valid expression"),
    ],
)
def test_refused(evaluator, source, message):
    with pytest.raises(ExpressionRefused) as info:
        evaluator.evaluate(source)
    assert message in str(info.value)


def test_run_assignments_and_statements(evaluator):
    assert evaluator.run("n = db.table('t').count()") == ("n", 2)
    assert evaluator.run("n") == (None, 2)
    with pytest.raises(ExpressionRefused, match="not allowed"):
        evaluator.run("_n = 1")
    with pytest.raises(ExpressionRefused, match="one expression or one assignment"):
        evaluator.run("a = 1; b = 2")
    with pytest.raises(ExpressionRefused, match="Delete statements"):
        evaluator.run("del n")
    with pytest.raises(ExpressionRefused, match="not a valid expression"):
        evaluator.run("def f(:")
    with pytest.raises(ExpressionRefused, match="Assign statements"):
        evaluator.run("a = b = 1")


def test_writes_are_opt_in():
    db = connect("sqlite://")
    db.create_table("t", [column("id", "INTEGER")]).collect()
    assert RestrictedEvaluator({"db": db}, allow_writes=True).evaluate("db.insert('t', [{'id': 1}])") == 1
    with pytest.raises(ExpressionRefused, match="--allow-writes"):
        RestrictedEvaluator({"db": db}).evaluate("db.insert('t', [{'id': 2}])")
    db.close()
