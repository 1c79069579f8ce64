"""Recency, frequency and monetary value per customer, as CLV models read them.

:func:`rfm` gives each buyer the four numbers of lifetimes'
``summary_data_from_transaction_data`` (``frequency``, ``recency``, ``T``,
``monetary_value``), so BG/NBD, Pareto/NBD and Gamma-Gamma fitters can consume the frame as
it is. :func:`calibration_holdout` splits the history at a date the way lifetimes'
``calibration_and_holdout_data`` does, for checking such models out of sample.
:func:`rfm_segments` scores the summary in quintiles and names the widely used RFM segments
(champions ... lost).

Times are counted in whole periods of ``period``: ``"day"`` (calendar days), ``"week"``
(Monday to Sunday) or ``"hour"``, all in UTC, as pandas' ``to_period`` numbers them in
lifetimes (its ``freq`` codes ``"D"``, ``"W"`` and ``"h"`` are accepted too). Months are not
offered: lifetimes itself cannot measure ``T`` in months (NumPy months have no fixed length).

**Customer segments** (``by=``): :func:`rfm` and :func:`calibration_holdout` carry each
customer's segment (:mod:`journey_lib.analytics.segments`, read from the whole log given)
as the first columns of their per-customer rows, sorted by segment, then customer; a
segment's rows are exactly the function's answer on the log restricted to its customers.
:func:`rfm_segments` keeps such leading columns and still scores over all customers, so an
R score means the same in every segment and segments can be compared.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import narwhals.stable.v2 as nw
import pandas as pd
from narwhals.typing import IntoFrameT

from .._engine import exact_mean, exact_terms, finish, lazy_events, money, with_microseconds
from .._time import PERIOD_US, fixed_period, instant_us, period_number, period_or_freq
from ..errors import JourneyDataError, JourneyParameterError
from ..io.profile import LogProfile, from_profile
from .segments import Segments, segment_table, segments_of

__all__ = ["RFM_PERIODS", "RFM_SEGMENTS", "calibration_holdout", "rfm", "rfm_segments"]

#: Key of ``DataFrame.attrs`` where a pandas :func:`rfm` result records its ``period``.
ATTRS_KEY = "journey_lib.rfm"

#: The periods :func:`rfm` counts in: hours, days, weeks (Monday to Sunday). pandas' codes
#: ``"h"`` (or ``"H"``), ``"D"`` and ``"W"`` name them too.
RFM_PERIODS: tuple[str, ...] = tuple(PERIOD_US)

#: The segment names :func:`rfm_segments` gives, best first.
RFM_SEGMENTS: tuple[str, ...] = (
    "champions",
    "loyal",
    "potential loyalists",
    "new customers",
    "promising",
    "need attention",
    "about to sleep",
    "at risk",
    "cannot lose them",
    "hibernating",
    "lost",
)

# Segment by R score (rows) and FM score 1..5 (columns): the widely used 5 x 5 R-by-F map,
# with F and M read as one axis (as in Putler's table, where every segment has the same range
# for F and M) and "lost" the corner of "hibernating" that is lowest on everything.
_GRID: dict[int, tuple[str, str, str, str, str]] = {
    5: ("new customers", "potential loyalists", "potential loyalists", "champions", "champions"),
    4: ("promising", "potential loyalists", "potential loyalists", "loyal", "loyal"),
    3: ("about to sleep", "about to sleep", "need attention", "loyal", "loyal"),
    2: ("hibernating", "hibernating", "at risk", "at risk", "cannot lose them"),
    1: ("lost", "hibernating", "at risk", "at risk", "cannot lose them"),
}

_SUMMARY = ("frequency", "recency", "T", "monetary_value")
_CALIBRATION = (
    "frequency_cal",
    "recency_cal",
    "T_cal",
    "monetary_value_cal",
    "frequency_holdout",
    "monetary_value_holdout",
    "duration_holdout",
)
_SCORES = ("r_score", "f_score", "m_score", "segment")


def rfm(
    events: IntoFrameT,
    *,
    observation_end: Any,
    purchase_event: str | None = None,
    profile: LogProfile | None = None,
    period: str = "day",
    freq: str | None = None,
    by: str | Sequence[str] | Segments | None = None,
    by_rule: str = "first",
    top: int | None = 10,
) -> IntoFrameT:
    """Frequency, recency, age and mean repeat value of every buyer, as lifetimes defines them.

    A *transaction* is a ``purchase_event`` row at or before ``observation_end`` (inclusive,
    to the microsecond). Its time is truncated to its ``period``; all of a customer's
    transactions in one period are one *purchase period*, worth the sum of their ``value``.
    Then, in whole periods:

    * ``frequency``: the customer's number of purchase periods minus one (repeat periods);
    * ``recency``: last purchase period minus first purchase period (0 without a repeat);
    * ``T``: the period of ``observation_end`` minus the first purchase period;
    * ``monetary_value``: the mean value of the repeat periods (the first period left out),
      0 when ``frequency`` is 0.

    These are the definitions of lifetimes' ``summary_data_from_transaction_data`` with
    ``monetary_value_col`` and ``freq_multiplier=1``, and the numbers agree with it (values
    to the billionth: they are summed exactly in billionths, so that every engine gives the
    same bits, see :func:`journey_lib._engine.exact_terms`) whenever ``observation_end`` is
    the start of a period (a date with ``period="day"``, a Monday with ``"week"``).
    lifetimes also keeps purchases later in ``observation_end``'s
    own period; here nothing after ``observation_end`` counts, so the summary never sees the
    future (lifetimes' ``calibration_and_holdout_data`` cuts its calibration data the same
    way).
    Note that ``recency`` is the customer's age at the last purchase, not the time since it
    (that is ``T - recency``).

    Parameters
    ----------
    events : DataFrame
        A touchpoint log (``customer_id``, ``timestamp``, ``event``, optional ``value``) of
        any engine: pandas, Polars, DuckDB, PySpark. The result is the same kind.
    observation_end : str, datetime or Timestamp
        End of the observation, inclusive; naive times are UTC.
    purchase_event : str, optional
        The event that is a transaction: the profile's conversion, else ``"purchase"``.
    profile : LogProfile, optional
        A log profile (:func:`journey_lib.profile`), for the purchase event when not given.
    period : {"day", "week", "hour"}, default "day"
        Period of time: UTC calendar days, weeks from Monday to Sunday, or hours; pandas'
        codes ``"D"``, ``"W"``, ``"h"`` (or ``"H"``) also work.
    freq : str, optional
        Deprecated: the former name of ``period``, accepted until the next release with a
        DeprecationWarning.
    by : str, list of str or Segments, optional
        Segment columns (a list: a crossing), or a
        :class:`~journey_lib.analytics.segments.Segments` for a customer table or a cutoff:
        each customer's segment, read from the whole log given (purchases after
        ``observation_end`` included, unless the rule is ``"at_cutoff"``).
    by_rule : {"first", "last", "at_cutoff"}, default "first"
        Which value of a ``by`` column that changes over a customer's life counts.
    top : int or None, default 10
        Segments kept by name; the customers of the others are in ``(other)``.

    Returns
    -------
    DataFrame
        One row per customer with a transaction, sorted by ``customer_id``: ``customer_id``,
        ``frequency``, ``recency``, ``T``, ``monetary_value`` (floats, as lifetimes gives).
        With ``by``, the segment columns (text, ``(missing)``, ``(other)``) come first and
        the rows are sorted by segment, then customer.
        A pandas result records ``{"period": "day"}`` (or ``"week"``, ``"hour"``) in
        ``.attrs["journey_lib.rfm"]``, so that
        :func:`journey_lib.clv.customer_lifetime_value` reads the time unit itself.
        Customers without a transaction up to ``observation_end`` are absent, so an
        ``observation_end`` before every purchase gives an empty frame.

    Raises
    ------
    JourneyParameterError
        For a ``period`` other than those above, or an ``observation_end`` that is not a time.
    JourneyDataError
        When a required column is missing or ``value`` is not numeric.

    Notes
    -----
    Values are used as they are: zero and negative values (refunds booked as purchases) count
    like any other, and a missing ``value`` (null or NaN, or no ``value`` column) counts as
    0, as the touchpoint log defines it. Gamma-Gamma needs positive ``monetary_value``:
    filter before fitting. Rows with a missing ``customer_id`` or ``timestamp`` are not
    transactions.

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({
    ...     "customer_id": [1, 1, 1, 2],
    ...     "timestamp": pd.to_datetime(["2024-01-01 09:00", "2024-01-01 18:00",
    ...                                  "2024-01-08 00:00", "2024-01-05 00:00"], utc=True),
    ...     "event": "purchase",
    ...     "value": [10.0, 5.0, 30.0, 20.0]})
    >>> rfm(log, observation_end="2024-01-11")
       customer_id  frequency  recency     T  monetary_value
    0            1        1.0      7.0  10.0            30.0
    1            2        0.0      0.0   6.0             0.0
    >>> rfm(log.assign(plan=["basic", "plus", "plus", "plus"]), observation_end="2024-01-11",
    ...     by="plan", by_rule="last")[["plan", "customer_id", "frequency"]]
       plan  customer_id  frequency
    0  plus            1        1.0
    1  plus            2        0.0
    """
    frame, eager = lazy_events(events)
    period = fixed_period(period_or_freq(period, freq, default="day"))
    end_us = instant_us(observation_end, "observation_end")
    purchase_event = from_profile(profile, "conversion", purchase_event, "purchase")
    segments = segments_of(by, by_rule, top)
    purchases = _purchases(frame, purchase_event, period)
    summary = _summary(purchases.filter(nw.col("_us") <= end_us), period_number(end_us, period))
    summary, keys = _with_segments(summary, frame, segments, eager, _SUMMARY)
    result = finish(summary.sort(*keys, "customer_id"), eager)
    if isinstance(result, pd.DataFrame):  # the time unit, for journey_lib.clv to check
        result.attrs[ATTRS_KEY] = {"period": period}
    return result


def calibration_holdout(
    events: IntoFrameT,
    *,
    calibration_end: Any,
    observation_end: Any,
    purchase_event: str | None = None,
    profile: LogProfile | None = None,
    period: str = "day",
    freq: str | None = None,
    by: str | Sequence[str] | Segments | None = None,
    by_rule: str = "first",
    top: int | None = 10,
) -> IntoFrameT:
    """The :func:`rfm` summary up to ``calibration_end`` and what each customer did after it.

    The same as lifetimes' ``calibration_and_holdout_data`` with ``monetary_value_col``. The
    *calibration* transactions are the ``purchase_event`` rows at or before
    ``calibration_end``; the *holdout* ones are after ``calibration_end`` and at or before
    ``observation_end``. For every customer with a calibration transaction:

    * ``frequency_cal``, ``recency_cal``, ``T_cal``, ``monetary_value_cal``: exactly
      ``rfm(events, observation_end=calibration_end)``;
    * ``frequency_holdout``: the number of distinct periods holding a holdout
      transaction (no first period is subtracted; a period that ``calibration_end`` cuts in
      two counts in both parts);
    * ``monetary_value_holdout``: the mean ``value`` of the holdout transactions, taken row
      by row rather than per period (as lifetimes does), 0 without one;
    * ``duration_holdout``: periods from ``calibration_end``'s period to
      ``observation_end``'s, the same for every customer.

    Customers whose first purchase comes after ``calibration_end`` are left out, since the
    models cannot be calibrated on them. Where lifetimes raises because no customer bought in
    the holdout, the holdout columns here are simply 0.

    Parameters
    ----------
    events : DataFrame
        A touchpoint log of any engine, as for :func:`rfm`; the result is the same kind.
    calibration_end, observation_end : str, datetime or Timestamp
        Ends of the calibration and of the whole observation, inclusive; naive times are UTC.
    purchase_event : str, optional
        The event that is a transaction: the profile's conversion, else ``"purchase"``.
    profile : LogProfile, optional
        A log profile (:func:`journey_lib.profile`), for the purchase event when not given.
    period : {"day", "week", "hour"}, default "day"
        Period of time, as for :func:`rfm`.
    freq : str, optional
        Deprecated: the former name of ``period``.
    by, by_rule, top
        Customer segments, as for :func:`rfm`. To read them from the calibration period
        only, pass ``by=Segments(columns, rule="at_cutoff", cutoff=calibration_end)``.

    Returns
    -------
    DataFrame
        Sorted by ``customer_id``: ``customer_id``, ``frequency_cal``, ``recency_cal``,
        ``T_cal``, ``monetary_value_cal``, ``frequency_holdout``, ``monetary_value_holdout``,
        ``duration_holdout`` (floats). With ``by``, the segment columns come first and the
        rows are sorted by segment, then customer.

    Raises
    ------
    JourneyParameterError
        When ``observation_end`` is before ``calibration_end``, for an unknown ``period``, or a
        bound that is not a time.
    JourneyDataError
        When a required column is missing or ``value`` is not numeric.

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({
    ...     "customer_id": [1, 1, 1, 1, 2],
    ...     "timestamp": pd.to_datetime(["2024-01-01 00:00", "2024-01-03 00:00", "2024-01-12 08:00",
    ...                                  "2024-01-12 20:00", "2024-01-15 00:00"], utc=True),
    ...     "event": "purchase",
    ...     "value": [10.0, 30.0, 5.0, 15.0, 8.0]})
    >>> out = calibration_holdout(log, calibration_end="2024-01-10", observation_end="2024-01-20")
    >>> out.T[0]
    customer_id                1.0
    frequency_cal              1.0
    recency_cal                2.0
    T_cal                      9.0
    monetary_value_cal        30.0
    frequency_holdout          1.0
    monetary_value_holdout    10.0
    duration_holdout          10.0
    Name: 0, dtype: float64
    """
    frame, eager = lazy_events(events)
    period = fixed_period(period_or_freq(period, freq, default="day"))
    cal_us = instant_us(calibration_end, "calibration_end")
    end_us = instant_us(observation_end, "observation_end")
    if end_us < cal_us:
        raise JourneyParameterError(
            f"observation_end ({observation_end!r}) is before calibration_end "
            f"({calibration_end!r}); the holdout runs from calibration_end to observation_end"
        )
    purchase_event = from_profile(profile, "conversion", purchase_event, "purchase")
    segments = segments_of(by, by_rule, top)
    purchases = _purchases(frame, purchase_event, period)
    us = nw.col("_us")
    calibration = _summary(purchases.filter(us <= cal_us), period_number(cal_us, period)).rename(
        {c: f"{c}_cal" for c in _SUMMARY}
    )
    holdout = (
        purchases.filter(us > cal_us, us <= end_us)
        .with_columns(**exact_terms(nw.col("value"), "_value"))
        .group_by("customer_id")
        .agg(
            nw.col("_period").n_unique().alias("frequency_holdout"),
            nw.col("_value_whole", "_value_parts").sum(),
            nw.len().alias("_n"),
        )
        .select(
            "customer_id",
            "frequency_holdout",
            exact_mean("_value", nw.col("_n")).alias("monetary_value_holdout"),
        )
    )
    duration = float(period_number(end_us, period) - period_number(cal_us, period))
    result = calibration.join(holdout, on="customer_id", how="left").with_columns(
        nw.col("frequency_holdout", "monetary_value_holdout").cast(nw.Float64).fill_null(0.0),
        nw.lit(duration, dtype=nw.Float64()).alias("duration_holdout"),
    )
    result, keys = _with_segments(result, frame, segments, eager, _CALIBRATION)
    return finish(result.sort(*keys, "customer_id"), eager)


def rfm_segments(rfm_frame: IntoFrameT) -> IntoFrameT:
    """Quintile R, F and M scores (1-5, 5 best) and the RFM segment of every customer.

    Reads the output of :func:`rfm` (any engine; the result is the same kind) and scores, over
    all its ``n`` customers:

    * R on the periods since the last purchase, ``T - recency`` (fewer is better);
    * F on ``frequency`` (more is better);
    * M on ``monetary_value``, the mean repeat value (more is better; one-time buyers have 0).

    **Scores.** Each customer's rank ``k`` is 1 plus the number of customers strictly worse
    on that measure (``rank(method="min")``, worst first), and the score is
    ``1 + (5 * (k - 1)) // n``: rank-based quintiles in which tied customers always share a
    score, that of the lowest rank of their tie. A tie can therefore hold more than a fifth
    of the customers and leave some scores unused (if most customers never came back, they
    all get F = 1).

    **Segments.** With ``FM = (F + M) // 2`` (frequency and monetary value as one axis), the
    segment is read from this map, which names every (R, FM) pair once:

    ====  ==============  ===================  ===================  =========  ================
    R     FM = 1          FM = 2               FM = 3               FM = 4     FM = 5
    ====  ==============  ===================  ===================  =========  ================
    5     new customers   potential loyalists  potential loyalists  champions  champions
    4     promising       potential loyalists  potential loyalists  loyal      loyal
    3     about to sleep  about to sleep       need attention       loyal      loyal
    2     hibernating     hibernating          at risk              at risk    cannot lose them
    1     lost            hibernating          at risk              at risk    cannot lose them
    ====  ==============  ===================  ===================  =========  ================

    **Customer segments.** Columns before ``customer_id`` are segment columns, as
    ``rfm(..., by=...)`` puts them: they are kept first and lead the sort. Scores are still
    ranked over all customers, not within each segment, so a score means the same in every
    segment and the segments' shares of champions (or of the lost) can be compared.

    Parameters
    ----------
    rfm_frame : DataFrame
        ``customer_id``, ``frequency``, ``recency``, ``T``, ``monetary_value``, one row per
        customer, such as :func:`rfm` returns. Other columns are kept.

    Returns
    -------
    DataFrame
        ``rfm_frame`` sorted by its segment columns (if any), then ``customer_id``, with
        integer ``r_score``, ``f_score``, ``m_score`` and a text ``segment`` (one of
        :data:`RFM_SEGMENTS`). Empty in, empty out.

    Raises
    ------
    JourneyDataError
        When a column above is missing, or a segment column is named like a column this
        function adds (a customer ``segment``, say), which would be overwritten.

    Notes
    -----
    Ranking needs the whole frame at once: on PySpark it runs in a single partition (Spark
    warns so), which is fine for one row per customer.

    Examples
    --------
    >>> import pandas as pd
    >>> summary = pd.DataFrame({
    ...     "customer_id": [1, 2, 3, 4, 5],
    ...     "frequency": [6.0, 0.0, 2.0, 4.0, 0.0],
    ...     "recency": [50.0, 0.0, 10.0, 20.0, 0.0],
    ...     "T": [52.0, 3.0, 60.0, 80.0, 90.0],
    ...     "monetary_value": [40.0, 0.0, 25.0, 60.0, 0.0]})
    >>> rfm_segments(summary)[["customer_id", "r_score", "f_score", "m_score", "segment"]]
       customer_id  r_score  f_score  m_score         segment
    0            1        5        5        4       champions
    1            2        4        1        1       promising
    2            3        3        3        3  need attention
    3            4        2        4        5         at risk
    4            5        1        1        1            lost
    """
    frame, eager = lazy_events(rfm_frame, required=("customer_id", *_SUMMARY), what="the RFM frame")
    names = frame.collect_schema().names()
    leading = names[: names.index("customer_id")]
    clash = [c for c in leading if c in _SCORES]
    if clash:
        raise JourneyDataError(
            f"the RFM frame's segment column {clash[0]!r} would be overwritten by the "
            f"{clash[0]!r} rfm_segments adds; rename it in the log or customer table before "
            f"rfm(..., by=...), e.g. to 'customer_{clash[0]}'"
        )
    since_last = nw.col("T") - nw.col("recency")
    scores = frame.with_columns(
        _quintile(since_last.rank("min", descending=True)).alias("r_score"),
        _quintile(nw.col("frequency").rank("min")).alias("f_score"),
        _quintile(nw.col("monetary_value").rank("min")).alias("m_score"),
    )
    cells = {10 * r + fm: name for r, row in _GRID.items() for fm, name in enumerate(row, 1)}
    cell = 10 * nw.col("r_score") + (nw.col("f_score") + nw.col("m_score")) // 2
    # Every cell is mapped; the default only satisfies DuckDB, which insists on one.
    segment = cell.replace_strict(cells, default=nw.lit(None), return_dtype=nw.String())
    result = scores.with_columns(segment.alias("segment")).sort(*leading, "customer_id")
    return finish(result, eager)


def _with_segments(
    result: nw.LazyFrame,
    frame: nw.LazyFrame,
    segments: Segments | None,
    eager: bool,
    columns: Sequence[str],
) -> tuple[nw.LazyFrame, list[str]]:
    """``result`` (``customer_id`` and ``columns``, one row per customer) with each
    customer's segment columns first, read from the whole log ``frame``; and those columns."""
    if segments is None:
        return result, []
    table = segment_table(frame, segments, reserved=columns, check=eager)
    joined = result.join(table, on="customer_id", how="left")
    return joined.select(*segments.columns, "customer_id", *columns), segments.columns


def _quintile(rank: nw.Expr) -> nw.Expr:
    return 1 + (5 * (rank.cast(nw.Int64) - 1)) // nw.len()


def _purchases(frame: nw.LazyFrame, purchase_event: str, period: str) -> nw.LazyFrame:
    """Transactions as ``customer_id``, ``_us`` (time), ``_period`` and ``value``."""
    if not isinstance(purchase_event, str):
        raise JourneyParameterError(
            f"purchase_event must be an event name, got {type(purchase_event).__name__}"
        )
    value = money(frame.collect_schema())
    # Times become a column before periods are derived from it: engines would otherwise
    # repeat the conversion inside every branch of their floor-division expression.
    purchases = frame.filter(
        nw.col("event") == purchase_event,
        ~nw.col("customer_id").is_null(),
        ~nw.col("timestamp").is_null(),
    )
    return (
        with_microseconds(purchases, "_us")
        .select("customer_id", "_us", value.alias("value"))
        .with_columns(period_number(nw.col("_us"), period).alias("_period"))
    )


def _summary(purchases: nw.LazyFrame, end_period: int) -> nw.LazyFrame:
    """lifetimes' frequency, recency, T and monetary_value from (already cut) transactions.

    One aggregation per customer, no per-period table: the mean over repeat periods of
    each period's total is the value of everything after the first period divided by the
    number of those periods.
    """
    first = nw.col("_period").min().over("customer_id")
    repeat_value = nw.when(nw.col("_period") > nw.col("_first")).then(nw.col("value"))
    # Summed exactly, so that every engine gives a churn model the same feature.
    rows = purchases.with_columns(_first=first).with_columns(
        **exact_terms(repeat_value.otherwise(0.0), "_repeat_value")
    )
    per_customer = rows.group_by("customer_id").agg(
        nw.col("_period").n_unique().alias("_n"),
        nw.col("_first").min(),
        nw.col("_period").max().alias("_last"),
        nw.col("_repeat_value_whole", "_repeat_value_parts").sum(),
    )
    repeats = nw.col("_n") - 1
    return per_customer.select(
        nw.col("customer_id"),
        repeats.cast(nw.Float64).alias("frequency"),
        (nw.col("_last") - nw.col("_first")).cast(nw.Float64).alias("recency"),
        (end_period - nw.col("_first")).cast(nw.Float64).alias("T"),
        nw.when(repeats > 0)
        .then(exact_mean("_repeat_value", repeats))
        .otherwise(0.0)
        .cast(nw.Float64)
        .alias("monetary_value"),
    )


def __getattr__(name: str) -> Any:
    # FREQS, the former name of RFM_PERIODS (in pandas' codes), until the next release.
    if name == "FREQS":
        warnings.warn(
            "journey_lib.analytics.rfm.FREQS is deprecated (removed in the next release): use "
            "RFM_PERIODS, the periods by name ('hour', 'day', 'week')",
            DeprecationWarning,
            stacklevel=2,
        )
        return ("D", "W", "h", "H")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
