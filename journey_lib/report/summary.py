"""A run's summary: what a manager reads first, gathered from the data, what the notebooks
recorded and the runs before.

:func:`build_summary` reads the run's data with its profile, computes the headline figures
(:func:`journey_lib.report.headline`), draws at most four figures each with a reading in
words, picks the actions the analyses point to, lists what a reader should know about the
data, and compares the figures with the earlier runs in the same reports folder (alerts
included). :mod:`journey_lib.report.summary_page` writes it as ``summary.html``.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import math
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from .._engine import to_pandas
from ..analytics.progression import stage_funnel
from ..analytics.retention import retention
from ..analytics.stages import profile_framework
from ..churn.call_list import AT_RISK
from ..errors import JourneyDataWarning, JourneyError
from ..io.profile import LogProfile
from ..plots import funnel as funnel_figure
from ..plots import rate_trends, value_at_risk
from ..plots import retention as retention_figure
from .actions import contact_action, credit_action, funnel_action, segment_churn_action
from .data import ReportData, open_data
from .formatting import duration_text, figure_text, period_label
from .headlines import DEFINITIONS, Headline, headline
from .history import check_alerts, earlier_runs, last_changes, raised_alerts
from .parameters import ENGINE
from .privacy import check_min_cell, suppressed
from .readings import (
    change_sentence,
    funnel_reading,
    retention_reading,
    segment_reading,
    trend_reading,
)
from .run_profile import CUSTOMERS_PATH
from .tables import private

__all__ = [
    "AT_RISK_FILE",
    "CHANGES_ALERT",
    "RISK_FIGURES",
    "Summary",
    "build_summary",
    "change_alerts",
    "value_by_segment",
]

#: The list of customers to contact that the churn notebook leaves in the run folder.
AT_RISK_FILE = "at_risk.parquet"
#: The figures of the at-risk list: of the customers active at the log's end, so compared
#: with the last run rather than with a previous period.
RISK_FIGURES = ("at_risk_customers", "value_at_risk")
# Which notebook page shows each topic, found by a word in the notebook's name.
_TOPICS = {
    "touchpoints": "touchpoint",
    "funnels": "funnel",
    "retention": "retention",
    "churn": "churn",
    "attribution": "attribution",
    "segments": "segment",
    "changes": "change",
}
#: The ``alerts`` parameter's key for new changes (a relative size, see
#: :func:`change_alerts`), beside the headline figures'.
CHANGES_ALERT = "changes"
# Where each headline figure is shown in full.
_FIGURE_TOPIC = {
    "active_customers": "touchpoints",
    "new_customers": "touchpoints",
    "conversion_rate": "funnels",
    "churn_rate": "retention",
    "first_period_retention": "retention",
    "revenue": "attribution",
    "revenue_per_customer": "attribution",
    "at_risk_customers": "churn",
    "value_at_risk": "churn",
}
# Cohorts shown in the summary's retention figure: the latest, so it stays readable.
_COHORTS_SHOWN = 12


@dataclasses.dataclass
class Panel:
    """One figure of the summary: its title, PNG (base64), reading and link."""

    title: str
    png: str
    reading: str
    link: str | None


@dataclasses.dataclass
class Summary:
    """Everything the summary page shows. See :func:`build_summary`."""

    run: str
    source: str
    period: str
    currency: str | None
    min_cell: int
    figures: pd.DataFrame
    panels: list[Panel]
    actions: list[tuple[str, str | None]]
    about: list[str]
    definitions: list[tuple[str, str, str | None]]
    history: pd.DataFrame
    alerts: list[dict[str, Any]]
    #: "What changed": the monitoring notebook's headline changes, recorded as
    #: ``{"sentence", "key", "from", "to", "size"}`` (see
    #: :func:`journey_lib.report.change_readings.recorded_changes`).
    changes: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    #: The page of the monitoring notebook, which "What changed" links to.
    changes_link: str | None = None
    #: Whether the monitoring notebook ran (it may have found nothing).
    changes_scanned: bool = False

    def text(self, figure: str, column: str = "value") -> str:
        """A headline figure (or its ``previous`` value) as the page writes it: under
        ``min_cell`` a count below it, or a figure from that few customers, reads ``<k``,
        and so does a rate whose count (rate times customers) is below it, which an exact
        rate would give back."""
        row = self.figures.loc[figure]
        base = row["base"] if column == "value" else row["previous_base"]
        value, k = row[column], self.min_cell
        if k and row["unit"] == "rate" and pd.notna(value) and pd.notna(base):
            if 0 < round(value * base) < k:
                return f"<{k}"
        return figure_text(value, row["unit"], currency=self.currency, min_cell=k, base=base)

    def hidden(self, figure: str, column: str = "value") -> bool:
        """Whether the privacy threshold hides a figure."""
        return self.text(figure, column).startswith("<")

    def metrics(self) -> dict[str, Any]:
        """What ``metrics.json`` keeps under ``"summary"``: the data file's name and the
        period (earlier runs are compared only with runs of both), each figure with its
        period, previous value, change and interval, as precise as the page shows them
        (rates to four significant digits, money to the cent; a hidden value written
        ``"<min_cell"``, its change and interval null, marked ``"suppressed"``), and the
        alerts raised."""
        figures = {}
        for key, row in self.figures.iterrows():
            hide = self.hidden(key)
            hide_before = self.hidden(key, "previous")
            hidden = f"<{self.min_cell}"
            figures[key] = {
                "label": row["label"],
                "unit": row["unit"],
                "period": _iso(row["period"]),
                "previous_period": _iso(row["previous_period"]),
                "value": hidden if hide else _number(row["value"], row["unit"]),
                "previous": hidden if hide_before else _number(row["previous"], row["unit"]),
                "change": None if hide or hide_before else _number(row["change"], row["unit"]),
                "low": None if hide or hide_before else _number(row["low"], row["unit"]),
                "high": None if hide or hide_before else _number(row["high"], row["unit"]),
                "noise": bool(row["noise"]),
                "suppressed": hide or hide_before,
            }
        return {
            "source": self.source,
            "period": self.period,
            "currency": self.currency,
            "min_cell": self.min_cell,
            "figures": figures,
            "alerts": self.alerts,
            "changes": self.changes,
        }


def build_summary(
    folder: Path,
    *,
    name: str | None = None,
    data: Any,
    profile: LogProfile | Mapping[str, Any] | None,
    parameters: Mapping[str, Any] | None = None,
    pages: Mapping[str, str] | None = None,
    recorded: Mapping[str, Any] | None = None,
    alerts: Any = None,
    min_cell: int = 0,
) -> Summary:
    """Gather a run's summary (see the module docstring).

    Parameters
    ----------
    folder : Path
        The run folder: the churn notebook's ``at_risk.parquet`` is read from it, and its
        parent is the reports folder whose earlier runs are compared.
    name : str, optional
        The run's name (default: the folder's), which orders it among the earlier runs.
    data : path or DataFrame
        The data the notebooks read.
    profile : LogProfile or mapping, optional
        The run's profile (inferred when None).
    parameters : mapping, optional
        The run's parameters; ``start``, ``end``, ``period``, ``inactivity``, ``steps``,
        ``window``, ``engine`` (where the log stays, pandas by default) and
        ``customers_path`` (the customer table beside the log, whose columns the segments
        compared for churn include; a relative path is read from the current folder) are
        read as the notebooks read them.
    pages : mapping, optional
        Notebook name to the HTML page it rendered, for links.
    recorded : mapping, optional
        What the notebooks recorded in ``metrics.json``.
    alerts : mapping, optional
        Thresholds by figure (see :func:`journey_lib.report.history.check_alerts`).
    min_cell : int, default 0
        Privacy threshold (see :mod:`journey_lib.report.privacy`).

    Returns
    -------
    Summary
    """
    min_cell = check_min_cell(min_cell)
    thresholds = check_alerts(alerts, {**DEFINITIONS, CHANGES_ALERT: None})
    change_threshold = thresholds.pop(CHANGES_ALERT, None)
    given = dict(parameters or {})
    links = _links(pages or {})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = open_data(
            data,
            profile,
            start=given.get("start") or "",
            end=given.get("end") or "",
            customers_path=given.get(CUSTOMERS_PATH) or "",
            quiet=False,
            engine=given.get(ENGINE) or "pandas",
        )
        parts = _log_parts(report, given, links, min_cell)
    parts.notes += [
        str(w.message).splitlines()[0] for w in caught if issubclass(w.category, JourneyDataWarning)
    ]
    p = report.profile
    recorded = recorded or {}
    risk = _recorded_risk(recorded)
    figures = parts.head.table.set_index("figure", drop=False).rename_axis(None)
    if risk:
        figures = pd.concat([figures, _risk_rows(risk)])
    run = name or folder.name
    history = earlier_runs(folder.parent, run, source=report.source, period=parts.period)
    _compare_with_last_run(figures, history)
    at_risk = _read_at_risk(folder)
    panels, actions = parts.panels, parts.actions
    if at_risk is not None and len(at_risk):
        panels.append(_risk_panel(at_risk, risk, p.currency, links, min_cell))
    actions += contact_action(risk, p.currency, min_cell) if risk else []
    actions += credit_action(recorded, links.get("attribution"))
    summary = Summary(
        run=run,
        source=report.source,
        period=parts.period,
        currency=p.currency,
        min_cell=min_cell,
        figures=figures,
        panels=[panel for panel in panels if panel is not None][:4],
        actions=actions,
        about=_about(report, parts),
        definitions=[
            (label, definition, links.get(_FIGURE_TOPIC[key]))
            for key, (label, _, definition) in DEFINITIONS.items()
            if key in figures.index
        ],
        history=history,
        alerts=[],
        changes=_recorded_changes(recorded),
        changes_link=links.get("changes"),
        changes_scanned=any(
            isinstance(f, Mapping) and "changes_found" in f for f in recorded.values()
        ),
    )
    # A hidden figure raises no alert: the alert would carry its value.
    shown = [k for k in figures.index if not (summary.hidden(k) or summary.hidden(k, "previous"))]
    summary.alerts = raised_alerts(
        figures.loc[shown, "value"].to_dict(),
        history,
        figures.loc[shown, "previous"].to_dict(),
        thresholds,
    )
    if change_threshold is not None:
        seen = last_changes(folder.parent, run, source=report.source, period=parts.period)
        summary.alerts += change_alerts(summary.changes, seen, change_threshold[0])
    return summary


def _recorded_changes(recorded: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The headline changes the monitoring notebook recorded (empty when it did not run)."""
    figures = next(
        (f for f in recorded.values() if isinstance(f, Mapping) and "changes_found" in f), {}
    )
    found = []
    for k in range(1, 10):
        sentence = figures.get(f"what_changed_{k}")
        if not sentence:
            break
        found.append(
            {
                "sentence": sentence,
                "key": figures.get(f"change_{k}_key"),
                "from": figures.get(f"change_{k}_from"),
                "to": figures.get(f"change_{k}_to"),
                "size": figures.get(f"change_{k}_size"),
            }
        )
    return found


def change_alerts(
    changes: list[dict[str, Any]], seen: list[dict[str, Any]], threshold: float
) -> list[dict[str, Any]]:
    """Alerts for new changes: a headline change at least ``threshold`` in relative size
    (something that appeared from nothing always is) that the last run did not report. A
    change was reported when one of ``seen`` has its key (the series) and a window
    overlapping its own, so a lasting change alerts once even as more data moves its start.

    Examples
    --------
    >>> changes = [{"sentence": "Payment errors rose from 0 to 30 a week since 13 May.",
    ...             "key": "events|payment_error||", "from": "2024-05-13",
    ...             "to": "2024-06-03", "size": None},
    ...            {"sentence": "Search fell from 88 to 50 a week since 27 May.",
    ...             "key": "events|search||", "from": "2024-05-27", "to": "2024-06-03",
    ...             "size": 0.42}]
    >>> [a["key"] for a in change_alerts(changes, [], 0.5)]
    ['events|payment_error||']
    >>> before = [{"key": "events|payment_error||", "from": "2024-05-20", "to": "2024-05-27"}]
    >>> change_alerts(changes, before, 0.5)
    []
    """
    return [
        {
            "figure": CHANGES_ALERT,
            "sentence": change["sentence"],
            "key": change["key"],
            "size": change["size"],
            "threshold": threshold,
        }
        for change in changes
        if not _reported(change, seen) and (change["size"] is None or change["size"] >= threshold)
    ]


def _reported(change: Mapping[str, Any], seen: list[dict[str, Any]]) -> bool:
    """Whether ``seen`` has the same series over an overlapping window (ISO dates compare
    as text)."""
    return any(
        old.get("key") == change["key"]
        and str(old.get("from")) <= str(change["to"])
        and str(change["from"]) <= str(old.get("to"))
        for old in seen
    )


@dataclasses.dataclass
class _Parts:
    """What the log gives the summary, and the settings it was read with."""

    head: Headline
    panels: list[Panel | None]
    actions: list[tuple[str, str | None]]
    period: str
    steps: list[Any]
    window: Any
    inactivity: Any
    notes: list[str]


def _links(pages: Mapping[str, str]) -> dict[str, str]:
    found = {}
    for topic, word in _TOPICS.items():
        page = next((html for name, html in pages.items() if word in name and html), None)
        if page:
            found[topic] = page
    return found


def _log_parts(
    report: ReportData, given: Mapping[str, Any], links: Mapping[str, str], min_cell: int
) -> _Parts:
    """Headline figures, the journey, trend and retention figures, and the actions the log
    points to, with the settings used (the run's parameters over the profile's)."""
    p = report.profile
    events = report.events
    if events is None or report.facts["rows"] == 0:
        raise JourneyError(
            "the summary needs a touchpoint log with usable rows; "
            + ("this is a customer table" if events is None else "no row could be used")
        )
    period = given.get("period") or p.period
    inactivity = given.get("inactivity") or p.inactivity
    window = given.get("window") or "30D"
    steps = list(given.get("steps") or p.funnel)
    notes = []
    names = [s for s in steps if isinstance(s, str)]
    absent = [s for s in dict.fromkeys(names) if s not in report.facts["events"].index]
    if absent:
        notes.append(
            f"The funnel's step `{absent[0]}` never occurs in the log, so there is no "
            "conversion rate; give the funnel's steps with -p steps=[...] or in journey.yaml."
        )
    usable = steps if len(steps) >= 2 and not absent else []
    head = headline(
        events, profile=p, period=period, inactivity=inactivity, steps=usable, window=window
    )
    rows = head.table.set_index("figure")
    churn = rows.loc["churn_rate"]
    panels = [
        _journey_panel(report, links, min_cell),
        _trend_panel(head, period, links, min_cell),
        _retention_panel(events, period, links, min_cell),
    ]
    actions = []
    if usable:
        actions += funnel_action(events, usable, window, links.get("funnels"), min_cell)
    if churn["change"] > 0 and not churn["noise"] and not _small_rate(churn, min_cell):
        actions.append(
            (
                "Find out why churn rose: " + change_sentence(churn, period, min_cell=min_cell),
                links.get("retention"),
            )
        )
    actions += segment_churn_action(
        report,
        churn,
        period,
        inactivity,
        links.get("segments") or links.get("retention"),
        min_cell,
    )
    return _Parts(head, panels, actions, period, usable, window, inactivity, notes)


def _small_rate(row: pd.Series, min_cell: int) -> bool:
    """Whether a rate's count or base is one the privacy threshold hides."""
    counts = (row["base"], row["value"] * row["base"], row["previous_base"])
    return bool(min_cell) and any(pd.notna(n) and 0 < round(n) < min_cell for n in counts)


def _journey_panel(report: ReportData, links: Mapping[str, str], min_cell: int) -> Panel | None:
    """The stage funnel from the first stage anyone reached (logs rarely record the
    awareness stage), small stages hidden; None when no event has a stage."""
    p = report.profile
    if not report.facts["events"].index.isin(list(profile_framework(p).events)).any():
        return None
    journey = report.collect(stage_funnel(report.events, profile=p, unmapped="ignore"))
    reached = journey["customers"].to_numpy() > 0
    if not reached.any():
        return None
    journey = journey.iloc[int(reached.argmax()) :].reset_index(drop=True)
    shown = private(journey, min_cell)
    if shown["customers"].isna().all():
        return None
    return _panel(
        "The journey",
        funnel_figure(shown),
        funnel_reading(shown, what="stage", min_cell=min_cell),
        links.get("funnels"),
    )


def _trend_panel(
    head: Headline, period: str, links: Mapping[str, str], min_cell: int
) -> Panel | None:
    trend = head.trend.assign(label=head.trend["figure"].map(lambda f: DEFINITIONS[f][0]))
    if min_cell:  # a point from few customers, or with few behind its rate, is left out
        counts = (trend["value"] * trend["base"]).round()
        trend = trend[(trend["base"] >= min_cell) & ~((counts > 0) & (counts < min_cell))]
    if trend.empty:
        return None
    return _panel(
        "Headline rates over time",
        rate_trends(trend),
        trend_reading(head.table, period, min_cell=min_cell),
        links.get("retention"),
    )


def _retention_panel(
    events: Any, period: str, links: Mapping[str, str], min_cell: int
) -> Panel | None:
    cohorts = to_pandas(retention(events, period=period))
    latest = sorted(cohorts["cohort"].unique())[-_COHORTS_SHOWN:]
    cohorts = cohorts[cohorts["cohort"].isin(latest)]
    if min_cell:
        small = (cohorts["cohort_size"] < min_cell) | (
            (cohorts["customers"] > 0) & (cohorts["customers"] < min_cell)
        )
        cohorts = cohorts.assign(rate=cohorts["rate"].mask(small))
    if not (cohorts["complete"] & (cohorts["period"] > 0) & cohorts["rate"].notna()).any():
        return None
    return _panel(
        "Cohort retention",
        retention_figure(cohorts),
        retention_reading(cohorts, period, min_cell=min_cell),
        links.get("retention"),
    )


def _panel(title: str, figure: Any, reading: str, link: str | None) -> Panel:
    """A figure as an inline PNG (closed once drawn), with its reading."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=96, bbox_inches="tight")
    plt.close(figure)
    return Panel(title, base64.b64encode(buffer.getvalue()).decode("ascii"), reading, link)


def _read_at_risk(folder: Path) -> pd.DataFrame | None:
    path = folder / AT_RISK_FILE
    if not path.exists():
        return None
    return pd.read_parquet(path)


def value_by_segment(at_risk: pd.DataFrame, *, min_cell: int = 0) -> pd.DataFrame:
    """Customers, customers at risk and value at risk of each segment of an at-risk list.

    A customer is **at risk** when their churn probability is 50% or more; the **value at
    risk** is the sum of churn probability times value (the expected value lost to churn).
    Under ``min_cell``, a segment with fewer customers is hidden (its figures missing), and
    so is a count of customers at risk below it, each with complementary suppression
    (:func:`journey_lib.report.privacy.suppressed`), since the page shows their totals.

    Examples
    --------
    >>> at_risk = pd.DataFrame({"segment": ["a", "a", "b"], "churn_probability": [0.9, 0.2, 0.6],
    ...                         "value": [100.0, 50.0, 10.0]})
    >>> value_by_segment(at_risk)
      segment  customers  at_risk_customers  value_at_risk
    0       a          2                  1          100.0
    1       b          1                  1            6.0
    """
    weighted = at_risk.assign(
        at_risk=at_risk["churn_probability"] >= AT_RISK,
        expected=at_risk["churn_probability"] * at_risk["value"],
    )
    table = weighted.groupby("segment", sort=True, observed=True).agg(
        customers=("churn_probability", "size"),
        at_risk_customers=("at_risk", "sum"),
        value_at_risk=("expected", "sum"),
    )
    if not min_cell:
        return table.reset_index()
    segment = suppressed(table["customers"], min_cell)
    at_risk_hidden = segment | suppressed(table["at_risk_customers"].mask(segment, 0), min_cell)
    return (
        table.astype(float)
        .assign(
            customers=table["customers"].mask(segment),
            at_risk_customers=table["at_risk_customers"].mask(at_risk_hidden),
            value_at_risk=table["value_at_risk"].mask(segment),
        )
        .reset_index()
    )


def _recorded_risk(recorded: Mapping[str, Any]) -> dict[str, Any]:
    """The at-risk list's figures, as the churn notebook recorded them (empty when none)."""
    return next(
        (
            dict(figures)
            for figures in recorded.values()
            if isinstance(figures, Mapping) and "at_risk_customers" in figures
        ),
        {},
    )


def _risk_rows(risk: Mapping[str, Any]) -> pd.DataFrame:
    """The at-risk figures as headline rows; they have no previous period (the last run
    stands in, :func:`_compare_with_last_run`)."""
    rows = []
    for key in RISK_FIGURES:
        label, unit, _ = DEFINITIONS[key]
        rows.append(
            {
                "figure": key,
                "label": label,
                "unit": unit,
                "value": _number(risk.get(key)),
                "period": pd.Timestamp(risk["scored_at"], tz="UTC")
                if "scored_at" in risk
                else None,
                "base": _number(risk.get("customers_scored")),
                "noise": False,
            }
        )
    return pd.DataFrame(rows).set_index("figure", drop=False).rename_axis(None)


def _compare_with_last_run(figures: pd.DataFrame, history: pd.DataFrame) -> None:
    """Give the at-risk figures, which have no previous period, the last run's value
    (missing when that run hid it)."""
    for key in RISK_FIGURES:
        runs = history[history["figure"] == key]
        if key in figures.index and len(runs):
            figures.loc[key, "previous"] = runs["value"].iloc[-1]
            figures.loc[key, "previous_base"] = figures.loc[key, "base"]
            figures.loc[key, "change"] = figures.loc[key, "value"] - runs["value"].iloc[-1]
            figures.loc[key, "previous_period"] = None


def _risk_panel(
    at_risk: pd.DataFrame,
    risk: Mapping[str, Any],
    currency: str | None,
    links: Mapping[str, str],
    min_cell: int,
) -> Panel | None:
    by_segment = value_by_segment(at_risk, min_cell=min_cell)
    shown = by_segment.dropna(subset=["value_at_risk"])
    if shown.empty:
        return None
    total = risk.get("value_at_risk")
    if not isinstance(total, int | float):
        total = float((at_risk["churn_probability"] * at_risk["value"]).sum())
    reading = segment_reading(shown, currency=currency, total=total, min_cell=min_cell)
    hidden = len(by_segment) - len(shown)
    if hidden:
        reading += (
            f" {hidden} segment{'s' * (hidden > 1)} hidden to protect small groups "
            f"(fewer than {min_cell} customers)."
        )
    figure = value_at_risk(shown, currency=currency)
    return _panel("Value at risk by segment", figure, reading, links.get("churn"))


def _about(report: ReportData, parts: _Parts) -> list[str]:
    """What a reader should know: rows read and set aside, the span, the settings used."""
    p, period = report.profile, parts.period
    lines = report.about_lines()
    first, last = report.facts["first"], report.facts["last"]
    complete = parts.head.table.set_index("figure").loc["active_customers", "period"]
    span = f"The log runs from {first:%-d %b %Y} to {last:%-d %b %Y}"
    if pd.isna(complete):
        lines.append(
            f"{span}: less than one complete {period}, so no figure has a period to report "
            "yet (a longer log, or a shorter period with -p period=..., gives some)."
        )
    else:
        lines.append(
            f"{span}; figures are per {period}, the latest complete one being "
            f"{period_label(complete, period)}."
        )
    funnel_steps = " → ".join(map(str, parts.steps)) or "none"
    lines.append(
        f"Choices used: conversion event {p.conversion or 'none'}, funnel {funnel_steps} "
        f"within {duration_text(parts.window)}, a customer counts as lost after "
        f"{duration_text(parts.inactivity)} without a touchpoint. To change them, edit "
        "journey.yaml in this folder and run again with --profile, or set the notebooks' "
        "parameters."
    )
    lines += list(dict.fromkeys(n for n in parts.notes if n not in lines))
    return lines


def _iso(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    return pd.Timestamp(value).strftime("%Y-%m-%d")


def _number(value: Any, unit: str = "count") -> float | None:
    """A figure for metrics.json, no more precise than the page: an exact ratio could give
    its small counts back."""
    if value is None or pd.isna(value):
        return None
    if unit == "rate":
        return float(f"{float(value):.4g}")
    return round(float(value), 2)
