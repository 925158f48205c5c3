"""pytest support for code that uses moltres: fixtures, assertions, test data and query counting.

The plugin (:mod:`moltres.integrations.pytest.plugin`) registers itself through the
``pytest11`` entry point, so the fixtures ``moltres_db``, ``moltres_async_db``,
``moltres_backend``, ``test_data`` and ``query_logger`` and the markers ``moltres_db`` and
``moltres_performance`` are there as soon as moltres is installed. This package also
exports them and the helpers::

    from moltres.integrations.pytest import (
        assert_dataframe_equal, assert_schema, assert_query_count, create_test_df, make_rows,
    )

Importing it costs only pytest and the standard library; the helpers load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from moltres.utils.optional import require

require("pytest", "pytest")

from moltres.integrations.pytest.plugin import (  # noqa: E402 - after the dependency check
    moltres_async_db,
    moltres_backend,
    moltres_db,
    query_logger,
    test_data,
)

if TYPE_CHECKING:
    from moltres.integrations.pytest.assertions import assert_dataframe_equal, assert_schema
    from moltres.integrations.pytest.factories import create_test_df, make_rows
    from moltres.integrations.pytest.querylog import LoggedStatement, QueryLogger, assert_query_count
    from moltres.integrations.pytest.testdata import TestData

__all__ = [
    "moltres_db",
    "moltres_async_db",
    "moltres_backend",
    "test_data",
    "query_logger",
    "assert_dataframe_equal",
    "assert_schema",
    "assert_query_count",
    "create_test_df",
    "make_rows",
    "QueryLogger",
    "LoggedStatement",
    "TestData",
]

_LAZY = {
    "assert_dataframe_equal": "assertions",
    "assert_schema": "assertions",
    "assert_query_count": "querylog",
    "QueryLogger": "querylog",
    "LoggedStatement": "querylog",
    "create_test_df": "factories",
    "make_rows": "factories",
    "TestData": "testdata",
}


def __getattr__(name: str) -> Any:
    # PEP 562: the helpers import SQLAlchemy-backed moltres modules; load them when used, so
    # that pytest's start-up (which imports this package for the plugin) stays cheap.
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
