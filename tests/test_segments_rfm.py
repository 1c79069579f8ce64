"""rfm, calibration_holdout and rfm_segments per customer segment (by=): by hand, each
segment's rows against the function run on that segment's customers alone (random and
simulated logs), every engine, and bad input."""

import pandas as pd
import pytest
from engines import ENGINES, assert_same_frame, collect, is_kind, parity, to_engine
from hypothesis import given, settings
from hypothesis import strategies as st
from segment_logs import check_blocks, per_segment, simulated

import journey_lib as jl
from journey_lib.analytics.rfm import ATTRS_KEY, calibration_holdout, rfm, rfm_segments

SUMMARY = ["customer_id", "frequency", "recency", "T", "monetary_value"]
SCORES = ["r_score", "f_score", "m_score", "segment"]
START = pd.Timestamp("2024-01-01", tz="UTC")  # a Monday


def log(*rows, **columns):
    """A log from (customer, day, event, value) rows; extra columns as lists."""
    frame = pd.DataFrame(rows, columns=["customer_id", "day", "event", "value"])
    frame["timestamp"] = (START + pd.to_timedelta(frame.pop("day"), unit="D")).dt.as_unit("us")
    frame["value"] = frame["value"].astype("float64")
    for name, values in columns.items():
        frame[name] = pd.Series(values, dtype="str")
    return frame


# -- by hand ---------------------------------------------------------------------------------

# 1 buys on basic, then on plus; 2 buys on plus; 3 only visits (no plan); 4 buys, no plan.
HAND = log(
    (1, 0, "purchase", 10.0),
    (1, 3, "purchase", 30.0),
    (1, 9, "purchase", 20.0),
    (2, 2, "purchase", 5.0),
    (3, 1, "site_visit", 0.0),
    (4, 4, "purchase", 8.0),
    (4, 6, "purchase", 2.0),
    plan=["basic", "plus", "plus", "plus", None, None, None],
    region=["n", "n", "n", "s", "s", "n", "n"],
)
END = START + pd.Timedelta(days=10)


def test_rfm_by_hand():
    result = rfm(HAND, observation_end=END, by="plan")
    assert list(result.columns) == ["plan", *SUMMARY]
    assert result[["plan", "customer_id"]].values.tolist() == [
        ["(missing)", 4],  # 3 bought nothing: in no row, though (missing) is its segment too
        ["basic", 1],
        ["plus", 2],
    ]
    assert result[["frequency", "recency", "T", "monetary_value"]].values.tolist() == [
        [1.0, 2.0, 6.0, 2.0],
        [2.0, 9.0, 10.0, 25.0],
        [0.0, 0.0, 8.0, 0.0],
    ]
    assert result.attrs[ATTRS_KEY] == {"period": "day"}
    last = rfm(HAND, observation_end=END, by="plan", by_rule="last")
    assert last[["plan", "customer_id"]].values.tolist() == [
        ["(missing)", 4],
        ["plus", 1],
        ["plus", 2],
    ]
    # Only purchases up to the end count, but the segment is the customer's whatever the end.
    early = rfm(HAND, observation_end=START + pd.Timedelta(days=2), by="plan", by_rule="last")
    assert early[["plan", "customer_id"]].values.tolist() == [["plus", 1], ["plus", 2]]
    folded = rfm(HAND, observation_end=END, by=["plan", "region"], top=1)
    assert folded[["plan", "region", "customer_id"]].values.tolist() == [
        ["(missing)", "n", 4],  # every combination has one customer: the first by value
        ["(other)", "(other)", 1],
        ["(other)", "(other)", 2],
    ]


def test_calibration_holdout_by_hand():
    cal_end = START + pd.Timedelta(days=4)
    result = calibration_holdout(HAND, calibration_end=cal_end, observation_end=END, by="plan")
    assert list(result.columns[:2]) == ["plan", "customer_id"]
    assert result[["plan", "customer_id", "frequency_holdout"]].values.tolist() == [
        ["(missing)", 4, 1.0],
        ["basic", 1, 1.0],
        ["plus", 2, 0.0],
    ]
    at_cal = jl.Segments("plan", rule="at_cutoff", cutoff=cal_end)
    # Before the calibration end customer 1 was on plus already (day 3); 4 said nothing.
    held = calibration_holdout(HAND, calibration_end=cal_end, observation_end=END, by=at_cal)
    assert held[["plan", "customer_id"]].values.tolist() == [
        ["(missing)", 4],
        ["plus", 1],
        ["plus", 2],
    ]


def test_rfm_segments_keep_the_segments_and_score_over_everyone():
    events = HAND.assign(plan=HAND["plan"].fillna("free"))
    summary = rfm(events, observation_end=END, by="plan")
    scored = rfm_segments(summary)
    assert list(scored.columns) == ["plan", *SUMMARY, *SCORES]
    assert scored[["plan", "customer_id"]].values.tolist() == [
        ["basic", 1],
        ["free", 4],
        ["plus", 2],
    ]
    # The scores are those of all customers together, not per segment.
    everyone = rfm_segments(rfm(events, observation_end=END)).set_index("customer_id")
    assert_same_frame(
        scored[["customer_id", *SCORES]].reset_index(drop=True),
        everyone.loc[scored["customer_id"], SCORES].reset_index(),
    )


# -- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("func", "kwargs", "error", "message"),
    [
        (rfm, {"by": "tier"}, jl.JourneyDataError, r"by='tier': the log has no such column"),
        (rfm, {"by": "empty"}, jl.JourneyDataError, r"by='empty'.*holds no value \(7 rows"),
        (rfm, {"by": "frequency"}, jl.JourneyParameterError, "clash with the result"),
        (rfm, {"by": ["plan", "T"]}, jl.JourneyParameterError, "by='T' would clash"),
        (rfm, {"by": "customer_id"}, jl.JourneyParameterError, "segment of its own"),
        (rfm, {"by": "plan", "top": -1}, jl.JourneyParameterError, "top must be"),
        (
            calibration_holdout,
            {"by": "frequency_holdout"},
            jl.JourneyParameterError,
            "clash with the result",
        ),
        (calibration_holdout, {"by": "empty"}, jl.JourneyDataError, "holds no value"),
        (
            calibration_holdout,
            {"by": jl.Segments("tier", customers=pd.DataFrame({"id": [1]}))},
            jl.JourneyDataError,
            "customer table has no 'customer_id'",
        ),
    ],
)
def test_bad_by_is_named(func, kwargs, error, message):
    events = HAND.assign(
        empty=pd.Series([None] * len(HAND), dtype="str"),
        frequency=1.0,
        T=1,
        frequency_holdout=1,
    )
    ends = {"observation_end": END}
    if func is calibration_holdout:
        ends["calibration_end"] = START + pd.Timedelta(days=4)
    with pytest.raises(error, match=message):
        func(events, **ends, **kwargs)


def test_rfm_segments_refuse_a_segment_column_it_would_overwrite():
    customers = pd.DataFrame({"customer_id": [1, 2, 3, 4], "segment": ["a", "b", "a", "b"]})
    summary = rfm(HAND, observation_end=END, by=jl.Segments("segment", customers=customers))
    assert list(summary.columns[:2]) == ["segment", "customer_id"]
    with pytest.raises(jl.JourneyDataError, match="segment column 'segment' would be overwritten"):
        rfm_segments(summary)


# -- the defining property: a segment's rows are the answer of its customers alone ------------

MINUTES = 60 * 24 * 40
minutes = st.one_of(st.integers(0, MINUTES), st.sampled_from([0, 1439, 1440, 10079, 10080]))
rows = st.lists(
    st.tuples(
        st.integers(1, 6),
        minutes,
        st.sampled_from(["purchase", "purchase", "site_visit"]),
        st.sampled_from([None, -5.0, 0.0, 2.5, 99.75]),
        st.sampled_from([None, "basic", "plus", "pro"]),  # changes over a customer's life
        st.sampled_from(["n", "s"]),
    ),
    max_size=30,
)
segmentations = st.sampled_from(
    [
        {"by": "plan"},
        {"by": "plan", "by_rule": "last"},
        {"by": "plan", "top": 1},
        {"by": ["plan", "region"], "top": 3},
        {"by": ["region", "plan"], "top": None},
        {"by": jl.Segments("plan", rule="at_cutoff", cutoff=START + pd.Timedelta(days=12))},
    ]
)


def random_log(drawn):
    frame = log(
        *[(c, m / 1440, e, v) for c, m, e, v, _, _ in drawn],
        plan=[p for *_, p, _ in drawn],
        region=[r for *_, r in drawn],
    )
    frame["timestamp"] = frame["timestamp"].dt.round("min")
    return frame


def instant(minute):
    return START + pd.Timedelta(minutes=minute)


@settings(max_examples=60, deadline=None)
@given(rows, minutes, minutes, st.sampled_from(["day", "week", "hour"]), segmentations)
def test_property_rows_are_each_segments_own_answers(drawn, first, second, period, segmentation):
    events = random_log(drawn)
    if len(events) and events["plan"].isna().all():
        with pytest.raises(jl.JourneyDataError, match="holds no value"):
            rfm(events, observation_end=instant(first), **segmentation)
        return
    end = {"observation_end": instant(first), "period": period}
    check_blocks(
        rfm(events, **end, **segmentation), per_segment(rfm, events, **end, **segmentation)
    )
    split = {
        "calibration_end": instant(min(first, second)),
        "observation_end": instant(max(first, second)),
        "period": period,
    }
    check_blocks(
        calibration_holdout(events, **split, **segmentation),
        per_segment(calibration_holdout, events, **split, **segmentation),
    )


@pytest.mark.parametrize("seed", [5, 12])
def test_simulated_rows_are_each_segments_own_answers(seed):
    events, customers = simulated(200, seed)
    split = {"calibration_end": "2024-06-30", "observation_end": "2024-12-31", "period": "week"}
    for segmentation in (
        {"by": "platform", "by_rule": "last", "top": 2},
        {"by": jl.Segments("segment", customers=customers)},
        {"by": jl.Segments(["region", "plan"], customers=customers, top=4)},
        {"by": jl.Segments("platform", rule="at_cutoff", cutoff=split["calibration_end"])},
    ):
        got = rfm(events, observation_end="2024-09-01", **segmentation)
        assert_same_frame(
            got, per_segment(rfm, events, observation_end="2024-09-01", **segmentation)
        )
        got = calibration_holdout(events, **split, **segmentation)
        assert_same_frame(got, per_segment(calibration_holdout, events, **split, **segmentation))
    # rfm_segments of a breakdown: the same scores as without one, the segment kept.
    summary = rfm(events, observation_end="2024-09-01", by="platform")
    scored = rfm_segments(summary)
    assert scored["platform"].is_monotonic_increasing
    plain = rfm_segments(rfm(events, observation_end="2024-09-01"))
    merged = scored.merge(plain, on=SUMMARY, suffixes=("", "_plain"))
    assert len(merged) == len(plain) == len(scored)
    for column in SCORES:
        assert merged[column].tolist() == merged[f"{column}_plain"].tolist()


# -- engines ---------------------------------------------------------------------------------

SIM_EVENTS, SIM_CUSTOMERS = simulated(250, seed=9)
SPLIT = {"calibration_end": "2024-06-30", "observation_end": "2024-12-31", "period": "W"}
CASES = [
    (rfm, {"observation_end": "2024-09-01", "by": "platform", "by_rule": "last", "top": 3}),
    (rfm, {"observation_end": "2024-09-01", "by": ["platform", "channel"], "top": 5}),
    (calibration_holdout, {**SPLIT, "by": jl.Segments("segment", customers=SIM_CUSTOMERS)}),
    (
        calibration_holdout,
        {**SPLIT, "by": jl.Segments("platform", rule="at_cutoff", cutoff="2024-06-30")},
    ),
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("func", "options"), CASES)
def test_engines_match_pandas(engine, func, options):
    want = func(SIM_EVENTS, **options)
    assert_same_frame(parity(func, SIM_EVENTS, engine, **options), want)


@pytest.mark.parametrize("engine", ENGINES)
def test_rfm_segments_of_a_breakdown_on_every_engine(engine):
    summary = rfm(SIM_EVENTS, observation_end="2024-09-01", by="platform")
    assert_same_frame(parity(rfm_segments, summary, engine), rfm_segments(summary))


def test_pyspark_matches_pandas(spark):
    frame = to_engine(SIM_EVENTS, "pyspark", spark)
    for func, options in CASES[::2]:
        result = func(frame, **options)
        assert is_kind(result, "pyspark")
        assert_same_frame(collect(result), func(SIM_EVENTS, **options))
    summary = rfm(SIM_EVENTS, observation_end="2024-09-01", by="platform")
    result = rfm_segments(to_engine(summary, "pyspark", spark))
    assert is_kind(result, "pyspark")
    assert_same_frame(collect(result), rfm_segments(summary))
