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
        >>> def older_than(age):
        ...     return p.Filter(p.Table("t"), n.Compare(n.CompareOp.GT, n.Col("age"), n.Lit(age, int)))
        >>> shape_a, values_a = parameterize(older_than(1))
        >>> shape_b, values_b = parameterize(older_than(2))
        >>> shape_a == shape_b, values_a, values_b
        (True, [1], [2])
    """
    values: list[Any] = []
    shapers = _SHAPERS
    atoms = _ATOMS

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
        if isinstance(obj, (n.Node, p.Plan)):
            return _make_shaper(cls)(obj, walk, values)
        return obj

    return walk(root), values


def _shape_lit(obj: n.Lit, walk: Any, values: list[Any]) -> Any:
    values.append(obj.value)
    return (n.Lit, obj.kind, len(obj.value) if obj.kind is tuple else -1)  # type: ignore[arg-type]


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
