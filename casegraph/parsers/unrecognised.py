"""Format detection, and the `unrecognised` run of an exhibit no parser reads.

Every registered parser scores the exhibit; the best score of 0.5 or more wins. A sniff that fails
(an archive member that cannot be opened, a damaged database) scores 0 and its reason is kept, as
is the reason an archive was refused, so an exhibit no parser reads says why. This lives among the
parsers so that `load_all` registers `unrecognised` and its runs can be re-derived like any other;
ingest.detect is the entry point the rest of casegraph uses.
"""

from __future__ import annotations

import sqlite3
import zipfile
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from ..model import ParseIssue, Record
from . import load_all, register
from .base import Parser, Probe, Source, closing_sqlite

THRESHOLD = 0.5


@dataclass
class Detection:
    parser: Parser | None
    ranked: list[tuple[float, Parser]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # what stopped the exhibit from being examined fully
    flags: list[str] = field(default_factory=list)  # what makes the exhibit unreadable, or partly so (intake flags it)

    def reason(self, name: str) -> str:
        """Why no parser was chosen, in words for the examiner and the case record."""
        if self.problems:
            return f"{name}: format not recognised: " + "; ".join(self.problems)
        if self.ranked:
            score, best = self.ranked[0]
            return (
                f"{name}: format not recognised: the closest parser, {best.name}, scored {score:.2f} "
                f"(below {THRESHOLD}); name one with --parser if it is right"
            )
        return f"{name}: format not recognised by any parser; name one with --parser"


def examine(path: Path, name: str | None = None) -> Detection:
    """The parser for an exhibit, the scores, and what could not be read (never raises)."""
    try:
        probe = Probe.of(path, name)
    except OSError as e:
        return Detection(None, [], [f"unreadable: {type(e).__name__}: {e}"], [f"unreadable: {type(e).__name__}: {e}"])
    ranked, problems, flags = [], [], []
    encrypted = _encrypted_members(probe)
    if encrypted:
        flags.append(f"encrypted: {encrypted} zip member(s) need a password; their content cannot be read")
    damaged = _sqlite_problem(probe)
    if damaged:
        flags.append(f"unreadable: SQLite database cannot be read ({damaged})")
    for p in load_all():
        if p.name == UNRECOGNISED:
            continue
        try:
            score = p.sniff(probe)
        except Exception as e:
            problems.append(f"{p.name} could not examine it ({type(e).__name__}: {e})")
            note = f"unreadable: {type(e).__name__}: {e}"[:300]  # a finding about the exhibit, kept at intake
            if note not in flags and not (encrypted and "encrypt" in note.lower()):
                flags.append(note)
            continue
        if score > 0:
            ranked.append((score, p))
    if probe.archive_error:
        problems.insert(0, f"archive refused: {probe.archive_error}")
    ranked.sort(key=lambda s: -s[0])
    chosen = ranked[0][1] if ranked and ranked[0][0] >= THRESHOLD else None
    return Detection(chosen, ranked, list(dict.fromkeys(problems)), flags)


def _encrypted_members(probe: Probe) -> int:
    """How many members of a zip exhibit are encrypted (general-purpose flag bit 0)."""
    if not probe.head.startswith(b"PK"):
        return 0
    try:
        with zipfile.ZipFile(probe.path) as z:
            return sum(1 for i in z.infolist() if i.flag_bits & 0x1)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        return 0


def _sqlite_problem(probe: Probe) -> str | None:
    """Why a file that says it is SQLite cannot be read, or None when it can (or is not SQLite)."""
    if not probe.head.startswith(b"SQLite format 3\x00"):
        return None
    try:
        with closing(closing_sqlite(probe.path)) as con:
            con.execute("SELECT count(*) FROM sqlite_master").fetchall()
            return None
    except UnicodeDecodeError:  # sqlite3 cannot even decode its own error message: the schema holds non-UTF-8 bytes
        return "its schema is malformed: corrupt, non-UTF-8 entries"
    except (sqlite3.Error, ValueError) as e:
        return f"{type(e).__name__}: {e}"


UNRECOGNISED = "unrecognised"


@register
class Unrecognised(Parser):
    """Not a format: the parse run of an exhibit no parser reads. Its one record is the parse issue
    saying why (the refused archive, the failed look, the closest score), so the exhibit has a parse
    run, a parse issue and a custody event like any other, and re-deriving it gives the same."""

    name = UNRECOGNISED
    version = "1.0"
    description = "exhibits no parser recognises: records the reason as a parse issue"
    reads = (
        "any exhibit no parser recognises: a parse run whose one record is an error parse issue giving the reason "
        "(an archive refused and why: path traversal, a link member, a bomb, encryption; a parser's failed look; "
        "the closest score), so the exhibit is never silently left out"
    )
    locators = "`exhibit`"

    def sniff(self, probe: Probe) -> float:
        return 0.0

    def parse(self, src: Source) -> Iterator[Record]:
        found = examine(src.path, src.name)
        message = (
            found.reason(src.name)
            if found.parser is None
            else f"{src.name}: recorded as unrecognised although {found.parser.name} recognises it"
        )
        yield ParseIssue(prov=self.prov(src, "exhibit"), severity="error", message=message)
