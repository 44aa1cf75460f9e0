"""Forged evidence bundles: each attack made, and the exact verdict asserted.

The bag layout follows BagIt (RFC 8493): bagit.txt, bag-info.txt, manifest-<alg>.txt and
tagmanifest-<alg>.txt at the root, the payload under data/. The invalid-bag cases (a file in no
manifest, a file listed twice, a deleted file, Payload-Oxum) follow the list a production bag
verifier tested, alexwlchan/alexwlchan.net src/_posts/2025/2025-02-08-bagit-errors.md (Wellcome
Collection's storage service). A forger who does not hold the
examiner's key rebuilds the manifests (and Payload-Oxum) and signs with a key of their own; only
trust in the key can catch a forgery made that carefully.
"""

from __future__ import annotations

import hashlib
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from casegraph.case import Case
from casegraph.cli import main
from casegraph.errors import CaseGraphError
from casegraph.reports import report, signing
from casegraph.reports.bundle import SIGNATURE, write_bundle
from casegraph.reports.verify import load_trusted_keys, verify_bundle


@pytest.fixture(scope="module")
def bundle(demo, tmp_path_factory) -> Path:
    with Case(demo) as c:
        return write_bundle(c, tmp_path_factory.mktemp("bundles"))


@pytest.fixture(scope="module")
def examiner(demo) -> str:
    with Case(demo) as c:
        return report.case_signer(c).fingerprint


def cli(*args, code=0) -> str:
    r = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert r.exit_code == code, r.output
    assert "Traceback" not in r.output
    return r.output


def forge(root: Path, *, delete_pdf: bool) -> signing.Signer:
    """Edit findings.json, maybe delete report.pdf, rebuild manifests and Payload-Oxum, re-sign with a new key,
    and state the new key wherever the bundle names its signer."""
    f = root / "data" / "findings.json"
    f.write_text(f.read_text().replace("structuring", "nothing to see"))
    if delete_pdf:
        (root / "data" / "report.pdf").unlink()
    key = Ed25519PrivateKey.generate()
    s = signing.Signer(key, signing.certificate(key, "IP R. Bandara", "CID", datetime(2026, 1, 1, tzinfo=UTC)))
    old = signing.fingerprint(signing.cert_public_key((root / "data" / "signer-cert.pem").read_bytes()))
    (root / "data" / "signer-cert.pem").write_bytes(s.cert_pem())
    readme = root / "data" / "README.txt"
    readme.write_text(readme.read_text().replace(old, s.fingerprint))
    files = sorted(p for p in (root / "data").rglob("*") if p.is_file())
    (root / "manifest-sha256.txt").write_text(
        "".join(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(root).as_posix()}\n" for p in files)
    )
    info = root / "bag-info.txt"
    lines = [ln for ln in info.read_text().splitlines() if not ln.startswith(("Payload-Oxum", "Casegraph-Signer"))]
    lines += [f"Payload-Oxum: {sum(p.stat().st_size for p in files)}.{len(files)}", f"Casegraph-Signer: {s.fingerprint}"]
    info.write_text("\n".join(lines) + "\n")
    tags = "".join(
        f"{hashlib.sha256((root / n).read_bytes()).hexdigest()}  {n}\n" for n in ("bagit.txt", "bag-info.txt", "manifest-sha256.txt")
    )
    (root / "tagmanifest-sha256.txt").write_text(tags)
    (root / SIGNATURE).write_text(s.sign(tags.encode()).hex() + "\n")
    return s


def test_genuine_bundle_verifies_only_against_a_trusted_key(bundle, demo, examiner, tmp_path):
    v = verify_bundle(bundle)
    assert v.ok and v.verdict == "UNTRUSTED SIGNER" and v.fingerprint == examiner
    out = cli("verify", bundle, code=1)
    assert out.splitlines()[0].startswith(f"Signed by key {examiner} (certificate claims: IP R. Bandara")
    assert "NOT a trusted key: no trusted key given (--expect-key, --trusted-keys, --case)" in out.splitlines()[0]
    assert f"UNTRUSTED SIGNER: {bundle} is intact as signed, but by key {examiner}" in out
    assert "VERIFIED:" not in out.replace("UNTRUSTED", "")
    trust = tmp_path / "trusted-keys.txt"
    trust.write_text(f"# examiners of the CID HTS unit\n{examiner}  IP R. Bandara, CID\n")
    for how in (["--expect-key", examiner], ["--trusted-keys", trust], ["--case", demo]):
        out = cli("verify", bundle, *how)
        assert f"VERIFIED: {bundle} is complete and unaltered; signed by trusted key {examiner}" in out
        assert out.splitlines()[0].startswith(f"Signed by key {examiner}") and "trusted: " in out.splitlines()[0]


def test_forged_bundle_without_its_pdf_is_not_verified_even_without_expect_key(bundle, tmp_path):
    copy = tmp_path / "b"
    shutil.copytree(bundle, copy)
    forge(copy, delete_pdf=True)
    v = verify_bundle(copy)
    assert v.verdict == "NOT VERIFIED"
    assert v.problems == [
        "data/report.pdf is missing: every bundle has it (manifest-sha256.txt does not list it either: "
        "the manifests were re-made without it)"
    ]
    out = cli("verify", copy, code=1)
    assert "NOT VERIFIED: 1 problem in" in out and "NOT a trusted key" in out.splitlines()[0]


def test_forged_bundle_keeping_the_pdf_names_the_other_key_in_one_line(bundle, demo, tmp_path, capfd):
    copy = tmp_path / "b"
    shutil.copytree(bundle, copy)
    s = forge(copy, delete_pdf=False)
    v = verify_bundle(copy)
    assert v.problems == ["data/report.pdf: the PDF was signed by a different key than the bundle's signer"]
    out = cli("verify", copy, "--case", demo, code=1)
    assert (
        f"problem: UNTRUSTED SIGNER: signed by key {s.fingerprint} (IP R. Bandara, CID), which is not one of the "
        "1 trusted examiner key given"
    ) in out
    assert "NOT VERIFIED: 2 problems" in out
    captured = capfd.readouterr()
    assert "Traceback" not in captured.out + captured.err  # pyHanko's log traceback is not printed


def test_bundle_signed_with_anothers_key_is_untrusted(demo, examiner, tmp_path):
    """A complete, self-consistent bundle made with casegraph itself and the forger's key."""
    key_path = tmp_path / "forger.pem"
    forger = signing.fingerprint(signing.load_or_create(key_path)[0].public_key())
    with Case(demo) as c:
        b = write_bundle(c, tmp_path / "out", key=key_path)
    v = verify_bundle(b)
    assert v.ok and v.verdict == "UNTRUSTED SIGNER" and v.fingerprint == forger
    v = verify_bundle(b, trusted={examiner: "IP R. Bandara"})
    assert v.verdict == "NOT VERIFIED"
    assert v.problems == [
        f"UNTRUSTED SIGNER: signed by key {forger} (IP R. Bandara, CID Human Trafficking, Smuggling "
        f"Investigation and Maritime Crim), which is not one of the 1 trusted examiner key given"
    ]
    assert verify_bundle(b, expect_key=examiner).problems == [f"signed by key {forger}, not the expected {examiner}"]
    cli("verify", b, "--case", demo, code=1)


@pytest.mark.parametrize(
    "attack, problem",
    [
        (lambda r: (r / "extra.txt").write_text("planted"), "extra.txt is not listed in any manifest (file added)"),
        (
            lambda r: (r / "manifest-md5.txt").write_text("0" * 32 + "  data/report.html\n"),
            "manifest-md5.txt is not listed in any manifest (file added)",
        ),
        (lambda r: (r / "extra").mkdir(), "extra/ is a folder that is not part of the bundle (added)"),
        (
            lambda r: (r / "data" / "evidence.lnk").symlink_to("/etc/passwd"),
            "data/evidence.lnk is a symbolic link, not part of the bundle (added)",
        ),
        (lambda r: (r / "data" / "notes.txt").write_text("planted"), "data/notes.txt is not listed in manifest-sha256.txt (file added)"),
        (
            lambda r: (r / "manifest-sha256.txt").write_text((r / "manifest-sha256.txt").read_text() + "0" * 64 + "  data/report.html\n"),
            "manifest-sha256.txt lists data/report.html twice",
        ),
    ],
)
def test_everything_in_the_bag_is_checked(bundle, tmp_path, attack, problem):
    copy = tmp_path / "b"
    shutil.copytree(bundle, copy)
    attack(copy)
    v = verify_bundle(copy)
    assert v.verdict == "NOT VERIFIED" and problem in v.problems, v.problems


def test_required_file_deleted_and_unlisted_is_named(bundle, tmp_path):
    copy = tmp_path / "b"
    shutil.copytree(bundle, copy)
    (copy / "data" / "report.pdf").unlink()
    m = copy / "manifest-sha256.txt"
    m.write_text("".join(ln + "\n" for ln in m.read_text().splitlines() if "report.pdf" not in ln))
    v = verify_bundle(copy)
    assert (
        "data/report.pdf is missing: every bundle has it (manifest-sha256.txt does not list it either: the "
        "manifests were re-made without it)" in v.problems
    )
    (copy / SIGNATURE).unlink()
    assert f"{SIGNATURE} is missing: every bundle has it" in verify_bundle(copy).problems


def test_trusted_keys_file_errors_are_one_line(bundle, tmp_path):
    bad = tmp_path / "keys.txt"
    bad.write_text("# examiners\nIP Perera  a5e9\n")
    with pytest.raises(CaseGraphError, match=r"keys.txt line 2: not a key fingerprint \('IP'\)"):
        load_trusted_keys(bad)
    out = cli("verify", bundle, "--trusted-keys", bad, code=2)
    assert out.startswith("error: ") and "keys.txt line 2: not a key fingerprint ('IP'); each line is 64 hex digits" in out


def test_mutated_bytes_never_verify_and_never_crash(bundle, examiner, tmp_path):
    """One random byte changed in each file of the bundle (seeded, bounded): never VERIFIED, never an
    exception. (bag-info.txt and data/custody.jsonl are parsed by the custody checks, whose robustness
    against malformed input is tested with them.)"""
    import random

    rng = random.Random(8493)
    files = sorted(p.relative_to(bundle) for p in bundle.rglob("*") if p.is_file())
    for rel in files:
        if rel.as_posix() in ("bag-info.txt", "data/custody.jsonl"):
            continue
        copy = tmp_path / rel.as_posix().replace("/", "_")
        shutil.copytree(bundle, copy)
        data = bytearray((copy / rel).read_bytes())
        data[rng.randrange(len(data))] ^= rng.choice([0x01, 0x20, 0x80, 0xFF])
        (copy / rel).write_bytes(bytes(data))
        v = verify_bundle(copy, expect_key=examiner)
        assert v.verdict == "NOT VERIFIED", (rel, v.problems)
