"""Every Python example in docs/data-quality.md runs, top to bottom, as a reader would run it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def run_guide(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    blocks = BLOCK.findall((ROOT / "docs" / name).read_text(encoding="utf-8"))
    assert blocks, f"docs/{name} has no python examples"
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "guide"}
    for number, block in enumerate(blocks, 1):
        try:
            exec(compile(block, f"docs/{name} block {number}", "exec"), namespace)
        except Exception as exc:  # pragma: no cover - the message is the point
            pytest.fail(f"docs/{name} block {number} failed: {type(exc).__name__}: {exc}\n{block}")
    return namespace


def test_data_quality_guide_runs(tmp_path, monkeypatch, capsys):
    run_guide("data-quality.md", tmp_path, monkeypatch)
    printed = capsys.readouterr().out
    guide = (ROOT / "docs" / "data-quality.md").read_text(encoding="utf-8")
    shown = guide.split("prints\n\n```text\n", 1)[1].split("```", 1)[0]
    # the printed report is the one the guide shows, but for the timing
    timing = re.compile(r"\(\d+ statements, [0-9.]+ s\)")
    expected = [timing.sub("", line) for line in shown.strip().splitlines()]
    assert [timing.sub("", line) for line in printed.splitlines()[: len(expected)]] == expected
