"""Format detection: every registered parser scores the exhibit; the best score of 0.5 or more wins.

Detection reads hostile bytes, so it never raises: a sniffer that fails on an exhibit (an encrypted
archive, a corrupt database) scores nothing, and `examine` says why, so intake can flag the exhibit
instead of crashing after its bytes are stored."""
from __future__ import annotations

import sqlite3
from contextlib import closing
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ..parsers import Parser, Probe, load_all
from ..parsers.base import closing_sqlite

THRESHOLD = 0.5


@dataclass
class Detection:
    parser: Parser | None
    flags: list[str] = field(default_factory=list)  # what makes the exhibit unreadable or partly so


def _ranked(probe: Probe, flags: list[str]) -> list[tuple[float, Parser]]:
    ranked = []
    for p in load_all():
        try:
            s = float(p.sniff(probe))
        except Exception as e:  # hostile input: a sniffer's failure is a finding about the exhibit, not a crash
            note = f"unreadable: {type(e).__name__}: {e}"[:300]
            if note not in flags:
                flags.append(note)
            continue
        if s > 0:
            ranked.append((s, p))
    return sorted(ranked, key=lambda s: -s[0])


def scores(path: Path, name: str | None = None) -> list[tuple[float, Parser]]:
    return _ranked(Probe.of(path, name), [])


def detect(path: Path, name: str | None = None) -> Parser | None:
    return examine(path, name).parser


def examine(path: Path, name: str | None = None) -> Detection:
    """The parser for an exhibit, and flags for what could not be read (encrypted, unreadable)."""
    flags: list[str] = []
    try:
        probe = Probe.of(path, name)
    except OSError as e:
        return Detection(None, [f"unreadable: {type(e).__name__}: {e}"])
    encrypted = _encrypted_members(probe)
    if encrypted:
        flags.append(f"encrypted: {encrypted} zip member(s) need a password; their content cannot be read")
    damaged = _sqlite_problem(probe)
    if damaged:
        flags.append(f"unreadable: SQLite database cannot be read ({damaged})")
    ranked = _ranked(probe, flags)
    if encrypted:  # the RuntimeError a sniffer hit on the encrypted member says the same again
        flags[1:] = [f for f in flags[1:] if "encrypted" not in f]
    parser = ranked[0][1] if ranked and ranked[0][0] >= THRESHOLD else None
    return Detection(parser, flags)


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
