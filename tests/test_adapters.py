"""Tests of journey_lib.io.adapters: transaction logs and customer tables."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from engines import missing, require_module

from journey_lib.errors import JourneyDataError, JourneyDataWarning, JourneyParameterError
from journey_lib.io.adapters import (
    CustomerReport,
    from_customer_table,
    from_transactions,
    validate_customers,
)
from journey_lib.io.validate import ValidationReport, validate_events

DATA = Path(__file__).parents[2] / "shared" / "data"
CHURN = DATA / "churn"

RETAIL = {"customer": "CustomerID", "timestamp": "InvoiceDate", "amount": "UnitPrice"}


@pytest.fixture
def lines() -> pd.DataFrame:
    """Two invoices of one customer: 536365 with two lines, and cancellation C536379."""
    return pd.DataFrame(
        {
            "InvoiceNo": ["536365", "536365", "C536379"],
            "StockCode": ["85123A", "71053", "22633"],
            "Quantity": [6, 2, -1],
            "UnitPrice": [2.55, 3.39, 1.85],
            "CustomerID": [17850.0, 17850.0, 17850.0],
            "InvoiceDate": ["2010-12-01 08:26", "2010-12-01 08:25", "2010-12-01 09:41"],
        },
        index=[10, 11, 12],
    )


def _read_churn(name: str, **options) -> pd.DataFrame:
    path = CHURN / name
    if not path.exists():
        missing(f"real data {path} is absent (the shared data folder is not next to the repo)")
    return pd.read_csv(path, **options)


# --- from_transactions ---------------------------------------------------------------------


def test_invoices_become_one_event_each(lines):
    events = from_transactions(lines, **RETAIL, quantity="Quantity", invoice="InvoiceNo")

    assert events.columns.tolist() == [
        "customer_id",
        "timestamp",
        "event",
        "channel",
        "value",
        "InvoiceNo",
        "items",
    ]
    assert events.index.tolist() == [0, 1]
    assert events["InvoiceNo"].tolist() == ["536365", "C536379"]
    # 6 * 2.55 + 2 * 3.39 = 15.30 + 6.78; the cancellation is -1 * 1.85.
    assert events["value"].tolist() == pytest.approx([22.08, -1.85])
    assert events["event"].tolist() == ["purchase", "return"]
    assert events["items"].tolist() == [2, 1]
    # The earliest line's time, although it is the second line.
    assert events["timestamp"].tolist() == [
        pd.Timestamp("2010-12-01 08:25", tz="UTC"),
        pd.Timestamp("2010-12-01 09:41", tz="UTC"),
    ]
    assert events["customer_id"].tolist() == [17850.0, 17850.0]
    assert events["channel"].isna().all()


def test_lines_become_one_event_each_and_keep_their_columns(lines):
    events = from_transactions(lines, **RETAIL, quantity="Quantity")

    assert events.columns.tolist() == [
        "customer_id",
        "timestamp",
        "event",
        "channel",
        "value",
        "InvoiceNo",
        "StockCode",
        "Quantity",
        "UnitPrice",
    ]
    assert events.index.tolist() == [10, 11, 12]
    assert events["value"].tolist() == pytest.approx([15.30, 6.78, -1.85])
    assert events["event"].tolist() == ["purchase", "purchase", "return"]
    # Not validated: the timestamp text is passed through for validate_events to parse.
    assert events["timestamp"].tolist() == lines["InvoiceDate"].tolist()


def test_amount_without_quantity_is_renamed_to_value(lines):
    events = from_transactions(lines, **RETAIL)

    assert "UnitPrice" not in events.columns
    assert events["value"].tolist() == [2.55, 3.39, 1.85]
    assert events["event"].tolist() == ["purchase"] * 3


def test_returns_none_keeps_negative_values_under_the_event_name(lines):
    events = from_transactions(
        lines, **RETAIL, quantity="Quantity", invoice="InvoiceNo", event="order", returns=None
    )
    assert events["event"].tolist() == ["order", "order"]
    assert events["value"].tolist() == pytest.approx([22.08, -1.85])


def test_custom_event_names(lines):
    events = from_transactions(
        lines, **RETAIL, quantity="Quantity", event="order", returns="refund"
    )
    assert events["event"].tolist() == ["order", "order", "refund"]


def test_channel_column(lines):
    lines = lines.assign(shop=[None, "web", "store"])
    per_line = from_transactions(lines, **RETAIL, channel="shop")
    per_invoice = from_transactions(lines, **RETAIL, channel="shop", invoice="InvoiceNo")

    assert "shop" not in per_line.columns
    assert per_line["channel"].isna().tolist() == [True, False, False]
    # The first channel that is not missing among the invoice's lines.
    assert per_invoice["channel"].tolist() == ["web", "store"]


def test_validated_events_keep_net_revenue(lines):
    report = validate_events(
        from_transactions(lines, **RETAIL, quantity="Quantity", invoice="InvoiceNo")
    )
    assert report.ok
    assert report.clean["value"].sum() == pytest.approx(22.08 - 1.85)
    assert report.clean["customer_id"].tolist() == [17850, 17850]


def test_missing_column_names_argument_and_lists_columns(lines):
    with pytest.raises(JourneyDataError) as caught:
        from_transactions(lines, customer="CustID", timestamp="InvoiceDate", amount="UnitPrice")
    message = str(caught.value)
    assert "'CustID' (given as customer=)" in message
    assert "did you mean 'CustomerID'" in message
    assert "['InvoiceNo', 'StockCode', 'Quantity', 'UnitPrice', 'CustomerID', 'InvoiceDate']" in (
        message
    )


@pytest.mark.parametrize("argument", ["quantity", "invoice", "channel"])
def test_missing_optional_column_is_an_error(lines, argument):
    with pytest.raises(JourneyDataError, match=f"'nope' \\(given as {argument}=\\)"):
        from_transactions(lines, **RETAIL, **{argument: "nope"})


def test_same_column_for_two_arguments(lines):
    with pytest.raises(JourneyParameterError, match="amount= and quantity= name the same"):
        from_transactions(lines, **{**RETAIL, "amount": "Quantity"}, quantity="Quantity")


@pytest.mark.parametrize("bad", [{"event": ""}, {"returns": "  "}, {"event": None}])
def test_event_names_must_be_text(lines, bad):
    with pytest.raises(JourneyParameterError, match="non-empty event name"):
        from_transactions(lines, **RETAIL, **bad)


def test_passed_through_column_named_like_an_output_is_an_error(lines):
    with pytest.raises(JourneyDataError, match=r"\['event'\]"):
        from_transactions(lines.assign(event="sale"), **RETAIL)


def test_unusable_rows_are_kept_for_validation_to_quarantine():
    raw = pd.DataFrame(
        {
            "inv": ["1", "1", "2", "3", "3", "4"],
            "who": [7.0, 7.0, None, 8.0, 8.0, 8.0],
            "when": ["2024-01-01", "later", "2024-01-02", "soon", "never", "2024-01-03"],
            "price": ["5", "2.5", "1", "3", "4", "12,50"],
        }
    )
    per_line = from_transactions(raw, customer="who", timestamp="when", amount="price")
    per_invoice = from_transactions(
        raw, customer="who", timestamp="when", amount="price", invoice="inv"
    )

    assert len(per_line) == len(raw)
    # The cell that cannot be a number is kept as text, not turned into 0.
    assert per_line["value"].tolist() == [5.0, 2.5, 1.0, 3.0, 4.0, "12,50"]
    assert per_invoice["inv"].tolist() == ["1", "2", "3", "4"]
    assert per_invoice["items"].tolist() == [2, 1, 2, 1]
    # Invoice 1 takes its parseable line's time; invoice 3 has none and keeps its text.
    assert per_invoice["timestamp"].tolist()[0] == pd.Timestamp("2024-01-01", tz="UTC")
    assert per_invoice["timestamp"].tolist()[2] == "soon"

    report = validate_events(per_invoice)
    assert report.n_input == len(report.clean) + len(report.quarantine) + report.duplicates
    assert report.quarantine["reason"].tolist() == [
        "missing customer id",
        "unparseable timestamp",
        "non-numeric value",
    ]
    assert report.clean["value"].tolist() == [7.5]


def test_non_finite_amount_is_quarantined_not_summed():
    raw = pd.DataFrame(
        {"who": [1, 1], "inv": ["a", "a"], "when": ["2024-01-01"] * 2, "price": [np.inf, -np.inf]}
    )
    events = from_transactions(raw, customer="who", timestamp="when", amount="price", invoice="inv")
    assert validate_events(events).reason_counts().to_dict() == {"non-finite value": 1}


def test_empty_log(lines):
    events = from_transactions(lines.iloc[:0], **RETAIL, quantity="Quantity", invoice="InvoiceNo")
    assert events.empty
    assert events.columns.tolist()[:5] == ["customer_id", "timestamp", "event", "channel", "value"]


def test_input_is_not_modified(lines):
    before = lines.copy()
    from_transactions(lines, **RETAIL, quantity="Quantity", invoice="InvoiceNo")
    pd.testing.assert_frame_equal(lines, before)


def test_polars_input_gives_the_same_events(lines):
    pl = require_module("polars", "the 'scale' extra")
    expected = from_transactions(lines, **RETAIL, quantity="Quantity", invoice="InvoiceNo")
    got = from_transactions(
        pl.from_pandas(lines), **RETAIL, quantity="Quantity", invoice="InvoiceNo"
    )
    pd.testing.assert_series_equal(got["value"], expected["value"])
    assert got["event"].tolist() == expected["event"].tolist()


def test_aggregation_conserves_lines_and_money():
    rng = np.random.default_rng(0)
    n = 200_000
    raw = pd.DataFrame(
        {
            "customer": rng.integers(0, 5_000, n),
            "invoice": rng.integers(0, 40_000, n),
            "when": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**6, n), "s"),
            "price": rng.normal(10, 20, n).round(2),
            "qty": rng.integers(1, 5, n),
        }
    )
    events = from_transactions(
        raw,
        customer="customer",
        timestamp="when",
        amount="price",
        quantity="qty",
        invoice="invoice",
    )
    assert events["items"].sum() == n
    assert events["value"].sum() == pytest.approx((raw["price"] * raw["qty"]).sum())
    assert len(events) == len(raw.drop_duplicates(["customer", "invoice"]))
    assert (events["event"] == "return").sum() == (events["value"] < 0).sum()


# --- validate_customers / from_customer_table ----------------------------------------------


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        (["Yes", "No", " yes ", "NO"], [True, False, True, False]),
        (["TRUE", "FALSE", "True", "false"], [True, False, True, False]),
        (["y", "n", "T", "f"], [True, False, True, False]),
        (["churned", "retained", "1", "0"], [True, False, True, False]),
        ([1, 0, 0, 1], [True, False, False, True]),
        ([1.0, 0.0, 0.0, 1.0], [True, False, False, True]),
        ([True, False, False, True], [True, False, False, True]),
    ],
)
def test_churn_label_spellings(labels, expected):
    table = pd.DataFrame({"id": [1, 2, 3, 4], "Churn": labels})
    report = validate_customers(table, customer="id", churn="Churn")
    assert report.ok
    assert report.clean["churned"].dtype == bool
    assert report.clean["churned"].tolist() == expected


@pytest.mark.parametrize("bad", ["maybe", "", None, 2])
def test_unrecognised_churn_label_is_quarantined(bad):
    table = pd.DataFrame({"id": [1, 2], "Churn": pd.Series(["Yes", bad], dtype=object)})
    report = validate_customers(table, customer="id", churn="Churn")
    assert report.clean["customer_id"].tolist() == [1]
    assert report.quarantine["reason"].tolist() == ["unrecognised churn label"]
    assert report.quarantine.index.tolist() == [1]


def test_customer_table_in_canonical_order():
    table = pd.DataFrame(
        {
            "plan": ["basic", "pro", "basic"],
            "Churn": ["No", "Yes", "No"],
            "joined": ["2023-05-01", "2023-06-15T10:00+02:00", None],
            "id": [" 7", "8", "9"],
        }
    )
    report = validate_customers(table, customer="id", churn="Churn", signup="joined")

    assert isinstance(report, ValidationReport)
    assert isinstance(report, CustomerReport)
    clean = report.clean
    assert clean.columns.tolist() == ["customer_id", "churned", "first_seen", "plan"]
    assert clean["customer_id"].dtype == "int64"
    assert clean["customer_id"].tolist() == [7, 8, 9]
    assert clean["first_seen"].tolist()[:2] == [
        pd.Timestamp("2023-05-01", tz="UTC"),
        pd.Timestamp("2023-06-15 08:00", tz="UTC"),
    ]
    # A missing signup time is unknown, not wrong.
    assert pd.isna(clean["first_seen"].iloc[2])
    assert report.columns == {"id": "customer_id", "Churn": "churned", "joined": "first_seen"}


def test_quarantine_reasons_and_conservation():
    table = pd.DataFrame(
        {
            "id": ["a", "b", "b", "", "c", "d", "d", "e"],
            "Churn": ["No", "Yes", "No", "No", "perhaps", "Yes", "Yes", "No"],
            "joined": ["2024-01-01"] * 7 + ["someday"],
        }
    )
    report = validate_customers(table, customer="id", churn="Churn", signup="joined")

    # "d" twice, identical: one copy kept, one counted as a duplicate.
    assert report.duplicates == 1
    assert report.clean["customer_id"].tolist() == ["a", "d"]
    # Both rows of "b" disagree, so neither can be trusted.
    assert report.quarantine["reason"].to_dict() == {
        1: "duplicate customer id",
        2: "duplicate customer id",
        3: "missing customer id",
        4: "unrecognised churn label",
        7: "unparseable signup time",
    }
    assert report.n_input == len(report.clean) + len(report.quarantine) + report.duplicates
    assert report.reason_counts()["duplicate customer id"] == 2
    # The quarantine holds the input rows as they came in.
    pd.testing.assert_frame_equal(
        report.quarantine.drop(columns="reason"), table.loc[[1, 2, 3, 4, 7]]
    )


def test_several_reasons_are_joined():
    table = pd.DataFrame({"id": [1, 1], "Churn": ["Yes", "?"]})
    report = validate_customers(table, customer="id", churn="Churn")
    assert report.quarantine["reason"].tolist() == [
        "duplicate customer id",
        "duplicate customer id; unrecognised churn label",
    ]


def test_reason_column_of_the_input_is_kept():
    table = pd.DataFrame({"id": [1, None], "reason": ["price", "service"]})
    report = validate_customers(table, customer="id")
    assert report.reason_column == "quarantine_reason"
    assert report.quarantine["reason"].tolist() == ["service"]
    assert report.quarantine["quarantine_reason"].tolist() == ["missing customer id"]


def test_without_id_column_rows_are_numbered():
    table = pd.DataFrame({"State": ["KS", "KS", "OH"], "Churn": [False, False, True]})
    report = validate_customers(table, customer=None, churn="Churn")
    assert report.clean["customer_id"].tolist() == [0, 1, 2]
    # Identical rows are different customers when nothing identifies them.
    assert report.duplicates == 0
    assert report.columns == {"Churn": "churned"}


def test_numeric_text_with_blanks_becomes_float():
    table = pd.DataFrame(
        {
            "id": [1, 2, 3],
            "TotalCharges": ["29.85", " ", "1889.5"],
            "other": ["1", "NA", "2"],
            "zip": ["02139", "", "10001"],
            "words": ["1", "", "two"],
            "whole": ["1", "2", "3"],
        }
    )
    report = validate_customers(table, customer="id")
    clean = report.clean
    assert clean["TotalCharges"].dtype == "float64"
    assert clean["TotalCharges"].isna().tolist() == [False, True, False]
    assert clean["TotalCharges"].tolist()[::2] == [29.85, 1889.5]
    assert clean["other"].dtype == "float64"
    # Codes with leading zeros, mixed text, and text without blanks stay as they were.
    for column in ("zip", "words", "whole"):
        assert clean[column].tolist() == table[column].tolist()
    assert report.notes == (
        "TotalCharges: 1 blank value read as missing",
        "other: 1 blank or null-text (such as 'NA') value read as missing",
    )
    assert report.ok
    assert "note: TotalCharges: 1 blank value read as missing" in report.summary()


def test_summary_counts_customers_and_churn():
    table = pd.DataFrame({"id": [1, 2, 3, None], "Churn": ["Yes", "No", "No", "No"]})
    summary = validate_customers(table, customer="id", churn="Churn").summary()
    assert summary.splitlines()[0] == "Customer table: 4 input rows"
    assert "3 customers, 1 churned (33.3%)" in summary
    assert "missing customer id" in summary
    assert "e.g. row 3" in summary


def test_missing_customer_column_lists_columns():
    table = pd.DataFrame({"CustomerId": [1], "Exited": [0]})
    with pytest.raises(JourneyDataError) as caught:
        validate_customers(table, customer="customer", churn="Exited")
    message = str(caught.value)
    assert "'customer' (given as customer=)" in message
    assert "['CustomerId', 'Exited']" in message
    with pytest.raises(JourneyDataError, match=r"'Churn' \(given as churn=\)"):
        from_customer_table(table, customer="CustomerId", churn="Churn")


def test_column_named_like_an_output_is_an_error():
    table = pd.DataFrame({"customer_id": [1], "Churn": ["No"]})
    with pytest.raises(JourneyDataError, match=r"\['customer_id'\]"):
        validate_customers(table, customer=None, churn="Churn")


def test_from_customer_table_warns_with_the_summary():
    table = pd.DataFrame({"id": [1, 2, None], "Churn": ["Yes", "No", "No"]})
    with pytest.warns(JourneyDataWarning, match="missing customer id"):
        clean = from_customer_table(table, customer="id", churn="Churn")
    assert clean["customer_id"].tolist() == [1, 2]


def test_from_customer_table_is_quiet_when_all_is_well():
    table = pd.DataFrame({"id": [1, 2], "Churn": ["Yes", "No"]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clean = from_customer_table(table, customer="id", churn="Churn")
    assert clean["churned"].tolist() == [True, False]


def test_from_customer_table_raises_when_nothing_is_usable():
    table = pd.DataFrame({"id": [1, 2], "Churn": ["?", "?"]})
    with pytest.raises(JourneyDataError, match="no usable customer row"):
        from_customer_table(table, customer="id", churn="Churn")


def test_empty_customer_table():
    report = validate_customers(pd.DataFrame({"id": [], "Churn": []}), customer="id", churn="Churn")
    assert (report.n_input, len(report.clean), len(report.quarantine)) == (0, 0, 0)


def test_polars_customer_table():
    pl = require_module("polars", "the 'scale' extra")
    table = pl.DataFrame({"id": ["x", "y"], "Churn": ["Yes", "No"], "charges": ["1.5", None]})
    report = validate_customers(table, customer="id", churn="Churn")
    assert report.clean["customer_id"].tolist() == ["x", "y"]
    assert report.clean["churned"].tolist() == [True, False]
    assert report.clean["charges"].dtype == "float64"


# --- real churn tables ---------------------------------------------------------------------


def test_telco_customer_churn():
    table = _read_churn("telco_customer_churn.csv")
    with pytest.warns(JourneyDataWarning, match="TotalCharges: 11 blank values read as missing"):
        clean = from_customer_table(table, customer="customerID", churn="Churn")
    assert len(clean) == 7043
    assert clean["customer_id"].is_unique
    assert int(clean["churned"].sum()) == 1869
    assert clean["TotalCharges"].dtype == "float64"
    blank = clean["TotalCharges"].isna()
    assert blank.sum() == 11
    assert (clean.loc[blank, "tenure"] == 0).all()


@pytest.mark.parametrize(
    ("name", "customer", "churn", "rows", "churned"),
    [
        ("bank_customer_churn.csv", "CustomerId", "Exited", 10_000, 2037),
        ("telecom_churn_bigml_80.csv", None, "Churn", 2661, 386),
        ("telecom_churn_bigml_20.csv", None, "Churn", 667, 95),
        ("ecommerce_churn.csv", "CustomerID", "Churn", 5630, 948),
    ],
)
@pytest.mark.parametrize("as_text", [False, True], ids=["typed", "as-text"])
def test_real_churn_tables(name, customer, churn, rows, churned, as_text):
    # Read as text too, so the label spellings (TRUE/FALSE vs True/False) reach the parser.
    table = _read_churn(name, **({"dtype": str} if as_text else {}))
    report = validate_customers(table, customer=customer, churn=churn)
    assert report.ok
    assert report.duplicates == 0
    assert len(report.clean) == rows == report.n_input
    assert int(report.clean["churned"].sum()) == churned
    assert report.clean["customer_id"].dtype == "int64"
    assert report.clean["customer_id"].is_unique
