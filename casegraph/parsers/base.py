"""What every parser is: a name, a version, a sniff that scores an exhibit, and a streaming parse.

Parsers never touch the store. They yield records (each with provenance) and ParseIssues for
what they could not read, so that nothing is lost silently.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import ClassVar

from ..ingest.archive import ArchiveError, SafeArchive, is_archive
from ..model import ParseIssue, Provenance, Record

HEAD_BYTES = 64 * 1024


class ParseError(ValueError):
    """A whole exhibit cannot be read by a parser (corrupt, truncated, not its format)."""


@dataclass
class Probe:
    """What format detection looks at: the name, the first bytes, member names and SQLite tables."""

    path: Path
    name: str  # original file name
    head: bytes = field(repr=False, default=b"")

    @classmethod
    def of(cls, path: Path, name: str | None = None) -> Probe:
        with open(path, "rb") as f:
            head = f.read(HEAD_BYTES)
        return cls(Path(path), name or Path(path).name, head)

    @property
    def suffix(self) -> str:
        return Path(self.name).suffix.lower()

    @cached_property
    def text(self) -> str:
        """The head decoded leniently (BOM-aware), for text sniffing."""
        for enc in ("utf-8-sig", "utf-16"):
            try:
                return self.head.decode(enc)
            except UnicodeDecodeError:
                continue
        return self.head.decode("utf-8", errors="replace")

    @cached_property
    def members(self) -> list[str]:
        if not is_archive(self.head):
            return []
        try:
            with SafeArchive(self.path, self.name) as a:
                return a.names()
        except ArchiveError:
            return []

    @cached_property
    def sqlite_tables(self) -> set[str]:
        if not self.head.startswith(b"SQLite format 3\x00"):
            return set()
        try:
            with closing_sqlite(self.path) as con:
                return {r[0].lower() for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        except sqlite3.DatabaseError:
            return set()


def closing_sqlite(path: Path) -> sqlite3.Connection:
    """Open a SQLite exhibit strictly read-only and immutable: no journal, no WAL replay, no writes."""
    con = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro&immutable=1", uri=True)
    con.row_factory = sqlite3.Row
    return con


@dataclass
class Source:
    """An exhibit handed to a parser."""

    path: Path
    sha256: str
    name: str


class Parser:
    name: ClassVar[str]
    version: ClassVar[str]
    description: ClassVar[str] = ""

    def sniff(self, probe: Probe) -> float:
        """Confidence 0..1 that this parser reads the exhibit."""
        raise NotImplementedError

    def parse(self, src: Source) -> Iterator[Record]:
        raise NotImplementedError

    # helpers for subclasses
    def prov(self, src: Source, locator: str) -> Provenance:
        return Provenance(src.sha256, self.name, self.version, locator)

    def issue(self, src: Source, locator: str, message: str, raw: str | bytes | None = None,
              severity: str = "error") -> ParseIssue:
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8", errors="replace")
        if raw is not None and len(raw) > 2000:
            raw = raw[:2000] + f"… [{len(raw)} chars]"
        return ParseIssue(prov=self.prov(src, locator), severity=severity, message=message, raw=raw)
