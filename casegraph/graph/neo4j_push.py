"""Writing the case graph to Neo4j with the official driver.

Constraints first (one uniqueness constraint on `key` per label), then nodes label by label and
relationships by (type, start label, end label), in batches of `UNWIND $rows AS row MERGE ...`.
MERGE on the node key and on the relationship's own id makes a second push change nothing.
Each batch that committed is recorded in the case store (`neo4j_pushes`), keyed by the target and a
digest of the graph, so an interrupted push resumes where it stopped; a changed graph starts over.

The Cypher is generated from the label and type names in the graph, which casegraph controls; the
tests check every statement with Neo4j's own Cypher parser.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from ..store import CaseStore, sql_literal

BATCH = 5000


def quote(name: str) -> str:
    """A label or type as a Cypher identifier (backticks; a backtick inside is doubled)."""
    return "`" + name.replace("`", "``") + "`"


def constraint(label: str) -> str:
    return f"CREATE CONSTRAINT {quote('casegraph_' + label.lower() + '_key')} IF NOT EXISTS FOR (n:{quote(label)}) REQUIRE n.key IS UNIQUE"


def merge_nodes(label: str) -> str:
    return f"UNWIND $rows AS row MERGE (n:{quote(label)} {{key: row.key}}) SET n += row.props"


def merge_relationships(rel_type: str, start: str, end: str) -> str:
    return (
        f"UNWIND $rows AS row MATCH (a:{quote(start)} {{key: row.src}}) MATCH (b:{quote(end)} {{key: row.dst}}) "
        f"MERGE (a)-[r:{quote(rel_type)} {{id: row.id}}]->(b) SET r += row.props"
    )


def property_types(store: CaseStore, table: str, column: str, where: str) -> dict[str, str]:
    """The Neo4j type of each key of a JSON column over the rows `where` selects, decided once for all
    of them so that every node of a label (or relationship of a type) has the same property types,
    whichever route (push or neo4j-admin import) loads it: numbers, booleans and lists of strings keep
    their type; objects, lists of anything else and mixed values become JSON text."""
    rows = store.rows(f"""SELECT k, list(DISTINCT json_type(v)) AS types,
                                 bool_and(CASE WHEN json_type(v) = 'ARRAY' THEN json_array_length(v) = 0 OR
                                          list_distinct(list_transform(CAST(v AS JSON[]), lambda x: json_type(x))) = ['VARCHAR']
                                          ELSE true END) AS string_lists
                          FROM (SELECT k, json_extract({column}, '$."' || k || '"') AS v
                                FROM (SELECT {column}, unnest(json_keys({column})) AS k FROM {table} WHERE {where}))
                          GROUP BY k ORDER BY k""")
    out = {}
    for r in rows:
        types = {t for t in r["types"] if t and t != "NULL"}
        if types and types <= {"BIGINT", "UBIGINT"}:
            out[r["k"]] = "long"
        elif types and types <= {"BIGINT", "UBIGINT", "DOUBLE"}:
            out[r["k"]] = "double"
        elif types == {"BOOLEAN"}:
            out[r["k"]] = "boolean"
        elif types == {"ARRAY"} and r["string_lists"]:
            out[r["k"]] = "string[]"
        else:
            out[r["k"]] = "string"
    return out


def flat(props: dict[str, Any] | None, types: dict[str, str] | None = None) -> dict[str, Any]:
    """Neo4j properties hold scalars and lists of scalars: a value typed `string` that is not a string
    (an object, a list of objects) becomes JSON text; null values are left out."""
    out = {}
    for k, v in (props or {}).items():
        if v is None:
            continue
        kind = (types or {}).get(k)
        if (kind == "string" and not isinstance(v, str)) or (
            kind is None
            and isinstance(v, (dict, list))
            and not (isinstance(v, list) and all(isinstance(x, (str, int, float, bool)) for x in v))
        ):
            v = json.dumps(v, ensure_ascii=False, sort_keys=True)
        elif kind == "double" and isinstance(v, int) and not isinstance(v, bool):
            v = float(v)
        out[k] = v
    return out


@dataclass
class Step:
    name: str  # "constraint:Phone", "nodes:Phone", "rels:SENT:Phone:Message"
    cypher: str
    sql: str | None  # the rows, ordered; None for a schema statement
    count: int = 0


def plan(store: CaseStore) -> list[Step]:
    labels = [r["label"] for r in store.rows("SELECT DISTINCT label FROM nodes ORDER BY label")]
    steps = [Step(f"constraint:{label}", constraint(label), None) for label in labels]
    for r in store.rows("SELECT label, count(*) AS n FROM nodes GROUP BY label ORDER BY label"):
        steps.append(
            Step(
                f"nodes:{r['label']}",
                merge_nodes(r["label"]),
                f"SELECT id AS key, name, props FROM nodes WHERE label = {sql_literal(r['label'])} ORDER BY id",
                r["n"],
            )
        )
    for r in store.rows("""SELECT e.kind, s.label AS sl, d.label AS dl, count(*) AS n FROM edges e
                           JOIN nodes s ON s.id = e.src JOIN nodes d ON d.id = e.dst GROUP BY ALL ORDER BY ALL"""):
        kind, sl, dl = (sql_literal(x) for x in (r["kind"], r["sl"], r["dl"]))
        steps.append(
            Step(
                f"rels:{r['kind']}:{r['sl']}:{r['dl']}",
                merge_relationships(r["kind"], r["sl"], r["dl"]),
                f"""SELECT e.id, e.src, e.dst, e.ts_utc, e.weight, e.record_id, e.attrs, e.exhibit_sha256, e.parser,
                                     e.parser_version, e.locator
                              FROM edges e JOIN nodes s ON s.id = e.src JOIN nodes d ON d.id = e.dst
                              WHERE e.kind = {kind} AND s.label = {sl} AND d.label = {dl} ORDER BY e.id""",
                r["n"],
            )
        )
    return steps


def statements(store: CaseStore) -> list[str]:
    """Every Cypher statement a push of this case would run (for review and for checking)."""
    return [s.cypher for s in plan(store)]


def graph_digest(store: CaseStore) -> str:
    n = store.one("SELECT count(*), coalesce(sum(hash(id, props)), 0) FROM nodes")
    e = store.one("SELECT count(*), coalesce(sum(hash(id, attrs, ts_utc, weight)), 0) FROM edges")
    return hashlib.sha256(repr((n, e)).encode()).hexdigest()[:32]


def _rows(store: CaseStore, step: Step, batch: int) -> Iterator[list[dict]]:
    _, label, *ends = step.name.split(":")
    if ends:
        types = property_types(
            store,
            "edges",
            "attrs",
            f"""id IN (SELECT e.id FROM edges e JOIN nodes s ON s.id = e.src
            JOIN nodes d ON d.id = e.dst WHERE e.kind = {sql_literal(label)} AND s.label = {sql_literal(ends[0])}
            AND d.label = {sql_literal(ends[1])})""",
        )
    else:
        types = property_types(store, "nodes", "props", f"label = {sql_literal(label)}")
    cur = store.con.cursor()
    result = cur.execute(step.sql)
    names = [d[0] for d in result.description]
    while chunk := result.fetchmany(batch):
        rows = [dict(zip(names, r, strict=True)) for r in chunk]
        if step.name.startswith("nodes:"):
            yield [{"key": r["key"], "props": flat({"name": r["name"], **json.loads(r["props"] or "{}")}, types)} for r in rows]
        else:
            yield [
                {
                    "id": r["id"],
                    "src": r["src"],
                    "dst": r["dst"],
                    "props": flat(
                        {
                            **json.loads(r["attrs"] or "{}"),
                            "record_id": r["record_id"],
                            "weight": r["weight"],
                            "ts_utc": r["ts_utc"],  # the driver stores an aware datetime as a DateTime
                            "exhibit_sha256": r["exhibit_sha256"],
                            "parser": r["parser"],
                            "parser_version": r["parser_version"],
                            "locator": r["locator"],
                        },
                        types,
                    ),
                }
                for r in rows
            ]


_TYPE_NAMES = {bool: "boolean", int: "long", float: "double", str: "string", list: "string[]", datetime: "datetime"}


def pushed_schema(store: CaseStore) -> dict[str, dict[str, str]]:
    """What a push creates: {label or TYPE(start,end): {property: type}}, from the rows it sends (to
    compare with the neo4j-admin export's)."""
    schema: dict[str, dict[str, str]] = {}
    for step in plan(store):
        if step.sql is None:
            continue
        _, kind, *ends = step.name.split(":")
        key = kind if not ends else f"{kind}({ends[0]},{ends[1]})"
        props = schema.setdefault(key, {"key": "string"} if not ends else {"id": "string"})
        for rows in _rows(store, step, BATCH):
            for row in rows:
                for k, v in row["props"].items():
                    props[k] = _TYPE_NAMES.get(type(v), type(v).__name__)
    return schema


class Runner(Protocol):
    def __call__(self, cypher: str, rows: list[dict] | None) -> None: ...


def driver_runner(uri: str, user: str, password: str, database: str | None) -> tuple[Runner, Callable[[], None]]:
    """A runner on the official neo4j driver: one write transaction per batch (retried by the driver)."""
    from neo4j import GraphDatabase

    driver = GraphDatabase.driver(uri, auth=(user, password))
    driver.verify_connectivity()

    def run(cypher: str, rows: list[dict] | None) -> None:
        with driver.session(database=database) as session:
            if rows is None:
                session.run(cypher).consume()  # schema statements cannot run inside a write transaction
            else:
                session.execute_write(lambda tx: tx.run(cypher, rows=rows).consume())

    return run, driver.close


def push(
    store: CaseStore, target: str, run: Runner, batch: int = BATCH, progress: Callable[[str, int, int], None] | None = None
) -> dict[str, int]:
    """Push the graph, skipping batches this target already holds for this graph; returns counts."""
    digest = graph_digest(store)
    done = {
        (r["step"], r["batch"])
        for r in store.rows("SELECT step, batch FROM neo4j_pushes WHERE target = ? AND digest = ?", [target, digest])
    }
    sent = skipped = 0
    steps = plan(store)
    for step in steps:
        if step.sql is None:
            if (step.name, 0) not in done:
                run(step.cypher, None)
                _mark(store, target, digest, step.name, 0, 0)
            continue
        for i, rows in enumerate(_rows(store, step, batch)):
            if (step.name, i) in done:
                skipped += len(rows)
            else:
                run(step.cypher, rows)
                _mark(store, target, digest, step.name, i, len(rows))
                sent += len(rows)
            if progress:
                progress(step.name, min((i + 1) * batch, step.count), step.count)
    return {"sent": sent, "skipped": skipped, "steps": len(steps)}


def _mark(store: CaseStore, target: str, digest: str, step: str, batch: int, rows: int) -> None:
    store.con.execute(
        "INSERT OR REPLACE INTO neo4j_pushes VALUES (?, ?, ?, ?, ?, ?)", [target, digest, step, batch, rows, datetime.now(UTC)]
    )
