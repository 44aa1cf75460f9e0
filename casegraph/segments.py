"""Columnar record batches as Parquet segment files beside the case store.

Persisting ten million rows into DuckDB's own table format takes 11-19 s on two cores; Arrow writes the
same rows as Parquet in about 4 s, and DuckDB reads Parquet as fast as its own tables. So the store's
bulk path writes each parse run's batches of a table into one Parquet file, registers the file in the
`segments` table in the same transaction as the parse run, and shows every record table as a view over
its row table (records written one by one) and its registered segments.

The provenance columns are the same in every row of a run, so they are not stored in the file: they
are its path (`transactions/exhibit_sha256=…/parser=…/parser_version=…/….parquet`, Hive-style), which
DuckDB reads back as columns and uses to skip files a query does not need.

A segment is written under a temporary name and hashed as its bytes are written; at commit it is
flushed to disk, renamed into place and registered. Its batches are encoded on a thread of its own, in
the order they came (the same calls in the same order: the same bytes), while the caller parses the next
ones: Parquet encoding releases the GIL, and at most WRITE_AHEAD batches wait, so memory stays bounded.
A file no commit registered (an interrupted ingest) is removed when the store is next opened, so the case stays as the last commit left it.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

PARTITION_COLUMNS = ("exhibit_sha256", "parser", "parser_version")  # one value per segment: in its path
DICTIONARY_COLUMNS = frozenset({"tz_basis", "utc_offset", "ts_precision"})  # few values in many rows: stored as Parquet dictionaries
DICT = pa.dictionary(pa.int32(), pa.string())
SINK_BUFFER = 8 << 20  # bytes of a segment gathered before they are hashed and written
WRITE_AHEAD = 2  # batches handed to a segment's writer thread and not yet encoded
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
    """A file object that hashes what passes through it, so a segment's SHA-256 costs no second read."""

    def __init__(self, path: Path):
        self.raw = open(path, "xb")  # noqa: SIM115
        self.hash = hashlib.sha256()
        self.closed = False

    def write(self, data) -> int:
        self.hash.update(data)
        return self.raw.write(data)

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


@dataclass
class SegmentWriter:
    """The Parquet file one parse run writes for one table, until it is committed or abandoned."""

    root: Path
    table: str
    exhibit_sha256: str
    parser: str
    parser_version: str
    columns: list[tuple[str, pa.DataType]]
    name: str = ""
    rows: int = 0
    _schema: pa.Schema | None = None
    _writer: pq.ParquetWriter | None = None
    _file: _Hashing | None = field(default=None, repr=False)
    _sink: pa.BufferedOutputStream | None = field(default=None, repr=False)
    _thread: ThreadPoolExecutor | None = field(default=None, repr=False)  # one worker: batches encoded in order
    _pending: deque[Future[None]] = field(default_factory=deque, repr=False)

    def __post_init__(self) -> None:
        folder = "/".join([self.table] + [f"{k}={getattr(self, k)}" for k in PARTITION_COLUMNS])
        self.name = f"{folder}/{uuid.uuid4().hex}.parquet"
        (self.root / folder).mkdir(parents=True, exist_ok=True)

    @property
    def tmp(self) -> Path:
        return self.root / (self.name + ".tmp")

    def write(self, data: pa.Table) -> None:
        if self._writer is None:
            self._schema = schema_for(self.columns, data)
            self._file = _Hashing(self.tmp)
            # Arrow hands the bytes to the Python file page by page (thousands of calls per million rows), each
            # taking the GIL from the threads parsing the next blocks: on a busy machine those waits, not the
            # encoding, were most of the write. Buffered natively, the file sees a few large writes (same bytes).
            self._sink = pa.BufferedOutputStream(pa.PythonFile(self._file, mode="w"), buffer_size=SINK_BUFFER)
            # statistics (min/max) on numbers and times only: on unique strings they cost more than they save, and on
            # the dictionary columns (a few labels in every row group) a sixth of their encoding (0.3 s per 10M rows)
            stats = [f.name for f in self._schema if not pa.types.is_string(f.type) and f.type != DICT]
            deltas = [f.name for f in self._schema if _delta_packed(f.type)]
            self._writer = pq.ParquetWriter(
                self._sink,
                self._schema,
                compression={f.name: "none" if f.name in deltas else "lz4" for f in self._schema},
                use_dictionary=[f.name for f in self._schema if f.type == DICT],
                column_encoding={name: "DELTA_BINARY_PACKED" for name in deltas} or None,
                write_statistics=stats,
            )
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="casegraph-segment")
        assert self._thread is not None
        self._pending.append(self._thread.submit(self._writer.write_table, conform(data, self._schema)))
        self.rows += data.num_rows
        if len(self._pending) > WRITE_AHEAD:
            self._pending.popleft().result()  # waits for the oldest; raises its error (the caller abandons the segment)

    def _drain(self) -> None:
        """Wait until every batch handed over is encoded (raising the first error), and stop the thread."""
        try:
            while self._pending:
                self._pending.popleft().result()
        finally:
            for f in self._pending:
                f.cancel()
            self._pending.clear()
            if self._thread is not None:
                self._thread.shutdown(wait=True)

    def finish(self) -> dict:
        """Close, flush to disk and move into place; the row to register."""
        self._drain()
        self._writer.close()
        assert self._sink is not None  # written to at least once: the store makes a writer for a batch
        self._sink.close()  # flushes the last bytes to the file, which closes (fsync) with it
        self._file.close()
        os.replace(self.tmp, self.root / self.name)
        return {
            "file": self.name,
            "tbl": self.table,
            "exhibit_sha256": self.exhibit_sha256,
            "parser": self.parser,
            "rows": self.rows,
            "sha256": self._file.hash.hexdigest(),
            "written_at": datetime.now(UTC),
        }

    def abandon(self) -> None:
        try:
            for f in self._pending:
                f.cancel()
            if self._thread is not None:
                self._thread.shutdown(wait=True)  # a batch being encoded finishes before its file is closed
            self._pending.clear()
            if self._writer is not None:
                self._writer.close()
            if self._sink is not None:
                self._sink.close()
        finally:
            if self._file is not None:
                self._file.close()
            self.tmp.unlink(missing_ok=True)


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
