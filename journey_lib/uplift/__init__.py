"""Whom a retention offer changes: randomised campaigns.

:func:`campaign_size` says how many customers a campaign needs to detect an effect, and
:func:`campaign_effect` what a finished one did to churn, with its interval
(:mod:`.experiment`).
"""

from .experiment import campaign_effect, campaign_size

__all__ = ["campaign_effect", "campaign_size"]
