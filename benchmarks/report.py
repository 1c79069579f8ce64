"""Reports that stay in the engine (issue 19): ``journey report`` on simulated Parquet logs,
in each engine, timed whole with the peak memory of the run (the runner and every notebook
kernel together, sampled every tenth of a second).

    python benchmarks/report.py --sizes 1e6,1e7 --engines pandas,duckdb
    python benchmarks/report.py --sizes 1e8 --engines duckdb --profile journey.yaml

Each size's reports are checked before their times are shown: every figure every notebook
recorded (``metrics.json``) must equal the first engine's (pandas first when it runs), to
1e-6 relative (engines add sums in other orders; the churn model's and customer value's
inputs are summed exactly, so their figures agree to the bit); the script stops with the
difference otherwise. The reference, timed in the same
run, is one read of the log: validating it whole in pandas (``LogProfile.read``, what every
notebook did before the log was read once per run) where it fits in memory, and one DuckDB
scan counting each event's rows and customers at every size.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd

sys.path.append(str(Path(__file__).resolve().parent))  # analytics.py, after the stdlib

import analytics  # the simulated logs

JOURNEY = [sys.executable, "-m", "journey_lib.cli"]
# issue 19's targets: whole-run seconds (and GB) by size
TARGETS = {1_000_000: (120, None), 10_000_000: (600, 6.0), 100_000_000: (None, 24.0)}


def sampled(command: list[str], cwd: Path) -> dict[str, Any]:
    """Run ``command``; its wall time, the peak resident memory of its process tree, its
    exit code and output."""
    import psutil

    start = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout))
    reader.start()
    tree, peak = psutil.Process(process.pid), 0
    while process.poll() is None:
        try:
            rss = tree.memory_info().rss + sum(
                c.memory_info().rss for c in tree.children(recursive=True)
            )
            peak = max(peak, rss)
        except psutil.Error:
            pass
        time.sleep(0.1)
    reader.join()
    return {
        "seconds": time.perf_counter() - start,
        "peak_gb": peak / 1e9,
        "code": process.returncode,
        "output": "".join(lines),
    }


def reference(path: Path, pandas: bool) -> dict[str, float]:
    """One read of the log, each in a process of its own: validated whole in pandas, and
    one DuckDB scan."""
    found = {}
    scan = (
        # Without the progress bar, which DuckDB prints on stdout for a scan over 2 s.
        "import duckdb, time; con = duckdb.connect(); con.sql('SET enable_progress_bar = false'); "
        't = time.perf_counter(); con.sql("SELECT event, count(*), '
        f"count(DISTINCT customer_id) FROM read_parquet('{path}') GROUP BY event\").fetchall(); "
        "print(time.perf_counter() - t)"
    )
    found["scan"] = float(subprocess.check_output([sys.executable, "-c", scan], text=True))
    if pandas:
        read = (
            "import time, journey_lib as jl; t = time.perf_counter(); "
            f"p = jl.LogProfile(columns={COLUMNS!r}); p.read({str(path)!r}); "
            "print(time.perf_counter() - t)"
        )
        found["validate"] = float(subprocess.check_output([sys.executable, "-c", read], text=True))
    return found


COLUMNS = {c: c for c in ("customer_id", "timestamp", "event", "channel", "value")}


def report(path: Path, engine: str, out: Path, profile: Path | None) -> dict[str, Any]:
    command = [*JOURNEY, "report", "--data", str(path), "--engine", engine, "--out", str(out)]
    command += ["--timeout", "7200"] + (["--profile", str(profile)] if profile else [])
    run = sampled(command, out.parent)
    if run["code"] != 0:
        # What the run measured is worth having even when a notebook failed.
        raise SystemExit(
            f"{engine}: journey report exited {run['code']} after {run['seconds']:.0f} s, "
            f"peak {run['peak_gb']:.2f} GB:\n{run['output']}"
        )
    latest = out / "latest"
    manifest = json.loads((latest / "manifest.json").read_text())
    run["notebooks"] = {k: v["duration"] for k, v in manifest["notebooks"].items()}
    run["jobs"] = manifest["jobs"]
    run["metrics"] = json.loads((latest / "metrics.json").read_text())
    return run


def flat(mapping: dict) -> dict:
    """``metrics.json`` on one level: ``"notebook.figure"`` -> value."""
    return pd.json_normalize(mapping, sep=".").to_dict("records")[0]


def check(first: str, want: dict, engine: str, got: dict) -> None:
    """Stop unless ``got``'s figures equal ``want``'s."""
    a, b = flat(want), flat(got)
    if set(a) != set(b):
        raise SystemExit(f"{engine} records {sorted(set(a) ^ set(b))} unlike {first}")
    for key, value in a.items():
        other = b[key]
        if isinstance(value, float) and isinstance(other, float):
            if not math.isclose(value, other, rel_tol=1e-6, abs_tol=1e-12):
                raise SystemExit(f"{key}: {first} {value!r}, {engine} {other!r}")
        elif value != other:
            raise SystemExit(f"{key}: {first} {value!r}, {engine} {other!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e6,1e7", help="events, comma-separated")
    parser.add_argument("--engines", default="pandas,duckdb")
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "jl-bench")
    parser.add_argument("--profile", type=Path, help="journey.yaml for the logs (else inferred)")
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    engines = args.engines.split(",")
    rows = []
    for size in (int(float(s)) for s in args.sizes.split(",")):
        analytics.generate_events(args.data, size)
        path = args.data / f"events-{analytics.size_label(size)}.parquet"
        ref = reference(path, pandas=size <= 10_000_000)
        runs = {}
        with tempfile.TemporaryDirectory(dir=args.data) as scratch:
            for engine in engines:
                runs[engine] = report(path, engine, Path(scratch) / engine, args.profile)
                books = ", ".join(
                    f"{k[:2]} {v:.0f} s" for k, v in runs[engine]["notebooks"].items()
                )
                print(
                    f"{size:,} events, {engine}: {runs[engine]['seconds']:.0f} s, "
                    f"{runs[engine]['peak_gb']:.2f} GB (notebooks: {books})",
                    flush=True,
                )
        for engine in engines[1:]:
            check(engines[0], runs[engines[0]]["metrics"], engine, runs[engine]["metrics"])
        for engine, run in runs.items():
            rows.append((size, engine, run, ref))
    print()
    print(
        "| events | engine | jobs | whole run | churn notebook | slowest other | peak memory "
        "| pandas validation | run / validation | DuckDB scan | target |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for size, engine, run, ref in rows:
        seconds, gb = TARGETS.get(size, (None, None))
        verdicts = []
        if seconds:
            verdicts.append(
                f"{seconds // 60} min: {'MET' if run['seconds'] < seconds else 'MISSED'}"
            )
        if gb:
            verdicts.append(f"{gb:g} GB: {'MET' if run['peak_gb'] < gb else 'MISSED'}")
        books = run["notebooks"]
        churn = next((v for k, v in books.items() if k.startswith("04")), math.nan)
        other = max((v for k, v in books.items() if not k.startswith("04")), default=math.nan)
        validate = ref.get("validate")
        ratio = f"{run['seconds'] / validate:.1f}" if validate else "n/a"
        print(
            f"| {size:,} | {engine} | {run['jobs']} | {run['seconds']:.0f} s "
            f"| {churn:.0f} s | {other:.0f} s "
            f"| {run['peak_gb']:.2f} GB | {f'{validate:.1f} s' if validate else 'n/a'} "
            f"| {ratio} "
            f"| {ref['scan']:.2f} s | {'; '.join(verdicts) or '-'} |"
        )


if __name__ == "__main__":
    main()
