"""Recent changes, judged against a forecast.

A baseline fitted on the whole series (:mod:`journey_lib.monitor.baseline`) can tilt its last
trend piece toward a change in the latest weeks, and then hide the one change a scheduled
report most needs to show. So a window that starts within :data:`RECENT` of the series' last
used period (the last quarter), with two trend spacings of data or more before it, is judged
the way a monitoring tool judges the present: against the baseline **fitted only on the
periods before the window** and run forward: its trend straight on at its last slope (growth
that simply goes on is not a change), its weekdays as they were.

The forecast is uncertain, the more so the further it runs; its variance (the delta method:
``g' (X'WVX + P)^-1 g`` times the dispersion, ``g`` the window's sum of ``V x_t``, ``W`` the
periods the final robust fit weighed and ``P`` the smoothing penalty: the penalised fit's
Bayesian covariance, :func:`forecast_variance`) is added to the window's own, widening the
law the score is taken from
(:func:`journey_lib.monitor.scan.tail_score`). Daily series refit every fourteenth day: a
window uses the fit made on the periods before the first day of its two-week block (before
its start, never after; the forecast's variance grows with the distance). The windows are the scan's
(:func:`journey_lib.monitor.scan.windows`), so the false-alarm budget is unchanged: these are
scored here instead of there.
"""

from __future__ import annotations

import numpy as np

from .baseline import Baseline, design, fit_baseline, knot_spacing
from .scan import Found, Limits, likelihood_root, supported, tail_score, windows

__all__ = ["RECENT", "cut_for", "first_recent", "forecast", "forecast_variance", "scan_recent"]

#: How far back an ongoing window may start and be judged against a forecast: a quarter.
RECENT: dict[str, int] = {"day": 91, "week": 13}
_REFIT = {"day": 14, "week": 1}  # periods between forecasts


def first_recent(lo: int, hi: int, period: str, *, spacing: int | None = None) -> int:
    """The first start of a window judged against a forecast, in used periods ``lo..hi``:
    within :data:`RECENT` of the end, and with two trend spacings (``spacing`` periods,
    :data:`~journey_lib.monitor.baseline.KNOT_SPACING` by default) of data before it, so
    the forecast carries a trend rather than a flat level."""
    return max(lo + 2 * knot_spacing(period, spacing), hi - RECENT[period] + 1)


def cut_for(start: int, lo: int, hi: int, period: str, *, spacing: int | None = None) -> int:
    """The period a recent window starting at ``start`` is forecast from: the first of its
    block (every period for weekly series, every fourteenth day for daily ones).

    Examples
    --------
    >>> first_recent(0, 200, "day"), cut_for(130, 0, 200, "day"), cut_for(190, 0, 200, "week")
    (112, 126, 190)
    """
    first = first_recent(lo, hi, period, spacing=spacing)
    return first + (start - first) // _REFIT[period] * _REFIT[period]


def forecast(
    count: np.ndarray,
    base: np.ndarray,
    scanned: np.ndarray,
    fit_on: np.ndarray,
    days: np.ndarray,
    family: str,
    period: str,
    lo: int,
    cut: int,
    *,
    spacing: int | None = None,
) -> tuple[np.ndarray, Baseline]:
    """The design (a trend parameter per ``spacing`` periods) and the baseline fitted on the
    ``fit_on`` periods before ``cut`` (from ``lo``), run on past it: the forecast a window
    starting at ``cut`` is judged against."""
    x = design(days, period, span=(lo, cut - 1), spacing=spacing)
    before = fit_on & (np.arange(count.shape[1]) < cut)
    fit = fit_baseline(count, base, scanned, x, family, period, fit_on=before, spacing=spacing)
    return x, fit


def forecast_variance(
    fit: Baseline, x: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> np.ndarray:
    """The variance of each forecast window total ``fit.mean[s:e+1].sum()`` (rows of ``fit``
    by windows ``starts``, ``ends``), before dispersion, by the delta method: ``g' C g``,
    ``g`` the window's sum of ``V x_t`` (the total's gradient in the coefficients, for the
    log and logit links alike) and ``C`` the fit's penalised covariance
    (:attr:`journey_lib.monitor.baseline.Baseline.covariance`).

    Examples
    --------
    A weekly series of 10, forecast from its first ten weeks (a level, too short for a
    trend): the level's variance is 10 / 10 events a week (Poisson), two weeks' total's
    four times that.

    >>> days = 19_723 + 7 * np.arange(30)
    >>> y = np.full((1, 30), 10.0)
    >>> x = design(days, "week", span=(0, 9))
    >>> fit = fit_baseline(y, y, y > 0, x, "count", "week", fit_on=days[None, :] < days[10])
    >>> np.round(forecast_variance(fit, x, np.array([10, 20]), np.array([10, 21])), 3).tolist()
    [[1.0, 4.0]]
    """
    running = np.concatenate(
        [np.zeros((len(fit.mean), 1, x.shape[1])), np.cumsum(fit.variance[:, :, None] * x, 1)],
        axis=1,
    )
    g = running[:, ends + 1] - running[:, starts]
    return np.sum((g @ fit.covariance) * g, axis=2)


def scan_recent(
    count: np.ndarray,
    base: np.ndarray,
    scanned: np.ndarray,
    fit_on: np.ndarray,
    days: np.ndarray,
    family: str,
    period: str,
    ranges: np.ndarray,
    limits: Limits,
    *,
    spacing: int | None = None,
) -> Found:
    """Score every recent window of every series (rows of ``count``, one family) against a
    forecast from the periods before it, fitted on ``fit_on`` with a trend parameter per
    ``spacing`` periods; keep those within ``limits`` (as
    :func:`journey_lib.monitor.scan.scan` does for the other windows)."""
    y_all = np.where(scanned, count, 0.0)
    n_all = np.where(scanned, base, 0.0)
    t = np.arange(count.shape[1])
    keep: list[tuple[np.ndarray, ...]] = []
    best = np.zeros(len(count))
    for lo, hi in np.unique(ranges, axis=0):
        if lo > hi:
            continue
        rows = np.flatnonzero((ranges[:, 0] == lo) & (ranges[:, 1] == hi))
        first = first_recent(int(lo), int(hi), period, spacing=spacing)
        for cut in range(first, int(hi) + 1, _REFIT[period]):
            x, fit = forecast(
                count[rows],
                base[rows],
                scanned[rows],
                fit_on[rows],
                days,
                family,
                period,
                int(lo),
                cut,
                spacing=spacing,
            )
            s_all, e_all = windows(int(lo), int(hi), period)
            block = (s_all >= cut) & (s_all < cut + _REFIT[period])
            starts, ends = s_all[block], e_all[block]
            if not len(starts):
                continue
            inside = (t[None, :] >= starts[:, None]) & (t[None, :] <= ends[:, None])  # w x T
            y = y_all[rows] @ inside.T
            m = fit.mean @ inside.T
            n = n_all[rows] @ inside.T
            v = fit.variance @ inside.T
            spread = forecast_variance(fit, x, starts, ends)
            with np.errstate(divide="ignore", invalid="ignore"):
                # The forecast's own uncertainty adds to the periods' (their dispersion
                # grown to the window's length).
                grown = fit.dispersion(ends - starts + 1)
                phi = grown + fit.phi[:, None] * np.where(v > 0, spread / v, 0.0)
                z = tail_score(family, y, np.where(m > 0, m, 1.0), n, phi)
                z = np.where(m > 0, z, 0.0)
                moved = np.abs(y / m - 1.0) >= limits.min_size
            best[rows] = np.maximum(best[rows], np.abs(z).max(axis=1))
            strength = np.abs(likelihood_root(family, y, m, n)) / np.sqrt(grown)
            enough = supported(family, y, m, n, limits.min_count)
            hit = np.nonzero((np.abs(z) >= limits.z_star) & moved & enough)
            keep.append(
                (
                    rows[hit[0]],
                    starts[hit[1]],
                    ends[hit[1]],
                    z[hit],
                    strength[hit],
                    y[hit],
                    m[hit],
                    n[hit],
                )
            )
    if keep:
        parts = [np.concatenate(column) for column in zip(*keep, strict=True)]
    else:
        parts = [np.empty(0, "int64")] * 3 + [np.empty(0)] * 5
    return Found(*parts, best=best)
