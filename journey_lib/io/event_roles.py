"""What the events of a clean log are for, and the defaults a log's own span suggests.

Each function takes a clean touchpoint log (pandas, canonical columns) and returns its choice
with a sentence of evidence, so a profile can say why. Definitions:

conversion
    The event named most like a finished conversion (:data:`~journey_lib.io.rules.
    CONVERSION_WORDS` in order of preference, a ``done``/``complete`` word first, never one
    with a word of an unfinished or failed step). Without one: the only event of a one-event
    log; in a process log the commonest last event of a case (the process's outcome);
    otherwise none.
acquisition
    The event named like a sign-up (:data:`~journey_lib.io.rules.ACQUISITION_WORDS`), else
    the conversion (a first purchase makes a customer), else none (any event).
churn event
    The event named like an ending (:data:`~journey_lib.io.rules.CHURN_WORDS`), else none.
advocacy
    The events of kind ``advocacy`` whose names carry an advocacy word.
default funnel
    ``[entry, middle..., conversion]``: the entry is the commonest first event of customers;
    the middle steps are the events (other than those two) that at least half of the
    converters did after entering and before first converting, at most three, the most
    common kept and put in the order converters typically first did them (median rank;
    ties to the more common, then by name). A
    log whose entry is its conversion (transactions, one event type) gets
    ``[conversion, conversion]``: bought, and bought again.
timing
    ``period``: the longest of day, week, month, quarter, year that gives at least 11
    periods over the log's span (a year of months). ``inactivity``: the gap within which
    90% of returns come, rounded up to 1, 2, 3, 7, 14, 30, 60, 90, 180 or 365 days and kept
    under half the span to the log's last day (so the cutoff leaves more history before it
    than the horizon after it); a return is a repeat conversion when there are at least 30
    of them, else any event on a later day. ``horizon``: the inactivity.
    ``cutoff``: one horizon before the midnight that starts the log's last day, so the
    whole horizon after it is observed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._time import DAY_US
from .rules import (
    ACQUISITION_WORDS,
    ADVOCACY_WORDS,
    CHURN_WORDS,
    CONVERSION_WORDS,
    DONE,
    NOT_CHURN,
    NOT_DONE,
    is_conversion_name,
    kind_of,
    matching_rule,
)

__all__ = [
    "PERIODS",
    "acquisition_event",
    "advocacy_events",
    "churn_event",
    "conversion_event",
    "default_funnel",
    "event_counts",
    "event_kinds",
    "timing",
]

#: Period names and their length in days, shortest first.
PERIODS: dict[str, float] = {
    "day": 1.0,
    "week": 7.0,
    "month": 365.25 / 12,
    "quarter": 365.25 / 4,
    "year": 365.25,
}
_NICE_DAYS = (1, 2, 3, 7, 14, 30, 60, 90, 180, 365)
_DAY = pd.Timedelta(days=1)
# Repeat conversions needed before their gaps, rather than any activity's, set inactivity.
_MIN_GAPS = 30

Choice = tuple[str | None, str]


def event_counts(log: pd.DataFrame) -> pd.DataFrame:
    """Rows and distinct customers per event, commonest first (ties by rows, then name).

    Every function here takes these as ``counts=`` to save computing them again.

    Examples
    --------
    >>> log = pd.DataFrame({"customer_id": [1, 1, 2], "event": ["a", "b", "a"]})
    >>> event_counts(log).to_dict("index")
    {'a': {'rows': 2, 'customers': 2}, 'b': {'rows': 1, 'customers': 1}}
    """
    # Integer codes: grouping text columns of a large log is several times slower.
    event, names = pd.factorize(log["event"], sort=True)
    customer, _ = pd.factorize(log["customer_id"])
    present = event >= 0
    event, customer = event[present], customer[present]
    rows = np.bincount(event, minlength=len(names))
    pairs = np.unique(event.astype("int64") * (customer.max(initial=0) + 1) + customer)
    customers = np.bincount(pairs // (customer.max(initial=0) + 1), minlength=len(names))
    counts = pd.DataFrame(
        {"rows": rows, "customers": customers}, index=pd.Index(names, name="event")
    )
    return counts.sort_values(["customers", "rows"], ascending=False, kind="stable")


def conversion_event(log: pd.DataFrame, shape: str, counts: pd.DataFrame | None = None) -> Choice:
    """The conversion event and why (see the module docstring).

    Examples
    --------
    >>> log = pd.DataFrame({"customer_id": [1, 1, 2], "event": ["cart", "payment_done",
    ...     "cart"], "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-01"])})
    >>> conversion_event(log, "events")[0]
    'payment_done'
    """
    counts = event_counts(log) if counts is None else counts
    named = [e for e in counts.index if is_conversion_name(e)]
    if named:

        def preference(event: str) -> tuple[int, int, int]:
            word = matching_rule(event, CONVERSION_WORDS)
            finished = matching_rule(event, DONE) is not None
            return (not finished, CONVERSION_WORDS.index(word), -counts.loc[event, "customers"])

        best = min(named, key=preference)
        n = counts.loc[best]
        return best, (
            f"{best!r} is named like a conversion ({int(n['rows']):,} rows, "
            f"{int(n['customers']):,} customers)"
        )
    if len(counts) == 1:
        only = counts.index[0]
        return only, f"the log has one event type, {only!r}: every row counts as a conversion"
    if shape == "process":
        last = log.groupby("customer_id", sort=False)["event"].last().value_counts()
        share = last.iloc[0] / last.sum()
        return last.index[0], (
            f"no event is named like a conversion; {last.index[0]!r} ends the most cases "
            f"({share:.0%}), so reaching it counts as completing the process"
        )
    return None, (
        "no event is named like a conversion (purchase, order, payment, ...); "
        "name one with conversion="
    )


def acquisition_event(
    log: pd.DataFrame,
    conversion: str | None,
    shape: str = "events",
    counts: pd.DataFrame | None = None,
) -> Choice:
    """The event that makes someone a customer, and why."""
    if shape == "process":
        return None, "a case begins with its first event"
    counts = event_counts(log) if counts is None else counts
    named = [
        e
        for e in counts.index
        if matching_rule(e, ACQUISITION_WORDS) and not matching_rule(e, NOT_DONE)
    ]
    if named:
        best = min(
            named, key=lambda e: ACQUISITION_WORDS.index(str(matching_rule(e, ACQUISITION_WORDS)))
        )
        return best, f"{best!r} is named like a sign-up"
    if conversion is not None:
        return conversion, f"no sign-up event; the first {conversion!r} makes a customer"
    return None, "no sign-up or conversion event; a customer's first event makes them one"


def churn_event(
    log: pd.DataFrame, conversion: str | None, counts: pd.DataFrame | None = None
) -> Choice:
    """The event that ends a relationship, and why."""
    counts = event_counts(log) if counts is None else counts
    named = [
        e
        for e in counts.index
        if matching_rule(e, CHURN_WORDS) and not matching_rule(e, NOT_CHURN) and e != conversion
    ]
    if named:
        best = min(named, key=lambda e: CHURN_WORDS.index(matching_rule(e, CHURN_WORDS)))
        return best, f"{best!r} is named like an ending (cancel, unsubscribe, close, ...)"
    return None, "no event is named like an ending; churn means inactivity"


def event_kinds(
    log: pd.DataFrame, conversion: str | None, counts: pd.DataFrame | None = None
) -> tuple[dict[str, str], dict[str, str]]:
    """Each event's kind by the rules, and the events no rule places with the reason.

    The conversion is always of kind ``conversion``, whatever its name.
    """
    kinds: dict[str, str] = {}
    unmapped: dict[str, str] = {}
    counts = event_counts(log) if counts is None else counts
    for event in counts.index:
        kind = "conversion" if event == conversion else kind_of(event)
        if kind is None:
            unmapped[str(event)] = "no rule matches its name"
        else:
            kinds[str(event)] = kind
    return kinds, unmapped


def advocacy_events(kinds: dict[str, str]) -> tuple[str, ...]:
    """Events of kind advocacy that carry an advocacy word (reviews, referrals, shares)."""
    return tuple(
        e for e, k in kinds.items() if k == "advocacy" and matching_rule(e, ADVOCACY_WORDS)
    )


def default_funnel(
    log: pd.DataFrame, conversion: str | None, max_middle: int = 3
) -> tuple[tuple[str, ...] | None, str]:
    """The default funnel steps (see the module docstring) and why, as ``(steps, why)``;
    steps are None when there is no conversion.

    Examples
    --------
    >>> log = pd.DataFrame({
    ...     "customer_id": [1, 1, 1, 2, 2, 2, 3],
    ...     "event": ["home", "cart", "buy", "home", "cart", "buy", "home"],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"] * 2
    ...                                 + ["2024-01-05"])})
    >>> default_funnel(log, "buy")[0]
    ('home', 'cart', 'buy')
    """
    if conversion is None:
        return None, "no conversion event, so no default funnel"
    # Integer codes for customers, events (in name order) and times: grouping text and
    # zoned times of a large log is several times slower.
    customer, _ = pd.factorize(log["customer_id"])
    event, names = pd.factorize(log["event"], sort=True)
    time = _microseconds(log["timestamp"])
    compact = pd.DataFrame({"customer_id": customer, "event": event, "t": time})
    firsts = (
        compact.groupby(["customer_id", "event"], sort=False)["t"]
        .min()
        .rename("first")
        .reset_index()
    )
    order = np.lexsort((time, customer))  # stable: ties keep the log's order
    leading = np.r_[True, customer[order][1:] != customer[order][:-1]]
    entries = np.bincount(event[order][leading], minlength=len(names))
    # Ties: not the conversion (a journey does not begin at its end), then the first name.
    tied = np.flatnonzero(entries == entries.max())
    ahead = [int(c) for c in tied if names[c] != conversion]
    entry_code = ahead[0] if ahead else int(tied[0])
    entry = names[entry_code]
    share = entries[entry_code] / entries.sum()
    if entry == conversion or len(names) == 1:
        repeat = (log["event"] == conversion).groupby(log["customer_id"]).sum() >= 2
        why = (
            f"customers start with {conversion!r} itself, so the funnel is a first "
            f"{conversion!r} and another ({int(repeat.sum()):,} customers came back)"
        )
        return (conversion, conversion), why
    goal = int(names.get_loc(conversion))
    # Long form throughout: a customers x events table would not fit a large log.
    start = firsts.loc[firsts["event"] == entry_code].set_index("customer_id")["first"]
    end = firsts.loc[firsts["event"] == goal].set_index("customer_id")["first"]
    start, end = start.align(end, join="inner")
    done = start.index[start <= end]
    if len(done) == 0:
        return (entry, conversion), (
            f"{entry!r} starts most journeys ({share:.0%}); no customer reached "
            f"{conversion!r} after it"
        )
    others = firsts.loc[
        firsts["customer_id"].isin(done) & ~firsts["event"].isin([entry_code, goal])
    ]
    within = (others["first"] >= others["customer_id"].map(start)) & (
        others["first"] < others["customer_id"].map(end)
    )
    between = others.loc[within]
    coverage = between.groupby("event").size() / len(done)
    coverage.index = names[coverage.index]
    kept = coverage[coverage >= 0.5].sort_values(ascending=False, kind="stable").head(max_middle)
    chosen = between.loc[between["event"].isin(names.get_indexer(kept.index))]
    rank = chosen.groupby("customer_id", sort=False)["first"].rank(method="min")
    ranks = rank.groupby(chosen["event"]).median()
    ranks.index = names[ranks.index]
    # Ties in typical order go to the more common step, then the name.
    order = pd.DataFrame(
        {"event": ranks.index, "rank": ranks.to_numpy(), "less": -kept[ranks.index].to_numpy()}
    )
    middle = order.sort_values(["rank", "less", "event"])["event"].tolist()
    steps = [entry, *middle, conversion]
    listed = ", ".join(f"{e!r} {coverage[e]:.0%}" for e in middle)
    why = f"{entry!r} starts most journeys ({share:.0%} of customers); " + (
        f"of the {len(done):,} who converted after it, shares that did each step between: {listed}"
        if middle
        else f"no step lies between it and {conversion!r} for half of the {len(done):,} converters"
    )
    return tuple(steps), why


def _microseconds(times: pd.Series) -> np.ndarray:
    """UTC instants as int64 microseconds since the epoch."""
    if isinstance(times.dtype, pd.DatetimeTZDtype):
        times = times.dt.tz_convert("UTC").dt.tz_localize(None)
    return times.to_numpy().astype("datetime64[us]").astype("int64")


def _return_gaps(log: pd.DataFrame, conversion: str | None) -> tuple[np.ndarray, str]:
    """Days between a customer's consecutive active days: conversion days when repeat
    conversions give at least 30 gaps, any event's days otherwise."""
    day = _microseconds(log["timestamp"]) // DAY_US  # whole UTC days
    days = pd.DataFrame({"c": log["customer_id"].to_numpy(), "d": day})
    candidates = [(days, "returns")]
    if conversion is not None:
        mask = (log["event"] == conversion).to_numpy()
        candidates.insert(0, (days.loc[mask], f"repeat {conversion!r} events"))
    for active, between in candidates:
        active = active.drop_duplicates().sort_values(["c", "d"], kind="stable")
        c, d = active["c"].to_numpy(), active["d"].to_numpy()
        same = c[1:] == c[:-1]
        gaps = np.diff(d).astype("float64")[same]
        if len(gaps) >= _MIN_GAPS or between == "returns":
            return gaps, between
    raise AssertionError("unreachable: the last candidate always returns")


def timing(
    log: pd.DataFrame,
    conversion: str | None = None,
    *,
    inactivity: str | None = None,
    horizon: str | None = None,
) -> dict[str, tuple[str, str]]:
    """``period``, ``inactivity``, ``horizon`` and ``cutoff`` from the log's span, each as
    ``(value, why)`` (see the module docstring). A given ``inactivity`` sets the horizon
    too, and a given ``horizon`` the cutoff.

    Examples
    --------
    >>> log = pd.DataFrame({"customer_id": [1, 1, 2, 2],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-08", "2024-01-01",
    ...                                  "2024-12-30"], utc=True)})
    >>> {k: v for k, (v, _) in timing(log).items()}
    {'period': 'month', 'inactivity': '180D', 'horizon': '180D', 'cutoff': '2024-07-03'}
    >>> timing(log, horizon="30D")["cutoff"][0]
    '2024-11-30'
    """
    first, last = log["timestamp"].min(), log["timestamp"].max()
    span_days = max((last - first) / _DAY, 1.0)
    period = max(
        (p for p, days in PERIODS.items() if span_days / days >= 11), key=PERIODS.get, default="day"
    )
    why_period = f"{span_days:,.0f} days of data give {span_days / PERIODS[period]:,.0f} {period}s"
    # Labels need the whole horizon observed, so it ends by the log's last day's midnight;
    # and the history before the cutoff is to be longer than the horizon after it.
    end = last.floor("D")
    room = (end - first) / _DAY / 2
    if inactivity is not None:
        chosen, why_gap = inactivity, "given"
    else:
        gaps, between = _return_gaps(log, conversion)
        if len(gaps):
            p90 = float(np.quantile(gaps, 0.9))
            wanted = next((d for d in _NICE_DAYS if d >= p90), _NICE_DAYS[-1])
            why_gap = f"90% of {between} come within {p90:,.0f} days"
        else:
            wanted = _NICE_DAYS[-1]
            why_gap = "no customer returns on a later day"
        allowed = max((d for d in _NICE_DAYS if d < room), default=1)
        days = min(wanted, allowed)
        if days < wanted:
            why_gap += f"; kept to {days} days, under half the {span_days:,.0f}-day span"
        chosen = f"{days}D"
    if horizon is not None:
        chosen_horizon, why_horizon = horizon, "given"
    else:
        chosen_horizon, why_horizon = chosen, "churn is judged over one inactivity span"
    cutoff = end - pd.Timedelta(chosen_horizon)
    return {
        "period": (period, why_period),
        "inactivity": (chosen, why_gap),
        "horizon": (chosen_horizon, why_horizon),
        "cutoff": (
            cutoff.strftime("%Y-%m-%d"),
            f"one horizon before the log's last day ({end.strftime('%Y-%m-%d')})",
        ),
    }
