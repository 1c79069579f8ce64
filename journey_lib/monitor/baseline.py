"""The baseline a change is measured against: what each series would be if nothing changed.

Each series is fitted, on its used periods, by a generalised linear model of its own:

* **counts** (customers, events): Poisson with a log link;
* **rates** (conversion, churn, retention): binomial on the ``base`` customers with a
  logit link, so each period weighs as much as the customers behind it;
* **money** (revenue per customer): quasi-Poisson with a log link and the period's
  customers as exposure (``log(base)`` as offset).

The linear predictor is a **piecewise-linear trend** (hat functions on knots spread evenly, one
per :data:`KNOT_SPACING` periods of data, the ``trend`` of :func:`journey_lib.changes`: eight
weeks by default, so growth and slow drift are not changes; a series under two spacings gets a
constant level) plus, for daily series, a **weekday effect** (six indicators, Monday the
reference), so a quiet Sunday is expected rather than flagged. The knots stop one spacing
before the series' end and the last piece runs on straight: a change in the latest weeks, the
one a report most needs to see, cannot be absorbed by the trend bending at the end. The trend
is penalised (:data:`SMOOTH`) toward steadiness, which only a sparse series notices.

The fit is **robust**, so an incident inside the series does not drag its own baseline after
it: a round of Huber's weights (:data:`HUBER`), then rounds of Tukey's bisquare
(:data:`BISQUARE`) find the periods far off the rest, measured in spreads of the deviance
residuals (1.4826 times their median absolute deviation, at least chance's 1, which an incident
cannot inflate as it inflates a mean; for money, whose days are skewed, their root mean
square). The final fit leaves those periods out, and **runs** of two or more neighbouring
periods :data:`RUN` spreads or more off on the same side (an incident of a few weeks, each week
within the bisquare's reach of a trend already bent toward it), and weighs every other one
fully: down-weighting the long side of a skewed or sparse series would bias its baseline low
and make its ordinary days look like rises. A change about as long as the knots are apart can
bend the trend before any round sees it (a trend through six weeks at twice the level sits so
high that the weeks after them look like the change), so runs are also found against a
**running median** over a knot spacing on either side (per weekday for days), which a change
shorter than the spacing cannot move (within a spacing of the series' ends or of unused periods
the window is cut short, and half that is enough) and a rising or falling trend does not upset;
every robust round leaves those periods out (:func:`_local_runs`). The **dispersion** ``phi``
is Pearson's chi-square over its degrees of freedom, on the periods not far off the rest
(within :data:`_FAR` standard deviations of a first, trimmed estimate): real series vary more
than Poisson or binomial chance, and ``phi`` says how much, tail included; an incident's
periods do not count as noise (money's far days do: one large order is how an amount varies).
For counts and rates it is at least 1. Its **growth** with a window's length (:data:`LENGTHS`)
is measured from the kept periods' residuals: the squared sums over every window of that length
against the periods one by one, counted only beyond what chance gives an independent series
(one spread of it), never shrinking with length (:meth:`Baseline.dispersion`).

All series are fitted at once (iteratively reweighted least squares on stacked arrays).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

__all__ = [
    "BISQUARE",
    "HUBER",
    "KNOT_SPACING",
    "LENGTHS",
    "RUN",
    "SMOOTH",
    "Baseline",
    "design",
    "fit_baseline",
    "knot_spacing",
    "weighted_gram",
]

#: Periods of data per trend parameter: eight weeks. The knots are spread evenly over the
#: series; a series shorter than two spacings gets a constant level.
KNOT_SPACING: dict[str, int] = {"day": 56, "week": 8}
#: Penalty on the squared change of the trend (log or logit scale) from one knot to the
#: next: a prior standard deviation of 1 / sqrt(2), about a doubling per eight weeks. Long
#: series outweigh it; a sparse series (a rare event, a small segment) keeps a steady
#: trend instead of one that dives toward zero where it saw nothing.
SMOOTH = 2.0
#: Where the robust start down-weights a period, in spreads of the residuals.
HUBER = 2.5
#: Where Tukey's bisquare gives a period no weight, in spreads of the residuals; the final
#: fit leaves out exactly those periods and weighs all others fully.
BISQUARE = 4.685
#: Where a run of neighbouring periods on one side is left out of the final fit, in spreads
#: of the residuals: two in a row beyond it by chance is about one pair in two thousand.
RUN = 2.0
#: The window lengths, in periods, at which each series' growth of variance is measured.
LENGTHS = 2 ** np.arange(9)
_DENSE = 5.0  # the model variance a period needs for its series' growth to be measured
_CHUNK = 4_000_000  # floats per block of running-median windows
_TRIM = 0.1  # the largest tenth of squared residuals is left out of the first estimate
_FAR = 6.0  # residuals beyond this many first-estimate deviations do not count as noise
# The mean of a chi-square with one degree of freedom below its 90% quantile:
# chi2(3).cdf(q) / 0.9 with q = chi2(1).ppf(0.9).
_TRIMMED_CHI2_1 = 0.6230
_ITERATIONS = 30
_ROBUST_ROUNDS = 4


def knot_spacing(period: str, spacing: int | None = None) -> int:
    """Periods of data per trend parameter: ``spacing``, or :data:`KNOT_SPACING`'s for
    ``period`` when None.

    Examples
    --------
    >>> knot_spacing("day"), knot_spacing("week", 26)
    (56, 26)
    """
    return KNOT_SPACING[period] if spacing is None else spacing


def design(
    days: np.ndarray,
    period: str,
    span: tuple[int, int] | None = None,
    *,
    spacing: int | None = None,
) -> np.ndarray:
    """The baseline's columns for periods starting on ``days`` (days since 1970-01-01):
    the trend's hat functions (which sum to one, so they hold the level too), then for
    daily series six weekday indicators (Tuesday to Sunday).

    ``span`` (first and last position, inclusive) is the stretch the trend is fitted on,
    all of ``days`` by default; past its last knot the trend runs on straight, through the
    span's end and beyond (a forecast), and before the span it holds its first level.
    ``spacing`` is the periods of data per trend parameter (:data:`KNOT_SPACING` by
    default).

    Examples
    --------
    >>> x = design(np.arange(19_723, 19_723 + 120), "day")  # 2024-01-01, a Monday
    >>> x.shape, bool(np.allclose(x[:, :2].sum(axis=1), 1.0))
    ((120, 8), True)
    >>> x[:2, 2:].tolist()
    [[0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0, 0.0, 0.0]]
    """
    t = np.arange(len(days), dtype="float64")
    first, last = (0, len(days) - 1) if span is None else span
    spacing = knot_spacing(period, spacing)
    # One trend parameter per spacing of data; under two spacings the level is constant,
    # since a short series cannot tell a step from a trend.
    count = max(1, (last - first + 1) // spacing)
    if count == 1:
        trend = np.ones((len(days), 1))
    else:
        # The knots stop a spacing short of the end and the last piece runs on straight, so
        # the trend cannot bend to follow a change in the latest weeks: it would have to
        # tilt a line of two spacings or more.
        knots = np.linspace(float(first), float(max(last - spacing, first + 1)), count)
        trend = np.column_stack([np.interp(t, knots, row) for row in np.eye(count)])
        # Past the span the trend runs on at its last slope: growth that simply goes on is
        # not a change. (Before the first knot np.interp already holds the first level.)
        beyond = t > knots[-1]
        run = (t[beyond] - knots[-1]) / (knots[-1] - knots[-2])
        trend[beyond, -1] = 1.0 + run
        trend[beyond, -2] = -run
    if period != "day":
        return trend
    weekday = (np.asarray(days) + 3) % 7  # 1970-01-05 (day 4) was a Monday
    return np.column_stack([trend, weekday[:, None] == np.arange(1, 7)[None, :]]).astype("float64")


@dataclass(frozen=True)
class Baseline:
    """The fitted baselines of stacked series (``S`` series by ``T`` periods).

    ``mean`` is each period's expected count (rates: expected successes, ``base`` times the
    expected share; money: expected amount); ``variance`` the model's variance of it before
    dispersion; ``phi`` each series' dispersion; ``information`` the ``S x p x p`` matrices
    ``X' V X`` over used periods, which the scan needs to allow for the baseline having been
    fitted on the same data; ``covariance`` the coefficients' ``S x p x p`` covariance
    before dispersion, ``(X' W V X + P)^-1``: ``W`` the periods the final robust fit weighed,
    ``P`` the smoothing penalty (:data:`SMOOTH`); ``growth`` the ``S x`` :data:`LENGTHS`
    factors by which a window of that many periods varies more than its periods one by one
    (see :meth:`dispersion`)."""

    mean: np.ndarray
    variance: np.ndarray
    phi: np.ndarray
    information: np.ndarray
    covariance: np.ndarray
    growth: np.ndarray

    def dispersion(self, lengths: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """Each series' (or each of ``rows``') dispersion for windows of ``lengths``
        periods (``S x W``): ``phi`` times the growth at that length, interpolated on the
        log of :data:`LENGTHS` and held beyond the last.

        A window's total varies as its periods' sum: when neighbouring periods move
        together (an order's deliveries and tickets over the next days, customers who
        stay a while), a month of days varies more than thirty days one by one would, and
        ``phi`` alone, measured period by period, would read that as a change.

        Examples
        --------
        >>> fit = Baseline(np.zeros((1, 1)), np.zeros((1, 1)), np.array([2.0]),
        ...                np.zeros((1, 1, 1)), np.zeros((1, 1, 1)),
        ...                np.array([[1.0, 1.0, 1.5, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0]]))
        >>> fit.dispersion(np.array([1, 4, 6, 300])).round(3).tolist()
        [[2.0, 3.0, 3.585, 4.0]]
        """
        where = np.log2(np.clip(np.asarray(lengths, dtype="float64"), 1.0, LENGTHS[-1]))
        lower = np.minimum(np.floor(where).astype("int64"), len(LENGTHS) - 2)
        part = where - lower
        mine = self.growth if rows is None else self.growth[rows]
        phi = self.phi if rows is None else self.phi[rows]
        growth = mine[:, lower] * (1.0 - part) + mine[:, lower + 1] * part
        return phi[:, None] * growth


def fit_baseline(
    count: np.ndarray,
    base: np.ndarray,
    used: np.ndarray,
    x: np.ndarray,
    family: str,
    period: str,
    *,
    fit_on: np.ndarray | None = None,
    late: int = 0,
    spacing: int | None = None,
) -> Baseline:
    """Fit the baseline of each row of ``count`` (``S x T``) on its ``used`` periods, or
    on ``fit_on`` of them (say, all but a change's), predicting it for every used period.

    With ``late``, the robust fit is started twice, from all periods and from all but the
    series' last ``late`` used periods, and each series keeps the fit whose residuals spread
    least: a change in the latest periods then cannot pull the trend's end toward itself.
    ``spacing`` is the periods per trend parameter ``x`` was made with
    (:data:`KNOT_SPACING` by default): the running median's reach on either side.

    ``family`` is ``"count"``, ``"rate"`` or ``"money"`` (see the module docstring);
    ``base`` is the rates' customers and money's exposure (ignored for counts).

    Examples
    --------
    A flat series of 100 a day with Sundays at half is expected as such:

    >>> days = np.arange(19_723, 19_723 + 84)
    >>> y = np.where((days + 3) % 7 == 6, 50.0, 100.0)[None, :]
    >>> x = design(days, "day")
    >>> fit = fit_baseline(y, np.ones_like(y), np.ones_like(y, bool), x, "count", "day")
    >>> np.round(fit.mean[0, 4:7], 3).tolist(), float(fit.phi[0])
    ([100.0, 100.0, 50.0], 1.0)
    """
    y = np.asarray(count, dtype="float64")
    n = np.asarray(base, dtype="float64")
    w_used = np.asarray(used, dtype=bool) & (n > 0 if family != "count" else True)
    w_fit = w_used if fit_on is None else w_used & np.asarray(fit_on, dtype=bool)
    offset = np.log(np.where(w_used, n, 1.0)) if family == "money" else 0.0
    starts = [w_fit]
    if late:
        # All but the last ``late`` of each series' own used periods (a conversion series
        # ends before the log does).
        t = np.arange(y.shape[1])
        last = y.shape[1] - 1 - np.argmax(w_used[:, ::-1], axis=1)
        starts.append(w_fit & (t[None, :] <= (last - late)[:, None]))
    penalty = _smoothing(x.shape[1] - (6 if period == "day" else 0), x.shape[1])
    banned = _local_runs(y, n, w_fit, family, period, knot_spacing(period, spacing))
    fits = [
        _robust_fit(y, n, w_fit, start & ~banned, x, family, offset, penalty, banned)
        for start in starts
    ]
    # Per series, the fit whose residuals spread least (an S-estimate's rule): from the
    # start without the latest periods, a change there stays outside the baseline.
    pick = np.argmin(np.stack([f[3] for f in fits]), axis=0)
    mean, variance, phi, kept = (
        np.choose(pick[:, None], [f[0] for f in fits]),
        np.choose(pick[:, None], [f[1] for f in fits]),
        np.choose(pick, [f[2] for f in fits]),
        np.choose(pick[:, None], [f[4] for f in fits]),
    )
    weights = np.where(w_used, variance, 0.0)
    # Over every used period, fitted or not: the scan asks whether the trend *could*
    # follow a window, which does not depend on what this fit left out.
    information = weighted_gram(x, weights)
    # The Bayesian covariance of a penalised fit (mgcv's Vp), not the frequentist sandwich
    # H^-1 X'WVX H^-1: the penalty is the trend's prior, and H^-1 is the sandwich plus the
    # squared bias that prior expects (a sparse series' slope shrunk toward steady), which a
    # forecast's error carries as much as its variance (tests/test_monitor_forecast.py
    # holds it to replicate forecasts). Only the periods the final fit weighed inform it:
    # an incident the robust rounds left out adds nothing.
    covariance = np.linalg.inv(_penalised(weighted_gram(x, kept * variance), penalty))
    pearson = np.where(kept > 0, (y - mean) / np.sqrt(np.maximum(variance, 1e-12)), 0.0)
    return Baseline(
        mean=np.where(w_used, mean, 0.0),
        variance=weights,
        phi=phi,
        information=information,
        covariance=covariance,
        growth=_growth(pearson, kept > 0, variance),
    )


def _growth(pearson: np.ndarray, kept: np.ndarray, variance: np.ndarray) -> np.ndarray:
    """How much more a window of each of :data:`LENGTHS` periods varies than its periods
    one by one, per series: over every window of that length, the squared sum of its kept
    periods' Pearson residuals over the number of them, against the same for single
    periods; at least 1, and never less than at a shorter length. A length needs three
    times as many kept periods to be measured (else the last measured one holds): fewer
    windows than that say little about it. A sparse series (a model variance under
    :data:`_DENSE` in its typical kept period: a rare event, a small segment's rate) does
    not grow: its residuals are far from normal, a stretch of quiet periods sums to a
    steady negative and a few busy ones, an incident's, dominate."""
    running = np.concatenate([np.zeros((len(kept), 1)), np.cumsum(pearson, axis=1)], axis=1)
    counted = np.concatenate([np.zeros((len(kept), 1)), np.cumsum(kept, axis=1)], axis=1)
    single = np.maximum((pearson**2).sum(axis=1) / np.maximum(kept.sum(axis=1), 1), 1e-6)
    periods = kept.sum(axis=1)
    growth = np.ones((len(kept), len(LENGTHS)))
    for j, length in enumerate(LENGTHS[1:], start=1):
        if length >= kept.shape[1]:
            growth[:, j] = growth[:, j - 1]
            continue
        sums = running[:, length:] - running[:, :-length]
        sizes = counted[:, length:] - counted[:, :-length]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = (sums**2).sum(axis=1) / sizes.sum(axis=1) / single
        # Under independence the ratio is about 1 give or take sqrt(2 length / periods)
        # (the periods make that many windows' worth of independent sums): only growth
        # beyond that counts, so chance costs an ordinary series little power. (Beyond
        # twice that, as before, a year of days read 1.4 as 1.0 at eight days and alarmed
        # four unchanged simulated years in 16, not 2; README, "What changed".)
        shown = ratio - np.sqrt(2.0 * length / np.maximum(periods, 1))
        measured = (periods >= 3 * length) & np.isfinite(ratio)
        growth[:, j] = np.where(measured, np.maximum(shown, growth[:, j - 1]), growth[:, j - 1])
    growth[~(_typical(variance, kept) >= _DENSE)] = 1.0
    return np.maximum(growth, 1.0)


def _typical(variance: np.ndarray, periods: np.ndarray) -> np.ndarray:
    """Each series' model variance in a typical one of ``periods`` (their median); NaN for
    a series with none (every period left out), which is then not dense.

    Examples
    --------
    >>> _typical(np.array([[1.0, 9.0, 4.0], [2.0, 2.0, 2.0]]),
    ...          np.array([[True, True, True], [False, False, False]])).tolist()
    [4.0, nan]
    """
    typical = np.full(len(variance), np.nan)
    some = periods.any(axis=1)
    typical[some] = np.nanmedian(np.where(periods[some], variance[some], np.nan), axis=1)
    return typical


def _robust_fit(
    y: np.ndarray,
    n: np.ndarray,
    fitted: np.ndarray,
    start: np.ndarray,
    x: np.ndarray,
    family: str,
    offset: np.ndarray | float,
    penalty: np.ndarray,
    banned: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One robust fit (see the module docstring) whose first round uses the ``start``
    periods only and no round the ``banned`` ones: expected counts, their variance, the
    dispersion and final spread of the deviance residuals over the ``fitted`` periods
    (banned ones included: they may be noise), and the final fit's weights (1 for each
    period it weighed, else 0)."""
    if family == "rate":
        share = (y + 0.5) / (n + 1.0)
        eta = np.log(share / (1.0 - share))
    else:
        eta = np.log(y + 0.5)  # with the offset: money's exposure is in it
    weight = start.astype("float64")
    for round_ in range(_ROBUST_ROUNDS + 2):
        beta = _irls(y, n, weight, x, family, eta - offset, offset, penalty)
        eta = beta @ x.T + offset
        mean, variance = _moments(eta, n, family)
        if round_ == _ROBUST_ROUNDS + 1:
            break
        deviance = _deviance_residual(y, mean, n, family)
        spread = _spread(deviance, fitted)
        if family == "money":
            # An amount's days are skewed (many quiet, a few large orders): its scale is
            # the residuals' root mean square, which sees that tail; a MAD would not.
            scale = np.sqrt(np.nanmean(np.where(fitted, deviance**2, np.nan), axis=1))
        else:
            scale = np.maximum(spread, 1.0)
        scaled = np.abs(deviance) / np.nan_to_num(scale, nan=1.0)[:, None]
        if round_ == 0:
            weight = fitted * np.minimum(1.0, HUBER / np.maximum(scaled, 1e-12))
        elif round_ < _ROBUST_ROUNDS:
            weight = fitted * np.clip(1.0 - (scaled / BISQUARE) ** 2, 0.0, None) ** 2
        else:
            # The last fit gives every period the robust rounds kept its full weight:
            # down-weighting a skewed series' long side would bias its baseline low.
            # Runs far off on one side are left out too (see _runs).
            run = _runs(deviance, scaled, fitted)
            weight = (fitted & (scaled < BISQUARE) & ~run).astype("float64")
        weight = np.where(banned, 0.0, weight)
    pearson = (y - mean) / np.sqrt(np.maximum(variance, 1e-12))
    phi = _dispersion(pearson, fitted, family, x.shape[1])
    return mean, variance, phi, spread, weight


def _runs(deviance: np.ndarray, scaled: np.ndarray, fitted: np.ndarray) -> np.ndarray:
    """The periods in a run: two or more neighbouring periods at least :data:`RUN` spreads
    off the rest on the same side. One such period is noise a trend must live with; a
    run of them is a level that moved for a while, an incident, which a flexible trend
    would otherwise bend toward (a few weeks at twice the level, each within
    :data:`BISQUARE` spreads of a trend already bent). The dispersion still counts them
    (see :func:`_dispersion`): leaving out the far pairs that long-tailed noise has too
    would make it run low."""
    high = fitted & (scaled >= RUN)
    out = np.zeros_like(high)
    for side in (deviance > 0, deviance < 0):
        far = high & side
        before = np.zeros_like(far)
        before[:, 1:] = far[:, :-1]
        after = np.zeros_like(far)
        after[:, :-1] = far[:, 1:]
        out |= far & (before | after)
    return out


def _local_runs(
    y: np.ndarray, n: np.ndarray, fitted: np.ndarray, family: str, period: str, reach: int
) -> np.ndarray:
    """The periods in a run (:func:`_runs`) against a running median of the series' level
    (counts; rates' shares), ``reach`` periods on either side (for days, the same weekday
    within ``reach`` days, so a quiet Sunday is set against Sundays), measured in spreads of
    the deviance residuals from it. The median ignores a change shorter than ``reach``
    (near the series' ends or unused periods, where its window is cut short, one shorter
    than half of that) and follows a level that rises or falls steadily, where a fitted
    trend would already bend toward the one and could not be told from the other.

    Only dense series (a model variance of :data:`_DENSE` or more in a typical period) have
    such runs: a rare event's or small segment's busy stretches are how it varies. Nor does
    money: one large order is its noise.

    Examples
    --------
    Six weeks at twice the level of a steady year; the weeks just after are not in a run:

    >>> y = np.where((np.arange(52) >= 20) & (np.arange(52) < 26), 100.0, 50.0)
    >>> y = y + np.tile([3.0, -3.0], 26)
    >>> runs = _local_runs(y[None, :], np.ones((1, 52)), np.ones((1, 52), bool), "count",
    ...                    "week", 8)
    >>> np.flatnonzero(runs[0]).tolist()
    [20, 21, 22, 23, 24, 25]
    """
    if family == "money" or not fitted.any():
        return np.zeros_like(fitted)
    with np.errstate(divide="ignore", invalid="ignore"):
        level = np.where(fitted, y if family == "count" else y / n, np.nan)
    step = 7 if period == "day" else 1
    local = _running_median(level, step, reach // step)
    some = fitted.any(axis=1)
    local[some] = np.where(
        np.isfinite(local[some]), local[some], np.nanmedian(level[some], axis=1, keepdims=True)
    )
    if family == "rate":
        share = np.clip(np.nan_to_num(local), 1e-6, 1 - 1e-6)
        mean, variance = n * share, n * share * (1.0 - share)
    else:
        mean = variance = np.maximum(np.nan_to_num(local), 1e-6)
    deviance = _deviance_residual(y, mean, n, family)
    scaled = np.abs(deviance) / np.maximum(_spread(deviance, fitted), 1.0)[:, None]
    return _runs(deviance, scaled, fitted) & (_typical(variance, fitted) >= _DENSE)[:, None]


def _running_median(level: np.ndarray, step: int, half: int) -> np.ndarray:
    """Each period's median of the finite ``level`` values ``half`` steps of ``step``
    periods on either side and itself (for days with ``step`` 7, the same weekday's), as
    pandas' centred rolling median with ``min_periods=1``; NaN where all are missing.

    Examples
    --------
    >>> _running_median(np.array([[1.0, 9.0, 2.0, np.nan, 4.0]]), 1, 1).tolist()
    [[5.0, 2.0, 5.5, 3.0, 4.0]]
    """
    rows, t = level.shape
    blocks = -(-t // step)
    grid = np.full((rows, blocks * step), np.nan)
    grid[:, :t] = level
    grid = np.pad(
        grid.reshape(rows, blocks, step), ((0, 0), (half, half), (0, 0)), constant_values=np.nan
    )
    out = np.empty((rows, blocks, step))
    chunk = max(1, _CHUNK // (blocks * step * (2 * half + 1)))
    for first in range(0, rows, chunk):
        # Sorted windows hold their missing values last: the median is the middle of the
        # first k, k being how many are there.
        sorted_ = np.sort(
            np.lib.stride_tricks.sliding_window_view(
                grid[first : first + chunk], 2 * half + 1, axis=1
            ),
            axis=-1,
        )
        k = np.isfinite(sorted_).sum(axis=-1)
        low = np.take_along_axis(sorted_, np.maximum((k - 1) // 2, 0)[..., None], -1)[..., 0]
        high = np.take_along_axis(sorted_, (k // 2)[..., None], -1)[..., 0]
        out[first : first + chunk] = np.where(k > 0, (low + high) / 2.0, np.nan)
    return out.reshape(rows, blocks * step)[:, :t]


def _spread(deviance: np.ndarray, fitted: np.ndarray) -> np.ndarray:
    """The spread of each series' deviance residuals that the robust weights measure
    against: 1.4826 times their median absolute deviation, which the periods of an
    incident (and a trend bent toward it) cannot inflate as they inflate a mean. 1 for a
    series with no fitted period."""
    spread = np.ones(len(deviance))
    some = fitted.any(axis=1)
    centred = np.where(fitted[some], deviance[some], np.nan)
    middle = np.nanmedian(centred, axis=1, keepdims=True)
    spread[some] = 1.4826 * np.nanmedian(np.abs(centred - middle), axis=1)
    return np.where(np.isfinite(spread) & (spread > 0), spread, 1.0)


def _deviance_residual(y: np.ndarray, mean: np.ndarray, n: np.ndarray, family: str) -> np.ndarray:
    """Signed deviance residuals: nearly symmetric even for small counts, where Pearson
    residuals are so skewed that down-weighting their tail would bias the baseline low."""
    with np.errstate(divide="ignore", invalid="ignore"):
        unit = special.xlogy(y, y / mean) - (y - mean)
        if family == "rate":
            unit = special.xlogy(y, y / mean) + special.xlogy(n - y, (n - y) / (n - mean))
    return np.sign(y - mean) * np.sqrt(np.maximum(2.0 * np.nan_to_num(unit), 0.0))


def _moments(eta: np.ndarray, n: np.ndarray, family: str) -> tuple[np.ndarray, np.ndarray]:
    """Expected count and its variance under the model, from the linear predictor."""
    if family == "rate":
        share = 1.0 / (1.0 + np.exp(-np.clip(eta, -30, 30)))
        return n * share, n * share * (1.0 - share)
    mean = np.exp(np.clip(eta, -30, 50))
    return mean, mean


def weighted_gram(x: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``X' W_s X`` for every row ``s`` of ``weights`` (``S x T``): ``S x p x p``, by batched
    matrix products (a three-operand einsum is many times slower).

    Examples
    --------
    >>> x = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]])
    >>> weighted_gram(x, np.array([[1.0, 1.0, 1.0]]))[0].tolist()
    [[3.0, 3.0], [3.0, 5.0]]
    """
    return (x.T[None, :, :] * weights[:, None, :]) @ x


def _smoothing(trend: int, columns: int) -> np.ndarray:
    """The penalty :data:`SMOOTH` times the squared differences of neighbouring trend
    coefficients, as a ``columns x columns`` matrix (zero on the weekday columns)."""
    difference = np.diff(np.eye(trend), axis=0)
    penalty = np.zeros((columns, columns))
    penalty[:trend, :trend] = SMOOTH * difference.T @ difference
    return penalty


def _penalised(gram: np.ndarray, penalty: np.ndarray) -> np.ndarray:
    """``X'WX + P`` and a whisker of ridge, which keeps a knot with no used period (say the
    log's first weeks of a churn series) solvable; its coefficient then never reaches a
    used period."""
    ridge = 1e-8 * (1.0 + np.einsum("spp->s", gram))[:, None, None] * np.eye(gram.shape[1])
    return gram + penalty + ridge


def _irls(
    y: np.ndarray,
    n: np.ndarray,
    weight: np.ndarray,
    x: np.ndarray,
    family: str,
    start: np.ndarray,
    offset: np.ndarray | float,
    penalty: np.ndarray,
) -> np.ndarray:
    """Penalised iteratively reweighted least squares for every series at once, from the
    linear predictor ``start`` (without offset); returns the coefficients, ``S x p``."""
    eta = start + offset
    beta = np.zeros((y.shape[0], x.shape[1]))
    for _ in range(_ITERATIONS):
        mean, variance = _moments(eta, n, family)
        v = np.maximum(variance, 1e-10)
        working = eta - offset + (y - mean) / v
        w = weight * v
        lhs = _penalised(weighted_gram(x, w), penalty)
        rhs = (w * working) @ x
        new = np.linalg.solve(lhs, rhs[..., None])[..., 0]
        eta = new @ x.T + offset
        if np.max(np.abs(new - beta)) < 1e-7:
            return new
        beta = new
    return beta


def _dispersion(pearson: np.ndarray, used: np.ndarray, family: str, columns: int) -> np.ndarray:
    """Each series' dispersion: the sum of squared Pearson residuals over the residual
    degrees of freedom (periods less the baseline's ``columns``), over the periods not far
    off the rest (at most :data:`_FAR` times a first, trimmed estimate's standard deviation:
    the lower ``1 - _TRIM`` of the squares, over what their mean is for a chi-square with
    one degree of freedom). The trimmed estimate alone would run low for the long-tailed
    counts real logs have; the plain mean would count an incident as noise. Money keeps
    every period: its far days (one large order) are how it varies. At least 1 for counts
    and rates."""
    phi = np.ones(len(pearson))
    some = used.any(axis=1)
    squared = np.where(used[some], pearson[some] ** 2, np.nan)
    cut = np.nanquantile(squared, 1.0 - _TRIM, axis=1, keepdims=True)
    first = np.nanmean(np.where(squared <= cut, squared, np.nan), axis=1) / _TRIMMED_CHI2_1
    first = np.where(np.isfinite(first) & (first > 0), first, 1.0)
    # An amount's tail is its noise (a day with one large order): money keeps every period.
    kept = np.isfinite(squared) & ((squared <= _FAR**2 * first[:, None]) | (family == "money"))
    # Over the residual degrees of freedom: the fit's own columns took some variance.
    freedom = np.maximum(kept.sum(axis=1) - columns, 1)
    phi[some] = np.where(kept, squared, 0.0).sum(axis=1) / freedom
    phi = np.where(np.isfinite(phi) & (phi > 0), phi, 1.0)
    return phi if family == "money" else np.maximum(phi, 1.0)
