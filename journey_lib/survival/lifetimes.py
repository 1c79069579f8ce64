"""Each customer's lifetime from a touchpoint log: the input of the survival curves and the
Cox model.

Definitions
-----------
* **Acquisition**: the customer's first acquisition event (the profile's ``acquisition``,
  say ``signup``); customers who never had one are not customers yet and are left out.
  Without an acquisition event, a customer's first event of any kind.
* **Churn**: the first of two things after acquisition.

  - A churn event (the profile's ``churn_event``, say ``cancellation``), when the log has
    one.
  - The start of inactivity as :func:`journey_lib.churn_rate` counts it: the customer's
    last event before the first gap of at least ``W`` (the inactivity span), including
    the gap from their last event to "now" when that is ``W`` or more. Customers who leave
    without cancelling are churned too, from where they went quiet. ``by_inactivity=False``
    leaves it out, for businesses where a quiet customer is still a customer (a contract
    that runs until cancelled).
* **Censored**: no churn by "now", the cutoff (or the log's last timestamp): the lifetime is
  at least now - acquisition.
* Only events before the cutoff are read, so a lifetime table at a past cutoff is what was
  known then (point in time, like the churn dataset).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import narwhals.stable.v2 as nw
from narwhals.typing import IntoFrameT

from .._engine import finish, lazy_events, with_microseconds
from .._time import DAY_US, duration_us, instant_us
from ..analytics._periods import event_names
from ..errors import JourneyDataError, JourneyParameterError
from ..io.profile import LogProfile, from_profile

__all__ = ["LIFETIME_COLUMNS", "customer_lifetimes"]

#: The columns of :func:`customer_lifetimes`.
LIFETIME_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "acquired_at",
    "churned_at",
    "duration",
    "churned",
)


_KEEP = ("customer_id", "_us", "timestamp")


def customer_lifetimes(
    events: IntoFrameT,
    *,
    profile: LogProfile | None = None,
    acquisition: str | None = None,
    churn_event: str | Iterable[str] | None = None,
    inactivity: Any = None,
    cutoff: Any = None,
    by_inactivity: bool = True,
) -> IntoFrameT:
    """Each customer's time from acquisition to churn, or to now when they are still a
    customer (definitions in :mod:`journey_lib.survival.lifetimes`).

    Parameters
    ----------
    events : frame of any engine
        A touchpoint log (``customer_id``, ``timestamp``, ``event``); lazy stays lazy.
    profile : LogProfile, optional
        Gives ``acquisition``, ``churn_event`` and ``inactivity`` unless they are passed
        (not its ``cutoff``, which is where a churn model is trained: lifetimes run to the
        log's end unless ``cutoff`` is given).
    acquisition : str, optional
        The event that makes a prospect a customer; the first event when not given.
    churn_event : str or list of str, optional
        The event that ends a lifetime.
    inactivity : str or timedelta, optional
        ``W``, the gap that ends a lifetime; the profile's, else ``"90D"``.
    cutoff : date, optional
        "Now": events from then on are not read. The log's last timestamp when not given.
    by_inactivity : bool, default True
        Whether a gap of ``W`` ends a lifetime; False needs a churn event.

    Returns
    -------
    DataFrame
        One row per customer: ``customer_id``, ``acquired_at``, ``churned_at`` (missing while
        still a customer), ``duration`` (days, float) and ``churned`` (bool); the input of
        :func:`~journey_lib.survival.kaplan_meier` and
        :class:`~journey_lib.survival.CoxModel` as it is.

    Raises
    ------
    JourneyDataError
        The log lacks a required column, or has no acquisition event at all.
    JourneyParameterError
        ``by_inactivity=False`` without a churn event, or a bad ``inactivity``.

    Examples
    --------
    Customer 1 signed up on day 1 and cancelled on day 11; customer 2 signed up on day 5
    and is still there on day 21, the log's end; customer 3 never signed up.

    >>> import pandas as pd, journey_lib as jl
    >>> log = pd.DataFrame({
    ...     "customer_id": [1, 1, 1, 2, 2, 3],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-04", "2024-01-11",
    ...                                  "2024-01-05", "2024-01-21", "2024-01-02"], utc=True),
    ...     "event": ["signup", "visit", "cancellation", "signup", "visit", "visit"]})
    >>> life = jl.survival.customer_lifetimes(log, acquisition="signup",
    ...                                       churn_event="cancellation")
    >>> life[["customer_id", "duration", "churned"]].to_dict("list")
    {'customer_id': [1, 2], 'duration': [10.0, 16.0], 'churned': [True, False]}
    """
    acquisition = from_profile(profile, "acquisition", acquisition, None)
    churn_events = event_names(
        from_profile(profile, "churn_event", churn_event, None), "churn_event"
    )
    window = duration_us(from_profile(profile, "inactivity", inactivity, "90D"), "inactivity")
    frame, eager = lazy_events(events)
    log = with_microseconds(frame.select("customer_id", "timestamp", "event"), "_us")
    if cutoff is not None:
        log = log.filter(nw.col("_us") < instant_us(cutoff, "cutoff"))
        now = instant_us(cutoff, "cutoff")
    else:
        last = log.select(nw.col("_us").max()).collect().item()
        if last is None:
            raise JourneyDataError("the log has no events")
        now = int(last)
    firsts = log if acquisition is None else log.filter(nw.col("event") == acquisition)
    starts = firsts.group_by("customer_id").agg(
        nw.col("_us").min().alias("_start"), nw.col("timestamp").min().alias("acquired_at")
    )
    if acquisition is not None:
        found = starts.select(nw.len()).collect().item()
        if not found:
            raise JourneyDataError(
                f"no customer has the acquisition event {acquisition!r} before the cutoff; "
                "give acquisition=None to start each lifetime at the first event"
            )
    after = log.join(starts.select("customer_id", "_start"), on="customer_id").filter(
        nw.col("_us") >= nw.col("_start")
    )
    if churn_events is None and not by_inactivity:
        raise JourneyParameterError(
            "by_inactivity=False needs a churn event (churn_event= or the profile's) to end a "
            "lifetime"
        )
    ends = None
    if churn_events is not None:
        ends = after.filter(nw.col("event").is_in(churn_events)).select(*_KEEP)
    if by_inactivity:
        gap = nw.col("_us").shift(-1).over("customer_id", order_by="_us") - nw.col("_us")
        lapses = (
            after.with_columns(_gap=gap)
            .with_columns(_gap=nw.col("_gap").fill_null(now - nw.col("_us")))
            .filter(nw.col("_gap") >= window)
            .select(*_KEEP)
        )
        ends = lapses if ends is None else nw.concat([ends, lapses])
    ends = ends.group_by("customer_id").agg(
        nw.col("_us").min().alias("_end"), nw.col("timestamp").min().alias("churned_at")
    )
    result = (
        starts.join(ends, on="customer_id", how="left")
        .with_columns(
            churned=~nw.col("_end").is_null(),
            duration=(nw.col("_end").fill_null(now) - nw.col("_start")).cast(nw.Float64()) / DAY_US,
        )
        .select(*LIFETIME_COLUMNS)
        .sort("customer_id")
    )
    return finish(result, eager)
