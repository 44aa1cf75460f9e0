"""The graph explorer's queries: a party's neighbours, the shortest path between two parties, and the
views an examiner pins for the report. Thin SQL over the store's nodes and edges tables (the graph
`resolve` builds), so it answers a click on a million-message case without loading the whole graph.

Parties are the graph's non-record nodes (people, phones, accounts, wallets, chats, ...). Records
become ties between them, each tie carrying the records it rests on:
    uses       a person uses an identifier (USES)
    message    a party sent messages in a chat (SENT + IN), with how many and when
    mentions   a party sent a message mentioning an identifier (SENT + MENTIONS)
    money      an account paid another (PAID + PAID_TO): directed, summed per currency, exact;
               transfers the source marks failed are left out (no value moved)
"""

from __future__ import annotations

import json
import weakref
from collections import deque
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import duckdb

from ..amounts import format_amount
from ..store import TIE_TABLES, CaseStore, record_join

if TYPE_CHECKING:
    from ..case import Case

TIES = ("uses", "message", "mentions", "money")
RECORDS_PER_TIE = 20  # record ids carried on one tie (the count says how many there are)
MAX_TIES = 300  # ties returned for one expansion, the heaviest first
# the senders that are one person (the person's node, then ? twice): itself and every identifier it USES


def _window(col: str, since: datetime | None, until: datetime | None) -> tuple[str, list]:
    sql, params = "", []
    if since is not None:
        sql += f" AND {col} >= ?"
        params.append(since)
    if until is not None:
        sql += f" AND {col} <= ?"
        params.append(until)
    return sql, params


def _tie(r: dict[str, Any], kind: str) -> dict[str, Any]:
    return {
        "source": r["src"],
        "target": r["dst"],
        "kind": kind,
        "count": r["n"],
        "first": r["first"],
        "last": r["last"],
        "records": r["records"],
    }


# -- the tie table -------------------------------------------------------------------------------
# One row per record and tie end, sorted by the party's number: a party's ties are a few row groups of
# one table (DuckDB skips the rest by their min/max), so an expansion costs the same on a case of ten
# million transfers as on ten. Built with the graph (graph.build); a case whose graph was built before
# it gets a temporary one, built once, on its first expansion.
PARTIES = "graph_parties"  # v, id, label, name, roles: every node that is not a record
TIE_ROWS = "graph_tie_rows"  # v (the party looked up), kind, a, b (party numbers), ts_utc, record_id, amount, currency
RECORD_LABELS = ("Message", "Transaction", "OcrText", "Call")

_TIE_SQL = {
    "uses": "SELECT src, dst, NULL::TIMESTAMPTZ, record_id, NULL, NULL FROM edges WHERE kind = 'USES'",
    "message": """SELECT s.src, i.dst, s.ts_utc, s.dst, NULL, NULL
                  FROM edges s JOIN edges i ON i.src = s.dst AND i.kind = 'IN' WHERE s.kind = 'SENT'""",
    "mentions": """SELECT s.src, m.dst, s.ts_utc, s.dst, NULL, NULL
                   FROM edges s JOIN edges m ON m.src = s.dst AND m.kind = 'MENTIONS' WHERE s.kind = 'SENT' AND s.src <> m.dst""",
    # transfers the source marks failed moved no value, and one without an amount cannot be summed
    # (the transfer joined on its locator, store.record_join: its computed id built for ten million rows cost memory and time)
    "money": f"""SELECT p.src, q.dst, t.ts_utc, p.dst, t.amount, t.currency
                 FROM edges p JOIN edges q ON q.src = p.dst AND q.kind = 'PAID_TO'
                 JOIN transactions t ON {record_join("t", "transactions", "p.dst")}
                 WHERE p.kind = 'PAID' AND t.status IS DISTINCT FROM 'failed' AND t.amount IS NOT NULL""",
}


def build_ties(store: CaseStore, temp: bool = False) -> None:
    """(Re)build the party and tie tables from `nodes` and `edges` (graph.build calls this; `temp`: session-only
    copies, for a graph built before these tables, or a store opened read-only)."""
    con = store.con
    for t, cols in TIE_TABLES.items():
        if temp:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {t} {cols}")
        else:  # temporary ones made for the graph before this one would hide the new tables; a new table, not
            # DELETE: the deleted rows' row groups would stay, and every lookup would scan them again
            con.execute(f"DROP TABLE IF EXISTS temp.{t}; CREATE OR REPLACE TABLE {t} {cols}")
    labels = ", ".join(f"'{x}'" for x in RECORD_LABELS)
    con.execute(f"""INSERT INTO {PARTIES}
                    SELECT (row_number() OVER (ORDER BY id) - 1)::BIGINT AS v, id, label, name,
                           CASE WHEN label = 'Person' THEN coalesce(CAST(json_extract(props, '$.roles') AS VARCHAR[]), [])
                                ELSE []::VARCHAR[] END AS roles
                    FROM nodes WHERE label NOT IN ({labels}) ORDER BY v""")  # in number (and id) order: lookups skip the rest
    union = " UNION ALL ".join(f"SELECT '{k}' AS kind, * FROM ({sql})" for k, sql in _TIE_SQL.items())
    with store.unordered():
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _ties_raw AS
                        SELECT r.kind, pa.v AS a, pb.v AS b, r.ts_utc, r.record_id, CAST(r.amount AS DECIMAL(38, 18)) AS amount, r.currency
                        FROM ({union}) r(kind, src, dst, ts_utc, record_id, amount, currency)
                        JOIN {PARTIES} pa ON pa.id = r.src JOIN {PARTIES} pb ON pb.id = r.dst""")
    try:  # insertion order kept: the table is written in party order, which is what makes a lookup skip the rest
        con.execute(f"""INSERT INTO {TIE_ROWS}
                        SELECT * FROM (SELECT a AS v, * FROM _ties_raw UNION ALL SELECT b AS v, * FROM _ties_raw WHERE b <> a)
                        ORDER BY v, kind, a, b, ts_utc, record_id""")
    finally:
        con.execute("DROP TABLE IF EXISTS _ties_raw")


_READY: weakref.WeakKeyDictionary[CaseStore, bool] = weakref.WeakKeyDictionary()  # stores whose tie tables were checked


def _rows(store: CaseStore, sql: str, params: list) -> list[dict[str, Any]]:
    """A query on the tie tables; a graph built before them gets temporary ones first. Checked once per open store
    (every expansion asking again cost two scans); tables dropped since then are found by the query failing."""
    if store not in _READY:
        try:
            stale = store.rows(f"SELECT NOT EXISTS (SELECT 1 FROM {PARTIES}) AND EXISTS (SELECT 1 FROM nodes) AS s")[0]["s"]
        except duckdb.CatalogException:  # a store opened read-only, from before the tables were declared
            stale = True
        if stale:
            build_ties(store, temp=True)
        _READY[store] = True
    try:
        return store.rows(sql, params)
    except duckdb.CatalogException:
        build_ties(store, temp=True)
        return store.rows(sql, params)


def _party(store: CaseStore, node: str) -> int | None:
    """The party number of a node id (None: not a party)."""
    rows = _rows(store, f"SELECT v FROM {PARTIES} WHERE id = ?", [node])
    return int(rows[0]["v"]) if rows else None


def _by_number(store: CaseStore, numbers: set[int]) -> dict[int, dict[str, Any]]:
    """{party number: {id, label, name, roles}}, looked up by the integer key (the table is in its order)."""
    if not numbers:
        return {}
    rows = store.rows(f"SELECT v, id, label, name, roles FROM {PARTIES} WHERE v IN ({', '.join(str(int(n)) for n in sorted(numbers))})")
    return {int(r.pop("v")): {**r, "roles": list(r["roles"] or [])} for r in rows}


def ties(
    store: CaseStore,
    node: str,
    kinds: tuple[str, ...] = TIES,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = MAX_TIES,
    party: int | None = None,
) -> list[dict[str, Any]]:
    """Every tie of one party, as {source, target, kind, count, first, last, records, [amount, currency]}, the
    heaviest `limit` (`party`: the node's party number, when the caller looked it up already)."""
    return _ties(store, node, kinds, since, until, limit, party)[0]


def _ties(
    store: CaseStore,
    node: str,
    kinds: tuple[str, ...],
    since: datetime | None,
    until: datetime | None,
    limit: int,
    party: int | None,
) -> tuple[list[dict[str, Any]], dict[int, dict[str, Any]]]:
    """ties(), and the parties at their ends by number ({id, label, name, roles}): one lookup by integer key."""
    v = party if party is not None else _party(store, node)
    want = [k for k in TIES if k in kinds]
    if v is None or not want:
        return [], {}  # a record node (a message, a transfer): its ties are its sender's, not its own
    w, wp = _window("ts_utc", since, until)
    # a person's messages: SENT starts at the identifier a message came from (a phone, a Telegram or Signal id),
    # and at the person only for a sender known by name alone, so a person's sent ties gather both, `via` them
    own = [int(v)]
    if node.startswith("person:"):
        own += [int(r["b"]) for r in store.rows(f"SELECT DISTINCT b FROM {TIE_ROWS} WHERE v = {int(v)} AND kind = 'uses' AND a = {int(v)}")]
    senders = ", ".join(map(str, own))
    # party numbers are written into the query (ints): DuckDB prunes row groups on constants; only the records a
    # tie carries leave the database (the count says how many there are)
    rows = store.rows(
        f"""WITH r AS (SELECT * FROM {TIE_ROWS} WHERE v = {int(v)}
                       UNION ALL SELECT * FROM {TIE_ROWS}
                       WHERE v IN ({senders}) AND v <> {int(v)} AND a = v AND kind IN ('message', 'mentions'))
            SELECT kind, CASE WHEN a IN ({senders}) AND kind IN ('message', 'mentions') THEN {int(v)} ELSE a END AS a,
                   b, count(*) AS n, min(ts_utc) AS first, max(ts_utc) AS last,
                   list(record_id ORDER BY ts_utc, record_id)[1:{RECORDS_PER_TIE}] AS recs,
                   list(record_id ORDER BY record_id)[1:{RECORDS_PER_TIE}] AS recs_by_id,
                   currency, sum(amount) AS amount, list(DISTINCT a ORDER BY a) AS via
            FROM r WHERE list_contains(?, kind) AND (kind = 'uses' OR (TRUE{w})) GROUP BY ALL""",
        [want, *wp],
    )
    ends = _by_number(store, {int(r["a"]) for r in rows} | {int(r["b"]) for r in rows} | set(own))
    out: list[dict[str, Any]] = []
    for r in rows:
        r["src"], r["dst"] = ends[int(r["a"])]["id"], ends[int(r["b"])]["id"]
        if r["kind"] == "uses":
            out.append({"source": r["src"], "target": r["dst"], "kind": "uses", "count": r["n"], "records": r["recs_by_id"]})
            continue
        r["records"] = r["recs"]
        tie = _tie(r, r["kind"])
        if len(own) > 1 and r["kind"] in ("message", "mentions"):
            tie["via"] = [ends[int(x)]["id"] for x in r["via"]]
        if r["kind"] == "money":
            tie |= {"amount": r["amount"], "currency": r["currency"] or "(currency not stated)"}
        out.append(tie)
    out.sort(key=lambda t: (-t["count"], t["kind"], t["source"], t["target"], t.get("currency", "")))
    out = out[:limit]
    for t in out:
        t["key"] = f"{t['kind']}|{t['source']}|{t['target']}|{t.get('currency', '')}"
        if t["kind"] == "money":
            t["amount_text"] = format_amount(t["amount"], t["currency"])
    return out, ends


def parties(store: CaseStore, ids: list[str]) -> list[dict[str, Any]]:
    """The nodes named, with their kind (Person, Phone …), name and, for people, the roles marked."""
    want = sorted(set(ids))
    rows = _rows(
        store, f"SELECT id, label, name, roles FROM {PARTIES} SEMI JOIN (SELECT unnest(?::VARCHAR[]) AS id) USING (id) ORDER BY id", [want]
    )
    if len(rows) < len(want):  # a record node (message, transfer) asked for by id
        found = {r["id"] for r in rows}
        rest = [i for i in want if i not in found]
        rows += store.rows("SELECT id, label, name, [] AS roles FROM nodes WHERE list_contains(?, id) ORDER BY id", [rest])
        rows.sort(key=lambda r: r["id"])
    for r in rows:
        r["roles"] = list(r["roles"] or [])
    return rows


def neighbourhood(store: CaseStore, node: str, **kw: Any) -> dict[str, Any]:
    """One expansion: the party, its ties and the parties at their other ends."""
    v = _party(store, node)
    if v is None and not store.one("SELECT 1 FROM nodes WHERE id = ?", [node]):
        raise KeyError(f"no party {node!r} in the graph (run 'casegraph resolve' first if the graph is empty)")
    if v is None:  # a record node: found, with no ties of its own
        return {"focus": node, "nodes": parties(store, [node]), "edges": []}
    opts = {"kinds": TIES, "since": None, "until": None, "limit": MAX_TIES} | kw
    found, ends = _ties(store, node, opts["kinds"], opts["since"], opts["until"], opts["limit"], v)
    ids = {node} | {t["source"] for t in found} | {t["target"] for t in found}
    if v not in ends:
        ends |= _by_number(store, {v})
    nodes = sorted((p for p in ends.values() if p["id"] in ids), key=lambda p: p["id"])
    return {"focus": node, "nodes": nodes, "edges": found}


def find(store: CaseStore, text: str, limit: int = 20) -> list[dict[str, Any]]:
    """Parties whose name or id holds `text` (any case): where an exploration starts."""
    needle = text.strip().lower()
    if not needle:
        return []
    rows = store.rows(
        """SELECT id, label, name FROM nodes
           WHERE label NOT IN ('Message', 'Transaction', 'OcrText', 'Exhibit', 'Call', 'Contact', 'Location')
             AND (strpos(lower(coalesce(name, '')), ?) > 0 OR strpos(lower(id), ?) > 0) ORDER BY label, name, id LIMIT ?""",
        [needle, needle, limit],
    )
    return rows


def path(store: CaseStore, a: str, b: str, kinds: tuple[str, ...] = TIES, max_hops: int = 6, max_nodes: int = 5000) -> dict[str, Any]:
    """The shortest chain of ties from party `a` to party `b` (breadth first, both directions of
    every tie, bounded by hops and by the parties visited), with the ties it uses."""
    for n in (a, b):
        if not store.one("SELECT 1 FROM nodes WHERE id = ?", [n]):
            raise KeyError(f"no party {n!r} in the graph")
    prev: dict[str, tuple[str, dict[str, Any]] | None] = {a: None}
    frontier = deque([(a, 0)])
    while frontier and b not in prev and len(prev) < max_nodes:
        node, depth = frontier.popleft()
        if depth >= max_hops:
            continue
        for t in ties(store, node, kinds):
            other = t["target"] if t["source"] == node else t["source"]
            if other not in prev:
                prev[other] = (node, t)
                frontier.append((other, depth + 1))
    if b not in prev:
        return {"found": False, "nodes": parties(store, [a, b]), "edges": [], "visited": len(prev)}
    edges, cur = [], b
    while (step := prev[cur]) is not None:
        cur, tie = step
        edges.append(tie)
    edges.reverse()
    ids = {a, b} | {t["source"] for t in edges} | {t["target"] for t in edges}
    return {"found": True, "hops": len(edges), "nodes": parties(store, list(ids)), "edges": edges, "visited": len(prev)}


# -- pinned views -----------------------------------------------------------------------------------
def pin(case: Case, title: str, nodes: list[str], edges: list[str], filters: dict[str, Any], actor: str | None = None) -> dict[str, Any]:
    """Keep a view of the graph for the report: the parties shown, the ties (their keys) and the filters."""
    if not title.strip():
        raise LookupError("a pinned view needs a title (it is shown in the report)")
    known = {r[0] for r in case.store.con.execute("SELECT id FROM nodes WHERE list_contains(?, id)", [nodes]).fetchall()}
    if missing := [n for n in nodes if n not in known]:
        raise LookupError(f"not in the graph: {', '.join(missing[:3])}")
    row = case.store.one("SELECT coalesce(max(seq), 0) + 1 FROM graph_pins")
    seq = int(row[0]) if row else 1
    who = case.actor(actor)
    view = {"nodes": sorted(set(nodes)), "edges": sorted(set(edges)), "filters": filters}
    case.store.con.execute(
        "INSERT INTO graph_pins VALUES (?, ?, ?, ?, ?)",
        [seq, title, json.dumps(view, ensure_ascii=False, sort_keys=True), who, datetime.now(UTC)],
    )
    case.log("graph-pin", actor=who, state=("graph_pins",), details={"seq": seq, "title": title, **view})
    return {"seq": seq, "title": title, **view, "actor": who}


def pins(store: CaseStore) -> list[dict[str, Any]]:
    """Every pinned view, oldest first: {seq, title, nodes, edges, filters, actor, pinned_at}."""
    if not store.one("SELECT 1 FROM information_schema.tables WHERE table_name = 'graph_pins'"):
        return []  # a case store from before pins (opened read-only, so not migrated)
    return [{**r, **json.loads(r.pop("view"))} for r in store.rows("SELECT * FROM graph_pins ORDER BY seq")]
