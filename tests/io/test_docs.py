"""Every Python example in docs/io.md runs, top to bottom, as a reader would run it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def test_io_guide_examples_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("pyarrow")
    pytest.importorskip("pandas")
    blocks = BLOCK.findall((ROOT / "docs" / "io.md").read_text(encoding="utf-8"))
    assert len(blocks) >= 12
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "io_guide"}
    for number, block in enumerate(blocks, 1):
        try:
            exec(compile(block, f"docs/io.md block {number}", "exec"), namespace)
        except Exception as exc:  # pragma: no cover - the message is the point
            pytest.fail(f"docs/io.md block {number} failed: {type(exc).__name__}: {exc}\n{block}")
    out = capsys.readouterr().out
    assert "('signed_up', 'DATE')" in out
    assert "scores.csv, line 3, column 'score'" in out
    assert "nickname that the table lacks" in out
    assert "country=UK" in out
