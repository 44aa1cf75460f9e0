"""Locations: exact coordinates, and the map links people share inside message text.

Every parser that meets coordinates turns them into `Location` records with `degrees` (exact
decimals, range-checked). Text exports (WhatsApp "Export chat" writes a shared location as
`location: https://maps.google.com/?q=LAT,LON`, in the phone's language) are handled after the
messages are built: `in_text` wraps a parser's `parse` and adds one Location per map link found in
a message's text, column-wise for Batches (only rows that contain a map host are touched).

A link that is the whole message (after an optional one- or two-word label such as "location:",
"Standort:", "ubicación:") is the app's shared location; a link inside other text is only a
`map-link`: somebody wrote about a place, which says nothing about where a phone was.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ..model import Batch, Location, Message, Provenance, Record

_NUM = r"[-+]?\d{1,3}(?:\.\d{1,20})?"
_PATH = r"[^\s]{0,300}?"  # bounded: a crafted run of hosts without spaces must not make matching quadratic
_SEP = r"(?:,|%2C|%2c)\s*"
# hosts and query keys that carry "lat,lon" in the maps links apps and people share
LINK_PATTERNS = [
    re.compile(p, re.I)
    for p in (
        r"https?://(?:maps\.google\.[a-z.]{2,12}|(?:www\.)?google\.[a-z.]{2,12}/maps)"
        + _PATH
        + r"[?&](?:q|query|ll|center|daddr|destination)="
        r"(?:loc:)?(?P<lat>" + _NUM + ")" + _SEP + "(?P<lon>" + _NUM + ")",
        r"https?://(?:www\.)?google\.[a-z.]{2,12}/maps/" + _PATH + r"@(?P<lat>" + _NUM + "),(?P<lon>" + _NUM + ")",
        r"https?://maps\.apple\.com/\?" + _PATH + r"(?:ll|q|sll|coordinate)=(?P<lat>" + _NUM + ")" + _SEP + "(?P<lon>" + _NUM + ")",
        r"https?://(?:www\.)?openstreetmap\.org/" + _PATH + r"mlat=(?P<lat>" + _NUM + ")&mlon=(?P<lon>" + _NUM + ")",
        r"https?://(?:www\.)?openstreetmap\.org/" + _PATH + r"#map=\d+/(?P<lat>" + _NUM + ")/(?P<lon>" + _NUM + ")",
        r"\bgeo:(?P<lat>" + _NUM + "),(?P<lon>" + _NUM + ")",
    )
]
PREFILTER = r"(?i)maps\.google\.|google\.[a-z.]{2,12}/maps|maps\.apple\.com|openstreetmap\.org|\bgeo:-?\d"  # RE2 and re
_MARKS = "\u200e\u200f\u202a\u202c\u2068\u2069\ufeff \t\r\n"
_LABEL = re.compile(r"^[^\s:/]{1,30}(?: [^\s:/]{1,30})?:\s*$")  # "location:", "Standort:", "live location:" …


PLACES = 15


def degrees(lat: Any, lon: Any) -> tuple[Decimal, Decimal] | None:
    """Latitude and longitude as exact decimals, or None when either is missing, not a number or out of
    range. Floats (SQLite REAL) go through their shortest repr, so no binary noise is added; more than
    PLACES decimals (a crafted 5,000-digit value) are rounded to PLACES."""
    out = []
    for v, limit in ((lat, 90), (lon, 180)):
        if v is None or isinstance(v, bool):
            return None
        if isinstance(v, float):
            if not math.isfinite(v):
                return None
            v = repr(v)
        try:
            d = Decimal(str(v).strip())
        except (InvalidOperation, ValueError):
            return None
        if not d.is_finite() or abs(d) > limit:
            return None
        if d.as_tuple().exponent < -PLACES:  # beyond a femtodegree is noise, and the store keeps 18 places
            d = d.quantize(Decimal(1).scaleb(-PLACES))
        out.append(d)
    return out[0], out[1]


MAX_LINKS = 100  # per message; a message with more is not a shared location but a list (the rest are skipped)
_URL_TAIL = re.compile(r"[^\s]{0,500}")


def links(text: str | None) -> list[tuple[Decimal, Decimal, int, int]]:
    """(lat, lon, start, end) of the map links with valid coordinates in a text, in text order (at most
    MAX_LINKS; a link found by two patterns counts once)."""
    if not text:
        return []
    found: dict[int, tuple[Decimal, Decimal, int, int]] = {}
    for pattern in LINK_PATTERNS:
        for m in pattern.finditer(text):
            if len(found) >= MAX_LINKS:
                break
            if any(f[2] <= m.start() < f[3] for f in found.values()):
                continue
            d = degrees(m.group("lat"), m.group("lon"))
            if d:
                end = _URL_TAIL.match(text, m.end()).end()  # the rest of the URL (zoom, place id) belongs to the link
                found[m.start()] = (d[0], d[1], m.start(), end)
    return [found[k] for k in sorted(found)]


def kind_of(text: str, start: int, end: int) -> str:
    """shared-location when the link is the whole message after an optional short label; else map-link."""
    before, after = text[:start].strip(_MARKS), text[end:].strip(_MARKS)
    return "shared-location" if not after and (not before or _LABEL.match(before + " ")) else "map-link"


def from_text(
    prov: Provenance, record_id: str, text: str | None, *, platform: str, ts: datetime | None, who: str | None, who_name: str | None
) -> Iterator[Location]:
    """One Location per map link in a message's text; the locator adds the link's character span."""
    for lat, lon, start, end in links(text):
        yield Location(
            prov=Provenance(prov.exhibit_sha256, prov.parser, prov.parser_version, f"{prov.locator}#chars:{start}-{end}"),
            platform=platform,
            source_kind=kind_of(text, start, end),
            latitude=lat,
            longitude=lon,
            ts=ts,
            who=who,
            who_name=who_name,
            record_id=record_id,
            extra={"link": text[start:end][:500]},
        )


def _batch_locations(batch: Batch) -> Iterator[Location]:
    data = batch.data
    hit = arrow_has_links(data.column("text"))
    if not pc.any(hit).as_py():
        return
    rows = data.filter(hit)
    cols = [
        c
        for c in ("id", "platform", "ts", "sender_id", "sender_name", "text", "exhibit_sha256", "parser", "parser_version", "locator")
        if c in rows.column_names
    ]
    for r in rows.select(cols).to_pylist():
        prov = Provenance(r["exhibit_sha256"], r["parser"], r["parser_version"], r["locator"])
        rid = r.get("id") or Message(prov=prov, platform=r["platform"]).id
        yield from from_text(
            prov, rid, r["text"], platform=r["platform"], ts=r.get("ts"), who=r.get("sender_id"), who_name=r.get("sender_name")
        )


def located(records: Iterator[Record | Batch]) -> Iterator[Record | Batch]:
    """The records, each message followed by the locations written in its text."""
    for rec in records:
        yield rec
        if isinstance(rec, Batch) and rec.table == "messages" and "text" in rec.data.column_names:
            yield from _batch_locations(rec)
        elif isinstance(rec, Message) and rec.text:
            yield from from_text(rec.prov, rec.id, rec.text, platform=rec.platform, ts=rec.ts, who=rec.sender_id, who_name=rec.sender_name)


def in_text(parse: Callable[..., Iterator[Record | Batch]]) -> Callable[..., Iterator[Record | Batch]]:
    """Decorator for a parser's `parse`: adds the map links in its messages' text as Location records."""

    @functools.wraps(parse)
    def wrapper(self, src, *args, **kwargs):
        return located(parse(self, src, *args, **kwargs))

    return wrapper


def arrow_has_links(text: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Which rows of a text column may hold a map link (the cheap RE2 prefilter)."""
    return pc.fill_null(pc.match_substring_regex(text, PREFILTER), False)
