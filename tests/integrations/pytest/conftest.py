"""Run pytest inside pytest (``pytester``) with the moltres plugin loaded."""

from __future__ import annotations

import pytest

PLUGIN = "moltres.integrations.pytest.plugin"


@pytest.fixture
def run_pytest(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):
    """Run pytest on the files written with ``pytester`` and return the result.

    The inner run loads the plugin by name and no other installed plugin (their start-up
    would cost seconds per run; ``test_packaging_declares_the_entry_point`` covers the
    ``pytest11`` registration). It uses ``--strict-markers``, so the plugin must register
    its markers, and sees no ``MOLTRES_TEST_DSN`` or ``MOLTRES_REQUIRE_SERVERS`` of the
    outer run.
    """
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.delenv("MOLTRES_TEST_DSN", raising=False)
    monkeypatch.delenv("MOLTRES_REQUIRE_SERVERS", raising=False)

    def run(*args: str) -> pytest.RunResult:
        return pytester.runpytest("-p", PLUGIN, "--strict-markers", "-p", "no:cacheprovider", *args)

    return run
