"""Archives as they arrive: tar as well as zip, compressed streams, colliding names, thousands of
media files, and refusals that say why.

Shapes: the chat in fixtures/robust/_chat.txt follows WhatsApp iOS `_chat.txt` exports
(`[dd/mm/yyyy, hh:mm:ss] Name: text`, U+200E before system and attachment lines, media named
`00000003-PHOTO-<date>.jpg`; FORMATS.md, and the Android form in lucasrodes/whatstk
tests/chats/example.txt). Examiners repack phone exports as tar (adb backups and `tar` dumps of
/sdcard/WhatsApp are ustar/GNU tars), and exports reach them zipped, gzipped or bzip2'd.
"""

import io
import tarfile
import time
import zipfile
from pathlib import Path

import pytest
from parse_helpers import issues, messages, run_parser

from casegraph.ingest.archive import ArchiveError, Limits, SafeArchive, archive_kind
from casegraph.ingest.detect import examine
from casegraph.ingest.evidence import add_evidence
from casegraph.ingest.pipeline import parse_exhibit
from casegraph.parsers.whatsapp_export import WhatsAppExport

ROBUST = Path(__file__).parent / "fixtures" / "robust"
CHAT = (ROBUST / "_chat.txt").read_bytes()
PHOTO = (ROBUST / "00000003-PHOTO-2024-03-14-21-08-15.jpg").read_bytes()
TEXTS = ["හෙට උදේ 8ට එන්න", "ok. passport copy?", "வந்துட்டேன் gate එකේ"]


def _tar(path: Path, members: dict[str, bytes], mode: str = "w", fmt=tarfile.GNU_FORMAT) -> Path:
    with tarfile.open(path, mode, format=fmt) as t:
        for name, data in members.items():
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
    return path


def _zip(path: Path, members: list[tuple[str, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            z.writestr(zipfile.ZipInfo(name), data)
    return path


def _export_members() -> dict[str, bytes]:
    return {"WhatsApp Chat - Kasun Perera/_chat.txt": CHAT, "WhatsApp Chat - Kasun Perera/00000003-PHOTO-2024-03-14-21-08-15.jpg": PHOTO}


@pytest.mark.parametrize("fmt", [tarfile.GNU_FORMAT, tarfile.USTAR_FORMAT, tarfile.PAX_FORMAT])
def test_an_uncompressed_tar_export_is_read_as_an_archive(tmp_path, fmt):
    path = _tar(tmp_path / "WhatsApp Chat - Kasun Perera.tar", _export_members(), fmt=fmt)
    found = examine(path)
    assert found.parser is not None and found.parser.name == "whatsapp-export"
    msgs = messages(run_parser(WhatsAppExport(), path))
    texts = [m.text for m in msgs if m.kind == "text"]
    assert texts == TEXTS  # the first message is there, and no tar header is glued to the last
    assert all("ustar" not in (m.text or "") and "\x00" not in (m.text or "") for m in msgs)
    assert msgs[0].prov.locator == "zip:WhatsApp Chat - Kasun Perera/_chat.txt#line:1"
    media = next(m for m in msgs if m.kind == "media")
    assert media.media_sha256 is not None  # the photo member was found and hashed


def test_a_pre_posix_tar_is_known_by_its_header_checksum():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
        ti = tarfile.TarInfo("_chat.txt")
        ti.size = len(CHAT)
        t.addfile(ti, io.BytesIO(CHAT))
    head = bytearray(buf.getvalue()[:512])
    head[257:265] = b"\0" * 8  # no magic, as v7 tar wrote it
    head[148:156] = b" " * 8
    head[148:156] = b"%06o\0 " % sum(head)
    assert archive_kind(bytes(head)) == "tar"
    assert archive_kind(CHAT[:512]) is None
    assert archive_kind(b"7z\xbc\xaf\x27\x1c\x00\x04") == "7z"
    assert archive_kind(b"BZh, said the chat\n") is None  # text may begin like bzip2's magic
    import bz2

    assert archive_kind(bz2.compress(b"x")) == "bzip2" and archive_kind(bz2.compress(b"")) == "bzip2"


def test_a_tar_whose_last_member_is_a_zip_is_a_tar(tmp_path):
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        z.writestr("other.txt", b"x")
    path = _tar(tmp_path / "export.tar", {**_export_members(), "backup.zip": inner.getvalue()})
    with SafeArchive(path) as a:  # a trailing zip directory does not make the tar a zip
        assert sorted(a.names()) == sorted([*_export_members(), "backup.zip"])


@pytest.mark.parametrize("mode, suffix", [("w:gz", ".tar.gz"), ("w:bz2", ".tar.bz2"), ("w:xz", ".tar.xz")])
def test_compressed_tars_are_read(tmp_path, mode, suffix):
    path = _tar(tmp_path / f"export{suffix}", _export_members(), mode=mode)
    msgs = messages(run_parser(WhatsAppExport(), path))
    assert [m.text for m in msgs if m.kind == "text"] == TEXTS


def test_a_gzipped_chat_is_an_archive_of_one_member(tmp_path):
    import gzip

    path = tmp_path / "_chat.txt.gz"
    path.write_bytes(gzip.compress(CHAT))
    with SafeArchive(path, path.name) as a:
        assert a.names() == ["_chat.txt"] and a.read("_chat.txt") == CHAT
    assert [m.text for m in messages(run_parser(WhatsAppExport(), path)) if m.kind == "text"] == TEXTS


def test_a_gzipped_zip_export_is_read_as_the_zip(tmp_path):
    import gzip

    inner = _zip(tmp_path / "export.zip", list(_export_members().items()))
    path = tmp_path / "export.zip.gz"
    path.write_bytes(gzip.compress(inner.read_bytes()))
    with SafeArchive(path, path.name) as a:
        assert sorted(a.names()) == sorted(_export_members())


def test_colliding_member_names_are_each_read_under_their_own_name(tmp_path):
    second = CHAT.replace(b"ok. passport copy?", b"ok. visa copy?")
    path = _zip(
        tmp_path / "WhatsApp Chat - Kasun Perera.zip",
        [("chats/_chat.txt", CHAT), ("chats//_chat.txt", second), ("chats/./_chat.txt", CHAT), ("chats/_chat.txt", second)],
    )
    with SafeArchive(path, path.name) as a:
        names = a.names()
        assert names == ["chats/_chat.txt", "@2/chats/_chat.txt", "@3/chats/_chat.txt", "@4/chats/_chat.txt"]
        assert [a.member(n).stored_as for n in names] == ["chats/_chat.txt", "chats//_chat.txt", "chats/./_chat.txt", "chats/_chat.txt"]
        assert a.read("@2/chats/_chat.txt") == second and a.read("@4/chats/_chat.txt") == second
        assert len(a.notes) == 4 and "4 members share the name 'chats/_chat.txt'" in a.notes[0][1]
    recs = run_parser(WhatsAppExport(), path)
    texts = [m.text for m in messages(recs) if m.kind == "text"]
    assert texts.count("ok. passport copy?") == 2 and texts.count("ok. visa copy?") == 2
    assert len({m.prov.locator for m in messages(recs)}) == len(messages(recs))  # four copies, distinct locators
    warned = [i for i in issues(recs, "warning") if "share the name" in i.message]
    assert {i.prov.locator for i in warned} == {f"zip:{n}" for n in names}


@pytest.mark.parametrize("kind", ["zip", "tar"])
def test_opening_members_is_linear_in_their_number(tmp_path, kind):
    def build(n: int) -> Path:
        members = {f"media/IMG-{i:05d}.jpg": b"\xff\xd8" + i.to_bytes(4, "big") for i in range(n)}
        if kind == "zip":
            return _zip(tmp_path / f"{n}.zip", list(members.items()))
        return _tar(tmp_path / f"{n}.tar", members)

    def read_all(path: Path) -> float:
        t = time.perf_counter()
        with SafeArchive(path) as a:
            for name in a.names():
                a.read(name)
        return time.perf_counter() - t

    small, large = build(1_000), build(4_000)
    t_small, t_large = min(read_all(small) for _ in range(2)), min(read_all(large) for _ in range(2))
    # four times the members: about four times the time (it was sixteen: 12.7 s and 119 s before)
    assert t_large < 8 * t_small + 0.2, (t_small, t_large)
    assert t_large < 10, t_large


def test_a_compressed_tar_bomb_is_stopped_by_the_ratio(tmp_path):
    path = _tar(tmp_path / "bomb.tar.gz", {"zeros.bin": b"\0" * (8 << 20)}, mode="w:gz")
    with pytest.raises(ArchiveError, match="bomb.tar.gz: gzip stream decompresses past .*decompression bomb"):  # noqa: RUF043
        SafeArchive(path, path.name, limits=Limits(max_ratio=100))


def test_a_damaged_member_is_an_archive_error_naming_it(tmp_path):
    path = _zip(tmp_path / "x.zip", [("_chat.txt", CHAT * 50)])
    data = bytearray(path.read_bytes())
    data[60:70] = b"\x00" * 10  # inside the deflate stream
    path.write_bytes(bytes(data))
    with SafeArchive(path) as a, pytest.raises(ArchiveError, match="member '_chat.txt'"):  # noqa: RUF043
        a.read("_chat.txt")


def _encrypted(path: Path) -> Path:
    """A zip whose member has the 'encrypted' flag set (Python cannot write encrypted zips)."""
    _zip(path, [("_chat.txt", CHAT)])
    data = bytearray(path.read_bytes())
    for sig, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        i = data.find(sig)
        data[i + offset] |= 0x01
    path.write_bytes(bytes(data))
    return path


def _linked(path: Path) -> Path:
    """A tar export whose chat is a symbolic link out of the archive."""
    with tarfile.open(path, "w") as t:
        ti = tarfile.TarInfo("WhatsApp Chat/_chat.txt")
        ti.type, ti.linkname = tarfile.SYMTYPE, "/etc/passwd"
        t.addfile(ti)
    return path


@pytest.mark.parametrize(
    "make, reason",
    [
        (lambda p: _zip(p, [("../../etc/cron.d/x", b"x"), ("_chat.txt", CHAT)]), "contains '..' (path traversal)"),
        (lambda p: _zip(p, [("/etc/passwd", b"x")]), "member '/etc/passwd' has an absolute path"),
        (_encrypted, "member '_chat.txt' is encrypted"),
        (lambda p: (p.write_bytes(b"Rar!\x1a\x07\x01\x00" + b"\0" * 100), p)[1], "a rar archive"),
        (lambda p: _linked(p), "member 'WhatsApp Chat/_chat.txt' is a link or device"),
    ],
)
def test_a_refused_archive_records_the_reason_in_the_case(case, tmp_path, make, reason):
    path = make(tmp_path / "WhatsApp Chat - X.zip")
    sha = add_evidence(case, path, "E1").sha256
    out = parse_exhibit(case, sha)
    assert out.status == "unrecognised" and reason in out.message
    rows = case.store.rows("SELECT severity, message, parser, locator FROM parse_issues WHERE exhibit_sha256 = ?", [sha])
    assert len(rows) == 1 and rows[0]["severity"] == "error" and reason in rows[0]["message"]
    events = [e for e in case.custody.events() if e["action"] == "parse" and e["inputs"][0]["sha256"] == sha]
    assert len(events) == 1 and events[0]["details"]["status"] == "unrecognised"
    assert parse_exhibit(case, sha).status == "unrecognised"  # again: the same, no second row
    assert case.store.count("parse_issues", "WHERE exhibit_sha256 = ?", [sha]) == 1


def test_a_bzip2_bomb_ends_as_a_recorded_refusal(case, tmp_path):
    path = _tar(tmp_path / "WhatsApp Chat - Y.tar.bz2", {"_chat.txt": CHAT, "pad.bin": b"\0" * (24 << 20)}, mode="w:bz2")
    out = parse_exhibit(case, add_evidence(case, path, "E2").sha256)
    assert out.status == "unrecognised" and "decompression bomb" in out.message
