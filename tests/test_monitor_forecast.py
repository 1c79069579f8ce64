"""Change detection's forecasts and levels: the forecast's variance against replicate
simulations, and the levels before and during a change over used periods only."""

from __future__ import annotations

import numpy as np

from journey_lib.monitor import baseline, recent


def _forecast_replicates(level, slope, t, replicates, seed):
    """Many weekly Poisson series of one known smooth trend, each forecast (as scan_recent
    does) from the periods before the last quarter: the design, the batched fit, the cut."""
    rng = np.random.default_rng(seed)
    days = 19_723 + 7 * np.arange(t)
    mu = level * np.exp(slope * np.arange(t) / t)
    y = rng.poisson(mu, size=(replicates, t)).astype("float64")
    used = np.ones_like(y, bool)
    cut = recent.first_recent(0, t - 1, "week")
    x, fit = recent.forecast(y, np.ones_like(y), used, used, days, "count", "week", 0, cut)
    return x, fit, cut


def test_forecast_variance_matches_replicate_forecasts():
    """20,000 series of a sparse trend (1.5 events a week growing by 65% over 40 weeks, where
    the smoothing penalty weighs as much as the data on a knot): the variance of the fitted
    forecast's total over replicates against the delta method's, for the recent quarter's
    ongoing window and its first four weeks.

    The delta variance at a replicate's own fit grows with that fit's level (about as its
    square), so its mean is pulled up by the high fits; the median replicate's sits at about
    the truth and is compared. The unpenalised ``(X'VX)^-1`` over every fitted period (the
    formula before this test) overstates it by 16% to 24% here, beyond the tolerance."""
    t, replicates = 40, 20_000
    x, fit, cut = _forecast_replicates(1.5, 0.5, t, replicates, seed=0)
    starts, ends = np.array([cut, cut]), np.array([t - 1, cut + 3])
    running = np.concatenate([np.zeros((replicates, 1)), np.cumsum(fit.mean, axis=1)], axis=1)
    empirical = (running[:, ends + 1] - running[:, starts]).var(axis=0)
    delta = np.median(recent.forecast_variance(fit, x, starts, ends), axis=0)
    np.testing.assert_allclose(delta / empirical, 1.0, atol=0.1)
    # The formula this replaced, for the record of the test's power: g' (X'VX)^-1 g over
    # every period before the cut, without the penalty.
    g = np.stack(
        [
            (fit.variance[:, s : e + 1, None] * x[s : e + 1]).sum(axis=1)
            for s, e in zip(starts, ends, strict=True)
        ],
        axis=1,
    )
    gram = baseline.weighted_gram(x, np.where(np.arange(t) < cut, fit.variance, 0.0))
    old = np.median(np.einsum("swp,spq,swq->sw", g, np.linalg.inv(gram), g), axis=0)
    assert (old / empirical > 1.12).all(), old / empirical


def test_forecast_covariance_leaves_out_what_the_robust_fit_left_out():
    """A weekly series with one wild week before the cut: the robust fit leaves it out, so the
    forecast's covariance is the one of a fit told to leave it out (the formula before this
    counted that week as information)."""
    rng = np.random.default_rng(3)
    t = 40
    days = 19_723 + 7 * np.arange(t)
    y = rng.poisson(np.full(t, 30.0))[None, :].astype("float64")
    y[0, 20] = 300.0
    used = np.ones_like(y, bool)
    cut = recent.first_recent(0, t - 1, "week")
    x, fit = recent.forecast(y, np.ones_like(y), used, used, days, "count", "week", 0, cut)
    without = used & (np.arange(t) != 20)
    _, told = recent.forecast(y, np.ones_like(y), used, without, days, "count", "week", 0, cut)
    np.testing.assert_allclose(fit.mean, told.mean, rtol=1e-6)
    np.testing.assert_allclose(fit.covariance, told.covariance, rtol=1e-6)
    window = (np.array([cut]), np.array([t - 1]))
    np.testing.assert_allclose(
        recent.forecast_variance(fit, x, *window), recent.forecast_variance(told, x, *window)
    )
