"""The databases the test suite runs on, and how each test gets a private, fresh one.

Every backend hands out a DSN for a namespace that no other test can see:

- SQLite and DuckDB: a new database file under the test's ``tmp_path``.
- PostgreSQL: a new schema ``t_<hex>`` on the shared server database, with the DSN setting
  ``search_path`` to it, so unqualified names (tables, reflection, ``db.tables()``) land
  there. A schema costs ~10 ms to create and drop; a database ~50 ms, so schemas it is.
- MariaDB/MySQL: a new database ``t_<hex>`` (MySQL has no schemas below databases).

Server addresses default to the loopback servers every developer and CI have, and can be
pointed elsewhere with ``MOLTRES_TEST_POSTGRESQL_DSN`` and ``MOLTRES_TEST_MYSQL_DSN``.
"""

from __future__ import annotations

import contextlib
import importlib
import re
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar

import sqlalchemy as sa
from sqlalchemy.engine import URL, Dialect, Engine

__all__ = ["BACKENDS", "STALE_AFTER_SECONDS", "Backend", "ServerBackend", "make_backends", "servers_required"]

#: Backend names, in the order tests run. Each is also a pytest mark.
BACKENDS = ("sqlite", "postgresql", "mysql", "duckdb")

DEFAULT_SERVER_DSNS = {
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "mysql": "mysql+pymysql://root@127.0.0.1:3306/test",
}

_TRUE = {"1", "true", "yes", "on"}


def servers_required(environ: Mapping[str, str]) -> bool:
    """Whether an unreachable server must fail the run instead of skipping its tests."""
    return environ.get("MOLTRES_REQUIRE_SERVERS", "").strip().lower() in _TRUE


#: Namespaces older than this were left by a run that was killed before its teardown.
STALE_AFTER_SECONDS = 3 * 3600
_NAMESPACE = re.compile(r"t_([0-9a-f]{8})_[0-9a-f]{16}")


def _namespace() -> str:
    # t_<creation time>_<random>: the time lets a later session sweep namespaces whose run was
    # killed; 27 characters, below the identifier limits of PostgreSQL (63) and MySQL (64).
    return f"t_{int(time.time()):08x}_{uuid.uuid4().hex[:16]}"


def _stale(names: Iterable[str]) -> list[str]:
    cutoff = time.time() - STALE_AFTER_SECONDS
    found = (_NAMESPACE.fullmatch(name) for name in names)
    return [m.group(0) for m in found if m is not None and int(m.group(1), 16) < cutoff]


class Backend:
    """One database the suite runs on.

    Attributes:
        name: The backend name; also its pytest mark and moltres' ``db.dialect_name``.
        extra: The moltres extra that installs its driver.
        is_server: Whether it lives on a shared server (PostgreSQL, MariaDB).
    """

    name: ClassVar[str]
    extra: ClassVar[str]
    is_server: ClassVar[bool] = False

    def __init__(self) -> None:
        self._probed: dict[str, str | None] = {}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"

    def missing_driver(self) -> str | None:
        """Why the backend's driver cannot be imported (with the extra to install), or None.

        An environment may lack a driver on purpose (an integration suite's virtualenv), so a
        missing driver skips, even when servers are required.
        """
        if "driver" not in self._probed:
            self._probed["driver"] = self._find_driver()
        return self._probed["driver"]

    def unreachable(self) -> str | None:
        """Why the backend's server cannot be reached (probed once), or None."""
        if "server" not in self._probed:
            self._probed["server"] = self._reach()
        return self._probed["server"]

    def _find_driver(self) -> str | None:
        raise NotImplementedError

    def _reach(self) -> str | None:
        return None

    def _dialect_url(self) -> str:
        raise NotImplementedError

    @property
    def dialect(self) -> Dialect:
        """A SQLAlchemy dialect instance of the backend's driver, for offline compilation."""
        return sa.make_url(self._dialect_url()).get_dialect()()

    @contextmanager
    def fresh(self, tmp_path: Path) -> Iterator[str]:
        """Create a private namespace, yield a DSN for it, and remove it afterwards.

        The namespace is removed even when the body raises.
        """
        raise NotImplementedError
        yield

    def close(self) -> None:
        """Release whatever the backend holds for the session (admin connections)."""


class FileBackend(Backend):
    """An embedded database: one new file per test."""

    driver: ClassVar[str]
    scheme: ClassVar[str]
    suffix: ClassVar[str]

    def _find_driver(self) -> str | None:
        try:
            importlib.import_module(self.driver)
        except ImportError as exc:
            fix = f"pip install 'moltres[{self.extra}]'" if self.extra else "use a Python built with it"
            return f"{self.name}: {self.driver} is not installed ({exc}); {fix}"
        return None

    def _dialect_url(self) -> str:
        return f"{self.scheme}://"

    @contextmanager
    def fresh(self, tmp_path: Path) -> Iterator[str]:
        # The file stays under tmp_path (pytest keeps the last few runs) to help debugging.
        yield f"{self.scheme}:///{tmp_path / ('test' + self.suffix)}"


class SQLiteBackend(FileBackend):
    name = "sqlite"
    extra = ""  # the standard library's sqlite3
    driver = "sqlite3"
    scheme = "sqlite"
    suffix = ".sqlite"


class DuckDBBackend(FileBackend):
    name = "duckdb"
    extra = "duckdb"
    driver = "duckdb_engine"
    scheme = "duckdb"
    suffix = ".duckdb"


class ServerBackend(Backend):
    """A backend on a shared server: one admin engine per session, a namespace per test."""

    is_server = True
    label: ClassVar[str]
    env_var: ClassVar[str]

    def __init__(self, environ: Mapping[str, str]) -> None:
        super().__init__()
        self.admin_url: URL = sa.make_url(environ.get(self.env_var) or DEFAULT_SERVER_DSNS[self.name])
        self._admin: Engine | None = None

    def _dialect_url(self) -> str:
        return f"{self.admin_url.drivername}://"

    @property
    def where(self) -> str:
        """The server address with the password hidden, for messages."""
        return self.admin_url.render_as_string(hide_password=True)

    def _find_driver(self) -> str | None:
        try:
            self.admin_url.get_dialect().import_dbapi()
        except ImportError as exc:
            return (
                f"{self.label}: the driver for {self.admin_url.drivername} is not installed ({exc}); "
                f"pip install 'moltres[{self.extra}]'"
            )
        return None

    def _reach(self) -> str | None:
        try:
            with self.admin.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
                self._sweep(conn)
        except sa.exc.SQLAlchemyError as exc:
            self.close()
            detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            return f"{self.label} unreachable at {self.where}: {detail} (set {self.env_var} to point elsewhere)"
        return None

    @property
    def admin(self) -> Engine:
        """The session's engine for creating and dropping namespaces (autocommit)."""
        if self._admin is None:
            self._admin = sa.create_engine(
                self.admin_url,
                isolation_level="AUTOCOMMIT",
                pool_size=1,
                max_overflow=2,
                connect_args={"connect_timeout": 5},
            )
        return self._admin

    def close(self) -> None:
        if self._admin is not None:
            self._admin.dispose()
            self._admin = None

    def _sweep(self, conn: sa.Connection) -> None:
        """Drop the namespaces that runs killed hours ago left behind (never a live one)."""
        names = conn.execute(sa.text("SELECT schema_name FROM information_schema.schemata")).scalars()
        for name in _stale(names):
            with contextlib.suppress(sa.exc.SQLAlchemyError):  # another session swept it first
                self._drop(conn, name)

    def _create(self, conn: sa.Connection, namespace: str) -> None:
        raise NotImplementedError

    def _drop(self, conn: sa.Connection, namespace: str) -> None:
        raise NotImplementedError

    def namespace_of(self, dsn: str) -> str:
        """The schema or database name a DSN from :meth:`fresh` points at."""
        raise NotImplementedError

    def namespace_exists(self, namespace: str) -> bool:
        """Whether the schema (PostgreSQL) or database (MySQL) `namespace` exists."""
        with self.admin.connect() as conn:
            found = conn.execute(
                sa.text("SELECT 1 FROM information_schema.schemata WHERE schema_name = :name"),
                {"name": namespace},
            ).first()
        return found is not None


class PostgreSQLBackend(ServerBackend):
    name = "postgresql"
    label = "PostgreSQL"
    extra = "postgresql"
    env_var = "MOLTRES_TEST_POSTGRESQL_DSN"

    @contextmanager
    def fresh(self, tmp_path: Path) -> Iterator[str]:
        schema = _namespace()
        with self.admin.connect() as conn:
            self._create(conn, schema)
        try:
            # application_name tags the test's connections so teardown can find stragglers.
            url = self.admin_url.update_query_dict({"options": f"-csearch_path={schema}", "application_name": schema})
            yield url.render_as_string(hide_password=False)
        finally:
            with self.admin.connect() as conn:
                self._drop(conn, schema)

    def _create(self, conn: sa.Connection, namespace: str) -> None:
        conn.exec_driver_sql(f"CREATE SCHEMA {namespace}")

    def _drop(self, conn: sa.Connection, namespace: str) -> None:
        # A connection the test left open (idle in transaction, holding locks) would make
        # DROP SCHEMA wait forever; end it first.
        conn.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = :name AND pid <> pg_backend_pid()"
            ),
            {"name": namespace},
        )
        conn.exec_driver_sql("SET lock_timeout = '10s'")  # fail, never hang, if one survives
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {namespace} CASCADE")

    def namespace_of(self, dsn: str) -> str:
        return str(sa.make_url(dsn).query["application_name"])


class MySQLBackend(ServerBackend):
    name = "mysql"
    label = "MariaDB/MySQL"
    extra = "mysql"
    env_var = "MOLTRES_TEST_MYSQL_DSN"

    @contextmanager
    def fresh(self, tmp_path: Path) -> Iterator[str]:
        database = _namespace()
        with self.admin.connect() as conn:
            self._create(conn, database)
        try:
            yield self.admin_url.set(database=database).render_as_string(hide_password=False)
        finally:
            with self.admin.connect() as conn:
                self._drop(conn, database)

    def _create(self, conn: sa.Connection, namespace: str) -> None:
        conn.exec_driver_sql(f"CREATE DATABASE {namespace} CHARACTER SET utf8mb4")

    def _drop(self, conn: sa.Connection, namespace: str) -> None:
        # Connections left open in the database would hold metadata locks and make
        # DROP DATABASE wait; end them first.
        stragglers = conn.execute(
            sa.text("SELECT id FROM information_schema.processlist WHERE db = :name AND id <> CONNECTION_ID()"),
            {"name": namespace},
        ).scalars()
        for pid in list(stragglers):
            with contextlib.suppress(sa.exc.OperationalError):  # it may end on its own meanwhile
                conn.exec_driver_sql(f"KILL {int(pid)}")
        conn.exec_driver_sql("SET SESSION lock_wait_timeout = 10")  # fail, never hang
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {namespace}")

    def namespace_of(self, dsn: str) -> str:
        return str(sa.make_url(dsn).database)


def make_backends(environ: Mapping[str, str]) -> dict[str, Backend]:
    """Build one backend object per name, configured from `environ`."""
    made: dict[str, Backend] = {
        "sqlite": SQLiteBackend(),
        "postgresql": PostgreSQLBackend(environ),
        "mysql": MySQLBackend(environ),
        "duckdb": DuckDBBackend(),
    }
    assert tuple(made) == BACKENDS
    return made
