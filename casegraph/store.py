"""The case store: one DuckDB file per case, and Parquet segments beside it for bulk batches.

Record tables are derived from the dataclasses in `model` (one source of truth for columns);
every one of them carries the provenance columns and a natural-key id. Each record table is a view
over a row table (`<table>_rows`, records written one by one) and the Parquet segments that hold the
columnar batches of bulk parsers (see `segments`). Idempotency is per parse run: a run first clears
every earlier record of its exhibit and parser (`clear`), then inserts, all in one transaction, so
re-ingesting the same bytes leaves the same rows and an interrupted ingest leaves nothing
half-written. (A primary-key index would make bulk inserts about nine times slower, and the ids are
unique by construction.)
"""

from __future__ import annotations

import os
import types
import typing
import warnings
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import fields
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from . import segments
from .model import AMOUNT as AMOUNT  # defined with the records; here for the store's callers
from .model import RECORD_CLASS, RECORD_TYPES, Batch, ParseIssue, Provenance, Record, constant
from .model import to_json as to_json

# the explorer's tie tables (graph.explore), declared here so that verify digests them like the graph
TIE_TABLES = {
    "graph_parties": "(v BIGINT NOT NULL, id VARCHAR NOT NULL, label VARCHAR NOT NULL, name VARCHAR, roles VARCHAR[])",
    "graph_tie_rows": "(v BIGINT NOT NULL, kind VARCHAR NOT NULL, a BIGINT NOT NULL, b BIGINT NOT NULL, ts_utc TIMESTAMPTZ, "
    "record_id VARCHAR, amount DECIMAL(38, 18), currency VARCHAR)",
}
PROVENANCE_COLUMNS = "exhibit_sha256 VARCHAR NOT NULL, parser VARCHAR NOT NULL, parser_version VARCHAR NOT NULL, locator VARCHAR NOT NULL"
# the graph's relationships. No key index: ids are made unique when the graph is built (an index does not spill).
# The id is computed when read, not stored: a long string per edge that only repeats its kind and ends, and
# writing it (string compression) cost a sixth of the build
EDGES_COLUMNS = (
    "(id VARCHAR GENERATED ALWAYS AS (kind || '|' || src || '|' || dst) VIRTUAL, src VARCHAR NOT NULL, dst VARCHAR NOT NULL, "
    f"kind VARCHAR NOT NULL, ts_utc TIMESTAMPTZ, weight DOUBLE, record_id VARCHAR, attrs JSON, {PROVENANCE_COLUMNS})"
)
EDGES_WRITTEN = "src, dst, kind, ts_utc, weight, record_id, attrs, exhibit_sha256, parser, parser_version, locator"  # all but id
# ts_precision: 'day' when the source gives a date and no time (ts_local is then that date at 00:00 and
# ts_utc the start of that local day, for ordering only: see casegraph.times), NULL otherwise
TIME_COLUMNS = ("ts_local", "ts_utc", "utc_offset", "tz_basis", "ts_precision")
DAY = "day"
# tz_basis markers for a local time the case zone does not name once (a DST fold or gap); the
# offset chosen (the one in force before the change) comes first, then the other candidate
AMBIGUOUS, NONEXISTENT = ";ambiguous:", ";nonexistent:"
ISSUES_PER_BATCH = 100  # DST issues named one by one per written batch; the rest are counted in one
# what `evidence add` records about the seizure itself, beside the intake (exhibits columns)
EXHIBIT_SEIZURE_COLUMNS = ("seized_at", "seal", "device_make", "device_model", "device_imei", "device_serial")

# Tables that are not parser output: written by intake, graph, finance and custody.
FIXED_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS exhibits (
    sha256 VARCHAR PRIMARY KEY, md5 VARCHAR NOT NULL, size BIGINT NOT NULL,
    exhibit_id VARCHAR NOT NULL, original_name VARCHAR, original_path VARCHAR, original_mtime TIMESTAMPTZ,
    seized_from VARCHAR, acquired_by VARCHAR, warrant VARCHAR, notes VARCHAR,
    format VARCHAR, added_at TIMESTAMPTZ NOT NULL, intake_event_hash VARCHAR NOT NULL,
    seized_at VARCHAR, seal VARCHAR, device_make VARCHAR, device_model VARCHAR, device_imei VARCHAR, device_serial VARCHAR);
    -- seized_at: as the examiner wrote it (ISO date or date-time with its zone); a date stays a date
CREATE TABLE IF NOT EXISTS parse_runs (
    exhibit_sha256 VARCHAR NOT NULL, parser VARCHAR NOT NULL, parser_version VARCHAR NOT NULL,
    started_at TIMESTAMPTZ NOT NULL, finished_at TIMESTAMPTZ, status VARCHAR NOT NULL,
    records JSON, issues BIGINT, output_sha256 VARCHAR, custody_event_hash VARCHAR,
    PRIMARY KEY (exhibit_sha256, parser, parser_version));
CREATE TABLE IF NOT EXISTS entities (
    id VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, label VARCHAR, attrs JSON,
    created_by VARCHAR NOT NULL, created_at TIMESTAMPTZ NOT NULL,
    evidence JSON NOT NULL);  -- the records (ids, locators) the entity rests on
CREATE TABLE IF NOT EXISTS edges {EDGES_COLUMNS};
CREATE TABLE IF NOT EXISTS findings (
    id VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, title VARCHAR NOT NULL, summary VARCHAR,
    score DOUBLE, detector VARCHAR NOT NULL, detector_version VARCHAR NOT NULL,
    created_at TIMESTAMPTZ NOT NULL, evidence JSON NOT NULL, attrs JSON);  -- evidence: records with their locators
CREATE TABLE IF NOT EXISTS custody_anchor (seq BIGINT NOT NULL, hash VARCHAR NOT NULL);
-- graph: canonical identifier keys, entity resolution (members, the links that joined them, examiner decisions)
CREATE TABLE IF NOT EXISTS identifier_keys (
    kind VARCHAR NOT NULL, value VARCHAR NOT NULL, key_kind VARCHAR NOT NULL, key VARCHAR NOT NULL,
    valid BOOLEAN NOT NULL, detail JSON, node VARCHAR NOT NULL, PRIMARY KEY (kind, value));
CREATE TABLE IF NOT EXISTS neo4j_pushes (  -- batches a Neo4j target holds, for resuming a push
    target VARCHAR NOT NULL, digest VARCHAR NOT NULL, step VARCHAR NOT NULL, batch BIGINT NOT NULL,
    rows BIGINT NOT NULL, done_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (target, digest, step, batch));
CREATE TABLE IF NOT EXISTS nodes (id VARCHAR NOT NULL, label VARCHAR NOT NULL, name VARCHAR, props JSON);
-- the explorer's tie table (graph.explore.build_ties, written with the graph): every party numbered, and one
-- row per record and tie end in party order, so an expansion reads only the row groups of its party
CREATE TABLE IF NOT EXISTS graph_parties {TIE_TABLES["graph_parties"]};
CREATE TABLE IF NOT EXISTS graph_tie_rows {TIE_TABLES["graph_tie_rows"]};
CREATE TABLE IF NOT EXISTS entity_members (entity_id VARCHAR NOT NULL, member VARCHAR PRIMARY KEY);
CREATE TABLE IF NOT EXISTS entity_links (
    entity_id VARCHAR NOT NULL, a VARCHAR NOT NULL, b VARCHAR NOT NULL, method VARCHAR NOT NULL,
    score DOUBLE, evidence JSON NOT NULL);
-- ai: what a model found inside a record (named entities), and sentence vectors for semantic search
CREATE TABLE IF NOT EXISTS annotations (
    record_id VARCHAR NOT NULL, model VARCHAR NOT NULL, model_version VARCHAR NOT NULL, label VARCHAR NOT NULL,
    text VARCHAR, start_char INTEGER, end_char INTEGER, score DOUBLE, {PROVENANCE_COLUMNS});
CREATE TABLE IF NOT EXISTS message_vectors (record_id VARCHAR NOT NULL, model VARCHAR NOT NULL, vec FLOAT[] NOT NULL);
CREATE TABLE IF NOT EXISTS er_decisions (
    seq BIGINT PRIMARY KEY, action VARCHAR NOT NULL, a VARCHAR NOT NULL, b VARCHAR, reason VARCHAR,
    actor VARCHAR NOT NULL, decided_at TIMESTAMPTZ NOT NULL);  -- merge | split (a, b members) | mark | unmark (b: role)
-- examiner review: verdicts on findings, and notes tagged on records (both append-only; the last word counts)
CREATE TABLE IF NOT EXISTS finding_decisions (
    seq BIGINT PRIMARY KEY, finding_id VARCHAR NOT NULL, kind VARCHAR NOT NULL, detector VARCHAR NOT NULL,
    subject JSON NOT NULL, verdict VARCHAR NOT NULL, reason VARCHAR NOT NULL, actor VARCHAR NOT NULL,
    decided_at TIMESTAMPTZ NOT NULL);  -- subject: the finding's title, evidence and attrs when decided (it outlives re-runs)
CREATE TABLE IF NOT EXISTS record_tags (
    seq BIGINT PRIMARY KEY, record_id VARCHAR NOT NULL, record_table VARCHAR NOT NULL, note VARCHAR NOT NULL,
    actor VARCHAR NOT NULL, tagged_at TIMESTAMPTZ NOT NULL);
-- graph views an examiner pinned in the workspace for the report (graph.explore): the nodes, the ties and the filters
CREATE TABLE IF NOT EXISTS graph_pins (
    seq BIGINT PRIMARY KEY, title VARCHAR NOT NULL, view JSON NOT NULL, actor VARCHAR NOT NULL, pinned_at TIMESTAMPTZ NOT NULL);
"""


def _id_prefix_sql(table: str, alias: str = "") -> str:
    """SQL for what a record id holds before its locator: 'table/<exhibit sha256, 32 hex>/<parser>/'."""
    a = f"{alias}." if alias else ""
    return f"'{table}/' || left({a}exhibit_sha256, 32) || '/' || {a}parser || '/'"


def _column_types(cls: type[Record]) -> list[tuple[str, str, pa.DataType | None]]:
    """(column, SQL type, arrow type) for one record class; datetimes expand to the four time columns."""
    hints = typing.get_type_hints(cls)
    # the natural key, as model.record_id builds it: table/exhibit/parser/locator[#discriminator]
    seps = ["'#'"] + ["':'"] * len(cls.discriminator_columns)
    disc = "".join(f" || {sep} || coalesce(CAST({c} AS VARCHAR), '')" for sep, c in zip(seps, cls.discriminator_columns))  # noqa: B905
    id_sql = f"{_id_prefix_sql(cls.table)} || locator{disc}"
    out: list[tuple[str, str, pa.DataType | None]] = [("id", id_sql, None)]
    for f in fields(cls):
        if f.name == "prov":
            continue
        hint = hints[f.name]
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        base = args[0] if args and typing.get_origin(hint) in (typing.Union, types.UnionType) else hint
        origin = typing.get_origin(base)
        if base is datetime:
            out += [
                ("ts_local", "TIMESTAMP", pa.timestamp("us")),
                ("ts_utc", "TIMESTAMPTZ", pa.timestamp("us", tz="UTC")),
                ("utc_offset", "VARCHAR", pa.string()),
                ("tz_basis", "VARCHAR", pa.string()),
                ("ts_precision", "VARCHAR", pa.string()),
            ]
        elif base is bool:
            out.append((f.name, "BOOLEAN", pa.bool_()))
        elif base is int:
            out.append((f.name, "BIGINT", pa.int64()))
        elif base is float:
            out.append((f.name, "DOUBLE", pa.float64()))
        elif base is Decimal:
            out.append((f.name, "DECIMAL(38,18)", AMOUNT))
        elif origin is list:
            inner = typing.get_args(base)[0]
            out.append((f.name, "BIGINT[]" if inner is int else "VARCHAR[]", pa.list_(pa.int64() if inner is int else pa.string())))
        elif origin is dict:
            out.append((f.name, "JSON", pa.string()))
        else:
            out.append((f.name, "VARCHAR", pa.string()))
    out += [
        ("exhibit_sha256", "VARCHAR NOT NULL", pa.string()),
        ("parser", "VARCHAR NOT NULL", pa.string()),
        ("parser_version", "VARCHAR NOT NULL", pa.string()),
        ("locator", "VARCHAR NOT NULL", pa.string()),
    ]
    return out


RECORD_COLUMNS = {cls.table: _column_types(cls) for cls in RECORD_TYPES}
RECORD_TABLES = tuple(RECORD_COLUMNS)


def rows_table(table: str) -> str:
    """Where a record table's row-by-row records are kept (the table itself is a view)."""
    return f"{table}_rows" if table in RECORD_COLUMNS else table


def _run_of(data: pa.Table) -> tuple[str, str, str] | None:
    """(exhibit, parser, version) when every row of a batch has the same ones, else None."""
    key = []
    for name in segments.PARTITION_COLUMNS:
        if name not in data.column_names:
            return None
        column = data.column(name)
        one = column.chunk(0) if column.num_chunks == 1 else None
        if one is not None and pa.types.is_dictionary(one.type) and len(one.dictionary) == 1 and one.null_count == 0:
            values = one.dictionary  # every row holds the one value (a parser's constant column): no hashing of the rows
        else:
            values = pc.unique(column.combine_chunks())
        if pa.types.is_dictionary(values.type):
            values = values.dictionary_decode()
        if len(values) != 1 or not values[0].is_valid:
            return None
        key.append(values[0].as_py())
    return tuple(key)


def _view_sql(table: str, with_segments: bool, have: set[str] | None = None) -> str:
    """The record table as one view: its row table and its Parquet segments, with the same columns.
    The segments are read by a glob over the table's folder, not a list of files: a list made every
    commit rebuild the view, and binding it reads every file's footer, so ingesting many small
    exhibits slowed with each one (quadratic). The folder holds exactly the registered segments:
    files are renamed into place as they are registered, removed when their registration is, and
    any left by a crash are swept when the store is next opened. `have`: the columns the segments
    hold; one that no segment holds yet (added to the schema later) reads as NULL."""
    cols = RECORD_COLUMNS[table]
    sql = f"SELECT {', '.join(c for c, _, _ in cols)} FROM {rows_table(table)}"
    if with_segments:
        sql += (
            f"\nUNION ALL SELECT {cols[0][1]} AS id, "
            + ", ".join(
                f"CAST({c if have is None or c in have or c in segments.PARTITION_COLUMNS else 'NULL'} "
                f"AS {t.replace(' NOT NULL', '')}) AS {c}"
                for c, t, _ in cols[1:]
            )
            + f" FROM {segments.read_sql([segments.table_glob(table)])}"
        )
    return f"CREATE OR REPLACE VIEW {table} AS {sql}"


def record_join(alias: str, table: str, id_expr: str) -> str:
    """A join condition: the record `alias` of `table` is the one whose id is `id_expr`, on the table's real
    columns. A record table's `id` is computed (model.record_id: table/exhibit/parser/locator), so joining on it
    builds the id of every row (at ten million transfers ~130 ms a join); this joins on the locator the id ends
    with (a hashable key; the parser names hold no '/') and then checks the rest of the id on the few rows that
    share it: exact, the same rows as `alias.id = id_expr`. For tables whose id has no discriminator."""
    if RECORD_CLASS[table].discriminator_columns:
        raise ValueError(f"{table}: its record ids end with a discriminator, not the locator")
    prefix = _id_prefix_sql(table, alias)
    return (
        f"{alias}.locator = regexp_extract({id_expr}, '^[^/]*/[^/]*/[^/]*/(.*)$', 1) AND starts_with({id_expr}, {prefix}) "
        f"AND length({id_expr}) - length({alias}.locator) = length({prefix})"  # not a hash key: mixes both sides
    )


def sql_literal(text: str) -> str:
    """A string as an SQL literal, for the few places a value cannot be a bound parameter (COPY, names)."""
    return "'" + text.replace("'", "''") + "'"


class TimeNormaliser:
    """Turns a parser's timestamp into the stored time columns (TIME_COLUMNS).

    A zone stated by the source wins. A wall-clock time without a zone is converted with the case's
    declared device time zone and marked so; with no declared zone its UTC time stays unknown. A
    `datetime.date` (a date with no time) is kept as a date: ts_precision 'day', ts_local that date at
    00:00, ts_utc the start of that local day (for ordering and windows, never shown as a time).
    A wall-clock time that the case zone has twice (DST fold) or not at all (DST gap) gets the offset in
    force before the change, and its tz_basis names both candidates (`…;ambiguous:+01:00|+00:00`)."""

    def __init__(self, case_tz: tzinfo | None, case_tz_name: str | None):
        self.case_tz, self.case_tz_name = case_tz, case_tz_name

    def __call__(self, ts: datetime | date | None) -> tuple[datetime | None, datetime | None, str | None, str, str | None]:
        if ts is None:
            return None, None, None, "none", None
        precision = None
        if not isinstance(ts, datetime):  # a date and no time
            ts, precision = datetime(ts.year, ts.month, ts.day), DAY
        if ts.tzinfo is not None and ts.utcoffset() is not None:
            return ts.replace(tzinfo=None), ts.astimezone(UTC), _offset(ts), "source", precision
        if self.case_tz is None:
            return ts, None, None, "unknown", precision
        utc, offset, basis = self.local(ts)
        if precision:  # a date's day start in a DST change says nothing about a time the source wrote
            basis = basis.partition(";")[0]
        return ts, utc, offset, basis, precision

    def local(self, ts: datetime) -> tuple[datetime, str, str]:
        """(UTC, offset, basis) of a naive wall-clock time in the case zone, flagging a DST fold or gap."""
        basis = f"case-timezone:{self.case_tz_name}"
        first, second = ts.replace(tzinfo=self.case_tz, fold=0), ts.replace(tzinfo=self.case_tz, fold=1)
        if first.utcoffset() != second.utcoffset():
            # a fold reads the same wall time back from both instants; a gap's wall time does not exist
            exists = first.astimezone(UTC).astimezone(self.case_tz).replace(tzinfo=None) == ts
            basis += f"{AMBIGUOUS if exists else NONEXISTENT}{_offset(first)}|{_offset(second)}"
        return first.astimezone(UTC), _offset(first), basis

    def arrow(self, ts: pa.ChunkedArray | pa.Array) -> dict[str, pa.Array]:
        """The same, column-wise, for a timestamp column (naive wall clock, or zoned) or a date32 column
        (dates without a time). The offset, basis and precision columns come as dictionary arrays: they
        take a few values over millions of rows. `flagged` (when present): the row numbers whose wall
        time the case zone has twice or not at all."""
        ts = ts.combine_chunks() if isinstance(ts, pa.ChunkedArray) else ts
        n, present = len(ts), ts.is_valid()
        precision = pa.nulls(n, pa.string())
        if pa.types.is_date(ts.type):
            precision = _either(present, DAY, None)
            ts = ts.cast(pa.timestamp("us"))
        zone = ts.type.tz
        if zone is not None:
            local, utc, basis = pc.local_timestamp(ts).cast(pa.timestamp("us")), ts.cast(pa.timestamp("us", "UTC")), "source"
        elif self.case_tz is not None:
            local = ts.cast(pa.timestamp("us"))
            basis = f"case-timezone:{self.case_tz_name}"
            fixed = self._fixed_offset(local)
            if fixed is not None:  # one offset over the whole span (Sri Lanka since 2006): a subtraction
                utc = pc.subtract(local.cast(pa.int64()), fixed).cast(pa.timestamp("us", "UTC"))
                return {
                    "ts_local": local,
                    "ts_utc": utc,
                    "utc_offset": _either(present, _format_offset(fixed // 60_000_000), None),
                    "tz_basis": _either(present, basis, "none"),
                    "ts_precision": precision,
                }
            return self._zoned(local, present, basis, precision)
        else:
            return {
                "ts_local": ts.cast(pa.timestamp("us")),
                "ts_utc": pa.nulls(n, pa.timestamp("us", "UTC")),
                "utc_offset": pa.nulls(n, pa.string()),
                "tz_basis": _either(present, "unknown", "none"),
                "ts_precision": precision,
            }
        minutes = pc.divide(pc.subtract(local.cast(pa.int64()), utc.cast(pa.int64())), 60_000_000)
        return {
            "ts_local": local,
            "ts_utc": utc,
            "utc_offset": _offset_labels(minutes),
            "tz_basis": _either(present, basis, "none"),
            "ts_precision": precision,
        }

    def _zoned(self, local: pa.Array, present: pa.Array, basis: str, precision: pa.Array) -> dict[str, pa.Array]:
        """Wall-clock times in a zone whose offset changes within the span. Arrow picks an instant for a
        DST fold or gap silently (and for a gap one that is no reading of the wall time at all), so
        those rows, found where the earliest and latest readings differ, are read again one by one."""
        early = pc.assume_timezone(local, timezone=self.case_tz_name, ambiguous="earliest", nonexistent="earliest")
        late = pc.assume_timezone(local, timezone=self.case_tz_name, ambiguous="latest", nonexistent="latest")
        flagged = np.flatnonzero(_np_mask(pc.not_equal(early, late)))
        utc = early.cast(pa.timestamp("us", "UTC"))
        minutes = pc.divide(pc.subtract(local.cast(pa.int64()), utc.cast(pa.int64())), 60_000_000)
        labels = _either(present, basis, "none")
        if not len(flagged):
            return {"ts_local": local, "ts_utc": utc, "utc_offset": _offset_labels(minutes), "tz_basis": labels, "ts_precision": precision}
        distinct = {}
        for t in set(local.take(pa.array(flagged)).to_pylist()):
            distinct[t] = self.local(t)
        fix = [distinct[t] for t in local.take(pa.array(flagged)).to_pylist()]
        us = utc.cast(pa.int64()).to_numpy(zero_copy_only=False).copy()
        us[flagged] = [int((u - _EPOCH) / timedelta(microseconds=1)) for u, _, _ in fix]
        utc = pa.array(us, pa.int64(), mask=~_np_mask(present)).cast(pa.timestamp("us", "UTC"))
        minutes = pc.divide(pc.subtract(local.cast(pa.int64()), utc.cast(pa.int64())), 60_000_000)
        names = labels.dictionary_decode().to_numpy(zero_copy_only=False).astype(object)
        dates = precision.null_count < len(precision)  # a date's day start in a DST change: no time to flag
        names[flagged] = [b.partition(";")[0] if dates else b for _, _, b in fix]
        out = {
            "ts_local": local,
            "ts_utc": utc,
            "utc_offset": _offset_labels(minutes),
            "tz_basis": pc.dictionary_encode(pa.array(names, pa.string())),
            "ts_precision": precision,
        }
        return out if dates else {**out, "flagged": flagged}

    def _fixed_offset(self, local: pa.Array) -> int | None:
        """The zone's offset in µs when it is the same at every midnight from the day before the span to
        the day after it (so a change on the span's first or last day is seen), else None."""
        span = pc.min_max(local).as_py()
        if span["min"] is None:
            return None
        lo = datetime.combine(span["min"].date(), datetime.min.time()) - timedelta(days=1)
        days = [lo + timedelta(days=d) for d in range((span["max"] - lo).days + 2)]
        offsets = {self.case_tz.utcoffset(d) for d in days}
        return int(offsets.pop() / timedelta(microseconds=1)) if len(offsets) == 1 else None


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _np_mask(mask: pa.Array) -> np.ndarray:
    return pc.fill_null(mask, False).to_numpy(zero_copy_only=False)


def _offset_labels(minutes: pa.Array) -> pa.DictionaryArray:
    distinct = pc.unique(minutes).drop_null()
    labels = pa.array([_format_offset(int(m)) for m in distinct.to_pylist()], pa.string())
    return pa.DictionaryArray.from_arrays(pc.index_in(minutes, distinct), labels)


def dst_issue(prov: Provenance, local: datetime, basis: str) -> ParseIssue:
    """The warning that names a wall-clock time the case zone has twice or not at all, with both readings."""
    zone, _, rest = basis.partition(";")
    kind, _, offsets = rest.partition(":")
    chosen, other = offsets.split("|")
    what = "occurs twice (DST fold)" if kind == "ambiguous" else "does not exist (DST gap)"
    return ParseIssue(
        prov=prov,
        severity="warning",
        message=f"local time {local:%Y-%m-%d %H:%M:%S} {what} in {zone.removeprefix('case-timezone:')}: "
        f"stored with {chosen} (the offset before the change); it may be {other}",
    )


def _either(mask: pa.Array, yes: str, no: str | None) -> pa.DictionaryArray:
    """yes where mask holds, else no (None: null), as a dictionary array."""
    if mask.false_count == 0:
        return constant(yes, len(mask))
    holds = mask.to_numpy(zero_copy_only=False)
    if no is None:
        return pa.DictionaryArray.from_arrays(pa.array(np.zeros(len(mask), np.int32), mask=~holds), pa.array([yes]))
    return pa.DictionaryArray.from_arrays(pa.array(holds.astype(np.int32)), pa.array([no, yes], pa.string()))


def _format_offset(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _offset(ts: datetime) -> str:
    return _format_offset(int(ts.utcoffset().total_seconds() // 60))


class CaseStore:
    def __init__(self, path: Path | str, times: TimeNormaliser | None = None, read_only: bool = False):
        self.path = Path(path)
        self.segments_dir = self.path.with_suffix(".segments")
        # segment files are named relative to their folder, so a case directory can be moved or copied
        self.con = duckdb.connect(str(self.path), read_only=read_only, config={"file_search_path": str(self.segments_dir)})
        # bounded memory: DuckDB spills and writes as it goes (a 10M-row ingest peaks at 1.5 GB, not 4 GB, and is faster)
        self.con.execute(f"SET memory_limit = '{os.environ.get('CASEGRAPH_MEMORY_LIMIT', '2GB')}'")
        self.times = times or TimeNormaliser(None, None)
        self._open: dict[tuple[str, str, str, str], segments.SegmentWriter] = {}  # segments this transaction writes
        self._sealed: list[str] = []  # segments this transaction finished and registered: their files go if it rolls back
        self._dropped: list[str] = []  # segments this transaction cleared: their files go once it commits
        self._in_transaction = False
        self._flagged: list[tuple[Provenance, datetime, str]] = []  # DST fold/gap times awaiting their issue
        self._columns_of: dict[str, frozenset[str]] = {}
        self._union: dict[str, tuple[set[str], frozenset[str]]] = {}  # per table: segments seen, their columns
        self.time_issues = 0  # DST warnings the store wrote (the ingest counts them with the parser's)
        self._view_columns: dict[str, frozenset[str]] = {}  # per table with segments: the columns its view reads
        if not read_only:
            self.migrate()

    def close(self) -> None:
        self.con.close()

    def _migrate_edges(self) -> None:
        """A store from before the computed edge id: its edges move to the new layout (every stored id was
        kind|src|dst, the build's only id)."""
        ddl = self.one("SELECT sql FROM duckdb_tables() WHERE database_name = current_database() AND table_name = 'edges'")
        if ddl is None or "GENERATED" in ddl[0]:
            return
        cols = EDGES_WRITTEN
        self.con.execute(f"""BEGIN TRANSACTION; CREATE TABLE edges_computed_id {EDGES_COLUMNS};
                             INSERT INTO edges_computed_id ({cols}) SELECT {cols} FROM edges;
                             DROP TABLE edges; ALTER TABLE edges_computed_id RENAME TO edges; COMMIT""")

    def migrate(self) -> None:
        self.con.execute(FIXED_SCHEMA)
        # columns added to fixed tables since their first release
        self.con.execute("ALTER TABLE findings ADD COLUMN IF NOT EXISTS derived_from JSON")  # the case state a finding rests on
        for col in EXHIBIT_SEIZURE_COLUMNS:  # seizure details, added after the first release
            self.con.execute(f"ALTER TABLE exhibits ADD COLUMN IF NOT EXISTS {col} VARCHAR")
        self._migrate_edges()
        self.con.execute(segments.SEGMENTS_DDL)
        tables = {
            r[0] for r in self.con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()").fetchall()
        }
        for table, cols in RECORD_COLUMNS.items():
            if table in tables:  # a store from before segments: its table becomes the row table
                self.con.execute(f"ALTER TABLE {table} RENAME TO {rows_table(table)}")
            ddl = [f"{c} VARCHAR GENERATED ALWAYS AS ({t}) VIRTUAL" if c == "id" else f"{c} {t}" for c, t, _ in cols]
            self.con.execute(f"CREATE TABLE IF NOT EXISTS {rows_table(table)} ({', '.join(ddl)})")
            # a store from before a column was added gets it, NULL in its old rows
            have = {
                r[0]
                for r in self.con.execute(
                    "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() AND table_name = ?",
                    [rows_table(table)],
                ).fetchall()
            }
            for c, t, _ in cols:
                if c not in have:
                    self.con.execute(f"ALTER TABLE {rows_table(table)} ADD COLUMN {c} {t.replace(' NOT NULL', '')}")
        gone = segments.sweep(self.segments_dir, {r[0] for r in self.con.execute("SELECT file FROM segments").fetchall()})
        if gone:
            warnings.warn(
                f"{self.segments_dir}: removed {len(gone)} segment file(s) that no commit registered (left by an interrupted ingest)",
                stacklevel=2,
            )
        self._refresh_views(force=True)

    def _refresh_views(self, force: bool = False) -> None:
        """Re-make the views of the tables whose segments changed what the view must read: a first or
        last segment, or a segment with a column the others lack (every view at open). One more segment
        with the same columns needs no new view: the glob reads it."""
        files: dict[str, set[str]] = defaultdict(set)
        for table, file in self.con.execute("SELECT tbl, file FROM segments").fetchall():
            files[table].add(file)
        for table in RECORD_COLUMNS:
            cols = self._table_columns(table, files.get(table, set()))
            if not force and cols == self._view_columns.get(table):
                continue  # one more segment with the same columns: the glob already reads it
            try:
                self.con.execute(_view_sql(table, cols is not None, set(cols) if cols is not None else None))
            except duckdb.Error as e:  # a damaged segment: the store still opens, `custody verify` names the file
                self.con.execute(_view_sql(table, False))
                warnings.warn(
                    f"{table}: a registered segment cannot be read ({str(e).splitlines()[0][:200]}); "
                    "its records are left out until 'casegraph custody verify' is run",
                    stacklevel=2,
                )
            if cols is None:
                self._view_columns.pop(table, None)
            else:
                self._view_columns[table] = cols

    def _table_columns(self, table: str, files: set[str]) -> frozenset[str] | None:
        """The union of the columns a table's registered segments hold (None: no segment). Footers are
        read once per file (files never change), and a commit that only adds segments reads only theirs."""
        if not files:
            self._union.pop(table, None)
            return None
        seen, cols = self._union.get(table, (set(), frozenset()))
        if seen - files:  # a segment went (a re-run replaced it): the union from what is left
            seen, cols = set(), frozenset()
        new = files - seen
        cols = cols.union(*(self._segment_columns(f) for f in new)) if new else cols
        self._union[table] = (seen | new, cols)
        return cols

    def _segment_columns(self, name: str) -> frozenset[str]:
        """The columns one segment file holds (its Parquet footer; files never change, so read once)."""
        if name not in self._columns_of:
            try:
                self._columns_of[name] = frozenset(pq.read_schema(self.segments_dir / name).names)
            except (OSError, pa.ArrowException):  # missing or unreadable: let the view name what is expected
                return frozenset(c for cols in RECORD_COLUMNS.values() for c, _, _ in cols)
        return self._columns_of[name]

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One unit of work: rows, segments and their registration commit together or not at all."""
        self.con.execute("BEGIN TRANSACTION")
        self._in_transaction = True
        try:
            yield self.con
            self.seal()
        except BaseException:
            self.con.execute("ROLLBACK")
            self._end(committed=False)
            raise
        self.con.execute("COMMIT")
        self._end(committed=True)

    def seal(self) -> None:
        """Finish the segments this transaction is writing and register them (they commit or roll back with it)."""
        rows = []
        try:
            for key in list(self._open):
                rows += self._open[key].finish()
                self._sealed += self._open.pop(key).names
        finally:
            self._register(rows)

    def _end(self, committed: bool) -> None:
        for w in self._open.values():
            w.abandon()
        for name in self._dropped if committed else self._sealed:  # files no committed row names any more
            (self.segments_dir / name).unlink(missing_ok=True)
        self._open.clear()
        self._sealed.clear()
        self._dropped.clear()
        self._in_transaction = False
        self._refresh_views()

    def _register(self, rows: list[dict]) -> None:
        if rows:
            self.insert("segments", pa.Table.from_pylist(rows))

    @contextmanager
    def unordered(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Bulk statements that need not keep row order: DuckDB can then stream and spill them
        instead of holding whole results in memory (graph build, party graph at millions of rows)."""
        self.con.execute("SET preserve_insertion_order = false")
        try:
            yield self.con
        finally:
            self.con.execute("RESET preserve_insertion_order")

    # -- record writes -------------------------------------------------------------------
    def _arrow_batch(self, table: str, records: list[Record]) -> pa.Table:
        cols = [c for c in RECORD_COLUMNS[table] if c[2] is not None]  # `id` is derived by the store
        data: dict[str, list] = {c: [] for c, _, _ in cols}
        for r in records:
            for name, value in r.values().items():
                if isinstance(value, date) or (value is None and name == "ts"):
                    times = self.times(value)
                    for col, v in zip(TIME_COLUMNS, times):  # noqa: B905
                        data[col].append(v)
                    if AMBIGUOUS in times[3] or NONEXISTENT in times[3]:
                        self._flagged.append((r.prov, times[0], times[3]))
                elif isinstance(value, dict):
                    data[name].append(to_json(value) if value else None)
                else:
                    data[name].append(value)
            p = r.prov
            data["exhibit_sha256"].append(p.exhibit_sha256)
            data["parser"].append(p.parser)
            data["parser_version"].append(p.parser_version)
            data["locator"].append(p.locator)
        return pa.table({c: pa.array(data[c], type=t) for c, _, t in cols})

    def _arrow_columns(self, b: Batch) -> pa.Table:
        """A parser's Batch in the stored layout: its `ts` column becomes the four time columns."""
        data = b.data.drop_columns(["id"]) if "id" in b.data.column_names else b.data
        if "ts" in data.column_names:
            times = self.times.arrow(data.column("ts"))
            flagged = times.pop("flagged", None)
            if flagged is not None:
                rows = data.select(["exhibit_sha256", "parser", "parser_version", "locator"]).take(pa.array(flagged)).to_pylist()
                local, basis = times["ts_local"].take(pa.array(flagged)), times["tz_basis"].take(pa.array(flagged))
                self._flagged += [
                    (Provenance(r["exhibit_sha256"], r["parser"], r["parser_version"], r["locator"]), t, b)
                    for r, t, b in zip(rows, local.to_pylist(), basis.to_pylist())  # noqa: B905
                ]
            data = data.drop_columns(["ts"])
            for name in TIME_COLUMNS:
                data = data.append_column(name, times[name])
        return data

    def clear(self, exhibit_sha256: str, parser: str) -> None:
        """Remove every record one parser derived from one exhibit (before that parser runs again)."""
        for table in RECORD_TABLES:
            self.con.execute(f"DELETE FROM {rows_table(table)} WHERE exhibit_sha256 = ? AND parser = ?", [exhibit_sha256, parser])
        dropped = [
            r[0]
            for r in self.con.execute(
                "DELETE FROM segments WHERE exhibit_sha256 = ? AND parser = ? RETURNING file", [exhibit_sha256, parser]
            ).fetchall()
        ]
        for key in [k for k in self._open if k[1:3] == (exhibit_sha256, parser)]:
            self._open.pop(key).abandon()
        if self._in_transaction:  # the files go when the transaction commits; a rollback keeps them
            self._dropped += dropped
        else:
            for name in dropped:
                (self.segments_dir / name).unlink(missing_ok=True)
        self._refresh_views()

    def write(self, records: Iterable[Record | Batch]) -> dict[str, int]:
        """Insert records and batches (any mix of types). Returns rows written per table."""
        by_table: dict[str, list[Record]] = defaultdict(list)
        offered: dict[str, int] = defaultdict(int)
        for r in records:
            if isinstance(r, Batch):
                self._write_batch(r.table, self._arrow_columns(r))
                offered[r.table] += len(r)
            else:
                by_table[r.table].append(r)
        for table, recs in by_table.items():
            self.insert(table, self._arrow_batch(table, recs))
            offered[table] += len(recs)
        if self._flagged:
            issues = self._dst_issues()
            self.insert("parse_issues", self._arrow_batch("parse_issues", issues))
            offered["parse_issues"] += len(issues)
            self.time_issues += len(issues)
        return dict(offered)

    def _dst_issues(self) -> list[ParseIssue]:
        """Warnings for the wall-clock times of this write that the case zone has twice or not at all:
        one per record up to ISSUES_PER_BATCH, then one that counts the rest (bounded on hostile input)."""
        flagged, self._flagged = self._flagged, []
        out = [dst_issue(prov, local, basis) for prov, local, basis in flagged[:ISSUES_PER_BATCH]]
        by_run: dict[Provenance, int] = defaultdict(int)
        first: dict[tuple, Provenance] = {}
        for prov, _, _ in flagged[ISSUES_PER_BATCH:]:
            key = (prov.exhibit_sha256, prov.parser, prov.parser_version)
            by_run[key] += 1
            first.setdefault(key, prov)
        for key, count in by_run.items():
            out.append(
                ParseIssue(
                    prov=first[key],
                    severity="warning",
                    message=(
                        f"{count} more local time(s) from here on occur twice or not at all in the case zone (DST); each is "
                        "stored with the offset before the change and its tz_basis names both candidates"
                    ),
                )
            )
        return out

    def _write_batch(self, table: str, data: pa.Table) -> None:
        """A columnar batch of one exhibit and parser goes into that run's segment (visible once the
        transaction commits); a batch that mixes runs goes to the row table."""
        key = _run_of(data)
        if key is None or data.num_rows == 0:
            self.insert(table, data)
            return
        writer = self._open.get((table, *key))
        if writer is None:
            writer = segments.SegmentWriter(self.segments_dir, table, *key, [(c, t) for c, _, t in RECORD_COLUMNS[table] if t is not None])
            if self._in_transaction:
                self._open[(table, *key)] = writer
        try:
            writer.write(data)
        except BaseException:
            writer.abandon()
            self._open.pop((table, *key), None)
            raise
        if not self._in_transaction:  # on its own: committed at once
            self._register(writer.finish())
            self._refresh_views()

    def insert(self, table: str, data: pa.Table) -> None:
        """Bulk insert of Arrow columns, matched by name (no Python loop over rows)."""
        batch = data  # noqa: F841 - read by DuckDB's replacement scan
        self.con.execute(f"INSERT INTO {rows_table(table)} BY NAME SELECT * FROM batch")

    def id_table(self, name: str, ids: Iterable[str]) -> str:
        """A temporary one-column table `name(id)` holding `ids`, to join a query against; returns `name`."""
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} (id VARCHAR)")
        self.insert(name, pa.table({"id": pa.array(sorted(set(ids)), pa.string())}))
        return name

    # -- queries ---------------------------------------------------------------------------
    def one(self, sql: str, params: list | None = None) -> tuple | None:
        """The first row of a query, or None. (fetchall: DuckDB 2 keeps an undrained result open, which blocks
        the connection's next relation query.)"""
        rows = self.con.execute(sql, params or []).fetchall()
        return rows[0] if rows else None

    def count(self, table: str, where: str = "", params: list | None = None) -> int:
        return self.one(f"SELECT count(*) FROM {table} {where}", params)[0]

    def counts(self) -> dict[str, int]:
        tables = ("exhibits", *RECORD_TABLES, "entities", "edges", "findings")
        return {t: self.count(t) for t in tables}

    def rows(self, sql: str, params: list | None = None) -> list[dict[str, Any]]:
        cur = self.con.execute(sql, params or [])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]  # noqa: B905
