"""``python manage.py moltres_query "<expression>"``: run a DataFrame expression, print rows.

The expression is evaluated by a restricted interpreter over ``db`` (the Database on the
chosen Django alias), ``col``, ``lit`` and ``F``: it can build and run queries, never run
arbitrary Python. ``--interactive`` opens a small REPL with the same rules, where
``name = expression`` keeps a value for later lines.

Example:
    .. code-block:: console

        $ python manage.py moltres_query "db.table('users').where(col('age') > 25)" --format json
        [{"id": 1, "name": "Ada", "age": 36}]
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS

from moltres import col, lit
from moltres.expressions import functions
from moltres.integrations.django._restricted import RestrictedEvaluator, function_namespace
from moltres.integrations.django.database import get_moltres_db
from moltres.utils.exceptions import MoltresError

FORMATS = ("table", "json", "csv")
PROMPT = "moltres> "


def _rows_of(value: Any, limit: int | None) -> list[dict[str, Any]] | None:
    """Turn a query result into rows, or None when it is a plain value."""
    if hasattr(value, "collect") and hasattr(value, "to_sql"):
        frame = value.limit(limit) if limit is not None else value
        return list(frame.collect())
    if isinstance(value, Mapping):
        return [dict(value)]
    if isinstance(value, list) and all(isinstance(row, Mapping) for row in value):
        rows = [dict(row) for row in value]
        return rows[:limit] if limit is not None else rows
    return None


def _columns(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    return list(names)


def render_table(rows: list[dict[str, Any]]) -> str:
    """Lay rows out as a plain-text table with a header and a row count.

    Example:
        >>> print(render_table([{"id": 1, "name": "Ada"}]))
        id | name
        ---+-----
        1  | Ada
        (1 row)
    """
    columns = _columns(rows)
    cells = [["NULL" if row.get(c) is None else str(row.get(c)) for c in columns] for row in rows]
    widths = [max([len(c)] + [len(line[i]) for line in cells]) for i, c in enumerate(columns)]
    lines = [" | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines.append("-+-".join("-" * w for w in widths))
    lines.extend(" | ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip() for line in cells)
    lines.append(f"({len(rows)} row{'' if len(rows) == 1 else 's'})")
    return "\n".join(lines)


def write_result(value: Any, output: TextIO, fmt: str, limit: int | None = None) -> None:
    r"""Print a query result in one of :data:`FORMATS`.

    Example:
        >>> import io
        >>> out = io.StringIO()
        >>> write_result([{"id": 1}], out, "json")
        >>> out.getvalue()
        '[\\n  {\\n    "id": 1\\n  }\\n]\\n'
    """
    rows = _rows_of(value, limit)
    if fmt == "json":
        output.write(json.dumps(rows if rows is not None else value, indent=2, default=str) + "\n")
    elif rows is None:
        output.write(f"{value}\n")
    elif fmt == "csv":
        writer = csv.DictWriter(output, fieldnames=_columns(rows), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    else:
        output.write(render_table(rows) + "\n")


class Command(BaseCommand):  # type: ignore[misc,unused-ignore]  # Any when django has no stubs
    """Evaluate a moltres DataFrame expression and print its rows."""

    help = (
        "Run a moltres DataFrame expression over db, col, lit and F, e.g. "
        "\"db.table('users').where(col('age') > 25)\", and print the rows."
    )
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        """Declare the command line."""
        parser.add_argument("expression", nargs="?", help="a DataFrame expression")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="the Django database alias")
        parser.add_argument("--format", choices=FORMATS, default="table", help="how to print rows")
        parser.add_argument("--limit", type=int, default=None, help="print at most this many rows")
        parser.add_argument("--interactive", "-i", action="store_true", help="start a query REPL")
        parser.add_argument(
            "--allow-writes",
            action="store_true",
            help="allow methods that change data or files (insert, update, delete, write ...)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Evaluate the expression (or run the REPL) and print the result."""
        expression: str | None = options["expression"]
        if not expression and not options["interactive"]:
            raise CommandError("give an expression, e.g. \"db.table('users').select()\", or --interactive")
        evaluator = RestrictedEvaluator(
            {
                "db": get_moltres_db(using=options["database"]),
                "col": col,
                "lit": lit,
                "F": function_namespace(functions, "F"),
            },
            allow_writes=options["allow_writes"],
        )
        if expression:
            try:
                write_result(evaluator.evaluate(expression), self.stdout, options["format"], options["limit"])
            except MoltresError as exc:
                raise CommandError(str(exc)) from exc
        if options["interactive"]:
            self._repl(evaluator, options.get("stdin") or sys.stdin, options["format"], options["limit"])

    def _repl(self, evaluator: RestrictedEvaluator, stdin: TextIO, fmt: str, limit: int | None) -> None:
        self.stdout.write("moltres query shell: names db, col, lit, F; 'exit' or Ctrl-D to leave")
        while True:
            self.stdout.write(PROMPT, ending="")
            self.stdout.flush()
            line = stdin.readline()
            if not line or line.strip() in {"exit", "quit", "exit()", "quit()"}:
                self.stdout.write("")
                return
            if not line.strip():
                continue
            try:
                name, value = evaluator.run(line)
            except MoltresError as exc:
                self.stderr.write(f"error: {exc}")
                continue
            try:
                if name is None:
                    write_result(value, self.stdout, fmt, limit)
                else:
                    self.stdout.write(f"{name} = {type(value).__name__}")
            except MoltresError as exc:
                self.stderr.write(f"error: {exc}")
