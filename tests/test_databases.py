"""Touchpoints read from a real PostgreSQL server and scores written back to it (issue 21):
the library, ``journey report``, ``journey churn score``, and what goes wrong in one line.

The server is a throw-away cluster this module starts (tests/postgres.py: Debian's
``postgresql``, which ``make test`` installs), with password authentication, so a wrong or
missing password is refused as a real server refuses it. A DuckDB database file goes
through the same ``journey report --data ... --table`` path (its library half is
tests/test_io_duckdb_files.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import postgres
import pytest
from engines import (
    SMALL,
    assert_same_figures,
    declared_settings,
    page_outputs,
    recorded_figures,
    require_module,
    shared_file,
)

import journey_lib as jl
from journey_lib.errors import JourneyDataError, JourneyParameterError
from journey_lib.io.database import database_source, redact

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample" / "events.csv.gz"
#: The notebooks the database reports run, with the small settings of engines.SMALL: the
#: log's own page (01: counts, paths, timelines) and retention (03), whose figures rest on
#: every row and time. A DuckDB file's report, past its read the same path, runs 01 alone.
PAGES = "01,03"


@pytest.fixture(scope="module")
def pg():
    require_module("adbc_driver_postgresql", "the suite's PostgreSQL driver")
    with postgres.server() as server:
        yield server


@pytest.fixture(scope="module")
def loaded(pg):
    """The simulator's log as table ``events`` (and ``crm.touch`` with other column names),
    written by the suite's own writer; the same rows as the frame returned."""
    log = jl.simulate(300, seed=1).events
    jl.write_table(log, pg.secret_url + "/events")
    pg.sql("CREATE SCHEMA crm")
    renamed = log.rename(columns={"customer_id": "client", "timestamp": "ts", "event": "action"})
    jl.write_table(renamed, pg.secret_url + "/crm.touch")
    return log


def _env(**extra: str) -> dict[str, str]:
    """The environment without any PostgreSQL settings of the machine's, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    return {**env, **extra}


def _journey(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "journey_lib.cli", *args],
        capture_output=True,
        text=True,
        timeout=900,
        env=env or _env(),
    )


# ---- reading ------------------------------------------------------------------------


def test_no_password_is_shown_by_what_names_the_rows():
    source = database_source("postgresql://ana:pw-9@db:5432/crm/events?sslmode=require")
    shown = [repr(source), source.describe(), json.dumps(source.record()), source.database]
    assert all("pw-9" not in text for text in shown)
    assert source.describe() == "table events of postgresql://ana@db:5432/crm?sslmode=require"
    assert redact("postgresql://ana@db/crm?password=pw-9") == "postgresql://ana@db/crm"
    with pytest.raises(JourneyParameterError, match="names the table 'events' and table="):
        database_source("postgresql://ana:pw-9@db/crm/events", table="sales")


def test_a_table_reads_as_the_frame_written_and_a_query_and_schema_too(pg, loaded):
    got = jl.load_events(pg.secret_url, table="events")
    pd.testing.assert_frame_equal(got, jl.load_events(loaded), check_dtype=False)
    bought = jl.load_events(pg.secret_url, query="SELECT * FROM events WHERE event = 'purchase'")
    assert len(bought) == (loaded["event"] == "purchase").sum()
    # The table may follow the database in the URL; the profile finds renamed columns.
    found = jl.profile(pg.secret_url + "/crm.touch")
    assert (found.column("customer_id"), found.column("timestamp")) == ("client", "ts")
    assert len(found.read(pg.secret_url, table="touch").clean) == len(got)


def test_a_real_export_reads_from_a_table_as_from_its_file(pg):
    # The public clickstream (user_id, acquisition_channel, session_id, ...: not the
    # simulator's names), as its file reads, put in a table: the same profile and rows.
    path = shared_file("events", "ecom_clickstream.csv.gz")
    raw, _ = jl.read_table(path, dtype={"user_id": "str"})
    jl.write_table(raw, pg.secret_url + "/clicks")
    from_file, from_table = jl.profile(path), jl.profile(pg.secret_url, table="clicks")
    assert from_table.columns == from_file.columns
    assert (from_table.conversion, from_table.funnel) == (from_file.conversion, from_file.funnel)
    file_rows = from_file.read(path).clean
    table_rows = from_table.read(pg.secret_url, table="clicks").clean
    pd.testing.assert_frame_equal(table_rows, file_rows, check_dtype=False)


def test_the_password_comes_from_pgpassword_or_a_pgpass_file(pg, loaded, tmp_path, monkeypatch):
    for name in [k for k in os.environ if k.startswith("PG")]:
        monkeypatch.delenv(name)
    with pytest.raises(JourneyDataError, match=r"no password supplied .*PGPASSWORD or in a"):
        jl.read_table(pg.url, table="events")
    monkeypatch.setenv("PGPASSWORD", pg.password)
    assert len(jl.read_table(pg.url, table="events")[0]) == len(loaded)
    monkeypatch.delenv("PGPASSWORD")
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"127.0.0.1:{pg.port}:*:{postgres.USER}:{pg.password}\n")
    pgpass.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    assert len(jl.read_table(pg.url, table="events")[0]) == len(loaded)


def test_database_types_arrive_as_numbers_and_times(pg):
    pg.sql(
        "CREATE TABLE typed (id numeric(12,0), paid numeric(10,2), big numeric, day date, "
        "at timestamp, n int, note json)"
    )
    pg.sql(
        "INSERT INTO typed VALUES (7, 12.50, 1e20, '2024-03-01', '2024-03-01 10:00', 3, "
        """'{"a": 1}'), (8, NULL, NULL, NULL, NULL, NULL, NULL)"""
    )
    pg.sql(
        "CREATE TABLE odd AS SELECT 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS id, "
        "12.34::money AS paid UNION ALL SELECT NULL, NULL"
    )
    odd = jl.read_table(pg.secret_url, table="odd")[0]
    assert odd["id"].iloc[0] == "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11" and pd.isna(odd["id"][1])
    assert odd["paid"].iloc[0] == 12.34
    # A materialized view is a table to read too.
    pg.sql("CREATE MATERIALIZED VIEW odd_view AS SELECT * FROM odd")
    assert len(jl.read_table(pg.secret_url, table="odd_view")[0]) == 2
    frame, _ = jl.read_table(pg.secret_url, table="typed")
    assert frame["id"].tolist() == [7, 8] and frame["id"].dtype == "int64"
    assert frame["paid"].dtype == "float64" and frame["paid"].iloc[0] == 12.5
    assert frame["big"].iloc[0] == 1e20 and np.isnan(frame["big"].iloc[1])
    assert frame["day"].iloc[0] == pd.Timestamp("2024-03-01")
    assert frame["at"].iloc[0] == pd.Timestamp("2024-03-01 10:00")
    assert json.loads(frame["note"].iloc[0]) == {"a": 1}


def test_rows_stream_in_batches_that_add_up_to_the_table(pg, loaded, tmp_path):
    source = database_source(pg.secret_url, table="events")
    with source.batches(batch_bytes=1 << 15) as reader:
        sizes = [batch.num_rows for batch in reader]
    assert len(sizes) > 5 and sum(sizes) == len(loaded)
    assert source.snapshot(tmp_path / "events.parquet") == len(loaded)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "events.parquet"), source.read())


@pytest.mark.parametrize(
    ("rows", "error", "message"),
    [
        ({"table": "nope"}, JourneyDataError, r"has no table 'nope'; its tables: \[.*'events'"),
        ({"query": "SELECT * FROM events WHERE false"}, JourneyDataError, "returns no row"),
        ({"query": "SELEC 1"}, JourneyDataError, 'syntax error at or near "SELEC"'),
        ({}, JourneyParameterError, "name the rows with table='events' or query="),
        ({"table": "events", "sep": ";"}, JourneyParameterError, r"\['sep'\] apply to files"),
    ],
)
def test_each_mistake_is_one_line_without_the_password(pg, loaded, rows, error, message):
    with pytest.raises(error, match=message) as caught:
        jl.read_table(pg.secret_url, **rows)
    assert "\n" not in str(caught.value) and pg.password not in str(caught.value)


def test_unreachable_and_refused_servers_say_so(pg):
    closed = f"postgresql://{postgres.USER}:{pg.password}@127.0.0.1:{postgres.free_port()}/x"
    with pytest.raises(JourneyDataError, match=r"could not connect to .*Connection refused"):
        jl.read_table(closed, table="events")
    wrong = pg.secret_url.replace(pg.password, "wrong")
    with pytest.raises(JourneyDataError, match="password authentication failed") as caught:
        jl.read_table(wrong, table="events")
    assert "wrong" not in str(caught.value)
    assert redact(wrong) in str(caught.value)
    # Passwords urllib would cut in the wrong place, or libpq quotes in its message.
    for odd in ("s3cret#Pass", "pa/ss?word", "s3cret%zz"):
        url = f"postgresql://{postgres.USER}:{odd}@127.0.0.1:{pg.port}/{postgres.DATABASE}"
        with pytest.raises(JourneyDataError, match="could not connect to") as caught:
            jl.read_table(url, table="events")
        assert odd.split("#")[0][:5] not in str(caught.value), str(caught.value)


# ---- writing ------------------------------------------------------------------------


def _tables(pg) -> list[str]:
    rows = pg.sql("SELECT table_name FROM information_schema.tables WHERE table_schema='public'")
    return sorted(name for (name,) in rows)


def test_a_write_replaces_the_table_whole_and_a_failed_one_changes_nothing(pg):
    url = pg.secret_url + "/scores"
    first = pd.DataFrame({"customer_id": ["a", "b"], "p": [0.1, 0.9]})
    jl.write_table(first, url)
    second = pd.DataFrame(
        {
            "customer_id": ["c"],
            "p": [0.5],
            "segment": pd.Categorical(["x"]),
            "at": pd.Timestamp("2024-01-01", tz="UTC"),
        }
    )
    said = jl.write_table(second, url)
    assert said == f"table scores of {pg.url}"
    back = jl.read_table(url)[0]
    assert back.to_dict("list") == {
        "customer_id": ["c"],
        "p": [0.5],
        "segment": ["x"],
        "at": [pd.Timestamp("2024-01-01", tz="UTC")],
    }
    with pytest.raises(JourneyDataError, match=r'schema "nowhere" does not exist.*nothing was'):
        jl.write_table(first, pg.secret_url + "/nowhere.scores")
    with pytest.raises(JourneyParameterError, match="name the table to write after the datab"):
        jl.write_table(first, pg.secret_url)
    assert [n for n in _tables(pg) if "journey" in n] == []


def test_an_unqualified_write_stays_in_one_schema(pg):
    # With a schema named after the user, the search path's first: the table goes there,
    # replaced there, and the same name in public is left alone.
    pg.sql(f"CREATE SCHEMA {postgres.USER}")
    try:
        jl.write_table(pd.DataFrame({"a": [1]}), pg.secret_url + "/public.twice")
        for rows in ([1, 2], [3, 4, 5]):
            jl.write_table(pd.DataFrame({"a": rows}), pg.secret_url + "/twice")
        listed = pg.sql(
            "SELECT table_schema, count(*) FROM information_schema.tables "
            "WHERE table_name = 'twice' GROUP BY 1 ORDER BY 1"
        )
        assert listed == [(postgres.USER, 1), ("public", 1)]
        # Read as PostgreSQL resolves the name: along the search path.
        assert jl.read_table(pg.secret_url, table="twice")[0]["a"].tolist() == [3, 4, 5]
        assert jl.read_table(pg.secret_url, table="public.twice")[0]["a"].tolist() == [1]
    finally:
        pg.sql(f"DROP SCHEMA {postgres.USER} CASCADE")


_WRITER = """
import sys, numpy as np, pandas as pd, journey_lib as jl
n = 3_000_000
frame = pd.DataFrame({"customer_id": np.arange(n).astype(str), "p": np.random.rand(n)})
print("writing", flush=True)
jl.write_table(frame, sys.argv[1])
"""


@pytest.mark.parametrize("moment", ["copying the rows", "replacing the table"])
def test_killing_the_server_mid_write_leaves_the_old_table(pg, moment):
    import adbc_driver_postgresql.dbapi as adbc

    url = pg.secret_url + "/kept"
    old = pd.DataFrame({"customer_id": ["a", "b", "c"], "p": [0.1, 0.2, 0.3]})
    jl.write_table(old, url)
    reader = None
    if moment == "replacing the table":
        # A reader holding the old table makes the writer wait at its DROP, after the COPY:
        # the server is killed inside the window between the rows and the commit.
        reader = adbc.connect(pg.secret_url)
        reader.cursor().execute("SELECT * FROM kept")
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER, url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    # The driver reads by COPY ... TO STDOUT too: this query is told apart by its pid.
    waiting = {
        "copying the rows": "query ILIKE 'COPY % FROM STDIN%' AND state = 'active'",
        "replacing the table": "query ILIKE 'DROP TABLE%' AND wait_event_type = 'Lock'",
    }[moment]
    try:
        deadline, seen = time.monotonic() + 120, []
        while not seen and time.monotonic() < deadline and writer.poll() is None:
            seen = pg.sql(
                f"SELECT pid FROM pg_stat_activity WHERE {waiting} AND pid <> pg_backend_pid()"
            )
            time.sleep(0.05)
        assert seen, f"the write was never seen {moment}"
        pg.stop("immediate")
        _, stderr = writer.communicate(timeout=120)
    finally:
        writer.kill()
        if reader is not None:
            with contextlib.suppress(Exception):
                reader.close()
        if not (pg.folder / "data" / "postmaster.pid").exists():
            pg.start()
    assert writer.returncode != 0
    assert "could not write table kept of" in stderr and pg.password not in stderr
    assert jl.read_table(url)[0].to_dict("list") == old.to_dict("list")
    assert [n for n in _tables(pg) if "journey" in n] == []


# ---- the command line -----------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_tables(pg, tmp_path_factory):
    """The bundled sample's rows, as its CSV reads them (ids as text), as PostgreSQL's
    ``sample`` and a DuckDB file's ``events``."""
    raw, malformed = jl.read_table(SAMPLE, dtype={"customer_id": "str"})
    assert not malformed
    jl.write_table(raw, pg.secret_url + "/sample")
    path = tmp_path_factory.mktemp("duck") / "warehouse.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.register("raw", raw)
        connection.execute("CREATE TABLE events AS SELECT * FROM raw")
    return path


@pytest.fixture(scope="module")
def small_settings(tmp_path_factory):
    path = tmp_path_factory.mktemp("settings") / "settings.yaml"
    settings = declared_settings(SMALL, PAGES.split(","))
    path.write_text("".join(f"{k}: {v}\n" for k, v in settings.items()))
    return path


def _report(out: Path, settings: Path, *data: str, pages: str = PAGES, env=None) -> Path:
    done = _journey(
        "report", "--only", pages, "--params", str(settings), "--out", str(out), *data, env=env
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert postgres.PASSWORD not in done.stdout + done.stderr
    return out / "latest"


def _pages(run: Path, source: str) -> dict[str, list[str]]:
    return {
        page: [text.replace(source, "SOURCE") for text in texts]
        for page, texts in page_outputs(run).items()
    }


def test_a_report_from_the_database_is_the_report_from_the_csv(
    pg, sample_tables, small_settings, tmp_path
):
    from_csv = _report(tmp_path / "csv", small_settings, "--data", str(SAMPLE))
    # The password in the URL: it must be written nowhere in the run folder.
    from_pg = _report(tmp_path / "pg", small_settings, "--data", pg.secret_url, "--table", "sample")
    said = f"table sample of {pg.url}"
    assert assert_same_figures(from_pg, from_csv, ignore=("summary.source",)) > 20
    assert recorded_figures(from_pg)["summary.source"] == said
    assert _pages(from_pg, said) == _pages(from_csv, SAMPLE.name)
    manifest = json.loads((from_pg / "manifest.json").read_text())
    assert manifest["data"]["database"] == {
        "kind": "postgresql",
        "database": pg.url,
        "table": "sample",
    }
    assert manifest["parameters"]["data_path"] == said
    # Not the temporary file the notebooks were handed, gone after the run.
    assert {r["parameters"].get("data_path") for r in manifest["notebooks"].values()} == {said}
    assert manifest["data"]["fingerprints"][0]["rows"] == len(jl.read_table(SAMPLE)[0])
    assert said in (from_pg / "summary.html").read_text()
    written = [p for p in from_pg.resolve().rglob("*") if p.is_file()]
    assert len(written) > 5
    for path in written:
        assert pg.password.encode() not in path.read_bytes(), path
    # A DuckDB file goes the same way.
    from_duckdb = _report(
        tmp_path / "duckdb",
        small_settings,
        "--data",
        str(sample_tables),
        "--table",
        "events",
        pages="01",
    )
    expected = {k: v for k, v in recorded_figures(from_csv).items() if k.startswith("01_")}
    got = {k: v for k, v in recorded_figures(from_duckdb).items() if k.startswith("01_")}
    assert got == expected and len(got) >= 4
    said = f"table events of {sample_tables}"
    assert (
        _pages(from_duckdb, said)["01_touchpoints"]
        == _pages(from_csv, SAMPLE.name)["01_touchpoints"]
    )


def test_profile_and_validate_read_a_query(pg, sample_tables):
    query = "SELECT * FROM sample WHERE customer_id < '3'"
    profiled = _journey("profile", pg.url, "--query", query, env=_env(PGPASSWORD=pg.password))
    assert profiled.returncode == 0, profiled.stderr
    assert "a touchpoint log (events)" in profiled.stdout
    checked = _journey("validate", pg.secret_url, "--query", query)
    assert checked.returncode == 0, checked.stderr
    rows = len(jl.read_table(pg.secret_url, query=query)[0])
    assert f"{rows:,} rows" in checked.stdout and pg.password not in checked.stdout
    refused = _journey("validate", str(SAMPLE), "--table", "events")
    assert refused.returncode == 2
    assert refused.stderr.startswith("journey: error: ") and refused.stderr.count("\n") == 1


@pytest.mark.parametrize(
    "case", ["wrong password", "missing table", "unreachable host", "no row", "no table named"]
)
def test_the_command_line_says_what_is_wrong_in_one_line(pg, sample_tables, case, tmp_path):
    url, table = pg.secret_url, "sample"
    if case == "wrong password":
        url = url.replace(pg.password, "not-it")
    elif case == "missing table":
        table = "sampel"
    elif case == "unreachable host":
        url = f"postgresql://{postgres.USER}:{pg.password}@127.0.0.1:{postgres.free_port()}/x"
    rows = ["--table", table]
    if case == "no row":
        rows = ["--query", "SELECT * FROM sample WHERE false"]
    elif case == "no table named":
        url, rows = str(sample_tables), []
    done = _journey("report", "--data", url, *rows, "--out", str(tmp_path))
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("journey: error: ")
    expected = {
        "wrong password": "password authentication failed",
        "missing table": "has no table 'sampel'; its tables: [",
        "unreachable host": "Connection refused",
        "no row": "the query of " + pg.url + " returns no row",
        "no table named": "name the rows with table='events' or query=",
    }[case]
    assert expected in lines[0] and pg.password not in done.stderr + done.stdout
    assert case != "missing table" or "'sample'" in lines[0]
    assert not any(tmp_path.iterdir())  # no run folder was begun


def test_the_at_risk_list_goes_into_a_table(pg, sample_tables, tmp_path):
    to_file = _journey("churn", "score", str(SAMPLE), "--out", str(tmp_path / "at_risk.csv"))
    assert to_file.returncode == 0, to_file.stderr
    out = pg.secret_url + "/churn_scores"
    to_table = _journey("churn", "score", pg.secret_url, "--table", "sample", "--out", out)
    assert to_table.returncode == 0, to_table.stderr
    assert f"written to table churn_scores of {pg.url}" in to_table.stdout
    assert pg.password not in to_table.stdout + to_table.stderr
    written = jl.read_table(out)[0]
    expected = pd.read_csv(tmp_path / "at_risk.csv")
    pd.testing.assert_frame_equal(written, expected, check_dtype=False)
