"""The header grammar of a WhatsApp export line, and cutting header lines into their parts.

Header forms (all in one pattern, run as a DFA): `12/03/2024, 14:23 - `, `3/12/24, 2:23 PM - `
(U+202F or a no-break space before the marker), `03.08.21, 12:30 - `, `20/6/2017 8:28 p. m. - `,
`00:08 a. m.`, `12/07/2017 à 22:35 - `, `30/08/25 18.00 - `, `2019/01/30, 20:49 - `, `18-06-13 21:25 - `,
`[31/12/2022, 11:40:26] `, `[1/15/24, 10:30:45 AM] `, `[12.3.2022 klo 14.08.18] `,
`[06/2018/13, 21:25:15] ` (year in the middle), `13.06.18 21.25.15: ` (dotted time then a colon),
`13. 6. 2018. 21:25:15 ` (dates ending in a dot, no separator), and Sinhala/Tamil day-half markers.
Patterns work in Python's re and in RE2 (pyarrow): no look-behind, no conditionals.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

MARKS = "\u200e\u200f\u202a\u202c\u2068\u2069"
_S = "[ \u00a0\u202f]"  # the spaces WhatsApp puts between date, time and marker
_AM = ("am", "a.m.", "a. m.", "a.m", "vorm.", "පෙ.ව.", "முற்பகல்", "午前", "ص")
_PM = ("pm", "p.m.", "p. m.", "p.m", "nachm.", "ප.ව.", "பிற்பகல்", "午後", "م")
_AMPM = "|".join(re.escape(t).replace(r"\ ", _S) for t in sorted(_AM + _PM, key=len, reverse=True))
PM_TOKENS = sorted({t.replace(" ", "").lower() for t in _PM})  # a list: an Arrow array built at import imports pandas
_DATE = r"\d{1,4}[./-] ?\d{1,4}[./-] ?\d{1,4}\.?"
_DOT_DATE = r"\d{1,2}\. ?\d{1,2}\. ?\d{2,4}\."  # 13. 6. 2018.
_TIME = r"\d{1,2}[:.]\d{2}(?:[:.]\d{2})?"
_DOT_TIME = r"\d{1,2}\.\d{2}(?:\.\d{2})?"
_MID = r"\.?,?" + _S + "?(?:à" + _S + "|klo" + _S + ")?"
_MARKER = "(?:" + _S + "?(?:" + _AMPM + "))?"
_LEAD = "^[\u200e\u200f]?"
_IOS = _LEAD + "\\[" + _DATE + _MID + _TIME + _MARKER + "\\]"
_ANDROID = _LEAD + _DATE + _MID + _TIME + _MARKER + _S + "[-–]" + _S
# Rarer forms whose end is not a bracket or a dash: cut with a capturing pattern, on their rows only.
_COLON = _LEAD + "(?P<h1>" + _DATE + _MID + _DOT_TIME + "):" + _S
_BARE = _LEAD + "(?P<h2>" + _DOT_DATE + _S + _TIME + _MARKER + ")" + _S
OTHER = "(?i)(?:" + _COLON + ")|(?:" + _BARE + ")"
HEADER_PATTERN = "(?i)(?:" + _IOS + ")|(?:" + _ANDROID + ")|(?:" + _COLON + ")|(?:" + _BARE + ")"
HEADER = re.compile(HEADER_PATTERN)
HEADER_END = "\\]" + _S + "?|" + _S + "[-–]" + _S  # the first one ends a standard header
_OTHER_SPLIT = "(?i)^(?:" + _COLON + "|" + _BARE + ")(?P<body>.*)$"
# On the header's head, already validated; anchored, and the date's final dot left out (both much faster in RE2)
HEAD_PARTS = "^\\D*(?P<date>\\d{1,4}[./-] ?\\d{1,4}[./-] ?\\d{1,4})\\D+(?P<time>" + _TIME + ")"
HEAD_MARKER = "(?i)(?:" + _AMPM + ")$"  # 12-hour heads end with a day-half marker
HEAD_AMPM = "(?i)(?P<ampm>" + _AMPM + ")$"
QUOTES = '["“”„«»「」]'  # a quoted "name" is a system line: X changed the subject to "a: b"
_QUOTES = re.compile(QUOTES)


def is_header(line: str) -> bool:
    return HEADER.match(line) is not None


def np_mask(a) -> np.ndarray:
    return pc.fill_null(a, False).to_numpy(zero_copy_only=False)


def where(mask: np.ndarray, arr: pa.Array, fn, type_: pa.DataType = pa.string()) -> pa.Array:  # noqa: B008
    """fn applied to the rows under mask only (for costly kernels on rare rows); null elsewhere."""
    rows = np.flatnonzero(mask)
    if not len(rows):
        return pa.nulls(len(arr), type_)
    sub = fn(arr.take(pa.array(rows, pa.int64())))
    return pc.replace_with_mask(pa.nulls(len(arr), sub.type), pa.array(mask), sub)


def extract(t: pa.Array, pattern: str, name: str) -> pa.Array:
    parts = pc.extract_regex(t, pattern)
    return pc.if_else(parts.is_valid(), parts.field(name), pa.nulls(len(t), pa.string()))


def _second(parts: pa.Array) -> pa.Array:
    """Element 1 of each list, null where the list is shorter (list_element would raise)."""
    long_enough = pc.greater_equal(pc.list_value_length(parts), 2)
    return pc.list_element(pc.if_else(long_enough, parts, pa.nulls(len(parts), parts.type)), 1)


def headers(lines: pa.Array) -> tuple[np.ndarray, dict[str, pa.Array]]:
    """Indexes of header lines and their parts: br (bracketed iOS form), date, time, ampm, body.
    The full pattern runs once as a DFA; the parts are then cut out with simple, fast kernels."""
    idx = np.flatnonzero(np_mask(pc.match_substring_regex(lines, HEADER_PATTERN)))
    heads = lines.take(pa.array(idx, pa.int64()))
    split = pc.split_pattern_regex(heads, HEADER_END, max_splits=1)
    two = len(split) == 0 or pc.min(pc.list_value_length(split)).as_py() == 2
    head = pc.list_element(split, 0)
    body = pc.list_element(split, 1) if two else _second(split)
    # The colon and bare forms: no bracket or dash ended them (one part), or one in the text did and
    # the cut head holds the form's ': ' (a standard head, date and time only, never does).
    other = np_mask(pc.match_substring(head, ": "))
    if not two:
        other |= np_mask(pc.less(pc.list_value_length(split), 2))
    if other.any():  # the colon and bare forms: cut by their own pattern
        rows = pa.array(np.flatnonzero(other), pa.int64())
        cut = pc.extract_regex(heads.take(rows), _OTHER_SPLIT)
        mask = pa.array(other)
        head = pc.replace_with_mask(head, mask, pc.if_else(pc.equal(cut.field("h1"), ""), cut.field("h2"), cut.field("h1")))
        body = pc.replace_with_mask(body, mask, cut.field("body"))
    parts = pc.extract_regex(head, HEAD_PARTS)
    twelve_hour = np_mask(pc.match_substring_regex(head, HEAD_MARKER))
    ampm = where(twelve_hour, head, lambda t: pc.utf8_trim(pc.extract_regex(t, HEAD_AMPM).field("ampm"), _S[1:-1]))
    return idx, {
        "br": pc.match_substring(head, "["),
        "date": parts.field("date"),
        "time": parts.field("time"),
        "ampm": pc.fill_null(ampm, ""),
        "body": body,
    }


def sender_split(body: pa.Array) -> tuple[pa.Array, pa.Array]:
    """'Name: text' → (name, text); (null, body) for system lines. An author is 1-80 characters before
    the first ': ', unquoted; 'Name:' alone is an author with an empty message."""
    parts = pc.split_pattern(body, ": ", max_splits=1)
    flat, off = parts.flatten(), parts.offsets.to_numpy()[: len(parts) + 1]
    two = np.diff(off) == 2
    first = flat.take(pa.array(off[:-1], pa.int64()))  # the whole body where there is no ': '
    second = flat.take(pa.array(np.where(two, off[:-1] + 1, off[:-1]), pa.int64()))
    length = pc.utf8_length(first).to_numpy(zero_copy_only=False)
    bare = ~two & np_mask(pc.ends_with(body, ":")) & (length >= 2) & (length <= 81)
    ok = (two & (length >= 1) & (length <= 80)) | bare
    ok &= ~np_mask(pc.match_substring_regex(first, QUOTES))
    name = pc.if_else(pa.array(ok), first, pa.nulls(len(body), pa.string()))
    rest = pc.if_else(pa.array(ok & two), second, body)
    if bare.any():  # rare: 'Name:' with nothing after it
        fix = bare & ok
        name = pc.replace_with_mask(name, pa.array(fix), pc.utf8_slice_codeunits(first.filter(pa.array(fix)), 0, -1))
        rest = pc.replace_with_mask(rest, pa.array(fix), pa.repeat("", int(fix.sum())))
    return name, rest


def has_author(body: str) -> bool:
    """The scalar form of sender_split's author test (for the few lines looked at one by one)."""
    name, sep, _ = body.partition(": ")
    return bool(sep) and 1 <= len(name) <= 80 and not _QUOTES.search(name)


NOT_IN_CONTACTS = ("~ ", "~\u00a0", "~\u202f")


def clean_name(raw: str) -> tuple[str, bool, str]:
    """(name, not in contacts, name as shown). Direction marks are removed; '~' followed by a space or
    U+202F marks someone not in the exporter's contacts and only that marker is stripped: '~ ~monyi'
    is '~monyi', the name the person gave themselves."""
    shown = raw.strip().strip(MARKS).strip()
    for mark in NOT_IN_CONTACTS:
        if shown.startswith(mark):
            return shown[len(mark) :].strip(" \u00a0\u202f" + MARKS), True, shown
    return shown, False, shown
