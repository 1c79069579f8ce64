"""One line of reading under each figure of a churn model, written from the numbers it
draws: the evaluation (ROC, precision-recall, calibration, gains, lift), the explanations
(importance, partial dependence) and the retention offers' profit.

:mod:`journey_lib.report.readings` carries these too, beside the readings of the other
figures.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .formatting import figure_text

__all__ = [
    "calibration_reading",
    "gains_reading",
    "importance_reading",
    "lift_reading",
    "partial_dependence_reading",
    "pr_reading",
    "profit_reading",
    "roc_reading",
]


def roc_reading(evaluation: Any) -> str:
    """The main scorer's ROC AUC with its interval, against the other scorers', from an
    :class:`~journey_lib.churn.Evaluation` (or its ``metrics``).

    Examples
    --------
    >>> metrics = pd.DataFrame({
    ...     "scorer": ["hgb", "logistic baseline", "base rate"], "metric": ["roc_auc"] * 3,
    ...     "value": [0.812, 0.741, 0.5], "low": [0.78, 0.70, 0.5], "high": [0.843, 0.78, 0.5]})
    >>> print(roc_reading(metrics))  # doctest: +NORMALIZE_WHITESPACE
    ROC AUC 0.81 (95% interval 0.78 to 0.84), against 0.74 for the logistic baseline and
    0.50 for the base rate.
    """
    return _metric_reading(evaluation, "roc_auc", "ROC AUC")


def pr_reading(evaluation: Any) -> str:
    """The main scorer's average precision with its interval, against the other
    scorers' (the base rate's is the share of churners), from an Evaluation.

    Examples
    --------
    >>> metrics = pd.DataFrame({
    ...     "scorer": ["hgb", "base rate"], "metric": ["pr_auc"] * 2,
    ...     "value": [0.62, 0.33], "low": [0.55, 0.33], "high": [0.7, 0.33]})
    >>> pr_reading(metrics)
    'Average precision 0.62 (95% interval 0.55 to 0.70), against 0.33 for the base rate.'
    """
    return _metric_reading(evaluation, "pr_auc", "Average precision")


def calibration_reading(evaluation: Any) -> str:
    """How far predicted churn lies from observed churn: the expected calibration error
    and the score bin with the widest gap, from an Evaluation.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> evaluation = SimpleNamespace(
    ...     metrics=pd.DataFrame({"scorer": ["hgb", "base rate"], "metric": ["ece"] * 2,
    ...                           "value": [0.042, 0.01], "low": [0.03, 0.0],
    ...                           "high": [0.06, 0.02]}),
    ...     calibration=pd.DataFrame({"bin": [1, 2], "customers": [50, 50],
    ...                               "mean_score": [0.1, 0.6], "churn_rate": [0.12, 0.5]}))
    >>> print(calibration_reading(evaluation))  # doctest: +NORMALIZE_WHITESPACE
    Predicted and observed churn differ by 4.2 points on average (expected calibration
    error); the widest gap is where the model predicts 60.0% and 50.0% churned.
    """
    metrics = _metrics(evaluation)
    main = metrics[metrics["scorer"] == metrics["scorer"].iloc[0]]
    ece = main.set_index("metric").loc["ece"]
    table = evaluation.calibration
    gap = (table["mean_score"] - table["churn_rate"]).abs()
    worst = table.loc[gap.idxmax()]
    return (
        f"Predicted and observed churn differ by {ece['value'] * 100:.1f} points on average "
        f"(expected calibration error); the widest gap is where the model predicts "
        f"{figure_text(worst['mean_score'], 'rate')} and "
        f"{figure_text(worst['churn_rate'], 'rate')} churned."
    )


def gains_reading(evaluation: Any) -> str:
    """The churners reached by contacting the top fifth and the top half of customers by
    score, from an Evaluation's ``gains`` (or the table itself).

    Examples
    --------
    >>> gains = pd.DataFrame({"decile": range(10, 0, -1),
    ...                       "capture": [0.3, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98, 1.0],
    ...                       "capture_low": [0.25, 0.45] + [0.0] * 8,
    ...                       "capture_high": [0.35, 0.55] + [1.0] * 8})
    >>> print(gains_reading(gains))  # doctest: +NORMALIZE_WHITESPACE
    Contacting the top 20% of customers by score reaches 50.0% of the churners (95%
    interval 45.0% to 55.0%); the top half, 80.0%.
    """
    table = getattr(evaluation, "gains", evaluation).reset_index(drop=True)
    fifth, half = table.iloc[len(table) // 5 - 1], table.iloc[len(table) // 2 - 1]
    return (
        f"Contacting the top 20% of customers by score reaches "
        f"{figure_text(fifth['capture'], 'rate')} of the churners "
        f"({_confidence(evaluation)} interval {figure_text(fifth['capture_low'], 'rate')} to "
        f"{figure_text(fifth['capture_high'], 'rate')}); the top half, "
        f"{figure_text(half['capture'], 'rate')}."
    )


def lift_reading(evaluation: Any) -> str:
    """How many times the overall churn rate the top tenth by score churns at, from an
    Evaluation's ``gains`` (or the table itself).

    Examples
    --------
    >>> gains = pd.DataFrame({"decile": [10, 9], "lift": [2.46, 1.9],
    ...                       "lift_low": [2.0, 1.5], "lift_high": [2.9, 2.2]})
    >>> lift_reading(gains)
    'The top 10% by score churn at 2.5 times the overall rate (95% interval 2.0 to 2.9).'
    """
    table = getattr(evaluation, "gains", evaluation).reset_index(drop=True)
    top = table.iloc[0]
    share = 1 / table["decile"].max()
    return (
        f"The top {share:.0%} by score churn at {top['lift']:.1f} times the overall rate "
        f"({_confidence(evaluation)} interval {top['lift_low']:.1f} to {top['lift_high']:.1f})."
    )


def importance_reading(importance: Any) -> str:
    """The feature group the model needs most, and how many it needs at all (an interval
    above zero), from :meth:`journey_lib.churn.ChurnModel.importance`.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> importance = SimpleNamespace(
    ...     table=pd.DataFrame({"feature": ["recency", "tickets", "region"],
    ...                         "importance": [0.0961, 0.012, 0.0],
    ...                         "low": [0.08, 0.004, -0.002], "high": [0.11, 0.02, 0.003]}),
    ...     loss_word="drop in ROC AUC", confidence=0.95)
    >>> print(importance_reading(importance))  # doctest: +NORMALIZE_WHITESPACE
    The model leans most on recency: shuffling it costs 0.0961 (drop in ROC AUC; 95%
    interval 0.08 to 0.11); 2 of 3 feature groups have an interval above zero.
    """
    table = importance.table
    if table.empty:
        return "No feature group to rank."
    top = table.iloc[0]
    needed = int((table["low"] > 0).sum())
    return (
        f"The model leans most on {top['feature']}: shuffling it costs "
        f"{top['importance']:.3g} ({importance.loss_word}; {importance.confidence:.0%} "
        f"interval {top['low']:.3g} to {top['high']:.3g}); {needed} of "
        f"{_plural(len(table), 'feature group')} have an interval above zero."
    )


def partial_dependence_reading(result: Any) -> str:
    """The feature whose values move the mean churn probability most, and from where to
    where, from :meth:`journey_lib.churn.ChurnModel.partial_dependence`.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> result = SimpleNamespace(table=pd.DataFrame({
    ...     "feature": ["recency"] * 3 + ["tickets"] * 2,
    ...     "value": [0, 30, 90, 0, 5], "churn_probability": [0.1, 0.3, 0.8, 0.2, 0.3]}))
    >>> print(partial_dependence_reading(result))  # doctest: +NORMALIZE_WHITESPACE
    The mean churn probability moves most with recency: from 10.0% at 0 to 80.0% at 90.
    """
    table = result.table
    if table.empty:
        return "No feature to show."
    by = table.groupby("feature", sort=False)["churn_probability"]
    feature = (by.max() - by.min()).idxmax()
    part = table[table["feature"] == feature].reset_index(drop=True)
    low = part.loc[part["churn_probability"].idxmin()]
    high = part.loc[part["churn_probability"].idxmax()]
    first, last = (low, high) if low.name <= high.name else (high, low)
    return (
        f"The mean churn probability moves most with {feature}: from "
        f"{figure_text(first['churn_probability'], 'rate')} at {_value(first['value'])} to "
        f"{figure_text(last['churn_probability'], 'rate')} at {_value(last['value'])}."
    )


def profit_reading(targeting: Any, *, currency: str | None = None) -> str:
    """The offers chosen and the profit expected of them (and realised, when outcomes
    are known), from :meth:`journey_lib.churn.ChurnModel.target` (a Targeting).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> curve = pd.DataFrame({"contacted": [0, 1, 2], "share": [0.0, 0.5, 1.0],
    ...                       "expected_profit": [0.0, 10.0, 7.7],
    ...                       "realised_profit": [0.0, 25.0, 20.0]})
    >>> plan = SimpleNamespace(curve=curve, chosen=1)
    >>> print(profit_reading(plan, currency="EUR"))  # doctest: +NORMALIZE_WHITESPACE
    Offers to the best 1 customer (50.0%) are expected to make €10.00; on the known
    outcomes they made €25.00.
    """
    if targeting is None:
        return "No offer plan to show."
    curve = targeting.curve
    if not targeting.chosen:
        return "No offer is expected to pay: nobody is worth contacting at this cost."
    row = curve.iloc[targeting.chosen]
    sentence = (
        f"Offers to the best {_plural(targeting.chosen, 'customer')} "
        f"({figure_text(row['share'], 'rate')}) are expected to make "
        f"{figure_text(row['expected_profit'], 'money', currency=currency)}"
    )
    if "realised_profit" not in curve.columns:
        return sentence + "."
    realised = figure_text(row["realised_profit"], "money", currency=currency)
    return f"{sentence}; on the known outcomes they made {realised}."


def _metrics(evaluation: Any) -> pd.DataFrame:
    return getattr(evaluation, "metrics", evaluation)


def _confidence(evaluation: Any) -> str:
    return f"{getattr(evaluation, 'confidence', 0.95):.0%}"


def _metric_reading(evaluation: Any, metric: str, name: str) -> str:
    rows = _metrics(evaluation)
    rows = rows[rows["metric"] == metric].reset_index(drop=True)
    if rows.empty or pd.isna(rows["value"].iloc[0]):
        return f"{name} could not be computed on these customers."
    main = rows.iloc[0]
    sentence = (
        f"{name} {main['value']:.2f} ({_confidence(evaluation)} interval {main['low']:.2f} "
        f"to {main['high']:.2f})"
    )
    others = [f"{row['value']:.2f} for the {row['scorer']}" for _, row in rows.iloc[1:].iterrows()]
    if not others:
        return sentence + "."
    listed = others[0] if len(others) == 1 else ", ".join(others[:-1]) + " and " + others[-1]
    return f"{sentence}, against {listed}."


def _value(value: Any) -> str:
    if isinstance(value, int | float | np.number) and not isinstance(value, bool):
        return f"{float(value):,.3g}" if abs(float(value)) < 1000 else f"{float(value):,.0f}"
    return str(value)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'s' * (int(n) != 1)}"
