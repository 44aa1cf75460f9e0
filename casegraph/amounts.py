"""Amounts as people read them: always with their currency or token, thousands separated, and
summed per currency, never across currencies."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal


def format_amount(amount: Decimal | int | float | None, currency: str | None) -> str:
    """`LKR 1,500,000.00`, `USDT 12,712.568694`, `ETH 0.5`: the value exact (no float rounding of a
    Decimal), at least two decimals, trailing zeros beyond that dropped; the unit always shown."""
    unit = currency or "(currency not stated)"
    if amount is None:
        return f"{unit} (amount not stated)"
    value = Decimal(str(amount)) if isinstance(amount, float) else Decimal(amount)
    text = f"{value:,f}"
    whole, _, frac = text.partition(".")
    frac = frac.rstrip("0").ljust(2, "0")
    return f"{unit} {whole}.{frac}"


def sum_by_currency(pairs: Iterable[tuple[Decimal | int | None, str | None]]) -> dict[str | None, Decimal]:
    """Totals per currency, in first-seen order; amounts that are not stated are left out."""
    totals: dict[str | None, Decimal] = {}
    for amount, currency in pairs:
        if amount is not None:
            totals[currency] = totals.get(currency, Decimal(0)) + Decimal(amount)
    return totals


def format_totals(totals: dict[str | None, Decimal]) -> str:
    """`LKR 4,500,000.00 and USDT 1,200.00`; 'nothing' when there is no amount."""
    parts = [format_amount(v, c) for c, v in totals.items()]
    if not parts:
        return "nothing"
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
