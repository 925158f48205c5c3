"""Apache Airflow 3 operators and a TaskFlow decorator for moltres pipelines.

::

    from moltres.integrations.airflow import (
        MoltresQueryOperator, MoltresToTableOperator, MoltresDataQualityOperator,
        MoltresStagingCleanupOperator, ETLPipeline, DataQualityCheck,
    )

The operators need Airflow (``pip install "moltres[airflow]"``); ``ETLPipeline`` and
``DataQualityCheck`` do not, and are re-exported here so that the pipeline code of a DAG
file imports from one place; nor does :func:`decode_rows`, which turns the rows a query
operator pushed to XCom back into Python values. Importing the package itself never requires Airflow: the
operator names are resolved on first use, and without Airflow that use raises
:class:`~moltres.utils.exceptions.MissingDependencyError` naming the extra to install.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from moltres.integrations._workflow import decode_rows
    from moltres.integrations.airflow.decorators import moltres_task
    from moltres.integrations.airflow.operators import (
        MoltresDataQualityOperator,
        MoltresQueryOperator,
        MoltresStagingCleanupOperator,
        MoltresToTableOperator,
    )
    from moltres.integrations.data_quality import DataQualityCheck
    from moltres.pipelines import ETLPipeline

__all__ = [
    "MoltresQueryOperator",
    "MoltresToTableOperator",
    "MoltresDataQualityOperator",
    "MoltresStagingCleanupOperator",
    "moltres_task",
    "ETLPipeline",
    "DataQualityCheck",
    "decode_rows",
]

# name -> (module, whether it needs Airflow)
_EXPORTS = {
    "MoltresQueryOperator": ("moltres.integrations.airflow.operators", True),
    "MoltresToTableOperator": ("moltres.integrations.airflow.operators", True),
    "MoltresDataQualityOperator": ("moltres.integrations.airflow.operators", True),
    "MoltresStagingCleanupOperator": ("moltres.integrations.airflow.operators", True),
    "moltres_task": ("moltres.integrations.airflow.decorators", True),
    "ETLPipeline": ("moltres.pipelines", False),
    "DataQualityCheck": ("moltres.integrations.data_quality", False),
    "decode_rows": ("moltres.integrations._workflow", False),
}


def __getattr__(name: str) -> Any:
    # PEP 562: names load on first use. The operators subclass Airflow's BaseOperator, so
    # asking for one without Airflow raises MissingDependencyError; ETLPipeline and
    # DataQualityCheck never need Airflow.
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, needs_airflow = _EXPORTS[name]
    if needs_airflow:
        from moltres.utils.optional import require

        require("airflow.sdk", "airflow")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
