"""The channel a bank or mobile-money narration names: cash, atm, card, cheque, fee, bill or transfer.

Derived when asked, in SQL, rather than stored at ingest: six regular expressions over ten million
narrations cost more than reading the statement itself, and the rules can then be refined without
parsing the evidence again. Patterns are matched on the upper-cased narration; the first listed wins.
"""

from __future__ import annotations

import duckdb

from ..store import sql_literal

CHANNELS = (
    ("cash", r"\bCASH\b|\bCDM\b"),
    ("atm", r"\bATM\b"),
    ("card", r"\bPOS\b|\bCARD\b"),
    ("cheque", r"\bCHQ\b|CHEQUE"),
    ("fee", r"CHARGE|\bFEE\b|COMMISSION"),
    ("bill", r"\bBILLS?\b|UTILITY|\bRELOAD\b"),  # bill payments (telecom, electricity, water) and top-ups
    ("transfer", r"CEFT|SLIPS|TRANSFER|\bTRF\b|\bFT\b|\bIB\b|ONLINE|REMITTANCE"),
)
RAILS = ("bank", "mobile-money")


def channel_sql(description: str = "description", rail: str = "rail") -> str:
    """A DuckDB expression for a transaction's channel (NULL: none named, or not a bank or wallet statement)."""
    whens = " ".join(f"WHEN regexp_matches(upper({description}), {sql_literal(p)}) THEN {sql_literal(c)}" for c, p in CHANNELS)
    return f"(CASE WHEN {rail} NOT IN ({', '.join(map(sql_literal, RAILS))}) THEN NULL {whens} END)"


def channel(description: str | None, rail: str = "bank") -> str | None:
    """The channel of one narration, by the same SQL expression."""
    return duckdb.execute(f"SELECT {channel_sql('$d', '$r')}", {"d": description, "r": rail}).fetchall()[0][0]
