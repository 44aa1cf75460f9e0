"""Wording shared by every layer's messages and report text: counts with the right plural."""

from __future__ import annotations


def plural(n: int, word: str, many: str | None = None) -> str:
    """`1 finding`, `2 findings`, `1 party`, `3 parties` (irregular plural given), with thousands separators."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def verb(n: int, one: str, many: str) -> str:
    """The verb agreeing with a count: verb(1, 'was', 'were')."""
    return one if n == 1 else many
