"""WhatsApp "Export chat": Android .txt, iOS _chat.txt, and the .zip with media.

Header forms handled (one regex): `12/03/2024, 14:23 - `, `3/12/24, 2:23 PM - ` (U+202F or a
no-break space before the marker), `03.08.21, 12:30 - `, `20/6/2017 8:28 p. m. - `,
`12/07/2017 à 22:35 - `, `30/08/25 18.00 - `, `2019/01/30, 20:49 - `, `[31/12/2022, 11:40:26] `,
`[1/15/24, 10:30:45 AM] `, `[12.3.2022 klo 14.08.18] `, and Sinhala/Tamil day-half markers.

Day/month order is decided from the whole file (a value over 12, else the only order that keeps
the messages in time order). When nothing decides it, dates that could be read either way get no
timestamp and the file gets an error naming the ambiguity: pass `date_order` to settle it.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePosixPath

from ..ingest.archive import SafeArchive, is_archive
from ..ingest.hashing import digest_stream
from ..model import Message, Record
from . import register
from .base import Parser, Probe, Source, text_lines
from .mentions import looks_like_phone

_SP = "[ \u00a0\u202f]"
_AM = ("am", "a.m.", "a. m.", "a.m", "vorm.", "පෙ.ව.", "முற்பகல்", "午前", "ص")
_PM = ("pm", "p.m.", "p. m.", "p.m", "nachm.", "ප.ව.", "பிற்பகல்", "午後", "م")
_AMPM = "|".join(re.escape(t).replace(r"\ ", _SP) for t in sorted(_AM + _PM, key=len, reverse=True))
HEADER = re.compile(
    r"[\u200e\u200f]?(?P<br>\[)?(?P<date>\d{1,4}[./-]\d{1,2}[./-]\d{1,4})\.?,?" + _SP + r"?(?:à" + _SP + r"|klo" + _SP + r")?"
    r"(?P<time>\d{1,2}[:.]\d{2}(?:[:.]\d{2})?)(?:" + _SP + r"?(?P<ampm>" + _AMPM + r"))?"
    r"(?(br)\]" + _SP + r"?|" + _SP + r"[-–]" + _SP + r")(?P<body>.*)",
    re.IGNORECASE | re.DOTALL,
)
_AMPM_MAP = {t.replace(" ", "").lower(): (t in _PM) for t in _AM + _PM}

_MARKS = "\u200e\u200f\u202a\u202c\u2068\u2069"
_MEDIA_ATTACHED = re.compile(r"<attached: (?P<file>[^>]+)>")
_MEDIA_FILE = re.compile(r"(?P<file>[^\n]+?\.\w{2,5}) \((?:file attached|archivo adjunto|fichier joint|Datei angehängt)\)")
_MEDIA_OMITTED = re.compile(r"<Media omitted>|<Multimedia omitido>|<Médias omis>|<Medien ausgeschlossen>|"
                            r"(?:image|video|audio|sticker|GIF|document|Contact card) omitted", re.IGNORECASE)
_DELETED = re.compile(r"^(?:This message was deleted|You deleted this message)\.?$")
_EDITED = re.compile(r"\s*<This message was edited>$")
_LOCATION = re.compile(r"location: https?://maps\.google\.com/\?q=(?P<lat>-?\d+\.\d+),(?P<lon>-?\d+\.\d+)")
_SYSTEM_EVENTS = [(re.compile(p, re.IGNORECASE), e) for p, e in (
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
)]


def _clean_name(name: str) -> tuple[str, bool]:
    """Strip direction marks; '~ Name' (or '~\u202fName') marks someone not in the exporter's contacts."""
    n = name.strip().strip(_MARKS).strip()
    not_contact = n.startswith("~")
    return n.lstrip("~").strip(" \u00a0\u202f").strip(_MARKS), not_contact


# -- day/month order ----------------------------------------------------------------------------
@dataclass
class DateOrder:
    order: str | None  # "DMY", "MDY", "YMD" or None when undecided
    reason: str
    inconsistent: bool = False


def _parts(date: str) -> tuple[str, str, str]:
    a, b, c = re.split(r"[./-]", date)
    return a, b, c


def decide_order(dates: Iterable[tuple[int, str]]) -> DateOrder:
    """Decide from (line, date text) pairs of the whole file; never guess."""
    dmy_at = mdy_at = dotted_at = None
    distinct: list[tuple[int, int, int]] = []
    for line, date in dates:
        a, b, c = _parts(date)
        if len(a) == 4:
            return DateOrder("YMD", f"year first (line {line}: {date})")
        x, y = int(a), int(b)
        if dotted_at is None and "." in date:
            dotted_at = (line, date)
        if x > 12 and dmy_at is None:
            dmy_at = (line, date)
        if y > 12 and mdy_at is None:
            mdy_at = (line, date)
        key = (x, y, int(c))
        if not distinct or distinct[-1] != key:
            distinct.append(key)
    if dmy_at and mdy_at:
        return DateOrder(None, f"both orders occur: day first at line {dmy_at[0]} ({dmy_at[1]}), "
                               f"month first at line {mdy_at[0]} ({mdy_at[1]})", inconsistent=True)
    if dmy_at:
        return DateOrder("DMY", f"day first: line {dmy_at[0]} has {dmy_at[1]}")
    if mdy_at:
        return DateOrder("MDY", f"month first: line {mdy_at[0]} has {mdy_at[1]}")

    def backwards(order: str) -> int:
        seq = [(_year(c), x, y) if order == "MDY" else (_year(c), y, x) for x, y, c in distinct]
        return sum(1 for p, q in zip(seq, seq[1:]) if q < p)

    if dotted_at is not None:
        return DateOrder("DMY", f"dotted dates (line {dotted_at[0]}: {dotted_at[1]}) are day-first in every locale that writes them")
    dmy_back, mdy_back = backwards("DMY"), backwards("MDY")
    if dmy_back == 0 and mdy_back > 0:
        return DateOrder("DMY", "no day above 12; only day-first keeps the messages in time order")
    if mdy_back == 0 and dmy_back > 0:
        return DateOrder("MDY", "no day above 12; only month-first keeps the messages in time order")
    return DateOrder(None, "no date has a day above 12 and both orders keep the messages in time order")


def _year(y: int | str) -> int:
    y = int(y)
    return y + 2000 if y < 100 else y


# -- parser -----------------------------------------------------------------------------------------
@dataclass
class _Pending:
    first: int
    last: int
    date: str
    time: str
    ampm: str | None
    bracketed: bool
    lines: list[str] = field(default_factory=list)


@register
class WhatsAppExport(Parser):
    name = "whatsapp-export"
    version = "1.0"
    description = 'WhatsApp "Export chat" .txt (Android, iOS) and .zip with media'

    def __init__(self, date_order: str | None = None):
        self.date_order = date_order.upper() if date_order else None

    def sniff(self, probe: Probe) -> float:
        if probe.members:
            return 0.95 if any(_is_chat_member(m) for m in probe.members) and self._looks_like_chat(
                _member_head(probe, next(m for m in probe.members if _is_chat_member(m)))) else 0.0
        if probe.suffix not in (".txt", ""):
            return 0.0
        return 0.9 if self._looks_like_chat(probe.text) else 0.0

    @staticmethod
    def _looks_like_chat(text: str) -> bool:
        lines = [ln for ln in text.splitlines()[:20] if ln.strip()]
        hits = sum(1 for ln in lines if HEADER.match(ln))
        return hits >= max(1, len(lines) // 3)

    # -- entry --------------------------------------------------------------------------------
    def parse(self, src: Source) -> Iterator[Record]:
        with open(src.path, "rb") as f:
            zipped = is_archive(f.read(8))
        if not zipped:
            chat = _chat_name(src.name)
            yield from self._parse_text(src, lambda: open(src.path, "rb"), "", chat, {})
            return
        with SafeArchive(src.path, src.name) as arc:
            chats = [m for m in arc.names() if _is_chat_member(m)]
            if not chats:
                yield self.issue(src, "zip:", "no chat text file (_chat.txt or 'WhatsApp Chat*.txt') in the archive")
                return
            media = {PurePosixPath(m).name: m for m in arc.names() if m not in chats}
            for member in chats:
                name = _chat_name(src.name if PurePosixPath(member).name == "_chat.txt" else member)
                yield from self._parse_text(src, lambda m=member: arc.open(m), f"zip:{member}#", name,
                                            media, arc)

    def _parse_text(self, src: Source, open_stream, prefix: str, chat: str, media: dict[str, str],
                    arc: SafeArchive | None = None) -> Iterator[Record]:
        # pass 1: the date order, from every header in the file
        if self.date_order:
            order = DateOrder(self.date_order, "given by the examiner (date_order option)")
        else:
            with open_stream() as f:
                order = decide_order((n, m.group("date")) for n, line, _ in text_lines(f) if (m := HEADER.match(line)))
        if order.order is None:
            yield self.issue(src, f"{prefix}file", f"day/month order undecided: {order.reason}; dates that read "
                             "differently either way have no timestamp. Re-ingest with date_order=DMY or MDY.")
        else:
            yield self.issue(src, f"{prefix}file", f"dates read as {order.order}: {order.reason}", severity="info")
        # pass 2: messages
        pending: _Pending | None = None
        dates: dict[str, tuple[int, int, int] | None] = {}
        media_hashes: dict[str, str] = {}
        with open_stream() as f:
            for n, line, note in text_lines(f):
                if note:
                    yield self.issue(src, f"{prefix}line:{n}", note, line[:200], severity="warning")
                m = HEADER.match(line)
                if m is not None and pending is not None and self._continues(m, pending, order, dates):
                    m = None
                if m is not None:
                    if pending is not None:
                        yield from self._emit(src, prefix, chat, pending, order, dates, media, media_hashes, arc)
                    pending = _Pending(n, n, m.group("date"), m.group("time"), m.group("ampm"), bool(m.group("br")),
                                       [m.group("body")])
                elif pending is not None:
                    pending.lines.append(line)
                    pending.last = n
                elif line.strip(" \ufeff" + _MARKS):
                    yield self.issue(src, f"{prefix}line:{n}", "text before the first message header", line)
        if pending is not None:
            yield from self._emit(src, prefix, chat, pending, order, dates, media, media_hashes, arc)

    # -- one message ------------------------------------------------------------------------
    def _emit(self, src, prefix, chat, p: _Pending, order: DateOrder, dates, media, media_hashes, arc) -> Iterator[Record]:
        loc = f"{prefix}line:{p.first}" if p.first == p.last else f"{prefix}line:{p.first}-{p.last}"
        prov = self.prov(src, loc)
        ts, problem = self._timestamp(p, order, dates)
        body = "\n".join(p.lines)
        sender, text = _split_sender(body)
        extra: dict = {}
        kind = "text"
        sender_name = sender_id = None
        if sender is not None:
            sender_name, not_contact = _clean_name(sender)
            if not_contact:
                extra["not_in_contacts"] = True
            if looks_like_phone(sender_name):
                sender_id, sender_name = sender_name, None
        stripped = text.strip(_MARKS + " ")
        if sender is None or (text.startswith("\u200e") and p.bracketed and not _MEDIA_OMITTED.search(stripped)
                              and not _MEDIA_ATTACHED.search(stripped) and not _DELETED.match(stripped)):
            kind = "system"
            extra["event"] = next((e for rx, e in _SYSTEM_EVENTS if rx.search(stripped)), "other")
            if sender is not None and p.bracketed:  # iOS puts the group name where the author goes
                extra["shown_as"] = sender_name or sender_id
                sender_name = sender_id = None
        text = stripped
        media_name = media_sha = None
        if kind != "system":
            if _DELETED.match(text):
                kind = "deleted"
            elif (mm := _MEDIA_ATTACHED.search(text) or _MEDIA_FILE.match(text)) is not None:
                kind, media_name = "media", mm.group("file").strip(_MARKS)
                caption = (text[:mm.start()] + text[mm.end():]).strip(_MARKS + " \n")
                text = caption or None
            elif _MEDIA_OMITTED.search(text):
                kind, extra["media_omitted"] = "media", True
            elif (loc_m := _LOCATION.search(text)) is not None:
                extra["location"] = {"lat": loc_m.group("lat"), "lon": loc_m.group("lon")}
        edited = False
        if text and _EDITED.search(text):
            edited, text = True, _EDITED.sub("", text).strip(_MARKS + " ")
        if media_name:
            member = media.get(PurePosixPath(media_name).name)
            if member is not None and arc is not None:
                if member not in media_hashes:
                    with arc.open(member) as mf:
                        media_hashes[member] = digest_stream(mf).sha256
                media_sha = media_hashes[member]
                extra["media_locator"] = f"zip:{member}"
            else:
                extra["media_missing"] = True
        if problem:
            extra["date_text"] = f"{p.date} {p.time}{' ' + p.ampm if p.ampm else ''}"
        msg = Message(prov=prov, platform="whatsapp", chat_id=f"whatsapp:{chat}", chat_name=chat, ts=ts,
                      sender_id=sender_id, sender_name=sender_name, kind=kind, text=text, media=media_name,
                      media_sha256=media_sha, edited=edited, extra=extra)
        yield msg
        if problem:
            yield self.issue(src, loc, problem, p.lines[0][:200], severity="warning")
        yield from self.party(msg, sender_id, "sender", "whatsapp")
        if kind in ("text", "system", "media"):
            yield from self.mentioned(msg, text, "whatsapp")

    def _continues(self, m: re.Match, pending: _Pending, order: DateOrder, dates) -> bool:
        """A header-shaped line inside a message: no author, no known system event, and earlier than
        the message it follows (a pasted or quoted line, not a new message)."""
        body = m.group("body")
        if _split_sender(body)[0] is not None or any(rx.search(body) for rx, _ in _SYSTEM_EVENTS):
            return False
        here = _Pending(0, 0, m.group("date"), m.group("time"), m.group("ampm"), bool(m.group("br")))
        t_here, t_before = self._timestamp(here, order, dates)[0], self._timestamp(pending, order, dates)[0]
        return t_here is not None and t_before is not None and t_here < t_before

    def _timestamp(self, p: _Pending, order: DateOrder, cache) -> tuple[datetime | None, str | None]:
        if p.date not in cache:
            cache[p.date] = _read_date(p.date, order.order)
        ymd = cache[p.date]
        if ymd is None:
            return None, f"date {p.date!r} cannot be read as {order.order or 'either day/month order'}"
        t = [int(x) for x in re.split(r"[:.]", p.time)]
        hour, minute, second = t[0], t[1], t[2] if len(t) > 2 else 0
        if p.ampm:
            pm = _AMPM_MAP.get(re.sub(r"[ \u00a0\u202f]", "", p.ampm).lower(), False)
            if not 1 <= hour <= 12:
                return None, f"hour {hour} with {p.ampm!r}"
            hour = hour % 12 + (12 if pm else 0)
        try:
            return datetime(*ymd, hour, minute, second), None
        except ValueError as e:
            return None, f"invalid date/time {p.date} {p.time}: {e}"


def _read_date(date: str, order: str | None) -> tuple[int, int, int] | None:
    a, b, c = (int(x) for x in _parts(date))
    if order == "YMD":
        return a, b, c
    if order == "DMY":
        return _year(c), b, a
    if order == "MDY":
        return _year(c), a, b
    # undecided: only where both readings agree, or only one is a valid date
    if a == b or b > 12:
        return _year(c), a, b
    if a > 12:
        return _year(c), b, a
    return None


def _split_sender(body: str) -> tuple[str | None, str]:
    """Split 'Name: text'. A line whose 'name' is long or quoted is a system line ('X changed the subject to "a: b"')."""
    i = body.find(": ")
    if i <= 0:
        if body.endswith(":") and "\n" not in body and 0 < len(body) <= 81:  # empty message body
            return body[:-1], ""
        return None, body
    name = body[:i]
    if len(name) > 80 or "\n" in name or any(q in name for q in '"“”«»'):
        return None, body
    return name, body[i + 2:]


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
