"""One line of reading under a figure, written from the numbers the figure draws.

Each function takes the figure's data twin and returns a sentence a manager can read
without the figure: what is largest, what changed and whether the change could be noise.
With ``min_cell``, a count below it, or a rate or amount computed from fewer customers, is
written ``<min_cell`` (:func:`journey_lib.report.formatting.figure_text`). The readings of
the churn model's figures live in :mod:`journey_lib.report.model_readings`, those of the
journey maps in :mod:`journey_lib.report.flow_readings` and those of time to churn in
:mod:`journey_lib.report.survival_readings`; all are available here too.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..analytics.segments import one_segment
from ..plots._style import period_name
from .campaign_readings import campaign_reading, qini_reading, targeting_reading
from .flow_readings import (
    comparison_reading,
    dropoff_reading,
    flow_reading,
    stage_flow_reading,
)
from .formatting import change_text, duration_text, figure_text, period_label
from .model_readings import (
    calibration_reading,
    gains_reading,
    importance_reading,
    lift_reading,
    partial_dependence_reading,
    pr_reading,
    profit_reading,
    roc_reading,
)
from .survival_readings import comparison_of_models_reading, hazard_reading, survival_reading
from .tables import private

__all__ = [
    "attribution_models_reading",
    "breakdown_reading",
    "calibration_reading",
    "call_list_reading",
    "campaign_reading",
    "change_sentence",
    "churn_rate_reading",
    "comparison_of_models_reading",
    "comparison_reading",
    "credit_reading",
    "dropoff_reading",
    "flow_reading",
    "funnel_reading",
    "funnel_trend_reading",
    "gains_reading",
    "hazard_reading",
    "importance_reading",
    "lifecycle_reading",
    "lift_reading",
    "loyalty_reading",
    "partial_dependence_reading",
    "paths_reading",
    "pr_reading",
    "profit_reading",
    "qini_reading",
    "retention_reading",
    "rfm_reading",
    "roc_reading",
    "segment_reading",
    "stage_flow_reading",
    "survival_reading",
    "targeting_reading",
    "time_to_convert_reading",
    "timeline_reading",
    "touchpoints_reading",
    "transition_reading",
    "trend_reading",
    "value_reading",
    "volumes_reading",
    "what_if_reading",
]


def funnel_reading(funnel: pd.DataFrame, *, what: str = "stage", min_cell: int = 0) -> str:
    """Where a funnel loses most: from :func:`journey_lib.stage_funnel` or
    :func:`journey_lib.funnel` (``customers`` and ``step_conversion_rate`` per step).

    Leading steps nobody reached are passed over (a log rarely records awareness), and a
    step whose count is missing (hidden by :func:`journey_lib.report.tables.private`) is
    neither read nor compared.

    Examples
    --------
    >>> funnel = pd.DataFrame({"stage": ["Aware", "Consider", "Buy"],
    ...                        "customers": [1000, 700, 210],
    ...                        "step_conversion_rate": [1.0, 0.7, 0.3]})
    >>> print(funnel_reading(funnel))  # doctest: +NORMALIZE_WHITESPACE
    Of 1,000 customers who entered, 21.0% reached Buy; the largest drop is from Consider
    to Buy, where 70.0% (490) did not go on.
    >>> hidden = funnel.assign(customers=[1000, 700, None], step_conversion_rate=[1, 0.7, None])
    >>> print(funnel_reading(hidden, min_cell=300))  # doctest: +NORMALIZE_WHITESPACE
    Of 1,000 customers who entered, fewer than 300 reached Buy; the largest drop is from
    Aware to Consider, where 30.0% (300) did not go on.
    """
    counts = pd.to_numeric(funnel["customers"], errors="coerce").to_numpy(dtype=float)
    entered_at = np.flatnonzero(counts > 0)
    if funnel.empty or not len(entered_at):
        return "No customer entered this journey."
    start = int(entered_at[0])
    names = funnel[what].astype(str).tolist()[start:]
    counts = counts[start:]
    rates = pd.to_numeric(funnel["step_conversion_rate"], errors="coerce").to_numpy()[start:]
    entered = counts[0]
    if np.isnan(counts[-1]):
        reached = f"fewer than {min_cell} reached {names[-1]}"
    else:
        reached = f"{figure_text(counts[-1] / entered, 'rate')} reached {names[-1]}"
    sentence = (
        f"Of {figure_text(entered, 'count', min_cell=min_cell)} customers who entered, {reached}"
    )
    lost = counts[:-1] - counts[1:]  # NaN where either step is hidden
    if not np.isfinite(lost).any() or np.nanmax(lost) <= 0:
        return sentence + "."
    worst = int(np.nanargmax(lost))
    share = 1 - rates[worst + 1]
    return (
        f"{sentence}; the largest drop is from {names[worst]} to {names[worst + 1]}, where "
        f"{figure_text(share, 'rate')} "
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
    # Read from what the page shows: 0.9% against 0.9% held, whatever the decimals behind.
    verb = "held" if now == before else "rose" if change > 0 else "fell"
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
    if cohorts.empty:
        return "No cohort to show."
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


def segment_reading(
    by_segment: pd.DataFrame,
    *,
    currency: str | None = None,
    total: float | None = None,
    min_cell: int = 0,
) -> str:
    """Which segment holds most of the value at risk, from
    :func:`journey_lib.report.value_by_segment` (hidden segments left out); ``total`` is
    the value at risk of the whole list (default: of the segments given).

    Examples
    --------
    >>> table = pd.DataFrame({"segment": ["loyal", "new"], "customers": [50, 80],
    ...                       "at_risk_customers": [12, 30], "value_at_risk": [900.0, 300.0]})
    >>> print(segment_reading(table, currency="EUR"))  # doctest: +NORMALIZE_WHITESPACE
    Most value at risk is in the loyal segment: €900 of €1,200 (75.0%), 12 customers at
    risk.
    >>> print(segment_reading(table, currency="EUR", total=2000.0, min_cell=20))
    ... # doctest: +NORMALIZE_WHITESPACE
    Most value at risk is in the loyal segment: €900 of €2,000 (45.0%), fewer than 20
    customers at risk.
    """
    shown = by_segment.dropna(subset=["value_at_risk"])
    total = shown["value_at_risk"].sum() if total is None else total
    if shown.empty or total <= 0:
        return "No value is at risk."
    top = shown.sort_values("value_at_risk", ascending=False, kind="stable").iloc[0]
    count = figure_text(top["at_risk_customers"], "count", min_cell=min_cell)
    if count.startswith("<") or pd.isna(top["at_risk_customers"]):
        count = f"fewer than {min_cell}"
    return (
        f"Most value at risk is in the {top['segment']} segment: "
        f"{figure_text(top['value_at_risk'], 'money', currency=currency)} of "
        f"{figure_text(total, 'money', currency=currency)} "
        f"({figure_text(top['value_at_risk'] / total, 'rate')}), {count} customers at risk."
    )


# --- touchpoints and paths --------------------------------------------------------------

_VOLUME_COLUMNS = ("period", "touchpoints", "customers", "complete")


def volumes_reading(volumes: pd.DataFrame, *, min_cell: int = 0) -> str:
    """Which stage, channel or event has the most touchpoints, and the last complete
    period's touchpoints against the one before, from :func:`journey_lib.volumes`.

    Examples
    --------
    >>> volumes = pd.DataFrame({
    ...     "period": pd.to_datetime(["2024-01-01"] * 2 + ["2024-02-01"] * 2, utc=True),
    ...     "channel": ["web", "mail"] * 2, "touchpoints": [300, 100, 240, 200],
    ...     "customers": [120, 40, 100, 70], "complete": [True] * 4})
    >>> print(volumes_reading(volumes))  # doctest: +NORMALIZE_WHITESPACE
    Of 840 touchpoints, web has the most: 540 (64.3%); February 2024, the last complete
    month, had 440, against 400 in January 2024.
    """
    total = volumes["touchpoints"].sum()
    if not total:
        return "There is no touchpoint in these dates."
    sentence = f"Of {_count(total, min_cell)} touchpoints"
    groups = [c for c in volumes.columns if c not in _VOLUME_COLUMNS]
    if groups:
        by = volumes.groupby(_labels(volumes[groups[0]]), sort=False)["touchpoints"].sum()
        top, most = by.idxmax(), by.max()
        share = figure_text(most / total, "rate", min_cell=min_cell, base=most)
        sentence += f", {top} has the most: {_count(most, min_cell)} ({share})"
    period = period_name(volumes["period"])
    done = volumes[volumes["complete"].astype(bool)]
    per = done.groupby("period")["touchpoints"].sum().sort_index()
    if per.empty:
        return f"{sentence}; no {period} is complete yet."
    sentence += (
        f"; {period_label(per.index[-1], period)}, the last complete {period}, had "
        f"{_count(per.iloc[-1], min_cell)}"
    )
    if len(per) > 1:
        sentence += f", against {_count(per.iloc[-2], min_cell)} {_in(per.index[-2], period)}"
    return sentence + "."


def touchpoints_reading(per_customer: pd.DataFrame, *, min_cell: int = 0) -> str:
    """How many touchpoints a customer has, on average and at the median, and how many
    have only one, from :func:`journey_lib.touchpoints_per_customer`.

    Examples
    --------
    >>> table = pd.DataFrame({"touchpoints": [1, 2, 3, 10], "customers": [4, 3, 2, 1],
    ...                       "share": [0.4, 0.3, 0.2, 0.1]})
    >>> touchpoints_reading(table)
    '10 customers have 2.6 touchpoints on average (median 2); 4 (40.0%) have only one.'
    """
    counts = per_customer.groupby("touchpoints")["customers"].sum().sort_index()
    customers = counts.sum()
    if not customers:
        return "No customer has a touchpoint."
    mean = (counts.index.to_numpy() * counts.to_numpy()).sum() / customers
    median = counts.index[np.flatnonzero(counts.cumsum().to_numpy() >= customers / 2)[0]]
    small = bool(min_cell) and customers < min_cell
    average = f"<{min_cell}" if small else f"{mean:,.1f}"
    middle = f"<{min_cell}" if small else f"{median:,}"
    sentence = (
        f"{_count(customers, min_cell)} customers have {average} touchpoints on average "
        f"(median {middle})"
    )
    one = counts.get(1, 0)
    if not one:
        return f"{sentence}; none has only one."
    share = figure_text(one / customers, "rate", min_cell=min_cell, base=one)
    return f"{sentence}; {_count(one, min_cell)} ({share}) have only one."


def timeline_reading(timeline: pd.DataFrame) -> str:
    """The customers a timeline shows: their touchpoints, the days they span and the stage
    each is in at the end, from :func:`journey_lib.timeline`.

    Examples
    --------
    >>> timeline = pd.DataFrame({"customer_id": [7, 7, 7, 9, 9],
    ...                          "stage": ["Awareness", "Purchase", "Retention", "Awareness",
    ...                                    "Awareness"],
    ...                          "days_since_first": [0.0, 2.5, 40.0, 0.0, 1.25]})
    >>> print(timeline_reading(timeline))  # doctest: +NORMALIZE_WHITESPACE
    The 2 customers shown have 2 to 3 touchpoints over 1.2 to 40 days; the stage they end
    in: Retention (1), Awareness (1).
    >>> timeline_reading(timeline[timeline["customer_id"] == 7])
    'Customer 7 has 3 touchpoints over 40 days; they end in Retention.'
    """
    if timeline.empty:
        return "No touchpoint to show."
    by = timeline.groupby("customer_id", sort=False)
    touchpoints, days = by.size(), by["days_since_first"].max()
    last = _labels(by["stage"].last(), missing="(no stage)")
    if len(touchpoints) == 1:
        return (
            f"Customer {touchpoints.index[0]} has {_plural(touchpoints.iloc[0], 'touchpoint')} "
            f"over {_days(days.iloc[0])} days; they end in {last.iloc[0]}."
        )
    ends = last.value_counts(sort=False).sort_values(ascending=False, kind="stable")
    listed = ", ".join(f"{stage} ({n})" for stage, n in ends.items())
    touched = _span(touchpoints, str)
    return (
        f"The {len(touchpoints)} customers shown have {touched} "
        f"touchpoint{'' if touched == '1' else 's'} over {_span(days, _days)} days; the stage "
        f"they end in: {listed}."
    )


def transition_reading(matrix: pd.DataFrame, *, what: str = "stage", min_cell: int = 0) -> str:
    """The likeliest move from one stage (or event) to another, and after which journeys
    most often end, from :func:`journey_lib.transition_matrix` (long, with
    ``probability``, or with ``count``: then each from-state's moves are divided by its
    total, and with ``min_cell`` a probability resting on fewer moves is written
    ``<min_cell``).

    Examples
    --------
    >>> matrix = pd.DataFrame({
    ...     "from": ["(start)", "Aware", "Aware", "Aware", "Buy", "Buy"],
    ...     "to": ["Aware", "Aware", "Buy", "(end)", "Aware", "(end)"],
    ...     "probability": [1.0, 0.5, 0.3, 0.2, 0.4, 0.6]})
    >>> print(transition_reading(matrix))  # doctest: +NORMALIZE_WHITESPACE
    The likeliest move to another stage is from Buy to Aware (40.0% of what follows Buy);
    journeys most often end after Buy (60.0%).
    """
    matrix = one_segment(matrix, "from", "the transition reading")
    counted = "count" in matrix.columns
    if counted:
        totals = matrix.groupby("from")["count"].transform("sum")
        matrix = matrix.assign(probability=matrix["count"] / totals)

    def rate(row: pd.Series) -> str:
        base = row["count"] if counted else None
        return figure_text(row["probability"], "rate", min_cell=min_cell, base=base)

    states = ~matrix["from"].isin(["(start)", "(end)"])
    moves = matrix[states & (matrix["from"] != matrix["to"]) & (matrix["to"] != "(end)")]
    if moves.empty:
        return f"No customer moves from one {what} to another."
    move = moves.loc[moves["probability"].idxmax()]
    sentence = (
        f"The likeliest move to another {what} is from {move['from']} to {move['to']} "
        f"({rate(move)} of what follows {move['from']})"
    )
    ends = matrix[states & (matrix["to"] == "(end)")]
    if ends.empty:
        return sentence + "."
    end = ends.loc[ends["probability"].idxmax()]
    return f"{sentence}; journeys most often end after {end['from']} ({rate(end)})."


def paths_reading(paths: pd.DataFrame, *, min_cell: int = 0) -> str:
    """The most frequent journey opening and how many journeys the paths shown cover, from
    :func:`journey_lib.paths`.

    Examples
    --------
    >>> paths = pd.DataFrame({"path": ["visit > buy", "visit"], "count": [30, 20],
    ...                       "share": [0.3, 0.2]})
    >>> print(paths_reading(paths))  # doctest: +NORMALIZE_WHITESPACE
    The most frequent opening is visit > buy (30 journeys, 30.0%); the 2 shown are 50.0%
    of all journeys.
    """
    if paths.empty:
        return "No journey to show."
    top = paths.loc[paths["count"].idxmax()]
    shown = figure_text(paths["share"].sum(), "rate", min_cell=min_cell, base=paths["count"].sum())
    return (
        f"The most frequent opening is {top['path']} ({_count(top['count'], min_cell)} "
        f"journeys, {figure_text(top['share'], 'rate', min_cell=min_cell, base=top['count'])}); "
        f"the {len(paths)} shown are {shown} of all journeys."
    )


# --- funnels ----------------------------------------------------------------------------


def breakdown_reading(funnel: pd.DataFrame, *, min_cell: int = 0) -> str:
    """Which group converts best and worst through a funnel broken down by a property,
    from :func:`journey_lib.funnel` with ``breakdown=`` (without one, as
    :func:`funnel_reading`). Groups with fewer than ``min_cell`` customers at the first
    step are left out.

    Examples
    --------
    >>> funnel = pd.DataFrame({
    ...     "channel": ["web", "web", "tv", "tv"], "step": [1, 2, 1, 2],
    ...     "event": ["visit", "buy"] * 2, "customers": [400, 100, 50, 5],
    ...     "conversion_rate": [1.0, 0.25, 1.0, 0.1],
    ...     "step_conversion_rate": [1.0, 0.25, 1.0, 0.1]})
    >>> print(breakdown_reading(funnel))  # doctest: +NORMALIZE_WHITESPACE
    From visit to buy, web converts best (25.0% of 400) and tv worst (10.0% of 50).
    """
    if funnel.empty:
        return "No customer took the first step."
    known = {"step", "event", "customers", "conversion_rate", "step_conversion_rate"}
    extra = [c for c in funnel.columns if c not in known and c != "median_time_to_convert"]
    if not extra:  # read from the counts a page may show, as funnel_reading expects
        return funnel_reading(private(funnel, min_cell), what="event", min_cell=min_cell)
    labels = _labels(funnel[extra[0]])
    first = funnel[funnel["step"] == 1].groupby(labels)["customers"].sum()
    last = funnel[funnel["step"] == funnel["step"].max()]
    rates = last.groupby(labels)["conversion_rate"].first()
    big = first[first >= max(min_cell, 1)].index
    if big.empty:
        return f"Every {extra[0]} has fewer than {min_cell} customers at the first step."
    rates = rates.reindex(big).sort_values(ascending=False, kind="stable")
    names = funnel.sort_values("step")["event"].astype(str)
    best, worst = rates.index[0], rates.index[-1]

    def rate(group: str) -> str:
        return f"{figure_text(rates[group], 'rate')} of {_count(first[group], min_cell)}"

    sentence = f"From {names.iloc[0]} to {names.iloc[-1]}, {best} converts best ({rate(best)})"
    if best == worst:
        return sentence + "."
    return f"{sentence} and {worst} worst ({rate(worst)})."


def time_to_convert_reading(table: pd.DataFrame, *, min_cell: int = 0) -> str:
    """How long converting customers took: the time within which half converted and the
    most common time, from :func:`journey_lib.time_to_convert`.

    Examples
    --------
    >>> table = pd.DataFrame({
    ...     "bin": ["0s to 1D", "1D to 7D", "7D or more"],
    ...     "lower_seconds": [0.0, 86400.0, 604800.0],
    ...     "upper_seconds": [86400.0, 604800.0, float("inf")],
    ...     "customers": [20, 50, 30], "share": [0.2, 0.5, 0.3],
    ...     "cumulative_share": [0.2, 0.7, 1.0]})
    >>> print(time_to_convert_reading(table))  # doctest: +NORMALIZE_WHITESPACE
    Of 100 customers who converted, half did so within 7 days; the most common time is
    1D to 7D (50, 50.0%).
    """
    total = table["customers"].sum()
    if not total:
        return "No customer converted within the window."
    half = table.loc[(table["cumulative_share"] >= 0.5).idxmax()]
    if np.isfinite(half["upper_seconds"]):
        within = f"within {_duration(half['upper_seconds'])}"
    else:
        within = f"after more than {_duration(half['lower_seconds'])}"
    top = table.loc[table["customers"].idxmax()]
    share = figure_text(top["share"], "rate", min_cell=min_cell, base=top["customers"])
    if min_cell and total < min_cell:
        within = f"within a time hidden (fewer than {min_cell} customers)"
    return (
        f"Of {_count(total, min_cell)} customers who converted, half did so {within}; the "
        f"most common time is {top['bin']} ({_count(top['customers'], min_cell)}, {share})."
    )


def funnel_trend_reading(trend: pd.DataFrame, *, min_cell: int = 0) -> str:
    """Conversion of the last complete period's entrants against all complete periods',
    from :func:`journey_lib.funnel_trend`.

    Examples
    --------
    >>> trend = pd.DataFrame({
    ...     "period": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"], utc=True),
    ...     "customers": [100, 150, 80], "converted": [20, 45, 8],
    ...     "conversion_rate": [0.2, 0.3, 0.1], "complete": [True, True, False]})
    >>> print(funnel_trend_reading(trend))  # doctest: +NORMALIZE_WHITESPACE
    Of the customers who entered in February 2024, the last complete month, 30.0% converted
    (of 150), against 26.0% over the 2 complete months.
    """
    period = period_name(trend["period"])
    done = trend[trend["complete"].astype(bool)].sort_values("period")
    if done.empty or not done["customers"].sum():
        return f"No {period} is complete yet: conversion may still rise."
    last = done.iloc[-1]
    overall = done["converted"].sum() / done["customers"].sum()
    return (
        f"Of the customers who entered {_in(last['period'], period)}, the last "
        f"complete {period}, "
        f"{figure_text(last['conversion_rate'], 'rate', min_cell=min_cell, base=last['customers'])}"
        f" converted (of {_count(last['customers'], min_cell)}), against "
        f"{figure_text(overall, 'rate', min_cell=min_cell, base=done['customers'].sum())} over "
        f"the {_plural(len(done), f'complete {period}')}."
    )


# --- retention --------------------------------------------------------------------------


def churn_rate_reading(churn: pd.DataFrame, *, min_cell: int = 0) -> str:
    """The latest churn rate, with the customers behind it, against the period before,
    from :func:`journey_lib.churn_rate`.

    Examples
    --------
    >>> churn = pd.DataFrame({
    ...     "period": pd.to_datetime(["2024-10-01", "2024-11-01"], utc=True),
    ...     "active_start": [700, 736], "lost": [149, 125],
    ...     "churn_rate": [149 / 700, 125 / 736]})
    >>> print(churn_rate_reading(churn))  # doctest: +NORMALIZE_WHITESPACE
    Churn was 17.0% in November 2024 (125 of the 736 customers active at its start),
    against 21.3% in October 2024.
    """
    period = period_name(churn["period"])
    known = churn.dropna(subset=["churn_rate"]).sort_values("period")
    if known.empty:
        return f"No {period} has customers active at its start yet."
    now = known.iloc[-1]
    sentence = (
        f"Churn was "
        f"{figure_text(now['churn_rate'], 'rate', min_cell=min_cell, base=now['active_start'])}"
        f" {_in(now['period'], period)} ({_count(now['lost'], min_cell)} of the "
        f"{_count(now['active_start'], min_cell)} customers active at its start)"
    )
    if len(known) < 2:
        return sentence + "."
    before = known.iloc[-2]
    rate = figure_text(before["churn_rate"], "rate", min_cell=min_cell, base=before["active_start"])
    return f"{sentence}, against {rate} {_in(before['period'], period)}."


def lifecycle_reading(lifecycle: pd.DataFrame, *, min_cell: int = 0) -> str:
    """The last complete period's new, returning, resurrecting and dormant customers,
    from :func:`journey_lib.lifecycle`.

    Examples
    --------
    >>> lifecycle = pd.DataFrame({
    ...     "period": pd.to_datetime(["2024-11-01"] * 4 + ["2024-12-01"] * 4, utc=True),
    ...     "status": ["new", "returning", "resurrecting", "dormant"] * 2,
    ...     "customers": [160, 400, 20, -90, 150, 420, 30, -120], "complete": [True] * 8})
    >>> print(lifecycle_reading(lifecycle))  # doctest: +NORMALIZE_WHITESPACE
    In December 2024, the last complete month, 150 customers were new, 420 returning and
    30 resurrecting; 120 went dormant.
    """
    period = period_name(lifecycle["period"])
    done = lifecycle[lifecycle["complete"].astype(bool)]
    if done.empty:
        return f"No {period} is complete yet."
    start = done["period"].max()
    counts = done[done["period"] == start].set_index("status")["customers"].abs()

    def n(status: str) -> str:
        return _count(counts.get(status, 0), min_cell)

    return (
        f"{_in(start, period, capital=True)}, the last complete {period}, {n('new')} customers "
        f"were new, {n('returning')} returning and {n('resurrecting')} resurrecting; "
        f"{n('dormant')} went dormant."
    )


def rfm_reading(segments: pd.DataFrame, *, min_cell: int = 0) -> str:
    """The two largest RFM segments, from :func:`journey_lib.rfm_segments` (one row per
    customer) or from its counts (``segment`` and ``customers``, as
    :func:`journey_lib.report.views.segment_counts` gives).

    Examples
    --------
    >>> segments = pd.DataFrame({"customer_id": [1, 2, 3, 4, 5, 6], "segment": [
    ...     "loyal", "lost", "loyal", "champions", "loyal", "champions"]})
    >>> rfm_reading(segments)
    'Of 6 customers, most are loyal (3, 50.0%), then champions (2, 33.3%).'
    """
    if "customers" in segments.columns:
        counts = segments.set_index("segment")["customers"]
    else:
        counts = segments["segment"].value_counts(sort=False)
    counts = counts[counts > 0].sort_values(ascending=False, kind="stable")
    total = counts.sum()
    if not total:
        return "No customer has a segment."

    def part(segment: str) -> str:
        n = counts[segment]
        share = figure_text(n / total, "rate", min_cell=min_cell, base=n)
        return f"{segment} ({_count(n, min_cell)}, {share})"

    sentence = f"Of {_count(total, min_cell)} customers, most are {part(counts.index[0])}"
    if len(counts) > 1:
        sentence += f", then {part(counts.index[1])}"
    return sentence + "."


# --- attribution, value and loyalty ----------------------------------------------------


def attribution_models_reading(table: pd.DataFrame) -> str:
    """Where the attribution models disagree most, and which channel most of them credit
    most, from :func:`journey_lib.compare_attribution` (each model's credit as shares of
    its total).

    Examples
    --------
    >>> table = pd.DataFrame({"channel": ["web", "mail", "tv"],
    ...                       "first_touch": [50.0, 10.0, 40.0],
    ...                       "last_touch": [70.0, 30.0, 0.0], "markov": [60.0, 20.0, 20.0]})
    >>> print(attribution_models_reading(table))  # doctest: +NORMALIZE_WHITESPACE
    Every model gives web the most credit; they disagree most on tv, from 0.0% of the
    credit (last touch) to 40.0% (first touch).
    """
    label = table.columns[0]
    models = [c for c in table.columns[1:] if pd.api.types.is_numeric_dtype(table[c])]
    credit = table.set_index(_labels(table[label]))[models]
    shares = (credit / credit.sum().replace(0, np.nan)).dropna(axis=1, how="all")
    if shares.empty:
        return "No model credits any conversion."
    # Credit equal but for rounding (sums an engine added in another order) is a tie, which
    # the channels' order settles: the sentence must not turn on the last digit.
    shares = shares.round(12)
    tops = shares.idxmax().value_counts(sort=False).sort_values(ascending=False, kind="stable")
    top, agree = tops.index[0], tops.iloc[0]
    words = {m: m.replace("_", " ") for m in shares.columns}
    if agree == shares.shape[1]:
        sentence = f"Every model gives {top} the most credit"
    else:
        sentence = f"{agree} of {shares.shape[1]} models give {top} the most credit"
    spread = shares.max(axis=1) - shares.min(axis=1)
    doubt = spread.idxmax()
    low, high = shares.loc[doubt].idxmin(), shares.loc[doubt].idxmax()
    least, most = (figure_text(shares.loc[doubt, m], "rate") for m in (low, high))
    if least == most:  # as far as a page can tell
        return sentence + ", and the models agree on every channel."
    return (
        f"{sentence}; they disagree most on {doubt}, from {least} of the credit "
        f"({words[low]}) to {most} ({words[high]})."
    )


def credit_reading(credit: pd.DataFrame, *, min_cell: int = 0) -> str:
    """Which channel earns the most credit for the conversions, with its interval when
    the credit was resampled, from :func:`journey_lib.attribute`.

    Examples
    --------
    >>> credit = pd.DataFrame({"channel": ["web", "mail"], "conversions": [548.2, 301.8],
    ...                        "share": [0.645, 0.355], "conversions_lower": [427.1, 250.0],
    ...                        "conversions_upper": [599.8, 350.0]})
    >>> print(credit_reading(credit))  # doctest: +NORMALIZE_WHITESPACE
    web earns the most credit: 548 of 850 conversions (64.5%; 95% interval 427 to 600).
    """
    if credit.empty or not credit["conversions"].sum():
        return "No conversion to credit."
    label = credit.columns[0]
    top = credit.loc[credit["conversions"].idxmax()]
    total = credit["conversions"].sum()
    share = figure_text(top["share"], "rate", min_cell=min_cell, base=top["conversions"])
    detail = share
    if {"conversions_lower", "conversions_upper"} <= set(credit.columns):
        detail += (
            f"; 95% interval {_count(top['conversions_lower'], min_cell)} to "
            f"{_count(top['conversions_upper'], min_cell)}"
        )
    return (
        f"{top[label]} earns the most credit: {_count(top['conversions'], min_cell)} of "
        f"{_count(total, min_cell)} conversions ({detail})."
    )


def value_reading(
    value: pd.DataFrame, *, top: float = 0.2, currency: str | None = None, min_cell: int = 0
) -> str:
    """How much the customers are worth together and how much of it the most valuable
    ``top`` share holds, from :func:`journey_lib.clv.value_table` (its ``clv``).

    Examples
    --------
    >>> value = pd.DataFrame({"customer_id": [1, 2, 3, 4, 5],
    ...                       "clv": [500.0, 300.0, 100.0, 60.0, 40.0]})
    >>> print(value_reading(value, currency="EUR"))  # doctest: +NORMALIZE_WHITESPACE
    The 5 customers are worth €1,000 together; the most valuable 20% hold 50.0% of it,
    and the median customer is worth €100.
    """
    values = np.sort(value["clv"].to_numpy(dtype="float64"))[::-1]
    total = values.sum()
    if not len(values) or total <= 0:
        return "No customer has a positive lifetime value."
    customers = np.arange(len(values) + 1) / len(values)
    held = float(np.interp(top, customers, np.r_[0.0, np.cumsum(values) / total]))
    n = len(values)

    def money(amount: float) -> str:
        return figure_text(amount, "money", currency=currency, min_cell=min_cell, base=n)

    return (
        f"The {_count(n, min_cell)} customers are worth {money(total)} together; the most "
        f"valuable {top:.0%} hold {figure_text(held, 'rate', min_cell=min_cell, base=n)} of "
        f"it, and the median customer is worth {money(float(np.median(values)))}."
    )


def loyalty_reading(loyalty: Any, *, min_cell: int = 0) -> str:
    """Of the customers active in the last complete period, who bought again, was in the
    retention and advocacy stages, reviewed and referred, from :func:`journey_lib.loyalty`
    (the Loyalty or its ``by_period``).

    Examples
    --------
    >>> by_period = pd.DataFrame({
    ...     "period": pd.to_datetime(["2024-10-01", "2024-11-01", "2024-12-01"], utc=True),
    ...     "customers": [380, 420, 300], "repeat_purchase_rate": [0.4, 0.45, 0.5],
    ...     "retention_share": [0.7] * 3, "advocacy_share": [0.15] * 3,
    ...     "review_rate": [0.05] * 3, "referral_rate": [0.04] * 3,
    ...     "complete": [True, True, False]})
    >>> print(loyalty_reading(by_period))  # doctest: +NORMALIZE_WHITESPACE
    Of the 420 customers active in November 2024, the last complete month, 45.0% bought
    again, 70.0% were in retention and 15.0% in advocacy; 5.0% reviewed and 4.0% referred
    someone.
    """
    table = getattr(loyalty, "by_period", loyalty)
    period = period_name(table["period"]) if len(table) else "period"
    done = table[table["complete"].astype(bool) & (table["customers"] > 0)]
    if done.empty:
        return f"No {period} with active customers is complete yet."
    last = done.sort_values("period").iloc[-1]
    base = last["customers"]

    def rate(name: str) -> str:
        return figure_text(last[name], "rate", min_cell=min_cell, base=base)

    active = _count(base, min_cell)
    return (
        f"Of the {active} customer{'' if active == '1' else 's'} active "
        f"{_in(last['period'], period)}, the last complete {period}, "
        f"{rate('repeat_purchase_rate')} bought again, {rate('retention_share')} were in "
        f"retention and {rate('advocacy_share')} in advocacy; {rate('review_rate')} reviewed "
        f"and {rate('referral_rate')} referred someone."
    )


def what_if_reading(result: pd.DataFrame) -> str:
    """Churn among buyers as simulated and in the scenario, with the change and the
    margin chance alone could make, from :func:`journey_lib.what_if`.

    Examples
    --------
    >>> result = pd.DataFrame({"measure": ["churn_rate"], "baseline": [0.351],
    ...                        "scenario": [0.42], "change": [0.069], "margin": [0.118]})
    >>> print(what_if_reading(result))  # doctest: +NORMALIZE_WHITESPACE
    Churn among buyers: 35.1% as simulated, 42.0% in the scenario (+6.9 points, within the
    ±11.8 points chance alone could make).
    >>> what_if_reading(result.assign(scenario=0.351, change=0.0))
    'Churn among buyers: 35.1% as simulated and in the scenario (no driver was changed).'
    """
    if result.empty:
        return "No scenario to show."
    churn = result.set_index("measure").loc["churn_rate"]
    before, after = figure_text(churn["baseline"], "rate"), figure_text(churn["scenario"], "rate")
    if not (result["change"] != 0).any():
        return (
            f"Churn among buyers: {before} as simulated and in the scenario (no driver was "
            "changed)."
        )
    margin = f"±{abs(churn['margin']) * 100:.1f} points"
    verdict = (
        f"within the {margin} chance alone could make"
        if abs(churn["change"]) <= churn["margin"]
        else f"beyond the {margin} chance alone could make"
    )
    return (
        f"Churn among buyers: {before} as simulated, {after} in the scenario "
        f"({change_text(churn['change'], 'rate')}, {verdict})."
    )


# --- helpers ----------------------------------------------------------------------------


def _count(value: Any, min_cell: int) -> str:
    return figure_text(value, "count", min_cell=min_cell)


def _in(start: Any, period: str, *, capital: bool = False) -> str:
    """A period after its preposition: "in November 2024", "on 14 Jan 2023"."""
    word = "on" if period == "day" else "in"
    return f"{word.title() if capital else word} {period_label(start, period)}"


def _labels(values: pd.Series, missing: str = "(missing)") -> pd.Series:
    """Group values as text, missing ones named."""
    return values.astype("object").where(values.notna(), missing).astype(str)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'s' * (int(n) != 1)}"


def _days(days: float) -> str:
    """Days to one decimal below ten, whole days from ten."""
    return f"{days:,.1f}" if days < 10 else f"{days:,.0f}"


def _span(values: pd.Series, text: Any) -> str:
    low, high = text(values.min()), text(values.max())
    return low if low == high else f"{low} to {high}"


def _duration(seconds: float) -> str:
    """A bin edge in seconds in words: ``7 days``, ``3 hours``."""
    return duration_text(pd.Timedelta(seconds=float(seconds)))


def call_list_reading(
    risk: dict[str, Any], *, min_cell: int = 0, currency: str | None = None
) -> str:
    """The call list in one line, from ``AtRisk.metrics()``; its customers' ids stay in
    ``at_risk.csv``.

    Examples
    --------
    >>> risk = {"customers_scored": 505, "scored_at": "2024-12-31", "at_risk_customers": 130,
    ...         "value_at_risk": 29590.4, "contacts": 175, "expected_profit": 7502.3}
    >>> print(call_list_reading(risk))  # doctest: +NORMALIZE_WHITESPACE
    505 customers active on 30 Dec 2024 were scored: 130 have a churn probability of 50% or
    more, with 29,590 of value at risk; contacting 175 is expected to earn 7,502. The whole
    list, with each customer's id, is in at_risk.csv.
    >>> print(call_list_reading({**risk, "reasons_sought": 200}))
    ... # doctest: +NORMALIZE_WHITESPACE
    505 customers active on 30 Dec 2024 were scored: 130 have a churn probability of 50% or
    more, with 29,590 of value at risk; contacting 175 is expected to earn 7,502. The whole
    list, with each customer's id, is in at_risk.csv; reasons were sought only for the 200
    customers acted on first (those contacted, then the riskiest).
    """
    last_day = pd.Timestamp(risk["scored_at"]) - pd.Timedelta(days=1)

    def count(key: str) -> str:
        return figure_text(risk[key], "count", min_cell=min_cell)

    def money(key: str) -> str:
        return figure_text(risk[key], "money", currency=currency)

    limited = ""
    sought = risk.get("reasons_sought", risk["customers_scored"])
    if sought == 0:
        limited = "; no reasons were sought"
    elif sought < risk["customers_scored"]:
        limited = (
            f"; reasons were sought only for the {count('reasons_sought')} customers acted on "
            "first (those contacted, then the riskiest)"
        )
    return (
        f"{count('customers_scored')} customers active on {period_label(last_day, 'day')} were "
        f"scored: {count('at_risk_customers')} have a churn probability of 50% or more, with "
        f"{money('value_at_risk')} of value at risk; contacting {count('contacts')} is expected "
        f"to earn {money('expected_profit')}. The whole list, with each customer's id, is in "
        f"at_risk.csv{limited}."
    )
