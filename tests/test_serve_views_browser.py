"""Money, Timeline, Map and Report builder in Debian's chromium (Playwright, issue #19): trace the money and
see the flow diagram, brush the timeline, draw the map offline, build a redacted report and bundle and see
the verify result; every write in custody with the user; no console error; no request leaves the origin.
Screenshots go to screens/ (not committed) to be looked at."""

from __future__ import annotations

import time

import serve_helpers as sh
from serve_helpers import page_for, running, screenshot
from test_serve_views import add_locations

demo_case, demo_copy, browser = sh.demo_case, sh.demo_copy, sh.browser  # fixtures


def wait_until(ok, seconds: float = 20) -> None:
    """Poll from Python (the CSP forbids the string evaluation page.wait_for_function uses)."""
    deadline = time.monotonic() + seconds
    while not ok():
        assert time.monotonic() < deadline, "the page did not get there in time"
        time.sleep(0.1)


def test_trace_the_money_and_see_the_flow_diagram(browser, demo_copy):
    with running(demo_copy) as (base, ws), page_for(browser, base) as (pg, rec):
        pg.goto(f"{base}/money?token={ws.token}")
        pg.fill("#account", "0081234567")
        pg.select_option("#model", "fifo")
        pg.click("#run-trace")
        pg.wait_for_selector("figure.flow svg path.flow-link", state="attached")
        amounts = pg.locator("text.flow-amount").all_text_contents()
        assert "LKR 4,500,000.00" in amounts and all(a.startswith(("LKR ", "USDT ")) for a in amounts)
        assert pg.locator("#trace-rows tbody tr").count() >= 2
        assert "custody event" in pg.inner_text("#trace-status")
        screenshot(pg, "money")
        ev = ws.case.custody.events()[-1]
        assert ev["action"] == "trace" and ev["actor"] == ws.examiner and ev["details"]["model"] == "fifo"
        assert rec.errors == [] and rec.foreign(base) == []


def test_timeline_brushes_into_a_window(browser, demo_case):
    with running(demo_case, read_only=True) as (base, ws), page_for(browser, base) as (pg, rec):
        pg.goto(f"{base}/timeline?token={ws.token}")
        pg.wait_for_selector("#tl-chart svg .tl-point")
        before = pg.locator("#tl-records tbody tr").count()
        screenshot(pg, "timeline")
        box = pg.locator("#tl-chart svg").bounding_box()
        y = box["y"] + 40
        with pg.expect_response(lambda r: "/api/timeline?" in r.url and "since=" in r.url):
            pg.mouse.move(box["x"] + 200, y)
            pg.mouse.down()
            pg.mouse.move(box["x"] + 200 + (box["width"] - 220) * 0.45, y, steps=8)
            pg.mouse.up()
        wait_until(lambda: pg.locator("#tl-records tbody tr").count() < before)
        screenshot(pg, "timeline-brushed")
        pg.click("#tl-reset")
        wait_until(lambda: pg.locator("#tl-records tbody tr").count() == before)
        assert rec.errors == [] and rec.foreign(base) == []


def test_map_draws_offline(browser, demo_copy):
    add_locations(demo_copy)
    with running(demo_copy, read_only=True) as (base, ws), page_for(browser, base) as (pg, rec):
        pg.goto(f"{base}/map?token={ws.token}")
        pg.wait_for_selector("#map svg path.land")
        pg.wait_for_selector("#map svg circle.place")
        assert pg.locator("#map svg circle.place").count() >= 3
        assert pg.locator("#map-rows tbody tr").count() >= 3
        screenshot(pg, "map")
        assert rec.errors == [] and rec.foreign(base) == []
        assert any(u.endswith("/vendor/countries-50m.json") for u in rec.requests)


def test_build_a_redacted_report_and_bundle_and_see_the_verify_result(browser, demo_copy):
    from casegraph import review
    from casegraph.case import Case

    with Case(demo_copy) as case:
        mid = case.store.rows("SELECT id FROM messages WHERE text ILIKE '%passport%' ORDER BY id LIMIT 1")[0]["id"]
        review.tag_record(case, mid, "passport kept by the agent", actor="SI Silva")
    with running(demo_copy) as (base, ws), page_for(browser, base) as (pg, rec):
        pg.goto(f"{base}/report?token={ws.token}")
        pg.fill("#interpretation", "The agent kept the passports and took the fees.")
        assert pg.is_checked("#redact")
        pg.click("#build")
        pg.wait_for_selector("#verify-verdict", timeout=180_000)
        assert pg.inner_text("#verify-verdict") == "VERIFIED"
        screenshot(pg, "report")
        evs = [e for e in ws.case.custody.events() if e["action"] in ("report-written", "bundle-written")]
        assert len(evs) >= 2 and all(e["actor"] == ws.examiner for e in evs[-2:]) and evs[-1]["details"]["redacted"]
        assert rec.errors == [] and rec.foreign(base) == []
