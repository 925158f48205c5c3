"""Run pytest inside pytest (``pytester``) with the moltres plugin loaded."""

from __future__ import annotations

import os
from importlib.metadata import entry_points

import pytest

PLUGIN = "moltres.integrations.pytest.plugin"


def plugin_arguments() -> list[str]:
    """``-p <plugin>`` unless pytest loads it by itself through moltres's ``pytest11`` entry point."""
    installed = any(ep.value == PLUGIN for ep in entry_points(group="pytest11"))
    autoload = not os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    return [] if installed and autoload else ["-p", PLUGIN]


@pytest.fixture
def run_pytest(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):
    """Run pytest on the files written with ``pytester`` and return the result.

    The inner run uses ``--strict-markers`` (so the plugin must register its markers) and
    sees no ``MOLTRES_TEST_DSN`` or ``MOLTRES_REQUIRE_SERVERS`` of the outer one.
    """
    monkeypatch.delenv("MOLTRES_TEST_DSN", raising=False)
    monkeypatch.delenv("MOLTRES_REQUIRE_SERVERS", raising=False)

    def run(*args: str) -> pytest.RunResult:
        return pytester.runpytest(*plugin_arguments(), "--strict-markers", "-p", "no:cacheprovider", *args)

    return run
