"""The chain-of-custody log: append-only JSON lines, each event hash-chained to the one before.

An event's hash is the SHA-256 of its canonical JSON without the "hash" field; it includes
"prev", the hash of the previous event, so editing, deleting or reordering any event breaks
the chain at a place `verify_chain` can name. The store keeps an anchor (the newest seq and
hash) so that cutting events off the end is detected too.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import socket
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from .. import TOOL

GENESIS = "0" * 64


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

    def read(self) -> list[tuple[int, str]]:
        """(line number, raw line) for every non-empty line."""
        if not self.path.exists():
            return []
        with open(self.path, encoding="utf-8") as f:
            return [(n, line.rstrip("\n")) for n, line in enumerate(f, 1) if line.strip()]

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for _, line in self.read()]

    def append(self, action: str, actor: str, *, inputs: list[dict] | None = None,
               outputs: list[dict] | None = None, details: dict | None = None) -> dict[str, Any]:
        """Append one event under an exclusive lock and fsync it before returning."""
        with open(self.path, "a+", encoding="utf-8") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                seq, prev = self._tail(f)
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
                f.write(json.dumps(event, ensure_ascii=False, sort_keys=True) + "\n")
                f.flush()
                os.fsync(f.fileno())
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)
        return event

    @staticmethod
    def _tail(f) -> tuple[int, str]:
        """The last event's seq and hash, read from the end of the file: reading the whole log on
        every append made intake of many exhibits quadratic."""
        fd = f.fileno()
        end = os.fstat(fd).st_size
        block, tail = 1 << 16, b""
        pos = end
        while pos > 0:
            step = min(block, pos)
            pos -= step
            tail = os.pread(fd, step, pos) + tail
            lines = [ln for ln in tail.split(b"\n") if ln.strip()]
            if len(lines) >= 2 or (lines and pos == 0):
                break
        lines = [ln for ln in tail.split(b"\n") if ln.strip()]
        if not lines:
            return 0, GENESIS
        event = json.loads(lines[-1].decode("utf-8"))
        return int(event["seq"]), event["hash"]


def verify_chain(log: CustodyLog, anchor: tuple[int, str] | None,
                 redacted_ok: bool = False) -> tuple[list[dict], list[Problem]]:
    """Check every event's own hash, the prev links, seq order and the anchor. Returns the events
    that parsed and the problems found, each naming the line and event concerned. With
    `redacted_ok` (a victim-protected copy), events flagged "redacted" are checked by their
    links only: their pseudonymised content no longer gives their hash."""
    problems: list[Problem] = []
    events: list[tuple[int, dict]] = []
    name = log.path.name
    for lineno, raw in log.read():
        try:
            ev = json.loads(raw)
            int(ev["seq"]), ev["hash"], ev["prev"]
        except (ValueError, KeyError, TypeError):
            problems.append(Problem(f"{name} line {lineno}", "not a valid custody event (edited or corrupted)"))
            continue
        events.append((lineno, ev))
        if event_hash(ev) != ev["hash"] and not (redacted_ok and ev.get("redacted") is True):
            problems.append(Problem(f"{name} line {lineno} (seq {ev['seq']}, {ev.get('action')})",
                                    f"event content was altered: recorded hash {ev['hash'][:16]}…, "
                                    f"recomputed {event_hash(ev)[:16]}…"))

    seqs = [int(ev["seq"]) for _, ev in events]
    # An event is out of place when its seq is not the one its position in sorted order calls for.
    for (lineno, ev), want in zip(events, sorted(seqs)):
        if int(ev["seq"]) != want:
            problems.append(Problem(f"{name} line {lineno} (seq {ev['seq']})",
                                    f"out of order: seq {want} belongs here (events reordered)"))
    present = set(seqs)
    if len(present) != len(seqs):
        dupes = sorted({s for s in seqs if seqs.count(s) > 1})
        problems.append(Problem(name, f"seq numbers used twice: {dupes} (events duplicated or inserted)"))
    top = max(present, default=0)
    missing = [s for s in range(1, top + 1) if s not in present]
    if missing:
        problems.append(Problem(name, f"events deleted: seq {_ranges(missing)} missing"))

    by_seq = {int(ev["seq"]): (lineno, ev) for lineno, ev in events}
    for seq, (lineno, ev) in sorted(by_seq.items()):
        expected = GENESIS if seq == 1 else by_seq.get(seq - 1, (None, {"hash": None}))[1]["hash"]
        if expected is not None and ev["prev"] != expected:
            problems.append(Problem(f"{name} line {lineno} (seq {seq})",
                                    f"chain broken: prev {ev['prev'][:16]}… does not match event seq {seq - 1} "
                                    f"({expected[:16]}…); the earlier event was altered or replaced"))

    if anchor is not None:
        a_seq, a_hash = anchor
        if a_seq > top:
            problems.append(Problem(name, f"events after seq {top} were removed: the case store records seq {a_seq} "
                                          f"as the latest event"))
        elif a_seq in by_seq and by_seq[a_seq][1]["hash"] != a_hash:
            problems.append(Problem(f"{name} seq {a_seq}", "does not match the hash anchored in the case store"))
    return [ev for _, ev in events], problems


def _ranges(nums: list[int]) -> str:
    out, start = [], nums[0]
    for a, b in zip(nums, nums[1:] + [None]):
        if b != a + 1:
            out.append(str(start) if start == a else f"{start}-{a}")
            start = b
    return ", ".join(out)
