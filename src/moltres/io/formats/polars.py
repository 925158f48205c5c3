"""DataFrame to polars."""

from __future__ import annotations

from typing import TYPE_CHECKING

from moltres.utils.optional import require

if TYPE_CHECKING:
    import polars as pl

    from moltres.dataframe.dataframe import DataFrame

__all__ = ["to_polars"]


def to_polars(df: DataFrame) -> pl.DataFrame:
    """Fetch a DataFrame into polars.

    Example:
        >>> to_polars(db.table("users")).columns
        ['id', 'name', 'age']
    """
    pl = require("polars", "polars")
    columns = df.columns
    rows = df.collect()
    if not rows:
        return pl.DataFrame({c: [] for c in columns})
    return pl.DataFrame(rows, orient="row", infer_schema_length=None).select(columns)
