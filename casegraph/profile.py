"""A resolved person's profile: every name seen, every identifier with where it was found, the
exhibits, chats and calls, payments in and out per currency, indicators, and a personal timeline.
Read-only queries over the store (entities, identifiers, edges and the record tables)."""

from __future__ import annotations

import json
from typing import Any

from . import accounts
from .amounts import format_amount
from .store import CaseStore, record_join
from .times import time_sql

# the person's node and every identifier node they use: the records joined to them are sent by one of
# these, or paid to or from one
_NODES = "(SELECT ? UNION SELECT dst FROM edges WHERE kind = 'USES' AND src = ?)"
# the (kind, value) of every identifier joined to the person (entity members 'id:<node>'), found from the members
# first so that only the person's identifier rows are read; and the records those identifiers were seen in
_KEYS = """(SELECT kind, value FROM identifier_keys
            WHERE node IN (SELECT substr(member, 4) FROM entity_members WHERE entity_id = ? AND starts_with(member, 'id:')))"""
_RECORDS = f"(SELECT i.record_id FROM identifiers i SEMI JOIN {_KEYS} k USING (kind, value))"
# the person's locations: those that came with a message they sent, and those whose own record is joined to one
# of their identifiers (who was there, as the source names them); a location sent TO them is not theirs
PLACES = f"""(SELECT l.id FROM locations l WHERE l.record_id IN (SELECT s.dst FROM edges s WHERE s.kind = 'SENT' AND s.src IN {_NODES})
              UNION SELECT r.record_id FROM {_RECORDS} r WHERE starts_with(r.record_id, 'locations/'))"""


def _plain(col: str) -> str:
    """A DECIMAL coordinate as the source wrote it (the store's fixed scale pads it with zeros)."""
    return f"rtrim(rtrim(CAST({col} AS VARCHAR), '0'), '.')"


def places_params(entity_id: str) -> list[str]:
    """The parameters of PLACES for one person."""
    return [entity_id, entity_id, entity_id]


def person(store: CaseStore, entity_id: str) -> dict[str, Any]:
    row = store.rows("SELECT id, label, attrs FROM entities WHERE kind = 'person' AND id = ?", [entity_id])
    if not row:
        raise KeyError(f"no person {entity_id!r} in this case (see 'casegraph entities list')")
    attrs = json.loads(row[0]["attrs"] or "{}")
    return {"id": entity_id, "label": row[0]["label"], "names": attrs.get("names", {}), "roles": attrs.get("roles", []), "attrs": attrs}


def people(store: CaseStore) -> list[dict[str, Any]]:
    rows = store.rows("SELECT id, label, attrs FROM entities WHERE kind = 'person' ORDER BY label, id")
    for r in rows:
        a = json.loads(r.pop("attrs") or "{}")
        r.update(
            names=list(a.get("names", {})),
            roles=a.get("roles", []),
            identifiers=len(a.get("identifiers", [])),
            exhibits=len(a.get("exhibits", [])),
        )
    return rows


def identifiers(store: CaseStore, entity_id: str, seen: int | None = None) -> list[dict[str, Any]]:
    """Each identifier of the person (normalised key), with the places it was seen as written: all of them, or
    the first `seen` (exhibit, locator order); `count` says how many there are. The person's (kind, value)
    pairs are found first, so only their identifier rows are read, not every row of the case."""
    rows = store.rows(
        f"""WITH ks AS (SELECT k.kind, k.value, k.key_kind, k.key FROM identifier_keys k SEMI JOIN {_KEYS} USING (kind, value)),
                hits AS (SELECT ks.key_kind, ks.key, i.value, i.role, i.record_id, i.locator, i.exhibit_sha256, e.exhibit_id,
                                e.original_name, row_number() OVER w AS n, count(*) OVER (PARTITION BY ks.key_kind, ks.key) AS count
                         FROM identifiers i JOIN ks USING (kind, value) LEFT JOIN exhibits e ON e.sha256 = i.exhibit_sha256
                         WINDOW w AS (PARTITION BY ks.key_kind, ks.key ORDER BY e.exhibit_id, i.locator))
           SELECT * FROM hits WHERE ? IS NULL OR n <= ? ORDER BY key_kind, key, n""",
        [entity_id, seen, seen],
    )
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        entry = out.setdefault((r["key_kind"], r["key"]), {"kind": r["key_kind"], "key": r["key"], "count": r["count"], "seen": []})
        entry["seen"].append({k: r[k] for k in ("value", "role", "record_id", "locator", "exhibit_sha256", "exhibit_id", "original_name")})
    return list(out.values())


def chats(store: CaseStore, entity_id: str) -> list[dict[str, Any]]:
    """The chats the person (or an identifier they use) sent messages in, with how many and when."""
    return store.rows(
        f"""WITH s AS MATERIALIZED (SELECT dst FROM edges WHERE kind = 'SENT' AND src IN {_NODES})
            SELECT m.chat_id, any_value(m.chat_name) AS chat_name, count(*) AS sent, min(m.ts_utc) AS first_utc, max(m.ts_utc) AS last_utc
            FROM s JOIN messages m ON {record_join("m", "messages", "s.dst")}
            GROUP BY m.chat_id ORDER BY min(m.ts_utc) NULLS LAST""",
        [entity_id, entity_id],
    )


def payments(store: CaseStore, entity_id: str) -> list[dict[str, Any]]:
    """Money in and out of the accounts and wallets the person holds or uses, per direction and currency (exact
    sums; failed transfers left out and counted apart): accounts.payments, which the viewer uses too."""
    return [{k: v for k, v in r.items() if k != "person"} for r in accounts.payments(store, entity_id)]


def other_accounts(store: CaseStore, entity_id: str) -> list[dict[str, Any]]:
    """Accounts and wallets tied to the person that they are not recorded as holding or using (mentioned in their
    messages, or joined by entity resolution), with why: their money is not the person's (accounts.not_held)."""
    return accounts.not_held(store, entity_id)


def calls(store: CaseStore, entity_id: str, limit: int = 100) -> list[dict[str, Any]]:
    return store.rows(
        f"""SELECT r.record_id AS id, c.platform, c.number, c.name, c.direction, c.duration_s, {time_sql("c")} AS shown_time, c.ts_utc
            FROM calls c JOIN (SELECT DISTINCT record_id FROM {_RECORDS}) r ON {record_join("c", "calls", "r.record_id")}
            ORDER BY c.ts_utc NULLS LAST LIMIT ?""",
        [entity_id, limit],
    )


def timeline(store: CaseStore, entity_id: str, offset: int = 0, limit: int = 100) -> list[dict[str, Any]]:
    """The person's records in time, oldest first (undated ones last): messages they sent, money in and out,
    calls joined to their identifiers, and their locations (PLACES). The page's rows of a branch are among its own first
    offset + limit, so each large branch (messages, transfers) is cut there before the union is sorted; the person's
    nodes, their sent messages and the records naming their identifiers are found once (MATERIALIZED), and records are
    joined on their locator (store.record_join), never on the computed id of every row."""
    top = "ORDER BY {x}.ts_utc NULLS LAST, {r} LIMIT ?"  # the id the edge gives: the record's own would be computed for every row
    rows = store.rows(
        f"""WITH mine AS MATERIALIZED {_NODES},
                 sent AS MATERIALIZED (SELECT dst FROM edges WHERE kind = 'SENT' AND src IN (SELECT * FROM mine)),
                 paid AS MATERIALIZED (SELECT dst FROM edges WHERE kind = 'PAID' AND src IN (SELECT * FROM mine)),
                 got AS MATERIALIZED (SELECT src FROM edges WHERE kind = 'PAID_TO' AND dst IN (SELECT * FROM mine)),
                 recs AS MATERIALIZED {_RECORDS},
                 places AS MATERIALIZED (SELECT l.id FROM locations l WHERE l.record_id IN (SELECT dst FROM sent)
                                         UNION SELECT record_id FROM recs WHERE starts_with(record_id, 'locations/'))
            SELECT * FROM (
              SELECT * FROM (SELECT s.dst AS id, 'message' AS what, {time_sql("m")} AS shown_time, m.ts_utc,
                     coalesce(m.chat_name, m.chat_id) AS place, m.text AS detail, NULL::DECIMAL(38, 18) AS amount, NULL AS currency
              FROM sent s JOIN messages m ON {record_join("m", "messages", "s.dst")}
                    {top.format(x="m", r="s.dst")})
              UNION ALL
              SELECT * FROM (SELECT p.dst, 'paid', {time_sql("t")}, t.ts_utc,
                     coalesce(t.to_name, t.to_account), t.description, t.amount, t.currency
              FROM paid p JOIN transactions t ON {record_join("t", "transactions", "p.dst")}
                    {top.format(x="t", r="p.dst")})
              UNION ALL
              SELECT * FROM (SELECT q.src, 'received', {time_sql("t")}, t.ts_utc,
                     coalesce(t.from_name, t.from_account), t.description, t.amount, t.currency
              FROM got q JOIN transactions t ON {record_join("t", "transactions", "q.src")}
                    {top.format(x="t", r="q.src")})
              UNION ALL
              SELECT r.record_id, c.direction || ' call', {time_sql("c")}, c.ts_utc, coalesce(c.name, c.number),
                     coalesce(CAST(c.duration_s AS VARCHAR) || ' s', 'duration not recorded'), NULL, NULL
              FROM calls c JOIN (SELECT DISTINCT record_id FROM recs) r ON {record_join("c", "calls", "r.record_id")}
              UNION ALL
              SELECT p.id, 'location (' || l.source_kind || ')', {time_sql("l")}, l.ts_utc, coalesce(l.label, l.address),
                     {_plain("l.latitude")} || ', ' || {_plain("l.longitude")}, NULL, NULL
              FROM locations l JOIN places p ON {record_join("l", "locations", "p.id")})
            ORDER BY ts_utc NULLS LAST, id LIMIT ? OFFSET ?""",
        [entity_id, entity_id, entity_id, *[offset + limit] * 3, limit, offset],
    )
    for r in rows:
        r["amount_text"] = format_amount(r["amount"], r["currency"]) if r["what"] in ("paid", "received") else ""
    return rows
