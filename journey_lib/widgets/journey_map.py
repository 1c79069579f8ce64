"""Journey map: where journeys go from an event, step by step; click a node to start there."""

from __future__ import annotations

import datetime as dt
import struct
from typing import TYPE_CHECKING, Any, NamedTuple

import narwhals.stable.v2 as nw
import pandas as pd
from narwhals.typing import IntoFrame

from .. import plots
from .._engine import to_pandas
from ..analytics.dates import within
from ..analytics.flows import FLOW_COLUMNS, OTHER, flow_nodes, path_flows
from ..analytics.paths import END, START
from ..errors import JourneyParameterError
from ..io.profile import LogProfile, from_profile
from ..plots.flows import MAX_PANELS
from .base import JourneyWidget, picker_date, segment_columns

if TYPE_CHECKING:
    from matplotlib.backend_bases import DrawEvent
    from matplotlib.figure import Figure

__all__ = ["FlowNode", "JourneyMap"]

#: The anchor control's choice for "no anchor": forwards from each journey's first touchpoint.
FIRST_TOUCHPOINT = "(first touchpoint)"
#: Node labels that stand for no event: clicking them does nothing.
RESERVED = (START, END, OTHER)
#: A rectangle in a PNG: (left, top, right, bottom) pixels from its top left corner.
Box = tuple[float, float, float, float]
#: A click or hover this close to a thin node (in PNG pixels, above or below) still finds it.
_REACH = 4.0


class FlowNode(NamedTuple):
    """A node of the drawn journey map: its column (step), label and group (None unsplit)."""

    column: int
    label: str
    group: Any = None


class JourneyMap(JourneyWidget):
    """A journey map to explore by clicking: :func:`journey_lib.path_flows` as a widget.

    Definitions: ``.data`` is the flow table of :func:`journey_lib.path_flows` (links
    ``step``, ``source``, ``target``, ``count``, ``share``, after a grouping column when
    split) for the current settings, drawn as a Sankey diagram with
    :func:`journey_lib.plots.path_flows`; ``.nodes`` is :func:`journey_lib.flow_nodes` of
    it (each node's customers). The sequences are customers' whole histories (``within=
    "customer"``, by event), read from the log cut as follows, in this order:

    - ``segment`` ``"column = value"``: only the customers with that value on at least one
      of their touchpoints in the whole log (all of their touchpoints are kept);
    - ``start`` and ``end``: ``within(events, start, end)``, half-open, as
      :class:`FunnelBuilder` and the notebooks cut a log, so journeys are followed only
      inside the range.

    The flow then goes forwards from the ``anchor`` event (``start=anchor``; from each
    journey's first touchpoint when the anchor is ``""``, shown as "(first touchpoint)"), or
    backwards to it (``end=anchor``: backwards needs an anchor, else the widget shows a
    message), ``steps`` columns long; in each column the ``top`` most frequent events keep
    their name and the rest are folded into ``(other)``.

    Controls (``.controls[name].value``): ``anchor`` (an event of the log, most frequent
    first, or ``""``), ``direction`` (``"forwards"``, ``"backwards"``), ``steps`` (2 to 8),
    ``split`` (``""``; ``"converted"`` when the conversion event is known from
    ``conversion=`` or the profile; a property column with at most four values, one panel
    each), ``segment`` (``""`` for all customers, or ``"column = value"`` over the log's
    columns of at most :data:`~journey_lib.widgets.base.MAX_SEGMENT_VALUES` repeated
    values), ``start``, ``end`` (dates, ``None`` open), ``collapse_repeats`` (a checkbox)
    and ``top`` (3 to 15).

    In a notebook the figure is an :class:`ipywidgets.Image` watched with :mod:`ipyevents`:
    **clicking a node** (or its label) of an event re-anchors the map on that event, keeping
    the direction (``(start)``, ``(end)`` and ``(other)`` do nothing); **pointing at a node**
    writes its customers under the figure (``cart, step 2: 1,234 customers (45.6%)``, from
    ``.nodes``; the group is named too when split), cleared off the nodes. :meth:`node_at`
    is that mapping from a pixel to a node, through the node rectangles' positions in the
    PNG captured when it was drawn. Executed without a front end or exported, the widget
    shows the same figure as a PNG.

    Notebook ``01_touchpoints`` declares the journey map's parameters ``flow_anchor``,
    ``flow_direction`` and ``flow_steps``: :meth:`to_report_params` writes those three from
    ``anchor``, ``direction`` and ``steps`` (the other settings are the widget's own).

    Parameters
    ----------
    events : DataFrame
        A touchpoint log of any engine journey_lib accepts.
    anchor : str, default ""
        The first anchor event; ``""`` starts from each journey's first touchpoint.
    direction : {"forwards", "backwards"}, default "forwards"
    steps : int, default 5
    split, segment : str, default ""
        The first split and segment (one of the controls' choices).
    start, end : str, date or None
        The first date range; ``None`` or ``""`` leaves that end open.
    collapse_repeats : bool, default False
    top : int, default 10
    conversion : str, optional
        The conversion event, for ``split="converted"``; default the profile's.
    profile : LogProfile, optional
        A log profile (:func:`journey_lib.profile`), for the conversion event.

    Attributes
    ----------
    image : ipywidgets.Image
        The figure, watched for clicks and mouse moves.
    hover : ipywidgets.Label
        The hovered node's customers, under the figure (empty off the nodes).
    nodes : pandas.DataFrame
        ``flow_nodes(.data)``.
    boxes, label_boxes : dict of FlowNode to tuple
        Each node's rectangle and its label's box in the PNG, ``(left, top, right,
        bottom)`` pixels from the top left, captured when the figure was drawn (by gid).

    Examples
    --------
    >>> import journey_lib as jl
    >>> events = jl.simulate(200, seed=0).events
    >>> view = JourneyMap(events, anchor="signup", steps=3)
    >>> view.data.equals(jl.path_flows(events, start="signup", steps=3))
    True
    >>> view.controls["direction"].value = "backwards"
    >>> view.data.equals(jl.path_flows(events, end="signup", steps=3))
    True
    >>> view.report_params()
    {'flow_anchor': 'signup', 'flow_direction': 'backwards', 'flow_steps': 3}
    >>> view  # doctest: +SKIP
    """

    notebook = "01_touchpoints.ipynb"
    report_names = ("flow_anchor", "flow_direction", "flow_steps")

    def __init__(
        self,
        events: IntoFrame,
        *,
        anchor: str = "",
        direction: str = "forwards",
        steps: int = 5,
        split: str = "",
        segment: str = "",
        start: str | dt.date | None = None,
        end: str | dt.date | None = None,
        collapse_repeats: bool = False,
        top: int = 10,
        conversion: str | None = None,
        profile: LogProfile | None = None,
    ) -> None:
        import ipyevents
        import ipywidgets as w

        self.events = events
        self.profile = profile
        self.conversion = from_profile(profile, "conversion", conversion, None)
        names, self.segments, splits = describe_log(events)
        self.nodes = pd.DataFrame()
        self.boxes: dict[FlowNode, Box] = {}
        self.label_boxes: dict[FlowNode, Box] = {}
        self._drawn: tuple[dict[FlowNode, Box], dict[FlowNode, Box]] = ({}, {})
        self.image = w.Image(format="png", layout=w.Layout(display="none"))
        self.hover = w.Label(value="")
        self.pointer = ipyevents.Event(source=self.image, watched_events=["click", "mousemove"])
        self.pointer.on_dom_event(self.handle_event)
        if split == "converted" and self.conversion is None:
            raise JourneyParameterError(
                "split='converted' needs the conversion event: pass conversion=... or a "
                "profile that names one"
            )
        choices = {
            "anchor": [(FIRST_TOUCHPOINT, ""), *[(name, name) for name in names]],
            "direction": [("forwards", "forwards"), ("backwards", "backwards")],
            "split": [("(none)", ""), *[(c, c) for c in splits]],
            "segment": [("(all customers)", ""), *[(s, s) for s in self.segments]],
        }
        if self.conversion is not None:
            choices["split"].insert(1, ("converted", "converted"))
        given = {"anchor": anchor or "", "direction": direction, "split": split, "segment": segment}
        for name, value in given.items():
            _check_choice(name, value, choices[name])
        for name, value, low, high in (("steps", steps, 2, 8), ("top", top, 3, 15)):
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise JourneyParameterError(f"{name} must be {low} to {high}, got {value!r}")

        def dropdown(name: str) -> w.Dropdown:
            return w.Dropdown(options=choices[name], value=given[name], description=name)

        controls = {
            "anchor": dropdown("anchor"),
            "direction": dropdown("direction"),
            "steps": w.IntSlider(value=steps, min=2, max=8, description="steps"),
            "split": dropdown("split"),
            "segment": dropdown("segment"),
            "start": w.DatePicker(value=picker_date(start), description="start"),
            "end": w.DatePicker(value=picker_date(end), description="end"),
            "collapse_repeats": w.Checkbox(value=collapse_repeats, description="collapse repeats"),
            "top": w.IntSlider(value=top, min=3, max=15, description="top"),
        }
        super().__init__(controls)
        self.view = w.VBox([self.view.children[0], self.image, self.hover, self.output])

    # -- the data ---------------------------------------------------------------------------

    def compute(self, params: dict[str, Any]) -> pd.DataFrame:
        flows = path_flows(self.filtered(params), **self.flow_arguments(params))
        return to_pandas(flows, what="path_flows")

    def filtered(self, params: dict[str, Any] | None = None) -> IntoFrame:
        """The log the flow is read from: the segment's customers, cut to the date range."""
        params = self.params if params is None else params
        events = self.events
        if params["segment"]:
            column, value = self.segments[params["segment"]]
            frame = nw.from_native(events)
            chosen = frame.filter(nw.col(column) == value).select("customer_id").unique()
            events = frame.join(chosen, on="customer_id", how="semi").to_native()
        return within(events, params["start"], params["end"])

    def flow_arguments(self, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """The arguments of :func:`journey_lib.path_flows` for these settings (the current
        ones by default), applied to :meth:`filtered`'s log.

        Raises
        ------
        JourneyParameterError
            Backwards without an anchor.
        """
        params = self.params if params is None else params
        anchor = params["anchor"] or None
        backwards = params["direction"] == "backwards"
        if backwards and anchor is None:
            raise JourneyParameterError(
                "backwards needs an anchor: pick the event the journeys lead to"
            )
        return {
            "start": None if backwards else anchor,
            "end": anchor if backwards else None,
            "steps": params["steps"],
            "top": params["top"],
            "split": params["split"] or None,
            "collapse_repeats": params["collapse_repeats"],
            "conversion": self.conversion,
            "profile": self.profile,
        }

    def report_params(self) -> dict[str, Any]:
        params = self.params
        if params["direction"] == "backwards" and not params["anchor"]:
            raise JourneyParameterError(
                f"{self.notebook} cannot draw a journey map backwards without an anchor; "
                f"pick the event the journeys lead to"
            )
        values = (params["anchor"], params["direction"], params["steps"])
        return dict(zip(self.report_names, values, strict=True))

    # -- the figure -------------------------------------------------------------------------

    def refresh(self) -> None:
        self._drawn = ({}, {})
        super().refresh()
        if self.error is None:
            self.boxes, self.label_boxes = self._drawn
            self.nodes = to_pandas(flow_nodes(self.data))
            self.image.value = self.png or b""
            self.image.layout.display = None
        else:
            self.boxes, self.label_boxes, self.nodes = {}, {}, pd.DataFrame()
            self.image.value = b""
            self.image.layout.display = "none"
        self.hover.value = ""

    def draw(self, data: pd.DataFrame, params: dict[str, Any]) -> Figure:
        figure = plots.path_flows(data)
        grouping = _grouping(data)
        groups = list(dict.fromkeys(data[grouping])) if grouping else [None]
        nodes: dict[FlowNode, Box] = {}
        labels: dict[FlowNode, Box] = {}
        self._drawn = (nodes, labels)

        def capture(event: DrawEvent) -> None:
            # Saving draws the figure at the PNG's size: its nodes and labels, in its pixels.
            _, height = event.renderer.get_canvas_width_height()
            nodes.clear()
            labels.clear()
            panels = [ax for ax in figure.axes if _has_nodes(ax)]
            for group, ax in zip(groups, panels, strict=False):
                for artist in [*ax.patches, *ax.texts]:
                    kind, _, rest = (artist.get_gid() or "").partition(":")
                    column, _, label = rest.partition(":")
                    if kind not in ("node", "label") or not column.isdigit():
                        continue
                    box = artist.get_window_extent(event.renderer)
                    found = nodes if kind == "node" else labels
                    found[FlowNode(int(column), label, group)] = (
                        float(box.x0),
                        float(height - box.y1),
                        float(box.x1),
                        float(height - box.y0),
                    )

        figure.canvas.mpl_connect("draw_event", capture)
        return figure

    def _outputs(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """The error message, or the caption alone: the figure is in :attr:`image`."""
        if self.error is not None:
            return super()._outputs(params)
        caption = self.caption(self.data, params)
        return [{"output_type": "display_data", "data": {"text/plain": caption}, "metadata": {}}]

    def caption(self, data: pd.DataFrame, params: dict[str, Any]) -> str:
        if data.empty:
            return ""
        total = int(data.loc[data["step"] == 1, "count"].sum())
        anchor = params["anchor"] or "their first touchpoint"
        way = "to" if params["direction"] == "backwards" else "from"
        return (
            f"{total:,} customers' journeys {way} {anchor}, {params['steps']} steps. "
            f"Click an event's node to start the map there; point at a node for its customers."
        )

    # -- pointing at the figure -------------------------------------------------------------

    def node_at(self, x: float, y: float, width: float, height: float) -> FlowNode | None:
        """The node at a point of the figure as displayed, or None.

        Parameters
        ----------
        x, y : float
            The point, in pixels from the image's top left corner as displayed (ipyevents'
            ``relativeX`` and ``relativeY``).
        width, height : float
            The image's displayed size (``boundingRectWidth``, ``boundingRectHeight``); the
            point is scaled to the PNG's own pixels.

        Returns
        -------
        FlowNode or None
            The node whose rectangle (or label) holds the point; a point within a few
            pixels of a thin node finds it; None off the nodes.
        """
        if self.png is None or width <= 0 or height <= 0:
            return None
        png_width, png_height = png_size(self.png)
        px, py = x * png_width / width, y * png_height / height
        return _hit(self.boxes, px, py, _REACH) or _hit(self.label_boxes, px, py, 0.0)

    def describe(self, node: FlowNode) -> str:
        """The hover text of a node: ``cart, step 2: 1,234 customers (45.6%)``."""
        nodes = self.nodes
        chosen = (nodes["column"] == node.column) & (nodes["node"] == node.label)
        grouping = _grouping(nodes, extra=("column", "node"))
        where = ""
        if grouping is not None:
            chosen &= nodes[grouping] == node.group
            where = f", {grouping} = {node.group}"
        rows = nodes[chosen]
        if rows.empty:
            return ""
        count, share = int(rows["count"].iloc[0]), float(rows["share"].iloc[0])
        return f"{node.label}, step {node.column}{where}: {count:,} customers ({share:.1%})"

    def handle_event(self, event: dict[str, Any]) -> None:
        """An ipyevents message: a click on an event's node re-anchors the map on it, a mouse
        move writes the node's customers under the figure (or clears them off the nodes)."""
        try:
            point = [float(event[k]) for k in ("relativeX", "relativeY")]
            size = [float(event[k]) for k in ("boundingRectWidth", "boundingRectHeight")]
        except (KeyError, TypeError, ValueError):
            return
        node = self.node_at(*point, *size)
        if event.get("type") == "mousemove":
            self.hover.value = "" if node is None else self.describe(node)
        elif event.get("type") == "click" and node is not None and node.label not in RESERVED:
            anchor = self.controls["anchor"]
            if node.label in [value for _, value in anchor.options]:
                anchor.value = node.label


def describe_log(events: IntoFrame) -> tuple[list[str], dict[str, tuple[str, Any]], list[str]]:
    """The log's events (most frequent first), its segments (``"column = value"`` -> column
    and value, over :func:`~journey_lib.widgets.base.segment_columns`) and the columns with
    few enough values to split a map by (a panel a value, and one for no value)."""
    frame = nw.from_native(events)
    counts = frame.group_by("event").agg(nw.len()).filter(~nw.col("event").is_null())
    counts = counts.sort(["len", "event"], descending=[True, False])
    if isinstance(counts, nw.LazyFrame):
        counts = counts.collect()
    names = [str(n) for n in counts["event"].to_list()]
    segments: dict[str, tuple[str, Any]] = {}
    splits: list[str] = []
    for column, (values, missing) in segment_columns(frame).items():
        if len(values) + missing <= MAX_PANELS:
            splits.append(column)
        segments |= {f"{column} = {value}": (column, value) for value in values}
    return names, segments, splits


def _hit(boxes: dict[FlowNode, Box], x: float, y: float, reach: float) -> FlowNode | None:
    """The box holding the point, or the nearest above or below it within ``reach``."""
    best, nearest = None, reach
    for key, (left, top, right, bottom) in boxes.items():
        if left <= x <= right:
            distance = max(top - y, y - bottom, 0.0)
            if distance <= nearest:
                best, nearest = key, distance
    return best


def _check_choice(name: str, value: Any, options: list[tuple[str, Any]]) -> None:
    values = [v for _, v in options]
    if value not in values:
        shown = ", ".join(repr(v) for v in values[:12]) + (", ..." if len(values) > 12 else "")
        raise JourneyParameterError(f"{name}={value!r} is not a choice here; choose from {shown}")


def png_size(png: bytes) -> tuple[int, int]:
    """A PNG's width and height in pixels, from its header."""
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def _grouping(data: pd.DataFrame, extra: tuple[str, ...] = ()) -> str | None:
    """A flow's (or its nodes') grouping column, if it has one."""
    known = (*FLOW_COLUMNS, *extra)
    return next((c for c in data.columns if c not in known), None)


def _has_nodes(ax: Any) -> bool:
    return any((p.get_gid() or "").startswith("node:") for p in ax.patches)
