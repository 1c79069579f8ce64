"""rfm, calibration_holdout and rfm_segments: hand-computed logs, lifetimes' own numbers, a
brute-force reference on random logs, and every engine against pandas."""

import math
import re

import numpy as np
import pandas as pd
import pytest
from engines import ENGINES, assert_same_frame, collect, is_kind, parity, to_engine
from hypothesis import given, settings
from hypothesis import strategies as st

import journey_lib as jl
from journey_lib.analytics import rfm as rfm_module
from journey_lib.analytics.rfm import (
    ATTRS_KEY,
    RFM_PERIODS,
    RFM_SEGMENTS,
    calibration_holdout,
    rfm,
    rfm_segments,
)

SUMMARY = ["customer_id", "frequency", "recency", "T", "monetary_value"]
CALIBRATION = [
    "customer_id",
    "frequency_cal",
    "recency_cal",
    "T_cal",
    "monetary_value_cal",
    "frequency_holdout",
    "monetary_value_holdout",
    "duration_holdout",
]
START = pd.Timestamp("2024-01-01")  # a Monday
#: Every spelling of rfm's periods, and the pandas frequency of each (as lifetimes uses).
PANDAS_FREQ = {"hour": "h", "day": "D", "week": "W", "h": "h", "H": "h", "D": "D", "W": "W"}
PERIOD_NAMES = tuple(PANDAS_FREQ)


def log(*rows):
    """A touchpoint log from (customer, time, event, value) rows; times are UTC."""
    frame = pd.DataFrame(rows, columns=["customer_id", "timestamp", "event", "value"])
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], format="ISO8601", utc=True)
    frame["timestamp"] = frame["timestamp"].dt.as_unit("us")
    frame["value"] = frame["value"].astype("float64")
    return frame


def table(columns, rows):
    return pd.DataFrame(rows, columns=columns).astype({c: "float64" for c in columns[1:]})


# Unsorted on purpose. observation_end below is 2024-01-15 00:00 (a Monday).
HAND = log(
    (1, "2024-01-08 00:00", "purchase", 30.0),
    (2, "2024-01-05 00:00", "purchase", 20.0),
    (1, "2024-01-01 18:00", "purchase", 5.0),
    (3, "2024-01-15 00:00:00.000001", "purchase", 7.0),  # 1 µs after the end
    (1, "2024-01-10 08:00", "purchase", -4.0),  # negative values are kept
    (5, "2024-01-04 00:00", "purchase", 8.0),
    (1, "2024-01-20 00:00", "purchase", 100.0),  # after the end
    (4, "2024-01-03 00:00", "site_visit", 0.0),  # never bought: absent
    (1, "2024-01-01 09:00", "purchase", 10.0),
    (3, "2024-01-15 00:00", "purchase", None),  # exactly at the end; missing value is 0
    (5, "2024-01-02 00:00", "purchase", 0.0),
    (1, "2024-01-03 12:00", "site_visit", 0.0),
    (5, "2024-01-04 00:00", "purchase", 0.0),
    (6, "2024-01-16 00:00", "purchase", 3.0),  # first purchase after the end: absent
    (7, "2024-01-07 23:59", "purchase", 1.0),  # Sunday
    (7, "2024-01-08 00:00", "purchase", 2.0),  # Monday
)
END = "2024-01-15"

HAND_DAYS = table(
    SUMMARY,
    [
        # days 01-01 (10 + 5 = 15), 01-08 (30), 01-10 (-4): frequency 3 - 1 = 2,
        # recency 10 - 1 = 9, T 15 - 1 = 14, monetary (30 + -4) / 2 = 13
        (1, 2, 9, 14, 13.0),
        (2, 0, 0, 10, 0.0),  # one day, 01-05: T = 15 - 5
        (3, 0, 0, 0, 0.0),  # only the purchase at 00:00 on the 15th counts
        (5, 1, 2, 13, 8.0),  # days 01-02 (0), 01-04 (8 + 0): recency 2, T 15 - 2
        (7, 1, 1, 8, 2.0),  # days 01-07 (1), 01-08 (2): T 15 - 7
    ],
)
HAND_WEEKS = table(
    SUMMARY,
    [
        # weeks from Monday: A = 01-01..01-07, B = 01-08..01-14, C = 01-15 (the end's week)
        (1, 1, 1, 2, 26.0),  # A (15), B (30 - 4 = 26): T = C - A = 2
        (2, 0, 0, 2, 0.0),  # A
        (3, 0, 0, 0, 0.0),  # C
        (5, 0, 0, 2, 0.0),  # A only (0 + 8 + 0)
        (7, 1, 1, 2, 2.0),  # Sunday 01-07 is in A, Monday 01-08 in B
    ],
)
HAND_HOURS = table(
    SUMMARY,
    [
        # hours 01-01 09h (10), 01-01 18h (5), 01-08 00h (30), 01-10 08h (-4): frequency 3,
        # recency 8 d 23 h = 215 h, T 13 d 15 h = 327 h, monetary (5 + 30 - 4) / 3
        (1, 3, 215, 327, 31 / 3),
        (2, 0, 0, 240, 0.0),  # 10 days
        (3, 0, 0, 0, 0.0),
        (5, 1, 48, 312, 8.0),  # 01-02 00h, 01-04 00h; T 13 days
        (7, 1, 1, 169, 2.0),  # 01-07 23h, 01-08 00h; T 7 d 1 h
    ],
)


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        ("day", HAND_DAYS),
        ("week", HAND_WEEKS),
        ("hour", HAND_HOURS),
        ("D", HAND_DAYS),
        ("W", HAND_WEEKS),
        ("h", HAND_HOURS),
        ("H", HAND_HOURS),
    ],
)
def test_rfm_hand_computed(period, expected):
    result = rfm(HAND, observation_end=END, period=period)
    assert list(result.columns) == SUMMARY
    assert isinstance(result.index, pd.RangeIndex)
    assert_same_frame(result, expected)
    assert (result.dtypes.iloc[1:] == "float64").all()


def test_observation_end_is_inclusive_to_the_microsecond():
    # customer 3 bought at 00:00 and at 00:00:00.000001 on the 15th
    at = rfm(HAND, observation_end="2024-01-15 00:00:00.000001").set_index("customer_id")
    assert at.loc[3, "frequency"] == 0  # same day: one purchase period
    before = rfm(HAND, observation_end="2024-01-14 23:59:59.999999")
    assert 3 not in set(before["customer_id"])


def test_observation_end_in_another_zone_means_the_same_instant():
    # 2024-01-15 01:00 in Paris is 00:00 UTC: the same cut as END
    paris = pd.Timestamp("2024-01-15 01:00", tz="Europe/Paris")
    assert_same_frame(rfm(HAND, observation_end=paris), HAND_DAYS)


def test_days_are_utc_days_whatever_the_log_zone():
    # 00:30 on Jan 2 in Paris is 23:30 on Jan 1 UTC: the same day as the 10:00 UTC purchase
    events = log((1, "2024-01-01 10:00", "purchase", 1.0), (1, "2024-01-01 23:30", "purchase", 2.0))
    events["timestamp"] = events["timestamp"].dt.tz_convert("Europe/Paris")
    result = rfm(events, observation_end="2024-01-03")
    assert_same_frame(result, table(SUMMARY, [(1, 0, 0, 2, 0.0)]))


# lifetimes 0.11.3 (pandas 2.1) on the purchases of LCG_LOG up to observation_end:
# summary_data_from_transaction_data(purchases[purchases.timestamp <= end], "customer_id",
# "timestamp", "value", observation_period_end=end, freq=freq).
def lcg_log(customers=10, seed=2024):
    """A log from a fixed 64-bit LCG: the same rows on every machine (customer 8 never buys)."""
    state = seed

    def draw(k):
        nonlocal state
        state = (state * 6364136223846793005 + 1442695040888963407) % 2**64
        return (state >> 33) % k

    rows = []
    for customer in range(1, customers + 1):
        for _ in range(draw(7)):
            stamp = START + pd.Timedelta(minutes=draw(60 * 24 * 70))
            rows.append((customer, stamp, "purchase", (draw(4000) - 400) / 100))
            if draw(4) == 0:  # a second purchase in the same minute
                rows.append((customer, stamp, "purchase", draw(1000) / 100))
            rows.append((customer, stamp - pd.Timedelta(minutes=draw(300)), "site_visit", 0.0))
    return log(*rows)


LCG_LOG = lcg_log()
LIFETIMES = {
    ("D", "2024-03-01"): [
        (1, 2, 18, 55, 18.465),
        (2, 2, 36, 48, 25.725),
        (3, 4, 17, 57, 16.4875),
        (4, 2, 17, 60, 29.33),
        (5, 2, 26, 32, 16.955),
        (6, 3, 17, 21, 12.93),
        (7, 5, 59, 60, 15.512),
        (9, 2, 21, 30, 17.12),
        (10, 3, 28, 49, 23.78),
    ],
    ("W", "2024-02-28 12:00"): [
        (1, 2, 3, 8, 18.465),
        (2, 1, 5, 7, 51.45),
        (3, 2, 2, 8, 22.05),
        (4, 2, 2, 8, 29.33),
        (5, 2, 3, 4, 16.955),
        (6, 3, 3, 3, 12.93),
        (7, 3, 8, 8, 16.0633333333),
        (9, 2, 3, 4, 17.12),
        (10, 3, 4, 7, 23.78),
    ],
    ("h", "2024-03-01 07:00"): [
        (1, 2, 423, 1315, 18.465),
        (2, 3, 861, 1155, 17.15),
        (3, 4, 417, 1368, 16.4875),
        (4, 2, 429, 1447, 29.33),
        (5, 2, 622, 766, 16.955),
        (6, 3, 409, 508, 12.93),
        (7, 5, 1405, 1435, 15.512),
        (9, 3, 513, 723, 14.91),
        (10, 3, 660, 1171, 23.78),
    ],
}


@pytest.mark.parametrize(("period", "end"), list(LIFETIMES))
def test_rfm_matches_lifetimes(period, end):
    assert len(LCG_LOG) == 99 and (LCG_LOG["event"] == "purchase").sum() == 57
    result = rfm(LCG_LOG, observation_end=end, period=period)
    assert_same_frame(result, table(SUMMARY, LIFETIMES[period, end]), rtol=1e-10)


def test_rfm_leaves_out_the_rest_of_the_end_period_unlike_lifetimes_summary():
    # Customer 9 also bought on 2024-03-01 21:18 (20.96 + 6.51). lifetimes' summary with
    # observation_period_end="2024-03-01" counts that day whole: (3, 30, 30, 20.57). Here
    # nothing after 00:00 counts: (2, 21, 30, 17.12), as in lifetimes' calibration data.
    result = rfm(LCG_LOG, observation_end="2024-03-01").set_index("customer_id")
    assert result.loc[9].tolist() == [2.0, 21.0, 30.0, pytest.approx(17.12)]
    whole_day = rfm(LCG_LOG, observation_end="2024-03-01 23:59:59.999999")
    assert whole_day.set_index("customer_id").loc[9].tolist() == [3, 30, 30, pytest.approx(20.57)]


# lifetimes 0.11.3: calibration_and_holdout_data(purchases, "customer_id", "timestamp",
# calibration_end, observation_end, freq=freq, monetary_value_col="value")
LIFETIMES_CALIBRATION = {
    ("D", "2024-02-01 12:00", "2024-03-10"): [
        (1, 2.0, 18.0, 26.0, 18.465, 0.0, 0.0, 38.0),
        (2, 0.0, 0.0, 19.0, 0.0, 2.0, 10.29, 38.0),
        (3, 4.0, 17.0, 28.0, 16.4875, 0.0, 0.0, 38.0),
        (4, 2.0, 17.0, 31.0, 29.33, 1.0, 7.26, 38.0),
        (5, 0.0, 0.0, 3.0, 0.0, 3.0, 15.22, 38.0),
        (7, 1.0, 4.0, 31.0, 8.13, 4.0, 17.3575, 38.0),
        (9, 0.0, 0.0, 1.0, 0.0, 3.0, 15.4275, 38.0),
        (10, 2.0, 10.0, 20.0, 21.195, 2.0, 14.59, 38.0),
    ],
    ("W", "2024-02-01", "2024-03-10"): [
        (1, 2.0, 3.0, 4.0, 18.465, 0.0, 0.0, 5.0),
        (2, 0.0, 0.0, 3.0, 0.0, 1.0, 10.29, 5.0),
        (3, 2.0, 2.0, 4.0, 22.05, 0.0, 0.0, 5.0),
        (4, 2.0, 2.0, 4.0, 29.33, 1.0, 7.26, 5.0),
        (5, 0.0, 0.0, 0.0, 0.0, 3.0, 15.22, 5.0),
        (7, 0.0, 0.0, 4.0, 0.0, 3.0, 17.3575, 5.0),
        (9, 0.0, 0.0, 0.0, 0.0, 3.0, 15.4275, 5.0),
        (10, 2.0, 2.0, 3.0, 21.195, 2.0, 14.59, 5.0),
    ],
}


@pytest.mark.parametrize(("period", "cal_end", "end"), list(LIFETIMES_CALIBRATION))
def test_calibration_holdout_matches_lifetimes(period, cal_end, end):
    result = calibration_holdout(
        LCG_LOG, calibration_end=cal_end, observation_end=end, period=period
    )
    expected = table(CALIBRATION, LIFETIMES_CALIBRATION[period, cal_end, end])
    assert_same_frame(result, expected, rtol=1e-10)


def test_calibration_holdout_hand_computed():
    events = log(
        (1, "2024-01-01 00:00", "purchase", 10.0),
        (1, "2024-01-03 00:00", "purchase", 30.0),
        (1, "2024-01-10 06:00", "purchase", 4.0),  # calibration: same day as the next one
        (1, "2024-01-10 18:00", "purchase", 5.0),  # holdout
        (1, "2024-01-12 08:00", "purchase", 15.0),
        (1, "2024-01-12 20:00", "purchase", 1.0),
        (2, "2024-01-15 00:00", "purchase", 8.0),  # first buys in the holdout: absent
        (3, "2024-01-09 00:00", "purchase", 2.0),
        (3, "2024-01-21 00:00", "purchase", 9.0),  # after observation_end
    )
    result = calibration_holdout(
        events, calibration_end="2024-01-10 12:00", observation_end="2024-01-20"
    )
    expected = table(
        CALIBRATION,
        [
            # calibration days 01-01 (10), 01-03 (30), 01-10 (4): frequency 2, recency 9,
            # T 10 - 1 = 9, monetary (30 + 4) / 2 = 17. Holdout days 01-10 (cut in two,
            # counted again) and 01-12: 2 periods; monetary is the mean per row,
            # (5 + 15 + 1) / 3 = 7, not per period. Duration 01-20 - 01-10 = 10 days.
            (1, 2, 9, 9, 17.0, 2, 7.0, 10),
            (3, 0, 0, 1, 0.0, 0, 0.0, 10),  # 01-09; nothing by 01-20
        ],
    )
    assert_same_frame(result, expected)


def test_calibration_part_is_rfm_at_calibration_end():
    for period in PERIOD_NAMES:
        split = calibration_holdout(
            LCG_LOG, calibration_end="2024-02-10 13:30", observation_end="2024-03-05", period=period
        )
        calibration = split[CALIBRATION[:5]].set_axis(SUMMARY, axis=1)
        assert_same_frame(
            calibration, rfm(LCG_LOG, observation_end="2024-02-10 13:30", period=period)
        )


def test_calibration_holdout_without_holdout():
    # lifetimes raises when nobody bought in the holdout; here the holdout is simply empty
    result = calibration_holdout(HAND, calibration_end=END, observation_end=END)
    assert (result[["frequency_holdout", "monetary_value_holdout", "duration_holdout"]] == 0).all(
        axis=None
    )
    assert_same_frame(result[CALIBRATION[:5]].set_axis(SUMMARY, axis=1), HAND_DAYS)


def test_calibration_holdout_rejects_an_end_before_the_calibration_end():
    with pytest.raises(jl.JourneyParameterError, match="before calibration_end"):
        calibration_holdout(HAND, calibration_end="2024-02-01", observation_end="2024-01-01")


# ---------------------------------------------------------------- bad input


def test_empty_answers():
    empty = HAND.iloc[:0]
    for result, columns in [
        (rfm(empty, observation_end=END), SUMMARY),
        (rfm(HAND, observation_end="2023-12-31"), SUMMARY),  # before every purchase
        (rfm(HAND, observation_end=END, purchase_event="refund"), SUMMARY),  # never logged
        (calibration_holdout(empty, calibration_end=END, observation_end=END), CALIBRATION),
        (calibration_holdout(HAND, calibration_end="2023-01-01", observation_end=END), CALIBRATION),
    ]:
        assert list(result.columns) == columns
        assert len(result) == 0
    segments = rfm_segments(rfm(empty, observation_end=END))
    assert len(segments) == 0
    assert list(segments.columns) == [*SUMMARY, "r_score", "f_score", "m_score", "segment"]


def test_without_a_value_column_money_is_zero():
    result = rfm(HAND.drop(columns="value"), observation_end=END)
    expected = HAND_DAYS.assign(monetary_value=0.0)
    assert_same_frame(result, expected)


def test_nan_values_count_as_zero_on_every_engine():
    import polars as pl

    events = pl.from_pandas(HAND).with_columns(pl.col("value").fill_null(float("nan")))
    assert events["value"].is_nan().sum() == 1 and events["value"].null_count() == 0
    assert_same_frame(collect(rfm(events, observation_end=END)), HAND_DAYS)


def test_identical_timestamps_are_one_period():
    events = log(*[(1, "2024-01-01 10:00", "purchase", 2.5)] * 4)
    result = rfm(events, observation_end="2024-01-02")
    assert_same_frame(result, table(SUMMARY, [(1, 0, 0, 1, 0.0)]))


def test_string_ids_and_nulls():
    events = HAND.assign(customer_id=HAND["customer_id"].map(lambda c: f"c{c}"))
    events.loc[events.index[0], "customer_id"] = None  # customer 1's 01-08 purchase
    result = rfm(events, observation_end=END)
    assert result["customer_id"].tolist() == ["c1", "c2", "c3", "c5", "c7"]
    # without 01-08 customer 1 has days 01-01 (15), 01-10 (-4)
    assert result.iloc[0, 1:].tolist() == [1.0, 9.0, 14.0, -4.0]


@pytest.mark.parametrize("period", ["M", "month", "d", "1D", "ME", "Hour", None, ["D"]])
def test_unknown_period(period):
    message = r"period must be one of 'hour', 'day', 'week' \(or pandas' 'h', 'D', 'W'\); got "
    with pytest.raises(jl.JourneyParameterError, match=message + re.escape(repr(period))):
        rfm(HAND, observation_end=END, period=period)
    with pytest.raises(jl.JourneyParameterError, match=message):
        calibration_holdout(HAND, calibration_end=END, observation_end=END, period=period)


def test_the_result_records_its_period_by_name():
    assert rfm(HAND, observation_end=END).attrs[ATTRS_KEY] == {"period": "day"}
    assert rfm(HAND, observation_end=END, period="W").attrs[ATTRS_KEY] == {"period": "week"}


@pytest.mark.parametrize(
    ("freq", "word", "expected"),
    [("D", "day", HAND_DAYS), ("W", "week", HAND_WEEKS), ("h", "hour", HAND_HOURS)],
)
def test_freq_still_works_for_a_release_and_says_what_to_write(freq, word, expected):
    instead = f"write period='{word}' instead of freq='{freq}'"
    with pytest.warns(DeprecationWarning, match=re.escape(instead)) as caught:
        result = rfm(HAND, observation_end=END, freq=freq)
    assert caught[0].filename == __file__  # the warning points at the caller's line
    assert_same_frame(result, expected)
    with pytest.warns(DeprecationWarning, match=re.escape(instead)):
        split = calibration_holdout(HAND, calibration_end=END, observation_end=END, freq=freq)
    assert_same_frame(split[CALIBRATION[:5]].set_axis(SUMMARY, axis=1), expected)
    with (
        pytest.warns(DeprecationWarning),
        pytest.raises(jl.JourneyParameterError, match="both given"),
    ):
        rfm(HAND, observation_end=END, period="week", freq=freq)
    with pytest.warns(DeprecationWarning, match="use RFM_PERIODS"):
        assert rfm_module.FREQS == ("D", "W", "h", "H")
    assert RFM_PERIODS == ("hour", "day", "week")


def test_bad_arguments_and_columns():
    with pytest.raises(jl.JourneyParameterError, match="observation_end"):
        rfm(HAND, observation_end="not a date")
    with pytest.raises(jl.JourneyParameterError, match="observation_end"):
        rfm(HAND, observation_end=None)
    with pytest.raises(jl.JourneyParameterError, match="calibration_end"):
        calibration_holdout(HAND, calibration_end="soon", observation_end=END)
    with pytest.raises(jl.JourneyParameterError, match="purchase_event"):
        rfm(HAND, observation_end=END, purchase_event=["purchase"])
    with pytest.raises(jl.JourneyDataError, match="event"):
        rfm(HAND.drop(columns="event"), observation_end=END)
    with pytest.raises(jl.JourneyDataError, match="not a datetime"):
        rfm(HAND.assign(timestamp=HAND["timestamp"].astype(str)), observation_end=END)
    with pytest.raises(jl.JourneyDataError, match="'value' is"):
        rfm(HAND.assign(value=HAND["value"].astype(str)), observation_end=END)
    with pytest.raises(jl.JourneyDataError, match="monetary_value"):
        rfm_segments(HAND_DAYS.drop(columns="monetary_value"))
    with pytest.raises(jl.JourneyParameterError, match="DataFrame"):
        rfm([1, 2, 3], observation_end=END)


# ---------------------------------------------------------------- segments

# The documented map, typed again: R score -> segment for FM = (F + M) // 2 = 1..5.
MAP = {
    5: ["new customers", "potential loyalists", "potential loyalists", "champions", "champions"],
    4: ["promising", "potential loyalists", "potential loyalists", "loyal", "loyal"],
    3: ["about to sleep", "about to sleep", "need attention", "loyal", "loyal"],
    2: ["hibernating", "hibernating", "at risk", "at risk", "cannot lose them"],
    1: ["lost", "hibernating", "at risk", "at risk", "cannot lose them"],
}


def test_every_segment_is_on_the_map():
    assert {name for row in MAP.values() for name in row} == set(RFM_SEGMENTS)
    assert len(RFM_SEGMENTS) == 11


def test_segments_hand_computed():
    summary = table(
        SUMMARY,
        [
            # customer, frequency, recency, T, monetary; since last = T - recency
            (1, 6, 50, 52, 40.0),  # since 2
            (2, 0, 0, 3, 0.0),  # since 3
            (3, 2, 10, 60, 25.0),  # since 50
            (4, 4, 20, 80, 60.0),  # since 60
            (5, 0, 0, 90, 0.0),  # since 90
            (6, 2, 10, 12, 25.0),  # since 2, tied with customer 1
        ],
    )
    result = rfm_segments(summary.iloc[::-1])
    # n = 6, score = 1 + (5 * (rank - 1)) // 6 for min-ranks worst first:
    # R: since 90 -> rank 1, 60 -> 2, 50 -> 3, 3 -> 4, 2 and 2 -> 5: scores 1, 1, 2, 3, 4, 4
    # F: 0, 0 -> rank 1; 2, 2 -> 3; 4 -> 5; 6 -> 6: scores 1, 1, 2, 2, 4, 5
    # M: 0, 0 -> 1; 25, 25 -> 3; 40 -> 5; 60 -> 6: scores 1, 1, 2, 2, 4, 5
    assert result["customer_id"].tolist() == [1, 2, 3, 4, 5, 6]
    assert result["r_score"].tolist() == [4, 3, 2, 1, 1, 4]
    assert result["f_score"].tolist() == [5, 1, 2, 4, 1, 2]
    assert result["m_score"].tolist() == [4, 1, 2, 5, 1, 2]
    # FM = (F + M) // 2: 4, 1, 2, 4, 1, 2
    assert result["segment"].tolist() == [
        "loyal",  # R 4, FM 4
        "about to sleep",  # R 3, FM 1
        "hibernating",  # R 2, FM 2
        "at risk",  # R 1, FM 4
        "lost",  # R 1, FM 1
        "potential loyalists",  # R 4, FM 2
    ]
    assert result[SUMMARY].equals(summary)


def test_segment_scores_with_one_customer_and_all_tied():
    one = rfm_segments(table(SUMMARY, [(1, 3, 5, 9, 10.0)]))
    assert one[["r_score", "f_score", "m_score"]].iloc[0].tolist() == [1, 1, 1]
    assert one["segment"].tolist() == ["lost"]
    tied = rfm_segments(table(SUMMARY, [(c, 1, 2, 3, 4.0) for c in range(1, 8)]))
    assert set(tied["segment"]) == {"lost"}


def test_segments_keep_other_columns_and_read_rfm_output():
    summary = rfm(LCG_LOG, observation_end="2024-03-01").assign(note="x")
    result = rfm_segments(summary)
    assert list(result.columns) == [*SUMMARY, "note", "r_score", "f_score", "m_score", "segment"]
    assert result["r_score"].dtype == "int64"
    assert_same_frame(result, brute_segments(summary))


# ---------------------------------------------------------------- brute-force references


def ordinal(stamp, period):
    """lifetimes' period number: pandas' Period ordinal of the naive UTC time."""
    return pd.Period(stamp.tz_convert("UTC").tz_localize(None), freq=PANDAS_FREQ[period]).ordinal


def purchases_by_customer(events, keep):
    """{customer: [(time, value), ...]} of purchases whose time passes ``keep``, in time order."""
    found = {}
    for customer, stamp, event, value in events[
        ["customer_id", "timestamp", "event", "value"]
    ].itertuples(index=False):
        if event == "purchase" and keep(stamp):
            found.setdefault(customer, []).append((stamp, 0.0 if math.isnan(value) else value))
    return {c: sorted(found[c]) for c in sorted(found)}


def brute_summary(events, end, period):
    end = pd.Timestamp(end, tz="UTC")
    out = {}
    for customer, bought in purchases_by_customer(events, lambda t: t <= end).items():
        periods = {}
        for stamp, value in bought:
            periods[ordinal(stamp, period)] = periods.get(ordinal(stamp, period), 0.0) + value
        numbers = sorted(periods)
        repeats = [periods[p] for p in numbers[1:]]
        out[customer] = (
            len(numbers) - 1,
            numbers[-1] - numbers[0],
            ordinal(end, period) - numbers[0],
            sum(repeats) / len(repeats) if repeats else 0.0,
        )
    return out


def brute_rfm(events, end, period):
    rows = [(c, *v) for c, v in brute_summary(events, end, period).items()]
    return table(SUMMARY, rows)


def brute_calibration(events, cal_end, end, period):
    cal, stop = pd.Timestamp(cal_end, tz="UTC"), pd.Timestamp(end, tz="UTC")
    later = purchases_by_customer(events, lambda t: cal < t <= stop)
    rows = []
    for customer, values in brute_summary(events, cal_end, period).items():
        holdout = later.get(customer, [])
        rows.append(
            (
                customer,
                *values,
                len({ordinal(t, period) for t, _ in holdout}),
                sum(v for _, v in holdout) / len(holdout) if holdout else 0.0,
                ordinal(stop, period) - ordinal(cal, period),
            )
        )
    return table(CALIBRATION, rows)


def brute_segments(summary):
    records = summary.to_dict("records")
    n = len(records)
    out = summary.sort_values("customer_id").reset_index(drop=True)

    def score(worse):
        return [1 + 5 * sum(worse(o, r) for o in records) // n for r in out.to_dict("records")]

    out["r_score"] = score(lambda o, r: o["T"] - o["recency"] > r["T"] - r["recency"])
    out["f_score"] = score(lambda o, r: o["frequency"] < r["frequency"])
    out["m_score"] = score(lambda o, r: o["monetary_value"] < r["monetary_value"])
    out["segment"] = [
        MAP[r][(f + m) // 2 - 1]
        for r, f, m in zip(out["r_score"], out["f_score"], out["m_score"], strict=True)
    ]
    return out


MINUTES = 60 * 24 * 40
minutes = st.one_of(st.integers(0, MINUTES), st.sampled_from([0, 1439, 1440, 10079, 10080]))
rows = st.lists(
    st.tuples(
        st.integers(1, 6),
        minutes,
        st.sampled_from(["purchase", "purchase", "site_visit"]),
        st.sampled_from([None, -5.0, 0.0, 0.1, 2.5, 10.0, 99.75]),
    ),
    max_size=40,
)


def random_log(drawn):
    return log(*[(c, START + pd.Timedelta(minutes=m), e, v) for c, m, e, v in drawn])


def instant(minute):
    return START + pd.Timedelta(minutes=minute)


@settings(max_examples=100, deadline=None)
@given(rows, minutes, st.sampled_from(PERIOD_NAMES))
def test_rfm_equals_brute_force(drawn, end, period):
    events = random_log(drawn)
    result = rfm(events, observation_end=instant(end), period=period)
    assert_same_frame(result, brute_rfm(events, instant(end), period))


@settings(max_examples=80, deadline=None)
@given(rows, minutes, minutes, st.sampled_from(PERIOD_NAMES))
def test_calibration_holdout_equals_brute_force(drawn, first, second, period):
    events = random_log(drawn)
    cal_end, end = instant(min(first, second)), instant(max(first, second))
    result = calibration_holdout(
        events, calibration_end=cal_end, observation_end=end, period=period
    )
    assert_same_frame(result, brute_calibration(events, cal_end, end, period))


summaries = st.lists(
    st.tuples(
        st.integers(0, 4),
        st.integers(0, 6),
        st.integers(0, 6),
        st.sampled_from([0.0, 1.5, 2.0, 7.25, 40.0, -3.0]),
    ),
    max_size=30,
)


@settings(max_examples=100, deadline=None)
@given(summaries)
def test_rfm_segments_equals_brute_force(drawn):
    # recency = T - since, so "since" is free and ties are frequent
    summary = table(
        SUMMARY,
        [(i + 1, f, r, r + since, m) for i, (f, r, since, m) in enumerate(drawn)],
    ).sample(frac=1, random_state=len(drawn))
    assert_same_frame(rfm_segments(summary), brute_segments(summary))


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
@settings(max_examples=25, deadline=None)
@given(rows, minutes, minutes, st.sampled_from(PERIOD_NAMES))
def test_engines_agree_on_random_logs(engine, drawn, first, second, period):
    events = random_log(drawn)
    cal_end, end = instant(min(first, second)), instant(max(first, second))
    want = rfm(events, observation_end=end, period=period)
    assert_same_frame(parity(rfm, events, engine, observation_end=end, period=period), want)
    split = {"calibration_end": cal_end, "observation_end": end, "period": period}
    want_split = calibration_holdout(events, **split)
    assert_same_frame(parity(calibration_holdout, events, engine, **split), want_split)
    assert_same_frame(parity(rfm_segments, want, engine), rfm_segments(want))


# ---------------------------------------------------------------- engines


@pytest.fixture(scope="module")
def simulated():
    return jl.simulate(300, seed=5).events[["customer_id", "timestamp", "event", "value"]]


@pytest.mark.parametrize("engine", ENGINES)
def test_engine_parity_fixed_logs(engine, simulated):
    for events, end in [(HAND, END), (LCG_LOG, "2024-02-20 10:00"), (simulated, "2024-10-01")]:
        for period in ("D", "W"):
            got = parity(rfm, events, engine, observation_end=end, period=period)
            assert_same_frame(got, rfm(events, observation_end=end, period=period))
    split = {"calibration_end": "2024-06-30", "observation_end": "2024-12-31", "period": "W"}
    got = parity(calibration_holdout, simulated, engine, **split)
    assert_same_frame(got, calibration_holdout(simulated, **split))
    summary = rfm(simulated, observation_end="2024-12-31")
    assert_same_frame(parity(rfm_segments, summary, engine), rfm_segments(summary))
    assert_same_frame(
        parity(rfm_segments, HAND_DAYS.iloc[:0], engine), rfm_segments(HAND_DAYS.iloc[:0])
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_empty_results_keep_the_engine(engine):
    got = parity(rfm, HAND, engine, observation_end="2020-01-01")
    assert len(got) == 0 and list(got.columns) == SUMMARY


def test_simulated_log_sanity(simulated):
    summary = rfm(simulated, observation_end="2024-12-31")
    buyers = simulated.loc[simulated["event"] == "purchase", "customer_id"].nunique()
    assert len(summary) == buyers
    assert (summary["recency"] <= summary["T"]).all()
    assert (summary.loc[summary["frequency"] == 0, ["recency", "monetary_value"]] == 0).all(
        axis=None
    )
    assert np.array_equal(summary["customer_id"], np.sort(summary["customer_id"]))


def test_pyspark_matches_pandas(spark, simulated):
    frame = to_engine(simulated, "pyspark", spark)
    for period in ("D", "h"):
        result = rfm(frame, observation_end="2024-09-01 12:00", period=period)
        assert is_kind(result, "pyspark")
        want = rfm(simulated, observation_end="2024-09-01 12:00", period=period)
        assert_same_frame(collect(result), want)
    split = {"calibration_end": "2024-06-30", "observation_end": "2024-12-31", "period": "W"}
    result = calibration_holdout(frame, **split)
    assert is_kind(result, "pyspark")
    assert_same_frame(collect(result), calibration_holdout(simulated, **split))
    summary = rfm(simulated, observation_end="2024-12-31")
    result = rfm_segments(to_engine(summary, "pyspark", spark))
    assert is_kind(result, "pyspark")
    assert_same_frame(collect(result), rfm_segments(summary))
