"""QualityChecker on every backend: what each check finds, in how many statements."""

from __future__ import annotations

import datetime as dt

import pytest

from moltres import col
from moltres.quality import DataQualityCheck as Q
from moltres.quality import QualityChecker
from moltres.utils.exceptions import ValidationError
from tests.quality.conftest import NOW, statements


def run(db, checks, table="people", **options):
    return QualityChecker(**options).check(db.table(table), checks)


@pytest.mark.parametrize(
    ("table", "check", "failed", "total"),
    [
        ("people", Q.column_not_null("email"), 1, 4),
        ("people", Q.column_range("age", min=0, max=150), 1, 3),  # NULL age not checked
        ("people", Q.column_unique("email"), 1, 3),  # NULL email ignored
        ("people", Q.accepted_values("status", ["active"]), 1, 4),
        ("people", Q.column_pattern("email", r"^[a-z]+@[a-z]+\.org$"), 1, 3),
        ("people", Q.value_length("code", min=2, max=3), 2, 4),
        ("people", Q.expression("age < 100"), 1, 4),  # NULL age passes
        ("people", Q.expression(col("score") <= col("age")), 0, 4),
        ("people", Q.column_completeness("email", threshold=0.8), 1, 4),
        ("people", Q.column_type("email", int), 3, 3),
        ("orders", Q.unique_combination(["person_id", "day"]), 1, 3),  # NULL person_id not checked
        ("orders", Q.foreign_key("person_id", "people", "id"), 1, 3),
    ],
    ids=lambda value: value["name"] if isinstance(value, dict) else None,
)
def test_row_level_checks_count_failing_rows(people, table, check, failed, total):
    result = run(people, [check], table)[check["name"]]
    assert (result.failed_rows, result.total_rows) == (failed, total), result.message
    assert result.status == ("failed" if failed else "passed")


def test_failing_checks_bring_a_sample_of_their_failing_rows(people):
    report = run(people, [Q.column_not_null("email"), Q.value_length("code", min=2, max=3), Q.column_unique("email")])
    assert [r["id"] for r in report["not_null_email"].sample] == [2]
    assert sorted(r["id"] for r in report["value_length_code"].sample) == [2, 3]
    assert sorted(r["id"] for r in report["unique_email"].sample) == [1, 3]  # every row of the repeated value
    assert set(report["not_null_email"].sample[0]) == {"id", "email", "age", "status", "code", "joined", "score"}


def test_samples_hold_at_most_sample_size_rows(people):
    report = run(people, [Q.column_not_null("id", check_name="never"), Q.column_range("id", max=0)], sample_size=2)
    assert len(report["range_id"].sample) == 2 and report["range_id"].failed_rows == 4
    assert run(people, [Q.column_range("id", max=0)], sample_size=0)["range_id"].sample == []


def test_foreign_key_and_combination_samples(people):
    report = run(
        people, [Q.foreign_key("person_id", "people", "id"), Q.unique_combination(["person_id", "day"])], "orders"
    )
    assert [r["id"] for r in report["foreign_key_person_id"].sample] == [2]
    assert sorted(r["id"] for r in report["unique_combination_person_id_day"].sample) == [1, 3]


@pytest.mark.parametrize(
    ("check", "status", "observed"),
    [
        (Q.row_count(min=1, max=3), "failed", 4),
        (Q.row_count(min=4), "passed", 4),
        (Q.row_count_change(baseline=4, tolerance=0), "passed", 4),
        (Q.row_count_change(baseline=2, tolerance=0.5), "failed", 4),
        (Q.row_count_change(baseline="orders", tolerance=0), "passed", 4),
        (Q.column_stat("score", "max", min=0, max=3), "passed", 3.0),
        (Q.column_stat("score", "sum", min=7, max=7), "passed", 7.0),
        (Q.column_stat("age", "min", min=31), "failed", 30),
    ],
    ids=lambda value: value["name"] if isinstance(value, dict) else None,
)
def test_table_level_checks_judge_one_value(people, check, status, observed):
    result = run(people, [check])[check["name"]]
    assert result.status == status, result.message
    assert result.observed == pytest.approx(observed)
    assert result.failed_rows is None and result.sample == []


def test_mean_is_computed_by_the_database(people):
    result = run(people, [Q.column_stat("score", "mean", min=1, max=2)])["mean_score"]
    assert result.status == "failed"
    assert result.observed == pytest.approx(7 / 3)


def test_a_statistic_of_an_all_null_column_fails(people):
    result = run(people, [Q.column_stat("age", "max", max=500, where="age IS NULL")])["max_age"]
    assert result.status == "failed" and "no non-NULL values" in result.message


def test_freshness_compares_the_newest_timestamp_with_now(people):
    report = run(
        people,
        [
            Q.freshness("joined", max_age=dt.timedelta(hours=2), check_name="fresh"),
            Q.freshness("joined", max_age=dt.timedelta(minutes=30), check_name="stale"),
            Q.freshness("joined", max_age=60, where="status = 'gone'", check_name="empty"),
        ],
    )
    assert report["fresh"].status == "passed", report["fresh"].message
    assert report["stale"].status == "failed"
    assert report["fresh"].observed == NOW - dt.timedelta(hours=1)
    assert report["empty"].status == "failed" and "no values" in report["empty"].message


def test_column_type_reads_the_declared_type(people):
    report = run(
        people, [Q.column_type("age", int), Q.column_type("joined", dt.datetime), Q.column_type("code", "str")]
    )
    assert report.passed, str(report)
    assert "has SQL type" in report["type_age"].message


def test_where_limits_the_rows_a_check_sees(people):
    report = run(
        people,
        [
            Q.column_range("age", min=0, max=150, where="status = 'gone'", check_name="gone_ages"),
            Q.column_not_null("email", where=col("status") == "active", check_name="active_emails"),
            Q.column_unique("email", where="status = 'active'", check_name="active_unique"),
            Q.row_count(min=3, max=3, where="status = 'active'"),
            Q.custom(lambda rows: [r["id"] for r in rows] == [3], where="status = 'gone'", check_name="only_gone"),
        ],
    )
    assert (report["gone_ages"].total_rows, report["gone_ages"].status) == (0, "passed")
    assert (report["active_emails"].failed_rows, report["active_emails"].total_rows) == (1, 3)
    assert report["row_count"].status == "passed"
    assert (report["active_unique"].status, report["active_unique"].total_rows) == ("passed", 2)
    assert report["only_gone"].status == "passed"


def test_mostly_lets_a_fraction_of_rows_fail(people):
    report = run(
        people,
        [
            Q.column_not_null("email", mostly=0.75, check_name="lenient"),
            Q.column_not_null("email", mostly=0.8, check_name="strict"),
        ],
    )
    assert report["lenient"].status == "passed"
    assert report["strict"].status == "failed"
    assert "allowed 25.00%" in report["lenient"].message


def test_warnings_do_not_fail_the_report(people):
    report = run(people, [Q.column_not_null("email", severity="warn"), Q.column_not_null("id")])
    assert report.passed and report.overall_status == "passed"
    assert report["not_null_email"].status == "warning"
    assert report["not_null_email"].sample  # a warning still shows its rows
    assert [r.name for r in report.warnings] == ["not_null_email"]


def test_custom_checks_receive_the_collected_rows(people):
    seen = []

    def four(rows):
        seen.append(rows)
        return len(rows) == 4

    report = run(
        people,
        [
            Q.custom(four),
            Q.custom(lambda rows: len(rows) > 10, check_name="many"),
            Q.custom(lambda rows: 1 / 0, check_name="broken"),
        ],
    )
    assert len(seen) == 1 and sorted(r["id"] for r in seen[0]) == [1, 2, 3, 4]
    assert (report["custom_four"].status, report["many"].status) == ("passed", "failed")
    assert report["broken"].status == "failed" and "ZeroDivisionError" in report["broken"].message


def test_a_missing_column_fails_only_that_check(people):
    report = run(people, [Q.column_not_null("emial"), Q.column_not_null("id"), Q.foreign_key("id", "nope", "id")])
    assert report["not_null_emial"].status == "failed"
    assert "column 'emial' does not exist" in report["not_null_emial"].message
    assert "did you mean 'email'" in report["not_null_emial"].message
    assert report["not_null_id"].status == "passed"
    assert "table 'nope' does not exist" in report["foreign_key_id"].message


def test_a_missing_column_in_where_or_an_expression_fails_only_that_check(people):
    report = run(
        people,
        [Q.column_not_null("email", where="statuz = 'active'"), Q.expression("agee > 0"), Q.column_not_null("id")],
    )
    assert report["not_null_email"].status == "failed"
    assert "column 'statuz' does not exist" in report["not_null_email"].message
    assert "column 'agee' does not exist" in report["expression_agee_0"].message
    assert report["not_null_id"].status == "passed"


def test_a_check_the_database_cannot_run_fails_alone(people):
    report = run(people, [Q.column_pattern("email", "(unclosed"), Q.column_not_null("id")])
    assert report["pattern_email"].status == "failed"
    assert report["pattern_email"].message.startswith("could not run")
    assert report["not_null_id"].status == "passed"


def test_unknown_types_and_duplicate_names_are_validation_errors(people):
    with pytest.raises(ValidationError, match="unknown check type"):
        run(people, [{"type": "not_null_or_empty", "column": "email"}])
    with pytest.raises(ValidationError, match="two checks are named 'not_null_email'"):
        run(people, [Q.column_not_null("email"), Q.column_not_null("email", severity="warn")])
    with pytest.raises(ValidationError, match="takes a moltres DataFrame"):
        QualityChecker().check([{"a": 1}], [Q.row_count(min=1)])  # type: ignore[arg-type]


def test_fail_fast_skips_everything_after_the_first_failure(people):
    calls = []

    def early(rows):
        calls.append("early")
        return True

    def late(rows):
        calls.append("late")
        return True

    checks = [
        Q.column_not_null("id"),
        Q.custom(early),
        Q.column_not_null("email"),
        Q.column_range("age", max=150),
        Q.custom(late),
    ]
    report = run(people, checks, fail_fast=True)
    assert [r.status for r in report] == ["passed", "passed", "failed", "skipped", "skipped"]
    assert calls == ["early"]
    assert report["range_age"].sample == []


def test_all_built_in_checks_are_one_statement_and_samples_one_more(people):
    df = people.table("people")
    _ = df.columns, people.table("orders").columns  # reflect before counting
    passing = [
        Q.column_not_null("id"),
        Q.column_range("id", min=1),
        Q.column_unique("id"),
        Q.column_type("id", int),
        Q.row_count(min=1),
        Q.column_completeness("id"),
        Q.accepted_values("status", ["active", "gone"]),
        Q.column_pattern("code", "^[A-Za-z]+$"),
        Q.value_length("status", min=1),
        Q.unique_combination(["id", "status"]),
        Q.foreign_key("id", "people", "id"),
        Q.freshness("joined", max_age=dt.timedelta(days=1)),
        Q.row_count_change(baseline="orders", tolerance=0),
        Q.expression("id > 0"),
        Q.column_stat("id", "sum", min=10, max=10),
    ]
    with statements(people) as seen:
        report = QualityChecker().check(df, passing)
    assert report.passed, str(report)
    assert len(seen) == 1, seen
    assert report.statements == 1
    failing = [*passing, Q.column_not_null("email"), Q.column_range("age", max=150)]
    with statements(people) as seen:
        report = QualityChecker().check(df, failing)
    assert [r.name for r in report.failed_checks] == ["not_null_email", "range_age"]
    assert len(seen) == 2, seen
    assert "UNION ALL" in seen[1].upper()


def test_report_serializes(people):
    report = run(people, [Q.column_not_null("email"), Q.freshness("joined", max_age=7200)])
    data = report.to_dict()
    assert data["overall_status"] == "failed" and data["summary"]["failed"] == 1
    assert '"overall_status": "failed"' in report.to_json()
    assert "FAIL  not_null_email" in str(report)
