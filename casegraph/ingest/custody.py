"""The chain-of-custody log: append-only JSON lines, each event hash-chained to the one before.

An event's hash is the SHA-256 of its canonical JSON without the "hash" field; it includes
"prev", the hash of the previous event, so editing, deleting or reordering any event breaks
the chain at a place `verify_chain` can name. The store keeps an anchor for every event it logged
(seq and hash), so that cutting events off the end is detected too, and no event is appended
(nor anchored) after a log whose end is not the anchored event: a break stays visible until an
examiner acknowledges it (`custody acknowledge`). Against someone who can rewrite the whole case
directory (log and store together) only a head kept elsewhere helps: every command prints it,
reports and bundles carry it signed, and `custody verify --expect-head` checks it.

Verification never trusts the log's content: every line is checked for shape before use, and its
cost grows with the number of lines, not with the numbers written in them.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import socket
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from .. import TOOL
from ..errors import CaseGraphError

GENESIS = "0" * 64
HEX64 = re.compile(r"[0-9a-f]{64}")
SHOWN = 20  # at most this many seq numbers or ranges are listed in one problem


class CustodyBroken(CaseGraphError):
    """The log does not end at the event the case store anchored: nothing may be appended."""

    code = 1


def canonical(event: dict[str, Any]) -> bytes:
    body = {k: v for k, v in event.items() if k != "hash"}
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def event_hash(event: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(event)).hexdigest()


@dataclass(frozen=True)
class Problem:
    where: str  # "custody.jsonl line 4 (seq 4)", "exhibit EX-1 …"
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


class CustodyLog:
    def __init__(self, path: Path):
        self.path = Path(path)

    def raw(self) -> list[tuple[int, bytes]]:
        """(line number, raw bytes) for every non-empty line."""
        if not self.path.exists():
            return []
        with open(self.path, "rb") as f:
            return [(n, line.rstrip(b"\r\n")) for n, line in enumerate(f, 1) if line.strip()]

    def read(self) -> list[tuple[int, str]]:
        """(line number, raw line) for every non-empty line (undecodable bytes replaced)."""
        return [(n, line.decode("utf-8", "replace")) for n, line in self.raw()]

    def events(self) -> list[dict[str, Any]]:
        """The events that are well-formed (verify_chain names the others)."""
        return [ev for _, ev in parse_lines(self.raw())[0]]

    def append(
        self,
        action: str,
        actor: str,
        *,
        inputs: list[dict] | None = None,
        outputs: list[dict] | None = None,
        details: dict | None = None,
        expect: tuple[int, str] | bool | None = False,
    ) -> dict[str, Any]:
        """Append one event under an exclusive lock and fsync it before returning. With `expect`
        (the anchored (seq, hash), or None for a log that must be empty), refuse with CustodyBroken
        when the log does not end there."""
        with open(self.path, "a+b") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                seq, prev = self._tail(f, expect)
                now = datetime.now().astimezone()
                event = {
                    "seq": seq + 1,
                    "prev": prev,
                    "time": now.isoformat(timespec="microseconds"),
                    "zone": now.tzname(),
                    "actor": actor,
                    "action": action,
                    "tool": TOOL,
                    "host": socket.gethostname(),
                    "inputs": inputs or [],
                    "outputs": outputs or [],
                    "details": details or {},
                }
                event["hash"] = event_hash(event)
                f.seek(0, os.SEEK_END)
                if f.tell() and not self._ends_with_newline(f):
                    f.write(b"\n")
                f.write((json.dumps(event, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8"))
                f.flush()
                os.fsync(f.fileno())
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)
        return event

    @staticmethod
    def _ends_with_newline(f) -> bool:
        f.seek(-1, os.SEEK_END)
        last = f.read(1)
        f.seek(0, os.SEEK_END)
        return last == b"\n"

    def _tail(self, f, expect) -> tuple[int, str]:
        """(seq, hash) to chain the next event to: the last line's, read from the end (appending stays
        O(1) however long the log is)."""
        line = _last_line(f)
        events, _ = parse_lines([(0, line)]) if line is not None else ([], [])
        here = None if line is None else ((events[0][1]["seq"], events[0][1]["hash"]) if events else ("?", "malformed"))
        if expect is not False and here != (tuple(expect) if expect else None):
            said = (
                "is empty"
                if here is None
                else "ends in a line that is not a valid event"
                if not events
                else f"ends at seq {here[0]} ({here[1][:16]}…)"
            )
            want = f"seq {expect[0]} ({expect[1][:16]}…)" if expect else "no event (the store holds no anchor)"
            raise CustodyBroken(
                f"{self.path.name} {said}, but the case store anchored {want}: the log was cut, "
                "extended or rewritten. Run 'casegraph custody verify' to see what changed; nothing "
                "more is logged until an examiner records 'casegraph custody acknowledge --reason ...'"
            )
        if not events:
            if line is not None:  # a malformed last line: chain to the last well-formed event
                good = parse_lines(self.raw())[0]
                return (good[-1][1]["seq"], good[-1][1]["hash"]) if good else (0, GENESIS)
            return 0, GENESIS
        return here


def _last_line(f, block: int = 65536) -> bytes | None:
    """The last non-empty line of a binary file, reading backwards from its end."""
    end = f.seek(0, os.SEEK_END)
    data, pos = b"", end
    while pos > 0:
        step = min(block, pos)
        pos -= step
        f.seek(pos)
        data = f.read(step) + data
        stripped = data.rstrip(b"\r\n \t")
        if not stripped:
            continue
        cut = stripped.rfind(b"\n")
        if cut >= 0 or pos == 0:
            return stripped[cut + 1 :].rstrip(b"\r")
    return None


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=True) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def malformed(ev: Any) -> str | None:
    """Why a parsed line is not a custody event, or None when its shape is right."""
    if not isinstance(ev, dict):
        return "not a JSON object"
    seq = ev.get("seq")
    if type(seq) is not int or seq < 1:
        return f'"seq" is not a positive whole number (it is {_short(seq)})'
    for key in ("hash", "prev"):
        if not isinstance(ev.get(key), str) or not HEX64.fullmatch(ev[key]):
            return f'"{key}" is not a SHA-256 hex digest (it is {_short(ev.get(key))})'
    if not isinstance(ev.get("action"), str):
        return f'"action" is not text (it is {_short(ev.get("action"))})'
    for key in ("inputs", "outputs"):
        items = ev.get(key, [])
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            return f'"{key}" is not a list of objects'
    if not isinstance(ev.get("details", {}), dict):
        return '"details" is not an object'
    return None


def parse_lines(lines: list[tuple[int, bytes]]) -> tuple[list[tuple[int, dict]], list[Problem]]:
    """Decode and shape-check raw lines: (well-formed events, a problem per malformed line)."""
    events, problems = [], []
    for lineno, raw in lines:
        where = f"line {lineno}"
        try:
            ev = json.loads(raw.decode("utf-8"))
            why = malformed(ev)
            if why is None and raw != json.dumps(ev, ensure_ascii=False, sort_keys=True).encode("utf-8"):
                why = "the line is not in the form casegraph writes (edited by hand)"
        except UnicodeDecodeError as e:
            why = f"byte 0x{raw[e.start]:02X} at column {e.start + 1} is not UTF-8"
        except (ValueError, RecursionError) as e:
            why = f"not JSON ({str(e)[:60]})"
        if why:
            problems.append(Problem(where, f"not a valid custody event (edited or corrupted): {why}"))
        else:
            events.append((lineno, ev))
    return events, problems


def verify_chain(
    log: CustodyLog,
    anchor: tuple[int, str] | list[tuple[int, str]] | None,
    redacted_ok: bool = False,
    acknowledged: set[tuple[int, str]] | None = None,
) -> tuple[list[dict], list[Problem]]:
    """Check every event's shape and own hash, the prev links, seq order and the anchors (the
    store's record of every event it logged; one (seq, hash) or a list). Returns the events that
    parsed and the problems found, each naming the line and event concerned. With `redacted_ok`
    (a victim-protected copy), events flagged "redacted" are checked by their links only: their
    pseudonymised content no longer gives their hash. Anchors in `acknowledged` (superseded by an
    examiner's acknowledgement) are not compared."""
    name = log.path.name
    events, problems = parse_lines(log.raw())
    problems = [Problem(f"{name} {p.where}", p.what) for p in problems]
    for lineno, ev in events:
        if event_hash(ev) != ev["hash"] and not (redacted_ok and ev.get("redacted") is True):
            problems.append(
                Problem(
                    f"{name} line {lineno} (seq {ev['seq']}, {_short(ev.get('action'))[1:-1]})",
                    f"event content was altered: recorded hash {ev['hash'][:16]}…, recomputed {event_hash(ev)[:16]}…",
                )
            )

    seqs = [ev["seq"] for _, ev in events]
    ordered = sorted(seqs)
    # An event is out of place when its seq is not the one its position in sorted order calls for.
    misplaced = [(lineno, ev["seq"], want) for (lineno, ev), want in zip(events, ordered, strict=True) if ev["seq"] != want]
    for lineno, seq, want in misplaced[:SHOWN]:
        problems.append(Problem(f"{name} line {lineno} (seq {seq})", f"out of order: seq {want} belongs here (events reordered)"))
    if len(misplaced) > SHOWN:
        problems.append(Problem(name, f"{len(misplaced) - SHOWN} more events out of order"))
    dupes = sorted(s for s, n in Counter(seqs).items() if n > 1)
    if dupes:
        problems.append(Problem(name, f"seq numbers used twice: {_ranges(dupes)} (events duplicated or inserted)"))
    # gaps from the sorted seq numbers: linear in the events, whatever numbers they state
    gaps, before = [], 0
    for s in dict.fromkeys(ordered):
        if s > before + 1:
            gaps.append((before + 1, s - 1))
        before = s
    if gaps:
        shown = ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in gaps[:SHOWN])
        more = f" and {len(gaps) - SHOWN} more gaps" if len(gaps) > SHOWN else ""
        problems.append(Problem(name, f"events deleted: seq {shown}{more} missing"))
    top = ordered[-1] if ordered else 0

    by_seq: dict[int, tuple[int, dict]] = {}
    for lineno, ev in events:
        by_seq.setdefault(ev["seq"], (lineno, ev))
    broken = 0
    for seq, (lineno, ev) in sorted(by_seq.items()):
        expected = GENESIS if seq == 1 else (by_seq[seq - 1][1]["hash"] if seq - 1 in by_seq else None)
        if expected is not None and ev["prev"] != expected:
            broken += 1
            if broken <= SHOWN:
                problems.append(
                    Problem(
                        f"{name} line {lineno} (seq {seq})",
                        f"chain broken: prev {ev['prev'][:16]}… does not match event seq {seq - 1} "
                        f"({expected[:16]}…); the earlier event was altered or replaced",
                    )
                )
    if broken > SHOWN:
        problems.append(Problem(name, f"{broken - SHOWN} more broken links"))

    anchors = [anchor] if isinstance(anchor, tuple) else list(anchor or [])
    acknowledged = acknowledged or set()
    cut, replaced = [], []
    for a_seq, a_hash in anchors:
        if (a_seq, a_hash) in acknowledged:
            continue
        if a_seq > top:
            cut.append(a_seq)
        elif a_seq in by_seq and by_seq[a_seq][1]["hash"] != a_hash:
            replaced.append(a_seq)
    if cut:
        problems.append(
            Problem(
                name,
                f"events after seq {top} were removed: the case store anchored seq "
                f"{_ranges(sorted(set(cut)))}, which the log no longer holds",
            )
        )
    if replaced:
        problems.append(
            Problem(
                name,
                f"seq {_ranges(sorted(set(replaced)))}: not the event(s) the case store anchored "
                "(the log was cut and written again, or rewritten)",
            )
        )
    return [ev for _, ev in events], problems


def _ranges(nums: list[int]) -> str:
    """'1-3, 7' for [1, 2, 3, 7]; at most SHOWN ranges."""
    out, start = [], nums[0]
    for a, b in zip(nums, [*nums[1:], None], strict=True):
        if b != a + 1:
            out.append(str(start) if start == a else f"{start}-{a}")
            start = b
    return ", ".join(out[:SHOWN]) + (f" and {len(out) - SHOWN} more" if len(out) > SHOWN else "")
