"""Geometry of flow diagrams (Sankey, alluvial): stacked nodes, bands between them, labels
kept apart.

A private module with plain names, used by :mod:`journey_lib.plots.flows`. Everything here is
layout: where a node, a band or a label goes on the page, never what the numbers are. Nodes
stack in *slots* (a column, or a stub between columns); all slots share one vertical scale,
so a band is as wide at both ends as its count and a node as tall as its count everywhere.
matplotlib is imported inside the functions that draw.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.path import Path

#: Opacity of a band: the nodes stay solid, crossings stay readable.
BAND_ALPHA = 0.45
#: The strip above the nodes for the columns' headers, in inches.
HEADER = 0.32


@dataclass
class Node:
    """One bar of a flow diagram.

    ``slot`` groups the nodes stacked together (a column, or a stub in a gap); ``rank``
    orders them from the top. ``align`` is ``"main"`` for a column, ``"above"`` or
    ``"below"`` for a stub in the strip along the top or bottom. ``top`` and ``bottom`` are
    set by :func:`stack`.
    """

    slot: Hashable
    label: str
    x: float
    count: float
    colour: str
    gid: str
    rank: tuple[Any, ...] = ()
    align: str = "main"
    top: float = 0.0
    bottom: float = 0.0

    @property
    def centre(self) -> float:
        return (self.top + self.bottom) / 2


@dataclass
class Link:
    """A band from ``source`` to ``target``, ``count`` wide; ``back`` marks a regression.
    ``ends`` (source top, source bottom, target top, target bottom) are set by
    :func:`attach`."""

    source: Node
    target: Node
    count: float
    colour: str
    gid: str
    back: bool = False
    ends: tuple[float, float, float, float] = field(default=(0.0, 0.0, 0.0, 0.0))


def canvas(
    ax: Axes | None,
    titles: Sequence[tuple[str, float]],
    width: float,
    height: float,
    *,
    suptitle: str | None = None,
) -> list[tuple[Axes, float, float]]:
    """Titled panels without axes, with their size in inches: ``ax`` (after its figure's
    layout engine, if any, has made room for the title), or one new panel of ``width`` x
    ``height`` inches per title, one above the other, ``suptitle`` over them all."""
    if ax is not None:
        ax.set_title(titles[0][0], fontsize=titles[0][1])
        ax.set_axis_off()
        figure = ax.get_figure(root=True)
        engine = figure.get_layout_engine()
        if engine is not None:
            engine.execute(figure)
        box = ax.get_position()
        w, h = figure.get_size_inches()
        return [(ax, box.width * w, box.height * h)]
    import matplotlib.pyplot as plt

    side, bottom, title, between = 0.2, 0.15, 0.55, 0.15
    top = 0.45 if suptitle else 0.0
    n = len(titles)
    size = (2 * side + width, top + n * (title + height) + (n - 1) * between + bottom)
    figure = plt.figure(figsize=size)
    if suptitle:
        figure.suptitle(suptitle, fontsize=max(points for _, points in titles) + 2)
    drawn = []
    for i, (text, fontsize) in enumerate(titles):
        low = size[1] - top - (i + 1) * (title + height) - i * between
        axes = figure.add_axes((side / size[0], low / size[1], width / size[0], height / size[1]))
        axes.set_title(text, fontsize=fontsize)
        axes.set_axis_off()
        drawn.append((axes, width, height))
    return drawn


def frame_axes(ax: Axes, width: float, height: float, *, below: float) -> float:
    """Limits that make x inches and put the nodes between y = 0 and 1, under a strip for
    headers and above ``below`` inches of room; returns the nodes' height in inches."""
    nodes = max(height - HEADER - below, 0.5)
    ax.set_xlim(-0.1, width - 0.1)
    ax.set_ylim(-below / nodes, 1 + HEADER / nodes)
    return nodes


def header(ax: Axes, x: float, text: str, strip: float, size: float) -> None:
    """A column's header centred on ``x``, above nodes ``strip`` inches tall."""
    ax.text(
        x,
        1 + 0.12 / strip,
        text,
        ha="center",
        va="bottom",
        fontsize=size,
        color="0.25",
        gid=f"header:{text}",
    )


def slots(nodes: Sequence[Node]) -> dict[Hashable, list[Node]]:
    """The nodes of each slot, in stacking order (first drawn nearest the aligned edge)."""
    grouped: dict[Hashable, list[Node]] = {}
    for node in nodes:
        grouped.setdefault(node.slot, []).append(node)
    return {slot: sorted(members, key=lambda n: n.rank) for slot, members in grouped.items()}


def stack(nodes: Sequence[Node], *, gap: float, height: float = 1.0) -> float:
    """Place every node between 0 and ``height`` and return the scale (height per count).

    Slots of ``align="main"`` (columns) stack downward from the top; stubs of ``"above"``
    sit in a strip along the top and those of ``"below"`` in one along the bottom, and the
    columns leave room for both strips, so a stub in a gap between columns never covers a
    band. The scale is the largest that fits every slot with ``gap`` between its nodes.

    Examples
    --------
    >>> a, b = Node(1, "a", 0, 3, "k", "a"), Node(1, "b", 0, 1, "k", "b", rank=(1,))
    >>> round(stack([a, b], gap=0.2), 3), (a.top, round(a.bottom, 3)), abs(round(b.bottom, 3))
    (0.2, (1.0, 0.4), 0.0)
    """
    grouped = slots(nodes)

    def total(members: list[Node]) -> float:
        return float(sum(n.count for n in members))

    strips = {
        side: max((total(m) for m in grouped.values() if m[0].align == side), default=0.0)
        for side in ("above", "below")
    }
    fits = []
    for members in grouped.values():
        room = height - gap * (len(members) - 1)
        if members[0].align == "main":
            room -= gap * sum(1 for strip in strips.values() if strip)
            fits.append(room / max(total(members) + sum(strips.values()), 1e-12))
        else:
            fits.append(room / max(total(members), 1e-12))
    scale = max(min(fits), 0.0)
    top = height - (strips["above"] * scale + gap if strips["above"] else 0.0)
    for members in grouped.values():
        if members[0].align == "below":
            y = 0.0
            for node in members:
                node.bottom, node.top = y, y + node.count * scale
                y = node.top + gap
        else:
            y = top if members[0].align == "main" else height
            for node in members:
                node.top, node.bottom = y, y - node.count * scale
                y = node.bottom - gap
    return scale


def attach(links: Sequence[Link], scale: float) -> None:
    """Where each band leaves its source and enters its target.

    At a node, bands stack from its top in the order of the other end's height (then
    position), the arrangement with the fewest crossings for the given node order.
    """
    leaving: dict[int, list[Link]] = {}
    entering: dict[int, list[Link]] = {}
    for link in links:
        leaving.setdefault(id(link.source), []).append(link)
        entering.setdefault(id(link.target), []).append(link)
    starts: dict[int, tuple[float, float]] = {}
    for group in leaving.values():
        y = group[0].source.top
        for link in sorted(group, key=lambda k: (-k.target.centre, k.target.x)):
            starts[id(link)] = (y, y - link.count * scale)
            y -= link.count * scale
    for group in entering.values():
        y = group[0].target.top
        for link in sorted(group, key=lambda k: (-k.source.centre, k.source.x)):
            link.ends = (*starts[id(link)], y, y - link.count * scale)
            y -= link.count * scale


def band(x0: float, x1: float, ends: tuple[float, float, float, float]) -> Path:
    """A band from ``x0`` to ``x1``: two cubic Bezier edges, horizontal at both ends.

    Its vertices are the source's top, two controls, the target's top, the target's bottom,
    two controls, the source's bottom and the closing point: its width at the source is
    ``vertices[0, 1] - vertices[7, 1]`` and at the target ``vertices[3, 1] - vertices[4, 1]``.
    """
    from matplotlib.path import Path

    top0, bottom0, top1, bottom1 = ends
    mid = (x0 + x1) / 2
    vertices = [
        (x0, top0),
        (mid, top0),
        (mid, top1),
        (x1, top1),
        (x1, bottom1),
        (mid, bottom1),
        (mid, bottom0),
        (x0, bottom0),
        (x0, top0),
    ]
    codes = [Path.MOVETO, *[Path.CURVE4] * 3, Path.LINETO, *[Path.CURVE4] * 3, Path.CLOSEPOLY]
    return Path(vertices, codes)


def spread(centres: Sequence[float], spacing: float, lo: float, hi: float) -> np.ndarray:
    """Heights for labels wanted at ``centres`` (top to bottom, descending), at least
    ``spacing`` apart, within ``[lo, hi]`` and as near their centres as can be.

    Least squares under the spacing (the pool-adjacent-violators algorithm on ``centre + i *
    spacing``, which must not increase), then clipped to the range: enough room is the
    caller's to ensure (see :func:`fit`).

    Examples
    --------
    >>> spread([0.5, 0.49, 0.48], 0.1, 0.0, 1.0).round(2).tolist()
    [0.59, 0.49, 0.39]
    >>> spread([0.05, 0.02], 0.1, 0.0, 1.0).round(2).tolist()
    [0.1, 0.0]
    """
    wanted = np.asarray(centres, dtype="float64")
    n = len(wanted)
    index = np.arange(n)
    blocks: list[list[float]] = []  # [sum, size] of pooled runs
    for value in wanted + index * spacing:
        blocks.append([value, 1.0])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] < blocks[-1][0] / blocks[-1][1]:
            value_sum, size = blocks.pop()
            blocks[-1][0] += value_sum
            blocks[-1][1] += size
    fitted = np.concatenate([np.full(int(size), total / size) for total, size in blocks] or [[]])
    return np.clip(fitted - index * spacing, lo + (n - 1 - index) * spacing, hi - index * spacing)


def fit(weights: Sequence[float], spacing: float, lo: float, hi: float) -> np.ndarray:
    """Which labels keep their place when ``[lo, hi]`` holds fewer lines than labels: a mask
    keeping the labels of the largest ``weights`` (all of them when they fit).

    Examples
    --------
    >>> fit([5, 1, 3], 0.5, 0.0, 0.5).tolist()
    [True, False, True]
    """
    weights = np.asarray(weights, dtype="float64")
    room = int(np.floor((hi - lo) / spacing + 1e-9)) + 1 if spacing > 0 else len(weights)
    keep = np.ones(len(weights), dtype=bool)
    if len(weights) > room:
        keep[:] = False
        keep[np.argsort(-weights, kind="stable")[: max(room, 0)]] = True
    return keep


def text_width(text: str, size: float) -> float:
    """The width of ``text`` in points at font ``size``, without drawing it."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import text_to_path

    width, _, _ = text_to_path.get_text_width_height_descent(
        text, FontProperties(size=size), ismath=False
    )
    return float(width)


def shorten(name: str, rest: str, width: float, size: float) -> str:
    """``name + rest`` made at most ``width`` points wide: first without the part of
    ``rest`` in parentheses (a share), then with ``name`` cut short by an ellipsis.

    Examples
    --------
    >>> shorten("purchase", "  1,234 (12%)", 90, 10)
    'purchase  1,234'
    >>> shorten("a_very_long_event_name", "  12 (3%)", 90, 10)
    'a_very_long…  12'
    """
    short = rest.split(" (")[0]
    for tail in (rest, short):
        if text_width(name + tail, size) <= width:
            return name + tail
    keep = len(name)
    while keep > 1 and text_width(name[:keep] + "…" + short, size) > width:
        keep -= 1
    return name[:keep] + "…" + short


@dataclass
class Label:
    """A text beside a node: wanted at ``centre``, drawn from ``anchor`` (the node's edge)."""

    text: str
    centre: float
    anchor: float
    weight: float
    gid: str


def draw_labels(
    ax: Axes,
    labels: Sequence[Label],
    *,
    x: float,
    side: str,
    spacing: float,
    lo: float,
    hi: float,
    size: float,
) -> None:
    """One column of labels, left-aligned at ``x`` (``side="right"`` of the nodes) or
    right-aligned (``"left"``), kept ``spacing`` apart; a label moved off its node gets a
    leader line. Labels that do not fit between ``lo`` and ``hi`` are left out, smallest
    first."""
    import matplotlib.patheffects as effects

    if not labels:
        return
    order = sorted(labels, key=lambda label: -label.centre)
    keep = fit([label.weight for label in order], spacing, lo, hi)
    shown = [label for label, kept in zip(order, keep, strict=True) if kept]
    heights = spread([label.centre for label in shown], spacing, lo, hi)
    halo = [effects.withStroke(linewidth=3, foreground="white")]
    for label, y in zip(shown, heights, strict=True):
        ax.text(
            x,
            y,
            label.text,
            ha="left" if side == "right" else "right",
            va="center",
            fontsize=size,
            path_effects=halo,
            zorder=5,
            gid=label.gid,
        )
        if abs(y - label.centre) > spacing / 4:
            ax.plot([label.anchor, x], [label.centre, y], color="0.35", linewidth=0.8, zorder=4)


def draw(ax: Axes, nodes: Sequence[Node], links: Sequence[Link], *, width: float) -> None:
    """Nodes as bars ``width`` wide (their gid set), bands as Bezier patches (gid set);
    a band marked ``back`` is hatched with a red edge."""
    from matplotlib.patches import PathPatch, Rectangle

    for link in links:
        patch = PathPatch(
            band(link.source.x + width, link.target.x, link.ends),
            facecolor=link.colour,
            alpha=BAND_ALPHA,
            edgecolor="#C0392B" if link.back else "none",
            hatch="////" if link.back else None,
            linewidth=1.2 if link.back else 0,
            zorder=2,
        )
        patch.set_gid(link.gid)
        ax.add_patch(patch)
    for node in nodes:
        bar = Rectangle(
            (node.x, node.bottom),
            width,
            node.top - node.bottom,
            facecolor=node.colour,
            edgecolor="none",
            zorder=3,
        )
        bar.set_gid(node.gid)
        ax.add_patch(bar)


# --------------------------------------------------------------------------------------------
# layered graph
# --------------------------------------------------------------------------------------------


def layered(
    edges: pd.DataFrame, states: list[str], traffic: pd.Series, *, start: str, end: str
) -> dict[str, int]:
    """A graph's columns: a state's is the number of hops on its most probable route from
    ``start`` (the shortest path on ``-log(probability)``, a hop breaking ties), states no
    route reaches come after the rest, and ``end`` last. ``edges`` has ``from``, ``to`` and
    ``probability``; without ``start``, routes begin at the busiest state."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    index = {s: i for i, s in enumerate(states)}
    usable = edges[
        (edges["from"] != edges["to"])
        & (edges["probability"] > 0)
        & (edges["to"] != start)
        & (edges["from"] != end)
    ]
    weights = -np.log(usable["probability"].clip(upper=1.0).to_numpy()) + 1e-6
    graph = csr_matrix(
        (weights, (usable["from"].map(index).to_numpy(int), usable["to"].map(index).to_numpy(int))),
        shape=(len(states), len(states)),
    )
    others = [s for s in states if s != end]
    root = start if start in index else max(others or states, key=traffic.get)
    _, before = dijkstra(graph, directed=True, indices=index[root], return_predecessors=True)
    layers: dict[str, int] = {}
    for state in others:
        i, hops = index[state], 0
        while i != index[root] and i >= 0:
            i, hops = before[i], hops + 1
        if i == index[root]:
            layers[state] = hops
    far = max(layers.values(), default=-1) + 1
    layers |= {s: far for s in others if s not in layers}
    if end in index:
        layers[end] = max(layers.values(), default=-1) + 1
    return layers


def barycentre_rows(
    edges: pd.DataFrame, layers: dict[str, int], traffic: pd.Series
) -> dict[str, float]:
    """A state's height in its column (0 in the middle, 1 a row up): busiest on top, then
    sorted by the mean height of its neighbours in the columns before it, after it, and
    before it again (barycentre sweeps, weighted by probability), so few edges cross."""
    columns: dict[int, list[str]] = {}
    for state in sorted(layers, key=lambda s: -traffic[s]):
        columns.setdefault(layers[state], []).append(state)
    y: dict[str, float] = {}

    def place(members: list[str]) -> None:
        for i, state in enumerate(members):
            y[state] = (len(members) - 1) / 2 - i

    for members in columns.values():
        place(members)
    depth = max(columns)
    for forward in (True, False, True):
        for layer in range(1, depth + 1) if forward else range(depth - 1, -1, -1):
            members = columns.get(layer, [])
            mine, other = ("to", "from") if forward else ("from", "to")
            column = edges[other].map(layers).astype("int64")
            beyond = column < layer if forward else column > layer
            near = edges[edges[mine].isin(members) & beyond]
            centre = (
                near.assign(h=near[other].map(y).astype("float64") * near["probability"])
                .groupby(mine)[["h", "probability"]]
                .sum()
            )
            key = {s: y[s] for s in members}
            key |= (centre["h"] / centre["probability"]).to_dict()
            members.sort(key=lambda s: -key[s])
            place(members)
    return y


def label_box(
    start: tuple[float, float],
    end: tuple[float, float],
    rad: float,
    size: tuple[float, float],
    circles: dict[str, tuple[float, float, float]],
    taken: Sequence[tuple[float, float, float, float]],
) -> tuple[float, float, float, float]:
    """Where an arrow's label of ``size`` (width, height) goes: the first point along the
    arrow (an ``arc3`` curve of ``rad``), from its middle outward, then beside it, whose box
    is clear of the ``circles`` (x, y, radius) and the boxes ``taken``; when none is, the
    one covering the fewest (a circle counting as ten labels)."""
    (x0, y0), (x1, y1) = start, end
    cx, cy = (x0 + x1) / 2 + rad * (y1 - y0), (y0 + y1) / 2 - rad * (x1 - x0)
    half_w, half_h = size[0] / 2, size[1] / 2
    length = max(np.hypot(x1 - x0, y1 - y0), 1e-9)
    normal = ((y0 - y1) / length, (x1 - x0) / length)
    along = sorted(np.linspace(0.15, 0.85, 15), key=lambda t: abs(t - 0.5))
    best, fewest = (0.0, 0.0, 0.0, 0.0), np.inf
    for shift, t in ((s, t) for s in (0.0, 0.2, -0.2, 0.4, -0.4) for t in along):
        x = (1 - t) ** 2 * x0 + 2 * (1 - t) * t * cx + t**2 * x1 + shift * normal[0]
        y = (1 - t) ** 2 * y0 + 2 * (1 - t) * t * cy + t**2 * y1 + shift * normal[1]
        box = (x - half_w, y - half_h, x + half_w, y + half_h)
        hits = 10 * sum(
            np.hypot(max(box[0] - a, 0, a - box[2]), max(box[1] - b, 0, b - box[3])) < r
            for a, b, r in circles.values()
        ) + sum(overlap(box, other) for other in taken)
        if hits < fewest:
            best, fewest = box, hits
        if not hits:
            break
    return best


def overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    """Whether two boxes (x0, y0, x1, y1) overlap."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
