"""MySQL and MariaDB: their SQL, error numbers, statement timeouts and upserts."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement

from moltres.expressions import nodes as n
from moltres.sql.compiler import Compiler, Element
from moltres.sql.dialects.base import ErrorKind, Rules

__all__ = ["RULES", "MySQLCompiler", "MySQLRules"]


class _IntervalDays(ColumnElement[Any]):
    """``INTERVAL <n> DAY``, which MySQL needs for date arithmetic."""

    inherit_cache = True

    def __init__(self, days: Element) -> None:
        self.days = days
        self.type = sa.Integer()


@compiles(_IntervalDays)
def _compile_interval(element: _IntervalDays, compiler: Any, **kw: Any) -> str:
    return f"INTERVAL {compiler.process(element.days, **kw)} DAY"


_TRUNC_FORMAT = {
    n.DatePart.YEAR: "%Y-01-01",
    n.DatePart.MONTH: "%Y-%m-01",
    n.DatePart.DAY: "%Y-%m-%d",
    n.DatePart.HOUR: "%Y-%m-%d %H:00:00",
    n.DatePart.MINUTE: "%Y-%m-%d %H:%i:00",
    n.DatePart.SECOND: "%Y-%m-%d %H:%i:%s",
}


class MySQLCompiler(Compiler):
    """MySQL's and MariaDB's SQL."""

    name = "mysql"
    supports_full_join = False
    supports_nulls_ordering = False
    unsupported: ClassVar[dict[type[n.Node], str]] = {
        n.Split: "MySQL has no arrays: use F.substring with locate(), or PostgreSQL/DuckDB",
    }

    def __init__(self, dialect: sa.engine.Dialect) -> None:
        super().__init__(dialect)
        # lag/lead nodes whose default MariaDB cannot take as a third argument
        self._offset_defaults: dict[int, tuple[int, Element]] = {}

    def _offset(self, name: str, node: n.Lag | n.Lead, arg: Element, offset: int, default: Element | None) -> Element:
        if default is not None:
            self._offset_defaults[id(node)] = (int(offset), default)
        return getattr(sa.func, name)(arg, sa.literal_column(str(int(offset))), type_=arg.type)  # type: ignore[no-any-return]

    def visit_Lag(self, node: n.Lag, *, arg: Element, offset: int, default: Element | None) -> Element:
        return self._offset("lag", node, arg, offset, default)

    def visit_Lead(self, node: n.Lead, *, arg: Element, offset: int, default: Element | None) -> Element:
        return self._offset("lead", node, arg, offset, default)

    def visit_Over(
        self,
        node: n.Over,
        *,
        func: Element,
        partition_by: tuple[Element, ...],
        order_by: tuple[Any, ...],
        frame: tuple[str, tuple[int | None, int | None]] | None,
    ) -> Element:
        over = super().visit_Over(node, func=func, partition_by=partition_by, order_by=order_by, frame=frame)
        found = self._offset_defaults.pop(id(node.func), None)
        if found is None:
            return over
        # MariaDB's LAG/LEAD take no default: use it where the offset row does not exist
        offset, default = found
        window: dict[str, Any] = {"partition_by": list(partition_by) or None, "order_by": list(order_by) or None}
        position = sa.func.row_number().over(**window)
        if isinstance(node.func, n.Lag):
            exists = position > offset
        else:
            exists = sa.func.count().over(partition_by=window["partition_by"]) - position >= offset
        return sa.case((exists, over), else_=default)

    def order_terms(self, key: n.SortKey, expr: Element) -> list[Any]:
        term: Any = expr.desc() if key.descending else expr.asc()
        if key.nulls_first is None:
            return [term]
        # MySQL has no NULLS FIRST/LAST: sort on "is null" first
        nulls = expr.is_(None)
        return [nulls.desc() if key.nulls_first else nulls.asc(), term]

    def visit_Div(self, node: n.Div, *, left: Element, right: Element) -> Element:
        # integer / integer is a DECIMAL with 4 digits (7 / 3 = 2.3333) in MySQL; times the
        # DOUBLE literal 1e0 it is a true floating-point division, as elsewhere (CAST AS DOUBLE
        # is missing from older MariaDB/MySQL)
        return sa.type_coerce(left.op("*")(sa.literal_column("1e0")).op("/")(right), sa.Float)

    def visit_Cast(self, node: n.Cast, *, arg: Element, to: str) -> Element:
        from moltres.sql.types import parse_type

        target = parse_type(to)
        if isinstance(target, sa.Float):
            return sa.cast(arg, mysql.DOUBLE(asdecimal=False))  # a float, not a Decimal
        if isinstance(target, sa.Integer):
            return sa.cast(arg, mysql.INTEGER() if not isinstance(target, sa.BigInteger) else mysql.BIGINT())
        if isinstance(target, sa.Boolean):
            return sa.type_coerce(sa.cast(arg, mysql.INTEGER()) != 0, sa.Boolean)
        return sa.cast(arg, target)

    def values_cast(self, value: Element, type_name: str | None) -> Element:
        # a parameter comes back as the text the driver sent ('2024-01-02', '1.5'): cast it
        if type_name is None:
            return value
        return self.visit_Cast(n.Cast(n.Lit(None, type(None)), type_name), arg=value, to=type_name)

    def visit_RLike(self, node: n.RLike, *, arg: Element, pattern: Element) -> Element:
        # REGEXP follows the collation, case-insensitive by default: (?-i) makes it case-sensitive
        # like the regular expressions of the other databases
        return sa.type_coerce(arg, sa.String).regexp_match(sa.func.concat("(?-i)", pattern))

    def visit_Concat(self, node: n.Concat, *, args: tuple[Element, ...]) -> Element:
        return sa.func.concat(*args, type_=sa.String)

    def visit_RegexpExtract(self, node: n.RegexpExtract, *, arg: Element, pattern: Element) -> Element:
        return sa.func.regexp_substr(arg, pattern, type_=sa.String)

    def visit_DateAdd(self, node: n.DateAdd, *, arg: Element, days: Element) -> Element:
        return sa.func.date_add(sa.func.date(arg), _IntervalDays(days), type_=sa.Date)

    def visit_DateDiff(self, node: n.DateDiff, *, end: Element, start: Element) -> Element:
        return sa.func.datediff(end, start, type_=sa.Integer)

    def visit_DateTrunc(self, node: n.DateTrunc, *, unit: n.DatePart, arg: Element) -> Element:
        if unit is n.DatePart.QUARTER:
            month = (sa.func.quarter(arg) - 1) * 3 + 1
            return sa.func.str_to_date(sa.func.concat(sa.func.year(arg), "-", month, "-01"), "%Y-%m-%d", type_=sa.Date)
        fmt = _TRUNC_FORMAT[unit]
        if unit in (n.DatePart.YEAR, n.DatePart.MONTH, n.DatePart.DAY):
            return sa.cast(sa.func.date_format(arg, fmt), sa.Date)
        return sa.cast(sa.func.date_format(arg, fmt), sa.DateTime)

    def visit_JsonExtract(self, node: n.JsonExtract, *, arg: Element, path: str) -> Element:
        return sa.func.json_unquote(sa.func.json_extract(arg, path), type_=sa.String)

    def visit_CollectList(self, node: n.CollectList, *, arg: Element) -> Element:
        return sa.func.json_arrayagg(arg, type_=sa.JSON)

    def sample_predicate(self, fraction: float, seed: int | None) -> Element:
        rand = sa.func.rand() if seed is None else sa.func.rand(sa.literal_column(str(int(seed))))
        return rand < float(fraction)


class MySQLRules(Rules):
    """MySQL's and MariaDB's runtime behaviour."""

    name = "mysql"
    compiler_class = MySQLCompiler
    driver_extras: ClassVar[dict[str, str]] = {"pymysql": "mysql", "aiomysql": "async", "mysqldb": "mysql"}
    transactional_ddl = False
    supports_server_side_cursors = True
    error_codes: ClassVar[dict[str, str]] = {
        ErrorKind.TABLE_NOT_FOUND: "1146 1051",
        ErrorKind.COLUMN_NOT_FOUND: "1054",
        ErrorKind.TIMEOUT: "1969 3024 1317",
        ErrorKind.DEADLOCK: "1213 1205",
        ErrorKind.CONNECTION: "2002 2003 2005 2006 2013 1045 1049",
        ErrorKind.CONSTRAINT: "1062 1451 1452 1048 4025",
        ErrorKind.SYNTAX: "1064",
    }

    def error_code(self, exc: BaseException) -> str | None:
        # the error number (1146), which error_codes lists; PyMySQL also gives a SQLSTATE (42S02)
        args = getattr(getattr(exc, "orig", exc), "args", ())
        if args and isinstance(args[0], int):
            return str(args[0])
        return super().error_code(exc)

    def on_connect(self, dbapi_connection: Any) -> None:
        # an explicit 0 in an AUTO_INCREMENT key is the value 0, not "the next number"
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SET SESSION sql_mode = CONCAT_WS(',', NULLIF(@@sql_mode, ''), 'NO_AUTO_VALUE_ON_ZERO')")
        finally:
            cursor.close()

    def reflect(self, conn: sa.Connection, name: str, schema: str | None) -> sa.Table:
        table = super().reflect(conn, name, schema)
        for c in table.c:
            # MySQL's DOUBLE/FLOAT reflect with asdecimal=True: read them as floats, as elsewhere;
            # the generic type, because arithmetic on MySQL's own (col * 2) makes a new one
            # with asdecimal=True again
            if isinstance(c.type, sa.Float):
                c.type = sa.Double()
        return table

    @contextlib.contextmanager
    def statement_timeout(self, connection: sa.Connection, seconds: float | None) -> Iterator[None]:
        if not seconds:
            yield
            return
        connection.exec_driver_sql(f"SET SESSION max_statement_time = {float(seconds):.3f}")
        try:
            yield
        finally:
            with contextlib.suppress(sa.exc.DBAPIError):
                connection.exec_driver_sql("SET SESSION max_statement_time = 0")

    def upsert(
        self, table: sa.Table, rows: Sequence[dict[str, Any]], keys: Sequence[str], update: Sequence[str]
    ) -> Any:
        stmt = mysql.insert(table)
        columns = update or list(keys)[:1]  # "do nothing" is an update of a key to itself
        return stmt.on_duplicate_key_update({c: stmt.inserted[c] if update else table.c[c] for c in columns})


RULES = MySQLRules()
