r"""CSV: read a file into a table in chunks, and write rows out as CSV, streaming.

Reading takes the fastest path the database and the settings allow:

1. the database's own parser: PostgreSQL ``COPY ... FROM STDIN`` (the bytes are streamed,
   never parsed in Python) or DuckDB's ``read_csv``;
2. Arrow's CSV reader (``pyarrow``), inserted batch by batch;
3. Python's :mod:`csv` module, which also implements ``on_error="skip"`` and ``"null"``.

Every path gives the same rows, types and errors: a bad row names the file, the line and the
column. Where the databases read a file differently, moltres keeps to its own parsers: the
database's is used only for UTF-8 files of two or more columns (in one column, a blank line
is a NULL row to them and nothing to moltres) with no blank line before the first row, whose
first MiB is plain CSV (:func:`plain_csv`: a quote only around a whole field; PostgreSQL
reads ``5" screen`` as the start of a quoted field). A file the database then refuses (blank
lines in PostgreSQL's COPY) is loaded again by moltres' parsers, in the same transaction.

Example:
    >>> path = tmp / "people.csv"
    >>> _ = path.write_text("id,name,joined\n1,Ada,2024-01-05\n2,,2024-02-01\n")
    >>> reader = CsvFile(Source.of(path), CsvOptions())
    >>> [(c.name, c.type_name) for c in reader.infer()]
    [('id', 'BIGINT'), ('name', 'TEXT'), ('joined', 'DATE')]
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import itertools
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

import sqlalchemy as sa

from moltres.io.loading import DEFAULT_BATCH, FileReader, LoadReport, OnError, batched, insert_batches
from moltres.io.progress import Progress
from moltres.io.sources import Source, open_target, released
from moltres.io.values import FALSE_TOKENS, TRUE_TOKENS, Converter, infer_text_type, text_converter
from moltres.sql.dialects.base import Rules
from moltres.sql.types import type_name
from moltres.table.schema import ColumnDef, column
from moltres.utils.exceptions import DataFormatError, ValidationError

__all__ = ["CsvFile", "CsvOptions", "format_value", "plain_csv", "write_csv"]

# bytes Arrow parses per batch (each batch is one insert)
ARROW_BLOCK = 1 << 20
# characters checked by plain_csv before the database's own parser is trusted with a file
PLAIN_HEAD = 1 << 20
_UTF8 = {"utf-8", "utf8", "utf-8-sig", "utf_8", "utf_8_sig"}
_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class CsvOptions:
    r"""How a CSV file is written: header row, delimiter, quoting, the text of NULL, encoding.

    Example:
        >>> CsvOptions(delimiter="\t").delimiter
        '\t'
    """

    header: bool = True
    delimiter: str = ","
    quote: str = '"'
    escape: str | None = None
    null_value: str = ""
    encoding: str = "utf-8"

    def __post_init__(self) -> None:
        for name in ("delimiter", "quote"):
            value = getattr(self, name)
            if not isinstance(value, str) or len(value) != 1:
                raise ValidationError(f"CSV {name} must be one character, got {value!r}")
        if self.escape is not None and (not isinstance(self.escape, str) or len(self.escape) != 1):
            raise ValidationError(f"CSV escape must be one character or None, got {self.escape!r}")
        if self.delimiter == self.quote:
            raise ValidationError("CSV delimiter and quote must differ")

    @property
    def nulls(self) -> tuple[str, ...]:
        """The field texts read as NULL."""
        return (self.null_value,)

    def reader(self, text: IO[str]) -> Any:
        """A :func:`csv.reader` over `text` with these settings."""
        return csv.reader(
            text,
            delimiter=self.delimiter,
            quotechar=self.quote,
            escapechar=self.escape,
            doublequote=self.escape is None or self.escape == self.quote,
            strict=False,
        )


class CsvFile(FileReader):
    """A CSV file to load (see the module docstring for the paths it takes)."""

    format = "csv"

    def __init__(self, source: Source, options: CsvOptions, *, infer_rows: int | None = 10_000) -> None:
        super().__init__(source, infer_rows=infer_rows)
        self.options = options
        self._names: list[str] | None = None
        self._first_line = 1  # where the first record starts (blank lines before it are skipped)

    def _text(self, on_read: Any = None) -> Any:
        encoding = "utf-8-sig" if self.options.encoding.lower() in _UTF8 else self.options.encoding
        return self.source.open_text(encoding, on_read)

    def _records(self, text: IO[str]) -> Iterator[tuple[int, list[str]]]:
        """(line where the record starts, fields), skipping blank lines."""
        reader = self.options.reader(text)
        last = 0
        try:
            for fields in reader:
                start, last = last + 1, reader.line_num
                if fields:
                    yield start, fields
        except csv.Error as exc:
            raise self.error(f"malformed CSV: {exc}", line=reader.line_num) from None
        except UnicodeDecodeError as exc:
            raise self.error(
                f"not valid {self.options.encoding} text: {exc.reason}",
                line=reader.line_num + 1,
                suggestion="pass encoding='latin-1' (or the file's encoding)",
            ) from None

    def names(self) -> list[str]:
        """The column names: the header row's (made unique), else ``column_1``, ``column_2`` ..."""
        if self._names is None:
            with self._text() as text:
                first = next(self._records(text), None)
            if first is None:
                raise self.error("the file is empty", suggestion="check the path, or pass schema= for an empty table")
            self._first_line, fields = first
            if not self.options.header:
                self._names = [f"column_{i + 1}" for i in range(len(fields))]
            else:
                self._names = _unique([f.strip() or f"column_{i + 1}" for i, f in enumerate(fields)])
        return self._names

    def infer(self) -> list[ColumnDef]:
        """Columns typed from the first :attr:`infer_rows` rows (all rows when None)."""
        names = self.names()
        with self._text() as text:
            records = self._records(text)
            if self.options.header:
                next(records, None)
            rows = [fields for _, fields in itertools.islice(records, self.infer_rows)]
        # rows as columns; a short row's missing fields are NULL, a long row's extra ones ignored
        samples = list(itertools.zip_longest(*rows, fillvalue=self.options.null_value))[: len(names)]
        samples += [()] * (len(names) - len(samples))
        return [column(n, infer_text_type(s, self.options.nulls)) for n, s in zip(names, samples, strict=True)]

    # ---------------------------------------------------------------------------------- loading

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
        """Load through COPY / DuckDB, else Arrow, else Python (see the module docstring)."""
        types = [table.c[c].type for c in columns]
        if on_error == "raise" and self._load_natively_or_retry(conn, rules, table, columns, report, progress):
            return
        if on_error == "raise" and self._load_arrow(conn, rules, table, columns, types, report, progress):
            return
        report.method = "rows"
        rows = self.rows(types, on_error, report, progress)
        insert_batches(conn, rules, table, columns, batched(rows, DEFAULT_BATCH), report)

    def _load_natively_or_retry(
        self,
        conn: sa.Connection,
        rules: Rules,
        table: sa.Table,
        columns: Sequence[str],
        report: LoadReport,
        progress: Progress,
    ) -> bool:
        """The database's own parser; if it refuses the file, undo and let moltres' parsers try.

        Databases are stricter on some spellings (PostgreSQL's COPY refuses blank lines, which
        the other paths skip); moltres' parsers then load the file, or name the bad line
        themselves. Without savepoints (DuckDB) the database's error stands.
        """
        if not rules.supports_savepoints:
            return self._load_natively(conn, rules, table, columns, report, progress)
        savepoint = conn.begin_nested()
        try:
            loaded = self._load_natively(conn, rules, table, columns, report, progress)
        except DataFormatError:
            savepoint.rollback()
            report.rows = 0
            return False
        savepoint.commit()
        return loaded

    def _load_natively(
        self,
        conn: sa.Connection,
        rules: Rules,
        table: sa.Table,
        columns: Sequence[str],
        report: LoadReport,
        progress: Progress,
    ) -> bool:
        if not self._database_reads_alike():
            return False
        o = self.options
        loaded = rules.load_csv(
            conn,
            table,
            columns,
            path=os.fspath(self.source.path),
            chunks=_trimmed(self.source.chunks(progress.advance)),
            compression=self.source.compression,
            header=o.header,
            delimiter=o.delimiter,
            quote=o.quote,
            escape=o.escape,
            null=o.null_value,
        )
        if loaded is None:
            return False
        report.method = "native"
        report.rows = loaded
        return True

    def _database_reads_alike(self) -> bool:
        """Whether a database's CSV parser reads this file as moltres does (see the module docstring)."""
        if self.options.encoding.lower() not in _UTF8 or len(self.names()) < 2 or self._first_line != 1:
            return False
        with self._text() as text:
            head = text.read(PLAIN_HEAD)
        return plain_csv(head, self.options, complete=len(head) < PLAIN_HEAD)

    def _load_arrow(
        self,
        conn: sa.Connection,
        rules: Rules,
        table: sa.Table,
        columns: Sequence[str],
        types: list[sa.types.TypeEngine[Any]],
        report: LoadReport,
        progress: Progress,
    ) -> bool:
        try:
            import pyarrow as pa
            import pyarrow.csv as pacsv
        except ImportError:
            return False
        from moltres.io.formats.arrow import sql_to_arrow

        arrow_types = [sql_to_arrow(t) for t in types]
        if any(t is None for t in arrow_types) or self.options.escape not in (None, self.options.quote):
            return False
        names = self.names()
        o = self.options
        convert = pacsv.ConvertOptions(
            column_types=dict(zip(names, arrow_types, strict=True)),
            null_values=list(o.nulls),
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
            true_values=_cases(TRUE_TOKENS),
            false_values=_cases(FALSE_TOKENS),
            timestamp_parsers=[pacsv.ISO8601],
        )
        read = pacsv.ReadOptions(
            column_names=names,
            skip_rows=self._first_line - 1 + (1 if o.header else 0),  # Arrow counts blank lines too
            block_size=ARROW_BLOCK,
            encoding="utf8" if o.encoding.lower() in _UTF8 else o.encoding,
        )
        parse = pacsv.ParseOptions(
            delimiter=o.delimiter,
            quote_char=o.quote,
            double_quote=True,
            newlines_in_values=True,
            ignore_empty_lines=True,
        )
        report.method = "arrow"
        savepoint = conn.begin_nested() if rules.supports_savepoints else None
        try:
            with self.source.open(progress.advance) as stream:
                for batch in pacsv.open_csv(stream, read_options=read, parse_options=parse, convert_options=convert):
                    if batch.num_rows:
                        rules.insert_arrow(conn, table, columns, batch)
                        report.rows += batch.num_rows
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            # Arrow says what but not where: find the first bad line with the Python parser
            try:
                quiet = Progress("", total=None, unit="bytes", enabled=False)
                for _ in self.rows(types, "raise", LoadReport(report.path, "csv", report.table), quiet):
                    pass
            except DataFormatError:
                if savepoint is not None:
                    savepoint.rollback()
                raise
            if savepoint is None:
                raise self.error(
                    str(exc).splitlines()[0], suggestion="pass on_error='null' to parse row by row"
                ) from None
            # Python's parser takes every row (it is more lenient on some spellings): use it instead
            savepoint.rollback()
            report.rows = 0
            return False
        if savepoint is not None:
            savepoint.commit()
        return True

    def rows(
        self,
        types: Sequence[sa.types.TypeEngine[Any]],
        on_error: OnError,
        report: LoadReport,
        progress: Progress,
    ) -> Iterator[tuple[Any, ...]]:
        """Parse and convert every row in Python, applying `on_error` to bad rows and values."""
        names = self.names()
        width = len(names)
        converters: list[Converter] = [text_converter(t, self.options.nulls) for t in types]
        with self._text(progress.advance) as text:
            records = self._records(text)
            if self.options.header:
                next(records, None)
            for line, parsed in records:
                fields = parsed
                if len(fields) != width:
                    message = f"expected {width} fields, found {len(fields)}"
                    if on_error == "raise":
                        raise self.error(message, line=line, suggestion=_SUGGEST_ROWS)
                    report.record(line, None, message)
                    if on_error == "skip":
                        report.skipped += 1
                        continue
                    report.nulled += 1
                    fields = (fields + [self.options.null_value] * width)[:width]
                try:
                    yield tuple([convert(v) for convert, v in zip(converters, fields, strict=True)])
                except (ValueError, TypeError, ArithmeticError):
                    row = self._salvage(line, fields, converters, types, on_error, report)
                    if row is not None:
                        yield row

    def _salvage(
        self,
        line: int,
        fields: list[str],
        converters: list[Converter],
        types: Sequence[sa.types.TypeEngine[Any]],
        on_error: OnError,
        report: LoadReport,
    ) -> tuple[Any, ...] | None:
        names = self.names()
        values: list[Any] = []
        for name, convert, type_, value in zip(names, converters, types, fields, strict=True):
            try:
                values.append(convert(value))
            except (ValueError, TypeError, ArithmeticError):
                message = f"{value!r} is not a valid {type_name(type_)}"
                if on_error == "raise":
                    raise self.error(message, line=line, column=name, suggestion=_suggest_value(name)) from None
                report.record(line, name, message)
                values.append(None)
        if on_error == "skip":
            report.skipped += 1
            return None
        report.nulled += 1
        return tuple(values)


_SUGGEST_ROWS = "fix the row, or pass on_error='skip' to drop bad rows ('null' to pad them with NULLs)"


def _suggest_value(name: str) -> str:
    return (
        f"fix the value, pass schema={{'{name}': 'TEXT'}} to keep the column as text, "
        "or on_error='skip' / on_error='null' to drop the row / store NULL"
    )


def _cases(words: Iterable[str]) -> list[str]:
    return sorted({v for w in words for v in (w, w.upper(), w.title())})


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        unique = name
        while unique in seen:
            seen[name] += 1
            unique = f"{name}_{seen[name]}"
        seen.setdefault(unique, 1)
        out.append(unique)
    return out


def _trimmed(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The bytes without a UTF-8 BOM and without the blank lines that end the file.

    (A database's parser reads a blank line as a row: a NULL, or a row with too few fields.)
    """
    held = next(chunks, b"").removeprefix(_BOM)
    for chunk in chunks:
        if not chunk:
            continue
        yield held
        held = chunk
    body = held.rstrip(b"\r\n")
    ending = held[len(body) : len(body) + 2]
    # the last line keeps its own line ending (PostgreSQL wants one style through the file)
    if body:
        yield body + (ending if ending == b"\r\n" else ending[:1])


def plain_csv(text: str, options: CsvOptions, *, complete: bool = True) -> bool:
    r"""Whether `text` is CSV as RFC 4180 writes it: quotes only around whole fields.

    Parsers disagree on anything else: a quote inside an unquoted field is a character to
    Python's :mod:`csv` module, Arrow and DuckDB, and starts a quoted section to PostgreSQL's
    ``COPY``; an escape character escapes outside quotes too in Python only, and with one a
    doubled quote means different things. So with an escape character (other than the
    quote) set, text that uses it is not plain. With `complete` false, `text` is the head of
    a longer file and may end inside a quoted field.

    Example:
        >>> plain_csv('id,note\n1,"say ""hi"", twice"\n2,\n', CsvOptions())
        True
        >>> plain_csv('id,size\n1,12"\n2,15"\n', CsvOptions())
        False
    """
    o = options
    escaping = o.escape is not None and o.escape != o.quote
    if o.escape is not None and escaping and o.escape in text:
        return False
    # between quotes (odd parts) anything goes; the parts outside quotes must touch each quote
    # with a field boundary: a delimiter, a line end, or the other quote of a doubled quote
    parts = text.split(o.quote)
    if len(parts) % 2 == 0 and complete:  # a quoted field that never ends
        return False
    bounds = {o.delimiter, "\r", "\n"}
    if parts[0] and len(parts) > 1 and parts[0][-1] not in bounds:
        return False
    final = len(parts) - 1 if len(parts) % 2 else -1  # the part after the last closing quote
    if final > 0 and parts[final] and parts[final][0] not in bounds:
        return False
    # the others sit between a closing and an opening quote; empty, they are a doubled quote
    between = parts[2:final:2] if final > 0 else parts[2::2]
    if escaping and "" in between:  # an escape character changes what a doubled quote means
        return False
    return all(p[0] in bounds and p[-1] in bounds for p in between if p)


# ---------------------------------------------------------------------------------------- writing


def format_value(value: Any) -> str | Any:
    """How a Python value is written into a CSV field (None is handled by the caller).

    Example:
        >>> format_value(True), format_value(dt.datetime(2024, 1, 2, 3, 4)), format_value({"a": 1})
        ('true', '2024-01-02 03:04:00', '{"a": 1}')
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str, decimal.Decimal)):
        return value
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "\\x" + bytes(value).hex()
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, default=str)
    return str(value)


def write_csv(
    batches: Iterable[Sequence[dict[str, Any]]],
    columns: Sequence[str],
    path: str | os.PathLike[str],
    *,
    options: CsvOptions | None = None,
    compression: str | None = None,
    append: bool = False,
    progress: bool | None = None,
) -> int:
    """Write batches of rows to a CSV file, one batch in memory at a time; return the row count.

    The file appears whole or not at all (unless appending). When appending to a file that
    is not empty, no header row is written.

    Example:
            >>> target = tmp / "out.csv"
        >>> write_csv([[{"id": 1, "ok": True}, {"id": 2, "ok": None}]], ["id", "ok"], target)
        2
        >>> print(target.read_text())
        id,ok
        1,true
        2,
        <BLANKLINE>
    """
    o = options or CsvOptions()
    header = o.header and not (append and os.path.exists(path) and os.path.getsize(path) > 0)
    written = 0
    null = o.null_value
    with (
        released(batches),
        open_target(path, compression=compression, append=append) as raw,
        Progress(f"writing {os.fspath(path)}", total=None, unit="rows", enabled=progress) as bar,
    ):
        text = io.TextIOWrapper(raw, encoding=o.encoding, newline="")
        writer = csv.writer(
            text,
            delimiter=o.delimiter,
            quotechar=o.quote,
            escapechar=o.escape,
            doublequote=o.escape is None or o.escape == o.quote,
            lineterminator="\n",
        )
        if header:
            writer.writerow(columns)
        for batch in batches:
            writer.writerows([null if r.get(c) is None else format_value(r.get(c)) for c in columns] for r in batch)
            written += len(batch)
            bar.advance(len(batch))
        text.flush()
        text.detach()
    return written
