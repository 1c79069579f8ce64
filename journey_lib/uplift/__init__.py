"""Whom a retention offer changes: randomised campaigns and uplift models.

:func:`campaign_dataset` reads a campaign's customers from a log (features before it, the
arm, churn after it; :mod:`.campaigns`).
:func:`campaign_size` says how many customers a campaign needs to detect an effect, and
:func:`campaign_effect` what a finished one did to churn, with its interval
(:mod:`.experiment`); :func:`fit` learns each customer's uplift with a T-, S- or X-learner
(:mod:`.models`), and :func:`qini_curve`, :func:`uplift_curve` and
:func:`qini_coefficient` say how well it ranks them (:mod:`.curves`).
"""

from .campaigns import CampaignData, campaign_dataset, find_campaigns, treatment_flags
from .curves import qini_coefficient, qini_curve, uplift_curve
from .experiment import campaign_effect, campaign_size
from .models import DEFAULT_TREES, LEARNERS, UpliftModel, fit
from .targeting import TargetingComparison, compare_targeting

__all__ = [
    "DEFAULT_TREES",
    "LEARNERS",
    "CampaignData",
    "TargetingComparison",
    "UpliftModel",
    "campaign_dataset",
    "campaign_effect",
    "campaign_size",
    "compare_targeting",
    "find_campaigns",
    "fit",
    "qini_coefficient",
    "qini_curve",
    "treatment_flags",
    "uplift_curve",
]
