"""Conversion paths built from a touchpoint log, once, with Narwhals (any engine).

The definitions live in :mod:`journey_lib.attribution`; this module turns them into
window functions. :func:`journey_rows` keeps, per customer, the touches that belong to a
path and one row per conversion instant, each row labelled with its path so that the
credit models (:mod:`.heuristic`, :mod:`.markov`) only need windows over a path.
"""

from __future__ import annotations

import narwhals.stable.v2 as nw
from narwhals.typing import IntoFrame

from .._engine import lazy_events, money, with_microseconds
from ..errors import JourneyDataError, JourneyParameterError

#: The label credited with conversions that have no touchpoint in their path.
NONE = "(none)"
#: Padding before a path's first touchpoint in a Markov state tuple.
START = "(start)"
#: The Markov chain's absorbing states.
CONVERSION = "(conversion)"
NULL = "(null)"
#: Labels of the results and the chain: a ``by`` value spelled like one would merge with it.
RESERVED = (NONE, START, CONVERSION, NULL)

# Internal columns. GOAL names what a conversion is into (a stage) when several are
# attributed in one pass; plain attribution has no goal column.
GOAL = "_jl_goal"
T = "_jl_t"  # time in microseconds since the epoch
STATE = "_jl_state"  # the touchpoint's `by` value as text
IS_CONVERSION = "_jl_is_conversion"
VALUE = "_jl_value"
KIND = "_jl_kind"  # 0: a touch, 1: a conversion instant
PATH = "_jl_path"  # conversion instants of the customer strictly before the row
CONVERTING = "_jl_converting"  # 1 when the row's path ends in a conversion instant
N = "_jl_n"  # conversions at the path's instant (0 on a non-converting path)
V = "_jl_v"  # their total value
TOUCHES = "_jl_touches"  # touches in the path


def open_log(events: IntoFrame, by: str) -> nw.LazyFrame:
    """The log as a Narwhals LazyFrame, checked to have the columns attribution reads."""
    if not isinstance(by, str) or by in ("customer_id", "timestamp"):
        raise JourneyParameterError(
            f"by must name a touchpoint column such as 'channel' or 'event'; got {by!r}"
        )
    frame, _ = lazy_events(events)
    columns = frame.collect_schema()
    if by not in columns:
        raise JourneyDataError(
            f"events have no column {by!r} to credit; they have {list(columns)}. Pass "
            f"by='event' to credit touchpoint types, or add the column"
        )
    clashes = (
        frame.select(nw.col(by).cast(nw.String()).alias("label"))
        .filter(nw.col("label").is_in(RESERVED))
        .group_by("label")
        .agg(nw.len().alias("rows"))
        .sort("label")
        .collect()
    )
    if len(clashes):
        found = ", ".join(f"{label!r} ({rows} rows)" for label, rows in clashes.iter_rows())
        raise JourneyDataError(
            f"column {by!r} holds {found}, spelled like attribution's own labels "
            f"{list(RESERVED)}; rename those values before attributing"
        )
    return frame


def base_rows(frame: nw.LazyFrame, is_conversion: nw.Expr, by: str) -> nw.LazyFrame:
    """``frame`` reduced to the customer, time (µs), ``by`` value as text, whether the row
    is a conversion and its value (0 when the column or the value is missing)."""
    columns = frame.collect_schema()
    value = money(columns)
    extra = [GOAL] if GOAL in columns else []
    return with_microseconds(frame, T).select(
        *extra,
        "customer_id",
        T,
        nw.col(by).cast(nw.String()).alias(STATE),
        is_conversion.fill_null(value=False).alias(IS_CONVERSION),
        value.alias(VALUE),
    )


def journey_rows(
    base: nw.LazyFrame,
    group: list[str],
    lookback_us: int | None,
    *,
    once: bool = False,
) -> nw.LazyFrame:
    """Every touch that lies on a path, and one row per conversion instant.

    Columns: ``group``, ``customer_id``, T, STATE (null on instants), KIND, PATH,
    CONVERTING, N and V (the path's conversions and value, on all its rows) and TOUCHES.
    A path is identified by (``group``, ``customer_id``, PATH). With ``once`` (conversions
    into a stage, which happen once per customer) a customer who converted has no
    non-converting path.
    """
    keys = [*group, "customer_id"]
    touches = base.filter(~nw.col(IS_CONVERSION) & ~nw.col(STATE).is_null()).select(
        *keys,
        T,
        STATE,
        nw.lit(0, dtype=nw.Int64()).alias(KIND),
        nw.lit(0, dtype=nw.Int64()).alias(N),
        nw.lit(0.0, dtype=nw.Float64()).alias(V),
    )
    instants = (
        base.filter(nw.col(IS_CONVERSION))
        .group_by(*keys, T)
        .agg(nw.len().alias(N), nw.col(VALUE).sum().alias(V))
        .select(
            *keys,
            T,
            nw.lit(None, dtype=nw.String()).alias(STATE),
            nw.lit(1, dtype=nw.Int64()).alias(KIND),
            nw.lit(1, dtype=nw.Int64()).alias(N) if once else nw.col(N).cast(nw.Int64()),
            nw.col(V).cast(nw.Float64()),
        )
    )
    kind = nw.col(KIND)
    path = [*keys, PATH]
    # Touches sort before an instant at the same time, so the running count of instants
    # at a touch counts the instants strictly before it: the touch joins the path of the
    # first conversion at or after it. At an instant the count includes itself.
    rows = (
        nw.concat([touches, instants], how="vertical")
        .with_columns((kind.cum_sum().over(*keys, order_by=[T, KIND]) - kind).alias(PATH))
        .with_columns(
            # A converting path ends at its instant (every touch is at or before it), a
            # non-converting one at its last touch: either way at the path's latest time.
            nw.col(T).max().over(*path).alias("_jl_end"),
            kind.max().over(*path).alias(CONVERTING),
            nw.col(N).sum().over(*path).alias(N),
            nw.col(V).sum().over(*path).alias(V),
        )
    )
    if lookback_us is not None:
        rows = rows.filter((kind == 1) | (nw.col("_jl_end") - nw.col(T) <= lookback_us))
    if once:
        rows = rows.filter((nw.col(CONVERTING) == 1) | (kind.sum().over(*keys) == 0))
    return rows.drop("_jl_end").with_columns((1 - kind).sum().over(*path).alias(TOUCHES))
