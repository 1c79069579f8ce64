"""Which column of a log is the customer, the time, the event, and the rest.

:func:`guess_columns` reads a sample of the rows and weighs each column's name (by the word
rules of :mod:`journey_lib.io.rules`) against its content (how many distinct values, whether
they parse as times or numbers). Every choice comes with the evidence for it and how sure it
is:

``given``   the user said so;
``sure``    the name and the content agree;
``likely``  the content fits and the name is silent, or the name fits among several;
``guess``   only the content, and weakly.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from ..errors import JourneyDataError, JourneyParameterError
from .rules import COLUMN_WORDS, words

__all__ = ["ROLES", "ColumnGuess", "ColumnStats", "column_stats", "guess_columns"]

#: Roles a column can play, in the order they are chosen (the clearest first).
ROLES: tuple[str, ...] = (
    "timestamp",
    "customer_id",
    "event",
    "churn",
    "channel",
    "value",
    "session_id",
    "invoice",
    "quantity",
    "signup",
    "currency",
)
# Roles of a one-row-per-customer table; the others are a log's.
_TABLE_ROLES = frozenset({"customer_id", "churn", "signup"})
#: Rows read to judge a column's content; enough for stable shares, cheap on 10M rows.
SAMPLE_ROWS = 20_000
#: Most distinct values a segment-like property may have in the sample.
PROPERTY_LEVELS = 50
# Unix epochs in seconds, ms, us or ns between 2000 and 2100: plausible event times.
_EPOCH_RANGES = ((9.46e8, 4.1e9), (9.46e11, 4.1e12), (9.46e14, 4.1e15), (9.46e17, 4.1e18))


@dataclass(frozen=True)
class ColumnStats:
    """What the sample says about one column."""

    name: str
    words: tuple[str, ...]
    distinct: int
    distinct_share: float
    null_share: float
    numeric: bool
    integral: bool
    time_share: float
    text: bool
    example: str


@dataclass(frozen=True)
class ColumnGuess:
    """The column chosen for a role, or None, with the evidence and how sure."""

    role: str
    column: str | None
    evidence: str
    confidence: str


def column_stats(sample: pd.DataFrame) -> dict[str, ColumnStats]:
    """Describe each column of a sample: distinct values, nulls, types, parseable times.

    Examples
    --------
    >>> frame = pd.DataFrame({"ts": ["2024-01-01 10:00", "2024-01-02"], "n": [1, 2]})
    >>> stats = column_stats(frame)
    >>> stats["ts"].time_share, stats["n"].integral
    (1.0, True)
    """
    n = max(len(sample), 1)
    stats = {}
    for name in sample.columns:
        series = sample[name]
        present = series.dropna()
        numeric = ptypes.is_numeric_dtype(series) and not ptypes.is_bool_dtype(series)
        integral = numeric and bool(
            len(present) and np.all(np.mod(present.to_numpy(dtype="float64"), 1) == 0)
        )
        distinct = int(present.nunique())
        stats[str(name)] = ColumnStats(
            name=str(name),
            words=words(name),
            distinct=distinct,
            distinct_share=distinct / max(len(present), 1),
            null_share=1 - len(present) / n,
            numeric=numeric,
            integral=integral,
            time_share=_time_share(present),
            text=not numeric and not ptypes.is_datetime64_any_dtype(series),
            example=str(present.iloc[0]) if len(present) else "",
        )
    return stats


def _time_share(present: pd.Series) -> float:
    """Share of the first 500 values that read as a date and time (datetimes count whole;
    numbers only in a plausible Unix-epoch range, judged with the name later)."""
    if ptypes.is_datetime64_any_dtype(present):
        return 1.0
    head = present.head(500)
    if len(head) == 0 or ptypes.is_bool_dtype(head):
        return 0.0
    if ptypes.is_numeric_dtype(head):
        values = head.to_numpy(dtype="float64")
        return max(float(np.mean((values >= lo) & (values <= hi))) for lo, hi in _EPOCH_RANGES)
    text = head.astype("str").str.strip()
    # A date has digits and a separator; plain numbers and codes are not times.
    shaped = text.str.contains(r"\d", regex=True) & text.str.contains(r"[-/:.]", regex=True)
    shaped &= text.str.len() >= 6
    if not shaped.any():
        return 0.0
    bare = text[shaped].str.replace(r"\s*(?:UTC|GMT)$", "", regex=True)
    parsed = pd.to_datetime(bare, utc=True, format="ISO8601", errors="coerce")
    if parsed.isna().any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            retry = pd.to_datetime(bare[parsed.isna()], utc=True, format="mixed", errors="coerce")
        parsed = parsed.fillna(retry)
    return float(parsed.notna().sum() / len(head))


def _name_score(stats: ColumnStats, role: str) -> int:
    """2 when a word of the name suggests the role (3 when it is the canonical name itself),
    0 when none does or one rules it out."""
    suggest, unless = COLUMN_WORDS[role]
    if stats.name.strip().lower() == role:
        return 3
    if any(w in unless for w in stats.words):
        return 0
    return 2 if any(w in suggest for w in stats.words) else 0


def _fits(stats: ColumnStats, role: str) -> bool:
    """Whether the content can play the role at all."""
    # Numbers count as times only under a time-like name: ids can look like epochs.
    timelike = stats.time_share >= 0.9 and (
        not stats.numeric or _name_score(stats, "timestamp") > 0
    )
    if role == "timestamp":
        return timelike and stats.distinct > 1
    if role == "customer_id":
        whole = not stats.numeric or stats.integral
        return whole and not timelike and stats.distinct >= 2
    if role == "event":
        return stats.text and not timelike and 1 <= stats.distinct <= 2000
    if role == "channel":
        # An empty channel column is still the channel (an export with nothing in it).
        return stats.text and not timelike and stats.distinct <= 200
    if role in ("value", "quantity"):
        return stats.numeric and stats.null_share < 1
    if role == "churn":
        return 2 <= stats.distinct <= 2 and stats.null_share < 0.5
    if role == "signup":
        return stats.time_share >= 0.9
    if role == "currency":
        return stats.text and stats.distinct <= 20
    return stats.distinct >= 1  # session_id, invoice: any values


def guess_columns(
    sample: pd.DataFrame,
    hints: Mapping[str, str] | None = None,
) -> tuple[dict[str, ColumnGuess], dict[str, ColumnStats]]:
    """Choose a column for each role, the user's ``hints`` first.

    Parameters
    ----------
    sample : pandas.DataFrame
        Rows of the log as read (a sample is enough).
    hints : mapping, optional
        Input column -> role, as ``columns=`` of :func:`journey_lib.read_events`.

    Returns
    -------
    guesses : dict
        Role -> :class:`ColumnGuess` for every role in :data:`ROLES`.
    stats : dict
        Column -> :class:`ColumnStats`.

    Raises
    ------
    JourneyParameterError
        When a hint names a role twice, or a column twice.
    JourneyDataError
        When a hint names a column the log does not have.

    Examples
    --------
    >>> log = pd.DataFrame({"user_id": ["u1", "u1", "u2"], "event": ["cart", "payment_done",
    ...                     "cart"], "ts": ["2024-01-01 10:00", "2024-01-01 10:05", "2024-01-02"]})
    >>> guesses, _ = guess_columns(log)
    >>> [(role, g.column, g.confidence) for role, g in guesses.items() if g.column]
    [('timestamp', 'ts', 'sure'), ('customer_id', 'user_id', 'sure'), ('event', 'event', 'sure')]
    """
    stats = column_stats(sample)
    given = _check_hints(hints or {}, list(sample.columns))
    guesses: dict[str, ColumnGuess] = {}
    taken: set[str] = set(given.values())
    # With a churn label (and no time given) this may be one row per customer, whose
    # columns are features: then only names may claim a role.
    table = _best(stats, "churn", taken) is not None and "timestamp" not in given
    for role in ROLES:
        if role not in given and role != "customer_id" and (role in _TABLE_ROLES) != table:
            # A table's other columns are its features; a log has no label or signup.
            guesses[role] = ColumnGuess(role, None, "not looked for in this shape", "")
            continue
        if role in given:
            column = given[role]
            guesses[role] = ColumnGuess(role, column, "given", "given")
            continue
        choice = _best(stats, role, taken, named_only=table, unique=table)
        if choice is None:
            guesses[role] = ColumnGuess(role, None, "no column fits", "")
            continue
        column, named = choice
        taken.add(column)
        guesses[role] = ColumnGuess(role, column, *_evidence(stats[column], role, named))
    return guesses, stats


def _check_hints(hints: Mapping[str, str], present: list[str]) -> dict[str, str]:
    """Role -> column from input -> role hints, refusing a role or column named twice."""
    absent = [c for c in hints if c not in present]
    if absent:
        raise JourneyDataError(
            f"columns= names {absent}, which the log does not have; its columns are {present}"
        )
    by_role: dict[str, str] = {}
    for column, role in hints.items():
        if role not in ROLES:
            raise JourneyParameterError(
                f"columns= maps {column!r} to {role!r}, which is not a role; roles: {list(ROLES)}"
            )
        if role in by_role:
            raise JourneyParameterError(
                f"columns= names both {by_role[role]!r} and {column!r} as {role!r}; keep one"
            )
        by_role[role] = column
    return by_role


def _best(
    stats: Mapping[str, ColumnStats],
    role: str,
    taken: set[str],
    *,
    named_only: bool = False,
    unique: bool = False,
) -> tuple[str, bool] | None:
    """The free column that fits the role best: named ones first, then by content. With
    ``unique``, a customer id must not repeat (one row per customer)."""
    candidates = [
        s
        for name, s in stats.items()
        if name not in taken
        and _fits(s, role)
        and not (unique and role == "customer_id" and s.distinct_share < 0.999)
    ]
    named = [s for s in candidates if _name_score(s, role) > 0]
    if named:
        best = max(named, key=lambda s: (_name_score(s, role), *_content_rank(s, role)))
        return best.name, True
    if named_only or role not in ("timestamp", "customer_id", "event") or not candidates:
        return None
    # Unnamed: only columns whose names neither rule the role out nor claim another one.
    _, unless = COLUMN_WORDS[role]
    candidates = [
        s
        for s in candidates
        if not any(w in unless for w in s.words)
        and not any(_name_score(s, other) > 0 for other in ROLES if other != role)
    ]
    if role == "customer_id":
        # The column with the most distinct values that still repeat.
        candidates = [s for s in candidates if s.distinct_share < 0.999]
    if not candidates:
        return None
    best = max(candidates, key=lambda s: _content_rank(s, role))
    return best.name, False


def _content_rank(stats: ColumnStats, role: str) -> tuple[float, ...]:
    if role == "timestamp":
        # Event times differ row by row; a case's start date or deadline repeats.
        return (stats.time_share, stats.distinct_share)
    if role == "customer_id":
        return (stats.distinct,)
    if role == "event":
        # Fewer distinct names read more like a vocabulary of touchpoints.
        return (-abs(np.log10(max(stats.distinct, 1)) - 1.2), -stats.null_share)
    if role == "value":
        return (not stats.integral, -stats.null_share)
    return (-stats.null_share, -stats.distinct)


def _evidence(stats: ColumnStats, role: str, named: bool) -> tuple[str, str]:
    what = {
        "timestamp": f"{stats.time_share:.0%} read as times",
        "customer_id": f"{stats.distinct:,} distinct values",
        "event": f"{stats.distinct:,} distinct names",
        "channel": f"{stats.distinct:,} distinct values",
        "value": "numbers" + ("" if stats.integral else " with fractions"),
        "churn": "two values",
    }.get(role, f"{stats.distinct:,} distinct values")
    example = stats.example if len(stats.example) <= 24 else stats.example[:21] + "..."
    if named:
        return f"named so; {what} (e.g. {example!r})", "sure"
    return f"no name says so, but {what} (e.g. {example!r})", "likely"


def properties(
    stats: Mapping[str, ColumnStats], taken: set[str], levels: int = PROPERTY_LEVELS
) -> list[str]:
    """Segment-like columns left over: a few distinct values that repeat (platform, plan)."""
    return [
        name
        for name, s in stats.items()
        if name not in taken and 2 <= s.distinct <= levels and s.distinct_share < 0.5
    ]
