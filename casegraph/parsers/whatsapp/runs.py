"""Runs of whole messages: blocks of lines regrouped so that no message spans two runs, each with
its Arrow array and header scan (done once per line)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .grammar import has_author, headers, sender_split

MAX_TEXT = 1 << 20  # characters kept of one message; more is reported, not stored
# System events that name what happened; a header-shaped line with one of these is never a pasted line.
SYSTEM_EVENTS = (
    (r"end-to-end encrypted", "encryption-notice"),
    (r"created (?:the )?group|created this group", "group-created"),
    (r"joined using this group's invite link|joined from the community", "member-joined"),
    (r"\badded\b", "member-added"),
    (r"\bremoved\b", "member-removed"),
    (r"\bleft\b", "member-left"),
    (r"changed the subject|changed the group name|changed this group's name", "subject-changed"),
    (r"changed (?:this group's|the group) (?:icon|description)|deleted this group's icon", "group-settings"),
    (r"security code", "security-code-changed"),
    (r"changed (?:their|his|her) phone number|changed to \+|changed their number", "number-changed"),
    (r"disappearing messages|turned (?:on|off)", "settings-changed"),
    (r"missed (?:voice|video) call|(?:voice|video) call", "call"),
    (r"blocked|unblocked", "block"),
)
ANY_EVENT = "(?i)" + "|".join(p for p, _ in SYSTEM_EVENTS)
_ANY_EVENT_RE = re.compile(ANY_EVENT)


@dataclass
class Lines:
    """A run of lines (an Arrow string array) with its header scan."""

    first: int
    arr: pa.Array
    idx: np.ndarray
    h: dict[str, pa.Array]

    @classmethod
    def of(cls, first: int, arr: pa.Array) -> Lines:
        idx, h = headers(arr)
        h["sender"], h["rest"] = sender_split(h["body"])  # here, in the read-ahead thread
        return cls(first, arr, idx, h)

    def __len__(self) -> int:
        return len(self.arr)

    def head(self, end: int) -> Lines:
        """The lines before `end` (zero-copy slices)."""
        n = int(np.searchsorted(self.idx, end))
        return Lines(self.first, self.arr.slice(0, end), self.idx[:n], {k: v.slice(0, n) for k, v in self.h.items()})


def units(raw: Iterator[tuple[int, pa.Array, list]]) -> Iterator[tuple[int, Lines, list]]:
    """Runs of whole messages. Each run ends just before the last header in the block that cannot
    be a pasted line (it has an author, or names a system event: only author-less lines are ever
    taken for pasted ones), so no message spans two runs."""
    left: pa.Array | None = None
    left_first, left_notes = 1, list[tuple[int, str]]()
    for first, lines, notes in raw:
        if left is not None and len(left):
            lines, first, notes = pa.concat_arrays([left, lines]), left_first, left_notes + notes
        run = Lines.of(first, lines)
        cut = _safe_cut(run)
        if not cut:
            if len(lines) > 50_000 or _chars_over(lines, 8 * MAX_TEXT):  # a "message" with no end in sight
                yield first, run, notes
                left, left_notes = None, []
            else:
                left, left_first, left_notes = lines, first, notes
            continue
        yield first, run.head(cut), [nt for nt in notes if nt[0] < first + cut]
        left, left_first, left_notes = lines.slice(cut), first + cut, [nt for nt in notes if nt[0] >= first + cut]
    if left is not None and len(left):
        yield left_first, Lines.of(left_first, left), left_notes


def chars(lines: pa.Array) -> int:
    """Characters in all the lines."""
    return int(pc.sum(pc.utf8_length(lines)).as_py() or 0)


def _chars_over(lines: pa.Array, limit: int) -> bool:
    size = int(pc.sum(pc.binary_length(lines)).as_py() or 0)  # bytes: at least the characters
    return size > limit and chars(lines) > limit


def _safe_cut(run: Lines) -> int | None:
    """Index of the last header line (not the first line) that has an author or a system event."""
    bodies = run.h["body"]
    for j in range(len(run.idx) - 1, max(len(run.idx) - 200, 0), -1):
        body = bodies[j].as_py() or ""
        if has_author(body) or _ANY_EVENT_RE.search(body):
            return int(run.idx[j])
    return None
