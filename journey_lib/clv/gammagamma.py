"""The Gamma-Gamma model of spend per transaction (Fader, Hardie and Lee 2005), as lifetimes
defines it.

Each transaction of a customer is worth ``z ~ Gamma(shape p, rate nu)``, independent of the
others and of how often they buy; across customers ``nu ~ Gamma(shape q, rate v)``. A
customer's mean spend ``p / nu`` therefore averages ``p v / (q - 1)`` over the population
(finite when ``q > 1``). The model reads ``frequency`` x and ``monetary_value`` m_x, the
mean of the x repeat transactions, and ignores customers without one.

References: P. S. Fader, B. G. S. Hardie and K. L. Lee (2005), "RFM and CLV: using iso-value
curves for customer base analysis", Journal of Marketing Research 42(4), 415-430; B. G. S.
Hardie's note 025 ("The Gamma-Gamma model of monetary value").
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.special import betaln, digamma

from ..errors import JourneyDataError
from ._common import (
    Model,
    check_params,
    check_penalizer,
    customer_label,
    maximise,
    read_histories,
    standard_errors,
)

__all__ = ["GammaGamma", "gamma_gamma_log_likelihood"]

PARAMS = ("p", "q", "v")
COLUMNS = ("frequency", "monetary_value")


def gamma_gamma_log_likelihood(
    frequency: ArrayLike, monetary_value: ArrayLike, *, p: float, q: float, v: float
) -> np.ndarray:
    """Each repeat buyer's Gamma-Gamma log-likelihood of their mean spend.

    Definitions
    -----------
    The density of the mean ``m`` of ``x`` transactions (Hardie's note 025, equation 1a)::

        log f(m | x) = log Gamma(p x + q) - log Gamma(p x) - log Gamma(q) + q log v
                       + (p x - 1) log m + p x log x - (p x + q) log(v + x m)

    Parameters
    ----------
    frequency, monetary_value : array_like
        Repeat purchases (> 0) and their mean value (> 0); not checked here.
    p, q, v : float
        Model parameters, all positive.

    Returns
    -------
    numpy.ndarray
        ``log f`` per customer.

    Examples
    --------
    >>> gamma_gamma_log_likelihood([1, 4], [20.0, 35.5], p=6.25, q=3.74, v=15.44).round(3)
    array([-3.594, -4.074])
    """
    x, m = (np.asarray(c, dtype=np.float64) for c in (frequency, monetary_value))
    px = p * x
    return (
        -betaln(px, q)
        + q * np.log(v)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(v + x * m)
    )


class GammaGamma(Model):
    """The Gamma-Gamma spend model, fitted by maximum likelihood to :func:`journey_lib.rfm`
    output.

    Definitions
    -----------
    See :mod:`journey_lib.clv.gammagamma`. The fit uses the customers with ``frequency > 0``
    and maximises :func:`gamma_gamma_log_likelihood` summed over them, minus
    ``penalizer_coef`` times their number times ``p^2 + q^2 + v^2`` (lifetimes'
    ``GammaGammaFitter`` objective), by L-BFGS-B on the log-parameters with the analytic
    gradient. The model assumes spend is independent of purchase frequency: check that the
    two are not correlated among repeat buyers before relying on it.

    Parameters
    ----------
    penalizer_coef : float, default 0
        L2 penalty on the parameters, as lifetimes' ``penalizer_coef``.

    Attributes
    ----------
    params_ : pandas.Series
        ``p``, ``q``, ``v`` (``v`` in the currency of ``monetary_value``).
    standard_errors_ : pandas.Series
        Asymptotic standard errors of ``params_`` (NaN if the likelihood is flat).
    log_likelihood_ : float
        Total (not mean) log-likelihood of the repeat buyers' mean spends, no penalty.
    mean_spend_ : float
        The population's mean spend per transaction, ``p v / (q - 1)``; infinite when
        ``q <= 1``.
    n_customers_ : int
        Repeat buyers fitted.

    Notes
    -----
    The frame may come from any engine; it is collected into memory. Predictions are pandas
    Series indexed by ``customer_id``.

    Examples
    --------
    >>> from journey_lib.clv import simulate_buyers
    >>> sim = simulate_buyers(3000, r=2.0, alpha=20.0, a=1.0, b=9.0, p=6.0, q=4.0, v=15.0,
    ...                       T=200, seed=1)
    >>> spend = GammaGamma().fit(sim.summary)
    >>> round(spend.mean_spend_)  # the truth is p v / (q - 1) = 6 * 15 / 3 = 30
    31
    """

    def __init__(self, penalizer_coef: float = 0.0) -> None:
        self.penalizer_coef = check_penalizer(penalizer_coef)

    def fit(self, rfm_frame: Any) -> GammaGamma:
        """Estimate ``p``, ``q``, ``v`` from the repeat buyers' mean spend.

        Parameters
        ----------
        rfm_frame : DataFrame
            ``customer_id``, ``frequency``, ``monetary_value`` per customer, as
            :func:`journey_lib.rfm` gives them (any engine). Customers with ``frequency``
            0 are kept for prediction and not used in the fit.

        Returns
        -------
        GammaGamma
            ``self``, fitted.

        Raises
        ------
        JourneyDataError
            For a missing column, an empty frame, missing or fractional values, a repeated
            ``customer_id``, a zero or negative ``monetary_value`` of a customer with
            repeat purchases, or no repeat buyer at all.
        JourneyError
            When the optimiser fails to converge.
        """
        customers = read_histories(rfm_frame, COLUMNS)
        x, m = (customers.groups[c] for c in COLUMNS)
        repeat = x > 0
        if not repeat.any():
            raise JourneyDataError(
                "no customer in the RFM frame has a repeat purchase (every frequency is 0): "
                "Gamma-Gamma learns spend from the repeat purchases' mean value, so it "
                "cannot be fitted"
            )
        x, m, weight = x[repeat], m[repeat], customers.weight[repeat]
        log_likelihood = _Likelihood(x, m, weight)
        # Start at p = 1, q = 2, v = the mean spend (the population mean matches the data),
        # so the currency's scale does not matter.
        start = np.log([1.0, 2.0, float(weight @ m / weight.sum())])
        theta = maximise(
            log_likelihood,
            start,
            PARAMS,
            customers=weight.sum(),
            penalizer_coef=self.penalizer_coef,
            model="Gamma-Gamma",
        )
        self.params_ = pd.Series(np.exp(theta), index=list(PARAMS), name="Gamma-Gamma")
        self.standard_errors_ = pd.Series(
            standard_errors(log_likelihood, theta, PARAMS, "Gamma-Gamma"),
            index=list(PARAMS),
            name="se",
        )
        self.log_likelihood_ = log_likelihood(theta)[0]
        self.n_customers_ = int(weight.sum())
        self._fitted = customers
        return self

    @classmethod
    def from_params(cls, *, p: float, q: float, v: float) -> GammaGamma:
        """A model with given parameters (published, or a simulation's truth), not fitted:
        it predicts for the customers of an ``rfm_frame`` passed to its methods.

        Examples
        --------
        >>> GammaGamma.from_params(p=6.25, q=3.74, v=15.44).mean_spend_.round(2)
        np.float64(35.22)
        """
        model = cls()
        model.params_ = check_params({"p": p, "q": q, "v": v}, "Gamma-Gamma")
        return model

    @property
    def mean_spend_(self) -> np.float64:
        """The population's mean spend per transaction, ``p v / (q - 1)``; infinite when
        ``q <= 1``."""
        p, q, v = self.params_.to_numpy()  # raises JourneyNotFittedError when unfitted
        return p * v / (q - 1) if q > 1 else np.float64(np.inf)

    def conditional_expected_average_profit(self, rfm_frame: Any = None) -> pd.Series:
        """Each customer's expected spend per future transaction, given their history.

        Definitions
        -----------
        ``E[M | p, q, v, x, m_x] = p (v + x m_x) / (p x + q - 1)``: the weighted average
        ``(q - 1) / (p x + q - 1) * mean_spend_ + p x / (p x + q - 1) * m_x`` of the
        population's mean spend and the customer's own mean. Customers with ``frequency``
        0 get the population's mean spend ``p v / (q - 1)`` (their ``monetary_value`` is
        not read). The result is revenue in the currency of ``monetary_value``; apply a
        margin for profit.

        Parameters
        ----------
        rfm_frame : DataFrame, optional
            Customers to score (``customer_id``, ``frequency``, ``monetary_value``); the
            fitted customers by default.

        Returns
        -------
        pandas.Series
            ``expected_spend`` per customer, indexed by ``customer_id``.

        Raises
        ------
        JourneyDataError
            For bad input as in :meth:`fit`, or when the fitted ``q`` makes the expectation
            infinite for some customers (``p x + q <= 1``; with ``q <= 1`` the population's
            mean spend is infinite, so customers without a repeat purchase have none).
        """
        customers = self._histories(rfm_frame, COLUMNS)
        x, m = (customers.groups[c] for c in COLUMNS)
        p, q, v = self.params_.to_numpy()
        denominator = p * x + q - 1
        infinite = denominator <= 0
        if infinite.any():
            count = int(customers.weight[infinite].sum())
            first = int(np.argmax(infinite[customers.inverse]))
            example = customer_label(customers.ids, first)
            raise JourneyDataError(
                f"the fitted Gamma-Gamma q = {q:.3g} makes the expected spend infinite for "
                f"{count:,} customers with p x + q <= 1, e.g. {example} "
                f"(frequency {x[customers.inverse[first]]:g}): spend is too heavy-tailed for "
                f"this model"
            )
        values = p * (v + x * m * (x > 0)) / denominator
        return customers.spread(values, "expected_spend")

    def __repr__(self) -> str:
        if "params_" not in self.__dict__:
            return f"GammaGamma(penalizer_coef={self.penalizer_coef:g})"
        shown = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
        fitted = f"; {self.n_customers_:,} repeat buyers" if self._fitted is not None else ""
        return f"GammaGamma({shown}{fitted})"


class _Likelihood:
    """Total log-likelihood of weighted distinct (x, m) and its gradient in the
    log-parameters. Terms in ``x`` alone are summed per distinct ``x``; the terms linear in
    ``p`` are constants; only ``log(v + x m)`` needs one value per distinct history."""

    def __init__(self, x: np.ndarray, m: np.ndarray, weight: np.ndarray):
        self.customers = weight.sum()
        self.xs, at = np.unique(x, return_inverse=True)
        self.x_weight = np.bincount(at, weight)
        # (p x - 1) log m + p x log x = p * sum(x log(x m)) - sum(log m)
        self.linear = float(weight @ (x * np.log(x * m)))
        self.constant = -float(weight @ np.log(m))
        self.x, self.total, self.weight = x, x * m, weight

    def __call__(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        p, q, v = np.exp(theta)
        n, xs, n_x = self.customers, self.xs, self.x_weight
        log_spend = np.log(v + self.total)
        shape = p * self.x + q  # p x + q per history
        # betaln(p x, q) is log Gamma(p x) + log Gamma(q) - log Gamma(p x + q), computed
        # without the cancellation of the three terms when p x is large.
        ll = (
            -n_x @ betaln(p * xs, q)
            + n * q * np.log(v)
            + p * self.linear
            + self.constant
            - (self.weight * shape) @ log_spend
        )
        psi = digamma(p * xs + q)
        d_p = n_x @ (xs * (psi - digamma(p * xs))) + self.linear
        d_p -= (self.weight * self.x) @ log_spend
        d_q = n_x @ psi - n * (digamma(q) - np.log(v)) - self.weight @ log_spend
        d_v = n * q / v - (self.weight * shape) @ (1 / (v + self.total))
        return float(ll), np.array([d_p * p, d_q * q, d_v * v])
