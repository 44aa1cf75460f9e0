"""The workspace's new pieces in Debian's chromium (Playwright, issue #19): a person's map on their profile, media
thumbnails in the thread, the OCR boxes over the image in the source view, and the trace table's headings; each
with no console error and no request outside the server's origin. Screenshots go to screens/ (not committed)."""

from __future__ import annotations

import serve_helpers as sh
from serve_helpers import page_for, running, screenshot
from test_serve_features import add_exhibit, located, media_zip
from test_serve_views_browser import wait_until

demo_case, demo_copy, browser = sh.demo_case, sh.demo_copy, sh.browser  # fixtures


def test_profile_map_and_thumbnails(browser, demo_copy, tmp_path):
    add_exhibit(demo_copy, media_zip(tmp_path), "M1")
    located(demo_copy)
    with running(demo_copy, read_only=True) as (base, ws), page_for(browser, base) as (pg, rec):
        pid = ws.store.rows("SELECT id FROM entities WHERE kind = 'person' AND label = 'Rizwan'")[0]["id"]
        chat = ws.store.rows("SELECT chat_id FROM messages WHERE chat_name = 'Visa papers' LIMIT 1")[0]["chat_id"]
        pg.goto(f"{base}/people/{pid}?token={ws.token}")
        pg.wait_for_selector("#map svg path.land")
        pg.wait_for_selector("#map svg circle.place")
        assert pg.locator("#map svg circle.place").count() == 2
        assert "2 of 2 locations shown" in pg.inner_text("#map-status")
        assert pg.locator("#map-rows tbody tr").count() == 2
        screenshot(pg, "ws-profile")
        # the thread: the photo as a thumbnail (loaded, at most 160 px), the voice note and the PDF as typed icons with hashes
        pg.goto(f"{base}/chat?chat={chat}")
        pg.wait_for_selector("img.thumb")
        wait_until(lambda: pg.evaluate("() => document.querySelector('img.thumb').naturalWidth") > 0)  # the CSP refuses wait_for_function
        assert pg.evaluate("() => document.querySelector('img.thumb').naturalWidth") == 160
        assert pg.locator(".media-icon.kind-audio").count() == 1 and pg.locator(".media-icon.kind-document").count() == 1
        assert pg.locator(".media-sha").count() == 3
        screenshot(pg, "ws-chat-media")
        assert rec.errors == [] and rec.foreign(base) == []
        assert any("/thumb/" in u for u in rec.requests) and not any("/media?record=" in u for u in rec.requests)


def test_ocr_boxes_over_the_image(browser, demo_case):
    with running(demo_case, read_only=True) as (base, ws), page_for(browser, base) as (pg, rec):
        blocks = ws.store.rows("SELECT id, bbox FROM ocr_text ORDER BY locator")
        pg.goto(f"{base}/source?record={blocks[1]['id']}&token={ws.token}")
        pg.wait_for_selector("figure.ocr svg image")
        assert pg.locator("figure.ocr svg rect").count() == len(blocks)
        hit = pg.locator("figure.ocr svg rect.hit")
        assert hit.count() == 1 and [int(hit.get_attribute(a)) for a in ("x", "y", "width", "height")] == list(blocks[1]["bbox"])
        # the box sits over the image where the OCR read it: its share of the drawn image is the bbox's share of the pixels
        svg, box = pg.locator("figure.ocr svg").bounding_box(), hit.bounding_box()
        w, h = (int(v) for v in pg.locator("figure.ocr svg").get_attribute("viewBox").split()[2:])
        assert abs((box["x"] - svg["x"]) / svg["width"] - blocks[1]["bbox"][0] / w) < 0.01
        assert abs((box["y"] - svg["y"]) / svg["height"] - blocks[1]["bbox"][1] / h) < 0.01
        screenshot(pg, "ws-source-ocr")
        assert rec.errors == [] and rec.foreign(base) == []


def test_the_trace_table_headings(browser, demo_copy):
    with running(demo_copy) as (base, ws), page_for(browser, base) as (pg, rec):
        pg.goto(f"{base}/money?token={ws.token}")
        pg.fill("#account", "0081234567")
        pg.click("#run-trace")
        pg.wait_for_selector("#trace-rows tbody tr")
        heads = pg.locator("#trace-rows thead th").all_text_contents()
        assert heads == [
            "Account reached",
            "Transfers on the path",
            "Path (amounts, when)",
            "Received, per currency",
            "Tainted, per currency",
            "Transfers cited",
        ]
        row = pg.locator("#trace-rows tbody tr", has_text="8001234501").first
        assert "LKR 4,500,000.00 (3 transfers)" in row.inner_text()
        screenshot(pg, "ws-money")
        assert rec.errors == [] and rec.foreign(base) == []
