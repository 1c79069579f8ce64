"""What changed, where and since when: :func:`changes` and its result, :class:`Changes`.

:func:`changes` builds every series of :func:`journey_lib.monitor_series` and hands them to
:func:`find_changes`, which fits each one's baseline
(:mod:`journey_lib.monitor.baseline`), scans its windows against it under one false-alarm
budget (:mod:`journey_lib.monitor.scan`) and describes each change found: where, from when
to when, the level before and during with 95% intervals, the size and the score. A change
of the whole log can then be split over each segment column (:meth:`Changes.breakdown`,
:mod:`journey_lib.monitor.breakdown`).

Levels
------
A change's **during** level is the window's own: events (customers) per used period for
counts, the share of the base for rates, money per active customer for revenue, each over
the window's used periods only (a period unused inside a series' range adds nothing).
**before** is the same over the periods just before the window (as many as it has, at least
:data:`journey_lib.monitor.scan.MIN_BEFORE`, whole weeks for daily series, never reaching
before the series' first used period). Intervals widen binomial (Wilson) and Poisson
(Garwood) ones by the series' dispersion. ``expected`` is the baseline's level in the
window. ``relative`` is ``during / before - 1``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from narwhals.typing import IntoFrame
from scipy import stats

from ..analytics.segments import Segments
from ..errors import JourneyDataError, JourneyParameterError, check_choice
from ..io.profile import LogProfile
from .baseline import design, fit_baseline
from .breakdown import decompose
from .recent import RECENT, cut_for, first_recent, forecast, scan_recent
from .scan import MIN_BEFORE, Found, Limits, scan, threshold, windows
from .series import FAMILY, MONITOR_PERIODS, SERIES_COLUMNS, monitor_series
from .span import refined

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["CHANGE_COLUMNS", "Changes", "changes", "find_changes"]

#: The columns of :attr:`Changes.table`.
CHANGE_COLUMNS: tuple[str, ...] = (
    "metric",
    "detail",
    "column",
    "value",
    "kind",
    "start",
    "end",
    "ongoing",
    "periods",
    "behind",
    "before_from",
    "before",
    "before_low",
    "before_high",
    "during",
    "during_low",
    "during_high",
    "expected",
    "change",
    "relative",
    "score",
    "p_value",
    "part_of",
)
_KEYS = ["metric", "detail", "column", "value"]
_Z95 = float(stats.norm.isf(0.025))
_ADVERB = {"day": "daily", "week": "weekly"}


@dataclass(frozen=True)
class Changes:
    """The changes found in a log's series (see :func:`changes`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per change, by score (highest first), with :data:`CHANGE_COLUMNS`:
        ``metric``, ``detail``, ``column`` and ``value`` (the place; missing for the whole
        log), ``kind`` (``"spike"``: one period; ``"shift"``), ``start`` and ``end`` (first
        and last period affected; ``end`` missing when ``ongoing``: the change lasts to the
        last period the series uses), ``periods``, ``behind`` (what the during level rests
        on, summed over the window's used periods: for counts the count itself, events for
        an event's volume and customer-periods for active customers; for rates and money
        the base, a customer counted once for each period whose base they are in),
        ``before_from`` (the first period of the before window, which ends where the
        change starts and leaves out the periods of the series' other changes:
        :meth:`windows`), ``before``,
        ``during`` and their 95% intervals, ``expected`` (the baseline's level),
        ``change`` (``during - before``), ``relative``, ``score`` (the window's
        standardised score, signed by direction), ``p_value`` (Bonferroni-adjusted over
        every window tested) and ``part_of`` (for a segment's change, the row of the whole
        log's change on the same metric whose window overlaps it; missing otherwise).
    series : pandas.DataFrame
        Every series scanned (:func:`journey_lib.monitor_series`'s rows) with ``expected``
        (the baseline's level in each used period), ``phi`` (the series' dispersion) and
        ``best`` (its highest absolute score over every window, 0 when not scanned).
    period : str
    alpha, min_size, min_count : float
        The false-alarm budget, the smallest relative size reported and the fewest events
        (counts) or customers (rates, money) a change may rest on.
    tests : int
        Windows tested, over every series.
    threshold : float
        The absolute score a window needed: the normal quantile of ``alpha / (2 tests)``.
    trend : pandas.Timedelta
        How far apart the baseline's trend could bend (see :func:`changes`).
    """

    table: pd.DataFrame
    series: pd.DataFrame
    period: str
    alpha: float
    min_size: float
    min_count: float
    tests: int
    threshold: float
    trend: pd.Timedelta

    def __len__(self) -> int:
        return len(self.table)

    def __repr__(self) -> str:
        scanned = self.series.groupby(_KEYS, dropna=False).ngroups
        return (
            f"<Changes: {len(self.table)} found in {scanned} {_ADVERB[self.period]} series "
            f"({self.tests:,} windows; |score| >= {self.threshold:.2f} for alpha={self.alpha})>"
        )

    def breakdown(self, change: int) -> pd.DataFrame:
        """Where change ``change`` (a row of :attr:`table`) happened: the whole log's series
        of its metric over the change's before and during windows, split over every segment
        column's values (:func:`journey_lib.monitor.breakdown.decompose`). Each column's
        ``effect`` adds up to the whole log's change over the same windows."""
        if not 0 <= change < len(self.table):
            raise JourneyParameterError(
                f"change must be a row of the table, 0 to {len(self.table) - 1}; got {change!r}"
            )
        row = self.table.iloc[change]
        before, during = self.windows(change)
        rows = self.series_of(change, every_place=True)
        rows = rows[rows["period"].isin(before.union(during))]
        # An empty window spans a period no row is left in.
        none = (row["start"] - _step(self.period),) * 2
        spans = [(w[0], w[-1]) if len(w) else none for w in (before, during)]
        return decompose(rows, FAMILY[row["metric"]], *spans)

    def windows(self, change: int) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex]:
        """The periods change ``change``'s levels were read over: before it, the used
        periods from ``before_from`` to its start less those of its series' other changes;
        during it, its used periods from ``start`` to its last (also when ongoing)."""
        row = self.table.iloc[change]
        rows = self.series_of(change)
        used = pd.DatetimeIndex(rows.loc[rows["used"].astype(bool), "period"])
        step = _step(self.period)
        last = row["start"] + (int(row["periods"]) - 1) * step
        t = self.table
        mine = (t["metric"] == row["metric"]) & _same(t["detail"], row["detail"])
        mine &= _same(t["column"], row["column"]) & _same(t["value"], row["value"])
        others = t[mine & (np.arange(len(t)) != change)]
        other = np.zeros(len(used), bool)
        for start, periods in zip(others["start"], others["periods"], strict=True):
            other |= (used >= start) & (used <= start + (int(periods) - 1) * step)
        before = used[(used >= row["before_from"]) & (used < row["start"]) & ~other]
        return before, used[(used >= row["start"]) & (used <= last)]

    def series_of(self, change: int, *, every_place: bool = False) -> pd.DataFrame:
        """The series of change ``change``: its place's rows, or with ``every_place`` the
        rows of every place of its metric and detail."""
        row = self.table.iloc[change]
        s = self.series
        same = (s["metric"] == row["metric"]) & _same(s["detail"], row["detail"])
        if not every_place:
            same &= _same(s["column"], row["column"]) & _same(s["value"], row["value"])
        return s[same].reset_index(drop=True)

    def plot(self, change: int = 0, *, ax: Axes | None = None) -> Figure:
        """The series of change ``change`` (a row of :attr:`table`) with the change marked:
        see :func:`journey_lib.plots.change_series`, which draws it."""
        # plots imports monitor, so monitor reaches plots only when a figure is drawn.
        from .. import plots

        return plots.change_series(self, change, ax=ax)


def changes(
    events: IntoFrame,
    profile: LogProfile | None = None,
    *,
    period: str = "week",
    metrics: Sequence[str] | None = None,
    by: str | Sequence[str] | Segments | None = None,
    by_rule: str = "first",
    top: int | None = 6,
    steps: Sequence[str] | None = None,
    window: Any = "14D",
    inactivity: Any = None,
    alpha: float = 0.05,
    min_size: float = 0.1,
    min_count: float = 10,
    max_per_series: int = 3,
    trend: str | pd.Timedelta = "8W",
) -> Changes:
    """Find what changed in a touchpoint log, where and since when.

    Every series of :func:`journey_lib.monitor_series` (active and new customers, each
    event's volume, each funnel step's conversion, churn rate, first-period retention,
    revenue per customer; for the whole log and each segment value of ``by``) is fitted a
    baseline that follows its trend and weekdays, and every window of consecutive periods is
    scored against it. The definitions are in :mod:`journey_lib.monitor.series`,
    :mod:`~journey_lib.monitor.baseline`, :mod:`~journey_lib.monitor.scan` and
    :mod:`~journey_lib.monitor.detect`.

    Parameters
    ----------
    events : DataFrame
        A touchpoint log of any engine; only per-period tables leave the engine.
    profile, period, metrics, by, by_rule, top, steps, window, inactivity
        As for :func:`journey_lib.monitor_series`.
    alpha : float, default 0.05
        The false-alarm budget: on a log where nothing changed, the chance of reporting
        any change at all is at most ``alpha`` (see :mod:`journey_lib.monitor.scan`).
    min_size : float, default 0.1
        Smallest change reported, relative to the baseline (0.1: ten percent).
    min_count : float, default 10
        Fewest events (for counts, observed or expected in the window) or customers (for
        rates and money) a change may rest on.
    max_per_series : int, default 3
        Changes kept per series, the highest-scoring windows that do not overlap.
    trend : str or pandas.Timedelta, default "8W"
        How far apart the baseline's trend may bend: one knot per ``trend`` of data, so
        growth and drift over that span are followed rather than reported. A change much
        shorter than ``trend`` is found; one about as long or longer partly reads as
        trend, at any volume (a fall to 60% of 100 events a week lasting 12 weeks in the
        middle of a year is found in 3 logs of 10 at "8W", 9 at "26W"; to 80% of 1,000 a
        week, 3 and 10; README, "What changed"). A slower trend ("26W") suits a
        steady business with a year of data or more and finds changes of a quarter; a
        business that grows in spurts needs the default or faster (at least "2W"). A
        series shorter than two spans gets a constant level.

    Returns
    -------
    Changes
        ``.table`` (one row per change), ``.series`` (every series with its baseline),
        ``.breakdown(i)`` (where a change happened).

    Examples
    --------
    Purchases halve for three weeks from the 13th week of a weekly log:

    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> days = pd.date_range("2024-01-01", periods=30 * 7, freq="D", tz="UTC")
    >>> per_day = np.where((np.arange(30 * 7) >= 12 * 7) & (np.arange(30 * 7) < 15 * 7), 20, 40)
    >>> stamps = np.repeat(days, rng.poisson(per_day)) + pd.Timedelta(hours=12)
    >>> log = pd.DataFrame({"customer_id": np.arange(len(stamps)), "timestamp": stamps,
    ...                     "event": "purchase"})
    >>> found = changes(log, metrics=["events"])
    >>> found.table[["detail", "start", "end", "ongoing"]]
         detail                     start                       end  ongoing
    0  purchase 2024-03-25 00:00:00+00:00 2024-04-08 00:00:00+00:00    False
    >>> found.table[["before", "during", "relative"]].round(2)  # purchases a week
       before  during  relative
    0  291.75  150.33     -0.48
    """
    check_choice("period", period, MONITOR_PERIODS)
    _spacing(trend, period)  # a bad span fails before the series are built
    series = monitor_series(
        events,
        profile,
        period=period,
        metrics=metrics,
        by=by,
        by_rule=by_rule,
        top=top,
        steps=steps,
        window=window,
        inactivity=inactivity,
    )
    return find_changes(
        series,
        period=period,
        alpha=alpha,
        min_size=min_size,
        min_count=min_count,
        max_per_series=max_per_series,
        trend=trend,
    )


def find_changes(
    series: pd.DataFrame,
    *,
    period: str = "week",
    alpha: float = 0.05,
    min_size: float = 0.1,
    min_count: float = 10,
    max_per_series: int = 3,
    trend: str | pd.Timedelta = "8W",
) -> Changes:
    """Scan series already built (by :func:`journey_lib.monitor_series`, or by hand with
    its columns) for changes; the scan of :func:`changes`.

    Every series must have a row for every period of one grid, as
    :func:`~journey_lib.monitor_series` gives them. ``alpha``, ``min_size``,
    ``min_count``, ``max_per_series`` and ``trend`` are as for :func:`changes`.

    Examples
    --------
    A conversion that falls from 60% to 30% for three weeks, on 400 customers a week:

    >>> import numpy as np, pandas as pd
    >>> weeks = pd.date_range("2024-01-01", periods=30, freq="7D", tz="UTC")
    >>> rate = np.where((np.arange(30) >= 12) & (np.arange(30) < 15), 0.3, 0.6)
    >>> series = pd.DataFrame({"metric": "conversion", "detail": "cart → purchase",
    ...     "column": None, "value": None, "period": weeks, "count": 400 * rate,
    ...     "base": 400.0, "used": True})
    >>> t = find_changes(series).table
    >>> t[["start", "end", "ongoing", "before", "during"]]
                          start                       end  ongoing  before  during
    0 2024-03-25 00:00:00+00:00 2024-04-08 00:00:00+00:00    False     0.6     0.3
    """
    check_choice("period", period, MONITOR_PERIODS)
    _check_scan(alpha, min_size, min_count, max_per_series)
    spacing = _spacing(trend, period)
    missing = [c for c in SERIES_COLUMNS if c not in series]
    if missing:
        raise JourneyDataError(
            f"series lack column(s) {missing}; they need {list(SERIES_COLUMNS)} "
            "(journey_lib.monitor_series makes them)"
        )
    unknown = sorted(set(series["metric"]) - set(FAMILY))
    if unknown:
        raise JourneyDataError(f"series name unknown metric(s) {unknown}; known: {list(FAMILY)}")
    rows = series.sort_values([*_KEYS, "period"], na_position="first").reset_index(drop=True)
    periods = np.sort(rows["period"].unique())
    meta = rows.drop_duplicates(_KEYS)[_KEYS].reset_index(drop=True)
    t = len(periods)
    if (
        len(rows) != len(meta) * t
        or not (rows["period"].to_numpy().reshape(-1, t) == periods[None, :]).all()
    ):
        raise JourneyDataError(
            "every series needs one row for each period of the same grid "
            f"({len(meta)} series, {t} periods, {len(rows)} rows)"
        )
    count = rows["count"].to_numpy(dtype="float64").reshape(-1, t)
    base = np.nan_to_num(rows["base"].to_numpy(dtype="float64")).reshape(-1, t)
    used = rows["used"].to_numpy(dtype=bool).reshape(-1, t)
    days = (pd.DatetimeIndex(periods).as_unit("us").asi8 // 86_400_000_000).astype("int64")
    x = design(days, period, spacing=spacing)
    family = meta["metric"].map(FAMILY).to_numpy()
    scanned = used & ((base > 0) | (family == "count")[:, None])
    live = np.where((family == "count")[:, None], count, base)
    scanned &= (np.where(scanned, live, 0.0).sum(axis=1) > 0)[:, None]
    ranges = _ranges(scanned)
    tests = sum(len(windows(int(lo), int(hi), period)[0]) for lo, hi in ranges if lo <= hi)
    z_star = threshold(alpha, tests)

    expected = np.full_like(count, np.nan)
    phi, best = np.ones(len(meta)), np.zeros(len(meta))
    picked = []
    for fam in ("count", "rate", "money"):
        rows_f = np.flatnonzero(family == fam)
        if not len(rows_f):
            continue
        level, phi[rows_f], best[rows_f], picks = _scan_family(
            count[rows_f],
            base[rows_f],
            scanned[rows_f],
            x,
            days,
            fam,
            period,
            ranges[rows_f],
            Limits(z_star, min_size, min_count),
            max_per_series,
            spacing,
        )
        expected[rows_f] = np.where(scanned[rows_f], level, np.nan)
        picked.append(picks.assign(row=rows_f[picks["row"].to_numpy()]))
    chosen = pd.concat(picked, ignore_index=True) if picked else pd.DataFrame()
    table = _describe(
        chosen, meta, periods, count, base, scanned, ranges, phi, tests, period, min_size
    )
    out = rows.assign(expected=expected.reshape(-1), phi=np.repeat(phi, t), best=np.repeat(best, t))
    return Changes(
        table=table,
        series=out,
        period=period,
        alpha=alpha,
        min_size=min_size,
        min_count=min_count,
        tests=tests,
        threshold=z_star,
        trend=spacing * _step(period),
    )


def _check_scan(alpha: float, min_size: float, min_count: float, max_per_series: int) -> None:
    if not (isinstance(alpha, float | int) and 0 < alpha < 1):
        raise JourneyParameterError(f"alpha must be a probability in (0, 1); got {alpha!r}")
    if not (isinstance(min_size, float | int) and min_size >= 0):
        raise JourneyParameterError(f"min_size must be a share >= 0 (0.1 is 10%); got {min_size!r}")
    if not (isinstance(min_count, float | int) and min_count >= 0):
        raise JourneyParameterError(f"min_count must be a number >= 0; got {min_count!r}")
    if (
        isinstance(max_per_series, bool)
        or not isinstance(max_per_series, int)
        or max_per_series < 1
    ):
        raise JourneyParameterError(
            f"max_per_series must be a whole number >= 1; got {max_per_series!r}"
        )


def _spacing(trend: str | pd.Timedelta, period: str) -> int:
    """Periods of data per trend parameter: ``trend`` (a span pandas reads, such as "8W"
    or "182D") in whole periods.

    Examples
    --------
    >>> _spacing("8W", "week"), _spacing("8W", "day"), _spacing("26W", "week")
    (8, 56, 26)
    """
    try:
        span = pd.Timedelta(trend)
    except (TypeError, ValueError):
        span = pd.NaT
    if pd.isna(span) or span < pd.Timedelta(weeks=2):
        raise JourneyParameterError(
            "trend must be a span of two weeks or more, such as '8W' or '182D' (how far "
            f"apart the baseline may bend); got {trend!r}"
        )
    return max(2, round(span / _step(period)))


def _ranges(scanned: np.ndarray) -> np.ndarray:
    """First and last scanned period of each series (``lo > hi`` when none)."""
    t = scanned.shape[1]
    any_ = scanned.any(axis=1)
    lo = np.where(any_, scanned.argmax(axis=1), t)
    hi = np.where(any_, t - 1 - scanned[:, ::-1].argmax(axis=1), -1)
    return np.column_stack([lo, hi])


def _scan_family(
    count: np.ndarray,
    base: np.ndarray,
    scanned: np.ndarray,
    x: np.ndarray,
    days: np.ndarray,
    family: str,
    period: str,
    ranges: np.ndarray,
    limits: Limits,
    most: int,
    spacing: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, pd.DataFrame]:
    """Fit and scan the series of one family (``x`` has a trend parameter per ``spacing``
    periods): their baseline levels, dispersions, best scores and picked windows (``row``
    counts within these series).

    Windows starting in the last quarter are scored against a forecast
    (:mod:`journey_lib.monitor.recent`), the others against the whole series' baseline. Two
    passes: the series that changed are fitted again without their changes' periods, and
    scanned again, so an incident neither bends its own baseline nor counts as noise."""
    recent_from = np.array(
        [first_recent(int(lo), int(hi), period, spacing=spacing) for lo, hi in ranges]
    )

    def both(rows: np.ndarray, fit_on: np.ndarray) -> tuple[Any, Found]:
        fit = fit_baseline(
            count[rows],
            base[rows],
            scanned[rows],
            x,
            family,
            period,
            fit_on=fit_on,
            late=RECENT[period],
            spacing=spacing,
        )
        older = scan(
            count[rows],
            base[rows],
            scanned[rows],
            x,
            fit,
            family,
            period,
            ranges[rows],
            limits,
            recent_from=recent_from[rows],
        )
        latest = scan_recent(
            count[rows],
            base[rows],
            scanned[rows],
            fit_on,
            days,
            family,
            period,
            ranges[rows],
            limits,
            spacing=spacing,
        )
        return fit, _joined(older, latest)

    every = np.arange(len(count))
    fit, found = both(every, scanned)
    picks = _pick(found, every, most)
    mean, phi, best = fit.mean, fit.phi.copy(), found.best.copy()
    again = np.unique(picks["row"].to_numpy())
    if len(again):
        fit_on = scanned[again] & ~_covered(picks, (len(count), count.shape[1]))[again]
        refit, second = both(again, fit_on)
        mean = mean.copy()
        mean[again], phi[again], best[again] = refit.mean, refit.phi, second.best
        repicked = _pick(second, again, most)
        picks = pd.concat([picks[~picks["row"].isin(again)], repicked], ignore_index=True)
        picks = refined(
            picks,
            count,
            base,
            scanned,
            mean,
            refit,
            again,
            family,
            ranges,
            recent_from,
            limits,
            period,
        )
        fit_on_all = scanned.copy()
        fit_on_all[again] = fit_on
    else:
        fit_on_all = scanned
    # A recent change was judged against a forecast: that is its series' baseline there.
    # The changes forecast from the same cut (and span) are fitted together.
    recent = picks[picks["start"].to_numpy() >= recent_from[picks["row"].to_numpy()]]
    if len(recent):
        mean = mean.copy()
        rows = recent["row"].to_numpy()
        lo, hi = ranges[rows, 0], ranges[rows, 1]
        cuts = [
            cut_for(int(s), int(a), int(b), period, spacing=spacing)
            for s, a, b in zip(recent["start"], lo, hi, strict=True)
        ]
        groups = pd.DataFrame({"row": rows, "lo": lo, "hi": hi, "cut": cuts})
        for (a, b, cut), group in groups.groupby(["lo", "hi", "cut"]):
            these = np.unique(group["row"].to_numpy())
            _, ahead = forecast(
                count[these],
                base[these],
                scanned[these],
                fit_on_all[these],
                days,
                family,
                period,
                int(a),
                int(cut),
                spacing=spacing,
            )
            mean[these, cut : b + 1] = ahead.mean[:, cut : b + 1]
    level = mean if family == "count" else mean / np.where(base > 0, base, np.nan)
    return level, phi, best, picks


def _joined(a: Found, b: Found) -> Found:
    """The windows of both, and each series' best score of either."""
    fields = ("series", "start", "end", "score", "strength", "observed", "expected", "base")
    return Found(
        *(np.concatenate([getattr(a, f), getattr(b, f)]) for f in fields),
        best=np.maximum(a.best, b.best),
    )


def _covered(picks: pd.DataFrame, shape: tuple[int, int]) -> np.ndarray:
    """``S x T``: which periods of which series lie inside a picked window."""
    inside = np.zeros(shape, bool)
    if len(picks):
        t = np.arange(shape[1])
        rows = picks["row"].to_numpy()
        hit = (t >= picks["start"].to_numpy()[:, None]) & (t <= picks["end"].to_numpy()[:, None])
        np.logical_or.at(inside, rows, hit)
    return inside


def _pick(found: Found, rows: np.ndarray, most: int) -> pd.DataFrame:
    """In each series, the strongest window, then the strongest not overlapping it, ...
    (``most``; see :mod:`journey_lib.monitor.scan`)."""
    order = np.lexsort((-found.strength, found.series))
    chosen = []
    series = found.series[order]
    for block in np.split(order, np.flatnonzero(np.diff(series)) + 1):
        if not len(block):
            continue
        start, end = found.start[block], found.end[block]
        free = np.ones(len(block), bool)
        for _ in range(most):
            if not free.any():
                break
            first = np.argmax(free)  # the block is sorted by strength: the first free wins
            chosen.append(block[first])
            free &= (start > end[first]) | (end < start[first])
    chosen = np.asarray(chosen, dtype="int64")
    return pd.DataFrame(
        {
            "row": found.series[chosen],
            "start": found.start[chosen],
            "end": found.end[chosen],
            "score": found.score[chosen],
            "observed": found.observed[chosen],
            "expected": found.expected[chosen],
            "base": found.base[chosen],
        }
    ).assign(row=lambda f: rows[f["row"].to_numpy()] if len(f) else f["row"])


def _describe(
    chosen: pd.DataFrame,
    meta: pd.DataFrame,
    periods: np.ndarray,
    count: np.ndarray,
    base: np.ndarray,
    scanned: np.ndarray,
    ranges: np.ndarray,
    phi: np.ndarray,
    tests: int,
    period: str,
    min_size: float,
) -> pd.DataFrame:
    """The table of changes: places, windows, levels before and during, size and score;
    only those whose levels before and during show the move, by ``min_size`` or more.

    The levels rest on the ``scanned`` periods alone: a period unused inside a series'
    range (a churn period the log could not close, a caller's missing week) adds neither
    its count nor its base, and counts' levels are per used period."""
    if chosen.empty:
        empty = pd.DataFrame({c: pd.Series(dtype="object") for c in CHANGE_COLUMNS})
        return empty
    count, base = np.where(scanned, count, 0.0), np.where(scanned, base, 0.0)

    def shown(table: pd.DataFrame) -> pd.Series:
        # A reader compares during with before: a window beyond its baseline whose levels
        # do not show the move (a forecast that expected growth the periods before never
        # had) would read "fell from 55 to 55". It is not reported.
        return (np.sign(table["change"]) == np.sign(table["score"])) & (
            (table["before"] == 0) | (table["relative"].abs() >= min_size)
        )

    data = (meta, periods, count, base, scanned, ranges, phi, tests, period)
    table = _tabled(chosen, chosen, *data)
    shows = shown(table).to_numpy()
    while not shows.all():  # the levels before then leave out only the changes reported
        table = _tabled(chosen, chosen[shows], *data)
        again = shows & shown(table).to_numpy()
        if (again == shows).all():
            break
        shows = again
    table = table[shows].sort_values("score", key=np.abs, ascending=False, kind="stable")
    table = table.reset_index(drop=True)
    table["part_of"] = _part_of(table)
    return table.loc[:, list(CHANGE_COLUMNS)]


def _tabled(
    chosen: pd.DataFrame,
    skip: pd.DataFrame,
    meta: pd.DataFrame,
    periods: np.ndarray,
    count: np.ndarray,
    base: np.ndarray,
    scanned: np.ndarray,
    ranges: np.ndarray,
    phi: np.ndarray,
    tests: int,
    period: str,
) -> pd.DataFrame:
    """Every chosen window's row of the table (``count`` and ``base`` zero where not
    ``scanned``), its level before leaving out the periods of the windows in ``skip``."""
    r = chosen["row"].to_numpy()
    s, e = chosen["start"].to_numpy(), chosen["end"].to_numpy()
    family = meta["metric"].map(FAMILY).to_numpy()[r]
    length = e - s + 1
    lo = ranges[r, 0]
    reach = np.maximum(length, MIN_BEFORE[period])
    if period == "day":
        reach = -(-reach // 7) * 7  # whole weeks, so weekdays weigh alike before and during
    # The level before leaves out the periods of the series' other changes (a month at
    # twice the level just before is not what this change moved from): it reaches back
    # over as many periods as it would span without them.
    clean = scanned & ~_covered(skip, count.shape)
    zero = np.zeros((len(count), 1))

    def running(values: np.ndarray) -> np.ndarray:
        return np.concatenate([zero, np.cumsum(values, axis=1)], axis=1)

    running_u, running_k = running(scanned), running(clean)
    # As many clean periods as the window holds used ones without the other changes; a
    # window with none (a gap just before the change) reaches past it for MIN_BEFORE.
    reach = running_u[r, s] - running_u[r, np.maximum(lo, s - reach)]
    reach = np.where(reach > 0, reach, MIN_BEFORE[period])
    b0 = np.array(
        [  # the latest first period leaving that many clean periods before s (few changes)
            max(int(a), int(np.searchsorted(running_k[i], running_k[i, j] - k, side="right")) - 1)
            for i, j, k, a in zip(r, s, reach, lo, strict=True)
        ],
        dtype="int64",
    )
    used_d = running_u[r, e + 1] - running_u[r, s]
    sums = [running(np.where(clean, v, 0.0)) for v in (count, base, clean)]
    y_b, n_b, used_b = (t[r, s] - t[r, b0] for t in sums)
    kept_b = clean[r]
    # The scan's window totals, over the same used periods.
    y_d, n_d = chosen["observed"].to_numpy(), chosen["base"].to_numpy()
    f = phi[r]
    before, before_low, before_high = _level(family, y_b, n_b, used_b, f)
    if period == "day":
        # A window of part of a week is compared with the same weekdays before it.
        matched = _weekday_matched(count[r], base[r], scanned[r], kept_b, family, b0, s, e, periods)
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.where(before > 0, matched / before, 1.0)
        before, before_low, before_high = matched, before_low * factor, before_high * factor
    during, during_low, during_high = _level(family, y_d, n_d, used_d, f)
    m = chosen["expected"].to_numpy()
    expected = np.where(family == "count", m / used_d, m / np.where(n_d > 0, n_d, np.nan))
    z = chosen["score"].to_numpy()
    stamps = pd.DatetimeIndex(periods)
    ongoing = e == ranges[r, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(before > 0, during / before - 1.0, np.nan)
    return pd.DataFrame(
        {
            **{k: meta[k].to_numpy()[r] for k in _KEYS},
            "kind": np.where(length == 1, "spike", "shift"),
            "start": stamps[s],
            "end": stamps[e].where(~ongoing),
            "ongoing": ongoing,
            "periods": length,
            "behind": np.where(family == "count", y_d, n_d),
            "before_from": stamps[b0],
            "before": before,
            "before_low": before_low,
            "before_high": before_high,
            "during": during,
            "during_low": during_low,
            "during_high": during_high,
            "expected": expected,
            "change": during - before,
            "relative": relative,
            "score": z,
            "p_value": np.minimum(1.0, 2.0 * tests * stats.norm.sf(np.abs(z))),
        }
    )


def _weekday_matched(
    count: np.ndarray,
    base: np.ndarray,
    used: np.ndarray,
    kept: np.ndarray,
    family: np.ndarray,
    b0: np.ndarray,
    s: np.ndarray,
    e: np.ndarray,
    periods: np.ndarray,
) -> np.ndarray:
    """Each change's level before, on the weekdays of its window: the before days' level of
    each weekday, weighted by the window's share of that weekday (by used days for counts,
    by customers for rates and money). A Sunday spike is so compared with the Sundays
    before. ``count`` and ``base`` are zero on the days not ``used``; the days before
    count only where ``kept``."""
    weekday = pd.DatetimeIndex(periods).day_of_week.to_numpy()
    levels = np.empty(len(s))
    for k in range(len(s)):  # a loop over the changes found, a handful
        before = np.arange(b0[k], s[k])
        during = np.arange(s[k], e[k] + 1)
        counts = family[k] == "count"
        per = used[k].astype("float64") if counts else base[k]
        weights = np.bincount(weekday[during], weights=per[during], minlength=7)
        mine = kept[k, before]
        total_b = np.bincount(weekday[before], weights=count[k, before] * mine, minlength=7)
        per_b = np.bincount(weekday[before], weights=per[before] * mine, minlength=7)
        with np.errstate(divide="ignore", invalid="ignore"):
            level_b = np.where(per_b > 0, total_b / per_b, np.nan)
        seen = (weights > 0) & np.isfinite(level_b)
        levels[k] = (
            np.sum(weights[seen] * level_b[seen]) / weights[seen].sum() if seen.any() else np.nan
        )
    return levels


def _level(
    family: np.ndarray, y: np.ndarray, n: np.ndarray, periods: np.ndarray, phi: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Level and 95% interval of a window's totals over its ``periods`` used periods
    (counts' level is per used period): Garwood (counts) or Wilson (rates) on the counts
    divided by the dispersion, a normal one for money."""
    with np.errstate(divide="ignore", invalid="ignore"):
        # Counts: per period, from a Poisson total y / phi scaled back.
        k = y / phi
        low_c = np.where(k > 0, stats.chi2.ppf(0.025, 2 * k) / 2, 0.0) * phi / periods
        high_c = stats.chi2.ppf(0.975, 2 * k + 2) / 2 * phi / periods
        # Rates: Wilson with n / phi customers.
        m = n / phi
        p = np.where(n > 0, y / n, np.nan)
        centre = (p + _Z95**2 / (2 * m)) / (1 + _Z95**2 / m)
        half = _Z95 * np.sqrt(p * (1 - p) / m + _Z95**2 / (4 * m**2)) / (1 + _Z95**2 / m)
        # Money per customer: quasi-Poisson on the amount.
        money_half = _Z95 * np.sqrt(phi * np.maximum(y, 0.0)) / n
    level = np.where(family == "count", y / periods, p)
    low = np.select(
        [family == "count", family == "rate"], [low_c, centre - half], level - money_half
    )
    high = np.select(
        [family == "count", family == "rate"], [high_c, centre + half], level + money_half
    )
    return level, low, high


def _part_of(table: pd.DataFrame) -> pd.Series:
    """For each segment's change, the whole log's change it belongs to (same metric and
    detail, overlapping windows)."""
    whole = table[table["column"].isna()]
    last = table["start"].max() + pd.Timedelta(days=3650)
    ends = table["end"].fillna(last)
    parent = pd.Series(pd.NA, index=table.index, dtype="Int64")
    for i in table.index[table["column"].notna()]:
        same = (whole["metric"] == table.at[i, "metric"]) & _same(
            whole["detail"], table.at[i, "detail"]
        )
        overlap = (whole["start"] <= ends[i]) & (ends[whole.index] >= table.at[i, "start"])
        hits = whole.index[same & overlap]
        if len(hits):
            parent[i] = int(hits[0])
    return parent


def _same(column: pd.Series, value: Any) -> pd.Series:
    return column.isna() if pd.isna(value) else column == value


def _step(period: str) -> pd.Timedelta:
    return pd.Timedelta(days=1 if period == "day" else 7)
