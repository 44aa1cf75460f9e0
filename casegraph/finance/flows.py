"""The money graph, column-wise: accounts as integers, transfers as arrays sorted for fast hops.

Loaded once from the case store with DuckDB into numpy: sender, receiver, time (UTC µs), amount
(float, for filtering only; exact amounts are read back as Decimals for what is reported), and the
row's id and locator for provenance. Transfers without a time or an amount cannot be placed in a
time-respecting path, and failed transfers (status 'failed': no value moved) are left out unless asked
for; each is counted, with its totals per currency, and said, never silently used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..amounts import format_totals
from ..ranges import flat_ranges
from ..store import CaseStore

# An unknown end (cash in, cash out, a counterparty the source does not name) becomes a node of its own
# per transfer (named by the transfer's rowid): it carries money in or out (clean deposits dilute taint; withdrawals end a trail) but
# can never join two transfers into a path.
UNKNOWN = "?unknown:"


def is_unknown(account: str) -> bool:
    return account.startswith(UNKNOWN)


@dataclass
class LeftOut:
    """Transactions a trace could not or did not use, for one reason: how many, and their totals per currency."""

    count: int
    totals: dict[str | None, Decimal] = field(default_factory=dict)

    def describe(self, reason: str) -> str:
        return f"{self.count} {reason} ({format_totals(self.totals)})" if self.totals else f"{self.count} {reason}"


# why a transaction is not in the graph, as the output says it
FAILED, UNTIMED, NO_AMOUNT = "failed transfer(s) (no value moved)", "transfer(s) with no time", "transfer(s) with no amount"


def left_out_sql(include_failed: bool) -> str:
    """A DuckDB expression over `transactions`: why a row is not in the graph (NULL: it is)."""
    failed = "FALSE" if include_failed else "coalesce(status = 'failed', FALSE)"
    return f"CASE WHEN {failed} THEN '{FAILED}' WHEN ts_utc IS NULL THEN '{UNTIMED}' WHEN amount IS NULL THEN '{NO_AMOUNT}' END"


@dataclass
class Flows:
    accounts: list[str]  # code → account
    index: dict[str, int]  # account → code
    src: np.ndarray  # per transfer, sorted by (src, t)
    dst: np.ndarray
    t: np.ndarray  # int64 µs since epoch, UTC
    amount: np.ndarray  # float64, for thresholds only
    exact: pa.Array  # the amounts as exact decimals, in the same order
    run: np.ndarray  # per transfer, the key of its (exhibit, parser) in `runs`
    locator: pa.Array  # per transfer, where it is in its exhibit
    currency: pa.Array  # per transfer (dictionary-encoded)
    cur: np.ndarray  # per transfer, the currency's code in `currencies` (-1: not stated)
    currencies: list[str | None]
    runs: dict[int, tuple[str, str]]  # run key → (exhibit sha256, parser)
    offsets: np.ndarray  # CSR: transfers of account a are [offsets[a], offsets[a+1])
    skipped: dict[str, LeftOut] = field(default_factory=dict)  # why some transactions are not in the graph
    linked: bool = False  # whether some accounts were merged by links
    backwards: bool = False  # reversed(): src is the receiver, dst the sender, times negated
    include_failed: bool = False  # whether failed transfers were kept
    # for transfers the source dates but does not time (ts_precision 'day', t = start of the local day):
    day_only: np.ndarray | None = None  # bool per transfer
    day: np.ndarray | None = None  # int64 local calendar day (days since 1970-01-01) per transfer
    seq: np.ndarray | None = None  # int64 row order within its statement (run), -1 when the source gives none
    offset_min: np.ndarray | None = None  # int32 minutes the local time is ahead of UTC (for showing times)
    # the same transfers by receiver (CSR): into account a come in_order[in_offsets[a]:in_offsets[a+1]], so a
    # trace gathers the transfers of the accounts it reached without a pass over every transfer of the case
    in_order: np.ndarray | None = field(default=None, repr=False)
    in_offsets: np.ndarray | None = field(default=None, repr=False)
    _reversed: Flows | None = field(default=None, repr=False)  # made once, on the first backward trace

    def __post_init__(self) -> None:
        if self.in_order is None:
            self.in_order = np.argsort(self.dst, kind="stable")
            self.in_offsets = np.zeros(len(self.accounts) + 1, np.int64)
            np.cumsum(np.bincount(self.dst, minlength=len(self.accounts)), out=self.in_offsets[1:])

    def outgoing(self, accounts: np.ndarray) -> np.ndarray:
        """The transfers sent by these accounts (graph edges, in edge order within each account)."""
        return _ranges(self.offsets, accounts)

    def incoming(self, accounts: np.ndarray) -> np.ndarray:
        """The transfers received by these accounts (graph edges, in edge order within each account)."""
        assert self.in_order is not None and self.in_offsets is not None
        return self.in_order[_ranges(self.in_offsets, accounts)]

    @classmethod
    def load(cls, store: CaseStore, links: dict[str, str] | None = None, include_failed: bool = False) -> Flows:
        """All transfers of the case. `links` maps an account to another it is known to be the same
        holder's (across rails: a bank account and a wallet), so paths continue through it. Failed
        transfers are left out (and counted) unless `include_failed`."""
        con = store.con
        skipped: dict[str, LeftOut] = {}
        for reason, currency, n, total in con.execute(f"""
            SELECT reason, currency, count(*), sum(amount) FROM (
              SELECT {left_out_sql(include_failed)} AS reason, currency, amount
              FROM transactions) WHERE reason IS NOT NULL GROUP BY ALL ORDER BY reason, currency NULLS LAST""").fetchall():
            left = skipped.setdefault(reason, LeftOut(0))
            left.count += n
            if total is not None:
                left.totals[currency] = total
        # the provenance of each transfer, compactly: a hash of its (exhibit, parser) and its locator
        tbl = con.sql(f"""
            SELECT coalesce(from_account, '{UNKNOWN}' || id) AS from_account, coalesce(to_account, '{UNKNOWN}' || id) AS to_account,
                   epoch_us(ts_utc) AS t, CAST(amount AS DOUBLE) AS amount, amount AS exact,
                   hash(exhibit_sha256, parser) AS run, locator, currency,
                   coalesce(ts_precision = 'day', false) AS day_only, coalesce(seq, -1) AS seq,
                   date_diff('day', DATE '1970-01-01', CAST(coalesce(ts_local, ts_utc AT TIME ZONE 'UTC') AS DATE)) AS day,
                   CAST(coalesce((epoch_us(ts_local) - epoch_us(ts_utc)) // 60000000, 0) AS INTEGER) AS offset_min
            FROM transactions
            WHERE ts_utc IS NOT NULL AND amount IS NOT NULL{"" if include_failed else " AND status IS DISTINCT FROM 'failed'"}
            """).to_arrow_table()  # the complement of left_out_sql, written plainly (faster to filter)
        runs = {
            int(h): (sha, parser)
            for h, sha, parser in con.execute(
                "SELECT DISTINCT hash(exhibit_sha256, parser), exhibit_sha256, parser FROM transactions"
            ).fetchall()
        }
        links = links or {}

        frm = tbl.column("from_account").combine_chunks()
        to = tbl.column("to_account").combine_chunks()
        if links:  # the linked account stands for both
            keys, vals = pa.array(list(links)), pa.array(list(links.values()))
            frm = pc.coalesce(pc.take(vals, pc.index_in(frm, keys)), frm)
            to = pc.coalesce(pc.take(vals, pc.index_in(to, keys)), to)
        both = pc.dictionary_encode(pa.concat_arrays([frm, to]))
        codes = both.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        n = len(frm)
        src, dst = codes[:n], codes[n:]
        accounts = both.dictionary.to_pylist()
        t = tbl.column("t").to_numpy()
        seq = tbl.column("seq").to_numpy()
        # by sender, then time, then statement row order; the store's order breaks ties, so paths are reproducible
        order = np.lexsort((np.arange(n), seq, t, src))
        take = pa.array(order)
        src, dst, t = src[order], dst[order], t[order]
        offsets = np.searchsorted(src, np.arange(len(accounts) + 1))
        column = lambda name: tbl.column(name).combine_chunks().take(take)  # noqa: E731
        currency = pc.dictionary_encode(column("currency"))
        cur = pc.fill_null(currency.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
        return cls(
            accounts,
            {a: i for i, a in enumerate(accounts)},
            src,
            dst,
            t,
            tbl.column("amount").to_numpy()[order],
            column("exact"),
            tbl.column("run").to_numpy()[order],
            column("locator"),
            currency,
            cur,
            currency.dictionary.to_pylist(),
            runs,
            offsets,
            skipped,
            bool(links),
            include_failed=include_failed,
            day_only=tbl.column("day_only").to_numpy()[order],
            day=tbl.column("day").to_numpy()[order],
            seq=seq[order],
            offset_min=tbl.column("offset_min").to_numpy()[order],
        )

    def reversed(self) -> Flows:
        """The same transfers with time running backwards, for tracing where money came from (made once per graph)."""
        if self._reversed is None:
            self._reversed = self._reverse()
        return self._reversed

    def _reverse(self) -> Flows:
        order = np.lexsort((-self.seq, -self.t, self.dst))
        take = pa.array(order)
        src, dst, t = self.dst[order], self.src[order], -self.t[order]
        # days run backwards too (negated), so the same "not before" test applies; row order is kept as it is
        return Flows(
            self.accounts,
            self.index,
            src,
            dst,
            t,
            self.amount[order],
            self.exact.take(take),
            self.run[order],
            self.locator.take(take),
            self.currency.take(take),
            self.cur[order],
            self.currencies,
            self.runs,
            np.searchsorted(src, np.arange(len(self.accounts) + 1)),
            self.skipped,
            self.linked,
            not self.backwards,
            self.include_failed,
            day_only=self.day_only[order],
            day=-self.day[order],
            seq=self.seq[order],
            offset_min=self.offset_min[order],
        )


def _ranges(offsets: np.ndarray, accounts: np.ndarray) -> np.ndarray:
    """The positions [offsets[a], offsets[a+1]) of each account a, concatenated (a CSR gather, column-wise)."""
    return flat_ranges(offsets[accounts], offsets[accounts + 1] - offsets[accounts])
