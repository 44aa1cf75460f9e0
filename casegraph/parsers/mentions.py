"""Identifiers mentioned in free text: phones, emails, NIC numbers, bank accounts, IBANs, wallets.

This finds and lightly validates candidates so the graph can join a number typed into a chat
with the same number in a bank's KYC record. Canonical forms (E.164, checksummed addresses) are
made later, in one place, by graph/identifiers.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

import base58
import phonenumbers

# One cheap scan first: most messages contain none of these shapes.
_CANDIDATE = re.compile(r"[0-9@]|0x|\bT[1-9A-HJ-NP-Za-km-z]{33}\b")

_PHONE = re.compile(r"(?<![\w+])(?:\+|00)?\d[\d \-().\u00a0]{6,17}\d(?!\w)")
_EMAIL = re.compile(r"\b[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+\b")
_NIC_OLD = re.compile(r"(?<!\w)(\d{9}[VvXx])(?!\w)")
_NIC_NEW = re.compile(r"(?<!\d)((?:19|20)\d{2}[0-8]\d{7})(?!\d)")
_SL_BANKS = (r"BOC|Bank of Ceylon|Commercial Bank|ComBank|HNB|Hatton National Bank|Sampath(?: Bank)?|People'?s Bank|"
             r"NSB|Seylan(?: Bank)?|NDB|DFCC|Nations Trust(?: Bank)?|NTB|Pan Asia(?: Bank)?|Union Bank|Cargills Bank|Amana Bank")
_ACCOUNT = re.compile(r"(?i)\b(?:a/c|acc(?:ount)?|acct|" + _SL_BANKS + r")\.?\s*(?:no\.?|number|#)?\s*[:.,\-]?\s*(\d[\d \-]{4,20}\d)")
_IBAN = re.compile(r"\b([A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?)\b")
_ETH = re.compile(r"\b(0x[0-9a-fA-F]{40})\b")
_TRON = re.compile(r"\b(T[1-9A-HJ-NP-Za-km-z]{33})\b")
_BTC = re.compile(r"\b(bc1[02-9ac-hj-np-z]{11,71}|[13][1-9A-HJ-NP-Za-km-z]{25,34})\b")
_USERNAME = re.compile(r"(?<![\w@.])@([A-Za-z][A-Za-z0-9_.]{3,31})\b")


def nic_valid(nic: str) -> bool:
    """Structural check of a Sri Lankan NIC: day-of-year 1..366 (plus 500 for women)."""
    digits = nic[:9] if len(nic) == 10 else nic
    day = int(digits[2:5]) if len(nic) == 10 else int(digits[4:7])
    return 1 <= day <= 366 or 501 <= day <= 866


def tron_valid(addr: str) -> bool:
    try:
        return base58.b58decode_check(addr)[:1] == b"\x41"
    except ValueError:
        return False


def find(text: str | None, region: str = "LK") -> Iterator[tuple[str, str, tuple[int, int]]]:
    """(kind, value as written, (start, end)) for each identifier in text."""
    if not text or not _CANDIDATE.search(text):
        return
    taken: list[tuple[int, int]] = []

    def free(span: tuple[int, int]) -> bool:
        return all(span[1] <= a or span[0] >= b for a, b in taken)

    def emit(kind: str, m: re.Match, group: int = 0):
        span = m.span(group)
        if free(span):
            taken.append(span)
            return kind, m.group(group), span
        return None

    for pattern, kind, group, check in (
        (_EMAIL, "email", 0, None),
        (_ETH, "eth", 1, None),
        (_TRON, "tron", 1, tron_valid),
        (_IBAN, "iban", 1, None),
        (_ACCOUNT, "bank-account", 1, None),
        (_NIC_OLD, "nic", 1, nic_valid),
        (_NIC_NEW, "nic", 1, nic_valid),
        (_BTC, "btc", 1, _btc_valid),
        (_USERNAME, "username", 1, None),
    ):
        for m in pattern.finditer(text):
            if check is None or check(m.group(group)):
                hit = emit(kind, m, group)
                if hit:
                    yield hit
    for m in _PHONE.finditer(text):
        raw = m.group(0).strip(" -().")
        if sum(c.isdigit() for c in raw) < 9 or not free(m.span()):
            continue
        try:
            num = phonenumbers.parse(raw, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(num):
            taken.append(m.span())
            yield "phone", raw, m.span()


def _btc_valid(addr: str) -> bool:
    if addr.startswith("bc1"):
        return True
    try:
        return base58.b58decode_check(addr)[:1] in (b"\x00", b"\x05")
    except ValueError:
        return False


def looks_like_phone(s: str) -> bool:
    """A sender written as a number (WhatsApp shows unsaved contacts this way)."""
    t = s.strip().lstrip("\u202a\u2068").rstrip("\u202c\u2069")
    return bool(t) and t[0] in "+0123456789" and sum(c.isdigit() for c in t) >= 7 and all(c in "+0123456789 -()" for c in t)
