"""Where a change lies, to the period.

The scan (:mod:`journey_lib.monitor.scan`) tests windows on a grid of lengths, which says
whether something changed but not where a long change ends (an 8-week fall is tested as 7
or 10 weeks); and its pick (:func:`journey_lib.monitor.detect.find_changes`) can take one
change as two neighbouring windows, the strongest and a piece beside it. So each window
that passed is moved (:func:`refine`) to the nearby window with the largest likelihood ratio
(over ``phi``), its start within two periods and its length anywhere between the grid's
neighbours of its own, as long as that window passes too; two neighbouring windows of one
sign are first tried together (:func:`refined`). This estimates the change's span; it is
not another test, so the false-alarm budget is unchanged. Windows judged against a forecast
(:mod:`journey_lib.monitor.recent`) and windows that run to the end stay as found.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .baseline import Baseline
from .scan import LENGTHS, MIN_BEFORE, Limits, likelihood_root, supported, tail_score

__all__ = ["refine", "refined"]


def refine(
    count: np.ndarray,
    base: np.ndarray,
    mean: np.ndarray,
    used: np.ndarray,
    dispersion: np.ndarray,
    family: str,
    start: int,
    end: int,
    bounds: tuple[int, int, int],
    limits: Limits,
) -> tuple[int, int, float, float, float, float] | None:
    """The window near ``start..end`` (one series' window, or two neighbouring ones of one
    sign taken together) where its change lies (see the module docstring): the start, end,
    score, observed, expected and base totals of the strongest window that passes, which may
    be ``start..end`` itself; None when none passes.

    ``count``, ``base`` and ``mean`` are the series' values, base and baseline (0 where
    unused); ``used`` its used periods: a window starts and ends on one, so that it does not
    reach over a gap it would gain nothing from; ``dispersion`` its dispersion at every
    length from 1 to ``len(count)``; ``bounds`` the first and last start and the last end a
    window may take (the series' range less its other changes, and starts before its recent
    quarter, which is judged against forecasts). The candidates are not held to the scan's
    least variance left after the trend (``_LEAST_LEFT``): they lie within two periods and
    a grid step of a window that was.

    Examples
    --------
    Eight weeks at 60 in a series at 100, tested on the grid as ten weeks:

    >>> y = np.where((np.arange(40) >= 20) & (np.arange(40) < 28), 60.0, 100.0)
    >>> m, phi = np.full(40, 100.0), np.ones(40)
    >>> used = np.ones(40, bool)
    >>> limits = Limits(3.0, 0.1, 10)
    >>> s, e, z, *totals = refine(y, m, m, used, phi, "count", 20, 29, (4, 26, 39), limits)
    >>> s, e, round(z, 1), totals
    (20, 27, -12.2, [480.0, 800.0, 800.0])
    """
    length = end - start + 1
    grid = np.asarray(LENGTHS)
    shorter, longer = grid[grid < length], grid[grid > length]
    lengths = np.arange(
        shorter.max() + 1 if len(shorter) else 1, longer.min() if len(longer) else length + 1
    )
    starts = np.arange(max(start - 2, bounds[0]), min(start + 2, bounds[1]) + 1)
    s = np.repeat(starts, len(lengths))
    e = s + np.tile(lengths, len(starts)) - 1
    fits = (e <= bounds[2]) & (s >= 0)
    s, e = s[fits], e[fits]
    ends_used = used[s] & used[e]
    s, e = s[ends_used], e[ends_used]

    def sums(values: np.ndarray) -> np.ndarray:
        running = np.concatenate([[0.0], np.cumsum(values)])
        return running[e + 1] - running[s]

    y, m, n = sums(count), sums(mean), sums(base)
    phi = dispersion[e - s]
    strength = np.abs(likelihood_root(family, y, m, n)) / np.sqrt(phi)
    z = tail_score(family, y, np.where(m > 0, m, 1.0), n, phi)
    with np.errstate(divide="ignore", invalid="ignore"):
        moved = np.abs(y / m - 1.0) >= limits.min_size
    passes = (m > 0) & (np.abs(z) >= limits.z_star) & moved
    passes &= supported(family, y, m, n, limits.min_count)
    if not passes.any():
        return None
    score = np.where(passes, strength, -np.inf)
    # Windows as strong as the strongest to rounding (the same totals reached two ways, when
    # a period entering a window equals the one leaving it) go to the earliest and shortest,
    # not to whichever the running sums' last bits favour.
    best = int(np.flatnonzero(score >= score.max() - 1e-9)[0])
    return (
        int(s[best]),
        int(e[best]),
        float(z[best]),
        float(y[best]),
        float(m[best]),
        float(n[best]),
    )


def refined(
    picks: pd.DataFrame,
    count: np.ndarray,
    base: np.ndarray,
    scanned: np.ndarray,
    mean: np.ndarray,
    refit: Baseline,
    again: np.ndarray,
    family: str,
    ranges: np.ndarray,
    recent_from: np.ndarray,
    limits: Limits,
    period: str,
) -> pd.DataFrame:
    """The picked windows judged against their series' baseline (not a forecast, not
    running to the end) moved to where their changes lie (:func:`refine`), clear of the
    series' other changes: first two neighbouring windows of one sign are taken together
    where that passes (one change the pick split in two), then each window is moved. Every
    picked series is in ``again``, fitted ``refit``."""
    lengths = np.arange(1, count.shape[1] + 1)
    out = []
    for row, group in picks.sort_values(["row", "start"]).groupby("row", sort=True):
        row = int(row)  # a few changes per changed series: these loops are short
        series = _Series(
            y=np.where(scanned[row], count[row], 0.0),
            n=np.where(scanned[row], base[row], 0.0),
            mean=mean[row],
            used=scanned[row],
            phi=refit.dispersion(lengths, np.array([int(np.searchsorted(again, row))]))[0],
            lo=int(ranges[row, 0]) + MIN_BEFORE[period],
            hi=int(ranges[row, 1]),
            recent=int(recent_from[row]),
        )
        windows = group.to_dict("records")
        joined: list[dict[str, Any]] = []
        for k, w in enumerate(windows):
            prev = joined[-1] if joined else None
            if (
                prev is not None
                and w["start"] == prev["end"] + 1
                and np.sign(w["score"]) == np.sign(prev["score"])
                and series.inside(prev)
                and series.inside(w)
            ):
                before = joined[-2]["end"] if len(joined) > 1 else -1
                after = windows[k + 1]["start"] if k + 1 < len(windows) else series.hi + 1
                union = series.moved(prev["start"], w["end"], before, after, family, limits)
                if union is not None:
                    joined[-1] = {**prev, **union}
                    continue
            joined.append(dict(w))
        for k, w in enumerate(joined):
            if series.inside(w):
                before = joined[k - 1]["end"] if k else -1
                after = joined[k + 1]["start"] if k + 1 < len(joined) else series.hi + 1
                better = series.moved(w["start"], w["end"], before, after, family, limits)
                joined[k] = w if better is None else {**w, **better}
        out.extend(joined)
    return pd.DataFrame(out, columns=picks.columns) if out else picks


@dataclass(frozen=True)
class _Series:
    """One changed series as :func:`refined` moves its windows: values, base, baseline,
    used periods and dispersion by length (1, 2, ...); ``lo`` the first start a change may
    take, ``hi`` the last used period, ``recent`` the first start judged by forecast."""

    y: np.ndarray
    n: np.ndarray
    mean: np.ndarray
    used: np.ndarray
    phi: np.ndarray
    lo: int
    hi: int
    recent: int

    def inside(self, window: dict[str, Any]) -> bool:
        """Whether a window was judged against the series' baseline and ends before its
        last period."""
        return bool(window["start"] < self.recent and window["end"] < self.hi)

    def moved(
        self, start: int, end: int, before: int, after: int, family: str, limits: Limits
    ) -> dict[str, Any] | None:
        """:func:`refine` of ``start..end`` between the end of
        the change ``before`` it and the start of the one ``after`` it."""
        bounds = (max(self.lo, int(before) + 1), self.recent - 1, min(self.hi, int(after) - 1))
        found = refine(
            self.y,
            self.n,
            self.mean,
            self.used,
            self.phi,
            family,
            int(start),
            int(end),
            bounds,
            limits,
        )
        keys = ("start", "end", "score", "observed", "expected", "base")
        return None if found is None else dict(zip(keys, found, strict=True))
