"""What if the business behaved differently? Re-simulate and compare outcomes.

The simulator's trust drivers (how often the business keeps its promises, owns its mistakes,
treats customers fairly, ...) drive churn and advocacy through customers' trust. Changing a
driver and simulating the *same* customers again (same seed, same size and window) shows
what the change does, with a known answer: the teaching notebook's trust what-if.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from .errors import JourneyDataError
from .simulator import Simulation, simulate

__all__ = ["MEASURES", "outcomes", "what_if"]

#: The outcomes compared, in order, with what each one means.
MEASURES: dict[str, str] = {
    "churn_rate": "share of buyers who left during the window (true churn)",
    "repeat_rate": "share of buyers who bought more than once",
    "advocacy_rate": "share of buyers who wrote a review or referred someone",
    "mean_trust": "buyers' mean trust at the end, from 0 to 1 (true)",
}
_ADVOCACY_EVENTS = ("review", "referral")


def outcomes(sim: Simulation) -> pd.DataFrame:
    """Churn, retention, advocacy and trust of a simulation's buyers.

    Definitions (a *buyer* is a customer with at least one ``purchase`` in the log):

    * ``churn_rate``: buyers who churned within the simulated window / buyers, from the
      ground truth (``sim.truth.customers["churned"]``), so it is the true churn;
    * ``repeat_rate``: buyers with two or more purchases / buyers (retention as repeat
      business), from the log;
    * ``advocacy_rate``: buyers with a ``review`` or a ``referral`` / buyers, from the log;
    * ``mean_trust``: the mean of the buyers' true trust after their last order.

    Parameters
    ----------
    sim : Simulation
        The output of :func:`journey_lib.simulate`.

    Returns
    -------
    pandas.DataFrame
        One row per measure of :data:`MEASURES`, in that order: ``measure``, ``value``,
        ``buyers`` (the denominator) and ``se`` (the standard error of ``value`` as the
        mean over that many buyers: ``sqrt(p(1 - p) / n)`` for a share).

    Raises
    ------
    JourneyDataError
        When nobody bought, so no measure is defined.

    Examples
    --------
    >>> import journey_lib as jl
    >>> table = jl.outcomes(jl.simulate(500, seed=3))
    >>> table["measure"].tolist()
    ['churn_rate', 'repeat_rate', 'advocacy_rate', 'mean_trust']
    >>> bool(table["value"].between(0, 1).all())
    True
    """
    events = sim.events
    purchases = events.loc[events["event"] == "purchase", "customer_id"].value_counts()
    buyers = purchases.index
    if len(buyers) == 0:
        raise JourneyDataError(
            "nobody bought in this simulation, so churn, retention and advocacy among buyers "
            "are undefined; simulate more customers or raise purchase_rate"
        )
    advocates = events.loc[events["event"].isin(_ADVOCACY_EVENTS), "customer_id"].unique()
    truth = sim.truth.customers.set_index("customer_id").loc[buyers]
    per_buyer = {
        "churn_rate": truth["churned"].to_numpy(dtype=float),
        "repeat_rate": (purchases.to_numpy() >= 2).astype(float),
        "advocacy_rate": buyers.isin(advocates).astype(float),
        "mean_trust": truth["trust"].to_numpy(dtype=float),
    }
    n = len(buyers)
    return pd.DataFrame(
        {
            "measure": list(per_buyer),
            "value": [values.mean() for values in per_buyer.values()],
            "buyers": n,
            "se": [values.std() / np.sqrt(n) for values in per_buyer.values()],
        }
    )


def what_if(baseline: Simulation, **changes: Any) -> pd.DataFrame:
    """The outcomes of a simulation beside those of the same customers with changed drivers.

    The scenario is simulated with the baseline's seed, size, window and parameters, except
    for ``changes``; the same seed draws the same people and the same acquisition, so the
    difference comes from the changed drivers and from chance in what happens afterwards.
    ``margin`` tells the two apart: about 95% of pure-chance differences are smaller (1.96
    standard errors of a difference of two independent means, which overstates the noise
    here since both runs share their customers).

    Parameters
    ----------
    baseline : Simulation
        The output of :func:`journey_lib.simulate`.
    **changes
        Simulator parameters to change (see :class:`journey_lib.SimulationParameters`),
        e.g. ``keeping_promises=0.6`` or ``service_quality=0.95``. None: the scenario is
        the baseline itself.

    Returns
    -------
    pandas.DataFrame
        One row per measure of :func:`outcomes`: ``measure``, ``meaning``, ``baseline``,
        ``scenario``, ``change`` (scenario minus baseline) and ``margin``. ``.attrs``
        holds ``"changes"`` (the changed parameters, as given).

    Raises
    ------
    JourneyParameterError
        For an unknown parameter or a value out of range (as :func:`simulate` says).

    Examples
    --------
    >>> import journey_lib as jl
    >>> baseline = jl.simulate(2000, seed=0)
    >>> table = jl.what_if(baseline, keeping_promises=0.5)
    >>> row = table.set_index("measure").loc["churn_rate"]
    >>> bool(row["scenario"] > row["baseline"])  # broken promises lose customers
    True
    >>> float(jl.what_if(baseline)["change"].abs().max())  # no change: the same run
    0.0
    """
    if changes:
        drivers = {**dataclasses.asdict(baseline.params), **changes}
        scenario = simulate(
            len(baseline.customers),
            seed=baseline.seed,
            start=baseline.start,
            days=int((baseline.end - baseline.start) / pd.Timedelta(days=1)),
            progress=False,
            **drivers,
        )
    else:
        scenario = baseline
    before, after = outcomes(baseline), outcomes(scenario)
    table = pd.DataFrame(
        {
            "measure": before["measure"],
            "meaning": before["measure"].map(MEASURES),
            "baseline": before["value"],
            "scenario": after["value"],
            "change": after["value"] - before["value"],
            "margin": 1.96 * np.hypot(before["se"], after["se"]),
        }
    )
    table.attrs["changes"] = dict(changes)
    return table
