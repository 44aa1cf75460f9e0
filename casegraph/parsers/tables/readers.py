"""Reading a statement's rows: CSV blocks with Arrow, a tolerant row-by-row CSV reader for files whose rows
Arrow cannot split, and XLSX sheets (bounded before any XML is read)."""

from __future__ import annotations

import codecs
import csv
import mmap
import os
import zipfile
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow as pa

from ...errors import CaseGraphError
from .layout import _Layout

ROWS_PER_BATCH = 200_000
BLOCK_SIZE = 16 << 20  # bytes of CSV Arrow reads per block


# XLSX parts are zip members: bounded before any XML is read (an 8.4 MB workbook can hold 1.5 GB of
# shared strings, which openpyxl would hold in memory whole)
XLSX_MAX_SHARED_STRINGS = 128 << 20  # uncompressed bytes of xl/sharedStrings.xml
XLSX_MAX_PART = 2 << 30  # uncompressed bytes of any one part (a 1M-row sheet is about 300 MB)
XLSX_MAX_RATIO = 100  # expansion of a large part (real sheets compress 5-20 times)
XLSX_RATIO_FROM = 64 << 20  # uncompressed bytes from which a part's expansion ratio is bounded


class WorkbookRefused(CaseGraphError, ValueError):
    """A workbook that would expand beyond the bounds, or that the reader cannot open."""

    code = 1  # an operation or check that failed


def _check_xlsx(path: Path) -> None:
    """Refuse a workbook whose parts would expand beyond the bounds (declared sizes; zipfile never
    inflates a member past its declared size, and checks its CRC)."""
    try:
        with zipfile.ZipFile(path) as z:
            parts = z.infolist()
    except (zipfile.BadZipFile, OSError) as e:
        raise WorkbookRefused(f"not a readable XLSX (zip) file: {e}") from e
    for part in parts:
        size, packed = part.file_size, max(part.compress_size, 1)
        limit = XLSX_MAX_SHARED_STRINGS if part.filename.lower() == "xl/sharedstrings.xml" else XLSX_MAX_PART
        if size > limit:
            raise WorkbookRefused(f"{part.filename} would expand to {size:,} bytes (limit {limit:,}); not read")
        if size > XLSX_RATIO_FROM and size / packed > XLSX_MAX_RATIO:
            raise WorkbookRefused(
                f"{part.filename} would expand {size / packed:.0f} times ({packed:,} to {size:,} bytes; limit {XLSX_MAX_RATIO}x); not read"
            )


def _xlsx_rows(path: Path, limit: int | None = None) -> Iterator[tuple[str, int, list]]:
    """(sheet, 1-based row number, values) from every sheet, streaming. The workbook is opened from its
    bytes (a file object): evidence is stored without a file extension, which openpyxl refuses as a path."""
    import openpyxl  # uses defusedxml when it is installed, as it is here

    _check_xlsx(path)
    with open(path, "rb") as f:
        try:
            wb = openpyxl.load_workbook(f, read_only=True, data_only=True)
        except Exception as e:  # the reader's own words, never hidden
            raise WorkbookRefused(f"openpyxl cannot open the workbook: {type(e).__name__}: {e}") from e
        try:
            for ws in wb.worksheets:
                for n, row in enumerate(ws.iter_rows(values_only=True), 1):
                    if limit is not None and n > limit:
                        break
                    yield ws.title, n, list(row)
        finally:
            wb.close()


def _tolerant_rows(
    path: Path, encoding: str, layout: _Layout, width: int, start: int, ragged: Counter
) -> Iterator[tuple[int, pa.Table, list, np.ndarray]]:
    """The data rows from the `start`-th on, read with Python's csv module: every row is numbered as it
    stands in the file, so every row becomes a record or an issue at its own locator. A row with extra
    cells that are all empty is read (they are counted); a short row is read with its missing cells
    empty (a warning); a row with extra non-empty cells cannot be matched to the header (an error,
    with its text). Only files with such rows come here; the rest stay on Arrow's reader."""
    codec = "utf-8-sig" if encoding == "utf-8" else encoding
    with open(path, encoding=codec, errors="replace", newline="") as f:
        records = csv.reader(f, delimiter=layout.delimiter)
        for i, _ in enumerate(records):  # up to and including the header (header_index counts csv records, as here)
            if i >= layout.header_index:
                break
        number, chunk, numbers, found = 0, [], [], []
        for cells in records:
            if not cells:  # an empty line: Arrow skips these too, so the numbering stays the same
                continue
            number += 1
            if number <= start:
                continue
            n = len(cells)
            if n > width and not any(c.strip() for c in cells[width:]):
                cells = cells[:width]
                ragged["trimmed"] += 1
            elif n < width:
                found.append(
                    (
                        number,
                        "warning",
                        f"row has {n} of the header's {width} cells; the missing cells at the end were read as empty",
                        _raw(cells, layout.delimiter),
                    )
                )
                cells = cells + [""] * (width - n)
            elif n > width:
                found.append(
                    (
                        number,
                        "error",
                        f"row has {n} cells but the header has {width}: its cells cannot be matched to the columns, so it was not read",
                        _raw(cells, layout.delimiter),
                    )
                )
                continue
            chunk.append(cells)
            numbers.append(number)
            if len(chunk) >= ROWS_PER_BATCH:
                yield numbers[0] - 1, _columns(chunk, width), found, np.array(numbers, np.int64)
                chunk, numbers, found = [], [], []
        yield (numbers[0] - 1 if numbers else number), _columns(chunk, width), found, np.array(numbers, np.int64)


def _raw(cells: list[str], delimiter: str) -> str:
    return delimiter.join(cells)[:500]


def _columns(rows: list[list[str]], width: int) -> pa.Table:
    return pa.table({f"c{i}": pa.array([r[i] for r in rows], pa.string()) for i in range(width)})


def _decodes(path: Path, encoding: str) -> str | None:
    """Whether the whole file decodes in `encoding` (streamed; multi-byte characters across chunks are
    fine): "ascii" when every byte is ASCII, the encoding when it decodes, else None."""
    if _ascii(path):
        return "ascii"
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


def _ascii(path: Path) -> bool:
    """Whether every byte of the file is ASCII, checked on a read-only map of it: no copy of the bytes is made
    (a 0.9 GB statement: about 0.2 s of CPU, against 0.9 s read in chunks and scanned). False when it cannot be
    mapped: the caller then reads it in chunks."""
    with open(path, "rb") as f:
        if os.fstat(f.fileno()).st_size == 0:
            return True
        try:
            m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError):
            return False
        with m:
            view = np.frombuffer(m, np.uint8)
            try:
                return bool(view.max() < 0x80)
            finally:
                del view  # the map cannot close while an array still points into it


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
        headers if len(set(headers)) == len(names) else names
    )
