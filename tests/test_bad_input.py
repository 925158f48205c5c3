"""Bad input on every backend: unknown tables and columns (with suggestions), wrong types, and
hostile strings as values and as identifiers. Errors are clear; the database is unchanged."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from moltres import col, lit
from moltres.expressions import functions as F
from moltres.table.schema import column
from moltres.utils.exceptions import (
    ColumnNotFoundError,
    MoltresError,
    TableNotFoundError,
    ValidationError,
)

if TYPE_CHECKING:
    from moltres import Database
    from tests._backends import Backend

USERS = [{"id": 1, "name": "Ada", "email": "ada@x"}, {"id": 2, "name": "Alan", "email": "alan@x"}]

HOSTILE = [
    "users; DROP TABLE users",
    "x'; DROP TABLE users; --",
    'x"; DROP TABLE users; --',
    "x`; DROP TABLE users; --",
    "back\\slash \\' \\\" \\\\",
    "100% _wild_ [card]",
    "unicode ünï 中文 🦀 \u200b",
    "new\nline\ttab",
    "$1 :name %s %(x)s ? {}",
    "' OR '1'='1",
    "",
]


def create_users(db: Database) -> Database:
    db.create_table(
        "users",
        [column("id", "INTEGER", primary_key=True), column("name", "VARCHAR(100)"), column("email", "VARCHAR(100)")],
    ).collect()
    db.insert("users", USERS)
    return db


@pytest.fixture
def users(db: Database) -> Database:
    """A fresh database per test, for tests that write."""
    return create_users(db)


@pytest.fixture(scope="module")
def shared(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """One database per module and backend, for tests that must not change anything."""
    from moltres import connect

    with backend.fresh(tmp_path_factory.mktemp(backend.name)) as url, connect(url) as db:
        yield create_users(db)


def unchanged(db: Database) -> None:
    assert db.tables() == ["users"]
    assert db.table("users").order_by("id").collect() == USERS


# ------------------------------------------------------------------------------------ unknown names


def test_unknown_table(shared: Database) -> None:
    with pytest.raises(TableNotFoundError) as info:
        shared.table("usres").collect()
    assert "usres" in str(info.value)
    assert info.value.suggestion == "did you mean 'users'?"
    with pytest.raises(TableNotFoundError) as info:
        shared.table("completely_different").count()
    assert info.value.suggestion
    with pytest.raises(TableNotFoundError):
        shared.update("usres", where=col("id") == 1, set={"name": "x"})
    with pytest.raises(TableNotFoundError):
        shared.delete("usres")
    with pytest.raises(TableNotFoundError):
        shared.schema("usres")
    unchanged(shared)


def test_unknown_table_in_raw_sql(shared: Database) -> None:
    with pytest.raises(TableNotFoundError):
        shared.sql("SELECT * FROM usres").collect()
    with pytest.raises(TableNotFoundError):
        shared.execute("DELETE FROM usres")
    unchanged(shared)


@pytest.mark.parametrize(
    "build",
    [
        lambda t: t.select("nmae"),
        lambda t: t.where(col("nmae") == "Ada"),
        lambda t: t.where("nmae = 'Ada'"),
        lambda t: t.order_by("nmae"),
        lambda t: t.group_by("nmae").count(),
        lambda t: t.with_column("x", col("nmae") + 1),
        lambda t: t.drop("nmae"),
        lambda t: t.with_column_renamed("nmae", "x"),
        lambda t: t.select(F.upper("nmae")),
        lambda t: t.alias("u").select(col("u.nmae")),
        lambda t: t.drop_duplicates(["nmae"]),
    ],
    ids=[
        "select",
        "where",
        "where-string",
        "order_by",
        "group_by",
        "with_column",
        "drop",
        "rename",
        "function",
        "qualified",
        "drop_duplicates",
    ],
)
def test_unknown_column_suggests_the_closest(shared: Database, build: Callable[[Any], Any]) -> None:
    with pytest.raises(ColumnNotFoundError) as info:
        build(shared.table("users")).collect()
    error = info.value
    assert "nmae" in str(error)
    assert error.suggestion == "did you mean 'name'?"
    for known in ("id", "name", "email"):
        assert known in str(error)
    unchanged(shared)


def test_unknown_column_in_writes(shared: Database) -> None:
    with pytest.raises(ColumnNotFoundError, match="name"):
        shared.insert("users", [{"id": 3, "nmae": "x"}])
    with pytest.raises(ColumnNotFoundError):
        shared.update("users", where=col("id") == 1, set={"emial": "x"})
    with pytest.raises(ColumnNotFoundError):
        shared.delete("users", where=col("idd") == 1)
    with pytest.raises(ColumnNotFoundError):
        shared.merge("users", [{"id": 1, "name": "x"}], on="idd")
    unchanged(shared)


def test_unqualified_name_on_the_wrong_alias(shared: Database) -> None:
    with pytest.raises(ValidationError, match="names no input"):
        shared.table("users").alias("u").select(col("v.name")).collect()


# ------------------------------------------------------------------------------------ wrong types


@pytest.mark.parametrize(
    "call",
    [
        lambda db: db.table(123),
        lambda db: db.table("users").where(123),
        lambda db: db.table("users").select(3.5),
        lambda db: db.table("users").limit("5"),
        lambda db: db.table("users").offset(-1),
        lambda db: db.table("users").sample(2),
        lambda db: db.table("users").join(db.table("users"), on=123),
        lambda db: db.table("users").join(db.table("users"), on="id", how=1),
        lambda db: db.table("users").union("users"),
        lambda db: db.table("users").drop(1),
        lambda db: db.table("users").select_expr(1),
        lambda db: db.table("users").group_by("id").agg(1),
        lambda db: db.table("users").with_column("x", object()),
        lambda db: db.insert("users", "rows"),
        lambda db: db.insert("users", [1, 2]),
        lambda db: db.update("users", where=col("id") == 1, set=[("name", "x")]),
        lambda db: db.update("users", where=5, set={"name": "x"}),
        lambda db: db.sql(""),
        lambda db: db.sql(123),
        lambda db: db.create_dataframe("abc"),
        lambda db: db.create_dataframe([]),
        lambda db: col(None),  # type: ignore[arg-type]
        lambda db: lit({"a": 1}),
        lambda db: col("id").isin([object()]),
        lambda db: col("id").cast(5),  # type: ignore[arg-type]
        lambda db: F.round("id", "2"),  # type: ignore[arg-type]
        lambda db: db.table("users").write.mode("sometimes"),
        lambda db: db.table("users").collect(stream=True, batch_size=0),
    ],
)
def test_wrong_types_are_validation_errors(shared: Database, call: Callable[[Database], Any]) -> None:
    with pytest.raises(ValidationError) as info:
        result = call(shared)
        if hasattr(result, "collect"):
            result.collect()
        elif hasattr(result, "__next__"):
            next(result)
    assert str(info.value)
    unchanged(shared)


def test_wrong_value_type_for_a_column_is_a_database_error(shared: Database) -> None:
    from moltres.utils.exceptions import ExecutionError

    if shared.dialect_name == "sqlite":
        pytest.skip("SQLite stores any value in any column")
    with pytest.raises(ExecutionError):
        shared.insert("users", [{"id": "not a number", "name": "x"}])
    unchanged(shared)


# ------------------------------------------------------------------------------------ hostile values


def test_hostile_values_are_data(users: Database) -> None:
    for i, value in enumerate(HOSTILE):
        key = 10 + i
        assert users.insert("users", [{"id": key, "name": value, "email": value}]) == 1
        assert users.table("users").where(col("name") == value).select("id").collect() == [{"id": key}]
        assert users.table("users").where(col("id") == key).first() == {"id": key, "name": value, "email": value}
        if value:
            assert users.table("users").where(col("name").contains(value)).select("id").collect() == [{"id": key}]
            assert users.table("users").where(col("name").startswith(value)).select("id").collect() == [{"id": key}]
        assert users.sql("SELECT id FROM users WHERE name = :v", v=value).collect() == [{"id": key}]
        assert users.table("users").select(lit(value).alias("v")).where(col("id") == key).first() == {"v": value}
        assert users.update("users", where=col("name") == value, set={"email": value + "!"}) == 1
        assert users.delete("users", where=col("email") == value + "!") == 1
    unchanged(users)


def test_hostile_values_in_merge_and_create_dataframe(users: Database) -> None:
    for value in HOSTILE:
        users.merge("users", [{"id": 1, "name": value, "email": "ada@x"}], on="id")
        assert users.table("users").where(col("id") == 1).first() == {"id": 1, "name": value, "email": "ada@x"}
        users.merge("users", [USERS[0]], on="id")
        assert users.create_dataframe([{"k": value}]).collect() == [{"k": value}]
    unchanged(users)


def test_hostile_strings_in_expression_text_are_refused_or_literal(shared: Database) -> None:
    with pytest.raises(ValidationError):
        shared.table("users").where("name = 'x'; DROP TABLE users; --").collect()
    with pytest.raises(ValidationError):
        shared.table("users").select_expr("1; DROP TABLE users").collect()
    with pytest.raises(ValidationError):
        shared.update("users", where="1 = 1; DROP TABLE users", set={"name": "x"})
    # a quote inside a string literal is data
    assert shared.table("users").where("name = 'x''; DROP TABLE users; --'").count() == 0
    unchanged(shared)


# ------------------------------------------------------------------------------------ hostile identifiers


def identifiers(db: Database) -> list[str]:
    names = [n for n in HOSTILE if n.strip()]
    if db.dialect_name == "mysql":
        # MariaDB/MySQL identifiers cannot hold characters beyond the BMP; SQLAlchemy's MySQL
        # reflection misreads a backtick or a line break inside a name (SHOW CREATE TABLE parsing)
        names = [n for n in names if all(ord(ch) <= 0xFFFF for ch in n) and "`" not in n and "\n" not in n]
    return names


def test_hostile_table_names_are_quoted(users: Database) -> None:
    for name in identifiers(users):
        check_table_name(users, name)
    unchanged(users)


def check_table_name(users: Database, name: str) -> None:
    with pytest.raises(TableNotFoundError):
        users.table(name).collect()
    assert users.drop_table(name).collect() is False
    assert users.create_table(name, [column("a", "INTEGER")]).collect() is True
    assert users.insert(name, [{"a": 1}]) == 1
    assert users.table(name).collect() == [{"a": 1}]
    assert users.table_exists(name)
    assert name in users.tables()
    assert users.table(name).write.mode("overwrite").save_as_table(name) == 1
    assert users.table(name).collect() == [{"a": 1}]
    assert users.drop_table(name).collect() is True


def test_hostile_column_names_are_quoted(users: Database) -> None:
    for name in identifiers(users):
        check_column_name(users, name)
    unchanged(users)


def check_column_name(users: Database, name: str) -> None:
    with pytest.raises(ColumnNotFoundError):
        users.table("users").select(name).collect()
    df = users.table("users").with_column(name, lit(1)).select("id", name).order_by("id")
    assert df.columns == ["id", name]
    assert df.collect() == [{"id": 1, name: 1}, {"id": 2, name: 1}]
    renamed = users.table("users").with_column_renamed("name", name).where(col(name) == "Ada").select(name)
    assert renamed.collect() == [{name: "Ada"}]
    assert users.table("users").select(col("name").alias(name)).order_by(name).first() == {name: "Ada"}
    users.create_table("other", [column("id", "INTEGER"), column(name, "VARCHAR(20)")]).collect()
    users.insert("other", [{"id": 1, name: "v"}])
    assert users.update("other", where=col(name) == "v", set={name: "w"}) == 1
    assert users.table("other").collect() == [{"id": 1, name: "w"}]
    users.drop_table("other").collect()


def test_hostile_alias_and_cte_names(shared: Database) -> None:
    name = 'u"; DROP TABLE users; --'
    assert shared.table("users").alias(name).where(col("id") == 1).select("name").collect() == [{"name": "Ada"}]
    assert shared.table("users").cte(name).where(col("id") == 2).select("name").collect() == [{"name": "Alan"}]
    unchanged(shared)


@pytest.mark.parametrize("name", ["", "a\x00b", "x" * 64])
def test_invalid_identifiers_are_refused_before_reaching_the_database(shared: Database, name: str) -> None:
    with pytest.raises(ValidationError):
        shared.table(name)
    with pytest.raises(ValidationError):
        shared.create_table(name, [column("a", "INTEGER")]).collect()
    with pytest.raises(ValidationError):
        column(name, "INTEGER")
    with pytest.raises((ValidationError, MoltresError)):
        shared.table("users").with_column(name, lit(1)).collect()
    unchanged(shared)
