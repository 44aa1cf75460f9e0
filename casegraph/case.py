"""A case is one directory: case.toml, evidence/, custody.jsonl, case.duckdb, reports/, bundles/."""
from __future__ import annotations

import getpass
import os
import tomllib
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import tomli_w

from .ingest.custody import GENESIS, CustodyLog
from .store import CaseStore, TimeNormaliser

CASE_FILE = "case.toml"


class CaseError(Exception):
    pass


@dataclass
class CaseInfo:
    case_no: str
    examiner: str
    title: str = ""
    agency: str = ""
    timezone: str = "Asia/Colombo"  # the seized devices' local zone, used for wall-clock times that state none
    created: str = ""


class Case:
    def __init__(self, root: Path | str):
        self.root = Path(root)
        cfg = self.root / CASE_FILE
        if not cfg.is_file():
            raise CaseError(f"{self.root}: not a case directory (no {CASE_FILE}); create one with 'casegraph case init'")
        with open(cfg, "rb") as f:
            self.config = tomllib.load(f)
        self.info = CaseInfo(**self.config["case"])
        self.custody = CustodyLog(self.root / "custody.jsonl")

    @classmethod
    def create(cls, root: Path | str, case_no: str, examiner: str, title: str = "", agency: str = "",
               timezone: str = "Asia/Colombo") -> Case:
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
        return CaseStore(self.root / "case.duckdb", TimeNormaliser(ZoneInfo(tz) if tz else None, tz))

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()
            del self.__dict__["store"]

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

    def log(self, action: str, actor: str | None = None, *, state: tuple[str, ...] = (), unanchored: bool = False,
            **kw: Any) -> dict[str, Any]:
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
