"""The campaign helpers (journey_lib.uplift.experiment): the size against its closed form
and a simulated power, the effect by hand, against statsmodels' Newcombe interval and SciPy's
chi-square, and on a real randomised trial (rossi's financial aid)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2_contingency, norm
from statsmodels.stats.proportion import confint_proportions_2indep

import journey_lib as jl
from journey_lib._intervals import association_test
from journey_lib.uplift import campaign_effect, campaign_size

ROSSI = pd.read_csv(Path(__file__).parent / "reference" / "rossi.csv")


@pytest.mark.parametrize(
    ("baseline", "effect", "holdout"), [(0.2, -0.03, 0.1), (0.3, -0.05, 0.5), (0.1, 0.02, 0.25)]
)
def test_campaign_size_is_the_arcsine_formula(baseline, effect, holdout):
    size = campaign_size(baseline, effect, holdout=holdout)
    h = abs(2 * np.arcsin(np.sqrt(baseline + effect)) - 2 * np.arcsin(np.sqrt(baseline)))
    treated = ((norm.ppf(0.975) + norm.ppf(0.8)) / h) ** 2 * (1 + (1 - holdout) / holdout)
    assert size["treated"] == int(np.ceil(treated))
    assert size["total"] == size["treated"] + size["holdout"]
    assert size["holdout"] / size["total"] == pytest.approx(holdout, abs=1e-3)


def test_campaign_size_gives_the_power_asked_for():
    size = campaign_size(0.2, -0.03, holdout=0.1)
    rng = np.random.default_rng(0)
    x1 = rng.binomial(size["treated"], 0.17, 4000)
    x0 = rng.binomial(size["holdout"], 0.2, 4000)
    p, _ = association_test(x1, size["treated"] - x1, x0, size["holdout"] - x0)
    # 4,000 simulated campaigns: the share that detect the effect is 0.8 within noise.
    assert (p < 0.05).mean() == pytest.approx(0.8, abs=0.025)


def test_campaign_effect_on_a_real_randomised_trial():
    # Rossi et al.'s experiment: financial aid was randomly assigned; arrests within a year.
    row = campaign_effect(ROSSI, treatment="fin", outcome="arrest").iloc[0]
    assert (row["treated"], row["holdout"]) == (216, 216)
    assert row["treated_rate"] == pytest.approx(48 / 216)
    assert row["holdout_rate"] == pytest.approx(66 / 216)
    assert row["effect"] == pytest.approx(48 / 216 - 66 / 216)  # the difference in means
    assert row["low"] < row["effect"] < row["high"] < 0
    low, high = confint_proportions_2indep(48, 216, 66, 216, method="newcomb")
    assert (row["low"], row["high"]) == pytest.approx((low, high), rel=1e-9)
    _, p, _, _ = chi2_contingency([[48, 168], [66, 150]], correction=False)
    assert row["p_value"] == pytest.approx(p) and row["test"] == "chi2"
    assert row["to_treat_per_save"] == pytest.approx(12.0)
    assert row["relative"] == pytest.approx((48 - 66) / 66)


def test_campaign_effect_small_arms_use_fishers_test():
    campaign = pd.DataFrame({"offer": [1] * 6 + [0] * 6, "left": [0] * 5 + [1] + [1] * 4 + [0] * 2})
    row = campaign_effect(campaign, treatment="offer", outcome="left").iloc[0]
    assert row["test"] == "fisher" and row["effect"] == pytest.approx(1 / 6 - 4 / 6)


def test_campaign_errors_are_named():
    with pytest.raises(jl.JourneyDataError, match="no column 'treated'"):
        campaign_effect(pd.DataFrame({"churned": [1, 0]}))
    with pytest.raises(jl.JourneyDataError, match="1 customers have a 'treated' or 'churned'"):
        campaign_effect(pd.DataFrame({"treated": [1, 0, 2], "churned": [1, 0, 0]}))
    with pytest.raises(jl.JourneyDataError, match="both arms"):
        campaign_effect(pd.DataFrame({"treated": [1, 1], "churned": [1, 0]}))
    with pytest.raises(jl.JourneyParameterError, match="holdout must be between 0 and 1"):
        campaign_size(0.2, -0.03, holdout=1)
    with pytest.raises(jl.JourneyParameterError, match="effect must not be 0"):
        campaign_size(0.2, 0)
