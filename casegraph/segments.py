"""Columnar record batches as Parquet segment files beside the case store.

Persisting ten million rows into DuckDB's own table format takes 11-19 s on two cores; Arrow writes the
same rows as Parquet in about 4 s, and DuckDB reads Parquet as fast as its own tables. So the store's
bulk path writes each parse run's batches of a table into Parquet files (one, or FILES for a run of
more batches, encoded side by side), registers the files in the `segments` table in the same transaction
as the parse run, and shows every record table as a view over its row table (records written one by one)
and its registered segments.

The provenance columns are the same in every row of a run, so they are not stored in the file: they
are its path (`transactions/exhibit_sha256=…/parser=…/parser_version=…/….parquet`, Hive-style), which
DuckDB reads back as columns and uses to skip files a query does not need.

A segment is written under a temporary name and hashed as its bytes are written; at commit it is
flushed to disk, renamed into place and registered. Its batches are encoded on a thread of its own, in
the order they came (the same calls in the same order: the same bytes), while the caller parses the next
ones: Parquet encoding releases the GIL, and at most WRITE_AHEAD batches wait per file, so memory stays bounded.
A file no commit registered (an interrupted ingest) is removed when the store is next opened, so the case stays as the last commit left it.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

PARTITION_COLUMNS = ("exhibit_sha256", "parser", "parser_version")  # one value per segment: in its path
DICTIONARY_COLUMNS = frozenset({"tz_basis", "utc_offset", "ts_precision"})  # few values in many rows: stored as Parquet dictionaries
DICT = pa.dictionary(pa.int32(), pa.string())
SINK_BUFFER = 8 << 20  # bytes of a segment gathered before they are hashed and written
SYNC_BYTES = 32 << 20  # bytes of a segment written before they are flushed to disk (see _Hashing)
WRITE_AHEAD = 2  # batches handed to a segment file's writer thread and not yet encoded
FILES = 2  # files a large run's batches are dealt over, each encoded on a thread of its own (see SegmentWriter)
SPLIT_ROWS = 100_000  # rows a run holds before its batches are dealt over FILES files (about 60 ms of encoding)
SEGMENTS_DDL = """CREATE TABLE IF NOT EXISTS segments (  -- Parquet files holding columnar batches of a record table
    file VARCHAR PRIMARY KEY, tbl VARCHAR NOT NULL, exhibit_sha256 VARCHAR NOT NULL, parser VARCHAR NOT NULL,
    rows BIGINT NOT NULL, sha256 VARCHAR NOT NULL, written_at TIMESTAMPTZ NOT NULL)"""


def schema_for(columns: list[tuple[str, pa.DataType]], data: pa.Table) -> pa.Schema:
    """The segment's schema: the table's stored columns, strings dictionary-encoded where they repeat
    (the provenance columns, and any column the parser handed over as a dictionary)."""
    out = []
    for name, typ in columns:
        if name in PARTITION_COLUMNS:
            continue
        given = data.schema.field(name).type if name in data.column_names else None
        if pa.types.is_string(typ) and (name in DICTIONARY_COLUMNS or (given is not None and pa.types.is_dictionary(given))):
            typ = DICT
        out.append(pa.field(name, typ))
    return pa.schema(out)


def conform(data: pa.Table, schema: pa.Schema) -> pa.Table:
    """`data` in exactly `schema`: missing columns as nulls, dictionaries encoded or decoded as needed."""
    n, cols = data.num_rows, []
    for f in schema:
        if f.name not in data.column_names:
            cols.append(pa.nulls(n, f.type))
            continue
        col = data.column(f.name)
        if col.type != f.type:
            if f.type == DICT:
                col = pc.dictionary_encode(col.cast(pa.string()))
                col = col.cast(DICT) if col.type != DICT else col
            else:
                col = col.cast(f.type)
        cols.append(col)
    return pa.Table.from_arrays(cols, schema=schema)


def _delta_packed(typ: pa.DataType) -> bool:
    """Whether a column is stored delta-packed and not compressed: integers, times and dates (row numbers,
    timestamps). On a 1M-row ledger that is half lz4's CPU for these columns, and smaller files (times
    3.5 MB against 6 MB; row numbers next to nothing)."""
    return bool(pa.types.is_integer(typ) or pa.types.is_timestamp(typ) or pa.types.is_date(typ))


class _Hashing:
    """A file object that hashes what passes through it, so a segment's SHA-256 costs no second read.
    What it has written is flushed to disk every SYNC_BYTES as it goes: the kernel would otherwise hold it
    all (it starts writing back only at a tenth of memory), and the fsync at commit would then wait for the
    whole file, with nothing else left to do (10M ledger rows: 436 MB, 1-1.4 s on the test machine's disk).
    Synced on the writer's thread, the disk works while the other threads parse."""

    def __init__(self, path: Path):
        self.raw = open(path, "xb")  # noqa: SIM115
        self.hash = hashlib.sha256()
        self.closed = False
        self._unsynced = 0

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        n = self.raw.write(data)
        self._unsynced += n
        if self._unsynced >= SYNC_BYTES:
            self.raw.flush()
            _datasync(self.raw.fileno())
            self._unsynced = 0
        return n

    def flush(self) -> None:
        self.raw.flush()

    def tell(self) -> int:
        return self.raw.tell()

    def close(self) -> None:
        if not self.closed:
            self.raw.flush()
            os.fsync(self.raw.fileno())
            self.raw.close()
            self.closed = True


_datasync = getattr(os, "fdatasync", os.fsync)  # the data, without waiting for the file's times (not on macOS)


class _File:
    """One segment file being written: its batches encoded in the order they came, on a thread of its own,
    and its bytes hashed as they are written under a temporary name."""

    def __init__(self, root: Path, name: str, schema: pa.Schema, thread: str):
        self.root, self.name, self.rows = root, name, 0
        self._pending: deque[Future[None]] = deque()
        self._writer: pq.ParquetWriter | None = None
        self._sink: pa.BufferedOutputStream | None = None
        self._thread = ThreadPoolExecutor(1, thread_name_prefix=thread)  # one worker: batches encoded in order
        self._file = _Hashing(self.tmp)
        try:
            self._open(schema)
        except BaseException:
            self.abandon()
            raise

    def _open(self, schema: pa.Schema) -> None:
        # Arrow hands the bytes to the Python file page by page (thousands of calls per million rows), each
        # taking the GIL from the threads parsing the next blocks: on a busy machine those waits, not the
        # encoding, were most of the write. Buffered natively, the file sees a few large writes (same bytes).
        self._sink = pa.BufferedOutputStream(pa.PythonFile(self._file, mode="w"), buffer_size=SINK_BUFFER)
        # statistics (min/max) on numbers and times only: on unique strings they cost more than they save, and on
        # the dictionary columns (a few labels in every row group) a sixth of their encoding (0.3 s per 10M rows)
        stats = [f.name for f in schema if not pa.types.is_string(f.type) and f.type != DICT]
        deltas = [f.name for f in schema if _delta_packed(f.type)]
        self._writer = pq.ParquetWriter(
            self._sink,
            schema,
            compression={f.name: "none" if f.name in deltas else "lz4" for f in schema},
            use_dictionary=[f.name for f in schema if f.type == DICT],
            column_encoding={name: "DELTA_BINARY_PACKED" for name in deltas} or None,
            write_statistics=stats,
        )

    @property
    def tmp(self) -> Path:
        return self.root / (self.name + ".tmp")

    def write(self, data: pa.Table, schema: pa.Schema) -> None:
        writer = self._writer
        assert writer is not None
        # conformed on the thread too: a dictionary encoded or a column cast is the writer's work, not the caller's
        self._pending.append(self._thread.submit(lambda: writer.write_table(conform(data, schema))))
        self.rows += data.num_rows
        if len(self._pending) > WRITE_AHEAD:
            self._pending.popleft().result()  # waits for the oldest; raises its error (the caller abandons the segment)

    def close(self) -> Future[str]:
        """Once every batch handed over is encoded: the footer written and the file flushed to disk, on the
        file's thread (files close side by side); the future's result is the file's SHA-256."""

        def closing() -> str:
            assert self._writer is not None and self._sink is not None
            self._writer.close()
            self._sink.close()  # flushes the last bytes to the file, which closes (fsync) with it
            self._file.close()
            return self._file.hash.hexdigest()

        return self._thread.submit(closing)

    def place(self) -> None:
        """The closed file moved to its name (the thread is done with it)."""
        self._thread.shutdown(wait=True)
        os.replace(self.tmp, self.root / self.name)

    def wait(self) -> None:
        """Wait until every batch handed over is encoded (raising the first error)."""
        while self._pending:
            self._pending.popleft().result()

    def abandon(self) -> None:
        """Stop (a batch being encoded finishes before its file is closed) and remove the file."""
        try:
            for f in self._pending:
                f.cancel()
            self._pending.clear()
            self._thread.shutdown(wait=True)
            with suppress(Exception):  # the file is discarded: the error that stopped the run is the one to report
                if self._writer is not None:
                    self._writer.close()
                if self._sink is not None:
                    self._sink.close()
        finally:
            self._file.close()
            self.tmp.unlink(missing_ok=True)
            (self.root / self.name).unlink(missing_ok=True)  # renamed into place by a finish that then failed


@dataclass
class SegmentWriter:
    """The Parquet files one parse run writes for one table, until they are committed or abandoned.

    Arrow's writer encodes the columns of a file one after the other, on one thread: for a large run that was
    the longest thread of the ingest (10M ledger rows: 6 s of CPU, more than reading the CSV). So a run's
    batches are dealt over FILES files, each encoded on its own thread: a batch goes to the file with the fewest
    rows so far, and the second file is opened once the run holds SPLIT_ROWS rows (a small run, most exhibits,
    keeps one file: a second would only add a footer to read). The dealing depends only on the batches, so the
    same input gives the same files, byte for byte, on any machine (a re-parse compares them by hash); FILES is
    fixed, not the machine's core count, for that reason. Rows are read back in file order (the view globs the
    names, which end -0, -1), so within a large run, batch order is not storage order: readers order by what
    the records say (time, seq, locator), never by where a row is stored."""

    root: Path
    table: str
    exhibit_sha256: str
    parser: str
    parser_version: str
    columns: list[tuple[str, pa.DataType]]
    name: str = ""  # the files' common stem: <folder>/<uuid>; file k is <stem>-<k>.parquet
    rows: int = 0
    _schema: pa.Schema | None = None
    _files: list[_File] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        folder = "/".join([self.table] + [f"{k}={getattr(self, k)}" for k in PARTITION_COLUMNS])
        self.name = f"{folder}/{uuid.uuid4().hex}"
        (self.root / folder).mkdir(parents=True, exist_ok=True)

    @property
    def names(self) -> list[str]:
        """The files this writer has opened (relative to the segments folder), in dealing order."""
        return [f.name for f in self._files]

    def write(self, data: pa.Table) -> None:
        if self._schema is None:
            self._schema = schema_for(self.columns, data)  # every file of the run in the first batch's schema
        if not self._files or (self.rows >= SPLIT_ROWS and len(self._files) < FILES):  # a file more: it takes this batch
            k = len(self._files)
            self._files.append(_File(self.root, f"{self.name}-{k}.parquet", self._schema, f"casegraph-segment{k}"))
        else:  # the file with the fewest rows so far (the first of them on a tie)
            k = min(range(len(self._files)), key=lambda i: self._files[i].rows)
        self._files[k].write(data, self._schema)
        self.rows += data.num_rows

    def finish(self) -> list[dict[str, Any]]:
        """Close every file, flush them to disk and move them into place; the rows to register."""
        for f in self._files:
            f.wait()
        digests = [f.close() for f in self._files]
        shas = [d.result() for d in digests]
        for f in self._files:
            f.place()
        now = datetime.now(UTC)
        return [
            {
                "file": f.name,
                "tbl": self.table,
                "exhibit_sha256": self.exhibit_sha256,
                "parser": self.parser,
                "rows": f.rows,
                "sha256": sha,
                "written_at": now,
            }
            for f, sha in zip(self._files, shas, strict=True)
        ]

    def abandon(self) -> None:
        for f in self._files:
            f.abandon()


def table_glob(table: str) -> str:
    """Every committed segment of a table (relative to the segments folder; `.tmp` files excluded)."""
    return f"{table}/*/*/*/*.parquet"


def read_sql(files: list[str]) -> str:
    """A DuckDB table function reading these segments, the provenance columns taken from their paths.
    By name, so that segments written before a column was added read it as NULL."""
    types = ", ".join(f"'{c}': 'VARCHAR'" for c in PARTITION_COLUMNS)
    names = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
    return f"read_parquet([{names}], hive_partitioning = true, union_by_name = true, hive_types = {{{types}}})"


def sweep(root: Path, registered: set[str]) -> list[str]:
    """Remove segment files no commit registered (left by an interrupted ingest); returns their names."""
    if not root.is_dir():
        return []
    gone = []
    for path in sorted(root.rglob("*.parquet*")):
        name = path.relative_to(root).as_posix()
        if name not in registered:
            path.unlink()
            gone.append(name)
    return gone
