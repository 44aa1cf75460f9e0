"""Message bodies that are clearly ciphertext, not text: flagged, never presented as what someone wrote.

Apps that encrypt SMS end to end (Samsung's and others' app-level encryption, Silence/SMSSecure,
PGP or OTR over SMS) leave the body as armour or as one long base64 / hex blob. Such a body is moved
out of `text` (into `extra.ciphertext`, whole), the message becomes kind `encrypted`, and a warning
names the record, so that no report quotes it, no indicator reads it, and no examiner mistakes it
for a message. The test is deliberately narrow: armour markers, or a blob of at least MIN_BLOB
characters with no spaces, in one alphabet, whose decoded bytes look random (high byte entropy, few
printable characters). Ordinary text, links, codes and numbers never pass it.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections import Counter
from collections.abc import Iterator

from ..model import Message, Record
from . import mentions

MIN_BLOB = 40  # characters; shorter blobs (OTP codes, short tokens) are left alone
MIN_HEX = 96  # hex shorter than this may be a key, hash or address: evidence to read, not to hide
ARMOUR = (
    ("-----BEGIN PGP MESSAGE-----", "PGP armoured message"),
    ("?OTR:", "OTR encrypted message"),
    ("-----BEGIN AGE ENCRYPTED FILE-----", "age encrypted data"),
)
_B64 = re.compile(r"[A-Za-z0-9+/]+={0,2}|[A-Za-z0-9_-]+={0,2}")
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})+")


def _entropy(data: bytes) -> float:
    n = len(data)
    return -sum(c / n * math.log2(c / n) for c in Counter(data).values()) if n else 0.0


def _random_bytes(data: bytes) -> bool:
    """Bytes that are neither text nor structure: most not printable ASCII/UTF-8 and near-maximal entropy."""
    if len(data) < 24:
        return False
    try:
        text = data.decode("utf-8")
        printable = sum(ch.isprintable() or ch.isspace() for ch in text) / len(text)
        if printable > 0.9:
            return False  # base64 of readable text is an encoding, not ciphertext
    except UnicodeDecodeError:
        pass
    # the entropy a random string of this length reaches, less a margin (short strings cannot reach 8 bits)
    ceiling = min(8.0, math.log2(len(data)))
    return _entropy(data) >= ceiling - 1.0


def looks_encrypted(text: str | None) -> str | None:
    """Why a body is ciphertext, or None when it is (or may be) text."""
    if not text:
        return None
    body = text.strip()
    for marker, what in ARMOUR:
        if body.startswith(marker):
            return what
    if len(body) < MIN_BLOB or any(ch.isspace() for ch in body) or "://" in body:
        return None
    if any(b - a >= len(body) - 2 for _, _, (a, b) in mentions.find(body)):
        return None  # the whole body is an identifier (wallet, transaction hash, account): it is what it says
    if _HEX.fullmatch(body.removeprefix("0x")):
        if len(body) >= MIN_HEX and _random_bytes(bytes.fromhex(body.removeprefix("0x"))):
            return f"a {len(body)}-character hexadecimal blob of random-looking bytes"
        return None
    # random base64 of this length all but always mixes upper case, lower case and digits; bech32 and
    # other one-case encodings of addresses do not
    mixed = any(c.isupper() for c in body) and any(c.islower() for c in body) and any(c.isdigit() for c in body)
    if mixed and _B64.fullmatch(body):
        padded = body + "=" * (-len(body) % 4)
        for decode in (base64.b64decode, base64.urlsafe_b64decode):
            try:
                data = decode(padded)
            except (binascii.Error, ValueError):
                continue
            if _random_bytes(data):
                return f"a {len(body)}-character base64 blob of random-looking bytes"
    return None


def sealed(parser, src, msg: Message) -> Iterator[Record]:
    """The message, flagged first when its text is ciphertext, and the warning that says so."""
    reason = looks_encrypted(msg.text)
    if reason is None:
        yield msg
        return
    msg.extra = {**msg.extra, "ciphertext": msg.text, "ciphertext_reason": reason, "kind_before": msg.kind}
    msg.kind, msg.text = "encrypted", None
    yield msg
    yield parser.issue(
        src,
        msg.prov.locator,
        f"message body looks like ciphertext ({reason}): kept in extra.ciphertext, marked kind=encrypted and not stored as text",
        msg.extra["ciphertext"][:200],
        severity="warning",
    )
