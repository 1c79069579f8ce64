"""Time to churn: when customers leave, not only whether.

:func:`customer_lifetimes` turns a log into one lifetime per customer (:mod:`.lifetimes`);
:func:`kaplan_meier` gives survival curves and cumulative hazards by segment, with medians,
restricted means, conditional survival and the log-rank test (:mod:`.curves`);
:class:`CoxModel` gives hazard ratios, survival and expected remaining lifetime per customer
(:mod:`.cox`); :func:`compare_predictions`, :func:`time_dependent_auc` and the Brier scores
judge them on censored holdouts (:mod:`.evaluation`); :func:`simulate_lifetimes` makes
lifetimes with a known hazard (:mod:`.simulate`).
"""

from .cox import CoxModel, concordance
from .curves import CURVE_COLUMNS, LogRank, SurvivalCurves, kaplan_meier, logrank_test
from .evaluation import (
    brier_score,
    compare_predictions,
    integrated_brier_score,
    time_dependent_auc,
)
from .lifetimes import LIFETIME_COLUMNS, customer_lifetimes
from .simulate import simulate_lifetimes

__all__ = [
    "CURVE_COLUMNS",
    "LIFETIME_COLUMNS",
    "CoxModel",
    "LogRank",
    "SurvivalCurves",
    "brier_score",
    "compare_predictions",
    "concordance",
    "customer_lifetimes",
    "integrated_brier_score",
    "kaplan_meier",
    "logrank_test",
    "simulate_lifetimes",
    "time_dependent_auc",
]
