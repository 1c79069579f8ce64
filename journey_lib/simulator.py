"""The journey simulator: the suite's default data and its teaching ground truth.

Every customer is reached through a channel, considers, perhaps buys, and then lives through
orders whose experiences (deliveries on time or late, thank-you notes, surprise fees, support
tickets resolved or not, apologies, personalised or generic offers, unwanted calls) build or
erode trust. Trust, engagement, segment and plan set each customer's churn hazard; trust also
drives reviews and referrals. Because the process is known, the answers are too:
:class:`GroundTruth` holds every customer's true hazard path, churn time and churn
probability, and the planted effect sizes an analysis should recover.

The generative process, in the order it is simulated (times in days from ``start``):

1. **Reach.** Arrival ``a ~ Uniform(0, days)``. Acquisition channel from ``channel_mix``;
   ``1 + Poisson(extra_touches)`` marketing touches (``ad_view``, or ``referral_invite`` for
   referrals) spread over a consideration period ``D ~ Exponential(consideration_days)``, the
   first through the acquisition channel, the rest from ``channel_mix``.
2. **Consider.** ``site_visit`` (each may come with a ``product_view``), then ``signup``, then
   the first ``purchase`` at ``a + D``. Each step happens with probability
   ``sigmoid(logit(rate) + engagement_conversion * engagement)``; the purchase step also adds
   ``channel_lift`` of every distinct channel that touched the customer.
3. **Orders.** Repeat orders form a Poisson process of rate
   ``orders_per_year * exp(engagement_orders * engagement) * plan_orders[plan]``.
4. **Experiences.** Each order brings, within ``settle_days``: an ``order_update`` with
   probability *communication*, a ``thank_you`` (*care*), a ``surprise_fee`` (1 -
   *fair_treatment*), ``delivery_on_time`` or ``delivery_late`` (*keeping_promises*), a
   ``support_ticket`` (``ticket_rate``, ``ticket_rate_late`` after a late delivery) and its
   ``ticket_resolved`` (*service_quality*), an ``apology`` after a mistake (late delivery or
   unresolved ticket; *owning_mistakes*), a ``personalised_offer`` or ``generic_offer``
   (*personalisation*) and sometimes an ``unwanted_contact`` (1 - *respect*). Each
   customer's own probabilities scatter around the business's levels
   (``logit(p) = logit(level) + heterogeneity * z``): some customers are served worse.
5. **Trust.** After order *k* has settled, trust is ``1 - sum_d weight_d * bad_share_d``,
   where ``bad_share_d`` is the share of the customer's opportunities so far on driver *d*
   that went badly (tickets for service quality, mistakes for owning up, orders otherwise).
6. **Churn.** A piecewise-constant hazard per day, changing when each order settles::

       log h = log(-log(1 - base_churn) / 365) + trust_effect * (1 - trust)
               + engagement_churn * engagement + segment_churn[segment] + plan_churn[plan]

   No churn before the first order settles. The churn time is drawn exactly from that path;
   the customer leaves no touchpoint after it except, with probability
   ``cancellation_logged``, a ``cancellation``.
7. **Advocacy.** Each order gives a ``review`` (with a 1-5 ``rating``) with probability
   ``sigmoid(logit(review_rate) + advocacy_effect * (trust - 1))``; referred customers name a
   referrer drawn among earlier buyers with weight ``exp(advocacy_effect * (trust - 1))``,
   who logs a ``referral`` with ``referred_id``.
8. **Life.** While active, ``site_visit`` at ``visits_per_month * exp(engagement_visits *
   engagement)`` and a ``loyalty_reward`` on every third order for plus and premium plans.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from tqdm.auto import tqdm

from .errors import JourneyParameterError

__all__ = [
    "CHANNELS",
    "EVENTS",
    "GroundTruth",
    "Simulation",
    "SimulationParameters",
    "simulate",
]

CHANNELS: tuple[str, ...] = (
    "tv",
    "online_ads",
    "search",
    "social",
    "email",
    "referral",
    "store",
    "web",
    "app",
    "delivery",
    "support",
    "phone",
)
EVENTS: tuple[str, ...] = (
    "ad_view",
    "referral_invite",
    "site_visit",
    "product_view",
    "signup",
    "purchase",
    "order_update",
    "thank_you",
    "surprise_fee",
    "delivery_on_time",
    "delivery_late",
    "support_ticket",
    "ticket_resolved",
    "apology",
    "personalised_offer",
    "generic_offer",
    "unwanted_contact",
    "loyalty_reward",
    "review",
    "referral",
    "cancellation",
)
MARKETING_CHANNELS: tuple[str, ...] = CHANNELS[:7]
TRUST_DRIVERS: tuple[str, ...] = (
    "communication",
    "care",
    "fair_treatment",
    "personalisation",
    "owning_mistakes",
    "keeping_promises",
    "respect",
    "service_quality",
)
SEGMENTS: tuple[str, ...] = ("consumer", "small_business", "enterprise")
PLANS: tuple[str, ...] = ("basic", "plus", "premium")
REGIONS: tuple[str, ...] = ("north", "south", "east", "west")

_EV = {name: code for code, name in enumerate(EVENTS)}
_CH = {name: code for code, name in enumerate(CHANNELS)}
_SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class SimulationParameters:
    """Every knob of the simulator, with its default. Pass any of them to :func:`simulate`.

    Trust levels are the probability that the business gets one opportunity right:
    """

    # Trust drivers: how often the business gets it right.
    communication: float = 0.7  #: P(an order gets a proactive ``order_update``)
    care: float = 0.6  #: P(an order gets a ``thank_you``)
    fair_treatment: float = 0.9  #: P(an order has no ``surprise_fee``)
    personalisation: float = 0.5  #: P(the follow-up offer is personalised)
    owning_mistakes: float = 0.5  #: P(a mistake is followed by an ``apology``)
    keeping_promises: float = 0.85  #: P(a delivery is on time)
    respect: float = 0.9  #: P(an order brings no ``unwanted_contact``)
    service_quality: float = 0.8  #: P(a support ticket is resolved)
    #: Weight of each driver in trust; they sum to 1 (re-normalised when changed).
    trust_weights: Mapping[str, float] = field(
        default_factory=lambda: {
            "keeping_promises": 0.25,
            "service_quality": 0.2,
            "fair_treatment": 0.15,
            "respect": 0.1,
            "owning_mistakes": 0.1,
            "communication": 0.08,
            "care": 0.07,
            "personalisation": 0.05,
        }
    )
    #: Spread of customers' own probabilities around the levels, on the logit scale.
    heterogeneity: float = 1.0
    # Churn.
    base_churn: float = 0.3  #: yearly churn probability at full trust, baseline everything
    trust_effect: float = 6.0  #: log hazard ratio of trust 0 against trust 1
    engagement_churn: float = -0.8  #: log hazard ratio per standard deviation of engagement
    segment_churn: Mapping[str, float] = field(
        default_factory=lambda: {"consumer": 0.0, "small_business": -0.3, "enterprise": -0.6}
    )
    plan_churn: Mapping[str, float] = field(
        default_factory=lambda: {"basic": 0.0, "plus": -0.2, "premium": -0.4}
    )
    cancellation_logged: float = 0.5  #: P(a churning customer logs a ``cancellation``)
    # Advocacy.
    advocacy_effect: float = 4.0  #: log odds ratio of a review (referral weight) per unit trust
    review_rate: float = 0.15  #: P(a review per order) at full trust
    # Acquisition.
    channel_mix: Mapping[str, float] = field(
        default_factory=lambda: {
            "tv": 0.15,
            "online_ads": 0.2,
            "search": 0.2,
            "social": 0.15,
            "email": 0.1,
            "referral": 0.1,
            "store": 0.1,
        }
    )
    #: Added to the purchase log odds for every distinct channel that touched the customer.
    channel_lift: Mapping[str, float] = field(
        default_factory=lambda: {
            "tv": 0.2,
            "online_ads": 0.3,
            "search": 0.6,
            "social": 0.1,
            "email": 0.4,
            "referral": 0.8,
            "store": 0.5,
        }
    )
    extra_touches: float = 1.5  #: mean marketing touches after the first
    consideration_days: float = 7.0  #: mean days from first touch to decision
    visit_rate: float = 0.7  #: P(a reached customer visits the site)
    signup_rate: float = 0.6  #: P(a visitor signs up)
    purchase_rate: float = 0.35  #: P(a sign-up buys), before channel lifts
    engagement_conversion: float = 0.5  #: log odds per SD of engagement, each funnel step
    segment_mix: Mapping[str, float] = field(
        default_factory=lambda: {"consumer": 0.7, "small_business": 0.2, "enterprise": 0.1}
    )
    # Life as a customer.
    orders_per_year: float = 5.0
    engagement_orders: float = 0.4  #: log rate ratio per SD of engagement
    plan_orders: Mapping[str, float] = field(
        default_factory=lambda: {"basic": 1.0, "plus": 1.3, "premium": 1.6}
    )
    visits_per_month: float = 3.0
    engagement_visits: float = 0.5
    ticket_rate: float = 0.08  #: P(a support ticket) after an on-time delivery
    ticket_rate_late: float = 0.5  #: P(a support ticket) after a late delivery
    settle_days: float = 14.0  #: every experience of an order is logged within this

    def __post_init__(self) -> None:
        for name in (
            *TRUST_DRIVERS,
            "base_churn",
            "cancellation_logged",
            "review_rate",
            "visit_rate",
            "signup_rate",
            "purchase_rate",
            "ticket_rate",
            "ticket_rate_late",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise JourneyParameterError(
                    f"{name} must be a probability in [0, 1], got {value!r}"
                )
        for name in (
            "orders_per_year",
            "visits_per_month",
            "extra_touches",
            "consideration_days",
            "settle_days",
            "heterogeneity",
        ):
            if getattr(self, name) < 0:
                raise JourneyParameterError(f"{name} must be >= 0, got {getattr(self, name)!r}")
        _check_keys("trust_weights", self.trust_weights, TRUST_DRIVERS)
        _check_keys("segment_churn", self.segment_churn, SEGMENTS)
        _check_keys("segment_mix", self.segment_mix, SEGMENTS)
        _check_keys("plan_churn", self.plan_churn, PLANS)
        _check_keys("plan_orders", self.plan_orders, PLANS)
        _check_keys("channel_mix", self.channel_mix, MARKETING_CHANNELS)
        _check_keys("channel_lift", self.channel_lift, MARKETING_CHANNELS)

    def weights(self) -> dict[str, float]:
        """Trust weights normalised to sum to 1."""
        total = sum(self.trust_weights.values())
        return {d: self.trust_weights[d] / total for d in TRUST_DRIVERS}


@dataclass(frozen=True)
class GroundTruth:
    """What really happened in a simulation.

    Attributes
    ----------
    customers : pandas.DataFrame
        One row per customer: ``engagement`` (standard normal), ``purchased``,
        ``first_purchase``, ``trust`` (after the last order placed before churn or the end),
        ``churn_time`` (may lie after the window; NaT for customers who never bought),
        ``churned`` (churn time within the window), ``churn_hazard`` (per day, at the end of
        the window or at churn) and ``churn_probability`` (of churning within 90 days after
        the window, for customers active at its end).
    effects : pandas.DataFrame
        The planted effects: ``driver``, ``outcome`` (churn, advocacy or purchase),
        ``effect`` (log hazard ratio for churn, log odds ratio otherwise), ``level`` and a
        plain-language ``meaning``.
    start, end : pandas.Timestamp
        The simulated window.
    """

    customers: pd.DataFrame
    effects: pd.DataFrame
    start: pd.Timestamp
    end: pd.Timestamp
    _segments: pd.DataFrame = field(repr=False)

    def churn_probability(self, cutoff: Any, horizon: str | pd.Timedelta = "90D") -> pd.Series:
        """True probability of churning within ``horizon`` after ``cutoff``.

        For a customer who bought before ``cutoff`` and had not churned by then, this is
        ``1 - exp(-(H(cutoff + horizon) - H(cutoff)))`` with ``H`` the customer's cumulative
        hazard along the path the simulation used. Other customers get NaN. This is the oracle
        a churn model is measured against.

        Examples
        --------
        >>> sim = simulate(300, seed=1)
        >>> p = sim.truth.churn_probability("2024-07-01", "90D")
        >>> bool(p.dropna().between(0, 1).all())
        True
        """
        c = _days(pd.Timestamp(cutoff), self.start)
        h = pd.Timedelta(horizon) / pd.Timedelta(days=1)
        seg = self._segments
        overlap = np.clip(
            np.minimum(seg["end"].to_numpy(), c + h) - np.maximum(seg["start"].to_numpy(), c),
            0.0,
            None,
        )
        cumulative = np.bincount(
            seg["row"].to_numpy(),
            weights=seg["hazard"].to_numpy() * overlap,
            minlength=len(self.customers),
        )
        truth = self.customers
        at_risk = (truth["first_purchase"] < _stamp(c, self.start)) & (
            truth["churn_time"] > _stamp(c, self.start)
        )
        prob = -np.expm1(-cumulative)
        return pd.Series(
            np.where(at_risk.to_numpy(), prob, np.nan),
            index=truth["customer_id"],
            name="churn_probability",
        )


@dataclass(frozen=True)
class Simulation:
    """The output of :func:`simulate`.

    Attributes
    ----------
    events : pandas.DataFrame
        The touchpoint log in canonical form (see :mod:`journey_lib.io.validate`) plus the
        properties ``rating`` (reviews) and ``referred_id`` (referrals).
    customers : pandas.DataFrame
        One row per customer: ``customer_id``, ``first_seen``, ``acquisition_channel``,
        ``segment``, ``region`` (planted with no effect), ``plan`` (chosen at the first
        purchase, missing for customers who never bought), ``referrer_id``.
    truth : GroundTruth
        True hazards, churn times and probabilities, and the planted effects.
    params : SimulationParameters
        Every parameter used.
    seed : int
    start, end : pandas.Timestamp
        The simulated window.
    """

    events: pd.DataFrame
    customers: pd.DataFrame
    truth: GroundTruth
    params: SimulationParameters
    seed: int
    start: pd.Timestamp
    end: pd.Timestamp

    def __repr__(self) -> str:
        return (
            f"<Simulation seed={self.seed}: {len(self.customers):,} customers, "
            f"{len(self.events):,} events, {self.start:%Y-%m-%d} to {self.end:%Y-%m-%d}>"
        )


def simulate(
    n_customers: int = 2000,
    *,
    seed: int = 0,
    start: str | pd.Timestamp = "2024-01-01",
    days: int = 365,
    progress: bool | None = None,
    **drivers: Any,
) -> Simulation:
    """Simulate customer journeys with known causes of churn and advocacy.

    Parameters
    ----------
    n_customers : int, default 2000
        Customers reached; about a third become buyers with the defaults.
    seed : int, default 0
        The same seed and parameters give the same data, on every machine.
    start : str or Timestamp, default "2024-01-01"
        First day of the window (UTC).
    days : int, default 365
        Length of the window. Customers arrive uniformly across it.
    progress : bool, optional
        Show a progress bar; by default only from 100,000 customers.
    **drivers
        Any field of :class:`SimulationParameters`, e.g. ``keeping_promises=0.6`` or
        ``trust_effect=0``. The module docstring describes the process they drive.

    Returns
    -------
    Simulation
        ``.events``, ``.customers``, ``.truth`` (:class:`GroundTruth`) and ``.params``.

    Examples
    --------
    >>> sim = simulate(500, seed=7)
    >>> sim.events.columns[:5].tolist()
    ['customer_id', 'timestamp', 'event', 'channel', 'value']
    >>> worse = simulate(500, seed=7, keeping_promises=0.3)
    >>> bool(worse.truth.customers["churned"].mean() > sim.truth.customers["churned"].mean())
    True
    """
    if not isinstance(n_customers, int | np.integer) or n_customers < 1:
        raise JourneyParameterError(f"n_customers must be a positive integer, got {n_customers!r}")
    if not isinstance(days, int | np.integer) or days < 1:
        raise JourneyParameterError(f"days must be a positive integer, got {days!r}")
    unknown = sorted(set(drivers) - {f.name for f in dataclasses.fields(SimulationParameters)})
    if unknown:
        valid = ", ".join(f.name for f in dataclasses.fields(SimulationParameters))
        raise JourneyParameterError(f"unknown simulation parameter(s) {unknown}; valid: {valid}")
    params = SimulationParameters(**drivers)
    origin = pd.Timestamp(start)
    origin = origin.tz_localize("UTC") if origin.tzinfo is None else origin.tz_convert("UTC")
    show = n_customers >= 100_000 if progress is None else progress
    with tqdm(total=6, desc="simulate", disable=not show, unit="phase") as bar:
        sim = _Simulator(int(n_customers), params, np.random.default_rng(seed), float(days), bar)
        events, customers, truth = sim.run(origin)
    return Simulation(
        events=events,
        customers=customers,
        truth=truth,
        params=params,
        seed=seed,
        start=origin,
        end=origin + pd.Timedelta(days=days),
    )


class _Simulator:
    """One simulation run. Arrays are indexed by customer row (0..n-1) or by flat order;
    each step appends event blocks that are sorted once at the end."""

    def __init__(
        self, n: int, params: SimulationParameters, rng: np.random.Generator, days: float, bar: tqdm
    ) -> None:
        self.n, self.p, self.rng, self.days, self.bar = n, params, rng, days, bar
        self.blocks: list[dict[str, np.ndarray]] = []

    def emit(
        self,
        row: np.ndarray,
        time: np.ndarray,
        event: str | np.ndarray,
        channel: str | np.ndarray,
        value: Any = 0.0,
        rating: Any = np.nan,
        referred: Any = -1,
    ) -> None:
        size = len(row)
        self.blocks.append(
            {
                "row": row,
                "time": time,
                "event": _codes(event, _EV, size),
                "channel": _codes(channel, _CH, size),
                "value": np.broadcast_to(np.asarray(value, dtype="float64"), size),
                "rating": np.broadcast_to(np.asarray(rating, dtype="float64"), size),
                "referred": np.broadcast_to(np.asarray(referred, dtype="int64"), size),
            }
        )

    def run(self, origin: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame, GroundTruth]:
        self.people()
        buyers = self.acquire()
        self.bar.update()
        orders = self.orders(buyers)
        self.bar.update()
        self.experiences(orders)
        self.bar.update()
        self.churn(orders)
        self.bar.update()
        self.life(orders)
        self.bar.update()
        events = self.events(origin)
        self.bar.update()
        return events, self.customer_table(origin), self.truth(orders, origin)

    # -- who the customers are ---------------------------------------------------------
    def people(self) -> None:
        n, p, rng = self.n, self.p, self.rng
        self.arrival = rng.uniform(0.0, self.days, n)
        self.channel = _choice(rng, MARKETING_CHANNELS, p.channel_mix, n)
        self.segment = _choice(rng, SEGMENTS, p.segment_mix, n)
        self.region = rng.integers(0, len(REGIONS), n)
        self.engagement = rng.standard_normal(n)
        # Each customer's own chance of a good experience on each trust driver.
        z = rng.standard_normal((n, len(TRUST_DRIVERS)))
        levels = np.array([getattr(p, d) for d in TRUST_DRIVERS])
        self.service = _sigmoid(_logit(levels) + p.heterogeneity * z)

    def acquire(self) -> np.ndarray:
        n, p, rng = self.n, self.p, self.rng
        touches = 1 + rng.poisson(p.extra_touches, n)
        consider = rng.exponential(p.consideration_days, n) + 1e-3
        self.decision = self.arrival + consider

        row = np.repeat(np.arange(n), touches)
        first = _group_starts(touches)
        frac = rng.uniform(0.0, 1.0, len(row))
        frac[first] = 0.0
        time = self.arrival[row] + consider[row] * 0.8 * frac
        mix = {c: w for c, w in p.channel_mix.items() if c != "referral"}
        channel = _choice(rng, MARKETING_CHANNELS, mix, len(row))
        channel[first] = self.channel
        event = np.where(channel == _CH["referral"], _EV["referral_invite"], _EV["ad_view"])
        self.emit(row, time, event, channel)

        touched = np.zeros((n, len(MARKETING_CHANNELS)), dtype=bool)
        touched[row, channel] = True
        lift = touched @ np.array([p.channel_lift[c] for c in MARKETING_CHANNELS])

        e = p.engagement_conversion * self.engagement
        visits = rng.random(n) < _sigmoid(_logit(p.visit_rate) + e)
        signs = visits & (rng.random(n) < _sigmoid(_logit(p.signup_rate) + e))
        buys = signs & (rng.random(n) < _sigmoid(_logit(p.purchase_rate) + e + lift))
        buys &= self.decision < self.days

        n_visits = np.where(visits, 1 + rng.poisson(1.5 * np.exp(0.3 * self.engagement)), 0)
        vrow = np.repeat(np.arange(n), n_visits)
        vtime = self.arrival[vrow] + consider[vrow] * rng.uniform(0.05, 0.9, len(vrow))
        self.emit(vrow, vtime, "site_visit", "web")
        looks = rng.random(len(vrow)) < 0.7
        self.emit(
            vrow[looks], vtime[looks] + rng.uniform(1e-3, 0.02, looks.sum()), "product_view", "web"
        )
        srow = np.flatnonzero(signs)
        self.emit(srow, self.arrival[srow] + consider[srow] * 0.95, "signup", "web")
        self.lift = lift
        return np.flatnonzero(buys)

    # -- orders and what they bring ----------------------------------------------------
    def orders(self, buyers: np.ndarray) -> dict[str, np.ndarray]:
        p, rng = self.p, self.rng
        plan_p = {
            "consumer": (0.6, 0.3, 0.1),
            "small_business": (0.3, 0.5, 0.2),
            "enterprise": (0.1, 0.4, 0.5),
        }
        self.plan = np.full(self.n, -1)
        cum = np.cumsum(np.array([plan_p[s] for s in SEGMENTS]), axis=1)[self.segment[buyers]]
        self.plan[buyers] = (rng.random((len(buyers), 1)) > cum).sum(axis=1)
        plan_rate = np.array([p.plan_orders[x] for x in PLANS])[self.plan[buyers]]
        rate = p.orders_per_year / 365 * np.exp(p.engagement_orders * self.engagement[buyers])
        rate *= plan_rate
        first = self.decision[buyers]
        span = np.maximum(self.days - first, 0.0)
        repeats = rng.poisson(rate * span)
        count = 1 + repeats
        row = np.repeat(buyers, count)
        starts = _group_starts(count)
        time = first[np.repeat(np.arange(len(buyers)), count)] + rng.uniform(0, 1, len(row)) * (
            np.repeat(span, count)
        )
        time[starts] = first
        order = np.lexsort((time, row))
        time = time[order]
        number = np.arange(len(row)) - np.repeat(starts, count)
        return {"row": row, "time": time, "number": number, "count": count, "starts": starts}

    def experiences(self, o: dict[str, np.ndarray]) -> None:
        rng, p = self.rng, self.p
        row, t = o["row"], o["time"]
        size = len(row)
        s = self.service[row]
        good = {d: rng.random(size) < s[:, i] for i, d in enumerate(TRUST_DRIVERS)}
        on_time = good["keeping_promises"]
        delivery = t + np.where(on_time, rng.uniform(1, 3, size), rng.uniform(4, 8, size))
        ticket = rng.random(size) < np.where(on_time, p.ticket_rate, p.ticket_rate_late)
        resolved = ticket & good["service_quality"]
        mistake = ~on_time | (ticket & ~resolved)
        apology = mistake & good["owning_mistakes"]
        ticket_time = delivery + rng.uniform(0.0, 2.0, size)
        resolve_time = ticket_time + rng.uniform(0.1, 2.0, size)
        apology_time = np.maximum(delivery, np.where(ticket, resolve_time, 0.0))
        apology_time += rng.uniform(0.1, 1.0, size)
        plan = self.plan[row]
        amount = _order_value(rng, self.segment[row], plan)
        in_store = rng.random(size) < np.where(self.channel[row] == _CH["store"], 0.6, 0.15)
        where = np.where(
            in_store, _CH["store"], np.where(rng.random(size) < 0.8, _CH["web"], _CH["app"])
        )

        o["blocks"] = [
            (np.ones(size, bool), t, _EV["purchase"], where, amount),
            (
                good["communication"],
                t + rng.uniform(0.05, 1, size),
                _EV["order_update"],
                _CH["email"],
                0.0,
            ),
            (good["care"], t + rng.uniform(0.01, 1, size), _EV["thank_you"], _CH["email"], 0.0),
            (~good["fair_treatment"], t + 0.001, _EV["surprise_fee"], where, 4.99),
            (
                np.ones(size, bool),
                delivery,
                np.where(on_time, _EV["delivery_on_time"], _EV["delivery_late"]),
                _CH["delivery"],
                0.0,
            ),
            (ticket, ticket_time, _EV["support_ticket"], _CH["support"], 0.0),
            (resolved, resolve_time, _EV["ticket_resolved"], _CH["support"], 0.0),
            (apology, apology_time, _EV["apology"], _CH["email"], 0.0),
            (
                np.ones(size, bool),
                t + rng.uniform(2, p.settle_days - 2, size),
                np.where(good["personalisation"], _EV["personalised_offer"], _EV["generic_offer"]),
                _CH["email"],
                0.0,
            ),
            (
                ~good["respect"],
                t + rng.uniform(0.5, p.settle_days - 1, size),
                _EV["unwanted_contact"],
                _CH["phone"],
                0.0,
            ),
            (
                (o["number"] % 3 == 2) & (plan > 0),
                t + rng.uniform(0.5, 2, size),
                _EV["loyalty_reward"],
                _CH["email"],
                0.0,
            ),
        ]
        o["delivery"] = delivery

        # Bad share per driver after each order: running sums within each customer.
        ones = np.ones(size)
        bad = {
            "communication": (~good["communication"], ones),
            "care": (~good["care"], ones),
            "fair_treatment": (~good["fair_treatment"], ones),
            "personalisation": (~good["personalisation"], ones),
            "keeping_promises": (~on_time, ones),
            "respect": (~good["respect"], ones),
            "service_quality": (ticket & ~resolved, ticket),
            "owning_mistakes": (mistake & ~apology, mistake),
        }
        weights = self.p.weights()
        erosion = np.zeros(size)
        for driver, (misses, chances) in bad.items():
            misses_so_far = _grouped_cumsum(misses.astype(float), o["starts"], o["count"])
            chances_so_far = _grouped_cumsum(chances.astype(float), o["starts"], o["count"])
            share = np.divide(
                misses_so_far, chances_so_far, out=np.zeros(size), where=chances_so_far > 0
            )
            erosion += weights[driver] * share
        o["trust"] = 1.0 - erosion

    def churn(self, o: dict[str, np.ndarray]) -> None:
        p, rng = self.p, self.rng
        row = o["row"]
        plan = self.plan[row]
        log_h = (
            np.log(-np.log1p(-min(p.base_churn, 1 - 1e-12)) / 365)
            + p.trust_effect * (1.0 - o["trust"])
            + p.engagement_churn * self.engagement[row]
            + np.array([p.segment_churn[s] for s in SEGMENTS])[self.segment[row]]
            + np.array([p.plan_churn[x] for x in PLANS])[plan]
        )
        hazard = np.exp(log_h)
        start = o["time"] + p.settle_days
        # A segment lasts until the next order settles; a customer's last one never ends.
        end = np.full_like(start, np.inf)
        end[:-1] = start[1:]
        end[o["starts"] + o["count"] - 1] = np.inf
        with np.errstate(divide="ignore"):
            wait = rng.exponential(1.0, len(row)) / hazard
        candidate = np.where(start + wait < end, start + wait, np.inf)
        churn_time = np.minimum.reduceat(candidate, o["starts"])
        self.churn_time = np.full(self.n, np.nan)
        self.churn_time[row[o["starts"]]] = churn_time
        o["hazard"], o["seg_start"], o["seg_end"] = hazard, start, end

    def life(self, o: dict[str, np.ndarray]) -> None:
        p, rng = self.p, self.rng
        alive_order = o["time"] < self.churn_time[o["row"]]
        for keep, time, event, channel, value in o["blocks"]:
            sel = keep & alive_order
            ev = event[sel] if isinstance(event, np.ndarray) else event
            ch = channel[sel] if isinstance(channel, np.ndarray) else channel
            val = value[sel] if isinstance(value, np.ndarray) else value
            self.emit(o["row"][sel], time[sel], ev, ch, val)

        trust = o["trust"]
        review = alive_order & (
            rng.random(len(trust))
            < _sigmoid(_logit(p.review_rate) + p.advocacy_effect * (trust - 1.0))
        )
        rating = np.clip(np.rint(1 + 4 * trust + rng.normal(0, 0.6, len(trust))), 1, 5)
        when = o["delivery"] + rng.uniform(1, 10, len(trust))
        self.emit(o["row"][review], when[review], "review", "web", rating=rating[review])

        # While active: site visits; churners may log a cancellation.
        buyers = o["row"][o["starts"]]
        first = o["time"][o["starts"]]
        stop = np.minimum(self.churn_time[buyers], self.days)
        rate = p.visits_per_month / 30.4 * np.exp(p.engagement_visits * self.engagement[buyers])
        count = rng.poisson(rate * np.maximum(stop - first, 0.0))
        vrow = np.repeat(np.arange(len(buyers)), count)
        vtime = first[vrow] + rng.uniform(0, 1, len(vrow)) * (stop - first)[vrow]
        self.emit(
            buyers[vrow],
            vtime,
            "site_visit",
            rng.choice([_CH["web"], _CH["app"]], len(vrow), p=[0.6, 0.4]),
        )
        cancels = buyers[
            (self.churn_time[buyers] <= self.days)
            & (rng.random(len(buyers)) < p.cancellation_logged)
        ]
        self.emit(cancels, self.churn_time[cancels], "cancellation", "web")
        self.referrals(o)

    def referrals(self, o: dict[str, np.ndarray]) -> None:
        """Referred customers name a referrer among earlier buyers, weighted by trust."""
        rng, p = self.rng, self.p
        buyers = o["row"][o["starts"]]
        since = o["time"][o["starts"]]
        trust = o["trust"][o["starts"] + o["count"] - 1]
        order = np.argsort(since, kind="stable")
        buyers, since, trust = buyers[order], since[order], trust[order]
        cum_weight = np.cumsum(np.exp(p.advocacy_effect * (trust - 1.0)))
        referred = np.flatnonzero(self.channel == _CH["referral"])
        self.referrer = np.full(self.n, -1)
        if not len(buyers):  # nobody to refer anyone: every referral came from outside
            referred = referred[:0]
        at = self.arrival[referred] - rng.uniform(0.05, 2.0, len(referred))
        k = np.searchsorted(since, at, side="left")
        has = k > 0
        pick = np.searchsorted(
            cum_weight,
            rng.random(len(referred)) * np.where(has, cum_weight[np.maximum(k - 1, 0)], 0.0),
            side="right",
        )
        referrer = np.where(has, buyers[np.minimum(pick, len(buyers) - 1)], -1)
        # A referrer who had already left cannot refer: the invite came from outside the data.
        active = has & (self.churn_time[np.maximum(referrer, 0)] > at)
        self.referrer[referred[active]] = referrer[active]
        self.emit(referrer[active], at[active], "referral", "referral", referred=referred[active])

    # -- outputs -------------------------------------------------------------------------
    def events(self, origin: pd.Timestamp) -> pd.DataFrame:
        cols = {k: np.concatenate([np.asarray(b[k]) for b in self.blocks]) for k in self.blocks[0]}
        seconds = np.rint(cols["time"] * _SECONDS_PER_DAY).astype("int64")
        # Nothing is logged outside the window, or after churn except the cancellation itself.
        churn_days = np.nan_to_num(self.churn_time, nan=np.inf).clip(max=self.days + 1)
        churn = np.rint(churn_days * _SECONDS_PER_DAY).astype("int64")[cols["row"]]
        keep = (seconds >= 0) & (seconds < self.days * _SECONDS_PER_DAY)
        keep &= (seconds < churn) | (cols["event"] == _EV["cancellation"])
        kept = np.flatnonzero(keep)
        # One stable sort on a packed (customer, second) key: ties keep their block order,
        # so the log is identical on every machine.
        key = (cols["row"][kept] << 32) | seconds[kept]
        order = kept[np.argsort(key, kind="stable")]
        # Two identical touchpoints in the same second are one: a log has no exact duplicates.
        same = np.ones(max(len(order) - 1, 0), dtype=bool)
        for values in (seconds, *(v for k, v in cols.items() if k != "time")):
            ranked = np.nan_to_num(values[order], nan=-1.0)
            same &= ranked[1:] == ranked[:-1]
        order = order[np.concatenate([[True], ~same])] if len(order) else order
        stamps = (origin.value // 1000 + seconds[order] * 1_000_000).astype("datetime64[us]")
        return pd.DataFrame(
            {
                "customer_id": cols["row"][order] + 1,
                "timestamp": pd.Series(stamps).dt.tz_localize("UTC"),
                "event": _strings(cols["event"][order], EVENTS),
                "channel": _strings(cols["channel"][order], CHANNELS),
                "value": cols["value"][order],
                "rating": cols["rating"][order],
                "referred_id": _optional_ids(cols["referred"][order]),
            }
        )

    def customer_table(self, origin: pd.Timestamp) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "customer_id": np.arange(1, self.n + 1),
                "first_seen": _timestamps(self.arrival, origin),
                "acquisition_channel": _strings(self.channel, CHANNELS),
                "segment": _strings(self.segment, SEGMENTS),
                "region": _strings(self.region, REGIONS),
                "plan": _strings(self.plan, PLANS),
                "referrer_id": _optional_ids(self.referrer),
            }
        )

    def truth(self, o: dict[str, np.ndarray], origin: pd.Timestamp) -> GroundTruth:
        p = self.p
        row = o["row"]
        end = self.days
        # The state at the end of the window, or at churn: the last segment begun before it.
        stop = np.fmin(self.churn_time[row], end)
        begun = o["seg_start"] <= stop
        current = np.where(begun, np.arange(len(row)), -1)
        # Customers still settling their first order get the hazard that will apply next.
        idx = np.maximum(np.maximum.reduceat(current, o["starts"]), o["starts"])
        buyers = row[o["starts"]]
        hazard = np.full(self.n, np.nan)
        trust = np.full(self.n, np.nan)
        hazard[buyers] = o["hazard"][idx]
        placed = np.where(o["time"] < np.fmin(self.churn_time[row], end), np.arange(len(row)), -1)
        last_order = np.maximum.reduceat(placed, o["starts"])
        trust[buyers] = o["trust"][np.maximum(last_order, o["starts"])]
        first = np.full(self.n, np.nan)
        first[buyers] = o["time"][o["starts"]]

        segments = pd.DataFrame(
            {"row": row, "start": o["seg_start"], "end": o["seg_end"], "hazard": o["hazard"]}
        )
        customers = pd.DataFrame(
            {
                "customer_id": np.arange(1, self.n + 1),
                "engagement": self.engagement,
                "purchased": ~np.isnan(first),
                "first_purchase": _timestamps(first, origin),
                "trust": trust,
                "churn_time": _timestamps(self.churn_time, origin),
                "churned": self.churn_time <= end,
                "churn_hazard": hazard,
            }
        )
        truth = GroundTruth(
            customers=customers,
            effects=_effects(p),
            start=origin,
            end=_stamp(end, origin),
            _segments=segments,
        )
        prob = truth.churn_probability(truth.end, "90D").to_numpy()
        return dataclasses.replace(truth, customers=customers.assign(churn_probability=prob))


def _effects(p: SimulationParameters) -> pd.DataFrame:
    weights = p.weights()
    meaning = {
        "communication": "orders without a proactive order_update",
        "care": "orders without a thank_you",
        "fair_treatment": "orders with a surprise_fee",
        "personalisation": "generic rather than personalised offers",
        "owning_mistakes": "mistakes left without an apology",
        "keeping_promises": "late deliveries",
        "respect": "orders followed by an unwanted_contact",
        "service_quality": "support tickets left unresolved",
    }
    rows = [
        (
            d,
            "churn",
            p.trust_effect * weights[d],
            getattr(p, d),
            f"log hazard ratio when every chance went badly: {meaning[d]}",
        )
        for d in TRUST_DRIVERS
    ]
    rows.append(
        (
            "engagement",
            "churn",
            p.engagement_churn,
            np.nan,
            "log hazard ratio per standard deviation of engagement",
        )
    )
    rows += [
        (f"segment={s}", "churn", v, np.nan, "log hazard ratio against consumer")
        for s, v in p.segment_churn.items()
        if s != "consumer"
    ]
    rows += [
        (f"plan={x}", "churn", v, np.nan, "log hazard ratio against basic")
        for x, v in p.plan_churn.items()
        if x != "basic"
    ]
    rows.append(
        ("trust", "churn", p.trust_effect, np.nan, "log hazard ratio of trust 0 against trust 1")
    )
    rows.append(
        (
            "trust",
            "advocacy",
            p.advocacy_effect,
            np.nan,
            "log odds ratio of a review per order, and log referral weight, per unit trust",
        )
    )
    rows += [
        (
            f"channel={c}",
            "purchase",
            v,
            np.nan,
            "log odds added to buying by a touch through this channel",
        )
        for c, v in p.channel_lift.items()
    ]
    rows.append(("region", "churn", 0.0, np.nan, "none: region is planted without effect"))
    return pd.DataFrame(rows, columns=["driver", "outcome", "effect", "level", "meaning"])


def _check_keys(name: str, mapping: Mapping[str, float], allowed: tuple[str, ...]) -> None:
    if set(mapping) != set(allowed):
        raise JourneyParameterError(
            f"{name} must give a value for each of {list(allowed)}; got {sorted(mapping)}"
        )


def _choice(
    rng: np.random.Generator, names: tuple[str, ...], weights: Mapping[str, float], size: int
) -> np.ndarray:
    """Codes (positions in ``names``) drawn with the given weights."""
    codes = np.array([names.index(k) for k in weights])
    w = np.array(list(weights.values()), dtype=float)
    return codes[rng.choice(len(codes), size=size, p=w / w.sum())]


def _order_value(rng: np.random.Generator, segment: np.ndarray, plan: np.ndarray) -> np.ndarray:
    median = np.array([40.0, 120.0, 400.0])[segment] * np.array([1.0, 1.2, 1.5])[plan]
    return np.round(median * rng.lognormal(0.0, 0.5, len(segment)), 2)


def _optional_ids(rows: np.ndarray) -> pd.Series:
    """Customer ids (row + 1) as nullable integers; row -1 means none."""
    return pd.Series(pd.arrays.IntegerArray(rows + 1, rows < 0))


def _codes(value: str | np.ndarray, table: dict[str, int], size: int) -> np.ndarray:
    if isinstance(value, str):
        return np.full(size, table[value], dtype="int16")
    return np.broadcast_to(np.asarray(value, dtype="int16"), size)


def _strings(codes: np.ndarray, names: tuple[str, ...]) -> pd.Series:
    """Text column from codes (-1 -> missing) through Arrow, without a Python object per row."""
    valid = codes >= 0
    taken = pa.array(names).take(pa.array(np.where(valid, codes, 0), mask=~valid))
    return pd.Series(taken.to_pandas(), dtype="str")


def _timestamps(days: np.ndarray, origin: pd.Timestamp) -> pd.Series:
    return origin + pd.to_timedelta(np.round(days * _SECONDS_PER_DAY), unit="s")


def _stamp(days: float, origin: pd.Timestamp) -> pd.Timestamp:
    return origin + pd.Timedelta(days=days)


def _days(stamp: pd.Timestamp, origin: pd.Timestamp) -> float:
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return (stamp - origin) / pd.Timedelta(days=1)


def _group_starts(counts: np.ndarray) -> np.ndarray:
    return (np.cumsum(counts) - counts).astype("int64")


def _grouped_cumsum(values: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    total = np.cumsum(values)
    before = np.where(starts > 0, total[np.maximum(starts - 1, 0)], 0.0)
    return total - np.repeat(before, counts)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _logit(p: np.ndarray | float) -> np.ndarray:
    p = np.clip(p, 1e-9, 1 - 1e-9)
    return np.log(p) - np.log1p(-p)
