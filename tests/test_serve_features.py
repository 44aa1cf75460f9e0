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
            "[10/04/2024, 07:38:00] Kasun: " + lrm + "<attached: 00000004-PHOTO-2024-04-10-07-38-00.jpg>",
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
