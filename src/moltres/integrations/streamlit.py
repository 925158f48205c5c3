"""Streamlit glue: ``st.connection`` support, display, a query builder, caching, session helpers.

Example:
    .. code-block:: python

        import streamlit as st
        from moltres.integrations.streamlit import MoltresConnection, moltres_dataframe, query_builder

        conn = st.connection("db", type=MoltresConnection, url="sqlite:///example.db")
        query = query_builder(conn.db)
        if query is not None:
            moltres_dataframe(query)
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast, overload

from moltres.utils.optional import require

require("streamlit", "streamlit")

import streamlit as st  # noqa: E402
from streamlit.connections import BaseConnection  # noqa: E402

from moltres import Database, col, connect  # noqa: E402
from moltres.dataframe.dataframe import DataFrame  # noqa: E402
from moltres.expressions.column import Column  # noqa: E402
from moltres.logical.plan import Plan  # noqa: E402
from moltres.utils.exceptions import MoltresError, ValidationError  # noqa: E402

__all__ = [
    "MoltresConnection",
    "QueryReport",
    "cached_query",
    "close_session_databases",
    "get_db_from_session",
    "invalidate_query_cache",
    "moltres_dataframe",
    "query_builder",
    "plan_tree",
    "query_fingerprint",
    "visualize_query",
]

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_MAX_ROWS = 10_000
_SESSION_REGISTRY = "_moltres_databases"


# ------------------------------------------------------------------------------ hashing


def query_fingerprint(df: DataFrame) -> str:
    """Return a stable key for a lazy DataFrame: its database, compiled SQL and parameters.

    Two frames that would send the same statement with the same values to the same
    database get the same key, however they were built. Nothing is executed.

    Example:
        >>> from moltres import connect, col
        >>> db = connect("sqlite://")
        >>> a = db.sql("SELECT 1 AS x WHERE 1 > :n", n=0)
        >>> query_fingerprint(a) == query_fingerprint(db.sql("SELECT 1 AS x WHERE 1 > :n", n=0))
        True
        >>> query_fingerprint(a) == query_fingerprint(db.sql("SELECT 1 AS x WHERE 1 > :n", n=1))
        False
    """
    payload = json.dumps(
        {"db": _database_identity(df.database), "sql": df.to_sql(), "params": df.params},
        sort_keys=True,
        default=repr,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _database_identity(db: Database) -> str:
    """The same server and database (password masked) means the same data.

    In-memory databases are private to their engine, so the engine's identity is added.
    """
    url = db.engine.url
    private = url.database in (None, "", ":memory:") or "mode=memory" in str(url)
    return url.render_as_string(hide_password=True) + (f"#{id(db.engine)}" if private else "")


_HASH_FUNCS: dict[Any, Callable[[Any], Any]] = {
    DataFrame: query_fingerprint,
    Database: _database_identity,
}


# ------------------------------------------------------------------------------ caching

_cached_functions: dict[str | None, list[Any]] = {}


def _materialize(value: Any) -> Any:
    """Run lazy frames so that the cache stores rows, not a handle on a connection."""
    if isinstance(value, DataFrame):
        return value.collect()
    return value


@overload
def cached_query(func: F, /) -> F: ...
@overload
def cached_query(
    *,
    ttl: float | None = None,
    key: str | None = None,
    max_entries: int | None = None,
    show_spinner: bool | str = True,
) -> Callable[[F], F]: ...
def cached_query(
    func: F | None = None,
    /,
    *,
    ttl: float | None = None,
    key: str | None = None,
    max_entries: int | None = None,
    show_spinner: bool | str = True,
) -> F | Callable[[F], F]:
    """Cache a function's query results with ``st.cache_data``.

    Arguments that are lazy DataFrames are hashed by :func:`query_fingerprint` (the SQL and
    parameters they would send), and Database arguments by their masked URL, so a function
    taking ``db`` and a DataFrame can be cached at all. A DataFrame the function returns is
    collected before it is stored.

    Args:
        func: The function, when used as ``@cached_query`` without parentheses.
        ttl: Seconds a result stays valid; None keeps it until invalidated.
        key: A cache name: functions sharing a key are cleared together by
            ``invalidate_query_cache(key)``, and the key is part of the cache identity.
        max_entries: Keep at most this many results per function.
        show_spinner: Show Streamlit's spinner while the function runs (or its text).

    Example:
        .. code-block:: python

            @cached_query(ttl=3600, key="stats")
            def get_user_stats(db):
                return db.table("users").select().collect()
    """

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> Any:
            return _materialize(function(*args, **kwargs))

        if key is not None:
            run.__qualname__ = f"{function.__qualname__}[{key}]"
        cached = st.cache_data(
            ttl=ttl,
            max_entries=max_entries,
            show_spinner=show_spinner,
            hash_funcs=_HASH_FUNCS,
        )(run)
        _cached_functions.setdefault(key, []).append(cached)
        return cast("F", cached)

    if func is not None:
        return decorate(func)
    return decorate


def invalidate_query_cache(key: str | None = None) -> int:
    """Clear cached query results: those cached under `key`, or all of them.

    Args:
        key: The ``key=`` given to :func:`cached_query`; None clears every cached query.

    Returns:
        How many cached functions were cleared.

    Example:
        .. code-block:: python

            if st.button("Refresh"):
                invalidate_query_cache("stats")
    """
    groups = list(_cached_functions.values()) if key is None else [_cached_functions.get(key, [])]
    cleared = 0
    for group in groups:
        for cached in group:
            cached.clear()
            cleared += 1
    return cleared


# ------------------------------------------------------------------------------ st.connection


class MoltresConnection(BaseConnection[Database]):  # type: ignore[misc,unused-ignore]  # Any where streamlit is not installed
    """A moltres Database behind Streamlit's ``st.connection``.

    The URL comes from the ``url=`` keyword or from ``secrets.toml``::

        [connections.db]
        url = "postgresql+psycopg://app@db.internal/analytics"

    Other keys (``query_timeout`` ...) are passed to :func:`moltres.connect`.

    Example:
        .. code-block:: python

            conn = st.connection("db", type=MoltresConnection, url="sqlite:///example.db")
            st.dataframe(conn.query("SELECT name FROM users WHERE age > :age", age=25, ttl=60))
    """

    def _connect(self, **kwargs: Any) -> Database:
        options = {**self._secrets.to_dict(), **kwargs}
        url = options.pop("url", None)
        if not url:
            raise ValidationError(
                f"no database URL for st.connection('{self._connection_name}')",
                suggestion=f"pass url=... or set url under [connections.{self._connection_name}] in secrets.toml",
            )
        return connect(url, **options)

    @property
    def db(self) -> Database:
        """The moltres Database."""
        db: Database = self._instance
        return db

    def table(self, name: str) -> DataFrame:
        """Return a lazy DataFrame over a table."""
        return self.db.table(name)

    def sql(self, text: str, **params: Any) -> DataFrame:
        """Return a lazy DataFrame over a raw SQL query with bound parameters."""
        return self.db.sql(text, **params)

    def query(self, text: str, *, ttl: float | None = None, **params: Any) -> list[dict[str, Any]]:
        """Run a SQL query with bound parameters and cache its rows for `ttl` seconds.

        Example:
            .. code-block:: python

                rows = conn.query("SELECT * FROM users WHERE age > :age", age=25, ttl=600)
        """

        @st.cache_data(ttl=ttl, show_spinner="Running query...")
        def _query(instance: str, text: str, params: dict[str, Any]) -> list[dict[str, Any]]:
            return self.db.sql(text, **params).collect()

        rows: list[dict[str, Any]] = _query(str(self._connection_instance_id), text, params)
        return rows

    def reset(self) -> None:
        """Close the Database; the next use opens a new one."""
        self.close()
        super().reset()

    def close(self) -> None:
        """Close the Database (Streamlit calls this when the connection is released)."""
        if self._raw_instance is not None:
            self._raw_instance.close()


# ------------------------------------------------------------------------------ session state


def get_db_from_session(key: str = "db", *, url: str | None = None, **options: Any) -> Database:
    """Return the Database kept in ``st.session_state[key]``, opening it from `url` if needed.

    Each key holds its own Database, so an app can keep several (``key="warehouse"``).
    Databases opened here are remembered and closed by :func:`close_session_databases`.

    Args:
        key: The session-state key.
        url: Open ``connect(url, **options)`` and store it when the key is empty.
        **options: Passed to :func:`moltres.connect`.

    Raises:
        ValidationError: The key is empty and no `url` was given, or it holds something
            that is not a Database.

    Example:
        .. code-block:: python

            if "db" not in st.session_state:
                st.session_state.db = connect("sqlite:///example.db")
            db = get_db_from_session()
    """
    if key in st.session_state:
        value = st.session_state[key]
        if not isinstance(value, Database):
            raise ValidationError(
                f"st.session_state[{key!r}] holds a {type(value).__name__}, not a moltres Database",
                suggestion="store the result of moltres.connect(...) there, or use another key",
            )
        return value
    if url is None:
        raise ValidationError(
            f"no Database in st.session_state[{key!r}]",
            suggestion=f"set st.session_state[{key!r}] = connect(url) first, or pass url=...",
        )
    db = connect(url, **options)
    st.session_state[key] = db
    opened = st.session_state.setdefault(_SESSION_REGISTRY, [])
    opened.append(key)
    return db


def close_session_databases() -> list[str]:
    """Close and forget every Database that :func:`get_db_from_session` opened in this session.

    Returns:
        The session-state keys that were closed.

    Example:
        .. code-block:: python

            if st.button("Disconnect"):
                close_session_databases()
    """
    closed: list[str] = []
    for key in st.session_state.get(_SESSION_REGISTRY, []):
        db = st.session_state.get(key)
        if isinstance(db, Database):
            db.close()
            del st.session_state[key]
            closed.append(key)
    st.session_state[_SESSION_REGISTRY] = []
    return closed


# ------------------------------------------------------------------------------ display


def _columnar(rows: list[dict[str, Any]], columns: list[str]) -> dict[str, list[Any]]:
    return {name: [row.get(name) for row in rows] for name in columns}


def moltres_dataframe(
    df: DataFrame,
    *,
    max_rows: int = DEFAULT_MAX_ROWS,
    show_query: bool = True,
    spinner: str = "Running query...",
    **dataframe_options: Any,
) -> list[dict[str, Any]]:
    """Show a DataFrame with ``st.dataframe``: at most `max_rows` rows, plus its SQL and count.

    Only ``max_rows + 1`` rows are fetched (the extra one tells whether there are more);
    when there are, the total is counted in the database. The whole table is never loaded.

    Args:
        df: The lazy DataFrame.
        max_rows: The most rows to fetch and show.
        show_query: Add an expander with the SQL and the row count.
        spinner: The text of the spinner shown while the query runs.
        **dataframe_options: Passed to ``st.dataframe`` (``height``, ``column_config`` ...).

    Returns:
        The rows shown.

    Raises:
        ValidationError: `max_rows` is not positive.

    Example:
        .. code-block:: python

            moltres_dataframe(db.table("users").select(), max_rows=500)
    """
    if max_rows < 1:
        raise ValidationError(f"max_rows must be at least 1, got {max_rows}")
    with st.spinner(spinner):
        fetched = df.limit(max_rows + 1).collect()
        truncated = len(fetched) > max_rows
        rows = fetched[:max_rows]
        total = df.count() if truncated else len(rows)
    st.dataframe(_columnar(rows, list(df.columns)), **dataframe_options)
    if truncated:
        st.caption(f"Showing the first {max_rows:,} of {total:,} rows.")
    if show_query:
        with st.expander("Query"):
            st.code(df.to_sql(), language="sql")
            st.caption(f"{total:,} row{'' if total == 1 else 's'}")
    return rows


_OPERATORS: dict[str, Callable[[Column, Any], Column]] = {
    "=": lambda c, v: c == v,
    "!=": lambda c, v: c != v,
    ">": lambda c, v: c > v,
    ">=": lambda c, v: c >= v,
    "<": lambda c, v: c < v,
    "<=": lambda c, v: c <= v,
    "contains": lambda c, v: c.contains(v),
    "starts with": lambda c, v: c.startswith(v),
    "is null": lambda c, v: c.is_null(),
    "is not null": lambda c, v: c.is_not_null(),
}
_NO_VALUE = frozenset({"is null", "is not null"})


def _coerce(text: str, type_name: str) -> Any:
    """Turn a text-box value into the column's Python type (a bound parameter, never SQL)."""
    kind = type_name.upper()
    if any(word in kind for word in ("INT", "SERIAL")):
        return int(text)
    if any(word in kind for word in ("REAL", "FLOAT", "DOUBLE", "NUMERIC", "DECIMAL")):
        return float(text)
    if "BOOL" in kind:
        lowered = text.strip().lower()
        if lowered in {"true", "1", "yes", "t"}:
            return True
        if lowered in {"false", "0", "no", "f"}:
            return False
        raise ValueError(text)
    return text


def query_builder(
    db: Database,
    *,
    key: str = "moltres_query_builder",
    tables: list[str] | None = None,
    max_filters: int = 3,
    default_limit: int = 100,
) -> DataFrame | None:
    """Let the user build a query from widgets: table, columns, filters, sort and limit.

    Filter values are converted to the column's type and sent as bound parameters.

    Args:
        db: The Database to query.
        key: Prefix of the widget keys (use different keys for two builders on one page).
        tables: The tables to offer; all of ``db.tables()`` by default.
        max_filters: The most filter rows the user can add.
        default_limit: The initial row limit.

    Returns:
        The lazy DataFrame, or None until a table is chosen.

    Example:
        .. code-block:: python

            query = query_builder(db)
            if query is not None:
                st.dataframe(query.collect())
    """
    table = st.selectbox(
        "Table",
        tables if tables is not None else db.tables(),
        index=None,
        placeholder="Choose a table",
        key=f"{key}.table",
    )
    if table is None:
        return None
    schema = {c.name: str(c.type_name) for c in db.schema(table)}
    names = list(schema)
    chosen = st.multiselect("Columns", names, placeholder="All columns", key=f"{key}.columns")
    df = db.table(table)
    count = int(st.number_input("Filters", min_value=0, max_value=max_filters, value=0, key=f"{key}.filters"))
    for i in range(count):
        left, middle, right = st.columns(3)
        name = left.selectbox("Column", names, key=f"{key}.filter{i}.column")
        op = middle.selectbox("Operator", list(_OPERATORS), key=f"{key}.filter{i}.op")
        text = right.text_input("Value", key=f"{key}.filter{i}.value", disabled=op in _NO_VALUE)
        if name is None or (op not in _NO_VALUE and text == ""):
            continue
        try:
            value = None if op in _NO_VALUE else _coerce(text, schema[name])
        except ValueError:
            st.warning(f"{text!r} is not a valid {schema[name]} for {name}; filter ignored.")
            continue
        df = df.where(_OPERATORS[op](col(name), value))
    sort = st.selectbox("Sort by", names, index=None, placeholder="No sorting", key=f"{key}.sort")
    if sort is not None:
        descending = st.checkbox("Descending", key=f"{key}.descending")
        df = df.order_by(col(sort).desc() if descending else col(sort).asc())
    limit = int(st.number_input("Limit", min_value=1, value=default_limit, key=f"{key}.limit"))
    df = df.select(*chosen) if chosen else df.select()
    return df.limit(limit)


def plan_tree(plan: Any) -> str:
    """Draw a logical plan as an indented tree, the root (what runs last) first.

    Example:
        >>> from moltres import connect
        >>> print(plan_tree(connect("sqlite://").sql("SELECT 1 AS x").limit(5).plan))
        Limit(n=5, offset=0)
          RawSQL(text='SELECT 1 AS x', params=())
    """
    lines: list[str] = []

    def walk(node: Any, depth: int) -> None:
        children: list[Any] = []
        details: list[str] = []
        for field in dataclasses.fields(node):
            value = getattr(node, field.name)
            if isinstance(value, Plan):
                children.append(value)
            elif isinstance(value, tuple) and value and all(isinstance(v, Plan) for v in value):
                children.extend(value)
            else:
                details.append(f"{field.name}={value!r}")
        lines.append(f"{'  ' * depth}{type(node).__name__}({', '.join(details)})")
        for child in children:
            walk(child, depth + 1)

    walk(plan, 0)
    return "\n".join(lines)


@dataclass(frozen=True)
class QueryReport:
    """What :func:`visualize_query` showed: the SQL, the plan, EXPLAIN and the timing."""

    sql: str
    plan: str
    explain: str
    seconds: float
    row_count: int


def visualize_query(df: DataFrame, *, run: bool = True, max_rows: int = DEFAULT_MAX_ROWS) -> QueryReport:
    """Show a query's SQL, its logical plan, the database's EXPLAIN and how long it takes.

    Args:
        df: The lazy DataFrame.
        run: Also run the query (at most `max_rows` rows) and show the time and row count.
        max_rows: The most rows fetched when timing.

    Returns:
        A :class:`QueryReport` with what was shown.

    Example:
        .. code-block:: python

            visualize_query(db.table("users").select().where(col("age") > 25))
    """
    sql = df.to_sql()
    plan = plan_tree(df.plan)
    try:
        explain = df.explain()
    except MoltresError as exc:
        explain = f"EXPLAIN is not available: {exc.message}"
    seconds, row_count = 0.0, 0
    if run:
        start = time.perf_counter()
        with st.spinner("Running query..."):
            row_count = len(df.limit(max_rows).collect())
        seconds = time.perf_counter() - start
    sql_tab, plan_tab, explain_tab = st.tabs(["SQL", "Logical plan", "EXPLAIN"])
    sql_tab.code(sql, language="sql")
    plan_tab.code(plan, language="text")
    explain_tab.code(explain, language="text")
    if run:
        left, right = st.columns(2)
        left.metric("Execution time", f"{seconds * 1000:.1f} ms")
        right.metric("Rows", f"{row_count:,}" + ("+" if row_count >= max_rows else ""))
    return QueryReport(sql=sql, plan=plan, explain=explain, seconds=seconds, row_count=row_count)
