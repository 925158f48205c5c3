"""Every Python example in docs/async.md runs, top to bottom, as a reader would run it.

Blocks that ``await`` at the top level (as ``python -m asyncio`` and Jupyter allow) run on one
event loop shared by the whole page; blocks without it run as plain code.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def test_async_guide_examples_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("aiosqlite")
    blocks = BLOCK.findall((ROOT / "docs" / "async.md").read_text(encoding="utf-8"))
    assert len(blocks) >= 8
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "async_guide"}
    loop = asyncio.new_event_loop()
    try:
        for number, block in enumerate(blocks, 1):
            code = compile(block, f"docs/async.md block {number}", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
            try:
                if code.co_flags & inspect.CO_COROUTINE:
                    loop.run_until_complete(eval(code, namespace))
                else:
                    exec(code, namespace)
            except Exception as exc:  # pragma: no cover - the message is the point
                pytest.fail(f"docs/async.md block {number} failed: {type(exc).__name__}: {exc}\n{block}")
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
    out = capsys.readouterr().out
    assert "sqlite aiosqlite" in out and "query cancelled" in out and "| name" in out
    assert "dirty.csv, line 3, column 'score'" in out
