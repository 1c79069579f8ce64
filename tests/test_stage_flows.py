"""stage_flows: a hand-worked table, a plain-loop reference on random and simulated logs,
conservation of customers from one period to the next, other frameworks and profiles, every
engine (PySpark on a small simulated log), the shared clickstream, and bad input.
"""

from __future__ import annotations

import warnings
from collections import Counter

import pandas as pd
import pytest
from engines import ENGINES, assert_same_frame, collect, parity, shared_file, to_engine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import journey_lib as jl
from journey_lib.analytics.stage_moves import EXIT, FLOW_MOVES, INACTIVE, NEW, stage_flows
from journey_lib.analytics.stages import resolve_framework
from journey_lib.errors import JourneyDataError, JourneyDataWarning, JourneyParameterError

COLUMNS = ["period", "source", "target", "count", "move"]
A, C, P, R, L = jl.FRAMEWORKS["customer_journey"].stages


def log(*rows) -> pd.DataFrame:
    """A touchpoint log from (customer, UTC time, event) triples."""
    frame = pd.DataFrame(rows, columns=["customer_id", "timestamp", "event"])
    return frame.astype({"customer_id": "int64", "event": "str"}).assign(
        timestamp=pd.to_datetime(frame["timestamp"], utc=True, format="ISO8601").astype(
            "datetime64[us, UTC]"
        )
    )


def table(*rows) -> pd.DataFrame:
    """An expected result from (period start, source, target, count, move) rows."""
    frame = pd.DataFrame(list(rows), columns=COLUMNS)
    return frame.assign(
        period=pd.to_datetime(frame["period"], utc=True).astype("datetime64[us, UTC]"),
        count=frame["count"].astype("int64"),
    )


# January to May 2024. Customer 5 has only an event no framework maps.
JOURNEY = log(
    # 1 moves forward every month, then back to consideration (a regression), then is not
    # seen in May: an exit in May.
    (1, "2024-01-04", "ad_view"),
    (1, "2024-02-11", "site_visit"),
    (1, "2024-03-02", "purchase"),
    (1, "2024-04-18", "site_visit"),
    # 2 pauses in February, stays away in March, returns in April and buys twice in May (the
    # second purchase is Retention, the furthest stage that month); active in the log's last
    # month, so no exit.
    (2, "2024-01-20", "ad_view"),
    (2, "2024-04-01", "site_visit"),
    (2, "2024-05-03", "purchase"),
    (2, "2024-05-20", "purchase"),
    # 3 buys in February (new, straight into Purchase), buys again in March (Retention)
    # and then sees an ad that month (Awareness, not as far): Retention. Gone in April.
    (3, "2024-02-10", "purchase"),
    (3, "2024-03-05 09:00", "purchase"),
    (3, "2024-03-20", "ad_view"),
    # 4 and 7 review in March (Advocacy & Loyalty) and April; 4 reviews in May too, 7 does
    # not (an exit in May). 4 also sees an ad in March: the review is further.
    (4, "2024-03-07", "ad_view"),
    (4, "2024-03-08", "review"),
    (4, "2024-04-09", "review"),
    (4, "2024-05-31 23:59", "review"),
    (7, "2024-03-15", "review"),
    (7, "2024-04-15", "review"),
    (5, "2024-02-01", "hologram"),
    # 6 arrives in the last month.
    (6, "2024-05-12", "ad_view"),
)

HAND = table(
    ("2024-01-01", NEW, A, 2, "new"),  # 1, 2
    ("2024-02-01", NEW, P, 1, "new"),  # 3
    ("2024-02-01", A, C, 1, "forward"),  # 1
    ("2024-02-01", A, INACTIVE, 1, "pause"),  # 2
    ("2024-03-01", NEW, L, 2, "new"),  # 4, 7
    ("2024-03-01", C, P, 1, "forward"),  # 1
    ("2024-03-01", P, R, 1, "forward"),  # 3
    ("2024-03-01", INACTIVE, INACTIVE, 1, "inactive"),  # 2
    ("2024-04-01", P, C, 1, "back"),  # 1
    ("2024-04-01", R, EXIT, 1, "exit"),  # 3
    ("2024-04-01", L, L, 2, "stay"),  # 4, 7
    ("2024-04-01", INACTIVE, C, 1, "return"),  # 2
    ("2024-05-01", NEW, A, 1, "new"),  # 6
    ("2024-05-01", C, R, 1, "forward"),  # 2
    ("2024-05-01", C, EXIT, 1, "exit"),  # 1
    ("2024-05-01", L, L, 1, "stay"),  # 4
    ("2024-05-01", L, EXIT, 1, "exit"),  # 7
)


def test_stage_flows_by_hand():
    with pytest.warns(JourneyDataWarning, match="hologram"):
        got = stage_flows(JOURNEY)
    assert got.columns.tolist() == COLUMNS
    assert_same_frame(got, HAND)
    assert str(got["period"].dtype) == "datetime64[us, UTC]"
    assert str(got["count"].dtype) == "int64"
    assert set(got["move"]) <= set(FLOW_MOVES)
    assert_conserved(got, JOURNEY, "month")


def test_row_order_and_an_existing_stage_column_do_not_matter():
    mixed = JOURNEY.sample(frac=1, random_state=3).assign(stage="nonsense")
    assert_same_frame(stage_flows(mixed, unmapped="ignore"), HAND)


def test_the_log_ends_with_its_latest_event_mapped_or_not():
    # An unmapped event in July extends the log: 1 (last seen in May) exits in June, 2 (in
    # June) in July. Without it the log ends in June and only 1 exits.
    events = log(
        (1, "2024-05-02", "ad_view"),
        (2, "2024-05-09", "ad_view"),
        (2, "2024-06-03", "purchase"),
        (3, "2024-07-01", "hologram"),
    )
    longer = table(
        ("2024-05-01", NEW, A, 2, "new"),
        ("2024-06-01", A, P, 1, "forward"),
        ("2024-06-01", A, EXIT, 1, "exit"),
        ("2024-07-01", P, EXIT, 1, "exit"),
    )
    assert_same_frame(stage_flows(events, unmapped="ignore"), longer)
    assert_same_frame(stage_flows(events.iloc[:3]), longer.iloc[:3])


def test_long_gaps_count_every_quiet_period_once():
    # Weeks from Monday 1 January 2024 (week 0). 1 is active in weeks 0 and 5, 2 in weeks 2
    # and 5, 3 on the Sunday ending week 0 and the Monday starting week 1.
    events = log(
        (1, "2024-01-01", "site_visit"),
        (1, "2024-02-05", "site_visit"),
        (2, "2024-01-17", "ad_view"),
        (2, "2024-02-11 23:59", "purchase"),
        (3, "2024-01-07 23:59", "ad_view"),
        (3, "2024-01-08", "ad_view"),
    )
    got = stage_flows(events, period="week")
    assert_same_frame(
        got,
        table(
            ("2024-01-01", NEW, A, 1, "new"),  # 3
            ("2024-01-01", NEW, C, 1, "new"),  # 1
            ("2024-01-08", A, A, 1, "stay"),  # 3: a new week, not the same day
            ("2024-01-08", C, INACTIVE, 1, "pause"),  # 1
            ("2024-01-15", NEW, A, 1, "new"),  # 2
            ("2024-01-15", A, EXIT, 1, "exit"),  # 3
            ("2024-01-15", INACTIVE, INACTIVE, 1, "inactive"),  # 1
            ("2024-01-22", A, INACTIVE, 1, "pause"),  # 2
            ("2024-01-22", INACTIVE, INACTIVE, 1, "inactive"),  # 1
            ("2024-01-29", INACTIVE, INACTIVE, 2, "inactive"),  # 1, 2
            ("2024-02-05", INACTIVE, C, 1, "return"),  # 1
            ("2024-02-05", INACTIVE, P, 1, "return"),  # 2
        ),
    )
    assert_same_frame(got, reference(events, period="week"))
    assert_conserved(got, events, "week")


def test_naive_and_zoned_logs():
    # 23:30 on 31 January in New York is 1 February in UTC: a February touchpoint.
    zoned = log((1, "2024-01-10", "ad_view"), (1, "2024-02-01 04:30", "site_visit"))
    zoned["timestamp"] = zoned["timestamp"].dt.tz_convert("America/New_York")
    got = stage_flows(zoned)
    assert got["period"].dt.strftime("%Y-%m").tolist() == ["2024-01", "2024-02"]
    assert got["move"].tolist() == ["new", "forward"]
    naive = JOURNEY.assign(timestamp=JOURNEY["timestamp"].dt.tz_localize(None))
    got = stage_flows(naive, unmapped="ignore")
    assert got["period"].dt.tz is None
    assert_same_frame(got, HAND.assign(period=HAND["period"].dt.tz_localize(None)))


def test_empty_and_all_unmapped_logs_give_no_rows():
    for events in (JOURNEY.iloc[:0], log((1, "2024-01-01", "hologram"))):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", JourneyDataWarning)
            got = stage_flows(events)
        assert got.columns.tolist() == COLUMNS and len(got) == 0
        assert str(got["count"].dtype) == "int64"


# --------------------------------------------------------------------------- reference

ORDER = {NEW: -2, INACTIVE: 1_000, EXIT: 1_001}
PANDAS_PERIODS = {"day": "D", "week": "W-SUN", "month": "M", "quarter": "Q", "year": "Y"}


def reference(events: pd.DataFrame, framework=None, *, period="month", profile=None):
    """The documented definition with plain loops: per customer, period by period."""
    fw = resolve_framework(framework, profile)
    staged = jl.assign_stages(events, fw, unmapped="ignore")
    freq = PANDAS_PERIODS[period]

    def period_of(t: pd.Timestamp) -> pd.Period:
        return t.tz_convert("UTC").tz_localize(None).to_period(freq)

    rank = {stage: i for i, stage in enumerate(fw.stages)}
    furthest: dict = {}
    for customer, t, stage in zip(
        staged["customer_id"], staged["timestamp"], staged["stage"], strict=True
    ):
        if isinstance(stage, str):
            here = furthest.setdefault(customer, {})
            p = period_of(t)
            here[p] = max(here.get(p, -1), rank[stage])
    counts: Counter = Counter()
    if len(events):
        end = period_of(events["timestamp"].max())
    for by_period in furthest.values():
        where, p, last_active = NEW, min(by_period), max(by_period)
        while p <= end:
            if p in by_period:
                now = fw.stages[by_period[p]]
            else:
                now = EXIT if p > last_active else INACTIVE
            counts[p, where, now] += 1
            if now == EXIT:
                break
            where, p = now, p + 1
    order = {**ORDER, **rank}
    rows = sorted(counts.items(), key=lambda kv: (kv[0][0], order[kv[0][1]], order[kv[0][2]]))
    return table(
        *((p.start_time.tz_localize("UTC"), s, t, n, move_of(s, t, order)) for (p, s, t), n in rows)
    )


def move_of(source: str, target: str, order: dict) -> str:
    if source == NEW:
        return "new"
    if target == EXIT:
        return "exit"
    if source == INACTIVE:
        return "inactive" if target == INACTIVE else "return"
    if target == INACTIVE:
        return "pause"
    if source == target:
        return "stay"
    return "forward" if order[target] > order[source] else "back"


def test_the_reference_agrees_with_the_hand_worked_table():
    assert_same_frame(reference(JOURNEY), HAND)


def assert_conserved(flows: pd.DataFrame, events: pd.DataFrame, period: str) -> None:
    """What flows into a stage (or "(inactive)") in period p flows out of it in p + 1;
    everyone who enters the journey enters once, and either exits or is still followed
    in the log's last period."""
    flows = collect(flows)
    freq = PANDAS_PERIODS[period]
    end = events["timestamp"].max().tz_convert("UTC").tz_localize(None).to_period(freq)
    starts = flows["period"].dt.tz_localize(None).dt.to_period(freq)
    assert (starts.dt.start_time == flows["period"].dt.tz_localize(None)).all()
    into = flows[flows["target"] != EXIT].groupby([starts, "target"])["count"].sum()
    out_of = flows[flows["source"] != NEW].groupby([starts - 1, "source"])["count"].sum()
    into = into[into.index.get_level_values(0) < end]
    assert into.sort_index().to_dict() == out_of.sort_index().to_dict()
    entered = flows.loc[flows["source"] == NEW, "count"].sum()
    exited = flows.loc[flows["target"] == EXIT, "count"].sum()
    still = flows.loc[(starts == end) & (flows["target"] != EXIT), "count"].sum()
    assert entered == exited + still
    # No moves out of an exit or into "(new)"; no pseudo-stage out of place.
    assert not (flows["source"] == EXIT).any() and not (flows["target"] == NEW).any()
    assert (flows["count"] > 0).all()


EVENTS = ["ad_view", "site_visit", "signup", "purchase", "delivery_late", "review", "hologram"]
START = pd.Timestamp("2023-12-25", tz="UTC")


@st.composite
def random_logs(draw):
    span = draw(st.sampled_from([24 * 20, 24 * 150]))  # hours: weeks of days, or months
    rows = draw(
        st.lists(
            st.tuples(st.integers(1, 6), st.integers(0, span), st.sampled_from(EVENTS)),
            max_size=30,
        )
    )
    return log(*((c, START + pd.Timedelta(hours=h), e) for c, h, e in rows))


SLOW = [HealthCheck.too_slow]
PERIOD_NAMES = st.sampled_from(["day", "week", "month"])


@settings(max_examples=30, deadline=None, suppress_health_check=SLOW)
@given(events=random_logs(), period=PERIOD_NAMES)
def test_stage_flows_match_the_reference(events, period):
    got = stage_flows(events, period=period, unmapped="ignore")
    assert_same_frame(got, reference(events, period=period))
    if len(events):
        assert_conserved(got, events, period)


# Each engine call costs a fixed planning time, so fewer examples here.
@settings(max_examples=8, deadline=None, suppress_health_check=SLOW)
@given(events=random_logs(), period=PERIOD_NAMES)
def test_engines_match_pandas_on_random_logs(events, period):
    want = collect(stage_flows(events, period=period, unmapped="ignore"))
    for engine in ("polars-lazy", "duckdb"):
        got = parity(stage_flows, events, engine, period=period, unmapped="ignore")
        assert_same_frame(got, want)


@pytest.fixture(scope="module")
def simulated():
    return jl.simulate(150, seed=12).events[list(jl.CANONICAL_COLUMNS)]


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("period", ["day", "week", "month"])
def test_simulated_logs_match_the_reference(seed, period):
    events = jl.simulate(60, seed=seed).events[list(jl.CANONICAL_COLUMNS)]
    got = stage_flows(events, period=period)
    assert_same_frame(got, reference(events, period=period))
    assert_conserved(got, events, period)
    assert got.loc[got["move"] == "new", "count"].sum() == events["customer_id"].nunique()


# --------------------------------------------------------------------------- frameworks


@pytest.mark.parametrize("framework", ["business", "decision_journey"])
def test_other_frameworks(framework, simulated):
    got = stage_flows(simulated, framework, period="week")
    assert_same_frame(got, reference(simulated, framework, period="week"))
    stages = set(jl.FRAMEWORKS[framework].stages)
    assert set(got["target"]) <= stages | {INACTIVE, EXIT}
    assert_conserved(got, simulated, "week")


def test_a_custom_mapping():
    mapping = {"Look": ["ad_view", "site_visit"], "Buy": ["purchase"]}
    with pytest.warns(JourneyDataWarning, match="review"):
        got = stage_flows(JOURNEY, mapping)
    assert_same_frame(got, reference(JOURNEY, mapping))
    # 3's second purchase has no repeat stage here: still Buy, a stay in March.
    march = got[got["period"] == pd.Timestamp("2024-03-01", tz="UTC")]
    assert ("Buy", "Buy", "stay") in set(
        zip(march["source"], march["target"], march["move"], strict=True)
    )
    with pytest.raises(JourneyParameterError, match="pseudo-stages"):
        stage_flows(JOURNEY, {"Look": ["ad_view"], EXIT: ["purchase"]})


def test_a_profile_gives_the_stages_and_the_period():
    renamed = {"ad_view": "banner_seen", "site_visit": "catalog", "purchase": "payment_done"}
    sim = jl.simulate(300, seed=1).events
    events = sim.assign(event=sim["event"].replace(renamed))[list(jl.CANONICAL_COLUMNS)]
    found = jl.profile(events, period="week")
    assert found.conversion == "payment_done"
    got = stage_flows(events, profile=found)
    assert_same_frame(got, reference(events, profile=found, period="week"))
    assert (got["period"].dt.day_of_week == 0).all()
    # A purchase is a purchase under any name: the original log flows the same way.
    assert_same_frame(got, stage_flows(sim, period="week"))
    assert_conserved(got, events, "week")
    business = stage_flows(events, "business", profile=found, period="month")
    want = reference(events, "business", profile=found, period="month")
    assert_same_frame(business, want)
    assert set(business["target"]) <= set(jl.FRAMEWORKS["business"].stages) | {INACTIVE, EXIT}


# --------------------------------------------------------------------------- engines


@pytest.mark.parametrize("engine", ENGINES)
def test_engines_match_by_hand(engine):
    assert_same_frame(parity(stage_flows, JOURNEY, engine, unmapped="ignore"), HAND)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("period", ["day", "month"])
def test_engines_match_pandas_on_simulated_logs(engine, period, simulated):
    want = collect(stage_flows(simulated, period=period))
    assert_same_frame(parity(stage_flows, simulated, engine, period=period), want)


@pytest.mark.parametrize("engine", ["polars-lazy", "duckdb"])
def test_empty_lazy_frames_stay_lazy_and_empty(engine):
    got = parity(stage_flows, JOURNEY.iloc[:0], engine)
    assert got.columns.tolist() == COLUMNS and len(got) == 0


def test_pyspark_matches_pandas(spark):
    events = jl.simulate(40, seed=5).events[list(jl.CANONICAL_COLUMNS)]
    # The simulator's events are all mapped; "ignore" spares Spark the unmapped-event count.
    got = parity(stage_flows, events, "pyspark", spark=spark, unmapped="ignore")
    assert_same_frame(got, collect(stage_flows(events)))


# --------------------------------------------------------------------------- real data


def test_the_shared_clickstream():
    path = shared_file("events", "ecom_clickstream.csv.gz")
    found = jl.profile(path)
    events = found.read(path).clean
    got = stage_flows(events, profile=found)
    assert found.period == "week" and (got["period"].dt.day_of_week == 0).all()
    assert_conserved(got, events, "week")
    # Every customer with a mapped touchpoint enters exactly once, and only once a week.
    staged = jl.assign_stages(events, profile=found, unmapped="ignore")
    customers = staged.loc[staged["stage"].notna(), "customer_id"].nunique()
    new = got[got["move"] == "new"]
    assert new["count"].sum() == customers > 500
    assert not new.duplicated(["period", "target"]).any()
    assert {"forward", "back", "pause", "return", "exit"} <= set(got["move"])
    month = stage_flows(events, profile=found, period="month")
    assert_same_frame(month, reference(events, profile=found, period="month"))
    # 4 January - 29 June: six months, new customers in the first.
    assert month["period"].dt.month.unique().tolist() == [1, 2, 3, 4, 5, 6]


# --------------------------------------------------------------------------- bad input


def test_bad_input_is_named():
    with pytest.raises(JourneyParameterError, match="'day', 'week', 'month', 'quarter', 'year'"):
        stage_flows(JOURNEY, period="fortnight")
    with pytest.raises(JourneyDataError, match="customer_id"):
        stage_flows(JOURNEY.drop(columns="customer_id"))
    with pytest.raises(JourneyDataError, match="not a datetime"):
        stage_flows(JOURNEY.assign(timestamp="2024-01-01"))
    with pytest.raises(JourneyParameterError, match="unknown stage framework"):
        stage_flows(JOURNEY, "hero_journey")
    with pytest.raises(JourneyParameterError, match="unmapped"):
        stage_flows(JOURNEY, unmapped="drop")
    with pytest.raises(JourneyDataError, match="hologram"):
        stage_flows(JOURNEY, unmapped="raise")


def test_in_the_flat_api():
    assert jl.stage_flows is stage_flows


@pytest.mark.parametrize("engine", ENGINES)
def test_a_log_of_repeat_events_only(engine):
    # Every event is the conversion: the first is Purchase, the later ones Retention.
    log = pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "timestamp": pd.to_datetime(["2024-01-05", "2024-02-05", "2024-02-07"], utc=True),
            "event": ["purchase"] * 3,
        }
    )
    framework = jl.StageFramework.from_mapping(
        {"Purchase": ["purchase"], "Retention": []}, repeat={"purchase": "Retention"}
    )
    got = collect(stage_flows(to_engine(log, engine), framework))
    assert list(zip(got["source"], got["target"], got["count"], strict=True)) == [
        ("(new)", "Purchase", 1),  # January: customer 1
        ("(new)", "Purchase", 1),  # February: customer 2, and customer 1 buys again
        ("Purchase", "Retention", 1),
    ]
