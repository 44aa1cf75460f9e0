from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from parse_helpers import issues, of, run_parser, sniff

from casegraph.finance.channels import channel
from casegraph.model import Transaction
from casegraph.parsers.transaction_table import TransactionTable, builtin_profiles

FIN = "finance"
P = TransactionTable()
UTC = UTC


def _tx(recs):
    return of(recs, Transaction)


def test_builtin_profiles_load():
    names = {p.name for p in builtin_profiles()}
    assert {
        "boc-statement",
        "combank-statement",
        "ezcash-statement",
        "etherscan-normal",
        "etherscan-erc20",
        "etherscan-internal",
        "tronscan-trc20",
    } <= names


def test_bank_statement_with_title_block_debits_credits_and_bad_rows(fixtures):
    path = fixtures / FIN / "boc_statement.csv"
    assert sniff(P, path) >= 0.9
    recs = run_parser(P, path)
    tx = _tx(recs)
    fee, cash1, cash2, out, bad_date, bad_amount, pos = tx  # noqa: RUF059
    assert fee.amount == Decimal("450000") and fee.to_account == "0081234567" and fee.from_account is None
    assert (
        fee.description == "CEFT CR KASUN PERERA AGENCY FEE, BATCH 7" and fee.ts == date(2024, 3, 14) and fee.seq == 1
    )  # a date, never an invented midnight
    assert fee.currency == "LKR" and fee.rail == "bank" and fee.prov.locator == "row:1"
    assert channel(cash1.description) == "cash" and cash1.amount == Decimal("990000")
    assert out.from_account == "0081234567" and out.to_account == "8001234501" and out.amount == Decimal("1500000")
    assert channel(out.description) == "transfer" and out.extra["balance"] == "1,050,000.00"
    assert bad_date.ts is None and bad_amount.amount is None  # kept, with the problem named
    assert pos.amount == Decimal("1250.50") and pos.to_account == "0081234567"  # (1,250.50) as a debit: a reversal
    assert pos.extra["sign_note"] == "negative debit read as money in"
    found = {(i.prov.locator, i.message.split(" (")[0]) for i in issues(recs, "warning")}
    assert ("row:5", "date is not %d/%m/%Y") in found and ("row:6", "debit is not a number") in found
    # the row with two cells too many is an error at its own row; the rows after it keep their own numbers
    assert [(i.prov.locator, "TOO MANY" in i.raw) for i in issues(recs, "error")] == [("row:7", True)]
    assert pos.prov.locator == "row:8" and pos.seq == 8


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
    path.write_bytes(
        "Txn Date,Value Date,Description,Cheque No,Debit,Credit,Balance\n"
        "14/03/2024,14/03/2024,CAFÉ RÉSUMÉ PAYMENT,,100.00,,900.00\n".encode("cp1252")
    )
    recs = run_parser(P, path)
    assert _tx(recs)[0].description == "CAFÉ RÉSUMÉ PAYMENT"
    assert any("not valid UTF-8; read as cp1252" in i.message for i in issues(recs, "warning"))


def test_channel_is_derived_from_the_narration_in_sql():
    assert channel("ATM CASH WITHDRAWAL 0042") == "cash"  # both named: the first listed wins
    assert channel("sms charges mar") == "fee" and channel("ONLINETRANSFER TO 8001234501") == "transfer"
    assert channel("CDM DEP 990000") == "cash" and channel("POS KEELLS 1250.50") == "card"
    assert channel("CASHEW NUTS") is None  # whole words only where the rule says so
    assert channel("CASH", rail="tron") is None and channel(None) is None


# -- ragged rows: every row becomes a record or an issue; a file never goes empty over a cell count --------
def test_etherscan_internal_rows_with_one_cell_more_than_the_header(fixtures):
    # shape: kernelwhisperer/privatefolio test/files/etherscan2-internal.csv (17 names, 18 cells: a trailing "")
    recs = run_parser(P, fixtures / FIN / "etherscan_internal_ragged.csv")
    tx = _tx(recs)
    assert len(tx) == 3 and not issues(recs, "error") and not issues(recs, "warning")
    assert [t.prov.locator for t in tx] == ["row:1", "row:2", "row:3"]
    assert tx[0].amount == Decimal("2.079696004929649789") and tx[0].currency == "ETH"
    assert tx[0].to_account == "0x003dc32fe920a4aaeed12dc87e145f030aa753f3"


def test_statement_whose_header_ends_with_a_delimiter_keeps_every_row(fixtures):
    recs = run_parser(P, fixtures / FIN / "boc_header_trailing_comma_0081234567.csv")
    tx = _tx(recs)
    assert len(tx) == 12 and not issues(recs, "error")
    assert tx[1].description == "ගෙවීම් - කසුන් පෙරේරා" and tx[2].to_account == "8001234501"
    assert [t.ts for t in tx[2:5]] == [date(2024, 3, 3)] * 3 and [t.seq for t in tx[2:5]] == [3, 4, 5]


def test_a_ragged_row_in_a_later_block_keeps_every_locator_right(tmp_path, monkeypatch):
    import casegraph.parsers.tables.readers as tt

    monkeypatch.setattr(tt, "BLOCK_SIZE", 1 << 10)  # many small blocks: the odd rows fall in later ones
    lines = ["Txn Time,From Account,To Account,Amount,Currency"]
    for i in range(1, 201):
        row = f"2024-04-01 10:{i % 60:02d}:00,1001,{2000 + i},{i}.00,LKR"
        if i == 120:
            row += ",,"  # two empty cells too many: read
        if i == 150:
            row = f"2024-04-01 11:00:00,1001,{2000 + i}"  # two cells short: read, missing cells empty, warned
        if i == 170:
            row += ",EXTRA"  # a non-empty cell too many: cannot be matched, an error at its row
        lines.append(row)
    path = tmp_path / "ledger.csv"
    path.write_text("\n".join(lines) + "\n")
    recs = run_parser(P, path)
    tx = {t.prov.locator: t for t in _tx(recs)}
    assert len(tx) == 199 and "row:170" not in tx
    assert all(tx[f"row:{i}"].to_account == str(2000 + i) and tx[f"row:{i}"].seq == i for i in range(1, 201) if i != 170)
    assert tx["row:120"].amount == Decimal(120) and tx["row:150"].amount is None
    assert [i.prov.locator for i in issues(recs, "error")] == ["row:170"] and "EXTRA" in issues(recs, "error")[0].raw
    assert "row:150" in {i.prov.locator for i in issues(recs, "warning")}


# -- XLSX from the evidence store ------------------------------------------------------------------------
def _workbook(path, rows=2):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Statement"
    ws.append(["Account No: 0081234567"])
    ws.append(["Txn Date", "Value Date", "Description", "Cheque No", "Debit", "Credit", "Balance"])
    for i in range(rows):
        day = datetime(2024, 4, 8) + timedelta(days=i)
        ws.append([day, day, f"CASH DEPOSIT {i}", None, None, 1000 + i, 5000])
    wb.save(path)
    return path


def test_xlsx_statement_is_ingested_from_the_case(case, tmp_path):
    from casegraph.ingest.evidence import add_evidence
    from casegraph.ingest.pipeline import parse_exhibit

    exhibit = add_evidence(case, _workbook(tmp_path / "BOC statement.xlsx"), "B1")
    out = parse_exhibit(case, exhibit.sha256)  # detected and read from evidence/<sha256>, which has no extension
    assert out.parser == "transaction-table" and out.status == "complete" and out.records["transactions"] == 2
    rows = case.store.rows("SELECT locator, ts_precision, amount FROM transactions ORDER BY locator")
    assert [(r["locator"], r["ts_precision"], r["amount"]) for r in rows] == [
        ("xlsx:Statement!row=3", "day", Decimal(1000)),
        ("xlsx:Statement!row=4", "day", Decimal(1001)),
    ]


def test_an_unreadable_workbook_says_why(tmp_path):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 this is not really a zip")
    assert sniff(P, path) >= 0.5  # claimed, so that the run can say why it was not read
    with pytest.raises(ValueError, match="broken.xlsx: not a readable XLSX"):  # noqa: RUF043
        run_parser(P, path)


def test_workbook_expansion_is_bounded_before_reading(tmp_path, monkeypatch):
    import zipfile

    import casegraph.parsers.tables.readers as tt

    path = _workbook(tmp_path / "bomb.xlsx", rows=50)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as z:  # 1 MB of repeated shared strings, a few KB packed
        z.writestr("xl/sharedStrings.xml", "<sst>" + "<si><t>AAAAAAAAAAAAAAAA</t></si>" * 40_000 + "</sst>")
    monkeypatch.setattr(tt, "XLSX_MAX_SHARED_STRINGS", 200_000)  # stands for 128 MB
    with pytest.raises(ValueError, match=r"xl/sharedStrings.xml would expand to 1,[\d,]+ bytes \(limit 200,000\)"):
        run_parser(P, path)
    monkeypatch.setattr(tt, "XLSX_MAX_SHARED_STRINGS", 10 << 20)
    monkeypatch.setattr(tt, "XLSX_RATIO_FROM", 1 << 19)  # stands for 64 MB
    with pytest.raises(ValueError, match=r"xl/sharedStrings.xml would expand \d+ times"):
        run_parser(P, path)


# -- failed transfers and header drift -------------------------------------------------------------------
def test_etherscan_failed_transactions_are_marked_failed(fixtures):
    # shape: kernelwhisperer/privatefolio test/files/0xf98/etherscan.csv ("Transaction Hash" variant of the
    # header as in privatefolio's etherscan-internal HEADERS); Status "Error(0)"/"Error(1)" with ErrCode
    recs = run_parser(P, fixtures / FIN / "etherscan_normal_failed.csv")
    tx = _tx(recs)
    assert [t.status for t in tx] == ["success", "failed", "failed", None]
    assert tx[1].amount == Decimal("29.9") and tx[1].extra["status"] == "Error(0)"  # the source's value, as written
    assert [i.prov.locator for i in issues(recs, "warning") if "status value" in i.message] == ["row:4"]  # "Pending"


def test_etherscan_internal_and_erc20_status(fixtures):
    internal = _tx(run_parser(P, fixtures / FIN / "etherscan_internal_ragged.csv"))
    assert [t.status for t in internal] == ["success", "success", "failed"]
    assert {t.status for t in _tx(run_parser(P, fixtures / FIN / "etherscan_erc20.csv"))} == {"success"}


def test_tronscan_amount_tokenid_and_token_cell(fixtures):
    # columns as Jackalope-eth/Tronscan_USDT_Parser reads them: Token, From, To, Amount/TokenID, Time(UTC)
    path = fixtures / FIN / "tronscan_amount_tokenid.csv"
    assert sniff(P, path) >= 0.9
    recs = run_parser(P, path)
    a, b, c = _tx(recs)
    assert a.amount == Decimal("2500.5") and a.currency == "USDT" and a.asset_contract == "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
    assert a.ts == datetime(2024, 4, 20, 8, 15, tzinfo=timezone.utc) and [t.status for t in (a, b, c)] == ["success", "failed", "failed"]  # noqa: UP017
    assert c.currency == "TXYZopYRdj2D9XRtbG411XZZ3kM5VkAeBf" and c.asset_contract == c.currency  # only an address names it


@pytest.mark.parametrize("drifted", ["Time (UTC)", "time(utc)", "TIME(UTC)"])
def test_header_case_spacing_and_punctuation_drift(tmp_path, drifted):
    path = tmp_path / "tron.csv"
    path.write_text(
        f"Transaction Hash,{drifted},From Address,To Address,Amount / Token ID,Token Symbol\n"
        "ab12,2024-04-20 08:15:00,TPMa5grKsN4jV67jYLyQ3zjSuudofowkqF,TET8J56maUaAbx2T6vBNtyhbu39QHukgQF,5,USDT\n"
    )
    (t,) = _tx(run_parser(P, path))
    assert t.amount == Decimal(5) and t.currency == "USDT" and t.rail == "tron"


def test_tolerant_reading_below_a_title_block(tmp_path):
    # a statement with a title block (as tests/fixtures/finance/boc_statement.csv) and a short row
    path = tmp_path / "BOC_0081234567.csv"
    path.write_text(
        "BANK OF CEYLON\nAccount No : 0081234567\n\nTxn Date,Value Date,Description,Cheque No,Debit,Credit,Balance\n"
        "14/03/2024,14/03/2024,FEE,,10.00,,90.00\n15/03/2024,15/03/2024,SHORT ROW\n"
        "16/03/2024,16/03/2024,CEFT CR 8001234501,,,5.00,95.00\n"
    )
    recs = run_parser(P, path)
    assert [(t.prov.locator, t.description) for t in _tx(recs)] == [
        ("row:1", "FEE"),
        ("row:2", "SHORT ROW"),
        ("row:3", "CEFT CR 8001234501"),
    ]
    assert "row:2" in {i.prov.locator for i in issues(recs, "warning")}


def test_the_whole_file_encoding_check_says_ascii_only_when_every_byte_is(tmp_path):
    from casegraph.parsers.tables.readers import _decodes

    cases = {
        "empty": (b"", "ascii", "ascii"),
        "ascii": (b"Date,Amount\r\n03/03/2024,1500.00\r\n", "ascii", "ascii"),
        "sinhala": ("Date,Narration\n03/03/2024,ශ්‍රී ලංකා\n".encode(), "utf-8", None),
        "tamil-last-byte": (b"a\n" * 100_000 + "தமிழ்".encode(), "utf-8", None),  # the one non-ASCII run at the very end
        "cp1252": ("Date,Narration\n03/03/2024,Café\n".encode("cp1252"), None, "cp1252"),
    }
    for name, (data, as_utf8, as_cp1252) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        assert (_decodes(path, "utf-8"), _decodes(path, "cp1252")) == (as_utf8, as_cp1252), name


def test_a_quoted_cell_with_line_breaks_is_read_whole_wherever_the_blocks_fall(tmp_path, monkeypatch):
    # Arrow is first asked to read without looking for line breaks inside quotes (cheaper); a cell that
    # spans two blocks then stops it ("out of sync") and the file is read again from the rows already given.
    # Shape of the cell: a note over several lines with a comma and doubled quotes, as in the bank CSVs of
    # moneymanagerex/moneymanagerex#7030 ("""Line1<LF>Line2"", Line3") and Coinbase's notes field
    # (plaintextaccounting/hledger#841); CRLF and LF mixed, as Windows exports pasted into by hand are.
    import pyarrow.csv as pacsv

    import casegraph.parsers.tables.readers as tt
    import casegraph.parsers.transaction_table as table

    monkeypatch.setattr(tt, "BLOCK_SIZE", 1 << 9)  # about six rows a block
    reads, real = [], pacsv.open_csv

    def open_csv(*args, **kwargs):
        reads.append(kwargs["parse_options"].newlines_in_values)
        return real(*args, **kwargs)

    monkeypatch.setattr(table.pacsv, "open_csv", open_csv)
    tried = set()
    written = ('CEFT, "REF 99"\r\nline two\nline three', "ශ්‍රී ලංකා බැංකුව\r\nதமிழ் பணப் பரிமாற்றம்")  # English; Sinhala and Tamil
    for at in range(1, 16):  # the multi-line cell in the first block, inside later ones, across their boundaries
        reads.clear()
        lines = ['"Txn Time","From Account","To Account","Amount","Currency","Narration"']
        for i in range(1, 41):
            narration = (written[at % 2] if i == at else f"CEFT {2000 + i}").replace('"', '""')
            lines.append(f'"2024-04-01 10:{i % 60:02d}:00","1001","{2000 + i}","{i}.00","LKR","{narration}"')
        path = tmp_path / f"ledger{at}.csv"
        path.write_text("\n".join(lines) + "\n", newline="")
        recs = run_parser(P, path)
        tx = _tx(recs)
        assert [t.prov.locator for t in tx] == [f"row:{i}" for i in range(1, 41)], at
        assert [t.amount for t in tx] == [Decimal(i) for i in range(1, 41)], at
        assert tx[at - 1].description == written[at % 2] and tx[at].description == f"CEFT {2001 + at}", at
        assert not [i for i in issues(recs) if i.prov.locator.startswith("row:")], at
        tried.add(tuple(reads))
    assert tried == {(False,), (False, True)}  # both ways were taken


def test_cells_are_trimmed_and_exponents_read_fully_on_the_fast_paths(tmp_path):
    # the ASCII fast paths look at bytes: a cell with edge spaces is still trimmed, an amount written
    # with an exponent still takes the full reading (and is refused as not a number)
    path = tmp_path / "ledger.csv"
    path.write_text(
        "Txn Time,From Account,To Account,Amount,Currency\n"
        "2024-04-01 10:00:00, 1001,2001 ,1.50,LKR\n"
        "2024-04-01 10:01:00,1001,2002,1E3,LKR\n"
        "2024-04-01 10:02:00,1001,\t2003,7,LKR\n"
    )
    recs = run_parser(P, path)
    tx = _tx(recs)
    assert [(t.from_account, t.to_account) for t in tx] == [("1001", "2001"), ("1001", "2002"), ("1001", "2003")]
    assert [t.amount for t in tx] == [Decimal("1.5"), None, Decimal(7)]
    assert {i.prov.locator for i in issues(recs, "warning")} == {"file", "row:2"}  # file: no account of its own named
    assert any("amount is not a number" in i.message for i in issues(recs, "warning"))


def test_numbered_locators_match_the_plain_construction():
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from casegraph.model import numbered

    def plain(prefix, start, n):
        return pc.binary_join_element_wise(prefix, pa.array(np.arange(start, start + n, dtype=np.int64)).cast(pa.string()), "")

    for prefix, start, n in [("row:", 1, 1), ("row:", 0, 12_345), ("row:", 95, 10), ("x", 99_990, 20), ("", 5, 100), ("ür:", 1, 30),
                             ("row:", 10**17 - 2, 5), ("row:", -3, 10), ("row:", 1, 0)]:  # fmt: skip
        got = numbered(prefix, start, n)
        got.validate(full=True)
        assert got.equals(plain(prefix, start, n)), (prefix, start, n)


def test_trim_skips_the_rewrite_only_when_no_value_starts_or_ends_with_whitespace():
    """_trim gives exactly what the trim kernels give, on values that are empty, null, sliced, or start or
    end with ASCII or Unicode spaces (no-break, ideographic, en quad), in Sinhala, Tamil and English."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from casegraph.parsers.tables.convert import _trim

    words = ["LKR", "ශ්‍රී ලංකා", "தமிழ்", "", None, " lead", "trail ", "\tTAB", "in side", "\u00a0nbsp", "ideo\u3000", "\u2000q", "x\r"]
    cases = [words, [w for w in words if w is None or w.strip() == w], ["", "", None], ["a", "", "", "b"], ["", " ", ""], []]
    for values in cases:
        arr = pa.array(values, pa.string())
        for a in (arr, arr.slice(1), arr.slice(0, max(len(arr) - 1, 0))):
            ascii = all(v is None or v.isascii() for v in a.to_pylist())
            kernel = pc.ascii_trim_whitespace if ascii else pc.utf8_trim_whitespace
            assert _trim(a, ascii).equals(kernel(a)), (values, a.offset, len(a))
        assert _trim(arr, False).equals(pc.utf8_trim_whitespace(arr))
