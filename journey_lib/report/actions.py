"""What to do: the actions a summary page lists, each a sentence with its number.

Each function returns ``(sentence, link)`` pairs (none when its analysis points nowhere):
the funnel step that loses the most customers, the segment of customers whose churn rose
most beyond chance, the customers to contact, the channel with the most credit. A
number the privacy threshold would hide leaves its action out rather than say ``<k``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .._engine import to_pandas
from .._intervals import rate_difference
from ..analytics.activity import CHURN_COLUMNS, churn_rate
from ..analytics.funnels import funnel
from ..analytics.segments import MISSING, OTHER
from ..errors import JourneyDataError, JourneyDataWarning
from .data import ReportData
from .formatting import change_text, duration_text, figure_text, period_label

__all__ = [
    "contact_action",
    "credit_action",
    "funnel_action",
    "segment_churn_action",
    "weakest_step",
]

Action = tuple[str, "str | None"]

# Largest segments of each column whose churn is tested; with a Bonferroni correction over
# all of them, so that testing many does not make a chance rise likely.
_SEGMENTS = 6
_FALSE_ALARM = 0.05


def weakest_step(table: pd.DataFrame) -> int | None:
    """The funnel step *k* whose move to step *k + 1* loses the most customers (the first
    of equals), from :func:`journey_lib.funnel` without a breakdown; None when no step
    loses anyone.

    Examples
    --------
    >>> table = pd.DataFrame({"step": [1, 2, 3], "customers": [100, 40, 30]})
    >>> weakest_step(table)
    1
    """
    counts = table["customers"].to_numpy()
    if len(counts) < 2 or counts[0] == 0:
        return None
    lost = counts[:-1] - counts[1:]
    i = int(lost.argmax())
    return i + 1 if lost[i] > 0 else None


def funnel_action(
    events: Any, steps: list[Any], window: Any, link: str | None, min_cell: int = 0
) -> list[Action]:
    """The step of the funnel (:func:`journey_lib.funnel`) that loses the most customers.

    Examples
    --------
    >>> log = pd.DataFrame({"customer_id": [1, 1, 2, 3],
    ...                     "event": ["visit", "buy", "visit", "visit"],
    ...                     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02",
    ...                                                  "2024-01-03", "2024-01-04"], utc=True)})
    >>> print(funnel_action(log, ["visit", "buy"], "30D", None)[0][0])
    ... # doctest: +NORMALIZE_WHITESPACE
    Work on the step from visit to buy: it loses the most customers, 2 of 3 (66.7%) within
    30 days.
    """
    table = to_pandas(funnel(events, steps, window=window))
    k = weakest_step(table)
    if k is None:
        return []
    counts = table["customers"].to_numpy()
    i = k - 1
    lost = counts[i] - counts[i + 1]
    texts = [figure_text(n, "count", min_cell=min_cell) for n in (lost, counts[i])]
    if any(text.startswith("<") for text in texts):
        return []
    names = table["event"].astype(str).tolist()
    share = figure_text(1 - table["step_conversion_rate"].iloc[i + 1], "rate")
    return [
        (
            f"Work on the step from {names[i]} to {names[i + 1]}: it loses the most customers, "
            f"{texts[0]} of {texts[1]} ({share}) within {duration_text(window)}.",
            link,
        )
    ]


def segment_churn_action(
    data: ReportData,
    churn: Mapping[str, Any],
    period: str,
    inactivity: Any,
    link: str | None,
    min_cell: int = 0,
) -> list[Action]:
    """The segment of customers whose churn rose most beyond chance, with its interval.

    Definitions
    -----------
    * **Columns**: :meth:`ReportData.segment_columns` (the customer table's segment-like
      columns, the log's ``channel``, the profile's properties). A log column gives each
      customer the value of their first row that has one (so ``channel`` is the channel they
      came through); a customer table's column, its one value. Each column's six largest
      segments are compared (:meth:`ReportData.segments`, ``top=6``), less the ``(other)``
      and ``(missing)`` buckets (which may be among the six), no segments to act on. A
      column named like
      a column of :func:`journey_lib.churn_rate`'s result (``period``, ``lost``, ...) cannot
      be broken down and is skipped; one whose values the breakdown refuses (``(missing)``
      written as a value, a customer table listing a customer twice) is skipped with a
      :class:`~journey_lib.errors.JourneyDataWarning` saying why.
    * **Churn** of a segment: :func:`journey_lib.churn_rate` of its customers (one call per
      column, ``by=`` the column) in the headline's churn period and the one before
      (``churn``: the headline table's ``churn_rate`` row, its ``period`` and
      ``previous_period``).
    * **Tested**: a segment whose customers active at the start of both periods number at
      least ``max(min_cell, 1)``. The change gets Newcombe's interval at the Bonferroni
      level ``1 - 0.05 / m``, ``m`` the segments tested over all columns, so that the
      chance of any interval missing its true change is at most 5% (95% family-wise). The
      interval treats the two periods' customers as independent samples, which they are
      not quite (those kept in the earlier period make up much of the later one's base):
      an approximation, as for the headline's churn change. Two columns splitting the
      customers alike (a customer table's acquisition channel beside the log's channel)
      are both tested, which makes ``m`` larger and the test stricter, never laxer.
    * **Named**: of the segments whose interval lies above zero, the one whose churn rose
      most (of equal rises, the first column's, then the alphabetically first value's).
      Under ``min_cell`` a segment whose lost (or kept) customers in either period number 1
      to ``min_cell - 1`` is not named, since its rates would give that count away.

    Nothing when the log has no such column, the churn row has no previous period, or no
    rise is beyond chance.

    Examples
    --------
    Twenty customers on the free plan stop visiting after May; twenty on pro keep on:

    >>> from journey_lib.io.profile import profile
    >>> from journey_lib.report.data import open_data
    >>> visits = pd.date_range("2024-02-01", "2024-07-01", freq="MS") + pd.Timedelta(days=4)
    >>> log = pd.DataFrame(
    ...     [(i, t, "visit", "free" if i < 20 else "pro")
    ...      for i in range(40) for t in visits if i >= 20 or t.month <= 5],
    ...     columns=["customer_id", "timestamp", "event", "plan"])
    >>> log["timestamp"] = log["timestamp"].dt.tz_localize("UTC")
    >>> data = open_data(log, profile(log, period="month", inactivity="30D"))
    >>> june, may = (pd.Timestamp(f"2024-0{m}-01", tz="UTC") for m in (6, 5))
    >>> churn = {"period": june, "previous_period": may}
    >>> print(segment_churn_action(data, churn, "month", "30D", None)[0][0])
    ... # doctest: +NORMALIZE_WHITESPACE
    Look at customers whose first plan was free: their churn rose from 0.0% to 100.0% in
    June 2024 (+100.0 points; 95% interval +71.6 to +100.0 points, allowing for the 2
    segments compared).
    """
    if pd.isna(churn["period"]) or pd.isna(churn["previous_period"]):
        return []
    when = [churn["previous_period"], churn["period"]]
    blocks = []
    for column in data.segment_columns():
        if column in CHURN_COLUMNS:
            continue
        try:
            table = to_pandas(
                churn_rate(
                    data.events,
                    period=period,
                    inactivity=inactivity,
                    by=data.segments(column, by_rule="first", top=_SEGMENTS),
                )
            )
        except JourneyDataError as error:
            warnings.warn(
                f"Churn was not compared across the segments of `{column}`: "
                f"{str(error).splitlines()[0]}",
                JourneyDataWarning,
                stacklevel=2,
            )
            continue
        table = table[table["period"].isin(when) & ~table[column].isin([OTHER, MISSING])]
        # One row per segment: the earlier period's counts beside the later one's.
        wide = table.pivot(index=column, columns="period", values=["active_start", "lost"])
        if wide.shape[1] < 4:  # a period the breakdown does not report
            continue
        blocks.append(
            pd.DataFrame(
                {
                    "column": column,
                    "value": wide.index.astype(str),
                    "base_before": wide[("active_start", when[0])].to_numpy(),
                    "lost_before": wide[("lost", when[0])].to_numpy(),
                    "base": wide[("active_start", when[1])].to_numpy(),
                    "lost": wide[("lost", when[1])].to_numpy(),
                }
            )
        )
    if not blocks:
        return []
    segments = pd.concat(blocks, ignore_index=True)
    tested = segments[segments[["base", "base_before"]].min(axis=1) >= max(min_cell, 1)]
    if tested.empty:
        return []
    confidence = 1 - _FALSE_ALARM / len(tested)
    low, high = rate_difference(
        tested["lost"], tested["base"], tested["lost_before"], tested["base_before"], confidence
    )
    rates = tested.assign(
        before=tested["lost_before"] / tested["base_before"],
        now=tested["lost"] / tested["base"],
        low=np.asarray(low),
        high=np.asarray(high),
    )
    # A rate gives away both its counts: those lost and those kept.
    counts = pd.concat(
        [
            rates[["lost", "lost_before"]],
            rates["base"] - rates["lost"],
            rates["base_before"] - rates["lost_before"],
        ],
        axis=1,
    )
    small = ((counts > 0) & (counts < min_cell)).any(axis=1)
    rises = rates[(rates["low"] > 0) & ~small]
    if rises.empty:
        return []
    best = rises.loc[(rises["now"] - rises["before"]).idxmax()]
    interval = (
        f"{change_text(best['low'], 'rate').removesuffix(' points')} to "
        f"{change_text(best['high'], 'rate')}"
    )
    compared = f"{len(tested)} segment{'s' * (len(tested) != 1)}"
    return [
        (
            f"Look at customers {_who(data, best['column'], best['value'])}: their churn rose "
            f"from {figure_text(best['before'], 'rate')} to {figure_text(best['now'], 'rate')} "
            f"in {period_label(churn['period'], period)} "
            f"({change_text(best['now'] - best['before'], 'rate')}; 95% interval {interval}, "
            f"allowing for the {compared} compared).",
            link,
        )
    ]


def _who(data: ReportData, column: str, value: str) -> str:
    """The customers of a segment in words: a customer table's column holds one value per
    customer; a log column's value is the customer's first (their channel, the one they
    came through)."""
    if data.segments(column).customers is not None:
        return f"whose {column} is {value}"
    if column == "channel":
        return f"who came through {value}"
    return f"whose first {column} was {value}"


def contact_action(
    risk: Mapping[str, Any], currency: str | None, min_cell: int = 0
) -> list[Action]:
    """Who to call today, from the at-risk list's figures (``AtRisk.metrics()``), with what
    the offer plan is expected to earn.

    Examples
    --------
    >>> contact_action({"contacts": 175, "expected_profit": 7502.3, "offer_cost": 5.0,
    ...                 "save_rate": 0.3}, "EUR")[0][0]  # doctest: +NORMALIZE_WHITESPACE
    'Contact the 175 customers marked for contact in at_risk.csv: the offer plan is
    expected to earn €7,502 (offer cost €5.00, save rate 30.0%).'

    After a logged campaign, the list follows each customer's uplift:

    >>> contact_action({"contacts": 90, "expected_profit": 2100.0, "offer_cost": 5.0,
    ...                 "save_rate": None, "ranking": "uplift"}, "EUR")[0][0]
    ... # doctest: +NORMALIZE_WHITESPACE
    'Contact the 90 customers marked for contact in at_risk.csv: the offer plan is expected
    to earn €2,100 (offer cost €5.00; chosen by what the offer changed for customers like
    them in the logged campaign, so nobody it would push away is called).'
    """
    contacts = risk.get("contacts")
    if not isinstance(contacts, int | float) or not contacts:
        return []
    count = figure_text(contacts, "count", min_cell=min_cell)
    if count.startswith("<"):
        return []
    terms = ""
    if risk.get("offer_cost") is not None and risk.get("ranking") == "uplift":
        terms = (
            f" (offer cost {figure_text(risk['offer_cost'], 'money', currency=currency)}; "
            "chosen by what the offer changed for customers like them in the logged campaign, "
            "so nobody it would push away is called)"
        )
    elif risk.get("offer_cost") is not None and risk.get("save_rate") is not None:
        terms = (
            f" (offer cost {figure_text(risk['offer_cost'], 'money', currency=currency)}, "
            f"save rate {figure_text(risk['save_rate'], 'rate')})"
        )
    profit = figure_text(risk.get("expected_profit"), "money", currency=currency)
    return [
        (
            f"Contact the {count} customers marked for contact in at_risk.csv: the offer plan "
            f"is expected to earn {profit}{terms}.",
            "at_risk.csv",
        )
    ]


def credit_action(recorded: Mapping[str, Any], link: str | None) -> list[Action]:
    """The channel with the most conversion credit, as the attribution notebook recorded
    it (``top_channel`` and ``top_channel_share``)."""
    for figures in recorded.values():
        if isinstance(figures, Mapping) and figures.get("top_channel"):
            share = figures.get("top_channel_share")
            part = f", {figure_text(share, 'rate')} of the conversion credit" if share else ""
            return [
                (
                    f"Keep investing in {figures['top_channel']}: it earns the most credit for "
                    f"conversions{part} (Markov attribution).",
                    link,
                )
            ]
    return []
