"""Logs in the shapes other tools export, made here with known contents, for the tests that
run the whole report on them (tests/test_any_log.py).

Each maker writes a file into a folder and returns it with the facts a hand computation
needs: the clean log as a plain pandas frame in canonical names (ids as text, UTC times),
the conversion event, and the hints (if any) the report is run with.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

START = pd.Timestamp("2023-01-02", tz="UTC")


@dataclass
class Made:
    """A log written to ``path`` and what it holds."""

    path: Path
    truth: pd.DataFrame  # customer_id (text), timestamp (UTC), event, value
    conversion: str
    funnel: tuple[str, ...]
    #: Figures each notebook must record for this log (its sections that must apply).
    expect: dict = field(default_factory=dict)


def journeys(
    rng: np.random.Generator,
    n: int,
    steps: tuple[str, ...],
    days: float,
    *,
    reach: float = 0.7,
    gap_hours: float = 20.0,
) -> pd.DataFrame:
    """Customers walking ``steps`` in order, each further step taken with ``reach``
    probability, starting uniformly over ``days``; some buy again later."""
    rows = []
    for c in range(n):
        t = START + pd.Timedelta(days=float(rng.uniform(0, days * 0.8)))
        for i, step in enumerate(steps):
            if i and rng.random() > reach:
                break
            t = t + pd.Timedelta(hours=float(rng.exponential(gap_hours)) + 0.01)
            rows.append((c, t, step))
        if len(rows) and rows[-1][2] == steps[-1] and rng.random() < 0.4:
            again = t + pd.Timedelta(days=float(rng.uniform(1, days * 0.2)))
            rows.append((c, again, steps[-1]))
    frame = pd.DataFrame(rows, columns=["c", "timestamp", "event"])
    frame["timestamp"] = frame["timestamp"].dt.floor("s")
    return frame


def shop_camel_case(folder: Path) -> Made:
    """A shop export in CamelCase with semicolons: UserID;EventName;EventTime;TrafficSource."""
    rng = np.random.default_rng(1)
    steps = ("catalog", "cart", "payment_done")
    log = journeys(rng, 80, steps, 90)
    ids = "U" + log["c"].astype(str).str.zfill(3)
    source = rng.choice(["Search", "Newsletter", "Social"], len(log))
    out = pd.DataFrame(
        {
            "UserID": ids,
            "EventName": log["event"],
            "EventTime": log["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S"),
            "TrafficSource": source,
        }
    )
    path = folder / "shop.csv"
    out.to_csv(path, sep=";", index=False)
    truth = pd.DataFrame(
        {
            "customer_id": ids,
            "timestamp": log["timestamp"],
            "event": log["event"],
            "channel": source,
        }
    )
    return Made(path, truth, "payment_done", steps)


def leading_zeros_mixed_offsets(folder: Path) -> Made:
    """Tab-separated, ids with leading zeros ("007" and "7" are two customers), times with
    +01:00 and +02:00 offsets."""
    rng = np.random.default_rng(2)
    steps = ("view", "add_to_cart", "order")
    log = journeys(rng, 60, steps, 120)
    # Customers 2k and 2k+1 are "000k"-style and "k": two customers whose ids differ only
    # by leading zeros.
    pair = (log["c"] // 2).astype(str)
    ids = np.where(log["c"] % 2 == 0, pair.str.zfill(4), pair)
    offset = np.where(log["timestamp"].dt.month.between(4, 9), "+02:00", "+01:00")
    hours = np.where(offset == "+02:00", 2, 1)
    local = log["timestamp"] + pd.to_timedelta(hours, unit="h")
    text = local.dt.strftime("%Y-%m-%dT%H:%M:%S") + offset
    out = pd.DataFrame({"account_no": ids, "activity": log["event"], "when": text})
    path = folder / "accounts.tsv"
    out.to_csv(path, sep="\t", index=False)
    truth = pd.DataFrame({"customer_id": ids, "timestamp": log["timestamp"], "event": log["event"]})
    return Made(path, truth, "order", steps)


def transactions_empty_channel(folder: Path) -> Made:
    """A transaction table whose channel column is empty: customer,date,amount,channel."""
    rng = np.random.default_rng(3)
    rows = []
    for c in range(120):
        t = START + pd.Timedelta(days=float(rng.uniform(0, 200)))
        for _ in range(int(rng.integers(1, 6))):
            rows.append((f"C{c:03d}", t.floor("min"), round(float(rng.gamma(2, 20)), 2)))
            t = t + pd.Timedelta(days=float(rng.exponential(40)) + 1)
    out = pd.DataFrame(rows, columns=["customer", "date", "amount"])
    out = out[out["date"] < START + pd.Timedelta(days=365)]
    path = folder / "payments.csv"
    out.assign(channel="", date=out["date"].dt.strftime("%Y-%m-%d %H:%M")).to_csv(path, index=False)
    truth = pd.DataFrame(
        {
            "customer_id": out["customer"],
            "timestamp": out["date"],
            "event": "purchase",
            "value": out["amount"],
        }
    )
    return Made(path, truth, "purchase", ("purchase", "purchase"))


def one_event_type(folder: Path) -> Made:
    """Logins only: user,ts,event."""
    rng = np.random.default_rng(4)
    rows = []
    for c in range(50):
        t = START + pd.Timedelta(days=float(rng.uniform(0, 30)))
        while t < START + pd.Timedelta(days=180) and rng.random() < 0.9:
            rows.append((f"u{c}", t.floor("s"), "login"))
            t = t + pd.Timedelta(days=float(rng.exponential(6)) + 0.1)
    out = pd.DataFrame(rows, columns=["user", "ts", "event"])
    path = folder / "logins.csv"
    out.assign(ts=out["ts"].dt.strftime("%Y-%m-%d %H:%M:%S")).to_csv(path, index=False)
    truth = out.rename(columns={"user": "customer_id", "ts": "timestamp"})
    return Made(path, truth, "login", ("login", "login"))


def two_weeks_epochs(folder: Path) -> Made:
    """JSON lines over two weeks, times as Unix epoch seconds."""
    rng = np.random.default_rng(5)
    steps = ("site_visit", "signup", "purchase")
    log = journeys(rng, 150, steps, 14, gap_hours=6)
    log = log[log["timestamp"] < START + pd.Timedelta(days=14)]
    path = folder / "fortnight.jsonl"
    with path.open("w") as f:
        for row in log.itertuples():
            record = {
                "visitor": f"v{row.c}",
                "ts": int(row.timestamp.timestamp()),
                "event": row.event,
            }
            f.write(json.dumps(record) + "\n")
    truth = pd.DataFrame(
        {
            "customer_id": "v" + log["c"].astype(str),
            "timestamp": log["timestamp"],
            "event": log["event"],
        }
    )
    return Made(path, truth, "purchase", steps)


def ten_years_spaced_names(folder: Path) -> Made:
    """Parquet over ten years, column names with spaces, an order total."""
    rng = np.random.default_rng(6)
    steps = ("visit", "quote", "order")
    log = journeys(rng, 200, steps, 3650, gap_hours=24 * 20)
    log = log[log["timestamp"] < START + pd.Timedelta(days=3650)]
    value = np.where(log["event"] == "order", np.round(rng.gamma(3, 50, len(log)), 2), 0.0)
    out = pd.DataFrame(
        {
            "Customer ID": (log["c"] + 1000).astype("int64"),
            "Event Type": log["event"],
            "Occurred At": log["timestamp"],
            "Order Total": value,
        }
    )
    path = folder / "decade.parquet"
    out.to_parquet(path, index=False)
    truth = pd.DataFrame(
        {
            "customer_id": out["Customer ID"].astype(str),
            "timestamp": log["timestamp"],
            "event": log["event"],
            "value": value,
        }
    )
    return Made(path, truth, "order", steps)


def latin_crm_export(folder: Path) -> Made:
    """A CRM export in Windows-1252 with semicolons, accented names and day-first dates
    (dd/mm/yyyy) whose first rows could be read month first."""
    rng = np.random.default_rng(7)
    steps = ("visit", "quote", "order")
    log = journeys(rng, 90, steps, 150)
    names = np.array(["José", "Zoë", "Ångström", "Renée", "Françoise"])[log["c"] % 5]
    ids = [f"{n}-{c}" for n, c in zip(names, log["c"], strict=True)]
    channel = np.array(["e-mail café", "salon à Paris", "téléphone"])[log["c"] % 3]
    out = pd.DataFrame(
        {
            "client": ids,
            "action": log["event"],
            "date": log["timestamp"].dt.strftime("%d/%m/%Y %H:%M"),
            "canal": channel,
        }
    )
    # Rows whose date reads both ways ("05/03/2023") come first, as in a real export.
    out = out.iloc[np.argsort(log["timestamp"].dt.day.to_numpy() > 12, kind="stable")]
    path = folder / "crm.csv"
    path.write_bytes(out.to_csv(sep=";", index=False).encode("cp1252"))
    truth = pd.DataFrame(
        {
            "customer_id": ids,
            "timestamp": log["timestamp"].dt.floor("min"),
            "event": log["event"],
        }
    )
    return Made(path, truth, "order", steps)


MAKERS = {
    "shop_camel_case": shop_camel_case,
    "leading_zeros_mixed_offsets": leading_zeros_mixed_offsets,
    "transactions_empty_channel": transactions_empty_channel,
    "one_event_type": one_event_type,
    "two_weeks_epochs": two_weeks_epochs,
    "ten_years_spaced_names": ten_years_spaced_names,
    "latin_crm_export": latin_crm_export,
}

# What each log's report must show beyond the touchpoints and the funnel, checked in
# tests/test_any_log.py: the sections these logs are made to have.
EXPECT = {
    "shop_camel_case": {
        "03_retention": {"churn_rate_last_period"},
        "05_attribution_and_value": {"conversions", "top_channel", "repeat_purchase_rate"},
    },
    "leading_zeros_mixed_offsets": {"03_retention": {"churn_rate_last_period"}},
    "transactions_empty_channel": {
        "03_retention": {"churn_rate_last_period"},
        "04_churn_model": {"roc_auc", "contacts", "expected_profit"},
        "05_attribution_and_value": {"repeat_purchase_rate"},
    },
    "one_event_type": {"03_retention": {"churn_rate_last_period"}},
    "two_weeks_epochs": {"03_retention": {"churn_rate_last_period"}},
    "ten_years_spaced_names": {
        "03_retention": {"churn_rate_last_period"},
        "05_attribution_and_value": {"mean_clv", "repeat_purchase_rate"},
    },
    "latin_crm_export": {"03_retention": {"churn_rate_last_period"}},
}


def reference_funnel(
    truth: pd.DataFrame, steps: tuple[str, ...], window: pd.Timedelta
) -> list[int]:
    """Customers reaching each step of an ordered funnel, entry at any step-1 event, each
    step its own row, the whole attempt within ``window`` of its first row: one customer
    and one attempt at a time."""
    reached = [0] * len(steps)
    for _, rows in truth.sort_values("timestamp", kind="stable").groupby("customer_id"):
        times = rows["timestamp"].tolist()
        events = rows["event"].tolist()
        best = 0
        for start, event in enumerate(events):
            if event != steps[0]:
                continue
            level, position = 1, start
            for step in steps[1:]:
                later = [
                    i
                    for i in range(position + 1, len(events))
                    if events[i] == step and times[i] - times[start] <= window
                ]
                if not later:
                    break
                level, position = level + 1, later[0]
            best = max(best, level)
        for k in range(best):
            reached[k] += 1
    return reached
