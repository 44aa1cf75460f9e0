"""The portable viewer's map (the case's and a person's) and media thumbnails (issue #19): held in the sealed data
file, bounded, absent from a victim-protected copy, covered by verify; and in Debian's chromium over file://, with
no console error and no request leaving file://.

The case is the demo with two real-shaped location exports (tests/fixtures/whatsapp/locations_de.txt,
tests/fixtures/telegram/locations_calls.json) and an iOS WhatsApp zip with a photo, a voice note and a PDF
(test_serve_features.media_zip, shaped after real exports: see that module)."""

from __future__ import annotations

import io
import shutil
import sqlite3
from pathlib import Path

import pytest
from browser_helpers import CHROMIUM, CHROMIUM_ARGS
from click.testing import CliRunner
from PIL import Image
from serve_helpers import SCREENS
from test_serve_features import add_exhibit, media_zip
from test_serve_views import add_locations

from casegraph.case import Case
from casegraph.cli import main
from casegraph.demo.run import run_demo
from casegraph.reports import content, viewer
from casegraph.reports.redact import Redactor
from casegraph.reports.signing import case_fingerprints
from casegraph.reports.verify import verify_bundle


def _cli(*args: str) -> str:
    r = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return r.output


@pytest.fixture(scope="module")
def case(tmp_path_factory) -> Path:
    root = run_demo(tmp_path_factory.mktemp("vf") / "demo", say=lambda _: None).case
    add_locations(root)
    add_exhibit(root, media_zip(tmp_path_factory.mktemp("media")), "M1")
    from casegraph.graph import steps

    with Case(root) as c:
        steps.resolve_case(c)
    # the analyses again, on the changed case (a bundle must not mix case states)
    _cli("indicators", str(root))
    _cli("analyze", str(root))
    _cli("typologies", str(root))
    _cli("trace", str(root), "--from", "0081234567", "--model", "haircut")
    return root


@pytest.fixture(scope="module")
def bundle(case, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("vf-bundles")
    _cli("bundle", str(case), "--viewer", "--out", str(out))
    (path,) = [p for p in out.iterdir() if p.is_dir()]
    return path


def _db(files: dict[str, bytes] | Path) -> sqlite3.Connection:
    raw = (files / "data/viewer/case-data.js").read_bytes() if isinstance(files, Path) else files["viewer/case-data.js"]
    con = sqlite3.connect(":memory:")
    con.deserialize(viewer.read_database(raw))
    return con


def test_the_viewer_holds_every_location_and_each_persons(case, bundle):
    db = _db(bundle)
    with Case(case, read_only=True) as c:
        want = {r["id"] for r in c.store.rows("SELECT id FROM locations")}
        from casegraph.reports.places import places

        per_person = {
            p["id"]: {x["id"] for x in places(c.store, person=p["id"])["places"]}
            for p in c.store.rows("SELECT id FROM entities WHERE kind = 'person'")
        }
    assert {r[0] for r in db.execute("SELECT id FROM places")} == want and len(want) >= 7
    # the person map in the viewer is the workspace's (profile.PLACES), computed for all at once
    got: dict[str, set] = {}
    for person, place in db.execute("SELECT person, place FROM person_places"):
        got.setdefault(person, set()).add(place)
    assert got == {p: s for p, s in per_person.items() if s}
    lat, lon, came = db.execute("SELECT lat, lon, came_with FROM places WHERE kind = 'live-location'").fetchone()
    assert (lat, lon) == ("25.204849", "55.270783") and came is not None  # exact decimals, and the message it came with


def test_thumbnails_are_embedded_bounded_and_stated(case, bundle):
    db = _db(bundle)
    with Case(case, read_only=True) as c:
        photo = c.store.rows("SELECT media_sha256 FROM messages WHERE media = '00000001-PHOTO-2024-04-10-07-35-17.jpg'")[0]["media_sha256"]
        voice = c.store.rows("SELECT media_sha256 FROM messages WHERE media LIKE '%AUDIO%'")[0]["media_sha256"]
    thumbs = dict(db.execute("SELECT sha256, png FROM thumbs"))
    assert photo in thumbs and voice not in thumbs
    with Image.open(io.BytesIO(thumbs[photo])) as im:
        assert im.format == "PNG" and max(im.size) <= 160 and not im.getexif()
    import json

    state = json.loads(db.execute("SELECT value FROM meta WHERE key = 'thumbs'").fetchone()[0])
    assert state["embedded"] == len(thumbs) == state["pictures"] - state["left_out"] - state["failed"]
    assert state["bytes"] == sum(len(v) for v in thumbs.values()) <= viewer.THUMB_BUDGET


def test_the_thumbnail_budget_is_kept_and_what_is_left_out_counted(case, monkeypatch):
    monkeypatch.setattr(viewer, "THUMB_BUDGET", 10)
    with Case(case) as c:
        files = viewer.files_for(c, content.gather(c), Redactor.none())
    db = _db(files)
    import json

    state = json.loads(db.execute("SELECT value FROM meta WHERE key = 'thumbs'").fetchone()[0])
    assert db.execute("SELECT count(*) FROM thumbs").fetchone()[0] == 0
    assert state["left_out"] == state["pictures"] >= 2 and "at most" in state["why"]


def test_a_victim_protected_viewer_holds_no_thumbnail(case):
    with Case(case) as c:
        red = Redactor.victims(c.store)
        assert red.active
        files = viewer.files_for(c, content.gather(c, red), red)
    db = _db(files)
    import json

    assert db.execute("SELECT count(*) FROM thumbs").fetchone()[0] == 0
    assert "victim-protected" in json.loads(db.execute("SELECT value FROM meta WHERE key = 'thumbs'").fetchone()[0])["why"]


def test_verify_covers_the_map_files(case, bundle, tmp_path):
    with Case(case) as c:
        trusted = case_fingerprints(c.root, c.custody.events())
    v = verify_bundle(bundle, trusted=trusted)
    assert v.ok, v.problems
    manifest = (bundle / "manifest-sha256.txt").read_text()
    for name in ("atlas.js", "d3.min.js", "topojson-client.min.js"):
        assert f"data/viewer/{name}" in manifest
    copy = tmp_path / "b"
    shutil.copytree(bundle, copy)
    f = copy / "data/viewer/atlas.js"
    f.write_bytes(f.read_bytes().replace(b'"countries"', b'"countrieZ"', 1))
    v = verify_bundle(copy, trusted=trusted)
    assert not v.ok and any("data/viewer/atlas.js was altered" in p for p in v.problems), v.problems


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium package is not installed")
def test_the_viewer_map_and_thumbnails_over_file_url(bundle):
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
            page.on("request", lambda r: None if r.url.startswith(("file://", "data:")) else outside.append(r.url))
            page.goto(url)
            page.wait_for_selector("body[data-ready='1']", timeout=30000)
            assert "thumbnails" in page.inner_text("#thumbs-state")
            page.click("#tabs >> text=Map")
            page.wait_for_selector("#map svg path.land")
            assert page.locator("#map svg circle.place").count() >= 7
            assert "25.204849, 55.270783" in page.inner_text("#map table")
            page.screenshot(path=str(SCREENS / "viewer-map.png"), full_page=True)
            page.click("#tabs >> text=Conversations")
            page.click("text=Visa papers")
            page.wait_for_selector(".msg img.thumb")
            assert page.locator(".msg img.thumb").count() == 1
            assert page.evaluate("document.querySelector('.msg img.thumb').naturalWidth") == 160
            assert "audio" in page.inner_text(".msg:nth-child(3)") or "audio" in page.inner_text("#thread")
            page.screenshot(path=str(SCREENS / "viewer-chat-media.png"), full_page=True)
            page.click("#tabs >> text=People")
            # the Telegram sender "Rizwan" (the one with places): a name alone no longer joins him to the demo's
            # "Mohamed Rizwan" and "Rizwan Bro" (graph/corroborate.py), so the exact name is clicked, not the first "Rizwan"
            page.click('text="Rizwan"')
            page.wait_for_selector("#person-map svg circle.place")
            assert page.locator("#person-map svg circle.place").count() == 2
            page.screenshot(path=str(SCREENS / "viewer-person.png"), full_page=True)
        finally:
            browser.close()
    assert errors == [], errors
    assert outside == [], outside


def test_a_victim_protected_view_withholds_the_protected_persons_locations(case, tmp_path):
    """A pseudonym does not hide where a victim is: in a victim-protected viewer (and for a workspace reviewer,
    through the same reports.places call) a protected person's locations are left out, and counted."""
    import json

    from casegraph.graph import steps
    from casegraph.reports.places import places

    root = tmp_path / "c"
    shutil.copytree(case, root)
    with Case(root) as c:
        located = c.store.rows("SELECT id FROM entities WHERE kind = 'person' ORDER BY id")
        person = next(p["id"] for p in located if places(c.store, person=p["id"])["total"])
    with Case(root).acquire("test") as c:
        steps.mark(c, person, "victim", "test: a located person is protected")
    with Case(root) as c:
        red = Redactor.victims(c.store)
        assert person in red.pseudonyms
        theirs = {p["id"] for p in places(c.store, person=person)["places"]}
        everyone = {p["id"] for p in places(c.store)["places"]}
        db = _db(viewer.files_for(c, content.gather(c, red), red))
    held = {r[0] for r in db.execute("SELECT id FROM places")}
    assert theirs and not (held & theirs) and held == everyone - theirs
    assert json.loads(db.execute("SELECT value FROM meta WHERE key = 'places'").fetchone()[0])["withheld"] == len(theirs)
    assert not db.execute("SELECT count(*) FROM person_places WHERE place NOT IN (SELECT id FROM places)").fetchone()[0]
