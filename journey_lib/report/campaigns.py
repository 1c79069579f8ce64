"""The campaign notebook's data: the randomised campaign the data logs (a treatment column
on a log's campaign rows, or on a customer table), else one the simulator runs, whose true
uplift the page can show beside the estimates.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import JourneyDataError
from ..retention_campaign import Campaign
from ..simulator import simulate
from ..uplift import (
    CampaignData,
    UpliftModel,
    campaign_dataset,
    campaign_size,
    find_campaigns,
    fit,
    qini_coefficient,
    qini_curve,
    treatment_flags,
)

if TYPE_CHECKING:
    from .data import ReportData

__all__ = [
    "CAMPAIGN_DATE",
    "ReportCampaign",
    "campaign_models",
    "design_table",
    "logged_uplift",
    "report_campaign",
    "true_profits",
]

#: The simulated campaign's day, in the simulator's default year: late enough for many
#: active customers, early enough for 90 days of outcome and 90 of inactivity after it.
CAMPAIGN_DATE = "2024-06-03"
#: The learners the page compares.
LEARNER_NAMES = {"t": "T-learner", "s": "S-learner", "x": "X-learner"}


@dataclasses.dataclass(frozen=True)
class ReportCampaign:
    """A campaign for the page.

    Attributes
    ----------
    data : CampaignData
        Its customers: features, arm, outcome.
    logged : bool
        True when the data holds it; False when the simulator ran it.
    truth : pandas.DataFrame or None
        For a simulated campaign, ``GroundTruth.offers`` indexed by ``customer_id``: the
        true uplift and both outcomes of each customer.
    source : str
        Where it comes from, in a sentence for the page.
    """

    data: CampaignData
    logged: bool
    truth: pd.DataFrame | None
    source: str


def report_campaign(
    data: ReportData,
    *,
    campaign: str = "",
    within: str = "",
    simulated_customers: int = 30_000,
    seed: int = 0,
) -> ReportCampaign:
    """The campaign the data logs, else a simulated one.

    On a log with the profile's treatment column: :func:`journey_lib.uplift.campaign_dataset`
    with the profile (``campaign`` names one of several, the largest when empty; ``within``
    the outcome window, the profile's horizon when empty) and the customer table. On a
    customer table with one: its other columns as features, the flag as the arm and its
    churn label as the outcome.
    Otherwise :func:`journey_lib.simulate` with ``simulated_customers`` and a
    :class:`~journey_lib.retention_campaign.Campaign` on :data:`CAMPAIGN_DATE`, read back
    through the same path as a logged one.
    """
    column = data.profile.column("treatment")
    if column is not None and data.table is not None:
        return _table_campaign(data, column)
    if column is not None and data.events is not None:
        found = find_campaigns(data.events, profile=data.profile)
        if len(found):
            chosen = campaign_dataset(
                data.events,
                profile=data.profile,
                campaign=campaign or str(found["campaign"].iloc[0]),  # the largest
                within=within or None,
                customers=data.customers,
            )
            return ReportCampaign(
                chosen,
                True,
                None,
                f"The campaign logged as {chosen.campaign!r}, from {chosen.start:%Y-%m-%d}.",
            )
    # The offer works for as long as the outcome window, so the truth's uplift is the
    # change in churn within it.
    days = pd.Timedelta(within or "90D") / pd.Timedelta(days=1)
    offer = Campaign(CAMPAIGN_DATE, lasts=days)
    sim = simulate(simulated_customers, seed=seed, campaigns=[offer], progress=False)
    chosen = campaign_dataset(sim.events, within=within or "90D", inactivity="90D")
    truth = sim.truth.offers.set_index("customer_id").loc[chosen.X.index]
    why = (
        "The data logs no campaign (no treatment column flags its rows)"
        if data.events is not None or data.table is not None
        else "No data"
    )
    return ReportCampaign(
        chosen,
        False,
        truth,
        f"{why}, so this page runs one on simulated customers, whose true uplift is known: "
        f"{len(chosen.X):,} customers active on {chosen.start:%Y-%m-%d}, half of them offered.",
    )


def _table_campaign(data: ReportData, column: str) -> ReportCampaign:
    table = data.table.set_index("customer_id")
    if "churned" not in table.columns:
        raise JourneyDataError("the table has no churn column to judge the campaign by")
    arm = treatment_flags(table[column], name=column)
    flagged = arm.notna()
    t = arm[flagged].astype("int64").rename("treatment")
    y = table.loc[flagged, "churned"].astype("int64")
    X = table.loc[flagged].drop(columns=[column, "churned"])
    dates = [c for c in X.columns if pd.api.types.is_datetime64_any_dtype(X[c])]
    for name in dates:
        X[name] = (X[name].max() - X[name]).dt.days
    counts = {
        "in_campaign": int(flagged.sum()),
        "both_arms": 0,
        "not_customers": 0,
        "used": int(flagged.sum()),
        "offered": int(t.sum()),
        "held_out": int(len(t) - t.sum()),
    }
    if not counts["offered"] or not counts["held_out"]:
        raise JourneyDataError(f"the column {column!r} flags one arm only: nothing to compare")
    chosen = CampaignData(X, t, y, column, None, None, counts)
    return ReportCampaign(chosen, True, None, f"The campaign flagged in the column {column!r}.")


def campaign_models(
    campaign: ReportCampaign, *, holdout: float = 0.3, seed: int = 0, n_boot: int = 200
) -> tuple[dict[str, UpliftModel], pd.Index, pd.DataFrame, dict[str, pd.DataFrame]]:
    """Each learner fitted on the campaign's customers but a held-out share, and judged on
    those: the models, the held-out customers, a table of Qini coefficients (``qini``,
    ``low``, ``high``, and for a simulated campaign ``true_uplift_correlation``) and the Qini
    curves. The outcome the offer should raise is staying, so customers are ranked by the
    fall in churn each model predicts; a simulated campaign adds the ranking by the true
    uplift ("the truth"), the best any model could do.
    """
    from sklearn.model_selection import train_test_split

    X, t, y = campaign.data
    strata = t.astype(str) + y.astype(str)
    train, test = train_test_split(X.index, test_size=holdout, stratify=strata, random_state=seed)
    models = {
        name: fit(X.loc[train], t.loc[train], y.loc[train], learner=key)
        for key, name in LEARNER_NAMES.items()
    }
    stay, arm = 1 - y.loc[test].to_numpy(), t.loc[test].to_numpy()
    scores = {name: -m.predict_uplift(X.loc[test]) for name, m in models.items()}
    if campaign.truth is not None:
        scores["the truth"] = -campaign.truth.loc[test, "uplift"].to_numpy()
    rows, curves = {}, {}
    for name, score in scores.items():
        rows[name] = qini_coefficient(stay, score, arm, n_boot=n_boot, seed=seed)
        curves[name] = qini_curve(stay, score, arm)
        if campaign.truth is not None and name != "the truth":
            true = -campaign.truth.loc[test, "uplift"].to_numpy()
            rows[name]["true_uplift_correlation"] = float(np.corrcoef(score, true)[0, 1])
    table = pd.DataFrame.from_dict(rows, orient="index")
    return models, pd.Index(test), table, curves


def true_profits(comparison: Any, truth: pd.DataFrame | None) -> dict[str, float] | None:
    """What each plan of a :class:`~journey_lib.uplift.TargetingComparison` really earns on
    simulated customers (``truth``: ``GroundTruth.offers`` by customer): the value of those
    its offers keep (churned held out, not offered) less those they push away, less the
    offers' cost. None without a truth."""
    if truth is None:
        return None
    earned = {}
    for name, plan in comparison.plans.items():
        chosen = plan.contacts[plan.contacts["contact"]]
        kept = truth.loc[chosen.index, "churned_if_held_out"].astype(int) - truth.loc[
            chosen.index, "churned_if_offered"
        ].astype(int)
        earned[name] = float((kept * chosen["value"]).sum() - plan.offer_cost * len(chosen))
    return earned


def logged_uplift(data: ReportData, *, seed: int = 0) -> UpliftModel | None:
    """A T-learner on the campaign the log holds (the largest, when several), for the call
    list's decisions; None when the log holds none, or none on which one can be learnt."""
    if data.events is None or data.profile.column("treatment") is None:
        return None
    found = find_campaigns(data.events, profile=data.profile)
    if found.empty:
        return None
    try:
        chosen = campaign_dataset(
            data.events,
            profile=data.profile,
            campaign=str(found["campaign"].iloc[0]),
            customers=data.customers,
        )
        return fit(chosen.X, chosen.treatment, chosen.y, learner="t", random_state=seed)
    except JourneyDataError:
        return None


def design_table(
    baseline: float,
    *,
    effects: tuple[float, ...] = (-0.01, -0.02, -0.05),
    holdouts: tuple[float, ...] = (0.1, 0.2, 0.5),
) -> pd.DataFrame:
    """Customers a campaign needs to detect each change in churn (rows, in points) with
    each share held out (columns), at 5% significance and 80% power, from a churn rate of
    ``baseline`` without the offer (:func:`journey_lib.uplift.campaign_size`). A change the
    baseline cannot take (below 0%) is left out.

    Examples
    --------
    >>> design_table(0.2, effects=(-0.02,), holdouts=(0.5,)).iloc[0].to_dict()
    {'50% held out': 12072}
    """
    rows = {}
    for effect in effects:
        if not 0 < baseline + effect < 1:
            continue
        rows[f"{effect * 100:+.1f} points"] = {
            f"{h:.0%} held out": campaign_size(baseline, effect, holdout=h)["total"]
            for h in holdouts
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "change in churn"
    return table
