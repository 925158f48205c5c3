"""What the operators check when a DAG file is parsed, and the import and provider contracts."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest

from moltres.utils.exceptions import ValidationError

pytest.importorskip("airflow.sdk")

from airflow.sdk import DAG

from moltres.integrations.airflow import (
    MoltresDataQualityOperator,
    MoltresQueryOperator,
    MoltresStagingCleanupOperator,
    MoltresToTableOperator,
)

START = dt.datetime(2024, 1, 1)
DSN = "postgresql://etl:s3cret-pw@db.example.com/warehouse"


def query(db):
    return db.table("users").select()


@pytest.mark.parametrize(
    ("kwargs", "found"),
    [({}, "got none"), ({"dsn": DSN, "conn_id": "warehouse"}, "got conn_id and dsn")],
)
@pytest.mark.parametrize(
    "make",
    [
        lambda **kw: MoltresQueryOperator(task_id="q", query=query, **kw),
        lambda **kw: MoltresToTableOperator(task_id="w", table_name="t", **kw),
        lambda **kw: MoltresDataQualityOperator(task_id="c", query=query, checks=[{"type": "row_count"}], **kw),
        lambda **kw: MoltresStagingCleanupOperator(task_id="d", **kw),
    ],
    ids=["query", "to_table", "quality", "cleanup"],
)
def test_exactly_one_connection_is_checked_at_parse_time(make, kwargs, found):
    with DAG("parse_check", schedule=None, start_date=START), pytest.raises(ValidationError, match=found) as error:
        make(**kwargs)
    assert "conn_id" in error.value.suggestion


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: MoltresQueryOperator(task_id="q", dsn=DSN, query="SELECT 1"), "query must be a callable"),
        (lambda: MoltresQueryOperator(task_id="q", dsn=DSN, query=query, output="file"), "unknown output"),
        (lambda: MoltresToTableOperator(task_id="w", dsn=DSN, table_name="t", mode="apend"), "unknown save mode"),
        (
            lambda: MoltresToTableOperator(task_id="w", dsn=DSN, table_name="t", mode="append", if_exists="overwrite"),
            "disagree",
        ),
        (lambda: MoltresToTableOperator(task_id="w", dsn=DSN, table_name=""), "needs a table_name"),
        (lambda: MoltresDataQualityOperator(task_id="c", dsn=DSN, query=query, checks=[]), "has no checks"),
        (lambda: MoltresDataQualityOperator(task_id="c", dsn=DSN, query=None, checks=[{}]), "must be a callable"),
    ],
)
def test_bad_arguments_fail_at_parse_time(make, message):
    with DAG("parse_check", schedule=None, start_date=START), pytest.raises(ValidationError, match=message):
        make()


def test_if_exists_is_an_alias_of_mode_and_fields_are_templated():
    with DAG("parse_check", schedule=None, start_date=START):
        write = MoltresToTableOperator(task_id="w", dsn=DSN, table_name="t", if_exists="overwrite")
        stage = MoltresQueryOperator(task_id="q", dsn=DSN, query=query, output="table")
    assert write.mode == "overwrite"
    assert {"conn_id", "dsn", "table_name"} <= set(write.template_fields)
    assert {"conn_id", "dsn", "stage_table"} <= set(stage.template_fields)
    assert stage.output.key == "q"  # output_key defaults to the task id, and .output follows it


def test_dsn_password_is_registered_with_the_secrets_masker():
    from airflow.sdk.log import _secrets_masker  # type: ignore[attr-defined]

    with DAG("parse_check", schedule=None, start_date=START):
        MoltresQueryOperator(task_id="q", dsn=DSN, query=query)
    assert "s3cret-pw" not in _secrets_masker().redact(f"connecting with {DSN}")


def test_provider_registers_the_taskflow_decorator():
    from airflow.sdk import task

    from moltres.integrations.airflow.decorators import moltres_task
    from moltres.integrations.airflow.provider import get_provider_info

    assert get_provider_info()["package-name"] == "moltres"
    assert task.moltres is moltres_task


def test_decorated_function_needs_a_db_parameter():
    from moltres.integrations.airflow import moltres_task

    def no_db(x):
        return x

    with pytest.raises(ValidationError, match="no 'db' parameter"):
        moltres_task(no_db)


def _run_without(blocked: str, code: str) -> subprocess.CompletedProcess[str]:
    prelude = f"import sys; sys.modules[{blocked!r}] = None\n"
    return subprocess.run(
        [sys.executable, "-c", prelude + code], capture_output=True, text=True, timeout=120, check=False
    )


def test_without_airflow_operators_name_the_extra_but_etl_names_import():
    result = _run_without(
        "airflow",
        "import moltres.integrations.airflow as m\n"
        "from moltres.utils.exceptions import MissingDependencyError\n"
        "try:\n"
        "    m.MoltresQueryOperator\n"
        "except MissingDependencyError as e:\n"
        "    print('MISSING', e)\n"
        "from moltres.integrations.airflow import DataQualityCheck, ETLPipeline, decode_rows\n"
        "print('OK', decode_rows.__name__, sorted(dir(m))[:2])\n",
    )
    assert result.returncode == 0, result.stderr
    assert 'pip install "moltres[airflow]"' in result.stdout
    assert "OK decode_rows" in result.stdout


def test_unknown_attribute_is_an_attribute_error():
    import moltres.integrations.airflow as package

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        package.nope  # noqa: B018
