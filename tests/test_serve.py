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
