"""Precision and recall of the typology detectors on a labelled synthetic ledger (AMLSim typologies).

    python benchmarks/typology_eval.py [--seed 7] [--per-typology 12]

Recall: planted instances whose key account a finding of that typology names. Precision is given
against the same typology and against any planted pattern (typologies overlap by nature).
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from casegraph.finance.synthetic import generate, score
from casegraph.finance.typologies import Settings, detect
from casegraph.store import CaseStore


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--per-typology", type=int, default=12)
    a = ap.parse_args()
    t = time.perf_counter()
    ledger = generate(a.seed, per_typology=a.per_typology)
    with tempfile.TemporaryDirectory() as d:
        store = CaseStore(Path(d) / "eval.duckdb")
        store.write(ledger.transactions)
        t1 = time.perf_counter()
        findings = detect(store, Settings())
        detect_s = time.perf_counter() - t1
        store.close()
    print(f"{len(ledger.transactions):,} transactions, {len(ledger.planted)} planted instances; "
          f"detection {detect_s:.2f}s (total {time.perf_counter() - t:.1f}s); seed {a.seed}")
    print(f"{'typology':16} {'planted':>8} {'found':>6} {'recall':>7} {'flagged':>8} {'precision':>10} {'precision_any':>14}")
    fmt = lambda v: "-" if v != v else f"{v:.2f}"  # noqa: E731
    for typ, r in score(ledger, findings).items():
        print(f"{typ:16} {r['planted']:>8} {r['found']:>6} {r['recall']:>7.2f} {r['flagged']:>8} {fmt(r['precision']):>10} "
              f"{fmt(r['precision_any']):>14}")
    print("precision: findings naming a planted instance of that typology; precision_any: naming an account of any "
          "planted instance (typologies overlap: a scatter-gather's sink is also a fan-in).")


if __name__ == "__main__":
    main()
