"""Attribution, customer value and loyalty on the real clickstream in ../shared/data."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from engines import SHARED_DATA, missing

import journey_lib as jl
from journey_lib import clv


@pytest.fixture(scope="module")
def clickstream():
    path = SHARED_DATA / "events" / "ecom_clickstream.csv.gz"
    if not path.exists():
        missing(f"shared data not present: {path} (expected next to the project)")
    return jl.load_events(
        path, columns={"user_id": "customer_id", "acquisition_channel": "channel"}
    )


def test_every_model_credits_every_purchase(clickstream):
    purchases = int((clickstream["event"] == "purchase").sum())
    table = jl.compare_attribution(clickstream)
    models = table.drop(columns="channel")
    assert not models.isna().any().any() and (models >= 0).all().all()
    np.testing.assert_allclose(models.sum(), purchases)
    # The channel is each user's acquisition channel, so every path has one channel and
    # every rule gives it the whole conversion: the rule-based models agree exactly.
    rules = models.drop(columns="markov")
    np.testing.assert_allclose(rules.to_numpy(), rules[["linear"]].to_numpy().repeat(6, axis=1))
    by_event = jl.attribute(clickstream, by="event", n_boot=20)
    assert (by_event["conversions_lower"] <= by_event["conversions"] + 1e-9).all()
    assert "purchase" not in set(by_event["event"])  # a conversion is never its own touch


def test_value_and_loyalty_on_a_log_without_advocacy(clickstream):
    history = jl.rfm(clickstream, observation_end=clickstream["timestamp"].max())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        purchases = clv.BetaGeo().fit(history)
    # Nobody here is seen to drop out: the fit says so instead of inventing a dropout rate.
    assert any(issubclass(w.category, jl.JourneyDataWarning) for w in caught)
    alive = purchases.probability_alive()
    assert alive.between(0, 1).all() and len(alive) == len(history)
    loyal = jl.loyalty(clickstream, period="month")
    buyers = clickstream.loc[clickstream["event"] == "purchase", "customer_id"].nunique()
    assert loyal.overall["buyers"] == buyers
    assert loyal.overall["repeat_purchase_rate"] == pytest.approx((history["frequency"] > 0).mean())
    assert len(loyal.advocates) == 0 and loyal.referrals is None
