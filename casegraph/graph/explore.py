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
from collections import deque
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..amounts import format_amount
from ..store import CaseStore

if TYPE_CHECKING:
    from ..case import Case

TIES = ("uses", "message", "mentions", "money")
RECORDS_PER_TIE = 20  # record ids carried on one tie (the count says how many there are)
MAX_TIES = 300  # ties returned for one expansion, the heaviest first
# the senders that are one person (the person's node, then ? twice): itself and every identifier it USES
PERSON_SENDERS = "s.src IN (SELECT ?::VARCHAR UNION SELECT dst FROM edges WHERE kind = 'USES' AND src = ?)"


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


def ties(
    store: CaseStore,
    node: str,
    kinds: tuple[str, ...] = TIES,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = MAX_TIES,
) -> list[dict[str, Any]]:
    """Every tie of one party, as {source, target, kind, count, first, last, records, [amount, currency]}."""
    out: list[dict[str, Any]] = []
    if "uses" in kinds:
        for r in store.rows(
            """SELECT src, dst, list(record_id ORDER BY record_id) AS records FROM edges
               WHERE kind = 'USES' AND (src = ? OR dst = ?) GROUP BY ALL""",
            [node, node],
        ):
            out.append(
                {
                    "source": r["src"],
                    "target": r["dst"],
                    "kind": "uses",
                    "count": len(r["records"]),
                    "records": r["records"][:RECORDS_PER_TIE],
                }
            )
    if "message" in kinds:
        w, wp = _window("s.ts_utc", since, until)
        # a person's messages: SENT starts at the identifier the message came from (a phone, a Telegram or Signal
        # id) and at the person only for a sender known by name alone, so a person's ties gather both, `via` them
        person = node.startswith("person:")
        sent_by = PERSON_SENDERS if person else "(s.src = ? OR i.dst = ?)"
        for r in store.rows(
            f"""SELECT {"?" if person else "s.src"} AS src, i.dst, count(*) AS n, min(s.ts_utc) AS first, max(s.ts_utc) AS last,
                       list(s.dst ORDER BY s.ts_utc, s.dst)[1:{RECORDS_PER_TIE}] AS records, list(DISTINCT s.src ORDER BY s.src) AS via
                FROM edges s JOIN edges i ON i.src = s.dst AND i.kind = 'IN'
                WHERE s.kind = 'SENT' AND {sent_by}{w} GROUP BY ALL""",
            [node, node, node, *wp] if person else [node, node, *wp],
        ):
            out.append(
                {
                    "source": r["src"],
                    "target": r["dst"],
                    "kind": "message",
                    "count": r["n"],
                    "first": r["first"],
                    "last": r["last"],
                    "records": r["records"],
                    **({"via": r["via"]} if person else {}),
                }
            )
    if "mentions" in kinds:
        w, wp = _window("s.ts_utc", since, until)
        for r in store.rows(
            f"""SELECT s.src, m.dst, count(*) AS n, min(s.ts_utc) AS first, max(s.ts_utc) AS last,
                       list(s.dst ORDER BY s.ts_utc, s.dst)[1:{RECORDS_PER_TIE}] AS records
                FROM edges s JOIN edges m ON m.src = s.dst AND m.kind = 'MENTIONS'
                WHERE s.kind = 'SENT' AND (s.src = ? OR m.dst = ?) AND s.src <> m.dst{w} GROUP BY ALL""",
            [node, node, *wp],
        ):
            out.append(
                {
                    "source": r["src"],
                    "target": r["dst"],
                    "kind": "mentions",
                    "count": r["n"],
                    "first": r["first"],
                    "last": r["last"],
                    "records": r["records"],
                }
            )
    if "money" in kinds:
        w, wp = _window("t.ts_utc", since, until)
        for r in store.rows(
            f"""SELECT p.src, q.dst, t.currency, sum(t.amount) AS amount, count(*) AS n, min(t.ts_utc) AS first, max(t.ts_utc) AS last,
                       list(t.id ORDER BY t.ts_utc, t.id)[1:{RECORDS_PER_TIE}] AS records
                FROM edges p JOIN edges q ON q.src = p.dst AND q.kind = 'PAID_TO' JOIN transactions t ON t.id = p.dst
                WHERE p.kind = 'PAID' AND (p.src = ? OR q.dst = ?) AND t.status IS DISTINCT FROM 'failed'
                      AND t.amount IS NOT NULL{w}
                GROUP BY ALL ORDER BY 1, 2, 3""",
            [node, node, *wp],
        ):
            out.append({**_tie(r, "money"), "amount": r["amount"], "currency": r["currency"] or "(currency not stated)"})
    out.sort(key=lambda t: (-t["count"], t["kind"], t["source"], t["target"]))
    for t in out:
        t["key"] = f"{t['kind']}|{t['source']}|{t['target']}|{t.get('currency', '')}"
        if t["kind"] == "money":
            t["amount_text"] = format_amount(t["amount"], t["currency"])
    return out[:limit]


def parties(store: CaseStore, ids: list[str]) -> list[dict[str, Any]]:
    """The nodes named, with their kind (Person, Phone …), name and, for people, the roles marked."""
    rows = store.rows("SELECT id, label, name, props FROM nodes WHERE list_contains(?, id) ORDER BY id", [sorted(set(ids))])
    for r in rows:
        props = json.loads(r.pop("props") or "{}")
        r["roles"] = props.get("roles", []) if r["label"] == "Person" else []
    return rows


def neighbourhood(store: CaseStore, node: str, **kw: Any) -> dict[str, Any]:
    """One expansion: the party, its ties and the parties at their other ends."""
    if not store.one("SELECT 1 FROM nodes WHERE id = ?", [node]):
        raise KeyError(f"no party {node!r} in the graph (run 'casegraph resolve' first if the graph is empty)")
    found = ties(store, node, **kw)
    ids = {node} | {t["source"] for t in found} | {t["target"] for t in found}
    return {"focus": node, "nodes": parties(store, list(ids)), "edges": found}


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
