"""A change in words, as the report's readings, the figures' titles and the customer
timeline say it: one implementation of each part.

- **Levels** (:func:`level_words`): events or customers per period, whole from ten and to
  one decimal below (0.4 a day is not "0"); a rate as a percentage to one decimal; money
  per customer.
- **When** (:func:`when_words`): "since 13 May 2024" for an ongoing change, "in the week of
  13 May 2024" or "on 13 May 2024" for one period, else "from 13 May to 9 Jun 2024", to the
  last day of the last period.
- **The move** (:func:`move_words`), short, for a title or a label: a rate's levels ("down
  from 61.0% to 33.0%"), a count's or money's size against before ("up 270%"), from nothing
  the level during ("up from 0 to 30 a week"). A level a page may not show (missing, see
  :func:`journey_lib.report.private_changes`) is left out: "down to 33.0%", "down from
  61.0% to a level not shown for privacy" (:data:`NOT_SHOWN`).

The direction is the sign of the change's score, which a page always shows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from .series import FAMILY

__all__ = [
    "NOT_SHOWN",
    "PER",
    "date_words",
    "level_words",
    "move_words",
    "number_words",
    "when_words",
]

#: "per period" in words.
PER: dict[str, str] = {"day": "a day", "week": "a week"}
#: A level during a change that a page may not show, in words.
NOT_SHOWN = "a level not shown for privacy"


def number_words(value: float) -> str:
    """A level: whole from ten, one decimal below.

    Examples
    --------
    >>> number_words(29.75), number_words(0.43), number_words(0.0), number_words(-1234.0)
    ('30', '0.4', '0', '-1,234')
    """
    return f"{value:,.0f}" if abs(value) >= 10 or value == 0 else f"{value:.1f}"


def date_words(t: Any) -> str:
    """A day as ``"13 May 2024"``.

    Examples
    --------
    >>> date_words(pd.Timestamp("2024-05-13", tz="UTC"))
    '13 May 2024'
    """
    t = pd.Timestamp(t)
    return f"{t.day} {t:%b %Y}"


def level_words(
    value: float,
    metric: str,
    period: str,
    money: Callable[[float], str] | None = None,
) -> str:
    """A series' level as a reader takes it (see the module docstring); ``money`` writes an
    amount (with its currency sign), by default to two decimals.

    Examples
    --------
    >>> level_words(29.75, "events", "week"), level_words(0.43, "active customers", "day")
    ('30 a week', '0.4 a day')
    >>> level_words(0.612, "conversion", "week"), level_words(12.5, "revenue per customer", "week")
    ('61.2%', '12.50')
    """
    family = FAMILY[metric]
    if family == "rate":
        return f"{value:.1%}"
    if family == "money":
        return money(value) if money is not None else f"{value:,.2f}"
    return f"{number_words(value)} {PER[period]}"


def when_words(row: Mapping[str, Any] | pd.Series, period: str) -> str:
    """When a change happened, from its ``start``, ``periods`` and ``ongoing``.

    Examples
    --------
    >>> row = {"start": pd.Timestamp("2024-05-13", tz="UTC"), "periods": 4, "ongoing": False}
    >>> when_words(row, "week"), when_words({**row, "ongoing": True}, "week")
    ('from 13 May to 9 Jun 2024', 'since 13 May 2024')
    >>> when_words({**row, "periods": 1}, "week"), when_words({**row, "periods": 1}, "day")
    ('in the week of 13 May 2024', 'on 13 May 2024')
    >>> when_words({**row, "start": pd.Timestamp("2024-12-30"), "periods": 3}, "day")
    'from 30 Dec 2024 to 1 Jan 2025'
    """
    start = pd.Timestamp(row["start"])
    if row["ongoing"]:
        return f"since {date_words(start)}"
    if int(row["periods"]) == 1:
        return (
            f"in the week of {date_words(start)}" if period == "week" else f"on {date_words(start)}"
        )
    # The last day of the last period, so a weekly window reads to its Sunday.
    step = pd.Timedelta(days=1 if period == "day" else 7)
    last = start + int(row["periods"]) * step - pd.Timedelta(days=1)
    first = f"{start.day} {start:%b}" if start.year == last.year else date_words(start)
    return f"from {first} to {date_words(last)}"


def move_words(row: Mapping[str, Any] | pd.Series, period: str) -> str:
    """A change's move, short (see the module docstring), from its ``metric``, ``score``,
    ``before``, ``during`` and ``relative``.

    Examples
    --------
    >>> row = {"metric": "conversion", "score": -9.1, "before": 0.61, "during": 0.33,
    ...        "relative": -0.46}
    >>> move_words(row, "week"), move_words({**row, "before": float("nan")}, "week")
    ('down from 61.0% to 33.0%', 'down to 33.0%')
    >>> move_words({**row, "during": float("nan")}, "week")
    'down from 61.0% to a level not shown for privacy'
    >>> count = {"metric": "events", "score": 8.0, "before": 8.0, "during": 29.6, "relative": 2.7}
    >>> move_words(count, "week"), move_words({**count, "before": 0.0}, "week")
    ('up 270%', 'up from 0 to 30 a week')
    """
    way = "up" if row["score"] > 0 else "down"
    before, during = float(row["before"]), float(row["during"])
    if math.isnan(during):
        shown = "" if math.isnan(before) else f" from {level_words(before, row['metric'], period)}"
        return f"{way}{shown} to {NOT_SHOWN}"
    level = level_words(during, row["metric"], period)
    if math.isnan(before):
        return f"{way} to {level}"
    if FAMILY[row["metric"]] == "rate":
        return f"{way} from {before:.1%} to {level}"
    if before == 0:
        return f"{way} from 0 to {level}"
    return f"{way} {abs(float(row['relative'])):,.0%}"
