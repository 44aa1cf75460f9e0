"""The examiner's review loop in the CLI (issue #16): findings list/show with evidence quoted, parse
issues by severity, --json/--csv, entity decisions validated before they reach the custody log, and
messages that name what is wrong. One demo case serves the module."""

import csv
import io
import json

import pytest
from click.testing import CliRunner

from casegraph.cli import main
from casegraph.cli._ui import plural, table


def run(*args, code=0, columns="100", stdout=False):
    r = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False, env={"COLUMNS": columns})
    assert r.exit_code == code, r.output
    return r.stdout if stdout else r.output


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("review")
    run("demo", root / "d")
    return root / "d" / "case"


def events(case):
    return [json.loads(l) for l in (case / "custody.jsonl").read_text().splitlines()]  # noqa: E741


def test_findings_list_filters_and_formats(demo):
    rows = json.loads(run("findings", "list", demo, "--json"))
    assert {"structuring", "broker", "money-trace"} <= {r["kind"] for r in rows}
    brokers = json.loads(run("findings", "list", demo, "--kind", "broker", "--json"))
    assert brokers and all(r["kind"] == "broker" for r in brokers)
    table_out = run("findings", "list", demo, "--kind", "broker")
    assert all(b["id"] in table_out for b in brokers)  # ids printed whole, usable as they stand
    parsed = list(csv.DictReader(io.StringIO(run("findings", "list", demo, "--detector", "typologies", "--csv"))))
    assert parsed and {r["detector"] for r in parsed} == {"typologies"}
    assert json.loads(run("findings", "list", demo, "--detector", "nobody", "--json")) == []


def test_findings_list_by_person_and_since(demo):
    kasun = json.loads(run("findings", "list", demo, "--person", "Kasun", "--json"))
    assert kasun and len(kasun) < len(json.loads(run("findings", "list", demo, "--json")))
    late = json.loads(run("findings", "list", demo, "--since", "2024-04-16", "--json"))
    early = json.loads(run("findings", "list", demo, "--since", "2024-01-01", "--json"))
    assert len(late) < len(early)
    out = run("findings", "list", demo, "--since", "yesterday", code=2)
    assert "Invalid value for '--since': 'yesterday' is not a date" in out and "2024-04-01" in out
    assert "no person 'Nobody'" in run("findings", "list", demo, "--person", "Nobody", code=2)


def test_findings_show_quotes_every_cited_record(demo):
    s = json.loads(run("findings", "list", demo, "--kind", "structuring", "--json"))[0]
    shown = json.loads(run("findings", "show", demo, s["id"][:8], "--json"))
    assert shown["id"] == s["id"] and len(shown["evidence"]) == s["records"]
    assert all(e["exhibit"] == "B1" and e["locator"].startswith("row:") and "LKR" in e["text"] for e in shown["evidence"])
    text = run("findings", "show", demo, s["id"][:8])
    assert "Records cited (6)" in text and "row:17" in text
    assert "no finding 'zzzz'" in run("findings", "show", demo, "zzzz", code=2)


def test_parse_issues_are_counted_by_severity(demo):
    import duckdb

    con = duckdb.connect(str(demo / "case.duckdb"), read_only=True)
    truth = dict(con.execute("SELECT severity, count(*) FROM parse_issues_rows GROUP BY ALL").fetchall())
    con.close()
    counts = json.loads(run("parse-issues", demo, "--json"))
    for sev in ("error", "warning", "info"):
        assert sum(r[sev] for r in counts) == truth.get(sev, 0)
    assert truth.get("info", 0) >= 4 and not truth.get("error")
    line = (
        f"{truth.get('error', 0)} errors (input kept aside, not used), {truth.get('warning', 0)} "
        f"warning{'s' if truth.get('warning', 0) != 1 else ''}, {truth['info']} info notes."
    )
    assert line in run("parse-issues", demo)
    listed = json.loads(run("parse-issues", demo, "--exhibit", "B1", "--json"))
    assert listed and all(r["exhibit"] == "B1" for r in listed) and any(r["locator"] == "file" for r in listed)


def test_entity_decisions_are_validated_before_logging(demo):
    before = len(events(demo))
    assert "no person 'person:nope'" in run("entities", "merge", demo, "person:nope", "Kasun", "--reason", "x", code=2)
    assert "no person 'person:bogus'" in run("entities", "mark", demo, "person:bogus", "--role", "victim", "--reason", "x", code=2)
    assert "Missing option '--reason'" in run("entities", "mark", demo, "Kasun", "--role", "witness", code=2)
    assert len(events(demo)) == before  # nothing made-up reached the append-only log


def test_entities_show_takes_a_prefix_or_a_name(demo):
    people = json.loads(run("entities", "list", demo, "--json"))
    kasun = next(p for p in people if p["label"] == "Kasun")
    by_name = run("entities", "show", demo, "kasun")
    by_prefix = run("entities", "show", demo, kasun["id"].removeprefix("person:")[:6])
    assert kasun["id"] in by_name and kasun["id"] in by_prefix


def test_mark_is_logged_with_its_reason_and_entity(demo):
    run("entities", "mark", demo, "Kasun", "--role", "witness", "--reason", "statement of 22 April 2024")
    e = events(demo)
    mark = next(x for x in reversed(e) if x["action"] == "entities-mark")
    assert mark["details"]["reason"] == "statement of 22 April 2024" and mark["details"]["role"] == "witness"
    assert mark["details"]["entity"].startswith("person:")
    assert e[-1]["action"] == "resolve" and e[-1]["details"]["version"]  # the same step as 'casegraph resolve'


def test_path_error_keeps_the_name_whole(demo):
    out = run("path", demo, "Nobody", "Kasun", code=1)
    assert "error: 'Nobody': no such party" in out


def test_markup_in_names_is_text_and_plurals_agree():
    from rich.console import Console

    con = Console(width=100, record=True)
    con.print(table("t", ["file"], [["test_[mmddyy]_24hrs.txt"]]))
    assert "test_[mmddyy]_24hrs.txt" in con.export_text()
    assert plural(1, "finding") == "1 finding" and plural(2, "finding") == "2 findings"
    assert plural(1, "party", "parties") == "1 party" and plural(1000, "account") == "1,000 accounts"


def test_a_report_refuses_findings_made_before_a_merge(demo, tmp_path):
    """Issue #16: after `entities merge` the broker and most-contacted findings describe people who no
    longer exist; the report must say which commands derive them again, not mix states."""
    import shutil

    case = tmp_path / "case"
    shutil.copytree(demo, case)
    for p in case.rglob("*"):
        p.chmod(0o644 if p.is_file() else 0o755)
    run("entities", "merge", case, "Nuwan Jayawardena", "Nuwan Agent", "--reason", "same phone on the SIM card")
    out = run("report", case, code=1)
    assert "must not mix states" in out and "link-analysis" in out and f"casegraph analyze {case}" in out
    assert "typologies" not in out  # typologies read records only: a merge cannot make them stale
    run("analyze", case)
    out = run("report", case, code=1)
    assert "link-analysis" not in out and "indicators" in out  # the per-person indicator summary is next
    run("indicators", case)
    for cmd in [l.split(";")[0].strip() for l in out.split(": run ")[1:] if l.strip().startswith("casegraph trace")]:  # noqa: E741
        run(*cmd.split()[1:])  # the demo's trace, as the refusal names it
    run("report", case)


def test_an_unexpected_defect_is_one_line_with_the_traceback_kept(tmp_path, monkeypatch):
    from casegraph.cli import findings_cmds

    run("case", "init", tmp_path / "c", "--case-no", "T/1", "--examiner", "IP Test")
    monkeypatch.delenv("CASEGRAPH_DEBUG", raising=False)
    monkeypatch.setattr("casegraph.review.findings", lambda *a, **k: 1 / 0)
    out = run("findings", "list", tmp_path / "c", code=3)
    assert "unexpected ZeroDivisionError in casegraph" in out and "Traceback" not in out
    kept = out.split("traceback kept in ")[1].split(";")[0].replace("\n", "")
    assert "ZeroDivisionError" in open(kept).read()  # noqa: SIM115
    assert findings_cmds  # the module the command lives in


def _commands(group, path=()):
    import click

    for name, cmd in group.commands.items():
        yield (*path, name), cmd
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, (*path, name))


def test_every_list_and_show_command_takes_json_and_tables_take_csv(demo):
    """Issue #16: --json (and --csv for tables) on every list and show command, from one helper."""
    listing = [p for p, c in _commands(main) if p[-1] in ("list", "show", "parsers", "parse-issues", "search")]
    assert len(listing) >= 9
    for path, cmd in _commands(main):
        if path in listing:
            assert "--json" in {o for p in cmd.params for o in p.opts}, path
    exhibits = json.loads(run("evidence", "list", demo, "--json"))
    assert {e["exhibit_id"] for e in exhibits} == {"P1", "P2", "B1", "C1"} and all(len(e["sha256"]) == 64 for e in exhibits)
    assert exhibits[0]["seal"] and exhibits[0]["device_imei"]  # every column whole, the seizure included
    rows = list(csv.DictReader(io.StringIO(run("evidence", "list", demo, "--csv"))))
    assert len(rows) == len(exhibits) and rows[0]["md5"] == exhibits[0]["md5"]
    custody = json.loads(run("custody", "show", demo, "--json"))
    assert custody[0]["action"] == "case-created" and len(custody[0]["hash"]) == 64 and "details" in custody[0]
    rows = list(csv.DictReader(io.StringIO(run("custody", "show", demo, "--csv"))))
    assert [int(r["seq"]) for r in rows] == [e["seq"] for e in custody] and json.loads(rows[1]["inputs"])[0]["sha256"]
    case = json.loads(run("case", "show", demo, "--json"))
    assert case["case"]["case_no"] and case["records"]["transactions"] == 43 and len(case["exhibits"]) == len(exhibits)
    person = json.loads(run("entities", "show", demo, "Kasun", "--json"))
    assert person["label"] == "Kasun" and person["members"] and person["records_cited"][0]["locator"]
    assert {p["name"] for p in json.loads(run("parsers", "--json"))} >= {"whatsapp-export", "transaction-table"}
    hits = json.loads(run("search", demo, "they took my passport", "--words-only", "--json", stdout=True))
    assert hits and all(h["locator"] for h in hits)


def test_tables_at_100_columns_keep_times_and_ids_whole(demo):
    out = run("evidence", "list", demo)
    exhibits = json.loads(run("evidence", "list", demo, "--json"))
    assert all(e["sha256"][:16] + "…" in out for e in exhibits) and "2024-04-22T16:10+05:30" in out
    out = run("custody", "show", demo)
    assert all(max(len(line) for line in out.splitlines()) <= 100 for _ in [0])
    first = json.loads(run("custody", "show", demo, "--json"))[0]
    assert first["time"][:19].replace("T", " ") in out and first["hash"][:16] + "…" in out


def test_help_listings_show_each_first_sentence_whole():
    """Issue #16: "Find messages like QUERY, e.g." — click cut first sentences to fit its listing."""
    import click

    for path, cmd in _commands(main):
        first = cmd.get_short_help_str(limit=10_000)
        assert first.endswith("."), path
        assert len(first) <= 62, (path, first)  # fits the listing at 80 columns, next to the longest name
    for path, cmd in [((), main), *((p, c) for p, c in _commands(main) if isinstance(c, click.Group))]:
        out = run(*path, "--help", columns="80")
        listed = out.split("Commands:")[1]
        assert "..." not in listed, path
        for name, sub in cmd.commands.items():
            assert " ".join(sub.get_short_help_str(limit=10_000).split()[:4]) in " ".join(listed.split()), (path, name)


def test_date_and_amount_options_name_the_option_and_the_form(demo):
    out = run("trace", demo, "--from", "0081234567", "--since", "yesterday", code=2)
    assert "Invalid value for '--since': 'yesterday' is not a date" in out and "2024-04-01T09:00+05:30" in out
    out = run("trace", demo, "--from", "0081234567", "--until", "22/04/2024", code=2)
    assert "Invalid value for '--until'" in out
    out = run("trace", demo, "--from", "0081234567", "--min-amount", "1,000", code=2)
    assert "Invalid value for '--min-amount': '1,000' is not a number" in out
    assert "expected ACCOUNT=SAME" in run("trace", demo, "--from", "0081234567", "--link", "abc", code=2)


def test_a_date_until_includes_its_day():
    from casegraph.cli._ui import When

    end = When(end_of_day=True).convert("2024-04-18", None, None)
    start = When().convert("2024-04-18", None, None)
    assert (end.hour, end.minute, str(end.tzinfo)) == (23, 59, "UTC") and (start.hour, start.day) == (0, 18)
    assert When().convert("2024-04-18T09:00+05:30", None, None).utcoffset().total_seconds() == 19800


def _copy(demo, tmp_path):
    import shutil

    case = tmp_path / "case"
    shutil.copytree(demo, case)
    for p in case.rglob("*"):
        p.chmod(0o644 if p.is_file() else 0o755)
    return case


def test_an_option_applies_to_the_files_whose_parser_takes_it(demo, tmp_path):
    """Issue #16: `ingest --exhibit P1 --force --option date_order=DMY` failed because P1 also holds a
    screenshot (image-ocr) and a contact card (vcard), whose parsers take no date_order."""
    case = _copy(demo, tmp_path)
    out = run("ingest", case, "--exhibit", "P1", "--force", "--option", "date_order=DMY")
    assert "option date_order applies to WhatsApp Chat with Nuwan Agent.txt (whatsapp-export); parsed without it" in " ".join(out.split())
    assert "3 exhibit files: 3 parsed" in " ".join(out.split())
    parsed = {e["details"]["parser"]: e["details"].get("options") for e in events(case)[-6:] if e["action"] == "parse"}
    assert parsed["whatsapp-export"] == {"date_order": "DMY"} and not parsed["image-ocr"] and not parsed["vcard"]
    out = run("ingest", case, "--exhibit", "B1", "--force", "--option", "date_order=DMY", code=2)
    assert "it is taken by whatsapp-export" in out and "--exhibit SHA256-PREFIX" in out
    assert "option colour: no parser takes it" in run("ingest", case, "--option", "colour=red", code=2)


def test_analyze_and_entities_list_stay_readable_at_100_columns(demo, tmp_path):
    """Issue #16: at 100 columns the finding titles of `analyze` took the whole width (a column named
    "finding" was kept whole like an id) and the other columns shrank to nothing."""
    case = _copy(demo, tmp_path)
    out = run("analyze", case)
    assert "Connected group of" in out and "connected-group" in out and all(len(line) <= 100 for line in out.splitlines()[:40])
    people = json.loads(run("entities", "list", case, "--json"))
    out = run("entities", "list", case)
    assert all(p["id"] in out for p in people)  # ids whole, usable as they stand
