"""The workspace in Debian's chromium (Playwright, issue #19): the examiner's flow on the demo case, with
every request recorded (none may leave the server's origin) and no console error. Screenshots of each
view go to screens/ (not committed) to be looked at."""

from __future__ import annotations

import serve_helpers as sh
from serve_helpers import page_for, running, screenshot

demo_case, demo_copy, browser = sh.demo_case, sh.demo_copy, sh.browser  # fixtures


def test_overview_opens_with_the_token_and_verifies(browser, demo_copy):
    with running(demo_copy) as (base, ws), page_for(browser, base) as (pg, rec):
        pg.goto(f"{base}/?token={ws.token}")
        assert pg.url == base + "/"  # the token left the address bar
        pg.click("#verify")
        pg.wait_for_selector("#verify-result.ok")
        assert "INTACT" in pg.inner_text("#verify-result")
        screenshot(pg, "overview")
        assert rec.errors == [] and rec.foreign(base) == []
