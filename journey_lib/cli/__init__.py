"""The ``journey`` command.

Exit codes: 0 success (``validate``: every row clean), 1 ``validate`` quarantined rows or a
``report`` notebook failed, 2 unusable input or a usage error. Errors are one line on stderr;
``--traceback`` shows the full trace of an unexpected failure.

One module per group of verbs: :mod:`~journey_lib.cli.data` (``simulate``, ``validate``,
``profile``), :mod:`~journey_lib.cli.report` (``report``, ``init``) and
:mod:`~journey_lib.cli.churn` (``churn train|score|evaluate``); each adds its subcommands
to the parser built here.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Sequence
from typing import Any

from .. import __version__
from ..errors import JourneyError
from . import churn, data, report
from ._common import EXIT_OK, EXIT_QUARANTINED, EXIT_UNUSABLE, Parser, fail

__all__ = ["EXIT_OK", "EXIT_QUARANTINED", "EXIT_UNUSABLE", "build_parser", "main"]


def build_parser() -> Parser:
    """The argument parser of ``journey`` and its subcommands.

    Examples
    --------
    >>> parser = build_parser()
    >>> parser.parse_args(["churn", "score", "m.skops", "log.csv", "--out", "s.csv"]).reasons
    0
    """
    parser = Parser(
        prog="journey",
        description="Customer-journey analytics and analytical CRM from the command line.",
    )
    parser.add_argument("--version", action="version", version=f"journey-lab {__version__}")
    parser.add_argument(
        "--traceback", action="store_true", help="show the full traceback of unexpected errors"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    data.add_commands(sub)
    report.add_commands(sub)
    churn.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``journey`` with ``argv`` (default: the command line) and return the exit code."""
    if argv is None:
        # The process is the `journey` command, so its modules are ours to choose. jsonschema,
        # under nbformat, would import rfc3987_syntax (as jupyter-events installs it) and
        # build its grammar as it loads: 1.3 s of every `journey report` on the 2-core
        # machine, for an "iri" format no notebook schema uses. Without the module jsonschema
        # leaves that format out; the notebooks' children do the same (report/execute.py).
        sys.modules.setdefault("rfc3987_syntax", None)
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
        fail(str(exc))
    except OSError as exc:
        fail(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc))
    except KeyboardInterrupt:
        fail("interrupted")
    except Exception as exc:
        if args.traceback:
            raise
        fail(f"unexpected {type(exc).__name__}: {exc} (rerun with --traceback for details)")
    return EXIT_UNUSABLE


def _warn(message: Warning | str, *_: Any, **__: Any) -> None:
    """Warnings as one line on stderr, like errors; the data was still usable."""
    print(f"journey: warning: {message}", file=sys.stderr)
