"""The summary step of a run: after the notebooks, build the summary, write ``summary.html``
and keep its figures in ``metrics.json``, without ever losing the run over it.

Two parameters belong to the run rather than to a notebook: ``alerts`` (thresholds by
headline figure, see :func:`journey_lib.report.history.check_alerts`) and ``min_cell`` (the
privacy threshold, see :mod:`journey_lib.report.privacy`; also handed to notebooks that
declare it). They are checked with the other parameters, before anything runs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..errors import JourneyError
from ..io.profile import LogProfile
from .execute import NotebookRun
from .files import read_json, write_json, write_text
from .headlines import DEFINITIONS
from .history import SUMMARY_KEY, check_alerts
from .parameters import CommandLineValue
from .privacy import check_min_cell
from .summary import CHANGES_ALERT, build_summary
from .summary_page import summary_html, summary_sections
from .tables import hide_recorded
from .text import shorten

__all__ = ["RUN_PARAMETERS", "RunOptions", "SummaryOutcome", "run_options", "summarise"]

#: Parameters of the run itself, with what they do.
RUN_PARAMETERS = {
    "alerts": "thresholds by headline figure, e.g. {churn_rate: 0.02}, and {changes: 0.5} for "
    "a new change of 50% or more (flagged, exit 3 with --alert-exit)",
    "min_cell": "hide counts below it and rates from fewer customers (0 = off)",
}
#: The summary's page.
SUMMARY_FILE = "summary.html"


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """The run's own parameters, checked: ``alerts`` and ``min_cell``; ``given`` holds
    those the user gave, for the manifest."""

    alerts: dict[str, Any]
    min_cell: int
    given: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class SummaryOutcome:
    """How the summary step went: the manifest's record and the sections for index.html."""

    record: dict[str, Any]
    sections: str = ""

    @classmethod
    def skipped(cls, reason: str) -> SummaryOutcome:
        return cls({"status": "skipped", "reason": reason, "alerts": []})


def run_options(given: dict[str, Any], declared: set[str]) -> RunOptions:
    """Take ``alerts`` and ``min_cell`` out of the run's parameters and check them; a
    ``min_cell`` also stays for the notebooks that declare it.

    Examples
    --------
    >>> given = {"alerts": {"churn_rate": 0.02}, "seed": 1}
    >>> options = run_options(given, {"seed"})
    >>> options.alerts, options.min_cell, given
    ({'churn_rate': 0.02}, 0, {'seed': 1})
    """
    found = {}
    for name in RUN_PARAMETERS:
        if name in given:
            raw = given[name] if name in declared else given.pop(name)
            found[name] = raw.value if isinstance(raw, CommandLineValue) else raw
    alerts = found.get("alerts") or {}
    check_alerts(alerts, {**DEFINITIONS, CHANGES_ALERT: None})
    return RunOptions(dict(alerts), check_min_cell(found.get("min_cell", 0)), found)


def summarise(
    folder: Path,
    data: Path | None,
    profile: LogProfile | None,
    given: Mapping[str, Any],
    runs: Mapping[str, NotebookRun],
    options: RunOptions,
    name: str,
    say: Callable[[str], None],
) -> SummaryOutcome:
    """Build the run's summary into ``folder`` (its name being ``name`` once in place).

    ``summary.html`` is written and the figures and alerts go into ``metrics.json`` under
    ``"summary"``. Data a summary cannot describe (a customer table, no usable row) gives a
    ``"skipped"`` record with the reason; any other error a ``"failed"`` one, which fails
    the run. Either way the run goes on to its index and manifest. With ``min_cell``, the
    counts the notebooks recorded are hidden in ``metrics.json`` too
    (:func:`journey_lib.report.tables.hide_recorded`).
    """
    metrics_file = folder / "metrics.json"
    recorded = read_json(metrics_file) if metrics_file.exists() else {}
    if options.min_cell and recorded:
        write_json(metrics_file, hide_recorded(recorded, options.min_cell))
    if data is None:
        return SummaryOutcome.skipped("no selected notebook reads a data file")
    pages = {notebook: run.html for notebook, run in runs.items() if run.html}
    try:
        summary = build_summary(
            folder,
            name=name,  # the folder is still .<name>.partial
            data=data,
            profile=profile,
            parameters=given,
            pages=pages,
            recorded=recorded,
            alerts=options.alerts,
            min_cell=options.min_cell,
        )
    except JourneyError as exc:
        say(f"summary: skipped ({shorten(str(exc), 160)})")
        return SummaryOutcome.skipped(shorten(str(exc), 300))
    except Exception as exc:  # a summary that breaks must not lose the notebooks' pages
        reason = f"{type(exc).__name__}: {shorten(str(exc), 300)}"
        say(f"summary: failed ({reason})")
        return SummaryOutcome({"status": "failed", "reason": reason, "alerts": []})
    write_text(folder / SUMMARY_FILE, summary_html(summary))
    recorded = hide_recorded(recorded, options.min_cell)
    recorded[SUMMARY_KEY] = summary.metrics()
    write_json(metrics_file, recorded)
    flagged = ", ".join(alert["figure"] for alert in summary.alerts)
    say(f"summary: {SUMMARY_FILE}" + (f" (alerts: {flagged})" if flagged else ""))
    return SummaryOutcome(
        {"status": "ok", "file": SUMMARY_FILE, "alerts": summary.alerts},
        summary_sections(summary),
    )
