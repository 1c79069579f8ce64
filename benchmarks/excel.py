"""Which reader journey-lab uses for Excel workbooks: calamine or openpyxl, timed on one file.

    python benchmarks/excel.py                 # 100,000 rows, best of 3
    python benchmarks/excel.py --rows 20000 --repeat 5

Writes a workbook shaped like a CRM export (text ids with leading zeros, date-time cells,
event and channel names, amounts with gaps) into a temporary folder, then reads it with
``pandas.read_excel(engine="calamine")`` and ``engine="openpyxl"``, checks first that both
give the same frame (pandas' ``assert_frame_equal``), then times each and reports its best
time and peak memory (measured in a child process each, so one reader's allocations do not
count against the other; the peak includes importing pandas and pyarrow, about 105 MB here).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

READ = """
import json, sys, time
import pandas as pd
path, engine, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
times = []
for _ in range(repeat):
    start = time.perf_counter()
    frame = pd.read_excel(path, engine=engine, dtype={"customer_id": "str"})
    times.append(time.perf_counter() - start)
frame.to_parquet(sys.argv[4])
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork and exec.
status = open("/proc/self/status").read().split("VmHWM:")[1]
peak = int(status.split()[0]) * 1024
print(json.dumps({"best": min(times), "peak": peak, "rows": len(frame)}))
"""


def workbook(rows: int, path: Path) -> None:
    """A CRM-like export of ``rows`` touchpoints, written with openpyxl."""
    rng = np.random.default_rng(0)
    events = np.array(["ad_view", "site_visit", "signup", "purchase", "support_ticket"])
    channels = np.array(["search", "email", "social", "store", None], dtype=object)
    start = pd.Timestamp("2024-01-01")
    frame = pd.DataFrame(
        {
            "customer_id": [f"{i:06d}" for i in rng.integers(0, rows // 5, rows)],
            "timestamp": start + pd.to_timedelta(rng.integers(0, 365 * 86_400, rows), unit="s"),
            "event": events[rng.integers(0, len(events), rows)],
            "channel": channels[rng.integers(0, len(channels), rows)],
            "value": np.where(rng.random(rows) < 0.2, rng.gamma(2.0, 30.0, rows).round(2), np.nan),
        }
    )
    frame.to_excel(path, index=False, engine="openpyxl")


def measure(path: Path, engine: str, repeat: int, out: Path) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", READ, str(path), engine, str(repeat), str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.xlsx"
        start = time.perf_counter()
        workbook(args.rows, path)
        print(
            f"wrote {args.rows:,} rows, {path.stat().st_size / 1e6:.1f} MB, in "
            f"{time.perf_counter() - start:.1f} s"
        )
        # The two must agree before their times mean anything: one read each, compared.
        frames = {}
        for engine in ("calamine", "openpyxl"):
            measure(path, engine, 1, Path(folder) / f"{engine}.pq")
            frames[engine] = pd.read_parquet(Path(folder) / f"{engine}.pq")
        pd.testing.assert_frame_equal(frames["calamine"], frames["openpyxl"])
        results = {
            engine: measure(path, engine, args.repeat, Path(folder) / f"{engine}.pq")
            for engine in frames
        }
    base = results["openpyxl"]["best"]
    print("| reader | best of", args.repeat, "| peak memory | ratio to openpyxl |")
    print("|---|---|---|---|")
    for engine, got in results.items():
        print(
            f"| {engine} | {got['best']:.2f} s | {got['peak'] / 1e6:.0f} MB | "
            f"{got['best'] / base:.2f} |"
        )


if __name__ == "__main__":
    main()
