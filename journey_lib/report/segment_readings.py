"""Readings of customer segments and drivers: one line under a figure, for a manager.

Each function takes the figure's data twin (a :func:`journey_lib.compare_segments` table,
a :func:`journey_lib.stage_funnel`, :func:`journey_lib.retention_curve` or
:func:`journey_lib.churn_rate` broken down ``by=``, a :func:`journey_lib.drivers` result)
and returns plain sentences: which segment stands out, and whether a gap could be chance.
"Beyond chance" means the p-value passes the Benjamini-Hochberg correction within one
family of tests: every gap of one :func:`journey_lib.compare_segments` table (one segment
column, or one crossing of columns, with all its segments and measures), or every driver of
one :func:`journey_lib.drivers` block; so testing many segments of a column does not by
itself turn up gaps. Separate comparisons (one per column, as the segments notebook runs
them) are separate families, each corrected on its own.

With ``min_cell``, nothing read from fewer than ``min_cell`` customers is named: such a
segment, gap or driver is left out, and a count below it is written "fewer than
``min_cell``" (see :mod:`journey_lib.report.privacy`); neither is a rate or gap from which
such a count follows. :func:`private_comparison` and :func:`scorecard` are the comparison as
a page may show it, for the heatmap and the table.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..analytics.compare import RESULT_COLUMNS, segment_scorecard
from ..analytics.segments import segment_keys, segment_labels
from ..churn.drivers import feature_label, percent_text, ratio_text, small_cells
from ..errors import JourneyDataError
from ..plots._style import period_name
from .formatting import figure_text, period_label
from .privacy import check_min_cell, suppressed

__all__ = [
    "comparison_reading",
    "drivers_reading",
    "private_comparison",
    "scorecard",
    "segment_churn_reading",
    "segment_funnels_reading",
    "segment_retention_reading",
    "strong_drivers",
]

#: What each outcome of :func:`journey_lib.drivers` is called in a sentence.
_OUTCOME_VERBS = {"conversion": "converted", "churn": "churned", "advocacy": "became advocates"}


def private_comparison(result: pd.DataFrame, min_cell: int = 0) -> pd.DataFrame:
    """A :func:`journey_lib.compare_segments` table with what a page may not show missing.

    With ``min_cell = k``: a segment whose customers are hidden (fewer than ``k``, or the
    complement hidden with them, :func:`journey_lib.report.privacy.suppressed`, since the
    customers of the segments add up to a total the report shows) loses every number, its
    rest's too (with two segments, each is the other's rest); a row whose ``n`` is below
    ``k`` loses the segment's value, interval, difference and p-values; and a row whose
    rest's ``n`` (the metric's ``n`` over all segments, less the row's own) is below ``k``
    loses its rest, difference and p-values, since the rest's value is then a measure of
    fewer than ``k`` customers (with two segments, the other segment's value). A row that
    lost its p-values is not ``significant``. ``min_cell = 0`` returns the table as it is.

    Examples
    --------
    >>> table = pd.DataFrame({
    ...     "plan": ["basic", "basic", "plus", "plus"],
    ...     "metric": ["customers", "churn rate"] * 2, "kind": ["count", "share"] * 2,
    ...     "value": [120, 0.25, 80, 0.1], "lower": [None, 0.18, None, 0.05],
    ...     "upper": [None, 0.33, None, 0.19], "n": [120, 300, 80, 4],
    ...     "rest": [80, 0.1, 120, 0.25], "difference": [None, 0.15, None, -0.15],
    ...     "p_value": [None, 0.0001, None, 0.0001], "p_adjusted": [None, 0.0002, None, 0.0002],
    ...     "significant": [False, True, False, True]})
    >>> private_comparison(table, 5)[["plan", "metric", "value", "rest", "significant"]]
    ... # doctest: +NORMALIZE_WHITESPACE
       plan      metric   value   rest  significant
    0  basic   customers  120.00  80.00        False
    1  basic  churn rate    0.25    NaN        False
    2   plus   customers   80.00 120.00        False
    3   plus  churn rate     NaN   0.25        False
    """
    min_cell = check_min_cell(min_cell)
    _check_comparison(result)
    if not min_cell:
        return result
    frame = result.copy()
    keys = _keys(frame, "metric")
    labels = pd.Series(segment_labels(frame, keys), index=frame.index)
    sizes = frame[frame["metric"] == "customers"]
    size_labels = labels[sizes.index]
    hidden = suppressed(sizes["value"].astype("float64").set_axis(size_labels), min_cell)
    segment_hidden = labels.map(hidden).fillna(False).astype(bool)
    measured = frame["metric"] != "customers"
    n = frame["n"].astype("float64")
    small = (n < min_cell) & measured
    rest_n = n.groupby(frame["metric"]).transform("sum") - n
    own = segment_hidden | small
    rest_hidden = segment_hidden | ((rest_n < min_cell) & measured)
    for column in ("value", "lower", "upper"):
        frame[column] = frame[column].astype("float64").mask(own)
    frame["rest"] = frame["rest"].astype("float64").mask(rest_hidden)
    for column in ("difference", "p_value", "p_adjusted"):
        frame[column] = frame[column].astype("float64").mask(own | rest_hidden)
    frame["significant"] = frame["significant"].astype(bool) & ~(own | rest_hidden)
    return frame


def scorecard(result: pd.DataFrame, min_cell: int = 0) -> pd.DataFrame:
    """:func:`journey_lib.segment_scorecard` of the comparison as a page may show it
    (:func:`private_comparison`): a cell whose value is hidden reads ``<min_cell``, and a
    gap whose rest is hidden gets no ▲ or ▼ (below, basic's rest is plus's 4 customers).

    Examples
    --------
    >>> table = pd.DataFrame({
    ...     "plan": ["basic", "basic", "plus", "plus"],
    ...     "metric": ["customers", "churn rate"] * 2, "kind": ["count", "share"] * 2,
    ...     "value": [120, 0.25, 80, 0.1], "lower": [None, 0.18, None, 0.05],
    ...     "upper": [None, 0.33, None, 0.19], "n": [120, 300, 80, 4],
    ...     "rest": [80, 0.1, 120, 0.25], "difference": [None, 0.15, None, -0.15],
    ...     "p_value": [None, 0.0001, None, 0.0001], "p_adjusted": [None, 0.0002, None, 0.0002],
    ...     "significant": [False, True, False, True]})
    >>> scorecard(table, min_cell=5).to_dict("index")  # doctest: +NORMALIZE_WHITESPACE
    {'customers': {'basic': '120', 'plus': '80'},
     'churn rate': {'basic': '25.0% (18.0–33.0%)', 'plus': '<5'}}
    """
    shown = private_comparison(result, min_cell)
    wide = segment_scorecard(shown)
    hidden = shown["value"].isna() & result["value"].notna()
    if hidden.any():
        keys = _keys(shown, "metric")
        labels = segment_labels(shown, keys)
        for i in np.flatnonzero(hidden.to_numpy()):
            wide.loc[shown["metric"].iloc[i], labels[i]] = f"<{min_cell}"
    return wide


def comparison_reading(
    result: pd.DataFrame, *, currency: str | None = None, most: int = 3, min_cell: int = 0
) -> str:
    """Which gaps between a segment and the rest of the customers are beyond chance, from
    :func:`journey_lib.compare_segments`: how many of the gaps tested pass the
    Benjamini-Hochberg correction (its ``significant``), and the ``most`` largest of them,
    each with the segment's value and the rest's. A gap's size is relative,
    ``|value / rest - 1|`` (as the heatmap colours it), so shares, days and money compare;
    a gap over a rest of zero counts as the largest.

    Examples
    --------
    >>> table = pd.DataFrame({
    ...     "plan": ["basic"] * 3 + ["plus"] * 3,
    ...     "metric": ["customers", "churn rate", "revenue per customer"] * 2,
    ...     "kind": ["count", "share", "money"] * 2,
    ...     "value": [120, 0.25, 40.0, 80, 0.1, 90.0], "lower": None, "upper": None,
    ...     "n": [120, 300, 120, 80, 200, 80], "rest": [80, 0.1, 90.0, 120, 0.25, 40.0],
    ...     "difference": [None, 0.15, -50.0, None, -0.15, 50.0],
    ...     "p_value": [None, 0.0001, 0.2, None, 0.0001, 0.2],
    ...     "p_adjusted": [None, 0.0002, 0.2, None, 0.0002, 0.2],
    ...     "significant": [False, True, False, False, True, False]})
    >>> print(comparison_reading(table))  # doctest: +NORMALIZE_WHITESPACE
    By plan, 2 of the 4 gaps to the rest of the customers are beyond chance (after the
    Benjamini-Hochberg correction); the largest: basic: churn rate 25.0% against 10.0% for
    the rest; plus: churn rate 10.0% against 25.0% for the rest.
    >>> print(comparison_reading(table.assign(significant=False)))
    ... # doctest: +NORMALIZE_WHITESPACE
    No segment by plan differs from the rest of the customers beyond chance: none of the 4
    gaps tested passes the Benjamini-Hochberg correction.
    """
    frame = private_comparison(result, min_cell)
    keys = _keys(frame, "metric")
    by = " / ".join(keys)
    labels = pd.Series(segment_labels(frame, keys), index=frame.index)
    segments = list(dict.fromkeys(labels))
    if len(segments) < 2:
        named = f" ({segments[0]})" if segments else ""
        return f"Every customer is in one segment by {by}{named}: there is no rest to compare with."
    tested = int(frame["p_adjusted"].notna().sum())
    if not tested:
        return (
            f"No gap between a segment by {by} and the rest of the customers could be tested: "
            "too few customers stand behind each."
        )
    found = frame[frame["significant"].astype(bool)]
    if found.empty:
        return (
            f"No segment by {by} differs from the rest of the customers beyond chance: none of "
            f"the {tested:,} gaps tested passes the Benjamini-Hochberg correction."
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        size = (found["value"] / found["rest"] - 1).abs().fillna(np.inf)
    largest = found.assign(_size=size).sort_values("_size", ascending=False, kind="stable")
    items = [
        f"{labels[i]}: {row['metric']} {_value(row['value'], row['kind'], currency)} "
        f"against {_value(row['rest'], row['kind'], currency)} for the rest"
        for i, row in largest.head(most).iterrows()
    ]
    more = len(found) - len(items)
    tail = f"; and {more:,} more" if more > 0 else ""
    verb = "is" if len(found) == 1 else "are"
    return (
        f"By {by}, {len(found):,} of the {tested:,} gaps to the rest of the customers {verb} "
        f"beyond chance (after the Benjamini-Hochberg correction); the largest: "
        f"{'; '.join(items)}{tail}."
    )


def segment_funnels_reading(result: pd.DataFrame, *, min_cell: int = 0) -> str:
    """Which segment's entrants reach the last stage most and least, from
    :func:`journey_lib.stage_funnel` (or :func:`journey_lib.funnel`) broken down ``by=``.
    The last stage is the furthest any segment reached; a segment's entrants are the
    customers its shares are of. Segments with fewer than ``min_cell`` entrants are left
    out, and a count below it is written "fewer than ``min_cell``".

    Examples
    --------
    >>> result = pd.DataFrame({
    ...     "plan": ["basic"] * 2 + ["plus"] * 2, "step": [1, 2] * 2,
    ...     "stage": ["Aware", "Buy"] * 2, "customers": [400, 100, 50, 20],
    ...     "conversion_rate": [1.0, 0.25, 1.0, 0.4]})
    >>> print(segment_funnels_reading(result))  # doctest: +NORMALIZE_WHITESPACE
    Of the segments by plan, plus reaches Buy most (40.0% of its 50 entrants) and basic
    least (25.0% of its 400 entrants).
    >>> print(segment_funnels_reading(result, min_cell=60))
    Of the segments by plan, only basic has 60 entrants or more: 25.0% of its 400 reach Buy.
    """
    min_cell = check_min_cell(min_cell)
    keys = _keys(result, "step")
    names = "stage" if "stage" in result.columns else "event" if "event" in result else "step"
    frame = result.assign(_segment=segment_labels(result, keys))
    reached = frame[frame["customers"] > 0]
    if reached.empty:
        return "No customer entered this journey."
    last = int(reached["step"].max())
    stage = str(frame.loc[frame["step"] == last, names].iloc[0])
    rated = frame[frame["conversion_rate"] > 0]
    entrants = (rated["customers"] / rated["conversion_rate"]).groupby(rated["_segment"]).first()
    entrants = entrants.round().astype("int64")
    at_last = frame[frame["step"] == last].set_index("_segment")
    rates = at_last["conversion_rate"].reindex(entrants.index).fillna(0.0)
    counts = at_last["customers"].reindex(entrants.index).fillna(0)
    kept = entrants[entrants >= max(min_cell, 1)].index
    by = " / ".join(keys)
    if kept.empty:
        return f"Every segment by {by} has fewer than {min_cell} entrants."

    def share(segment: str, whose: str = "its ") -> str:
        n = _count(entrants[segment], min_cell)
        if 0 < counts[segment] < min_cell:
            return f"fewer than {min_cell} of {whose}{n} entrants"
        return f"{figure_text(rates[segment], 'rate')} of {whose}{n} entrants"

    if len(kept) == 1:
        only = kept[0]
        if len(entrants) == 1:
            return (
                f"Every entrant is in one segment by {by}, {only}: {share(only, '')} reach {stage}."
            )
        return (
            f"Of the segments by {by}, only {only} has {min_cell} entrants or more: "
            f"{share(only).replace(' entrants', '')} reach {stage}."
        )
    ranked = rates[kept].sort_values(ascending=False, kind="stable")
    best, worst = ranked.index[0], ranked.index[-1]
    return (
        f"Of the segments by {by}, {best} reaches {stage} most ({share(best)}) and {worst} "
        f"least ({share(worst)})."
    )


def segment_retention_reading(curve: pd.DataFrame, period: str, *, min_cell: int = 0) -> str:
    """Which segment's customers come back most and least in the period after their first,
    from :func:`journey_lib.retention_curve` of a retention broken down ``by=`` (offset 1,
    the complete cohorts pooled). Segments whose pooled cohorts hold fewer than
    ``min_cell`` customers are left out.

    Examples
    --------
    >>> curve = pd.DataFrame({
    ...     "plan": ["basic"] * 2 + ["plus"] * 2, "period": [0, 1] * 2, "cohorts": [3, 2] * 2,
    ...     "cohort_size": [500, 400, 90, 60], "customers": [500, 120, 90, 27],
    ...     "rate": [1.0, 0.3, 1.0, 0.45]})
    >>> print(segment_retention_reading(curve, "month"))  # doctest: +NORMALIZE_WHITESPACE
    In the month after their first, plus's customers came back most (45.0% of 60) and
    basic's least (30.0% of 400).
    """
    min_cell = check_min_cell(min_cell)
    if "cohort_size" not in curve.columns:
        raise JourneyDataError(
            "segment_retention_reading reads a retention curve of customers (cohort_size); "
            f"got {list(curve.columns)}"
        )
    keys = _keys(curve, "period")
    by = " / ".join(keys)
    first = curve[(curve["period"] == 1) & (curve["cohort_size"] > 0)]
    if first.empty:
        return f"No cohort has a complete second {period} yet."
    first = first.assign(_segment=segment_labels(first, keys)).set_index("_segment")
    kept = first[first["cohort_size"] >= max(min_cell, 1)]
    if kept.empty:
        return (
            f"Every segment by {by} has fewer than {min_cell} customers with a complete {period}."
        )
    ranked = kept.sort_values("rate", ascending=False, kind="stable")

    def part(segment: str) -> str:
        row = ranked.loc[segment]
        size = _count(row["cohort_size"], min_cell)
        if 0 < row["customers"] < min_cell:
            return f"fewer than {min_cell} of {size}"
        return f"{figure_text(row['rate'], 'rate')} of {size}"

    best, worst = ranked.index[0], ranked.index[-1]
    if best == worst:
        alone = "" if len(first) > 1 else f", all in one segment by {by} ({best})"
        return f"In the {period} after their first, {part(best)} customers came back{alone}."
    return (
        f"In the {period} after their first, {best}'s customers came back most "
        f"({part(best)}) and {worst}'s least ({part(worst)})."
    )


def segment_churn_reading(churn: pd.DataFrame, *, min_cell: int = 0) -> str:
    """Which segment lost the largest and the smallest share of its active customers in the
    latest period with a churn rate, from :func:`journey_lib.churn_rate` broken down
    ``by=``. With ``min_cell = k``, a segment with fewer than ``k`` customers active at the
    period's start is left out, and one that lost, or kept, 1 to ``k - 1`` of them is not
    named either (its rate beside its active customers would give that count away); the
    highest and lowest are then among the segments named, and the sentence says how many
    others were not.

    Examples
    --------
    >>> churn = pd.DataFrame({
    ...     "plan": ["basic", "basic", "plus", "plus"],
    ...     "period": pd.to_datetime(["2024-10-01", "2024-11-01"] * 2, utc=True),
    ...     "active_start": [390, 400, 240, 250], "lost": [25, 20, 20, 30],
    ...     "churn_rate": [25 / 390, 0.05, 20 / 240, 0.12]})
    >>> print(segment_churn_reading(churn))  # doctest: +NORMALIZE_WHITESPACE
    In November 2024, churn was highest for plus (12.0%: 30 of the 250 customers active at
    its start) and lowest for basic (5.0%: 20 of 400).
    >>> print(segment_churn_reading(churn, min_cell=25))  # doctest: +NORMALIZE_WHITESPACE
    In November 2024, of the segments by plan, only plus can be named: churn was 12.0%: 30
    of the 250 customers active at its start. The 1 other lost or kept fewer than 25
    customers, or had fewer than 25 active.
    """
    min_cell = check_min_cell(min_cell)
    keys = _keys(churn, "period")
    by = " / ".join(keys)
    period = period_name(churn["period"])
    known = churn.dropna(subset=["churn_rate"])
    if known.empty:
        return f"No {period} has customers active at its start yet."
    latest = known[known["period"] == known["period"].max()]
    latest = latest.assign(_segment=segment_labels(latest, keys)).set_index("_segment")
    active = latest["active_start"]
    when = f"{'On' if period == 'day' else 'In'} {period_label(latest['period'].iloc[0], period)}"
    if not (active >= max(min_cell, 1)).any():
        return f"{when}, every segment by {by} had fewer than {min_cell} active customers."
    lost, kept = latest["lost"], active - latest["lost"]
    few = ((lost > 0) & (lost < min_cell)) | ((kept > 0) & (kept < min_cell))
    named = latest[(active >= max(min_cell, 1)) & ~few]
    others = len(latest) - len(named)
    unnamed = f"lost or kept fewer than {min_cell} customers, or had fewer than {min_cell} active"
    if named.empty:
        return f"{when}, no segment by {by} can be named: each {unnamed}."
    ranked = named.sort_values("churn_rate", ascending=False, kind="stable")

    def part(segment: str, long: bool) -> str:
        row = ranked.loc[segment]
        of = "the " if long else ""
        end = " customers active at its start" if long else ""
        return (
            f"{figure_text(row['churn_rate'], 'rate')}: {_count(row['lost'], 0)} of {of}"
            f"{_count(row['active_start'], 0)}{end}"
        )

    best, worst = ranked.index[0], ranked.index[-1]
    if best == worst and not others:
        return f"{when}, churn was {part(best, True)} ({by} {best})."
    if best == worst:
        return (
            f"{when}, of the segments by {by}, only {best} can be named: churn was "
            f"{part(best, True)}. The {others:,} other{'s' if others > 1 else ''} {unnamed}."
        )
    tail = ""
    if others:
        verb = "is" if others == 1 else "are"
        tail = (
            f" {others:,} other segment{'s' if others > 1 else ''} {verb} not named: "
            f"{'it' if others == 1 else 'each'} {unnamed}."
        )
    return (
        f"{when}, churn was highest for {best} ({part(best, True)}) and lowest for {worst} "
        f"({part(worst, False)}).{tail}"
    )


def drivers_reading(
    found: Any, *, alpha: float = 0.05, confidence: float = 0.95, most: int = 3, min_cell: int = 0
) -> str:
    """What goes with an outcome, from :func:`journey_lib.drivers`: said first to be an
    association, not a cause; then how many of the population had the outcome, and the
    ``most`` strongest drivers whose Benjamini-Hochberg adjusted p-value is below
    ``alpha``, in the table's order (strongest effect first, either way), each with its
    odds ratio and ``confidence`` interval and the outcome's rate with and without it.
    With ``min_cell = k``, a driver whose 2x2 table (with or without it, by outcome or
    not) has a cell from 1 to ``k - 1`` is not named (:func:`strong_drivers`): its odds
    ratio, its rates and the population's outcomes would give the small cell back. A count
    of the population from 1 to ``k - 1`` (with the outcome, or without it) is written
    "fewer than ``k``", and its share is not given. The reading says how many drivers
    beyond chance it does not name, so "none" is never said of drivers withheld.

    Examples
    --------
    >>> from journey_lib.churn.drivers import Drivers
    >>> table = pd.DataFrame({
    ...     "feature": ["event", "channel", "event"], "value": ["signup", "web", "visit"],
    ...     "customers_with": [300, 500, 900], "customers_without": [700, 500, 100],
    ...     "rate_with": [0.6, 0.2, 0.31], "rate_without": [0.2, 0.4, 0.29],
    ...     "odds_ratio": [6.0, 0.375, 1.1], "ci_low": [4.4, 0.28, 0.7],
    ...     "ci_high": [8.1, 0.5, 1.7], "p_value": [1e-9, 1e-6, 0.7],
    ...     "p_adjusted": [3e-9, 1.5e-6, 0.7], "test": "chi2", "tested": True})
    >>> found = Drivers(table, "conversion", "rule", customers=1000, with_outcome=320)
    >>> print(drivers_reading(found))  # doctest: +NORMALIZE_WHITESPACE
    These are associations, not causes: a driver may go with conversion only because both
    follow from something else, so test one before acting on it. 320 of 1,000 customers
    (32.0%) converted. Beyond chance (after the Benjamini-Hochberg correction), the
    strongest: signup (odds ratio 6.00, 95% interval 4.40 to 8.10; 60.0% with it, 20.0%
    without); channel = web (odds ratio 0.38, 95% interval 0.28 to 0.50; 20.0% with it,
    40.0% without).
    """
    min_cell = check_min_cell(min_cell)
    outcome = found.outcome
    caveat = (
        f"These are associations, not causes: a driver may go with {outcome} only because "
        "both follow from something else, so test one before acting on it."
    )
    verb = _OUTCOME_VERBS.get(outcome, f"had the {outcome}")
    positive, total = found.with_outcome, found.customers
    if 0 < total - positive < min_cell:  # the complement would give the few without away
        head = f"All but fewer than {min_cell} of {_count(total, min_cell)} customers {verb}."
    else:
        rate = "–"
        if total:  # a share of a hidden count is hidden with it
            rate = figure_text(positive / total, "rate", min_cell=min_cell, base=positive)
        with_it = f"fewer than {min_cell}" if 0 < positive < min_cell else _count(positive, 0)
        head = f"{with_it} of {_count(total, min_cell)} customers ({rate}) {verb}."
        head = head[0].upper() + head[1:]
    strong = strong_drivers(found, alpha=alpha, min_cell=min_cell)
    withheld = len(strong_drivers(found, alpha=alpha)) - len(strong)
    unnamed = (
        f"{withheld:,} {'driver' if withheld == 1 else 'drivers'} beyond chance "
        f"{'rests' if withheld == 1 else 'rest'} on fewer than {min_cell} customers in a "
        f"cell and {'is' if withheld == 1 else 'are'} not named"
    )
    if strong.empty:
        tested = int(found.table["tested"].astype(bool).sum())
        if withheld:
            return (
                f"{caveat} {head} No event or property value that can be named goes with "
                f"{outcome} beyond chance (after the Benjamini-Hochberg correction; "
                f"{tested:,} tested): {unnamed}."
            )
        return (
            f"{caveat} {head} No event or property value goes with {outcome} beyond chance "
            f"(after the Benjamini-Hochberg correction; {tested:,} tested)."
        )
    items = []
    for _, row in strong.head(most).iterrows():
        where = ", ".join(f"{c} {row[c]}" for c in found.by)
        items.append(
            f"{f'[{where}] ' if where else ''}{row['driver']} "
            f"(odds ratio {ratio_text(row['odds_ratio'])}, {confidence:.0%} interval "
            f"{ratio_text(row['ci_low'])} to {ratio_text(row['ci_high'])}; "
            f"{percent_text(row['rate_with'])} with it, "
            f"{percent_text(row['rate_without'])} without)"
        )
    return (
        f"{caveat} {head} Beyond chance (after the Benjamini-Hochberg correction), the "
        f"strongest: {'; '.join(items)}.{f' ({unnamed}.)' if withheld else ''}"
    )


def strong_drivers(found: Any, *, alpha: float = 0.05, min_cell: int = 0) -> pd.DataFrame:
    """The drivers :func:`drivers_reading` names, in the table's order (strongest effect
    first): the tested rows of a :func:`journey_lib.drivers` table with an odds ratio and
    a Benjamini-Hochberg adjusted p-value below ``alpha``, whose 2x2 table has no cell
    from 1 to ``min_cell - 1`` (:func:`journey_lib.churn.drivers_text.small_cells`); with
    ``driver``, the name a reader sees (:func:`journey_lib.churn.drivers.feature_label`),
    as the first column.

    Examples
    --------
    >>> from journey_lib.churn.drivers import Drivers
    >>> table = pd.DataFrame({
    ...     "feature": ["event", "channel", "event"], "value": ["signup", "web", "chat"],
    ...     "customers_with": [300, 8, 100], "customers_without": [700, 992, 900],
    ...     "rate_with": [0.6, 0.5, 0.03], "rate_without": [0.2, 0.3, 0.33],
    ...     "odds_ratio": [6.0, 3.0, 0.06], "p_adjusted": [3e-9, 0.01, 1e-8], "tested": True})
    >>> found = Drivers(table, "conversion", "rule", customers=1000, with_outcome=320)
    >>> strong_drivers(found)["driver"].tolist()
    ['signup', 'channel = web', 'chat']
    >>> strong_drivers(found, min_cell=5)["driver"].tolist()  # 4 with web had it, 3 with chat
    ['signup']
    """
    min_cell = check_min_cell(min_cell)
    table = found.table
    chosen = ~small_cells(table, min_cell) & table["tested"].astype(bool)
    chosen &= table["p_adjusted"] < alpha
    strong = table[chosen & table["odds_ratio"].notna()]
    labels = [feature_label(f, v) for f, v in zip(strong["feature"], strong["value"], strict=True)]
    return strong.assign(driver=labels)[["driver", *table.columns]]


# --- helpers ----------------------------------------------------------------------------


def _check_comparison(result: pd.DataFrame) -> None:
    missing = [c for c in RESULT_COLUMNS if c not in result.columns]
    if missing:
        raise JourneyDataError(f"expected a compare_segments() result; the frame lacks {missing}")


def _keys(frame: pd.DataFrame, first: str) -> list[str]:
    """The segment columns: those before the result's own first column ``first``."""
    keys = segment_keys(frame, first)
    if not keys:
        raise JourneyDataError(
            f"expected a result broken down by=, with its segment columns before {first!r}; "
            f"got {list(frame.columns)}"
        )
    return keys


def _value(value: float, kind: str, currency: str | None) -> str:
    if kind == "share":
        return figure_text(value, "rate")
    if kind == "money":
        return figure_text(value, "money", currency=currency)
    if kind == "days":
        return f"{value:,.1f} days"
    return figure_text(value, "count")


def _count(value: Any, min_cell: int) -> str:
    return figure_text(value, "count", min_cell=min_cell)
