"""One module per database. :func:`rules_for` and :func:`compiler_for` pick the right one."""

from __future__ import annotations

import importlib
from typing import Any

import sqlalchemy as sa

from moltres.sql.compiler import Compiler
from moltres.sql.dialects.base import Rules

__all__ = ["compiler_for", "rules_for"]

_MODULES = {
    "sqlite": "moltres.sql.dialects.sqlite",
    "postgresql": "moltres.sql.dialects.postgresql",
    "mysql": "moltres.sql.dialects.mysql",
    "mariadb": "moltres.sql.dialects.mysql",
    "duckdb": "moltres.sql.dialects.duckdb",
}
_RULES: dict[str, Rules] = {}


def rules_for(name: str) -> Rules:
    """The runtime rules for a dialect name; unknown dialects get conservative defaults.

    Example:
        >>> rules_for("postgresql").name
        'postgresql'
    """
    rules = _RULES.get(name)
    if rules is None:
        module = _MODULES.get(name)
        rules = importlib.import_module(module).RULES if module else Rules()
        _RULES[name] = rules
    return rules


def _dialect(name: str) -> sa.engine.Dialect:
    """The dialect of `name`'s default driver, as a connection would configure it."""
    if name == "duckdb":
        from moltres.sql.dialects.duckdb import offline_dialect

        return offline_dialect()
    if name == "mysql":
        from sqlalchemy.dialects.mysql import pymysql

        cls: Any = pymysql.dialect
    else:
        cls = sa.engine.make_url(f"{name}://").get_dialect()
    # A dialect made without its driver takes a default placeholder style that may not be the
    # driver's (PyMySQL: %s instead of %(p0)s): SQL shown for a dialect must be what it runs.
    try:
        paramstyle = cls.import_dbapi().paramstyle
    except ImportError:
        paramstyle = None
    return cls(paramstyle=paramstyle)  # type: ignore[no-any-return]


def compiler_for(dialect: str | sa.engine.Dialect) -> Compiler:
    """A compiler for a dialect name (offline) or a live SQLAlchemy dialect.

    Example:
        >>> compiler_for("postgresql").name
        'postgresql'
    """
    if isinstance(dialect, str):
        rules = rules_for(dialect)
        return rules.compiler_class(_dialect(dialect))
    return rules_for(dialect.name).compiler_class(dialect)
