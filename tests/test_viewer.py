"""The portable case viewer (`casegraph bundle CASE --viewer`): its database holds the case's records
as the store holds them, each with the bytes at its locator as `casegraph.api` cuts them; search keeps
Sinhala and Tamil vowel signs; the viewer is sealed by the bundle's manifests and signature, and a
tampered viewer file fails verify; with --redact victims its data is redacted like the report. The
browser test opens it from the bundle directory over file:// in Debian's Chromium (Playwright) and
finds the same messages as the case, with no console error and no request outside file://."""

from __future__ import annotations

import hashlib
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from browser_helpers import CHROMIUM, CHROMIUM_ARGS
from click.testing import CliRunner
from serve_helpers import SCREENS  # the viewer's screenshots are named viewer-*.png: the workspace's tests write overview.png, search.png

import casegraph
from casegraph.ai.lexicon import normalise
from casegraph.case import Case
from casegraph.cli import main
from casegraph.demo.run import run_demo
from casegraph.reports import content, viewer
from casegraph.reports.redact import Redactor
from casegraph.reports.signing import case_fingerprints
from casegraph.reports.verify import verify_bundle

TAMIL = "என் பாஸ்போர்ட்டை விமான நிலையத்தில் வாங்கிக்கொண்டார்கள்."  # the demo's Tamil "passport" message


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    return run_demo(tmp_path_factory.mktemp("viewer") / "demo", say=lambda _: None).case


@pytest.fixture(scope="module")
def bundle(demo, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bundles")
    r = CliRunner().invoke(main, ["bundle", str(demo), "--viewer", "--out", str(out)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert "index.html" in r.output
    (path,) = [p for p in out.iterdir() if p.is_dir()]
    return path


def _db_of(files: dict[str, bytes] | Path) -> sqlite3.Connection:
    raw = (files / "data/viewer/case-data.js").read_bytes() if isinstance(files, Path) else files["viewer/case-data.js"]
    con = sqlite3.connect(":memory:")
    con.deserialize(viewer.read_database(raw))
    return con


def _trusted(demo: Path) -> dict[str, str]:
    with Case(demo) as c:
        return case_fingerprints(c.root, c.custody.events())


# -- the data ----------------------------------------------------------------------------------------
def test_viewer_holds_every_record_with_its_source(demo, bundle):
    db = _db_of(bundle)
    with casegraph.open(demo) as case:
        ids = set(case.messages()["id"])
        assert {r[0] for r in db.execute("SELECT id FROM msg")} == ids
        for table in viewer.TEXT_TABLES:
            want = set(case.sql(f"SELECT id FROM {table}")["id"])
            assert {r[0] for r in db.execute("SELECT id FROM records WHERE tbl = ?", [table])} == want, table
        # every record's source: the exhibit hash and locator as stored, the bytes as casegraph.api cuts them
        for rid, sha, locator, data, digest in db.execute(
            "SELECT r.id, e.sha256, s.locator, s.data, s.sha256 FROM sources s JOIN records r USING (n) JOIN exhibits e ON e.n = s.exhibit"
        ):
            src = case.source(rid)
            assert (sha, locator) == (src.exhibit_sha256, src.locator)
            assert data == src.data, rid
            assert digest == (hashlib.sha256(src.data).digest() if src.data is not None else None)
    # the three locator forms of the demo: plain lines, a zip member's lines, a statement row
    kinds = {r[0] for r in db.execute("SELECT DISTINCT substr(locator, 1, 4) FROM sources WHERE data IS NOT NULL")}
    assert {"line", "zip:", "row:"} <= kinds
    (text, data) = db.execute(
        "SELECT m.text, s.data FROM messages m JOIN sources s USING (n) WHERE m.text LIKE ?", [TAMIL + "%"]
    ).fetchone()
    assert TAMIL.encode() in data and text.startswith(TAMIL)


def test_threads_keep_the_phone_view(bundle):
    db = _db_of(bundle)
    rows = db.execute("SELECT kind, local, utc, zone, media, media_sha256, text FROM msg ORDER BY chat, pos").fetchall()
    kinds = {r[0] for r in rows}
    assert {"text", "system", "deleted", "media"} <= kinds
    # local time as recorded with its offset, UTC beside it, and where the zone came from
    local, utc, zone = next((r[1], r[2], r[3]) for r in rows if r[6] and r[6].startswith(TAMIL))
    assert (local, utc) == ("2024-04-11 15:17:58 +05:30", "2024-04-11 09:47:58")
    assert "Asia/Colombo" in zone
    assert any(r[5] and len(r[5]) == 64 for r in rows if r[0] == "media"), "a media file found in the exhibit keeps its hash"


def test_dates_without_time_are_not_given_a_utc_time(bundle):
    db = _db_of(bundle)
    shown, utc = db.execute("SELECT shown, utc FROM records WHERE tbl = 'transactions' AND shown LIKE '%(date only)' LIMIT 1").fetchone()
    day = shown[:10]
    assert utc == f"{day} 12:00:00"  # ordering only: noon of its own date, not the UTC of a local midnight
    wrong_day = (
        "SELECT count(*) FROM timeline t JOIN records r USING (n) WHERE r.shown LIKE '%(date only)' AND t.day <> substr(r.shown, 1, 10)"
    )
    assert db.execute(wrong_day).fetchone()[0] == 0


def test_thread_order_follows_the_source_at_equal_times():
    """Messages of one minute keep the export's order: line:9 before line:10 (not the locators' text order)."""
    import duckdb

    locs = ["line:10", "line:9", "line:9-10", "zip:_chat.txt#line:10-11", "zip:_chat.txt#line:2", "json:/messages/11", "json:/messages/2"]
    sql = f"SELECT locator FROM (SELECT unnest(?) AS locator) ORDER BY {viewer._SOURCE_ORDER}"
    got = [r[0] for r in duckdb.execute(sql, [locs]).fetchall()]
    assert got == [
        "json:/messages/2",
        "json:/messages/11",
        "line:9",
        "line:9-10",
        "line:10",
        "zip:_chat.txt#line:2",
        "zip:_chat.txt#line:10-11",
    ]


def test_same_case_gives_the_same_viewer(demo):
    with Case(demo) as c:
        doc = content.gather(c)
        first, second = viewer.files_for(c, doc, Redactor.none()), viewer.files_for(c, doc, Redactor.none())
    assert first == second, "the same case state must give byte-identical bundles, viewer included"


def test_search_keeps_sinhala_and_tamil_vowel_signs(bundle):
    db = _db_of(bundle)

    def hits(q: str) -> set[int]:
        terms = normalise(q).split(" ")
        where = " AND ".join("instr(norm, ?) > 0" for _ in terms)
        return {r[0] for r in db.execute(f"SELECT n FROM search WHERE {where}", terms)}

    tamil = hits("பாஸ்போர்ட்")  # part of பாஸ்போர்ட்டை (with its case ending)
    assert len(tamil) == 1
    assert hits("பஸ்பர்ட்") == set(), "the same consonants without their vowel signs are another word"
    assert hits("පාස්පෝට්"), "Sinhala"
    assert hits("PASSPORT copy") and hits("passport") >= hits("Passport copy"), "romanised and English, any case"
    assert hits("LKR") or hits("keells"), "transaction narrations are searched"
    # the English word finds the Tamil message through the indicator finding that flags it (shown as such)
    f = db.execute("SELECT id FROM findings WHERE instr(norm, 'passport') > 0").fetchall()
    cited = {r[0] for (fid,) in f for r in db.execute("SELECT n FROM finding_records WHERE finding = ?", [fid])}
    assert tamil <= cited


def test_people_identifiers_with_where_found(bundle):
    db = _db_of(bundle)
    (pid,) = db.execute("SELECT id FROM people WHERE label = 'Nuwan Agent'").fetchone()
    rows = db.execute("SELECT kind, value, exhibit, locator FROM person_identifiers WHERE person = ?", [pid]).fetchall()
    assert ("phone", "+94 77 123 4567") in {(k, v) for k, v, _, _ in rows}
    assert all(e and loc for _, _, e, loc in rows), "each identifier names the exhibit and locator it was found at"


def test_graph_money_ties_carry_amounts_per_currency(bundle):
    db = _db_of(bundle)
    money = [r[0] for r in db.execute("SELECT money FROM ties WHERE kind = 'payment'")]
    assert money and all(re.match(r"^[A-Z]{3,5} [\d,]+(\.\d+)?", m) for m in money), money


# -- integrity ---------------------------------------------------------------------------------------
def test_bundle_with_viewer_verifies(demo, bundle):
    v = verify_bundle(bundle, trusted=_trusted(demo))
    assert v.ok, v.problems
    assert v.verdict == "VERIFIED"
    assert any("case viewer" in c for c in v.checked)
    manifest = (bundle / "manifest-sha256.txt").read_text()
    for name in ("index.html", "viewer.js", "case-data.js", "sql-wasm.wasm.js", "sql-wasm.js", "cytoscape.min.js", "viewer.json"):
        assert f"data/viewer/{name}" in manifest


@pytest.mark.parametrize("name", ["case-data.js", "viewer.js", "index.html", "viewer.json"])
def test_tampered_viewer_file_fails_verify(demo, bundle, tmp_path, name):
    copy = tmp_path / "b"
    shutil.copytree(bundle, copy)
    f = copy / "data" / "viewer" / name
    data = bytearray(f.read_bytes())
    data[len(data) // 2] ^= 0x01
    f.write_bytes(bytes(data))
    v = verify_bundle(copy, trusted=_trusted(demo))
    assert not v.ok and v.verdict == "NOT VERIFIED"
    assert any(f"data/viewer/{name} was altered" in p for p in v.problems), v.problems


def test_removed_or_added_viewer_file_fails_verify(demo, bundle, tmp_path):
    copy = tmp_path / "b"
    shutil.copytree(bundle, copy)
    (copy / "data" / "viewer" / "case-data.js").unlink()
    (copy / "data" / "viewer" / "extra.js").write_text("alert(1)")
    problems = verify_bundle(copy, trusted=_trusted(demo)).problems
    assert any("data/viewer/case-data.js is missing" in p for p in problems)
    assert any("data/viewer/extra.js is not listed" in p for p in problems)


def test_viewer_of_another_case_state_is_named(bundle):
    head = (bundle / "bag-info.txt").read_text().split("Casegraph-Custody-Head:")[1].split()[:2]
    assert viewer.check(bundle / "data", head) == []
    assert any("shows case state" in p for p in viewer.check(bundle / "data", ["1", "0" * 64]))


# -- redaction ---------------------------------------------------------------------------------------
def test_redacted_viewer_holds_no_protected_name_or_identifier(demo, tmp_path):
    """Names and identifiers of protected persons, wherever the viewer holds text: messages (a system line
    naming a phone), chat keys, graph node ids (Phone:+94…), identifiers, sources' bytes."""
    copy = tmp_path / "case"
    shutil.copytree(demo, copy)
    with casegraph.open(copy, examiner="IP Test Examiner") as case:
        case.mark("Rizwan Bro", "witness", "test: a protected person with a phone number")
    with Case(copy) as c:
        red = Redactor.victims(c.store)
        assert red.active, "the demo marks Kasun as a victim"
        files = viewer.files_for(c, content.gather(c, red), red)
    db = _db_of(files)
    texts = []
    for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
        for row in db.execute(f"SELECT * FROM {table}"):
            texts += [v.decode("utf-8", "replace") if isinstance(v, bytes) else v for v in row if isinstance(v, (str, bytes))]
    blob = "\n".join(texts)
    assert "Victim-1" in blob and "Witness-1" in blob
    assert not re.search(r"\bKasun\b", blob), "the victim's name is in the redacted viewer"
    for leak in ("Rizwan Bro", "+94715550199", "+94 71 555 0199", "0715550199"):
        assert leak not in blob, leak
    assert db.execute("SELECT value FROM meta WHERE key = 'redacted'").fetchone()[0] == "yes"
    assert b'"redacted": true' in files["viewer/viewer.json"]


# -- in the browser, over file:// --------------------------------------------------------------------


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium package is not installed")
def test_viewer_opens_over_file_url_and_finds_the_tamil_message(bundle):
    from playwright.sync_api import sync_playwright

    SCREENS.mkdir(exist_ok=True)
    url = (bundle / "data" / "viewer" / "index.html").as_uri()
    errors, outside = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: None if r.url.startswith("file://") else outside.append(r.url))
            page.goto(url)
            page.wait_for_selector("body[data-ready='1']", timeout=30000)
            assert "case verified when the bundle was built" in page.inner_text("#state")
            assert "state at build time" in page.inner_text("main")
            page.screenshot(path=str(SCREENS / "viewer-overview.png"))
            # search "passport": the Tamil message comes with the indicator finding that flags it
            page.click("text=Search")
            page.fill("#q", "passport")
            page.press("#q", "Enter")
            page.wait_for_selector("#flagged")
            assert TAMIL in page.inner_text("#flagged")
            page.screenshot(path=str(SCREENS / "viewer-search.png"))
            page.locator("#flagged .cited", has_text=TAMIL).first.locator("text=open in its thread").click()
            page.wait_for_selector(".msg.hit")
            assert TAMIL in page.inner_text(".msg.hit")
            assert "Recruits Batch 7" in page.inner_text("h2")
            assert page.get_attribute(".msg.hit span[title]", "title").startswith("UTC 2024-04-11 09:47:58")
            page.screenshot(path=str(SCREENS / "viewer-conversation.png"))
            # the Tamil word itself, as written, finds the message by its words
            page.goto(url + "#/search?q=" + "பாஸ்போர்ட்")
            page.wait_for_selector("#hits .hit")
            assert TAMIL in page.inner_text("#hits")
            # its source: the bytes at the locator, with the exhibit's SHA-256
            page.locator("#hits .hit", has_text=TAMIL).locator("text=source").click()
            page.wait_for_selector("#src-bytes")
            assert TAMIL in page.inner_text("#src-bytes")
            assert page.inner_text("#src-loc") == "zip:_chat.txt#line:15-16"
            assert re.fullmatch(r"[0-9a-f]{64}", page.inner_text("#src-sha"))
            page.screenshot(path=str(SCREENS / "viewer-source.png"))
            # people, graph (expand a node), timeline
            page.click("text=People")
            page.click("text=Nuwan Agent")
            page.wait_for_selector("text=Identifiers, and where each was found")
            page.screenshot(path=str(SCREENS / "viewer-person.png"))
            page.click("#tabs >> text=Graph")
            page.wait_for_function("window.__cy && window.__cy.nodes().length > 3")
            before = page.evaluate("window.__cy.elements().length")
            page.evaluate("window.__cy.nodes()[0].emit('tap')")
            page.wait_for_selector("#panel table")
            assert page.evaluate("window.__cy.elements().length") >= before
            assert page.evaluate("window.__cy.edges('[kind = \"payment\"]').map(e => e.data('money')).join(' ')").count("LKR") >= 1
            page.screenshot(path=str(SCREENS / "viewer-graph.png"))
            page.click("text=Timeline")
            page.wait_for_selector("#bars a")
            page.locator("#bars a").last.click()
            page.wait_for_selector("#items .hit")
            page.screenshot(path=str(SCREENS / "viewer-timeline.png"))
        finally:
            browser.close()
    assert errors == [], errors
    assert outside == [], outside


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium package is not installed")
def test_viewer_pages_through_a_long_thread(tmp_path):
    """No view loads more than it shows: a 130-message chat is shown 50 at a time, and a search page too."""
    import sys

    from playwright.sync_api import sync_playwright

    from casegraph.ingest.evidence import add_evidence
    from casegraph.ingest.pipeline import parse_exhibit

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from whatsapp_throughput import generate  # the benchmark's deterministic Android export

    chat = tmp_path / "WhatsApp Chat with Nuwan Agent.txt"
    generate(chat, 130)
    with Case.create(tmp_path / "case", "HTS/TEST/2", "IP Test Examiner", "paging") as c:
        parse_exhibit(c, add_evidence(c, chat, "X1").sha256)
        files = viewer.files_for(c, content.gather(c), Redactor.none())
    for name, data in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    (total,) = _db_of(files).execute("SELECT messages FROM chats").fetchone()
    assert total == 130
    url = (tmp_path / "viewer" / "index.html").as_uri()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.goto(url + "#/chats?chat=1")
            page.wait_for_selector("#thread")
            shown = lambda: page.locator("#thread .msg, #thread .system").count()  # noqa: E731
            assert shown() == 50
            assert "page 1 of 3" in page.inner_text("main")
            page.locator("text=next ▶").first.click()
            page.wait_for_selector("text=page 2 of 3")
            assert shown() == 50
            page.goto(url + "#/chats?chat=1&at=129")
            page.wait_for_selector(".hit[data-pos='129']")
            assert shown() == 30 and "page 3 of 3" in page.inner_text("main")
            page.goto(url + "#/search?q=a")
            page.wait_for_selector("#hits")
            assert page.locator("#hits .hit").count() <= 50
        finally:
            browser.close()
