"""The workspace in Debian's chromium (Playwright, issue #19): the examiner's flow on the demo case, with
every request recorded (none may leave the server's origin) and no console error. Screenshots of each
view go to screens/ (not committed) to be looked at."""

from __future__ import annotations

import httpx2 as httpx
import serve_helpers as sh
from serve_helpers import page_for, running, screenshot

from casegraph.case import Case
from casegraph.serve import users

demo_case, demo_copy, browser = sh.demo_case, sh.demo_copy, sh.browser  # fixtures
EXAMINER = "IP Silva"


def _wait_nodes(pg, more_than: int, seconds: float = 15) -> int:
    """Poll the graph's node count (wait_for_function evaluates a string: the page's CSP refuses eval)."""
    import time

    deadline = time.monotonic() + seconds
    while (n := pg.evaluate("() => window.casegraphGraph.nodes().length")) <= more_than:
        assert time.monotonic() < deadline, f"the graph still shows {n} node(s)"
        pg.wait_for_timeout(100)
    return n


def test_the_examiners_flow(browser, demo_copy):
    with Case(demo_copy).acquire("test") as case:
        users.add_user(case, EXAMINER, "examiner", "a long enough passphrase", actor="IP R. Bandara")
    with running(demo_copy, accounts=True) as (base, _ws), page_for(browser, base) as (pg, rec):
        pg.on("dialog", lambda d: d.accept("her passport was taken at the airport (Tamil)"))
        # 1. open (accounts mode: the login page), log in
        pg.goto(base + "/")
        pg.fill("input[name=user]", EXAMINER)
        pg.fill("input[name=password]", "a long enough passphrase")
        pg.click("button")
        pg.wait_for_selector("section.counts")
        screenshot(pg, "overview")
        # 2. search "passport" and open the Tamil message's thread
        pg.click("nav >> text=Search")
        pg.fill("input[name=q]", "passport")
        pg.click("form.tools button")
        pg.wait_for_selector("table.results")
        screenshot(pg, "search")
        pg.locator("table.results tr", has_text="பாஸ்போர்ட்டை").locator("a.thread").click()
        pg.wait_for_selector("#at")
        assert "பாஸ்போர்ட்டை" in pg.inner_text("#at")
        # 3. tag it
        with pg.expect_navigation():
            pg.click("#at button.tag")
        pg.wait_for_selector("#at .tagged")
        screenshot(pg, "thread")
        # 4. review a same-person pair and merge it
        pg.click("nav >> text=Review")
        pair = pg.locator("section.pair", has_text="Nuwan Jayawardena / Nuwan Agent")
        pair.locator("input.reason").fill("the agent's phone and the group's admin are one man (P1 contacts, P2 chat)")
        screenshot(pg, "review")
        with pg.expect_navigation():  # the page reloads once the merge is recorded
            pair.locator("button.merge").click()
        assert pg.locator("section.pair", has_text="Nuwan Jayawardena / Nuwan Agent").count() == 0
        # 5. mark the victim (from the person's profile)
        pg.click("nav >> text=People")
        pg.click("table.grid >> text=Kasun")
        pg.select_option("#mark select[name=role]", "victim")
        pg.fill("#mark input[name=reason]", "complainant; his passport was taken in Myawaddy")
        with pg.expect_navigation():  # the page reloads once the mark is recorded
            pg.click("#mark button")
        pg.wait_for_selector("h1 .badge.role")
        screenshot(pg, "profile")
        # 7. expand the graph
        pg.click("nav >> text=Graph")
        pg.wait_for_selector("#cy canvas")
        pg.fill("#find", "Nuwan")
        pg.wait_for_selector("#found button")
        pg.click("#found button >> nth=0")
        first = _wait_nodes(pg, 1)
        pg.evaluate("() => window.casegraphGraph.nodes().filter(n => n.data('kind') === 'Person').forEach(n => n.emit('tap'))")
        _wait_nodes(pg, first)
        screenshot(pg, "graph")
        assert rec.errors == [], rec.errors
        assert rec.foreign(base) == [], rec.foreign(base)
    # 9. the custody log holds each action with the user
    events = Case(demo_copy).custody.events()
    mine = {e["action"] for e in events if e["actor"] == EXAMINER}
    assert {"search-index", "record-tag", "entities-merge", "entities-mark", "resolve"} <= mine, mine
    tag = next(e for e in events if e["action"] == "record-tag")
    assert tag["details"]["record_id"].endswith("zip:_chat.txt#line:15-16") and "passport" in tag["details"]["note"]


def test_read_only_refuses_writes_and_no_token_gets_nothing(browser, demo_copy):
    before = demo_copy.joinpath("custody.jsonl").read_bytes()
    with running(demo_copy, read_only=True) as (base, ws):
        assert httpx.get(base + "/").status_code == 401
        assert httpx.get(base + "/static/app.js").status_code == 401
        auth = {"Authorization": f"Bearer {ws.token}"}
        for url, body in [
            ("/api/tags", {"record": "x", "note": "y"}),
            ("/api/review/merge", {"a": "x", "b": "y", "reason": "z"}),
            ("/api/people/mark", {"entity": "Kasun", "role": "victim", "reason": "z"}),
            ("/api/findings/decide", {"finding": "x", "verdict": "confirmed", "reason": "z"}),
            ("/api/graph/pin", {"title": "t", "nodes": ["x"]}),
            ("/api/search/index", {}),
        ]:
            r = httpx.post(base + url, json=body, headers=auth)
            assert r.status_code == 403 and "read-only" in r.json()["error"], (url, r.text)
        with page_for(browser, base) as (pg, rec):
            pg.goto(f"{base}/review?token={ws.token}")
            assert pg.locator("button.merge").count() == 0 and pg.locator("#mark").count() == 0  # no write controls shown
            pg.goto(f"{base}/chats")
            pg.click("text=Recruits Batch 7")
            assert pg.locator("button.tag").count() == 0
            screenshot(pg, "thread-read-only")
            assert rec.errors == [] and rec.foreign(base) == []
    assert demo_copy.joinpath("custody.jsonl").read_bytes() == before


def test_screens_of_sources_and_reviewer_redaction(browser, demo_copy):
    from urllib.parse import quote

    with Case(demo_copy).acquire("test") as case:
        users.add_user(case, "ASP Fernando", "reviewer", "another long phrase", actor="IP R. Bandara")
    with running(demo_copy, accounts=True) as (base, ws), page_for(browser, base) as (pg, rec):
        pg.goto(base + "/login")
        pg.fill("input[name=user]", "ASP Fernando")
        pg.fill("input[name=password]", "another long phrase")
        pg.click("button")
        pg.goto(base + "/chat?chat=" + quote("whatsapp:Nuwan Agent"))
        text = pg.inner_text("main")
        assert "Kasun" not in text and "Victim-1" in text
        screenshot(pg, "thread-reviewer")
        ocr = ws.store.one("SELECT id FROM ocr_text ORDER BY locator LIMIT 1")[0]
        pg.goto(f"{base}/source?record={quote(ocr)}")
        screenshot(pg, "source-ocr-reviewer")
        pg.goto(f"{base}/source?record={quote('messages/aa14bb75559f28a10fd17147cc0c21f8/whatsapp-export/zip:_chat.txt#line:15-16')}")
        pg.wait_for_selector("table.lines tr.hit")
        screenshot(pg, "source-text")
        assert rec.errors == [] and rec.foreign(base) == []
