"""What a run's summary step costs, against reading the same log, in the same run.

    python benchmarks/summary.py                 # 1M and 5M events
    python benchmarks/summary.py --sizes 2e5 --repeat 1   # smoke test

After the notebooks, ``journey report`` builds ``summary.html``: it reads the log once more
with the run's profile, computes the headline figures (``jl.report.headline``: lifecycle,
funnel trend, churn rate, retention, revenue), draws four figures and writes the page. The
reference is the read alone (``jl.report.open_data``, as every notebook does), so the ratio
summary / read says what the page adds to a run; and ``headline`` alone is held against a
pandas reference that computes only its simplest figures (active and new customers and
revenue per month) by plain group-bys.

The log is the bundled sample's customers over and over (ids shifted): simulated touchpoints
with the sample's profile. Each measurement runs in a fresh process, so its peak resident
memory (``ru_maxrss``) is its own, data included; the time is the best of ``--repeat`` runs.
Before timing, headline's active and new customers and revenue are checked to equal the
reference's.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample" / "events.csv.gz"

MEASURE = """
import json, resource, sys, time
from pathlib import Path
import journey_lib as jl
from journey_lib.report.headlines import headline
from journey_lib.report.summary import build_summary
from journey_lib.report.summary_page import summary_html
path, what, out = sys.argv[1], sys.argv[2], Path(sys.argv[3])
check = None
if what in ("headline", "reference"):
    data = jl.report.open_data(path)
    events, profile = data.events, data.profile
start = time.perf_counter()
if what == "read":
    data = jl.report.open_data(path)
    check = len(data.events)
elif what == "summary":
    folder = out / "reports" / "20261205-060000"
    folder.mkdir(parents=True, exist_ok=True)
    summary = build_summary(folder, data=path, profile=None)
    (folder / "summary.html").write_text(summary_html(summary), encoding="utf-8")
    check = len(summary.figures)
elif what == "headline":
    table = headline(events, profile=profile).table.set_index("figure")
    check = [float(table.loc[k, "value"]) for k in ("active_customers", "new_customers", "revenue")]
else:
    month = events["timestamp"].dt.tz_localize(None).dt.to_period("M")
    first = month.groupby(events["customer_id"]).transform("min")
    active = events.groupby(month)["customer_id"].nunique()
    new = events.loc[month == first].groupby(month)["customer_id"].nunique()
    revenue = events.groupby(month)["value"].sum()
    last = active.index[-2]  # the latest complete month (the log ends inside the last one)
    check = [float(active[last]), float(new[last]), float(revenue[last])]
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_mb": peak, "check": check}))
"""


def write_log(path: Path, n_events: int) -> None:
    """The sample's customers, copied with shifted ids until the log has ``n_events`` rows."""
    sample = pd.read_csv(SAMPLE)
    copies = -(-n_events // len(sample))
    shift = int(sample["customer_id"].max()) + 1
    log = pd.concat(
        [sample.assign(customer_id=sample["customer_id"] + k * shift) for k in range(copies)],
        ignore_index=True,
    ).head(n_events)
    log.to_parquet(path)


def measure(path: Path, what: str, repeat: int, out: Path) -> dict:
    runs = []
    for _ in range(repeat):
        done = subprocess.run(
            [sys.executable, "-c", MEASURE, str(path), what, str(out)],
            check=True,
            capture_output=True,
            text=True,
        )
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    best = min(runs, key=lambda r: r["seconds"])
    return {**best, "peak_mb": max(r["peak_mb"] for r in runs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=float, default=[1e6, 5e6])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", type=Path, default=None, help="folder for the logs")
    args = parser.parse_args()
    folder = args.data or Path(tempfile.mkdtemp(prefix="journey-summary-bench-"))
    print(
        "| events | read (reference) | summary step | summary / read | peak read | "
        "peak summary | headline | pandas group-bys (reference) | ratio |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size in args.sizes:
        n = int(size)
        path = folder / f"events_{n}.parquet"
        if not path.exists():
            write_log(path, n)
        mine = measure(path, "headline", 1, folder)
        reference = measure(path, "reference", 1, folder)
        if mine["check"] != reference["check"]:
            sys.exit(f"headline {mine['check']} != reference {reference['check']}")
        read = measure(path, "read", args.repeat, folder)
        summary = measure(path, "summary", args.repeat, folder)
        mine = measure(path, "headline", args.repeat, folder)
        reference = measure(path, "reference", args.repeat, folder)
        print(
            f"| {n:,} | {read['seconds']:.2f} s | {summary['seconds']:.2f} s | "
            f"{summary['seconds'] / read['seconds']:.2f} | {read['peak_mb']:,.0f} MB | "
            f"{summary['peak_mb']:,.0f} MB | {mine['seconds']:.2f} s | "
            f"{reference['seconds']:.2f} s | {mine['seconds'] / reference['seconds']:.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
