"""What the format converters need from a DataFrame, as a protocol.

``io/`` sits below ``dataframe/`` in the layers, so converters describe the frame they
accept instead of importing ``DataFrame``; :class:`moltres.dataframe.dataframe.DataFrame`
satisfies this protocol.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

from moltres.engine.executor import Executor
from moltres.logical.plan import Plan

__all__ = ["QueryFrame"]


class QueryFrame(Protocol):
    """A lazy query with a plan, the executor that runs it, and batched results."""

    _plan: Plan
    _executor: Executor

    @property
    def columns(self) -> list[str]:
        """The output column names."""
        ...

    def iter_batches(self, size: int = ..., *, timeout: float | None = None) -> Iterator[list[dict[str, Any]]]:
        """The rows, in lists of at most `size`."""
        ...
