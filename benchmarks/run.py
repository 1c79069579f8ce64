"""Speed of the foundation, as ratios against references timed in the same run.

    python benchmarks/run.py                # 1,000,000 simulated customers (about 16M events)
    python benchmarks/run.py --customers 100000

Each line times a journey-lab function and a reference doing the least work that gives the
same kind of answer, so the ratio says what journey-lab's extra care costs, whatever the
machine's load. Times are the best of ``--repeat`` runs. Results go in benchmarks/README.md.

Before a pair is timed, both answers are checked to hold the same touchpoints (same number
of rows; the same customer ids and instants, sorted, and the same count of each event) and
``assign_stages`` to give the plain mapping's stage on every row but repeat purchases (which
it moves to their own stage); the script stops otherwise. The simulator's floor draws as many
random rows, which have nothing to compare.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import polars as pl

import journey_lib as jl


def best_of(repeat: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def floor_simulation(n_events: int, n_customers: int) -> pd.DataFrame:
    """The least a simulator of this size must do: draw the rows and sort them."""
    rng = np.random.default_rng(0)
    customer = rng.integers(1, n_customers + 1, n_events)
    seconds = rng.integers(0, 365 * 86_400, n_events)
    order = np.lexsort((seconds, customer))
    return pd.DataFrame(
        {
            "customer_id": customer[order],
            "timestamp": pd.to_datetime(seconds[order], unit="s", utc=True),
            "event": pd.Categorical.from_codes(
                rng.integers(0, 21, n_events), [f"e{i}" for i in range(21)]
            ),
            "value": rng.random(n_events),
        }
    )


def same_touchpoints(ours: pd.DataFrame, theirs: pd.DataFrame, what: str) -> None:
    """The same rows in any order: their count, the sorted customer ids and instants (times
    read as UTC whatever their type), and how often each event occurs."""
    assert len(ours) == len(theirs), f"{what}: {len(theirs):,} rows, journey-lab {len(ours):,}"
    for column in ("customer_id", "timestamp"):
        a, b = (instants_or_ids(frame[column]) for frame in (ours, theirs))
        assert np.array_equal(np.sort(a), np.sort(b)), f"{what}: the {column} values differ"
    counts = [frame["event"].astype(str).value_counts().sort_index() for frame in (ours, theirs)]
    assert counts[0].equals(counts[1]), f"{what}: the events differ"


def instants_or_ids(column: pd.Series) -> np.ndarray:
    if column.dtype.kind in "iu":
        return column.to_numpy()
    times = pd.to_datetime(pd.Series(column), utc=True, format="ISO8601")
    return times.dt.as_unit("us").array.asi8


def row(name: str, ours: float, reference_name: str, reference: float) -> str:
    return (
        f"| {name} | {ours:.2f} s | {reference_name} | {reference:.2f} s | {ours / reference:.2f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n, repeat = args.customers, args.repeat
    lines = ["| work | journey-lab | reference | reference time | ratio |", "|---|---|---|---|---|"]

    sim = jl.simulate(n, seed=0, progress=False)
    events = sim.events
    rows = len(events)
    t_sim = best_of(repeat, lambda: jl.simulate(n, seed=0, progress=False))
    t_floor = best_of(repeat, lambda: floor_simulation(rows, n))
    lines.append(
        row(
            f"simulate {n:,} customers ({rows:,} events)",
            t_sim,
            "numpy: draw and sort as many rows",
            t_floor,
        )
    )

    # As an export usually arrives: in time order, times as ISO text with offsets.
    raw = (
        events[["customer_id", "timestamp", "event", "channel", "value"]]
        .sort_values("timestamp", kind="stable")
        .assign(timestamp=lambda f: f["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%S%z"))
        .reset_index(drop=True)
    )

    def parse_and_sort() -> pd.DataFrame:
        parsed = raw.assign(timestamp=pd.to_datetime(raw["timestamp"], format="ISO8601", utc=True))
        return parsed.sort_values(["customer_id", "timestamp"])

    validated = jl.validate_events(raw).clean
    same_touchpoints(validated, parse_and_sort(), "validate_events vs pandas")
    t_validate = best_of(repeat, lambda: jl.validate_events(raw))
    t_pandas = best_of(repeat, parse_and_sort)
    lines.append(
        row(
            f"validate_events, {rows:,} rows of ISO text",
            t_validate,
            "pandas: parse times and sort",
            t_pandas,
        )
    )

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "events.csv"
        raw.to_csv(path, index=False)
        size = path.stat().st_size / 1e6
        references = {
            "pandas": lambda: pd.read_csv(path, engine="pyarrow"),
            "DuckDB": lambda: duckdb.sql(
                f"select * from read_csv('{path}') order by customer_id, timestamp"
            ).df(),
            "Polars": lambda: (
                pl.read_csv(path, try_parse_dates=True).sort("customer_id", "timestamp").to_pandas()
            ),
        }
        loaded = jl.load_events(path)
        for name, read in references.items():
            same_touchpoints(loaded, read(), f"load_events vs {name}")
        t_load = best_of(repeat, lambda: jl.load_events(path))
        t_pd, t_duck, t_polars = (best_of(repeat, read) for read in references.values())
        name = f"load_events, {size:,.0f} MB CSV"
        lines.append(row(name, t_load, "pandas.read_csv(engine='pyarrow'), no checks", t_pd))
        lines.append(row(name, t_load, "DuckDB read_csv + sort, to pandas", t_duck))
        lines.append(row(name, t_load, "Polars read_csv + sort, to pandas", t_polars))

    stages = jl.assign_stages(events)["stage"].astype(str)
    mapped = events["event"].map(jl.FRAMEWORKS["customer_journey"].events).astype(str)
    purchase = events["event"] == "purchase"
    again = purchase & events["customer_id"].where(purchase).duplicated()  # sorted by time
    assert ((stages != mapped) == again).all(), "assign_stages differs from Series.map"
    lines.append(
        row(
            "assign_stages (pandas)",
            best_of(repeat, lambda: jl.assign_stages(events)),
            "pandas: Series.map of the event names",
            best_of(repeat, lambda: events["event"].map(jl.FRAMEWORKS["customer_journey"].events)),
        )
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print("\n".join(lines))
    print(f"\npeak memory of the whole run: {peak:.1f} GB")


if __name__ == "__main__":
    main()
