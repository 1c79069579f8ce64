"""What every ``journey`` verb shares: exit codes, the argument parser's one-line usage
errors, the error line, and the profile hints that ``profile`` and ``report`` both take."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from ..io.database import is_database_url, redact

EXIT_OK, EXIT_QUARANTINED, EXIT_UNUSABLE = 0, 1, 2
#: ``journey report --alert-exit``: the run went well and a headline figure moved beyond
#: its alert threshold (cron mails what a job prints when it exits non-zero).
EXIT_ALERT = 3


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 2, like every other error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        # An argument it quotes may be a database URL holding a password.
        message = re.sub(r"(?i)postgres(?:ql)?://\S+", lambda m: redact(m.group()), message)
        self.exit(EXIT_UNUSABLE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def fail(message: str) -> None:
    """Say what went wrong, in one line on stderr."""
    print(f"journey: error: {message}", file=sys.stderr)


def usage(parser: argparse.ArgumentParser) -> int:
    """A verb given without its subcommand: its help on stderr, and the usage exit code."""
    parser.print_help(sys.stderr)
    return EXIT_UNUSABLE


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    return whole_number(text, minimum=1)


def whole_number(text: str, minimum: int = 0) -> int:
    """``text`` as a whole number of at least ``minimum``, for an argparse type."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
    return value


def column_map(text: str) -> dict[str, str]:
    """``OLD=NEW,...`` as a mapping (an argparse type).

    Examples
    --------
    >>> column_map("user=customer_id, ts=timestamp")
    {'user': 'customer_id', 'ts': 'timestamp'}
    """
    pairs = [p for p in text.split(",") if p.strip()]
    if not pairs or any("=" not in p for p in pairs):
        raise argparse.ArgumentTypeError(f"{text!r}: expected OLD=NEW pairs separated by commas")
    return {old.strip(): new.strip() for old, new in (p.split("=", 1) for p in pairs)}


def add_profile_hints(parser: argparse.ArgumentParser) -> None:
    """``--columns`` and ``--conversion``: what a user says about a log's roles."""
    parser.add_argument(
        "--columns",
        type=column_map,
        default=None,
        metavar="OLD=ROLE,...",
        help="name the columns' roles, e.g. user=customer_id,ts=timestamp (roles: "
        "customer_id, timestamp, event, channel, value, session_id, ...)",
    )
    parser.add_argument(
        "--conversion", metavar="EVENT", help="the event that is a conversion (purchase, ...)"
    )


def profile_hints(args: argparse.Namespace) -> dict[str, Any]:
    """The hints of :func:`add_profile_hints` the user gave, as keyword arguments of
    :func:`journey_lib.profile`."""
    hints = {"columns": args.columns, "conversion": args.conversion}
    return {name: value for name, value in hints.items() if value is not None}


def data_source(text: str) -> Path | str:
    """An argparse type for data: a path, or a PostgreSQL URL kept as text (a path would
    fold its ``//``).

    Examples
    --------
    >>> data_source("postgresql://ana@db/crm"), data_source("log.csv")
    ('postgresql://ana@db/crm', PosixPath('log.csv'))
    """
    return text if is_database_url(text) else Path(text)


def add_database_options(parser: argparse.ArgumentParser) -> None:
    """``--table`` and ``--query``: the rows of a database given as the data."""
    parser.add_argument(
        "--table",
        metavar="NAME",
        help="with a database as the data (postgresql://user@host:port/db, or a .duckdb "
        "file): the table to read (schema.table too)",
    )
    parser.add_argument(
        "--query", metavar="SQL", help="with a database as the data: one SELECT to read"
    )


def database_options(args: argparse.Namespace) -> dict[str, str]:
    """The ``table`` and ``query`` the user gave (see :func:`add_database_options`)."""
    given = {"table": args.table, "query": args.query}
    return {name: value for name, value in given.items() if value}


def shown(where: Path | str) -> str:
    """A data path or URL as it may be printed: a URL without its password."""
    return redact(where) if is_database_url(where) else str(where)
