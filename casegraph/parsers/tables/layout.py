"""Where a statement's table is and what it is: the header row among the first lines or sheet rows (below a
title block that may give the account number), its width, and the profile that knows its headers."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .profiles import Profile, _norm, best

HEADER_SCAN = 40  # lines or sheet rows searched for the header row
_ACCOUNT_LINE = re.compile(r"(?i)\bacc(?:ount)?\.?\s*(?:no\.?|number|#)?\s*[:\-]?\s*(\d[\d\- ]{5,22}\d)")
_FILE_ACCOUNT = re.compile(r"(?<!\d)(\d{8,16})(?!\d)")


@dataclass
class _Layout:
    """Where the table is and what it is: found once, from the head of the file or sheet."""

    header_index: int  # 0-based line/row of the header
    headers: list[str]
    profile: Profile | None
    mapping: dict[str, str] = field(default_factory=dict)
    delimiter: str = ","
    preamble: list[str] = field(default_factory=list)
    error: str | None = None  # the reader could not open the file: why


def _looks_tabular(headers: list[str]) -> bool:
    h = {_norm(x) for x in headers}
    return any("date" in x or "time" in x for x in h) and any(w in x for x in h for w in ("debit", "credit", "amount", "value"))


def _find_layout(rows: list[list[str]], profiles: list[Profile], delimiter: str = ",") -> _Layout | None:
    for i, row in enumerate(rows[:HEADER_SCAN]):
        cells = [c for c in row if c is not None]
        if len(cells) < 2:
            continue
        profile, mapping = best(profiles, [str(c) for c in row])
        if profile is not None:
            return _Layout(
                i,
                [str(c) if c is not None else "" for c in row],
                profile,
                mapping,
                delimiter,
                [" ".join(str(c) for c in r if c not in (None, "")) for r in rows[:i]],
            )
    for i, row in enumerate(rows[:HEADER_SCAN]):  # no profile: still say which table this was
        if _looks_tabular([str(c) for c in row if c is not None]):
            return _Layout(i, [str(c) if c is not None else "" for c in row], None, {}, delimiter)
    return None


def _fit_width(layout: _Layout, rows: list[list[str]]) -> _Layout:
    """The header as wide as the rows below it: exports that end every row with one more (empty) cell
    than the header names (Etherscan internal transactions), or a header that ends with a delimiter
    (spreadsheet exports), would otherwise have every row rejected for its cell count."""
    widths = Counter(len(r) for r in rows[layout.header_index + 1 :] if r)
    if not widths:
        return layout
    width = widths.most_common(1)[0][0]
    headers = layout.headers
    if len(headers) > width and all(not h.strip() for h in headers[width:]):
        headers = headers[:width]
    elif len(headers) < width:
        headers = headers + [f"(unnamed column {k + 1})" for k in range(len(headers), width)]
    layout.headers = headers
    return layout


def _csv_head(text: str) -> tuple[list[list[str]], str]:
    lines = text.splitlines()[:HEADER_SCAN]
    sample = "\n".join(lines)
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    return list(csv.reader(io.StringIO(sample), delimiter=delimiter)), delimiter


def _holder_account(preamble: list[str], file_name: str) -> str | None:
    """The statement's own account: from an 'Account No' line above the table, else from the file name."""
    for line in preamble:
        m = _ACCOUNT_LINE.search(line)
        if m:
            return re.sub(r"[\s-]", "", m.group(1))
    m = _FILE_ACCOUNT.search(Path(file_name).stem)
    return m.group(1) if m else None
