"""Turn a DSN into a SQLAlchemy engine, with errors that teach and never show a password."""

from __future__ import annotations

import os
import re
import shlex
from typing import Any

import sqlalchemy as sa

from moltres.utils.exceptions import DatabaseConnectionError

__all__ = ["asyncpg_arguments", "create_engine", "mask_password", "resolve_dsn"]

_DEFAULT_DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
}
_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "mysql": "mysql+aiomysql",
    "mariadb": "mysql+aiomysql",
}
_EXTRAS = {
    "psycopg": "postgresql",
    "asyncpg": "async",
    "pymysql": "mysql",
    "aiomysql": "async",
    "aiosqlite": "async",
    "duckdb": "duckdb",
    "duckdb_engine": "duckdb",
}


def mask_password(text: str) -> str:
    """Hide the password in a DSN or in any text that contains one.

    Example:
        >>> mask_password("postgresql://ada:s3cret@db/app")
        'postgresql://ada:***@db/app'
    """
    return re.sub(r"(://[^:/@\s]*:)[^@\s]*@", r"\1***@", text)


def resolve_dsn(dsn: str | None, *, asynchronous: bool = False) -> sa.URL:
    """Parse a DSN (or ``MOLTRES_DSN``) and pick the default driver for its database.

    Example:
        >>> resolve_dsn("postgresql://u@localhost/app").drivername
        'postgresql+psycopg'
        >>> resolve_dsn("sqlite:///x.db", asynchronous=True).drivername
        'sqlite+aiosqlite'
    """
    if dsn is None:
        dsn = os.environ.get("MOLTRES_DSN")
        if not dsn:
            raise DatabaseConnectionError(
                "no database given",
                suggestion="pass a DSN such as connect('sqlite:///app.db'), or set MOLTRES_DSN",
            )
    if isinstance(dsn, sa.URL):
        url = dsn
    elif not isinstance(dsn, str):
        raise DatabaseConnectionError(
            f"a DSN must be a string, got {type(dsn).__name__}",
            suggestion="connect('postgresql://user:password@host/db'), or connect(engine=...) for an Engine",
        )
    else:
        try:
            url = sa.make_url(dsn)
        except (sa.exc.ArgumentError, ValueError):  # ValueError: a port that is not a number
            raise DatabaseConnectionError(
                f"malformed DSN: {mask_password(dsn)!r}",
                suggestion="use the form dialect[+driver]://user:password@host:port/database, "
                "e.g. postgresql://app@localhost/app or sqlite:///app.db",
            ) from None
    base = url.drivername.split("+")[0]
    table = _ASYNC_DRIVERS if asynchronous else _DEFAULT_DRIVERS
    if "+" not in url.drivername and base in table:
        url = url.set(drivername=table[base])
    elif asynchronous and url.drivername in ("postgresql+psycopg2", "mysql+pymysql", "sqlite+pysqlite"):
        url = url.set(drivername=_ASYNC_DRIVERS[base])
    return url


def asyncpg_arguments(url: sa.URL, kwargs: dict[str, Any]) -> tuple[sa.URL, dict[str, Any]]:
    """Move libpq's ``options=-c...`` and ``application_name`` from the URL to asyncpg's server settings.

    psycopg understands these query parameters; asyncpg takes them as ``server_settings``
    instead and would fail on the unknown keywords, so the same DSN works for both.

    Example:
        >>> url = sa.make_url("postgresql+asyncpg://u@h/db?options=-csearch_path%3Dapp&application_name=etl")
        >>> new, kwargs = asyncpg_arguments(url, {})
        >>> dict(new.query), kwargs["connect_args"]["server_settings"]
        ({}, {'search_path': 'app', 'application_name': 'etl'})
    """
    query = dict(url.query)
    settings: dict[str, str] = {}
    tokens = shlex.split(str(query.pop("options", "")))
    while tokens:
        token = tokens.pop(0)
        if token in ("-c", "--"):
            token = tokens.pop(0) if tokens else ""
        elif token.startswith(("-c", "--")):
            token = token[2:]
        key, sep, value = token.partition("=")
        if not sep or not key:
            raise DatabaseConnectionError(
                f"cannot read the options parameter {token!r} of the DSN for asyncpg",
                suggestion="write options as -cname=value, e.g. options=-csearch_path%3Dapp",
            )
        settings[key.replace("-", "_")] = value
    if "application_name" in query:
        settings["application_name"] = str(query.pop("application_name"))
    if not settings:
        return url, kwargs
    connect_args = dict(kwargs.get("connect_args") or {})
    connect_args["server_settings"] = {**settings, **(connect_args.get("server_settings") or {})}
    return url.set(query=query), {**kwargs, "connect_args": connect_args}


def create_engine(url: sa.URL, *, asynchronous: bool = False, **kwargs: Any) -> Any:
    """Create the SQLAlchemy engine for a URL, explaining a missing driver or unknown dialect.

    Example:
        >>> create_engine(resolve_dsn("sqlite://")).dialect.name
        'sqlite'
    """
    try:
        if asynchronous:
            from sqlalchemy.ext.asyncio import create_async_engine

            if url.get_driver_name() == "asyncpg":
                url, kwargs = asyncpg_arguments(url, kwargs)
            return create_async_engine(url, **kwargs)
        return sa.create_engine(url, **kwargs)
    except sa.exc.NoSuchModuleError:
        raise DatabaseConnectionError(
            f"unknown database dialect {url.drivername!r} in {mask_password(str(url))!r}",
            suggestion="use sqlite, postgresql, mysql, mariadb or duckdb (or install the SQLAlchemy dialect)",
        ) from None
    except ImportError as exc:
        driver = url.drivername.split("+")[-1] if "+" in url.drivername else url.drivername
        module = getattr(exc, "name", None) or driver
        extra = _EXTRAS.get(driver) or _EXTRAS.get(str(module).split(".")[0])
        if extra is not None:
            suggestion = f'pip install "moltres[{extra}]"'
        else:
            # a driver no moltres extra installs (mysqldb, pg8000, ...): install it, or use ours
            base = url.get_backend_name()
            ours = {"postgresql": "postgresql", "mysql": "mysql", "mariadb": "mysql"}.get(base)
            suggestion = f"install the {driver!r} driver package" + (
                f', or pip install "moltres[{ours}]" and use {base}:// (moltres\' default driver)' if ours else ""
            )
        raise DatabaseConnectionError(
            f"the database driver {module!r} for {url.drivername!r} is not installed",
            suggestion=suggestion,
        ) from None
    except (TypeError, ValueError, sa.exc.ArgumentError) as exc:
        raise DatabaseConnectionError(
            f"invalid connection options for {mask_password(str(url))!r}: {mask_password(str(exc))}",
            suggestion="check the DSN's query parameters and the engine options",
        ) from None
