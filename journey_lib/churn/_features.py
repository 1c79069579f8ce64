"""The computations behind :func:`journey_lib.churn.build_dataset`: the log's extent, each
customer's status and label at a cutoff, and the features from before it.

Times are integer microseconds since the epoch (the ``_us`` column), as
:func:`journey_lib._engine.with_microseconds` makes them; see
:mod:`journey_lib.churn.dataset` for the definitions.
"""

from __future__ import annotations

import datetime as dt
import itertools
import warnings
from collections.abc import Sequence
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd

from .._engine import exact_mean, exact_sum, exact_terms, to_pandas
from .._time import DAY_US, EPOCH, duration_us
from ..analytics.rfm import rfm
from ..analytics.stages import assign_stages, get_framework
from ..errors import JourneyDataError, JourneyDataWarning, JourneyParameterError
from ._inputs import looks_like_id


def all_null(frame: nw.LazyFrame, column: str) -> bool:
    """Whether ``column`` is missing in every row of ``frame``."""
    present = frame.filter(~nw.col(column).is_null()).select(nw.len().alias("n")).collect()
    return present["n"].item() == 0


def window_spans(windows: Sequence[Any]) -> list[int]:
    """The look-back windows in microseconds, checked: a non-empty sequence of durations,
    each longer than the one before."""
    if isinstance(windows, str) or not windows:
        raise JourneyParameterError(
            f"windows must be a non-empty sequence of durations, got {windows!r}"
        )
    spans = [duration_us(w, "windows") for w in windows]
    if any(b <= a for a, b in itertools.pairwise(spans)):
        raise JourneyParameterError(f"windows must grow, shortest first; got {list(windows)}")
    return spans


def extent(frame: nw.LazyFrame, end: int) -> tuple[int | None, int | None, set[str]]:
    """The first and last event times, and the event names before ``end``."""
    bounds = frame.select(nw.col("_us").min().alias("lo"), nw.col("_us").max().alias("hi"))
    lo, hi = (None if pd.isna(v) else int(v) for v in bounds.collect().row(0))
    names = frame.filter(nw.col("_us") < end).select("event").unique().collect()
    return lo, hi, set(names["event"].to_list())


def check_span(c: int, end: int, first: int | None, last: int | None, *, labelled: bool) -> None:
    """Refuse a cutoff ``c`` outside the log (first to last event) and, for ``labelled``
    data, labels up to ``end`` that the log does not reach."""

    def stamp(us: int) -> str:
        return f"{EPOCH + dt.timedelta(microseconds=us):%Y-%m-%d %H:%M}"

    if first is None:
        raise JourneyDataError("the log is empty: there is nothing to learn churn from")
    if not first < c or (labelled and c > last):
        raise JourneyDataError(
            f"cutoff {stamp(c)} lies outside the log, which runs from {stamp(first)} to "
            f"{stamp(last)}; choose a cutoff inside it"
        )
    if labelled and last < end:
        raise JourneyDataError(
            f"the horizon runs to {stamp(end)} but the log ends at {stamp(last)}: labels "
            f"there would be guesses. Choose a cutoff at least the horizon before the end "
            f"(at or before {stamp(last - (end - c))}), a shorter horizon, or pass data_end "
            f"if the log was observed for longer than its last event"
        )


def status_table(
    frame: nw.LazyFrame,
    c: int,
    end: int,
    definition: str,
    inactivity_us: int | None,
    churn_event: str | None,
    acquisition_event: str | None,
) -> pd.DataFrame:
    """Per customer: ``_acquired``, ``_gone`` (churned by the cutoff) and ``_label``."""
    t = nw.col("_us")
    acquiring = t < c
    if acquisition_event is not None:
        acquiring = acquiring & (nw.col("event") == acquisition_event)
    if definition == "inactivity":
        active_at_cut = (t >= c - inactivity_us) & (t < c)
        active_at_end = (t >= end - inactivity_us) & (t < end)
        flags = {"_acq": acquiring, "_was": active_at_cut, "_stays": active_at_end}
    else:
        is_churn = nw.col("event") == churn_event
        flags = {
            "_acq": acquiring,
            "_quit": is_churn & (t < c),
            "_leaves": is_churn & (t >= c) & (t < end),
        }
    # Conditions become columns before grouping: Narwhals' pandas backend mishandles
    # conditional expressions inside a group-by aggregation.
    per_customer = (
        frame.filter(t < end)
        .with_columns(**{k: v.cast(nw.Int64) for k, v in flags.items()})
        .group_by("customer_id")
        .agg(*(nw.col(k).max() for k in flags))
    )
    table = to_pandas(per_customer.collect()).set_index("customer_id")
    table = table.fillna(0).astype(bool)
    if definition == "inactivity":
        gone, label = ~table["_was"], ~table["_stays"]
    else:
        gone, label = table["_quit"], table["_leaves"]
    return pd.DataFrame({"_acquired": table["_acq"], "_gone": gone, "_label": label})


def log_features(
    before: nw.LazyFrame,
    schema: Any,
    channel: bool,
    c: int,
    window_us: list[int],
    framework: Any,
    ticket_event: str,
    resolved_event: str,
    population: pd.Index,
) -> pd.DataFrame:
    """Everything but RFM and the customer table, one row per customer of ``population``
    seen before ``c``; ``channel`` says whether to count channels. Which events, channels
    and stages get columns is decided on every customer seen, so that a population does not
    change the columns."""
    t = nw.col("_us")
    # Bucket b holds events within windows[b] but not windows[b-1]; older ones are left out
    # of the windowed counts (they still count in tenure and the totals).
    age = c - t
    bucket = nw.lit(len(window_us))
    for b in range(len(window_us) - 1, -1, -1):
        bucket = nw.when(age <= window_us[b]).then(nw.lit(b)).otherwise(bucket)
    # Only the stage columns need the stages: assigning them joins the log with each
    # customer's first repeated events, which the engine would otherwise do for every query.
    rows = before.with_columns(_bucket=bucket)
    staged = nw.from_native(assign_stages(rows.to_native(), framework, unmapped="ignore")).lazy()
    stages = get_framework(framework).stages

    # A channel is a name even when a reader typed an empty channel column as numbers.
    numeric = [
        name
        for name, dtype in schema.items()
        if dtype.is_numeric() and name not in ("customer_id", "channel") and not looks_like_id(name)
    ]
    # Expressions become columns before grouping: Narwhals' pandas backend mishandles
    # anything but a plain column inside a group-by aggregation.
    prepared = staged.with_columns(
        _ticket=(nw.col("event") == ticket_event).cast(nw.Int64),
        _resolved=(nw.col("event") == resolved_event).cast(nw.Int64),
        _stage=nw.col("stage")
        .replace_strict(
            {name: i for i, name in enumerate(stages, start=1)},
            default=nw.lit(0, dtype=nw.Int64()),
            return_dtype=nw.Int64(),
        )
        .fill_null(0),
    )
    # Each numeric column by its place, not its name (a log may name columns anything),
    # summed exactly, so that every engine trains the same model.
    for i, name in enumerate(numeric):
        value = nw.col(name).cast(nw.Float64).fill_nan(None)
        prepared = prepared.with_columns(**exact_terms(value, f"_jl_v{i}"), **{f"_jl_v{i}": value})
    aggregations = [
        t.min().alias("_first"),
        t.max().alias("_last"),
        nw.len().alias("events_total"),
        nw.col("_ticket").sum().alias("tickets"),
        nw.col("_resolved").sum().alias("_resolved"),
        nw.col("_stage").max().alias("stage_reached"),
    ]
    kept = [
        "customer_id",
        "_first",
        "_last",
        "events_total",
        "tickets",
        "_resolved",
        "stage_reached",
    ]
    for i in range(len(numeric)):
        aggregations.append(nw.col(f"_jl_v{i}_whole", f"_jl_v{i}_parts").sum())
        aggregations.append(nw.col(f"_jl_v{i}").count().alias(f"_jl_n{i}"))
    # Spend is summed once collected; means are taken in the engine (a mean of nothing
    # stays missing).
    means = [
        exact_mean(f"_jl_v{i}", nw.col(f"_jl_n{i}")).alias(f"{name}_mean")
        for i, name in enumerate(numeric)
        if name != "value"
    ]
    spend = f"_jl_v{numeric.index('value')}" if "value" in numeric else None
    sums = [f"{spend}_whole", f"{spend}_parts"] if spend else []
    grouped = prepared.group_by("customer_id").agg(*aggregations)
    totals = to_pandas(grouped.select(*kept, *sums, *means).collect()).set_index("customer_id")
    if spend:
        # The sum of nothing is 0 in pandas and null in others: no value is no spend.
        totals["value_total"] = exact_sum(totals, spend).fillna(0.0)
    named = [("value_total" if name == "value" else f"{name}_mean") for name in numeric]
    totals = totals[kept[1:] + named]
    totals = totals[totals.index.isin(population)]
    if channel:
        used = (
            rows.filter(~nw.col("channel").is_null())
            .group_by("customer_id")
            .agg(nw.col("channel").n_unique().alias("channels_used"))
        )
        totals = totals.join(to_pandas(used.collect()).set_index("customer_id"))
    totals["recency_days"] = (c - totals.pop("_last")) / DAY_US
    totals["tenure_days"] = (c - totals.pop("_first")) / DAY_US
    # Tickets are resolved in order, so those without a resolution are the surplus.
    totals["unresolved_tickets"] = (totals["tickets"] - totals.pop("_resolved")).clip(lower=0)

    labels = [_label(w) for w in window_us]
    parts = [totals, _windowed(rows, population, None, "events", labels)]
    parts.append(_windowed(rows, population, "event", "event", labels))
    if channel:
        parts.append(_windowed(rows, population, "channel", "channel", labels))
    parts.append(_windowed(staged, population, "stage", "stage", labels, categories=stages))
    X = pd.concat(parts, axis=1)
    trends = {"trend_events": _trend(X, "events", labels, window_us)}
    for stage in stages:
        trends[f"trend_stage_{stage}"] = _trend(X, f"stage_{stage}", labels, window_us)
    return pd.concat([X, pd.DataFrame(trends)], axis=1)


def _windowed(
    rows: nw.LazyFrame,
    population: pd.Index,
    column: str | None,
    prefix: str,
    labels: list[str],
    categories: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Counts per customer of ``population`` (and value of ``column``) within each look-back
    window."""
    keys = ["customer_id", "_bucket"] + ([column] if column else [])
    inside = rows.filter(nw.col("_bucket") < len(labels))
    if column:
        inside = inside.filter(~nw.col(column).is_null())
    long = to_pandas(inside.group_by(*keys).agg(nw.len().alias("_n")).collect())
    if column is None:
        values = [""]
    else:
        values = list(categories) if categories is not None else sorted(long[column].unique())
    names = [
        f"{prefix}_{value}_{label}" if value != "" else f"{prefix}_{label}"
        for value in values
        for label in labels
    ]
    if long.empty:
        # Nothing of this kind within any window (every event older than the longest window,
        # or no event mapped to a stage): no customer row here, _fill_counts makes them 0.
        empty = pd.Index([], dtype=long["customer_id"].dtype, name="customer_id")
        return pd.DataFrame({name: pd.Series(dtype="int64") for name in names}, index=empty)
    # A cube of the population's customers (at a late cutoff most customers seen have left)
    # x values x buckets, filled by one bincount: pandas' pivot_table of every customer
    # took half of build_dataset's time on a large log.
    long = long[long["customer_id"].isin(population)]
    if column:
        value = pd.Categorical(long[column], categories=values).codes.astype("int64")
        kept = value >= 0
        long, value = long[kept], value[kept]
    else:
        value = np.zeros(len(long), dtype="int64")
    row, customers = pd.factorize(long["customer_id"], sort=True)
    cells = (row * len(values) + value) * len(labels) + long["_bucket"].to_numpy(dtype="int64")
    shape = (len(customers), len(values), len(labels))
    weights = long["_n"].to_numpy(dtype="float64")
    counts = np.bincount(cells, weights=weights, minlength=int(np.prod(shape)))
    # Windows are nested: a window's count is the running total over the buckets within it.
    cube = counts.astype("int64").reshape(shape).cumsum(axis=2)
    index = pd.Index(customers, name="customer_id")
    return pd.DataFrame(cube.reshape(len(index), len(names)), index=index, columns=names)


def _trend(X: pd.DataFrame, stem: str, labels: list[str], window_us: list[int]) -> pd.Series:
    """Events in the shortest window minus the next window's earlier part, scaled to the
    shortest window's length: positive when activity is picking up."""
    if len(labels) < 2:
        return pd.Series(0.0, index=X.index)
    recent = X[f"{stem}_{labels[0]}"].astype("float64")
    earlier = X[f"{stem}_{labels[1]}"].astype("float64") - recent
    return recent - earlier * window_us[0] / (window_us[1] - window_us[0])


def rfm_features(before: nw.LazyFrame, c: int, purchase_event: str) -> pd.DataFrame:
    """lifetimes' summary at the cutoff, in days."""
    cut = EPOCH + dt.timedelta(microseconds=c)
    native = before.drop("_us").to_native()
    summary = to_pandas(rfm(native, observation_end=cut, purchase_event=purchase_event))
    return summary.set_index("customer_id").add_prefix("rfm_")


def customer_features(
    customers: Any, cut: dt.datetime, population: pd.Index
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The customer table's columns for ``population``: identifiers dropped, dates as days
    before the cutoff."""
    table = to_pandas(customers, what="customers")
    if "customer_id" not in table.columns:
        raise JourneyDataError(
            f"customers lack a 'customer_id' column; they have {list(table.columns)}"
        )
    duplicated = table["customer_id"].duplicated()
    if duplicated.any():
        example = table.loc[duplicated, "customer_id"].iloc[0]
        raise JourneyDataError(
            f"customers has {int(duplicated.sum())} repeated customer_id value(s), e.g. "
            f"{example!r}; give one row per customer"
        )
    table = table.set_index("customer_id")
    dropped = tuple(c for c in table.columns if looks_like_id(c, table[c]))
    if dropped:
        warnings.warn(
            f"customer columns {list(dropped)} look like identifiers and were left out of "
            f"the features (a model would memorise them)",
            JourneyDataWarning,
            stacklevel=4,
        )
    table = table.drop(columns=list(dropped)).reindex(population)
    moment = pd.Timestamp(cut)
    future = 0
    for name in table.columns:
        column = table[name]
        if isinstance(column.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(column):
            stamps = column if column.dt.tz is not None else column.dt.tz_localize("UTC")
            days = (moment - stamps) / pd.Timedelta(days=1)
            future += int((days < 0).sum())
            table[name] = days.where(days >= 0)
            table = table.rename(columns={name: f"{name}_days_before"})
    if future:
        warnings.warn(
            f"{future} customer-table date(s) fall after the cutoff {moment:%Y-%m-%d}: future "
            f"knowledge, made missing",
            JourneyDataWarning,
            stacklevel=4,
        )
    return table.add_prefix("customer_"), dropped


def is_count(name: str) -> bool:
    """Whether a feature of :func:`build_dataset` counts touchpoints, so that its absence
    means zero (a customer without such events, or an event no one had before the cutoff)."""
    return name.startswith(("events_", "event_", "channel_", "stage_", "trend_")) or name in (
        "tickets",
        "unresolved_tickets",
        "channels_used",
    )


def fill_counts(X: pd.DataFrame) -> pd.DataFrame:
    """Customers without rows in a count table have zero of it."""
    counts = [c for c in X.columns if is_count(c)]
    # Filling by column leaves a block per column; the copy consolidates them.
    return X.fillna(dict.fromkeys(counts, 0)).copy()


def clean_names(columns: pd.Index) -> list[str]:
    """Column names as letters, digits and underscores."""
    cleaned = (
        pd.Series(columns, dtype="str")
        .str.replace(r"[^0-9A-Za-z_]+", "_", regex=True)
        .str.strip("_")
    )
    return cleaned.tolist()


def _label(us: int) -> str:
    """A window's name in a column: 30D, 12h, 90min."""
    span = pd.Timedelta(microseconds=us)
    if span % pd.Timedelta(days=1) == pd.Timedelta(0):
        return f"{span.days}D"
    if span % pd.Timedelta(hours=1) == pd.Timedelta(0):
        return f"{int(span / pd.Timedelta(hours=1))}h"
    return f"{int(span / pd.Timedelta(minutes=1))}min"
