"""Tables of money movements: bank and mobile-money statements, Etherscan and Tronscan exports.

One engine, driven by profiles (TOML files in parsers/profiles/, or one the examiner names): a
profile maps a source's column headers to the canonical fields. The header row is found among the
first lines (statements often start with a title block, which may give the account number), the
best-matching profile is chosen, and the rows are converted column-wise with Arrow: amounts to
exact decimals, dates with the profile's format, debit/credit or signed amounts to a direction.
A table whose headers no profile knows gets a clear error listing the headers found. The parts live
in parsers/tables/: profiles, layout (where the table is), readers (CSV, tolerant CSV, XLSX), convert.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ..model import Batch, Record, numbered
from . import register
from .base import Parser, Probe, Source
from .prefetch import prefetch
from .tables import readers
from .tables.convert import GENUINE_USDT, _Ctx, to_batch
from .tables.layout import HEADER_SCAN, _csv_head, _find_layout, _fit_width, _holder_account, _Layout
from .tables.profiles import Profile, builtin_profiles
from .tables.readers import ROWS_PER_BATCH, WorkbookRefused, _cell, _decodes, _table, _tolerant_rows, _unique, _xlsx_rows

__all__ = ["Profile", "TransactionTable", "builtin_profiles"]


@register
class TransactionTable(Parser):
    name = "transaction-table"
    version = "1.1"  # 1.1: dates without a time kept as dates, row order (seq), status, ragged rows
    reads = "bank and mobile-money statements and transaction listings (CSV, XLSX), Etherscan (normal, ERC-20, internal) and Tronscan exports, by column profiles in `casegraph/parsers/profiles/` (BOC, Commercial Bank, eZ Cash, bank ledger, Etherscan, Tronscan); amounts exact; a table no profile knows gets an error listing its headers; `--option profile=PATH` for a new bank, `--option account=NUMBER` for the statement's own account; header names matched ignoring case and punctuation (`Amount/TokenID`); ragged rows (a trailing empty cell, a header ending in a comma) fitted, every row a record or an issue; dates without a time kept as dates, in the statement's row order; failed or reverted chain transfers kept with `status` failed; XLSX read from the evidence store with decompression bounded"  # noqa: E501
    locators = "`row:12`, `xlsx:Statement!row=5`"
    section = "money"
    description = "Bank and mobile-money statements, Etherscan and Tronscan exports (CSV, XLSX) by column profiles"

    def __init__(self, profile: str | None = None, account: str | None = None):
        self.forced_profile, self.account = profile, account

    def profiles(self) -> list[Profile]:
        if not self.forced_profile:
            return builtin_profiles()
        if Path(self.forced_profile).is_file():
            return [Profile.load(self.forced_profile)]
        chosen = [p for p in builtin_profiles() if p.name == self.forced_profile]
        if not chosen:
            raise ValueError(
                f"no statement profile named {self.forced_profile!r}; known: "
                f"{', '.join(p.name for p in builtin_profiles())}, or a path to a TOML profile"
            )
        return chosen

    # -- detection --------------------------------------------------------------------------------
    def sniff(self, probe: Probe) -> float:
        layout = self._probe_layout(probe)
        if layout is None:
            return 0.0
        return 0.9 if layout.profile is not None else 0.6  # 0.6: claim it, to say which profile is missing (or why it failed)

    def _probe_layout(self, probe: Probe) -> _Layout | None:
        if probe.suffix == ".xlsx" or any(m == "xl/workbook.xml" for m in probe.members):
            try:
                rows = [r for _, _, r in _xlsx_rows(probe.path, HEADER_SCAN)]
            except WorkbookRefused as e:  # claimed, so that parsing says why it could not be read
                return _Layout(0, [], None, error=str(e))
            return _find_layout(rows, self.profiles())
        if probe.suffix not in (".csv", ".tsv", ".txt", "") or b"\x00" in probe.head[:4096].replace(b"\x00\x00", b""):
            return None
        rows, delimiter = _csv_head(probe.text)
        layout = _find_layout(rows, self.profiles(), delimiter)
        return _fit_width(layout, rows) if layout is not None else None

    # -- parsing ----------------------------------------------------------------------------------
    def parse(self, src: Source) -> Iterator[Record | Batch]:
        probe = Probe.of(src.path, src.name)
        layout = self._probe_layout(probe)
        if layout is not None and layout.error:  # the run stops here, and says why (status partial, an error issue)
            raise WorkbookRefused(f"{src.name}: {layout.error}")
        if layout is None or layout.profile is None:
            headers = layout.headers if layout else []
            yield self.issue(
                src,
                f"row:{layout.header_index + 1}" if layout else "file",
                f"{src.name}: no statement profile matches these headers: {headers}. Add a profile "
                "(see casegraph/parsers/profiles/) and name it with --option profile=PATH",
            )
            return
        holder = self.account or _holder_account(layout.preamble, src.name)
        if holder is None and layout.profile.rail in ("bank", "mobile-money"):
            yield self.issue(
                src,
                "file",
                f"{src.name}: the statement's own account number is not in the file or its "
                "name; pass --option account=NUMBER so transfers get both ends",
                severity="warning",
            )
        yield self.issue(
            src, "file", f"read with profile {layout.profile.name} ({layout.profile.source}); columns: {layout.mapping}", severity="info"
        )
        ctx = _Ctx(src, layout, holder)
        if probe.suffix == ".xlsx" or "xl/workbook.xml" in probe.members:
            yield from self._xlsx(ctx)
        else:
            yield from self._csv(ctx, probe)
        if ctx.fakes:
            first = min(ctx.fakes)[1]  # the earliest in the file (batches are converted in parallel)
            yield self.issue(
                src,
                first,
                f"{sum(n for _, _, n in ctx.fakes)} transfer(s) of a token called USDT whose contract is "
                f"not Tether's ({GENUINE_USDT.get(layout.profile.rail)}): marked token_warning",
                severity="warning",
            )

    def _csv(self, ctx: _Ctx, probe: Probe) -> Iterator[Record | Batch]:
        layout, bad = ctx.layout, []
        names = _unique(layout.headers)

        def invalid(row) -> str:
            bad.append(row.text)
            return "skip"

        encoding = "utf-16" if probe.head.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8"
        text = _decodes(ctx.src.path, "utf-8") if encoding == "utf-8" else None
        ctx.ascii = text == "ascii"
        # the whole file was found to be valid UTF-8 (or ASCII), so is every cell (cells are split at ASCII bytes,
        # which never occur inside a multi-byte character): Arrow's check of each cell again is a fifth of the read
        whole_utf8 = bool(text)
        if encoding == "utf-8" and not text:
            encoding = "cp1252" if _decodes(ctx.src.path, "cp1252") else "latin-1"
            yield self.issue(
                ctx.src,
                "file",
                f"{ctx.src.name} is not valid UTF-8; read as {encoding}, as spreadsheet exports on Windows are written",
                severity="warning",
            )

        def reader(newlines: bool) -> pacsv.CSVStreamingReader:
            return pacsv.open_csv(
                ctx.src.path,
                read_options=pacsv.ReadOptions(
                    skip_rows=layout.header_index + 1, column_names=names, encoding=encoding, block_size=readers.BLOCK_SIZE
                ),
                parse_options=pacsv.ParseOptions(delimiter=layout.delimiter, newlines_in_values=newlines, invalid_row_handler=invalid),
                convert_options=pacsv.ConvertOptions(
                    column_types={n: pa.string() for n in names},
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                    check_utf8=not whole_utf8,
                ),
            )

        ragged = Counter()

        def arrow_blocks() -> Iterator[pa.RecordBatch]:
            """The rows in Arrow's blocks. Read first without looking for line breaks inside quoted cells (a
            quarter less CPU): Arrow then still parses such a cell right within a block, and when one spans
            two blocks it stops with "out of sync" (never a wrong row). From there the file is read again
            with them looked for, skipping the rows already given."""
            given = 0
            try:
                for rb in reader(newlines=False):
                    yield rb
                    given += rb.num_rows
                return
            except pa.ArrowInvalid as e:
                if "out of sync" not in str(e):
                    raise
            bad.clear()  # rows of the block that failed, if any: read again below
            for rb in reader(newlines=True):
                if given >= rb.num_rows:
                    given -= rb.num_rows
                    continue
                yield rb.slice(given) if given else rb
                given = 0

        def blocks() -> Iterator[tuple[int, pa.RecordBatch | pa.Table, list, np.ndarray | None]]:
            """Blocks as read, each with its first row's number and the issues of its rows. Arrow does not say
            where in a block a row it could not split was, so from the first block that has one the file is
            read again from that block's first row by the tolerant reader, which numbers every row."""
            row = 0
            for rb in arrow_blocks():
                if bad:  # reported while this block (or one read ahead) was parsed
                    yield from _tolerant_rows(ctx.src.path, encoding, layout, len(names), row, ragged)
                    return
                yield row, rb, [], None
                row += rb.num_rows
            if bad:
                yield from _tolerant_rows(ctx.src.path, encoding, layout, len(names), row, ragged)

        def convert(block: tuple[int, pa.RecordBatch | pa.Table, list, np.ndarray | None]) -> list:
            row, rb, found, numbers = block  # numbers: each row's number, when they are not consecutive from row + 1
            out: list = [self.issue(ctx.src, f"row:{number}", message, raw, severity=severity) for number, severity, message, raw in found]
            if rb.num_rows:
                table = (pa.Table.from_batches([rb]) if isinstance(rb, pa.RecordBatch) else rb).rename_columns(
                    layout.headers if len(set(layout.headers)) == len(names) else names
                )
                if numbers is None:
                    locators, seq = numbered("row:", row + 1, rb.num_rows), np.arange(row + 1, row + 1 + rb.num_rows)
                else:
                    locators, seq = pc.binary_join_element_wise("row:", pa.array(numbers).cast(pa.string()), ""), numbers
                out += to_batch(self, ctx, table, locators, row, pa.array(seq, pa.int64()))
            return out

        # blocks are read in one thread and converted in two, while the pipeline stores the ones before
        for out in prefetch(blocks(), convert, depth=2, workers=2):
            yield from out
        if ragged["trimmed"]:
            yield self.issue(
                ctx.src,
                "file",
                f"{ragged['trimmed']} row(s) end with more empty cells than the header has columns; the empty cells were ignored",
                severity="info",
            )

    def _xlsx(self, ctx: _Ctx) -> Iterator[Record | Batch]:
        layout = ctx.layout
        fmt = layout.profile.date_format
        chunk: list[list] = []
        numbers: list[str] = []
        rows: list[int] = []
        sheet_seen = None
        for sheet, n, values in _xlsx_rows(ctx.src.path):
            if sheet_seen is None:
                sheet_seen = sheet
            if sheet != sheet_seen or n <= layout.header_index + 1:
                continue  # the table is on the first sheet, below its header
            if all(v in (None, "") for v in values):
                continue
            chunk.append([_cell(v, fmt) for v in values[: len(layout.headers)]] + [""] * (len(layout.headers) - len(values)))
            numbers.append(f"xlsx:{sheet}!row={n}")
            rows.append(n)
            if len(chunk) >= ROWS_PER_BATCH:
                yield from to_batch(self, ctx, _table(layout.headers, chunk), pa.array(numbers, pa.string()), n, pa.array(rows, pa.int64()))
                chunk, numbers, rows = [], [], []
        if chunk:
            yield from to_batch(self, ctx, _table(layout.headers, chunk), pa.array(numbers, pa.string()), n, pa.array(rows, pa.int64()))

    # -- the column-wise conversion -------------------------------------------------------------
