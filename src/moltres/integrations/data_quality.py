"""Compatibility path: the data-quality checks live in :mod:`moltres.quality`; this module re-exports them.

Example:
    >>> from moltres.integrations.data_quality import DataQualityCheck
    >>> DataQualityCheck.column_not_null("email")["name"]
    'not_null_email'
"""

from __future__ import annotations

from moltres.quality import Check, CheckResult, DataQualityCheck, QualityChecker, QualityReport, normalize_check

__all__ = ["DataQualityCheck", "QualityChecker", "QualityReport", "CheckResult", "Check", "normalize_check"]
