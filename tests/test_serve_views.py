"""Money, Timeline, Map and Report builder views over HTTP (Starlette TestClient), against the demo case."""

from __future__ import annotations

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
        lkr = [d for d in out["diagrams"] if d["currency"] == "LKR"][0]
        big = [l for l in lkr["links"] if l["to"] == "8001234501"][0]  # noqa: E741
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
