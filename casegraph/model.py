"""Record types shared by every layer.

Parsers yield these; the store writes them; graph, finance and reports read them back.
Every record carries a Provenance naming the exact bytes it came from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

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
    direction: str = "unknown"  # incoming | outgoing | unknown
    kind: str = "text"  # text | system | media | deleted | call | ...
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
    direction: str = "unknown"  # incoming | outgoing | missed | rejected | unknown
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
    rail: str  # bank | mobile-money | ethereum | tron | bitcoin | goaml | ...
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
    kind: str  # phone | email | username | bank-account | iban | nic | passport | eth | tron | btc | ...
    value: str  # as found
    role: str = "mentioned"  # sender | recipient | holder | contact | mentioned | account
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


@dataclass(slots=True, kw_only=True)
class ParseIssue(Record):
    """A line or record that could not be parsed: kept, counted, never dropped silently."""

    table: ClassVar[str] = "parse_issues"
    severity: str = "error"  # error | warning
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
    """Locators prefix+start … prefix+(start+n-1), column-wise (row:1, row:2, …)."""
    return pc.binary_join_element_wise(prefix, pa.array(np.arange(start, start + n, dtype=np.int64)).cast(pa.string()), "")
