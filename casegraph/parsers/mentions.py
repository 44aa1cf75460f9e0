"""Identifiers mentioned in free text: phones, emails, NIC numbers, bank accounts, IBANs, wallets.

This finds and checks candidates so the graph can join a number typed into a chat with the same
number in a bank's KYC record. Values are stored as written; the checks and the canonical forms
(E.164, checksummed addresses, the 12-digit NIC) come from one place, graph/identifiers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..graph.identifiers import valid

# One cheap scan first: a superset of every pattern below, so most messages are skipped at once.
# It is written for both Python's re and RE2, so columnar parsers can apply it with pyarrow.
PREFILTER = r"@|0x|bc1|\d[\d \-()." + "\u00a0" + r"]{4,}\d|T[1-9A-HJ-NP-Za-km-z]{33}|[13][1-9A-HJ-NP-Za-km-z]{25}|[A-Z]{2}\d{2}"
_CANDIDATE = re.compile(PREFILTER)

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
_ANY = re.compile("|".join(f"(?P<g{i}>{pattern.replace('(?P<v>', f'(?P<v{i}>')})" for i, (_, pattern) in enumerate(_KINDS)))


def find(text: str | None, region: str = "LK") -> Iterator[tuple[str, str, tuple[int, int]]]:
    """(kind, value as written, (start, end)) for each identifier in text, checked where a check exists
    (checksums, NIC day-of-year, phone numbering plans), by the same code that normalises them."""
    if not text or not _CANDIDATE.search(text):
        return
    for m in _ANY.finditer(text):
        i = int(m.lastgroup[1:])
        kind, value, span = _KINDS[i][0], m.group(f"v{i}"), m.span(f"v{i}")
        if kind == "phone":
            value = value.strip(" -().")
            if sum(c.isdigit() for c in value) < 9:
                continue
        if kind not in _CHECKED or valid(kind, value, region):
            yield kind, value, span


_CHECKED = {"tron", "nic", "btc", "phone"}  # checksums, NIC day numbers, numbering plans: graph/identifiers


def looks_like_phone(s: str) -> bool:
    """A sender written as a number (WhatsApp shows unsaved contacts this way)."""
    t = s.strip().lstrip("\u202a\u2068").rstrip("\u202c\u2069")
    return bool(t) and t[0] in "+0123456789" and sum(c.isdigit() for c in t) >= 7 and all(c in "+0123456789 -()" for c in t)
