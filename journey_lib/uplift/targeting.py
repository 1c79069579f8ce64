"""Whom to contact: an offer's expected profit by uplift beside today's ranking by risk, on
the same customers.

Ranking **by risk** contacts the customers likeliest to churn, each expected to earn
``p * save_rate * v - offer_cost`` (:mod:`journey_lib.churn.targeting`); ranking **by
uplift** contacts those the offer changes most, each expected to earn ``-u * v -
offer_cost``. On a randomised campaign's held-out customers (outcomes ``y`` and arms
``treatment`` that neither ranking saw) both are judged by the same yardstick: the
inverse-probability-weighted estimate of what contacting their chosen customers saved, less
the offers' cost. Risk ranking's own expectation rests on ``save_rate``, one number for
everyone; an offer that pushes some customers away shows only in the campaign.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import pandas as pd
from narwhals.typing import IntoFrame

from .._engine import to_pandas
from ..churn.targeting import Targeting, plan_offers

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["TargetingComparison", "compare_targeting"]


@dataclasses.dataclass(frozen=True)
class TargetingComparison:
    """Two contact plans for the same customers, by risk and by uplift.

    Attributes
    ----------
    plans : dict
        ``"by risk"`` and ``"by uplift"``: each a :class:`~journey_lib.churn.Targeting`.
    table : pandas.DataFrame
        One row per plan: ``contacted``, ``share``, ``expected_profit`` (as its own ranking
        expects) and, with a campaign's outcomes, ``realised_profit`` (the campaign's
        estimate) and ``realised_at_same_size`` (had it contacted as many customers as the
        other plan).
    """

    plans: dict[str, Targeting]
    table: pd.DataFrame

    def summary(self) -> str:
        """The two plans side by side, in a few lines."""
        lines = []
        for name, row in self.table.iterrows():
            line = (
                f"{name}: contact {int(row['contacted']):,} ({row['share']:.1%}), expected "
                f"profit {row['expected_profit']:,.2f}"
            )
            if "realised_profit" in row:
                line += f", realised {row['realised_profit']:,.2f}"
            lines.append(line)
        return "\n".join(lines)

    def plot(self, ax: Axes | None = None) -> Figure:
        """Both plans' realised (else expected) profit by share contacted: see
        :func:`journey_lib.plots.targeting_comparison`."""
        from ..plots import targeting_comparison

        return targeting_comparison(self, ax=ax)


def compare_targeting(
    X: IntoFrame,
    *,
    uplift: Any,
    risk: Any,
    offer_cost: float,
    save_rate: float,
    value: Any = None,
    budget: int | None = None,
    y: Any = None,
    treatment: Any = None,
) -> TargetingComparison:
    """Plan an offer by risk and by uplift on the same customers, and judge both.

    Parameters
    ----------
    X : DataFrame
        The customers (their value column, when ``value`` names one).
    uplift, risk : array-like
        Each row's uplift (change in churn probability if offered) and churn probability.
    offer_cost, save_rate, value, budget
        As :func:`journey_lib.churn.targeting.plan_offers`; ``save_rate`` is the risk
        plan's assumption.
    y, treatment : array-like, optional
        A randomised campaign's outcomes and arms for these customers, to add the realised
        profits.

    Examples
    --------
    Two kinds of customer: ``a`` are likely to churn and an offer pushes them away, ``b``
    less likely and an offer keeps them. Ranking by risk expects more, from everyone:

    >>> import pandas as pd, journey_lib as jl
    >>> X = pd.DataFrame({"kind": ["a"] * 2 + ["b"] * 2})
    >>> both = jl.uplift.compare_targeting(
    ...     X, uplift=[0.1, 0.1, -0.2, -0.2], risk=[0.6, 0.6, 0.3, 0.3],
    ...     offer_cost=5, save_rate=0.3, value=100)
    >>> both.table[["contacted", "expected_profit"]]
               contacted  expected_profit
    by risk            4             34.0
    by uplift          2             30.0
    """
    frame = to_pandas(X)
    common = {"offer_cost": offer_cost, "value": value, "budget": budget, "y": y}
    plans = {
        "by risk": plan_offers(risk, frame, save_rate=save_rate, treatment=treatment, **common),
        "by uplift": plan_offers(risk, frame, uplift=uplift, treatment=treatment, **common),
    }
    rows = {}
    for name, plan in plans.items():
        rows[name] = {
            "contacted": plan.chosen,
            "share": plan.chosen / max(len(frame), 1),
            "expected_profit": plan.expected_profit,
        }
    if y is not None and treatment is not None:
        sizes = {name: plan.chosen for name, plan in plans.items()}
        for name, plan in plans.items():
            other = next(k for k in plans if k != name)
            realised = plan.curve["realised_profit"].to_numpy()
            rows[name]["realised_profit"] = float(realised[plan.chosen])
            rows[name]["realised_at_same_size"] = float(realised[sizes[other]])
    table = pd.DataFrame.from_dict(rows, orient="index")
    return TargetingComparison(plans=plans, table=table.astype({"contacted": "int64"}))
