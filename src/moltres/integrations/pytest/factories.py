"""Test rows and test DataFrames: :func:`make_rows` and :func:`create_test_df`.

:func:`make_rows` fakes plausible values from a schema, the same ones for the same seed, so
tests can assert on them. :func:`create_test_df` puts rows into the database under test,
as an inline DataFrame or as a real table.

Example:
    >>> make_rows({"id": "INTEGER", "email": "TEXT", "age": "INTEGER"}, 2, seed=1)
    [{'id': 1, 'email': 'user1@example.com', 'age': 35}, {'id': 2, 'email': 'user2@example.com', 'age': 90}]
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from moltres import Database
    from moltres.dataframe.dataframe import DataFrame
    from moltres.table.schema import ColumnDef

__all__ = ["create_test_df", "make_rows"]

_FIRST_NAMES = ("Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Tim")
_LAST_NAMES = ("Lovelace", "Turing", "Hopper", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Perlman")
_CITIES = ("Lisbon", "Oslo", "Kyoto", "Lima", "Accra", "Tallinn", "Hobart", "Quebec", "Porto", "Dakar")
_COUNTRIES = ("PT", "NO", "JP", "PE", "GH", "EE", "AU", "CA", "SN", "NZ")
_STATUSES = ("new", "active", "paid", "shipped", "cancelled")
_WORDS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet")
_EPOCH = dt.datetime(2024, 1, 1, 0, 0, 0)

Generator = Callable[[random.Random, int], Any]


def _columns(schema: Any) -> list[ColumnDef]:
    from moltres.table.schema import ColumnDef, column

    if isinstance(schema, Mapping):
        return [column(str(name), str(kind)) for name, kind in schema.items()]
    out = []
    for item in schema:
        if isinstance(item, ColumnDef):
            out.append(item)
        elif isinstance(item, Sequence) and not isinstance(item, str) and len(item) == 2:
            out.append(column(str(item[0]), str(item[1])))
        else:
            raise TypeError(
                f"cannot read a column from {item!r}; use column(...), (name, type) or a {{name: type}} dict"
            )
    return out


def _by_name(name: str, kind: str | None, base: str) -> Generator | None:
    lowered = name.lower()
    if kind == "str":
        if "email" in lowered:
            return _email
        if lowered in ("first_name", "firstname", "name", "username", "user_name"):
            return lambda rng, i: rng.choice(_FIRST_NAMES)
        if lowered in ("last_name", "lastname", "surname"):
            return lambda rng, i: rng.choice(_LAST_NAMES)
        if "city" in lowered:
            return lambda rng, i: rng.choice(_CITIES)
        if "country" in lowered:
            return lambda rng, i: rng.choice(_COUNTRIES)
        if "status" in lowered or "state" in lowered:
            return lambda rng, i: rng.choice(_STATUSES)
    if kind == "int" and lowered == "age":
        return lambda rng, i: rng.randint(18, 90)
    if kind == "float" and any(w in lowered for w in ("price", "amount", "total", "cost")):
        if base in ("NUMERIC", "DECIMAL"):
            return lambda rng, i: Decimal(f"{rng.uniform(1, 500):.2f}")
        return lambda rng, i: round(rng.uniform(1, 500), 2)
    return None


def _email(rng: random.Random, i: int) -> str:
    return f"user{i}@example.com"  # distinct for every row already


def _by_type(column: ColumnDef, kind: str | None) -> Generator:
    from moltres.quality.checks import base_type_name

    base = base_type_name(column.type_name)
    if base in ("NUMERIC", "DECIMAL"):
        return lambda rng, i: Decimal(f"{rng.uniform(0, 1000):.2f}")
    if base == "UUID":
        return lambda rng, i: uuid.UUID(int=rng.getrandbits(128), version=4)
    if base == "TIME":
        return lambda rng, i: dt.time(rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59))
    if base in ("BLOB", "BYTEA", "BINARY"):
        return lambda rng, i: rng.randbytes(8)
    if kind == "int":
        return lambda rng, i: rng.randint(0, 1000)
    if kind == "float":
        return lambda rng, i: round(rng.uniform(0, 1000), 3)
    if kind == "bool":
        return lambda rng, i: rng.random() < 0.5
    if kind == "date":
        return lambda rng, i: (_EPOCH + dt.timedelta(days=rng.randint(0, 365))).date()
    if kind == "datetime":
        return lambda rng, i: _EPOCH + dt.timedelta(seconds=rng.randint(0, 365 * 86400))
    return lambda rng, i: f"{column.name}_{rng.choice(_WORDS)}_{i}"


def _distinct(maker: Generator, kind: str | None) -> Generator:
    """Make a generator's values distinct across rows (for unique columns)."""
    if maker is _email:
        return maker
    if kind == "int":
        return lambda rng, i: i * 10 + rng.randint(0, 9)
    if kind == "str":
        return lambda rng, i: f"{maker(rng, i)}_{i}"
    return maker


def make_rows(schema: Any, n: int, *, seed: int = 0, null_fraction: float = 0.0) -> list[dict[str, Any]]:
    """Fake `n` rows for a schema, deterministically.

    Primary keys and columns named ``id`` count 1, 2, 3, ...; unique columns get distinct
    values; names hint at plausible values (``email``, ``name``, ``city``, ``age``,
    ``price`` ...); otherwise the SQL type decides.

    Args:
        schema: ``[column(...), ...]``, ``[(name, type), ...]`` or ``{name: type}``.
        n: How many rows.
        seed: The same seed gives the same rows.
        null_fraction: The share of NULLs in columns that are neither keys nor ``NOT NULL``.

    Returns:
        The rows, as dicts.

    Example:
        >>> from moltres import column
        >>> make_rows([column("id", "INTEGER", primary_key=True), column("ok", "BOOLEAN")], 3, seed=7)
        [{'id': 1, 'ok': True}, {'id': 2, 'ok': True}, {'id': 3, 'ok': False}]
    """
    from moltres.quality.checks import base_type_name, python_type_of

    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"make_rows() needs a non-negative row count, got {n!r}")
    columns = _columns(schema)
    rng = random.Random(seed)
    makers: list[tuple[ColumnDef, Generator, bool]] = []
    for column in columns:
        kind = python_type_of(column.type_name)
        if column.primary_key or (column.name.lower() == "id" and kind == "int"):
            makers.append((column, lambda rng, i: i, False))
            continue
        maker = _by_name(column.name, kind, base_type_name(column.type_name)) or _by_type(column, kind)
        makers.append(
            (column, _distinct(maker, kind) if column.unique else maker, column.nullable and not column.unique)
        )
    rows = []
    for i in range(1, n + 1):
        row = {}
        for column, maker, may_be_null in makers:
            value = maker(rng, i)
            row[column.name] = None if may_be_null and null_fraction and rng.random() < null_fraction else value
        rows.append(row)
    return rows


def create_test_df(
    db: Database,
    rows: Sequence[Mapping[str, Any]] | int,
    schema: Any = None,
    name: str | None = None,
) -> DataFrame:
    """Put rows into the database under test and return a DataFrame over them.

    Args:
        db: The database (the ``moltres_db`` fixture).
        rows: The rows, or a number of rows to fake from `schema` with :func:`make_rows`.
        schema: ``[column(...), ...]``, ``[(name, type), ...]`` or ``{name: type}``; inferred
            from the rows when omitted.
        name: Create a real table of this name (so the code under test can read it by name);
            without it the rows become an inline DataFrame.

    Returns:
        The DataFrame.

    Example:
        >>> from moltres import connect
        >>> db = connect("sqlite://")
        >>> create_test_df(db, [{"id": 1, "name": "Ada"}], name="users").count()
        1
        >>> create_test_df(db, 5, schema={"id": "INTEGER", "city": "TEXT"}).count()
        5
    """
    data: list[Mapping[str, Any]]
    if isinstance(rows, int) and not isinstance(rows, bool):
        if schema is None:
            raise ValueError("create_test_df(db, n) fakes n rows from a schema: pass schema=")
        data = list(make_rows(schema, rows))
    else:
        data = list(rows)  # type: ignore[arg-type]  # a bool is neither a count nor rows; normalize_rows says so
    columns = _columns(schema) if schema is not None else None
    if name is None:
        return db.create_dataframe(data, columns)
    if columns is None:
        from moltres.sql.types import python_type_to_sql, type_name
        from moltres.table.schema import column

        names = list(dict.fromkeys(key for row in data for key in row))
        columns = []
        for key in names:
            sample = next((row[key] for row in data if row.get(key) is not None), None)
            columns.append(column(key, type_name(python_type_to_sql(sample)) if sample is not None else "TEXT"))
    db.create_table(name, columns).collect()
    if data:
        db.insert(name, data)
    return db.table(name)
