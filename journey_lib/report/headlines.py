"""The headline figures of a log: each for its latest complete period, with the period
before, the change and an interval on the change.

Each figure comes from the function that defines it, read at the latest period whose value
can no longer change:

=========================  ===========================================================
``active_customers``       customers with an event in the period (:func:`lifecycle`:
                           new + returning + resurrecting); complete periods only
``new_customers``          customers whose first event in the log is in the period (the
                           log's first period, where everyone is new, is left out)
``conversion_rate``        share of the customers entering the funnel in the period
                           who reach its last step within the window
                           (:func:`funnel_trend`); periods whose window has closed
``churn_rate``             share of the customers active at the period's start who are
                           no longer active at its end (:func:`churn_rate`)
``first_period_retention``  share of a cohort active again in the period after its
                           first (:func:`retention`, offset 1, kind "on"); the latest
                           cohort whose next period is complete
``revenue``                sum of ``value`` in the period (logs with money only)
``revenue_per_customer``   revenue divided by the period's active customers
=========================  ===========================================================

The change is the latest value minus the previous one, with a 95% interval from
:mod:`journey_lib._intervals`; ``noise`` is True when the interval holds 0, so the
change could be chance.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd

from .._engine import in_utc, lazy_events, to_pandas, zoned_again
from .._intervals import count_difference, mean_difference, rate_difference
from .._time import period_start
from ..analytics.funnels import funnel_trend
from ..analytics.retention import churn_rate, lifecycle, retention
from ..io.profile import LogProfile

__all__ = ["DEFINITIONS", "Headline", "headline"]

#: Each headline figure: its label, unit and one-line definition.
DEFINITIONS: dict[str, tuple[str, str, str]] = {
    "active_customers": (
        "Active customers",
        "count",
        "customers with at least one touchpoint in the period",
    ),
    "new_customers": (
        "New customers",
        "count",
        "customers whose first touchpoint in the log falls in the period",
    ),
    "conversion_rate": (
        "Conversion rate",
        "rate",
        "share of customers entering the funnel in the period who reach its last step "
        "within the window",
    ),
    "churn_rate": (
        "Churn rate",
        "rate",
        "share of customers active at the start of the period (a touchpoint within the "
        "inactivity window) who are no longer active at its end",
    ),
    "first_period_retention": (
        "First-period retention",
        "rate",
        "share of a cohort (customers first seen in the period) active again in the next period",
    ),
    "revenue": ("Revenue", "money", "sum of the money of the period's touchpoints"),
    "revenue_per_customer": (
        "Revenue per customer",
        "money",
        "revenue divided by the period's active customers",
    ),
    "at_risk_customers": (
        "Customers at risk",
        "count",
        "customers active at the log's end whose predicted churn probability is 50% or more",
    ),
    "value_at_risk": (
        "Value at risk",
        "money",
        "expected value lost to churn: the sum over active customers of churn probability "
        "times the value of keeping them",
    ),
}

_COLUMNS = [
    "figure",
    "label",
    "unit",
    "period",
    "previous_period",
    "value",
    "previous",
    "change",
    "low",
    "high",
    "noise",
    "base",
    "previous_base",
]


@dataclasses.dataclass
class Headline:
    """Headline figures of a log (see :mod:`journey_lib.report.headlines`).

    Attributes
    ----------
    table : DataFrame
        One row per figure that applies to the log: ``figure`` (its key), ``label``,
        ``unit`` (count, rate or money), ``period`` and ``previous_period`` (their starts),
        ``value``, ``previous``, ``change``, ``low`` and ``high`` (the 95% interval on the
        change), ``noise`` (the interval holds 0), ``base`` and ``previous_base`` (customers
        each value is computed from).
    trend : DataFrame
        The rates period by period, for a trend figure: ``period``, ``figure``, ``value``,
        ``base``.
    period : str
        The calendar period.
    """

    table: pd.DataFrame
    trend: pd.DataFrame
    period: str


def headline(
    events: Any,
    *,
    profile: LogProfile | None = None,
    period: str | None = None,
    inactivity: Any = None,
    steps: Sequence[Any] | None = None,
    window: Any = "30D",
    money: bool | None = None,
) -> Headline:
    """Headline figures of a touchpoint log, for its latest complete period.

    Parameters
    ----------
    events : DataFrame
        A touchpoint log of any engine (results are small and come back as pandas).
    profile : LogProfile, optional
        Supplies the period, inactivity and funnel when they are not given.
    period : str, optional
        Calendar period (the profile's, else ``"month"``).
    inactivity : duration, optional
        Silence after which a customer counts as lost (the profile's, else 90 days).
    steps : sequence, optional
        The funnel (default: the profile's). Without two steps (``[]`` says so) there is
        no conversion rate.
    window : duration, default "30D"
        Time allowed from the funnel's first step to its last.
    money : bool, optional
        Whether to report revenue; default: when the log has a ``value`` column that is
        not all zero.

    Returns
    -------
    Headline

    Examples
    --------
    >>> import journey_lib as jl
    >>> sim = jl.simulate(500, seed=1)
    >>> h = headline(sim.events, period="month",
    ...              steps=["ad_view", "site_visit", "signup", "purchase"])
    >>> h.table["figure"].tolist()  # doctest: +NORMALIZE_WHITESPACE
    ['active_customers', 'new_customers', 'conversion_rate', 'churn_rate',
     'first_period_retention', 'revenue', 'revenue_per_customer']
    >>> row = h.table.set_index("figure").loc["churn_rate"]
    >>> bool(row["low"] <= row["change"] <= row["high"])
    True
    """
    period = period or (profile.period if profile else "month")
    inactivity = inactivity or (profile.inactivity if profile else "90D")
    steps = list(steps) if steps is not None else list(profile.funnel if profile else ())
    rows: list[dict[str, Any]] = []
    trend: list[pd.DataFrame] = []

    life = to_pandas(lifecycle(events, period=period))
    life = life[life["complete"]]
    wide = life.pivot_table(index="period", columns="status", values="customers", aggfunc="sum")
    wide = wide.reindex(columns=["new", "returning", "resurrecting"], fill_value=0)
    active = wide.sum(axis=1)
    rows.append(_count_row("active_customers", active))
    # In the log's first period everyone is new (the log is the only memory): no period to
    # compare with.
    rows.append(_count_row("new_customers", wide["new"].iloc[1:]))

    if len(steps) >= 2:
        conv = to_pandas(funnel_trend(events, steps, period=period, window=window))
        conv = conv[conv["complete"]].set_index("period")
        rows.append(_rate_row("conversion_rate", conv["converted"], conv["customers"]))
        trend.append(_trend("conversion_rate", conv["conversion_rate"], conv["customers"]))

    churn = to_pandas(churn_rate(events, period=period, inactivity=inactivity))
    churn = churn[churn["active_start"] > 0].set_index("period")
    rows.append(_rate_row("churn_rate", churn["lost"], churn["active_start"]))
    trend.append(_trend("churn_rate", churn["churn_rate"], churn["active_start"]))

    cohorts = to_pandas(retention(events, period=period, max_periods=1))
    first = cohorts[(cohorts["period"] == 1) & cohorts["complete"]].set_index("cohort")
    rows.append(_rate_row("first_period_retention", first["customers"], first["cohort_size"]))
    trend.append(_trend("first_period_retention", first["rate"], first["cohort_size"]))

    spend = _spend(events, period) if money is not False else None
    if spend is not None and (money or spend["value"].ne(0).any()):
        rows += _money_rows(spend, active)

    table = pd.DataFrame(rows, columns=_COLUMNS).astype({"noise": bool})
    trend_table = pd.concat(trend, ignore_index=True) if trend else _empty_trend()
    return Headline(table, trend_table, period)


def _latest_two(series: pd.Series) -> tuple[Any, Any, Any, Any]:
    """(period, value, previous period, previous value) of a series indexed by period."""
    series = series.dropna().sort_index()
    if series.empty:
        return None, np.nan, None, np.nan
    if len(series) == 1:
        return series.index[-1], series.iloc[-1], None, np.nan
    return series.index[-1], series.iloc[-1], series.index[-2], series.iloc[-2]


def _row(figure: str, **values: Any) -> dict[str, Any]:
    label, unit, _ = DEFINITIONS[figure]
    row = dict.fromkeys(_COLUMNS, np.nan)
    row.update(figure=figure, label=label, unit=unit, noise=False)
    row.update(values)
    row["change"] = row["value"] - row["previous"]
    row["noise"] = bool(np.isfinite(row["low"]) and row["low"] <= 0 <= row["high"])
    return row


def _count_row(figure: str, counts: pd.Series) -> dict[str, Any]:
    at, value, before, previous = _latest_two(counts)
    low, high = count_difference(value, previous)
    return _row(
        figure,
        period=at,
        previous_period=before,
        value=value,
        previous=previous,
        low=float(low),
        high=float(high),
        base=value,
        previous_base=previous,
    )


def _rate_row(figure: str, hits: pd.Series, base: pd.Series) -> dict[str, Any]:
    at, n, before, n_previous = _latest_two(base[base > 0])
    if at is None:
        return _row(figure, period=None, value=np.nan, previous=np.nan)
    x = hits.loc[at]
    x_previous = hits.loc[before] if before is not None else np.nan
    low, high = (np.nan, np.nan)
    if before is not None:
        low, high = rate_difference(x, n, x_previous, n_previous)
    return _row(
        figure,
        period=at,
        previous_period=before,
        value=x / n,
        previous=x_previous / n_previous if before is not None else np.nan,
        low=float(low),
        high=float(high),
        base=n,
        previous_base=n_previous,
    )


def _trend(figure: str, values: pd.Series, base: pd.Series) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "period": values.index,
            "figure": figure,
            "value": values.to_numpy(dtype=float),
            "base": base.reindex(values.index).to_numpy(),
        }
    )


def _empty_trend() -> pd.DataFrame:
    return pd.DataFrame({"period": [], "figure": [], "value": [], "base": []})


def _spend(events: Any, period: str) -> pd.DataFrame | None:
    """Money per customer and period (customers with a touchpoint in it, zeros included);
    None when the log has no ``value`` column."""
    lf, _ = lazy_events(events)
    if "value" not in lf.collect_schema():
        return None
    per = (
        in_utc(lf)
        .with_columns(period_start(nw.col("timestamp"), period).alias("period"))
        .group_by("period", "customer_id")
        .agg(nw.col("value").sum())
    )
    return to_pandas(zoned_again(per, lf).collect().to_native())


def _money_rows(spend: pd.DataFrame, active: pd.Series) -> list[dict[str, Any]]:
    """Revenue and revenue per active customer in the latest two complete periods."""
    at, _, before, _ = _latest_two(active)
    if at is None:
        return []
    periods = spend["period"]
    latest = spend.loc[periods == at, "value"].to_numpy(dtype=float)
    earlier = spend.loc[periods == before, "value"].to_numpy(dtype=float)
    bases = {"base": len(latest), "previous_base": len(earlier) if before is not None else np.nan}
    when = {"period": at, "previous_period": before}
    total_low, total_high = mean_difference(latest, earlier, total=True)
    mean_low, mean_high = mean_difference(latest, earlier)
    total = _row(
        "revenue",
        value=latest.sum(),
        previous=earlier.sum() if before is not None else np.nan,
        low=total_low,
        high=total_high,
        **when,
        **bases,
    )
    mean = _row(
        "revenue_per_customer",
        value=latest.mean() if len(latest) else np.nan,
        previous=earlier.mean() if len(earlier) else np.nan,
        low=mean_low,
        high=mean_high,
        **when,
        **bases,
    )
    return [total, mean]
