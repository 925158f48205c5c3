"""Real Airflow 3 for the operator tests: a throwaway metadata database and ``dag.test()``.

Airflow reads its configuration when first imported, so ``AIRFLOW_HOME`` (a temporary
directory with a SQLite metadata database) is set here, before any test imports Airflow.
The schema is created once per session (``initdb``, a few seconds).

``dag.test()`` runs every task in this process, without a scheduler, but only for a DAG
that is serialized in the metadata database: the ``run_dag`` fixture writes the DAG there
first, as the DAG processor would after parsing its file.

Database backends come from the suite-wide ``backend``/``dsn`` fixtures (a private file or
schema per test, see ``tests/_backends.py``). This environment installs the SQLite and
PostgreSQL drivers only, and ``requirements/test-airflow.dirs`` deselects the others.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

_HOME = Path(tempfile.mkdtemp(prefix="moltres-airflow-"))
(_HOME / "dags").mkdir()
os.environ["AIRFLOW_HOME"] = str(_HOME)
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(_HOME / "dags")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_HOME / 'airflow.db'}"


def pytest_configure(config: pytest.Config) -> None:
    # Airflow and its dependencies warn about their own internals (deprecated Starlette test
    # client, SQLAlchemy 2.1 notices from Airflow's models); those are not ours to fix.
    for line in (
        "ignore::DeprecationWarning:airflow.*",
        "ignore::DeprecationWarning:starlette.*",
        "ignore::DeprecationWarning:fastapi.*",
        "ignore:Using `httpx` with `starlette.testclient`:Warning",
        "ignore::sqlalchemy.exc.SAWarning",
        "ignore::pytest.PytestUnraisableExceptionWarning",
    ):
        config.addinivalue_line("filterwarnings", line)


@pytest.fixture(scope="session")
def airflow_home() -> Path:
    """The session's AIRFLOW_HOME, with its metadata database created."""
    from airflow.utils.db import initdb

    initdb()
    return _HOME


class DagRunner:
    """Serialize a DAG into the metadata database and run it with ``dag.test()``."""

    def __call__(self, dag: Any) -> Any:
        from airflow.dag_processing.bundles.manager import DagBundlesManager
        from airflow.dag_processing.collection import update_dag_parsing_results_in_db
        from airflow.serialization.serialized_objects import LazyDeserializedDAG
        from airflow.utils.session import create_session

        with create_session() as session:
            DagBundlesManager().sync_bundles_to_db(session=session)
            session.commit()
            update_dag_parsing_results_in_db(
                "dags-folder", None, [LazyDeserializedDAG.from_dag(dag)], {}, None, set(), session=session
            )
        return dag.test()

    @staticmethod
    def states(run: Any) -> dict[str, str]:
        """``{task_id: state}`` of a finished run."""
        return {ti.task_id: str(getattr(ti.state, "value", ti.state)) for ti in run.get_task_instances()}

    @staticmethod
    def tries(run: Any) -> dict[str, int]:
        """``{task_id: try_number}`` of a finished run."""
        return {ti.task_id: ti.try_number for ti in run.get_task_instances()}

    @staticmethod
    def xcom(run: Any, task_id: str, key: str = "return_value") -> Any:
        """The value a task of `run` pushed under `key`, as Airflow stored it."""
        from airflow.models.xcom import XComModel
        from airflow.utils.session import create_session

        with create_session() as session:
            row = (
                session.query(XComModel)
                .filter_by(dag_id=run.dag_id, run_id=run.run_id, task_id=task_id, key=key)
                .one_or_none()
            )
            return None if row is None else XComModel.deserialize_value(row)


@pytest.fixture
def run_dag(airflow_home: Path) -> DagRunner:
    """Run a DAG for real with ``dag.test()``; see :class:`DagRunner`."""
    return DagRunner()


@pytest.fixture
def dag_id(request: pytest.FixtureRequest) -> str:
    """A DAG id unique to the test (and its backend param)."""
    import re

    return re.sub(r"[^A-Za-z0-9_]+", "_", request.node.name)[:200]


@pytest.fixture
def make_db(dsn: str) -> Callable[[], Any]:
    """Open a moltres Database on the test's private namespace (the caller closes it)."""
    from moltres import connect

    return lambda: connect(dsn)


def pytest_unconfigure(config: pytest.Config) -> None:
    import shutil

    shutil.rmtree(_HOME, ignore_errors=True)


USERS = [
    {"id": 1, "name": "Ada", "email": "ada@example.com", "age": 36, "active": True},
    {"id": 2, "name": "Bob", "email": "bob@example.com", "age": 17, "active": False},
    {"id": 3, "name": "Cy", "email": "cy@example.com", "age": 64, "active": True},
    {"id": 4, "name": "Di", "email": "di@example.com", "age": 29, "active": True},
]


@pytest.fixture
def users(dsn: str) -> list[dict[str, Any]]:
    """Create and fill a ``users`` table (id, name, email, age, active) in the test's database."""
    from moltres import connect
    from moltres.table.schema import column

    with connect(dsn) as db:
        db.create_table(
            "users",
            [
                column("id", "INTEGER", primary_key=True),
                column("name", "TEXT"),
                column("email", "TEXT"),
                column("age", "INTEGER"),
                column("active", "BOOLEAN"),
            ],
        ).collect()
        db.insert("users", USERS)
    return USERS


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run on SQLite and PostgreSQL only: the drivers this environment installs."""
    keep, drop = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("backend") if callspec is not None else None
        (drop if backend in ("mysql", "duckdb") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture
def warehouse_conn(backend: Any, dsn: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Define the Airflow connection ``warehouse`` (``AIRFLOW_CONN_WAREHOUSE``) to the test's database."""
    import json

    import sqlalchemy as sa

    url = sa.make_url(dsn)
    if backend.name == "sqlite":
        conn: dict[str, Any] = {"conn_type": "sqlite", "host": url.database}
    else:
        conn = {
            "conn_type": "postgres",
            "host": url.host,
            "port": url.port or 5432,
            "login": url.username,
            "password": url.password or "",
            "schema": url.database,
            # The test's private schema, through the provider's documented extra.
            "extra": {"sqlalchemy_query": {"options": url.query["options"]}},
        }
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", json.dumps(conn))
    return "warehouse"
