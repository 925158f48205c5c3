"""Where the plugin's test databases come from, and how each test gets an isolated one.

DSNs come from ``--moltres-dsn`` (repeatable), else ``MOLTRES_TEST_DSN`` (several separated
by spaces), else the ``moltres_dsn`` ini option (one per line). The first one is the
default backend; ``@pytest.mark.moltres_db("postgresql")`` picks the first DSN of that
backend. SQLite and DuckDB need no DSN (they run in memory).

Isolation, for the sync ``moltres_db``:

- **SQLite, PostgreSQL**: one engine per DSN for the whole session; each test runs on one
  connection inside a transaction that is rolled back afterwards, so everything it wrote,
  DDL included, disappears. moltres's writes inside it become SAVEPOINTs. SQLite needs
  SQLAlchemy's pysqlite recipe for this (BEGIN emitted by SQLAlchemy, not by the driver),
  which moltres applies to every SQLite engine it creates.
- **MariaDB/MySQL**: DDL commits implicitly there, so no transaction can undo a test. The
  session creates a throwaway database (``moltres_t_...``) that its tests run in, and drops
  and re-creates it after each test, so every test starts from an empty database; it is
  dropped at the end of the session.
- **DuckDB**: no SAVEPOINTs; each test gets a fresh in-memory database (or a copy of the
  configured file).

``moltres_async_db`` gives each test a namespace of its own (a SQLite file, a PostgreSQL
schema searched before ``public``, a MariaDB database), so its teardown needs no event loop.
Cleanup runs whether the test passed or failed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from moltres.utils.exceptions import MoltresError

if TYPE_CHECKING:
    import sqlalchemy as sa

    from moltres import Database
    from moltres.async_database import AsyncDatabase

__all__ = [
    "BACKENDS",
    "Backend",
    "PendingAsyncDatabase",
    "TestDatabases",
    "Unavailable",
    "backend_name",
    "configured_dsns",
    "servers_required",
]

#: The backends the plugin knows, by the name markers use.
BACKENDS = ("sqlite", "postgresql", "mysql", "duckdb")
_ALIASES = {
    "sqlite": "sqlite",
    "postgresql": "postgresql",
    "postgres": "postgresql",
    "mysql": "mysql",
    "mariadb": "mysql",
    "duckdb": "duckdb",
}
_IN_MEMORY = {"sqlite": "sqlite://", "duckdb": "duckdb:///:memory:"}
_LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL", "mysql": "MariaDB/MySQL", "duckdb": "DuckDB"}
_TRUE = {"1", "true", "yes", "on"}
#: Databases and schemas older than this were left by a run killed before its teardown.
STALE_AFTER_SECONDS = 3 * 3600
_PREFIX = "moltres_t_"

Isolation = Literal["transaction", "database", "fresh"]


class Unavailable(Exception):
    """The backend a test asked for is not configured, lacks its driver, or is unreachable."""


def servers_required(environ: Any = os.environ) -> bool:
    """Whether ``MOLTRES_REQUIRE_SERVERS`` asks to fail, not skip, when a backend is unavailable."""
    return str(environ.get("MOLTRES_REQUIRE_SERVERS", "")).strip().lower() in _TRUE


def backend_name(dsn_or_name: str) -> str:
    """The backend of a DSN (``"postgresql+psycopg://..."``) or a marker name (``"mariadb"``).

    Example:
        >>> backend_name("mariadb+pymysql://root@localhost/test"), backend_name("postgres")
        ('mysql', 'postgresql')
    """
    scheme = dsn_or_name.split(":", 1)[0].split("+", 1)[0].strip().lower()
    name = _ALIASES.get(scheme)
    if name is None:
        raise ValueError(f"unknown moltres backend {dsn_or_name.split(':', 1)[0]!r}; known: {', '.join(BACKENDS)}")
    return name


def configured_dsns(option: list[str] | None, environ: Any, ini: list[str]) -> list[str]:
    """The DSNs to test against: the command line's, else ``MOLTRES_TEST_DSN``'s, else the ini file's.

    Example:
        >>> configured_dsns(None, {"MOLTRES_TEST_DSN": "sqlite:// postgresql://u@h/db"}, [])
        ['sqlite://', 'postgresql://u@h/db']
    """
    if option:
        return [d for d in option if d.strip()]
    from_env = str(environ.get("MOLTRES_TEST_DSN", "")).replace(",", " ").split()
    if from_env:
        return from_env
    return [line.strip() for line in ini if line.strip()]


def _mask(dsn: str) -> str:
    from moltres.engine.url import mask_password

    return mask_password(dsn)


def _namespace() -> str:
    # moltres_t_<creation time>_<random>: the time lets a later session sweep what a killed
    # run left behind; 35 characters, within PostgreSQL's (63) and MySQL's (64) limits.
    return f"{_PREFIX}{int(time.time()):08x}_{uuid.uuid4().hex[:16]}"


def _stale(name: str) -> bool:
    if not name.startswith(_PREFIX):
        return False
    try:
        created = int(name[len(_PREFIX) : len(_PREFIX) + 8], 16)
    except ValueError:
        return False
    return created < time.time() - STALE_AFTER_SECONDS


@dataclass(frozen=True)
class Backend:
    """The database a test runs on.

    Attributes:
        name: ``sqlite``, ``postgresql``, ``mysql`` or ``duckdb``.
        dsn: The configured DSN the test's database is made from.
    """

    name: str
    dsn: str = field(repr=False)

    @property
    def isolation(self) -> Isolation:
        """How tests are kept apart: a rolled-back ``transaction``, a throwaway ``database``, or a ``fresh`` one."""
        if self.name == "mysql":
            return "database"
        if self.name == "duckdb":
            return "fresh"
        return "transaction"

    @property
    def where(self) -> str:
        """The DSN with its password masked."""
        return _mask(self.dsn)

    def __str__(self) -> str:
        return f"{self.name} ({self.where})"


class PendingAsyncDatabase:
    """An :class:`~moltres.AsyncDatabase` that connects when awaited: ``db = await moltres_async_db``.

    Awaiting it again returns the same database.
    """

    def __init__(self, dsn: str, backend: Backend) -> None:
        self.dsn = dsn
        self.backend = backend
        self.database: AsyncDatabase | None = None

    async def _open(self) -> AsyncDatabase:
        if self.database is None:
            import sqlalchemy as sa

            from moltres.async_database import async_connect

            # NullPool: no connection outlives the operation that used it, so nothing bound
            # to the test's event loop is left for the teardown to close.
            self.database = await async_connect(self.dsn, poolclass=sa.pool.NullPool)
        return self.database

    def __await__(self) -> Generator[Any, None, AsyncDatabase]:
        return self._open().__await__()

    def __repr__(self) -> str:
        return f"<pending AsyncDatabase on {self.backend}>"


def _drop_namespace(conn: sa.Connection, name: str, *, schema: bool, kill: bool = True) -> None:
    """Drop a PostgreSQL schema or a MariaDB database, first ending the connections that use it."""
    import sqlalchemy as sa

    quoted = conn.dialect.identifier_preparer.quote(name)
    if schema:
        # connections the test left open would make DROP SCHEMA wait; end them first
        conn.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = :name AND pid <> pg_backend_pid()"
            ),
            {"name": name},
        )
        conn.exec_driver_sql("SET lock_timeout = '10s'")
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {quoted} CASCADE")
        return
    if kill:
        stragglers = conn.execute(
            sa.text("SELECT id FROM information_schema.processlist WHERE db = :name AND id <> CONNECTION_ID()"),
            {"name": name},
        ).scalars()
        for pid in list(stragglers):
            with contextlib.suppress(sa.exc.OperationalError):  # it may have ended meanwhile
                conn.exec_driver_sql(f"KILL {int(pid)}")
    conn.exec_driver_sql("SET SESSION lock_wait_timeout = 10")
    conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {quoted}")


class _ThrowawayDatabase:
    """The MariaDB database the session's tests run in, emptied after each test."""

    def __init__(self, name: str, database: Database) -> None:
        self.name = name
        self.database = database
        self.generation = 0

    @property
    def engine(self) -> sa.Engine:
        return self.database.engine

    def on_checkout(self, dbapi_connection: Any, record: Any, proxy: Any) -> None:
        """Select the database again on connections that last used a dropped incarnation."""
        if record.info.get("moltres_generation", 0) != self.generation:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute(f"USE {self.name}")
            finally:
                cursor.close()
            record.info["moltres_generation"] = self.generation

    def recreate(self, admin: sa.Engine) -> None:
        """Drop and re-create the database, so the next test starts from nothing."""
        leaked = bool(self.engine.pool.checkedout())  # type: ignore[attr-defined]
        if leaked:
            # the test left a connection open (perhaps in a transaction, holding locks):
            # start the pool afresh and end the stragglers; idle pooled connections hold
            # no locks and survive the re-creation otherwise
            self.engine.dispose()
        with admin.connect() as conn:
            _drop_namespace(conn, self.name, schema=False, kill=leaked)
            conn.exec_driver_sql(f"CREATE DATABASE {self.name} CHARACTER SET utf8mb4")
        self.generation += 1


class TestDatabases:
    """The session's test databases: engines kept per DSN, a fresh isolated database per test.

    Args:
        dsns: The configured DSNs (the first is the default backend).
    """

    __test__ = False  # a helper, not a test class

    def __init__(self, dsns: list[str]) -> None:
        self.dsns = list(dsns)
        for dsn in self.dsns:
            backend_name(dsn)  # fail early on a DSN of an unknown backend
        self._shared: dict[str, Database] = {}
        self._admin: dict[str, sa.Engine] = {}
        self._mysql_targets: dict[str, _ThrowawayDatabase] = {}
        self._problems: dict[str, str] = {}

    # -------------------------------------------------------------------------------- choosing

    def backend(self, name: str | None = None) -> Backend:
        """The backend named by a marker (or the default one), with its DSN.

        Raises:
            Unavailable: No DSN is configured for a server backend.
        """
        if name is None:
            dsn = self.dsns[0] if self.dsns else _IN_MEMORY["sqlite"]
            return Backend(backend_name(dsn), dsn)
        wanted = backend_name(name)
        for dsn in self.dsns:
            if backend_name(dsn) == wanted:
                return Backend(wanted, dsn)
        if wanted in _IN_MEMORY:
            return Backend(wanted, _IN_MEMORY[wanted])
        raise Unavailable(
            f"no {_LABELS[wanted]} DSN configured: pass --moltres-dsn={wanted}://user@host/db "
            "(repeatable), set MOLTRES_TEST_DSN, or add it to the moltres_dsn ini option"
        )

    # -------------------------------------------------------------------------------- sync

    @contextlib.contextmanager
    def database(self, backend: Backend) -> Iterator[Database]:
        """A moltres Database that only this test sees; everything it did is undone after.

        Raises:
            Unavailable: The backend's driver is missing or its server cannot be reached.
        """
        if backend.isolation == "transaction":
            with self._in_transaction(backend) as db:
                yield db
        elif backend.isolation == "database":
            with self._in_throwaway_database(backend) as db:
                yield db
        else:
            with self._fresh_duckdb(backend) as dsn, self._connected(dsn) as db:
                yield db

    def _shared_database(self, backend: Backend) -> Database:
        """The session's Database for a DSN, connected once; its engine serves every test."""
        problem = self._problems.get(backend.dsn)
        if problem is not None:
            raise Unavailable(problem)
        shared = self._shared.get(backend.dsn)
        if shared is None:
            from moltres import connect

            try:
                shared = connect(backend.dsn)
            except MoltresError as exc:
                problem = f"{_LABELS[backend.name]} unavailable at {backend.where}: {exc}".replace("\n", "; ")
                self._problems[backend.dsn] = problem
                raise Unavailable(problem) from None
            self._shared[backend.dsn] = shared
        return shared

    @contextlib.contextmanager
    def _in_transaction(self, backend: Backend) -> Iterator[Database]:
        # SQLAlchemy's "joining a Session into an external transaction" recipe, for Core:
        # moltres runs on a connection whose outer transaction we roll back; its own
        # transactions on that connection become SAVEPOINTs.
        from moltres import connect

        engine = self._shared_database(backend).engine
        connection = engine.connect()
        outer = connection.begin()
        db = connect(engine=connection)
        try:
            yield db
        finally:
            try:
                with contextlib.suppress(MoltresError):
                    db.close()
            finally:
                if outer.is_active:
                    outer.rollback()
                connection.close()

    @contextlib.contextmanager
    def _in_throwaway_database(self, backend: Backend) -> Iterator[Database]:
        # A new engine per test would cost a new connection per test (about 150 ms with
        # PyMySQL, which builds a TLS context for each). Instead the session keeps one
        # database and one engine for the tests, and empties it between tests by dropping
        # and re-creating it (about 25 ms). Dropping a database unsets it on every
        # connection that used it, so pooled connections run USE again on their next
        # checkout after a re-creation.
        from moltres import connect

        target = self._mysql_targets.get(backend.dsn)
        if target is None:
            target = self._mysql_targets[backend.dsn] = self._throwaway_target(backend)
        db = connect(engine=target.engine)
        try:
            yield db
        finally:
            try:
                with contextlib.suppress(MoltresError):
                    db.close()
            finally:
                target.recreate(self._admin_engine(backend))

    def _throwaway_target(self, backend: Backend) -> _ThrowawayDatabase:
        import sqlalchemy as sa

        from moltres import connect
        from moltres.engine.url import resolve_dsn

        admin = self._admin_engine(backend)
        name = _namespace()
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
        try:
            shared = connect(resolve_dsn(backend.dsn).set(database=name).render_as_string(hide_password=False))
        except MoltresError:
            with admin.connect() as conn:
                _drop_namespace(conn, name, schema=False)
            raise
        target = _ThrowawayDatabase(name, shared)
        sa.event.listen(shared.engine, "checkout", target.on_checkout)
        self._shared[f"{backend.dsn}#{name}"] = shared
        return target

    @contextlib.contextmanager
    def _connected(self, dsn: str) -> Iterator[Database]:
        from moltres import connect

        db = connect(dsn)
        try:
            yield db
        finally:
            db.close()

    def _admin_engine(self, backend: Backend) -> sa.Engine:
        problem = self._problems.get(backend.dsn)
        if problem is not None:
            raise Unavailable(problem)
        engine = self._admin.get(backend.dsn)
        if engine is None:
            import sqlalchemy as sa

            from moltres.engine.url import resolve_dsn

            try:
                url = resolve_dsn(backend.dsn)
                engine = sa.create_engine(url, isolation_level="AUTOCOMMIT", pool_size=1, max_overflow=2)
                with engine.connect() as conn:
                    self._sweep(conn, backend)
            except (MoltresError, ImportError, sa.exc.SQLAlchemyError) as exc:
                detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
                problem = f"{_LABELS[backend.name]} unavailable at {backend.where}: {detail}"
                self._problems[backend.dsn] = problem
                raise Unavailable(problem) from None
            self._admin[backend.dsn] = engine
        return engine

    @contextlib.contextmanager
    def _server_namespace(self, backend: Backend, *, schema: bool = False) -> Iterator[str]:
        """Create a database (MySQL) or schema (PostgreSQL), yield a DSN for it, drop it after."""
        from moltres.engine.url import resolve_dsn

        admin = self._admin_engine(backend)
        name = _namespace()
        quoted = admin.dialect.identifier_preparer.quote(name)
        with admin.connect() as conn:
            if schema:
                conn.exec_driver_sql(f"CREATE SCHEMA {quoted}")
            else:
                conn.exec_driver_sql(f"CREATE DATABASE {quoted} CHARACTER SET utf8mb4")
        try:
            url = resolve_dsn(backend.dsn)
            if schema:
                # the test's schema first, so what it creates lands there; then public, so
                # it still sees the tables the server already has
                url = url.update_query_dict({"options": f"-csearch_path={name},public", "application_name": name})
            else:
                url = url.set(database=name)
            yield url.render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                _drop_namespace(conn, name, schema=schema)

    def _sweep(self, conn: sa.Connection, backend: Backend) -> None:
        """Drop the namespaces that runs killed hours ago left behind (never a live one)."""
        import sqlalchemy as sa

        names = conn.execute(sa.text("SELECT schema_name FROM information_schema.schemata")).scalars()
        for name in [n for n in names if _stale(n)]:
            with contextlib.suppress(sa.exc.SQLAlchemyError):  # another session swept it first
                _drop_namespace(conn, name, schema=backend.name == "postgresql")

    @contextlib.contextmanager
    def _fresh_duckdb(self, backend: Backend) -> Iterator[str]:
        from moltres.engine.url import resolve_dsn

        source = resolve_dsn(backend.dsn).database
        if not source or source == ":memory:":
            yield _IN_MEMORY["duckdb"]
            return
        with tempfile.TemporaryDirectory(prefix="moltres-duckdb-") as folder:
            copy = Path(folder) / "test.duckdb"
            if Path(source).exists():
                shutil.copyfile(source, copy)
            yield f"duckdb:///{copy}"

    # -------------------------------------------------------------------------------- async

    @contextlib.contextmanager
    def async_database(self, backend: Backend) -> Iterator[PendingAsyncDatabase]:
        """An awaitable AsyncDatabase in a namespace only this test sees, removed after.

        Raises:
            Unavailable: DuckDB (no asyncio driver), a missing driver or an unreachable server.
        """
        if backend.name == "duckdb":
            raise Unavailable("DuckDB has no asyncio driver; moltres_async_db runs on SQLite, PostgreSQL or MariaDB")
        if backend.name == "sqlite":
            with self._sqlite_copy(backend) as dsn:
                yield PendingAsyncDatabase(dsn, backend)
            return
        with self._server_namespace(backend, schema=backend.name == "postgresql") as dsn:
            yield PendingAsyncDatabase(dsn, backend)

    @contextlib.contextmanager
    def _sqlite_copy(self, backend: Backend) -> Iterator[str]:
        from moltres.engine.url import resolve_dsn

        source = resolve_dsn(backend.dsn).database
        with tempfile.TemporaryDirectory(prefix="moltres-sqlite-") as folder:
            copy = Path(folder) / "test.sqlite"
            if source and source != ":memory:" and Path(source).exists():
                shutil.copyfile(source, copy)
            yield f"sqlite:///{copy}"

    # -------------------------------------------------------------------------------- cleanup

    def close(self) -> None:
        """Release the session's engines and drop the session's throwaway databases."""
        for dsn, target in self._mysql_targets.items():
            target.database.close()
            with contextlib.suppress(Exception), self._admin[dsn].connect() as conn:
                _drop_namespace(conn, target.name, schema=False)
        self._mysql_targets.clear()
        for shared in self._shared.values():
            with contextlib.suppress(MoltresError):
                shared.close()
        for engine in self._admin.values():
            engine.dispose()
        self._shared.clear()
        self._admin.clear()
