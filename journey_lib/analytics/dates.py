"""Restricting a touchpoint log to a date range, on any engine."""

from __future__ import annotations

from typing import Any

import narwhals.stable.v2 as nw
from narwhals.typing import IntoFrameT

from .._engine import finish, lazy_events, with_microseconds
from .._time import instant_us, utc_datetime
from ..errors import JourneyParameterError

__all__ = ["within"]


def within(events: IntoFrameT, start: Any = None, end: Any = None) -> IntoFrameT:
    """The events with ``start <= timestamp < end``.

    Either bound may be None or ``""`` (open), as notebook parameters leave them. A bare date
    means midnight UTC, so ``end="2024-07-01"`` keeps June 30 and stops before July 1.

    Parameters
    ----------
    events : DataFrame
        A touchpoint log of any engine; the result is of the same kind.
    start, end : date, time or str, optional

    Returns
    -------
    DataFrame

    Raises
    ------
    JourneyParameterError
        When a bound is not a date, or ``end`` is not after ``start``.

    Examples
    --------
    >>> import pandas as pd, journey_lib as jl
    >>> log = pd.DataFrame({"customer_id": [1, 1, 2], "event": ["a", "b", "a"],
    ...     "timestamp": pd.to_datetime(["2024-06-30 23:00", "2024-07-01 00:00",
    ...                                  "2024-07-02 00:00"], utc=True)})
    >>> jl.within(log, end="2024-07-01")["event"].tolist()
    ['a']
    >>> len(jl.within(log, start="2024-07-01", end=""))
    2
    """
    bounds = {
        name: None if value is None or value == "" else utc_datetime(value, name)
        for name, value in (("start", start), ("end", end))
    }
    if bounds["start"] and bounds["end"] and bounds["end"] <= bounds["start"]:
        raise JourneyParameterError(
            f"end ({bounds['end']:%Y-%m-%d %H:%M}) must come after start "
            f"({bounds['start']:%Y-%m-%d %H:%M})"
        )
    frame, eager = lazy_events(events)
    if bounds["start"] is None and bounds["end"] is None:
        return finish(frame, eager)
    # Microseconds since the epoch compare the same way on every engine.
    timed = with_microseconds(frame, "_within_us")
    us = nw.col("_within_us")
    keep = nw.lit(True)
    if bounds["start"] is not None:
        keep = keep & (us >= instant_us(bounds["start"], "start"))
    if bounds["end"] is not None:
        keep = keep & (us < instant_us(bounds["end"], "end"))
    return finish(timed.filter(keep).drop("_within_us"), eager)
