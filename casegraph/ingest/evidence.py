"""Evidence intake: copy while hashing, store read-only under the SHA-256, log the intake.

The original is only ever read. The copy in evidence/<sha256> is what every later step reads,
so its hash can be checked against the intake record at any time (`custody verify`).

Intake is atomic in the sense that matters for custody: the copy is hashed and its format
examined while it is still a temporary `.incoming-<sha256>` file; then the intake event is logged,
the file moved into place and the exhibit row written from that event. A crash at any point
leaves either nothing recorded (the temporary file is removed by the next command, which logs it)
or an intake event whose file and row the next command completes (`recover_intakes`, logged too).
Format detection never raises: an encrypted or unreadable exhibit is taken in and flagged.

File names are kept exactly: on POSIX a name is bytes, and one that is not UTF-8 is carried as a
surrogate-escaped str, recorded with a printable form (undecodable bytes as \\xNN) and its bytes in
hex. Links, FIFOs, sockets and devices inside a directory exhibit are not followed or read; each
is recorded in the custody log as skipped.
"""

from __future__ import annotations

import json
import os
import re
import stat
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..case import Case
from ..errors import CaseGraphError
from ..hashing import digest_stream, sha256_file
from ..store import EXHIBIT_SEIZURE_COLUMNS
from .detect import examine

INCOMING = ".incoming-"
_SHA = re.compile(r"[0-9a-f]{64}")


class IntakeError(CaseGraphError):
    code = 1


class Unreadable(IntakeError):
    """The original cannot be opened (permission denied): nothing was copied."""

    def __init__(self, path: Path, reason: str):
        super().__init__(f"{printable(path)}: {reason}")
        self.reason = reason


@dataclass(frozen=True)
class Intake:
    path: Path
    sha256: str
    md5: str
    size: int
    exhibit_id: str
    duplicate_of: str | None  # the exhibit id the same bytes were first taken in under
    format: str | None
    flags: tuple[str, ...] = ()  # encrypted, unreadable: what detection could not read


@dataclass(frozen=True)
class Skipped:
    path: Path
    kind: str  # symlink | fifo | socket | block-device | char-device | unreadable | ...
    reason: str


@dataclass
class IntakeSummary:
    taken: list[Intake] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def printable(name: str | os.PathLike) -> str:
    """A file name as text that can be shown and stored: undecodable bytes become \\xNN."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def exact_name(path: Path) -> dict:
    """The name and path as recorded: printable, plus the exact bytes in hex when they are not UTF-8."""
    out = {"path": printable(path.absolute()), "name": printable(path.name)}
    raw = os.fsencode(path.absolute())
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        out["path_bytes_hex"] = raw.hex()
        out["name_bytes_hex"] = os.fsencode(path.name).hex()
    return out


def _kind(mode: int) -> str:
    for test, kind in (
        (stat.S_ISLNK, "symlink"),
        (stat.S_ISFIFO, "fifo"),
        (stat.S_ISSOCK, "socket"),
        (stat.S_ISBLK, "block-device"),
        (stat.S_ISCHR, "char-device"),
        (stat.S_ISDIR, "directory"),
    ):
        if test(mode):
            return kind
    return "not a regular file"


def _skip(p: Path, st: os.stat_result) -> Skipped:
    kind = _kind(st.st_mode)
    if kind == "symlink":
        try:
            target = printable(os.readlink(p))
        except OSError:
            target = "?"
        return Skipped(p, kind, f"symbolic link to {target}: not followed (its target is not part of the exhibit)")
    return Skipped(p, kind, f"a {kind}, not a regular file: not read")


def walk(paths: list[Path]) -> Iterator[Path | Skipped]:
    """Files named directly, and every entry under a named directory in a stable (byte) order:
    regular files as Paths, everything else (links, FIFOs, sockets, devices, unreadable folders)
    as Skipped. Nothing under a directory is passed over without a Skipped."""
    for p in map(Path, paths):
        try:
            st = p.lstat()
        except FileNotFoundError:
            raise IntakeError(f"{printable(p)}: no such file or directory", 2) from None
        if stat.S_ISDIR(st.st_mode):
            yield from _walk_dir(p)
        elif stat.S_ISREG(st.st_mode) or (stat.S_ISLNK(st.st_mode) and p.is_file()):
            yield p  # a link named directly is the examiner's choice: its target is taken in
        else:
            yield _skip(p, st)


def _walk_dir(top: Path) -> Iterator[Path | Skipped]:
    try:
        entries = sorted(os.scandir(top), key=lambda e: os.fsencode(e.name))
    except OSError as e:
        yield Skipped(top, "unreadable", f"directory cannot be listed: {e.strerror}")
        return
    for e in entries:
        p = Path(e.path)
        try:
            st = e.stat(follow_symlinks=False)
        except OSError as err:
            yield Skipped(p, "unreadable", f"cannot be examined: {err.strerror}")
            continue
        if stat.S_ISDIR(st.st_mode):
            yield from _walk_dir(p)
        elif stat.S_ISREG(st.st_mode):
            yield p
        else:
            yield _skip(p, st)


def expand(paths: list[Path]) -> Iterator[Path]:
    """The regular files `walk` finds (skipped entries left out: use `take_in` to record them)."""
    return (p for p in walk(paths) if isinstance(p, Path))


def take_in(
    case: Case,
    paths: list[Path],
    exhibit_id: str,
    *,
    tick: Callable[[Intake | Skipped], None] | None = None,
    actor: str | None = None,
    **meta,
) -> IntakeSummary:
    """Take every file under `paths` in as `exhibit_id`; record every entry not taken as skipped."""
    out = IntakeSummary()
    for item in walk(paths):
        if isinstance(item, Path):
            try:
                r = add_evidence(case, item, exhibit_id, actor=actor, **meta)
            except Unreadable as e:  # permission denied: logged and shown, and the rest go on
                item = Skipped(item, "unreadable", e.reason)
            else:
                out.taken.append(r)
                if tick:
                    tick(r)
                continue
        case.log(
            "intake-skipped",
            actor,
            inputs=[{**exact_name(item.path), "kind": item.kind}],
            details={"exhibit_id": exhibit_id, "reason": item.reason},
        )
        out.skipped.append(item)
        if tick:
            tick(item)
    return out


def add_evidence(
    case: Case,
    path: Path,
    exhibit_id: str,
    *,
    seized_from: str | None = None,
    acquired_by: str | None = None,
    warrant: str | None = None,
    notes: str | None = None,
    actor: str | None = None,
    seizure: dict[str, str | None] | None = None,
) -> Intake:
    """`seizure`: what was recorded at the seizure (see ingest.seizure.details: seized_at, seal, device_*)."""
    seizure = {k: v for k, v in (seizure or {}).items() if v}
    path = Path(path)
    # text from the command line can carry undecodable bytes too (surrogate-escaped): record it printable
    exhibit_id, seized_from, acquired_by, warrant, notes = (
        v if v is None else printable(v) for v in (exhibit_id, seized_from, acquired_by, warrant, notes)
    )
    try:
        st = path.stat()
    except FileNotFoundError:
        raise IntakeError(f"{printable(path)}: no such file or directory", 2) from None
    if not stat.S_ISREG(st.st_mode):
        raise IntakeError(f"{printable(path)}: {_kind(st.st_mode)}, not a regular file: not taken in", 2)
    store = case.store
    try:
        src = open(path, "rb")  # noqa: SIM115
    except OSError as e:
        raise Unreadable(path, f"cannot be read: {e.strerror or e}") from e
    fd, tmp_name = tempfile.mkstemp(prefix=INCOMING, dir=case.evidence_dir)
    tmp = Path(tmp_name)
    try:
        with src, os.fdopen(fd, "wb") as sink:
            d = digest_stream(src, sink)
            sink.flush()
            os.fsync(sink.fileno())
        existing = store.one("SELECT exhibit_id FROM exhibits WHERE sha256 = ?", [d.sha256])
        if existing:
            tmp.unlink()
            case.log(
                "intake-duplicate",
                actor,
                inputs=[_input(path, d, st)],
                details={
                    "exhibit_id": exhibit_id,
                    "first_taken_as": existing[0],
                    "note": "identical bytes already in evidence; not stored again",
                },
            )
            return Intake(path, d.sha256, d.md5, d.size, exhibit_id, existing[0], None)
        # named by its hash from here on, so that a crash after the event below can be completed
        staged = case.evidence_dir / f"{INCOMING}{d.sha256}"
        os.replace(tmp, staged)
        tmp = staged
        found = examine(tmp, printable(path.name))
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fmt = found.parser.name if found.parser else None
    event = case.log(
        "intake",
        actor,
        inputs=[_input(path, d, st)],
        outputs=[{"path": f"evidence/{d.sha256}", "sha256": d.sha256}],
        details={
            "exhibit_id": exhibit_id,
            "md5": d.md5,
            "size": d.size,
            "seized_from": seized_from,
            "acquired_by": acquired_by,
            "warrant": warrant,
            "notes": notes,
            "format": fmt,
            "flags": found.flags,
            **seizure,
        },
    )
    _place(case, tmp, d.sha256)
    _record(case, event)
    return Intake(path, d.sha256, d.md5, d.size, exhibit_id, None, fmt, tuple(found.flags))


def _place(case: Case, staged: Path, sha256: str) -> None:
    target = case.evidence_path(sha256)
    if target.exists():  # a copy left by an older interrupted intake: the same bytes, keep it
        staged.unlink()
    else:
        os.replace(staged, target)
    os.chmod(target, 0o444)


def _record(case: Case, event: dict) -> None:
    """The exhibit row, written from its intake event (so a resumed intake writes the same row)."""
    i, det = event["inputs"][0], event["details"]
    mtime = i.get("mtime")
    seizure = {c: det[c] for c in EXHIBIT_SEIZURE_COLUMNS if det.get(c)}
    cols = "".join(f", {c}" for c in seizure)
    case.store.con.execute(
        "INSERT INTO exhibits (sha256, md5, size, exhibit_id, original_name, original_path, original_mtime, seized_from, "
        f"acquired_by, warrant, notes, format, added_at, intake_event_hash{cols}) VALUES ({', '.join(['?'] * (14 + len(seizure)))})",
        [
            i["sha256"],
            i["md5"],
            i["size"],
            det["exhibit_id"],
            i["name"],
            i["path"],
            datetime.fromisoformat(mtime) if mtime else None,
            det.get("seized_from"),
            det.get("acquired_by"),
            det.get("warrant"),
            det.get("notes"),
            det.get("format"),
            datetime.now(UTC),
            event["hash"],
            *seizure.values(),
        ],
    )


def _input(path: Path, d, st: os.stat_result) -> dict:
    return {
        **exact_name(path),
        "sha256": d.sha256,
        "md5": d.md5,
        "size": d.size,
        "mtime": datetime.fromtimestamp(st.st_mtime, UTC).isoformat(),
    }


def _resume(case: Case, actor: str | None, ev: dict[str, Any], sha: str, path: str, when: str, moved: bool = False) -> None:
    """Finish an interrupted intake from its event: the exhibit row, and an `intake-resumed` custody event
    (with the copy's new place as output when it was `moved` there)."""
    _record(case, ev)
    case.log(
        "intake-resumed",
        actor,
        inputs=[{"path": path, "sha256": sha}],
        outputs=[{"path": f"evidence/{sha}", "sha256": sha}] if moved else None,
        details={"exhibit_id": ev["details"].get("exhibit_id"), "intake_seq": ev["seq"], "note": f"an intake interrupted {when}"},
    )


def recover_intakes(case: Case, actor: str | None = None) -> list[str]:
    """Finish or remove what an interrupted intake left in evidence/, logging each step; returns
    one line per action. Call it holding the case lock (no intake can be running then)."""
    if not case.evidence_dir.is_dir():
        return []
    names = os.listdir(case.evidence_dir)
    staged = [n for n in names if n.startswith(INCOMING)]
    rows = {r[0] for r in case.store.con.execute("SELECT sha256 FROM exhibits").fetchall()}
    unrecorded = [n for n in names if _SHA.fullmatch(n) and n not in rows]
    if not staged and not unrecorded:
        return []
    intakes = {}
    for _, raw in case.custody.read():
        try:
            ev = json.loads(raw)
            if ev.get("action") == "intake" and ev.get("outputs"):
                intakes[ev["outputs"][0].get("sha256")] = ev
        except (ValueError, AttributeError, TypeError, KeyError, IndexError):
            continue  # a damaged line is for `custody verify` to name; it resumes nothing
    done = []
    for name in sorted(staged):
        f = case.evidence_dir / name
        sha = name[len(INCOMING) :]
        ev = intakes.get(sha) if _SHA.fullmatch(sha) else None
        if ev is not None and sha not in rows and sha256_file(f) == sha:
            _place(case, f, sha)
            rows.add(sha)
            _resume(
                case, actor, ev, sha, f"evidence/{name}", "after its event was logged: copy moved into place, exhibit recorded", moved=True
            )
            done.append(
                f"resumed the interrupted intake of exhibit {ev['details'].get('exhibit_id')} "
                f"({ev['inputs'][0].get('name')}, sha256 {sha[:16]}…) logged at custody seq {ev['seq']}"
            )
            continue
        size = f.stat().st_size
        f.unlink()
        why = "its exhibit is already recorded" if sha in rows else "no intake was recorded for it"
        case.log(
            "intake-abandoned",
            actor,
            inputs=[{"path": f"evidence/{name}", "size": size}],
            details={
                "note": f"temporary copy left by an interrupted intake removed ({why}); the original was not changed: take it in again"
            },
        )
        done.append(f"removed evidence/{name} ({size} bytes), left by an interrupted intake ({why}); take that file in again")
    for sha in sorted(unrecorded):
        ev = intakes.get(sha)
        if ev is None or sha in rows:
            continue  # bytes with no intake event: `custody verify` names them; nothing here says whose they are
        _resume(case, actor, ev, sha, f"evidence/{sha}", "before its exhibit row was written: exhibit recorded")
        done.append(
            f"recorded exhibit {ev['details'].get('exhibit_id')} ({ev['inputs'][0].get('name')}), whose intake "
            f"was interrupted after custody seq {ev['seq']}"
        )
    return done
