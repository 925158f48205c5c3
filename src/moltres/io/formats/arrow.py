"""DataFrame to Arrow: batched fetch into columnar arrays, no per-row objects kept."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from moltres.utils.optional import require

if TYPE_CHECKING:
    import pyarrow as pa

    from moltres.dataframe.dataframe import DataFrame

__all__ = ["to_arrow"]


def to_arrow(df: DataFrame, batch_size: int = 50_000) -> pa.Table:
    """Fetch a DataFrame as an Arrow table, batch by batch.

    Example:
        >>> to_arrow(db.table("users")).column_names
        ['id', 'name', 'age']
    """
    pa = require("pyarrow", "parquet")
    columns = df.columns
    batches: list[Any] = []
    for rows in df.iter_batches(batch_size):
        batches.append(pa.RecordBatch.from_pylist(rows))
    if not batches:
        return pa.table({c: pa.array([], type=pa.null()) for c in columns})
    return pa.Table.from_batches(batches).select(columns)
