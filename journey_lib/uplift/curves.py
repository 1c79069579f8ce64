"""How well an uplift model ranks customers: the Qini and uplift curves and the Qini
coefficient, on a randomised campaign's customers.

Customers are ranked by predicted uplift, highest first (ties in the score move together).
With, among the first :math:`k`, :math:`N_t(k)` treated and :math:`N_c(k)` held out, of whom
:math:`Y_t(k)` and :math:`Y_c(k)` had the outcome (the outcome the offer should raise: for
churn, *staying*):

* the **Qini curve** is :math:`Y_t(k) - Y_c(k) N_t(k) / N_c(k)`: the extra outcomes among
  the treated of the first :math:`k`, against what the held-out rate predicts for them;
* the **uplift curve** is :math:`(Y_t(k) / N_t(k) - Y_c(k) / N_c(k)) \\, k`: the difference
  in rates, scaled to the first :math:`k`;
* the **Qini coefficient** is the area between the model's Qini curve and the straight line
  of a random ranking, over the same area for the perfect ranking (which puts the treated
  who had the outcome first and the held-out who had it last): 1 ranks perfectly, 0 no
  better than chance, below 0 worse. Its interval is the bootstrap's percentile interval
  over customers resampled within each arm.

These are scikit-uplift's definitions (``qini_curve``, ``uplift_curve``,
``qini_auc_score``), which the tests hold these to.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import JourneyDataError

__all__ = ["qini_coefficient", "qini_curve", "uplift_curve"]


def _arrays(y, uplift, treatment) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y, score, t = (np.asarray(a) for a in (y, uplift, treatment))
    if not (y.shape == score.shape == t.shape) or y.ndim != 1:
        raise JourneyDataError("outcome, uplift and treatment need one value per customer each")
    for name, values in (("outcome", y), ("treatment", t)):
        if not np.isin(values, [0, 1]).all():
            raise JourneyDataError(f"the {name} must be 0 or 1 for every customer")
    if t.all() or not t.any():
        raise JourneyDataError("the customers need both treated and held-out ones")
    return y.astype(float), score.astype(float), t.astype(float)


def _cumulative(y, score, t) -> tuple[np.ndarray, ...]:
    order = np.argsort(score, kind="mergesort")[::-1]
    y, score, t = y[order], score[order], t[order]
    # One point per distinct score: customers tied in score are ranked together.
    ends = np.r_[np.flatnonzero(np.diff(score)), len(score) - 1]
    n_t = np.cumsum(t)[ends]
    y_t = np.cumsum(y * t)[ends]
    y_c = np.cumsum(y * (1 - t))[ends]
    k = ends + 1.0
    return k, n_t, k - n_t, y_t, y_c


def qini_curve(y, uplift, treatment) -> pd.DataFrame:
    """The Qini curve (definition in :mod:`journey_lib.uplift.curves`): ``customers``
    (the first k ranked) and ``qini``, from (0, 0).

    Examples
    --------
    The first customer was treated and stayed (+1); the third, held out, stayed too, so half
    a stayer is expected of the one treated customer among the first three:

    >>> qini_curve([1, 0, 1, 0], [0.9, 0.5, 0.2, 0.1], [1, 0, 0, 1])["qini"].tolist()
    [0.0, 1.0, 1.0, 0.5, 0.0]
    """
    k, n_t, n_c, y_t, y_c = _cumulative(*_arrays(y, uplift, treatment))
    qini = y_t - y_c * np.divide(n_t, n_c, out=np.zeros_like(n_t), where=n_c != 0)
    return pd.DataFrame({"customers": np.r_[0.0, k], "qini": np.r_[0.0, qini]})


def uplift_curve(y, uplift, treatment) -> pd.DataFrame:
    """The uplift curve (definition in :mod:`journey_lib.uplift.curves`): ``customers``
    and ``uplift``, from (0, 0).

    Examples
    --------
    >>> uplift_curve([1, 0, 1, 0], [0.9, 0.5, 0.2, 0.1], [1, 0, 0, 1])["uplift"].tolist()
    [0.0, 1.0, 2.0, 1.5, 0.0]
    """
    k, n_t, n_c, y_t, y_c = _cumulative(*_arrays(y, uplift, treatment))
    rate_t = np.divide(y_t, n_t, out=np.zeros_like(y_t), where=n_t != 0)
    rate_c = np.divide(y_c, n_c, out=np.zeros_like(y_c), where=n_c != 0)
    return pd.DataFrame({"customers": np.r_[0.0, k], "uplift": np.r_[0.0, (rate_t - rate_c) * k]})


def _area(curve: pd.DataFrame) -> float:
    return float(np.trapezoid(curve["qini"], curve["customers"]))


def _coefficient(y: np.ndarray, score: np.ndarray, t: np.ndarray) -> float:
    actual = qini_curve(y, score, t)
    # The perfect ranking: treated with the outcome first, held out with it last.
    perfect = qini_curve(y, y * t - y * (1 - t), t)
    n, end = perfect["customers"].iloc[-1], perfect["qini"].iloc[-1]
    random = n * end / 2
    best = _area(perfect) - random
    return (_area(actual) - random) / best if best else float("nan")


def qini_coefficient(
    y,
    uplift,
    treatment,
    *,
    n_boot: int = 0,
    confidence: float = 0.95,
    seed: int = 0,
) -> dict[str, float]:
    """The Qini coefficient, with a bootstrap interval when ``n_boot`` > 0 (definitions in
    :mod:`journey_lib.uplift.curves`).

    Returns
    -------
    dict
        ``qini``, and ``low`` and ``high`` (NaN without resamples).

    Examples
    --------
    A ranking that puts the customers the offer helped first:

    >>> y, t = [1, 0, 0, 1, 0, 1], [1, 1, 0, 0, 1, 0]
    >>> round(float(qini_coefficient(y, [0.9, 0.6, 0.5, 0.1, 0.4, 0.2], t)["qini"]), 3)
    0.923
    """
    y, score, t = _arrays(y, uplift, treatment)
    found = {"qini": float(_coefficient(y, score, t)), "low": np.nan, "high": np.nan}
    if n_boot:
        rng = np.random.default_rng(seed)
        arms = [np.flatnonzero(t == 1), np.flatnonzero(t == 0)]
        # Resampled within each arm, so every resample keeps both (a campaign's design).
        values = [
            _coefficient(y[idx], score[idx], t[idx])
            for idx in (
                np.concatenate([rng.choice(a, size=len(a)) for a in arms]) for _ in range(n_boot)
            )
        ]
        tail = (1 - confidence) / 2
        found["low"], found["high"] = np.nanquantile(values, [tail, 1 - tail]).tolist()
    return found
