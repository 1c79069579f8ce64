"""One line of reading under a figure, written from the numbers the figure draws.

Each function takes the figure's data twin and returns a sentence a manager can read
without the figure: what is largest, what changed and whether the change could be noise.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .formatting import change_text, figure_text, period_label

__all__ = [
    "change_sentence",
    "funnel_reading",
    "retention_reading",
    "segment_reading",
    "trend_reading",
]


def funnel_reading(funnel: pd.DataFrame, *, what: str = "stage", min_cell: int = 0) -> str:
    """Where a funnel loses most: from :func:`journey_lib.stage_funnel` or
    :func:`journey_lib.funnel` (``customers`` and ``step_conversion_rate`` per step).

    Examples
    --------
    >>> funnel = pd.DataFrame({"stage": ["Aware", "Consider", "Buy"],
    ...                        "customers": [1000, 700, 210],
    ...                        "step_conversion_rate": [1.0, 0.7, 0.3]})
    >>> print(funnel_reading(funnel))  # doctest: +NORMALIZE_WHITESPACE
    Of 1,000 customers who entered, 21.0% reached Buy; the largest drop is from Consider
    to Buy, where 70.0% (490) did not go on.
    """
    if funnel.empty or funnel["customers"].iloc[0] == 0:
        return "No customer entered this journey."
    names = funnel[what].astype(str).tolist()
    counts = funnel["customers"].to_numpy()
    entered = counts[0]
    reached = figure_text(counts[-1] / entered, "rate", min_cell=min_cell, base=entered)
    sentence = (
        f"Of {figure_text(entered, 'count', min_cell=min_cell)} customers who entered, "
        f"{reached} reached {names[-1]}"
    )
    if len(counts) < 2:
        return sentence + "."
    lost = counts[:-1] - counts[1:]
    worst = int(lost.argmax())
    share = 1 - funnel["step_conversion_rate"].iloc[worst + 1]
    return (
        f"{sentence}; the largest drop is from {names[worst]} to {names[worst + 1]}, where "
        f"{figure_text(share, 'rate', min_cell=min_cell, base=counts[worst])} "
        f"({figure_text(lost[worst], 'count', min_cell=min_cell)}) did not go on."
    )


def change_sentence(
    row: Any, period: str, *, currency: str | None = None, min_cell: int = 0
) -> str:
    """A headline row (:func:`journey_lib.report.headline`) in words: ``"Churn rate fell
    from 21.3% to 17.0% in November 2024 (−4.3 points, beyond chance)."``"""
    unit = row["unit"]
    now = figure_text(row["value"], unit, currency=currency, min_cell=min_cell, base=row["base"])
    when = period_label(row["period"], period)
    if pd.isna(row["previous"]):
        return f"{row['label']} was {now} in {when}."
    before = figure_text(
        row["previous"], unit, currency=currency, min_cell=min_cell, base=row["previous_base"]
    )
    if now.startswith("<") or before.startswith("<"):
        return f"{row['label']} was {now} in {when}, against {before} before."
    change = row["change"]
    verb = "rose" if change > 0 else "fell" if change < 0 else "held"
    if verb == "held":
        return f"{row['label']} held at {now} in {when}."
    size = change_text(change, unit, currency=currency)
    chance = "could be chance" if row["noise"] else "beyond chance"
    if pd.isna(row["low"]):
        chance = "no interval"
    return f"{row['label']} {verb} from {before} to {now} in {when} ({size}, {chance})."


def trend_reading(table: pd.DataFrame, period: str, *, min_cell: int = 0) -> str:
    """The headline rates' latest changes in one line, largest change first.

    Examples
    --------
    >>> table = pd.DataFrame({
    ...     "figure": ["churn_rate"], "label": ["Churn rate"], "unit": ["rate"],
    ...     "period": [pd.Timestamp("2024-11-01", tz="UTC")],
    ...     "value": [0.17], "previous": [0.213], "change": [-0.043], "low": [-0.08],
    ...     "high": [-0.003], "noise": [False], "base": [736], "previous_base": [709]})
    >>> trend_reading(table, "month")
    'Churn rate fell from 21.3% to 17.0% in November 2024 (−4.3 points, beyond chance).'
    """
    rates = table[table["unit"] == "rate"].dropna(subset=["value"])
    if rates.empty:
        return "The log is too short for any rate to have a complete period."
    rates = rates.assign(size=rates["change"].abs().fillna(-1)).sort_values(
        "size", ascending=False, kind="stable"
    )
    return " ".join(change_sentence(row, period, min_cell=min_cell) for _, row in rates.iterrows())


def retention_reading(cohorts: pd.DataFrame, period: str, *, min_cell: int = 0) -> str:
    """First-period retention on average and for the latest cohort that has one, from
    :func:`journey_lib.retention`.

    Examples
    --------
    >>> cohorts = pd.DataFrame({
    ...     "cohort": pd.to_datetime(["2024-01-01", "2024-02-01"], utc=True),
    ...     "period": [1, 1], "cohort_size": [100, 200], "customers": [40, 60],
    ...     "rate": [0.4, 0.3], "complete": [True, True]})
    >>> print(retention_reading(cohorts, "month"))  # doctest: +NORMALIZE_WHITESPACE
    On average 33.3% of a cohort come back in the month after its first; the latest,
    February 2024, 30.0% (of 200).
    """
    first = cohorts[(cohorts["period"] == 1) & cohorts["complete"]]
    if first.empty or first["cohort_size"].sum() == 0:
        return f"No cohort has a complete second {period} yet."
    overall = first["customers"].sum() / first["cohort_size"].sum()
    latest = first.sort_values("cohort").iloc[-1]
    size = latest["cohort_size"]
    return (
        f"On average {figure_text(overall, 'rate')} of a cohort come back in the {period} "
        f"after its first; the latest, {period_label(latest['cohort'], period)}, "
        f"{figure_text(latest['rate'], 'rate', min_cell=min_cell, base=size)} "
        f"(of {figure_text(size, 'count', min_cell=min_cell)})."
    )


def segment_reading(by_segment: pd.DataFrame, *, currency: str | None = None) -> str:
    """Which segment holds most of the value at risk, from
    :func:`journey_lib.report.value_by_segment` (hidden segments left out).

    Examples
    --------
    >>> table = pd.DataFrame({"segment": ["loyal", "new"], "customers": [50, 80],
    ...                       "at_risk_customers": [12, 30], "value_at_risk": [900.0, 300.0]})
    >>> segment_reading(table, currency="EUR")
    'Most value at risk is in the loyal segment: €900 of €1,200 (75.0%), 12 customers at risk.'
    """
    shown = by_segment.dropna(subset=["value_at_risk"])
    total = shown["value_at_risk"].sum()
    if shown.empty or total <= 0:
        return "No value is at risk."
    top = shown.sort_values("value_at_risk", ascending=False, kind="stable").iloc[0]
    return (
        f"Most value at risk is in the {top['segment']} segment: "
        f"{figure_text(top['value_at_risk'], 'money', currency=currency)} of "
        f"{figure_text(total, 'money', currency=currency)} "
        f"({figure_text(top['value_at_risk'] / total, 'rate')}), "
        f"{figure_text(top['at_risk_customers'], 'count')} customers at risk."
    )
