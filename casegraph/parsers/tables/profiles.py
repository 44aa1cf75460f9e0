"""Statement profiles: TOML files (parsers/profiles/, or one the examiner names) that map a source's column
headers to the canonical fields, with what its status values mean."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path


def _norm(header: str) -> str:
    """A header as compared with a profile's aliases: case, spaces and punctuation do not count, as they drift
    between export versions ("Time(UTC)" / "Time (UTC)", "Txhash" / "TxHash", "Value_IN(ETH)" / "Value IN (ETH)")."""
    return re.sub(r"[\W_]+", "", str(header).replace("\ufeff", "").casefold())


@dataclass
class Profile:
    name: str
    institution: str
    rail: str
    date_format: str
    required: list[str]
    columns: dict[str, list[str]]
    currency: str | None = None
    timezone: str | None = None
    source: str = ""
    # what the `status` column's values mean: {"failed": [...], "success": [...]}, case-insensitive, a
    # trailing * for a prefix ("Error(*"); values in neither list are named in a warning and left unstated
    status: dict[str, list[str]] = field(default_factory=dict)
    # the status of every row when the export holds only what succeeded (token Transfer events exist only
    # in transactions that did not revert), else None
    status_default: str | None = None

    @classmethod
    def load(cls, path: Path | str, text: str | None = None) -> Profile:
        data = tomllib.loads(text if text is not None else Path(path).read_text(encoding="utf-8"))
        cols = {k: [v] if isinstance(v, str) else list(v) for k, v in data.pop("columns").items()}
        return cls(columns=cols, source=str(path), **data)

    def match(self, headers: list[str]) -> dict[str, str] | None:
        """Canonical field → header (the first alias the file has), when every required field is present."""
        by_norm: dict[str, str] = {}
        for h in headers:
            by_norm.setdefault(_norm(h), h)
        found = {}
        for f, aliases in self.columns.items():
            for a in aliases:
                if _norm(a) in by_norm and by_norm[_norm(a)] not in found.values():
                    found[f] = by_norm[_norm(a)]
                    break
        return found if all(f in found for f in self.required) else None


def builtin_profiles() -> list[Profile]:
    folder = resources.files("casegraph.parsers") / "profiles"
    return [
        Profile.load(f"profiles/{p.name}", p.read_text(encoding="utf-8"))
        for p in sorted(folder.iterdir(), key=lambda p: p.name)
        if p.name.endswith(".toml")
    ]


def best(profiles: list[Profile], headers: list[str]) -> tuple[Profile | None, dict[str, str]]:
    """The profile that maps the most of these headers (all its required ones), and its mapping."""
    chosen: tuple[Profile | None, dict[str, str]] = (None, {})
    for p in profiles:
        m = p.match(headers)
        if m is not None and len(m) > len(chosen[1]):
            chosen = (p, m)
    return chosen
