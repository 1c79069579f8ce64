"""Customer lifetime value: BG/NBD purchases times Gamma-Gamma spend, discounted monthly."""

from __future__ import annotations

import numpy as np
import pandas as pd
from narwhals.typing import IntoFrame

from .._engine import to_pandas
from .._time import fixed_period, period_or_freq
from ..analytics.rfm import ATTRS_KEY as RFM_ATTRS
from ..errors import JourneyParameterError
from ._alive import conditional_expected_purchases
from ._common import HISTORY, WHAT, read_histories
from .bgnbd import BetaGeo
from .gammagamma import GammaGamma

__all__ = ["PERIODS_PER_MONTH", "customer_lifetime_value"]

#: Periods of each length in a month, as lifetimes counts them (720 hours, 30 days, 4.345
#: weeks).
PERIODS_PER_MONTH: dict[str, float] = {"hour": 720.0, "day": 30.0, "week": 4.345}


def customer_lifetime_value(
    beta_geo: BetaGeo,
    gamma_gamma: GammaGamma,
    rfm_frame: IntoFrame,
    *,
    months: int = 12,
    discount_rate: float = 0.01,
    period: str | None = None,
    freq: str | None = None,
) -> pd.Series:
    """Each customer's discounted expected revenue over the next ``months`` months.

    Definitions
    -----------
    With ``P`` the periods of ``period`` in a month (:data:`PERIODS_PER_MONTH`: 30 days,
    4.345 weeks or 720 hours, as in lifetimes), ``E(t)`` the customer's expected repeat purchases
    in the next ``t`` periods (:meth:`BetaGeo.expected_purchases`) and ``s`` their expected
    spend per purchase (:meth:`GammaGamma.conditional_expected_average_profit`)::

        CLV = sum over k = 1 .. months of  s * (E(k P) - E((k - 1) P)) / (1 + discount_rate)^k

    the purchases expected in month ``k``, valued at ``s`` and discounted to today at the
    monthly rate, as lifetimes' ``GammaGammaFitter.customer_lifetime_value``. The result is
    in the currency of ``monetary_value``: revenue, unless the values were margins.

    Parameters
    ----------
    beta_geo : BetaGeo
        A fitted purchase model, in the frame's time unit.
    gamma_gamma : GammaGamma
        A fitted spend model.
    rfm_frame : DataFrame
        The customers to value: ``customer_id``, ``frequency``, ``recency``, ``T``,
        ``monetary_value``, as :func:`journey_lib.rfm` gives them (any engine; collected).
    months : int, default 12
        Horizon, in months.
    discount_rate : float, default 0.01
        Discount rate per month (0.01 is about 12.7% a year); 0 for none.
    period : {"day", "week", "hour"}, optional
        The time unit of ``recency`` and ``T`` (the ``period`` given to
        :func:`journey_lib.rfm`; pandas' ``"D"``, ``"W"``, ``"h"`` also work). By default the
        one a pandas :func:`journey_lib.rfm` result records, else ``"day"``; a ``period``
        that contradicts the recorded one is an error (a weekly history valued as daily
        would stretch the horizon sevenfold).
    freq : str, optional
        Deprecated: the former name of ``period``.

    Returns
    -------
    pandas.Series
        ``clv`` per customer, indexed by ``customer_id`` in the frame's order.

    Raises
    ------
    JourneyParameterError
        For a ``months`` that is not a positive whole number, a ``discount_rate`` at or
        below -1, an unknown ``period``, or a model that is not a BetaGeo and a GammaGamma.
    JourneyNotFittedError
        When a model is not fitted.
    JourneyDataError
        For bad input, as in :meth:`BetaGeo.fit` and :meth:`GammaGamma.fit`.

    Examples
    --------
    >>> from journey_lib.clv import BetaGeo, GammaGamma, simulate_buyers
    >>> sim = simulate_buyers(3000, r=2.0, alpha=60.0, a=1.0, b=9.0, T=300, seed=2)
    >>> purchases, spend = BetaGeo().fit(sim.summary), GammaGamma().fit(sim.summary)
    >>> value = customer_lifetime_value(purchases, spend, sim.summary, months=12)
    >>> bool(value.gt(0).all()), round(float(value.median()))
    (True, 67)
    """
    if not isinstance(beta_geo, BetaGeo) or not isinstance(gamma_gamma, GammaGamma):
        raise JourneyParameterError(
            f"customer_lifetime_value takes a BetaGeo and a GammaGamma; got "
            f"{type(beta_geo).__name__} and {type(gamma_gamma).__name__}"
        )
    if isinstance(months, bool) or not isinstance(months, int | np.integer) or months < 1:
        raise JourneyParameterError(f"months must be a whole number >= 1; got {months!r}")
    if not isinstance(discount_rate, int | float) or not -1 < discount_rate < np.inf:
        raise JourneyParameterError(
            f"discount_rate is per month and must be > -1 (0.01 is 1% a month); "
            f"got {discount_rate!r}"
        )
    params = beta_geo.params_.to_numpy()  # raises JourneyNotFittedError when unfitted
    # Collected once: a lazy frame read twice need not come back in the same order.
    frame = to_pandas(rfm_frame, what=WHAT)
    period = _time_unit(frame, period_or_freq(period, freq, default=None))
    spend = gamma_gamma.conditional_expected_average_profit(frame)
    customers = read_histories(frame, HISTORY)
    x, tx, T = (customers.groups[c] for c in HISTORY)
    ends = np.arange(months + 1) * PERIODS_PER_MONTH[period]
    # Cumulative expected purchases at every month's end, per distinct history.
    cumulative = np.stack(
        [conditional_expected_purchases(params, end, x, tx, T) for end in ends[1:]]
    )
    monthly = np.diff(cumulative, axis=0, prepend=0.0)
    discount = (1.0 + discount_rate) ** -np.arange(1, months + 1, dtype=np.float64)
    purchases = discount @ monthly
    return pd.Series(purchases[customers.inverse] * spend.to_numpy(), index=spend.index, name="clv")


def value_table(
    beta_geo: BetaGeo,
    gamma_gamma: GammaGamma,
    rfm_frame: IntoFrame,
    *,
    months: int = 12,
    discount_rate: float = 0.01,
    period: str | None = None,
    freq: str | None = None,
) -> pd.DataFrame:
    """Every customer's history beside what the models expect of them, most valuable first.

    The data twin of :func:`journey_lib.plots.customer_value`: one table holding what a
    notebook shows about customer value.

    Parameters
    ----------
    beta_geo, gamma_gamma, rfm_frame, months, discount_rate, period
        As for :func:`customer_lifetime_value`.
    freq : str, optional
        Deprecated: the former name of ``period``.

    Returns
    -------
    pandas.DataFrame
        The columns of ``rfm_frame`` (``customer_id``, ``frequency``, ``recency``, ``T``,
        ``monetary_value``), then ``probability_alive`` (:meth:`BetaGeo.probability_alive`),
        ``expected_purchases`` (repeat purchases expected over the ``months``, undiscounted),
        ``expected_spend`` (per purchase, :meth:`GammaGamma.conditional_expected_average_profit`)
        and ``clv`` (:func:`customer_lifetime_value`), sorted by ``clv``, highest first.

    Examples
    --------
    >>> from journey_lib.clv import BetaGeo, GammaGamma, simulate_buyers
    >>> sim = simulate_buyers(3000, r=2.0, alpha=60.0, a=1.0, b=9.0, T=300, seed=2)
    >>> purchases, spend = BetaGeo().fit(sim.summary), GammaGamma().fit(sim.summary)
    >>> table = value_table(purchases, spend, sim.summary, months=12)
    >>> table.columns[-4:].tolist()
    ['probability_alive', 'expected_purchases', 'expected_spend', 'clv']
    >>> bool(table["clv"].is_monotonic_decreasing)
    True
    """
    frame = to_pandas(rfm_frame, what=WHAT)  # collected once: every column in one order
    period = _time_unit(frame, period_or_freq(period, freq, default=None))
    value = customer_lifetime_value(
        beta_geo, gamma_gamma, frame, months=months, discount_rate=discount_rate, period=period
    )
    horizon = months * PERIODS_PER_MONTH[period]
    table = frame[["customer_id", *HISTORY, "monetary_value"]].assign(
        probability_alive=beta_geo.probability_alive(frame).to_numpy(),
        expected_purchases=beta_geo.expected_purchases(horizon, frame).to_numpy(),
        expected_spend=gamma_gamma.conditional_expected_average_profit(frame).to_numpy(),
        clv=value.to_numpy(),
    )
    return table.sort_values("clv", ascending=False, kind="stable", ignore_index=True)


def _time_unit(frame: pd.DataFrame, period: str | None) -> str:
    """``period`` by name, or the one ``frame`` records from :func:`journey_lib.rfm`, or
    ``"day"``. A record under the former key ``"freq"`` (a pandas code) is read too.

    Raises
    ------
    JourneyParameterError
        For an unknown ``period``, or one that contradicts the frame's record.
    """
    record = frame.attrs.get(RFM_ATTRS, {})
    recorded = record.get("period", record.get("freq"))
    recorded = None if recorded is None else fixed_period(recorded, "the recorded period")
    if period is None:
        period = recorded or "day"
    period = fixed_period(period)
    if recorded is not None and recorded != period:
        raise JourneyParameterError(
            f"period={period!r}, but this history was built by journey_lib.rfm with "
            f"period={recorded!r}: recency and T are in {recorded}s; leave period out or pass "
            f"{recorded!r}"
        )
    return period
