"""Time to churn at a million customers (issue 20): each estimator against a reference
doing the same job in the same run, answers checked equal before timing.

    python benchmarks/survival.py                   # 1,000,000 customers
    python benchmarks/survival.py --customers 2e5   # a smaller scale test

The customers are synthetic (:func:`journey_lib.survival.simulate_lifetimes`): exponential
lifetimes whose hazard depends on a number and a plan, censored at a uniform end of
observation, durations in whole days (so many ties, as real tenure has). References:

* ``kaplan_meier`` by plan: statsmodels' ``SurvfuncRight`` once per plan;
* ``logrank_test`` by plan: statsmodels' ``survdiff``;
* ``CoxModel.fit``: statsmodels' ``PHReg(ties="efron").fit`` on the same design matrix
  (journey-lab fits with it, and adds the encoding, the summary, the baseline and the
  concordance);
* ``concordance`` on uncensored customers with distinct risks: there Harrell's C is
  (1 - Kendall's tau of time and risk) / 2, so SciPy's ``kendalltau`` is the reference;
* ``customer_lifetimes`` on a simulated log: a pandas group-by of each customer's first and
  last event, the least any lifetime needs.

Peak memory is tracemalloc's peak during the call (NumPy and pandas report their buffers to
it), so it is the call's own memory, not the process's.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from _timing import timed
from scipy.stats import kendalltau
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


def row(name: str, ours: tuple, reference: tuple, note: str) -> str:
    return (
        f"| {name} | {ours[0]:.2f} s, {ours[1]:.2f} GB | {reference[0]:.2f} s, "
        f"{reference[1]:.2f} GB | {ours[0] / reference[0]:.2f} | {note} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=float, default=1e6)
    parser.add_argument("--log-customers", type=float, default=1e5)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n, repeat = int(args.customers), args.repeat
    data = simulate_lifetimes(n)
    print(
        f"{n:,} customers, {int(data['churned'].sum()):,} churned, "
        f"{data['duration'].nunique()} distinct durations"
    )
    rows = []

    # Kaplan-Meier by plan.
    ours = timed(lambda: kaplan_meier(data, by="plan"), repeat)
    ref = timed(
        lambda: {p: SurvfuncRight(g["duration"], g["churned"]) for p, g in data.groupby("plan")},
        repeat,
    )
    for plan, fit in ref[2].items():
        table = ours[2].table
        got = table[table["plan"] == plan].set_index("time").loc[fit.surv_times]
        np.testing.assert_allclose(got["survival"], fit.surv_prob, rtol=1e-9)
    rows.append(row("kaplan_meier, 3 plans", ours, ref, "same curves to 1e-9"))

    # The log-rank test.
    ours = timed(lambda: logrank_test(data, by="plan"), repeat)
    ref = timed(lambda: survdiff(data["duration"], data["churned"], data["plan"]), repeat)
    assert np.isclose(ours[2].statistic, ref[2][0], rtol=1e-8)
    rows.append(
        row("logrank_test, 3 plans", ours, ref, f"chi-square {ours[2].statistic:,.1f} both")
    )

    # Cox with Efron ties.
    design = pd.get_dummies(data[["x", "plan"]], columns=["plan"], drop_first=False)
    design = design.drop(columns="plan_a").astype(float)
    ours = timed(lambda: CoxModel().fit(data, features=["x", "plan"]), 1)
    ref = timed(
        lambda: PHReg(data["duration"], design, status=data["churned"], ties="efron").fit(), 1
    )
    got = ours[2].coef_[["x", "plan=b", "plan=c"]].to_numpy()
    np.testing.assert_allclose(got, np.asarray(ref[2].params), rtol=1e-6)
    rows.append(
        row(
            "CoxModel.fit, 3 features",
            ours,
            ref,
            "same coefficients to 1e-6; ours adds the baseline and concordance",
        )
    )

    # Concordance against Kendall's tau where they coincide.
    t = data["duration"].to_numpy() + np.random.default_rng(1).random(n)  # distinct times
    risk = np.exp(0.5 * data["x"].to_numpy())
    ones = np.ones(n)
    ours = timed(lambda: concordance(t, ones, risk), repeat)
    ref = timed(lambda: kendalltau(t, risk).statistic, repeat)
    assert np.isclose(ours[2], (1 - ref[2]) / 2, rtol=1e-9)
    rows.append(row("concordance, no censoring", ours, ref, f"C = {ours[2]:.4f} = (1 - tau) / 2"))

    # Scoring: expected remaining lifetime of everyone.
    model = CoxModel().fit(data, features=["x", "plan"])
    ours = timed(lambda: model.expected_remaining(data, horizon=365), 1)
    ref = timed(lambda: model.predict_survival(data, [365.0]), 1)
    rows.append(
        row(
            "expected_remaining, 365 days",
            ours,
            ref,
            f"{n / ours[0]:,.0f} customers a second; reference: survival at one time",
        )
    )

    # Lifetimes from a simulated log.
    sim = jl.simulate(int(args.log_customers), seed=4)
    events = sim.events
    ours = timed(lambda: jl.survival.customer_lifetimes(events, inactivity="60D"), repeat)
    ref = timed(lambda: events.groupby("customer_id")["timestamp"].agg(["min", "max"]), repeat)
    assert len(ours[2]) == len(ref[2])
    rows.append(
        row(
            f"customer_lifetimes, {len(events):,} events",
            ours,
            ref,
            "reference: first and last event per customer",
        )
    )

    print("| work | journey-lab | reference | ratio | check |")
    print("|---|---|---|---:|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
