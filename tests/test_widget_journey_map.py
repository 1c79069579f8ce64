"""The journey map widget, driven from plain Python: settings in, jl.path_flows out; a pixel
of the figure to its node; ipyevents clicks and pointer moves as the messages they send."""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path

import matplotlib
import pandas as pd
import pytest
from engines import require_module, to_engine
from pandas.testing import assert_frame_equal

import journey_lib as jl
import journey_lib.widgets as widgets
from journey_lib.errors import JourneyParameterError
from journey_lib.report import notebook_parameters, read_parameters
from journey_lib.widgets.base import DPI
from journey_lib.widgets.journey_map import RESERVED, FlowNode, describe_log, png_size

matplotlib.use("Agg")
import matplotlib.pyplot as plt

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"

PNG = b"\x89PNG"


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return jl.simulate(200, seed=0).events


def expected(
    events: pd.DataFrame,
    *,
    segment: tuple[str, object] | None = None,
    since: str | None = None,
    until: str | None = None,
    **flow: object,
) -> pd.DataFrame:
    """path_flows of the log cut as the widget documents it, the cuts written in pandas:
    the customers with the segment's value on any touchpoint, then since <= time < until."""
    log = events
    if segment is not None:
        column, value = segment
        log = log[log["customer_id"].isin(log.loc[log[column] == value, "customer_id"])]
    if since is not None:
        log = log[log["timestamp"] >= pd.Timestamp(since, tz="UTC")]
    if until is not None:
        log = log[log["timestamp"] < pd.Timestamp(until, tz="UTC")]
    return jl.path_flows(log, **flow)


def check_fallback(view: widgets.JourneyMap) -> None:
    """The mime bundle's PNG is the current figure, the one the Image shows; the Output
    under it holds the caption only (no second copy of the figure)."""
    bundle = view._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert base64.b64decode(bundle["image/png"]) == view.png == view.image.value
    assert view.png.startswith(PNG) and view.image.layout.display is None
    assert bundle["text/plain"].startswith("JourneyMap(")
    (output,) = view.output.outputs
    assert (
        set(output["data"]) == {"text/plain"}
        and "customers' journeys" in output["data"]["text/plain"]
    )
    assert view.view.children[1:] == (view.image, view.hover, view.output)


def message(kind: str, x: float, y: float, width: float, height: float) -> dict:
    """What ipyevents sends for a mouse event on the image (the fields the widget reads and
    a few it does not)."""
    return {
        "event": kind,
        "type": kind,
        "relativeX": x,
        "relativeY": y,
        "boundingRectWidth": width,
        "boundingRectHeight": height,
        "clientX": x + 40,
        "clientY": y + 300,
        "button": 0,
    }


def drawn_centres(view: widgets.JourneyMap) -> tuple[dict[FlowNode, tuple[float, float]], tuple]:
    """Each node rectangle's centre in the PNG's pixels, found again from a fresh drawing of
    the widget's data: the figure's gids and window extents at the PNG's resolution."""
    figure = view.draw(view.data, view.params)
    figure.set_dpi(DPI)
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    width, height = renderer.get_canvas_width_height()  # the PNG's pixels
    grouping = [c for c in view.data.columns if c not in jl.analytics.flows.FLOW_COLUMNS]
    groups = list(dict.fromkeys(view.data[grouping[0]])) if grouping else [None]
    panels = [ax for ax in figure.axes if ax.patches]
    centres = {}
    for group, ax in zip(groups, panels, strict=True):
        for patch in ax.patches:
            kind, column, label = patch.get_gid().split(":", 2)
            if kind == "node":
                box = patch.get_window_extent(renderer)
                centre = ((box.x0 + box.x1) / 2, height - (box.y0 + box.y1) / 2)
                centres[FlowNode(int(column), label, group)] = centre
    plt.close(figure)
    return centres, (width, height)


def centres_of(view: widgets.JourneyMap) -> tuple[dict[FlowNode, tuple[float, float]], tuple]:
    """Each node's centre as the widget captured it (test_node_at_finds_each_node... holds
    those rectangles to a fresh drawing), and the PNG's size."""
    centres = {
        node: ((left + right) / 2, (top + bottom) / 2)
        for node, (left, top, right, bottom) in view.boxes.items()
    }
    return centres, png_size(view.png)


# -- .data and the controls -------------------------------------------------------------------


def test_journey_map_data_is_path_flows_and_each_control_recomputes(events):
    view = widgets.JourneyMap(events)
    assert view.error is None
    assert_frame_equal(view.data, jl.path_flows(events, steps=5, top=10))
    assert_frame_equal(view.nodes, jl.flow_nodes(view.data))
    anchors = view.controls["anchor"].options
    counts = events["event"].value_counts().rename_axis("event").reset_index()
    frequency = counts.sort_values(["count", "event"], ascending=[False, True])["event"]
    assert anchors[0] == ("(first touchpoint)", "")
    assert [value for _, value in anchors[1:]] == frequency.tolist()  # ties by name
    check_fallback(view)

    settings: dict = {"steps": 5, "top": 10}
    cut: dict = {}
    changes = [
        ("anchor", "site_visit", {"start": "site_visit"}),
        ("top", 3, {"top": 3}),
        ("steps", 3, {"steps": 3}),
        ("collapse_repeats", True, {"collapse_repeats": True}),
        ("direction", "backwards", {"start": None, "end": "site_visit"}),
        ("direction", "forwards", {"start": "site_visit", "end": None}),
        ("split", "rating", {"split": "rating"}),
        ("split", "", {"split": None}),
        ("segment", "channel = email", {}),
        ("start", dt.date(2024, 3, 1), {}),
        ("end", dt.date(2024, 9, 1), {}),
    ]
    for name, value, change in changes:
        before, shown = view.png, view.data
        view.controls[name].value = value
        settings |= change
        if name == "segment":
            cut["segment"] = ("channel", "email")
        if name in ("start", "end"):
            cut["since" if name == "start" else "until"] = value.isoformat()
        assert view.error is None, name
        assert_frame_equal(view.data, expected(events, **cut, **settings), obj=name)
        assert not view.data.equals(shown) and view.png != before, name
        check_fallback(view)
    assert view.params == {
        "anchor": "site_visit",
        "direction": "forwards",
        "steps": 3,
        "split": "",
        "segment": "channel = email",
        "start": "2024-03-01",
        "end": "2024-09-01",
        "collapse_repeats": True,
        "top": 3,
    }


@pytest.mark.parametrize(
    ("given", "flow", "cut"),
    [
        (
            {"anchor": "signup", "split": "converted", "conversion": "purchase", "steps": 4},
            {"start": "signup", "split": "converted", "conversion": "purchase", "steps": 4},
            {},
        ),
        (
            {
                "anchor": "site_visit",
                "direction": "backwards",
                "collapse_repeats": True,
                "top": 4,
                "segment": "channel = web",
                "start": "2024-02-01",
                "end": dt.date(2024, 11, 1),
            },
            {"end": "site_visit", "collapse_repeats": True, "top": 4},
            {"segment": ("channel", "web"), "since": "2024-02-01", "until": "2024-11-01"},
        ),
    ],
    ids=["split-converted", "backwards-collapsed-segment-dates"],
)
def test_journey_map_starts_from_the_given_settings(events, given, flow, cut):
    view = widgets.JourneyMap(events, **given)
    assert view.error is None
    assert_frame_equal(view.data, expected(events, **cut, **({"steps": 5} | flow)))


def test_journey_map_offers_splits_and_segments_the_log_has(events):
    view = widgets.JourneyMap(events)
    # No conversion event known: no "converted"; channel has 12 values, more panels than a
    # figure draws; rating 3 (and missing); referred_id is an id (each value once).
    assert view.controls["split"].options == (("(none)", ""), ("rating", "rating"))
    segments = [value for _, value in view.controls["segment"].options]
    email = int(events.loc[events["channel"] == "email", "customer_id"].nunique())
    assert segments[0] == "" and "channel = email" in segments and email > 0
    assert not any(s.startswith(("referred_id", "value", "customer_id")) for s in segments)
    assert len(segments) == 1 + events["channel"].nunique() + events["rating"].nunique()
    with_conversion = widgets.JourneyMap(events, conversion="purchase", steps=2)
    assert ("converted", "converted") in with_conversion.controls["split"].options
    with pytest.raises(JourneyParameterError, match="needs the conversion event"):
        widgets.JourneyMap(events, split="converted")
    with pytest.raises(JourneyParameterError, match="anchor='no_such_event' is not a choice"):
        widgets.JourneyMap(events, anchor="no_such_event")
    with pytest.raises(JourneyParameterError, match="steps must be 2 to 8"):
        widgets.JourneyMap(events, steps=9)


@pytest.mark.parametrize("engine", ["polars-lazy", "duckdb"])
def test_journey_map_reads_a_lazy_log(events, engine):
    require_module(engine.split("-")[0], "the 'scale' extra")
    log = to_engine(events, engine)
    view = widgets.JourneyMap(log, anchor="signup", segment="channel = web", split="rating")
    assert view.error is None
    want = expected(events, segment=("channel", "web"), start="signup", split="rating")
    assert_frame_equal(view.data, want)
    assert view.segments == describe_log(events)[1]


# -- without an anchor, backwards -------------------------------------------------------------


def test_backwards_without_an_anchor_shows_a_message(events, tmp_path):
    view = widgets.JourneyMap(events, direction="backwards")
    assert view.error == "backwards needs an anchor: pick the event the journeys lead to"
    assert view.data.empty and view.png is None and view.nodes.empty and view.boxes == {}
    assert view.image.value == b"" and view.image.layout.display == "none"
    shown = view.output.outputs[0]["data"]["text/plain"]
    assert shown == f"Cannot show these settings: {view.error}"
    assert "image/png" not in view._repr_mimebundle_()
    assert view.node_at(10, 10, 100, 100) is None
    with pytest.raises(JourneyParameterError, match="backwards without an anchor"):
        view.to_report_params(tmp_path / "p.yaml")

    view.controls["anchor"].value = "purchase"
    assert view.error is None
    assert_frame_equal(view.data, jl.path_flows(events, end="purchase"))
    check_fallback(view)


def test_no_customer_in_range_says_so(events):
    view = widgets.JourneyMap(events, anchor="signup", start="2030-01-01")
    assert "signup" in view.error and view.data.empty and view.png is None


# -- report parameters ------------------------------------------------------------------------


def test_to_report_params_writes_the_three_flow_parameters(events, tmp_path):
    # top is the widget's own setting: not written.
    view = widgets.JourneyMap(events, anchor="signup", direction="backwards", steps=4, top=5)
    written = view.to_report_params(tmp_path / "flows.yaml")
    assert written.read_text().startswith("# journey report --params flows.yaml")
    assert "01_touchpoints.ipynb" in written.read_text().splitlines()[0]
    assert read_parameters(params_file=written) == {
        "flow_anchor": "signup",
        "flow_direction": "backwards",
        "flow_steps": 4,
    }
    view.controls["anchor"].value = ""
    view.controls["direction"].value = "forwards"
    view.controls["steps"].value = 2
    assert read_parameters(params_file=view.to_report_params(tmp_path / "flows.yaml")) == {
        "flow_anchor": "",
        "flow_direction": "forwards",
        "flow_steps": 2,
    }
    assert widgets.JourneyMap.report_names == ("flow_anchor", "flow_direction", "flow_steps")
    # Notebook 01 declares the three, with types that take the widget's values.
    declared = notebook_parameters(NOTEBOOKS / widgets.JourneyMap.notebook)
    for name, value in read_parameters(
        params_file=view.to_report_params(tmp_path / "m.yaml")
    ).items():
        assert declared[name].accepts(value), (name, value)


# -- pixels to nodes, clicks and pointer moves ------------------------------------------------


@pytest.mark.parametrize("split", ["", "converted"])
def test_node_at_finds_each_node_at_any_displayed_size(events, split):
    view = widgets.JourneyMap(events, anchor="signup", conversion="purchase", split=split)
    centres, size = drawn_centres(view)
    assert png_size(view.png) == size
    nodes = jl.flow_nodes(view.data)
    grouping = nodes.columns[0] if split else None
    listed = {
        FlowNode(row.column, row.node, row[grouping] if grouping else None)
        for _, row in nodes.iterrows()
    }
    assert set(centres) == listed == set(view.boxes)
    width, height = size
    for shown in [(width, height), (width / 2, height / 2), (width * 0.7, height * 1.1)]:
        sx, sy = shown[0] / width, shown[1] / height
        for node, (x, y) in centres.items():
            assert view.node_at(x * sx, y * sy, *shown) == node
    # Empty space: the corner above the title, under the nodes, and just left of a column.
    assert view.node_at(1, 1, width, height) is None
    assert view.node_at(width / 2, height - 1, width, height) is None
    second = next(n for n in centres if n.column == 2)
    left = view.boxes[second][0]
    assert view.node_at(left - 5, centres[second][1], width, height) is None


def test_a_click_on_a_node_reanchors_keeping_the_direction(events):
    view = widgets.JourneyMap(events, anchor="signup", top=3)
    centres, (width, height) = centres_of(view)
    target = FlowNode(2, "purchase")
    assert target in centres
    shown = (width / 2, height / 2)
    x, y = centres[target]
    # Sent as ipyevents' comm delivers it to the Event widget's handlers.
    view.pointer._handle_mouse_msg(None, message("click", x / 2, y / 2, *shown), None)
    assert view.controls["anchor"].value == "purchase"
    assert view.controls["direction"].value == "forwards"
    assert_frame_equal(view.data, jl.path_flows(events, start="purchase", top=3))

    view.controls["direction"].value = "backwards"
    centres, (width, height) = centres_of(view)
    first = next(n for n in centres if n.column == 1 and n.label not in (*RESERVED, "purchase"))
    view.handle_event(message("click", *centres[first], width, height))
    assert view.controls["anchor"].value == first.label
    assert view.controls["direction"].value == "backwards"
    assert_frame_equal(view.data, jl.path_flows(events, end=first.label, top=3))

    # A node's label is as good as the node.
    label = next(n for n in view.label_boxes if n.label not in (*RESERVED, first.label))
    left, top, right, bottom = view.label_boxes[label]
    view.handle_event(message("click", (left + right) / 2, (top + bottom) / 2, *png_size(view.png)))
    assert view.controls["anchor"].value == label.label
    assert_frame_equal(view.data, jl.path_flows(events, end=label.label, top=3))


def test_a_click_on_end_other_start_or_empty_space_does_nothing(events):
    view = widgets.JourneyMap(events, top=3)
    centres, (width, height) = centres_of(view)
    reserved = [n for n in centres if n.label in ("(end)", "(other)")]
    assert {n.label for n in reserved} == {"(end)", "(other)"}
    data, png = view.data, view.png
    for node in reserved:
        view.handle_event(message("click", *centres[node], width, height))
        assert view.controls["anchor"].value == "" and view.data is data and view.png is png
    view.handle_event(message("click", 1, 1, width, height))
    view.handle_event({"type": "click"})  # a message without a position
    assert view.controls["anchor"].value == "" and view.data is data

    backwards = widgets.JourneyMap(events, anchor="signup", direction="backwards", steps=8)
    centres, (width, height) = centres_of(backwards)
    start = next(n for n in centres if n.label == "(start)")
    backwards.handle_event(message("click", *centres[start], width, height))
    assert backwards.controls["anchor"].value == "signup"


def test_pointing_at_a_node_shows_its_customers(events):
    view = widgets.JourneyMap(events, anchor="site_visit", conversion="purchase")
    nodes = jl.flow_nodes(view.data).set_index(["column", "node"])
    centres, (width, height) = centres_of(view)
    for node, (x, y) in centres.items():
        view.pointer._handle_mouse_msg(None, message("mousemove", x, y, width, height), None)
        count, share = nodes.loc[(node.column, node.label), ["count", "share"]]
        assert view.hover.value == (
            f"{node.label}, step {node.column}: {int(count):,} customers ({share:.1%})"
        )
    assert view.controls["anchor"].value == "site_visit"  # pointing is not clicking
    view.handle_event(message("mousemove", 1, 1, width, height))
    assert view.hover.value == ""

    view.controls["split"].value = "converted"
    centres, (width, height) = centres_of(view)
    nodes = jl.flow_nodes(view.data)
    node = next(n for n in centres if n.group is True and n.column == 2)
    view.handle_event(message("mousemove", *centres[node], width, height))
    row = nodes[(nodes["converted"]) & (nodes["column"] == 2) & (nodes["node"] == node.label)]
    count, share = int(row["count"].iloc[0]), float(row["share"].iloc[0])
    want = f"{node.label}, step 2, converted = True: {count:,} customers ({share:.1%})"
    assert view.hover.value == want
    view.controls["steps"].value = 3  # a new figure: the old hover text goes
    assert view.hover.value == ""


# -- any log ----------------------------------------------------------------------------------


def test_a_log_with_other_event_names_works_with_its_profile():
    log = jl.simulate(300, seed=1).events
    names = {
        "purchase": "order_placed",
        "site_visit": "page_view",
        "ad_view": "banner_seen",
        "signup": "account_created",
    }
    log = log.assign(event=log["event"].replace(names))
    profile = jl.profile(log)
    assert profile.conversion == "order_placed"
    view = widgets.JourneyMap(log, profile=profile, anchor="account_created", split="converted")
    assert view.error is None
    want = jl.path_flows(log, start="account_created", split="converted", profile=profile)
    assert_frame_equal(view.data, want)
    assert "purchase" not in [value for _, value in view.controls["anchor"].options]

    centres, (width, height) = centres_of(view)
    node = FlowNode(2, "order_placed", True)
    assert node in centres
    view.handle_event(message("click", *centres[node], width, height))
    assert view.controls["anchor"].value == "order_placed"
    want = jl.path_flows(log, start="order_placed", split="converted", profile=profile)
    assert_frame_equal(view.data, want)
    check_fallback(view)
