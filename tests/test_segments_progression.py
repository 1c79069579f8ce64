"""stage_funnel and stage_flows per customer segment (by=), and a stage framework per segment:
hand-computed cases, each segment's block against the function run on that segment's
customers alone (random and simulated logs), every engine and PySpark, the profile entry, and
bad input.

Times in the hand-made logs are days after 2024-01-01 00:00 UTC.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest
from engines import ENGINES, assert_same_frame, collect, parity
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from segment_logs import by_columns, check_blocks, per_segment, simulated

import journey_lib as jl
from journey_lib.analytics.progression import stage_funnel, stage_times
from journey_lib.analytics.stage_moves import stage_flows
from journey_lib.analytics.stages import segment_frameworks
from journey_lib.errors import JourneyDataError, JourneyDataWarning, JourneyParameterError
from journey_lib.io.profile import LogProfile

BASE = pd.Timestamp("2024-01-01", tz="UTC")
FUNNEL_COLUMNS = [
    "step",
    "stage",
    "customers",
    "conversion_rate",
    "step_conversion_rate",
    "progressed",
    "median_time_in_stage",
    "regressed",
]
LOOK_BUY = {"Look": ["ad_view", "site_visit"], "Buy": ["purchase"]}


def log(*rows, **columns) -> pd.DataFrame:
    """A log from (customer, day, event) triples; extra columns as lists."""
    frame = pd.DataFrame(rows, columns=["customer_id", "day", "event"])
    frame["customer_id"] = frame["customer_id"].astype("int64")
    stamps = BASE + pd.to_timedelta(frame.pop("day").astype("float64"), unit="D")
    frame.insert(1, "timestamp", stamps.astype("datetime64[us, UTC]"))
    for name, values in columns.items():
        frame[name] = pd.Series(values, dtype="str") if values else pd.Series([], dtype="str")
    return frame


def with_log_span(alone: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """``alone`` plus a customer nobody else is, with an event no framework maps at the whole
    log's first and last instants: the log's span without a move of its own, which is what a
    segment's flows are read against."""
    ends = [events["timestamp"].min(), events["timestamp"].max()]
    span = pd.DataFrame({"customer_id": [-1, -1], "timestamp": ends, "event": ["(span)"] * 2})
    return pd.concat([alone[["customer_id", "timestamp", "event"]], span], ignore_index=True)


def flows_per_segment(events, *, by, by_rule="first", top=10, **options):
    """stage_flows' reference: each segment's customers alone, over the whole log's span."""

    def alone_over_the_span(alone, **given):
        return stage_flows(with_log_span(alone, events), unmapped="ignore", **given)

    return per_segment(alone_over_the_span, events, by=by, by_rule=by_rule, top=top, **options)


# -- by hand ---------------------------------------------------------------------------------

# 1 (web) goes ad -> visit -> purchase. 2 (app) sees an ad and visits. 3 buys on the app and
# buys again on the web (a repeat purchase: Retention). 4 never says its platform. 5 (tv) has
# only an event no framework maps: in the tv segment, in no stage.
HAND = log(
    (1, 0, "ad_view"),
    (1, 2, "site_visit"),
    (1, 5, "purchase"),
    (2, 0, "ad_view"),
    (2, 1, "site_visit"),
    (3, 4, "purchase"),
    (3, 6, "purchase"),
    (4, 0, "ad_view"),
    (5, 1, "hologram"),
    platform=["web", "web", "web", "app", "app", "app", "web", None, "tv"],
    region=["n", "n", "n", "s", "s", "n", "n", "s", "s"],
)


def stage_blocks(result, columns=("platform",)):
    """{segment values: customers per stage} of a broken-down stage funnel."""
    out = {}
    for key, block in result.groupby(list(columns), sort=False):
        out[key if len(columns) > 1 else key[0]] = block["customers"].tolist()
    return out


def test_stage_funnel_by_hand():
    got = stage_funnel(HAND, by="platform", unmapped="ignore")
    assert got.columns.tolist() == ["platform", *FUNNEL_COLUMNS]
    assert got["step"].tolist() == [1, 2, 3, 4, 5] * 4
    assert stage_blocks(got) == {
        "(missing)": [1, 0, 0, 0, 0],
        "app": [1, 1, 1, 1, 0],  # 2 (ad, visit) and 3 (purchase, repeat purchase)
        "tv": [0, 0, 0, 0, 0],  # its customer entered no stage: the block is there, in zeros
        "web": [1, 1, 1, 0, 0],
    }
    app = got[got["platform"] == "app"]
    # Out of the app's 2 customers; of the one in Consideration (2) nobody bought.
    assert app["conversion_rate"].tolist() == [0.5, 0.5, 0.5, 0.5, 0.0]
    assert app["step_conversion_rate"].tolist() == [1.0, 1.0, 0.0, 1.0, 0.0]
    web = got[got["platform"] == "web"]
    assert web["median_time_in_stage"].tolist()[:2] == [2 * 86_400.0, 3 * 86_400.0]
    assert got[got["platform"] == "tv"]["conversion_rate"].isna().all()
    for column in ("step", "customers", "progressed", "regressed"):
        assert str(got[column].dtype) == "int64", column
    # By the last platform, 3 is a web customer.
    assert stage_blocks(stage_funnel(HAND, by="platform", by_rule="last", unmapped="ignore")) == {
        "(missing)": [1, 0, 0, 0, 0],
        "app": [1, 1, 0, 0, 0],
        "tv": [0, 0, 0, 0, 0],
        "web": [1, 1, 2, 1, 0],
    }


def test_stage_funnel_top_and_crossings_by_hand():
    # Customers by first platform: app 2, then (missing), tv, web 1 each (ties by value).
    folded = stage_funnel(HAND, by="platform", top=2, unmapped="ignore")
    assert stage_blocks(folded) == {
        "(missing)": [1, 0, 0, 0, 0],
        "(other)": [1, 1, 1, 0, 0],  # tv (5) and web (1)
        "app": [1, 1, 1, 1, 0],
    }
    # First platform and first region: 1 web/n, 2 app/s, 3 app/n, 4 (missing)/s, 5 tv/s.
    crossed = stage_funnel(HAND, by=["platform", "region"], unmapped="ignore")
    assert crossed.columns.tolist()[:3] == ["platform", "region", "step"]
    assert stage_blocks(crossed, ("platform", "region")) == {
        ("(missing)", "s"): [1, 0, 0, 0, 0],
        ("app", "n"): [0, 0, 1, 1, 0],
        ("app", "s"): [1, 1, 0, 0, 0],
        ("tv", "s"): [0, 0, 0, 0, 0],
        ("web", "n"): [1, 1, 1, 0, 0],
    }


def test_a_framework_per_segment_by_hand():
    got = stage_funnel(HAND, {"app": LOOK_BUY, "tv": "business"}, by="platform", unmapped="ignore")
    # Each block holds its own framework's stages, numbered within it; web and (missing)
    # are not named: the default framework.
    assert got.groupby("platform", sort=False)["stage"].apply(list).to_dict() == {
        "(missing)": list(jl.FRAMEWORKS["customer_journey"].stages),
        "app": ["Look", "Buy"],
        "tv": list(jl.FRAMEWORKS["business"].stages),
        "web": list(jl.FRAMEWORKS["customer_journey"].stages),
    }
    app = got[got["platform"] == "app"]
    assert app["step"].tolist() == [1, 2]
    assert app["customers"].tolist() == [1, 1]  # 2 looks; 3 buys (twice: one stage)
    assert app["step_conversion_rate"].tolist() == [1.0, 0.0]
    assert stage_blocks(got)["web"] == [1, 1, 1, 0, 0]
    # A "*" entry is the framework of every segment not named.
    starred = stage_funnel(
        HAND, {"app": LOOK_BUY, "*": "decision_journey"}, by="platform", unmapped="ignore"
    )
    assert starred[starred["platform"] == "web"]["stage"].tolist() == list(
        jl.FRAMEWORKS["decision_journey"].stages
    )
    assert starred[starred["platform"] == "app"]["stage"].tolist() == ["Look", "Buy"]


def test_unmapped_events_are_reported_per_framework_over_its_segments():
    # The hologram is tv's only event; web and app customers' events are all mapped.
    with pytest.warns(JourneyDataWarning, match="'hologram'") as caught:
        stage_funnel(HAND, {"app": LOOK_BUY, "tv": "business"}, by="platform")
    assert len(caught) == 1 and "'business'" in str(caught[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error", JourneyDataWarning)
        # Without tv's customer nothing is unmapped, even under a framework of two stages.
        stage_funnel(HAND[HAND["customer_id"] != 5], {"app": LOOK_BUY}, by="platform")


def test_stage_flows_by_hand():
    got = stage_flows(HAND, by="platform", period="day", unmapped="ignore")
    assert got.columns.tolist() == ["platform", "period", "source", "target", "count", "move"]
    moves = {
        (row.platform, (row.period - BASE).days, row.source, row.target): row.count
        for row in got.itertuples(index=False)
    }
    a, c, p, r, _ = jl.FRAMEWORKS["customer_journey"].stages
    # The log runs from day 0 to day 6. Customer 3 (app) buys on day 4 and again on day 6;
    # 4 ((missing)) is seen on day 0 only: an exit on day 1; tv's customer has no stage.
    assert moves == {
        ("(missing)", 0, "(new)", a): 1,
        ("(missing)", 1, a, "(exit)"): 1,
        ("app", 0, "(new)", a): 1,
        ("app", 1, a, c): 1,
        ("app", 2, c, "(exit)"): 1,
        ("app", 4, "(new)", p): 1,
        ("app", 5, p, "(inactive)"): 1,
        ("app", 6, "(inactive)", r): 1,
        ("web", 0, "(new)", a): 1,
        ("web", 1, a, "(inactive)"): 1,
        ("web", 2, "(inactive)", c): 1,
        ("web", 3, c, "(inactive)"): 1,
        ("web", 4, "(inactive)", "(inactive)"): 1,
        ("web", 5, "(inactive)", p): 1,
        ("web", 6, p, "(exit)"): 1,
    }
    assert str(got["count"].dtype) == "int64"


# -- each block is the answer of the segment alone -------------------------------------------

EVENTS = ["ad_view", "site_visit", "signup", "purchase", "delivery_late", "review", "hologram"]
SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large]


@st.composite
def random_logs(draw):
    rows = draw(
        st.lists(
            st.tuples(
                st.integers(1, 6),
                st.integers(0, 40),
                st.sampled_from(EVENTS),
                st.sampled_from(["web", "app", "tv", None]),
                st.sampled_from(["n", "s"]),
            ),
            max_size=35,
        )
    )
    # Quarter days: ties are common and durations exact in microseconds.
    return log(
        *((c, q / 4, e) for c, q, e, _, _ in rows),
        platform=[p for *_, p, _ in rows],
        region=[r for *_, r in rows],
    )


SEGMENTATIONS = st.sampled_from(
    [
        {"by": "platform"},
        {"by": "platform", "by_rule": "last"},
        {"by": "platform", "top": 1},
        {"by": ["platform", "region"], "top": 3},
    ]
)


def has_values(events, by) -> bool:
    """Whether every by column holds a value (an all-missing one is refused, tested below)."""
    return all(events[c].notna().any() for c in by_columns(by)) or events.empty


@settings(max_examples=20, deadline=None, suppress_health_check=SLOW)
@given(events=random_logs(), segmentation=SEGMENTATIONS)
def test_property_stage_funnel_blocks_are_each_segments_funnel(events, segmentation):
    if not has_values(events, segmentation["by"]):
        return
    got = stage_funnel(events, unmapped="ignore", **segmentation)
    check_blocks(got, per_segment(stage_funnel, events, unmapped="ignore", **segmentation))


FRAMEWORK_OF = {"web": "decision_journey", "app": LOOK_BUY, "(other)": "business"}


def framework_of(segment: str):
    return FRAMEWORK_OF.get(segment, "customer_journey")


@settings(max_examples=20, deadline=None, suppress_health_check=SLOW)
@given(events=random_logs(), top=st.sampled_from([10, 2]))
def test_property_a_framework_per_segment_is_each_segments_funnel(events, top):
    if not has_values(events, "platform"):
        return
    segments = set(jl.customer_segments(events, "platform", top=top)["platform"])
    # Name only segments the log has (naming another is an error, tested below).
    named = {s: fw for s, fw in FRAMEWORK_OF.items() if s in segments}
    got = stage_funnel(events, named or None, by="platform", top=top, unmapped="ignore")
    want = per_segment(
        stage_funnel, events, by="platform", top=top, framework_of=framework_of, unmapped="ignore"
    )
    check_blocks(got, want)


@settings(max_examples=20, deadline=None, suppress_health_check=SLOW)
@given(
    events=random_logs(),
    segmentation=SEGMENTATIONS,
    period=st.sampled_from(["day", "week"]),
)
def test_property_stage_flows_blocks_are_each_segments_flows(events, segmentation, period):
    if not has_values(events, segmentation["by"]):
        return
    got = stage_flows(events, period=period, unmapped="ignore", **segmentation)
    check_blocks(got, flows_per_segment(events, period=period, **segmentation))


@pytest.mark.parametrize("seed", [5, 11])
def test_simulated_blocks_are_each_segments_own_answers(seed):
    events, customers = simulated(150, seed, columns=jl.CANONICAL_COLUMNS)
    for segmentation in (
        {"by": "platform", "by_rule": "last"},
        {"by": jl.Segments("segment", customers=customers)},
        {"by": ["platform", "channel"], "top": 4},
    ):
        for framework in ("customer_journey", "decision_journey"):
            got = stage_funnel(events, framework, **segmentation)
            want = per_segment(stage_funnel, events, framework, **segmentation)
            assert_same_frame(got, want)
        got = stage_flows(events, period="month", **segmentation)
        assert_same_frame(got, flows_per_segment(events, period="month", **segmentation))
    per_kind = {"enterprise": "business", "consumer": LOOK_BUY}
    by = jl.Segments("segment", customers=customers)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", JourneyDataWarning)  # LOOK_BUY maps three events
        got = stage_funnel(events, per_kind, by=by)
        want = per_segment(
            stage_funnel, events, by=by, framework_of=lambda s: per_kind.get(s, "customer_journey")
        )
    assert_same_frame(got, want)


# -- engines ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sim():
    return simulated(120, 7, columns=jl.CANONICAL_COLUMNS)


@pytest.mark.parametrize("engine", ENGINES)
def test_engines_match_pandas(engine, sim):
    events, customers = sim
    by = jl.Segments("segment", customers=customers)
    for options in (
        {"by": "platform", "by_rule": "last", "top": 3},
        {"by": ["platform", "channel"], "top": 5},
        {"framework": {"enterprise": "business", "consumer": LOOK_BUY}, "by": by},
    ):
        want = collect(stage_funnel(events, unmapped="ignore", **options))
        assert_same_frame(parity(stage_funnel, events, engine, unmapped="ignore", **options), want)
    for options in ({"by": "platform", "top": 3}, {"by": by}):
        want = collect(stage_flows(events, unmapped="ignore", **options))
        assert_same_frame(parity(stage_flows, events, engine, unmapped="ignore", **options), want)


@pytest.mark.parametrize("engine", ENGINES)
def test_engines_match_pandas_by_hand(engine):
    per_kind = {"app": LOOK_BUY, "tv": "business"}
    for func, options in (
        (stage_funnel, {"by": "platform"}),
        (stage_funnel, {"by": ["platform", "region"], "top": 2}),
        (stage_funnel, {"framework": per_kind, "by": "platform"}),
        (stage_flows, {"by": "platform", "period": "day"}),
    ):
        want = collect(func(HAND, unmapped="ignore", **options))
        assert_same_frame(parity(func, HAND, engine, unmapped="ignore", **options), want)


def test_pyspark_matches_pandas(spark, sim):
    # Each Spark call costs seconds of planning: the simulated log once (a customer table
    # turned into a Spark frame, three frameworks), the small hand-made log for the rest.
    events, customers = sim
    per_kind = {"enterprise": "business", "consumer": LOOK_BUY}
    by = jl.Segments("segment", customers=customers)
    for func, frame, options in (
        (stage_funnel, events, {"framework": per_kind, "by": by}),
        (stage_funnel, HAND, {"by": ["platform", "region"], "by_rule": "last", "top": 3}),
        (stage_flows, HAND, {"by": "platform", "period": "day"}),
    ):
        want = collect(func(frame, unmapped="ignore", **options))
        got = parity(func, frame, "pyspark", spark=spark, unmapped="ignore", **options)
        assert_same_frame(got, want)


# -- the profile -----------------------------------------------------------------------------


def test_a_profile_carries_a_framework_per_segment():
    events, customers = simulated(80, 3, columns=jl.CANONICAL_COLUMNS)
    base = jl.profile(events)
    p = dataclasses.replace(
        base, segment_frameworks={"segment": {"enterprise": "business", "*": "decision_journey"}}
    )
    assert LogProfile.from_yaml(p.to_yaml()) == p
    assert "enterprise -> business" in str(p)
    by = jl.Segments("segment", customers=customers)
    got = stage_funnel(events, by=by, profile=p)
    given = stage_funnel(
        events, {"enterprise": "business", "*": "decision_journey"}, by=by, profile=p
    )
    assert_same_frame(got, given)
    stages = got.groupby("segment")["stage"].first().to_dict()
    assert stages["enterprise"] == "Reach" and stages["consumer"] == "Identification of need"
    # The entry is for its column only, and a framework given wins over it.
    other = stage_funnel(events, by="platform", profile=p)
    assert set(other["stage"]) == set(jl.FRAMEWORKS["customer_journey"].stages)
    assert set(stage_funnel(events, "business", by=by, profile=p)["stage"]) == set(
        jl.FRAMEWORKS["business"].stages
    )
    with pytest.raises(JourneyParameterError, match="segment_frameworks maps"):
        LogProfile(segment_frameworks={"segment": "business"})


# -- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize("func", [stage_funnel, stage_flows])
def test_bad_by_is_named(func):
    with pytest.raises(JourneyDataError, match=r"by='plan'.*no such column"):
        func(HAND, by="plan")
    with pytest.raises(JourneyDataError, match=r"by='device'.*holds no value.*9 rows"):
        func(HAND.assign(device=None), by="device")
    clash = "stage" if func is stage_funnel else "target"
    with pytest.raises(JourneyParameterError, match=f"by='{clash}' would clash"):
        func(HAND.assign(**{clash: "x"}), by=clash)
    with pytest.raises(JourneyParameterError, match="top must be"):
        func(HAND, by="platform", top=0)
    with pytest.raises(JourneyParameterError, match="by_rule must be one of"):
        func(HAND, by="platform", by_rule="middle")


@pytest.mark.parametrize("name", ["entered", "first_0", "_jl_events", "_jl_w", "_jl_by_0"])
def test_a_by_column_named_like_a_working_column(name):
    events = HAND.assign(**{name: HAND["platform"]})
    for func, options in ((stage_funnel, {}), (stage_flows, {"period": "day"})):
        want = func(HAND, by="platform", unmapped="ignore", **options)
        got = func(events, by=name, unmapped="ignore", **options)
        assert_same_frame(got, want.rename(columns={"platform": name}))
    per_kind = stage_funnel(events, {"app": LOOK_BUY}, by=name, unmapped="ignore")
    assert per_kind[per_kind[name] == "app"]["stage"].tolist() == ["Look", "Buy"]


def test_an_all_missing_by_column_on_a_lazy_log_is_the_missing_segment():
    import polars as pl

    events = pl.from_pandas(HAND.assign(device=None)).lazy()
    got = collect(stage_funnel(events, by="device", unmapped="ignore"))
    assert got["device"].unique().tolist() == ["(missing)"]
    assert_same_frame(got.drop(columns="device"), stage_funnel(HAND, unmapped="ignore"))


def test_more_values_than_customers_fold_into_other():
    # Every row its own value: the first value of each customer is their segment; top=2
    # keeps two (by customers, then value) and folds the others.
    events = HAND.assign(tag=[f"t{i}" for i in range(len(HAND))])
    got = stage_funnel(events, by="tag", top=2, unmapped="ignore")
    assert got["tag"].unique().tolist() == ["(other)", "t0", "t3"]
    assert_same_frame(got, per_segment(stage_funnel, events, by="tag", top=2, unmapped="ignore"))


def test_a_framework_per_segment_is_told_apart_and_checked():
    # A mapping of events to stages is one framework, with or without by.
    one = stage_funnel(
        HAND, {"ad_view": "Seen", "purchase": "Bought"}, by="platform", unmapped="ignore"
    )
    assert set(one["stage"]) == {"Seen", "Bought"}
    assert segment_frameworks({"ad_view": "Seen"}) is None
    assert segment_frameworks(LOOK_BUY) is None
    assert segment_frameworks(jl.FRAMEWORKS["business"].to_dict()) is None
    with pytest.raises(JourneyParameterError, match=r"only journey_lib.stage_funnel reads"):
        stage_funnel(HAND, {"app": LOOK_BUY})  # no by
    with pytest.raises(JourneyParameterError, match=r"only journey_lib.stage_funnel reads"):
        jl.loyalty(HAND, framework={"app": "business"})
    with pytest.raises(JourneyParameterError, match="needs one by column"):
        stage_funnel(HAND, {"app": LOOK_BUY}, by=["platform", "region"])
    with pytest.raises(JourneyParameterError, match=r"mixes frameworks.*'Seen'"):
        stage_funnel(HAND, {"app": "business", "ad_view": "Seen"}, by="platform")
    with pytest.raises(JourneyParameterError, match=r"keyed by segment values as text.*'1'"):
        stage_funnel(HAND, {1: "business"}, by="platform")
    with pytest.raises(JourneyParameterError, match=r"mixes frameworks.*'hero'"):
        stage_funnel(HAND, {"app": jl.FRAMEWORKS["business"], "web": "hero"}, by="platform")
    # On an eager log, a named segment there is not (here folded into (other)) is refused.
    with pytest.raises(JourneyParameterError, match=r"segment 'web'.*top=2"):
        stage_funnel(HAND, {"web": "business"}, by="platform", top=2)
    # A framework named like a stage mapping's stage needs StageFramework to be one framework.
    named = jl.StageFramework.from_mapping({"ad_view": "business", "purchase": "Bought"})
    assert (
        stage_funnel(HAND, named, by="platform", unmapped="ignore")["stage"].iloc[0] == "business"
    )


def test_an_empty_log_has_no_segments():
    got = stage_funnel(HAND.iloc[:0], by="platform")
    assert got.columns.tolist() == ["platform", *FUNNEL_COLUMNS] and len(got) == 0
    flows = stage_flows(HAND.iloc[:0], by="platform")
    assert flows.columns.tolist()[0] == "platform" and len(flows) == 0


def funnel_from_times(times: pd.DataFrame, stages: tuple[str, ...]) -> pd.DataFrame:
    """stage_funnel's metrics recomputed by hand from stage_times' per-customer table."""
    rows, entered = [], len(times)
    for i, stage in enumerate(stages, start=1):
        reached = times[f"first_{i}"].notna()
        before = times[f"first_{i - 1}"].notna() if i > 1 else reached
        waits = (times[f"next_{i}"] - times[f"first_{i}"]).dropna() / 1e6
        rows.append(
            {
                "step": i,
                "stage": stage,
                "customers": int(reached.sum()),
                "conversion_rate": reached.sum() / entered if entered else np.nan,
                "step_conversion_rate": (
                    (before & reached).sum() / before.sum() if before.sum() else np.nan
                ),
                "progressed": int(times[f"next_{i}"].notna().sum()),
                "median_time_in_stage": waits.median() if len(waits) else np.nan,
                "regressed": int((times[f"last_{i}"] > times[f"later_{i}"]).sum()),
            }
        )
    return pd.DataFrame(rows)


def check_times_against_funnel(events, framework="customer_journey"):
    stages = jl.FRAMEWORKS[framework].stages
    times = stage_times(events, framework, unmapped="ignore")
    assert list(times.columns[:2]) == ["customer_id", "mapped_events"]
    assert times["customer_id"].is_unique
    funnel = stage_funnel(events, framework, unmapped="ignore")
    if len(funnel):
        assert_same_frame(funnel_from_times(times, stages), funnel)


@settings(max_examples=30, deadline=None, suppress_health_check=SLOW)
@given(events=random_logs(), framework=st.sampled_from(["customer_journey", "decision_journey"]))
def test_property_stage_times_give_stage_funnels_metrics(events, framework):
    check_times_against_funnel(events, framework)


def test_simulated_stage_times_give_stage_funnels_metrics(sim):
    events, _ = sim
    check_times_against_funnel(events)
    check_times_against_funnel(events, "business")


@pytest.mark.parametrize("engine", ENGINES)
def test_stage_times_on_every_engine(engine, sim):
    events, _ = sim
    want = stage_times(events, unmapped="ignore")
    got = parity(stage_times, events, engine, unmapped="ignore")
    assert_same_frame(got, want, sort_by="customer_id")
