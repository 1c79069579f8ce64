"""Retention campaigns at scale (issue 20): the simulator with a campaign against without
one, a campaign's customers from the log against the churn dataset at the same cutoff, and
an uplift plan against a risk plan on a million customers.

    python benchmarks/campaigns.py                    # 1,000,000 simulated customers
    python benchmarks/campaigns.py --customers 2e5    # a smaller scale test

Each pair runs in the same process, reference first; the answers are checked before any
time is printed: the campaign's eligible customers are the active buyers of the run without
it, and the campaign's features are the churn dataset's at its start.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import pandas as pd
from _timing import timed

import journey_lib as jl
from journey_lib.churn.targeting import plan_offers

DATE = "2024-06-03"


def row(what: str, ours: tuple, reference: tuple) -> str:
    return (
        f"| {what} | {ours[0]:.1f} s, {ours[1]:.2f} GB | {reference[0]:.1f} s, "
        f"{reference[1]:.2f} GB | {ours[0] / reference[0]:.2f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=float, default=1e6)
    args = parser.parse_args()
    n = int(args.customers)
    warnings.simplefilter("ignore")  # tqdm's bar; the features' notes
    # Warm up: the first call of each pays for imports and caches the second would not.
    jl.uplift.campaign_dataset(
        jl.simulate(3000, seed=1, campaigns=[jl.Campaign(DATE)]).events, within="90D"
    )
    plain = timed(lambda: jl.simulate(n, seed=0, progress=False))
    offered = timed(lambda: jl.simulate(n, seed=0, progress=False, campaigns=[jl.Campaign(DATE)]))
    sim = offered[2]
    truth = plain[2].truth.customers
    active = truth[(truth["first_purchase"] < DATE) & (truth["churn_time"] > DATE)]
    assert sorted(sim.truth.offers["customer_id"]) == sorted(active["customer_id"])
    plain = plain[:2]  # the time and peak; the simulation itself can go

    events = sim.events
    rest = events[events["treatment"].isna()].drop(columns="treatment")
    start = pd.Timestamp(DATE, tz="UTC")
    dataset = timed(
        lambda: jl.churn.build_dataset(rest, cutoff=start, horizon="180D", inactivity="90D")
    )
    campaign = timed(lambda: jl.uplift.campaign_dataset(events, within="90D", inactivity="90D"))
    X, t, y = campaign[2]
    pd.testing.assert_frame_equal(X, dataset[2].X.loc[X.index])
    pd.testing.assert_series_equal(y, dataset[2].y.loc[X.index])

    m = 1_000_000
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"value_total": rng.lognormal(5, 1, m)})
    risk, uplift = rng.random(m), rng.normal(-0.02, 0.05, m).clip(-1, 1)
    arm, churned = rng.integers(0, 2, m), rng.integers(0, 2, m)
    by_risk = timed(
        lambda: plan_offers(risk, frame, offer_cost=5, save_rate=0.3, y=churned, treatment=arm)
    )
    by_uplift = timed(
        lambda: plan_offers(risk, frame, offer_cost=5, uplift=uplift, y=churned, treatment=arm)
    )
    expected = -uplift * frame["value_total"].to_numpy() - 5
    assert by_uplift[2].chosen == int((expected > 0).sum())

    print(
        f"{n:,} simulated customers, {len(events):,} events; {len(X):,} in the campaign "
        f"({int(t.sum()):,} offered)"
    )
    print("| what | ours | reference | ratio |")
    print("|---|---|---|---:|")
    print(row("simulate with a campaign / without", offered, plain))
    print(row("campaign_dataset / build_dataset at its start", campaign, dataset))
    print(row("plan_offers by uplift / by risk, 1M rows, with arms", by_uplift, by_risk))


if __name__ == "__main__":
    main()
