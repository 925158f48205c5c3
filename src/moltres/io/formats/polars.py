"""polars: a DataFrame's rows as a ``polars.DataFrame``, through Arrow when pyarrow is installed.

Example:
    >>> to_polars(db.table("users")).columns
    ['id', 'name', 'age']
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from moltres.utils.optional import require

if TYPE_CHECKING:
    import polars as pl

    from moltres.io.frames import QueryFrame

__all__ = ["to_polars"]


def to_polars(df: QueryFrame, batch_size: int = 50_000) -> pl.DataFrame:
    """Fetch a DataFrame into polars: Arrow batches, else one batch of rows at a time.

    Example:
        >>> to_polars(db.table("users").order_by("id")).row(0)
        (1, 'Ada', 36)
    """
    polars_module = require("polars", "polars")
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        pass
    else:
        from moltres.io.formats.arrow import to_arrow

        frame: pl.DataFrame = polars_module.from_arrow(to_arrow(df, batch_size))
        return frame
    columns = df.columns
    parts: list[Any] = []
    for rows in df.iter_batches(batch_size):
        data = {c: [r[c] for r in rows] for c in columns}
        parts.append(polars_module.DataFrame(data, strict=False))
    if not parts:
        empty: pl.DataFrame = polars_module.DataFrame({c: [] for c in columns})
        return empty
    result: pl.DataFrame = polars_module.concat(parts, how="vertical_relaxed")
    return result
