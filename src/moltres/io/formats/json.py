r"""JSON and JSON Lines: read objects into a table in chunks, and write rows out, streaming.

``.json`` files hold one array of objects; ``.jsonl`` files one object per line. Neither is
read into memory whole: the array is decoded one element at a time. Keys become columns
(in order of first appearance); nested values (objects, arrays) go into ``JSON`` columns.

Example:
    >>> path = tmp / "events.json"
    >>> _ = path.write_text('[{"id": 1, "tags": ["a"]},\n {"id": 2, "score": 2.5}]')
    >>> [(c.name, c.type_name) for c in JsonFile(Source.of(path)).infer()]
    [('id', 'BIGINT'), ('tags', 'JSON'), ('score', 'DOUBLE')]
"""

from __future__ import annotations

import datetime as dt
import decimal
import io
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import IO, Any

import sqlalchemy as sa

from moltres.io.loading import DEFAULT_BATCH, FileReader, LoadReport, OnError, batched, insert_batches
from moltres.io.progress import Progress
from moltres.io.sources import Source, open_target, released
from moltres.io.values import Converter, infer_value_type, merge_types, value_converter
from moltres.sql.dialects.base import Rules
from moltres.sql.types import type_name
from moltres.table.schema import ColumnDef, column

__all__ = ["JsonFile", "json_default", "write_json"]

_READ = 1 << 16
# an element still undecodable after this many characters is malformed, not merely cut
_MAX_ELEMENT = 64 << 20
_WHITESPACE = " \t\n\r"


class JsonFile(FileReader):
    """A JSON array of objects (``lines=False``) or a JSON Lines file (``lines=True``)."""

    def __init__(
        self, source: Source, *, lines: bool = False, encoding: str = "utf-8", infer_rows: int | None = 10_000
    ) -> None:
        super().__init__(source, infer_rows=infer_rows)
        self.lines = lines
        self.format = "jsonl" if lines else "json"
        self.encoding = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
        self._columns: list[ColumnDef] | None = None

    # ---------------------------------------------------------------------------------- parsing

    def _objects(self, text: IO[str]) -> Iterator[tuple[int, Any]]:
        """(line where the value starts, value) for each element or line."""
        try:
            values = self._lines(text) if self.lines else self._array(text)
            for line, value in values:
                if not isinstance(value, dict):
                    raise self.error(
                        f"expected an object, found {type(value).__name__} {json.dumps(value)[:40]}",
                        line=line,
                        suggestion='each element must be an object such as {"id": 1, "name": "Ada"}',
                    )
                yield line, value
        except UnicodeDecodeError as exc:
            raise self.error(f"not valid {self.encoding} text: {exc.reason}", suggestion="pass encoding=") from None

    def _lines(self, text: IO[str]) -> Iterator[tuple[int, Any]]:
        for number, line in enumerate(text, start=1):
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as exc:
                raise self.error(f"invalid JSON: {exc.msg} (character {exc.colno})", line=number) from None

    def _array(self, text: IO[str]) -> Iterator[tuple[int, Any]]:
        decoder = json.JSONDecoder()
        buffer = ""
        pos = 0
        line = 1  # the line of buffer[pos]
        eof = False

        def more(size: int = _READ) -> bool:
            nonlocal buffer, pos, eof
            if eof:
                return False
            chunk = text.read(size)
            if not chunk:
                eof = True
                return False
            buffer = buffer[pos:] + chunk
            pos = 0
            return True

        def skip_space() -> str | None:
            nonlocal pos, line
            while True:
                while pos < len(buffer) and buffer[pos] in _WHITESPACE:
                    if buffer[pos] == "\n":
                        line += 1
                    pos += 1
                if pos < len(buffer):
                    return buffer[pos]
                if not more():
                    return None

        first = skip_space()
        if first != "[":
            found = "nothing" if first is None else repr(first)
            raise self.error(
                f"expected a JSON array of objects, found {found}",
                line=line,
                suggestion="use db.read.jsonl(...) for one object per line",
            )
        pos += 1
        expect_value = True
        while True:
            char = skip_space()
            if char is None:
                raise self.error("the JSON array is not closed with ']'", line=line)
            if char == "]":
                pos += 1
                if skip_space() is not None:
                    raise self.error("unexpected text after the JSON array", line=line)
                return
            if not expect_value:
                if char != ",":
                    raise self.error(f"expected ',' or ']' between elements, found {char!r}", line=line)
                pos += 1
                expect_value = True
                continue
            size = _READ
            while True:
                try:
                    value, end = decoder.raw_decode(buffer, pos)
                except json.JSONDecodeError as exc:
                    cut = exc.pos >= len(buffer) - 6 or exc.msg.startswith("Unterminated string")
                    if cut and len(buffer) - pos < _MAX_ELEMENT and more(size):  # it continues in the next chunk
                        size *= 2
                        continue
                    bad_line = line + buffer.count("\n", pos, exc.pos)
                    raise self.error(f"invalid JSON: {exc.msg}", line=bad_line) from None
                if end == len(buffer) and not eof and not isinstance(value, (dict, list)) and more(size):
                    continue  # a number or literal cut by the chunk boundary: decode it whole
                break
            start_line = line
            line += buffer.count("\n", pos, end)
            pos = end
            expect_value = False
            yield start_line, value

    # --------------------------------------------------------------------------------- schema

    def infer(self) -> list[ColumnDef]:
        """Columns from the keys of the first :attr:`infer_rows` objects, typed by their values.

        A file without any object has no columns (it loads into an existing table as no rows).
        """
        if self._columns is None:
            types: dict[str, str | None] = {}
            with self.source.open_text(self.encoding) as text:
                for _, obj in islice(self._objects(text), self.infer_rows):
                    for key, value in obj.items():
                        types[key] = merge_types(types.get(key), infer_value_type(value))
            self._columns = [column(k, t or "TEXT") for k, t in types.items()]
        return self._columns

    # -------------------------------------------------------------------------------- loading

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
        """Decode, convert and insert the objects in batches."""
        report.method = "rows"
        names = [c.name for c in self.infer()]
        types = [table.c[c].type for c in columns]
        rows = self.rows(names, types, on_error, report, progress)
        insert_batches(conn, rules, table, columns, batched(rows, DEFAULT_BATCH), report)

    def rows(
        self,
        names: Sequence[str],
        types: Sequence[sa.types.TypeEngine[Any]],
        on_error: OnError,
        report: LoadReport,
        progress: Progress,
    ) -> Iterator[tuple[Any, ...]]:
        """Row tuples in `names` order; absent keys are NULL, unknown keys are errors."""
        converters: list[Converter] = [value_converter(t) for t in types]
        known = set(names)
        with self.source.open_text(self.encoding, progress.advance) as text:
            for line, obj in self._objects(text):
                bad = False
                extra = [k for k in obj if k not in known]
                if extra:
                    message = f"unexpected key {extra[0]!r} (the columns are {', '.join(names)})"
                    if on_error == "raise":
                        raise self.error(
                            message,
                            line=line,
                            suggestion="pass infer_rows=-1 to find every key, or on_error='null' to ignore it",
                        )
                    report.record(line, extra[0], message)
                    bad = True
                    if on_error == "skip":
                        report.skipped += 1
                        continue
                values: list[Any] = []
                for name, convert, type_ in zip(names, converters, types, strict=True):
                    value = obj.get(name)
                    try:
                        values.append(convert(value))
                    except (ValueError, TypeError, ArithmeticError):
                        message = f"{json.dumps(value, default=str)[:40]} is not a valid {type_name(type_)}"
                        if on_error == "raise":
                            raise self.error(
                                message,
                                line=line,
                                column=name,
                                suggestion=f"pass schema={{'{name}': 'TEXT'}}, or on_error='skip' / 'null'",
                            ) from None
                        report.record(line, name, message)
                        bad = True
                        values.append(None)
                if bad:
                    if on_error == "skip":
                        report.skipped += 1
                        continue
                    report.nulled += 1
                yield tuple(values)


# ---------------------------------------------------------------------------------------- writing


def json_default(value: Any) -> Any:
    """How values JSON has no type for are written: dates as ISO text, decimals as numbers.

    Example:
        >>> json.dumps({"d": dt.date(2024, 1, 2), "n": decimal.Decimal("1.50")}, default=json_default)
        '{"d": "2024-01-02", "n": 1.5}'
    """
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() and value.as_tuple().exponent == 0 else float(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    return str(value)


def write_json(
    batches: Iterable[Sequence[dict[str, Any]]],
    path: str | os.PathLike[str],
    *,
    lines: bool = False,
    compression: str | None = None,
    append: bool = False,
    encoding: str = "utf-8",
    progress: bool | None = None,
) -> int:
    r"""Write batches of rows as a JSON array (or JSON Lines); return the row count.

    One batch is in memory at a time; the file appears whole or not at all.

    Example:
            >>> target = tmp / "out.jsonl"
        >>> write_json([[{"id": 1}, {"id": 2}]], target, lines=True)
        2
        >>> target.read_text()
        '{"id": 1}\n{"id": 2}\n'
    """
    written = 0
    dumps = json.JSONEncoder(default=json_default, ensure_ascii=False).encode
    with (
        released(batches),
        open_target(path, compression=compression, append=append) as raw,
        Progress(f"writing {os.fspath(path)}", total=None, unit="rows", enabled=progress) as bar,
    ):
        text = io.TextIOWrapper(raw, encoding=encoding, newline="\n")
        if lines:
            for batch in batches:
                text.write("".join(dumps(row) + "\n" for row in batch))
                written += len(batch)
                bar.advance(len(batch))
        else:
            text.write("[")
            for batch in batches:
                if batch:
                    text.write(("," if written else "") + "\n" + ",\n".join(dumps(row) for row in batch))
                written += len(batch)
                bar.advance(len(batch))
            text.write("\n]\n" if written else "]\n")
        text.flush()
        text.detach()
    return written
