"""Signal Desktop's database: `sql/db.sqlite`, encrypted with SQLCipher 4, keyed by `config.json` beside it.

Where the key comes from:
- `--option key=HEX` (64 hex digits, the raw key as `config.json` "key" holds it), or
- an archive of the Signal folder (`config.json` + `sql/db.sqlite`, with its `-wal` when present), whose
  config.json "key" is used. Newer Signal Desktop versions keep only "encryptedKey", protected by the
  operating system's keychain (DPAPI, macOS Keychain, libsecret/KWallet): that cannot be opened from
  the files alone, and says so as an error naming what is needed.
- A database already decrypted (plain SQLite with Signal's tables) needs no key.

Tables (schema drifts; columns are read when present): conversations (id, type private/group, name,
profileName, profileFullName, e164, serviceId (formerly uuid), groupId), messages (id, json,
conversationId, type incoming/outgoing/call-history/…, sent_at ms, body, source, sourceServiceId
(formerly sourceUuid)), message_attachments (DB version ≥ 1360), callsHistory. Shapes as read by
carderne/signal-export sigexport/data.py and files.py (and its PRAGMA settings for Signal's cipher).
Evidence is never written: a single file is opened read-only and immutable; an archive's members are
copied to a private temporary folder first (which also lets SQLite apply the WAL).
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from ..archive import ArchiveError, SafeArchive
from ..model import Call, Contact, Message, Record
from . import register
from .base import ParseError, Probe, Source
from .jsonstream import loads_bounded
from .locations import in_text
from .sqlite import Db, SqliteParser, ms

try:  # a maintained SQLCipher 4 binding (bundles SQLCipher); without it only decrypted copies are read
    import sqlcipher3
except ImportError:  # pragma: no cover
    sqlcipher3 = None

SQLITE_MAGIC = b"SQLite format 3\x00"
_KEY = re.compile(r"[0-9a-fA-F]{64}(?:[0-9a-fA-F]{32})?")
CHAT_KINDS = {"incoming": "text", "outgoing": "text", "call-history": "call"}  # everything else: an app event
# Signal Desktop's cipher settings, as signal-export sets them after the key
CIPHER_PRAGMAS = (
    "PRAGMA cipher_page_size = 4096",
    "PRAGMA kdf_iter = 64000",
    "PRAGMA cipher_hmac_algorithm = HMAC_SHA512",
    "PRAGMA cipher_kdf_algorithm = PBKDF2_HMAC_SHA512",
)
DB_ERRORS = (sqlite3.DatabaseError,) + ((sqlcipher3.dbapi2.DatabaseError,) if sqlcipher3 else ())


class KeyNeeded(ParseError):
    """The database is encrypted and no usable key was given."""


def open_encrypted(path: Path, key: str, *, immutable: bool):
    """A SQLCipher connection with Signal Desktop's settings, checked by reading the schema."""
    if sqlcipher3 is None:
        raise ParseError("the SQLCipher binding is not installed (pip install sqlcipher3)")
    if not _KEY.fullmatch(key or ""):
        raise KeyNeeded(f'the key must be 64 hex digits (config.json "key"), not {len(key or "")} characters')
    uri = f"file:{Path(path).resolve()}" + ("?mode=ro&immutable=1" if immutable else "")
    con = sqlcipher3.connect(uri, uri=True)
    con.row_factory = sqlcipher3.Row
    con.execute("PRAGMA cipher_log_level = NONE")
    con.execute(f"PRAGMA key = \"x'{key}'\"")  # pragmas take no parameters; the key is checked as hex above
    for pragma in CIPHER_PRAGMAS:
        con.execute(pragma)
    try:
        con.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlcipher3.dbapi2.DatabaseError as e:
        con.close()
        raise KeyNeeded(f"the key does not open the database ({e}): a wrong key, or not a Signal Desktop database") from e
    return con


def key_from_config(raw: bytes) -> str:
    try:
        cfg = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as e:
        raise KeyNeeded(f"config.json is not readable JSON ({e})") from e
    if isinstance(cfg, dict) and isinstance(cfg.get("key"), str):
        return cfg["key"].strip()
    if isinstance(cfg, dict) and cfg.get("encryptedKey"):
        raise KeyNeeded(
            'config.json holds only "encryptedKey": this Signal Desktop protects the database key with the '
            f"operating system's keychain ({cfg.get('safeStorageBackend') or 'DPAPI / Keychain / libsecret'}), "
            "which these files alone cannot open. Decrypt the key on the seized computer's account (for "
            "example with sigtop or signal-export) and pass --option key=HEX"
        )
    raise KeyNeeded('config.json has no "key"')


@register
class SignalDesktop(SqliteParser):
    name = "signal-desktop"
    version = "1.0"
    reads = "Signal Desktop `sql/db.sqlite` (SQLCipher 4): a zip of the Signal folder (key from its `config.json`) or the database with `--option key=HEX`; a `config.json` holding only `encryptedKey` (OS keychain) is reported as needing the key; conversations, messages, calls (`callsHistory`)"  # noqa: E501
    locators = "`zip:Signal/sql/db.sqlite#sqlite:messages/rowid=1`"
    description = "Signal Desktop db.sqlite (SQLCipher; key from config.json or --option key=HEX)"

    def __init__(self, key: str | None = None):
        self.key = key.strip().removeprefix("x'").removesuffix("'") if key else None

    def sniff(self, probe: Probe) -> float:
        t = probe.sqlite_tables
        if {"messages", "conversations"} <= t and ("items" in t or "sessions" in t or "callshistory" in t):
            return 0.95  # a decrypted copy
        if probe.members and _bundle(probe.members):
            return 0.95
        if (
            PurePosixPath(probe.name.replace("\\", "/")).name.lower() == "db.sqlite"
            and len(probe.head) >= 1024
            and not probe.head.startswith(SQLITE_MAGIC)
        ):
            return 0.8  # SQLCipher pages look random: the name is all there is to go on
        return 0.0

    @in_text  # map links (Signal shares a location as a maps link)
    def parse(self, src: Source) -> Iterator[Record]:
        with open(src.path, "rb") as f:
            head = f.read(len(SQLITE_MAGIC))
        try:
            if head == SQLITE_MAGIC:
                with Db(src.path) as db:
                    yield from self._read(src, db, "")
                return
            if head.startswith(b"PK") or _is_tar(src.path):
                yield from self._archive(src)
                return
            if not self.key:
                raise KeyNeeded(
                    'the database is encrypted (SQLCipher) and no key was given: the key is "key" in the '
                    "config.json beside sql/db.sqlite in the Signal folder; pass --option key=HEX, or ingest "
                    "the Signal folder as one zip"
                )
            with Db(src.path, open_encrypted(src.path, self.key, immutable=True)) as db:
                yield from self._read(src, db, "")
        except KeyNeeded as e:
            yield self.issue(src, "sqlite:", f"{src.name}: cannot open the Signal database: {e}")

    def _archive(self, src: Source) -> Iterator[Record]:
        try:
            with SafeArchive(src.path, src.name) as arc, tempfile.TemporaryDirectory(prefix="casegraph-signal-") as tmp:
                found = _bundle(arc.names())
                if not found:
                    yield self.issue(src, "zip:", f"{src.name}: no sql/db.sqlite in the archive")
                    return
                db_member, config_member = found
                key = self.key or (key_from_config(arc.read(config_member)) if config_member else None)
                if not key:
                    raise KeyNeeded(f"no config.json beside {db_member} and no --option key=HEX")
                local = Path(tmp) / "db.sqlite"
                for member, target in ((db_member, local), (db_member + "-wal", Path(tmp) / "db.sqlite-wal")):
                    if member in arc.names():
                        with arc.open(member) as fin, open(target, "wb") as fout:
                            shutil.copyfileobj(fin, fout, 1 << 20)
                con = open_encrypted(local, key, immutable=False)  # a private copy: SQLite may apply its WAL
                with Db(local, con) as db:
                    yield from self._read(src, db, f"zip:{db_member}#")
        except ArchiveError as e:
            yield self.issue(src, "zip:", str(e))

    # -- the tables ------------------------------------------------------------------------------
    def _read(self, src: Source, db: Db, prefix: str) -> Iterator[Record]:
        if not db.has("messages", "conversationId"):
            yield self.issue(src, f"{prefix}sqlite:", f"{src.name}: no Signal messages table")
            return
        convs: dict[str, dict[str, Any]] = {}
        yield from self._guard(src, prefix, "conversations", self._conversations(src, db, prefix, convs))
        ways = (
            {r[0]: r[1] for r in db.rows("SELECT callId, direction FROM callsHistory")}
            if db.has("callsHistory", "callId", "direction")
            else {}
        )
        yield from self._guard(src, prefix, "messages", self._messages(src, db, prefix, convs, ways))
        if db.has("callsHistory", "callId"):
            yield from self._guard(src, prefix, "callsHistory", self._calls(src, db, prefix, convs))

    def _guard(self, src: Source, prefix: str, table: str, rows: Iterator[Record]) -> Iterator[Record]:
        try:
            yield from rows
        except DB_ERRORS as e:
            yield self.issue(src, f"{prefix}sqlite:{table}", f"{src.name}: reading table {table} stopped: {e}")

    def _conversations(self, src, db: Db, prefix: str, convs: dict) -> Iterator[Record]:
        sid = "serviceId" if db.has("conversations", "serviceId") else "uuid"
        cols = ", ".join(
            db.col("conversations", c, c)
            for c in ("type", "name", "profileName", "profileFamilyName", "profileFullName", "e164", sid, "groupId")
        )

        def read(r):
            name = r["name"] or r["profileFullName"] or " ".join(x for x in (r["profileName"], r["profileFamilyName"]) if x) or None
            ident = r["groupId"] if r["type"] == "group" else r[sid] or r["e164"]
            convs[r["id"]] = {"name": name, "e164": r["e164"], "sid": r[sid], "type": r["type"], "chat": ident or r["id"]}
            if r["type"] == "group":
                return
            c = Contact(
                prov=self.prov(src, f"{prefix}sqlite:conversations/rowid={r['rowid']}"),
                source="signal",
                name=name,
                phones=[r["e164"]] if r["e164"] else [],
                usernames=[r[sid]] if r[sid] else [],
                extra={k: v for k, v in (("profile_name", r["profileName"]), ("conversation_id", r["id"])) if v},
            )
            yield c
            yield from self.party(c, r["e164"], "contact", "signal")
            yield from self.party(c, r[sid], "contact", "signal", kind="signal-id")

        rows = db.rows(f"SELECT rowid AS rowid, id, {cols} FROM conversations ORDER BY rowid")
        yield from self.each(src, rows, read, lambda r: f"{prefix}sqlite:conversations/rowid={r['rowid']}")
        for c in list(convs.values()):
            if c["sid"]:
                convs.setdefault(f"sid:{c['sid']}", c)

    def _messages(self, src, db: Db, prefix: str, convs: dict, ways: dict) -> Iterator[Record]:
        sid = "sourceServiceId" if db.has("messages", "sourceServiceId") else "sourceUuid"
        cols = ", ".join(db.col("messages", c, c, "m") for c in ("json", "type", "sent_at", "received_at", "body", "source", sid))
        att = db.has("message_attachments", "messageId", "fileName")
        att_sql = (
            "(SELECT a.fileName FROM message_attachments a WHERE a.messageId = m.id AND a.editHistoryIndex = -1 "
            "ORDER BY a.orderInMessage LIMIT 1)"
            if att and db.has("message_attachments", "editHistoryIndex", "orderInMessage")
            else "NULL"
        )
        sql = f"SELECT m.rowid AS rowid, m.id, m.conversationId, {cols}, {att_sql} AS attachment FROM messages m ORDER BY m.rowid"

        def read(r):
            loc = f"{prefix}sqlite:messages/rowid={r['rowid']}"
            try:
                j = loads_bounded(r["json"]) if r["json"] else {}
            except (RecursionError, ValueError) as e:  # hostile nesting or numbers: this row is an issue, the table goes on
                raise ValueError(f"json column nested too deeply or malformed ({e})"[:300]) from e
            if not isinstance(j, dict):
                j = {}
            conv = convs.get(r["conversationId"], {})
            mtype = r["type"] or j.get("type")
            way = (
                _call_direction(j, ways)
                if mtype == "call-history"
                else "outgoing"
                if mtype == "outgoing"
                else "incoming"
                if mtype == "incoming"
                else "unknown"
            )
            outgoing = way == "outgoing"
            sender_sid = r[sid] or j.get("sourceServiceId") or j.get("sourceUuid")
            sender = convs.get(f"sid:{sender_sid}", {}) if sender_sid else {}
            if not sender and way == "incoming" and conv.get("type") == "private":
                sender = conv  # a one-to-one chat: the other side wrote it
            attachments = [a for a in j.get("attachments") or [] if isinstance(a, dict)]
            media = r["attachment"] or next(
                (a.get("fileName") or a.get("path") for a in attachments if a.get("fileName") or a.get("path")), None
            )
            kind = CHAT_KINDS.get(mtype, "system")
            if j.get("deletedForEveryone") or j.get("isErased"):
                kind = "deleted"
            elif kind == "text" and (media or r["attachment"] or attachments):
                kind = "media"
            author = kind != "system"
            extra = {
                k: v
                for k, v in (
                    ("type", mtype if kind == "system" or mtype not in CHAT_KINDS else None),
                    ("attachments", len(attachments) if len(attachments) > 1 else None),
                    ("sticker", (j.get("sticker") or {}).get("emoji") if isinstance(j.get("sticker"), dict) else None),
                    ("from_me", True if outgoing else None),
                    ("expire_timer", j.get("expireTimer")),
                )
                if v
            }
            quote = j.get("quote") if isinstance(j.get("quote"), dict) else None
            msg = Message(
                prov=self.prov(src, loc),
                platform="signal",
                chat_id=f"signal:{conv.get('chat') or r['conversationId']}",
                chat_name=conv.get("name"),
                source_id=r["id"],
                ts=ms(r["sent_at"] or j.get("sent_at") or j.get("timestamp")),
                sender_id=(sender.get("e164") or sender_sid or r["source"]) if author and way == "incoming" else None,
                sender_name=sender.get("name") if author and way == "incoming" else None,
                recipient_id=conv.get("e164") or conv.get("sid") if outgoing and conv.get("type") == "private" else None,
                direction=way,
                kind=kind,
                text=r["body"] or j.get("body") or None,
                media=media,
                edited=bool(j.get("editHistory")),
                reply_to=str(quote["id"]) if quote and quote.get("id") else None,
                extra=extra,
            )
            yield msg
            if msg.sender_id:
                yield from self.party(
                    msg, msg.sender_id, "sender", "signal", kind="phone" if msg.sender_id.startswith("+") else "signal-id"
                )
            if msg.recipient_id:
                yield from self.party(
                    msg, msg.recipient_id, "recipient", "signal", kind="phone" if msg.recipient_id.startswith("+") else "signal-id"
                )
            yield from self.mentioned(msg, msg.text, "signal")

        yield from self.each(src, db.rows(sql), read, lambda r: f"{prefix}sqlite:messages/rowid={r['rowid']}")

    def _calls(self, src, db: Db, prefix: str, convs: dict) -> Iterator[Record]:
        cols = ", ".join(
            db.col("callsHistory", c, c)
            for c in ("peerId", "ringerId", "mode", "type", "direction", "status", "timestamp", "endedTimestamp")
        )
        by_peer = {c.get("sid"): c for c in convs.values() if c.get("sid")} | {c.get("chat"): c for c in convs.values()}

        def read(r):
            peer = by_peer.get(r["peerId"], {})
            status, way = (r["status"] or ""), (r["direction"] or "")
            direction = (
                ("missed" if status == "Missed" else "rejected" if status == "Declined" else "incoming")
                if way == "Incoming"
                else "outgoing"
                if way == "Outgoing"
                else "unknown"
            )
            ended, started = r["endedTimestamp"], r["timestamp"]
            duration = (
                (int(ended) - int(started)) // 1000 if status == "Accepted" and ended and started and int(ended) > int(started) else None
            )
            call = Call(
                prov=self.prov(src, f"{prefix}sqlite:callsHistory/rowid={r['rowid']}"),
                platform="signal",
                ts=ms(started),
                number=peer.get("e164") or r["peerId"],
                name=peer.get("name"),
                direction=direction,
                duration_s=duration,
                extra={
                    k: v
                    for k, v in (
                        ("call_id", r["callId"]),
                        ("status", status),
                        ("type", r["type"]),
                        ("mode", r["mode"]),
                        ("ringer", r["ringerId"]),
                    )
                    if v
                },
            )
            yield call
            yield from self.party(
                call, call.number, "counterpart", "signal", kind="phone" if (call.number or "").startswith("+") else "signal-id"
            )

        rows = db.rows(f"SELECT rowid AS rowid, callId, {cols} FROM callsHistory ORDER BY rowid")
        yield from self.each(src, rows, read, lambda r: f"{prefix}sqlite:callsHistory/rowid={r['rowid']}")


def _call_direction(j: dict, ways: dict) -> str:
    """A call-history message's direction: callsHistory by callId, else the legacy details in its json."""
    way = ways.get(j.get("callId"))
    details = j.get("callHistoryDetails") or j.get("call_history") or {}
    if way is None and isinstance(details, dict):
        way = details.get("direction") or {True: "Incoming", False: "Outgoing"}.get(details.get("wasIncoming"))
    return {"Incoming": "incoming", "Outgoing": "outgoing"}.get(way, "unknown")


def _bundle(names: list[str]) -> tuple[str, str | None] | None:
    """(db member, config.json member beside its sql/ folder) of a Signal folder inside an archive."""
    for name in names:
        p = PurePosixPath(name)
        if p.name == "db.sqlite" and p.parent.name == "sql":
            config = str(p.parent.parent / "config.json") if str(p.parent.parent) != "." else "config.json"
            return name, config if config in names else None
    return None


def _is_tar(path: Path) -> bool:
    with open(path, "rb") as f:
        head = f.read(262)
    return head[257:262] == b"ustar" or head[:2] == b"\x1f\x8b"
