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

from .errors import CaseGraphError
from .times import time_sql

if TYPE_CHECKING:
    from .case import Case
    from .store import CaseStore

INDEX_FILE = "search-index.sqlite"
VERSION = "casegraph-fts/1"
BATCH = 5000
_FORMAT_CHARS = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
MIN_TERM = 3  # the trigram tokenizer needs 3 characters to use the index

# what is indexed, per table: the text, who, where, and the time as recorded (times.time_sql)
SOURCES = {
    "messages": f"""SELECT id, 'messages', text, coalesce(sender_name, sender_id), coalesce(chat_name, chat_id), {time_sql()},
                           CAST(ts_utc AS VARCHAR), exhibit_sha256, locator, chat_id
                    FROM messages WHERE text IS NOT NULL AND length(trim(text)) > 0""",
    "ocr_text": """SELECT id, 'ocr_text', text, NULL, 'text read from an image', NULL, NULL, exhibit_sha256, locator, NULL
                   FROM ocr_text WHERE text IS NOT NULL AND length(trim(text)) > 0""",
    "contacts": """SELECT id, 'contacts', concat_ws(' ', name, array_to_string(phones, ' '), array_to_string(emails, ' '),
                                                array_to_string(usernames, ' '), organisation, note),
                          name, 'contact (' || source || ')', NULL, NULL, exhibit_sha256, locator, NULL FROM contacts""",
    "transactions": f"""SELECT id, 'transactions', concat_ws(' ', description, reference, from_name, to_name),
                               concat_ws(' → ', coalesce(from_name, from_account), coalesce(to_name, to_account)),
                               concat_ws(' ', rail, CAST(amount AS VARCHAR), currency), {time_sql()}, CAST(ts_utc AS VARCHAR),
                               exhibit_sha256, locator, NULL
                        FROM transactions WHERE coalesce(description, reference, from_name, to_name) IS NOT NULL""",
}
COLUMNS = ("record_id", "tbl", "text", "who", "place", "shown_time", "ts_utc", "exhibit_sha256", "locator", "chat_id")


class SearchError(CaseGraphError, LookupError):
    """A query the index cannot answer (too short), or an index that cannot be used as it is."""


def clean(text: str) -> str:
    """The text as indexed and queried: NFC, format characters (ZWJ, ZWNJ, soft hyphen …) out."""
    return unicodedata.normalize("NFC", text).translate(_FORMAT_CHARS)


_WORD = re.compile(r"[\w\u0B80-\u0BFF\u0D80-\u0DFF]+")  # Python's \w alone splits Sinhala and Tamil at vowel signs
_INDIC = re.compile(r"[\u0B80-\u0BFF\u0D80-\u0DFF]")


def sound_keys(text: str) -> tuple[list[str], list[str]]:
    """Sound keys of the words written in Latin letters, and of those in Sinhala or Tamil script."""
    from .graph.names import fold, romanise

    latin: list[str] = []
    script: list[str] = []
    for w in _WORD.findall(clean(text)):
        for part in re.findall(r"[a-z0-9]+", romanise(w)):
            k = re.sub(r"r(?=[^aiu]|$)", "", fold(part)) if part.isalpha() else part
            if k:
                (script if _INDIC.search(w) else latin).append(k)
    return latin, script


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


def build(case: Case, actor: str | None = None, tick: Callable[[int], None] = lambda n: None) -> dict[str, Any]:
    """Build the index from the store (into a new file, moved into place when complete) and log it."""
    path = index_path(case)
    tmp = path.with_suffix(".building")
    tmp.unlink(missing_ok=True)
    state = source_state(case.store)
    con = sqlite3.connect(tmp)
    counts: dict[str, int] = {}
    try:
        con.executescript(
            """PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
               CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
               CREATE TABLE docs (id INTEGER PRIMARY KEY, record_id TEXT NOT NULL, tbl TEXT NOT NULL, text TEXT, who TEXT,
                                  place TEXT, shown_time TEXT, ts_utc TEXT, exhibit_sha256 TEXT, locator TEXT, chat_id TEXT);
               CREATE VIRTUAL TABLE fts USING fts5(text, sl, ss, content='', tokenize='trigram');"""
        )
        n = 0
        for table, sql in SOURCES.items():
            cur = case.store.con.execute(sql)
            counts[table] = 0
            while batch := cur.fetchmany(BATCH):
                docs = [(n + i + 1, *row) for i, row in enumerate(batch)]
                con.executemany(f"INSERT INTO docs VALUES ({', '.join('?' * 11)})", docs)
                con.executemany(
                    "INSERT INTO fts (rowid, text, sl, ss) VALUES (?, ?, ?, ?)", [(d[0], clean(d[3]), *sound(d[3])) for d in docs]
                )
                n += len(batch)
                counts[table] += len(batch)
                tick(len(batch))
        con.executemany("INSERT INTO meta VALUES (?, ?)", [("version", VERSION), ("state", state), ("docs", str(n))])
        con.commit()
    finally:
        con.close()
    os.replace(tmp, path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    out = {"file": INDEX_FILE, "sha256": digest, "docs": n, "by_table": counts, "source_state": state, "version": VERSION}
    case.log("search-index", actor=actor, outputs=[out])
    return out


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
    con = sqlite3.connect(f"file:{index_path(case)}?mode=ro", uri=True)
    try:
        match = " AND ".join(_word_query(w) for w in long_words)
        exact = " AND ".join(f"text : {_quote(w)}" for w in long_words)
        where, params = ["fts MATCH ?"], [match]
        for w in short:  # a word of one or two letters: a substring filter on what the index found
            where.append("instr(lower(d.text), lower(?)) > 0")
            params.append(w)
        if tables:
            where.append(f"d.tbl IN ({', '.join('?' * len(tables))})")
            params += list(tables)
        body = f"FROM fts JOIN docs d ON d.id = fts.rowid WHERE {' AND '.join(where)}"
        if only is not None:  # only the records an indicator cites
            where_only, more = " AND d.record_id IN (SELECT value FROM json_each(?))", [json.dumps(sorted(only))]
        else:
            where_only, more = "", []
        total = con.execute(f"SELECT count(*) {body}{where_only}", [*params, *more]).fetchone()[0]
        rows = con.execute(
            f"""SELECT {", ".join("d." + c for c in COLUMNS)}, (fts.rowid IN (SELECT rowid FROM fts WHERE fts MATCH ?)) AS is_exact
                {body}{where_only} ORDER BY is_exact DESC, d.ts_utc IS NULL, d.ts_utc DESC, d.id LIMIT ? OFFSET ?""",
            [exact, *params, *more, limit, offset],
        ).fetchall()
    finally:
        con.close()
    names = ("record_id", "table", *COLUMNS[2:])
    hits = [Hit(**dict(zip(names, r[:10], strict=True)), how="exact" if r[10] else "by sound") for r in rows]
    return Results(query, hits, total, long_words + short)


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
