"""Parquet: read a file (or a partitioned folder) into a table, and write rows out, streaming.

Reading goes through DuckDB's own ``read_parquet`` where the database is DuckDB, else one
Arrow record batch at a time. Nested columns (lists, structs, maps) are stored natively
where the database can (DuckDB); elsewhere they are refused with a clear error unless
``nested="json"`` asks to store them as JSON text.

Writing streams Arrow batches into one file, or into a Hive-style folder
(``country=FR/part-0.parquet``) with ``partition_by``.

Example:
    >>> import pyarrow as pa
    >>> path = tmp / "t.parquet"
    >>> write_parquet(iter([pa.record_batch({"id": [1, 2], "tags": [["a"], []]})]), path)
    2
    >>> [(c.name, c.type_name) for c in ParquetFile(Source.of(path)).infer()]
    [('id', 'BIGINT'), ('tags', 'JSON')]
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy as sa

from moltres.io.formats.arrow import arrow_to_sql, is_nested, to_python
from moltres.io.loading import FileReader, LoadReport, OnError
from moltres.io.progress import Progress
from moltres.io.sources import Source, released
from moltres.sql.dialects.base import Rules
from moltres.table.schema import ColumnDef, column
from moltres.utils.exceptions import ValidationError
from moltres.utils.optional import require

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["NestedMode", "ParquetFile", "write_parquet"]

NestedMode = Literal["error", "json"]
# rows held back while the types of untyped columns (raw SQL) are still unknown
_SCHEMA_ROWS = 100_000
# rows per batch read (and inserted); few, so that one batch of Python values stays small
BATCH_ROWS = 20_000
_COMPRESSIONS = ("snappy", "gzip", "brotli", "zstd", "lz4", "none")


class ParquetFile(FileReader):
    """A Parquet file, or a folder of them (Hive partitions become columns).

    Args:
        source: The file or folder.
        columns: Read only these columns.
        nested: ``"error"`` refuses nested columns where the database cannot store them;
            ``"json"`` stores them as JSON text.
    """

    format = "parquet"

    def __init__(self, source: Source, *, columns: Sequence[str] | None = None, nested: NestedMode = "error") -> None:
        super().__init__(source, infer_rows=None)
        require("pyarrow", "parquet")
        if nested not in ("error", "json"):
            raise ValidationError(f"nested= takes 'error' or 'json', got {nested!r}")
        self.nested = nested
        self.selected = list(columns) if columns is not None else None
        self._dataset: Any = None

    def dataset(self) -> Any:
        """A ``pyarrow.parquet.ParquetFile`` for a file, a ``pyarrow.dataset.Dataset`` for a folder."""
        if self._dataset is None:
            import pyarrow as pa
            import pyarrow.parquet as pq

            path = os.fspath(self.source.path)
            try:
                if self.source.path.is_dir():
                    import pyarrow.dataset as ds  # (it imports pandas, when installed: only for folders)

                    self._dataset = ds.dataset(path, format="parquet", partitioning="hive")
                else:
                    # a file streams page by page; the dataset scanner would read ahead more
                    self._dataset = pq.ParquetFile(path)
            except (pa.ArrowInvalid, OSError) as exc:
                raise self.error(f"not a Parquet file: {str(exc).splitlines()[0]}") from None
        return self._dataset

    def num_rows(self) -> int:
        """How many rows the file or folder holds (from the metadata)."""
        found = self.dataset()
        metadata = getattr(found, "metadata", None)
        return int(metadata.num_rows) if metadata is not None else int(found.count_rows())

    def schema(self) -> pa.Schema:
        """The Arrow schema of the columns to read."""
        found = self.dataset()
        schema = getattr(found, "schema_arrow", None) or found.schema
        if self.selected is None:
            return schema
        missing = [c for c in self.selected if c not in schema.names]
        if missing:
            from moltres.utils.exceptions import ColumnNotFoundError

            raise ColumnNotFoundError(missing[0], schema.names, table=self.source.name)
        import pyarrow as pa

        return pa.schema([schema.field(c) for c in self.selected])

    def infer(self) -> list[ColumnDef]:
        """The columns, typed from the file's own schema (nested types as ``JSON``)."""
        return [column(f.name, arrow_to_sql(f.type)) for f in self.schema()]

    def nested_columns(self) -> list[tuple[str, str]]:
        """``(name, Arrow type)`` of each nested column."""
        return [(f.name, str(f.type)) for f in self.schema() if is_nested(f.type)]

    def check_nested(self, rules: Rules, dialect: str) -> None:
        """Refuse nested columns the database cannot store, unless ``nested="json"``."""
        nested = self.nested_columns()
        if nested and self.nested == "error" and not rules.stores_nested:
            name, type_ = nested[0]
            raise self.error(
                f"{dialect} cannot store the nested Parquet type {type_}",
                column=name,
                suggestion="pass nested='json' to store nested columns as JSON text, "
                f"or columns=[...] to read only the others ({', '.join(n for n, _ in nested)} are nested)",
            )

    def create(self, conn: sa.Connection, rules: Rules, name: str, report: LoadReport) -> bool:
        """On a database that stores nested types (DuckDB), create the table from the file itself."""
        if not (rules.stores_nested and self.nested == "error" and self.nested_columns()):
            return False
        loaded = rules.load_parquet(conn, name, self.schema().names, path=os.fspath(self.source.path))
        if loaded is None:
            return False
        report.method = "native"
        report.rows = loaded
        return True

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
        """Let the database read the file itself, else insert it one Arrow batch at a time."""
        names = self.schema().names
        if self.nested == "error" or not self.nested_columns():
            loaded = rules.load_parquet(conn, table, names, path=os.fspath(self.source.path))
            if loaded is not None:
                report.method = "native"
                report.rows = loaded
                progress.advance(self.source.size)
                return
        report.method = "arrow"
        fields = list(self.schema())
        nested = [is_nested(f.type) for f in fields]
        # nested values go into JSON columns as Python objects, into text columns as JSON text
        as_text = [n and not isinstance(table.c[c].type, sa.JSON) for n, c in zip(nested, columns, strict=True)]
        total = max(self.num_rows(), 1)
        for batch in self.batches():
            if batch.num_rows == 0:
                continue
            if any(nested):
                rules.insert_tuples(conn, table, columns, to_python(batch, as_text))
            else:
                rules.insert_arrow(conn, table, columns, batch)
            report.rows += batch.num_rows
            progress.advance(self.source.size * batch.num_rows // total)

    def batches(self) -> Iterator[pa.RecordBatch]:
        """The rows, one record batch at a time."""
        found = self.dataset()
        names = self.schema().names
        if hasattr(found, "iter_batches"):
            yield from found.iter_batches(batch_size=BATCH_ROWS, columns=names)
        else:
            yield from found.to_batches(columns=names, batch_size=BATCH_ROWS, batch_readahead=2, fragment_readahead=1)


# ---------------------------------------------------------------------------------------- writing


def _stable(batches: Iterator[pa.RecordBatch]) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    """One schema for every batch: untyped (all-NULL so far) columns wait for values, then text."""
    import pyarrow as pa

    held: list[pa.RecordBatch] = []
    rows = 0
    for batch in batches:
        held.append(batch)
        rows += batch.num_rows
        if not any(pa.types.is_null(f.type) for f in batch.schema) or rows >= _SCHEMA_ROWS:
            break
    if not held:
        raise ValidationError("no batches to write")
    schema = pa.unify_schemas([b.schema for b in held], promote_options="permissive")
    schema = pa.schema([f.with_type(pa.string()) if pa.types.is_null(f.type) else f for f in schema])

    def cast() -> Iterator[pa.RecordBatch]:
        for batch in chain(held, batches):
            if batch.schema.equals(schema):
                yield batch
            else:
                yield from pa.Table.from_batches([batch]).cast(schema).to_batches()

    return schema, cast()


def write_parquet(
    batches: Iterator[pa.RecordBatch],
    path: str | os.PathLike[str],
    *,
    compression: str = "snappy",
    partition_by: Sequence[str] | None = None,
    append: bool = False,
    row_group_size: int = 128 * 1024,
    progress: bool | None = None,
) -> int:
    """Write record batches to a Parquet file, or a Hive-partitioned folder; return the row count.

    Batches are written as they come, so memory holds one batch (plus what Parquet buffers
    for a row group). The file or folder appears whole or not at all; ``append=True`` adds
    new files to an existing partitioned folder.

    Example:
        >>> import pyarrow as pa
        >>> folder = tmp / "sales"
        >>> write_parquet(iter([pa.record_batch({"y": [2023, 2024], "n": [1, 2]})]), folder, partition_by=["y"])
        2
        >>> sorted(p.name for p in folder.iterdir())
        ['y=2023', 'y=2024']
    """
    require("pyarrow", "parquet")
    codec = (compression or "none").lower()
    if codec not in _COMPRESSIONS:
        raise ValidationError(
            f"unknown Parquet compression {compression!r}", suggestion="use one of: " + ", ".join(_COMPRESSIONS)
        )
    target = Path(path)
    if append and not partition_by:
        raise ValidationError(
            f"cannot append to the Parquet file {target}",
            suggestion="use .mode('overwrite'), or partition_by=[...] to write a folder you can append to",
        )
    with released(batches):
        return _write(batches, target, codec, partition_by, append, row_group_size, progress)


def _write(
    batches: Iterator[pa.RecordBatch],
    target: Path,
    codec: str,
    partition_by: Sequence[str] | None,
    append: bool,
    row_group_size: int,
    progress: bool | None,
) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema, stream = _stable(batches)
    written = 0
    with Progress(f"writing {target}", total=None, unit="rows", enabled=progress) as bar:

        def counted() -> Iterator[pa.RecordBatch]:
            nonlocal written
            for batch in stream:
                written += batch.num_rows
                bar.advance(batch.num_rows)
                yield batch

        if partition_by:
            missing = [c for c in partition_by if c not in schema.names]
            if missing:
                from moltres.utils.exceptions import ColumnNotFoundError

                raise ColumnNotFoundError(missing[0], schema.names)
            _write_partitioned(counted(), schema, target, list(partition_by), codec, append, row_group_size)
            return written
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        os.close(fd)
        try:
            with pq.ParquetWriter(temp, schema, compression=codec) as writer:
                # batches arrive small (few Python objects alive); row groups are written big
                held: list[pa.RecordBatch] = []
                rows = 0
                for batch in counted():
                    held.append(batch)
                    rows += batch.num_rows
                    if rows >= row_group_size:
                        writer.write_table(pa.Table.from_batches(held, schema), row_group_size=rows)
                        held, rows = [], 0
                if held:
                    writer.write_table(pa.Table.from_batches(held, schema), row_group_size=max(rows, 1))
            os.replace(temp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
    return written


def _write_partitioned(
    batches: Iterator[pa.RecordBatch],
    schema: pa.Schema,
    target: Path,
    partition_by: list[str],
    codec: str,
    append: bool,
    row_group_size: int,
) -> None:
    import pyarrow.dataset as ds

    options = ds.ParquetFileFormat().make_write_options(compression=codec)
    unique = uuid.uuid4().hex[:8]

    def write(folder: Path, behaviour: str) -> None:
        ds.write_dataset(
            batches,
            os.fspath(folder),
            schema=schema,
            format="parquet",
            partitioning=partition_by,
            partitioning_flavor="hive",
            file_options=options,
            basename_template=f"part-{unique}-{{i}}.parquet",
            existing_data_behavior=behaviour,
            max_partitions=10_000,
            min_rows_per_group=row_group_size,
            max_rows_per_group=row_group_size,
        )

    if append and target.exists():
        write(target, "overwrite_or_ignore")
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent))
    try:
        write(staging, "overwrite_or_ignore")
        if target.exists():
            retired = target.with_name(f".{target.name}.old-{unique}")
            target.rename(retired)
            staging.rename(target)
            if retired.is_dir():
                shutil.rmtree(retired, ignore_errors=True)
            else:
                retired.unlink()
        else:
            staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
