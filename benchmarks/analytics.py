"""Speed of the analytics engine, as ratios against references timed in the same run.

    python benchmarks/analytics.py --quick             # smoke test: 200,000 events, < 1 minute
    python benchmarks/analytics.py                     # 1M and 10M events, pandas/Polars/DuckDB
    python benchmarks/analytics.py --sizes 1e6 --spark --repeat 3
    python benchmarks/analytics.py --huge              # also 100M events from Parquet
    python benchmarks/analytics.py --sizes 5e6,5e7 --window 30D --entry first \
        --works funnel,transitions,churn,paths --no-peers   # issue 19's targets

For each log size and engine it times journey-lab's funnel (4 steps, a 14-day window and
every step-1 row an attempt unless ``--window`` and ``--entry first`` say otherwise), rfm,
transition_matrix, retention (monthly), churn_rate and paths, forcing lazy results (Polars
``collect``, DuckDB ``df``), and a reference doing the same work in the same run: hand-written
DuckDB SQL, pandas and Polars (benchmarks/_references.py), lifetimes'
``summary_data_from_transaction_data`` and pm4py's ``discover_dfg`` (each in a scratch venv,
since neither runs beside pandas 3). Before each size is timed, journey-lab's answer on every
engine timed is checked against every reference and peer timed beside it (``check``: exact
counts, money and shares to a relative 1e-9; each engine's answers in a process of its
own, so that one copy of the log is in memory at a time); a difference stops the run. The
100M-event funnels, too big to run twice, are compared on their timed runs' customers per
step before their times are printed.

Every measurement runs in a fresh process that first loads the data (not timed), so its
peak resident memory (``ru_maxrss``) is that measurement's, data included; the time is the
best of ``--repeat`` runs. Logs come from ``journey_lib.simulator`` (about 16 events per
customer) and are written once to Parquet in ``--data`` (a temporary folder by default);
logs of more than a million customers are simulated in chunks of 500,000 (the 100M-event
log's chunks, one after another into one file). RFM is also timed on a synthetic purchase
log of as many rows as the size (numpy: a tenth as many customers, uniform times over 2024,
log-normal values), since a simulated log holds only about 6% purchases and the lifetimes
target is about 10M transactions. The 100M-event
log (``--huge``) is simulated in chunks of 500,000 customers into a Parquet dataset and read
by DuckDB and Polars straight from the files.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import pickle
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
STEPS = ["ad_view", "site_visit", "signup", "purchase"]
#: The timed funnel's window and entry rule (``--window``, ``--entry``); every process of a
#: run is given the parent's (``measure`` and ``--check`` pass it in their spec).
FUNNEL = {"window": "14D", "entry": "any"}
INACTIVITY_US = 90 * 86_400_000_000
OBSERVATION_END = "2025-01-01"  # the day after the simulated and synthetic logs end
END_US = 1_735_689_600_000_000  # OBSERVATION_END in microseconds since the epoch
EVENTS_PER_CUSTOMER = 16.2  # journey_lib.simulator's default drivers
HUGE_EVENTS = 100_000_000
HUGE_CHUNK = 500_000  # customers per simulated chunk of the 100M-event log
ONE_GO = 1_000_000  # customers simulated in one go; larger logs are simulated in chunks
DUCKDB_MEMORY_LIMIT = "14GB"  # for the 100M-event log, read from Parquet
LIFETIMES_VENV = Path("/tmp/lt")
PM4PY_VENV = Path("/tmp/pm4py")
ENGINES = ("pandas", "polars", "duckdb", "spark")
WORKS = ("funnel", "rfm", "transitions", "retention", "churn", "paths", "rfm_tx")
RESULT = "@@RESULT "

# -- the journey-lab work, per engine ------------------------------------------------------


def window_us() -> int:
    """The funnel's window in microseconds."""
    import pandas as pd

    return int(pd.Timedelta(FUNNEL["window"]) // pd.Timedelta(microseconds=1))


def jl_work(work: str) -> Callable[[Any], Any]:
    import journey_lib as jl

    if work == "funnel":
        return lambda events: jl.funnel(
            events, STEPS, window=FUNNEL["window"], entry=FUNNEL["entry"]
        )
    if work in ("rfm", "rfm_tx"):
        return lambda purchases: jl.rfm(purchases, observation_end=OBSERVATION_END)
    if work == "transitions":
        return jl.transition_matrix
    if work == "retention":
        return lambda events: jl.retention(events, period="month")
    if work == "churn":
        return jl.churn_rate
    if work == "paths":
        return jl.paths
    raise ValueError(work)


def dataset_of(work: str) -> str:
    """Which file a work reads: the log, its purchases, or the synthetic purchase log."""
    return {"rfm": "purchases", "rfm_tx": "transactions"}.get(work, "events")


def force(result: Any) -> Any:
    """Compute a lazy result: Polars collect, DuckDB df, Spark collect."""
    kind = type(result).__module__
    if kind.startswith("polars") and hasattr(result, "collect"):
        return result.collect()
    if kind.startswith("duckdb"):
        return result.df()
    if kind.startswith("pyspark"):
        return result.collect()
    return result


# -- references -----------------------------------------------------------------------------


def reference_work(name: str) -> Callable[[Any], Any]:
    """A reference by name; it takes the engine's frame (a DuckDB connection for SQL)."""
    import _references as ref

    window, entry = window_us(), FUNNEL["entry"]
    sql = {
        "sql_funnel_asof": ref.funnel_sql_asof(STEPS, window, entry),
        "sql_funnel_window": ref.funnel_sql_window(STEPS, window, entry),
        "sql_rfm": ref.rfm_sql(END_US),
        "sql_transitions": ref.TRANSITIONS_SQL,
        "sql_retention": ref.RETENTION_SQL,
        "sql_churn": ref.churn_sql(INACTIVITY_US),
        "sql_paths": ref.paths_sql(5, 20),
    }
    if name in sql:
        query = sql[name]
        return lambda con: con.sql(query).df()
    native = {
        "pandas_funnel": lambda e: ref.funnel_pandas(e, STEPS, window, entry),
        "polars_funnel": lambda e: ref.funnel_polars(e, STEPS, window, entry),
        "polars_rfm": lambda e: ref.rfm_polars(e, END_US),
        "pandas_transitions": ref.transitions_pandas,
        "polars_transitions": ref.transitions_polars,
    }
    return native[name]


REFERENCE_LABELS = {
    "sql_funnel": "hand-written DuckDB SQL",
    "sql_funnel_asof": "hand-written DuckDB SQL (ASOF joins)",
    "sql_funnel_window": "hand-written DuckDB SQL (window functions)",
    "pandas_funnel": "hand-written pandas (merge_asof)",
    "polars_funnel": "hand-written Polars (join_asof)",
    "sql_rfm": "hand-written DuckDB SQL",
    "polars_rfm": "hand-written Polars",
    "lifetimes": "lifetimes 0.11 summary_data_from_transaction_data (pandas 2.1)",
    "sql_transitions": "hand-written DuckDB SQL (lag/lead)",
    "pandas_transitions": "pandas: sort, groupby shift, groupby size",
    "polars_transitions": "hand-written Polars (sort, shift)",
    "pm4py": "pm4py discover_dfg (pandas 3.1)",
    "sql_retention": "hand-written DuckDB SQL (counts only)",
    "sql_churn": "hand-written DuckDB SQL (active at start, lost)",
    "sql_paths": "hand-written DuckDB SQL (row_number, string_agg)",
}

# The reference each (work, engine) row is compared with: the same work written by hand in
# that engine where there is one, else in DuckDB SQL. "sql_funnel" runs both SQL versions
# and keeps the faster.
REFERENCES = {
    ("funnel", "pandas"): "pandas_funnel",
    ("funnel", "polars"): "polars_funnel",
    ("funnel", "duckdb"): "sql_funnel",
    ("funnel", "spark"): "sql_funnel",
    ("rfm", "pandas"): "lifetimes",
    ("rfm", "polars"): "polars_rfm",
    ("rfm", "duckdb"): "sql_rfm",
    ("rfm", "spark"): "sql_rfm",
    ("rfm_tx", "pandas"): "lifetimes",
    ("rfm_tx", "polars"): "polars_rfm",
    ("rfm_tx", "duckdb"): "sql_rfm",
    ("rfm_tx", "spark"): "sql_rfm",
    ("transitions", "pandas"): "pandas_transitions",
    ("transitions", "polars"): "polars_transitions",
    ("transitions", "duckdb"): "sql_transitions",
    ("transitions", "spark"): "sql_transitions",
}


def reference_for(work: str, engine: str) -> str:
    return REFERENCES.get((work, engine), f"sql_{work}")


def reference_engine(name: str) -> str:
    if name.startswith("sql_"):
        return "sql"
    return name.split("_")[0]


# -- data -----------------------------------------------------------------------------------


def customers_for(n_events: int) -> int:
    return max(100, round(n_events / EVENTS_PER_CUSTOMER))


def size_label(n_events: int) -> str:
    for unit, name in ((1_000_000, "M"), (1_000, "k")):
        if n_events >= unit:
            return f"{n_events / unit:g}{name}"
    return str(n_events)


def generate_events(folder: Path, n_events: int, seed: int = 0) -> None:
    """Simulate a log of about ``n_events`` events; write it, its purchases (Parquet and a
    numpy file for lifetimes) and a synthetic purchase log of ``n_events`` rows."""
    import numpy as np

    import journey_lib as jl

    tag = size_label(n_events)
    events_path = folder / f"events-{tag}.parquet"
    n_customers = customers_for(n_events)
    if not events_path.exists() and n_customers > ONE_GO:
        _generate_in_chunks(folder, tag, n_customers)
    elif not events_path.exists():
        events = jl.simulate(n_customers, seed=seed, progress=False).events
        events = events[["customer_id", "timestamp", "event", "channel", "value"]]
        purchases = events[events["event"] == "purchase"].reset_index(drop=True)
        purchases.to_parquet(folder / f"purchases-{tag}.parquet")
        _save_npz(folder / f"purchases-{tag}.npz", purchases)
        events.to_parquet(events_path.with_suffix(".tmp"))
        events_path.with_suffix(".tmp").rename(events_path)
        del events, purchases
    tx_path = folder / f"transactions-{tag}.parquet"
    if not tx_path.exists():
        tx = synthetic_transactions(n_events, np.random.default_rng(seed + 1))
        _save_npz(folder / f"transactions-{tag}.npz", tx)
        tx.to_parquet(tx_path.with_suffix(".tmp"))
        tx_path.with_suffix(".tmp").rename(tx_path)


def _generate_in_chunks(folder: Path, tag: str, n_customers: int) -> None:
    """A log too large to simulate in one go (the simulator holds every customer's state):
    the chunks of the 100M-event log (:func:`simulate_chunk`) one after another into one
    Parquet file, and their purchases."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    events_path = folder / f"events-{tag}.parquet"
    writer, schema, purchases = None, None, []
    for index in range(math.ceil(n_customers / HUGE_CHUNK)):
        events = simulate_chunk(index, min(HUGE_CHUNK, n_customers - index * HUGE_CHUNK))
        purchases.append(events[events["event"] == "purchase"])
        table = pa.Table.from_pandas(events, preserve_index=False)
        del events
        if writer is None:
            schema = table.schema
            writer = pq.ParquetWriter(events_path.with_suffix(".tmp"), schema)
        writer.write_table(table.cast(schema), row_group_size=1_000_000)
    writer.close()
    bought = pd.concat(purchases, ignore_index=True)
    bought.to_parquet(folder / f"purchases-{tag}.parquet")
    _save_npz(folder / f"purchases-{tag}.npz", bought)
    events_path.with_suffix(".tmp").rename(events_path)


def synthetic_transactions(n_rows: int, rng: Any) -> Any:
    """``n_rows`` purchases of ``n_rows // 10`` customers over 2024 (leap year: 366 days),
    uniform times to the second, log-normal values to the cent; sorted by customer, time."""
    import numpy as np
    import pandas as pd

    n_customers = max(1, n_rows // 10)
    customer = rng.integers(1, n_customers + 1, n_rows)
    seconds = rng.integers(0, 366 * 86_400, n_rows)
    order = np.argsort(customer * (366 * 86_400) + seconds, kind="stable")
    start = np.datetime64("2024-01-01T00:00:00", "us")
    stamps = start + (seconds[order] * 1_000_000).astype("timedelta64[us]")
    return pd.DataFrame(
        {
            "customer_id": customer[order],
            "timestamp": pd.DatetimeIndex(stamps).tz_localize("UTC"),
            "event": "purchase",
            "value": np.round(rng.lognormal(3.5, 0.8, n_rows), 2),
        }
    )


def _save_npz(path: Path, purchases: Any) -> None:
    import numpy as np
    from _references import _us_numpy

    np.savez(
        path,
        customer_id=purchases["customer_id"].to_numpy(),
        us=_us_numpy(purchases["timestamp"]),
        value=purchases["value"].fillna(0.0).to_numpy(),
    )


def simulate_chunk(index: int, n_customers: int) -> Any:
    """One chunk of a chunked log: its own seed, customer ids offset past the others'."""
    import journey_lib as jl

    events = jl.simulate(n_customers, seed=1000 + index, progress=False).events
    events = events[["customer_id", "timestamp", "event", "channel", "value"]]
    events["customer_id"] += index * HUGE_CHUNK
    return events


def generate_huge_chunk(folder: Path, index: int, n_customers: int) -> None:
    """One chunk of the 100M-event log, as a file of its own."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = folder / f"part-{index:03d}.parquet"
    if path.exists():
        return
    events = simulate_chunk(index, n_customers)
    table = pa.Table.from_pandas(events, preserve_index=False)
    del events
    pq.write_table(table, path.with_suffix(".tmp"), row_group_size=1_000_000)
    path.with_suffix(".tmp").rename(path)


# -- one measurement, in its own process ----------------------------------------------------


def rss_gb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e9


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def load(engine: str, source: str) -> tuple[Any, Any]:
    """The data for ``engine`` (not timed) and a handle to close. ``source`` is a Parquet
    file, or a folder of Parquet files read straight from disk (the 100M-event log)."""
    folder = os.path.isdir(source)
    pattern = os.path.join(source, "*.parquet") if folder else source
    if engine == "pandas":
        import pandas as pd

        return pd.read_parquet(source), None
    if engine == "polars":
        import polars as pl

        if folder:
            return pl.scan_parquet(pattern), None
        return pl.read_parquet(source).lazy(), None
    if engine in ("duckdb", "sql"):
        import duckdb

        # A connection of its own, as a user's `duckdb.connect("warehouse.db")` is (since
        # issue 19 the as-of joins run on any connection, not only the default one).
        con = duckdb.connect()
        con.execute("set TimeZone = 'UTC'")
        scratch = tempfile.mkdtemp(prefix="duckdb-", dir=os.path.dirname(source))
        con.execute(f"set temp_directory = '{scratch}'")
        if folder:
            # Out of core: DuckDB keeps under this and spills the rest to the temp folder.
            con.execute(f"set memory_limit = '{DUCKDB_MEMORY_LIMIT}'")
        kind = "view" if folder else "table"
        con.execute(f"create {kind} events as select * from read_parquet('{pattern}')")
        handle = (con, scratch)
        return (con if engine == "sql" else con.table("events")), handle
    if engine == "spark":
        from pyspark.sql import SparkSession

        spark = (
            SparkSession.builder.master("local[2]")
            .appName("journey-lab benchmarks")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.shuffle.partitions", "8")
            .config("spark.driver.memory", "12g")
            .getOrCreate()
        )
        spark.sparkContext.setLogLevel("ERROR")
        frame = spark.read.parquet(source).cache()
        frame.count()
        return frame, spark
    raise ValueError(engine)


def close(engine: str, handle: Any) -> dict[str, float]:
    extra: dict[str, float] = {}
    if engine in ("duckdb", "sql") and handle is not None:
        con, scratch = handle
        con.close()
        shutil.rmtree(scratch, ignore_errors=True)
    if engine == "spark" and handle is not None:
        jvm = _jvm_peak_gb(handle)
        if jvm is not None:
            extra["jvm_peak_gb"] = jvm
        handle.stop()
    return extra


def _jvm_peak_gb(spark: Any) -> float | None:
    """The Spark JVM's peak resident memory (it is a separate process)."""
    with contextlib.suppress(Exception):
        pid = spark.sparkContext._gateway.proc.pid
        for candidate in [pid, *_children(pid)]:
            with open(f"/proc/{candidate}/status") as f:
                status = dict(line.split(":", 1) for line in f if ":" in line)
            if "java" in open(f"/proc/{candidate}/comm").read():
                return int(status["VmHWM"].split()[0]) / 1e6
    return None


def _children(pid: int) -> list[int]:
    with contextlib.suppress(OSError):
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    return []


def child(spec: dict[str, Any]) -> dict[str, Any]:
    """Load the data, time each work ``repeat`` times; report times and memory."""
    engine, repeat = spec["engine"], spec["repeat"]
    FUNNEL.update(spec["funnel"])
    data, handle = load(engine, spec["source"])
    out: dict[str, Any] = {"data_gb": rss_gb(), "times": {}, "steps": {}}
    for work in spec["works"]:
        if work == "sql_funnel":
            # Both SQL formulations; the faster is the reference.
            for variant in ("sql_funnel_asof", "sql_funnel_window"):
                out["times"][variant], _ = _time(reference_work(variant), data, repeat)
            continue
        run = jl_work(work) if spec["kind"] == "jl" else reference_work(work)
        out["times"][work], answer = _time(run, data, repeat)
        if work in ("funnel", "sql_funnel_asof"):  # compared across engines at 100M events
            out["steps"][work] = funnel_customers(as_pandas(answer))
    out["peak_gb"] = peak_gb()
    out.update(close(engine, handle))
    return out


def _time(run: Callable[[Any], Any], data: Any, repeat: int) -> tuple[list[float], Any]:
    """The times of ``repeat`` runs, and the last run's answer."""
    times, answer = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        answer = force(run(data))
        times.append(time.perf_counter() - start)
    return times, answer


# -- checks: every answer timed agrees before it is timed -----------------------------------


def as_pandas(result: Any) -> Any:
    """A forced journey-lab result (pandas, Polars, DuckDB's df, Spark's rows) as pandas."""
    import pandas as pd

    if isinstance(result, pd.DataFrame):
        return result
    if isinstance(result, list):  # Spark's collected rows
        return pd.DataFrame([row.asDict() for row in result])
    return result.to_pandas()


def funnel_customers(answer: Any) -> list[int]:
    """Customers per step, from a funnel table or a reference's list."""
    counts = answer if isinstance(answer, list) else answer["customers"].tolist()
    return [int(n) for n in counts]


def check(folder: Path, tag: str, engines: list[str], works: list[str], peers: bool) -> list[str]:
    """Assert that, on the ``tag`` logs, journey-lab's answer on every engine timed equals
    every reference's and peer's that is timed beside it: funnel steps, RFM frequency,
    recency and T, transition counts, retention cells, churn counts and the top paths
    exactly; RFM monetary values, transition probabilities and path shares to a relative
    1e-9. Returns what was checked; raises AssertionError on the first difference (a peer
    that fails to run is a difference).

    Each engine's answers, and each engine's references, are computed in a process of its
    own (:func:`answers`), which holds only that engine's copy of the log: at 50M events
    the copies together did not fit in the memory budget."""
    me = [sys.executable, str(Path(__file__).resolve())]
    got: dict[str, dict[Any, Any]] = {}
    for side in [*(f"jl:{e}" for e in engines), "ref:pandas", "ref:polars", "ref:sql"]:
        spec = {"folder": str(folder), "tag": tag, "side": side, "works": works}
        result = _run([*me, "--answers", json.dumps({**spec, "funnel": FUNNEL})])
        assert "error" not in result, f"the answers of {side} could not be computed: {result}"
        with open(result["path"], "rb") as f:
            got[side] = pickle.load(f)
        os.remove(result["path"])
    done = []
    for work in works:
        theirs = [(name, answer) for (w, name), answer in _references(got).items() if w == work]
        theirs += _peer_answers(work, folder, tag, peers)
        for name, answer in theirs:
            for engine in engines:
                mine = got[f"jl:{engine}"][work]
                SAME[work](mine, answer, f"{work}: {engine} vs {name}")
            if work == "transitions":  # the counts behind the probabilities too
                counts = got["ref:pandas"]["transition counts"]
                _same_counts(counts, answer, f"transition counts: pandas vs {name}")
            done.append(f"{work} on {dataset_of(work)}: {', '.join(engines)} vs {name}")
    return done


def _references(got: dict[str, dict[Any, Any]]) -> dict[tuple[str, str], Any]:
    """Every reference answer computed, keyed (work, reference name)."""
    return {
        key: answer
        for side, found in got.items()
        if side.startswith("ref:")
        for key, answer in found.items()
        if isinstance(key, tuple)
    }


def answers(folder: Path, tag: str, side: str, works: list[str]) -> dict[Any, Any]:
    """The answers one process of :func:`check` computes: journey-lab's on one engine
    (``side`` "jl:pandas", ...), keyed by work, or the hand-written references written for
    one engine ("ref:pandas", "ref:polars", "ref:sql"), keyed (work, reference name)."""
    import _references as ref

    import journey_lib as jl

    kind, engine = side.split(":")
    out: dict[Any, Any] = {}
    for dataset in ("events", "purchases", "transactions"):
        used = [w for w in works if dataset_of(w) == dataset]
        if not used:
            continue
        data, handle = load(engine, str(folder / f"{dataset}-{tag}.parquet"))
        for work in used:
            if kind == "jl":
                out[work] = as_pandas(force(jl_work(work)(data)))
            elif engine == "pandas":
                if work == "funnel":
                    answer = ref.funnel_pandas(data, STEPS, window_us(), FUNNEL["entry"])
                    out[(work, "pandas merge_asof")] = answer
                if work == "transitions":
                    out[(work, "pandas")] = ref.transitions_pandas(data)
                    out["transition counts"] = jl.transition_matrix(data, normalize=False)
            elif engine == "polars":
                if work == "funnel":
                    answer = ref.funnel_polars(data, STEPS, window_us(), FUNNEL["entry"])
                    out[(work, "Polars join_asof")] = answer
                if work in ("rfm", "rfm_tx"):
                    out[(work, "Polars")] = reference_work("polars_rfm")(data).to_pandas()
                if work == "transitions":
                    out[(work, "Polars")] = ref.transitions_polars(data).to_pandas()
            elif work == "funnel":
                for name, label in (("asof", "ASOF joins"), ("window", "window functions")):
                    out[(work, f"SQL ({label})")] = reference_work(f"sql_funnel_{name}")(data)
            else:
                name = "sql_rfm" if work in ("rfm", "rfm_tx") else f"sql_{work}"
                out[(work, "SQL")] = reference_work(name)(data)
        close(engine, handle)
    return out


def _peer_answers(work: str, folder: Path, tag: str, peers: bool) -> list[tuple[str, Any]]:
    """(name, answer) of the peers timed beside ``work`` (lifetimes, pm4py), when run."""
    import pandas as pd

    if not peers:
        return []
    if work in ("rfm", "rfm_tx") and lifetimes_ready():
        out = folder / "lifetimes.csv"
        result = run_lifetimes(folder / f"{dataset_of(work)}-{tag}.npz", 1, out)
        assert "error" not in result, f"lifetimes failed to run: {result.get('error')}"
        return [("lifetimes", pd.read_csv(out))]
    if work == "transitions" and pm4py_ready():
        out = folder / "pm4py.csv"
        result = run_pm4py(str(folder / f"events-{tag}.parquet"), 1, out)
        assert "error" not in result, f"pm4py failed to run: {result.get('error')}"
        return [("pm4py", pd.read_csv(out))]
    return []


def _same_funnel(mine: Any, theirs: Any, what: str) -> None:
    got, want = funnel_customers(mine), funnel_customers(theirs)
    assert got == want, f"{what}: customers per step {got} vs {want}"


def _same_summary(mine: Any, theirs: Any, what: str) -> None:
    import numpy as np

    mine = mine.sort_values("customer_id").reset_index(drop=True)
    theirs = theirs.sort_values("customer_id").reset_index(drop=True)
    assert len(mine) == len(theirs), f"{what}: {len(theirs)} customers, journey_lib {len(mine)}"
    assert (mine["customer_id"].to_numpy() == theirs["customer_id"].to_numpy()).all(), what
    for col in ("frequency", "recency", "T"):
        bad = mine[col].to_numpy() != theirs[col].to_numpy()
        assert not bad.any(), f"{what}: {col} differs for {bad.sum()} customers"
    close_enough = np.isclose(mine["monetary_value"], theirs["monetary_value"], rtol=1e-9)
    assert close_enough.all(), f"{what}: monetary_value differs for {(~close_enough).sum()}"


def _same_counts(mine: Any, theirs: Any, what: str) -> None:
    key = ["from", "to"]
    merged = mine.merge(theirs, on=key, how="outer", suffixes=("", "_ref"))
    bad = merged[merged["count"].fillna(-1) != merged["count_ref"].fillna(-1)]
    assert bad.empty, f"{what}: {len(bad)} pairs differ, e.g. {bad.head(3).to_dict('records')}"


def _same_probabilities(mine: Any, theirs: Any, what: str) -> None:
    """journey-lab's transition probabilities against a reference's counts, each divided
    by its ``from`` state's transitions."""
    import numpy as np

    theirs = theirs.assign(p=theirs["count"] / theirs.groupby("from")["count"].transform("sum"))
    merged = mine.merge(theirs, on=["from", "to"], how="outer", indicator=True)
    alone = merged[merged["_merge"] != "both"]
    assert alone.empty, (
        f"{what}: {len(alone)} pairs on one side only: {alone.head(3).to_dict('records')}"
    )
    close_enough = np.isclose(merged["probability"], merged["p"], rtol=1e-9, atol=0)
    assert close_enough.all(), f"{what}: {(~close_enough).sum()} probabilities differ"


def _same_retention(mine: Any, theirs: Any, what: str) -> None:
    mine = mine[mine["customers"] > 0]
    mine = mine.assign(cohort=mine["cohort"].dt.year * 12 + mine["cohort"].dt.month - 1)
    mine = mine.sort_values(["cohort", "period"]).reset_index(drop=True)
    cols = ["cohort", "period", "cohort_size", "customers"]
    assert len(mine) == len(theirs), f"{what}: {len(mine)} non-empty cells vs {len(theirs)}"
    assert (mine[cols].to_numpy() == theirs[cols].to_numpy()).all(), f"{what}: cells differ"


def _same_churn(mine: Any, theirs: Any, what: str) -> None:
    mine = mine.sort_values("period").reset_index(drop=True)
    assert len(mine) == len(theirs), f"{what}: {len(mine)} periods vs {len(theirs)}"
    for col in ("active_start", "lost"):
        assert (mine[col].to_numpy() == theirs[col].to_numpy()).all(), f"{what}: {col}"


def _same_paths(mine: Any, theirs: Any, what: str) -> None:
    import numpy as np

    assert mine["path"].tolist() == theirs["path"].tolist(), f"{what}: different top 20"
    assert (mine["count"].to_numpy() == theirs["count"].to_numpy()).all(), f"{what}: counts"
    assert np.allclose(mine["share"], theirs["share"], rtol=1e-9, atol=0), f"{what}: shares"


#: How each work's answer is compared with a reference's.
SAME: dict[str, Callable[[Any, Any, str], None]] = {
    "funnel": _same_funnel,
    "rfm": _same_summary,
    "rfm_tx": _same_summary,
    "transitions": _same_probabilities,
    "retention": _same_retention,
    "churn": _same_churn,
    "paths": _same_paths,
}


# -- peers in scratch venvs ------------------------------------------------------------------


def lifetimes_ready(create: bool = False) -> bool:
    python = LIFETIMES_VENV / "bin" / "python"
    ok = _imports(python, "lifetimes")
    if ok or not create:
        return ok
    print(f"creating {LIFETIMES_VENV} with lifetimes and pandas < 2.2 ...", flush=True)
    with contextlib.suppress(subprocess.SubprocessError, OSError):
        subprocess.run([sys.executable, "-m", "venv", str(LIFETIMES_VENV)], check=True)
        subprocess.run(
            [str(LIFETIMES_VENV / "bin" / "pip"), "install", "-q", "lifetimes", "pandas<2.2"],
            check=True,
            timeout=600,
        )
    return _imports(python, "lifetimes")


def pm4py_ready(create: bool = False) -> bool:
    python = PM4PY_VENV / "bin" / "python"
    ok = _imports(python, "pm4py")
    if ok or not create:
        return ok
    print(f"creating {PM4PY_VENV} with pm4py (at most 5 minutes) ...", flush=True)
    with contextlib.suppress(subprocess.SubprocessError, OSError):
        subprocess.run([sys.executable, "-m", "venv", str(PM4PY_VENV)], check=True)
        subprocess.run(
            [str(PM4PY_VENV / "bin" / "pip"), "install", "-q", "pm4py", "pyarrow"],
            check=True,
            timeout=300,
        )
    return _imports(python, "pm4py")


def _imports(python: Path, module: str) -> bool:
    if not python.exists():
        return False
    done = subprocess.run([str(python), "-c", f"import {module}"], capture_output=True)
    return done.returncode == 0


def run_lifetimes(npz: Path, repeat: int, out: Path | None = None) -> dict[str, Any]:
    import _references as ref

    python = str(LIFETIMES_VENV / "bin" / "python")
    args = [python, "-c", ref.LIFETIMES_SCRIPT, str(npz), OBSERVATION_END, str(repeat)]
    return _run([*args, str(out or "")])


def run_pm4py(parquet: str, repeat: int, out: Path | None = None) -> dict[str, Any]:
    import _references as ref

    python = str(PM4PY_VENV / "bin" / "python")
    return _run([python, "-c", ref.PM4PY_SCRIPT, parquet, str(repeat), str(out or "")])


# -- the parent: plan, run, tabulate --------------------------------------------------------


@dataclass
class Measure:
    """The outcome of one child process."""

    times: dict[str, list[float]] = field(default_factory=dict)
    peak_gb: float = math.nan
    data_gb: float = math.nan
    jvm_peak_gb: float | None = None
    error: str | None = None
    seconds: float = 0.0
    steps: dict[str, list[int]] = field(default_factory=dict)

    def best(self, name: str) -> float | None:
        got = self.times.get(name)
        return min(got) if got else None


TIMEOUT = 3600
MEMORY_BUDGET_GB = 20.0


def _run(command: list[str], timeout: float | None = None) -> dict[str, Any]:
    """Run a child; its last ``@@RESULT`` line is its answer. A child whose processes hold
    more than ``MEMORY_BUDGET_GB`` together is stopped and reported as out of memory, so a
    run never drives this shared machine into its OOM killer."""
    limit = timeout or TIMEOUT
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, text=True, cwd=HERE.parent)
        start, over = time.monotonic(), None
        while process.poll() is None:
            used = _tree_rss_gb(process.pid)
            if used > MEMORY_BUDGET_GB:
                over = used
            elif time.monotonic() - start > limit:
                over = -1.0
            if over is not None:
                _kill_tree(process.pid)
                process.wait()
                break
            time.sleep(0.2)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if over == -1.0:
        return {"error": f"timed out after {limit:.0f} s"}
    if over is not None:
        return {"error": f"out of memory (stopped at {over:.1f} GB, over the budget)"}
    lines = [x for x in stdout.splitlines() if x.startswith(RESULT)]
    if process.returncode == 0 and lines:
        return json.loads(lines[-1][len(RESULT) :])
    if process.returncode in (-9, 137):
        return {"error": "killed (out of memory)"}
    tail = (stderr.strip().splitlines() or ["(no output)"])[-1]
    return {"error": f"exit {process.returncode}: {tail[:200]}"}


def _tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (the Spark JVM is a grandchild)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(_children(current))
    return found


def _tree_rss_gb(pid: int) -> float:
    total = 0
    for member in _tree(pid):
        with contextlib.suppress(OSError, ValueError, IndexError):
            with open(f"/proc/{member}/statm") as f:
                total += int(f.read().split()[1])
    return total * os.sysconf("SC_PAGE_SIZE") / 1e9


def _kill_tree(pid: int) -> None:
    for member in reversed(_tree(pid)):
        with contextlib.suppress(OSError):
            os.kill(member, 9)


def measure(spec: dict[str, Any]) -> Measure:
    spec = {**spec, "funnel": FUNNEL}
    start = time.perf_counter()
    got = _run([sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)])
    m = Measure(seconds=time.perf_counter() - start)
    if "error" in got:
        m.error = got["error"]
        return m
    m.times, m.peak_gb, m.data_gb = got["times"], got["peak_gb"], got["data_gb"]
    m.steps = got.get("steps", {})
    m.jvm_peak_gb = got.get("jvm_peak_gb")
    return m


def measure_peer(kind: str, source: Path, repeat: int) -> Measure:
    start = time.perf_counter()
    if kind == "lifetimes":
        got = run_lifetimes(source, repeat)
    else:
        got = run_pm4py(str(source), repeat)
    m = Measure(seconds=time.perf_counter() - start)
    if "error" in got:
        m.error = got["error"]
    else:
        m.times, m.peak_gb = {kind: got["times"]}, got["peak_gb"]
    return m


def fmt_s(seconds: float | None) -> str:
    if seconds is None or math.isnan(seconds):
        return "—"
    return f"{seconds:.2f} s" if seconds < 100 else f"{seconds:.0f} s"


def fmt_mem(m: Measure) -> str:
    if m.error:
        return "—"
    text = f"{m.peak_gb:.1f} GB"
    if m.jvm_peak_gb:
        text += f" + JVM {m.jvm_peak_gb:.1f} GB"
    return text


WORK_LABELS = {
    "funnel": "funnel, 4 steps",  # and its window and entry rule: work_label
    "rfm": "rfm, the log's purchases",
    "rfm_tx": "rfm",
    "transitions": "transition_matrix",
    "retention": "retention(period='month')",
    "churn": "churn_rate (month, 90D)",
    "paths": "paths (top 20 of 5 steps)",
}
ENGINE_LABELS = {
    "pandas": "pandas",
    "polars": "Polars lazy",
    "duckdb": "DuckDB",
    "spark": "PySpark",
}


def work_label(work: str) -> str:
    if work != "funnel":
        return WORK_LABELS[work]
    first = ", each customer's first entry" if FUNNEL["entry"] == "first" else ""
    return f"{WORK_LABELS[work]}, {FUNNEL['window']} window{first}"


@dataclass
class Row:
    work: str
    engine: str
    ours: Measure
    reference: str
    theirs: Measure
    theirs_name: str

    @property
    def ours_s(self) -> float | None:
        return None if self.ours.error else self.ours.best(self.work)

    @property
    def theirs_s(self) -> float | None:
        return None if self.theirs.error else self.theirs.best(self.theirs_name)

    @property
    def ratio(self) -> float | None:
        if self.ours_s is None or self.theirs_s is None:
            return None
        return self.ours_s / self.theirs_s


def table(rows: list[Row], sizes: dict[str, str]) -> str:
    lines = [
        "| work | journey-lab | reference | reference time | ratio | peak memory (ours / ref) |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        label = f"{work_label(r.work)}{sizes.get(r.work, '')} ({ENGINE_LABELS[r.engine]})"
        ours = r.ours.error if r.ours.error else fmt_s(r.ours_s)
        theirs = r.theirs.error if r.theirs.error else fmt_s(r.theirs_s)
        ratio = "—" if r.ratio is None else f"{r.ratio:.2f}"
        mem = f"{fmt_mem(r.ours)} / {fmt_mem(r.theirs)}"
        ref_label = REFERENCE_LABELS[r.theirs_name]
        lines.append(f"| {label} | {ours} | {ref_label} | {theirs} | {ratio} | {mem} |")
    return "\n".join(lines)


def run_size(
    args: argparse.Namespace, folder: Path, n_events: int, engines: list[str], works: list[str]
) -> list[Row]:
    """Every measurement for one log size, as table rows. Each measurement is a process of
    its own; with ``--quick`` one process per engine and file does all its works."""
    tag = size_label(n_events)
    source = {d: str(folder / f"{d}-{tag}.parquet") for d in ("events", "purchases")}
    source["transactions"] = str(folder / f"transactions-{tag}.parquet")
    engines = [e for e in engines if e != "spark" or n_events <= 1_000_000]
    plan: list[tuple[str, str, str, str]] = []  # (kind, engine, dataset, work)
    pairs = []
    for work in works:
        for engine in engines:
            name = reference_for(work, engine)
            pairs.append((work, engine, name))
            plan.append(("jl", engine, dataset_of(work), work))
            if name != "lifetimes":
                plan.append(("ref", reference_engine(name), dataset_of(work), name))
    plan = list(dict.fromkeys(plan))
    batches: dict[tuple[str, ...], list[str]] = {}
    for kind, engine, dataset, work in plan:
        key = (kind, engine, dataset) if args.quick else (kind, engine, dataset, work)
        batches.setdefault(key, []).append(work)
    results: dict[tuple[str, str, str, str], Measure] = {}
    for key, batch in batches.items():
        kind, engine, dataset = key[:3]
        spec = {"kind": kind, "engine": engine, "repeat": args.repeat, "works": batch}
        m = measure({**spec, "source": source[dataset]})
        state = m.error or ", ".join(f"{w} {fmt_s(m.best(w))}" for w in m.times)
        print(f"  [{tag}] {engine} {state} (peak {m.peak_gb:.1f} GB)", flush=True)
        for work in batch:
            results[(kind, engine, dataset, work)] = m
    peers: dict[tuple[str, str], Measure] = {}
    rows: list[Row] = []
    for work, engine, name in pairs:
        dataset = dataset_of(work)
        ours = results[("jl", engine, dataset, work)]
        if name == "lifetimes":
            if (name, dataset) not in peers:
                if args.no_peers or not lifetimes_ready():
                    peers[(name, dataset)] = Measure(
                        error="off (--no-peers)" if args.no_peers else "skipped: no lifetimes venv"
                    )
                else:
                    npz = folder / f"{dataset}-{tag}.npz"
                    peers[(name, dataset)] = measure_peer("lifetimes", npz, args.repeat)
            theirs = peers[(name, dataset)]
        else:
            theirs = results[("ref", reference_engine(name), dataset, name)]
        shown = name
        if name == "sql_funnel" and not theirs.error:
            shown = min(("sql_funnel_asof", "sql_funnel_window"), key=theirs.best)
        rows.append(Row(work, engine, ours, name, theirs, shown))
        print(_progress(rows[-1], tag), flush=True)
        if work == "transitions" and engine == "pandas" and not args.no_peers:
            if pm4py_ready():
                peer = measure_peer("pm4py", Path(source["events"]), args.repeat)
            else:
                peer = Measure(error="skipped: pm4py did not install")
            rows.append(Row(work, engine, ours, "pm4py", peer, "pm4py"))
            print(_progress(rows[-1], tag), flush=True)
    return rows


def _progress(r: Row, tag: str) -> str:
    ratio = "—" if r.ratio is None else f"{r.ratio:.2f}"
    return (
        f"  [{tag}] {r.work:<11} {r.engine:<7} ours {fmt_s(r.ours_s):>9} "
        f"({r.ours.error or fmt_mem(r.ours)})  {r.theirs_name}: {fmt_s(r.theirs_s)} "
        f"({r.theirs.error or fmt_mem(r.theirs)})  ratio {ratio}"
    )


def run_huge(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """The 100M-event log as a Parquet dataset, through DuckDB and Polars (funnel, and the
    hand-written SQL funnel for scale)."""
    huge = folder / "events-huge"
    huge.mkdir(exist_ok=True)
    n_customers = customers_for(HUGE_EVENTS)
    chunks = math.ceil(n_customers / HUGE_CHUNK)
    start = time.perf_counter()
    for i in range(chunks):
        size = min(HUGE_CHUNK, n_customers - i * HUGE_CHUNK)
        got = _run([sys.executable, str(Path(__file__).resolve()), "--chunk", str(huge), str(i)])
        if "error" in got:
            return {"error": f"generating chunk {i} ({size} customers): {got['error']}"}
    generated = time.perf_counter() - start
    rows = sum(_parquet_rows(p) for p in huge.glob("*.parquet"))
    size_gb = sum(p.stat().st_size for p in huge.glob("*.parquet")) / 1e9
    print(f"100M log: {rows:,} events in {chunks} files, {size_gb:.1f} GB, {generated:.0f} s")
    results: dict[str, Any] = {"rows": rows, "gb": size_gb, "generated_s": generated}
    results["files"] = chunks
    for engine, kind, work in (
        ("duckdb", "jl", "funnel"),
        ("polars", "jl", "funnel"),
        ("sql", "ref", "sql_funnel_asof"),
    ):
        spec = {"kind": kind, "engine": engine, "repeat": 1, "works": [work], "source": str(huge)}
        m = measure(spec)
        results[f"{engine}:{work}"] = m
        status = m.error or f"{fmt_s(m.best(work))}, peak {m.peak_gb:.1f} GB, {m.steps[work]}"
        print(f"  [100M] {engine} {work}: {status} (process {m.seconds:.0f} s)", flush=True)
    # The log is too large to check before timing; each run's own answer is compared instead,
    # before any time is reported: customers per step, exactly.
    answers = {key: m.steps[key.split(":")[1]] for key, m in results.items() if not m.error}
    if len({tuple(steps) for steps in answers.values()}) > 1:
        raise SystemExit(f"the 100M-event funnels disagree: {answers}")
    return results


def summary(all_rows: dict[int, list[Row]], huge: dict[str, Any] | None) -> list[str]:
    """The issue's targets, met or missed."""
    lines = _target_lines(all_rows) if all_rows else []
    lines.append(_huge_line(huge))
    for n in sorted(all_rows):
        lines += _engine_lines(n, all_rows[n])
    return lines


#: Issue 19's targets, at 5M and 50M events: each (work, engine) over its reference.
ENGINE_TARGETS = {
    ("funnel", "duckdb"): 1.5,
    ("funnel", "polars"): 1.5,
    ("funnel", "pandas"): 3.0,
    ("transitions", "duckdb"): 2.0,
    ("churn", "duckdb"): 2.0,
    ("paths", "duckdb"): 2.0,
}


def _engine_lines(n_events: int, rows: list[Row]) -> list[str]:
    """Issue 19's targets for one size: met or missed where the size is one it names."""
    lines = []
    for r in rows:
        target = ENGINE_TARGETS.get((r.work, r.engine))
        if target is None or r.reference == "pm4py":
            continue
        ratio = "—" if r.ratio is None else f"{r.ratio:.2f}"
        verdict = ""
        if r.ratio is not None and n_events in (5_000_000, 50_000_000):
            verdict = " MET" if r.ratio <= target else " MISSED"
        lines.append(
            f"- {n_events:,} events, {work_label(r.work)} on {ENGINE_LABELS[r.engine]}: "
            f"{fmt_s(r.ours_s)} / {REFERENCE_LABELS[r.theirs_name]} {fmt_s(r.theirs_s)} = "
            f"{ratio} (issue 19: <= {target:g}){verdict}"
        )
    return lines


def _target_lines(all_rows: dict[int, list[Row]]) -> list[str]:
    lines = []
    biggest = max(all_rows)
    tag = f"{biggest:,} events" + ("" if biggest == 10_000_000 else " (10M not run)")
    rows = all_rows[biggest]

    def find(work: str, engine: str, ref: str | None = None) -> Row | None:
        for r in rows:
            if r.work == work and r.engine == engine and (ref is None or r.reference == ref):
                return r
        return None

    def verdict(ok: bool | None) -> str:
        # The targets are set at 10M events / transactions.
        if ok is None or biggest != 10_000_000:
            return ""
        return " MET" if ok else " MISSED"

    fp, fd, fl = find("funnel", "pandas"), find("funnel", "duckdb"), find("funnel", "polars")
    sp = fp.ours_s if fp else None
    sd = fd.ours_s if fd else None
    sl = fl.ours_s if fl else None
    lines.append(
        f"- 4-step windowed funnel over {tag}: pandas {fmt_s(sp)} (target < 10 s)"
        f"{verdict(None if sp is None else sp < 10)}, DuckDB {fmt_s(sd)}, Polars {fmt_s(sl)} "
        f"(target < 3 s){verdict(None if sl is None else sl < 3)}"
    )
    r = fd.ratio if fd else None
    lines.append(
        f"- funnel, DuckDB / hand-written SQL "
        f"({REFERENCE_LABELS[fd.theirs_name] if fd else '—'}, "
        f"{fmt_s(fd.theirs_s) if fd else '—'}) = "
        f"{'—' if r is None else f'{r:.2f}'} (target <= 2){verdict(None if r is None else r <= 2)}"
    )
    lt = find("rfm_tx", "pandas", "lifetimes")
    speedup = None if lt is None or lt.ratio is None else 1 / lt.ratio
    lines.append(
        f"- RFM on {biggest:,} transactions, lifetimes / journey-lab pandas = "
        f"{fmt_s(lt.theirs_s) if lt else '—'} / {fmt_s(lt.ours_s) if lt else '—'} = "
        f"{'—' if speedup is None else f'{speedup:.1f}x'} faster (target >= 5x)"
        f"{verdict(None if speedup is None else speedup >= 5)}"
    )
    rd = find("rfm_tx", "duckdb")
    r = rd.ratio if rd else None
    lines.append(
        f"- RFM on {biggest:,} transactions, DuckDB / hand-written SQL = "
        f"{fmt_s(rd.ours_s) if rd else '—'} / {fmt_s(rd.theirs_s) if rd else '—'} = "
        f"{'—' if r is None else f'{r:.2f}'} (target <= 2){verdict(None if r is None else r <= 2)}"
    )
    return lines


def _huge_line(huge: dict[str, Any] | None) -> str:
    if huge is None:
        return "- 100M-event Parquet through DuckDB and Polars: not run (--huge)"
    if "error" in huge:
        return f"- 100M-event Parquet: {huge['error']}"
    parts = []
    for key, name in (
        ("duckdb:funnel", "DuckDB funnel"),
        ("polars:funnel", "Polars funnel"),
        ("sql:sql_funnel_asof", "hand-written SQL funnel"),
    ):
        m = huge[key]
        work = key.split(":")[1]
        state = (
            f"{'out of memory' if 'memory' in m.error.lower() else 'failed'} ({m.error})"
            if m.error
            else f"completed in {fmt_s(m.best(work))}, peak {m.peak_gb:.1f} GB"
        )
        parts.append(f"{name} {state}")
    return (
        f"- 100M-event Parquet ({huge['rows']:,} events in {huge['files']} files, "
        f"{huge['gb']:.1f} GB on disk, simulated in {huge['generated_s']:.0f} s): "
        + "; ".join(parts)
    )


def main() -> None:
    global TIMEOUT, MEMORY_BUDGET_GB
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e6,1e7", help="log sizes in events, e.g. 1e6,1e7")
    parser.add_argument("--engines", default="pandas,polars,duckdb", help="of " + ",".join(ENGINES))
    parser.add_argument("--works", default=",".join(WORKS), help="of " + ",".join(WORKS))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--window", default="14D", help="the funnel's window (default 14D)")
    parser.add_argument(
        "--entry", default="any", choices=("any", "first"), help="the funnel's entry rule"
    )
    parser.add_argument("--huge", action="store_true", help="also 100M events from Parquet")
    parser.add_argument("--spark", action="store_true", help="also PySpark (1M events at most)")
    parser.add_argument("--quick", action="store_true", help="200k events, 1 repeat, no peers")
    parser.add_argument("--no-peers", action="store_true", help="skip lifetimes and pm4py")
    parser.add_argument("--data", help="folder for the generated logs (kept; reused)")
    parser.add_argument("--timeout", type=float, default=3600, help="per process, seconds")
    parser.add_argument(
        "--memory-budget", type=float, default=20.0, help="GB a process may hold (else OOM)"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--chunk", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--generate", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--check", help=argparse.SUPPRESS)
    parser.add_argument("--answers", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    if args.child:
        print(RESULT + json.dumps(child(json.loads(args.child))), flush=True)
        return
    if args.chunk:
        folder, index = Path(args.chunk[0]), int(args.chunk[1])
        n = min(HUGE_CHUNK, customers_for(HUGE_EVENTS) - index * HUGE_CHUNK)
        generate_huge_chunk(folder, index, n)
        print(RESULT + json.dumps({"peak_gb": peak_gb()}))
        return
    if args.check:
        spec = json.loads(args.check)
        FUNNEL.update(spec["funnel"])
        checked = check(
            Path(spec["folder"]), spec["tag"], spec["engines"], spec["works"], spec["peers"]
        )
        print(RESULT + json.dumps({"checked": checked}))
        return
    if args.answers:
        spec = json.loads(args.answers)
        FUNNEL.update(spec["funnel"])
        folder = Path(spec["folder"])
        found = answers(folder, spec["tag"], spec["side"], spec["works"])
        path = folder / f"answers-{spec['side'].replace(':', '-')}.pkl"
        with open(path, "wb") as f:
            pickle.dump(found, f)
        print(RESULT + json.dumps({"path": str(path)}))
        return
    if args.generate:
        generate_events(Path(args.generate[0]), int(args.generate[1]))
        print(RESULT + json.dumps({"peak_gb": peak_gb()}))
        return

    TIMEOUT, MEMORY_BUDGET_GB = args.timeout, args.memory_budget
    FUNNEL.update(window=args.window, entry=args.entry)
    if args.quick:
        args.sizes, args.repeat, args.no_peers = "2e5", 1, True
    sizes = [int(float(s)) for s in args.sizes.split(",") if s and s != "none"]
    engines = [e for e in args.engines.split(",") if e]
    if args.spark and "spark" not in engines:
        engines.append("spark")
    works = [w for w in args.works.split(",") if w]
    if not args.no_peers:
        if not lifetimes_ready(create=True):
            print("lifetimes could not be installed in a scratch venv: its row is skipped")
        if "transitions" in works and not pm4py_ready(create=True):
            print("pm4py could not be installed in a scratch venv: its row is skipped")

    folder = Path(args.data) if args.data else Path(tempfile.mkdtemp(prefix="jl-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    try:
        print(_versions(), flush=True)
        all_rows: dict[int, list[Row]] = {}
        event_rows: dict[int, int] = {}
        me = [sys.executable, str(Path(__file__).resolve())]
        for n in sizes:
            t = time.perf_counter()
            got = _run([*me, "--generate", str(folder), str(n)])
            if "error" in got:
                raise SystemExit(f"generating {n:,} events failed: {got['error']}")
            event_rows[n] = _parquet_rows(folder / f"events-{size_label(n)}.parquet")
            print(f"data for {size_label(n)} events ready ({time.perf_counter() - t:.0f} s)")
            # Every answer about to be timed is checked first, at every size.
            t = time.perf_counter()
            timed = [e for e in engines if e != "spark" or n <= 1_000_000]
            spec = {"folder": str(folder), "tag": size_label(n), "engines": timed}
            spec |= {"works": works, "peers": not args.no_peers, "funnel": FUNNEL}
            got = _run([*me, "--check", json.dumps(spec)])
            if "error" in got:
                raise SystemExit(f"an answer disagrees, nothing timed: {got['error']}")
            for line in got["checked"]:
                print(f"  checked on {size_label(n)}: {line}")
            print(f"  checks passed ({time.perf_counter() - t:.0f} s)", flush=True)
            all_rows[n] = run_size(args, folder, n, engines, works)
        huge = run_huge(args, folder) if args.huge else None
        for n, rows in all_rows.items():
            heading = f"{event_rows[n]:,} events ({customers_for(n):,} simulated customers)"
            print(f"\n### {heading}, best of {args.repeat}\n")
            print(table(rows, {"rfm_tx": f", {n:,} synthetic transactions"}))
            sql = next((r.theirs for r in rows if r.reference == "sql_funnel"), None)
            if sql is not None and not sql.error:
                print(
                    f"\nThe hand-written SQL funnel both ways: ASOF joins "
                    f"{fmt_s(sql.best('sql_funnel_asof'))}, window functions "
                    f"{fmt_s(sql.best('sql_funnel_window'))}; the faster is the reference."
                )
            print(
                "\nPeak memory: each measurement's own process (ru_maxrss), the data it loaded "
                "before timing included."
            )
        print("\n### Targets\n")
        print("\n".join(summary(all_rows, huge)))
        print(f"\nwhole run: {time.perf_counter() - started:.0f} s")
    finally:
        if not args.data:
            shutil.rmtree(folder, ignore_errors=True)


def _parquet_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


def _versions() -> str:
    import duckdb
    import narwhals
    import pandas as pd
    import polars as pl

    return (
        f"pandas {pd.__version__}, Polars {pl.__version__}, DuckDB {duckdb.__version__}, "
        f"Narwhals {narwhals.__version__}, {os.cpu_count()} cores"
    )


if __name__ == "__main__":
    main()
