"""`streamlit run examples/streamlit_app.py`, checked in a real headless Chromium.

The app is configured the way a user would: ``.streamlit/secrets.toml`` in the working
directory names the database. Selenium picks the ``users`` table in the query builder and
reads the rendered grid (Streamlit's grid draws on a canvas and mirrors the visible cells in
an accessible table, which is what a screen reader, and this test, reads). A screenshot is
saved under ``test-artifacts/``.

Chromium and chromedriver come from Debian (``chromium``, ``chromium-driver``). When they are
missing and the suite runs as root, they are installed with apt-get; otherwise the test skips,
or fails under ``MOLTRES_REQUIRE_SERVERS=1``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integrations.streamlit.conftest import EXAMPLE

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
)


def _unavailable(reason: str) -> None:
    if os.environ.get("MOLTRES_REQUIRE_SERVERS") == "1":
        pytest.fail(f"{reason} (MOLTRES_REQUIRE_SERVERS=1)")
    pytest.skip(reason)


def _find_browser() -> tuple[str, str] | None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (chromium, driver) if chromium and driver else None


@pytest.fixture(scope="session")
def browser_binaries() -> tuple[str, str]:
    found = _find_browser()
    if found is None and hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        ARTIFACTS.mkdir(exist_ok=True)
        with (ARTIFACTS / "apt-chromium.log").open("w") as log:
            env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
            subprocess.run(["apt-get", "update"], stdout=log, stderr=log, env=env, timeout=600, check=False)
            subprocess.run(
                ["apt-get", "install", "-y", "--no-install-recommends", "chromium", "chromium-driver"],
                stdout=log,
                stderr=log,
                env=env,
                timeout=900,
                check=False,
            )
        found = _find_browser()
    if found is None:
        _unavailable("chromium and chromedriver are not installed (apt-get install chromium chromium-driver)")
    assert found is not None
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def streamlit_url(tmp_path: Path) -> Iterator[str]:
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text(
        f'[connections.example]\nurl = "sqlite:///{tmp_path / "example.db"}"\n'
    )
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "MOLTRES_EXAMPLE_DSN"}
    log = (tmp_path / "streamlit.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable, "-m", "streamlit", "run", str(EXAMPLE),
            "--server.headless", "true",
            "--server.address", "127.0.0.1",
            "--server.port", str(port),
            "--server.fileWatcherType", "none",
            "--browser.gatherUsageStats", "false",
        ],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(f"streamlit did not start:\n{(tmp_path / 'streamlit.log').read_text()}")
            time.sleep(0.25)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def test_example_app_renders_the_chosen_table(browser_binaries, streamlit_url):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    chromium, chromedriver = browser_binaries
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        driver.get(streamlit_url)
        wait = WebDriverWait(driver, 60)
        wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "moltres explorer"))
        wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, '[data-testid="stSelectbox"] input'))).click()
        wait.until(ec.element_to_be_clickable((By.XPATH, '//*[@role="option"][normalize-space()="users"]'))).click()
        grid = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, '[data-testid="stDataFrame"]')))
        wait.until(lambda _: "Edsger" in (grid.get_attribute("textContent") or ""))
        cells = [
            cell.get_attribute("textContent") for cell in grid.find_elements(By.CSS_SELECTOR, 'td[role="gridcell"]')
        ]
        headers = [h.get_attribute("textContent") for h in grid.find_elements(By.CSS_SELECTOR, "th")]
        driver.save_screenshot(str(ARTIFACTS / "streamlit_example.png"))
    finally:
        driver.quit()
    assert [h for h in headers if h] == ["id", "name", "age", "city"]
    assert cells[:4] == ["1", "Ada", "36", "London"]
    assert {"Grace", "Linus", "Margaret", "Edsger"} <= set(cells)
    assert (ARTIFACTS / "streamlit_example.png").stat().st_size > 10_000
