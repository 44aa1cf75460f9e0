"""Entity resolution: which records are one person.

Every record that observes a person becomes a *member*: a contact card or goAML party
(`record:<id>`), an identifier that sent, received, called or held money (`id:<node key>`), and a
display name that sent messages on one device with no number beside it (`name:<exhibit>:<name>`).
Members join in this order, strongest first:

1. an examiner's decision to merge (`entities merge`);
2. a strong identifier: a contact card or goAML party lists the phone, email, NIC, account ... (the
   identifier member is the same node wherever it appears, so the same number in two exhibits joins);
3. names (`names.similarity`) at or above the automatic threshold, between groups that share a
   word of their names.

A join is refused when it would put together members an examiner split apart (`entities split`)
or two different values of a kind a person has one of (NIC, passport). Every join is stored with
its evidence (which identifier or names agreed, the score, the records) and can be reviewed;
name pairs between the review and automatic thresholds are written as findings for review.
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
from itertools import combinations

import pyarrow as pa

from ..findings import Finding, write_findings
from ..store import CaseStore, to_json
from . import keys, narration
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
    entities: dict[str, list[str]]  # entity id → members
    links: list[Link]
    refused: list[Link]
    candidates: list[Link]
    members: dict[str, Member]


# -- members from the store ------------------------------------------------------------------------
def _members(store: CaseStore) -> dict[str, Member]:
    members: dict[str, Member] = {}

    def member(key: str) -> Member:
        return members.setdefault(key, Member(key))

    def rec(row: dict) -> dict:
        return {"record": row["record_id"], "table": row["tbl"], "locator": row["locator"], "exhibit_sha256": row["exhibit_sha256"]}

    # identifiers a record states as its own (not merely mentioned), with the name beside them
    rows = store.rows("""
        SELECT i.record_id, i.role, k.key_kind, k.key, i.locator, i.exhibit_sha256,
               split_part(i.record_id, '/', 1) AS tbl,
               coalesce(c.name, CASE WHEN i.role = 'sender' THEN m.sender_name END, CASE WHEN i.role = 'counterpart' THEN l.name END) AS name
        FROM identifiers i JOIN identifier_keys k ON k.kind = i.kind AND k.value = i.value
        LEFT JOIN contacts c ON c.id = i.record_id
        LEFT JOIN messages m ON i.role = 'sender' AND m.id = i.record_id
        LEFT JOIN calls l ON i.role = 'counterpart' AND l.id = i.record_id
        WHERE i.role <> 'mentioned' AND i.record_id IS NOT NULL AND k.valid""")  # noqa: E501
    for r in rows:
        ident = member("id:" + keys.node_key(r["key_kind"], r["key"]))
        ident.ids.add((r["key_kind"], r["key"]))
        if r["tbl"] == "contacts":  # a card or a party: one person with all the identifiers it lists
            card = member("record:" + r["record_id"])
            card.ids.add((r["key_kind"], r["key"]))
            if r["name"]:
                card.names[r["name"]] += 1
            if not card.records:
                card.records.append(rec(r))
        elif r["name"]:
            ident.names[r["name"]] += 1
        if len(ident.records) < EVIDENCE_CAP:
            ident.records.append(rec(r))

    # contact cards with a name and no identifier are still people
    for r in store.rows("""SELECT id AS record_id, 'contacts' AS tbl, locator, exhibit_sha256, name FROM contacts c
                           WHERE name IS NOT NULL AND NOT EXISTS (SELECT 1 FROM identifiers i WHERE i.record_id = c.id)"""):
        card = member("record:" + r["record_id"])
        card.names[r["name"]] += 1
        card.records.append(rec(r))

    # display names that sent messages with no identifier beside them, one member per exhibit and name
    for r in store.rows("""
        SELECT m.exhibit_sha256, m.sender_name AS name, count(*) AS n, min(m.id) AS record_id, min(m.locator) AS locator,
               'messages' AS tbl
        FROM messages m WHERE m.sender_name IS NOT NULL AND m.sender_id IS NULL
        GROUP BY ALL"""):
        named = member(f"name:{r['exhibit_sha256'][:32]}:{r['name']}")
        named.names[r["name"]] += r["n"]
        named.records.append(rec(r))

    # money: the holder's name a statement or chain record gives beside the account
    rk = keys.rail_kind_sql("t.rail")
    for side in ("from", "to"):
        for r in store.rows(f"""
            SELECT k.key_kind, k.key, t.{side}_name AS name, count(*) AS n, min(t.id) AS record_id, min(t.locator) AS locator,
                   min(t.exhibit_sha256) AS exhibit_sha256, 'transactions' AS tbl
            FROM transactions t JOIN identifier_keys k ON k.kind = {rk} AND k.value = t.{side}_account
            WHERE t.{side}_name IS NOT NULL AND k.valid GROUP BY ALL"""):
            acct = member("id:" + keys.node_key(r["key_kind"], r["key"]))
            acct.ids.add((r["key_kind"], r["key"]))
            acct.names[r["name"]] += r["n"]
            if len(acct.records) < EVIDENCE_CAP:
                acct.records.append(rec(r))
    return members


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
    keys.refresh(store)
    members = _members(store)
    narrated = narration.links(store, {k: list(m.names) for k, m in members.items()}, auto)  # graph/narration.py
    for nl in narrated:  # the account becomes a member, as a holder name beside it would make it one
        members.setdefault(nl.a, Member(nl.a, ids={nl.identifier}, records=nl.records[:1]))
    merges, cannot = _decisions(store)
    groups = _Groups(members, cannot)
    links: list[Link] = []
    refused: list[Link] = []

    def attempt(link: Link) -> None:
        if link.a not in members or link.b not in members:
            return
        why = groups.why_not(link.a, link.b)
        if why is None:
            groups.union(link.a, link.b)
            links.append(link)
        elif why != "already together":
            link.evidence["refused"] = why
            refused.append(link)

    for a, b, reason in merges:  # 1. the examiner's decisions
        attempt(Link(a, b, "decision", 1.0, {"reason": reason}))
    for key, m in sorted(members.items()):  # 2. a record listing an identifier
        if key.startswith("record:"):
            for kind, value in sorted(m.ids):
                attempt(
                    Link(
                        key,
                        "id:" + keys.node_key(kind, value),
                        "identifier",
                        1.0,
                        {"identifier": {"kind": kind, "value": value}, "records": m.records[:1]},
                    )
                )
    for nl in narrated:  # 2b. a bank narration naming an account's holder ("CEFT DR M RIZWAN 8001234501")
        attempt(Link(nl.a, nl.b, "narration", nl.score, nl.evidence))
    candidates = []
    for link in _name_pairs(members, groups, review):  # 3. names, best first
        if link.score >= auto:
            attempt(link)
        elif groups.find(link.a) != groups.find(link.b):
            candidates.append(link)
    entities: dict[str, list[str]] = defaultdict(list)
    for k in members:
        entities[groups.find(k)].append(k)
    by_id = {_entity_id(sorted(ms)): sorted(ms) for ms in entities.values()}
    return Resolution(by_id, links, refused, candidates, members)


def _entity_id(members: list[str]) -> str:
    return "person:" + hashlib.sha256(min(members).encode()).hexdigest()[:16]


def _name_pairs(members: dict[str, Member], groups: _Groups, review: float) -> list[Link]:
    """Name pairs worth a look: blocked on a shared word key, scored, best first."""
    block: dict[str, set[str]] = defaultdict(set)
    named = {k: m for k, m in members.items() if m.names}
    for k, m in named.items():
        for name in m.names:
            for key in parse(name).keys:
                block[key].add(k)
    seen: set[tuple[str, str]] = set()
    out = []
    for key in sorted(block):
        ks = sorted(block[key])
        if len(ks) > 500:  # a word too common to block on (a surname everyone shares): skip, others still do
            continue
        for a, b in combinations(ks, 2):
            if (a, b) in seen:
                continue
            seen.add((a, b))
            best = max((similarity(x, y), x, y) for x in named[a].names for y in named[b].names)
            if best[0].score >= review:
                sim, x, y = best
                out.append(
                    Link(
                        a,
                        b,
                        "name",
                        sim.score,
                        {"names": [x, y], "reasons": list(sim.reasons), "records": named[a].records[:1] + named[b].records[:1]},
                    )
                )
    return sorted(out, key=lambda link: (-link.score, link.a, link.b))


# -- writing ----------------------------------------------------------------------------------------
def write(store: CaseStore, res: Resolution, roles: dict[str, set[str]] | None = None) -> dict[str, int]:
    """Replace the entities, members and links with this resolution; candidates become findings."""
    roles = roles if roles is not None else marked_roles(store)
    now = datetime.now(UTC)
    link_of = defaultdict(list)
    member_entity = {m: eid for eid, ms in res.entities.items() for m in ms}
    for link in res.links:
        link_of[member_entity[link.a]].append(link)
    people = 0
    with store.transaction() as con:
        con.execute("DELETE FROM entities WHERE created_by = 'resolve'")
        con.execute("DELETE FROM entity_members")
        con.execute("DELETE FROM entity_links")
        ent_rows, member_rows, link_rows = [], [], []
        for eid, ms in sorted(res.entities.items()):
            group = [res.members[m] for m in ms]
            names = sum((g.names for g in group), Counter())
            is_person = bool(names) or any(m.startswith("record:") for m in ms)
            if not is_person:
                continue  # an identifier nobody is named beside stays an identifier node
            people += 1
            ids = sorted({i for g in group for i in g.ids})
            records = [r for g in group for r in g.records]
            label = max(names.items(), key=lambda kv: (kv[1], len(kv[0]), kv[0]))[0] if names else ms[0]
            entity_roles = sorted(set().union(*(roles.get(m, set()) for m in ms)))
            attrs = {
                "names": dict(names.most_common()),
                "identifiers": [{"kind": k, "value": v} for k, v in ids],
                "members": len(ms),
                "exhibits": sorted({r["exhibit_sha256"] for r in records}),
                "roles": entity_roles,
                "records": len(records),
            }
            ent_rows.append([eid, "person", label, to_json(attrs), "resolve", now, to_json(records[:EVIDENCE_CAP])])
            member_rows += [[eid, m] for m in ms]
            link_rows += [[eid, link.a, link.b, link.method, link.score, to_json(link.evidence)] for link in link_of[eid]]
        _insert(store, "entities", ["id", "kind", "label", "attrs", "created_by", "created_at", "evidence"], ent_rows)
        _insert(store, "entity_members", ["entity_id", "member"], member_rows)
        _insert(store, "entity_links", ["entity_id", "a", "b", "method", "score", "evidence"], link_rows)
    findings = [_candidate_finding(link, member_entity) for link in _one_per_pair(res.candidates, member_entity)] + [
        _refused_finding(link, member_entity) for link in res.refused
    ]
    write_findings(store, findings, "entity-resolution")
    return {"people": people, "links": len(res.links), "candidates": len(res.candidates), "refused": len(res.refused)}


def _insert(store: CaseStore, table: str, columns: list[str], rows: list[list]) -> None:
    """Rows through Arrow (executemany is row by row: minutes for a million members)."""
    if rows:
        store.insert(table, pa.table({c: [r[i] for r in rows] for i, c in enumerate(columns)}))


def _one_per_pair(candidates: list[Link], member_entity: dict[str, str]) -> list[Link]:
    """One candidate per pair of persons (several of their members may match): the best-scoring link,
    citing the records of every link between the two."""
    best: dict[tuple[str, str], Link] = {}
    records: dict[tuple[str, str], list] = defaultdict(list)
    for link in candidates:
        pair = tuple(sorted((member_entity[link.a], member_entity[link.b])))
        if pair[0] == pair[1]:
            continue  # already one person
        records[pair] += [r for r in link.evidence["records"] if r not in records[pair]]
        if pair not in best or (link.score, link.a, link.b) > (best[pair].score, best[pair].a, best[pair].b):
            best[pair] = link
    return [dataclasses.replace(link, evidence={**link.evidence, "records": records[p]}) for p, link in sorted(best.items())]


def _candidate_finding(link: Link, member_entity: dict[str, str]) -> Finding:
    x, y = link.evidence["names"]
    return Finding(
        "possible-same-person",
        f"{link.a}|{link.b}",
        f"Possibly the same person: {x} / {y}",
        f"Names agree at {link.score:.2f} (below the automatic threshold): {'; '.join(link.evidence['reasons'])}. "
        f"Review, then: casegraph entities merge CASE {member_entity[link.a]} {member_entity[link.b]}",
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
class EntityLookupError(LookupError):
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
        basis.setdefault(r["entity_id"], []).append(
            {
                "table": "entity_links",
                "record": f"{r['entity_id']}: {r['a']} ~ {r['b']}",
                "locator": f"{r['method']} link",
                "score": r["score"],
                "evidence": json.loads(r["evidence"] or "{}").get("records", [])[:EVIDENCE_CAP],
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
