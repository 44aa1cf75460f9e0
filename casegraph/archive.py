"""Reading zip and tar exhibits without trusting them.

What an exhibit is comes from its real signature (zip headers; tar's `ustar` magic at offset 257,
or a valid header checksum for old tars; gzip, bzip2 and xz magic), never from its name or from
a trailing zip directory. Member names are checked before anything is read (no absolute paths,
drive letters or `..`; no links or devices), decompressed bytes are counted as they are read
rather than taken from the headers, and nested archives are opened only to a bounded depth.
A compressed tar (`.tar.gz`, `.tar.bz2`, `.tar.xz`) is decompressed once, under the same ratio
and size bounds, into a temporary file, so its members open in any order without re-reading the
stream; a compressed single file (`_chat.txt.gz`) is an archive of one member.

Several entries may share one name once normalised (`chats/_chat.txt`, `chats//_chat.txt`,
`chats/./_chat.txt`, or the same name twice). Every copy is kept: the first under its normalised
name, each later one under `@<entry>/<name>` (its position in the archive's directory), and
`notes` names them all so parsers record the collision. Every refusal is an ArchiveError naming
the archive and the member.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import posixpath
import stat
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .errors import CaseGraphError


class ArchiveError(CaseGraphError, ValueError):
    code = 1  # an operation or check that failed


@dataclass(frozen=True)
class Limits:
    max_members: int = 200_000
    max_total_bytes: int = 64 << 30  # all members, all nesting levels
    max_member_bytes: int = 16 << 30
    max_ratio: int = 1_000  # decompressed : compressed, for members (and compressed streams) over 1 MiB
    max_depth: int = 3  # archive inside archive inside archive


DEFAULT_LIMITS = Limits()
SNIFF_BYTES = 512  # a tar header: enough for every signature below
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")  # local header, empty archive, spanned
COMPRESSED = ((b"\x1f\x8b\x08", "gzip"), (b"\xfd7zXZ\x00", "xz"))  # bzip2: see archive_kind
UNSUPPORTED = ((b"7z\xbc\xaf\x27\x1c", "7z"), (b"Rar!\x1a\x07", "rar"), (b"\x28\xb5\x2f\xfd", "zstd"))
_OPENERS = {
    "gzip": lambda f: gzip.GzipFile(fileobj=f, mode="rb"),
    "bzip2": lambda f: bz2.BZ2File(f, "rb"),
    "xz": lambda f: lzma.LZMAFile(f, "rb"),  # noqa: SIM115
}
_STREAM_ERRORS = (OSError, EOFError, zlib.error, lzma.LZMAError, zipfile.BadZipFile, tarfile.TarError, NotImplementedError, RuntimeError)


def _tar_checksum_ok(h: bytes) -> bool:
    """A pre-POSIX (v7) tar header has no magic; its checksum field proves it is one."""
    if len(h) < 512 or not h[0]:
        return False
    field = h[148:156].replace(b"\x00", b" ").strip()
    if not field or any(c not in b"01234567" for c in field):
        return False
    return int(field, 8) == sum(h[:148]) + 8 * 32 + sum(h[156:512])


def archive_kind(head: bytes) -> str | None:
    """'zip', 'tar', a compression ('gzip', 'bzip2', 'xz'), an unsupported archive ('7z', 'rar',
    'zstd'), or None, from the first SNIFF_BYTES bytes."""
    if head.startswith(ZIP_MAGIC):
        return "zip"
    if head[257:262] == b"ustar" or _tar_checksum_ok(head[:512]):
        return "tar"
    for magic, kind in COMPRESSED + UNSUPPORTED:
        if head.startswith(magic):
            return kind
    # "BZh" + block size, then a block header (pi) or the end-of-stream marker (sqrt pi): text can start "BZh"
    if head[:3] == b"BZh" and head[3:4].isdigit() and head[4:10] in (b"1AY&SY", b"\x17rE8P\x90"):
        return "bzip2"
    return None


def is_archive(head: bytes) -> bool:
    return archive_kind(head) is not None


def is_archive_file(path: Path | str) -> bool:
    with open(path, "rb") as f:
        return is_archive(f.read(SNIFF_BYTES))


def safe_name(archive: str, name: str) -> str:
    """The member's path, normalised, or ArchiveError if it could escape the extraction root."""
    n = name.replace("\\", "/")
    if not n or n.startswith("/") or (len(n) > 1 and n[1] == ":") or "\x00" in n:
        raise ArchiveError(f"{archive}: member {name!r} has an absolute path")
    parts = n.split("/")
    if ".." in parts:
        raise ArchiveError(f"{archive}: member {name!r} contains '..' (path traversal)")
    return posixpath.normpath(n)


@dataclass(frozen=True)
class Member:
    name: str  # the key: the normalised path, or @<entry>/<path> for a later copy of a name
    size: int  # declared size
    compressed: int
    stored_as: str = ""  # the name exactly as the archive stores it
    entry: int = 0  # 1-based position in the archive's directory
    path: str = ""  # the normalised path (the same for every copy of a name)
    encrypted: bool = False


class _Budget:
    def __init__(self, limits: Limits):
        self.limits, self.total = limits, 0

    def charge(self, archive: str, member: str, n: int) -> None:
        self.total += n
        if self.total > self.limits.max_total_bytes:
            raise ArchiveError(
                f"{archive}: decompressed size passed {self.limits.max_total_bytes} bytes at member {member!r} (decompression bomb?)"
            )


def _cap(limits: Limits, compressed: int) -> int:
    return min(limits.max_member_bytes, max(compressed * limits.max_ratio, 1 << 20))


class _BoundedReader(io.RawIOBase):
    """Counts the bytes a member really decompresses to and stops at the limits; a damaged member
    (bad CRC, truncated stream) is an ArchiveError naming it."""

    def __init__(self, raw: BinaryIO, archive: str, m: Member, budget: _Budget):
        self.raw, self.archive, self.m, self.budget, self.read_so_far = raw, archive, m, budget, 0
        self.cap = _cap(budget.limits, m.compressed)

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        try:
            data = self.raw.read(len(b))
        except _STREAM_ERRORS as e:
            raise ArchiveError(
                f"{self.archive}: member {self.m.name!r} is unreadable after {self.read_so_far} bytes ({type(e).__name__}: {e})"
            ) from e
        n = len(data)
        self.read_so_far += n
        if self.read_so_far > self.cap:
            raise ArchiveError(
                f"{self.archive}: member {self.m.name!r} decompresses past {self.cap} bytes "
                f"(ratio limit {self.budget.limits.max_ratio}:1; decompression bomb?)"
            )
        self.budget.charge(self.archive, self.m.name, n)
        b[:n] = data
        return n

    def close(self) -> None:
        self.raw.close()
        super().close()


class SafeArchive:
    """A zip or tar exhibit opened for reading with every safety check applied."""

    def __init__(self, source: Path | BinaryIO, label: str | None = None, limits: Limits = DEFAULT_LIMITS, budget: _Budget | None = None):
        self.label = label or str(source)
        self.limits = limits
        self.budget = budget or _Budget(limits)
        self.notes: list[tuple[str, str]] = []  # (member, what a parser should record about it)
        self._zip: zipfile.ZipFile | None = None
        self._tar: tarfile.TarFile | None = None
        self._single: BinaryIO | None = None  # the spool of a compressed single file
        self._spool: BinaryIO | None = None
        self._owned: BinaryIO | None = None
        self._infos: dict[str, object] = {}
        fh = open(source, "rb") if isinstance(source, (str, Path)) else source  # noqa: SIM115
        if fh is not source:
            self._owned = fh
        try:
            self._open(fh)
            self._members = self._check_members()
        except BaseException:
            self.close()
            raise

    # -- opening ----------------------------------------------------------------------------
    def _open(self, fh: BinaryIO) -> None:
        fh.seek(0)
        kind = archive_kind(fh.read(SNIFF_BYTES))
        fh.seek(0)
        if kind in ("7z", "rar", "zstd"):
            raise ArchiveError(
                f"{self.label}: a {kind} archive; casegraph does not read {kind} (extract it with a "
                "forensic tool and add the files as exhibits)"
            )
        if kind in _OPENERS:
            fh = self._decompress(fh, kind)
            kind = archive_kind(fh.read(SNIFF_BYTES))
            fh.seek(0)
            if kind not in ("tar", "zip"):  # a compressed single file, e.g. _chat.txt.gz
                self._single = fh
                return
        try:
            if kind == "zip":
                self._zip = zipfile.ZipFile(fh)
            elif kind == "tar":
                self._tar = tarfile.open(fileobj=fh, mode="r:")  # noqa: SIM115
            else:
                raise ArchiveError(f"{self.label}: not a zip or tar archive (no archive signature)")
        except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError, ValueError) as e:
            if isinstance(e, ArchiveError):
                raise
            raise ArchiveError(f"{self.label}: not a readable zip or tar archive ({e})") from e

    def _decompress(self, fh: BinaryIO, kind: str) -> BinaryIO:
        """The whole decompressed stream in a temporary file, bounded by the ratio and the total size (the
        members read from it are charged to the budget then, so the stream itself is not charged twice)."""
        fh.seek(0, io.SEEK_END)
        size = fh.tell()
        fh.seek(0)
        cap = min(self.limits.max_total_bytes, max(size * self.limits.max_ratio, 1 << 20))  # the whole stream: all members
        self._spool = tempfile.TemporaryFile()  # noqa: SIM115
        written = 0
        try:
            with _OPENERS[kind](fh) as z:
                while chunk := z.read(1 << 20):
                    written += len(chunk)
                    if written > cap:
                        raise ArchiveError(
                            f"{self.label}: {kind} stream decompresses past {cap} bytes (ratio limit "
                            f"{self.limits.max_ratio}:1 over {size} compressed bytes; decompression bomb?)"
                        )
                    self._spool.write(chunk)
        except _STREAM_ERRORS as e:
            raise ArchiveError(f"{self.label}: {kind} stream unreadable after {written} bytes ({type(e).__name__}: {e})") from e
        self._spool.seek(0)
        return self._spool

    # -- members ----------------------------------------------------------------------------
    def _check_members(self) -> dict[str, Member]:
        out: dict[str, Member] = {}
        copies: dict[str, list[Member]] = {}

        def add(info, stored: str, size: int, compressed: int, entry: int, encrypted: bool = False) -> None:
            path = safe_name(self.label, stored)
            key = path
            while key in out:  # a later copy of a name: its entry number keeps it apart
                key = f"@{entry}/{key}" if key == path else f"@{key}"
            m = Member(key, size, compressed, stored, entry, path, encrypted)
            out[key] = m
            self._infos[key] = info
            copies.setdefault(path, []).append(m)

        if self._single is not None:
            stem = Path(self.label.rsplit("!/", 1)[-1]).name
            for ext in (".gz", ".tgz", ".bz2", ".xz"):
                if stem.lower().endswith(ext):
                    stem = stem[: -len(ext)]
                    break
            self._single.seek(0, io.SEEK_END)
            size = self._single.tell()
            add(None, safe_name(self.label, stem or "data"), size, size, 1)
        elif self._zip is not None:
            infos = self._zip.infolist()
            self._guard_count(len(infos))
            for entry, info in enumerate(infos, 1):
                if info.is_dir():
                    continue
                mode = info.external_attr >> 16
                if stat.S_ISLNK(mode):
                    raise ArchiveError(f"{self.label}: member {info.filename!r} is a symbolic link")
                add(info, info.filename, info.file_size, info.compress_size, entry, bool(info.flag_bits & 0x1))
        else:
            entry = 0
            try:
                for ti in self._tar:
                    entry += 1
                    self._guard_count(entry)
                    if ti.isdir():
                        continue
                    if not ti.isfile():
                        raise ArchiveError(f"{self.label}: member {ti.name!r} is a link or device, not a regular file")
                    add(ti, ti.name, ti.size, ti.size, entry)
            except (tarfile.TarError, OSError, EOFError) as e:
                raise ArchiveError(f"{self.label}: tar directory unreadable after entry {entry} ({e})") from e
        for path, ms in copies.items():
            if len(ms) > 1:
                listed = "; ".join(f"entry {m.entry} stored as {m.stored_as!r}, read as {m.name!r}" for m in ms)
                for m in ms:
                    self.notes.append(
                        (
                            m.name,
                            f"{self.label}: {len(ms)} members share the name {path!r} ({listed}); every copy is read under its own name",
                        )
                    )
        return out

    def _guard_count(self, n: int) -> None:
        if n > self.limits.max_members:
            raise ArchiveError(f"{self.label}: more than {self.limits.max_members} members")

    def __enter__(self) -> SafeArchive:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for h in (self._zip, self._tar, self._spool, self._owned):
            if h is not None:
                h.close()

    def names(self) -> list[str]:
        return list(self._members)

    def members(self) -> list[Member]:
        return list(self._members.values())

    def member(self, name: str) -> Member:
        return self._members[name]

    def open(self, name: str) -> BinaryIO:
        m = self._members[name]
        if m.encrypted:
            raise ArchiveError(f"{self.label}: member {name!r} is encrypted (a password is needed); not read")
        info = self._infos[name]
        try:
            if self._single is not None:
                raw: BinaryIO = _Window(self._single)
            elif self._zip is not None:
                raw = self._zip.open(info)
            else:
                raw = self._tar.extractfile(info)
        except _STREAM_ERRORS as e:
            raise ArchiveError(f"{self.label}: member {name!r} cannot be opened ({type(e).__name__}: {e})") from e
        return io.BufferedReader(_BoundedReader(raw, self.label, m, self.budget))

    def read(self, name: str) -> bytes:
        with self.open(name) as f:
            return f.read()

    def walk(self, depth: int = 0, prefix: str = "") -> Iterator[tuple[str, SafeArchive, str]]:
        """(display path, archive, member name) for every file, descending into nested archives up to
        max_depth. Nested archives are spooled to a temporary file through the same byte budget."""
        for name in self.names():
            with self.open(name) as f:
                head = f.read(SNIFF_BYTES)
                if not is_archive(head):
                    yield prefix + name, self, name
                    continue
                if depth + 1 > self.limits.max_depth:
                    raise ArchiveError(f"{self.label}: {prefix + name!r} nests archives deeper than {self.limits.max_depth}")
                spool = tempfile.TemporaryFile()  # noqa: SIM115
                spool.write(head)
                while chunk := f.read(1 << 20):
                    spool.write(chunk)
            try:
                inner = SafeArchive(spool, f"{self.label}!/{name}", self.limits, self.budget)
            except ArchiveError:
                spool.close()
                yield prefix + name, self, name  # looks like an archive but is not one: an ordinary file
                continue
            with inner:
                yield from inner.walk(depth + 1, f"{prefix}{name}!/")
            spool.close()


class _Window(io.RawIOBase):
    """A read-only view of a spool from its start (the one member of a compressed single file)."""

    def __init__(self, f: BinaryIO):
        self.f, self.pos = f, 0

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        self.f.seek(self.pos)
        n = self.f.readinto(b)
        self.pos += n
        return n
