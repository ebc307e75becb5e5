"""Fixtures of the playground tests: an app with just the playground router, a test client, a
real uvicorn server on a free loopback port and a Chromium page for the browser tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient

import playground
from tests.conftest import ROOT
from tests.playground import samples

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # the tests run as root
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",  # no outside network here
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "test-artifacts"
SERVER_START_S = 20.0


EXAMPLES_ENV = "ACCRUAL_TEST_PLAYGROUND_EXAMPLES"


def playground_app() -> Litestar:
    """The playground alone (uvicorn factory: `tests.playground.conftest:playground_app`), with
    its examples from the directory named by $ACCRUAL_TEST_PLAYGROUND_EXAMPLES when set."""
    examples = os.environ.get(EXAMPLES_ENV)
    router = playground.create_router(Path(examples)) if examples else playground.router
    return Litestar(route_handlers=[router])


@pytest.fixture(scope="module")
def examples_dir(tmp_path_factory) -> Path:
    """A directory with one example program (`cafe`) and a file that is not an example."""
    directory = tmp_path_factory.mktemp("examples")
    (directory / "cafe.yaml").write_text(samples.EXAMPLE, encoding="utf-8")
    (directory / "notes.txt").write_text("not a bundle", encoding="utf-8")
    return directory


@pytest.fixture
def client(examples_dir):
    with TestClient(app=Litestar(route_handlers=[playground.create_router(examples_dir)])) as test_client:
        yield test_client


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server_url(examples_dir):
    """A real uvicorn serving the playground on 127.0.0.1, stopped after the module."""
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "tests.playground.conftest:playground_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), EXAMPLES_ENV: str(examples_dir)}
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_START_S
    try:
        while True:
            try:
                if httpx.get(f"{url}/playground", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start (exit code {process.poll()})")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (tests/services/services.sh installs the Debian package)")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server_url):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    yield tab
    context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
