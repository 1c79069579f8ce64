"""Journey maps as data: how customers flow from touchpoint to touchpoint, step by step.

:func:`path_flows` follows every customer (or session) from a start event forwards, or to an
end event backwards, and counts who goes where at each step: the table a Sankey diagram of
the journey is drawn from (:func:`journey_lib.plots.path_flows`). :func:`funnel_dropoff_paths`
follows the customers who reached a funnel step and did not reach the next one (and, beside
them, those who did), and :func:`compare_flows` sets two flows side by side with an interval
on each link's difference. :func:`flow_nodes` sums a flow's links into its nodes.

Definitions
-----------
A **sequence** is a customer's touchpoints (or one session's, ``within="session"``) ordered by
time, ties broken by the ``of`` value ascending, rows with a missing ``of`` value left out,
exactly as :func:`journey_lib.paths` reads them. With ``collapse_repeats=True`` a touchpoint
with the same ``of`` value as the one just before it is dropped first.

A flow has ``steps`` **columns** of nodes, numbered 1 to ``steps`` from left to right:

- *forwards* (``start`` given, or neither ``start`` nor ``end``): column 1 is the
  sequence's first occurrence of ``start`` (its first touchpoint when no start is given),
  columns 2, 3, ... the touchpoints after it. A sequence with fewer touchpoints left than
  columns ends in an ``(end)`` node, the column after its last touchpoint.
- *backwards* (``end`` given alone): the last column is the sequence's first occurrence of
  ``end``, the columns before it the touchpoints that led there. A sequence with fewer
  touchpoints before it than columns begins with a ``(start)`` node.
- *between* (``start`` and ``end``): forwards from the first ``start``, up to and including
  the first ``end`` after it; sequences that never reach ``end`` after ``start`` are left out,
  and a flow that reaches ``end`` stops there (no ``(end)`` node).

Sequences without the anchor are left out. The **long tail**: in each column, the ``top``
most frequent values (ties by name) whose node holds at least ``min_share`` of the flow's
sequences keep their name; the others are folded into one ``(other)`` node. ``(start)``,
``(end)`` and ``(other)`` are reserved node names.

Every sequence sits on exactly one node per column it reaches, so a **link** (a node in
column *c* to a node in column *c + 1*) is taken by a sequence at most once, and a link's
``share`` is a proportion of the flow's sequences. A node's count is the sum of the links
leaving it (column 1, and ``(start)`` anywhere) or entering it (the others):
:func:`flow_nodes`. The log's own values may not be named ``(start)``, ``(end)`` or
``(other)`` (an eager log saying so raises an error).

Rows at one instant with the same ``of`` value are interchangeable in a sequence; a ``split``
column whose value differs between such rows may give the anchor either value, depending on
the engine.

**Segment breakdowns**: :func:`path_flows` takes ``by=`` (a column of the log or of a customer
table; :mod:`journey_lib.analytics.segments` says which value counts): one flow per segment,
each exactly the flow of the log restricted to that segment's customers (its own tail folding,
shares of its own sequences), the segment columns first. ``split=`` still groups sequences by a
value at the anchor, inside each segment.

All functions but :func:`compare_flows` are written once with Narwhals and accept pandas,
Polars, DuckDB or PySpark frames, returning the kind they were given (lazy stays lazy). The
work is a fixed number of window and group-by passes over the log: linear in its rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd
from narwhals.typing import IntoFrameT

from .._engine import finish, lazy_events, to_pandas, unpivot
from .._intervals import rate_difference
from ..errors import JourneyDataError, JourneyParameterError, check_choice, check_count
from ..io.profile import LogProfile, from_profile
from .funnels import Step, counted_steps
from .paths import END, SEQ_STATE, SEQ_TIME, START, segmented_rows, sequence_rows
from .segments import Segments, segments_of

__all__ = ["OTHER", "compare_flows", "flow_nodes", "funnel_dropoff_paths", "path_flows"]

#: The node that folds a column's long tail together.
OTHER = "(other)"
_RESERVED = (START, END, OTHER)
#: The columns of a flow table besides its optional grouping column.
FLOW_COLUMNS = ("step", "source", "target", "count", "share")
#: :func:`funnel_dropoff_paths`' groups.
DROPPED, WENT_ON = "dropped off", "went on"

_POS, _ANCHOR, _STOP, _CONV = "_jl_pos", "_jl_anchor", "_jl_stop", "_jl_conv"
_GROUP, _FLAG, _N, _STEP = "_jl_group", "_jl_flag", "_jl_n", "_jl_step"
#: Above the number of names in a column: a node's count (below 2**32) times this, less its
#: name's rank, orders the nodes of a column by count and then name in one int64.
_SCALE = 2**31


def path_flows(
    events: IntoFrameT,
    *,
    start: str | None = None,
    end: str | None = None,
    steps: int = 5,
    of: str = "event",
    within: Literal["customer", "session"] = "customer",
    top: int | None = 10,
    min_share: float = 0.0,
    collapse_repeats: bool = False,
    split: str | None = None,
    conversion: str | None = None,
    profile: LogProfile | None = None,
    by: str | Sequence[str] | Segments | None = None,
    by_rule: str = "first",
    top_segments: int | None = 10,
) -> IntoFrameT:
    """How sequences flow from a start event forwards, or to an end event backwards: the
    links between consecutive columns of a journey map, counted.

    The definitions (sequences, columns, anchors, ``(start)``, ``(end)``, ``(other)``) are
    in the module docstring of :mod:`journey_lib.analytics.flows`.

    Parameters
    ----------
    events : DataFrame
        A touchpoint log of any engine; the result is the same kind (lazy stays lazy).
    start, end : str, optional
        The ``of`` value the flow starts from (forwards) or leads to (backwards); both for
        the flows between them; neither for the flows from each sequence's first touchpoint.
    steps : int, default 5
        Columns of nodes, the anchor's included (at least 2).
    of : str, default "event"
        The column whose values are the nodes (``"event"``, ``"channel"``, ``"stage"``...).
    within : {"customer", "session"}, default "customer"
        Whether a sequence is a customer's history or one session (needs ``session``:
        :func:`journey_lib.sessionize`).
    top : int or None, default 10
        Values kept by name in each column; the rest are ``(other)``. None keeps all.
    min_share : float, default 0.0
        Nodes holding less than this share of the flow's sequences are ``(other)``.
    collapse_repeats : bool, default False
        Whether consecutive touchpoints with the same value count once.
    split : str, optional
        One flow per group of sequences: ``"converted"`` (the sequence has the
        conversion event on the anchor's side of the flow: at or after the anchor
        forwards and between, at or before it backwards, anywhere without an anchor) or a
        column of the log (its value, as text, at the anchor's row; ``(missing)`` when it
        has none). The tail is folded over all groups together, so every group has the
        same nodes.
    conversion : str, optional
        The conversion event for ``split="converted"``; default the profile's.
    profile : LogProfile, optional
        A log profile (:func:`journey_lib.profile`), for the conversion event.
    by : str, sequence of str or Segments, optional
        A segment breakdown of the customers (see the module docstring): one flow per
        segment. None for none.
    by_rule : {"first", "last", "at_cutoff"}, default "first"
        Which value of a ``by`` column that changes over a customer's life counts.
    top_segments : int or None, default 10
        Segments kept by name; the customers of the others are in ``(other)`` (the other
        analytics call this ``top``, which here counts a column's nodes).

    Returns
    -------
    DataFrame
        The segment columns first with ``by`` (text), then the grouping column when
        ``split`` is given (``converted``: bool; a column: text), then ``step`` (int64: the
        column of the link's source node; its target is in column ``step + 1``),
        ``source`` and ``target`` (text), ``count`` (int64: sequences taking the link) and
        ``share`` (``count`` over the group's sequences, within the segment).
        Sorted by segment, group, ``step``, ``count`` descending, ``source``, ``target``.
        Empty when no sequence has the anchor (an eager frame raises instead: see Raises);
        a segment none of whose sequences has it has no rows.

    Raises
    ------
    JourneyParameterError
        For ``steps`` below 2, ``top`` below 1, ``min_share`` outside [0, 1), an unknown
        ``within``, ``split="converted"`` without a conversion event, or ``of`` naming the
        customer or time column.
    JourneyDataError
        When a named column is missing, or (pandas and eager Polars) when no sequence has
        the ``start`` or ``end`` value, or a ``by`` column holds no value.

    See Also
    --------
    journey_lib.paths : the most frequent whole openings, ranked.
    journey_lib.transition_matrix : next-touchpoint probabilities, any position.

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({
    ...     "customer_id": [1, 1, 1, 2, 2, 3],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03",
    ...                                  "2024-01-01", "2024-01-05", "2024-01-01"], utc=True),
    ...     "event": ["ad_view", "cart", "purchase", "ad_view", "cart", "cart"]})
    >>> path_flows(log, start="cart", steps=3)
       step    source    target  count     share
    0     1      cart     (end)      2  0.666667
    1     1      cart  purchase      1  0.333333
    2     2  purchase     (end)      1  0.333333
    >>> path_flows(log, end="cart", steps=2)[["source", "target", "count"]]
        source target  count
    0  ad_view   cart      2
    1  (start)   cart      1
    """
    check_count("steps", steps, minimum=2)
    _check_tail(top, min_share)
    check_choice("collapse_repeats", collapse_repeats, (True, False))
    for name, value in (("start", start), ("end", end)):
        if value is not None and (not isinstance(value, str) or not value):
            raise JourneyParameterError(
                f"{name} must be a {of} value as text (None for no {name}), got {value!r}"
            )
    converting = split == "converted"
    if converting:
        conversion = from_profile(profile, "conversion", conversion, None)
        if conversion is None:
            raise JourneyParameterError(
                "split='converted' needs the conversion event: pass conversion=... or a "
                "profile that names one"
            )
    keep = [split] if split is not None and not converting else []
    spec = segments_of(by, by_rule, top_segments)
    reserved = [*FLOW_COLUMNS, *([split] if split is not None else [])]
    frame, eager, keys, segments = segmented_rows(
        events, of, within, spec, reserved=reserved, keep=keep
    )
    state = nw.col(SEQ_STATE)
    if split is not None and not converting:
        frame = frame.with_columns(nw.col(split).cast(nw.String()))
    forward = start is not None or end is None
    flag = state == (start if start is not None else end) if (start or end) else None
    pos, anchor = nw.col(_POS), nw.col(_ANCHOR)
    frame = _numbered(_collapse(frame, keys, collapse_repeats), keys)
    # Where the sequence converts is read in the anchor's window pass, before the flow is
    # cut: a conversion after the end event still counts between start and end.
    conv = nw.when(state == conversion).then(pos) if converting else None
    extra = {}
    if conv is not None and flag is not None:
        extra[_CONV] = conv.max() if forward else conv.min()
    frame = _anchored(frame, keys, flag, extra)
    if start is not None and end is not None:
        reached = nw.when((state == end) & (pos > anchor)).then(pos)
        frame = frame.with_columns(reached.min().over(*keys).alias(_STOP))
        frame = frame.filter(~nw.col(_STOP).is_null() & (pos <= nw.col(_STOP)))
    group: tuple[nw.Expr, nw.Expr] | None = None
    if converting:
        if flag is None:  # anywhere in the sequence: every row is read
            hit = state == conversion
        else:
            hit = nw.col(_CONV) >= anchor if forward else nw.col(_CONV) <= anchor
        one = nw.when(hit).then(nw.lit(1)).otherwise(nw.lit(0))
        group = (one, nw.col(_GROUP) == 1)
    elif split is not None:
        at_anchor = nw.when(pos == anchor).then(nw.col(split))
        group = (at_anchor, nw.col(_GROUP).fill_null("(missing)"))
    links = _links(
        frame,
        keys,
        steps=steps,
        forward=forward,
        terminal=not (start is not None and end is not None),
        group=group,
        top=top,
        min_share=min_share,
        whole=converting and flag is None,
        segments=segments,
    )
    result = _finish_links(links, steps=steps, forward=forward, group_name=split, segments=segments)
    out = finish(result, eager)
    if eager:
        _check_reserved(events, of)
        if (start or end) and len(nw.from_native(out)) == 0:
            _anchor_absent(events, of, [v for v in (start, end) if v is not None])
    return out


def funnel_dropoff_paths(
    events: IntoFrameT,
    steps: Sequence[Any] | None = None,
    *,
    at_step: int,
    profile: LogProfile | None = None,
    flow_steps: int = 5,
    of: str = "event",
    top: int | None = 10,
    min_share: float = 0.0,
    collapse_repeats: bool = False,
    window: Any = None,
    order: str = "ordered",
    entry: str = "any",
    exclusions: Sequence[tuple[Any, int, int]] = (),
    date_range: tuple[Any, Any] | None = None,
    range_mode: str = "entry",
) -> IntoFrameT:
    """What customers did after reaching a funnel step: those who dropped off there, and
    those who went on to the next step, as two flows.

    The funnel is :func:`journey_lib.funnel`'s, with the same steps and options. A customer
    reached step *k* (``at_step``) when their counted attempt did; they **went on** when it
    also reached step *k + 1*, else they **dropped off** at *k*. Each customer's flow starts
    at the row of step *k* in their counted attempt (column 1, labelled with that row's
    ``of`` value) and follows their next touchpoints as :func:`path_flows` does forwards:
    the rows after it in sequence order (rows at the same instant that sort after it
    included), ``(end)`` when the log has no more, the long tail folded into ``(other)``
    over both groups together. With ``of`` other than ``"event"``, a customer whose step
    row has no ``of`` value has no anchor and is left out, so the outcomes' totals can fall
    short of :func:`journey_lib.funnel`'s counts.

    Parameters
    ----------
    events : DataFrame
        A touchpoint log of any engine; the result is the same kind (lazy stays lazy).
    steps : sequence, optional
        The funnel's steps; the profile's default funnel when not given.
    at_step : int
        The step *k* whose drop-off is followed, ``1 <= k < len(steps)``.
    profile : LogProfile, optional
        A log profile, for the funnel's steps.
    flow_steps : int, default 5
        Columns of the flow, step *k* included (at least 2).
    of, top, min_share, collapse_repeats
        As in :func:`path_flows`.
    window, order, entry, exclusions, date_range, range_mode
        As in :func:`journey_lib.funnel`.

    Returns
    -------
    DataFrame
        :func:`path_flows`' columns after a first column ``outcome``: ``"dropped off"`` or
        ``"went on"``; ``share`` is over the outcome's customers.

    Raises
    ------
    JourneyParameterError
        For ``at_step`` outside ``1 .. len(steps) - 1`` and the funnel's own checks.

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({
    ...     "customer_id": [1, 1, 1, 2, 2, 2],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03",
    ...                                  "2024-01-01", "2024-01-02", "2024-01-03"], utc=True),
    ...     "event": ["visit", "cart", "purchase", "visit", "cart", "support"]})
    >>> flows = funnel_dropoff_paths(log, ["visit", "cart", "purchase"], at_step=2,
    ...                              flow_steps=2)
    >>> flows[["outcome", "source", "target", "count"]]
           outcome source    target  count
    0  dropped off   cart   support      1
    1      went on   cart  purchase      1
    """
    check_count("flow_steps", flow_steps, minimum=2)
    _check_tail(top, min_share)
    check_choice("collapse_repeats", collapse_repeats, (True, False))
    chosen = from_profile(profile, "funnel", steps, None)
    if chosen is None:
        raise JourneyParameterError(
            "a funnel needs steps: pass steps=[...] or a profile with a default funnel"
        )
    if isinstance(chosen, str) or not isinstance(chosen, Sequence) or not chosen:
        raise JourneyParameterError("steps must be a non-empty list of steps, e.g. ['a', 'b']")
    k = len(chosen)
    if isinstance(at_step, bool) or not isinstance(at_step, int) or not 1 <= at_step < k:
        raise JourneyParameterError(
            f"at_step must be a step with a next one, 1 .. {k - 1}; got {at_step!r}"
        )
    log, eager = lazy_events(events)
    reached, parsed = counted_steps(
        log,
        chosen,
        window=window,
        order=order,
        entry=entry,
        exclusions=exclusions,
        date_range=date_range,
        range_mode=range_mode,
    )
    step: Step = parsed[at_step - 1]
    keep = ["event", *(c for c, _ in step.filters if c != "event")]
    frame, _, keys = sequence_rows(log, of, "customer", keep)
    people = reached.filter(nw.col("level") >= at_step).select(
        "customer_id",
        nw.col(f"t{at_step}").alias("_jl_tk"),
        (nw.col("level") > at_step).alias("_jl_on"),
    )
    frame = frame.join(people, on="customer_id", how="inner")
    # The anchor is flagged before repeats collapse, and survives collapsing.
    frame = frame.with_columns(
        (step.matches() & (nw.col(SEQ_TIME) == nw.col("_jl_tk"))).alias(_FLAG)
    )
    frame = _numbered(_collapse(frame, keys, collapse_repeats, keep=_FLAG), keys)
    frame = _anchored(frame, keys, nw.col(_FLAG))
    outcome = nw.when(nw.col("_jl_on")).then(nw.lit(WENT_ON)).otherwise(nw.lit(DROPPED))
    links = _links(
        frame,
        keys,
        steps=flow_steps,
        forward=True,
        terminal=True,
        group=(outcome, nw.col(_GROUP)),
        top=top,
        min_share=min_share,
    )
    return finish(_finish_links(links, steps=flow_steps, forward=True, group_name="outcome"), eager)


def flow_nodes(flows: IntoFrameT) -> IntoFrameT:
    """The nodes of a flow (:func:`path_flows`, :func:`funnel_dropoff_paths`), with their
    counts: column 1's, and ``(start)`` nodes in any column, are the sums of the links
    leaving them; the others are the sums of the links entering them.

    Returns
    -------
    DataFrame
        The grouping column first when the flow has one, then ``column`` (int64), ``node``
        (text), ``count`` (int64: sequences on the node) and ``share`` (of the group's
        sequences); sorted by group, column, count descending and node. Same kind as the
        input.

    Examples
    --------
    >>> import pandas as pd
    >>> links = pd.DataFrame({"step": [1, 1, 2], "source": ["a", "a", "b"],
    ...                       "target": ["b", "(end)", "(end)"], "count": [2, 1, 2],
    ...                       "share": [2 / 3, 1 / 3, 2 / 3]})
    >>> flow_nodes(links)
       column   node  count     share
    0       1      a      3  1.000000
    1       2      b      2  0.666667
    2       2  (end)      1  0.333333
    3       3  (end)      2  0.666667
    """
    frame, eager = _flow_frame(flows)
    group = [c for c in frame.columns if c not in FLOW_COLUMNS]
    # Column 1's nodes, and a backward flow's (start) nodes in any column, are entered by
    # no link: they are the sums of the links leaving them.
    first = frame.filter((nw.col("step") == 1) | (nw.col("source") == START)).select(
        *group,
        nw.col("step").cast(nw.Int64).alias("column"),
        nw.col("source").alias("node"),
        "count",
        "share",
    )
    later = frame.select(
        *group,
        (nw.col("step") + 1).cast(nw.Int64).alias("column"),
        nw.col("target").alias("node"),
        "count",
        "share",
    )
    nodes = (
        nw.concat([first, later], how="vertical")
        .group_by(*group, "column", "node")
        .agg(nw.col("count").sum(), nw.col("share").sum())
        .with_columns(nw.col("count").cast(nw.Int64))
        .sort(
            [*group, "column", "count", "node"],
            descending=[*(False,) * len(group), False, True, False],
        )
    )
    return finish(nodes, eager)


def compare_flows(
    first: Any,
    second: Any = None,
    *,
    groups: tuple[Any, Any] | None = None,
    labels: tuple[str, str] | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Two flows side by side: each link's share in both, the difference and its interval,
    the links that differ most first.

    Either two flow tables without a grouping column (``first`` and ``second``: say, the same
    :func:`path_flows` on two periods of the log), or one flow with a grouping column
    (``split=`` or :func:`funnel_dropoff_paths`) whose two groups are compared: the two it has,
    in sorted order (False before True), or the two named in ``groups``, in that order. A link's
    share is the proportion of its group's sequences that take it (each sequence takes a link at
    most once), so the difference of two independent groups' shares has Newcombe's hybrid score
    interval (Newcombe 1998, method 10; :mod:`journey_lib._intervals`). A link missing from one
    flow has share 0 there. Each group's sequences are its largest total over one step (the
    total of the links next to the anchor).

    The interval takes the two groups as independent: right for a split flow's groups, which
    share no sequence; for two periods of one log, a customer in both makes it somewhat too
    wide or too narrow. Two flows folded apart may fold different values into ``(other)``:
    compare flows made with ``top=None`` (or one split flow, folded once) to compare like with
    like.

    Returns
    -------
    pandas.DataFrame
        ``group_a``, ``group_b`` (the labels), ``step``, ``source``, ``target``,
        ``count_a``, ``share_a``, ``count_b``, ``share_b``, ``difference`` (``share_b -
        share_a``), ``low``, ``high`` (its interval) and ``beyond_chance`` (the interval
        leaves out 0); sorted by the size of the difference, largest first.

    Raises
    ------
    JourneyDataError
        When a table is not a flow, or a single flow does not have exactly two groups
        (and ``groups`` does not name two of them).

    Examples
    --------
    >>> import pandas as pd
    >>> a = pd.DataFrame({"step": [1, 1], "source": ["cart", "cart"],
    ...                   "target": ["purchase", "(end)"], "count": [60, 40],
    ...                   "share": [0.6, 0.4]})
    >>> b = a.assign(count=[40, 60], share=[0.4, 0.6])
    >>> table = compare_flows(a, b, labels=("before", "after"))
    >>> table[["target", "share_a", "share_b", "difference", "beyond_chance"]]
         target  share_a  share_b  difference  beyond_chance
    0     (end)      0.4      0.6         0.2           True
    1  purchase      0.6      0.4        -0.2           True
    """
    if not 0 < confidence < 1:
        raise JourneyParameterError(f"confidence must be between 0 and 1, got {confidence!r}")
    a, b, names = _two_flows(first, second, groups, labels)
    key = ["step", "source", "target"]
    merged = a[[*key, "count"]].merge(
        b[[*key, "count"]], on=key, how="outer", suffixes=("_a", "_b")
    )
    merged[["count_a", "count_b"]] = merged[["count_a", "count_b"]].fillna(0).astype("int64")
    n_a, n_b = _sequences(a), _sequences(b)
    merged["share_a"] = merged["count_a"] / n_a
    merged["share_b"] = merged["count_b"] / n_b
    merged["difference"] = merged["share_b"] - merged["share_a"]
    low, high = rate_difference(
        merged["count_b"].to_numpy(), n_b, merged["count_a"].to_numpy(), n_a, confidence
    )
    merged["low"], merged["high"] = low, high
    merged["beyond_chance"] = (merged["low"] > 0) | (merged["high"] < 0)
    merged.insert(0, "group_b", names[1])
    merged.insert(0, "group_a", names[0])
    order = np.lexsort(
        (merged["target"], merged["source"], merged["step"], -merged["difference"].abs())
    )
    columns = ["group_a", "group_b", *key, "count_a", "share_a", "count_b", "share_b"]
    columns += ["difference", "low", "high", "beyond_chance"]
    return merged.iloc[order][columns].reset_index(drop=True)


# -- the shared machinery ------------------------------------------------------------------


def _check_tail(top: Any, min_share: Any) -> None:
    if top is not None:
        check_count("top", top)
    if isinstance(min_share, bool) or not isinstance(min_share, int | float):
        raise JourneyParameterError(f"min_share must be a share in [0, 1), got {min_share!r}")
    if not 0 <= min_share < 1:
        raise JourneyParameterError(f"min_share must be a share in [0, 1), got {min_share!r}")


def _collapse(
    frame: nw.LazyFrame, keys: list[str], collapse: bool, keep: str | None = None
) -> nw.LazyFrame:
    """Drop each row whose value repeats the row just before it (``keep``: rows flagged
    there stay)."""
    if not collapse:
        return frame
    state = nw.col(SEQ_STATE)
    previous = state.shift(1).over(*keys, order_by=[SEQ_TIME, SEQ_STATE])
    frame = frame.with_columns(previous.alias("_jl_previous"))
    stays = nw.col("_jl_previous").is_null() | (nw.col("_jl_previous") != state)
    if keep is not None:
        stays = stays | nw.col(keep)
    return frame.filter(stays).drop("_jl_previous")


def _numbered(frame: nw.LazyFrame, keys: list[str]) -> nw.LazyFrame:
    """Each row's position in its sequence, from 1: a running sum of ones (a ROWS frame on
    every engine, so rows at one instant still get distinct positions)."""
    position = nw.col(_POS).cum_sum().over(*keys, order_by=[SEQ_TIME, SEQ_STATE])
    return frame.with_columns(nw.lit(1, dtype=nw.Int64()).alias(_POS)).with_columns(
        position.cast(nw.Int64)
    )


def _anchored(
    frame: nw.LazyFrame,
    keys: list[str],
    flag: nw.Expr | None,
    extra: dict[str, nw.Expr] | None = None,
) -> nw.LazyFrame:
    """Rows of sequences that have an anchor, with the anchor's position (the first flagged
    row; the first row when there is no flag), and ``extra`` aggregates over the sequence
    (computed in the same window pass)."""
    if flag is None:
        return frame.with_columns(nw.lit(1, dtype=nw.Int64()).alias(_ANCHOR))
    first = nw.when(flag).then(nw.col(_POS)).min().over(*keys).alias(_ANCHOR)
    windows = [first, *(e.over(*keys).alias(name) for name, e in (extra or {}).items())]
    return frame.with_columns(*windows).filter(~nw.col(_ANCHOR).is_null())


def _links(
    frame: nw.LazyFrame,
    keys: list[str],
    *,
    steps: int,
    forward: bool,
    terminal: bool,
    group: tuple[nw.Expr, nw.Expr] | None,
    top: int | None,
    min_share: float,
    whole: bool = False,
    segments: Sequence[str] = (),
) -> nw.LazyFrame:
    """The links (the ``segments`` columns, ``_jl_group``, ``step``, ``source``, ``target``,
    ``count``) of the anchored rows, not yet summed.

    As :func:`journey_lib.paths` reads openings, each sequence's columns are spread over one
    row (``_jl_c1`` ... by a maximum per sequence: no second ordered pass, no join on the
    log) and identical sequences are counted together; ``(end)``/``(start)`` are added, the
    tail folded and each counted sequence read as its links on that small table. ``group``
    is a per-row expression whose maximum over the sequence, then the second expression
    over ``_jl_group``, is the sequence's group; ``whole`` reads every row (the group needs
    them), not only the columns' rows. Each segment's tail is folded on its own."""
    pos, anchor = nw.col(_POS), nw.col(_ANCHOR)
    rel = pos - anchor
    if not whole:
        inside = (rel >= 0) & (rel < steps) if forward else (rel <= 0) & (rel > -steps)
        frame = frame.filter(inside)
    column = rel + 1 if forward else rel + steps
    names = [f"_jl_c{c}" for c in range(1, steps + 1)]
    grouping = [*segments, *([_GROUP] if group is not None else [])]
    state = nw.col(SEQ_STATE)
    wide = (
        frame.with_columns(
            *(
                nw.when(column == c).then(state).alias(name)
                for c, name in enumerate(names, start=1)
            ),
            *((group[0].alias(_GROUP),) if group is not None else ()),
        )
        .group_by(*keys, *segments)  # a customer's segment is one value: carried along
        .agg(nw.col(name).max() for name in [*grouping[len(segments) :], *names])
    )
    if group is not None:
        wide = wide.with_columns(group[1].alias(_GROUP))
    counted = wide.group_by(*grouping, *names).agg(nw.len().alias(_N))
    if terminal:
        # A sequence with fewer touchpoints than columns after (before) its anchor ends in
        # (end) (begins with (start)): the empty column beside its last (first) one.
        beside = range(1, steps) if forward else range(steps - 1)
        other = 1 if not forward else -1
        marker = nw.lit(END if forward else START, dtype=nw.String())
        counted = counted.with_columns(
            nw.when(nw.col(names[i]).is_null() & ~nw.col(names[i + other]).is_null())
            .then(marker)
            .otherwise(nw.col(names[i]))
            .alias(names[i])
            for i in beside
        )
    anchor_index = 0 if forward else steps - 1
    counted = _fold_tail(
        counted,
        names,
        [*grouping, _N],
        anchor_index=anchor_index,
        top=top,
        min_share=min_share,
        segments=list(segments),
    )
    # Each counted sequence once per link: steps 1 .. steps - 1 by unpivoting constants
    # (one pass, where a union of one branch per step would rerun the plan on lazy engines).
    marks = [f"_jl_k{c}" for c in range(1, steps)]
    repeated = unpivot(
        counted.with_columns(nw.lit(c, dtype=nw.Int64()).alias(m) for c, m in enumerate(marks, 1)),
        marks,
        index=[*grouping, *names, _N],
        variable_name="_jl_mark",
        value_name=_STEP,
    )
    step = nw.col(_STEP)

    def at(offset: int) -> Any:
        picked: Any = nw.when(step == 1).then(nw.col(names[offset]))
        for c in range(2, steps):
            picked = picked.when(step == c).then(nw.col(names[c - 1 + offset]))
        return picked

    return repeated.select(
        *grouping,
        step.cast(nw.Int64).alias("step"),
        at(0).alias("source"),
        at(1).alias("target"),
        nw.col(_N).cast(nw.Int64).alias("count"),
    ).filter(~nw.col("source").is_null() & ~nw.col("target").is_null())


def _fold_tail(
    counted: nw.LazyFrame,
    names: list[str],
    others: list[str],
    *,
    anchor_index: int,
    top: int | None,
    min_share: float,
    segments: list[str],
) -> nw.LazyFrame:
    """The sequences' columns with nodes outside a column's ``top`` values, or below
    ``min_share`` of the sequences, renamed ``(other)``, in each segment; the reserved nodes
    stay. On the counted sequences (``_jl_n`` each): a node's count is a sum over its
    column's value (and segment)."""
    if top is None and min_share == 0:
        return counted
    n = nw.col(_N)

    def real(name: str) -> nw.Expr:
        return ~nw.col(name).is_null() & ~nw.col(name).is_in(list(_RESERVED))

    def within(expr: nw.Expr) -> nw.Expr:
        return expr.over(*segments) if segments else expr

    sums = counted.with_columns(
        *(
            nw.when(real(c)).then(n).otherwise(0).sum().over(c, *segments).alias(f"{c}_n")
            for c in names
        ),
        *(nw.col(c).rank("dense").alias(f"{c}_r") for c in names),
        within(nw.when(real(names[anchor_index])).then(n).otherwise(0).sum()).alias("_jl_total"),
    )
    # Count descending, then name ascending, as one int64; reserved and missing nodes -1.
    ranks = sums.with_columns(
        within(
            nw.when(real(c))
            .then(
                nw.col(f"{c}_n").cast(nw.Int64) * _SCALE
                - nw.col(f"{c}_r").fill_null(0).cast(nw.Int64)
            )
            .otherwise(-1)
            .rank("dense", descending=True)
        ).alias(f"{c}_k")
        for c in names
    )

    def kept(c: str) -> nw.Expr:
        keep = nw.lit(value=True)
        if top is not None:
            keep = keep & (nw.col(f"{c}_k") <= top)
        if min_share > 0:
            keep = keep & (nw.col(f"{c}_n") >= min_share * nw.col("_jl_total"))
        return keep

    return ranks.select(
        *others,
        *(
            nw.when(real(c) & ~kept(c)).then(nw.lit(OTHER)).otherwise(nw.col(c)).alias(c)
            for c in names
        ),
    )


def _finish_links(
    links: nw.LazyFrame,
    *,
    steps: int,
    forward: bool,
    group_name: str | None,
    segments: Sequence[str] = (),
) -> nw.LazyFrame:
    """Merge links the tail folding made identical, add shares, name the group, sort."""
    grouping = [*segments, *([_GROUP] if group_name is not None else [])]
    links = (
        links.group_by(*grouping, "step", "source", "target")
        .agg(nw.col("count").sum())
        .with_columns(nw.col("count").cast(nw.Int64))
    )
    # Every sequence takes exactly one link next to the anchor column.
    beside = 1 if forward else steps - 1
    sequences = nw.when(nw.col("step") == beside).then(nw.col("count")).otherwise(0).sum()
    sequences = sequences.over(*grouping) if grouping else sequences
    links = links.with_columns((nw.col("count") / sequences).alias("share"))
    order = [*grouping, "step", "count", "source", "target"]
    links = links.sort(order, descending=[False] * len(grouping) + [False, True, False, False])
    if group_name is not None:
        links = links.rename({_GROUP: group_name})
    return links


def _check_reserved(events: Any, of: str) -> None:
    """Raise when the log's own values are named like the flow's made-up nodes, which
    would merge with them unseen."""
    values = nw.from_native(events).get_column(of).cast(nw.String())
    clash = values.filter(values.is_in(list(_RESERVED)))
    if len(clash):
        raise JourneyDataError(
            f"column {of!r} has {len(clash)} rows with the value {clash[0]!r}, a name the "
            f"flows give their own nodes ({', '.join(_RESERVED)}); rename those values first"
        )


def _anchor_absent(events: Any, of: str, values: list[str]) -> None:
    """Raise when an anchor value is nowhere in the log (an empty flow is then a typo)."""
    counts = to_pandas(events)[of].astype("string").value_counts()
    for value in values:
        if value not in counts.index:
            common = ", ".join(repr(v) for v in counts.index[:8])
            raise JourneyDataError(
                f"no sequence has {value!r} in column {of!r}; its most frequent values are {common}"
            )


def _flow_frame(flows: Any) -> tuple[nw.LazyFrame, bool]:
    frame, eager = _lazy(flows)
    columns = frame.collect_schema().names()
    missing = [c for c in FLOW_COLUMNS if c not in columns]
    extra = [c for c in columns if c not in FLOW_COLUMNS]
    if missing or len(extra) > 1:
        raise JourneyDataError(
            f"a flow table (path_flows, funnel_dropoff_paths) has {list(FLOW_COLUMNS)} and at "
            f"most one grouping column; got {columns}"
        )
    return frame, eager


def _lazy(frame: Any) -> tuple[nw.LazyFrame, bool]:
    """A result table of any engine as a Narwhals LazyFrame, and whether it was eager."""
    native = nw.from_native(frame)
    if isinstance(native, nw.DataFrame):
        return native.lazy(), True
    return native, False


def _two_flows(
    first: Any, second: Any, groups: tuple[Any, Any] | None, labels: tuple[str, str] | None
) -> tuple[pd.DataFrame, pd.DataFrame, tuple[str, str]]:
    a = to_pandas(first, what="the first flow")
    _check_flow(a)
    if second is not None:
        b = to_pandas(second, what="the second flow")
        _check_flow(b)
        for table, which in ((a, "first"), (b, "second")):
            if len(table.columns) != len(FLOW_COLUMNS):
                raise JourneyDataError(
                    f"the {which} flow has a grouping column; pass one grouped flow alone "
                    f"to compare its groups"
                )
        return a, b, labels or ("first", "second")
    extra = [c for c in a.columns if c not in FLOW_COLUMNS]
    if not extra:
        raise JourneyDataError(
            "one flow without a grouping column has nothing to compare: pass a second flow, "
            "or a flow made with split=..."
        )
    column = extra[0]
    present = sorted(pd.unique(a[column]).tolist(), key=str)
    chosen = list(groups) if groups is not None else present
    if len(chosen) != 2 or any(g not in present for g in chosen):
        raise JourneyDataError(
            f"compare_flows compares two groups; the flow's {column!r} has {present}"
            + (f" and groups={groups!r} does not name two of them" if groups else "")
        )
    parts = [a[a[column] == g].drop(columns=column) for g in chosen]
    names = labels or (f"{column}={chosen[0]}", f"{column}={chosen[1]}")
    return parts[0], parts[1], names


def _check_flow(table: pd.DataFrame) -> None:
    missing = [c for c in FLOW_COLUMNS if c not in table.columns]
    if missing:
        raise JourneyDataError(
            f"not a flow table (path_flows, funnel_dropoff_paths): it lacks {missing}; it "
            f"has {list(table.columns)}"
        )


def _sequences(flow: pd.DataFrame) -> int:
    """A flow's sequences: the largest total of one step's links (the step beside the
    anchor holds every sequence once)."""
    if len(flow) == 0:
        return 0
    return int(flow.groupby("step")["count"].sum().max())
