"""Intervals on a difference: between a headline figure's two periods (so a report says when a
change could be noise instead of drawing a bare arrow), or between two groups' shares of a
journey flow. Used from every layer, as _time is.

Three kinds, one per kind of figure:

* a **rate** (``x`` of ``n`` customers): Newcombe's hybrid score interval on the difference
  of two independent proportions (Newcombe 1998, method 10), built from Wilson intervals.
  It stays inside [-1, 1] and behaves at rates near 0 or 1 and at small ``n``, where the
  textbook Wald interval does not;
* a **count** (customers in a period): the normal interval of the difference of two Poisson
  counts, ``a - b +/- z sqrt(a + b)``;
* a **total or mean of money** over customers: the normal interval from the customers'
  spread, ``sqrt(n) s`` for a total and ``s / sqrt(n)`` for a mean, the two periods taken as
  independent samples.

Each returns ``(low, high)`` as NumPy arrays (or floats for scalar input).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import norm

__all__ = ["count_difference", "mean_difference", "rate_difference", "wilson"]


def _z(confidence: float) -> float:
    return float(norm.ppf(0.5 + confidence / 2))


def wilson(x: Any, n: Any, confidence: float = 0.95) -> tuple[Any, Any]:
    """Wilson score interval of a proportion ``x / n`` (NaN where ``n`` is 0).

    Examples
    --------
    >>> low, high = wilson(81, 263)
    >>> round(float(low), 4), round(float(high), 4)
    (0.2553, 0.3662)
    """
    x, n = np.asarray(x, dtype=float), np.asarray(n, dtype=float)
    z = _z(confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = x / n
        centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    # At x = 0 (x = n) the lower (upper) bound is 0 (1) exactly, whatever the rounding.
    return np.where(x == 0, 0.0, centre - half), np.where(x == n, 1.0, centre + half)


def rate_difference(
    x1: Any, n1: Any, x2: Any, n2: Any, confidence: float = 0.95
) -> tuple[Any, Any]:
    """Newcombe's interval on ``x1/n1 - x2/n2`` (period 1 is the later one).

    Examples
    --------
    Newcombe's (1998) worked example, 56/70 against 48/80: the difference is 0.2 and the
    interval 0.0524 to 0.3339.

    >>> low, high = rate_difference(56, 70, 48, 80)
    >>> round(float(low), 4), round(float(high), 4)
    (0.0524, 0.3339)
    """
    p1 = np.asarray(x1, dtype=float) / np.asarray(n1, dtype=float)
    p2 = np.asarray(x2, dtype=float) / np.asarray(n2, dtype=float)
    l1, u1 = wilson(x1, n1, confidence)
    l2, u2 = wilson(x2, n2, confidence)
    d = p1 - p2
    low = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return low, high


def count_difference(a: Any, b: Any, confidence: float = 0.95) -> tuple[Any, Any]:
    """Normal interval of ``a - b`` for two Poisson counts.

    Examples
    --------
    >>> low, high = count_difference(120, 100)
    >>> round(float(low), 1), round(float(high), 1)
    (-9.1, 49.1)
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    half = _z(confidence) * np.sqrt(a + b)
    return a - b - half, a - b + half


def mean_difference(
    values1: Any, values2: Any, *, total: bool = False, confidence: float = 0.95
) -> tuple[float, float]:
    """Normal interval on the difference of two means (or totals, ``total=True``) of
    per-customer amounts; NaN when either side has fewer than two customers.

    Examples
    --------
    >>> low, high = mean_difference([10, 20, 30, 40], [10, 10, 20, 20])
    >>> round(low, 2), round(high, 2)
    (-3.86, 23.86)
    """
    a, b = np.asarray(values1, dtype=float), np.asarray(values2, dtype=float)
    if len(a) < 2 or len(b) < 2:
        return float("nan"), float("nan")
    if total:
        diff = a.sum() - b.sum()
        se = np.sqrt(len(a) * a.var(ddof=1) + len(b) * b.var(ddof=1))
    else:
        diff = a.mean() - b.mean()
        se = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    half = _z(confidence) * se
    return float(diff - half), float(diff + half)
