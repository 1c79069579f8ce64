"""Numbers as a report shows them: counts with thousands separators, rates as percentages,
money with its currency, changes with their sign, periods by name, and small counts hidden.

Every figure on a summary page goes through :func:`figure_text` and :func:`change_text`, so a
raw float never reaches a page.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from .._time import DAY_US, duration_us

__all__ = ["UNITS", "change_text", "duration_text", "figure_text", "period_label"]

#: What a figure measures, which decides how it is written.
UNITS = ("count", "rate", "money")

# A currency shown by its sign before the amount; any other code follows the amount.
_SIGNS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "INR": "₹"}
_MINUS = "\N{MINUS SIGN}"


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _money(amount: float, currency: str | None, signed: bool = False) -> str:
    digits = 2 if abs(amount) < 100 else 0
    number = f"{abs(amount):,.{digits}f}"
    code = (currency or "").upper()
    text = f"{_SIGNS[code]}{number}" if code in _SIGNS else f"{number} {code}".rstrip()
    if amount < 0:
        return _MINUS + text
    return "+" + text if signed else text


def figure_text(
    value: Any,
    unit: str,
    *,
    currency: str | None = None,
    min_cell: int = 0,
    base: Any = None,
) -> str:
    """A figure as text: ``12,345``, ``21.4%`` or ``€1,234``; ``–`` when it is missing.

    Parameters
    ----------
    value : number or None
    unit : {"count", "rate", "money"}
    currency : str, optional
        An ISO code; EUR, USD, GBP, JPY and INR are written with their sign.
    min_cell : int, default 0
        Privacy threshold: a count from 1 to ``min_cell - 1``, or a figure computed from
        that few customers (``base``), is written ``<min_cell``; a zero is shown (it
        singles out nobody). 0 hides nothing.
    base : int, optional
        How many customers the figure was computed from.

    Examples
    --------
    >>> figure_text(12345, "count"), figure_text(0.21358, "rate")
    ('12,345', '21.4%')
    >>> figure_text(1234.5, "money", currency="EUR")
    '€1,234'
    >>> figure_text(4, "count", min_cell=5), figure_text(0.5, "rate", min_cell=10, base=6)
    ('<5', '<10')
    """
    if _missing(value):
        return "–"
    if min_cell and (
        (unit == "count" and 0 < value < min_cell) or (base is not None and 0 < base < min_cell)
    ):
        return f"<{min_cell}"
    if unit == "count":
        return f"{round(value):,}"
    if unit == "rate":
        if 0 < abs(value) < 0.001:
            return "<0.1%"
        return f"{value:.1%}"
    if unit == "money":
        return _money(float(value), currency)
    raise ValueError(f"unknown unit {unit!r}; one of {UNITS}")


def change_text(change: Any, unit: str, *, currency: str | None = None) -> str:
    """A change with its sign: ``+120``, ``−2.9 points`` (rates change in percentage
    points), ``+€35``; ``–`` when unknown.

    Examples
    --------
    >>> change_text(120, "count"), change_text(-0.0291, "rate"), change_text(35.2, "money")
    ('+120', '−2.9 points', '+35.20')
    >>> change_text(-0.0004, "rate"), change_text(-0.2, "count")
    ('+0.0 points', '+0')
    """
    if _missing(change):
        return "–"
    # The sign of what is written: a change that rounds to nothing is "+0", never "−0".
    if unit == "count":
        size = abs(round(change))
        return f"{_MINUS if change < 0 and size else '+'}{size:,}"
    if unit == "rate":
        points = f"{abs(change) * 100:.1f}"
        sign = _MINUS if change < 0 and float(points) else "+"
        return f"{sign}{points} points"
    if unit == "money":
        return _money(float(change), currency, signed=True)
    raise ValueError(f"unknown unit {unit!r}; one of {UNITS}")


def period_label(start: Any, period: str) -> str:
    """A calendar period by name, from its start: ``"November 2024"``, ``"the week of
    4 Nov 2024"``, ``"Q4 2024"``, to follow "in".

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.Timestamp("2024-11-01", tz="UTC")
    >>> [period_label(t, p) for p in ("day", "week", "month", "quarter", "year")]
    ['1 Nov 2024', 'the week of 1 Nov 2024', 'November 2024', 'Q4 2024', '2024']
    """
    if _missing(start) or start is pd.NaT:
        return "–"
    t = pd.Timestamp(start)
    day = f"{t.day} {t:%b %Y}"
    return {
        "day": day,
        "week": f"the week of {day}",
        "month": f"{t:%B %Y}",
        "quarter": f"Q{t.quarter} {t.year}",
        "year": f"{t.year}",
    }.get(period, day)


def duration_text(value: Any) -> str:
    """A duration (``"30D"``, ``"12h"``, a Timedelta) in words.

    Examples
    --------
    >>> duration_text("30D"), duration_text("1D"), duration_text("36h"), duration_text("90min")
    ('30 days', '1 day', '36 hours', '90 minutes')
    """
    us = duration_us(value, "duration")
    for size, unit in ((DAY_US, "day"), (DAY_US // 24, "hour"), (DAY_US // 1440, "minute")):
        if us % size == 0:
            count = us // size
            return f"{count:,} {unit}{'s' * (count != 1)}"
    return f"{us / 1e6:,.0f} seconds"
