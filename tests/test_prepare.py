"""A run's log read once (journey_lib.report.prepare): validated in parts, it is the log
validated whole, row for row, and every engine opens it with the same counts."""

from __future__ import annotations

import json

import hypothesis.strategies as st
import numpy as np
import pandas as pd
import pytest
from engines import require_module, shared_file
from hypothesis import HealthCheck, given, settings

import journey_lib as jl
from journey_lib.errors import JourneyDataError, JourneyParameterError
from journey_lib.report.prepare import (
    AUTO_ROWS,
    EVENTS,
    READING,
    Reading,
    asked_engine,
    choose_engine,
    prepare_log,
    read_prepared,
)

COLUMNS = {"user": "customer_id", "when": "timestamp", "what": "event", "amount": "value"}


def _profile(frame: pd.DataFrame) -> jl.LogProfile:
    return jl.LogProfile(columns=COLUMNS, conversion="buy")


def _same_as_whole(raw: pd.DataFrame, tmp_path, batch_rows: int) -> Reading:
    """Prepare ``raw`` (as Parquet) in parts of ``batch_rows`` and check it against the
    whole file validated at once: the same clean rows in the same order, the same counts."""
    source = tmp_path / "log.parquet"
    raw.to_parquet(source, index=False)
    p = _profile(raw)
    whole = p.read(source)
    folder = tmp_path / f"prepared-{batch_rows}"
    reading = prepare_log(source, p, folder, batch_rows=batch_rows)
    assert read_prepared(folder)[1] == reading
    # What the pandas engine opens: the file, its other columns typed as a whole read.
    pd.testing.assert_frame_equal(jl.report.open_data(folder, p).log, whole.clean)
    assert (reading.n_input, reading.usable, reading.set_aside, reading.duplicates) == (
        whole.n_input,
        len(whole.clean),
        len(whole.quarantine),
        whole.duplicates,
    )
    pd.testing.assert_series_equal(reading.reason_counts(), whole.reason_counts())
    assert not (folder / "parts").exists()
    return reading


def test_parts_give_the_whole_logs_rows_order_and_counts(tmp_path):
    # Six rows in parts of two: row 4 repeats row 0 from another part (a duplicate across
    # parts), rows 1 and 5 tie in time for customer 1 (file order kept), row 2 has no id.
    raw = pd.DataFrame(
        {
            "user": ["1", "1", None, "2", "1", "1"],
            "when": [
                "2024-01-02",
                "2024-01-03",
                "2024-01-01",
                "2024-01-01",
                "2024-01-02",
                "2024-01-03",
            ],
            "what": ["visit", "buy", "visit", "visit", "visit", "visit"],
            "amount": [0.0, 10.0, 0.0, 0.0, 0.0, 0.0],
            "plan": ["a", "b", "c", "d", "a", "e"],
        }
    )
    reading = _same_as_whole(raw, tmp_path, batch_rows=2)
    assert (reading.n_input, reading.usable, reading.set_aside, reading.duplicates) == (6, 4, 1, 1)
    clean = pd.read_parquet(tmp_path / "prepared-2" / EVENTS)
    # Ids all integers: int64, as a whole read gives; the tie keeps "buy" (row 1) first.
    assert clean["customer_id"].tolist() == [1, 1, 1, 2]
    assert clean["event"].tolist() == ["visit", "buy", "visit", "visit"]
    assert clean["plan"].tolist() == ["a", "b", "e", "d"]


def test_one_parts_text_ids_make_every_parts_ids_text(tmp_path):
    # The first part's ids are all integers, the second's are not ("007"): a whole read
    # keeps every id as text, so "7" and "007" stay two customers.
    raw = pd.DataFrame(
        {
            "user": ["7", "8", "007", "7"],
            "when": ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"],
            "what": ["visit"] * 4,
            "amount": [0.0] * 4,
        }
    )
    _same_as_whole(raw, tmp_path, batch_rows=2)
    clean = pd.read_parquet(tmp_path / "prepared-2" / EVENTS)
    assert clean["customer_id"].tolist() == ["007", "7", "7", "8"]


def test_a_property_keeps_the_files_type_in_every_part(tmp_path):
    # The first part has a missing rating, the second none: each part alone would type
    # the column differently; the prepared file has the file's one type.
    raw = pd.DataFrame(
        {
            "user": [1, 2, 3, 4],
            "when": pd.date_range("2024-01-01", periods=4, freq="D", tz="UTC"),
            "what": ["visit"] * 4,
            "amount": [0.0] * 4,
            "rating": pd.array([None, 2, 3, 4], dtype="Int64"),
        }
    )
    _same_as_whole(raw, tmp_path, batch_rows=2)
    import pyarrow.parquet as pq

    assert str(pq.read_schema(tmp_path / "prepared-2" / EVENTS).field("rating").type) == "int64"


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["1", "2", "3", "07", None, "  4 "]),
            st.sampled_from(["2024-01-01", "2024-01-01 10:00", "2024-01-02", "soon", None]),
            st.sampled_from(["visit", "buy", "", "ad_view"]),
            st.sampled_from([0.0, 1.5, float("nan")]),
            st.sampled_from(["web", "app", None]),
        ),
        min_size=1,
        max_size=40,
    ),
    repeats=st.lists(st.integers(0, 39), max_size=10),
    batch_rows=st.integers(1, 12),
)
def test_any_log_in_any_parts_is_the_log_validated_whole(
    tmp_path_factory, rows, repeats, batch_rows
):
    raw = pd.DataFrame(rows, columns=["user", "when", "what", "amount", "device"])
    # Exact copies of earlier rows, anywhere in the file: duplicates within and across parts.
    copies = raw.iloc[[i % len(raw) for i in repeats]]
    raw = pd.concat([raw, copies], ignore_index=True).astype({"user": "str", "when": "str"})
    raw = raw.replace({"user": {"None": None}, "when": {"None": None}})
    _same_as_whole(raw, tmp_path_factory.mktemp("log"), batch_rows)


def test_a_text_log_is_read_whole_once(tmp_path):
    source = tmp_path / "log.csv"
    source.write_text("user;when;what;amount\n1;2024-01-01;visit;\n1;2024-01-01;visit;\nx;;buy;3\n")
    raw = pd.read_csv(source, sep=";")
    reading = prepare_log(source, _profile(raw), tmp_path / "prepared", batch_rows=1)
    record = json.loads((tmp_path / "prepared" / READING).read_text())
    assert record == {
        "source": "log.csv",
        "n_input": 3,
        "usable": 1,
        "duplicates": 1,
        "set_aside": 1,
        "reasons": {"missing timestamp": 1},
        "pandas_columns": [],
        "notes": [],
    }
    assert reading.reason_counts().to_dict() == {"missing timestamp": 1}


def test_a_customer_table_is_not_prepared(tmp_path):
    table = pd.DataFrame({"customer_id": range(40), "churned": [0, 1] * 20})
    table.to_csv(tmp_path / "t.csv", index=False)
    p = jl.profile(tmp_path / "t.csv")
    assert p.shape == "customers"
    with pytest.raises(JourneyDataError, match="customer table is not a touchpoint log"):
        prepare_log(tmp_path / "t.csv", p, tmp_path / "prepared")


@pytest.mark.parametrize("engine", ["pandas", "polars", "duckdb"])
def test_every_engine_opens_the_prepared_log_with_the_same_facts(tmp_path, engine):
    if engine != "pandas":
        require_module(engine, "the report's log stays in this engine")
    source = tmp_path / "log.parquet"
    raw = pd.DataFrame(
        {
            "user": [3, 1, 1, 2, 2, None],
            "when": ["2024-01-05", "2024-01-01", "2024-02-01", "2024-01-02", "2024-03-09", "x"],
            "what": ["visit", "visit", "buy", "visit", "buy", "visit"],
            "amount": [0, 0, 12.5, 0, 0, 0],
            "plan": ["a", None, None, "b", "b", "c"],
        }
    )
    raw.to_parquet(source, index=False)
    p = _profile(raw)
    prepare_log(source, p, tmp_path / "prepared", batch_rows=4)
    data = jl.report.open_data(tmp_path / "prepared", p, engine=engine, start="2024-01-02")
    facts = data.facts
    assert (facts["rows"], facts["customers"]) == (4, 3)
    assert (facts["first"], facts["last"]) == (
        pd.Timestamp("2024-01-02", tz="UTC"),
        pd.Timestamp("2024-03-09", tz="UTC"),
    )
    assert facts["events"].to_dict() == {"buy": 2, "visit": 2}
    assert (facts["filled"]["plan"], facts["filled"]["channel"], facts["spend"]) == (3, 0, True)
    assert data.log_size() == {"customers": 3, "touchpoints": 4}
    assert data.first_customers(2) == [1, 2]
    assert data.about_lines()[:2] == [
        "6 rows read from log.parquet.",
        "1 rows were set aside: 1 missing customer id, 1 unparseable timestamp.",
    ]
    # The row before the start is said, as a whole read says it.
    assert "1 usable rows lie outside the dates chosen (from 2024-01-02 to the end)." in (
        data.notes
    )
    assert data.supports("conversion", display=False)
    assert not data.supports("channels", display=False)
    assert data.why_not("channels") == "the log has no channel column"


def test_a_prepared_log_needs_its_profile(tmp_path):
    raw = pd.DataFrame({"user": [1], "when": ["2024-01-01"], "what": ["visit"], "amount": [0]})
    raw.to_parquet(tmp_path / "log.parquet", index=False)
    prepare_log(tmp_path / "log.parquet", _profile(raw), tmp_path / "prepared")
    with pytest.raises(JourneyParameterError, match="profile it was prepared with"):
        jl.report.open_data(tmp_path / "prepared")


def test_the_real_clickstream_prepared_in_parts_is_the_export_read_whole(tmp_path):
    # A real export with its own column names (and 30 exact duplicates), as Parquet, read
    # in parts of 5,000 rows.
    path = shared_file("events", "ecom_clickstream.csv.gz")
    p = jl.profile(path)
    whole = p.read(path)
    raw = jl.read_table(path)[0]
    raw.to_parquet(tmp_path / "clicks.parquet", index=False)
    reading = prepare_log(tmp_path / "clicks.parquet", p, tmp_path / "prepared", batch_rows=5_000)
    assert reading.n_input == whole.n_input > 5_000
    clean = pd.read_parquet(tmp_path / "prepared" / EVENTS)
    pd.testing.assert_frame_equal(clean, whole.clean, check_dtype=False)
    assert (
        (reading.usable, reading.duplicates)
        == (len(whole.clean), whole.duplicates)
        != (
            len(whole.clean),
            0,
        )
    )


def test_the_engine_auto_is_pandas_up_to_its_size_and_duckdb_above():
    require_module("duckdb", "auto chooses DuckDB for a large log")
    small = Reading("log", AUTO_ROWS, AUTO_ROWS, 0, 0)
    large = Reading("log", AUTO_ROWS + 1, AUTO_ROWS + 1, 0, 0)
    assert choose_engine("auto", (None, small)) == "pandas"
    assert choose_engine("auto", (None, large)) == "duckdb"
    assert choose_engine("polars", (None, small)) == "polars"
    assert asked_engine(None, {}) == "auto"
    assert asked_engine(None, {"engine": "duckdb"}) == "duckdb"
    with pytest.raises(JourneyParameterError, match="given twice"):
        asked_engine("polars", {"engine": "duckdb"})
    with pytest.raises(JourneyParameterError, match="engine"):
        asked_engine("spreadsheet", {})


def test_the_log_in_parts_takes_no_more_rows_into_memory_than_a_part(tmp_path, monkeypatch):
    # Each part is validated alone: validation never sees more rows than batch_rows.
    seen = []
    from journey_lib.report import prepare

    real = prepare.validate_events

    def spy(frame, **options):
        seen.append(len(frame))
        return real(frame, **options)

    monkeypatch.setattr(prepare, "validate_events", spy)
    raw = pd.DataFrame(
        {
            "user": np.arange(25) % 7,
            "when": pd.date_range("2024-01-01", periods=25, freq="h", tz="UTC"),
            "what": ["visit"] * 25,
            "amount": [0.0] * 25,
        }
    )
    raw.to_parquet(tmp_path / "log.parquet", index=False)
    prepare_log(tmp_path / "log.parquet", _profile(raw), tmp_path / "p", batch_rows=10)
    assert seen == [10, 10, 5]


def _log(n: int = 6, **extra) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user": [1, 1, 2, 2, 3, 3][:n],
            "when": pd.date_range("2024-01-01", periods=n, freq="D", tz="UTC"),
            "what": ["visit", "buy"] * (n // 2),
            "amount": [0.0, 5.0] * (n // 2),
            **extra,
        }
    )


def test_the_index_pandas_saved_is_not_a_column_and_hides_no_duplicate(tmp_path):
    # Saved with its index (a filtered or shuffled frame), the file has an index column;
    # read whole it is the index, and the report drops it. Rows 0 and 2 are copies.
    raw = _log(4).assign(user=[1, 1, 1, 2], what=["visit", "buy", "visit", "visit"])
    raw.loc[2] = raw.loc[0]
    raw = raw.iloc[[0, 2, 1, 3]]
    raw.to_parquet(tmp_path / "log.parquet")
    reading = prepare_log(tmp_path / "log.parquet", _profile(raw), tmp_path / "p", batch_rows=2)
    whole = _profile(raw).read(tmp_path / "log.parquet")
    assert (reading.usable, reading.duplicates) == (len(whole.clean), whole.duplicates) == (3, 1)
    log = jl.report.open_data(tmp_path / "p", _profile(raw)).log
    assert "__index_level_0__" not in log.columns
    pd.testing.assert_frame_equal(log, whole.clean)


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"when": ["05/03/2024", "06/03/2024", "18/03/2024", "19/03/2024"]}, "day or month"),
        ({"Amount": [1, 2, 3, 4]}, "columns alike but for case"),
    ],
)
def test_logs_whose_reading_needs_the_whole_file_are_read_whole(tmp_path, change, why):
    # Times as text are read by a rule decided on the whole column (here: day first, as
    # only 18/03 and 19/03 can say); columns named alike but for case are not told apart
    # by DuckDB. Either way the log is validated whole, as the whole file says.
    raw = _log(4).assign(**change)
    raw.to_parquet(tmp_path / "log.parquet", index=False)
    p = _profile(raw)
    reading = prepare_log(tmp_path / "log.parquet", p, tmp_path / "p", batch_rows=2)
    assert not (tmp_path / "p" / "parts").exists(), why
    whole = p.read(tmp_path / "log.parquet")
    pd.testing.assert_frame_equal(jl.report.open_data(tmp_path / "p", p).log, whole.clean)
    assert reading.usable == len(whole.clean)


def test_other_columns_come_back_as_a_whole_read_types_them(tmp_path):
    # Written by pandas: a nullable integer stays Int64, an ordered category keeps its order.
    # Written without pandas' description (Polars, Spark, DuckDB): an integer column with a
    # missing value reads as float, a boolean one as objects, as a whole read gives them.
    import pyarrow as pa
    import pyarrow.parquet as pq

    levels = pd.CategoricalDtype(["low", "medium", "high"], ordered=True)
    raw = _log(6, rating=pd.array([None, 2, 3, 4, 5, 6], dtype="Int64"))
    raw["level"] = pd.Series(["low", "high"] * 3, dtype=levels)
    raw.to_parquet(tmp_path / "pandas.parquet", index=False)
    table = pa.Table.from_pandas(_log(6), preserve_index=False).replace_schema_metadata(None)
    table = table.append_column("count", pa.array([None, 1, 2, 3, 4, 5], type=pa.int64()))
    table = table.append_column("flag", pa.array([True, None, False] * 2, type=pa.bool_()))
    pq.write_table(table, tmp_path / "plain.parquet")
    for name in ("pandas", "plain"):
        source = tmp_path / f"{name}.parquet"
        p = _profile(raw)
        prepare_log(source, p, tmp_path / name, batch_rows=2)
        got, whole = jl.report.open_data(tmp_path / name, p).log, p.read(source).clean
        pd.testing.assert_frame_equal(got, whole)
    assert str(whole["count"].dtype) == "float64" and whole["flag"].tolist()[1] is None


def test_a_folder_with_quotes_and_brackets_in_its_name(tmp_path):
    folder = tmp_path / "o'brien [2024]"
    folder.mkdir()
    raw = _log(6)
    raw.to_parquet(folder / "log.parquet", index=False)
    reading = prepare_log(folder / "log.parquet", _profile(raw), folder / "p", batch_rows=2)
    assert reading.usable == 6


@pytest.mark.parametrize("engine", ["pandas", "polars", "duckdb"])
def test_dates_that_leave_no_row_are_said_on_every_engine(tmp_path, engine):
    if engine != "pandas":
        require_module(engine, "the report's log stays in this engine")
    raw = _log(6).assign(score=float("nan"))
    raw.to_parquet(tmp_path / "log.parquet", index=False)
    prepare_log(tmp_path / "log.parquet", _profile(raw), tmp_path / "p")
    data = jl.report.open_data(tmp_path / "p", _profile(raw), engine=engine, start="2025-01-01")
    assert (data.facts["rows"], data.facts["customers"]) == (0, 0)
    assert data.why_not("log") == "no touchpoint lies in the chosen dates"
    # A float column of NaN holds no value on any engine, as pandas counts it.
    assert (
        jl.report.open_data(tmp_path / "p", _profile(raw), engine=engine).facts["filled"]["score"]
        == 0
    )


def test_what_reading_warns_of_reaches_every_page(tmp_path):
    # A Windows-1252 export: the read warns once, in the runner; every page says it.
    source = tmp_path / "crm.csv"
    source.write_bytes(
        "user;when;what\nJosé;2024-01-01;visit\nJosé;2024-01-02;buy\n".encode("cp1252")
    )
    p = jl.LogProfile(columns={"user": "customer_id", "when": "timestamp", "what": "event"})
    with pytest.warns(jl.errors.JourneyDataWarning, match="not valid UTF-8"):
        reading = prepare_log(source, p, tmp_path / "p")
    assert reading.notes and "read it as Windows-1252" in reading.notes[0]
    lines = jl.report.open_data(tmp_path / "p", p, engine="pandas").about_lines()
    assert "crm.csv is not valid UTF-8; read it as Windows-1252 (pass encoding= to choose)." in (
        lines
    )
    assert not any(str(tmp_path) in line for line in lines)  # no folder on a page


def _finer_than_microseconds(tmp_path, batch_rows: int):
    """A log whose other time column has nanoseconds (as pandas reads text), prepared whole
    or in parts; the times as written and the prepared folder."""
    # Floored to the microsecond, before 1970 too (where cutting the digits would round up).
    written = [f"2024-02-0{d} 10:00:00.12345678{d}" for d in range(1, 6)]
    deadline = pd.to_datetime(
        [*written, "1969-12-31 23:59:59.9999995"], utc=True, format="ISO8601"
    ).as_unit("ns")
    raw = _log(deadline=deadline)
    source = tmp_path / "log.parquet"
    raw.to_parquet(source, index=False)
    folder = tmp_path / f"prepared-{batch_rows}"
    prepare_log(source, _profile(raw), folder, batch_rows=batch_rows)
    return deadline, folder


@pytest.mark.parametrize("batch_rows", [2, 100], ids=["in parts", "whole"])
def test_times_finer_than_a_microsecond_are_prepared_to_the_microsecond(tmp_path, batch_rows):
    import pyarrow.parquet as pq

    deadline, folder = _finer_than_microseconds(tmp_path, batch_rows)
    assert str(pq.read_schema(folder / EVENTS).field("deadline").type) == "timestamp[us, tz=UTC]"
    opened = jl.report.open_data(folder, _profile(_log())).log
    expected = pd.Series(deadline.as_unit("us"), name="deadline")
    assert str(expected.iloc[0]) == "2024-02-01 10:00:00.123456+00:00"
    assert str(expected.iloc[5]) == "1969-12-31 23:59:59.999999+00:00"
    pd.testing.assert_series_equal(opened["deadline"], expected)


def test_spark_opens_a_prepared_log_whose_times_had_nanoseconds(tmp_path, spark):
    # Spark's Parquet reader refuses nanosecond times (PARQUET_TYPE_ILLEGAL): the receipt
    # process log's case dates stopped a Spark report before they were kept to microseconds.
    # Prepared in parts (DuckDB writes the file); both ways give the schema tested above.
    deadline, folder = _finer_than_microseconds(tmp_path, batch_rows=2)
    data = jl.report.open_data(folder, _profile(_log()), engine="spark")
    assert data.log_size() == {"customers": 3, "touchpoints": 6}
    got = data.log.select("deadline").toPandas()["deadline"]
    assert got.dt.tz_localize("UTC").tolist() == list(deadline.as_unit("us"))
