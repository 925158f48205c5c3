"""QualityReport: status, lookups, dict/JSON forms and the readable text."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from moltres.quality import CheckResult, QualityReport


def result(name, status, **fields):
    return CheckResult(name=name, type="not_null", status=status, **fields)


def test_overall_status_follows_failed_checks_only():
    assert QualityReport([result("a", "passed"), result("b", "warning")]).overall_status == "passed"
    report = QualityReport([result("a", "passed"), result("b", "failed"), result("c", "skipped")])
    assert (report.overall_status, report.passed) == ("failed", False)
    assert [r.name for r in report.failed_checks] == ["b"]
    assert QualityReport().passed


def test_results_are_found_by_name():
    report = QualityReport([result("not_null_email", "passed")])
    assert report["not_null_email"].status == "passed"
    with pytest.raises(KeyError, match="no check named 'nope'; checks: not_null_email"):
        report["nope"]
    assert len(report) == 1 and [r.name for r in report] == ["not_null_email"]


def test_to_dict_and_to_json_carry_every_field():
    sample = {"id": 2, "at": dt.datetime(2024, 5, 1, 12, 0), "price": Decimal("9.90"), "raw": b"\x00"}
    report = QualityReport(
        [result("x", "failed", failed_rows=1, total_rows=4, sample=[sample], message="1 of 4", duration_s=0.5)],
        duration_s=0.75,
        statements=2,
    )
    data = report.to_dict()
    assert data["summary"] == {"total": 1, "passed": 0, "failed": 1, "warning": 0, "skipped": 0}
    assert data["results"][0]["failed_fraction"] == 0.25
    assert data["results"][0]["sample"][0]["price"] == Decimal("9.90")  # to_dict keeps Python values
    decoded = json.loads(report.to_json(indent=2))
    assert decoded["results"][0]["sample"][0] == {"id": 2, "at": "2024-05-01T12:00:00", "price": "9.90", "raw": "AA=="}
    assert decoded["statements"] == 2


def test_str_is_one_line_per_check_with_samples():
    report = QualityReport(
        [
            result("not_null_email", "failed", message="1 of 3 rows have a NULL email", sample=[{"id": 2}]),
            result("range_age", "passed", message="0 of 3 values outside [0, 150]"),
            result("unique_email", "warning", message="1 repeat"),
        ],
        duration_s=0.0123,
        statements=2,
    )
    assert str(report).splitlines() == [
        "Data quality FAILED: 1 of 3 checks passed, 1 failed, 1 warned (2 statements, 0.012 s)",
        "  FAIL  not_null_email  1 of 3 rows have a NULL email",
        "        sample: {'id': 2}",
        "  PASS  range_age       0 of 3 values outside [0, 150]",
        "  WARN  unique_email    1 repeat",
    ]
