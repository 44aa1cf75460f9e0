"""Entity resolution: which records are one person.

Every record that observes a person becomes a *member*: a contact card or goAML party
(`record:<id>`), an identifier that sent, received, called or held money (`id:<node key>`), and a
display name that sent messages on one device with no number beside it (`name:<exhibit>:<name>`).
Members join in this order, strongest first:

1. an examiner's decision to merge (`entities merge`);
2. a strong identifier: a contact card or goAML party lists the phone, email, NIC, account ... (the
   identifier member is the same node wherever it appears, so the same number in two exhibits joins);
3. names (`names.similarity`) at or above the automatic threshold, between groups that share a
   word of their names, when another field of the two records agrees and none a person has one of
   disagrees (`corroborate`: date of birth, address, one device); a name alone never joins.

A join is refused when it would put together members an examiner split apart (`entities split`)
or two different values of a kind a person has one of (NIC, passport). Every join is stored with
its evidence (which identifier or names agreed, the score, the records) and can be reviewed;
name pairs between the review and automatic thresholds, and those at the automatic threshold that
nothing else corroborates, are written as findings for review.
Resolution is a function of the case data and the examiner's decisions, so running it again
gives the same entities with the same ids.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
from scipy import sparse
from scipy.sparse import csgraph

from ..errors import CaseGraphError
from ..findings import Finding, write_findings
from ..store import CaseStore, to_json
from . import corroborate, keys, name_bounds, narration
from .names import parse, similarity

VERSION = "1.0.0"
AUTO = 0.9
REVIEW = 0.6
EVIDENCE_CAP = 200  # records listed per entity; the count says how many there are


@dataclass
class Member:
    key: str
    names: Counter = field(default_factory=Counter)
    ids: set[tuple[str, str]] = field(default_factory=set)  # (kind, canonical)
    records: list[dict] = field(default_factory=list)


@dataclass
class Link:
    a: str
    b: str
    method: str  # decision | identifier | name
    score: float | None
    evidence: dict


@dataclass
class Resolution:
    members: pa.Array  # member keys, sorted; member i is members[i]
    entity: np.ndarray  # member i's group (equal numbers: one entity)
    links: list[Link]
    refused: list[Link]
    candidates: list[Link]

    @property
    def entities(self) -> dict[str, list[str]]:
        """entity id → members (a Python dict of every member: for small cases and tests)."""
        groups: dict[int, list[str]] = defaultdict(list)
        for m, g in zip(self.members.to_pylist(), self.entity.tolist(), strict=True):
            groups[g].append(m)
        return {_entity_id(ms): ms for ms in groups.values()}


def _entity_id(members: list[str]) -> str:
    return "person:" + hashlib.sha256(min(members).encode()).hexdigest()[:16]


# -- members from the store, as tables ----------------------------------------------------------------
# Every observation of a member: an identifier it states (kind, key), a name beside it (with a count), a
# record it rests on, and `src`, the order its records are listed in (then exhibit, locator, record).
# An identifier row that states a member: its identifier member (`id:<node>`, src 0) and, on a contact card, the card.
# The identifier members' rows are counted per (kind, value, name) before they meet identifier_keys: at a million
# phones that join sees a million rows, not five (a contact card's id is 'contacts/...': split_part(id, '/', 1) = 'contacts').
_STATED = "i.role <> 'mentioned' AND i.record_id IS NOT NULL AND k.valid"
_OBS = """
WITH stated AS NOT MATERIALIZED (
    SELECT i.kind, i.value, i.record_id, i.locator, i.exhibit_sha256,
           starts_with(i.record_id, 'contacts/') OR i.record_id = 'contacts' AS card,
           coalesce(c.name, CASE WHEN i.role = 'sender' THEN m.sender_name END, CASE WHEN i.role = 'counterpart' THEN l.name END) AS name
    FROM identifiers i
    LEFT JOIN (SELECT id, name FROM contacts WHERE name IS NOT NULL) c ON c.id = i.record_id
    LEFT JOIN (SELECT id, sender_name FROM messages WHERE sender_name IS NOT NULL) m ON i.role = 'sender' AND m.id = i.record_id
    LEFT JOIN (SELECT id, name FROM calls WHERE name IS NOT NULL) l ON i.role = 'counterpart' AND l.id = i.record_id
    WHERE i.role <> 'mentioned' AND i.record_id IS NOT NULL),
money AS (
    SELECT k.key_kind, k.key, k.node, t.{side}_name AS name, count(*) AS n, min(t.id) AS record_id, min(t.locator) AS locator,
           min(t.exhibit_sha256) AS exhibit_sha256
    FROM transactions t JOIN identifier_keys k ON k.kind = {rk} AND k.value = t.{side}_account
    WHERE t.{side}_name IS NOT NULL AND k.valid GROUP BY ALL)
SELECT 'id:' || k.node AS member, k.key_kind, k.key, s.name, sum(s.n)::BIGINT AS n,
       NULL AS record_id, NULL AS tbl, NULL AS locator, NULL AS exhibit_sha256, 0 AS src
FROM (SELECT kind, value, CASE WHEN NOT card THEN name END AS name, count(*) AS n FROM stated GROUP BY ALL) s
JOIN identifier_keys k ON k.kind = s.kind AND k.value = s.value WHERE k.valid GROUP BY k.node, k.key_kind, k.key, s.name
UNION ALL
SELECT 'record:' || s.record_id, k.key_kind, k.key, s.name, 1, s.record_id, 'contacts', s.locator, s.exhibit_sha256, 1
FROM stated s JOIN identifier_keys k ON k.kind = s.kind AND k.value = s.value WHERE s.card AND k.valid
UNION ALL
SELECT 'record:' || id, NULL, NULL, name, 1, id, 'contacts', locator, exhibit_sha256, 2 FROM contacts c
WHERE name IS NOT NULL AND NOT EXISTS (SELECT 1 FROM identifiers i WHERE starts_with(i.record_id, 'contacts/') AND i.record_id = c.id)
UNION ALL
SELECT 'name:' || left(exhibit_sha256, 32) || ':' || sender_name, NULL, NULL, sender_name, count(*), min(id), 'messages', min(locator),
       exhibit_sha256, 3
FROM messages WHERE sender_name IS NOT NULL AND sender_id IS NULL GROUP BY exhibit_sha256, sender_name
UNION ALL
SELECT 'id:' || node, key_kind, key, name, n, record_id, 'transactions', locator, exhibit_sha256, 4 FROM money_from
UNION ALL
SELECT 'id:' || node, key_kind, key, name, n, record_id, 'transactions', locator, exhibit_sha256, 5 FROM money_to
"""


def _member_tables(store: CaseStore, auto: float) -> list[narration.NarrationLink]:
    """_er_obs (observations) and _er_members (i, member: sorted keys). Returns the narration links, whose
    accounts are members too (an account a narration names becomes one, as a holder name beside it would).
    An identifier member's rows are one per name beside it, counted, without their records: at a million
    messages they are most of the rows, and only the records of cited members are read (_cited_obs)."""
    rk = keys.rail_kind_sql("t.rail")
    money = _OBS[_OBS.index("money AS (") + len("money AS (") : _OBS.index("SELECT 'id:' || k.node AS member")].rsplit(")", 1)[0]
    sql = (
        _OBS.replace(
            "money AS (" + money + ")",
            "money_from AS (" + money.replace("{side}", "from") + "), money_to AS (" + money.replace("{side}", "to") + ")",
        )
        .replace("{rk}", rk)
        .replace("{stated}", _STATED)
    )
    con = store.con
    with store.unordered():
        con.execute(f"CREATE OR REPLACE TEMP TABLE _er_obs AS {sql}")
        narrated = _narrated(store, auto)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _er_members AS SELECT (row_number() OVER (ORDER BY member) - 1)::BIGINT AS i, member "
            "FROM (SELECT DISTINCT member FROM _er_obs)"
        )
    return narrated


def _narrated(store: CaseStore, auto: float) -> list[narration.NarrationLink]:
    """Bank narrations naming an account's holder ("CEFT DR M RIZWAN 8001234501", graph/narration.py), read
    only when some narration carries an account number; their accounts are added to _er_obs."""
    if not store.one("SELECT 1 FROM transactions WHERE regexp_matches(description, '\\d{6}') LIMIT 1"):
        return []
    names = store.con.execute("SELECT member, list(DISTINCT name ORDER BY name) FROM _er_obs WHERE name IS NOT NULL GROUP BY member")
    narrated = narration.links(store, dict(names.fetchall()), auto)
    for nl in narrated:
        r = nl.records[0]
        store.con.execute(
            "INSERT INTO _er_obs SELECT ?, ?, ?, NULL, 1, ?, 'transactions', ?, ?, 6 "
            "WHERE NOT EXISTS (SELECT 1 FROM _er_obs WHERE member = ?)",
            [nl.a, nl.identifier[0], nl.identifier[1], r["record"], r["locator"], r["exhibit_sha256"], nl.a],
        )
    return narrated


def _cited_obs(members: str) -> str:
    """SQL: the observations of the members in table `members` (column `member`) with their records: _er_obs's,
    and an identifier member's identifier rows read again (its rows in _er_obs are counted, without records)."""
    return f"""
        SELECT member, record_id, tbl, locator, exhibit_sha256, src FROM _er_obs SEMI JOIN {members} w USING (member) WHERE src <> 0
        UNION ALL
        SELECT 'id:' || k.node, i.record_id, split_part(i.record_id, '/', 1), i.locator, i.exhibit_sha256, 0
        FROM identifiers i JOIN (SELECT kind, value, node, valid FROM identifier_keys  -- the cited members' keys first: few
                                 WHERE node IN (SELECT substr(member, 4) FROM {members} WHERE starts_with(member, 'id:'))) k
        ON k.kind = i.kind AND k.value = i.value WHERE {_STATED}"""


def _records(store: CaseStore, members: str) -> None:
    """_er_records: the records of the members in table `members` (column `member`), in order, EVIDENCE_CAP at
    most, a contact card's first one only. Only members a person or a link cites are listed: at a million
    members most are a number nobody is named beside, whose records nothing cites."""
    with store.unordered():
        store.con.execute(f"""CREATE OR REPLACE TEMP TABLE _er_records AS
            SELECT member, rn, {{'record': record_id, 'table': tbl, 'locator': locator, 'exhibit_sha256': exhibit_sha256}} AS rec FROM (
                SELECT *, row_number() OVER (PARTITION BY member ORDER BY src, exhibit_sha256, locator, record_id) AS rn
                FROM ({_cited_obs(members)}))
            WHERE rn <= CASE WHEN starts_with(member, 'record:') THEN 1 ELSE {EVIDENCE_CAP} END""")


def _rec(r: dict | None) -> list[dict]:
    return [dict(r)] if r else []


class _Forest:
    """Union-find over member numbers for the few members whose joins need checking one by one."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, k: int) -> int:
        p = self.parent.setdefault(k, k)
        while p != k:
            self.parent[k] = self.parent.setdefault(p, p)
            k, p = p, self.parent[p]
        return k


# -- union-find with cannot-links -----------------------------------------------------------------
class _Groups:
    def __init__(self, members: dict[str, Member], cannot: dict[str, set[str]]):
        self.parent = {k: k for k in members}
        self.items = {k: {k} for k in members}
        self.exclusive = {k: {i for i in m.ids if i[0] in keys.EXCLUSIVE} for k, m in members.items()}
        self.cannot = cannot

    def find(self, k: str) -> str:
        while self.parent[k] != k:
            self.parent[k] = self.parent[self.parent[k]]
            k = self.parent[k]
        return k

    def why_not(self, a: str, b: str) -> str | None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return "already together"
        small, big = sorted((self.items[ra], self.items[rb]), key=len)
        for x in small:
            if self.cannot.get(x, set()) & big:
                return f"an examiner split {x} from this group"
        ea, eb = self.exclusive[ra], self.exclusive[rb]
        for kind in keys.EXCLUSIVE:
            va, vb = {v for k, v in ea if k == kind}, {v for k, v in eb if k == kind}
            if va and vb and not va & vb:
                return f"different {kind.upper()}: {', '.join(sorted(va))} / {', '.join(sorted(vb))}"
        return None

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if len(self.items[ra]) < len(self.items[rb]):
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.items[ra] |= self.items.pop(rb)
        self.exclusive[ra] |= self.exclusive.pop(rb)


def _decisions(store: CaseStore) -> tuple[list[tuple[str, str, str]], dict[str, set[str]]]:
    merges, cannot = [], defaultdict(set)
    for d in store.rows("SELECT action, a, b, reason FROM er_decisions ORDER BY seq"):
        if d["action"] == "merge":
            merges.append((d["a"], d["b"], d["reason"] or ""))
        elif d["action"] == "split":
            cannot[d["a"]].add(d["b"]), cannot[d["b"]].add(d["a"])
    return merges, cannot


def resolve(store: CaseStore, auto: float = AUTO, review: float = REVIEW) -> Resolution:
    """Members and their joins, in the order of the module docstring. Links are numbered in the order a
    one-by-one union-find would try them; the groups come from connected components over all of them
    (scipy), and only groups where a join could be refused (an examiner's split, two values of an
    exclusive kind) or that close a cycle are replayed one link at a time."""
    keys.refresh(store)
    narrated = _member_tables(store, auto)
    con = store.con
    keys_ = con.sql("SELECT member FROM _er_members ORDER BY i").to_arrow_table().column("member").combine_chunks()
    n = len(keys_)
    index = _Index(con)
    merges, cannot = _decisions(store)
    # 1. decisions, 2. a record listing an identifier, 2b. narrations, 3. names at or above `auto` (best first)
    la: list[np.ndarray] = []
    lb: list[np.ndarray] = []
    dnum = index.many([x for a, b, _ in merges for x in (a, b)]).reshape(-1, 2) if merges else np.zeros((0, 2), dtype=np.int64)
    dec = [m for m, (x, y) in zip(merges, dnum, strict=True) if x >= 0 and y >= 0]
    dnum = dnum[(dnum >= 0).all(axis=1)]
    made = [Link(x, y, "decision", 1.0, {"reason": reason}) for x, y, reason in dec]
    ids = con.sql("""SELECT o.member AS card, ma.i AS a, mb.i AS b, o.key_kind, o.key
                     FROM (SELECT DISTINCT member, key_kind, key FROM _er_obs WHERE starts_with(member, 'record:') AND key IS NOT NULL) o
                     JOIN _er_members ma ON ma.member = o.member
                     JOIN (SELECT DISTINCT key_kind, key, node FROM identifier_keys) k ON k.key_kind = o.key_kind AND k.key = o.key
                     JOIN _er_members mb ON mb.member = 'id:' || k.node
                     ORDER BY o.member, o.key_kind, o.key""").to_arrow_table()
    pairs = _name_pairs(store, review)
    # a name alone never joins: only pairs another field corroborates (graph/corroborate.py); the rest are for review
    auto_pairs, blocked = corroborate.split(store, [p for p in pairs if p.score is not None and p.score >= auto])
    joined = {id(p) for p in auto_pairs + blocked}
    # 2b. a bank narration naming an account's holder
    told = [Link(nl.a, nl.b, "narration", nl.score, nl.evidence) for nl in narrated]
    na, nb = index.many([x.a for x in told]), index.many([x.b for x in told])
    told = [x for x, i, j in zip(told, na, nb, strict=True) if i >= 0 and j >= 0]
    na, nb = na[(na >= 0) & (nb >= 0)], nb[(na >= 0) & (nb >= 0)]
    la += [dnum[:, 0], ids.column("a").to_numpy().astype(np.int64), na, index.many([p.a for p in auto_pairs])]
    lb += [dnum[:, 1], ids.column("b").to_numpy().astype(np.int64), nb, index.many([p.b for p in auto_pairs])]
    src, dst = np.concatenate(la), np.concatenate(lb)
    n_dec, n_ids, n_told = len(dec), ids.num_rows, len(told)

    # the identifier links' columns as Python lists, taken once (not one Arrow scalar per link)
    id_cols = {c: ids.column(c).to_pylist() for c in ("card", "key_kind", "key")}
    id_members = keys_.take(pa.array(dst[n_dec : n_dec + n_ids])).to_pylist()

    def link(j: int) -> Link:
        if j < n_dec:
            return made[j]
        if j < n_dec + n_ids:
            r = j - n_dec
            kind, value = id_cols["key_kind"][r], id_cols["key"][r]
            evidence = {"identifier": {"kind": kind, "value": value}, "records": None}
            return Link(id_cols["card"][r], id_members[r], "identifier", 1.0, evidence)
        if j < n_dec + n_ids + n_told:
            return told[j - n_dec - n_ids]
        return auto_pairs[j - n_dec - n_ids - n_told]

    graph = sparse.coo_matrix((np.ones(len(src)), (src, dst)), shape=(n, n))
    n_groups, group = csgraph.connected_components(graph, directed=False)
    size = np.bincount(group, minlength=n_groups)
    per_group = np.bincount(group[src], minlength=n_groups)
    # groups where a join may be refused: a member an examiner split off, or two values of an exclusive kind
    check = np.zeros(n_groups, dtype=bool)
    split = index.many(sorted(cannot))
    check[group[split[split >= 0]]] = True
    excl = con.sql(f"""SELECT m.i, o.key_kind, o.key FROM (SELECT DISTINCT member, key_kind, key FROM _er_obs
                        WHERE key_kind IN ({", ".join(f"'{k}'" for k in sorted(keys.EXCLUSIVE))})) o JOIN _er_members m USING (member)""").fetchnumpy()  # noqa: E501
    if len(excl["i"]):
        ei = excl["i"].astype(np.int64)
        seen: dict[tuple[int, str], set[str]] = defaultdict(set)
        for g_, kind, value in zip(group[ei], excl["key_kind"], excl["key"], strict=True):
            seen[(int(g_), str(kind))].add(str(value))
        for (g_, _), values in seen.items():
            if len(values) > 1:
                check[g_] = True
    replay = check | (per_group != size - 1)  # a cycle: some of its links only repeat a join
    linked = ~replay[group[src]]
    links = [link(int(j)) for j in np.flatnonzero(linked)]
    refused: list[Link] = []
    entity = group.copy()
    todo = np.flatnonzero(~linked)
    if len(todo):
        links += _replay(store, [link(int(j)) for j in todo], cannot, entity, index, refused)
    links = _with_records(store, links)
    low = [p for p in pairs if id(p) not in joined]
    ends = entity[index.many([p.a for p in low])], entity[index.many([p.b for p in low])]
    candidates = [p for p, x, y in zip(low, *ends, strict=True) if x != y]
    refused += blocked  # name pairs a date of birth, NIC or passport contradicts
    return Resolution(keys_, entity, links, refused, candidates)


class _Index:
    """Member key ↔ number, looked up in DuckDB (no dict of every member in Python)."""

    def __init__(self, con) -> None:
        self.con = con

    def many(self, members: list[str]) -> np.ndarray:
        if not members:
            return np.zeros(0, dtype=np.int64)
        self.con.register("_er_want", pa.table({"member": pa.array(members, pa.string()), "pos": np.arange(len(members))}))
        try:
            got = self.con.sql("SELECT w.pos, m.i FROM _er_want w LEFT JOIN _er_members m USING (member)").fetchnumpy()
        finally:
            self.con.unregister("_er_want")
        out = np.full(len(members), -1, dtype=np.int64)
        i = got["i"]
        ok = ~np.ma.getmaskarray(i) if np.ma.isMaskedArray(i) else np.ones(len(i), dtype=bool)
        out[got["pos"][ok].astype(np.int64)] = np.asarray(i[ok], dtype=np.int64)
        return out


def _first_records(store: CaseStore, members: set[str]) -> dict[str, dict]:
    if not members:
        return {}
    store.id_table("_er_first", members)
    store.con.execute("CREATE OR REPLACE TEMP TABLE _er_first_m AS SELECT id AS member FROM _er_first")
    rows = store.con.execute(f"""SELECT member, arg_min({{'record': record_id, 'table': tbl, 'locator': locator, 'exhibit_sha256': exhibit_sha256}},
                                                         (src, exhibit_sha256, locator, record_id))
                                 FROM ({_cited_obs("_er_first_m")}) GROUP BY member""").fetchall()  # noqa: E501
    return {r[0]: dict(r[1]) for r in rows}


def _with_records(store: CaseStore, links: list[Link]) -> list[Link]:
    """Identifier links cite the card's first record; name links the first record of each side."""
    need = {x.a for x in links if x.method in ("identifier", "name")} | {x.b for x in links if x.method == "name"}
    first = _first_records(store, need)
    for x in links:
        if x.method == "identifier" and x.evidence.get("records") is None:
            x.evidence["records"] = _rec(first.get(x.a))
    return links


def _replay(
    store: CaseStore, todo: list[Link], cannot: dict[str, set[str]], entity: np.ndarray, index: _Index, refused: list[Link]
) -> list[Link]:
    """The one-by-one union-find (with refusals) over the links of the groups that need it."""
    involved = sorted({x.a for x in todo} | {x.b for x in todo})
    want = store.id_table("_er_replay", involved)
    members = {k: Member(k) for k in involved}
    for m, kind, value in store.con.execute(
        f"SELECT DISTINCT member, key_kind, key FROM _er_obs SEMI JOIN {want} w ON w.id = member WHERE key IS NOT NULL"
    ).fetchall():
        members[m].ids.add((kind, value))
    groups = _Groups(members, cannot)
    made = []
    for link in todo:
        why = groups.why_not(link.a, link.b)
        if why is None:
            groups.union(link.a, link.b)
            made.append(link)
        elif why != "already together":
            link.evidence["refused"] = why
            refused.append(link)
    num = index.many(involved)
    roots = index.many([groups.find(k) for k in involved])
    entity[num] = len(entity) + roots  # fresh labels: a replayed group may split where the components joined
    return made


def _name_pairs(store: CaseStore, review: float) -> list[Link]:
    """Name pairs worth a look: members blocked on a shared word key (blocks of more than 500 skipped), each
    distinct pair of names that could reach `review` (name_bounds, in bulk) scored once by names.similarity,
    the best pair of names per pair of members; best first."""
    con = store.con
    con.execute("""CREATE OR REPLACE TEMP TABLE _er_names AS
                   SELECT member, name, sum(n)::BIGINT AS n FROM _er_obs WHERE name IS NOT NULL GROUP BY ALL""")
    names = con.sql("SELECT DISTINCT name FROM _er_names ORDER BY name").to_arrow_table().column("name").to_pylist()
    parsed = [parse(x) for x in names]  # once per distinct name; the pairs are then compared in bulk
    elements = name_bounds.elements(parsed)
    # each name's distinct word keys, the blocks (from the elements: the keys are folded once)
    owner = np.repeat(np.arange(len(names), dtype=np.int64), np.diff(elements.start))
    word = elements.key >= 0
    width = max(len(elements.keys), 1)  # a block number is name * width + key
    block = np.unique(owner[word] * width + elements.key[word])
    block_keys = pa.array(elements.keys, pa.string()).take(pa.array(block % width))
    con.register("_er_name_ids", pa.table({"name": pa.array(names, pa.string()), "nid": np.arange(len(names), dtype=np.int64)}))
    con.register("_er_name_keys", pa.table({"nid": block // width, "k": block_keys}))
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE _er_nid AS SELECT n.member, i.nid FROM _er_names n JOIN _er_name_ids i USING (name)")
        con.execute("""CREATE OR REPLACE TEMP TABLE _er_pairs AS
            WITH mk AS (SELECT DISTINCT m.member, k.k FROM _er_nid m JOIN _er_name_keys k USING (nid)),
            ok AS (SELECT k FROM mk GROUP BY k HAVING count(*) <= 500)
            SELECT DISTINCT x.member AS a, y.member AS b FROM mk x JOIN mk y ON x.k = y.k AND x.member < y.member SEMI JOIN ok ON ok.k = x.k""")  # noqa: E501
    finally:
        con.unregister("_er_name_keys")
        con.unregister("_er_name_ids")
    todo = con.sql("""SELECT DISTINCT na.nid AS x, nb.nid AS y FROM _er_pairs p JOIN _er_nid na ON na.member = p.a
                      JOIN _er_nid nb ON nb.member = p.b""").to_arrow_table()
    xs, ys = todo.column("x").to_numpy(), todo.column("y").to_numpy()
    near = np.flatnonzero(name_bounds.could_reach(elements, xs, ys, review))  # the rest cannot reach `review`
    sims = {(names[i], names[j]): similarity(parsed[i], parsed[j]) for i, j in zip(xs[near].tolist(), ys[near].tolist(), strict=True)}
    scored = [(x, y, s.score) for (x, y), s in sims.items() if s.score >= review]
    if not scored:
        return []
    con.register("_er_scores", pa.table({"x": [r[0] for r in scored], "y": [r[1] for r in scored], "score": [r[2] for r in scored]}))
    try:
        best = con.execute("""SELECT p.a, p.b, max(s.score) AS score, arg_max(s.x, (s.score, s.x, s.y)) AS x, arg_max(s.y, (s.score, s.x, s.y)) AS y
                              FROM _er_pairs p JOIN _er_names na ON na.member = p.a JOIN _er_names nb ON nb.member = p.b
                              JOIN _er_scores s ON s.x = na.name AND s.y = nb.name GROUP BY p.a, p.b""").fetchall()  # noqa: E501
    finally:
        con.unregister("_er_scores")
    first = _first_records(store, {r[0] for r in best} | {r[1] for r in best})  # a member's first record, read once
    out = [
        Link(
            a,
            b,
            "name",
            sims[(x, y)].score,
            {"names": [x, y], "reasons": list(sims[(x, y)].reasons), "records": [first[m] for m in (a, b) if m in first]},
        )
        for a, b, _, x, y in best
    ]
    return sorted(out, key=lambda link: (-(link.score or 0.0), link.a, link.b))


# -- writing ----------------------------------------------------------------------------------------
def write(store: CaseStore, res: Resolution, roles: dict[str, set[str]] | None = None) -> dict[str, int]:
    """Replace the entities, members and links with this resolution (in DuckDB, from the member tables
    resolve left); candidates become findings."""
    roles = roles if roles is not None else marked_roles(store)
    con = store.con
    con.register("_er_g_in", pa.table({"member": res.members, "g": res.entity}))
    role_rows = [(m, r) for m, rs in sorted(roles.items()) for r in sorted(rs)]
    con.register(
        "_er_roles_in",
        pa.table({"member": pa.array([m for m, _ in role_rows], pa.string()), "role": pa.array([r for _, r in role_rows], pa.string())}),
    )
    try:
        with store.unordered():
            con.execute("CREATE OR REPLACE TEMP TABLE _er_g AS SELECT * FROM _er_g_in")
            # only the groups that are people (a name, or a contact card) are aggregated: at a million members
            # most groups are an identifier alone, whose records would otherwise all be listed
            con.execute("""CREATE OR REPLACE TEMP TABLE _er_pm AS
                           SELECT member, g FROM _er_g WHERE g IN (SELECT g FROM _er_g WHERE starts_with(member, 'record:')
                                                               UNION SELECT g.g FROM _er_names n JOIN _er_g g USING (member))""")
        _records(store, "_er_pm")
        with store.unordered():
            con.execute(f"""CREATE OR REPLACE TEMP TABLE _er_ent AS
                WITH named AS (SELECT g.g, n.name, sum(n.n) AS n FROM _er_names n JOIN _er_pm g USING (member) GROUP BY ALL),
                names AS (SELECT g, to_json(map(list(name ORDER BY name), list(n ORDER BY name))) AS names, arg_max(name, (n, length(name), name)) AS label
                          FROM named GROUP BY g),
                ent AS (SELECT g, 'person:' || left(sha256(min(member)), 16) AS id, min(member) AS first, count(*) AS members,
                               bool_or(starts_with(member, 'record:')) AS card FROM _er_pm GROUP BY g),
                ids AS (SELECT g.g, list(DISTINCT {{'kind': o.key_kind, 'value': o.key}} ORDER BY {{'kind': o.key_kind, 'value': o.key}}) AS ids
                        FROM _er_obs o JOIN _er_pm g USING (member) WHERE o.key IS NOT NULL GROUP BY g.g),
                recs AS (SELECT g.g, list(r.rec ORDER BY r.member, r.rn) AS recs, list(DISTINCT r.rec.exhibit_sha256 ORDER BY r.rec.exhibit_sha256) AS exhibits,
                                count(*) AS n FROM _er_records r JOIN _er_pm g USING (member) GROUP BY g.g),
                rl AS (SELECT g.g, list(DISTINCT r.role ORDER BY r.role) AS roles FROM _er_roles_in r JOIN _er_pm g USING (member) GROUP BY g.g)
                SELECT e.g, e.id, coalesce(nm.label, e.first) AS label,
                       json_object('exhibits', coalesce(rc.exhibits, []), 'identifiers', coalesce(i.ids, []), 'members', e.members,
                                   'names', coalesce(nm.names, '{{}}'::JSON), 'records', coalesce(rc.n, 0), 'roles', coalesce(rl.roles, [])) AS attrs,
                       to_json(coalesce(rc.recs[1:{EVIDENCE_CAP}], [])) AS evidence
                FROM ent e LEFT JOIN names nm USING (g) LEFT JOIN ids i USING (g) LEFT JOIN recs rc USING (g) LEFT JOIN rl USING (g)
                WHERE true""")  # noqa: E501
        link_of = pa.table(
            {
                "a": pa.array([x.a for x in res.links], pa.string()),
                "b": pa.array([x.b for x in res.links], pa.string()),
                "method": pa.array([x.method for x in res.links], pa.string()),
                "score": pa.array([x.score for x in res.links], pa.float64()),
                "evidence": pa.array([to_json(x.evidence) for x in res.links], pa.string()),
            }
        )
        con.register("_er_links_in", link_of)
        with store.transaction():
            con.execute("DELETE FROM entities WHERE created_by = 'resolve'")
            con.execute("DELETE FROM entity_members")
            con.execute("DELETE FROM entity_links")
            con.execute(
                "INSERT INTO entities (id, kind, label, attrs, created_by, created_at, evidence) "
                "SELECT id, 'person', label, attrs, 'resolve', now(), evidence FROM _er_ent"
            )
            con.execute("INSERT INTO entity_members (entity_id, member) SELECT e.id, g.member FROM _er_g g JOIN _er_ent e USING (g)")
            con.execute("""INSERT INTO entity_links (entity_id, a, b, method, score, evidence)
                           SELECT e.id, l.a, l.b, l.method, l.score, l.evidence FROM _er_links_in l
                           JOIN _er_g g ON g.member = l.a JOIN _er_ent e USING (g)""")
        con.unregister("_er_links_in")
        people = con.execute("SELECT count(*) FROM _er_ent").fetchall()[0][0]
        involved = sorted({m for x in res.candidates + res.refused for m in (x.a, x.b)})
        member_entity = _entity_ids(store, involved)
    finally:
        con.unregister("_er_g_in")
        con.unregister("_er_roles_in")
    findings = [_candidate_finding(link, member_entity) for link in _one_per_pair(res.candidates, member_entity)] + [
        _refused_finding(link, member_entity) for link in res.refused
    ]
    write_findings(store, findings, "entity-resolution")
    return {"people": people, "links": len(res.links), "candidates": len(res.candidates), "refused": len(res.refused)}


def _entity_ids(store: CaseStore, members: list[str]) -> dict[str, str]:
    """The entity id of each member: its person's, else the id its group would have (an identifier nobody is named beside)."""
    if not members:
        return {}
    want = store.id_table("_er_who", members)
    rows = store.con.execute(f"""SELECT g.member, coalesce(e.id, 'person:' || left(sha256(f.first), 16)) FROM _er_g g SEMI JOIN {want} w ON w.id = g.member
                                 LEFT JOIN _er_ent e USING (g) JOIN (SELECT g, min(member) AS first FROM _er_g GROUP BY g) f USING (g)""").fetchall()  # noqa: E501
    return dict(rows)


def _one_per_pair(candidates: list[Link], member_entity: dict[str, str]) -> list[Link]:
    """One candidate per pair of persons (several of their members may match): the best-scoring link,
    citing the records of every link between the two."""
    best: dict[tuple[str, str], Link] = {}
    records: dict[tuple[str, str], dict[tuple, dict]] = defaultdict(dict)  # each record once, in the order first cited
    for link in candidates:
        x, y = sorted((member_entity[link.a], member_entity[link.b]))
        pair = (x, y)
        if x == y:
            continue  # already one person
        for r in link.evidence["records"]:
            records[pair].setdefault(tuple(sorted(r.items())), r)
        if pair not in best or (link.score, link.a, link.b) > (best[pair].score, best[pair].a, best[pair].b):
            best[pair] = link
    return [dataclasses.replace(link, evidence={**link.evidence, "records": list(records[p].values())}) for p, link in sorted(best.items())]


def _candidate_finding(link: Link, member_entity: dict[str, str]) -> Finding:
    x, y = link.evidence["names"]
    why = corroborate.wording(link.evidence)  # a pair at the automatic threshold: what else agreed or disagreed
    said = f"Names agree at {link.score:.2f}" + (
        f": {'; '.join(link.evidence['reasons'])}; not joined: {why}. "
        if why
        else f" (below the automatic threshold): {'; '.join(link.evidence['reasons'])}. "
    )
    return Finding(
        "possible-same-person",
        f"{link.a}|{link.b}",
        f"Possibly the same person: {x} / {y}",
        said + f"Review, then: casegraph entities merge CASE {member_entity[link.a]} {member_entity[link.b]}",
        "entity-resolution",
        VERSION,
        link.evidence["records"],
        link.score,
        {"entities": [member_entity[link.a], member_entity[link.b]], "members": [link.a, link.b]},
    )


def _refused_finding(link: Link, member_entity: dict[str, str]) -> Finding:
    return Finding(
        "resolution-conflict",
        f"{link.a}|{link.b}",
        "Link not made: " + link.evidence["refused"],
        f"{link.method} link between {link.a} and {link.b} refused: {link.evidence['refused']}.",
        "entity-resolution",
        VERSION,
        link.evidence.get("records", []),
        link.score,
        {"entities": [member_entity[link.a], member_entity[link.b]], "members": [link.a, link.b]},
    )


# -- examiner decisions -------------------------------------------------------------------------------
class EntityLookupError(CaseGraphError, LookupError):
    """A person or member the examiner named is not in the case, or names more than one."""


def find_entity(store: CaseStore, ref: str) -> dict:
    """The person an examiner means by `ref`: an entity id, a unique prefix of one (with or without
    `person:`), or a name that one person's records give (the label or any name seen), ignoring case."""
    ref = ref.strip()
    exact = store.rows("SELECT id, label, attrs FROM entities WHERE kind = 'person' AND id = ?", [ref])
    if exact:
        return exact[0]
    prefix = ref if ref.startswith("person:") else f"person:{ref}"
    found = store.rows("SELECT id, label, attrs FROM entities WHERE kind = 'person' AND starts_with(id, ?) ORDER BY id", [prefix])
    if not found:
        found = store.rows(
            """SELECT id, label, attrs FROM entities WHERE kind = 'person'
                              AND (lower(label) = lower(?) OR list_contains(
                                  list_transform(json_keys(json_extract(attrs, '$.names')), lambda x: lower(x)), lower(?)))
                              ORDER BY id""",
            [ref, ref],
        )
    if len(found) == 1:
        return found[0]
    if not found:
        raise EntityLookupError(f"no person {ref!r} in this case (see 'casegraph entities list')")
    raise EntityLookupError(
        f"{ref!r} could be {len(found)} people: " + "; ".join(f"{r['id']} ({r['label']})" for r in found[:5]) + "; give the id"
    )


def find_member(store: CaseStore, ref: str) -> list[str]:
    """The members `ref` stands for: a person's members (see find_entity), or one member key as
    `entities show` lists it. Nothing unknown is accepted, so no made-up id reaches the custody log."""
    if store.one("SELECT 1 FROM entity_members WHERE member = ?", [ref]):
        return [ref]
    return members_of(store, find_entity(store, ref)["id"])


def decide(store: CaseStore, action: str, a: str, b: str | None, reason: str, actor: str) -> None:
    seq = store.one("SELECT coalesce(max(seq), 0) + 1 FROM er_decisions")[0]
    store.con.execute("INSERT INTO er_decisions VALUES (?, ?, ?, ?, ?, ?, ?)", [seq, action, a, b, reason, actor, datetime.now(UTC)])


def members_of(store: CaseStore, entity_or_member: str) -> list[str]:
    rows = store.rows("SELECT member FROM entity_members WHERE entity_id = ? ORDER BY member", [entity_or_member])
    return [r["member"] for r in rows] or [entity_or_member]


def marked_roles(store: CaseStore) -> dict[str, set[str]]:
    """member → roles an examiner marked (victim, witness, suspect ...); the last mark per role wins."""
    roles: dict[str, set[str]] = defaultdict(set)
    for d in store.rows("SELECT action, a, b FROM er_decisions WHERE action IN ('mark', 'unmark') ORDER BY seq"):
        (roles[d["a"]].add if d["action"] == "mark" else roles[d["a"]].discard)(d["b"])
    return roles


def transaction_links(store: CaseStore) -> dict[str, str]:
    """Transaction ends that resolution put in one person (a bank account and a TRON wallet of one holder),
    each mapped to that person's entity id, so a money trace crosses between them. Only people with two
    or more ends are listed."""
    rows = store.con.execute(f"""
        WITH ends AS (SELECT DISTINCT rail, from_account AS v FROM transactions WHERE from_account IS NOT NULL
                      UNION SELECT DISTINCT rail, to_account FROM transactions WHERE to_account IS NOT NULL),
        held AS (SELECT DISTINCT e.v, m.entity_id FROM ends e
                 JOIN identifier_keys k ON k.kind = {keys.rail_kind_sql("e.rail")} AND k.value = e.v AND k.valid
                 JOIN entity_members m ON m.member = 'id:' || k.node)
        SELECT v, entity_id FROM held
        WHERE entity_id IN (SELECT entity_id FROM held GROUP BY entity_id HAVING count(*) > 1) ORDER BY v""").fetchall()
    return dict(rows)


def link_basis(store: CaseStore, links: dict[str, str]) -> dict[str, list[dict]]:
    """For each transaction end `transaction_links` joined, the evidence of its person: the resolution links that
    joined that entity (method, and the records they rest on) and the examiner's merge decisions among its members.
    A trace that crosses between the ends cites these."""
    entities = sorted(set(links.values()))
    if not entities:
        return {}
    basis: dict[str, list[dict]] = {}
    for r in store.rows(
        """SELECT entity_id, a, b, method, score, evidence FROM entity_links
                           WHERE entity_id IN (SELECT unnest(?)) ORDER BY entity_id, a, b, method""",
        [entities],
    ):
        ev = json.loads(r["evidence"] or "{}")
        basis.setdefault(r["entity_id"], []).append(
            {
                "table": "entity_links",
                "record": f"{r['entity_id']}: {r['a']} ~ {r['b']}",
                # a name link says every field that agreed: "name and date of birth link"
                "locator": f"{' and '.join(ev.get('fields') or [r['method']])} link",
                "score": r["score"],
                "evidence": ev.get("records", [])[:EVIDENCE_CAP],
            }
        )
    for r in store.rows(
        """SELECT d.seq, d.action, d.a, d.b, d.reason, d.actor, m.entity_id FROM er_decisions d
                           JOIN entity_members m ON m.member = d.a
                           WHERE d.action = 'merge' AND m.entity_id IN (SELECT unnest(?)) ORDER BY d.seq""",
        [entities],
    ):
        basis.setdefault(r["entity_id"], []).append(
            {
                "table": "er_decisions",
                "record": f"decision {r['seq']}",
                "locator": f"merge {r['a']} + {r['b']}",
                "actor": r["actor"],
                "reason": r["reason"],
            }
        )
    return {end: basis.get(entity, []) for end, entity in links.items()}


def trace_links(store: CaseStore) -> tuple[dict[str, str], dict[str, list[dict]]]:
    """What a money trace may cross (`transaction_links`) and why (`link_basis`), as finance.workflow.run_trace takes them."""
    links = transaction_links(store)
    return links, link_basis(store, links)
