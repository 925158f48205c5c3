"""Walks over plans that do not need a database: parameter extraction and column lookup."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields
from typing import Any

from moltres.expressions import nodes as n
from moltres.logical import plan as p

__all__ = ["iter_nodes", "parameterize", "referenced_columns"]

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
        >>> shape_a, values_a = parameterize(p.Filter(p.Table("t"), n.Compare(n.CompareOp.GT, n.Col("x"), n.Lit(1, int))))
        >>> shape_b, values_b = parameterize(p.Filter(p.Table("t"), n.Compare(n.CompareOp.GT, n.Col("x"), n.Lit(2, int))))
        >>> shape_a == shape_b, values_a, values_b
        (True, [1], [2])
    """
    values: list[Any] = []
    lit_type = n.Lit

    def walk(obj: Any) -> Any:
        cls = type(obj)
        if cls is lit_type:
            values.append(obj.value)
            return (lit_type, obj.kind, len(obj.value) if obj.kind is tuple else -1)
        if isinstance(obj, (n.Node, p.Plan)):
            return (cls, *[walk(getattr(obj, name)) for name in _field_names(cls)])
        if cls is tuple:
            return tuple(walk(item) for item in obj)
        return obj

    return walk(root), values


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
