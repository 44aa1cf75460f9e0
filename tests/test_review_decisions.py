"""Examiner verdicts on findings and notes on records: validated, kept with what they were given on,
logged in custody with the examiner, and covered by custody verify."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from casegraph import review
from casegraph.case import Case
from casegraph.cli import main


@pytest.fixture(scope="module")
def case_dir(tmp_path_factory):
    from casegraph.demo.run import run_demo

    return run_demo(tmp_path_factory.mktemp("decide") / "demo", say=lambda _: None).case


def run(*args):
    r = CliRunner().invoke(main, [str(a) for a in args])
    return r.exit_code, (r.stdout if "--json" in args else r.output)


def test_confirm_reject_and_tag_are_logged_with_the_examiner(case_dir):
    c = Case(case_dir, read_only=True)
    indicator = c.store.one("SELECT id FROM findings WHERE kind = 'trafficking-indicator' ORDER BY id LIMIT 1")[0]
    message = c.store.one("SELECT id FROM messages ORDER BY id LIMIT 1")[0]
    c.store.close()

    code, out = run("findings", "confirm", case_dir, indicator[:12], "--reason", "read the thread", "--examiner", "IP Silva", "--json")
    assert code == 0, out
    assert json.loads(out)[0]["verdict"] == "confirmed"
    code, out = run("findings", "reject", case_dir, indicator, "--reason", "a joke between friends", "--examiner", "IP Silva")
    assert code == 0, out
    code, out = run("tag", "add", case_dir, message, "--note", "first contact", "--examiner", "IP Silva")
    assert code == 0, out

    c = Case(case_dir, read_only=True)
    latest = review.finding_decisions(c.store)
    assert [(d["finding_id"], d["verdict"]) for d in latest] == [(indicator, "rejected")]  # the last word counts
    assert latest[0]["subject"]["evidence"], "the decision keeps what the finding cited"
    assert [t["record_table"] for t in review.tags(c.store)] == ["messages"]
    events = [json.loads(line) for line in c.custody.path.read_text().splitlines()]
    mine = [e for e in events if e["action"] in ("finding-confirm", "finding-reject", "record-tag")]
    assert [e["action"] for e in mine] == ["finding-confirm", "finding-reject", "record-tag"]
    assert {e["actor"] for e in mine} == {"IP Silva"}
    c.store.close()

    code, out = run("custody", "verify", case_dir)
    assert code == 0, out
    code, out = run("findings", "decisions", case_dir, "--json")
    assert code == 0 and json.loads(out)[0]["verdict"] == "rejected"
    code, out = run("tag", "list", case_dir, "--csv")
    assert code == 0 and "first contact" in out


def test_made_up_ids_and_empty_reasons_are_refused_before_anything_is_logged(case_dir):
    c = Case(case_dir, read_only=True)
    before = len(c.custody.path.read_text().splitlines())
    c.store.close()
    for args in (
        ("findings", "confirm", case_dir, "nope", "--reason", "x"),
        ("findings", "reject", case_dir, "", "--reason", " "),
        ("tag", "add", case_dir, "messages/bogus", "--note", "x"),
        ("tag", "add", case_dir, "person:bogus", "--note", "x"),
    ):
        code, out = run(*args)
        assert code == 2, (args, out)
        assert "Traceback" not in out and out.strip().count("\n") == 0, out
    c = Case(case_dir, read_only=True)
    assert len(c.custody.path.read_text().splitlines()) == before
    c.store.close()


def test_a_decision_changed_behind_the_log_fails_verify(case_dir):
    c = Case(case_dir)
    c.store.con.execute("UPDATE finding_decisions SET verdict = 'confirmed'")
    c.store.close()
    code, out = run("custody", "verify", case_dir)
    assert code != 0 and "finding_decisions" in out, out


def test_the_report_lists_what_was_confirmed_and_tagged_and_leaves_out_what_was_rejected(tmp_path_factory):
    from casegraph.demo.run import run_demo

    root = run_demo(tmp_path_factory.mktemp("relied") / "demo", say=lambda _: None).case
    c = Case(root, read_only=True)
    a, b = (
        r[0] for r in c.store.con.execute("SELECT id FROM findings WHERE kind = 'trafficking-indicator' ORDER BY id LIMIT 2").fetchall()
    )
    message = c.store.one("SELECT id FROM messages ORDER BY id LIMIT 1")[0]
    c.store.close()
    assert run("findings", "confirm", root, a, "--reason", "read the thread")[0] == 0
    assert run("findings", "reject", root, b, "--reason", "a joke")[0] == 0
    assert run("tag", "add", root, message, "--note", "first contact")[0] == 0
    code, out = run("report", root)
    assert code == 0, out
    html = max((root / "reports").glob("*.html"), key=lambda p: p.stat().st_mtime).read_text(encoding="utf-8")
    assert "Items relied upon (2 items)" in html and "read the thread" in html and "first contact" in html
    assert f'id="f-{b}"' not in html and f'id="f-{a}"' in html
