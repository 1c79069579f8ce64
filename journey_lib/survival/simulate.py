"""Customer lifetimes with a known hazard, for teaching and for checking estimators.

Each customer has a number ``x`` (standard normal) and a plan; their hazard of churning is
constant over time,

.. math:: h = \\text{rate} \\cdot \\exp(\\text{x\\_effect} \\cdot x + \\text{plan effect}),

so their lifetime is exponential, and the Cox model's true coefficients are ``x_effect``
and the plans' effects (against the first plan, whose effect is 0). Each customer is
observed for a uniform time in ``follow_up``; a lifetime longer than that is censored, and
durations are rounded up to whole days, as tenure in days is.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..errors import JourneyParameterError, check_count

__all__ = ["simulate_lifetimes"]


def simulate_lifetimes(
    n: int = 1000,
    *,
    rate: float = 0.01,
    x_effect: float = 0.5,
    plans: Mapping[str, float] | None = None,
    shares: tuple[float, ...] = (0.5, 0.3, 0.2),
    follow_up: tuple[float, float] = (30.0, 400.0),
    seed: int = 0,
) -> pd.DataFrame:
    """``n`` customers' lifetimes with a planted hazard (definitions in
    :mod:`journey_lib.survival.simulate`).

    Parameters
    ----------
    n : int
        Customers.
    rate : float
        Hazard per day of a customer with ``x`` = 0 on the first plan.
    x_effect : float
        Log hazard ratio per unit of ``x``.
    plans : mapping, optional
        Plan name to its log hazard ratio against the first; default ``{"a": 0, "b": -0.7,
        "c": 0.4}``.
    shares : tuple of float
        Each plan's share of customers.
    follow_up : (float, float)
        Shortest and longest observation, in days.
    seed : int

    Returns
    -------
    DataFrame
        ``duration`` (whole days), ``churned`` (1 or 0), ``x``, ``plan``.

    Examples
    --------
    >>> import journey_lib as jl
    >>> life = jl.survival.simulate_lifetimes(4000, seed=1)
    >>> model = jl.survival.CoxModel().fit(life)
    >>> bool(abs(model.coef_["x"] - 0.5) < 0.1), model.references_
    (True, {'plan': 'a'})
    """
    check_count("n", n)
    plans = dict({"a": 0.0, "b": -0.7, "c": 0.4} if plans is None else plans)
    if len(shares) != len(plans) or not np.isclose(sum(shares), 1):
        raise JourneyParameterError(
            f"shares must give each of the {len(plans)} plans a share, summing to 1; got {shares!r}"
        )
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    plan = rng.choice(list(plans), size=n, p=list(shares))
    log_hr = x_effect * x + pd.Series(plan).map(plans).to_numpy(float)
    life = rng.exponential(1 / (rate * np.exp(log_hr)))
    end = rng.uniform(*follow_up, size=n)
    return pd.DataFrame(
        {
            "duration": np.ceil(np.minimum(life, end)),
            "churned": (life <= end).astype(int),
            "x": x,
            "plan": plan,
        }
    )
