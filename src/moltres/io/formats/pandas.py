"""pandas: a DataFrame's rows as a ``pandas.DataFrame``, through Arrow when pyarrow is installed.

With pyarrow the rows arrive as Arrow record batches (natively from DuckDB, else fetched in
batches) and are converted column by column; without it they are built batch by batch from
rows, keeping one batch of Python objects alive at a time.

Example:
    >>> to_pandas(db.table("users")).columns.tolist()
    ['id', 'name', 'age']
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from moltres.utils.optional import require

if TYPE_CHECKING:
    import pandas as pd

    from moltres.io.frames import QueryFrame

__all__ = ["to_pandas"]


def _has_pyarrow() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def to_pandas(df: QueryFrame, batch_size: int = 50_000) -> pd.DataFrame:
    """Fetch a DataFrame into pandas.

    Example:
        >>> to_pandas(db.table("users").order_by("id")).iloc[0]["name"]
        'Ada'
    """
    pandas_module = require("pandas", "pandas")
    if _has_pyarrow():
        from moltres.io.formats.arrow import to_arrow

        frame: pd.DataFrame = to_arrow(df, batch_size).to_pandas()
        return frame
    columns = df.columns
    parts: list[Any] = [
        pandas_module.DataFrame.from_records(rows, columns=columns) for rows in df.iter_batches(batch_size)
    ]
    if not parts:
        empty: pd.DataFrame = pandas_module.DataFrame(columns=columns)
        return empty
    result: pd.DataFrame = pandas_module.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    return result
