"""Identifiers, normalised in one place: the join keys between communications and money.

Parsers store identifiers as written ("077 123 4567", "94771234567@s.whatsapp.net", "851234567V").
`normalise(kind, value)` gives the canonical form the graph joins on, whether it is valid, and what
it says (a NIC's birth date and sex, a phone's country). Each kind uses the well-kept library of its
domain where there is one: phonenumbers for phones, eth-utils for Ethereum checksums, base58 and bech32
for TRON and Bitcoin.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

import base58
import bech32
import numpy as np
import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc

REGION = "LK"


@dataclass(frozen=True)
class Normal:
    kind: str
    value: str  # canonical; the raw text when it cannot be normalised
    valid: bool
    detail: dict[str, Any] = field(default_factory=dict)


def normalise(kind: str, value: str, region: str = REGION) -> Normal:
    fn = _KINDS.get(kind)
    raw = (value or "").strip()
    if fn is None:
        return Normal(kind, raw, bool(raw))
    return fn(raw, region)


# -- phones and WhatsApp ids --------------------------------------------------------------------
def phone(raw: str, region: str = REGION) -> Normal:
    """E.164 from any written form: 077 123 4567, 0094771234567, 94771234567, +94 (0)77 123 4567, or a
    WhatsApp JID 94771234567@s.whatsapp.net. A LID (…@lid) hides the number: it stays its own kind."""
    if raw.partition("@")[2] == "lid":
        return Normal("whatsapp-lid", raw.lower(), True)
    num = _phone_number(raw, region)
    if num is None:
        return Normal("phone", re.sub(r"\D", "", raw) or raw, False)
    return Normal(
        "phone",
        phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164),
        True,
        {"country": phonenumbers.region_code_for_number(num), "type": _PHONE_TYPES.get(phonenumbers.number_type(num), "other")},
    )


@lru_cache(maxsize=1 << 16)
def _phone_number(raw: str, region: str) -> phonenumbers.PhoneNumber | None:
    """The valid number a written form stands for, or None (cached: chats repeat the same numbers)."""
    user, _, server = raw.partition("@")
    text = ("+" + user) if server in ("s.whatsapp.net", "c.us") else raw
    text = re.sub(r"\(0\)", "", text)  # "+94 (0)77 …": the trunk 0 written in brackets
    candidates = [text]
    digits = re.sub(r"\D", "", text)
    if not text.lstrip().startswith(("+", "0")) and len(digits) > 9:
        candidates.append("+" + digits)  # a country code written without "+" (94771234567)
    for cand in candidates:
        try:
            num = phonenumbers.parse(cand, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(num):
            return num
    return None


def valid(kind: str, value: str, region: str = REGION) -> bool:
    """Whether an identifier passes its kind's checks, without building its canonical form (cheaper)."""
    if kind == "phone":
        return _phone_number(value.strip(), region) is not None
    return normalise(kind, value, region).valid


_PHONE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE: "mobile",
    phonenumbers.PhoneNumberType.FIXED_LINE: "fixed",
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed-or-mobile",
}


# -- phones in bulk -------------------------------------------------------------------------------
# The order phonenumbers tries a number's types in (phonenumberutil._number_type_helper); fixed line and
# mobile come last, and a number matching both is "fixed line or mobile".
_TYPE_ORDER = ("premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan", "voicemail")


def phones_e164(values: pa.Array, region: str = REGION) -> tuple[np.ndarray, pa.Array, pa.Array]:
    """`phone()` for many values at once, for the forms that need no parsing: E.164 in the region's country
    code ("+94771234567") and the WhatsApp JID of one ("94771234567@s.whatsapp.net"). Returns (done, canonical,
    type): `done[i]` says value i is such a number and valid; the rest (other spellings, other countries,
    invalid numbers) are for `phone()`. Validity and type apply phonenumbers' own metadata patterns for the
    region, in phonenumbers' order, in Arrow (RE2), so the answers are phonenumbers' (tests/test_identifiers.py
    compares them number by number)."""
    n = len(values)
    none = (np.zeros(n, dtype=bool), pa.nulls(n, pa.string()), pa.nulls(n, pa.string()))
    md = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if md is None or md.country_code is None:
        return none
    cc, prefix = md.country_code, md.national_prefix_for_parsing or md.national_prefix
    if phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(cc) != (region,) or (prefix and not prefix.isdigit()):
        return none  # a code several regions share (+1, +44), or a national prefix that is a pattern: phonenumbers decides
    values = values.cast(pa.string())
    # the national number: digits after the code, not starting with 0 or the national prefix (parse strips neither then)
    e164 = pc.fill_null(pc.match_substring_regex(values, rf"^\+{cc}[1-9][0-9]{{1,16}}$"), False)
    jid = pc.fill_null(pc.match_substring_regex(values, rf"^{cc}[1-9][0-9]{{1,16}}@(s\.whatsapp\.net|c\.us)$"), False)
    canonical = pc.if_else(jid, pc.binary_join_element_wise("+", pc.replace_substring_regex(values, "@.*$", ""), ""), values)
    canonical = pc.if_else(pc.or_(e164, jid), canonical, None)
    nsn = pc.utf8_slice_codeunits(canonical, len(str(cc)) + 1)
    if prefix:
        nsn = pc.if_else(pc.starts_with(nsn, prefix), None, nsn)
    length = pc.utf8_length(nsn).to_numpy(zero_copy_only=False)

    def matches(desc) -> np.ndarray:
        if desc is None or not desc.national_number_pattern:
            return np.zeros(n, dtype=bool)
        ok = pc.fill_null(pc.match_substring_regex(nsn, f"^(?:{desc.national_number_pattern})$"), False).to_numpy(zero_copy_only=False)
        if desc.possible_length:
            ok &= np.isin(length, list(desc.possible_length))
        return ok

    general = matches(md.general_desc)
    typ = np.full(n, None, dtype=object)
    left = general.copy()
    for name in _TYPE_ORDER:
        hit = left & matches(getattr(md, name))
        typ[hit], left = "other", left & ~hit
    fixed, mobile = matches(md.fixed_line), matches(md.mobile)
    both = fixed & (mobile | bool(md.same_mobile_and_fixed_line_pattern))
    typ[left & both] = _PHONE_TYPES[phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE]
    typ[left & fixed & ~both] = _PHONE_TYPES[phonenumbers.PhoneNumberType.FIXED_LINE]
    typ[left & ~fixed & mobile & (not md.same_mobile_and_fixed_line_pattern)] = _PHONE_TYPES[phonenumbers.PhoneNumberType.MOBILE]
    done = typ != None  # noqa: E711 - element-wise
    return done, pc.if_else(pa.array(done), canonical, None), pa.array(typ, pa.string())


# -- Sri Lankan NIC -------------------------------------------------------------------------------
def nic(raw: str, region: str = REGION) -> Normal:
    """Old (YYDDDSSSC + V/X) and new (YYYYDDDSSSSC) forms, both to the new 12-digit form, which is
    how the Department for Registration of Persons converts them (19YY DDD 0SSS C). DDD is the day
    of the year of birth in a 366-day year, plus 500 for women."""
    t = raw.replace(" ", "").upper()
    if re.fullmatch(r"\d{9}[VX]", t):
        canonical, year, ddd, form = f"19{t[:2]}{t[2:5]}0{t[5:9]}", 1900 + int(t[:2]), int(t[2:5]), "old"
    elif re.fullmatch(r"\d{12}", t):
        canonical, year, ddd, form = t, int(t[:4]), int(t[4:7]), "new"
    else:
        return Normal("nic", t, False)
    sex = "female" if ddd > 500 else "male"
    day = ddd - 500 if ddd > 500 else ddd
    born = _nic_birth_date(year, day)
    if born is None:
        return Normal("nic", canonical, False, {"form": form, "reason": f"day {ddd} is not a day of {year}"})
    return Normal("nic", canonical, True, {"form": form, "birth_date": born.isoformat(), "sex": sex})


def _nic_birth_date(year: int, day: int) -> date | None:
    """NIC day numbers count February as 29 days in every year."""
    if not 1 <= day <= 366:
        return None
    in_leap = date(2000, 1, 1) + timedelta(days=day - 1)
    try:
        return in_leap.replace(year=year)
    except ValueError:  # 29 February in a year that has none
        return None


def nic_matches(nic_value: str, birth_date: date | None = None, sex: str | None = None) -> bool | None:
    """Cross-check a NIC against a stated birth date and sex (None when it cannot be decoded)."""
    n = nic(nic_value)
    if not n.valid:
        return None
    ok = True
    if birth_date is not None:
        ok &= n.detail["birth_date"] == birth_date.isoformat()
    if sex is not None:
        ok &= n.detail["sex"] == sex.lower()
    return ok


# -- money ----------------------------------------------------------------------------------------
def bank_account(raw: str, region: str = REGION) -> Normal:
    """Digits as the bank prints them (leading zeros matter); separators dropped."""
    digits = re.sub(r"[\s\-./]", "", raw)
    return Normal("bank-account", digits, digits.isdigit() and 5 <= len(digits) <= 20)


def iban(raw: str, region: str = REGION) -> Normal:
    t = re.sub(r"\s", "", raw).upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{8,30}", t):
        return Normal("iban", t, False)
    moved = t[4:] + t[:4]
    number = int("".join(str(int(c, 36)) for c in moved))
    return Normal("iban", t, number % 97 == 1, {"country": t[:2]})


def eth(raw: str, region: str = REGION) -> Normal:
    from eth_utils import is_hex_address, to_checksum_address

    if not is_hex_address(raw):
        return Normal("eth", raw, False)
    mixed = raw[2:] != raw[2:].lower() and raw[2:] != raw[2:].upper()
    checksummed = to_checksum_address(raw)
    return Normal(
        "eth",
        checksummed,
        not mixed or checksummed == raw,
        {"checksum": "wrong" if mixed and checksummed != raw else "ok" if mixed else "none"},
    )


def tron_to_hex(address: str) -> str:
    """'T…' → '41…' (0x41 + the 20-byte account). ValueError on a bad checksum."""
    raw = base58.b58decode_check(address)
    if len(raw) != 21 or raw[:1] != b"\x41":
        raise ValueError(f"not a TRON address: {address!r}")
    return raw.hex()


def tron_from_hex(address: str) -> str:
    """'41…' (or '0x…' with the 20-byte account, as EVM tools print it) → 'T…'."""
    h = address.lower().removeprefix("0x")
    if len(h) == 40:
        h = "41" + h
    raw = bytes.fromhex(h)
    if len(raw) != 21 or raw[:1] != b"\x41":
        raise ValueError(f"not a TRON hex address: {address!r}")
    return base58.b58encode_check(raw).decode()


def tron(raw: str, region: str = REGION) -> Normal:
    try:
        canonical = raw if raw.startswith("T") else tron_from_hex(raw)
        return Normal("tron", canonical, True, {"hex": tron_to_hex(canonical)})
    except ValueError:
        return Normal("tron", raw, False)


def btc(raw: str, region: str = REGION) -> Normal:
    if raw.lower().startswith(("bc1", "tb1")):
        hrp = raw[:2].lower()
        version, _program = bech32.decode(hrp, raw.lower())
        return Normal("btc", raw.lower(), version is not None, {"type": f"segwit-v{version}"} if version is not None else {})
    try:
        version = base58.b58decode_check(raw)[:1]
    except ValueError:
        return Normal("btc", raw, False)
    kinds = {b"\x00": "p2pkh", b"\x05": "p2sh", b"\x6f": "testnet-p2pkh", b"\xc4": "testnet-p2sh"}
    return Normal("btc", raw, version in kinds, {"type": kinds.get(version, "unknown")})


# -- people and accounts on platforms ----------------------------------------------------------
def email(raw: str, region: str = REGION) -> Normal:
    t = raw.strip().strip("<>").lower()
    return Normal("email", t, bool(re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z0-9-]{2,}", t)))


def username(raw: str, region: str = REGION) -> Normal:
    t = raw.strip().lstrip("@").lower()
    return Normal("username", t, bool(re.fullmatch(r"[a-z0-9_.]{2,64}", t)))


def passport(raw: str, region: str = REGION) -> Normal:
    t = re.sub(r"\s", "", raw).upper()
    return Normal(
        "passport", t, bool(re.fullmatch(r"[A-Z0-9]{6,12}", t)), {"format": "Sri Lankan"} if re.fullmatch(r"[NM]\d{7}", t) else {}
    )


_KINDS = {
    "phone": phone,
    "whatsapp-lid": phone,
    "nic": nic,
    "bank-account": bank_account,
    "iban": iban,
    "eth": eth,
    "tron": tron,
    "btc": btc,
    "email": email,
    "username": username,
    "passport": passport,
}
