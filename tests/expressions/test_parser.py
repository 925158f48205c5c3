"""Parsing expression strings into nodes: the grammar, precedence, errors and hostile input."""

from __future__ import annotations

import dataclasses
import datetime as dt
import doctest
import math
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moltres.expressions import nodes as n
from moltres.expressions import parser
from moltres.expressions.parser import MAX_DEPTH, MAX_LENGTH, parse_expression, parse_select_item
from moltres.utils.exceptions import ValidationError


def c(name: str, table: str | None = None) -> n.Col:
    return n.Col(name, table)


def lit(value: object) -> n.Lit:
    return n.Lit(value, type(value))  # type: ignore[arg-type]


a, b, x = c("a"), c("b"), c("x")


def parse_error(text: str) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        parse_expression(text)
    return info.value


# ------------------------------------------------------------------------------------ literals


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("42", lit(42)),
        ("0", lit(0)),
        ("3.5", lit(3.5)),
        ("1.", lit(1.0)),
        (".25", lit(0.25)),
        ("1e3", lit(1000.0)),
        ("2.5E-2", lit(0.025)),
        ("-7", lit(-7)),
        ("- 7", lit(-7)),
        ("+7", lit(7)),
        ("-1.5", lit(-1.5)),
        ("'hello'", lit("hello")),
        ("''", lit("")),
        ("'it''s'", lit("it's")),
        ("TRUE", lit(True)),
        ("false", lit(False)),
        ("NULL", n.Lit(None, type(None))),
        ("null", n.Lit(None, type(None))),
        ("DATE '2024-02-29'", n.Lit(dt.date(2024, 2, 29), dt.date)),
        ("date '2024-01-31'", n.Lit(dt.date(2024, 1, 31), dt.date)),
        ("TIMESTAMP '2024-01-02 03:04:05'", n.Lit(dt.datetime(2024, 1, 2, 3, 4, 5), dt.datetime)),
        (
            "TIMESTAMP '2024-01-02T03:04:05.250000'",
            n.Lit(dt.datetime(2024, 1, 2, 3, 4, 5, 250000), dt.datetime),
        ),
    ],
)
def test_literals(text: str, expected: n.Node) -> None:
    assert parse_expression(text) == expected


def test_int_float_and_bool_literals_stay_distinct() -> None:
    assert parse_expression("1").kind is int  # type: ignore[attr-defined]
    assert parse_expression("1.0").kind is float  # type: ignore[attr-defined]
    assert parse_expression("TRUE").kind is bool  # type: ignore[attr-defined]


def test_negated_parenthesized_literal_stays_a_negation() -> None:
    assert parse_expression("-(5)") == n.Neg(lit(5))
    assert parse_expression("-5 || x") == n.Neg(n.Concat((lit(5), x)))


def test_date_and_timestamp_are_column_names_when_no_string_follows() -> None:
    assert parse_expression("date > DATE '2024-01-01'") == n.Compare(
        n.CompareOp.GT, c("date"), n.Lit(dt.date(2024, 1, 1), dt.date)
    )
    assert parse_expression("timestamp") == c("timestamp")


# ------------------------------------------------------------------------------------ names


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("age", c("age")),
        ("_private", c("_private")),
        ("col_2", c("col_2")),
        ("prénom", c("prénom")),
        ("名前", c("名前")),
        ('"first name"', c("first name")),
        ('"select"', c("select")),
        ('"say ""hi"""', c('say "hi"')),
        ("`order`", c("order")),
        ("`a``b`", c("a`b")),
        ("users.age", c("age", "users")),
        ('u."first name"', c("first name", "u")),
        ("`t`.`c`", c("c", "t")),
        ("t.end", c("end", "t")),
        ("Age", c("Age")),
    ],
)
def test_names(text: str, expected: n.Node) -> None:
    assert parse_expression(text) == expected


def test_bare_current_date_and_timestamp_are_functions() -> None:
    assert parse_expression("current_date") == n.CurrentDate()
    assert parse_expression("CURRENT_DATE()") == n.CurrentDate()
    assert parse_expression("current_timestamp") == n.CurrentTimestamp()
    assert parse_expression('"current_date"') == c("current_date")


# ------------------------------------------------------------------------------------ operators


@pytest.mark.parametrize(
    ("op", "expected"),
    [
        ("=", n.CompareOp.EQ),
        ("==", n.CompareOp.EQ),
        ("!=", n.CompareOp.NE),
        ("<>", n.CompareOp.NE),
        ("<", n.CompareOp.LT),
        ("<=", n.CompareOp.LE),
        (">", n.CompareOp.GT),
        (">=", n.CompareOp.GE),
    ],
)
def test_comparisons(op: str, expected: n.CompareOp) -> None:
    assert parse_expression(f"a {op} 1") == n.Compare(expected, a, lit(1))
    assert parse_expression(f"a{op}b") == n.Compare(expected, a, b)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a OR b AND x", n.Or(a, n.And(b, x))),
        ("a AND b OR x", n.Or(n.And(a, b), x)),
        ("(a OR b) AND x", n.And(n.Or(a, b), x)),
        ("a or b or x", n.Or(n.Or(a, b), x)),
        ("NOT a AND b", n.And(n.Not(a), b)),
        ("NOT a = 1", n.Not(n.Compare(n.CompareOp.EQ, a, lit(1)))),
        ("NOT NOT a", n.Not(n.Not(a))),
        (
            "a = 1 AND b = 2",
            n.And(n.Compare(n.CompareOp.EQ, a, lit(1)), n.Compare(n.CompareOp.EQ, b, lit(2))),
        ),
        ("a + b * x", n.Add(a, n.Mul(b, x))),
        ("(a + b) * x", n.Mul(n.Add(a, b), x)),
        ("a - b - x", n.Sub(n.Sub(a, b), x)),
        ("a / b % x", n.Mod(n.Div(a, b), x)),
        ("-a * b", n.Mul(n.Neg(a), b)),
        ("-(a * b)", n.Neg(n.Mul(a, b))),
        ("a - -b", n.Sub(a, n.Neg(b))),
        ("a + b > x", n.Compare(n.CompareOp.GT, n.Add(a, b), x)),
        ("a || b", n.Concat((a, b))),
        ("a || b || x", n.Concat((a, b, x))),
        ("(a || b) || x", n.Concat((n.Concat((a, b)), x))),
        ("a + b || x", n.Add(a, n.Concat((b, x)))),
        ("-a || b", n.Neg(n.Concat((a, b)))),
        ("(a = b) = TRUE", n.Compare(n.CompareOp.EQ, n.Compare(n.CompareOp.EQ, a, b), lit(True))),
    ],
)
def test_precedence(text: str, expected: n.Node) -> None:
    assert parse_expression(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a IS NULL", n.IsNull(a)),
        ("a is not null", n.IsNotNull(a)),
        ("a + 1 IS NULL", n.IsNull(n.Add(a, lit(1)))),
        ("a IN (1, 2, 3)", n.InList(a, (lit(1), lit(2), lit(3)))),
        ("a IN ('x')", n.InList(a, (lit("x"),))),
        ("a IN (b, b + 1)", n.InList(a, (b, n.Add(b, lit(1))))),
        ("a NOT IN (1)", n.Not(n.InList(a, (lit(1),)))),
        ("a BETWEEN 1 AND 10", n.Between(a, lit(1), lit(10))),
        ("a BETWEEN b + 1 AND x * 2", n.Between(a, n.Add(b, lit(1)), n.Mul(x, lit(2)))),
        ("a NOT BETWEEN 1 AND 10", n.Not(n.Between(a, lit(1), lit(10)))),
        ("a BETWEEN 1 AND 10 AND b", n.And(n.Between(a, lit(1), lit(10)), b)),
        ("a LIKE 'A%'", n.Like(a, lit("A%"))),
        ("a NOT LIKE 'A%'", n.Not(n.Like(a, lit("A%")))),
        ("a ILIKE 'a%'", n.ILike(a, lit("a%"))),
        ("a not ilike 'a%'", n.Not(n.ILike(a, lit("a%")))),
        ("a RLIKE '^A'", n.RLike(a, lit("^A"))),
        ("a REGEXP '^A'", n.RLike(a, lit("^A"))),
        ("a NOT REGEXP '^A'", n.Not(n.RLike(a, lit("^A")))),
        ("NOT a IS NULL", n.Not(n.IsNull(a))),
    ],
)
def test_predicates(text: str, expected: n.Node) -> None:
    assert parse_expression(text) == expected


def test_the_example_from_the_brief() -> None:
    assert parse_expression("age > 25 AND name LIKE 'A%'") == n.And(
        n.Compare(n.CompareOp.GT, c("age"), lit(25)), n.Like(c("name"), lit("A%"))
    )


# ------------------------------------------------------------------------------------ CASE and CAST


def test_case() -> None:
    assert parse_expression("CASE WHEN a > 1 THEN 'big' WHEN a > 0 THEN 'small' ELSE 'none' END") == n.Case(
        (
            (n.Compare(n.CompareOp.GT, a, lit(1)), lit("big")),
            (n.Compare(n.CompareOp.GT, a, lit(0)), lit("small")),
        ),
        lit("none"),
    )
    assert parse_expression("case when a then 1 end") == n.Case(((a, lit(1)),))
    assert parse_expression("CASE WHEN a THEN 1 END + 1") == n.Add(n.Case(((a, lit(1)),)), lit(1))


@pytest.mark.parametrize(
    ("text", "to"),
    [
        ("CAST(a AS INTEGER)", "INTEGER"),
        ("cast(a as text)", "TEXT"),
        ("CAST(a AS VARCHAR(20))", "VARCHAR(20)"),
        ("CAST(a AS DECIMAL(10, 2))", "DECIMAL(10,2)"),
        ("CAST(a AS double precision)", "DOUBLE PRECISION"),
        ("CAST(a AS DATE)", "DATE"),
    ],
)
def test_cast(text: str, to: str) -> None:
    assert parse_expression(text) == n.Cast(a, to)


# ------------------------------------------------------------------------------------ functions


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("lower(a)", n.Lower(a)),
        ("LOWER(a)", n.Lower(a)),
        ("upper(a)", n.Upper(a)),
        ("trim(a)", n.Trim(a)),
        ("ltrim(a)", n.LTrim(a)),
        ("rtrim(a)", n.RTrim(a)),
        ("length(a)", n.Length(a)),
        ("len(a)", n.Length(a)),
        ("substr(a, 2)", n.Substring(a, lit(2))),
        ("substring(a, 2, 3)", n.Substring(a, lit(2), lit(3))),
        ("concat(a, ' ', b)", n.Concat((a, lit(" "), b))),
        ("concat(a)", n.Concat((a,))),
        ("replace(a, 'x', 'y')", n.Replace(a, lit("x"), lit("y"))),
        ("coalesce(a, b, 0)", n.Coalesce((a, b, lit(0)))),
        ("abs(a)", n.Abs(a)),
        ("round(a)", n.Round(a)),
        ("round(a, 2)", n.Round(a, 2)),
        ("round(a, -1)", n.Round(a, -1)),
        ("floor(a)", n.Floor(a)),
        ("ceil(a)", n.Ceil(a)),
        ("ceiling(a)", n.Ceil(a)),
        ("sqrt(a)", n.Sqrt(a)),
        ("power(a, 2)", n.Power(a, lit(2))),
        ("pow(a, b)", n.Power(a, b)),
        ("mod(a, 3)", n.Mod(a, lit(3))),
        ("year(a)", n.Extract(n.DatePart.YEAR, a)),
        ("month(a)", n.Extract(n.DatePart.MONTH, a)),
        ("day(a)", n.Extract(n.DatePart.DAY, a)),
        ("hour(a)", n.Extract(n.DatePart.HOUR, a)),
        ("minute(a)", n.Extract(n.DatePart.MINUTE, a)),
        ("second(a)", n.Extract(n.DatePart.SECOND, a)),
        ("current_timestamp()", n.CurrentTimestamp()),
        ("date_add(a, 7)", n.DateAdd(a, lit(7))),
        ("datediff(a, b)", n.DateDiff(a, b)),
        ("date_trunc('month', a)", n.DateTrunc(n.DatePart.MONTH, a)),
        ("date_trunc('YEAR', a)", n.DateTrunc(n.DatePart.YEAR, a)),
        ("count(*)", n.Count(n.Star())),
        ("count(a)", n.Count(a)),
        ("count(t.*)", n.Count(n.Star("t"))),
        ("count(DISTINCT a)", n.CountDistinct(a)),
        ("COUNT(distinct t.a)", n.CountDistinct(c("a", "t"))),
        ("sum(a)", n.Sum(a)),
        ("avg(a * 2)", n.Avg(n.Mul(a, lit(2)))),
        ("min(a)", n.Min(a)),
        ("max(a)", n.Max(a)),
        ("stddev(a)", n.StdDev(a)),
        ("upper(lower(trim(a)))", n.Upper(n.Lower(n.Trim(a)))),
        ("sum(a) / count(*)", n.Div(n.Sum(a), n.Count(n.Star()))),
    ],
)
def test_functions(text: str, expected: n.Node) -> None:
    assert parse_expression(text) == expected


# ------------------------------------------------------------------------------------ select items


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("price * qty AS total", n.Alias(n.Mul(c("price"), c("qty")), "total")),
        ("price * qty as total", n.Alias(n.Mul(c("price"), c("qty")), "total")),
        ("price * qty total", n.Alias(n.Mul(c("price"), c("qty")), "total")),
        ('a AS "Total Price"', n.Alias(a, "Total Price")),
        ("a `x y`", n.Alias(a, "x y")),
        ("count(*) AS n", n.Alias(n.Count(n.Star()), "n")),
        ("a", a),
        ("a + 1", n.Add(a, lit(1))),
        ("*", n.Star()),
        ("t.*", n.Star("t")),
        (" * ", n.Star()),
    ],
)
def test_select_items(text: str, expected: n.Node) -> None:
    assert parse_select_item(text) == expected


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("a AS", 4, "expected an alias after AS"),
        ("a AS 'total'", 5, "expected an alias after AS"),
        ("a AS b c", 7, "unexpected 'c'"),
        ("* AS everything", 2, "unexpected keyword AS"),
        ("a, b", 1, "unexpected ','"),
        ("a AS end", 5, "expected an alias after AS"),
    ],
)
def test_select_item_errors(text: str, position: int, fragment: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_select_item(text)
    assert info.value.context["position"] == position
    assert fragment in info.value.message


# ------------------------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("text", "position", "fragment", "suggests"),
    [
        ("a +", 3, "expected an expression, found the end", "complete"),
        ("a = = b", 4, "expected an expression, found '='", "value"),
        ("(a + b", 6, "expected ')' to close the '(' at position 0", "')'"),
        ("a + b)", 5, "unexpected ')'", "matching '('"),
        ("a b", 2, "unexpected 'b'", "end of the expression"),
        ("a, b", 1, "unexpected ','", "one expression"),
        ("price AS total", 6, "unexpected keyword AS", "select_expr"),
        ("1 < x < 10", 6, "comparisons cannot be chained", "BETWEEN"),
        ("a = b IS NULL", 6, "comparisons cannot be chained", "AND"),
        ("a IN ()", 6, "at least one value", "IN (1, 2, 3)"),
        ("a IN 1", 5, "expected '(' to open the IN list", "'('"),
        ("a IN (1, 2", 10, "',' or ')' to close the IN list", "')'"),
        ("a BETWEEN 1", 11, "expected AND between the two bounds", "AND"),
        ("a IS 1", 5, "expected NULL after IS", "NULL"),
        ("a IS NOT TRUE", 9, "expected NULL after IS NOT", "NULL"),
        ("a NOT = 1", 6, "expected IN, BETWEEN, LIKE", "NOT (a = b)"),
        ("CASE a WHEN 1 THEN 2 END", 5, "expected WHEN after CASE", "searched form"),
        ("CASE WHEN a THEN 1", 18, "expected WHEN, ELSE or END", "END"),
        ("CASE WHEN a 1 END", 12, "expected THEN", "THEN"),
        ("CAST(a)", 6, "expected AS and a type name", "AS"),
        ("CAST(a AS)", 9, "expected a type name", "INTEGER"),
        ("CAST(a AS INT8)", 10, "'INT8' is not a type name", "letters"),
        ("CAST(a AS VARCHAR(x))", 18, "expected a whole number", "VARCHAR(20)"),
        ("CAST(a AS VARCHAR(1.5))", 18, "expected a whole number", "VARCHAR(20)"),
        ("CAST(a AS TEXT", 14, "expected ')' to close the CAST", "')'"),
        ("lower(a, b)", 0, "lower() takes 1 argument, got 2", "lower(text)"),
        ("lower()", 0, "lower() takes 1 argument, got 0", "lower(text)"),
        ("substr(a)", 0, "substr() takes 2 to 3 arguments, got 1", "substring(text, start[, length])"),
        ("coalesce()", 0, "coalesce() takes 1 or more arguments, got 0", "coalesce(a, b, ...)"),
        ("current_date(1)", 0, "current_date() takes 0 arguments, got 1", "current_date()"),
        ("round(a, b)", 9, "whole number of digits", "round(x, 2)"),
        ("round(a, 1.5)", 9, "whole number of digits", "round(x, 2)"),
        ("date_trunc(a, b)", 11, "unit as a quoted string", "'month'"),
        ("date_trunc('fortnight', b)", 11, "unknown date_trunc unit 'fortnight'", "'month'"),
        ("sum(DISTINCT a)", 4, "DISTINCT is only supported in count()", "count(DISTINCT x)"),
        ("sum(*)", 4, "'*' is only allowed as count(*)", "name the columns"),
        ("lower(a", 7, "',' or ')' to close the arguments of lower()", "')'"),
        ("lowr(name)", 0, "unknown function lowr()", "did you mean lower()?"),
        ("a.b.c", 3, "table.column, with no more parts", "schema"),
        ("a.", 2, "expected a column name after '.'", "table.column"),
        ("'unterminated", 0, "unterminated string", "''"),
        ('"unterminated', 0, "unterminated quoted name", '""'),
        ("`unterminated", 0, "unterminated quoted name", "``"),
        ('""', 0, "a quoted name cannot be empty", "column name"),
        ("1abc", 1, "right after the number 1", "cannot start with a digit"),
        ("a @ b", 2, "unexpected character '@'", "names, literals"),
        ("a && b", 2, "unexpected character '&'", "AND"),
        ("a | b", 2, "unexpected character '|'", "OR"),
        ("!a", 0, "unexpected character '!'", "NOT"),
        ("a = ?", 4, "unexpected character '?'", "bound parameters"),
        ("a = :x", 4, "unexpected character ':'", "bound parameters"),
        ("a[0]", 1, "unexpected character '['", "subscripts"),
        ("end > 1", 0, "found keyword END", 'quote it: "end"'),
        ("a IN (SELECT id FROM t)", 6, "subqueries are not supported", "join()"),
        ("DATE '2024-13-01'", 5, "'2024-13-01' is not a valid date", "DATE '2024-01-31'"),
        ("DATE '24-1-1'", 5, "is not a valid date", "DATE"),
        ("TIMESTAMP 'noon'", 10, "is not a valid timestamp", "TIMESTAMP '2024-01-31 13:45:00'"),
        ("1e999", 0, "out of range", "smaller"),
        ("*", 0, "'*' is only allowed as count(*)", "name the columns"),
        ("a = 1 OVER (PARTITION BY b)", 6, "unexpected 'OVER'", "end of the expression"),
    ],
)
def test_errors_point_at_the_position_and_say_what_was_expected(
    text: str, position: int, fragment: str, suggests: str
) -> None:
    error = parse_error(text)
    assert error.context["position"] == position
    assert fragment in error.message
    assert error.suggestion is not None
    assert suggests in error.suggestion


def test_error_message_shows_a_caret_under_the_position() -> None:
    error = parse_error("age > 25 AND AND x")
    lines = error.message.splitlines()
    assert lines[1] == "    age > 25 AND AND x"
    assert lines[2] == "    " + " " * 13 + "^"


def test_error_excerpt_of_a_long_expression_is_cut_around_the_position() -> None:
    text = "a + " * 100 + "@"
    lines = parse_error(text).message.splitlines()
    assert len(lines[1]) < 100
    assert lines[1].strip().startswith("...")
    assert lines[2].index("^") == lines[1].index("@")


def test_unknown_function_lists_the_supported_ones() -> None:
    error = parse_error("xyzzy(a)")
    assert error.suggestion is not None
    assert "did you mean" not in error.suggestion
    for name in ("lower", "coalesce", "date_trunc", "count", "stddev"):
        assert name in error.suggestion


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_input_is_rejected(text: str) -> None:
    assert "empty" in parse_error(text).message


def test_non_string_input_is_rejected() -> None:
    with pytest.raises(ValidationError, match="must be a string"):
        parse_expression(42)  # type: ignore[arg-type]


def test_over_long_input_is_rejected_before_parsing() -> None:
    assert parse_expression("a" * MAX_LENGTH) == c("a" * MAX_LENGTH)
    error = parse_error("a" * (MAX_LENGTH + 1))
    assert f"the limit is {MAX_LENGTH}" in error.message


def test_huge_integers_are_an_error_not_a_crash() -> None:
    error = parse_error("9" * 5000)
    assert "too long" in error.message


@pytest.mark.parametrize(
    ("make", "depth"),
    [
        (lambda d: "(" * d + "a" + ")" * d, MAX_DEPTH),
        (lambda d: "lower(" * d + "a" + ")" * d, MAX_DEPTH),
        (lambda d: "NOT " * d + "a", MAX_DEPTH),
        (lambda d: "- " * d + "a", MAX_DEPTH),
    ],
)
def test_nesting_up_to_the_limit_parses_and_beyond_is_a_clear_error(make, depth) -> None:
    assert isinstance(parse_expression(make(depth - 1)), n.Node)
    error = parse_error(make(depth + 1))
    assert f"deeper than {MAX_DEPTH} levels" in error.message


def test_nesting_far_beyond_the_limit_is_a_validation_error_not_a_recursion_error() -> None:
    text = "(" * 4000 + "a" + ")" * 4000
    assert "deeper than" in parse_error(text).message


def test_deep_caller_stack_gives_a_validation_error_not_a_recursion_error() -> None:
    def recurse(levels: int) -> ValidationError:
        if levels:
            return recurse(levels - 1)
        return parse_error("lower(" * (MAX_DEPTH - 1) + "a" + ")" * (MAX_DEPTH - 1))

    room = sys.getrecursionlimit() - 250
    assert "too deeply" in recurse(room).message


# ------------------------------------------------------------------------------------ hostile input


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("1; DROP TABLE users", 1, "';' is not allowed"),
        ("age > 1; DELETE FROM users", 7, "';' is not allowed"),
        ("age > 1 -- x", 8, "comments are not allowed"),
        ("age > 1 /* x */", 8, "comments are not allowed"),
        ("age > 1--", 7, "comments are not allowed"),
        ("__import__('os')", 0, "unknown function __import__()"),
        ("eval('1')", 0, "unknown function eval()"),
        ("os.system('rm -rf /')", 9, "unexpected '('"),
        ("pg_sleep(10)", 0, "unknown function pg_sleep()"),
        ("a UNION SELECT * FROM users", 2, "unexpected 'UNION'"),
        ("1 OR 1=1; --", 8, "';' is not allowed"),
        ("a\x00", 1, "unexpected character '\\x00'"),
    ],
)
def test_hostile_inputs_are_rejected(text: str, position: int, fragment: str) -> None:
    error = parse_error(text)
    assert error.context["position"] == position
    assert fragment in error.message


def test_import_is_never_executed() -> None:
    before = set(sys.modules)
    parse_error("__import__('antigravity')")
    assert "antigravity" not in sys.modules
    assert set(sys.modules) == before


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("'Robert''); DROP TABLE students;--'", "Robert'); DROP TABLE students;--"),
        ("'/* not a comment */'", "/* not a comment */"),
        ("'-- not a comment'", "-- not a comment"),
        (r"'C:\new\table'", r"C:\new\table"),
        (r"'\'", "\\"),
        ("'😀 ünïcödé 名前'", "😀 ünïcödé 名前"),
        ("'line one\nline two'", "line one\nline two"),
        ("'\"double\" `back`'", '"double" `back`'),
        ("'%_'", "%_"),
    ],
)
def test_string_literals_keep_their_contents_as_values(text: str, value: str) -> None:
    assert parse_expression(text) == lit(value)


def test_a_backslash_does_not_escape_a_quote() -> None:
    # MySQL-style \' escapes would make the rest of the text part of the string; here the
    # string ends at the quote and the rest is parsed as ordinary, harmless syntax.
    assert parse_expression(r"a = '\' OR 1 = 1") == n.Or(
        n.Compare(n.CompareOp.EQ, a, lit("\\")), n.Compare(n.CompareOp.EQ, lit(1), lit(1))
    )


def test_injection_through_a_quoted_name_stays_a_column_name() -> None:
    assert parse_expression('"x; DROP TABLE y" = 1') == n.Compare(n.CompareOp.EQ, c("x; DROP TABLE y"), lit(1))


# ------------------------------------------------------------------------------------ properties

_KEYWORDS = {
    "and", "or", "not", "is", "null", "in", "between", "like", "ilike", "rlike", "regexp", "case", "when",
    "then", "else", "end", "true", "false", "cast", "as", "distinct", "select", "date", "timestamp",
    "current_date", "current_timestamp",
}  # fmt: skip
_bare_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True).filter(lambda s: s.lower() not in _KEYWORDS)
_any_names = st.text(min_size=1, max_size=8)

_literals = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1).map(lambda v: n.Lit(v, int)),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda v: n.Lit(v, float)),
    st.text(max_size=10).map(lambda v: n.Lit(v, str)),
    st.booleans().map(lambda v: n.Lit(v, bool)),
    st.just(n.Lit(None, type(None))),
    st.dates().map(lambda v: n.Lit(v, dt.date)),
    st.datetimes().map(lambda v: n.Lit(v, dt.datetime)),
)
_columns = st.builds(n.Col, st.one_of(_bare_names, _any_names), st.none() | _bare_names | _any_names)
_leaves = st.one_of(_literals, _columns, st.just(n.CurrentDate()), st.just(n.CurrentTimestamp()))


def _extend(children: st.SearchStrategy[n.Node]) -> st.SearchStrategy[n.Node]:
    some = st.lists(children, min_size=1, max_size=3).map(tuple)
    return st.one_of(
        *(st.builds(cls, children, children) for cls in (n.Add, n.Sub, n.Mul, n.Div, n.Mod, n.And, n.Or)),
        st.builds(n.Compare, st.sampled_from(n.CompareOp), children, children),
        *(children.map(cls) for cls in (n.Neg, n.Not, n.IsNull, n.IsNotNull, n.Lower, n.Abs, n.Sum, n.Count)),
        *(st.builds(cls, children, children) for cls in (n.Like, n.ILike, n.RLike, n.Power, n.DateDiff)),
        st.builds(n.InList, children, some),
        st.builds(n.Between, children, children, children),
        st.lists(children, min_size=2, max_size=3).map(lambda parts: n.Concat(tuple(parts))),
        some.map(n.Coalesce),
        st.builds(n.Round, children, st.integers(-3, 3)),
        st.builds(n.Substring, children, children, st.none() | children),
        st.builds(n.Extract, st.sampled_from(n.DatePart), children),
        st.builds(n.DateTrunc, st.sampled_from(n.DatePart), children),
        st.builds(n.Cast, children, st.sampled_from(["INTEGER", "VARCHAR(20)", "DECIMAL(10,2)", "DOUBLE PRECISION"])),
        st.builds(
            n.Case,
            st.lists(st.tuples(children, children), min_size=1, max_size=2).map(tuple),
            st.none() | children,
        ),
        children.map(n.CountDistinct),
        st.just(n.Count(n.Star())),
    )


_trees = st.recursive(_leaves, _extend, max_leaves=12)

# The binding power each node needs from its surroundings, mirroring the parser's table.
_POWER = {n.Or: 10, n.And: 20, n.Not: 30, n.Add: 50, n.Sub: 50, n.Mul: 60, n.Div: 60, n.Mod: 60, n.Neg: 70}
_PREDICATES = (n.Compare, n.IsNull, n.IsNotNull, n.InList, n.Between, n.Like, n.ILike, n.RLike)
_INFIX = {n.Or: "OR", n.And: "AND", n.Add: "+", n.Sub: "-", n.Mul: "*", n.Div: "/", n.Mod: "%"}
_PATTERN = {n.Like: "LIKE", n.ILike: "ilike", n.RLike: "RLIKE"}
_CALLS = {
    n.Lower: "lower",
    n.Abs: "ABS",
    n.Sum: "sum",
    n.Count: "count",
    n.Power: "power",
    n.DateDiff: "datediff",
}


def _power(node: n.Node) -> int:
    if isinstance(node, _PREDICATES):
        return 40
    if isinstance(node, n.Concat):
        return 80
    if isinstance(node, n.Lit) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return 70 if node.value < 0 or math.copysign(1, node.value) < 0 else 100
    return _POWER.get(type(node), 100)


def _wrap(node: n.Node, above: int) -> str:
    """Render `node`, in parentheses unless it binds tighter than `above`."""
    text = render(node)
    return text if _power(node) > above else f"({text})"


def render(node: n.Node) -> str:
    """Render a node as text the parser reads back to the same node."""
    if isinstance(node, n.Lit):
        value = node.value
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return "TRUE" if value else "false"
        if isinstance(value, (int, float)):
            return repr(value)
        if isinstance(value, str):
            return "'" + value.replace("'", "''") + "'"
        if isinstance(value, dt.datetime):
            return f"TIMESTAMP '{value.isoformat()}'"
        assert isinstance(value, dt.date)
        return f"date '{value.isoformat()}'"
    if isinstance(node, n.Col):
        name = node.name if node.name.isidentifier() and node.name.lower() not in _KEYWORDS else _quote(node.name)
        return name if node.table is None else f"{_quote(node.table)}.{name}"
    if isinstance(node, n.CurrentDate):
        return "current_date"
    if isinstance(node, n.CurrentTimestamp):
        return "CURRENT_TIMESTAMP()"
    if type(node) in _INFIX:
        power = _POWER[type(node)]
        left, right = node.left, node.right  # type: ignore[attr-defined]
        return f"{_wrap(left, power - 1)} {_INFIX[type(node)]} {_wrap(right, power)}"
    if isinstance(node, n.Neg):
        # "-5" would read back as the literal -5, so a number under a minus is parenthesized.
        inner = render(node.arg)
        if isinstance(node.arg, n.Lit) or _power(node.arg) < 70:
            inner = f"({inner})"
        return f"- {inner}"
    if isinstance(node, n.Not):
        return f"NOT {_wrap(node.arg, 29)}"
    if isinstance(node, n.Compare):
        return f"{_wrap(node.left, 40)} {node.op.value} {_wrap(node.right, 40)}"
    if isinstance(node, (n.IsNull, n.IsNotNull)):
        return f"{_wrap(node.arg, 40)} IS {'NOT ' if isinstance(node, n.IsNotNull) else ''}NULL"
    if isinstance(node, n.InList):
        return f"{_wrap(node.arg, 40)} IN ({', '.join(render(v) for v in node.values)})"
    if isinstance(node, n.Between):
        return f"{_wrap(node.arg, 40)} BETWEEN {_wrap(node.low, 40)} AND {_wrap(node.high, 40)}"
    if type(node) in _PATTERN:
        return f"{_wrap(node.arg, 40)} {_PATTERN[type(node)]} {_wrap(node.pattern, 40)}"  # type: ignore[attr-defined]
    if isinstance(node, n.Concat):
        return " || ".join(_wrap(part, 80) for part in node.args)
    if isinstance(node, n.Coalesce):
        return f"coalesce({', '.join(render(v) for v in node.args)})"
    if isinstance(node, n.Round):
        return f"round({render(node.arg)}, {node.digits})"
    if isinstance(node, n.Substring):
        length = "" if node.length is None else f", {render(node.length)}"
        return f"substr({render(node.arg)}, {render(node.start)}{length})"
    if isinstance(node, n.Extract):
        return f"{node.part.value}({render(node.arg)})"
    if isinstance(node, n.DateTrunc):
        return f"date_trunc('{node.unit.value}', {render(node.arg)})"
    if isinstance(node, n.Cast):
        return f"CAST({render(node.arg)} AS {node.to})"
    if isinstance(node, n.Case):
        whens = " ".join(f"WHEN {render(w)} THEN {render(t)}" for w, t in node.whens)
        default = "" if node.default is None else f" ELSE {render(node.default)}"
        return f"CASE {whens}{default} END"
    if isinstance(node, n.CountDistinct):
        return f"count(DISTINCT {render(node.arg)})"
    if isinstance(node, n.Count) and isinstance(node.arg, n.Star):
        return "COUNT(*)"
    if type(node) in _CALLS:
        args = [getattr(node, field.name) for field in dataclasses.fields(node)]
        return f"{_CALLS[type(node)]}({', '.join(render(arg) for arg in args)})"
    raise AssertionError(f"no rendering for {node!r}")


def _is_bare(name: str) -> bool:
    return (
        (name[0].isalpha() or name[0] == "_")
        and all(ch.isalnum() or ch == "_" for ch in name)
        and name.lower() not in _KEYWORDS
    )


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@settings(deadline=None)
@given(_trees)
def test_rendered_trees_parse_back_to_equal_nodes(tree: n.Node) -> None:
    assert parse_expression(render(tree)) == tree


@settings(deadline=None)
@given(_trees, st.sampled_from(["", " AS ", " "]), st.one_of(_bare_names, _any_names))
def test_rendered_select_items_parse_back(tree: n.Node, separator: str, alias: str) -> None:
    if not separator:
        assert parse_select_item(render(tree)) == tree
    else:
        assert parse_select_item(render(tree) + separator + _quote(alias)) == n.Alias(tree, alias)


@given(st.text())
def test_any_string_literal_round_trips_as_a_value(value: str) -> None:
    assert parse_expression("'" + value.replace("'", "''") + "'") == n.Lit(value, str)


@settings(deadline=None)
@given(st.text(max_size=60) | st.text(alphabet="ab1'\"`()-+*/%|=<>!;. ,\n", max_size=60))
def test_arbitrary_text_parses_or_raises_validation_error_only(text: str) -> None:
    try:
        assert isinstance(parse_expression(text), n.Node)
    except ValidationError as error:
        assert isinstance(error.context.get("position", 0), int)


def test_docstring_examples_run() -> None:
    failures, tried = doctest.testmod(parser, optionflags=doctest.ELLIPSIS)
    assert tried > 0
    assert failures == 0
