"""``journey simulate``, ``validate`` and ``profile``: make a log, check one, say what its
columns and events mean."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

from ..errors import JourneyError
from ..io import read_events, write_table
from ..io.profile import profile
from ..simulator import SimulationParameters, simulate
from ._common import (
    EXIT_OK,
    EXIT_QUARANTINED,
    EXIT_UNUSABLE,
    add_database_options,
    add_profile_hints,
    column_map,
    data_source,
    database_options,
    fail,
    positive_int,
    profile_hints,
    shown,
)


def add_commands(sub: Any) -> None:
    """Add ``simulate``, ``validate`` and ``profile`` to the ``journey`` subcommands."""
    sim = sub.add_parser(
        "simulate",
        help="simulate a touchpoint log with known ground truth",
        description="Simulate customer journeys (see journey_lib.simulator) and write the log.",
    )
    sim.add_argument(
        "--customers",
        type=positive_int,
        default=2000,
        metavar="N",
        help="customers reached (default 2000)",
    )
    sim.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default 0)")
    sim.add_argument("--start", default="2024-01-01", help="first day, UTC (default 2024-01-01)")
    sim.add_argument("--days", type=positive_int, default=365, help="window length in days")
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
    val.add_argument(
        "path",
        type=data_source,
        help="CSV, Parquet or JSON lines, compressed or not; or a database with --table",
    )
    add_database_options(val)
    val.add_argument(
        "--columns",
        type=column_map,
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
    pro.add_argument(
        "path",
        type=data_source,
        help="the log: CSV, TSV, Parquet, JSON lines, Excel; or a database "
        "(postgresql://user@host:port/db, a .duckdb file) with --table or --query",
    )
    add_database_options(pro)
    add_profile_hints(pro)
    pro.add_argument("--sep", help="CSV delimiter (default: guessed from the header)")
    pro.add_argument(
        "--out", type=Path, metavar="FILE.yaml", help="write the profile here (journey.yaml)"
    )
    pro.set_defaults(handler=_profile)


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
    options = ({"sep": args.sep} if args.sep else {}) | database_options(args)
    report = read_events(args.path, columns=args.columns, as_of=args.as_of, **options)
    print(report.summary())
    if args.quarantine is not None:
        write_table(report.quarantine, args.quarantine)
        print(f"quarantined rows written to {args.quarantine}")
    if report.clean.empty:
        fail(f"{shown(args.path)}: no usable row")
        return EXIT_UNUSABLE
    return EXIT_OK if report.ok else EXIT_QUARANTINED


def _profile(args: argparse.Namespace) -> int:
    options = ({"sep": args.sep} if args.sep else {}) | database_options(args)
    found = profile(args.path, **profile_hints(args), **options)
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
