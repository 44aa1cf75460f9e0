from parse_helpers import identifiers, issues, of, run_parser, sniff

from casegraph.model import Contact
from casegraph.parsers.vcard import VCard

P = VCard()


def test_vcard_versions_qp_folding(fixtures):
    path = fixtures / "vcard/contacts.vcf"
    assert sniff(P, path) >= 0.9
    recs = run_parser(P, path)
    nuwan, rizwan, chen, truncated = of(recs, Contact)
    assert nuwan.name == "නුවන් ඒජන්ත" and nuwan.phones == ["+94 77 123 4567", "0112345678"]
    assert nuwan.prov.locator == "line:1-9" and nuwan.extra["version"] == "2.1"
    assert rizwan.phones == ["071 555 0199"] and rizwan.emails == ["rizwan.m@example.lk"]
    assert rizwan.note == "sub agent, Kandy\nsays he has visas" and rizwan.organisation == "Rizwan Travels"
    assert rizwan.usernames == ["https://facebook.com/rizwan.travels. lk"]
    assert chen.phones == ["+95-9-254-318-876"]
    assert truncated.name == "Truncated Person"
    msgs = [(i.prov.locator, i.message) for i in issues(recs)]
    assert ("line:26", "line outside a vCard") in msgs
    assert any("no END:VCARD" in m for _, m in msgs)
    assert ("phone", "071 555 0199", "contact") in {(i.kind, i.value, i.role) for i in identifiers(recs)}
