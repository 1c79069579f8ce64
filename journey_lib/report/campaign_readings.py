"""Readings of the campaign notebook: what the offer did, how well each model finds whom it
changes, and what targeting by uplift earns beside targeting by risk. Available from
:mod:`journey_lib.report.readings` too."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .formatting import figure_text

__all__ = ["campaign_reading", "qini_reading", "targeting_reading"]


def _points(change: float) -> str:
    """A change in a rate as signed percentage points: ``-4.2 points``."""
    return f"{change * 100:+.1f} points"


def campaign_reading(effect: pd.DataFrame, *, min_cell: int = 0) -> str:
    """What the offer did to churn, with its interval and whether it is beyond chance, and
    how many customers an offer takes to keep one.

    Examples
    --------
    >>> import pandas as pd, journey_lib as jl
    >>> arms = pd.DataFrame({"treated": [1] * 500 + [0] * 500,
    ...                      "churned": [1] * 100 + [0] * 400 + [1] * 150 + [0] * 350})
    >>> print(campaign_reading(jl.uplift.campaign_effect(arms)))
    ... # doctest: +NORMALIZE_WHITESPACE
    20.0% of the 500 offered customers churned against 30.0% of the 500 held out: the offer
    changed churn by -10.0 points (95% interval -15.3 to -4.6), beyond chance (p = 0.00026).
    It kept one customer for every 10 offers.
    """
    row = effect.iloc[0]
    treated = figure_text(int(row["treated"]), "count", min_cell=min_cell)
    held = figure_text(int(row["holdout"]), "count", min_cell=min_cell)
    chance = (
        f"beyond chance (p = {row['p_value']:.2g})"
        if row["p_value"] < 0.05
        else f"within what chance gives (p = {row['p_value']:.2f})"
    )
    text = (
        f"{figure_text(row['treated_rate'], 'rate')} of the {treated} offered customers "
        f"churned against {figure_text(row['holdout_rate'], 'rate')} of the {held} held out: "
        f"the offer changed churn by {_points(row['effect'])} (95% interval "
        f"{row['low'] * 100:+.1f} to {row['high'] * 100:+.1f}), {chance}."
    )
    if np.isfinite(row["to_treat_per_save"]) and row["p_value"] < 0.05:
        text += f" It kept one customer for every {row['to_treat_per_save']:,.0f} offers."
    elif row["effect"] > 0 and row["p_value"] < 0.05:
        text += " On average it pushed customers away: offering it to everyone loses them."
    return text


def qini_reading(table: pd.DataFrame) -> str:
    """Which model ranks customers best by whom the offer keeps (the Qini coefficient, with
    its interval), against a random ranking and, on simulated data, the truth.

    Examples
    --------
    >>> table = pd.DataFrame({"qini": [0.21, 0.12, 0.35], "low": [0.1, 0.0, 0.3],
    ...                       "high": [0.3, 0.25, 0.4]},
    ...                      index=["T-learner", "S-learner", "the truth"])
    >>> print(qini_reading(table))  # doctest: +NORMALIZE_WHITESPACE
    The T-learner finds whom the offer keeps best: Qini coefficient 0.21 (95% interval 0.10
    to 0.30), where a random ranking scores 0 and the true uplift 0.35. The S-learner scores
    0.12 (0.00 to 0.25).
    """
    models = table.drop(index="the truth", errors="ignore")
    best = models["qini"].idxmax()
    row = models.loc[best]
    text = f"The {best} finds whom the offer keeps best: Qini coefficient {row['qini']:.2f}"
    if np.isfinite(row.get("low", np.nan)):
        text += f" (95% interval {row['low']:.2f} to {row['high']:.2f})"
    text += ", where a random ranking scores 0"
    if "the truth" in table.index:
        text += f" and the true uplift {table.loc['the truth', 'qini']:.2f}"
    text += "."
    others = [
        f"the {name} scores {r['qini']:.2f}"
        + (f" ({r['low']:.2f} to {r['high']:.2f})" if np.isfinite(r.get("low", np.nan)) else "")
        for name, r in models.drop(index=best).iterrows()
    ]
    if others:
        listed = "; ".join(others)
        text += f" {listed[0].upper()}{listed[1:]}."
    if np.isfinite(row.get("low", np.nan)) and row["low"] <= 0:
        text += " Its interval reaches 0: the ranking may be no better than chance."
    return text


def targeting_reading(
    comparison: Any,
    *,
    currency: str | None = None,
    truth: Mapping[str, float] | None = None,
    min_cell: int = 0,
) -> str:
    """The two plans side by side: how many each contacts, and what each earned on the
    campaign's held-out customers (or, without outcomes, expects), with the simulated
    truth when there is one.

    Examples
    --------
    >>> import pandas as pd, journey_lib as jl
    >>> X = pd.DataFrame({"kind": ["a", "a", "b", "b"]})
    >>> both = jl.uplift.compare_targeting(X, uplift=[0.1, 0.1, -0.2, -0.2],
    ...     risk=[0.6, 0.6, 0.3, 0.3], offer_cost=5, save_rate=0.3, value=100)
    >>> print(targeting_reading(both, currency="EUR"))  # doctest: +NORMALIZE_WHITESPACE
    Ranked by risk, the offer goes to 4 customers and is expected to earn €34.00; ranked by
    uplift, to 2 customers, expected to earn €30.00.
    """
    table = comparison.table
    realised = "realised_profit" in table.columns
    column = "realised_profit" if realised else "expected_profit"
    verb = "earned" if realised else "is expected to earn"
    risk, uplift = table.loc["by risk"], table.loc["by uplift"]

    def money(value: float) -> str:
        return figure_text(value, "money", currency=currency)

    def count(value: float) -> str:
        return figure_text(int(value), "count", min_cell=min_cell)

    if realised:
        text = (
            f"On the campaign's held-out customers, ranking by risk would have offered "
            f"{count(risk['contacted'])} customers and {verb} {money(risk[column])}; ranking "
            f"by uplift {count(uplift['contacted'])}, for {money(uplift[column])} (the "
            "campaign's estimate of the churn each plan's offers saved, times its value, "
            "less their cost)."
        )
    else:
        text = (
            f"Ranked by risk, the offer goes to {count(risk['contacted'])} customers and "
            f"{verb} {money(risk[column])}; ranked by uplift, to "
            f"{count(uplift['contacted'])} customers, expected to earn {money(uplift[column])}."
        )
    if truth:
        text += (
            f" On these simulated customers the truth is {money(truth['by risk'])} by risk "
            f"and {money(truth['by uplift'])} by uplift."
        )
    if realised and uplift[column] > risk[column]:
        text += (
            " Target by uplift: the riskiest customers are often those an offer cannot keep "
            "or pushes away."
        )
    return text
