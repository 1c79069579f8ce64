"""What to do: the actions a summary page lists, each a sentence with its number.

Each function returns ``(sentence, link)`` pairs (none when its analysis points nowhere):
the funnel step that loses the most customers, the acquisition channel whose customers'
churn rose beyond chance, the customers to contact, the channel with the most credit. A
number the privacy threshold would hide leaves its action out rather than say ``<k``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from .._intervals import rate_difference
from ..analytics.funnels import funnel
from ..analytics.retention import churn_rate
from .formatting import change_text, duration_text, figure_text, period_label

__all__ = [
    "channel_churn_action",
    "contact_action",
    "credit_action",
    "funnel_action",
    "weakest_step",
]

Action = tuple[str, "str | None"]

# Most acquisition channels whose churn is tested; with a Bonferroni correction, so that
# testing several does not make a chance rise likely.
_CHANNELS = 6
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
    events: pd.DataFrame, steps: list[Any], window: Any, link: str | None, min_cell: int = 0
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
    table = funnel(events, steps, window=window)
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


def channel_churn_action(
    events: pd.DataFrame,
    churn: Mapping[str, Any],
    period: str,
    inactivity: Any,
    link: str | None,
    min_cell: int = 0,
) -> list[Action]:
    """The acquisition channel whose customers' churn rose most beyond chance.

    A customer's channel is that of their first touchpoint. For each of the six largest,
    the churn rate of its customers (:func:`journey_lib.churn_rate`) in the headline's churn
    period and the one before (``churn``: its row of the headline table), with Newcombe's
    interval on the change at a Bonferroni-corrected level (95% over all the channels
    tested). Nothing when the log has no channel or no rise is beyond chance.
    """
    if "channel" not in events or events["channel"].isna().all() or pd.isna(churn["period"]):
        return []
    if pd.isna(churn["previous_period"]):
        return []
    first = events.sort_values("timestamp", kind="stable").drop_duplicates("customer_id")
    acquired = first.set_index("customer_id")["channel"].dropna()
    channels = acquired.value_counts().index[:_CHANNELS]
    confidence = 1 - _FALSE_ALARM / len(channels)
    rises = []
    # One churn_rate per channel (six at most), each vectorised over its customers.
    for channel in channels:
        ids = acquired.index[acquired == channel]
        rates = churn_rate(
            events[events["customer_id"].isin(ids)], period=period, inactivity=inactivity
        ).set_index("period")
        if not {churn["period"], churn["previous_period"]} <= set(rates.index):
            continue
        now, before = rates.loc[churn["period"]], rates.loc[churn["previous_period"]]
        if min(now["active_start"], before["active_start"]) < max(min_cell, 1):
            continue
        low, _ = rate_difference(
            now["lost"], now["active_start"], before["lost"], before["active_start"], confidence
        )
        if low > 0:
            rises.append((float(now["churn_rate"] - before["churn_rate"]), channel, now, before))
    if not rises:
        return []
    change, channel, now, before = max(rises, key=lambda rise: rise[0])
    return [
        (
            f"Look at customers who came through {channel}: their churn rose from "
            f"{figure_text(before['churn_rate'], 'rate')} to "
            f"{figure_text(now['churn_rate'], 'rate')} in "
            f"{period_label(churn['period'], period)} ({change_text(change, 'rate')}, beyond "
            "chance).",
            link,
        )
    ]


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
    """
    contacts = risk.get("contacts")
    if not isinstance(contacts, int | float) or not contacts:
        return []
    count = figure_text(contacts, "count", min_cell=min_cell)
    if count.startswith("<"):
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
