"""Designing and reading a randomised retention campaign: how many customers it needs, and
what a finished one did.

A campaign gives an offer to a random share of the customers it could reach and holds the
rest out; the **effect** is the treated customers' churn rate less the held-out customers'
(negative: the offer kept customers). Definitions:

* :func:`campaign_size`: the customers a campaign needs to tell an effect of ``effect`` on a
  baseline churn rate from none, with a two-sided test at level ``alpha`` and the given
  ``power``, when ``holdout`` of them are held out. The normal test on Cohen's
  :math:`h = 2 \\arcsin\\sqrt{p_1} - 2 \\arcsin\\sqrt{p_0}` (statsmodels'
  ``NormalIndPower``), rounded up.
* :func:`campaign_effect`: each arm's customers and churn rate, the effect with Newcombe's
  interval (the hybrid score interval of a difference of two proportions), the relative
  change, the p-value of Pearson's chi-square (Fisher's exact test when an expected count is
  under 5), and the customers to treat to keep one (the reciprocal of the effect).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from narwhals.typing import IntoFrame

from .._engine import to_pandas
from .._intervals import association_test, rate_difference
from ..errors import JourneyDataError, JourneyParameterError

__all__ = ["campaign_effect", "campaign_size"]


def _share(name: str, value: float) -> None:
    if not 0 < value < 1:
        raise JourneyParameterError(f"{name} must be between 0 and 1, got {value!r}")


def campaign_size(
    baseline: float,
    effect: float,
    *,
    holdout: float = 0.5,
    alpha: float = 0.05,
    power: float = 0.8,
) -> dict[str, int]:
    """Customers a campaign needs to detect ``effect`` on a churn rate of ``baseline``.

    Parameters
    ----------
    baseline : float
        The churn rate without the offer over the campaign's horizon (0.2 for 20%).
    effect : float
        The change in it to detect: -0.03 for three points fewer churners.
    holdout : float, default 0.5
        Share held out (no offer): the control group.
    alpha, power : float
        The test's level and the chance of detecting the effect when it is there.

    Returns
    -------
    dict
        ``treated``, ``holdout`` and ``total`` customers.

    Examples
    --------
    To tell 20% from 17% with a tenth held out:

    >>> campaign_size(0.2, -0.03, holdout=0.1)
    {'treated': 13130, 'holdout': 1459, 'total': 14589}
    """
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    for name, value in (
        ("baseline", baseline),
        ("holdout", holdout),
        ("alpha", alpha),
        ("power", power),
    ):
        _share(name, value)
    _share("baseline + effect", baseline + effect)
    if effect == 0:
        raise JourneyParameterError("effect must not be 0: no campaign size detects nothing")
    h = abs(proportion_effectsize(baseline + effect, baseline))
    # statsmodels sizes the first group and gives the second as ratio times it.
    treated = NormalIndPower().solve_power(
        effect_size=h, alpha=alpha, power=power, ratio=holdout / (1 - holdout)
    )
    treated = math.ceil(treated)
    held = math.ceil(treated * holdout / (1 - holdout))
    return {"treated": treated, "holdout": held, "total": treated + held}


def campaign_effect(
    data: IntoFrame,
    *,
    treatment: str = "treated",
    outcome: str = "churned",
    confidence: float = 0.95,
) -> pd.DataFrame:
    """What a finished randomised campaign did to churn (definitions in
    :mod:`journey_lib.uplift.experiment`).

    Parameters
    ----------
    data : frame of any engine
        One row per customer of the campaign: ``treatment`` (1 or True when offered) and
        ``outcome`` (1 or True when they churned within the campaign's horizon).
    treatment, outcome : str
        The two columns.
    confidence : float
        Level of the effect's interval.

    Returns
    -------
    DataFrame
        One row: ``treated`` and ``holdout`` (customers), ``treated_rate`` and
        ``holdout_rate``, ``effect`` (treated less held-out rate) with ``low`` and
        ``high``, ``relative`` (the effect over the held-out rate), ``p_value``, ``test``
        and ``to_treat_per_save`` (NaN unless the offer lowered churn).

    Examples
    --------
    >>> import pandas as pd
    >>> campaign = pd.DataFrame({"treated": [1] * 100 + [0] * 100,
    ...                          "churned": [1] * 15 + [0] * 85 + [1] * 25 + [0] * 75})
    >>> row = campaign_effect(campaign).iloc[0]
    >>> round(row["effect"], 2), round(row["to_treat_per_save"], 1), row["test"]
    (np.float64(-0.1), np.float64(10.0), 'chi2')
    """
    frame = to_pandas(data)
    for name in (treatment, outcome):
        if name not in frame.columns:
            raise JourneyDataError(
                f"the campaign has no column {name!r}; its columns are "
                f"{', '.join(map(repr, frame.columns))}"
            )
    pair = frame[[treatment, outcome]]
    bad = pair.isna().any(axis=1) | ~pair.isin([0, 1, True, False]).all(axis=1)
    if bad.any():
        example = pair[bad].iloc[0].to_dict()
        raise JourneyDataError(
            f"{int(bad.sum()):,} customers have a {treatment!r} or {outcome!r} that is not 0 "
            f"or 1; for example {example}"
        )
    given = pair[treatment].astype(bool).to_numpy()
    churned = pair[outcome].astype(bool).to_numpy()
    n1, n0 = int(given.sum()), int((~given).sum())
    if not n1 or not n0:
        raise JourneyDataError(
            f"a campaign needs customers in both arms; here {n1:,} were offered and {n0:,} held out"
        )
    x1, x0 = int(churned[given].sum()), int(churned[~given].sum())
    low, high = rate_difference(x1, n1, x0, n0, confidence)
    p, test = association_test(x1, n1 - x1, x0, n0 - x0)
    effect = x1 / n1 - x0 / n0
    return pd.DataFrame(
        {
            "treated": [n1],
            "holdout": [n0],
            "treated_rate": [x1 / n1],
            "holdout_rate": [x0 / n0],
            "effect": [effect],
            "low": [float(low)],
            "high": [float(high)],
            "relative": [effect / (x0 / n0) if x0 else np.nan],
            "p_value": [float(p)],
            "test": [str(test)],
            "to_treat_per_save": [-1 / effect if effect < 0 else np.nan],
        }
    )
