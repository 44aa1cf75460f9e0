"""An examiner's exchange-rate table: a small CSV with one rate per row, taken into evidence like any exhibit.

    date,from,to,rate,source
    2024-04-19,USDT,LKR,301.25,CBSL indicative rate (exhibit R1)

Headers are matched case-insensitively (from/base/from currency, to/quote/to currency); comma, semicolon or
tab separated; UTF-8 with or without a BOM; ISO dates (2024-04-19) or day-first (19/04/2024, as Sri Lankan
statements write them). A semicolon file may write the rate with a decimal comma (301,25). A row that cannot
be read becomes a ParseIssue naming its line; nothing is dropped silently.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from ..errors import CaseGraphError
from ..model import ExchangeRate, ParseIssue, Provenance

NAME, VERSION = "rate-table", "1.0"
MAX_BYTES = 16 * 1024 * 1024  # a rate table is small; a larger file is not one
HEADERS = {
    "date": ("date", "day", "as of", "value date"),
    "base": ("from", "base", "from currency", "currency", "from_currency"),
    "quote": ("to", "quote", "to currency", "to_currency", "target"),
    "rate": ("rate", "exchange rate", "middle rate", "mid rate"),
    "source": ("source", "published by", "reference"),
}


class RateTableError(CaseGraphError, ValueError):
    pass


def _day(text: str) -> date:
    text = text.strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%Y/%m/%d"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            pass
    raise ValueError(f"date {text!r} is not YYYY-MM-DD or DD/MM/YYYY")


def _rate(text: str, delimiter: str) -> Decimal:
    text = text.strip().replace(" ", "")
    if delimiter == ";" and "," in text and "." not in text:
        text = text.replace(",", ".")  # decimal comma
    text = text.replace(",", "")  # thousands separators
    value = Decimal(text)
    if not value.is_finite() or value <= 0:
        raise InvalidOperation
    return value


def parse(path: Path, exhibit_sha256: str) -> tuple[list[ExchangeRate], list[ParseIssue]]:
    """Every rate in the table, each with its provenance (line number), and an issue per unreadable row."""
    if path.stat().st_size > MAX_BYTES:
        raise RateTableError(f"{path.name}: {path.stat().st_size:,} bytes is too large for a rate table")
    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    head = text[:4096]
    delimiter = max((",", ";", "\t"), key=head.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader, None)
    if not header:
        raise RateTableError(f"{path.name}: empty file, no header")
    names = [h.strip().lower() for h in header]
    cols = {}
    for field, aliases in HEADERS.items():
        found = [i for i, n in enumerate(names) if n in aliases]
        if found:
            cols[field] = found[0]
    missing = [f for f in ("date", "base", "quote", "rate") if f not in cols]
    if missing:
        raise RateTableError(f"{path.name}: header {header!r} lacks {', '.join(missing)} (expected date, from, to, rate, source)")
    rates, issues = [], []
    prov = lambda line: Provenance(exhibit_sha256, NAME, VERSION, f"line:{line}")  # noqa: E731
    for row in reader:
        line = reader.line_num
        if not any(c.strip() for c in row):
            continue
        try:
            cell = lambda f: row[cols[f]] if cols.get(f) is not None and cols[f] < len(row) else ""  # noqa: B023, E731
            base, quote = cell("base").strip().upper(), cell("quote").strip().upper()
            if not base or not quote:
                raise ValueError("a currency is missing")
            rates.append(
                ExchangeRate(
                    _day(cell("date")),
                    base,
                    quote,
                    _rate(cell("rate"), delimiter),
                    cell("source").strip() or "(source not stated)",
                    prov(line),
                )
            )
        except (ValueError, InvalidOperation) as e:
            issues.append(
                ParseIssue(
                    prov=prov(line), message=f"rate row not read: {e or 'rate is not a positive number'}", raw=delimiter.join(row)[:500]
                )
            )
    return rates, issues
