"""Format detection: every registered parser scores the exhibit; the best score of 0.5 or more wins."""
from __future__ import annotations

from pathlib import Path

from ..parsers import Parser, Probe, load_all

THRESHOLD = 0.5


def scores(path: Path, name: str | None = None) -> list[tuple[float, Parser]]:
    probe = Probe.of(path, name)
    ranked = [(p.sniff(probe), p) for p in load_all()]
    return sorted((s for s in ranked if s[0] > 0), key=lambda s: -s[0])


def detect(path: Path, name: str | None = None) -> Parser | None:
    ranked = scores(path, name)
    return ranked[0][1] if ranked and ranked[0][0] >= THRESHOLD else None
