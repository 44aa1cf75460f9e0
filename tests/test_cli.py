"""The CLI end to end: init, intake, ingest, verify, tamper, demo."""

import json

from click.testing import CliRunner

from casegraph.cli import main


def run(*args, code=0):
    r = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert r.exit_code == code, r.output
    return r.output


def test_init_add_verify_and_tamper(tmp_path):
    case = tmp_path / "c"
    run("case", "init", case, "--case-no", "HTS/2026/041", "--examiner", "IP Perera", "--timezone", "Asia/Colombo")
    f = tmp_path / "note.txt"
    f.write_text("recruiter's phone: 077 123 4567\n")
    out = run(
        "evidence", "add", case, f, "--exhibit", "P1", "--seized-from", "suspect A", "--acquired-by", "IP Perera", "--warrant", "B/22/2026"
    )
    assert "1 stored, 0 duplicates" in out
    out = run("evidence", "add", case, f, "--exhibit", "P1", "--seized-from", "suspect A", "--acquired-by", "IP Perera")
    assert "0 stored, 1 duplicates" in out
    assert "INTACT" in run("custody", "verify", case)
    lines = (case / "custody.jsonl").read_text().splitlines()
    ev = json.loads(lines[1])
    ev["actor"] = "tampered"
    lines[1] = json.dumps(ev)
    (case / "custody.jsonl").write_text("\n".join(lines) + "\n")
    out = run("custody", "verify", case, code=1)
    assert "NOT INTACT" in out and "line 2 (seq 2, intake)" in out


def test_unknown_case_directory_is_a_clear_error(tmp_path):
    out = run("case", "show", tmp_path, code=2)
    assert "not a case directory" in out


def test_help_lists_every_command():
    out = run("--help")
    for cmd in ("case", "evidence", "custody", "ingest", "parsers", "demo"):
        assert cmd in out


def test_demo_builds_a_verified_case(tmp_path):
    out = run("demo", tmp_path / "demo")
    assert "verdict INTACT" in out and "Demo case ready" in out
    assert (tmp_path / "demo" / "case" / "case.duckdb").exists()
    run("demo", tmp_path / "demo", code=2)  # refuses to overwrite without --overwrite


def test_money_commands_on_the_demo_case(tmp_path):
    run("demo", tmp_path / "d")
    case = tmp_path / "d" / "case"
    out = run("typologies", case)
    assert "structuring" in out and "0081234567" in out and "1 finding written" in out  # not "1 findings"
    out = run("trace", case, "--from", "0081234567", "--model", "fifo", "--hops", "3")
    assert "8001234501" in out and "findings written (trace:forward:fifo:0081234567)" in out
    assert "LKR 4,500,000.00" in out and "LKR 1,500,000.00" in out  # units and separators, sums per currency
    # an exchange-rate table taken into evidence like any exhibit, then used to convert (each rate cited)
    rates = tmp_path / "rates.csv"
    rates.write_text("date,from,to,rate,source\n2024-04-19,USDT,LKR,300.12,CBSL (examiner's table)\n")
    run("evidence", "add", case, rates, "--exhibit", "R1", "--seized-from", "CBSL website", "--acquired-by", "IP Perera")
    out = run("trace", case, "--from", "0081234567", "--rates", "R1", "--link", "TPMa5grKsN4jV67jYLyQ3zjSuudofowkqF=0081234567")
    assert "Rate table R1 (rates.csv): 1 rate read." in out and "USDT 5,825.286974" in out
    from casegraph.case import Case

    with Case(case) as c:
        ((summary, evidence),) = c.store.con.execute(
            "SELECT summary, evidence FROM findings WHERE detector = 'trace:forward:haircut:0081234567' "
            "AND title LIKE '%TET8J56maUaAbx2T6vBNtyhbu39QHukgQF%'"
        ).fetchall()
    assert (
        "Converted with the examiner's rate table: received USDT 5,825.286974 = LKR 1,748,285.13 (rate of 2024-04-19, cited)"
    ) in summary
    assert '"table":"exchange-rates"' in evidence.replace(" ", "") and '"table":"examiner-decision"' in evidence.replace(" ", "")
    out = run("trace", case, "--from", "0081234567", "--rates", "NOPE", code=2)
    assert "no exhibit" in out
    out = run("trace", case, "--from", "TET8J56maUaAbx2T6vBNtyhbu39QHukgQF", "--backward")
    assert "TPMa5grKsN4jV67jYLyQ3zjSuudofowkqF" in out
    out = run("trace", case, "--from", "NOBODY", code=1)
    assert "NOBODY" in out
    events = [json.loads(l)["action"] for l in (case / "custody.jsonl").read_text().splitlines()]  # noqa: E741
    assert events.count("trace") >= 3 and "typologies" in events  # the demo's own analyses are logged too
    assert "INTACT" in run("custody", "verify", case)
