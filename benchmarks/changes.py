"""Speed of change detection (issue 18): the scan of every series against building them.

    python benchmarks/changes.py --data /tmp/jl-bench            # 10M events, best of 3
    python benchmarks/changes.py --sizes 2e5 --repeat 1          # smoke test, a few minutes

:func:`journey_lib.changes` is :func:`journey_lib.monitor_series` (the per-period series,
computed on the log's engine) followed by :func:`journey_lib.find_changes` (the scan: a
baseline per series, every window scored, the changes described, all in numpy on the
series). For each period (``week``, ``day``) this times, on the same log:

- **A**, the reference: ``monitor_series(log, profile, period=..., by="channel",
  by_rule="last", top=10)`` on each engine (pandas, Polars lazy, DuckDB): the series alone;
- **B**, the scan: ``find_changes(series, period=...)`` on pandas' series from A (the same
  on every engine: only the per-period tables leave it);

and reports ``(A + B) / A``, the cost of the whole of ``jl.changes`` against the series
alone. The target (issue 18) is under 1.5 on 10M events: scanning must be a small part of
the report. ``by`` is the channel of each customer's last touchpoint, as in
``benchmarks/segments.py`` (12 values: the 10 largest and ``(other)``, so 11 segments), and
the profile is :func:`journey_lib.profile` of the log (its five-step funnel, 90-day
inactivity), computed once in the parent and written beside the log
(``events-<size>-profile.yaml``), so it is not timed.

The logs are ``benchmarks/analytics.py``'s (``journey_lib.simulator``, seed 0), written once
to Parquet in ``--data`` and reused. Every measurement runs in a fresh process that first
loads its input (the log for A, A's pickled series for B; not timed), so its peak resident
memory (``ru_maxrss``) is its own, input included; the time is the best of ``--repeat``
runs (the scan runs at least twice). Finally the scan is run once more under cProfile
(``--no-profile`` skips it) to say where its time goes.

**Every answer is checked before any time is printed**: the series are the same on every
engine (keys, periods and ``used`` exactly, counts and bases to a relative 1e-9); the scan
gives the same table in its first and last run; every change it reports passes its own
threshold (``|score| >= threshold``, Bonferroni p-value <= alpha) and lies inside the grid.
A difference stops the script without printing a figure.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import analytics as base  # benchmarks/analytics.py: the logs, loading, child processes
from _common import Measure, child, load_answer, measure

HERE = Path(__file__).resolve().parent
ENGINES = ("pandas", "polars", "duckdb")
PERIODS = ("week", "day")
BY = "channel"
TOP = 10
TARGET = 1.5  # (series + scan) / series, on 10M events (issue 18)
KEYS = ["metric", "detail", "column", "value"]


def profile_path(source: str) -> Path:
    """Where the parent keeps the log's profile (beside the log)."""
    return Path(source).with_name(Path(source).stem + "-profile.yaml")


def series_work(profile_file: Path) -> Callable[[str], Callable[[Any], Any]]:
    """``work(name)`` for :func:`_common.child`: ``series_<period>`` is A on that period."""
    import journey_lib as jl
    from journey_lib.io.profile import LogProfile

    profile = LogProfile.from_yaml(profile_file)

    def work(name: str) -> Callable[[Any], Any]:
        period = name.removeprefix("series_")
        return lambda events: jl.monitor_series(
            events, profile, period=period, by=BY, by_rule="last", top=TOP
        )

    return work


def scan_child(spec: dict[str, Any]) -> dict[str, Any]:
    """B in the child: load A's series (not timed), time ``find_changes`` ``repeat`` times
    (at least twice); keep the first and last tables and the scan's figures."""
    import journey_lib as jl

    period = spec["work"].removeprefix("scan_")
    with open(spec["source"], "rb") as f:
        series = pickle.load(f)
    data_gb = base.rss_gb()
    times, found = [], []
    for _ in range(max(2, spec["repeat"])):
        start = time.perf_counter()
        got = jl.find_changes(series, period=period)
        times.append(time.perf_counter() - start)
        found.append(got)
    first, last = found[0], found[-1]
    scanned = last.series.groupby(KEYS, dropna=False)["expected"].count().gt(0).sum()
    answer = {
        "first": first.table,
        "last": last.table,
        "tests": last.tests,
        "threshold": last.threshold,
        "alpha": last.alpha,
        "scanned": int(scanned),
        "periods": int(series["period"].nunique()),
    }
    with open(spec["answer"], "wb") as f:
        pickle.dump(answer, f)
    return {"times": times, "peak_gb": base.peak_gb(), "data_gb": data_gb}


def profile_child(spec: dict[str, Any]) -> dict[str, Any]:
    """The scan once under cProfile: where its time goes, by part (see :func:`parts`)."""
    import journey_lib as jl

    period = spec["work"].removeprefix("profile_")
    with open(spec["source"], "rb") as f:
        series = pickle.load(f)
    profiler = _cprofile().Profile()
    start = time.perf_counter()
    profiler.runcall(jl.find_changes, series, period=period)
    wall = time.perf_counter() - start
    stats = pstats.Stats(profiler)
    top = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[:12]
    answer = {
        "wall": wall,
        "parts": parts(stats),
        "top": [(_label(func), row[1], row[2], row[3]) for func, row in top],
    }
    with open(spec["answer"], "wb") as f:
        pickle.dump(answer, f)
    return {"times": [wall], "peak_gb": base.peak_gb(), "data_gb": 0.0}


def _cprofile() -> Any:
    """The standard library's cProfile: it imports ``profile``, which
    ``benchmarks/profile.py`` shadows while this folder leads ``sys.path``."""
    path = sys.path[:]
    shadow = sys.modules.pop("profile", None)
    sys.path[:] = [p for p in path if Path(p or ".").resolve() != HERE]
    try:
        import cProfile
    finally:
        sys.path[:] = path
        if shadow is not None:
            sys.modules["profile"] = shadow
    return cProfile


def _label(func: tuple[str, int, str]) -> str:
    file, line, name = func
    if "journey_lib" in file:
        return f"{file[file.rindex('journey_lib') :]}:{line} {name}"
    return f"{Path(file).name}:{line} {name}" if file != "~" else name


def parts(stats: pstats.Stats) -> dict[str, float]:
    """Cumulative seconds of the scan's parts, each function split by who called it (the
    same ``forecast`` serves ``scan_recent`` and, afterwards, each recent change's level).
    scipy's special functions are ufuncs, invisible to cProfile: their time is inside
    ``tail_score``'s and ``_tail``'s own time."""

    def find(module: str, name: str) -> tuple[Any, ...] | None:
        for func, row in stats.stats.items():
            if func[0].endswith(module) and func[2] == name:
                return row
        return None

    def cum(module: str, name: str, caller: str | None = None) -> float:
        """Cumulative seconds of ``name`` in ``module``, or of its calls from functions
        of the module ``caller`` only."""
        row = find(module, name)
        if row is None:
            return 0.0
        if caller is None:
            return row[3]
        return sum(c[3] for f, c in row[4].items() if f[0].endswith(caller))

    total = cum("detect.py", "find_changes")
    out = {
        "find_changes": total,
        "baseline fits (fit_baseline from detect.py)": cum(
            "baseline.py", "fit_baseline", "detect.py"
        ),
        "older windows (scan)": cum("scan.py", "scan"),
        "  of which tail scores (tail_score from scan.py)": cum("scan.py", "tail_score", "scan.py"),
        "recent windows (scan_recent)": cum("recent.py", "scan_recent"),
        "  of which forecast fits (forecast from recent.py)": cum(
            "recent.py", "forecast", "recent.py"
        ),
        "  of which tail scores (tail_score from recent.py)": cum(
            "scan.py", "tail_score", "recent.py"
        ),
        "each recent change's forecast again, for its expected (forecast from detect.py)": cum(
            "recent.py", "forecast", "detect.py"
        ),
        "describing changes (_describe)": cum("detect.py", "_describe"),
        "picking windows (_pick)": cum("detect.py", "_pick"),
        "X'WX products (weighted_gram, every caller)": cum("baseline.py", "weighted_gram"),
    }
    own = [find("scan.py", name) for name in ("tail_score", "_tail")]
    out["tail scores' own time (tail_score and _tail; scipy special ufuncs inside)"] = sum(
        row[2] for row in own if row
    )
    return out


def check_series(results: dict[tuple[str, str], Measure], engines: list[str], period: str) -> Any:
    """Stop unless A's series are the same on every engine; pandas' series."""
    import numpy as np
    import pandas as pd

    def ordered(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        frame["period"] = pd.DatetimeIndex(frame["period"]).tz_convert("UTC").as_unit("us")
        for key in KEYS:
            frame[key] = frame[key].astype(object).where(frame[key].notna(), None)
        return frame.sort_values([*KEYS, "period"], na_position="first").reset_index(drop=True)

    first = ordered(load_answer(results[(engines[0], f"series_{period}")]))
    for engine in engines[1:]:
        other = ordered(load_answer(results[(engine, f"series_{period}")]))
        assert len(other) == len(first), f"{period}: {engine} has {len(other)} rows"
        for column in [*KEYS, "period", "used"]:
            same = first[column].to_numpy() == other[column].to_numpy()
            same |= first[column].isna().to_numpy() & other[column].isna().to_numpy()
            assert same.all(), f"{period}: {engine} differs from {engines[0]} in {column!r}"
        for column in ("count", "base"):
            assert np.allclose(
                other[column].to_numpy(float),
                first[column].to_numpy(float),
                rtol=1e-9,
                atol=0.0,
                equal_nan=True,
            ), f"{period}: {engine} differs from {engines[0]} in {column!r}"
    return first


def check_scan(scan: dict[str, Any], series: Any, period: str) -> None:
    """Stop unless the scan's first and last tables agree and every change is a sane one."""
    import numpy as np
    import pandas as pd

    pd.testing.assert_frame_equal(scan["first"], scan["last"])
    table = scan["last"]
    if len(table):
        assert (np.abs(table["score"].to_numpy(float)) >= scan["threshold"]).all(), period
        assert (table["p_value"].to_numpy(float) <= scan["alpha"]).all(), period
        grid = pd.DatetimeIndex(series["period"].unique())
        assert table["start"].isin(grid).all(), f"{period}: a change starts off the grid"
        assert (table["periods"] >= 1).all(), period
    assert scan["tests"] > 0, f"{period}: no window tested"


def table_lines(
    rows: list[tuple[str, str, Measure, Measure]],
) -> tuple[list[str], dict[str, float]]:
    """The Markdown table and each row's ratio."""
    lines = [
        "| period | engine | A: series (s) | B: scan (s) | (A + B) / A | peak GB A / B |",
        "|---|---|---:|---:|---:|---:|",
    ]
    ratios = {}
    for period, engine, a, b in rows:
        if a.best is None or b.best is None:
            lines.append(f"| {period} | {engine} | {a.error or b.error} | | | |")
            continue
        ratio = (a.best + b.best) / a.best
        ratios[f"{period} {engine}"] = ratio
        lines.append(
            f"| {period} | {engine} | {a.best:.2f} | {b.best:.2f} | {ratio:.2f} | "
            f"{a.peak_gb:.1f} / {b.peak_gb:.1f} |"
        )
    return lines, ratios


def make_profile(source: str) -> Path:
    """The log's profile, computed once (pandas) and kept beside the log."""
    path = profile_path(source)
    if not path.exists():
        import pandas as pd

        import journey_lib as jl

        jl.profile(pd.read_parquet(source)).to_yaml(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e7", help="log sizes in events, e.g. 1e6,1e7")
    parser.add_argument("--engines", default=",".join(ENGINES), help="of " + ",".join(ENGINES))
    parser.add_argument("--periods", default=",".join(PERIODS), help="of " + ",".join(PERIODS))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", help="folder for the simulated logs (kept; reused)")
    parser.add_argument("--no-profile", action="store_true", help="skip the cProfile run")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        spec = json.loads(args.child)
        if spec["work"].startswith("scan_"):
            out = scan_child(spec)
        elif spec["work"].startswith("profile_"):
            out = profile_child(spec)
        else:
            out = child(spec, series_work(profile_path(spec["source"])))
        print(base.RESULT + json.dumps(out), flush=True)
        return
    engines = [e for e in args.engines.split(",") if e]
    periods = [p for p in args.periods.split(",") if p]
    if set(engines) - set(ENGINES) or not engines or engines[0] != "pandas":
        raise SystemExit(f"engines: pandas first, then any of {ENGINES}; got {engines}")
    if set(periods) - set(PERIODS) or not periods:
        raise SystemExit(f"periods: some of {PERIODS}; got {periods}")
    folder = Path(args.data) if args.data else Path(tempfile.mkdtemp(prefix="jl-chg-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    import journey_lib

    print(base._versions(), f"journey_lib from {Path(journey_lib.__file__).parent}", flush=True)
    print(f"load average at start: {os.getloadavg()}", flush=True)
    for n in (int(float(s)) for s in args.sizes.split(",") if s):
        got = base._run(
            [sys.executable, str(HERE / "analytics.py"), "--generate", str(folder), str(n)]
        )
        if "error" in got:
            raise SystemExit(f"generating {n:,} events failed: {got['error']}")
        source = str(folder / f"events-{base.size_label(n)}.parquet")
        make_profile(source)
        rows = base._parquet_rows(Path(source))
        answers = Path(tempfile.mkdtemp(prefix="answers-", dir=folder))
        measured, scans, profiles = [], {}, {}
        for period in periods:
            results = {}
            for engine in engines:
                name = f"series_{period}"
                results[(engine, name)] = measure(
                    __file__, engine, name, source, args.repeat, answers
                )
                print(f"  {engine} {name}: {results[(engine, name)].best}", flush=True)
            a_pandas = results[("pandas", f"series_{period}")]
            if a_pandas.error:
                raise SystemExit(f"pandas series ({period}) failed: {a_pandas.error}")
            scan = measure(
                __file__, "pandas", f"scan_{period}", str(a_pandas.answer), args.repeat, answers
            )
            print(f"  scan_{period}: {scan.best} (runs {scan.times})", flush=True)
            if scan.error:
                raise SystemExit(f"scan ({period}) failed: {scan.error}")
            ok = [e for e in engines if not results[(e, f"series_{period}")].error]
            series = check_series(results, ok, period)
            scans[period] = load_answer(scan)
            check_scan(scans[period], series, period)
            scans[period]["series"] = series.groupby(KEYS, dropna=False).ngroups
            measured += [(period, e, results[(e, f"series_{period}")], scan) for e in engines]
            if not args.no_profile:
                prof = measure(
                    __file__, "pandas", f"profile_{period}", str(a_pandas.answer), 1, answers
                )
                profiles[period] = None if prof.error else load_answer(prof)
        print(f"load average at end: {os.getloadavg()}", flush=True)
        lines, ratios = table_lines(measured)
        print(
            f"\n### {rows:,} events, by={BY!r}, by_rule='last', top={TOP}, best of {args.repeat}\n"
        )
        print("\n".join(lines))
        print()
        for period, scan in scans.items():
            print(
                f"- {period}: {scan['series']} series of {scan['periods']} periods "
                f"({scan['scanned']} scanned), {scan['tests']:,} windows tested, "
                f"threshold |z| >= {scan['threshold']:.2f}, {len(scan['last'])} changes found"
            )
        print()
        for key, ratio in ratios.items():
            verdict = "MET" if ratio < TARGET else "NOT MET"
            print(f"- (A + B) / A, {key}: {ratio:.2f} (target < {TARGET}) {verdict}")
        for period, prof in profiles.items():
            if prof is None:
                continue
            print(f"\nWhere the {period} scan's time goes (cProfile, {prof['wall']:.2f} s wall):")
            for part, seconds in prof["parts"].items():
                print(f"  {part}: {seconds:.2f} s")
            print("  top functions by own time (calls, own s, cumulative s):")
            for label, calls, own, cumulative in prof["top"]:
                print(f"    {label}: {calls}, {own:.2f}, {cumulative:.2f}")


if __name__ == "__main__":
    main()
