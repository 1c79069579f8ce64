"""A campaign's customers from a log (issue 20): the treatment column found by the profile,
flags read in the words exports use, features from before the campaign, churn after it,
and the simulator's truth recovered through a log in another shape."""

import numpy as np
import pandas as pd
import pytest
from engines import ENGINES, shared_file, to_engine

import journey_lib as jl
from journey_lib.errors import JourneyDataError, JourneyParameterError
from journey_lib.uplift import campaign_dataset, find_campaigns, treatment_flags

START = pd.Timestamp("2024-03-01", tz="UTC")


def _log(rows):
    frame = pd.DataFrame(rows, columns=["customer_id", "timestamp", "event", "treatment"])
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True, format="ISO8601")
    frame["treatment"] = frame["treatment"].astype("Int8")
    frame["channel"] = "web"
    frame["value"] = 10.0
    return frame


@pytest.fixture(scope="module")
def hand():
    """Six buyers; an offer on 2024-03-01 to 1-3, 4-6 held out. With a 30-day window and a
    30-day lapse, churned means no event from 03-31 to 04-30 (the log ends 05-15)."""
    rows = []
    for c in range(1, 7):
        rows.append((c, "2024-01-10", "purchase", None))
        rows.append((c, "2024-02-20", "site_visit", None))
        rows.append((c, "2024-03-01 10:00", "retention_offer", 1 if c <= 3 else 0))
    # Stayers: 1, 2 and 4 visit in April. 3, 5 and 6 fall silent, though 5 and 6 visit in
    # March: churn inside the window. The offer row itself is never activity.
    rows += [(1, "2024-04-10", "site_visit", None), (2, "2024-04-20", "purchase", None)]
    rows += [(4, "2024-04-05", "site_visit", None), (5, "2024-03-10", "site_visit", None)]
    rows += [(6, "2024-03-20", "site_visit", None), (1, "2024-05-15", "site_visit", None)]
    return _log(rows)


def test_the_hand_log_gives_arms_labels_and_the_campaigns_start(hand):
    data = campaign_dataset(hand, within="30D", inactivity="30D")
    X, t, y = data
    assert data.start == START and data.end == START + pd.Timedelta(days=30)
    assert t.to_dict() == {1: 1, 2: 1, 3: 1, 4: 0, 5: 0, 6: 0}
    assert y.to_dict() == {1: 0, 2: 0, 3: 1, 4: 0, 5: 1, 6: 1}
    assert "treatment_mean" not in X.columns and not any("offer" in c for c in X.columns)
    # Features are from before the start: 2 events each (the purchase and the visit).
    assert (X["events_total"] == 2).all()
    assert data.counts == {
        "in_campaign": 6,
        "both_arms": 0,
        "not_customers": 0,
        "used": 6,
        "offered": 3,
        "held_out": 3,
    }
    effect = jl.uplift.campaign_effect(data.frame())
    assert effect["effect"].iloc[0] == pytest.approx(1 / 3 - 2 / 3)


def test_customers_in_both_arms_and_lapsed_ones_are_left_out_and_counted(hand):
    twice = _log([(2, "2024-03-01 11:00", "retention_offer", 0)])
    lapsed = _log(
        [(7, "2023-10-01", "purchase", None), (7, "2024-03-01 10:00", "retention_offer", 1)]
    )
    log = pd.concat([hand, twice, lapsed], ignore_index=True)
    data = campaign_dataset(log, within="30D", inactivity="30D")
    assert data.counts["both_arms"] == 1 and data.example_both_arms == 2
    assert data.counts["not_customers"] == 1  # 7 had lapsed 30 days before the start
    assert 2 not in data.X.index and 7 not in data.X.index
    text = data.summary()
    assert "1 customers logged both offered and held out are left out, e.g. 2" in text
    assert "1 of the 7 flagged customers are left out" in text


def test_several_campaigns_need_a_name_and_unknown_ones_are_refused(hand):
    other = hand[hand["event"] == "retention_offer"].assign(
        event="winback", timestamp=pd.Timestamp("2024-03-02 09:00", tz="UTC")
    )
    log = pd.concat([hand, other], ignore_index=True)
    found = find_campaigns(log)
    assert found["campaign"].tolist() == ["retention_offer", "winback"]
    with pytest.raises(JourneyParameterError, match=r"2 campaigns.*'retention_offer' \(6"):
        campaign_dataset(log, within="30D", inactivity="30D")
    with pytest.raises(JourneyParameterError, match="no row of event 'nope'"):
        campaign_dataset(log, campaign="nope", within="30D", inactivity="30D")
    data = campaign_dataset(log, campaign="winback", within="30D", inactivity="30D")
    assert data.start == pd.Timestamp("2024-03-02", tz="UTC")
    assert data.y.to_dict() == {1: 0, 2: 0, 3: 1, 4: 0, 5: 1, 6: 1}


def test_no_campaigns_rows_count_as_activity_or_features(hand):
    # A later campaign whose rows fall in the window where churn is read: had they counted
    # as activity, customers 3, 5 and 6 would have stayed.
    later = hand[hand["event"] == "retention_offer"].assign(
        event="winback", timestamp=pd.Timestamp("2024-04-10 09:00", tz="UTC")
    )
    earlier = later.assign(event="welcome", timestamp=pd.Timestamp("2024-02-25", tz="UTC"))
    log = pd.concat([hand, later, earlier], ignore_index=True)
    data = campaign_dataset(log, campaign="retention_offer", within="30D", inactivity="30D")
    assert data.y.to_dict() == {1: 0, 2: 0, 3: 1, 4: 0, 5: 1, 6: 1}
    # The earlier campaign's rows are no features either: two events each, as without them.
    assert (data.X["events_total"] == 2).all()
    assert not any("welcome" in c or "treatment" in c for c in data.X.columns)


def test_a_log_without_flags_or_arms_says_what_is_missing(hand):
    with pytest.raises(JourneyParameterError, match="no treatment column"):
        campaign_dataset(hand.drop(columns="treatment"))
    with pytest.raises(JourneyDataError, match="holds no campaign"):
        campaign_dataset(hand.assign(treatment=pd.NA))
    one_arm = hand.assign(treatment=hand["treatment"].where(hand["treatment"].isna(), 1))
    with pytest.raises(JourneyDataError, match="has no held-out customer"):
        campaign_dataset(one_arm, within="30D", inactivity="30D")
    with pytest.raises(JourneyDataError, match="the log ends"):
        campaign_dataset(hand, within="90D", inactivity="30D")


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1, 0, None], [1, 0, pd.NA]),
        ([1.0, 0.0, np.nan], [1, 0, pd.NA]),
        ([True, False], [1, 0]),
        (["Treatment", "Control"], [1, 0]),
        (["offer", "holdout", "HOLD OUT"], [1, 0, 0]),
        (["yes", "no"], [1, 0]),
    ],
)
def test_treatment_flags_read_the_words_exports_use(values, expected):
    assert treatment_flags(values).tolist() == expected


@pytest.mark.parametrize("name", ["holdout", "control_group", "Held Out", "is_control"])
def test_a_column_named_for_the_held_out_arm_reads_its_ones_as_held_out(name):
    assert treatment_flags([1, 0, True, False, "yes"], name=name).tolist() == [0, 1, 0, 1, 0]
    # Words that name an arm keep their meaning whatever the column's name.
    assert treatment_flags(["offer", "control"], name=name).tolist() == [1, 0]
    assert treatment_flags([1, 0], name="treatment_arm").tolist() == [1, 0]


def test_a_treated_value_is_compared_as_a_number_on_numbers():
    assert treatment_flags([1.0, 0.0, np.nan], treated_value=1).tolist() == [1, 0, pd.NA]
    with pytest.raises(JourneyDataError, match="treated_value='B' is on no row"):
        treatment_flags(["A", "C"], treated_value="B")


def test_the_window_is_checked_and_the_start_is_not_to_be_given(hand):
    with pytest.raises(JourneyParameterError, match="within must be a duration"):
        campaign_dataset(hand, within="3 months")
    with pytest.raises(JourneyParameterError, match="campaign_dataset sets cutoff itself"):
        campaign_dataset(hand, within="30D", inactivity="30D", cutoff="2024-02-01")


def test_unknown_flags_are_named_with_their_count():
    with pytest.raises(
        JourneyDataError, match=r"3 row\(s\).*'B' \(2 rows\), 'A' \(1 row\).*treated_v"
    ):
        treatment_flags(["A", "B", "B", "control"])
    assert treatment_flags(["A", "B", None], treated_value="B").tolist() == [0, 1, pd.NA]


def test_the_profile_finds_a_treatment_column_by_its_name_only():
    sim = jl.simulate(1500, seed=4, campaigns=[jl.Campaign("2024-06-03")])
    assert jl.profile(sim.events).column("treatment") == "treatment"
    assert jl.profile(jl.simulate(300, seed=4).events).column("treatment") is None
    table = pd.DataFrame(
        {
            "customer": range(200),
            "churned": [0, 1] * 100,
            "Partner": ["Yes", "No"] * 100,
            "holdout_group": ["control", "offer"] * 100,
        }
    )
    p = jl.profile(table)
    assert p.shape == "customers" and p.column("treatment") == "holdout_group"


def test_no_treatment_is_found_in_the_shared_churn_table():
    # Partner, Dependents, PaperlessBilling: two values each, and none is a campaign's flag.
    path = shared_file("churn", "telco_customer_churn.csv")
    assert jl.profile(path).column("treatment") is None


@pytest.fixture(scope="module")
def large():
    sim = jl.simulate(40_000, seed=2, campaigns=[jl.Campaign("2024-06-03")])
    return sim, campaign_dataset(sim.events, profile=jl.profile(sim.events))


def test_on_the_simulator_the_labels_are_the_true_outcomes_of_the_arm_drawn(large):
    sim, data = large
    truth = sim.truth.offers.set_index("customer_id")
    assert data.counts["in_campaign"] == len(truth)
    assert data.counts["used"] >= 0.95 * len(truth)
    assert data.treatment.to_dict() == truth.loc[data.X.index, "treated"].astype(int).to_dict()
    o = truth.loc[data.X.index]
    drawn = np.where(o["treated"], o["churned_if_offered"], o["churned_if_held_out"])
    # Churn read from inactivity: a customer who left on the window's last days, or is
    # silent for 90 days yet there, disagrees. About 1%.
    assert (drawn == data.y.to_numpy()).mean() > 0.98
    effect = jl.uplift.campaign_effect(data.frame())
    assert effect["low"].iloc[0] <= o["uplift"].mean() <= effect["high"].iloc[0]
    assert effect["high"].iloc[0] < 0  # the offer works on average


def test_an_export_in_another_shape_gives_the_same_campaign(large, tmp_path):
    sim, data = large
    raw = sim.events.rename(columns={"customer_id": "Client Ref", "timestamp": "When"})
    raw = raw.rename(columns={"treatment": "test_arm"})
    raw["test_arm"] = raw["test_arm"].map({1: "Offer", 0: "Control"})
    raw["When"] = raw["When"].dt.tz_convert("Europe/Berlin").dt.strftime("%d/%m/%Y %H:%M:%S%z")
    path = tmp_path / "crm export.csv"
    raw.to_csv(path, sep=";", index=False, encoding="latin-1")
    p = jl.profile(path)
    assert p.column("treatment") == "test_arm"
    log = p.read(path).clean
    again = campaign_dataset(log, profile=p)
    assert again.start == data.start
    # Ids come back as text from the file; the arms and outcomes are the same.
    arms = again.treatment.rename(index=int).sort_index()
    pd.testing.assert_series_equal(arms, data.treatment.sort_index(), check_index_type=False)
    assert again.y.rename(index=int).sort_index().tolist() == data.y.sort_index().tolist()


@pytest.fixture(scope="module")
def small():
    sim = jl.simulate(5000, seed=3, campaigns=[jl.Campaign("2024-06-03")])
    profile = jl.profile(sim.events)
    return sim.events, profile, campaign_dataset(sim.events, profile=profile)


def _same(got, want):
    for name in ("treatment", "y"):
        pd.testing.assert_series_equal(
            getattr(got, name).sort_index(), getattr(want, name).sort_index(), check_dtype=False
        )
    pd.testing.assert_frame_equal(got.X.sort_index(), want.X.sort_index(), check_dtype=False)
    assert got.counts == want.counts and got.start == want.start


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
def test_every_engine_gives_the_pandas_campaign(small, engine):
    events, profile, want = small
    _same(campaign_dataset(to_engine(events, engine), profile=profile), want)
    found = find_campaigns(to_engine(events, engine), profile=profile)
    assert found["customers"].tolist() == [want.counts["in_campaign"]]


def test_spark_gives_the_pandas_campaign(small, spark):
    events, profile, want = small
    _same(campaign_dataset(to_engine(events, "pyspark", spark), profile=profile), want)
