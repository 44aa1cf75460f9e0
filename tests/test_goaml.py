"""goAML reports in every party form the 5.0.x schema allows.

Fixture shapes (written for these tests, names and numbers invented):
- goaml_ctr_company.xml after the real DFCC Bank CTR in KasunHewagamaDFCC/GOAML_Validator
  `INPUT/CTR 23 to 24 OCT.xml`: t_from_my_client / t_to_my_client, company holders (`t_entity`
  inside an account) with `director_id` (NIC in `ssn`, role OWNR/DRCT), signatories with role
  ACHLD, `date_transaction` written `2024-04-12T00:00:00.0000000` (seven fraction digits, no time).
- goaml_sar_activity.xml after Vyttah/goAML `src/test/resources/golden/SAR.xml` / `AIF.xml` /
  `DPMSR.xml` / `ECDD.xml`: no transaction, an `activity` whose `report_party` holds
  `person_my_client` (also `entity_my_client`, `account_my_client`), phones with `tph_country_prefix`,
  `identifications/identification`.
- goaml_multiparty.xml after the `involved_parties/party` (t_party: role + one of six forms) branch of
  goAMLSchema.xsd 5.0.2 (Vyttah/goAML `src/main/resources/xsd/goaml/5.0.2/goAMLSchema.xsd`).
- goaml_subset.xsd: a small subset of that schema's report/transaction sequence.
"""

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from parse_helpers import identifiers, issues, of, run_parser, sniff

from casegraph.model import Contact, Transaction
from casegraph.parsers.goaml_xml import GoAML

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
    assert cash.extra["time_basis"].startswith("wall clock")
    assert cash.prov.locator == "xml:/report/transaction[1]"
    assert transfer.amount is None and transfer.to_account == "8001234501"  # "1,500,000.00" is not a goAML amount
    assert any("amount_local" in i.message for i in issues(recs, "warning"))
    person = next(c for c in of(recs, Contact) if c.extra.get("role") == "from person")
    assert person.phones == ["0771234567"] and person.extra["address"] == "12 Temple Road, Maharagama, LK"
    assert person.prov.locator == "xml:/report/transaction[1]/t_from/from_person"
    ids = {(i.kind, i.value, i.role) for i in identifiers(recs)}
    assert {
        ("nic", "198512512345", "holder"),
        ("phone", "0771234567", "holder"),
        ("bank-account", "0081234567", "holder"),
        ("phone", "+94 77 123 4567", "holder"),
        ("email", "nuwan.jobs@example.lk", "holder"),
        ("bank-account", "0081234567", "signatory"),
    } <= ids
    assert any("report_code=STR" in i.message for i in issues(recs, "info"))
    assert any("2 transaction times without an offset" in i.message for i in issues(recs, "info"))


def test_ctr_company_holders_directors_signatories_conductor(fixtures):
    recs = run_parser(P, fixtures / "finance/goaml_ctr_company.xml")
    deposit, withdrawal, transfer = of(recs, Transaction)
    assert deposit.from_name == "LANKA OVERSEAS JOB AGENCY" and deposit.to_account == "101001029999"
    assert deposit.to_name == "LANKA OVERSEAS JOB AGENCY"  # the account has no account_name: its company holder's
    assert deposit.ts == date(2024, 4, 12) and "date only" in deposit.extra["time_basis"]  # 00:00:00.0000000: no time
    assert withdrawal.ts is None and withdrawal.to_account == "952424173V"  # the person by the NIC in <ssn>
    assert transfer.ts == datetime(2024, 4, 14, 15, 42, 10) and transfer.to_account == "AE070331234567890123456"
    contacts = {c.prov.locator.removeprefix("xml:/report/"): c for c in of(recs, Contact)}
    holder = contacts["transaction[1]/t_to_my_client/to_account/t_entity"]
    assert holder.extra["role"] == "to account holder (company)" and holder.extra["incorporation_number"] == "WC21999"
    d2 = contacts["transaction[1]/t_to_my_client/to_account/t_entity/director_id[2]"]
    assert d2.name == "WIJESINGHE MUDIYANSELAGE NILMINI" and d2.extra["nic"] == "858292556V"
    assert d2.extra["role"] == "director" and d2.extra["relation"] == "DRCT" and d2.extra["of"] == "LANKA OVERSEAS JOB AGENCY"
    owner = contacts["transaction[1]/t_from_my_client/from_entity/director_id[1]"]
    assert owner.phones == ["0771234567"]  # a director's phone is the director's, not the company's
    assert contacts["transaction[1]/t_from_my_client/from_entity"].phones == ["+94 112345678"]
    conductor = contacts["transaction[1]/t_from_my_client/t_conductor"]
    assert conductor.name == "KASUN PERERA" and conductor.extra["role"] == "from conductor"
    sig = contacts["transaction[2]/t_from_my_client/from_account/signatory[1]/t_person"]
    assert sig.extra["relation"] == "ACHLD" and sig.extra["primary"] and sig.extra["nic"] == "952424173V"
    assert sig.extra["address"] == "HONSY WATTA  DIKOYA, NUWARA ELIYA, LK"
    ids = {(i.kind, i.value, i.role, i.prov.locator.removeprefix("xml:/report/")) for i in identifiers(recs)}
    assert ("nic", "197413302906", "holder", "transaction[1]/t_to_my_client/to_account/t_entity/director_id[1]") in ids
    assert ("company-registration", "WC21999", "holder", "transaction[1]/t_to_my_client/to_account/t_entity") in ids
    assert ("bank-account", "101001029999", "holder", "transaction[1]/t_to_my_client/to_account/t_entity") in ids
    assert ("bank-account", "101001044808", "signatory", "transaction[2]/t_from_my_client/from_account/signatory[1]/t_person") in ids
    assert ("iban", "AE070331234567890123456", "holder", "transaction[3]/t_to/to_account") in ids
    (undated,) = [i for i in issues(recs, "warning") if "date_transaction" in i.message]
    assert undated.prov.locator == "xml:/report/transaction[2]" and "leave it out" in undated.message
    assert not issues(recs, "error")


def test_activity_report_my_client_forms(fixtures):
    """The SAR / AIF / DPMSR / ECDD shape: parties in `*_my_client` forms, no transaction."""
    recs = run_parser(P, fixtures / "finance/goaml_sar_activity.xml")
    assert not of(recs, Transaction) and not issues(recs, "error") and not issues(recs, "warning")
    by_role = {}
    for c in of(recs, Contact):
        by_role.setdefault(c.extra["role"], []).append(c)
    person, entity, account = by_role["reported party"]
    assert person.prov.locator.endswith("report_party[1]/person_my_client") and person.name == "Mohamed Rizwan"
    assert person.phones == ["+971 501112233"] and person.emails == ["rizwan.recruit@example.ae"]
    assert person.extra["reason"] == "Receives agency fees from many workers" and person.extra["significance"] == "8"
    assert entity.name == "GULF MANPOWER SERVICES LLC" and entity.extra["incorporation_number"] == "DED-778812"
    assert account.extra["account"] == "0190-445566" and account.organisation == "Alpha Exchange LLC"
    assert by_role["director"][0].extra["passport"] == "N1234567"
    assert by_role["signatory"][0].extra["national_id"] == "784198512345699"
    assert by_role["reporting person"][0].name == "Fathima Rizna"
    ids = {(i.kind, i.value) for i in identifiers(recs)}
    assert {
        ("nic", "198507201234"),
        ("passport", "N1234567"),
        ("national-id", "784198512345699"),
        ("bank-account", "0190-445566"),
        ("company-registration", "DED-778812"),
        ("phone", "+971 501112233"),
    } <= ids


def test_multi_party_transaction(fixtures):
    recs = run_parser(P, fixtures / "finance/goaml_multiparty.xml")
    (tx,) = of(recs, Transaction)
    assert tx.amount == Decimal("450000.00") and tx.from_account is None and tx.to_account is None
    assert [p["role"] for p in tx.extra["parties"]] == ["SEND", "BENE"]
    assert tx.extra["parties"][1] == {"role": "BENE", "end": "996330123V", "name": "Sithara Kumari", "form": "person_my_client"}
    assert tx.ts == datetime(2024, 6, 1, 16, 45, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    assert tx.extra["time_basis"] == "offset stated in the report"
    assert any("multi-party" in i.message for i in issues(recs, "info"))
    assert not any("wall clock" in i.message for i in issues(recs))  # every time stated its offset


def test_report_zone_option(fixtures):
    recs = run_parser(GoAML(timezone="Asia/Dubai"), fixtures / "finance/goaml_str.xml")
    cash = of(recs, Transaction)[0]
    assert cash.ts.utcoffset() == timedelta(hours=4) and cash.ts.replace(tzinfo=None) == datetime(2024, 4, 8, 11, 20)
    assert cash.extra["time_basis"] == "report time zone Asia/Dubai (examiner option)"
    with pytest.raises(ValueError, match="not a known IANA time zone"):
        GoAML(timezone="Mars/Olympus")


def test_dst_ambiguity_is_flagged(tmp_path):
    p = tmp_path / "london.xml"
    p.write_text(
        "<report><rentity_id>1</rentity_id><report_code>STR</report_code><currency_code_local>GBP</currency_code_local>"
        "<transaction><transactionnumber>1</transactionnumber><date_transaction>2024-10-27T01:30:00</date_transaction>"
        "<amount_local>10</amount_local><t_from><from_account><account>A</account></from_account></t_from>"
        "<t_to><to_account><account>B</account></to_account></t_to></transaction></report>"
    )
    recs = run_parser(GoAML(timezone="Europe/London"), p)
    assert any("ambiguous or does not exist" in i.message for i in issues(recs, "warning"))


def test_a_report_without_records_is_an_error(tmp_path):
    p = tmp_path / "wrapped.xml"
    p.write_text(
        "<report><rentity_id>1</rentity_id><report_code>CTR</report_code><transactions><transaction>"
        "<transactionnumber>1</transactionnumber></transaction></transactions></report>"
    )
    (err,) = issues(run_parser(P, p), "error")
    assert "no transaction and no reported party" in err.message and "wrapped.xml" in err.message
    assert "transactions ×1" in err.message


def test_unknown_party_form_is_a_warning_not_silence(tmp_path):
    p = tmp_path / "odd.xml"
    p.write_text(
        "<report><rentity_id>1</rentity_id><report_code>STR</report_code><transaction>"
        "<transactionnumber>9</transactionnumber><date_transaction>2024-01-01T10:00:00</date_transaction>"
        "<amount_local>5</amount_local><t_from><from_wallet>0xabc</from_wallet></t_from></transaction></report>"
    )
    recs = run_parser(P, p)
    assert len(of(recs, Transaction)) == 1
    assert any("t_from names no from_account" in i.message and "from_wallet" in i.message for i in issues(recs, "warning"))


def test_namespaced_report_is_read(tmp_path):
    p = tmp_path / "ns.xml"
    p.write_text(
        '<report xmlns="http://www.unodc.org/goaml"><rentity_id>1</rentity_id><report_code>STR</report_code>'
        "<transaction><transactionnumber>9</transactionnumber><date_transaction>2024-01-01T10:00:00</date_transaction>"
        "<amount_local>5</amount_local><t_from><from_account><account>A1</account></from_account></t_from>"
        "<t_to><to_account><account>B1</account></to_account></t_to></transaction></report>"
    )
    (tx,) = of(run_parser(P, p), Transaction)
    assert (tx.from_account, tx.to_account, tx.amount) == ("A1", "B1", Decimal(5))


def test_schema_validation_reports_each_deviation_with_its_line(fixtures):
    xsd = fixtures / "finance/goaml_subset.xsd"
    recs = run_parser(GoAML(schema=str(xsd)), fixtures / "finance/goaml_str.xml")
    (dev,) = [i for i in issues(recs, "warning") if i.message.startswith("schema goaml_subset.xsd")]
    assert dev.prov.locator == "xml:line:53" and "1,500,000.00" in dev.message
    assert any("validated against goaml_subset.xsd (sha256 " in i.message and "1 deviations" in i.message for i in issues(recs, "info"))
    assert len(of(recs, Transaction)) == 2  # validation reports; it never drops records
    ok = run_parser(GoAML(schema=str(xsd)), fixtures / "finance/goaml_multiparty.xml")
    assert any(": 1 deviations" in i.message or "deviations" in i.message for i in issues(ok, "info"))
    with pytest.raises(ValueError, match="no such file"):
        GoAML(schema="/nonexistent.xsd")


def test_schema_with_external_entity_or_network_is_not_followed(tmp_path, fixtures):
    evil = tmp_path / "evil.xsd"
    evil.write_text(
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
        '<xs:include schemaLocation="http://example.invalid/x.xsd"/>'
        '<xs:element name="report"><xs:annotation><xs:documentation>&e;</xs:documentation></xs:annotation></xs:element>'
        "</xs:schema>"
    )
    recs = run_parser(GoAML(schema=str(evil)), fixtures / "finance/goaml_multiparty.xml")
    assert len(of(recs, Transaction)) == 1
    assert not any("root:" in (i.message + (i.raw or "")) for i in issues(recs))


def test_entity_expansion_is_refused(tmp_path):
    p = tmp_path / "bomb.xml"
    p.write_text(
        '<?xml version="1.0"?><!DOCTYPE report [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        "<report><report_code>STR</report_code><reason>&b;</reason></report>"
    )
    (err,) = issues(run_parser(P, p), "error")
    assert "refused" in err.message and "bomb.xml" in err.message


def test_portal_placeholders_are_not_values(fixtures):
    """Shaped after a Ghana FIC goAML 5.1 CTR set embedded in a public SQL test script (found by searching
    public code for `<involved_parties>`; the index did not name its repository): mandatory fields the
    portal had nothing for are written "-", "---", "-----"; multi-party transactions; amounts with four
    decimals; account_my_client with related_persons/account_related_person (role code + t_person)."""
    recs = run_parser(P, fixtures / "finance/goaml_portal_multiparty.xml")
    (tx,) = of(recs, Transaction)
    assert tx.amount == Decimal("1030100.0000") and tx.ts == date(2024, 4, 11) and tx.extra["transaction_status"] == "C"
    assert tx.extra["parties"] == [{"form": "entity_my_client"}, {"role": "13", "end": "7003344551", "form": "account_my_client"}]
    values = {i.value for i in identifiers(recs)}
    assert values == {"7003344551", "916830456V"}  # no "-" or "-----" became an identifier
    related = next(c for c in of(recs, Contact) if c.extra.get("role") == "account related person")
    assert related.name == "Chamari Wickramasinghe" and related.extra["relation"] == "13"
    assert related.extra["account"] == "7003344551" and related.extra["nic"] == "916830456V"
    assert not any("indicators" in i.message for i in issues(recs, "info"))
