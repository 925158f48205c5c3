"""Compile logical plans and expressions into SQLAlchemy Core statements.

The compiler walks a plan bottom-up. Each step produces a :class:`Relation`: a SQLAlchemy
``Select`` plus the expression behind every output column, so that the next step can merge
into the same ``SELECT`` (a filter becomes ``WHERE``, a filter after an aggregate becomes
``HAVING``) and wraps the statement in a subquery only when SQL requires it.

Expressions compile through one ``visit_<NodeClass>`` method per node; each receives its
children already compiled. Dialect differences live in ``sql/dialects/``: subclasses that
override a few visit methods and flags. A node a dialect cannot express raises
:class:`~moltres.utils.exceptions.UnsupportedOperationError` naming the dialect and an
alternative.

Example:
    >>> import sqlalchemy as sa
    >>> from moltres.expressions import nodes as n
    >>> from moltres.logical import plan as p
    >>> from moltres.sql.catalog import StaticCatalog
    >>> from moltres.sql.dialects import compiler_for
    >>> catalog = StaticCatalog({"users": {"id": sa.Integer(), "age": sa.Integer()}})
    >>> plan = p.Filter(p.Table("users"), n.Compare(n.CompareOp.GT, n.Col("age"), n.Lit(18, int)))
    >>> print(compiler_for("sqlite").compile(plan, catalog).sql)
    SELECT users.id, users.age
    FROM users
    WHERE users.age > ?
"""

from __future__ import annotations

import dataclasses
import itertools
import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from moltres.expressions import nodes as n
from moltres.logical import plan as p
from moltres.logical.rewrites import literal_is_big
from moltres.sql.catalog import Catalog
from moltres.sql.types import parse_type
from moltres.utils.exceptions import (
    ColumnNotFoundError,
    CompilationError,
    UnsupportedOperationError,
    ValidationError,
)

__all__ = ["LEFT", "RIGHT", "CompiledQuery", "Compiler", "Relation"]

# Qualifiers that name "the left input" and "the right input" of a join, for `on=[("a", "b")]`.
# They cannot collide with user names: identifiers may not contain NUL.
LEFT = "\x00left"
RIGHT = "\x00right"

_AGGREGATES = (n.Aggregate,)
_LEAVES = frozenset({n.Col, n.Lit, n.Star})
# sa.func.<name> builds a generator object on every attribute access; keep one per name
_FUNCTIONS: dict[str, Any] = {}
_WINDOWED = (n.Over,)

Element = ColumnElement[Any]


class Relation:
    """A compiled step: the statement so far and how to reach each of its output columns.

    ``columns`` maps each output name to its expression in terms of the statement's FROM
    clause (not the label), so that the next step can reuse it in ``WHERE`` or ``ORDER BY``.
    ``qualifiers`` maps a table or alias name to ``{column: output name}``.

    A relation that is only ``SELECT <columns> FROM base WHERE <where>`` (a table scan, a
    subquery, a join, with projections and filters on top) may leave its statement unbuilt
    (``select=None`` with ``base`` set): :attr:`select` builds it on first use, a projection or
    an aggregate over it builds its own ``SELECT`` over ``base`` directly, and a join can use
    ``base`` itself as its input, moving ``where`` up into its own ``WHERE`` (see
    :meth:`Compiler._joinable`). Every SQLAlchemy construct built here costs time on a
    never-seen plan.
    """

    __slots__ = (
        "_select",
        "ambiguous",
        "base",
        "columns",
        "distinct",
        "from_clause",
        "grouped",
        "hidden",
        "limited",
        "qualifiers",
        "source",
        "where",
        "windowed",
    )

    def __init__(
        self,
        select: sa.Select[Any] | None,
        columns: dict[str, Element],
        qualifiers: dict[str, dict[str, str]] | None = None,
        ambiguous: set[str] | None = None,
        grouped: bool = False,
        limited: bool = False,
        distinct: bool = False,
        windowed: bool = False,
        from_clause: sa.FromClause | None = None,  # set when the relation is a bare table scan
        source: str = "",  # a readable description for errors
        hidden: dict[str, Element] | None = None,
        base: sa.FromClause | None = None,
        where: tuple[Element, ...] = (),
    ) -> None:
        if select is None and base is None:  # pragma: no cover - a compiler bug
            raise CompilationError("internal error: a relation needs a statement or a FROM clause")
        self._select = select
        self.columns = columns
        self.qualifiers = {} if qualifiers is None else qualifiers
        self.ambiguous = set() if ambiguous is None else ambiguous
        self.grouped = grouped
        self.limited = limited
        self.distinct = distinct
        self.windowed = windowed
        self.from_clause = from_clause
        self.source = source
        # columns of the FROM clause that a projection left out: WHERE and ORDER BY may still
        # use them, as SQL allows, until the relation is wrapped in a subquery
        self.hidden = {} if hidden is None else hidden
        self.base = base
        # the WHERE criteria of an unbuilt statement (select=None); empty once it is built
        self.where = where

    @property
    def select(self) -> sa.Select[Any]:
        """The statement so far (built on first use for a plain ``SELECT ... FROM base``)."""
        select = self._select
        if select is None:
            self._select = select = self.over(self.labeled(), self.columns.values())
            self.where = ()
        return select

    def replace(self, **changes: Any) -> Relation:
        """A copy with some attributes changed (``select=`` replaces the statement).

        Example:
            >>> rel = Relation(sa.select(sa.column("a")), {"a": sa.column("a")})
            >>> rel.replace(limited=True).limited, rel.limited
            (True, False)
        """
        out = object.__new__(Relation)
        # attribute by attribute: a loop over __slots__ with getattr costs twice as much
        out._select, out.columns, out.qualifiers, out.ambiguous = (
            self._select,
            self.columns,
            self.qualifiers,
            self.ambiguous,
        )
        out.grouped, out.limited, out.distinct, out.windowed = self.grouped, self.limited, self.distinct, self.windowed
        out.from_clause, out.source, out.hidden, out.base = self.from_clause, self.source, self.hidden, self.base
        out.where = self.where
        select = changes.pop("select", None)
        if select is not None:
            out._select = select
            out.where = ()  # a statement built from this relation holds its WHERE
        for name, value in changes.items():
            setattr(out, name, value)
        return out

    def over(self, labeled: list[Element], exprs: Iterable[Element]) -> sa.Select[Any]:
        """``SELECT labeled`` over this relation's FROM clause, keeping its WHERE and the rest.

        What ``select.with_only_columns(*labeled, maintain_column_froms=True)`` gives, without
        building the statement first when it is a plain ``SELECT ... FROM base WHERE ...``.
        """
        base = self.base
        if self._select is not None or base is None:
            return self.select.with_only_columns(*labeled, maintain_column_froms=True)
        select = sa.select(*labeled)
        if isinstance(base, sa.Join) or not all(getattr(e, "table", None) is base for e in exprs):
            select = select.select_from(base)  # an output that reads no column of base keeps it
        if self.where:
            select = select.where(*self.where)
        return select

    def unbuilt(self) -> bool:
        """Whether this is a plain ``SELECT ... FROM base WHERE ...`` not built yet."""
        return self._select is None and not (self.grouped or self.limited or self.distinct)

    def labeled(self) -> list[Element]:
        """The output columns, each labeled with its name where it needs one."""
        return [_label(expr, name) for name, expr in self.columns.items()]


_KEEPS_LEFT = frozenset({"inner", "cross", "left"})  # joins that keep every left row as it is
_KEEPS_RIGHT = frozenset({"inner", "cross", "right"})


def _name(clause: sa.FromClause) -> str | None:
    """The name SQL knows a FROM element by (a table, alias, subquery or CTE), if any."""
    return getattr(clause, "name", None)


def _text(expr: Element) -> Element:
    """Treat an expression as text for string operators (the SQL is unchanged)."""
    return expr if isinstance(expr.type, sa.String) else sa.type_coerce(expr, sa.String)


def _label(expr: Element, name: str) -> Element:
    if isinstance(expr, sa.ColumnClause) and expr.name == name and not expr.is_literal:
        return expr
    return expr.label(name)


@dataclass(frozen=True)
class CompiledQuery:
    """A plan compiled for one dialect: the statement, its SQL text and output columns.

    The statement binds literal values as parameters named ``p0``, ``p1``, ...; pass new values
    with :meth:`params` to reuse it for a plan of the same shape.
    """

    statement: sa.Select[Any] | sa.CompoundSelect[Any]
    columns: tuple[str, ...]
    types: tuple[Any, ...]
    param_count: int
    dialect: sa.engine.Dialect

    @property
    def sql(self) -> str:
        """The SQL text with placeholders (never the values)."""
        return str(self.statement.compile(dialect=self.dialect))

    def params(self, values: Sequence[Any]) -> dict[str, Any]:
        """The bound parameters for these literal values, in plan order."""
        if len(_PARAM_NAMES) < len(values):
            param_names(len(values))
        return dict(zip(_PARAM_NAMES, values, strict=False))


_PARAM_NAMES: list[str] = []


def param_names(count: int) -> list[str]:
    """``p0``, ``p1``, ...: the names of the first `count` bound parameters (built once, reused).

    Example:
        >>> param_names(3)
        ['p0', 'p1', 'p2']
    """
    if len(_PARAM_NAMES) < count:
        _PARAM_NAMES.extend(f"p{i}" for i in range(len(_PARAM_NAMES), count))
    return _PARAM_NAMES[:count]


class _Dispatch:
    """Build the visit table once per compiler class."""

    def __get__(self, instance: object, owner: type[Compiler]) -> dict[type, Callable[..., Any]]:
        table = owner.__dict__.get("_dispatch_table")
        if table is None:
            table = {}
            for cls in _all_node_classes():
                method = getattr(owner, f"visit_{cls.__name__}", None)
                if method is not None:
                    table[cls] = method
            owner._dispatch_table = table
        return table


def _all_node_classes() -> list[type[n.Node]]:
    out: list[type[n.Node]] = []
    stack: list[type[n.Node]] = [n.Node]
    while stack:
        cls = stack.pop()
        out.append(cls)
        stack.extend(cls.__subclasses__())
    return out


def _fields(node: object) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(node))  # type: ignore[arg-type]


_FIELD_CACHE: dict[type, tuple[str, ...]] = {}


def _field_names(node: object) -> tuple[str, ...]:
    cls = type(node)
    names = _FIELD_CACHE.get(cls)
    if names is None:
        names = _FIELD_CACHE[cls] = _fields(node)
    return names


_COMPARE: dict[n.CompareOp, Callable[[Any, Any], Element]] = {
    n.CompareOp.EQ: operator.eq,
    n.CompareOp.NE: operator.ne,
    n.CompareOp.LT: operator.lt,
    n.CompareOp.LE: operator.le,
    n.CompareOp.GT: operator.gt,
    n.CompareOp.GE: operator.ge,
}

_LIT_TYPES: dict[type, Any] = {
    bool: sa.Boolean(),
    int: sa.Integer(),
    float: sa.Float(),
    str: sa.String(),
}
_BIG_INTEGER = sa.BigInteger()  # an int literal beyond 32 bits (PostgreSQL casts each parameter)


def _same_name(name: str) -> ValidationError:
    return ValidationError(
        f"two different CTEs are both named '{name}'",
        suggestion="give each df.cte(...) its own name",
    )


class Compiler:
    """Compile plans for one dialect. Subclasses in ``sql/dialects/`` hold the differences.

    A compiler instance is cheap; :meth:`compile` creates the per-query state it needs.
    """

    name: ClassVar[str] = "default"
    # function nodes that are just ``name(arg)`` on this dialect
    simple_functions: ClassVar[dict[type[n.Node], str]] = {
        n.Lower: "lower",
        n.Upper: "upper",
        n.Trim: "trim",
        n.LTrim: "ltrim",
        n.RTrim: "rtrim",
        n.Length: "char_length",
        n.Abs: "abs",
        n.Floor: "floor",
        n.Ceil: "ceil",
        n.Sqrt: "sqrt",
        n.Sum: "sum",
        n.Avg: "avg",
        n.Min: "min",
        n.Max: "max",
        n.StdDev: "stddev_samp",
    }
    # nodes this dialect cannot express, with the alternative to suggest
    unsupported: ClassVar[dict[type[n.Node], str]] = {}
    supports_full_join: ClassVar[bool] = True
    supports_nulls_ordering: ClassVar[bool] = True
    supports_intersect_all: ClassVar[bool] = True

    _dispatch = _Dispatch()
    _dispatch_table: ClassVar[dict[type, Callable[..., Any]]]
    _plan_methods: ClassVar[dict[type, Callable[..., Any]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._plan_methods = {}  # plan class -> this compiler class's plan_<Name> method

    def __init__(self, dialect: sa.engine.Dialect) -> None:
        self.dialect = dialect
        self._counter = 0
        self._names = itertools.count()
        self._catalog: Catalog | None = None
        self._scope: Callable[[n.Col], Element] | None = None
        self._star_scope: Relation | None = None
        self._unique_params = False
        self._ctes: dict[str, tuple[p.WithCTE, Relation]] = {}
        self._visit = self._dispatch

    # -------------------------------------------------------------------------------- entry

    def compile(self, plan: p.Plan, catalog: Catalog) -> CompiledQuery:
        """Compile a plan into a statement whose literals are parameters ``p0``, ``p1``, ...

        Raises:
            CompilationError: The plan cannot be expressed on this dialect.
            ColumnNotFoundError: A column does not exist in its input.
        """
        self._counter = 0
        self._ctes = {}
        self._catalog = catalog
        rel = self.relation(plan)
        statement = rel.select
        return CompiledQuery(
            statement=statement,
            columns=tuple(rel.columns),
            types=tuple(expr.type for expr in rel.columns.values()),
            param_count=self._counter,
            dialect=self.dialect,
        )

    def compile_expression(self, node: n.Node, columns: dict[str, Element], *, unique: bool = True) -> Element:
        """Compile one expression against named columns (used for UPDATE and DELETE).

        With ``unique=False`` its literals become parameters ``p0``, ``p1``, ... numbered on
        from the previous expression this compiler compiled, for a statement that is cached
        and run again with new values (see ``QueryState.prepare_statement``).

        Example:
            >>> import sqlalchemy as sa
            >>> from moltres.sql.dialects import compiler_for
            >>> t = sa.table("t", sa.column("a"))
            >>> c = compiler_for("sqlite")
            >>> str(c.compile_expression(n.IsNull(n.Col("a")), dict(t.c)))
            't.a IS NULL'
        """
        rel = Relation(sa.select(*columns.values()), dict(columns), source="the table")
        self._unique_params = unique
        return self._expr_in(rel, node)

    # -------------------------------------------------------------------------------- plans

    def relation(self, plan: p.Plan) -> Relation:
        """Compile a plan node into a :class:`Relation`."""
        cls = plan.__class__
        method = self._plan_methods.get(cls)
        if method is None:
            method = getattr(type(self), f"plan_{cls.__name__}", None)
            if method is None:  # pragma: no cover - every plan class has a method
                raise CompilationError(f"no rule to compile {cls.__name__}", dialect=self.name)
            self._plan_methods[cls] = method
        return method(self, plan)  # type: ignore[no-any-return]

    def plan_Table(self, plan: p.Table) -> Relation:
        assert self._catalog is not None
        table = self._catalog.table(plan.name, plan.schema)
        columns: dict[str, Element] = {c.name: c for c in table.c}
        return Relation(
            None,
            columns,
            qualifiers={plan.name: {name: name for name in columns}},
            from_clause=table,
            source=f"table '{plan.name}'",
            base=table,
        )

    def plan_RawSQL(self, plan: p.RawSQL) -> Relation:
        assert self._catalog is not None
        names = self._catalog.sql_columns(plan.text, dict(plan.params))
        # unique: two raw queries in one plan may both use ``:n``, or a name moltres uses (``:p0``)
        text = sa.text(plan.text).bindparams(*[sa.bindparam(k, v, unique=True) for k, v in plan.params])
        sub = text.columns(*[sa.column(name) for name in names]).subquery(self._fresh("q"))
        return self._from_subquery(sub, source="the SQL query")

    def plan_Values(self, plan: p.Values) -> Relation:
        types = plan.types or (None,) * len(plan.columns)
        selects = []
        for row in plan.rows:
            items = []
            for name, node, type_name in zip(plan.columns, row, types, strict=False):
                value = self.values_cast(self.expr(node), type_name)
                items.append(value.label(name))
            selects.append(sa.select(*items))
        if not selects:
            empty = [
                sa.cast(sa.null(), parse_type(t or "TEXT")).label(c) for c, t in zip(plan.columns, types, strict=False)
            ]
            selects.append(sa.select(*empty).where(sa.false()))
        source = selects[0] if len(selects) == 1 else sa.union_all(*selects)
        sub = source.subquery(self._fresh("v"))
        return self._from_subquery(sub, source="the inline rows")

    def values_cast(self, value: Element, type_name: str | None) -> Element:
        """Give an inline value its column's type, where the database cannot infer it."""
        return value

    def _from_subquery(self, sub: sa.Subquery, *, source: str, qualifier: str | None = None) -> Relation:
        columns: dict[str, Element] = {c.name: c for c in sub.c}
        qualifiers = {qualifier: {c: c for c in columns}} if qualifier else {}
        return Relation(None, columns, qualifiers=qualifiers, source=source, base=sub)

    def wrap(self, rel: Relation, alias: str | None = None) -> Relation:
        """Turn a relation into ``SELECT ... FROM (previous) AS alias`` so it can be built on."""
        sub = rel.select.subquery(alias or self._fresh("t"))
        out = self._from_subquery(sub, source=rel.source)
        # qualified names still reach the same output columns
        out.qualifiers = {q: {c: o for c, o in m.items() if o in out.columns} for q, m in rel.qualifiers.items()}
        out.ambiguous = set(rel.ambiguous)
        return out

    def _fresh(self, prefix: str) -> str:
        return f"{prefix}_{next(self._names)}"

    def plan_Filter(self, plan: p.Filter) -> Relation:
        rel = self.relation(plan.child)
        if rel.limited or rel.distinct or rel.windowed:
            rel = self.wrap(rel)
        predicate = self._expr_in(rel, plan.predicate)
        if self._has(plan.predicate, _AGGREGATES) and not rel.grouped:
            raise ValidationError(
                "an aggregate function cannot be used in a filter",
                suggestion="aggregate first with group_by(...).agg(...), then filter on the result",
            )
        if rel.unbuilt():  # the statement is built once, with every criterion, when needed
            return rel.replace(where=(*rel.where, predicate), from_clause=None)
        select = rel.select.having(predicate) if rel.grouped else rel.select.where(predicate)
        return rel.replace(select=select, from_clause=None)

    def plan_Project(self, plan: p.Project) -> Relation:
        rel = self.relation(plan.child)
        if rel.grouped or rel.limited or rel.distinct:
            rel = self.wrap(rel)
        columns: dict[str, Element] = {}
        qualifiers: dict[str, dict[str, str]] = {}
        aggregated = windowed = False
        for node in plan.exprs:
            if isinstance(node, n.Star):
                for name in self._star_names(rel, node):
                    columns[name] = rel.columns[name]
                    self._keep_qualifiers(rel, name, name, qualifiers)
                continue
            name = self._output_name(node, len(columns))
            columns[name] = self._expr_in(rel, node)
            if isinstance(node, n.Col):
                self._keep_qualifiers(rel, self._resolve_name(rel, node), name, qualifiers)
            aggregated = aggregated or self._has(node, _AGGREGATES, skip_windows=True)
            windowed = windowed or self._has(node, _WINDOWED)
        if not columns:
            raise ValidationError("select() needs at least one column", suggestion="select('*') keeps every column")
        hidden = {k: v for k, v in {**rel.hidden, **rel.columns}.items() if k not in columns}
        select = None
        if aggregated or not rel.unbuilt():
            select = rel.over([_label(expr, name) for name, expr in columns.items()], columns.values())
        return rel.replace(
            select=select,
            columns=columns,
            qualifiers=qualifiers,
            hidden={} if aggregated else hidden,
            grouped=aggregated,
            windowed=rel.windowed or windowed,
            from_clause=None,
        )

    def _keep_qualifiers(self, rel: Relation, old: str, new: str, into: dict[str, dict[str, str]]) -> None:
        for qualifier, mapping in rel.qualifiers.items():
            for column, output in mapping.items():
                if output == old:
                    into.setdefault(qualifier, {})[column] = new

    def _star_names(self, rel: Relation, star: n.Star) -> list[str]:
        if star.table is None:
            return list(rel.columns)
        mapping = rel.qualifiers.get(star.table)
        if mapping is None:
            raise ValidationError(
                f"'{star.table}.*' names no input of this query",
                suggestion=f"known names: {', '.join(sorted(rel.qualifiers)) or '(none)'}",
            )
        return list(mapping.values())

    def plan_WithColumns(self, plan: p.WithColumns) -> Relation:
        rel = self.relation(plan.child)
        if rel.grouped or rel.limited or rel.distinct:
            rel = self.wrap(rel)
        columns = dict(rel.columns)
        windowed = rel.windowed
        for name, node in plan.assignments:
            if self._has(node, _AGGREGATES, skip_windows=True):
                raise ValidationError(
                    f"with_column('{name}', ...) cannot hold an aggregate",
                    suggestion="use group_by(...).agg(...), or .over(Window...) for a per-row aggregate",
                )
            columns[name] = self._expr_in(rel, node)
            windowed = windowed or self._has(node, _WINDOWED)
        qualifiers = {
            q: {c: o for c, o in m.items() if rel.columns.get(o) is columns.get(o)} for q, m in rel.qualifiers.items()
        }
        labeled = [_label(expr, name) for name, expr in columns.items()]
        return rel.replace(
            select=rel.over(labeled, columns.values()),
            columns=columns,
            qualifiers=qualifiers,
            windowed=windowed,
            from_clause=None,
        )

    def plan_Drop(self, plan: p.Drop) -> Relation:
        rel = self.relation(plan.child)
        for name in plan.names:
            if name not in rel.columns:
                raise ColumnNotFoundError(name, rel.columns, table=rel.source)
        columns = {k: v for k, v in rel.columns.items() if k not in plan.names}
        if not columns:
            raise ValidationError("drop() would remove every column", suggestion="keep at least one column")
        qualifiers = {q: {c: o for c, o in m.items() if o in columns} for q, m in rel.qualifiers.items()}
        labeled = [_label(expr, name) for name, expr in columns.items()]
        return rel.replace(
            select=rel.over(labeled, columns.values()),
            columns=columns,
            qualifiers=qualifiers,
            from_clause=None,
        )

    def plan_Rename(self, plan: p.Rename) -> Relation:
        rel = self.relation(plan.child)
        mapping = dict(plan.mapping)
        for old in mapping:
            if old not in rel.columns:
                raise ColumnNotFoundError(old, rel.columns, table=rel.source)
        columns = {mapping.get(k, k): v for k, v in rel.columns.items()}
        qualifiers = {q: {c: mapping.get(o, o) for c, o in m.items()} for q, m in rel.qualifiers.items()}
        labeled = [_label(expr, name) for name, expr in columns.items()]
        return rel.replace(
            select=rel.over(labeled, columns.values()),
            columns=columns,
            qualifiers=qualifiers,
            from_clause=None,
        )

    def plan_Aggregate(self, plan: p.Aggregate) -> Relation:
        rel = self.relation(plan.child)
        if rel.grouped or rel.limited or rel.distinct or rel.windowed:
            rel = self.wrap(rel)
        columns: dict[str, Element] = {}
        keys: list[Element] = []
        for node in plan.keys:
            name = self._output_name(node, len(columns))
            expr = self._expr_in(rel, node)
            columns[name] = expr
            keys.append(expr)
        for node in plan.aggs:
            name = self._output_name(node, len(columns))
            if name in columns:
                raise ValidationError(
                    f"two aggregate outputs are both named '{name}'",
                    suggestion="give each one an .alias(...)",
                )
            columns[name] = self._expr_in(rel, node)
        labeled = [_label(expr, name) for name, expr in columns.items()]
        select = rel.over(labeled, columns.values())
        if select._order_by_clauses:  # each generative call copies the statement: skip no-ops
            select = select.order_by(None)
        if keys:
            select = select.group_by(*keys)
        return Relation(select, columns, grouped=True, source=rel.source)

    def plan_Sort(self, plan: p.Sort) -> Relation:
        rel = self.relation(plan.child)
        if rel.limited:
            rel = self.wrap(rel)
        terms: list[Any] = []
        for key in plan.keys:
            terms.extend(self.order_terms(key, self._expr_in(rel, key.arg)))
        select = rel.select.order_by(None) if rel.select._order_by_clauses else rel.select
        return rel.replace(select=select.order_by(*terms), from_clause=None)

    def order_terms(self, key: n.SortKey, expr: Element) -> list[Any]:
        """The ORDER BY terms for one sort key; dialects without NULLS FIRST override this."""
        term: Any = expr.desc() if key.descending else expr.asc()
        if key.nulls_first is True:
            term = term.nulls_first()
        elif key.nulls_first is False:
            term = term.nulls_last()
        return [term]

    def plan_Limit(self, plan: p.Limit) -> Relation:
        rel = self.relation(plan.child)
        limit, offset = plan.limit, plan.offset or 0
        if rel.limited:
            # a limit/offset of a limited result composes into one LIMIT/OFFSET: a subquery
            # would lose the ORDER BY, and the outer LIMIT could pick any rows
            before_limit, before_offset = rel.select._limit, rel.select._offset or 0
            if before_limit is not None:
                remaining = max(before_limit - offset, 0)
                limit = remaining if limit is None else min(limit, remaining)
            offset += before_offset
        select = rel.select.limit(limit)
        if offset or select._offset_clause is not None:
            select = select.offset(offset or None)
        return rel.replace(select=select, limited=True, from_clause=None)

    def plan_Distinct(self, plan: p.Distinct) -> Relation:
        rel = self.relation(plan.child)
        if rel.limited:
            rel = self.wrap(rel)
        return rel.replace(select=rel.select.distinct(), distinct=True, from_clause=None)

    def plan_DropDuplicates(self, plan: p.DropDuplicates) -> Relation:
        rel = self.relation(plan.child)
        subset = plan.subset or tuple(rel.columns)
        for name in subset:
            if name not in rel.columns:
                raise ColumnNotFoundError(name, rel.columns, table=rel.source)
        keys = [rel.columns[name] for name in subset]
        rank = sa.func.row_number().over(partition_by=keys, order_by=keys).label("__moltres_rn")
        sub = rel.select.add_columns(rank).subquery(self._fresh("d"))
        columns: dict[str, Element] = {c.name: c for c in sub.c if c.name != "__moltres_rn"}
        select = sa.select(*columns.values()).where(sub.c["__moltres_rn"] == 1)
        return Relation(select, columns, qualifiers=rel.qualifiers, source=rel.source)

    def plan_SubqueryAlias(self, plan: p.SubqueryAlias) -> Relation:
        rel = self.relation(plan.child)
        if rel.from_clause is not None and isinstance(rel.from_clause, sa.Table):
            aliased = rel.from_clause.alias(plan.alias)
            columns = {c.name: c for c in aliased.c}
            return Relation(
                None,
                columns,
                qualifiers={plan.alias: {c: c for c in columns}},
                from_clause=aliased,
                source=f"'{plan.alias}'",
                base=aliased,
            )
        sub = rel.select.subquery(plan.alias)
        out = self._from_subquery(sub, source=f"'{plan.alias}'", qualifier=plan.alias)
        out.from_clause = sub
        return out

    def plan_WithCTE(self, plan: p.WithCTE) -> Relation:
        seen = self._ctes.get(plan.name)
        if seen is not None:
            # the same CTE used twice (a self-join): one WITH entry referenced twice. Its
            # literals were bound the first time, and parameterize() gives no values for the
            # second use, so no parameter numbers are spent here
            if seen[0] != plan:
                raise _same_name(plan.name)
            return seen[1].replace(columns=dict(seen[1].columns))
        rel = self.relation(plan.child)
        if plan.name in self._ctes:  # a CTE of the same name inside this one's input
            raise _same_name(plan.name)
        cte = rel.select.cte(plan.name)
        columns: dict[str, Element] = {c.name: c for c in cte.c}
        out = Relation(
            None,
            columns,
            qualifiers={plan.name: {c: c for c in columns}},
            from_clause=cte,
            source=f"'{plan.name}'",
            base=cte,
        )
        self._ctes[plan.name] = (plan, out)
        return out

    def plan_Sample(self, plan: p.Sample) -> Relation:
        rel = self.relation(plan.child)
        if rel.limited or rel.distinct or rel.grouped or rel.windowed:
            rel = self.wrap(rel)
        return rel.replace(select=rel.select.where(self.sample_predicate(plan.fraction, plan.seed)), from_clause=None)

    def sample_predicate(self, fraction: float, seed: int | None) -> Element:
        """A predicate true for about `fraction` of the rows."""
        if seed is not None:
            raise UnsupportedOperationError(
                f"sample(seed=...) is not repeatable on {self.name}",
                suggestion="drop the seed, or order by a key and use limit() for a repeatable subset",
                dialect=self.name,
            )
        return sa.func.random() < sa.literal(float(fraction))

    def plan_Explode(self, plan: p.Explode) -> Relation:
        rel = self.relation(plan.child)
        if rel.limited or rel.distinct or rel.grouped:
            rel = self.wrap(rel)
        if plan.column not in rel.columns:
            raise ColumnNotFoundError(plan.column, rel.columns, table=rel.source)
        return self.explode(rel, plan.column, plan.alias)

    def explode(self, rel: Relation, column: str, alias: str) -> Relation:
        """One row per array element; dialects override."""
        raise UnsupportedOperationError(
            f"explode() is not available on {self.name}",
            suggestion="store one row per element in a separate table and join it",
            dialect=self.name,
        )

    def plan_SetOperation(self, plan: p.SetOperation) -> Relation:
        left = self.relation(plan.left)
        right = self.relation(plan.right)
        names = list(left.columns)
        if plan.by_name:
            missing = [c for c in names if c not in right.columns]
            if missing or len(right.columns) != len(names):
                raise ValidationError(
                    f"union_by_name needs the same column names on both sides; left has {names}, "
                    f"right has {list(right.columns)}",
                    suggestion="select or rename columns so both sides match",
                )
            right = right.replace(
                select=right.select.with_only_columns(
                    *[_label(right.columns[c], c) for c in names], maintain_column_froms=True
                ),
                columns={c: right.columns[c] for c in names},
            )
        elif len(right.columns) != len(names):
            raise ValidationError(
                f"{plan.kind} needs the same number of columns on both sides ({len(names)} vs {len(right.columns)})",
                suggestion="select matching columns, or use union_by_name",
            )
        members = [self._set_member(left), self._set_member(right)]
        if plan.kind == "union":
            compound = sa.union(*members) if plan.distinct else sa.union_all(*members)
        elif plan.kind == "intersect":
            compound = sa.intersect(*members) if plan.distinct else self._intersect_all(members)
        else:
            compound = sa.except_(*members) if plan.distinct else self._except_all(members)
        sub = compound.subquery(self._fresh("u"))
        return self._from_subquery(sub, source=f"the {plan.kind}")

    def _set_member(self, rel: Relation) -> sa.Select[Any]:
        select = rel.select
        if select._limit_clause is not None or select._offset_clause is not None or select._order_by_clauses:
            sub = select.subquery(self._fresh("m"))
            return sa.select(*sub.c)
        return select

    def _intersect_all(self, members: list[sa.Select[Any]]) -> sa.CompoundSelect[Any]:
        if not self.supports_intersect_all:
            raise UnsupportedOperationError(
                f"INTERSECT ALL is not available on {self.name}",
                suggestion="use intersect() (distinct rows)",
                dialect=self.name,
            )
        return sa.intersect_all(*members)

    def _except_all(self, members: list[sa.Select[Any]]) -> sa.CompoundSelect[Any]:
        if not self.supports_intersect_all:
            raise UnsupportedOperationError(
                f"EXCEPT ALL is not available on {self.name}",
                suggestion="use except_() (distinct rows)",
                dialect=self.name,
            )
        return sa.except_all(*members)

    # -------------------------------------------------------------------------------- joins

    def plan_Join(self, plan: p.Join) -> Relation:
        left = self.relation(plan.left)
        right = self.relation(plan.right)
        if plan.how in ("semi", "anti"):
            return self._semi_join(plan, left, right)
        if plan.how == "full" and not self.supports_full_join:
            raise UnsupportedOperationError(
                f"FULL OUTER JOIN is not available on {self.name}",
                suggestion="union a left join with the right rows that have no match (an anti join)",
                dialect=self.name,
            )
        # a side whose rows the join keeps (not NULL-extended) may join its FROM directly, its
        # WHERE moving up into the join's: SQL filters before joining either way
        left_from, left = self._joinable(left, "l", merge=plan.how in _KEEPS_LEFT)
        right_from, joinable = self._joinable(right, "r", merge=plan.how in _KEEPS_RIGHT)
        if right_from is left_from or _name(right_from) == _name(left_from) is not None:
            # one name on both sides (a self-join without alias()): the right side becomes a
            # subquery under a fresh name, its qualifiers still reaching its columns
            right_from, joinable = self._joinable(right, "r", force=True, fresh=True)
        right = joinable
        on = self._join_condition(plan, left, right)
        if plan.how == "inner":
            joined = left_from.join(right_from, on)
        elif plan.how == "left":
            joined = left_from.outerjoin(right_from, on)
        elif plan.how == "right":
            joined = right_from.outerjoin(left_from, on)
        elif plan.how == "full":
            joined = left_from.outerjoin(right_from, on, full=True)
        elif plan.how == "cross":
            joined = left_from.join(right_from, sa.true())
        else:
            raise ValidationError(
                f"unknown join type {plan.how!r}",
                suggestion="use inner, left, right, full, cross, semi or anti",
            )
        columns: dict[str, Element] = {}
        qualifiers: dict[str, dict[str, str]] = {}
        for name, expr in left.columns.items():
            merged = expr
            if name in plan.using:
                other = right.columns[name]
                if plan.how == "right":
                    merged = other
                elif plan.how == "full":
                    merged = sa.func.coalesce(expr, other)
            columns[name] = merged
        for q, m in left.qualifiers.items():
            qualifiers[q] = dict(m)
        right_names: dict[str, str] = {}
        ambiguous = set(left.ambiguous) | set(right.ambiguous)
        right_label = next(iter(right.qualifiers), "right")
        for name, expr in right.columns.items():
            if name in plan.using:
                right_names[name] = name
                continue
            out = name
            if out in columns:
                ambiguous.add(name)
                out = f"{right_label}_{name}"
                while out in columns:
                    out = f"{out}_"
            columns[out] = expr
            right_names[name] = out
        for q, m in right.qualifiers.items():
            qualifiers.setdefault(q, {}).update({c: right_names.get(o, o) for c, o in m.items()})
        return Relation(
            None,
            columns,
            qualifiers=qualifiers,
            ambiguous=ambiguous - set(plan.using),
            source="the join",
            base=joined,
            where=(*left.where, *right.where),
        )

    def _joinable(
        self, rel: Relation, prefix: str, *, force: bool = False, merge: bool = False, fresh: bool = False
    ) -> tuple[sa.FromClause, Relation]:
        """The FROM clause a join reads `rel` through, and `rel` in terms of it.

        A table scan is its table. With `merge`, a plain ``SELECT ... FROM base WHERE ...``
        over one table or subquery is `base`, and the relation returned keeps its WHERE
        criteria for the join to apply (its columns are already expressions over `base`);
        anything else becomes a subquery (named after its one qualifier unless `fresh`), and
        the relation returned has no WHERE left.
        """
        if not force:
            if rel.from_clause is not None:
                return rel.from_clause, rel
            base = rel.base
            if merge and base is not None and not isinstance(base, sa.Join) and rel.unbuilt() and not rel.windowed:
                return base, rel
        name = next(iter(rel.qualifiers), None) if len(rel.qualifiers) == 1 and not fresh else None
        sub = rel.select.subquery(name or self._fresh(prefix))
        out = self._from_subquery(sub, source=rel.source)
        out.qualifiers = {q: {c: o for c, o in m.items() if o in out.columns} for q, m in rel.qualifiers.items()}
        return sub, out

    def _join_condition(self, plan: p.Join, left: Relation, right: Relation) -> Element:
        if plan.how == "cross":
            return sa.true()
        if plan.using:
            terms = []
            for name in plan.using:
                if name not in left.columns:
                    raise ColumnNotFoundError(name, left.columns, table=f"the left side of the join ({left.source})")
                if name not in right.columns:
                    raise ColumnNotFoundError(name, right.columns, table=f"the right side of the join ({right.source})")
                terms.append(left.columns[name] == right.columns[name])
            return sa.and_(*terms)
        if plan.on is None:
            raise ValidationError(
                f"a {plan.how} join needs on=",
                suggestion="join(other, on='id'), on=[('user_id', 'id')], or an expression; how='cross' needs none",
            )
        return self._with_scope(self._join_resolver(left, right), plan.on)

    def _join_resolver(self, left: Relation, right: Relation) -> Callable[[n.Col], Element]:
        def resolve(c: n.Col) -> Element:
            if c.table == LEFT:
                return self._resolve(left, n.Col(c.name))
            if c.table == RIGHT:
                return self._resolve(right, n.Col(c.name))
            if c.table is not None:
                in_left = c.table in left.qualifiers
                in_right = c.table in right.qualifiers
                if in_left and not in_right:
                    return self._resolve(left, c)
                if in_right and not in_left:
                    return self._resolve(right, c)
                if in_left and in_right:
                    raise ValidationError(
                        f"'{c.table}' names both sides of the join",
                        suggestion="give one side another name with df.alias('other')",
                    )
                known = sorted(set(left.qualifiers) | set(right.qualifiers))
                raise ValidationError(
                    f"'{c.table}.{c.name}': '{c.table}' names no input of this join",
                    suggestion=f"qualify with one of: {', '.join(known) or '(none: use df.alias(...))'}",
                )
            in_left = c.name in left.columns
            in_right = c.name in right.columns
            if in_left and in_right:
                raise ValidationError(
                    f"column '{c.name}' is on both sides of the join",
                    suggestion=f"qualify it, e.g. col('{next(iter(left.qualifiers), 'left')}.{c.name}'), "
                    f"or join with on='{c.name}'",
                )
            if in_left:
                return left.columns[c.name]
            if in_right:
                return right.columns[c.name]
            raise ColumnNotFoundError(c.name, [*left.columns, *right.columns], table="either side of the join")

        return resolve

    def _semi_join(self, plan: p.Join, left: Relation, right: Relation) -> Relation:
        if left.limited or left.distinct or left.windowed or left.grouped:
            left = self.wrap(left)
        right_from, right = self._joinable(right, "r", force=right.from_clause is None)
        if plan.using:
            for name in plan.using:
                if name not in left.columns:
                    raise ColumnNotFoundError(name, left.columns, table="the left side of the join")
                if name not in right.columns:
                    raise ColumnNotFoundError(name, right.columns, table="the right side of the join")
            cond = sa.and_(*[left.columns[c] == right.columns[c] for c in plan.using])
        elif plan.on is not None:
            cond = self._with_scope(self._join_resolver(left, right), plan.on)
        else:
            raise ValidationError(f"a {plan.how} join needs on=", suggestion="join(other, on='id', how='semi')")
        exists = sa.exists(sa.select(sa.literal(1)).select_from(right_from).where(cond))
        predicate = exists if plan.how == "semi" else ~exists
        return left.replace(select=left.select.where(predicate), from_clause=None)

    # -------------------------------------------------------------------------------- columns

    def _resolve_name(self, rel: Relation, c: n.Col) -> str:
        if c.table is not None:
            mapping = rel.qualifiers.get(c.table)
            if mapping is None:
                raise ValidationError(
                    f"'{c.table}.{c.name}': '{c.table}' names no input here",
                    suggestion=f"known names: {', '.join(sorted(rel.qualifiers)) or '(none)'}; "
                    "name an input with df.alias('name')",
                )
            if c.name not in mapping:
                raise ColumnNotFoundError(c.name, list(mapping), table=c.table)
            return mapping[c.name]
        if c.name not in rel.columns:
            if c.name in rel.hidden and not rel.grouped and not rel.distinct:
                return c.name
            raise ColumnNotFoundError(c.name, rel.columns, table=rel.source)
        if c.name in rel.ambiguous:
            raise ValidationError(
                f"column '{c.name}' is ambiguous after the join",
                suggestion="qualify it with the table or alias name: "
                + ", ".join(f"col('{q}.{c.name}')" for q, m in rel.qualifiers.items() if c.name in m),
            )
        return c.name

    def _resolve(self, rel: Relation, c: n.Col) -> Element:
        if c.table is None:  # the usual unqualified output column: what _resolve_name finds
            found = rel.columns.get(c.name)
            if found is not None and c.name not in rel.ambiguous:
                return found
        name = self._resolve_name(rel, c)
        found = rel.columns.get(name)
        return found if found is not None else rel.hidden[name]

    def _expr_in(self, rel: Relation, node: n.Node) -> Element:
        if node.__class__ is n.Col:  # a bare column (select("a"), group_by("a")): no scope to set
            return self._resolve(rel, node)
        return self._with_scope(lambda c: self._resolve(rel, c), node, star_scope=rel)

    def _with_scope(
        self, scope: Callable[[n.Col], Element], node: n.Node, *, star_scope: Relation | None = None
    ) -> Element:
        saved = self._scope, self._star_scope
        self._scope, self._star_scope = scope, star_scope
        try:
            return self.expr(node)
        finally:
            self._scope, self._star_scope = saved

    def _output_name(self, node: n.Node, position: int) -> str:
        if isinstance(node, n.Alias):
            return node.name
        if isinstance(node, n.Col):
            return node.name
        if isinstance(node, n.Count) and isinstance(node.arg, n.Star):
            return "count"
        fields = _field_names(node)
        if fields and isinstance(getattr(node, fields[0]), n.Col) and len(fields) <= 2:
            return f"{type(node).__name__.lower()}_{getattr(node, fields[0]).name}"
        if isinstance(node, n.Over):
            return f"{type(node.func).__name__.lower()}_{position}"
        return f"{type(node).__name__.lower()}_{position}"

    @staticmethod
    def _has(node: n.Node, kinds: tuple[type, ...], *, skip_windows: bool = False) -> bool:
        if node.__class__ in _LEAVES:  # the usual select("name"): nothing below to walk
            return isinstance(node, kinds)
        stack: list[Any] = [node]
        while stack:
            obj = stack.pop()
            if skip_windows and isinstance(obj, n.Over):
                continue
            if isinstance(obj, kinds):
                return True
            if isinstance(obj, n.Node):
                stack.extend([getattr(obj, f) for f in _field_names(obj)])
            elif isinstance(obj, tuple):
                stack.extend(obj)
        return False

    # -------------------------------------------------------------------------------- expressions

    def expr(self, node: n.Node) -> Element:
        """Compile an expression node: children first, in field order, then the node itself."""
        cls = node.__class__
        method = self._visit.get(cls)
        if method is not None and cls not in self.unsupported:  # the usual case, first
            if cls in _LEAVES:
                return method(self, node)  # type: ignore[no-any-return]
            kwargs = {f: self._child(getattr(node, f)) for f in _field_names(node)}
            return method(self, node, **kwargs)  # type: ignore[no-any-return]
        if type(node) in self.unsupported:
            raise UnsupportedOperationError(
                f"{type(node).__name__} is not available on {self.name}",
                suggestion=self.unsupported[type(node)],
                dialect=self.name,
                operation=type(node).__name__,
            )
        if method is None:
            simple = self.simple_functions.get(type(node))
            if simple is None:
                raise UnsupportedOperationError(
                    f"{type(node).__name__} is not available on {self.name}",
                    suggestion="express it with other functions, or run db.sql(...) with the dialect's own SQL",
                    dialect=self.name,
                    operation=type(node).__name__,
                )
            args = [self._child(getattr(node, f)) for f in _field_names(node)]
            function = _FUNCTIONS.get(simple)
            if function is None:
                function = _FUNCTIONS[simple] = getattr(sa.func, simple)
            return function(*args)  # type: ignore[no-any-return]
        if isinstance(node, (n.Col, n.Lit, n.Star)):
            return method(self, node)  # type: ignore[no-any-return]
        kwargs = {f: self._child(getattr(node, f)) for f in _field_names(node)}
        return method(self, node, **kwargs)  # type: ignore[no-any-return]

    def _child(self, value: Any) -> Any:
        if isinstance(value, n.Node):
            return self.expr(value)
        if isinstance(value, tuple):
            return tuple(self._child(v) for v in value)
        return value

    def visit_Col(self, node: n.Col) -> Element:
        assert self._scope is not None
        return self._scope(node)

    def visit_Star(self, node: n.Star) -> Element:
        return sa.literal_column("*")

    def visit_Lit(self, node: n.Lit) -> Element:
        # Everything read from the value here must be in its shape (rewrites.parameterize):
        # the statement is reused for every plan of the same shape. SQLAlchemy types an
        # untyped value (dates, decimals, IN lists) by the value itself.
        key = f"p{self._counter}"
        self._counter += 1
        unique = self._unique_params
        kind = node.kind
        if kind is tuple:
            return sa.bindparam(key, node.value, expanding=True, unique=unique)
        if kind is int and literal_is_big(node.value):  # type: ignore[arg-type]
            return sa.bindparam(key, node.value, type_=_BIG_INTEGER, unique=unique)
        return sa.bindparam(key, node.value, type_=_LIT_TYPES.get(kind), unique=unique)

    def visit_Alias(self, node: n.Alias, *, arg: Element, name: str) -> Element:
        return arg

    def visit_Compare(self, node: n.Compare, *, op: n.CompareOp, left: Element, right: Element) -> Element:
        if isinstance(node.right, n.Lit) and node.right.value is None and op in (n.CompareOp.EQ, n.CompareOp.NE):
            return left.is_(None) if op is n.CompareOp.EQ else left.is_not(None)
        return _COMPARE[op](left, right)

    def visit_Add(self, node: n.Add, *, left: Element, right: Element) -> Element:
        return left + right

    def visit_Sub(self, node: n.Sub, *, left: Element, right: Element) -> Element:
        return left - right

    def visit_Mul(self, node: n.Mul, *, left: Element, right: Element) -> Element:
        return left * right

    def visit_Div(self, node: n.Div, *, left: Element, right: Element) -> Element:
        return sa.cast(left, sa.Double) / right

    def visit_Mod(self, node: n.Mod, *, left: Element, right: Element) -> Element:
        return left % right

    def visit_Neg(self, node: n.Neg, *, arg: Element) -> Element:
        return -arg

    def visit_And(self, node: n.And, *, left: Element, right: Element) -> Element:
        return sa.and_(left, right)

    def visit_Or(self, node: n.Or, *, left: Element, right: Element) -> Element:
        return sa.or_(left, right)

    def visit_Not(self, node: n.Not, *, arg: Element) -> Element:
        return sa.not_(arg)

    def visit_IsNull(self, node: n.IsNull, *, arg: Element) -> Element:
        return arg.is_(None)

    def visit_IsNotNull(self, node: n.IsNotNull, *, arg: Element) -> Element:
        return arg.is_not(None)

    def visit_InList(self, node: n.InList, *, arg: Element, values: tuple[Element, ...]) -> Element:
        if not values:
            return sa.false()
        return arg.in_(list(values))

    def visit_Between(self, node: n.Between, *, arg: Element, low: Element, high: Element) -> Element:
        return arg.between(low, high)

    def visit_Like(self, node: n.Like, *, arg: Element, pattern: Element) -> Element:
        return _text(arg).like(pattern)

    def visit_ILike(self, node: n.ILike, *, arg: Element, pattern: Element) -> Element:
        return _text(arg).ilike(pattern)

    def visit_RLike(self, node: n.RLike, *, arg: Element, pattern: Element) -> Element:
        return _text(arg).regexp_match(pattern)

    def _escaped(self, value: Element) -> Element:
        escaped = sa.func.replace(sa.func.replace(sa.func.replace(value, "/", "//"), "%", "/%"), "_", "/_")
        return sa.type_coerce(escaped, sa.String)

    def visit_StartsWith(self, node: n.StartsWith, *, arg: Element, prefix: Element) -> Element:
        return _text(arg).startswith(self._escaped(prefix), escape="/")

    def visit_EndsWith(self, node: n.EndsWith, *, arg: Element, suffix: Element) -> Element:
        return _text(arg).endswith(self._escaped(suffix), escape="/")

    def visit_Contains(self, node: n.Contains, *, arg: Element, substring: Element) -> Element:
        return _text(arg).contains(self._escaped(substring), escape="/")

    def visit_Cast(self, node: n.Cast, *, arg: Element, to: str) -> Element:
        return sa.cast(arg, parse_type(to))

    def visit_Case(
        self, node: n.Case, *, whens: tuple[tuple[Element, Element], ...], default: Element | None
    ) -> Element:
        return sa.case(*whens, else_=default)

    def visit_Coalesce(self, node: n.Coalesce, *, args: tuple[Element, ...]) -> Element:
        return sa.func.coalesce(*args)

    def visit_Substring(self, node: n.Substring, *, arg: Element, start: Element, length: Element | None) -> Element:
        if length is None:
            return sa.func.substr(arg, start)
        return sa.func.substr(arg, start, length)

    def visit_Concat(self, node: n.Concat, *, args: tuple[Element, ...]) -> Element:
        out: Element = sa.type_coerce(args[0], sa.String)
        for arg in args[1:]:
            out = out.op("||")(arg)
        return sa.type_coerce(out, sa.String)

    def visit_Replace(self, node: n.Replace, *, arg: Element, search: Element, replacement: Element) -> Element:
        return sa.func.replace(arg, search, replacement)

    def visit_Round(self, node: n.Round, *, arg: Element, digits: int) -> Element:
        return sa.func.round(arg, sa.literal_column(str(int(digits))))

    def visit_Power(self, node: n.Power, *, base: Element, exponent: Element) -> Element:
        return sa.func.power(base, exponent, type_=sa.Float)

    def visit_CurrentDate(self, node: n.CurrentDate) -> Element:
        return sa.func.current_date(type_=sa.Date)

    def visit_CurrentTimestamp(self, node: n.CurrentTimestamp) -> Element:
        return sa.func.current_timestamp(type_=sa.DateTime)

    def visit_Extract(self, node: n.Extract, *, part: n.DatePart, arg: Element) -> Element:
        return sa.cast(sa.extract(part.value, arg), sa.Integer)

    def visit_Count(self, node: n.Count, *, arg: Element) -> Element:
        if isinstance(node.arg, n.Star):
            return sa.func.count()
        return sa.func.count(arg)

    def visit_CountDistinct(self, node: n.CountDistinct, *, arg: Element) -> Element:
        return sa.func.count(sa.distinct(arg))

    def visit_RowNumber(self, node: n.RowNumber) -> Element:
        return sa.func.row_number()

    def visit_Rank(self, node: n.Rank) -> Element:
        return sa.func.rank()

    def visit_DenseRank(self, node: n.DenseRank) -> Element:
        return sa.func.dense_rank()

    def visit_Lag(self, node: n.Lag, *, arg: Element, offset: int, default: Element | None) -> Element:
        args: list[Any] = [arg, sa.literal_column(str(int(offset)))]
        if default is not None:
            args.append(default)
        return sa.func.lag(*args, type_=arg.type)

    def visit_Lead(self, node: n.Lead, *, arg: Element, offset: int, default: Element | None) -> Element:
        args: list[Any] = [arg, sa.literal_column(str(int(offset)))]
        if default is not None:
            args.append(default)
        return sa.func.lead(*args, type_=arg.type)

    def visit_SortKey(self, node: n.SortKey, *, arg: Element, descending: bool, nulls_first: bool | None) -> Any:
        terms = self.order_terms(node, arg)
        if len(terms) != 1:
            # dialects without NULLS FIRST/LAST sort on "is null" first: both terms, unparenthesized
            return sa.sql.expression.ClauseList(*terms, group=False)
        return terms[0]

    def visit_Frame(self, node: n.Frame, *, kind: str, start: int | None, end: int | None) -> Any:
        return (kind, (start, end))

    def visit_Over(
        self,
        node: n.Over,
        *,
        func: Element,
        partition_by: tuple[Element, ...],
        order_by: tuple[Any, ...],
        frame: tuple[str, tuple[int | None, int | None]] | None,
    ) -> Element:
        kwargs: dict[str, Any] = {}
        if partition_by:
            kwargs["partition_by"] = list(partition_by)
        if order_by:
            kwargs["order_by"] = list(order_by)
        if frame is not None:
            kind, bounds = frame
            kwargs["rows" if kind == "rows" else "range_"] = bounds
        return func.over(**kwargs)  # type: ignore[no-any-return]

    def visit_JsonExtract(self, node: n.JsonExtract, *, arg: Element, path: str) -> Element:
        return sa.func.json_extract(arg, sa.literal(path), type_=sa.String)

    def visit_CollectList(self, node: n.CollectList, *, arg: Element) -> Element:
        return sa.func.array_agg(arg)


def validate_identifiers(names: Iterable[str]) -> None:
    """Reject identifiers SQL cannot hold safely (empty, NUL, over 63 characters).

    Quoting is SQLAlchemy's job; this catches what quoting cannot fix.

    Example:
        >>> validate_identifiers(["users", "order lines"])
    """
    for name in names:
        if not isinstance(name, str) or not name or "\x00" in name or len(name) > 63:
            raise ValidationError(
                f"{name!r} is not a valid table or column name",
                suggestion="use a non-empty name of at most 63 characters",
            )
