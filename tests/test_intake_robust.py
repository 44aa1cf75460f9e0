"""Attacks and accidents on intake and on the case folder, each asserting the exact verdict:
exhibits that crash format detection, non-UTF-8 names, links and FIFOs, killed intakes, a second
process on the same case, a broken case folder, and intake cost that must not grow with the case.

Fixture shapes: tests/fixtures/intake/encrypted-chat.zip is a WhatsApp "export chat" zip (a
`_chat.txt` member with CRLF lines, Sinhala text; the shape of tests/fixtures in this repo's
WhatsApp parser tests) encrypted with ZipCrypto by Info-ZIP `zip -P`, the way a seized phone's
password-protected export arrives. The corrupt SQLite file is a real SQLite database whose schema
row was overwritten with non-UTF-8 bytes, as a damaged phone database dump looks to sqlite3.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from casegraph.case import Case
from casegraph.cli import main
from casegraph.ingest import custody, evidence
from casegraph.ingest.evidence import add_evidence, recover_intakes, take_in
from casegraph.ingest.integrity import verify_case
from casegraph.lock import CaseLock

FIX = Path(__file__).parent / "fixtures" / "intake"
META = ["--exhibit", "P1", "--seized-from", "suspect A", "--acquired-by", "IP Perera"]


def cli(*args, code=0):
    r = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert r.exit_code == code, r.output
    assert "Traceback" not in r.output
    return r.output


def actions(case_dir: Path) -> list[str]:
    return [json.loads(line)["action"] for line in (case_dir / "custody.jsonl").read_text().splitlines() if line.strip()]


@pytest.fixture
def case_dir(tmp_path) -> Path:
    d = tmp_path / "case"
    cli("case", "init", d, "--case-no", "HTS/2026/041", "--examiner", "IP Perera")
    return d


def corrupt_sqlite(path: Path) -> Path:
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE message (_id INTEGER PRIMARY KEY, address TEXT, body TEXT)")
    con.execute("INSERT INTO message (address, body) VALUES ('+94771234567', 'passport')")
    con.commit()
    con.close()
    data = bytearray(path.read_bytes())
    i = data.find(b"message")
    data[i : i + 3] = b"\xff\xfe\xfd"
    path.write_bytes(bytes(data))
    return path


# -- exhibits that crashed intake after their bytes were stored -----------------------------------


@pytest.mark.parametrize("kind", ["encrypted-zip", "corrupt-sqlite"])
def test_unreadable_exhibit_is_taken_in_and_flagged(case_dir, tmp_path, kind):
    if kind == "encrypted-zip":
        f, flag = FIX / "encrypted-chat.zip", "encrypted: 1 zip member(s) need a password; their content cannot be read"
    else:
        f = corrupt_sqlite(tmp_path / "mmssms.db")
        flag = "unreadable: SQLite database cannot be read (its schema is malformed: corrupt, non-UTF-8 entries)"
    out = cli("evidence", "add", case_dir, f, *META)
    assert f"flagged: {f}: {flag}" in out
    assert "1 stored, 0 duplicates, 0 skipped (1 flagged encrypted or unreadable)" in out
    with Case(case_dir) as c:
        intake = [e for e in c.custody.events() if e["action"] == "intake"]
        assert len(intake) == 1 and intake[0]["details"]["flags"] == [flag]
        assert c.store.count("exhibits") == 1
        assert verify_case(c).ok
    # a retry is a recorded duplicate, not a crash
    assert "0 stored, 1 duplicates" in cli("evidence", "add", case_dir, f, *META)
    # and the ingest of it does not crash either
    r = CliRunner().invoke(main, ["ingest", str(case_dir)], catch_exceptions=False)
    assert "Traceback" not in r.output


def test_probe_sqlite_tables_survives_a_corrupt_schema(tmp_path):
    from casegraph.parsers import Probe

    assert Probe.of(corrupt_sqlite(tmp_path / "x.db")).sqlite_tables == set()


def test_a_sniffer_that_raises_does_not_crash_detection(tmp_path, monkeypatch):
    from casegraph.ingest import detect
    from casegraph.parsers import load_all

    victim = next(p for p in load_all() if p.name != "unrecognised")  # a real format's sniffer
    monkeypatch.setattr(type(victim), "sniff", lambda self, probe: 1 / 0)
    f = tmp_path / "a.txt"
    f.write_text("hello\n")
    found = detect.examine(f)
    assert "unreadable: ZeroDivisionError: division by zero" in found.flags
    assert detect.detect(f) is None or detect.detect(f).name != victim.name


# -- file names are bytes -------------------------------------------------------------------------

NON_UTF8 = os.fsdecode(b"chat-\xff\xfe-kasun.txt")  # Latin-1 / cp1252 era name from a seized PC


def test_non_utf8_name_inside_a_directory_is_recorded_exactly(case_dir, tmp_path):
    seized = tmp_path / "seized"
    seized.mkdir()
    (seized / NON_UTF8).write_text("12/03/2024, 14:23 - Nuwan: hi\n")
    out = cli("evidence", "add", case_dir, seized, *META)
    assert "1 stored, 0 duplicates, 0 skipped" in out
    assert "chat-\\xff\\xfe-kasun.txt" in out
    with Case(case_dir) as c:
        ev = [e for e in c.custody.events() if e["action"] == "intake"][0]  # noqa: RUF015
        assert ev["inputs"][0]["name"] == "chat-\\xff\\xfe-kasun.txt"
        assert bytes.fromhex(ev["inputs"][0]["name_bytes_hex"]) == b"chat-\xff\xfe-kasun.txt"
        assert bytes.fromhex(ev["inputs"][0]["path_bytes_hex"]).endswith(b"/seized/chat-\xff\xfe-kasun.txt")
        assert c.store.rows("SELECT original_name FROM exhibits")[0]["original_name"] == "chat-\\xff\\xfe-kasun.txt"
        assert verify_case(c).ok


def test_non_utf8_name_given_directly_is_found(case_dir, tmp_path):
    f = tmp_path / NON_UTF8
    f.write_text("x\n")
    out = cli("evidence", "add", case_dir, f, *META)
    assert "1 stored" in out and "no such file" not in out
    out = cli("evidence", "add", case_dir, tmp_path / os.fsdecode(b"gone-\xff.txt"), *META, code=2)
    assert "gone-\\xff.txt: no such file or directory" in out


# -- what is not a regular file -------------------------------------------------------------------


def test_links_and_fifos_in_a_directory_are_logged_as_skipped(case_dir, tmp_path):
    seized = tmp_path / "seized"
    (seized / "sub").mkdir(parents=True)
    (seized / "a.txt").write_text("a\n")
    (seized / "link.txt").symlink_to("/etc/passwd")
    (seized / "dirlink").symlink_to(seized / "sub")
    os.mkfifo(seized / "pipe")
    out = cli("evidence", "add", case_dir, seized, *META)
    assert "1 stored, 0 duplicates, 3 skipped" in out
    assert f"skipped: {seized / 'link.txt'}: symbolic link to /etc/passwd: not followed (its target is not part of the exhibit)" in out
    assert f"skipped: {seized / 'pipe'}: a fifo, not a regular file: not read" in out
    assert f"skipped: {seized / 'dirlink'}: symbolic link to {seized / 'sub'}: not followed" in out
    with Case(case_dir) as c:
        skipped = [e for e in c.custody.events() if e["action"] == "intake-skipped"]
    assert sorted(e["inputs"][0]["kind"] for e in skipped) == ["fifo", "symlink", "symlink"]
    assert all(e["details"]["exhibit_id"] == "P1" and e["details"]["reason"] for e in skipped)


# -- killed intakes -------------------------------------------------------------------------------


def test_leftover_incoming_file_is_removed_and_logged_by_the_next_command(case_dir):
    (case_dir / "evidence" / ".incoming-k2j3h4").write_bytes(b"half a copy")
    out = cli("custody", "verify", case_dir)
    assert (
        "removed evidence/.incoming-k2j3h4 (11 bytes), left by an interrupted intake (no intake was recorded "
        "for it); take that file in again" in out
    )
    assert "INTACT" in out and not list((case_dir / "evidence").iterdir())
    assert "intake-abandoned" in actions(case_dir)


@pytest.mark.parametrize("dies_in", ["_place", "_record"])
def test_intake_killed_after_its_event_is_resumed(case_dir, tmp_path, monkeypatch, dies_in):
    f = tmp_path / "chat.txt"
    f.write_text("12/03/2024, 14:23 - Nuwan: hi\n")

    def killed(*a, **k):
        raise KeyboardInterrupt  # the examiner's Ctrl-C, or the machine going down

    with Case(case_dir) as c:
        monkeypatch.setattr(evidence, dies_in, killed)
        with pytest.raises(KeyboardInterrupt):
            add_evidence(c, f, "P1", seized_from="suspect A")
        monkeypatch.undo()
        assert c.store.count("exhibits") == 0
    out = cli("evidence", "list", case_dir)  # a read-only command leaves it alone
    assert "resumed" not in out and "recorded exhibit" not in out
    out = cli("custody", "verify", case_dir)
    assert (
        "resumed the interrupted intake of exhibit P1 (chat.txt"
        if dies_in == "_place"
        else "recorded exhibit P1 (chat.txt), whose intake was interrupted after custody seq 2"
    ) in out
    assert "Verdict: INTACT" in out
    assert actions(case_dir)[-2:] == ["intake-resumed", "custody-verify"]
    with Case(case_dir) as c:
        row = c.store.rows("SELECT * FROM exhibits")[0]
        assert (row["exhibit_id"], row["seized_from"], row["original_name"]) == ("P1", "suspect A", "chat.txt")
        assert not [n for n in os.listdir(c.evidence_dir) if n.startswith(".incoming-")]
        assert recover_intakes(c) == []  # nothing left to do


# -- two analysts on one case ---------------------------------------------------------------------


def test_second_writer_is_told_who_holds_the_case_and_copies_nothing(case_dir, tmp_path):
    f = tmp_path / "big.bin"
    f.write_bytes(os.urandom(1 << 16))
    held = CaseLock(case_dir, "casegraph ingest").acquire()
    try:
        out = cli("evidence", "add", case_dir, f, *META, code=1)
    finally:
        held.release()
    assert f"error: {case_dir}: case in use by 'casegraph ingest' (pid {os.getpid()} on " in out
    assert "wait for it to finish, or queue behind it with 'casegraph --wait SECONDS ...'" in out
    assert " UTC)" in out and not list((case_dir / "evidence").iterdir())  # nothing copied or hashed


def test_wait_queues_behind_the_holder(case_dir, tmp_path):
    f = tmp_path / "a.txt"
    f.write_text("a\n")
    held = CaseLock(case_dir, "casegraph analyze").acquire()
    threading.Timer(1.0, held.release).start()
    t = time.monotonic()
    out = cli("--wait", "30", "evidence", "add", case_dir, f, *META)
    assert time.monotonic() - t >= 0.9
    assert "waiting for 'casegraph analyze'" in out and "1 stored" in out


def test_readers_share_the_case_and_a_writer_waits_for_them(case_dir, tmp_path):
    reader = CaseLock(case_dir, "casegraph case show", shared=True).acquire()
    try:
        assert "Case HTS/2026/041" in cli("case", "show", case_dir)  # a second reader at the same time
        out = cli("custody", "verify", case_dir, code=1)
        assert "case in use by another casegraph command" in out
    finally:
        reader.release()


def test_store_held_by_another_process_is_a_one_line_error(case_dir):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb,sys,time; c=duckdb.connect(sys.argv[1]); print('ok', flush=True); time.sleep(30)",
            str(case_dir / "case.duckdb"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ok"
        out = cli("custody", "verify", case_dir, code=1)
    finally:
        holder.kill()
        holder.wait()
    assert f"error: {case_dir / 'case.duckdb'}: open in another process (Could not set lock on file" in out
    assert "run again with 'casegraph --wait SECONDS ...'" in out


# -- a broken case folder -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "damage, message",
    [
        (
            lambda d: (d / "case.toml").write_text((d / "case.toml").read_text() + "garbage = = \n"),
            "case.toml: not valid TOML (Invalid value (at line 8, column 11)); correct that line, or restore case.toml from your backup",
        ),
        (
            lambda d: (d / "case.toml").write_text((d / "case.toml").read_text().replace("title", "titel")),
            "case.toml: unknown key 'titel' in [case]; remove or rename it (known keys: case_no, examiner, title, agency, "
            "timezone, created)",
        ),
        (
            lambda d: (d / "case.toml").write_text((d / "case.toml").read_text().replace("Asia/Colombo", "Asia/Kandy")),
            "case.toml: unknown time zone 'Asia/Kandy' in [case] timezone; use an IANA name such as Asia/Colombo",
        ),
        (
            lambda d: (d / "case.duckdb").write_bytes(b"\0" * (d / "case.duckdb").stat().st_size),
            "case.duckdb: not a readable DuckDB database (",
        ),
        (lambda d: (d / "case.duckdb").write_bytes(b""), "case.duckdb: not a readable DuckDB database ("),
    ],
)
def test_broken_case_folder_is_one_line_naming_file_and_fix(case_dir, damage, message):
    damage(case_dir)
    for command in (["case", "show"], ["custody", "verify"], ["ingest"]):
        out = cli(*command, case_dir, code=2)
        last = out.splitlines()[-1]  # `case show` may print the case's header before it needs the store
        assert last.startswith("error: ") and message in last and out.count("\n") <= 2, out
    if "duckdb" in message:
        assert "restore it from your backup of the case (the evidence/ folder and custody.jsonl are not affected)" in out


# -- scale ----------------------------------------------------------------------------------------


def test_custody_append_reads_only_the_end_of_the_log(tmp_path, monkeypatch):
    log = custody.CustodyLog(tmp_path / "custody.jsonl")
    log.append("case-created", "t")
    first = log.path.read_text()
    with open(log.path, "a") as f:  # a long log: 20 MB of padding events before the last one
        f.write(('{"pad": "' + "x" * 990 + '"}\n') * 20_000)
        f.write(first)
    read = []
    real = os.pread
    monkeypatch.setattr(custody.os, "pread", lambda fd, n, off: read.append(n) or real(fd, n, off))
    ev = log.append("intake", "t")
    assert ev["seq"] == 2 and sum(read) <= 1 << 17


def test_many_exhibits_keep_the_views_and_intake_steady(case_dir, tmp_path):
    seized = tmp_path / "seized"
    seized.mkdir()
    for i in range(40):
        (seized / f"chat-{i:03d}.txt").write_text(f"12/03/2024, 14:{i:02d} - Nuwan: call 077 {i:07d}\n")
    from casegraph.ingest.pipeline import parse_exhibit

    with Case(case_dir) as c:
        s = take_in(c, [seized], "B1")
        assert len(s.taken) == 40
        made = []
        real = c.store._refresh_views
        c.store._refresh_views = lambda force=False: made.append(force) or real(force)
        for r in s.taken:
            assert parse_exhibit(c, r.sha256).status == "complete"
        assert c.store.count("messages") == 40  # every exhibit's segment is seen through the view
        views = c.store.one("SELECT sql FROM duckdb_views() WHERE view_name = 'messages'")[0]
        assert "messages/*/*/*/*.parquet" in views
        assert verify_case(c).ok


def test_unreadable_file_in_a_directory_is_skipped_and_logged(case_dir, tmp_path, monkeypatch):
    seized = tmp_path / "seized"
    seized.mkdir()
    (seized / "a.txt").write_text("a\n")
    (seized / "locked.db").write_text("b\n")
    real = open

    def denied(path, *a, **k):  # chmod 000 cannot stop root, who runs CI: deny the open itself
        if str(path).endswith("locked.db"):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, *a, **k)

    monkeypatch.setattr(evidence, "open", denied, raising=False)
    out = cli("evidence", "add", case_dir, seized, *META)
    assert "1 stored, 0 duplicates, 1 skipped" in out
    assert f"skipped: {seized / 'locked.db'}: cannot be read: Permission denied" in out
    assert not [n for n in os.listdir(case_dir / "evidence") if n.startswith(".incoming-")]
    assert actions(case_dir).count("intake-skipped") == 1
