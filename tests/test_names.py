import pytest

from casegraph.graph.names import fold, parse, romanise, similarity


@pytest.mark.parametrize(
    "a, b, low, high",
    [
        ("W.A.D. Perera", "Warnakulasuriya Arachchige Don Perera", 0.9, 0.95),  # initials against full names
        ("WAD Perera", "W.A.D. Perera", 0.9, 1.0),  # initials run together
        ("Kasun Perera", "K. Perera", 0.9, 0.99),
        ("Liyanage Kasun Perera", "Kasun Perera", 1.0, 1.0),  # a ge-name left out
        ("Rajendran Suresh", "Suresh Rajendran", 1.0, 1.0),  # Tamil patronymic order
        ("Suresh Rajendran", "R. Suresh", 0.9, 0.99),  # the father's initial first
        ("Jayawardena", "Jayewardene", 1.0, 1.0),  # spelling variants
        ("Nuwan Jayawardhana", "Nuwan Jayawardena", 1.0, 1.0),
        ("Murugan", "Murukan", 1.0, 1.0),
        ("Kasun Perera", "කසුන් පෙරේරා", 1.0, 1.0),  # Sinhala script
        ("Rajendran Suresh", "சுரேஷ் ராஜேந்திரன்", 0.95, 1.0),  # Tamil script
        ("Mr. Nimal Silva", "Nimal de Silva", 1.0, 1.0),  # title and particle
        ("Mohamed Rizwan", "Rizwan Bro", 0.9, 0.96),  # a kinship word, and the common first given name left out
        ("Kasun Perera", "Nimal Perera", 0.0, 0.55),  # only a common surname: different people
        ("Kasun Perera", "N. Perera", 0.0, 0.55),  # an initial that does not fit
        ("Kasun Perera", "Kamal Fernando", 0.0, 0.0),
    ],
)
def test_sri_lankan_name_rules(a, b, low, high):
    s = similarity(a, b)
    assert low <= s.score <= high, (a, b, s)
    assert s == similarity(b, a) or abs(s.score - similarity(b, a).score) < 0.01  # symmetric


def test_reasons_say_why():
    s = similarity("W.A.D. Perera", "Warnakulasuriya Arachchige Don Perera")
    assert "perera = perera" in s.reasons and "initial W. ~ warnakulasuriya" in s.reasons
    assert "different: kasun / nimal" in similarity("Kasun Perera", "Nimal Perera").reasons


def test_parsing_and_folding():
    assert parse("W.A.D. Perera").initials == ("w", "a", "d") and parse("W.A.D. Perera").words == ("perera",)
    assert parse("Rev. Anthony").words == ("anthony",)  # titles dropped
    assert fold("Jayawardhana") == fold("Jayewardene") == fold("Jayawardena")
    assert romanise("කසුන්") == "kasun"


@pytest.mark.parametrize(
    "a, b",
    [
        ("Kumara Perera", "Kumari Perera"),
        ("Nuwan Silva", "Nuwanthi Silva"),
        ("Chamara Fernando", "Chamari Fernando"),
        ("Sanjeewa Dias", "Sanjeewani Dias"),
        ("Rizwan Marikar", "Rizwana Marikar"),
        ("Imran Rizwan", "Imrana Rizwan"),
    ],
)
def test_masculine_and_feminine_given_names_are_two_people(a, b):
    s = similarity(a, b)
    assert s.score <= 0.5 and any(r.startswith("different") for r in s.reasons)


@pytest.mark.parametrize(
    "a, b",
    [
        ("Rizwan Bro", "Mohamed Rizwan"),  # issue #16: the README names this pair as handled
        ("Rizwan Aiya", "Mohammed Rizwan"),
        ("Haji Rizwan", "Mohd Rizwan"),  # an honorific dropped, the first given name abbreviated
        ("Mr. Rizwan", "Muhammad Rizwan"),
        ("Mohomed Rizwan", "Rizwan Machan"),  # the Sri Lankan spelling of Mohamed
        ("රිස්වාන් අයියා", "Mohamed Rizwan"),  # Sinhala script: "Rizwan aiya"
        ("ரிஸ்வான் அண்ணா", "Mohamed Rizwan"),  # Tamil script: "Rizwan anna"
        ("முகம்மது ரிஸ்வான்", "Rizwan"),  # Mohamed written in Tamil script
        ("Kasun Malli", "Liyanage Kasun"),  # a kinship word and a ge-name, each on one side
        ("Suresh Thambi", "சுரேஷ்"),
        ("Thiru Suresh Rajendran", "Suresh Rajendran"),  # Tamil "Mr."
        ("Chen Mahattaya", "Chen"),  # Sinhala "Mr.", after the name
    ],
)
def test_honorifics_kinship_words_and_the_common_first_name_do_not_keep_one_person_apart(a, b):
    s = similarity(a, b)
    assert s.score >= 0.9, (a, b, s)
    assert abs(s.score - similarity(b, a).score) < 0.01


@pytest.mark.parametrize(
    "a, b",
    [
        ("Mohamed Rizwan", "Mohamed Imran"),  # only the common first name agrees: two people
        ("Mohamed Bro", "Mohamed Rizwan"),
        ("Mohamed", "Mohamed"),  # "Mohamed" alone names no one
        ("Mohamed Rizwan", "Imran Rizwan"),  # another given name on one side
        ("Rizwan Bro", "Rizwana"),  # another name, not a kinship word
    ],
)
def test_the_common_first_name_alone_never_joins(a, b):
    assert similarity(a, b).score < 0.9, (a, b, similarity(a, b))


def test_the_reason_says_the_first_name_was_left_out():
    s = similarity("Rizwan Bro", "Mohamed Rizwan")
    assert "rizwan = rizwan" in s.reasons and "mohamed: a common first given name, written on one side only" in s.reasons
    assert "only the common first given name agrees" in similarity("Mohamed Bro", "Mohamed Rizwan").reasons


# -- bank narrations naming the counterparty (graph/narration.py) --------------------------------
@pytest.mark.parametrize(
    "text, name, account, side",
    [
        ("CEFT DR M RIZWAN 8001234501", "M RIZWAN", "8001234501", "to"),  # the demo statement's shape
        ("SLIPS CR S. SIVAKUMAR 1234567890", "S. SIVAKUMAR", "1234567890", "from"),
        ("IB TRF TO W.A.D. PERERA 0081234567 RENT", "W.A.D. PERERA", "0081234567", "to"),
        ("FT FROM NIMAL DE SILVA - 001-2345-678", "NIMAL DE SILVA", "0012345678", "from"),
        ("ceft/dr/m rizwan/8001234501", "m rizwan", "8001234501", "to"),
    ],
)
def test_a_narration_names_the_counterparty_and_its_account(text, name, account, side):
    from casegraph.graph.narration import counterparty

    c = counterparty(text)
    assert c is not None and (c.name, c.account, c.side) == (name, account, side)


@pytest.mark.parametrize("text", ["CEFT CR KASUN PERERA AGENCY FEE", "CEFT DR M RIZWAN", "POS KEELLS SUPER", "ATM WDL 123456", "", None])
def test_a_narration_without_an_account_number_names_no_holder(text):
    from casegraph.graph.narration import counterparty

    assert counterparty(text) is None


def _narrated_case(store, narration, to="8001234501", names=("Mohamed Rizwan",)):
    from graph_helpers import GROUP_EX, message, payment

    records = []
    for i, n in enumerate(names):
        records += message(GROUP_EX, f"line:{i + 1}", i, "account eka ewwa", sender_name=n)
    pay = payment("row:27", "0081234567", to, "1500000.00")
    pay.description = narration
    records.append(pay)
    store.write(records)
    return pay


@pytest.mark.parametrize("name", ["Mohamed Rizwan", "முகம்மது ரிஸ்வான்", "Rizwan M."])
def test_a_narration_joins_the_account_to_the_person_it_names_citing_the_row(tmp_path, name):
    from casegraph.graph import resolve
    from casegraph.store import CaseStore

    s = CaseStore(tmp_path / "c.duckdb")
    _narrated_case(s, "CEFT DR M RIZWAN 8001234501", names=(name,))
    res = resolve.resolve(s)
    link = next(l for l in res.links if l.method == "narration")  # noqa: E741
    assert link.a == "id:BankAccount:bank-account:8001234501" and link.score >= 0.9
    assert link.evidence["narration"] == "CEFT DR M RIZWAN 8001234501" and link.evidence["records"][0]["locator"] == "row:27"
    together = [ms for ms in res.entities.values() if link.a in ms]
    assert together and link.b in together[0]
    s.close()


def test_a_narration_joins_nothing_when_the_number_is_not_the_rows_end_or_two_people_fit(tmp_path):
    from casegraph.graph import resolve
    from casegraph.store import CaseStore

    s = CaseStore(tmp_path / "a.duckdb")
    _narrated_case(s, "CEFT DR M RIZWAN 8001234599")  # the row's other end is 8001234501
    assert not [l for l in resolve.resolve(s).links if l.method == "narration"]  # noqa: E741
    s.close()
    s = CaseStore(tmp_path / "b.duckdb")
    _narrated_case(s, "CEFT DR M RIZWAN 8001234501", names=("Mohamed Rizwan", "Mubarak Rizwan"))  # both fit "M RIZWAN"
    assert not [l for l in resolve.resolve(s).links if l.method == "narration"]  # noqa: E741
    s.close()


def test_names_that_carry_different_numbers_are_not_one_person():
    """Contact lists tell people apart by number ("Agent 1", "Agent 2"; a generated case's "Person 0" …
    "Person 399" were all joined into one person). Different numbers keep two names below review; a
    number on one side only (a second SIM: "Ajith 2") is left to the words, and digits of any script count."""
    from casegraph.graph.names import NUMBERS_DIFFER
    from casegraph.graph.resolve import REVIEW

    assert NUMBERS_DIFFER < REVIEW
    for a, b in [("Agent 1", "Agent 2"), ("Person 0", "Person 399"), ("Kasun 2", "Kasun ৩"), ("Nimal ١", "Nimal 2")]:
        got = similarity(a, b)
        assert got.score <= NUMBERS_DIFFER and "different numbers" in got.reasons[-1], (a, b, got)
    assert similarity("Agent ١", "Agent 1").score == 1.0  # the same number in Arabic-Indic digits
    assert similarity("Ajith 2", "Ajith").score == 1.0
