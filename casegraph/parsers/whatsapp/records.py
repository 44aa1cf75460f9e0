"""The records of one run of whole messages: column-wise with Arrow, Python only for the rare rows.

Who wrote a line: a `Name: …` line is that person's message — text, media (sent, or left out of the
export), deleted or edited — whatever language the markers are in, and an unknown marker stays a
text message with its author. The exceptions are lines with no author at all, and the iOS lines
(bracketed, the text starting with U+200E) that WhatsApp writes under the chat's name: those are
system lines when the name is no participant (never wrote an ordinary message) or the text is a
notice nobody writes (encryption, security code).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from types import SimpleNamespace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ...archive import ArchiveError, SafeArchive
from ...hashing import digest_stream
from ...model import Batch, Record, constant, id_prefix, to_json
from .. import mentions
from ..base import Source
from ..mentions import looks_like_phone
from . import markers
from .dates import timestamps
from .grammar import MARKS, clean_name, extract, np_mask, where
from .runs import ANY_EVENT, MAX_TEXT, SYSTEM_EVENTS, Lines

# a list: an Arrow array built at import imports pandas (see ingest.pipeline._import_pandas_behind)
KINDS = ["text", "media", "deleted", "system"]
_LOCATION = r"location: https?://maps\.google\.com/\?q=(?P<lat>-?\d+\.\d+),(?P<lon>-?\d+\.\d+)"
_NOTICES = (("encryption_notice", "encryption-notice"), ("security_code_notice", "security-code-changed"))
_NOTICE_PATTERNS = tuple(("(?i)^[\\s" + MARKS + "]*(?:" + markers.alternation(section) + ")", event) for section, event in _NOTICES)
# One DFA pass over a run's texts for three prefilters (attachments and links, whole-message markers,
# identifiers); each pattern then runs on the rows it let through only. Same rows: a union, flags kept.
_PREFILTERS = "|".join(
    "(?i:" + p[4:] + ")" if p.startswith("(?i)") else "(?:" + p + ")" for p in (markers.SPECIAL, markers.CANDIDATE, mentions.RE2_PREFILTER)
)
_NOTICE = "|".join("(?:" + p[4:] + ")" for p, _ in _NOTICE_PATTERNS)


@dataclass
class Context:
    src: Source
    prefix: str
    chat: str
    media: dict[str, str]
    arc: SafeArchive | None
    order: str | None
    started: bool = False
    last_ts: object = None
    swapped_at: tuple[int, str] | None = None
    moved_at: tuple[int, str] | None = None
    participants: set[str] = field(default_factory=set)  # names that wrote an ordinary message so far
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


def _event(text: pa.Array) -> pa.Array:
    out = pa.nulls(len(text), pa.string())
    for pattern, name in reversed(_NOTICE_PATTERNS + tuple(("(?i)" + p, e) for p, e in SYSTEM_EVENTS)):  # the first listed wins
        out = pc.if_else(pc.match_substring_regex(text, pattern), name, out)
    return pc.fill_null(out, "other")


@dataclass
class Prepared:
    """A run's message columns, made without the state earlier runs leave in the Context, so runs
    can be prepared in parallel; `finish` checks the two assumptions this takes and redoes the
    step whose assumption failed, in order, so the records are those of a one-by-one reading."""

    run: Lines
    m: _Rows | None  # None: the run has no header line
    row0_pasted: bool  # the first header may be a line pasted into the previous run's last message
    ordinary: set[str]  # names that wrote an ordinary line in this run
    depends: set[str]  # names whose U+200E lines are theirs if they wrote an ordinary line before


def prepare(ctx: Context, run: Lines) -> Prepared:
    """The heavy, column-wise part of a run's records. Reads only the Context's fixed fields."""
    if not len(run.idx):
        return Prepared(run, None, False, set(), set())
    m, row0_pasted = _messages(ctx, run, None)
    ordinary, depends = _classify(m, set())
    m.found = _mentions(m)
    return Prepared(run, m, row0_pasted, ordinary, depends)


def finish(parser, ctx: Context, p: Prepared) -> list[Record | Batch]:
    """The records of one prepared run (issues first, then the messages batch, then identifiers),
    in file order: this is where the Context's running state is read and updated."""
    run, m = p.run, p.m
    out: list[Record | Batch] = []
    out += _leading(parser, ctx, run)
    if m is None:
        return out
    ctx.started = True
    ordinary = p.ordinary
    if p.row0_pasted and ctx.last_ts is not None:  # rare: the previous message's time decides
        m, _ = _messages(ctx, run, ctx.last_ts)
        ordinary, _ = _classify(m, ctx.participants)
        m.found = _mentions(m)
    elif p.depends & ctx.participants:  # rare: a name that wrote before makes a U+200E line theirs
        ordinary, _ = _classify(m, ctx.participants)
        m.found = _mentions(m)
    ctx.participants.update(ordinary)
    out += _rare_rows(parser, ctx, run, m)
    out.append(_batch(parser, ctx, m))
    out.extend(_identifiers(parser, ctx, m))
    if m.ts[m.n - 1].is_valid:
        ctx.last_ts = m.ts[m.n - 1].as_py()
    return out


def build(parser, ctx: Context, run: Lines) -> list[Record | Batch]:
    """The records of one run, prepared and finished in line."""
    return finish(parser, ctx, prepare(ctx, run))


def _leading(parser, ctx: Context, run: Lines) -> list:
    """Lines before the first header of the run: a preamble (file start) or an overrun's tail."""
    first = run.first
    lead = int(run.idx[0]) if len(run.idx) else len(run)
    if not lead:
        return []
    lines = run.arr.slice(0, lead).to_pylist() if not ctx.started else [run.arr[0].as_py()]
    if not ctx.started:  # text before the first header of the file
        return [
            parser.issue(ctx.src, f"{ctx.prefix}line:{first + i}", "text before the first message header", lines[i])
            for i in range(lead)
            if lines[i].strip(" \ufeff" + MARKS)
        ]
    return [
        parser.issue(
            ctx.src,
            f"{ctx.prefix}line:{first}-{first + lead - 1}",
            "continuation lines beyond the message size limit; not stored as text",
            lines[0][:200],
            severity="warning",
        )
    ]


def _earlier_than_certain(ts: pa.Array, loose: np.ndarray, last_ts) -> np.ndarray:
    """Per line: its time is earlier than that of the last certain line before it (not `loose`,
    with a time), or than `last_ts` where the run has none before it yet."""
    valid = np_mask(ts.is_valid())
    t = pc.fill_null(ts.cast(pa.int64()), 0).to_numpy(zero_copy_only=False)
    n = len(t)
    last = np.maximum.accumulate(np.where(~loose & valid, np.arange(n), -1))
    before = np.concatenate([[-1], last[:-1]])
    ref = t[np.maximum(before, 0)]
    has_ref = before >= 0
    if last_ts is not None:
        ref = np.where(has_ref, ref, pa.scalar(last_ts, pa.timestamp("us")).cast(pa.int64()).as_py())
        has_ref = np.ones(n, bool)
    return valid & has_ref & (t < ref)


class _Rows(SimpleNamespace):
    """The columns of the run's messages, filled in step by step."""


def _messages(ctx: Context, run: Lines, last_ts) -> tuple[_Rows, bool]:
    """Header lines become messages (minus pasted lines), with their text, locators and authors;
    and whether the first header would be a pasted line if `last_ts` (the time of the message
    before the run) were later than its own."""
    h, idx = run.h, run.idx
    sender = h["sender"]
    ts, swapped = timestamps(h["date"], h["time"], h["ampm"], ctx.order)
    # A header-shaped line with no author and no known system event, earlier than the last certain
    # message before it (one with an author or an event), is a line pasted inside that message, not
    # a new message. Compared with the certain message, not the line just before: a pasted block of
    # several such lines in their own order is all pasted.
    no_sender = ~np_mask(sender.is_valid())
    keep = np.ones(len(idx), bool)
    row0_pasted = False
    if no_sender.any():
        no_event = ~np_mask(where(no_sender, h["body"], lambda b: pc.match_substring_regex(b, ANY_EVENT), pa.bool_()))
        keep = ~(no_sender & no_event & _earlier_than_certain(ts, no_sender & no_event, last_ts))
        row0_pasted = bool(no_sender[0] and no_event[0])
    kept = np.flatnonzero(keep)
    rows = pa.array(kept, pa.int64())
    m = _Rows()
    m.n = len(kept)
    m.starts = starts = idx[kept]
    m.ends = ends = np.append(idx[kept[1:]], len(run))
    every = len(kept) == len(idx)  # the usual case: no pasted lines, nothing to take
    m.h = h if every else {k: v.take(rows) for k, v in h.items()}
    m.sender, m.rest, m.ts = m.h["sender"], m.h["rest"], ts if every else ts.take(rows)
    m.odd_date = swapped[kept]  # 1: day and month the other way round; 2: the year elsewhere
    m.swapped = m.odd_date > 0

    # text: the header line's rest, then its continuation lines, joined with newlines; no trailing
    # blank lines or spaces (a file's final empty line is not part of its last message)
    mask = np.zeros(len(run), bool)
    mask[starts] = True
    pieces = pc.replace_with_mask(run.arr, pa.array(mask), m.rest).slice(int(starts[0]), int(ends[-1] - starts[0]))
    text = pc.binary_join(pa.ListArray.from_arrays(pa.array(np.append(starts, ends[-1]) - starts[0], pa.int32()), pieces), "\n")
    text = pc.utf8_trim(pc.utf8_rtrim_whitespace(text), MARKS + " ")
    m.long_text = np.zeros(len(text), bool)
    if pc.max(pc.binary_length(text)).as_py() > MAX_TEXT:  # bytes: at least the characters
        m.long_text = np_mask(pc.greater(pc.utf8_length(text), MAX_TEXT))
    if m.long_text.any():
        text = pc.if_else(pa.array(m.long_text), pc.utf8_slice_codeunits(text, 0, MAX_TEXT), text)
    m.text = text

    # locators: line:N, and line:N-M for the (fewer) messages of several lines
    loc = pc.binary_join_element_wise(ctx.prefix + "line:", pa.array(starts + run.first).cast(pa.string()), "")
    multi = ends - starts > 1
    if multi.any():
        last = pa.array(ends[multi] + run.first - 1).cast(pa.string())
        loc = pc.replace_with_mask(loc, pa.array(multi), pc.binary_join_element_wise(loc.filter(pa.array(multi)), last, "-"))
    m.locators = loc
    _authors(m)
    return m, row0_pasted


def _authors(m: _Rows) -> None:
    """Who wrote each row, worked out once per distinct author string."""
    authors = pc.dictionary_encode(m.sender)
    cleaned = [clean_name(a) for a in authors.dictionary.to_pylist()]
    ai = pc.fill_null(authors.indices, -1).to_numpy(zero_copy_only=False)
    m.has_sender = ai >= 0
    gather = pa.array(np.where(m.has_sender, ai, len(cleaned)))
    m.names = [c[0] for c in cleaned]
    m.name = pa.array([*m.names, None], pa.string()).take(gather)
    m.author_index = ai
    m.not_contact = np.array([c[1] for c in cleaned] + [False])[ai]
    m.phone_like = np.array([looks_like_phone(c[0]) for c in cleaned] + [False])[ai]


def _classify(m: _Rows, before: set[str]) -> tuple[set[str], set[str]]:
    """Kind of every row (text, media, deleted, system) and the marker facts behind it, given the
    names that wrote an ordinary line before the run. Returns the names that wrote one in the run,
    and the names whose rows would change with `before` (U+200E lines of a name not known yet)."""
    text, n = m.text, m.n
    maybe = np_mask(pc.match_substring_regex(text, _PREFILTERS))  # the few rows any of the three can match
    whole = markers.whole_markers(text, maybe)
    m.omitted = whole["media_omitted"]
    m.deleted = whole["deleted"] | whole["deleted_by_admin"]
    m.by_admin = whole["deleted_by_admin"]
    m.placeholder = whole["placeholder"]
    special = np_mask(where(maybe, text, lambda t: pc.match_substring_regex(t, markers.SPECIAL), pa.bool_()))
    attached = markers.attached_file(text, special)
    m.media_name = attached
    has_file = np_mask(pc.not_equal(pc.fill_null(attached, ""), ""))
    user_marker = m.omitted | m.deleted | m.placeholder | has_file

    bracketed = np_mask(m.h["br"])
    lrm = bracketed & m.has_sender & np_mask(pc.starts_with(m.rest, "\u200e"))
    # participants: names that wrote an ordinary line, in this run or before it
    ordinary = m.has_sender & ~lrm
    names_here = {m.names[i] for i in np.unique(m.author_index[ordinary]).tolist()}
    participant = np.array([nm in before or nm in names_here for nm in m.names] + [False])[m.author_index]
    open_rows = lrm & ~user_marker & ~participant
    depends = {m.names[i] for i in np.unique(m.author_index[open_rows]).tolist()} if open_rows.any() else set()
    # a notice under a name (older iOS exports have no U+200E before it) is WhatsApp's, not that person's
    notice = np_mask(where(bracketed & m.has_sender, m.rest, lambda t: pc.match_substring_regex(t, "(?i)" + _NOTICE), pa.bool_()))
    m.system = ~m.has_sender | notice | (lrm & ~user_marker & ~participant)
    m.shown_as = m.system & m.has_sender  # iOS puts the chat's name where the author goes
    m.has_media = ~m.system & ~m.deleted & has_file
    m.media_omitted = ~m.system & ~m.deleted & ~m.has_media & m.omitted
    m.edited = ~m.system & markers.edited(text)
    m.location = where(
        special & ~m.system, text, lambda t: pc.binary_join_element_wise(extract(t, _LOCATION, "lat"), extract(t, _LOCATION, "lon"), ",")
    )
    m.has_location = np_mask(m.location.is_valid())
    final = text
    if m.has_media.any():
        caption = where(m.has_media, text, markers.without_attachment)
        final = pc.if_else(pa.array(m.has_media), pc.if_else(pc.equal(caption, ""), pa.nulls(n, pa.string()), caption), text)
    if m.edited.any():
        final = pc.if_else(pa.array(m.edited), pc.utf8_trim(pc.replace_substring_regex(final, markers.EDITED, ""), MARKS + " "), final)
    m.final_text = final
    m.maybe_mention = maybe | m.has_media | m.edited  # final_text differs from text only on the last two
    m.codes = np.where(m.system, 3, np.where(m.deleted, 2, np.where(m.has_media | m.media_omitted, 1, 0))).astype(np.int8)
    sender_ok = m.has_sender & ~m.shown_as
    m.sender_id = pc.if_else(pa.array(sender_ok & m.phone_like), m.name, pa.nulls(n, pa.string()))
    m.sender_name = pc.if_else(pa.array(sender_ok & ~m.phone_like), m.name, pa.nulls(n, pa.string()))
    return names_here, depends


def _mentions(m: _Rows) -> mentions.Found:
    """Identifiers in the texts, looked for on the rows the combined prefilter let through (the same
    result as on every row: a row the mentions prefilter matches is among them)."""
    rows = np.flatnonzero((m.codes != 2) & m.maybe_mention)  # a deleted message's marker mentions nothing
    found = mentions.find_column(m.final_text.take(pa.array(rows, pa.int64())))
    found.rows = rows[np.array(found.rows, np.int64)].tolist()
    return found


def _rare_rows(parser, ctx: Context, run: Lines, m: _Rows) -> list:
    """Extra facts, media hashes, and the issues of unreadable or swapped dates, on the few rows that have them."""
    out: list = []
    src = ctx.src
    no_ts = ~np_mask(m.ts.is_valid())
    named = m.has_sender & ~m.shown_as
    plain_nc = m.not_contact & named
    special_row = m.system | m.has_media | m.media_omitted | m.has_location | no_ts | m.swapped | m.long_text | m.by_admin | m.placeholder
    m.extras = np.full(m.n, None, object)
    m.extras[plain_nc & ~special_row] = ctx.json({"not_in_contacts": True})  # the common case, one shared string
    m.media_sha = np.full(m.n, None, object)
    if not special_row.any():
        return out
    sys_rows = np.flatnonzero(m.system)
    event = pc.dictionary_encode(_event(m.text.take(pa.array(sys_rows, pa.int64()))))
    event_code = np.zeros(m.n, np.int64)  # 0: no event, else 1 + the event's index
    event_code[sys_rows] = event.indices.to_numpy(zero_copy_only=False) + 1
    event_names = [None, *event.dictionary.to_pylist()]
    # Rows whose facts are flags and an event only (media left out, system lines, deletions by an
    # admin): one JSON string per combination, set column-wise. The other rows, one by one.
    flags = plain_nc.astype(np.int64) | m.media_omitted << 1 | m.by_admin << 2 | m.placeholder << 3
    one_by_one = m.shown_as | m.has_location | m.has_media | no_ts | m.swapped | m.long_text
    simple = special_row & ~one_by_one
    if simple.any():
        code = flags + (event_code << 4)
        for c in np.unique(code[simple]).tolist():
            facts: dict = {}
            if c & 1:
                facts["not_in_contacts"] = True
            if c >> 4:
                facts["event"] = event_names[c >> 4]
            if c & 2:
                facts["media_omitted"] = True
            if c & 4:
                facts["deleted_by"] = "admin"
            if c & 8:
                facts["placeholder"] = True
            m.extras[simple & (code == c)] = ctx.json(facts)
    rare = np.flatnonzero(special_row & one_by_one)
    if not len(rare):
        return out
    take = pa.array(rare, pa.int64())
    locs = dict(zip(rare.tolist(), m.locators.take(take).to_pylist(), strict=True))
    events = {i: event_names[event_code[i]] for i in rare.tolist()}
    names, media_names, where_ = (
        dict(zip(rare.tolist(), col.take(take).to_pylist(), strict=True)) for col in (m.name, m.media_name, m.location)
    )
    for i in rare.tolist():
        e: dict = {}
        if m.not_contact[i] and named[i]:
            e["not_in_contacts"] = True
        if m.system[i]:
            e["event"] = events[i]
            if m.shown_as[i]:
                e["shown_as"] = names[i]
        if m.media_omitted[i]:
            e["media_omitted"] = True
        if m.by_admin[i]:
            e["deleted_by"] = "admin"
        if m.placeholder[i]:
            e["placeholder"] = True
        if m.has_location[i]:
            lat, lon = where_[i].split(",")
            e["location"] = {"lat": lat, "lon": lon}
        if m.has_media[i]:
            member = ctx.media.get(PurePosixPath(media_names[i]).name)
            if member is not None and ctx.arc is not None:
                try:
                    m.media_sha[i] = ctx.media_hash(member)
                    e["media_locator"] = f"zip:{member}"
                except ArchiveError as err:  # an encrypted, damaged or oversized media member
                    out.append(parser.issue(src, locs[i], f"attached media unreadable: {err}", severity="warning"))
            else:
                e["media_missing"] = True
        if no_ts[i] or m.swapped[i]:
            date, time_, ampm = (m.h[k][i].as_py() for k in ("date", "time", "ampm"))
            e["date_text"] = f"{date} {time_}{' ' + ampm if ampm else ''}"
            raw = run.arr[int(m.starts[i])].as_py()[:200]
            if m.odd_date[i] == 1:
                ctx.swapped_at = ctx.swapped_at or (run.first + int(m.starts[i]), date)
                out.append(
                    parser.issue(
                        src,
                        locs[i],
                        f"date {date!r} is valid only the other way round from the file's {ctx.order}; read that way",
                        raw,
                        severity="warning",
                    )
                )
            elif m.odd_date[i] == 2:
                ctx.moved_at = ctx.moved_at or (run.first + int(m.starts[i]), date)
                out.append(
                    parser.issue(
                        src,
                        locs[i],
                        f"date {date!r} has its four-digit year elsewhere than the file's {ctx.order}; read by its own layout",
                        raw,
                        severity="warning",
                    )
                )
            else:
                out.append(
                    parser.issue(
                        src, locs[i], f"date {date!r} cannot be read as {ctx.order or 'either day/month order'}", raw, severity="warning"
                    )
                )
        if m.long_text[i]:
            out.append(
                parser.issue(src, locs[i], f"message text longer than {MAX_TEXT} characters; kept the first {MAX_TEXT}", severity="warning")
            )
        m.extras[i] = ctx.json(e)
    return out


def _prov_columns(parser, src: Source, locators: pa.Array) -> dict[str, pa.Array]:
    n = len(locators)
    return {
        "exhibit_sha256": constant(src.sha256, n),
        "parser": constant(parser.name, n),
        "parser_version": constant(parser.version, n),
        "locator": locators,
    }


def _batch(parser, ctx: Context, m: _Rows) -> Batch:
    n, src = m.n, ctx.src
    m.ids = pc.binary_join_element_wise(id_prefix("messages", src.sha256, parser.name), m.locators, "")
    kind = pa.DictionaryArray.from_arrays(pa.array(m.codes), pa.array(KINDS)).cast(pa.string())
    return Batch(
        "messages",
        pa.table(
            {
                "id": m.ids,
                "platform": pa.repeat("whatsapp", n),
                "chat_id": pa.repeat(f"whatsapp:{ctx.chat}", n),
                "chat_name": pa.repeat(ctx.chat, n),
                "source_id": pa.nulls(n, pa.string()),
                "ts": m.ts,
                "sender_id": m.sender_id,
                "sender_name": m.sender_name,
                "recipient_id": pa.nulls(n, pa.string()),
                "direction": pa.repeat("unknown", n),
                "kind": kind,
                "text": m.final_text,
                "media": pc.if_else(pa.array(m.has_media), m.media_name, pa.nulls(n, pa.string())),
                "media_sha256": pa.array(m.media_sha, pa.string()),
                "edited": pa.array(m.edited),
                "reply_to": pa.nulls(n, pa.string()),
                "extra": pa.array(m.extras, pa.string()),
                **_prov_columns(parser, src, m.locators),
            }
        ),
    )


def _identifiers(parser, ctx: Context, m: _Rows) -> Iterator[Record | Batch]:
    """Senders written as numbers (one column batch), and identifiers mentioned in the text."""
    src = ctx.src
    rows = np.flatnonzero(np_mask(m.sender_id.is_valid()))
    if len(rows):
        take = pa.array(rows, pa.int64())
        values, locs = m.sender_id.take(take), m.locators.take(take)
        yield Batch(
            "identifiers",
            pa.table(
                {
                    "id": pc.binary_join_element_wise(
                        id_prefix("identifiers", src.sha256, parser.name), locs, "#phone:", values, ":sender", ""
                    ),
                    "kind": pa.repeat("phone", len(rows)),
                    "value": values,
                    "role": pa.repeat("sender", len(rows)),
                    "record_id": m.ids.take(take),
                    "platform": pa.repeat("whatsapp", len(rows)),
                    "context": pa.nulls(len(rows), pa.string()),
                    **_prov_columns(parser, src, locs),
                }
            ),
        )
    found = m.found
    if not found.rows:
        return
    take = pa.array(found.rows, pa.int64())
    locs = m.locators.take(take)
    kinds, values = pa.array(found.kinds, pa.string()), pa.array(found.values, pa.string())
    yield Batch(
        "identifiers",
        pa.table(
            {
                "id": pc.binary_join_element_wise(
                    id_prefix("identifiers", src.sha256, parser.name), locs, "#", kinds, ":", values, ":mentioned", ""
                ),
                "kind": kinds,
                "value": values,
                "role": pa.repeat("mentioned", len(take)),
                "record_id": m.ids.take(take),
                "platform": pa.repeat("whatsapp", len(take)),
                "context": pa.array([t[max(0, a - 40) : b + 40] for t, (a, b) in zip(found.texts, found.spans, strict=True)], pa.string()),
                **_prov_columns(parser, src, locs),
            }
        ),
    )
