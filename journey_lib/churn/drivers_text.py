"""Drivers as a reader sees them: their names, lifts and odds ratios in words, and which
rows a page with a privacy threshold may not show.

:mod:`journey_lib.churn.drivers` computes the table; the helpers here write it for a reader,
once for every page that shows drivers (:meth:`~journey_lib.churn.drivers.Drivers.formatted`,
:mod:`journey_lib.plots.drivers`, :mod:`journey_lib.report.segment_readings`).

**Small cells.** A driver's row rests on a 2x2 table of customers: with the feature and the
outcome (``a = round(rate_with * customers_with)``), with it and without the outcome (``b =
customers_with - a``), without it and with the outcome (``c = round(rate_without *
customers_without)``) and without either (``d = customers_without - c``). With a privacy
threshold ``min_cell = k``, a row with any of these cells from 1 to ``k - 1`` is a row a
page may not show (:func:`small_cells`): its rates, lift, odds ratio (with its interval) and
p-value each give the small cell back, given the row's customers and the population's
outcomes a page shows beside them (for instance ``rate_with = OR c / (d + OR c)``), and its
place in a table sorted by effect bounds its odds ratio by its neighbours'. A zero cell
singles out nobody and is no reason to hide a row.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["EVENT", "feature_label", "lift_text", "percent_text", "ratio_text", "small_cells"]

#: The ``feature`` of an event's row (a property's rows carry the property's column name).
EVENT = "event"


def feature_label(feature: Any, value: Any) -> str:
    """A driver as a reader names it: the event's name for an event (``signup``), else
    ``column = value`` (``channel = web``).

    Examples
    --------
    >>> feature_label("event", "signup"), feature_label("channel", "web")
    ('signup', 'channel = web')
    """
    return str(value) if feature == EVENT else f"{feature} = {value}"


def lift_text(lift: float) -> str:
    """A lift (``rate_with / rate_without``) as a reader sees it: ``"2.31×"``; ``"only
    with it"`` for ``inf`` (some with the feature had the outcome, none without it);
    ``"only without it"`` for 0 (none with it had the outcome, some without it did); ``"–"``
    for NaN (no rate without it, or neither group had the outcome).

    Examples
    --------
    >>> [lift_text(x) for x in (2.3125, float("inf"), 0.0, float("nan"))]
    ['2.31×', 'only with it', 'only without it', '–']
    """
    if lift is None or pd.isna(lift):
        return "–"
    if np.isinf(lift):
        return "only with it"
    if lift == 0:
        return "only without it"
    return f"{lift:.2f}×"


def ratio_text(value: float) -> str:
    """An odds ratio (or a bound of its interval) to two or three significant digits: whole
    numbers with thousands separators from 100, one decimal from 10, two from 0.1, two
    significant digits down to 0.001, ``"<0.001"`` below (never five decimals on a page);
    ``"∞"`` for an infinite bound, ``"–"`` when missing.

    Examples
    --------
    >>> [ratio_text(x) for x in (2727.4, 37.304, 6.0, 0.375, 0.0037, 0.00088, float("nan"))]
    ['2,727', '37.3', '6.00', '0.38', '0.0037', '<0.001', '–']
    >>> ratio_text(float("inf"))
    '∞'
    """
    if value is None or pd.isna(value):
        return "–"
    if value == float("inf"):
        return "∞"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    if value >= 0.1:
        return f"{value:.2f}"
    if value < 0.001:
        return "<0.001"
    return f"{value:.2g}"


def percent_text(rate: float) -> str:
    """A share as a percentage to one decimal; ``"–"`` when missing.

    Examples
    --------
    >>> percent_text(0.2134), percent_text(float("nan"))
    ('21.3%', '–')
    """
    return "–" if pd.isna(rate) else f"{rate:.1%}"


def small_cells(table: pd.DataFrame, min_cell: int) -> pd.Series:
    """Which rows of a :func:`journey_lib.drivers` table a page with ``min_cell = k`` may
    not show: those whose 2x2 table (see the module docstring) has a cell from 1 to
    ``k - 1``. A missing rate (no customer without the feature) counts as no customer with
    the outcome. ``min_cell = 0`` hides no row.

    Parameters
    ----------
    table : DataFrame
        With ``customers_with``, ``customers_without``, ``rate_with`` and ``rate_without``.
    min_cell : int
        The privacy threshold (0: hide nothing).

    Returns
    -------
    Series of bool
        True for a row to hide, aligned with ``table``.

    Examples
    --------
    >>> table = pd.DataFrame({"customers_with": [100, 100, 100, 3],
    ...                       "customers_without": [900, 900, 900, 997],
    ...                       "rate_with": [0.3, 0.03, 0.0, 0.0],
    ...                       "rate_without": [0.3, 0.3, 0.3, 0.3]})
    >>> small_cells(table, 5).tolist()  # 3 with it had the outcome; 3 have it at all
    [False, True, False, True]
    """
    n1 = table["customers_with"].to_numpy(dtype="float64")
    n0 = table["customers_without"].to_numpy(dtype="float64")
    a = np.nan_to_num(table["rate_with"].to_numpy(dtype="float64") * n1).round()
    c = np.nan_to_num(table["rate_without"].to_numpy(dtype="float64") * n0).round()
    cells = np.column_stack([a, n1 - a, c, n0 - c])
    small = ((cells > 0) & (cells < min_cell)).any(axis=1) if min_cell else np.zeros(len(table))
    return pd.Series(small.astype(bool), index=table.index)
