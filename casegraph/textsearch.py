"""Full-text search over messages, OCR text, contacts and transaction narrations, offline.

The index is SQLite FTS5 with the trigram tokenizer (compiled into Python's sqlite3; nothing is
downloaded): every 3-character run is a term, so a query matches any substring, which suits Sinhala
and Tamil, where case endings and particles are glued to the word (පාස්පෝට් / பாஸ்போர்ட்டை). Text
is indexed as written, NFC-normalised, with zero-width joiners and similar format characters taken
out (they sit inside Sinhala conjuncts and are typed or not); vowel signs are never stripped.

A second column holds each word's sound key (graph.names.romanise + fold: Sinhala and Tamil script
transliterated, spelling variants folded, an r before a consonant dropped as Sri Lankan English
loans are written), so "passport" also finds பாஸ்போர்ட்டை and "salli" finds සල්ලි. Matches on
that column alone are shown as "by sound", after the exact ones.

The index is derived: `search-index.sqlite` in the case directory, built from the store, its build
logged in custody with the file's SHA-256 and the state it was built from (the parse runs' output
digests), and built again when that state changes."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import sqlite3
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from .errors import CaseGraphError
from .times import time_sql

if TYPE_CHECKING:
    from .case import Case
    from .store import CaseStore

INDEX_FILE = "search-index.sqlite"
VERSION = "casegraph-fts/2"  # 2: documents numbered in display order (an index of 1 is rebuilt)
BATCH = 20_000
CACHE_KB = 256 * 1024  # SQLite page cache during a build
HASH_BYTES = 64 << 20  # FTS5 terms held in memory before a segment is written (fewer, larger segments to merge)
_FORMAT_CHARS = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
COUNT_CAP = 1000  # matches counted for "N records" (above it: "more than N")
MIN_TERM = 3  # the trigram tokenizer needs 3 characters to use the index

# what is indexed, per table: the text, who, where, and the time as recorded (times.time_sql)
SOURCES = {
    "messages": f"""SELECT id, 'messages', text, coalesce(sender_name, sender_id), coalesce(chat_name, chat_id), {time_sql()},
                           CAST(ts_utc AS VARCHAR), exhibit_sha256, locator, chat_id, epoch_us(ts_utc)
                    FROM messages WHERE text IS NOT NULL AND length(trim(text)) > 0""",
    "ocr_text": """SELECT id, 'ocr_text', text, NULL, 'text read from an image', NULL, NULL, exhibit_sha256, locator, NULL, NULL
                   FROM ocr_text WHERE text IS NOT NULL AND length(trim(text)) > 0""",
    "contacts": """SELECT id, 'contacts', concat_ws(' ', name, array_to_string(phones, ' '), array_to_string(emails, ' '),
                                                array_to_string(usernames, ' '), organisation, note),
                          name, 'contact (' || source || ')', NULL, NULL, exhibit_sha256, locator, NULL, NULL FROM contacts""",
    "transactions": f"""SELECT id, 'transactions', concat_ws(' ', description, reference, from_name, to_name),
                               concat_ws(' → ', coalesce(from_name, from_account), coalesce(to_name, to_account)),
                               concat_ws(' ', rail, CAST(amount AS VARCHAR), currency), {time_sql()}, CAST(ts_utc AS VARCHAR),
                               exhibit_sha256, locator, NULL, epoch_us(ts_utc)
                        FROM transactions WHERE coalesce(description, reference, from_name, to_name) IS NOT NULL""",
}
COLUMNS = ("record_id", "tbl", "text", "who", "place", "shown_time", "ts_utc", "exhibit_sha256", "locator", "chat_id")
# and, last, the sort key: the UTC time in microseconds (the true time order, whatever DuckDB's TimeZone; NULL: undated)


class SearchError(CaseGraphError, LookupError):
    """A query the index cannot answer (too short), or an index that cannot be used as it is."""


def clean(text: str) -> str:
    """The text as indexed and queried: NFC, format characters (ZWJ, ZWNJ, soft hyphen …) out."""
    if text.isascii():  # NFC leaves ASCII as it is, and every format character is outside it
        return text
    return unicodedata.normalize("NFC", text).translate(_FORMAT_CHARS)


_WORD = re.compile(r"[\w\u0B80-\u0BFF\u0D80-\u0DFF]+")  # Python's \w alone splits Sinhala and Tamil at vowel signs
_INDIC = re.compile(r"[\u0B80-\u0BFF\u0D80-\u0DFF]")


def sound_keys(text: str) -> tuple[list[str], list[str]]:
    """Sound keys of the words written in Latin letters, and of those in Sinhala or Tamil script."""
    latin: list[str] = []
    script: list[str] = []
    for w in _WORD.findall(clean(text)):
        keys, indic = _word_keys(w)
        (script if indic else latin).extend(keys)
    return latin, script


@functools.lru_cache(maxsize=1 << 18)
def _word_keys(w: str) -> tuple[tuple[str, ...], bool]:
    """One word's sound keys, and whether it is written in Sinhala or Tamil script. Cached: an index
    build meets the same words millions of times (romanising is the costly step)."""
    from .graph.names import fold, romanise

    keys = []
    for part in re.findall(r"[a-z0-9]+", w.lower() if w.isascii() else romanise(w)):  # romanise(ASCII) is lower()
        k = re.sub(r"r(?=[^aiu]|$)", "", fold(part)) if part.isalpha() else part
        if k:
            keys.append(k)
    return tuple(keys), bool(_INDIC.search(w))


def sound(text: str) -> tuple[str, str]:
    """The two sound columns: keys between bars, so a query key can be matched from a word's start."""
    return tuple("|" + "|".join(keys) + "|" if keys else "" for keys in sound_keys(text))  # type: ignore[return-value]


def _sound_term(key: str) -> str:
    # a short key must be a whole word's key (|sal| is "salli", not the start of "salary"); a longer one
    # may begin a longer word's key (|pasput| finds பாஸ்போர்ட்டை, passport with a case ending)
    return f"|{key}|" if len(key) <= 3 else f"|{key}"


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _word_query(word: str) -> str:
    """One query word: as written in the text, or by sound in the other writing (a Latin word is
    looked for in Sinhala and Tamil words; a Sinhala or Tamil word in every word)."""
    latin, script = sound_keys(word)
    alts = [f"text : {_quote(word)}"]
    for k in latin:
        alts.append(f"ss : {_quote(_sound_term(k))}")
    for k in script:
        alts.append(f"{{sl ss}} : {_quote(_sound_term(k))}")
    return "(" + " OR ".join(alts) + ")"


def source_state(store: CaseStore) -> str:
    """What the index is built from: every parse run's output digest (records change only by parse runs)."""
    rows = store.con.execute(
        """SELECT exhibit_sha256, parser, parser_version, coalesce(output_sha256, ''), status FROM parse_runs ORDER BY ALL"""
    ).fetchall()
    body = VERSION + "\n" + "\n".join("|".join(map(str, r)) for r in rows)
    return hashlib.sha256(body.encode()).hexdigest()


def index_path(case: Case) -> Path:
    return case.root / INDEX_FILE


def status(case: Case) -> dict[str, Any]:
    """Whether the index exists and matches the store: {"exists", "fresh", "docs", "built_state", "state"}."""
    path = index_path(case)
    state = source_state(case.store)
    if not path.is_file():
        return {"exists": False, "fresh": False, "docs": 0, "state": state, "built_state": None}
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
        finally:
            con.close()
    except sqlite3.DatabaseError:
        return {"exists": True, "fresh": False, "docs": 0, "state": state, "built_state": None}
    return {
        "exists": True,
        "fresh": meta.get("state") == state and meta.get("version") == VERSION,
        "docs": int(meta.get("docs", 0)),
        "state": state,
        "built_state": meta.get("state"),
    }


def _sources() -> str:
    """Every source in one stream, in no particular order (DuckDB streams it in bounded memory), each
    row with its source's number and its sort key (see `_DISPLAY_ORDER`)."""
    names = ", ".join(f"c{i}" for i in range(len(COLUMNS) + 1))
    return " UNION ALL ".join(f"SELECT {i} AS _source, * FROM ({sql}) AS s({names})" for i, sql in enumerate(SOURCES.values()))


# The order search shows hits in (newest first, undated last; then by source, then record id), so a
# document's number is its place in that order: a search reads its first page off the index in rowid
# order and stops, with no sort of every match. SQLite's sorter is external (it spills to temporary
# files): one ORDER BY over every text in DuckDB ran out of memory at 11M documents.
_DISPLAY_ORDER = "ts_us IS NULL, ts_us DESC, source, record_id"
_STAGE_COLUMNS = ("source", "ts_us", *COLUMNS)


class IndexBuildError(SearchError):
    """The index could not be built (out of memory or disk, a store that cannot be read): the old index
    file, if any, is left as it was and no partial file remains."""


def build(case: Case, actor: str | None = None, tick: Callable[[int], None] = lambda n: None) -> dict[str, Any]:
    """Build the index from the store (into a new file, moved into place when complete) and log it.

    Bounded memory, in two passes: the records stream out of DuckDB unordered, as Arrow batches, into
    a staging table (a separate file, deleted after); SQLite copies them into `docs` in display order
    with its external sorter; then the FTS index is filled from `docs` in rowid order. SQLite writes in
    one transaction with no journal, and the sound column is worked out once per distinct word
    (`_word_keys`). A failure of any step (or an interrupt) removes both temporary files and leaves
    the case's index as it was; the error names the cause (IndexBuildError)."""
    path = index_path(case)
    tmp, stage = path.with_suffix(".building"), path.with_suffix(".staging")
    try:
        built = _build_file(case, tmp, stage, tick)
        os.replace(tmp, path)
    except (duckdb.Error, sqlite3.Error, OSError) as e:
        raise IndexBuildError(
            f"the full-text index could not be built ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}); "
            f"the {'previous index is left as it was' if path.exists() else 'case has no index'}"
        ) from e
    finally:
        tmp.unlink(missing_ok=True)
        stage.unlink(missing_ok=True)
    n, by_table, state = built
    out = {"file": INDEX_FILE, "sha256": _file_sha256(path), "docs": n, "by_table": by_table, "source_state": state, "version": VERSION}
    case.log("search-index", actor=actor, outputs=[out])
    return out


def _build_file(case: Case, tmp: Path, stage: Path, tick: Callable[[int], None]) -> tuple[int, dict[str, int], str]:
    """The index written to `tmp` (staged in `stage`): (documents, documents per table, the store state it was built from)."""
    for f in (tmp, stage):
        f.unlink(missing_ok=True)
    state = source_state(case.store)
    con = sqlite3.connect(tmp)
    try:
        con.execute("ATTACH DATABASE ? AS st", (str(stage),))
        con.executescript(
            f"""PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -{CACHE_KB};
               PRAGMA st.journal_mode = OFF; PRAGMA st.synchronous = OFF;
               CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
               CREATE TABLE docs (id INTEGER PRIMARY KEY, record_id TEXT NOT NULL, tbl TEXT NOT NULL, text TEXT, who TEXT,
                                  place TEXT, shown_time TEXT, ts_utc TEXT, exhibit_sha256 TEXT, locator TEXT, chat_id TEXT);
               CREATE TABLE st.stage (source INTEGER, ts_us INTEGER, {", ".join(COLUMNS)});
               CREATE VIRTUAL TABLE fts USING fts5(text, sl, ss, content='', tokenize='trigram');
               INSERT INTO fts (fts, rank) VALUES ('hashsize', {HASH_BYTES});"""
        )
        cols = ", ".join(f"c{i}" for i in range(len(COLUMNS)))
        with case.store.unordered():  # no order kept: DuckDB streams the records
            reader = case.store.con.sql(f"SELECT _source, c{len(COLUMNS)}, {cols} FROM ({_sources()})").to_arrow_reader(BATCH)
            insert = f"INSERT INTO st.stage VALUES ({', '.join('?' * len(_STAGE_COLUMNS))})"
            for batch in reader:
                con.executemany(insert, zip(*(c.to_pylist() for c in batch.columns), strict=True))
        con.execute(f"INSERT INTO docs SELECT NULL, {', '.join(COLUMNS)} FROM st.stage ORDER BY {_DISPLAY_ORDER}")
        counts = dict(con.execute("SELECT tbl, count(*) FROM st.stage GROUP BY tbl").fetchall())
        con.commit()
        con.execute("DETACH DATABASE st")
        stage.unlink()
        n = 0
        docs = con.execute("SELECT id, text FROM docs ORDER BY id")
        while rows := docs.fetchmany(BATCH):
            con.executemany("INSERT INTO fts (rowid, text, sl, ss) VALUES (?, ?, ?, ?)", ((i, clean(t), *sound(t)) for i, t in rows))
            n += len(rows)
            tick(len(rows))
        con.executemany("INSERT INTO meta VALUES (?, ?)", [("version", VERSION), ("state", state), ("docs", str(n))])
        con.commit()
    finally:
        con.close()
    return n, {t: counts.get(t, 0) for t in SOURCES}, state


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def ensure(case: Case, actor: str | None = None) -> dict[str, Any] | None:
    """Build the index when it is missing or stale; the build's record, or None when it was fresh."""
    return None if status(case)["fresh"] else build(case, actor)


@dataclass
class Hit:
    record_id: str
    table: str
    text: str
    who: str | None
    place: str | None
    shown_time: str | None
    ts_utc: str | None
    exhibit_sha256: str
    locator: str
    chat_id: str | None
    how: str  # "exact" or "by sound"


@dataclass
class Results:
    query: str
    hits: list[Hit] = field(default_factory=list)
    total: int = 0
    terms: list[str] = field(default_factory=list)
    note: str = ""
    more: bool = False  # more than `total` records match (counting stops at COUNT_CAP: a page never counts a million hits)


def search(
    case: Case, query: str, *, tables: tuple[str, ...] = (), only: set[str] | None = None, offset: int = 0, limit: int = 50
) -> Results:
    """Records whose text holds every word of `query` (any case; as written, or by sound), exact
    matches first, then newest first. `tables`: only these record tables; `only`: only these record ids
    (e.g. the records an indicator finding cites). The index must be fresh (see `ensure`)."""
    q = clean(query).strip()
    words = q.split()
    long_words = [w for w in words if len(w) >= MIN_TERM]
    if not long_words:
        raise SearchError(f"type at least {MIN_TERM} letters of a word (the index matches runs of three characters)")
    short = [w for w in words if len(w) < MIN_TERM]
    st = status(case)
    if not st["fresh"]:
        raise SearchError("the search index is missing or older than the case store: build it ('casegraph search-index CASE')")
    match = " AND ".join(_word_query(w) for w in long_words)
    exact = " AND ".join(f"text : {_quote(w)}" for w in long_words)
    where, params = [], []
    for w in short:  # a word of one or two letters: a substring filter on what the index found
        where.append("instr(lower(d.text), lower(?)) > 0")
        params.append(w)
    if tables:
        where.append(f"d.tbl IN ({', '.join('?' * len(tables))})")
        params += list(tables)
    if only is not None:  # only the records an indicator cites
        where.append("d.record_id IN (SELECT value FROM json_each(?))")
        params.append(json.dumps(sorted(only)))
    body = "FROM fts JOIN docs d ON d.id = fts.rowid WHERE fts MATCH ?" + "".join(f" AND {w}" for w in where)
    con = sqlite3.connect(f"file:{index_path(case)}?mode=ro", uri=True)
    try:
        # a document's number is its place in the display order (see _DISPLAY_ORDER): a page is read
        # off the index in rowid order, exact matches first, then those by sound alone, and no more
        def page(fts_query: str, n: int, skip: int) -> list[tuple]:
            if n <= 0:
                return []
            sql = f"SELECT {', '.join('d.' + c for c in COLUMNS)} {body} ORDER BY fts.rowid LIMIT ? OFFSET ?"
            return con.execute(sql, [fts_query, *params, n, skip]).fetchall()

        def count(fts_query: str, cap: int) -> int:
            src = body if where else "FROM fts WHERE fts MATCH ?"  # no filter on the documents: the index alone counts
            return con.execute(f"SELECT count(*) FROM (SELECT 1 {src} LIMIT ?)", [fts_query, *(params if where else []), cap]).fetchone()[0]

        exact_rows = page(exact, limit, offset)
        # how many exact matches lie before the sound-only ones on this page (counted only up to the offset)
        n_exact = offset + len(exact_rows) if exact_rows else count(exact, offset)
        sound_rows = page(f"({match}) NOT ({exact})", limit - len(exact_rows), max(0, offset - n_exact))
        total = count(match, COUNT_CAP + 1)
    finally:
        con.close()
    names = ("record_id", "table", *COLUMNS[2:])
    hits = [
        Hit(**dict(zip(names, r, strict=True)), how=how) for rows, how in ((exact_rows, "exact"), (sound_rows, "by sound")) for r in rows
    ]
    more = total > COUNT_CAP
    return Results(query, hits, min(total, COUNT_CAP), long_words + short, more=more)


def indicator_records(store: CaseStore, indicator: str | None = None) -> dict[str, list[str]]:
    """Record id → the indicators (trafficking-indicator findings) that cite it; one indicator when named."""
    out: dict[str, list[str]] = {}
    for r in store.rows(
        """SELECT json_extract_string(attrs, '$.indicator') AS indicator, evidence FROM findings
           WHERE kind = 'trafficking-indicator' AND (? IS NULL OR json_extract_string(attrs, '$.indicator') = ?)""",
        [indicator, indicator],
    ):
        for e in json.loads(r["evidence"]):
            out.setdefault(e.get("record"), []).append(r["indicator"])
    return out


def indicators(store: CaseStore) -> list[dict[str, Any]]:
    """The indicators found in the case, with how many findings each."""
    return store.rows(
        """SELECT json_extract_string(attrs, '$.indicator') AS indicator, count(*) AS findings FROM findings
           WHERE kind = 'trafficking-indicator' GROUP BY ALL ORDER BY 2 DESC, 1"""
    )
