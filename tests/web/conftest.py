"""Browser tests: a real server process on loopback, a real Chromium (Debian's, driven by
Playwright), a planner and an auditor account, and the sample county drawn and published."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PLANNER = ("planner1", "planner-password-1")
AUDITOR = ("auditor1", "auditor-password-1")
LEADER = ("leader1", "leader-password-1")
ADMIN = ("admin1", "admin-password-1")
TREE = ROOT / "tests" / "api" / "data" / "agencies_tree.csv"
AGENCY = "SJ130000"  # every test account is of the province (the test tree's top market agency)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def run_server(tmp: Path) -> Iterator[dict]:
    """``randinspect serve``'s app on a free loopback port with a fresh SQLite database in ``tmp``
    and the test agency tree with four province accounts (planner, auditor, leader, admin). Yields {"base": "http://127.0.0.1:PORT", "database_url": ..., "tmp": Path}."""
    url = f"sqlite:///{tmp / 'web.db'}"
    env = {**os.environ, "RANDINSPECT_DATABASE_URL": url}
    subprocess.run(
        [sys.executable, "-m", "randinspect.cli", "agencies", "load", str(TREE)],
        env=env, cwd=ROOT, check=True, capture_output=True,
    )
    for name, password in (PLANNER, AUDITOR, LEADER, ADMIN):
        role = name.rstrip("0123456789")
        subprocess.run(
            [sys.executable, "-m", "randinspect.cli", "user", "add", name, "--role", role, "--agency", AGENCY, "--password-stdin"],
            input=password + "\n", text=True, env=env, cwd=ROOT, check=True, capture_output=True,
        )
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.main:create_app", "--factory", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env=env, cwd=ROOT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        server.kill()
        pytest.fail("the server did not start")
    try:
        yield {"base": base, "database_url": url, "tmp": tmp}
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[dict]:
    """The session's shared server (see :func:`run_server`)."""
    with run_server(tmp_path_factory.mktemp("web")) as server:
        yield server


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, tmp_path):
    """A fresh browser context per test; a screenshot of the last page is saved under tmp_path."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    yield pg
    try:
        pg.screenshot(path=str(tmp_path / "last.png"), full_page=True)
    finally:
        context.close()


def api_token(base: str, who: tuple[str, str] = PLANNER) -> dict:
    r = httpx.post(f"{base}/api/login", data={"username": who[0], "password": who[1]}, timeout=30)
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}
