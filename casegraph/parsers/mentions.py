"""Identifiers mentioned in free text: phones, emails, NIC numbers, bank accounts, IBANs, wallets.

This finds and checks candidates so the graph can join a number typed into a chat with the same
number in a bank's KYC record. Values are stored as written; the checks and the canonical forms
(E.164, checksummed addresses, the 12-digit NIC) come from one place, casegraph/identifiers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..identifiers import valid

# One cheap scan first: a superset of every pattern below, so most messages are skipped at once.
# It is written for both Python's re and RE2, so columnar parsers can apply it with pyarrow.
PREFILTER = r"@|0x|bc1|\d[\d \-()." + "\u00a0" + r"]{4,}\d|T[1-9A-HJ-NP-Za-km-z]{33}|[13][1-9A-HJ-NP-Za-km-z]{25}|[A-Z]{2}\d{2}"
_CANDIDATE = re.compile(PREFILTER)
# RE2's \d is ASCII only, Python's is every decimal digit (Arabic-Indic, Devanagari, ...): the same
# prefilter for Arrow, with the digit class spelled out, so both pick the same rows.
RE2_PREFILTER = PREFILTER.replace(r"\d", r"\p{Nd}")

_SL_BANKS = (
    r"BOC|Bank of Ceylon|Commercial Bank|ComBank|HNB|Hatton National Bank|Sampath(?: Bank)?|People'?s Bank|"
    r"NSB|Seylan(?: Bank)?|NDB|DFCC|Nations Trust(?: Bank)?|NTB|Pan Asia(?: Bank)?|Union Bank|Cargills Bank|Amana Bank"
)
# (kind, pattern with the value in group "v"), in priority order: where two could match at one place, the first wins.
_KINDS = (
    ("email", r"\b(?P<v>[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+)\b"),
    ("eth", r"\b(?P<v>0x[0-9a-fA-F]{40})\b"),
    ("tron", r"\b(?P<v>T[1-9A-HJ-NP-Za-km-z]{33})\b"),
    ("iban", r"\b(?P<v>[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?)\b"),
    ("bank-account", r"(?i:\b(?:a/c|acc(?:ount)?|acct|" + _SL_BANKS + r")\.?\s*(?:no\.?|number|#)?\s*[:.,\-]?\s*)(?P<v>\d[\d \-]{4,20}\d)"),
    ("nic", r"(?<!\w)(?P<v>\d{9}[VvXx])(?!\w)"),
    ("nic", r"(?<!\d)(?P<v>(?:19|20)\d{2}[0-8]\d{7})(?!\d)"),
    ("btc", r"\b(?P<v>bc1[02-9ac-hj-np-z]{11,71}|[13][1-9A-HJ-NP-Za-km-z]{25,34})\b"),
    ("username", r"(?<![\w@.])@(?P<v>[A-Za-z][A-Za-z0-9_.]{3,31})\b"),
    ("phone", r"(?<![\w+])(?P<v>(?:\+|00)?\d[\d \-().\u00a0]{6,17}\d)(?!\w)"),
)
# One scan for all of them: alternative i is group g<i>, its value group v<i>.
_ALTERNATIVES = tuple(f"(?P<g{i}>{pattern.replace('(?P<v>', f'(?P<v{i}>')})" for i, (_, pattern) in enumerate(_KINDS))
_ANY = re.compile("|".join(_ALTERNATIVES))
# For the columnar path, each alternative's superset in RE2: the same pattern without look-arounds and
# word boundaries, Python's Unicode \d as \p{Nd}, and (?i) letters that Python also folds and RE2 does not
# (dotless ı and dotted İ for i). Where a row matches none of an alternative's superset, that
# alternative cannot match anywhere in it, so leaving it out of the scan changes nothing.
_RE2_BANK = "(?i:a/c|acc|" + re.sub("[iI]", "[iIıİ]", _SL_BANKS) + r")[\s\S]*\p{Nd}[\p{Nd} \-]{4,}\p{Nd}"
_RE2_SUPERSETS = (
    "@",
    "0x[0-9a-fA-F]{40}",
    "T[1-9A-HJ-NP-Za-km-z]{33}",
    r"[A-Z]{2}\p{Nd}{2}",
    _RE2_BANK,
    r"\p{Nd}{9}[VvXx]",
    r"(?:19|20)\p{Nd}{2}[0-8]\p{Nd}{7}",
    "bc1[02-9ac-hj-np-z]{11}|[13][1-9A-HJ-NP-Za-km-z]{25}",
    "@",
    r"\p{Nd}[\p{Nd} \-().\x{a0}]{6,}\p{Nd}",
)
_SCANS: dict[int, re.Pattern[str]] = {}  # the scan for each set of alternatives (a bit mask), compiled once


def find(text: str | None, region: str = "LK") -> Iterator[tuple[str, str, tuple[int, int]]]:
    """(kind, value as written, (start, end)) for each identifier in text, checked where a check exists
    (checksums, NIC day-of-year, phone numbering plans), by the same code that normalises them."""
    if not text or not _CANDIDATE.search(text):
        return
    for kind, value, span in _candidates(text):
        if kind not in _CHECKED or valid(kind, value, region):
            yield kind, value, span


@dataclass
class Found:
    """The identifiers found in a text column, one entry per identifier (rows may repeat)."""

    rows: list[int]
    kinds: list[str]
    values: list[str]
    spans: list[tuple[int, int]]
    texts: list[str]  # the text each was found in


def find_column(text: pa.Array | pa.ChunkedArray, region: str = "LK", rows: np.ndarray | None = None) -> Found:
    """`find` over a whole text column, with the same results: one RE2 pass picks the rows that may
    hold an identifier, the patterns run on those rows only, and each distinct candidate value is
    checked once (a chat repeats the same numbers; phonenumbers costs ~40 µs a call).
    `rows`: the rows to look at (default all)."""
    hit = pc.fill_null(pc.match_substring_regex(text, RE2_PREFILTER), False).to_numpy(zero_copy_only=False)
    if rows is not None:
        keep = np.zeros(len(hit), bool)
        keep[rows] = True
        hit &= keep
    out = Found([], [], [], [], [])
    picked = np.flatnonzero(hit)
    if not len(picked):
        return out
    texts = text.take(pa.array(picked, pa.int64()))
    masks = np.zeros(len(picked), np.int64)
    for bit, superset in enumerate(_RE2_SUPERSETS):
        masks |= pc.match_substring_regex(texts, superset).to_numpy(zero_copy_only=False).astype(np.int64) << bit
    for row, t, mask in zip(picked.tolist(), texts.to_pylist(), masks.tolist(), strict=True):
        if not mask:
            continue
        for kind, value, span in _candidates(t, _scan(mask)):
            out.rows.append(row)
            out.kinds.append(kind)
            out.values.append(value)
            out.spans.append(span)
            out.texts.append(t)
    checked = {key: valid(*key, region) for key in {(k, v) for k, v in zip(out.kinds, out.values, strict=True) if k in _CHECKED}}
    keep_at = [i for i, key in enumerate(zip(out.kinds, out.values, strict=True)) if key[0] not in _CHECKED or checked[key]]
    if len(keep_at) < len(out.rows):
        out = Found(
            [out.rows[i] for i in keep_at],
            [out.kinds[i] for i in keep_at],
            [out.values[i] for i in keep_at],
            [out.spans[i] for i in keep_at],
            [out.texts[i] for i in keep_at],
        )
    return out


def _scan(mask: int) -> re.Pattern[str]:
    if mask not in _SCANS:
        _SCANS[mask] = re.compile("|".join(a for i, a in enumerate(_ALTERNATIVES) if mask >> i & 1))
    return _SCANS[mask]


def _candidates(text: str, scan: re.Pattern[str] = _ANY) -> Iterator[tuple[str, str, tuple[int, int]]]:
    """Every pattern match, before the checks (a phone needs at least 9 digits)."""
    for m in scan.finditer(text):
        i = int(m.lastgroup[1:])
        kind, value, span = _KINDS[i][0], m.group(f"v{i}"), m.span(f"v{i}")
        if kind == "phone":
            value = value.strip(" -().")
            if sum(map(str.isdigit, value)) < 9:
                continue
        yield kind, value, span


_CHECKED = {"tron", "nic", "btc", "phone"}  # checksums, NIC day numbers, numbering plans: casegraph/identifiers


def looks_like_phone(s: str) -> bool:
    """A sender written as a number (WhatsApp shows unsaved contacts this way)."""
    t = s.strip().lstrip("\u202a\u2068").rstrip("\u202c\u2069")
    return bool(t) and t[0] in "+0123456789" and sum(c.isdigit() for c in t) >= 7 and all(c in "+0123456789 -()" for c in t)
