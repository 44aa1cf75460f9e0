"""The case a workspace serves, held open for the server's life, and what every request may need of it.

The case store is one DuckDB connection, which is not safe to share between threads: every request
runs its library calls under `Workspace.lock`, one at a time. A writable workspace holds the case's
exclusive lock (as a CLI command that changes the case does); a `--read-only` one the shared lock, with
the store opened read-only, and a case object whose `log` refuses before anything is appended."""

from __future__ import annotations

import secrets
import threading
from pathlib import Path
from typing import Any

from ..case import Case
from ..errors import CaseGraphError
from ..reports.redact import Redactor
from ..thumbnails import Thumbnails


class ReadOnlyWorkspace(CaseGraphError, PermissionError):
    """A write was asked of a workspace started with --read-only (or by a reviewer)."""


class _ReadOnlyCase(Case):
    def log(self, action: str, actor: str | None = None, **kw: Any) -> dict[str, Any]:  # type: ignore[override]
        # refused before the custody file is touched: an appended line the read-only store cannot anchor would break the chain
        raise ReadOnlyWorkspace(f"this workspace is read-only: {action!r} was not done and nothing was logged")


class Workspace:
    def __init__(
        self,
        root: Path | str,
        *,
        read_only: bool = False,
        accounts: bool = False,
        examiner: str | None = None,
        model: Path | str | None = None,
    ):
        self.read_only = read_only
        self.accounts = accounts  # True: users log in (argon2 accounts); False: the printed token admits the local examiner
        self.token = secrets.token_urlsafe(32)
        self.lock = threading.RLock()
        cls = _ReadOnlyCase if read_only else Case
        self.case = cls(root, read_only=read_only).acquire("casegraph serve" + (" --read-only" if read_only else ""))
        self.examiner = self.case.actor(examiner)  # who the token admits (token mode)
        self._redactor: Redactor | None = None
        self.thumbnails = Thumbnails(self.case)  # media thumbnails by hash, in memory (never written into the case)
        self.embedder = None  # a local sentence-embedding model (--model), for search by embeddings as `casegraph search --model`
        if model is not None:
            from ..ai import models

            try:
                self.embedder = models.Embedder(models.describe(model))
            except models.ModelError:
                self.case.close()
                raise

    @property
    def root(self) -> Path:
        return self.case.root

    @property
    def store(self):
        return self.case.store

    def redactor(self) -> Redactor:
        """Victims, witnesses and minors under pseudonyms (the report's redaction), cached until a write."""
        if self._redactor is None:
            self._redactor = Redactor.victims(self.store)
        return self._redactor

    def changed(self) -> None:
        """Called after every write: what was derived from the case state is computed again."""
        self._redactor = None

    def close(self) -> None:
        self.case.close()
