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
9. **Incidents** (optional, :class:`Incident`; none by default, and then nothing above changes
   or draws differently). Each has a window ``[start, end)`` and, for the first two kinds, the
   customers it touches (those whose customer-table ``segment``, ``region`` or
   ``acquisition_channel`` equals a value, or everyone):

   - *experience*: orders placed inside the window by a touched customer get, on one trust
     driver, the customer's own probability ``sigmoid(logit(level) + heterogeneity * z)``
     with the customer's same ``z`` as in step 4, instead of the business's level. Trust,
     churn and reviews follow from those experiences as always. Later incidents on the same
     driver override earlier ones where they overlap.
   - *conversion*: ``shift`` is added to the log odds of the ``signup`` step (for customers
     whose sign-up time ``a + 0.95 D`` falls in the window) or of the ``purchase`` step (for
     those whose decision time ``a + D`` does). Shifts of several incidents add up. The
     random draws are the same as without the incident, so only touched customers can
     change whether they signed up or bought.
   - *burst*: ``customers`` extra customers (ids after the ordinary ones) arrive uniformly
     over the part of the window inside the simulation, through ``channel``, with
     engagement ``~ Normal(engagement, 1)`` (low intent by default); segment, region and
     ``z`` are drawn like everyone else's, after the ordinary customers', whose attributes
     therefore stay the same (their later draws differ). They then live steps 1-8.

   :attr:`GroundTruth.incidents` lists them with the metric each moves and its direction.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from tqdm.auto import tqdm

from .errors import JourneyParameterError, check_choice, check_count
from .retention_campaign import (
    Campaign,
    HazardPath,
    check_campaigns,
    offers_table,
    run_campaigns,
    split_segments,
)

__all__ = [
    "CHANNELS",
    "EVENTS",
    "Campaign",
    "GroundTruth",
    "Incident",
    "Simulation",
    "SimulationParameters",
    "example_incidents",
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


INCIDENT_KINDS: tuple[str, ...] = ("experience", "conversion", "burst")
#: The event whose volume an experience incident on each trust driver moves.
INCIDENT_EVENTS: dict[str, str] = {
    "keeping_promises": "delivery_late",
    "fair_treatment": "surprise_fee",
    "respect": "unwanted_contact",
    "communication": "order_update",
    "care": "thank_you",
    "personalisation": "personalised_offer",
    "service_quality": "ticket_resolved",
    "owning_mistakes": "apology",
}
# Drivers whose event is logged when the business gets it wrong: a lower level means more.
_BAD_NEWS = frozenset({"keeping_promises", "fair_treatment", "respect"})
# Words for an incident's direction (+1, -1, 0) in GroundTruth.incidents' sentences.
_MOVES = {1: "rose", -1: "fell", 0: "did not change"}
_MORE = {1: "More", -1: "Fewer", 0: "As many"}
_INCIDENT_COLUMNS: dict[str, tuple[str, ...]] = {
    "segment": SEGMENTS,
    "region": REGIONS,
    "acquisition_channel": MARKETING_CHANNELS,
}
_STEPS: tuple[str, ...] = ("signup", "purchase")
# The fields of one kind only, and that kind.
_KIND_FIELDS = {
    "driver": "experience",
    "level": "experience",
    "step": "conversion",
    "shift": "conversion",
}


@dataclass(frozen=True)
class Incident:
    """A planted incident: for a while, part of the journey goes differently.

    Build one with :meth:`experience`, :meth:`conversion` or :meth:`burst` and pass a
    sequence of them to :func:`simulate` as ``incidents``; :attr:`GroundTruth.incidents` then
    says what each does to the log. Step 9 of this module's docstring gives the process.

    Attributes
    ----------
    kind : {"experience", "conversion", "burst"}
    start, end : pandas.Timestamp
        The window ``[start, end)``: the first instant affected and the first no longer
        affected (``end`` is exclusive). Strings and naive timestamps are read as UTC; both
        are stored as UTC timestamps.
    driver : str or None
        Experience: the trust driver (one of ``TRUST_DRIVERS``).
    level : float or None
        Experience: the driver's level, a probability, for orders placed inside the window.
    step : {"signup", "purchase"} or None
        Conversion: the funnel step whose log odds move.
    shift : float or None
        Conversion: added to that step's log odds (negative: conversion falls).
    column, value : str or None
        Experience and conversion: the customers touched are those whose customer-table
        ``column`` (``"segment"``, ``"region"`` or ``"acquisition_channel"``) equals
        ``value``; None for everyone.
    customers : int
        Burst: extra customers arriving uniformly inside the window (0 for other kinds).
    channel : str
        Burst: their acquisition channel (a marketing channel, default ``"social"``).
    engagement : float
        Burst: the mean of their engagement, which is standard normal for everyone else
        (default -1.5: low intent, so few of them visit, sign up and buy).

    Examples
    --------
    >>> late = Incident.experience("keeping_promises", 0.4, "2024-05-06", "2024-05-27")
    >>> print(late.start, late.end)
    2024-05-06 00:00:00+00:00 2024-05-27 00:00:00+00:00
    >>> Incident.burst(0, "2024-05-06", "2024-05-13")
    Traceback (most recent call last):
    ...
    journey_lib.errors.JourneyParameterError: customers must be a whole number of at least 1, got 0
    """

    kind: str
    start: str | pd.Timestamp
    end: str | pd.Timestamp
    driver: str | None = None
    level: float | None = None
    step: str | None = None
    shift: float | None = None
    column: str | None = None
    value: str | None = None
    customers: int = 0
    channel: str = "social"
    engagement: float = -1.5

    def __post_init__(self) -> None:
        check_choice("kind", self.kind, INCIDENT_KINDS)
        start, end = _utc_instant("start", self.start), _utc_instant("end", self.end)
        if not end > start:
            raise JourneyParameterError(
                f"an incident's end must be after its start (end is exclusive); got start "
                f"{start} and end {end}"
            )
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)
        for name, kind in _KIND_FIELDS.items():
            if kind != self.kind and getattr(self, name) is not None:
                raise JourneyParameterError(
                    f"{name} applies only to {kind} incidents; got {name}="
                    f"{getattr(self, name)!r} for a {self.kind} incident"
                )
        if self.kind != "burst" and self.customers != 0:
            raise JourneyParameterError(
                f"customers applies only to burst incidents; got customers={self.customers!r} "
                f"for a {self.kind} incident"
            )
        if self.kind == "experience":
            check_choice("driver", self.driver, TRUST_DRIVERS)
            if not _finite(self.level) or not 0.0 <= self.level <= 1.0:
                raise JourneyParameterError(
                    f"level must be a probability in [0, 1], got {self.level!r}"
                )
        elif self.kind == "conversion":
            check_choice("step", self.step, _STEPS)
            if not _finite(self.shift):
                raise JourneyParameterError(
                    f"shift must be a finite number (added to the step's log odds), "
                    f"got {self.shift!r}"
                )
        else:
            check_count("customers", self.customers)
            check_choice("channel", self.channel, MARKETING_CHANNELS)
            if not _finite(self.engagement):
                raise JourneyParameterError(
                    f"engagement must be a finite number (the burst's mean engagement), "
                    f"got {self.engagement!r}"
                )
            if self.column is not None or self.value is not None:
                raise JourneyParameterError(
                    "column and value apply only to experience and conversion incidents "
                    f"(a burst's customers are new); got column={self.column!r}, "
                    f"value={self.value!r}"
                )
        if self.column is None:
            if self.value is not None:
                raise JourneyParameterError(
                    f"value={self.value!r} needs a column ('segment', 'region' or "
                    "'acquisition_channel') to compare it with"
                )
        else:
            check_choice("column", self.column, tuple(_INCIDENT_COLUMNS))
            check_choice(
                f"value for column {self.column!r}", self.value, _INCIDENT_COLUMNS[self.column]
            )

    @classmethod
    def experience(
        cls,
        driver: str,
        level: float,
        start: str | pd.Timestamp,
        end: str | pd.Timestamp,
        *,
        column: str | None = None,
        value: str | None = None,
    ) -> Incident:
        """Orders placed in ``[start, end)`` are served at ``level`` on ``driver``.

        Touched customers (``column == value``, or everyone) get, for those orders,
        ``sigmoid(logit(level) + heterogeneity * z)`` with their own ``z``. The driver's event
        (``INCIDENT_EVENTS``: ``delivery_late`` for keeping_promises, ...) moves in volume.

        Examples
        --------
        >>> Incident.experience("care", 0.2, "2024-03-04", "2024-03-18").level
        0.2
        """
        return cls("experience", start, end, driver=driver, level=level, column=column, value=value)

    @classmethod
    def conversion(
        cls,
        step: str,
        shift: float,
        start: str | pd.Timestamp,
        end: str | pd.Timestamp,
        *,
        column: str | None = None,
        value: str | None = None,
    ) -> Incident:
        """``shift`` is added to the log odds of ``step`` ("signup" or "purchase") taken in
        ``[start, end)`` by touched customers (``column == value``, or everyone).

        Examples
        --------
        >>> Incident.conversion("purchase", -1.5, "2024-07-01", "2024-07-29",
        ...                     column="segment", value="small_business").value
        'small_business'
        """
        return cls("conversion", start, end, step=step, shift=shift, column=column, value=value)

    @classmethod
    def burst(
        cls,
        customers: int,
        start: str | pd.Timestamp,
        end: str | pd.Timestamp,
        *,
        channel: str = "social",
        engagement: float = -1.5,
    ) -> Incident:
        """``customers`` extra customers arrive uniformly in ``[start, end)`` through
        ``channel``, with engagement ``~ Normal(engagement, 1)``.

        Examples
        --------
        >>> Incident.burst(400, "2024-09-23", "2024-09-30").customers
        400
        """
        return cls("burst", start, end, customers=customers, channel=channel, engagement=engagement)


def example_incidents(
    start: str | pd.Timestamp = "2024-01-01", days: int = 365
) -> tuple[Incident, ...]:
    """Three incidents inside a simulated window, for teaching and the report's default data.

    Each window begins on the Monday nearest to the day ``fraction * days - length / 2``
    after ``start`` (the midnight of that UTC day), so weekly periods line up with it:

    1. late deliveries: keeping_promises level 0.4 for every customer, 3 weeks around 35% of
       the window;
    2. purchase conversion falls for segment ``small_business``: shift -1.5 on the log odds,
       4 weeks around 55%;
    3. a burst of 400 low-intent customers (engagement mean -1.5) through ``social``, 7 days
       around 75%.

    Parameters
    ----------
    start : str or Timestamp, default "2024-01-01"
        The simulated window's first day, as given to :func:`simulate`.
    days : int, default 365
        Its length; at least 56 so that every incident fits inside.

    Examples
    --------
    >>> for incident in example_incidents():
    ...     print(incident.kind, f"{incident.start:%a %Y-%m-%d}", f"{incident.end:%a %Y-%m-%d}")
    experience Mon 2024-04-29 Mon 2024-05-20
    conversion Mon 2024-07-08 Mon 2024-08-05
    burst Mon 2024-09-30 Mon 2024-10-07
    """
    check_count("days", days, minimum=56)
    origin = _utc_instant("start", start).normalize()

    def window(fraction: float, weeks: int) -> tuple[pd.Timestamp, pd.Timestamp]:
        first = origin + pd.Timedelta(days=math.floor(fraction * days - 3.5 * weeks))
        weekday = first.weekday()
        first += pd.Timedelta(days=-weekday if weekday <= 3 else 7 - weekday)
        return first, first + pd.Timedelta(weeks=weeks)

    return (
        Incident.experience("keeping_promises", 0.4, *window(0.35, 3)),
        Incident.conversion(
            "purchase", -1.5, *window(0.55, 4), column="segment", value="small_business"
        ),
        Incident.burst(400, *window(0.75, 1), channel="social", engagement=-1.5),
    )


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
    incidents : pandas.DataFrame
        One row per planted :class:`Incident`, in the order given (empty, with the same
        columns, when there are none): ``incident`` (1, 2, ...), ``kind``, ``metric`` (what
        moves: ``"events"`` for an experience incident, ``"conversion"`` for a conversion
        one, ``"new customers"`` for a burst), ``detail`` (the event whose volume moves, see
        ``INCIDENT_EVENTS``; the step, ``"signup"`` or ``"purchase"``, whose conversion moves;
        missing for a burst), ``column`` and ``value`` (who: missing for everyone;
        ``"acquisition_channel"`` and the channel for a burst), ``start`` and ``end`` (UTC,
        ``end`` exclusive, clipped to the simulated window), ``direction`` (+1 the metric
        rises, -1 it falls, 0 it stays: an experience level equal to the business's level or
        a zero shift), ``effect`` (the level, the shift or the number of customers) and a
        plain-language ``meaning``.
    start, end : pandas.Timestamp
        The simulated window.
    offers : pandas.DataFrame
        One row per :class:`~journey_lib.retention_campaign.Campaign` and customer eligible
        for it (empty, with the same columns, without campaigns): ``campaign`` (its event
        name), ``date``, ``customer_id``, ``treated``, ``trust`` when it began,
        ``log_hazard_ratio`` of the offer for this customer, ``uplift`` (the change the
        offer makes to the probability of churning within the campaign's ``lasts`` days,
        offered less held out: negative keeps the customer, positive pushes them away),
        both potential outcomes ``churned_if_offered`` and ``churned_if_held_out`` (within
        those days) and the churn times behind them, ``churn_time_if_offered`` and
        ``churn_time_if_held_out``. ``customers``' churn time is the one of the arm drawn.
    """

    customers: pd.DataFrame
    effects: pd.DataFrame
    incidents: pd.DataFrame
    start: pd.Timestamp
    end: pd.Timestamp
    offers: pd.DataFrame
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
        purchase, missing for customers who never bought), ``referrer_id``. Customers of a
        burst :class:`Incident` follow the ordinary ones.
    truth : GroundTruth
        True hazards, churn times and probabilities, the planted effects and incidents.
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
    incidents: Sequence[Incident] = (),
    campaigns: Sequence[Campaign] = (),
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
    incidents : sequence of Incident, default ()
        Planted incidents (step 9 of the module docstring; :func:`example_incidents` gives
        three); each window must overlap the simulated one. ``truth.incidents`` lists them.
        Without incidents the data are exactly those of earlier versions for every seed.
    campaigns : sequence of Campaign, default ()
        Randomised retention campaigns (:mod:`journey_lib.retention_campaign`): their rows
        join the log with a ``treatment`` column (1 offered, 0 held out, missing on every
        other row) and ``truth.offers`` keeps each eligible customer's true uplift and both
        potential outcomes. Without campaigns the log has no ``treatment`` column and is
        exactly that of earlier versions.
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
    >>> busy = simulate(500, seed=7, incidents=[Incident.burst(50, "2024-03-04", "2024-03-11")])
    >>> len(busy.customers)
    550
    >>> print(busy.truth.incidents.loc[0, "meaning"])  # doctest: +NORMALIZE_WHITESPACE
    A burst of 50 new low-intent customers arrived through social from 2024-03-04 to
    2024-03-10 (mean engagement -1.50, against 0 for the others)
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
    planted = _check_incidents(incidents, origin, days)
    offers = check_campaigns(campaigns, origin, float(days), EVENTS)
    show = n_customers >= 100_000 if progress is None else progress
    with tqdm(total=6, desc="simulate", disable=not show, unit="phase") as bar:
        sim = _Simulator(
            int(n_customers), params, np.random.default_rng(seed), float(days), bar, planted
        )
        # Campaigns draw from a stream of their own: without them nothing changes.
        sim.campaigns = offers
        sim.campaign_rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
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
        self,
        n: int,
        params: SimulationParameters,
        rng: np.random.Generator,
        days: float,
        bar: tqdm,
        incidents: tuple[tuple[Incident, float, float], ...] = (),
    ) -> None:
        self.n, self.p, self.rng, self.days, self.bar = n, params, rng, days, bar
        # (incident, window start, window end) in days from the origin, in the order given.
        self.incidents = incidents
        self.blocks: list[dict[str, np.ndarray]] = []
        self.campaigns: tuple[tuple[Campaign, float], ...] = ()
        self.campaign_rng = rng
        self.offers: list[dict[str, np.ndarray]] = []

    def emit(
        self,
        row: np.ndarray,
        time: np.ndarray,
        event: str | np.ndarray,
        channel: str | np.ndarray,
        value: Any = 0.0,
        rating: Any = np.nan,
        referred: Any = -1,
        treatment: Any = -1,
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
                "treatment": np.broadcast_to(np.asarray(treatment, dtype="int8"), size),
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
        self.z = rng.standard_normal((n, len(TRUST_DRIVERS)))
        # Burst customers are drawn after everyone else, so the others' attributes stay put.
        for incident, lo, hi in self.incidents:
            if incident.kind == "burst":
                self.add_burst(incident, max(lo, 0.0), min(hi, self.days))
        levels = np.array([getattr(p, d) for d in TRUST_DRIVERS])
        self.service = _sigmoid(_logit(levels) + p.heterogeneity * self.z)

    def add_burst(self, incident: Incident, lo: float, hi: float) -> None:
        """Append ``incident.customers`` rows arriving uniformly in ``[lo, hi)``."""
        k, p, rng = incident.customers, self.p, self.rng
        self.arrival = np.concatenate([self.arrival, rng.uniform(lo, hi, k)])
        self.channel = np.concatenate([self.channel, np.full(k, _CH[incident.channel])])
        self.segment = np.concatenate([self.segment, _choice(rng, SEGMENTS, p.segment_mix, k)])
        self.region = np.concatenate([self.region, rng.integers(0, len(REGIONS), k)])
        self.engagement = np.concatenate([self.engagement, rng.normal(incident.engagement, 1.0, k)])
        self.z = np.concatenate([self.z, rng.standard_normal((k, len(TRUST_DRIVERS)))])
        self.n += k

    def touched(self, incident: Incident) -> np.ndarray:
        """Whether each customer is one the incident touches (column == value, or all)."""
        if incident.column is None:
            return np.ones(self.n, dtype=bool)
        codes, names = {
            "segment": (self.segment, SEGMENTS),
            "region": (self.region, REGIONS),
            "acquisition_channel": (self.channel, CHANNELS),
        }[incident.column]
        return codes == names.index(incident.value)

    def shift(self, step: str, time: np.ndarray) -> np.ndarray | float:
        """Log odds added to ``step`` for each customer taking it at ``time``: 0 without
        conversion incidents (adding 0.0 leaves every probability bit for bit the same)."""
        total: np.ndarray | float = 0.0
        for incident, lo, hi in self.incidents:
            if incident.kind == "conversion" and incident.step == step:
                inside = self.touched(incident) & (time >= lo) & (time < hi)
                total = total + np.where(inside, incident.shift, 0.0)
        return total

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
        signup_shift = self.shift("signup", self.arrival + consider * 0.95)
        purchase_shift = self.shift("purchase", self.decision)
        visits = rng.random(n) < _sigmoid(_logit(p.visit_rate) + e)
        signs = visits & (rng.random(n) < _sigmoid(_logit(p.signup_rate) + e + signup_shift))
        buys = signs & (
            rng.random(n) < _sigmoid(_logit(p.purchase_rate) + e + lift + purchase_shift)
        )
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
        for incident, lo, hi in self.incidents:
            if incident.kind == "experience":
                i = TRUST_DRIVERS.index(incident.driver)
                hit = (t >= lo) & (t < hi) & self.touched(incident)[row]
                s[hit, i] = _sigmoid(_logit(incident.level) + p.heterogeneity * self.z[row[hit], i])
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
        if self.campaigns:
            self.offer(o)

    def offer(self, o: dict[str, np.ndarray]) -> None:
        """Run the retention campaigns: move the offered customers' churn times and log
        both arms (:mod:`journey_lib.retention_campaign`)."""
        first_order = np.full(self.n, np.nan)
        first_trust = np.full(self.n, np.nan)
        buyers = o["row"][o["starts"]]
        first_order[buyers] = o["time"][o["starts"]]
        first_trust[buyers] = o["trust"][o["starts"]]
        path = HazardPath(o["row"], o["seg_start"], o["seg_end"], o["hazard"], self.n)
        self.offers = run_campaigns(
            self.campaigns,
            path,
            self.churn_time,
            first_order,
            o["trust"],
            first_trust,
            self.segment,
            self.campaign_rng,
        )
        for number, ((campaign, day), record) in enumerate(
            zip(self.campaigns, self.offers, strict=True)
        ):
            row, treated = record["row"], record["treated"]
            # Sent in business hours; held-out rows record the draw, with no channel.
            time = day + self.campaign_rng.uniform(9 / 24, 17 / 24, len(row))
            self.emit(
                row,
                time,
                np.full(len(row), len(EVENTS) + number),
                np.where(treated, _CH[campaign.channel], -1),
                treatment=treated.astype("int8"),
            )

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
        # A campaign's rows are kept too: its offers go out whether or not the customer has
        # just left.
        keep &= (
            (seconds < churn)
            | (cols["event"] == _EV["cancellation"])
            | (cols["event"] >= len(EVENTS))
        )
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
        names = EVENTS + tuple(campaign.name for campaign, _ in self.campaigns)
        log = pd.DataFrame(
            {
                "customer_id": cols["row"][order] + 1,
                "timestamp": pd.Series(stamps).dt.tz_localize("UTC"),
                "event": _strings(cols["event"][order], names),
                "channel": _strings(cols["channel"][order], CHANNELS),
                "value": cols["value"][order],
                "rating": cols["rating"][order],
                "referred_id": _optional_ids(cols["referred"][order]),
            }
        )
        if self.campaigns:
            arm = cols["treatment"][order]
            log["treatment"] = pd.arrays.IntegerArray(arm.astype("int8"), arm < 0)
        return log

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
        if self.campaigns:
            segments = split_segments(segments, self.campaigns, self.offers)
            for (campaign, day), record in zip(self.campaigns, self.offers, strict=True):
                offered = record["row"][record["treated"]]
                now = np.fmin(self.churn_time[offered], end)
                working = (now >= day) & (now < day + campaign.lasts)
                ratio = np.exp(record["beta"][record["treated"]])
                hazard[offered] *= np.where(working, ratio, 1.0)
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
            incidents=_incident_table(self.incidents, p, origin, self.days),
            start=origin,
            end=_stamp(end, origin),
            offers=offers_table(self.campaigns, self.offers, origin),
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


def _check_incidents(
    incidents: Sequence[Incident], origin: pd.Timestamp, days: int
) -> tuple[tuple[Incident, float, float], ...]:
    """Each incident with its window in days from ``origin``; every window must overlap the
    simulated one."""
    if isinstance(incidents, Incident | str) or not isinstance(incidents, Sequence):
        raise JourneyParameterError(
            f"incidents must be a sequence (list or tuple) of Incident, got {incidents!r}"
        )
    end = origin + pd.Timedelta(days=days)
    planted = []
    for number, incident in enumerate(incidents, start=1):
        if not isinstance(incident, Incident):
            raise JourneyParameterError(
                f"incidents must hold Incident objects (Incident.experience, .conversion or "
                f".burst); incident {number} is {incident!r}"
            )
        if incident.end <= origin or incident.start >= end:
            raise JourneyParameterError(
                f"incident {number} ({incident.kind} from {incident.start} to {incident.end}) "
                f"does not overlap the simulated window from {origin} to {end}"
            )
        planted.append((incident, _days(incident.start, origin), _days(incident.end, origin)))
    return tuple(planted)


def _incident_table(
    incidents: tuple[tuple[Incident, float, float], ...],
    p: SimulationParameters,
    origin: pd.Timestamp,
    days: float,
) -> pd.DataFrame:
    """:attr:`GroundTruth.incidents`: what each incident does to the log, and where."""
    rows = []
    for number, (incident, lo, hi) in enumerate(incidents, start=1):
        start = _stamp(max(lo, 0.0), origin)
        end = _stamp(min(hi, days), origin)
        # The last day touched, for sentences: the window's end is exclusive.
        span = f"from {start:%Y-%m-%d} to {end - pd.Timedelta(1, 'us'):%Y-%m-%d}"
        who = (
            "all customers"
            if incident.column is None
            else f"customers with {incident.column} = {incident.value}"
        )
        column, value = incident.column, incident.value
        if incident.kind == "experience":
            base = getattr(p, incident.driver)
            event = INCIDENT_EVENTS[incident.driver]
            sign = -1 if incident.driver in _BAD_NEWS else 1
            direction = sign * int(np.sign(incident.level - base))
            metric, detail, effect = "events", event, float(incident.level)
            meaning = (
                f"{_MORE[direction]} {event} events: {incident.driver} level "
                f"{incident.level:.2f} instead of {base:.2f} for orders placed {span} by {who}"
            )
        elif incident.kind == "conversion":
            direction = int(np.sign(incident.shift))
            metric, detail, effect = "conversion", incident.step, float(incident.shift)
            meaning = (
                f"{incident.step.capitalize()} conversion {_MOVES[direction]}: "
                f"{incident.shift:+.2f} on the log odds of the {incident.step} step taken "
                f"{span} by {who}"
            )
        else:
            direction = 1
            metric, detail, effect = "new customers", None, float(incident.customers)
            column, value = "acquisition_channel", incident.channel
            intent = "low-intent " if incident.engagement < 0 else ""
            meaning = (
                f"A burst of {incident.customers:,} new {intent}customers arrived through "
                f"{incident.channel} {span} (mean engagement {incident.engagement:+.2f}, "
                "against 0 for the others)"
            )
        rows.append(
            {
                "incident": number,
                "kind": incident.kind,
                "metric": metric,
                "detail": detail,
                "column": column,
                "value": value,
                "start": start,
                "end": end,
                "direction": direction,
                "effect": effect,
                "meaning": meaning,
            }
        )
    columns = ["incident", "kind", "metric", "detail", "column", "value", "start", "end"]
    table = pd.DataFrame(rows, columns=[*columns, "direction", "effect", "meaning"])
    dtypes = {"incident": "int64", "direction": "int64", "effect": "float64"}
    dtypes |= {c: "str" for c in ("kind", "metric", "detail", "column", "value", "meaning")}
    dtypes |= {"start": "datetime64[us, UTC]", "end": "datetime64[us, UTC]"}
    return table.astype(dtypes)


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


def _utc_instant(name: str, value: Any) -> pd.Timestamp:
    """``value`` as a UTC timestamp (naive is read as UTC), or a clear error naming ``name``."""
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        stamp = pd.NaT
    if stamp is pd.NaT:
        raise JourneyParameterError(
            f"{name} must be a date or timestamp (e.g. '2024-05-06'), got {value!r}"
        )
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _finite(value: Any) -> bool:
    """A real number (not a bool) that is neither infinite nor NaN."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


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
