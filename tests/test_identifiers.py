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


# -- phones in bulk: the same answers as phonenumbers, number by number --------------------------------
def _spellings():
    """Every 3-digit start of a Sri Lankan national number (mobile 70-78, the fixed-line areas, UAN 1973, unused
    ranges), at the lengths around the real one, as E.164, as a WhatsApp JID, and as other spellings that
    must be left to phonenumbers (0094, local 0, spaces, a trunk 0 after +94)."""
    out = []
    for start in range(100, 1000):
        for rest in ("234567", "999999", "00000", "1234567"):
            nsn = f"{start}{rest}"
            out += [f"+94{nsn}", f"94{nsn}@s.whatsapp.net", f"94{nsn}@c.us"]
    out += ["+94197312345", "+940771234567", "0094771234567", "0771234567", "+94 77 123 4567", "94771234567", "+9477"]
    out += ["+971501234567", "971501234567@s.whatsapp.net", "+12025550123", "185000000000001@lid", "", "+94٧٧١٢٣٤٥٦٧"]
    return out


@pytest.mark.parametrize("region", ["LK", "AE"])
def test_bulk_phone_check_gives_what_phonenumbers_gives(region):
    import pyarrow as pa

    from casegraph.identifiers import phone, phones_e164

    values = _spellings()
    done, canonical, typ = phones_e164(pa.array(values), region)
    assert done.sum() > 1000 if region == "LK" else done.sum() >= 2
    for raw, ok, key, t in zip(values, done.tolist(), canonical.to_pylist(), typ.to_pylist(), strict=True):
        slow = phone(raw, region)
        if ok:
            assert (key, True, {"country": region, "type": t}) == (slow.value, slow.valid, slow.detail), raw
        elif region == "LK" and raw.startswith("+94") and raw[3:].isascii() and raw[3:].isdigit() and raw[3] != "0":
            assert not slow.valid, raw  # every valid +94 number in E.164 is taken in bulk


def test_keys_in_bulk_are_the_keys_one_by_one(tmp_path):
    """identifier_keys as keys.refresh writes it (E.164 in bulk, the rest one by one) is what normalise gives
    for every value: phones in many spellings, NICs old and new, emails, accounts, a mobile-money number."""
    import pyarrow as pa

    from casegraph.graph import keys
    from casegraph.model import to_json
    from casegraph.store import CaseStore, rows_table

    values = [("phone", v) for v in _spellings()[::7]] + [
        ("phone", "CASH-AGENT-12"),
        ("nic", "851234567V"),
        ("nic", "198512304567"),
        ("nic", "85123456 7v"),
        ("email", " Kasun@Example.LK "),
        ("bank-account", "008-123-4567"),
        ("username", "@Nuwan_94"),
    ]
    s = CaseStore(tmp_path / "case.duckdb")
    n = len(values)
    s.con.register(
        "ids_in",
        pa.table({"kind": [k for k, _ in values], "value": [v for _, v in values], "r": [f"messages/x/p/line:{i}" for i in range(n)]}),
    )
    s.con.execute(f"""INSERT INTO {rows_table("identifiers")} (kind, value, role, record_id, platform, exhibit_sha256, parser,
                      parser_version, locator) SELECT kind, value, 'sender', r, 'sms', '{"e" * 64}', 'p', '1', r FROM ids_in""")
    assert keys.refresh(s) == len(set(values))
    rows = s.con.execute("SELECT kind, value, key_kind, key, valid, detail, node FROM identifier_keys").fetchall()
    got = {(r[0], r[1]): r[2:] for r in rows}
    for kind, value in set(values):
        m = normalise(kind, value)
        if kind == "phone" and not m.valid and m.kind == "phone":
            m = normalise("wallet-account", value)
        want = (m.kind, m.value, m.valid, to_json(m.detail) if m.detail else None, keys.node_key(m.kind, m.value))
        assert got[(kind, value)] == want, (kind, value)
    assert keys.refresh(s) == 0
    s.close()
