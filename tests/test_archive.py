import io
import tarfile
import zipfile

import pytest

from casegraph.ingest.archive import ArchiveError, Limits, SafeArchive


def _zip(path, members, compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def test_reads_ordinary_members(tmp_path):
    p = _zip(tmp_path / "a.zip", {"_chat.txt": b"hello", "media/IMG-1.jpg": b"\xff\xd8"})
    with SafeArchive(p) as a:
        assert sorted(a.names()) == ["_chat.txt", "media/IMG-1.jpg"]
        assert a.read("_chat.txt") == b"hello"


@pytest.mark.parametrize("name", ["../../etc/passwd", "a/../../b", "/etc/shadow", "C:\\Windows\\x", "..\\evil.txt"])
def test_rejects_traversal_and_absolute_names(tmp_path, name):
    p = _zip(tmp_path / "evil.zip", {name: b"x"})
    with pytest.raises(ArchiveError, match="evil.zip.*(traversal|absolute)"):  # noqa: RUF043
        SafeArchive(p)


def test_rejects_tar_symlink_and_traversal(tmp_path):
    p = tmp_path / "evil.tar"
    with tarfile.open(p, "w") as t:
        ti = tarfile.TarInfo("link")
        ti.type, ti.linkname = tarfile.SYMTYPE, "/etc/passwd"
        t.addfile(ti)
    with pytest.raises(ArchiveError, match="link or device"):
        SafeArchive(p)
    p2 = tmp_path / "evil2.tar"
    with tarfile.open(p2, "w") as t:
        ti = tarfile.TarInfo("../x")
        ti.size = 1
        t.addfile(ti, io.BytesIO(b"x"))
    with pytest.raises(ArchiveError, match="traversal"):
        SafeArchive(p2)


def test_decompression_bomb_is_stopped_by_ratio(tmp_path):
    p = _zip(tmp_path / "bomb.zip", {"zeros.bin": b"\0" * (20 << 20)})  # 20 MiB of zeros compress ~1000:1
    with SafeArchive(p, limits=Limits(max_ratio=100)) as a:  # noqa: SIM117
        with pytest.raises(ArchiveError, match="bomb.zip.*zeros.bin.*decompression bomb"):  # noqa: RUF043
            a.read("zeros.bin")


def test_total_budget_spans_members(tmp_path):
    p = _zip(tmp_path / "many.zip", {f"f{i}.txt": bytes(range(256)) * 4096 for i in range(5)}, zipfile.ZIP_STORED)
    with SafeArchive(p, limits=Limits(max_total_bytes=3 << 20)) as a, pytest.raises(ArchiveError, match="decompressed size passed"):
        for n in a.names():
            a.read(n)


def test_nested_archives_are_walked_to_a_bounded_depth(tmp_path):
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        z.writestr("deep.txt", b"deep")
    p = _zip(tmp_path / "outer.zip", {"inner.zip": inner.getvalue(), "top.txt": b"top"})
    with SafeArchive(p) as a:
        assert sorted(path for path, _, _ in a.walk()) == ["inner.zip!/deep.txt", "top.txt"]
    level = b"leaf"
    for i in range(5):  # five levels of nesting
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr(f"l{i}.zip" if i else "leaf.txt", level)
        level = buf.getvalue()
    deep = tmp_path / "deep.zip"
    deep.write_bytes(level)
    with SafeArchive(deep) as a, pytest.raises(ArchiveError, match="nests archives deeper than 3"):
        list(a.walk())


def test_too_many_members(tmp_path):
    p = _zip(tmp_path / "wide.zip", {f"{i}.txt": b"" for i in range(50)})
    with pytest.raises(ArchiveError, match="more than 10 members"):
        SafeArchive(p, limits=Limits(max_members=10))


def test_not_an_archive(tmp_path):
    p = tmp_path / "fake.zip"
    p.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(ArchiveError, match="fake.zip: not a readable zip or tar"):  # noqa: RUF043
        SafeArchive(p)
