"""The customer timeline marks a customer's touchpoints inside a detected change (issue 18):
a hand-computed small case, the simulator's planted late-delivery incident against a
brute-force reference, segment changes, the figure's rings and shaded windows, and nothing
new without ``changes``."""

from __future__ import annotations

import dataclasses

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

import journey_lib as jl
from journey_lib import plots
from journey_lib.errors import JourneyDataError, JourneyParameterError
from journey_lib.monitor.detect import CHANGE_COLUMNS, Changes
from journey_lib.widgets import CustomerTimeline
from journey_lib.widgets.timeline import mark_changes

matplotlib.use("Agg")

RING = "inside a detected change"
LATE_FROM, LATE_TO = pd.Timestamp("2024-05-06", tz="UTC"), pd.Timestamp("2024-05-27", tz="UTC")


# -- a small case by hand ---------------------------------------------------------------------


def hand_changes() -> Changes:
    """Four changes of a weekly log: buy events (whole log, weeks of 1 and 8 January), the
    visit → buy conversion of plan basic (week of 8 January), the churn rate of plan (other)
    (week of 15 January, ongoing) and revenue of a region no table has."""
    table = pd.DataFrame(
        {
            "metric": ["events", "conversion", "churn rate", "revenue per customer"],
            "detail": ["buy", "visit → buy", None, None],
            "column": [None, "plan", "plan", "region"],
            "value": [None, "basic", "(other)", "north"],
            "start": pd.to_datetime(["2024-01-01", "2024-01-08", "2024-01-15", "2024-01-01"]),
            "periods": [2, 1, 1, 3],
            "ongoing": [False, False, True, False],
            "before": [5.0, 0.5, 0.0, 8.0],
            "during": [10.0, 0.3, 0.1, 10.0],
            "change": [5.0, -0.2, 0.1, 2.0],
            "relative": [1.0, -0.4, np.nan, 0.25],
            "score": [6.0, -5.0, 4.5, 4.2],
        }
    )
    table["start"] = table["start"].dt.tz_localize("UTC")
    table = table.reindex(columns=list(CHANGE_COLUMNS))
    series = pd.DataFrame(
        {"metric": "churn rate", "column": "plan", "value": ["basic", "(other)"]}
    ).reindex(columns=["metric", "detail", "column", "value", "period", "count", "base", "used"])
    return Changes(table, series, "week", 0.05, 0.1, 10, 1, 3.0, pd.Timedelta(weeks=8))


def hand_log() -> pd.DataFrame:
    rows = [
        (1, "2024-01-02", "visit", "basic"),
        (1, "2024-01-03", "buy", "basic"),
        (1, "2024-01-09", "visit", "basic"),
        (1, "2024-01-10", "cart", "basic"),
        (1, "2024-01-14 23:59", "buy", "basic"),
        (1, "2024-01-15 00:00", "buy", "basic"),
        (1, "2024-01-16", "visit", "basic"),
        (2, "2024-01-09", "buy", "gold"),
        (2, "2024-01-09 01:00", "visit", "gold"),
        (2, "2024-01-16", "cart", "gold"),
    ]
    log = pd.DataFrame(rows, columns=["customer_id", "timestamp", "event", "plan"])
    log["timestamp"] = pd.to_datetime(log["timestamp"], utc=True, format="ISO8601")
    return log


BUY = "Buy events up 100% from 1 Jan to 14 Jan 2024"
CONVERSION = (
    "Conversion from visit to buy down from 50.0% to 30.0% in the week of 8 Jan 2024 (plan basic)"
)
CHURN = "The weekly churn rate up from 0.0% to 10.0% since 15 Jan 2024 (plan (other))"
# Worked by hand: the buy window is 1-15 January (the 15th excluded), the conversion one 8-15
# January for plan basic (customer 1), the churn one 15-22 January for (other): customer 2,
# whose plan gold the series do not list. The region change marks nobody: no column.
HAND_CHANGE = [
    None,  # visit 2 Jan: no buy, before the conversion window
    BUY,
    CONVERSION,  # visit is step a
    None,  # cart is no step
    f"{BUY}; {CONVERSION}",
    None,  # 15 Jan 00:00: both windows have ended; basic is not (other)
    None,
    BUY,
    None,  # plan gold: not basic
    CHURN,  # the churn rate concerns every touchpoint
]


def test_hand_case_marks_what_the_definition_says():
    marked, windows = mark_changes(hand_log(), hand_changes())
    assert marked["in_change"].tolist() == [c is not None for c in HAND_CHANGE]
    assert [None if pd.isna(c) else c for c in marked["change"]] == HAND_CHANGE
    assert_frame_equal(marked.drop(columns=["in_change", "change"]), hand_log())
    assert windows[["customer_id", "change", "label"]].values.tolist() == [
        [1, 0, BUY],
        [2, 0, BUY],
        [1, 1, CONVERSION],
        [2, 2, CHURN],
    ]
    assert (
        windows["end"].tolist()
        == pd.to_datetime(
            ["2024-01-15", "2024-01-15", "2024-01-15", "2024-01-22"], utc=True
        ).tolist()
    )


def test_hand_case_reads_segments_from_a_table_first():
    log = hand_log()
    table = pd.DataFrame({"customer_id": [1, 2], "plan": ["basic", "gold"]})
    from_table, _ = mark_changes(log.drop(columns="plan"), hand_changes(), segments=table)
    assert [None if pd.isna(c) else c for c in from_table["change"]] == HAND_CHANGE
    # The table wins over the log's column; naive times are UTC.
    swapped = pd.DataFrame({"customer_id": [1, 2], "plan": ["gold", "basic"]})
    naive = log.assign(timestamp=log["timestamp"].dt.tz_localize(None))
    marked, _ = mark_changes(naive, hand_changes(), segments=swapped)
    # Customer 1 is gold, so (other): churn from 15 Jan, no conversion; customer 2 is basic.
    assert [None if pd.isna(c) else c for c in marked["change"]] == [
        *[None, BUY, None, None, BUY, CHURN, CHURN],
        *[f"{BUY}; {CONVERSION}", CONVERSION, None],
    ]
    # Neither has the column: segment changes mark nobody, the whole log's still do.
    bare, _ = mark_changes(log.drop(columns="plan"), hand_changes())
    assert [None if pd.isna(c) else c for c in bare["change"]] == [
        *[None, BUY, None, None, BUY, None, None],
        *[BUY, None, None],
    ]


def test_bad_arguments_are_named():
    log = hand_log()
    with pytest.raises(JourneyParameterError, match="each customer once"):
        mark_changes(log, hand_changes(), segments=pd.DataFrame({"customer_id": [1, 1]}))
    with pytest.raises(JourneyParameterError, match="customer_id and segment columns"):
        mark_changes(log, hand_changes(), segments=pd.DataFrame({"plan": ["basic"]}))
    with pytest.raises(JourneyParameterError, match="lack \\['event'\\]"):
        mark_changes(log.drop(columns="event"), hand_changes())
    with pytest.raises(JourneyParameterError, match="changes must be a Changes"):
        CustomerTimeline(log, [1], changes=hand_changes().table)
    twin = jl.timeline(log, [1], unmapped="ignore")
    with pytest.raises(JourneyDataError, match="in_change"):
        plots.timeline(twin, marks=mark_changes(log, hand_changes())[1])


# -- the simulator's planted incidents --------------------------------------------------------


@pytest.fixture(scope="module")
def sim():
    return jl.simulate(8000, seed=1, incidents=jl.example_incidents())


@pytest.fixture(scope="module")
def events(sim):
    return sim.events.merge(sim.customers[["customer_id", "segment", "acquisition_channel"]])


@pytest.fixture(scope="module")
def found(events):
    return jl.changes(
        events, jl.profile(events), period="week", by=["segment", "acquisition_channel"]
    )


def late_change(found: Changes, segment: str | None = None) -> int:
    """The row of the late-delivery change of the whole log (or of a segment)."""
    t = found.table
    same = (t["metric"] == "events") & (t["detail"] == "delivery_late")
    same &= t["column"].isna() if segment is None else t["value"] == segment
    (row,) = t.index[same]
    return int(row)


def brute_force(rows: pd.DataFrame, changes: Changes, customers: pd.DataFrame) -> list[list[int]]:
    """The changes each touchpoint is inside, one touchpoint and one change at a time, the
    customers' segment values read from the simulator's customer table."""
    step = pd.Timedelta(days=7 if changes.period == "week" else 1)
    values = customers.set_index("customer_id")
    inside = []
    for touch in rows.itertuples(index=False):
        hits = []
        for i, change in changes.table.iterrows():
            end = change["start"] + int(change["periods"]) * step
            if not change["start"] <= touch.timestamp < end:
                continue
            if change["metric"] == "events" and touch.event != change["detail"]:
                continue
            if change["metric"] == "conversion" and touch.event not in change["detail"].split(
                " → "
            ):
                continue
            if not pd.isna(change["column"]):
                if values.at[touch.customer_id, change["column"]] != change["value"]:
                    continue
            hits.append(i)
        inside.append(hits)
    return inside


def labels_of(view: CustomerTimeline) -> list[list[int]]:
    """The changes of each marked row of the widget, as rows of the changes table."""
    row_of = dict(zip(view.windows["label"], view.windows["change"], strict=True))
    return [[] if pd.isna(c) else [row_of[x] for x in c.split("; ")] for c in view.marked["change"]]


def late_customers(events: pd.DataFrame, segment: str, inside: bool) -> list:
    late = events[events["event"] == "delivery_late"]
    window = (late["timestamp"] >= LATE_FROM) & (late["timestamp"] < LATE_TO)
    return late.loc[(window == inside) & (late["segment"] == segment), "customer_id"].tolist()


def test_the_late_delivery_change_is_found(found):
    row = found.table.loc[late_change(found)]
    assert (row["start"], row["periods"], row["relative"] > 1) == (LATE_FROM, 3, True)


def test_marks_agree_with_a_brute_force_loop(events, found, sim):
    late = events[(events["event"] == "delivery_late") & (events["segment"] == "consumer")]
    early = late.loc[late["timestamp"] < LATE_FROM, "customer_id"].tolist()
    inside = late_customers(events, "small_business", inside=True)[0]
    customers = sim.customers[["customer_id", "segment", "acquisition_channel"]]
    view = CustomerTimeline(events, [inside], changes=found)
    assert view.error is None
    late = (view.marked["event"] == "delivery_late") & view.marked["timestamp"].between(
        LATE_FROM, LATE_TO, inclusive="left"
    )
    assert late.any() and view.marked.loc[late, "in_change"].all()
    assert view.marked.loc[late, "change"].str.contains("Delivery late events up").all()
    assert labels_of(view) == brute_force(view.data, found, customers)
    assert view.marked["in_change"].tolist() == [bool(h) for h in labels_of(view)]
    assert_frame_equal(view.marked.drop(columns=["in_change", "change"]), view.data)

    # Switching the customer marks the new customer's touchpoints.
    view.controls["customer"].value = str(early[0])
    assert view.customer == early[0] and (view.marked["customer_id"] == early[0]).all()
    before = (view.marked["event"] == "delivery_late") & (view.marked["timestamp"] < LATE_FROM)
    assert before.any() and not view.marked.loc[before, "in_change"].any()
    assert labels_of(view) == brute_force(view.data, found, customers)
    assert set(view.windows["customer_id"]) <= {early[0]}


def test_a_segment_change_marks_only_its_segment(events, found, sim):
    consumer_only = dataclasses.replace(
        found, table=found.table.loc[[late_change(found, "consumer")]].reset_index(drop=True)
    )
    consumer = late_customers(events, "consumer", inside=True)[0]
    business = late_customers(events, "small_business", inside=True)[0]
    for customer, marked in [(consumer, True), (business, False)]:
        rows = jl.timeline(events, [customer])
        late = (rows["event"] == "delivery_late") & rows["timestamp"].between(
            LATE_FROM, LATE_TO, inclusive="left"
        )
        flags, _ = mark_changes(rows, consumer_only)
        assert flags["in_change"].tolist() == (late & marked).tolist()
        # The whole log's change marks both.
        whole = dataclasses.replace(found, table=found.table.loc[[late_change(found)]])
        assert mark_changes(rows, whole)[0]["in_change"].tolist() == late.tolist()
        # The same from a segment table, for a log without the column; without either,
        # the segment change marks nobody.
        bare = jl.timeline(sim.events, [customer])
        table = sim.customers[["customer_id", "segment"]]
        from_table, _ = mark_changes(bare, consumer_only, segments=table)
        assert from_table["in_change"].tolist() == flags["in_change"].tolist()
        assert not mark_changes(bare, consumer_only)[0]["in_change"].any()


# -- the figure -------------------------------------------------------------------------------


def test_the_figure_rings_the_marked_touchpoints_and_shades_the_windows(events, found):
    customer = late_customers(events, "consumer", inside=True)[0]
    view = CustomerTimeline(events, [customer], changes=found)
    figure = view.draw(view.data, view.params)
    ax = figure.axes[0]
    rings = [c for c in ax.collections if c.get_label() == RING]
    (ring,) = rings
    marked = view.marked[view.marked["in_change"]]
    np.testing.assert_allclose(
        ring.get_offsets(), np.column_stack([marked["days_since_first"], np.zeros(len(marked))])
    )
    assert (ring.get_facecolors().size == 0) or (ring.get_facecolors()[:, 3] == 0).all()
    first = view.data["timestamp"].min()
    left, right = ax.get_xlim()
    want = np.column_stack(
        [
            ((view.windows["start"] - first) / pd.Timedelta(days=1)).clip(left, right),
            ((view.windows["end"] - first) / pd.Timedelta(days=1)).clip(left, right),
        ]
    )
    spans = np.array([[p.get_x(), p.get_x() + p.get_width()] for p in ax.patches])
    np.testing.assert_allclose(spans, want)
    assert len(view.windows) >= 1
    np.testing.assert_allclose([p.get_y() + p.get_height() / 2 for p in ax.patches], 0, atol=1e-12)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[-2:] == [RING, "detected change window"]
    assert "inside detected changes" in view.text() and "Delivery late events up" in view.text()
    plt.close(figure)


def test_without_changes_nothing_changes(events, found):
    customer = late_customers(events, "consumer", inside=True)[0]
    plain = CustomerTimeline(events, [customer])
    assert not plain.marked["in_change"].any() and plain.marked["change"].isna().all()
    assert plain.windows.empty and "inside detected changes" not in plain.text()
    drawn = plain.draw(plain.data, plain.params)
    direct = plots.timeline(jl.timeline(events, [customer]))
    a, b = drawn.axes[0], direct.axes[0]
    assert len(a.collections) == len(b.collections) and not a.patches and not b.patches
    for x, y in zip(a.collections, b.collections, strict=True):
        np.testing.assert_array_equal(x.get_offsets(), y.get_offsets())
        assert x.get_label() == y.get_label()
    assert [t.get_text() for t in a.get_legend().get_texts()] == [
        t.get_text() for t in b.get_legend().get_texts()
    ]
    assert a.get_xlim() == b.get_xlim()
    # A customer outside every change: the figure with changes draws nothing new either.
    marked_view = CustomerTimeline(events, [customer], changes=found)
    early = dataclasses.replace(found, table=found.table.iloc[:0])
    quiet = CustomerTimeline(events, [customer], changes=early)
    assert not quiet.marked["in_change"].any() and quiet.windows.empty
    figure = quiet.draw(quiet.data, quiet.params)
    assert len(figure.axes[0].collections) == len(direct.axes[0].collections)
    assert not figure.axes[0].patches
    assert marked_view.marked["in_change"].any()
    for f in (drawn, direct, figure):
        plt.close(f)
