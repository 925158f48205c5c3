"""The outcome of running data-quality checks: one :class:`CheckResult` per check, in a :class:`QualityReport`.

Example:
    >>> report = QualityReport([CheckResult(name="not_null_email", type="not_null", status="passed",
    ...                                     failed_rows=0, total_rows=3, message="no NULL email in 3 rows")])
    >>> report.overall_status, report.passed
    ('passed', True)
    >>> print(report)
    Data quality PASSED: 1 of 1 checks passed (0 statements, 0.000 s)
      PASS  not_null_email  no NULL email in 3 rows
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

__all__ = ["CheckResult", "CheckStatus", "QualityReport"]

#: ``passed``; ``failed``; ``warning`` (failed, with ``severity="warn"``); ``skipped`` (not
#: evaluated because ``fail_fast`` stopped at an earlier failure).
CheckStatus = Literal["passed", "failed", "warning", "skipped"]

_LABELS = {"passed": "PASS", "failed": "FAIL", "warning": "WARN", "skipped": "SKIP"}


@dataclass
class CheckResult:
    """What one check found.

    Attributes:
        name: The check's name.
        type: The check's type (``"not_null"``, ``"range"``, ...).
        status: ``"passed"``, ``"failed"``, ``"warning"`` or ``"skipped"``.
        severity: ``"error"`` or ``"warn"``.
        column: The column checked (columns joined by ``", "`` for a combination), if any.
        failed_rows: Rows that failed (row-level checks), else None.
        total_rows: Rows the check looked at: those matching ``where=``, and for value
            checks only the non-NULL ones. None when it did not run.
        observed: The value a table-level check judged (a row count, a mean, the newest
            timestamp), else None.
        sample: Up to 5 failing rows, as dicts (row-level checks that failed).
        message: A sentence saying what was found.
        duration_s: Seconds spent on the statements this check was computed in; checks
            computed by the same statement share its time.
    """

    name: str
    type: str
    status: CheckStatus
    severity: str = "error"
    column: str | None = None
    failed_rows: int | None = None
    total_rows: int | None = None
    observed: Any = None
    sample: list[dict[str, Any]] = field(default_factory=list)
    message: str = ""
    duration_s: float = 0.0

    @property
    def passed(self) -> bool:
        """Whether the check passed (a warning did not).

        Example:
            >>> CheckResult(name="n", type="row_count", status="warning").passed
            False
        """
        return self.status == "passed"

    @property
    def failed_fraction(self) -> float | None:
        """``failed_rows / total_rows``, or None when either is unknown or there were no rows."""
        if self.failed_rows is None or not self.total_rows:
            return None
        return self.failed_rows / self.total_rows

    def to_dict(self) -> dict[str, Any]:
        """The result as a dict of plain values (sample rows keep their Python values).

        Example:
            >>> CheckResult(name="n", type="row_count", status="passed", observed=3).to_dict()["observed"]
            3
        """
        return {
            "name": self.name,
            "type": self.type,
            "status": self.status,
            "severity": self.severity,
            "column": self.column,
            "failed_rows": self.failed_rows,
            "total_rows": self.total_rows,
            "failed_fraction": self.failed_fraction,
            "observed": self.observed,
            "sample": [dict(row) for row in self.sample],
            "message": self.message,
            "duration_s": round(self.duration_s, 6),
        }


def _json_default(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    return repr(value)


@dataclass
class QualityReport:
    """The results of one run of :class:`~moltres.quality.QualityChecker`.

    Attributes:
        results: One result per check, in the order the checks were given.
        duration_s: Wall-clock seconds for the whole run.
        statements: How many SQL statements the run issued (1 for the checks, 1 more when
            a check failed and samples were fetched, 1 more for custom checks).
    """

    results: list[CheckResult] = field(default_factory=list)
    duration_s: float = 0.0
    statements: int = 0

    @property
    def overall_status(self) -> Literal["passed", "failed"]:
        """``"failed"`` when a check with ``severity="error"`` failed, else ``"passed"``."""
        return "failed" if any(r.status == "failed" for r in self.results) else "passed"

    @property
    def passed(self) -> bool:
        """Whether the report passed (warnings allowed)."""
        return self.overall_status == "passed"

    @property
    def failed_checks(self) -> list[CheckResult]:
        """The results with status ``failed``."""
        return [r for r in self.results if r.status == "failed"]

    @property
    def warnings(self) -> list[CheckResult]:
        """The results with status ``warning``."""
        return [r for r in self.results if r.status == "warning"]

    def __getitem__(self, name: str) -> CheckResult:
        for result in self.results:
            if result.name == name:
                return result
        raise KeyError(f"no check named {name!r}; checks: {', '.join(r.name for r in self.results)}")

    def __iter__(self) -> Iterator[CheckResult]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    def _counts(self) -> dict[str, int]:
        counts = {"total": len(self.results), "passed": 0, "failed": 0, "warning": 0, "skipped": 0}
        for result in self.results:
            counts[result.status] += 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        """The report as a dict: ``overall_status``, ``passed``, ``summary`` counts and ``results``.

        Example:
            >>> QualityReport().to_dict()["overall_status"]
            'passed'
        """
        return {
            "overall_status": self.overall_status,
            "passed": self.passed,
            "summary": self._counts(),
            "duration_s": round(self.duration_s, 6),
            "statements": self.statements,
            "results": [r.to_dict() for r in self.results],
        }

    def to_json(self, *, indent: int | None = None) -> str:
        """The report as JSON; dates become ISO strings, decimals strings, bytes base64.

        Example:
            >>> QualityReport().to_json()[:28]
            '{"overall_status": "passed",'
        """
        return json.dumps(self.to_dict(), indent=indent, default=_json_default)

    def __str__(self) -> str:
        counts = self._counts()
        head = f"Data quality {self.overall_status.upper()}: {counts['passed']} of {counts['total']} checks passed"
        extra = [
            f"{counts[k]} {label}"
            for k, label in (("failed", "failed"), ("warning", "warned"), ("skipped", "skipped"))
            if counts[k]
        ]
        if extra:
            head += ", " + ", ".join(extra)
        noun = "statement" if self.statements == 1 else "statements"
        lines = [f"{head} ({self.statements} {noun}, {self.duration_s:.3f} s)"]
        width = max((len(r.name) for r in self.results), default=0)
        for result in self.results:
            lines.append(f"  {_LABELS[result.status]}  {result.name.ljust(width)}  {result.message}".rstrip())
            for row in result.sample:
                lines.append(f"        sample: {row}")
        return "\n".join(lines)
