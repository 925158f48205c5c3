"""ETLPipeline on every backend: pushdown, row counts, checks gating the load, atomic loads."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from moltres import col, column, connect
from moltres.integrations.pytest import assert_dataframe_equal
from moltres.io.records import Records
from moltres.pipelines import ETLPipeline, to_table
from moltres.quality import DataQualityCheck as Q
from moltres.quality import QualityReport
from moltres.utils.exceptions import DataQualityError, ExecutionError, ValidationError

SOURCE = [{"id": i, "status": "active" if i % 2 else "gone", "amount": i * 1.5} for i in range(1, 11)]
ACTIVE = [row for row in SOURCE if row["status"] == "active"]


@pytest.fixture
def source(db):
    db.create_table(
        "src", [column("id", "INTEGER", primary_key=True), column("status", "TEXT"), column("amount", "REAL")]
    ).collect()
    db.insert("src", SOURCE)
    return db


def active(df):
    return df.where(col("status") == "active")


def statements_on(db):
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    return seen


def test_same_database_load_is_one_insert_select(source):
    _ = source.table("src").columns
    seen = statements_on(source)
    result = ETLPipeline(extract=lambda: source.table("src"), transform=active, load="tgt").execute()
    assert (result.rows_extracted, result.rows_loaded, result.pushed_down) == (10, 5, True)
    # the rows move once, inside the database: INSERT ... SELECT or CREATE TABLE ... AS SELECT
    writes = [s for s in seen if s.lstrip().upper().startswith(("INSERT", "CREATE TABLE")) and "SELECT" in s.upper()]
    assert len(writes) == 1 and "WHERE" in writes[0].upper(), seen
    assert not [s for s in seen if "FROM src" in s and "count(" not in s.lower() and s not in writes], seen
    assert_dataframe_equal(source.table("tgt"), ACTIVE)


def test_result_has_timings_and_a_dict_form(source):
    result = ETLPipeline(
        extract=source.table("src"), transform=[active, lambda df: df.select("id")], load="ids"
    ).execute()
    assert set(result.timings) == {"extract", "transform", "load", "total"}
    assert all(t >= 0 for t in result.timings.values())
    data = result.to_dict()
    assert (data["status"], data["rows_loaded"], data["quality"]) == ("success", 5, None)
    assert_dataframe_equal(source.table("ids"), [{"id": r["id"]} for r in ACTIVE])


def test_checks_run_before_the_load_and_are_reported(source):
    result = ETLPipeline(
        extract=source.table("src"),
        transform=active,
        load=to_table("tgt", mode="overwrite"),
        checks=[Q.column_not_null("id"), Q.accepted_values("status", ["active"])],
    ).execute()
    assert result.quality is not None and result.quality.passed
    assert "checks" in result.timings


def test_failed_checks_stop_the_load(source):
    pipeline = ETLPipeline(extract=source.table("src"), load="tgt", checks=[Q.accepted_values("status", ["active"])])
    with pytest.raises(DataQualityError, match="accepted_values_status") as info:
        pipeline.execute()
    report = info.value.report
    assert isinstance(report, QualityReport) and report["accepted_values_status"].failed_rows == 5
    assert not source.table_exists("tgt")


def test_warnings_do_not_stop_the_load(source):
    checks = [Q.accepted_values("status", ["active"], severity="warn")]
    result = ETLPipeline(extract=source.table("src"), load="tgt", checks=checks).execute()
    assert result.rows_loaded == 10 and result.quality is not None and result.quality.warnings


def test_validate_false_stops_the_load(source):
    with pytest.raises(ValidationError, match="validate returned False"):
        ETLPipeline(extract=source.table("src"), load="tgt", validate=lambda df: df.count() > 100).execute()
    assert not source.table_exists("tgt")
    result = ETLPipeline(extract=source.table("src"), load="tgt", validate=lambda df: df.count() == 10).execute()
    assert result.rows_loaded == 10


def test_load_function_receives_the_transformed_frame(source):
    result = ETLPipeline(
        extract=source.table("src"), transform=active, load=lambda df: df.write.save_as_table("tgt")
    ).execute()
    assert (result.rows_loaded, result.pushed_down) == (5, None)
    assert source.table("tgt").count() == 5


def test_a_failing_load_function_leaves_the_target_unchanged(source):
    source.create_table("tgt", [column("id", "INTEGER"), column("status", "TEXT"), column("amount", "REAL")]).collect()
    source.insert("tgt", [{"id": 100, "status": "old", "amount": 0.0}])

    def load(df):
        df.write.mode("append").save_as_table("tgt")
        df.write.mode("append").save_as_table("tgt")
        raise RuntimeError("the second step of the load failed")

    with pytest.raises(RuntimeError, match="second step"):
        ETLPipeline(extract=source.table("src"), load=load).execute()
    assert_dataframe_equal(source.table("tgt"), [{"id": 100, "status": "old", "amount": 0.0}])


def test_a_failing_table_load_leaves_the_target_unchanged(source):
    source.create_table(
        "tgt", [column("id", "INTEGER", primary_key=True), column("status", "TEXT"), column("amount", "REAL")]
    ).collect()
    source.insert("tgt", [{"id": 1, "status": "kept", "amount": 0.0}])
    with pytest.raises(ExecutionError):  # id 1 collides with the primary key, after other rows went in
        ETLPipeline(extract=source.table("src").order_by(col("id").desc()), load="tgt").execute()
    assert_dataframe_equal(source.table("tgt"), [{"id": 1, "status": "kept", "amount": 0.0}])


def test_rows_from_python_become_a_frame_on_the_records_database(source):
    records = Records(_data=[{"a": 1}, {"a": 2}], _database=source)
    result = ETLPipeline(extract=records, transform=lambda df: df.where(col("a") > 1), load="tgt").execute()
    assert (result.rows_extracted, result.rows_loaded) == (2, 1)
    assert source.table("tgt").collect() == [{"a": 2}]


def test_rows_without_a_database_are_staged_in_memory_and_copied(source):
    result = ETLPipeline(
        extract=lambda: [{"id": 1, "name": "Ada"}, {"id": 2, "name": "Alan"}],
        load=to_table("people", database=source),
    ).execute()
    assert (result.rows_loaded, result.pushed_down) == (2, False)
    assert_dataframe_equal(source.table("people"), [{"id": 1, "name": "Ada"}, {"id": 2, "name": "Alan"}])


def test_copy_to_another_database_streams_in_one_transaction(source, tmp_path):
    with connect(f"sqlite:///{tmp_path / 'target.sqlite'}") as target:
        result = ETLPipeline(
            extract=source.table("src"), transform=active, load=to_table("copy", database=target, batch_size=2)
        ).execute()
        assert (result.rows_loaded, result.pushed_down) == (5, False)
        assert_dataframe_equal(target.table("copy"), ACTIVE, check_dtypes=False)
        again = ETLPipeline(
            extract=source.table("src"), load=to_table("copy", database=target, mode="overwrite")
        ).execute()
        assert again.rows_loaded == 10 and target.table("copy").count() == 10
        with pytest.raises(ValidationError, match="already exists"):
            ETLPipeline(
                extract=source.table("src"), load=to_table("copy", database=target, mode="error_if_exists")
            ).execute()
        skipped = ETLPipeline(
            extract=source.table("src"), load=to_table("copy", database=target, mode="ignore")
        ).execute()
        assert skipped.rows_loaded == 0


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        ({"extract": lambda: None, "load": None}, "needs load="),
        ({"extract": lambda: None, "load": 42}, "load must be a table name or a callable"),
        ({"extract": lambda: None, "load": "t", "transform": [42]}, "transform steps must be callables"),
        ({"extract": lambda: None, "load": "t", "validate": "yes"}, "validate must be a callable"),
        ({"extract": lambda: None, "load": "t", "checks": [{"type": "nope"}]}, "unknown check type"),
    ],
)
def test_bad_pipelines_are_refused_when_built(arguments, fragment):
    with pytest.raises(ValidationError) as info:
        ETLPipeline(**arguments)
    assert fragment in str(info.value)


def test_to_table_checks_its_arguments():
    with pytest.raises(ValidationError, match="unknown save mode 'sideways'"):
        to_table("t", mode="sideways")
    with pytest.raises(ValidationError, match="batch_size"):
        to_table("t", batch_size=0)


def test_steps_returning_the_wrong_thing_are_named(source):
    with pytest.raises(ValidationError, match="extract gave int"):
        ETLPipeline(extract=lambda: 42, load="t").execute()
    with pytest.raises(ValidationError, match="extract gave no rows"):
        ETLPipeline(extract=lambda: [], load="t").execute()
    with pytest.raises(ValidationError, match="returned list, not a DataFrame"):
        ETLPipeline(extract=source.table("src"), transform=lambda df: df.collect(), load="t").execute()  # type: ignore[arg-type,return-value]  # the wrong type is the point


def test_importable_from_the_airflow_integration_without_airflow():
    from moltres.integrations.airflow import DataQualityCheck
    from moltres.integrations.airflow import ETLPipeline as FromAirflow

    assert FromAirflow is ETLPipeline and DataQualityCheck is Q
