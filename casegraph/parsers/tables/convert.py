"""A block of statement rows as a Batch of transactions, column-wise with Arrow: amounts to exact decimals,
dates with the profile's format (a date without a time stays a date), debit/credit or signed amounts to a
direction, the source's status to Transaction.status, and an issue for every value that could not be read."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ...model import AMOUNT, Batch, Record, constant
from ...model import USDT_CONTRACTS as GENUINE_USDT
from ..base import Parser, Source
from .layout import _Layout
from .profiles import Profile

_AMOUNT_OK = r"^[+-]?\d{1,20}(\.\d{1,18})?$"


@dataclass
class _Ctx:
    src: Source
    layout: _Layout
    holder: str | None
    fakes: list[tuple[int, str, int]] = field(default_factory=list)
    ascii: bool = False  # every byte of the file is ASCII  # per block: (order, first fake's locator, count)


def to_batch(parser: Parser, ctx: _Ctx, t: pa.Table, locators: pa.Array, order: int, seq: pa.Array) -> list[Record | Batch]:
    """One block's rows as a Batch, and an issue for every value that could not be read.
    (`order`: the block's place in the file, to name the first fake token in file order; `seq`: each
    row's number in the statement, which orders rows that share a date.)"""
    p, m, n = ctx.layout.profile, ctx.layout.mapping, t.num_rows
    if n == 0:
        return []
    zero = pa.scalar(Decimal(0), AMOUNT)  # made here, not at import: an Arrow value built at import imports pandas
    col = lambda f: _trim(_one_array(t.column(m[f])), ctx.ascii) if f in m else None  # noqa: E731
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
        net = pc.subtract(pc.fill_null(credit, zero).cast(wide), pc.fill_null(debit, zero).cast(wide)).cast(AMOUNT)
        out = pc.fill_null(pc.less(net, zero), False)
        amount = pc.if_else(both_empty, pa.nulls(n, AMOUNT), pc.abs(net))
        frm, to = pc.if_else(out, holder, counterparty), pc.if_else(out, counterparty, holder)
        sign_note = pc.if_else(
            pc.fill_null(pc.less(debit, zero), False),
            "negative debit read as money in",
            pc.if_else(pc.fill_null(pc.less(credit, zero), False), "negative credit read as money out", null_s),
        )
    elif "amount_in" in m:  # Etherscan: value in or out; the from/to columns say which way
        a_in, a_out = amounts(col("amount_in"), "value in"), amounts(col("amount_out"), "value out")
        amount = pc.if_else(pc.fill_null(pc.greater(a_in, zero), False), a_in, a_out)
        frm, to = col("from"), col("to")
    else:
        signed = amounts(col("amount"), "amount")
        if "from" in m:
            amount, frm, to = signed, col("from"), col("to")
        else:
            out = pc.fill_null(pc.less(signed, zero), False)
            amount = pc.abs(signed)
            frm, to = pc.if_else(out, holder, counterparty), pc.if_else(out, counterparty, holder)
    problems.append(("no amount", amount.is_null()))
    ts = _times(col("date"), p, problems)
    currency = col("currency") if "currency" in m else constant(p.currency, n)
    contract = col("token_contract") if "token_contract" in m else null_s
    if "currency" in m and "token_contract" not in m and p.rail in _ADDRESS:  # "Tether USD (USDT) TR7NH…" in one cell
        currency, contract = _token_cell(currency, p.rail)
    fake = null_s
    genuine = GENUINE_USDT.get(p.rail)
    if genuine and "token_contract" in m:
        symbol = currency.dictionary_decode() if pa.types.is_dictionary(currency.type) else currency
        is_fake = pc.and_(pc.equal(pc.utf8_upper(symbol), "USDT"), pc.not_equal(pc.utf8_lower(contract), genuine.lower()))
        is_fake = pc.fill_null(is_fake, False)
        count = pc.sum(is_fake).as_py() or 0
        if count:
            ctx.fakes.append((order, locators.filter(is_fake)[0].as_py(), count))
            fake = pc.if_else(is_fake, "USDT symbol on a contract that is not Tether's", null_s)
    status = _statuses(p, col("status"), col("is_error"), col("receipt_status"), n, problems)
    extra = _json_objects(
        {
            "balance": col("balance"),
            "value_date": col("value_date"),
            "status": col("status"),
            "error_code": col("error_code"),
            "method": col("method"),
            "block": col("block"),
            "fee": col("fee"),
            "token_name": col("token_name"),
            "parent_from": col("parent_from"),
            "token_warning": fake,
            "sign_note": sign_note,
            "profile": constant(p.name, n),
        }
    )
    out: list[Record | Batch] = [
        Batch(
            "transactions",
            pa.table(
                {
                    "rail": constant(p.rail, n),
                    "ts": ts,
                    "reference": col("reference") if "reference" in m else null_s,
                    "from_account": _blank_null(frm),
                    "to_account": _blank_null(to),
                    "from_name": null_s,
                    "to_name": null_s,
                    "amount": amount,
                    "currency": currency,
                    "asset_contract": _blank_null(contract),
                    "description": description,
                    "status": status,
                    "seq": seq,
                    "extra": extra,
                    "exhibit_sha256": constant(ctx.src.sha256, n),
                    "parser": constant(parser.name, n),
                    "parser_version": constant(parser.version, n),
                    "locator": locators,
                }
            ),
        )
    ]
    for what, mask in problems:  # every unreadable value is named with its row
        mask = pc.fill_null(mask, False)
        if pc.any(mask).as_py():
            out += [
                parser.issue(ctx.src, loc, f"{what} (row kept, value left empty)", severity="warning")
                for loc in locators.filter(mask).to_pylist()
            ]
    return out


def _plain_amounts(text: pa.Array) -> pa.Array | None:
    """Amounts written plainly (1048.43, -25, or empty), cast in one step; None when any is written
    otherwise (thousands separators, currency marks, brackets, exponents), for the full reading."""
    if _has_exponent(text):
        return None
    try:
        return pc.cast(_empty_null(text), AMOUNT)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _string_buffers(a: pa.Array) -> tuple[np.ndarray, np.ndarray] | None:
    """A string array's value offsets and its bytes, as numpy views (no copy); None for other types."""
    if a.type != pa.string():
        return None
    offsets = np.frombuffer(a.buffers()[1], np.int32)[a.offset : a.offset + len(a) + 1]
    data = a.buffers()[2]
    return offsets, (np.frombuffer(data, np.uint8) if data is not None else np.zeros(0, np.uint8))


def _has_exponent(text: pa.Array) -> bool:
    """Whether any value has an 'e' or 'E' in it, read off the bytes (a case-insensitive substring search
    costs more than the decimal cast itself). Only those two bytes OR 0x20 to 'e'; UTF-8 continuation
    and lead bytes are all above 0x7F."""
    found = _string_buffers(text)
    if found is None:
        return bool(pc.any(pc.match_substring(text, "e", ignore_case=True)).as_py())
    offsets, data = found
    return bool(((data[offsets[0] : offsets[-1]] | 0x20) == ord("e")).any())


def _one_array(column: pa.ChunkedArray) -> pa.Array:
    """A column as one array: its only chunk as it is (a block read from CSV has one), else the chunks joined
    (combine_chunks copies even a single chunk: 90 MB of strings per million ledger rows)."""
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


def _trim(a: pa.Array, ascii: bool) -> pa.Array:
    """Whitespace trimmed from both ends of every value (ASCII kernels when the file is ASCII: twice as fast),
    without rewriting the strings when no value can start or end with whitespace: the usual case, found
    from two bytes per value. Every value's first byte is at its start offset and its last byte just before
    its end offset; clamped to the bytes there are, the offsets of empty values land on a neighbour's
    first or last byte, which is checked anyway. A byte up to 0x20 (space and controls) may be
    whitespace, and in UTF-8 so may any byte from 0x80 (Unicode spaces are multi-byte): then the kernel
    runs."""
    kernel = pc.ascii_trim_whitespace if ascii else pc.utf8_trim_whitespace
    found = _string_buffers(a)
    if found is None:
        return kernel(a)
    offsets, data = found
    lo, hi = int(offsets[0]), int(offsets[-1])
    if hi == lo:  # every value empty (or null): nothing to trim
        return a
    body = data[lo:hi]
    if body.min() > 0x20 and (ascii or body.max() < 0x80):  # no byte anywhere that could be whitespace (accounts,
        return a  # amounts, references): one pass over the bytes, cheaper than picking each value's two ends
    at = offsets.astype(np.intp)
    firsts = data.take(np.minimum(at, hi - 1))
    lasts = data.take(np.maximum(at, lo + 1) - 1)
    maybe = (firsts <= 0x20).any() or (lasts <= 0x20).any()
    if not ascii:
        maybe = maybe or (firsts >= 0x80).any() or (lasts >= 0x80).any()
    return kernel(a) if maybe else a


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
    if date_only(p.date_format):  # a date and no time: stored as a date, never as an invented midnight
        ts = ts.cast(pa.date32())
    elif tz and p.date_format != "unix":
        ts = pc.assume_timezone(ts, timezone="UTC")
    problems.append((f"date is not {p.date_format}", pc.and_(pc.invert(pc.fill_null(ok, False)), pc.invert(empty))))
    problems.append(("no date", empty))
    return ts


_ADDRESS = {"tron": r"T[1-9A-HJ-NP-Za-km-z]{33}", "ethereum": r"0x[0-9a-fA-F]{40}"}


def _token_cell(cell: pa.Array, rail: str) -> tuple[pa.Array, pa.Array]:
    """(symbol, contract) from a Token column that writes the contract address in the cell (Tronscan's
    transfers export): the address becomes the contract, the rest (without brackets) the symbol; a cell
    that is only an address keeps it as its currency, as nothing else names the token."""
    text = cell.dictionary_decode() if pa.types.is_dictionary(cell.type) else cell
    found = pc.extract_regex(text, f"(?P<address>{_ADDRESS[rail]})")
    contract = pc.if_else(found.is_valid(), found.field("address"), pa.nulls(len(text), pa.string()))
    rest = pc.utf8_trim(pc.replace_substring_regex(text, _ADDRESS[rail], ""), " -|,:")
    rest = pc.if_else(pc.fill_null(pc.equal(rest, ""), True), text, rest)
    symbol = pc.extract_regex(rest, r"\((?P<s>[^()]+)\)\s*$")  # "Tether USD (USDT)" → USDT
    return pc.if_else(symbol.is_valid(), symbol.field("s"), rest), contract


def _statuses(p: Profile, text: pa.Array | None, is_error: pa.Array | None, receipt: pa.Array | None, n: int, problems: list) -> pa.Array:
    """Transaction.status per row: 'failed' when any column the source has says so (Etherscan's
    Status `Error(0)`, isError 1, txreceipt_status 0, Tronscan's REVERT ...), 'success' when one says
    that and none says failed, NULL when the source is silent. A value the profile does not know is
    named in a warning and left unstated."""
    failed, success, known = np.zeros(n, bool), np.zeros(n, bool), np.zeros(n, bool)
    if text is not None:
        value = pc.utf8_upper(text.dictionary_decode() if pa.types.is_dictionary(text.type) else text)
        for verdict, patterns in p.status.items():
            hit = np.zeros(n, bool)
            for pattern in patterns:
                pattern = pattern.upper()
                m = pc.starts_with(value, pattern[:-1]) if pattern.endswith("*") else pc.equal(value, pattern)
                hit |= _np(m)
            if verdict == "failed":
                failed |= hit
            elif verdict == "success":
                success |= hit
            else:  # "unstated": values that say nothing of the outcome (Tronscan's CONFIRMED)
                known |= hit
        problems.append(
            (
                "status value not one the profile knows (left unstated; kept in extra.status)",
                pa.array(~failed & ~success & ~known & _np(pc.not_equal(value, ""))),
            )
        )
    for column, bad, good in ((is_error, "1", "0"), (receipt, "0", "1")):  # Etherscan API column meanings
        if column is not None:
            failed |= _np(pc.equal(column, bad))
            success |= _np(pc.equal(column, good))
    if p.status_default and text is None and is_error is None and receipt is None:
        return constant(p.status_default, n)
    labels = np.where(failed, 1, np.where(success, 0, -1)).astype(np.int32)
    return pa.DictionaryArray.from_arrays(pa.array(labels, mask=labels < 0), pa.array(["success", "failed"]))


def date_only(fmt: str) -> bool:
    """Whether a profile's date format has no time of day in it (a statement that gives dates only)."""
    return fmt != "unix" and not re.search(r"%[HIMSTXcrRfp]", fmt)


def _iso_times(date: pa.Array, fmt: str) -> pa.Array | None:
    """The profile's format is ISO date and time and every value is written so (or empty): Arrow's ISO
    reader is ten times faster than strptime and rejects days that do not exist. None otherwise."""
    if fmt != "%Y-%m-%d %H:%M:%S":
        return None
    length = pc.binary_length(date)
    if not pc.all(pc.or_(pc.equal(length, 19), pc.equal(length, 0))).as_py():
        return None
    try:
        return pc.cast(_empty_null(date), pa.timestamp("us"))
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
        nth = pc.list_element(pc.if_else(pc.greater(pc.list_value_length(parts), k), parts, pa.nulls(len(parts), parts.type)), k)
        same = pc.equal(pc.cast(pc.if_else(pc.match_substring_regex(nth, r"^\d{1,2}$"), nth, "-1"), pa.int64()), day.take(rows))
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
        pieces.append(
            pc.if_else(
                pc.fill_null(pc.not_equal(arr, ""), False),
                pc.binary_join_element_wise(f'"{key}": "', esc, '"', ""),
                pa.nulls(len(arr), pa.string()),
            )
        )
    if not pieces:
        return None
    body = pc.binary_join_element_wise(*pieces, ", ", null_handling="skip")
    return pc.if_else(pc.equal(body, ""), pa.nulls(len(body), pa.string()), pc.binary_join_element_wise("{", body, "}", ""))


def _json_from_dictionaries(fields: dict[str, pa.DictionaryArray]) -> pa.Array:
    """The same JSON objects when every field takes few values: built once per combination that occurs."""
    n = len(next(iter(fields.values())))
    if all(len(a.dictionary) == 1 and a.null_count == 0 for a in fields.values()):  # one combination in every row (a
        # ledger whose only extra is its profile): built once, without numbering the rows' combinations
        values = {k: v for k, a in fields.items() if (v := a.dictionary[0].as_py()) != ""}
        text = json.dumps(values, ensure_ascii=False) if values else None
        return pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int32)), pa.array([text], pa.string()))
    key = np.zeros(n, np.int64)
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
    return _empty_null(a)


def _empty_null(a: pa.Array) -> pa.Array:
    """Empty strings as nulls; the column as it is when it has none (no copy of its strings: the common case)."""
    empty = pc.equal(a, "")
    if not pc.any(empty).as_py():
        return a
    return pc.if_else(pc.fill_null(empty, True), pa.nulls(len(a), pa.string()), a)
