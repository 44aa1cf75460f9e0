"""What the court report says must be exactly what the records show (#16): parse issues by severity,
local times with their zone basis, the seizure as recorded (not the intake), no internal ids or
examiner to-dos in the court text, each cited record printed once."""

from __future__ import annotations

import html as htmllib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from casegraph.ai.indicators import _person_name
from casegraph.case import Case
from casegraph.cli import main
from casegraph.demo.run import issues_by_run
from casegraph.graph.resolve import Link, _one_per_pair
from casegraph.ingest.evidence import add_evidence
from casegraph.ingest.seizure import SeizureError, details, device_text
from casegraph.reports import caseuco, content, report


# -- parse issues: what was and was not used, by severity ---------------------------------------------
def _counts(**by_sev):
    return [{"exhibit": "P1", "file": "chat.txt", "parser": "whatsapp-text", "error": 0, "warning": 0, "info": 0, **by_sev}]


def test_info_notes_are_not_called_input_kept_aside():
    said = content.issue_statements(_counts(info=4))
    assert said == [
        "No input was kept aside: every parser read all of its input (the parse issues recorded are warnings or notes, below).",
        "4 notes on how a file was read (for example the date order or profile used); nothing was set aside: "
        "P1 chat.txt (whatsapp-text): 4.",
    ]
    assert not any("could not be parsed" in s for s in said)


def test_errors_and_warnings_are_counted_separately():
    said = content.issue_statements(
        _counts(error=2, warning=1)  # noqa: RUF005
        + [{"exhibit": "B1", "file": "stmt.csv", "parser": "transaction-table", "error": 3, "warning": 0, "info": 1}]
    )
    assert said[0] == (
        "5 input items could not be parsed and were kept aside, not used: "
        "P1 chat.txt (whatsapp-text): 2, B1 stmt.csv (transaction-table): 3."
    )
    assert said[1].startswith("1 parse warning: records were used, but a decision the data did not fully support was made")
    assert said[1].endswith(": P1 chat.txt (whatsapp-text): 1.")
    assert said[2].endswith("nothing was set aside: B1 stmt.csv (transaction-table): 1.")


def test_no_issues_at_all():
    assert content.issue_statements([]) == ["No input was kept aside: every parser read all of its input."]


# -- times ---------------------------------------------------------------------------------------------
def test_zone_basis_in_words():
    assert content.zone_basis("source") == "zone as recorded by the source"
    assert content.zone_basis("case-timezone:Asia/Colombo") == "no zone in the source; case time zone Asia/Colombo assumed"
    assert content.zone_basis("unknown") == "zone unknown"
    assert content.zone_basis("case-timezone:Europe/London;ambiguous:+01:00|+00:00").endswith("(DST fold)")
    assert content.zone_basis(None) is None


# -- seizure details -----------------------------------------------------------------------------------
def test_seizure_details_keep_what_was_written():
    d = details("2024-04-22", "CID/HT/0412", "Samsung/Galaxy A14/356938035643809/R58T1")
    assert d == {
        "seized_at": "2024-04-22",
        "seal": "CID/HT/0412",
        "device_make": "Samsung",
        "device_model": "Galaxy A14",
        "device_imei": "356938035643809",
        "device_serial": "R58T1",
    }
    assert details("2024-04-22T14:30+05:30")["seized_at"] == "2024-04-22T14:30+05:30"  # its zone kept, not converted
    assert details(device="Nokia/105", device_imei="356938035643809")["device_imei"] == "356938035643809"
    assert device_text(d) == "Samsung Galaxy A14, IMEI 356938035643809, serial R58T1"


@pytest.mark.parametrize(
    "value, why", [("22/04/2024", "expected an ISO date"), ("2024-02-30", "no such date"), ("2024-04-22T14:30", "a time needs its zone")]
)
def test_seizure_time_refused_when_it_would_be_guessed(value, why):
    with pytest.raises(SeizureError, match=why):
        details(value)


def test_bad_imei_refused():
    with pytest.raises(SeizureError, match="IMEI"):
        details(device="Samsung/A14/12ab")


def test_evidence_add_records_the_seizure(tmp_path):
    f = tmp_path / "chat.txt"
    f.write_text("22/04/2024, 09:14 - Kasun: hello\n", encoding="utf-8")
    Case.create(tmp_path / "case", "C/1", "IP Test").close()
    r = CliRunner().invoke(
        main,
        [
            "evidence",
            "add",
            str(tmp_path / "case"),
            str(f),
            "--exhibit",
            "P1",
            "--seized-from",
            "Kasun",
            "--acquired-by",
            "IP Test",
            "--seized-at",
            "2024-04-22",
            "--seal",
            "S-1",
            "--device",
            "Samsung/Galaxy A14//R58T1",
            "--imei",
            "356938035643809",
            "--notes",
            "bagged",
        ],
    )
    assert r.exit_code == 0, r.output
    with Case(tmp_path / "case") as c:
        row = c.store.rows("SELECT seized_at, seal, device_make, device_model, device_imei, device_serial, notes FROM exhibits")[0]
        intake = [e for e in c.custody.events() if e["action"] == "intake"][0]["details"]  # noqa: RUF015
    assert row == {
        "seized_at": "2024-04-22",
        "seal": "S-1",
        "device_make": "Samsung",
        "device_model": "Galaxy A14",
        "device_imei": "356938035643809",
        "device_serial": "R58T1",
        "notes": "bagged",
    }
    assert intake["seized_at"] == "2024-04-22" and intake["seal"] == "S-1" and intake["device_imei"] == "356938035643809"
    r = CliRunner().invoke(
        main,
        [
            "evidence",
            "add",
            str(tmp_path / "case"),
            str(f),
            "--exhibit",
            "P2",
            "--seized-from",
            "x",
            "--acquired-by",
            "y",
            "--seized-at",
            "yesterday",
        ],
    )
    assert (r.exit_code == 2 and "--seized-at 'yesterday'" in r.output and r.exception is None) or isinstance(r.exception, SystemExit)


def test_old_case_gains_the_seizure_columns(tmp_path):
    with Case.create(tmp_path / "case", "C/1", "IP Test") as c:
        for col in ("seized_at", "seal", "device_make", "device_model", "device_imei", "device_serial"):
            c.store.con.execute(f"ALTER TABLE exhibits DROP COLUMN {col}")
    with Case(tmp_path / "case") as c:
        cols = {r[0] for r in c.store.con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = 'exhibits'").fetchall()}
        assert {"seized_at", "seal", "device_imei"} <= cols
        f = tmp_path / "a.txt"
        f.write_text("x")
        add_evidence(c, f, "P1", seizure=details("2024-04-22"))
        assert c.store.one("SELECT seized_at FROM exhibits")[0] == "2024-04-22"


def test_case_uco_describes_device_and_seizure():
    e = {
        "exhibit_id": "P1",
        "sha256": "ab" * 32,
        "seized_from": "Kasun",
        "warrant": "B/1/2024",
        "seized_at": "2024-04-22",
        "seal": "S-1",
        "device_make": "Samsung",
        "device_model": "A14",
        "device_imei": "356938035643809",
        "device_serial": None,
    }
    e["device"] = device_text(e)
    nodes = caseuco._seizure(e, "kb:file-1")
    device = next(n for n in nodes if n["@type"] == "uco-observable:Device")
    facets = {f["@type"]: f for f in device["uco-core:hasFacet"]}
    assert facets["uco-observable:DeviceFacet"]["uco-observable:model"] == "A14"
    assert facets["uco-observable:MobileDeviceFacet"]["uco-observable:IMEI"] == "356938035643809"
    act = next(n for n in nodes if n.get("uco-core:name") == "seizure")
    assert "seized at 2024-04-22 (as recorded)" in act["uco-core:description"] and "seal S-1" in act["uco-core:description"]
    assert "uco-action:startTime" not in act  # a date is not a midnight


# -- court text ----------------------------------------------------------------------------------------
def test_person_heading_drops_the_store_id():
    assert _person_name("Victim-1 (person:e0a91dce944bc205)") == "Victim-1"
    assert _person_name("Nuwan (Agent)") == "Nuwan (Agent)"


def test_one_candidate_per_person_pair():
    rec = lambda i: {"record": f"r{i}", "table": "messages"}  # noqa: E731
    links = [
        Link("name:a1", "name:b1", "name", 0.8, {"names": ["N J", "N A"], "reasons": ["x"], "records": [rec(1)]}),
        Link("name:a2", "name:b2", "name", 0.9, {"names": ["N J", "N A"], "reasons": ["y"], "records": [rec(2), rec(1)]}),
        Link("name:c", "name:d", "name", 0.7, {"names": ["M R", "R B"], "reasons": ["z"], "records": [rec(3)]}),
    ]
    ent = {
        "name:a1": "person:A",
        "name:a2": "person:A",
        "name:b1": "person:B",
        "name:b2": "person:B",
        "name:c": "person:C",
        "name:d": "person:D",
    }
    out = _one_per_pair(links, ent)
    assert len(out) == 2
    ab = next(l for l in out if l.a == "name:a2")  # noqa: E741
    assert ab.score == 0.9 and [r["record"] for r in ab.evidence["records"]] == ["r1", "r2"]


def test_evidence_appendix_cites_each_record_once():
    e1 = {"exhibit_sha256": "s", "record": "m1", "locator": "line:1"}
    e2 = {"exhibit_sha256": "s", "record": "m2", "locator": "line:2"}
    fs = [{"id": "f1", "shown": [e1, e2]}, {"id": "f2", "shown": [e2]}, {"id": "f3", "shown": [e1]}]
    app = content.evidence_appendix(fs)
    assert [a["ref"] for a in app] == ["E1", "E2"]
    assert [f["refs"] for f in fs] == [["E1", "E2"], ["E2"], ["E1"]]
    assert app[1]["cited_by"] == ["f1", "f2"]


# -- the demo report, end to end -------------------------------------------------------------------------
class Demo:
    """The demo built by the CLI, as a user runs it: its printed stage text and its case."""

    def __init__(self, root: Path, output: str):
        self.case, self.output = root / "case", output
        self.bundle = next((root / "case" / "bundles").iterdir())
        with Case(self.case) as c:
            self.issues = issues_by_run(c)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Demo:
    root = tmp_path_factory.mktemp("truth") / "demo"
    r = CliRunner().invoke(main, ["demo", str(root)], env={"COLUMNS": "220"})
    assert r.exit_code == 0, r.output
    return Demo(root, r.output)


@pytest.fixture(scope="module")
def rep(demo) -> report.Report:
    with Case(demo.case) as c:
        return report.build(c, redact=True)


def _text(h: bytes) -> str:
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", h.decode()))


def test_demo_report_limitations_match_the_records(demo, rep):
    with Case(demo.case) as c:
        sev = c.store.rows("SELECT severity, count(*) AS n FROM parse_issues GROUP BY ALL")
    totals = {r["severity"]: r["n"] for r in sev}
    lim = rep.doc["limitations"]
    if not totals.get("error"):
        assert not any("could not be parsed" in s for s in lim)
        assert any(s.startswith("No input was kept aside") for s in lim)
    if totals.get("info"):
        assert any(s.startswith(f"{totals['info']} note{'s' if totals['info'] != 1 else ''} on how a file was read") for s in lim)
    runs = rep.doc["runs"]
    assert sum(r["issues"]["info"] for r in runs) == totals.get("info", 0)
    assert sum(r["issues"]["error"] for r in runs) == totals.get("error", 0)
    assert all("parse_issues" not in r["records"] for r in runs)
    # the demo's stage table: the same counts, from the same records
    assert sum(v["info"] for v in demo.issues.values()) == totals.get("info", 0)


def test_demo_report_court_text(rep):
    h = rep.html.decode()
    headings = [htmllib.unescape(re.sub(r"<[^>]+>", "", x)) for x in re.findall(r"<h[1-4][^>]*>(.*?)</h[1-4]>", h, re.S)]
    assert not [x for x in headings if "person:" in x]
    assert "Indicators in person Victim-1: 5 kinds" in headings
    text = _text(rep.html)
    assert "Review, then" not in text and "possible same person" not in text
    assert all(f["kind"] not in content.REVIEW_KINDS for f in rep.doc["findings"])
    assert re.search(r"\d pairs? of persons that may be the same person awaits? the examiner.s review", text)
    # each record quoted once: appendix rows are unique, and every finding's references point into it
    refs = [a["ref"] for a in rep.doc["appendix"]]
    assert len(refs) == len(set(refs)) == len({(a.get("exhibit_sha256"), a.get("record")) for a in rep.doc["appendix"]})
    assert all(r in set(refs) for f in rep.doc["findings"] for r in f["refs"])
    assert len(re.findall(r'<tr id="E\d+">', h)) == len(refs)


def test_demo_report_times_and_seizure(rep):
    text = _text(rep.html)
    chat = next(a for a in rep.doc["appendix"] if a.get("table") == "messages" and a.get("time"))
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d [+-]\d\d:\d\d \((\d{4}-\d\d-\d\d )?\d\d:\d\d UTC\)", chat["time"]), chat["time"]
    assert chat["zone"]
    # a date-only bank statement row (ts_precision 'day') is shown as a date, with no zone to explain
    days = [a for a in rep.doc["appendix"] if (a.get("time") or "").endswith("(date only)")]
    assert days and all(a["zone"] is None for a in days)
    assert not any(re.search(r"\d\d:\d\d", a["time"]) for a in days)
    assert any(
        re.fullmatch(
            r"\d+ records carry a date and no time in the source; they are shown as dates, and their "
            r"order within a day is not known from the time\.",
            s,
        )
        for s in rep.doc["limitations"]
    )
    assert "entity-resolution" not in {d["detector"] for d in rep.doc["detectors"]}  # its to-dos are not findings here
    assert "Seized at: 2024-04-22T16:10+05:30 (as recorded)" in text
    assert "Seal: CID/HT/2024/0412" in text and "Device: Samsung Galaxy A14, IMEI 356938035643809" in text
    assert "Seized at: 2024-04-25 (as recorded)" in text
    assert "taken into the case 20" in text and "taken in " not in text


def test_demo_stage_text_says_what_is_redacted(demo):
    out = " ".join(demo.output.split())
    assert "Evidence report, victim-protected copy (victims under pseudonyms):" in out and "-redacted.pdf" in out
    assert "Signed evidence bundle, not redacted (full case data, for the court):" in out
    assert not demo.bundle.name.endswith("-redacted")  # and it is indeed the unredacted one
    assert "(victim pseudonymised) and a signed bundle" not in out


def test_demo_stage_table_counts_issues_by_severity(demo):
    header = next(line for line in demo.output.splitlines() if "exhibit" in line and "parser" in line)
    assert "kept aside (errors)" in header and "warnings" in header and "notes" in header and "issues" not in header
    assert "parse_issues" not in demo.output.split("Case store")[0]
    chat = next(line for line in demo.output.splitlines() if "WhatsApp Chat with Nuwan Agent.txt" in line and "whatsapp" in line)
    cells = [c.strip() for c in re.split(r"[│┃|]", chat) if c.strip()]
    info = sum(v["info"] for (sha, parser), v in demo.issues.items() if parser == "whatsapp-export" and sha.startswith("f72d"))
    assert cells[-3:] == ["0", "0", str(info)] and info > 0


def test_demo_bundle_case_uco_validates_with_the_seizure(demo):
    jsonld = demo.bundle / "data" / "case.jsonld"
    graph = json.loads(jsonld.read_text())["@graph"]
    assert any(n["@type"] == "uco-observable:Device" for n in graph)
    case_validate = Path(sys.executable).with_name("case_validate")
    out = subprocess.run([str(case_validate), str(jsonld)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]


def test_an_edited_seal_is_named_by_verify(tmp_path):
    from casegraph.ingest.integrity import verify_case

    f = tmp_path / "a.txt"
    f.write_text("x")
    with Case.create(tmp_path / "case", "C/1", "IP Test") as c:
        add_evidence(c, f, "P1", seizure=details("2024-04-22", "S-1"))
        assert verify_case(c).ok
        c.store.con.execute("UPDATE exhibits SET seal = 'S-2'")
        v = verify_case(c)
    assert not v.ok and any("seal" in str(p) for p in v.problems)
