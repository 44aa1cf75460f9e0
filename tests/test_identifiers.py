"""Normalisation: every written form of one identifier gives one join key."""

from datetime import date

import pytest

from casegraph.graph.identifiers import nic_matches, normalise


@pytest.mark.parametrize(
    "raw",
    [
        "077 123 4567",
        "0771234567",
        "0094 77 123 4567",
        "94771234567",
        "+94 (0)77 123 4567",
        "+94-77-123-4567",
        "94771234567@s.whatsapp.net",
        "\u202a+94 77 123 4567\u202c".strip("\u202a\u202c"),
    ],
)
def test_sri_lankan_phone_forms(raw):
    n = normalise("phone", raw)
    assert (n.value, n.valid, n.detail["country"], n.detail["type"]) == ("+94771234567", True, "LK", "mobile")


def test_foreign_lid_and_invalid_phones():
    assert normalise("phone", "+95 9 254 318 876").value == "+959254318876"
    lid = normalise("phone", "185000000000001@lid")
    assert lid.kind == "whatsapp-lid" and lid.valid
    assert not normalise("phone", "1200 450 000").valid


def test_nic_old_and_new_forms_join_and_decode():
    old, new = normalise("nic", "851234567V"), normalise("nic", "198512304567")
    assert old.value == new.value == "198512304567"
    assert old.detail == {"form": "old", "birth_date": "1985-05-02", "sex": "male"}  # day 123 of a 366-day year
    woman = normalise("nic", "197565112345")  # day 651 → 151 → 30 May (366-day year), a woman
    assert woman.valid and woman.detail["sex"] == "female" and woman.detail["birth_date"] == "1975-05-30"
    assert normalise("nic", "199060012345").detail == {"form": "new", "birth_date": "1990-04-09", "sex": "female"}
    assert not normalise("nic", "199037012345").valid  # day 370: no such day
    assert not normalise("nic", "1999060").valid
    assert not normalise("nic", "199906012345").valid  # day 60 = 29 February, and 1999 has none
    assert nic_matches("851234567V", date(1985, 5, 2), "male") and not nic_matches("851234567V", date(1985, 5, 3))
    assert nic_matches("851234567V", sex="female") is False and nic_matches("bogus") is None


def test_money_identifiers():
    assert normalise("bank-account", "008-123 4567").value == "0081234567"
    assert normalise("iban", "GB82 WEST 1234 5698 7654 32").valid
    assert not normalise("iban", "GB82 WEST 1234 5698 7654 33").valid
    e = normalise("eth", "0x52908400098527886e0f7030069857d2e4169ee7")
    assert e.value == "0x52908400098527886E0F7030069857D2E4169EE7" and e.valid
    assert not normalise("eth", "0x52908400098527886e0F7030069857D2E4169EE7").valid  # mixed case, wrong checksum
    t = normalise("tron", "41a614f803b6fd780986a42c78ec9c7f77e6ded13c")
    assert t.value == "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t" and t.valid
    assert not normalise("tron", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u").valid
    assert normalise("btc", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq").detail["type"] == "segwit-v0"
    assert normalise("btc", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2").detail["type"] == "p2pkh"
    assert not normalise("btc", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3").valid


def test_people_identifiers():
    assert normalise("email", " <Nuwan.Jobs@Example.LK> ").value == "nuwan.jobs@example.lk"
    assert normalise("username", "@Nuwan_Jobs").value == "nuwan_jobs"
    p = normalise("passport", "n 1234567")
    assert p.value == "N1234567" and p.detail == {"format": "Sri Lankan"}
