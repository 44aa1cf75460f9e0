"""WhatsApp "Export chat": Android .txt, iOS _chat.txt, and the .zip with media.

Header forms handled (one pattern): `12/03/2024, 14:23 - `, `3/12/24, 2:23 PM - ` (U+202F or a
no-break space before the marker), `03.08.21, 12:30 - `, `20/6/2017 8:28 p. m. - `,
`12/07/2017 à 22:35 - `, `30/08/25 18.00 - `, `2019/01/30, 20:49 - `, `[31/12/2022, 11:40:26] `,
`[1/15/24, 10:30:45 AM] `, `[12.3.2022 klo 14.08.18] `, and Sinhala/Tamil day-half markers.

Day/month order is decided from the whole file (a value over 12; dotted dates; else the only order
that keeps the messages in time order). When nothing decides it, dates that could be read either
way get no timestamp and the file gets an error naming the ambiguity: pass `date_order` to settle it.

The file is read in blocks of a few MB and parsed column-wise with Arrow's RE2 kernels, so memory
stays flat and Python only touches the rare rows (media, system lines, problems, identifiers).
"""
from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..ingest.archive import ArchiveError, SafeArchive, is_archive_file
from ..ingest.hashing import digest_stream
from ..model import Batch, Message, Record, constant, id_prefix
from ..store import to_json
from . import register
from .base import MAX_LINE, Parser, Probe, Source
from .mentions import PREFILTER, looks_like_phone
from .prefetch import prefetch

BLOCK = 4 << 20  # bytes read at a time
LOOKAHEAD = 64 << 20  # bytes read ahead while no date has decided the day/month order
MAX_TEXT = 1 << 20  # characters kept of one message; more is reported, not stored

MARKS = "\u200e\u200f\u202a\u202c\u2068\u2069"
_S = "[ \u00a0\u202f]"  # the spaces WhatsApp puts between date, time and marker
_AM = ("am", "a.m.", "a. m.", "a.m", "vorm.", "පෙ.ව.", "முற்பகல்", "午前", "ص")
_PM = ("pm", "p.m.", "p. m.", "p.m", "nachm.", "ප.ව.", "பிற்பகல்", "午後", "م")
_AMPM = "|".join(re.escape(t).replace(r"\ ", _S) for t in sorted(_AM + _PM, key=len, reverse=True))
PM_TOKENS = pa.array(sorted({t.replace(" ", "").lower() for t in _PM}))
# Patterns work in Python's re and in RE2 (pyarrow): no look-behind, no conditionals.
_DATE = r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}"
_TIME = r"\d{1,2}[:.]\d{2}(?:[:.]\d{2})?"
_MID = r"\.?,?" + _S + "?(?:à" + _S + "|klo" + _S + ")?"
_IOS = "^[\u200e\u200f]?\\[" + _DATE + _MID + _TIME + "(?:" + _S + "?(?:" + _AMPM + "))?\\]"
_ANDROID = "^[\u200e\u200f]?" + _DATE + _MID + _TIME + "(?:" + _S + "?(?:" + _AMPM + "))?" + _S + "[-–]" + _S
HEADER_PATTERN = "(?i)(?:" + _IOS + ")|(?:" + _ANDROID + ")"  # a whole-line test, run as a DFA
HEADER = re.compile(HEADER_PATTERN)
HEADER_END = "\\]" + _S + "?|" + _S + "[-–]" + _S  # the first one ends the header
HEAD_PARTS = "(?P<date>" + _DATE + ")\\D+(?P<time>" + _TIME + ")"  # on the header's head, already validated
HEAD_MARKER = "(?i)(?:" + _AMPM + ")$"  # 12-hour heads end with a day-half marker
HEAD_AMPM = "(?i)(?P<ampm>" + _AMPM + ")$"
QUOTES = "[\"“”«»]"  # a quoted "name" is a system line: X changed the subject to "a: b"
_QUOTES = re.compile(QUOTES)
DATE_PARTS = r"^(?P<a>\d{1,4})[./-](?P<b>\d{1,2})[./-](?P<c>\d{1,4})$"
TIME_PARTS = r"^(?P<h>\d{1,2})[:.](?P<m>\d{2})(?:[:.](?P<s>\d{2}))?$"

_ATTACHED = r"<attached: (?P<file>[^>]+)>"
_FILE_ATTACHED = r"^(?P<file>[^\n]+?\.\w{2,5}) \((?:file attached|archivo adjunto|fichier joint|Datei angehängt)\)"
_OMITTED = (r"(?i)<Media omitted>|<Multimedia omitido>|<Médias omis>|<Medien ausgeschlossen>|"
            r"(?:image|video|audio|sticker|GIF|document|Contact card) omitted")
_DELETED = r"^(?:This message was deleted|You deleted this message)\.?$"
_EDITED = r"\s*<This message was edited>$"
_LOCATION = r"location: https?://maps\.google\.com/\?q=(?P<lat>-?\d+\.\d+),(?P<lon>-?\d+\.\d+)"
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
_ANY_EVENT = "(?i)" + "|".join(p for p, _ in SYSTEM_EVENTS)
_ANY_EVENT_RE = re.compile(_ANY_EVENT)
_SPECIAL = ("(?i)<|omitted|deleted|location: |\\((?:file attached|archivo adjunto|fichier joint|Datei angehängt)\\)")
_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
KINDS = pa.array(["text", "media", "deleted", "system"])
NOT_IN_CONTACTS = to_json({"not_in_contacts": True})


def is_header(line: str) -> bool:
    return HEADER.match(line) is not None


# -- reading in blocks --------------------------------------------------------------------------
def blocks(f) -> Iterator[tuple[int, list[str], list[tuple[int, str]]]]:
    """(number of the block's first line, its lines, notes as (line number, text)): blocks of about
    BLOCK bytes cut at line ends; a line over MAX_LINE bytes is cut and the cut noted; bytes that
    are not UTF-8 are replaced and noted. UTF-16 exports (with a BOM) are decoded as such."""
    head = f.peek(4)[:4] if hasattr(f, "peek") else b""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        f = io.TextIOWrapper(f, encoding="utf-16", errors="replace", newline="")
        read, readline, decode = (lambda: f.read(BLOCK // 2)), f.readline, None
    else:
        read, readline = (lambda: f.read(BLOCK)), f.readline
        decode = True
    first = 1
    while data := read():
        notes: list[tuple[int, str]] = []
        if not data.endswith("\n" if decode is None else b"\n"):
            tail = readline(MAX_LINE)
            data += tail
            if len(tail) == MAX_LINE and not tail.endswith("\n" if decode is None else b"\n"):
                skipped = 0
                while more := readline(MAX_LINE):
                    skipped += len(more)
                    if more.endswith("\n" if decode is None else b"\n"):
                        break
                notes.append((-1, f"line is {MAX_LINE + skipped}+ bytes long; kept the first {MAX_LINE}"))
        if decode is None:
            text = data
        else:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                text = None
        if text is None:  # decode line by line to say which lines were damaged
            lines = []
            for i, raw in enumerate(data.split(b"\n")):
                try:
                    lines.append(raw.decode("utf-8"))
                except UnicodeDecodeError as e:
                    lines.append(raw.decode("utf-8", errors="replace"))
                    notes.append((first + i, f"not valid UTF-8 at byte {e.start} of the line; undecodable bytes replaced with U+FFFD"))
            if data.endswith(b"\n"):
                lines.pop()
        else:
            lines = text.split("\n")
            if text.endswith("\n"):
                lines.pop()
        if first == 1 and lines and lines[0].startswith("\ufeff"):
            lines[0] = lines[0][1:]
        notes = [(first + len(lines) - 1 if n == -1 else n, t) for n, t in notes]
        if lines and max(map(len, lines)) > MAX_LINE:
            for i, line in enumerate(lines):
                if len(line) > MAX_LINE:
                    lines[i] = line[:MAX_LINE]
                    notes.append((first + i, f"line is {len(line)} characters long; kept the first {MAX_LINE}"))
        yield first, lines, notes
        first += len(lines)


# -- day/month order ----------------------------------------------------------------------------
@dataclass
class DateOrder:
    order: str | None  # "DMY", "MDY", "YMD" or None when undecided
    reason: str
    inconsistent: bool = False


def _ints(a: pa.Array) -> np.ndarray:
    return pc.cast(pc.fill_null(pc.if_else(pc.equal(a, ""), "0", a), "0"), pa.int64()).to_numpy(zero_copy_only=False)


@dataclass
class OrderEvidence:
    """What the dates of a whole file say about day/month order, gathered block by block."""

    ymd_at: tuple[int, str] | None = None
    dmy_at: tuple[int, str] | None = None
    mdy_at: tuple[int, str] | None = None
    dotted_at: tuple[int, str] | None = None
    backwards: dict[str, int] = field(default_factory=lambda: {"DMY": 0, "MDY": 0})
    last: dict[str, int | None] = field(default_factory=lambda: {"DMY": None, "MDY": None})

    def add(self, line_numbers: np.ndarray, dates: pa.Array) -> None:
        if len(dates) == 0:
            return
        parts = pc.extract_regex(dates, DATE_PARTS)
        a_txt = parts.field("a")
        a, b, c = _ints(a_txt), _ints(parts.field("b")), _ints(parts.field("c"))
        year = np.where(c < 100, c + 2000, c)

        def first(mask: np.ndarray, current):
            if current is None and mask.any():
                i = int(np.argmax(mask))
                return int(line_numbers[i]), dates[i].as_py()
            return current

        self.ymd_at = first(pc.utf8_length(a_txt).to_numpy(zero_copy_only=False) == 4, self.ymd_at)
        self.dmy_at = first(a > 12, self.dmy_at)
        self.mdy_at = first(b > 12, self.mdy_at)
        self.dotted_at = first(pc.match_substring(dates, ".").to_numpy(zero_copy_only=False), self.dotted_at)
        for order, key in (("DMY", year * 10000 + b * 100 + a), ("MDY", year * 10000 + a * 100 + b)):
            prev = self.last[order]
            self.backwards[order] += int((key[1:] < key[:-1]).sum()) + (1 if prev is not None and key[0] < prev else 0)
            self.last[order] = int(key[-1])

    @property
    def decisive(self) -> bool:
        """A date has settled the order (or shown it mixed); the rest of the file need not be read first."""
        return bool(self.ymd_at or self.dmy_at or self.mdy_at or self.dotted_at)

    def decide(self) -> DateOrder:
        if self.ymd_at:
            return DateOrder("YMD", f"year first (line {self.ymd_at[0]}: {self.ymd_at[1]})")
        if self.dmy_at and self.mdy_at:
            return DateOrder(None, f"both orders occur: day first at line {self.dmy_at[0]} ({self.dmy_at[1]}), "
                                   f"month first at line {self.mdy_at[0]} ({self.mdy_at[1]})", inconsistent=True)
        if self.dmy_at:
            return DateOrder("DMY", f"day first: line {self.dmy_at[0]} has {self.dmy_at[1]}")
        if self.mdy_at:
            return DateOrder("MDY", f"month first: line {self.mdy_at[0]} has {self.mdy_at[1]}")
        if self.dotted_at:
            return DateOrder("DMY", f"dotted dates (line {self.dotted_at[0]}: {self.dotted_at[1]}) are day-first "
                                    "in every locale that writes them")
        dmy, mdy = self.backwards["DMY"], self.backwards["MDY"]
        if dmy == 0 and mdy > 0:
            return DateOrder("DMY", "no day above 12; only day-first keeps the messages in time order")
        if mdy == 0 and dmy > 0:
            return DateOrder("MDY", "no day above 12; only month-first keeps the messages in time order")
        return DateOrder(None, "no date has a day above 12 and both orders keep the messages in time order")


def decide_order(dates: list[tuple[int, str]]) -> DateOrder:
    """Decide from (line, date text) pairs; never guess."""
    ev = OrderEvidence()
    if dates:
        ev.add(np.array([n for n, _ in dates]), pa.array([d for _, d in dates], pa.string()))
    return ev.decide()


# -- column helpers -----------------------------------------------------------------------------
def _headers(lines: pa.Array) -> tuple[np.ndarray, dict[str, pa.Array]]:
    """Indexes of header lines and their parts: br (bracketed iOS form), date, time, ampm, body.
    The full pattern runs once as a DFA; the parts are then cut out with simple, fast kernels."""
    idx = np.flatnonzero(_np(pc.match_substring_regex(lines, HEADER_PATTERN)))
    heads = lines.take(pa.array(idx, pa.int64()))
    split = pc.split_pattern_regex(heads, HEADER_END, max_splits=1)
    two = len(split) == 0 or pc.min(pc.list_value_length(split)).as_py() == 2  # always, for DFA-matched lines
    head = pc.list_element(split, 0)
    body = pc.list_element(split, 1) if two else _second(split)
    parts = pc.extract_regex(head, HEAD_PARTS)
    twelve_hour = _np(pc.match_substring_regex(head, HEAD_MARKER))
    ampm = _where(twelve_hour, head, lambda t: pc.utf8_trim(pc.extract_regex(t, HEAD_AMPM).field("ampm"), _S[1:-1]))
    return idx, {"br": pc.match_substring(head, "["), "date": parts.field("date"), "time": parts.field("time"),
                 "ampm": pc.fill_null(ampm, ""), "body": body}


def _sender_split(body: pa.Array) -> tuple[pa.Array, pa.Array]:
    """'Name: text' → (name, text); (null, body) for system lines. An author is 1-80 characters before
    the first ': ', unquoted; 'Name:' alone is an author with an empty message."""
    parts = pc.split_pattern(body, ": ", max_splits=1)
    flat, off = parts.flatten(), parts.offsets.to_numpy()[:len(parts) + 1]
    two = np.diff(off) == 2
    first = flat.take(pa.array(off[:-1], pa.int64()))  # the whole body where there is no ': '
    second = flat.take(pa.array(np.where(two, off[:-1] + 1, off[:-1]), pa.int64()))
    length = pc.utf8_length(first).to_numpy(zero_copy_only=False)
    bare = ~two & _np(pc.ends_with(body, ":")) & (length >= 2) & (length <= 81)
    ok = (two & (length >= 1) & (length <= 80)) | bare
    ok &= ~_np(pc.match_substring_regex(first, QUOTES))
    name = pc.if_else(pa.array(ok), first, pa.nulls(len(body), pa.string()))
    rest = pc.if_else(pa.array(ok & two), second, body)
    if bare.any():  # rare: 'Name:' with nothing after it
        fix = bare & ok
        name = pc.replace_with_mask(name, pa.array(fix), pc.utf8_slice_codeunits(first.filter(pa.array(fix)), 0, -1))
        rest = pc.replace_with_mask(rest, pa.array(fix), pa.repeat("", int(fix.sum())))
    return name, rest


def _second(parts: pa.Array) -> pa.Array:
    """Element 1 of each list, null where the list is shorter (list_element would raise)."""
    long_enough = pc.greater_equal(pc.list_value_length(parts), 2)
    return pc.list_element(pc.if_else(long_enough, parts, pa.nulls(len(parts), parts.type)), 1)


def _where(mask: np.ndarray, arr: pa.Array, fn, type_: pa.DataType = pa.string()) -> pa.Array:
    """fn applied to the rows under mask only (for costly kernels on rare rows); null elsewhere."""
    rows = np.flatnonzero(mask)
    if not len(rows):
        return pa.nulls(len(arr), type_)
    sub = fn(arr.take(pa.array(rows, pa.int64())))
    return pc.replace_with_mask(pa.nulls(len(arr), sub.type), pa.array(mask), sub)


def _timestamps(date: pa.Array, time: pa.Array, ampm: pa.Array, order: str | None) -> tuple[pa.Array, np.ndarray]:
    """Wall-clock timestamps; null where the text is not a valid date and time. Computed on the
    distinct date and time strings (few) and gathered. Under a decided order, a date that is only
    valid the other way round (the file mixes orders) is read that way and flagged in the second result."""
    dd = pc.dictionary_encode(date)
    parts = pc.extract_regex(dd.dictionary, DATE_PARTS)
    a, b, c = _ints(parts.field("a")), _ints(parts.field("b")), _ints(parts.field("c"))
    swapped = np.zeros(len(a), bool)
    if order == "YMD":
        y, m, day, ok = a, b, c, np.ones(len(a), bool)
    elif order in ("DMY", "MDY"):
        swapped = (b > 12) & (a <= 12) if order == "DMY" else (a > 12) & (b <= 12)
        first_is_day = (order == "DMY") ^ swapped
        y, m, day, ok = c, np.where(first_is_day, b, a), np.where(first_is_day, a, b), np.ones(len(a), bool)
    else:  # undecided: only where both readings agree, or only one is a valid date
        mdy = (a == b) | (b > 12)
        y, m, day, ok = c, np.where(mdy, a, b), np.where(mdy, b, a), mdy | (a > 12)
    y = np.where((y < 100) & (order != "YMD"), y + 2000, y)
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    mi = np.clip(m - 1, 0, 11)
    ok &= (m >= 1) & (m <= 12) & (day >= 1) & (day <= _DAYS[mi] + (leap & (m == 2))) & (y >= 1970) & (y <= 2100)
    days = ((np.where(ok, y, 1970) - 1970).astype("datetime64[Y]").astype("datetime64[M]")
            + np.where(ok, mi, 0).astype("timedelta64[M]")).astype("datetime64[D]") + np.where(ok, day - 1, 0).astype("timedelta64[D]")

    tt = pc.dictionary_encode(pc.binary_join_element_wise(time, ampm, "|"))
    tparts = pc.split_pattern(tt.dictionary, "|", max_splits=1)
    t = pc.extract_regex(pc.list_element(tparts, 0), TIME_PARTS)
    hour, minute, second = _ints(t.field("h")), _ints(t.field("m")), _ints(t.field("s"))
    marker = pc.utf8_lower(pc.replace_substring_regex(pc.list_element(tparts, 1), _S, ""))
    has_marker = _np(pc.not_equal(marker, ""))
    pm = _np(pc.is_in(marker, value_set=PM_TOKENS))
    t_ok = (~has_marker | ((hour >= 1) & (hour <= 12)))
    hour = np.where(has_marker, hour % 12 + np.where(pm, 12, 0), hour)
    t_ok &= (hour < 24) & (minute < 60) & (second < 60)
    tod = (hour * 3600 + minute * 60 + second).astype("timedelta64[s]")

    di = dd.indices.to_numpy(zero_copy_only=False)
    ti = tt.indices.to_numpy(zero_copy_only=False)
    valid = ok[di] & t_ok[ti]
    ts = (days[di].astype("datetime64[s]") + tod[ti]).astype("datetime64[us]")
    return pa.array(ts, pa.timestamp("us"), mask=~valid), swapped[di]


def _clean_name(name: str) -> tuple[str, bool]:
    """Strip direction marks; '~ Name' (or '~\u202fName') marks someone not in the exporter's contacts."""
    n = name.strip().strip(MARKS).strip()
    not_contact = n.startswith("~")
    return n.lstrip("~").strip(" \u00a0\u202f").strip(MARKS), not_contact


def _event(text: pa.Array) -> pa.Array:
    out = pa.nulls(len(text), pa.string())
    for pattern, name in reversed(SYSTEM_EVENTS):  # the first listed wins
        out = pc.if_else(pc.match_substring_regex(text, "(?i)" + pattern), name, out)
    return pc.fill_null(out, "other")


def _np(a) -> np.ndarray:
    return pc.fill_null(a, False).to_numpy(zero_copy_only=False)


# -- parser -------------------------------------------------------------------------------------
@register
class WhatsAppExport(Parser):
    name = "whatsapp-export"
    version = "2.0"
    description = 'WhatsApp "Export chat" .txt (Android, iOS) and .zip with media'

    def __init__(self, date_order: str | None = None):
        self.date_order = date_order.upper() if date_order else None
        if self.date_order not in (None, "DMY", "MDY", "YMD"):
            raise ValueError(f"date_order must be DMY, MDY or YMD, not {date_order!r}")

    def sniff(self, probe: Probe) -> float:
        if probe.members:
            chats = [m for m in probe.members if _is_chat_member(m)]
            return 0.95 if chats and self._looks_like_chat(_member_head(probe, chats[0])) else 0.0
        if probe.suffix not in (".txt", ""):
            return 0.0
        return 0.9 if self._looks_like_chat(probe.text) else 0.0

    @staticmethod
    def _looks_like_chat(text: str) -> bool:
        lines = [ln for ln in text.lstrip("\ufeff").splitlines()[:20] if ln.strip()]
        hits = sum(1 for ln in lines if is_header(ln))
        return hits >= max(1, len(lines) // 3)

    def parse(self, src: Source) -> Iterator[Record | Batch]:
        if not is_archive_file(src.path):
            yield from self._parse_text(src, lambda: open(src.path, "rb"), "", _chat_name(src.name), {}, None)
            return
        with SafeArchive(src.path, src.name) as arc:
            yield from self.archive_notes(src, arc)
            chats = [m for m in arc.names() if _is_chat_member(m)]
            if not chats:
                yield self.issue(src, "zip:", "no chat text file (_chat.txt or 'WhatsApp Chat*.txt') in the archive")
                return
            media = {PurePosixPath(m).name: m for m in arc.names() if m not in chats}
            for member in chats:
                name = _chat_name(src.name if PurePosixPath(member).name == "_chat.txt" else member)
                yield from self._parse_text(src, lambda m=member: arc.open(m), f"zip:{member}#", name, media, arc)

    # -- one chat text --------------------------------------------------------------------------
    def _parse_text(self, src: Source, open_stream: Callable, prefix: str, chat: str, media: dict[str, str],
                    arc: SafeArchive | None) -> Iterator[Record | Batch]:
        """One pass in the usual case: the order is decided from the first decisive date, reading ahead
        (up to LOOKAHEAD bytes) while no date decides it; past that, the whole file is scanned first."""
        with open_stream() as f:
            stream = prefetch(units(blocks(f)))  # read and scanned one run ahead, in a thread
            ahead: list = []
            if self.date_order:
                order = DateOrder(self.date_order, "given by the examiner (date_order option)")
            else:
                evidence, size = OrderEvidence(), 0
                for item in stream:
                    ahead.append(item)
                    first, run, _ = item
                    evidence.add(run.idx + first, run.h["date"])
                    size += sum(map(len, run.lines))
                    if evidence.decisive or size > LOOKAHEAD:
                        break
                if not evidence.decisive and size > LOOKAHEAD:  # scan the rest for evidence, then start again
                    for first, run, _ in stream:
                        evidence.add(run.idx + first, run.h["date"])
                    ahead, stream = [], None
                order = evidence.decide()
            if order.order is None:
                yield self.issue(src, f"{prefix}file", f"day/month order undecided: {order.reason}; dates that read "
                                 "differently either way have no timestamp. Re-ingest with date_order=DMY or MDY.")
            else:
                yield self.issue(src, f"{prefix}file", f"dates read as {order.order}: {order.reason}", severity="info")
            ctx = _Context(src, prefix, chat, media, arc, order.order)
            if stream is not None:
                yield from self._messages(ctx, _chain(ahead, stream))
        if stream is None:
            with open_stream() as f:
                yield from self._messages(ctx, prefetch(units(blocks(f))))
        if ctx.swapped_at is not None:
            yield self.issue(src, f"{prefix}file", f"the file mixes day/month orders: it reads as {order.order}, but line "
                             f"{ctx.swapped_at[0]} has {ctx.swapped_at[1]}, valid only the other way round; such dates were "
                             "read that way and flagged. Dates valid both ways follow the file's order: check them.")

    def _messages(self, ctx: _Context, stream) -> Iterator[Record | Batch]:
        for _, run, notes in stream:
            for n, note in notes:
                yield self.issue(ctx.src, f"{ctx.prefix}line:{n}", note, severity="warning")
            yield from self._run(ctx, run)

    def _run(self, ctx: _Context, run: _Lines) -> list[Record | Batch]:
        """The records of one run of whole messages."""
        out: list[Record | Batch] = []
        src, prefix = ctx.src, ctx.prefix
        first, lines, arr, idx, h = run.first, run.lines, run.arr, run.idx, run.h
        lead = int(idx[0]) if len(idx) else len(lines)  # lines before the first header in this block
        if lead:
            if not ctx.started:  # text before the first header of the file
                out += [self.issue(src, f"{prefix}line:{first + i}", "text before the first message header", lines[i])
                        for i in range(lead) if lines[i].strip(" \ufeff" + MARKS)]
            else:  # only after a message overran the size limit and was flushed early
                out.append(self.issue(src, f"{prefix}line:{first}-{first + lead - 1}", "continuation lines beyond the "
                                      "message size limit; not stored as text", lines[0][:200], severity="warning"))
        if not len(idx):
            return out
        ctx.started = True

        sender, rest = _sender_split(h["body"])
        ts, swapped = _timestamps(h["date"], h["time"], h["ampm"], ctx.order)
        # A header-shaped line with no author, no known system event, and earlier than the message
        # before it, is a line pasted inside that message, not a new message.
        no_sender = ~_np(sender.is_valid())
        keep = np.ones(len(idx), bool)
        if no_sender.any():
            prev = pa.concat_arrays([pa.array([ctx.last_ts], pa.timestamp("us")), ts.slice(0, len(ts) - 1)])
            no_event = ~_np(_where(no_sender, h["body"], lambda b: pc.match_substring_regex(b, _ANY_EVENT), pa.bool_()))
            keep = ~(no_sender & no_event & _np(pc.less(ts, prev)))
        kept = np.flatnonzero(keep)
        n_done = len(kept)
        rows = pa.array(kept[:n_done], pa.int64())
        starts = idx[kept[:n_done]]
        ends = np.append(idx[kept[1:]], len(lines))[:n_done]
        h = {k: v.take(rows) for k, v in h.items()}
        sender, rest, ts, swapped = sender.take(rows), rest.take(rows), ts.take(rows), swapped[kept[:n_done]]

        # text: the header line's rest, then its continuation lines, joined with newlines
        mask = np.zeros(len(lines), bool)
        mask[starts] = True
        pieces = pc.replace_with_mask(arr, pa.array(mask), rest).slice(int(starts[0]), int(ends[-1] - starts[0]))
        text = pc.binary_join(pa.ListArray.from_arrays(pa.array(np.append(starts, ends[-1]) - starts[0], pa.int32()), pieces), "\n")
        text = pc.utf8_trim(text, MARKS + " ")
        long_text = _np(pc.greater(pc.utf8_length(text), MAX_TEXT))
        if long_text.any():
            text = pc.if_else(pa.array(long_text), pc.utf8_slice_codeunits(text, 0, MAX_TEXT), text)

        first_line, last_line = pa.array(starts + first), pa.array(ends - 1 + first)
        loc_head = prefix + "line:"
        locators = pc.if_else(pc.equal(first_line, last_line),
                              pc.binary_join_element_wise(loc_head, first_line.cast(pa.string()), ""),
                              pc.binary_join_element_wise(loc_head, first_line.cast(pa.string()), "-", last_line.cast(pa.string()), ""))

        # who wrote it: worked out once per distinct author string
        authors = pc.dictionary_encode(sender)
        cleaned = [_clean_name(a) for a in authors.dictionary.to_pylist()]
        ai = pc.fill_null(authors.indices, -1).to_numpy(zero_copy_only=False)
        has_sender = ai >= 0
        name = pa.array([c[0] for c in cleaned] + [None], pa.string()).take(pa.array(np.where(has_sender, ai, len(cleaned))))
        not_contact = np.array([c[1] for c in cleaned] + [False])[ai]
        phone_like = np.array([looks_like_phone(c[0]) for c in cleaned] + [False])[ai]
        bracketed = _np(h["br"])

        # what kind of line it is: a cheap prefilter, then the specific patterns on the few special rows
        special = _np(pc.match_substring_regex(text, _SPECIAL))
        on_special = lambda fn: _np(_where(special, text, fn, pa.bool_()))  # noqa: E731
        omitted = on_special(lambda t: pc.match_substring_regex(t, _OMITTED))
        attached = _where(special, text, lambda t: _extract(t, _ATTACHED, "file"))
        file_attached = _where(special, text, lambda t: _extract(t, _FILE_ATTACHED, "file"))
        deleted = on_special(lambda t: pc.match_substring_regex(t, _DELETED))
        system = ~has_sender | (bracketed & _np(pc.starts_with(rest, "\u200e")) & ~omitted & ~_np(attached.is_valid()) & ~deleted)
        media_name = pc.utf8_trim(pc.coalesce(attached, file_attached), MARKS)
        has_media = ~system & ~deleted & _np(pc.not_equal(media_name, ""))
        media_omitted = ~system & ~deleted & ~has_media & omitted
        edited = ~system & on_special(lambda t: pc.match_substring_regex(t, _EDITED))
        location = _where(special & ~system, text, lambda t: pc.binary_join_element_wise(
            _extract(t, _LOCATION, "lat"), _extract(t, _LOCATION, "lon"), ","))
        has_location = _np(location.is_valid())
        final_text = text
        if has_media.any():
            caption = _where(has_media, text, lambda t: pc.utf8_trim(
                pc.replace_substring_regex(pc.replace_substring_regex(t, _ATTACHED, ""), _FILE_ATTACHED, ""), MARKS + " \n"))
            final_text = pc.if_else(pa.array(has_media), pc.if_else(pc.equal(caption, ""), pa.nulls(n_done, pa.string()), caption), text)
        if edited.any():
            final_text = pc.if_else(pa.array(edited), pc.utf8_trim(pc.replace_substring_regex(final_text, _EDITED, ""), MARKS + " "),
                                    final_text)
        codes = np.where(system, 3, np.where(deleted, 2, np.where(has_media | media_omitted, 1, 0))).astype(np.int8)
        kind = pa.DictionaryArray.from_arrays(pa.array(codes), KINDS).cast(pa.string())
        shown_as = system & has_sender & bracketed  # iOS puts the group name where the author goes
        sender_ok = has_sender & ~shown_as
        sender_id = pc.if_else(pa.array(sender_ok & phone_like), name, pa.nulls(n_done, pa.string()))
        sender_name = pc.if_else(pa.array(sender_ok & ~phone_like), name, pa.nulls(n_done, pa.string()))

        # the rare rows: extra facts, media hashes, unreadable or swapped dates
        no_ts = ~_np(ts.is_valid())
        special_row = system | has_media | media_omitted | has_location | no_ts | swapped | long_text
        rare = np.flatnonzero(special_row)
        extras: list[str | None] = [None] * n_done
        for i in np.flatnonzero(not_contact & ~special_row).tolist():  # the common case, one shared string
            extras[i] = NOT_IN_CONTACTS
        media_sha: list[str | None] = [None] * n_done
        if len(rare):
            take = pa.array(rare, pa.int64())
            locs = dict(zip(rare.tolist(), locators.take(take).to_pylist()))
            sys_rows = np.flatnonzero(system)
            events = dict(zip(sys_rows.tolist(), _event(text.take(pa.array(sys_rows, pa.int64()))).to_pylist()))
            names, media_names = name.to_pylist(), media_name.to_pylist()
            where = location.to_pylist()
            for i in rare.tolist():
                e: dict = {}
                if not_contact[i] and not shown_as[i]:
                    e["not_in_contacts"] = True
                if system[i]:
                    e["event"] = events[i]
                    if shown_as[i]:
                        e["shown_as"] = names[i]
                if media_omitted[i]:
                    e["media_omitted"] = True
                if has_location[i]:
                    lat, lon = where[i].split(",")
                    e["location"] = {"lat": lat, "lon": lon}
                if has_media[i]:
                    member = ctx.media.get(PurePosixPath(media_names[i]).name)
                    if member is not None and ctx.arc is not None:
                        try:
                            media_sha[i] = ctx.media_hash(member)
                        except ArchiveError as err:  # an encrypted, damaged or oversized media member
                            out.append(self.issue(src, locs[i], f"attached media unreadable: {err}", severity="warning"))
                        e["media_locator"] = f"zip:{member}"
                    else:
                        e["media_missing"] = True
                if no_ts[i] or swapped[i]:
                    date, time_, ampm = (h[k][i].as_py() for k in ("date", "time", "ampm"))
                    e["date_text"] = f"{date} {time_}{' ' + ampm if ampm else ''}"
                    if swapped[i]:
                        ctx.swapped_at = ctx.swapped_at or (first + int(starts[i]), date)
                        out.append(self.issue(src, locs[i], f"date {date!r} is valid only the other way round from the "
                                              f"file's {ctx.order}; read that way", lines[starts[i]][:200], severity="warning"))
                    else:
                        out.append(self.issue(src, locs[i], f"date {date!r} cannot be read as "
                                              f"{ctx.order or 'either day/month order'}", lines[starts[i]][:200], severity="warning"))
                if long_text[i]:
                    out.append(self.issue(src, locs[i], f"message text longer than {MAX_TEXT} characters; kept the first "
                                          f"{MAX_TEXT}", severity="warning"))
                extras[i] = ctx.json(e)

        n = n_done
        ids = pc.binary_join_element_wise(id_prefix("messages", src.sha256, self.name), locators, "")
        out.append(Batch("messages", pa.table({
            "id": ids, "platform": pa.repeat("whatsapp", n), "chat_id": pa.repeat(f"whatsapp:{ctx.chat}", n),
            "chat_name": pa.repeat(ctx.chat, n), "source_id": pa.nulls(n, pa.string()), "ts": ts,
            "sender_id": sender_id, "sender_name": sender_name, "recipient_id": pa.nulls(n, pa.string()),
            "direction": pa.repeat("unknown", n), "kind": kind, "text": final_text,
            "media": pc.if_else(pa.array(has_media), media_name, pa.nulls(n, pa.string())),
            "media_sha256": pa.array(media_sha, pa.string()), "edited": pa.array(edited), "reply_to": pa.nulls(n, pa.string()),
            "extra": pa.array(extras, pa.string()), **self._prov_columns(src, locators)})))
        out.extend(self._identifiers(src, locators, ids, sender_id, final_text, codes != 2))
        if ts[n_done - 1].is_valid:
            ctx.last_ts = ts[n_done - 1].as_py()
        return out

    def _prov_columns(self, src: Source, locators: pa.Array) -> dict[str, pa.Array]:
        n = len(locators)
        return {"exhibit_sha256": constant(src.sha256, n), "parser": constant(self.name, n),
                "parser_version": constant(self.version, n), "locator": locators}

    def _identifiers(self, src, locators: pa.Array, ids: pa.Array, sender_id: pa.Array, text: pa.Array,
                     readable: np.ndarray) -> Iterator[Record | Batch]:
        """Senders written as numbers (one column batch), and identifiers mentioned in the text."""
        rows = np.flatnonzero(_np(sender_id.is_valid()))
        if len(rows):
            take = pa.array(rows, pa.int64())
            values, locs = sender_id.take(take), locators.take(take)
            yield Batch("identifiers", pa.table({
                "id": pc.binary_join_element_wise(id_prefix("identifiers", src.sha256, self.name), locs, "#phone:", values,
                                                  ":sender", ""),
                "kind": pa.repeat("phone", len(rows)), "value": values, "role": pa.repeat("sender", len(rows)),
                "record_id": ids.take(take), "platform": pa.repeat("whatsapp", len(rows)),
                "context": pa.nulls(len(rows), pa.string()), **self._prov_columns(src, locs)}))
        candidates = np.flatnonzero(_np(pc.match_substring_regex(text, PREFILTER)) & readable)
        if not len(candidates):
            return
        take = pa.array(candidates, pa.int64())
        for loc, rid, t in zip(locators.take(take).to_pylist(), ids.take(take).to_pylist(), text.take(take).to_pylist()):
            msg = Message(prov=self.prov(src, loc), platform="whatsapp")
            for ident in self.mentioned(msg, t, "whatsapp"):
                ident.record_id = rid
                yield ident


@dataclass
class _Lines:
    """A run of lines with their Arrow array and header scan, so the scan is done once per line."""

    first: int
    lines: list[str]
    arr: pa.Array
    idx: np.ndarray
    h: dict[str, pa.Array]

    @classmethod
    def of(cls, first: int, lines: list[str]) -> _Lines:
        arr = pa.array(lines, pa.string())
        idx, h = _headers(arr)
        return cls(first, lines, arr, idx, h)

    def head(self, end: int) -> _Lines:
        """The lines before `end` (zero-copy slices)."""
        n = int(np.searchsorted(self.idx, end))
        return _Lines(self.first, self.lines[:end], self.arr.slice(0, end), self.idx[:n],
                      {k: v.slice(0, n) for k, v in self.h.items()})


def units(raw: Iterator[tuple[int, list[str], list]]) -> Iterator[tuple[int, _Lines, list]]:
    """Runs of whole messages, for the block stage. Each run ends just before the last header in the
    block that cannot be a pasted line (it has an author, or names a system event: only author-less
    lines are ever taken for pasted ones), so no message spans two runs."""
    left: list[str] = []
    left_first, left_notes = 1, []
    for first, lines, notes in raw:
        if left:
            lines, first, notes = left + lines, left_first, left_notes + notes
        run = _Lines.of(first, lines)
        cut = _safe_cut(run)
        if not cut:
            if len(lines) > 50_000 or sum(map(len, lines)) > 8 * MAX_TEXT:  # a "message" with no end in sight
                yield first, run, notes
                left, left_notes = [], []
            else:
                left, left_first, left_notes = lines, first, notes
            continue
        yield first, run.head(cut), notes
        left, left_first, left_notes = lines[cut:], first + cut, []
    if left:
        yield left_first, _Lines.of(left_first, left), left_notes


def _safe_cut(run: _Lines) -> int | None:
    """Index of the last header line (not the first line) that has an author or a system event."""
    bodies = run.h["body"]
    for j in range(len(run.idx) - 1, max(len(run.idx) - 200, 0), -1):
        body = bodies[j].as_py() or ""
        name, _, _ = body.partition(": ")
        if (": " in body and 1 <= len(name) <= 80 and not _QUOTES.search(name)) or _ANY_EVENT_RE.search(body):
            return int(run.idx[j])
    return None


def _chain(first: list, rest) -> Iterator:
    yield from first
    yield from rest


def _extract(t: pa.Array, pattern: str, name: str) -> pa.Array:
    parts = pc.extract_regex(t, pattern)
    return pc.if_else(parts.is_valid(), parts.field(name), pa.nulls(len(t), pa.string()))


@dataclass
class _Context:
    src: Source
    prefix: str
    chat: str
    media: dict[str, str]
    arc: SafeArchive | None
    order: str | None
    started: bool = False
    last_ts: object = None
    swapped_at: tuple[int, str] | None = None
    hashes: dict[str, str] = field(default_factory=dict)
    _json: dict = field(default_factory=dict)

    def json(self, e: dict) -> str | None:
        """JSON for a row's extra facts; the common small ones (flags, event names) are made once."""
        if not e:
            return None
        try:
            key = tuple(e.items())
            if key not in self._json:
                self._json[key] = to_json(e)
            return self._json[key]
        except TypeError:  # unhashable (a location): not worth caching
            return to_json(e)

    def media_hash(self, member: str) -> str:
        if member not in self.hashes:
            with self.arc.open(member) as mf:
                self.hashes[member] = digest_stream(mf).sha256
        return self.hashes[member]


def _is_chat_member(name: str) -> bool:
    base = PurePosixPath(name).name
    return base == "_chat.txt" or (base.startswith("WhatsApp Chat") and base.endswith(".txt"))


def _chat_name(file_name: str) -> str:
    stem = PurePosixPath(file_name).stem
    for pre in ("WhatsApp Chat with ", "WhatsApp Chat - ", "WhatsApp Chat with", "WhatsApp Chat -"):
        if stem.startswith(pre):
            return stem[len(pre):].strip()
    return stem


def _member_head(probe: Probe, member: str) -> str:
    with SafeArchive(probe.path, probe.name) as arc, arc.open(member) as f:
        return f.read(8192).decode("utf-8", errors="replace").lstrip("\ufeff")
