"""``df.write``: save a frame's rows to a table, inside the database, or to a file.

``save_as_table`` and ``insert_into`` compile to ``CREATE TABLE ... AS SELECT`` and
``INSERT ... SELECT``; the rows never pass through Python. Each write is atomic.
``csv``, ``json``, ``jsonl`` and ``parquet`` stream the rows into a file in batches.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, get_args

import sqlalchemy as sa
from typing_extensions import Self

from moltres.engine import operations
from moltres.engine.executor import QueryState, schema_change
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

# rows per batch fetched while writing a file
FILE_BATCH = 10_000


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


@schema_change
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

    # -------------------------------------------------------------------------------- files

    def format(self, name: str) -> Self:
        """Choose the file format for :meth:`save`: ``csv``, ``json``, ``jsonl`` or ``parquet``."""
        return self.option("format", name)

    def save(self, path: str | os.PathLike[str], format: str | None = None, **options: Any) -> int:
        """Write to a file in the format set by :meth:`format`, given here, or named by the extension.

        Example:
            >>> db.table("users").write.mode("overwrite").save(tmp / "users.jsonl")
            3
        """
        from moltres.io.sources import format_of

        settings = {**self._options, **options}
        chosen = format or settings.pop("format", None) or format_of(path)
        settings.pop("format", None)
        writers: dict[str, Callable[..., int]] = {
            "csv": self.csv,
            "json": self.json,
            "jsonl": self.jsonl,
            "parquet": self.parquet,
        }
        if not isinstance(chosen, str) or chosen not in writers:
            raise ValidationError(f"cannot write the format {chosen!r}", suggestion="use one of: " + ", ".join(writers))
        return writers[chosen](path, **settings)

    def _arrow_batches(self, frame: Any) -> Iterator[Any]:
        """The frame's rows as Arrow record batches, for the Parquet writer."""
        from moltres.io.formats.arrow import iter_arrow_batches

        return iter_arrow_batches(frame)

    def _write_file(self, path: str | os.PathLike[str], write: Callable[[Any, bool], int]) -> int:
        """Check the mode against the file, then run ``write(frame, append)``; return the row count."""
        if os.path.exists(path):
            if self._mode == "error_if_exists":
                raise ValidationError(
                    f"{os.fspath(path)} already exists",
                    suggestion="use .mode('overwrite') to replace it, or .mode('append') to add to it",
                )
            if self._mode == "ignore":
                return 0
        return write(self._frame, self._mode == "append" and os.path.exists(path))

    def csv(
        self,
        path: str | os.PathLike[str],
        *,
        header: bool = True,
        delimiter: str = ",",
        quote: str = '"',
        escape: str | None = None,
        null_value: str = "",
        encoding: str = "utf-8",
        compression: str | None = None,
        progress: bool | None = None,
    ) -> int:
        """Write the rows to a CSV file (compressed by extension: ``.gz``, ``.bz2``, ``.xz``).

        Rows stream from the database in batches, so memory stays flat; the file appears
        whole or not at all. Returns the number of rows written.

        Example:
            >>> db.table("users").write.mode("overwrite").csv(tmp / "users.csv")
            3
        """
        from moltres.io.formats.csv import CsvOptions, write_csv

        options = CsvOptions(header, delimiter, quote, escape, null_value, encoding)
        return self._write_file(
            path,
            lambda df, append: write_csv(
                df.iter_batches(FILE_BATCH),
                df.columns,
                path,
                options=options,
                compression=compression,
                append=append,
                progress=progress,
            ),
        )

    def json(
        self,
        path: str | os.PathLike[str],
        *,
        encoding: str = "utf-8",
        compression: str | None = None,
        progress: bool | None = None,
    ) -> int:
        """Write the rows as one JSON array of objects (streamed; see :meth:`csv`).

        Example:
            >>> db.table("users").write.mode("overwrite").json(tmp / "users.json")
            3
        """
        from moltres.io.formats.json import write_json

        if self._mode == "append" and os.path.exists(path):
            raise ValidationError(
                f"cannot append to the JSON array in {os.fspath(path)}",
                suggestion="write JSON Lines (.jsonl), which can be appended to, or use .mode('overwrite')",
            )
        return self._write_file(
            path,
            lambda df, append: write_json(
                df.iter_batches(FILE_BATCH), path, compression=compression, encoding=encoding, progress=progress
            ),
        )

    def jsonl(
        self,
        path: str | os.PathLike[str],
        *,
        encoding: str = "utf-8",
        compression: str | None = None,
        progress: bool | None = None,
    ) -> int:
        """Write the rows as JSON Lines, one object per line (streamed; see :meth:`csv`).

        Example:
            >>> db.table("users").write.mode("overwrite").jsonl(tmp / "users.jsonl")
            3
        """
        from moltres.io.formats.json import write_json

        return self._write_file(
            path,
            lambda df, append: write_json(
                df.iter_batches(FILE_BATCH),
                path,
                lines=True,
                compression=compression,
                append=append,
                encoding=encoding,
                progress=progress,
            ),
        )

    def parquet(
        self,
        path: str | os.PathLike[str],
        *,
        compression: str = "snappy",
        partition_by: Sequence[str] | None = None,
        progress: bool | None = None,
    ) -> int:
        """Write the rows to a Parquet file, or a Hive-partitioned folder with `partition_by`.

        Rows arrive as Arrow batches (natively from DuckDB) and are written as they come.
        ``.mode("append")`` adds files to a partitioned folder.

        Example:
            >>> db.table("users").write.mode("overwrite").parquet(tmp / "by_age", partition_by=["age"])
            3
        """
        from moltres.io.formats.parquet import write_parquet

        return self._write_file(
            path,
            lambda df, append: write_parquet(
                self._arrow_batches(df),
                path,
                compression=compression,
                partition_by=partition_by,
                append=append,
                progress=progress,
            ),
        )
