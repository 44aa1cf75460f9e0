"""SMS Backup & Restore XML (Android): <smses> with <sms> and <mms>, and <calls> with <call>.

Parsed as a stream with defusedxml (no DTDs, no entity expansion, no external resources), one
element at a time. The app writes emoji as two numeric references to UTF-16 surrogates
(&#55357;&#56832;), which XML forbids; they are rejoined on the fly so those messages are not lost.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException

from ..errors import CaseGraphError
from ..model import Call, Message, Record
from . import ciphertext, register
from .base import Parser, Probe, Source
from .telephony import CALL_TYPE, HIDDEN_NUMBERS, MMS_FROM, MMS_TO, SMS_BOX, SMS_DIRECTION

_SURROGATES = re.compile(rb"&#(5[5-6]\d{3});&#(5[6-7]\d{3});")


class SurrogateFix:
    """A read-only stream that rewrites surrogate-pair character references into one code point."""

    def __init__(self, raw):
        self.raw, self.tail = raw, b""

    def read(self, n: int = -1) -> bytes:
        while True:  # b"" means end of file to the XML parser: never return it while bytes are held back
            chunk = self.raw.read(n if n and n > 0 else 1 << 16)
            data, self.tail = self.tail + chunk, b""
            if chunk:  # a pair of references (16 bytes at most) may straddle the boundary: hold back from its first '&'
                cut = data.find(b"&", max(0, len(data) - 40))
                if cut != -1:
                    data, self.tail = data[:cut], data[cut:]
            if data or not chunk:
                return _SURROGATES.sub(_join, data)


def _join(m: re.Match) -> bytes:
    hi, lo = int(m.group(1)), int(m.group(2))
    if not (0xD800 <= hi <= 0xDBFF and 0xDC00 <= lo <= 0xDFFF):
        return m.group(0)
    return f"&#{0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)};".encode()


MAX_DEPTH = 32  # a record is <sms>/<mms>/<call> with parts and addrs: a few levels. Deeper is not this format.


class _BadTime(CaseGraphError, ValueError):
    code = 1  # an operation or check that failed


def _ms(value: str | None) -> datetime | None:
    if not value or not value.lstrip("-").isdigit() or len(value) > 20:
        if value and len(value) > 20 and value.lstrip("-").isdigit():
            raise _BadTime(f"date {value[:40]!r} is out of range")
        return None
    try:
        return datetime.fromtimestamp(int(value) / 1000, UTC)
    except (OverflowError, OSError, ValueError) as e:
        raise _BadTime(f"date {value!r} is out of range ({e})") from e


def _ts(value: str | None, bad: list[str]) -> datetime | None:
    """A time, or None with the reason added to `bad` (the record is kept without it)."""
    try:
        return _ms(value)
    except _BadTime as e:
        bad.append(str(e))
        return None


def _name(a: dict) -> str | None:
    n = a.get("contact_name")
    return None if not n or n == "(Unknown)" else n


@register
class SMSBackupXML(Parser):
    name = "sms-backup-xml"
    version = "1.1"  # 1.1: ciphertext bodies flagged
    reads = "SMS Backup & Restore XML (sms, mms, calls); bodies that are clearly ciphertext (app-encrypted base64, PGP/OTR armour) are kind `encrypted`, the body in `extra.ciphertext`, with a warning (also in `android-mmssms` and `ios-sms-db`)"  # noqa: E501
    locators = "`xml:/smses/sms[3]`"
    fixtures = ("sms/sms-20240420.xml", "sms/calls-20240420.xml")
    description = "SMS Backup & Restore XML (sms, mms, calls)"

    def sniff(self, probe: Probe) -> float:
        t = probe.text[:4096]
        return 0.95 if re.search(r"<(smses|calls)\b[^>]*\bcount=", t) else 0.0

    def parse(self, src: Source) -> Iterator[Record]:
        counters: dict[str, int] = {}
        depth = 0
        too_deep = False  # the current record nests past MAX_DEPTH: what lies below is dropped, once reported
        root: Element | None = None
        handlers = {"sms": self._sms, "mms": self._mms, "call": self._call}
        with open(src.path, "rb") as f:
            try:
                for event, el in DET.iterparse(SurrogateFix(f), events=("start", "end"), forbid_dtd=True):
                    if event == "start":
                        depth += 1
                        if depth == 1:
                            root = el
                        elif depth > MAX_DEPTH:
                            too_deep = True
                        continue
                    depth -= 1
                    if depth >= MAX_DEPTH:
                        el.clear()  # bounded memory however deep the nesting goes
                    if depth != 1:
                        continue
                    counters[el.tag] = counters.get(el.tag, 0) + 1
                    loc = f"xml:/{root.tag}/{el.tag}[{counters[el.tag]}]"
                    if too_deep:
                        yield self.issue(
                            src,
                            loc,
                            f"<{el.tag}> nests elements deeper than {MAX_DEPTH} levels; what lies below that depth was not read",
                            severity="warning",
                        )
                        too_deep = False
                    handler = handlers.get(el.tag)
                    if handler is None:
                        yield self.issue(
                            src, loc, f"unknown element <{el.tag}>", f"<{el.tag} {dict(el.attrib)!r}>"[:500], severity="warning"
                        )
                    else:
                        yield from self.each(src, [el], lambda e, loc=loc, h=handler: h(src, loc, e), lambda _, loc=loc: loc)
                    root.clear()  # constant memory: drop what has been read
            except (DefusedXmlException, ParseError) as e:
                yield self.xml_failure(src, e)

    def _sms(self, src: Source, loc: str, el: Element) -> Iterator[Record]:
        a = el.attrib
        bad: list[str] = []
        direction = SMS_DIRECTION.get(a.get("type", ""), "unknown")
        addr = a.get("address") or None
        msg = Message(
            prov=self.prov(src, loc),
            platform="sms",
            chat_id=f"sms:{addr}",
            chat_name=_name(a),
            ts=_ts(a.get("date"), bad),
            sender_id=addr if direction == "incoming" else None,
            recipient_id=addr if direction == "outgoing" else None,
            sender_name=_name(a) if direction == "incoming" else None,
            direction=direction,
            text=a.get("body"),
            extra={
                k: v
                for k, v in (
                    ("box", SMS_BOX.get(a.get("type", ""))),
                    ("subject", a.get("subject")),
                    ("service_center", a.get("service_center")),
                    ("date_sent", str(_ts(a.get("date_sent"), bad)) if a.get("date_sent") not in (None, "0") else None),
                    ("read", a.get("read")),
                )
                if v not in (None, "null")
            },
        )
        yield from ciphertext.sealed(self, src, msg)
        yield from self._bad(src, loc, bad)
        yield from self.party(msg, addr, "sender" if direction == "incoming" else "recipient", "sms")
        yield from self.mentioned(msg, msg.text, "sms")

    def _mms(self, src: Source, loc: str, el: Element) -> Iterator[Record]:
        a = el.attrib
        direction = {"1": "incoming", "2": "outgoing"}.get(a.get("msg_box", ""), "unknown")
        addrs = [(x.get("address"), x.get("type")) for x in el.iter("addr")]
        sender = next((ad for ad, t in addrs if t == MMS_FROM), None)
        to = [ad for ad, t in addrs if t == MMS_TO]
        texts, media, extra = [], [], {}
        for i, part in enumerate(el.iter("part")):
            ct = part.get("ct", "")
            if ct == "text/plain":
                texts.append(part.get("text") or "")
            elif ct != "application/smil":
                data = part.get("data")
                item = {"ct": ct, "name": part.get("cl") or part.get("name"), "part": i + 1}
                if data:
                    try:
                        item["sha256"] = hashlib.sha256(base64.b64decode(data, validate=False)).hexdigest()
                    except (binascii.Error, ValueError):
                        item["error"] = "data is not valid base64"
                media.append(item)
        if media:
            extra["media"] = media
        if len(to) > 1:
            extra["to"] = to
        bad: list[str] = []
        ts = _ts(a.get("date"), bad)
        if ts is not None and ts.year < 2000:  # some phones store MMS dates in seconds
            ts = _ts(a["date"] + "000", bad)
        msg = Message(
            prov=self.prov(src, loc),
            platform="mms",
            chat_id=f"sms:{a.get('address')}",
            chat_name=_name(a),
            ts=ts,
            sender_id=sender,
            recipient_id=to[0] if to else None,
            direction=direction,
            kind="media" if media else "text",
            text="\n".join(texts) or None,
            media=media[0]["name"] if media else None,
            media_sha256=media[0].get("sha256") if media else None,
            extra=extra,
        )
        yield from ciphertext.sealed(self, src, msg)
        yield from self._bad(src, loc, bad)
        yield from self.party(msg, sender, "sender", "sms")
        for t in to:
            yield from self.party(msg, t, "recipient", "sms")
        yield from self.mentioned(msg, msg.text, "sms")

    def _call(self, src: Source, loc: str, el: Element) -> Iterator[Record]:
        a = el.attrib
        bad: list[str] = []
        number = a.get("number") or None
        extra = {"presentation": a["presentation"]} if a.get("presentation") not in (None, "1") else {}
        if number in HIDDEN_NUMBERS:
            extra["number_withheld"], number = HIDDEN_NUMBERS[number], None
        call = Call(
            prov=self.prov(src, loc),
            platform="phone",
            ts=_ts(a.get("date"), bad),
            number=number,
            name=_name(a),
            direction=CALL_TYPE.get(a.get("type", ""), "unknown"),
            duration_s=int(a["duration"]) if a.get("duration", "").isdigit() else None,
            extra=extra,
        )
        yield call
        yield from self._bad(src, loc, bad)
        yield from self.party(call, call.number, "counterpart", "phone")

    def _bad(self, src: Source, loc: str, bad: list[str]) -> Iterator[Record]:
        for reason in bad:
            yield self.issue(src, loc, f"{reason}; the record is kept without that time", severity="warning")
