"""The few Narwhals helpers that engine-agnostic modules share.

Analytics functions take a touchpoint log of any engine, work on a Narwhals LazyFrame, and
hand back the kind they were given: :func:`lazy_events` opens, :func:`finish` closes. Time is
compared as integer microseconds since the Unix epoch (:func:`with_microseconds`), which every
engine handles alike; calendar periods come from :func:`period_start`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import narwhals.stable.v2 as nw
import pandas as pd

from .errors import JourneyDataError, JourneyParameterError

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
#: Calendar periods understood by :func:`period_start`; weeks start on Monday.
PERIODS: tuple[str, ...] = ("day", "week", "month", "quarter", "year")
_TRUNCATE = {"day": "1d", "month": "1mo", "quarter": "1q", "year": "1y"}
_DAY = dt.timedelta(days=1)
#: Names of the UTC time zone.
UTC_NAMES = frozenset(
    {"UTC", "Etc/UTC", "UCT", "Etc/UCT", "Universal", "Etc/Universal", "Zulu", "Etc/Zulu"}
)


def to_pandas(frame: Any, *, what: str = "events") -> pd.DataFrame:
    """Return ``frame`` as a pandas DataFrame, collecting lazy frames explicitly.

    pandas input is returned as is (copy-on-write makes that safe). Polars, DuckDB, PySpark
    and any other frame Narwhals understands is converted; a lazy frame is computed first.
    """
    if isinstance(frame, pd.DataFrame):
        return frame
    native = _narwhals(frame, what)
    if isinstance(native, nw.LazyFrame):
        native = native.collect()
    return native.to_pandas()


def lazy_events(
    events: Any,
    *,
    required: Iterable[str] = ("customer_id", "timestamp", "event"),
    what: str = "events",
) -> tuple[nw.LazyFrame, bool]:
    """Open a frame of any engine as a Narwhals LazyFrame, checking its columns.

    Returns the LazyFrame and whether the input was eager, for :func:`finish`. A pandas or
    eager Polars frame becomes lazy here and is collected again at the end.

    Raises
    ------
    JourneyDataError
        When a required column is missing, or ``timestamp`` is not a datetime column (the
        message points to :func:`journey_lib.load_events`, which parses times).
    """
    if isinstance(events, pd.DataFrame):
        events = _readable_zone(events)
    frame = _narwhals(events, what)
    schema = frame.collect_schema()
    missing = [c for c in required if c not in schema]
    if missing:
        raise JourneyDataError(
            f"{what} lack required column(s) {missing}; they have {list(schema)}. "
            f"Load or validate the log first (journey_lib.load_events / validate_events)"
        )
    if "timestamp" in schema and not isinstance(schema["timestamp"], nw.Datetime):
        raise JourneyDataError(
            f"{what}: 'timestamp' is {schema['timestamp']}, not a datetime; load the log with "
            f"journey_lib.load_events (or validate_events) so times are parsed to UTC"
        )
    eager = isinstance(frame, nw.DataFrame)
    return (frame.lazy() if eager else frame), eager


def finish(result: nw.LazyFrame, eager: bool) -> Any:
    """The result as the kind of frame the caller gave: collected when the input was eager
    (pandas results get a fresh RangeIndex), left lazy otherwise."""
    if not eager:
        return result.to_native()
    native = result.collect().to_native()
    return native.reset_index(drop=True) if isinstance(native, pd.DataFrame) else native


def with_microseconds(frame: nw.LazyFrame, name: str, column: str = "timestamp") -> nw.LazyFrame:
    """``frame`` with a column ``name``: the datetime ``column`` as integer microseconds
    since 1970-01-01 UTC.

    Zoned times count from the UTC epoch, naive ones as UTC wall clock. DuckDB computes it
    with its own ``epoch_us``, twenty times faster than the duration arithmetic Narwhals
    would write there (which casts through ICU). Spark-like engines lack duration
    arithmetic in Narwhals; there whole seconds (a cast) and the microsecond of the second
    are added, which is the same for times after 1970.
    """
    impl = frame.implementation
    if impl.is_duckdb():
        relation = frame.to_native()
        source, target = ('"' + c.replace('"', '""') + '"' for c in (column, name))
        us = f"epoch_us({source}) AS {target}"
        projection = f"* REPLACE ({us})" if name in relation.columns else f"*, {us}"
        return nw.from_native(relation.project(projection))
    expr = nw.col(column)
    if impl.is_spark_like():
        return frame.with_columns(
            (expr.cast(nw.Int64) * 1_000_000 + expr.dt.microsecond()).alias(name)
        )
    zone = getattr(frame.collect_schema()[column], "time_zone", None)
    if zone is not None:
        if zone not in UTC_NAMES:
            expr = expr.dt.convert_time_zone("UTC")
        expr = expr.dt.replace_time_zone(None)
    return frame.with_columns(
        (expr - nw.lit(EPOCH.replace(tzinfo=None))).dt.total_microseconds().alias(name)
    )


def in_utc(frame: nw.LazyFrame, column: str = "timestamp") -> nw.LazyFrame:
    """``frame`` with zoned times in ``column`` converted to UTC (the same instants), so
    calendar periods are UTC periods whatever zone the log was given in; naive and UTC
    times are left as they are."""
    zone = getattr(frame.collect_schema()[column], "time_zone", None)
    if zone is None or zone in UTC_NAMES:
        return frame
    return frame.with_columns(nw.col(column).dt.convert_time_zone("UTC"))


def unpivot(
    frame: nw.LazyFrame,
    on: list[str],
    *,
    index: list[str] | None,
    variable_name: str,
    value_name: str,
) -> nw.LazyFrame:
    """``frame.unpivot(...)`` that also works on relations of any DuckDB connection.

    Narwhals unpivots DuckDB relations through the default connection, which cannot read
    a relation of another; here DuckDB's UNPIVOT runs on the relation's own connection.
    """
    if not frame.implementation.is_duckdb():
        return frame.unpivot(on=on, index=index, variable_name=variable_name, value_name=value_name)

    def quoted(name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    kept = ", ".join(quoted(c) for c in [*(index or []), variable_name, value_name])
    source = "_jl_unpivot_source"
    query = (
        f"SELECT {kept} FROM (UNPIVOT {source} ON {', '.join(quoted(c) for c in on)} "
        f"INTO NAME {quoted(variable_name)} VALUE {quoted(value_name)})"
    )
    return nw.from_native(frame.to_native().query(source, query))


def period_start(expr: nw.Expr, period: str) -> nw.Expr:
    """The start of the calendar period holding each time: day, week (Monday), month,
    quarter or year, in the frame's time zone (UTC for logs from journey_lib)."""
    check_choice("period", period, PERIODS)
    if period == "week":
        # Days since Monday; (weekday + 6) % 7 reads Sunday as 6 whether an engine numbers
        # it 7 (ISO, as Polars) or 0 (as Narwhals on Spark).
        since_monday = (expr.dt.weekday() + 6) % 7
        return expr.dt.truncate("1d") - since_monday * nw.lit(_DAY)
    return expr.dt.truncate(_TRUNCATE[period])


def duration_us(value: Any, name: str) -> int | None:
    """A positive duration ("1h", "14D", "30min", a Timedelta or timedelta) in
    microseconds; None stays None (unlimited)."""
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


def utc_datetime(value: Any, name: str) -> dt.datetime:
    """A point in time as a timezone-aware UTC datetime; naive input means UTC."""
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise JourneyParameterError(f"{name}={value!r} is not a date or time") from None
    if pd.isna(stamp):
        raise JourneyParameterError(f"{name} must be a date or time, got {value!r}")
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.to_pydatetime()


def instant_us(value: Any, name: str) -> int:
    """A user's point in time as integer microseconds since the epoch, as
    :func:`with_microseconds` reads the log's times (naive means UTC)."""
    return (utc_datetime(value, name) - EPOCH) // dt.timedelta(microseconds=1)


def money(schema: Any, column: str = "value") -> nw.Expr:
    """The log's ``value`` as Float64 with a missing one (null or NaN, or no column at all)
    read as 0, as the touchpoint log defines it; NaN is filled too because Polars, DuckDB
    and Spark keep NaN apart from null.

    Raises
    ------
    JourneyDataError
        When the column is there but not numeric.
    """
    if column not in schema:
        return nw.lit(0.0, dtype=nw.Float64())
    if not schema[column].is_numeric():
        raise JourneyDataError(
            f"{column!r} is {schema[column]}, not numeric; load the log with "
            f"journey_lib.load_events so values are parsed"
        )
    return nw.col(column).cast(nw.Float64).fill_nan(0.0).fill_null(0.0)


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> None:
    """Raise JourneyParameterError naming the valid values unless ``value`` is one."""
    options = tuple(choices)
    if value not in options:
        raise JourneyParameterError(
            f"{name} must be one of {', '.join(map(repr, options))}; got {value!r}"
        )


def _readable_zone(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with zoned times Narwhals cannot read converted to UTC (the same instants).

    Narwhals reads pandas time zones by name and misses names with an underscore or a
    digit (America/New_York, Etc/GMT+5), calling the column's type unknown.
    """
    dtype = frame.dtypes.get("timestamp")
    if not isinstance(dtype, pd.DatetimeTZDtype) or str(dtype.tz) in UTC_NAMES:
        return frame
    if isinstance(nw.from_native(frame).schema["timestamp"], nw.Datetime):
        return frame
    return frame.assign(timestamp=frame["timestamp"].dt.tz_convert("UTC"))


def _narwhals(frame: Any, what: str) -> nw.DataFrame | nw.LazyFrame:
    try:
        return nw.from_native(frame)
    except TypeError:
        raise JourneyParameterError(
            f"{what} must be a DataFrame (pandas, Polars, DuckDB, PySpark, ...); "
            f"got {type(frame).__name__}"
        ) from None
