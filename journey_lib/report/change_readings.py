"""What changed, in words: the summary's opening section and the monitoring notebook's
readings of :func:`journey_lib.changes`.

A change reads "Payment error events rose from 0 to 30 a week since 13 May 2024, on every
platform": the series (:func:`change_label`), the direction and the levels before and
during (:func:`level_text`), when (:func:`when_text`) and where (:func:`where_text`).

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
from .data import ReportData
from .formatting import figure_text

__all__ = [
    "change_label",
    "change_reading",
    "changes_table",
    "headline_changes",
    "level_text",
    "nothing_changed",
    "recorded_changes",
    "report_changes",
    "scan_reading",
    "series_table",
    "what_changed",
    "when_text",
    "where_text",
]

_PER = {"day": "a day", "week": "a week"}
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


def level_text(value: float, metric: str, period: str, currency: str | None = None) -> str:
    """A change's level as a reader takes it: events or customers per period (to one
    decimal below ten, so 0.4 a day is not "0"), a percentage, money per customer.

    Examples
    --------
    >>> level_text(29.75, "events", "week"), level_text(0.43, "events", "day")
    ('30 a week', '0.4 a day')
    >>> level_text(0.612, "conversion", "week")
    '61.2%'
    """
    family = FAMILY[metric]
    if family == "rate":
        return figure_text(value, "rate")
    if family == "money":
        return figure_text(value, "money", currency=currency)
    number = f"{value:,.0f}" if value >= 10 or value == 0 else f"{value:.1f}"
    return f"{number} {_PER[period]}"


def when_text(row: pd.Series, period: str) -> str:
    """When a change happened: ``"since 13 May 2024"`` (ongoing), ``"in the week of 13 May
    2024"`` (one period), ``"from 13 May to 9 Jun 2024"`` (to the last day of its last
    period).

    Examples
    --------
    >>> row = pd.Series({"start": pd.Timestamp("2024-05-13", tz="UTC"), "ongoing": False,
    ...                  "periods": 4, "end": pd.Timestamp("2024-06-03", tz="UTC")})
    >>> when_text(row, "week")
    'from 13 May to 9 Jun 2024'
    """
    start = pd.Timestamp(row["start"])
    if row["ongoing"]:
        return f"since {_date(start)}"
    if int(row["periods"]) == 1:
        return f"in the week of {_date(start)}" if period == "week" else f"on {_date(start)}"
    # The last day of the last period, so a weekly window reads to its Sunday.
    last = pd.Timestamp(row["end"]) + pd.Timedelta(days=6 if period == "week" else 0)
    first = f"{start.day} {start:%b}" if start.year == last.year else _date(start)
    return f"from {first} to {_date(last)}"


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
    if split.empty or not row["change"]:
        return ""
    direction = np.sign(row["change"])
    for column, part in split.groupby("column", sort=False):
        share = part["effect"] / row["change"]
        # Its share of the change, against its share of the level before: a segment of
        # seven customers in ten carrying seven tenths of a change is no more than its size.
        before = part["before_weight"] if FAMILY[row["metric"]] != "count" else part["before"]
        weight = before / before.sum() if before.sum() else before * np.nan
        top = share.idxmax()
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
    verb = "rose" if row["change"] > 0 else "fell"
    before = level_text(row["before"], row["metric"], changes.period, currency)
    during = level_text(row["during"], row["metric"], changes.period, currency)
    unit = f" {_PER[changes.period]}"
    if before.endswith(unit):  # the unit once: "from 13 to 52 a week"
        before = before[: -len(unit)]
    levels = f"from {before} to {during}"
    label = change_label(row, changes.period)
    parts = [f"{label} {verb} {levels} {when_text(row, changes.period)}"]
    where = where_text(changes, change)
    return ", ".join(parts + ([where] if where else [])) + "."


def headline_changes(changes: Changes, *, top: int = 3, min_cell: int = 0) -> list[int]:
    """The rows of the changes the summary opens with (see the module docstring): the whole
    log's first, then segments' own; a segment that had no customer before its change (a
    cohort that began, say) is not a change within it and is left out."""
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
    """The summary's "What changed": the headline changes as sentences, largest first."""
    return [
        change_reading(changes, i, currency=currency)
        for i in headline_changes(changes, top=top, min_cell=min_cell)
    ]


def changes_table(
    changes: Changes, *, currency: str | None = None, min_cell: int = 0
) -> pd.DataFrame:
    """The changes as a page shows them: the series and place in words, when, the levels
    before and during, the size and the score; those resting on fewer than ``min_cell``
    events or customers left out."""
    t = changes.table
    kept = t[t["behind"] >= max(min_cell, 0)]
    period = changes.period

    def level(row: pd.Series, column: str) -> str:
        return level_text(row[column], row["metric"], period, currency)

    rows: list[dict[str, Any]] = [
        {
            "change": change_label(row, period),
            "where": "whole log" if pd.isna(row["column"]) else f"{row['column']} {row['value']}",
            "when": when_text(row, period),
            "before": level(row, "before"),
            "during": level(row, "during"),
            "size": "new" if row["before"] == 0 else f"{row['relative']:+.0%}",
            "score": f"{abs(row['score']):.1f}",
        }
        for _, row in kept.iterrows()
    ]
    return pd.DataFrame(
        rows, columns=["change", "where", "when", "before", "during", "size", "score"]
    )


def _date(t: pd.Timestamp) -> str:
    return f"{t.day} {t:%b %Y}"


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
    largest values), ``scan`` passed on (``alpha``, ``min_size``, ``min_count``)."""
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
    more (at most a 5% chance of any false alarm over them all).
    """
    scanned = found.series.groupby(["metric", "detail", "column", "value"], dropna=False).ngroups
    kind = "daily" if found.period == "day" else "weekly"
    return (
        f"{scanned:,} {kind} series scanned, {found.tests:,} windows of time tested; a change "
        f"needed a score of {found.threshold:.1f} or more (at most a {found.alpha:.0%} chance "
        "of any false alarm over them all)."
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
    ``change_1_size``... (``|relative|``; null for something that appeared from nothing)."""
    out: dict[str, Any] = {"changes_found": int((found.table["behind"] >= min_cell).sum())}
    step = pd.Timedelta(days=1 if found.period == "day" else 7)
    for k, i in enumerate(headline_changes(found, top=top, min_cell=min_cell), start=1):
        row = found.table.iloc[i]
        key = [row["metric"], row["detail"], row["column"], row["value"]]
        last = row["start"] + (int(row["periods"]) - 1) * step
        out[f"what_changed_{k}"] = change_reading(found, i, currency=currency)
        out[f"change_{k}_key"] = "|".join("" if pd.isna(v) else str(v) for v in key)
        out[f"change_{k}_from"] = f"{row['start']:%Y-%m-%d}"
        out[f"change_{k}_to"] = f"{last:%Y-%m-%d}"
        out[f"change_{k}_size"] = None if row["before"] == 0 else abs(float(row["relative"]))
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
