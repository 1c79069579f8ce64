"""What a page may show of the changes found under min_cell (journey_lib.report.change_privacy):
cells hidden exactly where the rule says (a brute-force reference per period), levels before a
change hidden when their window rests on too few, breakdowns whose hidden values go together and
still add up, and readings, tables and figures that show nothing hidden."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import journey_lib as jl
from journey_lib.report import change_readings as cr
from journey_lib.report.change_privacy import HIDDEN, PrivateChanges, private_changes
from journey_lib.report.privacy import suppressed

WEEKS = pd.date_range("2024-01-01", periods=52, freq="7D", tz="UTC")
BUMP = (np.arange(52) >= 20) & (np.arange(52) < 24)


def _counts(values: dict[str, np.ndarray], detail: str = "purchase") -> pd.DataFrame:
    """An event's weekly counts per platform value, with the whole log their sum."""
    whole = sum(values.values())
    places = {(None, None): whole} | {("platform", v): n for v, n in values.items()}
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "metric": "events",
                    "detail": detail,
                    "column": c,
                    "value": v,
                    "period": WEEKS,
                    "count": np.asarray(n, dtype="float64"),
                    "base": np.nan,
                    "used": True,
                }
            )
            for (c, v), n in places.items()
        ],
        ignore_index=True,
    )


@pytest.fixture(scope="module")
def small_app():
    """The app's 3 purchases a week quadruple for four weeks; web and shop are large."""
    rng = np.random.default_rng(7)
    values = {
        "web": rng.poisson(300, 52),
        "shop": rng.poisson(80, 52),
        "app": np.where(BUMP, 12, 3),
    }
    return jl.find_changes(_counts(values), min_count=1)


def test_series_cells_hidden_as_a_brute_force_per_period_says(small_app):
    shown = private_changes(small_app, 20)
    s, p = small_app.series, shown.series
    for (period,), rows in s[s["column"].notna()].groupby(["period"]):
        expected = suppressed(rows["count"], 20)
        assert p.loc[rows.index, "count"].isna().tolist() == expected.tolist(), period
    # The whole log is never small here, and what is not hidden is untouched.
    assert p.loc[s["column"].isna(), "count"].notna().all()
    kept = p["count"].notna()
    assert (p.loc[kept, ["count", "expected"]] == s.loc[kept, ["count", "expected"]]).all().all()
    # Every week of the app (3 or 12) is hidden, and with it the next smallest, shop.
    app = p[p["value"] == "app"]
    assert app["count"].isna().all()
    assert p.loc[p["value"] == "shop", "count"].isna().all()
    assert p.loc[p["value"] == "web", "count"].notna().all()


def test_a_level_before_on_too_few_is_hidden_and_the_change_reads_without_it(small_app):
    i = int(small_app.table.index[small_app.table["value"] == "app"][0])
    row = small_app.table.iloc[i]
    # Worked by hand: four weeks before at 3 (12 events), four during at 12 (48 events).
    assert (row["periods"], row["behind"], row["before"], row["during"]) == (4, 48.0, 3.0, 12.0)
    shown = private_changes(small_app, 20)
    hidden = shown.table.iloc[i]
    assert np.isnan([hidden[c] for c in ("before", "before_low", "before_high")]).all()
    assert np.isnan([hidden["change"], hidden["relative"]]).all()
    assert (hidden["during"], hidden["score"]) == (12.0, row["score"])
    assert cr.change_reading(shown, i) == (
        "Purchase events rose to 12 a week from 20 May to 16 Jun 2024, for platform app."
    )
    table = cr.changes_table(small_app, min_cell=20)
    assert table.loc[
        table["where"] == "platform app", ["before", "during", "size"]
    ].values.tolist() == [["<20", "12 a week", "–"]]
    # Under 12, the 12 events before may be shown.
    assert private_changes(small_app, 12).table.iloc[i]["before"] == 3.0
    recorded = cr.recorded_changes(small_app, min_cell=20)
    assert "rose to 12 a week" in recorded["what_changed_1"]
    assert recorded["change_1_size"] is None  # unknown, so an alert treats it as large
    assert cr.recorded_changes(small_app, min_cell=0)["change_1_size"] == pytest.approx(3.0)


def test_ranking_and_sentences_do_not_depend_on_what_is_hidden(small_app):
    shown = private_changes(small_app, 20)
    assert isinstance(shown, PrivateChanges)
    assert cr.headline_changes(shown, min_cell=20) == cr.headline_changes(small_app, min_cell=20)
    assert private_changes(shown, 20) is shown  # already private
    assert private_changes(shown, 0) is small_app
    assert private_changes(small_app, 0) is small_app
    assert len(shown) == len(small_app)  # rows keep their numbers


def _rates(rates: dict[str, tuple[np.ndarray, float]]) -> pd.DataFrame:
    """Cart-to-purchase conversion per platform: (rate per week, customers a week)."""
    parts = {
        v: pd.DataFrame(
            {
                "metric": "conversion",
                "detail": "cart → purchase",
                "column": "platform",
                "value": v,
                "period": WEEKS,
                "count": np.round(rate * customers),
                "base": float(customers),
                "used": True,
            }
        )
        for v, (rate, customers) in rates.items()
    }
    whole = next(iter(parts.values())).copy()
    whole["column"] = whole["value"] = None
    whole["count"] = sum(p["count"] for p in parts.values())
    whole["base"] = sum(p["base"] for p in parts.values())
    return pd.concat([whole, *parts.values()], ignore_index=True)


@pytest.fixture(scope="module")
def rate_fall():
    """Conversion falls from 60% to 30% for four weeks on web and mobile (400 and 300 a
    week); tablet and watch have 6 and 4 customers a week, converting at 50%."""
    fall = np.where(BUMP, 0.3, 0.6)
    rates = {
        "web": (fall, 400),
        "mobile": (fall, 300),
        "tablet": (np.full(52, 0.5), 6),
        "watch": (np.full(52, 0.5), 4),
    }
    return jl.find_changes(_rates(rates))


def test_a_breakdown_puts_hidden_values_together_and_still_adds_up(rate_fall):
    i = int(rate_fall.table.index[rate_fall.table["column"].isna()][0])
    whole = rate_fall.breakdown(i)
    # Under 30, over each four-week window tablet has 24 customers and watch 16: hidden.
    # Their conversions (12 and 8) are 20 together, under 30, so the next smallest
    # conversions, mobile's 360, are hidden with them.
    shown = private_changes(rate_fall, 30).breakdown(i)
    assert shown["value"].tolist() == ["web", HIDDEN]
    small = whole[whole["value"] != "web"]
    together = shown[shown["value"] == HIDDEN].iloc[0]
    for part in ("within", "mix", "effect", "before_weight", "during_weight"):
        assert together[part] == pytest.approx(small[part].sum())
    weights = small["during_weight"]
    assert together["during"] == pytest.approx((weights * small["during"]).sum() / weights.sum())
    assert shown["effect"].sum() == pytest.approx(whole["effect"].sum())
    # Under 10, watch's 8 conversions a window go with tablet's 12; under 5 none is hidden.
    assert private_changes(rate_fall, 10).breakdown(i)["value"].tolist() == [
        "mobile",
        "web",
        HIDDEN,
    ]
    assert HIDDEN not in private_changes(rate_fall, 5).breakdown(i)["value"].tolist()


def test_a_rate_from_few_conversions_is_hidden_though_its_base_is_large():
    # 200 customers a week, of whom 1 converts, then 40 for four weeks.
    rate = np.where(BUMP, 0.2, 0.005)
    found = jl.find_changes(_rates({"web": (rate, 200), "mobile": (np.full(52, 0.5), 200)}))
    shown = private_changes(found, 5)
    web = shown.series[shown.series["value"] == "web"]
    assert web["count"].isna().tolist() == (~BUMP).tolist()


def test_a_rate_nearly_everyone_meets_is_hidden_for_the_few_who_do_not():
    """200 customers a week of whom 198 convert (the 2 who do not are a small cell), then
    160 for four weeks: hidden in the usual weeks, with the other value as complement, shown
    in the four. The level before, over the four weeks before them, is shown: their 2s
    together are 8, which singles out no one."""
    rate = np.where(BUMP, 0.8, 0.99)
    found = jl.find_changes(_rates({"web": (rate, 200), "mobile": (np.full(52, 0.5), 200)}))
    shown = private_changes(found, 5)
    web = shown.series[shown.series["value"] == "web"]
    assert web["count"].isna().tolist() == (~BUMP).tolist()
    mobile = shown.series[shown.series["value"] == "mobile"]
    assert mobile["count"].isna().tolist() == (~BUMP).tolist()
    row = found.table.index[found.table["value"] == "web"][0]
    before, weeks = found.windows(row)[0], found.table.at[row, "periods"]
    assert len(before) == 4 and weeks == 4
    assert shown.table.at[row, "before"] == pytest.approx(0.99)
    assert shown.table.at[row, "during"] == pytest.approx(0.8)
    # Under the rule before it (converted customers only), web's usual weeks were shown.
    assert not private_changes(found, 2).series["count"].isna().any()


def test_figures_of_a_private_result_draw_nothing_hidden(small_app, rate_fall):
    shown = private_changes(small_app, 20)
    i = int(small_app.table.index[small_app.table["value"] == "app"][0])
    figure = jl.plots.change_series(shown, i)
    ax = figure.axes[0]
    observed = next(line for line in ax.get_lines() if line.get_label() == "observed")
    assert np.isnan(observed.get_ydata()).all()
    assert ax.get_title().splitlines()[1] == "Up to 12 a week from 20 May to 16 Jun 2024"
    plt.close(figure)
    heat = jl.plots.changes_heatmap(shown)
    cells = heat.axes[0].images[0].get_array()
    labels = [t.get_text() for t in heat.axes[0].get_yticklabels()]
    for value in ("app", "shop"):
        row = next(k for k, label in enumerate(labels) if f"platform {value}" in label)
        assert cells.mask[row].all()
    plt.close(heat)
    whole = int(rate_fall.table.index[rate_fall.table["column"].isna()][0])
    bars = jl.plots.change_breakdown(private_changes(rate_fall, 30), whole)
    assert HIDDEN in [t.get_text() for t in bars.axes[0].get_yticklabels()]
    assert "nan" not in bars.axes[0].get_title()
    plt.close(bars)


def test_a_level_that_would_give_away_a_hidden_week_is_hidden():
    """Payment errors at 200 a week fall to 5, 25, 25, 25 for four weeks. Under 20 the week
    of 5 is hidden; the level during (80 over four weeks, 20 a week) less the three weeks
    shown would give it away, so the level goes too, though the four weeks hold 80."""
    n = np.full(52, 200.0)
    n[20:24] = [5, 25, 25, 25]
    found = jl.find_changes(_counts({"web": n}, detail="payment_error"), min_count=1)
    whole = int(found.table.index[found.table["column"].isna()][0])
    assert found.table.at[whole, "during"] == 20.0
    shown = private_changes(found, 20)
    assert np.isnan(shown.table.at[whole, "during"]) and np.isnan(shown.table.at[whole, "behind"])
    assert shown.table.at[whole, "before"] == found.table.at[whole, "before"]
    assert cr.what_changed(found, min_cell=20)[0] == (
        "Payment error events fell from 200 a week to a level not shown for privacy from 20 May "
        "to 16 Jun 2024."
    )
    figure = jl.plots.change_series(shown, whole)
    levels = {line.get_label(): line for line in figure.axes[0].get_lines()}
    assert np.isnan(levels["level during (95% interval)"].get_ydata()).all()
    plt.close(figure)
    # Nor is a breakdown: its values' parts add up to the whole change.
    assert shown.breakdown(whole).empty and not found.breakdown(whole).empty
    assert cr.where_text(shown, whole) == ""
    # Under 5 no week is hidden, and the level is shown.
    assert private_changes(found, 5).table.at[whole, "during"] == 20.0


def test_a_rate_from_too_few_conversions_reads_without_its_level():
    """Conversion falls from 60% to 1% of 400 customers a week for three weeks: 12
    conversions, under 20, so its level during is not shown, though 1,200 customers are
    behind it; the change is still told, and listed."""
    rate = np.where((np.arange(52) >= 12) & (np.arange(52) < 15), 0.01, 0.6)
    found = jl.find_changes(_rates({"web": (rate, 400)}))
    whole = int(found.table.index[found.table["column"].isna()][0])
    sentence = cr.what_changed(found, min_cell=20)[0]
    assert sentence.startswith(
        "Conversion from cart to purchase fell from 60.0% to a level not shown for privacy from "
        "25 Mar"
    )
    table = cr.changes_table(found, min_cell=20)
    assert table.loc[table["where"] == "whole log", "during"].tolist() == ["<20"]
    title = jl.plots.change_series(private_changes(found, 20), whole).axes[0].get_title()
    assert "Down from 60.0% to a level not shown for privacy" in title
    plt.close("all")
