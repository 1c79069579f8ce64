"""The ``journey`` command.

Exit codes: 0 success (``validate``: every row clean), 1 ``validate`` quarantined rows or a
``report`` notebook failed, 2 unusable input or a usage error. Errors are one line on stderr;
``--traceback`` shows the full trace of an unexpected failure.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .churn.commands import add_commands as add_churn_commands
from .errors import JourneyError
from .io import read_events, write_table
from .io.profile import profile
from .report import copy_suite, read_parameters, run_report
from .simulator import SimulationParameters, simulate

EXIT_OK, EXIT_QUARANTINED, EXIT_UNUSABLE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 2, like every other error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_UNUSABLE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``journey`` and its subcommands."""
    parser = _Parser(
        prog="journey",
        description="Customer-journey analytics and analytical CRM from the command line.",
    )
    parser.add_argument("--version", action="version", version=f"journey-lab {__version__}")
    parser.add_argument(
        "--traceback", action="store_true", help="show the full traceback of unexpected errors"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    sim = sub.add_parser(
        "simulate",
        help="simulate a touchpoint log with known ground truth",
        description="Simulate customer journeys (see journey_lib.simulator) and write the log.",
    )
    sim.add_argument(
        "--customers",
        type=_positive_int,
        default=2000,
        metavar="N",
        help="customers reached (default 2000)",
    )
    sim.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default 0)")
    sim.add_argument("--start", default="2024-01-01", help="first day, UTC (default 2024-01-01)")
    sim.add_argument("--days", type=_positive_int, default=365, help="window length in days")
    sim.add_argument(
        "--out",
        required=True,
        type=Path,
        metavar="PATH",
        help="events file; format from the extension: .parquet, .csv, .csv.gz, .jsonl",
    )
    sim.add_argument(
        "--customers-out", type=Path, metavar="PATH", help="also write the customer table here"
    )
    sim.add_argument(
        "--truth-out",
        type=Path,
        metavar="PATH",
        help="also write the per-customer ground truth here",
    )
    sim.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a simulation parameter, e.g. keeping_promises=0.6 (repeatable; mappings as JSON)",
    )
    sim.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar (default: from 100,000 customers)",
    )
    sim.set_defaults(handler=_simulate)

    val = sub.add_parser(
        "validate",
        help="check a touchpoint log and report unusable rows",
        description="Validate a touchpoint log. Exit 0 when every row is clean, 1 when rows "
        "were quarantined, 2 when the input is unusable.",
    )
    val.add_argument("path", type=Path, help="CSV, Parquet or JSON lines, compressed or not")
    val.add_argument(
        "--columns",
        type=_column_map,
        default=None,
        metavar="OLD=NEW,...",
        help="rename columns to canonical names, e.g. user=customer_id,ts=timestamp",
    )
    val.add_argument(
        "--quarantine",
        type=Path,
        metavar="OUT",
        help="write quarantined rows (with their reason) here",
    )
    val.add_argument("--as-of", metavar="DATE", help="quarantine rows timed after this")
    val.add_argument("--sep", help="CSV delimiter (default: guessed from the header)")
    val.set_defaults(handler=_validate)

    pro = sub.add_parser(
        "profile",
        help="say what the columns and events of a log mean (a log profile)",
        description="Inspect a log (touchpoints, a process log, transactions or a customer "
        "table) and print what each column and event is for, with the evidence: the "
        "customer, time and event columns, the conversion, the stages, a default funnel and "
        "period, cutoff and horizon. --out writes it as YAML for journey report --profile. "
        "Exit 2 when no column can be the customer or the time.",
    )
    pro.add_argument("path", type=Path, help="the log: CSV, TSV, Parquet, JSON lines, Excel")
    _profile_hints(pro)
    pro.add_argument("--sep", help="CSV delimiter (default: guessed from the header)")
    pro.add_argument(
        "--out", type=Path, metavar="FILE.yaml", help="write the profile here (journey.yaml)"
    )
    pro.set_defaults(handler=_profile)

    rep = sub.add_parser(
        "report",
        help="re-run the notebooks into a dated report folder",
        description="Run every notebook with papermill into OUT/<YYYYMMDD-HHMMSS>/: executed "
        "notebooks, HTML without code, metrics.json, manifest.json and index.html; OUT/latest "
        "points at it. Parameters are checked before anything runs. Exit 0 when every "
        "notebook ran, 1 when one failed or timed out, 2 when the input is unusable.",
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
        type=Path,
        metavar="PATH",
        help="data file or folder, passed as data_path (default: each notebook's own)",
    )
    rep.add_argument(
        "--profile",
        type=Path,
        metavar="FILE.yaml",
        help="the data's profile (journey profile --out); default: inferred from the data "
        "and saved in the run folder as journey.yaml",
    )
    _profile_hints(rep)
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
        help="stop at the first failure; the notebooks after it are recorded as skipped",
    )
    rep.add_argument(
        "--timeout",
        type=_positive_seconds,
        default=600.0,
        metavar="S",
        help="seconds each notebook may take, kernel start included (default 600)",
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
    add_churn_commands(sub, _Parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``journey`` with ``argv`` (default: the command line) and return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_UNUSABLE
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _warn
            return args.handler(args)
    except JourneyError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc))
    except KeyboardInterrupt:
        _fail("interrupted")
    except Exception as exc:
        if args.traceback:
            raise
        _fail(f"unexpected {type(exc).__name__}: {exc} (rerun with --traceback for details)")
    return EXIT_UNUSABLE


def _simulate(args: argparse.Namespace) -> int:
    drivers = dict(_parameter(item) for item in args.set)
    sim = simulate(
        args.customers,
        seed=args.seed,
        start=args.start,
        days=args.days,
        progress=args.progress,
        **drivers,
    )
    write_table(sim.events, args.out)
    written = [f"{len(sim.events):,} events to {args.out}"]
    if args.customers_out:
        write_table(sim.customers, args.customers_out)
        written.append(f"{len(sim.customers):,} customers to {args.customers_out}")
    if args.truth_out:
        write_table(sim.truth.customers, args.truth_out)
        written.append(f"ground truth to {args.truth_out}")
    print(f"simulated seed {args.seed}: " + "; ".join(written))
    return EXIT_OK


def _validate(args: argparse.Namespace) -> int:
    options = {"sep": args.sep} if args.sep else {}
    report = read_events(args.path, columns=args.columns, as_of=args.as_of, **options)
    print(report.summary())
    if args.quarantine is not None:
        write_table(report.quarantine, args.quarantine)
        print(f"quarantined rows written to {args.quarantine}")
    if report.clean.empty:
        _fail(f"{args.path}: no usable row")
        return EXIT_UNUSABLE
    return EXIT_OK if report.ok else EXIT_QUARANTINED


def _report(args: argparse.Namespace) -> int:
    parameters = read_parameters(args.params, args.pairs)
    only = [name.strip() for item in args.only for name in item.split(",") if name.strip()]
    result = run_report(
        args.notebooks,
        parameters=parameters,
        only=only or None,
        data=args.data,
        profile=args.profile,
        hints=_hints(args),
        out=args.out,
        fail_fast=args.fail_fast,
        timeout=args.timeout,
        progress=lambda line: print(line, flush=True),
    )
    print(result.summary())
    stopped = [f"{name} ({status})" for name, status in result.statuses.items() if status != "ok"]
    if stopped:
        _fail(f"not every notebook ran: {', '.join(stopped)}; see {result.folder / 'index.html'}")
    return result.exit_code


def _init(args: argparse.Namespace) -> int:
    copied = copy_suite(args.folder, force=args.force)
    notebooks, data = args.folder / "notebooks", args.folder / "data"
    count = sum(path.suffix == ".ipynb" for path in copied)
    print(f"copied {count} notebooks to {notebooks} and the sample data they read to {data}")
    print(f"wrote {args.folder / 'journey.yaml'}, the sample's profile: edit it for your own log")
    print(f"run them with: journey report --notebooks {notebooks} [--profile journey.yaml]")
    return EXIT_OK


def _profile_hints(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--columns",
        type=_column_map,
        default=None,
        metavar="OLD=ROLE,...",
        help="name the columns' roles, e.g. user=customer_id,ts=timestamp (roles: "
        "customer_id, timestamp, event, channel, value, session_id, ...)",
    )
    parser.add_argument(
        "--conversion", metavar="EVENT", help="the event that is a conversion (purchase, ...)"
    )


def _hints(args: argparse.Namespace) -> dict[str, Any]:
    hints = {"columns": args.columns, "conversion": args.conversion}
    return {name: value for name, value in hints.items() if value is not None}


def _profile(args: argparse.Namespace) -> int:
    options = {"sep": args.sep} if args.sep else {}
    found = profile(args.path, **_hints(args), **options)
    print(found)
    if args.out is not None:
        found.to_yaml(args.out)
        print(f"profile written to {args.out}")
    return EXIT_OK


def _parameter(item: str) -> tuple[str, Any]:
    name, sep, raw = item.partition("=")
    fields = {f.name for f in dataclasses.fields(SimulationParameters)}
    if not sep or name not in fields:
        raise JourneyError(
            f"--set {item!r}: expected NAME=VALUE with NAME one of {', '.join(sorted(fields))}"
        )
    try:
        return name, json.loads(raw)
    except json.JSONDecodeError:
        raise JourneyError(f"--set {item!r}: {raw!r} is not a number or JSON value") from None


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text}")
    return value


def _column_map(text: str) -> dict[str, str]:
    pairs = [p for p in text.split(",") if p.strip()]
    if not pairs or any("=" not in p for p in pairs):
        raise argparse.ArgumentTypeError(f"{text!r}: expected OLD=NEW pairs separated by commas")
    return {old.strip(): new.strip() for old, new in (p.split("=", 1) for p in pairs)}


def _warn(message: Warning | str, *_: Any, **__: Any) -> None:
    """Warnings as one line on stderr, like errors; the data was still usable."""
    print(f"journey: warning: {message}", file=sys.stderr)


def _fail(message: str) -> None:
    print(f"journey: error: {message}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
