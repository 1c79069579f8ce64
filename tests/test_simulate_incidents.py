"""Planted incidents in the simulator (issue 18): each does what its ground truth says, only
where and when it says, and the simulator without incidents is unchanged to the bit."""

import numpy as np
import pandas as pd
import pytest

import journey_lib as jl
from journey_lib.simulator import INCIDENT_EVENTS, SEGMENTS, TRUST_DRIVERS, Incident

DAY = pd.Timedelta(days=1)
# A 30-day window of orders, well inside the default year.
S, E = pd.Timestamp("2024-05-06", tz="UTC"), pd.Timestamp("2024-06-05", tz="UTC")


def _fingerprint(sim):
    def h(frame):
        return int(pd.util.hash_pandas_object(frame, index=False).sum())

    truth = sim.truth.customers
    # Rounded: the truth's hazards go through vectorised exp, whose last bit may vary by CPU.
    truth = truth.assign(**{c: truth[c].round(9) for c in truth.select_dtypes("float").columns})
    return h(sim.events), h(sim.customers), h(truth)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        (
            {"n_customers": 800, "seed": 3},
            (14239033010411732542, 15148522601058811579, 13474592015894798987),
        ),
        (
            {"n_customers": 800, "seed": 11, "days": 200},
            (4648518944530048449, 7934015122831512131, 5896060138654277801),
        ),
    ],
)
def test_without_incidents_the_simulation_is_unchanged(kwargs, expected):
    # Recorded before incidents existed (commit b9007d9): the no-incident path must draw the
    # same random numbers in the same order, so every test built on exact values still holds.
    assert _fingerprint(jl.simulate(**kwargs)) == expected
    assert _fingerprint(jl.simulate(**kwargs, incidents=[])) == expected
    assert _fingerprint(jl.simulate(**kwargs, campaigns=[])) == expected


def _deliveries(sim, start=S, end=E):
    """Deliveries of orders placed inside ``[start, end)`` and of orders placed well outside.

    A delivery comes 1 to 8 days after its order, so one logged in ``[start + 8, end + 1)``
    belongs to an order inside the window, and one logged before ``start`` or from
    ``end + 8`` on to an order outside it.
    """
    log = sim.events.merge(sim.customers[["customer_id", "segment"]], on="customer_id")
    d = log[log["event"].isin(["delivery_late", "delivery_on_time"])]
    d = d.assign(late=d["event"].eq("delivery_late"))
    inside = (d["timestamp"] >= start + 8 * DAY) & (d["timestamp"] < end + DAY)
    outside = (d["timestamp"] < start) | (d["timestamp"] >= end + 8 * DAY)
    return d[inside], d[outside]


def _late_share(level, heterogeneity=1.0):
    """E[1 - sigmoid(logit(level) + heterogeneity * z)], z standard normal (Gauss-Hermite)."""
    z, w = np.polynomial.hermite_e.hermegauss(80)
    p = 1 / (1 + np.exp(-(np.log(level / (1 - level)) + heterogeneity * z)))
    return float(np.sum(w * (1 - p)) / np.sum(w))


def test_experience_incident_makes_deliveries_late_inside_its_window_only():
    sim = jl.simulate(
        20_000, seed=4, incidents=[Incident.experience("keeping_promises", 0.2, S, E)]
    )
    inside, outside = _deliveries(sim)
    assert len(inside) > 800 and len(outside) > 10_000
    # Customers' own levels scatter around 0.2 (and 0.85 outside) on the logit scale, so the
    # late share is the mean of 1 - sigmoid(logit(level) + z): 0.76 inside, 0.19 outside.
    # Churn thins the worst-served a little, hence a tolerance wider than binomial error.
    assert inside["late"].mean() > 0.6
    assert abs(inside["late"].mean() - _late_share(0.2)) < 0.06
    assert outside["late"].mean() < 0.3
    assert abs(outside["late"].mean() - _late_share(0.85)) < 0.03
    truth = sim.truth.incidents.iloc[0]
    assert (truth["metric"], truth["detail"], truth["direction"]) == ("events", "delivery_late", 1)


def test_experience_incident_on_one_segment_moves_only_that_segment():
    incident = Incident.experience(
        "keeping_promises", 0.2, S, E, column="segment", value="enterprise"
    )
    sim = jl.simulate(20_000, seed=4, incidents=[incident])
    inside, outside = _deliveries(sim)
    share = inside.groupby("segment")["late"].agg(["mean", "size"])
    before = outside.groupby("segment")["late"].mean()
    assert share.loc["enterprise", "size"] > 100
    assert share.loc["enterprise", "mean"] > 0.6 > 0.3 > before["enterprise"]
    for segment in ("consumer", "small_business"):
        mean, size = share.loc[segment]
        # Unmoved: within four binomial standard errors of the same segment outside.
        assert abs(mean - before[segment]) < 4 * np.sqrt(0.2 * 0.8 / size)


@pytest.mark.parametrize("driver", TRUST_DRIVERS)
def test_every_experience_incident_moves_its_event_the_stated_way(driver):
    level = 0.05 if getattr(jl.SimulationParameters(), driver) > 0.5 else 0.95
    sim = jl.simulate(8_000, seed=2, incidents=[Incident.experience(driver, level, S, E)])
    base = jl.simulate(8_000, seed=2)
    truth = sim.truth.incidents.iloc[0]
    event = INCIDENT_EVENTS[driver]
    assert truth["detail"] == event and truth["effect"] == level

    def count(s):
        log = s.events
        return int(((log["event"] == event) & log["timestamp"].between(S, E + 8 * DAY)).sum())

    # Same orders (no draw changes before churn), so the counts move by the planted effect.
    assert np.sign(count(sim) - count(base)) == truth["direction"]
    assert abs(count(sim) - count(base)) > 4 * np.sqrt(count(base) + 1)


def _decisions(sim):
    """Per customer: sign-up time, decision time (recovered from it) and whether they bought."""
    table = sim.customers.set_index("customer_id")[["first_seen", "segment"]]
    log = sim.events
    signup = log[log["event"] == "signup"].groupby("customer_id")["timestamp"].first()
    table = table.assign(signup=signup)
    # The sign-up comes at 95% of the consideration period, the decision at its end.
    table["decision"] = table["first_seen"] + (table["signup"] - table["first_seen"]) / 0.95
    table["purchased"] = sim.truth.customers.set_index("customer_id")["purchased"]
    return table


def test_conversion_incident_moves_only_its_segment_and_window():
    start, end = pd.Timestamp("2024-06-03", tz="UTC"), pd.Timestamp("2024-08-05", tz="UTC")
    incident = Incident.conversion("purchase", -3, start, end, column="segment", value="consumer")
    base = _decisions(jl.simulate(20_000, seed=5))
    sim = jl.simulate(20_000, seed=5, incidents=[incident])
    hit = _decisions(sim)
    pd.testing.assert_series_equal(base["signup"], hit["signup"])  # the steps before: same
    touched = (base["segment"] == "consumer") & (base["decision"] >= start)
    touched &= base["decision"] < end
    signed = base["signup"].notna()
    assert (touched & signed).sum() > 500
    # Same random draws: nobody outside the segment or the window changes whether they bought,
    # and inside nobody starts buying.
    changed = base["purchased"] != hit["purchased"]
    assert not (changed & ~touched).any()
    assert not (hit["purchased"] & ~base["purchased"]).any()
    before = base.loc[touched & signed, "purchased"].mean()
    during = hit.loc[touched & signed, "purchased"].mean()
    assert before > 0.45 and during < 0.15
    truth = sim.truth.incidents.iloc[0]
    assert (truth["metric"], truth["detail"], truth["column"], truth["value"]) == (
        "conversion",
        "purchase",
        "segment",
        "consumer",
    )
    assert (truth["direction"], truth["effect"]) == (-1, -3.0)


def test_signup_conversion_incident_on_a_channel():
    incident = Incident.conversion(
        "signup", 2.5, S, E, column="acquisition_channel", value="search"
    )
    sim = jl.simulate(20_000, seed=6)
    base = _decisions(sim)
    hit = _decisions(jl.simulate(20_000, seed=6, incidents=[incident]))
    search = sim.customers.set_index("customer_id")["acquisition_channel"] == "search"
    # Same draws, a positive shift: the only change is new sign-ups, all by search customers
    # and all inside the window.
    changed = base["signup"].isna() != hit["signup"].isna()
    assert changed.sum() > 30
    assert base.loc[changed, "signup"].isna().all() and search[changed].all()
    assert hit.loc[changed, "signup"].between(S, E, inclusive="left").all()
    # Sign-up rate of search customers arriving early in the window (consideration, 7 days on
    # average, puts nearly all their sign-up times inside it) rises well above the baseline.
    arrived = search & (base["first_seen"] >= S) & (base["first_seen"] < E - 14 * DAY)
    before, during = base.loc[arrived, "signup"].notna(), hit.loc[arrived, "signup"].notna()
    assert during.mean() > before.mean() + 0.15


def test_burst_adds_low_intent_customers_through_its_channel():
    start, end = pd.Timestamp("2024-09-02", tz="UTC"), pd.Timestamp("2024-09-09", tz="UTC")
    base = jl.simulate(10_000, seed=8)
    sim = jl.simulate(10_000, seed=8, incidents=[Incident.burst(2_000, start, end)])
    assert len(sim.customers) == len(sim.truth.customers) == 12_000
    extra = sim.customers.iloc[10_000:]
    assert extra["customer_id"].tolist() == list(range(10_001, 12_001))
    assert extra["first_seen"].between(start, end, inclusive="left").all()
    assert (extra["acquisition_channel"] == "social").all()
    engagement = sim.truth.customers["engagement"].iloc[10_000:]
    assert abs(engagement.mean() + 1.5) < 4 / np.sqrt(2_000)
    assert abs(engagement.std() - 1) < 0.05
    # Segment drawn like everyone else's: the default mix, 70% consumers.
    assert abs((extra["segment"] == "consumer").mean() - 0.7) < 4 * np.sqrt(0.21 / 2_000)
    assert set(extra["segment"]) <= set(SEGMENTS)
    # The ordinary customers' own attributes are untouched (what happens to them later may
    # differ: their later random draws come from a longer stream).
    own = ["customer_id", "first_seen", "acquisition_channel", "segment", "region"]
    pd.testing.assert_frame_equal(sim.customers.iloc[:10_000][own], base.customers[own])
    pd.testing.assert_series_equal(
        sim.truth.customers["engagement"].iloc[:10_000], base.truth.customers["engagement"]
    )
    # Low intent: they buy far less often than the ordinary customers who arrived by social.
    bought = sim.truth.customers["purchased"]
    social = (sim.customers["acquisition_channel"] == "social").iloc[:10_000]
    assert bought.iloc[10_000:].mean() < 0.5 * bought.iloc[:10_000][social].mean()
    # They live the same process: their touchpoints are in the log.
    assert sim.events["customer_id"].gt(10_000).sum() > 2_000
    truth = sim.truth.incidents.iloc[0]
    assert (truth["metric"], truth["column"], truth["value"]) == (
        "new customers",
        "acquisition_channel",
        "social",
    )
    assert pd.isna(truth["detail"]) and (truth["direction"], truth["effect"]) == (1, 2000.0)


def test_burst_partly_outside_the_window_arrives_in_the_overlap():
    start = pd.Timestamp("2024-01-01", tz="UTC")
    sim = jl.simulate(
        500, seed=1, days=60, incidents=[Incident.burst(300, "2024-02-20", "2024-03-20")]
    )
    extra = sim.customers.iloc[500:]
    assert len(extra) == 300
    assert extra["first_seen"].between("2024-02-20", start + 60 * DAY, inclusive="left").all()
    truth = sim.truth.incidents.iloc[0]
    assert truth["end"] == start + 60 * DAY  # clipped to the simulated window


def test_truth_incidents_table():
    sim = jl.simulate(300, seed=1, incidents=jl.example_incidents())
    table = sim.truth.incidents
    assert table.columns.tolist() == [
        "incident",
        "kind",
        "metric",
        "detail",
        "column",
        "value",
        "start",
        "end",
        "direction",
        "effect",
        "meaning",
    ]
    assert table["incident"].tolist() == [1, 2, 3]
    assert table["kind"].tolist() == ["experience", "conversion", "burst"]
    assert table["metric"].tolist() == ["events", "conversion", "new customers"]
    assert table["detail"].tolist()[:2] == ["delivery_late", "purchase"]
    assert table["column"].tolist()[1:] == ["segment", "acquisition_channel"]
    assert table["value"].tolist()[1:] == ["small_business", "social"]
    assert table[["column", "value"]].iloc[0].isna().all()
    assert table["direction"].tolist() == [1, -1, 1]
    assert table["effect"].tolist() == [0.4, -1.5, 400.0]
    assert table["start"].dt.day_name().eq("Monday").all()
    assert (table["end"] - table["start"]).tolist() == [
        pd.Timedelta(weeks=3),
        pd.Timedelta(weeks=4),
        pd.Timedelta(weeks=1),
    ]
    assert str(table["start"].dtype) == "datetime64[us, UTC]"
    assert table["meaning"].iloc[0] == (
        "More delivery_late events: keeping_promises level 0.40 instead of 0.85 for orders "
        "placed from 2024-04-29 to 2024-05-19 by all customers"
    )
    assert table["meaning"].iloc[1] == (
        "Purchase conversion fell: -1.50 on the log odds of the purchase step taken from "
        "2024-07-08 to 2024-08-04 by customers with segment = small_business"
    )
    empty = jl.simulate(300, seed=1).truth.incidents
    assert empty.empty
    pd.testing.assert_series_equal(empty.dtypes, table.dtypes)


@pytest.mark.parametrize(
    ("driver", "level", "direction"),
    [
        ("keeping_promises", 0.95, -1),  # fewer late deliveries
        ("respect", 0.5, 1),  # more unwanted contacts
        ("care", 0.2, -1),  # fewer thank-you notes
        ("care", 0.9, 1),
        ("service_quality", 0.8, 0),  # the business's own level: nothing moves
    ],
)
def test_truth_direction_of_experience_incidents(driver, level, direction):
    incident = Incident.experience(driver, level, S, E)
    truth = jl.simulate(50, seed=0, incidents=[incident]).truth.incidents.iloc[0]
    assert truth["direction"] == direction


def test_example_incidents_follow_the_window():
    incidents = jl.example_incidents("2025-03-10", days=120)
    origin = pd.Timestamp("2025-03-10", tz="UTC")
    for incident, fraction in zip(incidents, (0.35, 0.55, 0.75), strict=True):
        assert incident.start.day_name() == "Monday"
        middle = incident.start + (incident.end - incident.start) / 2
        assert abs((middle - origin) / DAY - fraction * 120) <= 4
        assert origin <= incident.start < incident.end <= origin + 120 * DAY
    assert [i.kind for i in incidents] == ["experience", "conversion", "burst"]
    assert incidents[2].customers == 400


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Incident("outage", S, E), "kind must be one of"),
        (lambda: Incident.experience("speed", 0.5, S, E), "driver must be one of"),
        (
            lambda: Incident.experience("care", 1.5, S, E),
            r"level must be a probability in \[0, 1\]",
        ),
        (lambda: Incident.experience("care", -0.1, S, E), "level must be a probability"),
        (lambda: Incident("experience", S, E, driver="care"), "got None"),
        (lambda: Incident.conversion("checkout", -1, S, E), "step must be one of"),
        (lambda: Incident.conversion("signup", float("nan"), S, E), "shift must be a finite"),
        (
            lambda: Incident.conversion("signup", -1, S, E, column="plan", value="basic"),
            "column must be one of",
        ),
        (
            lambda: Incident.conversion("signup", -1, S, E, column="segment", value="retail"),
            "value for column 'segment' must be one of",
        ),
        (
            lambda: Incident.conversion("signup", -1, S, E, value="consumer"),
            "value='consumer' needs a column",
        ),
        (lambda: Incident.experience("care", 0.5, E, S), "end must be after its start"),
        (lambda: Incident.experience("care", 0.5, S, S), "end must be after its start"),
        (lambda: Incident.experience("care", 0.5, "soon", E), "start must be a date"),
        (lambda: Incident.burst(0, S, E), "customers must be a whole number of at least 1"),
        (lambda: Incident.burst(2.5, S, E), "customers must be a whole number"),
        (lambda: Incident.burst(10, S, E, channel="tiktok"), "channel must be one of"),
        (lambda: Incident.burst(10, S, E, engagement=np.inf), "engagement must be a finite"),
        (
            lambda: Incident("burst", S, E, customers=10, column="segment", value="consumer"),
            "column and value apply only to experience and conversion",
        ),
        (
            lambda: Incident("conversion", S, E, step="signup", shift=1.0, driver="care"),
            "driver applies only to experience incidents",
        ),
        (
            lambda: Incident("experience", S, E, driver="care", level=0.5, customers=5),
            "customers applies only to burst incidents",
        ),
        (
            lambda: jl.simulate(
                50, seed=0, incidents=[Incident.burst(5, "2025-02-01", "2025-02-08")]
            ),
            "incident 1 .burst from 2025-02-01.* does not overlap the simulated window",
        ),
        (
            lambda: jl.simulate(
                50, seed=0, days=30, incidents=[Incident.burst(5, "2023-12-01", "2024-01-01")]
            ),
            "does not overlap",
        ),
        (
            lambda: jl.simulate(50, seed=0, incidents=Incident.burst(5, S, E)),
            "incidents must be a sequence",
        ),
        (
            lambda: jl.simulate(50, seed=0, incidents=["late deliveries"]),
            "incident 1 is 'late deliveries'",
        ),
        (lambda: jl.example_incidents(days=30), "days must be a whole number of at least 56"),
    ],
)
def test_invalid_incidents_are_refused_with_a_clear_message(build, message):
    with pytest.raises(jl.JourneyParameterError, match=message):
        build()
