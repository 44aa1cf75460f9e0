"""Runs of consecutive positions, column-wise: the gather behind every CSR lookup (a party's ties, an
account's transfers, a word's feature columns, a tie's records), without a Python loop over the runs."""

from __future__ import annotations

import numpy as np


def flat_ranges(start: np.ndarray, count: np.ndarray) -> np.ndarray:
    """start[i], start[i] + 1, …, start[i] + count[i] - 1 for every i, concatenated (int64)."""
    count = np.asarray(count, dtype=np.int64)
    total = int(count.sum())
    if not total:
        return np.zeros(0, np.int64)
    return np.repeat(np.asarray(start, dtype=np.int64) - (np.cumsum(count) - count), count) + np.arange(total)
