"""One line of reading under a journey map, written from the numbers it draws: a path flow
(:func:`journey_lib.path_flows`), the paths after a funnel's drop-off
(:func:`journey_lib.funnel_dropoff_paths`), two flows compared
(:func:`journey_lib.compare_flows`) and the moves between stages
(:func:`journey_lib.stage_flows`). Available from :mod:`journey_lib.report.readings` too.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..analytics.flows import DROPPED, FLOW_COLUMNS, OTHER, WENT_ON, compare_flows, flow_nodes
from ..analytics.paths import END, START
from ..errors import check_choice
from .formatting import figure_text, period_label
from .privacy import suppressed

__all__ = ["comparison_reading", "dropoff_reading", "flow_reading", "stage_flow_reading"]

_RESERVED = (START, END, OTHER)


def flow_reading(flows: pd.DataFrame, *, direction: str | None = None, min_cell: int = 0) -> str:
    """Where journeys go from the flow's anchor (or come from, backwards), and how many
    stop there, from :func:`journey_lib.path_flows`; a flow split into two groups is read
    as their :func:`comparison_reading`.

    ``direction`` is ``"forwards"`` or ``"backwards"``; without it a flow is read backwards
    when its last column holds one node and its first column does not (it holds several,
    or none when every journey is short). With ``min_cell``, the links beside the anchor
    are one table whose total is shown: a link hidden there (small, or a complement of a
    small one, :func:`journey_lib.report.privacy.suppressed`) is not named, so no count
    can be worked out by subtraction.

    Examples
    --------
    >>> flows = pd.DataFrame({"step": [1, 1, 1, 2], "source": ["cart"] * 3 + ["pay"],
    ...                       "target": ["pay", "(end)", "home", "(end)"],
    ...                       "count": [60, 30, 10, 60], "share": [0.6, 0.3, 0.1, 0.6]})
    >>> print(flow_reading(flows))  # doctest: +NORMALIZE_WHITESPACE
    Of 100 journeys from cart, the most common next step is pay (60.0%); 30.0% have no
    further touchpoint.
    """
    if direction is not None:
        check_choice("direction", direction, ("forwards", "backwards"))
    if flows.empty:
        return "No journey to show."
    groups = [c for c in flows.columns if c not in FLOW_COLUMNS]
    if groups:
        if flows[groups[0]].nunique() != 2:
            return f"The flow has {flows[groups[0]].nunique()} groups of {groups[0]}."
        column = groups[0]
        first, second = sorted(flows[column].unique().tolist(), key=str)
        labels = _group_labels(column, first, second)
        return comparison_reading(compare_flows(flows, labels=labels), min_cell=min_cell)
    nodes = flow_nodes(flows)
    first = nodes[nodes["column"] == 1]
    last = nodes[nodes["column"] == nodes["column"].max()]
    if direction is None:
        # Forwards, column 1 holds the anchor alone (or every journey's opening); backwards,
        # the last column holds the anchor alone and column 1 may be empty (short journeys).
        single = len(last) == 1 and last["node"].iloc[0] not in _RESERVED
        backwards = single and len(first) != 1
    else:
        backwards = direction == "backwards"
    if backwards:
        ends = last.loc[last["count"].idxmax()]
        anchor, total = ends["node"], ends["count"]
        beside = flows[(flows["step"] == flows["step"].max()) & (flows["target"] == anchor)]
        other, stop, where = "source", START, "step just before it"
        lead, joint = f"Of {_count(total, min_cell)} journeys to {anchor}", ","
    else:
        opening = first.loc[first["count"].idxmax()]
        anchor, total = opening["node"], opening["count"]
        beside = flows[(flows["step"] == 1) & (flows["source"] == anchor)]
        other, stop, where = "target", END, "next step"
        if len(first) > 1:
            everyone = first["count"].sum()
            shown = _visible(first["count"], min_cell)[first["count"].idxmax()]
            share = _share(total, everyone, min_cell) if shown else "the most"
            lead = (
                f"Journeys most often open with {anchor} ({share} of {_count(everyone, min_cell)})"
            )
            joint = "; after it,"
        else:
            lead, joint = f"Of {_count(total, min_cell)} journeys from {anchor}", ","
    visible = _visible(beside["count"], min_cell)
    named = beside[~beside[other].isin(_RESERVED)]
    if named.empty:
        return f"{lead}{joint} none has a {where} in the log."
    move = named.loc[named["count"].idxmax()]
    if not visible[move.name]:
        steps = "next steps" if where == "next step" else "steps just before it"
        return (
            f"{lead}{joint} the {steps} are not named: some are taken by fewer than "
            f"{min_cell} customers."
        )
    sentence = (
        f"{lead}{joint} the most common {where} is {move[other]} "
        f"({_share(move['count'], total, min_cell)})"
    )
    stopped = beside[beside[other] == stop]
    if stopped.empty or not visible[stopped.index].all():
        return sentence + "."
    ending = "have no earlier touchpoint" if backwards else "have no further touchpoint"
    return f"{sentence}; {_share(stopped['count'].sum(), total, min_cell)} {ending}."


def dropoff_reading(dropoffs: pd.DataFrame, *, min_cell: int = 0) -> str:
    """What customers did right after the step where they dropped off, against those who
    went on, from :func:`journey_lib.funnel_dropoff_paths`, and, when both groups have
    customers, the link whose share differs most between them (:func:`comparison_reading`).
    With ``min_cell``, each group's links after the step are a table whose total is shown:
    a link hidden there is not named (:func:`flow_reading`).

    Examples
    --------
    >>> dropoffs = pd.DataFrame({
    ...     "outcome": ["dropped off"] * 3 + ["went on"],
    ...     "step": [1, 1, 1, 1], "source": ["cart"] * 4,
    ...     "target": ["home", "(end)", "search", "pay"], "count": [50, 30, 20, 80],
    ...     "share": [0.5, 0.3, 0.2, 1.0]})
    >>> print(dropoff_reading(dropoffs))  # doctest: +NORMALIZE_WHITESPACE
    Of 100 customers who reached cart and did not go on, most did home next (50.0%) and
    30.0% have no further touchpoint; the 80 who went on mostly did pay (100.0%). The
    largest difference is cart to pay at step 1: 0.0% of journeys for customers who dropped
    off, 100.0% for customers who went on (beyond chance).
    """
    first = dropoffs[dropoffs["step"] == 1]
    dropped = first[first["outcome"] == DROPPED]
    if dropped.empty:
        return "Every customer who reached the step went on to the next one."
    anchor, total = dropped["source"].iloc[0], dropped["count"].sum()
    visible = _visible(dropped["count"], min_cell)
    named = dropped[~dropped["target"].isin(_RESERVED)]
    stopped = dropped[dropped["target"] == END]
    head = f"Of {_count(total, min_cell)} customers who reached {anchor} and did not go on"
    if named.empty:
        sentence = f"{head}, none has a further touchpoint"
    elif not visible[named["count"].idxmax()]:
        sentence = (
            f"{head}, the next steps are not named: some are taken by fewer than {min_cell} "
            f"customers"
        )
    else:
        move = named.loc[named["count"].idxmax()]
        sentence = (
            f"{head}, most did {move['target']} next ({_share(move['count'], total, min_cell)})"
        )
        if not stopped.empty and visible[stopped.index].all():
            stops = stopped["count"].sum()
            sentence += f" and {_share(stops, total, min_cell)} have no further touchpoint"
    on = first[first["outcome"] == WENT_ON]
    went = on[~on["target"].isin(_RESERVED)]
    if went.empty:
        return sentence + "."
    on_total = on["count"].sum()
    best = went.loc[went["count"].idxmax()]
    if _visible(on["count"], min_cell)[best.name]:
        sentence += (
            f"; the {_count(on_total, min_cell)} who went on mostly did {best['target']} "
            f"({_share(best['count'], on_total, min_cell)})"
        )
    labels = ("customers who dropped off", "customers who went on")
    compared = compare_flows(dropoffs, groups=(DROPPED, WENT_ON), labels=labels)
    return f"{sentence}. {comparison_reading(compared, min_cell=min_cell)}"


def comparison_reading(table: pd.DataFrame, *, min_cell: int = 0) -> str:
    """The link whose share differs most between two flows, and whether that could be
    chance, from :func:`journey_lib.compare_flows`.

    Examples
    --------
    >>> table = pd.DataFrame({
    ...     "group_a": ["March"], "group_b": ["April"], "step": [1], "source": ["cart"],
    ...     "target": ["pay"], "count_a": [30], "share_a": [0.3], "count_b": [10],
    ...     "share_b": [0.1], "difference": [-0.2], "low": [-0.31], "high": [-0.09],
    ...     "beyond_chance": [True]})
    >>> print(comparison_reading(table))  # doctest: +NORMALIZE_WHITESPACE
    The largest difference is cart to pay at step 1: 30.0% of journeys for March,
    10.0% for April (beyond chance).
    """
    if table.empty:
        return "The two flows have no link to compare."
    if min_cell:
        small = (table[["count_a", "count_b"]] < min_cell) & (table[["count_a", "count_b"]] > 0)
        table = table[~small.any(axis=1)]
        if table.empty:
            return f"Every link that differs is taken by fewer than {min_cell} customers."
    row = table.iloc[0]
    verdict = "beyond chance" if row["beyond_chance"] else "could be chance"
    return (
        f"The largest difference is {row['source']} to {row['target']} at step {row['step']}: "
        f"{figure_text(row['share_a'], 'rate')} of journeys for {row['group_a']}, "
        f"{figure_text(row['share_b'], 'rate')} for {row['group_b']} ({verdict})."
    )


def stage_flow_reading(moves: pd.DataFrame, period: str, *, min_cell: int = 0) -> str:
    """In the latest period, how many customers moved forward, back or out of the journey,
    and the largest move between two stages, from :func:`journey_lib.stage_flows`.

    Examples
    --------
    >>> moves = pd.DataFrame({
    ...     "period": pd.to_datetime(["2024-03-01"] * 4, utc=True),
    ...     "source": ["Purchase", "Retention", "Purchase", "Retention"],
    ...     "target": ["Retention", "Purchase", "(exit)", "Retention"],
    ...     "count": [120, 15, 40, 300], "move": ["forward", "back", "exit", "stay"]})
    >>> print(stage_flow_reading(moves, "month"))  # doctest: +NORMALIZE_WHITESPACE
    In March 2024, 120 customers moved forward a stage, 15 moved back and 40 left the
    journey; the largest move is from Purchase to Retention (120).
    """
    if moves.empty:
        return "No customer moved between stages."
    latest = moves[moves["period"] == moves["period"].max()]
    totals = latest.groupby("move")["count"].sum()
    parts = [
        f"{_count(totals.get('forward', 0), min_cell)} customers moved forward a stage",
        f"{_count(totals.get('back', 0), min_cell)} moved back",
        f"{_count(totals.get('exit', 0), min_cell)} left the journey",
    ]
    sentence = f"In {period_label(latest['period'].iloc[0], period)}, " + ", ".join(parts[:2])
    sentence += f" and {parts[2]}"
    between = latest[latest["move"].isin(["forward", "back"])]
    if between.empty:
        return sentence + "."
    move = between.loc[between["count"].idxmax()]
    return (
        f"{sentence}; the largest move is from {move['source']} to {move['target']} "
        f"({_count(move['count'], min_cell)})."
    )


def _count(value: Any, min_cell: int) -> str:
    return figure_text(value, "count", min_cell=min_cell)


def _group_labels(column: str, first: Any, second: Any) -> tuple[str, str]:
    """A split flow's two groups as a reader names them, in compare_flows' order."""
    if column == "converted":
        return ("customers who did not convert", "customers who converted")
    return (f"{column} {first}", f"{column} {second}")


def _visible(counts: pd.Series, min_cell: int) -> pd.Series:
    """Which of one table's counts a reading may name: those :func:`suppressed` keeps."""
    if not min_cell:
        return pd.Series(True, index=counts.index)
    return ~suppressed(counts.astype("int64"), min_cell)


def _share(count: Any, total: Any, min_cell: int) -> str:
    return figure_text(
        count / total if total else float("nan"), "rate", min_cell=min_cell, base=count
    )
