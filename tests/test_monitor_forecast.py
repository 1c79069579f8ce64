"""Change detection's forecasts and levels: the forecast's variance against replicate
simulations, and the levels before and during a change over used periods only."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import journey_lib as jl
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
    the truth and is compared (0.95 and 1.03 of it). The unpenalised ``(X'VX)^-1`` over
    every fitted period (the formula before this test) overstates it by 13% and 20% here,
    beyond the tolerance."""
    t, replicates = 40, 20_000
    x, fit, cut = _forecast_replicates(1.5, 0.5, t, replicates, seed=0)
    starts, ends = np.array([cut, cut]), np.array([t - 1, cut + 3])
    running = np.concatenate([np.zeros((replicates, 1)), np.cumsum(fit.mean, axis=1)], axis=1)
    empirical = (running[:, ends + 1] - running[:, starts]).var(axis=0)
    delta = np.median(recent.forecast_variance(fit, x, starts, ends), axis=0)
    np.testing.assert_allclose(delta / empirical, 1.0, atol=0.08)
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
    assert (old / empirical > 1.1).all(), old / empirical


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


def _weekly(count, used, *, metric="events", base=np.nan):
    weeks = pd.date_range("2024-01-01", periods=len(count), freq="7D", tz="UTC")
    return pd.DataFrame(
        {
            "metric": metric,
            "detail": "purchase" if metric == "events" else "cart → purchase",
            "column": None,
            "value": None,
            "period": weeks,
            "count": np.asarray(count, dtype="float64"),
            "base": base,
            "used": used,
        }
    )


def test_levels_count_only_the_used_periods_of_a_weekly_count():
    """Purchases fall from about 100 a week to about 40 for weeks 20 to 23; week 18 (in the
    before window, weeks 16 to 19) and week 22 (in the change) are unused, a caller's
    missing weeks, one with a stray partial count. Each level is the mean over used weeks."""
    rng = np.random.default_rng(2)
    count = rng.poisson(100, 30).astype("float64")
    count[20:24] = [41.0, 38.0, 0.0, 43.0]
    count[18] = 37.0  # a partial week: not to be counted
    used = np.ones(30, bool)
    used[[18, 22]] = False
    t = jl.find_changes(_weekly(count, used)).table
    assert len(t) == 1
    row = t.iloc[0]
    weeks = pd.date_range("2024-01-01", periods=30, freq="7D", tz="UTC")
    assert (row["start"], row["end"], row["before_from"]) == (weeks[20], weeks[23], weeks[16])
    assert row["before"] == pytest.approx((count[16] + count[17] + count[19]) / 3)
    assert row["during"] == pytest.approx((41 + 38 + 43) / 3)
    assert row["behind"] == 41 + 38 + 43
    assert row["periods"] == 4


def test_levels_count_only_the_used_periods_of_a_rate():
    """A conversion falling from 60% to 30% for three weeks from week 12 on 400 customers a
    week; week 10 (in the before window, weeks 8 to 11) is unused with a stray 90 of 100."""
    rate = np.where((np.arange(30) >= 12) & (np.arange(30) < 15), 0.3, 0.6)
    base = np.full(30, 400.0)
    count = 400 * rate
    count[9] = 250.0  # 62.5% in a used week of the before window
    base[10], count[10] = 100.0, 90.0
    used = np.arange(30) != 10
    t = jl.find_changes(_weekly(count, used, metric="conversion", base=base)).table
    assert len(t) == 1
    assert t.at[0, "before"] == pytest.approx((240 + 250 + 240) / 1200)
    assert t.at[0, "during"] == pytest.approx(0.3)


def test_a_daily_level_on_matched_weekdays_counts_only_used_days():
    """One Sunday at 800 where Sundays run at 500 and weekdays at 1000; one Sunday of the
    before weeks is unused (a stray 5): the spike is read against the used Sundays only."""
    rng = np.random.default_rng(1)
    days = pd.date_range("2024-01-01", periods=140, freq="D", tz="UTC")
    y = rng.poisson(np.where(days.day_of_week >= 5, 500.0, 1000.0)).astype(float)
    sundays = np.flatnonzero(days.day_of_week == 6)
    spike, missing = sundays[10], sundays[9]
    y[spike], y[missing] = 800.0, 5.0
    used = np.arange(140) != missing
    series = _weekly(y, used).assign(period=days)
    t = jl.find_changes(series, period="day").table
    assert len(t) == 1 and t.at[0, "start"] == days[spike]
    before = (days >= t.at[0, "before_from"]) & (days < days[spike]) & (days.day_of_week == 6)
    assert before.sum() == 2 and used[before].sum() == 1
    assert t.at[0, "before"] == pytest.approx(y[before & used].mean())
