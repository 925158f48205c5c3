"""Records: rows held in Python, ready to insert into a table.

Example:
    >>> from moltres.io.records import Records
    >>> Records(_data=[{"id": 9, "name": "Linus", "age": 50}], _database=db).insert_into("users")
    1
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from moltres.utils.exceptions import ValidationError

__all__ = ["AsyncRecords", "Records", "normalize_rows"]


def normalize_rows(rows: object, *, copy: bool = True) -> list[dict[str, Any]]:
    """Accept dicts, pandas/polars frames or Arrow tables; return a list of dicts.

    With ``copy=False``, dicts given in a list are used as they are (for callers that only
    read them, right away).

    Example:
        >>> normalize_rows([{"a": 1}])
        [{'a': 1}]
    """
    if not copy and type(rows) is list and set(map(type, rows)) <= {dict}:
        return rows  # already a list of plain dicts (checked at C speed, no per-row work)
    module = type(rows).__module__.split(".")[0]
    if module == "pandas":
        return _pandas_rows(rows)
    if module == "polars":
        return rows.to_dicts()  # type: ignore[attr-defined,no-any-return]
    if module == "pyarrow":
        return rows.to_pylist()  # type: ignore[attr-defined,no-any-return]
    if isinstance(rows, (str, bytes)) or not isinstance(rows, Iterable):
        raise ValidationError(
            f"expected rows as a list of dicts, got {type(rows).__name__}",
            suggestion="pass [{'id': 1, 'name': 'Ada'}, ...], or a pandas/polars/Arrow table",
        )
    out = []
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise ValidationError(
                f"row {i} is a {type(row).__name__}, not a dict",
                suggestion="give each row as a dict of column name to value",
            )
        out.append(row if not copy and type(row) is dict else dict(row))
    return out


def _pandas_rows(frame: Any) -> list[dict[str, Any]]:
    """Pandas rows as plain Python values: missing values (NaN, NaT, None) become None."""
    try:
        import pyarrow as pa
    except ImportError:
        # astype(object) turns numpy scalars into Python ones; where() blanks the missing
        plain = frame.astype(object).where(frame.notna(), None)
        return plain.to_dict(orient="records")  # type: ignore[no-any-return]
    return pa.Table.from_pandas(frame, preserve_index=False).to_pylist()  # type: ignore[no-any-return]


@dataclass
class Records:
    """Rows in Python, bound to the database they will be inserted into.

    Args:
        _data: The rows, as dicts.
        _database: The :class:`~moltres.Database` to insert into.
    """

    _data: list[dict[str, Any]] = field(default_factory=list)
    _database: Any = None

    def __post_init__(self) -> None:
        self._data = normalize_rows(self._data)

    @classmethod
    def from_list(cls, rows: Sequence[Mapping[str, Any]], database: Any = None) -> Records:
        """Records from a list of dicts.

        Example:
            >>> len(Records.from_list([{"a": 1}, {"a": 2}]))
            2
        """
        return cls(_data=list(rows), _database=database)  # type: ignore[arg-type]

    from_dicts = from_list

    @property
    def rows(self) -> list[dict[str, Any]]:
        """The rows."""
        return self._data

    def __len__(self) -> int:
        return len(self._data)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._data)

    def _db(self) -> Any:
        if self._database is None:
            raise ValidationError(
                "these Records are not bound to a database",
                suggestion="Records.from_list(rows, database=db), or Records(_data=rows, _database=db)",
            )
        return self._database

    def insert_into(self, table: str) -> int:
        """Insert every row into `table` in one atomic, batched operation; return the count."""
        return self._db().insert(table, self._data)  # type: ignore[no-any-return]


@dataclass
class AsyncRecords(Records):
    """Records bound to an :class:`~moltres.AsyncDatabase`; ``insert_into`` is awaited."""

    async def insert_into(self, table: str) -> int:  # type: ignore[override]
        """Insert every row into `table`; return the count."""
        return await self._db().insert(table, self._data)  # type: ignore[no-any-return]
