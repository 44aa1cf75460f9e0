from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from casegraph.finance.channels import channel
from casegraph.model import Transaction
from casegraph.parsers.transaction_table import TransactionTable, builtin_profiles

from parse_helpers import issues, of, run_parser, sniff

FIN = "finance"
P = TransactionTable()
UTC = timezone.utc


def _tx(recs):
    return of(recs, Transaction)


def test_builtin_profiles_load():
    names = {p.name for p in builtin_profiles()}
    assert {"boc-statement", "combank-statement", "ezcash-statement", "etherscan-normal", "etherscan-erc20",
            "etherscan-internal", "tronscan-trc20"} <= names


def test_bank_statement_with_title_block_debits_credits_and_bad_rows(fixtures):
    path = fixtures / FIN / "boc_statement.csv"
    assert sniff(P, path) >= 0.9
    recs = run_parser(P, path)
    tx = _tx(recs)
    fee, cash1, cash2, out, bad_date, bad_amount, pos = tx
    assert fee.amount == Decimal("450000") and fee.to_account == "0081234567" and fee.from_account is None
    assert fee.description == "CEFT CR KASUN PERERA AGENCY FEE, BATCH 7" and fee.ts == date(2024, 3, 14) and fee.seq == 1  # a date, never an invented midnight
    assert fee.currency == "LKR" and fee.rail == "bank" and fee.prov.locator == "row:1"
    assert channel(cash1.description) == "cash" and cash1.amount == Decimal("990000")
    assert out.from_account == "0081234567" and out.to_account == "8001234501" and out.amount == Decimal("1500000")
    assert channel(out.description) == "transfer" and out.extra["balance"] == "1,050,000.00"
    assert bad_date.ts is None and bad_amount.amount is None  # kept, with the problem named
    assert pos.amount == Decimal("1250.50") and pos.to_account == "0081234567"  # (1,250.50) as a debit: a reversal
    assert pos.extra["sign_note"] == "negative debit read as money in"
    found = {(i.prov.locator, i.message.split(" (")[0]) for i in issues(recs, "warning")}
    assert ("row:5", "date is not %d/%m/%Y") in found and ("row:6", "debit is not a number") in found
    assert any(i.message == "row with the wrong number of columns" and "TOO MANY" in i.raw for i in issues(recs, "error"))


def test_signed_amounts_and_account_from_file_name(fixtures, tmp_path):
    src = (fixtures / FIN / "combank_statement.csv").read_bytes()
    path = tmp_path / "ComBank_8001234501_Apr2024.csv"
    path.write_bytes(src)
    inn, out, fee = _tx(run_parser(P, path))
    assert inn.to_account == "8001234501" and inn.from_account == "0081234567" and inn.amount == Decimal("1500000")
    assert out.from_account == "8001234501" and out.to_account is None and out.amount == Decimal("1480000")
    assert channel(out.description) == "cash" and channel(fee.description) == "fee" and fee.amount == Decimal("25")


def test_missing_account_is_reported_and_can_be_given(fixtures):
    path = fixtures / FIN / "combank_statement.csv"
    assert any("account number is not in the file" in i.message for i in issues(run_parser(P, path), "warning"))
    assert _tx(run_parser(TransactionTable(account="8001234501"), path))[0].to_account == "8001234501"


def test_mobile_money(fixtures, tmp_path):
    path = tmp_path / "ezcash_0715550199.csv"
    path.write_bytes((fixtures / FIN / "ezcash_statement.csv").read_bytes())
    recv, send = _tx(run_parser(P, path))
    assert recv.rail == "mobile-money" and recv.from_account == "0762223344" and recv.to_account == "0715550199"
    assert send.to_account == "0771234567" and send.amount == Decimal("24500") and send.reference == "EZ1002"
    assert send.ts == datetime(2024, 4, 2, 10, 40, 12)


def test_etherscan_exports(fixtures):
    genuine, fake = _tx(run_parser(P, fixtures / FIN / "etherscan_erc20.csv"))
    assert genuine.amount == Decimal("1250.5") and genuine.currency == "USDT" and genuine.rail == "ethereum"
    assert genuine.ts == datetime(2024, 4, 19, 6, 30, tzinfo=UTC) and "token_warning" not in genuine.extra
    assert fake.extra["token_warning"].startswith("USDT symbol on a contract")
    out, inn = _tx(run_parser(P, fixtures / FIN / "etherscan_normal.csv"))
    assert out.amount == Decimal("0.523456789012345678") and out.from_account.startswith("0x5290")  # 18 decimals exact
    assert inn.amount == Decimal("2") and inn.extra["fee"] == "0.000420"
    (internal,) = _tx(run_parser(P, fixtures / FIN / "etherscan_internal.csv"))
    assert internal.amount == Decimal("0.75") and internal.extra["parent_from"].startswith("0x8617")


def test_tronscan_headers_drift_and_fake_usdt(fixtures):
    recs = run_parser(P, fixtures / FIN / "tronscan_2025.csv")
    real, fake = _tx(recs)
    assert real.rail == "tron" and real.amount == Decimal("1414.024284") and real.ts.tzinfo is not None
    assert fake.extra["token_warning"] and fake.asset_contract == "TXYZopYRdj2D9XRtbG411XZZ3kM5VkAeBf"
    assert any("not Tether's" in i.message for i in issues(recs, "warning"))


def test_unknown_layout_names_its_headers(fixtures):
    path = fixtures / FIN / "unknown_layout.csv"
    assert sniff(P, path) == 0  # nothing like a statement: not claimed
    (err,) = issues(run_parser(P, path), "error")  # parsed when forced, it still says why it cannot
    assert "unknown_layout.csv: no statement profile matches" in err.message


def test_statement_like_table_without_profile_is_claimed_and_explained(tmp_path):
    path = tmp_path / "mystery_bank.csv"
    path.write_text("Date,Narrative,Debit Amt,Credit Amt\n2024-01-01,x,1,\n")
    assert 0.5 <= sniff(P, path) < 0.9
    (err,) = issues(run_parser(P, path), "error")
    assert "['Date', 'Narrative', 'Debit Amt', 'Credit Amt']" in err.message and "profile" in err.message


def test_xlsx_statement(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Statement"
    ws.append(["BANK OF CEYLON"])
    ws.append(["Account No: 0081234567"])
    ws.append(["Txn Date", "Value Date", "Description", "Cheque No", "Debit", "Credit", "Balance"])
    ws.append([datetime(2024, 4, 8), datetime(2024, 4, 8), "CASH DEPOSIT", None, None, 990000, 1565000])
    ws.append([datetime(2024, 4, 16), datetime(2024, 4, 16), "CEFT DR M RIZWAN 8001234501", None, 1500000.25, None, 65000])
    path = tmp_path / "statement.xlsx"
    wb.save(path)
    assert sniff(P, path) >= 0.9
    a, b = _tx(run_parser(P, path))
    assert a.amount == Decimal("990000") and a.to_account == "0081234567" and a.ts == date(2024, 4, 8)
    assert b.amount == Decimal("1500000.25") and b.to_account == "8001234501" and b.prov.locator == "xlsx:Statement!row=5"


def test_windows_1252_statement(tmp_path):
    path = tmp_path / "BOC_0081234567_cp1252.csv"
    path.write_bytes("Txn Date,Value Date,Description,Cheque No,Debit,Credit,Balance\n"
                     "14/03/2024,14/03/2024,CAFÉ RÉSUMÉ PAYMENT,,100.00,,900.00\n".encode("cp1252"))
    recs = run_parser(P, path)
    assert _tx(recs)[0].description == "CAFÉ RÉSUMÉ PAYMENT"
    assert any("not valid UTF-8; read as cp1252" in i.message for i in issues(recs, "warning"))


def test_channel_is_derived_from_the_narration_in_sql():
    assert channel("ATM CASH WITHDRAWAL 0042") == "cash"  # both named: the first listed wins
    assert channel("sms charges mar") == "fee" and channel("ONLINETRANSFER TO 8001234501") == "transfer"
    assert channel("CDM DEP 990000") == "cash" and channel("POS KEELLS 1250.50") == "card"
    assert channel("CASHEW NUTS") is None  # whole words only where the rule says so
    assert channel("CASH", rail="tron") is None and channel(None) is None
