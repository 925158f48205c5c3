"""Pause Python's cyclic garbage collector while many acyclic objects are built at once."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["MANY", "collector_paused"]

#: From how many new objects a pause pays for itself.
MANY = 512


@contextlib.contextmanager
def collector_paused(count: int) -> Iterator[None]:
    """Pause the cyclic garbage collector inside the block when it builds `count` (≥ :data:`MANY`) objects.

    Tuples and dicts made from rows hold no reference cycles, yet each one counts toward the
    collector's allocation threshold; building hundreds of thousands of them triggers
    collections that rescan every young object still alive, the rows included (a 200,000-row
    insert spends more time there than in making its tuples). The collector is switched back
    on afterwards only if it was on.

    Example:
        >>> import gc
        >>> with collector_paused(100_000):
        ...     gc.isenabled()
        False
        >>> gc.isenabled()
        True
    """
    if count < MANY or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
