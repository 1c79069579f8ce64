"""Retention campaigns in the simulator: randomised offers whose effect on each customer is
known.

A :class:`Campaign` passed to :func:`journey_lib.simulate` (``campaigns=[...]``) works as a
CRM team's randomised retention campaign would, with the answers kept:

1. **Who is in it.** Every customer who has bought before the campaign's ``date`` and has
   not churned by then (the business's active customers).
2. **Who gets the offer.** A random ``share`` of them, drawn without replacement (complete
   randomisation: exactly ``round(share * n)`` are offered); the others are held out. Both
   arms are logged at a time within the campaign's day: a ``name`` event (default
   ``"retention_offer"``) with ``treatment`` 1 and the campaign's ``channel`` for the
   offered, ``treatment`` 0 and no channel for the held out (who were not contacted; the row
   records that they were drawn). Other rows of the log have no treatment.
3. **What the offer does.** For ``lasts`` days from the date, an offered customer's churn
   hazard is multiplied by :math:`e^{\\beta_i}`, with the **log hazard ratio**

   .. math::

      \\beta_i = \\text{effect} + \\text{trust\\_response} \\, (1 - \\text{trust}_i)
                + \\text{segment\\_response}[\\text{segment}_i]

   and :math:`\\text{trust}_i` the customer's trust when the campaign begins (after their
   last settled order; the first order's when none has settled yet). With the defaults an
   offer keeps customers who still trust the business (:math:`\\beta < 0`), does nothing
   to a consumer at trust 0.7, and **pushes away** those who have lost trust, and enterprise
   customers (:math:`\\beta > 0`): a sales contact is one more unwanted call. Those are also the
   riskiest customers, which is why ranking by risk contacts the wrong ones.
4. **The truth.** With :math:`\\Delta H_i` the customer's cumulative hazard over the
   ``lasts`` days without the offer, the probabilities of churning in them are
   :math:`1 - e^{-\\Delta H_i}` held out and :math:`1 - e^{-e^{\\beta_i} \\Delta H_i}` offered;
   the **uplift** is their difference, offered less held out (negative: the offer keeps
   customers; positive: it pushes them away). Both potential churn times are drawn with one
   random number (the customer's unit exponential on the cumulative-hazard scale), so
   ``churned_if_offered`` and ``churned_if_held_out`` are the same customer's two outcomes.
   :attr:`journey_lib.simulator.GroundTruth.offers` holds them.

Campaigns may not overlap: each one's ``lasts`` days end before the next one's date, so
every offer's effect and uplift is its own. Without campaigns, simulations are exactly
those of earlier versions for every seed: the campaigns draw from a random stream of their
own.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .errors import JourneyParameterError, check_choice

__all__ = ["Campaign"]

_SEGMENTS = ("consumer", "small_business", "enterprise")
_CHANNELS = ("email", "phone", "app", "web", "store")


@dataclass(frozen=True)
class Campaign:
    """A randomised retention campaign for :func:`journey_lib.simulate`.

    The process and the truth it keeps are in :mod:`journey_lib.retention_campaign`.

    Attributes
    ----------
    date : str or Timestamp
        The campaign's day: its UTC midnight is when it begins (a time with another zone is
        first turned into UTC, then its day taken).
    share : float, default 0.5
        The share of the eligible customers offered; the rest are held out.
    effect : float, default -1.5
        The offer's log hazard ratio for a consumer at full trust.
    trust_response : float, default 5.0
        Added to the log hazard ratio per unit of trust lost: with the defaults the offer
        stops working at trust 0.7 for a consumer and pushes away those below.
    segment_response : mapping, default consumer 0, small_business -0.2, enterprise 1.0
        Added to the log hazard ratio per segment.
    lasts : float, default 90
        Days the offer changes the hazard for; also the window of the true uplift.
    channel : str, default "email"
        The channel the offer is logged through.
    name : str, default "retention_offer"
        The logged event; campaigns of one simulation need names of their own.

    Examples
    --------
    >>> offer = Campaign("2024-07-01")
    >>> print(offer.date, f"{offer.log_hazard_ratio(0.9, 'consumer'):+.2f}")
    2024-07-01 00:00:00+00:00 -1.00
    >>> Campaign("2024-07-01", share=1.0)
    Traceback (most recent call last):
    ...
    journey_lib.errors.JourneyParameterError: share is the share of eligible customers offered, \
strictly between 0 and 1 so that some are held out; got 1.0
    """

    date: str | pd.Timestamp
    share: float = 0.5
    effect: float = -1.5
    trust_response: float = 5.0
    segment_response: Mapping[str, float] = field(
        default_factory=lambda: {"consumer": 0.0, "small_business": -0.2, "enterprise": 1.0}
    )
    lasts: float = 90.0
    channel: str = "email"
    name: str = "retention_offer"

    def __post_init__(self) -> None:
        try:
            date = pd.Timestamp(self.date)
        except (TypeError, ValueError) as error:
            raise JourneyParameterError(
                f"date must be a date or time, got {self.date!r}"
            ) from error
        if pd.isna(date):
            raise JourneyParameterError(f"date must be a date or time, got {self.date!r}")
        date = date.tz_localize("UTC") if date.tzinfo is None else date.tz_convert("UTC")
        object.__setattr__(self, "date", date.normalize())
        for name in ("share", "effect", "trust_response", "lasts"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise JourneyParameterError(f"{name} must be a number, got {value!r}")
        if not isinstance(self.segment_response, Mapping):
            raise JourneyParameterError(
                f"segment_response must map each segment to a number, got {self.segment_response!r}"
            )
        if not 0.0 < self.share < 1.0:
            raise JourneyParameterError(
                "share is the share of eligible customers offered, strictly between 0 and 1 "
                f"so that some are held out; got {self.share!r}"
            )
        for name in ("effect", "trust_response"):
            if not np.isfinite(getattr(self, name)):
                raise JourneyParameterError(f"{name} must be a finite number")
        if set(self.segment_response) != set(_SEGMENTS) or not all(
            isinstance(v, numbers.Real) and np.isfinite(v) for v in self.segment_response.values()
        ):
            raise JourneyParameterError(
                f"segment_response must give a finite number for each of {list(_SEGMENTS)}; "
                f"got {dict(self.segment_response)!r}"
            )
        if not (np.isfinite(self.lasts) and self.lasts > 0):
            raise JourneyParameterError(
                f"lasts must be a positive number of days, got {self.lasts!r}"
            )
        check_choice("channel", self.channel, _CHANNELS)
        if not isinstance(self.name, str) or not self.name.strip():
            raise JourneyParameterError(f"name must be an event name, got {self.name!r}")

    def log_hazard_ratio(self, trust: Any, segment: Any) -> np.ndarray | float:
        """The offer's log hazard ratio for customers of ``trust`` (0 to 1) and ``segment``
        (names, or codes in ``("consumer", "small_business", "enterprise")``)."""
        codes = np.asarray(segment)
        if codes.dtype.kind in "OUT":
            codes = np.vectorize(_SEGMENTS.index, otypes=[int])(codes)
        by_segment = np.array([self.segment_response[s] for s in _SEGMENTS])[codes]
        beta = self.effect + self.trust_response * (1.0 - np.asarray(trust, float)) + by_segment
        return float(beta) if np.ndim(beta) == 0 else beta


def check_campaigns(
    campaigns: Sequence[Campaign], origin: pd.Timestamp, days: float, events: Sequence[str]
) -> tuple[tuple[Campaign, float], ...]:
    """Each campaign with its day from ``origin``, in date order; they must lie inside the
    window, not overlap, and have names of their own that no simulated event has."""
    if isinstance(campaigns, Campaign | str) or not isinstance(campaigns, Sequence):
        raise JourneyParameterError(
            f"campaigns must be a sequence (list or tuple) of Campaign, got {campaigns!r}"
        )
    for number, campaign in enumerate(campaigns, start=1):
        if not isinstance(campaign, Campaign):
            raise JourneyParameterError(
                f"campaigns must hold Campaign objects; campaign {number} is {campaign!r}"
            )
    ordered = sorted(campaigns, key=lambda c: c.date)
    names = [c.name for c in ordered]
    clash = sorted({n for n in names if names.count(n) > 1 or n in events})
    if clash:
        raise JourneyParameterError(
            f"each campaign needs an event name of its own, not another campaign's or a "
            f"simulated event's; {clash[0]!r} is taken"
        )
    placed = []
    for campaign in ordered:
        day = (campaign.date - origin) / pd.Timedelta(days=1)
        if not 0 < day < days:
            raise JourneyParameterError(
                f"campaign {campaign.name!r} on {campaign.date:%Y-%m-%d} is not inside the "
                f"simulated window from {origin:%Y-%m-%d} ({days:g} days)"
            )
        if placed and day < placed[-1][1] + placed[-1][0].lasts:
            before = placed[-1][0]
            raise JourneyParameterError(
                f"campaign {campaign.name!r} begins on {campaign.date:%Y-%m-%d}, while "
                f"{before.name!r}'s offer still works ({before.lasts:g} days from "
                f"{before.date:%Y-%m-%d}); campaigns may not overlap"
            )
        placed.append((campaign, float(day)))
    return tuple(placed)


class HazardPath:
    """Every buyer's piecewise-constant churn hazard, as the simulator draws churn from it.

    Segments are flat arrays sorted by customer, then start; ``group`` numbers each
    customer's segments (0, 1, ... in customer order) and ``of_row`` gives a customer row's
    group (-1 for customers without segments).
    """

    def __init__(
        self, row: np.ndarray, start: np.ndarray, end: np.ndarray, hazard: np.ndarray, n: int
    ) -> None:
        self.start, self.hazard = start, hazard
        first = np.r_[True, row[1:] != row[:-1]] if len(row) else np.zeros(0, bool)
        self.group = np.cumsum(first) - 1
        self.of_row = np.full(n, -1)
        self.of_row[row[first]] = np.arange(first.sum())
        length = np.where(np.isfinite(end), end - start, 0.0)
        with np.errstate(invalid="ignore"):
            inclusive = np.cumsum(length * hazard)
        # The cumulative hazard at each segment's start: the running total within its group.
        before = np.r_[0.0, inclusive[:-1]] if len(row) else inclusive
        self.cum = before - before[np.flatnonzero(first)][self.group] if len(row) else before

    def _locate(self, key: np.ndarray, groups: np.ndarray, query: np.ndarray) -> np.ndarray:
        """For each query, the last segment of its group whose ``key`` is at most the
        query's (keys sorted within a group), or -1."""
        n = len(key)
        g = np.r_[self.group, groups]
        k = np.r_[key, query]
        is_query = np.r_[np.zeros(n, bool), np.ones(len(query), bool)]
        order = np.lexsort((is_query, k, g))
        running = np.maximum.accumulate(np.where(is_query[order], -1, order))
        found = np.empty(len(query), dtype=np.int64)
        found[order[is_query[order]] - n] = running[is_query[order]]
        same = (found >= 0) & (self.group[np.maximum(found, 0)] == groups)
        return np.where(same, found, -1)

    def segment_at(self, rows: np.ndarray, t: np.ndarray) -> np.ndarray:
        """The segment in force at time ``t`` for each customer row (-1 before the first)."""
        return self._locate(self.start, self.of_row[rows], np.asarray(t, float))

    def cumulative(self, rows: np.ndarray, t: np.ndarray) -> np.ndarray:
        """The cumulative hazard from the first segment to ``t`` (inf at t = inf)."""
        t = np.broadcast_to(np.asarray(t, float), rows.shape)
        j = self.segment_at(rows, t)
        k = np.maximum(j, 0)
        with np.errstate(invalid="ignore"):
            inside = self.cum[k] + self.hazard[k] * (t - self.start[k])
        inside = np.where(np.isnan(inside), np.inf, inside)
        return np.where(j >= 0, inside, 0.0)

    def inverse(self, rows: np.ndarray, target: np.ndarray) -> np.ndarray:
        """The time at which the cumulative hazard reaches ``target`` (inf when never)."""
        j = self._locate(self.cum, self.of_row[rows], np.asarray(target, float))
        k = np.maximum(j, 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = self.start[k] + (target - self.cum[k]) / self.hazard[k]
        return np.where((j >= 0) & np.isfinite(target), np.nan_to_num(t, nan=np.inf), np.inf)


def run_campaigns(
    placed: tuple[tuple[Campaign, float], ...],
    path: HazardPath,
    churn_time: np.ndarray,
    first_order: np.ndarray,
    trust_after: np.ndarray,
    first_trust: np.ndarray,
    segment: np.ndarray,
    rng: np.random.Generator,
) -> list[dict[str, np.ndarray]]:
    """Assign each campaign's offers and move the offered customers' churn times (in place).

    ``churn_time`` (days, NaN for customers who never bought) is drawn along ``path``;
    ``first_order`` is each customer's first purchase (NaN if none), ``trust_after`` each
    segment's trust and ``first_trust`` each customer's trust after the first order.
    Returns one record per campaign: ``row``, ``treated``, ``beta``, ``uplift`` and both
    potential churn times of every eligible customer.
    """
    records = []
    for campaign, day in placed:
        with np.errstate(invalid="ignore"):
            eligible = np.flatnonzero((first_order < day) & (churn_time > day))
        treated = np.zeros(len(eligible), dtype=bool)
        treated[rng.permutation(len(eligible))[: round(campaign.share * len(eligible))]] = True
        j = path.segment_at(eligible, np.full(len(eligible), day))
        trust = np.where(j >= 0, trust_after[np.maximum(j, 0)], first_trust[eligible])
        beta = np.asarray(campaign.log_hazard_ratio(trust, segment[eligible]), float)
        ratio = np.exp(beta)
        end = day + campaign.lasts
        at_start = path.cumulative(eligible, np.full(len(eligible), day))
        gained = path.cumulative(eligible, np.full(len(eligible), end)) - at_start
        held_out = churn_time[eligible]
        # The customer's own unit exponential, past the campaign's start.
        spent = path.cumulative(eligible, held_out) - at_start
        within = spent <= ratio * gained
        offered = np.where(
            within,
            path.inverse(eligible, at_start + spent / ratio),
            path.inverse(eligible, at_start + gained + spent - ratio * gained),
        )
        # Equal to the held-out time where the offer has no effect, to the last bit.
        offered = np.where(ratio == 1.0, held_out, offered)
        churn_time[eligible[treated]] = offered[treated]
        records.append(
            {
                "row": eligible,
                "treated": treated,
                "trust": trust,
                "beta": beta,
                "uplift": np.exp(-gained) - np.exp(-ratio * gained),
                "offered": offered,
                "held_out": held_out,
                "end": np.full(len(eligible), end),
            }
        )
    return records


def split_segments(
    segments: pd.DataFrame, placed: tuple[tuple[Campaign, float], ...], records: list[dict]
) -> pd.DataFrame:
    """The truth's hazard segments (``row``, ``start``, ``end``, ``hazard``) with each
    offered customer's segments cut at the offer's start and end, the hazard multiplied
    in between."""
    for (campaign, day), record in zip(placed, records, strict=True):
        rows = record["row"][record["treated"]]
        ratio = pd.Series(np.exp(record["beta"][record["treated"]]), index=rows)
        hit = segments["row"].isin(rows).to_numpy()
        touched, kept = segments[hit], segments[~hit]
        s, e = touched["start"].to_numpy(), touched["end"].to_numpy()
        h, r = touched["hazard"].to_numpy(), touched["row"].to_numpy()
        end = day + campaign.lasts
        pieces = []
        for lo, hi, factor in (
            (s, np.minimum(e, day), 1.0),
            (np.maximum(s, day), np.minimum(e, end), ratio.reindex(r).to_numpy()),
            (np.maximum(s, end), e, 1.0),
        ):
            keep = lo < hi
            pieces.append(
                pd.DataFrame(
                    {
                        "row": r[keep],
                        "start": lo[keep],
                        "end": hi[keep],
                        "hazard": (h * factor)[keep],
                    }
                )
            )
        segments = pd.concat([kept, *pieces], ignore_index=True)
        segments = segments.sort_values(["row", "start"], kind="stable", ignore_index=True)
    return segments


def offers_table(
    placed: tuple[tuple[Campaign, float], ...],
    records: list[dict],
    origin: pd.Timestamp,
) -> pd.DataFrame:
    """:attr:`journey_lib.simulator.GroundTruth.offers`."""
    frames = []
    for (campaign, _), record in zip(placed, records, strict=True):
        end = record["end"]
        frames.append(
            pd.DataFrame(
                {
                    "campaign": campaign.name,
                    "date": campaign.date,
                    "customer_id": record["row"] + 1,
                    "treated": record["treated"],
                    "trust": record["trust"],
                    "log_hazard_ratio": record["beta"],
                    "uplift": record["uplift"],
                    "churned_if_offered": record["offered"] < end,
                    "churned_if_held_out": record["held_out"] < end,
                    "churn_time_if_offered": _stamps(record["offered"], origin),
                    "churn_time_if_held_out": _stamps(record["held_out"], origin),
                }
            )
        )
    columns = {
        "campaign": "str",
        "date": "datetime64[us, UTC]",
        "customer_id": "int64",
        "treated": "bool",
        "trust": "float64",
        "log_hazard_ratio": "float64",
        "uplift": "float64",
        "churned_if_offered": "bool",
        "churned_if_held_out": "bool",
        "churn_time_if_offered": "datetime64[us, UTC]",
        "churn_time_if_held_out": "datetime64[us, UTC]",
    }
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in columns.items()})
    return pd.concat(frames, ignore_index=True).astype(columns)


def _stamps(days: np.ndarray, origin: pd.Timestamp) -> pd.Series:
    """Days from ``origin`` as UTC times to the second; NaT past a million days (about
    2,700 years: never, for a churn that the simulator's path puts beyond reach)."""
    finite = np.isfinite(days) & (days < 1e6)
    seconds = np.where(finite, np.round(days * 86_400), 0).astype("int64")
    stamps = origin + pd.to_timedelta(seconds, unit="s")
    return pd.Series(stamps).where(finite)
