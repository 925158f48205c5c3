"""Loading files into tables: the report, the schema checks, and the load itself.

A load is a plain function over a sync ``Connection`` (:func:`load_file`), so the sync
database runs it inside one transaction and an async one can run it through ``run_sync``.
Each format (:mod:`moltres.io.formats.csv`, ``json``, ``parquet``, ``text``) provides a
:class:`FileReader` that knows its columns and how to stream itself into a table through
the dialect's fastest path (``COPY`` on PostgreSQL, DuckDB's own readers, Arrow batches,
else batched ``executemany``).

Example:
    >>> report = LoadReport(path="users.csv", format="csv", table="users", rows=3)
    >>> report.rows, report.skipped
    (3, 0)
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import sqlalchemy as sa

from moltres.engine.executor import QueryState, on, schema_change
from moltres.io.progress import Progress
from moltres.io.sources import Source
from moltres.io.values import parse_type
from moltres.sql.dialects.base import Rules
from moltres.sql.types import type_name
from moltres.table import mutations
from moltres.table.schema import ColumnDef, column, to_sa_table
from moltres.utils.exceptions import ColumnNotFoundError, DataFormatError, ValidationError

__all__ = [
    "DEFAULT_BATCH",
    "DEFAULT_INFER_ROWS",
    "FileReader",
    "LoadReport",
    "OnError",
    "Problem",
    "batched",
    "check_on_error",
    "insert_batches",
    "load_existing_table",
    "load_file",
    "load_new_table",
    "match_table",
    "resolve_schema",
    "table_definition",
]

logger = logging.getLogger("moltres.io")

OnError = Literal["raise", "skip", "null"]
_ON_ERROR: tuple[str, ...] = get_args(OnError)
# PySpark's names for the same three behaviours
_SPARK_MODES = {"failfast": "raise", "dropmalformed": "skip", "permissive": "null"}

DEFAULT_BATCH = 50_000
DEFAULT_INFER_ROWS = 10_000
# problems kept in a report; more are only counted
MAX_PROBLEMS = 100


def check_on_error(value: str) -> OnError:
    """Validate an ``on_error`` setting (PySpark's FAILFAST/DROPMALFORMED/PERMISSIVE also work).

    Example:
        >>> check_on_error("skip"), check_on_error("DROPMALFORMED")
        ('skip', 'skip')
    """
    name = _SPARK_MODES.get(str(value).lower(), str(value).lower())
    if name not in _ON_ERROR:
        raise ValidationError(
            f"unknown on_error {value!r}",
            suggestion="use 'raise' (stop at the first bad row), 'skip' (drop bad rows) or 'null' (NULL bad values)",
        )
    return name  # type: ignore[return-value]


@dataclass(frozen=True)
class Problem:
    """One bad row or value met during a load."""

    line: int | None
    column: str | None
    message: str


@dataclass
class LoadReport:
    """What a load did: rows loaded, rows skipped or nulled, the first problems, and how.

    ``method`` is the path the rows took: ``native`` (the database parsed the file itself:
    PostgreSQL's ``COPY``, DuckDB's readers), ``arrow`` (Arrow batches) or ``rows`` (parsed
    in Python).
    """

    path: str
    format: str
    table: str
    rows: int = 0
    skipped: int = 0
    nulled: int = 0
    problems: list[Problem] = field(default_factory=list)
    method: str = ""
    seconds: float = 0.0

    def record(self, line: int | None, column: str | None, message: str) -> None:
        """Note a problem (the first :data:`MAX_PROBLEMS` are kept)."""
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(line, column, message))

    def __str__(self) -> str:
        text = f"loaded {self.rows:,} rows from {self.path} into {self.table} ({self.method}, {self.seconds:.2f}s)"
        if self.skipped:
            text += f"; skipped {self.skipped:,} bad rows"
        if self.nulled:
            text += f"; set bad values to NULL in {self.nulled:,} rows"
        return text


class FileReader:
    """A file in one format: its columns, and how to stream it into a table.

    Subclasses set :attr:`format` and implement :meth:`infer` and :meth:`load`.
    """

    format = "file"

    def __init__(self, source: Source, *, infer_rows: int | None = DEFAULT_INFER_ROWS) -> None:
        self.source = source
        self.infer_rows = infer_rows

    def infer(self) -> list[ColumnDef]:
        """The file's columns with types inferred from the first :attr:`infer_rows` rows."""
        raise NotImplementedError

    def names(self) -> list[str]:
        """The file's column names (cheaper than :meth:`infer` where the format allows)."""
        return [c.name for c in self.infer()]

    def load(
        self,
        conn: sa.Connection,
        rules: Rules,
        table: sa.Table,
        columns: Sequence[str],
        on_error: OnError,
        report: LoadReport,
        progress: Progress,
    ) -> None:
        """Insert every row into `table`; `columns` are its columns, in the file's order."""
        raise NotImplementedError

    def create(self, conn: sa.Connection, rules: Rules, name: str, report: LoadReport) -> bool:
        """Create table `name` from the file with the database's own reader, if that is better."""
        return False

    def error(
        self, message: str, *, line: int | None = None, column: str | None = None, suggestion: str | None = None
    ) -> DataFormatError:
        """A DataFormatError located in this file."""
        return DataFormatError(message, path=self.source.name, line=line, column=column, suggestion=suggestion)


def insert_batches(
    conn: sa.Connection,
    rules: Rules,
    table: sa.Table,
    columns: Sequence[str],
    batches: Iterable[list[tuple[Any, ...]]],
    report: LoadReport,
) -> None:
    """Insert batches of row tuples through the dialect's fastest path, counting them."""
    for batch in batches:
        rules.insert_tuples(conn, table, columns, batch)
        report.rows += len(batch)


def load_file(
    conn: sa.Connection,
    rules: Rules,
    reader: FileReader,
    table: sa.Table,
    columns: Sequence[str],
    on_error: OnError,
    report: LoadReport,
    progress: bool | None = None,
) -> LoadReport:
    """Stream a file into `table` on `conn`; the caller runs this inside one transaction.

    Raises:
        DataFormatError: A malformed row or bad value (with ``on_error="raise"``), naming the
            file, line and column.
    """
    with Progress(
        f"loading {reader.source.path.name}", total=reader.source.size, unit="bytes", enabled=progress
    ) as bar:
        try:
            reader.load(conn, rules, table, columns, on_error, report, bar)
        except DataFormatError as exc:
            if exc.path is None:  # raised by the database, which does not know the file's name
                raise DataFormatError(
                    exc.reason, path=reader.source.name, line=exc.line, column=exc.column, suggestion=exc.suggestion
                ) from None
            raise
    if report.skipped or report.nulled:
        logger.warning("%s", report)
    return report


def table_definition(rules: Rules, name: str, columns: Sequence[ColumnDef]) -> sa.Table:
    """The table to create for a file's columns (adapted to the dialect)."""
    return rules.adapt_table(to_sa_table(name, list(columns)))


@schema_change
def load_new_table(
    conn: sa.Connection,
    state: QueryState,
    reader: FileReader,
    table: sa.Table,
    on_error: OnError,
    report: LoadReport,
    progress: bool | None,
) -> LoadReport:
    """``CREATE TABLE`` and load the file into it; the caller runs this in one transaction.

    Where DDL is not transactional (MySQL) the table outlives a failed load: the caller drops it.
    """
    try:
        if not reader.create(conn, state.rules, table.name, report):
            mutations.create_table(conn, state, table, False)
            load_file(conn, state.rules, reader, table, list(table.c.keys()), on_error, report, progress)
    finally:
        state.forget(table.name)
    return report


def load_existing_table(
    conn: sa.Connection,
    state: QueryState,
    reader: FileReader,
    name: str,
    file_columns: Sequence[ColumnDef],
    match: tuple[bool, bool],
    replace: bool,
    on_error: OnError,
    report: LoadReport,
    progress: bool | None,
) -> LoadReport:
    """Load the file into existing table `name` (emptied first if `replace`); in one transaction.

    `match` is ``(by_name, check_types)`` for :func:`match_table`.
    """
    state.forget(name)
    table = state.catalog(on(conn)).table(name)
    by_name, check_types = match
    columns = match_table(file_columns, table, path=reader.source.name, by_name=by_name, check_types=check_types)
    if replace:
        conn.execute(table.delete())
    return load_file(conn, state.rules, reader, table, columns, on_error, report, progress)


def resolve_schema(
    inferred: Callable[[], list[ColumnDef]],
    names: list[str],
    schema: Sequence[ColumnDef] | Mapping[str, str] | None,
    *,
    path: str,
    named: bool = True,
) -> list[ColumnDef]:
    """The columns to load: inferred, with a user's `schema` overriding names and types.

    A ``{name: type}`` mapping overrides the types of the columns it names (it may name all
    of them, or a few). A list of ``column(...)`` gives every column, in file order, and
    renames them. Inference only runs when some type is still unknown. When the file has
    no names of its own (`named` is false: a CSV without header), a mapping that gives every
    column names them in order.

    Example:
        >>> inferred = [column("id", "BIGINT"), column("zip", "BIGINT")]
        >>> [c.type_name for c in resolve_schema(lambda: inferred, ["id", "zip"], {"zip": "TEXT"}, path="a.csv")]
        ['BIGINT', 'TEXT']
    """
    if schema is None:
        return inferred()
    if isinstance(schema, Mapping):
        for name, type_ in schema.items():
            if not isinstance(type_, str):
                raise ValidationError(f"schema type for '{name}' must be a SQL type name, got {type(type_).__name__}")
            parse_type(type_)
        unknown = [k for k in schema if k not in names]
        if unknown and not named and len(schema) == len(names):
            return [column(k, v) for k, v in schema.items()]
        if unknown:
            raise ColumnNotFoundError(unknown[0], names, table=path)
        if all(n in schema for n in names):
            return [column(n, schema[n]) for n in names]
        return [column(c.name, schema.get(c.name, c.type_name)) for c in inferred()]
    given = list(schema)
    if not all(isinstance(c, ColumnDef) for c in given):
        raise ValidationError(
            "schema= takes column(...) definitions or a {name: type} dict",
            suggestion="schema=[column('id', 'INTEGER'), column('name', 'TEXT')] or schema={'zip': 'TEXT'}",
        )
    if len(given) != len(names):
        raise ValidationError(
            f"schema= gives {len(given)} columns but {path} has {len(names)}: {', '.join(names)}",
            suggestion="give one column(...) per column of the file, in order, or a {name: type} dict for a few",
        )
    return given


# families of types that can go into each other without surprise
_FAMILIES: tuple[tuple[str, tuple[type[Any], ...]], ...] = (
    ("boolean", (sa.Boolean,)),
    ("number", (sa.Integer, sa.Numeric)),
    ("timestamp", (sa.DateTime,)),
    ("date", (sa.Date,)),
    ("time", (sa.Time,)),
    ("json", (sa.JSON,)),
    ("binary", (sa.LargeBinary,)),
    ("text", (sa.String, sa.Enum, sa.Uuid)),
)
_ACCEPTS = {
    "text": {"text", "number", "boolean", "date", "timestamp", "time", "json"},
    "number": {"number", "boolean"},
    "boolean": {"boolean", "number"},
    "timestamp": {"timestamp", "date"},
    "date": {"date", "timestamp"},
    "json": {"json", "text", "number", "boolean"},
    "time": {"time"},
    "binary": {"binary", "text"},
}


def _family(type_: sa.types.TypeEngine[Any]) -> str | None:
    for name, classes in _FAMILIES:
        if isinstance(type_, classes):
            return name
    return None


def match_table(
    file_columns: Sequence[ColumnDef],
    table: sa.Table,
    *,
    path: str,
    by_name: bool,
    check_types: bool,
) -> list[str]:
    """Check that a file fits an existing table; return the table's columns in file order.

    Columns are matched by name (files with a header or keys), else by position. With
    `check_types`, a column whose file type cannot go into the table's type is a mismatch
    (text files skip this: their values are checked one by one as they load).

    Raises:
        ValidationError: The file has columns the table lacks, a different column count,
            or types that do not fit; the message lists both sides.
    """
    known = list(table.c.keys())
    if by_name:
        extra = [c.name for c in file_columns if c.name not in table.c]
        if extra:
            raise ValidationError(
                f"{path} does not match table '{table.name}': it has column(s) {', '.join(extra)} that the table "
                f"lacks; the table has: {', '.join(known)}",
                suggestion="rename the file's columns, add them to the table, or load into a new table",
                table=table.name,
            )
        names = [c.name for c in file_columns]
    else:
        if len(file_columns) != len(known):
            raise ValidationError(
                f"{path} does not match table '{table.name}': the file has {len(file_columns)} columns, "
                f"the table {len(known)} ({', '.join(known)})",
                suggestion="give the file a header row naming the columns, or load into a new table",
                table=table.name,
            )
        names = known
    if check_types:
        for file_column, name in zip(file_columns, names, strict=True):
            target = table.c[name].type
            have, want = _family(file_column.type), _family(target)
            if have is not None and want is not None and have not in _ACCEPTS[want]:
                raise ValidationError(
                    f"{path} does not match table '{table.name}': column '{name}' is {file_column.type_name} in "
                    f"the file but {type_name(target)} in the table",
                    suggestion="cast the column before saving the file, or load into a new table",
                    table=table.name,
                    column=name,
                )
    return names


def batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Lists of at most `size` items.

    Example:
        >>> list(batched(range(5), 2))
        [[0, 1], [2, 3], [4]]
    """
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
