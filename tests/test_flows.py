"""path_flows, funnel_dropoff_paths, flow_nodes and compare_flows: hand-worked logs, a
plain-loop reference on random logs, parity on every engine, the shared real logs, bad input.

Times in the hand-made logs are minutes after 2024-01-01 00:00 UTC.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict

import numpy as np
import pandas as pd
import pytest
from engines import ENGINES, assert_same_frame, collect, parity, shared_file
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import journey_lib as jl
from journey_lib._intervals import rate_difference
from journey_lib.analytics.flows import (
    DROPPED,
    OTHER,
    WENT_ON,
    compare_flows,
    flow_nodes,
    funnel_dropoff_paths,
    path_flows,
)
from journey_lib.analytics.paths import END, START
from journey_lib.errors import JourneyDataError, JourneyParameterError

BASE = pd.Timestamp("2024-01-01", tz="UTC")
LINK = ["step", "source", "target"]


def log(*rows, platform=None) -> pd.DataFrame:
    """A touchpoint log from (customer, minute, event) tuples."""
    frame = pd.DataFrame(rows, columns=["customer_id", "minute", "event"])
    frame["customer_id"] = frame["customer_id"].astype("int64")
    stamps = BASE + pd.to_timedelta(frame.pop("minute").astype("int64"), unit="min")
    frame = frame.assign(timestamp=stamps.astype("datetime64[us, UTC]"))
    frame = frame[["customer_id", "timestamp", "event"]].astype({"event": "str"})
    if platform is not None:
        frame["platform"] = frame["customer_id"].map(platform).astype("str")
    return frame


# 1: home, cart, cart, purchase; 2: home, cart, support; 3: cart; 4: home, search.
SHOP = log(
    (1, 0, "home"),
    (1, 1, "cart"),
    (1, 2, "cart"),
    (1, 3, "purchase"),
    (2, 0, "home"),
    (2, 5, "cart"),
    (2, 9, "support"),
    (3, 4, "cart"),
    (4, 0, "home"),
    (4, 1, "search"),
)


def links(table) -> dict:
    frame = collect(table)
    group = [c for c in frame.columns if c not in (*LINK, "count", "share")]
    return {tuple(r[c] for c in (*group, *LINK)): r["count"] for _, r in frame.iterrows()}


# --- hand-worked -----------------------------------------------------------------------


def test_forwards_from_a_start_event_hand_computed():
    flows = path_flows(SHOP, start="cart", steps=3)
    assert links(flows) == {
        (1, "cart", "cart"): 1,
        (2, "cart", "purchase"): 1,
        (1, "cart", "support"): 1,
        (2, "support", END): 1,
        (1, "cart", END): 1,
    }
    # Customer 4 never reaches the cart: three sequences in the flow.
    assert flows["share"].tolist() == pytest.approx([1 / 3] * 5)
    assert list(flows.columns) == ["step", "source", "target", "count", "share"]


def test_from_the_first_touchpoint_when_no_anchor_is_given():
    flows = path_flows(SHOP, steps=2)
    assert links(flows) == {
        (1, "home", "cart"): 2,
        (1, "home", "search"): 1,
        (1, "cart", END): 1,
    }


def test_backwards_to_an_end_event_hand_computed():
    flows = path_flows(SHOP, end="purchase", steps=4)
    # Customer 1 only: home, cart, cart, purchase fills four columns exactly.
    assert links(flows) == {
        (1, "home", "cart"): 1,
        (2, "cart", "cart"): 1,
        (3, "cart", "purchase"): 1,
    }
    flows = path_flows(SHOP, end="cart", steps=3)
    # The first cart: customer 1 and 2 after home, customer 3 with nothing before it.
    assert links(flows) == {(1, START, "home"): 2, (2, "home", "cart"): 2, (2, START, "cart"): 1}


def test_between_a_start_and_an_end_stops_at_the_end():
    flows = path_flows(SHOP, start="home", end="purchase", steps=5)
    assert links(flows) == {
        (1, "home", "cart"): 1,
        (2, "cart", "cart"): 1,
        (3, "cart", "purchase"): 1,
    }
    # Cut by the columns before the end is reached: the flow simply stops.
    assert links(path_flows(SHOP, start="home", end="purchase", steps=2)) == {
        (1, "home", "cart"): 1
    }


def test_collapsed_repeats():
    flows = path_flows(SHOP, start="home", steps=4, collapse_repeats=True)
    assert links(flows)[(2, "cart", "purchase")] == 1
    assert (2, "cart", "cart") not in links(flows)


def test_the_long_tail_folds_into_other_per_column():
    rows = [(c, 0, "home") for c in range(10)]
    rows += [(c, 1, ["a", "a", "a", "a", "b", "b", "b", "c", "c", "d"][c]) for c in range(10)]
    flows = path_flows(log(*rows), start="home", steps=3, top=2)
    assert links(flows) == {
        (1, "home", "a"): 4,
        (1, "home", "b"): 3,
        (1, "home", OTHER): 3,
        (2, "a", END): 4,
        (2, "b", END): 3,
        (2, OTHER, END): 3,
    }
    # A share floor: c (2 of 10) stays at 20%, d (1 of 10) does not.
    kept = links(path_flows(log(*rows), start="home", steps=2, top=None, min_share=0.2))
    assert kept == {
        (1, "home", "a"): 4,
        (1, "home", "b"): 3,
        (1, "home", "c"): 2,
        (1, "home", OTHER): 1,
    }


def test_split_by_conversion_after_the_anchor():
    flows = path_flows(SHOP, start="home", steps=2, split="converted", conversion="purchase")
    assert flows.columns[0] == "converted"
    assert links(flows) == {
        (False, 1, "home", "cart"): 1,
        (False, 1, "home", "search"): 1,
        (True, 1, "home", "cart"): 1,
    }
    # Shares are within each group.
    assert flows.loc[~flows["converted"], "share"].tolist() == [0.5, 0.5]
    # The profile names the conversion.
    profile = jl.LogProfile(conversion="purchase")
    assert links(path_flows(SHOP, start="home", steps=2, split="converted", profile=profile)) == (
        links(flows)
    )


def test_split_by_a_property_at_the_anchor():
    shop = SHOP.assign(platform=SHOP["customer_id"].map({1: "web", 2: "app", 3: "app", 4: "web"}))
    flows = path_flows(shop, start="cart", steps=2, split="platform")
    assert links(flows) == {
        ("app", 1, "cart", "support"): 1,
        ("app", 1, "cart", END): 1,
        ("web", 1, "cart", "cart"): 1,
    }


def test_sessions_are_sequences_of_their_own():
    sessions = jl.sessionize(SHOP, "3min")
    flows = path_flows(sessions, steps=2, within="session")
    # Customer 2's three rows are three sessions; customer 1's are one.
    assert links(flows)[(1, "cart", END)] == 2
    assert links(flows)[(1, "support", END)] == 1


def test_nodes_add_up_from_the_links():
    flows = path_flows(SHOP, start="home", steps=4)
    nodes = flow_nodes(flows)
    assert nodes.query("column == 1")[["node", "count"]].values.tolist() == [["home", 3]]
    column_2 = dict(nodes.query("column == 2")[["node", "count"]].values.tolist())
    assert column_2 == {"cart": 2, "search": 1}
    # Every sequence is on one node of the anchor's column.
    assert nodes.query("column == 1")["share"].sum() == pytest.approx(1)


# --- a plain loop, on random logs -----------------------------------------------------


def reference(
    frame,
    *,
    start=None,
    end=None,
    steps=5,
    top=10,
    min_share=0.0,
    collapse=False,
    split=None,
    conversion=None,
):
    """The module's definitions, one sequence at a time."""
    ordered = frame.assign(v=frame["event"].astype(str)).sort_values(
        ["customer_id", "timestamp", "v"], kind="stable"
    )
    flows = {}
    for customer, rows in ordered.groupby("customer_id", sort=False):
        values = rows["v"].tolist()
        extra = rows[split].astype(str).tolist() if split not in (None, "converted") else None
        if collapse:
            kept = [i for i in range(len(values)) if i == 0 or values[i] != values[i - 1]]
            values = [values[i] for i in kept]
            extra = [extra[i] for i in kept] if extra is not None else None
        forward = start is not None or end is None
        anchor_value = start if start is not None else end
        if anchor_value is None:
            a = 0
        elif anchor_value in values:
            a = values.index(anchor_value)
        else:
            continue
        if start is not None and end is not None:
            later = [i for i in range(a + 1, len(values)) if values[i] == end]
            if not later:
                continue
            nodes = values[a : min(later[0], a + steps - 1) + 1]
            columns = list(range(1, len(nodes) + 1))
        elif forward:
            nodes = values[a : a + steps]
            columns = list(range(1, len(nodes) + 1))
            if len(values) - a < steps:
                nodes, columns = [*nodes, END], [*columns, len(nodes) + 1]
        else:
            nodes = values[max(0, a - steps + 1) : a + 1]
            columns = list(range(steps - len(nodes) + 1, steps + 1))
            if a + 1 < steps:
                nodes, columns = [START, *nodes], [columns[0] - 1, *columns]
        if split == "converted":
            side = values[a:] if forward else values[: a + 1]
            group = conversion in (values if anchor_value is None else side)
        elif split is not None:
            group = extra[a]
        else:
            group = None
        flows[customer] = (group, list(zip(columns, nodes, strict=True)))
    counts = Counter(
        (c, v) for _, nodes in flows.values() for c, v in nodes if v not in (START, END, OTHER)
    )
    total = len(flows)
    ranked = defaultdict(list)
    for (c, v), n in counts.items():
        ranked[c].append((-n, v))
    kept = set()
    for c, items in ranked.items():
        for rank, (minus, v) in enumerate(sorted(items), start=1):
            if (top is None or rank <= top) and -minus >= min_share * total:
                kept.add((c, v))
    out = Counter()
    sizes = Counter(group for group, _ in flows.values())
    for group, nodes in flows.values():
        named = [(c, v if v in (START, END) or (c, v) in kept else OTHER) for c, v in nodes]
        for (c, v), (_, w) in itertools.pairwise(named):
            key = (c, v, w) if split is None else (group, c, v, w)
            out[key] += 1
    return dict(out), sizes


EVENTS = ["a", "b", "c", "d"]


@st.composite
def random_logs(draw):
    n = draw(st.integers(1, 40))
    customers = draw(st.lists(st.integers(1, 6), min_size=n, max_size=n))
    minutes = draw(st.lists(st.integers(0, 12), min_size=n, max_size=n))
    events = draw(st.lists(st.sampled_from(EVENTS), min_size=n, max_size=n))
    frame = log(*zip(customers, minutes, events, strict=True))
    # A property that rows at one instant share, so the anchor's value is well defined.
    frame["platform"] = np.where(
        (frame["customer_id"] + frame["timestamp"].dt.minute) % 3, "web", "app"
    )
    return frame


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    random_logs(),
    st.sampled_from([None, "a", "b"]),
    st.sampled_from([None, "c", "d"]),
    st.integers(2, 5),
    st.sampled_from([None, 1, 2]),
    st.sampled_from([0.0, 0.3]),
    st.booleans(),
    st.sampled_from([None, "converted", "platform"]),
)
def test_matches_a_plain_loop_on_random_logs(
    frame, start, end, steps, top, min_share, collapse, split
):
    options = dict(
        start=start,
        end=end,
        steps=steps,
        top=top,
        min_share=min_share,
        collapse=collapse,
        split=split,
        conversion="d",
    )
    want, sizes = reference(frame, **options)
    options["collapse_repeats"] = options.pop("collapse")
    absent = [v for v in (start, end) if v is not None and v not in set(frame["event"])]
    if absent:
        with pytest.raises(JourneyDataError, match=repr(absent[0])):
            path_flows(frame, **options)
        return
    got = path_flows(frame, **options)
    assert links(got) == want
    frame_ = collect(got)
    if not len(frame_):
        assert want == {}
    elif split is None:
        assert np.allclose(frame_["share"], frame_["count"] / sum(sizes.values()))
    else:
        n = frame_.iloc[:, 0].map(sizes)
        assert np.allclose(frame_["share"], frame_["count"] / n)


# --- the funnel hand-off ----------------------------------------------------------------


def test_dropoff_paths_hand_computed():
    shop = log(
        (1, 0, "home"),
        (1, 1, "cart"),
        (1, 2, "purchase"),
        (2, 0, "home"),
        (2, 1, "cart"),
        (2, 1, "search"),
        (2, 5, "support"),
        (3, 0, "home"),
        (3, 3, "search"),
        (4, 0, "cart"),
        (4, 1, "home"),
        (4, 2, "cart"),
    )
    flows = funnel_dropoff_paths(shop, ["home", "cart", "purchase"], at_step=2, flow_steps=3)
    assert list(flows.columns) == ["outcome", "step", "source", "target", "count", "share"]
    assert links(flows) == {
        (DROPPED, 1, "cart", "search"): 1,
        (DROPPED, 2, "search", "support"): 1,
        (DROPPED, 1, "cart", END): 1,
        (WENT_ON, 1, "cart", "purchase"): 1,
        (WENT_ON, 2, "purchase", END): 1,
    }
    # Customer 4's flow starts at the cart of their counted attempt (after home), not at
    # their first cart.
    assert flows.query("outcome == @DROPPED and step == 1")["count"].sum() == 2


def test_dropoffs_agree_with_the_funnel_on_the_simulator():
    events = jl.simulate(800, seed=3).events
    steps = ["ad_view", "site_visit", "signup", "purchase"]
    funnel = jl.funnel(events, steps, window="30D").set_index("step")["customers"]
    for k in (1, 2, 3):
        flows = funnel_dropoff_paths(events, steps, at_step=k, window="30D")
        first = flows.query("step == 1").groupby("outcome")["count"].sum()
        assert first[WENT_ON] == funnel[k + 1]
        assert first[DROPPED] == funnel[k] - funnel[k + 1]
        # Column 1 is the step's event for everyone.
        assert set(flows.query("step == 1")["source"]) == {steps[k - 1]}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_logs(), st.integers(2, 4))
def test_dropoffs_match_a_plain_loop(frame, flow_steps):
    steps = ["a", "b", "c"]
    got = funnel_dropoff_paths(frame, steps, at_step=2, flow_steps=flow_steps, top=None)
    ordered = frame.sort_values(["customer_id", "timestamp", "event"], kind="stable")
    want = Counter()
    for _, rows in ordered.groupby("customer_id"):
        values = rows["event"].tolist()
        # Unlimited window, ordered: the first attempt reaches furthest; greedy matching.
        if "a" not in values:
            continue
        i = values.index("a")
        at = [j for j in range(i + 1, len(values)) if values[j] == "b"]
        if not at:
            continue
        k = at[0]
        on = "c" in values[k + 1 :]
        nodes = values[k : k + flow_steps]
        if len(values) - k < flow_steps:
            nodes.append(END)
        for c, (v, w) in enumerate(itertools.pairwise(nodes), start=1):
            want[(WENT_ON if on else DROPPED, c, v, w)] += 1
    assert links(got) == dict(want)


def test_dropoff_parameters_are_checked():
    with pytest.raises(JourneyParameterError, match="at_step"):
        funnel_dropoff_paths(SHOP, ["home", "cart"], at_step=2)
    with pytest.raises(JourneyParameterError, match="needs steps"):
        funnel_dropoff_paths(SHOP, at_step=1)
    profile = jl.LogProfile(funnel=("home", "cart", "purchase"))
    flows = funnel_dropoff_paths(SHOP, profile=profile, at_step=1, flow_steps=2)
    assert set(flows["outcome"]) == {WENT_ON, DROPPED}


# --- comparing flows --------------------------------------------------------------------


def test_compare_two_flows_hand_computed():
    a = pd.DataFrame(
        {
            "step": [1, 1, 2],
            "source": ["cart", "cart", "pay"],
            "target": ["pay", "(end)", "(end)"],
            "count": [30, 70, 30],
            "share": [0.3, 0.7, 0.3],
        }
    )
    b = pd.DataFrame(
        {
            "step": [1, 1, 1],
            "source": ["cart"] * 3,
            "target": ["pay", "(end)", "help"],
            "count": [10, 80, 10],
            "share": [0.1, 0.8, 0.1],
        }
    )
    table = compare_flows(a, b, labels=("March", "April"))
    # Largest first: pay -> (end) fell from 30% to 0.
    assert table.iloc[0][["step", "source", "target"]].tolist() == [2, "pay", "(end)"]
    assert table.iloc[0]["difference"] == pytest.approx(-0.3)
    paid = table.query("source == 'cart' and target == 'pay'").iloc[0]
    assert paid["difference"] == pytest.approx(-0.2)
    low, high = rate_difference(10, 100, 30, 100)
    assert (paid["low"], paid["high"]) == pytest.approx((low, high))
    assert paid["beyond_chance"]
    # A link one flow lacks counts 0 there.
    helped = table.query("target == 'help'").iloc[0]
    assert helped["count_a"] == 0 and helped["share_b"] == pytest.approx(0.1)
    assert set(table["group_a"]) == {"March"} and set(table["group_b"]) == {"April"}
    assert table["difference"].abs().is_monotonic_decreasing


def test_compare_the_two_groups_of_a_split_flow():
    flows = path_flows(SHOP, start="home", steps=2, split="converted", conversion="purchase")
    table = compare_flows(flows)
    assert set(table["group_a"]) == {"converted=False"}
    row = table.query("target == 'search'").iloc[0]
    assert (row["share_a"], row["share_b"]) == (0.5, 0.0)
    dropoffs = funnel_dropoff_paths(SHOP, ["home", "cart", "purchase"], at_step=2)
    assert len(compare_flows(dropoffs, groups=(DROPPED, WENT_ON)))


def test_compare_rejects_what_it_cannot_compare():
    flows = path_flows(SHOP, steps=2)
    with pytest.raises(JourneyDataError, match="nothing to compare"):
        compare_flows(flows)
    with pytest.raises(JourneyDataError, match="lacks"):
        compare_flows(flows.drop(columns="share"), flows)
    platforms = SHOP.assign(platform=SHOP["customer_id"].astype(str))
    with pytest.raises(JourneyDataError, match="two groups"):
        compare_flows(path_flows(platforms, steps=2, split="platform"))


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"steps": 1}, "steps must be a whole number of at least 2"),
        ({"top": 0}, "top must be"),
        ({"min_share": 1.0}, "min_share"),
        ({"split": "converted"}, "conversion event"),
        ({"within": "visit"}, "within must be one of"),
        ({"of": "customer_id"}, "touchpoint column"),
        ({"start": 3}, "start must be"),
        ({"end": ""}, "end must be"),
        ({"start": ""}, "start must be"),
    ],
)
def test_bad_parameters_are_named(options, match):
    with pytest.raises(JourneyParameterError, match=match):
        path_flows(SHOP, **options)


def test_a_log_value_named_like_a_made_up_node_is_refused():
    clashing = pd.concat([SHOP, log((9, 0, "(end)"))], ignore_index=True)
    with pytest.raises(JourneyDataError, match=r"1 rows with the value '\(end\)'"):
        path_flows(clashing)


def test_nodes_of_a_backward_flow_keep_their_start_nodes():
    # The first cart: customers 1 and 2 after home, customer 3 with nothing before it.
    nodes = flow_nodes(path_flows(SHOP, end="cart", steps=3))
    column_2 = dict(nodes.query("column == 2")[["node", "count"]].values.tolist())
    assert column_2 == {"home": 2, START: 1}
    assert nodes.query("column == 3")["count"].tolist() == [3]


def test_a_missing_anchor_or_column_is_named():
    with pytest.raises(JourneyDataError, match=r"'checkout' in column 'event'.*'home'"):
        path_flows(SHOP, start="checkout")
    with pytest.raises(JourneyDataError, match="no column 'platform'"):
        path_flows(SHOP, split="platform")
    with pytest.raises(JourneyDataError, match="no column 'channel'"):
        path_flows(SHOP, of="channel")


# --- every engine -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def simulated():
    return jl.simulate(80, seed=7).events[["customer_id", "timestamp", "event", "channel"]]


CASES = [
    (path_flows, {"start": "site_visit", "steps": 4, "top": 3}),
    (path_flows, {"end": "purchase", "steps": 3, "collapse_repeats": True}),
    (path_flows, {"start": "ad_view", "end": "purchase", "steps": 5, "min_share": 0.05}),
    (path_flows, {"steps": 3, "split": "converted", "conversion": "purchase"}),
    (path_flows, {"start": "site_visit", "steps": 3, "split": "channel", "of": "event"}),
    (funnel_dropoff_paths, {"steps": ["ad_view", "site_visit", "purchase"], "at_step": 2}),
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("function", "options"), CASES)
def test_every_engine_gives_the_pandas_answer(simulated, engine, function, options):
    want = collect(function(simulated, **options))
    got = parity(function, simulated, engine, **options)
    assert_same_frame(got, want, sort_by=list(want.columns[:-2]))
    nodes = parity(lambda frame: flow_nodes(function(frame, **options)), simulated, engine)
    want_nodes = collect(flow_nodes(function(simulated, **options)))
    assert_same_frame(nodes, want_nodes, sort_by=list(want_nodes.columns[:-2]))


def test_pyspark_gives_the_pandas_answer(spark, simulated):
    for function, options in CASES:
        want = collect(function(simulated, **options))
        got = parity(function, simulated, "pyspark", spark=spark, **options)
        assert_same_frame(got, want, sort_by=list(want.columns[:-2]))


# --- real logs ------------------------------------------------------------------------------


def read(*parts):
    path = shared_file(*parts)
    found = jl.profile(path)
    return found, found.read(path).clean


def test_the_shared_clickstream_flows_match_the_loop():
    found, events = read("events", "ecom_clickstream.csv.gz")
    flows = path_flows(events, start="cart", steps=5, split="converted", profile=found)
    want, _ = reference(
        events, start="cart", steps=5, split="converted", conversion=found.conversion
    )
    assert links(flows) == want
    # Of the customers who reached the cart, those who bought went straight on to the
    # purchase more often, those who did not went back home more often: both beyond chance.
    table = compare_flows(flows, groups=(False, True)).set_index(["step", "source", "target"])
    assert table.loc[(1, "cart", "purchase"), "difference"] > 0
    assert table.loc[(1, "cart", "home"), "difference"] < 0
    assert table.loc[[(1, "cart", "purchase"), (1, "cart", "home")], "beyond_chance"].all()
    backwards = path_flows(events, end=found.conversion, steps=4, profile=found)
    buyers = events.loc[events["event"] == found.conversion, "customer_id"].nunique()
    assert flow_nodes(backwards).query("column == 4")["count"].sum() == buyers


def test_the_shared_process_log_reads_as_a_process():
    _, events = read("events", "pm4py_receipt.csv.gz")
    flows = path_flows(events, steps=3, top=5)
    want, sizes = reference(events, steps=3, top=5)
    assert links(flows) == want
    nodes = flow_nodes(flows)
    # Every case opens with the confirmation of receipt.
    opening = nodes.query("column == 1")
    assert opening["node"].tolist() == ["Confirmation of receipt"]
    assert opening["count"].item() == sum(sizes.values()) == events["customer_id"].nunique()
    # At most top named nodes (plus the tail and the end) in any column.
    named = nodes[~nodes["node"].isin([OTHER, END])]
    assert named.groupby("column").size().max() <= 5
