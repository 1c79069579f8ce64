"""Customer lifetime value: how often customers will buy, what they will spend, what that is
worth today.

:class:`BetaGeo` (BG/NBD) models repeat purchases and dropout, :class:`GammaGamma` the value
of a transaction, and :func:`customer_lifetime_value` combines them into a discounted value
per customer. All three read the output of :func:`journey_lib.rfm` and follow lifetimes'
definitions and parameterisation; :func:`simulate_buyers` draws customers from both models
with known parameters.

>>> import journey_lib as jl
>>> from journey_lib import clv
>>> sim = clv.simulate_buyers(2000, r=1.0, alpha=30.0, a=1.0, b=5.0, T=365, seed=4)
>>> purchases = clv.BetaGeo().fit(sim.summary)
>>> spend = clv.GammaGamma().fit(sim.summary)
>>> value = clv.customer_lifetime_value(purchases, spend, sim.summary, months=12, period="day")
>>> value.index.name, value.name
('customer_id', 'clv')
"""

from ..errors import JourneyNotFittedError
from .bgnbd import BetaGeo, bgnbd_log_likelihood
from .gammagamma import GammaGamma, gamma_gamma_log_likelihood
from .simulation import BuyerSimulation, simulate_buyers
from .value import PERIODS_PER_MONTH, customer_lifetime_value, value_table

__all__ = [
    "PERIODS_PER_MONTH",
    "BetaGeo",
    "BuyerSimulation",
    "GammaGamma",
    "JourneyNotFittedError",
    "bgnbd_log_likelihood",
    "customer_lifetime_value",
    "gamma_gamma_log_likelihood",
    "simulate_buyers",
    "value_table",
]
