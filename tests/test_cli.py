"""The `journey` command, run as users run it: a subprocess, exit codes and one-line errors."""

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import journey_lib as jl

JOURNEY = Path(sys.executable).parent / "journey"


def journey(*args, cwd=None):
    return subprocess.run(
        [str(JOURNEY), *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def assert_one_line_error(result, code, fragment):
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("journey"), result.stderr
    assert fragment in lines[0]


def test_version_and_help():
    version = journey("--version")
    assert version.returncode == 0 and version.stdout.strip() == f"journey-lab {jl.__version__}"
    helped = journey("--help")
    assert helped.returncode == 0
    assert "simulate" in helped.stdout and "validate" in helped.stdout
    for command in ("simulate", "validate"):
        assert journey(command, "--help").returncode == 0


def test_the_command_leaves_out_jsonschema_s_iri_grammar_and_a_caller_s_modules_alone():
    """`journey` as a command keeps jsonschema from building rfc3987_syntax's grammar (1.3 s
    of every report's start); main() called from Python with its own arguments changes
    nothing in the caller's process."""
    code = """
import sys
from journey_lib.cli import main
sys.argv = ["journey", "--version"]
try:
    main()
except SystemExit:
    pass
import jsonschema
print("iri" in jsonschema.FormatChecker.checkers, sys.modules["rfc3987_syntax"])
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.split()[-2:] == ["False", "None"], done.stderr
    called = code.replace('sys.argv = ["journey", "--version"]\n', "").replace(
        "main()", 'main(["--version"])'
    )
    called = called.replace(
        'sys.modules["rfc3987_syntax"]', 'sys.modules["rfc3987_syntax"].__name__'
    )
    done = subprocess.run([sys.executable, "-c", called], capture_output=True, text=True)
    # jupyter-events installs rfc3987-syntax, so a caller's jsonschema has the format.
    assert done.stdout.split()[-2:] == ["True", "rfc3987_syntax"], done.stderr


def test_no_command_prints_help_and_exits_2():
    result = journey()
    assert result.returncode == 2 and "usage: journey" in result.stderr


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".csv.gz", ".jsonl"])
def test_simulate_writes_the_same_log_as_the_function(tmp_path, suffix):
    out = tmp_path / f"events{suffix}"
    result = journey(
        "simulate",
        "--customers",
        150,
        "--seed",
        3,
        "--out",
        out,
        "--customers-out",
        tmp_path / "customers.csv",
    )
    assert result.returncode == 0, result.stderr
    expected = jl.simulate(150, seed=3)
    assert f"{len(expected.events):,} events" in result.stdout
    written = jl.load_events(out)
    pd.testing.assert_frame_equal(
        written[list(jl.CANONICAL_COLUMNS)], expected.events[list(jl.CANONICAL_COLUMNS)]
    )
    assert len(pd.read_csv(tmp_path / "customers.csv")) == 150


def test_simulate_passes_drivers_through(tmp_path):
    out = tmp_path / "e.parquet"
    truth = tmp_path / "truth.parquet"
    result = journey(
        "simulate",
        "--customers",
        300,
        "--seed",
        1,
        "--out",
        out,
        "--truth-out",
        truth,
        "--set",
        "keeping_promises=0.2",
        "--set",
        'plan_churn={"basic": 0.5, "plus": 0, "premium": 0}',
    )
    assert result.returncode == 0, result.stderr
    expected = jl.simulate(
        300, seed=1, keeping_promises=0.2, plan_churn={"basic": 0.5, "plus": 0, "premium": 0}
    )
    pd.testing.assert_series_equal(
        pd.read_parquet(truth)["churn_hazard"], expected.truth.customers["churn_hazard"]
    )


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--customers", "0"], "must be at least 1"),
        (["--set", "loyalty=1"], "expected NAME=VALUE with NAME one of"),
        (["--set", "keeping_promises=high"], "is not a number or JSON value"),
        (["--set", "keeping_promises=2"], "must be a probability"),
    ],
)
def test_simulate_usage_errors_are_one_line(tmp_path, args, fragment):
    result = journey("simulate", "--out", tmp_path / "x.csv", *args)
    assert_one_line_error(result, 2, fragment)


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_validate_clean_file_exits_0(tmp_path):
    path = write(
        tmp_path,
        "ok.csv",
        "customer_id,timestamp,event\n1,2024-01-01,ad_view\n"
        "1,2024-01-02,purchase\n1,2024-01-02,purchase\n",
    )
    result = journey("validate", path)
    assert result.returncode == 0, result.stderr
    assert "clean                 2 rows" in result.stdout
    assert "duplicates            1 rows" in result.stdout


def test_validate_quarantine_exits_1_and_writes_the_rows(tmp_path):
    path = write(
        tmp_path,
        "bad.csv",
        "user,ts,event\n1,2024-01-01,ad_view\n,2024-01-02,x\n"
        "2,someday,purchase\n3,2024-01-03,a,b\n",
    )
    out = tmp_path / "quarantine.csv"
    result = journey(
        "validate", path, "--columns", "user=customer_id,ts=timestamp", "--quarantine", out
    )
    assert result.returncode == 1, result.stderr
    assert "missing customer id" in result.stdout and "unparseable timestamp" in result.stdout
    quarantined = pd.read_csv(out)
    assert quarantined["reason"].tolist() == [
        "missing customer id",
        "unparseable timestamp",
        "malformed line: expected 3 fields, found 4: 3,2024-01-03,a,b",
    ]
    assert quarantined.columns.tolist() == ["user", "ts", "event", "reason"]


def test_validate_as_of_quarantines_the_future(tmp_path):
    path = write(tmp_path, "f.csv", "customer_id,timestamp,event\n1,2024-01-01,a\n1,2030-01-01,b\n")
    result = journey("validate", path, "--as-of", "2025-01-01")
    assert result.returncode == 1 and "timestamp after as_of" in result.stdout


@pytest.mark.parametrize(
    ("name", "content", "args", "fragment"),
    [
        ("missing.csv", None, [], "no such file"),
        ("empty.csv", "", [], "is empty"),
        ("header.csv", "customer_id,timestamp,event\n", [], "no data rows"),
        ("cols.csv", "id,when\n1,2024-01-01\n", [], "missing required column"),
        ("semi.csv", "customer_id;timestamp;event\n1;2024-01-01;a\n", ["--sep", ","], "sep=';'"),
        ("none.csv", "customer_id,timestamp,event\n,,\n", [], "no usable row"),
        ("x.ods", "hello", [], "cannot tell the format"),
        ("x.xlsx", "hello", [], "could not read"),
    ],
)
def test_validate_unusable_input_exits_2(tmp_path, name, content, args, fragment):
    path = tmp_path / name if content is None else write(tmp_path, name, content)
    result = journey("validate", path, *args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert fragment in result.stderr


def test_validate_binary_garbage_exits_2(tmp_path):
    path = tmp_path / "garbage.parquet"
    path.write_bytes(bytes(range(256)) * 64)
    assert_one_line_error(journey("validate", path), 2, "could not read")


def test_validate_bad_columns_argument(tmp_path):
    path = write(tmp_path, "ok.csv", "customer_id,timestamp,event\n1,2024-01-01,a\n")
    assert_one_line_error(journey("validate", path, "--columns", "nonsense"), 2, "OLD=NEW")
