"""Who to call today (`jl.churn.at_risk`, `journey churn score DATA`): trained at the latest
labelled cutoff, every customer active at the log's end and no one else, reasons in words."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest

import journey_lib as jl
from journey_lib.analytics.rfm import RFM_SEGMENTS
from journey_lib.churn import at_risk, build_features
from journey_lib.churn.call_list import AT_RISK, COLUMNS, reason_text
from tests.engines import shared_file
from tests.test_cli import assert_one_line_error, journey

HORIZON = "30D"
LOG_END = pd.Timestamp("2024-07-01", tz="UTC")
JUNE_5 = pd.Timestamp("2024-06-05", tz="UTC")
OFFER = {"offer_cost": 2.0, "save_rate": 0.5, "budget": 3}

#: Who the hand-built log holds, and what each kind of customer does (30-day horizon and
#: inactivity; the log's last event is on 2024-06-30, so its end is 2024-07-01 and the
#: latest labelled cutoff 2024-06-01).
STAY = [f"stay{i:02d}" for i in range(12)]  # bought in January, visit every month to June
LAPSE = [f"lapse{i:02d}" for i in range(12)]  # bought in January, last seen 25 May
GONE = ["gone0", "gone1", "gone2"]  # bought in February, last seen 1 March
BROWSE = ["browse0", "browse1", "browse2"]  # visit every month, never buy
NEW = ["new0", "new1", "new2"]  # first purchase 10 June
BACK = ["back0", "back1"]  # bought in January, away from April, back 15 June
#: Active at the log's end: acquired and a touchpoint within the 30 days before it.
ACTIVE_AT_END = set(STAY + NEW + BACK)
#: The customers of a model at the latest labelled cutoff (acquired and active on 1 June).
AT_TRAINING_CUTOFF = set(STAY + LAPSE)


def hand_log() -> pd.DataFrame:
    rows = []

    def add(customer: str, when: str, event: str, value: float = 0.0) -> None:
        rows.append((customer, pd.Timestamp(when, tz="UTC"), event, value))

    for i, c in enumerate(STAY):
        add(c, "2024-01-10", "purchase", 100.0 + 10 * i)
        for month in range(2, 7):
            add(c, f"2024-{month:02d}-{10 + i % 8}", "site_visit")
        add(c, "2024-05-28", "site_visit")
        if i % 3 == 0:
            add(c, "2024-06-20", "support_ticket")
            add(c, "2024-06-21", "support_ticket")
    for i, c in enumerate(LAPSE):
        add(c, "2024-01-12", "purchase", 50.0 + 5 * i)
        for month in range(2, 6):
            add(c, f"2024-{month:02d}-15", "site_visit")
        add(c, "2024-05-25", "support_ticket")
    for c in GONE:
        add(c, "2024-02-01", "purchase", 70.0)
        add(c, "2024-03-01", "site_visit")
    for c in BROWSE:
        for month in range(1, 7):
            add(c, f"2024-{month:02d}-05", "site_visit")
    for c in NEW:
        add(c, "2024-06-10", "purchase", 80.0)
        add(c, "2024-06-25", "site_visit")
    for c in BACK:
        add(c, "2024-01-10", "purchase", 60.0)
        add(c, "2024-04-01", "site_visit")
        add(c, "2024-06-15", "site_visit")
    add("stay00", "2024-06-30 12:00", "site_visit")  # the log's last event
    return pd.DataFrame(rows, columns=["customer_id", "timestamp", "event", "value"])


@pytest.fixture(scope="module")
def hand():
    events = hand_log()
    risk = at_risk(events, horizon=HORIZON, inactivity=HORIZON, model="logistic", **OFFER)
    return events, risk


def test_the_list_is_exactly_the_customers_active_at_the_log_s_end(hand):
    _, risk = hand
    listed = set(risk.table["customer_id"])
    assert listed == ACTIVE_AT_END
    # Not the customers of a past cutoff: those who lapsed in June are gone, and those who
    # came (or came back) in June are there.
    assert listed != AT_TRAINING_CUTOFF
    assert not listed & set(LAPSE + GONE + BROWSE)
    assert set(NEW + BACK) <= listed
    assert risk.table["customer_id"].is_unique
    # The model learnt at the latest cutoff whose labels the log holds.
    assert risk.scored_at == LOG_END
    assert (
        risk.trained_at == LOG_END - pd.Timedelta(HORIZON) == pd.Timestamp("2024-06-01", tz="UTC")
    )
    assert risk.horizon == HORIZON
    assert risk.model.training["rows"] == len(AT_TRAINING_CUTOFF)
    assert risk.model.recipe.cutoff == risk.trained_at


def test_the_table_s_columns_probabilities_and_order(hand):
    _, risk = hand
    table = risk.table
    assert tuple(table.columns) == COLUMNS
    p = table["churn_probability"]
    assert p.between(0, 1).all() and p.is_monotonic_decreasing
    assert table["contact"].dtype == bool


def test_value_and_expected_value_follow_the_targeting_formula(hand):
    events, risk = hand
    table = risk.table.set_index("customer_id")
    spent = events.groupby("customer_id")["value"].sum()  # every event is before the end
    assert table["value"].to_dict() == pytest.approx(spent.reindex(table.index).to_dict())
    expected = (
        table["churn_probability"] * OFFER["save_rate"] * table["value"] - OFFER["offer_cost"]
    )
    assert np.allclose(table["expected_value"], expected, rtol=0, atol=1e-12)


def test_contact_is_the_targeting_plan_s_choice(hand):
    events, risk = hand
    scoring = build_features(events, cutoff=risk.scored_at, recipe=risk.model.recipe)
    plan = risk.model.target(scoring, **OFFER)
    table = risk.table.set_index("customer_id")
    assert plan.contacts["contact"].to_dict() == table["contact"].to_dict()
    assert int(table["contact"].sum()) == plan.chosen <= OFFER["budget"]
    assert risk.metrics()["expected_profit"] == pytest.approx(
        table.loc[table["contact"], "expected_value"].sum(), rel=1e-12
    )


def test_the_figures_are_their_definitions(hand):
    _, risk = hand
    table, m = risk.table, risk.metrics()
    p = table["churn_probability"]
    assert m["customers_scored"] == len(table) == len(ACTIVE_AT_END)
    assert m["at_risk_customers"] == sum(prob >= 0.5 for prob in p) and AT_RISK == 0.5
    by_hand = sum(prob * value for prob, value in zip(p, table["value"], strict=True))
    assert m["value_at_risk"] == pytest.approx(by_hand, rel=1e-12)
    assert m["contacts"] == int(table["contact"].sum())
    assert (m["scored_at"], m["trained_at"]) == ("2024-07-01", "2024-06-01")
    assert (m["offer_cost"], m["save_rate"], m["budget"]) == (2.0, 0.5, 3)
    line = risk.summary()
    assert "\n" not in line and f"{m['customers_scored']} customers active at 2024-07-01" in line


def test_reasons_are_words(hand):
    _, risk = hand
    reasons = risk.table[["reason_1", "reason_2", "reason_3"]]
    assert reasons["reason_1"].notna().all()
    features = set(risk.model.features)
    for text in reasons.stack().dropna():
        assert text and text not in features
        assert not re.search(r"[A-Za-z0-9]+_[A-Za-z0-9]+", text), text  # no raw feature name
        assert not re.search(r"\d\.\d{3,}", text), text  # no long floats
    # A customer's reasons are three different ones.
    for row in reasons.itertuples(index=False):
        given = [r for r in row if isinstance(r, str)]
        assert len(given) == len(set(given))


@pytest.mark.parametrize(
    ("column", "values", "typical", "words"),
    [
        ("recency_days", [63.4, 1.2], 6.78, ["no touchpoint for 63 days (typical 7)",
                                             "no touchpoint for 1 day (typical 7)"]),
        ("event_support_ticket_90D", [3.0, 1.0], 0.0,
         ["3 support tickets in the last 90 days (typical 0)",
          "1 support ticket in the last 90 days (typical 0)"]),
        ("event_purchase_30D", [0.0], 1.0, ["0 purchases in the last 30 days (typical 1)"]),
        ("event_delivery_late_365D", [2.0], 0.0,
         ["delivery late: 2 in the last 365 days (typical 0)"]),
        ("channel_email_30D", [4.0], 1.0,
         ["4 touchpoints via email in the last 30 days (typical 1)"]),
        ("stage_Investigation_Consideration_90D", [0.0], 3.0,
         ["0 touchpoints in the Investigation & Consideration stage in the last 90 days "
          "(typical 3)"]),
        ("events_12h", [1.0], 0.0, ["1 touchpoint in the last 12 hours (typical 0)"]),
        ("value_total", [12345.6], 80.0, ["total spend 12,346 (typical 80)"]),
        ("rfm_T", [np.nan, 40.0], 63.0,
         ["no purchase yet", "first purchase 40 days ago (typical 63)"]),
        ("stage_reached", [3.0, 0.0], 5.0,
         ["furthest stage reached: Purchase (typical Advocacy & Loyalty)",
          "furthest stage reached: no stage (typical Advocacy & Loyalty)"]),
        ("customer_plan", ["basic", None], "plus", ["plan: basic (most: plus)",
                                                    "plan: unknown (most: plus)"]),
        ("customer_first_seen_days_before", [400.2], 120.0,
         ["first seen: 400 days ago (typical 120)"]),
        ("customer_monthly_charges", [70.123], 65.5, ["monthly charges: 70.12 (typical 65.5)"]),
        ("rating_mean", [3.14159], 4.2, ["average rating 3.1 (typical 4.2)"]),
        ("tickets", [2.0], 0.0, ["2 support tickets in all (typical 0)"]),
        ("odd_thing", [0.123456], 0.5, ["odd thing: 0.12 (typical 0.5)"]),
    ],
)  # fmt: skip
def test_reason_text_words_each_kind_of_feature(column, values, typical, words):
    dtype = None if isinstance(values[0], float) else object
    assert reason_text(column, pd.Series(values, dtype=dtype), typical).tolist() == words


def test_segment_is_the_customer_table_s_else_rfm(hand):
    events, risk = hand
    assert set(risk.table["segment"]) <= set(RFM_SEGMENTS)  # everyone listed has bought
    table = pd.DataFrame({"customer_id": sorted(ACTIVE_AT_END)})
    table["segment"] = np.where(table["customer_id"].str.startswith("stay"), "retail", "trade")
    table["tier"] = "gold"
    with_table = at_risk(events, horizon=HORIZON, inactivity=HORIZON, customers=table,
                         model="logistic", **OFFER)  # fmt: skip
    segment = with_table.table.set_index("customer_id")["segment"]
    assert segment.to_dict() == table.set_index("customer_id")["segment"].to_dict()


def test_write_gives_the_same_rows_as_csv_and_parquet(hand, tmp_path):
    _, risk = hand
    csv, parquet = risk.write(tmp_path / "run")
    assert (csv.name, parquet.name) == ("at_risk.csv", "at_risk.parquet")
    for read in (pd.read_csv(csv), pd.read_parquet(parquet)):
        assert_same_rows(read, risk.table)
    shown = risk.formatted(5)
    assert len(shown) == 5 and shown.index.tolist() == risk.table["customer_id"].head(5).tolist()
    assert shown["churn probability"].str.fullmatch(r"\d{1,3}%").all()


def test_a_log_shorter_than_a_horizon_has_no_labelled_cutoff():
    events = hand_log()
    short = events[events["timestamp"] >= JUNE_5]
    with pytest.raises(jl.JourneyDataError, match="less than one horizon") as error:
        at_risk(short, horizon=HORIZON, inactivity=HORIZON)
    assert "(30D)" in str(error.value) and "no cutoff has known churn labels" in str(error.value)
    # One class at the latest cutoff: too few churners to learn from, said so.
    with pytest.raises(jl.JourneyDataError, match="a model needs at least 10 of each"):
        at_risk(events[~events["customer_id"].isin(LAPSE)], horizon=HORIZON, inactivity=HORIZON)


def assert_same_rows(read: pd.DataFrame, table: pd.DataFrame) -> None:
    assert list(read.columns) == list(COLUMNS)
    assert read["customer_id"].astype(str).tolist() == table["customer_id"].astype(str).tolist()
    for name in ("churn_probability", "value", "expected_value"):
        assert np.allclose(read[name], table[name], rtol=1e-12, atol=0), name
    for name in ("reason_1", "reason_2", "reason_3", "segment"):
        assert read[name].fillna("").tolist() == table[name].fillna("").tolist(), name
    assert read["contact"].astype(bool).tolist() == table["contact"].tolist()


# --- simulated and real logs -----------------------------------------------------------


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    folder = tmp_path_factory.mktemp("at_risk")
    sim = jl.simulate(1200, seed=6, progress=False)
    sim.events.to_parquet(folder / "log.parquet")
    sim.customers.to_parquet(folder / "customers.parquet")
    return folder, sim


def test_planted_churners_score_higher(simulated):
    _, sim = simulated
    risk = at_risk(sim.events, model="logistic")
    truth = sim.truth.customers.set_index("customer_id")["churn_time"]
    listed = risk.table.set_index("customer_id")
    leaving = truth.reindex(listed.index) < risk.scored_at + pd.Timedelta(risk.horizon)
    assert 10 < leaving.sum() < len(listed) - 10
    p = listed["churn_probability"]
    assert p[leaving].mean() > p[~leaving].mean() + 0.1
    # Everyone listed has made the acquisition event, a purchase.
    bought = sim.truth.customers.set_index("customer_id")["purchased"]
    assert bought.reindex(listed.index).all()


def test_the_shared_clickstream_gives_a_list():
    path = shared_file("events", "ecom_clickstream.csv.gz")
    found = jl.profile(path)
    events = found.read(path).clean
    risk = at_risk(events, profile=found, model="logistic", value=50)
    table = risk.table
    assert tuple(table.columns) == COLUMNS and len(table) > 100
    assert set(table["customer_id"]) <= set(events["customer_id"])
    assert table["churn_probability"].between(0, 1).all()
    assert table["churn_probability"].is_monotonic_decreasing
    assert risk.trained_at == risk.scored_at - pd.Timedelta(found.horizon)
    assert risk.scored_at == events["timestamp"].max().floor("D") + pd.Timedelta(days=1)
    assert table["reason_1"].notna().mean() > 0.9


# --- the command line --------------------------------------------------------------------


def test_the_command_writes_the_function_s_list(simulated):
    folder, _ = simulated
    log, customers = folder / "log.parquet", folder / "customers.parquet"
    options = ["--offer-cost", 4, "--save-rate", 0.4, "--budget", 20]
    found = jl.profile(log)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jl.JourneyDataWarning)  # referrer_id is dropped
        risk = at_risk(
            found.read(log).clean,
            profile=found,
            customers=jl.read_table(customers)[0],
            model="logistic",
            seed=3,
            offer_cost=4,
            save_rate=0.4,
            budget=20,
        )
    for name in ("at_risk.csv", "at_risk.parquet"):
        out = folder / name
        result = journey(
            "churn", "score", log, "--customers", customers, "--model-family", "logistic",
            "--seed", 3, *options, "--out", out,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        lines = result.stdout.strip().splitlines()
        assert len(lines) == 1 and lines[0] == f"{risk.summary()}; written to {out}"
        read = pd.read_csv(out) if name.endswith(".csv") else pd.read_parquet(out)
        assert_same_rows(read, risk.table)


def test_the_command_limits_reasons_to_the_customers_acted_on_first(simulated):
    folder, _ = simulated
    log = folder / "log.parquet"
    options = ["--model-family", "logistic", "--offer-cost", 4, "--save-rate", 0.4]
    lists = {}
    for limit in ("25", "all"):
        out = folder / f"limited-{limit}.csv"
        result = journey("churn", "score", log, *options, "--max-reasons", limit, "--out", out)
        assert result.returncode == 0, result.stderr
        lists[limit] = pd.read_csv(out)
        acted_on = "reasons sought for the 25 acted on first" in result.stdout
        assert acted_on == (limit == "25"), result.stdout
    limited, every = lists["25"], lists["all"]
    assert len(every) > 25 and every["reason_1"].notna().all()
    given = limited["reason_1"].notna()
    assert set(limited.loc[given, "customer_id"]) == _acted_on_first(limited, 25)
    assert given.sum() == 25
    pd.testing.assert_frame_equal(limited[given], every[given])


def test_the_command_s_errors_are_one_line(simulated, tmp_path):
    folder, _ = simulated
    short = tmp_path / "short.csv"
    events = hand_log()
    events[events["timestamp"] >= JUNE_5].to_csv(short, index=False)
    assert_one_line_error(
        journey("churn", "score", short, "--horizon", "90D", "--out", tmp_path / "a.csv"),
        2,
        "less than one horizon (90D)",
    )
    assert_one_line_error(
        journey("churn", "score", folder / "log.parquet", "--cutoff", "2024-06-01",
                "--out", tmp_path / "a.csv"),
        2,
        "--cutoff applies with a saved MODEL",
    )  # fmt: skip
    assert_one_line_error(
        journey("churn", "score", tmp_path / "m.skops", folder / "log.parquet", "--seed", 1,
                "--out", tmp_path / "a.csv"),
        2,
        "--seed applies to the at-risk list, without MODEL",
    )  # fmt: skip
    assert_one_line_error(
        journey("churn", "score", folder / "log.parquet", "--max-reasons", "some",
                "--out", tmp_path / "a.csv"),
        2,
        "--max-reasons: 'some' is not a whole number",
    )  # fmt: skip
    assert_one_line_error(
        journey("churn", "score", tmp_path / "m.skops", folder / "log.parquet",
                "--max-reasons", 5, "--out", tmp_path / "a.csv"),
        2,
        "--max-reasons applies to the at-risk list, without MODEL",
    )  # fmt: skip


def test_a_training_sample_scores_every_customer_all_the_same(hand):
    # Learning from a stratified sample of the customers at the training cutoff leaves the
    # list the same customers, each scored; the model saw only the sample.
    events, risk = hand
    sampled = at_risk(
        events, horizon=HORIZON, inactivity=HORIZON, model="logistic", max_train=20, **OFFER
    )
    assert sampled.model.training["rows"] == 20 < len(AT_TRAINING_CUTOFF)
    assert set(sampled.table["customer_id"]) == set(risk.table["customer_id"]) == ACTIVE_AT_END
    assert sampled.table["churn_probability"].notna().all()
    # A label with fewer customers than a sample keeps of each (SAMPLE_MIN_CLASS) stays
    # whole: all 12 who lapsed, and 8 of those who stayed.
    assert risk.model.training["churned"] == sampled.model.training["churned"] == len(LAPSE)


def _acted_on_first(table: pd.DataFrame, k: int) -> set:
    """By hand: the contacted customers, then the others by risk, the first ``k``."""
    # Stable sorts: equal probabilities keep the list's order, as at_risk's ties do.
    contacted = table[table["contact"]].sort_values(
        "churn_probability", ascending=False, kind="stable"
    )
    others = table[~table["contact"]].sort_values(
        "churn_probability", ascending=False, kind="stable"
    )
    return set(pd.concat([contacted, others])["customer_id"].head(k))


@pytest.fixture(scope="module")
def valued(hand):
    """The hand log's list where the least risky customer is worth so much that the offer
    goes to them first; the options and the list with every customer's reasons."""
    events, _ = hand
    worth = pd.Series(100.0, index=sorted(ACTIVE_AT_END))
    worth["stay07"] = 1e6
    options = {**OFFER, "value": worth}
    return options, at_risk(
        events, horizon=HORIZON, inactivity=HORIZON, model="logistic", max_reasons=None, **options
    )


@pytest.mark.parametrize("k", [0, 1, 4, 9, len(ACTIVE_AT_END), None])
def test_reasons_go_to_the_customers_acted_on_first(hand, valued, k):
    # A list limited to k reasons gives stay07 (contacted, least risky) one, where the k
    # riskiest alone would not.
    events, _ = hand
    options, every = valued
    limited = at_risk(
        events, horizon=HORIZON, inactivity=HORIZON, model="logistic", max_reasons=k, **options
    )
    table = limited.table
    assert table["customer_id"].iloc[-1] == "stay07" and "stay07" in set(
        table.loc[table["contact"], "customer_id"]
    )
    n = len(table) if k is None else k
    given = set(table.loc[table["reason_1"].notna(), "customer_id"])
    assert given == _acted_on_first(table, n)
    # stay07 comes after the contacted customers riskier than them, before everyone else.
    assert ("stay07" in given) == (n >= OFFER["budget"])
    # Every customer sought has a reason here: some group raises everyone's risk.
    assert limited.metrics()["reasons_sought"] == limited.reasons_sought == len(given) == n
    # The reasons found are the ones the whole list has; everything else is the same too.
    reasons = ["reason_1", "reason_2", "reason_3"]
    pd.testing.assert_frame_equal(table.drop(columns=reasons), every.table.drop(columns=reasons))
    pd.testing.assert_frame_equal(
        table.loc[table["customer_id"].isin(given), reasons],
        every.table.loc[every.table["customer_id"].isin(given), reasons],
    )
    assert table.loc[~table["customer_id"].isin(given), reasons].isna().all().all()


@pytest.mark.parametrize("k", [-1, 2.5, "10", True])
def test_max_reasons_must_be_a_count(hand, k):
    events, _ = hand
    with pytest.raises(jl.errors.JourneyParameterError, match="max_reasons"):
        at_risk(events, horizon=HORIZON, inactivity=HORIZON, max_reasons=k, **OFFER)
