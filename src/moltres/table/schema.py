"""Column definitions: ``column("id", "INTEGER", primary_key=True)``.

Example:
    >>> from moltres.table.schema import column
    >>> email = column("email", "TEXT", nullable=False, unique=True)
    >>> email.name, email.type_name, email.nullable, email.unique
    ('email', 'TEXT', False, True)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from moltres.engine.executor import QueryState, on
from moltres.sql.compiler import validate_identifiers
from moltres.sql.types import parse_type
from moltres.sql.types import type_name as sql_type_name
from moltres.utils.exceptions import ValidationError

__all__ = ["ColumnDef", "column", "describe_table", "has_table", "table_names", "to_sa_table"]


@dataclass(frozen=True)
class ColumnDef:
    """One column of a table definition.

    ``foreign_key`` is ``"table.column"``. ``default`` is a Python value used as the server
    default.
    """

    name: str
    type_name: str
    nullable: bool = True
    default: Any = None
    primary_key: bool = False
    unique: bool = False
    foreign_key: str | None = None
    autoincrement: bool = False

    @property
    def type(self) -> sa.types.TypeEngine[Any]:
        """The SQLAlchemy type."""
        return parse_type(self.type_name)

    def to_sa(self) -> sa.Column[Any]:
        """The SQLAlchemy ``Column`` for this definition."""
        args: list[Any] = [self.name, self.type]
        if self.foreign_key:
            if self.foreign_key.count(".") != 1:
                raise ValidationError(
                    f"foreign_key for '{self.name}' must be 'table.column', got {self.foreign_key!r}",
                    suggestion="column('user_id', 'INTEGER', foreign_key='users.id')",
                )
            args.append(sa.ForeignKey(self.foreign_key))
        kwargs: dict[str, Any] = {
            "nullable": self.nullable and not self.primary_key,
            "primary_key": self.primary_key,
            "unique": self.unique or None,
            "autoincrement": True if self.autoincrement else "auto",
        }
        if self.default is not None:
            kwargs["server_default"] = sa.text(_default_sql(self.default))
        return sa.Column(*args, **kwargs)


def _default_sql(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"  # PostgreSQL refuses 1/0 for a BOOLEAN default
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        if value.upper() in ("CURRENT_TIMESTAMP", "CURRENT_DATE", "CURRENT_TIME"):
            return value.upper()
        return "'" + value.replace("'", "''") + "'"
    raise ValidationError(
        f"unsupported column default {value!r}",
        suggestion="use a number, a string, a boolean, or 'CURRENT_TIMESTAMP'",
    )


def column(
    name: str,
    type_name: str = "TEXT",
    *,
    primary_key: bool = False,
    nullable: bool = True,
    default: Any = None,
    unique: bool = False,
    foreign_key: str | None = None,
    autoincrement: bool = False,
) -> ColumnDef:
    """Define a column for ``db.create_table``.

    Args:
        name: The column name.
        type_name: A SQL type: ``INTEGER``, ``TEXT``, ``VARCHAR(50)``, ``REAL``,
            ``NUMERIC(10,2)``, ``BOOLEAN``, ``DATE``, ``TIMESTAMP``, ``JSON`` ...
        primary_key: Part of the primary key.
        nullable: Accept NULL.
        default: Server-side default value.
        unique: Values must be unique.
        foreign_key: ``"table.column"`` this column references.
        autoincrement: Let the database number the rows.

    Example:
        >>> column("id", "INTEGER", primary_key=True).primary_key
        True
    """
    if not isinstance(name, str):
        raise ValidationError(f"a column name must be a string, got {type(name).__name__}")
    validate_identifiers([name])
    parse_type(type_name)  # fail now, not at collect()
    return ColumnDef(name, type_name, nullable, default, primary_key, unique, foreign_key, autoincrement)


def to_sa_table(
    name: str,
    columns: Sequence[ColumnDef | sa.Column[Any]],
    *,
    schema: str | None = None,
    temporary: bool = False,
) -> sa.Table:
    """The SQLAlchemy ``Table`` for a definition.

    Example:
        >>> to_sa_table("users", [column("id", "INTEGER", primary_key=True)]).c.id.primary_key
        True
    """
    validate_identifiers([name])
    if not columns:
        raise ValidationError(f"table '{name}' needs at least one column", suggestion="[column('id', 'INTEGER')]")
    seen: set[str] = set()
    sa_columns = []
    for c in columns:
        if isinstance(c, ColumnDef):
            sa_c = c.to_sa()
        elif isinstance(c, sa.Column):
            sa_c = c
        else:
            raise ValidationError(
                f"table '{name}': expected column(...) definitions, got {type(c).__name__}",
                suggestion="from moltres.table.schema import column; column('id', 'INTEGER')",
            )
        if sa_c.name in seen:
            raise ValidationError(f"table '{name}' defines column '{sa_c.name}' twice")
        seen.add(sa_c.name)
        sa_columns.append(sa_c)
    prefixes = ["TEMPORARY"] if temporary else []
    metadata = sa.MetaData()
    # A foreign key names its target by "table.column"; SQLAlchemy resolves it within the same
    # MetaData when rendering CREATE TABLE, so stand in for each target table with its key column.
    stubs: dict[str, list[sa.Column[Any]]] = {}
    for c in sa_columns:
        for fk in c.foreign_keys:
            target, _, target_column = fk.target_fullname.rpartition(".")
            if target != name and target_column not in {x.name for x in stubs.get(target, [])}:
                stubs.setdefault(target, []).append(sa.Column(target_column, c.type))
    for target, target_columns in stubs.items():
        sa.Table(target, metadata, *target_columns, schema=schema)
    return sa.Table(name, metadata, *sa_columns, schema=schema, prefixes=prefixes)


# Reading what the database holds: plain functions over a Connection, run by the sync
# executor directly and by the async one through ``run_sync``.


# The staging tables moltres itself creates for a DataFrame over Python rows or a file read
# (db.create_dataframe, db.read without into=; named in database.py and dataframe/reader.py).
# They live as long as their Database and are no tables of the user's: tables() leaves them out.
_STAGING = re.compile(r"moltres_(?:df|read)_[0-9a-f]{12}")


def table_names(conn: sa.Connection, temporary: Iterable[str] = ()) -> list[str]:
    """The tables and views `conn` sees, sorted: its temporary ones too, moltres' staging tables not.

    Args:
        conn: The connection to look on (a temporary table exists on one connection only).
        temporary: Names of temporary tables created through moltres, listed if they exist on
            `conn`, for databases that keep no catalog of temporary tables (MariaDB before
            11.2, MySQL); others list every temporary table from their catalog.
    """
    inspector = sa.inspect(conn)
    names = set(inspector.get_table_names()) | set(inspector.get_view_names())
    try:
        names.update(inspector.get_temp_table_names())
        names.update(inspector.get_temp_view_names())
    except NotImplementedError:
        names.update(name for name in temporary if name not in names and inspector.has_table(name))
    return sorted(name for name in names if not _STAGING.fullmatch(name))


def has_table(conn: sa.Connection, name: str) -> bool:
    """Whether a table (or view) of that name exists on `conn`, temporary ones included."""
    return bool(sa.inspect(conn).has_table(name))


def describe_table(conn: sa.Connection, state: QueryState, name: str) -> list[ColumnDef]:
    """The columns of table `name` as :class:`ColumnDef` (reflected once, then cached in `state`)."""
    table = state.catalog(on(conn)).table(name)
    return [
        ColumnDef(
            c.name,
            sql_type_name(c.type),
            nullable=bool(c.nullable),
            primary_key=bool(c.primary_key),
            unique=bool(c.unique),
        )
        for c in table.c
    ]
