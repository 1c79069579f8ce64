"""Funnels: hand-computed cases, a brute-force reference on random logs, engine parity."""

from __future__ import annotations

import itertools
import statistics

import numpy as np
import pandas as pd
import pytest
from engines import ENGINES, assert_same_frame, parity
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import journey_lib as jl
from journey_lib.analytics.funnels import Step, funnel

T0 = pd.Timestamp("2024-01-01", tz="UTC")
COLUMNS = [
    "step",
    "event",
    "customers",
    "conversion_rate",
    "step_conversion_rate",
    "median_time_to_convert",
]


def log(*rows, **columns):
    """A log from (customer, minute, event) triples; extra columns as lists."""
    frame = pd.DataFrame(rows, columns=["customer_id", "minute", "event"])
    frame["timestamp"] = T0 + pd.to_timedelta(frame.pop("minute"), unit="min")
    for name, values in columns.items():
        frame[name] = values
    return frame


def reached(result):
    return result["customers"].tolist()


# -- the brute-force reference: plain loops over each customer's sorted rows -------------


def _matches(step: Step, row) -> bool:
    if row["event"] != step.event:
        return False
    for column, values in step.filters:
        value = row[column]
        if pd.isna(value):
            return False
        if value not in values:
            return False
    return True


def reference(events, steps, *, breakdown=None, **options):
    """The funnel table, from the brute-force counted attempts."""
    counted = reference_counted(events, steps, breakdown=breakdown, **options)
    return _table(counted, [Step.parse(s, i) for i, s in enumerate(steps, 1)], breakdown)


def reference_counted(
    events,
    steps,
    *,
    window=None,
    order="ordered",
    entry="any",
    exclusions=(),
    breakdown=None,
    breakdown_attribution="first",
    date_range=None,
    range_mode="entry",
):
    """customer -> (breakdown value, counted attempt), by plain loops."""
    steps = [Step.parse(s, i) for i, s in enumerate(steps, start=1)]
    k = len(steps)
    w = None if window is None else pd.Timedelta(window) // pd.Timedelta(microseconds=1)
    lo = hi = None
    if date_range is not None:
        lo, hi = (
            pd.Timestamp(v, tz="UTC") if pd.Timestamp(v).tzinfo is None else pd.Timestamp(v)
            for v in date_range
        )
    excl = [(Step.parse(e, 0), a, b) for e, a, b in exclusions]
    counted = {}
    for customer, group in events.groupby("customer_id", sort=False):
        rows = []
        for _, row in group.iterrows():
            t = row["timestamp"]
            us = (t - pd.Timestamp("1970-01-01", tz="UTC")) // pd.Timedelta(microseconds=1)
            inside = lo is None or (lo <= t < hi)
            m = [_matches(s, row) for s in steps]
            if range_mode == "entry_and_completion":
                m = [x and inside for x in m]
            b = row[breakdown] if breakdown else None
            if b is not None and pd.isna(b):
                b = None
            first = next((s for s in range(k) if m[s]), k)
            mask = sum(1 << s for s in range(k) if m[s])
            rows.append(
                dict(
                    us=us,
                    m=m,
                    b=b,
                    inside=inside,
                    key=(us, first, mask, b is None, "" if b is None else str(b)),
                )
            )
        if order != "strict":
            rows = [r for r in rows if any(r["m"])]
        rows.sort(key=lambda r: r["key"])
        attempts = (_any_attempts if order == "any" else _sequence_attempts)(
            rows, k, w, order, entry, steps
        )
        if not attempts:
            continue
        best = max(a["level"] for a in attempts)
        chosen = min((a for a in attempts if a["level"] == best), key=lambda a: a["start"])
        if _excluded(chosen, group, excl, w):
            continue
        if breakdown_attribution == "first" or order == "any":
            value = rows[chosen["start"]]["b"]
        elif breakdown_attribution == "last":
            value = rows[chosen["positions"][-1]]["b"]
        else:
            positions = chosen["positions"]
            at = breakdown_attribution - 1
            value = rows[positions[at]]["b"] if at < len(positions) else None
        counted[customer] = (value, chosen)
    return counted


def _sequence_attempts(rows, k, w, order, entry, steps):
    attempts = []
    starts = [i for i, r in enumerate(rows) if r["m"][0] and r["inside"]]
    if entry == "first":
        starts = starts[:1]
    for i in starts:
        positions, times = [i], [rows[i]["us"]]
        for s in range(1, k):
            if order == "strict":
                j = positions[-1] + 1
                j = j if j < len(rows) and rows[j]["m"][s] else None
            else:
                j = next((j for j in range(positions[-1] + 1, len(rows)) if rows[j]["m"][s]), None)
            if j is None or (w is not None and rows[j]["us"] - times[0] > w):
                break
            positions.append(j)
            times.append(rows[j]["us"])
        attempts.append(dict(start=i, level=len(positions), times=times, positions=positions))
    return attempts


def _any_attempts(rows, k, w, order, entry, steps):
    starts = [i for i, r in enumerate(rows) if any(r["m"]) and r["inside"]]
    seen, unique = set(), []
    for i in starts:  # one attempt per instant: its first row
        if rows[i]["us"] not in seen:
            seen.add(rows[i]["us"])
            unique.append(i)
    if entry == "first":
        unique = unique[:1]
    attempts = []
    for i in unique:
        t0 = rows[i]["us"]
        filled, times = [False] * k, []
        for r in rows:
            if r["us"] < t0 or (w is not None and r["us"] - t0 > w):
                continue
            for s in range(k):
                if not filled[s] and r["m"][s]:
                    filled[s] = True
                    times.append(r["us"])
                    break
        attempts.append(dict(start=i, level=len(times), times=sorted(times), positions=[i]))
    return attempts


def _excluded(chosen, group, exclusions, w):
    times = chosen["times"]
    for step, a, b in exclusions:
        if len(times) < a:
            continue
        lower = times[a - 1]
        if len(times) >= b:
            upper = times[b - 1]
        else:
            upper = float("inf") if w is None else times[0] + w
        for _, row in group.iterrows():
            us = (row["timestamp"] - pd.Timestamp("1970-01-01", tz="UTC")) // pd.Timedelta(
                microseconds=1
            )
            if _matches(step, row) and lower < us < upper:
                return True
    return False


def _table(counted, steps, breakdown):
    k = len(steps)
    groups = {}
    for value, attempt in counted.values():
        groups.setdefault(value, []).append(attempt)
    keys = (
        [None]
        if breakdown is None
        else sorted(groups, key=lambda v: (v is None, "" if v is None else str(v)))
    )
    out = []
    for key in keys:
        attempts = groups.get(key, [])
        n = [sum(a["level"] >= s for a in attempts) for s in range(1, k + 1)]
        for s in range(1, k + 1):
            gaps = (
                [(a["times"][s - 1] - a["times"][s - 2]) / 1e6 for a in attempts if a["level"] >= s]
                if s > 1
                else []
            )
            previous = n[s - 2] if s > 1 else n[0]
            row = {} if breakdown is None else {breakdown: key}
            row.update(
                step=s,
                event=steps[s - 1].label,
                customers=n[s - 1],
                conversion_rate=n[s - 1] / n[0] if n[0] else np.nan,
                step_conversion_rate=n[s - 1] / previous if previous else np.nan,
                median_time_to_convert=statistics.median(gaps) if gaps else np.nan,
            )
            out.append(row)
    columns = ([breakdown] if breakdown else []) + COLUMNS
    return pd.DataFrame(out, columns=columns)


# -- hand-computed cases ------------------------------------------------------------------

MIXPANEL = log((1, 60, "a"), (1, 90, "a"), (1, 105, "b"), (1, 135, "c"))


def test_mixpanel_documented_case():
    # 1-hour window; a 1:00, a 1:30, b 1:45, c 2:15.
    # entry="first": only a 1:00 starts; b 1:45 is within, c 2:15 is 75 min after: step 2.
    # entry="any": a 1:30 also starts; b 1:45 and c 2:15 (45 min) are within: step 3.
    assert reached(funnel(MIXPANEL, ["a", "b", "c"], window="1h", entry="first")) == [1, 1, 0]
    result = funnel(MIXPANEL, ["a", "b", "c"], window="1h", entry="any")
    assert reached(result) == [1, 1, 1]
    # The counted attempt starts 1:30: b after 15 min, c 30 min after b.
    assert result["median_time_to_convert"].tolist()[1:] == [900.0, 1800.0]
    assert result.columns.tolist() == COLUMNS


def test_rates_and_medians_by_hand():
    events = log(
        (1, 0, "a"),
        (1, 10, "b"),
        (1, 30, "c"),  # all three: 10 min, 20 min
        (2, 0, "a"),
        (2, 40, "b"),  # two steps: 40 min
        (3, 5, "a"),  # step 1 only
        (4, 0, "b"),
        (4, 1, "c"),  # never starts
    )
    result = funnel(events, ["a", "b", "c"])
    assert reached(result) == [3, 2, 1]
    np.testing.assert_allclose(result["conversion_rate"], [1, 2 / 3, 1 / 3])
    np.testing.assert_allclose(result["step_conversion_rate"], [1, 2 / 3, 1 / 2])
    # median of 10 and 40 minutes is 25 minutes; step 3 only customer 1's 20 minutes.
    assert result["median_time_to_convert"].tolist()[1:] == [1500.0, 1200.0]
    assert np.isnan(result["median_time_to_convert"].iloc[0])


def test_each_step_uses_its_own_row():
    one = log((1, 0, "a"))
    assert reached(funnel(one, ["a", "a"])) == [1, 0]
    twice_at_once = log((1, 0, "a"), (1, 0, "a"))
    assert reached(funnel(twice_at_once, ["a", "a"])) == [1, 1]


def test_a_later_step_may_share_the_timestamp_whatever_the_input_order():
    events = log((1, 0, "b"), (1, 0, "a"))  # b written first, same instant
    assert reached(funnel(events, ["a", "b"])) == [1, 1]
    assert reached(funnel(events, ["a", "b"], order="strict")) == [1, 1]


def test_strict_needs_the_very_next_row():
    events = log((1, 0, "a"), (1, 1, "x"), (1, 2, "b"), (2, 0, "a"), (2, 3, "b"))
    assert reached(funnel(events, ["a", "b"], order="strict")) == [2, 1]
    assert reached(funnel(events, ["a", "b"], order="ordered")) == [2, 2]


def test_any_order():
    events = log((1, 0, "b"), (1, 5, "a"), (2, 0, "a"), (3, 0, "c"))
    assert reached(funnel(events, ["a", "b"], order="ordered")) == [2, 0]
    # Customer 1 did both (b then a): two steps; customer 2 one; customer 3 neither.
    result = funnel(events, ["a", "b"], order="any")
    assert reached(result) == [2, 1]
    assert result["median_time_to_convert"].tolist()[1] == 300.0


def test_window_includes_its_end():
    events = log((1, 0, "a"), (1, 60, "b"), (2, 0, "a"), (2, 61, "b"))
    assert reached(funnel(events, ["a", "b"], window="1h")) == [2, 1]
    assert reached(funnel(events, ["a", "b"], window=pd.Timedelta(minutes=61))) == [2, 2]


def test_date_range_is_half_open_and_range_mode():
    events = log((1, 0, "a"), (1, 50, "b"), (2, 30, "a"), (2, 70, "b"), (3, 60, "a"))
    window = (T0, T0 + pd.Timedelta(minutes=60))
    # Step 1 must start in [0:00, 1:00): customers 1 and 2; customer 3 at 1:00 is outside.
    assert reached(funnel(events, ["a", "b"], date_range=window)) == [2, 2]
    # Customer 2's b at 1:10 falls outside when completion must be inside too.
    completed = funnel(events, ["a", "b"], date_range=window, range_mode="entry_and_completion")
    assert reached(completed) == [2, 1]


def test_exclusions_remove_the_customer_entirely():
    events = log(
        (1, 0, "a"),
        (1, 5, "x"),
        (1, 10, "b"),  # x between a and b: excluded
        (2, 0, "a"),
        (2, 10, "b"),
        (2, 20, "x"),  # x after b: kept
        (3, 0, "a"),
        (3, 5, "x"),  # never reached b; x after a: excluded
    )
    result = funnel(events, ["a", "b"], exclusions=[("x", 1, 2)])
    assert reached(result) == [1, 1]
    # With a 3-minute window nobody reaches b, and every x (0:05 or later) comes after the
    # attempt closed at 0:03: all three customers stay, at step 1.
    short = funnel(events, ["a", "b"], exclusions=[("x", 1, 2)], window="3min")
    assert reached(short) == [3, 0]


def test_property_filters_in_steps():
    events = log((1, 0, "view"), (1, 1, "view"), (2, 0, "view"), page=["home", "cart", "home"])
    steps = ["view", ("view", {"page": "cart"})]
    result = funnel(events, steps)
    assert reached(result) == [2, 1]
    assert result["event"].tolist() == ["view", "view[page='cart']"]
    listed = funnel(events, [("view", {"page": ["cart", "basket"]})])
    assert reached(listed) == [1]


def test_breakdown_attribution():
    events = log(
        (1, 0, "a"),
        (1, 1, "b"),
        (1, 2, "c"),
        (2, 0, "a"),
        (2, 1, "b"),
        channel=["tv", "web", "app", "tv", None],
    )
    first = funnel(events, ["a", "b", "c"], breakdown="channel")
    assert first["channel"].tolist() == ["tv"] * 3
    assert reached(first) == [2, 2, 1]
    last = funnel(events, ["a", "b", "c"], breakdown="channel", breakdown_attribution="last")
    # Customer 1's last step is c (app); customer 2's is b (missing channel).
    assert last["channel"].fillna("<none>").tolist() == ["app"] * 3 + ["<none>"] * 3
    assert reached(last) == [1, 1, 1, 1, 1, 0]
    step2 = funnel(events, ["a", "b", "c"], breakdown="channel", breakdown_attribution=2)
    assert step2["channel"].fillna("<none>").tolist() == ["web"] * 3 + ["<none>"] * 3


def test_unsorted_input_gives_the_same_answer():
    events = jl.simulate(300, seed=2).events
    steps = ["ad_view", "site_visit", "signup", "purchase"]
    shuffled = events.sample(frac=1, random_state=1)
    pd.testing.assert_frame_equal(funnel(shuffled, steps), funnel(events, steps))


def test_empty_log_and_absent_events_give_zeros():
    events = log((1, 0, "a"))
    result = funnel(events.iloc[:0], ["a", "b"])
    assert reached(result) == [0, 0]
    assert result["conversion_rate"].isna().all()
    assert reached(funnel(events, ["nothing", "a"])) == [0, 0]
    assert funnel(events.assign(ch="u").iloc[:0], ["a"], breakdown="ch").empty


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"order": "sideways"}, jl.JourneyParameterError, "order must be one of"),
        ({"entry": "last"}, jl.JourneyParameterError, "entry must be one of"),
        ({"window": "soon"}, jl.JourneyParameterError, "not a duration"),
        ({"window": "-1h"}, jl.JourneyParameterError, "positive duration"),
        ({"exclusions": [("x", 2, 1)]}, jl.JourneyParameterError, "from_step < to_step"),
        ({"breakdown": "nope"}, jl.JourneyDataError, "['nope']"),
        ({"breakdown_attribution": 5}, jl.JourneyParameterError, "step number 1..2"),
        ({"date_range": ("2024-02-01", "2024-01-01")}, jl.JourneyParameterError, "start < end"),
        ({"range_mode": "all"}, jl.JourneyParameterError, "range_mode must be one of"),
        ({"breakdown": "event"}, jl.JourneyParameterError, "clash with the result"),
        (
            {"order": "any", "breakdown": "customer_id", "breakdown_attribution": "last"},
            jl.JourneyParameterError,
            "breakdown_attribution='first'",
        ),
    ],
)
def test_bad_options_are_named(kwargs, error, message):
    with pytest.raises(error, match=None) as info:
        funnel(log((1, 0, "a")), ["a", "b"], **kwargs)
    assert message in str(info.value)


def test_bad_steps_and_bad_logs():
    events = log((1, 0, "a"))
    with pytest.raises(jl.JourneyParameterError, match="non-empty list"):
        funnel(events, [])
    with pytest.raises(jl.JourneyParameterError, match="non-empty list"):
        funnel(events, "a")
    with pytest.raises(jl.JourneyParameterError, match="identical or cannot match"):
        funnel(events, ["a", ("a", {"p": 1})], order="any")
    with pytest.raises(jl.JourneyDataError, match="not a datetime"):
        funnel(events.assign(timestamp=events["timestamp"].astype(str)), ["a"])
    with pytest.raises(jl.JourneyDataError, match="event"):
        funnel(events.drop(columns="event"), ["a"])


# -- against the reference ------------------------------------------------------------------


def test_reference_agrees_on_the_simulated_log():
    events = jl.simulate(150, seed=5).events
    steps = ["ad_view", "site_visit", "signup", "purchase"]
    for kwargs in (
        {},
        {"window": "7D", "entry": "first"},
        {"order": "strict"},
        {"order": "any", "window": "3D"},
        {"breakdown": "channel", "breakdown_attribution": "last", "window": "14D"},
        {"exclusions": [("product_view", 2, 3)], "date_range": ("2024-03-01", "2024-09-01")},
    ):
        assert_same_frame(funnel(events, steps, **kwargs), reference(events, steps, **kwargs))


EVENTS = ("a", "b", "c", "x")


@st.composite
def random_logs(draw):
    n = draw(st.integers(0, 14))
    rows = [
        (
            draw(st.integers(1, 4)),
            draw(st.integers(0, 12)) * 5,
            draw(st.sampled_from(EVENTS)),
            draw(st.sampled_from([1, 2, None])),
            draw(st.sampled_from(["u", "v", None])),
        )
        for _ in range(n)
    ]
    frame = log(*[r[:3] for r in rows], p=[r[3] for r in rows], ch=[r[4] for r in rows])
    return frame.astype({"p": "Float64"}) if n else frame.assign(p=[], ch=[])


@st.composite
def funnel_options(draw):
    steps = draw(
        st.lists(
            st.one_of(
                st.sampled_from(["a", "b", "c"]),
                st.tuples(st.sampled_from(["a", "b"]), st.just({"p": 1})),
            ),
            min_size=1,
            max_size=4,
        )
    )
    k = len(steps)
    options = {
        "window": draw(st.sampled_from([None, "10min", "25min"])),
        "order": draw(st.sampled_from(["ordered", "strict", "any"])),
        "entry": draw(st.sampled_from(["any", "first"])),
        "breakdown": draw(st.sampled_from([None, "ch"])),
    }
    if k >= 2 and draw(st.booleans()):
        lo = draw(st.integers(1, k - 1))
        options["exclusions"] = [("x", lo, draw(st.integers(lo + 1, k)))]
    if options["breakdown"] and options["order"] != "any":
        options["breakdown_attribution"] = draw(
            st.sampled_from(["first", "last", *range(1, k + 1)])
        )
    if draw(st.booleans()):
        start = draw(st.integers(0, 30))
        options["date_range"] = (
            T0 + pd.Timedelta(minutes=start),
            T0 + pd.Timedelta(minutes=start + draw(st.integers(5, 40))),
        )
        options["range_mode"] = draw(st.sampled_from(["entry", "entry_and_completion"]))
    return steps, options


def _valid(steps, options):
    if options["order"] != "any":
        return True
    parsed = [Step.parse(s, 1) for s in steps]
    return all(a == b or a.disjoint_from(b) for a in parsed for b in parsed)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=random_logs(), case=funnel_options())
def test_property_matches_the_brute_force_reference(events, case):
    steps, options = case
    assume(_valid(steps, options))
    got = funnel(events, steps, **options)
    assert_same_frame(got, reference(events, steps, **options))


# -- engines --------------------------------------------------------------------------------

SIMULATED = jl.simulate(120, seed=9).events
CASES = [
    (["ad_view", "site_visit", "purchase"], {"window": "30D"}),
    (["ad_view", "signup", "purchase"], {"order": "strict", "entry": "first"}),
    (["site_visit", "purchase", "review"], {"order": "any", "breakdown": "channel"}),
    (
        ["ad_view", "site_visit", "purchase"],
        {
            "breakdown": "channel",
            "breakdown_attribution": "last",
            "exclusions": [("product_view", 2, 3)],
            "date_range": ("2024-02-01", "2024-10-01"),
        },
    ),
]


@pytest.mark.parametrize("engine", ENGINES[1:])
@pytest.mark.parametrize(("steps", "options"), CASES)
def test_engines_match_pandas(engine, steps, options):
    want = funnel(SIMULATED, steps, **options)
    assert_same_frame(parity(funnel, SIMULATED, engine, steps, **options), want)


@pytest.mark.parametrize("engine", ["polars-lazy", "duckdb"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=random_logs(), case=funnel_options())
def test_property_engines_match_pandas(engine, events, case):
    steps, options = case
    assume(_valid(steps, options) and len(events) > 0)
    want = funnel(events, steps, **options)
    assert_same_frame(parity(funnel, events, engine, steps, **options), want)


@pytest.mark.parametrize(("steps", "options"), CASES[::3])
def test_pyspark_matches_pandas(spark, steps, options):
    want = funnel(SIMULATED, steps, **options)
    assert_same_frame(parity(funnel, SIMULATED, "pyspark", steps, spark=spark, **options), want)


# -- trend and time to convert ------------------------------------------------------------


def test_funnel_trend_by_hand():
    events = log(
        (1, 0, "a"),
        (1, 10, "b"),  # week 1: converts
        (2, 0, "a"),  # week 1: does not
        (1, 8 * 1440, "a"),  # week 2: customer 1 again, does not convert
        (3, 8 * 1440, "a"),
        (3, 9 * 1440, "b"),  # week 2: converts
    )
    trend = jl.funnel_trend(events, ["a", "b"], period="week")
    assert trend["period"].tolist() == [T0, T0 + pd.Timedelta(days=7)]
    assert trend["customers"].tolist() == [2, 2]
    assert trend["converted"].tolist() == [1, 1]
    assert trend["conversion_rate"].tolist() == [0.5, 0.5]
    # The log ends on day 9: week 1 (ending day 7) is settled, week 2 is not.
    assert trend["complete"].tolist() == [True, False]
    # With a 3-day window week 1 settles only on day 10, after the log ends.
    assert jl.funnel_trend(events, ["a", "b"], window="3D")["complete"].tolist() == [False, False]


def reference_trend(events, steps, period, **options):
    # Candidate periods: wherever an attempt could start (any step when order is "any").
    first = steps if options.get("order") == "any" else steps[:1]
    names = {Step.parse(s, 1).event for s in first}
    starts = events[events["event"].isin(names)]["timestamp"]
    firsts = sorted({_period_start(t, period) for t in starts})
    rows = []
    for start in firsts:
        end = _period_start(start + pd.Timedelta(days=32 if period == "month" else 7), period)
        table = reference(events, steps, date_range=(start, end), **options)
        if table["customers"].iloc[0]:
            n = table["customers"].tolist()
            rows.append((start, n[0], n[-1], n[-1] / n[0]))
    return pd.DataFrame(rows, columns=["period", "customers", "converted", "conversion_rate"])


def _period_start(t, period):
    day = t.normalize()
    return day - pd.Timedelta(days=day.weekday()) if period == "week" else day.replace(day=1)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=random_logs(), case=funnel_options(), period=st.sampled_from(["week", "month"]))
def test_property_trend_matches_per_period_reference(events, case, period):
    steps, options = case
    options = {
        k: v
        for k, v in options.items()
        if k not in ("breakdown", "breakdown_attribution", "date_range", "range_mode")
    }
    assume(_valid(steps, options))
    events = events.assign(
        timestamp=events["timestamp"] + pd.to_timedelta(events["customer_id"] * 9, unit="D")
    )  # spread customers over weeks and months
    got = jl.funnel_trend(events, steps, period=period, **options)
    want = reference_trend(events, steps, period, **options)
    assert_same_frame(got.drop(columns="complete"), want)


def test_time_to_convert_by_hand():
    events = log((1, 0, "a"), (1, 30, "b"), (2, 0, "a"), (2, 2 * 1440, "b"), (3, 0, "a"))
    result = jl.time_to_convert(events, ["a", "b"], bins=["1h", "1D"])
    assert result["bin"].tolist() == ["0s to 1h", "1h to 1D", "1D or more"]
    assert result["customers"].tolist() == [1, 0, 1]
    assert result["share"].tolist() == [0.5, 0.0, 0.5]
    assert result["cumulative_share"].tolist() == [0.5, 0.5, 1.0]
    assert result["upper_seconds"].tolist() == [3600.0, 86400.0, float("inf")]
    default = jl.time_to_convert(events, ["a", "b"])
    assert default["customers"].sum() == 2 and len(default) == 17


def test_time_to_convert_between_chosen_steps_matches_the_reference():
    events = jl.simulate(150, seed=6).events
    steps = ["ad_view", "site_visit", "signup", "purchase"]
    counted = reference_counted(events, steps, window="30D")
    spans = [(a["times"][3] - a["times"][1]) / 1e6 for _, a in counted.values() if a["level"] == 4]
    edges = [0, 3600, 86400, 7 * 86400, float("inf")]
    want = [sum(lo <= d < hi for d in spans) for lo, hi in itertools.pairwise(edges)]
    got = jl.time_to_convert(
        events, steps, from_step=2, to_step=4, bins=["1h", "1D", "7D"], window="30D"
    )
    assert got["customers"].tolist() == want
    assert sum(want) > 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"from_step": 2, "to_step": 2}, "from_step < to_step"),
        ({"to_step": 3}, "to_step <= 2"),
        ({"bins": ["1D", "1h"]}, "bins must increase"),
        ({"bins": []}, "non-empty list"),
    ],
)
def test_time_to_convert_bad_options(kwargs, message):
    with pytest.raises(jl.JourneyParameterError, match=message):
        jl.time_to_convert(log((1, 0, "a")), ["a", "b"], **kwargs)


def test_funnel_trend_rejects_unknown_period():
    with pytest.raises(jl.JourneyParameterError, match="period must be one of"):
        jl.funnel_trend(log((1, 0, "a")), ["a"], period="fortnight")


@pytest.mark.parametrize("engine", ENGINES[1:])
def test_trend_and_time_to_convert_engines_match_pandas(engine):
    steps = ["ad_view", "site_visit", "purchase"]
    want = jl.funnel_trend(SIMULATED, steps, period="month", window="30D")
    assert_same_frame(
        parity(jl.funnel_trend, SIMULATED, engine, steps, period="month", window="30D"), want
    )
    want = jl.time_to_convert(SIMULATED, steps, order="any")
    assert_same_frame(parity(jl.time_to_convert, SIMULATED, engine, steps, order="any"), want)


def test_trend_and_time_to_convert_on_pyspark(spark):
    steps = ["ad_view", "site_visit", "purchase"]
    want = jl.funnel_trend(SIMULATED, steps, period="week")
    assert_same_frame(
        parity(jl.funnel_trend, SIMULATED, "pyspark", steps, spark=spark, period="week"), want
    )
    want = jl.time_to_convert(SIMULATED, steps, bins=["1D", "7D"])
    assert_same_frame(
        parity(jl.time_to_convert, SIMULATED, "pyspark", steps, spark=spark, bins=["1D", "7D"]),
        want,
    )


# -- the two ways of following chains agree ------------------------------------------------

funnels_module = __import__("journey_lib.analytics.funnels", fromlist=["_as_of_joins_apply"])


def test_as_of_joins_are_used_only_where_they_are_exact():
    from journey_lib._engine import lazy_events

    frame, _ = lazy_events(log((1, 0, "a")).assign(ch="u", p=1))

    def applies(steps, **options):
        spec = funnels_module._spec(
            frame,
            steps,
            window=None,
            order=options.get("order", "ordered"),
            entry="any",
            exclusions=(),
            date_range=None,
            range_mode="entry",
            breakdown=options.get("breakdown"),
        )
        return funnels_module._as_of_joins_apply(frame, spec)

    assert applies(["a", "b", "c"])
    assert not applies(["a", "b"], order="strict")
    assert not applies(["a", "a"])  # one row can match both steps
    assert not applies(["a", ("a", {"p": 1})])
    assert not applies(["a", "b"], breakdown="ch")
    assert applies(["a", ("b", {"p": 1}), ("b", {"p": 2})])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=random_logs(), case=funnel_options())
def test_property_window_chains_match_as_of_chains(events, case):
    steps, options = case
    assume(_valid(steps, options))
    with_as_of = funnel(events, steps, **options)
    original = funnels_module._as_of_joins_apply
    funnels_module._as_of_joins_apply = lambda frame, spec: False
    try:
        with_windows = funnel(events, steps, **options)
    finally:
        funnels_module._as_of_joins_apply = original
    assert_same_frame(with_windows, with_as_of)
