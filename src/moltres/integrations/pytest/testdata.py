"""Test data files next to a test module, loaded by file stem: :class:`TestData`.

::

    tests/
      test_users.py
      test_data/
        users.csv            -> test_data["users"]         list of dicts
        users_schema.json    -> test_data["users_schema"]  list of column(...) definitions
        events.jsonl         -> test_data["events"]        list of dicts
        settings.json        -> test_data["settings"]      whatever the JSON holds

CSV cells are strings; a column whose every non-empty cell is an integer becomes ``int``,
a number ``float``, ``true``/``false`` ``bool``; empty cells become ``None``. A
``<name>_schema.json`` holds ``[{"name": "id", "type": "INTEGER", "primary_key": true}, ...]``
or ``{"id": "INTEGER", ...}`` and loads as :class:`~moltres.table.schema.ColumnDef` objects.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

__all__ = ["SUFFIXES", "TestData", "load_file"]

SUFFIXES = (".csv", ".json", ".jsonl")
_BOOLS = {"true": True, "false": False}


def _convert_column(values: list[str]) -> list[Any]:
    present = [v for v in values if v != ""]
    converted: list[Any]
    for convert in (int, float):
        try:
            typed = [convert(v) for v in present]
        except ValueError:
            continue
        it = iter(typed)
        converted = [None if v == "" else next(it) for v in values]
        return converted
    if present and all(v.lower() in _BOOLS for v in present):
        return [None if v == "" else _BOOLS[v.lower()] for v in values]
    return [None if v == "" else v for v in values]


def _read_csv(path: Path) -> list[dict[str, Any]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        raw = list(reader)
        names = list(reader.fieldnames or [])
    columns = {name: _convert_column([row.get(name) or "" for row in raw]) for name in names}
    return [{name: columns[name][i] for name in names} for i in range(len(raw))]


def _schema(data: Any, path: Path) -> list[Any]:
    from moltres.table.schema import column

    if isinstance(data, Mapping):
        return [column(str(name), str(kind)) for name, kind in data.items()]
    if isinstance(data, list) and all(isinstance(item, Mapping) and "name" in item for item in data):
        out = []
        for item in data:
            spec = dict(item)
            kind = spec.pop("type", None) or spec.pop("type_name", None)
            if kind is None:
                break
            out.append(column(spec.pop("name"), kind, **spec))
        else:
            return out
    raise ValueError(
        f"{path.name}: a schema file holds a list of {{'name': ..., 'type': ...}} objects or a {{name: type}} object"
    )


def load_file(path: Path) -> Any:
    r"""Load one test data file by its suffix.

    Example:
        >>> import tempfile, pathlib
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (folder / "users.csv").write_text("id,name\n1,Ada\n2,\n")
        >>> load_file(folder / "users.csv")
        [{'id': 1, 'name': 'Ada'}, {'id': 2, 'name': None}]
    """
    if path.suffix == ".csv":
        return _read_csv(path)
    if path.suffix == ".jsonl":
        with path.open(encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]
    data = json.loads(path.read_text(encoding="utf-8"))
    return _schema(data, path) if path.stem.endswith("_schema") else data


class TestData(Mapping[str, Any]):
    """The data files of a folder, loaded on first access and kept.

    Args:
        folder: The ``test_data`` folder.
    """

    __test__ = False  # a helper, not a test class

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._loaded: dict[str, Any] = {}

    def _files(self) -> dict[str, list[Path]]:
        found: dict[str, list[Path]] = {}
        if self.folder.is_dir():
            for path in sorted(self.folder.iterdir()):
                if path.suffix in SUFFIXES and path.is_file():
                    found.setdefault(path.stem, []).append(path)
        return found

    def __getitem__(self, name: str) -> Any:
        if name in self._loaded:
            return self._loaded[name]
        files = self._files()
        paths = files.get(name)
        if not paths:
            known = ", ".join(sorted(files)) or "none"
            raise KeyError(
                f"no test data named {name!r} in {self.folder} (found: {known}; suffixes: {', '.join(SUFFIXES)})"
            )
        if len(paths) > 1:
            raise KeyError(f"test data {name!r} is ambiguous: {', '.join(p.name for p in paths)}; rename one")
        self._loaded[name] = load_file(paths[0])
        return self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._files())

    def __len__(self) -> int:
        return len(self._files())

    def __repr__(self) -> str:
        return f"TestData<{self.folder}: {', '.join(self) or 'empty'}>"
