"""Tests of journey_lib.io.validate: validate_events and ValidationReport.

Every expected value below is worked out by hand from the input written next to it.
"""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pandas as pd
import pytest
from engines import require_module
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journey_lib.errors import JourneyDataError, JourneyParameterError
from journey_lib.io.validate import (
    CANONICAL_COLUMNS,
    REASONS,
    ValidationReport,
    validate_events,
)

UTC_US = "datetime64[us, UTC]"


# --------------------------------------------------------------------------- helpers


def events(customer_id, timestamp="2024-01-01", event="view", **extra) -> pd.DataFrame:
    """A raw log; scalars are broadcast to the length of ``customer_id``."""
    n = len(customer_id)
    columns = {"customer_id": customer_id, "timestamp": timestamp, "event": event, **extra}
    return pd.DataFrame(
        {k: v if isinstance(v, list | pd.Series) else [v] * n for k, v in columns.items()}
    )


def utc(*stamps: str) -> list[pd.Timestamp]:
    return [pd.Timestamp(s, tz="UTC") for s in stamps]


def assert_conserved(report: ValidationReport, n_input: int | None = None) -> None:
    n = report.n_input if n_input is None else n_input
    assert report.n_input == n
    assert len(report.clean) + len(report.quarantine) + report.duplicates == n


def assert_quarantine_is_input(report: ValidationReport, raw: pd.DataFrame) -> None:
    """Quarantined rows are the input rows at the same labels, untouched, plus the reason."""
    rows = report.quarantine.drop(columns=report.reason_column)
    pd.testing.assert_frame_equal(rows, raw.loc[report.quarantine.index])


def reasons_by_label(report: ValidationReport) -> dict:
    return report.quarantine[report.reason_column].to_dict()


def timestamps_of(raw_timestamps) -> list[pd.Timestamp]:
    """Clean timestamps of one-event-per-customer rows, in input order."""
    report = validate_events(events(list(range(len(raw_timestamps))), raw_timestamps))
    assert report.ok, report.summary()
    assert str(report.clean["timestamp"].dtype) == UTC_US
    return report.clean["timestamp"].tolist()


def ids_of(raw_ids) -> pd.Series:
    """Clean customer ids of one event per row, each a day apart, in input order."""
    days = [f"2024-01-{d + 1:02d}" for d in range(len(raw_ids))]
    report = validate_events(events(raw_ids, days))
    return report.clean.sort_values("timestamp")["customer_id"].reset_index(drop=True)


# --------------------------------------------------------------------------- quarantine reasons


@pytest.mark.parametrize(
    ("column", "bad", "reason"),
    [
        ("customer_id", None, "missing customer id"),
        ("timestamp", None, "missing timestamp"),
        ("timestamp", "soon", "unparseable timestamp"),
        ("timestamp", "2024-13-01", "unparseable timestamp"),
        ("timestamp", "2024-02-30", "unparseable timestamp"),
        ("event", "", "empty event name"),
        ("event", "   ", "empty event name"),
        ("event", None, "empty event name"),
        ("value", "abc", "non-numeric value"),
        ("value", "inf", "non-finite value"),
        ("value", "-inf", "non-finite value"),
    ],
)
def test_each_reason_quarantines_exactly_the_bad_row(column, bad, reason):
    raw = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "timestamp": ["2024-01-01", "2024-01-02", "2024-01-03"],
            "event": ["view", "view", "buy"],
            "value": ["1", "2", "3"],
        },
        index=[10, 20, 30],
    )
    raw.loc[20, column] = bad
    report = validate_events(raw)
    assert reasons_by_label(report) == {20: reason}
    assert_quarantine_is_input(report, raw)
    assert report.clean["customer_id"].tolist() == ["a", "c"]
    assert report.clean["value"].tolist() == [1.0, 3.0]
    assert not report.ok
    assert_conserved(report, 3)


def test_numeric_infinite_value_is_quarantined_and_missing_value_means_zero():
    raw = events(["a", "b", "c", "d"], value=[1.5, np.inf, np.nan, -np.inf])
    report = validate_events(raw)
    assert reasons_by_label(report) == {1: "non-finite value", 3: "non-finite value"}
    assert report.clean["value"].tolist() == [1.5, 0.0]
    assert report.clean["value"].dtype == "float64"


def test_value_text_parsing():
    raw = events(list("abcdefg"), value=["19.90", "abc", None, "", " 1e3 ", "NaN", "-2.5"])
    report = validate_events(raw)
    assert reasons_by_label(report) == {1: "non-numeric value"}
    assert report.clean["value"].tolist() == [19.9, 0.0, 0.0, 1000.0, 0.0, -2.5]


def test_timestamp_after_as_of_is_quarantined_and_the_bound_itself_is_kept():
    raw = events(
        ["a", "b", "c"], ["2024-05-31 23:59:59", "2024-06-01 00:00:00", "2024-06-01T02:00:01+02:00"]
    )
    # as_of given with an offset: 2024-06-01 02:00+02:00 is 2024-06-01 00:00 UTC.
    report = validate_events(raw, as_of="2024-06-01T02:00:00+02:00")
    assert report.as_of == pd.Timestamp("2024-06-01 00:00", tz="UTC")
    assert reasons_by_label(report) == {2: "timestamp after as_of"}
    assert report.clean["customer_id"].tolist() == ["a", "b"]


def test_naive_as_of_means_utc():
    raw = events(["a", "b"], ["2024-06-01 00:00:00", "2024-06-01 00:00:01"])
    report = validate_events(raw, as_of=dt.datetime(2024, 6, 1))
    assert reasons_by_label(report) == {1: "timestamp after as_of"}


def test_invalid_as_of_is_a_parameter_error():
    with pytest.raises(JourneyParameterError, match="as_of='garbage'"):
        validate_events(events(["a"]), as_of="garbage")


def test_several_reasons_are_joined_in_the_documented_order():
    raw = pd.DataFrame(
        {
            "customer_id": [None, "b", "c"],
            "timestamp": ["2024-01-01", "soon", "2030-01-01"],
            "event": ["", "view", "view"],
            "value": ["abc", "inf", "1"],
        },
        index=["x", "y", "z"],
    )
    report = validate_events(raw, as_of="2025-01-01")
    assert reasons_by_label(report) == {
        "x": "missing customer id; empty event name; non-numeric value",
        "y": "unparseable timestamp; non-finite value",
        "z": "timestamp after as_of",
    }
    assert_quarantine_is_input(report, raw)
    assert report.clean.empty
    assert_conserved(report, 3)


def test_quarantine_keeps_original_column_names_values_and_labels():
    raw = pd.DataFrame(
        {
            "user": ["u1", " NaN ", "u3"],
            "when": ["2024-01-01T10:00+02:00", "2024-01-02", "2024-01-03"],
            "what": ["view", "buy", " "],
            "extra": [1, 2, 3],
        },
        index=pd.Index([7, 3, 5], name="row"),
    )
    report = validate_events(
        raw, columns={"user": "customer_id", "when": "timestamp", "what": "event"}
    )
    assert list(report.quarantine.columns) == ["user", "when", "what", "extra", "reason"]
    assert report.quarantine.index.tolist() == [3, 5]
    assert report.quarantine.index.name == "row"
    assert report.quarantine["user"].tolist() == [" NaN ", "u3"]
    assert report.quarantine["what"].tolist() == ["buy", " "]
    assert reasons_by_label(report) == {3: "missing customer id", 5: "empty event name"}
    assert_quarantine_is_input(report, raw)
    assert report.columns == {"user": "customer_id", "when": "timestamp", "what": "event"}


def test_reason_column_is_renamed_when_the_input_has_one():
    raw = events(["a", None], reason=["kept as a property", "input's own reason"])
    report = validate_events(raw)
    assert report.reason_column == "quarantine_reason"
    assert list(report.quarantine.columns) == [
        "customer_id",
        "timestamp",
        "event",
        "reason",
        "quarantine_reason",
    ]
    assert report.quarantine["reason"].tolist() == ["input's own reason"]
    assert report.quarantine["quarantine_reason"].tolist() == ["missing customer id"]
    assert report.clean["reason"].tolist() == ["kept as a property"]
    assert report.reason_counts().to_dict() == {"missing customer id": 1}
    assert "missing customer id" in report.summary()


def test_validate_does_not_modify_its_input():
    raw = events([" a ", None], ["2024-01-01T10:00+02:00", "2024-01-02"], value=["1", "x"])
    before = raw.copy()
    validate_events(raw)
    pd.testing.assert_frame_equal(raw, before)


# --------------------------------------------------------------------------- customer ids


@pytest.mark.parametrize("null", ["NaN", "", None, "null", "NULL", " nan ", "None", "n/a", np.nan])
def test_null_spellings_of_ids_are_quarantined(null):
    report = validate_events(events(["a", null, "b"]))
    assert reasons_by_label(report) == {1: "missing customer id"}
    assert report.clean["customer_id"].tolist() == ["a", "b"]


@pytest.mark.parametrize(
    "raw_ids",
    [
        [7, 3, 12],
        [7.0, 3.0, 12.0],
        ["7", "3", "12"],
        [" 7 ", "3", "12 "],
        np.array([7, 3, 12], dtype="int32"),
        pd.array([7, 3, 12], dtype="Int64"),
        pd.array([7, 3, 12], dtype="uint16"),
    ],
    ids=["int", "float", "text", "padded-text", "int32", "Int64", "uint16"],
)
def test_integer_ids_become_int64(raw_ids):
    ids = ids_of(pd.Series(raw_ids))
    assert ids.dtype == "int64"
    assert ids.tolist() == [7, 3, 12]


def test_float_ids_with_missing_values_become_int64():
    raw = events([7.0, np.nan, 3.0], ["2024-01-01", "2024-01-02", "2024-01-03"])
    assert raw["customer_id"].dtype == "float64"
    report = validate_events(raw)
    assert report.clean["customer_id"].dtype == "int64"
    assert report.clean["customer_id"].tolist() == [3, 7]
    assert reasons_by_label(report) == {1: "missing customer id"}


def test_text_ids_with_missing_spellings_become_int64():
    report = validate_events(events(["7", "NaN", "", "42"]))
    assert report.clean["customer_id"].dtype == "int64"
    assert report.clean["customer_id"].tolist() == [7, 42]
    assert sorted(reasons_by_label(report)) == [1, 2]


def test_float_spelled_text_ids_become_int64():
    # CSV writers spell an integer id column with gaps as "7.0" (read as text, to keep zeros).
    report = validate_events(events(["12.0", "NaN", "7.0", "7"]))
    assert report.clean["customer_id"].dtype == "int64"
    assert report.clean["customer_id"].tolist() == [7, 12]
    assert report.duplicates == 1  # "7.0" and "7" are one customer: same id, time and event
    assert reasons_by_label(report) == {1: "missing customer id"}


def test_zero_padded_ids_keep_all_ids_as_text():
    ids = ids_of(["007", "7", "12"])
    assert ids.dtype == "str"
    assert ids.tolist() == ["007", "7", "12"]
    assert ids.nunique() == 3


def test_non_integral_float_ids_are_text():
    ids = ids_of([1.5, 2.0])
    assert ids.dtype == "str"
    assert ids.tolist() == ["1.5", "2.0"]


def test_text_ids_are_stripped_and_then_compared():
    raw = events([" alice", "alice ", "bob"])
    report = validate_events(raw)
    assert report.clean["customer_id"].tolist() == ["alice", "bob"]
    assert report.duplicates == 1


# --------------------------------------------------------------------------- timestamps


def test_mixed_offsets_are_converted_to_utc():
    assert timestamps_of(
        [
            "2024-03-10T01:30:00-08:00",  # 01:30 + 8h
            "2024-03-10T10:30:00+05:30",  # 10:30 - 5h30
            "2024-03-09T23:00:00-02:00",  # crosses midnight into the 10th
            "2024-03-10 12:00:00",  # naive: UTC
            "2024-03-10T12:00:00Z",
            "2019-10-01 00:00:00 UTC",  # REES46 style
            "2024-06-30 23:59:59.123456+01:00",  # microseconds survive
            "10 Mar 2024 14:00",  # not ISO: the slower parser
        ]
    ) == utc(
        "2024-03-10 09:30",
        "2024-03-10 05:00",
        "2024-03-10 01:00",
        "2024-03-10 12:00",
        "2024-03-10 12:00",
        "2019-10-01 00:00",
        "2024-06-30 22:59:59.123456",
        "2024-03-10 14:00",
    )


def test_non_iso_text_uses_one_guessed_format_then_falls_back_value_by_value():
    assert timestamps_of(
        [
            "12/1/2010 8:26",  # Online Retail style: month first, as pandas reads it
            "12/13/2010 17:05",
            "2024-01-03 UTC",  # date only, with a suffix
            "1 Dec 2010 09:00",  # neither ISO nor the guessed format
            "2010-12-01T08:26:00",
        ]
    ) == utc(
        "2010-12-01 08:26",
        "2010-12-13 17:05",
        "2024-01-03",
        "2010-12-01 09:00",
        "2010-12-01 08:26",
    )


def test_naive_datetime_column_is_read_as_utc():
    raw = pd.to_datetime(
        pd.Series(["2024-01-01 10:00:00", "2024-01-02 11:30:00.5"]), format="ISO8601"
    )
    assert timestamps_of(raw) == utc("2024-01-01 10:00", "2024-01-02 11:30:00.5")


def test_tz_aware_datetime_column_is_converted():
    raw = pd.to_datetime(pd.Series(["2024-07-01 10:00", "2024-01-01 10:00"]))
    paris = raw.dt.tz_localize("Europe/Paris")  # UTC+2 in summer, UTC+1 in winter
    assert timestamps_of(paris) == utc("2024-07-01 08:00", "2024-01-01 09:00")


def test_nanosecond_datetimes_are_truncated_to_microseconds():
    raw = pd.Series(pd.to_datetime(["2024-01-01 00:00:00.123456789"]).as_unit("ns"))
    assert timestamps_of(raw) == utc("2024-01-01 00:00:00.123456")


@pytest.mark.parametrize(
    ("epochs", "expected"),
    [
        ([1_700_000_000, 0], ["2023-11-14 22:13:20", "1970-01-01"]),
        ([1_700_000_000_123, 86_400_000], ["2023-11-14 22:13:20.123", "1970-01-02"]),
        ([1_700_000_000_123_456], ["2023-11-14 22:13:20.123456"]),
        ([1_700_000_000.5], ["2023-11-14 22:13:20.5"]),
    ],
    ids=["seconds", "milliseconds", "microseconds", "float-seconds"],
)
def test_epochs_by_magnitude(epochs, expected):
    assert timestamps_of(epochs) == utc(*expected)


def test_epoch_column_with_missing_and_infinite_values():
    report = validate_events(events(["a", "b", "c"], [1_700_000_000, np.nan, np.inf]))
    assert reasons_by_label(report) == {1: "missing timestamp", 2: "unparseable timestamp"}
    assert report.clean["timestamp"].tolist() == utc("2023-11-14 22:13:20")


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (["1700000000", "0"], ["2023-11-14 22:13:20", "1970-01-01"]),
        (["1700000000123", " 86400000 "], ["2023-11-14 22:13:20.123", "1970-01-02"]),
        (["1700000000.5", "+1700000001"], ["2023-11-14 22:13:20.5", "2023-11-14 22:13:21"]),
    ],
    ids=["seconds", "milliseconds", "decimal-and-signed"],
)
def test_epochs_spelled_as_text_by_magnitude(cells, expected):
    assert timestamps_of(pd.Series(cells, dtype="str")) == utc(*expected)


def test_epochs_mixed_with_dates_and_junk_in_one_column():
    # A JSON export that mixes epoch milliseconds with ISO text, and a CSV column whose
    # junk made the reader keep it as text: each readable cell is read, the rest quarantined.
    raw = events(
        list("abcde"),
        [1_700_000_000_123, "2024-03-10T01:30:00+01:00", "1700000000123", "soon", "1e9"],
    )
    report = validate_events(raw)
    assert report.clean["customer_id"].tolist() == ["a", "b", "c"]
    assert report.clean["timestamp"].tolist() == utc(
        "2023-11-14 22:13:20.123", "2024-03-10 00:30", "2023-11-14 22:13:20.123"
    )
    assert reasons_by_label(report) == {3: "unparseable timestamp", 4: "unparseable timestamp"}


def test_missing_and_unparseable_timestamps_are_told_apart():
    raw = events(list("abcdef"), ["2024-13-01", "soon", "", "NaT", None, "2024-01-01"])
    report = validate_events(raw)
    assert reasons_by_label(report) == {
        0: "unparseable timestamp",
        1: "unparseable timestamp",
        2: "missing timestamp",
        3: "missing timestamp",
        4: "missing timestamp",
    }
    assert str(report.clean["timestamp"].dtype) == UTC_US


def test_timestamp_dtype_is_microsecond_utc_even_when_empty():
    report = validate_events(events(["a"], "soon"))
    assert report.clean.empty
    assert str(report.clean["timestamp"].dtype) == UTC_US


# --------------------------------------------------------------------------- duplicates


def test_exact_duplicates_are_counted_and_kept_once():
    raw = events(
        ["a", "a", "b", "a", "a"],
        ["2024-01-01", "2024-01-01", "2024-01-01", "2024-01-01", "2024-01-02"],
        ["view", "view", "view", "view", "view"],
        note=["x", "x", "x", "y", "x"],
    )
    report = validate_events(raw)
    # rows 0 and 1 are equal; row 3 differs in a property, row 4 in time.
    assert report.duplicates == 1
    assert report.ok  # duplicates do not count against ok
    assert report.clean[["customer_id", "note"]].values.tolist() == [
        ["a", "x"],
        ["a", "y"],
        ["a", "x"],
        ["b", "x"],
    ]
    assert_conserved(report, 5)


def test_the_same_instant_in_two_formats_is_a_duplicate():
    raw = events(
        [5, 5, 5],
        ["2024-01-01T10:00:00+02:00", "2024-01-01 08:00:00 UTC", "2024-01-01 08:00:00"],
        "buy",
        value=["19.90", "19.9", 19.9],
    )
    report = validate_events(raw)
    assert report.duplicates == 2
    assert len(report.clean) == 1
    assert report.clean.loc[0, "timestamp"] == pd.Timestamp("2024-01-01 08:00", tz="UTC")


def test_identical_unusable_rows_are_all_quarantined_not_deduplicated():
    raw = events(["a", None, None])
    report = validate_events(raw)
    assert report.duplicates == 0
    assert report.quarantine.index.tolist() == [1, 2]
    assert_conserved(report, 3)


def test_duplicate_index_labels_are_fine():
    raw = events([1, 2, None], p=[1, 2, 3])
    raw.index = [5, 5, 5]
    report = validate_events(raw)
    assert report.clean["p"].tolist() == [1, 2]
    assert report.quarantine["p"].tolist() == [3]
    assert_conserved(report, 3)


# --------------------------------------------------------------------------- clean shape


def test_clean_columns_dtypes_and_values():
    raw = pd.DataFrame(
        {
            "note": ["n1", "n2", "n3"],
            "value": [None, "19.90", "5"],
            "event": [" purchase ", "ad_view", "site_visit"],
            "channel": [" email ", None, "NaN"],
            "timestamp": ["2024-01-01 09:00", "2024-01-01T10:00+02:00", "2024-01-02"],
            "customer_id": ["a", "a", "b"],
        }
    )
    report = validate_events(raw)
    clean = report.clean
    assert list(clean.columns) == [*CANONICAL_COLUMNS, "note"]
    assert clean.index.equals(pd.RangeIndex(3))
    assert str(clean["timestamp"].dtype) == UTC_US
    assert clean["value"].dtype == "float64"
    expected = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "timestamp": pd.Series(
                utc("2024-01-01 08:00", "2024-01-01 09:00", "2024-01-02")
            ).dt.as_unit("us"),
            "event": ["ad_view", "purchase", "site_visit"],
            "channel": [np.nan, "email", np.nan],
            "value": [19.9, 0.0, 5.0],
            "note": ["n2", "n1", "n3"],
        }
    ).astype({"channel": "str"})
    pd.testing.assert_frame_equal(clean, expected)


def test_absent_channel_and_value_columns():
    report = validate_events(events(["a", "b"]))
    assert report.clean["channel"].isna().all()
    assert report.clean["channel"].dtype == "str"
    assert report.clean["value"].tolist() == [0.0, 0.0]


def test_sorted_by_customer_then_time_and_ties_keep_input_order():
    raw = events(
        [2, 1, 2, 1, 1, 2],
        ["2024-01-02", "2024-01-03", "2024-01-01", "2024-01-01", "2024-01-03", "2024-01-02"],
        ["e0", "e1", "e2", "e3", "e4", "e5"],
    )
    clean = validate_events(raw).clean
    # customer 1: e3 (Jan 1), then e1 and e4 tied on Jan 3 in input order;
    # customer 2: e2 (Jan 1), then e0 and e5 tied on Jan 2 in input order.
    assert clean["event"].tolist() == ["e3", "e1", "e4", "e2", "e0", "e5"]
    assert clean["customer_id"].tolist() == [1, 1, 1, 2, 2, 2]


def test_empty_input_gives_an_empty_report():
    raw = pd.DataFrame({"customer_id": [], "timestamp": [], "event": []})
    report = validate_events(raw)
    assert report.clean.empty and report.quarantine.empty
    assert report.ok
    assert report.reason_counts().empty
    assert "0 input rows" in report.summary()
    assert_conserved(report, 0)


# --------------------------------------------------------------------------- column errors


@pytest.mark.parametrize(
    ("names", "missing", "hint"),
    [
        (["Timestamp", "customer_id", "event"], "['timestamp']", "{'Timestamp': 'timestamp'}"),
        (["user_id", "timestamp", "event"], "['customer_id']", "{'user_id': 'customer_id'}"),
        (
            ["customer id", "timestamp", "Event"],
            "['customer_id', 'event']",
            "{'customer id': 'customer_id', 'Event': 'event'}",
        ),
    ],
)
def test_missing_required_column_names_it_and_suggests_a_mapping(names, missing, hint):
    raw = pd.DataFrame([[1, "2024-01-01", "view"]], columns=names)
    with pytest.raises(JourneyDataError) as info:
        validate_events(raw)
    message = str(info.value)
    assert f"missing required column(s) {missing}" in message
    assert f"Did you mean columns={hint}?" in message
    assert str(names) in message
    assert isinstance(info.value, ValueError)


def test_missing_column_without_a_close_match_has_no_hint():
    raw = pd.DataFrame({"customer_id": [1], "event": ["view"], "zzz": [0]})
    with pytest.raises(JourneyDataError) as info:
        validate_events(raw)
    assert "missing required column(s) ['timestamp']" in str(info.value)
    assert "Did you mean" not in str(info.value)


def test_single_delimited_header_suggests_sep():
    raw = pd.DataFrame({"customer_id;timestamp;event": ["1;2024-01-01;view"]})
    with pytest.raises(JourneyDataError, match="pass sep=';'"):
        validate_events(raw)


def test_columns_mapping_to_a_non_canonical_name_is_a_parameter_error():
    with pytest.raises(JourneyParameterError, match=r"maps to \['cust'\]"):
        validate_events(events([1]), columns={"customer_id": "cust"})


def test_columns_mapping_from_an_absent_column_is_a_data_error():
    with pytest.raises(JourneyDataError, match=r"renames \['user'\].*no such column"):
        validate_events(events([1]), columns={"user": "customer_id"})


def test_columns_mapping_that_creates_a_clash_is_a_data_error():
    raw = events([1], when="2024-01-02")
    with pytest.raises(JourneyDataError, match=r"\['timestamp'\] appear more than once"):
        validate_events(raw, columns={"when": "timestamp"})


def test_columns_mapping_renames_and_keeps_other_columns_as_properties():
    raw = pd.DataFrame(
        {"u": ["x"], "ts": ["2024-01-01"], "event": ["v"], "price": ["2.5"], "channel_name": ["tv"]}
    )
    report = validate_events(raw, columns={"u": "customer_id", "ts": "timestamp", "price": "value"})
    assert list(report.clean.columns) == [*CANONICAL_COLUMNS, "channel_name"]
    assert report.clean.loc[0, "value"] == 2.5


def test_not_a_frame_is_a_parameter_error():
    with pytest.raises(JourneyParameterError, match="must be a DataFrame"):
        validate_events([{"customer_id": 1}])


# --------------------------------------------------------------------------- report


def small_report() -> tuple[pd.DataFrame, ValidationReport]:
    raw = pd.DataFrame(
        {
            "customer_id": [1, None, 2, 3, 4, 1, 1],
            "timestamp": [
                "2024-01-01",
                "2024-01-02",
                "soon",
                None,
                "2030-01-01",
                "2024-01-05",
                "2024-01-05",
            ],
            "event": ["signup", "purchase", "", "x", "y", "buy", "buy"],
            "value": ["1", "abc", "inf", None, "2", "3", "3"],
        },
        index=[10, 20, 30, 40, 50, 60, 70],
    )
    return raw, validate_events(raw, as_of="2025-01-01")


def test_reason_counts_counts_each_reason_of_each_row():
    _, report = small_report()
    counts = report.reason_counts()
    assert counts.to_dict() == {
        "missing customer id": 1,
        "missing timestamp": 1,
        "unparseable timestamp": 1,
        "timestamp after as_of": 1,
        "empty event name": 1,
        "non-numeric value": 1,
        "non-finite value": 1,
    }
    assert list(counts.index) == list(REASONS)  # listed in REASONS order
    assert counts.name == "rows" and counts.index.name == "reason"


def test_summary_has_counts_and_an_example_row_per_reason():
    _, report = small_report()
    assert report.summary().splitlines() == [
        "Touchpoint log: 7 input rows",
        "  clean                 2 rows  1 customers, 2 event types, "
        "2024-01-01 to 2024-01-05 (UTC)",
        "  quarantined           4 rows",
        "    missing customer id              1  e.g. row 20",
        "    missing timestamp                1  e.g. row 40",
        "    unparseable timestamp            1  e.g. row 30",
        "    timestamp after as_of            1  e.g. row 50",
        "    empty event name                 1  e.g. row 30",
        "    non-numeric value                1  e.g. row 20",
        "    non-finite value                 1  e.g. row 30",
        "  duplicates            1 rows dropped (first copy kept)",
    ]
    assert repr(report) == ("<ValidationReport: 2 clean, 4 quarantined, 1 duplicates of 7 rows>")


def test_summary_of_a_log_with_no_clean_rows():
    report = validate_events(events([None, None]))
    lines = report.summary().splitlines()
    assert lines[1] == "  clean                 0 rows"
    assert lines[3] == "    missing customer id              2  e.g. row 0"


# --------------------------------------------------------------------------- other engines


def test_polars_input_gives_the_same_clean_log_as_pandas():
    pl = require_module("polars", "the 'scale' extra")
    data = {
        "customer_id": [3, 1, None, 1],
        "timestamp": ["2024-01-01T10:00+02:00", "2024-01-02", "2024-01-03", "soon"],
        "event": ["view", "buy", "view", "view"],
        "value": [1.5, None, 2.0, 4.0],
        "note": ["a", None, "c", "d"],
    }
    from_polars = validate_events(pl.DataFrame(data))
    from_pandas = validate_events(pd.DataFrame(data))
    pd.testing.assert_frame_equal(from_polars.clean, from_pandas.clean)
    assert from_polars.clean["customer_id"].tolist() == [1, 3]
    assert from_polars.clean["timestamp"].tolist() == utc("2024-01-02", "2024-01-01 08:00")
    assert reasons_by_label(from_polars) == {2: "missing customer id", 3: "unparseable timestamp"}
    lazy = validate_events(pl.DataFrame(data).lazy())
    pd.testing.assert_frame_equal(lazy.clean, from_pandas.clean)


def test_polars_datetime_column_with_time_zone():
    pl = require_module("polars", "the 'scale' extra")
    frame = pl.DataFrame(
        {
            "customer_id": [1, 2],
            "timestamp": [dt.datetime(2024, 7, 1, 10), dt.datetime(2024, 1, 1, 10)],
            "event": ["a", "b"],
        }
    ).with_columns(pl.col("timestamp").dt.replace_time_zone("Europe/Paris"))
    clean = validate_events(frame).clean
    assert clean["timestamp"].tolist() == utc("2024-07-01 08:00", "2024-01-01 09:00")
    assert str(clean["timestamp"].dtype) == UTC_US


# --------------------------------------------------------------------------- property test

GOOD_TIMES = st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2035, 1, 1))
OFFSETS = st.sampled_from(["", "Z", " UTC", "+02:00", "-05:30", "+00:00"])
GARBAGE = ["", " ", "NaN", "nan", "null", "None", "NaT", "n/a", "soon", "2024-13-01", "abc"]


def mostly(good, bad):
    """Cells that are usable four times in five, so clean logs are not empty."""
    return st.integers(0, 4).flatmap(lambda k: good if k else bad)


def iso_text(moment: dt.datetime, sep: str, offset: str) -> str:
    return moment.isoformat(sep=sep) + offset


garbage = st.one_of(st.none(), st.sampled_from(GARBAGE), st.text(max_size=5))
timestamp_cells = mostly(
    st.one_of(
        st.builds(iso_text, GOOD_TIMES, st.sampled_from(["T", " "]), OFFSETS),
        GOOD_TIMES.map(lambda t: t.strftime("%Y-%m-%d")),
        st.integers(0, 2_000_000_000),  # epoch seconds (text once mixed with strings)
    ),
    garbage,
)
id_cells = mostly(
    st.one_of(st.integers(-3, 30), st.sampled_from([" 7 ", "007", "7", "12", "abc", "b"])),
    st.one_of(garbage, st.floats(allow_nan=True, allow_infinity=True)),
)
event_cells = mostly(
    st.sampled_from(["view", " buy ", "purchase"]),
    st.one_of(garbage, st.sampled_from(["  ", "NaN"]), st.integers(0, 3)),
)
channel_cells = st.one_of(st.none(), st.sampled_from(["email", "", "tv", "null", " store "]))
value_cells = mostly(
    st.one_of(
        st.none(),
        st.sampled_from(["19.90", " 5 ", "", "NaN"]),
        st.integers(-100, 100),
        st.floats(allow_nan=False, allow_infinity=False),
    ),
    st.one_of(
        st.sampled_from(["abc", "inf", "-inf", "1e400"]),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=4),
    ),
)
rows = st.tuples(
    id_cells,
    timestamp_cells,
    event_cells,
    channel_cells,
    value_cells,
    st.one_of(st.none(), st.integers(0, 2), st.text(max_size=3)),
)


@st.composite
def raw_logs(draw):
    base = draw(st.lists(rows, min_size=0, max_size=25))
    copies = draw(st.lists(st.integers(0, max(len(base) - 1, 0)), max_size=8)) if base else []
    records = base + [base[i] for i in copies]
    order = draw(st.permutations(range(len(records))))
    columns = ["customer_id", "timestamp", "event", "channel", "value", "note"]
    frame = pd.DataFrame([records[i] for i in order], columns=columns, dtype=object)
    # Let pandas infer typed columns (int ids, float values...) as readers would.
    frame = frame.infer_objects()
    frame.index = pd.Index([1000 - 7 * i for i in range(len(frame))])
    as_of = draw(st.one_of(st.none(), GOOD_TIMES.map(lambda t: t.replace(tzinfo=dt.UTC))))
    return frame, as_of


def assert_sorted_by_customer_and_time(clean: pd.DataFrame) -> None:
    keys = list(zip(clean["customer_id"], clean["timestamp"], strict=True))
    assert all(a <= b for a, b in itertools.pairwise(keys)), keys


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw_logs())
def test_property_every_row_is_accounted_for(log):
    raw, as_of = log
    before = raw.copy()
    report = validate_events(raw, as_of=as_of)
    clean, quarantine = report.clean, report.quarantine

    pd.testing.assert_frame_equal(raw, before)
    assert_conserved(report, len(raw))

    assert list(clean.columns) == [*CANONICAL_COLUMNS, "note"]
    assert str(clean["timestamp"].dtype) == UTC_US
    assert clean["customer_id"].dtype in ("int64", "str")
    assert not clean[["customer_id", "timestamp", "event"]].isna().any().any()
    assert not (clean["event"] == "").any()
    assert np.isfinite(clean["value"].to_numpy()).all()
    if as_of is not None:
        assert (clean["timestamp"] <= as_of).all()
    assert not clean.duplicated().any()
    assert clean.index.equals(pd.RangeIndex(len(clean)))
    assert_sorted_by_customer_and_time(clean)

    assert quarantine.index.is_unique
    for reason in quarantine[report.reason_column]:
        parts = reason.split("; ")
        assert parts, reason
        assert all(p in REASONS for p in parts), reason
        assert parts == [r for r in REASONS if r in parts], reason  # no repeats, in order
    assert_quarantine_is_input(report, raw)
    assert report.ok == quarantine.empty


def test_day_first_dates_are_read_day_first_even_when_the_first_one_is_ambiguous():
    raw = pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "timestamp": ["05/03/2024 10:00", "18/03/2024 09:30", "01/04/2024 08:00"],
            "event": ["a", "b", "a"],
        }
    )
    clean = validate_events(raw).clean
    assert clean["timestamp"].tolist() == [
        pd.Timestamp("2024-03-05 10:00", tz="UTC"),
        pd.Timestamp("2024-03-18 09:30", tz="UTC"),
        pd.Timestamp("2024-04-01 08:00", tz="UTC"),
    ]
    # Month first stays the reading where nothing says otherwise (US exports).
    us = raw.assign(timestamp=["05/03/2024 10:00", "03/18/2024 09:30", "01/04/2024 08:00"])
    # (sorted by customer, then time: 18 March, 3 May, 4 January)
    assert validate_events(us).clean["timestamp"].dt.month.tolist() == [3, 5, 1]
