"""Cellebrite UFDR: a zip holding report.xml (Physical Analyzer / Reader report) and the files.

report.xml is streamed with defusedxml. Under <decodedData>, each <modelType type=…> holds
<model> elements of <field name><value/></field>, <modelField> (one sub-model) and
<multiModelField> (a list). Chats hold their messages in multiModelField "Messages"; each
message is handled and freed as soon as it is read, so large chats stream. The deleted_state
of every model is kept: recovered deleted items are often the evidence that matters.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException

from ..archive import ArchiveError, SafeArchive
from ..model import Call, Contact, Location, Message, Record
from . import register
from .base import Parser, Probe, Source, iso_time
from .locations import degrees
from .whatsapp_db import jid_kind

MAX_DEPTH = 64  # report.xml nests models a dozen levels deep; past this nothing is read (bounded memory)
ENTRY_KINDS = {"PhoneNumber": "phone", "EmailAddress": "email", "UserID": "username", "ProfilePicture": None, "WebAddress": None}


def _tag(el: Element) -> str:
    return el.tag.rpartition("}")[2]


def model_dict(el: Element) -> dict[str, Any]:
    """A <model> as a dict: fields → value (or list), modelField → dict, multiModelField → list of dicts."""
    out: dict[str, Any] = {"_type": el.get("type"), "_id": el.get("id"), "_deleted": el.get("deleted_state")}
    for child in el:
        t, name = _tag(child), child.get("name")
        if t == "field":
            values = [_value(v) for v in child if _tag(v) == "value"]
            out[name] = values[0] if len(values) == 1 else values or None
        elif t == "modelField":
            sub = [m for m in child if _tag(m) == "model"]
            out[name] = model_dict(sub[0]) if sub else None
        elif t == "multiModelField":
            out[name] = [model_dict(m) for m in child if _tag(m) == "model"]
    return out


def _value(v: Element) -> str | None:
    """A value's text. Physical Analyzer writes some TimeStamps as a wall clock without offset and puts the
    offset in `formattedTimestamp` ("2020-12-16T11:53:14.000" / "2020-12-16T11:53:14+01:00"): use that one."""
    text = v.text
    formatted = v.get("formattedTimestamp")
    if formatted and text and v.get("type") == "TimeStamp" and not re.search(r"(?:Z|[+-]\d{2}:?\d{2})$", text):
        return formatted
    return text


def _seconds(span: str | None) -> int | None:
    """'00:03:05' or '1.02:03:04' (TimeSpan) to seconds."""
    if not span:
        return None
    days, _, hms = span.rpartition(".") if span.count(":") == 2 and "." in span.split(":")[0] else ("", "", span)
    try:
        h, m, s = (float(x) for x in hms.split(":"))
    except ValueError:
        return None
    return int((int(days or 0) * 24 + h) * 3600 + m * 60 + s)


def _party(p: dict | None) -> tuple[str | None, str | None]:
    return (p.get("Identifier"), p.get("Name")) if p else (None, None)


@register
class UFDR(Parser):
    name = "cellebrite-ufdr"
    version = "1.1"  # 1.1: Location models, formattedTimestamp offsets
    reads = "Cellebrite UFDR (`report.xml` in the zip): chats, messages, contacts, calls, SMS, user accounts, locations, with deleted state"
    locators = "`zip:report.xml#xml:/project/decodedData/modelType[Chat]/model[1]/…`"
    description = "Cellebrite UFDR report (report.xml in the zip): chats, messages, contacts, calls, SMS, user accounts"

    def sniff(self, probe: Probe) -> float:
        return 0.97 if "report.xml" in probe.members else 0.0

    def parse(self, src: Source) -> Iterator[Record]:
        try:
            with SafeArchive(src.path, src.name) as arc:
                yield from self.archive_notes(src, arc)
                reports = [m.name for m in arc.members() if m.path == "report.xml"]
                if not reports:
                    yield self.issue(src, "zip:", f"{src.name}: no report.xml in the archive")
                for member in reports:  # every copy, when the name occurs more than once
                    try:
                        with arc.open(member) as f:
                            yield from self._stream(src, f, f"zip:{member}#")
                    except ArchiveError as e:
                        yield self.issue(src, f"zip:{member}", str(e))
        except ArchiveError as e:
            yield self.issue(src, "zip:", str(e))

    def _stream(self, src: Source, f, prefix: str = "zip:report.xml#") -> Iterator[Record]:
        stack: list[Element] = []
        counts: dict[tuple, int] = {}
        paths: list[str] = []
        too_deep = ""  # the path at which nesting passed MAX_DEPTH (reported once per model)
        try:
            for event, el in DET.iterparse(f, events=("start", "end"), forbid_dtd=True):
                if event == "start":
                    parent_path = paths[-1] if paths else ""
                    if len(paths) >= MAX_DEPTH:  # paths stop growing: memory stays linear in the depth
                        too_deep = too_deep or parent_path
                        paths.append(parent_path)
                        stack.append(el)
                        continue
                    t = _tag(el)
                    key = (parent_path, t, el.get("type") if t == "modelType" else el.get("name") if t == "multiModelField" else "")
                    counts[key] = counts.get(key, 0) + 1
                    label = {"modelType": f"modelType[{el.get('type')}]", "multiModelField": f"multiModelField[{el.get('name')}]"}.get(
                        t, f"{t}[{counts[key]}]" if t == "model" else t
                    )
                    paths.append(f"{parent_path}/{label}")
                    stack.append(el)
                    continue
                path = paths.pop()
                stack.pop()
                if len(stack) >= MAX_DEPTH:
                    el.clear()  # below the depth bound nothing is read: drop it at once
                    continue
                if too_deep and len(stack) < MAX_DEPTH and _tag(el) == "model":
                    yield self.issue(
                        src,
                        f"{prefix}xml:{path}",
                        f"elements nest deeper than {MAX_DEPTH} levels under {too_deep}; what lies below that depth was not read",
                        severity="warning",
                    )
                    too_deep = ""
                if _tag(el) != "model" or len(stack) < 2:
                    continue
                parent, grand = stack[-1], stack[-2]
                loc = f"{prefix}xml:{path}"
                if _tag(parent) == "multiModelField" and parent.get("name") == "Messages" and grand.get("type") == "Chat":
                    ctx = self._chat_context(grand)
                    yield from self.each(src, [el], lambda e, loc=loc: self._message(src, loc, model_dict(e), ctx), lambda _, loc=loc: loc)  # noqa: B023
                    parent.remove(el)  # free each message as it is read
                elif _tag(parent) == "modelType":
                    yield from self.each(src, [el], lambda e, loc=loc: self._top(src, loc, e), lambda _, loc=loc: loc)
                    parent.remove(el)
        except (DefusedXmlException, ParseError) as e:
            yield self.xml_failure(src, e, prefix)

    @staticmethod
    def _chat_context(chat: Element) -> dict[str, Any]:
        ctx: dict[str, Any] = {}
        for child in chat:
            if _tag(child) == "field":
                ctx[child.get("name")] = next((v.text for v in child if _tag(v) == "value"), None)
            elif _tag(child) == "multiModelField" and child.get("name") == "Participants":
                ctx["Participants"] = [model_dict(m) for m in child if _tag(m) == "model"]
        return ctx

    def _top(self, src: Source, loc: str, el: Element) -> Iterator[Record]:
        kind = el.get("type")
        if kind == "Chat":
            return  # its messages were handled as they streamed past
        m = model_dict(el)
        if kind in ("InstantMessage", "SMS", "MMS", "Email"):
            yield from self._message(src, loc, m, {})
        elif kind == "Call":
            yield from self._call(src, loc, m)
        elif kind in ("Contact", "UserAccount"):
            yield from self._contact(src, loc, m)
        elif kind == "Location":
            yield from self._location(src, loc, m)
        else:
            yield self.issue(src, loc, f"model type {kind} is not read by this parser", severity="info")

    def _message(self, src: Source, loc: str, m: dict, chat: dict) -> Iterator[Record]:
        frm = m.get("From")
        parties = m.get("Parties") or []
        if frm is None:  # SMS keep their parties in a list with roles
            frm = next((p for p in parties if p.get("Role") == "From"), None)
        to = m.get("To") or [p for p in parties if p.get("Role") == "To"]
        sender_id, sender_name = _party(frm)
        owner_sent = bool(frm and str(frm.get("IsPhoneOwner")).lower() == "true") or (m.get("Folder") in ("Sent", "Outbox"))
        attachments = [a.get("Filename") for a in m.get("Attachments") or [] if a.get("Filename")] + (
            [m["Attachment"].get("Filename")] if isinstance(m.get("Attachment"), dict) and m["Attachment"].get("Filename") else []
        )
        platform = (m.get("Source") or chat.get("Source") or m["_type"]).lower()
        extra = {
            k: v
            for k, v in (
                ("deleted_state", m["_deleted"] if m["_deleted"] not in (None, "Intact") else None),
                ("status", m.get("Status")),
                ("folder", m.get("Folder")),
                ("participants", [_party(p) for p in chat.get("Participants", [])] if loc.endswith("/model[1]") else None),
                ("attachments", attachments if len(attachments) > 1 else None),
            )
            if v
        }
        msg = Message(
            prov=self.prov(src, loc),
            platform=platform,
            chat_id=f"{platform}:{chat.get('Id') or chat.get('Name')}" if chat else None,
            chat_name=chat.get("Name"),
            source_id=m.get("_id"),
            ts=iso_time(m.get("TimeStamp") or m.get("DateSent") or m.get("DateRead")),
            sender_id=sender_id,
            sender_name=sender_name,
            recipient_id=_party(to[0])[0] if to else None,
            direction="outgoing" if owner_sent else "incoming" if frm else "unknown",
            kind="deleted" if m["_deleted"] == "Deleted" and not m.get("Body") else "media" if attachments else "text",
            text=m.get("Body") or m.get("Subject"),
            media=attachments[0] if attachments else None,
            extra=extra,
        )
        yield msg
        kind = "phone" if platform in ("sms", "mms", "native messages") else None
        for ident, role in [(sender_id, "sender")] + [(_party(p)[0], "recipient") for p in to]:
            if ident:
                yield from self.party(msg, ident, role, platform, kind=kind or _ident_kind(ident))
        yield from self.mentioned(msg, msg.text, platform)

    def _call(self, src: Source, loc: str, m: dict) -> Iterator[Record]:
        parties = m.get("Parties") or []
        other = next((p for p in parties if str(p.get("IsPhoneOwner")).lower() != "true"), parties[0] if parties else None)
        number, name = _party(other)
        direction = (m.get("Type") or m.get("Direction") or "unknown").lower()
        call = Call(
            prov=self.prov(src, loc),
            platform=(m.get("Source") or "phone").lower(),
            ts=iso_time(m.get("TimeStamp")),
            number=number,
            name=name,
            direction=direction,
            duration_s=_seconds(m.get("Duration")),
            extra={"deleted_state": m["_deleted"]} if m["_deleted"] not in (None, "Intact") else {},
        )
        yield call
        if number:
            yield from self.party(call, number, "counterpart", call.platform, kind=_ident_kind(number))

    def _location(self, src: Source, loc: str, m: dict) -> Iterator[Record]:
        """A Location model: its point is the Coordinate in modelField Position (Latitude, Longitude, Elevation)."""
        pos = m.get("Position") if isinstance(m.get("Position"), dict) else {}
        d = degrees(pos.get("Latitude"), pos.get("Longitude"))
        if d is None:
            yield self.issue(src, loc, "Location model without valid coordinates", repr(pos)[:500], severity="warning")
            return
        street = m.get("Address") if isinstance(m.get("Address"), dict) else {}
        address = (
            m.get("PositionAddress")
            or pos.get("PositionAddress")
            or ", ".join(str(v) for k, v in street.items() if not k.startswith("_") and isinstance(v, str) and v)
            or None
        )
        try:
            accuracy = float(m["Precision"]) if m.get("Precision") else None
        except (TypeError, ValueError):
            accuracy = None
        extra = {
            k.lower(): m[k]
            for k in ("Category", "Type", "Origin", "Description", "Confidence", "Precision", "Source", "_id")
            if isinstance(m.get(k), str) and m.get(k)
        }
        if pos.get("Elevation"):
            extra["elevation"] = pos["Elevation"]
        if pos.get("Comment"):
            extra["comment"] = pos["Comment"]
        if m["_deleted"] not in (None, "Intact"):
            extra["deleted_state"] = m["_deleted"]
        yield Location(
            prov=self.prov(src, loc),
            platform=(m.get("Source") or "ufdr").lower(),
            source_kind="ufdr",
            latitude=d[0],
            longitude=d[1],
            ts=iso_time(m.get("TimeStamp")),
            who=m.get("Account") or None,
            accuracy_m=accuracy,
            label=m.get("Name") or None,
            address=address,
            extra=extra,
        )

    def _contact(self, src: Source, loc: str, m: dict) -> Iterator[Record]:
        entries = m.get("Entries") or []

        def by(kind: str) -> list[str]:
            return [e.get("Value") for e in entries if ENTRY_KINDS.get(e["_type"]) == kind and e.get("Value")]

        usernames = by("username") + ([m["Username"]] if m.get("Username") else [])
        extra = {"model": m["_type"]}
        if m["_deleted"] not in (None, "Intact"):
            extra["deleted_state"] = m["_deleted"]
        c = Contact(
            prov=self.prov(src, loc),
            source=(m.get("Source") or "ufdr").lower(),
            name=m.get("Name"),
            phones=by("phone"),
            emails=by("email"),
            usernames=usernames,
            note=m.get("Notes"),
            extra=extra,
        )
        yield c
        role = "holder" if m["_type"] == "UserAccount" else "contact"
        for p in c.phones:
            yield from self.party(c, p, role, c.source)
        for e in c.emails:
            yield from self.party(c, e, role, c.source, kind="email")
        for u in usernames:
            yield from self.party(c, u, role, c.source, kind=_ident_kind(u))


def _ident_kind(value: str) -> str:
    """What an identifier in a report is: a WhatsApp JID or LID, an email, a phone number or a username."""
    if "@" in value:
        return jid_kind(value) or "email"
    digits = value.lstrip("+").replace(" ", "").replace("-", "")
    return "phone" if digits.isdigit() and len(digits) >= 7 else "username"
