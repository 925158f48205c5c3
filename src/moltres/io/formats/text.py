r"""Plain text: each line of a file becomes a row with one ``TEXT`` column, ``value``.

Example:
    >>> path = tmp / "app.log"
    >>> _ = path.write_text("started\nstopped\n")
    >>> [c.name for c in TextFile(Source.of(path)).infer()]
    ['value']
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa

from moltres.io.loading import DEFAULT_BATCH, FileReader, LoadReport, OnError, batched, insert_batches
from moltres.io.progress import Progress
from moltres.io.sources import Source
from moltres.sql.dialects.base import Rules
from moltres.table.schema import ColumnDef, column

__all__ = ["TextFile"]


class TextFile(FileReader):
    """A text file read line by line (line endings removed; empty lines are empty strings)."""

    format = "text"

    def __init__(self, source: Source, *, encoding: str = "utf-8", column_name: str = "value") -> None:
        super().__init__(source, infer_rows=0)
        self.encoding = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
        self.column_name = column_name

    def infer(self) -> list[ColumnDef]:
        """One TEXT column."""
        return [column(self.column_name, "TEXT")]

    def lines(self, progress: Progress) -> Iterator[tuple[str]]:
        """Each line as a one-value row."""
        try:
            with self.source.open_text(self.encoding, progress.advance) as text:
                for line in text:
                    yield (line.rstrip("\r\n"),)
        except UnicodeDecodeError as exc:
            raise self.error(f"not valid {self.encoding} text: {exc.reason}", suggestion="pass encoding=") from None

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
        """Insert the lines in batches."""
        report.method = "rows"
        rows: Any = self.lines(progress)
        insert_batches(conn, rules, table, columns, batched(rows, DEFAULT_BATCH), report)
