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
    "treatment",
)
# Roles of a one-row-per-customer table; the others are a log's, but for these two, which
# both shapes may have: the customer and a campaign's treatment flag.
_TABLE_ROLES = frozenset({"customer_id", "churn", "signup"})
_BOTH_SHAPES = frozenset({"customer_id", "treatment"})
#: Rows read to judge a column's content; enough for stable shares, cheap on 10M rows.
SAMPLE_ROWS = 20_000
#: Most distinct values a segment-like property may have in the sample.
PROPERTY_LEVELS = 50
# A date inside a text: 2024-01-31, 31/01/2024, 1/31/24, 2024.01.31, 20240131T...
_DATE = r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}|\d{8}T"
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
    decimal_share: float
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
            decimal_share=_decimal_share(present),
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
    # A time needs its date: a year beside a month or day ("10:05:00" alone would be read as
    # today), or an epoch; plain numbers and codes are not times.
    shaped = text.str.contains(_DATE, regex=True)
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


def _id_like(stats: ColumnStats) -> bool:
    """Named like an identifier (``CustomerId``, ``account_no``, ``client``), not like a
    measure of one (``Customer service calls``, ``Account length``)."""
    return len(stats.words) == 1 or bool(set(stats.words) & _ID_WORDS)


_ID_WORDS = frozenset({"id", "ids", "no", "nr", "num", "number", "key", "code", "uid", "ref"})


def _decimal_share(present: pd.Series) -> float:
    """Share of the first 500 values written like amounts ("12,50", "3.99"): not ids."""
    head = present.head(500)
    if len(head) == 0 or ptypes.is_numeric_dtype(head) or ptypes.is_bool_dtype(head):
        return 0.0
    text = head.astype("str").str.strip()
    return float(text.str.fullmatch(r"-?\d+[.,]\d{1,2}").mean())


def _name_score(stats: ColumnStats, role: str) -> float:
    """How strongly the name says ``role``: 3 for the canonical name itself; between 1 and 2
    when a word of it suggests the role, the earlier that word stands in the role's list the
    higher (``event_name`` beats ``page_title`` for the event); 0 when no word does or one
    rules the role out."""
    suggest, unless = COLUMN_WORDS[role]
    if stats.name.strip().lower() == role:
        return 3.0
    if any(w in unless for w in stats.words):
        return 0.0
    found = [suggest.index(w) for w in stats.words if w in suggest]
    return 2.0 - min(found) / len(suggest) if found else 0.0


def _fits(stats: ColumnStats, role: str) -> bool:
    """Whether the content can play the role at all."""
    # Numbers count as times only under a time-like name: ids can look like epochs.
    timelike = stats.time_share >= 0.9 and (
        not stats.numeric or _name_score(stats, "timestamp") > 0
    )
    if role == "timestamp":
        return timelike and stats.distinct > 1
    if role == "customer_id":
        whole = (not stats.numeric or stats.integral) and stats.decimal_share < 0.5
        return whole and not timelike and stats.distinct >= 2
    if role == "event":
        # Codes (1, 2, 3) are events too when the name says so; _best asks for the name.
        coded = stats.integral and _name_score(stats, "event") > 0
        return (stats.text or coded) and not timelike and 1 <= stats.distinct <= 2000
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
    if role == "treatment":
        # Offered or held out; a log carries it on a campaign's rows only.
        return stats.distinct == 2
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
    # With a churn label this may be one row per customer, whose columns are features (then
    # only names may claim a role): unless ids repeat, or a time column and no id say it
    # is a log carrying a label on every row.
    table = _best(stats, "churn", taken) is not None and "timestamp" not in given
    if table:
        ids = [s for s in stats.values() if _name_score(s, "customer_id") > 0 and _id_like(s)]
        if ids:
            table = max(s.distinct_share for s in ids) >= 0.999
        else:
            table = not any(_fits(s, "timestamp") for s in stats.values())
    for role in ROLES:
        if role not in given and role not in _BOTH_SHAPES and (role in _TABLE_ROLES) != table:
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
        column, named, rival = choice
        taken.add(column)
        evidence, sure = _evidence(stats[column], role, named)
        if rival is not None:
            evidence, sure = f"{evidence}; {rival!r} is named so too", "likely"
        guesses[role] = ColumnGuess(role, column, evidence, sure)
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
) -> tuple[str, bool, str | None] | None:
    """The free column that fits the role best: named ones first, then by content; whether
    its name said so; and a rival whose name says so as strongly. With ``unique``, a
    customer id must not repeat (one row per customer)."""
    candidates = [
        s
        for name, s in stats.items()
        if name not in taken
        and _fits(s, role)
        and not (unique and role == "customer_id" and s.distinct_share < 0.999)
    ]
    named = sorted(
        (s for s in candidates if _name_score(s, role) > 0),
        key=lambda s: (_name_score(s, role), *_content_rank(s, role)),
        reverse=True,
    )
    if named:
        rival = named[1] if len(named) > 1 else None
        tied = rival is not None and _name_score(rival, role) == _name_score(named[0], role)
        return named[0].name, True, rival.name if tied else None
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
    if role == "event":
        candidates = [s for s in candidates if s.text]  # codes need a name saying so
    if role == "customer_id":
        # The column with the most distinct values that still repeat.
        candidates = [s for s in candidates if s.distinct_share < 0.999]
    if not candidates:
        return None
    best = max(candidates, key=lambda s: _content_rank(s, role))
    return best.name, False, None


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
