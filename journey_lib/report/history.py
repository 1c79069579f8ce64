"""Earlier runs in the same reports folder, and the alerts a run raises against them.

Every run keeps its headline figures in ``metrics.json`` under ``"summary"``; the next run
reads them back, so a summary page can show how each figure moved since the last run and
flag a figure that moved beyond the threshold set in the ``alerts`` parameter.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import JourneyParameterError

__all__ = ["SUMMARY_KEY", "check_alerts", "earlier_runs", "last_changes", "raised_alerts"]

#: Where a run's ``metrics.json`` keeps the summary's figures and alerts.
SUMMARY_KEY = "summary"
# Run folders are named by their UTC start: 20260101-060000, with -2, -3 ... in one second.
_RUN_NAME = re.compile(r"^\d{8}-\d{6}(-\d+)?$")


def earlier_runs(
    out: Path,
    current: str,
    *,
    source: str | None = None,
    period: str | None = None,
    keep: int = 12,
) -> pd.DataFrame:
    """Headline figures of the runs in ``out`` before ``current``, oldest first.

    A run counts when its folder name is a run's (``YYYYMMDD-HHMMSS``), its
    ``metrics.json`` holds a summary, and that summary was of the same data file
    (``source``, its name: a scheduled log grows, so its content may differ) by the same
    ``period``; runs of other data or periods in the same folder are not compared, nor are
    unreadable files and other folders. At most the ``keep`` latest are returned.

    Returns
    -------
    DataFrame
        One row per run and figure: ``run`` (the folder's name), ``figure``, ``value`` (a
        number, NaN when hidden) and ``text`` (what that run wrote for a hidden value, such
        as ``"<10"``, else None).
    """
    rows = []
    names = _runs_before(out, current)
    for name in names:
        summary = _summary(out / name / "metrics.json")
        if source is not None and summary.get("source", source) != source:
            continue
        if period is not None and summary.get("period", period) != period:
            continue
        for key, entry in (summary.get("figures") or {}).items():
            value = entry.get("value") if isinstance(entry, Mapping) else None
            if isinstance(value, int | float) and not isinstance(value, bool):
                rows.append({"run": name, "figure": key, "value": float(value), "text": None})
            elif isinstance(value, str):  # hidden under min_cell
                rows.append({"run": name, "figure": key, "value": math.nan, "text": value})
    frame = pd.DataFrame(rows, columns=["run", "figure", "value", "text"])
    kept = sorted(frame["run"].unique())[-keep:]
    return frame[frame["run"].isin(kept)].reset_index(drop=True)


def last_changes(
    out: Path, current: str, *, source: str | None = None, period: str | None = None
) -> list[dict[str, Any]]:
    """The headline changes the last run before ``current`` reported (of the same data and
    period, as :func:`earlier_runs` picks runs; empty when there is none), as recorded:
    ``{"sentence", "key", "from", "to", "size"}``."""
    names = _runs_before(out, current)
    for name in reversed(names):
        summary = _summary(out / name / "metrics.json")
        if not summary:
            continue
        if source is not None and summary.get("source", source) != source:
            continue
        if period is not None and summary.get("period", period) != period:
            continue
        return [dict(c) for c in summary.get("changes") or [] if isinstance(c, Mapping)]
    return []


def _runs_before(out: Path, current: str) -> list[str]:
    """The run folders in ``out`` named before ``current``, oldest first."""
    if not out.is_dir():
        return []
    return sorted(
        p.name for p in out.iterdir() if p.is_dir() and _RUN_NAME.match(p.name) and p.name < current
    )


def _summary(path: Path) -> dict[str, Any]:
    """The summary a run recorded (empty when there is none or it cannot be read)."""
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))[SUMMARY_KEY]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return summary if isinstance(summary, dict) else {}


def check_alerts(alerts: Any, known: Mapping[str, Any]) -> dict[str, tuple[float, bool]]:
    """The ``alerts`` parameter as ``{figure: (threshold, relative)}``.

    Each entry names a headline figure and how far it may move before it is flagged: a
    number in the figure's unit (``churn_rate: 0.02`` is 2 percentage points,
    ``active_customers: 100`` a hundred customers) or a percentage of the reference value
    as text (``revenue: "10%"``).

    Examples
    --------
    >>> check_alerts({"churn_rate": 0.02, "revenue": "10%"}, {"churn_rate": 0, "revenue": 0})
    {'churn_rate': (0.02, False), 'revenue': (0.1, True)}
    """
    if alerts is None or alerts == {}:
        return {}
    if not isinstance(alerts, Mapping):
        raise JourneyParameterError(
            f"alerts must be a mapping of figure to threshold, e.g. {{churn_rate: 0.02}}; "
            f"got {alerts!r}"
        )
    checked = {}
    for figure, threshold in alerts.items():
        if figure not in known:
            raise JourneyParameterError(
                f"alerts: unknown figure {figure!r}; headline figures are {sorted(known)}"
            )
        relative = isinstance(threshold, str) and threshold.strip().endswith("%")
        try:
            size = float(threshold.strip()[:-1]) / 100 if relative else float(threshold)
        except (TypeError, ValueError):
            size = math.nan
        if isinstance(threshold, bool) or not size > 0 or math.isinf(size):
            raise JourneyParameterError(
                f"alerts: {figure}: {threshold!r} is not a positive threshold (a number in "
                f"the figure's unit, or a percentage such as '10%')"
            )
        checked[figure] = (size, relative)
    return checked


def raised_alerts(
    current: Mapping[str, Any],
    history: pd.DataFrame,
    previous_period: Mapping[str, Any],
    alerts: Mapping[str, tuple[float, bool]],
) -> list[dict[str, Any]]:
    """The figures that moved beyond their threshold.

    A figure is compared with its value in the last run that recorded it (``history``);
    without one, with its value in the previous period, so the first run of a schedule can
    alert too. A figure the last run hid (under ``min_cell``) raises none: there is nothing
    to compare with. Each alert says which reference it used.

    Examples
    --------
    >>> history = pd.DataFrame({"run": ["20261201-060000"], "figure": ["churn_rate"],
    ...                         "value": [0.15]})
    >>> raised_alerts({"churn_rate": 0.19}, history, {}, {"churn_rate": (0.02, False)})
    ... # doctest: +NORMALIZE_WHITESPACE
    [{'figure': 'churn_rate', 'value': 0.19, 'reference': 0.15,
      'reference_kind': 'last run', 'reference_run': '20261201-060000',
      'change': 0.04, 'threshold': 0.02, 'relative': False}]
    """
    raised = []
    for figure, (threshold, relative) in alerts.items():
        value = current.get(figure)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        runs = history[history["figure"] == figure]
        if len(runs):
            reference, kind, run = runs["value"].iloc[-1], "last run", runs["run"].iloc[-1]
            if math.isnan(reference):
                continue
        else:
            reference, kind, run = previous_period.get(figure), "previous period", None
        if reference is None or (isinstance(reference, float) and math.isnan(reference)):
            continue
        change = float(value) - float(reference)
        limit = threshold * abs(float(reference)) if relative else threshold
        if abs(change) > limit:
            raised.append(
                {
                    "figure": figure,
                    "value": float(value),
                    "reference": float(reference),
                    "reference_kind": kind,
                    "reference_run": run,
                    "change": round(change, 12),
                    "threshold": threshold,
                    "relative": relative,
                }
            )
    return raised
