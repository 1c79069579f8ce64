"""Time as journey_lib counts it: durations, UTC instants, and numbered periods.

One implementation for the whole package. Times are compared as integer microseconds since
the Unix epoch, 1970-01-01 00:00 UTC (:data:`EPOCH`); naive times mean UTC. A user's
durations and points in time become microseconds here (:func:`duration_us`,
:func:`instant_us`); a log's datetime column becomes microseconds in
:func:`journey_lib._engine.with_microseconds`, which knows each engine.

Periods
-------
*Calendar periods* (:data:`PERIODS`) are UTC days, weeks from Monday to Sunday, months,
quarters and years, as cohorts, funnels and trends group time. *Fixed periods*
(:data:`PERIOD_US`) are hours, days and weeks, the units in which :func:`journey_lib.rfm`
and the CLV models count time; pandas' codes ``"h"``, ``"D"`` and ``"W"`` name them too.

A period's **number** counts periods from the one holding the epoch, so consecutive periods
have consecutive numbers and an offset is a difference:

=======  ===========================================  ======================================
period   number                                       first day (days since 1970-01-01)
=======  ===========================================  ======================================
hour     ``us // HOUR_US``                            (starts at ``number * HOUR_US``)
day      ``us // DAY_US``                             ``number``
week     ``(us // DAY_US + 3) // 7``                  ``7 * number - 3``
month    ``12 * year + month - 1``                    the 1st of that month
quarter  ``4 * year + (month - 1) // 3``              the 1st of its first month
year     ``year``                                     January 1st
=======  ===========================================  ======================================

1970-01-01 was a Thursday, so three days on, week numbers change on Mondays, as pandas'
weekly periods (``"W"``, weeks ending on Sunday) do. The arithmetic is the same on Python
ints, NumPy arrays and Narwhals expressions (every engine floors ``//``), so one function
serves a single bound and a whole column.
"""

from __future__ import annotations

import datetime as dt
import warnings
from typing import Any

import narwhals.stable.v2 as nw
import pandas as pd

from .errors import JourneyParameterError, check_choice

#: The Unix epoch, from which every time is counted in microseconds.
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
#: The epoch as a naive time, for naive (UTC wall-clock) columns.
EPOCH_NAIVE = EPOCH.replace(tzinfo=None)
DAY = dt.timedelta(days=1)
HOUR_US = 3_600_000_000
DAY_US = 24 * HOUR_US
WEEK_US = 7 * DAY_US

#: Calendar periods: UTC days, weeks from Monday, months, quarters, years.
PERIODS: tuple[str, ...] = ("day", "week", "month", "quarter", "year")
#: Fixed periods and their length in microseconds, shortest first.
PERIOD_US: dict[str, int] = {"hour": HOUR_US, "day": DAY_US, "week": WEEK_US}
#: pandas' codes of the fixed periods, the values of the former ``freq`` argument.
PANDAS_CODES: dict[str, str] = {"h": "hour", "H": "hour", "D": "day", "W": "week"}

_TRUNCATE = {"day": "1d", "month": "1mo", "quarter": "1q", "year": "1y"}
# Days from 0000-03-01 (proleptic Gregorian) to 1970-01-01.
_DAYS_TO_EPOCH = 719_468


def duration_us(value: Any, name: str) -> int | None:
    """A positive duration in microseconds; None stays None (unlimited).

    Parameters
    ----------
    value : str, timedelta, Timedelta or None
        ``"1h"``, ``"14D"``, ``"30min"``, anything ``pandas.Timedelta`` reads.
    name : str
        The argument's name, for the error message.

    Raises
    ------
    JourneyParameterError
        When ``value`` is not a duration, or not positive.

    Examples
    --------
    >>> duration_us("90min", "gap"), duration_us(None, "gap")
    (5400000000, None)
    """
    if value is None:
        return None
    try:
        span = pd.Timedelta(value)
    except (TypeError, ValueError):
        raise JourneyParameterError(
            f"{name}={value!r} is not a duration; use e.g. '30min', '1h', '14D' or a timedelta"
        ) from None
    if pd.isna(span) or span <= pd.Timedelta(0):
        raise JourneyParameterError(f"{name} must be a positive duration, got {value!r}")
    return int(span / pd.Timedelta(microseconds=1))


def utc_timestamp(value: Any, name: str) -> pd.Timestamp:
    """A user's point in time as a UTC Timestamp: naive input means UTC, zoned input is
    converted (the same instant).

    Raises
    ------
    JourneyParameterError
        When ``value`` is not a date or time (or is missing).

    Examples
    --------
    >>> utc_timestamp("2024-06-01T02:00+02:00", "as_of")
    Timestamp('2024-06-01 00:00:00+0000', tz='UTC')
    """
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise JourneyParameterError(f"{name}={value!r} is not a date or time") from None
    if pd.isna(stamp):
        raise JourneyParameterError(f"{name} must be a date or time, got {value!r}")
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def utc_datetime(value: Any, name: str) -> dt.datetime:
    """:func:`utc_timestamp` as a timezone-aware ``datetime.datetime``.

    Examples
    --------
    >>> utc_datetime("2024-01-01", "start")
    datetime.datetime(2024, 1, 1, 0, 0, tzinfo=datetime.timezone.utc)
    """
    return utc_timestamp(value, name).to_pydatetime()


def instant_us(value: Any, name: str) -> int:
    """A user's point in time as integer microseconds since the epoch (naive means UTC),
    as a log's times are counted.

    Examples
    --------
    >>> instant_us("1970-01-02", "end") == DAY_US
    True
    """
    return (utc_datetime(value, name) - EPOCH) // dt.timedelta(microseconds=1)


def fixed_period(value: Any, name: str = "period") -> str:
    """The fixed period ``value`` names: ``"hour"``, ``"day"`` or ``"week"``, also spelled
    with pandas' codes ``"h"`` (or ``"H"``), ``"D"`` and ``"W"``.

    Raises
    ------
    JourneyParameterError
        For anything else, naming the valid values.

    Examples
    --------
    >>> fixed_period("W"), fixed_period("hour")
    ('week', 'hour')
    """
    word = PANDAS_CODES.get(value, value) if isinstance(value, str) else value
    if not isinstance(word, str) or word not in PERIOD_US:
        raise JourneyParameterError(
            f"{name} must be one of 'hour', 'day', 'week' (or pandas' 'h', 'D', 'W'); got {value!r}"
        )
    return word


def period_or_freq(period: Any, freq: Any, *, default: Any) -> Any:
    """``period``, or the ``freq`` given instead: ``freq`` is the former name of ``period``
    in :func:`journey_lib.rfm` and the CLV functions, accepted until the next release with a
    DeprecationWarning that says what to write.

    ``default`` is the default of the caller's ``period``; any other ``period`` given
    alongside ``freq`` is an error, since the two would disagree.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     period_or_freq("day", "W", default="day")
    'W'
    >>> print(caught[0].message)
    freq= is deprecated (removed in the next release): write period='week' instead of freq='W'
    """
    if freq is None:
        return period
    word = PANDAS_CODES.get(freq, freq) if isinstance(freq, str) else freq
    warnings.warn(
        f"freq= is deprecated (removed in the next release): write period={word!r} "
        f"instead of freq={freq!r}",
        DeprecationWarning,
        stacklevel=3,
    )
    if period != default:
        raise JourneyParameterError(
            f"period={period!r} and freq={freq!r} were both given; freq is the former name "
            f"of period: pass period only"
        )
    return freq


def period_number(us: Any, period: str) -> Any:
    """The number of the hour, day or week (from Monday) holding ``us`` microseconds since
    the epoch: an int, array or expression like ``us``. See the table above.

    Examples
    --------
    >>> week = 7 * DAY_US
    >>> [period_number(us, "week") for us in (0, 4 * DAY_US - 1, 4 * DAY_US, 4 * DAY_US + week)]
    [0, 0, 1, 2]
    >>> period_number(-1, "day"), period_number(HOUR_US, "hour")
    (-1, 1)
    """
    if period == "week":
        return (us // DAY_US + 3) // 7
    return us // PERIOD_US[period]


def calendar_number(year: Any, month: Any, period: str) -> Any:
    """The number of the month, quarter or year holding ``month`` (1-12) of ``year``: ints,
    arrays or expressions. See the table above.

    Examples
    --------
    >>> calendar_number(2024, 5, "month"), calendar_number(2024, 5, "quarter")
    (24292, 8097)
    """
    if period == "year":
        return year
    if period == "quarter":
        return year * 4 + (month - 1) // 3
    return year * 12 + month - 1


def first_day(number: Any, period: str) -> Any:
    """Days from 1970-01-01 to the first day of the calendar period numbered ``number``
    (by :func:`period_number` or :func:`calendar_number`): ints, arrays or expressions.

    Examples
    --------
    >>> import datetime as dt
    >>> [str(dt.date(1970, 1, 1) + dt.timedelta(days=first_day(n, p)))
    ...  for n, p in [(0, "week"), (24292, "month"), (8097, "quarter"), (2024, "year")]]
    ['1969-12-29', '2024-05-01', '2024-04-01', '2024-01-01']
    """
    if period == "day":
        return number
    if period == "week":
        return number * 7 - 3
    if period == "year":
        return days_from_civil(number, 1)
    # x - (x // n) * n rather than x % n: pandas lacks % on Arrow-backed integers.
    if period == "quarter":
        year = number // 4
        return days_from_civil(year, (number - year * 4) * 3 + 1)
    year = number // 12
    return days_from_civil(year, number - year * 12 + 1)


def period_start_us(number: Any, period: str) -> Any:
    """The first microsecond (since the epoch) of the period numbered ``number``: an hour,
    or any calendar period.

    Examples
    --------
    1970-01-13, a Tuesday, is in the week from Monday the 12th (day 11):

    >>> period_start_us(period_number(12 * DAY_US + 5, "week"), "week") // DAY_US
    11
    """
    if period == "hour":
        return number * HOUR_US
    return first_day(number, period) * DAY_US


def days_from_civil(year: Any, month: Any) -> Any:
    """Days from 1970-01-01 to the first day of ``month`` (1-12) of ``year``, proleptic
    Gregorian, in integer arithmetic after Howard Hinnant's ``days_from_civil`` (ints,
    arrays or expressions, so every engine agrees).

    Examples
    --------
    >>> days_from_civil(1970, 1), days_from_civil(2000, 3), days_from_civil(1969, 12)
    (0, 11017, -31)
    """
    return days_from_march(*march_year(year, month))


def march_year(year: Any, month: Any) -> tuple[Any, Any]:
    """``year`` and ``month`` (1-12) counted from March, the first half of
    :func:`days_from_civil`: the year (January and February belong to the year before, so
    a leap day ends it) and the month (March 0, ..., February 11).

    Examples
    --------
    >>> march_year(2024, 1), march_year(2024, 3)
    ((2023, 10), (2024, 0))
    """
    before_march = (14 - month) // 12
    return year - before_march, month + 12 * before_march - 3


def days_from_march(year: Any, month: Any) -> Any:
    """Days from 1970-01-01 to the first day of ``month`` of ``year``, both counted from
    March (:func:`march_year`): the second half of :func:`days_from_civil`.

    Examples
    --------
    >>> days_from_march(*march_year(2000, 3))
    11017
    """
    day_of_year = (153 * month + 2) // 5
    return year * 365 + year // 4 - year // 100 + year // 400 + day_of_year - _DAYS_TO_EPOCH


def period_start(expr: nw.Expr, period: str) -> nw.Expr:
    """The start of the calendar period holding each time of ``expr``, in its own time zone
    and time unit (UTC for logs from journey_lib): day, week (Monday), month, quarter or
    year. ``period`` is one of :data:`PERIODS`; any other is a JourneyParameterError.

    Examples
    --------
    >>> import pandas as pd, narwhals.stable.v2 as nw
    >>> times = pd.DataFrame({"t": pd.to_datetime(["2024-03-03 18:00", "2024-05-20 00:00"])})
    >>> out = nw.from_native(times).select(period_start(nw.col("t"), "week"))
    >>> out.to_native()["t"].dt.strftime("%a %Y-%m-%d").tolist()
    ['Mon 2024-02-26', 'Mon 2024-05-20']
    """
    check_choice("period", period, PERIODS)
    if period == "week":
        # Days since Monday; (weekday + 6) % 7 reads Sunday as 6 whether an engine numbers
        # it 7 (ISO, as Polars) or 0 (as Narwhals on Spark).
        since_monday = (expr.dt.weekday() + 6) % 7
        return expr.dt.truncate("1d") - since_monday * nw.lit(DAY)
    return expr.dt.truncate(_TRUNCATE[period])
