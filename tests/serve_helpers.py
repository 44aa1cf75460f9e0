"""Shared by the workspace tests (tests/test_serve*.py): a demo case per module, an app behind a
TestClient already holding a session, a real server on a free loopback port, and a Chromium page that
records every request and console error.

    from serve_helpers import demo_copy, client, running, browser, page_for   # noqa: F401 (fixtures)
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from browser_helpers import CHROMIUM, CHROMIUM_ARGS
from starlette.testclient import TestClient

from casegraph.serve import Workspace, create_app

SCREENS = Path(__file__).resolve().parents[1] / "screens"  # screenshots to look at (not committed)


@pytest.fixture(scope="session")
def demo_case(tmp_path_factory) -> Path:
    """The demo case, built once per test session (about 20 s); copy it (demo_copy) before writing to it."""
    from casegraph.demo.run import run_demo

    root = tmp_path_factory.mktemp("serve-demo")
    run_demo(root, overwrite=True, say=lambda s: None)
    return root / "case"


@pytest.fixture
def demo_copy(demo_case, tmp_path) -> Path:
    """A fresh writable copy of the demo case for one test (evidence files keep their read-only bits)."""
    dest = tmp_path / "case"
    shutil.copytree(demo_case, dest, ignore=shutil.ignore_patterns(".casegraph.lock"))
    return dest


def csrf_of(html: str) -> str:
    m = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert m, "no CSRF token in the page"
    return m.group(1)


@contextmanager
def client(
    case: Path, *, read_only: bool = False, accounts: bool = False, login: bool = True
) -> Iterator[tuple[TestClient, Workspace, str]]:
    """(TestClient, Workspace, csrf): with `login`, the client already opened the token address (token mode)."""
    ws = Workspace(case, read_only=read_only, accounts=accounts)
    try:
        c = TestClient(create_app(ws), base_url="http://127.0.0.1:8750", follow_redirects=False)
        csrf = ""
        if login and not accounts:
            assert c.get(f"/?token={ws.token}").status_code == 303
            csrf = csrf_of(c.get("/").text)
        yield c, ws, csrf
    finally:
        ws.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running(case: Path, *, read_only: bool = False, accounts: bool = False) -> Iterator[tuple[str, Workspace]]:
    """A real uvicorn server on 127.0.0.1 in a thread: (base URL, Workspace); stopped and the case closed after."""
    import uvicorn

    ws = Workspace(case, read_only=read_only, accounts=accounts)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(ws), host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and t.is_alive(), "the workspace server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", ws
    finally:
        server.should_exit = True
        t.join(10)
        ws.close()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("CI must have Debian's chromium (scripts/bootstrap.sh installs it)")
        pytest.skip("Debian's chromium is not installed (scripts/bootstrap.sh installs it)")
    sync_api = pytest.importorskip("playwright.sync_api") if not os.environ.get("CI") else __import__("playwright.sync_api").sync_api
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


class Recorded:
    """What a page did: every request's URL, and every console error or page error."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.errors: list[str] = []

    def foreign(self, base: str) -> list[str]:
        return [u for u in self.requests if not (u.startswith(base + "/") or u == base or u.startswith("data:") or u.startswith("blob:"))]


@contextmanager
def page_for(browser, base: str, width: int = 1400, height: int = 900):
    """(page, Recorded) in a fresh browser context; requests outside `base` are recorded and aborted."""
    ctx = browser.new_context(viewport={"width": width, "height": height})
    pg = ctx.new_page()
    rec = Recorded()
    pg.on("console", lambda m: rec.errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: rec.errors.append(str(e)))
    pg.on("request", lambda r: rec.requests.append(r.url))
    pg.route("**/*", lambda route: route.continue_() if route.request.url.startswith(base) else route.abort())
    try:
        yield pg, rec
    finally:
        ctx.close()


def screenshot(pg, name: str) -> Path:
    SCREENS.mkdir(exist_ok=True)
    path = SCREENS / f"{name}.png"
    pg.screenshot(path=str(path), full_page=True)
    return path
