r"""``db.read`` (also ``db.load``): files into DataFrames you can join with tables.

Reading a file stages it into a table in the database, in chunks (the file is never held
in memory whole), through the database's fastest path: ``COPY`` on PostgreSQL, DuckDB's own
readers, Arrow batches, else batched inserts. The result is a lazy DataFrame over that
staging table, which is dropped when the database is closed. With ``into="table"`` the
rows go into a table of yours instead (created if need be). Either way a failed load leaves
nothing behind.

Example:
    >>> path = tmp / "scores.csv"
    >>> _ = path.write_text("user_id,score\n1,9.5\n2,7.0\n")
    >>> scores = db.read.csv(path)
    >>> scores.join(db.table("users"), on=[("user_id", "id")]).select("name", "score").order_by("name").collect()
    [{'name': 'Ada', 'score': 9.5}, {'name': 'Alan', 'score': 7.0}]
    >>> db.read.last_report.rows
    2
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from typing_extensions import Self

from moltres.dataframe.dataframe import DataFrame
from moltres.dataframe.writer import check_mode
from moltres.engine.executor import Executor
from moltres.io.loading import (
    DEFAULT_INFER_ROWS,
    FileReader,
    LoadReport,
    check_on_error,
    load_existing_table,
    load_new_table,
    resolve_schema,
    table_definition,
)
from moltres.io.sources import Source
from moltres.sql.compiler import validate_identifiers
from moltres.table import mutations
from moltres.table.schema import ColumnDef, column, has_table
from moltres.utils.exceptions import DataFormatError, ValidationError

if TYPE_CHECKING:
    from moltres.io.formats.parquet import NestedMode

__all__ = ["DataLoader", "Loader", "Schema", "stage_columnar"]

Schema = Sequence[ColumnDef] | Mapping[str, str]
R = TypeVar("R")  # what a read gives: a DataFrame, or (async) a coroutine giving one

FORMATS = ("csv", "json", "jsonl", "parquet", "text")
_COMMON = ("into", "mode", "progress")
_OPTIONS: dict[str, tuple[str, ...]] = {
    "csv": (
        "header",
        "delimiter",
        "quote",
        "escape",
        "null_value",
        "encoding",
        "on_error",
        "infer_rows",
        "infer_schema",
        "compression",
        "schema",
        *_COMMON,
    ),
    "json": ("encoding", "on_error", "infer_rows", "compression", "schema", *_COMMON),
    "jsonl": ("encoding", "on_error", "infer_rows", "compression", "schema", *_COMMON),
    "parquet": ("columns", "nested", *_COMMON),
    "text": ("encoding", "compression", *_COMMON),
}
# other libraries' names for the same options (PySpark, pandas, DuckDB)
_ALIASES = {
    "sep": "delimiter",
    "separator": "delimiter",
    "delim": "delimiter",
    "nullvalue": "null_value",
    "null": "null_value",
    "nullstr": "null_value",
    "quotechar": "quote",
    "escapechar": "escape",
    "inferschema": "infer_schema",
    "samplesize": "infer_rows",
}
_DEFAULTS: dict[str, Any] = {
    "header": True,
    "delimiter": ",",
    "quote": '"',
    "escape": None,
    "null_value": "",
    "encoding": "utf-8",
    "on_error": "raise",
    "infer_rows": DEFAULT_INFER_ROWS,
    "infer_schema": True,
    "compression": None,
    "schema": None,
    "columns": None,
    "nested": "error",
    "into": None,
    "mode": "append",
    "progress": None,
}


def _option_name(key: str) -> str:
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in key).lstrip("_")
    return _ALIASES.get(key.lower(), _ALIASES.get(snake, snake))


class _Host(Protocol):
    """What the loader needs from a database."""

    _staged: list[str]

    @property
    def executor(self) -> Executor: ...

    def table(self, name: str, schema: str | None = None) -> DataFrame: ...


class _Log:
    """The last report, shared by a loader and every loader its builders return."""

    last: LoadReport | None = None


class Loader(Generic[R]):
    """Every decision of ``db.read``: options, formats, schemas and the load itself, once.

    :class:`DataLoader` (sync) and ``AsyncDataLoader`` (:mod:`moltres.dataframe.async_reader`)
    differ only in :meth:`_read`: how they run :meth:`_load` and what they give back.
    """

    def __init__(self, database: _Host, *, format: str | None = None, options: Mapping[str, Any] | None = None) -> None:
        self._db = database
        self._format = format
        self._options: dict[str, Any] = dict(options or {})
        self._log = _Log()

    def _with(self, format: str | None, options: Mapping[str, Any]) -> Self:
        loader = type(self)(self._db, format=format, options=options)
        loader._log = self._log
        return loader

    # ------------------------------------------------------------------------------ builders

    def format(self, name: str) -> Self:
        """Choose the file format for :meth:`load`: ``csv``, ``json``, ``jsonl``, ``parquet`` or ``text``.

        Example:
            >>> db.read.format("csv").option("header", True)
            DataLoader<csv header=True>
        """
        return self._with(_check_format(name), self._options)

    def option(self, key: str, value: Any) -> Self:
        """Set one option (PySpark's names such as ``sep`` or ``nullValue`` work too).

        Example:
            >>> db.read.option("sep", ";")
            DataLoader<delimiter=';'>
        """
        return self._with(self._format, {**self._options, _option_name(key): value})

    def options(self, **options: Any) -> Self:
        r"""Set several options.

        Example:
            >>> db.read.options(header=False, delimiter="\t")
            DataLoader<header=False delimiter='\t'>
        """
        return self._with(self._format, {**self._options, **{_option_name(k): v for k, v in options.items()}})

    def schema(self, schema: Schema) -> Self:
        """Set the columns (``[column(...)]``) or override some types (``{"zip": "TEXT"}``).

        Example:
            >>> db.read.schema({"zip": "TEXT"})
            DataLoader<schema={'zip': 'TEXT'}>
        """
        return self._with(self._format, {**self._options, "schema": schema})

    def __repr__(self) -> str:
        parts = ([self._format] if self._format else []) + [f"{k}={v!r}" for k, v in self._options.items()]
        return f"DataLoader<{' '.join(parts)}>"

    @property
    def last_report(self) -> LoadReport | None:
        """What the last load through this loader did (None before the first)."""
        return self._log.last

    # ------------------------------------------------------------------------------ formats

    def csv(
        self,
        path: str | os.PathLike[str],
        *,
        header: bool | None = None,
        schema: Schema | None = None,
        delimiter: str | None = None,
        quote: str | None = None,
        escape: str | None = None,
        null_value: str | None = None,
        encoding: str | None = None,
        on_error: str | None = None,
        infer_rows: int | None = None,
        infer_schema: bool | None = None,
        compression: str | None = None,
        into: str | None = None,
        mode: str | None = None,
        progress: bool | None = None,
    ) -> R:
        r"""Read a CSV file (plain, or ``.gz`` / ``.bz2`` / ``.xz``).

        Args:
            path: The file.
            header: The first row names the columns (default True); else they are
                ``column_1``, ``column_2`` ...
            schema: ``[column("id", "INTEGER"), ...]`` for every column, or
                ``{"zip": "TEXT"}`` to override the inferred type of a few.
            delimiter: The field separator (default ``,``).
            quote: The quote character (default ``"``).
            escape: The escape character (default: quotes are doubled).
            null_value: The field text read as NULL (default: the empty field).
            encoding: The text encoding (default UTF-8; a BOM is skipped).
            on_error: ``"raise"`` (default) stops at the first bad row with its line and
                column; ``"skip"`` drops bad rows; ``"null"`` stores NULL for bad values.
                The counts are in :attr:`last_report`.
            infer_rows: Rows sampled to infer types (default 10,000; -1 for all).
            infer_schema: False reads every column as TEXT.
            compression: ``gzip``, ``bz2`` or ``xz`` when the extension does not say.
            into: Load into this table instead of a staging table (created if missing).
            mode: With `into` an existing table: ``append`` (default), ``overwrite``,
                ``ignore`` or ``error_if_exists``.
            progress: Show a progress bar (default: on a terminal, for big files).

        Raises:
            SourceNotFoundError: No such file.
            DataFormatError: A malformed row or bad value, naming the file, line and column.
            ValidationError: The file does not fit the table given as `into`.

        Example:
                    >>> path = tmp / "zips.csv"
            >>> _ = path.write_text("city;zip\nParis;07500\n")
            >>> db.read.csv(path, delimiter=";", schema={"zip": "TEXT"}).collect()
            [{'city': 'Paris', 'zip': '07500'}]
        """
        given = dict(locals())
        del given["self"], given["path"]
        return self._read("csv", path, given)

    def json(
        self,
        path: str | os.PathLike[str],
        *,
        schema: Schema | None = None,
        encoding: str | None = None,
        on_error: str | None = None,
        infer_rows: int | None = None,
        compression: str | None = None,
        into: str | None = None,
        mode: str | None = None,
        progress: bool | None = None,
    ) -> R:
        """Read a JSON file holding one array of objects (decoded one element at a time).

        Keys become columns; nested values go into JSON columns. The other arguments are
        those of :meth:`csv`.

        Example:
                    >>> path = tmp / "a.json"
            >>> _ = path.write_text('[{"id": 1, "tags": ["x"]}, {"id": 2}]')
            >>> db.read.json(path).order_by("id").select("id").collect()
            [{'id': 1}, {'id': 2}]
        """
        given = dict(locals())
        del given["self"], given["path"]
        return self._read("json", path, given)

    def jsonl(
        self,
        path: str | os.PathLike[str],
        *,
        schema: Schema | None = None,
        encoding: str | None = None,
        on_error: str | None = None,
        infer_rows: int | None = None,
        compression: str | None = None,
        into: str | None = None,
        mode: str | None = None,
        progress: bool | None = None,
    ) -> R:
        r"""Read a JSON Lines file: one object per line (arguments as for :meth:`json`).

        Example:
                    >>> path = tmp / "a.jsonl"
            >>> _ = path.write_text('{"id": 1}\n{"id": 2}\n')
            >>> db.read.jsonl(path).count()
            2
        """
        given = dict(locals())
        del given["self"], given["path"]
        return self._read("jsonl", path, given)

    def parquet(
        self,
        path: str | os.PathLike[str],
        *,
        columns: Sequence[str] | None = None,
        nested: NestedMode | None = None,
        into: str | None = None,
        mode: str | None = None,
        progress: bool | None = None,
    ) -> R:
        """Read a Parquet file, or a folder of them (Hive partitions become columns).

        Args:
            path: The file or folder.
            columns: Read only these columns.
            nested: Where the database cannot store lists, structs or maps (all but
                DuckDB), ``"error"`` (default) refuses them and ``"json"`` stores them as JSON.
            into: Load into this table instead (see :meth:`csv`).
            mode: See :meth:`csv`.
            progress: See :meth:`csv`.

        Example:
            >>> db.table("users").write.mode("overwrite").parquet(tmp / "users.parquet")
            3
            >>> db.read.parquet(tmp / "users.parquet").count()
            3
        """
        given = dict(locals())
        del given["self"], given["path"]
        return self._read("parquet", path, given)

    def text(
        self,
        path: str | os.PathLike[str],
        *,
        encoding: str | None = None,
        compression: str | None = None,
        into: str | None = None,
        mode: str | None = None,
        progress: bool | None = None,
    ) -> R:
        r"""Read a text file: one row per line, in a TEXT column named ``value``.

        Example:
                    >>> path = tmp / "app.log"
            >>> _ = path.write_text("GET /\nPOST /login\n")
            >>> db.read.text(path).where(col("value").startswith("POST")).collect()
            [{'value': 'POST /login'}]
        """
        given = dict(locals())
        del given["self"], given["path"]
        return self._read("text", path, given)

    def load(self, path: str | os.PathLike[str], format: str | None = None, **options: Any) -> R:
        r"""Read a file in the format set by :meth:`format`, given here, or named by its extension.

        Example:
                    >>> path = tmp / "events.jsonl.gz"
            >>> import gzip; _ = gzip.open(path, "wt").write('{"id": 1}\n')
            >>> db.load(path).collect()
            [{'id': 1}]
        """
        chosen = format or self._format or Source.of(path).format
        if chosen is None:
            raise ValidationError(
                f"cannot tell the format of {os.fspath(path)} from its name",
                suggestion="name it (db.read.format('csv').load(path)) or use db.read.csv(path)",
            )
        return self._read(_check_format(chosen), path, {_option_name(k): v for k, v in options.items()})

    __call__ = load

    def table(self, name: str) -> DataFrame:
        """A DataFrame over a table (as ``db.table``; PySpark's ``spark.read.table``).

        Example:
            >>> db.read.table("users").count()
            3
        """
        return self._db.table(name)

    # ------------------------------------------------------------------------------ loading

    def _settings(self, fmt: str, given: Mapping[str, Any]) -> dict[str, Any]:
        allowed = _OPTIONS[fmt]
        merged = {**self._options, **{k: v for k, v in given.items() if v is not None}}
        unknown = sorted(k for k in merged if k not in allowed)
        if unknown:
            raise ValidationError(
                f"unknown option(s) for {fmt}: {', '.join(unknown)}",
                suggestion=f"{fmt} takes: {', '.join(allowed)}",
            )
        return {k: merged.get(k, _DEFAULTS[k]) for k in allowed}

    def _reader(self, fmt: str, source: Source, o: Mapping[str, Any]) -> FileReader:
        infer_rows = o.get("infer_rows", DEFAULT_INFER_ROWS)
        if not isinstance(infer_rows, int) or isinstance(infer_rows, bool) or infer_rows == 0 or infer_rows < -1:
            raise ValidationError(f"infer_rows must be a positive number of rows, or -1 for all; got {infer_rows!r}")
        sample = None if infer_rows == -1 else infer_rows
        if fmt == "csv":
            from moltres.io.formats.csv import CsvFile, CsvOptions

            options = CsvOptions(
                header=bool(o["header"]),
                delimiter=o["delimiter"],
                quote=o["quote"],
                escape=o["escape"],
                null_value=o["null_value"],
                encoding=o["encoding"],
            )
            return CsvFile(source, options, infer_rows=sample)
        if fmt in ("json", "jsonl"):
            from moltres.io.formats.json import JsonFile

            return JsonFile(source, lines=fmt == "jsonl", encoding=o["encoding"], infer_rows=sample)
        if fmt == "parquet":
            from moltres.io.formats.parquet import ParquetFile

            return ParquetFile(source, columns=o["columns"], nested=o["nested"])
        from moltres.io.formats.text import TextFile

        return TextFile(source, encoding=o["encoding"])

    def _columns(self, fmt: str, reader: FileReader, o: Mapping[str, Any]) -> list[ColumnDef]:
        """The columns of a new table for the file: inferred, overridden by `schema`."""
        schema = o.get("schema")
        if o.get("infer_schema") is False and schema is None:
            return [column(name, "TEXT") for name in reader.names()]
        named = o.get("header", True) is not False
        names = reader.names()
        if not names:
            if isinstance(schema, Mapping) and schema:
                return [column(k, v) for k, v in schema.items()]
            if schema is None:
                raise DataFormatError(
                    "found no columns", path=reader.source.name, suggestion="pass schema= to create an empty table"
                )
        return resolve_schema(reader.infer, names, schema, path=reader.source.name, named=named)

    def _read(self, fmt: str, path: str | os.PathLike[str], given: Mapping[str, Any]) -> R:
        raise NotImplementedError

    def _load(self, fmt: str, path: str | os.PathLike[str], given: Mapping[str, Any]) -> LoadReport:
        """Load a file (sync, on this loader's database) and report what the load did."""
        started = time.perf_counter()
        o = self._settings(fmt, given)
        on_error = check_on_error(o.get("on_error", "raise"))
        into = o["into"]
        if into is not None:
            validate_identifiers([into])
        mode = check_mode(o["mode"])
        source = Source.of(path, o.get("compression"))
        reader = self._reader(fmt, source, o)
        executor = self._db.executor
        state = executor.state
        progress = o["progress"]
        exists = into is not None and executor.run(has_table, into)
        if exists:
            if mode == "error_if_exists":
                raise ValidationError(
                    f"table '{into}' already exists",
                    suggestion="use mode='append' to add the rows or mode='overwrite' to replace the table's rows",
                    table=into,
                )
            if o.get("schema") is not None:
                raise ValidationError(
                    f"schema= cannot change the existing table '{into}'",
                    suggestion="drop schema= (the table's own types are used), or load into a new table",
                )
            report = LoadReport(source.name, fmt, into)
            if mode != "ignore":
                file_columns, match = self._file_columns(fmt, reader, o)
                executor.atomic(
                    load_existing_table,
                    state,
                    reader,
                    into,
                    file_columns,
                    match,
                    mode == "overwrite",
                    on_error,
                    report,
                    progress,
                )
        else:
            name = into or f"moltres_read_{uuid.uuid4().hex[:12]}"
            columns = self._columns(fmt, reader, o)
            if fmt == "parquet":
                reader.check_nested(state.rules, state.dialect_name)  # type: ignore[attr-defined]
            table = table_definition(state.rules, name, columns)
            report = LoadReport(source.name, fmt, name)
            if into is None:
                self._db._staged.append(name)  # dropped on close()
            try:
                executor.atomic(load_new_table, state, reader, table, on_error, report, progress)
            except BaseException:
                # where DDL is not transactional (MySQL) the new table survived the rollback
                with contextlib.suppress(Exception):
                    executor.atomic(mutations.drop_table, state, name, None, True)
                if into is None:
                    self._db._staged.remove(name)
                raise
        report.seconds = time.perf_counter() - started
        self._log.last = report
        return report

    def _file_columns(
        self, fmt: str, reader: FileReader, o: Mapping[str, Any]
    ) -> tuple[list[ColumnDef], tuple[bool, bool]]:
        """The file's columns for matching with an existing table, and ``(by_name, check_types)``."""
        if fmt == "csv":
            return [column(n, "TEXT") for n in reader.names()], (bool(o["header"]), False)
        if fmt == "text":
            return reader.infer(), (False, False)
        if fmt == "parquet":
            return reader.infer(), (True, True)
        return reader.infer(), (True, False)


class DataLoader(Loader[DataFrame]):
    """Reads files into DataFrames: ``db.read.csv(path)``, ``db.read.format("csv").load(path)``.

    Every method returns a lazy DataFrame over the loaded rows; :attr:`last_report` tells
    what the last load did (rows loaded, rows skipped, the first problems, the path taken).
    """

    def _read(self, fmt: str, path: str | os.PathLike[str], given: Mapping[str, Any]) -> DataFrame:
        return self._db.table(self._load(fmt, path, given).table)


def _check_format(name: str) -> str:
    value = str(name).lower()
    if value == "ndjson":
        value = "jsonl"
    if value not in FORMATS:
        raise ValidationError(f"unknown file format {name!r}", suggestion="use one of: " + ", ".join(FORMATS))
    return value


def stage_columnar(
    database: _Host, data: object, schema: Schema | Sequence[str] | None = None, inline_rows: int = 500
) -> DataFrame:
    """A DataFrame over a pandas/polars DataFrame or Arrow table, typed from its columns.

    Up to `inline_rows` rows are inlined in the query; more are loaded into a staging table
    one Arrow batch at a time through the dialect's fastest path.

    Example:
        >>> import pyarrow as pa
        >>> stage_columnar(db, pa.table({"x": [1, 2, 3]})).where(col("x") > 1).count()
        2
    """
    from moltres.expressions.column import to_node
    from moltres.io.formats.arrow import arrow_to_sql, columnar_table, insert_arrow_table, is_nested, to_python
    from moltres.logical import plan as p

    table = columnar_table(data)
    names = table.column_names
    inferred = [column(f.name, arrow_to_sql(f.type)) for f in table.schema]
    if schema is not None and not isinstance(schema, Mapping) and all(isinstance(c, str) for c in schema):
        if len(schema) != len(names):
            raise ValidationError(f"schema= names {len(schema)} columns but the data has {len(names)}")
        schema = [column(str(n), c.type_name) for n, c in zip(schema, inferred, strict=True)]
    columns = resolve_schema(lambda: inferred, names, schema, path="the DataFrame")  # type: ignore[arg-type]
    executor = database.executor
    nested = [is_nested(f.type) for f in table.schema]
    if table.num_rows <= inline_rows and not any(nested):
        rows = [row for batch in table.to_batches() for row in to_python(batch, nested)]
        values = tuple(tuple(to_node(v) for v in row) for row in rows)
        plan = p.Values(tuple(c.name for c in columns), values, tuple(c.type_name for c in columns))
        return DataFrame(plan, executor, database)
    name = f"moltres_df_{uuid.uuid4().hex[:12]}"
    state = executor.state
    definition = table_definition(state.rules, name, columns)
    database._staged.append(name)
    executor.atomic(insert_arrow_table, state, definition, table)
    return database.table(name)
