"""How long inferring a log profile takes, against reading the same log, in the same run.

    python benchmarks/profile.py            # 1M and 10M events
    python benchmarks/profile.py --sizes 2e5 --repeat 1   # smoke test

``journey report`` profiles its data once, then every notebook reads it (``jl.read_events``
through the profile: parse, validate, sort). The reference is that read; the ratio
profile / read says what profiling adds to a report of five such reads.

The log is an export as another tool writes it: a CSV of ``user_id,event,timestamp`` (text
ids, ISO times, twelve event names), synthetic (numpy: 16 events per customer, uniform
times over 2024, a journey-shaped mix of events). Each measurement runs in a fresh process,
so its peak resident memory (``ru_maxrss``) is its own, data included; the time is the best
of ``--repeat`` runs. Before timing, the profile is checked to name the columns and the
conversion the log was made with.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

EVENTS = (
    "home",
    "search",
    "catalog",
    "product_view",
    "wishlist_add",
    "add_to_cart",
    "cart",
    "checkout_details",
    "payment_done",
    "support_chat",
    "write_review",
    "account_page",
)
WEIGHTS = np.array([10, 8, 12, 20, 3, 6, 5, 3, 2, 2, 1, 3], dtype=float)

MEASURE = """
import json, resource, sys, time
import journey_lib as jl
path, what = sys.argv[1], sys.argv[2]
start = time.perf_counter()
if what == "profile":
    p = jl.profile(path)
    check = [p.column("customer_id"), p.column("event"), p.column("timestamp"), p.conversion]
else:
    log = jl.read_events(path, columns={"user_id": "customer_id"}).clean
    check = [len(log)]
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_mb": peak, "check": check}))
"""


def write_log(path: Path, n_events: int, seed: int = 0) -> None:
    """A synthetic export of about ``n_events`` rows, written as CSV."""
    rng = np.random.default_rng(seed)
    customers = max(n_events // 16, 1)
    ids = rng.integers(0, customers, n_events)
    # Earlier journey steps come earlier in the year: the funnel has an order to find.
    event = rng.choice(len(EVENTS), n_events, p=WEIGHTS / WEIGHTS.sum())
    base = pd.Timestamp("2024-01-01").value // 1000
    offset = (rng.uniform(0, 330, n_events) + event * 2.5) * 86_400_000_000
    times = pd.to_datetime(base + offset.astype("int64"), unit="us")
    frame = pd.DataFrame(
        {
            "user_id": pd.Series(ids).map("u{:07d}".format),
            "event": np.asarray(EVENTS)[event],
            "timestamp": times.strftime("%Y-%m-%dT%H:%M:%S"),
        }
    )
    frame.to_csv(path, index=False)


def measure(path: Path, what: str, repeat: int) -> dict:
    runs = []
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, "-c", MEASURE, str(path), what],
            check=True,
            capture_output=True,
            text=True,
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    best = min(runs, key=lambda r: r["seconds"])
    return {**best, "peak_mb": max(r["peak_mb"] for r in runs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=float, default=[1e6, 1e7])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", type=Path, default=None, help="folder for the logs")
    args = parser.parse_args()
    folder = args.data or Path(tempfile.mkdtemp(prefix="journey-profile-bench-"))
    print("| events | read (reference) | profile | profile / read | peak read | peak profile |")
    print("|---:|---:|---:|---:|---:|---:|")
    for size in args.sizes:
        n = int(size)
        path = folder / f"export_{n}.csv"
        if not path.exists():
            write_log(path, n)
        profiled = measure(path, "profile", 1)
        assert profiled["check"] == ["user_id", "event", "timestamp", "payment_done"], profiled
        read = measure(path, "read", args.repeat)
        profiled = measure(path, "profile", args.repeat)
        print(
            f"| {n:,} | {read['seconds']:.2f} s | {profiled['seconds']:.2f} s | "
            f"{profiled['seconds'] / read['seconds']:.2f} | {read['peak_mb']:,.0f} MB | "
            f"{profiled['peak_mb']:,.0f} MB |",
            flush=True,
        )


if __name__ == "__main__":
    main()
