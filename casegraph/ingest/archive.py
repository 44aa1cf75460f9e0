"""Reading zip and tar exhibits without trusting them.

Member names are checked before anything is read (no absolute paths, drive letters or `..`;
no links or devices), decompressed bytes are counted as they are read rather than taken from
the headers, and nested archives are opened only to a bounded depth. Every refusal is an
ArchiveError naming the archive and the member.
"""
from __future__ import annotations

import io
import posixpath
import stat
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO


class ArchiveError(ValueError):
    pass


@dataclass(frozen=True)
class Limits:
    max_members: int = 200_000
    max_total_bytes: int = 64 << 30  # all members, all nesting levels
    max_member_bytes: int = 16 << 30
    max_ratio: int = 1_000  # decompressed : compressed, for members over 1 MiB
    max_depth: int = 3  # archive inside archive inside archive


DEFAULT_LIMITS = Limits()
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


def is_archive(head: bytes) -> bool:
    return head.startswith(ZIP_MAGIC) or head[257:262] == b"ustar" or head[:2] in (b"\x1f\x8b",)


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
    name: str  # safe, normalised path inside the archive
    size: int  # declared size
    compressed: int


class _Budget:
    def __init__(self, limits: Limits):
        self.limits, self.total = limits, 0

    def charge(self, archive: str, member: str, n: int) -> None:
        self.total += n
        if self.total > self.limits.max_total_bytes:
            raise ArchiveError(f"{archive}: decompressed size passed {self.limits.max_total_bytes} bytes "
                               f"at member {member!r} (decompression bomb?)")


class _BoundedReader(io.RawIOBase):
    """Counts the bytes a member really decompresses to and stops at the limits."""

    def __init__(self, raw: BinaryIO, archive: str, m: Member, budget: _Budget):
        self.raw, self.archive, self.m, self.budget, self.read_so_far = raw, archive, m, budget, 0
        lim = budget.limits
        self.cap = min(lim.max_member_bytes, max(m.compressed * lim.max_ratio, 1 << 20))

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        data = self.raw.read(len(b))
        n = len(data)
        self.read_so_far += n
        if self.read_so_far > self.cap:
            raise ArchiveError(f"{self.archive}: member {self.m.name!r} decompresses past {self.cap} bytes "
                               f"(ratio limit {self.budget.limits.max_ratio}:1; decompression bomb?)")
        self.budget.charge(self.archive, self.m.name, n)
        b[:n] = data
        return n

    def close(self) -> None:
        self.raw.close()
        super().close()


class SafeArchive:
    """A zip or tar exhibit opened for reading with every safety check applied."""

    def __init__(self, source: Path | BinaryIO, label: str | None = None, limits: Limits = DEFAULT_LIMITS,
                 budget: _Budget | None = None):
        self.label = label or str(source)
        self.limits = limits
        self.budget = budget or _Budget(limits)
        self._zip: zipfile.ZipFile | None = None
        self._tar: tarfile.TarFile | None = None
        try:
            if zipfile.is_zipfile(source):
                self._zip = zipfile.ZipFile(source)
            else:
                if not isinstance(source, Path):
                    source.seek(0)
                self._tar = tarfile.open(source) if isinstance(source, Path) else tarfile.open(fileobj=source)
        except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError) as e:
            raise ArchiveError(f"{self.label}: not a readable zip or tar archive ({e})") from e
        self._members = self._check_members()

    def _check_members(self) -> dict[str, Member]:
        out: dict[str, Member] = {}
        if self._zip is not None:
            infos = self._zip.infolist()
            self._guard_count(len(infos))
            for info in infos:
                if info.is_dir():
                    continue
                mode = info.external_attr >> 16
                if stat.S_ISLNK(mode):
                    raise ArchiveError(f"{self.label}: member {info.filename!r} is a symbolic link")
                name = safe_name(self.label, info.filename)
                out[name] = Member(name, info.file_size, info.compress_size)
        else:
            count = 0
            for ti in self._tar:
                count += 1
                self._guard_count(count)
                if ti.isdir():
                    continue
                if not ti.isfile():
                    raise ArchiveError(f"{self.label}: member {ti.name!r} is a link or device, not a regular file")
                name = safe_name(self.label, ti.name)
                out[name] = Member(name, ti.size, ti.size)
        return out

    def _guard_count(self, n: int) -> None:
        if n > self.limits.max_members:
            raise ArchiveError(f"{self.label}: more than {self.limits.max_members} members")

    def __enter__(self) -> SafeArchive:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        (self._zip or self._tar).close()

    def names(self) -> list[str]:
        return list(self._members)

    def member(self, name: str) -> Member:
        return self._members[name]

    def open(self, name: str) -> BinaryIO:
        m = self._members[name]
        if self._zip is not None:
            info = next(i for i in self._zip.infolist() if not i.is_dir() and safe_name(self.label, i.filename) == name)
            raw = self._zip.open(info)
        else:
            raw = self._tar.extractfile(self._tar.getmember(self._tar_name(name)))
        return io.BufferedReader(_BoundedReader(raw, self.label, m, self.budget))

    def _tar_name(self, name: str) -> str:
        for ti in self._tar.getmembers():
            if ti.isfile() and posixpath.normpath(ti.name.replace("\\", "/")) == name:
                return ti.name
        raise KeyError(name)

    def read(self, name: str) -> bytes:
        with self.open(name) as f:
            return f.read()

    def walk(self, depth: int = 0, prefix: str = "") -> Iterator[tuple[str, SafeArchive, str]]:
        """(display path, archive, member name) for every file, descending into nested archives up to
        max_depth. Nested archives are spooled to a temporary file through the same byte budget."""
        for name in self.names():
            with self.open(name) as f:
                head = f.read(512)
            if not is_archive(head):
                yield prefix + name, self, name
                continue
            if depth + 1 > self.limits.max_depth:
                raise ArchiveError(f"{self.label}: {prefix + name!r} nests archives deeper than {self.limits.max_depth}")
            spool = tempfile.TemporaryFile()
            with self.open(name) as f:
                while chunk := f.read(1 << 20):
                    spool.write(chunk)
            try:
                inner = SafeArchive(spool, f"{self.label}!/{name}", self.limits, self.budget)
            except ArchiveError:
                yield prefix + name, self, name  # looks like an archive but is not one: an ordinary file
                continue
            with inner:
                yield from inner.walk(depth + 1, f"{prefix}{name}!/")
