"""Tests of journey_lib.io: reading touchpoint logs from files, and the bad inputs seen in
practice. Every expected value is worked out by hand (or, for the real data sets, with plain
pandas independently of journey_lib)."""

from __future__ import annotations

import contextlib
import gzip
import json
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from engines import missing, require_module

from journey_lib.errors import JourneyDataError, JourneyDataWarning
from journey_lib.io import load_events, read_events, read_table
from journey_lib.io.validate import MALFORMED, ValidationReport, validate_events

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
EVENTS_DATA = DATA / "events"
HEADER = "customer_id,timestamp,event,channel,value\n"


# --------------------------------------------------------------------------- helpers


def write(tmp_path: Path, name: str, text: str | bytes, encoding: str = "utf-8") -> Path:
    """Write text (or bytes) to tmp_path/name, gzip-compressed when name ends in .gz."""
    data = text if isinstance(text, bytes) else text.encode(encoding)
    path = tmp_path / name
    path.write_bytes(gzip.compress(data, mtime=0) if name.endswith(".gz") else data)
    return path


def read_quietly(source, **options) -> ValidationReport:
    """read_events, failing on any warning that is not a JourneyDataWarning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", JourneyDataWarning)
        return read_events(source, **options)


def assert_conserved(report: ValidationReport, n_input: int) -> None:
    assert report.n_input == n_input
    assert len(report.clean) + len(report.quarantine) + report.duplicates == n_input


@contextlib.contextmanager
def nothing_escapes_callbacks():
    """Fail if an exception is raised and lost inside a callback (such as pyarrow's handler of
    malformed lines), where Python can only print it as "Exception ignored in ..."."""
    escaped = []
    hook, sys.unraisablehook = sys.unraisablehook, escaped.append
    try:
        yield
    finally:
        sys.unraisablehook = hook
    assert not escaped, [e.exc_value for e in escaped]


def data_error(source, *fragments: str, **options) -> str:
    """load_events raises JourneyDataError (and nothing else) whose message has every
    fragment."""
    with nothing_escapes_callbacks(), warnings.catch_warnings():
        warnings.simplefilter("ignore", JourneyDataWarning)
        with pytest.raises(JourneyDataError) as info:
            load_events(source, **options)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, message
    assert "Traceback" not in message
    return message


def utc(*stamps: str) -> list[pd.Timestamp]:
    return [pd.Timestamp(s, tz="UTC") for s in stamps]


# --------------------------------------------------------------------------- unusable files


def test_empty_file(tmp_path):
    path = write(tmp_path, "empty.csv", b"")
    data_error(path, str(path), "empty (0 bytes)")


def test_empty_compressed_file(tmp_path):
    path = write(tmp_path, "empty.csv.gz", b"")
    assert path.stat().st_size > 0  # the gzip wrapper has a header
    data_error(path, str(path), "no header line")


def test_header_only(tmp_path):
    path = write(tmp_path, "header.csv", HEADER)
    data_error(path, str(path), "no data rows", "header only")


def test_blank_lines_only(tmp_path):
    path = write(tmp_path, "blank.csv", "\n\n\n")
    data_error(path, str(path))


def test_wrong_explicit_delimiter_suggests_the_right_one(tmp_path):
    path = write(tmp_path, "semi.csv", "customer_id;timestamp;event\n1;2024-01-01;view\n")
    data_error(
        path, "missing required column(s)", "customer_id;timestamp;event", "sep=';'", sep=","
    )


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_delimiter_is_detected_when_not_given(tmp_path, sep):
    text = HEADER + "7,2024-01-01 10:00,view,email,1.5\n8,2024-01-02,buy,,\n"
    path = write(tmp_path, "log.csv", text.replace(",", sep))
    clean = load_events(path)
    assert clean["customer_id"].tolist() == [7, 8]
    assert clean["timestamp"].tolist() == utc("2024-01-01 10:00", "2024-01-02")
    assert clean["channel"].tolist()[0] == "email" and pd.isna(clean["channel"][1])
    assert clean["value"].tolist() == [1.5, 0.0]


def test_explicit_delimiter_is_used(tmp_path):
    path = write(tmp_path, "log.csv", "customer_id|timestamp|event\n1|2024-01-01|a,b\n")
    assert load_events(path, sep="|")["event"].tolist() == ["a,b"]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(
    "name", ["junk.csv", "junk.parquet", "junk.csv.gz", "junk.jsonl", "junk.json", "junk.tsv"]
)
def test_binary_garbage_is_a_data_error(tmp_path, name, seed):
    path = tmp_path / name
    path.write_bytes(np.random.default_rng(seed).bytes(8192))
    data_error(path)


def test_garbage_after_a_valid_parquet_name_is_a_data_error(tmp_path):
    path = tmp_path / "truncated.parquet"
    pd.DataFrame({"customer_id": [1], "timestamp": ["2024-01-01"], "event": ["v"]}).to_parquet(path)
    path.write_bytes(path.read_bytes()[:-20])
    data_error(path, str(path), "PARQUET")


def test_missing_required_column_in_a_file(tmp_path):
    path = write(tmp_path, "log.csv", "user_id,Timestamp,event\n1,2024-01-01,view\n")
    data_error(
        path,
        f"{path}: missing required column(s) ['customer_id', 'timestamp']",
        "['user_id', 'Timestamp', 'event']",
        "columns={'user_id': 'customer_id', 'Timestamp': 'timestamp'}",
    )


def test_missing_required_column_in_parquet(tmp_path):
    path = tmp_path / "log.parquet"
    pd.DataFrame({"customer_id": [1], "timestamp": ["2024-01-01"]}).to_parquet(path)
    data_error(path, f"{path}: missing required column(s) ['event']")


def test_nonexistent_path(tmp_path):
    data_error(tmp_path / "nope.csv", "nope.csv", "no such file")


@pytest.mark.parametrize("name", ["folder", "folder.csv"])
def test_directory(tmp_path, name):
    (tmp_path / name).mkdir()
    data_error(tmp_path / name, name, "is a folder")


@pytest.mark.parametrize("name", ["log.ods", "log", "log.gz"])
def test_unknown_extension(tmp_path, name):
    path = write(tmp_path, name, HEADER + "1,2024-01-01,view,,\n")
    data_error(path, name, "cannot tell the format")


# --------------------------------------------------------------------------- awkward content


def test_mixed_time_zones_in_a_file(tmp_path):
    path = write(
        tmp_path,
        "tz.csv",
        HEADER
        + "1,2024-03-10T01:30:00-08:00,view,,\n"  # 09:30 UTC
        + "1,2024-03-10T10:30:00+05:30,view,,\n"  # 05:00 UTC
        + "1,2024-03-10 12:00:00,view,,\n"  # naive: UTC
        + "1,2024-03-09T23:00:00-02:00,view,,\n"  # 01:00 UTC on the 10th
        + "1,2019-10-01 00:00:00 UTC,view,,\n",
    )
    clean = read_quietly(path).clean
    assert clean["timestamp"].tolist() == utc(
        "2019-10-01 00:00",
        "2024-03-10 01:00",
        "2024-03-10 05:00",
        "2024-03-10 09:30",
        "2024-03-10 12:00",
    )
    assert str(clean["timestamp"].dtype) == "datetime64[us, UTC]"


def test_missing_ids_in_a_csv_are_quarantined(tmp_path):
    path = write(
        tmp_path,
        "ids.csv",
        HEADER + "1,2024-01-01,view,,\nNaN,2024-01-02,view,,\n,2024-01-03,view,,\n"
        "null,2024-01-04,view,,\n2,2024-01-05,view,,\n",
    )
    report = read_quietly(path)
    assert report.clean["customer_id"].tolist() == [1, 2]
    assert report.clean["customer_id"].dtype == "int64"
    assert report.quarantine.index.tolist() == [1, 2, 3]
    assert report.quarantine["reason"].unique().tolist() == ["missing customer id"]
    assert report.quarantine["timestamp"].astype(str).tolist() == [
        "2024-01-02",
        "2024-01-03",
        "2024-01-04",
    ]
    assert_conserved(report, 5)


def test_numbers_as_ids(tmp_path):
    path = write(
        tmp_path,
        "ids.csv",
        HEADER + "12,2024-01-01,view,,\n7,2024-01-02,view,,\n12,2024-01-03,buy,,\n",
    )
    clean = read_quietly(path).clean
    assert clean["customer_id"].dtype == "int64"
    assert clean["customer_id"].tolist() == [7, 12, 12]


def test_float_spelled_ids_from_a_column_with_gaps(tmp_path):
    # What pandas writes for an integer id column that has a missing value.
    path = write(
        tmp_path,
        "ids.csv",
        HEADER + "12.0,2024-01-01,view,,\n,2024-01-02,view,,\n7.0,2024-01-03,view,,\n",
    )
    report = read_quietly(path)
    assert report.clean["customer_id"].dtype == "int64"
    assert report.clean["customer_id"].tolist() == [7, 12]
    assert report.quarantine.index.tolist() == [1]


def test_zero_padded_ids_stay_text(tmp_path):
    path = write(
        tmp_path,
        "ids.csv",
        HEADER + "007,2024-01-01,view,,\n7,2024-01-02,view,,\n0012,2024-01-03,view,,\n",
    )
    clean = read_quietly(path).clean
    assert clean["customer_id"].dtype == "str"
    assert clean["customer_id"].tolist() == ["0012", "007", "7"]
    assert clean["customer_id"].nunique() == 3


def test_duplicate_rows_in_a_file(tmp_path):
    line = "1,2024-01-01 10:00,view,email,2.5\n"
    path = write(
        tmp_path,
        "dups.csv",
        HEADER + line * 3 + "1,2024-01-01T12:00+02:00,view,email,2.50\n2,2024-01-01,view,,\n",
    )
    report = read_quietly(path)
    # Rows 1-3 are one event written thrice, and again with an offset and "2.50".
    assert report.duplicates == 3
    assert report.ok
    assert len(report.clean) == 2
    assert_conserved(report, 5)


def test_latin1_text_is_read_with_a_warning_and_nothing_lost(tmp_path):
    text = "customer_id,timestamp,event,note\n1,2024-01-01,view,café\n2,2024-01-02,buy,naïve\n"
    path = write(tmp_path, "latin.csv", text, encoding="latin-1")
    with pytest.warns(JourneyDataWarning, match="not valid UTF-8"):
        report = read_events(path)
    assert report.ok
    assert report.clean["note"].tolist() == ["café", "naïve"]
    assert report.clean["customer_id"].tolist() == [1, 2]


def test_latin1_in_a_compressed_file(tmp_path):
    text = "customer_id,timestamp,event,note\n1,2024-01-01,view,café\n"
    path = write(tmp_path, "latin.csv.gz", text, encoding="latin-1")
    with pytest.warns(JourneyDataWarning, match="not valid UTF-8"):
        clean = load_events(path)
    assert clean["note"].tolist() == ["café"]


def test_explicit_encoding_reads_without_a_warning(tmp_path):
    text = "customer_id,timestamp,event,note\n1,2024-01-01,view,café\n"
    path = write(tmp_path, "latin.csv", text, encoding="latin-1")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clean = load_events(path, encoding="latin-1")
    assert clean["note"].tolist() == ["café"]


def test_utf8_text_is_read_as_is(tmp_path):
    text = "customer_id,timestamp,event,note\n1,2024-01-01,view,café ☕\n"
    path = write(tmp_path, "utf8.csv", text)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clean = load_events(path)
    assert clean["note"].tolist() == ["café ☕"]


def test_malformed_lines_are_quarantined(tmp_path):
    path = write(
        tmp_path,
        "bad.csv",
        "customer_id,timestamp,event\n"
        "1,2024-01-01,view\n"
        "2,2024-01-02,a,b\n"  # one field too many
        "3,2024-01-03\n"  # one too few
        ",2024-01-04,view\n"  # well formed, but no id
        "4,2024-01-05,buy\n",
    )
    report = read_quietly(path)
    assert report.clean["customer_id"].tolist() == [1, 4]
    reasons = report.quarantine["reason"].tolist()
    assert sorted(reasons) == sorted(
        [
            "malformed line: expected 3 fields, found 4: 2,2024-01-02,a,b",
            "malformed line: expected 3 fields, found 2: 3,2024-01-03",
            "missing customer id",
        ]
    )
    assert all(r.startswith(MALFORMED) for r in reasons if r != "missing customer id")
    assert report.quarantine.index.is_unique
    malformed = report.quarantine[report.quarantine["reason"].str.startswith(MALFORMED)]
    assert malformed.drop(columns="reason").isna().all().all()
    assert_conserved(report, 5)
    assert report.reason_counts().to_dict() == {"missing customer id": 1, "malformed line": 2}
    assert "malformed line" in report.summary()


def test_malformed_line_that_is_not_utf8(tmp_path):
    text = "customer_id,timestamp,event\n1,2024-01-01,view\n2,2024-01-02,café,extra\n"
    path = write(tmp_path, "bad.csv", text, encoding="latin-1")
    with nothing_escapes_callbacks(), pytest.warns(JourneyDataWarning, match="not valid UTF-8"):
        report = read_events(path)
    assert report.quarantine["reason"].tolist() == [
        "malformed line: expected 3 fields, found 4: 2,2024-01-02,café,extra"
    ]
    assert_conserved(report, 2)


def test_only_malformed_lines_leave_no_valid_row(tmp_path):
    path = write(tmp_path, "bad.csv", "customer_id,timestamp,event\n1,2,3,4\n")
    data_error(path, "no valid row remains", "malformed line")


# --------------------------------------------------------------------------- formats


def sample_log() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["007", "7", "12", "007", None],
            "timestamp": [
                "2024-01-01T10:00:00+02:00",
                "2024-01-01 09:00:00",
                "2024-01-02T00:00:00-05:00",
                "2024-01-03 10:00:00 UTC",
                "2024-01-04",
            ],
            "event": ["view", "buy", "view", "buy", "view"],
            "channel": ["email", None, "tv", "tv", "tv"],
            "value": [None, 19.9, None, 5.0, 1.0],
            "note": ["a", "b", None, "d", "e"],
        }
    )


def numeric_log() -> pd.DataFrame:
    stamps = pd.to_datetime(
        [
            "2024-01-01 10:00:00.250",
            "2024-07-01 09:00:00",
            "2024-01-02 00:00:00",
            "2024-01-03 00:00:00",
        ],
        format="ISO8601",
    )
    return pd.DataFrame(
        {
            "customer_id": [12.0, 7.0, np.nan, 7.0],
            "timestamp": stamps.tz_localize("Europe/Paris"),
            "event": ["view", "buy", "view", "buy"],
            "value": [None, 19.9, None, 5.0],
            "n": [1, 2, 3, 4],
        }
    )


WRITERS = {
    "csv": lambda frame, path: frame.to_csv(path, index=False),
    "csv.gz": lambda frame, path: frame.to_csv(path, index=False),
    "tsv": lambda frame, path: frame.to_csv(path, index=False, sep="\t"),
    "parquet": lambda frame, path: frame.to_parquet(path),
    "jsonl": lambda frame, path: frame.to_json(
        path, orient="records", lines=True, date_format="iso"
    ),
    "jsonl.gz": lambda frame, path: frame.to_json(
        path, orient="records", lines=True, date_format="iso"
    ),
    "json": lambda frame, path: frame.to_json(path, orient="records", date_format="iso"),
}


@pytest.mark.parametrize("make_log", [sample_log, numeric_log])
@pytest.mark.parametrize("extension", list(WRITERS))
def test_round_trip_gives_the_same_clean_log(tmp_path, extension, make_log):
    raw = make_log()
    expected = validate_events(raw)
    path = tmp_path / f"log.{extension}"
    WRITERS[extension](raw, path)
    report = read_quietly(path)
    pd.testing.assert_frame_equal(report.clean, expected.clean)
    assert len(report.quarantine) == len(expected.quarantine) == 1
    assert report.duplicates == expected.duplicates == 0


def test_sample_log_clean_values():
    clean = validate_events(sample_log()).clean
    assert clean["customer_id"].tolist() == ["007", "007", "12", "7"]
    assert clean["timestamp"].tolist() == utc(
        "2024-01-01 08:00", "2024-01-03 10:00", "2024-01-02 05:00", "2024-01-01 09:00"
    )
    assert clean["value"].tolist() == [0.0, 5.0, 0.0, 19.9]


def test_json_records_with_mixed_id_types(tmp_path):
    path = tmp_path / "log.json"
    path.write_text(
        json.dumps(
            [
                {"customer_id": "007", "timestamp": "2024-01-01", "event": "view"},
                {"customer_id": 7, "timestamp": "2024-01-02", "event": "view"},
            ]
        )
    )
    clean = read_quietly(path).clean
    assert clean["customer_id"].tolist() == ["007", "7"]


def test_jsonl_with_mixed_types_in_a_column(tmp_path):
    lines = [
        {"customer_id": "007", "timestamp": "2024-01-01", "event": "view", "value": "1.5"},
        {"customer_id": 7, "timestamp": "2024-01-02", "event": "view", "value": 2},
    ]
    path = tmp_path / "log.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    clean = read_quietly(path).clean
    assert clean["customer_id"].tolist() == ["007", "7"]
    assert clean["value"].tolist() == [1.5, 2.0]


def test_columns_mapping_when_reading_a_file(tmp_path):
    path = write(
        tmp_path,
        "log.csv",
        "user;when;what;price\n007;2024-01-01T10:00+02:00;view;1,5\n7;2024-01-02;buy;\n",
    )
    mapping = {"user": "customer_id", "when": "timestamp", "what": "event"}
    report = read_quietly(path, columns=mapping)
    assert report.columns == mapping
    assert report.clean["customer_id"].tolist() == ["007", "7"]  # zeros kept: read as text
    assert report.clean["timestamp"].tolist() == utc("2024-01-01 08:00", "2024-01-02")
    assert report.clean["price"].tolist()[0] == "1,5"
    assert list(report.clean.columns) == [
        "customer_id",
        "timestamp",
        "event",
        "channel",
        "value",
        "price",
    ]


def test_read_table_returns_the_frame_and_the_malformed_lines(tmp_path):
    path = write(tmp_path, "log.csv", "id;when;what\n1;2024-01-01;ad_view\n2;2024-01-02;a;b\n")
    frame, malformed = read_table(path)
    assert list(frame.columns) == ["id", "when", "what"]
    assert frame["id"].tolist() == [1]
    assert [str(d) for d in frame["when"]] == ["2024-01-01"]  # text or a date, as inferred
    assert frame["what"].tolist() == ["ad_view"]
    assert malformed == ["expected 3 fields, found 4: 2;2024-01-02;a;b"]


# --------------------------------------------------------------------------- load_events


def test_load_events_warns_with_the_summary_when_rows_are_quarantined(tmp_path):
    path = write(tmp_path, "log.csv", HEADER + "1,2024-01-01,view,,\n,2024-01-02,view,,\n")
    with pytest.warns(JourneyDataWarning) as record:
        clean = load_events(path)
    assert len(record) == 1
    message = str(record[0].message)
    assert "quarantined" in message and "read_events" in message
    assert "missing customer id              1  e.g. row 1" in message
    assert clean["customer_id"].tolist() == [1]


def test_load_events_does_not_warn_for_a_clean_log(tmp_path):
    path = write(tmp_path, "log.csv", HEADER + "1,2024-01-01,view,,\n1,2024-01-01,view,,\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clean = load_events(path)  # one duplicate dropped, nothing quarantined
    assert len(clean) == 1


def test_load_events_raises_when_no_valid_row_remains(tmp_path):
    path = write(tmp_path, "log.csv", HEADER + ",2024-01-01,view,,\n1,soon,view,,\n")
    data_error(path, "no valid row remains", "missing customer id", "unparseable timestamp")


def test_load_events_as_of(tmp_path):
    path = write(tmp_path, "log.csv", HEADER + "1,2024-01-01,view,,\n1,2031-01-01,view,,\n")
    with pytest.warns(JourneyDataWarning, match="timestamp after as_of"):
        clean = load_events(path, as_of="2030-01-01")
    assert clean["timestamp"].tolist() == utc("2024-01-01")


def test_load_events_accepts_a_frame():
    raw = pd.DataFrame(
        {
            "user": [7, 7],
            "ts": ["2024-03-01 10:00", "2024-03-01 09:00"],
            "event": ["purchase", "site_visit"],
            "value": [25.0, None],
        }
    )
    clean = load_events(raw, columns={"user": "customer_id", "ts": "timestamp"})
    assert clean["event"].tolist() == ["site_visit", "purchase"]
    assert clean["value"].tolist() == [0.0, 25.0]


def test_load_events_on_an_empty_frame():
    raw = pd.DataFrame({"customer_id": [], "timestamp": [], "event": []})
    data_error(raw, "no valid row remains")


# --------------------------------------------------------------------------- real data


def real_file(name: str) -> Path:
    path = EVENTS_DATA / name
    if not path.exists():
        missing(f"shared data not present: {path} (expected next to the project)")
    return path


def test_rees46_sample():
    path = real_file("rees46_ecommerce_sample.csv")
    plain = pd.read_csv(path, dtype=str, keep_default_na=False)
    mapping = {
        "user_id": "customer_id",
        "event_time": "timestamp",
        "event_type": "event",
        "price": "value",
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clean = load_events(path, columns=mapping)

    assert len(plain) == 1000 and plain["user_id"].nunique() == 330
    assert len(clean) == len(plain.drop_duplicates()) == 1000
    assert clean["customer_id"].nunique() == plain["user_id"].nunique() == 330
    assert clean["customer_id"].dtype == "int64"
    assert sorted(clean["customer_id"].unique()) == sorted(plain["user_id"].astype(int).unique())
    times = pd.to_datetime(plain["event_time"].str.removesuffix(" UTC"), utc=True)
    assert clean["timestamp"].min() == times.min()
    assert clean["timestamp"].max() == times.max()
    assert clean["value"].sum() == pytest.approx(plain["price"].astype(float).sum())
    assert clean["event"].value_counts().to_dict() == plain["event_type"].value_counts().to_dict()
    assert {"product_id", "brand", "user_session"} <= set(clean.columns)


def test_ecom_clickstream():
    path = real_file("ecom_clickstream.csv.gz")
    plain = pd.read_csv(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = read_events(
            path, columns={"user_id": "customer_id", "acquisition_channel": "channel"}
        )
        clean = load_events(path, columns={"user_id": "customer_id"})

    assert len(plain) == 31106 and plain["user_id"].nunique() == 600
    n_duplicates = int(plain.duplicated().sum())
    assert report.n_input == 31106
    assert report.ok
    assert report.duplicates == n_duplicates
    assert len(report.clean) == len(clean) == 31106 - n_duplicates
    assert clean["customer_id"].nunique() == 600
    assert clean["event"].nunique() == plain["event"].nunique()
    assert clean["timestamp"].min() == pd.Timestamp(plain["timestamp"].min(), tz="UTC")
    assert clean["timestamp"].max() == pd.Timestamp(plain["timestamp"].max(), tz="UTC")
    assert set(report.clean["channel"]) == set(plain["acquisition_channel"])


def test_pm4py_receipt_process_log():
    # A process-mining export: XES column names with colons, and times in Dutch local time
    # (+02:00 in summer, +01:00 in winter) that must land on the right UTC instants.
    path = real_file("pm4py_receipt.csv.gz")
    plain = pd.read_csv(path, dtype=str, keep_default_na=False)
    mapping = {
        "case:concept:name": "customer_id",
        "concept:name": "event",
        "time:timestamp": "timestamp",
        "case:channel": "channel",
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = read_events(path, columns=mapping)

    assert len(plain) == report.n_input == 8577
    assert report.ok and report.duplicates == 0
    clean = report.clean
    assert len(clean) == 8577
    assert clean["customer_id"].nunique() == 1434
    assert clean["event"].nunique() == 27
    assert clean["customer_id"].dtype == "str"  # "case-10011" and the like
    offsets = plain["time:timestamp"].str[-6:].value_counts().to_dict()
    assert offsets == {"+01:00": 4318, "+02:00": 4259}
    # The file's first row, by hand: 13:45:40.276 at +02:00 is 11:45:40.276 UTC.
    first = clean[(clean["customer_id"] == "case-10011")].iloc[0]
    assert plain["time:timestamp"][0] == "2011-10-11 13:45:40.276000+02:00"
    assert first["timestamp"] == pd.Timestamp("2011-10-11 11:45:40.276", tz="UTC")
    assert first["event"] == "Confirmation of receipt"
    times = pd.to_datetime(plain["time:timestamp"], utc=True, format="ISO8601")
    assert (
        clean["timestamp"].min() == times.min() == pd.Timestamp("2010-10-02 07:20:39.266", tz="UTC")
    )
    assert clean["timestamp"].max() == times.max()
    assert clean["channel"].value_counts().to_dict() == (
        plain["case:channel"].value_counts().to_dict()
    )
    assert {"org:resource", "lifecycle:transition", "case:department"} <= set(clean.columns)


# --------------------------------------------------------------------------- a gigabyte

GIGABYTE_LOADER = textwrap.dedent(
    """
    import json, resource, sys, warnings
    from journey_lib.io import load_events

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clean = load_events(sys.argv[1])
    out = {
        "rows": len(clean),
        "customers": int(clean["customer_id"].nunique()),
        "id_dtype": str(clean["customer_id"].dtype),
        "value_sum": float(clean["value"].sum()),
        "events": {k: int(v) for k, v in clean["event"].value_counts().items()},
        "first": [int(clean["customer_id"].iloc[0]), str(clean["timestamp"].iloc[0])],
        "last": [int(clean["customer_id"].iloc[-1]), str(clean["timestamp"].iloc[-1])],
        "min_time": str(clean["timestamp"].min()),
        "max_time": str(clean["timestamp"].max()),
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }
    print(json.dumps(out))
    """
)
EVENT_NAMES = ["ad_view", "site_visit", "add_to_cart", "purchase", "email_open"]
N_CUSTOMERS = 50_000


def write_gigabyte_csv(path: Path, size: int = 10**9, chunk: int = 1_000_000) -> int:
    """Write unique rows in chunks until the file holds ``size`` bytes; return the row count.

    Row i: customer i % 50,000, time 2024-01-01 + i seconds (so every row is unique), event
    i % 5, channel i % 4, value (i % 1000) / 4 (exact in binary)."""
    pa = require_module("pyarrow", "a core dependency")
    pa_csv = require_module("pyarrow.csv", "a core dependency")
    events = pa.array(EVENT_NAMES)
    channels = pa.array(["search", "email", "tv", "store"])
    start = np.datetime64("2024-01-01T00:00:00", "s")
    schema = pa.schema(
        [
            ("customer_id", pa.int64()),
            ("timestamp", pa.timestamp("s")),
            ("event", pa.string()),
            ("channel", pa.string()),
            ("value", pa.float64()),
        ]
    )
    rows = 0
    options = pa_csv.WriteOptions(quoting_style="none")
    with pa_csv.CSVWriter(path, schema, write_options=options) as writer:
        while path.stat().st_size < size:
            i = np.arange(rows, rows + chunk, dtype=np.int64)
            writer.write_table(
                pa.table(
                    {
                        "customer_id": i % N_CUSTOMERS,
                        "timestamp": pa.array(start + i, pa.timestamp("s")),  # naive: UTC
                        "event": events.take(pa.array(i % 5)),
                        "channel": channels.take(pa.array(i % 4)),
                        "value": (i % 1000) * 0.25,
                    },
                    schema=schema,
                )
            )
            rows += chunk
    return rows


@pytest.mark.slow
def test_a_gigabyte_csv(tmp_path):
    path = tmp_path / "big.csv"
    n = write_gigabyte_csv(path)
    size = path.stat().st_size
    assert size >= 10**9
    assert n % 1000 == 0  # so the value sum below is (n / 1000) * sum(range(1000)) / 4

    result = subprocess.run(
        [sys.executable, "-c", GIGABYTE_LOADER, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    got = json.loads(result.stdout.strip().splitlines()[-1])

    start = pd.Timestamp("2024-01-01", tz="UTC")
    last = n - 1  # the last row; its customer is the largest id, and its time the latest
    assert got["rows"] == n
    assert got["customers"] == N_CUSTOMERS
    assert got["id_dtype"] == "int64"
    assert got["value_sum"] == (n // 1000) * sum(range(1000)) / 4
    assert got["events"] == {name: n // 5 for name in EVENT_NAMES}
    assert got["first"] == [0, str(start)]
    assert got["last"] == [last % N_CUSTOMERS, str(start + pd.Timedelta(seconds=last))]
    assert got["min_time"] == str(start)
    assert got["max_time"] == str(start + pd.Timedelta(seconds=last))
    # Reading and validating holds several copies of the columns; 8x the file is the budget.
    print(
        f"\n1 GB test: {n:,} rows, {size / 1e9:.2f} GB, peak RSS "
        f"{got['peak_rss_bytes'] / 1e9:.2f} GB"
    )
    assert got["peak_rss_bytes"] < 8 * size
