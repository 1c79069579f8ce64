"""stage_funnel: a hand-worked journey, a brute-force reference on random logs, bad input, and
parity on every engine (PySpark on a simulated log).

Times in the hand-made logs are days after 2024-01-01 00:00 UTC.
"""

from __future__ import annotations

import statistics
import warnings

import numpy as np
import pandas as pd
import pytest
from engines import ENGINES, assert_same_frame, collect, parity
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import journey_lib as jl
from journey_lib.analytics.progression import stage_funnel
from journey_lib.errors import JourneyDataError, JourneyDataWarning, JourneyParameterError

BASE = pd.Timestamp("2024-01-01", tz="UTC")
DAY_S = 86_400.0
COLUMNS = [
    "step",
    "stage",
    "customers",
    "conversion_rate",
    "step_conversion_rate",
    "progressed",
    "median_time_in_stage",
    "regressed",
]
STAGES = list(jl.FRAMEWORKS["customer_journey"].stages)


def log(*rows) -> pd.DataFrame:
    """A touchpoint log from (customer, day, event) triples; days may be fractions."""
    frame = pd.DataFrame(rows, columns=["customer_id", "day", "event"])
    frame["customer_id"] = frame["customer_id"].astype("int64")
    stamps = BASE + pd.to_timedelta(frame.pop("day").astype("float64"), unit="D")
    return frame.assign(timestamp=stamps.astype("datetime64[us, UTC]"))[
        ["customer_id", "timestamp", "event"]
    ].astype({"event": "str"})


# Customer 1 goes through every stage and comes back to consideration on day 9.
# Customer 2 never buys. Customer 3 buys first (no recorded ad), buys again (Retention),
# and then sees an ad (a regression to Awareness). Customer 4's ad view and site visit are
# at the same instant. Customer 5 has only an event the framework does not map.
JOURNEY = log(
    (1, 0, "ad_view"),  # Awareness
    (1, 2, "site_visit"),  # Consideration
    (1, 5, "purchase"),  # Purchase
    (1, 7, "delivery_on_time"),  # Retention
    (1, 9, "site_visit"),  # Consideration again, after Purchase: regressed
    (1, 10, "review"),  # Advocacy & Loyalty
    (2, 0, "ad_view"),
    (2, 1, "site_visit"),
    (2, 3, "site_visit"),
    (3, 4, "purchase"),  # first purchase: Purchase
    (3, 6, "purchase"),  # repeat purchase: Retention
    (3, 8, "ad_view"),  # Awareness after Purchase: regressed
    (4, 0, "ad_view"),
    (4, 0, "site_visit"),
    (5, 1, "hologram"),
)


def hand_worked() -> pd.DataFrame:
    """The expected funnel of JOURNEY. Customers 1-4 entered the journey (5 has no mapped
    event), so conversion rates are out of 4."""
    nan = np.nan
    rows = [
        # Awareness: 1 (day 0), 2 (0), 3 (8), 4 (0). Time to the next later-stage event at or
        # after first entry: 1: 2 days (site_visit), 2: 1 day, 4: 0 (same instant); 3 has no
        # later-stage event after day 8. Median of (2, 1, 0) = 1 day. Regressed: 3 (ad on day
        # 8 after the purchase on day 4); 4's tie is not a regression.
        (1, "Awareness", 4, 4 / 4, 4 / 4, 3, 1 * DAY_S, 1),
        # Consideration: 1 (day 2), 2 (1), 4 (0); all three reached Awareness: 3 / 4. Only 1
        # moves on (purchase day 5): 3 days. Regressed: 1 (site_visit day 9 after day 5).
        (2, "Investigation & Consideration", 3, 3 / 4, 3 / 4, 1, 3 * DAY_S, 1),
        # Purchase: 1 (day 5), 3 (day 4); of the 3 in Consideration only 1 bought: 1 / 3.
        # 1: delivery day 7 (2 days); 3: repeat purchase day 6 (2 days).
        (3, "Purchase", 2, 2 / 4, 1 / 3, 2, 2 * DAY_S, 0),
        # Retention: 1 (day 7), 3 (day 6); both bought: 2 / 2. 1 reviews on day 10: 3 days.
        (4, "Retention", 2, 2 / 4, 2 / 2, 1, 3 * DAY_S, 0),
        # Advocacy: 1 only; 1 of the 2 in Retention. Nothing after it.
        (5, "Advocacy & Loyalty", 1, 1 / 4, 1 / 2, 0, nan, 0),
    ]
    return pd.DataFrame(rows, columns=COLUMNS)


def test_stage_funnel_by_hand():
    with pytest.warns(JourneyDataWarning, match="hologram"):
        got = stage_funnel(JOURNEY)
    assert got.columns.tolist() == COLUMNS
    assert_same_frame(got, hand_worked())
    for column in ("step", "customers", "progressed", "regressed"):
        assert str(got[column].dtype) == "int64", column


def test_stage_funnel_ignores_row_order_and_an_existing_stage_column():
    mixed = JOURNEY.sample(frac=1, random_state=4).assign(stage="nonsense")
    got = stage_funnel(mixed, unmapped="ignore")
    assert_same_frame(got, hand_worked())


def test_median_of_an_even_count_is_the_mean_of_the_middle_two():
    events = log(
        (1, 0, "ad_view"),
        (1, 1, "site_visit"),  # 1 day in Awareness
        (2, 0, "ad_view"),
        (2, 4, "site_visit"),  # 4 days
        (3, 0, "ad_view"),
        (3, 0.25, "signup"),  # 6 hours
        (4, 0, "ad_view"),
        (4, 10, "purchase"),  # 10 days: a later stage other than the next one counts too
    )
    got = stage_funnel(events)
    # Sorted: 0.25, 1, 4, 10 days: median (1 + 4) / 2 = 2.5 days.
    assert got["median_time_in_stage"].iloc[0] == pytest.approx(2.5 * DAY_S)
    assert got["progressed"].tolist() == [4, 0, 0, 0, 0]
    # Customer 4 skipped Consideration: 3 of 4 reached it; Purchase 1 of 4, but none of
    # the three in Consideration.
    assert got["customers"].tolist() == [4, 3, 1, 0, 0]
    assert got["step_conversion_rate"].tolist()[:4] == [1.0, 0.75, 0.0, 0.0]


def test_progress_counts_only_later_stage_events_after_first_entry():
    # Customer 1 bought (day 0) before ever visiting (day 3); nothing later than
    # Consideration follows day 3, so they did not progress from it, and their visit after
    # the purchase is a regression.
    events = log((1, 0, "purchase"), (1, 3, "site_visit"))
    got = stage_funnel(events).set_index("stage")
    assert got.loc["Investigation & Consideration", "progressed"] == 0
    assert np.isnan(got.loc["Investigation & Consideration", "median_time_in_stage"])
    assert got.loc["Investigation & Consideration", "regressed"] == 1
    assert got.loc["Purchase", "regressed"] == 0


def test_other_frameworks_and_custom_mappings():
    decision = stage_funnel(JOURNEY, "decision_journey", unmapped="ignore")
    assert decision["stage"].tolist() == list(jl.FRAMEWORKS["decision_journey"].stages)
    # Repeat purchases are Assignment of loyalty there: customer 3 reaches it, as does 1
    # (review); delivery_on_time is Confirmation & reassurance (customer 1 only).
    assert decision["customers"].tolist() == [4, 3, 0, 2, 1, 2]
    mapping = {"Look": ["ad_view", "site_visit"], "Buy": ["purchase"]}
    with pytest.warns(JourneyDataWarning, match="'delivery_on_time' \\(1 rows\\)"):
        custom = stage_funnel(JOURNEY, mapping)
    # Customers 1-4 look; 1 and 3 buy. 3 looks (ad on day 8) only after buying: regressed,
    # and 1's site visit on day 9 follows a purchase too.
    assert custom["stage"].tolist() == ["Look", "Buy"]
    assert custom["customers"].tolist() == [4, 2]
    assert custom["regressed"].tolist() == [2, 0]
    assert custom["step_conversion_rate"].tolist() == [1.0, 0.5]


def test_empty_and_all_unmapped_logs_give_every_stage_with_zeros():
    for events in (JOURNEY.iloc[:0], log((1, 0, "hologram"))):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", JourneyDataWarning)
            got = stage_funnel(events)
        assert got["stage"].tolist() == STAGES
        assert got["step"].tolist() == [1, 2, 3, 4, 5]
        assert got[["customers", "progressed", "regressed"]].to_numpy().sum() == 0
        for column in ("conversion_rate", "step_conversion_rate", "median_time_in_stage"):
            assert got[column].isna().all(), column


def test_one_event_customers():
    got = stage_funnel(log((1, 0, "ad_view"), (2, 3, "review")))
    assert got["customers"].tolist() == [1, 0, 0, 0, 1]
    assert got["conversion_rate"].tolist() == [0.5, 0, 0, 0, 0.5]
    assert got["progressed"].sum() == 0 and got["regressed"].sum() == 0


def test_bad_input_is_named():
    with pytest.raises(JourneyParameterError, match="unknown stage framework"):
        stage_funnel(JOURNEY, "hero_journey")
    with pytest.raises(JourneyParameterError, match="unmapped"):
        stage_funnel(JOURNEY, unmapped="drop")
    with pytest.raises(JourneyDataError, match="hologram"):
        stage_funnel(JOURNEY, unmapped="raise")
    with pytest.raises(JourneyDataError, match="event"):
        stage_funnel(JOURNEY.drop(columns="event"))
    with pytest.raises(JourneyDataError, match="not a datetime"):
        stage_funnel(JOURNEY.assign(timestamp="2024-01-01"))
    with pytest.raises(JourneyParameterError, match="DataFrame"):
        stage_funnel({"customer_id": [1]})


# --------------------------------------------------------------------------- brute force


def reference(events: pd.DataFrame, framework="customer_journey") -> pd.DataFrame:
    """The documented definitions, customer by customer with plain loops."""
    fw = jl.get_framework(framework)
    staged = jl.assign_stages(events, fw, unmapped="ignore")
    index = {name: i for i, name in enumerate(fw.stages)}
    journeys = {}
    for customer, t, stage in zip(
        staged["customer_id"], staged["timestamp"], staged["stage"], strict=True
    ):
        if isinstance(stage, str):
            journeys.setdefault(customer, []).append((t, index[stage]))
    k = len(fw.stages)
    reached = [set() for _ in range(k)]
    durations = [[] for _ in range(k)]
    regressed = [0] * k
    for customer, rows in journeys.items():
        for i in range(k):
            times = [t for t, s in rows if s == i]
            if not times:
                continue
            reached[i].add(customer)
            first = min(times)
            after = [t for t, s in rows if s > i and t >= first]
            if after:
                durations[i].append((min(after) - first).total_seconds())
            if any(t_i > t_j for t_i in times for t_j, s in rows if s > i):
                regressed[i] += 1
    entered = len(journeys)
    table = []
    for i, name in enumerate(fw.stages):
        n = len(reached[i])
        base = reached[i - 1] if i else reached[i]
        table.append(
            (
                i + 1,
                name,
                n,
                n / entered if entered else np.nan,
                len(base & reached[i]) / len(base) if base else np.nan,
                len(durations[i]),
                statistics.median(durations[i]) if durations[i] else np.nan,
                regressed[i],
            )
        )
    return pd.DataFrame(table, columns=COLUMNS)


EVENTS = ["ad_view", "site_visit", "signup", "purchase", "delivery_late", "review", "hologram"]


@st.composite
def random_logs(draw):
    rows = draw(
        st.lists(
            st.tuples(st.integers(1, 5), st.integers(0, 40), st.sampled_from(EVENTS)),
            max_size=35,
        )
    )
    # Quarter days: ties are common and durations are exact in microseconds.
    return log(*((c, q / 4, e) for c, q, e in rows)) if rows else JOURNEY.iloc[:0]


FRAMEWORK_NAMES = st.sampled_from(["customer_journey", "decision_journey"])
SLOW = [HealthCheck.too_slow]


@settings(max_examples=50, deadline=None, suppress_health_check=SLOW)
@given(events=random_logs(), framework=FRAMEWORK_NAMES)
def test_stage_funnel_matches_brute_force(events, framework):
    got = stage_funnel(events, framework, unmapped="ignore")
    assert_same_frame(got, reference(events, framework))


# Each engine call costs a fixed ~0.1-0.2 s of planning, so fewer examples here.
@settings(max_examples=15, deadline=None, suppress_health_check=SLOW)
@given(events=random_logs(), framework=FRAMEWORK_NAMES)
def test_engines_match_pandas_on_random_logs(events, framework):
    want = collect(stage_funnel(events, framework, unmapped="ignore"))
    for engine in ("polars", "duckdb"):
        assert_same_frame(parity(stage_funnel, events, engine, framework, unmapped="ignore"), want)


# --------------------------------------------------------------------------- engines


@pytest.mark.parametrize("engine", ENGINES)
def test_engines_match_pandas_by_hand(engine):
    got = parity(stage_funnel, JOURNEY, engine, unmapped="ignore")
    assert_same_frame(got, hand_worked())


@pytest.fixture(scope="module")
def simulated():
    return jl.simulate(150, seed=12).events[list(jl.CANONICAL_COLUMNS)]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("framework", ["customer_journey", "business", "decision_journey"])
def test_engines_match_pandas_on_simulated_logs(engine, framework, simulated):
    want = collect(stage_funnel(simulated, framework))
    assert want["customers"].iloc[0] == simulated["customer_id"].nunique()
    assert_same_frame(parity(stage_funnel, simulated, engine, framework), want)


def test_simulated_funnel_agrees_with_reference(simulated):
    assert_same_frame(stage_funnel(simulated), reference(simulated))


def test_pyspark_matches_pandas(spark, simulated):
    # The simulator's events are all mapped; "ignore" spares Spark the unmapped-event count.
    got = parity(stage_funnel, simulated, "pyspark", spark=spark, unmapped="ignore")
    assert_same_frame(got, collect(stage_funnel(simulated)))
    # An empty Spark frame (the schema kept by filtering) still lists every stage.
    nobody = spark.createDataFrame(simulated).filter("customer_id < 0")
    empty = stage_funnel(nobody, unmapped="ignore")
    assert collect(empty)["customers"].tolist() == [0] * 5
