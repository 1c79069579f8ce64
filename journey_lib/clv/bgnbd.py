"""The BG/NBD model of repeat buying (Fader, Hardie and Lee 2005), as lifetimes defines it.

While alive, a customer buys as a Poisson process of rate ``lambda``; after every repeat
purchase they drop out for good with probability ``p``. Across customers ``lambda`` is gamma
distributed with shape ``r`` and rate ``alpha`` (mean ``r / alpha``) and ``p`` is beta
distributed with parameters ``a`` and ``b`` (mean ``a / (a + b)``). A customer's history is
their ``frequency`` x (repeat purchases), ``recency`` t_x (age at the last one) and ``T``
(age now), in periods of one length; ``alpha`` is in those periods.

Everything is computed in log space (``gammaln``, ``betaln``, ``logaddexp``, ``log1p``), so
tenures of tens of thousands of periods and customers with thousands of purchases neither
overflow nor warn.

References: P. S. Fader, B. G. S. Hardie and K. L. Lee (2005), "Counting your customers the
easy way: an alternative to the Pareto/NBD model", Marketing Science 24(2), 275-284; B. G. S.
Hardie's notes 004 (the likelihood) and 021 (P(alive)).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.special import betaln, digamma, expit, gammaln

from ..errors import JourneyDataError, JourneyParameterError
from ._alive import conditional_expected_purchases, log_odds_dead
from ._common import (
    HISTORY,
    Model,
    check_params,
    check_penalizer,
    maximise,
    read_histories,
    standard_errors,
)

__all__ = ["BetaGeo", "bgnbd_log_likelihood"]

PARAMS = ("r", "alpha", "a", "b")


def bgnbd_log_likelihood(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    *,
    r: float,
    alpha: float,
    a: float,
    b: float,
) -> np.ndarray:
    """Each customer's BG/NBD log-likelihood, computed in log space.

    Definitions
    -----------
    For a customer with ``x`` repeat purchases, the last at age ``t_x``, observed to age
    ``T`` (Fader, Hardie and Lee 2005, equation 6)::

        L = B(a, b + x) / B(a, b) * Gamma(r + x) alpha^r / (Gamma(r) (alpha + T)^(r + x))
            + [x > 0] B(a + 1, b + x - 1) / B(a, b)
                      * Gamma(r + x) alpha^r / (Gamma(r) (alpha + t_x)^(r + x))

    returned as ``log L``: the second term enters through ``logaddexp``, so neither term is
    ever formed on its own. It is a density in the time unit of ``recency`` and ``T``.

    Parameters
    ----------
    frequency, recency, T : array_like
        Histories as :func:`journey_lib.rfm` gives them (not checked here).
    r, alpha, a, b : float
        Model parameters, all positive.

    Returns
    -------
    numpy.ndarray
        ``log L`` per customer.

    Examples
    --------
    >>> ll = bgnbd_log_likelihood([0, 2], [0, 30.43], [38.86, 38.86],
    ...                           r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> ll.round(3).tolist()
    [-0.555, -9.459]
    """
    x, tx, age = (np.asarray(v, dtype=np.float64) for v in (frequency, recency, T))
    ll = (
        gammaln(r + x)
        - gammaln(r)
        + r * np.log(alpha)
        + betaln(a, b + x)
        - betaln(a, b)
        - (r + x) * np.log(alpha + age)
    )
    return ll + np.where(x > 0, np.logaddexp(0.0, log_odds_dead(r, alpha, a, b, x, tx, age)), 0.0)


class BetaGeo(Model):
    """The BG/NBD model, fitted by maximum likelihood to :func:`journey_lib.rfm` output.

    Definitions
    -----------
    The model is described in :mod:`journey_lib.clv.bgnbd`: purchase rates
    ``lambda ~ Gamma(shape r, rate alpha)``, dropout probabilities ``p ~ Beta(a, b)``, a
    dropout chance after every repeat purchase. The fit maximises the total log-likelihood
    (:func:`bgnbd_log_likelihood` summed over customers) minus ``penalizer_coef`` times the
    number of customers times ``r^2 + alpha'^2 + a^2 + b^2``, where ``alpha'`` is ``alpha``
    in units of the longest ``T``: exactly lifetimes' ``BetaGeoFitter`` objective.
    Customers with the same (frequency, recency, T) are one term with a weight, and the
    optimiser is L-BFGS-B on the log-parameters with the analytic gradient.

    Parameters
    ----------
    penalizer_coef : float, default 0
        L2 penalty on the parameters, as lifetimes' ``penalizer_coef``; 0 is maximum
        likelihood. A small value (0.001 to 0.1) tames fits on little data.

    Attributes
    ----------
    params_ : pandas.Series
        ``r``, ``alpha`` (in the frame's time unit), ``a``, ``b``.
    standard_errors_ : pandas.Series
        Asymptotic standard errors of ``params_`` (inverse observed information; NaN if the
        likelihood is flat in some direction).
    log_likelihood_ : float
        The total (not the mean) log-likelihood of the fitted customers at ``params_``, in
        the frame's time unit, without the penalty.
    n_customers_ : int
        Customers fitted.

    Notes
    -----
    The frame may come from any engine (pandas, Polars, DuckDB, ...): it is collected into
    memory, since the fit needs every customer at once. Predictions are pandas Series
    indexed by ``customer_id``, for the fitted customers or those of another frame.
    Customers without a repeat purchase are modelled as they are (they cannot have dropped
    out yet); a frame where nobody bought twice cannot be fitted.

    The model is continuous in time, while :func:`journey_lib.rfm` counts whole periods:
    recency is rounded down and purchases within one period merge. Where periods are long
    next to the gaps between purchases this biases the estimates: in our simulations
    ``alpha`` came out about 6% high with daily periods and ``alpha`` = 20 days, and 38% high
    with weekly periods and ``alpha`` = 4 weeks. Use the finest ``period`` the data supports.

    Examples
    --------
    20,000 simulated customers, observed for 1,000 hours each:

    >>> import pandas as pd
    >>> from journey_lib.clv import simulate_buyers
    >>> sim = simulate_buyers(20_000, r=0.25, alpha=100.0, a=0.8, b=2.5, T=1000,
    ...                       period="hour", seed=4)
    >>> model = BetaGeo().fit(sim.summary)
    >>> pd.DataFrame({"truth": sim.parameters, "estimate": model.params_,
    ...               "se": model.standard_errors_}).dropna().round(2)
            truth  estimate    se
    a        0.80      0.77  0.05
    alpha  100.00     98.95  2.63
    b        2.50      2.30  0.18
    r        0.25      0.25  0.00
    >>> model.probability_alive().head(3).round(3)
    customer_id
    1    0.022
    2    0.701
    3    0.528
    Name: probability_alive, dtype: float64
    """

    def __init__(self, penalizer_coef: float = 0.0) -> None:
        self.penalizer_coef = check_penalizer(penalizer_coef)

    def fit(self, rfm_frame: Any) -> BetaGeo:
        """Estimate ``r``, ``alpha``, ``a``, ``b`` from customers' histories.

        Parameters
        ----------
        rfm_frame : DataFrame
            ``customer_id``, ``frequency``, ``recency``, ``T`` per customer (other columns
            are ignored), as :func:`journey_lib.rfm` gives them; any engine.

        Returns
        -------
        BetaGeo
            ``self``, fitted.

        Raises
        ------
        JourneyDataError
            For a missing column, an empty frame, missing, negative or fractional values,
            ``recency`` above ``T``, repeated ``customer_id``, or no repeat purchase at all.
        JourneyError
            When the optimiser fails to converge.
        """
        customers = read_histories(rfm_frame, HISTORY)
        x, tx, T = (customers.groups[c] for c in HISTORY)
        weight = customers.weight
        if not (x > 0).any():
            raise JourneyDataError(
                "no customer in the RFM frame has a repeat purchase (every frequency is 0): "
                "BG/NBD learns dropout from repeat buyers, so it cannot be fitted; use a "
                "longer history"
            )
        if T.max() <= 0:
            raise JourneyDataError(
                "every customer in the RFM frame has T = 0 (first purchase in the last period): "
                "there is no time in which to observe buying"
            )
        # Time in units of the longest age, as lifetimes scales it: the start point then
        # suits any unit, and the penalty means what it means in lifetimes.
        scale = 1.0 / T.max()
        log_likelihood = _Likelihood(x, tx * scale, T * scale, weight)
        unscale = np.array([1.0, 1.0 / scale, 1.0, 1.0])
        theta = maximise(
            log_likelihood,
            np.full(4, 0.1),
            PARAMS,
            customers=weight.sum(),
            penalizer_coef=self.penalizer_coef,
            model="BG/NBD",
            unscale=unscale,
        )
        self.params_ = pd.Series(np.exp(theta) * unscale, index=list(PARAMS), name="BG/NBD")
        self.standard_errors_ = pd.Series(
            standard_errors(log_likelihood, theta, PARAMS, "BG/NBD", unscale) * unscale,
            index=list(PARAMS),
            name="se",
        )
        # Both terms of L carry alpha^r / (alpha + t)^(r + x): in scaled time each is
        # scale^-x times the original, so the unscaled log-likelihood adds x log(scale).
        self.log_likelihood_ = float(log_likelihood(theta)[0] + np.log(scale) * float(weight @ x))
        self.n_customers_ = len(customers.ids)
        self._fitted = customers
        return self

    @classmethod
    def from_params(cls, *, r: float, alpha: float, a: float, b: float) -> BetaGeo:
        """A model with given parameters (published, or a simulation's truth), not fitted:
        it predicts for the customers of an ``rfm_frame`` passed to its methods.

        Examples
        --------
        >>> cdnow = BetaGeo.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
        >>> round(cdnow.expected_purchases_new(52), 3)
        1.446
        """
        model = cls()
        model.params_ = check_params({"r": r, "alpha": alpha, "a": a, "b": b}, "BG/NBD")
        return model

    def probability_alive(self, rfm_frame: Any = None) -> pd.Series:
        """The probability that each customer has not dropped out by their age ``T``.

        Definitions
        -----------
        ``P(alive | x, t_x, T) = 1 / (1 + [x > 0] a / (b + x - 1) * ((alpha + T) /
        (alpha + t_x))^(r + x))`` (Hardie's note 021), evaluated as a logistic function of
        the log-odds. Customers without a repeat purchase are alive for certain: in BG/NBD
        dropout can only follow a repeat purchase.

        Parameters
        ----------
        rfm_frame : DataFrame, optional
            Customers to score (``customer_id``, ``frequency``, ``recency``, ``T``); the
            fitted customers by default.

        Returns
        -------
        pandas.Series
            ``probability_alive`` in [0, 1], indexed by ``customer_id`` in the frame's order.
        """
        customers = self._histories(rfm_frame, HISTORY)
        x, tx, T = (customers.groups[c] for c in HISTORY)
        r, alpha, a, b = self.params_.to_numpy()
        alive = np.where(x > 0, expit(-log_odds_dead(r, alpha, a, b, x, tx, T)), 1.0)
        return customers.spread(alive, "probability_alive")

    def expected_purchases(self, t: float, rfm_frame: Any = None) -> pd.Series:
        """Each customer's expected number of repeat purchases in the next ``t`` periods.

        Definitions
        -----------
        ``E[X(T, T + t] | x, t_x, T]``, lifetimes'
        ``conditional_expected_number_of_purchases_up_to_time`` (Fader, Hardie and Lee
        2005, equation 10)::

            (a + b + x - 1) / (a - 1)
            * [1 - ((alpha + T) / (alpha + T + t))^(r + x) 2F1(r + x, b + x; a + b + x - 1; z)]
            * P(alive | x, t_x, T),          z = t / (alpha + T + t)

        The hypergeometric term is evaluated after Euler's transformation as
        ``(1 - z)^(a - 1) 2F1(a + b - 1 - r, a - 1; a + b + x - 1; z)``, whose series
        converges fast however large ``x`` is and never overflows. Where SciPy's ``hyp2f1``
        still returns NaN (a new customer, a long horizon, rare dropout) the expectation is
        integrated numerically instead, so the answer is never NaN.

        Parameters
        ----------
        t : float
            Length of the future window, in the frame's time unit, >= 0.
        rfm_frame : DataFrame, optional
            Customers to score; the fitted customers by default.

        Returns
        -------
        pandas.Series
            ``expected_purchases`` per customer, indexed by ``customer_id``.
        """
        t = _window(t)
        customers = self._histories(rfm_frame, HISTORY)
        x, tx, T = (customers.groups[c] for c in HISTORY)
        values = conditional_expected_purchases(self.params_.to_numpy(), t, x, tx, T)
        return customers.spread(values, "expected_purchases")

    def expected_purchases_new(self, t: ArrayLike) -> float | np.ndarray:
        """Expected repeat purchases of a new customer in their first ``t`` periods.

        Definitions
        -----------
        ``E[X(t)] = (a + b - 1) / (a - 1) * [1 - (alpha / (alpha + t))^r
        2F1(r, b; a + b - 1; t / (alpha + t))]`` (Fader, Hardie and Lee 2005, equation 9):
        the conditional expectation of a customer with no history (x = t_x = T = 0),
        evaluated the same safe way.

        Parameters
        ----------
        t : float or array_like
            Ages, in the frame's time unit, >= 0.

        Returns
        -------
        float or numpy.ndarray
            A float for a scalar ``t``, else an array of ``t``'s shape.
        """
        params = self.params_.to_numpy()  # raises JourneyNotFittedError when unfitted
        ages = np.asarray(t, dtype=np.float64)
        if not (np.isfinite(ages) & (ages >= 0)).all():
            raise JourneyParameterError(f"t must be finite and >= 0; got {t!r}")
        zero = np.zeros_like(ages)
        values = conditional_expected_purchases(params, ages, zero, zero, zero)
        return float(values) if values.ndim == 0 else values

    def __repr__(self) -> str:
        if "params_" not in self.__dict__:
            return f"BetaGeo(penalizer_coef={self.penalizer_coef:g})"
        shown = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
        fitted = f"; {self.n_customers_:,} customers" if self._fitted is not None else ""
        return f"BetaGeo({shown}{fitted})"


def _window(t: Any) -> float:
    if isinstance(t, bool) or not isinstance(t, int | float | np.number) or not 0 <= t < np.inf:
        raise JourneyParameterError(f"t must be a number of periods >= 0; got {t!r}")
    return float(t)


#: Frequencies summed term by term in the likelihood (see :class:`_Likelihood`).
RUNNING = 10_000


class _Likelihood:
    """Total log-likelihood of weighted distinct histories and its gradient in the
    log-parameters, as one pass over the data.

    What depends on ``x`` alone (the gamma and beta functions) is summed per distinct
    ``x``, and ``-(r + x) log(alpha + T)`` per distinct ``T``; only the dropout term needs
    one value per distinct history with a repeat purchase.

    ``x`` is whole, so ``log Gamma(z + x) - log Gamma(z)`` is the sum of ``log(z + k)`` over
    ``k < x``, taken as running sums up to the largest ``x`` (at most :data:`RUNNING`
    terms; beyond, a difference of ``gammaln`` adds the rest): differences of ``gammaln``
    from ``z`` lose their precision where the parameters are large (about 1e-8 of the mean
    log-likelihood at ``a`` near 1e7), which is where they run when the data holds no
    dropout, and a likelihood that noisy stalls the optimiser on whichever last digits the
    machine's arithmetic gives.
    """

    def __init__(self, x: np.ndarray, tx: np.ndarray, T: np.ndarray, weight: np.ndarray):
        self.customers = weight.sum()
        xs, at = np.unique(x, return_inverse=True)
        self.x_weight = np.bincount(at, weight)
        # Into running sums over k = 0, 1, ..., RUNNING - 1; frequencies beyond add a tail.
        self.x_index = np.minimum(xs, RUNNING).astype(np.intp)
        self.k = np.arange(self.x_index[-1], dtype=float)
        self.beyond = np.flatnonzero(xs > RUNNING)
        self.x_beyond = xs[self.beyond]
        self.ages, at = np.unique(T, return_inverse=True)
        self.age_weight = np.bincount(at, weight)
        self.age_purchases = np.bincount(at, weight * x)
        repeat = x > 0
        self.x, self.tx, self.weight = x[repeat], tx[repeat], weight[repeat]
        self.gap = T[repeat] - self.tx  # periods since the last purchase
        self.T = T[repeat]

    def __call__(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        r, alpha, a, b = np.exp(theta)
        n_x = self.x_weight
        n_T, x_T, log_ages = self.age_weight, self.age_purchases, np.log(alpha + self.ages)
        k = self.k

        def upto(terms: np.ndarray, tail: Any) -> np.ndarray:
            """Sums of ``terms`` over k < x, for each distinct x; ``tail(f)`` is
            ``f(z + x) - f(z + RUNNING)`` summed alike, for the x beyond RUNNING."""
            sums = np.concatenate(([0.0], np.cumsum(terms)))[self.x_index]
            if len(self.beyond):
                sums[self.beyond] += tail(self.x_beyond) - tail(RUNNING)
            return sums

        # log Gamma(r + x) / Gamma(r) and log B(a, b + x) / B(a, b), and their derivatives.
        ll = n_x @ (
            upto(np.log(r + k), lambda x: gammaln(r + x))
            - upto(np.log1p(a / (b + k)), lambda x: gammaln(a + b + x) - gammaln(b + x))
        )
        ll += self.customers * r * np.log(alpha) - (r * n_T + x_T) @ log_ages
        d_r = n_x @ upto(1 / (r + k), lambda x: digamma(r + x))
        d_r += self.customers * np.log(alpha) - n_T @ log_ages
        d_alpha = self.customers * r / alpha - (r * n_T + x_T) @ (1 / (alpha + self.ages))
        d_a = -(n_x @ upto(1 / (a + b + k), lambda x: digamma(a + b + x)))
        d_b = n_x @ upto(a / ((b + k) * (a + b + k)), lambda x: digamma(b + x) - digamma(a + b + x))

        # Dropout term of the repeat buyers: log(1 + e^D), D the log-odds of being dead.
        x, w = self.x, self.weight
        growth = np.log1p(self.gap / (alpha + self.tx))  # log((alpha + T) / (alpha + t_x))
        dead = np.log(a) - np.log(b + x - 1) + (r + x) * growth
        ll += w @ np.logaddexp(0.0, dead)
        share = w * expit(dead)
        d_r += share @ growth
        d_alpha -= share @ ((r + x) * self.gap / ((alpha + self.T) * (alpha + self.tx)))
        d_a += share.sum() / a
        d_b -= share @ (1 / (b + x - 1))
        grad = np.array([d_r * r, d_alpha * alpha, d_a * a, d_b * b])
        return float(ll), grad
