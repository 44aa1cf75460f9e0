"""`casegraph bundle CASE --viewer`: a read-only viewer of the whole case, inside the signed bundle.

    data/viewer/index.html      open it in any browser, offline, over file:// (nothing installed)
    data/viewer/viewer.js/.css  the page (no framework)
    data/viewer/sql-wasm.js     SQLite compiled to WebAssembly (npm sql.js, tools/viewer/package-lock.json)
    data/viewer/sql-wasm.wasm.js, case-data.js   the wasm and the case database, base64 in <script> files
    data/viewer/cytoscape.min.js  the graph library the report uses (tools/report-assets)
    data/viewer/d3.min.js, topojson-client.min.js, atlas.js   the map: d3-geo over Natural Earth outlines (npm
                                  world-atlas, countries-50m, as a <script> file), the workspace's Map view's basemap
    data/viewer/viewer.json     what the viewer describes (case state, files and their SHA-256), read by verify

Browsers refuse fetch/XHR of local files under file://, so the wasm and the database travel as
base64 strings in script files. The page's Content-Security-Policy allows scripts, styles and
images from the bundle's own folder only, and no connection at all.

The database (SQLite, read with sql.js) holds the records as the case store holds them, with
each record's source: the exact bytes at its locator, cut out of the evidence at build time by
the same cutter as `casegraph.api.Case.source`, with the exhibit's SHA-256. Search is a scan of a
normalised text column (NFC, lower case, zero-width joiners dropped, as the indicator lexicon
normalises; combining vowel signs are kept), because sql.js is built without FTS5 and FTS3's
tokenisers split Sinhala and Tamil words at their vowel signs. With victim protection on, every
text the viewer holds goes through the report's redactor.

Media thumbnails (casegraph.thumbnails: PNG, no metadata of the original, made only from bytes that still
hash as recorded) are embedded up to THUMB_BUDGET bytes in all; the overview states how many were left out.
A victim-protected copy holds none (faces and documents are not redacted), and says so.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import re
import sqlite3
import tempfile
from collections import defaultdict
from datetime import UTC
from importlib.resources import files
from pathlib import Path
from typing import Any

from .. import TOOL
from ..amounts import format_amount, format_totals, sum_by_currency
from ..case import Case
from ..texts import fold as normalise  # the lexicon's normal form (ai.lexicon.normalise is this fold)
from ..times import time_sql
from .content import zone_basis
from .redact import Redactor
from .render import ASSETS as REPORT_ASSETS
from .render import RenderError

VIEWER_ASSETS = Path(__file__).resolve().parents[2] / "tools" / "viewer"
DIR = "viewer"  # inside the bundle's data/
META = "viewer.json"
THUMB_BUDGET = 8 << 20  # bytes of media thumbnails in one viewer, in all; the rest are counted, not embedded
SOURCE_CAP = 64 * 1024  # bytes of one record's source kept in the viewer; longer ones are cut and say so
TEXT_TABLES = ("messages", "ocr_text", "contacts", "transactions", "calls")

# Compact: each record's id (a long string) is stored once, in `records`; every other table refers to
# its integer `n`. The views `rec` and `msg` give the page whole rows.
SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE exhibits (n INTEGER PRIMARY KEY, sha256 TEXT UNIQUE, exhibit_id TEXT, name TEXT, format TEXT, size INTEGER, seized_from TEXT);
CREATE TABLE zones (n INTEGER PRIMARY KEY, words TEXT UNIQUE);
CREATE TABLE records (n INTEGER PRIMARY KEY, id TEXT UNIQUE, tbl TEXT, utc TEXT, shown TEXT, zone INTEGER, title TEXT, body TEXT);
    -- utc: the order in time (see _AT); shown: the time to show; title, body: NULL for messages (see rec)
CREATE INDEX records_utc ON records (utc);
CREATE TABLE chats (n INTEGER PRIMARY KEY, platform TEXT, name TEXT, exhibit INTEGER, messages INTEGER,
                    first_utc TEXT, last_utc TEXT, senders TEXT);
CREATE TABLE messages (n INTEGER PRIMARY KEY, chat INTEGER, pos INTEGER, day TEXT, local TEXT, sender TEXT, sender_id TEXT,
                       direction TEXT, kind TEXT, text TEXT, media TEXT, media_sha256 TEXT, edited INTEGER, reply_to TEXT, event TEXT);
CREATE INDEX messages_chat ON messages (chat, pos);
CREATE INDEX messages_chat_day ON messages (chat, day);
CREATE TABLE search (n INTEGER PRIMARY KEY, norm TEXT);
CREATE TABLE sources (n INTEGER PRIMARY KEY, exhibit INTEGER, parser TEXT, locator TEXT, note TEXT, data BLOB, size INTEGER,
                      sha256 BLOB);
CREATE TABLE people (id TEXT PRIMARY KEY, label TEXT, roles TEXT, names TEXT, exhibits TEXT, norm TEXT);
CREATE TABLE person_identifiers (person TEXT, kind TEXT, value TEXT, role TEXT, record TEXT, exhibit TEXT, locator TEXT);
CREATE INDEX person_identifiers_p ON person_identifiers (person);
CREATE TABLE person_money (person TEXT, direction TEXT, currency TEXT, transfers INTEGER, total TEXT, failed INTEGER);
    -- accounts.payments: accounts the person holds or uses only; failed transfers counted apart, not summed
CREATE TABLE person_other_accounts (person TEXT, account TEXT, messages INTEGER, cited TEXT, joined INTEGER, joins TEXT);
    -- accounts.not_held: tied to the person (mentioned, or joined by resolution), not held: no money of theirs
CREATE TABLE person_records (person TEXT, n INTEGER, utc TEXT);
CREATE INDEX person_records_p ON person_records (person, utc);
CREATE TABLE nodes (id TEXT PRIMARY KEY, label TEXT, name TEXT, strength REAL, person TEXT);
CREATE TABLE ties (a TEXT, b TEXT, kind TEXT, n INTEGER, money TEXT, first TEXT, last TEXT);
CREATE INDEX ties_a ON ties (a);
CREATE INDEX ties_b ON ties (b);
CREATE TABLE timeline (utc TEXT, day TEXT, lane TEXT, n INTEGER, finding TEXT);  -- a record (n) or a finding
CREATE INDEX timeline_day ON timeline (day, lane);
CREATE TABLE findings (id TEXT PRIMARY KEY, kind TEXT, title TEXT, summary TEXT, detector TEXT, norm TEXT);
CREATE TABLE finding_records (finding TEXT, n INTEGER);
CREATE INDEX finding_records_n ON finding_records (n);
CREATE INDEX finding_records_f ON finding_records (finding);
CREATE TABLE thumbs (sha256 TEXT PRIMARY KEY, png BLOB);  -- media thumbnails by the original's SHA-256 (casegraph.thumbnails)
CREATE TABLE places (id TEXT PRIMARY KEY, kind TEXT, lat TEXT, lon TEXT, shown TEXT, who TEXT, label TEXT, accuracy_m REAL,
                     came_with INTEGER, exhibit INTEGER, locator TEXT);  -- came_with: the record (n) the location came with
CREATE TABLE person_places (person TEXT, place TEXT);
CREATE INDEX person_places_p ON person_places (person);
CREATE VIEW msg AS SELECT m.*, r.id, r.utc, z.words AS zone FROM messages m JOIN records r USING (n) LEFT JOIN zones z ON z.n = r.zone;
CREATE VIEW rec AS
    SELECT r.n, r.id, r.tbl, r.utc, r.shown, z.words AS zone, m.chat, m.pos,
           coalesce(r.title, coalesce(m.sender, '?') || ' in ' || coalesce(c.name, 'a chat') || ' (' || c.platform || ')') AS title,
           coalesce(r.body, m.text, '[' || m.kind || ']') AS body
    FROM records r LEFT JOIN zones z ON z.n = r.zone LEFT JOIN messages m ON m.n = r.n LEFT JOIN chats c ON c.n = m.chat;
"""

_UTC = "CASE WHEN ts_precision = 'day' THEN NULL ELSE strftime(ts_utc AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S') END"
# the order of records in time: UTC, and for a date without a time noon UTC of its own date (the report's
# timeline places it so), never the UTC of a midnight the source did not state
_AT = "CASE WHEN ts_precision = 'day' THEN strftime(ts_local, '%Y-%m-%d') || ' 12:00:00' ELSE " + _UTC + " END"
_LOCAL = "CASE WHEN ts_precision = 'day' THEN strftime(ts_local, '%Y-%m-%d') ELSE strftime(ts_local, '%Y-%m-%d %H:%M:%S') END"
# the source's own order, for records of one time: line:9 before line:10 (the numbers at the locator's end, as numbers)
_SOURCE_ORDER = (
    r"regexp_extract(locator, '^(.*?)(\d+)(-\d+)?$', 1), TRY_CAST(regexp_extract(locator, '^(.*?)(\d+)(-\d+)?$', 2) AS BIGINT), locator"
)
_DAY = "strftime(coalesce(ts_local, ts_utc AT TIME ZONE 'UTC'), '%Y-%m-%d')"


def _asset(root_env: str, default: Path, rel: str) -> Path:
    path = Path(os.environ.get(root_env) or default) / "node_modules" / rel
    if not path.is_file():
        raise RenderError(
            f"the viewer's library {rel} is not installed ({path} is missing): run scripts/bootstrap.sh (npm ci in "
            f"{default.relative_to(default.parents[1])}), or set {root_env} to such a folder"
        )
    return path


def _b64_script(var: str, data: bytes) -> bytes:
    return f"window.{var}=".encode() + b'"' + base64.b64encode(data) + b'";\n'


def read_database(case_data_js: bytes) -> bytes:
    """The SQLite database in a viewer's case-data.js (for tests and for reading a bundle without a browser)."""
    m = re.fullmatch(rb'window\.CG_DB="([A-Za-z0-9+/=]*)";\n', case_data_js)
    if m is None:
        raise ValueError("case-data.js is not one base64 string")
    return gzip.decompress(base64.b64decode(m.group(1)))


def files_for(case: Case, doc: dict, redactor: Redactor) -> dict[str, bytes]:
    """The viewer's files (names relative to the bundle's data/), for the case state `doc` describes."""
    db = database(case, doc, redactor)
    page = files(__package__).joinpath("viewer_assets")
    out = {
        "index.html": page.joinpath("index.html").read_bytes(),
        "viewer.js": page.joinpath("viewer.js").read_bytes(),
        "viewer.css": page.joinpath("viewer.css").read_bytes(),
        "sql-wasm.js": _asset("CASEGRAPH_VIEWER_ASSETS", VIEWER_ASSETS, "sql.js/dist/sql-wasm.js").read_bytes(),
        "sql-wasm.wasm.js": _b64_script(
            "CG_WASM", _asset("CASEGRAPH_VIEWER_ASSETS", VIEWER_ASSETS, "sql.js/dist/sql-wasm.wasm").read_bytes()
        ),
        "cytoscape.min.js": _asset("CASEGRAPH_REPORT_ASSETS", REPORT_ASSETS, "cytoscape/dist/cytoscape.min.js").read_bytes(),
        "d3.min.js": _asset("CASEGRAPH_REPORT_ASSETS", REPORT_ASSETS, "d3/dist/d3.min.js").read_bytes(),
        "topojson-client.min.js": _asset(
            "CASEGRAPH_REPORT_ASSETS", REPORT_ASSETS, "topojson-client/dist/topojson-client.min.js"
        ).read_bytes(),
        # the basemap as a script (file:// pages cannot fetch a .json file): the same outlines as the workspace's map
        "atlas.js": b"window.CG_ATLAS="
        + _asset("CASEGRAPH_REPORT_ASSETS", REPORT_ASSETS, "world-atlas/countries-50m.json").read_bytes().strip()
        + b";\n",
        # gzip (mtime 0: the same case gives the same bytes): a third of the size, unpacked by the browser's DecompressionStream
        "case-data.js": _b64_script("CG_DB", gzip.compress(db, compresslevel=6, mtime=0)),
    }
    meta = {
        "viewer": 1,
        "tool": TOOL,
        "case_no": doc["case"]["case_no"],
        "as_of": {k: doc["as_of"][k] for k in ("seq", "hash")},
        "redacted": doc["redacted"],
        "database_sha256": hashlib.sha256(db).hexdigest(),
        "files": {n: hashlib.sha256(b).hexdigest() for n, b in sorted(out.items())},
    }
    out[META] = (json.dumps(meta, indent=1, sort_keys=True) + "\n").encode()
    return {f"{DIR}/{n}": b for n, b in out.items()}


def check(data_dir: Path, head: list[str]) -> list[str]:
    """Problems with a bundle's viewer (verify calls this when data/viewer/ is there): it must describe
    the bundle's custody head, and every file of it must be the one it lists. (The manifests and the
    signature cover the same files; this says which case state the viewer shows.)"""
    root = data_dir / DIR
    try:
        meta = json.loads((root / META).read_text(encoding="utf-8"))
        as_of = [str(meta["as_of"]["seq"]), meta["as_of"]["hash"]]
        listed = dict(meta["files"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        return [f"data/{DIR}/{META} cannot be read: {e}"]
    problems = []
    if as_of != head:
        problems.append(f"data/{DIR} shows case state {' '.join(as_of)}, bag-info.txt states {' '.join(head)}")
    for name, digest in sorted(listed.items()):
        f = root / name
        if "/" in name or not f.is_file():
            problems.append(f"data/{DIR}/{name} is missing (listed in {META})")
        elif hashlib.sha256(f.read_bytes()).hexdigest() != digest:
            problems.append(f"data/{DIR}/{name} was altered: its SHA-256 is not the one in {META}")
    return problems


# -- the database ----------------------------------------------------------------------------------
def database(case: Case, doc: dict, redactor: Redactor) -> bytes:
    red = redactor.text if redactor.active else (lambda s: s)

    def r(v: Any) -> Any:
        return red(v) if isinstance(v, str) and v else v

    store = case.store
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "case.sqlite"
        con = sqlite3.connect(path)
        con.executescript(SCHEMA)
        meta = {
            "case": json.dumps(doc["case"], ensure_ascii=False),
            "as_of": json.dumps(doc["as_of"], ensure_ascii=False),
            "generated": doc["generated"],
            "verdict": json.dumps(doc["custody_verdict"], ensure_ascii=False),
            "redacted": "yes" if doc["redacted"] else "no",
            "counts": json.dumps(doc["counts"]),
            "tool": TOOL,
        }
        con.executemany("INSERT INTO meta VALUES (?, ?)", sorted(meta.items()))
        labels: dict[str, str] = {}
        exhibit_n: dict[str, int] = {}
        for e in store.rows(
            "SELECT sha256, exhibit_id, original_name, format, size, seized_from FROM exhibits ORDER BY exhibit_id, original_name"
        ):
            labels[e["sha256"]] = f"{e['exhibit_id']} {e['original_name'] or ''}".strip()
            exhibit_n[e["sha256"]] = len(exhibit_n) + 1
            con.execute("INSERT INTO exhibits VALUES (?, ?, ?, ?, ?, ?, ?)", [exhibit_n[e["sha256"]], *(r(v) for v in e.values())])
        zones = _Zones(con)
        _messages(con, store, r, zones, exhibit_n)
        _records(con, store, r, zones)
        _sources(con, case, labels, exhibit_n, redactor)
        _people(con, store, redactor, r)
        _graph(con, store, r)
        _findings(con, store, doc, r)
        _places(con, store, r, exhibit_n, list(redactor.pseudonyms) if redactor.active else [])
        con.executemany("INSERT INTO meta VALUES (?, ?)", [("thumbs", json.dumps(_thumbs(con, case, redactor)))])
        con.commit()
        con.execute("VACUUM")
        con.close()
        return path.read_bytes()


def _batches(store, sql: str, size: int = 20000):
    """Rows of a query in batches, as tuples (the export streams: no whole table in Python at once)."""
    cur = store.con.cursor()
    try:
        cur.execute(sql)
        while rows := cur.fetchmany(size):
            yield rows
    finally:
        cur.close()


class _Zones:
    """Where each time's zone came from, in words, stored once (a few distinct texts for a whole case)."""

    def __init__(self, con: sqlite3.Connection):
        self.con = con
        self.n: dict[str, int] = {}

    def __call__(self, tz_basis: str | None) -> int | None:
        words = tz_basis if tz_basis == "date only" else zone_basis(tz_basis)
        if words is None:
            return None
        if words not in self.n:
            self.n[words] = len(self.n) + 1
            self.con.execute("INSERT INTO zones VALUES (?, ?)", [self.n[words], words])
        return self.n[words]


_TIMES = f"{_AT} AS utc, {time_sql()} AS shown, CASE WHEN ts_precision = 'day' THEN 'date only' ELSE tz_basis END AS zone, {_DAY} AS day"


def _messages(con: sqlite3.Connection, store, r, zones: _Zones, exhibit_n: dict[str, int]) -> None:
    """Threads as the phone showed them: one chat per exhibit and chat id (or name), in time and source order."""
    chat = "exhibit_sha256 || '|' || coalesce(chat_id, chat_name, '(no chat)')"
    sql = f"""SELECT id, {chat} AS chat, row_number() OVER (PARTITION BY {chat} ORDER BY ts_utc NULLS LAST, {_SOURCE_ORDER}) AS pos,
                     {_TIMES}, {_LOCAL} || coalesce(' ' || CASE WHEN ts_precision = 'day' THEN NULL ELSE utc_offset END, ''),
                     coalesce(sender_name, sender_id), sender_id, direction, kind, text, media, media_sha256, edited, reply_to,
                     json_extract_string(extra, '$.event'), platform, chat_name, exhibit_sha256
              FROM messages ORDER BY chat, pos"""
    chats: dict[str, dict] = {}
    n = 0
    for rows in _batches(store, sql):
        recs, out, search, timeline = [], [], [], []
        for row in rows:
            n += 1
            (mid, key, pos, utc, shown, zone, day, local, sender, sender_id, direction, kind, text, media, msha, edited, reply, event) = (
                row[:18]
            )
            platform, chat_name, sha = row[18:]
            c = chats.setdefault(key, {"n": len(chats) + 1, "platform": platform, "name": chat_name, "sha": sha, "count": 0,
                                       "first": None, "last": None, "senders": set()})  # fmt: skip
            c["count"] += 1
            c["first"] = c["first"] or utc
            c["last"] = utc or c["last"]
            sender, text, media = r(sender), r(text), r(media)
            if sender and kind != "system":
                c["senders"].add(sender)
            recs.append((n, mid, "messages", utc, shown, zones(zone)))
            out.append(
                (n, c["n"], pos, day, local, sender, r(sender_id), direction, kind, text, media, msha, int(bool(edited)), reply, event)
            )
            search.append((n, normalise(" ".join(v for v in (sender, text, media) if v))))
            if utc or day:
                timeline.append((utc or f"{day} 12:00:00", day, "messages", n))
        con.executemany("INSERT INTO records (n, id, tbl, utc, shown, zone) VALUES (?, ?, ?, ?, ?, ?)", recs)
        con.executemany(f"INSERT INTO messages VALUES ({', '.join('?' * 15)})", out)
        con.executemany("INSERT INTO search VALUES (?, ?)", search)
        con.executemany("INSERT INTO timeline (utc, day, lane, n) VALUES (?, ?, ?, ?)", timeline)
    con.executemany(
        "INSERT INTO chats VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(c["n"], c["platform"], r(c["name"]), exhibit_n.get(c["sha"]), c["count"], c["first"], c["last"],
          json.dumps(sorted(c["senders"]), ensure_ascii=False)) for c in chats.values()],
    )  # fmt: skip


def _records(con: sqlite3.Connection, store, r, zones: _Zones) -> None:
    """Every other record a view can open (a title and a body line), and the dated ones on the timeline."""
    queries = {
        "calls": f"""SELECT id, {_TIMES}, direction || ' ' || platform || ' call ' || coalesce(name || ' ', '')
                            || coalesce(number, '') AS title,
                            coalesce(CAST(duration_s AS VARCHAR) || ' s', 'duration not recorded') AS body, NULL AS lane
                     FROM calls ORDER BY id""",
        "transactions": f"""SELECT id, {_TIMES}, coalesce(from_account || coalesce(' (' || from_name || ')', ''), from_name,
                                   '(not named)') || ' → '
                                   || coalesce(to_account || coalesce(' (' || to_name || ')', ''), to_name, '(not named)') AS title,
                                   amount, currency, description, status, rail AS lane FROM transactions ORDER BY id""",
        "contacts": """SELECT id, NULL AS utc, 'no time' AS shown, NULL AS zone, NULL AS day,
                              'contact card: ' || coalesce(name, '') AS title,
                              concat_ws(' · ', array_to_string(phones, ', '), array_to_string(emails, ', '),
                                        array_to_string(usernames, ', '), organisation, note) AS body, NULL AS lane
                       FROM contacts ORDER BY id""",
        "ocr_text": """SELECT id, NULL AS utc, 'no time' AS shown, NULL AS zone, NULL AS day,
                              'text read from an image (OCR)' AS title, text AS body, NULL AS lane FROM ocr_text ORDER BY id""",
    }
    n = con.execute("SELECT coalesce(max(n), 0) FROM records").fetchone()[0]
    for tbl, sql in queries.items():
        for rows in _batches(store, sql):
            recs, search, timeline = [], [], []
            for row in rows:
                n += 1
                if tbl == "transactions":
                    rid, utc, shown, zone, day, title, amount, currency, desc, status, lane = row
                    body = (
                        format_amount(amount, currency)
                        + (f" ({desc})" if desc else "")
                        + (" [recorded as failed]" if status == "failed" else "")
                    )
                    text = " ".join(v for v in (title, desc) if v)
                else:
                    rid, utc, shown, zone, day, title, body, lane = row
                    text = " ".join(v for v in (title if tbl in ("contacts", "calls") else "", body) if v)
                recs.append((n, rid, tbl, utc, shown, zones(zone), r(title), r(body)))
                search.append((n, normalise(r(text) or "")))
                if utc or day:
                    timeline.append((utc or f"{day} 12:00:00", day, lane or tbl, n))  # a local time without UTC: noon of its day
            con.executemany("INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?, ?)", recs)
            con.executemany("INSERT INTO search VALUES (?, ?)", search)
            con.executemany("INSERT INTO timeline (utc, day, lane, n) VALUES (?, ?, ?, ?)", timeline)


def _sources(con: sqlite3.Connection, case: Case, labels: dict[str, str], exhibit_n: dict[str, int], redactor: Redactor) -> None:
    """Each record's source bytes, cut at build time (the viewer has no evidence store). Plain `line:`
    locators are sliced from one read of their exhibit; every other form goes through the cutter of
    `casegraph.api` (zip members, JSON paths, SQLite rows, statement rows)."""
    from ..ingest.cut import _cut

    store = case.store
    union = " UNION ALL ".join(f"SELECT id, exhibit_sha256, parser, locator FROM {t}" for t in TEXT_TABLES)
    lines_of: dict[str, list[bytes] | None] = {}
    current = None
    for rows in _batches(store, f"SELECT * FROM ({union}) ORDER BY exhibit_sha256, locator, id"):
        out = []
        for rid, sha, parser, locator in rows:
            if sha != current:  # one exhibit's lines in memory at a time
                lines_of.clear()
                current = sha
            path = case.evidence_path(sha)
            note, data = "", None
            try:
                if locator.startswith("line:") and path.is_file():
                    if sha not in lines_of:
                        lines_of[sha] = path.read_bytes().splitlines(keepends=True)
                    first, _, last = locator[5:].partition("-")
                    data = b"".join((lines_of[sha] or [])[int(first) - 1 : int(last or first)])
                else:
                    src = _cut(path, sha, locator, parser, labels.get(sha, "").partition(" ")[2] or None)
                    data, note = src.data, src.note
            except (OSError, ValueError, KeyError, IndexError, TypeError) as e:
                data, note = None, f"the source could not be cut out at build time: {type(e).__name__}: {e}"
            size = len(data) if data is not None else None
            digest = hashlib.sha256(data).digest() if data is not None else None
            if data is not None and redactor.active:
                data = redactor.text(data.decode("utf-8", errors="replace")).encode()
                note = (
                    note + "; " if note else ""
                ) + "redacted copy: protected persons are shown under pseudonyms; the SHA-256 is of the bytes as found"
            if data is not None and len(data) > SOURCE_CAP:
                note = (note + "; " if note else "") + f"first {SOURCE_CAP:,} of {len(data):,} bytes shown"
                data = data[:SOURCE_CAP]
            out.append((rid, exhibit_n.get(sha), parser, locator, note, data, size, digest))
        con.executemany("INSERT INTO sources SELECT r.n, ?, ?, ?, ?, ?, ?, ? FROM records r WHERE r.id = ?", [(*o[1:], o[0]) for o in out])


def _people(con: sqlite3.Connection, store, redactor: Redactor, r) -> None:
    """A profile per resolved person: names, identifiers with the record each was found in, payments in
    and out per currency (accounts.payments: the accounts the person holds or uses), and the accounts
    tied to them that they do not hold (accounts.not_held)."""
    from .. import accounts

    for e in store.rows("SELECT id, label, attrs FROM entities WHERE kind = 'person' ORDER BY id"):
        a = json.loads(e["attrs"] or "{}")
        label = redactor.pseudonyms.get(e["id"]) or e["label"]
        names = {r(k): v for k, v in (a.get("names") or {}).items()}
        norm = normalise(" ".join([label, *names]))
        con.execute(
            "INSERT INTO people VALUES (?, ?, ?, ?, ?, ?)",
            [
                e["id"],
                r(label),
                json.dumps(a.get("roles", [])),
                json.dumps(names, ensure_ascii=False),
                json.dumps(a.get("exhibits", [])),
                norm,
            ],
        )
    nodes = """SELECT m.entity_id AS person, substr(m.member, 4) AS node FROM entity_members m WHERE m.member LIKE 'id:%'
               UNION SELECT src, dst FROM edges WHERE kind = 'USES' UNION SELECT id, id FROM entities WHERE kind = 'person'"""
    ids = store.rows(f"""SELECT DISTINCT p.person, i.kind, i.value, i.role, coalesce(i.record_id, i.id) AS record,
                                i.exhibit_sha256, i.locator
                         FROM ({nodes}) p JOIN identifier_keys k ON k.node = p.node
                         JOIN identifiers i ON i.kind = k.kind AND i.value = k.value
                         UNION SELECT DISTINCT u.src, n.label, n.name, json_extract_string(u.attrs, '$.role'), u.record_id,
                                u.exhibit_sha256, u.locator
                         FROM edges u JOIN nodes n ON n.id = u.dst WHERE u.kind = 'USES'
                         ORDER BY 1, 2, 3, 5""")
    con.executemany("INSERT INTO person_identifiers VALUES (?, ?, ?, ?, ?, ?, ?)", [[r(v) for v in row.values()] for row in ids])
    # payments: the library's (casegraph.accounts, as the workspace profile): only accounts the person holds or uses;
    # one joined to them by resolution or only mentioned is listed apart, its money not theirs
    con.executemany(
        "INSERT INTO person_records SELECT ?, n, utc FROM records WHERE id = ?",
        [(p["person"], p["tx"]) for p in accounts.payment_records(store)],
    )
    con.executemany(
        "INSERT INTO person_money VALUES (?, ?, ?, ?, ?, ?)",
        [(p["person"], p["direction"], p["currency"], p["transfers"], p["amount_text"], p["failed"]) for p in accounts.payments(store)],
    )
    con.executemany(
        "INSERT INTO person_other_accounts VALUES (?, ?, ?, ?, ?, ?)",
        [
            (o["person"], r(o["name"] or o["account"]), o["messages"], json.dumps(o["cited"]), int(o["joined"]),
             r(json.dumps(o["join"], ensure_ascii=False, default=str)))
            for o in accounts.not_held(store)
        ],
    )  # fmt: skip
    sent = store.rows(f"""WITH p AS ({nodes}) SELECT DISTINCT p.person, e.dst AS id FROM edges e JOIN p ON e.src = p.node
                          WHERE e.kind = 'SENT' AND e.dst LIKE 'messages/%' ORDER BY 1, 2""")
    con.executemany("INSERT INTO person_records SELECT ?, n, utc FROM records WHERE id = ?", [(s["person"], s["id"]) for s in sent])


def _graph(con: sqlite3.Connection, store, r) -> None:
    """Parties and their directed ties (count per kind; payments summed per currency), for the graph view
    to start from the most tied parties and expand a neighbourhood at a time."""
    from ..model import DIRECTED_TIES

    ties = store.rows(f"""SELECT t.a, t.b, t.kind, count(*) AS n, min(t.ts_utc) AS first, max(t.ts_utc) AS last,
                                 list({{'amount': x.amount, 'currency': x.currency}}) FILTER (WHERE t.kind = 'payment') AS money
                          FROM ({DIRECTED_TIES}) t LEFT JOIN transactions x ON t.kind = 'payment' AND x.id = t.record_id
                          GROUP BY ALL ORDER BY 1, 2, 3""")
    strength: dict[str, float] = defaultdict(float)
    out = []
    for t in ties:
        t["a"], t["b"] = r(t["a"]), r(t["b"])  # node ids hold identifiers (Phone:+94…): redacted like the names
        strength[t["a"]] += t["n"]
        strength[t["b"]] += t["n"]
        money = ""
        if t["money"]:
            pairs = [(m["amount"], m["currency"]) for m in t["money"]]
            money = format_totals(sum_by_currency(pairs))
            unstated = sum(1 for a, _ in pairs if a is None)
            money += f" (+{unstated} not stated)" if unstated else ""
        when = [v.astimezone(UTC).strftime("%Y-%m-%d") if v else None for v in (t["first"], t["last"])]  # UTC dates
        out.append((t["a"], t["b"], t["kind"], t["n"], money, *when))
    con.executemany("INSERT INTO ties VALUES (?, ?, ?, ?, ?, ?, ?)", out)
    person_of = {
        m["node"]: m["entity_id"]
        for m in store.rows("SELECT entity_id, substr(member, 4) AS node FROM entity_members WHERE member LIKE 'id:%'")
    }
    nodes = store.rows(
        "SELECT id, label, name FROM nodes WHERE label NOT IN ('Message', 'Call', 'Transaction', 'OcrText', 'Exhibit') ORDER BY id"
    )
    con.executemany(
        "INSERT INTO nodes VALUES (?, ?, ?, ?, ?)",
        [(r(n["id"]), n["label"], r(n["name"] or n["id"]), strength.get(r(n["id"]), 0),
          person_of.get(n["id"], n["id"] if n["label"] == "Person" else None))
         for n in nodes if r(n["id"]) in strength],
    )  # fmt: skip


def _findings(con: sqlite3.Connection, store, doc: dict, r) -> None:
    """The report's findings (the examiner's to-dos left out, as the report leaves them out) and the records
    each cites: the search shows a record a finding flags beside the records whose words match."""
    rows, cites = [], []
    for f in doc["findings"]:
        rows.append((f["id"], f["kind"], f["title"], f["summary"], f["detector"], normalise(f["title"])))
        cites += [(f["id"], e["record"]) for e in f["evidence"] if e.get("record")]
    con.executemany("INSERT INTO findings VALUES (?, ?, ?, ?, ?, ?)", rows)
    con.executemany("INSERT INTO finding_records SELECT ?, n FROM records WHERE id = ?", cites)
    con.execute(
        "INSERT INTO timeline SELECT min(t.utc), min(t.day), 'finding: ' || x.kind, NULL, f.finding FROM finding_records f "
        "JOIN timeline t ON t.n = f.n JOIN findings x ON x.id = f.finding GROUP BY f.finding, x.kind ORDER BY f.finding"
    )


def _places(con: sqlite3.Connection, store, r, exhibit_n: dict[str, int], withhold: list[str]) -> None:
    """The case's locations for the map (reports.places: exact decimals as written), each with the record it came
    with, and which person each belongs to (profile.PLACES: sent by them, or naming one of their identifiers).
    A victim-protected copy holds none of a protected person's locations (`withhold`), and counts them."""
    from .places import MAX_PLACES, places

    found = places(store, limit=MAX_PLACES, withhold=withhold)
    rows = found["places"]
    counts = {k: found[k] for k in ("total", "shown", "withheld")}
    con.execute("INSERT INTO meta VALUES ('places', ?)", [json.dumps(counts)])
    n_of = dict(con.execute("SELECT id, n FROM records WHERE id IN (SELECT value FROM json_each(?))",
                            [json.dumps([p["came_with_record"] for p in rows if p["came_with_record"]])]).fetchall())  # fmt: skip
    con.executemany(
        "INSERT INTO places VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(p["id"], p["source_kind"], p["lat"], p["lon"], p["time"], r(p["who_name"] or p["who"]), r(p["label"] or p["address"]),
          p["accuracy_m"], n_of.get(p["came_with_record"]), exhibit_n.get(p["exhibit_sha256"]), p["locator"]) for p in rows],
    )  # fmt: skip
    # every person's locations in one query: profile.PLACES (the workspace's person map) with the person as a
    # column instead of a parameter
    pairs = store.rows(
        """WITH mine AS (SELECT id AS person, id AS node FROM entities WHERE kind = 'person'
                         UNION SELECT src, dst FROM edges WHERE kind = 'USES')
           SELECT DISTINCT m.person, l.id FROM mine m JOIN edges s ON s.kind = 'SENT' AND s.src = m.node
                  JOIN locations l ON l.record_id = s.dst
           UNION SELECT DISTINCT em.entity_id, i.record_id FROM identifiers i JOIN identifier_keys k USING (kind, value)
                  JOIN entity_members em ON em.member = 'id:' || k.node
           WHERE starts_with(i.record_id, 'locations/') AND em.entity_id IN (SELECT id FROM entities WHERE kind = 'person')
           ORDER BY 1, 2"""
    )
    kept = {p["id"] for p in rows}
    con.executemany("INSERT INTO person_places VALUES (?, ?)", [(x["person"], x["id"]) for x in pairs if x["id"] in kept])


def _thumbs(con: sqlite3.Connection, case: Case, redactor: Redactor) -> dict[str, Any]:
    """Media thumbnails, smallest media hash first, up to THUMB_BUDGET bytes; what was left out is counted."""
    from ..thumbnails import ThumbnailError, kind_of, thumbnail

    media = case.store.rows(
        """SELECT media_sha256 AS sha, any_value(media) AS name FROM messages WHERE media_sha256 IS NOT NULL
           AND starts_with(json_extract_string(extra, '$.media_locator'), 'zip:') GROUP BY 1 ORDER BY 1"""
    )
    pictures = [m for m in media if kind_of(m["name"]) == "image"]
    out: dict[str, Any] = {"pictures": len(pictures), "embedded": 0, "left_out": 0, "failed": 0, "bytes": 0, "why": ""}
    if redactor.active:
        out["left_out"], out["why"] = (
            len(pictures),
            "a victim-protected copy holds no media thumbnails (faces and documents are not redacted)",
        )
        return out
    for m in pictures:
        try:
            png = thumbnail(case, m["sha"])
        except ThumbnailError:
            out["failed"] += 1
            continue
        if out["bytes"] + len(png) > THUMB_BUDGET:
            out["left_out"] += 1
            continue
        con.execute("INSERT INTO thumbs VALUES (?, ?)", [m["sha"], png])
        out["embedded"] += 1
        out["bytes"] += len(png)
    if out["left_out"]:
        out["why"] = f"the viewer embeds at most {THUMB_BUDGET >> 20} MiB of thumbnails"
    return out
