"""Hand-written references for benchmarks/analytics.py: the same answers, written directly.

Each reference computes what a journey-lab function computes for the benchmark's arguments,
in the plainest fast form one engine allows (DuckDB SQL, pandas, Polars), without
journey-lab's generality (any engine, any steps, property filters, breakdowns, exclusions).
Every reference is checked against journey-lab's answer on the same log before it is timed,
at every size (``check`` in analytics.py): the retention and churn references compute only
the counts they are compared on.

The SQL reads a table (or view) named ``events`` on a connection whose TimeZone is UTC.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl

DAY_US = 86_400_000_000
START, END = "(start)", "(end)"


def funnel_steps_sql(steps: list[str]) -> str:
    return ", ".join(f"'{s}'" for s in steps)


# -- the 4-step windowed funnel --------------------------------------------------------------
#
# Semantics (journey_lib.funnel's, for steps naming distinct events, order="ordered"): with
# entry="any" every step-1 row starts an attempt, with entry="first" only each customer's
# first; each next step is the earliest row of that
# step at or after the previous step's time (rows at one instant are ordered by step, so a
# later step may share the previous step's timestamp); a step counts when it falls within
# `window` of the attempt's first row, inclusive; a customer counts at the furthest step any
# attempt reaches. Because step times only grow along an attempt, an attempt that misses the
# window at step s can never reach s+1, so each join only carries the attempts still inside
# the window and the customers left after join s are those reaching step s+1.


def funnel_sql_asof(steps: list[str], window_us: int, entry: str = "any") -> str:
    """The funnel as ASOF joins: nearest next-step row at or after the previous step."""
    parts = [
        "with s as (\n"
        "  select customer_id, epoch_us(timestamp) as us, event from events\n"
        f"  where event in ({funnel_steps_sql(steps)})\n"
        ")"
    ]
    for i, step in enumerate(steps, start=1):
        parts.append(f"s{i} as (select customer_id, us as t{i} from s where event = '{step}')")
    if entry == "first":
        parts.append("a1 as (select customer_id, min(t1) as t1 from s1 group by customer_id)")
    else:
        parts.append("a1 as (select customer_id, t1 from s1)")
    for i in range(2, len(steps) + 1):
        carried = ", ".join(f"a.t{j}" for j in range(1, i))
        parts.append(
            f"a{i} as (\n"
            f"  select a.customer_id, {carried}, b.t{i}\n"
            f"  from a{i - 1} a asof join s{i} b\n"
            f"    on a.customer_id = b.customer_id and b.t{i} >= a.t{i - 1}\n"
            f"  where b.t{i} - a.t1 <= {window_us}\n"
            ")"
        )
    counts = "\nunion all ".join(
        f"select {i} as step, count(distinct customer_id) as customers from a{i}"
        for i in range(1, len(steps) + 1)
    )
    return ",\n".join(parts) + f"\n{counts}\norder by step"


def funnel_sql_window(steps: list[str], window_us: int, entry: str = "any") -> str:
    """The funnel with window functions: the greedy chain followed backwards, one running
    minimum per step over the customer's later rows (what journey_lib does, in SQL). With
    entry="first" the level is the one of the customer's first step-1 row (step-1 rows at one
    instant carry the same chain, so any of them will do)."""
    k = len(steps)
    cases = " ".join(f"when '{s}' then {i}" for i, s in enumerate(steps, start=1))
    frame = (
        "window w as (partition by customer_id order by us desc, step desc "
        "rows between unbounded preceding and 1 preceding)"
    )
    ctes = [
        "with c0 as (\n"
        f"  select customer_id, epoch_us(timestamp) as us, case event {cases} end as step\n"
        f"  from events where event in ({funnel_steps_sql(steps)})\n"
        ")"
    ]
    carried: list[str] = []  # chain times carried by rows of the current step
    for s in range(k - 1, 0, -1):
        # Rows of step s look up the next row of step s + 1 and the chain carried from it.
        nxt = [f"min(case when step = {s + 1} then us end) over w as n{s + 1}"]
        nxt += [f"min(case when step = {s + 1} then {c} end) over w as {c}" for c in carried]
        source = f"c{k - 1 - s}"
        ctes.append(
            f"c{k - s} as (\n  select customer_id, us, step, {', '.join(nxt)}\n"
            f"  from {source} {frame}\n)"
        )
        carried = [f"n{s + 1}", *carried]
    reached = " + ".join(
        f"coalesce({c} - us <= {window_us}, false)::int" for c in (f"n{j}" for j in range(2, k + 1))
    )
    level = f"arg_min(1 + {reached}, us)" if entry == "first" else f"max(1 + {reached})"
    ctes.append(
        f"lv as (\n  select customer_id, {level} as level\n"
        f"  from c{k - 1} where step = 1 group by customer_id\n)"
    )
    return (
        ",\n".join(ctes) + "\nselect step, count(*) filter (where level >= step) as customers\n"
        f"from lv, range(1, {k + 1}) r(step) group by step order by step"
    )


def _us_numpy(timestamps: pd.Series) -> np.ndarray:
    """UTC datetimes as int64 microseconds since the epoch."""
    return timestamps.dt.tz_convert("UTC").dt.as_unit("us").array.asi8


def funnel_pandas(
    events: pd.DataFrame, steps: list[str], window_us: int, entry: str = "any"
) -> list[int]:
    """The funnel with pandas.merge_asof (direction="forward"), one merge per step."""
    selected = events.loc[events["event"].isin(steps), ["customer_id", "timestamp", "event"]]
    us = _us_numpy(selected["timestamp"])
    event = selected["event"].to_numpy()
    customer = selected["customer_id"].to_numpy()
    tables = []
    for i, step in enumerate(steps, start=1):
        mask = event == step
        tables.append(
            pd.DataFrame({"customer_id": customer[mask], f"t{i}": us[mask]}).sort_values(f"t{i}")
        )
    attempts = tables[0]
    if entry == "first":
        attempts = attempts.groupby("customer_id", as_index=False, sort=False)["t1"].min()
    counts = [attempts["customer_id"].nunique()]
    for i in range(2, len(steps) + 1):
        attempts = pd.merge_asof(
            attempts.sort_values(f"t{i - 1}"),
            tables[i - 1],
            left_on=f"t{i - 1}",
            right_on=f"t{i}",
            by="customer_id",
            direction="forward",
        )
        attempts = attempts[(attempts[f"t{i}"] - attempts["t1"]) <= window_us]
        attempts = attempts.astype({f"t{i}": "int64"})
        counts.append(attempts["customer_id"].nunique())
    return counts


def funnel_polars(
    events: pl.LazyFrame, steps: list[str], window_us: int, entry: str = "any"
) -> list[int]:
    """The funnel with Polars join_asof (strategy="forward"), one join per step, lazily."""
    epoch = pl.datetime(1970, 1, 1, time_zone="UTC")
    rows = events.filter(pl.col("event").is_in(steps)).select(
        "customer_id", "event", us=(pl.col("timestamp") - epoch).dt.total_microseconds()
    )
    tables = [
        rows.filter(pl.col("event") == step)
        .select("customer_id", pl.col("us").alias(f"t{i}"))
        .sort(f"t{i}")
        for i, step in enumerate(steps, start=1)
    ]
    attempts = tables[0]
    if entry == "first":
        attempts = attempts.group_by("customer_id").agg(pl.col("t1").min())
    counted = [attempts.select(pl.col("customer_id").n_unique().alias("n"))]
    for i in range(2, len(steps) + 1):
        attempts = (
            attempts.sort(f"t{i - 1}")
            .join_asof(
                tables[i - 1],
                left_on=f"t{i - 1}",
                right_on=f"t{i}",
                by="customer_id",
                strategy="forward",
                check_sortedness=False,
            )
            .filter(pl.col(f"t{i}") - pl.col("t1") <= window_us)
        )
        counted.append(attempts.select(pl.col("customer_id").n_unique().alias("n")))
    return pl.concat(pl.collect_all(counted))["n"].to_list()


# -- RFM with lifetimes' definitions -----------------------------------------------------------


def rfm_sql(end_us: int) -> str:
    """lifetimes' summary (daily periods) in SQL: one group-by per day, one per customer."""
    return f"""
with p as (
  select customer_id, epoch_us(timestamp) // {DAY_US} as d,
         coalesce(nullif(value, 'NaN'::double), 0) as v
  from events
  where event = 'purchase' and epoch_us(timestamp) <= {end_us} and customer_id is not null
),
days as (select customer_id, d, sum(v) as v from p group by customer_id, d),
c as (
  select customer_id, count(*) as n, min(d) as first, max(d) as last, sum(v) as total,
         arg_min(v, d) as first_v
  from days group by customer_id
)
select customer_id, (n - 1)::double as frequency, (last - first)::double as recency,
       ({end_us // DAY_US} - first)::double as T,
       (case when n > 1 then (total - first_v) / (n - 1) else 0 end)::double as monetary_value
from c order by customer_id
"""


def rfm_polars(events: pl.LazyFrame, end_us: int) -> pl.DataFrame:
    epoch = pl.datetime(1970, 1, 1, time_zone="UTC")
    us = (pl.col("timestamp") - epoch).dt.total_microseconds()
    days = (
        events.filter(pl.col("event") == "purchase", us <= end_us)
        .select("customer_id", d=us // DAY_US, v=pl.col("value").fill_nan(0.0).fill_null(0.0))
        .group_by("customer_id", "d")
        .agg(pl.col("v").sum())
    )
    n = pl.len()
    first = pl.col("d").min()
    summary = days.group_by("customer_id").agg(
        frequency=(n - 1).cast(pl.Float64),
        recency=(pl.col("d").max() - first).cast(pl.Float64),
        T=(end_us // DAY_US - first).cast(pl.Float64),
        monetary_value=pl.when(n > 1)
        .then((pl.col("v").sum() - pl.col("v").get(pl.col("d").arg_min())) / (n - 1))
        .otherwise(0.0),
    )
    return summary.sort("customer_id").collect()


# The lifetimes run, inside the scratch venv (pandas 2.1): times only the library call.
LIFETIMES_SCRIPT = r"""
import json, resource, sys, time
import numpy as np, pandas as pd
from lifetimes.utils import summary_data_from_transaction_data
source, end, repeat, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
data = np.load(source)
frame = pd.DataFrame({
    "customer_id": data["customer_id"],
    "timestamp": pd.to_datetime(data["us"], unit="us"),
    "value": data["value"],
})
times = []
for _ in range(repeat):
    start = time.perf_counter()
    summary = summary_data_from_transaction_data(
        frame, "customer_id", "timestamp", monetary_value_col="value",
        observation_period_end=end, freq="D")
    times.append(time.perf_counter() - start)
if out:
    summary.reset_index().to_csv(out, index=False)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
print("@@RESULT " + json.dumps({"times": times, "peak_gb": peak, "rows": len(summary)}))
"""

# pm4py's directly-follows graph on the same log, in its own scratch venv.
PM4PY_SCRIPT = r"""
import contextlib, io, json, resource, sys, time
import pandas as pd
with contextlib.redirect_stdout(io.StringIO()):
    import pm4py
source, repeat, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
frame = pd.read_parquet(source, columns=["customer_id", "timestamp", "event"])
frame["customer_id"] = frame["customer_id"].astype(str)
times = []
for _ in range(repeat):
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        dfg, starts, ends = pm4py.discover_dfg(
            frame, case_id_key="customer_id", activity_key="event", timestamp_key="timestamp")
    times.append(time.perf_counter() - start)
if out:
    rows = [(a, b, n) for (a, b), n in dfg.items()]
    rows += [("(start)", a, n) for a, n in starts.items()]
    rows += [(a, "(end)", n) for a, n in ends.items()]
    pd.DataFrame(rows, columns=["from", "to", "count"]).to_csv(out, index=False)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
print("@@RESULT " + json.dumps({"times": times, "peak_gb": peak, "rows": len(dfg)}))
"""


# -- transitions -------------------------------------------------------------------------------


def transitions_pandas(events: pd.DataFrame) -> pd.DataFrame:
    """Counts of consecutive touchpoints: sort, shift within the customer, group-by size."""
    log = events[["customer_id", "timestamp", "event"]].sort_values(
        ["customer_id", "timestamp", "event"]
    )
    by_customer = log.groupby("customer_id", sort=False)["event"]
    previous = by_customer.shift(1).fillna(START)
    following = by_customer.shift(-1)
    pairs = pd.concat(
        [
            pd.DataFrame({"from": previous.to_numpy(), "to": log["event"].to_numpy()}),
            pd.DataFrame({"from": log["event"][following.isna()].to_numpy(), "to": END}),
        ]
    )
    return pairs.groupby(["from", "to"]).size().rename("count").reset_index()


def transitions_polars(events: pl.LazyFrame) -> pl.DataFrame:
    log = events.select("customer_id", "timestamp", "event").sort(
        "customer_id", "timestamp", "event"
    )
    same = pl.col("customer_id") == pl.col("customer_id").shift(1)
    last = pl.col("customer_id") != pl.col("customer_id").shift(-1)
    linked = log.with_columns(
        pl.when(same).then(pl.col("event").shift(1)).otherwise(pl.lit(START)).alias("from"),
        last.fill_null(value=True).alias("_last"),
    )
    pairs = pl.concat(
        [
            linked.select("from", pl.col("event").alias("to")),
            linked.filter("_last").select(pl.col("event").alias("from"), pl.lit(END).alias("to")),
        ]
    )
    return pairs.group_by("from", "to").agg(pl.len().alias("count")).collect()


TRANSITIONS_SQL = f"""
with l as (
  select event,
         coalesce(lag(event) over w, '{START}') as "from",
         lead(event) over w is null as last
  from events window w as (partition by customer_id order by timestamp, event)
)
select "from", event as "to", count(*) as count from l group by all
union all
select event, '{END}', count(*) from l where last group by all
"""


# -- retention, churn and paths (DuckDB SQL) -----------------------------------------------------

RETENTION_SQL = """
with a as (
  select distinct customer_id, year(timestamp) * 12 + month(timestamp) - 1 as m from events
),
c as (select customer_id, min(m) as cohort from a group by customer_id),
sizes as (select cohort, count(*) as cohort_size from c group by cohort)
select cohort, m - cohort as period, any_value(cohort_size) as cohort_size,
       count(*) as customers, count(*) / any_value(cohort_size) as rate
from a join c using (customer_id) join sizes using (cohort)
group by cohort, period order by cohort, period
"""


def churn_sql(inactivity_us: int) -> str:
    """Monthly churn with an inactivity window: who was active (an event in [b - W, b)) at
    each month boundary b, and which of them were not at the next boundary."""
    return f"""
with e as (select customer_id, epoch_us(timestamp) as us from events),
span as (select min(timestamp) as lo, max(timestamp) as hi from events),
b as (
  select epoch_us(x) as b, epoch_us(x + interval 1 month) as nb, epoch_us(hi) as now
  from span, generate_series(date_trunc('month', lo), hi, interval 1 month) g(x)
),
bounds as (select b from b union select nb from b),
act as (
  select distinct bounds.b, e.customer_id
  from e join bounds on e.us >= bounds.b - {inactivity_us} and e.us < bounds.b
)
select make_timestamp(b.b) as period, count(s.customer_id) as active_start,
       count(s.customer_id) filter (where n.customer_id is null) as lost,
       count(s.customer_id) filter (where n.customer_id is null) / count(s.customer_id)
         as churn_rate
from b left join act s on s.b = b.b
left join act n on n.b = b.nb and n.customer_id = s.customer_id
where b.nb <= b.now
group by b.b order by b.b
"""


def paths_sql(max_steps: int, top: int) -> str:
    return f"""
with r as (
  select customer_id, event,
         row_number() over (partition by customer_id order by timestamp, event) as rn
  from events qualify rn <= {max_steps}
),
p as (select string_agg(event, ' > ' order by rn) as path from r group by customer_id)
select path, count(*) as count, count(*) / sum(count(*)) over () as share
from p group by path order by count desc, path limit {top}
"""
