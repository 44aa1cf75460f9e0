"""The workspace (`casegraph serve`, issue #19) through Starlette's TestClient: the gate (token, accounts,
CSRF, headers), read-only refusal at the API, reviewers' redaction, and each view's library answers."""

from __future__ import annotations

import json

import pytest
import serve_helpers as sh
from serve_helpers import client, csrf_of

from casegraph.case import Case
from casegraph.serve import users

demo_case, demo_copy = sh.demo_case, sh.demo_copy  # fixtures


def test_nothing_is_served_without_the_token(demo_case):
    with client(demo_case, read_only=True, login=False) as (c, ws, _):
        for path in ("/", "/static/app.css", "/static/app.js", "/vendor/cytoscape.min.js", "/api/custody/verify", "/nowhere"):
            r = c.get(path)
            assert r.status_code == 401 and "token" in r.text
            assert r.headers["content-security-policy"].startswith("default-src 'none'")
        assert c.get("/?token=wrong").status_code == 401
        assert c.get("/", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert c.get("/", headers={"Authorization": f"Bearer {ws.token}"}).status_code == 200


def test_the_token_sets_a_strict_cookie_and_leaves_the_address(demo_case):
    with client(demo_case, read_only=True, login=False) as (c, ws, _):
        r = c.get(f"/?token={ws.token}&custody_from=0")
        assert r.status_code == 303 and r.headers["location"] == "/?custody_from=0"
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        page = c.get("/")
        assert page.status_code == 200 and ws.token not in page.text


def test_every_response_forbids_external_loads(demo_case):
    with client(demo_case, read_only=True) as (c, _, _csrf):
        for path in ("/", "/static/app.css", "/vendor/d3.min.js"):
            h = c.get(path).headers
            csp = h["content-security-policy"]
            assert "default-src 'none'" in csp and "script-src 'self'" in csp and "connect-src 'self'" in csp
            assert "http" not in csp and "unsafe" not in csp
            assert h["x-frame-options"] == "DENY" and h["cache-control"] == "no-store"
        html = c.get("/").text
        assert "<script>" not in html and "style=" not in html  # nothing inline: the CSP would refuse it


def test_writes_need_the_sessions_csrf_token_and_our_origin(demo_copy):
    with client(demo_copy) as (c, _, csrf):
        assert c.post("/api/custody/verify").status_code == 403
        assert c.post("/api/custody/verify", headers={"X-CSRF-Token": "forged"}).status_code == 403
        r = c.post("/api/custody/verify", headers={"X-CSRF-Token": csrf, "Origin": "http://evil.example"})
        assert r.status_code == 403
        r = c.post("/api/custody/verify", headers={"X-CSRF-Token": csrf, "Origin": "http://127.0.0.1:8750"})
        assert r.status_code == 200 and r.json()["ok"] and r.json()["logged"]
    events = Case(demo_copy).custody.events()
    assert events[-1]["action"] == "custody-verify" and events[-1]["actor"] == "IP R. Bandara"


def test_a_dns_rebound_host_name_is_refused(demo_case):
    from starlette.testclient import TestClient

    from casegraph.serve import Workspace, create_app

    ws = Workspace(demo_case, read_only=True)
    try:
        c = TestClient(create_app(ws, allowed_hosts=("127.0.0.1", "localhost")), base_url="http://attacker.example:8750")
        assert c.get(f"/?token={ws.token}").status_code == 400
    finally:
        ws.close()


def test_read_only_workspace_verifies_without_logging(demo_case):
    before = demo_case.joinpath("custody.jsonl").read_bytes()
    with client(demo_case, read_only=True) as (c, ws, csrf):
        r = c.post("/api/custody/verify", headers={"X-CSRF-Token": csrf})
        assert r.status_code == 200 and r.json()["ok"] and not r.json()["logged"]
        with pytest.raises(PermissionError):
            ws.case.log("anything")  # refused before the custody file is touched
    assert demo_case.joinpath("custody.jsonl").read_bytes() == before


def test_accounts_login_roles_and_argon2_hashes(demo_copy):
    with Case(demo_copy).acquire("test") as case:
        users.add_user(case, "IP Silva", "examiner", "correct horse battery", actor="IP R. Bandara")
        users.add_user(case, "ASP Fernando", "reviewer", "another long phrase", actor="IP R. Bandara")
        with pytest.raises(users.UserError):
            users.add_user(case, "x", "reviewer", "short")
    stored = json.loads(demo_copy.joinpath(users.USERS_FILE).read_text())
    assert stored["IP Silva"]["hash"].startswith("$argon2id$") and "correct horse" not in json.dumps(stored)
    assert oct(demo_copy.joinpath(users.USERS_FILE).stat().st_mode)[-3:] == "600"
    added = [e for e in Case(demo_copy).custody.events() if e["action"] == "workspace-user-add"]
    assert [e["details"] for e in added] == [{"user": "IP Silva", "role": "examiner"}, {"user": "ASP Fernando", "role": "reviewer"}]
    assert "hash" not in json.dumps(added[0]["details"])
    with client(demo_copy, accounts=True, login=False) as (c, ws, _):
        assert c.get("/", headers={"accept": "text/html"}).headers["location"] == "/login"
        assert c.get("/static/app.css").status_code == 401
        assert c.get(f"/?token={ws.token}").status_code == 401  # accounts mode: the token admits no one
        assert c.post("/login", content="user=IP+Silva&password=wrong+password").status_code == 401
        r = c.post("/login", content="user=ASP+Fernando&password=another+long+phrase")
        assert r.status_code == 303
        page = c.get("/")
        assert "ASP Fernando · reviewer" in page.text and "victims redacted" in page.text
        r = c.post("/api/custody/verify", headers={"X-CSRF-Token": csrf_of(page.text)})
        assert r.status_code == 200  # verifying is not a write: a reviewer may
        assert Case(demo_copy).custody.events()[-1]["actor"] == "ASP Fernando"


# -- conversations and sources -------------------------------------------------------------------
def _q(s: str) -> str:
    from urllib.parse import quote

    return quote(s, safe="")


GROUP = "whatsapp:Recruits Batch 7"
TAMIL = "messages/aa14bb75559f28a10fd17147cc0c21f8/whatsapp-export/zip:_chat.txt#line:15-16"


def test_thread_pages_keep_the_exports_order_and_never_load_more_than_shown(demo_case):
    from casegraph import browse

    with client(demo_case, read_only=True) as (c, ws, _):
        first = browse.thread(ws.store, GROUP, limit=5)
        # five system lines of one second stay in the export's line order (line:2 … line:6), not the locator's text order
        assert [m["locator"] for m in first["messages"]] == [f"zip:_chat.txt#line:{n}" for n in range(1, 6)]
        assert not first["more_before"] and first["more_after"]
        seen, page = [], first
        while True:
            seen += [m["id"] for m in page["messages"]]
            assert len(page["messages"]) <= 5
            if not page["more_after"]:
                break
            page = browse.thread(ws.store, GROUP, after=page["messages"][-1]["id"], limit=5)
        assert len(seen) == len(set(seen)) == 18
        back = browse.thread(ws.store, GROUP, before=seen[10], limit=5)
        assert [m["id"] for m in back["messages"]] == seen[5:10]
        html = c.get(f"/chat?chat={_q(GROUP)}&n=5").text
        assert html.count('class="msg ') == 5 and "later messages" in html


def test_thread_marks_system_deleted_media_and_times_as_recorded(demo_case):
    with client(demo_case, read_only=True) as (c, _, _csrf):
        html = c.get(f"/chat?chat={_q(GROUP)}").text
        assert 'class="msg system' in html and ">deleted</span>" in html
        assert "00000001-PHOTO-2024-04-10-07-35-17.jpg" in html and "e055c1cf7901600a" in html
        # local time as the phone recorded it, UTC beside it and on hover
        assert "2024-04-11 05:00 +05:30 (2024-04-10 23:30 UTC)" in html and 'title="2024-04-10 23:30:21 UTC"' in html
        assert 'lang="ta"' in html


def test_jump_to_date_search_in_chat_and_participant_filter(demo_case):
    with client(demo_case, read_only=True) as (c, _, _csrf):
        day = c.get(f"/chat?chat={_q(GROUP)}&day=2024-04-11").text
        assert day.index("2024-04-11 05:00") < day.index("2024-04-12 02:59") and "2024-04-10 20:58" not in day
        hits = c.get(f"/chat?chat={_q(GROUP)}&q={_q('பாஸ்போர்ட்')}").text
        assert "1 message with" in hits and _q(TAMIL).replace("%2F", "/") in hits
        only = c.get(f"/chat?chat={_q(GROUP)}&sender={_q('+94 75 444 5566')}").text
        assert only.count('class="msg ') == 2
        assert c.get(f"/chat?chat={_q(GROUP)}&at=nope").status_code == 404
        assert c.get(f"/chat?chat={_q(GROUP)}&n=abc").status_code == 400


def test_media_is_served_only_when_it_hashes_as_recorded(demo_case):
    with client(demo_case, read_only=True) as (c, _, _csrf):
        r = c.get(f"/media?record={_q('messages/aa14bb75559f28a10fd17147cc0c21f8/whatsapp-export/zip:_chat.txt#line:10')}")
        assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
        import hashlib

        assert hashlib.sha256(r.content).hexdigest().startswith("e055c1cf7901600a")
        assert c.get(f"/media?record={_q(TAMIL)}").status_code == 400  # no media file


def test_source_view_of_each_locator_form(demo_case):
    with client(demo_case, read_only=True) as (c, ws, _):
        text = c.get(f"/source?record={_q(TAMIL)}").text
        assert "aa14bb75559f28a10fd17147cc0c21f83914faadc191fc9ee304e7b0ad1db33c" in text and "_chat.txt" in text
        assert text.count('class="hit"') == 2 and text.count('class="ctx"') == 6  # lines 15-16, three of context each side
        ocr = ws.store.one("SELECT id FROM ocr_text ORDER BY locator LIMIT 1")[0]
        page = c.get(f"/source?record={_q(ocr)}").text
        assert '<rect class="hit" x="50" y="42" width="811" height="495">' in page and 'class="box"' in page
        assert c.get(f"/source/image?record={_q(ocr)}").headers["content-type"] == "image/png"
        row = ws.store.one("SELECT id FROM transactions WHERE locator = 'row:1' LIMIT 1")[0]
        assert "record 1 after the header" in c.get(f"/source?record={_q(row)}").text
        assert c.get("/source?record=findings/x").status_code == 400
        assert c.get(f"/source?record={_q('messages/none')}").status_code == 400


# -- full-text search ------------------------------------------------------------------------------
def test_full_text_search_across_scripts_and_romanised_forms(demo_copy):
    from casegraph import textsearch as ts

    with Case(demo_copy).acquire("test") as case:
        built = ts.build(case, actor="IP Silva")
        assert built["by_table"] == {"messages": 36, "ocr_text": 2, "contacts": 3, "transactions": 43}

        def found(q, **kw):
            return {(h.table, h.how, h.text.split()[0]) for h in ts.search(case, q, **kw).hits}

        tamil, sinhala = ("messages", "by sound", "என்"), ("messages", "by sound", "මගේ")
        assert {tamil, sinhala, ("messages", "exact", "Passport")} <= found("passport")  # English finds Tamil and Sinhala script
        assert ("messages", "exact", "என்") in found("பாஸ்போர்ட்")  # a substring inside the agglutinated word பாஸ்போர்ட்டை
        assert ("messages", "exact", "මගේ") in found("පාස්පෝට්")
        assert {("messages", "by sound", "salli")} <= found("සල්ලි")  # Sinhala script finds romanised Sinhala
        assert ("transactions", "exact", "SALARY") not in found("salli")  # a short sound key is a whole word's
        assert ts.clean("ශ්\u200dරී ලංකා") == "ශ්රී ලංකා" and ts.clean("e\u0301") == "é"  # ZWJ out, NFC; vowel signs kept
        assert found("USDT") == {("messages", "exact", "Salli")}  # Latin to Latin is exact only: no sound noise
        assert {h.table for h in ts.search(case, "Jayawardena", tables=("transactions",)).hits} <= {"transactions"}
        with pytest.raises(ts.SearchError):
            ts.search(case, "ab")
    events = Case(demo_copy).custody.events()
    assert events[-1]["action"] == "search-index" and events[-1]["actor"] == "IP Silva"
    assert events[-1]["outputs"][0]["sha256"] == __import__("hashlib").sha256(demo_copy.joinpath(ts.INDEX_FILE).read_bytes()).hexdigest()


def test_the_index_is_rebuilt_when_the_store_changes_and_refused_stale_read_only(demo_copy):
    from casegraph import textsearch as ts

    with client(demo_copy) as (c, _, _csrf):
        assert "4 records with “passport”" in c.get("/search?q=passport").text  # built on first use, logged
    with Case(demo_copy).acquire("test") as case:
        assert ts.status(case)["fresh"]
        case.store.con.execute("UPDATE parse_runs SET output_sha256 = 'changed' WHERE parser = 'vcard'")
        assert not ts.status(case)["fresh"]
    with client(demo_copy, read_only=True) as (c, _, _csrf):
        page = c.get("/search?q=passport").text
        assert "older than the case store" in page and "casegraph search-index" in page
    with client(demo_copy) as (c, _, _csrf):
        assert "4 records" in c.get("/search?q=passport").text
    assert [e["action"] for e in Case(demo_copy).custody.events()].count("search-index") == 2


def test_search_with_an_indicator_filter_and_by_meaning(demo_copy):
    with client(demo_copy) as (c, _, _csrf):
        page = c.get("/search?q=passport&indicator=document-confiscation").text
        assert "2 records with “passport”, cited by indicator document-confiscation" in page
        assert page.count(">document-confiscation</span>") == 2
        meaning = c.get(f"/search?q={_q('they took my passport')}&mode=meaning").text
        assert "indicator document-confiscation" in meaning


# -- people, graph, review ----------------------------------------------------------------------
NUWAN_P2, NUWAN_P1 = "person:f46aff05168cd145", "person:082655879d3fda67"


def test_every_write_is_refused_read_only_before_it_runs(demo_case):
    before = demo_case.joinpath("custody.jsonl").read_bytes()
    with client(demo_case, read_only=True) as (c, _, csrf):
        h = {"X-CSRF-Token": csrf}
        for url in (
            "/api/tags",
            "/api/review/merge",
            "/api/review/keep-apart",
            "/api/people/mark",
            "/api/findings/decide",
            "/api/graph/pin",
        ):
            r = c.post(url, headers=h, json={"record": "x", "note": "y", "a": "x", "b": "y", "reason": "z"})
            assert r.status_code == 403 and "--read-only" in r.json()["error"], url
        assert '<button type="button" class="merge"' not in c.get("/review").text
    assert demo_case.joinpath("custody.jsonl").read_bytes() == before


def test_review_decisions_carry_the_user_and_reach_the_report(demo_copy):
    from casegraph.reports import relied

    with Case(demo_copy).acquire("test") as case:
        users.add_user(case, "IP Silva", "examiner", "a long enough passphrase", actor="IP R. Bandara")
    with client(demo_copy, accounts=True, login=False) as (c, ws, _):
        c.post("/login", content="user=IP+Silva&password=a+long+enough+passphrase")
        h = {"X-CSRF-Token": csrf_of(c.get("/review").text)}
        assert c.post("/api/review/merge", headers=h, json={"a": NUWAN_P2, "b": NUWAN_P1, "reason": ""}).status_code == 400
        assert c.post("/api/review/merge", headers=h, json={"a": NUWAN_P2, "b": NUWAN_P1, "reason": "same phone"}).status_code == 200
        r = c.post("/api/review/keep-apart", headers=h, json={"a": "Mohamed Rizwan", "b": "Chen Thailand", "reason": "different men"})
        assert r.status_code == 200  # (the demo's one same-person pair was merged above; custody is checked below)
        ids = [f["id"] for f in ws.store.rows("SELECT id FROM findings WHERE kind = 'trafficking-indicator' ORDER BY id")]
        c.post("/api/findings/decide", headers=h, json={"finding": ids[0], "verdict": "confirmed", "reason": "read the message"})
        c.post("/api/findings/decide", headers=h, json={"finding": ids[1], "verdict": "rejected", "reason": "a joke, not a threat"})
        c.post("/api/tags", headers=h, json={"record": TAMIL, "note": "passport taken"})
        c.post("/api/people/mark", headers=h, json={"entity": "Kasun", "role": "victim", "reason": "complainant"})
        items = relied.items(ws.store)
        assert [f["finding_id"] for f in items["findings"]] == [ids[0]] and items["records"][0]["record_id"] == TAMIL
        kept = relied.without_rejected(ws.store, [{"id": i} for i in ids[:3]])
        assert [f["id"] for f in kept] == [ids[0], ids[2]]
    events = [e for e in Case(demo_copy).custody.events() if e["action"] not in ("workspace-user-add",)][-12:]
    acted = {(e["action"], e["actor"]) for e in events}
    for action in ("entities-merge", "entities-split", "finding-confirm", "finding-reject", "record-tag", "entities-mark", "resolve"):
        assert (action, "IP Silva") in acted, action
    assert not any(a == "resolve" and who != "IP Silva" for a, who in acted)


def test_profile_and_graph_answers_with_money_directed_and_exact(demo_case):
    from casegraph.graph import explore

    with client(demo_case, read_only=True) as (c, ws, _):
        page = c.get(f"/people/{_q(NUWAN_P1)}").text
        assert "+94771234567" in page and "contacts.vcf" in page and "ocr:page1/block1" in page  # identifier with where found
        assert 'Nuwan Agent</a></td><td class="num">10' in page.replace("\n", "")
        g = c.get("/api/graph/expand?node=" + _q("BankAccount:bank-account:0081234567")).json()
        money = [e for e in g["edges"] if e["kind"] == "money"]
        assert money == [m for m in money if m["source"] == "BankAccount:bank-account:0081234567"]
        assert money[0]["amount_text"] == "LKR 4,500,000.00" and money[0]["amount"] == "4500000.000000000000000000"
        total = ws.store.one("SELECT sum(amount) FROM transactions WHERE list_contains(?, id)", [money[0]["records"]])[
            0
        ]  # the figure is the sum of the records cited
        assert str(total) == money[0]["amount"] and money[0]["count"] == len(money[0]["records"])
        assert c.get("/api/graph/expand?node=" + _q("BankAccount:bank-account:0081234567") + "&since=2030-01-01").json()["edges"] == []
        assert c.get("/api/graph/expand?node=x&kinds=bogus").status_code == 400
        p = c.get(f"/api/graph/path?a={_q('person:e0a91dce944bc205')}&b={_q('Wallet:tron:TET8J56maUaAbx2T6vBNtyhbu39QHukgQF')}").json()
        assert p["found"] and p["hops"] == 3 and [e["kind"] for e in p["edges"]] == ["message", "message", "mentions"]
        assert explore.pins(ws.store) == []


def test_reviewers_see_victims_under_pseudonyms_everywhere(demo_copy):
    with Case(demo_copy).acquire("test") as case:
        users.add_user(case, "ASP Fernando", "reviewer", "another long phrase", actor="IP R. Bandara")
    with client(demo_copy, accounts=True, login=False) as (c, _, _csrf):
        c.post("/login", content="user=ASP+Fernando&password=another+long+phrase")
        for url in ("/", "/chat?chat=" + _q("whatsapp:Nuwan Agent"), "/people", "/people/person:e0a91dce944bc205", "/review",
                    "/api/graph/expand?node=person:e0a91dce944bc205", "/source?record=" + _q("messages/f72d945189a9540b48b49673e73a9f19/whatsapp-export/line:2")):  # fmt: skip  # noqa: E501
            text = c.get(url).text
            assert "Kasun" not in text, url
        assert "Victim-1" in c.get("/people/person:e0a91dce944bc205").text
        assert (
            c.get("/media?record=" + _q("messages/aa14bb75559f28a10fd17147cc0c21f8/whatsapp-export/zip:_chat.txt#line:10")).status_code
            == 403
        )
