"""Readings of the churn notebook's time-to-churn figures: one or two sentences a manager can
act on under each (the survival curves, the hazard ratios). Available from
:mod:`journey_lib.report.readings` too."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..survival.curves import HALF
from .formatting import figure_text

__all__ = ["comparison_of_models_reading", "hazard_reading", "survival_reading"]


def _time(value: float, unit: str) -> str:
    """``35 days``; a table's own unit is its column's name, put first: ``tenure 35``."""
    number = f"{value:,.0f}" if value >= 10 else f"{value:,.1f}".rstrip("0").rstrip(".")
    if unit in ("hours", "days", "weeks", "months", "years"):
        return f"{number} {unit}"
    return f"{unit} {number}"


def survival_reading(curves: Any, *, unit: str = "days") -> str:
    """How long customers stay: each segment's median lifetime, or the share still there at
    the last time with customers enough to show when more than half are (the shortest- and
    longest-lived segments when there are more than three), and whether the segments'
    curves differ beyond chance (the log-rank test).

    ``curves`` are the page's :class:`journey_lib.survival.SurvivalCurves`, after
    :meth:`~journey_lib.survival.SurvivalCurves.private`, so every figure named rests on
    enough customers; ``unit`` is the durations' (a table's tenure column's name is put
    before the number).

    Examples
    --------
    >>> import pandas as pd, journey_lib as jl
    >>> c = pd.DataFrame({"duration": [2, 3, 3, 5, 8, 9, 12, 20],
    ...                   "churned": [1, 1, 0, 1, 0, 0, 0, 0],
    ...                   "plan": ["a"] * 4 + ["b"] * 4})
    >>> print(survival_reading(jl.survival.kaplan_meier(c, by="plan")))
    ... # doctest: +NORMALIZE_WHITESPACE
    Half of the customers with plan a have left by 3 days; 100.0% of those with plan b are
    still there at 20 days. The segments' curves differ by more than chance would make them
    (log-rank test, p = 0.021).
    """
    if curves.table.empty:
        return "No segment has enough customers to draw."
    found = []
    for keys, rows in curves._blocks():
        name = ", ".join(f"{c} {v}" for c, v in keys.items())
        below = rows["survival"].to_numpy() <= HALF
        if below.any():
            median = float(rows["time"].to_numpy()[below][0])
            who = f"the customers with {name}" if name else "the customers"
            found.append((median, f"half of {who} have left by {_time(median, unit)}"))
        else:
            share, last = rows["survival"].iloc[-1], rows["time"].iloc[-1]
            who = f"of those with {name}" if name else "of the customers"
            found.append(
                (
                    np.inf,
                    f"{figure_text(share, 'rate')} {who} are still there at {_time(last, unit)}",
                )
            )
    found.sort(key=lambda part: part[0])
    chosen = found if len(found) <= 3 else [found[0], found[-1]]
    text = "; ".join(part for _, part in chosen)
    text = text[0].upper() + text[1:] + "."
    if len(found) >= 2:
        test = curves.logrank()
        if np.isfinite(test.p_value):
            p = "p < 0.001" if test.p_value < 0.001 else f"p = {test.p_value:.2g}"
            verdict = (
                "differ by more than chance would make them"
                if test.p_value < 0.05
                else "do not differ by more than chance would"
            )
            text += f" The segments' curves {verdict} (log-rank test, {p})."
    return text


def hazard_reading(
    summary: pd.DataFrame,
    *,
    references: dict[str, Any] | None = None,
    min_cell: int = 0,
    top: int = 3,
) -> str:
    """The features that shorten or lengthen customers' lives most, beyond chance (p below
    0.05), in words: "customers with plan premium leave at 0.41 times the rate of those with
    plan basic".

    ``summary`` is :attr:`journey_lib.survival.CoxModel.summary_` and ``references`` its
    ``references_`` (the level each categorical feature is compared with); rows resting on
    fewer than ``min_cell`` customers are left out.

    Examples
    --------
    >>> summary = pd.DataFrame({"customers": [120, 400], "hazard_ratio": [0.41, 1.3],
    ...                         "low": [0.24, 0.9], "high": [0.7, 1.9], "p": [0.001, 0.2]},
    ...                        index=pd.Index(["plan=premium", "age"], name="feature"))
    >>> print(hazard_reading(summary, references={"plan": "basic"}))
    ... # doctest: +NORMALIZE_WHITESPACE
    Customers with plan premium leave at 0.41 times the rate of those with plan basic (95%
    interval 0.24 to 0.70). The other differences could be chance.
    """
    references = references or {}
    shown = summary[summary["customers"] >= min_cell] if min_cell else summary
    strong = shown[shown["p"] < 0.05]
    if strong.empty:
        return "No feature changes how long customers stay by more than chance would."
    strong = strong.assign(_effect=np.abs(np.log(strong["hazard_ratio"])))
    strong = strong.sort_values("_effect", ascending=False)
    sentences = []
    for feature, row in strong.head(top).iterrows():
        interval = f"(95% interval {row['low']:.2f} to {row['high']:.2f})"
        if "=" in str(feature):
            column, level = str(feature).split("=", 1)
            than = (
                f"those with {column} {references[column]}"
                if column in references
                else "the reference customers"
            )
            sentences.append(
                f"Customers with {column} {level} leave at {row['hazard_ratio']:.2f} times the "
                f"rate of {than} {interval}."
            )
        else:
            sentences.append(
                f"Each unit more of {feature} multiplies the rate of leaving by "
                f"{row['hazard_ratio']:.2f} {interval}."
            )
    if len(strong) > top:
        sentences.append(f"{len(strong) - top} more differ beyond chance, by less.")
    if len(strong) < len(shown):
        sentences.append("The other differences could be chance.")
    return " ".join(sentences)


def comparison_of_models_reading(table: pd.DataFrame, *, horizon: str) -> str:
    """Which of the churn model and the survival model tells better who leaves within the
    horizon on the same held-out customers: the time-dependent AUC (ranking) and the
    Brier score (the probabilities' error; lower is better).

    Examples
    --------
    >>> table = pd.DataFrame({"model": ["churn model", "Cox model"], "concordance": [0.8, 0.7],
    ...                       "auc": [0.82, 0.78], "brier": [0.11, 0.12],
    ...                       "integrated_brier": [np.nan, 0.1]})
    >>> print(comparison_of_models_reading(table, horizon="90D"))
    ... # doctest: +NORMALIZE_WHITESPACE
    On the same held-out customers, the churn model ranks who leaves within 90 days better
    (AUC 0.82 against 0.78 for the Cox model) and its probabilities are closer to what
    happened (Brier score 0.110 against 0.120; lower is better).
    """
    rows = table.set_index("model")
    days = f"{pd.Timedelta(horizon) / pd.Timedelta(days=1):,.0f} days"
    ranks = rows["auc"].idxmax()
    other = next(m for m in rows.index if m != ranks)
    closer = rows["brier"].idxmin()
    text = (
        f"On the same held-out customers, the {ranks} ranks who leaves within {days} better "
        f"(AUC {rows.loc[ranks, 'auc']:.2f} against {rows.loc[other, 'auc']:.2f} for the "
        f"{other})"
    )
    brier = (
        f"(Brier score {rows.loc[closer, 'brier']:.3f} against "
        f"{rows.loc[rows.index != closer, 'brier'].iloc[0]:.3f}; lower is better)"
    )
    if closer == ranks:
        return f"{text} and its probabilities are closer to what happened {brier}."
    return f"{text}; the {closer}'s probabilities are closer to what happened {brier}."
