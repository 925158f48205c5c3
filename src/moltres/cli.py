"""The ``moltres`` command line.

``moltres demo`` builds a small shop database in an SQLite file and walks through what a
DataFrame does: joins, grouping, window functions, updates, deletes and an overwrite, each
printed with the SQL it ran and its result.

The parser is :mod:`argparse` so that the command starts as fast as ``import moltres``;
each subcommand is a function registered in :data:`COMMANDS`.

Example:
    >>> main(["--version"])  # doctest: +SKIP
    moltres 0.1.0
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from moltres.database import Database
    from moltres.dataframe.dataframe import DataFrame

__all__ = ["COMMANDS", "DemoData", "build_parser", "demo_data", "main", "run_demo"]

Rows = list[dict[str, Any]]

COUNTRIES = ("France", "Germany", "Japan", "Brazil", "Canada")
FIRST_NAMES = (
    "Ada", "Alan", "Grace", "Linus", "Barbara", "Donald", "Edsger", "Frances", "Guido", "Hedy",
    "Ivan", "Joan", "Ken", "Lynn", "Margaret", "Niklaus", "Radia", "Sophie", "Tim", "Yukihiro",
)  # fmt: skip
LAST_NAMES = (
    "Lovelace", "Turing", "Hopper", "Torvalds", "Liskov", "Knuth", "Dijkstra", "Allen",
    "Rossum", "Lamarr", "Sutherland", "Clarke", "Thompson", "Conway", "Hamilton", "Wirth",
)  # fmt: skip
PRODUCTS = (
    ("Espresso beans 1kg", "coffee", 24.90),
    ("Decaf beans 500g", "coffee", 13.50),
    ("Pour-over kettle", "equipment", 59.00),
    ("Burr grinder", "equipment", 149.00),
    ("Paper filters x100", "supplies", 4.90),
    ("Ceramic mug", "tableware", 12.00),
    ("Glass carafe", "tableware", 27.50),
    ("Green tea 100g", "tea", 9.80),
    ("Earl grey 250g", "tea", 11.20),
    ("Milk frother", "equipment", 34.00),
    ("Descaler", "supplies", 7.40),
    ("Travel tumbler", "tableware", 21.00),
)
STATUSES = ("delivered", "delivered", "delivered", "shipped", "pending", "cancelled")


class DemoData:
    """The demo's rows: customers, products, orders and order lines, all from one seed."""

    def __init__(self, customers: Rows, products: Rows, orders: Rows, order_lines: Rows) -> None:
        self.customers = customers
        self.products = products
        self.orders = orders
        self.order_lines = order_lines

    def tables(self) -> dict[str, Rows]:
        """Table name to rows, in an order that respects foreign keys."""
        return {
            "customers": self.customers,
            "products": self.products,
            "orders": self.orders,
            "order_lines": self.order_lines,
        }


def demo_data(seed: int = 7, *, customers: int = 40, orders: int = 180) -> DemoData:
    """Generate the demo's rows; the same seed always gives the same rows.

    Example:
        >>> data = demo_data(seed=1)
        >>> len(data.customers), len(data.products), len(data.orders)
        (40, 12, 180)
        >>> demo_data(seed=1).order_lines == data.order_lines
        True
    """
    rng = random.Random(seed)
    people = [
        {
            "id": i,
            "name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            "country": rng.choice(COUNTRIES),
            "signed_up": dt.date(2023, 1, 1) + dt.timedelta(days=rng.randrange(365)),
        }
        for i in range(1, customers + 1)
    ]
    catalog = [
        {"id": i, "name": name, "category": category, "price": price}
        for i, (name, category, price) in enumerate(PRODUCTS, start=1)
    ]
    order_rows: Rows = []
    line_rows: Rows = []
    for order_id in range(1, orders + 1):
        buyer = rng.choice(people)
        signed_up = buyer["signed_up"]
        assert isinstance(signed_up, dt.date)
        placed = signed_up + dt.timedelta(days=rng.randrange(1, 300))
        order_rows.append(
            {"id": order_id, "customer_id": buyer["id"], "placed_on": placed, "status": rng.choice(STATUSES)}
        )
        for product in rng.sample(catalog, rng.randint(1, 4)):
            line_rows.append(
                {
                    "id": len(line_rows) + 1,
                    "order_id": order_id,
                    "product_id": product["id"],
                    "quantity": rng.randint(1, 5),
                    "unit_price": product["price"],
                }
            )
    return DemoData(people, catalog, order_rows, line_rows)


# ------------------------------------------------------------------------------------ output


class _Printer:
    """Print titles, SQL and tables: with rich when it is installed, plain text otherwise."""

    def __init__(self, out: TextIO, *, plain: bool) -> None:
        self.out = out
        self.console: Any = None
        if not plain:
            try:
                from rich.console import Console
            except ImportError:
                pass
            else:
                self.console = Console(file=out, highlight=False)

    def title(self, number: int, text: str) -> None:
        heading = f"{number}. {text}"
        if self.console is not None:
            self.console.print(f"\n[bold cyan]{heading}[/]", soft_wrap=True)
        else:
            self.out.write(f"\n== {heading} ==\n")

    def note(self, text: str) -> None:
        if self.console is not None:
            self.console.print(text, markup=False, soft_wrap=True)
        else:
            self.out.write(text + "\n")

    def sql(self, text: str) -> None:
        if self.console is not None and self.console.is_terminal:
            from rich.syntax import Syntax

            self.console.print(Syntax(text.strip(), "sql", theme="ansi_dark", word_wrap=True))
        elif self.console is not None:  # piped: keep each SQL line whole, for copy and paste
            self.console.print(text.strip(), markup=False, soft_wrap=True)
        else:
            self.out.write(text.strip() + "\n")

    def table(self, columns: Sequence[str], rows: Rows) -> None:
        if self.console is not None:
            from rich.table import Table

            table = Table(*columns, show_lines=False)
            for row in rows:
                table.add_row(*[_cell(row.get(c)) for c in columns])
            self.console.print(table)
        else:
            from moltres.dataframe.dataframe import render_table

            cells = [{c: _cell(row.get(c)) for c in columns} for row in rows]
            self.out.write(render_table(list(columns), cells) + "\n")
        self.out.write(f"({len(rows)} row{'s' if len(rows) != 1 else ''})\n")


def _cell(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


class _StatementLog:
    """Record the data-changing SQL an engine runs, to show what update/delete/overwrite did."""

    _SKIP = ("PRAGMA", "BEGIN", "COMMIT", "SAVEPOINT", "RELEASE", "ROLLBACK")

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.statements: list[str] = []

    def _record(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        text = " ".join(statement.split())
        if not text.upper().startswith(self._SKIP) and "sqlite_master" not in text:
            self.statements.append(statement.strip())

    def __enter__(self) -> _StatementLog:
        import sqlalchemy as sa

        sa.event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc: object) -> None:
        import sqlalchemy as sa

        sa.event.remove(self.engine, "before_cursor_execute", self._record)


# ------------------------------------------------------------------------------------ demo


def _rows(count: int, verb: str) -> str:
    return f"{count} row{'s' if count != 1 else ''} {verb}"


def _create_schema(db: Database) -> None:
    from moltres.table.schema import column

    db.create_table(
        "customers",
        [
            column("id", "INTEGER", primary_key=True),
            column("name", "TEXT", nullable=False),
            column("country", "TEXT", nullable=False),
            column("signed_up", "DATE"),
        ],
    ).collect()
    db.create_table(
        "products",
        [
            column("id", "INTEGER", primary_key=True),
            column("name", "TEXT", nullable=False),
            column("category", "TEXT", nullable=False),
            column("price", "REAL", nullable=False),
        ],
    ).collect()
    db.create_table(
        "orders",
        [
            column("id", "INTEGER", primary_key=True),
            column("customer_id", "INTEGER", nullable=False, foreign_key="customers.id"),
            column("placed_on", "DATE", nullable=False),
            column("status", "TEXT", nullable=False),
        ],
    ).collect()
    db.create_table(
        "order_lines",
        [
            column("id", "INTEGER", primary_key=True),
            column("order_id", "INTEGER", nullable=False, foreign_key="orders.id"),
            column("product_id", "INTEGER", nullable=False, foreign_key="products.id"),
            column("quantity", "INTEGER", nullable=False),
            column("unit_price", "REAL", nullable=False),
        ],
    ).collect()


def _queries(db: Database) -> list[tuple[str, DataFrame]]:
    """The read-only queries of the tour, each with its title."""
    from moltres import col
    from moltres.expressions import functions as F
    from moltres.expressions.window import Window

    customers = db.table("customers")
    products = db.table("products")
    orders = db.table("orders")
    lines = db.table("order_lines").with_column("amount", col("quantity") * col("unit_price"))

    top_products = (
        lines.join(products, on=[("product_id", "id")])
        .group_by("name", "category")
        .agg(F.sum("quantity").alias("units"), F.round(F.sum("amount"), 2).alias("revenue"))
        .order_by(col("revenue").desc())
        .limit(5)
    )
    per_country = (
        customers.join(orders.where(col("status") != "cancelled"), on=[("id", "customer_id")])
        .join(lines, on=[("id", "order_id")])
        .group_by("country")
        .agg(
            F.count_distinct("order_id").alias("orders"),
            F.round(F.sum("amount"), 2).alias("revenue"),
        )
        .with_column("per_order", F.round(col("revenue") / col("orders"), 2))
        .order_by(col("revenue").desc())
    )
    spend = (
        orders.join(lines, on=[("id", "order_id")])
        .group_by("customer_id")
        .agg(F.round(F.sum("amount"), 2).alias("spend"))
    )
    ranked = (
        customers.join(spend, on=[("id", "customer_id")])
        .with_column("rank_in_country", F.rank().over(Window.partition_by("country").order_by(col("spend").desc())))
        .where(col("rank_in_country") <= 2)
        .select("country", "rank_in_country", "name", "spend")
        .order_by("country", "rank_in_country")
    )
    status_counts = orders.group_by("status").agg(F.count("*").alias("orders")).order_by("status")
    return [
        ("Best-selling products (join + group by + order by + limit)", top_products),
        ("Revenue per country, cancelled orders left out (two joins + aggregates)", per_country),
        ("Top two customers by spend in each country (window function: rank)", ranked),
        ("Orders per status", status_counts),
    ]


def run_demo(
    path: str | Path = "moltres_demo.db", *, seed: int = 7, plain: bool = False, out: TextIO | None = None
) -> int:
    """Build the demo database at `path` (replacing any old one) and print the tour.

    Args:
        path: The SQLite file to create.
        seed: Seed of the generated rows; the same seed prints the same results.
        plain: Print plain-text tables even when rich is installed.
        out: Where to print (standard output by default).

    Returns:
        The process exit code, 0 on success.

    Example:
        >>> import io, tempfile, os
        >>> buffer = io.StringIO()
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     run_demo(os.path.join(tmp, "demo.db"), plain=True, out=buffer)
        0
        >>> "Top two customers by spend" in buffer.getvalue()
        True
    """
    from moltres import col, connect

    stream = out if out is not None else sys.stdout
    printer = _Printer(stream, plain=plain)
    target = Path(path)
    target.unlink(missing_ok=True)
    data = demo_data(seed)
    with connect(f"sqlite:///{target}") as db:
        _create_schema(db)
        for name, rows in data.tables().items():
            db.insert(name, rows)
        printer.note(
            f"moltres demo: {target} with " + ", ".join(f"{len(rows)} {name}" for name, rows in data.tables().items())
        )
        step = 0

        def show(title: str, df: DataFrame) -> None:
            nonlocal step
            step += 1
            printer.title(step, title)
            printer.sql(df.to_sql())
            printer.table(df.columns, df.collect())

        for title, df in _queries(db):
            show(title, df)

        def change(title: str, action: Callable[[], str]) -> None:
            nonlocal step
            step += 1
            printer.title(step, title)
            with _StatementLog(db.engine) as log:
                outcome = action()
            for statement in log.statements:
                printer.sql(statement)
            printer.note(f"-> {outcome}")

        cutoff = dt.date(2023, 9, 1)
        change(
            f"Cancel the orders still pending since before {cutoff} (db.update)",
            lambda: _rows(
                db.update(
                    "orders",
                    where=(col("status") == "pending") & (col("placed_on") < cutoff),
                    set={"status": "cancelled"},
                ),
                "updated",
            ),
        )

        def remove_cancelled() -> str:
            cancelled = db.table("orders").where(col("status") == "cancelled").select("id").collect()
            with db.transaction():
                ids = [row["id"] for row in cancelled]
                lines = db.delete("order_lines", where=col("order_id").isin(ids))
                orders = db.delete("orders", where=col("status") == "cancelled")
            return f"{_rows(lines, 'deleted from order_lines')}, {_rows(orders, 'deleted from orders')}"

        change(
            "Remove cancelled orders and their lines, in one transaction (db.transaction + db.delete)",
            remove_cancelled,
        )
        show("Orders per status, after the update", _queries(db)[3][1])

        from moltres.expressions import functions as F

        summary = (
            db.table("order_lines")
            .join(db.table("products"), on=[("product_id", "id")])
            .group_by("category")
            .agg(
                F.sum("quantity").alias("units"),
                F.round(F.sum(col("quantity") * col("unit_price")), 2).alias("revenue"),
            )
        )
        summary.write.mode("overwrite").save_as_table("category_sales")
        change(
            "Rebuild the category_sales table in the database (write.mode('overwrite').save_as_table)",
            lambda: _rows(summary.write.mode("overwrite").save_as_table("category_sales"), "written"),
        )
        show("category_sales, read back", db.table("category_sales").order_by(col("revenue").desc()))
    printer.note(
        f"\nDone. Explore it yourself: python -c \"import moltres; db = moltres.connect('sqlite:///{target}')\""
    )
    return 0


# ------------------------------------------------------------------------------------ parser


def _demo_command(args: argparse.Namespace) -> int:
    return run_demo(args.path, seed=args.seed, plain=args.plain)


def _add_demo(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="build a small shop database in SQLite and run a tour of DataFrame queries",
        description="Create a demo SQLite database (replaced on each run) and print each query's SQL and result.",
    )
    parser.add_argument("--path", default="moltres_demo.db", help="SQLite file to create (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the generated data (default: %(default)s)")
    parser.add_argument("--plain", action="store_true", help="plain-text tables even when rich is installed")
    parser.set_defaults(handler=_demo_command)


#: Subcommand name to the function that adds its parser; later commands register here.
COMMANDS: dict[str, Callable[[Any], None]] = {"demo": _add_demo}


def build_parser() -> argparse.ArgumentParser:
    """The ``moltres`` argument parser with every registered subcommand.

    Example:
        >>> build_parser().parse_args(["demo", "--seed", "3"]).seed
        3
    """
    from moltres import __version__

    parser = argparse.ArgumentParser(prog="moltres", description="moltres: DataFrames that run in your database.")
    parser.add_argument("--version", action="version", version=f"moltres {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for add in COMMANDS.values():
        add(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``moltres`` command; return its exit code.

    Example:
        >>> main(["demo", "--help"])  # doctest: +SKIP
    """
    from moltres.utils.exceptions import MoltresError

    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return int(handler(args))
    except MoltresError as exc:
        print(f"moltres: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
