"""Speed of journey_lib.attribution, as ratios against a hand-written pandas reference.

    python benchmarks/attribution.py                      # 40,000 customers (~650,000 events)
    python benchmarks/attribution.py --customers 15000 --repeat 1
    python benchmarks/attribution.py --engines pandas,polars,duckdb --boot 100

For a simulated log (``journey_lib.simulator``) it times :func:`journey_lib.attribution.attribute`
with Markov order 1, Markov order 2 and last touch (30-day lookback, purchases as
conversions), on each engine asked for, and a reference written directly in pandas and
numpy that computes the same credit for the same definitions: paths by sorting and a running
count of conversion instants, last touch by taking each path's last row, Markov by shifting
within paths, counting transitions and solving the dense absorbing chain once per removed
channel. Before timing, journey-lab's credit on every engine timed is checked against the
reference's, channel by channel, to a relative 1e-9 (an assertion fails otherwise), and the
bootstrap's point estimates against the single Markov fit's. Times are the best of
``--repeat`` runs; read the ratio (journey-lab time / reference time), as the machine is
shared.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

import journey_lib as jl
from journey_lib.attribution import NONE, attribute

LOOKBACK_US = 30 * 86_400_000_000
CONVERSION = "purchase"


# -- the reference --------------------------------------------------------------------------


def reference_paths(events: pd.DataFrame) -> pd.DataFrame:
    """Touch rows of every path (kind 0) and one row per conversion instant (kind 1), with
    the path's conversions ``n``, value ``v``, whether it converts and its touch count."""
    us = (events["timestamp"] - pd.Timestamp("1970-01-01", tz="UTC")) // pd.Timedelta("1us")
    converts = (events["event"] == CONVERSION).to_numpy()
    touches = pd.DataFrame(
        {
            "customer_id": events["customer_id"].to_numpy()[~converts],
            "us": us.to_numpy()[~converts],
            "channel": events["channel"].to_numpy()[~converts],
            "kind": 0,
            "n": 0,
            "v": 0.0,
        }
    ).dropna(subset=["channel"])
    instants = (
        pd.DataFrame(
            {
                "customer_id": events["customer_id"].to_numpy()[converts],
                "us": us.to_numpy()[converts],
                "value": events["value"].fillna(0.0).to_numpy()[converts],
            }
        )
        .groupby(["customer_id", "us"], sort=False)
        .agg(n=("value", "size"), v=("value", "sum"))
        .reset_index()
        .assign(kind=1, channel=None)
    )
    rows = pd.concat([touches, instants], ignore_index=True).sort_values(
        ["customer_id", "us", "kind", "channel"], kind="stable"
    )
    rows["path"] = rows.groupby("customer_id", sort=False)["kind"].cumsum() - rows["kind"]
    paths = rows.groupby(["customer_id", "path"], sort=False)
    end = paths["us"].transform("max")
    rows["converting"] = paths["kind"].transform("max")
    rows["n"] = paths["n"].transform("sum")
    rows["v"] = paths["v"].transform("sum")
    rows = rows[(rows["kind"] == 1) | (end - rows["us"] <= LOOKBACK_US)]
    rows["touches"] = (
        (1 - rows["kind"]).groupby([rows["customer_id"], rows["path"]]).transform("sum")
    )
    return rows


def reference_last_touch(events: pd.DataFrame) -> pd.Series:
    rows = reference_paths(events)
    touched = rows[(rows["kind"] == 0) & (rows["converting"] == 1)]
    last = touched.groupby(["customer_id", "path"], sort=False).tail(1)
    channels = rows.loc[rows["kind"] == 0, "channel"].unique()
    credit = last.groupby("channel")["n"].sum().astype(float).reindex(channels, fill_value=0.0)
    empty = rows[(rows["kind"] == 1) & (rows["touches"] == 0)]["n"].sum()
    if empty:
        credit[NONE] = float(empty)
    return credit


def reference_markov(events: pd.DataFrame, order: int) -> pd.Series:
    rows = reference_paths(events)
    touched = rows[rows["kind"] == 0]
    by_path = touched.groupby(["customer_id", "path"], sort=False)["channel"]
    lags = [by_path.shift(lag).fillna("(start)") for lag in range(order, 0, -1)]
    window = [*lags, touched["channel"]]
    weight = np.where(touched["converting"] == 1, touched["n"], 1).astype(float)
    last = by_path.shift(-1).isna().to_numpy()
    end = np.where(touched["converting"] == 1, "(conversion)", "(null)")
    steps = pd.DataFrame(
        {
            "from": _join(window[:-1]),
            "to": _join(window[1:]),
            "w": weight,
        }
    )
    finals = pd.DataFrame({"from": _join(window[1:])[last], "to": end[last], "w": weight[last]})
    counts = pd.concat([steps, finals]).groupby(["from", "to"])["w"].sum()
    origins = counts.index.get_level_values(0)
    targets = counts.index.get_level_values(1)
    start = "|".join(["(start)"] * order)
    states = [start, *sorted(set(origins) - {start})]
    index = {s: i for i, s in enumerate(states)}
    n = len(states)
    matrix = np.zeros((n, n))
    r = np.zeros(n)
    src = np.array([index[o] for o in origins])
    total = np.bincount(src, weights=counts.to_numpy(), minlength=n)
    for i, t, w in zip(src, targets, counts.to_numpy(), strict=True):
        if t == "(conversion)":
            r[i] += w / total[i]
        elif t != "(null)":
            matrix[i, index[t]] += w / total[i]

    def conversion(keep: np.ndarray) -> float:
        kept = np.flatnonzero(keep)
        system = np.eye(len(kept)) - matrix[np.ix_(kept, kept)]
        return float(np.linalg.solve(system, r[kept])[0])

    whole = conversion(np.ones(n, dtype=bool))
    channels = sorted({c for s in states for c in s.split("|")} - {"(start)"})
    effects = np.array(
        [
            1 - conversion(np.array([c not in s.split("|") for s in states])) / whole
            for c in channels
        ]
    )
    converted = rows[rows["kind"] == 1]
    with_touch = converted[converted["touches"] > 0]["n"].sum()
    credit = pd.Series(effects / effects.sum() * with_touch, index=channels)
    empty = converted[converted["touches"] == 0]["n"].sum()
    if empty:
        credit[NONE] = float(empty)
    return credit


def _join(columns: list[pd.Series]) -> np.ndarray:
    joined = columns[0].astype(str).to_numpy(dtype=object)
    for column in columns[1:]:
        joined = joined + "|" + column.astype(str).to_numpy(dtype=object)
    return joined


# -- timing ---------------------------------------------------------------------------------


def best_of(repeat: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def on_engine(events: pd.DataFrame, engine: str):
    if engine == "pandas":
        return events
    if engine == "polars":
        import polars as pl

        return pl.from_pandas(events)
    if engine == "duckdb":
        import duckdb
        import pyarrow as pa

        return duckdb.from_arrow(pa.Table.from_pandas(events))
    raise ValueError(engine)


def check(ours: pd.DataFrame, reference: pd.Series, what: str) -> None:
    """The same channels with the same conversions credited, to a relative 1e-9."""
    got = ours.set_index("channel")["conversions"].sort_index()
    want = reference.sort_index()
    assert got.index.tolist() == want.index.tolist(), (what, got.index, want.index)
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-9, atol=1e-9, err_msg=what)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=40_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--engines", default="pandas,polars,duckdb")
    parser.add_argument("--boot", type=int, default=100, help="replicates of the bootstrap row")
    args = parser.parse_args()
    events = jl.simulate(args.customers, seed=0, progress=False).events
    events = events[["customer_id", "timestamp", "event", "channel", "value"]]
    works = {
        "markov, order 1": (
            {"model": "markov", "order": 1},
            lambda e: reference_markov(e, 1),
        ),
        "markov, order 2": (
            {"model": "markov", "order": 2},
            lambda e: reference_markov(e, 2),
        ),
        "last touch": ({"model": "last_touch"}, reference_last_touch),
    }
    print(
        f"{args.customers:,} customers, {len(events):,} events, "
        f"{int((events['event'] == CONVERSION).sum()):,} conversions; best of {args.repeat}\n"
    )
    print("| work | engine | journey-lab | pandas reference | ratio |")
    print("|---|---|---|---|---|")
    natives = {engine: on_engine(events, engine) for engine in args.engines.split(",")}
    for name, (options, reference) in works.items():
        want = reference(events)
        for engine, native in natives.items():  # every answer about to be timed, first
            check(attribute(native, **options), want, f"{name} on {engine}")
        reference_time = best_of(args.repeat, lambda reference=reference: reference(events))
        for engine, native in natives.items():
            ours = best_of(args.repeat, lambda native=native, o=options: attribute(native, **o))
            print(
                f"| {name} | {engine} | {ours:.2f} s | {reference_time:.2f} s | "
                f"{ours / reference_time:.2f} |"
            )
    if args.boot:
        # Resamples change the intervals, never the point estimates (no reference is timed).
        markov = reference_markov(events, 1)
        check(attribute(events, model="markov", n_boot=args.boot), markov, "markov, bootstrap")
        for model in ("markov", "linear"):
            options = {"model": model, "n_boot": args.boot}
            ours = best_of(1, lambda o=options: attribute(events, **o))
            print(f"| {model}, {args.boot} bootstrap replicates | pandas | {ours:.2f} s | | |")


if __name__ == "__main__":
    main()
