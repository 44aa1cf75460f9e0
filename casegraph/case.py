"""A case is one directory: case.toml, evidence/, custody.jsonl, case.duckdb, reports/, bundles/."""

from __future__ import annotations

import getpass
import os
import tomllib
from dataclasses import MISSING, asdict, dataclass, fields
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
import tomli_w

from .errors import CaseGraphError
from .ingest.custody import GENESIS, CustodyLog
from .lock import CaseLock
from .store import CaseStore, TimeNormaliser

CASE_FILE = "case.toml"
STORE_FILE = "case.duckdb"


class CaseError(CaseGraphError):
    """A case folder that cannot be used as it is (missing, malformed case.toml, damaged store)."""


@dataclass
class CaseInfo:
    case_no: str
    examiner: str
    title: str = ""
    agency: str = ""
    timezone: str = "Asia/Colombo"  # the seized devices' local zone, used for wall-clock times that state none
    created: str = ""


class Case:
    def __init__(self, root: Path | str, *, read_only: bool = False):
        self.root = Path(root)
        self.read_only = read_only  # open the store read-only (commands that only look)
        self.lock: CaseLock | None = None  # held from `acquire` until `close`
        cfg = self.root / CASE_FILE
        if not cfg.is_file():
            raise CaseError(f"{self.root}: not a case directory (no {CASE_FILE}); create one with 'casegraph case init'")
        self.config = _read_config(cfg)
        self.info = _case_info(cfg, self.config)
        self.custody = CustodyLog(self.root / "custody.jsonl")

    def acquire(self, command: str, wait: float = 0, on_wait=None) -> Case:
        """Take the case lock before anything else (exclusive to write, shared to read); see `lock`."""
        self.lock = CaseLock(self.root, command, shared=self.read_only).acquire(wait, on_wait)
        return self

    @classmethod
    def create(
        cls, root: Path | str, case_no: str, examiner: str, title: str = "", agency: str = "", timezone: str = "Asia/Colombo"
    ) -> Case:
        root = Path(root)
        if (root / CASE_FILE).exists():
            raise CaseError(f"{root}: already a case directory")
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise CaseError(f"unknown time zone {timezone!r} (use an IANA name such as Asia/Colombo)") from e
        for sub in ("evidence", "reports", "bundles"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        info = CaseInfo(case_no, examiner, title, agency, timezone, datetime.now().astimezone().isoformat(timespec="seconds"))
        with open(root / CASE_FILE, "wb") as f:
            tomli_w.dump({"case": asdict(info)}, f)
        (root / "custody.jsonl").touch()
        case = cls(root)
        case.log("case-created", details={k: v for k, v in asdict(info).items()})
        return case

    @property
    def evidence_dir(self) -> Path:
        return self.root / "evidence"

    def evidence_path(self, sha256: str) -> Path:
        return self.evidence_dir / sha256

    @cached_property
    def store(self) -> CaseStore:
        tz = self.info.timezone or None
        path = self.root / STORE_FILE
        try:
            return CaseStore(path, TimeNormaliser(ZoneInfo(tz) if tz else None, tz), read_only=self.read_only)
        except duckdb.IOException as e:
            if "lock" in str(e).lower():
                raise CaseError(
                    f"{path}: open in another process ({_duckdb_reason(e)}); wait for it to finish, or "
                    "run again with 'casegraph --wait SECONDS ...'",
                    1,
                ) from e
            raise CaseError(
                f"{path}: not a readable DuckDB database ({_duckdb_reason(e)}); restore it from your "
                f"backup of the case (the evidence/ folder and custody.jsonl are not affected)"
            ) from e
        except duckdb.Error as e:
            raise CaseError(
                f"{path}: the case store cannot be opened ({_duckdb_reason(e)}); restore it from your "
                f"backup of the case (the evidence/ folder and custody.jsonl are not affected)"
            ) from e

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()
            del self.__dict__["store"]
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    def __enter__(self) -> Case:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def model_dirs(self) -> list[Path]:
        """Local model directories for the AI layers: case.toml [ai] models (relative to the case),
        then CASEGRAPH_MODELS (paths separated by the OS path separator)."""
        listed = [self.root / m for m in self.config.get("ai", {}).get("models", [])]
        env = [Path(p) for p in os.environ.get("CASEGRAPH_MODELS", "").split(os.pathsep) if p]
        return listed + env

    def actor(self, actor: str | None = None) -> str:
        return actor or os.environ.get("CASEGRAPH_EXAMINER") or self.info.examiner or getpass.getuser()

    def log(
        self, action: str, actor: str | None = None, *, state: tuple[str, ...] = (), unanchored: bool = False, **kw: Any
    ) -> dict[str, Any]:
        """Append a custody event and anchor it in the store. Refused (CustodyBroken) when the log does
        not end at the last anchored event: nothing is appended after a cut or rewritten log until an
        examiner acknowledges it. `state`: derived tables this command wrote, whose digests the event
        records (custody verify recomputes them). `unanchored` (verify, acknowledge): append after
        whatever the log ends with, and anchor only when the log was intact."""
        if state:
            from .ingest.digest import state_digests

            kw["details"] = {**(kw.get("details") or {}), "state": state_digests(self.store.con, state)}
        anchor = self.anchor()
        event = self.custody.append(action, self.actor(actor), expect=False if unanchored else anchor, **kw)
        if not unanchored or event["prev"] == (anchor[1] if anchor else GENESIS):
            self.store.con.execute("INSERT INTO custody_anchor VALUES (?, ?)", [event["seq"], event["hash"]])
        Case.last_head = (self.root, event["seq"], event["hash"])
        return event

    def require_unbroken(self) -> None:
        """Raise CustodyBroken now, before any work, when nothing could be logged at the end of it."""
        from .ingest.custody import CustodyBroken

        if not self.custody.path.is_file():
            raise CustodyBroken(f"{self.custody.path} is missing: run 'casegraph custody verify'")
        with open(self.custody.path, "rb") as f:
            self.custody._tail(f, self.anchor())

    last_head: tuple[Path, int, str] | None = None  # the newest event this process logged (the CLI prints it)

    def anchor(self) -> tuple[int, str] | None:
        """The newest anchored event (seq, hash)."""
        row = self.store.one("SELECT seq, hash FROM custody_anchor ORDER BY rowid DESC LIMIT 1")
        return (int(row[0]), row[1]) if row else None

    def anchors(self) -> list[tuple[int, str]]:
        """Every anchored event, oldest first (a case from before anchors were kept holds only its newest)."""
        return [(int(s), h) for s, h in self.store.con.execute("SELECT seq, hash FROM custody_anchor ORDER BY rowid").fetchall()]


def _read_config(cfg: Path) -> dict[str, Any]:
    try:
        with open(cfg, "rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise CaseError(f"{cfg}: not valid TOML ({e}); correct that line, or restore case.toml from your backup") from e
    except UnicodeDecodeError as e:
        raise CaseError(f"{cfg}: not UTF-8 text (byte {e.start}); save it as UTF-8, or restore it from your backup") from e


def _case_info(cfg: Path, config: dict[str, Any]) -> CaseInfo:
    """The [case] table, every key known, the time zone a real one: else an error naming the fix."""
    table = config.get("case")
    if not isinstance(table, dict):
        raise CaseError(f"{cfg}: no [case] table; restore case.toml from your backup (it needs at least case_no and examiner)")
    known = [f.name for f in fields(CaseInfo)]
    unknown = [k for k in table if k not in known]
    if unknown:
        raise CaseError(
            f"{cfg}: unknown key {', '.join(map(repr, unknown))} in [case]; remove or rename it (known keys: {', '.join(known)})"
        )
    missing = [f.name for f in fields(CaseInfo) if f.default is MISSING and f.name not in table]
    if missing:
        raise CaseError(f'{cfg}: [case] lacks {", ".join(map(repr, missing))}; add it (e.g. examiner = "IP Perera")')
    wrong = [k for k, v in table.items() if not isinstance(v, str)]
    if wrong:
        raise CaseError(f"{cfg}: [case] {', '.join(map(repr, wrong))} must be text in quotes")
    zone = table.get("timezone")
    if zone:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError, OSError) as e:
            raise CaseError(f"{cfg}: unknown time zone {zone!r} in [case] timezone; use an IANA name such as Asia/Colombo") from e
    return CaseInfo(**table)


def _duckdb_reason(e: Exception) -> str:
    return str(e).removeprefix("IO Error: ").splitlines()[0]
