"""Logical plan nodes: what a DataFrame computes, as a tree of frozen values.

A plan never touches a database. Plans are hashable, so the compiler caches SQL by plan
shape, and tests compare plans directly.

Example:
    >>> from moltres.expressions import nodes as n
    >>> Filter(Table("users"), n.IsNull(n.Col("email"))) == Filter(Table("users"), n.IsNull(n.Col("email")))
    True
"""

from __future__ import annotations

from typing import Literal

from moltres.expressions import nodes as n
from moltres.expressions.nodes import Value, value

JoinHow = Literal["inner", "left", "right", "full", "cross", "semi", "anti"]
SetKind = Literal["union", "intersect", "except"]

__all__ = [
    "Aggregate",
    "Distinct",
    "Drop",
    "DropDuplicates",
    "Explode",
    "Filter",
    "Join",
    "JoinHow",
    "Limit",
    "Plan",
    "Project",
    "RawSQL",
    "Rename",
    "Sample",
    "SetKind",
    "SetOperation",
    "Sort",
    "SubqueryAlias",
    "Table",
    "Values",
    "WithColumns",
    "WithCTE",
]


@value
class Plan(Value):
    """Base of all plan nodes."""


@value
class Table(Plan):
    """Every row of a stored table."""

    name: str
    schema: str | None = None


@value
class Values(Plan):
    """Rows written out in the query itself (small inline data)."""

    columns: tuple[str, ...]
    rows: tuple[tuple[n.Node, ...], ...]
    types: tuple[str | None, ...] = ()


@value
class RawSQL(Plan):
    """The rows of a user-written SELECT, with its bound parameters."""

    text: str
    params: tuple[tuple[str, n.Scalar], ...] = ()


@value
class Project(Plan):
    """Compute these expressions for each row (``SELECT exprs``)."""

    child: Plan
    exprs: tuple[n.Node, ...]


@value
class WithColumns(Plan):
    """Keep every column and add or replace the named ones."""

    child: Plan
    assignments: tuple[tuple[str, n.Node], ...]


@value
class Drop(Plan):
    """Keep every column but these."""

    child: Plan
    names: tuple[str, ...]


@value
class Rename(Plan):
    """Keep every column, renaming some of them."""

    child: Plan
    mapping: tuple[tuple[str, str], ...]


@value
class Filter(Plan):
    """Keep the rows for which the predicate is true (``WHERE`` / ``HAVING``)."""

    child: Plan
    predicate: n.Node


@value
class Aggregate(Plan):
    """Group by `keys` (none: the whole input is one group) and compute `aggs`."""

    child: Plan
    keys: tuple[n.Node, ...]
    aggs: tuple[n.Node, ...]


@value
class Sort(Plan):
    """Order the rows."""

    child: Plan
    keys: tuple[n.SortKey, ...]


@value
class Limit(Plan):
    """Skip `offset` rows, then keep at most `limit` (None: no upper bound)."""

    child: Plan
    limit: int | None
    offset: int = 0


@value
class Distinct(Plan):
    """Remove duplicate rows."""

    child: Plan


@value
class DropDuplicates(Plan):
    """Keep one row for each distinct combination of `subset`."""

    child: Plan
    subset: tuple[str, ...]


@value
class Join(Plan):
    """Combine rows of two inputs.

    `on` is a predicate; `using` lists columns that must be equal on both sides and appear
    once in the output.
    """

    left: Plan
    right: Plan
    how: JoinHow
    on: n.Node | None = None
    using: tuple[str, ...] = ()


@value
class SetOperation(Plan):
    """``UNION`` / ``INTERSECT`` / ``EXCEPT`` of two inputs with the same columns."""

    left: Plan
    right: Plan
    kind: SetKind
    distinct: bool = True
    by_name: bool = False


@value
class SubqueryAlias(Plan):
    """Name an input so that columns can be qualified by it (``df.alias("u")``)."""

    child: Plan
    alias: str


@value
class WithCTE(Plan):
    """Compute the input once as a named common table expression (``WITH name AS``)."""

    child: Plan
    name: str


@value
class Sample(Plan):
    """A random fraction of the rows."""

    child: Plan
    fraction: float
    seed: int | None = None


@value
class Explode(Plan):
    """One output row per element of an array column."""

    child: Plan
    column: str
    alias: str
