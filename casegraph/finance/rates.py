"""Conversion into one currency (LKR by default), only with an examiner's rate table taken into evidence.

A transfer is converted at the rate for its calendar date as its record states it, or, when the table
has none that day (weekends, holidays), the latest earlier rate within `max_gap_days`; the rate used, and
its row in the exhibit, are cited with every converted figure. A transfer with no rate is not converted
and the figure says so. Nothing is converted without a table: no built-in or fetched rates.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

from ..model import ExchangeRate

CENT = Decimal("0.01")


class RateTable:
    def __init__(self, rates: list[ExchangeRate], quote: str = "LKR", max_gap_days: int = 7):
        self.quote, self.max_gap = quote.upper(), timedelta(days=max_gap_days)
        self._by: dict[str, list[ExchangeRate]] = defaultdict(list)
        for r in sorted(rates, key=lambda r: (r.day, r.prov.locator)):
            if r.quote == self.quote:
                self._by[r.base].append(r)  # a later row for the same day wins below (it is read last)

    def rate(self, currency: str | None, day: date | None) -> ExchangeRate | None:
        """The rate for one unit of `currency` on `day` (or the latest before it, within the allowed gap)."""
        rows = self._by.get((currency or "").upper())
        if not rows or day is None:
            return None
        i = bisect_right([r.day for r in rows], day)
        if not i or day - rows[i - 1].day > self.max_gap:
            return None
        return rows[i - 1]


def rate_evidence(r: ExchangeRate) -> dict:
    return {
        "table": "exchange-rates",
        "record": f"{r.base}/{r.quote} on {r.day.isoformat()}",
        "locator": r.prov.locator,
        "exhibit_sha256": r.prov.exhibit_sha256,
        "rate": str(r.rate),
        "source": r.source,
    }


def convert(figure: dict, rows: dict[str, dict], table: RateTable, day_of) -> tuple[dict | None, list[dict], list[str]]:
    """`figure` (a 'sum' in a foreign currency) in the table's currency: a 'converted' figure over the records
    that have a rate (each conversion listed), the rate rows to cite, and the records left unconverted."""
    if figure.get("rule") != "sum" or figure.get("currency") in (None, table.quote):
        return None, [], []
    conversions, evidence, missing = [], [], []
    total = Decimal(0)
    with localcontext() as ctx:
        ctx.prec = 60
        for rid in figure["records"]:
            row = rows[rid]
            r = table.rate(row["currency"], day_of(row))
            if r is None:
                missing.append(rid)
                continue
            total += row["amount"] * r.rate
            conversions.append(
                {
                    "record": rid,
                    "rate": str(r.rate),
                    "rate_day": r.day.isoformat(),
                    "rate_locator": r.prov.locator,
                    "rate_exhibit_sha256": r.prov.exhibit_sha256,
                }
            )
            ev = rate_evidence(r)
            if ev not in evidence:
                evidence.append(ev)
        if not conversions:
            return None, [], missing
        amount = total.quantize(CENT, rounding=ROUND_HALF_EVEN)
    return (
        {
            "name": f"{figure['name']} in {table.quote}",
            "currency": table.quote,
            "amount": str(amount),
            "records": sorted(c["record"] for c in conversions),
            "rule": "converted",
            "of": figure["name"],
            "from": figure["currency"],
            "rounded_to": str(CENT),
            "conversions": conversions,
        },
        evidence,
        missing,
    )
