"""What a report page shows of a result: small frames shaped for
:func:`journey_lib.report.tables.formatted`, a figure drawn only from what may be shown
(:func:`show_figure`), and one line of reading under it (:func:`show_reading`).

A notebook holds no logic (DESIGN.md, principle 1): where a page shows a result in another
shape than the function returns (frameworks side by side, a long table spread into a grid,
customers in bands of value instead of one row each), the shape is made here.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..analytics.rfm import RFM_SEGMENTS
from ..analytics.stages import FRAMEWORKS, get_framework
from ..errors import JourneyDataError
from .privacy import check_min_cell
from .tables import COUNT_COLUMNS, private

__all__ = [
    "column_summary",
    "evaluation_table",
    "figures_row",
    "framework_table",
    "hidden_sentence",
    "segment_counts",
    "show_figure",
    "show_reading",
    "spread",
    "value_bands",
]

# Names of figures that are shares, whatever their values (see tables.formatted).
_RATE_WORDS = ("rate", "share", "probability")


def show_reading(text: str) -> None:
    """Show one line of reading (Markdown) under a figure: displayed in a notebook,
    printed elsewhere.

    Examples
    --------
    >>> show_reading("Of 1,000 customers who entered, 21.0% reached Buy.")
    Of 1,000 customers who entered, 21.0% reached Buy.
    """
    try:
        from IPython import get_ipython
        from IPython.display import Markdown, display
    except ImportError:  # pragma: no cover - IPython ships with the notebook stack
        get_ipython = None
    if get_ipython is None or get_ipython() is None:
        print(text)
        return
    _flush_figures()  # the figure the reading is about goes above it
    display(Markdown(text))


def hidden_sentence(min_cell: int) -> str:
    """What a page says in place of a figure whose every cell is hidden.

    Examples
    --------
    >>> hidden_sentence(10)
    '*Hidden: fewer than 10 customers.*'
    """
    return f"*Hidden: fewer than {min_cell} customers.*"


def show_figure(
    plot: Callable[..., Any],
    twin: Any,
    *,
    min_cell: int = 0,
    labels: Sequence[str] = (),
    **options: Any,
) -> Any:
    """Draw ``plot`` of ``twin`` for a page and show it now, so that a reading shown next
    sits under it: a frame with the cells the page may not show missing
    (:func:`journey_lib.report.tables.private`), or, when that leaves nothing to draw,
    :func:`hidden_sentence` in its place.

    Parameters
    ----------
    plot : callable
        A :mod:`journey_lib.plots` function.
    twin : DataFrame or result object
        Its data twin, as the library returns it; a result object (an Evaluation, an
        Importance) holds no count of customers and is drawn as it is.
    min_cell : int, default 0
        The privacy threshold (0: draw ``twin`` as it is).
    labels : sequence of str
        Integer columns that name a row rather than count customers (the touchpoints per
        customer of :func:`journey_lib.touchpoints_per_customer`): never hidden.
    **options
        Passed to ``plot``.

    Returns
    -------
    Figure or None
        None when the figure was hidden.

    Examples
    --------
    >>> import journey_lib as jl
    >>> funnel = pd.DataFrame({"step": [1, 2], "event": ["visit", "buy"],
    ...                        "customers": [3, 1], "conversion_rate": [1.0, 0.33],
    ...                        "step_conversion_rate": [1.0, 0.33]})
    >>> show_figure(jl.plots.funnel, funnel, min_cell=5)
    *Hidden: fewer than 5 customers.*
    """
    min_cell = check_min_cell(min_cell)
    if not min_cell or not isinstance(twin, pd.DataFrame):
        return _shown(plot(twin, **options))
    kept = list(labels)
    shown = private(twin.drop(columns=kept), min_cell)
    shown = pd.concat([shown, twin[kept]], axis=1)[list(twin.columns)]
    hidden = shown.isna() & twin.notna()
    # Nothing is left when every row lost a cell (a row's rates go with its small count),
    # or when the counts that lost cells keep only zeros.
    masked = [
        c
        for c in twin.columns
        if hidden[c].any() and (c in COUNT_COLUMNS or pd.api.types.is_integer_dtype(twin[c]))
    ]
    nothing = bool(masked) and not shown[masked].abs().sum().sum()
    if len(twin) and (hidden.any(axis=1).all() or nothing):
        show_reading(hidden_sentence(min_cell))
        return None
    try:
        figure = plot(shown, **options)
    except JourneyDataError:  # what is left cannot be drawn (a heatmap without a cell)
        show_reading(hidden_sentence(min_cell))
        return None
    return _shown(figure)


def _shown(figure: Any) -> Any:
    _flush_figures()
    return figure


def _flush_figures() -> None:
    """Show the figures drawn so far, now rather than at the end of the cell, where a
    notebook's inline backend would put them below the text shown after them."""
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None and "inline" in str(plt.get_backend()).lower():
        plt.show()


def spread(frame: pd.DataFrame, index: str, columns: str, values: str) -> pd.DataFrame:
    """A long table of text (a formatted one) as a grid: ``index`` down, ``columns``
    across, both in the order they first appear, empty cells as ``–``.

    Examples
    --------
    >>> long = pd.DataFrame({"stage": ["Buy", "Buy", "Keep"], "channel": ["web", "tv", "web"],
    ...                      "share": ["60.0%", "40.0%", "100.0%"]})
    >>> spread(long, "channel", "stage", "share")  # doctest: +NORMALIZE_WHITESPACE
    stage      Buy    Keep
    channel
    web      60.0%  100.0%
    tv       40.0%       –
    """
    grid = frame.pivot_table(
        index=index, columns=columns, values=values, aggfunc="first", sort=False
    )
    order = list(dict.fromkeys(frame[columns]))
    rows = list(dict.fromkeys(frame[index]))
    return grid.reindex(index=rows, columns=order).fillna("–")


def framework_table(names: Sequence[str] | None = None) -> pd.DataFrame:
    """The stage frameworks side by side, one column each, their stages in order.

    Examples
    --------
    >>> framework_table(["customer_journey", "business"]).iloc[:2]  # doctest: +NORMALIZE_WHITESPACE
                       customer_journey  business
    step
    1                         Awareness     Reach
    2     Investigation & Consideration   Acquire
    """
    names = list(FRAMEWORKS) if names is None else list(names)
    stages = {name: list(get_framework(name).stages) for name in names}
    longest = max(len(s) for s in stages.values())
    table = pd.DataFrame(
        {name: s + ["–"] * (longest - len(s)) for name, s in stages.items()},
        index=pd.RangeIndex(1, longest + 1, name="step"),
    )
    return table


def segment_counts(segments: pd.DataFrame) -> pd.DataFrame:
    """Customers in each RFM segment, every segment listed in order (empty ones too),
    from :func:`journey_lib.rfm_segments`: ``segment``, ``customers``, ``share``.

    Examples
    --------
    >>> segments = pd.DataFrame({"customer_id": [1, 2, 3], "segment": ["loyal", "lost", "loyal"]})
    >>> segment_counts(segments).query("customers > 0")
       segment  customers     share
    1    loyal          2  0.666667
    10    lost          1  0.333333
    """
    counts = segments["segment"].value_counts().reindex(list(RFM_SEGMENTS), fill_value=0)
    total = counts.sum()
    return pd.DataFrame(
        {
            "segment": counts.index,
            "customers": counts.to_numpy(dtype="int64"),
            "share": counts.to_numpy() / total if total else 0.0,
        }
    )


#: The bands :func:`value_bands` puts customers in: label, and the share of customers
#: (most valuable first) the band ends at.
VALUE_BANDS = (("top 10%", 0.1), ("next 10%", 0.2), ("next 30%", 0.5), ("bottom 50%", 1.0))


def value_bands(value: pd.DataFrame) -> pd.DataFrame:
    """Customers in bands of lifetime value (the top tenth, the next, the next three
    tenths, the bottom half), in place of one row per customer, from
    :func:`journey_lib.clv.value_table`: ``customers``, their ``clv`` together, its
    ``share`` of all, ``mean_value`` (lifetime value per customer), the mean
    ``probability_alive`` and ``expected_purchases``.

    Examples
    --------
    >>> value = pd.DataFrame({"customer_id": range(10), "clv": [50.0, 20, 10, 8, 5, 3, 2, 1, 1, 0],
    ...                       "probability_alive": [0.9] * 5 + [0.5] * 5,
    ...                       "expected_purchases": [4.0] * 5 + [1.0] * 5})
    >>> bands = value_bands(value)
    >>> bands[["customers", "clv", "share", "mean_value"]]  # doctest: +NORMALIZE_WHITESPACE
                customers   clv  share  mean_value
    band
    top 10%             1  50.0   0.50       50.00
    next 10%            1  20.0   0.20       20.00
    next 30%            3  23.0   0.23        7.67
    bottom 50%          5   7.0   0.07        1.40
    """
    ranked = value.sort_values("clv", ascending=False, kind="stable").reset_index(drop=True)
    n = len(ranked)
    ends = np.ceil(np.array([share for _, share in VALUE_BANDS]) * n).astype(int)
    band = np.searchsorted(ends, np.arange(n), side="right")
    names = np.array([name for name, _ in VALUE_BANDS])
    grouped = ranked.groupby(names[band], sort=False)
    total = ranked["clv"].sum()
    table = pd.DataFrame(
        {
            "customers": grouped.size(),
            "clv": grouped["clv"].sum(),
            "share": grouped["clv"].sum() / total if total else np.nan,
            "mean_value": grouped["clv"].mean().round(2),
        }
    )
    for column in ("probability_alive", "expected_purchases"):
        if column in ranked.columns:
            table[column] = grouped[column].mean()
    return (
        table.reindex([name for name, _ in VALUE_BANDS])
        .dropna(subset=["customers"])
        .rename_axis("band")
        .astype({"customers": "int64"})
    )


#: The metrics of an Evaluation as a page names them; capture is a share of the churners.
METRIC_NAMES = {
    "roc_auc": "ROC AUC",
    "pr_auc": "average precision",
    "brier": "Brier score",
    "log_loss": "log loss",
    "ece": "calibration error",
}


def evaluation_table(evaluation: Any) -> pd.DataFrame:
    """An :class:`~journey_lib.churn.Evaluation`'s metrics, one row per scorer, under
    names a page shows (:data:`METRIC_NAMES`; ``capture_top_5%`` reads "share of churners
    in the top 5%", a rate), so that :func:`journey_lib.report.tables.formatted` writes
    each as it should; transpose the formatted frame to list the metrics down the page.

    Examples
    --------
    >>> metrics = pd.DataFrame({"scorer": ["hgb", "base rate"] * 2,
    ...                         "metric": ["roc_auc"] * 2 + ["capture_top_10%"] * 2,
    ...                         "value": [0.812, 0.5, 0.31, 0.1]})
    >>> evaluation_table(metrics).columns.tolist()
    ['ROC AUC', 'share of churners in the top 10%']
    """
    metrics = getattr(evaluation, "metrics", evaluation)
    grid = metrics.pivot(index="scorer", columns="metric", values="value")
    grid = grid.loc[list(dict.fromkeys(metrics["scorer"])), list(dict.fromkeys(metrics["metric"]))]
    return grid.rename(columns=_metric_name).rename_axis(index="", columns=None)


def _metric_name(metric: str) -> str:
    if metric.startswith("capture_top_"):
        return f"share of churners in the {metric.removeprefix('capture_')}".replace("_", " ")
    if metric.startswith("lift_top_"):
        return f"lift in the {metric.removeprefix('lift_')}".replace("_", " ")
    return METRIC_NAMES.get(metric, metric.replace("_", " "))


def figures_row(figures: pd.Series, name: str) -> pd.DataFrame:
    """A Series of figures (counts and rates, say a Loyalty's ``overall``) as a one-row
    frame named ``name``, whole-number counts as integers, so that
    :func:`journey_lib.report.tables.formatted` writes and hides each by its kind;
    transpose the formatted frame to list the figures down the page.

    Examples
    --------
    >>> overall = pd.Series({"buyers": 492.0, "repeat_purchase_rate": 0.7825})
    >>> figures_row(overall, "all buyers").dtypes.tolist()
    [Int64Dtype(), dtype('float64')]
    """
    row = figures.to_frame(name).T
    for column in row.columns:
        values = pd.to_numeric(row[column], errors="coerce")
        rate = any(word in str(column).lower() for word in _RATE_WORDS)
        if not rate and values.notna().all() and (values % 1 == 0).all():
            row[column] = values.astype("Int64")
        else:
            row[column] = values.astype("float64") if values.notna().any() else row[column]
    return row


def column_summary(table: pd.DataFrame) -> pd.DataFrame:
    """What each column of a customer table holds, in place of its rows (which would
    show customers one by one): its type, the share of customers it is filled for, and
    its distinct values.

    Examples
    --------
    >>> table = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "plan": ["x", "y", None, "x"],
    ...                       "spend": [1.0, 2.0, 3.0, 4.0]})
    >>> column_summary(table)  # doctest: +NORMALIZE_WHITESPACE
                   type  filled_share distinct
    column
    customer_id    text          1.00        4
    plan           text          0.75        2
    spend        number          1.00        4
    """
    rows = []
    for column in table.columns:
        values = table[column]
        if pd.api.types.is_bool_dtype(values):
            kind = "yes/no"
        elif pd.api.types.is_numeric_dtype(values):
            kind = "number"
        elif pd.api.types.is_datetime64_any_dtype(values):
            kind = "date"
        else:
            kind = "text"
        rows.append((column, kind, float(values.notna().mean()), f"{values.nunique():,}"))
    return pd.DataFrame(rows, columns=["column", "type", "filled_share", "distinct"]).set_index(
        "column"
    )
