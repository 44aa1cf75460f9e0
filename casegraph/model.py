"""Record types shared by every layer.

Parsers yield these; the store writes them; graph, finance and reports read them back.
Every record carries a Provenance naming the exact bytes it came from.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar, Literal, get_args

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# -- vocabularies: the values each coded column may take, declared once ---------------------------
# (tests/test_vocabularies.py checks every fixture's records against them)
MessageKind = Literal["text", "media", "deleted", "system", "call", "encrypted", "other"]
MessageDirection = Literal["incoming", "outgoing", "unknown"]
CallDirection = Literal["incoming", "outgoing", "missed", "rejected", "unknown"]
IdentifierKind = Literal[
    "phone", "email", "username", "bank-account", "bank-card", "iban", "nic", "national-id", "passport",
    "company-registration", "eth", "tron", "btc", "whatsapp-lid", "whatsapp-group", "telegram-id", "signal-id",
]  # fmt: skip
IdentifierRole = Literal["sender", "recipient", "holder", "signatory", "contact", "counterpart", "mentioned", "account"]
Rail = Literal["bank", "mobile-money", "ethereum", "tron", "bitcoin", "goaml"]
Severity = Literal["error", "warning", "info"]
PersonRole = Literal["victim", "witness", "suspect", "minor"]  # what an examiner may mark an entity as
MESSAGE_KINDS: tuple[str, ...] = get_args(MessageKind)
MESSAGE_DIRECTIONS: tuple[str, ...] = get_args(MessageDirection)
CALL_DIRECTIONS: tuple[str, ...] = get_args(CallDirection)
IDENTIFIER_KINDS: tuple[str, ...] = get_args(IdentifierKind)
IDENTIFIER_ROLES: tuple[str, ...] = get_args(IdentifierRole)
RAILS: tuple[str, ...] = get_args(Rail)
SEVERITIES: tuple[str, ...] = get_args(Severity)  # in the order reports count them
PERSON_ROLES: tuple[str, ...] = get_args(PersonRole)

AMOUNT = pa.decimal128(38, 18)  # every stored amount: exact, 18 places (token base units fit too)
# Tether's USDT contracts, the one place they are written: a token that calls itself USDT at any
# other address is not Tether's (statements, acquisitions and the demo all check against these)
USDT_CONTRACTS = {"tron": "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "ethereum": "0xdac17f958d2ee523a2206206994597c13d831ec7"}


def to_json(value: Any) -> str:
    """The one JSON form of stored dicts (`extra`, custody details): sorted keys, text kept as written,
    datetimes and Decimals as their text, bytes as hex."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=_json_default)


def _json_default(o: Any) -> Any:
    if isinstance(o, (datetime, Decimal)):
        return str(o)
    if isinstance(o, bytes):
        return o.hex()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def record_id(table: str, exhibit_sha256: str, parser: str, locator: str, discriminator: str = "") -> str:
    """A record's natural key, readable: where it came from. Unique by construction (the locator is unique
    within an exhibit and parser; 128 bits of the exhibit's SHA-256 tell exhibits apart), so crafted input
    cannot make two records share an id and one be dropped as a duplicate. Columnar parsers build the
    same string with Arrow (see `id_prefix`)."""
    return f"{id_prefix(table, exhibit_sha256, parser)}{locator}" + (f"#{discriminator}" if discriminator else "")


def id_prefix(table: str, exhibit_sha256: str, parser: str) -> str:
    return f"{table}/{exhibit_sha256[:32]}/{parser}/"


@dataclass(frozen=True, slots=True)
class Provenance:
    exhibit_sha256: str  # the exhibit's content hash (the evidence file as seized)
    parser: str  # e.g. "whatsapp-txt"
    parser_version: str
    locator: str  # line:12, json:/chats/list/4/messages/17, sqlite:message/rowid=991, zip:_chat.txt#line:3 ...


@dataclass(slots=True, kw_only=True)
class Record:
    """Base of every derived record. `table` names the store table; `discriminator` separates
    several records of one kind that share a locator (e.g. two phone numbers in one message)."""

    table: ClassVar[str] = ""
    # columns that tell apart records of one kind at one locator (two phones in one message); the
    # store derives its generated `id` column from the same declaration
    discriminator_columns: ClassVar[tuple[str, ...]] = ()
    prov: Provenance

    @property
    def discriminator(self) -> str:
        return ":".join(str(getattr(self, c)) for c in self.discriminator_columns)

    @property
    def id(self) -> str:
        """Natural key: the same bytes parsed by the same parser give the same id (idempotent re-ingest)."""
        p = self.prov
        return record_id(self.table, p.exhibit_sha256, p.parser, p.locator, self.discriminator)

    def values(self) -> dict[str, Any]:
        """The record's own columns (without provenance), in declaration order."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "prov"}


@dataclass(slots=True, kw_only=True)
class Message(Record):
    table: ClassVar[str] = "messages"
    platform: str  # whatsapp, telegram, messenger, instagram, sms, mms, imessage, ...
    chat_id: str | None = None
    chat_name: str | None = None
    source_id: str | None = None  # the message's id inside the source, when it has one
    ts: datetime | None = None  # aware when the source states a zone, naive wall-clock otherwise
    sender_id: str | None = None  # raw identifier as the source writes it (phone, jid, user id)
    sender_name: str | None = None
    recipient_id: str | None = None
    direction: str = "unknown"  # MessageDirection
    kind: str = "text"  # MessageKind
    text: str | None = None
    media: str | None = None  # media file name / path as given by the source
    media_sha256: str | None = None  # hash of the media file when it was found inside the exhibit
    edited: bool = False
    reply_to: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True, kw_only=True)
class Call(Record):
    table: ClassVar[str] = "calls"
    platform: str
    ts: datetime | None = None
    number: str | None = None  # the other party as written in the source
    name: str | None = None
    direction: str = "unknown"  # CallDirection
    duration_s: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True, kw_only=True)
class Contact(Record):
    table: ClassVar[str] = "contacts"
    source: str  # vcard, android-contacts, whatsapp, telegram, ufdr, ...
    name: str | None = None
    phones: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    usernames: list[str] = field(default_factory=list)
    organisation: str | None = None
    note: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True, kw_only=True)
class Transaction(Record):
    table: ClassVar[str] = "transactions"
    rail: str  # Rail
    ts: datetime | None = None  # or a datetime.date when the source gives a date and no time
    reference: str | None = None  # bank reference, tx hash, goAML transactionnumber
    from_account: str | None = None
    to_account: str | None = None
    from_name: str | None = None
    to_name: str | None = None
    amount: Decimal | None = None  # exact; never float
    currency: str | None = None  # ISO 4217 or token symbol
    asset_contract: str | None = None  # token contract for on-chain assets
    description: str | None = None
    # what the source says became of it: None (the source does not say: taken as completed),
    # "success", or "failed" (failed, reverted or rejected: no value moved). Trace and typologies
    # leave failed transfers out by default and say so.
    status: str | None = None
    # the record's place in its source's own order (statement row number, 1-based): orders records that
    # share a date-only day (ts_precision 'day') within one exhibit and parser; None when the source has none
    seq: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True, kw_only=True)
class Identifier(Record):
    """An identifier seen in a source: a sender's phone, an account in a statement, a wallet
    mentioned in a chat. Values are raw here; casegraph/identifiers normalises them."""

    table: ClassVar[str] = "identifiers"
    kind: str  # IdentifierKind
    value: str  # as found
    role: str = "mentioned"  # IdentifierRole
    record_id: str | None = None  # the record it was seen in
    platform: str | None = None
    context: str | None = None  # a short excerpt around a mention
    discriminator_columns: ClassVar[tuple[str, ...]] = ("kind", "value", "role")


@dataclass(slots=True, kw_only=True)
class TextBlock(Record):
    """Text recovered from an image by OCR."""

    table: ClassVar[str] = "ocr_text"
    text: str
    confidence: float | None = None  # mean word confidence 0..100
    languages: str | None = None
    bbox: list[int] | None = None  # left, top, width, height in pixels
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True, kw_only=True)
class Location(Record):
    """A place a source ties to a time and a party: a shared or live location, a venue, a photo's GPS
    tags, a forensic report's location model. Coordinates are exact decimals as the source wrote them
    (WGS 84 degrees); `source_kind` says what kind of evidence it is, because a place someone picked
    on a map (venue) is not where their phone was, and a photo's EXIF says where the camera was."""

    table: ClassVar[str] = "locations"
    platform: str  # whatsapp, telegram, signal, exif, ufdr, ...
    source_kind: str  # one of LOCATION_KINDS
    latitude: Decimal
    longitude: Decimal
    ts: datetime | None = None
    who: str | None = None  # the sender's id, or the device, as the source writes it
    who_name: str | None = None
    accuracy_m: float | None = None  # horizontal accuracy in metres, when the source gives one
    label: str | None = None  # place / venue name
    address: str | None = None
    record_id: str | None = None  # the message (or other record) it came with
    extra: dict[str, Any] = field(default_factory=dict)


# What a location record is evidence of (see Location).
LOCATION_KINDS = {
    "shared-location": "a position sent with the app's share-location feature (may be a point picked on the map)",
    "live-location": "a position from a live-location share",
    "venue": "a named place chosen from the app's list (not necessarily where the phone was)",
    "map-link": "a map link with coordinates written inside a message's text",
    "exif": "GPS tags in an image file (where the camera says it was)",
    "ufdr": "a location model in a Cellebrite report",
}


# The keys a parser may write in `extra`, per record table, each with what it holds. Only these are
# written (tests/test_vocabularies.py checks every fixture's records, and reads the parsers' source for
# the keys they write); a new fact gets its key here first. Every record table with an `extra` is listed.
EXTRA_KEYS: dict[str, dict[str, str]] = {
    "messages": {
        "action": "Telegram service action (phone_call, invite_members, ...)",
        "address": "a shared venue's address",
        "box": "SMS box: inbox, sent, draft, outbox, failed, queued",
        "call_duration": "a call message's duration as the source writes it",
        "chat_type": "the chat's type as the source names it (personal, group, channel, ...)",
        "date_sent": "when the sender's phone sent it, beside the received time",
        "date_text": "the header's date and time as written, when they did not read cleanly",
        "deleted_by": "who deleted the message (admin)",
        "deleted_state": "the deletion state a forensic report gives",
        "discard_reason": "why Telegram discarded a call",
        "duration_seconds": "a call's duration in seconds",
        "edited_at": "when the message was edited",
        "event": "the system event a system line records (member-added, subject-changed, ...)",
        "file": "the attached file's name or path",
        "folder": "the mailbox folder of a forensic report's message",
        "attachments": "every attachment of a forensic report's message with several",
        "status": "the message's status as a forensic report gives it",
        "from_me": "written by the device's owner",
        "is_unsent": "unsent by its sender (Meta)",
        "live_location_period_seconds": "how long a live location was shared",
        "location": "a shared location's coordinates {lat, lon} as written",
        "location_information": "the location fields the source gives with the message",
        "media": "the source's description of the media",
        "media_all": "every media file of a message with several",
        "media_locator": "where the attached media is inside the exhibit (zip:member)",
        "media_missing": "the message names media that the exhibit does not contain",
        "media_omitted": "the export left the media out (the phone's-language form of <Media omitted>)",
        "members": "the members a service message names",
        "message_type": "the source's own message type code, when it maps to no kind",
        "mime_type": "the attachment's MIME type",
        "not_in_contacts": "the author was not in the exporter's contacts (~ before the name)",
        "note": "a note on how the record was read",
        "participants": "the chat's or call's participants",
        "place_name": "a shared venue's name",
        "placeholder": "the text is WhatsApp's placeholder for content it did not export",
        "quote": "the quoted message",
        "reactions": "reactions to the message",
        "read": "marked read on the device",
        "received": "when the device received it",
        "sender_lid": "the sender's WhatsApp LID beside the number",
        "sender_unknown": "the source names no sender",
        "service_center": "the SMS service centre number",
        "share": "a link or post shared in a Meta message",
        "missed": "a missed call (Meta)",
        "ip": "the IP address Meta logged with the message",
        "shown_as": "the name iOS shows where the author goes on a system line (the chat's)",
        "starred": "starred on the device",
        "subject": "an MMS subject",
        "text_from": "which source field the text came from",
        "title": "a title the service message gives",
        "to": "an MMS's recipients",
        "type": "the source's own type code",
        "ciphertext": "the body is ciphertext (app-encrypted), not text",
        "ciphertext_reason": "why the body was taken for ciphertext",
        "kind_before": "the kind the message had before it was found to be ciphertext",
        "contact_information": "a contact card shared in the message (Telegram)",
        "forwarded_from": "who the forwarded message came from (Telegram)",
        "media_type": "the source's media type (sticker, voice_message, video_file, ...)",
        "via_bot": "the bot the message was sent through (Telegram)",
        "sticker": "the emoji of a sticker (Signal)",
        "expire_timer": "the disappearing-messages timer in force, in seconds (Signal)",
        "edited_versions": "earlier versions of an edited message (Signal)",
    },
    "calls": {
        "call_id": "the call's id in the source",
        "call_result": "WhatsApp's call result code",
        "caller": "who placed the call",
        "caller_id": "the caller's id in the source",
        "chat": "the chat the call was in",
        "countryiso": "the country the phone gave the number",
        "deleted_state": "the deletion state a forensic report gives",
        "discard_reason": "why the call was discarded",
        "duration_exact_s": "the duration with its fraction of a second",
        "geocoded_location": "the place the phone gave the number",
        "group_creator": "who started a group call",
        "group_jid": "the group a group call was in",
        "message_id": "the message that recorded the call",
        "mode": "Signal's call mode",
        "number_withheld": "the number was withheld (unknown, private, payphone)",
        "outcome": "how the call ended (ended, missed, rejected)",
        "participants": "everyone on a group call",
        "presentation": "Android's number presentation code",
        "ringer": "who rang (Signal's ringerId)",
        "status": "the call's status as the source gives it",
        "subscription_id": "the SIM the call was on",
        "type": "the source's own call type code",
        "video": "a video call",
        "video_call": "WhatsApp's video-call flag",
    },
    "locations": {
        "_id": "the source's id of the position",
        "altitude_m": "altitude in metres",
        "category": "a forensic report's location category",
        "comment": "a forensic report's comment on the position",
        "deleted_state": "the deletion state a forensic report gives",
        "dms": "the coordinates as written in degrees, minutes and seconds",
        "elevation": "elevation as a forensic report gives it",
        "final_point": "the last point of a live location share",
        "from_me": "shared by the device's owner",
        "link": "the map link the coordinates were read from",
        "live_location_period_seconds": "how long a live location was shared",
        "live_location_share_duration": "WhatsApp's live-location duration",
        "member": "the archive member (photo) the GPS tags came from",
        "precision": "the precision a forensic report gives",
        "type": "a forensic report's location type",
        "origin": "where a forensic report says the position came from",
        "description": "a forensic report's description of the position",
        "confidence": "a forensic report's confidence in the position",
        "source": "the app a forensic report names for the position",
        "datum": "the GPS datum an image's EXIF names",
        "url": "the map URL the source gives",
        "label_column": "the source column the label was read from (iOS WhatsApp media title)",
    },
    "contacts": {
        # address books (vCard, Android, iOS and Android WhatsApp, Signal, Telegram, UFDR)
        "nickname": "vCard NICKNAME",
        "bday": "vCard BDAY, as written",
        "adr": "vCard ADR, as written",
        "url": "vCard URL",
        "impp": "vCard IMPP (instant-messaging handles)",
        "x-android-custom": "vCard X-ANDROID-CUSTOM (Android's custom fields)",
        "x-socialprofile": "vCard X-SOCIALPROFILE",
        "version": "the vCard version",
        "tel_types": "each phone's TYPE parameters (cell, work, ...)",
        "account_name": "the Android account the contact is stored under",
        "account_type": "the Android account type; in goAML, the account's type code",
        "deleted": "marked deleted in the Android contacts database",
        "deleted_state": "the deletion state a forensic report gives",
        "model": "the forensic report's model type of the contact",
        "user_id": "the Telegram user id",
        "profile_name": "the Signal profile name",
        "conversation_id": "the Signal conversation id",
        "wa_name": "the name the person set in WhatsApp",
        "given_name": "the given name in WhatsApp's contacts",
        "family_name": "the family name in WhatsApp's contacts",
        "is_whatsapp_user": "WhatsApp's flag: the number uses WhatsApp",
        "zphonenumberlabel": "iOS WhatsApp's label of the phone number",
        "zidentifier": "iOS WhatsApp's address-book identifier",
        "zgivenname": "iOS WhatsApp's given name",
        "zlastname": "iOS WhatsApp's last name",
        "zwhatsappid": "iOS WhatsApp's JID, when it differs from the one read",
        # goAML parties (persons, entities, accounts), field names as the goAML schema gives them
        "role": "the party's role in the report (sender, beneficiary, signatory, director, ...); in Telegram, the member's role",
        "relation": "the party's relation to the account or entity (goAML role code)",
        "primary": "the goAML is_primary flag of a signatory",
        "of": "the entity the person is related to",
        "account": "the account the party holds or signs for",
        "birthdate": "goAML birthdate, as written",
        "nic": "the Sri Lankan NIC number among the person's ids",
        "national_id": "another national id number",
        "passport": "the passport number",
        "passport_country": "the passport's issuing country",
        "nationality": "goAML nationality1",
        "residence": "goAML residence country",
        "occupation": "goAML occupation",
        "address": "the party's address as written",
        "gender": "goAML gender",
        "alias": "goAML alias",
        "tax_number": "goAML tax number",
        "identifications": "the person's identity documents (type, number, country)",
        "commercial_name": "the entity's commercial name",
        "legal_form": "the entity's legal form",
        "incorporation_number": "the entity's registration number",
        "incorporation_country": "the entity's country of incorporation",
        "business": "the entity's line of business",
        "iban": "the account's IBAN",
        "swift": "the account's bank SWIFT/BIC code",
        "institution_code": "the account's institution code",
        "branch": "the account's branch",
        "currency": "the account's currency",
        "client_number": "the bank's client number",
        "status": "the account's status code",
        "opened": "when the account was opened, as written",
        "holder": "the company that holds the account",
        "reason": "why the report names the party (goAML activity report)",
        "significance": "the party's significance (goAML activity report)",
    },
    "transactions": {
        # statements and chain exports (tables/convert, eth_acquisition, bitcoin_esplora)
        "balance": "the running balance the statement gives, as written",
        "value_date": "the value date, as written",
        "status": "the status as the source writes it",
        "error_code": "the chain's error code of a failed transfer",
        "method": "the contract method called",
        "block": "the block number",
        "block_height": "the block height (Bitcoin)",
        "confirmed": "confirmed in a block (Bitcoin)",
        "fee": "the fee as the source writes it",
        "fee_btc": "the transaction's fee in BTC",
        "gas_used": "the gas the transaction used",
        "chain_id": "the chain id of the node it was acquired from",
        "attempted_value": "the value a failed transaction tried to move (none moved)",
        "log_index": "the token transfer's log index in its transaction",
        "decimals": "the token's decimals",
        "token_name": "the token's name",
        "token_warning": "why the token is not what its symbol says (a USDT symbol on another contract)",
        "parent_from": "the sender of the parent transaction of an internal transfer",
        "note": "a note on how the amount was read",
        "sign_note": "how the statement's sign was read",
        "profile": "the statement layout it was read with",
        "leg": "which input or output of the Bitcoin transaction it is",
        "txid": "the Bitcoin transaction id",
        "spent_txid": "the transaction that spent the output",
        "spent_vout": "the spending input's index",
        "script_type": "the output's script type",
        # goAML reports
        "source": "the report format (goaml)",
        "report_code": "the goAML report code (STR, CTR, ...)",
        "entity_reference": "the reporting entity's reference",
        "transmode_code": "goAML transmode code",
        "location": "goAML transaction location",
        "internal_ref": "the reporting entity's internal reference number",
        "from_funds_code": "goAML funds code of the sender",
        "to_funds_code": "goAML funds code of the receiver",
        "from_country": "the sender's country",
        "to_country": "the receiver's country",
        "from_end": "what the sending end is (account, person, entity)",
        "to_end": "what the receiving end is (account, person, entity)",
        "from_my_client": "the sender is the reporting entity's client",
        "to_my_client": "the receiver is the reporting entity's client",
        "transaction_status": "goAML transaction status",
        "parties": "the parties a multi-party transaction names",
        "date_transaction": "the transaction date as written",
        "time_basis": "how the time was read (source offset, case zone, date only)",
    },
    "ocr_text": {
        "engine": "the OCR engine and its version",
    },
}


@dataclass(slots=True, kw_only=True)
class ParseIssue(Record):
    """A line or record that could not be parsed: kept, counted, never dropped silently."""

    table: ClassVar[str] = "parse_issues"
    severity: str = "error"  # Severity
    message: str
    raw: str | None = None  # the offending bytes, decoded with replacement, truncated
    discriminator_columns: ClassVar[tuple[str, ...]] = ("message",)


@dataclass(frozen=True, slots=True)
class ExchangeRate:
    """One row of an examiner's rate table (an exhibit like any other): on `day`, one unit of `base` was worth
    `rate` units of `quote`, according to `source` (e.g. the Central Bank of Sri Lanka's published rate).
    Not a store table: finance converts with it, and every converted figure cites its provenance."""

    day: date
    base: str
    quote: str
    rate: Decimal
    source: str
    prov: Provenance


RECORD_TYPES: tuple[type[Record], ...] = (Message, Call, Contact, Transaction, Identifier, TextBlock, Location, ParseIssue)
RECORD_CLASS = {cls.table: cls for cls in RECORD_TYPES}


@dataclass(slots=True)
class Batch:
    """Many records of one type as Arrow columns: the bulk path for parsers that work column-wise.

    `data` has the record class's columns (dicts as JSON text, `ts` as one timestamp column, naive
    or zoned, or a date32 column for dates without a time) and the four provenance columns; an `id` column may be there (the store derives its own
    from provenance). The store writes it without a Python loop."""  # noqa: E501

    table: str
    data: pa.Table

    def __len__(self) -> int:
        return self.data.num_rows

    def records(self) -> list[Record]:
        """The rows as record objects (for tests and small consumers)."""
        cls = RECORD_CLASS[self.table]
        json_fields = {f.name for f in fields(cls) if f.type in ("dict[str, Any]",)}
        out = []
        for row in self.data.to_pylist():
            prov = Provenance(row.pop("exhibit_sha256"), row.pop("parser"), row.pop("parser_version"), row.pop("locator"))
            row.pop("id", None)
            for name in json_fields:
                row[name] = json.loads(row[name]) if row.get(name) else {}
            out.append(cls(prov=prov, **row))
        return out


def constant(value: str | None, n: int) -> pa.Array:
    """The same string in n rows, stored once (a dictionary array): for provenance and other per-run columns."""
    if value is None:
        return pa.nulls(n, pa.string())
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int32)), pa.array([value], pa.string()))


def numbered(prefix: str, start: int, n: int) -> pa.Array:
    """Locators prefix+start … prefix+(start+n-1), column-wise (row:1, row:2, …). The string buffers are
    built directly with numpy: numbers of one width are a contiguous run, written two digits at a time
    (about half the CPU of casting the numbers to strings and joining them, on every row of a bulk ingest)."""
    head = np.frombuffer(prefix.encode(), np.uint8)
    if n <= 0 or start < 0 or n > 50_000_000:  # (the plain way: negatives, and sizes beyond 32-bit offsets)
        return pc.binary_join_element_wise(prefix, pa.array(np.arange(start, start + n, dtype=np.int64)).cast(pa.string()), "")
    runs, lo = [], start  # (first number, count, digits): consecutive numbers change width only at powers of ten
    while lo < start + n:
        width = len(str(lo))
        hi = min(start + n, 10**width)
        runs.append((lo, hi - lo, width))
        lo = hi
    size = sum(count * (len(head) + width) for _, count, width in runs)
    data, offsets, at, row = np.empty(size, np.uint8), np.empty(n + 1, np.int32), 0, 0
    for first, count, width in runs:
        step = len(head) + width
        offsets[row : row + count] = np.arange(at, at + count * step, step, dtype=np.int32)
        block = data[at : at + count * step].reshape(count, step)  # a view: written in place
        block[:, : len(head)] = head
        pairs = (width + 1) // 2
        digits = np.empty((count, pairs), np.uint16)  # two digits at a time, from a table of "00" … "99"
        rest = np.arange(first, first + count, dtype=np.uint32 if first + count < 2**32 else np.uint64)  # 32-bit division is cheaper
        for j in range(pairs - 1, -1, -1):
            rest, low = np.divmod(rest, 100)
            digits[:, j] = _PAIRS.take(low)
        block[:, len(head) :] = digits.view(np.uint8)[:, 2 * pairs - width :]  # an odd width drops the leading 0
        at, row = at + count * step, row + count
    offsets[n] = at
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)])


_PAIRS = np.frombuffer(b"".join(b"%02d" % i for i in range(100)), np.uint16)  # the text of 0-99, two bytes each


# -- the ties between parties, as the graph tables hold them --------------------------------------
# A party is the person using an identifier (or the identifier itself); records become ties:
# sender → chat, sender → recipient, sender → identifier mentioned, identifier in an image → exhibit,
# other party → device (call), payer → payee. The graph's analysis and the report's pictures and
# viewer all read ties from here, so they count the same ties.
TIE_PARTY = """
owner AS (SELECT dst AS node, min(src) AS person FROM edges WHERE kind = 'USES' GROUP BY dst),
party AS (SELECT n.id, coalesce(o.person, n.id) AS p FROM nodes n LEFT JOIN owner o ON o.node = n.id)"""


def tie_rows(party: str = TIE_PARTY, places: str | None = None, by_row: bool = False, kinds: Iterable[str] | None = None) -> str:
    """The tie rules as a WITH clause ending in `ties` (a, b, kind, ts_utc, record_id, locator, exhibit_sha256, w, day).
    `party`: the CTEs that end in party(id, p), p the party of node id; `places`: a table (id, u) numbering the
    chats and exhibits a tie can end on (None: the ids themselves); `by_row`: instead of record_id and locator,
    the row of `edges` that holds them (r) and the hash of the record id (h). graph.parties passes numbered
    ones, so that no tie carries a name on the hot path; `kinds`: the edge kinds the graph has (None: any), the
    rules that join others are left out."""

    def at(x: str) -> tuple[str, str]:  # (the end, the join that numbers it)
        return (x, "") if places is None else ("pl.u", f" LEFT JOIN {places} pl ON pl.id = {x}")

    def rec(e: str) -> str:
        return f"{e}.rowid, hash({e}.record_id)" if by_row else f"{e}.record_id, {e}.locator"

    chat, chat_join = at("c.dst")
    image, image_join = at("'Exhibit:' || m.exhibit_sha256")
    device, device_join = at("'Exhibit:' || c.exhibit_sha256")
    cols = f"a, b, kind, ts_utc, {'r, h' if by_row else 'record_id, locator'}, exhibit_sha256, w, day"
    branches = [  # (the edge kinds a branch joins, the branch)
        (
            ("SENT", "IN"),
            f"""SELECT ps.p, {chat}, 'message', s.ts_utc, {rec("s")}, s.exhibit_sha256, 1.0, NULL::VARCHAR
    FROM edges s JOIN edges c ON c.src = s.dst AND c.kind = 'IN' JOIN party ps ON ps.id = s.src{chat_join} WHERE s.kind = 'SENT'""",
        ),
        (
            ("SENT", "TO"),
            f"""SELECT ps.p, pt.p, 'message', s.ts_utc, {rec("s")}, s.exhibit_sha256, 1.0, NULL::VARCHAR
    FROM edges s JOIN edges t ON t.src = s.dst AND t.kind = 'TO' JOIN party ps ON ps.id = s.src JOIN party pt ON pt.id = t.dst
    WHERE s.kind = 'SENT'""",
        ),
        (
            ("SENT", "MENTIONS"),
            f"""SELECT ps.p, pm.p, 'mentioned', s.ts_utc, {rec("m")}, m.exhibit_sha256, 1.0, NULL::VARCHAR
    FROM edges s JOIN edges m ON m.src = s.dst AND m.kind = 'MENTIONS' JOIN party ps ON ps.id = s.src JOIN party pm ON pm.id = m.dst
    WHERE s.kind = 'SENT'""",
        ),
        (
            ("MENTIONS",),
            f"""SELECT pm.p, {image}, 'in image', NULL::TIMESTAMPTZ, {rec("m")}, m.exhibit_sha256, 1.0, NULL::VARCHAR
    FROM edges m JOIN party pm ON pm.id = m.dst{image_join} WHERE m.kind = 'MENTIONS' AND starts_with(m.src, 'ocr_text/')""",
        ),
        (
            ("IN_CALL",),
            f"""SELECT pc.p, {device}, 'call', c.ts_utc, {rec("c")}, c.exhibit_sha256, 1.0, NULL::VARCHAR
    FROM edges c JOIN party pc ON pc.id = c.src{device_join} WHERE c.kind = 'IN_CALL'""",
        ),
        (
            ("PAID", "PAID_TO"),
            f"""SELECT pf.p, pt.p, 'payment', f.ts_utc, {rec("f")}, f.exhibit_sha256, 1.0, f.attrs->>'date'
    FROM edges f JOIN edges t ON t.src = f.dst AND t.kind = 'PAID_TO' JOIN party pf ON pf.id = f.src JOIN party pt ON pt.id = t.dst
    WHERE f.kind = 'PAID'""",
        ),
    ]
    # a branch joining a kind the graph has none of gives no rows, yet DuckDB still joins every message for it
    kept = [sql for need, sql in branches if kinds is None or set(need) <= set(kinds)] or [branches[1][1]]
    union = "\n    UNION ALL\n    ".join(kept)
    return f"""
WITH {party.strip()},
ties({cols}) AS (
    {union})
"""


TIE_ROWS = tie_rows()
# The same ties with their direction (sender → chat, payer → payee), for pictures that draw arrows.
DIRECTED_TIES = TIE_ROWS + "SELECT a, b, kind, ts_utc, record_id FROM ties WHERE a <> b"


# the identifier kind of a transaction end, by the rail it moved on (graph keys, resolution, a person's accounts)
RAIL_KIND = {"bank": "bank-account", "ethereum": "eth", "tron": "tron", "bitcoin": "btc", "goaml": "bank-account", "mobile-money": "phone"}


def rail_kind_sql(rail_column: str) -> str:
    """SQL giving the identifier kind of a transaction end on the rail in `rail_column`."""
    cases = " ".join(f"WHEN '{r}' THEN '{k}'" for r, k in RAIL_KIND.items())
    return f"CASE {rail_column} {cases} ELSE 'wallet-account' END"
