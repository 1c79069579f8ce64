"""BG/NBD's expected purchases of a customer, and the odds that they have dropped out, safe
for any inputs.

Given x repeat purchases, an alive customer's purchase rate is ``Gamma(r + x, alpha + T)``
and their dropout probability ``Beta(a, b + x)``; the expected purchases in the next ``t``
periods are ``E[(1 - (1 + p u)^-(r + x)) / p]`` with ``u = t / (alpha + T)``. Weighted by
the probability of being alive (:func:`log_odds_dead`), that is
:func:`conditional_expected_purchases`, which :class:`~journey_lib.clv.BetaGeo` and
:func:`~journey_lib.clv.customer_lifetime_value` both read.
"""

from __future__ import annotations

import numpy as np
from scipy.special import betainc, betaln, digamma, expit, hyp2f1, polygamma


def conditional_expected_purchases(
    params: np.ndarray, t: np.ndarray | float, x: np.ndarray, tx: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """Expected repeat purchases in the next ``t`` periods of customers with ``x`` repeat
    purchases, the last at age ``tx``, now aged ``T``: :func:`purchases_if_alive` times the
    probability of being alive, broadcast over the arguments.

    ``params`` is ``r, alpha, a, b``.

    Examples
    --------
    Fader, Hardie and Lee's CDNOW customer (x = 2, t_x = 30.43, T = 38.86 weeks) expects
    1.226 purchases in the next 39 weeks:

    >>> import numpy as np
    >>> cdnow = np.array([0.243, 4.414, 0.793, 2.426])
    >>> round(float(conditional_expected_purchases(cdnow, 39.0, 2.0, 30.43, 38.86)), 3)
    1.226
    """
    r, alpha, a, b = params
    t, x, tx, T = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (t, x, tx, T)))
    alive = np.where(x > 0, expit(-log_odds_dead(r, alpha, a, b, x, tx, T)), 1.0)
    return purchases_if_alive(r, alpha, a, b, t, x, T) * alive


def log_odds_dead(
    r: float, alpha: float, a: float, b: float, x: np.ndarray, tx: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """The log-odds that a customer with a repeat purchase has dropped out: the log of the
    BG/NBD likelihood's second term over its first. Meaningless (but finite) where x = 0.

    Examples
    --------
    >>> from scipy.special import expit
    >>> # No time since the last purchase: dead only by the dropout chance after it.
    >>> float(expit(log_odds_dead(1.0, 1.0, 1.0, 3.0, 1.0, 5.0, 5.0)))
    0.25
    """
    repeats = np.maximum(x, 1.0)
    return np.log(a) - np.log(b + repeats - 1) + (r + repeats) * np.log1p((T - tx) / (alpha + tx))


def purchases_if_alive(
    r: float, alpha: float, a: float, b: float, t: np.ndarray, x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """Expected purchases in the next ``t`` periods of a customer known to be alive.

    Closed form through ``hyp2f1``. SciPy's ``hyp2f1`` returns NaN for some arguments
    (``z`` above about 0.96 with ``a + b + x`` in the hundreds: a new customer, a long
    horizon, rare dropout), and the closed form is 0/0 at ``a = 1``; there the value comes
    from :func:`purchases_if_alive_quadrature`. Every value is held to its bounds: at least
    0 and at most ``(r + x) t / (alpha + T)``, the purchases of a customer who never drops.
    """
    z = t / (alpha + T + t)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        tail = np.exp((a - 1) * np.log1p(-z)) * hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z)
        value = (a + b + x - 1) / (a - 1) * (1 - tail)
    ceiling = (r + x) * t / (alpha + T)
    bad = ~(value >= 0) | (value > ceiling * (1 + 1e-8))  # ~(>=) also catches NaN
    if bad.any():
        value = np.where(bad, 0.0, value)
        value[bad] = purchases_if_alive_quadrature(r, alpha, a, b, t[bad], x[bad], T[bad])
    return np.clip(value, 0.0, ceiling)


def purchases_if_alive_quadrature(
    r: float, alpha: float, a: float, b: float, t: np.ndarray, x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """The same expectation by integration: ``E[(1 - (1 + p u)^-(r + x)) / p]`` with
    ``u = t / (alpha + T)`` and ``p ~ Beta(a, b + x)`` (the dropout probability given x
    repeat purchases), by the trapezoidal rule in ``logit p``. The integrand there is
    smooth and decays exponentially, so the rule converges exponentially; the grid spans
    the density's bulk and left tail, in steps of at most a quarter of its spread.
    Probability below the grid, where ``p u`` is negligible, counts with its limit ``r + x``
    times ``u``. Blocks of customers keep memory bounded."""
    out = np.empty(len(t))
    for start in range(0, len(t), 1024):
        block = slice(start, start + 1024)
        beta, s = b + x[block], r + x[block]
        u = t[block] / (alpha + T[block])
        mean = digamma(a) - digamma(beta)
        spread = np.sqrt(polygamma(1, a) + polygamma(1, beta))
        bulk = mean - 8 * spread
        left = np.maximum(bulk - 40 / a, np.minimum(np.log(1e-12 / u), bulk))
        right = mean + 8 * spread + 40 / beta
        step = np.minimum(spread / 4, 0.25)
        nodes = int(np.clip(np.ceil(np.max((right - left) / step)), 400, 4000)) + 1
        grid = np.linspace(0.0, 1.0, nodes)
        eta = left[:, None] + (right - left)[:, None] * grid
        log_density = (
            a * eta - (a + beta)[:, None] * np.logaddexp(0.0, eta) - betaln(a, beta)[:, None]
        )
        pu = np.exp(-np.logaddexp(0.0, -eta) + np.log(u)[:, None])
        # (1 - (1 + pu)^-s) / (s pu), which tends to 1 as pu -> 0
        ratio = np.where(
            pu < 1e-8,
            1 - (s[:, None] + 1) * pu / 2,
            -np.expm1(-s[:, None] * np.log1p(pu)) / (s[:, None] * np.maximum(pu, 1e-300)),
        )
        weights = np.exp(log_density)
        weights[:, [0, -1]] /= 2
        inside = (weights * ratio).sum(axis=1) * (right - left) / (nodes - 1)
        below = betainc(a, beta, expit(left))
        out[block] = s * u * (inside + below)
    return out
