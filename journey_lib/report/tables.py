"""Tables as a report page shows them: every number written for a reader, small cells hidden.

A result frame of journey_lib says what its columns hold by their names, and these rules
read them so:

* **counts**: integer columns, and the columns named in :data:`COUNT_COLUMNS`, written
  with thousands separators;
* **rates**: columns whose name holds ``rate``, ``share`` or ``probability``, as
  percentages;
* **money**: the columns of :data:`MONEY_COLUMNS`, with the currency;
* **durations in seconds**: names ending ``_seconds`` or starting ``median_time``, in
  words (minutes, hours, days);
* times as dates, other numbers to three significant digits (whole from 1,000; below 0.01
  two, below 0.001 with their power of ten, so that no number runs to five decimals).

With ``min_cell = k``, a count below ``k`` is hidden as ``<k``, with complementary
suppression down each count column (:func:`journey_lib.report.privacy.suppressed`), and
every other number of a row with a hidden count is hidden too, since a rate or an amount
of a few customers can give their count away.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .formatting import figure_text
from .privacy import check_min_cell, suppressed

__all__ = ["COUNT_COLUMNS", "MONEY_COLUMNS", "formatted", "hide_recorded", "private"]

#: Columns that count customers or events, whatever their type.
COUNT_COLUMNS = frozenset(
    {
        "customers",
        "touchpoints",
        "count",
        "converted",
        "entered",
        "lost",
        "active_start",
        "active_end",
        "new",
        "reactivated",
        "cohort_size",
        "progressed",
        "regressed",
        "advocates",
        "buyers",
        "contacts",
        "conversions",
    }
)
#: Columns that hold money.
MONEY_COLUMNS = frozenset(
    {
        "value",
        "revenue",
        "clv",
        "monetary_value",
        "expected_value",
        "expected_profit",
        "value_at_risk",
        "spend",
        "mean_value",
    }
)
# Integer columns that number, rank or name things rather than count customers (an id is
# not a count: it is written as it is and never hidden).
_LABELS = frozenset(
    {"step", "rank", "period", "r_score", "f_score", "m_score", "segment_id", "customer_id"}
)


def _kind(name: Any, values: pd.Series) -> str:
    key = str(name).lower()
    if _words(values):  # text already (a "value" column of words is no money)
        return "text"
    if pd.api.types.is_bool_dtype(values):  # a flag named like a count ("converted")
        return "bool"
    if key in COUNT_COLUMNS:
        return "count"
    if key in MONEY_COLUMNS:
        return "money"
    # Whole words: "integrated_brier" holds "rate" but is no rate.
    if {"rate", "rates", "share", "probability"} & set(re.split(r"[^a-z0-9]+", key)):
        return "rate"
    if key.endswith("_seconds") or key.startswith("median_time"):
        return "seconds"
    if pd.api.types.is_integer_dtype(values):
        return "label" if key in _LABELS else "count"
    if pd.api.types.is_float_dtype(values):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(values):
        return "time"
    return "text"


def _words(values: pd.Series) -> bool:
    """Whether a column holds text rather than numbers."""
    if not (values.dtype == object or isinstance(values.dtype, pd.StringDtype)):
        return False
    return pd.api.types.infer_dtype(values, skipna=True) not in _NUMBERS


_NUMBERS = ("integer", "floating", "mixed-integer-float", "decimal", "empty")


def _hidden(frame: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """Which cells to hide: small counts (and their complements), then the rest of those
    rows' numbers."""
    hide = pd.DataFrame(False, index=frame.index, columns=frame.columns)
    if not min_cell:
        return hide
    kinds = {c: _kind(c, frame[c]) for c in frame.columns}
    counts = [c for c, k in kinds.items() if k == "count"]
    for column in counts:
        # A count below zero (lifecycle's dormant customers) is as many customers as its size.
        values = pd.to_numeric(frame[column], errors="coerce").abs()
        present = values.notna()
        hide.loc[present, column] = suppressed(values[present], min_cell).to_numpy()
    rows = hide[counts].any(axis=1) if counts else pd.Series(False, index=frame.index)
    # A step's rate is over the row before it (a funnel's step_conversion_rate): a hidden row
    # would come back as the next row's count divided by its rate.
    before = rows.shift(1, fill_value=False)
    for column, kind in kinds.items():
        if kind in ("rate", "money", "seconds", "number"):
            hide[column] = (
                (rows | before).to_numpy() if str(column).startswith("step_") else rows.to_numpy()
            )
    return hide


def private(frame: pd.DataFrame, min_cell: int = 0) -> pd.DataFrame:
    """``frame`` with the cells a page may not show set to missing (numbers stay numbers),
    for a figure to draw; ``min_cell = 0`` returns it as it is.

    Examples
    --------
    >>> counts = pd.DataFrame({"channel": ["web", "mail", "shop"], "customers": [120, 3, 40],
    ...                        "conversion_rate": [0.2, 0.67, 0.1]})
    >>> private(counts, 5)
      channel  customers  conversion_rate
    0     web      120.0              0.2
    1    mail        NaN              NaN
    2    shop        NaN              NaN
    """
    min_cell = check_min_cell(min_cell)
    if not min_cell:
        return frame
    hide = _hidden(frame, min_cell)
    numbers = [c for c in frame.columns if hide[c].any()]
    shown = frame.copy()
    for column in numbers:
        shown[column] = (
            pd.to_numeric(shown[column], errors="coerce").astype(float).mask(hide[column])
        )
    return shown


def formatted(
    frame: pd.DataFrame, *, min_cell: int = 0, currency: str | None = None
) -> pd.DataFrame:
    """``frame`` with every cell as the text a page shows (see the module docstring); the
    index and column names are kept.

    Examples
    --------
    >>> funnel = pd.DataFrame({"step": [1, 2], "event": ["visit", "buy"],
    ...                        "customers": [1950, 425], "conversion_rate": [1.0, 0.2179487],
    ...                        "median_time_to_convert": [float("nan"), 21842.0]})
    >>> formatted(funnel)
      step  event customers conversion_rate median_time_to_convert
    0    1  visit     1,950          100.0%                      –
    1    2    buy       425           21.8%              6.1 hours
    >>> formatted(funnel, min_cell=500)["customers"].tolist()
    ['<500', '<500']
    >>> formatted(pd.DataFrame({"estimate": [2471310.4, 1.8105, 0.00488, 4.3167e-05],
    ...                         "lift": [2.5, float("inf"), 0.0, float("nan")]}))
        estimate lift
    0  2,471,310  2.5
    1       1.81    ∞
    2     0.0049    0
    3   4.32e-05    –
    """
    min_cell = check_min_cell(min_cell)
    hide = _hidden(frame, min_cell)
    shown = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        values = frame[column]
        kind = _kind(column, values)
        texts = [_text(v, kind, currency) for v in values]
        shown[column] = np.where(hide[column].to_numpy(), f"<{min_cell}", texts)
    return shown


def _text(value: Any, kind: str, currency: str | None) -> str:
    if value is None or value is pd.NA or value is pd.NaT:
        return "–"
    if isinstance(value, float) and math.isnan(value):
        return "–"
    if isinstance(value, float) and math.isinf(value):  # a ratio over zero (a lift)
        return "∞" if value > 0 else "−∞"
    if kind == "count":
        return figure_text(value, "count")
    if kind == "rate":
        return figure_text(value, "rate")
    if kind == "money":
        return figure_text(value, "money", currency=currency)
    if kind == "seconds":
        return _seconds(float(value))
    if kind == "bool":
        return "yes" if value else "no"
    if kind == "time":
        return pd.Timestamp(value).strftime("%Y-%m-%d")
    if kind == "number":
        return _number(float(value))
    return str(value)


def _number(value: float) -> str:
    """A number to three significant digits (whole from 1,000), never five decimals or
    more: below 0.01, two digits (0.0049), below 0.001, with its power of ten (4.32e-05)."""
    size = abs(value)
    if size >= 1000:
        return f"{value:,.0f}"
    if 0 < size < 0.001:
        return f"{value:.2e}"
    if 0 < size < 0.01:
        return f"{value:.2g}"
    return f"{value:.3g}"


def _seconds(seconds: float) -> str:
    """A duration in seconds in words, to two or three significant digits."""
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            amount = seconds / size
            text = f"{amount:.2g}" if amount < 10 else f"{amount:,.0f}"
            return f"{text} {unit}{'' if text == '1' else 's'}"
    return f"{seconds:.0f} seconds"


def hide_recorded(recorded: Mapping[str, Any], min_cell: int) -> dict[str, Any]:
    """Figures notebooks recorded (``metrics.json``'s ``{notebook: {name: value}}``) as a
    run with ``min_cell`` may keep them: every count from 1 to ``min_cell - 1`` (a whole
    number, or a number named as a count, :data:`COUNT_COLUMNS`) written ``"<min_cell"``,
    and other fractions cut to four significant digits, so that no exact ratio gives a small
    count back. Text and booleans stay; ``min_cell = 0`` changes nothing.

    Examples
    --------
    >>> hide_recorded({"01": {"customers": 3, "conversions": 2.5, "rate": 1 / 26,
    ...                       "rows_set_aside": 0, "top_channel": "web"}}, 5)["01"]
    ... # doctest: +NORMALIZE_WHITESPACE
    {'customers': '<5', 'conversions': '<5', 'rate': 0.03846, 'rows_set_aside': 0,
     'top_channel': 'web'}
    """
    min_cell = check_min_cell(min_cell)
    if not min_cell:
        return dict(recorded)

    def hide(name: str, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return value
        if isinstance(value, int) or name.lower() in COUNT_COLUMNS:
            return f"<{min_cell}" if 0 < abs(value) < min_cell else value
        return float(f"{value:.4g}") if math.isfinite(value) else value

    return {
        notebook: {name: hide(name, v) for name, v in figures.items()}
        if isinstance(figures, Mapping)
        else figures
        for notebook, figures in recorded.items()
    }
