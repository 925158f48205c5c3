"""Every python block of docs/streamlit.md is a Streamlit script: run each with AppTest, in order."""

from __future__ import annotations

import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

DOC = Path(__file__).resolve().parents[3] / "docs" / "streamlit.md"


def python_blocks(path: Path) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", path.read_text(), flags=re.DOTALL | re.MULTILINE)


def test_docs_scripts_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    blocks = python_blocks(DOC)
    assert len(blocks) == 7
    for number, block in enumerate(blocks, start=1):
        at = AppTest.from_string(block, default_timeout=30)
        at.run()
        assert not at.exception, f"block {number}: {at.exception}"
        if number == 2:
            assert at.dataframe[0].value["name"].tolist() == ["Ada"]
        if number == 4:
            at.selectbox[0].select("users").run()
            assert len(at.dataframe[0].value) == 2
        if number in (5, 6):  # "Refresh" clears the cache, "Disconnect" closes the databases
            at.button[0].click().run()
            assert not at.exception
