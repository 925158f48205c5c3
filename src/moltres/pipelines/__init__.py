"""ETL pipelines: extract, transform, check and load, pushed down into the database when they can be.

Example:
    >>> from moltres.pipelines import ETLPipeline
    >>> ETLPipeline(extract=db.table("users"), load="users_backup").execute().rows_loaded
    3
"""

from __future__ import annotations

from moltres.pipelines.etl import ETLPipeline, ETLResult, TableLoad, to_table

__all__ = ["ETLPipeline", "ETLResult", "TableLoad", "to_table"]
