"""``df.write``: save a frame's rows to a table, inside the database.

``save_as_table`` and ``insert_into`` compile to ``CREATE TABLE ... AS SELECT`` and
``INSERT ... SELECT``; the rows never pass through Python. Each write is atomic.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, get_args

import sqlalchemy as sa
from typing_extensions import Self

from moltres.engine import operations
from moltres.engine.executor import QueryState
from moltres.logical import plan as p
from moltres.sql.compiler import validate_identifiers
from moltres.utils.exceptions import ColumnNotFoundError, TableNotFoundError, ValidationError

if TYPE_CHECKING:
    from moltres.dataframe.frame import Frame

__all__ = ["DataFrameWriter", "SaveMode", "save_plan"]

SaveMode = Literal["append", "overwrite", "ignore", "error_if_exists"]
_MODES: tuple[str, ...] = get_args(SaveMode)
_MODE_ALIASES = {"error": "error_if_exists", "errorifexists": "error_if_exists", "default": "error_if_exists"}

W = TypeVar("W", bound="Frame[Any]")


def check_mode(mode: str) -> SaveMode:
    """Normalize a save mode, or raise a ValidationError listing the valid ones.

    Example:
        >>> check_mode("errorifexists")
        'error_if_exists'
    """
    value = _MODE_ALIASES.get(str(mode).lower(), str(mode).lower())
    if value not in _MODES:
        raise ValidationError(f"unknown save mode {mode!r}", suggestion="use one of: " + ", ".join(_MODES))
    return value  # type: ignore[return-value]


def save_plan(
    conn: sa.Connection,
    state: QueryState,
    plan: p.Plan,
    name: str,
    mode: SaveMode,
    must_exist: bool = False,
) -> int:
    """Write a plan's rows into table `name` on `conn`; return the number of rows written.

    Shared by the sync and async writers (the async one runs it through ``run_sync``).
    """
    connect = lambda: contextlib.nullcontext(conn)  # noqa: E731
    compiled, params = state.prepare(plan, connect)
    select = compiled.statement.params(params)
    exists = sa.inspect(conn).has_table(name)
    if must_exist and not exists:
        raise TableNotFoundError(name, sa.inspect(conn).get_table_names())
    try:
        if exists and mode == "error_if_exists":
            raise ValidationError(
                f"table '{name}' already exists",
                suggestion="use .mode('append') to add rows or .mode('overwrite') to replace them",
                table=name,
            )
        if exists and mode == "ignore":
            return 0
        if exists and mode == "append":
            state.forget(name)
            table = state.catalog(connect).table(name)
            for column in compiled.columns:
                if column not in table.c:
                    raise ColumnNotFoundError(column, list(table.c.keys()), table=name)
            return operations.insert_select(conn, table, select, compiled.columns)
        return operations.overwrite_table(conn, state.rules, name, select, exists=exists)
    finally:
        state.forget(name)


class DataFrameWriter(Generic[W]):
    """Builder for writing a DataFrame: ``df.write.mode("overwrite").save_as_table("t")``.

    Example:
        >>> db.table("users").where(col("age") > 40).write.mode("overwrite").save_as_table("seniors")
        1
    """

    def __init__(self, frame: W, mode: SaveMode = "error_if_exists", options: dict[str, Any] | None = None) -> None:
        self._frame = frame
        self._mode: SaveMode = mode
        self._options: dict[str, Any] = dict(options or {})
        self._explicit_mode = False

    def mode(self, mode: str) -> Self:
        """Set what happens when the table exists: ``append``, ``overwrite``, ``ignore``, ``error_if_exists``."""
        writer = type(self)(self._frame, check_mode(mode), self._options)
        writer._explicit_mode = True
        return writer

    def option(self, key: str, value: Any) -> Self:
        """Set a format option (for file writers)."""
        writer = type(self)(self._frame, self._mode, {**self._options, key: value})
        writer._explicit_mode = self._explicit_mode
        return writer

    def options(self, **options: Any) -> Self:
        """Set several format options."""
        writer = type(self)(self._frame, self._mode, {**self._options, **options})
        writer._explicit_mode = self._explicit_mode
        return writer

    def _run(self, name: str, mode: SaveMode, must_exist: bool) -> Any:
        # an int from the sync executor, an awaitable of one from the async executor
        executor = self._frame._executor
        return executor.atomic(save_plan, executor.state, self._frame._plan, name, mode, must_exist)

    def _save_args(self, name: str, mode: str | None) -> tuple[str, SaveMode, bool]:
        validate_identifiers([name])
        return name, check_mode(mode) if mode is not None else self._mode, False

    def _insert_args(self, name: str) -> tuple[str, SaveMode, bool]:
        validate_identifiers([name])
        return name, "overwrite" if self._explicit_mode and self._mode == "overwrite" else "append", True

    def save_as_table(self, name: str, mode: str | None = None) -> int:
        """Create or fill table `name` from this frame, inside the database; return the row count.

        The default mode raises if the table exists. ``overwrite`` replaces the table
        atomically: if the query fails, the old table is left intact.
        """
        return self._run(*self._save_args(name, mode))  # type: ignore[no-any-return]

    saveAsTable = save_as_table

    def insert_into(self, name: str) -> int:
        """Append this frame's rows to an existing table (``INSERT ... SELECT``); return the count.

        Example:
            >>> db.table("users").where(col("id") == 1).write.save_as_table("picked")
            1
            >>> db.table("users").where(col("id") == 2).write.insert_into("picked")
            1
        """
        return self._run(*self._insert_args(name))  # type: ignore[no-any-return]

    insertInto = insert_into
