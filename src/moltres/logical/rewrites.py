"""Walks over plans that do not need a database: parameter extraction and column lookup."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import fields
from typing import Any

from moltres.expressions import nodes as n
from moltres.logical import plan as p

__all__ = ["iter_nodes", "literal_is_big", "parameterize", "referenced_columns"]

_FIELDS: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        names = tuple(f.name for f in fields(cls))
        _FIELDS[cls] = names
    return names


def parameterize(root: p.Plan | n.Node) -> tuple[Any, list[Any]]:
    """Split a plan into its shape (hashable, literal values removed) and the literal values.

    Two plans that differ only in literal values have equal shapes, so they share one compiled
    statement. Values come out in depth-first field order, the order in which the compiler
    creates bound parameters.

    Example:
        >>> from moltres.expressions import nodes as n
        >>> def older_than(age):
        ...     return p.Filter(p.Table("t"), n.Compare(n.CompareOp.GT, n.Col("age"), n.Lit(age, int)))
        >>> shape_a, values_a = parameterize(older_than(1))
        >>> shape_b, values_b = parameterize(older_than(2))
        >>> shape_a == shape_b, values_a, values_b
        (True, [1], [2])

    The shape holds everything the compiled SQL depends on besides the values: a literal's
    type as SQLAlchemy would infer it from the value (an integer beyond 32 bits binds as
    ``BIGINT``, a datetime with a time zone as ``TIMESTAMP WITH TIME ZONE``), and which CTEs
    are the same one used again. The compiler writes a CTE once under its name, so when a
    plan uses one CTE twice (a self-join), the second use is a reference in the shape and
    gives no values; a different CTE under a name already used keeps its full shape, and the
    compiler refuses it.

        >>> def pair(a, b):
        ...     def big(x):
        ...         return p.WithCTE(p.Filter(p.Table("t"), n.Compare(n.CompareOp.GT, n.Col("v"), n.Lit(x, int))), "c")
        ...     return p.Join(big(a), big(b), "cross")
        >>> parameterize(pair(1, 1))[1], parameterize(pair(1, 2))[1]
        ([1], [1, 2])
        >>> parameterize(pair(1, 1))[0] == parameterize(pair(1, 2))[0]
        False
    """
    values: list[Any] = []
    shapers = _SHAPERS
    atoms = _ATOMS
    ctes: dict[str, p.WithCTE] = {}

    # This runs for every query, even when its compiled SQL is cached, so it avoids a Python
    # call per field: each node class gets a generated function that reads its fields directly
    # and walks only the ones that are not plain values.
    def walk(obj: Any) -> Any:
        cls = obj.__class__
        if cls in atoms:
            return obj
        shaper = shapers.get(cls)
        if shaper is not None:
            return shaper(obj, walk, values)
        if cls is tuple:
            return tuple([walk(item) for item in obj])
        if cls is p.WithCTE:  # never in `shapers`: its shape depends on the CTEs seen before it
            first = ctes.get(obj.name)
            if first is None:
                ctes[obj.name] = obj
            elif first is obj or first == obj:
                return (_UsedAgain, obj.name)
            return (cls, walk(obj.child), obj.name)
        if isinstance(obj, (n.Node, p.Plan)):
            return _make_shaper(cls)(obj, walk, values)
        return obj

    return walk(root), values


class _UsedAgain:
    """Heads the shape of a CTE used again in the same plan: the SQL refers to the first use."""


def literal_is_big(value: int) -> bool:
    """Whether an integer literal needs ``BIGINT`` (SQLAlchemy's rule): more than 32 bits.

    Example:
        >>> literal_is_big(2**31 - 1), literal_is_big(2**31), literal_is_big(-(2**40))
        (False, True, True)
    """
    return value.bit_length() >= 32


def _has_tz(value: Any) -> bool:
    return value.tzinfo is not None


def _first_item(value: tuple[Any, ...]) -> Any:
    # an IN list binds as one expanding parameter, typed from its first item
    if not value:
        return (0, None)
    first = value[0]
    refine = _REFINE.get(first.__class__)
    return (len(value), first.__class__, None if refine is None else refine(first))


# literal kinds whose compiled SQL also depends on the value: what of the value it depends on
_REFINE: dict[type, Any] = {
    int: literal_is_big,
    tuple: _first_item,
    dt.datetime: _has_tz,
    dt.time: _has_tz,
}


def _shape_lit(obj: n.Lit, walk: Any, values: list[Any]) -> Any:
    value = obj.value
    values.append(value)
    kind = obj.kind
    refine = _REFINE.get(kind)
    return (n.Lit, kind, None if refine is None else refine(value))


# classes whose instances are their own shape: no literal can hide inside them
_ATOMS: set[type] = {str, int, float, bool, type(None), type, n.CompareOp, n.DatePart}
_SHAPERS: dict[type, Any] = {n.Lit: _shape_lit}


def _make_shaper(cls: type) -> Any:
    names = _field_names(cls)
    items = "".join(f"o.{f} if o.{f}.__class__ in atoms else walk(o.{f}), " for f in names)
    source = f"def shape(o, walk, values):\n    return (cls, {items})\n"
    namespace: dict[str, Any] = {"cls": cls, "atoms": _ATOMS}
    exec(source, namespace)  # the source is built from dataclass field names only
    shaper = namespace["shape"]
    _SHAPERS[cls] = shaper
    return shaper


def iter_nodes(root: n.Node) -> Iterator[n.Node]:
    """Yield an expression node and every node below it, depth first.

    Example:
        >>> from moltres.expressions import nodes as n
        >>> [type(x).__name__ for x in iter_nodes(n.Not(n.Col("a")))]
        ['Not', 'Col']
    """
    stack: list[Any] = [root]
    while stack:
        obj = stack.pop()
        if isinstance(obj, n.Node):
            yield obj
            stack.extend(reversed([getattr(obj, name) for name in _field_names(type(obj))]))
        elif isinstance(obj, tuple):
            stack.extend(reversed(obj))


def referenced_columns(root: n.Node) -> list[n.Col]:
    """The column references in an expression, in order of appearance.

    Example:
        >>> from moltres.expressions import nodes as n
        >>> referenced_columns(n.Add(n.Col("a"), n.Col("b", "t")))
        [Col(name='a', table=None), Col(name='b', table='t')]
    """
    return [node for node in iter_nodes(root) if isinstance(node, n.Col)]
