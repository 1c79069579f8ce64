"""Sessions, touchpoint transitions and the most frequent journey paths.

:func:`sessionize` splits each customer's log into sessions at gaps longer than a threshold
(Google Analytics' 30-minute rule by default). :func:`transition_matrix` counts which
touchpoint follows which, from a start state to an end state, and :func:`paths` ranks the most
frequent opening sequences of journeys. All three are written once with Narwhals and accept
pandas, Polars, DuckDB or PySpark frames, returning the kind they were given (lazy stays lazy);
:func:`as_matrix` pivots a transition table into a pandas matrix for display.

Sequences (for :func:`transition_matrix` and :func:`paths`) are each customer's events (or each
session's, with ``within="session"``) ordered by ``timestamp``; events at the same instant are
ordered by their text value of the ``of`` column, ascending, so that every engine builds the
same sequence from the same log, whatever the input's row order.

**Segment breakdowns** (``by=``): :func:`transition_matrix` and :func:`paths` split the
customers by a column of the log or of a customer table, with the one rule of
:mod:`journey_lib.analytics.segments` for values that change over time, ``(missing)`` for a
customer without a value and ``(other)`` beyond the largest segments. The result then has the
segment columns first and one block per segment, each exactly what the function gives on the
log restricted to that segment's customers: its counts, its probabilities or shares over its
own sequences, its own top paths. Segments come from the whole log given, before rows without
an ``of`` value are left out, so a customer is in the same segment in every analytic.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import narwhals.stable.v2 as nw
import pandas as pd
from narwhals.typing import IntoFrameT

from .._engine import DIGIT, finish, lazy_events, small_range, to_pandas, with_microseconds
from .._time import duration_us
from ..errors import JourneyDataError, JourneyParameterError, check_choice, check_count
from .segments import Segments, segment_table, segments_of

__all__ = ["END", "START", "as_matrix", "paths", "sessionize", "transition_matrix"]

#: The state before a sequence's first touchpoint in :func:`transition_matrix`.
START = "(start)"
#: The state after a sequence's last touchpoint in :func:`transition_matrix`.
END = "(end)"

#: Columns of :func:`sequence_rows`: time in integer microseconds, and the ``of`` value as text.
SEQ_TIME = "_jl_t"
SEQ_STATE = "_jl_state"
_WITHIN = ("customer", "session")


def sessionize(events: IntoFrameT, gap: Any = "30min") -> IntoFrameT:
    """Add a ``session`` column numbering each customer's sessions 1, 2, 3, ... in time order.

    A customer's first event opens session 1. Every later event belongs to the session of the
    event before it unless the time since that event is **strictly greater** than ``gap``, in
    which case it opens the next session (the Google Analytics rule: with the default 30
    minutes, an event exactly 30 minutes after the previous one continues the session).
    Events at the same instant always share a session. A session is identified by the pair
    (``customer_id``, ``session``).

    Parameters
    ----------
    events : DataFrame
        A touchpoint log (``customer_id``, ``timestamp``, ``event``) of any engine: pandas,
        Polars, DuckDB, PySpark. Row order does not matter.
    gap : str or timedelta, default "30min"
        The longest pause inside a session: a positive duration such as ``"30min"``,
        ``"1h"`` or a ``datetime.timedelta``.

    Returns
    -------
    DataFrame
        ``events`` with an int64 column ``session`` (replacing any existing one), of the
        same kind as the input. pandas and eager Polars rows keep their order; lazy engines
        make no promise about row order.

    Raises
    ------
    JourneyParameterError
        When ``gap`` is not a positive duration.
    JourneyDataError
        When a required column is missing or ``timestamp`` is not a datetime.

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({
    ...     "customer_id": [1, 1, 1, 1, 2],
    ...     "timestamp": pd.to_datetime(["2024-01-01 10:00", "2024-01-01 10:30",
    ...                                  "2024-01-01 11:01", "2024-01-01 11:01",
    ...                                  "2024-01-01 10:00"], utc=True),
    ...     "event": ["ad_view", "site_visit", "site_visit", "purchase", "ad_view"]})
    >>> sessionize(log)["session"].tolist()
    [1, 1, 2, 2, 1]
    """
    if gap is None:
        raise JourneyParameterError("gap must be a positive duration such as '30min', not None")
    gap_us = duration_us(gap, "gap")
    frame, eager = lazy_events(events)
    t = nw.col(SEQ_TIME)
    opens, run = "_jl_opens", "_jl_run"
    result = (
        with_microseconds(frame, SEQ_TIME)
        .with_columns(
            # Among rows at one instant only the first (in whatever order the engine breaks
            # the tie) sees the real pause; the others see 0, so an instant opens at most once.
            ((t - t.shift(1).over("customer_id", order_by=SEQ_TIME)).fill_null(gap_us + 1) > gap_us)
            .cast(nw.Int64)
            .alias(opens)
        )
        .with_columns(nw.col(opens).cum_sum().over("customer_id", order_by=SEQ_TIME).alias(run))
        # The running count at the last row of an instant is complete whichever row the
        # engine put first; every row of the instant takes it.
        .with_columns(
            nw.col(run).max().over("customer_id", SEQ_TIME).cast(nw.Int64).alias("session")
        )
        .drop(SEQ_TIME, opens, run)
    )
    return finish(result, eager)


def transition_matrix(
    events: IntoFrameT,
    *,
    normalize: bool = True,
    of: str = "event",
    within: Literal["customer", "session"] = "customer",
    by: str | Sequence[str] | Segments | None = None,
    by_rule: str = "first",
    top: int | None = 10,
) -> IntoFrameT:
    """First-order transitions between consecutive touchpoints, as a long table.

    Each sequence (a customer's events, or a session's with ``within="session"``) ordered by
    time, ties broken by the ``of`` value ascending, is read as the chain ``(start) -> x1 ->
    x2 -> ... -> xn -> (end)``: a sequence of n touchpoints gives n + 1 transitions, counted
    once each. Repeats are kept (``site_visit -> site_visit`` is a transition). Rows whose
    ``of`` value is missing are left out before sequences are built, so a sequence runs from
    the event before such a row to the one after it.

    Parameters
    ----------
    events : DataFrame
        A touchpoint log of any engine; the result is the same kind (lazy stays lazy).
    normalize : bool, default True
        ``True``: a ``probability`` column, each count divided by the number of transitions
        out of its ``from`` state (every ``from`` state's probabilities sum to 1: the
        maximum-likelihood first-order Markov chain). ``False``: a ``count`` column.
    of : str, default "event"
        The column whose values are the states: ``"event"``, ``"channel"``, ``"stage"``
        (after :func:`journey_lib.assign_stages`) or any other column. Values are compared
        as text; ``(start)`` and ``(end)`` are reserved for the start and end states.
    within : {"customer", "session"}, default "customer"
        Whether a sequence is a customer's whole history or one session (a ``session``
        column is then required: see :func:`sessionize`). Session starts and ends then
        become ``(start)`` and ``(end)`` transitions.
    by : str, sequence of str or Segments, optional
        A segment breakdown (see the module docstring): one block of transitions per
        segment, its probabilities normalised within the segment. None for none.
    by_rule : {"first", "last", "at_cutoff"}, default "first"
        Which value of a ``by`` column that changes over a customer's life counts.
    top : int or None, default 10
        Segments kept by name; the customers of the others are in ``(other)``.

    Returns
    -------
    DataFrame
        Columns ``from``, ``to`` (text) and ``count`` (int64) or ``probability`` (float),
        one row per observed transition, sorted by ``from`` then ``to``. Empty for an empty
        log. :func:`as_matrix` pivots it into a square pandas table. With ``by``, the
        segment columns (text) come first and the rows are sorted by them, then as above;
        a segment whose customers have no touchpoint with an ``of`` value has no rows.

    Raises
    ------
    JourneyParameterError
        For an unknown ``within`` or ``normalize`` value, or ``of`` naming the customer or
        time column.
    JourneyDataError
        When the ``of`` column (or ``session`` for ``within="session"``) is missing, or a
        ``by`` column is missing or (eager input) holds no value.

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({
    ...     "customer_id": [1, 1, 1, 2, 2],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03",
    ...                                  "2024-01-01", "2024-01-05"], utc=True),
    ...     "event": ["ad_view", "site_visit", "purchase", "ad_view", "purchase"]})
    >>> transition_matrix(log, normalize=False)
             from          to  count
    0     (start)     ad_view      2
    1     ad_view    purchase      1
    2     ad_view  site_visit      1
    3    purchase       (end)      2
    4  site_visit    purchase      1
    >>> transition_matrix(log).query("`from` == 'ad_view'")["probability"].tolist()
    [0.5, 0.5]

    By segment: customer 1 came on the web, customer 2 through the app.

    >>> log["platform"] = ["web", "web", "web", "app", "app"]
    >>> transition_matrix(log, by="platform")
      platform        from          to  probability
    0      app     (start)     ad_view          1.0
    1      app     ad_view    purchase          1.0
    2      app    purchase       (end)          1.0
    3      web     (start)     ad_view          1.0
    4      web     ad_view  site_visit          1.0
    5      web    purchase       (end)          1.0
    6      web  site_visit    purchase          1.0
    """
    check_choice("normalize", normalize, (True, False))
    spec = segments_of(by, by_rule, top)
    reserved = ("from", "to", "count", "probability")
    frame, eager, keys, segments = segmented_rows(events, of, within, spec, reserved=reserved)
    order = [SEQ_TIME, SEQ_STATE]
    state = nw.col(SEQ_STATE)
    previous = nw.col("_jl_previous")
    moves = (
        frame.with_columns(state.shift(1).over(*keys, order_by=order).alias("_jl_previous"))
        .select(
            *segments,
            previous.fill_null(START).alias("from"),
            state.alias("to"),
            # A sequence's opening move, told apart from a touchpoint valued "(start)".
            previous.is_null().alias("_jl_opens"),
        )
        .group_by(*segments, "from", "to", "_jl_opens")
        .agg(nw.len().alias("count"))
        .with_columns(nw.col("count").cast(nw.Int64))  # signed: departures are negated
    )
    # Transitions into the end, without a second pass over the log: every touchpoint of a
    # state is entered once and left once, to the next touchpoint or to the end, so the
    # ends of a state are its entries less its departures to touchpoints. Each counted
    # move is read three times (side 0: itself; 1: an entry of its `to`; 2: a departure
    # of its `from`), so the log's moves are computed once on engines that inline a frame
    # at each use (DuckDB).
    side = nw.col(DIGIT)
    end = nw.lit(END, dtype=nw.String())
    counts = (
        moves.join(small_range(frame, 3), how="cross")
        .filter((side < 2) | ~nw.col("_jl_opens"))
        .select(
            *segments,
            nw.when(side == 1).then(nw.col("to")).otherwise(nw.col("from")).alias("from"),
            nw.when(side == 0).then(nw.col("to")).otherwise(end).alias("to"),
            nw.when(side == 2).then(-nw.col("count")).otherwise(nw.col("count")).alias("count"),
        )
        .group_by(*segments, "from", "to")
        .agg(nw.col("count").sum())
        .filter(nw.col("count") > 0)  # states never last have no move to the end
        .with_columns(nw.col("count").cast(nw.Int64))
    )
    if normalize:
        leaving = nw.col("count").sum().over(*segments, "from")
        counts = counts.select(
            *segments, "from", "to", (nw.col("count") / leaving).alias("probability")
        )
    return finish(counts.sort(*segments, "from", "to"), eager)


def as_matrix(transitions: Any) -> pd.DataFrame | dict[Any, pd.DataFrame]:
    """Pivot a :func:`transition_matrix` table into a pandas matrix (rows ``from``, columns
    ``to``), filling unobserved transitions with 0.

    Rows are ``(start)`` then the other states alphabetically; columns are the states
    alphabetically then ``(end)``. A lazy table is computed here (it is small: one row per
    observed transition).

    A table broken down by segment (``transition_matrix(..., by=...)``: any columns besides
    ``from``, ``to`` and the value are its segment columns) gives one matrix per segment, as
    a dict from the segment's value (a tuple of values for a crossing of columns) to the
    matrix of that segment's rows alone (its own states), in the segments' sorted order.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"from": ["(start)", "a", "a"], "to": ["a", "a", "(end)"],
    ...                       "count": [1, 1, 1]})
    >>> as_matrix(table)  # doctest: +NORMALIZE_WHITESPACE
    to       a  (end)
    from
    (start)  1      0
    a        1      1
    >>> by_plan = pd.concat([table.assign(plan="basic"), table.iloc[:2].assign(plan="plus")])
    >>> list(as_matrix(by_plan))
    ['basic', 'plus']
    >>> as_matrix(by_plan)["plus"]  # doctest: +NORMALIZE_WHITESPACE
    to       a
    from
    (start)  1
    a        1
    """
    table = to_pandas(transitions, what="transitions")
    values = [c for c in ("count", "probability") if c in table.columns]
    if not {"from", "to"} <= set(table.columns) or len(values) != 1:
        raise JourneyDataError(
            "as_matrix needs a transition_matrix result (from, to, and count or probability); "
            f"got columns {list(table.columns)}"
        )
    segments = [c for c in table.columns if c not in ("from", "to", values[0])]
    if table.duplicated([*segments, "from", "to"]).any():
        where = f" of one segment ({', '.join(segments)})" if segments else ""
        raise JourneyDataError(f"as_matrix: some (from, to) pairs{where} appear more than once")
    if not segments:
        return _pivot(table, values[0])
    key = segments[0] if len(segments) == 1 else segments
    return {
        value: _pivot(block, values[0])
        for value, block in table.groupby(key, sort=True, dropna=False)
    }


def _pivot(table: pd.DataFrame, value: str) -> pd.DataFrame:
    """One transition table (no segments) as a matrix: see :func:`as_matrix`."""
    origins, targets = set(table["from"]), set(table["to"])
    rows = [START] * (START in origins) + sorted(origins - {START})
    columns = sorted(targets - {END}) + [END] * (END in targets)
    matrix = table.pivot(index="from", columns="to", values=value)
    return matrix.reindex(index=rows, columns=columns).fillna(0).astype(table[value].dtype)


def paths(
    events: IntoFrameT,
    *,
    max_steps: int = 5,
    top: int | None = 20,
    collapse_repeats: bool = False,
    of: str = "event",
    within: Literal["customer", "session"] = "customer",
    separator: str = " > ",
    by: str | Sequence[str] | Segments | None = None,
    by_rule: str = "first",
    top_segments: int | None = 10,
) -> IntoFrameT:
    """The most frequent journey openings: the first ``max_steps`` touchpoints of each
    customer (or session), counted and ranked.

    Each sequence is ordered by time, ties broken by the ``of`` value ascending. With
    ``collapse_repeats=True`` an event with the same ``of`` value as the one just before it
    in the sequence is dropped first (``site_visit, site_visit, purchase`` reads
    ``site_visit > purchase``), like Amplitude Journeys' "collapse repeated events". The path
    is the first ``max_steps`` remaining values joined by ``separator``; a sequence shorter
    than that gives a shorter path, so with ``max_steps=3`` the path ``a > b`` means the
    sequence had exactly two steps while ``a > b > c`` may have continued. Rows whose ``of``
    value is missing are left out.

    Parameters
    ----------
    events : DataFrame
        A touchpoint log of any engine; the result is the same kind (lazy stays lazy).
    max_steps : int, default 5
        How many leading touchpoints make a path (at least 1).
    top : int or None, default 20
        How many paths to return (in each segment, with ``by``); ``None`` returns all.
    collapse_repeats : bool, default False
        Whether consecutive repeats of one value count once.
    of : str, default "event"
        The column whose values are the steps (``"event"``, ``"channel"``, ``"stage"``, ...),
        compared as text.
    within : {"customer", "session"}, default "customer"
        Whether a sequence is a customer's whole history (the customer journey, over weeks)
        or one session, as Amplitude's Pathfinder counts paths (needs a ``session`` column:
        see :func:`sessionize`).
    separator : str, default " > "
        Placed between steps in the path text.
    by : str, sequence of str or Segments, optional
        A segment breakdown (see the module docstring): the top paths of each segment, with
        their shares of that segment's sequences. None for none.
    by_rule : {"first", "last", "at_cutoff"}, default "first"
        Which value of a ``by`` column that changes over a customer's life counts.
    top_segments : int or None, default 10
        Segments kept by name; the customers of the others are in ``(other)`` (the other
        analytics call this ``top``, which here counts paths).

    Returns
    -------
    DataFrame
        ``path`` (text), ``count`` (int64: sequences with that path) and ``share`` (count
        divided by all sequences with at least one step, so the shares of all paths sum to
        1), ranked by count descending then path ascending. Empty for an empty log. With
        ``by``, the segment columns (text) come first, the rows are sorted by them and
        then ranked as above within each segment, and a share is of the segment's
        sequences; a segment whose customers have no step has no rows.

    Raises
    ------
    JourneyParameterError
        For ``max_steps`` or ``top`` below 1 or not whole numbers, an unknown ``within``,
        or ``of`` naming the customer or time column.
    JourneyDataError
        When the ``of`` column (or ``session`` for ``within="session"``) is missing, or a
        ``by`` column is missing or (eager input) holds no value.

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({
    ...     "customer_id": [1, 1, 1, 2, 2, 3],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03",
    ...                                  "2024-01-01", "2024-01-05", "2024-01-01"], utc=True),
    ...     "event": ["ad_view", "site_visit", "purchase", "ad_view", "site_visit",
    ...               "ad_view"]})
    >>> paths(log, max_steps=2)
                       path  count     share
    0  ad_view > site_visit      2  0.666667
    1               ad_view      1  0.333333

    Paths of channels by segment: the customer table says who is a new customer.

    >>> log["channel"] = ["tv", "web", "web", "tv", "store", "web"]
    >>> table = pd.DataFrame({"customer_id": [1, 2, 3], "plan": ["new", "new", "loyal"]})
    >>> paths(log, of="channel", max_steps=2, by=Segments("plan", customers=table))
        plan        path  count  share
    0  loyal         web      1    1.0
    1    new  tv > store      1    0.5
    2    new    tv > web      1    0.5
    """
    check_count("max_steps", max_steps)
    if top is not None:
        check_count("top", top)
    check_choice("collapse_repeats", collapse_repeats, (True, False))
    if not isinstance(separator, str):
        raise JourneyParameterError(f"separator must be text, got {separator!r}")
    spec = segments_of(by, by_rule, top_segments)
    reserved = ("path", "count", "share")
    frame, eager, keys, segments = segmented_rows(events, of, within, spec, reserved=reserved)
    order = [SEQ_TIME, SEQ_STATE]
    state = nw.col(SEQ_STATE)
    if collapse_repeats:
        previous = nw.col("_jl_previous")
        frame = (
            frame.with_columns(state.shift(1).over(*keys, order_by=order).alias("_jl_previous"))
            .filter(previous.is_null() | (previous != state))
            .drop("_jl_previous")
        )
    # A running sum of ones numbers the steps; cum_count over an order_by column is avoided
    # because narwhals' pandas backend then sorts by the counted column's null mask.
    step = nw.col("_jl_one").cum_sum().over(*keys, order_by=order)
    numbered = (
        frame.with_columns(nw.lit(1, dtype=nw.Int64()).alias("_jl_one"))
        .with_columns(step.alias("_jl_step"))
        .filter(nw.col("_jl_step") <= int(max_steps))
    )
    names = [f"_jl_step_{k}" for k in range(1, max_steps + 1)]
    spread = numbered.with_columns(
        nw.when(nw.col("_jl_step") == k).then(state).alias(name)
        for k, name in enumerate(names, start=1)
    )
    # A customer's segment is one value, so grouping sequences by it as well changes nothing
    # but carries it along.
    counted = (
        spread.group_by(*keys, *segments)
        .agg(nw.col(name).max() for name in names)
        .select(
            *segments,
            nw.concat_str(names, separator=separator, ignore_nulls=True).alias("path"),
        )
        .group_by(*segments, "path")
        .agg(nw.len().alias("count"))
    )
    total = nw.col("count").sum()
    ranked = counted.with_columns(
        nw.col("count").cast(nw.Int64),
        (nw.col("count") / (total.over(*segments) if segments else total)).alias("share"),
    )
    if top is not None and segments:
        ranked = _top_within(ranked, segments, int(top))
    ranked = ranked.sort(
        [*segments, "count", "path"], descending=[*[False] * len(segments), True, False]
    )
    if top is not None and not segments:
        ranked = ranked.head(int(top))
    return finish(ranked, eager)


def _top_within(ranked: nw.LazyFrame, segments: list[str], top: int) -> nw.LazyFrame:
    """Each segment's ``top`` paths by count, ties by path ascending: a window rank of one
    int64 per path (its count above 2**31, less its path's rank among all paths, which is
    below that), so the segments are ranked in one pass."""
    scale = 2**31
    key = nw.col("count").cast(nw.Int64) * scale - nw.col("_jl_path_rank").cast(nw.Int64)
    return (
        ranked.with_columns(nw.col("path").rank("dense").alias("_jl_path_rank"))
        .with_columns(key.rank("min", descending=True).over(*segments).alias("_jl_rank"))
        .filter(nw.col("_jl_rank") <= top)
        .drop("_jl_path_rank", "_jl_rank")
    )


def sequence_rows(
    events: Any, of: str, within: str, keep: Sequence[str] = ()
) -> tuple[nw.LazyFrame, bool, list[str]]:
    """The log reduced to its sequences' rows: the sequence keys (``customer_id``, and
    ``session`` within sessions), time as integer microseconds (:data:`SEQ_TIME`), the ``of`` value
    as text (:data:`SEQ_STATE`) and the columns named in ``keep``, with rows whose ``of`` value is
    missing left out. Also whether the input was eager, and the keys. For functions that
    read sequences the way :func:`transition_matrix` and :func:`paths` do."""
    check_choice("within", within, _WITHIN)
    if of in ("customer_id", "timestamp") or not isinstance(of, str):
        raise JourneyParameterError(
            f"of must name a touchpoint column such as 'event', 'channel' or 'stage'; got {of!r}"
        )
    keys = ["customer_id"] if within == "customer" else ["customer_id", "session"]
    frame, eager = lazy_events(events)
    columns = frame.collect_schema()
    absent = [c for c in keep if c not in columns]
    if absent:
        raise JourneyDataError(f"events have no column {absent[0]!r}; they have {list(columns)}")
    if of not in columns:
        hint = " (add it with journey_lib.assign_stages)" if of == "stage" else ""
        raise JourneyDataError(f"events have no column {of!r}{hint}; they have {list(columns)}")
    if within == "session" and "session" not in columns:
        raise JourneyDataError(
            "within='session' needs a 'session' column; add one with journey_lib.sessionize"
        )
    reduced = with_microseconds(frame.filter(~nw.col(of).is_null()), SEQ_TIME).select(
        *keys,
        SEQ_TIME,
        nw.col(of).cast(nw.String()).alias(SEQ_STATE),
        *(c for c in keep if c not in (*keys, SEQ_TIME, SEQ_STATE)),
    )
    return reduced, eager, keys


def segmented_rows(
    events: Any,
    of: str,
    within: str,
    spec: Segments | None,
    *,
    reserved: Sequence[str],
    keep: Sequence[str] = (),
) -> tuple[nw.LazyFrame, bool, list[str], list[str]]:
    """:func:`sequence_rows` with each row's segment columns (``spec``; none when it is
    None), and those columns. The segments are read from the whole log, before rows without
    an ``of`` value are left out; a segment column may not be named like ``reserved`` (the
    caller's result columns), ``keep`` or the sequence keys."""
    log, eager = lazy_events(events)
    frame, _, keys = sequence_rows(log, of, within, keep)
    if spec is None:
        return frame, eager, keys, []
    taken = [*reserved, *keep, *keys]
    table = segment_table(log, spec, reserved=taken, check=eager)
    return frame.join(table, on="customer_id", how="left"), eager, keys, spec.columns
