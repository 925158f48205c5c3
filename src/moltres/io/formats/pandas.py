"""DataFrame to pandas, through Arrow when pyarrow is installed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from moltres.utils.optional import require

if TYPE_CHECKING:
    import pandas as pd

    from moltres.dataframe.dataframe import DataFrame

__all__ = ["to_pandas"]


def to_pandas(df: DataFrame) -> pd.DataFrame:
    """Fetch a DataFrame into pandas.

    Example:
        >>> to_pandas(db.table("users")).columns.tolist()
        ['id', 'name', 'age']
    """
    pd = require("pandas", "pandas")
    columns = df.columns
    return pd.DataFrame.from_records(df.collect(), columns=columns)
