"""Touchpoints read from a DuckDB database file (issue 21, its file half): a table or a
query, with the same validation and profile as a CSV of the same rows, and one clear line
for each thing that can go wrong."""

import duckdb
import pandas as pd
import pytest

import journey_lib as jl
from journey_lib.errors import JourneyDataError, JourneyParameterError


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    """A database with the simulator's log as ``events`` and, under other names in a
    schema of its own, as ``crm.touch``; and the same log as CSV."""
    folder = tmp_path_factory.mktemp("warehouse")
    log = jl.simulate(400, seed=2).events
    log.to_csv(folder / "events.csv", index=False)
    renamed = log.rename(columns={"customer_id": "client", "timestamp": "ts", "event": "action"})
    path = folder / "warehouse.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.register("log_frame", log)
        connection.register("renamed_frame", renamed)
        connection.execute("CREATE TABLE events AS SELECT * FROM log_frame")
        connection.execute("CREATE SCHEMA crm")
        connection.execute("CREATE TABLE crm.touch AS SELECT * FROM renamed_frame")
    return path, folder / "events.csv", log


def _core(frame):
    core = frame[["customer_id", "timestamp", "event", "channel", "value"]]
    return core.astype({"customer_id": "str"}).reset_index(drop=True)


def test_a_table_reads_as_its_csv_does(warehouse):
    path, csv, log = warehouse
    from_table = jl.load_events(path, table="events")
    pd.testing.assert_frame_equal(_core(from_table), _core(jl.load_events(csv)), check_dtype=False)
    assert len(from_table) == len(log)


def test_a_query_and_a_table_of_another_schema_with_a_profile(warehouse):
    path, _, log = warehouse
    bought = jl.load_events(path, query="SELECT * FROM events WHERE event = 'purchase'")
    assert len(bought) == (log["event"] == "purchase").sum()
    profile = jl.profile(path, table="crm.touch")
    assert profile.column("customer_id") == "client" and profile.column("timestamp") == "ts"
    clean = profile.read(path, table="crm.touch").clean
    assert len(clean) == len(log) and set(clean["event"]) == set(log["event"])


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({}, JourneyParameterError, r"name the rows with table='events' or query="),
        ({"table": "events", "query": "SELECT 1"}, JourneyParameterError, "one of them"),
        ({"table": "events", "sep": ";"}, JourneyParameterError, r"\['sep'\] apply to files"),
        ({"table": "nope"}, JourneyDataError, r"has no table 'nope'; its tables: \['events'"),
        ({"query": "SELECT * FROM events WHERE false"}, JourneyDataError, "returns no row"),
        ({"table": "crm.touch", "query": ""}, None, None),
        ({"query": "SELEC 1"}, JourneyDataError, "could not read .* as DUCKDB: Parser Error"),
    ],
)
def test_each_mistake_gets_one_clear_line(warehouse, options, error, message):
    path, _, _ = warehouse
    if error is None:  # an empty query is no query: the table is read
        assert len(jl.read_table(path, **options)[0]) > 0
        return
    with pytest.raises(error, match=message) as caught:
        jl.read_table(path, **options)
    assert "\n" not in str(caught.value)


def test_a_file_named_duckdb_that_is_not_one_says_so(tmp_path):
    path = tmp_path / "not.duckdb"
    path.write_text("customer_id,timestamp,event\n1,2024-01-01,visit\n")
    with pytest.raises(JourneyDataError, match=r"could not read .*not\.duckdb as DUCKDB"):
        jl.read_table(path, table="events")
