"""Customer lifetimes from a log (journey_lib.survival.customer_lifetimes): by hand, against a
loop over each customer's events, the simulator's true churn times, every engine alike, the
public logs in ../shared/data, and customer tables' tenure through the curves and the Cox
model."""

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd
import pytest
from engines import ENGINES, shared_file, to_engine
from hypothesis import given, settings
from hypothesis import strategies as st

import journey_lib as jl
from journey_lib.survival import CoxModel, customer_lifetimes, kaplan_meier, logrank_test

DAY = pd.Timedelta(days=1)
T0 = pd.Timestamp("2024-01-01", tz="UTC")


def log(rows):
    """(customer, day, event) rows as a log."""
    frame = pd.DataFrame(rows, columns=["customer_id", "day", "event"])
    frame["timestamp"] = T0 + frame.pop("day") * DAY
    return frame[["customer_id", "timestamp", "event"]]


def test_by_churn_event_or_inactivity_with_acquisition_and_cutoff():
    events = log(
        [
            (1, 0, "signup"),
            (1, 3, "visit"),
            (1, 10, "cancellation"),
            (1, 12, "cancellation"),
            (2, 4, "cancellation"),
            (2, 5, "signup"),
            (2, 20, "visit"),  # cancelled before signup
            (3, 1, "visit"),  # never a customer
            (4, 2, "signup"),
            (4, 25, "cancellation"),  # after the cutoff below
        ]
    )
    life = customer_lifetimes(events, acquisition="signup", churn_event="cancellation")
    assert life["customer_id"].tolist() == [1, 2, 4]
    # Customer 4 went quiet for 23 days before cancelling: a 20-day window churns them at
    # their signup. Customer 2's gaps (15 and 5 days) are shorter.
    quiet = customer_lifetimes(
        events, acquisition="signup", churn_event="cancellation", inactivity="20D"
    )
    assert quiet["duration"].tolist() == [10.0, 20.0, 0.0]
    assert quiet["churned"].tolist() == [True, False, True]
    assert life["duration"].tolist() == [10.0, 20.0, 23.0]  # 2 censored at the end, day 25
    assert life["churned"].tolist() == [True, False, True]
    assert life["churned_at"].iloc[0] == T0 + 10 * DAY and pd.isna(life["churned_at"].iloc[1])
    assert life["acquired_at"].tolist() == [T0, T0 + 5 * DAY, T0 + 2 * DAY]
    # At a cutoff of day 21 the later cancellation is not known: customer 4 is censored.
    then = customer_lifetimes(
        events, acquisition="signup", churn_event="cancellation", cutoff=T0 + 21 * DAY
    )
    assert then["duration"].tolist() == [10.0, 16.0, 19.0]
    assert then["churned"].tolist() == [True, False, False]


def test_by_inactivity():
    events = log(
        [
            (1, 0, "visit"),
            (1, 5, "visit"),
            (1, 40, "visit"),
            (1, 100, "visit"),  # gap 35 at 5
            (2, 10, "visit"),
            (2, 20, "visit"),  # last seen 20, now 100: lapsed at 20
            (3, 90, "visit"),  # 10 days before now: still a customer
        ]
    )
    life = customer_lifetimes(events, inactivity="30D")
    assert life["duration"].tolist() == [5.0, 10.0, 10.0]
    assert life["churned_at"].tolist()[:2] == [T0 + 5 * DAY, T0 + 20 * DAY]
    assert life["churned"].tolist() == [True, True, False]
    # A longer window: customer 1's gap of 35 days is not a lapse, the next one (60) is.
    longer = customer_lifetimes(events, inactivity="50D")
    assert longer["duration"].tolist() == [40.0, 10.0, 10.0]
    assert longer["churned"].tolist() == [True, True, False]


def test_the_profile_supplies_the_roles():
    events = log([(1, 0, "join"), (1, 4, "quit"), (2, 1, "join"), (2, 9, "visit")])
    profile = jl.LogProfile(acquisition="join", churn_event="quit")
    life = customer_lifetimes(events, profile=profile)
    assert life["duration"].tolist() == [4.0, 8.0]
    assert life["churned"].tolist() == [True, False]
    with pytest.raises(jl.JourneyDataError, match="acquisition event 'signup'"):
        customer_lifetimes(events, acquisition="signup")


def loop(events: pd.DataFrame, acquisition, churn, window, now) -> pd.DataFrame:
    """One customer at a time, one event at a time: the first churn event or lapse."""
    rows = []
    for customer, own in events.sort_values("timestamp").groupby("customer_id"):
        starts = own if acquisition is None else own[own["event"] == acquisition]
        if starts.empty:
            continue
        start = starts["timestamp"].min()
        after = own[own["timestamp"] >= start]
        end = None
        times = sorted(after["timestamp"])
        for here, there in zip(times, [*times[1:], now], strict=True):
            if there - here >= window:
                end = here
                break
        if churn is not None:
            hits = after[after["event"] == churn]["timestamp"]
            if len(hits) and (end is None or hits.min() < end):
                end = hits.min()
        rows.append((customer, ((end if end is not None else now) - start) / DAY, end is not None))
    return pd.DataFrame(rows, columns=["customer_id", "duration", "churned"])


events_strategy = st.lists(
    st.tuples(st.integers(1, 6), st.integers(0, 60), st.sampled_from(["a", "b", "c"])),
    min_size=1,
    max_size=50,
)


@settings(max_examples=80, deadline=None)
@given(
    events_strategy, st.sampled_from([None, "a"]), st.sampled_from([None, "c"]), st.integers(1, 30)
)
def test_equals_a_loop_over_each_customer(rows, acquisition, churn, days):
    events = log(rows)
    if acquisition is not None and not (events["event"] == acquisition).any():
        return
    now = events["timestamp"].max()
    want = loop(events, acquisition, churn, days * DAY, now)
    got = customer_lifetimes(
        events, acquisition=acquisition, churn_event=churn, inactivity=f"{days}D"
    )
    pd.testing.assert_frame_equal(got[list(want.columns)], want, check_dtype=False)


@pytest.mark.parametrize("engine", ENGINES)
def test_every_engine_gives_the_same_lifetimes(engine):
    sim = jl.simulate(400, seed=3)
    for options in (
        {"acquisition": "purchase", "churn_event": "cancellation"},
        {"inactivity": "45D"},
    ):
        want = customer_lifetimes(sim.events, **options)
        got = customer_lifetimes(to_engine(sim.events, engine), **options)
        got = _to_pandas(got).sort_values("customer_id", ignore_index=True)
        pd.testing.assert_frame_equal(
            got[["customer_id", "duration", "churned"]],
            want[["customer_id", "duration", "churned"]],
            check_dtype=False,
        )


def _to_pandas(native):
    frame = nw.from_native(native)
    if isinstance(frame, nw.LazyFrame):
        frame = frame.collect()
    return frame.to_pandas()


def test_the_simulators_churn_times_come_back():
    sim = jl.simulate(2000, seed=11)
    truth = sim.truth.customers[sim.truth.customers["purchased"]].set_index("customer_id")
    options = {"acquisition": "purchase", "churn_event": "cancellation"}
    life = customer_lifetimes(sim.events, **options).set_index("customer_id")
    assert set(life.index) == set(truth.index)
    truth = truth.loc[life.index]
    assert (life["acquired_at"] == truth["first_purchase"]).all()
    # The churners who cancelled: their cancellation is their true churn time.
    cancelled = customer_lifetimes(sim.events, by_inactivity=False, **options)
    cancelled = cancelled.set_index("customer_id").query("churned")
    assert len(cancelled) > 30
    assert (cancelled["churned_at"] == truth.loc[cancelled.index, "churn_time"]).all()
    # Every true churn at least 90 days before the end is found, by its cancellation or at
    # the last event before the customer went quiet.
    early = truth["churned"] & (truth["churn_time"] <= sim.truth.end - 90 * DAY)
    assert early.sum() > 60
    assert life.loc[early, "churned"].all()
    assert (life.loc[early, "churned_at"] <= truth.loc[early, "churn_time"]).all()


# -- real data --------------------------------------------------------------------------


def test_a_public_clickstream_by_inactivity():
    path = shared_file("events", "ecom_clickstream.csv.gz")
    events = jl.profile(path).load(path)
    life = customer_lifetimes(events, inactivity="30D")
    assert len(life) == events["customer_id"].nunique() == 600
    now = events["timestamp"].max()
    want = loop(events, None, None, pd.Timedelta(days=30), now)
    pd.testing.assert_frame_equal(life[list(want.columns)], want, check_dtype=False)
    km = kaplan_meier(life)
    assert 0 < km.table["survival"].iloc[-1] < 1


def test_a_process_log_with_its_own_column_names():
    path = shared_file("events", "pm4py_receipt.csv.gz")
    profile = jl.profile(path)
    events = profile.load(path)
    # A case's lifetime: its first activity to its last before a 30-day lull.
    life = customer_lifetimes(events, inactivity="30D")
    assert len(life) == 1434
    assert (life["duration"] >= 0).all() and life["churned"].mean() > 0.9


def test_customer_tables_tenure_through_curves_and_cox():
    path = shared_file("churn", "telco_customer_churn.csv")
    table = jl.validate_customers(pd.read_csv(path), customer="customerID", churn="Churn").clean
    km = kaplan_meier(table, duration="tenure", by="Contract")
    medians = km.median().set_index("Contract")["median"]
    # Month-to-month customers leave within a few years; two-year contracts rarely do.
    assert medians["Month-to-month"] < 40 and np.isnan(medians["Two year"])
    test = logrank_test(table, by="Contract", duration="tenure")
    assert test.p_value < 1e-100 and test.dof == 2
    model = CoxModel().fit(
        table, duration="tenure", features=["Contract", "MonthlyCharges", "SeniorCitizen"]
    )
    assert model.references_ == {"Contract": "Month-to-month"}
    hr = model.summary_["hazard_ratio"]
    assert hr["Contract=Two year"] < hr["Contract=One year"] < 0.5
