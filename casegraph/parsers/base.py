"""What every parser is: a name, a version, a sniff that scores an exhibit, and a streaming parse.

Parsers never touch the store. They yield records (each with provenance) and ParseIssues for
what they could not read, so that nothing is lost silently.
"""

from __future__ import annotations

import codecs
import io
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import ClassVar, TypeVar

from defusedxml import DefusedXmlException

from ..archive import ArchiveError, SafeArchive, is_archive
from ..errors import CaseGraphError
from ..model import Identifier, ParseIssue, Provenance, Record
from . import mentions

HEAD_BYTES = 64 * 1024
T = TypeVar("T")


class ParseError(CaseGraphError, ValueError):
    """A whole exhibit cannot be read by a parser (corrupt, truncated, not its format)."""

    code = 1  # an operation or check that failed


@dataclass
class Probe:
    """What format detection looks at: the name, the first bytes, member names and SQLite tables."""

    path: Path
    name: str  # original file name
    head: bytes = field(repr=False, default=b"")
    archive_error: str | None = None  # why an archive exhibit was refused, once `members` has looked

    @classmethod
    def of(cls, path: Path, name: str | None = None) -> Probe:
        with open(path, "rb") as f:
            head = f.read(HEAD_BYTES)
        return cls(Path(path), name or Path(path).name, head)

    @property
    def suffix(self) -> str:
        return Path(self.name).suffix.lower()

    @cached_property
    def encoding(self) -> TextEncoding:
        """How the head (and so the file) is decoded as text; see decide_encoding."""
        return decide_encoding(self.head, complete=len(self.head) < HEAD_BYTES)

    @cached_property
    def text(self) -> str:
        """The head decoded for text sniffing: a character cut by the 64 KiB limit is not an error."""
        return self.encoding.decode_head(self.head)

    @cached_property
    def members(self) -> list[str]:
        if not is_archive(self.head):
            return []
        try:
            with SafeArchive(self.path, self.name) as a:
                return a.names()
        except ArchiveError as e:
            self.archive_error = str(e)
            return []

    @cached_property
    def sqlite_tables(self) -> set[str]:
        if not self.head.startswith(b"SQLite format 3\x00"):
            return set()
        try:
            with closing_sqlite(self.path) as con:
                # names as bytes: a corrupt or hostile file's names need not be UTF-8 (sqlite3 would raise UnicodeDecodeError)
                con.text_factory = bytes
                return {
                    r[0].decode("utf-8", "replace").lower()
                    for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")
                    if isinstance(r[0], bytes)
                }
        except (sqlite3.Error, ValueError):
            return set()


@dataclass(frozen=True)
class TextEncoding:
    """The decision on how a text exhibit is decoded: codec, bytes to skip first (a BOM), and why."""

    codec: str  # a Python codec name: utf-8, utf-16-le, utf-16-be
    skip: int  # leading bytes that are not text (byte-order mark)
    reason: str
    lossy: bool = False  # the head is not valid in any encoding tried: bad bytes are replaced

    def decode_head(self, head: bytes) -> str:
        """A prefix decoded tolerantly: an incomplete character at the end is dropped, not an error."""
        dec = codecs.getincrementaldecoder(self.codec)(errors="replace")
        return dec.decode(head[self.skip :], final=False)


def _valid_prefix(data: bytes, codec: str, complete: bool) -> bool:
    try:
        codecs.getincrementaldecoder(codec)(errors="strict").decode(data, final=complete)
        return True
    except UnicodeDecodeError:
        return False


def _looks_utf16(data: bytes, codec: str) -> bool:
    """UTF-16 that decodes to text: no unpaired surrogates, and mostly letters, digits, spaces and
    punctuation rather than the CJK soup that UTF-8 bytes make when read two at a time."""
    if len(data) < 2:
        return False
    text = data[: min(len(data), 8192) & ~1].decode(codec, errors="replace")
    if not text or text.count("\ufffd") > max(2, len(text) / 100):  # a damaged unit or two, not a wrong guess
        return False
    common = sum(1 for ch in text if ch < "\u3000" or ch >= "\uff00")  # below the CJK blocks
    return common / len(text) > 0.8 or "\n" in text[:400]


def decide_encoding(head: bytes, complete: bool = False) -> TextEncoding:
    """Decide how to decode a text exhibit from its first bytes. `complete` says the head is the whole
    file (so a cut character at its end is damage, not the 64 KiB limit). Order: a UTF-8 BOM; a UTF-16
    BOM whose bytes read as UTF-16 text (a UTF-8 file that merely starts with FF FE is UTF-8); valid
    UTF-8; UTF-16 without BOM (every other byte zero); else UTF-8 with bad bytes replaced."""
    if head.startswith(b"\xef\xbb\xbf"):
        return TextEncoding("utf-8", 3, "UTF-8 (byte-order mark)")
    for bom, codec in ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if head.startswith(bom):
            rest = head[2:]
            if b"\x00" not in rest and _valid_prefix(rest, "utf-8", complete):
                return TextEncoding(
                    "utf-8",
                    2,
                    f"UTF-8 after {len(bom)} stray bytes that look like a UTF-16 "
                    "byte-order mark (the rest is valid UTF-8 and not UTF-16 text)",
                )
            if _looks_utf16(rest, codec):
                return TextEncoding(codec, 2, f"{codec.upper()} (byte-order mark)")
    sample = head[:4096]
    if len(sample) >= 16 and sample.count(0) > len(sample) * 0.2:  # text has no NULs; UTF-16 of Latin text is half NULs
        for codec, zeros in (("utf-16-le", sample[1::2]), ("utf-16-be", sample[0::2])):
            if zeros.count(0) > len(zeros) * 0.4 and _looks_utf16(head, codec):
                return TextEncoding(codec, 0, f"{codec.upper()} without byte-order mark")
    if _valid_prefix(head, "utf-8", complete):
        return TextEncoding("utf-8", 0, "UTF-8")
    return TextEncoding("utf-8", 0, "not valid UTF-8 (nor UTF-16); read as UTF-8 with bad bytes replaced", lossy=True)


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
    description: ClassVar[str] = ""  # one line, for `casegraph parsers`
    # Declared for the README's format tables (scripts/format_table.py) and the registry's tests:
    reads: ClassVar[str] = ""  # what the parser reads, in Markdown
    locators: ClassVar[str] = ""  # examples of the locators it writes, in Markdown
    section: ClassVar[str] = "comms"  # which README table: "comms" or "money"
    references: ClassVar[tuple[str, ...]] = ()  # public descriptions or samples of the format
    fixtures: ClassVar[tuple[str, ...]] = ()  # files under tests/fixtures/ that this parser, and no other, claims

    def sniff(self, probe: Probe) -> float:
        """Confidence 0..1 that this parser reads the exhibit."""
        raise NotImplementedError

    def parse(self, src: Source) -> Iterator[Record]:
        raise NotImplementedError

    # helpers for subclasses
    def prov(self, src: Source, locator: str) -> Provenance:
        return Provenance(src.sha256, self.name, self.version, locator)

    def mentioned(self, rec: Record, text: str | None, platform: str | None = None) -> Iterator[Identifier]:
        """Identifiers written inside a record's text, tied to the record and its locator."""
        for kind, value, (a, b) in mentions.find(text):
            yield Identifier(
                prov=rec.prov,
                kind=kind,
                value=value,
                role="mentioned",
                record_id=rec.id,
                platform=platform,
                context=text[max(0, a - 40) : b + 40],
            )

    def party(self, rec: Record, value: str | None, role: str, platform: str | None = None, kind: str = "phone") -> Iterator[Identifier]:
        """The identifier of a sender, recipient or holder, when the source gives one."""
        if value:
            yield Identifier(prov=rec.prov, kind=kind, value=value, role=role, record_id=rec.id, platform=platform)

    def each(self, src: Source, items: Iterable[T], read: Callable[[T], Iterable[Record]], where: Callable[[T], str]) -> Iterator[Record]:
        """read(item) for every item; an item that cannot be read becomes a ParseIssue at where(item)
        and the rest go on. An item's records are held until it is fully read, so none is half-kept."""
        for item in items:
            try:
                records = list(read(item))
            except Exception as e:  # any failure of one record (overflow, recursion, a bad type) is that record's issue
                yield self.issue(src, where(item), f"record unreadable: {type(e).__name__}: {e}", _raw(item))
                continue
            yield from records

    def archive_notes(self, src: Source, arc: SafeArchive, prefix: str = "zip:") -> Iterator[ParseIssue]:
        """What the archive reader noticed (members sharing a name), as warnings at each member."""
        for member, note in arc.notes:
            yield self.issue(src, f"{prefix}{member}", note, severity="warning")

    def read_members(
        self, src: Source, arc: SafeArchive, wanted: Callable[[str], bool], missing: str
    ) -> tuple[list[str], list[ParseIssue]]:
        """The archive members this parser reads, in archive order, and the issues to record first:
        what the archive reader noticed, and `missing` (what was looked for) when no member is there."""
        issues = list(self.archive_notes(src, arc))
        chosen = [m for m in arc.names() if wanted(m)]
        if not chosen:
            issues.append(self.issue(src, "zip:", missing))
        return chosen, issues

    def xml_failure(self, src: Source, e: Exception, prefix: str = "") -> ParseIssue:
        """The issue for XML that defusedxml refused (DTD, entities) or that is not well-formed."""
        if isinstance(e, DefusedXmlException):
            return self.issue(
                src,
                f"{prefix}xml:",
                f"{src.name}: {prefix.rstrip('#') or 'XML'} refused: {type(e).__name__} "
                f"({e}); DTDs and entity declarations are not allowed in evidence XML (possible entity attack)",
            )
        line, col = e.position
        return self.issue(
            src,
            f"{prefix}xml:line:{line}",
            f"{src.name}: XML not well-formed at line {line}, column {col}: {e}; the records before that point were kept",
        )

    def issue(self, src: Source, locator: str, message: str, raw: str | bytes | None = None, severity: str = "error") -> ParseIssue:
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8", errors="replace")
        if raw is not None and len(raw) > 2000:
            raw = raw[:2000] + f"… [{len(raw)} chars]"
        return ParseIssue(prov=self.prov(src, locator), severity=severity, message=message, raw=raw)


MAX_LINE = 1 << 20  # longer lines are cut here; the cut is reported, never silent


def text_lines(f) -> Iterator[tuple[int, str, str | None]]:
    """(line number, text without line end, note) for each line of a binary stream.

    Streams in bounded memory: a line longer than MAX_LINE bytes is cut and the rest skipped up to
    the next newline. Bytes that are not valid in the encoding are replaced (U+FFFD); the note says
    what happened so the caller can record it as a ParseIssue."""
    head = f.peek(4096)[:4096] if hasattr(f, "peek") else b""
    decided = decide_encoding(head)
    f.read(decided.skip)
    encoding = decided.codec
    if encoding != "utf-8":  # UTF-16 exports: decode as a text stream (still bounded per line)
        reader = io.TextIOWrapper(f, encoding=encoding, errors="replace", newline="")
        n = 0
        while line := reader.readline(MAX_LINE):
            n += 1
            yield n, line.rstrip("\r\n"), None if "\ufffd" not in line else f"invalid {encoding} replaced with U+FFFD"
        return
    readline = f.readline
    n = 0
    while raw := readline(MAX_LINE):
        n += 1
        note = None
        if len(raw) == MAX_LINE and not raw.endswith(b"\n"):
            rest = 0
            while more := readline(MAX_LINE):
                rest += len(more)
                if more.endswith(b"\n"):
                    break
            note = f"line is {MAX_LINE + rest} bytes long; kept the first {MAX_LINE}"
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            text = raw.decode("utf-8", errors="replace")
            note = f"not valid UTF-8 at byte {e.start} of the line; undecodable bytes replaced with U+FFFD"
        yield n, text.rstrip("\r\n"), note


def _raw(item) -> str:
    """The offending item for an issue, however odd it is (a row, an element, a dict); never raises."""
    try:
        if hasattr(item, "attrib"):  # an XML element: its tag and attributes
            return f"<{item.tag} {dict(item.attrib)!r}>"[:2000]
        return repr(dict(item) if hasattr(item, "keys") else item)[:2000]
    except Exception as e:
        return f"(unprintable {type(item).__name__}: {type(e).__name__})"


def iso_time(value: str | None) -> datetime | None:
    """An ISO 8601 time as sources write it ('Z' included); None when absent or unreadable."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
