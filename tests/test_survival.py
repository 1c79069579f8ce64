"""Time to churn (journey_lib.survival): curves and the log-rank test by hand, against a
brute-force loop and statsmodels; the rossi data's published Cox coefficients and lifelines'
figures on it (tests/reference/README.md says how they were made); every engine alike;
clear errors for bad input."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from engines import ENGINES, to_engine
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm
from statsmodels.duration.hazard_regression import PHReg
from statsmodels.duration.survfunc import SurvfuncRight, survdiff

import journey_lib as jl
from journey_lib.survival import (
    CoxModel,
    concordance,
    kaplan_meier,
    logrank_test,
    simulate_lifetimes,
)
from journey_lib.survival.cox import _schoenfeld

ROSSI = pd.read_csv(Path(__file__).parent / "reference" / "rossi.csv")
FEATURES = ["fin", "age", "race", "wexp", "mar", "paro", "prio"]
WEEKS = [10, 20, 30, 40, 52]
Z = norm.ppf(0.975)


def small() -> pd.DataFrame:
    return pd.DataFrame({"duration": [2, 3, 3, 5, 5, 8], "churned": [1, 1, 0, 1, 0, 1]})


# -- curves by hand --------------------------------------------------------------------


def test_kaplan_meier_and_nelson_aalen_by_hand():
    table = kaplan_meier(small()).table
    assert table["time"].tolist() == [2, 3, 5, 8]
    assert table["at_risk"].tolist() == [6, 5, 3, 1]
    assert table["events"].tolist() == [1, 1, 1, 1]
    assert table["censored"].tolist() == [0, 1, 1, 0]
    s = [5 / 6, 5 / 6 * 4 / 5, 5 / 6 * 4 / 5 * 2 / 3, 0.0]
    np.testing.assert_allclose(table["survival"], s)
    h = np.cumsum([1 / 6, 1 / 5, 1 / 3, 1 / 1])
    np.testing.assert_allclose(table["cumulative_hazard"], h)
    # Greenwood at time 3 and its log(-log) interval, written out.
    greenwood = 1 / (6 * 5) + 1 / (5 * 4)
    sigma = np.sqrt(greenwood) / abs(np.log(s[1]))
    row = table.iloc[1]
    assert row["survival_low"] == pytest.approx(s[1] ** np.exp(Z * sigma))
    assert row["survival_high"] == pytest.approx(s[1] ** np.exp(-Z * sigma))
    assert row["survival_low"] < s[1] < row["survival_high"]
    # Nelson-Aalen's interval on log H, variance sum d / n^2.
    var = 1 / 36 + 1 / 25
    assert row["hazard_low"] == pytest.approx(h[1] * np.exp(-Z * np.sqrt(var) / h[1]))
    # No one is left after the last churn: no interval at S = 0.
    assert np.isnan(table["survival_low"].iloc[-1])


def test_median_restricted_mean_and_conditional_by_hand():
    km = kaplan_meier(small())
    # S: 1 to t=2, 5/6 to 3, 2/3 to 5, 4/9 to 8, then 0.
    assert km.median()["median"].item() == 5
    mean = km.restricted_mean(6)
    assert mean["mean"].item() == pytest.approx(2 * 1 + 1 * 5 / 6 + 2 * 2 / 3 + 1 * 4 / 9)
    # Its variance by the formula: the area after each churn time squared, weighted.
    after = {2: 1 * 5 / 6 + 2 * 2 / 3 + 1 * 4 / 9, 3: 2 * 2 / 3 + 4 / 9, 5: 4 / 9}
    var = after[2] ** 2 / (6 * 5) + after[3] ** 2 / (5 * 4) + after[5] ** 2 / (3 * 2)
    assert mean["se"].item() == pytest.approx(np.sqrt(var))
    cond = km.conditional(3, 3)
    # Of the customers there after 3 (3 at risk at 5), 2/3 are still there at 6.
    assert cond["at_risk"].item() == 3
    assert cond["survival"].item() == pytest.approx(2 / 3)
    assert cond["low"].item() < 2 / 3 < cond["high"].item()
    at = km.survival_at([0, 2, 2.5, 100])
    np.testing.assert_allclose(at["survival"], [1, 5 / 6, 5 / 6, 0])


def test_restricted_mean_is_the_mean_lifetime_without_censoring():
    # No censoring before week 40: the restricted mean is the mean of min(week, 40), and
    # its standard error the spread of those over sqrt(n) (lifelines gives their variance).
    clipped = ROSSI["week"].clip(upper=40)
    mean = kaplan_meier(ROSSI, duration="week", observed="arrest").restricted_mean(40)
    assert mean["mean"].item() == pytest.approx(clipped.mean())
    assert mean["mean"].item() == pytest.approx(36.5486111111111)
    assert mean["se"].item() == pytest.approx(clipped.std(ddof=0) / np.sqrt(len(ROSSI)))
    # lifelines integrates numerically: its variance agrees to its quadrature's accuracy.
    assert mean["se"].item() == pytest.approx(np.sqrt(72.32812205671121 / len(ROSSI)), rel=1e-4)


def naive_km(durations, observed):
    """One loop over the distinct times: at risk, churned, the product."""
    times, survival, s = [], [], 1.0
    for t in sorted(set(durations)):
        n = sum(d >= t for d in durations)
        d = sum(1 for x, e in zip(durations, observed, strict=True) if x == t and e)
        s *= 1 - d / n
        times.append(t)
        survival.append(s)
    return times, survival


lifetimes = st.lists(
    st.tuples(st.integers(0, 30), st.booleans(), st.sampled_from("ab")), min_size=2, max_size=60
)


@settings(max_examples=60, deadline=None)
@given(lifetimes)
def test_curves_equal_a_loop_and_statsmodels(rows):
    frame = pd.DataFrame(rows, columns=["duration", "churned", "plan"])
    curves = kaplan_meier(frame, by="plan").table
    for plan, block in frame.groupby("plan"):
        got = curves[curves["plan"] == plan]
        times, survival = naive_km(block["duration"].tolist(), block["churned"].tolist())
        assert got["time"].tolist() == times
        np.testing.assert_allclose(got["survival"], survival, atol=1e-12)
        if block["churned"].any():
            sm = SurvfuncRight(block["duration"], block["churned"].astype(float))
            ours = got.set_index("time").loc[sm.surv_times]
            np.testing.assert_allclose(ours["survival"], sm.surv_prob, atol=1e-12)
            finite = np.isfinite(sm.surv_prob_se) & (sm.surv_prob > 0)
            greenwood_se = sm.surv_prob_se[finite]
            # Greenwood's standard error, from the interval's own variance.
            s = ours["survival"].to_numpy()[finite]
            low = ours["survival_low"].to_numpy()[finite]
            inner = s < 1
            sigma = np.log(np.log(low[inner]) / np.log(s[inner])) / Z
            np.testing.assert_allclose(
                sigma * np.abs(np.log(s[inner])) * s[inner], greenwood_se[inner], rtol=1e-9
            )


@settings(max_examples=60, deadline=None)
@given(lifetimes)
def test_logrank_equals_statsmodels(rows):
    frame = pd.DataFrame(rows, columns=["duration", "churned", "plan"])
    if frame["plan"].nunique() < 2 or not frame["churned"].any():
        return
    test = logrank_test(frame, by="plan")
    assert test.table["observed"].sum() == frame["churned"].sum()
    assert test.table["expected"].sum() == pytest.approx(frame["churned"].sum())
    if test.dof < frame["plan"].nunique() - 1:
        return  # a segment no one was at risk in at a churn: statsmodels' solve fails
    statistic, p = survdiff(frame["duration"], frame["churned"].astype(float), frame["plan"])
    if np.isfinite(statistic):
        assert test.statistic == pytest.approx(statistic, rel=1e-9, abs=1e-9)
        assert test.p_value == pytest.approx(p, rel=1e-9, abs=1e-12)


def test_logrank_on_three_segments_by_hand():
    # Two churn times, three segments: O - E and the covariance written out.
    frame = pd.DataFrame(
        {"duration": [1, 2, 2, 1, 3, 2], "churned": [1, 1, 0, 1, 0, 1], "s": list("aabbcc")}
    )
    test = logrank_test(frame, by="s")
    # t=1: at risk a2 b2 c2 (n 6), 2 churn; t=2: a1 b1 c2 (n 4), 2 churn.
    expected = np.array([2 * 2 / 6 + 2 * 1 / 4, 2 * 2 / 6 + 2 * 1 / 4, 2 * 2 / 6 + 2 * 2 / 4])
    np.testing.assert_allclose(test.table["expected"], expected)
    np.testing.assert_allclose(test.table["observed"], [2, 1, 1])
    v = np.zeros((3, 3))
    for n, d, at in ((6, 2, np.array([2, 2, 2])), (4, 2, np.array([1, 1, 2]))):
        p = at / n
        v += d * (n - d) / (n - 1) * (np.diag(p) - np.outer(p, p))
    diff = (np.array([2, 1, 1]) - expected)[:2]
    assert test.statistic == pytest.approx(diff @ np.linalg.solve(v[:2, :2], diff))
    assert test.dof == 2


# -- rossi: lifelines' figures -----------------------------------------------------------


def test_rossi_curves_equal_lifelines():
    km = kaplan_meier(ROSSI, duration="week", observed="arrest")
    at = km.survival_at(WEEKS)
    np.testing.assert_allclose(
        at["survival"],
        [0.965277777777, 0.907407407407, 0.861111111111, 0.803240740740, 0.736111111111],
        rtol=1e-10,
    )
    np.testing.assert_allclose(
        at["survival_low"],
        [
            0.9430645979599901,
            0.8759221434338968,
            0.8247865403695618,
            0.762528331317315,
            0.6918597157964872,
        ],
        rtol=1e-10,
    )
    np.testing.assert_allclose(
        at["survival_high"],
        [
            0.9789209970666007,
            0.9312168840876465,
            0.8904078160671426,
            0.8377250903287208,
            0.7750631833746743,
        ],
        rtol=1e-10,
    )
    hazard = km.table.set_index("time")["cumulative_hazard"].reindex(WEEKS, method="ffill")
    np.testing.assert_allclose(
        hazard,
        [
            0.035236326111094216,
            0.09683569139849055,
            0.1490260707749334,
            0.21830365418594205,
            0.3051275337204023,
        ],
        rtol=1e-10,
    )


def test_median_interval_equals_lifelines():
    i = np.arange(60)
    frame = pd.DataFrame({"duration": (i * 37) % 50 + 1, "churned": (i % 4 != 0).astype(int)})
    median = kaplan_meier(frame).median()
    assert median[["median", "low", "high"]].iloc[0].tolist() == [30.0, 20.0, 38.0]
    mean = kaplan_meier(frame).restricted_mean(30)
    assert mean["mean"].item() == pytest.approx(22.04337981622466, rel=1e-10)


def test_rossi_logrank_equals_lifelines():
    frame = ROSSI.assign(prior=ROSSI["prio"].clip(upper=3))
    test = logrank_test(frame, by="prior", duration="week", observed="arrest")
    assert test.statistic == pytest.approx(13.58387092049222, rel=1e-10)
    assert test.p_value == pytest.approx(0.00352994474469132, rel=1e-8)
    assert test.dof == 3


def test_rossi_cox_gives_the_published_coefficients():
    model = CoxModel().fit(ROSSI, duration="week", observed="arrest")
    published = {
        "fin": -0.379,
        "age": -0.057,
        "race": 0.314,
        "wexp": -0.150,
        "mar": -0.434,
        "paro": -0.085,
        "prio": 0.091,
    }
    assert model.coef_.round(3).to_dict() == published
    lifelines_se = {
        "fin": 0.19137948069828947,
        "age": 0.021999470362241924,
        "race": 0.30799277660836105,
        "wexp": 0.21222429637584317,
        "mar": 0.3818680570853933,
        "paro": 0.1957566718758514,
        "prio": 0.028648549895298747,
    }
    np.testing.assert_allclose(model.summary_["se"], pd.Series(lifelines_se)[FEATURES], rtol=1e-7)
    summary = model.summary_.loc["fin"]
    assert summary["hazard_ratio"] == pytest.approx(np.exp(summary["coef"]))
    assert summary["low"] == pytest.approx(np.exp(summary["coef"] - Z * summary["se"]))
    assert summary["p"] == pytest.approx(2 * norm.sf(abs(summary["coef"] / summary["se"])))
    assert model.concordance_ == pytest.approx(0.6403292470997135, rel=1e-12)
    # Breslow's baseline at the mean features.
    np.testing.assert_allclose(
        model._baseline_at(np.array(WEEKS, dtype=float)),
        [
            0.029884615598075533,
            0.08377492157225198,
            0.13021340582993748,
            0.19351083598248892,
            0.2743728376430713,
        ],
        rtol=1e-8,
    )


def test_rossi_proportional_hazards_check_equals_lifelines():
    model = CoxModel().fit(ROSSI, duration="week", observed="arrest")
    km = model.check_proportional_hazards()
    lifelines_km = {
        "age": 11.03029383647919,
        "fin": 0.019130026636667626,
        "mar": 0.6008741780213085,
        "paro": 0.11572096517726978,
        "prio": 0.022545537329335487,
        "race": 1.4374561467404292,
        "wexp": 7.475471350548018,
    }
    np.testing.assert_allclose(km["statistic"], pd.Series(lifelines_km)[FEATURES], rtol=1e-6)
    identity = model.check_proportional_hazards("identity")
    assert identity.loc["age", "statistic"] == pytest.approx(12.061382648592348, rel=1e-6)
    # Age's effect changes over time (the known violation in these data); fin's does not.
    assert km.loc["age", "p"] < 0.001 < km.loc["fin", "p"]


def test_rossi_penalised_fit_equals_lifelines():
    model = CoxModel(penalizer=0.1).fit(ROSSI, duration="week", observed="arrest")
    lifelines = {
        "fin": -0.2733417235163937,
        "age": -0.03599486919502783,
        "race": 0.20320647036749404,
        "wexp": -0.2017787261856531,
        "mar": -0.3132258560630239,
        "paro": -0.05786291789356591,
        "prio": 0.07084992011668373,
    }
    # lifelines stops its Newton steps at a looser tolerance than ours.
    np.testing.assert_allclose(model.coef_, pd.Series(lifelines)[FEATURES], atol=5e-4)
    lifelines_se = {
        "fin": 0.1608421806575084,
        "age": 0.015390569529790748,
        "race": 0.2500536570677208,
        "wexp": 0.17028127997478867,
        "mar": 0.2795309874943738,
        "paro": 0.16526816966950342,
        "prio": 0.025708526989348997,
    }
    np.testing.assert_allclose(model.summary_["se"], pd.Series(lifelines_se)[FEATURES], atol=5e-4)
    plain = CoxModel().fit(ROSSI, duration="week", observed="arrest")
    assert (model.coef_.abs() < plain.coef_.abs()).sum() >= 6  # shrunk toward 0


def test_schoenfeld_residuals_sum_to_the_score():
    # At Efron's maximum the score is zero, and it is the sum of the Schoenfeld residuals.
    model = CoxModel().fit(ROSSI, duration="week", observed="arrest")
    x = ROSSI[FEATURES].to_numpy(float)
    residuals = _schoenfeld(
        ROSSI["week"].to_numpy(float),
        ROSSI["arrest"].to_numpy(float),
        x - x.mean(axis=0),
        model.coef_.to_numpy(),
    )
    np.testing.assert_allclose(residuals.sum(axis=0), 0, atol=1e-6)
    beta = model.coef_.to_numpy() + 0.05
    off = _schoenfeld(ROSSI["week"].to_numpy(float), ROSSI["arrest"].to_numpy(float), x, beta)
    score = PHReg(ROSSI["week"], x, status=ROSSI["arrest"], ties="efron").score(beta)
    np.testing.assert_allclose(off.sum(axis=0), score, rtol=1e-8)


# -- Cox on planted effects, scoring ----------------------------------------------------


def test_cox_recovers_planted_hazard_ratios():
    # Hazard 0.01 a day times exp(0.5 x - 0.7 [plan b] + 0.4 [plan c]) (simulate_lifetimes).
    model = CoxModel().fit(simulate_lifetimes(4000))
    assert model.references_ == {"plan": "a"}
    truth = pd.Series({"x": 0.5, "plan=b": -0.7, "plan=c": 0.4})
    s = model.summary_
    # Within 3.3 standard errors (a 99.9% interval; over 40 seeds the estimates' mean was
    # within 0.006 of the truth and their spread near the standard errors).
    assert ((s["coef"] - truth).abs() < 3.3 * s["se"]).all(), s
    assert s.loc["plan=b", "high"] < 1 < s.loc["plan=c", "low"]
    # Proportional by construction: no feature flagged at 1%.
    assert (model.check_proportional_hazards()["p"] > 0.01).all()


def test_expected_remaining_is_the_area_under_the_conditional_curve():
    data = simulate_lifetimes(1500, seed=1)
    model = CoxModel().fit(data)
    customers = data.head(5).assign(duration=[0, 10, 50, 120, 200])
    got = model.expected_remaining(customers, horizon=100)
    # Brute force: the curve on a fine grid (it is a step function: left sums are exact
    # between its steps, and the grid holds every step).
    grid = np.union1d(model.baseline_["time"].to_numpy(), np.arange(0, 301, 1.0))
    for i, tenure in enumerate(customers["duration"]):
        points = grid[(grid >= tenure) & (grid <= tenure + 100)]
        points = np.union1d(points, [tenure, tenure + 100])
        curve = model.predict_survival(customers.iloc[[i]], points).to_numpy()[0]
        area = (curve[:-1] * np.diff(points)).sum()
        here = model.predict_survival(customers.iloc[[i]], [tenure]).to_numpy()[0, 0]
        assert got[i] == pytest.approx(area / here, rel=1e-9)
    # Higher risk, shorter expected stay.
    same = customers.assign(duration=10, plan="a")
    same["x"] = [-2.0, -1.0, 0.0, 1.0, 2.0]
    assert np.all(np.diff(model.expected_remaining(same, horizon=100)) < 0)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 8), st.booleans(), st.integers(0, 4)), min_size=2, max_size=40
    )
)
def test_concordance_equals_counting_pairs(rows):
    t, e, r = (np.array(c, dtype=float) for c in zip(*rows, strict=True))
    concordant = pairs = 0.0
    for i in range(len(t)):
        for j in range(len(t)):
            # i churned before j's time, or at the time j was censored.
            if e[i] and (t[i] < t[j] or (t[i] == t[j] and not e[j])):
                pairs += 1
                concordant += 1.0 if r[i] > r[j] else 0.5 if r[i] == r[j] else 0.0
    got = concordance(t, e, r)
    if pairs:
        assert got == pytest.approx(concordant / pairs)
    else:
        assert np.isnan(got)


# -- engines and bad input ---------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_curves_are_the_same_on_every_engine(engine):
    frame = ROSSI.assign(prior=ROSSI["prio"].clip(upper=2).astype(str))
    want = kaplan_meier(frame, duration="week", observed="arrest", by="prior").table
    got = kaplan_meier(
        to_engine(frame, engine), duration="week", observed="arrest", by="prior"
    ).table
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda f: f.assign(duration=f["duration"].where(f.index != 2)),
            "1 customers have a missing duration",
        ),
        (lambda f: f.assign(duration=f["duration"] - 3.5), "3 customers have a negative duration"),
        (lambda f: f.assign(churned=[1, 2, 0, 1, 0, 1]), "churn flag other than 0 or 1"),
        (lambda f: f.drop(columns="churned"), "no column 'churned'"),
        (lambda f: f.assign(duration=f["duration"].astype(str)), "must hold numbers"),
    ],
)
def test_bad_input_is_named(change, message):
    with pytest.raises(jl.JourneyDataError, match=message):
        kaplan_meier(change(small()))


def test_bad_input_messages_give_an_example():
    frame = small().assign(churned=[1, 1, 0, 7, 0, 1])
    with pytest.raises(jl.JourneyDataError, match=r"for example \{'duration': 5, 'churned': 7\}"):
        kaplan_meier(frame)


def test_cox_errors():
    with pytest.raises(jl.JourneyNotFittedError):
        CoxModel().predict_risk(small())
    with pytest.raises(jl.JourneyDataError, match="feature 'x' is missing for 1 customers"):
        CoxModel().fit(small().assign(x=[1.0, None, 2.0, 3.0, 1.0, 0.0]))
    with pytest.raises(jl.JourneyParameterError, match="penalizer"):
        CoxModel(penalizer=-1).fit(small())
    with pytest.raises(jl.JourneyDataError, match="two segments"):
        logrank_test(small().assign(s="a"), by="s")


def test_splitting_lifetimes_into_stretches_changes_nothing():
    # Each rossi lifetime cut at its middle into two stretches with the same features: the
    # counting-process fit is the same model.
    whole = CoxModel().fit(ROSSI, duration="week", observed="arrest")
    middle = ROSSI["week"] // 2
    first = ROSSI.assign(start=0, week=middle, arrest=0)
    second = ROSSI.assign(start=middle)
    split = pd.concat([first, second], ignore_index=True)
    split = split[split["week"] > split["start"]]
    parts = CoxModel().fit(split, duration="week", observed="arrest", entry="start")
    np.testing.assert_allclose(parts.coef_, whole.coef_, rtol=1e-8)
    np.testing.assert_allclose(parts.summary_["se"], whole.summary_["se"], rtol=1e-8)
    # The baseline is at the rows' mean features, which the split moves; each customer's
    # curve is the same.
    pd.testing.assert_frame_equal(
        parts.predict_survival(ROSSI.head(20), WEEKS),
        whole.predict_survival(ROSSI.head(20), WEEKS),
        rtol=1e-8,
    )
    pd.testing.assert_frame_equal(
        parts.check_proportional_hazards(), whole.check_proportional_hazards(), rtol=1e-6
    )
    assert np.isnan(parts.concordance_)
    with pytest.raises(jl.JourneyDataError, match="1 rows have an entry time"):
        CoxModel().fit(
            split.assign(start=split["start"].where(split.index != 0, 99)),
            duration="week",
            observed="arrest",
            entry="start",
        )


def true_survival(t: np.ndarray, log_hr: float) -> np.ndarray:
    """The planted population's survival in one plan: the mean over x ~ N(0, 1) of
    exp(-0.01 exp(0.5 x + log_hr) t), by Gauss-Hermite quadrature."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(60)
    rate = 0.01 * np.exp(0.5 * nodes + log_hr)
    return (weights * np.exp(-np.outer(t, rate))).sum(axis=1) / weights.sum()


def test_kaplan_meier_band_holds_the_true_curve():
    data = simulate_lifetimes(20000, seed=2)
    km = kaplan_meier(data, by="plan")
    grid = np.array([10.0, 30, 60, 100, 150, 200, 300])
    at = km.survival_at(grid)
    # Durations are whole days (ceil): S_KM at day t is P(T > t) of the continuous life.
    for plan, log_hr in {"a": 0.0, "b": -0.7, "c": 0.4}.items():
        rows = at[at["plan"] == plan]
        truth = true_survival(grid, log_hr)
        inside = (rows["survival_low"] <= truth) & (truth <= rows["survival_high"])
        assert inside.sum() >= len(grid) - 1, (plan, rows, truth)
        np.testing.assert_allclose(rows["survival"], truth, atol=0.02)


def test_cox_recovers_the_simulators_planted_hazard():
    # The simulator's hazard changes with trust after each order: its path, as stretches
    # with the trust of each, is the counting-process form. The fit must give back every
    # planted log hazard ratio (segment, plan, engagement, trust).
    sim = jl.simulate(20000, seed=5)
    truth, p = sim.truth, sim.params
    path = truth._segments.copy()  # the hazard path the simulation drew churn times from
    day = pd.Timedelta(days=1)
    churn = ((truth.customers["churn_time"] - truth.start) / day).to_numpy()[path["row"]]
    end = (truth.end - truth.start) / day
    stop = np.fmin(churn, end)
    path = path[path["start"] < stop[path.index]].copy()
    stop = stop[path.index]
    path["exit"] = np.minimum(path["end"], stop)
    path["churned"] = ((churn[path.index] <= path["exit"]) & (churn[path.index] <= end)).astype(int)
    first = path.groupby("row")["start"].transform("min")
    path["entry"], path["duration"] = path["start"] - first, path["exit"] - first
    path = path[path["duration"] > path["entry"]]
    who = sim.customers.reset_index(drop=True)
    path["segment"] = who["segment"].to_numpy()[path["row"]]
    path["plan"] = who["plan"].to_numpy()[path["row"]]
    path["engagement"] = truth.customers["engagement"].to_numpy()[path["row"]]
    # 1 - trust, from the stretch's hazard and the planted terms.
    known = (
        np.log(-np.log1p(-p.base_churn) / 365)
        + p.engagement_churn * path["engagement"]
        + path["segment"].map(p.segment_churn)
        + path["plan"].map(p.plan_churn)
    )
    path["distrust"] = (np.log(path["hazard"]) - known) / p.trust_effect
    columns = ["entry", "duration", "churned", "segment", "plan", "engagement", "distrust"]
    model = CoxModel().fit(path[columns], entry="entry")
    assert model.references_ == {"segment": "consumer", "plan": "basic"}
    planted_effects = pd.Series(
        {
            "segment=enterprise": p.segment_churn["enterprise"],
            "segment=small_business": p.segment_churn["small_business"],
            "plan=plus": p.plan_churn["plus"],
            "plan=premium": p.plan_churn["premium"],
            "engagement": p.engagement_churn,
            "distrust": p.trust_effect,
        }
    )
    s = model.summary_.loc[planted_effects.index]
    assert ((s["coef"] - planted_effects).abs() < 3.3 * s["se"]).all(), s
    assert path["churned"].sum() > 1000
