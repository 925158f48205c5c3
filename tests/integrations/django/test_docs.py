"""Run the Python code blocks of docs/django.md, in order, in one namespace."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.apps import apps
from django.utils.module_loading import import_string

DOC = Path(__file__).resolve().parents[3] / "docs" / "django.md"


def python_blocks(path: Path) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", path.read_text(), flags=re.DOTALL | re.MULTILINE)


@pytest.mark.django_db(databases=["default"])
def test_docs_code_blocks_run():
    blocks = python_blocks(DOC)
    assert len(blocks) >= 6
    namespace: dict[str, object] = {"__name__": "docs_django"}
    for number, block in enumerate(blocks, start=1):
        exec(compile(block, f"{DOC.name}[block {number}]", "exec"), namespace)
    # The settings block names real things.
    for path in namespace["MIDDLEWARE"]:  # type: ignore[attr-defined]
        import_string(path)
    for app in namespace["INSTALLED_APPS"]:  # type: ignore[attr-defined]
        assert apps.is_installed(app)
