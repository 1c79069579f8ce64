"""funnel, funnel_trend and time_to_convert per customer segment (by=): a hand-computed case,
each segment's block against the function run on that segment's customers alone (random and
simulated logs), every engine, and bad input."""

from __future__ import annotations

import pandas as pd
import pytest
from engines import ENGINES, assert_same_frame, parity
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from segment_logs import by_columns, check_blocks, per_segment, simulated

import journey_lib as jl
from journey_lib.analytics import funnels as funnels_module
from journey_lib.analytics.funnels import Step, funnel, funnel_trend, time_to_convert

T0 = pd.Timestamp("2024-01-01", tz="UTC")
STEPS = ["a", "b", "c"]


def log(*rows, **columns):
    """A log from (customer, minute, event) triples; extra columns as lists."""
    frame = pd.DataFrame(rows, columns=["customer_id", "minute", "event"])
    frame["timestamp"] = T0 + pd.to_timedelta(frame.pop("minute"), unit="min")
    for name, values in columns.items():
        frame[name] = values
    return frame


# -- by hand ---------------------------------------------------------------------------------

# 1 comes on the web, then uses the app, and finishes; 2 (app) stops at b; 3 (web) stops at a;
# 4 never says its platform and finishes; 5 (tv) never starts the funnel.
HAND = log(
    (1, 0, "a"),
    (1, 5, "b"),
    (1, 10, "c"),
    (2, 0, "a"),
    (2, 20, "b"),
    (3, 0, "a"),
    (4, 0, "a"),
    (4, 1, "b"),
    (4, 3, "c"),
    (5, 0, "x"),
    platform=["web", "app", "app", "app", "app", "web", None, None, None, "tv"],
    region=["north", "north", "north", "south", "south", "south", "north", "north", "north", "n"],
)


def blocks(result, columns=("platform",), size=3):
    """[(segment values..., customers per row)] of each block of ``size`` rows, in order."""
    out = []
    for i in range(0, len(result), size):
        chunk = result.iloc[i : i + size]
        key = tuple(None if pd.isna(v) else v for v in chunk.iloc[0][list(columns)])
        assert (chunk[list(columns)].nunique(dropna=False) == 1).all()
        out.append((*key, chunk["customers"].tolist()))
    return out


def test_by_hand_first_last_and_empty_segments():
    result = funnel(HAND, STEPS, by="platform")
    assert list(result.columns) == ["platform", *funnels_module.RESULT_COLUMNS]
    assert result["step"].tolist() == [1, 2, 3] * 4
    assert blocks(result) == [
        ("(missing)", [1, 1, 1]),
        ("app", [1, 1, 0]),
        ("tv", [0, 0, 0]),  # nobody started: the block is there, in zeros
        ("web", [2, 1, 1]),
    ]
    web = result[result["platform"] == "web"]
    assert web["conversion_rate"].tolist() == [1.0, 0.5, 0.5]
    assert web["median_time_to_convert"].tolist()[1:] == [300.0, 300.0]
    assert result[result["platform"] == "tv"]["conversion_rate"].isna().all()
    # By the last platform, customer 1 is an app user.
    assert blocks(funnel(HAND, STEPS, by="platform", by_rule="last")) == [
        ("(missing)", [1, 1, 1]),
        ("app", [2, 2, 1]),
        ("tv", [0, 0, 0]),
        ("web", [1, 0, 0]),
    ]


def test_by_hand_top_folds_into_other_and_crossings():
    # Customers per platform: web 2, then 1 each for (missing), app, tv (ties by value).
    folded = funnel(HAND, STEPS, by="platform", top=2)
    assert blocks(folded) == [
        ("(missing)", [1, 1, 1]),
        ("(other)", [1, 1, 0]),
        ("web", [2, 1, 1]),
    ]
    # First platform and first region: 1 web/north, 2 app/south, 3 web/south,
    # 4 (missing)/north, 5 tv/n.
    crossed = funnel(HAND, STEPS, by=["platform", "region"])
    assert list(crossed.columns[:3]) == ["platform", "region", "step"]
    assert blocks(crossed, ["platform", "region"]) == [
        ("(missing)", "north", [1, 1, 1]),
        ("app", "south", [1, 1, 0]),
        ("tv", "n", [0, 0, 0]),
        ("web", "north", [1, 1, 1]),
        ("web", "south", [1, 0, 0]),
    ]
    # Every combination has one customer; top=1 keeps the first by value, the rest are
    # (other) in every by column.
    assert blocks(
        funnel(HAND, STEPS, by=["platform", "region"], top=1), ["platform", "region"]
    ) == [
        ("(missing)", "north", [1, 1, 1]),
        ("(other)", "(other)", [3, 2, 1]),
    ]


def test_by_hand_with_a_breakdown_and_a_customer_table():
    both = funnel(HAND, STEPS, by="region", breakdown="platform", breakdown_attribution="last")
    assert list(both.columns[:3]) == ["region", "platform", "step"]
    # By region 1 and 4 are north, 2 and 3 south, 5 (no attempt, so no breakdown row) n.
    # The breakdown is the platform on the row of the furthest step reached.
    assert blocks(both, ["region", "platform"]) == [
        ("north", "app", [1, 1, 1]),
        ("north", None, [1, 1, 1]),
        ("south", "app", [1, 1, 0]),
        ("south", "web", [1, 0, 0]),
    ]
    table = pd.DataFrame({"customer_id": [1, 2, 3, 9], "plan": ["gold", "free", "gold", "x"]})
    # 4 and 5 are not in the table: (missing); 9 is not in the log: no segment.
    assert blocks(funnel(HAND, STEPS, by=jl.Segments("plan", customers=table)), ["plan"]) == [
        ("(missing)", [1, 1, 1]),
        ("free", [1, 1, 0]),
        ("gold", [2, 1, 1]),
    ]


def test_by_hand_trend_and_time_to_convert():
    # Customer 3 starts in the second week.
    events = HAND.assign(
        timestamp=HAND["timestamp"] + pd.to_timedelta((HAND["customer_id"] == 3) * 7, unit="D")
    )
    trend = funnel_trend(events, STEPS, by="platform", period="week")
    assert list(trend.columns) == [
        "platform",
        "period",
        "customers",
        "converted",
        "conversion_rate",
        "complete",
    ]
    rows = trend[["platform", "period", "customers", "converted"]].to_records(index=False)
    assert [tuple(r) for r in rows] == [
        ("(missing)", T0, 1, 1),
        ("app", T0, 1, 0),
        ("web", T0, 1, 1),
        ("web", T0 + pd.Timedelta(days=7), 1, 0),
    ]  # tv: nobody entered, in no period
    # The log ends in week 2: week 1 is complete in every segment, week 2 in none.
    assert trend["complete"].tolist() == [True, True, True, False]
    spans = time_to_convert(HAND, STEPS, by="platform", bins=["5min", "1h"])
    assert list(spans.columns[:2]) == ["platform", "bin"]
    assert spans["bin"].tolist() == ["0s to 5min", "5min to 1h", "1h or more"] * 4
    assert blocks(spans) == [
        ("(missing)", [1, 0, 0]),
        ("app", [0, 0, 0]),
        ("tv", [0, 0, 0]),
        ("web", [0, 1, 0]),
    ]
    assert spans[spans["platform"] == "app"]["share"].isna().all()


def test_the_as_of_path_stays_on_with_by(monkeypatch):
    calls = []
    original = funnels_module._as_of_attempts

    def counting(frame, spec):
        calls.append(spec)
        return original(frame, spec)

    monkeypatch.setattr(funnels_module, "_as_of_attempts", counting)
    result = funnel(HAND, STEPS, by="platform")
    assert len(calls) == 1
    assert blocks(result)[-1] == ("web", [2, 1, 1])


def test_a_by_column_named_like_a_working_column():
    # level, t1, b, p1 are the funnel's own working names; a segment may still be called so.
    for name in ("level", "t1", "b", "p1", "_by0"):
        renamed = HAND.rename(columns={"platform": name})
        got = funnel(renamed, STEPS, by=name, breakdown="region")
        want = funnel(HAND, STEPS, by="platform", breakdown="region")
        assert_same_frame(got.rename(columns={name: "platform"}), want)
        got = time_to_convert(renamed, STEPS, by=name)
        assert_same_frame(
            got.rename(columns={name: "platform"}), time_to_convert(HAND, STEPS, by="platform")
        )


def test_more_values_than_customers_fold_into_other():
    events = HAND.assign(row_id=[f"r{i}" for i in range(len(HAND))])
    result = funnel(events, STEPS, by="row_id", top=2)
    assert result["row_id"].nunique() == 3 and "(other)" in set(result["row_id"])
    check_blocks(result, per_segment(funnel, events, STEPS, by="row_id", top=2))


# -- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("func", "kwargs", "error", "message"),
    [
        (funnel, {"by": "plan"}, jl.JourneyDataError, r"by='plan': the log has no such column"),
        (funnel, {"by": "empty"}, jl.JourneyDataError, r"by='empty'.*holds no value \(10 rows"),
        (funnel, {"by": "customers"}, jl.JourneyParameterError, "clash with the result"),
        (funnel, {"by": "step"}, jl.JourneyParameterError, "clash with the result"),
        (funnel_trend, {"by": "period"}, jl.JourneyParameterError, "clash with the result"),
        (funnel_trend, {"by": "empty"}, jl.JourneyDataError, "holds no value"),
        (time_to_convert, {"by": "bin"}, jl.JourneyParameterError, "clash with the result"),
        (time_to_convert, {"by": "nope"}, jl.JourneyDataError, "no such column"),
        (
            funnel,
            {"by": "platform", "breakdown": "platform"},
            jl.JourneyParameterError,
            "by and breakdown both name 'platform'",
        ),
        (
            funnel,
            {"by": ["platform", "platform"]},
            jl.JourneyParameterError,
            "names a column twice",
        ),
        (funnel, {"by": "customer_id"}, jl.JourneyParameterError, "segment of its own"),
        (funnel, {"by": "platform", "top": 0}, jl.JourneyParameterError, "top must be"),
        (funnel, {"by": "platform", "by_rule": "middle"}, jl.JourneyParameterError, "by_rule"),
        (funnel, {"by": "platform", "by_rule": "at_cutoff"}, jl.JourneyParameterError, "cutoff"),
        (funnel, {"by": 3}, jl.JourneyParameterError, "by must be"),
    ],
)
def test_bad_by_is_named(func, kwargs, error, message):
    events = HAND.assign(
        empty=pd.Series([None] * len(HAND), dtype="str"), customers=1, step=1, period=1, bin=1
    )
    with pytest.raises(error, match=message):
        func(events, STEPS, **kwargs)


# -- the defining property: a segment's block is the funnel of its customers alone -----------

EVENTS = ("a", "b", "c", "x")


@st.composite
def random_logs(draw):
    rows = draw(
        st.lists(
            st.tuples(
                st.integers(1, 5),
                st.integers(0, 12).map(lambda m: m * 5),
                st.sampled_from(EVENTS),
                st.sampled_from(["u", "v", None]),
                st.sampled_from(["web", "app", "tv", None]),  # changes over a customer's life
                st.sampled_from(["n", "s"]),
            ),
            max_size=16,
        )
    )
    return log(
        *[r[:3] for r in rows],
        ch=pd.Series([r[3] for r in rows], dtype="str"),
        plat=pd.Series([r[4] for r in rows], dtype="str"),
        grp=pd.Series([r[5] for r in rows], dtype="str"),
    )


@st.composite
def funnel_options(draw, *, breakdown=True):
    steps = draw(
        st.lists(
            st.one_of(
                st.sampled_from(["a", "b", "c"]),
                st.tuples(st.sampled_from(["a", "b"]), st.just({"ch": "u"})),
            ),
            min_size=1,
            max_size=3,
        )
    )
    options = {
        "window": draw(st.sampled_from([None, "10min", "25min"])),
        "order": draw(st.sampled_from(["ordered", "strict", "any"])),
        "entry": draw(st.sampled_from(["any", "first"])),
    }
    if len(steps) >= 2 and draw(st.booleans()):
        options["exclusions"] = [("x", 1, len(steps))]
    if breakdown and draw(st.booleans()):
        options["breakdown"] = "ch"
        if options["order"] != "any":
            options["breakdown_attribution"] = draw(st.sampled_from(["first", "last", 1]))
    if breakdown and draw(st.booleans()):
        start = draw(st.integers(0, 30))
        options["date_range"] = (
            T0 + pd.Timedelta(minutes=start),
            T0 + pd.Timedelta(minutes=start + draw(st.integers(5, 40))),
        )
    return steps, options


segmentations = st.sampled_from(
    [
        {"by": "plat"},
        {"by": "plat", "by_rule": "last"},
        {"by": "plat", "top": 1},
        {"by": "plat", "top": None},
        {"by": ["plat", "grp"], "top": 2},
        {"by": jl.Segments("plat", rule="at_cutoff", cutoff=T0 + pd.Timedelta(minutes=30))},
    ]
)


def _valid(events, steps, options, segmentation):
    """Any-order steps must be identical or disjoint; a by column needs a value (else the
    error of test_bad_by_is_named)."""
    parsed = [Step.parse(s, 1) for s in steps]
    if options["order"] == "any" and not all(
        a == b or a.disjoint_from(b) for a in parsed for b in parsed
    ):
        return False
    return len(events) == 0 or all(events[c].notna().any() for c in by_columns(segmentation["by"]))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=random_logs(), case=funnel_options(), segmentation=segmentations)
def test_property_funnel_blocks_are_funnels_of_each_segment(events, case, segmentation):
    steps, options = case
    assume(_valid(events, steps, options, segmentation))
    got = funnel(events, steps, **options, **segmentation)
    check_blocks(got, per_segment(funnel, events, steps, **options, **segmentation))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    events=random_logs(),
    case=funnel_options(breakdown=False),
    segmentation=segmentations,
    period=st.sampled_from(["week", "month"]),
)
def test_property_trend_blocks_are_trends_of_each_segment(events, case, segmentation, period):
    steps, options = case
    assume(_valid(events, steps, options, segmentation))
    events = events.assign(
        timestamp=events["timestamp"] + pd.to_timedelta(events["customer_id"] * 9, unit="D")
    )  # spread customers over weeks and months
    got = funnel_trend(events, steps, period=period, **options, **segmentation)
    want = per_segment(funnel_trend, events, steps, period=period, **options, **segmentation)
    check_blocks(
        got.drop(columns="complete"), None if want is None else want.drop(columns="complete")
    )
    # complete is read against the whole log, the same for a period in every segment.
    whole = funnel_trend(events, steps, period=period, **options)
    settled = dict(zip(whole["period"], whole["complete"], strict=True))
    assert got["complete"].tolist() == [settled[p] for p in got["period"]]


SIM_STEPS = ["ad_view", "site_visit", "signup", "purchase"]


@pytest.mark.parametrize("seed", [5, 11])
def test_simulated_blocks_are_each_segments_own_answers(seed):
    events, customers = simulated(150, seed)
    for segmentation in (
        {"by": "platform", "by_rule": "last"},
        {"by": jl.Segments("segment", customers=customers)},
        {"by": ["platform", "channel"], "top": 4},
    ):
        for func, options in (
            (funnel, {"window": "30D"}),
            (funnel, {"breakdown": "channel", "breakdown_attribution": "last"}),
            (
                funnel,
                {"order": "any", "entry": "first", "date_range": ("2024-03-01", "2024-09-01")},
            ),
            (funnel_trend, {"period": "month", "window": "14D"}),
            (time_to_convert, {"from_step": 2, "bins": ["1h", "1D", "7D"]}),
            (time_to_convert, {"order": "strict"}),
        ):
            if "breakdown" in options and "channel" in by_columns(segmentation["by"]):
                continue
            got = func(events, SIM_STEPS, **options, **segmentation)
            want = per_segment(func, events, SIM_STEPS, **options, **segmentation)
            if func is funnel_trend:
                got, want = got.drop(columns="complete"), want.drop(columns="complete")
            assert_same_frame(got, want)


# -- engines ---------------------------------------------------------------------------------

SIM_EVENTS, SIM_CUSTOMERS = simulated(120, seed=9)
ENGINE_CASES = [
    (funnel, {"window": "30D", "by": "platform", "by_rule": "last", "top": 3}),
    (funnel, {"order": "strict", "by": ["platform", "channel"], "top": 5}),
    (funnel, {"by": "platform", "breakdown": "channel", "breakdown_attribution": "last"}),
    (funnel, {"order": "any", "by": jl.Segments("segment", customers=SIM_CUSTOMERS)}),
    (funnel_trend, {"period": "month", "by": "platform"}),
    (time_to_convert, {"bins": ["1D", "7D"], "by": "platform", "by_rule": "last"}),
    (
        time_to_convert,
        {"by": jl.Segments("platform", rule="at_cutoff", cutoff="2024-06-01", top=2)},
    ),
]


@pytest.mark.parametrize("engine", ENGINES[1:])
@pytest.mark.parametrize(("func", "options"), ENGINE_CASES)
def test_engines_match_pandas(engine, func, options):
    want = func(SIM_EVENTS, SIM_STEPS, **options)
    assert_same_frame(parity(func, SIM_EVENTS, engine, SIM_STEPS, **options), want)


@pytest.mark.parametrize("engine", ["polars-lazy", "duckdb"])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=random_logs(), case=funnel_options(), segmentation=segmentations)
def test_property_engines_match_pandas(engine, events, case, segmentation):
    steps, options = case
    assume(len(events) > 0 and _valid(events, steps, options, segmentation))
    want = funnel(events, steps, **options, **segmentation)
    assert_same_frame(parity(funnel, events, engine, steps, **options, **segmentation), want)


def test_pyspark_matches_pandas(spark):
    # A customer table (made a Spark frame of the log's session) with a breakdown, a trend,
    # and a histogram with the at_cutoff rule and the (other) bucket.
    table = jl.Segments("segment", customers=SIM_CUSTOMERS)
    for func, options in (
        (funnel, {"by": table, "breakdown": "channel", "breakdown_attribution": "last"}),
        ENGINE_CASES[4],
        ENGINE_CASES[6],
    ):
        want = func(SIM_EVENTS, SIM_STEPS, **options)
        got = parity(func, SIM_EVENTS, "pyspark", SIM_STEPS, spark=spark, **options)
        assert_same_frame(got, want)
