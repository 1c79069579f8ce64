"""Figures of churn models: how well they rank and are calibrated, why they score as they
do, and whom a retention offer should go to.

Each function draws a data twin or a result object of :mod:`journey_lib.churn` and returns
the Figure: the curve points of :func:`~journey_lib.churn.evaluation.roc_points` and
:func:`~journey_lib.churn.evaluation.pr_points`, an
:class:`~journey_lib.churn.Evaluation` (or its tables), an
:class:`~journey_lib.churn.Importance`, a :class:`~journey_lib.churn.PartialDependence` and
a :class:`~journey_lib.churn.Targeting`. As in scikit-learn's displays, the data function
computes and the figure only draws.
"""

from __future__ import annotations

import textwrap
import warnings
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..churn.evaluation import Evaluation, pr_points, roc_points
from ._style import (
    GREY,
    MARKERS,
    NOTE,
    PALETTE,
    TITLE,
    axes_or_new,
    decorate,
    figure_of,
    line_style,
    panels,
    percent,
    twin_table,
    unit_square,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..churn.explain import Importance, PartialDependence
    from ..churn.targeting import Targeting

__all__ = [
    "calibration",
    "gains",
    "importance",
    "lift",
    "partial_dependence",
    "precision_recall",
    "profit_curve",
    "roc",
]


def roc(points: Any, scores: Any = None, *, ax: Axes | None = None) -> Figure:
    """ROC curves of one or more scorers on the same customers, with their AUC.

    Data twin: :func:`journey_lib.churn.evaluation.roc_points`, of one array of scores (the
    curve is named ``"model"``) or of a mapping of scorer name to scores (one curve per
    ``scorer``, in the twin's order). The AUC in the legend is the area under the drawn
    points (trapezoids), which equals scikit-learn's ``roc_auc_score``.

    The call ``roc(y, scores)`` of earlier releases still draws the same figure, with a
    DeprecationWarning; it goes in the next release.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import journey_lib as jl
    >>> from journey_lib.churn.evaluation import roc_points
    >>> y = [0, 0, 1, 1]
    >>> twin = roc_points(y, {"model": [0.1, 0.4, 0.35, 0.8], "coin": [0.5, 0.5, 0.5, 0.5]})
    >>> figure = jl.plots.roc(twin)
    >>> [line.get_label() for line in figure.axes[0].get_lines()]
    ['model (AUC 0.750)', 'coin (AUC 0.500)', 'chance']
    >>> plt.close(figure)
    """
    if scores is not None:
        _deprecated_call("roc", "roc_points")
        points = roc_points(points, scores)
    frame = twin_table(points, ("false_positive_rate", "true_positive_rate"), "roc_points")
    ax = axes_or_new(ax, (6.5, 6))
    for i, (name, part) in enumerate(_scorers(frame)):
        fpr, tpr = part["false_positive_rate"], part["true_positive_rate"]
        area = float(np.trapezoid(tpr, fpr))
        ax.plot(fpr, tpr, label=f"{name} (AUC {area:.3f})", **line_style(i, markers=False))
    ax.plot([0, 1], [0, 1], linestyle=":", color=GREY, label="chance")
    unit_square(ax)
    ax.legend(loc="lower right", fontsize=NOTE)
    return decorate(
        ax, "ROC curve", "false positive rate (stayers flagged)", "true positive rate (churners)"
    )


def precision_recall(points: Any, scores: Any = None, *, ax: Axes | None = None) -> Figure:
    """Precision-recall curves of one or more scorers, with their average precision.

    Data twin: :func:`journey_lib.churn.evaluation.pr_points`, of one array of scores or of
    a mapping of scorer name to scores, as for :func:`roc`. Curves are steps, as average
    precision integrates them; the dotted line is the base rate, the precision of flagging
    every customer (the twin's last row).

    The call ``precision_recall(y, scores)`` of earlier releases still draws the same
    figure, with a DeprecationWarning; it goes in the next release.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import journey_lib as jl
    >>> from journey_lib.churn.evaluation import pr_points
    >>> figure = jl.plots.precision_recall(pr_points([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]))
    >>> [line.get_label() for line in figure.axes[0].get_lines()]
    ['model (AP 0.833)', 'base rate (50.0%)']
    >>> plt.close(figure)
    """
    if scores is not None:
        _deprecated_call("precision_recall", "pr_points")
        points = pr_points(points, scores)
    frame = twin_table(points, ("recall", "precision"), "pr_points")
    ax = axes_or_new(ax, (6.5, 6))
    rate = float("nan")
    for i, (name, part) in enumerate(_scorers(frame)):
        recall, precision = part["recall"], part["precision"]
        average = float((recall.diff().fillna(0) * precision).sum())
        ax.plot(
            recall,
            precision,
            drawstyle="steps-pre",
            label=f"{name} (AP {average:.3f})",
            **line_style(i, markers=False),
        )
        rate = float(precision.iloc[-1])  # every scorer's last row flags every customer
    ax.axhline(rate, linestyle=":", color=GREY, label=f"base rate ({rate:.1%})")
    unit_square(ax)
    ax.legend(loc="upper right", fontsize=NOTE)
    return decorate(
        ax, "Precision-recall curve", "recall (churners flagged)", "precision (flagged who churn)"
    )


def calibration(evaluation: Evaluation | pd.DataFrame, *, ax: Axes | None = None) -> Figure:
    """Observed churn rate against mean predicted probability, per score bin.

    Data twin: ``Evaluation.calibration`` of :mod:`journey_lib.churn` (pass the Evaluation
    or its table): ten score-quantile bins, error bars the bootstrap interval. A calibrated
    model's points lie on the diagonal.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> import journey_lib as jl
    >>> from journey_lib.churn.evaluation import evaluate_scores
    >>> scores = np.linspace(0.05, 0.95, 200)
    >>> y = (np.random.default_rng(0).random(200) < scores).astype(int)
    >>> evaluation = evaluate_scores(y, {"model": scores}, n_bootstraps=20)
    >>> figure = jl.plots.calibration(evaluation)
    >>> points = figure.axes[0].get_lines()[0]
    >>> bool((points.get_xdata() == evaluation.calibration["mean_score"]).all())
    True
    >>> plt.close(figure)
    """
    table = _evaluation_table(evaluation, "calibration")
    needed = ("mean_score", "churn_rate", "churn_rate_low", "churn_rate_high")
    table = twin_table(table, needed, "Evaluation.calibration").astype(
        dict.fromkeys(needed, "float64")
    )
    rate = table["churn_rate"].to_numpy()
    errors = np.vstack([rate - table["churn_rate_low"], table["churn_rate_high"] - rate])
    ax = axes_or_new(ax, (6.5, 6))
    ax.errorbar(
        table["mean_score"].to_numpy(),
        rate,
        yerr=np.nan_to_num(np.clip(errors, 0, None)),
        color=PALETTE[0],
        marker=MARKERS[0],
        capsize=3,
        label=f"score bins ({_confidence(evaluation)} interval)",
    )
    top = float(np.nanmax([*table["mean_score"], *table["churn_rate_high"], 0.05]))
    limit = min(1.0, top * 1.1)
    ax.plot([0, limit], [0, limit], linestyle=":", color=GREY, label="perfect calibration")
    ax.set_xlim(0, limit)
    ax.set_ylim(0, limit)
    percent(ax.xaxis)
    percent(ax.yaxis)
    ax.legend(loc="upper left", fontsize=NOTE)
    return decorate(ax, "Calibration", "mean predicted churn probability", "observed churn rate")


def gains(evaluation: Evaluation | pd.DataFrame, *, ax: Axes | None = None) -> Figure:
    """Cumulative gains: the share of churners captured by contacting the top customers.

    Data twin: ``Evaluation.gains`` (the Evaluation or its table), rows from the top
    decile down; the band is the bootstrap interval, the diagonal a random order.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> import journey_lib as jl
    >>> from journey_lib.churn.evaluation import evaluate_scores
    >>> y = np.array([0, 1] * 50)
    >>> evaluation = evaluate_scores(y, {"model": y * 0.6 + 0.2}, n_bootstraps=20)
    >>> figure = jl.plots.gains(evaluation)
    >>> figure.axes[0].get_lines()[0].get_ydata()[:6].tolist()  # churners all in the top half
    [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    >>> plt.close(figure)
    """
    table = twin_table(
        _evaluation_table(evaluation, "gains"),
        ("decile", "capture", "capture_low", "capture_high"),
        "Evaluation.gains",
    )
    shares = np.arange(len(table) + 1) / len(table)
    ax = axes_or_new(ax, (6.5, 6))
    ax.plot(
        shares,
        np.r_[0.0, table["capture"]],
        color=PALETTE[0],
        marker=MARKERS[0],
        label="model",
    )
    ax.fill_between(
        shares,
        np.r_[0.0, table["capture_low"]],
        np.r_[0.0, table["capture_high"]],
        color=PALETTE[0],
        alpha=0.2,
        label=f"{_confidence(evaluation)} interval",
    )
    ax.plot([0, 1], [0, 1], linestyle=":", color=GREY, label="random order")
    unit_square(ax)
    ax.legend(loc="lower right", fontsize=NOTE)
    return decorate(
        ax,
        "Cumulative gains",
        "customers contacted, highest scores first",
        "churners captured",
    )


def lift(evaluation: Evaluation | pd.DataFrame, *, ax: Axes | None = None) -> Figure:
    """Cumulative lift: the churn rate among the top customers over the overall rate.

    Data twin: ``Evaluation.gains`` (the Evaluation or its table); error bars are the
    bootstrap interval; 1 is no better than random.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> import journey_lib as jl
    >>> from journey_lib.churn.evaluation import evaluate_scores
    >>> y = np.array([0, 1] * 50)
    >>> evaluation = evaluate_scores(y, {"model": y * 0.6 + 0.2}, n_bootstraps=20)
    >>> figure = jl.plots.lift(evaluation.gains)  # the table alone draws the same
    >>> [round(float(bar.get_height()), 2) for bar in figure.axes[0].patches][:6]
    [2.0, 2.0, 2.0, 2.0, 2.0, 1.67]
    >>> plt.close(figure)
    """
    table = twin_table(
        _evaluation_table(evaluation, "gains"),
        ("decile", "lift", "lift_low", "lift_high"),
        "Evaluation.gains",
    )
    x = np.arange(len(table))
    errors = np.vstack([table["lift"] - table["lift_low"], table["lift_high"] - table["lift"]])
    ax = axes_or_new(ax, (8, 5))
    ax.bar(
        x,
        table["lift"],
        yerr=np.nan_to_num(np.clip(errors, 0, None)),
        capsize=3,
        color=PALETTE[0],
        label=f"model ({_confidence(evaluation)} interval)",
    )
    ax.axhline(1, linestyle=":", color=GREY, label="random order")
    ax.set_xticks(x, [f"{(i + 1) / len(table):.0%}" for i in x])
    ax.legend(fontsize=NOTE)
    return decorate(
        ax,
        "Cumulative lift",
        "top share of customers by score",
        "lift (churn rate in the top / overall)",
    )


def importance(result: Importance, *, n: int = 15, ax: Axes | None = None) -> Figure:
    """Permutation importance of the top ``n`` feature groups as bars, with intervals.

    Data twin: ``Importance.table`` of :meth:`journey_lib.churn.ChurnModel.importance`
    (pass the Importance: its scoring and confidence label the axes). The most important
    group is on top; error bars are the percentile interval over the repeats, and an
    interval reaching the zero line means the model does not need the group.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> import pandas as pd
    >>> import journey_lib as jl
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"tickets": rng.integers(0, 5, 300), "value_total": rng.gamma(2, 50, 300)})
    >>> y = (rng.random(300) < 0.1 + 0.2 * X["tickets"].clip(upper=3)).astype(int)
    >>> model = jl.churn.train(X, y, model="logistic")
    >>> figure = jl.plots.importance(model.importance(X, y, n_repeats=3))
    >>> [label.get_text() for label in figure.axes[0].get_yticklabels()]  # bottom to top
    ['value_total', 'tickets']
    >>> figure.axes[0].get_xlabel()
    'drop in ROC AUC when shuffled'
    >>> plt.close(figure)
    """
    table = twin_table(result.table, ("feature", "importance", "low", "high"), "Importance.table")
    shown = table.head(n).iloc[::-1]
    ax = axes_or_new(ax, (9, 1.5 + 0.4 * len(shown)))
    errors = np.vstack(
        [shown["importance"] - shown["low"], shown["high"] - shown["importance"]]
    ).clip(min=0)
    ax.barh(shown["feature"], shown["importance"], xerr=errors, color=PALETTE[0])
    ax.axvline(0, color="black", linewidth=0.8)
    return decorate(
        ax,
        f"Permutation importance ({result.confidence:.0%} intervals)",
        f"{result.loss_word} when shuffled",
        "feature group",
    )


def partial_dependence(result: PartialDependence, *, axes: Sequence[Axes] | None = None) -> Figure:
    """Partial dependence panels, one per feature: the mean churn probability over the
    grid of the feature's column.

    Data twin: ``PartialDependence.table`` of
    :meth:`journey_lib.churn.ChurnModel.partial_dependence` (pass the PartialDependence: it
    says which columns are categories). Numbers are lines over their grid; categories are
    points. ``axes`` are drawn into, one per feature in the table's order, instead of new
    panels sharing their y axis.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> import pandas as pd
    >>> import journey_lib as jl
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"tickets": rng.integers(0, 5, 300), "value_total": rng.gamma(2, 50, 300)})
    >>> y = (rng.random(300) < 0.1 + 0.2 * X["tickets"].clip(upper=3)).astype(int)
    >>> model = jl.churn.train(X, y, model="logistic")
    >>> figure = jl.plots.partial_dependence(model.partial_dependence(X, ["tickets"], grid=5))
    >>> figure.axes[0].get_lines()[0].get_xdata().tolist()
    [0.0, 1.0, 2.0, 3.0, 4.0]
    >>> plt.close(figure)
    """
    table = twin_table(
        result.table, ("feature", "column", "value", "churn_probability"), "PartialDependence"
    )
    features = list(dict.fromkeys(table["feature"]))
    drawn = panels(len(features)) if axes is None else list(axes)
    for ax, feature in zip(drawn, features, strict=False):
        part = table[table["feature"] == feature]
        column = part["column"].iloc[0]
        if column in result.categorical:
            ax.plot(part["value"].astype(str), part["churn_probability"], "o", color=PALETTE[0])
            ax.tick_params(axis="x", labelrotation=45)
        else:
            x = part["value"].astype(float)
            ax.plot(x, part["churn_probability"], "-o", color=PALETTE[0])
        percent(ax.yaxis)
        decorate(ax, feature, column, "mean churn probability")
    figure = figure_of(drawn[0])
    figure.suptitle(
        f"Partial dependence: mean churn probability ({result.rows:,} customers)",
        fontsize=TITLE,
    )
    return figure


def profit_curve(result: Targeting, *, ax: Axes | None = None) -> Figure:
    """Expected (and realised) profit of contacting the top customers, the choice marked.

    Data twin: ``Targeting.curve`` of :meth:`journey_lib.churn.ChurnModel.target` (pass the
    Targeting: its choice is the dashed line, its offer the title). Profit is drawn against
    the share of customers contacted, best contact first; the realised profit is drawn
    when the plan was made with outcomes.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import pandas as pd
    >>> import journey_lib as jl
    >>> from journey_lib.churn.targeting import plan_offers
    >>> X = pd.DataFrame({"value_total": [100.0, 10.0]}, index=["a", "b"])
    >>> plan = plan_offers([0.5, 0.9], X, offer_cost=5, save_rate=0.3, y=[1, 0])
    >>> figure = jl.plots.profit_curve(plan)
    >>> expected, realised, choice = figure.axes[0].get_lines()[:3]
    >>> expected.get_ydata().tolist(), realised.get_ydata().tolist()
    ([0.0, 10.0, 7.7], [0.0, 25.0, 20.0])
    >>> [float(x) for x in choice.get_xdata()]  # one of the two customers is worth contacting
    [0.5, 0.5]
    >>> plt.close(figure)
    """
    curve = twin_table(result.curve, ("share", "expected_profit"), "Targeting.curve")
    ax = axes_or_new(ax, (9, 5.5))
    ax.plot(
        curve["share"],
        curve["expected_profit"],
        label="expected profit",
        color=PALETTE[0],
        linewidth=2,
    )
    if "realised_profit" in curve:
        # Dash-dot: the dashed line is the choice.
        ax.plot(
            curve["share"],
            curve["realised_profit"],
            label="realised profit",
            color=PALETTE[1],
            linewidth=2,
            linestyle="-.",
        )
    ax.axvline(curve["share"].iloc[result.chosen], color=GREY, linestyle="--")
    ax.axhline(0, color="black", linewidth=0.8)
    percent(ax.xaxis)
    ax.legend(fontsize=NOTE)
    offer = (
        "uplift by customer" if result.save_rate is None else f"save rate {result.save_rate:.0%}"
    )
    title = (
        f"Retention offer: profit by customers contacted (cost {result.offer_cost:,.2f}, "
        f"{offer}; dashed: the choice)"
    )
    return decorate(
        ax, textwrap.fill(title, 60), "share of customers contacted, best first", "profit"
    )


def _scorers(points: pd.DataFrame) -> Iterator[tuple[str, pd.DataFrame]]:
    """Each scorer's name and points, in the twin's order; one unnamed scorer is
    ``"model"``."""
    if "scorer" not in points.columns:
        yield "model", points
        return
    for name, part in points.groupby("scorer", sort=False):
        yield str(name), part


def _deprecated_call(figure: str, twin: str) -> None:
    warnings.warn(
        f"plots.{figure}(y, scores) is deprecated and goes in the next release: draw the "
        f"curve's points, plots.{figure}(journey_lib.churn.evaluation.{twin}(y, scores))",
        DeprecationWarning,
        stacklevel=3,
    )


def _evaluation_table(evaluation: Any, name: str) -> Any:
    return getattr(evaluation, name) if isinstance(evaluation, Evaluation) else evaluation


def _confidence(evaluation: Any) -> str:
    return f"{evaluation.confidence:.0%}" if isinstance(evaluation, Evaluation) else "bootstrap"
