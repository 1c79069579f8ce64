"""Where a change happened: a whole-log change split over the values of a segment column.

For a **count** (customers, events) the split is plain: each value's change in level per
period, and these add up to the whole log's change, since every customer (and event) is in
exactly one value.

For a **rate** (or revenue per customer) the whole log's level is a weighted mean of the
values' levels, ``R = sum_g w_g r_g`` with ``w_g`` the value's share of the base (customers
entering a step, active customers, ...). Its change between the before and during windows is
split exactly (the midpoint Kitagawa decomposition)::

    R' - R = sum_g (r'_g - r_g) (w_g + w'_g) / 2      "within": the rate moved inside g
           + sum_g (w'_g - w_g) (r_g + r'_g) / 2      "mix": customers moved toward g

so a fall in conversion reads as "it fell inside mobile" or "the customers shifted toward
mobile, which converts less", and the parts add up to the whole change. A value with no base
in one window takes its other window's rate there (its within part is then zero).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["BREAKDOWN_COLUMNS", "decompose"]

#: The columns of :func:`decompose`.
BREAKDOWN_COLUMNS: tuple[str, ...] = (
    "column",
    "value",
    "before_weight",
    "during_weight",
    "before",
    "during",
    "within",
    "mix",
    "effect",
    "share",
)


def decompose(
    series: pd.DataFrame,
    family: str,
    before: tuple[pd.Timestamp, pd.Timestamp],
    during: tuple[pd.Timestamp, pd.Timestamp],
) -> pd.DataFrame:
    """Split one metric's change between two windows over each segment column's values.

    Parameters
    ----------
    series : DataFrame
        Rows of :func:`journey_lib.monitor_series` for one metric and detail, every place.
    family : {"count", "rate", "money"}
        How the metric aggregates (:data:`journey_lib.monitor.series.FAMILY`).
    before, during : (Timestamp, Timestamp)
        First and last period (inclusive) of each window.

    Returns
    -------
    DataFrame
        One row per segment column and value: ``before_weight`` and ``during_weight`` (the
        value's share of the base; NaN for counts), ``before`` and ``during`` (its level:
        per period for counts, a share or amount per customer otherwise), ``within``,
        ``mix`` (zero for counts), ``effect`` (their sum; the effects of one column add up
        to the whole log's change) and ``share`` (of the whole log's change).

    Examples
    --------
    Conversion falls from 50% to 40% because mobile, converting at 20%, grows from a tenth
    to half of the customers; inside each platform nothing moved:

    >>> import pandas as pd
    >>> t = pd.to_datetime(["2024-01-01", "2024-01-08"], utc=True)
    >>> rows = pd.DataFrame({
    ...     "column": ["platform"] * 4, "value": ["web", "web", "mobile", "mobile"],
    ...     "period": list(t) * 2, "count": [54.0, 30.0, 2.0, 10.0],
    ...     "base": [90.0, 50.0, 10.0, 50.0]})
    >>> whole = pd.DataFrame({"column": [None] * 2, "value": [None] * 2, "period": t,
    ...                       "count": [56.0, 40.0], "base": [100.0, 100.0]})
    >>> split = decompose(pd.concat([whole, rows]), "rate", (t[0], t[0]), (t[1], t[1]))
    >>> split[["value", "before", "during", "within", "mix", "effect"]].round(3)
        value  before  during  within   mix  effect
    0  mobile     0.2     0.2     0.0  0.08    0.08
    1     web     0.6     0.6     0.0 -0.24   -0.24
    >>> round(float(split["effect"].sum()), 3)  # 40% - 56%
    -0.16
    """
    places = series[series["column"].notna()]
    whole = series[series["column"].isna()]
    counts = family == "count"
    parts = []
    for column, rows in places.groupby("column", sort=False):
        b = _totals(rows, before)
        d = _totals(rows, during)
        both = b.add_suffix("_b").join(d.add_suffix("_d"), how="outer").fillna(0.0)
        if counts:
            level_b = both["count_b"] / _length(whole, before)
            level_d = both["count_d"] / _length(whole, during)
            within, mix = level_d - level_b, pd.Series(0.0, index=both.index)
            w_b = w_d = pd.Series(np.nan, index=both.index)
        else:
            w_b = both["base_b"] / both["base_b"].sum()
            w_d = both["base_d"] / both["base_d"].sum()
            with np.errstate(divide="ignore", invalid="ignore"):
                r_b = both["count_b"] / both["base_b"]
                r_d = both["count_d"] / both["base_d"]
            r_b, r_d = r_b.fillna(r_d).fillna(0.0), r_d.fillna(r_b).fillna(0.0)
            within = (r_d - r_b) * (w_b + w_d) / 2.0
            mix = (w_d - w_b) * (r_b + r_d) / 2.0
            level_b, level_d = r_b, r_d
        effect = within + mix
        total = effect.sum()
        parts.append(
            pd.DataFrame(
                {
                    "column": column,
                    "value": both.index.astype(str),
                    "before_weight": w_b.to_numpy(),
                    "during_weight": w_d.to_numpy(),
                    "before": level_b.to_numpy(),
                    "during": level_d.to_numpy(),
                    "within": within.to_numpy(),
                    "mix": mix.to_numpy(),
                    "effect": effect.to_numpy(),
                    "share": (effect / total).to_numpy() if total else np.nan,
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=list(BREAKDOWN_COLUMNS))
    return pd.concat(parts, ignore_index=True).loc[:, list(BREAKDOWN_COLUMNS)]


def _totals(rows: pd.DataFrame, window: tuple[pd.Timestamp, pd.Timestamp]) -> pd.DataFrame:
    inside = rows[rows["period"].between(*window)]
    return inside.groupby("value", sort=True)[["count", "base"]].sum()


def _length(whole: pd.DataFrame, window: tuple[pd.Timestamp, pd.Timestamp]) -> int:
    return max(1, int(whole["period"].between(*window).sum()))
