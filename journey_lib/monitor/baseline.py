"""The baseline a change is measured against: what each series would be if nothing changed.

Each series is fitted, on its used periods, by a generalised linear model of its own:

* **counts** (customers, events): Poisson with a log link;
* **rates** (conversion, churn, retention): binomial on the ``base`` customers with a
  logit link, so each period weighs as much as the customers behind it;
* **money** (revenue per customer): quasi-Poisson with a log link and the period's
  customers as exposure (``log(base)`` as offset).

The linear predictor is a **piecewise-linear trend** (hat functions on knots spread evenly,
one per :data:`KNOT_SPACING` periods of data: eight weeks, so growth and slow drift are not
changes; a series under sixteen weeks gets a constant level) plus, for daily series, a
**weekday effect** (six indicators, Monday the reference), so a quiet Sunday is expected
rather than flagged.

The fit is **robust**, so an incident inside the series does not drag its own baseline after
it: one round of Huber weights (cut at :data:`HUBER` standard deviations), then two of
Tukey's bisquare (:data:`BISQUARE`), which give a period far off the rest no weight, all on
deviance residuals (nearly symmetric even for small counts, where down-weighting the long tail
of Pearson residuals would bias the baseline low). The **dispersion**
``phi`` is Pearson's chi-square over its degrees of freedom, on the periods not far off the
rest (within :data:`_FAR` standard deviations of a first, trimmed estimate): real series vary
more than Poisson or binomial chance, and ``phi`` says how much, tail included; an
incident's periods do not count as noise. For counts and rates it is at least 1.

All series are fitted at once (iteratively reweighted least squares on stacked arrays).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

__all__ = ["BISQUARE", "HUBER", "KNOT_SPACING", "Baseline", "design", "fit_baseline"]

#: Periods of data per trend parameter: eight weeks. The knots are spread evenly over the
#: series; a series shorter than two spacings gets a constant level.
KNOT_SPACING: dict[str, int] = {"day": 56, "week": 8}
#: Where robust fitting starts to down-weight a period, in standard deviations.
HUBER = 2.5
#: Where Tukey's bisquare gives a period no weight, in standard deviations (95% efficiency).
BISQUARE = 4.685
_TRIM = 0.1  # the largest tenth of squared residuals is left out of the first estimate
_FAR = 6.0  # residuals beyond this many first-estimate deviations do not count as noise
# The mean of a chi-square with one degree of freedom below its 90% quantile:
# chi2(3).cdf(q) / 0.9 with q = chi2(1).ppf(0.9).
_TRIMMED_CHI2_1 = 0.6230
_ITERATIONS = 30
_ROBUST_ROUNDS = 3


def design(days: np.ndarray, period: str) -> np.ndarray:
    """The baseline's columns for periods starting on ``days`` (days since 1970-01-01):
    the trend's hat functions (which sum to one, so they hold the level too), then for
    daily series six weekday indicators (Tuesday to Sunday).

    Examples
    --------
    >>> x = design(np.arange(19_723, 19_723 + 120), "day")  # 2024-01-01, a Monday
    >>> x.shape, bool(np.allclose(x[:, :2].sum(axis=1), 1.0))
    ((120, 8), True)
    >>> x[:2, 2:].tolist()
    [[0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0, 0.0, 0.0]]
    """
    t = np.arange(len(days), dtype="float64")
    # One trend parameter per KNOT_SPACING periods of data: under two spacings the level is
    # constant, since a short series cannot tell a step from a trend.
    knots = np.linspace(0.0, max(len(days) - 1, 1), max(1, len(days) // KNOT_SPACING[period]))
    if len(knots) == 1:
        trend = np.ones((len(days), 1))
    else:
        trend = np.column_stack([np.interp(t, knots, row) for row in np.eye(len(knots))])
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
    fitted on the same data."""

    mean: np.ndarray
    variance: np.ndarray
    phi: np.ndarray
    information: np.ndarray


def fit_baseline(
    count: np.ndarray,
    base: np.ndarray,
    used: np.ndarray,
    x: np.ndarray,
    family: str,
    *,
    fit_on: np.ndarray | None = None,
) -> Baseline:
    """Fit the baseline of each row of ``count`` (``S x T``) on its ``used`` periods, or
    on ``fit_on`` of them (say, all but a change's), predicting it for every used period.

    ``family`` is ``"count"``, ``"rate"`` or ``"money"`` (see the module docstring);
    ``base`` is the rates' customers and money's exposure (ignored for counts).

    Examples
    --------
    A flat series of 100 a day with Sundays at half is expected as such:

    >>> days = np.arange(19_723, 19_723 + 84)
    >>> y = np.where((days + 3) % 7 == 6, 50.0, 100.0)[None, :]
    >>> fit = fit_baseline(y, np.ones_like(y), np.ones_like(y, bool), design(days, "day"), "count")
    >>> np.round(fit.mean[0, 4:7], 3).tolist(), float(fit.phi[0])
    ([100.0, 100.0, 50.0], 1.0)
    """
    y = np.asarray(count, dtype="float64")
    n = np.asarray(base, dtype="float64")
    w_used = np.asarray(used, dtype=bool) & (n > 0 if family != "count" else True)
    w_fit = w_used if fit_on is None else w_used & np.asarray(fit_on, dtype=bool)
    offset = np.log(np.where(w_used, n, 1.0)) if family == "money" else 0.0
    if family == "rate":
        share = (y + 0.5) / (n + 1.0)
        eta = np.log(share / (1.0 - share))
    else:
        eta = np.log(y + 0.5)  # with the offset: money's exposure is in it
    robust = np.ones_like(y)
    for round_ in range(_ROBUST_ROUNDS + 1):
        beta = _irls(y, n, w_fit * robust, x, family, eta - offset, offset)
        eta = np.einsum("tp,sp->st", x, beta) + offset
        mean, variance = _moments(eta, n, family)
        pearson = (y - mean) / np.sqrt(np.maximum(variance, 1e-12))
        phi = _dispersion(pearson, w_fit, family, x.shape[1])
        scaled = np.abs(_deviance_residual(y, mean, n, family)) / np.sqrt(phi)[:, None]
        if round_ == 0:
            robust = np.minimum(1.0, HUBER / np.maximum(scaled, 1e-12))
        else:
            robust = np.clip(1.0 - (scaled / BISQUARE) ** 2, 0.0, None) ** 2
    weights = np.where(w_used, variance, 0.0)
    # Over every used period, fitted or not: the scan asks whether the trend *could*
    # follow a window, which does not depend on what this fit left out.
    information = np.einsum("tp,st,tq->spq", x, weights, x)
    return Baseline(
        mean=np.where(w_used, mean, 0.0), variance=weights, phi=phi, information=information
    )


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


def _irls(
    y: np.ndarray,
    n: np.ndarray,
    weight: np.ndarray,
    x: np.ndarray,
    family: str,
    start: np.ndarray,
    offset: np.ndarray | float,
) -> np.ndarray:
    """Iteratively reweighted least squares for every series at once, from the linear
    predictor ``start`` (without offset); returns the coefficients, ``S x p``."""
    p = x.shape[1]
    # A whisker of ridge keeps a knot with no used period (say the log's first weeks of a
    # churn series) solvable; its coefficient then never reaches a used period.
    ridge = 1e-8 * np.eye(p)
    eta = start + offset
    beta = np.zeros((y.shape[0], p))
    for _ in range(_ITERATIONS):
        mean, variance = _moments(eta, n, family)
        v = np.maximum(variance, 1e-10)
        working = eta - offset + (y - mean) / v
        w = weight * v
        xtwx = np.einsum("tp,st,tq->spq", x, w, x)
        lhs = xtwx + ridge * (1.0 + np.einsum("spp->s", xtwx))[:, None, None]
        rhs = np.einsum("tp,st->sp", x, w * working)
        new = np.linalg.solve(lhs, rhs[..., None])[..., 0]
        eta = np.einsum("tp,sp->st", x, new) + offset
        if np.max(np.abs(new - beta)) < 1e-8:
            return new
        beta = new
    return beta


def _dispersion(pearson: np.ndarray, used: np.ndarray, family: str, columns: int) -> np.ndarray:
    """Each series' dispersion: the sum of squared Pearson residuals over the residual
    degrees of freedom (periods less the baseline's ``columns``), over the periods not far
    off the rest (at most :data:`_FAR` times a first, trimmed estimate's standard deviation:
    the lower ``1 - _TRIM`` of the squares, over what their mean is for a chi-square with
    one degree of freedom). The trimmed estimate alone would run low for the long-tailed
    counts real logs have; the plain mean would count an incident as noise. At least 1 for
    counts and rates."""
    squared = np.where(used, pearson**2, np.nan)
    with np.errstate(all="ignore"):
        cut = np.nanquantile(squared, 1.0 - _TRIM, axis=1, keepdims=True)
        first = np.nanmean(np.where(squared <= cut, squared, np.nan), axis=1) / _TRIMMED_CHI2_1
        first = np.where(np.isfinite(first) & (first > 0), first, 1.0)
        kept = squared <= _FAR**2 * first[:, None]
        # Over the residual degrees of freedom: the fit's own columns took some variance.
        freedom = np.maximum(kept.sum(axis=1) - columns, 1)
        phi = np.where(kept, squared, 0.0).sum(axis=1) / freedom
    phi = np.where(np.isfinite(phi) & (phi > 0), phi, 1.0)
    return phi if family == "money" else np.maximum(phi, 1.0)
