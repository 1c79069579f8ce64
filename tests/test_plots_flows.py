"""The journey-map figures of journey_lib.plots.flows drawn against their data twins: node
bars as tall as their counts on one scale, bands as wide as their links at both ends, labels
that never overlap at 6 columns of 12 nodes, an event's colour the same in every figure,
reserved nodes grey, one panel per group, clear errors; the touchpoint graph read left to
right. Twins are built by hand, and drawn once each from the simulator's log."""

from __future__ import annotations

import zlib

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from engines import require_module
from matplotlib.colors import to_hex, to_rgb
from matplotlib.figure import Figure

import journey_lib as jl
from journey_lib import plots
from journey_lib.errors import JourneyDataError, JourneyParameterError
from journey_lib.plots._style import EVENT_PALETTE, FOLDED, PALETTE, event_colour

matplotlib.use("Agg")

EVENTS = [
    "site_visit",
    "ad_view",
    "product_view",
    "purchase",
    "email_open",
    "signup",
    "support_ticket",
    "generic_offer",
    "personalised_offer",
    "referral",
    "review",
    "cart_abandoned",
    "app_install",
    "newsletter_signup",
    "store_visit",
    "coupon_redeemed",
]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def wide_flow(columns: int = 6, nodes: int = 12, sequences: int = 5000, seed: int = 0):
    """A path_flows twin of ``columns`` columns with ``nodes`` nodes each: a long tail of
    events (Zipf-like) folded to ``nodes - 2`` named ones, ``(other)`` and ``(end)``."""
    rng = np.random.default_rng(seed)
    weights = 1 / np.arange(1, len(EVENTS) + 1) ** 1.1
    lengths = rng.geometric(0.2, sequences)
    labels = np.empty((sequences, columns), dtype=object)
    for c in range(columns):
        drawn = rng.choice(EVENTS, size=sequences, p=weights / weights.sum())
        labels[:, c] = np.where(lengths > c, drawn, "(end)")
        named = pd.Series(drawn[lengths > c]).value_counts().index[: nodes - 2]
        folded = ~np.isin(labels[:, c], [*named, "(end)"])
        labels[folded, c] = "(other)"
    frame = pd.DataFrame(labels)
    links = []
    for c in range(columns - 1):
        going = frame[frame[c] != "(end)"].groupby([c, c + 1]).size()
        links += [(c + 1, s, t, n) for (s, t), n in going.items()]
    twin = pd.DataFrame(links, columns=["step", "source", "target", "count"])
    return twin.assign(share=twin["count"] / sequences)


def conserved_flow():
    """Ten journeys over three columns, none ending: every column holds all ten."""
    return pd.DataFrame(
        {
            "step": [1, 1, 1, 2, 2, 2],
            "source": ["ad_view", "ad_view", "site_visit", "ad_view", "site_visit", "site_visit"],
            "target": ["site_visit", "ad_view", "site_visit", "purchase", "purchase", "signup"],
            "count": [4, 2, 4, 2, 5, 3],
            "share": [0.4, 0.2, 0.4, 0.2, 0.5, 0.3],
        }
    ).astype({"step": "int64", "count": "int64"})


def by_gid(ax, prefix):
    return {p.get_gid(): p for p in ax.patches if (p.get_gid() or "").startswith(prefix)}


def node_heights(ax):
    return {gid: bar.get_height() for gid, bar in by_gid(ax, "node:").items()}


def band_ends(band):
    """A band's widths at its source and its target (see _sankey.band)."""
    v = band.get_path().vertices
    return v[0, 1] - v[7, 1], v[3, 1] - v[4, 1]


def texts(ax, prefix):
    return [t for t in ax.texts if (t.get_gid() or "").startswith(prefix)]


def assert_no_overlap(figure, items):
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in items]
    clashes = [
        (a, b)
        for i, (a, box) in enumerate(boxes)
        for b, other in boxes[i + 1 :]
        if box.overlaps(other)
    ]
    assert clashes == []


def assert_fonts_readable(figure):
    sizes = [t.get_fontsize() for ax in figure.axes for t in ax.texts]
    sizes += [ax.title.get_fontsize() for ax in figure.axes if ax.get_title()]
    assert min(sizes) >= 10


# --------------------------------------------------------------------------------------------
# path_flows
# --------------------------------------------------------------------------------------------


def test_node_heights_follow_the_counts_on_one_scale_in_every_column():
    figure = plots.path_flows(conserved_flow())
    assert isinstance(figure, Figure)
    heights = node_heights(figure.axes[0])
    twin = conserved_flow()
    leaving = twin.groupby(["step", "source"])["count"].sum()
    entering = twin.groupby([twin["step"] + 1, "target"])["count"].sum()
    counts = {f"node:{c}:{label}": n for (c, label), n in leaving.items() if c == 1}
    counts |= {f"node:{c}:{label}": n for (c, label), n in entering.items()}
    assert set(heights) == set(counts)
    scale = np.array([heights[g] / counts[g] for g in counts])
    np.testing.assert_allclose(scale, scale[0])
    columns = pd.Series(heights).groupby(lambda g: g.split(":")[1]).sum()
    np.testing.assert_allclose(columns.to_numpy(), columns.iloc[0])  # ten journeys each


def test_band_ends_are_as_wide_as_their_link_on_the_node_scale():
    twin = wide_flow(columns=4, nodes=8, sequences=800)
    ax = plots.path_flows(twin).axes[0]
    heights = node_heights(ax)
    per_count = (
        heights["node:1:site_visit"]
        / twin.query("step == 1 and source == 'site_visit'")["count"].sum()
    )
    bands = by_gid(ax, "link:")
    assert len(bands) == len(twin)
    for row in twin.itertuples():
        start, end = band_ends(bands[f"link:{row.step}:{row.source}:{row.target}"])
        assert start == pytest.approx(row.count * per_count)
        assert end == pytest.approx(row.count * per_count)


def test_bands_meet_a_node_in_the_order_of_their_other_end():
    ax = plots.path_flows(conserved_flow()).axes[0]
    bands = by_gid(ax, "link:2:site_visit:")
    nodes = by_gid(ax, "node:3:")
    order_at_source = sorted(bands, key=lambda g: -bands[g].get_path().vertices[0, 1])
    order_of_targets = sorted(bands, key=lambda g: -nodes["node:3:" + g.split(":")[-1]].get_y())
    assert order_at_source == order_of_targets


def test_a_column_runs_from_the_largest_node_down_then_other_then_end():
    twin = pd.DataFrame(
        {
            "step": [1, 1, 1, 1],
            "source": ["ad_view"] * 4,
            "target": ["(end)", "(other)", "signup", "site_visit"],
            "count": [50, 30, 5, 20],
        }
    ).assign(share=lambda t: t["count"] / 105)
    ax = plots.path_flows(twin).axes[0]
    column = by_gid(ax, "node:2:")
    top_down = sorted(column, key=lambda g: -column[g].get_y())
    assert top_down == ["node:2:site_visit", "node:2:signup", "node:2:(other)", "node:2:(end)"]


def test_labels_never_overlap_at_6_columns_of_12_nodes():
    twin = wide_flow()
    assert twin.groupby("step")["target"].nunique().max() == 12
    figure = plots.path_flows(twin)
    ax = figure.axes[0]
    labels = texts(ax, "label:")
    nodes = by_gid(ax, "node:")
    assert len(labels) == len(nodes) == 6 * 12 - 1  # column 1 has no (end)
    assert_no_overlap(figure, labels + texts(ax, "header:"))
    assert [t.get_text() for t in texts(ax, "header:")] == [f"step {i}" for i in range(1, 7)]
    site = next(t.get_text() for t in labels if t.get_gid() == "label:1:site_visit")
    n = twin.query("step == 1 and source == 'site_visit'")["count"].sum()
    assert site == f"site_visit  {n:,} ({n / 5000:.0%})"
    assert_fonts_readable(figure)


def test_labels_of_thin_nodes_are_moved_apart_with_a_leader_line():
    counts = [900, 40, 3, 2, 2, 1, 1, 1]
    targets = ["site_visit", "signup", "purchase", "review", "referral", "(other)", "app", "(end)"]
    twin = pd.DataFrame(
        {"step": 1, "source": "ad_view", "target": targets, "count": counts}
    ).assign(share=lambda t: t["count"] / sum(counts))
    figure = plots.path_flows(twin)
    ax = figure.axes[0]
    assert_no_overlap(figure, texts(ax, "label:"))
    assert len(texts(ax, "label:")) == len(targets) + 1
    assert len(ax.lines) >= 3  # leaders from the thinnest nodes to their labels


def test_an_event_keeps_its_colour_in_figures_of_other_nodes():
    one = plots.path_flows(conserved_flow()).axes[0]
    other = pd.DataFrame(
        {
            "step": [1, 1, 2],
            "source": ["email_open", "email_open", "purchase"],
            "target": ["purchase", "(end)", "review"],
            "count": [3, 1, 3],
            "share": [0.75, 0.25, 0.75],
        }
    )
    two = plots.path_flows(other).axes[0]
    first = by_gid(one, "node:3:purchase")["node:3:purchase"].get_facecolor()
    second = by_gid(two, "node:2:purchase")["node:2:purchase"].get_facecolor()
    assert to_hex(first) == to_hex(second) == event_colour("purchase").lower()
    band = by_gid(two, "link:2:purchase:review")["link:2:purchase:review"]
    assert to_hex(band.get_facecolor(), keep_alpha=False) == to_hex(first)  # by source
    assert band.get_facecolor()[3] < 1  # see-through


def test_event_colours_are_fixed_and_reserved_labels_grey():
    # Fixed, whatever the process (Python's own str hash changes from run to run): pinned.
    assert event_colour("purchase") == "#AA4499"
    assert event_colour("site_visit") == EVENT_PALETTE[zlib.crc32(b"site_visit") % 15]
    assert set(map(event_colour, EVENTS)) <= set(EVENT_PALETTE)
    assert len(set(map(event_colour, EVENTS))) >= 8  # a hash, not one colour
    assert EVENT_PALETTE[:6] == PALETTE[:6]  # Okabe and Ito first
    twin = pd.DataFrame(
        {
            "step": [1, 1, 1],
            "source": ["(start)", "(start)", "(other)"],
            "target": ["purchase", "(end)", "purchase"],
            "count": [4, 1, 2],
            "share": [4 / 7, 1 / 7, 2 / 7],
        }
    )
    bars = by_gid(plots.path_flows(twin).axes[0], "node:")
    for gid in ("node:1:(start)", "node:1:(other)", "node:2:(end)"):
        assert to_rgb(bars[gid].get_facecolor()) == pytest.approx(to_rgb(FOLDED))
    assert to_rgb(bars["node:2:purchase"].get_facecolor()) != pytest.approx(to_rgb(FOLDED))


def grouped(values):
    parts = [conserved_flow().assign(converted=v) for v in values]
    frame = pd.concat(parts, ignore_index=True)
    return frame[["converted", *conserved_flow().columns]]


def test_one_panel_per_group_titled_with_its_journeys():
    figure = plots.path_flows(grouped([True, False]))
    assert len(figure.axes) == 2
    titles = [ax.get_title() for ax in figure.axes]
    assert titles == ["converted = True: 10 journeys", "converted = False: 10 journeys"]
    assert "converted" in figure.get_suptitle()
    shown = plots.path_flows(grouped([True, False]), group=False)
    assert len(shown.axes) == 1 and "converted = False" in shown.axes[0].get_title()
    _, ax = plt.subplots()
    assert plots.path_flows(grouped([True, False]), group="True", ax=ax) is ax.figure


def test_too_many_groups_or_an_unknown_group_name_the_values():
    with pytest.raises(JourneyParameterError, match=r"at most 4.*\['a', 'b', 'c', 'd', 'e'\]"):
        plots.path_flows(grouped(list("abcde")))
    with pytest.raises(JourneyParameterError, match="not a value of 'converted'"):
        plots.path_flows(grouped([True, False]), group="maybe")
    with pytest.raises(JourneyParameterError, match="no grouping column"):
        plots.path_flows(conserved_flow(), group=True)


def test_empty_tables_and_missing_columns_are_clear_errors():
    with pytest.raises(JourneyDataError, match="empty"):
        plots.path_flows(conserved_flow().iloc[:0])
    with pytest.raises(JourneyDataError, match=r"path_flows.*\['share'\]"):
        plots.path_flows(conserved_flow().drop(columns="share"))
    with pytest.raises(JourneyDataError, match="empty"):
        plots.stage_flows(stage_twin().iloc[:0])
    with pytest.raises(JourneyDataError, match=r"stage_flows.*\['move'\]"):
        plots.stage_flows(stage_twin().drop(columns="move"))
    with pytest.raises(JourneyDataError, match="empty"):
        plots.transition_graph(pd.DataFrame({"from": [], "to": [], "probability": []}))
    with pytest.raises(JourneyDataError, match=r"\['to', 'probability \(or count\)'\]"):
        plots.transition_graph(pd.DataFrame({"from": ["a"]}))


def test_a_polars_twin_draws_the_same_figure():
    polars = require_module("polars", "a Polars twin is drawn like its pandas one")
    twin = conserved_flow()
    expected = node_heights(plots.path_flows(twin).axes[0])
    assert node_heights(plots.path_flows(polars.from_pandas(twin)).axes[0]) == expected


def test_the_simulators_path_flows_are_drawn_link_by_link():
    events = jl.simulate(500, seed=0).events
    twin = jl.path_flows(events, steps=6)
    figure = plots.path_flows(twin)
    ax = figure.axes[0]
    bands = by_gid(ax, "link:")
    assert set(bands) == {f"link:{r.step}:{r.source}:{r.target}" for r in twin.itertuples()}
    assert_no_overlap(figure, texts(ax, "label:"))
    split = jl.path_flows(events, steps=4, split="converted", conversion="purchase")
    assert len(plots.path_flows(split).axes) == split["converted"].nunique()


# --------------------------------------------------------------------------------------------
# stage_flows
# --------------------------------------------------------------------------------------------

STAGES = ["Awareness", "Consideration", "Purchase"]


def stage_twin():
    """Three months: 10 newcomers, then moves (one back), an exit and a pause."""
    rows = [
        ("2024-01-01", "(new)", "Awareness", 8, "new"),
        ("2024-01-01", "(new)", "Consideration", 2, "new"),
        ("2024-02-01", "(new)", "Awareness", 4, "new"),
        ("2024-02-01", "Awareness", "Awareness", 3, "stay"),
        ("2024-02-01", "Awareness", "Consideration", 4, "forward"),
        ("2024-02-01", "Awareness", "(exit)", 1, "exit"),
        ("2024-02-01", "Consideration", "Purchase", 2, "forward"),
        ("2024-03-01", "Awareness", "Awareness", 5, "stay"),
        ("2024-03-01", "Awareness", "(inactive)", 2, "pause"),
        ("2024-03-01", "Consideration", "Awareness", 1, "back"),
        ("2024-03-01", "Consideration", "Purchase", 3, "forward"),
        ("2024-03-01", "Purchase", "(exit)", 2, "exit"),
    ]
    frame = pd.DataFrame(rows, columns=["period", "source", "target", "count", "move"])
    return frame.assign(period=pd.to_datetime(frame["period"], utc=True))


def test_stage_nodes_and_bands_follow_the_counts_on_one_scale():
    twin = stage_twin()
    ax = plots.stage_flows(twin).axes[0]
    heights = node_heights(ax)
    expected = {
        "node:2024-01:Awareness": 8,
        "node:2024-01:Consideration": 2,
        "node:2024-02:Awareness": 7,
        "node:2024-02:Consideration": 4,
        "node:2024-02:Purchase": 2,
        "node:2024-03:Awareness": 6,
        "node:2024-03:Purchase": 3,
        "node:2024-03:(inactive)": 2,
        "node:2024-01:(new)": 10,
        "node:2024-02:(new)": 4,
        "node:2024-02:(exit)": 1,
        "node:2024-03:(exit)": 2,
    }
    assert heights.keys() == expected.keys()
    scale = np.array([heights[g] / n for g, n in expected.items()])
    np.testing.assert_allclose(scale, scale[0])
    bands = by_gid(ax, "link:")
    assert set(bands) == {f"link:{p:%Y-%m}:{s}:{t}" for p, s, t in twin.iloc[:, :3].to_numpy()}
    for row in twin.itertuples():
        ends = band_ends(bands[f"link:{row.period:%Y-%m}:{row.source}:{row.target}"])
        assert ends == pytest.approx((row.count * scale[0], row.count * scale[0]))


def test_moves_back_are_hatched_and_stages_keep_their_journey_colours():
    ax = plots.stage_flows(stage_twin()).axes[0]
    bands = by_gid(ax, "link:")
    back = bands["link:2024-03:Consideration:Awareness"]
    assert back.get_hatch() and to_hex(back.get_edgecolor(), keep_alpha=False) == "#c0392b"
    assert not bands["link:2024-03:Consideration:Purchase"].get_hatch()
    nodes = by_gid(ax, "node:")
    for i, stage in enumerate(STAGES):
        assert to_hex(nodes[f"node:2024-02:{stage}"].get_facecolor()) == PALETTE[i].lower()
    for gid in ("node:2024-03:(inactive)", "node:2024-02:(new)", "node:2024-02:(exit)"):
        assert to_rgb(nodes[gid].get_facecolor()) == pytest.approx(to_rgb(FOLDED))
    tops = {s: nodes[f"node:2024-02:{s}"].get_y() for s in STAGES}
    assert sorted(tops, key=lambda s: -tops[s]) == STAGES  # journey order, top down


def test_stage_flows_draw_the_last_periods_with_their_labels():
    figure = plots.stage_flows(stage_twin(), periods=2)
    ax = figure.axes[0]
    assert [t.get_text() for t in texts(ax, "header:")] == ["2024-02", "2024-03"]
    assert "month" in ax.get_title()
    assert not by_gid(ax, "node:2024-01")
    assert_no_overlap(figure, texts(ax, "label:") + texts(ax, "name:") + texts(ax, "header:"))
    assert_fonts_readable(figure)
    reordered = plots.stage_flows(stage_twin(), stages=STAGES[::-1]).axes[0]
    nodes = by_gid(reordered, "node:2024-02:")
    tops = {s: nodes[f"node:2024-02:{s}"].get_y() for s in STAGES}
    assert sorted(tops, key=lambda s: -tops[s]) == STAGES[::-1]
    with pytest.raises(JourneyParameterError, match="periods"):
        plots.stage_flows(stage_twin(), periods=0)


def test_the_simulators_stage_flows_are_drawn_row_by_row():
    twin = jl.stage_flows(jl.simulate(500, seed=0).events)
    figure = plots.stage_flows(twin)
    ax = figure.axes[0]
    starts = sorted(twin["period"].unique())[-6:]
    shown = twin[twin["period"].isin(starts[1:]) | (twin["source"] == "(new)")]
    shown = shown[shown["period"].isin(starts)]
    bands = by_gid(ax, "link:")
    assert set(bands) == {
        f"link:{r.period:%Y-%m}:{r.source}:{r.target}" for r in shown.itertuples()
    }
    assert_no_overlap(figure, texts(ax, "label:") + texts(ax, "name:"))


# --------------------------------------------------------------------------------------------
# transition_graph
# --------------------------------------------------------------------------------------------


def chain():
    return pd.DataFrame(
        {
            "from": ["(start)", "a", "a", "b", "b", "c", "c", "b"],
            "to": ["a", "b", "(end)", "c", "(end)", "(end)", "c", "a"],
            "probability": [1.0, 0.8, 0.2, 0.6, 0.37, 0.7, 0.3, 0.03],
        }
    )


def centres(ax):
    return {gid[5:]: p.center for gid, p in by_gid(ax, "node:").items()}


def test_the_graph_reads_left_to_right_from_start_to_end():
    figure = plots.transition_graph(chain())
    ax = figure.axes[0]
    x = {state: c[0] for state, c in centres(ax).items()}
    assert x["(start)"] < x["a"] < x["b"] < x["c"] < x["(end)"]
    assert x["(start)"] == min(x.values()) and x["(end)"] == max(x.values())
    assert ax.get_title()
    assert_fonts_readable(figure)


def test_weak_edges_are_left_out_and_widths_follow_probabilities():
    ax = plots.transition_graph(chain(), min_probability=0.05).axes[0]
    edges = by_gid(ax, "edge:")
    assert "edge:b:a" not in edges  # 3%
    assert "edge:c:c" in edges  # a repeat, drawn as a loop
    probability = chain().set_index(["from", "to"])["probability"]
    drawn = sorted(
        (g for g in edges if g.split(":")[1] != g.split(":")[2]),
        key=lambda g: probability[tuple(g.split(":")[1:])],
    )
    widths = [edges[g].get_linewidth() for g in drawn]
    assert widths == sorted(widths) and widths[0] < widths[-1]
    labels = {t.get_gid(): t.get_text() for t in texts(ax, "edge-label:")}
    assert labels["edge-label:a:b"] == "80%" and labels["edge-label:c:c"] == "30%"
    assert "edge:b:a" in by_gid(plots.transition_graph(chain(), min_probability=0).axes[0], "e")


def test_counts_are_shown_as_probabilities_and_rare_states_folded_with_a_note():
    counts = pd.DataFrame(
        {
            "from": ["(start)", "(start)", "(start)", "a", "b", "rare"],
            "to": ["a", "b", "rare", "(end)", "(end)", "(end)"],
            "count": [60, 30, 1, 60, 30, 1],
        }
    )
    ax = plots.transition_graph(counts, top=2).axes[0]
    labels = {t.get_gid(): t.get_text() for t in texts(ax, "edge-label:")}
    assert labels["edge-label:(start):a"] == "66%"
    assert "node:rare" not in by_gid(ax, "node:")
    note = texts(ax, "note")[0].get_text().replace("\n", " ")
    assert "1 rarer state (" in note and "rare." in note
    sizes = {gid: p.get_radius() for gid, p in by_gid(ax, "node:").items()}
    assert sizes["node:a"] > sizes["node:b"]  # traffic
    with pytest.raises(JourneyParameterError, match="min_probability"):
        plots.transition_graph(counts, min_probability=2)


def test_the_simulators_transition_graph():
    twin = jl.transition_matrix(jl.simulate(500, seed=0).events)
    figure = plots.transition_graph(twin)
    ax = figure.axes[0]
    x = {state: c[0] for state, c in centres(ax).items()}
    assert len(x) == 14  # the 12 busiest and (start), (end)
    assert min(x, key=x.get) == "(start)" and max(x, key=x.get) == "(end)"
    assert_no_overlap(figure, texts(ax, "edge-label:") + texts(ax, "name:"))
