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

from ..analytics.funnels import funnel
from ..analytics.progression import stage_funnel
from ..analytics.retention import churn_rate, retention
from ..analytics.stages import profile_framework
from ..churn.call_list import AT_RISK
from ..errors import JourneyDataWarning, JourneyError
from ..io.profile import LogProfile
from ..plots import funnel as funnel_figure
from ..plots import rate_trends, value_at_risk
from ..plots import retention as retention_figure
from .data import ReportData, open_data
from .formatting import change_text, duration_text, figure_text, period_label
from .headlines import DEFINITIONS, Headline, headline
from .history import check_alerts, earlier_runs, raised_alerts
from .intervals import rate_difference
from .privacy import check_min_cell, suppressed
from .readings import (
    change_sentence,
    funnel_reading,
    retention_reading,
    segment_reading,
    trend_reading,
)

__all__ = ["AT_RISK_FILE", "Summary", "build_summary", "value_by_segment"]

#: The list of customers to contact that the churn notebook leaves in the run folder.
AT_RISK_FILE = "at_risk.parquet"
# Which notebook page shows each topic, found by a word in the notebook's name.
_TOPICS = {
    "touchpoints": "touchpoint",
    "funnels": "funnel",
    "retention": "retention",
    "churn": "churn",
    "attribution": "attribution",
}
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

    def text(self, figure: str, column: str = "value") -> str:
        """A headline figure (or its ``previous`` value) as the page writes it."""
        row = self.figures.loc[figure]
        base = row["base"] if column == "value" else row["previous_base"]
        return figure_text(
            row[column], row["unit"], currency=self.currency, min_cell=self.min_cell, base=base
        )

    def hidden(self, figure: str, column: str = "value") -> bool:
        """Whether the privacy threshold hides a figure."""
        return self.text(figure, column).startswith("<")

    def metrics(self) -> dict[str, Any]:
        """What ``metrics.json`` keeps under ``"summary"``: each figure with its period,
        previous value, change and interval (a hidden value written ``"<min_cell"``, its
        change and interval null, marked ``"suppressed"``), and the alerts raised."""
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
                "value": hidden if hide else _number(row["value"]),
                "previous": hidden if hide_before else _number(row["previous"]),
                "change": None if hide or hide_before else _number(row["change"]),
                "low": None if hide or hide_before else _number(row["low"]),
                "high": None if hide or hide_before else _number(row["high"]),
                "noise": bool(row["noise"]),
                "suppressed": hide or hide_before,
            }
        return {
            "period": self.period,
            "currency": self.currency,
            "min_cell": self.min_cell,
            "figures": figures,
            "alerts": self.alerts,
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
        The run's parameters; ``start``, ``end``, ``period``, ``inactivity``, ``steps``
        and ``window`` are read as the notebooks read them.
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
    thresholds = check_alerts(alerts, DEFINITIONS)
    given = dict(parameters or {})
    links = _links(pages or {})
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = open_data(
            data,
            profile,
            start=given.get("start") or "",
            end=given.get("end") or "",
            quiet=False,
        )
        p = report.profile
        period = given.get("period") or p.period
        summary_parts = _log_parts(report, given, period, links, min_cell, notes)
    notes += [
        str(w.message).splitlines()[0] for w in caught if issubclass(w.category, JourneyDataWarning)
    ]
    head, panels, actions = summary_parts
    risk = _recorded_risk(recorded or {})
    figures = head.table.set_index("figure", drop=False).rename_axis(None)
    if risk:
        figures = pd.concat([figures, _risk_rows(risk)])
    run = name or folder.name
    history = earlier_runs(folder.parent, run)
    _compare_with_last_run(figures, history)
    at_risk = _read_at_risk(folder)
    if at_risk is not None and len(at_risk):
        panels.append(_risk_panel(at_risk, p.currency, links, min_cell))
    if risk:
        actions += _risk_actions(risk, p.currency, min_cell)
    actions += _recorded_actions(recorded or {}, links)
    summary = Summary(
        run=run,
        source=report.source,
        period=period,
        currency=p.currency,
        min_cell=min_cell,
        figures=figures,
        panels=panels[:4],
        actions=actions,
        about=_about(report, head, period, notes),
        definitions=[
            (label, definition, links.get(_FIGURE_TOPIC[key]))
            for key, (label, _, definition) in DEFINITIONS.items()
            if key in figures.index
        ],
        history=history,
        alerts=[],
    )
    # A hidden figure raises no alert: the alert would carry its value.
    shown = [k for k in figures.index if not (summary.hidden(k) or summary.hidden(k, "previous"))]
    summary.alerts = raised_alerts(
        figures.loc[shown, "value"].to_dict(),
        history,
        figures.loc[shown, "previous"].to_dict(),
        thresholds,
    )
    return summary


def _links(pages: Mapping[str, str]) -> dict[str, str]:
    found = {}
    for topic, word in _TOPICS.items():
        page = next((html for name, html in pages.items() if word in name and html), None)
        if page:
            found[topic] = page
    return found


def _log_parts(
    report: ReportData,
    given: Mapping[str, Any],
    period: str,
    links: Mapping[str, str],
    min_cell: int,
    notes: list[str],
) -> tuple[Headline, list[Panel], list[tuple[str, str | None]]]:
    """Headline figures, the journey, trend and retention figures, and the funnel action."""
    p = report.profile
    events = report.events
    if events is None or events.empty:
        raise JourneyError(
            "the summary needs a touchpoint log with usable rows; "
            + ("this is a customer table" if events is None else "no row could be used")
        )
    steps = list(given.get("steps") or p.funnel)
    window = given.get("window") or "30D"
    head = headline(
        events,
        profile=p,
        period=period,
        inactivity=given.get("inactivity") or p.inactivity,
        steps=steps,
        window=window,
    )
    panels = []
    mapped = events["event"].isin(list(profile_framework(p).events)).any()
    if mapped:
        journey = stage_funnel(events, profile=p, unmapped="ignore")
        journey = journey[~suppressed(journey["customers"], min_cell).to_numpy()]
    if mapped and len(journey):
        panels.append(
            _panel(
                "The journey",
                funnel_figure(journey),
                funnel_reading(journey, what="stage", min_cell=min_cell),
                links.get("funnels"),
            )
        )
    trend = head.trend.assign(label=head.trend["figure"].map(lambda f: DEFINITIONS[f][0]))
    trend = trend[trend["base"] >= min_cell] if min_cell else trend
    if len(trend):
        panels.append(
            _panel(
                "Headline rates over time",
                rate_trends(trend),
                trend_reading(head.table, period, min_cell=min_cell),
                links.get("retention"),
            )
        )
    cohorts = retention(events, period=period)
    latest = sorted(cohorts["cohort"].unique())[-_COHORTS_SHOWN:]
    cohorts = cohorts[cohorts["cohort"].isin(latest)]
    if min_cell:
        cohorts = cohorts.assign(rate=cohorts["rate"].where(cohorts["cohort_size"] >= min_cell))
    if (cohorts["complete"] & (cohorts["period"] > 0) & cohorts["rate"].notna()).any():
        panels.append(
            _panel(
                "Cohort retention",
                retention_figure(cohorts),
                retention_reading(cohorts, period, min_cell=min_cell),
                links.get("retention"),
            )
        )
    actions = []
    if len(steps) >= 2 and set(s for s in steps if isinstance(s, str)) <= set(events["event"]):
        actions += _funnel_action(events, steps, window, links, min_cell)
    churn = head.table.set_index("figure").loc["churn_rate"]
    if churn["change"] > 0 and not churn["noise"]:
        actions.append(
            (
                "Find out why churn rose: " + change_sentence(churn, period, min_cell=min_cell),
                links.get("retention"),
            )
        )
    inactivity = given.get("inactivity") or p.inactivity
    actions += _rising_churn(events, period, inactivity, links, min_cell)
    return head, panels, actions


def _rising_churn(
    events: pd.DataFrame,
    period: str,
    inactivity: Any,
    links: Mapping[str, str],
    min_cell: int,
    *,
    top: int = 6,
) -> list[tuple[str, str | None]]:
    """The acquisition channel whose customers' churn rose most beyond chance.

    A customer's segment here is the channel of their first touchpoint; for each of the
    ``top`` largest, the churn rate of its customers in the latest two complete periods,
    with Newcombe's interval on the change. Nothing when the log has no channel or no rise
    is beyond chance.
    """
    if "channel" not in events or events["channel"].isna().all():
        return []
    first = events.sort_values("timestamp", kind="stable").drop_duplicates("customer_id")
    acquired = first.set_index("customer_id")["channel"].dropna()
    rises = []
    # One churn_rate per channel (a handful), each vectorised over its customers.
    for channel in acquired.value_counts().index[:top]:
        ids = acquired.index[acquired == channel]
        rates = churn_rate(
            events[events["customer_id"].isin(ids)], period=period, inactivity=inactivity
        )
        rates = rates[rates["active_start"] > 0]
        if len(rates) < 2:
            continue
        now, before = rates.iloc[-1], rates.iloc[-2]
        low, _ = rate_difference(
            now["lost"], now["active_start"], before["lost"], before["active_start"]
        )
        if low > 0 and min(now["active_start"], before["active_start"]) >= max(min_cell, 1):
            rises.append((float(now["churn_rate"] - before["churn_rate"]), channel, now, before))
    if not rises:
        return []
    change, channel, now, before = max(rises, key=lambda rise: rise[0])
    return [
        (
            f"Look at customers who came through {channel}: their churn rose from "
            f"{figure_text(before['churn_rate'], 'rate')} to "
            f"{figure_text(now['churn_rate'], 'rate')} in {period_label(now['period'], period)} "
            f"({change_text(change, 'rate')}, beyond chance).",
            links.get("retention"),
        )
    ]


def _panel(title: str, figure: Any, reading: str, link: str | None) -> Panel:
    """A figure as an inline PNG (closed once drawn), with its reading."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=96, bbox_inches="tight")
    plt.close(figure)
    return Panel(title, base64.b64encode(buffer.getvalue()).decode("ascii"), reading, link)


def _funnel_action(
    events: pd.DataFrame, steps: list[Any], window: Any, links: Mapping[str, str], min_cell: int
) -> list[tuple[str, str | None]]:
    """The step of the funnel that loses most customers."""
    table = funnel(events, steps, window=window)
    counts = table["customers"].to_numpy()
    if len(counts) < 2 or counts[0] == 0:
        return []
    lost = counts[:-1] - counts[1:]
    i = int(lost.argmax())
    names = table["event"].astype(str).tolist()
    share = 1 - table["step_conversion_rate"].iloc[i + 1]
    return [
        (
            f"Work on the step from {names[i]} to {names[i + 1]}: it loses the most customers, "
            f"{figure_text(lost[i], 'count', min_cell=min_cell)} of "
            f"{figure_text(counts[i], 'count', min_cell=min_cell)} "
            f"({figure_text(share, 'rate', min_cell=min_cell, base=counts[i])}) within "
            f"{duration_text(window)}.",
            links.get("funnels"),
        )
    ]


def _read_at_risk(folder: Path) -> pd.DataFrame | None:
    path = folder / AT_RISK_FILE
    if not path.exists():
        return None
    return pd.read_parquet(path)


def value_by_segment(at_risk: pd.DataFrame, *, min_cell: int = 0) -> pd.DataFrame:
    """Customers, customers at risk and value at risk of each segment of an at-risk list.

    A customer is **at risk** when their churn probability is 50% or more; the **value at
    risk** is the sum of churn probability times value (the expected value lost to churn).
    Segments with fewer than ``min_cell`` customers are hidden (their figures missing), with
    complementary suppression (:func:`journey_lib.report.privacy.suppressed`).

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
    hide = suppressed(table["customers"], min_cell)
    table[["at_risk_customers", "value_at_risk"]] = (
        table[["at_risk_customers", "value_at_risk"]].astype(float).mask(hide)
    )
    table["customers"] = table["customers"].astype(float).mask(hide)
    if not hide.any():
        table = table.astype({"customers": "int64", "at_risk_customers": "int64"})
    return table.reset_index()


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
    for key in ("at_risk_customers", "value_at_risk"):
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
    """Give the at-risk figures, which have no previous period, the last run's value."""
    for key in ("at_risk_customers", "value_at_risk"):
        if key not in figures.index:
            continue
        runs = history[history["figure"] == key]
        if len(runs):
            figures.loc[key, "previous"] = runs["value"].iloc[-1]
            figures.loc[key, "previous_base"] = figures.loc[key, "base"]
            figures.loc[key, "change"] = figures.loc[key, "value"] - runs["value"].iloc[-1]
            figures.loc[key, "previous_period"] = None


def _risk_panel(
    at_risk: pd.DataFrame, currency: str | None, links: Mapping[str, str], min_cell: int
) -> Panel:
    by_segment = value_by_segment(at_risk, min_cell=min_cell)
    shown = by_segment.dropna(subset=["value_at_risk"])
    reading = segment_reading(shown, currency=currency)
    hidden = len(by_segment) - len(shown)
    if hidden:
        reading += f" {hidden} segments with fewer than {min_cell} customers are not shown."
    return _panel("Value at risk by segment", value_at_risk(shown), reading, links.get("churn"))


def _risk_actions(
    risk: Mapping[str, Any], currency: str | None, min_cell: int
) -> list[tuple[str, str | None]]:
    """Who to call today, with what the plan is expected to earn."""
    contacts = risk.get("contacts") or 0
    if not contacts:
        return []
    terms = ""
    if risk.get("offer_cost") is not None and risk.get("save_rate") is not None:
        terms = (
            f" (offer cost {figure_text(risk['offer_cost'], 'money', currency=currency)}, "
            f"save rate {figure_text(risk['save_rate'], 'rate')})"
        )
    profit = figure_text(risk.get("expected_profit"), "money", currency=currency)
    return [
        (
            f"Contact the {figure_text(contacts, 'count', min_cell=min_cell)} customers marked "
            f"for contact in at_risk.csv: the offer plan is expected to earn {profit}{terms}.",
            "at_risk.csv",
        )
    ]


def _recorded_actions(
    recorded: Mapping[str, Any], links: Mapping[str, str]
) -> list[tuple[str, str | None]]:
    """Actions from figures the notebooks recorded: the channel with the most credit."""
    actions = []
    for figures in recorded.values():
        if isinstance(figures, Mapping) and figures.get("top_channel"):
            share = figures.get("top_channel_share")
            part = f", {figure_text(share, 'rate')} of the conversion credit" if share else ""
            actions.append(
                (
                    f"Keep investing in {figures['top_channel']}: it earns the most credit for "
                    f"conversions{part} (Markov attribution).",
                    links.get("attribution"),
                )
            )
            break
    return actions


def _about(report: ReportData, head: Headline, period: str, notes: list[str]) -> list[str]:
    """What a reader should know: rows read and set aside, the span, the profile's choices."""
    p = report.profile
    lines = report.about_lines()
    times = report.events["timestamp"]
    complete = head.table.set_index("figure").loc["active_customers", "period"]
    lines.append(
        f"The log runs from {times.min():%-d %b %Y} to {times.max():%-d %b %Y}; figures are per "
        f"{period}, the latest complete one being {period_label(complete, period)}."
    )
    funnel_steps = " → ".join(map(str, p.funnel)) or "none"
    lines.append(
        f"Choices of the profile: conversion event {p.conversion or 'none'}, funnel "
        f"{funnel_steps}, a customer counts as lost after {duration_text(p.inactivity)} without "
        "a touchpoint. "
        "To change them, edit journey.yaml in this folder and run again with --profile."
    )
    lines += list(dict.fromkeys(n for n in notes if n not in lines))
    return lines


def _iso(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    return pd.Timestamp(value).strftime("%Y-%m-%d")


def _number(value: Any) -> float | None:
    if value is None or pd.isna(value):
        return None
    return float(value)
