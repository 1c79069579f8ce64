"""Markov attribution and bootstrap intervals: chains solved by hand, a brute-force dense
reference (absorption through the fundamental matrix, removal by redirecting rows to null)
for orders 1 to 3, and resampling checked against duplicated customers."""

from __future__ import annotations

import itertools
from collections import Counter

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from test_attribution import (
    DAY,
    JOURNEYS,
    LOOKBACKS,
    NONE,
    assert_credit,
    converts,
    credit,
    examples,
    log,
    random_logs,
    reference_paths,
)

from journey_lib.attribution import attribute, markov
from journey_lib.attribution.journeys import base_rows, journey_rows, open_log

# --------------------------------------------------------------------------- by hand


def test_markov_by_hand():
    # Paths: tv > search > email > direct, search > direct and direct convert; social does
    # not; customer 4's conversion has no touch and goes to (none).
    # From the start each of tv, search, direct, social has 1/4; search goes on to email or
    # direct with 1/2 each; the rest is deterministic. P = 3/4 (all but social).
    #   without tv:     P = 1/2, effect 1 - (1/2)/(3/4) = 1/3
    #   without search: P = 1/4 (direct alone), effect 2/3
    #   without email:  search converts half the time: P = 1/8 + 1/8 + 1/4 = 1/2, effect 1/3
    #   without direct: P = 0, effect 1;   without social: effect 0
    # Effects sum to 7/3: shares 1/7, 2/7, 1/7, 3/7, 0 of the 3 touched conversions and of
    # their value 170.
    result = attribute(JOURNEYS)
    expected = {"tv": 3 / 7, "search": 6 / 7, "email": 3 / 7, "direct": 9 / 7, "social": 0}
    assert_credit(result, {**expected, NONE: 1})
    values = {k: v / 3 * 170 for k, v in expected.items()}
    assert_credit(result, {**values, NONE: 10}, "value")
    # Order 2 changes nothing here: every path is determined by its first state.
    assert_credit(attribute(JOURNEYS, order=2), {**expected, NONE: 1})


def test_order_two_remembers_where_a_customer_came_from():
    events = log(
        (1, 0, "v", "a"),
        (1, 1, "v", "b"),
        (1, 2, "purchase", "w"),
        (2, 0, "v", "c"),
        (2, 1, "v", "b"),
    )
    # Order 1: b converts half the time whoever came before; P = 1/2. Removing a or c
    # halves it (effect 1/2 each), removing b loses all (1): shares 1/4, 1/4, 1/2.
    assert_credit(attribute(events, order=1), {"a": 0.25, "b": 0.5, "c": 0.25})
    # Order 2: (a, b) always converts and (c, b) never. Removing a loses all (1), removing
    # c nothing (0), removing b all (1): shares 1/2, 0, 1/2.
    assert_credit(attribute(events, order=2), {"a": 0.5, "b": 0.5, "c": 0.0})


def test_loops_are_solved_exactly():
    events = log(
        (1, 0, "v", "a"),
        (1, 1, "v", "b"),
        (1, 2, "v", "a"),
        (1, 3, "v", "b"),
        (1, 4, "purchase", "w"),
        (2, 0, "v", "b"),
    )
    # start: a or b, 1/2 each; a -> b always; b -> a, conversion or null, 1/3 each.
    # P_b = (P_a + 1) / 3 and P_a = P_b give P_b = 1/2, so P = 1/2.
    # Without a: P_b = 1/3, P = 1/6, effect 2/3. Without b: P = 0, effect 1.
    # Shares 2/5 and 3/5 (a simulation would only approximate these).
    assert_credit(attribute(events), {"a": 0.4, "b": 0.6})


def test_touchless_conversions_stay_out_of_the_chain():
    events = log(
        (1, 0, "v", "a"),
        (1, 1, "purchase", "w", 8.0),
        (2, 0, "v", "b"),
        (3, 5, "purchase", "w", 2.0),
        (3, 5 + 40 * DAY, "purchase", "w", 4.0),
    )
    # The chain: a converts, b does not; b's removal changes nothing. Customer 3's two
    # conversions have no touch: (none) gets 2 conversions worth 6.
    result = attribute(events)
    assert_credit(result, {"a": 1, "b": 0, NONE: 2})
    assert_credit(result, {"a": 8, "b": 0, NONE: 6}, "value")


def test_non_converting_paths_are_the_trailing_touches_within_lookback():
    events = log(
        (1, 0, "v", "a"),
        (1, DAY, "purchase", "w"),
        (1, 2 * DAY, "v", "b"),  # after the purchase: a non-converting path b > c
        (1, 3 * DAY, "v", "c"),
        (2, 0, "v", "a"),  # more than a day before customer 2's last touch: left out
        (2, 2 * DAY, "v", "c"),
    )
    # lookback 1D: converting a; non-converting b > c and c. start: a 1/3, b 1/3, c 1/3;
    # a converts, b -> c, c -> null. P = 1/3; only removing a loses it.
    assert_credit(attribute(events, lookback="1D"), {"a": 1, "b": 0, "c": 0})
    # Unlimited: customer 2's a > c joins, so a -> conversion or c, 1/2 each: still a alone.
    # (Removing c cannot raise the conversion probability: never a negative effect.)
    assert_credit(attribute(events, lookback=None), {"a": 1, "b": 0, "c": 0})


# --------------------------------------------------------------------------- brute force


def reference_markov(events, order, lookback_min):
    """{label: conversions credit} from a dense absorbing chain, removal by redirection."""
    converting, lost = reference_paths(events, lookback_min)
    counts = Counter()
    touchless, touched = 0, 0
    for path, _, n, _ in converting:
        if not path:
            touchless += n
            continue
        touched += n
        for step in _chain([c for _, c in path], order, "(conversion)"):
            counts[step] += n
    for path in lost:
        for step in _chain([c for _, c in path], order, "(null)"):
            counts[step] += 1
    credit = {NONE: float(touchless)} if touchless else {}
    start = ("(start)",) * order
    states = sorted({s for s, _ in counts} | {t for _, t in counts} - {"(conversion)", "(null)"})
    channels = sorted({c for s in states for c in s} - {"(start)"})
    if not touched:
        return credit | dict.fromkeys(channels, 0.0)
    states.remove(start)
    states = [start, *states, "(conversion)", "(null)"]
    index = {s: i for i, s in enumerate(states)}
    matrix = np.zeros((len(states), len(states)))
    for (s, t), n in counts.items():
        matrix[index[s], index[t]] += n
    matrix[-2, -2] = matrix[-1, -1] = 1
    matrix /= matrix.sum(axis=1, keepdims=True)

    def conversion(p):
        transient = len(states) - 2
        fundamental = np.linalg.inv(np.eye(transient) - p[:transient, :transient])
        return (fundamental @ p[:transient, transient:])[0, 0]

    whole = conversion(matrix)
    effects = {}
    for channel in channels:
        removed = matrix.copy()
        for s in states[:-2]:
            if channel in s:
                removed[index[s]] = 0
                removed[index[s], -1] = 1
        effects[channel] = 1 - conversion(removed) / whole
    total = sum(effects.values())
    return credit | {c: e / total * touched for c, e in effects.items()}


def _chain(channels, order, end):
    padded = ["(start)"] * order + channels
    states = [tuple(padded[i : i + order]) for i in range(len(channels) + 1)]
    return [*itertools.pairwise(states), (states[-1], end)]


@examples(20)
@given(events=random_logs().filter(converts), lookback=LOOKBACKS)
def test_markov_matches_a_dense_reference(events, lookback):
    text, minutes = lookback
    for order in (1, 2, 3):
        want = reference_markov(events, order, minutes)
        got = credit(attribute(events, order=order, lookback=text))
        assert got.keys() == want.keys()
        for label, value in want.items():
            assert got[label] == pytest.approx(value, abs=1e-9), (order, label)
            assert got[label] >= 0


# --------------------------------------------------------------------------- bootstrap


def test_bootstrap_bounds_and_reproducibility():
    result = attribute(JOURNEYS, model="linear", n_boot=200, seed=3)
    assert result.columns.tolist() == [
        "channel",
        "conversions",
        "value",
        "share",
        "conversions_lower",
        "conversions_upper",
        "value_lower",
        "value_upper",
    ]
    bounds = result[["conversions_lower", "conversions_upper", "value_lower", "value_upper"]]
    assert not bounds.isna().any().any()
    assert (result["conversions_lower"] <= result["conversions_upper"]).all()
    assert (result["value_lower"] <= result["value_upper"]).all()
    # Point estimates are those without a bootstrap.
    plain = attribute(JOURNEYS, model="linear")
    assert credit(result) == pytest.approx(credit(plain))
    again = attribute(JOURNEYS, model="linear", n_boot=200, seed=3)
    pd.testing.assert_frame_equal(result, again)
    # Email has a quarter of customer 1's conversion; 200 replicates drawing 5 customers
    # (social's customer too) include replicates without customer 1 and with it 3 times.
    email = result.set_index("channel").loc["email"]
    assert email["conversions_lower"] == 0 and email["conversions_upper"] == 0.75


def test_identical_customers_give_a_zero_width_interval():
    events = pd.concat(
        [log((c, 0, "v", "a"), (c, 1, "v", "b"), (c, 2, "purchase", "w", 3.0)) for c in range(1, 6)]
    )
    for model in ("markov", "time_decay"):
        result = attribute(events, model=model, n_boot=30, ci=0.9)
        assert result["conversions_lower"].tolist() == pytest.approx(result["conversions"])
        assert result["conversions_upper"].tolist() == pytest.approx(result["conversions"])
        assert result["value_upper"].tolist() == pytest.approx(result["value"])


@pytest.mark.parametrize("order", [1, 2])
def test_reweighting_customers_equals_duplicating_them(order):
    # A bootstrap replicate reweights per-customer counts; it must equal attributing the
    # log in which each customer appears as many times as drawn.
    weights = {1: 2, 2: 0, 3: 3, 4: 1, 5: 1}
    events = pd.concat(
        [JOURNEYS, log((6, 0, "v", "search"), (6, 1, "v", "tv"), (6, 2, "purchase", "w", 7.0))]
    )
    weights[6] = 2
    frame = open_log(events, "channel")
    base = base_rows(frame, nw.col("event") == "purchase", "channel")
    rows = journey_rows(base, [], 30 * 86_400_000_000)
    table = markov.transition_table(rows, [], order, per_customer=True).collect().to_pandas()
    labels, _, credit_of = markov.credit_function(table, [], order)
    customers = pd.factorize(table["customer_id"], sort=True)[1]  # units: sorted ids
    w = np.array([[weights[c] for c in customers]], dtype=float)
    conversions, value = credit_of(w)
    got = {label: (c, v) for (_, label), c, v in zip(labels, conversions[0], value[0], strict=True)}
    copies = pd.concat(
        [
            events[events["customer_id"] == c].assign(customer_id=c * 100 + k)
            for c, n in weights.items()
            for k in range(n)
        ]
    )
    want = attribute(copies, order=order)
    for label, c, v in zip(want["channel"], want["conversions"], want["value"], strict=True):
        assert got.get(label, (0.0, 0.0)) == pytest.approx((c, v)), label
