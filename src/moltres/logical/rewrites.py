"""Walks over plans that do not need a database: parameter extraction and column lookup."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
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
    cls = root.__class__
    if cls in _ATOMS:
        return root, values
    # This runs for every query, even when its compiled SQL is cached, so it makes at most one
    # Python call per node and none per field: each node class gets a generated function that
    # reads its fields directly, shapes a column reference inline, and calls the shaper of
    # each other field that is not a plain value.
    return _SHAPERS[cls](root, values, {}), values


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


# A shaper takes (obj, values, ctes): it appends the literal values in `obj` to `values` and
# returns the shape of `obj`; `ctes` maps each CTE name seen so far to its first WithCTE.
_Shaper = Callable[[Any, list[Any], dict[str, p.WithCTE]], Any]


def _shape_lit(obj: n.Lit, values: list[Any], ctes: dict[str, p.WithCTE]) -> Any:
    value = obj.value
    values.append(value)
    kind = obj.kind
    refine = _REFINE.get(kind)
    return (n.Lit, kind, None if refine is None else refine(value))


def _shape_col(obj: n.Col, values: list[Any], ctes: dict[str, p.WithCTE]) -> Any:
    return (n.Col, obj.name, obj.table)


def _shape_tuple(obj: tuple[Any, ...], values: list[Any], ctes: dict[str, p.WithCTE]) -> Any:
    if not obj:
        return obj
    out: list[Any] = []  # a loop, not a list comprehension: that would be one more call
    for x in obj:
        c = x.__class__
        if c is n.Col:
            out.append((n.Col, x.name, x.table))
        elif c in _ATOMS:
            out.append(x)
        else:
            out.append(_SHAPERS[c](x, values, ctes))
    return tuple(out)


def _shape_cte(obj: p.WithCTE, values: list[Any], ctes: dict[str, p.WithCTE]) -> Any:
    # its shape depends on the CTEs seen before it
    first = ctes.get(obj.name)
    if first is None:
        ctes[obj.name] = obj
    elif first is obj or first == obj:
        return (_UsedAgain, obj.name)
    child = obj.child
    return (p.WithCTE, _SHAPERS[child.__class__](child, values, ctes), obj.name)


def _shape_itself(obj: Any, values: list[Any], ctes: dict[str, p.WithCTE]) -> Any:
    return obj


class _Shapers(dict[type, _Shaper]):
    """The shaper of each class, made the first time the class is met."""

    def __missing__(self, cls: type) -> _Shaper:
        shaper = _make_shaper(cls) if issubclass(cls, (n.Node, p.Plan)) else _shape_itself
        self[cls] = shaper
        return shaper


# classes whose instances are their own shape: no literal can hide inside them
_ATOMS: set[type] = {str, int, float, bool, type(None), type, n.CompareOp, n.DatePart}
_SHAPERS = _Shapers({n.Lit: _shape_lit, n.Col: _shape_col, tuple: _shape_tuple, p.WithCTE: _shape_cte})


def _make_shaper(cls: type) -> _Shaper:
    names = _field_names(cls)
    # Col, the most common field value, is shaped inline rather than by a call
    body = "".join(
        f"    x{i} = o.{name}\n"
        f"    c = x{i}.__class__\n"
        f"    if c is Col:\n"
        f"        x{i} = (Col, x{i}.name, x{i}.table)\n"
        f"    elif c not in atoms:\n"
        f"        x{i} = shapers[c](x{i}, values, ctes)\n"
        for i, name in enumerate(names)
    )
    items = "".join(f"x{i}, " for i in range(len(names)))
    source = f"def shape(o, values, ctes):\n{body}    return (cls, {items})\n"
    namespace: dict[str, Any] = {"cls": cls, "atoms": _ATOMS, "shapers": _SHAPERS, "Col": n.Col}
    exec(source, namespace)  # the source is built from dataclass field names only
    shaper: _Shaper = namespace["shape"]
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
