"""Tests of journey_lib.report.data: what a report notebook reads, which sections apply to the
data, the sentence shown instead of one that does not, and the notes for the reader."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest

import journey_lib as jl
from journey_lib.errors import JourneyDataError, JourneyDataWarning, JourneyParameterError
from journey_lib.report import ReportData, open_data


@pytest.fixture(autouse=True)
def keep_warnings(monkeypatch):
    """open_data routes warnings into its notes; put the hook back after each test."""
    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)


def shop() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": ["u1", "u1", "u1", "u2", "u2", "u3", "u3", ""],
            "event": ["catalog", "cart", "payment_done", "catalog", "cart", "catalog", "X", "cart"],
            "ts": [
                "2020-01-01 10:00",
                "2020-01-01 10:05",
                "2020-01-01 10:09",
                "2020-01-02 09:00",
                "2020-01-02 09:30",
                "2020-01-03 12:00",
                "2020-01-03 12:00",
                "2020-01-04 08:00",
            ],
        }
    )


def test_sections_that_apply_and_those_that_do_not(capsys):
    data = open_data(shop(), quiet=False)
    assert data.supports("funnel") and data.supports("log") and data.supports("stages")
    assert data.why_not("attribution") == "the log has no channel column"
    assert data.why_not("value") == "the log has no money column"
    assert data.supports("retention")  # two days and two hours: two daily periods
    assert data.why_not("retention", period="week") == "the log spans 2 days, less than two weeks"
    assert data.why_not("churn_table") == "it is a log, not a customer table"
    assert data.why_not("funnel", steps=["catalog", "refund"]) == (
        "the funnel's step 'refund' never happens in the chosen dates"
    )
    capsys.readouterr()
    assert not data.supports("attribution")
    assert not data.supports("channels")  # the same reason: said once
    shown = capsys.readouterr().out.strip().splitlines()
    assert shown == ["*Attribution does not apply to this data: the log has no channel column.*"]
    with pytest.raises(JourneyParameterError, match="unknown requirement 'funnels'"):
        data.supports("funnels")


def test_a_model_the_data_defeats_is_one_sentence(capsys):
    data = open_data(shop(), quiet=False)
    with data.attempt("value"):
        raise JourneyDataError("no repeat buyers. Nothing to fit")
    assert capsys.readouterr().out.strip() == (
        "*Customer value could not be estimated on this data: no repeat buyers.*"
    )
    assert not data.supports("value") and capsys.readouterr().out == ""
    with pytest.raises(JourneyParameterError), data.attempt("value"):
        raise JourneyParameterError("months must be positive")  # a real error still fails


def test_about_this_data():
    data = open_data(shop(), quiet=True)
    warnings.warn("12 rows reinterpreted: see below\nmore", JourneyDataWarning, stacklevel=1)
    warnings.warn("overflow in exp", RuntimeWarning, stacklevel=1)
    lines = data.about_lines()
    assert lines[0] == "8 rows read from the data frame."
    assert lines[1] == "1 rows were set aside: 1 missing customer id."
    assert lines[2] == (
        "Columns read: times `ts`, customers `user_id`, events `event` (inferred from the data)."
    )
    assert lines[3].startswith("1 event types have no journey stage: `X`")
    assert lines[4] == "12 rows reinterpreted: see below."
    assert data.technical == ["RuntimeWarning: overflow in exp"]
    quality = data.quality()["rows"].to_dict()
    assert quality == {
        "rows read": 8,
        "usable": 7,
        "set aside: missing customer id": 1,
        "exact duplicates, counted once": 0,
    }


def test_a_customer_table():
    table = pd.DataFrame(
        {
            "CustomerID": [1, 2, 3, 4],
            "Churn": ["Yes", "No", "No", "Yes"],
            "signup_date": ["2024-01-01", "2024-01-11", "2024-01-31", "2024-01-01"],
            "Plan": ["a", "b", "a", "b"],
        }
    )
    data = open_data(table, quiet=False)
    assert data.events is None and len(data.table) == 4
    assert data.why_not("funnel") == (
        "it is a customer table, one row per customer, with no touchpoints over time"
    )
    X, y = data.churn_dataset()
    assert y.tolist() == [1, 0, 0, 1] and X.index.tolist() == [1, 2, 3, 4]
    # Sign-up dates become days before the latest one.
    assert X["first_seen"].tolist() == [30, 20, 0, 30]
    assert data.churn_summary()["value"].tolist() == ["4", "2", "50.0%"]
    assert data.why_not("churn_labels", y=y).startswith("a model needs at least 10")


def test_churn_window_of_a_short_log():
    data = open_data(shop(), quiet=False)
    assert data.why_not("churn_window", cutoff="2020-01-02", horizon="7D") == (
        "the cutoff 2020-01-02 leaves less than one horizon (7 days) of history after the "
        "log's start (2020-01-01)"
    )


def test_offer_value():
    assert ReportData.offer_value("") is None
    assert ReportData.offer_value("12.5") == 12.5
    assert ReportData.offer_value("TotalCharges") == "TotalCharges"


def test_segment_columns_in_order_customer_table_first():
    # Customer table: a text plan (2 values) and a whole-number tier (3) are segments; a
    # date, an id-like column (a value per customer) and a float score are not.
    n = 12
    ids = [f"c{i}" for i in range(n)]
    log = pd.DataFrame(
        {
            "user": ids * 2,
            "event": ["visit"] * n + ["buy"] * n,
            "ts": pd.date_range("2024-01-01", periods=2 * n, freq="D"),
            "source": (["ads", "web", "mail"] * 8)[: 2 * n],
            "empty": [None] * (2 * n),
        }
    )
    data = open_data(log, quiet=False)
    data.customers = pd.DataFrame(
        {
            "customer_id": ids,
            "plan": ["pro", "basic"] * (n // 2),
            "tier": [1, 2, 3] * (n // 3),
            "signup": pd.date_range("2023-01-01", periods=n, freq="D"),
            "code": [f"x{i}" for i in range(n)],
            "score": [0.5 + i / 7 for i in range(n)],
            "source": ["a", "b"] * (n // 2),
        }
    )
    assert data.segment_columns() == ["plan", "tier", "source", "channel"]
    assert data.segment_columns(limit=2) == ["plan", "tier"]
    # A customer table's column is read from it (it wins over the log's, as in Segments).
    spec = data.segments("source", top=3)
    assert spec.customers is data.customers and spec.columns == ["source"] and spec.top == 3
    assert data.segments(["channel"]).customers is None
    segments = jl.customer_segments(data.events, data.segments(["plan", "channel"]))
    assert set(segments["plan"]) == {"pro", "basic"}


def test_segment_columns_skip_empty_and_time_columns_and_customer_tables():
    log = pd.DataFrame(
        {
            "user": list("aabbcc"),
            "event": ["visit", "buy"] * 3,
            "ts": pd.date_range("2024-01-01", periods=6, freq="D"),
        }
    )
    data = open_data(log, quiet=False)
    assert data.segment_columns() == []  # no channel, no property
    table = pd.DataFrame(
        {"customer_id": range(20), "churned": [0, 1] * 10, "plan": ["a", "b"] * 10}
    )
    assert open_data(table, quiet=False).segment_columns() == []


def segment_log() -> ReportData:
    """Six customers a to f over a week, a log column ``source`` (read as the channel) that
    changes for ``a``,
    a ``seen`` instant per row, and a customer table with a 30-value ``country``."""
    log = pd.DataFrame(
        {
            "user": list("aabbccddeeff"),
            "event": ["visit", "buy"] * 6,
            "ts": pd.date_range("2024-01-01", periods=12, freq="12h"),
            "source": ["ads", "web"] + ["ads"] * 4 + ["web"] * 6,
        }
    )
    log["seen"] = log["ts"]
    data = open_data(log, quiet=False)
    data.customers = pd.DataFrame(
        {
            "customer_id": list("abcdef"),
            "country": ["fr", "de", "fr", "it", "fr", "de"],
            "joined": pd.date_range("2023-01-01", periods=6, freq="D", tz="UTC"),
            "tier": ["gold", "(other)", "gold", "basic", "gold", "basic"],
        }
    )
    return data


def test_segment_settles_the_column_and_checks_it_as_the_analytics_read_it(capsys):
    data = segment_log()
    # A usable column: its Segments and its name, and nothing said.
    spec, column = data.segment("country", top=2)
    assert column == "country" and spec.columns == ["country"] and spec.top == 2
    assert spec.customers is data.customers
    found = jl.customer_segments(data.events, spec).set_index("customer_id")["country"]
    assert found.to_dict() == dict(
        zip("abcdef", ["fr", "de", "fr", "(other)", "fr", "de"], strict=True)
    )
    spec, column = data.segment("channel", by_rule="last")
    assert (column, spec.rule, spec.customers) == ("channel", "last", None)
    assert data.segment("") == (None, "") and data.segment(" , ") == (None, "")
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    ("by", "reason"),
    [
        # Dates or times, of the customer table or of the log: the time rule segment_columns
        # applies, checked before any analytic runs.
        ("joined", "the segment column 'joined' holds dates or times"),
        ("seen", "the segment column 'seen' holds dates or times"),
        ("nowhere", "the segment column 'nowhere' is in neither the log nor the customer"),
        # What only reading the values finds: a reserved name as a value.
        ("tier", "by='tier': the customer table's column holds '(missing)' or '(other)'"),
        # A column the analytics refuse by name.
        ("customer_id", "by='customer_id' would give every customer (or row) a segment"),
    ],
)
def test_segment_a_column_the_analytics_cannot_use_gives_one_sentence(capsys, by, reason):
    data = segment_log()
    assert data.segment(by) == (None, "")
    shown = capsys.readouterr().out.strip().splitlines()
    assert len(shown) == 1 and shown[0].startswith("*Comparing segments does not apply")
    assert reason in shown[0] and shown[0].endswith(".*")
    # Said once: asking again shows nothing more.
    assert data.segment(by) == (None, "") and capsys.readouterr().out == ""
    # What every analytic of the page would have raised, had the segment been passed on.
    if by != "nowhere":
        with pytest.raises(jl.JourneyError):
            jl.stage_funnel(data.events, by=data.segments(by), unmapped="ignore")


def test_segment_a_customer_listed_twice_gives_one_sentence(capsys):
    data = segment_log()
    data.customers = pd.concat([data.customers, data.customers.iloc[[0]]], ignore_index=True)
    assert data.segment("country") == (None, "")
    shown = capsys.readouterr().out
    assert "the customer table lists 1 customer_id(s) more than once" in shown


def test_segment_of_a_list_takes_the_first_column_with_a_sentence(capsys):
    data = segment_log()
    spec, column = data.segment("country, channel", by_rule="last")
    assert column == "country" and spec.columns == ["country"]
    shown = capsys.readouterr().out.strip().splitlines()
    assert shown == [
        "*This page breaks the journey down by one segment column, the first named: country "
        "(channel left out; notebook 06 compares each on its own).*"
    ]
    # The first named decides: one the data cannot use gives no segments, not the next.
    assert data.segment("joined,country") == (None, "")
    assert "'joined' holds dates or times" in capsys.readouterr().out


def test_segments_requirement_refuses_a_time_column_by_the_segment_columns_rule():
    data = segment_log()
    assert "seen" not in data.segment_columns() and "joined" not in data.segment_columns()
    assert data.why_not("segments", by=["channel", "seen"]) == (
        "the segment column 'seen' holds dates or times, which give nearly every customer a "
        "segment of their own (derive a period first, such as a month)"
    )
    assert data.why_not("segments", by=["channel", "country"]) is None


def test_segment_a_wrong_rule_fails_the_notebook():
    data = segment_log()
    for rule in ("at_cutoff", "frist"):
        with pytest.raises(JourneyParameterError, match="by_rule must be one of 'first', 'last'"):
            data.segment("channel", by_rule=rule)


def test_a_large_churn_dataset_is_learnt_from_a_stratified_sample_and_says_so():
    data = open_data(str(Path(__file__).resolve().parents[1] / "data/sample/events.csv.gz"))
    whole = data.churn_dataset()
    assert "learnt from" not in data.dataset_summary(whole).index
    data.train_customers = 300
    X, y = sampled = data.churn_dataset()
    assert len(X) == len(y) == 300 < len(whole[1])
    assert X.index.isin(whole[0].index).all() and X.index.is_monotonic_increasing
    # Stratified: the churn share of the whole dataset, to one customer.
    assert abs(int(y.sum()) - 300 * whole[1].mean()) <= 1
    summary = data.dataset_summary(sampled)
    assert summary.loc["learnt from", "value"] == "a sample of 300, in the same churn share"
    # The population counts stay the whole dataset's.
    assert summary.loc["customers in the dataset", "value"] == f"{len(whole[1]):,}"
