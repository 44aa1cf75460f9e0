"""Format detection: every registered parser scores the exhibit; the best score of 0.5 or more wins.
(The logic, and the `unrecognised` pseudo-parser, are in parsers.unrecognised.) Detection reads
hostile bytes, so it never raises: a sniffer that fails scores nothing, and `examine` says why, so
intake can flag the exhibit instead of crashing after its bytes are stored."""

from __future__ import annotations

from pathlib import Path

from ..parsers import Parser
from ..parsers.unrecognised import THRESHOLD, UNRECOGNISED, Detection, Unrecognised, examine

__all__ = ["THRESHOLD", "UNRECOGNISED", "Detection", "Unrecognised", "detect", "examine", "scores"]


def scores(path: Path, name: str | None = None) -> list[tuple[float, Parser]]:
    return examine(path, name).ranked


def detect(path: Path, name: str | None = None) -> Parser | None:
    return examine(path, name).parser
