"""Every Python example in docs/etl.md runs, top to bottom, as a reader would run it."""

from __future__ import annotations

from tests.quality.test_guide import run_guide


def test_etl_guide_runs(tmp_path, monkeypatch):
    namespace = run_guide("etl.md", tmp_path, monkeypatch)
    assert namespace["summary"]["rows_loaded"] == 2  # type: ignore[index]
