"""Retention targeting: whom to contact, given what an offer costs and what it saves.

Definitions (``p`` a customer's churn probability, ``v`` the value of keeping them)
----------------------------------------------------------------------------------
* An offer costs ``offer_cost`` per contacted customer, and keeps a share ``save_rate`` of
  the contacted customers who would otherwise have churned (those who would have stayed
  are unaffected). The **expected value** of contacting a customer is therefore
  ``p * save_rate * v - offer_cost``, and contacting pays above the **break-even**
  probability ``offer_cost / (save_rate * v)``.
* Customers are ranked by expected value. The **profit curve** is the expected profit of
  contacting the top ``k``, for every ``k``; with outcomes ``y`` it also gives the
  **realised** profit, ``sum(y * save_rate * v - offer_cost)`` over the top ``k``: what the
  campaign would have earned had the model's ranking been used.
* **By cost**, every customer with a positive expected value is contacted, the peak of the
  expected profit curve. **By budget**, at most ``budget`` customers are contacted: the
  top ones, and never one whose contact is expected to lose money.

With an **uplift** ``u`` (:mod:`journey_lib.uplift`: the change an offer makes to the
customer's churn probability, negative when it keeps them) in place of ``p * save_rate``
-----------------------------------------------------------------------------------------
* The expected value of contacting is ``-u * v - offer_cost``: an offer that pushes a
  customer away (``u > 0``) loses their value on top of its cost, whatever their risk.
* With the outcomes ``y`` and the arms ``treatment`` of a randomised campaign, the
  **realised** profit of contacting the top ``k`` is estimated by inverse-probability
  weighting, ``sum(v * y * ((1 - t) / (1 - e) - t / e)) - k * offer_cost`` over them
  (``e`` the share offered): unbiased for what contacting them would have saved, whether
  they were ranked by uplift or by risk. Without arms it is ``save_rate``'s assumption, as
  above, which only a risk ranking has.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from narwhals.typing import IntoFrame

from ..errors import JourneyDataError, JourneyParameterError
from ._inputs import binary_labels, feature_frame

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .dataset import ChurnFeatures
    from .model import ChurnModel

__all__ = ["Targeting", "plan_offers"]

#: The column of :func:`build_dataset` used as value when none is given.
DEFAULT_VALUE = "value_total"


@dataclasses.dataclass(frozen=True)
class Targeting:
    """A ranked contact list and the profit curve behind it.

    Attributes
    ----------
    contacts : pandas.DataFrame
        Every customer, best contact first, indexed as ``X``: ``churn_probability``,
        ``value``, ``break_even`` (the probability above which contacting pays; with an
        uplift, the uplift below which it pays), ``expected_value`` of contacting,
        ``expected_profit`` (cumulative down the list) and ``contact`` (True for the chosen
        ones); with an uplift also ``uplift``.
    curve : pandas.DataFrame
        ``contacted`` (0 to all), ``share`` of the customers, ``cost`` of the offers,
        ``expected_saved`` customers, ``expected_profit`` and, when outcomes were given,
        ``realised_profit``.
    chosen : int
        Customers to contact.
    rule : str
        ``"cost"`` or ``"budget"``.
    offer_cost : float
    save_rate : float or None
        None when the plan ranks by uplift.
    budget : int or None
    """

    contacts: pd.DataFrame
    curve: pd.DataFrame
    chosen: int
    rule: str
    offer_cost: float
    save_rate: float | None
    budget: int | None

    @property
    def expected_profit(self) -> float:
        """Expected profit of contacting the chosen customers."""
        return float(self.curve["expected_profit"].iloc[self.chosen])

    @property
    def threshold(self) -> float:
        """The lowest churn probability among the chosen customers (NaN when none is, and
        for a plan ranked by uplift alone: its choice follows no probability)."""
        chosen = self.contacts["churn_probability"].iloc[: self.chosen]
        return float(chosen.min()) if self.chosen else float("nan")

    def summary(self) -> str:
        """The decision in a few lines, for logs and reports."""
        total = len(self.contacts)
        share = self.chosen / total if total else 0.0
        why = (
            "every customer whose expected saved value exceeds the offer cost"
            if self.rule == "cost"
            else f"the best of a budget of {self.budget:,} contacts"
        )
        offer = (
            "uplift by customer" if self.save_rate is None else f"save rate {self.save_rate:.0%}"
        )
        lines = [
            f"contact {self.chosen:,} of {total:,} customers ({share:.1%}): {why}",
            f"  offer cost {self.offer_cost:,.2f}, {offer}; expected "
            f"profit {self.expected_profit:,.2f}, expected customers kept "
            f"{self.curve['expected_saved'].iloc[self.chosen]:,.1f}",
        ]
        if self.rule == "budget" and self.budget is not None and self.chosen < self.budget:
            lines.append(
                f"  {self.budget - self.chosen:,} contacts of the budget are left unused: each "
                f"would be expected to cost more than it saves"
            )
        if "realised_profit" in self.curve:
            lines.append(
                f"  realised profit on the outcomes given: "
                f"{self.curve['realised_profit'].iloc[self.chosen]:,.2f}"
            )
        return "\n".join(lines)

    def plot(self, ax: Axes | None = None) -> Figure:
        """The profit curve(s) against the share contacted, the choice marked: see
        :func:`journey_lib.plots.profit_curve`, which draws it."""
        # plots imports churn, so churn reaches plots only when a figure is drawn.
        from ..plots import profit_curve

        return profit_curve(self, ax=ax)


def target(
    model: ChurnModel,
    X: IntoFrame | ChurnFeatures,
    *,
    offer_cost: float,
    save_rate: float,
    value: Any = None,
    budget: int | None = None,
    y: Any = None,
) -> Targeting:
    """See :meth:`ChurnModel.target`."""
    _check_offer(offer_cost, save_rate, budget)
    frame = feature_frame(X)
    return _plan(
        model.predict_proba(frame).to_numpy(), frame, offer_cost, save_rate, value, budget, y
    )


def plan_offers(
    probability: Any,
    X: IntoFrame | ChurnFeatures,
    *,
    offer_cost: float,
    save_rate: float | None = None,
    value: Any = None,
    budget: int | None = None,
    y: Any = None,
    uplift: Any = None,
    treatment: Any = None,
) -> Targeting:
    """:meth:`ChurnModel.target` for churn probabilities already computed, or for uplifts.

    For re-planning with other costs, save rates or budgets without scoring again (the
    targeting widget does): ``probability`` holds each row of ``X``'s churn probability, in
    ``X``'s order (None when ranking by uplift alone); everything else is as in
    :meth:`ChurnModel.target`.

    With ``uplift`` (each row's change in churn probability if offered, from
    :meth:`journey_lib.uplift.UpliftModel.predict_uplift`), customers are ranked by
    ``-uplift * value - offer_cost`` instead and ``save_rate`` is not used. With ``y`` and
    ``treatment`` of a randomised campaign, the realised profit is the campaign's
    inverse-probability-weighted estimate, for either ranking (definitions in
    :mod:`journey_lib.churn.targeting`).

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"value_total": [100.0, 10.0]}, index=["a", "b"])
    >>> plan = plan_offers([0.5, 0.9], X, offer_cost=5, save_rate=0.3)
    >>> plan.contacts[["churn_probability", "expected_value", "contact"]]
       churn_probability  expected_value  contact
    a                0.5            10.0     True
    b                0.9            -2.3    False

    An offer that keeps ``a`` (uplift -0.2) and pushes ``b`` away (+0.1):

    >>> plan = plan_offers(None, X, offer_cost=5, uplift=[-0.2, 0.1])
    >>> plan.contacts[["uplift", "expected_value", "contact"]]
       uplift  expected_value  contact
    a    -0.2            15.0     True
    b     0.1            -6.0    False
    """
    frame = feature_frame(X)
    if uplift is not None:
        if save_rate is not None:
            raise JourneyParameterError(
                "give save_rate or uplift, not both: an uplift is each customer's own save "
                "rate times their churn probability"
            )
        _check_offer(offer_cost, 1.0, budget)
        change = _per_row(uplift, frame, "uplifts")
        if not np.isfinite(change).all() or (np.abs(change) > 1).any():
            raise JourneyDataError("every uplift must be a change in probability, -1 to 1")
        scores = (
            np.full(len(frame), np.nan)
            if probability is None
            else _per_row(probability, frame, "probabilities")
        )
        return _plan(scores, frame, offer_cost, None, value, budget, y, change, treatment)
    if save_rate is None:
        raise JourneyParameterError(
            "give save_rate (the share of would-be churners an offer keeps) or uplift"
        )
    _check_offer(offer_cost, save_rate, budget)
    scores = _per_row(probability, frame, "probabilities")
    return _plan(scores, frame, offer_cost, save_rate, value, budget, y, None, treatment)


def _aligned(values: Any, frame: pd.DataFrame, what: str) -> Any:
    """A Series of ``values`` in ``frame``'s row order, by its index (the customers); any
    other sequence as it is, in that order already."""
    if not isinstance(values, pd.Series) or values.index.equals(frame.index):
        return values
    missing = frame.index.difference(values.index)
    if len(missing) or len(values) != len(frame) or not values.index.is_unique:
        example = missing[0] if len(missing) else values.index[values.index.duplicated()][:1]
        raise JourneyDataError(
            f"{what} is indexed by other customers than X ({len(missing):,} of X's missing, "
            f"e.g. {example!r}); give one value per row of X, by its index or in its order"
        )
    return values.reindex(frame.index)


def _per_row(values: Any, frame: pd.DataFrame, what: str) -> np.ndarray:
    array = np.asarray(_aligned(values, frame, what), dtype=float)
    if array.shape != (len(frame),):
        raise JourneyDataError(f"X has {len(frame)} rows but {array.size} {what}")
    return array


def _check_offer(offer_cost: float, save_rate: float, budget: int | None) -> None:
    if not np.isfinite(offer_cost) or offer_cost < 0:
        raise JourneyParameterError(f"offer_cost must be a non-negative number; got {offer_cost}")
    if not 0 < save_rate <= 1:
        raise JourneyParameterError(
            f"save_rate is the share of would-be churners an offer keeps, in (0, 1]; got "
            f"{save_rate}"
        )
    if budget is not None and (isinstance(budget, bool) or int(budget) != budget or budget < 0):
        raise JourneyParameterError(
            f"budget is the most customers to contact, a whole number >= 0; got {budget!r}"
        )


def _plan(
    probability: np.ndarray,
    frame: pd.DataFrame,
    offer_cost: float,
    save_rate: float | None,
    value: Any,
    budget: int | None,
    y: Any,
    uplift: np.ndarray | None = None,
    treatment: Any = None,
) -> Targeting:
    """The ranking, contact list and profit curves of checked settings."""
    worth = _values(value, frame)
    # What contacting each customer is expected to save, in customers kept.
    kept = -uplift if uplift is not None else probability * save_rate
    expected = kept * worth - offer_cost
    with np.errstate(over="ignore", divide="ignore"):
        if uplift is not None:
            break_even = np.divide(
                -offer_cost, worth, out=np.full_like(worth, -np.inf), where=worth > 0
            )
        else:
            break_even = np.divide(
                offer_cost / save_rate, worth, out=np.full_like(worth, np.inf), where=worth > 0
            )
    # Best contact first; equal expected values go to the likelier churner.
    order = np.lexsort((-np.nan_to_num(probability, nan=0.0), -expected))
    ranked_value = expected[order]
    paying = int((ranked_value > 0).sum())
    chosen = paying if budget is None else min(paying, int(budget))
    contacts = pd.DataFrame(
        {
            "churn_probability": probability[order],
            "value": worth[order],
            "break_even": break_even[order],
            "expected_value": ranked_value,
            "expected_profit": np.cumsum(ranked_value),
            "contact": np.arange(len(order)) < chosen,
        },
        index=frame.index[order],
    )
    if uplift is not None:
        contacts.insert(1, "uplift", uplift[order])
    contacted = np.arange(len(order) + 1)
    curve = pd.DataFrame(
        {
            "contacted": contacted,
            "share": contacted / max(len(order), 1),
            "cost": contacted * float(offer_cost),
            "expected_saved": _cumulative(kept[order]),
            "expected_profit": _cumulative(ranked_value),
        }
    )
    if y is not None:
        outcome = binary_labels(_aligned(y, frame, "y")).to_numpy()
        if len(outcome) != len(frame):
            raise JourneyDataError(f"X has {len(frame)} rows but y has {len(outcome)}")
        if treatment is not None:
            saved = _weighted_saves(outcome, _aligned(treatment, frame, "treatment"), len(frame))
        elif save_rate is None:
            raise JourneyParameterError(
                "the realised profit of an uplift ranking needs the campaign's arms: give "
                "treatment= beside y"
            )
        else:
            saved = outcome * save_rate
        curve["realised_profit"] = _cumulative(saved[order] * worth[order] - offer_cost)
    return Targeting(
        contacts=contacts,
        curve=curve,
        chosen=chosen,
        rule="cost" if budget is None else "budget",
        offer_cost=float(offer_cost),
        save_rate=None if save_rate is None else float(save_rate),
        budget=None if budget is None else int(budget),
    )


def _weighted_saves(outcome: np.ndarray, treatment: Any, n: int) -> np.ndarray:
    """Each customer's inverse-probability-weighted churn saved by an offer: held-out
    churners count ``1 / (1 - e)``, offered churners ``-1 / e``; summed over any set of
    customers ranked without looking at the arms, unbiased for the churn the offer saves."""
    arm = np.asarray(treatment)
    if arm.shape != (n,) or not np.isin(arm, [0, 1]).all():
        raise JourneyDataError(f"treatment must be 0 or 1 for each of the {n} rows")
    arm = arm.astype(float)
    e = arm.mean()
    if e in (0.0, 1.0):
        raise JourneyDataError("treatment needs both offered and held-out customers")
    return outcome * ((1 - arm) / (1 - e) - arm / e)


def _values(value: Any, frame: pd.DataFrame) -> np.ndarray:
    """The value of keeping each customer: a constant, a column of ``X`` or values aligned
    with ``X``'s index; ``value_total`` (past spend) when None."""
    if value is None:
        if DEFAULT_VALUE not in frame.columns:
            raise JourneyParameterError(
                f"give the value of keeping each customer: a constant (value=100), a column of "
                f"X, or a Series indexed by customer (a CLV); X has no {DEFAULT_VALUE!r} "
                f"column (past spend, from build_dataset) to fall back on"
            )
        value = DEFAULT_VALUE
    if isinstance(value, str):
        if value not in frame.columns:
            raise JourneyParameterError(f"value names column {value!r}, which X does not have")
        series = pd.to_numeric(frame[value], errors="coerce")
        what = f"column {value!r}"
    elif isinstance(value, pd.Series):
        series = pd.to_numeric(value.reindex(frame.index), errors="coerce")
        what = "value"
    elif np.ndim(value) == 0:
        series = pd.Series(float(value), index=frame.index)
        what = "value"
    else:
        array = np.asarray(value, dtype="float64")
        if len(array) != len(frame):
            raise JourneyDataError(f"X has {len(frame)} rows but value has {len(array)}")
        series = pd.Series(array, index=frame.index)
        what = "value"
    bad = series.isna() | ~np.isfinite(series.astype("float64")) | (series < 0)
    if bad.any():
        raise JourneyDataError(
            f"{what} is missing, infinite or negative for {int(bad.sum())} customer(s), e.g. "
            f"{series.index[bad][0]!r}; the value of keeping a customer must be a number >= 0"
        )
    return series.to_numpy(dtype="float64")


def _cumulative(values: np.ndarray) -> np.ndarray:
    """Running totals with a leading zero: the total over the first ``k``, for k = 0..n."""
    return np.concatenate([[0.0], np.cumsum(values)])
