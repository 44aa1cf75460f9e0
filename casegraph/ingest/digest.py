"""Digests of stored records: canonical, order-independent, computed inside DuckDB.

A custody event records the digest of what its command wrote; `custody verify` recomputes it from
the store and compares. The digest of a set of rows is built so that neither row order nor
storage layout matters, and no row can be changed, added, removed or moved between columns
without changing it:

- each row becomes the SHA-256 of its canonical JSON (a struct of its columns by name: strings
  escaped, times as integer microseconds since the epoch so the session time zone does not
  matter, JSON columns as their text);
- the row hashes are sorted and hashed in 4,096 buckets (by their first three hex digits), and the
  bucket hashes in bucket order: a two-level hash over the sorted multiset. Sorting, not a sum or
  XOR, makes it order-independent, so it keeps SHA-256's collision resistance (additive and XOR
  multiset hashes can be forged by solving for rows).

DuckDB computes every row hash and bucket in parallel; Python sees only a few thousand rows.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

DIGEST_VERSION = "casegraph-digest/2"
# Derived tables outside the parse runs, digested whole by the command that writes them, and per
# group where one command replaces only its own part (findings per detector, annotations per model).
STATE_TABLES = {
    "findings": "detector",
    "entities": None,
    "entity_members": None,
    "entity_links": None,
    "er_decisions": None,
    "finding_decisions": None,
    "record_tags": None,
    "graph_pins": None,
    "annotations": "model",
    "identifier_keys": None,
    "nodes": None,
    "edges": None,
    "graph_parties": None,
    "graph_tie_rows": None,
    "message_vectors": "model",
}
GRAPH_TABLES = (
    "findings",
    "entities",
    "entity_members",
    "entity_links",
    "identifier_keys",
    "nodes",
    "edges",
    "graph_parties",
    "graph_tie_rows",
)


def _columns(con, table: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in con.execute(f"DESCRIBE {table}").fetchall()]


def row_hash_sql(con, table: str) -> str:
    """The SQL expression for one row's canonical hash."""
    parts = []
    for name, typ in _columns(con, table):
        col = f'"{name}"'
        if typ.startswith("TIMESTAMP"):  # TIMESTAMP WITH TIME ZONE prints in the session's zone: use integers
            col = f"epoch_us({col})"
        elif typ == "JSON":
            col = f"CAST({col} AS VARCHAR)"
        parts.append(f'"{name}" := {col}')
    return f"sha256(to_json(struct_pack({', '.join(parts)})))"


def grouped(con, table: str, keys: list[str], where: str = "", params: list | None = None) -> dict[tuple, dict[str, Any]]:
    """{group key values: {"rows": n, "sha256": digest}} for the rows of `table`, grouped by `keys`
    (no keys: one group, key ())."""
    k = ", ".join(keys)
    kk = (k + ", ") if keys else ""
    sql = f"""
        WITH r AS (SELECT {kk}{row_hash_sql(con, table)} AS h FROM {table} {where}),
        b AS (SELECT {kk}left(h, 3) AS bucket, count(*) AS n, sha256(string_agg(h, '' ORDER BY h)) AS d
              FROM r GROUP BY ALL)
        SELECT {kk}sum(n)::BIGINT, sha256(string_agg(bucket || d, '' ORDER BY bucket)) FROM b {"GROUP BY ALL" if keys else ""}"""
    out = {}
    for row in con.execute(sql, params or []).fetchall():
        *key, n, d = row
        if n:
            out[tuple(key)] = {"rows": int(n), "sha256": d}
    return out


def table_digest(con, table: str, where: str = "", params: list | None = None) -> dict[str, Any]:
    return grouped(con, table, [], where, params).get((), {"rows": 0, "sha256": None})


def state_digests(con, tables) -> dict[str, dict[str, Any]]:
    """The digests a command records for the derived tables it wrote."""
    out = {}
    for t in tables:
        d = table_digest(con, t)
        by = STATE_TABLES.get(t)
        if by:
            d["by"] = {str(key[0]): v for key, v in sorted(grouped(con, t, [by]).items(), key=lambda kv: str(kv[0]))}
        out[t] = d
    return out


def run_digest(tables: dict[str, dict], segments: list[dict]) -> str:
    """One parse run's digest: its row-table records per table, and its Parquet segments (each by
    table, rows and SHA-256 of its bytes), in a canonical order."""
    body = {
        "version": DIGEST_VERSION,
        "tables": {t: [d["rows"], d["sha256"]] for t, d in sorted(tables.items())},
        "segments": sorted([s["tbl"], s["file"], int(s["rows"]), s["sha256"]] for s in segments),
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
