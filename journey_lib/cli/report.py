"""``journey report`` and ``journey init``: re-run the notebook suite into a dated run
folder, or copy it to edit."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..report import ReportInterrupted, copy_suite, read_parameters, run_report
from ..report.summary import CHANGES_ALERT
from ._common import (
    EXIT_ALERT,
    EXIT_OK,
    add_database_options,
    add_profile_hints,
    data_source,
    database_options,
    fail,
    positive_int,
    profile_hints,
)


def add_commands(sub: Any) -> None:
    """Add ``report`` and ``init`` to the ``journey`` subcommands."""
    rep = sub.add_parser(
        "report",
        help="re-run the notebooks into a dated report folder",
        description="Run every notebook with papermill into OUT/<YYYYMMDD-HHMMSS>/: executed "
        "notebooks, HTML without code, summary.html (what a manager reads first), "
        "metrics.json, manifest.json and index.html; OUT/latest points at it. Parameters are "
        "checked before anything runs; besides the notebooks' own, 'alerts' (thresholds by "
        "headline figure) and 'min_cell' (hide counts below it). Exit 0 when every "
        "notebook ran, 1 when one failed or timed out, 2 when the input is unusable, 3 with "
        "--alert-exit when a headline figure moved beyond its alert threshold or a new change "
        "is at least the size set for 'changes', 143 "
        "or 130 when SIGTERM or Ctrl-C stopped the run (its folder is finished all the same, "
        "but OUT/latest is not moved).",
    )
    rep.add_argument(
        "--params",
        type=Path,
        metavar="FILE.yaml",
        help="parameters as a YAML mapping, NAME: VALUE per line",
    )
    rep.add_argument(
        "-p",
        "--parameter",
        dest="pairs",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a parameter, VALUE read as YAML (repeatable; overrides --params)",
    )
    rep.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAMES",
        help="run only these notebooks: names or number prefixes, comma-separated",
    )
    rep.add_argument(
        "--data",
        type=data_source,
        metavar="PATH",
        help="data file or folder, passed as data_path (default: each notebook's own); or a "
        "database, postgresql://user@host:port/db or a .duckdb file, with --table or "
        "--query: its rows are read once (the password from the URL, PGPASSWORD or "
        ".pgpass, never recorded)",
    )
    add_database_options(rep)
    rep.add_argument(
        "--profile",
        type=Path,
        metavar="FILE.yaml",
        help="the data's profile (journey profile --out); default: inferred from the data "
        "and saved in the run folder as journey.yaml",
    )
    add_profile_hints(rep)
    rep.add_argument(
        "--engine",
        choices=("auto", "pandas", "polars", "duckdb", "spark"),
        help="where the log stays while the notebooks analyse it: pandas, polars, duckdb or "
        "spark; auto (the default) is pandas up to 2,000,000 usable rows and DuckDB above. "
        "The log is read and validated once either way",
    )
    rep.add_argument(
        "--spark-master",
        metavar="URL",
        help="with --engine spark, the master of the notebooks' Spark sessions: local[2], "
        "spark://host:7077, yarn, ... (default: $JOURNEY_SPARK_MASTER, else local[*], every "
        "core here); executors elsewhere must share the system's temporary folder (TMPDIR), "
        "where the log is prepared",
    )
    rep.add_argument(
        "--out",
        type=Path,
        default=Path("reports"),
        metavar="DIR",
        help="where run folders go (default reports)",
    )
    rep.add_argument(
        "--fail-fast",
        action="store_true",
        help="stop at the first failure; the notebooks after it are recorded as skipped "
        "(they run one at a time)",
    )
    rep.add_argument(
        "--timeout",
        type=_positive_seconds,
        default=600.0,
        metavar="S",
        help="seconds each notebook may take, kernel start included (default 600)",
    )
    rep.add_argument(
        "--jobs",
        type=positive_int,
        metavar="N",
        help="notebooks run at once, each in its own kernel (default: the cores, at most "
        "4; 1 with --fail-fast); each holds what it reads of the log, so run fewer for a "
        "log near the memory's size with the pandas engine",
    )
    rep.add_argument(
        "--alert-exit",
        action="store_true",
        help="exit 3 when every notebook ran but a headline figure moved beyond its "
        "threshold in the alerts parameter (e.g. -p 'alerts={churn_rate: 0.02}'), or the "
        "changes notebook found a change the last run did not report, of at least the "
        "relative size set for 'changes' (e.g. -p 'alerts={changes: 0.5}'), so cron mails it",
    )
    rep.add_argument(
        "--notebooks",
        type=Path,
        metavar="DIR",
        help="folder of the notebooks to run (default: the suite installed with journey-lab; "
        "journey init copies it to edit)",
    )
    rep.set_defaults(handler=_report)

    ini = sub.add_parser(
        "init",
        help="copy the notebook suite into a folder, to edit and run it",
        description="Copy the notebooks installed with journey-lab into DIR (made when "
        "missing): DIR/notebooks/ holds the notebooks and their README, DIR/data/ the sample "
        "log they read by default and its data dictionary, DIR/journey.yaml the sample's log "
        "profile to edit for your own log. Run the copies with: journey "
        "report --notebooks DIR/notebooks. Exit 2, writing nothing, when DIR already holds "
        "notebooks or the suite's files (unless --force).",
    )
    ini.add_argument("folder", type=Path, metavar="DIR", help="where the suite goes")
    ini.add_argument(
        "--force",
        action="store_true",
        help="overwrite the suite's files in DIR (other files are left alone)",
    )
    ini.set_defaults(handler=_init)


def _report(args: argparse.Namespace) -> int:
    parameters = read_parameters(args.params, args.pairs)
    only = [name.strip() for item in args.only for name in item.split(",") if name.strip()]
    try:
        result = run_report(
            args.notebooks,
            parameters=parameters,
            only=only or None,
            data=args.data,
            profile=args.profile,
            hints=profile_hints(args),
            out=args.out,
            fail_fast=args.fail_fast,
            timeout=args.timeout,
            progress=lambda line: print(line, flush=True),
            engine=args.engine,
            jobs=args.jobs,
            spark_master=args.spark_master,
            **database_options(args),
        )
    except ReportInterrupted as stopped:
        print(stopped.result.summary())
        fail(str(stopped))
        return stopped.exit_code
    print(result.summary())
    stopped = [f"{name} ({status})" for name, status in result.statuses.items() if status != "ok"]
    summary = result.manifest.get("summary") or {}
    if stopped:
        fail(f"not every notebook ran: {', '.join(stopped)}; see {result.folder / 'index.html'}")
    elif summary.get("status") == "failed":
        fail(f"the summary could not be built: {summary['reason']}")
    if result.exit_code == EXIT_OK and args.alert_exit and result.alerts:
        moved = ", ".join(a["figure"] for a in result.alerts if a["figure"] != CHANGES_ALERT)
        new = [a["sentence"] for a in result.alerts if a["figure"] == CHANGES_ALERT]
        said = [f"{moved} moved beyond the alert threshold"] if moved else []
        said += [f"new change: {sentence}" for sentence in new]
        print(
            f"journey: alert: {'; '.join(said)}; see {result.folder / 'summary.html'}",
            file=sys.stderr,
        )
        return EXIT_ALERT
    return result.exit_code


def _init(args: argparse.Namespace) -> int:
    copied = copy_suite(args.folder, force=args.force)
    notebooks, data = args.folder / "notebooks", args.folder / "data"
    count = sum(path.suffix == ".ipynb" for path in copied)
    print(f"copied {count} notebooks to {notebooks} and the sample data they read to {data}")
    print(f"wrote {args.folder / 'journey.yaml'}, the sample's profile: edit it for your own log")
    print(f"run them with: journey report --notebooks {notebooks} [--profile journey.yaml]")
    return EXIT_OK


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text}")
    return value
