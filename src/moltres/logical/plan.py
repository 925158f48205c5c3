"""Logical plan nodes: what a DataFrame computes, as a tree of frozen values.

A plan never touches a database. Plans are hashable, so the compiler caches SQL by plan
shape, and tests compare plans directly.

Example:
    >>> from moltres.expressions import nodes as n
    >>> Filter(Table("users"), n.IsNull(n.Col("email"))) == Filter(Table("users"), n.IsNull(n.Col("email")))
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from moltres.expressions import nodes as n

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


@dataclass(frozen=True, slots=True)
class Plan:
    """Base of all plan nodes."""


@dataclass(frozen=True, slots=True)
class Table(Plan):
    """Every row of a stored table."""

    name: str
    schema: str | None = None


@dataclass(frozen=True, slots=True)
class Values(Plan):
    """Rows written out in the query itself (small inline data)."""

    columns: tuple[str, ...]
    rows: tuple[tuple[n.Node, ...], ...]
    types: tuple[str | None, ...] = ()


@dataclass(frozen=True, slots=True)
class RawSQL(Plan):
    """The rows of a user-written SELECT, with its bound parameters."""

    text: str
    params: tuple[tuple[str, n.Scalar], ...] = ()


@dataclass(frozen=True, slots=True)
class Project(Plan):
    """Compute these expressions for each row (``SELECT exprs``)."""

    child: Plan
    exprs: tuple[n.Node, ...]


@dataclass(frozen=True, slots=True)
class WithColumns(Plan):
    """Keep every column and add or replace the named ones."""

    child: Plan
    assignments: tuple[tuple[str, n.Node], ...]


@dataclass(frozen=True, slots=True)
class Drop(Plan):
    """Keep every column but these."""

    child: Plan
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Rename(Plan):
    """Keep every column, renaming some of them."""

    child: Plan
    mapping: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Filter(Plan):
    """Keep the rows for which the predicate is true (``WHERE`` / ``HAVING``)."""

    child: Plan
    predicate: n.Node


@dataclass(frozen=True, slots=True)
class Aggregate(Plan):
    """Group by `keys` (none: the whole input is one group) and compute `aggs`."""

    child: Plan
    keys: tuple[n.Node, ...]
    aggs: tuple[n.Node, ...]


@dataclass(frozen=True, slots=True)
class Sort(Plan):
    """Order the rows."""

    child: Plan
    keys: tuple[n.SortKey, ...]


@dataclass(frozen=True, slots=True)
class Limit(Plan):
    """Skip `offset` rows, then keep at most `limit` (None: no upper bound)."""

    child: Plan
    limit: int | None
    offset: int = 0


@dataclass(frozen=True, slots=True)
class Distinct(Plan):
    """Remove duplicate rows."""

    child: Plan


@dataclass(frozen=True, slots=True)
class DropDuplicates(Plan):
    """Keep one row for each distinct combination of `subset`."""

    child: Plan
    subset: tuple[str, ...]


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
class SetOperation(Plan):
    """``UNION`` / ``INTERSECT`` / ``EXCEPT`` of two inputs with the same columns."""

    left: Plan
    right: Plan
    kind: SetKind
    distinct: bool = True
    by_name: bool = False


@dataclass(frozen=True, slots=True)
class SubqueryAlias(Plan):
    """Name an input so that columns can be qualified by it (``df.alias("u")``)."""

    child: Plan
    alias: str


@dataclass(frozen=True, slots=True)
class WithCTE(Plan):
    """Compute the input once as a named common table expression (``WITH name AS``)."""

    child: Plan
    name: str


@dataclass(frozen=True, slots=True)
class Sample(Plan):
    """A random fraction of the rows."""

    child: Plan
    fraction: float
    seed: int | None = None


@dataclass(frozen=True, slots=True)
class Explode(Plan):
    """One output row per element of an array column."""

    child: Plan
    column: str
    alias: str
