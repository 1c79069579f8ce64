"""The figures of change detection draw exactly their data twin, a Changes: the series'
observed level and baseline, the change's windows and levels, the breakdown's parts, and
the overview's cells and outlines; on hand-made series with known answers and on the
simulator's planted incidents."""

from __future__ import annotations

import matplotlib
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

import journey_lib as jl
from journey_lib import plots
from journey_lib.monitor.series import FAMILY
from journey_lib.plots.changes import series_label

matplotlib.use("Agg")

WEEKS = pd.date_range("2024-01-01", periods=30, freq="7D", tz="UTC")
INSIDE = (np.arange(30) >= 12) & (np.arange(30) < 15)  # weeks 12 to 14: 25 Mar to 14 Apr
KEYS = ["metric", "detail", "column", "value"]


def series(metric, detail, count, base=np.nan, column=None, value=None, used=True):
    """One hand-made weekly series in the shape of jl.monitor_series."""
    return pd.DataFrame(
        {
            "metric": metric,
            "detail": detail,
            "column": column,
            "value": value,
            "period": WEEKS,
            "count": count,
            "base": base,
            "used": used,
        }
    )


@pytest.fixture(scope="module")
def found():
    """The simulator's three planted incidents, scanned by segment and channel."""
    sim = jl.simulate(8000, seed=1, incidents=jl.example_incidents())
    cols = ["customer_id", "segment", "acquisition_channel"]
    events = sim.events.merge(sim.customers[cols], on="customer_id")
    return jl.changes(events, jl.profile(events), period="week", by=cols[1:])


@pytest.fixture(scope="module")
def mix():
    """Conversion falls from 56% to 40% in weeks 12-14 only because half the customers
    (a tenth before) come on mobile, which converts at 20% against the web's 60%."""
    web = np.where(INSIDE, 500.0, 900.0)
    mobile = 1000.0 - web
    rows = pd.concat(
        [
            series("conversion", "cart → purchase", 0.6 * web + 0.2 * mobile, 1000.0),
            series("conversion", "cart → purchase", 0.6 * web, web, "platform", "web"),
            series("conversion", "cart → purchase", 0.2 * mobile, mobile, "platform", "mobile"),
        ]
    )
    return jl.find_changes(rows)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def only(ax, label):
    (artist,) = [a for a in ax.get_lines() + ax.patches if a.get_label() == label]
    return artist


def assert_readable(ax):
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    sizes = [ax.title.get_fontsize(), ax.xaxis.label.get_fontsize(), ax.yaxis.label.get_fontsize()]
    sizes += [t.get_fontsize() for t in ax.get_xticklabels() + ax.get_yticklabels()]
    assert min(sizes) >= 10


def naive(t):
    return pd.Timestamp(t).tz_convert("UTC").tz_localize(None)


def span(patch):
    """An axvspan's ends, as dates."""
    x0 = patch.get_x()
    return tuple(mdates.num2date(v).replace(tzinfo=None) for v in (x0, x0 + patch.get_width()))


def band(ax, index):
    """The y extent of the ``index``-th filled band (an interval)."""
    ys = ax.collections[index].get_paths()[0].vertices[:, 1]
    return ys.min(), ys.max()


# --------------------------------------------------------------------------------------------
# change_series
# --------------------------------------------------------------------------------------------


def check_series_figure(found, i):
    """Every element of change_series(found, i) against the row and its series."""
    row = found.table.iloc[i]
    rows = found.series_of(i)
    family = FAMILY[row["metric"]]
    figure = plots.change_series(found, i)
    assert isinstance(figure, Figure)
    ax = figure.axes[0]
    assert_readable(ax)
    used = rows["used"].to_numpy(bool)
    level = rows["count"] / (1.0 if family == "count" else rows["base"].where(rows["base"] > 0))
    times = pd.DatetimeIndex(rows["period"]).tz_localize(None)
    observed, baseline = only(ax, "observed"), only(ax, "baseline")
    np.testing.assert_allclose(observed.get_ydata(), level[used])
    assert list(pd.DatetimeIndex(observed.get_xdata())) == list(times[used])
    np.testing.assert_allclose(baseline.get_ydata(), rows["expected"][used])
    if (~used).any():
        faint = only(ax, "not scanned (incomplete or too early)")
        np.testing.assert_allclose(faint.get_ydata(), level[~used])
    # Windows: half a period either side of their first and last periods.
    half = pd.Timedelta(days=3.5)
    start = naive(row["start"])
    last = start + (int(row["periods"]) - 1) * pd.Timedelta(days=7)
    if not row["ongoing"]:
        assert last == naive(row["end"])
    assert span(only(ax, "the change")) == (start - half, last + half)
    assert span(only(ax, "before")) == (naive(row["before_from"]) - half, start - half)
    for index, name in enumerate(["before", "during"]):
        line = only(ax, f"level {name} (95% interval)")
        np.testing.assert_allclose(line.get_ydata(), [row[name]] * 2)
        np.testing.assert_allclose(band(ax, index), [row[f"{name}_low"], row[f"{name}_high"]])
    assert isinstance(ax.yaxis.get_major_formatter(), PercentFormatter) == (family == "rate")
    assert ax.get_title().startswith(series_label(row) + "\n")
    return ax


def test_change_series_of_a_hand_made_halving():
    count = np.where(INSIDE, 150.0, 300.0)
    found = jl.find_changes(series("events", "purchase", count))
    ax = check_series_figure(found, 0)
    assert ax.get_title() == "Purchase events (whole log)\nDown 50% from 25 Mar to 14 Apr 2024"
    assert ax.get_ylabel() == "events a week"
    assert ax.get_xlabel() == "week starting (UTC)"
    # The levels before (four weeks) and during, hand-computed.
    assert only(ax, "level before (95% interval)").get_ydata()[0] == 300
    assert only(ax, "level during (95% interval)").get_ydata()[0] == 150


def test_change_series_of_an_ongoing_change_ends_at_the_last_used_period():
    """The last two weeks are not used (incomplete): an ongoing change's window runs to the
    last used one, and the two are drawn faint, apart from the observed line."""
    count = np.where(np.arange(30) >= 24, 150.0, 300.0)
    used = np.arange(30) < 28
    found = jl.find_changes(series("events", "purchase", count, used=used))
    row = found.table.iloc[0]
    assert row["ongoing"] and row["periods"] == 4
    ax = check_series_figure(found, 0)
    assert span(only(ax, "the change"))[1] == naive(WEEKS[27]) + pd.Timedelta(days=3.5)
    assert len(only(ax, "observed").get_ydata()) == 28
    assert len(only(ax, "not scanned (incomplete or too early)").get_ydata()) == 2
    assert ax.get_title().endswith("Down 50% since 17 Jun 2024")


def test_change_series_of_a_rate_is_a_share_on_a_percent_axis(mix):
    ax = check_series_figure(mix, 0)
    np.testing.assert_allclose(only(ax, "observed").get_ydata(), np.where(INSIDE, 0.4, 0.56))
    assert ax.get_title() == (
        "Conversion from cart to purchase (whole log)\n"
        "Down from 56.0% to 40.0% from 25 Mar to 14 Apr 2024"
    )


def test_change_series_of_money_and_of_a_series_from_nothing():
    base = np.full(30, 400.0)
    money = jl.find_changes(
        series("revenue per customer", None, np.where(INSIDE, 20.0, 50.0) * base, base)
    )
    ax = check_series_figure(money, 0)
    np.testing.assert_allclose(only(ax, "observed").get_ydata(), np.where(INSIDE, 20.0, 50.0))
    assert ax.get_title().endswith("(whole log)\nDown 60% from 25 Mar to 14 Apr 2024")
    assert ax.get_ylabel() == "revenue per active customer"
    new = jl.find_changes(
        series("events", "payment_error", np.where(np.arange(30) >= 20, 30.0, 0.0))
    )
    ax = check_series_figure(new, 0)
    assert (
        ax.get_title()
        == "Payment error events (whole log)\nUp from 0 to 30 a week since 20 May 2024"
    )


def test_change_series_of_the_planted_incidents(found):
    t = found.table
    rates = t.index[t["metric"].map(FAMILY) == "rate"]
    # (Ongoing changes are drawn from hand-made series below: the planted incidents end.)
    picks = {
        int(t.index[(t["kind"] == "spike")][0]),
        int(rates[0]),
        int(t.index[(t["detail"] == "delivery_late") & t["column"].isna()][0]),
    }
    for i in picks:
        check_series_figure(found, i)
    # The planted late deliveries, from 29 Apr 2024: found in the week after.
    late = t.index[(t["detail"] == "delivery_late") & t["column"].isna()][0]
    title = plots.change_series(found, late).axes[0].get_title()
    assert title.startswith("Delivery late events (whole log)\nUp ")
    assert "from 6 May to 26 May 2024" in title


def test_change_series_draws_into_a_given_axes_and_changes_plot_draws_it(mix):
    host, (left, right) = plt.subplots(1, 2)
    assert plots.change_series(mix, 0, ax=right) is host
    assert not left.has_data() and right.has_data()
    again = mix.plot(0).axes[0]
    assert again.get_title() == right.get_title()
    np.testing.assert_array_equal(
        only(again, "observed").get_ydata(), only(right, "observed").get_ydata()
    )
    assert mix.plot(ax=left) is host


@pytest.mark.parametrize("bad", [1, -1, True, 0.0, "0"])
def test_a_change_that_is_no_row_is_refused_naming_the_rows(mix, bad):
    for draw in (plots.change_series, plots.change_breakdown, lambda c, i: c.plot(i)):
        with pytest.raises(jl.JourneyParameterError, match=r"row of the table, 0 to 0; got"):
            draw(mix, bad)


def test_no_change_found_is_said_plainly():
    flat = jl.find_changes(series("events", "purchase", np.full(30, 300.0)))
    assert len(flat) == 0
    with pytest.raises(jl.JourneyParameterError, match="no change was found"):
        flat.plot()
    with pytest.raises(jl.JourneyParameterError, match="expected the result of"):
        plots.change_series(flat.table)


# --------------------------------------------------------------------------------------------
# change_breakdown
# --------------------------------------------------------------------------------------------


def bar_parts(ax):
    within, mix = ax.containers
    widths = [np.array([p.get_width() for p in c.patches]) for c in (within, mix)]
    lefts = [np.array([p.get_x() for p in c.patches]) for c in (within, mix)]
    return widths, lefts


def test_change_breakdown_of_a_shift_in_mix_is_all_mix(mix):
    ax = plots.change_breakdown(mix).axes[0]
    assert_readable(ax)
    # Kitagawa by hand: web's weight 0.9 -> 0.5 at 60%, mobile's 0.1 -> 0.5 at 20%.
    assert [t.get_text() for t in ax.get_yticklabels()] == ["web", "mobile"]
    (within, mix_), (left_within, left_mix) = bar_parts(ax)
    np.testing.assert_allclose(within, [0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(mix_, [-0.24, 0.08])
    np.testing.assert_allclose(left_within, 0.0)
    np.testing.assert_allclose(left_mix, 0.0, atol=1e-12)
    np.testing.assert_allclose(only(ax, "effect (within + mix)").get_xdata(), [-0.24, 0.08])
    assert [line.get_xdata()[0] for line in ax.get_lines() if line.get_linestyle() == "-"] == [0]
    assert ax.get_title() == (
        "Where the change happened: by platform\n"
        "Conversion from cart to purchase (whole log): -16.0 percentage points"
    )
    assert ax.get_ylabel() == "platform"
    assert ax.get_xlabel() == "change from 25 Mar to 14 Apr 2024 (percentage points)"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[-1] == "effect (within + mix)" and len(labels) == 3


def test_change_breakdown_of_a_count_is_each_values_change_in_level():
    web = np.where(INSIDE, 100.0, 200.0)
    places = {(None, None): web + 100, ("platform", "web"): web, ("platform", "app"): 100.0}
    rows = pd.concat(
        [series("events", "purchase", n, column=c, value=v) for (c, v), n in places.items()]
    )
    ax = plots.change_breakdown(jl.find_changes(rows)).axes[0]
    (within, mix), _ = bar_parts(ax)
    np.testing.assert_array_equal(within, [-100.0, 0.0])
    np.testing.assert_array_equal(mix, [0.0, 0.0])
    assert ax.get_title().endswith("Purchase events (whole log): -100 a week")
    # A count has no mix: the legend does not offer one.
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "change in level",
        "effect (within + mix)",
    ]


def test_change_breakdown_of_the_planted_incidents_adds_up(found):
    t = found.table
    for i in [int(t.index[t["metric"] == "conversion"][0]), 0]:
        split = found.breakdown(i)
        for column in ["segment", "acquisition_channel"]:
            ax = plots.change_breakdown(found, i, column=column).axes[0]
            part = split[split["column"] == column].sort_values("effect", kind="stable")
            (within, mix), (left_within, left_mix) = bar_parts(ax)
            np.testing.assert_array_equal(within, part["within"])
            # A part stacked on another is stored as (left + width) - left by matplotlib.
            np.testing.assert_allclose(mix, part["mix"], rtol=1e-12, atol=1e-15)
            assert (left_within == 0).all()
            same = np.sign(part["mix"]) == np.sign(part["within"])
            np.testing.assert_array_equal(left_mix, np.where(same, part["within"], 0.0))
            assert [x.get_text() for x in ax.get_yticklabels()] == part["value"].tolist()
            assert f"by {column}\n" in ax.get_title()
    # The title's total is the whole log's change over the windows, computed apart.
    i = int(t.index[(t["metric"] == "conversion") & t["column"].isna()][0])
    row = t.iloc[i]
    whole = found.series_of(i, every_place=True)
    whole = whole[whole["column"].isna()]
    last = row["start"] + (int(row["periods"]) - 1) * pd.Timedelta(days=7)
    before = whole[whole["period"].between(row["before_from"], row["start"] - pd.Timedelta(days=7))]
    during = whole[whole["period"].between(row["start"], last)]
    moved = (
        during["count"].sum() / during["base"].sum() - before["count"].sum() / before["base"].sum()
    )
    title = plots.change_breakdown(found, i).axes[0].get_title()
    assert title.endswith(f"(whole log): {moved * 100:+.1f} percentage points")
    # The first column by default.
    default = plots.change_breakdown(found, i).axes[0].get_title()
    assert "by acquisition_channel\n" in default


def test_change_breakdown_refuses_an_unsplit_log_and_an_unknown_column(mix):
    unsplit = jl.find_changes(series("events", "purchase", np.where(INSIDE, 150.0, 300.0)))
    with pytest.raises(jl.JourneyParameterError, match="not split by any segment column"):
        plots.change_breakdown(unsplit)
    with pytest.raises(jl.JourneyParameterError, match=r"one of \['platform'\]; got 'plan'"):
        plots.change_breakdown(mix, column="plan")
    host = plt.figure()
    ax = host.add_subplot()
    assert plots.change_breakdown(mix, ax=ax) is host


# --------------------------------------------------------------------------------------------
# changes_heatmap
# --------------------------------------------------------------------------------------------


def reference_overview(found, top):
    """The rows the overview should show, in order, with their cells, by brute force."""
    s = found.series
    table = found.table
    rows = []
    for position, (key, block) in enumerate(s.groupby(KEYS, dropna=False, sort=False)):
        block = block.sort_values("period")
        family = FAMILY[key[0]]
        base = block["base"].where(block["base"] > 0)
        level = block["count"] / (1.0 if family == "count" else base)
        expected = block["expected"].to_numpy()
        # Counts: against at least one event (a rare event's quiet period is no fall).
        scale = np.maximum(expected, 1.0) if family == "count" else expected
        with np.errstate(divide="ignore", invalid="ignore"):
            gap = np.clip((level.to_numpy() - expected) / scale, -1, 1)
        cells = np.where(block["used"], gap, np.nan)
        mine = np.ones(len(table), bool)
        for k, v in zip(KEYS, key, strict=True):
            mine &= table[k].isna().to_numpy() if pd.isna(v) else (table[k] == v).to_numpy()
        rows.append((not mine.any(), -block["best"].iloc[0], position, block.iloc[0], cells, mine))
    rows.sort(key=lambda r: r[:3])
    return rows[:top]


def check_overview(found, top):
    figure = plots.changes_heatmap(found, top=top)
    ax = figure.axes[0]
    assert_readable(ax)
    shown = reference_overview(found, top)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == [series_label(r[3]) for r in shown]
    drawn = np.ma.filled(ax.images[0].get_array().astype(float), np.nan)
    np.testing.assert_allclose(drawn, np.array([r[4] for r in shown]))
    periods = pd.DatetimeIndex(np.sort(found.series["period"].unique()))
    boxes = []
    for y, r in enumerate(shown):
        for _, change in found.table[r[5]].iterrows():
            x = periods.get_loc(change["start"])
            boxes.append((x - 0.5, y - 0.5, int(change["periods"]), 1))
    got = [(p.get_x(), p.get_y(), p.get_width(), p.get_height()) for p in ax.patches]
    assert sorted(got) == sorted(boxes)
    return ax


def test_changes_heatmap_of_the_planted_incidents(found):
    ax = check_overview(found, 20)
    assert len(ax.get_yticklabels()) == 20
    assert ax.get_title() == (
        "Every series scanned against its baseline\n"
        f"the 20 that moved most of 324; {len(found)} changes found (outlined)"
    )
    # Few rows: changes first, then the strongest unchanged series.
    check_overview(found, 3)
    check_overview(found, len(found.series) // 52)


def test_changes_heatmap_of_a_log_without_changes_still_draws_the_series():
    flat = jl.find_changes(
        pd.concat(
            [
                series("events", "purchase", np.full(30, 300.0)),
                series("events", "visit", np.full(30, 900.0), used=np.arange(30) > 2),
            ]
        )
    )
    ax = check_overview(flat, 20)
    assert len(ax.get_yticklabels()) == 2 and not ax.patches
    assert np.isnan(ax.images[0].get_array().filled(np.nan)[1, :3]).all()  # not used: grey
    assert "0 changes found" in ax.get_title()


def test_changes_heatmap_checks_top_and_draws_into_a_given_axes(mix):
    for bad in [0, 2.5, True, None]:
        with pytest.raises(jl.JourneyParameterError, match="top must be a whole number >= 1"):
            plots.changes_heatmap(mix, top=bad)
    host = plt.figure()
    ax = host.add_subplot()
    assert plots.changes_heatmap(mix, ax=ax) is host
    # The mix's three series: the whole log's changed, the two platforms steady.
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == "Conversion from cart to purchase (whole log)"
