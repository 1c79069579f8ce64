"""data/sample is the simulator's output for its documented seed, byte for byte."""

import gzip
import subprocess
import sys
from pathlib import Path

import pandas as pd

import journey_lib as jl

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
# The command in data/README.md and `make data`.
COMMAND = ["simulate", "--customers", "2000", "--seed", "0"]


def test_regenerating_the_sample_gives_the_same_files(tmp_path):
    journey = Path(sys.executable).parent / "journey"
    subprocess.run(
        [
            journey,
            *COMMAND,
            "--out",
            tmp_path / "events.csv.gz",
            "--customers-out",
            tmp_path / "customers.csv",
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    assert gzip.decompress((tmp_path / "events.csv.gz").read_bytes()) == gzip.decompress(
        (SAMPLE / "events.csv.gz").read_bytes()
    ), "data/sample/events.csv.gz is stale: run `make data` and commit it"
    assert (tmp_path / "customers.csv").read_bytes() == (SAMPLE / "customers.csv").read_bytes()


def test_sample_loads_clean_and_matches_the_simulation():
    events = jl.load_events(SAMPLE / "events.csv.gz")
    expected = jl.simulate(2000, seed=0).events
    pd.testing.assert_frame_equal(events, expected, check_dtype=False)
    assert events["customer_id"].nunique() == 2000
