"""Fixtures for the whole suite: the backends, a fresh database per test, golden SQL.

Behaviour tests are written once and run on every backend::

    def test_filter(db):                       # runs on sqlite, postgresql, mysql, duckdb
        db.create_table("t", [column("a", "INTEGER")]).collect()
        ...

    @pytest.mark.notimpl(["sqlite"], raises=CompilationError, reason="no regexp_extract in SQLite")
    def test_regexp_extract(db): ...           # a strict xfail on sqlite only

- ``backend`` (session): the :class:`~tests._backends.Backend` of the current param. Each param
  carries its mark, so ``pytest -m postgresql`` runs only PostgreSQL. A server that cannot be
  reached skips its tests with the reason, or fails them when ``MOLTRES_REQUIRE_SERVERS=1``.
  A missing driver always skips (integration virtualenvs install only the drivers they use;
  ``tests/test_backends_fixture.py`` makes sure the core environment has them all).
- ``dsn``: a DSN for a namespace private to the test (file, schema or database), dropped after.
- ``db``: ``moltres.connect(dsn)``, closed after the test.
- ``golden_sql``: compile a query for every dialect offline and compare with expected SQL.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pytest
import sqlalchemy as sa

from tests._backends import BACKENDS, Backend, ServerBackend, make_backends, servers_required

if TYPE_CHECKING:
    from moltres import AsyncDatabase, Database

pytest_plugins = ["pytester"]

BACKENDS_KEY = pytest.StashKey[dict[str, Backend]]()
GOLDEN_DIR = Path(__file__).parent / "sql" / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite the golden SQL files (tests/sql/golden/<test>/<dialect>.sql) from what compiles now",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.stash[BACKENDS_KEY] = make_backends(os.environ)


def pytest_unconfigure(config: pytest.Config) -> None:
    for backend in config.stash.get(BACKENDS_KEY, {}).values():
        backend.close()


def pytest_report_header(config: pytest.Config) -> list[str]:
    where = [
        f"{b.name} ({b.where})" if isinstance(b, ServerBackend) else b.name for b in config.stash[BACKENDS_KEY].values()
    ]
    required = " (MOLTRES_REQUIRE_SERVERS=1: unreachable servers fail)" if servers_required(os.environ) else ""
    return [f"moltres backends: {', '.join(where)}{required}"]


# --- backends ------------------------------------------------------------------------------


@pytest.fixture(
    scope="session",
    params=[pytest.param(name, marks=getattr(pytest.mark, name), id=name) for name in BACKENDS],
)
def backend(request: pytest.FixtureRequest) -> Backend:
    """The backend the test runs on; probed once per session."""
    chosen = request.config.stash[BACKENDS_KEY][request.param]
    missing = chosen.missing_driver()
    if missing is not None:
        pytest.skip(missing)
    down = chosen.unreachable()
    if down is not None:
        if servers_required(os.environ):
            pytest.fail(f"{down}\nMOLTRES_REQUIRE_SERVERS=1 is set, so every server must be up.", pytrace=False)
        pytest.skip(down)
    return chosen


@pytest.fixture
def dsn(backend: Backend, tmp_path: Path) -> Iterator[str]:
    """A DSN for a database namespace that only this test sees; removed after it."""
    with backend.fresh(tmp_path) as url:
        yield url


@pytest.fixture
def db(dsn: str) -> Iterator[Database]:
    """A moltres Database on the test's private namespace, closed after the test."""
    from moltres import connect

    database = connect(dsn)
    yield database
    database.close()


ASYNC_DRIVERS = {"sqlite": "aiosqlite", "postgresql": "asyncpg", "mysql": "aiomysql"}


def async_dsn(dsn: str) -> str:
    """The same database with the backend's default asyncio driver (the one ``async_connect``
    picks for a DSN without a driver): aiosqlite, asyncpg (``options=-csearch_path`` becomes
    its server settings) or aiomysql."""
    url = sa.make_url(dsn)
    return url.set(drivername=url.get_backend_name()).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """Async tests (``@pytest.mark.anyio``) run on asyncio, which SQLAlchemy's async layer needs."""
    return "asyncio"


@pytest.fixture
async def adb(backend: Backend, dsn: str) -> AsyncIterator[AsyncDatabase]:
    """An AsyncDatabase on the test's private namespace (the one `db` uses), closed after it.

    Mark the test ``@pytest.mark.anyio``. DuckDB, which has no asyncio driver, skips.
    """
    driver = ASYNC_DRIVERS.get(backend.name)
    if driver is None:
        pytest.skip(f"{backend.name} has no asyncio driver")
    for module in (driver, "greenlet"):
        try:
            importlib.import_module(module)
        except ImportError as exc:
            pytest.skip(f"{backend.name} async: {module} is not installed ({exc}); pip install 'moltres[async]'")
    from moltres import async_connect

    database = await async_connect(async_dsn(dsn))
    yield database
    await database.close()


# --- notimpl ---------------------------------------------------------------------------------


def _notimpl_arguments(item: pytest.Item, marker: pytest.Mark) -> tuple[set[str], Any, str]:
    backends = marker.args[0] if marker.args else marker.kwargs.get("backends")
    raises = marker.kwargs.get("raises")
    reason = marker.kwargs.get("reason", "")
    where = f"{item.nodeid}: @pytest.mark.notimpl"
    if isinstance(backends, str) or not isinstance(backends, Sequence) or not backends:
        raise pytest.UsageError(f"{where} takes a list of backend names, such as ['sqlite']")
    unknown = set(backends) - set(BACKENDS)
    if unknown:
        raise pytest.UsageError(f"{where} names unknown backends {sorted(unknown)}; known: {list(BACKENDS)}")
    if raises is None:
        raise pytest.UsageError(f"{where} needs raises=<the exception the backend raises>")
    if not reason:
        raise pytest.UsageError(f"{where} needs reason=<why the backend cannot do it>")
    return set(backends), raises, reason


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Turn ``notimpl(backends, raises=, reason=)`` into a strict xfail on those backends."""
    for item in items:
        markers = list(item.iter_markers("notimpl"))
        if not markers:
            continue
        callspec = getattr(item, "callspec", None)
        current = callspec.params.get("backend") if callspec is not None else None
        if current is None:
            raise pytest.UsageError(
                f"{item.nodeid}: @pytest.mark.notimpl only applies to tests that run on every backend "
                "(tests using the backend, dsn or db fixture)"
            )
        for marker in markers:
            backends, raises, reason = _notimpl_arguments(item, marker)
            if current in backends:
                item.add_marker(pytest.mark.xfail(raises=raises, reason=f"notimpl: {reason}", strict=True))


# --- golden SQL ------------------------------------------------------------------------------


class GoldenSQL(Protocol):
    def __call__(
        self,
        query: Any,
        expected: Mapping[str, str | type[BaseException]] | None = None,
        *,
        params: Mapping[str, Any] | None = None,
    ) -> None: ...


def _normalize(sql: str) -> str:
    return " ".join(sql.split())


def _tidy(sql: str) -> str:
    """SQL as stored in a golden file: SQLAlchemy's line breaks, no trailing blanks."""
    return "\n".join(line.rstrip() for line in sql.strip().splitlines()) + "\n"


def compile_offline(query: Any, backend: Backend) -> tuple[str, Mapping[str, Any]]:
    """Compile `query` for `backend`'s dialect without a connection.

    `query` is a moltres DataFrame (``to_sql(dialect=...)``; its parameters ``p0``, ``p1``, ...
    are the plan's literals, the same on every dialect) or any SQLAlchemy construct. Returns
    the SQL text with placeholders and the bound parameters.
    """
    if isinstance(query, sa.sql.ClauseElement):
        compiled = query.compile(dialect=backend.dialect)
        return str(compiled), dict(compiled.params)
    from moltres.dataframe.dataframe import DataFrame

    if isinstance(query, DataFrame):
        return query.to_sql(dialect=backend.name), query.params
    raise TypeError(f"golden_sql takes a DataFrame or a SQLAlchemy statement, not {type(query).__name__}")


@pytest.fixture
def golden_sql(request: pytest.FixtureRequest) -> GoldenSQL:
    """Compare the SQL a query compiles to on every dialect with the expected text.

    Inline, one entry per backend; whitespace is normalized, and an exception class means
    the dialect must refuse the query::

        golden_sql(df, {"sqlite": "SELECT ...", "postgresql": "SELECT ...",
                        "mysql": CompilationError, "duckdb": "SELECT ..."}, params={"age_1": 25})

    Without ``expected``, from files ``tests/sql/golden/<test>/<dialect>.sql``, written by
    ``pytest --update-golden``. ``params``: bind names and values that every dialect's
    statement must carry (values stay parameters, never literals in the text).
    """
    backends = request.config.stash[BACKENDS_KEY]
    update = bool(request.config.getoption("--update-golden"))
    folder = GOLDEN_DIR / re.sub(r"[^\w.-]+", "_", request.node.name).strip("_")

    def check(
        query: Any,
        expected: Mapping[str, str | type[BaseException]] | None = None,
        *,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        if expected is not None and set(expected) != set(BACKENDS):
            raise pytest.UsageError(f"golden_sql needs one entry per backend {list(BACKENDS)}; got {sorted(expected)}")
        problems: list[str] = []
        for name in BACKENDS:
            backend = backends[name]
            want = expected[name] if expected is not None else None
            if isinstance(want, type):
                try:
                    sql, _ = compile_offline(query, backend)
                except want:
                    continue
                problems.append(f"{name}: expected {want.__name__}, but it compiled to\n    {sql}")
                continue
            sql, bound = compile_offline(query, backend)
            if want is None:
                path = folder / f"{name}.sql"
                if update:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(_tidy(sql), encoding="utf-8")
                    want = sql
                elif not path.exists():
                    problems.append(f"{name}: no golden file {path}; create it with pytest --update-golden")
                    continue
                else:
                    want = path.read_text(encoding="utf-8")
            if _normalize(sql) != _normalize(want):
                problems.append(f"{name}:\n    expected: {_normalize(want)}\n    actual:   {_normalize(sql)}")
            if params is not None:
                wrong = {k: v for k, v in params.items() if k not in bound or bound[k] != v}
                if wrong:
                    problems.append(f"{name}: bound parameters {bound} do not carry {wrong}")
        if problems:
            pytest.fail("golden SQL differs\n" + "\n".join(problems), pytrace=False)

    return check
