"""What changed, in words: the summary's opening section and the monitoring notebook's
readings of :func:`journey_lib.changes`.

A change reads "Payment error events rose from 0 to 30 a week since 13 May 2024, on every
platform": the series (:func:`change_label`), the direction and the levels before and
during, when (both in :mod:`journey_lib.monitor.words`, which figures and the customer
timeline share) and where (:func:`where_text`). A level the page may not show
(:func:`journey_lib.report.private_changes`) is left out of the sentence ("rose to 30 a
week") and written ``<min_cell`` in the table.

The **headline changes** (:func:`headline_changes`) are those the summary opens with: one per
metric and detail, not already part of a whole-log change, the whole log's changes before
those of segments, the largest first. "Largest" is the size of the ratio,
``|log(during / before)|`` (a halving weighs as much as a doubling), with something that
appeared from nothing or fell to nothing first of all; ties by score.
A segment that had no active customer before its change (a cohort that began) is not a change
within it. Under ``min_cell`` a change resting on fewer events or customers than that is not
told.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ..monitor.detect import Changes, changes
from ..monitor.series import FAMILY, series_words
from ..monitor.words import NOT_SHOWN, PER, level_words, when_words
from .change_privacy import HIDDEN, PrivateChanges, private_changes
from .data import ReportData
from .formatting import figure_text

__all__ = [
    "change_heading",
    "change_label",
    "change_reading",
    "changes_table",
    "headline_changes",
    "nothing_changed",
    "recorded_changes",
    "report_changes",
    "scan_reading",
    "series_table",
    "what_changed",
    "where_text",
]

# A segment value carrying at least this share of a whole-log change, and this many times
# its share of the level before, is where it happened.
_MOSTLY = 0.6
_OVER = 1.5


def change_label(row: pd.Series, period: str | None = None) -> str:
    """The series of a change in words, capitalised: ``"Payment error events"``,
    ``"Conversion from cart to purchase"``, ``"The churn rate"``.

    Examples
    --------
    >>> change_label(pd.Series({"metric": "events", "detail": "payment_error"}))
    'Payment error events'
    >>> change_label(pd.Series({"metric": "conversion", "detail": "cart → purchase"}))
    'Conversion from cart to purchase'
    """
    return series_words(row["metric"], row["detail"], period)


def where_text(changes: Changes, change: int) -> str:
    """Where a change happened, from its place or its breakdown: ``"for platform mobile"``
    (a segment's change), ``"on every platform"`` (a whole-log change that moved the same
    way in every value of a column), ``"mostly for platform mobile (72% of the change)"``
    (one value carries at least :data:`_MOSTLY` of it); empty when the log was not split.
    """
    row = changes.table.iloc[change]
    if pd.notna(row["column"]):
        return f"for {row['column']} {row['value']}"
    split = changes.breakdown(change)
    if split.empty or not row["score"]:
        return ""
    direction = np.sign(row["score"])
    for column, part in split.groupby("column", sort=False):
        # Shares of the column's effects, which add up to the change over the breakdown's
        # windows (a daily level before is weekday-matched; the effects are not).
        total = part["effect"].sum()
        if not total or not np.isfinite(total):
            continue
        share = part["effect"] / total
        # Its share of the change, against its share of the level before: a segment of
        # seven customers in ten carrying seven tenths of a change is no more than its size.
        before = part["before_weight"] if FAMILY[row["metric"]] != "count" else part["before"]
        weight = before / before.sum() if before.sum() else before * np.nan
        top = share.idxmax()
        if part.at[top, "value"] == HIDDEN:
            continue
        if len(part) > 1 and share[top] >= _MOSTLY and share[top] >= _OVER * weight[top]:
            of = "all" if share[top] >= 0.995 else f"{share[top]:.0%}"
            return f"mostly for {column} {part.at[top, 'value']} ({of} of the change)"
    for column, part in split.groupby("column", sort=False):
        moved = part[part["during_weight"].fillna(1) > 0]
        if len(moved) > 1 and (np.sign(moved["during"] - moved["before"]) == direction).all():
            return f"on every {column}"
    return ""


def change_reading(changes: Changes, change: int, *, currency: str | None = None) -> str:
    """One change as a sentence (see the module docstring).

    Examples
    --------
    >>> import numpy as np
    >>> weeks = pd.date_range("2024-01-01", periods=30, freq="7D", tz="UTC")
    >>> rate = np.where((np.arange(30) >= 12) & (np.arange(30) < 15), 0.3, 0.6)
    >>> series = pd.DataFrame({"metric": "conversion", "detail": "cart → purchase",
    ...     "column": None, "value": None, "period": weeks, "count": 400 * rate,
    ...     "base": 400.0, "used": True})
    >>> from journey_lib import find_changes
    >>> change_reading(find_changes(series), 0)
    'Conversion from cart to purchase fell from 60.0% to 30.0% from 25 Mar to 14 Apr 2024.'
    """
    row = changes.table.iloc[change]
    verb = "rose" if row["score"] > 0 else "fell"
    # A level the page may not show is left out: "rose to 52 a week", "fell from 61.0% to a
    # level not shown for privacy".
    before, during = (
        None if pd.isna(row[k]) else _level(row[k], row["metric"], changes.period, currency)
        for k in ("before", "during")
    )
    during = during or NOT_SHOWN
    unit = f" {PER[changes.period]}"
    if before and before.endswith(unit) and during.endswith(unit):  # "from 13 to 52 a week"
        before = before[: -len(unit)]
    levels = "".join(
        f" {word} {level}" for word, level in (("from", before), ("to", during)) if level
    )
    label = change_label(row, changes.period)
    parts = [f"{label} {verb}{levels} {when_words(row, changes.period)}"]
    where = where_text(changes, change)
    return ", ".join(parts + ([where] if where else [])) + "."


def _level(value: float, metric: str, period: str, currency: str | None) -> str:
    return level_words(
        value, metric, period, money=lambda v: figure_text(v, "money", currency=currency)
    )


def change_heading(changes: Changes, change: int, number: int) -> str:
    """The heading a monitoring page gives its ``number``-th change drawn: an anchor
    ``change-<number>`` the summary's "What changed" links to (its ``number``-th sentence
    is the same change: both follow :func:`headline_changes`), then the series and place.

    Examples
    --------
    >>> import numpy as np
    >>> weeks = pd.date_range("2024-01-01", periods=30, freq="7D", tz="UTC")
    >>> count = np.where((np.arange(30) >= 12) & (np.arange(30) < 15), 150.0, 300.0)
    >>> series = pd.DataFrame({"metric": "events", "detail": "purchase", "column": None,
    ...     "value": None, "period": weeks, "count": count, "base": np.nan, "used": True})
    >>> from journey_lib import find_changes
    >>> change_heading(find_changes(series), 0, 1)
    '<a id="change-1"></a>**1. Purchase events, whole log**'
    """
    row = changes.table.iloc[change]
    where = "whole log" if pd.isna(row["column"]) else f"{row['column']} {row['value']}"
    label = change_label(row, changes.period)
    return f'<a id="change-{number}"></a>**{number}. {label}, {where}**'


def headline_changes(changes: Changes, *, top: int = 3, min_cell: int = 0) -> list[int]:
    """The rows of the changes the summary opens with (see the module docstring): the whole
    log's first, then segments' own; a segment that had no customer before its change (a
    cohort that began, say) is not a change within it and is left out. Ranked on the whole
    result, also when ``changes`` is private (:func:`private_changes`)."""
    if isinstance(changes, PrivateChanges):
        changes = changes.whole
    t = changes.table
    if t.empty:
        return []
    # |log(during / before)|: a halving weighs as a doubling; from or to nothing, infinite.
    with np.errstate(divide="ignore", invalid="ignore"):
        size = np.abs(np.log(t["during"].to_numpy(float) / t["before"].to_numpy(float)))
    size = np.where(np.isnan(size), math.inf, size)
    ranked = t.assign(_size=size, _score=t["score"].abs(), _segment=t["column"].notna())
    keep = ranked["part_of"].isna() & (ranked["behind"] >= max(min_cell, 0))
    ranked = ranked[keep & ~_began(changes, ranked)]
    ranked = ranked.sort_values(
        ["_segment", "_size", "_score"], ascending=[True, False, False], kind="stable"
    )
    ranked = ranked.drop_duplicates(["metric", "detail"])
    return [int(i) for i in ranked.index[:top]]


def _began(changes: Changes, rows: pd.DataFrame) -> pd.Series:
    """Which segment changes are of a segment with no active customer before them."""
    s = changes.series
    active = s[(s["metric"] == "active customers") & s["column"].notna()]
    began = pd.Series(False, index=rows.index)
    for i in rows.index[rows["column"].notna()]:
        row = rows.loc[i]
        mine = active[(active["column"] == row["column"]) & (active["value"] == row["value"])]
        before = mine[(mine["period"] >= row["before_from"]) & (mine["period"] < row["start"])]
        began[i] = len(mine) > 0 and before["count"].sum() == 0
    return began


def what_changed(
    changes: Changes, *, top: int = 3, currency: str | None = None, min_cell: int = 0
) -> list[str]:
    """The summary's "What changed": the headline changes as sentences, largest first, as a
    page may show them under ``min_cell`` (:func:`private_changes`)."""
    shown = private_changes(changes, min_cell)
    return [
        change_reading(shown, i, currency=currency)
        for i in headline_changes(changes, top=top, min_cell=min_cell)
    ]


def changes_table(
    changes: Changes, *, currency: str | None = None, min_cell: int = 0
) -> pd.DataFrame:
    """The changes as a page shows them: the series and place in words, when, the levels
    before and during, the size and the score; those resting on fewer than ``min_cell``
    events or customers left out, and levels a page may not show written ``<min_cell``
    (:func:`private_changes`)."""
    page = private_changes(changes, min_cell)
    whole = page.whole if isinstance(page, PrivateChanges) else page
    kept = page.table[whole.table["behind"] >= max(min_cell, 0)]
    period = changes.period

    def level(row: pd.Series, column: str) -> str:
        if pd.isna(row[column]):  # not for the page to show
            return f"<{min_cell}"
        return _level(row[column], row["metric"], period, currency)

    def size(row: pd.Series) -> str:
        if row["before"] == 0:
            return "new"
        return "–" if pd.isna(row["relative"]) else f"{row['relative']:+.0%}"

    rows: list[dict[str, Any]] = [
        {
            "change": change_label(row, period),
            "where": "whole log" if pd.isna(row["column"]) else f"{row['column']} {row['value']}",
            "when": when_words(row, period),
            "before": level(row, "before"),
            "during": level(row, "during"),
            "size": size(row),
            "score": f"{abs(row['score']):.1f}",
        }
        for _, row in kept.iterrows()
    ]
    return pd.DataFrame(
        rows, columns=["change", "where", "when", "before", "during", "size", "score"]
    )


def report_changes(
    report: ReportData,
    *,
    period: str = "week",
    by: str = "",
    limit: int = 3,
    top: int = 6,
    by_rule: str = "first",
    **scan: Any,
) -> Changes:
    """:func:`journey_lib.changes` as a report runs it: on the data's log and profile, by
    the segment columns the report compares (:meth:`ReportData.compared_columns`: those in
    ``by``, else the first ``limit`` the data offers, each split on its own with its ``top``
    largest values), ``scan`` passed on (``alpha``, ``min_size``, ``min_count``, ``trend``)."""
    columns = report.compared_columns(by, limit=limit)
    segments = report.segments(columns, by_rule, top) if columns else None
    return changes(report.events, report.profile, period=period, by=segments, **scan)


def scan_reading(found: Changes) -> str:
    """What was scanned, and what a change needed.

    Examples
    --------
    >>> import numpy as np
    >>> weeks = pd.date_range("2024-01-01", periods=20, freq="7D", tz="UTC")
    >>> flat = pd.DataFrame({"metric": "events", "detail": "visit", "column": None,
    ...     "value": None, "period": weeks, "count": 100.0, "base": np.nan, "used": True})
    >>> from journey_lib import find_changes
    >>> print(scan_reading(find_changes(flat)))  # doctest: +NORMALIZE_WHITESPACE
    1 weekly series scanned, 98 windows of time tested; a change needed a score of 3.5 or
    more (at most a 5% chance of any false alarm over them all). Each baseline follows its
    series' trend, which may bend every 8 weeks: a change lasting about as long or longer
    can read as trend.
    """
    scanned = found.series.groupby(["metric", "detail", "column", "value"], dropna=False).ngroups
    kind = "daily" if found.period == "day" else "weekly"
    days = found.trend.days
    every = f"{days // 7} weeks" if days % 7 == 0 else f"{days} days"
    return (
        f"{scanned:,} {kind} series scanned, {found.tests:,} windows of time tested; a change "
        f"needed a score of {found.threshold:.1f} or more (at most a {found.alpha:.0%} chance "
        "of any false alarm over them all). Each baseline follows its series' trend, which "
        f"may bend every {every}: a change lasting about as long or longer can read as trend."
    )


def nothing_changed(found: Changes) -> str:
    """The reading when the scan found nothing: ``"Nothing changed beyond chance: "`` and
    :func:`scan_reading`."""
    return "Nothing changed beyond chance: " + scan_reading(found)


def recorded_changes(
    found: Changes, *, top: int = 3, currency: str | None = None, min_cell: int = 0
) -> dict[str, Any]:
    """What the monitoring notebook records for the summary: ``changes_found``, and for the
    headline changes ``what_changed_1``... (sentences), ``change_1_key``... (the series:
    metric, detail and place joined by ``|``), ``change_1_from`` and ``change_1_to``... (the
    first and last period, ISO dates: a change in the next run is the same when its key
    matches and its window overlaps, even if more data moved its start) and
    ``change_1_size``... (``|relative|``; null for something that appeared from nothing, or
    whose level before a page may not show: an alert then treats it as large)."""
    out: dict[str, Any] = {"changes_found": int((found.table["behind"] >= min_cell).sum())}
    shown = private_changes(found, min_cell)
    step = pd.Timedelta(days=1 if found.period == "day" else 7)
    for k, i in enumerate(headline_changes(found, top=top, min_cell=min_cell), start=1):
        row = shown.table.iloc[i]
        key = [row["metric"], row["detail"], row["column"], row["value"]]
        last = row["start"] + (int(row["periods"]) - 1) * step
        out[f"what_changed_{k}"] = change_reading(shown, i, currency=currency)
        out[f"change_{k}_key"] = "|".join("" if pd.isna(v) else str(v) for v in key)
        out[f"change_{k}_from"] = f"{row['start']:%Y-%m-%d}"
        out[f"change_{k}_to"] = f"{last:%Y-%m-%d}"
        # None (as large as can be) from nothing, or when the page may not show it.
        size = abs(float(row["relative"]))
        out[f"change_{k}_size"] = size if np.isfinite(size) else None
    return out


def series_table(found: Changes) -> pd.DataFrame:
    """Every series scanned, for the monitoring page: the series and place in words, the
    periods it used, how far its most telling window came (``best``, the highest absolute
    score, against the ``threshold`` a change needed) and its changes; those with changes
    first, then by ``best``.

    Examples
    --------
    >>> import numpy as np
    >>> weeks = pd.date_range("2024-01-01", periods=20, freq="7D", tz="UTC")
    >>> flat = pd.DataFrame({"metric": "events", "detail": "visit", "column": None,
    ...     "value": None, "period": weeks, "count": 100.0, "base": np.nan, "used": True})
    >>> from journey_lib import find_changes
    >>> series_table(find_changes(flat))
             series      where  periods used best score  changes
    0  Visit events  whole log            20        0.0        0
    """
    keys = ["metric", "detail", "column", "value"]
    s = found.series
    each = s.groupby(keys, dropna=False, sort=False).agg(
        used=("used", "sum"), best=("best", "first")
    )
    t = found.table
    counted = t.groupby(keys, dropna=False).size() if len(t) else pd.Series(dtype="int64")
    each["changes"] = counted.reindex(each.index).fillna(0).astype(int).to_numpy()
    each = each.reset_index().sort_values(["changes", "best"], ascending=False, kind="stable")
    return pd.DataFrame(
        {
            "series": [
                series_words(m, d) for m, d in zip(each["metric"], each["detail"], strict=True)
            ],
            "where": [
                "whole log" if pd.isna(c) else f"{c} {v}"
                for c, v in zip(each["column"], each["value"], strict=True)
            ],
            "periods used": each["used"].astype(int).to_numpy(),
            "best score": [f"{b:.1f}" for b in each["best"]],
            "changes": each["changes"].to_numpy(),
        }
    ).reset_index(drop=True)
