"""The property graph, built from the case store in SQL (DuckDB) into two tables: `nodes` and `edges`.

Nodes: Person (resolved entities), Phone, Email, Account (platform ids and usernames),
BankAccount, Wallet, NIC, Passport, Chat, Message, OcrText (text read from an image), Call,
Transaction, Exhibit.
Relationships, each carrying the provenance of the record it comes from (exhibit SHA-256,
parser and version, locator, record id):

    (Person)-[:USES]->(Phone|Email|Account|BankAccount|Wallet|NIC|Passport)
    (Phone|Account|Person)-[:SENT]->(Message)-[:IN]->(Chat)      (Message)-[:TO]->(Phone|Account)
    (Message|OcrText)-[:MENTIONS]->(identifier)               (identifier)-[:IN_CALL]->(Call)
    (BankAccount|Wallet)-[:PAID]->(Transaction)-[:PAID_TO]->(BankAccount|Wallet)
    (Message|Call|Transaction)-[:FROM_EXHIBIT]->(Exhibit)

A Message, Call or Transaction node's id is its record id, so every node of those labels is one
record in the store. Building again replaces the graph (it is derived data).
"""

from __future__ import annotations

from ..store import EDGES_WRITTEN, CaseStore
from . import explore, keys, resolve

VERSION = "1.0.0"
PROV = "exhibit_sha256, parser, parser_version, locator"
DAY_SQL = "CASE WHEN t.ts_precision = 'day' THEN strftime(t.ts_local, '%Y-%m-%d') END"  # a date-only transfer's date


def _prov(alias: str) -> str:
    """The provenance columns of one table in a join: 'i.exhibit_sha256, i.parser, …'."""
    return ", ".join(f"{alias}.{c}" for c in PROV.split(", "))


# (label, node id, name, props) per source; identifier nodes come from identifier_keys
_NODES = [
    """SELECT 'Exhibit:' || sha256, 'Exhibit', exhibit_id || ' ' || coalesce(original_name, ''),
              json_object('sha256', sha256, 'exhibit_id', exhibit_id, 'file', original_name, 'format', format, 'seized_from', seized_from)
       FROM exhibits""",
    """SELECT DISTINCT ON (node) node, split_part(node, ':', 1), key, json_object('kind', key_kind, 'value', key, 'valid', valid, 'detail', detail)
       FROM identifier_keys ORDER BY node, valid DESC""",  # noqa: E501
    """SELECT id, 'Person', label, attrs FROM entities WHERE kind = 'person'""",
    """SELECT DISTINCT ON (chat) chat, 'Chat', coalesce(chat_name, chat_id), json_object('platform', platform, 'chat_id', chat_id, 'exhibit_sha256', exhibit_sha256)
       FROM (SELECT *, {chat} AS chat FROM messages WHERE coalesce(chat_id, chat_name) IS NOT NULL) ORDER BY chat""",  # noqa: E501
    """SELECT id, 'Message', left(coalesce(text, kind), 80),
              json_object('platform', platform, 'ts_utc', ts_utc, 'ts_local', ts_local, 'utc_offset', utc_offset, 'direction', direction,
                          'kind', kind, 'text', text, 'sender', coalesce(sender_name, sender_id), 'locator', locator, 'exhibit_sha256', exhibit_sha256)
       FROM messages""",  # noqa: E501
    """SELECT id, 'OcrText', left(text, 80), json_object('confidence', confidence, 'text', text, 'locator', locator, 'exhibit_sha256', exhibit_sha256)
       FROM ocr_text""",  # noqa: E501
    """SELECT id, 'Call', coalesce(name, number), json_object('platform', platform, 'ts_utc', ts_utc, 'direction', direction, 'duration_s', duration_s,
              'number', number, 'locator', locator, 'exhibit_sha256', exhibit_sha256) FROM calls""",  # noqa: E501
    """SELECT id, 'Transaction', coalesce(CAST(amount AS VARCHAR), '?') || ' ' || coalesce(currency, ''),
              json_object('rail', rail, 'ts_utc', ts_utc, 'reference', reference, 'amount', CAST(amount AS VARCHAR), 'currency', currency,
                          'from', from_account, 'to', to_account, 'description', description, 'locator', locator, 'exhibit_sha256', exhibit_sha256)
       FROM transactions""",  # noqa: E501
]
CHAT_ID = "'Chat:' || platform || ':' || left(exhibit_sha256, 16) || ':' || coalesce(chat_id, chat_name)"

# (kind, src, dst, ts, weight, record id, attrs, provenance...) per relationship. Every record's id is its node's id,
# so "an end is a node of these labels" is a join on the table those nodes come from, not on `nodes`.
EDGE_COLS = f"kind, src, dst, ts_utc, weight, record_id, attrs, {PROV}"
PERSONS = "(SELECT id FROM entities WHERE kind = 'person')"  # the Person nodes
# every record node, with what an identifier's edge takes from it (a message's time; a call's time, duration and direction)
RECORDS = """SELECT id, 'Message' AS label, ts_utc, NULL::BIGINT AS duration_s, NULL::VARCHAR AS direction FROM messages
             UNION ALL SELECT id, 'OcrText', NULL, NULL, NULL FROM ocr_text
             UNION ALL SELECT id, 'Call', ts_utc, duration_s, direction FROM calls
             UNION ALL SELECT id, 'Transaction', NULL, NULL, NULL FROM transactions"""
# an identifier seen in a record: who sent a message (SENT, node -> message), whom it went to (TO, record -> node),
# what it mentions (MENTIONS, record -> node), who was on a call (IN_CALL, node -> call): one pass over the identifiers
ID_ROLES = {"sender": "SENT", "recipient": "TO", "mentioned": "MENTIONS", "counterpart": "IN_CALL"}
_ROLE_KIND = "CASE i.role " + " ".join(f"WHEN '{r}' THEN '{k}'" for r, k in ID_ROLES.items()) + " END"
_ROLES_IN = "role IN (" + ", ".join(f"'{r}'" for r in ID_ROLES) + ")"
_FROM_NODE = "i.role IN ('sender', 'counterpart')"  # the identifier is the edge's source (else its target)
_ID_EDGE_ID = f"{_ROLE_KIND} || '|' || CASE WHEN {_FROM_NODE} THEN k.node || '|' || i.record_id ELSE i.record_id || '|' || k.node END"
_NAMED_SENDER = "e.member = 'name:' || left(m.exhibit_sha256, 32) || ':' || m.sender_name"  # a sender known only by name


def _identifier_edges(only: str = "") -> str:
    """SENT, TO, MENTIONS and IN_CALL edges, with their ids; `only`: a table of record ids to keep to (else all)."""
    keep = f" SEMI JOIN {only} o ON o.record_id = i.record_id" if only else ""
    keep_m = f" SEMI JOIN {only} o ON o.record_id = m.id" if only else ""
    return f"""
        SELECT {_ID_EDGE_ID} AS id, {_ROLE_KIND}, CASE WHEN {_FROM_NODE} THEN k.node ELSE i.record_id END,
               CASE WHEN {_FROM_NODE} THEN i.record_id ELSE k.node END, CASE WHEN {_FROM_NODE} THEN r.ts_utc END,
               CASE WHEN i.role = 'counterpart' THEN coalesce(r.duration_s, 0) ELSE 1 END, i.record_id,
               CASE i.role WHEN 'mentioned' THEN json_object('context', i.context)
                           WHEN 'counterpart' THEN json_object('direction', r.direction) END, {_prov("i")}
        FROM (SELECT * FROM identifiers i{keep} WHERE i.{_ROLES_IN}) i
        JOIN identifier_keys k USING (kind, value) JOIN ({RECORDS}) r ON r.id = i.record_id
        WHERE (i.role = 'sender' AND r.label = 'Message') OR i.role IN ('recipient', 'mentioned')
              OR (i.role = 'counterpart' AND r.label = 'Call')
        UNION ALL
        SELECT 'SENT|' || e.entity_id || '|' || m.id, 'SENT', e.entity_id, m.id, m.ts_utc, 1, m.id, NULL, {_prov("m")}
        FROM messages m{keep_m} JOIN entity_members e ON {_NAMED_SENDER} SEMI JOIN {PERSONS} p ON p.id = e.entity_id
        WHERE m.sender_id IS NULL"""


# the rows those edges come from, by record and role; and the edges' ids alone (a superset of both: no record join)
_IDENTIFIER_ROWS = f"""
    SELECT record_id, role FROM identifiers WHERE {_ROLES_IN} AND record_id IS NOT NULL
    UNION ALL SELECT m.id, 'sender' FROM messages m JOIN entity_members e ON {_NAMED_SENDER} WHERE m.sender_id IS NULL"""
_IDENTIFIER_EDGE_IDS = f"""
    SELECT {_ID_EDGE_ID} AS id, i.record_id FROM identifiers i JOIN identifier_keys k USING (kind, value)
    WHERE i.{_ROLES_IN} AND i.record_id IS NOT NULL
    UNION ALL SELECT 'SENT|' || e.entity_id || '|' || m.id, m.id FROM messages m JOIN entity_members e ON {_NAMED_SENDER}
    WHERE m.sender_id IS NULL"""


def _repeating(con) -> bool:
    """Fill `_dup_records` with the records whose identifier edges may give one id twice; False when there are none.

    Two such edges with one id come from one record, in one role (one kind), unless a record id holds a '|' (then
    'SENT|a|b|c' could be two records' edges): so the rows are counted by record and role, or, when some record id holds
    a '|', by the edge id itself. Either way a superset: the edges of these records are compared by id."""
    piped = con.execute(f"SELECT count(*) FROM ({_IDENTIFIER_ROWS}) WHERE contains(record_id, '|')").fetchone()[0]
    key, rows = ("hash(id)", _IDENTIFIER_EDGE_IDS) if piped else ("hash(record_id, role)", _IDENTIFIER_ROWS)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _dup AS SELECT {key} AS h FROM ({rows}) GROUP BY h HAVING count(*) > 1")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _dup_records AS SELECT DISTINCT record_id FROM ({rows}) SEMI JOIN _dup ON h = {key}")
    return con.execute("SELECT count(*) FROM _dup_records").fetchone()[0] > 0


# a person uses the identifiers of their members; the record it rests on is where the identifier was stated as theirs
_USES = f"""
    SELECT 'USES', m.entity_id, k.node, NULL, 1, i.record_id, json_object('role', i.role), {_prov("i")}
    FROM entity_members m JOIN identifier_keys k ON m.member = 'id:' || k.node
    JOIN identifiers i ON i.kind = k.kind AND i.value = k.value AND i.role <> 'mentioned'
    QUALIFY row_number() OVER (PARTITION BY m.entity_id, k.node ORDER BY i.exhibit_sha256, i.locator) = 1
    UNION ALL
    SELECT 'USES', m.entity_id, k.node, NULL, 1, c.id, json_object('role', 'listed on contact card'), {_prov("c")}
    FROM entity_members m JOIN contacts c ON m.member = 'record:' || c.id
    JOIN identifiers i ON i.record_id = c.id AND i.role <> 'mentioned' JOIN identifier_keys k ON i.kind = k.kind AND i.value = k.value
    UNION ALL
    SELECT 'USES', m.entity_id, k.node, NULL, 1, t.id, json_object('role', 'account holder named'), {_prov("t")}
    FROM entity_members m JOIN identifier_keys k ON m.member = 'id:' || k.node
    JOIN transactions t ON k.kind = {keys.rail_kind_sql("t.rail")} AND k.value IN (t.from_account, t.to_account)
    WHERE (t.from_account = k.value AND t.from_name IS NOT NULL) OR (t.to_account = k.value AND t.to_name IS NOT NULL)
    QUALIFY row_number() OVER (PARTITION BY m.entity_id, k.node ORDER BY t.exhibit_sha256, t.locator) = 1"""

# edges no source gives twice: where a message was written, money, and where each record came from
_ONCE = [
    f"SELECT 'IN', id, {CHAT_ID}, ts_utc, 1, id, NULL, {PROV} FROM messages WHERE coalesce(chat_id, chat_name) IS NOT NULL",
    # `date`: the statement's date when it gives no time (ts_utc is then only the start of that day)
    f"""SELECT 'PAID', k.node, t.id, t.ts_utc, CAST(t.amount AS DOUBLE), t.id, json_object('currency', t.currency, 'date', {DAY_SQL}), {_prov("t")}
        FROM transactions t JOIN identifier_keys k ON k.kind = {keys.rail_kind_sql("t.rail")} AND k.value = t.from_account""",  # noqa: E501
    f"""SELECT 'PAID_TO', t.id, k.node, t.ts_utc, CAST(t.amount AS DOUBLE), t.id, json_object('currency', t.currency, 'date', {DAY_SQL}), {_prov("t")}
        FROM transactions t JOIN identifier_keys k ON k.kind = {keys.rail_kind_sql("t.rail")} AND k.value = t.to_account""",  # noqa: E501
    *(
        f"""SELECT 'FROM_EXHIBIT', id, 'Exhibit:' || exhibit_sha256, NULL, 1, id, NULL, {PROV} FROM {t}
            SEMI JOIN exhibits x ON x.sha256 = exhibit_sha256"""
        for t in ("messages", "calls", "transactions")
    ),
]
# the edge kept of several with one id: the first by exhibit, locator and record; one record giving it by two routes (a
# contact card's phone, and the card) keeps the wording that sorts first (the identifier's role, "contact"), so every
# build keeps the same one
FIRST = "QUALIFY row_number() OVER (PARTITION BY id ORDER BY exhibit_sha256, locator, record_id, CAST(attrs AS VARCHAR)) = 1"


def build(store: CaseStore) -> dict[str, int]:
    """Rebuild `nodes` and `edges` from the store and the current entity resolution.

    One INSERT per table, every row computed before it is written: rows deleted in the transaction
    that inserted them would make DuckDB write the whole table to its log at commit (gigabytes at a
    million messages) instead of keeping the row groups it already wrote. Edges that can repeat
    (one record carrying the same identifier in two raw forms, a JID and a number, or naming it
    twice; USES from three sources) are made unique by id before they are written: only ids whose
    hash repeats are compared (at a million messages, few)."""
    keys.refresh(store)
    with store.unordered(), store.transaction() as con:
        con.execute("DELETE FROM nodes")
        con.execute("DELETE FROM edges")
        con.execute(f"INSERT INTO nodes {' UNION ALL '.join(f'({sql})' for sql in _NODES).replace('{chat}', CHAT_ID)}")
        ident = f"SELECT * EXCLUDE (id) FROM ({_identifier_edges()}) AS e(id, {EDGE_COLS})"
        if _repeating(con):  # the other records' edges as they come; these records' the first of each id
            ident = f"""{ident} ANTI JOIN _dup_records d ON d.record_id = e.record_id UNION ALL
                        SELECT * EXCLUDE (id) FROM (SELECT * FROM ({_identifier_edges("_dup_records")}) AS e(id, {EDGE_COLS}) {FIRST})"""
        uses = f"SELECT kind || '|' || src || '|' || dst AS id, * FROM ({_USES}) AS u({EDGE_COLS}) SEMI JOIN {PERSONS} p ON p.id = u.src"
        sources = [f"SELECT * EXCLUDE (id) FROM ({uses} {FIRST})"]
        sources += [ident, *_ONCE]
        union = " UNION ALL ".join(f"({sql})" for sql in sources)
        cols = EDGES_WRITTEN  # the id is computed from kind, src and dst (store)
        con.execute(f"INSERT INTO edges ({cols}) SELECT {cols} FROM ({union}) AS e({EDGE_COLS})")
        con.execute("DROP TABLE IF EXISTS _dup; DROP TABLE IF EXISTS _dup_records")
        explore.build_ties(store)  # the explorer's per-party tie rows, from the graph just built
    return {r["label"]: r["n"] for r in store.rows("SELECT label, count(*) AS n FROM nodes GROUP BY label ORDER BY label")} | {
        r["kind"]: r["n"] for r in store.rows("SELECT kind, count(*) AS n FROM edges GROUP BY kind ORDER BY kind")
    }


def rebuild(store: CaseStore, auto: float = resolve.AUTO, review: float = resolve.REVIEW) -> tuple[dict, dict]:
    """Resolve entities, then build the graph on them: (entity counts, graph counts)."""
    counts = resolve.write(store, resolve.resolve(store, auto=auto, review=review))
    return counts, build(store)


def ensure(store: CaseStore) -> None:
    """Resolve and build when the case has no graph yet."""
    if store.count("nodes") == 0:
        rebuild(store)
