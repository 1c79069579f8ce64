"""Tests of journey_lib.io.profile: what a log's columns and events mean, on logs made in
awkward shapes here and on the real exports in ../shared/data."""

from __future__ import annotations

import gzip
import itertools

import hypothesis.strategies as st
import matplotlib
import numpy as np
import pandas as pd
import pytest
from engines import SHARED_DATA, missing
from hypothesis import given, settings

import journey_lib as jl
from journey_lib.errors import JourneyDataError, JourneyParameterError
from journey_lib.io import event_roles
from journey_lib.io.profile import LogProfile, profile

EVENTS = SHARED_DATA / "events"
CHURN = SHARED_DATA / "churn"


def shared(path):
    if not path.exists():
        missing(f"real data {path} is absent (the shared data folder is not next to the repo)")
    return path


def shop_log() -> pd.DataFrame:
    """A shop export as another tool writes it: user_id, event, timestamp."""
    rows = [
        ("u1", "catalog", "2020-01-01 10:00"),
        ("u1", "cart", "2020-01-01 10:05"),
        ("u1", "payment_done", "2020-01-01 10:09"),
        ("u2", "catalog", "2020-01-02 09:00"),
        ("u2", "cart", "2020-01-02 09:30"),
        ("u2", "payment_done", "2020-01-03 08:00"),
        ("u3", "catalog", "2020-01-03 12:00"),
        ("u4", "cart", "2020-01-04 12:00"),
        ("u4", "catalog", "2020-01-04 12:01"),
    ]
    return pd.DataFrame(rows, columns=["user_id", "event", "timestamp"])


# --- logs made here ----------------------------------------------------------------------


def test_shop_export_needs_no_hint():
    p = profile(shop_log())
    assert p.shape == "events"
    assert dict(p.columns) == {
        "timestamp": "timestamp",
        "user_id": "customer_id",
        "event": "event",
    }
    assert p.conversion == "payment_done"
    # No sign-up event: the first conversion makes a customer.
    assert p.acquisition == "payment_done"
    assert p.churn_event is None
    # u1 to u3 start with catalog, u4 with cart; both converters did cart in between.
    assert p.funnel == ("catalog", "cart", "payment_done")
    assert dict(p.kinds) == {
        "catalog": "evaluation",
        "cart": "evaluation",
        "payment_done": "conversion",
    }
    assert p.unmapped == {}
    assert p.observed["customers"] == 4 and p.observed["rows"] == 9
    assert "[sure]" in p.evidence["column customer_id"]


def test_profile_reads_the_log_it_describes():
    raw = shop_log()
    p = profile(raw)
    log = p.load(raw)
    assert list(log.columns[:5]) == ["customer_id", "timestamp", "event", "channel", "value"]
    assert log["customer_id"].tolist() == ["u1"] * 3 + ["u2"] * 3 + ["u3"] + ["u4"] * 2
    funnel = jl.funnel(log, list(p.funnel))
    # Counted by hand: 4 customers did catalog; u1, u2 then cart (u4's cart came first);
    # u1, u2 paid.
    assert funnel["customers"].tolist() == [4, 2, 2]


@pytest.mark.parametrize(
    ("header", "sep", "expected"),
    [
        ("CustomerID,EventName,EventTime", ",", ("CustomerID", "EventName", "EventTime")),
        ("Customer ID;Event Type;Occurred At", ";", ("Customer ID", "Event Type", "Occurred At")),
        ("customer-id\taction\tcreated-at", "\t", ("customer-id", "action", "created-at")),
        ("clientId|activity|ts", "|", ("clientId", "activity", "ts")),
    ],
)
def test_header_conventions(tmp_path, header, sep, expected):
    lines = [header] + [
        sep.join(r) for r in shop_log().astype(str)[["user_id", "event", "timestamp"]].values
    ]
    path = tmp_path / "log.txt"
    path.write_text("\n".join(lines) + "\n")
    p = profile(path)
    customer, event, time = expected
    assert p.column("customer_id") == customer
    assert p.column("event") == event
    assert p.column("timestamp") == time
    assert p.conversion == "payment_done"


def test_unnamed_columns_are_read_by_content():
    raw = shop_log().rename(columns={"user_id": "who", "event": "what", "timestamp": "when"})
    p = profile(raw)
    assert (p.column("customer_id"), p.column("event"), p.column("timestamp")) == (
        "who",
        "what",
        "when",
    )
    # "when" is named like a time; the other two are judged by content alone.
    assert p.evidence["column customer_id"].endswith("[likely]")
    assert p.evidence["column event"].endswith("[likely]")


def test_leading_zero_ids_stay_text(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text(
        "account,event,time\n007,visit,2024-01-01\n7,visit,2024-01-02\n007,order,2024-01-03\n"
        "012,visit,2024-01-02\n"
    )
    p = profile(path)
    assert p.column("customer_id") == "account"
    assert p.observed["customers"] == 3  # "007" and "7" are two customers
    log = p.load(path)
    assert sorted(log["customer_id"].unique()) == ["007", "012", "7"]
    assert p.conversion == "order"


def test_mixed_offsets_and_process_columns(tmp_path):
    path = tmp_path / "process.csv"
    path.write_text(
        "case:concept:name,concept:name,time:timestamp,case:channel\n"
        "c1,Register,2011-03-26 01:30:00+01:00,Desk\n"
        "c1,Decide,2011-03-28 09:00:00+02:00,Desk\n"
        "c2,Register,2011-03-27 10:00:00+02:00,Post\n"
        "c3,Register,2011-03-27 11:00:00+02:00,Post\n"
        "c3,Decide,2011-03-29 11:00:00+02:00,Post\n"
    )
    p = profile(path)
    assert p.shape == "process"
    assert p.column("customer_id") == "case:concept:name"
    assert p.column("channel") == "case:channel"
    # No conversion word: the commonest last event of a case (two of three) is the outcome.
    assert p.conversion == "Decide"
    assert "'Decide' ends the most cases (67%)" in p.evidence["conversion"]
    log = p.load(path)
    assert log["timestamp"].tolist()[:3] == [
        pd.Timestamp("2011-03-26 00:30", tz="UTC"),
        pd.Timestamp("2011-03-28 07:00", tz="UTC"),
        pd.Timestamp("2011-03-27 08:00", tz="UTC"),
    ]


def test_transaction_table_becomes_purchases(tmp_path):
    path = tmp_path / "tx.csv.gz"
    with gzip.open(path, "wt") as f:
        f.write(
            "InvoiceNo,CustomerID,InvoiceDate,Amount\n"
            "1,0012,2023-01-05,10.5\n"
            "2,0012,2023-02-05,20\n"
            "3,0013,2023-02-06,-4\n"
            "4,0014,2023-02-07,8\n"
            "5,,2023-02-08,9\n"
        )
    p = profile(path)
    assert p.shape == "transactions"
    assert p.column("value") == "Amount" and p.column("invoice") == "InvoiceNo"
    assert p.conversion == "purchase"
    assert p.funnel == ("purchase", "purchase")
    report = p.read(path)
    clean = report.clean
    assert clean["customer_id"].tolist() == ["0012", "0012", "0013", "0014"]
    assert clean["event"].tolist() == ["purchase", "purchase", "return", "purchase"]
    assert clean["value"].tolist() == [10.5, 20.0, -4.0, 8.0]
    # The row without a customer is quarantined, not dropped.
    assert len(report.quarantine) == 1
    assert report.quarantine["reason"].tolist() == ["missing customer id"]


def test_log_without_event_names_is_one_activity():
    raw = pd.DataFrame(
        {"visitor": ["a", "a", "b"], "ts": ["2024-01-01", "2024-01-03", "2024-01-02"]}
    )
    p = profile(raw)
    assert p.shape == "events"
    log = p.load(raw)
    assert log["event"].tolist() == ["activity"] * 3


def test_one_event_type_log():
    raw = pd.DataFrame(
        {
            "user": ["a", "a", "b", "c", "c", "c"],
            "event": ["login"] * 6,
            "time": pd.date_range("2024-01-01", periods=6, freq="D", tz="UTC"),
        }
    )
    p = profile(raw)
    assert p.conversion == "login"
    assert p.funnel == ("login", "login")
    assert "one event type" in p.evidence["conversion"]


def test_two_week_and_ten_year_spans():
    rng = np.random.default_rng(0)
    short = pd.DataFrame(
        {
            "customer_id": rng.integers(0, 40, 400),
            "timestamp": pd.Timestamp("2024-03-01", tz="UTC")
            + pd.to_timedelta(rng.uniform(0, 14, 400), unit="D"),
            "event": rng.choice(["visit", "purchase"], 400),
        }
    )
    p = profile(short)
    assert p.period == "day"
    horizon_days = pd.Timedelta(p.horizon).days
    assert 1 <= horizon_days <= 7  # at most half the span
    last_day = short["timestamp"].max().floor("D")
    assert pd.Timestamp(p.cutoff, tz="UTC") == last_day - pd.Timedelta(p.horizon)

    long = short.assign(
        timestamp=pd.Timestamp("2014-01-01", tz="UTC")
        + pd.to_timedelta(rng.uniform(0, 3650, 400), unit="D")
    )
    assert profile(long).period == "quarter"


def test_simulator_log_keeps_its_vocabulary():
    sim = jl.simulate(300, seed=1)
    p = profile(sim.events)
    assert p.conversion == "purchase"
    assert p.acquisition == "signup"
    assert p.churn_event == "cancellation"
    assert set(p.advocacy) == {"review", "referral"}
    assert p.unmapped == {}
    assert p.funnel[0] == "ad_view" and p.funnel[-1] == "purchase"


# --- hints and bad input -------------------------------------------------------------------


def test_hints_win():
    p = profile(
        shop_log(),
        conversion="cart",
        funnel=["catalog", "cart"],
        period="week",
        stages={"catalog": "Awareness"},
        kinds={"catalog": "awareness"},
    )
    assert p.conversion == "cart"
    assert p.funnel == ("catalog", "cart")
    assert p.period == "week"
    assert dict(p.stages) == {"catalog": "Awareness"}
    assert p.kinds["catalog"] == "awareness"
    assert p.evidence["conversion"] == "given [given]"


def test_column_named_twice():
    with pytest.raises(JourneyParameterError, match=r"both 'user_id' and 'event' as 'customer_id'"):
        profile(shop_log(), columns={"user_id": "customer_id", "event": "customer_id"})


def test_absent_conversion_names_the_events():
    with pytest.raises(JourneyParameterError) as info:
        profile(shop_log(), conversion="purchase")
    message = str(info.value)
    assert "conversion names ['purchase']" in message
    assert "'catalog'" in message and "'payment_done'" in message


def test_one_event_in_two_roles():
    with pytest.raises(JourneyParameterError, match="conversion and churn_event are both 'cart'"):
        profile(shop_log(), conversion="cart", churn_event="cart")


def test_hint_naming_an_absent_column():
    with pytest.raises(JourneyDataError, match=r"columns= names \['uid'\]"):
        profile(shop_log(), columns={"uid": "customer_id"})


def test_no_customer_or_time_column():
    raw = pd.DataFrame({"a": [1.5, 2.5, 3.5], "b": [0.1, 0.2, 0.3]})
    with pytest.raises(JourneyDataError) as info:
        profile(raw)
    message = str(info.value)
    assert "no column can be the customer or the time" in message
    assert "['a', 'b']" in message
    assert "--columns a=customer_id,b=timestamp" in message


# --- the profile object ----------------------------------------------------------------------


def test_yaml_round_trip(tmp_path):
    p = profile(shop_log())
    path = tmp_path / "journey.yaml"
    text = p.to_yaml(path)
    assert text.startswith("# journey-lab log profile")
    back = LogProfile.from_yaml(path)
    assert back == p
    assert LogProfile.from_yaml(text) == p
    with pytest.raises(AttributeError):
        p.conversion = "cart"  # frozen
    with pytest.raises(TypeError):
        p.columns["x"] = "value"  # its mappings too


def test_yaml_errors(tmp_path):
    with pytest.raises(JourneyParameterError, match=r"unknown profile entries \['conversions'\]"):
        LogProfile.from_yaml("conversions: purchase\nshape: events\n")
    with pytest.raises(JourneyParameterError, match="shape must be one of"):
        LogProfile.from_yaml("shape: spreadsheet\n")
    with pytest.raises(JourneyParameterError, match="no such file"):
        LogProfile.from_yaml(tmp_path / "missing.yaml")


def test_summary_reads_as_text():
    text = str(profile(shop_log()))
    assert text.splitlines()[0] == "Log profile: a touchpoint log (events)"
    assert "customer_id  user_id" in text
    assert "funnel       catalog -> cart -> payment_done" in text


# --- definitions against brute force ----------------------------------------------------------


def brute_force_funnel(log: pd.DataFrame, conversion: str) -> list[str]:
    """default_funnel's definition, one customer at a time."""
    firsts: dict = {}
    for row in log.sort_values("timestamp", kind="stable").itertuples():
        firsts.setdefault(row.customer_id, {}).setdefault(row.event, row.timestamp)
    entries = pd.Series(
        [min(f.items(), key=lambda kv: kv[1])[0] for f in firsts.values()]
    ).value_counts()
    entry = entries.index[0]
    if entry == conversion:
        return [conversion, conversion]
    done = [
        f for f in firsts.values() if entry in f and conversion in f and f[entry] <= f[conversion]
    ]
    if not done:
        return [entry, conversion]
    between = {}
    for f in done:
        for event, t in f.items():
            if event not in (entry, conversion) and f[entry] <= t < f[conversion]:
                between.setdefault(event, 0)
                between[event] += 1
    coverage = pd.Series(between, dtype=float) / len(done)
    kept = list(coverage[coverage >= 0.5].sort_values(ascending=False, kind="stable").index[:3])
    ranks = {e: [] for e in kept}
    for f in done:
        times = {e: f[e] for e in kept if e in f and f[entry] <= f[e] < f[conversion]}
        for e, t in times.items():
            ranks[e].append(1 + sum(u < t for u in times.values()))
    order = sorted(kept, key=lambda e: (np.median(ranks[e]), -coverage[e], e))
    return [entry, *order, conversion]


@st.composite
def logs(draw):
    n = draw(st.integers(3, 40))
    customers = draw(st.lists(st.integers(0, 6), min_size=n, max_size=n))
    # Distinct minutes: ties in first times would make "commonest" depend on order.
    minutes = draw(st.lists(st.integers(0, 10_000), min_size=n, max_size=n, unique=True))
    events = draw(st.lists(st.sampled_from(["a", "b", "c", "d", "buy"]), min_size=n, max_size=n))
    return pd.DataFrame(
        {
            "customer_id": customers,
            "timestamp": pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(minutes, "min"),
            "event": events,
        }
    )


@settings(max_examples=150, deadline=None)
@given(logs())
def test_default_funnel_matches_brute_force(log):
    if "buy" not in set(log["event"]):
        log.loc[log.index[-1], "event"] = "buy"
    entries = log.sort_values("timestamp").groupby("customer_id")["event"].first().value_counts()
    if len(entries) > 1 and entries.iloc[0] == entries.iloc[1]:
        return  # a tie for the commonest entry: test_funnel_entry_ties has the rule
    steps, _ = event_roles.default_funnel(log, "buy")
    expected = brute_force_funnel(log, "buy")
    if log["event"].nunique() == 1:
        expected = ["buy", "buy"]
    assert list(steps) == expected


def test_funnel_entry_ties():
    # a starts with a visit, b with a purchase: a journey does not begin at its end.
    log = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "event": ["visit", "purchase", "purchase"],
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-01"], utc=True),
        }
    )
    assert event_roles.default_funnel(log, "purchase")[0] == ("visit", "purchase")
    # Names that contain the arrow used to print funnels stay whole.
    odd = log.replace({"visit": "home -> shop"})
    assert event_roles.default_funnel(odd, "purchase")[0] == ("home -> shop", "purchase")


@settings(max_examples=100, deadline=None)
@given(logs())
def test_inactivity_is_the_90th_percentile_of_return_gaps(log):
    days = {}
    for row in log.itertuples():
        days.setdefault(row.customer_id, set()).add(row.timestamp.floor("D"))
    gaps = [(b - a).days for d in days.values() for a, b in itertools.pairwise(sorted(d))]
    result = event_roles.timing(log)  # no conversion: any event's days count
    inactivity = int(result["inactivity"][0].rstrip("D"))
    last_day = log["timestamp"].max().floor("D")
    room = (last_day - log["timestamp"].min()) / pd.Timedelta(days=1) / 2
    nice = (1, 2, 3, 7, 14, 30, 60, 90, 180, 365)
    wanted = next((d for d in nice if d >= np.quantile(gaps, 0.9)), 365) if gaps else 365
    allowed = max((d for d in nice if d < room), default=1)
    assert inactivity == min(wanted, allowed)


# --- real exports -------------------------------------------------------------------------------


def test_clickstream():
    p = profile(shared(EVENTS / "ecom_clickstream.csv.gz"))
    assert p.shape == "events"
    assert dict(p.columns) == {
        "timestamp": "timestamp",
        "user_id": "customer_id",
        "event": "event",
        "acquisition_channel": "channel",
        "session_id": "session_id",
    }
    assert p.properties == ("platform", "user_cohort", "user_lifecycle")
    assert p.conversion == "purchase"
    assert p.observed["customers"] == 600
    # 31,106 rows, 30 exact duplicates kept once.
    assert p.observed["rows"] == 31_076
    assert p.funnel[-1] == "purchase" and len(p.funnel) >= 3
    assert p.period == "week"
    assert set(p.unmapped) == set()


def test_rees46_sample():
    p = profile(shared(EVENTS / "rees46_ecommerce_sample.csv"))
    assert p.column("timestamp") == "event_time"
    assert p.column("event") == "event_type"
    assert p.column("value") == "price"
    assert p.column("session_id") == "user_session"
    assert p.conversion == "purchase"
    assert p.funnel == ("view", "purchase")
    assert p.observed["customers"] == 330


def test_pm4py_receipt_process_log():
    p = profile(shared(EVENTS / "pm4py_receipt.csv.gz"))
    assert p.shape == "process"
    assert p.column("customer_id") == "case:concept:name"
    assert p.column("event") == "concept:name"
    assert p.column("timestamp") == "time:timestamp"
    assert p.column("channel") == "case:channel"
    assert p.observed["customers"] == 1434 and p.observed["rows"] == 8577
    assert p.acquisition is None
    assert p.funnel[0] == "Confirmation of receipt"
    # No rule reads a permit process's activities; only the outcome has a kind.
    assert dict(p.kinds) == {p.conversion: "conversion"}
    assert len(p.unmapped) == 26


@pytest.mark.parametrize(
    ("name", "customer", "label"),
    [
        ("telco_customer_churn.csv", "customerID", "Churn"),
        ("bank_customer_churn.csv", "CustomerId", "Exited"),
        ("ecommerce_churn.csv", "CustomerID", "Churn"),
        ("telecom_churn_bigml_80.csv", None, "Churn"),
    ],
)
def test_customer_tables(name, customer, label):
    p = profile(shared(CHURN / name))
    assert p.shape == "customers"
    assert p.column("customer_id") == customer
    assert p.column("churn") == label
    assert p.observed["customers"] == p.observed["rows"]
    table = p.load(CHURN / name)
    assert table["churned"].dtype == bool


# --- functions that take a profile ----------------------------------------------------------


def shop_with_channels() -> pd.DataFrame:
    log = jl.load_events(shop_log(), columns={"user_id": "customer_id"})
    channels = ["search", "email", "search", "social", "email", "email", "tv", "tv", "search"]
    value = [0, 0, 30.0, 0, 0, 12.0, 0, 0, 0]
    return log.assign(channel=channels, value=value)


def test_functions_take_their_roles_from_the_profile():
    p = profile(shop_log())
    log = shop_with_channels()
    pd.testing.assert_frame_equal(
        jl.funnel(log, profile=p), jl.funnel(log, ["catalog", "cart", "payment_done"])
    )
    pd.testing.assert_frame_equal(
        jl.attribute(log, profile=p, model="last_touch"),
        jl.attribute(log, conversion="payment_done", model="last_touch"),
    )
    history = jl.rfm(log, observation_end="2020-01-10", profile=p)
    assert history["monetary_value"].tolist() == [0.0, 0.0]  # one purchase each: no repeats
    assert sorted(history["customer_id"].tolist()) == ["u1", "u2"]
    staged = jl.assign_stages(log, profile=p)
    assert staged["stage"].tolist() == [
        "Investigation & Consideration",
        "Investigation & Consideration",
        "Purchase",
        "Investigation & Consideration",
        "Investigation & Consideration",
        "Purchase",
        "Investigation & Consideration",
        "Investigation & Consideration",
        "Investigation & Consideration",
    ]
    assert jl.stage_funnel(log, profile=p)["customers"].tolist() == [0, 4, 2, 0, 0]
    rates = jl.churn_rate(log, profile=p)
    pd.testing.assert_frame_equal(
        rates, jl.churn_rate(log, period=p.period, inactivity=p.inactivity)
    )


def test_what_the_caller_says_beats_the_profile():
    p = profile(shop_log())
    log = shop_with_channels()
    assert jl.funnel(log, ["catalog", "cart"], profile=p)["customers"].tolist() == [4, 2]
    carts = jl.rfm(log, observation_end="2020-01-10", purchase_event="cart", profile=p)
    assert sorted(carts["customer_id"].tolist()) == ["u1", "u2", "u4"]
    assert jl.assign_stages(log, "business", profile=p)["stage"].iloc[2] == "Develop & Nurture"


def test_a_profile_must_be_a_profile():
    with pytest.raises(JourneyParameterError, match="profile must be a LogProfile"):
        jl.funnel(shop_with_channels(), profile={"funnel": ["catalog"]})


def test_funnel_without_steps_or_profile():
    with pytest.raises(JourneyParameterError, match="a funnel needs steps"):
        jl.funnel(shop_with_channels())


@pytest.mark.parametrize("framework", ["customer_journey", "business", "decision_journey"])
def test_profiled_stages_match_the_built_in_frameworks_on_the_simulator(framework):
    events = jl.simulate(400, seed=2).events
    p = profile(events, framework=framework)
    by_profile = jl.assign_stages(events, profile=p)["stage"]
    built_in = jl.assign_stages(events, framework)["stage"]
    pd.testing.assert_series_equal(by_profile, built_in)


def test_stage_overrides_and_unknown_stages():
    p = profile(shop_log(), stages={"catalog": "Awareness"})
    staged = jl.assign_stages(shop_with_channels(), profile=p)
    assert staged.loc[staged["event"] == "catalog", "stage"].unique().tolist() == ["Awareness"]
    bad = profile(shop_log(), stages={"catalog": "Curiosity"})
    with pytest.raises(JourneyParameterError, match=r"places events in \['Curiosity'\]"):
        jl.assign_stages(shop_with_channels(), profile=bad)


def test_churn_dataset_takes_its_roles_from_the_profile():
    events = jl.simulate(400, seed=4).events
    p = profile(events)
    by_profile = jl.churn.build_dataset(events, profile=p)
    spelled = jl.churn.build_dataset(
        events,
        cutoff=p.cutoff,
        horizon=p.horizon,
        inactivity=p.inactivity,
        acquisition_event=p.acquisition,
        purchase_event=p.conversion,
        framework=jl.analytics.stages.profile_framework(p),
    )
    pd.testing.assert_frame_equal(by_profile.X, spelled.X)
    pd.testing.assert_series_equal(by_profile.y, spelled.y)
    assert by_profile.report.cutoff == pd.Timestamp(p.cutoff, tz="UTC")
    assert by_profile.report.rule == spelled.report.rule  # the profile's inactivity, in words
    # The recipe keeps the profile's stages as plain values that rebuild the same features.
    recipe = by_profile.recipe
    assert recipe.to_dict()["framework"]["stages"]["Purchase"] == ["purchase"]
    rebuilt = jl.churn.FeatureRecipe.from_dict(recipe.to_dict())
    again = jl.churn.build_features(events, recipe=rebuilt)
    pd.testing.assert_frame_equal(again.X, by_profile.X, check_like=True)


def test_churn_dataset_options_given_beat_the_profile():
    events = jl.simulate(400, seed=4).events
    p = profile(events)
    given = jl.churn.build_dataset(events, profile=p, cutoff="2024-09-01", horizon="30D")
    assert given.report.cutoff == pd.Timestamp("2024-09-01", tz="UTC")
    assert given.report.label_end == pd.Timestamp("2024-10-01", tz="UTC")
    # Even a value equal to the default beats the profile when it is passed.
    short = profile(events, horizon="30D", inactivity="14D", cutoff="2024-09-01")
    assert "14D" in jl.churn.build_dataset(events, profile=short).report.rule
    assert jl.churn.build_dataset(events, profile=short).report.label_end == pd.Timestamp(
        "2024-10-01", tz="UTC"
    )
    explicit = jl.churn.build_dataset(events, profile=short, horizon="90D")
    assert explicit.report.label_end == pd.Timestamp("2024-11-30", tz="UTC")
    with pytest.raises(JourneyParameterError, match="give a cutoff"):
        jl.churn.build_dataset(events)


@st.composite
def spread_logs(draw):
    n = draw(st.integers(20, 80))
    customers = draw(st.lists(st.integers(0, 15), min_size=n, max_size=n))
    days = draw(st.lists(st.floats(0, 400), min_size=n, max_size=n))
    events = draw(st.lists(st.sampled_from(["visit", "cart", "purchase"]), min_size=n, max_size=n))
    return pd.DataFrame(
        {
            "customer_id": customers,
            "timestamp": pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(days, "D"),
            "event": events,
        }
    )


@settings(max_examples=60, deadline=None)
@given(spread_logs())
def test_the_profiles_own_cutoff_leaves_a_churn_window(log):
    """The defaults a profile chooses are ones the report accepts: a cutoff with more
    history before it than the horizon, and the whole horizon observed after it."""
    span = log["timestamp"].max().floor("D") - log["timestamp"].min()
    if span < pd.Timedelta(days=3):
        return  # no day-long horizon fits twice
    p = profile(log)
    data = jl.report.open_data(log, p)
    assert data.why_not("churn_window") is None, (p.cutoff, p.horizon, span)


def test_the_timeline_widget_shows_the_profiles_stages():
    from journey_lib import widgets

    matplotlib.use("Agg")
    log = shop_with_channels()
    p = profile(shop_log(), stages={"catalog": "Awareness"})
    widget = widgets.CustomerTimeline(log, ["u1"], profile=p)
    assert widget.data["stage"].tolist() == [
        "Awareness",
        "Investigation & Consideration",
        "Purchase",
    ]


# --- shapes the review found read wrongly ----------------------------------------------------


def test_a_time_column_needs_its_date():
    raw = pd.DataFrame(
        {
            "user": ["a", "a", "b"],
            "Date": ["2024-01-01", "2024-01-02", "2024-01-03"],
            "Time": ["10:05:00", "11:00:00", "09:00:00"],
            "event": ["visit", "buy", "visit"],
        }
    )
    assert profile(raw).column("timestamp") == "Date"


def test_a_churn_flag_on_every_row_of_a_log():
    raw = shop_log().assign(churned=[0, 0, 0, 1, 1, 0, 0, 0, 0])
    p = profile(raw)
    assert p.shape == "events" and p.column("customer_id") == "user_id"
    assert p.observed["customers"] == 4


def test_event_codes_named_as_events():
    raw = pd.DataFrame(
        {
            "user_id": ["a", "a", "b", "b"],
            "event": [1, 2, 1, 2],
            "ts": ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"],
        }
    )
    p = profile(raw, conversion=2)
    assert p.column("event") == "event" and p.conversion == "2"
    assert p.load(raw)["event"].tolist() == ["1", "2", "1", "2"]


def test_the_stronger_name_wins_and_a_tie_is_said():
    raw = pd.DataFrame(
        {
            "user_pseudo_id": ["a", "a", "b"],
            "page_title": ["Home", "Cart", "Home"],
            "event_name": ["page_view", "purchase", "page_view"],
            "event_timestamp": ["2024-01-01", "2024-01-02", "2024-01-03"],
        }
    )
    p = profile(raw)
    assert p.column("event") == "event_name" and p.conversion == "purchase"
    twice = pd.DataFrame(
        {
            "user": ["a", "a", "b"],
            "created_at": ["2024-01-01", "2024-01-02", "2024-01-03"],
            "occurred_at": ["2024-01-01", "2024-01-02", "2024-01-04"],
            "event": ["visit", "buy", "visit"],
        }
    )
    assert profile(twice).evidence["column timestamp"].endswith("is named so too [likely]")


def test_amounts_are_not_customer_ids():
    raw = pd.DataFrame(
        {
            "Kunde": ["k1", "k1", "k2", "k3"],
            "Zeitpunkt": ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"],
            "Ereignis": ["besuch", "kauf", "besuch", "besuch"],
            "Betrag": ["0,00", "12,50", "0,00", "3,99"],
        }
    )
    assert profile(raw).column("customer_id") == "Kunde"


def test_hints_that_cannot_be_right():
    with pytest.raises(JourneyParameterError, match="not a positive duration"):
        profile(shop_log(), inactivity="banana")
    with pytest.raises(JourneyParameterError, match="not a date"):
        profile(shop_log(), cutoff="not a date")
    with pytest.raises(JourneyParameterError, match="at least two steps"):
        profile(shop_log(), funnel=["catalog"])
    with pytest.raises(JourneyParameterError, match="it is the conversion"):
        profile(shop_log(), kinds={"payment_done": "awareness"})
    with pytest.raises(JourneyParameterError, match="both name 'cart'"):
        profile(shop_log(), conversion="cart", advocacy=["cart"])
    with pytest.raises(JourneyParameterError, match="needs a churn column"):
        profile(shop_log(), shape="customers")
    given = profile(shop_log(), inactivity="2D")
    assert (given.inactivity, given.horizon) == ("2D", "2D")  # the horizon follows


def test_an_event_made_advocacy_by_hand_is_advocacy():
    p = profile(shop_log(), kinds={"cart": "advocacy"})
    assert p.advocacy == ("cart",) and p.kinds["cart"] == "advocacy"
