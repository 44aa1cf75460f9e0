"""The labelled synthetic ledger, and the detectors scored on a small one."""

from casegraph.finance.synthetic import generate, score
from casegraph.finance.typologies import Settings, detect
from casegraph.store import CaseStore


def test_same_seed_same_ledger():
    a, b = generate(3, accounts=200, background=500, per_typology=1), generate(3, accounts=200, background=500, per_typology=1)
    assert [(t.from_account, t.to_account, t.amount, t.ts) for t in a.transactions] == [
        (t.from_account, t.to_account, t.amount, t.ts) for t in b.transactions
    ]
    assert {p.typology for p in a.planted} == {
        "fan-in",
        "fan-out",
        "cycle",
        "scatter-gather",
        "gather-scatter",
        "bipartite",
        "stack",
        "structuring",
        "pass-through",
    }


def test_detectors_find_what_was_planted(tmp_path):
    ledger = generate(5, accounts=400, background=3000, per_typology=3)
    store = CaseStore(tmp_path / "s.duckdb")
    store.write(ledger.transactions)
    result = score(ledger, detect(store, Settings()))
    for typ in ("fan-in", "fan-out", "cycle", "scatter-gather", "gather-scatter", "structuring", "pass-through", "bipartite", "stack"):
        assert result[typ]["recall"] == 1.0, (typ, result[typ])
    for typ in ("gather-scatter", "structuring", "stack"):  # payroll → staff → shop is a real scatter-gather look-alike
        assert result[typ]["precision_any"] == 1.0, (typ, result[typ])
