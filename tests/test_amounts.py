from decimal import Decimal

from casegraph.amounts import format_amount, format_totals, sum_by_currency


def test_amounts_carry_their_currency_and_are_exact():
    assert format_amount(Decimal("4500000"), "LKR") == "LKR 4,500,000.00"
    assert format_amount(Decimal("12712.568694"), "USDC") == "USDC 12,712.568694"
    assert format_amount(Decimal("0.000000000000000001"), "ETH") == "ETH 0.000000000000000001"
    assert format_amount(Decimal("-1500.5"), "LKR") == "LKR -1,500.50"
    assert format_amount(None, "LKR") == "LKR (amount not stated)"
    assert format_amount(Decimal(5), None).startswith("(currency not stated) 5.00")


def test_sums_are_per_currency():
    totals = sum_by_currency([(Decimal(4), "ETH"), (Decimal("127.478"), "REP"), (Decimal(1), "ETH"), (None, "ETH")])
    assert totals == {"ETH": Decimal(5), "REP": Decimal("127.478")}
    assert format_totals(totals) == "ETH 5.00 and REP 127.478"
    assert format_totals({}) == "nothing"
