"""Apache Airflow 3 operators and a TaskFlow decorator for moltres pipelines.

::

    from moltres.integrations.airflow import (
        MoltresQueryOperator, MoltresToTableOperator, MoltresDataQualityOperator,
        MoltresStagingCleanupOperator, ETLPipeline, DataQualityCheck,
    )

The operators need Airflow (``pip install "moltres[airflow]"``); ``ETLPipeline`` and
``DataQualityCheck`` do not, and are re-exported here so that the pipeline code of a DAG
file imports from one place. Importing the package itself never requires Airflow: the
operator names are resolved on first use, and without Airflow that use raises
:class:`~moltres.utils.exceptions.MissingDependencyError` naming the extra to install.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from moltres.integrations.data_quality import DataQualityCheck
from moltres.pipelines import ETLPipeline

if TYPE_CHECKING:
    from moltres.integrations.airflow.decorators import moltres_task
    from moltres.integrations.airflow.operators import (
        MoltresDataQualityOperator,
        MoltresQueryOperator,
        MoltresStagingCleanupOperator,
        MoltresToTableOperator,
    )

__all__ = [
    "MoltresQueryOperator",
    "MoltresToTableOperator",
    "MoltresDataQualityOperator",
    "MoltresStagingCleanupOperator",
    "moltres_task",
    "ETLPipeline",
    "DataQualityCheck",
]

_NEEDS_AIRFLOW = {
    "MoltresQueryOperator": "operators",
    "MoltresToTableOperator": "operators",
    "MoltresDataQualityOperator": "operators",
    "MoltresStagingCleanupOperator": "operators",
    "moltres_task": "decorators",
}


def __getattr__(name: str) -> Any:
    # PEP 562: the operators subclass Airflow's BaseOperator, so they load only when asked
    # for; ETLPipeline and DataQualityCheck above stay importable without Airflow.
    module = _NEEDS_AIRFLOW.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    from moltres.utils.optional import require

    require("airflow.sdk", "airflow")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
