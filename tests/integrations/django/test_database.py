"""get_moltres_db runs on Django's own connection: same transaction, same query log."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connections, transaction

from moltres import col
from moltres.integrations.django import get_moltres_db
from moltres.integrations.django.database import django_engine
from moltres.utils.exceptions import ExecutionError, ValidationError
from tests.integrations.django.testapp.models import Person

pytestmark = pytest.mark.django_db(databases=["default", "replica", "pg"])


def names(alias: str) -> list[str]:
    return list(Person.objects.using(alias).order_by("name").values_list("name", flat=True))


def test_seed_view_shape(alias, people):
    db = get_moltres_db(using=alias)
    df = db.table("people").select("name")
    assert sorted(row["name"] for row in df.collect()) == ["Ada", "Grace", "Linus"]


def test_orm_rows_of_the_open_test_transaction_are_visible(alias, people):
    # The test runs inside Django's test transaction; a second engine would see no rows.
    assert connections[alias].in_atomic_block
    rows = get_moltres_db(using=alias).table("people").where(col("age") > 25).order_by("name").collect()
    assert [r["name"] for r in rows] == ["Ada", "Grace"]


def test_moltres_writes_are_visible_to_the_orm(alias, people):
    db = get_moltres_db(using=alias)
    assert db.insert("people", [{"name": "Edsger", "age": 72}]) == 1
    assert db.update("people", where=col("name") == "Ada", set={"age": 37}) == 1
    assert Person.objects.using(alias).get(name="Ada").age == 37
    assert "Edsger" in names(alias)


def test_atomic_rollback_undoes_moltres_writes(alias, people):
    db = get_moltres_db(using=alias)
    with pytest.raises(RuntimeError, match="undo"), transaction.atomic(using=alias):
        db.insert("people", [{"name": "Temp", "age": 1}])
        db.delete("people", where=col("name") == "Ada")
        assert "Temp" in names(alias)
        raise RuntimeError("undo")
    assert names(alias) == ["Ada", "Grace", "Linus"]


def test_a_failed_moltres_write_rolls_back_only_itself(alias, people):
    db = get_moltres_db(using=alias)
    ada = people[0]
    with transaction.atomic(using=alias):
        Person.objects.using(alias).create(name="Kept", age=50)
        with pytest.raises(ExecutionError):
            # The second row repeats a primary key: the whole insert must fail.
            db.insert("people", [{"id": 9000, "name": "A", "age": 1}, {"id": ada.pk, "name": "B", "age": 2}])
        # The transaction is still usable (on PostgreSQL it is, thanks to the savepoint).
        assert "Kept" in names(alias)
    assert "A" not in names(alias)
    assert "Kept" in names(alias)


def test_queries_appear_in_djangos_query_log(alias, people, django_assert_num_queries):
    db = get_moltres_db(using=alias)
    df = db.table("people").where(col("age") > 25)
    df.collect()  # warm up: reflection of the table and the dialect's first-connect queries
    with django_assert_num_queries(1, using=alias) as captured:
        assert len(df.collect()) == 2
    assert "people" in captured.captured_queries[0]["sql"]


def test_writes_run_in_a_savepoint_that_is_logged_too(alias, people, django_assert_num_queries):
    db = get_moltres_db(using=alias)
    db.table("people").collect()
    with django_assert_num_queries(3, using=alias) as captured:  # SAVEPOINT, INSERT, RELEASE
        db.insert("people", [{"name": "Edsger", "age": 72}])
    statements = [q["sql"].split()[0].upper() for q in captured.captured_queries]
    assert statements == ["SAVEPOINT", "INSERT", "RELEASE"]


def test_execute_wrappers_see_moltres_statements(alias, people):
    seen: list[str] = []

    def spy(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    db = get_moltres_db(using=alias)
    with connections[alias].execute_wrapper(spy):
        db.table("people").where(col("name") == "Ada").collect()
    assert any("people" in sql for sql in seen)


def test_string_values_with_percent_signs_round_trip(alias, people):
    db = get_moltres_db(using=alias)
    db.insert("people", [{"name": "100% 'quoted' %s", "age": 5}])
    rows = db.table("people").where(col("name").like("100%")).collect()
    assert [r["name"] for r in rows] == ["100% 'quoted' %s"]


def test_the_connection_stays_open_and_owned_by_django(alias, people):
    db = get_moltres_db(using=alias)
    raw = connections[alias].connection
    db.table("people").collect()
    db.insert("people", [{"name": "X", "age": 1}])
    assert connections[alias].connection is raw
    assert connections[alias].is_usable()


def test_each_thread_uses_its_own_django_connection(people_default):
    db = get_moltres_db(using="default")
    main = connections["default"]
    used: list[object] = []

    def work() -> None:
        try:
            with django_engine("default").connect() as conn:
                proxy: Any = conn.connection.dbapi_connection
                used.append(proxy._wrapper)  # the thread's Django connection
        finally:
            connections.close_all()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert used and used[0] is not main
    assert db.table("people").count() == 3


@pytest.mark.django_db(transaction=True, databases=["default", "pg"])
def test_outside_atomic_a_failed_batch_leaves_nothing(alias):
    """In autocommit mode a moltres batch still runs in its own transaction."""
    db = get_moltres_db(using=alias)
    assert not connections[alias].in_atomic_block
    db.insert("people", [{"id": 1, "name": "Ada", "age": 36}])
    with pytest.raises(ExecutionError):
        db.insert("people", [{"id": 2, "name": "B", "age": 1}, {"id": 1, "name": "C", "age": 2}])
    assert names(alias) == ["Ada"]
    assert not connections[alias].in_atomic_block


class ReplicaRouter:
    """Reads of Person go to the replica, writes to the default database."""

    def db_for_read(self, model, **hints):
        return "replica" if model is Person else None

    def db_for_write(self, model, **hints):
        return "default" if model is Person else None


def test_model_asks_the_routers(settings):
    Person.objects.using("default").create(name="Primary", age=1)
    Person.objects.using("replica").create(name="Replica", age=2)
    settings.DATABASE_ROUTERS = [f"{__name__}.ReplicaRouter"]
    read = get_moltres_db(model=Person).table("people").select("name").collect()
    written = get_moltres_db(model=Person, write=True).table("people").select("name").collect()
    assert read == [{"name": "Replica"}]
    assert written == [{"name": "Primary"}]


def test_bad_arguments_are_explained():
    with pytest.raises(ValidationError, match="not both"):
        get_moltres_db(using="default", model=Person)
    with pytest.raises(ValidationError, match="unknown Django database alias 'nope'") as info:
        get_moltres_db(using="nope")
    assert "default" in (info.value.suggestion or "")


def test_moltres_sql_functions_work_on_djangos_connection(alias, people):
    # SQLite has no REGEXP of its own: moltres registers it on every connection it prepares.
    rows = get_moltres_db(using=alias).table("people").where(col("name").rlike("^[AG]")).select("name").collect()
    assert sorted(r["name"] for r in rows) == ["Ada", "Grace"]
