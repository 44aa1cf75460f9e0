from __future__ import annotations

from pathlib import Path

import click

from ._ui import console, fail, open_case, plural, table

CASE = click.argument("case", type=click.Path(exists=True, file_okay=False))
REDACT = click.option(
    "--redact",
    type=click.Choice(["none", "victims"]),
    default="none",
    show_default=True,
    help="'victims': persons marked victim, witness or minor appear under pseudonyms (Victim-1 ...) throughout.",
)
INTERPRETATION = click.option(
    "--interpretation",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="A text file with the examiner's interpretation (opinion), shown apart from the findings.",
)
KEY = click.option(
    "--key",
    type=click.Path(dir_okay=False),
    default=None,
    help="The examiner's Ed25519 private key (PEM). Default: the case's own key in CASE/keys/, made on first use.",
)


OVERRIDE = click.option(
    "--override-verify",
    default=None,
    metavar="REASON",
    help="Write it although the case does not verify (custody verify): the reason is logged in the custody log and printed on the report.",
)


def _output_options(default: str):
    """The options `report` and `bundle` share."""
    out = click.option("--out", type=click.Path(file_okay=False), default=None, help=f"Output directory (default {default}).")
    return lambda f: REDACT(INTERPRETATION(KEY(OVERRIDE(out(f)))))


def _warn_if_nobody_marked(redact: str, redacted: bool) -> None:
    if redact == "victims" and not redacted:
        console.print(
            "[yellow]warning:[/] no person is marked victim, witness or minor (casegraph entities mark): nothing was pseudonymised"
        )


def _options(redact, interpretation, key, override_verify=None) -> dict:
    return {
        "redact": redact == "victims",
        "key": Path(key) if key else None,
        "override_verify": override_verify,
        "interpretation": Path(interpretation).read_text(encoding="utf-8") if interpretation else None,
    }


@click.command("report")
@CASE
@_output_options("CASE/reports")
def report_cmd(case, redact, interpretation, key, override_verify, out) -> None:
    """Write the evidence report: HTML and signed PDF/A-3b.

    The HTML is self-contained; the PDF/A-3b is signed by the examiner's key, with findings.json
    attached.

    The report describes the case as of its latest custody event (reports and bundles themselves
    excepted): the same case state always gives byte-identical files. Set SOURCE_DATE_EPOCH to fix
    the report date yourself."""
    from ..reports.render import RenderError
    from ..reports.report import write_report

    with open_case(case) as c:
        with console.status("rendering the report (HTML, PDF/A-3b, signature)"):
            try:
                rep, paths = write_report(c, Path(out) if out else None, **_options(redact, interpretation, key, override_verify))
            except (RenderError, ValueError) as e:
                fail(str(e))
        _warn_if_nobody_marked(redact, rep.redactor.active)
        console.print(table("Report", ["file", "bytes"], [(str(p), p.stat().st_size) for p in paths]))
        console.print(
            f"Case as of custody event {rep.doc['as_of']['seq']}; {plural(len(rep.doc['findings']), 'finding')}; "
            f"signed by key {rep.signer.fingerprint}" + ("; victims pseudonymised" if rep.doc["redacted"] else "")
        )


@click.command("bundle")
@CASE
@_output_options("CASE/bundles")
@click.option(
    "--viewer", is_flag=True, help="Add the portable case viewer (data/viewer/index.html): opens offline in any browser, read-only."
)
def bundle_cmd(case, redact, interpretation, key, override_verify, out, viewer) -> None:
    """Write a signed evidence bundle for court and defence.

    BagIt with SHA-256 manifests: report HTML and signed PDF, findings.json, the custody log, the
    exhibit manifest and a CASE/UCO JSON-LD description. The tag manifest is signed with Ed25519.
    Hand the directory to the court and the defence; they check it with 'casegraph verify'."""
    from ..reports.bundle import write_bundle
    from ..reports.render import RenderError

    with open_case(case) as c:
        with console.status("building the bundle"):
            try:
                path = write_bundle(c, Path(out) if out else None, viewer=viewer, **_options(redact, interpretation, key, override_verify))
            except (RenderError, ValueError) as e:  # NotVerified, StaleFindings: one line each
                fail(str(e))
        _warn_if_nobody_marked(redact, path.name.endswith("-redacted"))
        files = sorted(p for p in path.rglob("*") if p.is_file())
        console.print(table(f"Bundle {path}", ["file", "bytes"], [(p.relative_to(path), p.stat().st_size) for p in files]))
        if viewer:
            console.print(f"Case viewer: open {path / 'data' / 'viewer' / 'index.html'} in a browser (offline, read-only)")
        console.print(f"Check it with: casegraph verify {path}")


@click.command("verify")
@click.argument("bundle", type=click.Path(exists=True, file_okay=False))
@click.option("--expect-key", default=None, help="The examiner's key fingerprint, as stated by them: the bundle must be signed by it.")
@click.option(
    "--trusted-keys",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="A file of trusted examiner keys, one per line: FINGERPRINT  name (# comments). The bundle must be signed by one.",
)
@click.option(
    "--case",
    "case_dir",
    type=click.Path(exists=True, file_okay=False),
    default=None,
    help="The case the bundle comes from, when at hand: its own signing key is trusted.",
)
def verify_cmd(bundle, expect_key, trusted_keys, case_dir) -> None:
    """Verify an evidence bundle: hashes, signer, custody.

    Every file's hash, that every file a bundle holds is there and nothing else, the Ed25519
    signature and who made it, the PDF signature, the custody chain and the exhibits' intake events.
    Needs only casegraph and the bundle.

    VERIFIED (exit 0) needs a trusted signer (--expect-key, --trusted-keys or --case): anyone can
    sign a bundle with a key of their own, so an intact bundle from an unknown key is UNTRUSTED
    SIGNER (exit 1). NOT VERIFIED (exit 1) names every altered, missing or added file."""
    from ..reports.signing import case_fingerprints
    from ..reports.verify import load_trusted_keys, verify_bundle

    trusted = load_trusted_keys(Path(trusted_keys)) if trusted_keys else {}
    if case_dir:
        c = open_case(case_dir, read_only=True)
        with c:
            trusted.update(case_fingerprints(c.root, c.custody.events()))
    v = verify_bundle(Path(bundle), expect_key, trusted)
    # who signed comes first: integrity without a trusted signer proves nothing
    if v.fingerprint is None:
        console.print("[bold red]SIGNER UNKNOWN[/]: the bundle's signing key cannot be read")
    elif v.trusted_as:
        console.print(
            f"[bold]Signed by key {v.fingerprint}[/] (certificate: {v.signer}) — [bold green]trusted[/]: {v.trusted_as}", soft_wrap=True
        )
    else:
        console.print(
            f"[bold red]Signed by key {v.fingerprint}[/] (certificate claims: {v.signer}) — [bold red]NOT a trusted "
            f"key[/]" + ("" if v.trust_given else ": no trusted key given (--expect-key, --trusted-keys, --case)"),
            soft_wrap=True,
        )
    for line in v.checked:
        console.print(f"  checked: {line}")
    for line in v.notes:
        console.print(f"  [yellow]note:[/] {line}")
    for line in v.problems:
        console.print(f"  [bold red]problem:[/] {line}", soft_wrap=True)
    if v.verdict == "VERIFIED":
        console.print(f"[bold green]VERIFIED[/]: {bundle} is complete and unaltered; signed by trusted key {v.fingerprint}", soft_wrap=True)
    elif v.verdict == "UNTRUSTED SIGNER":
        console.print(
            f"[bold red]UNTRUSTED SIGNER[/]: {bundle} is intact as signed, but by key {v.fingerprint}, which no "
            "trusted key list names: anyone can make such a bundle. Compare the key with the examiner's stated "
            "fingerprint (--expect-key) or a trusted-keys file.",
            soft_wrap=True,
        )
        raise SystemExit(1)
    else:
        console.print(f"[bold red]NOT VERIFIED[/]: {plural(len(v.problems), 'problem')} in {bundle}", soft_wrap=True)
        raise SystemExit(1)


COMMANDS = [report_cmd, bundle_cmd, verify_cmd]
