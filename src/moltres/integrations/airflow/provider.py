"""What Airflow's providers manager reads about moltres (the ``apache_airflow_provider`` entry point).

It registers the ``@task.moltres`` TaskFlow decorator. The function must stay importable
without Airflow: the providers manager calls it while scanning installed packages.
"""

from __future__ import annotations

from typing import Any

__all__ = ["get_provider_info"]


def get_provider_info() -> dict[str, Any]:
    """Describe moltres as an Airflow provider.

    Example:
        >>> get_provider_info()["task-decorators"][0]["name"]
        'moltres'
    """
    return {
        "package-name": "moltres",
        "name": "moltres",
        "description": "Run moltres DataFrame queries, writes and data-quality checks in Airflow tasks.",
        "task-decorators": [
            {"name": "moltres", "class-name": "moltres.integrations.airflow.decorators.moltres_task"},
        ],
    }
