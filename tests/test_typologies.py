"""Each typology on a small flow where it is planted, beside ordinary activity that must not trip it."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from casegraph.finance.typologies import Settings, detect
from casegraph.model import Provenance, Transaction
from casegraph.store import CaseStore

T0 = datetime(2024, 4, 1, tzinfo=UTC)


class Book:
    def __init__(self):
        self.rows = []

    def pay(self, frm, to, amount, hours, currency="LKR", description=None):
        n = len(self.rows) + 1
        self.rows.append(
            Transaction(
                prov=Provenance("ab" * 32, "test", "1", f"row:{n}"),
                rail="bank",
                from_account=frm,
                to_account=to,
                amount=Decimal(amount),
                currency=currency,
                description=description,
                ts=T0 + timedelta(hours=hours),
            )
        )
        return f"row:{n}"


@pytest.fixture
def found(tmp_path):
    b = Book()
    planted = {}
    # structuring: cash (no sender) into S, just under 1,000,000, on three days
    planted["structuring"] = [
        b.pay(None, "S", v, 24 * d, description=("CDM DEPOSIT BR 12", "CASH DEP", "CEFT")[d])
        for d, v in enumerate((990_000, 985_000, 950_000))
    ]
    b.pay(None, "S", 1_200_000, 200)  # over the threshold: reported anyway, not structuring
    b.pay(None, "OK", 990_000, 10)  # one near-threshold deposit: not a pattern
    # fan-in: six victims pay agency fees to R within a week
    planted["fan-in"] = [b.pay(f"V{i}", "R", 450_000, 10 + 12 * i) for i in range(6)]
    # fan-out: D pays six accounts in two days
    planted["fan-out"] = [b.pay("D", f"P{i}", 50_000, 300 + i * 8) for i in range(6)]
    # cycle: C → C1 → C2 → C within days
    planted["cycle"] = [b.pay("C", "C1", 500_000, 400), b.pay("C1", "C2", 490_000, 410), b.pay("C2", "C", 480_000, 430)]
    b.pay("Z1", "Z2", 100, 400)  # a loop whose times run backwards from every start: no cycle
    b.pay("Z2", "Z3", 100, 390)
    b.pay("Z3", "Z1", 100, 380)
    # scatter-gather: G pays five mules, each pays H
    planted["scatter-gather"] = [b.pay("G", f"M{i}", 200_000, 500 + i) for i in range(5)] + [
        b.pay(f"M{i}", "H", 195_000, 510 + i) for i in range(5)
    ]
    # gather-scatter: five pay K, which pays five
    planted["gather-scatter"] = [b.pay(f"A{i}", "K", 100_000, 600 + i) for i in range(5)] + [
        b.pay("K", f"B{i}", 95_000, 620 + i) for i in range(5)
    ]
    # pass-through: money into U leaves within hours, twice
    planted["pass-through"] = [
        b.pay("X1", "U", 300_000, 700),
        b.pay("U", "Y1", 290_000, 705),
        b.pay("X2", "U", 400_000, 760),
        b.pay("U", "Y2", 395_000, 770),
    ]
    b.pay("SAL", "SAVER", 80_000, 700)  # salary kept: not pass-through
    b.pay("SAVER", "SHOP", 5_000, 710)
    store = CaseStore(tmp_path / "t.duckdb")
    store.write(b.rows)
    findings = detect(store, Settings(fan_count=5, gather_count=3))
    store.close()
    return planted, findings


def test_every_planted_pattern_is_found_with_its_transfers(found):
    planted, findings = found
    for kind, locators in planted.items():
        hits = [f for f in findings if f.kind == kind]
        assert hits, kind
        covered = {e["locator"] for f in hits for e in f.evidence}
        assert set(locators) <= covered, (kind, set(locators) - covered)


def test_subjects(found):
    _, findings = found
    by = {}
    for f in findings:
        by.setdefault(f.kind, set()).add(f.subject)
    assert by["structuring"] == {"S"}
    s = next(f for f in findings if f.kind == "structuring")
    assert s.attrs["cash"] == 2 and "2 of them named as cash" in s.summary  # the channel, derived from the narration
    assert "R" in by["fan-in"] and "D" in by["fan-out"]
    assert by["cycle"] == {"C → C1 → C2 → C", "Z1 → Z2 → Z3 → Z1"}
    z = next(f for f in findings if f.subject.startswith("Z1"))
    assert z.attrs["in_time_order"] is False and "not in time order" in z.summary
    assert by["scatter-gather"] == {"G → H"} and by["gather-scatter"] == {"K"} and by["pass-through"] == {"U"}


def test_ordinary_activity_is_not_flagged(found):
    _, findings = found
    subjects = {f.subject for f in findings}
    assert not subjects & {"OK", "SAVER", "SAL", "SHOP"}


def test_findings_say_what_and_carry_settings(found):
    _, findings = found
    s = next(f for f in findings if f.kind == "structuring")
    assert "3 deposits just under LKR 1,000,000.00 within 7 days" in s.title
    assert s.attrs["settings"]["threshold"] == "1000000" and s.evidence[0]["exhibit_sha256"] == "ab" * 32
    assert s.attrs["thresholds"] == {"threshold": "LKR 1,000,000.00", "just_under_from": "LKR 900,000.00", "days": 7, "min_deposits": 3}
    assert "LKR 2,925,000.00 in all" in s.summary and "threshold: 3 or more within 7 days" in s.summary


# -- determinism, lengths, thresholds, currencies, what is skipped ------------------------------------
import json  # noqa: E402
import random  # noqa: E402

from casegraph.amounts import sum_by_currency  # noqa: E402
from casegraph.finance.typologies import skipped  # noqa: E402


def _run(tmp_path, rows, name="t", **kw):
    store = CaseStore(tmp_path / f"{name}.duckdb")
    store.write(rows)
    out = detect(store, Settings(**kw))
    amounts = {i: (v, c) for i, v, c in store.con.execute("SELECT id, amount, currency FROM transactions").fetchall()}
    _run.times = dict(store.con.execute("SELECT id, ts_utc FROM transactions").fetchall())
    skip = skipped(store, Settings(**kw))
    store.close()
    return out, amounts, skip


def _canon(findings):
    return json.dumps(
        [[f.kind, f.subject, f.title, f.summary, f.score, f.evidence, {k: v for k, v in f.attrs.items()}] for f in findings],
        sort_keys=True,
        default=str,
    )


def _tied_book():
    """Ties everywhere: equal times, equal windows, one ring found from several starts."""
    b = Book()
    for i in range(8):  # fan-in with many equally good windows and same-time transfers
        b.pay(f"V{i}", "R", 1000, 10 * (i // 2))
    for h in (0, 0, 50, 50):  # two rings over the same accounts, same times
        b.pay("C1", "C2", 500, 100 + h)
        b.pay("C2", "C3", 490, 100 + h)
        b.pay("C3", "C1", 480, 100 + h)
    return b.rows


def test_same_case_same_findings_byte_for_byte(tmp_path):
    rows = _tied_book()
    first, _, _ = _run(tmp_path, rows, "a")
    shuffled = rows[:]
    random.Random(3).shuffle(shuffled)  # another physical order in the store
    second, _, _ = _run(tmp_path, shuffled, "b")
    assert _canon(first) == _canon(second)
    again, _, _ = _run(tmp_path, list(reversed(rows)), "c")
    assert _canon(first) == _canon(again)
    for f in first:  # evidence in time order, then id
        keys = [(_run.times[e["record"]], e["record"]) for e in f.evidence]
        assert keys == sorted(keys)
    assert {f.kind for f in first} >= {"fan-in", "cycle"}


def test_cycles_of_five_and_out_of_order_and_configurable_length(tmp_path):
    b = Book()
    ring5 = [b.pay(f"K{i}", f"K{(i + 1) % 5}", 200 - 10 * i, h) for i, h in enumerate((30, 5, 50, 12, 70))]  # AMLSim: unordered
    ring11 = [b.pay(f"L{i:02d}", f"L{(i + 1) % 11:02d}", 100, 200 + i) for i in range(11)]
    findings, _, _ = _run(tmp_path, b.rows, "cyc")
    subjects = {f.subject: f for f in findings if f.kind == "cycle"}
    k = subjects["K0 → K1 → K2 → K3 → K4 → K0"]
    assert k.attrs["length"] == 5 and k.attrs["in_time_order"] is False
    assert {e["locator"] for e in k.evidence} == set(ring5)
    assert not any(s.startswith("L0") for s in subjects)  # 11 transfers: beyond the default maximum of 10
    longer, _, _ = _run(tmp_path, b.rows, "cyc12", cycle_max_length=12)
    assert {e["locator"] for f in longer if f.subject.startswith("L0") for e in f.evidence} == set(ring11)
    timed, _, _ = _run(tmp_path, b.rows, "cyct", cycle_order="time", cycle_max_length=12)
    assert {f.subject[:2] for f in timed if f.kind == "cycle"} == {"L0"}  # K's ring does not run in time order
    assert timed[0].attrs["thresholds"]["order"] == "time"


def test_fan_in_with_four_senders_at_default_thresholds(tmp_path):
    b = Book()
    b.pay("OLD1", "OLD2", 10, 0)  # the case's data reach back more than a year: the new-counterparty filter applies
    day = 24 * 400
    planted = [b.pay(f"S{i}", "HUB", 150, day + 24 * 3 * i) for i in range(4)]  # AMLSim fan-in: 4 senders, 9 days
    b.pay("S9", "HUB", 150, day + 24 * 60)  # weeks later: not in the window
    findings, _, _ = _run(tmp_path, b.rows, "fan")
    (f,) = [f for f in findings if f.kind == "fan-in"]
    assert {e["locator"] for e in f.evidence} == set(planted)
    assert f.attrs["thresholds"] == {"days": 10, "min_counterparties": 4, "new_counterparty_days": 180}
    assert "4 or more within 10 days" in f.summary and "new counterparties" in f.summary
    strict, _, _ = _run(tmp_path, b.rows, "fan5", fan_count=5)
    assert not [f for f in strict if f.kind == "fan-in"]
    # on a short case the filter cannot apply: the volume thresholds for data without that history
    short, _, _ = _run(tmp_path, b.rows[1:], "short")
    assert not [f for f in short if f.kind == "fan-in"]  # 4 senders: under the 5 of short data
    five = Book()
    [five.pay(f"S{i}", "HUB", 150, 24 * i) for i in range(5)]
    (g,) = [f for f in _run(tmp_path, five.rows, "short5")[0] if f.kind == "fan-in"]
    assert g.attrs["thresholds"]["min_counterparties"] == 5 and g.attrs["thresholds"]["days"] == 7
    assert g.attrs["thresholds"]["new_counterparty_days"].startswith("not applied: the transfers span 4 days")


def test_every_figure_is_the_sum_of_what_is_cited_per_currency(tmp_path, found):
    b = Book()
    for i in range(3):
        b.pay(f"V{i}", "R", 450_000, 10 + i)
    b.pay("V3", "R", 1200, 14, currency="USDT")
    b.pay("V4", "R", "0.5", 15, currency="ETH")
    findings, amounts, _ = _run(tmp_path, b.rows, "cur")
    (f,) = [f for f in findings if f.kind == "fan-in"]
    assert f.attrs["totals"] == {"LKR": "1350000", "USDT": "1200", "ETH": "0.5"}
    assert "LKR 1,350,000.00, USDT 1,200.00 and ETH 0.50" in f.summary
    # every finding of every kind, on the planted book too
    store = CaseStore(tmp_path / "planted.duckdb")
    _, planted_findings = found
    kinds = set()
    for f in findings + planted_findings:
        kinds.add(f.kind)
        cited = [e["record"] for e in f.evidence]
        assert len(cited) == len(set(cited)) == f.attrs["transfers"]
        if f in findings:
            totals = sum_by_currency(amounts[i] for i in cited)
            assert f.attrs["totals"] == {c: f"{v.normalize():f}" for c, v in totals.items()}, f.kind
    store.close()
    assert kinds >= {"structuring", "fan-in", "fan-out", "cycle", "scatter-gather", "gather-scatter", "pass-through"}


def test_planted_figures_match_citations(tmp_path):
    b = Book()
    b.pay("X1", "U", 300_000, 700)
    b.pay("U", "Y1", 290_000, 705)
    b.pay("X2", "U", 400_000, 760)
    b.pay("U", "Y2", 395_000, 770)
    for d, v in enumerate((990_000, 985_000, 950_000)):
        b.pay(None, "S", v, 24 * d)
    for i in range(5):
        b.pay("G", f"M{i}", 200_000, 500 + i)
        b.pay(f"M{i}", "H", 195_000, 510 + i)
        b.pay(f"A{i}", "K", 100_000, 600 + i)
        b.pay("K", f"B{i}", 95_000, 620 + i)
    findings, amounts, _ = _run(tmp_path, b.rows, "fig")
    for f in findings:
        cited = [e["record"] for e in f.evidence]
        assert f.attrs["totals"] == {c: f"{v.normalize():f}" for c, v in sum_by_currency(amounts[i] for i in cited).items()}, f.kind
        assert f.attrs["first"] in f.summary or f.attrs["first"] == f.attrs["last"]
    p = next(f for f in findings if f.kind == "pass-through")
    assert "LKR 700,000.00 in, LKR 685,000.00 out" in p.summary


def test_failed_and_untimed_transfers_are_left_out_and_counted(tmp_path):
    b = Book()
    for i in range(4):
        b.pay(f"V{i}", "R", 100, 10 + i)
    b.rows[0].status = "failed"
    b.pay("V8", "R", 100, 12)
    b.rows[-1].ts = None
    findings, _, skip = _run(tmp_path, b.rows, "fail", fan_count=4)
    assert skip == {"failed": 1, "without a time": 1, "without an amount": 0, "with one end only (used by structuring alone)": 0}
    assert not [f for f in findings if f.kind == "fan-in"]  # 3 senders left: below the threshold
    with_failed, _, _ = _run(tmp_path, b.rows, "fail2", include_failed=True, fan_count=4)
    (f,) = [f for f in with_failed if f.kind == "fan-in"]
    assert f.attrs["failed_included"] is True and f.attrs["skipped"]["failed"] == 0
    assert f.attrs["skipped"]["without a time"] == 1


def test_new_counterparty_filter_on_a_long_history(tmp_path):
    b = Book()
    regulars = [b.pay(f"C{i}", "SHOP", 500, 24 * 7 * w + i) for w in range(60) for i in range(5)]  # weekly, 14 months
    new = [b.pay(f"N{i}", "AGENT", 150, 24 * (400 + 2 * i)) for i in range(4)]
    b.pay("C0", "AGENT", 100, 24 * 30)  # an old relationship of AGENT's is not new in the window
    findings, _, _ = _run(tmp_path, b.rows, "fresh")
    fans = {f.subject: f for f in findings if f.kind == "fan-in"}
    assert set(fans) == {"AGENT"} and {e["locator"] for e in fans["AGENT"].evidence} == set(new)
    assert fans["AGENT"].attrs["thresholds"]["new_counterparty_days"] == 180 and "new counterparties" in fans["AGENT"].summary
    off, _, _ = _run(tmp_path, b.rows, "fresh0", fresh_days=0, fan_count=4, fan_days=10)
    assert {f.subject for f in off if f.kind == "fan-in"} == {"AGENT", "SHOP"} and regulars
