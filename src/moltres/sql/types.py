"""SQL type names as users write them (``"INTEGER"``, ``"VARCHAR(20)"``) to SQLAlchemy types."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from moltres.utils.exceptions import ValidationError

__all__ = ["parse_type", "type_name", "python_type_to_sql"]

_TYPE_RE = re.compile(r"^\s*([A-Za-z][A-Za-z ]*?)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?\s*$")

_SIMPLE: dict[str, sa.types.TypeEngine[Any] | type[sa.types.TypeEngine[Any]]] = {
    "INTEGER": sa.Integer,
    "INT": sa.Integer,
    "SMALLINT": sa.SmallInteger,
    "BIGINT": sa.BigInteger,
    "TEXT": sa.Text,
    "STRING": sa.Text,
    "CLOB": sa.Text,
    "REAL": sa.Float,
    "FLOAT": sa.Float,
    "DOUBLE": sa.Double,
    "DOUBLE PRECISION": sa.Double,
    "BOOLEAN": sa.Boolean,
    "BOOL": sa.Boolean,
    "DATE": sa.Date,
    "TIME": sa.Time,
    "TIMESTAMP": sa.DateTime,
    "DATETIME": sa.DateTime,
    "BLOB": sa.LargeBinary,
    "BYTEA": sa.LargeBinary,
    "BINARY": sa.LargeBinary,
    "JSON": sa.JSON,
    "UUID": sa.Uuid,
}


def parse_type(name: str) -> sa.types.TypeEngine[Any]:
    """Turn a SQL type name into a SQLAlchemy type; unknown names raise ``ValidationError``.

    Example:
        >>> parse_type("VARCHAR(20)")
        String(length=20)
        >>> parse_type("integer")
        Integer()
    """
    if isinstance(name, sa.types.TypeEngine):
        return name
    if isinstance(name, type) and issubclass(name, sa.types.TypeEngine):
        return name()
    match = _TYPE_RE.match(name) if isinstance(name, str) else None
    if not match:
        raise ValidationError(
            f"{name!r} is not a SQL type name",
            suggestion="use a name such as INTEGER, TEXT, VARCHAR(50), REAL, NUMERIC(10,2), DATE, TIMESTAMP, BOOLEAN",
        )
    base = " ".join(match.group(1).upper().split())
    length = int(match.group(2)) if match.group(2) else None
    scale = int(match.group(3)) if match.group(3) else None
    if base in ("VARCHAR", "CHAR", "CHARACTER VARYING", "NVARCHAR", "CHARACTER"):
        return sa.String(length)
    if base in ("NUMERIC", "DECIMAL"):
        return sa.Numeric(length, scale)
    if base in {"TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"}:
        return sa.DateTime(timezone=True)
    simple = _SIMPLE.get(base)
    if simple is None:
        raise ValidationError(
            f"unknown SQL type {name!r}",
            suggestion="use one of: " + ", ".join(sorted(_SIMPLE)) + ", VARCHAR(n), NUMERIC(p,s)",
        )
    return simple() if isinstance(simple, type) else simple


def type_name(type_: sa.types.TypeEngine[Any]) -> str:
    """A short, dialect-neutral name for a SQLAlchemy type.

    Example:
        >>> type_name(sa.String(20))
        'VARCHAR(20)'
    """
    try:
        return str(type_.compile())
    except Exception:
        return type(type_).__name__.upper()


def python_type_to_sql(value: object) -> sa.types.TypeEngine[Any]:
    """The SQL type to store a Python value in.

    Example:
        >>> python_type_to_sql(1.5)
        Double()
    """
    import datetime as dt
    import decimal
    import uuid

    if isinstance(value, bool):
        return sa.Boolean()
    if isinstance(value, int):
        return sa.BigInteger() if abs(value) > 2**31 - 1 else sa.Integer()
    if isinstance(value, float):
        return sa.Double()
    if isinstance(value, decimal.Decimal):
        return sa.Numeric(38, 10)
    if isinstance(value, dt.datetime):
        return sa.DateTime(timezone=value.tzinfo is not None)
    if isinstance(value, dt.date):
        return sa.Date()
    if isinstance(value, dt.time):
        return sa.Time()
    if isinstance(value, bytes):
        return sa.LargeBinary()
    if isinstance(value, uuid.UUID):
        return sa.Uuid()
    if isinstance(value, (dict, list)):
        return sa.JSON()
    return sa.Text()
