"""Reading a touchpoint log from PostgreSQL into pandas (issue 21): which driver, and
the suite's own reader.

    pip install adbc-driver-postgresql "psycopg[binary]" sqlalchemy
    python benchmarks/postgres.py --url postgresql://bench@127.0.0.1:54329/postgres
    python benchmarks/postgres.py --url ... --rows 1e7 --skip-load   # the table is there
    python benchmarks/postgres.py --url ... --rows 1e7 --skip-sqlalchemy  # 80 s, 6.5 GB

Loads the simulator's log (repeated to ``--rows``) into a table ``events`` once, then reads
the whole table five ways, each in a fresh connection, best of ``--repeat``:

* **COPY** (the reference): psycopg's ``COPY (SELECT ...) TO STDOUT`` as CSV into
  ``pandas.read_csv``: what a careful hand-written reader does;
* **ADBC**: ``adbc_driver_postgresql`` (the binary COPY protocol into Arrow), then
  ``to_pandas``;
* **SQLAlchemy + psycopg**: ``pandas.read_sql_table`` through SQLAlchemy 2 and psycopg 3
  (left out with ``--skip-sqlalchemy``);
* **journey read_table**: the suite's own reader, ``jl.read_table(url, table="events")``
  (:meth:`journey_lib.io.database.DatabaseSource.read`: ADBC's record batches gathered,
  then handed to pandas column by column);
* **journey snapshot**: what ``journey report --data postgresql://... --table events`` does
  first, :meth:`~journey_lib.io.database.DatabaseSource.snapshot`: the batches streamed
  into a Parquet file one at a time, no frame made; its memory should stay bounded whatever
  the table's size (a few of the driver's 16 MB batches, the Parquet writer's buffers and
  the imports: 0.15 GB at 1M and 10M rows), not grow with the table.

Every reader's rows are first checked to be the reference's (sorted, compared column by
column; the snapshot's file read back with pandas for the check only, outside the measured
process). Each reader is then timed in a fresh process of its own; memory is the growth of
that process's peak resident size over its size before the first read (Linux's
``VmHWM``), as Arrow's and the drivers' buffers are not Python's.
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import journey_lib as jl

COLUMNS = ["customer_id", "timestamp", "event", "channel", "value"]


def load(url: str, rows: int) -> None:
    """Create ``events`` with ``rows`` rows of the simulator's log, by COPY FROM."""
    import psycopg

    log = jl.simulate(20_000, seed=0, progress=False).events[COLUMNS]
    copies = int(np.ceil(rows / len(log)))
    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS events")
        cursor.execute(
            "CREATE TABLE events (customer_id bigint, timestamp timestamptz, event text, "
            "channel text, value double precision)"
        )
        for k in range(copies):
            part = log.assign(customer_id=log["customer_id"] + k * 1_000_000)
            part = part.head(rows - k * len(log))
            buffer = io.StringIO()
            part.to_csv(buffer, index=False, header=False)
            with cursor.copy("COPY events FROM STDIN WITH (FORMAT csv)") as copy:
                copy.write(buffer.getvalue())
        connection.commit()


def by_copy(url: str) -> pd.DataFrame:
    import psycopg

    buffer = io.BytesIO()
    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        query = f"COPY (SELECT {', '.join(COLUMNS)} FROM events) TO STDOUT WITH (FORMAT csv)"
        with cursor.copy(query) as copy:
            for block in copy:
                buffer.write(block)
    buffer.seek(0)
    frame = pd.read_csv(buffer, names=COLUMNS, header=None)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True, format="ISO8601")
    return frame


def by_adbc(url: str) -> pd.DataFrame:
    import adbc_driver_postgresql.dbapi as adbc

    with adbc.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(COLUMNS)} FROM events")
        return cursor.fetch_arrow_table().to_pandas()


def by_sqlalchemy(url: str) -> pd.DataFrame:
    import sqlalchemy

    engine = sqlalchemy.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as connection:
            return pd.read_sql_table("events", connection, columns=COLUMNS)
    finally:
        engine.dispose()


def by_journey(url: str) -> pd.DataFrame:
    return jl.read_table(url, table="events")[0]


def by_snapshot(url: str, path: Path) -> int:
    """``journey report``'s read: the table streamed into the Parquet file ``path``."""
    from journey_lib.io.database import database_source

    return database_source(url, table="events").snapshot(path)


def _child(name: str, url: str, repeat: int, results: Any, scratch: str) -> None:
    """Run one reader ``repeat`` times in this fresh process: best time, the growth of the
    peak resident size over the process's size before the first read (GB), and the rows
    (read, or written to a Parquet file in the directory ``scratch``)."""
    before = _high_water()
    best, rows = float("inf"), 0
    for _ in range(repeat):
        start = time.perf_counter()
        if name in WRITERS:
            rows = WRITERS[name](url, Path(scratch) / "events.parquet")
        else:
            frame = READERS[name](url)
            rows = len(frame)
            del frame
        best = min(best, time.perf_counter() - start)
    results.put((best, (_high_water() - before) / 1e6, rows))


def _high_water() -> int:
    """This process's peak resident size in kB (``VmHWM``): unlike ``ru_maxrss``, it is not
    carried over from the parent across ``exec``."""
    with open("/proc/self/status", encoding="ascii") as status:
        line = next(x for x in status if x.startswith("VmHWM:"))
    return int(line.split()[1])


def timed(name: str, url: str, repeat: int) -> tuple[float, float, int]:
    """``_child`` in a process of its own, so that each reader's memory is its own."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    with tempfile.TemporaryDirectory() as scratch:
        process = context.Process(target=_child, args=(name, url, repeat, results, scratch))
        process.start()
        found = results.get()
        process.join()
    return found


READERS = {
    "COPY": by_copy,
    "ADBC": by_adbc,
    "SQLAlchemy + psycopg": by_sqlalchemy,
    "journey read_table": by_journey,
}
#: Readers that write the rows to a file (given its path) and return how many.
WRITERS = {"journey snapshot (journey report's read)": by_snapshot}


def same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    key = ["customer_id", "timestamp", "event"]
    got = got.sort_values(key, ignore_index=True)
    want = want.sort_values(key, ignore_index=True)
    assert len(got) == len(want), (len(got), len(want))
    for column in COLUMNS:
        a, b = got[column], want[column]
        if column == "timestamp":
            assert (
                a.dt.tz_convert("UTC").astype("int64") // 1000 == b.astype("int64") // 1000
            ).all()
        elif column == "value":
            np.testing.assert_allclose(a.to_numpy(float), b.to_numpy(float))
        else:
            assert (a.astype("str").fillna("") == b.astype("str").fillna("")).all(), column


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--rows", type=float, default=1e6)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument(
        "--skip-sqlalchemy", action="store_true", help="leave out SQLAlchemy (slow, big)"
    )
    args = parser.parse_args()
    if not args.skip_load:
        load(args.url, int(args.rows))
    names = ["ADBC", "SQLAlchemy + psycopg", "journey read_table", *WRITERS]
    if args.skip_sqlalchemy:
        names.remove("SQLAlchemy + psycopg")
    # Each reader's answer checked against the reference's first (and the server's cache
    # warmed); then each timed in a fresh process.
    want = by_copy(args.url)
    for name in names:
        if name in WRITERS:
            with tempfile.TemporaryDirectory() as scratch:
                path = Path(scratch) / "events.parquet"
                rows = WRITERS[name](args.url, path)
                got = pd.read_parquet(path)
            assert rows == len(got), (rows, len(got))
        else:
            got = READERS[name](args.url)
        same(got, want)
        del got
    reference = timed("COPY", args.url, args.repeat)
    print(f"{len(want):,} rows")
    del want
    print("| reader | time | peak memory growth | ratio to COPY | rows |")
    print("|---|---|---|---:|---:|")
    print(
        f"| COPY to CSV, read_csv | {reference[0]:.2f} s | {reference[1]:.2f} GB | 1.00 "
        f"| {reference[2]:,} |"
    )
    for name in names:
        result = timed(name, args.url, args.repeat)
        print(
            f"| {name} | {result[0]:.2f} s | {result[1]:.2f} GB "
            f"| {result[0] / reference[0]:.2f} | {result[2]:,} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
