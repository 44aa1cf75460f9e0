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


def test_screens_of_conversations_and_sources(browser, demo_case):
    from urllib.parse import quote

    with running(demo_case, read_only=True) as (base, ws), page_for(browser, base) as (pg, rec):
        pg.goto(f"{base}/chats?token={ws.token}")
        screenshot(pg, "chats")
        pg.click("text=Recruits Batch 7")
        pg.wait_for_selector("ol.thread")
        screenshot(pg, "thread")
        pg.fill("input[name=q]", "பாஸ்போர்ட்")
        pg.click("form.tools button")
        pg.click(".hits a")
        pg.wait_for_selector("#at")
        screenshot(pg, "thread-search")
        pg.click("#at a.src")
        pg.wait_for_selector("table.lines tr.hit")
        screenshot(pg, "source-text")
        ocr = ws.store.one("SELECT id FROM ocr_text ORDER BY locator LIMIT 1")[0]
        pg.goto(f"{base}/source?record={quote(ocr)}")
        pg.wait_for_selector("figure.ocr svg rect.hit")
        screenshot(pg, "source-ocr")
        tx = ws.store.one("SELECT id FROM transactions ORDER BY locator LIMIT 1")[0]
        pg.goto(f"{base}/source?record={quote(tx)}")
        screenshot(pg, "source-row")
        assert rec.errors == [] and rec.foreign(base) == []
