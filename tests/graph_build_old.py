"""The graph build as it was before it was made set-based (casegraph 2026-12-01, graph/build.py at 4a46e90):
one INSERT per source, then duplicates deleted. Kept only to check that the new build writes the same
rows (tests/test_graph_build_same.py)."""

from __future__ import annotations

from casegraph.graph import explore, keys
from casegraph.graph.build import _NODES, CHAT_ID, DAY_SQL, PROV, _prov
from casegraph.store import CaseStore

# (kind, src, dst, ts, weight, record id, attrs, provenance...) per relationship, and the labels of the nodes each
# end must be found among (None: a node by construction: an identifier key's node, or a record joined in the same
# statement, whose node every record has)
PERSON, RECORD, EXHIBIT = ("Person",), ("Message", "OcrText", "Call", "Transaction"), ("Exhibit",)
_EDGES: list[tuple[str, tuple[str, ...] | None, tuple[str, ...] | None]] = [
    # a person uses the identifiers of their members; the record it rests on is where the identifier was stated as theirs
    (
        f"""SELECT 'USES', m.entity_id, k.node, NULL, 1, i.record_id, json_object('role', i.role), {_prov("i")}
        FROM entity_members m JOIN identifier_keys k ON m.member = 'id:' || k.node
        JOIN identifiers i ON i.kind = k.kind AND i.value = k.value AND i.role <> 'mentioned'
        QUALIFY row_number() OVER (PARTITION BY m.entity_id, k.node ORDER BY i.exhibit_sha256, i.locator) = 1""",
        PERSON,
        None,
    ),
    (
        f"""SELECT 'USES', m.entity_id, k.node, NULL, 1, c.id, json_object('role', 'listed on contact card'), {_prov("c")}
        FROM entity_members m JOIN contacts c ON m.member = 'record:' || c.id
        JOIN identifiers i ON i.record_id = c.id AND i.role <> 'mentioned' JOIN identifier_keys k ON i.kind = k.kind AND i.value = k.value""",  # noqa: E501
        PERSON,
        None,
    ),
    (
        f"""SELECT 'USES', m.entity_id, k.node, NULL, 1, t.id, json_object('role', 'account holder named'), {_prov("t")}
        FROM entity_members m JOIN identifier_keys k ON m.member = 'id:' || k.node
        JOIN transactions t ON k.kind = {keys.rail_kind_sql("t.rail")} AND k.value IN (t.from_account, t.to_account)
        WHERE (t.from_account = k.value AND t.from_name IS NOT NULL) OR (t.to_account = k.value AND t.to_name IS NOT NULL)
        QUALIFY row_number() OVER (PARTITION BY m.entity_id, k.node ORDER BY t.exhibit_sha256, t.locator) = 1""",
        PERSON,
        None,
    ),
    # messages: who sent them (an identifier, or a person known only by display name), where, to whom
    (
        f"""SELECT 'SENT', k.node, i.record_id, m.ts_utc, 1, i.record_id, NULL, {_prov("i")}
        FROM identifiers i JOIN identifier_keys k USING (kind, value) JOIN messages m ON m.id = i.record_id WHERE i.role = 'sender'""",
        None,
        None,
    ),
    (
        f"""SELECT 'SENT', e.entity_id, m.id, m.ts_utc, 1, m.id, NULL, {_prov("m")}
        FROM messages m JOIN entity_members e ON e.member = 'name:' || left(m.exhibit_sha256, 32) || ':' || m.sender_name
        WHERE m.sender_id IS NULL""",
        PERSON,
        None,
    ),
    (
        f"""SELECT 'IN', id, {CHAT_ID}, ts_utc, 1, id, NULL, {PROV} FROM messages WHERE coalesce(chat_id, chat_name) IS NOT NULL""",
        None,
        None,
    ),
    (
        f"""SELECT 'TO', i.record_id, k.node, NULL, 1, i.record_id, NULL, {_prov("i")}
        FROM identifiers i JOIN identifier_keys k USING (kind, value) WHERE i.role = 'recipient'""",
        RECORD,
        None,
    ),
    (
        f"""SELECT 'MENTIONS', i.record_id, k.node, NULL, 1, i.record_id, json_object('context', i.context), {_prov("i")}
        FROM identifiers i JOIN identifier_keys k USING (kind, value) WHERE i.role = 'mentioned' AND i.record_id IS NOT NULL""",
        RECORD,
        None,
    ),
    (
        f"""SELECT 'IN_CALL', k.node, i.record_id, c.ts_utc, coalesce(c.duration_s, 0), i.record_id, json_object('direction', c.direction),
               {_prov("i")}
        FROM identifiers i JOIN identifier_keys k USING (kind, value) JOIN calls c ON c.id = i.record_id WHERE i.role = 'counterpart'""",
        None,
        None,
    ),
    # money
    # `date`: the statement's date when it gives no time (ts_utc is then only the start of that day)
    (
        f"""SELECT 'PAID', k.node, t.id, t.ts_utc, CAST(t.amount AS DOUBLE), t.id, json_object('currency', t.currency, 'date', {DAY_SQL}), {_prov("t")}
        FROM transactions t JOIN identifier_keys k ON k.kind = {keys.rail_kind_sql("t.rail")} AND k.value = t.from_account""",  # noqa: E501
        None,
        None,
    ),
    (
        f"""SELECT 'PAID_TO', t.id, k.node, t.ts_utc, CAST(t.amount AS DOUBLE), t.id, json_object('currency', t.currency, 'date', {DAY_SQL}), {_prov("t")}
        FROM transactions t JOIN identifier_keys k ON k.kind = {keys.rail_kind_sql("t.rail")} AND k.value = t.to_account""",  # noqa: E501
        None,
        None,
    ),
    # where each record came from
    *(
        (f"""SELECT 'FROM_EXHIBIT', id, 'Exhibit:' || exhibit_sha256, NULL, 1, id, NULL, {PROV} FROM {t}""", None, EXHIBIT)
        for t in ("messages", "calls", "transactions")
    ),
]


# sources that can give the same edge twice: one record may carry the same identifier in two raw
# forms (a JID and a number), or name it twice; USES comes from three sources
_REPEATABLE = ("USES", "SENT", "TO", "MENTIONS", "IN_CALL")


def build(store: CaseStore) -> None:
    """Rebuild `nodes` and `edges` from the store and the current entity resolution.

    Each source is inserted on its own, streaming: node ids differ between sources by construction
    (labelled prefixes, record ids), and edges that can repeat are de-duplicated afterwards on
    their ids alone (keeping the first by exhibit and locator), so no step has to hold whole rows
    of a 5M-edge graph in memory at once."""
    keys.refresh(store)
    with store.unordered(), store.transaction() as con:
        con.execute("DELETE FROM nodes")
        con.execute("DELETE FROM edges")
        for sql in _NODES:
            con.execute(f"INSERT INTO nodes {sql.replace('{chat}', CHAT_ID)}")
        for sql, src, dst in _EDGES:  # only between nodes that exist
            ends = "".join(
                f" SEMI JOIN (SELECT id FROM nodes WHERE label IN ({', '.join(map(repr, labels))})) {end[0]} ON {end[0]}.id = e.{end}"
                for end, labels in (("src", src), ("dst", dst))
                if labels
            )
            con.execute(f"""INSERT INTO edges (src, dst, kind, ts_utc, weight, record_id, attrs, {PROV})
                            SELECT src, dst, kind, ts_utc, weight, record_id, attrs, {PROV}
                            FROM ({sql}) AS e(kind, src, dst, ts_utc, weight, record_id, attrs, {PROV}){ends}""")
        # an edge given twice has one id: only ids whose hash repeats are compared (at a million messages, few). The
        # first by exhibit, locator and record stays; one record giving it by two routes (a contact card's phone, and
        # the card) keeps the wording that sorts first (the identifier's role, "contact"), so every build keeps the same one
        kinds = ", ".join(f"'{k}'" for k in _REPEATABLE)
        con.execute(f"""DELETE FROM edges WHERE rowid IN (
                            SELECT rowid FROM edges WHERE kind IN ({kinds}) AND hash(id) IN (
                                SELECT hash(id) AS h FROM edges WHERE kind IN ({kinds}) GROUP BY h HAVING count(*) > 1)
                            QUALIFY row_number() OVER (
                                PARTITION BY id ORDER BY exhibit_sha256, locator, record_id, CAST(attrs AS VARCHAR)) > 1)""")
        explore.build_ties(store)  # the explorer's per-party tie rows, from the graph just built
