"""What a page may show of :func:`journey_lib.changes` under the run's ``min_cell``.

A series' cell in one period rests on a number of customers or events: the events for a
count (active customers, an event's volume), the customers behind the rate for a rate (those
entering a step, the active customers a churn rate or retention is over) and those who
converted and those who did not too (a 98% from 100 singles out the 2), the active customers
for revenue per customer. :func:`private_changes` returns the
result with:

- **the series' cells** from 1 to ``min_cell - 1`` missing (a gap in a figure), and, in each
  period, complements among the values of the same segment column, whose whole log is shown
  (:func:`journey_lib.report.privacy.suppressed`, by what the cells rest on and, for rates,
  by their converted and not converted customers too: two or more hidden cells only reveal
  their sum);
- **a change's level before or during** missing when the events or customers its window
  rests on (over the whole window) are that few, or when it would give away the window's
  hidden cells (its total less the cells shown: safe only for two or more hidden cells
  holding ``min_cell`` or more), and with it the change, its relative size and (during)
  what it rests on; the direction stays, as the score's sign;
- **the breakdown** with the values hidden over either window (with their complements) put
  together in one row, :data:`HIDDEN`, so that the parts still add up to the whole change;
  none at all for a change whose level is hidden (its parts would add up to it).

Rows are neither added nor removed, so a change keeps its row number; which changes are told
at all is the readings' choice (:func:`journey_lib.report.change_readings.headline_changes`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from ..monitor.detect import Changes
from ..monitor.series import FAMILY
from .privacy import check_min_cell, suppressed

__all__ = ["HIDDEN", "PrivateChanges", "private_changes"]

#: The breakdown's row for the values a page may not show one by one.
HIDDEN = "(small values together)"
_PLACE = ["metric", "detail", "column"]  # a segment column of one series, all its values
_BEFORE = ["before", "before_low", "before_high"]
_DURING = ["during", "during_low", "during_high", "expected", "behind"]


@dataclass(frozen=True, repr=False)
class PrivateChanges(Changes):
    """A :class:`~journey_lib.monitor.Changes` as a page may show it (see the module
    docstring); ``whole`` is the result it was made from and ``min_cell`` the threshold."""

    whole: Changes
    min_cell: int

    def breakdown(self, change: int) -> pd.DataFrame:
        """The whole result's breakdown with the values a page may not show one by one
        together in one row, :data:`HIDDEN` (their parts summed, their levels the weighted
        mean), so that each column's effects still add up to the whole change; empty when
        the change's level before or during is hidden."""
        split = self.whole.breakdown(change)
        row = self.table.iloc[change]
        if split.empty or pd.isna(row["before"]) or pd.isna(row["during"]):
            # The values' parts add up to the whole change: they would give a hidden level
            # away, so a change whose level is hidden has no breakdown to show.
            return split.iloc[0:0]
        before, during = self.whole.windows(change)
        rows = self.whole.series_of(change, every_place=True)
        rows = rows[rows["column"].notna()]
        family = FAMILY[row["metric"]]
        parts = []
        for column, part in split.groupby("column", sort=False):
            mine = rows[rows["column"] == column]
            hide = _hidden_values(mine, family, before, self.min_cell) | _hidden_values(
                mine, family, during, self.min_cell
            )
            small = part["value"].astype(str).isin(hide[hide].index.astype(str))
            parts.append(part[~small])
            if small.any():
                parts.append(_together(part[small], family))
        return pd.concat(parts, ignore_index=True)


def private_changes(found: Changes, min_cell: int) -> Changes:
    """``found`` as a page may show it under ``min_cell`` (see the module docstring);
    ``found`` itself when ``min_cell`` is 0 or ``found`` is already private under it.

    Parameters
    ----------
    found : Changes
        The result of :func:`journey_lib.changes` or :func:`journey_lib.find_changes`.
    min_cell : int
        The privacy threshold (0: show everything).

    Returns
    -------
    Changes
        A :class:`PrivateChanges` with the same rows, or ``found``.

    Examples
    --------
    The app's customers buy three times a week, and twelve times for four weeks; web's
    buy 300 times a week:

    >>> import numpy as np
    >>> import journey_lib as jl
    >>> weeks = pd.date_range("2024-01-01", periods=52, freq="7D", tz="UTC")
    >>> app = np.where((np.arange(52) >= 20) & (np.arange(52) < 24), 12.0, 3.0)
    >>> places = {(None, None): 300.0 + app, ("platform", "web"): np.full(52, 300.0),
    ...           ("platform", "app"): app}
    >>> series = pd.concat([pd.DataFrame({"metric": "events", "detail": "purchase",
    ...     "column": c, "value": v, "period": weeks, "count": n, "base": np.nan,
    ...     "used": True}) for (c, v), n in places.items()], ignore_index=True)
    >>> found = jl.find_changes(series, min_count=1)
    >>> found.table[["value", "periods", "behind", "before", "during"]]
      value  periods  behind  before  during
    0   app        4    48.0     3.0    12.0

    Under ``min_cell=20`` the 12 events of the four weeks before are not shown, nor is a
    week of the app, nor (its complement, since the whole log is shown) a week of web:

    >>> shown = private_changes(found, 20)
    >>> shown.table[["value", "behind", "before", "during"]]
      value  behind  before  during
    0   app    48.0     NaN    12.0
    >>> shown.series.groupby("value", dropna=False)["count"].count().to_dict()
    {'app': 0, 'web': 0, nan: 52}
    """
    min_cell = check_min_cell(min_cell)
    if isinstance(found, PrivateChanges):
        if found.min_cell == min_cell:
            return found
        found = found.whole
    if not min_cell:
        return found
    kept = {f.name: getattr(found, f.name) for f in fields(Changes)}
    kept.update(series=_private_series(found.series, min_cell))
    page = PrivateChanges(**kept, whole=found, min_cell=min_cell)
    table = page.table.copy()
    for i in range(len(table)):
        rows, shown = found.series_of(i), page.series_of(i)  # the same rows, in order
        family = FAMILY[table["metric"].iloc[i]]
        for window, columns in zip(found.windows(i), (_BEFORE, _DURING), strict=True):
            inside = rows["period"].isin(window).to_numpy()
            if _small_window(rows[inside], family, min_cell) or _gives_away(
                rows[inside], shown[inside], family, min_cell
            ):
                table.loc[table.index[i], [*columns, "change", "relative"]] = np.nan
    return dataclasses.replace(page, table=table)


def _private_series(series: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """The series with the cells a page may not show missing (count and base)."""
    family = series["metric"].map(FAMILY).to_numpy()
    unit = _unit(series, family)
    rate = family == "rate"
    converted = np.where(rate, series["count"].to_numpy(dtype="float64"), 0.0)
    missed = np.where(rate, unit - converted, 0.0)  # customers behind a rate who did not
    hide = _small(unit, min_cell) | _small(converted, min_cell) | _small(missed, min_cell)
    places = series["column"].notna().to_numpy()
    if (hide & places).any():
        # Complements within each column's values of one period, whose whole log is shown.
        group = series[places].groupby([*_PLACE, "period"], dropna=False, sort=False).ngroup()
        hit = pd.Series(hide[places], index=group.index).groupby(group).transform("any")
        chosen = hit.to_numpy()
        inside = group[chosen]
        more = np.zeros(int(chosen.sum()), bool)
        for counts in (unit, converted, missed):
            held = pd.Series(counts[places][chosen], index=inside.index)
            more |= (
                held.groupby(inside, sort=False)
                .transform(lambda u: suppressed(u, min_cell))
                .to_numpy(dtype=bool)
            )
        hide[np.flatnonzero(places)[chosen]] |= more
    shown = series.copy()
    shown.loc[hide, ["count", "base"]] = np.nan
    return shown


def _unit(series: pd.DataFrame, family: np.ndarray) -> np.ndarray:
    """What each cell rests on: events for counts, customers (the base) otherwise."""
    count = series["count"].to_numpy(dtype="float64")
    return np.where(family == "count", count, series["base"].to_numpy(dtype="float64"))


def _small(values: float | np.ndarray | pd.Series, min_cell: int) -> np.ndarray:
    v = np.asarray(values, dtype="float64")
    return (v > 0) & (v < min_cell)


def _small_window(rows: pd.DataFrame, family: str, min_cell: int) -> bool:
    """Whether a window's periods (``rows``) rest on too few in all."""
    count = rows["count"].sum()
    unit = count if family == "count" else rows["base"].sum()
    return bool(_small(unit, min_cell)) or (
        family == "rate" and bool(_small(count, min_cell) | _small(unit - count, min_cell))
    )


def _gives_away(rows: pd.DataFrame, shown: pd.DataFrame, family: str, min_cell: int) -> bool:
    """Whether a window's level, its total over its periods, would give away the periods
    the figure hides (``rows`` as found, ``shown`` as the page shows them): the total less
    the cells shown is the hidden cells' sum, safe only as a group of two or more holding
    ``min_cell`` or more (for a rate, its converted and not converted customers too, unless
    none)."""
    hidden = (shown["count"].isna() & rows["count"].notna()).to_numpy()
    if not hidden.any():
        return False
    unit = rows["count"] if family == "count" else rows["base"]
    converted = rows["count"].to_numpy()[hidden].sum()
    missed = unit.to_numpy()[hidden].sum() - converted
    return (
        hidden.sum() < 2
        or unit.to_numpy()[hidden].sum() < min_cell
        or (family == "rate" and (0 < converted < min_cell or 0 < missed < min_cell))
    )


def _hidden_values(
    rows: pd.DataFrame, family: str, window: pd.DatetimeIndex, min_cell: int
) -> pd.Series:
    """Which values of one column a page may not show over ``window``'s periods,
    complements included, by value."""
    inside = rows[rows["period"].isin(window)]
    totals = inside.groupby(inside["value"].astype(str))[["count", "base"]].sum()
    hide = suppressed(totals["count"] if family == "count" else totals["base"], min_cell)
    if family == "rate":  # those who converted and those who did not are cells too
        hide |= suppressed(totals["count"], min_cell)
        hide |= suppressed(totals["base"] - totals["count"], min_cell)
    return hide


def _together(rows: pd.DataFrame, family: str) -> pd.DataFrame:
    """Breakdown rows as one: the parts summed, the levels summed (counts) or their mean
    weighted by the base. (A value hidden alone had no other value to hide with: the whole
    log is then that value, shown anyway.)"""
    out = {"column": rows["column"].iloc[0], "value": HIDDEN}
    for name in ("before_weight", "during_weight", "within", "mix", "effect", "share"):
        out[name] = rows[name].sum(min_count=1)
    for name, weight in (("before", "before_weight"), ("during", "during_weight")):
        if family == "count":
            out[name] = rows[name].sum()
        else:
            w = rows[weight]
            out[name] = float((w * rows[name]).sum() / w.sum()) if w.sum() > 0 else np.nan
    return pd.DataFrame([out], columns=rows.columns)
