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


def run(*args, code=0):
    r = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False, env={"COLUMNS": "100"})
    assert r.exit_code == code, r.output
    return r.output


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
    assert "--since 'yesterday'" in out and "2024-04-01" in out
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
