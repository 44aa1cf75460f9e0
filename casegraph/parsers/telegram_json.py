"""Telegram Desktop "Export chat history" JSON: the full result.json or a single chat.

Times: `date_unixtime` (UTC) when present; otherwise `date`, which is the exporting computer's
wall clock with no zone, kept as such. `text` may be a string or a list of strings and entity
objects; phone, email and mention entities become identifiers directly.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from ..model import Call, Contact, Identifier, Location, Message, Record
from . import register
from .base import Parser, Probe, Source
from .jsonstream import PROBLEM, walk
from .locations import degrees, in_text

_CHAT = "chats.list.item"
_LEFT = "left_chats.list.item"
TARGETS = {
    "personal_information": "owner",
    "contacts.list.item": "contact",
    **{f"{p}.{k}": f"chat.{k}" for p in (_CHAT, _LEFT) for k in ("name", "type", "id")},
    f"{_CHAT}.messages.item": "message",
    f"{_LEFT}.messages.item": "message",
    "name": "chat.name",
    "type": "chat.type",
    "id": "chat.id",  # single-chat export
    "messages.item": "message",
}
_ENTITY_KINDS = {"phone": "phone", "email": "email", "mention": "username", "bank_card": "bank-card"}


def flatten_text(text: Any) -> str:
    """Telegram text: a string, or a list of strings and {type, text, href?} objects."""
    if isinstance(text, str):
        return text
    if isinstance(text, list):
        return "".join(t if isinstance(t, str) else str(t.get("text", "")) for t in text)
    return ""


def user_ref(from_id: Any) -> str | None:
    """'user123' as exported by recent versions; old exports give the bare number."""
    if from_id is None:
        return None
    s = str(from_id)
    return s if not s.isdigit() else f"user{s}"


def when(obj: dict, key: str = "date") -> datetime | None:
    unix = obj.get(f"{key}_unixtime")
    if unix not in (None, ""):
        return datetime.fromtimestamp(int(unix), UTC)
    raw = obj.get(key)
    return datetime.fromisoformat(raw) if raw else None


@register
class TelegramJSON(Parser):
    name = "telegram-json"
    version = "1.1"  # 1.1: phone_call → calls, locations
    reads = "Telegram Desktop `result.json` (full or single chat); `phone_call` service messages as calls; `location`, venue and live-location messages as locations"  # noqa: E501
    locators = "`json:/chats/list/0/messages/17`"
    fixtures = ("telegram/result.json", "telegram/single_chat.json")
    description = "Telegram Desktop JSON export (result.json, full or single chat)"

    def sniff(self, probe: Probe) -> float:
        t = probe.text.lstrip()
        if probe.suffix != ".json" or not t.startswith("{"):
            return 0.0
        if '"personal_information"' in t or ('"chats"' in t and '"list"' in t):
            return 0.95
        if ('"messages"' in t and '"date_unixtime"' in t) or ('"type": "personal_chat"' in t or '"type": "private_group"' in t):
            return 0.9
        return 0.0

    @in_text  # map links written in message text
    def parse(self, src: Source) -> Iterator[Record]:
        chat: dict[str, Any] = {}
        owner: str | None = None
        with open(src.path, "rb") as f:
            try:
                for kind, pointer, value in walk(f, TARGETS):
                    loc = f"json:{pointer}"
                    if kind == PROBLEM:
                        yield self.issue(src, loc, f"{src.name}: {value}")
                    elif kind.startswith("chat."):  # name/type/id of the chat object this pointer sits in
                        parent = pointer.rsplit("/", 1)[0]
                        if chat.get("_at") != parent:
                            chat = {"_at": parent}
                        chat[kind[5:]] = value
                    elif kind == "owner":
                        owner = user_ref(value.get("user_id")) if isinstance(value, dict) else None
                        yield from self.each(
                            src, [value], lambda p, loc=loc: self._person(src, loc, p, "account-owner", "holder"), lambda _, loc=loc: loc
                        )
                    elif kind == "contact":
                        yield from self.each(
                            src, [value], lambda p, loc=loc: self._person(src, loc, p, "contact", "contact"), lambda _, loc=loc: loc
                        )
                    elif kind == "message":
                        if not pointer.startswith(chat.get("_at", "\0") + "/messages/"):
                            chat = {}  # messages before (or without) their chat's name: chat unknown
                        yield from self.each(
                            src,
                            [value],
                            lambda m, loc=loc, chat=chat, owner=owner: self._message(src, loc, m, chat, owner),
                            lambda _, loc=loc: loc,
                        )
            except Exception as e:  # ijson.JSONError, truncated file, bad value: keep what was read
                yield self.issue(src, "json:", f"{src.name}: JSON unreadable after the records above: {type(e).__name__}: {e}")

    def _call(self, msg: Message, m: dict, chat: dict, owner: str | None) -> Iterator[Record]:
        """A `phone_call` service message: the actor is the caller. The other party is the caller when the
        owner did not call; in a personal chat it is the chat's peer when the owner did."""
        reason = m.get("discard_reason") or None
        outgoing = owner is not None and msg.sender_id == owner
        peer_id = f"user{chat['id']}" if chat.get("type") == "personal_chat" and chat.get("id") is not None else None
        number, name = (peer_id, chat.get("name")) if outgoing else (msg.sender_id, msg.sender_name)
        direction = (
            "unknown"
            if owner is None or msg.sender_id is None
            else "outgoing"
            if outgoing
            else "missed"
            if reason == "missed"
            else "rejected"
            if reason == "busy"
            else "incoming"
        )
        duration = m.get("duration_seconds")
        c = Call(
            prov=msg.prov,
            platform="telegram",
            ts=msg.ts,
            number=number,
            name=name,
            direction=direction,
            duration_s=int(duration) if duration is not None else None,
            extra={
                k: v
                for k, v in (
                    ("discard_reason", reason),
                    ("caller_id", msg.sender_id),
                    ("caller", msg.sender_name),
                    ("message_id", msg.source_id),
                )
                if v
            },
        )
        yield c
        yield from self.party(c, number, "counterpart", "telegram", kind="telegram-id")

    def _location(self, src: Source, msg: Message, m: dict) -> Iterator[Record]:
        """location_information (a point, a venue with place_name/address, or a live location with its period)."""
        info = m.get("location_information")
        if not isinstance(info, dict):
            return
        d = degrees(info.get("latitude"), info.get("longitude"))
        if d is None:
            yield self.issue(src, msg.prov.locator, "location_information without valid coordinates", str(info)[:500], severity="warning")
            return
        live = m.get("live_location_period_seconds")
        kind = "live-location" if live else "venue" if m.get("place_name") or m.get("address") else "shared-location"
        yield Location(
            prov=msg.prov,
            platform="telegram",
            source_kind=kind,
            latitude=d[0],
            longitude=d[1],
            ts=msg.ts,
            who=msg.sender_id,
            who_name=msg.sender_name,
            label=m.get("place_name") or None,
            address=m.get("address") or None,
            record_id=msg.id,
            extra={"live_location_period_seconds": int(live)} if live else {},
        )

    def _person(self, src: Source, loc: str, p: dict, role: str, id_role: str) -> Iterator[Record]:
        name = " ".join(x for x in (p.get("first_name"), p.get("last_name")) if x) or None
        phone = p.get("phone_number") or None
        username = p.get("username") or None
        uid = user_ref(p.get("user_id"))
        c = Contact(
            prov=self.prov(src, loc),
            source="telegram",
            name=name,
            phones=[phone] if phone else [],
            usernames=[f"@{username.lstrip('@')}"] if username else [],
            note=p.get("bio") or None,
            extra={"role": role, "user_id": uid},
        )
        yield c
        yield from self.party(c, phone, id_role, "telegram")
        yield from self.party(c, uid, id_role, "telegram", kind="telegram-id")
        yield from self.party(c, username, id_role, "telegram", kind="username")

    def _message(self, src: Source, loc: str, m: dict, chat: dict, owner: str | None) -> Iterator[Record]:
        try:
            ts = when(m)
        except (ValueError, OverflowError) as e:
            yield self.issue(src, loc, f"unreadable date: {e}", str(m.get("date")), severity="warning")
            ts = None
        service = m.get("type") == "service"
        sender = user_ref(m.get("actor_id") if service else m.get("from_id"))
        text = flatten_text(m.get("text"))
        media = m.get("photo") or m.get("file")
        call = service and m.get("action") == "phone_call"
        kind = "call" if call else "system" if service else "media" if media or m.get("media_type") else "text"
        extra = {
            k: m[k]
            for k in (
                "action",
                "members",
                "forwarded_from",
                "media_type",
                "mime_type",
                "duration_seconds",
                "contact_information",
                "location_information",
                "via_bot",
                "title",
                "discard_reason",
                "place_name",
                "address",
                "live_location_period_seconds",
            )
            if m.get(k)
        }
        if m.get("edited") or m.get("edited_unixtime"):
            extra["edited_at"] = str(when(m, "edited"))
        chat_id = chat.get("id")
        msg = Message(
            prov=self.prov(src, loc),
            platform="telegram",
            chat_id=f"telegram:{chat_id}" if chat_id is not None else None,
            chat_name=chat.get("name"),
            source_id=str(m.get("id")) if m.get("id") is not None else None,
            ts=ts,
            sender_id=sender,
            sender_name=(m.get("actor") if service else m.get("from")) or None,
            direction="unknown" if owner is None or sender is None else "outgoing" if sender == owner else "incoming",
            kind=kind,
            text=text or None,
            media=media if isinstance(media, str) else None,
            edited=bool(m.get("edited")),
            reply_to=str(m["reply_to_message_id"]) if m.get("reply_to_message_id") else None,
            extra={**extra, "chat_type": chat.get("type")} if chat.get("type") else extra,
        )
        yield msg
        yield from self.party(msg, sender, "sender", "telegram", kind="telegram-id")
        if call:
            yield from self._call(msg, m, chat, owner)
        yield from self._location(src, msg, m)
        contact = m.get("contact_information") or {}
        yield from self.party(msg, contact.get("phone_number"), "mentioned", "telegram")
        seen = set()
        for ent in m.get("text_entities") or []:
            k = _ENTITY_KINDS.get(ent.get("type"))
            if k and ent.get("text"):
                value = ent["text"].lstrip("@") if k == "username" else ent["text"]
                seen.add((k, value))
                yield Identifier(
                    prov=msg.prov, kind=k, value=value, role="mentioned", record_id=msg.id, platform="telegram", context=text[:200]
                )
        for ident in self.mentioned(msg, text, "telegram"):
            if (ident.kind, ident.value) not in seen:
                yield ident
