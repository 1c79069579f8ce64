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

Beside them, for an association between having something and an outcome, read as 2x2 tables
of counts (``a`` with both, ``b`` with the feature only, ``c`` with the outcome only, ``d``
with neither), one table per element of the arrays:

* :func:`odds_ratio`: the odds ratio ``a d / (b c)`` with Woolf's interval on its logarithm,
  ``exp(log OR +/- z sqrt(1/a + 1/b + 1/c + 1/d))``; a table with a zero cell has 0.5 added
  to every cell first (the Haldane-Anscombe correction), for the estimate and the interval
  alike, so both stay finite;
* :func:`association_test`: the two-sided p-value of independence, from Pearson's
  chi-square (1 degree of freedom, no continuity correction) when every expected count is at
  least 5 (Cochran's rule), else from Fisher's exact test, whose p-value is exact where the
  chi-square approximation is poor;
* :func:`benjamini_hochberg`: p-values adjusted for testing many such tables at once.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import chi2, fisher_exact, norm

__all__ = [
    "association_test",
    "benjamini_hochberg",
    "count_difference",
    "mean_difference",
    "odds_ratio",
    "rate_difference",
    "wilson",
]


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


def odds_ratio(a: Any, b: Any, c: Any, d: Any, confidence: float = 0.95) -> tuple[Any, Any, Any]:
    """Odds ratio of each 2x2 table ``[[a, b], [c, d]]`` with Woolf's interval, as NumPy
    arrays ``(odds_ratio, low, high)`` (see the module docstring: a table with a zero cell
    gets the Haldane-Anscombe 0.5 in every cell).

    Examples
    --------
    Without a zero cell, ``20 * 90 / (80 * 10) = 2.25``; with one, ``(0.5 * 40.5) / (50.5 *
    10.5) = 0.0382``.

    >>> ratio, low, high = odds_ratio([20, 0], [80, 50], [10, 10], [90, 40])
    >>> [round(float(x), 4) for x in ratio]
    [2.25, 0.0382]
    >>> round(float(low[0]), 4), round(float(high[0]), 4)
    (0.9943, 5.0915)
    """
    cells = [np.asarray(x, dtype=float) for x in (a, b, c, d)]
    zero = np.any([x == 0 for x in cells], axis=0)
    a, b, c, d = (np.where(zero, x + 0.5, x) for x in cells)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ratio = np.log(a) + np.log(d) - np.log(b) - np.log(c)
        half = _z(confidence) * np.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    return np.exp(log_ratio), np.exp(log_ratio - half), np.exp(log_ratio + half)


def association_test(a: Any, b: Any, c: Any, d: Any) -> tuple[Any, Any]:
    """Two-sided p-value of independence in each 2x2 table ``[[a, b], [c, d]]`` and the test
    that gave it (``"chi2"`` or ``"fisher"``, see the module docstring), as NumPy arrays.

    The chi-square is computed for all tables at once; Fisher's test runs once per table
    with an expected count under 5, which a floor on group sizes keeps few.

    Examples
    --------
    >>> p, test = association_test([20, 2], [80, 8], [10, 1], [90, 9])
    >>> round(float(p[0]), 4), test.tolist()
    (0.0477, ['chi2', 'fisher'])
    >>> round(float(p[1]), 4)
    1.0
    """
    a, b, c, d = (np.asarray(x, dtype=float) for x in (a, b, c, d))
    n = a + b + c + d
    rows, columns = (a + b, c + d), (a + c, b + d)
    with np.errstate(divide="ignore", invalid="ignore"):
        statistic = n * (a * d - b * c) ** 2 / (rows[0] * rows[1] * columns[0] * columns[1])
        expected = np.minimum(*rows) * np.minimum(*columns) / n
    p = chi2.sf(statistic, 1)
    small = ~(expected >= 5)
    p = np.where(small, np.nan, p)
    for i in np.flatnonzero(small):
        table = [[int(a.flat[i]), int(b.flat[i])], [int(c.flat[i]), int(d.flat[i])]]
        p.flat[i] = fisher_exact(table).pvalue
    return p, np.where(small, "fisher", "chi2")


def benjamini_hochberg(p: Any, groups: Any = None) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values, within each group of ``groups`` (one family
    per segment) or over all of ``p``: the ``i``-th smallest of a family's ``m`` p-values
    becomes ``min over j >= i of p_(j) m / j``, capped at 1, as
    ``scipy.stats.false_discovery_control(p, method="bh")`` computes for one family; here
    every family at once, without a loop over them.

    Examples
    --------
    >>> benjamini_hochberg([0.01, 0.04, 0.03, 0.5]).round(4).tolist()
    [0.04, 0.0533, 0.0533, 0.5]
    >>> benjamini_hochberg([0.01, 0.04, 0.03, 0.5], ["a", "a", "b", "b"]).round(4).tolist()
    [0.02, 0.04, 0.06, 0.5]
    """
    p = np.asarray(p, dtype=float)
    if p.size == 0:
        return p
    family = (
        np.zeros(p.size, dtype="int64") if groups is None else pd.factorize(np.asarray(groups))[0]
    )
    order = np.lexsort((p, family))
    ranked, sorted_family = p[order], family[order]
    sizes = np.bincount(sorted_family)
    starts = np.cumsum(sizes) - sizes
    rank = np.arange(p.size) - starts[sorted_family] + 1
    scaled = ranked * sizes[sorted_family] / rank
    # The running minimum from each family's largest p-value down to its smallest.
    backwards = pd.Series(scaled[::-1]).groupby(sorted_family[::-1]).cummin().to_numpy()[::-1]
    adjusted = np.empty(p.size)
    adjusted[order] = np.minimum(backwards, 1.0)
    return adjusted
