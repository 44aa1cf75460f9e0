"""Each typology on a small flow where it is planted, beside ordinary activity that must not trip it."""
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from casegraph.finance.typologies import Settings, detect
from casegraph.model import Provenance, Transaction
from casegraph.store import CaseStore

T0 = datetime(2024, 4, 1, tzinfo=timezone.utc)


class Book:
    def __init__(self):
        self.rows = []

    def pay(self, frm, to, amount, hours, currency="LKR", description=None):
        n = len(self.rows) + 1
        self.rows.append(Transaction(prov=Provenance("ab" * 32, "test", "1", f"row:{n}"), rail="bank", from_account=frm,
                                     to_account=to, amount=Decimal(amount), currency=currency, description=description,
                                     ts=T0 + timedelta(hours=hours)))
        return f"row:{n}"


@pytest.fixture
def found(tmp_path):
    b = Book()
    planted = {}
    # structuring: cash (no sender) into S, just under 1,000,000, on three days
    planted["structuring"] = [b.pay(None, "S", v, 24 * d, description=("CDM DEPOSIT BR 12", "CASH DEP", "CEFT")[d])
                              for d, v in enumerate((990_000, 985_000, 950_000))]
    b.pay(None, "S", 1_200_000, 200)          # over the threshold: reported anyway, not structuring
    b.pay(None, "OK", 990_000, 10)            # one near-threshold deposit: not a pattern
    # fan-in: six victims pay agency fees to R within a week
    planted["fan-in"] = [b.pay(f"V{i}", "R", 450_000, 10 + 12 * i) for i in range(6)]
    # fan-out: D pays six accounts in two days
    planted["fan-out"] = [b.pay("D", f"P{i}", 50_000, 300 + i * 8) for i in range(6)]
    # cycle: C → C1 → C2 → C within days
    planted["cycle"] = [b.pay("C", "C1", 500_000, 400), b.pay("C1", "C2", 490_000, 410), b.pay("C2", "C", 480_000, 430)]
    b.pay("Z1", "Z2", 100, 400)               # a loop whose times run backwards from every start: no cycle
    b.pay("Z2", "Z3", 100, 390)
    b.pay("Z3", "Z1", 100, 380)
    # scatter-gather: G pays five mules, each pays H
    planted["scatter-gather"] = [b.pay("G", f"M{i}", 200_000, 500 + i) for i in range(5)] + \
                                [b.pay(f"M{i}", "H", 195_000, 510 + i) for i in range(5)]
    # gather-scatter: five pay K, which pays five
    planted["gather-scatter"] = [b.pay(f"A{i}", "K", 100_000, 600 + i) for i in range(5)] + \
                                [b.pay("K", f"B{i}", 95_000, 620 + i) for i in range(5)]
    # pass-through: money into U leaves within hours, twice
    planted["pass-through"] = [b.pay("X1", "U", 300_000, 700), b.pay("U", "Y1", 290_000, 705),
                               b.pay("X2", "U", 400_000, 760), b.pay("U", "Y2", 395_000, 770)]
    b.pay("SAL", "SAVER", 80_000, 700)        # salary kept: not pass-through
    b.pay("SAVER", "SHOP", 5_000, 710)
    store = CaseStore(tmp_path / "t.duckdb")
    store.write(b.rows)
    findings = detect(store, Settings(fan_count=5))
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
    assert s.attrs["cash"] == "2" and "2 of them named as cash" in s.summary  # the channel, derived from the narration
    assert "R" in by["fan-in"] and "D" in by["fan-out"]
    assert by["cycle"] == {"C"}  # time-respecting: only C's money comes back after it left
    assert by["scatter-gather"] == {"G → H"} and by["gather-scatter"] == {"K"} and by["pass-through"] == {"U"}


def test_ordinary_activity_is_not_flagged(found):
    _, findings = found
    subjects = {f.subject for f in findings}
    assert not subjects & {"OK", "Z1", "Z2", "Z3", "SAVER", "SAL", "SHOP"}


def test_findings_say_what_and_carry_settings(found):
    _, findings = found
    s = next(f for f in findings if f.kind == "structuring")
    assert "3 deposits just under LKR 1,000,000 within 7 days" in s.title
    assert s.attrs["settings"]["threshold"] == "1000000" and s.evidence[0]["exhibit_sha256"] == "ab" * 32
