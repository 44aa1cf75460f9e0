"""Field order of a WhatsApp export's dates, decided from the file's dates, and the timestamps.

Orders are named by their fields: DMY, MDY, YMD, YDM, and (a four-digit year in the middle) DYM, MYD.
The year's position is settled first: a four-digit field, a field over 31, the only position that
keeps the messages in time order, else (a file within one month) the reading that keeps them within
days rather than years, with a warning. Then day and month: a value over 12; dotted dates (day
first in every locale that writes them); the only order that keeps the messages in time order. When
nothing decides day against month, dates that read differently either way get no timestamp and the
file gets an error: pass `date_order` to settle it. Never a silent guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .grammar import _S, PM_TOKENS, np_mask

DATE_PARTS = r"^(?P<a>\d{1,4})[./-] ?(?P<b>\d{1,4})[./-] ?(?P<c>\d{1,4})\.?$"
TIME_PARTS = r"^(?P<h>\d{1,2})[:.](?P<m>\d{2})(?:[:.](?P<s>\d{2}))?$"
_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
# order -> (year position, day position, month position)
ORDERS = {"DMY": (2, 0, 1), "MDY": (2, 1, 0), "YMD": (0, 2, 1), "YDM": (0, 1, 2), "DYM": (1, 0, 2), "MYD": (1, 2, 0)}
BY_YEAR = {p: [o for o, f in ORDERS.items() if f[0] == p] for p in (0, 1, 2)}
POSITION = {0: "first", 1: "in the middle", 2: "last"}


@dataclass
class DateOrder:
    order: str | None  # one of ORDERS, or None when day and month are undecided
    reason: str
    inconsistent: bool = False
    severity: str = "info"  # how well the data supports the decision: info, warning, error


def _ints(a: pa.Array) -> np.ndarray:
    return pc.cast(pc.fill_null(pc.if_else(pc.equal(a, ""), "0", a), "0"), pa.int64()).to_numpy(zero_copy_only=False)


def fields(dates: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(3 x n values, 3 x n digit counts) of date strings."""
    parts = pc.extract_regex(dates, DATE_PARTS)
    names = ("a", "b", "c")
    values = np.stack([_ints(parts.field(k)) for k in names]) if len(dates) else np.zeros((3, 0), np.int64)
    widths = (
        np.stack([pc.utf8_length(parts.field(k)).to_numpy(zero_copy_only=False) for k in names])
        if len(dates)
        else np.zeros((3, 0), np.int64)
    )
    return values, widths


def calendar(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(valid, days since 1970) of year/month/day arrays; two-digit years are 20yy."""
    y = np.where(y < 100, y + 2000, y)
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    mi = np.clip(m - 1, 0, 11)
    ok = (m >= 1) & (m <= 12) & (d >= 1) & (d <= _DAYS[mi] + (leap & (m == 2))) & (y >= 1970) & (y <= 2100)
    days = (
        (np.where(ok, y, 1970) - 1970).astype("datetime64[Y]").astype("datetime64[M]") + np.where(ok, mi, 0).astype("timedelta64[M]")
    ).astype("datetime64[D]") + np.where(ok, d - 1, 0).astype("timedelta64[D]")
    return ok, days.astype(np.int64)


def read(values: np.ndarray, order: str) -> tuple[np.ndarray, np.ndarray]:
    yp, dp, mp = ORDERS[order]
    return calendar(values[yp], values[mp], values[dp])


@dataclass
class OrderEvidence:
    """What the dates of a file say about their field order, gathered block by block."""

    four_at: dict[int, tuple[int, str]] = field(default_factory=dict)  # year position -> first (line, date)
    over31_at: dict[int, tuple[int, str]] = field(default_factory=dict)
    over12_at: dict[int, tuple[int, str]] = field(default_factory=dict)
    dotted_at: tuple[int, str] | None = None
    invalid: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ORDERS, 0))
    invalid_at: dict[str, tuple[int, str]] = field(default_factory=dict)
    backwards: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ORDERS, 0))
    last: dict[str, int | None] = field(default_factory=lambda: dict.fromkeys(ORDERS))
    low: dict[str, int | None] = field(default_factory=lambda: dict.fromkeys(ORDERS))
    high: dict[str, int | None] = field(default_factory=lambda: dict.fromkeys(ORDERS))
    count: int = 0

    def add(self, line_numbers: np.ndarray, dates: pa.Array) -> None:
        if len(dates) == 0:
            return
        self.count += len(dates)
        dd = pc.dictionary_encode(dates)
        values, widths = fields(dd.dictionary)
        di = dd.indices.to_numpy(zero_copy_only=False)
        first_row = np.full(len(dd.dictionary), len(di))
        np.minimum.at(first_row, di, np.arange(len(di)))

        def note(target: dict, key, mask: np.ndarray) -> None:
            if key not in target and mask.any():
                j = int(np.flatnonzero(mask)[np.argmin(first_row[mask])])
                target[key] = (int(line_numbers[first_row[j]]), dd.dictionary[j].as_py())

        for p in range(3):
            note(self.four_at, p, widths[p] == 4)
            note(self.over31_at, p, values[p] > 31)
            note(self.over12_at, p, values[p] > 12)
        if self.dotted_at is None:
            dotted = pc.match_substring(dd.dictionary, ".").to_numpy(zero_copy_only=False)
            box: dict = {}
            note(box, 0, dotted)
            self.dotted_at = box.get(0)
        for order in ORDERS:
            ok, days = read(values, order)
            self.invalid[order] += int((~ok[di]).sum())
            note(self.invalid_at, order, ~ok)
            seq = days[di][ok[di]]
            if not len(seq):
                continue
            prev = self.last[order]
            self.backwards[order] += int((seq[1:] < seq[:-1]).sum()) + (1 if prev is not None and seq[0] < prev else 0)
            self.last[order] = int(seq[-1])
            lo, hi = int(seq.min()), int(seq.max())
            self.low[order] = lo if self.low[order] is None else min(lo, self.low[order])
            self.high[order] = hi if self.high[order] is None else max(hi, self.high[order])

    def _settled_position(self) -> int | None:
        """The year's position once the values make it certain (evidence only accumulates: an order
        shown invalid or out of time order stays so)."""
        if self.four_at:
            return next(iter(self.four_at)) if len(self.four_at) == 1 else None
        big = [p for p in self.over31_at if p != 1]
        if len(big) == 1:
            return big[0]
        viable = [p for p in (2, 0) if any(self.invalid[o] == 0 and self.backwards[o] == 0 for o in BY_YEAR[p])]
        return viable[0] if len(viable) == 1 else None

    @property
    def decisive(self) -> bool:
        """Values have settled both the year's position and day against month, so the rest of the
        file need not be read first (a later date that contradicts is flagged as a mixed file)."""
        p = self._settled_position()
        if p is None:
            return False
        return p == 0 or any(q in self.over12_at for q in range(3) if q != p) or (p == 2 and self.dotted_at is not None)

    # -- the decision ---------------------------------------------------------------------------
    def _span(self, order: str) -> int | None:
        lo, hi = self.low[order], self.high[order]
        return None if lo is None else hi - lo

    def year_position(self) -> tuple[int | None, str, str]:
        """(position, reason, severity)."""
        if len(self.four_at) > 1:
            (p, at), (q, at2) = sorted(self.four_at.items())[:2]
            return (
                None,
                (f"four-digit years stand {POSITION[p]} (line {at[0]}: {at[1]}) and {POSITION[q]} (line {at2[0]}: {at2[1]})"),
                "error",
            )
        if self.four_at:
            p, at = next(iter(self.four_at.items()))
            return p, f"four-digit year {POSITION[p]} (line {at[0]}: {at[1]})", "info"
        big = {p: at for p, at in self.over31_at.items() if p != 1}
        if len(big) == 1:
            p, at = next(iter(big.items()))
            return p, f"year {POSITION[p]}: line {at[0]} has {at[1]}, a value no day or month takes", "info"
        candidates = [p for p in (2, 0) if any(self.invalid[o] == 0 for o in BY_YEAR[p])]
        if len(candidates) == 1:
            return candidates[0], f"year {POSITION[candidates[0]]}: only then is every date a real date", "info"
        if not candidates:
            return 2, "no reading makes every date real; year taken as last", "warning"
        in_order = [p for p in candidates if any(self.invalid[o] == 0 and self.backwards[o] == 0 for o in BY_YEAR[p])]
        if len(in_order) == 1:
            return in_order[0], (f"year {POSITION[in_order[0]]}: only then do the messages stay in time order (two-digit years)"), "info"
        spans = {
            p: min((s for o in BY_YEAR[p] if self.invalid[o] == 0 and (s := self._span(o)) is not None), default=None)
            for p in (in_order or candidates)
        }
        last, first = spans.get(2), spans.get(0)
        if last is not None and first is not None and first >= 300 * max(last, 1):
            return (
                2,
                (
                    f"two-digit years: read year-last the messages span {last + 1} day(s), year-first they would "
                    f"span {first // 365} year(s); year-last taken. Re-ingest with date_order=YMD if the phone "
                    "wrote year first"
                ),
                "warning",
            )
        if last is not None and first is not None and last >= 300 * max(first, 1):
            return (
                0,
                (
                    f"two-digit years: read year-first the messages span {first + 1} day(s), year-last they would "
                    f"span {last // 365} year(s); year-first taken. Re-ingest with date_order=DMY or MDY if the "
                    "phone wrote year last"
                ),
                "warning",
            )
        return (
            2,
            (
                "two-digit years and nothing in the file tells year-first (yy-mm-dd) from year-last; year-last "
                "taken, as most phones write it. Re-ingest with date_order=YMD if this phone wrote year first"
            ),
            "warning",
        )

    def decide(self) -> DateOrder:
        p, why_year, severity = self.year_position()
        if p is None:
            return DateOrder(None, why_year, inconsistent=True, severity="error")
        orders = BY_YEAR[p]
        first, second = orders  # the day-first reading, then the month-first one
        d_pos, m_pos = ORDERS[first][1], ORDERS[first][2]

        def done(order: str | None, why: str, sev: str = "info", inconsistent: bool = False) -> DateOrder:
            worst = max((severity, sev), key=("info", "warning", "error").index)
            return DateOrder(order, f"{why}; {why_year}", inconsistent, worst)

        day_big, month_big = self.over12_at.get(d_pos), self.over12_at.get(m_pos)
        if day_big and month_big:  # 13 stands in both places: the file mixes orders
            return done(
                first if self.invalid[first] <= self.invalid[second] else second,
                f"both orders occur: day first at line {day_big[0]} ({day_big[1]}), month first at line {month_big[0]} ({month_big[1]})",
                "error",
                True,
            )
        if day_big:
            return done(first, f"{'day first' if p == 2 else 'the day ' + POSITION[d_pos]}: line {day_big[0]} has {day_big[1]}")
        if month_big:
            return done(second, f"{'month first' if p == 2 else 'the day ' + POSITION[m_pos]}: line {month_big[0]} has {month_big[1]}")
        if p == 0:  # every locale that writes the year first writes year-month-day (ISO 8601)
            return done(first, "year first, so year-month-day, as every locale that writes the year first has it")
        if self.dotted_at and p != 1:
            return done(
                first,
                f"dotted dates (line {self.dotted_at[0]}: {self.dotted_at[1]}) are "
                f"{'day' if p == 2 else 'year, month'}-first in every locale that writes them",
            )
        b1, b2 = self.backwards[first], self.backwards[second]
        if b1 == 0 and b2 > 0:
            return done(first, "no day above 12; only day-first keeps the messages in time order")
        if b2 == 0 and b1 > 0:
            return done(second, "no day above 12; only month-first keeps the messages in time order")
        return done(None, "no date has a day above 12 and both orders keep the messages in time order", "error")


def decide_order(dates: list[tuple[int, str]]) -> DateOrder:
    """Decide from (line, date text) pairs; never guess."""
    ev = OrderEvidence()
    if dates:
        ev.add(np.array([n for n, _ in dates]), pa.array([d for _, d in dates], pa.string()))
    return ev.decide()


def timestamps(date: pa.Array, time: pa.Array, ampm: pa.Array, order: str | None) -> tuple[pa.Array, np.ndarray]:
    """Wall-clock timestamps; null where the text is not a valid date and time. Computed on the
    distinct date and time strings (few) and gathered. A four-digit field is the year wherever it
    stands (a forced DMY still reads 2018-06-13). Under a decided order, a date that is only valid
    with day and month the other way round (the file mixes orders) is read that way and flagged in
    the second result (1); so is a date whose four-digit year stands elsewhere than the order puts
    it (2). Undecided: only dates that read the same either way, or only one way."""
    dd = pc.dictionary_encode(date)
    values, widths = fields(dd.dictionary)
    n = values.shape[1]
    yp = np.full(n, ORDERS[order][0] if order else 2)
    for p in (0, 1, 2):
        yp = np.where(widths[p] == 4, p, yp)
    # day before month in the written order; a row whose four-digit year stands elsewhere than the
    # order says is read the way its own layout is written: year first is year-month-day
    order_first = order in (None, "DMY", "YDM", "DYM")
    home = yp == (ORDERS[order][0] if order else 2)
    day_first = np.where(home, order_first, yp != 0)
    # the two fields that are not the year, in their written order
    x = np.where(yp == 0, values[1], values[0])
    z = np.where(yp == 2, values[1], values[2])
    y = values[yp, np.arange(n)]
    if order is None:
        mdy = (x == z) | (z > 12)
        m, d, ok = np.where(mdy, x, z), np.where(mdy, z, x), mdy | (x > 12)
        swapped = np.zeros(n, bool)
    else:
        m, d = np.where(day_first, z, x), np.where(day_first, x, z)
        swapped = (m > 12) & (d <= 12)
        m, d = np.where(swapped, d, m), np.where(swapped, m, d)
        swapped = np.where(swapped, 1, np.where(home, 0, 2)).astype(np.int8)
        ok = np.ones(n, bool)
    valid_day, days = calendar(y, m, d)
    ok &= valid_day

    if pc.max(pc.binary_length(ampm)).as_py():  # some 12-hour times: a time and its marker together
        tt = pc.dictionary_encode(pc.binary_join_element_wise(time, ampm, "|"))
        tdict = tt.dictionary
    else:  # 24-hour only: the distinct times, each with its empty marker
        tt = pc.dictionary_encode(time)
        tdict = pc.binary_join_element_wise(tt.dictionary, "", "|")
    tparts = pc.split_pattern(tdict, "|", max_splits=1)
    t = pc.extract_regex(pc.list_element(tparts, 0), TIME_PARTS)
    hour, minute, second = _ints(t.field("h")), _ints(t.field("m")), _ints(t.field("s"))
    marker = pc.utf8_lower(pc.replace_substring_regex(pc.list_element(tparts, 1), _S, ""))
    has_marker = np_mask(pc.not_equal(marker, ""))
    pm = np_mask(pc.is_in(marker, value_set=pa.array(PM_TOKENS)))
    t_ok = ~has_marker | (hour <= 12)  # '00:08 a. m.' is written too: 12:08 AM
    hour = np.where(has_marker, hour % 12 + np.where(pm, 12, 0), hour)
    t_ok &= (hour < 24) & (minute < 60) & (second < 60)
    tod = (hour * 3600 + minute * 60 + second).astype("timedelta64[s]")

    di = dd.indices.to_numpy(zero_copy_only=False)
    ti = tt.indices.to_numpy(zero_copy_only=False)
    valid = ok[di] & t_ok[ti]
    ts = (days[di].astype("datetime64[D]").astype("datetime64[s]") + tod[ti]).astype("datetime64[us]")
    return pa.array(ts, pa.timestamp("us"), mask=~valid), swapped[di]
