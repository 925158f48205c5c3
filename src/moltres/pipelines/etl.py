"""Extract, transform, check and load, pushed down into the database whenever it can be.

An :class:`ETLPipeline` wires four steps::

    extract  -> a DataFrame (or rows, which become one)
    transform(df) -> a DataFrame                    # builders only: nothing runs yet
    validate(df) / checks                           # data quality, in the database
    load(df)                                        # INSERT ... SELECT when source and target share a database

When extract and load are on the same database, no row passes through Python: the load is
one ``INSERT ... SELECT`` (or ``CREATE TABLE ... AS SELECT``) over the transformed query,
and the checks are one aggregate query over it.

Example:
    >>> from moltres import col
    >>> from moltres.pipelines import ETLPipeline
    >>> result = ETLPipeline(
    ...     extract=lambda: db.table("users"),
    ...     transform=lambda df: df.where(col("age") > 30),
    ...     load="grown_ups",
    ... ).execute()
    >>> result.rows_loaded, result.pushed_down
    (2, True)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from moltres.dataframe.dataframe import DataFrame
from moltres.dataframe.writer import SaveMode, check_mode
from moltres.io.records import Records, normalize_rows
from moltres.quality.checker import QualityChecker
from moltres.quality.report import QualityReport
from moltres.utils.exceptions import DataQualityError, ValidationError

__all__ = ["ETLPipeline", "ETLResult", "TableLoad", "to_table"]

#: What ``extract`` may be or return: a DataFrame, ``Records``, or rows (a list of dicts,
#: a pandas/polars frame, an Arrow table).
Extracted: TypeAlias = Any  # a DataFrame, Records, or rows (list of dicts, pandas/polars/Arrow)
Transform: TypeAlias = Callable[[DataFrame], DataFrame]


@dataclass
class TableLoad:
    """Load into a table: pushed down on the same database, streamed in batches to another.

    Build it with :func:`to_table`; ``load="name"`` is short for ``load=to_table("name")``.

    Attributes:
        name: The target table.
        database: The target database; None means the transformed DataFrame's own.
        mode: ``append``, ``overwrite``, ``ignore`` or ``error_if_exists``.
        batch_size: Rows per batch when copying to another database.
    """

    name: str
    database: Any = None
    mode: SaveMode = "append"
    batch_size: int = 10_000

    def pushed_down(self, df: DataFrame) -> bool:
        """Whether loading `df` runs inside its database (no row passes through Python)."""
        return self.database is None or self.database is df.database

    def __call__(self, df: DataFrame) -> int:
        """Write `df` into the table atomically; return the number of rows written."""
        if self.pushed_down(df):
            return df.write.mode(self.mode).save_as_table(self.name)
        return self._copy(df)

    def _copy(self, df: DataFrame) -> int:
        """Stream `df` into a table of another database inside one transaction there."""
        from moltres.table.schema import column

        target = self.database
        exists = target.table_exists(self.name)
        if exists and self.mode == "error_if_exists":
            raise ValidationError(
                f"table '{self.name}' already exists",
                suggestion="use mode='append' or mode='overwrite'",
            )
        if exists and self.mode == "ignore":
            return 0
        written = 0
        with target.transaction():
            if not exists:
                columns = [column(name, _portable(kind)) for name, kind in df.schema]
                target.create_table(self.name, columns).collect()
            elif self.mode == "overwrite":
                target.delete(self.name)
            for batch in df.iter_batches(self.batch_size):
                written += target.insert(self.name, batch)
        return written


def _portable(sql_type: str) -> str:
    """A column type the target database accepts for a type the source reported."""
    from moltres.quality.checks import base_type_name

    base = base_type_name(sql_type)
    if base in ("NULL", "NULLTYPE", "") or (base in ("VARCHAR", "CHAR", "NVARCHAR") and "(" not in sql_type):
        return "TEXT"  # undeclared, or a VARCHAR without the length MySQL requires
    return sql_type


def to_table(name: str, *, database: Any = None, mode: str = "append", batch_size: int = 10_000) -> TableLoad:
    """A ``load`` step that writes into table `name`.

    Args:
        name: The target table; created from the query's columns when missing.
        database: The target :class:`~moltres.Database`. Leave it out (or pass the source's
            database) to push the load down as ``INSERT ... SELECT``; another database
            receives the rows in batches, inside one transaction.
        mode: ``append`` (default), ``overwrite``, ``ignore`` or ``error_if_exists``.
        batch_size: Rows per batch when copying between databases.

    Returns:
        The load step.

    Example:
        >>> to_table("daily_totals", mode="overwrite").mode
        'overwrite'
    """
    if not isinstance(name, str) or not name:
        raise ValidationError("to_table() needs a table name", suggestion="to_table('target')")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValidationError(f"batch_size must be a positive integer, got {batch_size!r}")
    return TableLoad(name, database, check_mode(mode), batch_size)


@dataclass
class ETLResult:
    """What a pipeline run did.

    Attributes:
        name: The pipeline's name.
        status: ``"success"``; a failed run raises instead (see :meth:`ETLPipeline.execute`).
        rows_extracted: Rows the extract step produced (None when not counted).
        rows_loaded: Rows the load step wrote: the count a table load reports, or the
            integer a load function returns; else the transformed row count.
        timings: Seconds per step: ``extract``, ``transform``, ``validate``, ``checks``,
            ``load`` and ``total``.
        quality: The data-quality report when the pipeline had checks.
        pushed_down: True when the load ran inside the database (``INSERT ... SELECT``),
            False when rows were copied through Python, None when a load function decided.
    """

    name: str
    status: Literal["success"] = "success"
    rows_extracted: int | None = None
    rows_loaded: int | None = None
    timings: dict[str, float] = field(default_factory=dict)
    quality: QualityReport | None = None
    pushed_down: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        """The result as plain data (the quality report as its ``to_dict()``).

        Example:
            >>> ETLResult("nightly", rows_loaded=3).to_dict()["rows_loaded"]
            3
        """
        return {
            "name": self.name,
            "status": self.status,
            "rows_extracted": self.rows_extracted,
            "rows_loaded": self.rows_loaded,
            "timings": {k: round(v, 6) for k, v in self.timings.items()},
            "quality": self.quality.to_dict() if self.quality is not None else None,
            "pushed_down": self.pushed_down,
        }


class ETLPipeline:
    """Extract, transform, validate and load, as one call to :meth:`execute`.

    Args:
        extract: A callable returning the source, or the source itself: a DataFrame,
            ``Records``, or rows (a list of dicts, a pandas/polars frame, an Arrow table).
            Rows become a DataFrame on `database`.
        transform: A callable (or a list of them, applied in order) taking and returning a
            DataFrame. Defaults to no change.
        load: Where the rows go: a table name (pushed down into the source's database), a
            :func:`to_table` step, or a callable receiving the transformed DataFrame.
        validate: A callable receiving the transformed DataFrame; when it returns a false
            value the pipeline stops before loading.
        checks: Data-quality checks (``DataQualityCheck`` dicts) run on the transformed
            DataFrame before loading; a failed check (``severity="error"``) stops the load.
        name: The pipeline's name, for results and messages.
        database: Where rows from Python are staged when `extract` gives rows; defaults
            to the ``Records``' database, else an in-memory SQLite database that is closed
            after each run (so load such rows with ``to_table(..., database=target)``).
        count_rows: Count the extracted rows (one ``COUNT(*)`` query on the source).

    Example:
        >>> from moltres.pipelines import ETLPipeline
        >>> ETLPipeline(extract=db.table("users"), load="users_copy").execute().rows_loaded
        3
    """

    def __init__(
        self,
        extract: Callable[[], Extracted] | Extracted,
        transform: Transform | Sequence[Transform] | None = None,
        load: str | TableLoad | Callable[[DataFrame], Any] | None = None,
        validate: Callable[[DataFrame], Any] | None = None,
        checks: Sequence[Mapping[str, Any]] | None = None,
        *,
        name: str = "etl",
        database: Any = None,
        count_rows: bool = True,
    ) -> None:
        if load is None:
            raise ValidationError(
                "an ETLPipeline needs load=",
                suggestion="load='target_table', load=to_table('t', database=other), or load=lambda df: ...",
            )
        if isinstance(load, str):
            load = to_table(load)
        if not callable(load):
            raise ValidationError(f"load must be a table name or a callable, got {type(load).__name__}")
        steps = [] if transform is None else list(transform) if isinstance(transform, Sequence) else [transform]
        for step in steps:
            if not callable(step):
                raise ValidationError(f"transform steps must be callables, got {type(step).__name__}")
        if validate is not None and not callable(validate):
            raise ValidationError(f"validate must be a callable, got {type(validate).__name__}")
        if checks is not None:
            from moltres.quality.checks import normalize_check

            checks = [normalize_check(c) for c in checks]
        self.extract = extract
        self.transforms: list[Transform] = steps
        self.load: TableLoad | Callable[[DataFrame], Any] = load
        self.validate = validate
        self.checks = list(checks) if checks else None
        self.name = name
        self.database = database
        self.count_rows = count_rows
        self._staging: Any = None

    def __repr__(self) -> str:
        return f"ETLPipeline<{self.name}>"

    def execute(self) -> ETLResult:
        """Run the pipeline once.

        Returns:
            An :class:`ETLResult` with row counts, timings and the quality report.

        Raises:
            ValidationError: A step returned something unusable, or ``validate`` returned a
                false value; nothing was loaded.
            DataQualityError: A check with ``severity="error"`` failed; nothing was loaded.
                ``exc.report`` is the :class:`~moltres.quality.QualityReport`.
            MoltresError: The load failed; the target is unchanged. A load function runs in
                one transaction; on MySQL/MariaDB a table it created stays, because DDL
                commits implicitly there.
        """
        result = ETLResult(self.name)
        started = time.perf_counter()
        try:
            return self._execute(result, started)
        finally:
            if self._staging is not None:  # the in-memory database rows from Python were staged in
                self._staging.close()
                self._staging = self.database = None

    run = execute

    def _execute(self, result: ETLResult, started: float) -> ETLResult:
        df, result.rows_extracted = self._timed(result, "extract", self._extract)
        df = self._timed(result, "transform", lambda: self._transform(df))
        if self.validate is not None:
            verdict = self._timed(result, "validate", lambda: self.validate(df))  # type: ignore[misc]
            if not verdict:
                raise ValidationError(
                    f"pipeline '{self.name}': validate returned {verdict!r}; nothing was loaded",
                    suggestion="inspect the transformed DataFrame, or fix the validate function",
                )
        if self.checks:
            checks = self.checks
            report = self._timed(result, "checks", lambda: QualityChecker().check(df, checks))
            result.quality = report
            if not report.passed:
                failed = ", ".join(f"{r.name} ({r.message})" for r in report.failed_checks)
                raise DataQualityError(
                    f"pipeline '{self.name}': data-quality checks failed, nothing was loaded: {failed}",
                    report=report,
                )
        loaded = self._timed(result, "load", lambda: self._load(df))
        result.rows_loaded = loaded if isinstance(loaded, int) and not isinstance(loaded, bool) else None
        if isinstance(self.load, TableLoad):
            result.pushed_down = self.load.pushed_down(df)
        if result.rows_loaded is None:
            result.rows_loaded = df.count()
        result.timings["total"] = time.perf_counter() - started
        return result

    # -------------------------------------------------------------------------------- steps

    @staticmethod
    def _timed(result: ETLResult, step: str, work: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        try:
            return work()
        finally:
            result.timings[step] = time.perf_counter() - started

    def _extract(self) -> tuple[DataFrame, int | None]:
        source = self.extract() if callable(self.extract) and not isinstance(self.extract, DataFrame) else self.extract
        if isinstance(source, DataFrame):
            return source, source.count() if self.count_rows else None
        database = self.database
        if isinstance(source, Records):
            database = database or source._database
            rows = source.rows
        else:
            try:
                rows = normalize_rows(source)
            except ValidationError:
                raise ValidationError(
                    f"pipeline '{self.name}': extract gave {type(source).__name__}; "
                    "expected a DataFrame, Records or a list of dicts",
                    suggestion="return db.table('source') or a list of row dicts from extract",
                ) from None
        if not rows:
            raise ValidationError(
                f"pipeline '{self.name}': extract gave no rows, so no columns to build a DataFrame from",
                suggestion="return an empty DataFrame (db.table('source').where('1 = 0')) instead",
            )
        if database is None:
            from moltres.database import connect

            database = self.database = self._staging = connect("sqlite://")
        return database.create_dataframe(rows), len(rows)

    def _transform(self, df: DataFrame) -> DataFrame:
        for step in self.transforms:
            df = step(df)
            if not isinstance(df, DataFrame):
                raise ValidationError(
                    f"pipeline '{self.name}': transform step {getattr(step, '__name__', step)!r} "
                    f"returned {type(df).__name__}, not a DataFrame",
                    suggestion="return the DataFrame you built: lambda df: df.where(...)",
                )
        return df

    def _load(self, df: DataFrame) -> Any:
        if isinstance(self.load, TableLoad):
            return self.load(df)  # each write is atomic on its own
        with df.database.transaction():
            return self.load(df)
