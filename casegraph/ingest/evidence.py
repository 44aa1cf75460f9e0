"""Evidence intake: copy while hashing, store read-only under the SHA-256, log the intake.

The original is only ever read. The copy in evidence/<sha256> is what every later step reads,
so its hash can be checked against the intake record at any time (`custody verify`).
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from ..case import Case
from .detect import detect
from .hashing import digest_stream


@dataclass(frozen=True)
class Intake:
    path: Path
    sha256: str
    md5: str
    size: int
    exhibit_id: str
    duplicate_of: str | None  # the exhibit id the same bytes were first taken in under
    format: str | None


def expand(paths: list[Path]) -> Iterator[Path]:
    """Files named directly, and every regular file under a named directory, in a stable order."""
    for p in paths:
        p = Path(p)
        if p.is_dir():
            yield from sorted(f for f in p.rglob("*") if f.is_file() and not f.is_symlink())
        elif p.is_file():
            yield p
        else:
            raise FileNotFoundError(f"{p}: no such file or directory")


def add_evidence(case: Case, path: Path, exhibit_id: str, *, seized_from: str | None = None,
                 acquired_by: str | None = None, warrant: str | None = None, notes: str | None = None,
                 actor: str | None = None, seizure: dict[str, str | None] | None = None) -> Intake:
    """`seizure`: what was recorded at the seizure (see ingest.seizure.details: seized_at, seal, device_*)."""
    seizure = {k: v for k, v in (seizure or {}).items() if v}
    path = Path(path)
    st = path.stat()
    fd, tmp_name = tempfile.mkstemp(prefix=".incoming-", dir=case.evidence_dir)
    tmp = Path(tmp_name)
    try:
        with open(path, "rb") as src, os.fdopen(fd, "wb") as sink:
            d = digest_stream(src, sink)
            sink.flush()
            os.fsync(sink.fileno())
        store = case.store
        existing = store.one("SELECT exhibit_id FROM exhibits WHERE sha256 = ?", [d.sha256])
        target = case.evidence_path(d.sha256)
        if existing:
            tmp.unlink()
            case.log("intake-duplicate", actor, inputs=[_input(path, d)],
                     details={"exhibit_id": exhibit_id, "first_taken_as": existing[0],
                              "note": "identical bytes already in evidence; not stored again"})
            return Intake(path, d.sha256, d.md5, d.size, exhibit_id, existing[0], None)
        if target.exists():  # an intake interrupted before its record was written: keep the stored copy
            tmp.unlink()
        else:
            os.replace(tmp, target)
        os.chmod(target, 0o444)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    parser = detect(target, path.name)
    fmt = parser.name if parser else None
    event = case.log("intake", actor, inputs=[_input(path, d)],
                     outputs=[{"path": f"evidence/{d.sha256}", "sha256": d.sha256}],
                     details={"exhibit_id": exhibit_id, "md5": d.md5, "size": d.size, "seized_from": seized_from,
                              "acquired_by": acquired_by, "warrant": warrant, "notes": notes, "format": fmt, **seizure})
    cols = ", ".join(seizure)
    store.con.execute(
        f"INSERT INTO exhibits (sha256, md5, size, exhibit_id, original_name, original_path, original_mtime, seized_from, "
        f"acquired_by, warrant, notes, format, added_at, intake_event_hash{', ' + cols if cols else ''}) "
        f"VALUES ({', '.join(['?'] * (14 + len(seizure)))})",
        [d.sha256, d.md5, d.size, exhibit_id, path.name, str(path.resolve()),
         datetime.fromtimestamp(st.st_mtime, timezone.utc), seized_from, acquired_by, warrant, notes, fmt,
         datetime.now(timezone.utc), event["hash"], *seizure.values()])
    return Intake(path, d.sha256, d.md5, d.size, exhibit_id, None, fmt)


def _input(path: Path, d) -> dict:
    return {"path": str(path.resolve()), "name": path.name, "sha256": d.sha256, "md5": d.md5, "size": d.size}
