"""The touchpoint log: canonical columns, validation and quarantine.

A touchpoint log has one row per interaction between a customer and the business:

============  =====================  ========  =============================================
column        type                   required  meaning
============  =====================  ========  =============================================
customer_id   int64 or string        yes       who
timestamp     datetime64[us, UTC]    yes       when; naive input is read as UTC
event         string                 yes       the touchpoint (``ad_view``, ``purchase``, ...)
channel       string                 no        tv, search, email, store, ...; missing allowed
value         float64                no        money attached to the event; missing means 0
anything      any                    no        kept unchanged as properties
============  =====================  ========  =============================================

:func:`validate_events` turns any frame into that shape and accounts for every input row:
it is either clean, quarantined with a reason, or an exact duplicate of a clean row.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from narwhals.typing import IntoFrame
from pandas.api import types as ptypes

from .._engine import to_pandas
from .._time import utc_timestamp
from ..errors import JourneyDataError, JourneyParameterError
from .parse import (
    duplicated,
    join_reasons,
    parse_ids,
    parse_text,
    parse_timestamps,
    parse_values,
)

__all__ = [
    "CANONICAL_COLUMNS",
    "REASONS",
    "REQUIRED_COLUMNS",
    "ValidationReport",
    "validate_events",
]

CANONICAL_COLUMNS: tuple[str, ...] = ("customer_id", "timestamp", "event", "channel", "value")
REQUIRED_COLUMNS: tuple[str, ...] = ("customer_id", "timestamp", "event")

#: Why a row can be quarantined, in the order reasons are listed when several apply.
REASONS: tuple[str, ...] = (
    "missing customer id",
    "missing timestamp",
    "unparseable timestamp",
    "timestamp after as_of",
    "empty event name",
    "non-numeric value",
    "non-finite value",
)

#: Reason prefix of CSV lines with the wrong number of fields (see :func:`journey_lib.read_events`).
MALFORMED = "malformed line"


@dataclass(frozen=True)
class ValidationReport:
    """What :func:`validate_events` made of a frame.

    Attributes
    ----------
    clean : pandas.DataFrame
        Usable rows in canonical form: ``customer_id, timestamp, event, channel, value``
        followed by the input's other columns, sorted by customer and time (ties keep input
        order), with a fresh RangeIndex.
    quarantine : pandas.DataFrame
        Every unusable input row exactly as it came in (original column names, values and
        index labels) plus a ``reason`` column (``quarantine_reason`` when the input already
        has a ``reason``); several reasons are joined with ``"; "``.
    duplicates : int
        Rows dropped because they equal an earlier usable row in every column after parsing;
        the first one is kept in ``clean``.
    n_input : int
        Rows in the input. Always ``len(clean) + len(quarantine) + duplicates``.
    columns : dict
        The renaming applied, input name -> canonical name.
    as_of : pandas.Timestamp or None
        The upper bound on timestamps, when one was given.
    reason_column : str
        Name of the quarantine's reason column.
    """

    clean: pd.DataFrame
    quarantine: pd.DataFrame
    duplicates: int
    n_input: int
    columns: dict[str, str] = field(default_factory=dict)
    as_of: pd.Timestamp | None = None
    reason_column: str = "reason"

    @property
    def usable(self) -> int:
        """Clean rows."""
        return len(self.clean)

    @property
    def set_aside(self) -> int:
        """Quarantined rows."""
        return len(self.quarantine)

    @property
    def ok(self) -> bool:
        """True when no row was quarantined (dropped duplicates do not count against it)."""
        return len(self.quarantine) == 0

    def reason_counts(self) -> pd.Series:
        """Quarantined rows per reason; a row with several reasons counts under each.

        Examples
        --------
        >>> import pandas as pd
        >>> raw = pd.DataFrame({"customer_id": [1, None, 2],
        ...                     "timestamp": ["2024-01-01", "2024-01-02", "soon"],
        ...                     "event": ["signup", "purchase", "purchase"]})
        >>> validate_events(raw).reason_counts().to_dict()
        {'missing customer id': 1, 'unparseable timestamp': 1}
        """
        if self.quarantine.empty:
            return pd.Series(dtype="int64", name="rows")
        reasons = self.quarantine[self.reason_column]
        # A malformed input line's reason quotes the line, which may itself contain "; ".
        malformed = reasons.str.startswith(MALFORMED)
        kinds = reasons.where(~malformed, MALFORMED).str.split("; ").explode()
        counts = kinds.value_counts(sort=False)
        order = [r for r in REASONS if r in counts.index]
        order += sorted(set(counts.index) - set(order))
        return counts.reindex(order).rename("rows").rename_axis("reason")

    def summary(self) -> str:
        """A readable account of the validation: rows kept, quarantined (why, with an example
        row each) and dropped as duplicates."""
        lines = [f"Touchpoint log: {self.n_input:,} input rows"]
        clean = self.clean
        if len(clean):
            span = f"{clean['timestamp'].min():%Y-%m-%d} to {clean['timestamp'].max():%Y-%m-%d}"
            lines.append(
                f"  clean        {len(clean):>10,} rows  {clean['customer_id'].nunique():,} "
                f"customers, {clean['event'].nunique():,} event types, {span} (UTC)"
            )
        else:
            lines.append(f"  clean        {0:>10,} rows")
        lines.append(f"  quarantined  {len(self.quarantine):>10,} rows")
        reasons = self.quarantine[self.reason_column] if len(self.quarantine) else None
        for reason, count in self.reason_counts().items():
            # tolist() gives a plain label: "row 20", not "row np.int64(20)".
            example = reasons.index[reasons.str.contains(reason, regex=False)][:1].tolist()[0]
            lines.append(f"    {reason:<26}{count:>8,}  e.g. row {example!r}")
        lines.append(f"  duplicates   {self.duplicates:>10,} rows dropped (first copy kept)")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"<ValidationReport: {len(self.clean):,} clean, {len(self.quarantine):,} "
            f"quarantined, {self.duplicates:,} duplicates of {self.n_input:,} rows>"
        )


def validate_events(
    frame: IntoFrame,
    *,
    columns: Mapping[str, str] | None = None,
    as_of: Any = None,
    text_ids: bool = False,
) -> ValidationReport:
    """Check a touchpoint log and split it into clean rows, quarantine and duplicates.

    Parameters
    ----------
    frame : DataFrame
        The raw log: pandas, or any frame Narwhals understands (Polars, DuckDB, PySpark; a
        lazy one is collected first). It is not modified.
    columns : mapping, optional
        Renames the input's columns to canonical ones, ``{"user": "customer_id", ...}``.
    as_of : str or datetime-like, optional
        Latest plausible time (naive means UTC); later rows are quarantined, which catches
        clock errors and events from the future.
    text_ids : bool, default False
        Keep customer ids given as text as text even when every one is an integer (a log
        validated in parts decides once for all of them, :mod:`journey_lib.report.prepare`).

    Returns
    -------
    ValidationReport
        ``.clean``, ``.quarantine``, ``.duplicates``, ``.ok`` and ``.summary()``.

    Raises
    ------
    JourneyDataError
        When a required column is missing (the message lists the columns present and the
        likeliest intended one) or ``columns`` names a column the frame does not have.

    Notes
    -----
    A row is quarantined, never dropped, when its customer id is missing (null, empty or a
    spelling of null such as ``"NaN"``), its timestamp is missing or cannot be parsed or lies
    after ``as_of``, its event name is empty, or its value is present but not a finite
    number. Parsing rules:

    - ``customer_id``: integer ids (including floats such as ``7.0`` and text such as
      ``"7"``) become int64 when every id is one; otherwise all ids are text, so ``"007"``
      and ``"7"`` stay different customers. Surrounding whitespace is removed.
    - ``timestamp``: ISO 8601 text with any offset (mixed offsets are converted), other
      common date formats, ``" UTC"`` suffixes, datetime values, or Unix epochs as numbers
      or numeric text (seconds, milliseconds, microseconds or nanoseconds, chosen by
      magnitude). Naive times are UTC.
      The result has microsecond resolution, the finest Arrow, Polars and Spark all share.
    - ``value``: numbers or numeric text; missing means 0.
    - ``event`` and ``channel``: text, stripped; a missing channel stays missing.

    Examples
    --------
    >>> import pandas as pd
    >>> raw = pd.DataFrame({
    ...     "user": ["a", "a", "b", ""],
    ...     "ts": ["2024-01-01T10:00+02:00", "2024-01-01 09:00", "2024-01-02", "2024-01-03"],
    ...     "event": ["ad_view", "purchase", "site_visit", "purchase"],
    ...     "value": [None, "19.90", None, "5"],
    ... })
    >>> report = validate_events(raw, columns={"user": "customer_id", "ts": "timestamp"})
    >>> report.clean[["customer_id", "timestamp", "event", "value"]]
      customer_id                 timestamp       event  value
    0           a 2024-01-01 08:00:00+00:00     ad_view    0.0
    1           a 2024-01-01 09:00:00+00:00    purchase   19.9
    2           b 2024-01-02 00:00:00+00:00  site_visit    0.0
    >>> report.quarantine["reason"].tolist()
    ['missing customer id']
    """
    raw = to_pandas(frame)
    mapping = _check_columns(raw, columns)
    data = raw.rename(columns=mapping)
    n = len(data)

    customer_id, no_id = parse_ids(data["customer_id"], as_text=text_ids)
    timestamp, no_time, bad_time = parse_timestamps(data["timestamp"])
    event, no_event = parse_text(data["event"])
    if "channel" in data.columns:
        channel, _ = parse_text(data["channel"])
    else:
        channel = pd.Series(np.nan, index=data.index, dtype="str")
    if "value" in data.columns:
        value, bad_value, inf_value = parse_values(data["value"])
    else:
        value = pd.Series(0.0, index=data.index)
        bad_value = inf_value = np.zeros(n, dtype=bool)

    bound = None if as_of is None else utc_timestamp(as_of, "as_of")
    late = (timestamp > bound).to_numpy() if bound is not None else np.zeros(n, dtype=bool)

    masks = dict(
        zip(REASONS, (no_id, no_time, bad_time, late, no_event, bad_value, inf_value), strict=True)
    )
    unusable = np.logical_or.reduce(list(masks.values())) if n else np.zeros(0, dtype=bool)

    reason_column = "quarantine_reason" if "reason" in raw.columns else "reason"
    quarantine = raw.loc[unusable].assign(**{reason_column: join_reasons(masks, unusable)})

    properties = [c for c in data.columns if c not in CANONICAL_COLUMNS]
    parsed = pd.concat(
        [
            pd.DataFrame(
                {
                    "customer_id": customer_id,
                    "timestamp": timestamp,
                    "event": event,
                    "channel": channel,
                    "value": value,
                },
                index=data.index,
            ),
            data[properties],
        ],
        axis=1,
    )
    clean, duplicates = _sort_and_deduplicate(parsed, np.flatnonzero(~unusable))
    return ValidationReport(
        clean=clean,
        quarantine=quarantine,
        duplicates=duplicates,
        n_input=n,
        columns=mapping,
        as_of=bound,
        reason_column=reason_column,
    )


def _check_columns(raw: pd.DataFrame, columns: Mapping[str, str] | None) -> dict[str, str]:
    mapping = dict(columns or {})
    unknown_targets = sorted(set(mapping.values()) - set(CANONICAL_COLUMNS))
    if unknown_targets:
        raise JourneyParameterError(
            f"columns maps to {unknown_targets}, which are not canonical columns; "
            f"map to {list(CANONICAL_COLUMNS)}"
        )
    absent = [k for k in mapping if k not in raw.columns]
    if absent:
        raise JourneyDataError(
            f"columns renames {absent}, but the data has no such column; "
            f"its columns are {list(raw.columns)}"
        )
    renamed = [mapping.get(c, c) for c in raw.columns]
    clashes = sorted({c for c in renamed if renamed.count(c) > 1})
    if clashes:
        raise JourneyDataError(
            f"after renaming, column(s) {clashes} appear more than once; "
            f"rename or drop the original column first"
        )
    missing = [c for c in REQUIRED_COLUMNS if c not in renamed]
    if missing:
        raise JourneyDataError(_missing_columns_message(missing, list(raw.columns)))
    return mapping


def _missing_columns_message(missing: list[str], present: list[Any]) -> str:
    message = (
        f"missing required column(s) {missing}; the data has {len(present)} column(s): "
        f"{present[:20]}{' ...' if len(present) > 20 else ''}"
    )
    if len(present) == 1 and isinstance(present[0], str):
        delimiters = [d for d in (";", "\t", "|", ",") if d in present[0]]
        if delimiters:
            sep = delimiters[0]
            return message + f". The header looks delimited by {sep!r}: pass sep={sep!r}"
    names = [str(c) for c in present]
    hints = []
    for need in missing:
        close = difflib.get_close_matches(need, names, n=1, cutoff=0.6) or [
            c for c in names if c.lower().replace(" ", "_") == need
        ]
        if close:
            hints.append(f"{close[0]!r}: {need!r}")
    if hints:
        message += ". Did you mean columns={" + ", ".join(hints) + "}?"
    return message


def _sort_and_deduplicate(parsed: pd.DataFrame, usable: np.ndarray) -> tuple[pd.DataFrame, int]:
    """The usable rows sorted stably by customer and time, exact duplicates dropped (the
    first copy kept), and how many were dropped.

    Rows and order are decided on integer positions, and the frame is copied once. Ids are
    stood in for by integers (text ids by their sorted codes) for Arrow's stable multi-key
    sort, several times faster than pandas' two-column ``sort_values``. Exact duplicates
    share customer and time, so after sorting only such neighbours are compared in full.
    """
    ids = parsed["customer_id"]
    codes = ids.to_numpy() if ptypes.is_integer_dtype(ids) else pd.factorize(ids, sort=True)[0]
    times = parsed["timestamp"].array.asi8
    keys = pa.table({"id": codes[usable], "time": times[usable]})
    order = pc.sort_indices(keys, sort_keys=[("id", "ascending"), ("time", "ascending")])
    ordered = usable[order.to_numpy()]

    codes, times = codes[ordered], times[ordered]
    same = (codes[1:] == codes[:-1]) & (times[1:] == times[:-1])
    candidate = np.zeros(len(ordered), dtype=bool)
    candidate[1:] |= same
    candidate[:-1] |= same
    repeat = np.zeros(len(ordered), dtype=bool)
    repeat[candidate] = duplicated(parsed.take(ordered[candidate]))
    return parsed.take(ordered[~repeat]).reset_index(drop=True), int(repeat.sum())
