"""Money, Timeline, Map and Report builder views over HTTP (Starlette TestClient), against the demo case."""

from __future__ import annotations

from pathlib import Path

import serve_helpers as sh

demo_case, demo_copy = sh.demo_case, sh.demo_copy


def test_money_trace_gives_the_cli_answer_and_is_logged_with_the_user(demo_copy):
    with sh.client(demo_copy) as (c, ws, csrf):
        page = c.get("/money")
        assert page.status_code == 200 and "0081234567" in page.text and "structuring" in page.text
        r = c.post("/api/money/trace", json={"account": "0081234567", "model": "haircut"}, headers={"X-CSRF-Token": csrf})
        assert r.status_code == 200, r.text
        out = r.json()
        assert out["detector"] == "trace:forward:haircut:0081234567"
        lkr = next(d for d in out["diagrams"] if d["currency"] == "LKR")
        big = next(l for l in lkr["links"] if l["to"] == "8001234501")  # noqa: E741
        assert big["amount_text"] == "LKR 4,500,000.00" and big["transfers"] == 3 and len(big["record"]) == 3
        events = ws.case.custody.events()
        assert events[-1]["action"] == "trace" and events[-1]["actor"] == ws.examiner
        assert events[-1]["seq"] == out["custody_seq"]
        digest = out["findings_sha256"]
    # the CLI on the same case state writes the same findings (same digest)
    from click.testing import CliRunner

    from casegraph.cli import main

    res = CliRunner().invoke(main, ["trace", str(demo_copy), "--from", "0081234567", "--model", "haircut"])
    assert res.exit_code == 0, res.output
    from casegraph.case import Case

    with Case(demo_copy, read_only=True) as case:
        ev = case.custody.events()[-1]
    assert ev["action"] == "trace" and ev["outputs"][0]["sha256"] == digest


def test_typology_summaries_keep_a_date_a_date(demo_case):
    """The demo's statement gives dates only: a structuring summary named '2024-04-07 18:30 UTC' (the UTC start
    of the local day 2024-04-08) for a deposit the statement dates 2024-04-08."""
    with sh.client(demo_case, read_only=True) as (c, _ws, _csrf):
        page = c.get("/money").text
    assert "between 2024-04-08 and 2024-04-13 (dates only)" in page and "18:30 UTC" not in page


def test_money_trace_refused_read_only_and_bad_input_is_400(demo_case, demo_copy):
    with sh.client(demo_case, read_only=True) as (c, ws, csrf):
        n = len(ws.case.custody.events())
        r = c.post("/api/money/trace", json={"account": "0081234567"}, headers={"X-CSRF-Token": csrf})
        assert r.status_code == 403 and len(ws.case.custody.events()) == n
    with sh.client(demo_copy) as (c, ws, csrf):
        r = c.post("/api/money/trace", json={"account": "no-such-account"}, headers={"X-CSRF-Token": csrf})
        assert r.status_code in (400, 404) and "no-such-account" in r.json()["error"]
        r = c.post("/api/money/trace", json={"account": "0081234567", "model": "magic"}, headers={"X-CSRF-Token": csrf})
        assert r.status_code == 400
        r = c.post("/api/money/trace", json={"account": "0081234567"})  # no CSRF token
        assert r.status_code == 403


FIXTURES = Path(__file__).parent / "fixtures"


def add_locations(case) -> None:
    """Take two real-shaped exports with locations into the case through the CLI (so the case still verifies):
    a German WhatsApp export with a shared location (tests/fixtures/whatsapp/locations_de.txt) and a Telegram
    Desktop export with a location and a venue (tests/fixtures/telegram/locations_calls.json)."""
    from click.testing import CliRunner

    from casegraph.cli import main

    for n, f in enumerate(("whatsapp/locations_de.txt", "telegram/locations_calls.json")):
        r = CliRunner().invoke(
            main, ["evidence", "add", str(case), str(FIXTURES / f), "--exhibit", f"L{n}", "--seized-from", "test", "--acquired-by", "test"]
        )
        assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, ["ingest", str(case)])
    assert r.exit_code == 0, r.output


def test_timeline_lanes_points_and_bins(demo_case):
    with sh.client(demo_case, read_only=True) as (c, ws, _csrf):
        assert c.get("/timeline").status_code == 200
        d = c.get("/api/timeline").json()
        groups = {lane["group"] for lane in d["lanes"]}
        assert {"kind", "person", "indicator", "finding"} <= groups and d["mode"] == "points"
        day = [p for p in d["points"] if p["day_only"]]
        assert day and all(p["time"].endswith("(date only)") for p in day)  # a date stays a date
        assert all(":" not in p["time"].split(" (")[0] for p in day)
        # a line with no sender (WhatsApp's encryption notice) keeps its text (it was '' when the sender was NULL)
        system = [p for p in d["points"] if p["kind"] == "messages" and "end-to-end encrypted" in p["text"]]
        assert system and not system[0]["text"].startswith(":")
        # a window holding more than max_points comes back as counts, never as every record
        from casegraph.reports.timeline import timeline

        b = timeline(ws.store, max_points=5)
        assert b["mode"] == "bins" and not b["points"] and sum(x["n"] for x in b["bins"] if x["lane"].startswith("k:")) == b["total"]
        # brushing: a narrower window holds fewer records; a kind filter keeps only that kind
        lo, hi = d["window"]
        half = c.get(f"/api/timeline?since={lo}&until={(lo + hi) // 2}").json()
        assert 0 < half["total"] < d["total"]
        only = c.get("/api/timeline?kinds=transactions").json()
        assert {p["kind"] for p in only["points"]} == {"transactions"}
        person = next(lane for lane in d["lanes"] if lane["group"] == "person")
        mine = c.get(f"/api/timeline?party={person['key'][2:]}").json()
        assert mine["total"] == person["n"]


def test_map_places_from_real_shaped_exports(demo_copy):
    add_locations(demo_copy)
    with sh.client(demo_copy, read_only=True) as (c, _ws, _csrf):
        assert c.get("/map").status_code == 200
        d = c.get("/api/map/places").json()
        assert d["total"] >= 3 and d["shown"] == d["total"]
        kinds = {k["kind"] for k in d["kinds"]}
        assert "shared-location" in kinds or "map-link" in kinds
        p = d["places"][0]
        assert p["lat"] and p["lon"] and p["id"].startswith("locations/")
        # coordinates as the source wrote them (exact decimals as text, never floats)
        assert all(isinstance(x["lat"], str) for x in d["places"])
        berlin = [x for x in d["places"] if x["lat"] == "52.520008"]  # `?q=52.520008,13.404954`, not padded with zeros
        assert berlin and berlin[0]["lon"] == "13.404954"


def test_report_builder_writes_report_and_bundle_logged_with_the_user_and_verifies(demo_copy):
    from casegraph import review
    from casegraph.case import Case

    with Case(demo_copy) as case:
        mid = case.store.rows("SELECT id FROM messages ORDER BY id LIMIT 1")[0]["id"]
        review.tag_record(case, mid, "recruiter's offer", actor="SI Silva")
    with sh.client(demo_copy) as (c, ws, csrf):
        page = c.get("/report")
        assert page.status_code == 200 and "recruiter&#39;s offer" in page.text
        r = c.post(
            "/api/report/build",
            json={"items": ["tag:1"], "interpretation": "The payments follow the recruiter's messages.", "redact": True},
            headers={"X-CSRF-Token": csrf},
        )
        assert r.status_code == 200, r.text
        out = r.json()
        assert out["verify"]["verdict"] == "VERIFIED" and out["bundle"]["name"].endswith("-redacted") and out["items"] == 1
        events = ws.case.custody.events()
        mine = [e for e in events if e["action"] in ("report-written", "bundle-written")][-2:]
        assert [e["action"] for e in mine] == ["report-written", "bundle-written"] and all(e["actor"] == ws.examiner for e in mine)
        html = (ws.root / "reports" / out["report"][0]["name"]).read_text(encoding="utf-8")
        assert "recruiter&#39;s offer" in html or "recruiter's offer" in html
        bad = c.post("/api/report/build", json={"items": ["tag:999"]}, headers={"X-CSRF-Token": csrf})
        assert bad.status_code == 400
    with sh.client(demo_copy, read_only=True) as (c, ws, csrf):
        n = len(ws.case.custody.events())
        assert c.post("/api/report/build", json={}, headers={"X-CSRF-Token": csrf}).status_code == 403
        assert len(ws.case.custody.events()) == n


def test_timeline_of_a_large_window_counts_from_the_tables(demo_case, monkeypatch):
    """Above PARTY_LIMIT records the window is counted per kind and bin straight from the record tables (no
    record ids worked out for the whole case); indicators and findings still placed by their own records."""
    from casegraph.case import Case
    from casegraph.reports import timeline as tl

    with Case(demo_case, read_only=True) as case:
        small = tl.timeline(case.store)
        monkeypatch.setattr(tl, "PARTY_LIMIT", 10)
        big = tl.timeline(case.store, max_points=5)
    assert big["mode"] == "bins" and big["people_from"] == 10 and big["total"] == small["total"]
    assert sum(b["n"] for b in big["bins"] if b["lane"].startswith("k:")) == big["total"]
    assert {lane["key"] for lane in big["lanes"] if lane["group"] == "indicator"} == {
        lane["key"] for lane in small["lanes"] if lane["group"] == "indicator"
    }
    assert [f["id"] for f in big["findings"]] == [f["id"] for f in small["findings"]]
