"""vCard 2.1, 3.0 and 4.0 (.vcf), as phones export their address books.

Streams line by line so each contact keeps its line span as locator. Handles folded lines
(RFC 6350 §3.2), 2.1 quoted-printable values with soft line breaks and CHARSET, value escapes,
grouped properties (item1.TEL) and `tel:` URIs. vobject parses vCards well but gives no line
numbers, which the locator needs; the grammar is small enough to read here.
"""

from __future__ import annotations

import quopri
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..model import Contact, Record
from . import register
from .base import Parser, Probe, Source, text_lines

_PROP = re.compile(r"^(?:[A-Za-z0-9-]+\.)?(?P<name>[A-Za-z0-9-]+)(?P<params>(?:;[^:]*)?):(?P<value>.*)$", re.DOTALL)
_ESCAPES = re.compile(r"\\([\\,;nN])")
# BEGIN/END may carry a property group like any content line (RFC 6350 §3.3: `home.begin:vcard`)
_DELIMITER = re.compile(r"^(?:[A-Za-z0-9-]+\.)?(?P<which>BEGIN|END)[ \t]*:[ \t]*VCARD[ \t]*$", re.I)


@dataclass
class _Card:
    first: int
    props: list[tuple[str, dict[str, list[str]], str, int]] = field(default_factory=list)


def _params(raw: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for p in filter(None, raw.split(";")):
        k, eq, v = p.partition("=")
        if not eq:  # vCard 2.1 bare parameters: TEL;CELL;QUOTED-PRINTABLE
            k, v = ("ENCODING", p) if p.upper() in ("QUOTED-PRINTABLE", "BASE64", "B", "8BIT") else ("TYPE", p)
        out.setdefault(k.upper(), []).extend(x.strip('"') for x in v.split(","))
    return out


def _value(params: dict[str, list[str]], value: str) -> str:
    enc = (params.get("ENCODING") or [""])[0].upper()
    if enc == "QUOTED-PRINTABLE":
        charset = (params.get("CHARSET") or ["utf-8"])[0]
        try:
            return quopri.decodestring(value.encode("latin-1", errors="replace")).decode(charset, errors="replace")
        except LookupError:
            return quopri.decodestring(value.encode("latin-1", errors="replace")).decode("utf-8", errors="replace")
    return _ESCAPES.sub(lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


@register
class VCard(Parser):
    name = "vcard"
    version = "1.0"
    reads = "vCard 2.1 / 3.0 / 4.0"
    references = ("RFC 2426 (vCard 3.0)", "RFC 6350 (vCard 4.0)", "IMC vCard 2.1 specification")
    locators = "`line:10-20`"
    fixtures = ("vcard/contacts.vcf",)
    description = "vCard 2.1 / 3.0 / 4.0 contacts (.vcf)"

    def sniff(self, probe: Probe) -> float:
        first = probe.text.lstrip("\ufeff \t\r\n").split("\n", 1)[0].strip()
        m = _DELIMITER.match(first)
        return 0.95 if m and m.group("which").upper() == "BEGIN" else 0.0

    def parse(self, src: Source) -> Iterator[Record]:
        card: _Card | None = None
        logical: tuple[int, str] | None = None  # (first line, text) of the property being unfolded
        with open(src.path, "rb") as f:
            for n, line, note in text_lines(f):
                if note:
                    yield self.issue(src, f"line:{n}", note, line[:200], severity="warning")
                if logical and line[:1] in (" ", "\t"):  # folded continuation
                    logical = (logical[0], logical[1] + line[1:])
                    continue
                if logical and logical[1].endswith("=") and "QUOTED-PRINTABLE" in logical[1].split(":", 1)[0].upper():
                    logical = (logical[0], logical[1][:-1] + line)  # quoted-printable soft line break
                    continue
                if logical:
                    card = yield from self._line(src, card, *logical)
                logical = (n, line) if line.strip() else None
            if logical:
                card = yield from self._line(src, card, *logical)
        if card is not None:
            yield self.issue(src, f"line:{card.first}", "vCard has no END:VCARD (file truncated?); contact kept")
            yield from self._card(src, card, card.props[-1][3] if card.props else card.first)

    def _line(self, src: Source, card: _Card | None, n: int, text: str):
        delimiter = _DELIMITER.match(text.strip())
        which = delimiter.group("which").upper() if delimiter else None
        if which == "BEGIN":
            if card is not None:
                yield self.issue(src, f"line:{card.first}", "vCard not closed before the next BEGIN:VCARD; contact kept")
                yield from self._card(src, card, n - 1)
            return _Card(n)
        if which == "END":
            if card is None:
                yield self.issue(src, f"line:{n}", "END:VCARD without BEGIN:VCARD", text)
                return None
            yield from self._card(src, card, n)
            return None
        m = _PROP.match(text)
        if card is None or m is None:
            yield self.issue(src, f"line:{n}", "line outside a vCard" if card is None else "not a vCard property line", text)
            return card
        params = _params(m.group("params"))
        card.props.append((m.group("name").upper(), params, _value(params, m.group("value")), n))
        return card

    def _card(self, src: Source, card: _Card, last: int) -> Iterator[Record]:
        """One contact; a card that cannot be made into one is an issue at its lines, and the file goes on."""
        yield from self.each(src, [card], lambda c: self._contact(src, c, last), lambda c: f"line:{c.first}-{last}")

    def _contact(self, src: Source, card: _Card, last: int) -> Iterator[Record]:
        def get(key: str) -> list[str]:
            return [v for k, _, v, _ in card.props if k == key]

        phones = [re.sub(r"^tel:", "", v, flags=re.I) for v in get("TEL") if v.strip()]
        n_parts = (get("N") or [""])[0].split(";")
        name = (get("FN") or [""])[0].strip() or " ".join(p for p in (n_parts[1:2] + n_parts[:1]) if p).strip() or None
        extra = {k.lower(): v for k in ("NICKNAME", "BDAY", "ADR", "URL", "X-ANDROID-CUSTOM", "IMPP", "X-SOCIALPROFILE") if (v := get(k))}
        version = get("VERSION")
        if version:
            extra["version"] = version[0]
        tel_types = {v: ",".join(p.get("TYPE", [])) for k, p, v, _ in card.props if k == "TEL" and p.get("TYPE")}
        if tel_types:
            extra["tel_types"] = tel_types
        c = Contact(
            prov=self.prov(src, f"line:{card.first}-{last}"),
            source="vcard",
            name=name,
            phones=phones,
            emails=[e.strip() for e in get("EMAIL") if e.strip()],
            usernames=[v for v in get("X-SOCIALPROFILE") + get("IMPP") if v],
            organisation=(get("ORG") or [None])[0],
            note=(get("NOTE") or [None])[0],
            extra=extra,
        )
        yield c
        for p in phones:
            yield from self.party(c, p, "contact", "phone")
        for e in c.emails:
            yield from self.party(c, e, "contact", None, kind="email")
