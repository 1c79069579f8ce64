"""The machinery retention, churn rate and lifecycle share: the log opened over calendar
periods, its span, event filters, and the segment keys of a breakdown.

A breakdown's segment columns travel through these computations under working names
(``Opened.keys``, given by :func:`journey_lib.analytics.segments.working_names` as in every
analytic), so a segment column named like one of their working columns (``new``, ``_j``,
...) cannot collide with it; :func:`key_names` names them back at the end.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import narwhals.stable.v2 as nw
import pandas as pd
import pyarrow as pa

from .._engine import Calendar, finish, in_utc, lazy_events, money, zoned_again
from ..errors import JourneyDataError, JourneyParameterError
from .segments import Segments, segment_table, segments_of, working_names

__all__ = [
    "VALUE",
    "Opened",
    "event_names",
    "finish_numpy",
    "flag",
    "key_names",
    "only",
    "open_log",
    "segment_grid",
    "span",
]

#: The column of each event's money in an opened log (see :func:`open_log`).
VALUE = "_jl_value"


@dataclass(frozen=True)
class Opened:
    """A touchpoint log opened for a period computation.

    ``log`` has ``customer_id``, ``timestamp`` (UTC unless naive) and ``event`` (and
    :data:`VALUE` when asked for); ``eager`` says whether the input was eager; ``calendar``
    numbers its periods. For a breakdown, ``segments`` is one row per customer of the whole
    log with ``customer_id`` and the segment columns under the internal names ``keys``
    (None and ``[]`` without one); ``spec`` is the breakdown. ``given`` is the log as given,
    whose zone :meth:`finish` gives the result's times back.
    """

    log: nw.LazyFrame
    eager: bool
    calendar: Calendar
    segments: nw.LazyFrame | None
    keys: list[str]
    spec: Segments | None
    given: nw.LazyFrame

    def finish(self, result: nw.LazyFrame) -> Any:
        """``result`` as the caller's kind of frame (:func:`finish_numpy`), its times zoned
        as the log's (:func:`journey_lib._engine.zoned_again`)."""
        return finish_numpy(zoned_again(result, self.given), self.eager)

    @property
    def columns(self) -> list[str]:
        """The segment columns of the result (``[]`` without a breakdown)."""
        return [] if self.spec is None else self.spec.columns

    def with_segments(self, frame: nw.LazyFrame) -> nw.LazyFrame:
        """``frame`` (rows of customers of the log) with their segment keys joined on."""
        if self.segments is None:
            return frame
        return frame.join(self.segments, on="customer_id", how="inner")


def open_log(
    events: Any,
    period: str,
    *,
    by: Any = None,
    by_rule: str = "first",
    top: int | None = 10,
    reserved: Sequence[str] = (),
    value: bool = False,
) -> Opened:
    """Open ``events`` for a period computation, with the segments of ``by`` (read from the
    whole log, before any event filter, so a segment means the same in every analytic).
    ``reserved`` are the result's own columns, which a segment column may not be named.
    ``value=True`` keeps each event's money (see :func:`journey_lib._engine.money`) as
    :data:`VALUE` and refuses a log with no ``value`` column."""
    spec = segments_of(by, by_rule, top)
    frame, eager = lazy_events(events)
    schema = frame.collect_schema()
    columns: list[Any] = ["customer_id", "timestamp", "event"]
    if value:
        if "value" not in schema:
            raise JourneyDataError(
                "measure='revenue' sums the log's 'value' column (the money of each event), "
                f"which this log lacks; it has {list(schema)}"
            )
        columns.append(money(schema).alias(VALUE))
    log = in_utc(frame.select(*columns))
    segments, keys = None, []
    if spec is not None:
        segments, names = working_names(segment_table(frame, spec, reserved=reserved, check=eager))
        keys = list(names)
    return Opened(log, eager, Calendar.of(log, period), segments, keys, spec, frame)


def key_names(opened: Opened) -> list[nw.Expr]:
    """The segment keys under the by columns' own names, for a result's first columns."""
    return [nw.col(k).alias(c) for k, c in zip(opened.keys, opened.columns, strict=True)]


def segment_grid(opened: Opened, grid: nw.LazyFrame) -> nw.LazyFrame:
    """``grid`` (rows every block has, e.g. one per period) once per segment: crossed with
    the segments' key combinations, so a segment where nothing happened still has its
    block of zeros. No change without a breakdown."""
    if opened.segments is None:
        return grid
    return opened.segments.select(*opened.keys).unique().join(grid, how="cross")


def span(log: nw.LazyFrame, cal: Calendar) -> nw.LazyFrame:
    """One row: the period index of the log's first event and of "now" (its last)."""
    return (
        log.select(
            nw.col("timestamp").min().alias("_first"), nw.col("timestamp").max().alias("_now")
        )
        .filter(~nw.col("_now").is_null())  # an empty log has no span (and no rows out)
        .select(
            cal.index(nw.col("_first")).alias("_first_idx"),
            cal.index(nw.col("_now")).alias("_now_idx"),
        )
    )


def finish_numpy(result: nw.LazyFrame, eager: bool) -> Any:
    """:func:`journey_lib._engine.finish`, with pandas results NumPy-backed throughout (text
    as pandas' ``str``): the period grid is exploded from a list literal, which pandas
    holds in Arrow. Other results as they are."""
    out = finish(result, eager)
    if isinstance(out, pd.DataFrame):
        for column, dtype in out.dtypes.items():
            if isinstance(dtype, pd.ArrowDtype):
                arrow = dtype.pyarrow_dtype
                if pa.types.is_timestamp(arrow):
                    target = (
                        pd.DatetimeTZDtype(arrow.unit, arrow.tz)
                        if arrow.tz
                        else f"datetime64[{arrow.unit}]"
                    )
                elif pa.types.is_string(arrow) or pa.types.is_large_string(arrow):
                    target = "str"
                else:
                    target = dtype.numpy_dtype
                out[column] = out[column].astype(target)
    return out


def event_names(value: str | Iterable[str] | None, name: str) -> list[str] | None:
    """None, or the event names as a non-empty list of strings."""
    if value is None:
        return None
    names = [value] if isinstance(value, str) else value
    try:
        names = list(names)
    except TypeError:
        raise JourneyParameterError(
            f"{name} must be an event name, a list of event names or None; got {value!r}"
        ) from None
    if not names or not all(isinstance(n, str) for n in names):
        raise JourneyParameterError(
            f"{name} must be an event name, a list of event names or None; got {value!r}"
        )
    return names


def only(log: nw.LazyFrame, names: list[str] | None) -> nw.LazyFrame:
    """The rows of ``log`` whose event is one of ``names`` (all rows for None)."""
    return log if names is None else log.filter(nw.col("event").is_in(names))


def flag(condition: nw.Expr) -> nw.Expr:
    """1 where ``condition`` holds, else 0 (Int64), for sums."""
    return (
        nw.when(condition).then(nw.lit(1, dtype=nw.Int64())).otherwise(nw.lit(0, dtype=nw.Int64()))
    )
