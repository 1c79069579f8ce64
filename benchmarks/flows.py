"""Speed of journey flows (issue 16) against jl.paths on the same log, in the same run.

    python benchmarks/flows.py --data /tmp/jl-bench        # 1M and 10M events, best of 3
    python benchmarks/flows.py --data /tmp/jl-bench --scaling-only   # only the size check
    python benchmarks/flows.py --sizes 2e5 --repeat 1      # smoke test, about two minutes

For each log size and engine (pandas, Polars lazy, DuckDB) it times ``jl.paths(events,
max_steps=5)``, the reference, and beside it ``path_flows`` in its main modes (no anchor;
``start=`` a mid-funnel event; ``end=`` the conversion; ``split="converted"``), all with
their defaults (5 columns, the top 10 values of each column kept), and
``funnel_dropoff_paths`` at the funnel's middle step. ``paths`` is the reference because it
does the least work that gives the same kind of answer: each sequence's first five
touchpoints, counted. ``stage_flows`` is timed against ``jl.lifecycle``, the existing
function closest in work: both read one row per active (customer, period) with the
customer's previous and next active periods and count moves per period over the log's
period grid; ``stage_flows`` also places every touchpoint in a journey stage (the rule of
``assign_stages``) and keeps the furthest stage per period. (``stage_funnel`` places stages
too, but then aggregates per customer, with no periods.) ``jl.funnel`` with the same steps is
timed as well, since the drop-off flow runs that funnel first. Lazy results are forced
(Polars ``collect``, DuckDB ``df``).

The logs are ``benchmarks/analytics.py``'s (``journey_lib.simulator``, seed 0, about 16
events per customer), written once to Parquet in ``--data`` and reused by either script.
Every measurement runs in a fresh process that first loads the data (not timed), so its
peak resident memory (``ru_maxrss``) is that measurement's, data included; the time is the
best of ``--repeat`` runs. With two sizes, a size check follows: for each engine one process
loads both logs and times ``paths``, ``path_flows``, ``lifecycle`` and ``stage_flows`` on
the small and the large log in turn, so both sizes see the same load on a shared machine;
its table gives each time's growth over the log's (1 is linear).

**Every answer is checked before its time is printed**, each size before the next is
timed: the answer of each timed run is kept and compared across the three engines (exact
counts, shares to a relative 1e-9); the unanchored flow equals the links derived in plain
Python from ``jl.paths(max_steps=5, top=None)`` on the same log with the tail folded as the
flows module defines it (exactly); the anchored flows hold as many sequences as the log has
customers with the anchor (or the conversion); the drop-off flow's groups are the funnel's
customers at the step minus the next step, and at the next step; and ``stage_flows`` agrees
with ``lifecycle`` period by period (new = new, stay + forward + back = returning, return =
resurrecting, pause + exit = dormant). A difference stops the script without printing any
figure. (The answers checked are the timed runs' own, so the 10M log is not computed twice.)
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import analytics as base  # benchmarks/analytics.py: the logs, loading, child processes
from _common import Measure, child, load_answer, measure

HERE = Path(__file__).resolve().parent
ENGINES = ("pandas", "polars", "duckdb")
STEPS = base.STEPS  # ad_view, site_visit, signup, purchase
AT_STEP = 2  # the drop-off after site_visit (towards signup)
MIDDLE = "signup"  # a mid-funnel start event
CONVERSION = "purchase"
FLOW_STEPS, TOP = 5, 10  # path_flows' defaults, stated for the check
WORKS = (
    "paths",
    "flows",
    "flows_start",
    "flows_end",
    "flows_converted",
    "dropoff",
    "funnel",
    "lifecycle",
    "stage_flows",
)
REFERENCE = {
    "flows": "paths",
    "flows_start": "paths",
    "flows_end": "paths",
    "flows_converted": "paths",
    "dropoff": "paths",
    "stage_flows": "lifecycle",
}
LABELS = {
    "paths": "jl.paths(max_steps=5)",
    "flows": "path_flows(), no anchor",
    "flows_start": f"path_flows(start='{MIDDLE}')",
    "flows_end": f"path_flows(end='{CONVERSION}')",
    "flows_converted": "path_flows(split='converted')",
    "dropoff": f"funnel_dropoff_paths(4 steps, at_step={AT_STEP})",
    "funnel": "jl.funnel(4 steps)",
    "lifecycle": "jl.lifecycle(period='month')",
    "stage_flows": "stage_flows(period='month')",
}
TARGET = 1.5  # path_flows / paths, on every engine (issue 16)


def work(name: str) -> Callable[[Any], Any]:
    import journey_lib as jl

    return {
        "paths": lambda e: jl.paths(e, max_steps=5),
        "paths_all": lambda e: jl.paths(e, max_steps=FLOW_STEPS, top=None),
        "flows": lambda e: jl.path_flows(e),
        "flows_start": lambda e: jl.path_flows(e, start=MIDDLE),
        "flows_end": lambda e: jl.path_flows(e, end=CONVERSION),
        "flows_converted": lambda e: jl.path_flows(e, split="converted", conversion=CONVERSION),
        "dropoff": lambda e: jl.funnel_dropoff_paths(e, STEPS, at_step=AT_STEP),
        "funnel": lambda e: jl.funnel(e, STEPS),
        "lifecycle": lambda e: jl.lifecycle(e, period="month"),
        "stage_flows": lambda e: jl.stage_flows(e, period="month"),
    }[name]


# -- checks: the timed answers agree before any time is printed ------------------------------


def same_table(mine: Any, theirs: Any, what: str) -> None:
    """Equal tables: the same columns and rows in the same order; whole numbers, text and
    times exactly, other numbers to a relative 1e-9."""
    import numpy as np
    import pandas as pd

    assert list(mine.columns) == list(theirs.columns), f"{what}: columns differ"
    assert len(mine) == len(theirs), f"{what}: {len(mine)} rows vs {len(theirs)}"
    for column in mine.columns:
        a, b = mine[column], theirs[column]
        if pd.api.types.is_float_dtype(a) or pd.api.types.is_float_dtype(b):
            ok = np.isclose(a.astype(float), b.astype(float), rtol=1e-9, atol=0, equal_nan=True)
        elif pd.api.types.is_datetime64_any_dtype(a):
            ok = pd.to_datetime(a, utc=True).to_numpy() == pd.to_datetime(b, utc=True).to_numpy()
        else:
            ok = a.astype(object).to_numpy() == b.astype(object).to_numpy()
        bad = int((~np.asarray(ok, dtype=bool)).sum())
        assert bad == 0, f"{what}: {column} differs in {bad} rows"


def flows_from_paths(paths: Any) -> dict[tuple[int, str, str], int]:
    """The unanchored flow's links, from every distinct opening of five touchpoints and its
    count: each opening's columns (then ``(end)`` when it is shorter than five), the values
    outside a column's top 10 (by count, then name) folded into ``(other)``."""
    end, other = "(end)", "(other)"
    openings = []
    nodes: Counter = Counter()
    for path, n in zip(paths["path"], paths["count"], strict=True):
        values = path.split(" > ")
        column = values + ([end] if len(values) < FLOW_STEPS else [])
        openings.append((column, int(n)))
        for c, v in enumerate(column, start=1):
            if v != end:
                nodes[(c, v)] += int(n)
    ranked = defaultdict(list)
    for (c, v), n in nodes.items():
        ranked[c].append((-n, v))
    kept = {(c, v) for c, items in ranked.items() for _, v in sorted(items)[:TOP]}
    links: Counter = Counter()
    for column, n in openings:
        named = [v if v == end or (c, v) in kept else other for c, v in enumerate(column, 1)]
        for c in range(1, len(named)):
            links[(c, named[c - 1], named[c])] += n
    return dict(links)


def totals(flow: Any, step: int, group: str | None = None) -> dict[Any, int]:
    rows = flow[flow["step"] == step]
    if group is None:
        return {None: int(rows["count"].sum())}
    return {k: int(v) for k, v in rows.groupby(group)["count"].sum().items()}


def check(results: dict[tuple[str, str], Measure], extra: Measure, source: str) -> list[str]:
    """Assert the timed answers agree (see the module docstring); what was checked."""
    import duckdb

    done = []
    engines = sorted({e for e, _ in results}, key=ENGINES.index)
    answers = {key: load_answer(m) for key, m in results.items()}
    for name in WORKS:
        first = answers[(engines[0], name)]
        for engine in engines[1:]:
            same_table(answers[(engine, name)], first, f"{name}: {engine} vs {engines[0]}")
    done.append(f"every work's answer: {', '.join(engines)} equal")
    links = answers[(engines[0], "flows")]
    got = {(int(r.step), r.source, r.target): int(r.count) for r in links.itertuples()}
    want = flows_from_paths(load_answer(extra))
    differ = len(set(got.items()) ^ set(want.items()))
    assert got == want, f"path_flows vs jl.paths' openings: {differ} links differ"
    done.append(
        "path_flows(): the links of jl.paths(max_steps=5, top=None)'s openings, tail folded"
    )
    con = duckdb.connect()
    per_event = dict(
        con.sql(
            f"select event, count(distinct customer_id) from read_parquet('{source}') group by 1"
        ).fetchall()
    )
    sql = f"select count(distinct customer_id) from read_parquet('{source}')"
    customers = con.sql(sql).fetchall()[0][0]
    con.close()
    start = totals(answers[(engines[0], "flows_start")], 1)[None]
    assert start == per_event[MIDDLE], (
        f"start={MIDDLE}: {start} sequences, {per_event[MIDDLE]} customers"
    )
    end = totals(answers[(engines[0], "flows_end")], FLOW_STEPS - 1)[None]
    assert end == per_event[CONVERSION], f"end: {end} sequences, {per_event[CONVERSION]} customers"
    split = totals(answers[(engines[0], "flows_converted")], 1, "converted")
    want_split = {True: per_event[CONVERSION], False: customers - per_event[CONVERSION]}
    assert split == want_split, f"split='converted': {split} vs {want_split}"
    done.append("anchored flows: as many sequences as customers with the anchor or conversion")
    reached = answers[(engines[0], "funnel")]["customers"].tolist()
    groups = totals(answers[(engines[0], "dropoff")], 1, "outcome")
    want_groups = {
        "dropped off": reached[AT_STEP - 1] - reached[AT_STEP],
        "went on": reached[AT_STEP],
    }
    assert groups == want_groups, f"drop-off groups {groups} vs the funnel's {want_groups}"
    done.append("funnel_dropoff_paths: its groups are jl.funnel's customers")
    moves = period_moves(answers[(engines[0], "stage_flows")])
    life = answers[(engines[0], "lifecycle")]
    statuses = life.pivot_table(index="period", columns="status", values="customers", aggfunc="sum")
    for period, row in statuses.iterrows():
        got_moves = moves.get(period, Counter())
        pairs = {
            "new": got_moves["new"],
            "returning": got_moves["stay"] + got_moves["forward"] + got_moves["back"],
            "resurrecting": got_moves["return"],
            "dormant": -(got_moves["pause"] + got_moves["exit"]),
        }
        for status, value in pairs.items():
            assert value == int(row[status]), f"stage_flows vs lifecycle, {period} {status}"
    done.append("stage_flows: new, stay + forward + back, return, pause + exit = lifecycle's")
    return done


def period_moves(flows: Any) -> dict[Any, Counter]:
    import pandas as pd

    out: dict[Any, Counter] = defaultdict(Counter)
    for period, move, count in zip(flows["period"], flows["move"], flows["count"], strict=True):
        out[pd.Timestamp(period)][move] += int(count)
    return out


# -- the parent: plan, run, tabulate --------------------------------------------------------


def run_size(args: argparse.Namespace, folder: Path, n: int) -> dict[tuple[str, str], Measure]:
    tag = base.size_label(n)
    source = str(folder / f"events-{tag}.parquet")
    answers = Path(tempfile.mkdtemp(prefix=f"flows-{tag}-", dir=folder))
    results: dict[tuple[str, str], Measure] = {}
    for engine in args.engines:
        for name in WORKS:
            m = measure(__file__, engine, name, source, args.repeat, answers)
            results[(engine, name)] = m
            state = m.error or f"{base.fmt_s(m.best)}, peak {m.peak_gb:.1f} GB"
            print(f"  [{tag}] {engine:<7} {name:<16} {state}", flush=True)
    failed = [f"{e} {w}: {m.error}" for (e, w), m in results.items() if m.error]
    if failed:
        raise SystemExit("measurements failed, nothing printed: " + "; ".join(failed))
    extra = measure(__file__, "polars", "paths_all", source, 1, answers)  # untimed: for the check
    try:
        for line in check(results, extra, source):
            print(f"  checked on {tag}: {line}", flush=True)
    except AssertionError as error:
        raise SystemExit(f"an answer disagrees, no figure printed: {error}") from None
    finally:
        shutil.rmtree(answers, ignore_errors=True)
    return results


def fmt_ratio(ours: float | None, theirs: float | None) -> str:
    return "—" if ours is None or theirs is None else f"{ours / theirs:.2f}"


def table(results: dict[tuple[str, str], Measure], engines: list[str]) -> str:
    lines = [
        "| work | engine | journey-lab | reference | reference time | ratio "
        "| peak memory (ours / ref) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in WORKS:
        if name not in REFERENCE:
            continue
        ref = REFERENCE[name]
        for engine in engines:
            ours, theirs = results[(engine, name)], results[(engine, ref)]
            lines.append(
                f"| {LABELS[name]} | {base.ENGINE_LABELS[engine]} | {base.fmt_s(ours.best)} | "
                f"{LABELS[ref]} | {base.fmt_s(theirs.best)} | "
                f"{fmt_ratio(ours.best, theirs.best)} | "
                f"{ours.peak_gb:.1f} GB / {theirs.peak_gb:.1f} GB |"
            )
    funnel = ", ".join(
        f"{base.ENGINE_LABELS[e]} {base.fmt_s(results[(e, 'funnel')].best)}" for e in engines
    )
    lines.append(
        f"\nThe drop-off flow runs the funnel first: {LABELS['funnel']} alone took {funnel}."
    )
    return "\n".join(lines)


SCALED = ("paths", "flows", "lifecycle", "stage_flows")


def scale_child(spec: dict[str, Any]) -> dict[str, Any]:
    """Load both logs, then time each work on the small and the large log in turn (small,
    large, small, large, ...), so that both sizes see the same load on a shared machine."""
    engine, repeat = spec["engine"], spec["repeat"]
    logs = [_load_named(engine, source, i) for i, source in enumerate(spec["sources"])]
    times: dict[str, list[list[float]]] = {}
    for name in spec["works"]:
        run = work(name)
        times[name] = [[], []]
        for _ in range(repeat):
            for i, data in enumerate(logs):
                start = time.perf_counter()
                base.force(run(data))
                times[name][i].append(time.perf_counter() - start)
    return {"times": times, "peak_gb": base.peak_gb()}


def _load_named(engine: str, source: str, index: int) -> Any:
    """A log for ``engine`` (not timed); DuckDB tables get a name of their own."""
    if engine != "duckdb":
        return base.load(engine, source)[0]
    import duckdb

    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.execute(f"create table events_{index} as select * from read_parquet('{source}')")
    return con.table(f"events_{index}")


def scaling(args: argparse.Namespace, folder: Path, sizes: list[int], rows: dict[int, int]) -> str:
    """The interleaved size check, as a table: each work's best time at both sizes and its
    growth per event (1 is linear)."""
    small, large = min(sizes), max(sizes)
    sources = [str(folder / f"events-{base.size_label(n)}.parquet") for n in (small, large)]
    grow = rows[large] / rows[small]
    lines = [
        f"| work | engine | {rows[small]:,} events | {rows[large]:,} events | time x "
        "| per event x |",
        "|---|---|---|---|---|---|",
    ]
    found: dict[str, dict[str, tuple[float, float]]] = {}
    for engine in args.engines:
        spec = {"engine": engine, "repeat": args.repeat, "sources": sources, "works": SCALED}
        got = base._run(
            [sys.executable, str(Path(__file__).resolve()), "--scale", json.dumps(spec)]
        )
        if "error" in got:
            raise SystemExit(f"the size check failed on {engine}: {got['error']}")
        found[engine] = {w: (min(t[0]), min(t[1])) for w, t in got["times"].items()}
        print(f"  [scaling] {engine} done (peak {got['peak_gb']:.1f} GB)", flush=True)
    for name in SCALED:
        for engine in args.engines:
            a, b = found[engine][name]
            lines.append(
                f"| {LABELS[name]} | {base.ENGINE_LABELS[engine]} | {base.fmt_s(a)} | "
                f"{base.fmt_s(b)} | {b / a:.1f} | {b / a / grow:.2f} |"
            )
    lines.append(
        f"\nBoth logs in one process per engine, timed in turn, best of {args.repeat}; the log "
        f"grew {grow:.2f}x, and per event x is the time's growth over that (1 is linear)."
    )
    return "\n".join(lines)


def targets(results: dict[tuple[str, str], Measure], engines: list[str], n_rows: int) -> list[str]:
    lines = []
    for name in ("flows", "flows_start", "flows_end", "flows_converted"):
        parts = []
        for engine in engines:
            ours, ref = results[(engine, name)].best, results[(engine, "paths")].best
            ratio = None if ours is None or ref is None else ours / ref
            verdict = "" if ratio is None else (" MET" if ratio <= TARGET else " MISSED")
            parts.append(f"{base.ENGINE_LABELS[engine]} {fmt_ratio(ours, ref)}{verdict}")
        lines.append(
            f"- {LABELS[name]} / jl.paths on {n_rows:,} events (target <= {TARGET}): "
            + ", ".join(parts)
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e6,1e7", help="log sizes in events, e.g. 1e6,1e7")
    parser.add_argument("--engines", default=",".join(ENGINES), help="of " + ",".join(ENGINES))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", help="folder for the simulated logs (kept; reused)")
    parser.add_argument("--no-scaling", action="store_true", help="skip the size check")
    parser.add_argument(
        "--scaling-only", action="store_true", help="only the size check (two sizes)"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--scale", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(base.RESULT + json.dumps(child(json.loads(args.child), work)), flush=True)
        return
    if args.scale:
        print(base.RESULT + json.dumps(scale_child(json.loads(args.scale))), flush=True)
        return
    args.engines = [e for e in args.engines.split(",") if e]
    unknown = [e for e in args.engines if e not in ENGINES]
    if unknown:
        raise SystemExit(f"unknown engine(s) {unknown}; choose from {ENGINES}")
    sizes = [int(float(s)) for s in args.sizes.split(",") if s]
    folder = Path(args.data) if args.data else Path(tempfile.mkdtemp(prefix="jl-flows-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    try:
        print(base._versions(), flush=True)
        all_results: dict[int, dict] = {}
        rows: dict[int, int] = {}
        for n in sizes:
            generate = [
                sys.executable,
                str(HERE / "analytics.py"),
                "--generate",
                str(folder),
                str(n),
            ]
            got = base._run(generate)
            if "error" in got:
                raise SystemExit(f"generating {n:,} events failed: {got['error']}")
            rows[n] = base._parquet_rows(folder / f"events-{base.size_label(n)}.parquet")
            print(f"data for {base.size_label(n)} events ready: {rows[n]:,} events", flush=True)
            if not args.scaling_only:
                all_results[n] = run_size(args, folder, n)
        for n, results in all_results.items():
            print(
                f"\n### {rows[n]:,} events ({base.customers_for(n):,} simulated customers), "
                f"best of {args.repeat}\n"
            )
            print(table(results, args.engines))
        if len(sizes) == 2 and not args.no_scaling:
            print("\n### Scaling\n")
            print(scaling(args, folder, sizes, rows))
        if all_results:
            print("\n### Target\n")
            largest = max(all_results)
            print("\n".join(targets(all_results[largest], args.engines, rows[largest])))
        print(
            "\nPeak memory: each measurement's own process (ru_maxrss), the data it loaded "
            f"before timing included. Whole run: {time.perf_counter() - started:.0f} s."
        )
    finally:
        if not args.data:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
