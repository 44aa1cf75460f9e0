from __future__ import annotations

import click

from ._ui import console, emit, fail, open_case, output_options, plural, table


@click.group("evidence")
def evidence_group() -> None:
    """Take exhibits into a case (hash, store, custody log)."""


@evidence_group.command("add")
@click.argument("case", type=click.Path(exists=True, file_okay=False))
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--exhibit", "exhibit_id", required=True, help="Exhibit label, e.g. P1 (phone 1). Shared by all FILES.")
@click.option("--seized-from", required=True, help="Person or place the exhibit was seized from.")
@click.option("--acquired-by", required=True, help="Officer who acquired the exhibit.")
@click.option("--warrant", default=None, help="Warrant, court order or other authority.")
@click.option("--notes", default=None, help="Free-text notes (acquisition tool, condition ...).")
@click.option(
    "--seized-at",
    default=None,
    metavar="ISO",
    help="When the exhibit was seized, as recorded: 2024-04-22 (a date stays a date) or 2024-04-22T14:30+05:30.",
)
@click.option("--seal", default=None, help="Seal or bag number of the exhibit.")
@click.option(
    "--device",
    default=None,
    metavar="MAKE/MODEL/IMEI/SERIAL",
    help='The seized device, e.g. "Samsung/Galaxy A14/356938035643809/R58T12345" (parts may be empty).',
)
@click.option("--device-make", default=None, help="Device make (overrides --device).")
@click.option("--device-model", default=None, help="Device model (overrides --device).")
@click.option("--imei", "device_imei", default=None, help="Device IMEI (overrides --device).")
@click.option("--serial", "device_serial", default=None, help="Device serial number (overrides --device).")
@click.option("--actor", default=None, help="Who performs this intake (default: $CASEGRAPH_EXAMINER or the case examiner).")
def evidence_add(
    case,
    files,
    exhibit_id,
    seized_from,
    acquired_by,
    warrant,
    notes,
    seized_at,
    seal,
    device,
    device_make,
    device_model,
    device_imei,
    device_serial,
    actor,
) -> None:
    """Hash FILES and store them read-only.

    SHA-256 and MD5 are computed streaming; each file is stored under its SHA-256. Directories are
    taken file by file; links, FIFOs, sockets and devices in them are not followed or read, and each
    is logged as skipped. Bytes already in the case are detected, logged and not stored twice.
    Encrypted or unreadable exhibits are taken in and flagged."""
    import os

    from ..ingest.evidence import IntakeError, printable, take_in

    # FILES exactly as given (a non-UTF-8 name stays its bytes), all checked before anything is taken in
    for f in files:
        if not os.path.lexists(f):
            fail(f"{printable(f)}: no such file or directory", 2)
    from ..ingest.seizure import SeizureError, details

    try:
        seizure = details(
            seized_at,
            seal,
            device,
            device_make=device_make,
            device_model=device_model,
            device_imei=device_imei,
            device_serial=device_serial,
        )
    except SeizureError as e:
        fail(str(e), 2)
    with open_case(case) as c:
        c.require_unbroken()  # before any bytes are copied
        try:
            s = take_in(
                c,
                list(files),
                exhibit_id,
                seized_from=seized_from,
                acquired_by=acquired_by,
                warrant=warrant,
                notes=notes,
                actor=actor,
                seizure=seizure,
            )
        except IntakeError as e:
            fail(str(e), e.code)
        rows = [
            (
                r.exhibit_id,
                printable(r.path.name),
                r.size,
                r.sha256,
                r.format or "unrecognised",
                f"duplicate of {r.duplicate_of}" if r.duplicate_of else "stored" + (" (flagged)" if r.flags else ""),
            )
            for r in s.taken
        ]
        console.print(table("Intake", ["exhibit", "file", "bytes", "sha256", "format", "result"], rows))
        for r in s.taken:
            for flag in r.flags:
                console.print(f"[yellow]flagged:[/] {printable(r.path)}: {flag}", soft_wrap=True)
        for k in s.skipped:
            console.print(f"[yellow]skipped:[/] {printable(k.path)}: {k.reason}", soft_wrap=True)
        stored = sum(1 for r in s.taken if not r.duplicate_of)
        console.print(
            f"{stored} stored, {len(s.taken) - stored} duplicates, {len(s.skipped)} skipped "
            f"({sum(1 for r in s.taken if r.flags)} flagged encrypted or unreadable); custody log updated."
        )


@evidence_group.command("list")
@click.argument("case", type=click.Path(exists=True, file_okay=False))
@output_options()
def evidence_list(case, fmt) -> None:
    """List exhibits with their hashes and seizure details.

    The table gives each SHA-256 by its first 16 digits (enough for --exhibit); --json and --csv
    give every column whole, MD5 and the device included."""
    with open_case(case, read_only=True) as c:
        rows = c.store.rows("SELECT * FROM exhibits ORDER BY added_at")
        emit(
            fmt,
            "Exhibit files",
            ["exhibit", "file", "bytes", "sha256", "format"],
            [(r["exhibit_id"], r["original_name"], r["size"], r["sha256"][:16] + "…", r["format"] or "unrecognised") for r in rows],
            rows,
        )
        if fmt == "table":  # what is recorded once per exhibit, not repeated for each of its files
            seizures: dict[str, tuple] = {}
            for r in rows:
                device = "/".join(r[k] or "" for k in ("device_make", "device_model", "device_imei", "device_serial")).strip("/")
                seizures.setdefault(
                    r["exhibit_id"], (r["exhibit_id"], r["seized_from"], r["seized_at"], r["seal"], device, r["acquired_by"], r["warrant"])
                )
            console.print(
                table("Seizure", ["exhibit", "seized from", "seized at", "seal", "device", "acquired by", "warrant"], seizures.values())
            )


@click.group("custody")
def custody_group() -> None:
    """Inspect and verify the chain of custody."""


@custody_group.command("verify")
@click.argument("case", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--expect-head",
    default=None,
    metavar="HASH",
    help="The custody head you noted outside the case (HASH or SEQ:HASH, as printed after each command): the log must still hold it.",
)
@click.option(
    "--reparse",
    is_flag=True,
    help="Also re-derive every record from the evidence with the recorded parser "
    "version and options, and compare (slow: as long as the ingest).",
)
def custody_verify(case, expect_head, reparse) -> None:
    """Re-hash the evidence and check the custody chain.

    Every exhibit, segment and derived record, and the hash-chained custody log, are checked;
    anything altered is named (table, parse run, exhibit).

    Exits 0 when intact, 1 when anything was altered, deleted or reordered. The verification is
    logged; over a broken log it does not move the anchor, so the break stays visible until 'custody
    acknowledge'."""
    import duckdb

    from ..ingest.integrity import verify_logged

    with open_case(case) as c:
        try:
            v = verify_logged(c, expect_head=expect_head, reparse=reparse)
        except duckdb.Error as e:
            fail(f"{c.root / 'case.duckdb'} cannot be read ({str(e).splitlines()[0][:200]}). Verdict: NOT INTACT")
        for w in v.warnings:
            console.print(f"[yellow]warning:[/] {w}", soft_wrap=True)
        for a in v.acknowledged:
            console.print(f"[yellow]acknowledged:[/] {a}", soft_wrap=True)
        for p in v.problems:
            console.print(f"[bold red]ALTERED:[/] {p}", soft_wrap=True)
        console.print(
            f"Custody chain: {v.events} events; exhibits re-hashed: {v.exhibits_checked}; segments re-hashed: "
            f"{v.segments_checked}; parse runs checked: {v.runs_checked}; derived tables checked: {v.tables_checked}"
            + (f"; runs re-derived from the evidence: {v.reparsed}" if reparse else "")
            + f". Verdict: [bold {'green' if v.ok else 'red'}]{v.verdict}[/]"
        )
    raise SystemExit(0 if v.ok else 1)


@custody_group.command("acknowledge")
@click.argument("case", type=click.Path(exists=True, file_okay=False))
@click.option("--reason", required=True, help="What happened and why work may go on (recorded in the custody log).")
@click.option("--actor", default=None, help="The examiner acknowledging (default: $CASEGRAPH_EXAMINER or the case examiner).")
def custody_acknowledge(case, reason, actor) -> None:
    """Record that an examiner has seen what verify reports.

    The reason is logged, and the log is anchored again from here. The problems stay listed (as
    acknowledged) in every verify and report."""
    from ..ingest.acknowledge import acknowledge

    if not reason.strip():
        fail("--reason must say what happened")
    with open_case(case) as c:
        ev, v = acknowledge(c, reason, actor)
        for p in v.problems:
            console.print(f"acknowledged: {p}", soft_wrap=True)
        console.print(f"{plural(len(v.problems), 'problem')} acknowledged at seq {ev['seq']} by {ev['actor']}.")


@custody_group.command("show")
@click.argument("case", type=click.Path(exists=True, file_okay=False))
@output_options()
def custody_show(case, fmt) -> None:
    """Print the custody log (--json: every event whole)."""
    with open_case(case, read_only=True) as c:
        events = list(c.custody.events())  # well-formed events only: custody verify names the others
        rows = [
            (
                e["seq"],
                _second(e.get("time")),
                e.get("actor"),
                e["action"],
                ", ".join(str(i.get("name") or i.get("exhibit_id") or "") for i in e.get("inputs", [])),
                e["hash"][:16] + "…",
            )
            for e in events
        ]
        flat = [
            {
                "seq": e["seq"],
                "time": e.get("time"),
                "actor": e.get("actor"),
                "action": e["action"],
                "tool": e.get("tool"),
                "inputs": e.get("inputs", []),
                "outputs": e.get("outputs", []),
                "details": e.get("details", {}),
                "prev": e.get("prev"),
                "hash": e["hash"],
            }
            for e in events
        ]
        emit(fmt, "Chain of custody", ["seq", "time (UTC)", "actor", "action", "inputs", "hash"], rows, events if fmt == "json" else flat)


def _second(value: str | None) -> str:
    """An event time in UTC to the second, for the terminal (`2026-12-01 07:07:43`); JSON keeps it whole."""
    from datetime import UTC, datetime

    try:
        return datetime.fromisoformat(value or "").astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return value or ""


COMMANDS = [evidence_group, custody_group]
