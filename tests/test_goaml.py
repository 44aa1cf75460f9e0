from datetime import datetime
from decimal import Decimal

from casegraph.model import Contact, Transaction
from casegraph.parsers.goaml_xml import GoAML

from parse_helpers import identifiers, issues, of, run_parser, sniff

P = GoAML()


def test_str_report(fixtures):
    path = fixtures / "finance/goaml_str.xml"
    assert sniff(P, path) >= 0.9
    recs = run_parser(P, path)
    cash, transfer = of(recs, Transaction)
    assert cash.reference == "BOC-TXN-77120" and cash.amount == Decimal("990000.00") and cash.currency == "LKR"
    assert cash.from_account == "198512512345" and cash.from_name == "Nuwan Jayawardena"  # a person: by NIC
    assert cash.to_account == "0081234567" and cash.ts == datetime(2024, 4, 8, 11, 20)
    assert cash.extra["report_code"] == "STR" and cash.extra["transmode_code"] == "C" and cash.extra["to_my_client"]
    assert cash.prov.locator == "xml:/report/transaction[1]"
    assert transfer.amount is None and transfer.to_account == "8001234501"  # "1,500,000.00" is not a goAML amount
    assert any("amount_local" in i.message for i in issues(recs, "warning"))
    person = next(c for c in of(recs, Contact) if c.extra.get("role") == "t_from")
    assert person.phones == ["0771234567"] and person.extra["address"] == "12 Temple Road, Maharagama, LK"
    assert person.prov.locator == "xml:/report/transaction[1]/t_from/from_person"
    ids = {(i.kind, i.value, i.role) for i in identifiers(recs)}
    assert {("nic", "198512512345", "holder"), ("phone", "0771234567", "holder"), ("bank-account", "0081234567", "holder"),
            ("phone", "+94 77 123 4567", "holder"), ("email", "nuwan.jobs@example.lk", "holder")} <= ids
    assert "report_code=STR" in issues(recs, "info")[0].message


def test_entity_expansion_is_refused(tmp_path):
    p = tmp_path / "bomb.xml"
    p.write_text('<?xml version="1.0"?><!DOCTYPE report [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
                 "<report><report_code>STR</report_code><reason>&b;</reason></report>")
    (err,) = issues(run_parser(P, p), "error")
    assert "refused" in err.message and "bomb.xml" in err.message
