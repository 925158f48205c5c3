"""A progress bar for long loads and writes, on stderr, only when someone can see it.

``progress=None`` (the default everywhere) shows a bar when stderr is a terminal and the
work is big (a file of at least :data:`BYTES_THRESHOLD` bytes, or at least
:data:`ROWS_THRESHOLD` rows written); ``progress=True`` always shows one (it needs
``rich``: ``pip install "moltres[progress]"``); ``progress=False`` never does.

Example:
    >>> with Progress("loading a.csv", total=10, unit="bytes", enabled=False) as bar:
    ...     bar.advance(10)
    >>> bar.done
    10
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any, Literal

from moltres.utils.optional import require

__all__ = ["BYTES_THRESHOLD", "ROWS_THRESHOLD", "Progress"]

BYTES_THRESHOLD = 32 << 20
ROWS_THRESHOLD = 250_000


def _rich_available() -> bool:
    try:
        import rich.progress  # noqa: F401
    except ImportError:
        return False
    return True


class Progress:
    """Counts work done and, when enabled, draws it with ``rich`` on stderr.

    Args:
        description: What is being done, shown left of the bar.
        total: How much work there is (None when unknown: the bar counts up).
        unit: ``"bytes"`` or ``"rows"``.
        enabled: True, False, or None to decide from the terminal and the size.
    """

    def __init__(
        self,
        description: str,
        *,
        total: int | None,
        unit: Literal["bytes", "rows"],
        enabled: bool | None = None,
    ) -> None:
        self.description = description
        self.total = total
        self.unit = unit
        self.done = 0
        self._bar: Any = None
        self._task: Any = None
        threshold = BYTES_THRESHOLD if unit == "bytes" else ROWS_THRESHOLD
        if enabled is True:
            require("rich", "progress")
            self._wanted = True
            self._threshold = 0
        elif enabled is None:
            self._wanted = _stderr_is_terminal() and _rich_available()
            self._threshold = threshold
        else:
            self._wanted = False
            self._threshold = 0

    def __enter__(self) -> Progress:
        if self._wanted and self.total is not None and self.total >= self._threshold:
            self._start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def advance(self, amount: int) -> None:
        """Record `amount` more bytes or rows done."""
        self.done += amount
        if self._bar is None:
            if not self._wanted or self.total is not None or self.done < self._threshold:
                return
            self._start()
        self._bar.update(self._task, completed=self.done)

    def _start(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            MofNCompleteColumn,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )
        from rich.progress import Progress as RichProgress

        columns: list[Any] = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn()]
        if self.unit == "bytes":
            columns += [DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn()]
        else:
            columns += [MofNCompleteColumn() if self.total else TextColumn("{task.completed:,} rows")]
            columns += [TimeElapsedColumn()]
        console = Console(file=sys.stderr)
        # on a terminal the bar disappears when done; elsewhere (a log) its final state stays
        self._bar = RichProgress(*columns, console=console, transient=console.is_terminal)
        self._bar.start()
        self._task = self._bar.add_task(self.description, total=self.total, completed=self.done)


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False
