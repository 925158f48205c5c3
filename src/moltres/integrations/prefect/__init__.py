"""Prefect 3 tasks for moltres pipelines: query, write to a table, check data quality.

::

    from moltres.integrations.prefect import moltres_query, moltres_to_table, moltres_data_quality

Needs Prefect (``pip install "moltres[prefect]"``); without it, importing this package
raises :class:`~moltres.utils.exceptions.MissingDependencyError` naming that extra.
"""

from __future__ import annotations

from moltres.utils.optional import require

require("prefect", "prefect")

from moltres.integrations.prefect.tasks import (  # noqa: E402
    MOLTRES_SQL_CACHE,
    DataQualityFailed,
    MoltresSQLCachePolicy,
    QualityResult,
    moltres_data_quality,
    moltres_query,
    moltres_to_table,
    retry_on_retryable_error,
)

__all__ = [
    "moltres_query",
    "moltres_to_table",
    "moltres_data_quality",
    "retry_on_retryable_error",
    "MOLTRES_SQL_CACHE",
    "MoltresSQLCachePolicy",
    "QualityResult",
    "DataQualityFailed",
]
