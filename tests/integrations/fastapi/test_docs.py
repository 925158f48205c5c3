"""Run the Python code blocks of docs/fastapi.md, in order, in one namespace."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[3] / "docs" / "fastapi.md"


def python_blocks(path: Path) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", path.read_text(), flags=re.DOTALL | re.MULTILINE)


def test_docs_code_blocks_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    blocks = python_blocks(DOC)
    assert len(blocks) == 3
    namespace: dict[str, object] = {"__name__": "docs_fastapi"}
    for number, block in enumerate(blocks, start=1):
        exec(compile(block, f"{DOC.name}[block {number}]", "exec"), namespace)
    assert (tmp_path / "shop.db").exists()
