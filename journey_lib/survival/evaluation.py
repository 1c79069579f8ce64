"""How well a model tells who leaves when, on customers whose lifetimes are censored.

Censoring hides the outcome of customers who were still there when the data ended, so the
scores below weight customers by the inverse of the chance of staying uncensored that long
(**IPCW**): :math:`\\hat G`, the Kaplan-Meier curve of the censoring times, taken from the
training customers when given (else the test customers). A churn and a censoring at the same
time count the churn first. These are the definitions of scikit-survival, whose figures the
tests hold these to.

* **Time-dependent AUC** at time :math:`t` (Uno et al. 2007, cumulative/dynamic): of the
  pairs of a customer who churned by :math:`t` and one still there after it, the weighted
  share where the churner had the higher risk score (ties count half), each churner weighted
  by :math:`1 / \\hat G(T_i)`. Its mean over the times is weighted by the Kaplan-Meier
  curve's drop at each.
* **Brier score** at :math:`t` (Graf et al. 1999): the mean squared error of the predicted
  survival :math:`\\hat S(t \\mid x_i)`: churners by :math:`t` weighted by
  :math:`1 / \\hat G(T_i)`, customers still there by :math:`1 / \\hat G(t)`; the
  **integrated Brier score** is its trapezoidal mean over the times.
* **Concordance**: Harrell's C, :func:`journey_lib.survival.concordance`.

:func:`compare_predictions` puts a churn classifier's probability of leaving within a horizon
beside a survival model's :math:`1 - \\hat S(\text{horizon} \\mid x)` on one holdout.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import JourneyDataError

__all__ = [
    "brier_score",
    "censoring_survival",
    "compare_predictions",
    "integrated_brier_score",
    "time_dependent_auc",
]


def _arrays(duration, observed) -> tuple[np.ndarray, np.ndarray]:
    time = np.asarray(duration, dtype=float)
    event = np.asarray(observed).astype(bool)
    if time.shape != event.shape or time.ndim != 1:
        raise JourneyDataError("duration and observed must be one value per customer, alike")
    if not np.isfinite(time).all() or (time < 0).any():
        raise JourneyDataError("durations must be present and not negative")
    return time, event


def censoring_survival(duration, observed, at: Sequence[float] | np.ndarray) -> np.ndarray:
    """:math:`\\hat G(t)`: the Kaplan-Meier curve of the censoring times at ``at``, churn
    counted before a censoring at the same time (so a churn at ``t`` has not yet seen the
    censorings at ``t``, and :math:`\\hat G(t)` includes them).

    Examples
    --------
    >>> censoring_survival([1, 2, 3, 4], [1, 0, 1, 0], [1.5, 2, 3.5])
    array([1.        , 0.66666667, 0.66666667])
    """
    time, event = _arrays(duration, observed)
    times, index = np.unique(time, return_inverse=True)
    churned = np.bincount(index, weights=event.astype(float), minlength=len(times))
    leaving = np.bincount(index, minlength=len(times)).astype(float)
    censored = leaving - churned
    at_risk = leaving[::-1].cumsum()[::-1] - churned  # the churns at t have left first
    with np.errstate(divide="ignore", invalid="ignore"):
        step = np.where(censored > 0, 1 - censored / at_risk, 1.0)
    curve = np.cumprod(step)
    place = np.searchsorted(times, np.asarray(at, dtype=float), side="right") - 1
    return np.where(place >= 0, curve[np.maximum(place, 0)], 1.0)


def _within(grid: np.ndarray, time: np.ndarray) -> None:
    """Refuse times outside the test customers' follow-up, where nothing is measured."""
    outside = (grid < time.min()) | (grid >= time.max())
    if outside.any():
        raise JourneyDataError(
            f"time {grid[outside][0]:g} is outside the test customers' follow-up "
            f"[{time.min():g}, {time.max():g}); measure within it"
        )


def _weights(train, duration, observed) -> tuple[np.ndarray, np.ndarray, tuple]:
    time, event = _arrays(duration, observed)
    reference = (time, event) if train is None else _arrays(*train)
    return time, event, reference


def time_dependent_auc(
    duration,
    observed,
    risk,
    times: Sequence[float],
    *,
    train: tuple | None = None,
) -> tuple[pd.DataFrame, float]:
    """Cumulative/dynamic AUC at each of ``times`` and their mean (definitions in
    :mod:`journey_lib.survival.evaluation`).

    Parameters
    ----------
    duration, observed : array-like
        The test customers' lifetimes and churn flags.
    risk : array-like
        Higher for customers likelier to churn: one score per customer, or one column per
        time (a model's ``1 - S(t | x)``).
    times : sequence of float
        Where to measure: within the test customers' follow-up (from their shortest time
        to before their longest).
    train : (duration, observed), optional
        The training customers, for the censoring curve.

    Returns
    -------
    (DataFrame, float)
        ``time``, ``auc`` per time (NaN where no one has churned yet or no one is left),
        and the mean AUC over the times that have one.

    Raises
    ------
    JourneyDataError
        A time outside the follow-up, or a churner whom no censoring weight can stand
        for (the censoring curve is 0 at their time).

    Examples
    --------
    >>> import numpy as np
    >>> table, mean = time_dependent_auc([1, 2, 3, 4], [1, 1, 0, 1], [0.9, 0.6, 0.5, 0.1],
    ...                                  [1.5, 2.5])
    >>> table["auc"].tolist(), round(mean, 3)
    ([1.0, 1.0], 1.0)
    """
    time, event, reference = _weights(train, duration, observed)
    grid = np.asarray(times, dtype=float)
    scores = np.asarray(risk, dtype=float)
    scores = np.repeat(scores[:, None], len(grid), axis=1) if scores.ndim == 1 else scores
    if scores.shape != (len(time), len(grid)):
        raise JourneyDataError(
            "risk must have one score per customer, or one per customer and time"
        )
    _within(grid, time)
    g = censoring_survival(*reference, time)
    if (event & (g == 0)).any():
        raise JourneyDataError(
            "the censoring curve is 0 at some test customers' churn times (every training "
            "customer was censored by then): no weight can stand for them; measure at "
            "earlier times or train on a longer follow-up"
        )
    w = np.where(event, 1 / np.where(g > 0, g, 1.0), 0.0)
    aucs = np.full(len(grid), np.nan)
    for k, t in enumerate(grid):  # one pass per time asked for, not per customer
        case = event & (time <= t)
        control = time > t
        if not case.any() or not control.any():
            continue
        others = np.sort(scores[control, k])
        mine = scores[case, k]
        below = np.searchsorted(others, mine, side="left")
        ties = np.searchsorted(others, mine, side="right") - below
        credit = (w[case] * (below + ties / 2)).sum()
        aucs[k] = credit / (control.sum() * w[case].sum())
    # The mean weighted by the Kaplan-Meier curve's drop at each time.
    from .curves import kaplan_meier

    curve = kaplan_meier(pd.DataFrame({"duration": time, "churned": event.astype(int)}))
    s = curve.survival_at(grid)["survival"].to_numpy()
    drop = -np.diff(np.concatenate(([1.0], s)))
    # Times with no AUC (no churner yet, or no one left) count in neither sum.
    known = np.isfinite(aucs)
    weight = drop[known].sum()
    mean = float((aucs[known] * drop[known]).sum() / weight) if weight > 0 else float("nan")
    return pd.DataFrame({"time": grid, "auc": aucs}), mean


def brier_score(
    duration, observed, survival, times: Sequence[float], *, train: tuple | None = None
) -> pd.DataFrame:
    """Graf's Brier score of predicted survival at each of ``times`` (definitions in
    :mod:`journey_lib.survival.evaluation`); ``survival`` has one column per time.

    Examples
    --------
    A perfect forecast scores 0:

    >>> import numpy as np
    >>> brier_score([1, 3], [1, 1], np.array([[0.0], [1.0]]), [2])["brier"].tolist()
    [0.0]
    """
    time, event, reference = _weights(train, duration, observed)
    grid = np.asarray(times, dtype=float)
    s = np.asarray(survival, dtype=float).reshape(len(time), len(grid))
    # Where the censoring curve is 0 the weight is 0, as scikit-survival does.
    g_own = censoring_survival(*reference, time)
    g_t = censoring_survival(*reference, grid)
    g_own, g_t = np.where(g_own > 0, g_own, np.inf), np.where(g_t > 0, g_t, np.inf)
    case = event[:, None] & (time[:, None] <= grid[None, :])
    control = time[:, None] > grid[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(case, s**2 / g_own[:, None], 0.0) + np.where(
            control, (1 - s) ** 2 / g_t[None, :], 0.0
        )
    return pd.DataFrame({"time": grid, "brier": terms.mean(axis=0)})


def integrated_brier_score(
    duration, observed, survival, times: Sequence[float], *, train: tuple | None = None
) -> float:
    """The Brier score's mean over ``times`` (trapezoids, divided by the span): 0 for a
    perfect forecast, 0.25 for saying 50% to everyone.

    Examples
    --------
    >>> import numpy as np
    >>> integrated_brier_score([1, 3, 4], [1, 1, 0], np.full((3, 2), 0.5), [1.5, 2.5])
    0.25
    """
    table = brier_score(duration, observed, survival, times, train=train)
    grid, brier = table["time"].to_numpy(), table["brier"].to_numpy()
    if len(grid) < 2:
        raise JourneyDataError("the integrated Brier score needs two times or more")
    return float(np.trapezoid(brier, grid) / (grid[-1] - grid[0]))


def compare_predictions(
    duration,
    observed,
    predictions: dict,
    horizon: float,
    *,
    train: tuple | None = None,
) -> pd.DataFrame:
    """Models side by side on one holdout: each model's concordance, AUC and Brier score at
    ``horizon``, and its integrated Brier score where it gives a whole curve.

    Parameters
    ----------
    duration, observed : array-like
        The holdout customers' lifetimes and churn flags.
    predictions : dict
        Model name to either an array of each customer's probability of churning by
        ``horizon`` (a classifier's), or a DataFrame of survival probabilities with one
        column per time, ``horizon`` among them (a survival model's
        :meth:`~journey_lib.survival.CoxModel.predict_survival`), whose ``1 - S(horizon)``
        is its probability.
    horizon : float
        The time the probabilities are for.
    train : (duration, observed), optional
        The training customers, for the censoring curve.

    Returns
    -------
    DataFrame
        One row per model: ``concordance``, ``auc``, ``brier`` (at ``horizon``) and
        ``integrated_brier`` (NaN for a single time).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> time, churned = np.array([1, 2, 3, 4]), np.array([1, 1, 0, 1])
    >>> table = compare_predictions(time, churned, {"sure": np.array([1, 1, 0, 0.0]),
    ...                                               "coin": np.full(4, 0.5)}, horizon=2.5)
    >>> table["brier"].round(3).tolist(), table["auc"].tolist()
    ([0.0, 0.25], [1.0, 0.5])
    """
    from .cox import concordance

    time, event = _arrays(duration, observed)
    rows = []
    for name, predicted in predictions.items():
        integrated = np.nan
        if isinstance(predicted, pd.DataFrame):
            grid = np.asarray(predicted.columns, dtype=float)
            if horizon not in grid:
                raise JourneyDataError(f"{name}: its survival curves have no column {horizon!r}")
            curves = predicted.to_numpy(float)
            chance = 1 - curves[:, list(grid).index(horizon)]
            if len(grid) > 1:
                integrated = integrated_brier_score(time, event, curves, grid, train=train)
        else:
            chance = np.asarray(predicted, dtype=float)
        table, _ = time_dependent_auc(time, event, chance, [horizon], train=train)
        brier = brier_score(time, event, (1 - chance)[:, None], [horizon], train=train)
        rows.append(
            {
                "model": name,
                "concordance": concordance(time, event, chance),
                "auc": float(table["auc"].iloc[0]),
                "brier": float(brier["brier"].iloc[0]),
                "integrated_brier": integrated,
            }
        )
    return pd.DataFrame(rows)
