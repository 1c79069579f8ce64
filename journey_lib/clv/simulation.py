"""BG/NBD buyers with Gamma-Gamma spend, simulated with known parameters.

The ground truth for :class:`~journey_lib.clv.BetaGeo` and
:class:`~journey_lib.clv.GammaGamma`: fitting the simulated summary should give back the
parameters it was drawn with.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from .._time import (
    EPOCH,
    PERIOD_US,
    fixed_period,
    instant_us,
    period_number,
    period_or_freq,
    period_start_us,
)
from ..errors import JourneyParameterError

__all__ = ["BuyerSimulation", "simulate_buyers"]


@dataclass(frozen=True)
class BuyerSimulation:
    """Simulated buyers: what :func:`journey_lib.rfm` would report, and the truth behind it.

    Attributes
    ----------
    summary : pandas.DataFrame
        ``customer_id``, ``frequency``, ``recency``, ``T``, ``monetary_value`` (floats),
        exactly ``rfm(events, observation_end=observation_end, period=period)``.
    truth : pandas.DataFrame
        Per customer: ``purchase_rate`` (lambda, purchases per period while alive),
        ``dropout_probability`` (p), ``mean_spend`` (the mean of their transactions' value)
        and ``alive`` (whether they had not dropped out by ``observation_end``).
    events : pandas.DataFrame or None
        The touchpoint log (``customer_id``, ``timestamp``, ``event`` = "purchase",
        ``value``), sorted by customer and time; None unless asked for.
    observation_end : pandas.Timestamp
        The start (UTC) of the period in which the observation ends.
    period : str
        The period, ``"hour"``, ``"day"`` or ``"week"``, as for :func:`journey_lib.rfm`.
    parameters : dict
        The parameters the buyers were drawn with.
    """

    summary: pd.DataFrame
    truth: pd.DataFrame
    events: pd.DataFrame | None
    observation_end: pd.Timestamp
    period: str
    parameters: dict[str, float]

    @property
    def freq(self) -> str:
        """Deprecated: the former name of :attr:`period`, until the next release."""
        warnings.warn(
            "BuyerSimulation.freq is deprecated (removed in the next release): read .period",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.period


def simulate_buyers(
    n: int,
    *,
    r: float,
    alpha: float,
    a: float,
    b: float,
    p: float = 6.25,
    q: float = 3.74,
    v: float = 15.44,
    T: int | ArrayLike = 365,
    period: str = "day",
    observation_end: Any = "2025-01-01",
    events: bool = False,
    seed: int | None = 0,
    freq: str | None = None,
) -> BuyerSimulation:
    """Draw ``n`` customers from the BG/NBD and Gamma-Gamma models.

    Definitions
    -----------
    Time runs in periods of ``period``. Customer ``i`` makes a first purchase at the start of
    the period ``T_i`` periods before ``observation_end``'s period, and then:

    * their purchase rate is ``lambda_i ~ Gamma(shape r, rate alpha)`` (NumPy's scale is
      ``1 / alpha``) and their dropout probability ``p_i ~ Beta(a, b)``;
    * while alive they buy as a Poisson process of rate ``lambda_i``; right after each
      repeat purchase they drop out for good with probability ``p_i``;
    * ``nu_i ~ Gamma(shape q, rate v)``, and each transaction (the first too) is worth
      ``Gamma(shape p, rate nu_i)``, mean ``p / nu_i``.

    Purchases are recorded to the microsecond before ``observation_end``, and the summary
    counts them in whole periods as :func:`journey_lib.rfm` does: purchases in one period
    are one purchase period worth their sum (so, as with real data, a model sees rounded
    times: see the Notes of :class:`~journey_lib.clv.BetaGeo`; hours keep the rounding
    negligible for parameter recovery). Draws are vectorised over customers; the one
    loop is over purchase rounds, each advancing every still-active customer to their next
    purchase.

    Parameters
    ----------
    n : int
        Customers, >= 1.
    r, alpha, a, b : float
        BG/NBD parameters (``alpha`` in periods), all > 0.
    p, q, v : float, default 6.25, 3.74, 15.44
        Gamma-Gamma parameters (the estimates for the CDNOW data, in dollars), all > 0.
    T : int or array_like of int, default 365
        Each customer's age at ``observation_end`` in whole periods (>= 0); one number for
        everyone or ``n`` of them.
    period : {"day", "week", "hour"}, default "day"
        The period: UTC days, weeks from Monday, or hours (pandas' ``"D"``, ``"W"``, ``"h"``
        also work).
    observation_end : str, datetime or Timestamp, default "2025-01-01"
        Any time in the last period; the observation ends at that period's start.
    events : bool, default False
        Also build the touchpoint log (one row per purchase; costs memory at scale).
    seed : int or None, default 0
        Seed of NumPy's default generator.
    freq : str, optional
        Deprecated: the former name of ``period``.

    Returns
    -------
    BuyerSimulation

    Raises
    ------
    JourneyParameterError
        For a non-positive parameter, a bad ``n``, ``T`` or ``period``.

    Examples
    --------
    >>> sim = simulate_buyers(3, r=0.5, alpha=10.0, a=1.0, b=3.0, T=[100, 50, 0], seed=1,
    ...                       events=True)
    >>> sim.summary.round(2)
       customer_id  frequency  recency      T  monetary_value
    0            1        5.0     93.0  100.0           31.58
    1            2        4.0     32.0   50.0           35.02
    2            3        0.0      0.0    0.0            0.00
    >>> sim.events.head(2).round({"value": 2})
       customer_id                        timestamp     event  value
    0            1 2024-09-23 00:00:00.000000+00:00  purchase  10.51
    1            1 2024-10-05 20:57:01.255712+00:00  purchase  25.78
    >>> len(sim.events), str(sim.observation_end)
    (12, '2025-01-01 00:00:00+00:00')
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise JourneyParameterError(f"n must be a whole number of customers >= 1; got {n!r}")
    parameters = {"r": r, "alpha": alpha, "a": a, "b": b, "p": p, "q": q, "v": v}
    for name, value in parameters.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < np.inf:
            raise JourneyParameterError(f"{name} must be a positive number; got {value!r}")
    period = fixed_period(period_or_freq(period, freq, default="day"))
    ages = _ages(T, n)
    step = PERIOD_US[period]
    end_period = period_number(instant_us(observation_end, "observation_end"), period)
    end_us = int(period_start_us(end_period, period))

    rng = np.random.default_rng(seed)
    # Floors keep 1 / rate finite for the rare rate that underflows to 0 at tiny shapes.
    wait = 1 / np.maximum(rng.gamma(r, 1 / alpha, n), 1e-300)
    dropout = rng.beta(a, b, n)
    spend_scale = 1 / np.maximum(rng.gamma(q, 1 / v, n), 1e-300)
    first_value = rng.standard_gamma(p, n) * spend_scale

    frequency = np.zeros(n, dtype=np.int64)
    last_period = np.zeros(n, dtype=np.int64)
    repeat_value = np.zeros(n)
    alive = np.ones(n, dtype=bool)
    clock = np.zeros(n)  # periods since the first purchase
    limit_us = ages * step - 1  # the last microsecond before observation_end
    log: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    active = np.flatnonzero(ages > 0)
    while active.size:
        clock[active] += rng.standard_exponential(active.size) * wait[active]
        buyers = active[clock[active] < ages[active]]
        offset_us = np.minimum((clock[buyers] * step).astype(np.int64), limit_us[buyers])
        bought_in = offset_us // step  # periods since the first purchase
        value = rng.standard_gamma(p, buyers.size) * spend_scale[buyers]
        frequency[buyers] += bought_in > last_period[buyers]
        last_period[buyers] = bought_in
        repeat_value[buyers] += np.where(bought_in > 0, value, 0.0)
        if events:
            log.append((buyers, offset_us, value))
        dropped = rng.random(buyers.size) < dropout[buyers]
        alive[buyers[dropped]] = False
        active = buyers[~dropped]

    ids = np.arange(1, n + 1)
    summary = pd.DataFrame(
        {
            "customer_id": ids,
            "frequency": frequency.astype(np.float64),
            "recency": last_period.astype(np.float64),
            "T": ages.astype(np.float64),
            "monetary_value": np.divide(
                repeat_value, frequency, out=np.zeros(n), where=frequency > 0
            ),
        }
    )
    truth = pd.DataFrame(
        {
            "customer_id": ids,
            "purchase_rate": 1 / wait,
            "dropout_probability": dropout,
            "mean_spend": p * spend_scale,
            "alive": alive,
        }
    )
    log_frame = None
    if events:
        birth_us = end_us - ages * step
        who = np.concatenate([np.arange(n), *(rows for rows, _, _ in log)])
        when = np.concatenate([np.zeros(n, dtype=np.int64), *(at for _, at, _ in log)])
        worth = np.concatenate([first_value, *(value for _, _, value in log)])
        order = np.lexsort((when, who))
        who, when = who[order], when[order]
        log_frame = pd.DataFrame(
            {
                "customer_id": ids[who],
                "timestamp": pd.to_datetime(birth_us[who] + when, unit="us", utc=True),
                "event": pd.Series("purchase", index=range(len(who)), dtype="str"),
                "value": worth[order],
            }
        )
    return BuyerSimulation(
        summary=summary,
        truth=truth,
        events=log_frame,
        observation_end=pd.Timestamp(EPOCH) + pd.Timedelta(microseconds=end_us),
        period=period,
        parameters={k: float(v) for k, v in parameters.items()},
    )


def _ages(T: int | ArrayLike, n: int) -> np.ndarray:
    ages = np.asarray(T)
    if ages.ndim == 0:
        ages = np.full(n, ages)
    if (
        ages.shape != (n,)
        or not np.issubdtype(ages.dtype, np.number)
        or not np.isfinite(ages).all()
        or (ages < 0).any()
        or (ages != np.floor(ages)).any()
    ):
        raise JourneyParameterError(
            f"T must be one whole number of periods >= 0 or {n} of them; got {T!r}"[:300]
        )
    return ages.astype(np.int64)
