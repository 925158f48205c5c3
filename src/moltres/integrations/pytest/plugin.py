"""The moltres pytest plugin: database fixtures, markers and a performance summary.

pytest loads it through the ``pytest11`` entry point once moltres is installed (or with
``-p moltres.integrations.pytest.plugin``). It imports only pytest and the standard library
when pytest starts; SQLAlchemy dialects and drivers load when a test first asks for a
database.

Fixtures: ``moltres_db``, ``moltres_async_db``, ``moltres_backend``, ``test_data`` and
``query_logger``. Markers: ``@pytest.mark.moltres_db("postgresql", ...)`` and
``@pytest.mark.moltres_performance``. Options: ``--moltres-dsn`` (repeatable), the
``moltres_dsn`` ini option, and the ``MOLTRES_TEST_DSN`` environment variable; see
:mod:`moltres.integrations.pytest.backends` for how each backend isolates tests.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn

import pytest

if TYPE_CHECKING:
    from moltres import Database
    from moltres.integrations.pytest.backends import Backend, PendingAsyncDatabase, TestDatabases
    from moltres.integrations.pytest.querylog import QueryLogger
    from moltres.integrations.pytest.testdata import TestData

__all__ = ["moltres_async_db", "moltres_backend", "moltres_db", "query_logger", "test_data"]

MARKERS = (
    "moltres_db(*backends): run the test's moltres_db / moltres_async_db on each named backend "
    "(sqlite, postgresql, mysql/mariadb, duckdb); skipped when one is not configured or unreachable, "
    "failed instead when MOLTRES_REQUIRE_SERVERS=1",
    "moltres_performance: time the test and count its SQL statements; reported in the terminal summary",
)


@dataclass(frozen=True)
class PerformanceRecord:
    """The timing of one ``moltres_performance`` test."""

    nodeid: str
    seconds: float
    queries: int
    query_seconds: float


_DATABASES = pytest.StashKey["TestDatabases"]()
_PERFORMANCE = pytest.StashKey[list[PerformanceRecord]]()


# --- configuration ---------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--moltres-dsn`` and the ``moltres_dsn`` ini option."""
    group = parser.getgroup("moltres", "moltres test databases")
    group.addoption(
        "--moltres-dsn",
        action="append",
        dest="moltres_dsn",
        metavar="DSN",
        default=None,
        help="database for the moltres_db fixture (repeatable: one per backend; the first is the default). "
        "Overrides MOLTRES_TEST_DSN and the moltres_dsn ini option. Default: SQLite in memory.",
    )
    parser.addini(
        "moltres_dsn",
        type="linelist",
        default=[],
        help="databases for the moltres_db fixture, one DSN per line (the first is the default)",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers, so ``--strict-markers`` accepts them."""
    for line in MARKERS:
        config.addinivalue_line("markers", line)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Dispose of the session's engines."""
    databases = config.stash.get(_DATABASES, None)
    if databases is not None:
        databases.close()


def _databases(config: pytest.Config) -> TestDatabases:
    databases = config.stash.get(_DATABASES, None)
    if databases is None:
        from moltres.integrations.pytest.backends import TestDatabases, configured_dsns

        dsns = configured_dsns(config.getoption("moltres_dsn", None), os.environ, config.getini("moltres_dsn"))
        try:
            databases = TestDatabases(dsns)
        except ValueError as exc:
            raise pytest.UsageError(f"moltres: {exc}") from None
        config.stash[_DATABASES] = databases
    return databases


def _marker_backends(marker: pytest.Mark, nodeid: str) -> list[str]:
    from moltres.integrations.pytest.backends import backend_name

    names: list[str] = []
    for arg in marker.args:
        names.extend([arg] if isinstance(arg, str) else list(arg))
    if not names:
        raise pytest.UsageError(f"{nodeid}: @pytest.mark.moltres_db needs a backend name, such as 'postgresql'")
    for name in names:
        try:
            backend_name(name)
        except ValueError as exc:
            raise pytest.UsageError(f"{nodeid}: @pytest.mark.moltres_db: {exc}") from None
    return names


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run a test marked ``moltres_db(...)`` once per backend named."""
    marker = metafunc.definition.get_closest_marker("moltres_db")
    if marker is None or "moltres_backend" not in metafunc.fixturenames:
        return
    names = _marker_backends(marker, metafunc.definition.nodeid)
    metafunc.parametrize("moltres_backend", names, indirect=True, ids=names)


def _unavailable(reason: str) -> NoReturn:
    from moltres.integrations.pytest.backends import servers_required

    if servers_required():
        pytest.fail(f"{reason}\nMOLTRES_REQUIRE_SERVERS=1 is set, so every backend must be available.", pytrace=False)
    pytest.skip(reason)


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def moltres_backend(request: pytest.FixtureRequest) -> Backend:
    """The backend this test's database comes from: ``.name`` and ``.dsn``.

    The ``moltres_db`` marker's backend when the test has one, else the first configured DSN
    (SQLite in memory when none is).
    """
    from moltres.integrations.pytest.backends import Unavailable

    try:
        return _databases(request.config).backend(getattr(request, "param", None))
    except Unavailable as exc:
        _unavailable(str(exc))


@pytest.fixture
def moltres_db(moltres_backend: Backend, request: pytest.FixtureRequest) -> Iterator[Database]:
    """A moltres ``Database`` that only this test sees; whatever the test does is undone after.

    SQLite (in memory unless configured otherwise) and PostgreSQL: a transaction rolled back
    after the test. MariaDB/MySQL: a throwaway database, emptied (dropped and re-created)
    after each test. DuckDB: a fresh database. Cleanup runs even when the test fails.
    """
    from moltres.integrations.pytest.backends import Unavailable

    with contextlib.ExitStack() as stack:
        try:
            db = stack.enter_context(_databases(request.config).database(moltres_backend))
        except Unavailable as exc:
            _unavailable(str(exc))
        yield db


@pytest.fixture
def moltres_async_db(moltres_backend: Backend, request: pytest.FixtureRequest) -> Iterator[PendingAsyncDatabase]:
    """An ``AsyncDatabase`` to await: ``db = await moltres_async_db``; private to this test.

    The test gets a namespace of its own (a SQLite file, a PostgreSQL schema, a MariaDB
    database), removed after the test whatever its outcome. DuckDB has no asyncio driver.
    """
    from moltres.integrations.pytest.backends import Unavailable

    with contextlib.ExitStack() as stack:
        try:
            pending = stack.enter_context(_databases(request.config).async_database(moltres_backend))
        except Unavailable as exc:
            _unavailable(str(exc))
        yield pending


@pytest.fixture
def test_data(request: pytest.FixtureRequest) -> TestData:
    """The files of the ``test_data/`` folder next to the test module, by file stem.

    ``.csv`` (numbers and empty cells converted), ``.json`` and ``.jsonl`` files load on first
    access; a ``<name>_schema.json`` becomes a list of ``column(...)`` definitions for
    ``db.create_table``.
    """
    from moltres.integrations.pytest.testdata import TestData

    return TestData(request.path.parent / "test_data")


@pytest.fixture
def query_logger() -> Iterator[QueryLogger]:
    """Records every SQL statement the test runs, on any engine, sync or async.

    ``.count`` and ``.queries`` (the SQL strings) cover the statements the code asked for;
    catalog lookups and transaction control are kept apart (``.records``). ``.reset()``
    starts over.
    """
    from moltres.integrations.pytest.querylog import QueryLogger

    with QueryLogger() as logger:
        yield logger


# --- performance -------------------------------------------------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Time ``moltres_performance`` tests and count their statements."""
    if item.get_closest_marker("moltres_performance") is None:
        return (yield)
    from moltres.integrations.pytest.querylog import QueryLogger

    logger = QueryLogger().start()
    started = time.perf_counter()
    try:
        return (yield)
    finally:
        elapsed = time.perf_counter() - started
        logger.stop()
        record = PerformanceRecord(item.nodeid, elapsed, logger.count, logger.total_time)
        item.config.stash.setdefault(_PERFORMANCE, []).append(record)
        item.user_properties.append(("moltres_seconds", round(elapsed, 6)))
        item.user_properties.append(("moltres_queries", logger.count))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config) -> None:
    """Print the timings of the ``moltres_performance`` tests, slowest first."""
    records = config.stash.get(_PERFORMANCE, [])
    if not records:
        return
    terminalreporter.write_sep("=", "moltres performance")
    for record in sorted(records, key=lambda r: r.seconds, reverse=True):
        terminalreporter.write_line(
            f"{record.seconds * 1000:10.1f} ms  {record.queries:5d} queries  "
            f"{record.query_seconds * 1000:10.1f} ms in SQL  {record.nodeid}"
        )
