"""Run data-quality checks inside the database: :class:`QualityChecker`.

Every built-in check becomes one or two conditional aggregates (``count(CASE WHEN <row
fails> THEN 1 END)``) over the DataFrame's query, and all of them run as **one** SQL
statement. Checks that need a second pass over the data (a uniqueness over several
columns, a foreign key, a baseline table) become one-row subqueries joined into that same
statement. When a check fails, one more small statement fetches up to five failing rows
for each failed check (``UNION ALL`` of ``LIMIT``-ed branches). Only ``custom`` checks
load rows into Python.

The aggregates are moltres expressions and plans, so the compiler renders them for each
database; nothing here depends on the dialect.

Example:
    >>> from moltres.quality import DataQualityCheck, QualityChecker
    >>> report = QualityChecker().check(db.table("users"), [
    ...     DataQualityCheck.column_not_null("name"),
    ...     DataQualityCheck.column_range("age", min=0, max=40),
    ... ])
    >>> report.overall_status, report["range_age"].failed_rows, report.statements
    ('failed', 1, 2)
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from moltres.dataframe.dataframe import DataFrame
from moltres.expressions import functions as F
from moltres.expressions.column import Column, col, lit
from moltres.quality.checks import PYTHON_TYPES, ROW_CHECKS, Check, normalize_check, sql_type_holds
from moltres.quality.report import CheckResult, CheckStatus, QualityReport
from moltres.utils.exceptions import ColumnNotFoundError, MoltresError, ValidationError

__all__ = ["QualityChecker"]

#: The column that tells the branches of the sample query apart.
_CHECK_INDEX = "moltres_check"
_EPSILON = 1e-12


def _as_int(value: Any) -> int:
    return 0 if value is None else int(value)


def _as_number(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


def _bounds_text(check: Check) -> str:
    low, high = check.get("min"), check.get("max")
    if low is not None and high is not None:
        return f"[{low}, {high}]"
    return f">= {low}" if low is not None else f"<= {high}"


def _within(value: Any, check: Check) -> bool:
    low, high = check.get("min"), check.get("max")
    return bool((low is None or value >= low) and (high is None or value <= high))


def _condition(value: str | Column) -> Column:
    return F.expr(value) if isinstance(value, str) else value


@dataclass
class _Plan:
    """What one check needs from the database."""

    aggregates: dict[str, Column] = field(default_factory=dict)  # over the frame, in the shared SELECT
    parts: dict[str, DataFrame] = field(default_factory=dict)  # one-row frames joined into it
    failing: Callable[[], DataFrame] | None = None  # the failing rows, for samples


@dataclass
class _Run:
    """The state of one ``check()`` call."""

    frame: DataFrame
    columns: list[str]
    types: dict[str, str]
    statements: int = 0


class QualityChecker:
    """Run data-quality checks on a DataFrame and report the results.

    Args:
        fail_fast: Stop at the first failed check, in the order given: the checks after it
            are reported as ``skipped`` and cost no further queries (no samples, no
            ``custom`` rows).
        sample_size: How many failing rows to fetch per failed row-level check (0 for none).

    Example:
        >>> from moltres.quality import DataQualityCheck, QualityChecker
        >>> QualityChecker().check(db.table("users"), [DataQualityCheck.row_count(min=1)]).passed
        True
    """

    def __init__(self, *, fail_fast: bool = False, sample_size: int = 5) -> None:
        if isinstance(sample_size, bool) or not isinstance(sample_size, int) or sample_size < 0:
            raise ValidationError(f"sample_size must be a non-negative integer, got {sample_size!r}")
        self.fail_fast = fail_fast
        self.sample_size = sample_size

    # -------------------------------------------------------------------------------- public

    def check(self, df: DataFrame, checks: Sequence[Mapping[str, Any]]) -> QualityReport:
        """Run `checks` on `df` and return the report.

        The DataFrame's query runs inside the database: once for all built-in checks, once
        more for failing-row samples when a check failed, and once (collected into Python)
        when there are ``custom`` checks.

        Args:
            df: The rows to check.
            checks: Checks from :class:`~moltres.quality.DataQualityCheck` (or dicts of the
                same shape).

        Returns:
            The report. A check naming a column that `df` lacks fails with a message naming
            the known columns; it does not stop the other checks.

        Raises:
            ValidationError: A malformed check (unknown type, bad argument), or two checks
                with the same name.
            TableNotFoundError: `df` reads a table that does not exist.

        Example:
            >>> from moltres.quality import DataQualityCheck as Q
            >>> report = QualityChecker().check(db.table("users"), [Q.column_unique("name")])
            >>> report["unique_name"].status
            'passed'
        """
        started = time.perf_counter()
        if not isinstance(df, DataFrame):
            raise ValidationError(
                f"check() takes a moltres DataFrame, got {type(df).__name__}",
                suggestion="pass db.table('users') or any query built on it",
            )
        normalized = [normalize_check(c) for c in checks]
        seen: set[str] = set()
        for check in normalized:
            if check["name"] in seen:
                raise ValidationError(
                    f"two checks are named {check['name']!r}",
                    suggestion="give one of them check_name='...'",
                )
            seen.add(check["name"])
        run = _Run(df, df.columns, dict(df.schema))
        results: dict[int, CheckResult] = {}
        plans: dict[int, _Plan] = {}
        for i, check in enumerate(normalized):
            problem = self._missing_column(run, check)
            if problem is not None:
                results[i] = self._result(check, "failed", message=problem)
            elif check["type"] != "custom":
                plans[i] = self._plan(run, check, i)
        stop = self._first_failure(results) if self.fail_fast else None
        batch = {i: plan for i, plan in plans.items() if stop is None or i < stop}
        results.update(self._evaluate(run, normalized, batch))
        self._run_custom(run, normalized, results)
        self._add_samples(run, normalized, plans, results)
        ordered = [results.get(i) or self._result(c, "skipped") for i, c in enumerate(normalized)]
        if self.fail_fast:
            ordered = self._cut_after_first_failure(ordered)
        return QualityReport(ordered, time.perf_counter() - started, run.statements)

    # -------------------------------------------------------------------------------- planning

    @staticmethod
    def _missing_column(run: _Run, check: Check) -> str | None:
        names = list(check.get("columns") or ([check["column"]] if "column" in check else []))
        for name in names:
            if name not in run.columns:
                return str(ColumnNotFoundError(name, run.columns)).replace("\n", "; ")
        if check["type"] == "foreign_key":
            database = run.frame.database
            try:
                ref_columns = database.table(check["ref_table"]).columns
            except MoltresError as exc:
                return str(exc).replace("\n", "; ")
            if check["ref_column"] not in ref_columns:
                error = ColumnNotFoundError(check["ref_column"], ref_columns, table=check["ref_table"])
                return str(error).replace("\n", "; ")
        if check["type"] == "row_count_change" and isinstance(check["baseline"], str):
            try:
                _ = run.frame.database.table(check["baseline"]).columns
            except MoltresError as exc:
                return str(exc).replace("\n", "; ")
        return None

    def _plan(self, run: _Run, check: Check, index: int) -> _Plan:
        kind = check["type"]
        key = f"q{index}_"
        scope = _condition(check["where"]) if check["where"] is not None else None
        scoped = run.frame.where(scope) if scope is not None else run.frame

        def rows() -> Column:
            return F.count(F.when(scope, 1)) if scope is not None else F.count("*")

        def count_if(condition: Column) -> Column:
            return F.count(F.when(condition & scope if scope is not None else condition, 1))

        def values(name: str) -> Column:
            return F.when(scope, col(name)) if scope is not None else col(name)

        def row_check(total: Column, failing: Column) -> _Plan:
            return _Plan(
                {key + "total": total, key + "failed": count_if(failing)},
                failing=lambda: scoped.where(failing),
            )

        column = col(check["column"]) if "column" in check else None
        if kind in ("not_null", "completeness"):
            assert column is not None
            return row_check(rows(), column.is_null())
        if kind == "expression":
            return row_check(rows(), ~_condition(check["expression"]))
        if kind in ("range", "value_length"):
            assert column is not None
            measured = F.length(column) if kind == "value_length" else column
            return row_check(F.count(values(check["column"])), _outside(measured, check))
        if kind == "accepted_values":
            assert column is not None
            return row_check(F.count(values(check["column"])), ~column.isin(check["values"]))
        if kind == "pattern":
            assert column is not None
            return row_check(F.count(values(check["column"])), ~column.rlike(check["regex"]))
        if kind == "type":
            assert column is not None
            return _Plan(
                {key + "total": F.count(values(check["column"]))},
                failing=lambda: scoped.where(column.is_not_null()),
            )
        if kind == "unique":
            value = values(check["column"])
            return _Plan(
                {key + "total": F.count(value), key + "failed": F.count(value) - F.count_distinct(value)},
                failing=lambda: self._duplicates(scoped, [check["column"]]),
            )
        if kind == "unique_combination":
            present = _all([col(c).is_not_null() for c in check["columns"]])
            complete = scoped.where(present)
            repeats = (
                complete.group_by(*check["columns"])
                .agg(F.count("*").alias("moltres_n"))
                .where(col("moltres_n") > 1)
                .agg(F.sum(col("moltres_n") - 1).alias(key + "failed"))
            )
            return _Plan(
                {key + "total": count_if(present)},
                {key + "failed": repeats},
                failing=lambda: self._duplicates(complete, check["columns"]),
            )
        if kind == "foreign_key":
            assert column is not None
            reference: DataFrame = run.frame.database.table(check["ref_table"])

            def orphans() -> DataFrame:
                pairs = [(str(check["column"]), str(check["ref_column"]))]
                return scoped.where(column.is_not_null()).join(reference, on=pairs, how="anti")

            return _Plan(
                {key + "total": F.count(values(check["column"]))},
                {key + "failed": orphans().agg(F.count("*").alias(key + "failed"))},
                failing=orphans,
            )
        if kind == "row_count":
            return _Plan({key + "observed": rows()})
        if kind == "row_count_change":
            parts = {}
            if isinstance(check["baseline"], str):
                baseline = run.frame.database.table(check["baseline"])
                parts[key + "baseline"] = baseline.agg(F.count("*").alias(key + "baseline"))
            return _Plan({key + "observed": rows()}, parts)
        if kind == "freshness":
            return _Plan({key + "observed": F.max(values(check["column"]))})
        if kind == "stat":
            stat = {"mean": F.avg, "min": F.min, "max": F.max, "sum": F.sum}[check["stat"]]
            return _Plan({key + "observed": stat(values(check["column"]))})
        raise ValidationError(f"no plan for check type {kind!r}")  # pragma: no cover - normalize_check guards

    @staticmethod
    def _duplicates(frame: DataFrame, columns: list[str]) -> DataFrame:
        """The rows of `frame` whose values of `columns` occur more than once."""
        present = _all([col(c).is_not_null() for c in columns])
        repeated = (
            frame.where(present)
            .group_by(*columns)
            .agg(F.count("*").alias("moltres_n"))
            .where(col("moltres_n") > 1)
            .select(*columns)
        )
        return frame.where(present).join(repeated, on=[(c, c) for c in columns], how="semi")

    # -------------------------------------------------------------------------------- running

    @staticmethod
    def _statement(run: _Run, plans: Sequence[_Plan]) -> DataFrame:
        aggregates = [expr.alias(alias) for plan in plans for alias, expr in plan.aggregates.items()]
        parts = [part for plan in plans for part in plan.parts.values()]
        frame = run.frame.agg(*aggregates) if aggregates else None
        for part in parts:
            frame = part if frame is None else frame.cross_join(part)
        assert frame is not None
        return frame

    def _evaluate(self, run: _Run, checks: list[Check], plans: dict[int, _Plan]) -> dict[int, CheckResult]:
        """Compute every planned check with one statement; isolate failures check by check."""
        if not plans:
            return {}
        started = time.perf_counter()
        try:
            run.statements += 1
            values = self._statement(run, list(plans.values())).collect()[0]
        except MoltresError:
            # One check the database cannot run (a regular expression it rejects, a function
            # it lacks) must not sink the others: run each alone to find and report it.
            return self._evaluate_one_by_one(run, checks, plans)
        elapsed = time.perf_counter() - started
        return {i: self._judge(run, checks[i], i, values, elapsed) for i in plans}

    def _evaluate_one_by_one(self, run: _Run, checks: list[Check], plans: dict[int, _Plan]) -> dict[int, CheckResult]:
        results = {}
        for i, plan in plans.items():
            started = time.perf_counter()
            try:
                run.statements += 1
                values = self._statement(run, [plan]).collect()[0]
            except MoltresError as exc:
                message = f"could not run: {exc}".replace("\n", "; ")
                results[i] = self._result(checks[i], "failed", message=message, duration=time.perf_counter() - started)
                continue
            results[i] = self._judge(run, checks[i], i, values, time.perf_counter() - started)
        return results

    def _add_samples(
        self, run: _Run, checks: list[Check], plans: dict[int, _Plan], results: dict[int, CheckResult]
    ) -> None:
        """Fetch up to `sample_size` failing rows of every failed row-level check, in one statement."""
        if self.sample_size == 0:
            return
        stop = self._first_failure(results) if self.fail_fast else None
        branches: dict[int, DataFrame] = {}
        for i, result in sorted(results.items()):
            failing = plans[i].failing if i in plans else None
            if stop is not None and i > stop:
                break
            if result.status in ("failed", "warning") and result.failed_rows and failing is not None:
                branches[i] = failing().limit(self.sample_size).select(lit(i).alias(_CHECK_INDEX), "*")
        if not branches:
            return
        wanted = list(branches)
        query = branches[wanted[0]]
        for i in wanted[1:]:
            query = query.union_all(branches[i])
        started = time.perf_counter()
        try:
            run.statements += 1
            rows = query.collect()
        except MoltresError as exc:
            for i in wanted:
                results[i].message += f" (no sample: {exc})".replace("\n", "; ")
            return
        elapsed = time.perf_counter() - started
        for row in rows:
            index = int(row.pop(_CHECK_INDEX))
            results[index].sample.append(row)
        for i in wanted:
            results[i].duration_s += elapsed

    def _run_custom(self, run: _Run, checks: list[Check], results: dict[int, CheckResult]) -> None:
        """Run ``custom`` checks on the collected rows (collected once per ``where=``)."""
        collected: dict[int, tuple[list[dict[str, Any]], float]] = {}
        for i, check in enumerate(checks):
            if check["type"] != "custom" or i in results:
                continue
            stop = self._first_failure(results) if self.fail_fast else None
            if stop is not None and stop < i:
                return
            where = check["where"]
            if id(where) not in collected:
                frame = run.frame.where(_condition(where)) if where is not None else run.frame
                started = time.perf_counter()
                run.statements += 1
                collected[id(where)] = (frame.collect(), time.perf_counter() - started)
            rows, load_time = collected[id(where)]
            started = time.perf_counter()
            try:
                outcome = check["fn"](rows)
            except Exception as exc:
                message = f"{check['name']} raised {type(exc).__name__}: {exc}"
                results[i] = self._result(check, "failed", message=message, duration=load_time)
                continue
            passed = bool(outcome)
            results[i] = self._result(
                check,
                "passed" if passed else "failed",
                total=len(rows),
                message=f"{'returned true' if passed else 'returned false'} for {len(rows):,} rows",
                duration=load_time + time.perf_counter() - started,
            )

    # -------------------------------------------------------------------------------- judging

    def _judge(self, run: _Run, check: Check, index: int, values: Mapping[str, Any], elapsed: float) -> CheckResult:
        key = f"q{index}_"
        kind = check["type"]
        if kind in ROW_CHECKS:
            total = _as_int(values.get(key + "total"))
            if kind == "type":
                declared, problem = self._type_problem(run, check)
                failed = total if problem else 0
                message = problem or f"{check['column']} has SQL type {declared}"
            else:
                failed = _as_int(values.get(key + "failed"))
                message = self._row_message(check, failed, total)
            passed = self._row_check_passes(check, failed, total)
            return self._result(check, passed, failed=failed, total=total, message=message, duration=elapsed)
        observed = _as_number(values.get(key + "observed"))
        if kind == "row_count":
            return self._result(
                check,
                _within(observed, check),
                total=observed,
                observed=observed,
                message=f"{observed:,} rows; expected {_bounds_text(check)}",
                duration=elapsed,
            )
        if kind == "row_count_change":
            baseline = check["baseline"]
            if isinstance(baseline, str):
                baseline = _as_int(values.get(key + "baseline"))
            change = (observed - baseline) / baseline if baseline else (0.0 if observed == 0 else math.inf)
            return self._result(
                check,
                abs(change) <= check["tolerance"] + _EPSILON,
                total=observed,
                observed=observed,
                message=f"{observed:,} rows vs a baseline of {baseline:,} ({change:+.1%}); "
                f"allowed change {check['tolerance']:.1%}",
                duration=elapsed,
            )
        if kind == "freshness":
            return self._freshness(check, observed, elapsed)
        if observed is None:
            message = f"{check['stat']} of {check['column']} is NULL (no non-NULL values)"
            return self._result(check, False, message=message, duration=elapsed)
        return self._result(
            check,
            _within(observed, check),
            observed=observed,
            message=f"{check['stat']} of {check['column']} is {observed}; expected {_bounds_text(check)}",
            duration=elapsed,
        )

    @staticmethod
    def _row_check_passes(check: Check, failed: int, total: int) -> bool:
        if total == 0:
            return True
        required: float = check["threshold"] if check["type"] == "completeness" else check["mostly"]
        return (total - failed) / total >= required - _EPSILON

    @staticmethod
    def _row_message(check: Check, failed: int, total: int) -> str:
        kind, name = check["type"], check.get("column")
        if total == 0:
            return "no rows to check"
        what = {
            "not_null": f"rows have a NULL {name}",
            "completeness": f"rows have a NULL {name}",
            "range": f"non-NULL values of {name} are outside {_bounds_text(check)}",
            "value_length": f"non-NULL values of {name} have a length outside {_bounds_text(check)}",
            "accepted_values": f"non-NULL values of {name} are not in {check.get('values')}",
            "pattern": f"non-NULL values of {name} do not match {check.get('regex')!r}",
            "unique": f"non-NULL values of {name} repeat an earlier value",
            "unique_combination": f"rows repeat an earlier combination of {', '.join(check.get('columns', []))}",
            "foreign_key": f"values of {name} have no match in {check.get('ref_table')}.{check.get('ref_column')}",
            "expression": f"rows fail {check.get('expression')}",
        }[kind]
        message = f"{failed:,} of {total:,} {what}"
        if kind == "completeness":
            message += f" ({(total - failed) / total:.1%} complete; required {check['threshold']:.1%})"
        elif check.get("mostly", 1.0) < 1.0:
            message += f" ({failed / total:.2%} failing; allowed {1 - check['mostly']:.2%})"
        return message

    @staticmethod
    def _type_problem(run: _Run, check: Check) -> tuple[str, str | None]:
        """The column's declared type, and what is wrong with it (None when it holds the expected type)."""
        declared = run.types.get(check["column"], "NULL")
        expected = check["expected_type"]
        holds = sql_type_holds(declared, expected)
        if holds is None:
            return declared, (
                f"the database declares no type for {check['column']} (a computed or raw-SQL column); "
                f"cast it in the query, e.g. col('{check['column']}').cast('INTEGER')"
            )
        if holds:
            return declared, None
        return (
            declared,
            f"{check['column']} has SQL type {declared}, which does not hold {PYTHON_TYPES[expected].__name__}",
        )

    def _freshness(self, check: Check, newest: Any, elapsed: float) -> CheckResult:
        if isinstance(newest, str):
            try:
                newest = dt.datetime.fromisoformat(newest)
            except ValueError:
                message = f"the newest {check['column']} is {newest!r}, which is not a date or timestamp"
                return self._result(check, False, observed=newest, message=message, duration=elapsed)
        if newest is None:
            message = f"{check['column']} has no values, so nothing is fresh"
            return self._result(check, False, message=message, duration=elapsed)
        now = dt.datetime.now(dt.timezone.utc)
        if isinstance(newest, dt.datetime):
            age = (now if newest.tzinfo else now.replace(tzinfo=None)) - newest
        elif isinstance(newest, dt.date):
            age = dt.timedelta(days=(now.date() - newest).days)
        else:
            message = f"the newest {check['column']} is {newest!r}, which is not a date or timestamp"
            return self._result(check, False, observed=newest, message=message, duration=elapsed)
        allowed = dt.timedelta(seconds=check["max_age_seconds"])
        return self._result(
            check,
            age <= allowed,
            observed=newest,
            message=f"the newest {check['column']} is {newest} ({_age(age)} old); allowed {_age(allowed)}",
            duration=elapsed,
        )

    # -------------------------------------------------------------------------------- results

    @staticmethod
    def _result(
        check: Check,
        outcome: bool | CheckStatus,
        *,
        failed: int | None = None,
        total: int | None = None,
        observed: Any = None,
        message: str = "",
        duration: float = 0.0,
    ) -> CheckResult:
        if isinstance(outcome, bool):
            status: CheckStatus = "passed" if outcome else ("warning" if check["severity"] == "warn" else "failed")
        else:
            status = outcome
        if status == "skipped" and not message:
            message = "not run: fail_fast stopped at an earlier failure"
        column = check.get("column") or (", ".join(check["columns"]) if "columns" in check else None)
        return CheckResult(
            name=check["name"],
            type=check["type"],
            status=status,
            severity=check["severity"],
            column=column,
            failed_rows=failed,
            total_rows=total,
            observed=observed,
            message=message,
            duration_s=duration,
        )

    @staticmethod
    def _first_failure(results: Mapping[int, CheckResult]) -> int | None:
        failed = [i for i, r in results.items() if r.status == "failed"]
        return min(failed) if failed else None

    @staticmethod
    def _cut_after_first_failure(results: list[CheckResult]) -> list[CheckResult]:
        out: list[CheckResult] = []
        stopped = False
        for result in results:
            kept = result
            if stopped and result.status != "skipped":
                kept = CheckResult(
                    name=result.name,
                    type=result.type,
                    status="skipped",
                    severity=result.severity,
                    column=result.column,
                    message="not run: fail_fast stopped at an earlier failure",
                )
            out.append(kept)
            stopped = stopped or kept.status == "failed"
        return out


def _outside(value: Column, check: Check) -> Column:
    low: float | None = check["min"]
    high: float | None = check["max"]
    if low is not None and high is not None:
        return (value < low) | (value > high)
    return value < low if low is not None else value > high


def _all(conditions: list[Column]) -> Column:
    out = conditions[0]
    for condition in conditions[1:]:
        out = out & condition
    return out


def _age(delta: dt.timedelta) -> str:
    seconds = int(delta.total_seconds())
    if abs(seconds) < 120:
        return f"{seconds} s"
    if abs(seconds) < 7200:
        return f"{seconds // 60} min"
    if abs(seconds) < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"
