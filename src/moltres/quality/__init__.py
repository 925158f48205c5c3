"""Data-quality checks that run inside the database.

Example:
    >>> from moltres.quality import DataQualityCheck, QualityChecker
    >>> QualityChecker().check(db.table("users"), [DataQualityCheck.column_not_null("name")]).passed
    True
"""

from __future__ import annotations

from moltres.quality.checker import QualityChecker
from moltres.quality.checks import Check, DataQualityCheck, normalize_check
from moltres.quality.report import CheckResult, QualityReport

__all__ = ["DataQualityCheck", "QualityChecker", "QualityReport", "CheckResult", "Check", "normalize_check"]
