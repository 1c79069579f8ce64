"""Journey maps: where journeys go step by step (Sankey), how customers move between stages
from period to period (alluvial), and the touchpoint graph read left to right.

Each function draws the result of one journey_lib function, its data twin, named in its
docstring, and returns the Figure. The pictures are static matplotlib, the same in JupyterLab
and in a report page. An event keeps its colour in every figure (:func:`event_colour`):
``site_visit`` is the same colour in every flow, whatever else the log holds; nodes that stand
for no one event (``(start)``, ``(end)``, ``(other)``, ...) are grey.

Every node and band carries a gid, ``node:{column}:{label}`` and ``link:{column}:{source}:
{target}`` (the column is the step, or the period), ``node:{state}`` and ``edge:{from}:
{to}`` in the graph, so a test or a widget finds the artist of a row of the twin.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from narwhals.typing import IntoFrame

from .._engine import to_pandas
from ..analytics.segments import one_segment
from ..errors import JourneyDataError, JourneyParameterError
from ._sankey import (
    Label,
    Link,
    Node,
    attach,
    barycentre_rows,
    canvas,
    draw,
    draw_labels,
    frame_axes,
    header,
    label_box,
    layered,
    shorten,
    stack,
    text_width,
)
from ._style import (
    FOLDED,
    LABEL,
    NOTE,
    PALETTE,
    TITLE,
    date_labels,
    display_labels,
    event_colour,
    figure_of,
    pct,
    period_name,
    stage_colour,
    twin_table,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["path_flows", "stage_flows", "transition_graph"]

_PATH_COLUMNS = ("step", "source", "target", "count", "share")
_STAGE_COLUMNS = ("period", "source", "target", "count", "move")
_START, _END, _OTHER = "(start)", "(end)", "(other)"
_NEW, _INACTIVE, _EXIT = "(new)", "(inactive)", "(exit)"
#: At most this many groups are drawn in one figure, one panel each.
MAX_PANELS = 4
# Geometry in inches: a node's width, the pad before its label, the widest label, the room a
# band keeps visible past a label, and the band's red edge for a move back.
_NODE, _PAD, _WIDEST, _ROOM = 0.14, 0.06, 2.3, 0.35
_FOOT = 0.15
_BACK = "#C0392B"


# --------------------------------------------------------------------------------------------
# path flows (Sankey)
# --------------------------------------------------------------------------------------------


def path_flows(
    flows: IntoFrame,
    *,
    ax: Axes | None = None,
    group: Any = None,
    title: str | None = None,
    numbers: bool = True,
) -> Figure:
    """Journeys as a Sankey diagram: what they do at each step, and where they go next.

    Data twin: :func:`journey_lib.path_flows`, a table of links (``step``, ``source``,
    ``target``, ``count``, ``share``) between the columns of its flow, optionally with one
    grouping column first (one flow per value).

    Columns run left to right, headed ``step 1``, ``step 2``, ... (the twin's ``step`` of
    their nodes; the source of a link with ``step`` s is in column s, its target in s + 1).
    A node is a bar as tall as the journeys in it (the larger of the links entering and
    leaving it), on one scale in every column; a band is as wide at both ends as its link's
    count, coloured by its source, and bands meet a node in the order of their other end, so
    few cross. In a column, nodes go from the largest down, then ``(other)`` (the folded
    tail), then ``(end)`` and ``(start)``, which are grey; an event has the same colour in every
    figure (:func:`journey_lib.plots._style.event_colour`, a fixed hash of its name).

    Each node is labelled ``name  count (share of the flow's journeys)`` on its right;
    labels of thin nodes are moved apart (a line at least, as little as they can: least
    squares under the spacing) and joined to their node by a short leader line. A new figure
    grows with the columns and nodes (0.45 inch of height a node), so every label shows and
    none overlaps another. Only in a given ``ax`` too short for a column's labels are those
    of its smallest nodes left out (their numbers stay in the twin); in a narrow one labels
    lose their share first, then their names are cut with an ellipsis, as names wider than
    2.3 inches always are.

    Parameters
    ----------
    flows : DataFrame
        The twin, of any engine (collected: it is small).
    ax : Axes, optional
        Where to draw one flow; a new figure otherwise.
    numbers : bool, default True
        Whether labels and titles give counts and shares; False draws names only (a page
        under ``min_cell``, where a total would show a hidden link through its sum).
    group : optional
        With a grouping column: the value whose flow to draw. Without, every value's flow is
        drawn in a panel of its own (at most four), one above the other so that the same
        step lines up across groups (a flow is wide: side by side, four would not be
        readable), each to its own scale, all in the same colours.
    title : str, optional
        The figure's title instead of the default.

    Raises
    ------
    JourneyDataError
        When the table lacks a column of the twin or is empty.
    JourneyParameterError
        For more than four groups without ``group``, or a ``group`` not in the table.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import pandas as pd
    >>> import journey_lib as jl
    >>> twin = pd.DataFrame({
    ...     "step": [1, 1, 2, 2, 2],
    ...     "source": ["ad_view", "ad_view", "site_visit", "site_visit", "(end)"],
    ...     "target": ["site_visit", "(end)", "purchase", "(end)", "(end)"],
    ...     "count": [6, 4, 2, 4, 4],
    ...     "share": [0.6, 0.4, 0.2, 0.4, 0.4]})[:4]
    >>> figure = jl.plots.path_flows(twin)
    >>> ax = figure.axes[0]
    >>> ax.get_title()
    'Journey paths: where 10 journeys go, step by step'
    >>> [t.get_text() for t in ax.texts if t.get_gid().startswith("label:1:")]
    ['ad_view  10 (100%)']
    >>> bars = {p.get_gid(): p.get_height() for p in ax.patches if p.get_gid().startswith("node")}
    >>> bars["node:2:site_visit"] / bars["node:1:ad_view"]
    0.6
    >>> plt.close(figure)
    """
    frame = twin_table(flows, _PATH_COLUMNS, "path_flows")
    if frame.empty:
        raise JourneyDataError(
            "no journey flow to draw: the path_flows table is empty (no sequence in the log, "
            "or none reached the anchor event?)"
        )
    by = next((c for c in frame.columns if c not in _PATH_COLUMNS), None)
    parts = _groups(frame, by, group, ax)
    plans = [(name, _path_plan(part, numbers=numbers)) for name, part in parts]
    width = max(_path_width(plan) for _, plan in plans)
    most = max(int(plan[0].groupby("column").size().max()) for _, plan in plans)
    height = max(3.6, 0.45 * most + 1.0)
    titles = []
    for name, (_, _, total) in plans:
        many = f": {total:,.0f} journeys" if numbers else ""
        if by is None:
            where = f"where {total:,.0f} journeys go" if numbers else "where journeys go"
            text = title or f"Journey paths: {where}, step by step"
        elif len(plans) == 1:
            text = title or f"Journey paths, {by} = {name}{many}"
        else:
            text = f"{by} = {name}{many}"
        titles.append((text, TITLE if len(plans) == 1 else LABEL))
    suptitle = (title or f"Journey paths by {by}, step by step") if len(plans) > 1 else None
    drawn = canvas(ax, titles, width, height, suptitle=suptitle)
    for (_, (nodes, links, _)), (axes, w, h) in zip(plans, drawn, strict=True):
        _draw_path_panel(axes, nodes, links, w, h)
    return figure_of(drawn[0][0])


def _groups(
    frame: pd.DataFrame, by: str | None, group: Any, ax: Axes | None
) -> list[tuple[str, pd.DataFrame]]:
    """The flows to draw: (display name, links) per panel."""
    if by is None:
        if group is not None:
            raise JourneyParameterError(
                f"group={group!r} given, but this flow has no grouping column (it has "
                f"{list(frame.columns)})"
            )
        return [("", frame)]
    names = display_labels(frame[by])
    values = list(dict.fromkeys(names))
    if group is not None:
        chosen = (frame[by] == group).fillna(False).to_numpy() | (names == str(group)).to_numpy()
        if not chosen.any():
            raise JourneyParameterError(f"group={group!r} is not a value of {by!r}: {values}")
        return [(names[chosen].iloc[0], frame[chosen])]
    if len(values) > 1 and ax is not None:
        raise JourneyParameterError(
            f"one Axes holds one flow; pass group= one of the {by!r} values {values}, or no ax"
        )
    if len(values) > MAX_PANELS:
        raise JourneyParameterError(
            f"path_flows draws at most {MAX_PANELS} groups in one figure; {by!r} has "
            f"{len(values)}: {values}. Pass group= one of them, or group the flow more coarsely"
        )
    return [(value, frame[(names == value).to_numpy()]) for value in values]


def _reserved_rank(label: str) -> int:
    """Where a node goes in its column: events first, then (other), then (end) and (start)."""
    return {_OTHER: 1, _END: 2, _START: 2}.get(label, 1 if label.startswith("(") else 0)


def _path_plan(
    frame: pd.DataFrame, *, numbers: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """Nodes (column, label, count, text parts), links and the flow's number of journeys."""
    links = frame.assign(
        source=frame["source"].astype("str"),
        target=frame["target"].astype("str"),
        count=pd.to_numeric(frame["count"]).fillna(0).astype("float64"),
        step=frame["step"].astype("int64"),
    )
    links = links[links["count"] > 0]
    if links.empty:
        raise JourneyDataError("no journey flow to draw: every link of the table counts 0")
    leaving = links.groupby(["step", "source"])["count"].sum()
    entering = links.groupby([links["step"] + 1, "target"])["count"].sum()
    leaving.index = leaving.index.set_names(["column", "label"])
    entering.index = entering.index.set_names(["column", "label"])
    counts = pd.concat([leaving, entering], axis=1).fillna(0).max(axis=1)
    nodes = counts.rename("count").reset_index()
    nodes["rank"] = nodes["label"].map(_reserved_rank)
    nodes = nodes.sort_values(
        ["column", "rank", "count", "label"], ascending=[True, True, False, True]
    ).reset_index(drop=True)
    share = pd.to_numeric(links["share"], errors="coerce")
    total = links["count"].sum() / share.sum() if share.sum() > 0 else np.nan
    if not np.isfinite(total) or total <= 0:
        total = nodes.groupby("column")["count"].sum().max()
    nodes["rest"] = [f"  {n:,.0f} ({_share(n / total)})" if numbers else "" for n in nodes["count"]]
    return nodes, links, float(round(total, 6))


def _share(value: float) -> str:
    """A node's share of its flow, with a decimal under 10% and never a bare 0%."""
    if value < 0.001:
        return "<0.1%"
    return pct(value, 0 if value >= 0.095 else 1)


def _label_width(nodes: pd.DataFrame) -> pd.Series:
    """Each node's label width in inches, at most :data:`_WIDEST`."""
    widths = [
        text_width(f"{a}{b}", NOTE) / 72 for a, b in zip(nodes["label"], nodes["rest"], strict=True)
    ]
    return pd.Series(widths, index=nodes.index).clip(upper=_WIDEST)


def _path_width(plan: tuple[pd.DataFrame, pd.DataFrame, float]) -> float:
    """The width in inches a flow's panel needs for its labels to fit."""
    nodes = plan[0]
    widths = _label_width(nodes)
    last = nodes["column"] == nodes["column"].max()
    inner = widths[~last].max() if (~last).any() else 0.0
    pitch = max(1.5, _NODE + _PAD + inner + _ROOM)
    columns = nodes["column"].nunique()
    return (columns - 1) * pitch + _NODE + _PAD + widths[last].max() + 0.2


def _draw_path_panel(
    ax: Axes, nodes: pd.DataFrame, links: pd.DataFrame, width: float, height: float
) -> None:
    """One flow's Sankey diagram in ``ax`` of ``width`` x ``height`` inches."""
    strip = frame_axes(ax, width, height, below=_FOOT)
    first, last = int(nodes["column"].min()), int(nodes["column"].max())
    widths = _label_width(nodes)
    last_width = widths[nodes["column"] == last].max()
    room = width - 0.2 - _NODE - _PAD - last_width
    pitch = room / (last - first) if last > first else 0.0
    made: dict[tuple[int, str], Node] = {}
    for row in nodes.itertuples(index=False):
        made[(row.column, row.label)] = Node(
            slot=row.column,
            label=row.label,
            x=(row.column - first) * pitch,
            count=row.count,
            colour=event_colour(row.label),
            gid=f"node:{row.column}:{row.label}",
            rank=(row.rank, -row.count, row.label),
        )
    bands = [
        Link(
            made[(row.step, row.source)],
            made[(row.step + 1, row.target)],
            row.count,
            event_colour(row.source),
            f"link:{row.step}:{row.source}:{row.target}",
        )
        for row in links.itertuples(index=False)
    ]
    scale = stack(list(made.values()), gap=0.05 / strip)
    attach(bands, scale)
    draw(ax, list(made.values()), bands, width=_NODE)
    spacing = 1.3 * NOTE / 72 / strip
    fits = (pitch - _NODE - _PAD - 0.15) * 72 if last > first else _WIDEST * 72
    for column in range(first, last + 1):
        x = (column - first) * pitch
        header(ax, x + _NODE / 2, f"step {column}", strip, LABEL)
        mine = nodes[nodes["column"] == column]
        limit = _WIDEST * 72 if column == last else fits
        labels = [
            Label(
                shorten(row.label, row.rest, limit, NOTE),
                made[(column, row.label)].centre,
                x + _NODE,
                row.count,
                f"label:{column}:{row.label}",
            )
            for row in mine.itertuples(index=False)
        ]
        draw_labels(
            ax, labels, x=x + _NODE + _PAD, side="right", spacing=spacing, lo=0, hi=1, size=NOTE
        )


# --------------------------------------------------------------------------------------------
# stage flows (alluvial over periods)
# --------------------------------------------------------------------------------------------


def stage_flows(
    flows: IntoFrame,
    *,
    periods: int = 6,
    stages: Sequence[str] | None = None,
    ax: Axes | None = None,
    numbers: bool = True,
) -> Figure:
    """Customers moving between journey stages from one period to the next, as an alluvial.

    Data twin: :func:`journey_lib.stage_flows` (``period``: the start of the period moved
    into, ``source``, ``target``, ``count``, ``move``); one segment's rows of a result broken
    down ``by=`` (several segments are refused).

    One column per period, the last ``periods`` of the table, headed by the period. In a
    column, a bar per stage (journey order, top to bottom), then ``(inactive)``, as tall as the
    customers in it then (the larger of the moves into and out of it), on one scale
    throughout. Between two columns, bands as wide as the customers who moved from one stage
    to another (or stayed), coloured by the stage they left; a move ``back`` to an earlier
    stage is hatched with a red edge. Newcomers (``(new)``) come down from a grey stub along
    the top, in the gap before the period they arrive in (labelled above it); customers who
    leave (``(exit)``) fall into a grey stub along the bottom, in the gap after their last
    period (labelled under it); the stages keep clear of both strips. Stage names are
    written left of the first column (and beside a stage's first node when it appears
    later); other nodes are labelled with their customers, moved apart with a leader line
    when thin. Periods before the first drawn only size its nodes.

    The i-th stage of the journey always gets the i-th colour of :data:`PALETTE`; the
    ``(inactive)``, ``(new)`` and ``(exit)`` nodes are grey. Stages run in the order of
    ``stages``, else of their first appearance in the table (the twin sorts its rows in
    journey order). Node gids are
    ``node:{period}:{stage}`` (the stubs: ``node:{period}:(new)`` and ``node:{period}:(exit)``
    for the period moved into), band gids ``link:{period}:{source}:{target}``, as the twin's
    rows.

    Parameters
    ----------
    flows : DataFrame
        The twin, of any engine (collected).
    periods : int, default 6
        How many of the last periods to draw.
    stages : sequence of str, optional
        The journey's stages in order; by default the order they first appear in the table.
    ax : Axes, optional
        Where to draw; a new figure otherwise.
    numbers : bool, default True
        Whether nodes are labelled with their customers; False draws the stages' names only
        (a page under ``min_cell``).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import pandas as pd
    >>> import journey_lib as jl
    >>> twin = pd.DataFrame({
    ...     "period": pd.to_datetime(["2024-01-01"] * 2 + ["2024-02-01"] * 4, utc=True),
    ...     "source": ["(new)", "(new)", "Awareness", "Awareness", "Purchase", "(new)"],
    ...     "target": ["Awareness", "Purchase", "Awareness", "Purchase", "Awareness", "Awareness"],
    ...     "count": [8, 2, 5, 3, 2, 4],
    ...     "move": ["new", "new", "stay", "forward", "back", "new"]})
    >>> figure = jl.plots.stage_flows(twin)
    >>> ax = figure.axes[0]
    >>> [t.get_text() for t in ax.texts if t.get_gid().startswith("header")]
    ['2024-01', '2024-02']
    >>> band = next(p for p in ax.patches if p.get_gid() == "link:2024-02:Purchase:Awareness")
    >>> band.get_hatch()
    '////'
    >>> plt.close(figure)
    """
    frame = one_segment(
        twin_table(flows, _STAGE_COLUMNS, "stage_flows"), "period", "plots.stage_flows"
    )
    if frame.empty:
        raise JourneyDataError("no stage flow to draw: the stage_flows table is empty")
    if isinstance(periods, bool) or not isinstance(periods, int) or periods < 1:
        raise JourneyParameterError(f"periods must be a whole number >= 1; got {periods!r}")
    frame = frame.assign(
        source=frame["source"].astype("str"),
        target=frame["target"].astype("str"),
        count=pd.to_numeric(frame["count"]).fillna(0).astype("float64"),
        period=pd.to_datetime(frame["period"], utc=True),
    ).sort_values("period", kind="stable")
    starts = pd.Series(frame["period"].unique()).sort_values().reset_index(drop=True)
    shown = starts.iloc[-periods:].reset_index(drop=True)
    names = date_labels(shown, period_name(starts))
    order = _stage_order(frame, stages)
    plan = _stage_plan(frame[frame["count"] > 0], shown, names, order, numbers=numbers)
    pitch = max(1.8, _NODE + _PAD + plan["widest"] + 1.0)
    left = plan["names"] + _PAD + 0.1
    width = left + (len(shown) - 1) * pitch + _NODE + _PAD + plan["widest"] + 0.3
    height = max(4.8, 0.5 * (len(order) + 1) + 2.4)
    every = period_name(starts)
    title = f"Customers moving between stages, {every} by {every}"
    (axes, w, h), *_ = canvas(ax, [(title, TITLE)], width, height)
    _draw_stage_panel(axes, plan, w, h, names, order, numbers=numbers)
    return figure_of(axes)


def _stage_order(frame: pd.DataFrame, stages: Sequence[str] | None) -> list[str]:
    """The stages top to bottom: as given, or in order of first appearance."""
    seen = list(dict.fromkeys(np.column_stack([frame["source"], frame["target"]]).ravel()))
    found = [s for s in seen if s not in (_NEW, _INACTIVE, _EXIT)]
    if stages is None:
        return found
    order = [str(s) for s in stages]
    return order + [s for s in found if s not in order]


def _stage_plan(
    frame: pd.DataFrame,
    shown: pd.Series,
    names: list[str],
    order: list[str],
    *,
    numbers: bool = True,
) -> dict[str, Any]:
    """Node counts per column, the rows drawn as bands, and label widths."""
    rows = {j: frame[frame["period"] == start] for j, start in enumerate(shown)}
    after = {j: rows.get(j + 1, frame.iloc[:0]) for j in rows}
    kept = [*order, _INACTIVE]
    counts: dict[tuple[int, str], float] = {}
    for j in rows:
        into = rows[j].groupby("target")["count"].sum()
        out = after[j].groupby("source")["count"].sum()
        for stage in kept:
            n = max(into.get(stage, 0.0), out.get(stage, 0.0) if j + 1 < len(rows) else 0.0)
            if n > 0:
                counts[(j, stage)] = n
    texts: dict[tuple[int, str], tuple[str, str]] = {}
    for (j, stage), n in counts.items():
        named = j > 0 and (j - 1, stage) not in counts
        count = f"{'  ' if named else ''}{n:,.0f}" if numbers else ""
        texts[(j, stage)] = (stage if named else "", count)
    widths = [text_width(a + b, NOTE) / 72 for a, b in texts.values() if not a]
    firsts = [stage for stage in kept if (0, stage) in counts]
    return {
        "rows": rows,
        "counts": counts,
        "texts": texts,
        "widest": max(widths, default=0.4),
        "names": min(max((text_width(s, NOTE) / 72 for s in firsts), default=0.0), _WIDEST),
    }


def _stage_colour(stage: str, order: list[str]) -> str:
    """A built-in framework's stage keeps its own colour (:func:`event_colour`); a stage of
    the user's own framework takes the palette in the order drawn."""
    if stage.startswith("(") or stage not in order:
        return FOLDED
    return stage_colour(stage) or PALETTE[order.index(stage) % len(PALETTE)]


def _draw_stage_panel(
    ax: Axes,
    plan: dict[str, Any],
    width: float,
    height: float,
    names: list[str],
    order: list,
    *,
    numbers: bool = True,
) -> None:
    """The alluvial in ``ax`` of ``width`` x ``height`` inches."""
    from matplotlib.patches import Patch

    strip = frame_axes(ax, width, height, below=0.75)
    columns = len(names)
    left = plan["names"] + _PAD + 0.1 if plan["names"] else 0.6
    room = width - 0.2 - left - _NODE - _PAD - plan["widest"]
    pitch = room / (columns - 1) if columns > 1 else 0.0
    stub = min(0.3 * pitch, 0.6) if columns > 1 else 0.4
    fits = (pitch - _NODE - _PAD - 0.1) * 72 if columns > 1 else _WIDEST * 72
    made: dict[Hashable, Node] = {}
    ranks = {stage: i for i, stage in enumerate([*order, _INACTIVE])}
    for (j, stage), n in plan["counts"].items():
        made[(j, stage)] = Node(
            slot=j,
            label=stage,
            x=left + j * pitch,
            count=n,
            colour=_stage_colour(stage, order),
            gid=f"node:{names[j]}:{stage}",
            rank=(ranks[stage],),
        )
    bands = []
    for j, rows in plan["rows"].items():
        x = left + j * pitch
        for row in rows.itertuples(index=False):
            new, gone = row.source == _NEW, row.target == _EXIT
            if (new and gone) or not (new or (j - 1, row.source) in made):
                continue  # from a period not drawn, or from (new) straight to (exit)
            if not (gone or (j, row.target) in made):
                continue
            if new:
                source = _stub(made, ("new", j), x - stub - _NODE, row.count, names[j], _NEW)
            else:
                source = made[(j - 1, row.source)]
            if gone:
                target = _stub(
                    made, ("exit", j), x - pitch + _NODE + stub, row.count, names[j], _EXIT
                )
            else:
                target = made[(j, row.target)]
            gid = f"link:{names[j]}:{row.source}:{row.target}"
            colour = _stage_colour(row.source, order)
            bands.append(Link(source, target, row.count, colour, gid, back=row.move == "back"))
    nodes = list(made.values())
    scale = stack(nodes, gap=0.05 / strip)
    attach(bands, scale)
    draw(ax, nodes, bands, width=_NODE)
    spacing = 1.3 * NOTE / 72 / strip
    for j in range(columns):
        x = left + j * pitch
        header(ax, x + _NODE / 2, names[j], strip, LABEL)
        labels = [
            Label(
                shorten(*plan["texts"][(j, stage)], fits, NOTE),
                made[(j, stage)].centre,
                x + _NODE,
                made[(j, stage)].count,
                f"label:{names[j]}:{stage}",
            )
            for stage in [*order, _INACTIVE]
            if (j, stage) in made
        ]
        draw_labels(
            ax, labels, x=x + _NODE + _PAD, side="right", spacing=spacing, lo=0, hi=1, size=NOTE
        )
    firsts = [
        Label(stage, made[(0, stage)].centre, left, made[(0, stage)].count, f"name:{stage}")
        for stage in [*order, _INACTIVE]
        if (0, stage) in made
    ]
    draw_labels(ax, firsts, x=left - _PAD, side="left", spacing=spacing, lo=0, hi=1, size=NOTE)
    for (kind, j), node in ((k, n) for k, n in made.items() if k[0] in ("new", "exit")):
        ax.text(
            node.x + _NODE,
            1 + 0.12 / strip if kind == "new" else -0.06 / strip,
            f"{kind} {node.count:,.0f}" if numbers else kind,
            ha="right",
            va="bottom" if kind == "new" else "top",
            fontsize=NOTE,
            color="0.3",
            gid=f"label:{names[j]}:({kind})",
        )
    handles = [
        Patch(facecolor="white", edgecolor=_BACK, hatch="////", label="moved back a stage"),
        Patch(facecolor=FOLDED, label="new, inactive or gone"),
    ]
    ax.legend(
        handles=handles,
        loc="lower center",
        bbox_to_anchor=(0.5, 0.0),
        ncol=2,
        fontsize=NOTE,
        frameon=False,
    )


def _stub(
    made: dict[Hashable, Node], key: tuple[str, int], x: float, count: float, name: str, label: str
) -> Node:
    """The (new) or (exit) stub of a gap, grown by ``count``."""
    if key not in made:
        made[key] = Node(
            slot=key,
            label=label,
            x=x,
            count=0.0,
            colour=FOLDED,
            gid=f"node:{name}:{label}",
            align="above" if label == _NEW else "below",
        )
    made[key].count += count
    return made[key]


# --------------------------------------------------------------------------------------------
# transition graph
# --------------------------------------------------------------------------------------------

# Geometry in inches: layers apart, rows apart, the smallest and largest circle radius.
_LAYER, _ROW, _SMALL, _LARGE = 2.3, 1.35, 0.09, 0.3


def transition_graph(
    transitions: IntoFrame,
    *,
    min_probability: float = 0.05,
    top: int = 12,
    ax: Axes | None = None,
) -> Figure:
    """The touchpoint graph, read left to right: which touchpoint follows which, and how often.

    Data twin: :func:`journey_lib.transition_matrix` (long: ``from``, ``to`` and
    ``probability``, or ``count`` with ``normalize=False``, whose counts are divided by their
    ``from`` state's total here, for display).

    A state's column is the number of hops on its most probable route from ``(start)`` (the
    shortest path on ``-log(probability)``), so the usual journey reads left to right;
    ``(start)`` is leftmost, ``(end)`` rightmost, and states no route reaches stand just before
    ``(end)``. In a column, states are ordered by the height of their neighbours (barycentre
    sweeps) so that few arrows cross. A circle's area is the state's traffic: the
    transitions into it (counts), or its expected visits per journey (probabilities: the
    absorbing chain from ``(start)``). Only the ``top`` states with the most traffic are drawn
    (with ``(start)`` and ``(end)``), and only arrows of probability ``min_probability`` or
    more; a note says what was left out. An arrow's width grows with its probability (with
    its count for a count table) and it is labelled with the probability in percent, away from
    the circles where it can be; a touchpoint that repeats has a small loop with its
    probability. Colours are the events' own (:func:`journey_lib.plots._style.event_colour`).

    Circles carry the gid ``node:{state}``, arrows and loops ``edge:{from}:{to}``.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import pandas as pd
    >>> import journey_lib as jl
    >>> twin = pd.DataFrame({
    ...     "from": ["(start)", "ad_view", "ad_view", "site_visit", "site_visit"],
    ...     "to": ["ad_view", "site_visit", "(end)", "site_visit", "(end)"],
    ...     "probability": [1.0, 0.7, 0.3, 0.2, 0.8]})
    >>> figure = jl.plots.transition_graph(twin)
    >>> ax = figure.axes[0]
    >>> x = {p.get_gid(): p.center[0] for p in ax.patches if p.get_gid().startswith("node")}
    >>> sorted(x, key=x.get)
    ['node:(start)', 'node:ad_view', 'node:site_visit', 'node:(end)']
    >>> plt.close(figure)
    """
    frame = to_pandas(transitions, what="the transition_matrix result")
    weight = next((c for c in ("probability", "count") if c in frame.columns), None)
    missing = [c for c in ("from", "to") if c not in frame.columns]
    if missing or weight is None:
        missing += [] if weight else ["probability (or count)"]
        raise JourneyDataError(
            f"expected a transition_matrix() result; the frame lacks {missing} (it has "
            f"{list(frame.columns)})"
        )
    if frame.empty:
        raise JourneyDataError("no transition to draw: the transition table is empty")
    frame = one_segment(frame, "from", "the transition graph")
    if not isinstance(min_probability, int | float) or not 0 <= min_probability <= 1:
        raise JourneyParameterError(
            f"min_probability must be a number from 0 to 1; got {min_probability!r}"
        )
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise JourneyParameterError(f"top must be a whole number >= 1; got {top!r}")
    edges = pd.DataFrame(
        {
            "from": frame["from"].astype("str").to_numpy(),
            "to": frame["to"].astype("str").to_numpy(),
            "value": pd.to_numeric(frame[weight]).fillna(0).astype("float64").to_numpy(),
        }
    )
    edges = edges[edges["value"] > 0]
    if edges.empty:
        raise JourneyDataError(f"no transition to draw: every {weight} of the table is 0")
    edges["probability"] = (
        edges["value"]
        if weight == "probability"
        else edges["value"] / edges.groupby("from")["value"].transform("sum")
    )
    traffic = _traffic(edges, counts=weight == "count")
    ordinary = sorted((s for s in traffic.index if s not in (_START, _END)), key=traffic.get)
    kept = ordinary[::-1][:top]
    folded = [s for s in ordinary if s not in kept]
    states = [s for s in (_START, *kept, _END) if s in traffic.index]
    among = edges[edges["from"].isin(states) & edges["to"].isin(states)]
    layers = layered(among, states, traffic, start=_START, end=_END)
    shown = among[among["probability"] >= min_probability]
    rows = barycentre_rows(shown, layers, traffic)
    depth = max(layers.values())
    tall = max(pd.Series(layers).value_counts())
    width, height = (depth + 1) * _LAYER + 0.6, max(3.5, tall * _ROW + 1.0)
    title = "Journey map: the next touchpoint, left to right"
    (axes, w, h), *_ = canvas(ax, [(title, TITLE)], width, height)
    top_row = max(rows.values())
    axes.set_xlim(-_LAYER / 2 + 0.1, -_LAYER / 2 + 0.1 + width)
    axes.set_ylim(top_row * _ROW + 0.75 - height, top_row * _ROW + 0.75)
    axes.set_aspect("equal", adjustable="box")
    zoom = min(w / width, h / height)  # inches per unit: 1 but in a smaller given ax
    where = {s: (layers[s] * _LAYER, rows[s] * _ROW) for s in layers}
    biggest = traffic[list(layers)].max()
    radius = {s: _SMALL + (_LARGE - _SMALL) * np.sqrt(traffic[s] / biggest) for s in layers}
    _draw_graph(axes, shown, where, layers, radius, zoom)
    note = (
        f"Left to right: hops from (start) on the most probable route. Circle area: visits; "
        f"arrows: the next touchpoint's probability, {pct(min_probability)} or more."
    )
    if folded:
        share = traffic[folded].sum() / traffic[ordinary].sum()
        rarest = folded[::-1][:3]
        names = ", ".join(rarest[:-1]) + (" and " if len(rarest) > 1 else "") + rarest[-1]
        such = "such as " if len(folded) > 3 else ""
        noun = "states" if len(folded) > 1 else "state"
        note += (
            f" Not drawn: {len(folded)} rarer {noun} ({pct(share, 1)} of visits), {such}{names}."
        )
    _note(axes, note, width * zoom)
    return figure_of(axes)


def _traffic(edges: pd.DataFrame, *, counts: bool) -> pd.Series:
    """Each state's traffic: transitions into it (or out, for (start)) in a count table; its
    expected visits per journey from (start) in a probability table."""
    into = edges.groupby("to")["value"].sum()
    out = edges.groupby("from")["value"].sum()
    states = sorted(set(into.index) | set(out.index))
    if counts or _START not in states:
        both = pd.concat([into, out], axis=1).reindex(states).fillna(0)
        return both.max(axis=1) if counts else into.reindex(states).fillna(1.0)
    index = {s: i for i, s in enumerate(states)}
    matrix = np.zeros((len(states), len(states)))
    rows, columns = (edges[c].map(index).to_numpy(int) for c in ("from", "to"))
    matrix[rows, columns] = edges["probability"].to_numpy()
    passing = np.array([s != _END for s in states])
    q = matrix[np.ix_(passing, passing)]
    start = np.zeros(passing.sum())
    start[list(np.array(states)[passing]).index(_START)] = 1.0
    visits = np.linalg.lstsq(np.eye(len(q)) - q.T, start, rcond=None)[0].clip(min=0)
    result = pd.Series(0.0, index=states)
    result[np.array(states)[passing]] = visits
    if _END in index:
        result[_END] = visits @ matrix[passing, index[_END]]
    if not np.isfinite(result).all() or result.sum() <= 0:
        return into.reindex(states).fillna(1.0)
    return result


def _draw_graph(
    ax: Axes,
    edges: pd.DataFrame,
    where: dict[str, tuple[float, float]],
    layers: dict[str, int],
    radius: dict[str, float],
    zoom: float,
) -> None:
    """Circles with their names under them, arrows and loops with their probabilities;
    texts, in points, take ``1 / zoom`` units an inch."""
    from matplotlib.patches import Circle, FancyArrowPatch

    circles, taken = {}, []  # name and label boxes: x0, y0, x1, y1
    for state, (x, y) in where.items():
        circles[state] = Circle((x, y), radius[state], facecolor=event_colour(state), zorder=3)
        circles[state].set(edgecolor="white", gid=f"node:{state}")
        ax.add_patch(circles[state])
        base, half = y - radius[state] - 0.04 / zoom, text_width(state, NOTE) / 144 / zoom
        _text(ax, x, base, state, va="top", gid=f"name:{state}")
        taken.append((x - half, base - 0.2 / zoom, x + half, base))
    rings = {s: (*where[s], radius[s]) for s in where}
    pairs = set(zip(edges["from"], edges["to"], strict=True))
    loops = edges["from"] == edges["to"]
    for source, value, probability in edges.loc[loops, ["from", "value", "probability"]].to_numpy():
        line = 1.0 + 6.0 * value / edges["value"].max()
        x, top = where[source][0], where[source][1] + radius[source]
        gid = f"{source}:{source}"
        rings[gid], box = _loop(ax, x, top, line, event_colour(source), pct(probability), gid, zoom)
        taken.append(box)
    for source, target, value, probability in edges.loc[
        ~loops, ["from", "to", "value", "probability"]
    ].to_numpy():
        line = 1.0 + 6.0 * value / edges["value"].max()
        (x0, y0), (x1, y1) = where[source], where[target]
        gid = f"{source}:{target}"
        step = layers[target] - layers[source]
        rad = 0.5 if step == 0 else 0.3 if step != 1 else 0.15 if (target, source) in pairs else 0.0
        arrow = FancyArrowPatch(
            (x0, y0),
            (x1, y1),
            patchA=circles[source],
            patchB=circles[target],
            arrowstyle="-|>",
            mutation_scale=9 + 1.5 * line,
            connectionstyle=f"arc3,rad={rad}",
            color=event_colour(source),
            alpha=0.55 + 0.4 * probability,
            linewidth=line,
            shrinkA=2,
            shrinkB=2,
            zorder=2,
            gid=f"edge:{gid}",
        )
        ax.add_patch(arrow)
        text = pct(probability)
        size = ((text_width(text, NOTE) / 72 + 0.1) / zoom, 0.22 / zoom)
        box = label_box((x0, y0), (x1, y1), rad, size, rings, taken)
        taken.append(box)
        ax.text(
            (box[0] + box[2]) / 2,
            (box[1] + box[3]) / 2,
            text,
            ha="center",
            va="center",
            fontsize=NOTE,
            zorder=5,
            gid=f"edge-label:{gid}",
            bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none"},
        )


def _loop(
    ax: Axes, x: float, y: float, line: float, colour: str, text: str, gid: str, zoom: float
) -> tuple[tuple[float, float, float], tuple[float, float, float, float]]:
    """A repeat: a small loop on top of a circle whose top is at (``x``, ``y``), labelled
    above; returns the loop as a ring (x, y, radius) and its label's box."""
    from matplotlib.patches import Arc

    loop = 0.13
    arc = Arc((x, y + 0.7 * loop), 2 * loop, 2 * loop, theta1=-40, theta2=220, color=colour)
    arc.set(linewidth=line, zorder=2, gid=f"edge:{gid}")
    ax.add_patch(arc)
    base = y + 1.7 * loop + 0.03 / zoom
    _text(ax, x, base, text, va="bottom", gid=f"edge-label:{gid}")
    half = text_width(text, NOTE) / 144 / zoom
    return (x, y + 0.7 * loop, loop), (x - half, base, x + half, base + 0.2 / zoom)


def _text(ax: Axes, x: float, y: float, text: str, *, va: str, gid: str) -> None:
    """A centred note-sized text with a white halo, readable over arrows."""
    import matplotlib.patheffects as effects

    halo = [effects.withStroke(linewidth=3, foreground="white")]
    ax.text(x, y, text, ha="center", va=va, fontsize=NOTE, path_effects=halo, zorder=6, gid=gid)


def _note(ax: Axes, text: str, width: float) -> None:
    """A note under the drawing, wrapped to its width."""
    import textwrap

    ax.text(
        0.0,
        0.0,
        textwrap.fill(text, max(40, int(width * 72 / 6.2))),
        transform=ax.transAxes,
        ha="left",
        va="bottom",
        fontsize=NOTE,
        color="0.3",
        gid="note",
    )
