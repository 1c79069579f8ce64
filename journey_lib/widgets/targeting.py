"""Churn targeting what-if: offer cost, save rate and budget; the profit curve updates. With
an uplift model, customers are ranked by what the offer changes for each of them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd
from narwhals.typing import IntoFrame

from .. import plots
from ..churn.targeting import Targeting, plan_offers
from .base import JourneyWidget

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..churn.dataset import ChurnFeatures
    from ..churn.model import ChurnModel
    from ..uplift.models import UpliftModel

__all__ = ["TargetingWhatIf"]


class TargetingWhatIf(JourneyWidget):
    """What if an offer cost more, saved fewer, or the budget were smaller?

    :meth:`ChurnModel.target` as a widget. The model scores ``X`` once, when the widget is
    made (scoring is the slow part); each change re-runs only the ranking and the profit
    curve on those cached probabilities.

    Given an :class:`~journey_lib.uplift.UpliftModel` instead, or ``uplift=`` beside a churn
    model, the ranking is by ``-uplift * value - offer_cost``
    (:func:`~journey_lib.churn.targeting.plan_offers`): each customer's own change in churn
    if offered replaces the one save rate, whose slider is then disabled.

    Controls (``.controls[name].value``): ``offer_cost`` (>= 0), ``save_rate`` (in (0, 1])
    and ``budget`` (most customers to contact; 0 = as many as pay, as notebook
    ``04_churn_model`` reads it). ``.data`` is the profit curve, ``Targeting.curve``, drawn
    with :func:`journey_lib.plots.profit_curve`; ``.result`` is the whole
    :class:`~journey_lib.churn.Targeting` (``.contacts``, ``.threshold``,
    ``.expected_profit``), None when the settings are invalid.

    Parameters
    ----------
    model : ChurnModel or UpliftModel
        A trained model.
    X : DataFrame
        The customers to rank, as the model takes them.
    y : array-like, optional
        Their outcomes, for the realised profit curve.
    uplift : array-like, optional
        Each row's uplift, to rank by it with a churn model's probabilities beside.
    treatment : array-like, optional
        The arms of a randomised campaign these customers were in: the realised profit is
        then the campaign's estimate (needed with ``y`` for an uplift ranking).
    value : float, str or Series, optional
        The value of keeping each customer (see :meth:`ChurnModel.target`).
    offer_cost, save_rate, budget
        The first settings.

    Examples
    --------
    >>> whatif = TargetingWhatIf(model, X_test, y=y_test)  # doctest: +SKIP
    >>> whatif.controls["offer_cost"].value = 10  # doctest: +SKIP
    >>> whatif.result.chosen, whatif.result.expected_profit  # doctest: +SKIP
    """

    notebook = "04_churn_model.ipynb"
    report_names = ("offer_cost", "save_rate", "budget")

    def __init__(
        self,
        model: ChurnModel | UpliftModel,
        X: IntoFrame | ChurnFeatures,
        *,
        y: Any = None,
        value: Any = None,
        offer_cost: float = 5.0,
        save_rate: float = 0.3,
        budget: int = 0,
        uplift: Any = None,
        treatment: Any = None,
    ) -> None:
        import ipywidgets as w

        self.X, self.y, self.value, self.treatment = X, y, value, treatment
        if hasattr(model, "predict_uplift"):
            self.uplift = model.predict_uplift(X) if uplift is None else uplift
            self.probabilities = model.predict_outcome(X)
        else:
            self.uplift = uplift
            self.probabilities = model.predict_proba(X)
        self.result: Targeting | None = None
        controls = {
            "offer_cost": w.BoundedFloatText(
                value=offer_cost, min=0, max=1e9, step=0.5, description="offer cost"
            ),
            "save_rate": w.FloatSlider(
                value=save_rate,
                min=0.01,
                max=1,
                step=0.01,
                description="save rate",
                continuous_update=False,
                disabled=self.uplift is not None,
            ),
            "budget": w.BoundedIntText(value=budget, min=0, max=10**9, description="budget"),
        }
        super().__init__(controls)

    def compute(self, params: dict[str, Any]) -> pd.DataFrame:
        self.result = None
        by_uplift = self.uplift is not None
        self.result = plan_offers(
            self.probabilities,
            self.X,
            offer_cost=float(params["offer_cost"]),
            save_rate=None if by_uplift else float(params["save_rate"]),
            value=self.value,
            budget=int(params["budget"]) or None,
            y=self.y,
            uplift=self.uplift,
            treatment=self.treatment,
        )
        return self.result.curve

    def draw(self, data: pd.DataFrame, params: dict[str, Any]) -> Figure:
        assert self.result is not None
        return plots.profit_curve(self.result)

    def caption(self, data: pd.DataFrame, params: dict[str, Any]) -> str:
        if self.result is None:
            return ""
        if not self.result.chosen:
            return f"{self.result.summary()}\n  threshold: none, nobody is worth contacting"
        if self.uplift is not None:
            chosen = self.result.contacts["uplift"].iloc[: self.result.chosen]
            return (
                f"{self.result.summary()}\n  the customers contacted: the offer is expected "
                f"to lower their churn by {-chosen.max():.1%} to {-chosen.min():.1%}"
            )
        return (
            f"{self.result.summary()}\n  threshold: contact customers with a churn "
            f"probability of {self.result.threshold:.1%} or more"
        )
