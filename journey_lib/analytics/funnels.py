"""Conversion funnels: :func:`funnel`, :func:`funnel_trend` and :func:`time_to_convert`.

Definitions (shared by all three)
---------------------------------
A **step** is an event name, or an event name with property filters:
``"purchase"`` or ``("page_view", {"url": "/checkout"})`` (a list of values means any of
them). A row *matches* a step when its event and every filtered column agree.

A customer's rows are taken in a fixed **order**: by time; rows with the same timestamp by the
first step they match (rows matching no step last), then by which steps they match, then by
the breakdown value. So a later step can always be completed at the same instant as the step
before it, and the answer never depends on how the input happened to be sorted.

An **attempt** starts at a row matching step 1 (``order="any"``: any step) that falls in
``date_range``. From it, each further step is completed by the *earliest* row after the
previous step's row that matches it, so every step uses its own row: steps ``[a, a]`` need two
``a`` rows. Taking the earliest row at each step reaches the furthest step possible.

- ``order="ordered"``: other rows may come in between.
- ``order="strict"``: each step must be the customer's very next row.
- ``order="any"``: the steps in any order. The attempt starts at its first matching row and
  level *k* means *k* of the steps were completed by distinct rows within the window; steps
  naming the same event count that event's rows (the step matchers must then be identical or
  disjoint). The time of step *k* is when the *k*-th step was completed.

``window`` (e.g. ``"1h"``, ``"14D"``; None: unlimited) is counted from the attempt's first row
and includes its end: a step at exactly ``start + window`` counts.

``entry="any"``: every qualifying row starts an attempt and the customer counts at the
furthest step any attempt reaches (ClickHouse's ``windowFunnel``, PostHog). ``entry="first"``:
only the customer's first qualifying row in the date range starts one (Mixpanel's uniques).
Of several attempts reaching the same step, the one that started first is the customer's
**counted attempt**; its rows give the breakdown value, the times to convert and the
exclusions.

``date_range=(start, end)`` is half-open, ``start <= t < end``: ``("2024-01-01",
"2024-02-01")`` is January. Step 1 must fall in it; with
``range_mode="entry_and_completion"`` every step must.

``exclusions=[(event, from_step, to_step)]``: a customer whose counted attempt has such an
event strictly after its ``from_step`` and strictly before its ``to_step`` (or, when it never
reached ``to_step``, before its window closed) leaves the funnel entirely.

Times are computed as integer microseconds; ``median_time_to_convert`` is in seconds.

Breakdowns by customer segment (``by=``)
----------------------------------------
``by`` puts every customer in one segment (:mod:`journey_lib.analytics.segments`: a column of
the log read by ``by_rule``, or of a customer table; ``(missing)``; ``(other)`` beyond
``top``). Segments are read from the whole log given, before ``date_range`` or anything else
narrows it, so a customer is in the same segment in every analytic. Each segment's block is
exactly what the function gives on the log restricted to that segment's customers, with the
segment columns first and the rows sorted by them; a segment whose customers never started
an attempt still has its block (zeros in a funnel, empty bins in a histogram). One
exception: :func:`funnel_trend` reads ``complete`` against the whole log's last event (the
horizon of the data, not of the segment), so a period is complete in every segment or in
none. ``by`` and ``breakdown`` combine: a segment is a property of the customer, a
breakdown value is read from the counted attempt's rows, and the result has a block per
segment and breakdown value. The segment is joined to the counted attempts (one row per
customer) once they are found: one group-by of the log and one small join, whatever the
number of segments.

How chains are followed: an ordered funnel whose steps can never match the same row and
that has no breakdown (``by`` does not matter) uses forward as-of joins on pandas, Polars
and DuckDB (relations of any connection, not only the default one); every other funnel, and
every funnel on PySpark, uses window functions (running minima from the end). Both give the
same answers (tests hold them to a brute-force reference). Collecting such a funnel from a
Polars LazyFrame may print Polars' notice that it "cannot check sortedness" within
customers: harmless, both sides are sorted.
"""

from __future__ import annotations

import datetime as dt
import itertools
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import narwhals.stable.v2 as nw
from narwhals.typing import IntoFrameT

from .._engine import (
    DIGIT,
    finish,
    has_as_of_joins,
    in_utc,
    join_asof_forward,
    lazy_events,
    small_range,
    with_microseconds,
    zoned_again,
)
from .._time import PERIODS, duration_us, period_start, utc_datetime
from ..errors import JourneyDataError, JourneyParameterError, check_choice
from ..io.profile import LogProfile, from_profile
from .segments import Segments, grouped, segment_table, segments_of

__all__ = ["Step", "funnel", "funnel_trend", "time_to_convert"]

ORDERS = ("ordered", "strict", "any")
ENTRIES = ("any", "first")
RANGE_MODES = ("entry", "entry_and_completion")
RESULT_COLUMNS = (
    "step",
    "event",
    "customers",
    "conversion_rate",
    "step_conversion_rate",
    "median_time_to_convert",
)
# Beyond any real time: stands for "no upper bound" in integer microseconds.
_FOREVER = 2**62
# Steps an as-of funnel handles: its row key packs the first step into four bits.
_MAX_AS_OF_STEPS = 15


@dataclass(frozen=True)
class Step:
    """One funnel step: an event name and optional property filters.

    ``filters`` maps a column to a value, or to a list/tuple of accepted values.
    """

    event: str
    filters: tuple[tuple[str, tuple[Any, ...]], ...] = ()

    @classmethod
    def parse(cls, spec: Any, position: int) -> Step:
        if isinstance(spec, Step):
            return spec
        if isinstance(spec, str):
            event, filters = spec, {}
        elif isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[1], Mapping):
            event, filters = spec
        else:
            raise JourneyParameterError(
                f"step {position} is {spec!r}; a step is an event name or "
                f"(event name, {{column: value}})"
            )
        if not isinstance(event, str) or not event:
            raise JourneyParameterError(f"step {position} needs a non-empty event name")
        normalised = tuple(
            sorted(
                (str(column), tuple(v) if isinstance(v, list | tuple | set) else (v,))
                for column, v in filters.items()
            )
        )
        return cls(event, normalised)

    @property
    def label(self) -> str:
        """How the step is named in results: ``page_view[url='/checkout']``."""
        if not self.filters:
            return self.event
        parts = [
            f"{c}={vals[0]!r}" if len(vals) == 1 else f"{c} in {list(vals)!r}"
            for c, vals in self.filters
        ]
        return f"{self.event}[{', '.join(parts)}]"

    def matches(self) -> nw.Expr:
        """Boolean expression: the row matches this step (False where a value is missing)."""
        return self.condition().fill_null(value=False)

    def condition(self) -> nw.Expr:
        """The step's condition as a filter takes it: missing where a value compared is."""
        condition = nw.col("event") == self.event
        for column, values in self.filters:
            if len(values) == 1:
                condition = condition & (nw.col(column) == values[0])
            else:
                condition = condition & nw.col(column).is_in(list(values))
        return condition

    def disjoint_from(self, other: Step) -> bool:
        """True when no row can match both steps (different events, or a shared filter
        column whose accepted values do not overlap)."""
        if self.event != other.event:
            return True
        mine, theirs = dict(self.filters), dict(other.filters)
        return any(not set(mine[c]) & set(theirs[c]) for c in mine.keys() & theirs.keys())


@dataclass(frozen=True)
class _Spec:
    steps: tuple[Step, ...]
    window: int | None
    order: str
    entry: str
    exclusions: tuple[tuple[Step, int, int], ...]
    breakdown: str | None
    attribution: str | int
    range_start: int | None
    range_end: int | None
    completion_in_range: bool
    period: str | None = None

    @property
    def k(self) -> int:
        return len(self.steps)

    @property
    def keys(self) -> list[str]:
        """What an attempt is counted per: the customer, and the period in a trend."""
        return ["customer_id", "period"] if self.period else ["customer_id"]


def funnel(
    events: IntoFrameT,
    steps: Sequence[Any] | None = None,
    *,
    profile: LogProfile | None = None,
    window: Any = None,
    order: str = "ordered",
    entry: str = "any",
    exclusions: Sequence[tuple[Any, int, int]] = (),
    breakdown: str | None = None,
    breakdown_attribution: str | int = "first",
    date_range: tuple[Any, Any] | None = None,
    range_mode: str = "entry",
    by: str | Sequence[str] | Segments | None = None,
    by_rule: str = "first",
    top: int | None = 10,
) -> IntoFrameT:
    """Customers reaching each step of a conversion funnel.

    The definitions (steps, row order, attempts, window, entry, date range, exclusions) are
    in the module docstring of :mod:`journey_lib.analytics.funnels`; read them once.

    Parameters
    ----------
    events : DataFrame
        A touchpoint log of any engine (pandas, Polars, DuckDB, PySpark), with parsed UTC
        timestamps. The result is the same kind; lazy stays lazy.
    steps : sequence, optional
        Event names or ``(event, {column: value})`` pairs, in funnel order; the profile's
        default funnel when not given.
    profile : LogProfile, optional
        A log profile (:func:`journey_lib.profile`), for the steps when not given.
    window : str, timedelta or None
        Longest time from the attempt's first row to its last step, inclusive.
    order : {"ordered", "strict", "any"}
    entry : {"any", "first"}
    exclusions : sequence of (step, from_step, to_step)
        ``1 <= from_step < to_step <= len(steps)``.
    breakdown : str, optional
        A column; results are given per value (missing values form their own group).
    breakdown_attribution : {"first", "last"} or int
        Whose value a customer is counted under: the counted attempt's first row, the row of
        the furthest step it reached, or the row of step *k* (customers who did not reach
        step *k* are counted under a missing value). Any-order funnels support "first" only.
    date_range : (start, end), optional
        Half-open; naive times are UTC.
    range_mode : {"entry", "entry_and_completion"}
    by : str, list of str or Segments, optional
        Segment columns (a list: one segment per combination of values), or a
        :class:`~journey_lib.analytics.segments.Segments` for a customer table or a cutoff:
        the funnel per customer segment (see "Breakdowns by customer segment" in the module
        docstring). May be combined with ``breakdown`` but may not name the same column.
    by_rule : {"first", "last", "at_cutoff"}, default "first"
        Which value of a ``by`` column that changes over a customer's life counts.
    top : int or None, default 10
        Segments kept by name; the customers of the others are counted in ``(other)``.

    Returns
    -------
    DataFrame
        One row per step (per breakdown value and step when given), sorted: ``step``
        (1-based), ``event`` (the step's label), ``customers`` (reaching at least that step),
        ``conversion_rate`` (share of step 1), ``step_conversion_rate`` (share of the step
        before; 1 at step 1), ``median_time_to_convert`` (seconds from the step before,
        over the customers reaching this step; missing at step 1). Rates are missing when
        their denominator is 0. With ``by``, the segment columns (text) come first and
        every segment has its k rows (with ``breakdown``: per breakdown value its customers
        were counted under), sorted by segment, then as without; an empty log has no
        segments and so no rows.

    Examples
    --------
    Mixpanel's documented case: a 1-hour window and events a 1:00, a 1:30, b 1:45, c 2:15.

    >>> import pandas as pd
    >>> log = pd.DataFrame({
    ...     "customer_id": [1, 1, 1, 1],
    ...     "timestamp": pd.to_datetime(["2024-01-01 01:00", "2024-01-01 01:30",
    ...                                  "2024-01-01 01:45", "2024-01-01 02:15"], utc=True),
    ...     "event": ["a", "a", "b", "c"]})
    >>> funnel(log, ["a", "b", "c"], window="1h")[["step", "event", "customers"]]
       step event  customers
    0     1     a          1
    1     2     b          1
    2     3     c          1
    >>> funnel(log, ["a", "b", "c"], window="1h", entry="first")["customers"].tolist()
    [1, 1, 0]

    Per customer segment: customer 1 came on the web first, customer 2 on the app.

    >>> log = pd.DataFrame({
    ...     "customer_id": [1, 1, 2],
    ...     "timestamp": pd.to_datetime(["2024-01-01 01:00", "2024-01-01 01:10",
    ...                                  "2024-01-01 02:00"], utc=True),
    ...     "event": ["a", "b", "a"], "platform": ["web", "app", "app"]})
    >>> funnel(log, ["a", "b"], by="platform")[["platform", "step", "customers"]]
      platform  step  customers
    0      app     1          1
    1      app     2          0
    2      web     1          1
    3      web     2          1
    """
    frame, eager = lazy_events(events)
    spec = _spec(
        frame,
        _steps(steps, profile),
        window=window,
        order=order,
        entry=entry,
        exclusions=exclusions,
        breakdown=breakdown,
        attribution=breakdown_attribution,
        date_range=date_range,
        range_mode=range_mode,
    )
    segments = _by(frame, by, by_rule, top, eager, RESULT_COLUMNS, breakdown=breakdown)
    counted = _counted_attempts(frame, spec)
    return _finish(_step_table(counted, spec, frame, segments), eager)


def funnel_trend(
    events: IntoFrameT,
    steps: Sequence[Any] | None = None,
    *,
    profile: LogProfile | None = None,
    period: str | None = None,
    window: Any = None,
    order: str = "ordered",
    entry: str = "any",
    exclusions: Sequence[tuple[Any, int, int]] = (),
    date_range: tuple[Any, Any] | None = None,
    range_mode: str = "entry",
    by: str | Sequence[str] | Segments | None = None,
    by_rule: str = "first",
    top: int | None = 10,
) -> IntoFrameT:
    """Conversion through the whole funnel, by the period its attempts started in.

    Each period is its own funnel: a customer's attempts starting in that period compete,
    the furthest (then the first) counts, exactly as :func:`funnel` does for the whole log;
    with ``entry="first"`` it is the customer's first qualifying row *in that period*. A
    customer can so count in several periods. Definitions are those of
    :mod:`journey_lib.analytics.funnels`.

    Parameters
    ----------
    events, steps, profile, window, order, entry, exclusions, date_range, range_mode
        As for :func:`funnel`.
    period : {"day", "week", "month", "quarter", "year"}, optional
        Calendar periods in UTC; weeks start on Monday. The profile's period, else
        ``"week"``.
    by, by_rule, top
        A breakdown by customer segment, as for :func:`funnel`.

    Returns
    -------
    DataFrame
        One row per period with entries, sorted: ``period`` (its start), ``customers``
        (entering: reaching step 1), ``converted`` (reaching the last step),
        ``conversion_rate`` and ``complete``. A period is complete when its end plus the
        window (without a window: its end) lies before the last event in the log, so later
        data can no longer raise its conversion. With ``by``, the segment columns come
        first: one row per segment and period with entries of that segment's customers,
        sorted by segment, then period; ``complete`` still looks at the whole log.

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({
    ...     "customer_id": [1, 1, 2, 3, 3],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03",
    ...                                  "2024-01-09", "2024-01-20"], utc=True),
    ...     "event": ["visit", "buy", "visit", "visit", "buy"]})
    >>> funnel_trend(log, ["visit", "buy"], period="week")
                         period  customers  converted  conversion_rate  complete
    0 2024-01-01 00:00:00+00:00          2          1              0.5      True
    1 2024-01-08 00:00:00+00:00          1          1              1.0      True
    """
    given, eager = lazy_events(events)
    frame = in_utc(given)  # periods are UTC periods
    period = from_profile(profile, "period", period, "week")
    check_choice("period", period, PERIODS)
    spec = _spec(
        frame,
        _steps(steps, profile),
        window=window,
        order=order,
        entry=entry,
        exclusions=exclusions,
        date_range=date_range,
        range_mode=range_mode,
        period=period,
    )
    reserved = ("period", "customers", "converted", "conversion_rate", "complete")
    segments = _by(given, by, by_rule, top, eager, reserved)
    counted = _counted_attempts(frame, spec)
    k = spec.k
    done = counted.with_columns(_done=(nw.col("level") >= k).cast(nw.Int64))
    keys = _keys(segments)
    if segments is not None:
        done = done.join(segments.table, on="customer_id", how="left")
    per_period = done.group_by(*keys, "period").agg(
        nw.len().alias("customers"), nw.col("_done").sum().alias("converted")
    )
    # The log's last time, as a one-row frame (no row for an empty log, rather than a NaT
    # that pandas would strip of its time zone).
    latest = (
        frame.filter(nw.col("timestamp") == nw.col("timestamp").max())
        .select(_end=nw.col("timestamp"))
        .head(1)
    )
    if spec.window is not None:
        latest = latest.with_columns(_end=nw.col("_end") - nw.lit(_timedelta(spec.window)))
    settled = latest.select(_settled=period_start(nw.col("_end"), period))
    table = per_period.join(settled, how="cross").select(
        *keys,
        "period",
        nw.col("customers").cast(nw.Int64),
        nw.col("converted").fill_null(0).cast(nw.Int64),
        conversion_rate=nw.col("converted").fill_null(0) / nw.col("customers"),
        complete=(nw.col("period") < nw.col("_settled")).fill_null(value=False),
    )
    return _finish(zoned_again(_named(table.sort(*keys, "period"), segments), given), eager)


def time_to_convert(
    events: IntoFrameT,
    steps: Sequence[Any] | None = None,
    *,
    profile: LogProfile | None = None,
    from_step: int = 1,
    to_step: int | None = None,
    bins: Sequence[Any] | None = None,
    window: Any = None,
    order: str = "ordered",
    entry: str = "any",
    exclusions: Sequence[tuple[Any, int, int]] = (),
    date_range: tuple[Any, Any] | None = None,
    range_mode: str = "entry",
    by: str | Sequence[str] | Segments | None = None,
    by_rule: str = "first",
    top: int | None = 10,
) -> IntoFrameT:
    """How long customers took from one funnel step to a later one: a histogram.

    Each customer's counted attempt (as in :func:`funnel`) that reached ``to_step``
    contributes the time from its ``from_step`` to its ``to_step``.

    Parameters
    ----------
    events, steps, profile, window, order, entry, exclusions, date_range, range_mode
        As for :func:`funnel`.
    from_step, to_step : int
        Step numbers, ``1 <= from_step < to_step``; ``to_step`` defaults to the last step.
    bins : sequence of durations, optional
        Increasing bin edges after 0 (``["1h", "1D", "7D"]``); the last bin is open-ended.
        Default: 1min, 5min, 15min, 30min, 1h, 3h, 6h, 12h, 1D, 2D, 3D, 7D, 14D, 30D, 60D,
        90D.
    by, by_rule, top
        A breakdown by customer segment, as for :func:`funnel`.

    Returns
    -------
    DataFrame
        One row per bin, every bin listed: ``bin`` (a label such as ``"1h to 3h"``),
        ``lower_seconds`` (inclusive), ``upper_seconds`` (exclusive; infinite for the last),
        ``customers``, ``share`` (of the customers converting) and ``cumulative_share``.
        With ``by``, the segment columns come first and every segment lists every bin
        (shares missing where none of its customers converted), sorted by segment, then bin.

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({
    ...     "customer_id": [1, 1, 2, 2],
    ...     "timestamp": pd.to_datetime(["2024-01-01 00:00", "2024-01-01 00:30",
    ...                                  "2024-01-01 00:00", "2024-01-03 00:00"], utc=True),
    ...     "event": ["visit", "buy", "visit", "buy"]})
    >>> time_to_convert(log, ["visit", "buy"], bins=["1h", "1D"])
              bin  lower_seconds  upper_seconds  customers  share  cumulative_share
    0    0s to 1h            0.0         3600.0          1    0.5               0.5
    1    1h to 1D         3600.0        86400.0          0    0.0               0.5
    2  1D or more        86400.0            inf          1    0.5               1.0
    """
    frame, eager = lazy_events(events)
    spec = _spec(
        frame,
        _steps(steps, profile),
        window=window,
        order=order,
        entry=entry,
        exclusions=exclusions,
        date_range=date_range,
        range_mode=range_mode,
    )
    reserved = ("bin", "lower_seconds", "upper_seconds", "customers", "share", "cumulative_share")
    segments = _by(frame, by, by_rule, top, eager, reserved)
    last = spec.k if to_step is None else to_step
    if not (
        isinstance(from_step, int) and isinstance(last, int) and 1 <= from_step < last <= spec.k
    ):
        raise JourneyParameterError(
            f"need 1 <= from_step < to_step <= {spec.k}; got from_step={from_step!r}, "
            f"to_step={to_step!r}"
        )
    edges = _bin_edges(bins)
    counted = _counted_attempts(frame, spec).filter(nw.col("level") >= last)
    span = (nw.col(f"t{last}") - nw.col(f"t{from_step}")) / 1_000_000
    spans = counted.select("customer_id", d=span)
    keys = _keys(segments)
    total = nw.len()
    if segments is not None:
        # Every customer of each segment, so a segment where nobody converted still lists
        # its bins; those who did not convert have no span and count in no bin.
        spans = segments.table.join(spans, on="customer_id", how="left")
        total = nw.col("d").count()
    bounds = [0.0, *edges, float("inf")]
    # Plain columns aggregated: pandas' group-by cannot aggregate a compound expression.
    spans = spans.with_columns(
        **{
            f"n{i}": ((nw.col("d") >= lo) & (nw.col("d") < hi)).cast(nw.Int64)
            for i, (lo, hi) in enumerate(itertools.pairwise(bounds))
        }
    )
    wide = grouped(
        spans,
        keys,
        total.alias("_total"),
        *(nw.col(f"n{i}").sum() for i in range(len(bounds) - 1)),
    )
    return _finish(_named(_bin_table(wide, bounds, keys, frame), segments), eager)


def _bin_table(
    wide: nw.LazyFrame, bounds: list[float], keys: list[str], frame: nw.LazyFrame
) -> nw.LazyFrame:
    """One row per bin (per segment) from the wide row of counts ``n{i}`` and ``_total``.

    As in :func:`_step_table`, the wide row is crossed with a frame of bin numbers rather
    than selected once per bin: DuckDB and Spark would compute the funnel once per bin.
    """
    pairs = list(itertools.pairwise(bounds))

    def per_bin(values: list[nw.Expr], dtype: Any) -> nw.Expr:
        # The last bin's value is the fallback: pandas cannot make a missing integer.
        chosen = values[-1].cast(dtype)
        for i, value in enumerate(values[:-1]):
            chosen = nw.when(nw.col(DIGIT) == i).then(value).otherwise(chosen)
        return chosen

    counts = [nw.col(f"n{i}").fill_null(0).cast(nw.Int64) for i in range(len(pairs))]
    total = nw.col("_total")
    return (
        small_range(frame, len(pairs))
        .join(wide, how="cross")
        .select(
            *keys,
            DIGIT,
            bin=per_bin([nw.lit(_bin_label(lo, hi)) for lo, hi in pairs], nw.String()),
            lower_seconds=per_bin([nw.lit(lo) for lo, _ in pairs], nw.Float64()),
            upper_seconds=per_bin([nw.lit(hi) for _, hi in pairs], nw.Float64()),
            customers=per_bin(counts, nw.Int64()),
            _below=per_bin(
                [nw.sum_horizontal(*counts[: i + 1]) for i in range(len(pairs))], nw.Int64()
            ),
            _total=nw.col("_total").fill_null(0).cast(nw.Int64),
        )
        .with_columns(
            share=nw.when(total > 0).then(nw.col("customers") / total),
            cumulative_share=nw.when(total > 0).then(nw.col("_below") / total),
        )
        .sort(*keys, DIGIT)
        .drop(DIGIT, "_below", "_total")
    )


_DEFAULT_BINS = (
    "1min",
    "5min",
    "15min",
    "30min",
    "1h",
    "3h",
    "6h",
    "12h",
    "1D",
    "2D",
    "3D",
    "7D",
    "14D",
    "30D",
    "60D",
    "90D",
)


def _bin_edges(bins: Sequence[Any] | None) -> list[float]:
    raw = _DEFAULT_BINS if bins is None else bins
    if isinstance(raw, str) or not isinstance(raw, Sequence) or not raw:
        raise JourneyParameterError("bins must be a non-empty list of durations, e.g. ['1h', '1D']")
    edges = [duration_us(b, "bins") / 1_000_000 for b in raw]
    if any(b <= a for a, b in itertools.pairwise(edges)):
        raise JourneyParameterError(f"bins must increase, got {list(raw)!r}")
    return edges


def _bin_label(lower: float, upper: float) -> str:
    if upper == float("inf"):
        return f"{_human(lower)} or more"
    return f"{_human(lower)} to {_human(upper)}"


def counted_steps(
    frame: nw.LazyFrame,
    steps: Sequence[Any],
    *,
    window: Any = None,
    order: str = "ordered",
    entry: str = "any",
    exclusions: Sequence[tuple[Any, int, int]] = (),
    date_range: tuple[Any, Any] | None = None,
    range_mode: str = "entry",
) -> tuple[nw.LazyFrame, tuple[Step, ...]]:
    """Each customer's counted attempt at a funnel, for functions that follow customers out
    of it (:func:`journey_lib.funnel_dropoff_paths`).

    The definitions are the module's. Returns a lazy frame with one row per customer who
    started an attempt: ``customer_id``, ``level`` (the furthest step the counted attempt
    reached) and ``t1`` ... ``tk``, the times of its steps in integer microseconds since
    1970-01-01 UTC (as :func:`journey_lib._engine.with_microseconds` counts them), missing
    beyond ``level``; and the parsed steps.
    """
    spec = _spec(
        frame,
        steps,
        window=window,
        order=order,
        entry=entry,
        exclusions=exclusions,
        date_range=date_range,
        range_mode=range_mode,
    )
    counted = _counted_attempts(frame, spec)
    return counted.select("customer_id", "level", *(f"t{s}" for s in range(1, spec.k + 1))), (
        spec.steps
    )


def _human(seconds: float) -> str:
    for unit, size in (("D", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def _timedelta(us: int) -> dt.timedelta:
    return dt.timedelta(microseconds=us)


# -- checking the arguments --------------------------------------------------------------


def _finish(result: nw.LazyFrame, eager: bool) -> Any:
    """:func:`journey_lib._engine.finish`, without Polars' notice that it cannot check the
    as-of join's sortedness within customers (both sides are sorted by the join key)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Sortedness of columns cannot be checked")
        return finish(result, eager)


def _steps(steps: Sequence[Any] | None, profile: LogProfile | None) -> Sequence[Any]:
    chosen = from_profile(profile, "funnel", steps, None)
    if chosen is None:
        raise JourneyParameterError(
            "a funnel needs steps: pass steps=[...] or a profile with a default funnel"
        )
    return chosen


def _spec(
    frame: nw.LazyFrame,
    steps: Any,
    *,
    window: Any,
    order: str,
    entry: str,
    exclusions: Any,
    date_range: Any,
    range_mode: str,
    breakdown: str | None = None,
    attribution: str | int = "first",
    period: str | None = None,
) -> _Spec:
    check_choice("order", order, ORDERS)
    check_choice("entry", entry, ENTRIES)
    check_choice("range_mode", range_mode, RANGE_MODES)
    if isinstance(steps, str | Step) or not isinstance(steps, Sequence) or not steps:
        raise JourneyParameterError("steps must be a non-empty list of steps, e.g. ['a', 'b']")
    parsed = tuple(Step.parse(s, i) for i, s in enumerate(steps, start=1))
    k = len(parsed)
    excluded = []
    for item in exclusions:
        if not (isinstance(item, tuple | list) and len(item) == 3):
            raise JourneyParameterError(
                f"an exclusion is (event, from_step, to_step), got {item!r}"
            )
        step, lo, hi = item
        if not (isinstance(lo, int) and isinstance(hi, int) and 1 <= lo < hi <= k):
            raise JourneyParameterError(f"exclusion {item!r}: need 1 <= from_step < to_step <= {k}")
        excluded.append((Step.parse(step, 0), lo, hi))
    if attribution not in ("first", "last") and not (
        isinstance(attribution, int) and not isinstance(attribution, bool) and 1 <= attribution <= k
    ):
        raise JourneyParameterError(
            f"breakdown_attribution must be 'first', 'last' or a step number 1..{k}; "
            f"got {attribution!r}"
        )
    if order == "any":
        if attribution != "first":
            raise JourneyParameterError(
                "in an any-order funnel steps have no fixed rows to take a breakdown value "
                "from; use breakdown_attribution='first'"
            )
        for i, a in enumerate(parsed):
            for b in parsed[i + 1 :]:
                if a != b and not a.disjoint_from(b):
                    raise JourneyParameterError(
                        f"order='any' needs steps that are identical or cannot match the same "
                        f"row; {a.label} and {b.label} overlap"
                    )
    columns = frame.collect_schema()
    needed = {c for s in parsed for c, _ in s.filters} | {
        c for s, _, _ in excluded for c, _ in s.filters
    }
    if breakdown is not None:
        if breakdown in RESULT_COLUMNS:
            raise JourneyParameterError(
                f"breakdown={breakdown!r} would clash with the result's own column of that "
                f"name; rename the column first"
            )
        needed.add(breakdown)
    missing = sorted(needed - set(columns))
    if missing:
        raise JourneyDataError(f"the funnel names column(s) {missing}; the log has {list(columns)}")
    start = end = None
    if date_range is not None:
        if not (isinstance(date_range, tuple | list) and len(date_range) == 2):
            raise JourneyParameterError("date_range must be (start, end)")
        lo_t, hi_t = (utc_datetime(v, "date_range") for v in date_range)
        if not lo_t < hi_t:
            raise JourneyParameterError(f"date_range must have start < end, got {date_range!r}")
        start, end = (_to_us(t) for t in (lo_t, hi_t))
    return _Spec(
        steps=parsed,
        window=duration_us(window, "window"),
        order=order,
        entry=entry,
        exclusions=tuple(excluded),
        breakdown=breakdown,
        attribution=attribution,
        range_start=start,
        range_end=end,
        completion_in_range=range_mode == "entry_and_completion",
        period=period,
    )


def _to_us(moment) -> int:
    return round(moment.timestamp() * 1_000_000)


@dataclass(frozen=True)
class _By:
    """A breakdown by customer segment: one row per customer of the log with its segment in
    ``keys``, working names for the ``by`` columns (which may share a name with a funnel's
    own working columns, such as ``level`` or ``t1``), given back as ``names`` at the end."""

    table: nw.LazyFrame
    keys: tuple[str, ...]
    names: tuple[str, ...]


def _by(
    frame: nw.LazyFrame,
    by: Any,
    by_rule: str,
    top: int | None,
    eager: bool,
    reserved: Sequence[str],
    *,
    breakdown: str | None = None,
) -> _By | None:
    """The segments of ``by`` (None without it), read from the whole log ``frame``."""
    segments = segments_of(by, by_rule, top)
    if segments is None:
        return None
    if breakdown is not None and breakdown in segments.columns:
        raise JourneyParameterError(
            f"by and breakdown both name {breakdown!r}; give the column once: by= for the "
            "customer's segment, breakdown= for the value on the counted attempt's row"
        )
    table = segment_table(frame, segments, reserved=reserved, check=eager)
    keys = tuple(f"_by{i}" for i in range(len(segments.columns)))
    renamed = table.rename(dict(zip(segments.columns, keys, strict=True)))
    return _By(renamed, keys, tuple(segments.columns))


def _keys(segments: _By | None) -> list[str]:
    """The working names of the segment columns (none without a breakdown)."""
    return [] if segments is None else list(segments.keys)


def _named(result: nw.LazyFrame, segments: _By | None) -> nw.LazyFrame:
    """``result`` with the segment columns under the ``by`` names."""
    if segments is None:
        return result
    return result.rename(dict(zip(segments.keys, segments.names, strict=True)))


# -- attempts --------------------------------------------------------------------------


def _step_rows(frame: nw.LazyFrame, spec: _Spec) -> nw.LazyFrame:
    """The rows a funnel looks at: ``us`` (time), ``m1..mk`` (matches step s, later steps
    only inside the date range when completion must be), ``start`` (may start an attempt),
    ``b`` (breakdown value), and the keys of the funnel order: ``first_step`` (the first
    step a row matches), ``mask`` (all it matches) and ``b_missing``."""
    k = spec.k
    rows = with_microseconds(frame, "us").with_columns(
        **{f"m{s}": step.matches() for s, step in enumerate(spec.steps, start=1)},
        b=nw.col(spec.breakdown) if spec.breakdown else nw.lit(None, dtype=nw.String()),
    )
    if spec.period:
        rows = rows.with_columns(period=period_start(nw.col("timestamp"), spec.period))
    in_range = nw.lit(value=True)
    if spec.range_start is not None:
        in_range = (nw.col("us") >= spec.range_start) & (nw.col("us") < spec.range_end)
    rows = rows.with_columns(in_range=in_range)
    if spec.completion_in_range:
        rows = rows.with_columns(
            **{f"m{s}": nw.col(f"m{s}") & nw.col("in_range") for s in range(1, k + 1)}
        )
    any_step = nw.any_horizontal(*(nw.col(f"m{s}") for s in range(1, k + 1)), ignore_nulls=True)
    if spec.order != "strict":
        # Only step rows matter; a strict funnel must also see the rows in between.
        rows = rows.filter(any_step)
    first_step = nw.lit(k + 1)
    for s in range(k, 0, -1):
        first_step = nw.when(nw.col(f"m{s}")).then(nw.lit(s)).otherwise(first_step)
    mask = nw.sum_horizontal(
        *(nw.col(f"m{s}").cast(nw.Int64) * (1 << (s - 1)) for s in range(1, k + 1))
    )
    starter = any_step if spec.order == "any" else nw.col("m1")
    rows = rows.with_columns(
        first_step=first_step,
        mask=mask,
        b_missing=nw.col("b").is_null(),
        start=starter & nw.col("in_range"),
    )
    return rows


def _rows(frame: nw.LazyFrame, spec: _Spec) -> nw.LazyFrame:
    """The funnel's rows (:func:`_step_rows`) numbered in funnel order: ``pos``."""
    order = ["customer_id", "us", "first_step", "mask"]
    if spec.breakdown:
        order += ["b_missing", "b"]
    columns = [*spec.keys, "us", "b", "start", *(f"m{s}" for s in range(1, spec.k + 1))]
    rows = _step_rows(frame, spec).with_row_index("pos", order_by=order)
    return rows.select("pos", *columns)


def _starts(rows: nw.LazyFrame, spec: _Spec) -> nw.LazyFrame:
    """Rows that start an attempt: every qualifying row, or each customer's first."""
    return _first_only(rows.filter(nw.col("start")), spec)


def _first_only(starts: nw.LazyFrame, spec: _Spec) -> nw.LazyFrame:
    """With ``entry="first"``, each customer's (per period: each customer-period's) first."""
    if spec.entry != "first":
        return starts
    starts = starts.with_columns(_first=nw.col("pos").min().over(*spec.keys))
    return starts.filter(nw.col("pos") == nw.col("_first")).drop("_first")


def _sequence_attempts(rows: nw.LazyFrame, spec: _Spec) -> nw.LazyFrame:
    """Attempts of an ordered or strict funnel, without joins.

    The greedy chain from a row is followed backwards, step by step: a chain that has just
    completed step s at some row completes step L exactly when the chain from the next
    step-(s+1) row does. Those times (and rows) never decrease along the customer's rows,
    so "the value at the next matching row" is a running minimum from the end: window
    functions every engine has, in one pass per step rather than a join per step.
    """
    k = spec.k
    chain = rows
    for s in range(k - 1, 0, -1):
        # Values carried by rows that complete step s+1: the chain times (and rows) of every
        # later step L, for the chain that completes step s+1 there.
        carried = {}
        for L in range(s + 1, k + 1):
            time = nw.col("us") if L == s + 1 else nw.col(f"tt{L}")
            carried[f"tt{L}"] = time
            if _needs_rows(spec):
                carried[f"pp{L}"] = nw.col("pos") if L == s + 1 else nw.col(f"pp{L}")
        chain = chain.with_columns(
            **{
                c: nw.when(nw.col(f"m{s + 1}")).then(e).otherwise(_FOREVER)
                for c, e in carried.items()
            }
        )
        chain = _next_row_values(chain, list(carried), strict=spec.order == "strict")

    def found(column: str) -> nw.Expr:
        return nw.when(nw.col(column) < _FOREVER).then(nw.col(column))

    attempts = _starts(chain, spec).select(
        *spec.keys,
        "b",
        p1=nw.col("pos"),
        t1=nw.col("us"),
        **{f"t{L}": found(f"tt{L}") for L in range(2, k + 1)},
        **({f"p{L}": found(f"pp{L}") for L in range(2, k + 1)} if _needs_rows(spec) else {}),
    )
    return _level(attempts, spec, rows=_needs_rows(spec))


def _as_of_joins_apply(frame: nw.LazyFrame, spec: _Spec) -> bool:
    """Whether an ordered funnel can follow its chains with as-of joins, several times
    faster than window functions: on engines with as-of joins, when no row can match two
    steps (so a row's time and first step order it exactly) and no breakdown value has to
    break ties between simultaneous rows."""
    return (
        spec.order == "ordered"
        and 2 <= spec.k <= _MAX_AS_OF_STEPS
        and spec.breakdown is None
        and has_as_of_joins(frame)
        and all(a.disjoint_from(b) for i, a in enumerate(spec.steps) for b in spec.steps[i + 1 :])
    )


def _as_of_attempts(frame: nw.LazyFrame, spec: _Spec) -> nw.LazyFrame:
    """Attempts of an ordered funnel by as-of joins: the same greedy chains as
    :func:`_sequence_attempts`.

    ``_key`` = time x 16 + first step orders a customer's rows as the funnel order does
    (with no row matching two steps, rows sharing both are rows of one step, which the
    chain never needs to tell apart), so the row completing step s after the row with key
    K is the first step-s row with a key above K: a forward as-of join.
    """
    k = spec.k
    # Start rows are step-1 rows, keyed time x 16 + 1. Simultaneous ones make identical
    # attempts, so one per key (a plain group-by; unique() would number rows).
    starts = _step_matches(frame, spec, 1)
    # pandas loses the key types grouping an empty frame: they are cast back.
    types = starts.collect_schema()
    if spec.entry == "first":
        starts = starts.group_by(*spec.keys).agg(nw.col("_key").min())
    else:
        # (An aggregation, even unused: Narwhals groups pandas frames slowly without one.)
        starts = starts.group_by(*spec.keys, "_key").agg(nw.len().alias("_rows"))
    key = nw.col("_key").cast(nw.Int64())
    attempts = starts.select(
        *(nw.col(c).cast(types[c]) for c in spec.keys),
        b=nw.lit(None, dtype=nw.String()),
        p1=key,
        t1=(key - 1) // (_MAX_AS_OF_STEPS + 1),
    )
    for s in range(2, k + 1):
        later = _step_matches(frame, spec, s).select(
            nw.col("customer_id").cast(types["customer_id"]),  # as the starts were cast
            _k=nw.col("_key"),
            **{f"p{s}": nw.col("_key"), f"t{s}": nw.col("us")},
        )
        probe = nw.when(~nw.col(f"p{s - 1}").is_null()).then(nw.col(f"p{s - 1}") + 1)
        left = attempts.with_columns(_probe=probe.fill_null(_FOREVER).cast(nw.Int64))
        joined = join_asof_forward(left, later, left_on="_probe", right_on="_k", by="customer_id")
        steps_so_far = (c for r in range(2, s + 1) for c in (f"p{r}", f"t{r}"))
        attempts = joined.select(*spec.keys, "b", "p1", "t1", *steps_so_far)
    return _level(attempts, spec)


def _step_matches(frame: nw.LazyFrame, spec: _Spec, s: int) -> nw.LazyFrame:
    """The rows of step ``s`` for the as-of joins: ``customer_id``, ``us``, ``_key`` (time x
    16 + s: with no row matching two steps, ``s`` is the row's first step) and the funnel's
    keys (``period`` in a trend). Step 1's rows are the rows that may start an attempt.

    Read from the log with the step's condition alone (a missing value drops the row, as a
    filter does), which DuckDB pushes into its scan; :func:`_step_rows` would test every
    row for every step first."""
    in_range = s == 1 or spec.completion_in_range
    rows = with_microseconds(frame.filter(spec.steps[s - 1].condition()), "us")
    if in_range and spec.range_start is not None:
        rows = rows.filter(nw.col("us") >= spec.range_start, nw.col("us") < spec.range_end)
    if spec.period:
        rows = rows.with_columns(period=period_start(nw.col("timestamp"), spec.period))
    return rows.select(
        *spec.keys, "us", _key=nw.col("us") * (_MAX_AS_OF_STEPS + 1) + nw.lit(s, nw.Int64())
    )


def _level(attempts: nw.LazyFrame, spec: _Spec, *, rows: bool = True) -> nw.LazyFrame:
    """``level`` from a chain's step times ``t{s}`` (missing: never reached), the window
    applied; the times (and rows ``p{s}``, when kept) beyond the level made missing."""
    later = range(2, spec.k + 1)
    if not later:
        return attempts.with_columns(level=nw.lit(1, dtype=nw.Int64()))
    reached = nw.lit(value=True)
    ok: dict[str, nw.Expr] = {}
    for s in later:
        step_ok = ~nw.col(f"t{s}").is_null()
        if spec.window is not None:
            step_ok = step_ok & (nw.col(f"t{s}") - nw.col("t1") <= spec.window)
        reached = reached & step_ok
        ok[f"ok{s}"] = reached
    kept = {f"t{s}": nw.when(nw.col(f"ok{s}")).then(nw.col(f"t{s}")) for s in later}
    if rows:
        kept |= {f"p{s}": nw.when(nw.col(f"ok{s}")).then(nw.col(f"p{s}")) for s in later}
    return (
        attempts.with_columns(**ok)
        .with_columns(
            level=nw.sum_horizontal(nw.lit(1), *(nw.col(c).cast(nw.Int64) for c in ok)),
            **kept,
        )
        .drop(*ok)
    )


def _needs_rows(spec: _Spec) -> bool:
    """Whether the rows of later steps are needed: to take the breakdown value there."""
    return spec.breakdown is not None and spec.attribution not in ("first", 1)


def _next_row_values(chain: nw.LazyFrame, columns: list[str], *, strict: bool) -> nw.LazyFrame:
    """Replace each column by its value at the next row carrying one (strictly after this
    row; the very next row when ``strict``). Missing values are ``_FOREVER``."""

    def over(expr: nw.Expr) -> nw.Expr:
        return expr.over("customer_id", order_by="pos")

    chain = chain.with_columns(**{c: over(nw.col(c).shift(-1)) for c in columns})
    chain = chain.with_columns(**{c: nw.col(c).fill_null(_FOREVER) for c in columns})
    if strict:
        return chain
    return chain.with_columns(**{c: over(nw.col(c).cum_min(reverse=True)) for c in columns})


def _groups(spec: _Spec) -> list[tuple[int, int]]:
    """Identical steps of an any-order funnel: (first step number, how many)."""
    groups: dict[Step, list[int]] = {}
    for s, step in enumerate(spec.steps, start=1):
        groups.setdefault(step, []).append(s)
    return [(members[0], len(members)) for members in groups.values()]


def _tally(rows: nw.LazyFrame, groups: list[tuple[int, int]]) -> nw.LazyFrame:
    """Rows of an any-order funnel with, per group of identical steps j: ``g{j}`` (the row
    matches), ``c{j}`` (the customer's matching rows so far) and ``before{j}`` (matching
    rows strictly before this instant)."""
    return (
        rows.with_columns(**{f"g{j}": nw.col(f"m{j}").cast(nw.Int64) for j, _ in groups})
        .with_columns(
            **{
                f"c{j}": nw.col(f"g{j}").cum_sum().over("customer_id", order_by="pos")
                for j, _ in groups
            },
        )
        .with_columns(
            # The count before the first row at this time: rows sharing a time all fall
            # inside any window starting then.
            **{
                f"before{j}": (nw.col(f"c{j}") - nw.col(f"g{j}")).min().over("customer_id", "us")
                for j, _ in groups
            },
        )
    )


def _any_order_attempts(tallied: nw.LazyFrame, spec: _Spec) -> nw.LazyFrame:
    """Attempts of an any-order funnel with their level (times come later, for the counted
    attempts only): an attempt at instant t reaches, per group of identical steps, as many
    steps as the group has rows in [t, t + window]."""
    groups = _groups(spec)
    starts = tallied.filter(nw.col("start"))
    # Attempts starting at the same instant are the same attempt: keep the first row.
    starts = starts.with_columns(_first=nw.col("pos").min().over("customer_id", "us"))
    starts = _first_only(starts.filter(nw.col("pos") == nw.col("_first")).drop("_first"), spec)
    upto = _counts_until(tallied, starts, groups, spec.window)
    attempts = starts.select(
        *spec.keys,
        "b",
        p1=nw.col("pos"),
        t1=nw.col("us"),
        **{f"before{j}": nw.col(f"before{j}") for j, _ in groups},
    ).join(upto, left_on="p1", right_on="_probe", how="left")
    level = nw.sum_horizontal(
        *(
            nw.min_horizontal(nw.lit(n), nw.col(f"upto{j}") - nw.col(f"before{j}"))
            for j, n in groups
        )
    )
    return attempts.with_columns(level=level)


def _counts_until(tallied: nw.LazyFrame, starts: nw.LazyFrame, groups, window):
    """For each start, the customer's rows of each group up to the window's end (inclusive),
    keyed by ``_probe`` (the start's position)."""
    if window is None:
        totals = tallied.group_by("customer_id").agg(
            *(nw.col(f"g{j}").sum().alias(f"upto{j}") for j, _ in groups)
        )
        return (
            starts.select("customer_id", _probe=nw.col("pos"))
            .join(totals, on="customer_id", how="left")
            .drop("customer_id")
        )
    # Probe rows at each window end, placed after real rows at the same instant, pick up the
    # running counts there: an as-of lookup every engine can do.
    real = tallied.select(
        "customer_id",
        "us",
        _probe=nw.lit(-1, dtype=nw.Int64()),
        _is_probe=nw.lit(0),
        **{f"g{j}": nw.col(f"g{j}") for j, _ in groups},
    )
    probes = starts.select(
        "customer_id",
        us=nw.col("us") + window,
        _probe=nw.col("pos").cast(nw.Int64()),
        _is_probe=nw.lit(1),
        **{f"g{j}": nw.lit(0, dtype=nw.Int64()) for j, _ in groups},
    )
    both = nw.concat([real, probes.select(real.collect_schema().names())], how="vertical")
    both = both.with_row_index("_order", order_by=["customer_id", "us", "_is_probe", "_probe"])
    both = both.with_columns(
        **{
            f"upto{j}": nw.col(f"g{j}").cum_sum().over("customer_id", order_by="_order")
            for j, _ in groups
        }
    )
    return both.filter(nw.col("_is_probe") == 1).select("_probe", *(f"upto{j}" for j, _ in groups))


def _completion_times(attempts, tallied, groups, spec: _Spec) -> nw.LazyFrame:
    """When each number of steps was completed: the i-th row of each group after the start
    completes that group's i-th step; step s is done when s completions have happened."""
    k = spec.k
    candidates = []
    for j, n in groups:
        ranked = tallied.filter(nw.col(f"g{j}") == 1).select(
            "customer_id", _rank=nw.col(f"c{j}"), _t=nw.col("us")
        )
        for i in range(1, n + 1):
            name = f"tau{j}_{i}"
            attempts = (
                attempts.with_columns(_want=nw.col(f"before{j}") + i)
                .join(
                    ranked.rename({"_t": name}),
                    left_on=["customer_id", "_want"],
                    right_on=["customer_id", "_rank"],
                    how="left",
                )
                .drop("_want")
            )
            if spec.window is not None:
                attempts = attempts.with_columns(
                    nw.when(nw.col(name) - nw.col("t1") <= spec.window)
                    .then(nw.col(name))
                    .alias(name)
                )
            candidates.append((j, i, name))
    done_by = {}
    for _, _, name in candidates:
        # Steps completed by time of this candidate.
        done_by[name] = nw.sum_horizontal(
            *(
                nw.min_horizontal(
                    nw.lit(n),
                    nw.sum_horizontal(
                        *(
                            (nw.col(f"tau{j}_{i}") <= nw.col(name))
                            .fill_null(value=False)
                            .cast(nw.Int64)
                            for i in range(1, n + 1)
                        )
                    ),
                )
                for j, n in groups
            )
        )
    attempts = attempts.with_columns(**{f"done_{name}": e for name, e in done_by.items()})
    times = {
        f"t{s}": nw.min_horizontal(
            *(nw.when(nw.col(f"done_{name}") >= s).then(nw.col(name)) for _, _, name in candidates)
        )
        for s in range(1, k + 1)
    }
    keep = [*spec.keys, "b", "p1", "level", *times]
    return attempts.with_columns(**times).select(*keep)


def _counted(
    attempts: nw.LazyFrame, keys: Sequence[str], k: int, first: str = "p1"
) -> nw.LazyFrame:
    """The attempt that counts for each key: the furthest, and of those the first.

    ``first`` orders a key's attempts without ties: the start row's number, or, for as-of
    attempts (whose ``p1`` packs the step into the time, too wide for what follows), the
    start time, which no two of a customer's as-of attempts share. The counted attempt has
    the smallest rank (k - level) x 2**59 + ``first``, so one window finds it: levels are
    2**59 apart, more than the span of row numbers or of start times (year -7000 to 11000,
    any Python datetime).
    """
    rank = (k - nw.col("level")) * 2**59 + nw.col(first)
    ranked = attempts.with_columns(_rank=rank)
    ranked = ranked.with_columns(_best=nw.col("_rank").min().over(*keys))
    return ranked.filter(nw.col("_rank") == nw.col("_best")).drop("_rank", "_best")


def _exclude(
    counted: nw.LazyFrame, frame: nw.LazyFrame, spec: _Spec, keys: Sequence[str]
) -> nw.LazyFrame:
    """Drop counted attempts with an excluded event between their from and to steps."""
    if not spec.exclusions:
        return counted
    bounds = {}
    for e, (_, lo, hi) in enumerate(spec.exclusions):
        ceiling = nw.lit(_FOREVER) if spec.window is None else nw.col("t1") + spec.window
        bounds[f"lo{e}"] = nw.col(f"t{lo}")
        # Past the window's end nothing belongs to the attempt any more.
        bounds[f"hi{e}"] = (
            nw.when(~nw.col(f"t{hi}").is_null()).then(nw.col(f"t{hi}")).otherwise(ceiling)
        )
    marked = counted.with_columns(**bounds)
    hits = with_microseconds(frame, "xus").with_columns(
        **{f"x{e}": step.matches() for e, (step, _, _) in enumerate(spec.exclusions)}
    )
    hits = hits.filter(
        nw.any_horizontal(
            *(nw.col(f"x{e}") for e in range(len(spec.exclusions))), ignore_nulls=True
        )
    ).select("customer_id", "xus", *(f"x{e}" for e in range(len(spec.exclusions))))
    inside = nw.any_horizontal(
        *(
            nw.col(f"x{e}")
            & (nw.col("xus") > nw.col(f"lo{e}"))
            & (nw.col("xus") < nw.col(f"hi{e}"))
            for e in range(len(spec.exclusions))
        ),
        ignore_nulls=True,
    )
    excluded = (
        marked.select(*keys, "p1", *bounds)
        .join(hits, on="customer_id", how="inner")
        .filter(inside.fill_null(value=False))
        .select(*keys, "p1")
        .unique()
    )
    return counted.join(excluded, on=[*keys, "p1"], how="anti")


def _attribute(counted: nw.LazyFrame, rows: nw.LazyFrame, spec: _Spec) -> nw.LazyFrame:
    """Replace ``b`` (the first row's breakdown value) by the attributed one."""
    if spec.breakdown is None or spec.attribution == "first":
        return counted
    k = spec.k
    if spec.attribution == "last":
        row = nw.coalesce(*(nw.col(f"p{s}") for s in range(k, 1, -1)), nw.col("p1"))
    elif spec.attribution == 1:
        return counted
    else:
        row = nw.col(f"p{spec.attribution}")
    values = rows.select(_row=nw.col("pos"), _value=nw.col("b"))
    return (
        counted.with_columns(_row=row)
        .join(values, on="_row", how="left")
        .with_columns(b=nw.col("_value"))
        .drop("_row", "_value")
    )


def _counted_attempts(frame: nw.LazyFrame, spec: _Spec) -> nw.LazyFrame:
    """The counted attempt of each customer (per period in a trend) with ``level`` and step
    times ``t1..tk``, exclusions applied and the breakdown value attributed as ``b``."""
    if _as_of_joins_apply(frame, spec):
        try:
            attempts = _as_of_attempts(frame, spec)
        except Exception as exc:
            # A DuckDB relation whose query cannot run again as text (one with prepared
            # parameters) cannot take part in the as-of join, which inlines it; DuckDB says
            # so while the plan is built, before any work: follow the chains with window
            # functions instead.
            if "duckdb" not in type(exc).__module__:
                raise
        else:
            # With entry="first" the joins followed one attempt per key: it is the one.
            if spec.entry != "first":
                attempts = _counted(attempts, spec.keys, spec.k, first="t1")
            return _exclude(attempts, frame, spec, spec.keys)
    rows = _rows(frame, spec)
    if spec.order == "any":
        groups = _groups(spec)
        tallied = _tally(rows, groups)
        counted = _counted(_any_order_attempts(tallied, spec), spec.keys, spec.k)
        counted = _completion_times(counted, tallied, groups, spec)
    else:
        counted = _counted(_sequence_attempts(rows, spec), spec.keys, spec.k)
    counted = _exclude(counted, frame, spec, spec.keys)
    return _attribute(counted, rows, spec)


# -- results ---------------------------------------------------------------------------


def _step_table(
    counted: nw.LazyFrame, spec: _Spec, frame: nw.LazyFrame, segments: _By | None = None
) -> nw.LazyFrame:
    """One row per step (per segment and breakdown value) from the counted attempts.

    Everything is aggregated in one pass into one wide row (per segment and breakdown
    value), which is then crossed with a k-row frame of step numbers: lazy engines without
    common-subplan reuse (DuckDB, Spark) would compute the attempts once per step if each
    step were selected from the wide row separately. The k rows come from ``frame`` (the
    log) with no row read, so they exist on every engine and connection, even for an empty
    log.
    """
    k = spec.k
    prepared = counted.with_columns(
        **{f"r{s}": (nw.col("level") >= s).cast(nw.Int64) for s in range(1, k + 1)},
        **{f"d{s}": (nw.col(f"t{s}") - nw.col(f"t{s - 1}")) / 1_000_000 for s in range(2, k + 1)},
    )
    aggregations = [
        *(nw.col(f"r{s}").sum().alias(f"n{s}") for s in range(1, k + 1)),
        *(nw.col(f"d{s}").median().alias(f"med{s}") for s in range(2, k + 1)),
    ]
    keys = _keys(segments)
    if segments is not None:
        # Without a breakdown every segment has its k rows: all its customers are kept, and
        # those without an attempt count at no step. With one, rows exist per value counted.
        prepared = (
            segments.table.join(prepared, on="customer_id", how="left")
            if spec.breakdown is None
            else prepared.join(segments.table, on="customer_id", how="left")
        )
    if spec.breakdown is not None:
        keys.append(spec.breakdown)
        prepared = prepared.rename({"b": spec.breakdown})
    wide = grouped(prepared, keys, *aggregations)
    one_row = frame.head(0).select(nw.len().alias("_none"))
    numbers = nw.concat(
        [one_row.select(step=nw.lit(s, dtype=nw.Int64())) for s in range(1, k + 1)],
        how="vertical",
    )

    def per_step(values: dict[int, nw.Expr], dtype: Any = None) -> nw.Expr:
        chosen = nw.lit(None, dtype=dtype or nw.Float64())
        for s, value in values.items():
            chosen = nw.when(nw.col("step") == s).then(value).otherwise(chosen)
        return chosen

    n = {s: nw.col(f"n{s}").fill_null(0).cast(nw.Float64) for s in range(1, k + 1)}
    previous = {s: n[s - 1] if s > 1 else n[1] for s in range(1, k + 1)}
    table = numbers.join(wide, how="cross").select(
        *keys,
        "step",
        event=per_step(
            {s: nw.lit(step.label) for s, step in enumerate(spec.steps, start=1)}, nw.String()
        ),
        customers=per_step(n).cast(nw.Int64()),
        conversion_rate=per_step({s: nw.when(n[1] > 0).then(n[s] / n[1]) for s in n}),
        step_conversion_rate=per_step(
            {s: nw.when(previous[s] > 0).then(n[s] / previous[s]) for s in n}
        ),
        median_time_to_convert=per_step(
            {s: nw.col(f"med{s}").cast(nw.Float64()) for s in range(2, k + 1)}
        ),
    )
    return _named(table.sort(*keys, "step", nulls_last=True), segments)
