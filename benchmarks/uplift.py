"""Uplift models at a million customers (issue 20): each learner's fit and scoring against
one gradient-boosted classifier with the same settings on the same rows, and the Qini
coefficient against scikit-learn's ROC AUC (both sort the customers once).

    python benchmarks/uplift.py                    # 1,000,000 customers
    python benchmarks/uplift.py --customers 2e5    # a smaller scale test

The campaign is synthetic (half offered at random): churn 40% untouched, 60% against 20%
when offered for customers with ``x`` above 0, 30% against 45% for those below -1 (the
offer pushes them away), and eight noise features. Each learner's Qini coefficient on a
second campaign is printed beside the true uplift's own (the oracle), as the check.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from _timing import timed
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score

import journey_lib as jl
from journey_lib.uplift.models import DEFAULT_TREES


def campaign(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    t = rng.integers(0, 2, n)
    base = np.where(x > 0, 0.6, np.where(x < -1, 0.3, 0.4))
    truth = np.where(x > 0, -0.4, np.where(x < -1, 0.15, 0.0))
    churned = (rng.random(n) < base + truth * t).astype(int)
    noise = {f"noise{i}": rng.normal(size=n) for i in range(8)}
    return pd.DataFrame({"x": x, **noise}), t, churned, truth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=float, default=1e6)
    args = parser.parse_args()
    n = int(args.customers)
    X, t, churned, _ = campaign(n, seed=0)
    X2, t2, churned2, truth2 = campaign(n, seed=1)
    stayed2 = 1 - churned2
    reference = timed(
        lambda: HistGradientBoostingClassifier(**DEFAULT_TREES, random_state=0).fit(X, churned)
    )
    scoring_reference = timed(lambda: reference[2].predict_proba(X2))
    oracle = jl.uplift.qini_coefficient(stayed2, -truth2, t2)["qini"]
    print(
        f"{n:,} customers; one classifier on all rows: {reference[0]:.1f} s, "
        f"{reference[1]:.2f} GB; scoring them {scoring_reference[0]:.2f} s; "
        f"the oracle's Qini {oracle:.4f}"
    )
    print("| learner | fit | ratio | scoring | ratio | Qini (oracle's share) |")
    print("|---|---|---:|---|---:|---|")
    for learner in jl.uplift.LEARNERS:
        fitted = timed(lambda learner=learner: jl.uplift.fit(X, t, churned, learner=learner))
        scored = timed(lambda model=fitted[2]: model.predict_uplift(X2))
        qini = jl.uplift.qini_coefficient(stayed2, -scored[2], t2)["qini"]
        print(
            f"| {learner} | {fitted[0]:.1f} s, {fitted[1]:.2f} GB | "
            f"{fitted[0] / reference[0]:.2f} | {scored[0]:.2f} s "
            f"({n / scored[0]:,.0f} a second) | {scored[0] / scoring_reference[0]:.2f} | "
            f"{qini:.4f} ({qini / oracle:.1%}) |"
        )
    score = np.random.default_rng(2).random(n)
    ours = timed(lambda: jl.uplift.qini_coefficient(stayed2, score, t2)["qini"])
    auc = timed(lambda: roc_auc_score(stayed2, score))
    print(
        f"| qini_coefficient | {ours[0]:.2f} s, {ours[1]:.2f} GB | "
        f"{ours[0] / auc[0]:.2f} against roc_auc_score ({auc[0]:.2f} s) | | | |"
    )


if __name__ == "__main__":
    main()
