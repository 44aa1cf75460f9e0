"""Issue #19, the missing pieces of the workspace: media thumbnails by hash in the thread view, the OCR boxes in
the source view, a person's map and timeline, and a trace table that says what it counts.

Media names are shaped after real WhatsApp exports: Android `IMG-20260712-WA0001.jpg`, `PTT-20260712-WA0003.opus`
(a voice note), `DOC-…pdf`, `VID-…mp4`, iOS `00000001-PHOTO-2024-04-10-07-35-17.jpg` (the demo's), stickers as
`STK-…webp`: see e.g. the zip a test builds in a public WhatsApp tool's suite (`zip.addFile('PTT-20260712-WA0003.opus')`)
and `PTT-20261005-WA0000.opus` in a public chat-export analysis (found with the search tool)."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
import serve_helpers as sh
from PIL import Image

from casegraph import thumbnails as th

demo_case, demo_copy = sh.demo_case, sh.demo_copy


# -- thumbnails ----------------------------------------------------------------------------------
def _jpeg_with_gps(w: int, h: int) -> bytes:
    im = Image.new("RGB", (w, h), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "SecretPhoneMaker"
    gps = exif.get_ifd(0x8825)
    gps[2] = (6.0, 55.0, 1.0)  # GPSLatitude
    out = io.BytesIO()
    im.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_a_thumbnail_is_bounded_and_carries_no_metadata_of_the_original():
    png = th.make(_jpeg_with_gps(1200, 900))
    with Image.open(io.BytesIO(png)) as im:
        assert im.format == "PNG" and max(im.size) == th.SIZE and im.size == (160, 120)
        assert not im.getexif() and "exif" not in im.info
    assert b"SecretPhoneMaker" not in png


def test_no_thumbnail_of_a_bomb_or_of_bytes_that_are_not_a_picture():
    big = io.BytesIO()
    Image.new("1", (8000, 6000)).save(big, "PNG")  # 48 Mpx claimed, a few kB on disk
    with pytest.raises(th.ThumbnailError, match="pixels"):
        th.make(big.getvalue())
    with pytest.raises(th.ThumbnailError, match="not an image"):
        th.make(b"OggS\x00\x02" + b"\x00" * 100)  # a voice note's first bytes


@pytest.mark.parametrize(
    "name, mime, kind",
    [
        ("IMG-20260712-WA0001.jpg", None, "image"),
        ("00000001-PHOTO-2024-04-10-07-35-17.jpg", None, "image"),
        ("STK-20240101-WA0004.webp", None, "image"),
        ("PTT-20260712-WA0003.opus", None, "audio"),
        ("00000012-AUDIO-2024-04-10-07-35-17.opus", None, "audio"),
        ("VID-20240101-WA0002.mp4", None, "video"),
        ("DOC-20240101-WA0005.pdf", None, "document"),
        ("Kasun.vcf", None, "contact"),
        ("blob", "image/png", "image"),
        (None, None, "other"),
    ],
)
def test_media_kinds(name, mime, kind):
    assert th.kind_of(name, mime) == kind


def test_the_thread_shows_the_photo_as_a_thumbnail_served_by_its_hash(demo_case):
    with sh.client(demo_case, read_only=True) as (c, ws, _csrf):
        m = ws.store.rows("SELECT id, chat_id, media_sha256 FROM messages WHERE media_sha256 IS NOT NULL ORDER BY id LIMIT 1")[0]
        page = c.get("/chat", params={"chat": m["chat_id"], "at": m["id"]}).text
        assert f'src="/thumb/{m["media_sha256"]}"' in page and m["media_sha256"][:16] in page  # the thumbnail and its hash
        r = c.get(f"/thumb/{m['media_sha256']}")
        assert r.status_code == 200 and r.headers["content-type"] == "image/png"
        with Image.open(io.BytesIO(r.content)) as im:
            assert max(im.size) <= th.SIZE
        assert ws.thumbnails.get(m["media_sha256"]) is ws.thumbnails.get(m["media_sha256"])  # cached by hash
        assert c.get("/thumb/" + "0" * 64).status_code == 404
        assert c.get("/thumb/not-a-hash").status_code == 404
        assert "/media?record=" in page  # the thumbnail opens the file as found


def test_a_thumbnail_is_refused_when_the_bytes_no_longer_hash_as_recorded(demo_case):
    from casegraph.case import Case

    with Case(demo_case, read_only=True) as case:
        sha = case.store.rows("SELECT media_sha256 FROM messages WHERE media_sha256 IS NOT NULL LIMIT 1")[0]["media_sha256"]
        real = th.media_file
        try:  # the record now claims another hash for the same member
            th.media_file = lambda store, s: {**real(store, sha), "media": "x.jpg"}
            with pytest.raises(th.ThumbnailError, match="do not hash"):
                th.thumbnail(case, "1" * 64)
        finally:
            th.media_file = real


def media_zip(tmp_path) -> Path:
    """An iOS WhatsApp export zip (tests/fixtures/whatsapp/ios_chat.txt's shape: `<attached: NAME>` after U+200E) with
    a photo carrying EXIF GPS, a voice note and a PDF, and a line naming a file the zip does not hold."""
    lrm = "\u200e"
    chat = "\n".join(
        [
            "[10/04/2024, 07:35:17] Nuwan Agent: " + lrm + "<attached: 00000001-PHOTO-2024-04-10-07-35-17.jpg>",
            "[10/04/2024, 07:36:02] Nuwan Agent: " + lrm + "<attached: 00000002-AUDIO-2024-04-10-07-36-02.opus>",
            "[10/04/2024, 07:37:40] Kasun: " + lrm + "<attached: 00000003-DOC-2024-04-10-07-37-40.pdf>",
            "[13/04/2024, 07:38:00] Kasun: " + lrm + "<attached: 00000004-PHOTO-2024-04-10-07-38-00.jpg>",
        ]
    )
    z = tmp_path / "WhatsApp Chat - Visa papers.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("_chat.txt", chat + "\n")
        zf.writestr("00000001-PHOTO-2024-04-10-07-35-17.jpg", _jpeg_with_gps(640, 480))
        zf.writestr("00000002-AUDIO-2024-04-10-07-36-02.opus", b"OggS\x00\x02" + bytes(200))
        zf.writestr("00000003-DOC-2024-04-10-07-37-40.pdf", b"%PDF-1.4\n%%EOF\n")
    return z


def add_exhibit(case: Path, file: Path, exhibit: str) -> None:
    """Take a file into the case and parse it through the CLI (so the case still verifies)."""
    from click.testing import CliRunner

    from casegraph.cli import main

    args = ["evidence", "add", str(case), str(file), "--exhibit", exhibit, "--seized-from", "test", "--acquired-by", "test"]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, ["ingest", str(case)])
    assert r.exit_code == 0, r.output


def test_media_that_is_not_a_picture_shows_its_kind_and_hash(demo_copy, tmp_path):
    add_exhibit(demo_copy, media_zip(tmp_path), "M1")
    with sh.client(demo_copy, read_only=True) as (c, ws, _csrf):
        rows = ws.store.rows("SELECT id, chat_id, media, media_sha256 FROM messages WHERE chat_name = 'Visa papers' ORDER BY locator")
        assert [r["media"] for r in rows][:3] == [
            "00000001-PHOTO-2024-04-10-07-35-17.jpg",
            "00000002-AUDIO-2024-04-10-07-36-02.opus",
            "00000003-DOC-2024-04-10-07-37-40.pdf",
        ]
        page = c.get("/chat", params={"chat": rows[0]["chat_id"]}).text
        photo, voice, doc, missing = rows
        assert f'src="/thumb/{photo["media_sha256"]}"' in page
        assert 'class="media-icon kind-audio"' in page and voice["media_sha256"][:16] in page
        assert 'class="media-icon kind-document"' in page and doc["media_sha256"][:16] in page
        assert missing["media_sha256"] is None and "(file not in the exhibit)" in page
        assert len(re.findall(r'src="/thumb/', page)) == 1  # no thumbnail asked of a voice note or a PDF
        png = c.get(f"/thumb/{photo['media_sha256']}").content
        assert b"SecretPhoneMaker" not in png  # the photo's EXIF (and GPS) stays in the evidence
        assert c.get(f"/thumb/{voice['media_sha256']}").status_code == 404


# -- a person's map and timeline -------------------------------------------------------------------
def located(case: Path) -> None:
    """The demo case with the German WhatsApp and Telegram location exports, resolved again (so their senders are people)."""
    from test_serve_views import add_locations

    from casegraph.case import Case
    from casegraph.graph import steps

    add_locations(case)
    with Case(case) as c:
        steps.resolve_case(c)


def test_a_persons_map_holds_only_the_locations_they_sent_or_that_name_them(demo_copy):
    located(demo_copy)
    with sh.client(demo_copy, read_only=True) as (c, ws, _csrf):
        everyone = c.get("/api/map/places").json()
        people = ws.store.rows("SELECT id, label FROM entities WHERE kind = 'person' ORDER BY id")
        seen = {}
        for p in people:
            d = c.get("/api/map/places", params={"person": p["id"]}).json()
            seen[p["label"]] = d
            ids = [x["id"] for x in d["places"]]
            # each location is one the person sent (the message it came with is theirs)
            for x in d["places"]:
                sender = ws.store.one(
                    "SELECT count(*) FROM edges WHERE kind = 'SENT' AND dst = ? AND src IN "
                    "(SELECT ? UNION SELECT dst FROM edges WHERE kind = 'USES' AND src = ?)",
                    [x["came_with_record"], p["id"], p["id"]],
                )[0]
                assert sender, (p["label"], x)
            assert d["total"] == len(ids) and sum(k["n"] for k in d["kinds"]) == d["total"]
        rizwan = seen["Rizwan"]
        assert sorted(x["source_kind"] for x in rizwan["places"]) == ["live-location", "shared-location"]
        assert sum(d["total"] for d in seen.values()) <= everyone["total"]
        # the profile draws the map from the same call, and lists the locations on the person's timeline
        pid = next(p["id"] for p in people if p["label"] == "Rizwan")
        page = c.get(f"/people/{pid}").text
        assert f'data-person="{pid}"' in page and "/static/views/map.js" in page and "/vendor/countries-50m.json" not in page
        assert page.count("location (") == 2
        assert re.search(r"location \(live-location\)</td><td>[^<]*</td><td>\d+\.\d+, \d+\.\d+", page)  # exact, no padding zeros
        assert c.get("/api/map/places", params={"person": "person:nobody"}).status_code == 404
        # the personal timeline: the calls joined to a person's identifiers are on it, beside their messages
        from casegraph import profile

        with_calls = [p for p in people if profile.calls(ws.store, p["id"])]
        assert with_calls
        for p in with_calls:
            whats = [r["what"] for r in profile.timeline(ws.store, p["id"], 0, 1000)]
            assert sum(w.endswith(" call") for w in whats) == len(profile.calls(ws.store, p["id"], 1000))
            assert all(r["amount_text"] == "" for r in profile.timeline(ws.store, p["id"]) if r["what"] not in ("paid", "received"))


# -- the trace table -------------------------------------------------------------------------------
def test_the_trace_table_says_what_it_counts(demo_copy):
    with sh.client(demo_copy) as (c, _ws, csrf):
        r = c.post("/api/money/trace", json={"account": "0081234567", "model": "fifo"}, headers={"X-CSRF-Token": csrf}).json()
        rows = {x["reached"]: x for x in r["table"]}
        assert rows and all(x["path_transfers"] >= 1 for x in rows.values() if x["path"])
        assert all(x["path_transfers"] == 0 and x["received"] for x in rows.values() if not x["path"])  # ends the records do not name
        for x in rows.values():
            for part in x["received"]:  # one entry per currency, its amount exact with separators, and what it sums
                assert re.fullmatch(r"(LKR|USDT) \d{1,3}(,\d{3})*\.\d{2,}", part["amount_text"]), part
                assert part["transfers"] >= 1
            assert x["cited"] >= max(x["path_transfers"], x["received_transfers"])
        big = next(x for x in rows.values() if any(p["amount_text"] == "LKR 4,500,000.00" for p in x["received"]))
        assert big["received_transfers"] == 3
        js = (Path(__file__).parents[1] / "casegraph/serve/static/views/money.js").read_text()
        assert '"Transfers cited"' in js and '"Received, per currency"' in js and '"Transfers on the path"' in js


# -- the source view: the image with its OCR boxes ------------------------------------------------------
def test_the_source_view_draws_the_ocr_boxes_over_the_image(demo_case):
    with sh.client(demo_case, read_only=True) as (c, ws, _csrf):
        blocks = ws.store.rows("SELECT id, bbox FROM ocr_text ORDER BY locator")
        assert blocks and all(b["bbox"] and len(b["bbox"]) == 4 for b in blocks)  # image-ocr stores x, y, w, h
        page = c.get("/source", params={"record": blocks[1]["id"]}).text
        rects = re.findall(r'<rect class="(hit|box)" x="(\d+)" y="(\d+)" width="(\d+)" height="(\d+)"', page)
        assert len(rects) == len(blocks) and [r[0] for r in rects].count("hit") == 1
        assert [int(v) for v in rects[1][1:]] == list(blocks[1]["bbox"])
        img = c.get("/source/image", params={"record": blocks[1]["id"]})
        assert img.status_code == 200 and img.headers["content-type"] == "image/png"


# -- related wording beside the full text ------------------------------------------------------------
SINHALA_PASSPORT = "මගේ පාස්පෝට් එක එයාලා අරගෙන."  # the demo's Sinhala "they took my passport"
TAMIL_PASSPORT = "என் பாஸ்போர்ட்டை விமான நிலையத்தில் வாங்கிக்கொண்டார்கள்."


def test_a_question_is_expanded_through_its_concepts_not_its_function_words():
    from casegraph.ai import related

    got = related.expand("they took my passport")
    assert "DOC" in got and "HOLD" in got and "FIRST" not in got
    assert {"பாஸ்போர்ட்", "පාස්පෝට්", "paspot"} <= set(got["DOC"])  # script and romanised forms of the same concept
    assert related.expand("පාස්පෝට් එක").keys() == related.expand("paspot eka").keys() == {"DOC"}


@pytest.mark.parametrize("q", ["they took my passport", "paspot", "பாஸ்போர்ட்", "පාස්පෝට්"])
def test_related_wording_finds_the_same_messages_in_every_script(demo_case, q):
    from casegraph.ai import related
    from casegraph.case import Case

    with Case(demo_case, read_only=True) as case:
        r = related.search(case.store, q, 10)
    texts = [h.text for h in r.hits]
    assert any(t.startswith(SINHALA_PASSPORT) for t in texts) and any(t.startswith(TAMIL_PASSPORT) for t in texts)
    assert r.read == r.total and all("letter sequences" in " ".join(h.how) for h in r.hits)
    assert all(h.chat_id for h in r.hits if h.table == "messages")


def test_related_wording_with_no_concept_ranks_by_letter_sequences_only(demo_case):
    from casegraph.ai import related
    from casegraph.case import Case

    with Case(demo_case, read_only=True) as case:
        r = related.search(case.store, "welcom al", 10)  # misspelt, no concept: shared letters only
        assert not r.concepts and r.hits and r.hits[0].text.startswith("Welcome all.")
        assert all(not any(w.startswith("concepts") for w in h.how) for h in r.hits)
        few = related.search(case.store, "passport", 10, max_scan=5)
        assert few.read == 5 < few.total  # a bounded read says how much it read


def test_the_workspace_labels_related_wording_for_what_it_is_and_filters_it(demo_case):
    with sh.client(demo_case, read_only=True) as (c, _ws, _csrf):
        page = c.get("/search", params={"q": "they took my passport", "mode": "related"}).text
        assert "related wording (shared concepts and letter sequences across scripts; no AI model)" in page
        assert "It does not understand meaning" in page and "semantic" not in page.lower()
        assert SINHALA_PASSPORT in page and TAMIL_PASSPORT in page and "DOC" in page
        only = c.get("/search", params={"q": "passport", "mode": "related", "indicator": "document-confiscation"}).text
        rows = re.findall(r"<tr><td class=\"num\">", only)
        assert SINHALA_PASSPORT in only and "Passport copy ekai" not in only and len(rows) == 2  # cited by the indicator only
        assert (
            "indicator findings and word overlap" in page
            and "--model PATH" in c.get("/search", params={"q": "they took my passport", "mode": "meaning"}).text
        )
