"""Parse SQL-style expression strings into expression nodes, never into SQL text.

``df.where("age > 25 AND name LIKE 'A%'")``, ``df.select_expr("price * qty AS total")`` and
``F.expr(...)`` all come through here. The text is tokenized and parsed by hand into the nodes
of :mod:`moltres.expressions.nodes`: literals become :class:`~moltres.expressions.nodes.Lit`
nodes (bound parameters), names become :class:`~moltres.expressions.nodes.Col` nodes (checked
by the compiler against the known columns), and anything outside the grammar is a
:class:`~moltres.utils.exceptions.ValidationError` that points at the offending position.
No part of the input is ever pasted into SQL.

Grammar, loosest binding first (keywords are case-insensitive)::

    OR < AND < NOT < comparisons (= == != <> < <= > >=, IS [NOT] NULL, [NOT] IN (...),
    [NOT] BETWEEN a AND b, [NOT] LIKE / ILIKE / RLIKE / REGEXP) < + - < * / % < unary - +
    < || (string concatenation) < literals, names, f(...), CASE, CAST, ( ... )

Example:
    >>> parse_expression("price * qty > 100")
    Compare(op=<CompareOp.GT: '>'>, left=Mul(left=Col(name='price', table=None), right=Col(name='qty', table=None)), right=Lit(value=100, kind=<class 'int'>))
"""  # noqa: E501 - the example output is one line

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal

from moltres.expressions import nodes as n
from moltres.utils.exceptions import ValidationError, closest_match

__all__ = ["MAX_DEPTH", "MAX_LENGTH", "parse_expression", "parse_select_item"]

MAX_LENGTH: Final = 10_000
"""The longest expression string accepted, in characters."""

MAX_DEPTH: Final = 200
"""How deeply sub-expressions may nest (parentheses, calls, NOT and unary minus chains)."""

# ------------------------------------------------------------------------------------ tokens

_Kind = Literal["number", "string", "name", "quoted", "op", "end"]


@dataclass(frozen=True, slots=True)
class _Token:
    kind: _Kind
    text: str  # the source text; for strings and quoted names, the unescaped value
    pos: int
    value: int | float | None = None  # numbers only


_NUMBER = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_OPERATORS = ("||", "<=", ">=", "<>", "!=", "==", "=", "<", ">", "+", "-", "*", "/", "%", "(", ")", ",", ".")
_CHARACTER_HINTS = {
    "&": "write AND instead of & or &&",
    "|": "write OR instead of |; || joins strings",
    "!": "write NOT for negation; != means 'not equal'",
    "?": "placeholders are not needed: literals in the expression are sent as bound parameters",
    ":": "placeholders are not needed: literals in the expression are sent as bound parameters",
    "[": "subscripts are not supported; use a function such as json_extract via the F module",
    "\\": "backslashes only appear inside 'quoted strings', where they are ordinary characters",
}


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, size = 0, len(text)
    while i < size:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif text.startswith(("--", "/*"), i):
            raise _error(
                text,
                i,
                "SQL comments are not allowed",
                "remove the comment; an expression string holds only the expression",
            )
        elif ch == ";":
            raise _error(text, i, "';' is not allowed", "an expression string holds one expression, never a statement")
        elif "0" <= ch <= "9" or (ch == "." and text[i + 1 : i + 2].isdigit() and not _ends_operand(tokens)):
            tokens.append(_number(text, i))
            i += len(tokens[-1].text)
        elif ch == "'":
            value, i_end = _quoted(text, i, "'", "string")
            tokens.append(_Token("string", value, i))
            i = i_end
        elif ch in '"`':
            value, i_end = _quoted(text, i, ch, "quoted name")
            if not value:
                raise _error(text, i, "a quoted name cannot be empty", "put the column name between the quotes")
            tokens.append(_Token("quoted", value, i))
            i = i_end
        elif ch.isalpha() or ch == "_":
            end = i + 1
            while end < size and (text[end].isalnum() or text[end] == "_"):
                end += 1
            tokens.append(_Token("name", text[i:end], i))
            i = end
        else:
            op = next((o for o in _OPERATORS if text.startswith(o, i)), None)
            if op is None:
                hint = _CHARACTER_HINTS.get(ch, "use names, literals, operators and the supported functions only")
                raise _error(text, i, f"unexpected character {ch!r}", hint)
            tokens.append(_Token("op", op, i))
            i += len(op)
    tokens.append(_Token("end", "", size))
    return tokens


def _ends_operand(tokens: list[_Token]) -> bool:
    # `t.5` never starts a number: a dot right after a name or `)` is a qualifier or an error.
    if not tokens:
        return False
    last = tokens[-1]
    return last.kind in ("name", "quoted", "number", "string") or (last.kind == "op" and last.text == ")")


def _number(text: str, pos: int) -> _Token:
    match = _NUMBER.match(text, pos)
    assert match is not None  # the caller saw a digit or a dot before one
    literal = match.group()
    end = match.end()
    if end < len(text) and (text[end].isalnum() or text[end] == "_"):
        raise _error(
            text,
            end,
            f"unexpected {text[end]!r} right after the number {literal}",
            'names cannot start with a digit; quote such a name as "1st"',
        )
    if any(c in literal for c in ".eE"):
        number = float(literal)
        if number in (float("inf"), float("-inf")):
            raise _error(text, pos, f"the number {literal} is out of range", "use a smaller number")
        return _Token("number", literal, pos, number)
    try:
        return _Token("number", literal, pos, int(literal))
    except ValueError:  # more digits than int() accepts
        raise _error(text, pos, "the number is too long", "use a smaller number") from None


def _quoted(text: str, pos: int, quote: str, what: str) -> tuple[str, int]:
    """Read a quoted run starting at `pos`; a doubled quote stands for one quote character."""
    parts: list[str] = []
    i = pos + 1
    while True:
        end = text.find(quote, i)
        if end == -1:
            raise _error(
                text,
                pos,
                f"unterminated {what}",
                f"close it with {quote}; write {quote * 2} for a {quote} inside",
            )
        parts.append(text[i:end])
        if text.startswith(quote * 2, end):
            parts.append(quote)
            i = end + 2
        else:
            return "".join(parts), end + 1


# ------------------------------------------------------------------------------------ errors


def _error(text: str, pos: int, problem: str, suggestion: str) -> ValidationError:
    """A ValidationError whose message shows the expression with a caret under `pos`."""
    start, end = max(0, pos - 40), min(len(text), pos + 40)
    excerpt = "".join(c if c.isprintable() else " " for c in text[start:end])
    lead = "..." if start else ""
    tail = "..." if end < len(text) else ""
    caret = " " * (len(lead) + pos - start) + "^"
    message = f"cannot parse expression: {problem} at position {pos}\n    {lead}{excerpt}{tail}\n    {caret}"
    return ValidationError(message, suggestion=suggestion, position=pos)


def _describe(token: _Token) -> str:
    if token.kind == "end":
        return "the end of the expression"
    shown = token.text if len(token.text) <= 30 else token.text[:27] + "..."
    if token.kind == "string":
        return f"string {shown!r}"
    if token.kind == "number":
        return f"number {shown}"
    if token.kind == "quoted":
        return f"quoted name {shown!r}"
    if token.kind == "name" and token.text.upper() in _RESERVED:
        return f"keyword {token.text.upper()}"
    return f"{shown!r}"


# ------------------------------------------------------------------------------------ functions


class _BadArgument(Exception):
    """Raised by a function builder; the parser turns it into a positioned ValidationError."""

    def __init__(self, index: int, problem: str, suggestion: str) -> None:
        super().__init__(problem)
        self.index, self.problem, self.suggestion = index, problem, suggestion


@dataclass(frozen=True, slots=True)
class _Function:
    usage: str
    min_args: int
    max_args: int | None  # None: any number
    build: Callable[[tuple[n.Node, ...]], n.Node]


def _one(usage: str, cls: Callable[[n.Node], n.Node]) -> _Function:
    return _Function(usage, 1, 1, lambda a: cls(a[0]))


def _extract(part: n.DatePart) -> _Function:
    return _Function(f"{part.value}(date)", 1, 1, lambda a: n.Extract(part, a[0]))


def _round(args: tuple[n.Node, ...]) -> n.Node:
    if len(args) == 1:
        return n.Round(args[0])
    digits = args[1]
    if not (isinstance(digits, n.Lit) and digits.kind is int and isinstance(digits.value, int)):
        raise _BadArgument(1, "round() takes a whole number of digits", "write round(x, 2)")
    return n.Round(args[0], digits.value)


def _date_trunc(args: tuple[n.Node, ...]) -> n.Node:
    unit = args[0]
    units = ", ".join(f"'{p.value}'" for p in n.DatePart)
    if not (isinstance(unit, n.Lit) and isinstance(unit.value, str)):
        raise _BadArgument(
            0,
            "date_trunc() takes the unit as a quoted string",
            f"write date_trunc('month', x); units: {units}",
        )
    try:
        part = n.DatePart(unit.value.lower())
    except ValueError:
        raise _BadArgument(0, f"unknown date_trunc unit {unit.value!r}", f"use one of {units}") from None
    return n.DateTrunc(part, args[1])


def _substring(args: tuple[n.Node, ...]) -> n.Node:
    return n.Substring(args[0], args[1], args[2] if len(args) == 3 else None)


_SUBSTRING = _Function("substring(text, start[, length])", 2, 3, _substring)
_LENGTH = _one("length(text)", n.Length)
_CEIL = _one("ceil(number)", n.Ceil)
_POWER = _Function("power(base, exponent)", 2, 2, lambda a: n.Power(a[0], a[1]))
_DATEDIFF = _Function("datediff(end, start)", 2, 2, lambda a: n.DateDiff(a[0], a[1]))
_AVG = _one("avg(x)", n.Avg)
_CURRENT_DATE = _Function("current_date()", 0, 0, lambda a: n.CurrentDate())
_CURRENT_TIMESTAMP = _Function("current_timestamp()", 0, 0, lambda a: n.CurrentTimestamp())

_FUNCTIONS: Final[dict[str, _Function]] = {
    # strings
    "lower": _one("lower(text)", n.Lower),
    "upper": _one("upper(text)", n.Upper),
    "trim": _one("trim(text)", n.Trim),
    "ltrim": _one("ltrim(text)", n.LTrim),
    "rtrim": _one("rtrim(text)", n.RTrim),
    "length": _LENGTH,
    "len": _LENGTH,
    "substr": _SUBSTRING,
    "substring": _SUBSTRING,
    "concat": _Function("concat(a, b, ...)", 1, None, n.Concat),
    "replace": _Function("replace(text, search, replacement)", 3, 3, lambda a: n.Replace(a[0], a[1], a[2])),
    "coalesce": _Function("coalesce(a, b, ...)", 1, None, n.Coalesce),
    # numbers
    "abs": _one("abs(number)", n.Abs),
    "round": _Function("round(number[, digits])", 1, 2, _round),
    "floor": _one("floor(number)", n.Floor),
    "ceil": _CEIL,
    "ceiling": _CEIL,
    "sqrt": _one("sqrt(number)", n.Sqrt),
    "power": _POWER,
    "pow": _POWER,
    "mod": _Function("mod(number, divisor)", 2, 2, lambda a: n.Mod(a[0], a[1])),
    # dates
    "year": _extract(n.DatePart.YEAR),
    "quarter": _extract(n.DatePart.QUARTER),
    "month": _extract(n.DatePart.MONTH),
    "day": _extract(n.DatePart.DAY),
    "dayofmonth": _extract(n.DatePart.DAY),
    "hour": _extract(n.DatePart.HOUR),
    "minute": _extract(n.DatePart.MINUTE),
    "second": _extract(n.DatePart.SECOND),
    "current_date": _CURRENT_DATE,
    "current_timestamp": _CURRENT_TIMESTAMP,
    "now": _CURRENT_TIMESTAMP,
    "date_add": _Function("date_add(date, days)", 2, 2, lambda a: n.DateAdd(a[0], a[1])),
    "datediff": _DATEDIFF,
    "date_diff": _DATEDIFF,
    "date_trunc": _Function("date_trunc('unit', date)", 2, 2, _date_trunc),
    # aggregates (count is special-cased for count(*) and count(DISTINCT x))
    "count": _one("count(*), count(x) or count(DISTINCT x)", n.Count),
    "sum": _one("sum(x)", n.Sum),
    "avg": _AVG,
    "mean": _AVG,
    "min": _one("min(x)", n.Min),
    "max": _one("max(x)", n.Max),
    "stddev": _one("stddev(x)", n.StdDev),
}

# Written without parentheses, these two are the SQL-standard functions rather than columns.
_BARE_FUNCTIONS: Final = {"CURRENT_DATE": n.CurrentDate(), "CURRENT_TIMESTAMP": n.CurrentTimestamp()}

# ------------------------------------------------------------------------------------ grammar tables

_RESERVED: Final = frozenset(
    {
        *("AND", "OR", "NOT", "IS", "NULL", "IN", "BETWEEN", "LIKE", "ILIKE", "RLIKE", "REGEXP"),
        *("CASE", "WHEN", "THEN", "ELSE", "END", "TRUE", "FALSE", "CAST", "AS", "DISTINCT", "SELECT"),
    }
)
_COMPARISONS: Final = {
    "=": n.CompareOp.EQ,
    "==": n.CompareOp.EQ,
    "!=": n.CompareOp.NE,
    "<>": n.CompareOp.NE,
    "<": n.CompareOp.LT,
    "<=": n.CompareOp.LE,
    ">": n.CompareOp.GT,
    ">=": n.CompareOp.GE,
}
_PATTERNS: Final[dict[str, Callable[[n.Node, n.Node], n.Node]]] = {
    "LIKE": n.Like,
    "ILIKE": n.ILike,
    "RLIKE": n.RLike,
    "REGEXP": n.RLike,
}
_NEGATABLE: Final = frozenset({"IN", "BETWEEN", *_PATTERNS})

# Binding powers: an infix operator joins the expression being parsed only when it binds
# tighter than the operator that started that parse.
_OR, _AND, _NOT, _COMPARE, _ADD, _MUL, _UNARY, _CONCAT = 10, 20, 30, 40, 50, 60, 70, 80
_INFIX_OPS: Final = {
    **dict.fromkeys(_COMPARISONS, _COMPARE),
    "+": _ADD,
    "-": _ADD,
    "*": _MUL,
    "/": _MUL,
    "%": _MUL,
    "||": _CONCAT,
}
_INFIX_WORDS: Final = {
    "OR": _OR,
    "AND": _AND,
    "IS": _COMPARE,
    "NOT": _COMPARE,
    **dict.fromkeys(_NEGATABLE, _COMPARE),
}
_ARITHMETIC: Final[dict[str, Callable[[n.Node, n.Node], n.Node]]] = {
    "+": n.Add,
    "-": n.Sub,
    "*": n.Mul,
    "/": n.Div,
    "%": n.Mod,
}
_TYPE_WORD = re.compile(r"[A-Za-z]+", re.ASCII)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_FOLLOWS_EXPRESSION = "an operator (AND, OR, =, +, ...) or the end of the expression"


# ------------------------------------------------------------------------------------ parser


class _Parser:
    """Precedence climbing over a token list; one instance parses one string."""

    __slots__ = ("_depth", "_index", "_text", "_tokens")

    def __init__(self, text: object) -> None:
        if not isinstance(text, str):
            raise ValidationError(
                f"an expression must be a string, got {type(text).__name__}",
                suggestion='pass text such as "age > 18", or build the expression with col()',
            )
        if len(text) > MAX_LENGTH:
            raise ValidationError(
                f"the expression is {len(text)} characters long; the limit is {MAX_LENGTH}",
                suggestion="build long expressions with col() and the F functions instead of text",
            )
        if not text.strip():
            raise ValidationError("the expression is empty", suggestion='write an expression such as "age > 18"')
        self._text = text
        self._tokens = _tokenize(text)
        self._index = 0
        self._depth = 0

    # -------------------------------------------------------------------------------- cursor

    def peek(self, ahead: int = 0) -> _Token:
        return self._tokens[min(self._index + ahead, len(self._tokens) - 1)]

    def advance(self) -> _Token:
        token = self._tokens[self._index]
        if token.kind != "end":
            self._index += 1
        return token

    def error(self, token: _Token, problem: str, suggestion: str) -> ValidationError:
        return _error(self._text, token.pos, problem, suggestion)

    def at_op(self, op: str, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token.kind == "op" and token.text == op

    def at_word(self, *words: str) -> bool:
        token = self.peek()
        return token.kind == "name" and token.text.upper() in words

    def expect_op(self, op: str, expected: str) -> _Token:
        if not self.at_op(op):
            token = self.peek()
            raise self.error(token, f"expected {expected}, found {_describe(token)}", f"insert '{op}'")
        return self.advance()

    def expect_word(self, word: str, expected: str) -> _Token:
        if not self.at_word(word):
            token = self.peek()
            raise self.error(token, f"expected {expected}, found {_describe(token)}", f"insert {word}")
        return self.advance()

    def expect_end(self, expected: str = _FOLLOWS_EXPRESSION) -> None:
        token = self.peek()
        if token.kind == "end":
            return
        if token.kind == "op" and token.text == ")":
            hint = "remove it or add the matching '('"
        elif token.kind == "op" and token.text == ",":
            hint = "one string holds one expression; pass several strings for several expressions"
        elif token.kind == "name" and token.text.upper() == "AS":
            hint = "aliases belong in select items (select_expr); on a Column use .alias(name)"
        else:
            hint = f"expected {expected}"
        raise self.error(token, f"unexpected {_describe(token)}", hint)

    # -------------------------------------------------------------------------------- expressions

    def root(self) -> n.Node:
        try:
            return self.expression()
        except RecursionError:
            # MAX_DEPTH stops ordinary nesting; this catches callers whose stack was already deep.
            raise ValidationError(
                "the expression nests too deeply to parse",
                suggestion="flatten it, or build it in Python with col() and the F functions",
            ) from None

    def expression(self, min_power: int = 0) -> n.Node:
        """Parse operators that bind tighter than `min_power`, starting from a prefix."""
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise self.error(
                self.peek(),
                f"the expression nests deeper than {MAX_DEPTH} levels",
                "flatten it, or build it in Python with col() and the F functions",
            )
        try:
            left = self.prefix()
            compared = False
            while True:
                token = self.peek()
                power = self.infix_power(token)
                if power is None or power <= min_power:
                    return left
                if power == _COMPARE:
                    if compared:
                        raise self.error(
                            token,
                            f"comparisons cannot be chained: found {_describe(token)} after a comparison",
                            "use BETWEEN, or join the comparisons with AND, e.g. 1 < x AND x < 10",
                        )
                    left = self.predicate(left)
                else:
                    left = self.binary(left, power)
                compared = power == _COMPARE
        finally:
            self._depth -= 1

    @staticmethod
    def infix_power(token: _Token) -> int | None:
        if token.kind == "op":
            return _INFIX_OPS.get(token.text)
        if token.kind == "name":
            return _INFIX_WORDS.get(token.text.upper())
        return None

    def binary(self, left: n.Node, power: int) -> n.Node:
        token = self.advance()
        word = token.text.upper()
        if word == "OR":
            return n.Or(left, self.expression(_OR))
        if word == "AND":
            return n.And(left, self.expression(_AND))
        if token.text == "||":
            # a || b || c is one Concat; a parenthesized (a || b) stays a nested one.
            parts = [left, self.expression(_CONCAT)]
            while self.at_op("||"):
                self.advance()
                parts.append(self.expression(_CONCAT))
            return n.Concat(tuple(parts))
        return _ARITHMETIC[token.text](left, self.expression(power))

    def predicate(self, left: n.Node) -> n.Node:
        token = self.advance()
        if token.kind == "op":
            return n.Compare(_COMPARISONS[token.text], left, self.expression(_COMPARE))
        word = token.text.upper()
        if word == "IS":
            negated = self.at_word("NOT")
            if negated:
                self.advance()
            self.expect_word("NULL", "NULL after IS" + (" NOT" if negated else ""))
            return n.IsNotNull(left) if negated else n.IsNull(left)
        negated = word == "NOT"
        if negated:
            if not self.at_word(*_NEGATABLE):
                found = _describe(self.peek())
                raise self.error(
                    self.peek(),
                    f"expected IN, BETWEEN, LIKE, ILIKE, RLIKE or REGEXP after NOT, found {found}",
                    "write NOT before a whole condition, e.g. NOT (a = b), or use !=",
                )
            word = self.advance().text.upper()
        node: n.Node
        if word == "IN":
            node = n.InList(left, self.in_values())
        elif word == "BETWEEN":
            low = self.expression(_COMPARE)
            self.expect_word("AND", "AND between the two bounds of BETWEEN")
            node = n.Between(left, low, self.expression(_COMPARE))
        else:
            node = _PATTERNS[word](left, self.expression(_COMPARE))
        return n.Not(node) if negated else node

    def in_values(self) -> tuple[n.Node, ...]:
        opening = self.expect_op("(", "'(' to open the IN list")
        if self.at_op(")"):
            raise self.error(self.peek(), "an IN list needs at least one value", "write x IN (1, 2, 3)")
        values = [self.expression()]
        while self.at_op(","):
            self.advance()
            values.append(self.expression())
        self.expect_op(")", f"',' or ')' to close the IN list opened at position {opening.pos}")
        return tuple(values)

    # -------------------------------------------------------------------------------- prefixes

    def prefix(self) -> n.Node:
        token = self.peek()
        if token.kind == "number":
            self.advance()
            return _number_literal(token)
        if token.kind == "string":
            self.advance()
            return n.Lit(token.text, str)
        if token.kind == "quoted":
            return self.name()
        if token.kind == "op":
            return self.prefix_op(token)
        if token.kind == "name":
            return self.prefix_word(token)
        raise self.error(token, "expected an expression, found the end of the expression", "complete the expression")

    def prefix_op(self, token: _Token) -> n.Node:
        if token.text == "(":
            self.advance()
            inner = self.expression()
            self.expect_op(")", f"')' to close the '(' at position {token.pos}")
            return inner
        if token.text in ("-", "+"):
            self.advance()
            operand_start = self._index
            operand = self.expression(_UNARY)
            if token.text == "+":
                return operand
            # "-5" is the literal -5; "-(5)" and "-5 || x" stay negations.
            if self._index == operand_start + 1 and isinstance(operand, n.Lit) and operand.kind in (int, float):
                assert isinstance(operand.value, (int, float))
                return n.Lit(-operand.value, operand.kind)
            return n.Neg(operand)
        if token.text == "*":
            raise self.error(token, "'*' is only allowed as count(*) or as a whole select item", "name the columns")
        raise self.error(token, f"expected an expression, found {_describe(token)}", "write a value, a name or '('")

    def prefix_word(self, token: _Token) -> n.Node:
        word = token.text.upper()
        if word not in _RESERVED:
            following = self.peek(1)
            if word in ("DATE", "TIMESTAMP") and following.kind == "string":
                self.advance()
                return self.datetime_literal(word, self.advance())
            if following.kind == "op" and following.text == "(":
                return self.call()
            if word in _BARE_FUNCTIONS:
                self.advance()
                return _BARE_FUNCTIONS[word]
            return self.name()
        if word in ("TRUE", "FALSE"):
            self.advance()
            return n.Lit(word == "TRUE", bool)
        if word == "NULL":
            self.advance()
            return n.Lit(None, type(None))
        if word == "NOT":
            self.advance()
            return n.Not(self.expression(_NOT))
        if word == "CASE":
            return self.case()
        if word == "CAST":
            return self.cast()
        if word == "SELECT":
            raise self.error(token, "subqueries are not supported", "use DataFrame methods such as join() instead")
        raise self.error(
            token,
            f"expected an expression, found keyword {word}",
            f'if {token.text} is a column name, quote it: "{token.text}"',
        )

    def name(self) -> n.Node:
        first = self.advance()
        if not self.at_op("."):
            return n.Col(first.text)
        self.advance()
        second = self.advance()
        if second.kind not in ("name", "quoted"):
            raise self.error(
                second, f"expected a column name after '.', found {_describe(second)}", "write table.column"
            )
        if self.at_op("."):
            raise self.error(
                self.peek(), "a column is named column or table.column, with no more parts", "drop the schema"
            )
        return n.Col(second.text, first.text)

    def datetime_literal(self, word: str, token: _Token) -> n.Node:
        try:
            if word == "DATE":
                if not _ISO_DATE.fullmatch(token.text):
                    raise ValueError(token.text)
                return n.Lit(dt.date.fromisoformat(token.text), dt.date)
            return n.Lit(dt.datetime.fromisoformat(token.text), dt.datetime)
        except ValueError:
            example = "DATE '2024-01-31'" if word == "DATE" else "TIMESTAMP '2024-01-31 13:45:00'"
            raise self.error(token, f"{token.text!r} is not a valid {word.lower()}", f"write {example}") from None

    def call(self) -> n.Node:
        name_token = self.advance()
        opening = self.advance()
        key = name_token.text.lower()
        function = _FUNCTIONS.get(key)
        if function is None:
            match = closest_match(key, _FUNCTIONS)
            supported = ", ".join(sorted(_FUNCTIONS))
            guess = f"did you mean {match}()? " if match else ""
            raise self.error(
                name_token,
                f"unknown function {name_token.text}()",
                f"{guess}supported functions: {supported}",
            )
        closing = f"',' or ')' to close the arguments of {key}() opened at position {opening.pos}"
        if key == "count" and (self.at_op("*") or self.at_word("DISTINCT")):
            if self.at_op("*"):
                self.advance()
                node: n.Node = n.Count(n.Star())
            else:
                self.advance()
                node = n.CountDistinct(self.expression())
            self.expect_op(")", f"')' to close count() opened at position {opening.pos}")
            return node
        if key == "count" and self.peek().kind in ("name", "quoted") and self.at_op(".", 1) and self.at_op("*", 2):
            table = self.advance().text
            self.advance()
            self.advance()
            self.expect_op(")", f"')' to close count() opened at position {opening.pos}")
            return n.Count(n.Star(table))
        if self.at_word("DISTINCT"):
            raise self.error(self.peek(), "DISTINCT is only supported in count()", "write count(DISTINCT x)")
        args: list[n.Node] = []
        positions: list[_Token] = []
        if not self.at_op(")"):
            positions.append(self.peek())
            args.append(self.expression())
            while self.at_op(","):
                self.advance()
                positions.append(self.peek())
                args.append(self.expression())
        self.expect_op(")", closing)
        high = function.max_args
        if len(args) < function.min_args or (high is not None and len(args) > high):
            expected = str(function.min_args) if high == function.min_args else f"{function.min_args} or more"
            if high is not None and high != function.min_args:
                expected = f"{function.min_args} to {high}"
            plural = "" if expected == "1" else "s"
            raise self.error(
                name_token,
                f"{key}() takes {expected} argument{plural}, got {len(args)}",
                f"call it as {function.usage}",
            )
        try:
            return function.build(tuple(args))
        except _BadArgument as bad:
            raise self.error(positions[bad.index], bad.problem, bad.suggestion) from None

    def case(self) -> n.Node:
        case = self.advance()
        if not self.at_word("WHEN"):
            raise self.error(
                self.peek(),
                f"expected WHEN after CASE, found {_describe(self.peek())}",
                "only the searched form is supported: CASE WHEN x = 1 THEN 'one' ELSE 'other' END",
            )
        whens: list[tuple[n.Node, n.Node]] = []
        while self.at_word("WHEN"):
            self.advance()
            condition = self.expression()
            self.expect_word("THEN", "THEN after the WHEN condition")
            whens.append((condition, self.expression()))
        default = None
        if self.at_word("ELSE"):
            self.advance()
            default = self.expression()
        self.expect_word("END", f"WHEN, ELSE or END to close the CASE at position {case.pos}")
        return n.Case(tuple(whens), default)

    def cast(self) -> n.Node:
        cast = self.advance()
        opening = self.expect_op("(", "'(' after CAST")
        arg = self.expression()
        self.expect_word("AS", "AS and a type name, as in CAST(x AS INTEGER)")
        words: list[str] = []
        while self.peek().kind == "name" and self.peek().text.upper() not in _RESERVED:
            word = self.advance()
            if not _TYPE_WORD.fullmatch(word.text):
                raise self.error(
                    word,
                    f"{word.text!r} is not a type name",
                    "type names are letters, e.g. INTEGER or VARCHAR(20)",
                )
            words.append(word.text.upper())
        if not words:
            token = self.peek()
            raise self.error(token, f"expected a type name, found {_describe(token)}", "write CAST(x AS INTEGER)")
        to = " ".join(words)
        if self.at_op("("):
            self.advance()
            sizes = [self.type_size()]
            if self.at_op(","):
                self.advance()
                sizes.append(self.type_size())
            self.expect_op(")", "')' after the type size")
            to += f"({','.join(sizes)})"
        self.expect_op(")", f"')' to close the CAST at position {cast.pos} (opened at {opening.pos})")
        return n.Cast(arg, to)

    def type_size(self) -> str:
        token = self.advance()
        if token.kind != "number" or not isinstance(token.value, int):
            raise self.error(
                token,
                f"expected a whole number, found {_describe(token)}",
                "write VARCHAR(20) or DECIMAL(10, 2)",
            )
        return token.text


def _number_literal(token: _Token) -> n.Lit:
    if isinstance(token.value, int):
        return n.Lit(token.value, int)
    return n.Lit(token.value, float)


# ------------------------------------------------------------------------------------ public API


def parse_expression(text: str) -> n.Node:
    """Parse a SQL-style expression into an expression node; the text never reaches SQL.

    Literals become bound parameters (:class:`~moltres.expressions.nodes.Lit`), names become
    columns (:class:`~moltres.expressions.nodes.Col`, checked later against the source), and
    only the functions of the grammar are recognized.

    Args:
        text: One expression, such as ``"age > 25 AND name LIKE 'A%'"``. At most
            :data:`MAX_LENGTH` characters, nested at most :data:`MAX_DEPTH` levels deep.

    Returns:
        The root node of the expression.

    Raises:
        ValidationError: The text is not an expression of the grammar: the message shows where,
            and ``suggestion`` says what was expected. ``context["position"]`` holds the offset.

    Example:
        >>> parse_expression("age >= 18 AND status IN ('new', 'open')").right
        InList(arg=Col(name='status', table=None), values=(Lit(value='new', kind=<class 'str'>), Lit(value='open', kind=<class 'str'>)))
        >>> parse_expression("1; DROP TABLE users")
        Traceback (most recent call last):
        ...
        moltres.utils.exceptions.ValidationError: cannot parse expression: ';' is not allowed at position 1
            1; DROP TABLE users
             ^
        Suggestion: an expression string holds one expression, never a statement
    """  # noqa: E501 - the example output is one line
    parser = _Parser(text)
    node = parser.root()
    parser.expect_end()
    return node


def parse_select_item(text: str) -> n.Node:
    """Parse one select item: an expression with an optional alias, or ``*`` / ``table.*``.

    Args:
        text: Such as ``"price * qty AS total"``, ``"price * qty total"``, ``"*"`` or ``"o.*"``.

    Returns:
        An :class:`~moltres.expressions.nodes.Alias` when the item names its output, a
        :class:`~moltres.expressions.nodes.Star` for ``*``, else the expression node.

    Raises:
        ValidationError: The text is not a select item; the message shows where.

    Example:
        >>> parse_select_item('price * qty AS "Total"')
        Alias(arg=Mul(left=Col(name='price', table=None), right=Col(name='qty', table=None)), name='Total')
        >>> parse_select_item("o.*")
        Star(table='o')
    """
    parser = _Parser(text)
    if parser.at_op("*"):
        parser.advance()
        parser.expect_end("the end of the select item after '*'")
        return n.Star()
    first = parser.peek()
    if first.kind in ("name", "quoted") and parser.at_op(".", 1) and parser.at_op("*", 2):
        for _ in range(3):
            parser.advance()
        parser.expect_end(f"the end of the select item after '{first.text}.*'")
        return n.Star(first.text)
    node = parser.root()
    explicit = parser.at_word("AS")
    if explicit:
        parser.advance()
    alias = parser.peek()
    if alias.kind == "quoted" or (alias.kind == "name" and alias.text.upper() not in _RESERVED):
        parser.advance()
        parser.expect_end("the end of the select item after its alias")
        return n.Alias(node, alias.text)
    if explicit:
        raise parser.error(
            alias,
            f"expected an alias after AS, found {_describe(alias)}",
            'write a name, quoted with double quotes if needed: AS "Total price"',
        )
    parser.expect_end("an operator (AND, OR, =, +, ...), an alias or the end of the select item")
    return node
