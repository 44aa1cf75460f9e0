"""Tables of money movements: bank and mobile-money statements, Etherscan and Tronscan exports.

One engine, driven by profiles (TOML files in parsers/profiles/, or one the examiner names): a
profile maps a source's column headers to the canonical fields. The header row is found among the
first lines (statements often start with a title block, which may give the account number), the
best-matching profile is chosen, and the rows are converted column-wise with Arrow: amounts to
exact decimals, dates with the profile's format, debit/credit or signed amounts to a direction.
A table whose headers no profile knows gets a clear error listing the headers found.
"""
from __future__ import annotations

import codecs
import csv
import json
import io
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ..model import Batch, Record, constant, numbered
from ..store import AMOUNT
from . import register
from .base import Parser, Probe, Source
from .prefetch import prefetch

GENUINE_USDT = {"tron": "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "ethereum": "0xdac17f958d2ee523a2206206994597c13d831ec7"}
HEADER_SCAN = 40  # lines or sheet rows searched for the header row
ROWS_PER_BATCH = 200_000
_ACCOUNT_LINE = re.compile(r"(?i)\bacc(?:ount)?\.?\s*(?:no\.?|number|#)?\s*[:\-]?\s*(\d[\d\- ]{5,22}\d)")
_FILE_ACCOUNT = re.compile(r"(?<!\d)(\d{8,16})(?!\d)")
_AMOUNT_OK = r"^[+-]?\d{1,20}(\.\d{1,18})?$"
ZERO = pa.scalar(Decimal(0), AMOUNT)


def _norm(header: str) -> str:
    return " ".join(str(header).replace("\ufeff", "").strip().lower().split())


@dataclass
class Profile:
    name: str
    institution: str
    rail: str
    date_format: str
    required: list[str]
    columns: dict[str, list[str]]
    currency: str | None = None
    timezone: str | None = None
    source: str = ""

    @classmethod
    def load(cls, path: Path | str, text: str | None = None) -> Profile:
        data = tomllib.loads(text if text is not None else Path(path).read_text(encoding="utf-8"))
        cols = {k: [v] if isinstance(v, str) else list(v) for k, v in data.pop("columns").items()}
        return cls(columns=cols, source=str(path), **data)

    def match(self, headers: list[str]) -> dict[str, str] | None:
        """Canonical field → header, when every required field is present."""
        by_norm = {_norm(h): h for h in headers}
        found = {f: by_norm[_norm(a)] for f, aliases in self.columns.items() for a in aliases if _norm(a) in by_norm}
        return found if all(f in found for f in self.required) else None


def builtin_profiles() -> list[Profile]:
    folder = resources.files(__package__) / "profiles"
    return [Profile.load(f"profiles/{p.name}", p.read_text(encoding="utf-8"))
            for p in sorted(folder.iterdir(), key=lambda p: p.name) if p.name.endswith(".toml")]


@dataclass
class _Layout:
    """Where the table is and what it is: found once, from the head of the file or sheet."""

    header_index: int  # 0-based line/row of the header
    headers: list[str]
    profile: Profile | None
    mapping: dict[str, str] = field(default_factory=dict)
    delimiter: str = ","
    preamble: list[str] = field(default_factory=list)


def _best(profiles: list[Profile], headers: list[str]) -> tuple[Profile | None, dict[str, str]]:
    best = (None, {})
    for p in profiles:
        m = p.match(headers)
        if m is not None and len(m) > len(best[1]):
            best = (p, m)
    return best


def _looks_tabular(headers: list[str]) -> bool:
    h = {_norm(x) for x in headers}
    return any("date" in x or "time" in x for x in h) and any(w in x for x in h for w in ("debit", "credit", "amount", "value"))


def _find_layout(rows: list[list[str]], profiles: list[Profile], delimiter: str = ",") -> _Layout | None:
    for i, row in enumerate(rows[:HEADER_SCAN]):
        cells = [c for c in row if c is not None]
        if len(cells) < 2:
            continue
        profile, mapping = _best(profiles, [str(c) for c in row])
        if profile is not None:
            return _Layout(i, [str(c) if c is not None else "" for c in row], profile, mapping, delimiter,
                           [" ".join(str(c) for c in r if c not in (None, "")) for r in rows[:i]])
    for i, row in enumerate(rows[:HEADER_SCAN]):  # no profile: still say which table this was
        if _looks_tabular([str(c) for c in row if c is not None]):
            return _Layout(i, [str(c) if c is not None else "" for c in row], None, {}, delimiter)
    return None


def _csv_head(text: str) -> tuple[list[list[str]], str]:
    lines = text.splitlines()[:HEADER_SCAN]
    sample = "\n".join(lines)
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    return list(csv.reader(io.StringIO(sample), delimiter=delimiter)), delimiter


def _xlsx_rows(path: Path, limit: int | None = None) -> Iterator[tuple[str, int, list]]:
    """(sheet, 1-based row number, values) from every sheet, streaming."""
    import openpyxl  # uses defusedxml when it is installed, as it is here

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        for ws in wb.worksheets:
            for n, row in enumerate(ws.iter_rows(values_only=True), 1):
                if limit is not None and n > limit:
                    break
                yield ws.title, n, list(row)
    finally:
        wb.close()


@register
class TransactionTable(Parser):
    name = "transaction-table"
    version = "1.0"
    reads = ('bank and mobile-money statements and transaction listings (CSV, XLSX), Etherscan (normal, '
             'ERC-20, internal) and Tronscan exports, by column profiles in `casegraph/parsers/profiles/` '
             '(BOC, Commercial Bank, eZ Cash, bank ledger, Etherscan, Tronscan); amounts exact; a table no '
             'profile knows gets an error listing its headers; `--option profile=PATH` for a new bank, '
             "`--option account=NUMBER` for the statement's own account")
    locators = '`row:12`, `xlsx:Statement!row=5`'
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
            raise ValueError(f"no statement profile named {self.forced_profile!r}; known: "
                             f"{', '.join(p.name for p in builtin_profiles())}, or a path to a TOML profile")
        return chosen

    # -- detection --------------------------------------------------------------------------------
    def sniff(self, probe: Probe) -> float:
        layout = self._probe_layout(probe)
        if layout is None:
            return 0.0
        return 0.9 if layout.profile is not None else 0.6  # 0.6: claim it, to say which profile is missing

    def _probe_layout(self, probe: Probe) -> _Layout | None:
        if probe.suffix == ".xlsx" or any(m == "xl/workbook.xml" for m in probe.members):
            try:
                rows = [r for _, _, r in _xlsx_rows(probe.path, HEADER_SCAN)]
            except Exception:  # not a workbook after all
                return None
            return _find_layout(rows, self.profiles())
        if probe.suffix not in (".csv", ".tsv", ".txt", "") or b"\x00" in probe.head[:4096].replace(b"\x00\x00", b""):
            return None
        rows, delimiter = _csv_head(probe.text)
        return _find_layout(rows, self.profiles(), delimiter)

    # -- parsing ----------------------------------------------------------------------------------
    def parse(self, src: Source) -> Iterator[Record | Batch]:
        probe = Probe.of(src.path, src.name)
        layout = self._probe_layout(probe)
        if layout is None or layout.profile is None:
            headers = layout.headers if layout else []
            yield self.issue(src, f"row:{layout.header_index + 1}" if layout else "file",
                             f"{src.name}: no statement profile matches these headers: {headers}. Add a profile "
                             "(see casegraph/parsers/profiles/) and name it with --option profile=PATH")
            return
        holder = self.account or _holder_account(layout.preamble, src.name)
        if holder is None and layout.profile.rail in ("bank", "mobile-money"):
            yield self.issue(src, "file", f"{src.name}: the statement's own account number is not in the file or its "
                             "name; pass --option account=NUMBER so transfers get both ends", severity="warning")
        yield self.issue(src, "file", f"read with profile {layout.profile.name} ({layout.profile.source}); columns: "
                         f"{layout.mapping}", severity="info")
        ctx = _Ctx(src, layout, holder)
        if probe.suffix == ".xlsx" or "xl/workbook.xml" in probe.members:
            yield from self._xlsx(ctx)
        else:
            yield from self._csv(ctx, probe)
        if ctx.fakes:
            first = min(ctx.fakes)[1]  # the earliest in the file (batches are converted in parallel)
            yield self.issue(src, first, f"{sum(n for _, _, n in ctx.fakes)} transfer(s) of a token called USDT whose contract is "
                             f"not Tether's ({GENUINE_USDT.get(layout.profile.rail)}): marked token_warning", severity="warning")

    def _csv(self, ctx: _Ctx, probe: Probe) -> Iterator[Record | Batch]:
        layout, bad = ctx.layout, []
        names = _unique(layout.headers)

        def invalid(row) -> str:
            bad.append((row.number, row.text))
            return "skip"

        encoding = "utf-16" if probe.head.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8"
        text = _decodes(ctx.src.path, "utf-8") if encoding == "utf-8" else None
        ctx.ascii = text == "ascii"
        if encoding == "utf-8" and not text:
            encoding = "cp1252" if _decodes(ctx.src.path, "cp1252") else "latin-1"
            yield self.issue(ctx.src, "file", f"{ctx.src.name} is not valid UTF-8; read as {encoding}, as spreadsheet "
                             "exports on Windows are written", severity="warning")
        reader = pacsv.open_csv(
            ctx.src.path,
            read_options=pacsv.ReadOptions(skip_rows=layout.header_index + 1, column_names=names, encoding=encoding,
                                           block_size=16 << 20),
            parse_options=pacsv.ParseOptions(delimiter=layout.delimiter, newlines_in_values=True, invalid_row_handler=invalid),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names}, strings_can_be_null=False,
                                                 quoted_strings_can_be_null=False))
        def blocks() -> Iterator[tuple[int, pa.RecordBatch | None, list]]:
            """Blocks as read, each with its first row's number and the rows it could not split."""
            row = 0
            for rb in reader:
                found = bad[:]
                bad.clear()
                yield row, rb, found
                row += rb.num_rows
            yield row, None, bad[:]

        def convert(block: tuple[int, pa.RecordBatch | None, list]) -> list:
            row, rb, found = block
            out: list = [self.issue(ctx.src, f"line:{number}" if number else "row:?", "row with the wrong number of columns",
                                    text) for number, text in found]
            if rb is not None and rb.num_rows:
                table = pa.Table.from_batches([rb]).rename_columns(layout.headers if len(set(layout.headers)) == len(names) else names)
                out += self._rows(ctx, table, numbered("row:", row + 1, rb.num_rows), row)
            return out

        # blocks are read in one thread and converted in two, while the pipeline stores the ones before
        for out in prefetch(blocks(), convert, depth=2, workers=2):
            yield from out

    def _xlsx(self, ctx: _Ctx) -> Iterator[Record | Batch]:
        layout = ctx.layout
        fmt = layout.profile.date_format
        chunk: list[list] = []
        numbers: list[str] = []
        sheet_seen = None
        for sheet, n, values in _xlsx_rows(ctx.src.path):
            if sheet_seen is None:
                sheet_seen = sheet
            if sheet != sheet_seen or n <= layout.header_index + 1:
                continue  # the table is on the first sheet, below its header
            if all(v in (None, "") for v in values):
                continue
            chunk.append([_cell(v, fmt) for v in values[:len(layout.headers)]] + [""] * (len(layout.headers) - len(values)))
            numbers.append(f"xlsx:{sheet}!row={n}")
            if len(chunk) >= ROWS_PER_BATCH:
                yield from self._rows(ctx, _table(layout.headers, chunk), pa.array(numbers, pa.string()), n)
                chunk, numbers = [], []
        if chunk:
            yield from self._rows(ctx, _table(layout.headers, chunk), pa.array(numbers, pa.string()), n)

    # -- the column-wise conversion -------------------------------------------------------------
    def _rows(self, ctx: _Ctx, t: pa.Table, locators: pa.Array, order: int) -> list[Record | Batch]:
        """One block's rows as a Batch, and an issue for every value that could not be read.
        (`order`: the block's place in the file, to name the first fake token in file order.)"""
        p, m, n = ctx.layout.profile, ctx.layout.mapping, t.num_rows
        if n == 0:
            return []
        trim = pc.ascii_trim_whitespace if ctx.ascii else pc.utf8_trim_whitespace  # ASCII kernels: twice as fast
        col = lambda f: trim(t.column(m[f]).combine_chunks()) if f in m else None  # noqa: E731
        null_s = pa.nulls(n, pa.string())
        problems: list[tuple[str, pa.Array]] = []  # (what, mask of bad rows)

        def amounts(arr: pa.Array | None, what: str) -> pa.Array:
            if arr is None:
                return pa.nulls(n, AMOUNT)
            plain = _plain_amounts(arr)
            if plain is not None:
                return plain
            cleaned = pc.replace_substring_regex(arr, r"[,\s]|Rs\.?|LKR|USD|\$", "")
            negative = pc.or_(pc.match_substring_regex(cleaned, r"^\(.*\)$"), pc.match_substring_regex(cleaned, r"^[^-].*-$"))
            cleaned = pc.replace_substring_regex(cleaned, r"[()]|-$", "")
            empty = pc.equal(cleaned, "")
            ok = pc.match_substring_regex(cleaned, _AMOUNT_OK)
            problems.append((f"{what} is not a number", pc.and_(pc.invert(ok), pc.invert(empty))))
            value = pc.cast(pc.if_else(ok, cleaned, null_s), AMOUNT)
            return pc.if_else(negative, pc.negate(value), value)

        holder = pa.repeat(ctx.holder, n) if ctx.holder else null_s
        description = col("description") if "description" in m else null_s
        counterparty = col("counterparty")
        if counterparty is None and "from" not in m and p.rail in ("bank", "mobile-money"):  # from the narration
            found = pc.extract_regex(description, r".*?(?P<acct>\d{8,16})\D*$")
            counterparty = pc.if_else(found.is_valid(), found.field("acct"), null_s)
        sign_note = null_s
        if "debit" in m or "credit" in m:  # the net of the two columns: its sign is the direction
            debit, credit = amounts(col("debit"), "debit"), amounts(col("credit"), "credit")
            both_empty = pc.and_(debit.is_null(), credit.is_null())
            wide = pa.decimal256(38, 18)  # a - b needs one more digit than decimal128(38) has; cast back after
            net = pc.subtract(pc.fill_null(credit, ZERO).cast(wide), pc.fill_null(debit, ZERO).cast(wide)).cast(AMOUNT)
            out = pc.fill_null(pc.less(net, ZERO), False)
            amount = pc.if_else(both_empty, pa.nulls(n, AMOUNT), pc.abs(net))
            frm, to = pc.if_else(out, holder, counterparty), pc.if_else(out, counterparty, holder)
            sign_note = pc.if_else(pc.fill_null(pc.less(debit, ZERO), False), "negative debit read as money in",
                                   pc.if_else(pc.fill_null(pc.less(credit, ZERO), False), "negative credit read as money out",
                                              null_s))
        elif "amount_in" in m:  # Etherscan: value in or out; the from/to columns say which way
            a_in, a_out = amounts(col("amount_in"), "value in"), amounts(col("amount_out"), "value out")
            amount = pc.if_else(pc.fill_null(pc.greater(a_in, ZERO), False), a_in, a_out)
            frm, to = col("from"), col("to")
        else:
            signed = amounts(col("amount"), "amount")
            if "from" in m:
                amount, frm, to = signed, col("from"), col("to")
            else:
                out = pc.fill_null(pc.less(signed, ZERO), False)
                amount = pc.abs(signed)
                frm, to = pc.if_else(out, holder, counterparty), pc.if_else(out, counterparty, holder)
        problems.append(("no amount", amount.is_null()))
        ts = _times(col("date"), p, problems)
        currency = col("currency") if "currency" in m else constant(p.currency, n)
        contract = col("token_contract") if "token_contract" in m else null_s
        fake = null_s
        genuine = GENUINE_USDT.get(p.rail)
        if genuine and "token_contract" in m:
            symbol = currency.dictionary_decode() if pa.types.is_dictionary(currency.type) else currency
            is_fake = pc.and_(pc.equal(pc.utf8_upper(symbol), "USDT"),
                              pc.not_equal(pc.utf8_lower(contract), genuine.lower()))
            is_fake = pc.fill_null(is_fake, False)
            count = pc.sum(is_fake).as_py() or 0
            if count:
                ctx.fakes.append((order, locators.filter(is_fake)[0].as_py(), count))
                fake = pc.if_else(is_fake, "USDT symbol on a contract that is not Tether's", null_s)
        extra = _json_objects({"balance": col("balance"), "value_date": col("value_date"),
                               "status": col("status"), "method": col("method"), "block": col("block"), "fee": col("fee"),
                               "token_name": col("token_name"), "parent_from": col("parent_from"), "token_warning": fake,
                               "sign_note": sign_note,
                               "profile": constant(p.name, n)})
        out: list[Record | Batch] = [Batch("transactions", pa.table({
            "rail": constant(p.rail, n), "ts": ts, "reference": col("reference") if "reference" in m else null_s,
            "from_account": _blank_null(frm), "to_account": _blank_null(to), "from_name": null_s, "to_name": null_s,
            "amount": amount, "currency": currency, "asset_contract": _blank_null(contract), "description": description,
            "extra": extra, "exhibit_sha256": constant(ctx.src.sha256, n), "parser": constant(self.name, n),
            "parser_version": constant(self.version, n), "locator": locators}))]
        for what, mask in problems:  # every unreadable value is named with its row
            mask = pc.fill_null(mask, False)
            if pc.any(mask).as_py():
                out += [self.issue(ctx.src, loc, f"{what} (row kept, value left empty)", severity="warning")
                        for loc in locators.filter(mask).to_pylist()]
        return out


@dataclass
class _Ctx:
    src: Source
    layout: _Layout
    holder: str | None
    fakes: list[tuple[int, str, int]] = field(default_factory=list)
    ascii: bool = False  # every byte of the file is ASCII  # per block: (order, first fake's locator, count)


def _decodes(path: Path, encoding: str) -> str | None:
    """Whether the whole file decodes in `encoding` (streamed; multi-byte characters across chunks are
    fine): "ascii" when every byte is ASCII, the encoding when it decodes, else None."""
    decoder = codecs.getincrementaldecoder(encoding)()
    ascii_only = True
    try:
        with open(path, "rb") as f:
            while chunk := f.read(16 << 20):
                if not (chunk.isascii() and not decoder.getstate()[0]):  # ASCII is valid in both, and checked fast
                    ascii_only = False
                    decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return None
    return "ascii" if ascii_only else encoding


def _holder_account(preamble: list[str], file_name: str) -> str | None:
    """The statement's own account: from an 'Account No' line above the table, else from the file name."""
    for line in preamble:
        m = _ACCOUNT_LINE.search(line)
        if m:
            return re.sub(r"[\s-]", "", m.group(1))
    m = _FILE_ACCOUNT.search(Path(file_name).stem)
    return m.group(1) if m else None


def _plain_amounts(text: pa.Array) -> pa.Array | None:
    """Amounts written plainly (1048.43, -25, or empty), cast in one step; None when any is written
    otherwise (thousands separators, currency marks, brackets, exponents), for the full reading."""
    if pc.any(pc.match_substring(text, "e")).as_py() or pc.any(pc.match_substring(text, "E")).as_py():
        return None
    try:
        return pc.cast(pc.if_else(pc.equal(text, ""), pa.nulls(len(text), pa.string()), text), AMOUNT)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _times(date: pa.Array, p: Profile, problems: list) -> pa.Array:
    """Timestamps from the profile's date format ('unix' for epoch seconds); zoned when the source says UTC."""
    tz = "UTC" if (p.timezone or "").upper() == "UTC" else None
    ts_type = pa.timestamp("us", tz)
    empty = pc.equal(date, "")
    if p.date_format == "unix":
        ok = pc.match_substring_regex(date, r"^\d{1,12}$")
        secs = pc.cast(pc.if_else(ok, date, pa.nulls(len(date), pa.string())), pa.int64())
        ts = pc.multiply(secs, 1_000_000).cast(pa.timestamp("us")).cast(ts_type)
    elif (iso := _iso_times(date, p.date_format)) is not None:
        ts, ok = iso, pc.is_valid(iso)
    else:
        parsed = pc.strptime(date, format=p.date_format, unit="s", error_is_null=True)
        ok = pa.array(_same_fields(date, parsed, p.date_format))  # strptime rolls 30/02 over to 01/03: catch that
        ts = pc.if_else(ok, parsed, pa.nulls(len(date), pa.timestamp("s"))).cast(pa.timestamp("us"))
    if tz and p.date_format != "unix":
        ts = pc.assume_timezone(ts, timezone="UTC")
    problems.append((f"date is not {p.date_format}", pc.and_(pc.invert(pc.fill_null(ok, False)), pc.invert(empty))))
    problems.append(("no date", empty))
    return ts


def _iso_times(date: pa.Array, fmt: str) -> pa.Array | None:
    """The profile's format is ISO date and time and every value is written so (or empty): Arrow's ISO
    reader is ten times faster than strptime and rejects days that do not exist. None otherwise."""
    if fmt != "%Y-%m-%d %H:%M:%S":
        return None
    length = pc.binary_length(date)
    if not pc.all(pc.or_(pc.equal(length, 19), pc.equal(length, 0))).as_py():
        return None
    try:
        return pc.cast(pc.if_else(pc.equal(length, 0), pa.nulls(len(date), pa.string()), date), pa.timestamp("us"))
    except pa.ArrowInvalid:
        return None


def _same_fields(text: pa.Array, parsed: pa.Array, fmt: str) -> np.ndarray:
    """Whether each parsed time has the day of month its text has. strptime silently rolls a day that
    does not exist (30/02) over into the next month; every other field it rejects. Zero-padded texts
    are read at the day's fixed position; others are split into their numbers."""
    valid = _np(parsed.is_valid())
    directives = re.findall(r"%(.)", fmt)
    if "d" not in directives:
        return valid
    day = pc.fill_null(pc.day(parsed), -1)
    width = {"Y": 4, "y": 2}
    template = re.sub(r"%(.)", lambda m: "x" * width.get(m.group(1), 2), fmt)
    start = template.index("x" * 2, len(re.sub(r"%(.)", lambda m: "x" * width.get(m.group(1), 2), fmt.split("%d")[0])))
    fixed = _np(pc.equal(pc.utf8_length(text), len(template)))
    written = pc.utf8_slice_codeunits(text, start, start + 2)
    written = pc.cast(pc.if_else(pc.match_substring_regex(written, r"^\d\d$"), written, "-1"), pa.int64())
    ok = valid & fixed & _np(pc.equal(written, day))
    loose = valid & ~fixed
    if loose.any():  # not zero-padded: find the day among the numbers
        rows = pa.array(np.flatnonzero(loose), pa.int64())
        parts = pc.split_pattern_regex(pc.utf8_trim_whitespace(text.take(rows)), r"\D+")
        k = [d for d in directives if d in "YymdHMS"].index("d")
        nth = pc.list_element(pc.if_else(pc.greater(pc.list_value_length(parts), k), parts,
                                         pa.nulls(len(parts), parts.type)), k)
        same = pc.equal(pc.cast(pc.if_else(pc.match_substring_regex(nth, r"^\d{1,2}$"), nth, "-1"), pa.int64()),
                        day.take(rows))
        ok[np.flatnonzero(loose)] = _np(same)
    return ok


def _np(mask: pa.Array) -> np.ndarray:
    return pc.fill_null(mask, False).to_numpy(zero_copy_only=False)


_SAFE = {"profile", "token_warning", "sign_note"}  # values made here: no quotes to escape


def _json_objects(fields: dict[str, pa.Array | None]) -> pa.Array:
    """A JSON object per row from string columns, leaving out empty values (column-wise, no Python loop)."""
    fields = {k: a for k, a in fields.items() if a is not None and a.null_count < len(a)}
    if fields and all(pa.types.is_dictionary(a.type) for a in fields.values()):
        return _json_from_dictionaries(fields)
    fields = {k: a.dictionary_decode() if pa.types.is_dictionary(a.type) else a for k, a in fields.items()}
    pieces = []
    for key, arr in fields.items():
        if arr is None:
            continue
        esc = arr if key in _SAFE else pc.replace_substring(pc.replace_substring(arr, "\\", "\\\\"), '"', '\\"')
        pieces.append(pc.if_else(pc.fill_null(pc.not_equal(arr, ""), False),
                                 pc.binary_join_element_wise(f'"{key}": "', esc, '"', ""), pa.nulls(len(arr), pa.string())))
    if not pieces:
        return None
    body = pc.binary_join_element_wise(*pieces, ", ", null_handling="skip")
    return pc.if_else(pc.equal(body, ""), pa.nulls(len(body), pa.string()), pc.binary_join_element_wise("{", body, "}", ""))


def _json_from_dictionaries(fields: dict[str, pa.DictionaryArray]) -> pa.Array:
    """The same JSON objects when every field takes few values: built once per combination that occurs."""
    key = np.zeros(len(next(iter(fields.values()))), np.int64)
    for a in fields.values():  # a mixed-radix number per row: one digit per field (0 = empty)
        codes = pc.fill_null(a.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64) + 1
        key = key * (len(a.dictionary) + 1) + codes
    combos, inverse = np.unique(key, return_inverse=True)
    texts = []
    for combo in combos.tolist():
        values = {}
        for k, a in reversed(fields.items()):
            combo, code = divmod(combo, len(a.dictionary) + 1)
            if code and a.dictionary[code - 1].as_py() != "":
                values[k] = a.dictionary[code - 1].as_py()
        texts.append(json.dumps(dict(reversed(values.items())), ensure_ascii=False) if values else None)
    return pa.DictionaryArray.from_arrays(pa.array(inverse.astype(np.int32)), pa.array(texts, pa.string()))


def _blank_null(a: pa.Array) -> pa.Array:
    return pc.if_else(pc.fill_null(pc.equal(a, ""), True), pa.nulls(len(a), pa.string()), a)


def _unique(headers: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for h in headers:
        h = h or "column"
        seen[h] = seen.get(h, 0) + 1
        out.append(h if seen[h] == 1 else f"{h} ({seen[h]})")
    return out


def _cell(v, date_format: str) -> str:
    """An XLSX cell as the text a CSV export would hold (dates in the profile's format; numbers exact)."""
    if v is None:
        return ""
    if isinstance(v, datetime):
        return str(int(v.timestamp())) if date_format == "unix" else v.strftime(date_format)
    if isinstance(v, float):
        return repr(v) if not v.is_integer() else str(int(v))
    return str(v)


def _table(headers: list[str], rows: list[list[str]]) -> pa.Table:
    names = _unique(headers)
    return pa.table({name: pa.array([r[i] for r in rows], pa.string()) for i, name in enumerate(names)}).rename_columns(
        headers if len(set(headers)) == len(names) else names)


