"""BG/NBD, Gamma-Gamma and CLV: the published CDNOW estimates, lifetimes' own numbers,
parameters recovered from simulated buyers, direct formulas and numerical integration,
extreme inputs without warnings, and clear errors for bad input."""

import importlib.metadata
import math
import re
import warnings
from decimal import Decimal, getcontext
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from engines import ENGINES, missing, to_engine
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import integrate, special
from scipy.optimize import approx_fprime

import journey_lib as jl
from journey_lib.analytics.rfm import ATTRS_KEY as RFM_ATTRS_KEY
from journey_lib.clv import (
    PERIODS_PER_MONTH,
    BetaGeo,
    GammaGamma,
    JourneyNotFittedError,
    bgnbd_log_likelihood,
    customer_lifetime_value,
    gamma_gamma_log_likelihood,
    simulate_buyers,
    value_table,
)
from journey_lib.clv import _alive as alive_module
from journey_lib.clv import bgnbd as bgnbd_module
from journey_lib.clv import gammagamma as gammagamma_module

CDNOW = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # Fader, Hardie & Lee (2005)
CDNOW_SPEND = {"p": 6.25, "q": 3.74, "v": 15.44}  # Fader, Hardie & Lee (2005), note 025


def lifetimes_dataset(name: str) -> pd.DataFrame:
    """A CSV that the lifetimes wheel (MIT) ships, found without importing lifetimes (which
    need not import on current pandas); the test is skipped when lifetimes is absent."""
    try:
        files = importlib.metadata.files("lifetimes") or []
    except importlib.metadata.PackageNotFoundError:
        missing("the CDNOW sample ships with lifetimes (the 'dev' extra), not installed")
    for file in files:
        if file.name == name and file.parent.name == "datasets":
            return pd.read_csv(Path(file.locate()))
    missing(f"this lifetimes release does not ship datasets/{name}")


def cdnow() -> pd.DataFrame:
    """The 2,357 CDNOW customers (weeks) with their mean repeat spend, as journey_lib names
    the columns."""
    frame = lifetimes_dataset("cdnow_customers_summary_with_transactions.csv")
    return frame.rename(
        columns={"ID": "customer_id", "x": "frequency", "t_x": "recency", "zbar": "monetary_value"}
    )


def histories(*rows) -> pd.DataFrame:
    """An RFM frame from (frequency, recency, T, monetary_value) rows, ids 1, 2, ..."""
    frame = pd.DataFrame(rows, columns=["frequency", "recency", "T", "monetary_value"])
    return frame.astype("float64").assign(customer_id=range(1, len(rows) + 1))[
        ["customer_id", "frequency", "recency", "T", "monetary_value"]
    ]


# Five histories in weeks (the first CDNOW customers and two of our own) and, computed with
# lifetimes 0.11.3 at the published parameters (CDNOW, CDNOW_SPEND), their predictions.
HAND = histories(
    (0, 0, 38.86, 0),
    (1, 1.71, 38.86, 11.77),
    (2, 30.43, 38.86, 22.35),
    (5, 20, 38.86, 40.0),
    (40, 38, 38.86, 15.0),
    (0, 0, 10, 0),
)
LIFETIMES_ALIVE = [1.0, 0.212100985377, 0.726578570081, 0.287248732609, 0.958830753628, 1.0]
LIFETIMES_EXPECTED_52 = [
    0.252073022282,
    0.259823464869,
    1.558720806432,
    1.379451898717,
    33.469081351256,
    0.626437505158,
]
LIFETIMES_NEW = [0.053267891172, 0.432413362234, 1.196723193321, 4.97461786185]  # t 1, 10, 39, 520
LIFETIMES_SPEND = [35.21897810219, 18.916852057842, 24.663713910761, 39.614592527214]
LIFETIMES_CLV_W = [8.36900435892, 4.637294659747, 36.2892111256, 51.619809321693, 481.571138367587]
LIFETIMES_CLV_D = [24.598153971819, 12.75151695511, 96.391626372903, 131.233368566055]


@pytest.fixture(scope="module")
def simulated():
    """40,000 buyers observed for 1,000 to 3,000 hours: hours are short next to the gaps
    between purchases, so whole-period rounding barely moves the estimates (with days and
    alpha of 20 days it biases alpha by about 3 standard errors at this size)."""
    ages = np.random.default_rng(0).integers(1000, 3000, 40_000)
    sim = simulate_buyers(
        40_000,
        r=0.3,
        alpha=200.0,
        a=0.8,
        b=2.5,
        p=6.0,
        q=4.0,
        v=15.0,
        T=ages,
        period="hour",
        seed=5,
    )
    return sim, BetaGeo().fit(sim.summary), GammaGamma().fit(sim.summary)


# -- the published CDNOW numbers -------------------------------------------------------------


def test_cdnow_bgnbd_estimates_match_the_paper():
    model = BetaGeo().fit(cdnow())
    for name, published in CDNOW.items():
        assert round(model.params_[name], 3) == published, name
    assert round(model.log_likelihood_, 1) == -9582.4
    assert model.n_customers_ == 2357


def test_cdnow_gamma_gamma_estimates_match_the_note():
    model = GammaGamma().fit(cdnow())
    # The note prints two decimals (v = 15.44 where the optimum is 15.4477, as lifetimes
    # finds too): agreement to the last printed digit.
    for name, published in CDNOW_SPEND.items():
        assert model.params_[name] == pytest.approx(published, abs=0.01), name
    assert model.n_customers_ == 946
    assert model.log_likelihood_ == pytest.approx(-4055.9232, abs=1e-3)  # lifetimes 0.11.3


def test_penalised_fits_match_lifetimes():
    frame = cdnow()
    purchases = BetaGeo(penalizer_coef=0.1).fit(frame).params_
    spend = GammaGamma(penalizer_coef=0.01).fit(frame).params_
    # lifetimes 0.11.3, BetaGeoFitter(penalizer_coef=0.1), GammaGammaFitter(0.01)
    np.testing.assert_allclose(purchases, [0.23094707, 4.21928849, 0.12865468, 0.26712676], 1e-6)
    np.testing.assert_allclose(spend, [4.10925037, 0.96838548, 3.78080161], rtol=1e-6)


def test_predictions_match_lifetimes():
    purchases = BetaGeo.from_params(**CDNOW)
    spend = GammaGamma.from_params(**CDNOW_SPEND)
    np.testing.assert_allclose(purchases.probability_alive(HAND), LIFETIMES_ALIVE, rtol=1e-10)
    got = purchases.expected_purchases(52, HAND)
    np.testing.assert_allclose(got, LIFETIMES_EXPECTED_52, rtol=1e-9)
    new = purchases.expected_purchases_new([1, 10, 39, 520])
    np.testing.assert_allclose(new, LIFETIMES_NEW, rtol=1e-9)
    np.testing.assert_allclose(
        spend.conditional_expected_average_profit(HAND).iloc[:4], LIFETIMES_SPEND, rtol=1e-12
    )
    weekly = customer_lifetime_value(purchases, spend, HAND, period="week")
    np.testing.assert_allclose(weekly.iloc[:5], LIFETIMES_CLV_W, rtol=1e-9)
    daily = customer_lifetime_value(purchases, spend, HAND, months=6, discount_rate=0, period="day")
    np.testing.assert_allclose(daily.iloc[:4], LIFETIMES_CLV_D, rtol=1e-9)


# -- simulated buyers with known parameters --------------------------------------------------


def test_parameters_are_recovered_within_four_standard_errors(simulated):
    sim, purchases, spend = simulated
    for model in (purchases, spend):
        truth = pd.Series(sim.parameters)[model.params_.index]
        z = (model.params_ - truth) / model.standard_errors_
        assert z.abs().max() < 4, pd.DataFrame({"truth": truth, "fit": model.params_, "z": z})


def test_standard_errors_agree_with_the_spread_of_repeated_fits():
    fits = [
        BetaGeo().fit(
            simulate_buyers(
                4000, r=0.5, alpha=100.0, a=1.0, b=3.0, T=1000, period="hour", seed=s
            ).summary
        )
        for s in range(12)
    ]
    spread = pd.DataFrame([f.params_ for f in fits]).std()
    reported = pd.DataFrame([f.standard_errors_ for f in fits]).mean()
    # 12 fits estimate a standard deviation to within about 20% (two standard errors 40%).
    assert ((spread / reported).between(0.55, 1.6)).all(), pd.DataFrame(
        {"sd": spread, "se": reported}
    )


def test_probability_alive_is_calibrated(simulated):
    sim, purchases, _ = simulated
    alive = purchases.probability_alive()
    truly = sim.truth.set_index("customer_id")["alive"].reindex(alive.index)
    deciles = pd.qcut(alive.rank(method="first"), 10, labels=False)
    table = pd.DataFrame({"predicted": alive, "actual": truly}).groupby(deciles).mean()
    # about 4,000 customers per decile: a proportion's standard error is at most 0.008
    assert (table["predicted"] - table["actual"]).abs().max() < 0.03, table


def test_expected_purchases_predict_a_holdout_period():
    ages = np.random.default_rng(1).integers(1000, 3000, 20_000)
    sim = simulate_buyers(
        20_000, r=0.4, alpha=300.0, a=0.9, b=3.0, T=ages, period="hour", seed=8, events=True
    )
    end = sim.observation_end
    split = jl.calibration_holdout(
        sim.events,
        calibration_end=end - pd.Timedelta(hours=500),
        observation_end=end,
        period="hour",
    )
    calibration = split.rename(columns=lambda c: c.removesuffix("_cal"))
    model = BetaGeo().fit(calibration)
    predicted = model.expected_purchases(split["duration_holdout"].iloc[0])
    actual = split.set_index("customer_id")["frequency_holdout"]
    assert predicted.sum() == pytest.approx(actual.sum(), rel=0.05)
    # and they rank customers: the top decile by prediction buys far more than the rest
    top = predicted >= predicted.quantile(0.9)
    assert actual[top].mean() > 5 * actual[~top].mean()


@pytest.mark.parametrize("period", ["day", "week", "hour"])
def test_the_simulated_log_gives_the_simulated_summary(period):
    ages = np.random.default_rng(2).integers(0, 120, 3000)
    sim = simulate_buyers(
        3000, r=0.8, alpha=8.0, a=1.0, b=2.0, T=ages, period=period, seed=3, events=True
    )
    summary = jl.rfm(sim.events, observation_end=sim.observation_end, period=period)
    pd.testing.assert_frame_equal(summary, sim.summary, check_exact=False, rtol=1e-12)
    assert sim.events["event"].eq("purchase").all()
    assert len(sim.events) >= 3000 + sim.summary["frequency"].sum()  # every repeat period
    assert not sim.summary["frequency"].eq(0).all()


def test_simulation_is_reproducible_and_vectorised():
    a = simulate_buyers(500, r=1.0, alpha=10.0, a=1.0, b=2.0, seed=4)
    b = simulate_buyers(500, r=1.0, alpha=10.0, a=1.0, b=2.0, seed=4)
    pd.testing.assert_frame_equal(a.summary, b.summary)
    assert not simulate_buyers(500, r=1.0, alpha=10.0, a=1.0, b=2.0, seed=5).summary.equals(
        a.summary
    )


def test_simulated_customers_follow_their_distributions():
    truth = simulate_buyers(20_000, r=2.0, alpha=10.0, a=2.0, b=6.0, q=5.0, v=20.0, seed=6).truth
    # means of Gamma(2, rate 10), Beta(2, 6) and p / Gamma(5, rate 20) = 6.25 * 20 / 4
    assert truth["purchase_rate"].mean() == pytest.approx(0.2, rel=0.02)
    assert truth["dropout_probability"].mean() == pytest.approx(0.25, rel=0.02)
    assert truth["mean_spend"].mean() == pytest.approx(31.25, rel=0.02)


# -- the formulas, against direct evaluation and integration --------------------------------


@settings(max_examples=150, deadline=None)
@given(
    r=st.floats(0.05, 5),
    alpha=st.floats(0.1, 50),
    a=st.floats(0.1, 5),
    b=st.floats(0.1, 10),
    x=st.integers(0, 30),
    T=st.floats(0, 100),
    share=st.floats(0, 1),
)
def test_log_likelihood_equals_the_direct_formula(r, alpha, a, b, x, T, share):
    tx = share * T if x > 0 else 0.0
    scale = special.gamma(r + x) * alpha**r / special.gamma(r)
    direct = special.beta(a, b + x) / special.beta(a, b) * scale / (alpha + T) ** (r + x)
    if x > 0:
        direct += (
            special.beta(a + 1, b + x - 1) / special.beta(a, b) * scale / (alpha + tx) ** (r + x)
        )
    assume(np.isfinite(direct) and direct > 1e-300)
    got = bgnbd_log_likelihood([x], [tx], [T], r=r, alpha=alpha, a=a, b=b)[0]
    assert got == pytest.approx(math.log(direct), rel=1e-9, abs=1e-9)


@settings(max_examples=150, deadline=None)
@given(
    p=st.floats(0.1, 10),
    q=st.floats(0.1, 10),
    v=st.floats(0.1, 100),
    x=st.integers(1, 10),
    m=st.floats(0.1, 100),
)
def test_gamma_gamma_log_likelihood_equals_the_direct_formula(p, q, v, x, m):
    # NumPy floats: a power beyond the float range is inf (Python's raises OverflowError),
    # and such draws are left out below.
    p, q, v, m = (np.float64(a) for a in (p, q, v, m))
    with np.errstate(all="ignore"):
        direct = (
            special.gamma(p * x + q)
            / (special.gamma(p * x) * special.gamma(q))
            * v**q
            * m ** (p * x - 1)
            * x ** (p * x)
            / (v + x * m) ** (p * x + q)
        )
    assume(np.isfinite(direct) and direct > 1e-300)
    got = gamma_gamma_log_likelihood([x], [m], p=p, q=q, v=v)[0]
    assert got == pytest.approx(math.log(direct), rel=1e-9, abs=1e-9)


def test_total_log_likelihood_is_the_sum_over_customers(simulated):
    sim, purchases, spend = simulated
    s = sim.summary
    each = bgnbd_log_likelihood(s["frequency"], s["recency"], s["T"], **purchases.params_)
    assert purchases.log_likelihood_ == pytest.approx(each.sum(), rel=1e-10)
    repeat = s[s["frequency"] > 0]
    each = gamma_gamma_log_likelihood(
        repeat["frequency"], repeat["monetary_value"], **spend.params_
    )
    assert spend.log_likelihood_ == pytest.approx(each.sum(), rel=1e-10)


def _decimal_log_likelihood(x, tx, T, r, alpha, a, b) -> Decimal:
    """BG/NBD's total log-likelihood in 50-digit arithmetic, from the model's terms
    (Gamma(z + x) / Gamma(z) as a product over k < x, x whole)."""
    getcontext().prec = 50
    r, alpha, a, b = (Decimal(v) for v in (r, alpha, a, b))
    total = Decimal(0)
    for xi, txi, Ti in zip(x, tx, T, strict=True):
        xi, txi, Ti = int(xi), Decimal(txi), Decimal(Ti)
        total += r * alpha.ln() + sum(((r + k) * (b + k) / (a + b + k)).ln() for k in range(xi))
        alive = (-(r + xi) * (alpha + Ti).ln()).exp()
        dead = a / (b + xi - 1) * (-(r + xi) * (alpha + txi).ln()).exp() if xi else 0
        total += (alive + dead).ln()
    return total


@pytest.mark.parametrize("a, b", [(0.8, 2.4), (1.5e9, 4.5e9)])
def test_total_log_likelihood_keeps_its_digits_where_a_and_b_run_off(a, b):
    # Where nobody's dropout chance differs, the fit drives a and b to 1e9 and beyond
    # together; differences of gammaln there lost 1e-9 of the likelihood, enough noise to
    # stall the optimiser on the machine's last digits.
    x = np.array([0, 1, 3, 5, 12, 40])
    T = np.array([0.9, 1.0, 0.7, 0.95, 1.0, 0.99])
    tx = np.array([0.0, 0.2, 0.5, 0.9, 0.6, 0.98])
    likelihood = bgnbd_module._Likelihood(x, tx, T, np.ones(len(x)))
    got = likelihood(np.log([1.2, 1.4, a, b]))[0]
    want = _decimal_log_likelihood(x, tx, T, 1.2, 1.4, a, b)
    assert got == pytest.approx(float(want), rel=1e-13)


def test_analytic_gradients_match_finite_differences(simulated):
    sim, _, _ = simulated
    s = sim.summary.head(5000)
    bg = bgnbd_module._Likelihood(
        s["frequency"].to_numpy(),
        s["recency"].to_numpy() / 1500,
        s["T"].to_numpy() / 1500,
        np.ones(len(s)),
    )
    repeat = s[s["frequency"] > 0]
    gg = gammagamma_module._Likelihood(
        repeat["frequency"].to_numpy(), repeat["monetary_value"].to_numpy(), np.ones(len(repeat))
    )
    for likelihood, theta in [
        (bg, np.log([0.3, 0.27, 0.8, 2.5])),
        (bg, np.array([1.0, -2.0, 0.5, -0.5])),
        (gg, np.log([6.0, 4.0, 15.0])),
        (gg, np.array([0.0, 2.0, 1.0])),
    ]:
        numeric = approx_fprime(theta, lambda t, f=likelihood: f(t)[0], 1e-6)
        np.testing.assert_allclose(likelihood(theta)[1], numeric, rtol=1e-4, atol=1e-3)


def test_frequencies_beyond_the_running_sums_add_their_tail(simulated, monkeypatch):
    # The likelihood sums whole frequencies term by term up to RUNNING; above, gammaln
    # differences add the rest. With RUNNING at 3, most repeat buyers take the tail.
    sim, _, _ = simulated
    s = sim.summary.head(3000)
    monkeypatch.setattr(bgnbd_module, "RUNNING", 3)
    assert (s["frequency"] > 3).sum() > 100
    x, tx, T = (s[c].to_numpy() / d for c, d in [("frequency", 1), ("recency", 1500), ("T", 1500)])
    likelihood = bgnbd_module._Likelihood(x, tx, T, np.ones(len(s)))
    for params in ([0.3, 0.27, 0.8, 2.5], [2.7, 0.14, 1.6, 0.6]):
        theta = np.log(params)
        named = dict(zip(("r", "alpha", "a", "b"), params, strict=True))
        each = bgnbd_log_likelihood(x, tx, T, **named)
        assert likelihood(theta)[0] == pytest.approx(each.sum(), rel=1e-10)
        numeric = approx_fprime(theta, lambda t: likelihood(t)[0], 1e-6)
        np.testing.assert_allclose(likelihood(theta)[1], numeric, rtol=1e-4, atol=1e-3)


def _integrated_expectation(params, t, x, tx, T):
    """E[purchases in (T, T + t] | x, t_x, T] by integrating over p numerically, lambda in
    closed form (gamma integrals), straight from the model: the alive branch of the
    likelihood times 1/p (1 - e^(-lambda p t)), over the whole likelihood."""
    r, alpha, a, b = params
    c = np.exp(special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha))

    def alive(p):
        return (1 - p) ** x * c * (alpha + T) ** -(r + x)

    def future(p):
        if p == 0:  # the limit: a customer who never drops out
            return c * (r + x) * t * (alpha + T) ** -(r + x + 1)
        gone = (alpha + T) ** -(r + x) - (alpha + T + p * t) ** -(r + x)
        return (1 - p) ** x * c * gone / p

    def likelihood(p):
        dead = p * (1 - p) ** (x - 1) * c * (alpha + tx) ** -(r + x) if x > 0 else 0.0
        return alive(p) + dead

    def over_p(f):
        return integrate.quad(f, 0, 1, weight="alg", wvar=(a - 1, b - 1), limit=200)[0]

    return over_p(future) / over_p(likelihood)


@pytest.mark.parametrize(
    ("params", "t", "history"),
    [
        (tuple(CDNOW.values()), 52.0, (0, 0, 38.86)),
        (tuple(CDNOW.values()), 52.0, (2, 30.43, 38.86)),
        (tuple(CDNOW.values()), 10.0, (7, 12.0, 38.86)),
        ((2.0, 30.0, 1.5, 6.0), 365.0, (12, 300.0, 320.0)),
        # beyond SciPy's hyp2f1 (NaN there): the quadrature fallback
        ((0.5, 10.0, 1.5, 1000.0), 360.0, (0, 0, 0)),
        ((0.5, 10.0, 1.0, 20.0), 100.0, (3, 40.0, 50.0)),  # a = 1: the closed form is 0/0
    ],
)
def test_expected_purchases_match_numerical_integration(params, t, history):
    x, tx, T = history
    model = BetaGeo.from_params(**dict(zip(["r", "alpha", "a", "b"], params, strict=True)))
    got = model.expected_purchases(t, histories((x, tx, T, 0))).iloc[0]
    assert got == pytest.approx(_integrated_expectation(params, t, x, tx, T), rel=1e-7)


def test_expected_purchases_beyond_scipy_match_closed_form_in_the_limit():
    # With the closed form valid (z just below where SciPy fails), the fallback agrees.
    r, alpha, a, b = 0.5, 10.0, 1.5, 1000.0
    t, x, T = np.array([300.0, 200.0]), np.array([0.0, 5.0]), np.array([0.0, 3.0])
    closed = alive_module.purchases_if_alive(r, alpha, a, b, t, x, T)
    quadrature = alive_module.purchases_if_alive_quadrature(r, alpha, a, b, t, x, T)
    np.testing.assert_allclose(quadrature, closed, rtol=1e-9)


def test_probability_alive_is_one_without_a_repeat_purchase():
    model = BetaGeo.from_params(**CDNOW)
    frame = histories((0, 0, 0, 0), (0, 0, 52, 0), (0, 0, 1e6, 0))
    assert model.probability_alive(frame).eq(1.0).all()


@settings(max_examples=120, deadline=None)
@given(
    r=st.floats(1e-3, 100),
    alpha=st.floats(1e-3, 1e4),
    a=st.floats(0.02, 50),
    b=st.floats(0.02, 1e5),
    x=st.integers(0, 10_000),
    T=st.floats(0, 20_000),
    share=st.floats(0, 1),
    t=st.floats(0, 1e5),
)
def test_predictions_stay_within_their_bounds(r, alpha, a, b, x, T, share, t):
    model = BetaGeo.from_params(r=r, alpha=alpha, a=a, b=b)
    frame = histories((x, share * T if x else 0.0, T, 0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        alive = model.probability_alive(frame).iloc[0]
        now, later = (model.expected_purchases(w, frame).iloc[0] for w in (t, 2 * t))
    assert 0 <= alive <= 1
    # Equal, to rounding, once purchases saturate; computed in log space, a value near 1e-160
    # (a customer long gone) carries a relative rounding error of about 1e-11.
    assert 0 <= now <= later * (1 + 1e-9)
    # no more than a customer who never drops out would buy
    assert now <= (r + x) * t / (alpha + T) * (1 + 1e-9) + 1e-12


def test_extreme_histories_raise_no_warning():
    frame = histories(
        (5000, 9999, 10_000, 80.0),
        (5000, 10, 10_000, 1.5),
        (0, 0, 10_000, 0),
        (1, 10_000, 10_000, 5.0),
        (3000, 5000, 10_000, 20.0),
        (2, 0.5, 10_000, 1.0),
        (10_000, 10_000, 10_000, 3.0),
        *[(k % 7, k % 5 + (k % 7 > 0), 50 + k % 30, 10.0 + k % 13) for k in range(200)],
    )
    frame.loc[frame["frequency"] == 0, ["recency", "monetary_value"]] = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        purchases = BetaGeo().fit(frame)
        spend = GammaGamma().fit(frame)
        values = [
            purchases.probability_alive(),
            purchases.expected_purchases(30),
            purchases.expected_purchases(1e6),
            spend.conditional_expected_average_profit(),
            customer_lifetime_value(purchases, spend, frame, months=120, period="day"),
            pd.Series(
                bgnbd_log_likelihood(frame["frequency"], frame["recency"], frame["T"], **CDNOW)
            ),
        ]
    for series in values:
        assert np.isfinite(series.to_numpy()).all()


# -- Gamma-Gamma and CLV ---------------------------------------------------------------------


def test_expected_spend_shrinks_each_mean_towards_the_population():
    model = GammaGamma.from_params(**CDNOW_SPEND)
    frame = histories((0, 0, 10, 0), (1, 5, 10, 100.0), (50, 9, 10, 100.0), (3, 5, 10, 1.0))
    spend = model.conditional_expected_average_profit(frame)
    population = 6.25 * 15.44 / (3.74 - 1)
    assert model.mean_spend_ == pytest.approx(population)
    assert spend[1] == pytest.approx(population)  # no repeat purchase: the population mean
    assert population < spend[2] < spend[3] < 100  # more purchases, more weight on their own
    assert 1 < spend[4] < population
    weight = 6.25 * 3 / (6.25 * 3 + 3.74 - 1)
    assert spend[4] == pytest.approx(weight * 1.0 + (1 - weight) * population)


def test_lifetime_value_is_the_discounted_sum_of_monthly_purchases():
    purchases = BetaGeo.from_params(**CDNOW)
    spend = GammaGamma.from_params(**CDNOW_SPEND)
    expected_spend = spend.conditional_expected_average_profit(HAND)
    one = customer_lifetime_value(purchases, spend, HAND, months=1, discount_rate=0, period="week")
    pd.testing.assert_series_equal(
        one, (purchases.expected_purchases(4.345, HAND) * expected_spend).rename("clv")
    )
    undiscounted = customer_lifetime_value(purchases, spend, HAND, discount_rate=0, period="week")
    pd.testing.assert_series_equal(
        undiscounted,
        (purchases.expected_purchases(12 * 4.345, HAND) * expected_spend).rename("clv"),
    )
    discounted = customer_lifetime_value(purchases, spend, HAND, period="week")
    assert (discounted < undiscounted).all()
    assert (
        customer_lifetime_value(purchases, spend, HAND, months=24, period="week") > discounted
    ).all()
    assert PERIODS_PER_MONTH == {"hour": 720.0, "day": 30.0, "week": 4.345}


def test_lifetime_value_reads_the_time_unit_rfm_recorded():
    sim = simulate_buyers(
        800, r=0.8, alpha=8.0, a=1.0, b=2.0, T=90, period="week", seed=3, events=True
    )
    weekly = jl.rfm(sim.events, observation_end=sim.observation_end, period="week")
    purchases, spend = BetaGeo().fit(weekly), GammaGamma().fit(weekly)
    by_record = customer_lifetime_value(purchases, spend, weekly)
    pd.testing.assert_series_equal(
        by_record, customer_lifetime_value(purchases, spend, weekly.copy(), period="week")
    )
    built = r"built by journey_lib\.rfm with period='week'"
    with pytest.raises(jl.JourneyParameterError, match=built):
        customer_lifetime_value(purchases, spend, weekly, period="day")
    with pytest.raises(jl.JourneyParameterError, match=built):
        value_table(purchases, spend, weekly, period="hour")
    # pandas' code names the same period; a frame recorded under the former key still reads
    pd.testing.assert_series_equal(
        customer_lifetime_value(purchases, spend, weekly, period="W"), by_record
    )
    former = weekly.copy()
    # The key is the one earlier releases wrote, so their saved frames keep their period.
    assert RFM_ATTRS_KEY == "journey_lib.rfm"
    former.attrs = {"journey_lib.rfm": {"freq": "W"}}
    pd.testing.assert_series_equal(customer_lifetime_value(purchases, spend, former), by_record)
    with pytest.raises(jl.JourneyParameterError, match=built):
        customer_lifetime_value(purchases, spend, former, period="D")


def test_freq_still_works_for_a_release_and_says_what_to_write():
    purchases = BetaGeo.from_params(**CDNOW)
    spend = GammaGamma.from_params(**CDNOW_SPEND)
    weekly = customer_lifetime_value(purchases, spend, HAND, period="week")
    instead = re.escape("write period='week' instead of freq='W'")
    with pytest.warns(DeprecationWarning, match=instead):
        pd.testing.assert_series_equal(
            customer_lifetime_value(purchases, spend, HAND, freq="W"), weekly
        )
    with pytest.warns(DeprecationWarning, match=instead):
        table = value_table(purchases, spend, HAND, freq="W")
    pd.testing.assert_series_equal(
        table.set_index("customer_id")["clv"], weekly.loc[table["customer_id"]], check_names=False
    )
    with pytest.warns(
        DeprecationWarning, match=re.escape("write period='hour' instead of freq='h'")
    ):
        old = simulate_buyers(50, r=0.8, alpha=8.0, a=1.0, b=2.0, T=30, freq="h", seed=3)
    new = simulate_buyers(50, r=0.8, alpha=8.0, a=1.0, b=2.0, T=30, period="hour", seed=3)
    pd.testing.assert_frame_equal(old.summary, new.summary)
    assert new.period == "hour" and new.observation_end == pd.Timestamp("2025-01-01", tz="UTC")
    with pytest.warns(DeprecationWarning, match=r"read \.period"):
        assert new.freq == "hour"
    with pytest.warns(DeprecationWarning), pytest.raises(jl.JourneyParameterError, match="both"):
        customer_lifetime_value(purchases, spend, HAND, period="day", freq="W")


def test_value_table_puts_each_prediction_beside_the_history():
    purchases = BetaGeo.from_params(**CDNOW)
    spend = GammaGamma.from_params(**CDNOW_SPEND)
    table = value_table(purchases, spend, HAND, months=6, period="week").set_index("customer_id")
    assert table["clv"].is_monotonic_decreasing
    by_id = HAND.set_index("customer_id")
    pd.testing.assert_frame_equal(
        table[["frequency", "recency", "T", "monetary_value"]], by_id.loc[table.index]
    )
    for column, want in {
        "probability_alive": purchases.probability_alive(HAND),
        "expected_purchases": purchases.expected_purchases(6 * 4.345, HAND),
        "expected_spend": spend.conditional_expected_average_profit(HAND),
        "clv": customer_lifetime_value(purchases, spend, HAND, months=6, period="week"),
    }.items():
        np.testing.assert_allclose(table[column], want.loc[table.index], err_msg=column)


@pytest.mark.parametrize("engine", ENGINES)
def test_every_engine_gives_the_pandas_answers(engine, simulated):
    sim, purchases, spend = simulated
    summary = sim.summary.head(3000)
    native = to_engine(summary, engine)
    want = customer_lifetime_value(purchases, spend, summary, period="hour")
    got = customer_lifetime_value(purchases, spend, native, period="hour")
    pd.testing.assert_series_equal(got, want)
    refit = BetaGeo().fit(native)
    pd.testing.assert_series_equal(refit.params_, BetaGeo().fit(summary).params_)


def test_predictions_are_indexed_by_customer_in_frame_order():
    frame = histories((2, 30.43, 38.86, 22.35), (0, 0, 38.86, 0)).assign(customer_id=["b", "a"])
    model = BetaGeo.from_params(**CDNOW)
    alive = model.probability_alive(frame)
    assert alive.index.tolist() == ["b", "a"]
    assert alive.index.name == "customer_id"
    assert alive.name == "probability_alive"


def test_penalizer_shrinks_the_parameters():
    frame = cdnow()
    plain = BetaGeo().fit(frame).params_
    shrunk = BetaGeo(penalizer_coef=0.1).fit(frame).params_
    assert (shrunk**2).sum() < (plain**2).sum()


# -- bad input -------------------------------------------------------------------------------


GOOD = histories((2, 30.0, 38.0, 22.0), (0, 0, 38.0, 0), (1, 5.0, 20.0, 10.0))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop(columns="recency"), r"lacks column\(s\) \['recency'\]"),
        (lambda f: f.iloc[:0], "is empty"),
        (
            lambda f: f.assign(T=[38.0, np.nan, 20.0]),
            r"'T' is missing or infinite for 1 customer, e\.g\. customer_id 2",
        ),
        (lambda f: f.assign(T=[38.0, np.inf, 20.0]), "'T' is missing or infinite"),
        (
            lambda f: f.assign(recency=[30.0, 0, -1.0]),
            r"'recency' is negative for 1 customer, e\.g\. customer_id 3 \(recency -1\)",
        ),
        (
            lambda f: f.assign(recency=[39.0, 0, 21.0]),
            r"greater than 'T'.* for 2 customers, e\.g\. customer_id 1 \(recency 39, T 38\)",
        ),
        (
            lambda f: f.assign(frequency=[2.5, 0, 1]),
            r"'frequency' is not a whole number .* customer_id 1 \(frequency 2\.5\)",
        ),
        (
            lambda f: f.assign(recency=[30.0, 4.0, 5.0]),
            r"'recency' is positive while 'frequency' is 0 .* customer_id 2",
        ),
        (
            lambda f: f.assign(customer_id=[1, 1, 3]),
            r"'customer_id' repeats .* for 2 customers, e\.g\. customer_id 1",
        ),
        (lambda f: f.assign(customer_id=[1.0, np.nan, 3.0]), "'customer_id' is missing"),
        (lambda f: f.assign(T=["38", "38", "20"]), "'T' is .*, not numeric"),
    ],
)
def test_bad_histories_raise_clear_errors(change, message):
    with pytest.raises(jl.JourneyDataError, match=message):
        BetaGeo().fit(change(GOOD))
    with pytest.raises(jl.JourneyDataError, match=message):
        BetaGeo.from_params(**CDNOW).expected_purchases(10, change(GOOD))


@pytest.mark.parametrize("spend", [0.0, -5.0])
def test_zero_or_negative_spend_of_a_repeat_buyer_is_named(spend):
    frame = GOOD.assign(monetary_value=[22.0, 0.0, spend])
    expected = (
        r"'monetary_value' is zero or negative .* for 1 customer, "
        rf"e\.g\. customer_id 3 \(frequency 1, monetary_value {spend:g}\)"
    )
    with pytest.raises(jl.JourneyDataError, match=expected):
        GammaGamma().fit(frame)
    with pytest.raises(jl.JourneyDataError, match=expected):
        GammaGamma.from_params(**CDNOW_SPEND).conditional_expected_average_profit(frame)


def test_nobody_bought_twice():
    frame = GOOD.assign(frequency=0.0, recency=0.0, monetary_value=0.0)
    with pytest.raises(jl.JourneyDataError, match=r"no customer .* has a repeat purchase"):
        BetaGeo().fit(frame)
    with pytest.raises(jl.JourneyDataError, match=r"no customer .* has a repeat purchase"):
        GammaGamma().fit(frame)
    # ... but such customers are scored: alive for sure, spending the population mean
    assert BetaGeo.from_params(**CDNOW).probability_alive(frame).eq(1).all()
    spend = GammaGamma.from_params(**CDNOW_SPEND).conditional_expected_average_profit(frame)
    assert spend.eq(6.25 * 15.44 / 2.74).all()


def test_data_that_cannot_determine_the_parameters_is_warned_about():
    # Everyone bought in the last period: no sign of dropout, p -> 0.
    frame = pd.DataFrame(
        {"customer_id": range(200), "frequency": np.arange(200) % 20 + 1.0, "recency": 50.0}
    ).assign(T=50.0)
    with pytest.warns(jl.JourneyDataWarning, match="the likelihood is flat"):
        model = BetaGeo().fit(frame)
    assert model.standard_errors_.isna().all()
    assert model.probability_alive().gt(0.999).all()


def test_no_time_observed():
    frame = histories((1, 0, 0, 5.0), (0, 0, 0, 0))
    with pytest.raises(jl.JourneyDataError, match=r"every customer .* has T = 0"):
        BetaGeo().fit(frame)


def test_infinite_population_spend_is_an_error_not_nan():
    model = GammaGamma.from_params(p=6.25, q=0.9, v=15.44)
    assert model.mean_spend_ == np.inf
    with pytest.raises(jl.JourneyDataError, match=r"q = 0\.9 .* for 1 customers.* customer_id 2"):
        model.conditional_expected_average_profit(GOOD)


def test_unfitted_models_say_so():
    for model in (BetaGeo(), GammaGamma()):
        assert not hasattr(model, "params_")
        with pytest.raises(JourneyNotFittedError, match=r"not fitted yet; call \w+\(\)\.fit"):
            _ = model.params_
        assert issubclass(JourneyNotFittedError, jl.JourneyError)
    with pytest.raises(JourneyNotFittedError):
        BetaGeo().probability_alive(GOOD)
    with pytest.raises(JourneyNotFittedError):
        BetaGeo().expected_purchases_new(10)
    with pytest.raises(JourneyNotFittedError):
        GammaGamma().conditional_expected_average_profit(GOOD)
    with pytest.raises(JourneyNotFittedError):
        customer_lifetime_value(BetaGeo(), GammaGamma.from_params(**CDNOW_SPEND), GOOD)
    with pytest.raises(
        jl.JourneyParameterError, match=r"made from parameters .* pass the rfm_frame"
    ):
        BetaGeo.from_params(**CDNOW).probability_alive()
    assert repr(BetaGeo()) == "BetaGeo(penalizer_coef=0)"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m, g: m.expected_purchases(-1), "t must be a number of periods >= 0"),
        (lambda m, g: m.expected_purchases("52"), "t must be a number of periods >= 0"),
        (lambda m, g: m.expected_purchases_new([1, np.nan]), "t must be finite and >= 0"),
        (
            lambda m, g: customer_lifetime_value(m, g, GOOD, months=0),
            "months must be a whole number",
        ),
        (
            lambda m, g: customer_lifetime_value(m, g, GOOD, months=1.5),
            "months must be a whole number",
        ),
        (
            lambda m, g: customer_lifetime_value(m, g, GOOD, discount_rate=-1),
            "discount_rate is per month",
        ),
        (lambda m, g: customer_lifetime_value(m, g, GOOD, period="M"), "period must be one of"),
        (lambda m, g: customer_lifetime_value(g, m, GOOD), "takes a BetaGeo and a GammaGamma"),
        (lambda m, g: BetaGeo(penalizer_coef=-1), "penalizer_coef must be a number >= 0"),
        (lambda m, g: BetaGeo.from_params(r=0, alpha=1, a=1, b=1), "r must be a positive number"),
        (lambda m, g: simulate_buyers(0, r=1, alpha=1, a=1, b=1), "n must be a whole number"),
        (lambda m, g: simulate_buyers(5, r=1, alpha=-1, a=1, b=1), "alpha must be a positive"),
        (lambda m, g: simulate_buyers(5, r=1, alpha=1, a=1, b=1, T=[1, 2]), "T must be one whole"),
        (lambda m, g: simulate_buyers(5, r=1, alpha=1, a=1, b=1, T=2.5), "T must be one whole"),
        (
            lambda m, g: simulate_buyers(5, r=1, alpha=1, a=1, b=1, period="month"),
            r"period must be one of 'hour', 'day', 'week' \(or pandas' .*; got 'month'",
        ),
    ],
)
def test_bad_arguments_raise_clear_errors(call, message):
    purchases = BetaGeo.from_params(**CDNOW)
    spend = GammaGamma.from_params(**CDNOW_SPEND)
    with pytest.raises(jl.JourneyParameterError, match=message):
        call(purchases, spend)


def test_a_search_stalled_away_from_the_optimum_is_an_error():
    # The likelihood peaks at theta = 1, but the gradient given points away from it: the
    # line search stalls at once, and a step along a parameter does better, so the stall
    # is no optimum and the fit says so.
    from journey_lib.clv._common import maximise
    from journey_lib.errors import JourneyError

    def misleading(theta):
        return -float(np.sum((theta - 1) ** 2)), 2 * (theta - 1)

    with pytest.raises(JourneyError, match="did not converge"):
        maximise(
            misleading, np.zeros(2), ("a", "b"), customers=1.0, penalizer_coef=0.0, model="Toy"
        )
