"""Probabilistic record linkage for person records with several fields (Fellegi–Sunter): the
benchmark's own linker, not casegraph's. `casegraph resolve` (graph/resolve.py) does not run it,
so it lives here beside the benchmark that measures it; its FEBRL rows are this linker's, and the `resolve` rows the product's.

Candidate pairs come from blocking rules (records that agree exactly on some key) run as one
DuckDB query. Each pair gets a comparison level per field (0 missing, 1 different ... highest
agreeing), computed column-wise with rapidfuzz's pairwise `cpdist`; names are compared on their
spelling-variant keys (`names.fold`). m and u probabilities are estimated without labels by
expectation–maximisation over the candidate pairs, and each pair's match probability follows.
`benchmarks/entity_resolution.py` measures it on FEBRL beside the product's resolver and Splink.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler
from rapidfuzz.process import cpdist

from casegraph.graph.names import fold

LEVELS = {"name": (0.95, 0.88, 0.75), "string": (0.95, 0.85), "code": (1, 2)}  # similarity floors / edit distances


@dataclass(frozen=True)
class Field:
    column: str
    compare: str = "string"  # name | string | code (dates, numbers, ids: exact, then 1 or 2 edits) | exact

    @property
    def levels(self) -> int:
        return 2 + len(LEVELS.get(self.compare, ()))  # missing + different + agreement levels


def _prepare(values: list, compare: str) -> list:
    if compare == "name":
        return [" ".join(fold(w) for w in v.split()) if v else None for v in values]
    return [v.strip().lower() if isinstance(v, str) and v.strip() else None for v in values]


def compare(left: list, right: list, compare: str) -> np.ndarray:
    """Comparison levels for aligned value pairs: 0 missing, 1 different, then higher for closer."""
    n = len(left)
    missing = np.array([a is None or b is None for a, b in zip(left, right, strict=True)], dtype=bool)
    lv = np.ones(n, dtype=np.int8)
    lt = [a or "" for a in left]
    rt = [b or "" for b in right]
    if compare == "exact":
        lv[np.array([a == b for a, b in zip(lt, rt, strict=True)], dtype=bool)] = 2
    elif compare == "code":
        d = cpdist(lt, rt, scorer=DamerauLevenshtein.distance, workers=-1)
        for i, edits in enumerate(sorted(LEVELS["code"], reverse=True)):
            lv[d <= edits] = 2 + i
        lv[d == 0] = 2 + len(LEVELS["code"])
    else:
        s = cpdist(lt, rt, scorer=JaroWinkler.normalized_similarity, workers=-1)
        for i, floor in enumerate(sorted(LEVELS[compare])):
            lv[s >= floor] = 2 + i
    lv[missing] = 0
    return lv


def candidate_pairs(left: pa.Table, right: pa.Table | None, blocking: list[list[str]]) -> tuple[np.ndarray, np.ndarray]:
    """Row pairs that agree exactly on every column of at least one rule (i < j when deduplicating)."""
    other = left if right is None else right
    con = duckdb.connect()
    con.register("l", left.append_column("_row", pa.array(np.arange(left.num_rows))))
    con.register("r", other.append_column("_row", pa.array(np.arange(other.num_rows))))
    dedupe = "AND l._row < r._row" if right is None else ""
    rules = [" AND ".join(f"l.{c} = r.{c}" for c in rule) for rule in blocking]
    sql = " UNION ".join(f"SELECT l._row AS i, r._row AS j FROM l JOIN r ON {rule} {dedupe}" for rule in rules)
    pairs = con.sql(sql).to_arrow_table()
    con.close()
    return pairs.column("i").to_numpy(), pairs.column("j").to_numpy()


def comparison_vectors(left: pa.Table, right: pa.Table | None, i: np.ndarray, j: np.ndarray, fields: list[Field]) -> np.ndarray:
    right = left if right is None else right
    out = np.empty((len(i), len(fields)), dtype=np.int8)
    for k, f in enumerate(fields):
        lvals = _prepare(left.column(f.column).to_pylist(), f.compare)
        rvals = _prepare(right.column(f.column).to_pylist(), f.compare)
        out[:, k] = compare([lvals[x] for x in i], [rvals[x] for x in j], f.compare)
    return out


@dataclass
class FellegiSunter:
    fields: list[Field]
    m: np.ndarray  # [field, level]
    u: np.ndarray
    prior: float

    def weights(self) -> np.ndarray:
        w = np.log2(self.m / self.u)
        w[:, 0] = 0.0  # a missing value says nothing
        return w

    def probability(self, gamma: np.ndarray) -> np.ndarray:
        w = self.weights()
        score = np.log2(self.prior / (1 - self.prior)) + w[np.arange(len(self.fields)), gamma].sum(axis=1)
        return 1.0 / (1.0 + np.exp2(-score))


def train(gamma: np.ndarray, fields: list[Field], iterations: int = 60, prior: float = 0.05) -> FellegiSunter:
    """Estimate m, u and the match prior from comparison vectors by EM (no labels)."""
    nf, nl = len(fields), max(f.levels for f in fields)
    onehot = np.zeros((len(gamma), nf, nl), dtype=np.float32)
    onehot[np.arange(len(gamma))[:, None], np.arange(nf)[None, :], gamma] = 1
    # start: matches agree (top level), non-matches mostly differ
    m = np.full((nf, nl), 0.05)
    u = np.full((nf, nl), 0.05)
    for k, f in enumerate(fields):
        m[k, f.levels - 1], u[k, 1] = 0.8, 0.8
        m[k, f.levels :] = u[k, f.levels :] = 1e-9
    m /= m.sum(1, keepdims=True)
    u /= u.sum(1, keepdims=True)
    model = FellegiSunter(fields, m, u, prior)
    for _ in range(iterations):
        p = model.probability(gamma)[:, None, None]
        new_m = (onehot * p).sum(0) + 1e-6
        new_u = (onehot * (1 - p)).sum(0) + 1e-6
        new_m[:, 0] = new_u[:, 0] = 1e-6  # missing is not estimated
        model = FellegiSunter(
            fields, new_m / new_m.sum(1, keepdims=True), new_u / new_u.sum(1, keepdims=True), float(np.clip(p.mean(), 1e-6, 1 - 1e-6))
        )
    return model


def link(
    left: pa.Table, right: pa.Table | None, fields: list[Field], blocking: list[list[str]], threshold: float = 0.5
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(i, j, probability) of the pairs at or above the threshold."""
    i, j = candidate_pairs(left, right, blocking)
    gamma = comparison_vectors(left, right, i, j, fields)
    model = train(gamma, fields)
    p = model.probability(gamma)
    keep = p >= threshold
    return i[keep], j[keep], p[keep]
