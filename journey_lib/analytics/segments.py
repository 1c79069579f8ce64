"""Customer segments for breakdowns: which segment each customer is counted in.

Every journey analytic that takes ``by=`` splits its customers with :func:`customer_segments`
and returns one block per segment in its usual long shape, the segment columns first.

Definitions
-----------
``by`` names a column, or a list of columns for a **crossing** (one segment per combination
of values). A column comes from the touchpoint log or, when ``customers=`` is given and holds
it, from that customer table (one row per customer, joined on ``customer_id``; the table wins
when both have the column). A segment value is text: numbers are written as text, and a
customer with no value is in ``(missing)``.

A log column can change over a customer's life (a platform, a plan). ``by_rule`` says which
value counts, one rule for every analytic:

- ``"first"`` (default): the value on the customer's first row that has one (by time; rows
  at the same instant by the smallest value), as acquisition properties are read;
- ``"last"``: the value on their last row that has one (rows at one instant: the largest);
- ``"at_cutoff"``: the value on their last row strictly before ``cutoff`` that has one, so
  a segment never uses what happened after a prediction's cutoff.

A customer table's column has one value per customer and no rule: a table listing a customer
twice is refused, as is one whose ``customer_id`` type (number or text) differs from the log's.
A customer the table does not list is in ``(missing)``.

**Values as text**, the same on every engine: a float NaN is no value (``(missing)``, as a
null), a boolean is ``"True"``/``"False"``, a date is ``"YYYY-MM-DD"``, a whole number is
``"2"`` and a float keeps its point (``"2.0"``, ``"0.5"``; very large or small floats are
written with an exponent, which engines spell differently, so round or bin them first). A
datetime or duration column is refused: it gives nearly every customer a value of their own
and engines write instants differently; derive a period first (a signup month, a date).
``(missing)`` and ``(other)`` are reserved: an eager log or table whose column holds one of
them as a real value is refused (a lazy one is not scanned for them, and such a value would
count in that bucket).

**The other bucket**: segments (value combinations) are ranked by their customers, most
first, ties by value; the ``top`` largest keep their values and every other customer is put
in ``(other)`` (in every ``by`` column), so a column with thousands of values gives at most
``top + 1`` blocks. ``top=None`` keeps every segment.

**Segments already assigned** (:meth:`Segments.assigned`): a table with one row per customer
whose values are taken as they are, with no rule and no ``(other)`` fold, so a segment table
computed once (:func:`customer_segments`, or one of its own) splits several analytics into
the same customers. Its values may be ``(missing)`` or ``(other)``: a customer assigned
``(other)`` is counted in that block. Values are written as text as above (a null is
``(missing)``); a customer of the log the table does not list is in ``(missing)``, and a
table listing a customer twice is refused.

All functions are written once with Narwhals: pandas, Polars, DuckDB and PySpark frames in,
the same kind out (lazy stays lazy). The segments cost one pass over the log per ``by``
column (a window and a group-by) and one join per analytic, whatever the number of segments.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import narwhals.stable.v2 as nw
import pandas as pd
from narwhals.typing import IntoFrameT

from .._engine import finish, lazy_events, on_engine_of, with_microseconds
from .._time import instant_us
from ..errors import JourneyDataError, JourneyParameterError, check_choice

__all__ = [
    "BY_RULES",
    "MISSING",
    "OTHER",
    "Segments",
    "customer_segments",
    "grouped",
    "segment_keys",
    "segment_labels",
    "segment_table",
    "working_names",
]

#: The bucket of customers outside the ``top`` segments.
OTHER = "(other)"
#: The segment of customers with no value.
MISSING = "(missing)"
#: How a value that changes over time is read (see the module docstring).
BY_RULES = ("first", "last", "at_cutoff")

_T = "_jl_seg_t"
_N = "_jl_seg_n"
_KEPT = "_jl_seg_kept"
_RANK = "_jl_seg_rank"
_ROWS = "_jl_seg_rows"
_AT = "_jl_seg_at"
_AT_RULE = "_jl_seg_at_rule"
_LOG_KEYS = ("customer_id", "timestamp")


@dataclass(frozen=True)
class Segments:
    """How customers are split for a breakdown (see the module docstring).

    The ``by=`` argument of every analytic takes a column name, a list of names, or one of
    these when the split needs a customer table or a cutoff.

    Parameters
    ----------
    by : str or sequence of str
        The column(s): one segment per value (per combination of values).
    rule : {"first", "last", "at_cutoff"}, default "first"
        Which value of a log column counts when it changes over a customer's life.
    top : int or None, default 10
        Segments kept by name; the rest form ``(other)``. None keeps all.
    customers : DataFrame, optional
        A customer table with ``customer_id`` and segment columns, of the log's engine (a
        pandas table is converted for Polars; DuckDB and Spark need a table of the log's own
        connection or session).
    cutoff : datetime-like, optional
        The instant ``rule="at_cutoff"`` reads values before (naive times are UTC).

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({
    ...     "customer_id": [1, 1, 2],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-03-01", "2024-01-05"], utc=True),
    ...     "event": ["visit", "visit", "visit"], "plan": ["basic", "plus", None]})
    >>> customer_segments(log, Segments("plan", rule="at_cutoff", cutoff="2024-02-01"))
       customer_id       plan
    0            1      basic
    1            2  (missing)
    """

    by: str | Sequence[str]
    rule: str = "first"
    top: int | None = 10
    customers: Any = None
    cutoff: Any = None
    #: The customer table's values are taken as they are (see :meth:`assigned`).
    as_given: bool = False

    @classmethod
    def assigned(cls, customers: Any, by: str | Sequence[str] | None = None) -> Segments:
        """Segments already assigned: ``customers`` has one row per customer (``customer_id``
        and the segment columns ``by``, by default every other column) and its values are
        taken as they are: no rule, no ``top`` fold, and ``(missing)``/``(other)`` allowed
        as values (a customer assigned ``(other)`` is counted in that block). The way to
        split several analytics into the same customers with a segment table computed once,
        such as :func:`customer_segments`' output.

        Examples
        --------
        >>> import pandas as pd
        >>> log = pd.DataFrame({
        ...     "customer_id": [1, 2, 3],
        ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"],
        ...                                 utc=True),
        ...     "event": "visit", "platform": ["web", "app", "tv"]})
        >>> table = customer_segments(log, "platform", top=1)
        >>> customer_segments(log, Segments.assigned(table))["platform"].tolist()
        ['(other)', 'app', '(other)']
        """
        if by is None:
            names = list(nw.from_native(customers).collect_schema())
            by = tuple(c for c in names if c != "customer_id")
        return cls(by, top=None, customers=customers, as_given=True)

    def __post_init__(self) -> None:
        columns = [self.by] if isinstance(self.by, str) else list(self.by)
        if not columns or not all(isinstance(c, str) and c for c in columns):
            raise JourneyParameterError(
                f"by must name a column or a list of columns; got {self.by!r}"
            )
        if len(set(columns)) != len(columns):
            raise JourneyParameterError(f"by names a column twice: {columns}")
        clash = [c for c in columns if c in _LOG_KEYS]
        if clash:
            raise JourneyParameterError(
                f"by={clash[0]!r} would give every customer (or row) a segment of its own; "
                "name a property such as a plan, platform or channel"
            )
        check_choice("by_rule", self.rule, BY_RULES)
        if self.rule == "at_cutoff" and self.cutoff is None:
            raise JourneyParameterError(
                "by_rule='at_cutoff' needs the cutoff: pass "
                "by=journey_lib.Segments(columns, rule='at_cutoff', cutoff='YYYY-MM-DD')"
            )
        if self.rule != "at_cutoff" and self.cutoff is not None:
            raise JourneyParameterError(
                f"a cutoff is only read with rule='at_cutoff'; got rule={self.rule!r}"
            )
        if self.top is not None and (
            isinstance(self.top, bool) or not isinstance(self.top, int) or self.top < 1
        ):
            raise JourneyParameterError(
                f"top must be a whole number >= 1 or None; got {self.top!r}"
            )
        if self.as_given and (
            self.customers is None or self.rule != "first" or self.top is not None
        ):
            raise JourneyParameterError(
                "segments already assigned are a customer table taken as it is (no rule, no "
                "top): make them with journey_lib.Segments.assigned(table)"
            )

    @property
    def columns(self) -> list[str]:
        """The segment columns, in order."""
        return [self.by] if isinstance(self.by, str) else list(self.by)


def segments_of(by: Any, by_rule: str = "first", top: int | None = 10) -> Segments | None:
    """The :class:`Segments` an analytic's ``by``, ``by_rule`` and ``top`` arguments mean
    (None for no breakdown). A :class:`Segments` given as ``by`` carries its own rule and top,
    so giving them again is an error rather than silently ignored."""
    if by is None:
        return None
    if isinstance(by, Segments):
        if by_rule != "first" or top != 10:
            raise JourneyParameterError(
                "by is a Segments, which carries its own rule and top; set them there"
            )
        return by
    if isinstance(by, (str, Sequence)):
        return Segments(by if isinstance(by, str) else tuple(by), rule=by_rule, top=top)
    raise JourneyParameterError(
        f"by must be a column name, a list of them or a journey_lib.Segments; got {by!r}"
    )


def customer_segments(
    events: IntoFrameT,
    by: str | Sequence[str] | Segments,
    *,
    by_rule: str = "first",
    top: int | None = 10,
) -> IntoFrameT:
    """Each customer's segment: one row per customer of the log with the ``by`` columns.

    The definitions (``by_rule``, customer tables, ``(missing)``, the ``(other)`` bucket) are
    in the module docstring of :mod:`journey_lib.analytics.segments`.

    Parameters
    ----------
    events : DataFrame
        A touchpoint log (``customer_id``, ``timestamp``, ``event``) of any engine.
    by : str, sequence of str or Segments
        The segment column(s), or a :class:`Segments` (for a customer table or a cutoff).
    by_rule : {"first", "last", "at_cutoff"}, default "first"
    top : int or None, default 10

    Returns
    -------
    DataFrame
        ``customer_id`` and one text column per ``by`` column, sorted by customer; the kind
        of frame given (lazy stays lazy).

    Raises
    ------
    JourneyDataError
        When a ``by`` column is in neither the log nor the customer table, or (on an eager
        log, where it costs nothing extra) holds no value at all.
    JourneyParameterError
        For an unknown rule, a cutoff without ``"at_cutoff"``, or ``top`` below 1.

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({
    ...     "customer_id": [1, 1, 2, 3],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-01-02",
    ...                                  "2024-01-03"], utc=True),
    ...     "event": ["visit"] * 4, "platform": ["web", "app", "app", "tv"]})
    >>> customer_segments(log, "platform")
       customer_id platform
    0            1      web
    1            2      app
    2            3       tv
    >>> customer_segments(log, "platform", by_rule="last", top=1)["platform"].tolist()
    ['app', 'app', '(other)']
    """
    spec = segments_of(by, by_rule, top)
    frame, eager = lazy_events(events)
    table = segment_table(frame, spec, check=eager)
    return finish(table.sort("customer_id"), eager)


def segment_table(
    frame: nw.LazyFrame,
    spec: Segments,
    *,
    reserved: Sequence[str] = (),
    check: bool = False,
) -> nw.LazyFrame:
    """One row per customer of ``frame``: ``customer_id`` and the segment columns (text,
    ``(missing)`` and ``(other)`` applied), lazily. ``reserved`` are the calling analytic's
    own result columns, which a segment column may not be named; ``check`` looks at the data
    for a column that holds no value or holds ``(missing)``/``(other)`` as a value (one small
    aggregation; for eager input). A customer table is always checked for a repeated id."""
    columns = spec.columns
    clash = [c for c in columns if c in reserved]
    if clash:
        raise JourneyParameterError(
            f"by={clash[0]!r} would clash with the result's own column of that name; "
            "rename the column first"
        )
    schema = frame.collect_schema()
    table = None if spec.customers is None else _customer_table(spec.customers, frame)
    from_table = [c for c in columns if table is not None and c in table.collect_schema()]
    from_log = [c for c in columns if c not in from_table]
    if spec.as_given and from_log:
        raise JourneyDataError(
            f"by={from_log[0]!r}: the table of assigned segments has no such column; it has "
            f"{list(table.collect_schema()) if table is not None else []}"
        )
    absent = [c for c in from_log if c not in schema]
    if absent:
        where = "the log" if table is None else "the log or the customer table"
        raise JourneyDataError(
            f"by={absent[0]!r}: {where} has no such column; the log has {list(schema)}"
        )
    kinds = {c: _kind(c, schema[c]) for c in from_log}
    if check:
        _check_values(frame, from_log, kinds)
    people = _log_values(frame, from_log, spec, kinds) if from_log else _customers(frame)
    if from_table:
        table = _same_ids(table, schema["customer_id"])
        table_schema = table.collect_schema()
        table_kinds = {c: _kind(c, table_schema[c]) for c in from_table}
        values = table.select("customer_id", *(_valued(c, table_kinds[c]) for c in from_table))
        _check_once_each(values)
        if check and not spec.as_given:  # assigned values are taken as they are
            _check_values(values, from_table, table_kinds, what="the customer table")
        values = values.with_columns(_text(c, table_kinds[c]) for c in from_table)
        try:
            people = people.join(values, on="customer_id", how="left")
        except Exception as error:  # DuckDB refuses relations of two connections
            if "different connections" not in str(error):
                raise
            raise JourneyParameterError(
                "the customer table and the log are DuckDB relations of different connections; "
                "make the table on the log's own connection (con.from_df(table))"
            ) from error
    people = people.with_columns(nw.col(c).fill_null(MISSING) for c in columns).select(
        "customer_id", *columns
    )
    return people if spec.top is None else _fold_other(people, columns, spec.top)


def working_names(table: nw.LazyFrame) -> tuple[nw.LazyFrame, dict[str, str]]:
    """The segment table with its segment columns under working names (``_jl_by_0``, ...),
    so that no column of the computation can clash with them, and the names to give back
    (working name: column). Every analytic's breakdown renames them this one way."""
    names = {f"_jl_by_{i}": c for i, c in enumerate(table.columns[1:])}
    return table.rename({c: k for k, c in names.items()}), names


def grouped(frame: nw.LazyFrame, keys: Sequence[str], *exprs: nw.Expr) -> nw.LazyFrame:
    """Aggregate ``exprs`` per segment (``keys``), or over the whole frame when there are no
    keys (one row even for an empty frame, as a plain aggregation gives)."""
    if keys:
        return frame.group_by(*keys).agg(*exprs)
    return frame.select(*exprs)


def _log_values(
    frame: nw.LazyFrame, columns: list[str], spec: Segments, kinds: dict[str, str]
) -> nw.LazyFrame:
    """Per customer, each log column's value by the rule; every customer of ``frame`` is
    listed (with a missing value when none counts).

    Per column: each row's time where the row counts (it has a value, and is before the
    cutoff), the rule's instant per customer by a window over those times, the rows at that
    instant (nearly one per customer; every row of a customer with no such instant, each
    read as no value), and among them the smallest (first) or largest (last, at_cutoff)
    value as text, so every engine agrees on ties. Every customer comes out of that one
    pass, with no separate list of customers to join; casting after the window keeps the
    work per row to a comparison. A crossing repeats this per column and joins the
    per-customer results.
    """
    log = frame.select("customer_id", "timestamp", *(_valued(c, kinds[c]) for c in columns))
    before = None
    if spec.rule == "at_cutoff":
        # Microseconds compare with the cutoff on every engine, naive or zoned times alike.
        log = with_microseconds(log, _T)
        before = nw.col(_T) < instant_us(spec.cutoff, "cutoff")
    first = spec.rule == "first"
    people = None
    for c in columns:
        counts = ~nw.col(c).is_null() if before is None else ~nw.col(c).is_null() & before
        # A plain column first: pandas' window aggregates plain columns only.
        timed = log.select("customer_id", c, nw.when(counts).then(nw.col("timestamp")).alias(_AT))
        instant = nw.col(_AT).min() if first else nw.col(_AT).max()
        timed = timed.with_columns(instant.over("customer_id").alias(_AT_RULE))
        at = timed.filter((nw.col(_AT) == nw.col(_AT_RULE)) | nw.col(_AT_RULE).is_null())
        # The cast comes before the tie-break so ties are broken on the text, as defined.
        text = at.select(
            "customer_id",
            nw.when(~nw.col(_AT_RULE).is_null()).then(_text(c, kinds[c])).alias(c),
        )
        value = nw.col(c).min() if first else nw.col(c).max()
        one = text.group_by("customer_id").agg(value)
        people = one if people is None else people.join(one, on="customer_id", how="left")
    assert people is not None  # segment_table calls this with at least one column
    return people


def _customers(frame: nw.LazyFrame) -> nw.LazyFrame:
    """The customers of ``frame``, one row each: a group-by, which DuckDB runs several times
    faster than Narwhals' ``unique`` (a window there)."""
    return frame.group_by("customer_id").agg(nw.len().alias(_N)).select("customer_id")


def _fold_other(people: nw.LazyFrame, columns: list[str], top: int) -> nw.LazyFrame:
    """Keep the ``top`` largest value combinations (customers, then values ascending); put
    every other customer in ``(other)``.

    By windows over ``people`` alone, so that a lazy engine reads the segment table once
    (counting the combinations and joining the kept ones back read it twice, and an engine
    without common-subplan reuse computed it twice). Each combination gets a number in value
    order (a dense rank, column by column), then a key that orders combinations by customers
    and, at equal customers, by that number: ``customers * (rows + 1) - number``. The kept
    combinations are the ``top`` largest keys. Every number is at most the table's rows, so
    the key stays below ``rows**2`` (whole numbers, exact up to 3 billion customers).
    """
    rows = nw.col(_ROWS)

    def dense(expr: nw.Expr) -> nw.Expr:
        return expr.rank("dense").cast(nw.Int64())

    head, *rest = columns
    ranked = people.with_columns(
        dense(nw.col(head)).alias(_RANK), nw.len().cast(nw.Int64()).alias(_ROWS)
    )
    for c in rest:  # a window cannot nest in another: the combination first, then its rank
        ranked = ranked.with_columns(
            (nw.col(_RANK) * (rows + 1) + dense(nw.col(c))).alias(_RANK)
        ).with_columns(dense(nw.col(_RANK)).alias(_RANK))
    size = nw.len().over(*columns).cast(nw.Int64())
    ranked = ranked.with_columns((size * (rows + 1) - nw.col(_RANK)).alias(_KEPT))
    ranked = ranked.with_columns((nw.col(_KEPT).rank("dense", descending=True) <= top).alias(_KEPT))
    return ranked.select(
        "customer_id",
        *(
            nw.when(nw.col(_KEPT)).then(nw.col(c)).otherwise(nw.lit(OTHER)).alias(c)
            for c in columns
        ),
    )


def _customer_table(customers: Any, frame: nw.LazyFrame) -> nw.LazyFrame:
    """The customer table as a LazyFrame of the log's engine."""
    if isinstance(customers, (nw.DataFrame, nw.LazyFrame)):
        customers = customers.to_native()
    schema = nw.from_native(customers).collect_schema()
    if "customer_id" not in schema:
        raise JourneyDataError(
            f"the customer table has no 'customer_id' column; it has {list(schema)}"
        )
    return on_engine_of(frame, customers)


def _kind(column: str, dtype: Any) -> str:
    """How a segment column's values become text: ``"float"``, ``"bool"`` or ``"plain"``
    (a cast); a datetime or duration is refused (see the module docstring)."""
    if isinstance(dtype, (nw.Datetime, nw.Duration)):
        raise JourneyDataError(
            f"by={column!r} holds {type(dtype).__name__.lower()}s ({dtype}): instants give "
            "nearly every customer a segment of their own and no engine-independent label; "
            f"derive a period first, e.g. the month as text ({column}.dt.strftime('%Y-%m')) "
            "or the date"
        )
    if dtype.is_float():
        return "float"
    return "bool" if isinstance(dtype, nw.Boolean) else "plain"


def _valued(column: str, kind: str) -> nw.Expr:
    """The column with a float NaN as no value: Polars keeps NaN apart from null, pandas and
    DuckDB do not, and a segment must not depend on the engine."""
    return nw.col(column).fill_nan(None) if kind == "float" else nw.col(column)


def _text(column: str, kind: str) -> nw.Expr:
    """The column as text, spelled the same on every engine (a cast writes booleans as
    ``True`` on pandas but ``true`` elsewhere); nulls stay null."""
    if kind != "bool":
        return nw.col(column).cast(nw.String())
    value = nw.col(column)
    return (
        nw.when(value)
        .then(nw.lit("True"))
        .otherwise(nw.when(~value).then(nw.lit("False")))
        .alias(column)
    )


def _same_ids(table: nw.LazyFrame, log_ids: Any) -> nw.LazyFrame:
    """The customer table with ids the log's ids can join: integer widths are aligned, and
    numbers against text are refused (a join would fail or match nothing)."""
    ids = table.collect_schema()["customer_id"]
    if ids == log_ids:
        return table
    if ids.is_integer() and log_ids.is_integer():
        return table.with_columns(nw.col("customer_id").cast(log_ids))
    text = (nw.String, nw.Categorical, nw.Enum)
    if (ids.is_numeric() and isinstance(log_ids, text)) or (
        isinstance(ids, text) and log_ids.is_numeric()
    ):
        raise JourneyDataError(
            f"the customer table's customer_id is {ids} but the log's is {log_ids}; cast the "
            "table's ids to the log's type first (e.g. customers.astype({'customer_id': "
            "log['customer_id'].dtype}))"
        )
    return table


def _check_once_each(table: nw.LazyFrame) -> None:
    """Refuse a customer table that lists a customer twice: the join would count them twice
    (one small aggregation over the table, which has a row per customer)."""
    repeated = table.group_by("customer_id").agg(nw.len().alias(_N)).filter(nw.col(_N) > 1)
    count = repeated.select(nw.len().alias(_N)).collect().item()
    if count:
        examples = repeated.sort("customer_id").head(3).collect()["customer_id"].to_list()
        raise JourneyDataError(
            f"the customer table lists {count:,} customer_id(s) more than once (e.g. "
            f"{examples}); it must have one row per customer"
        )


def _check_values(
    frame: nw.LazyFrame, columns: list[str], kinds: dict[str, str], what: str = "the log"
) -> None:
    """Refuse a segment column that holds no value at all (every customer would be
    ``(missing)``, never what a breakdown was asked for) or holds ``(missing)`` or
    ``(other)`` as a real value (it would merge with that bucket). One aggregation."""
    if not columns:
        return
    schema = frame.collect_schema()
    reserved = [c for c in columns if kinds[c] == "plain" and not schema[c].is_numeric()]
    counts = frame.select(
        nw.len().alias(_N),
        *(_valued(c, kinds[c]).count().alias(f"n{i}") for i, c in enumerate(columns)),
        *(
            # Counted as numbers: Spark sums no booleans.
            nw.col(c).cast(nw.String()).is_in([MISSING, OTHER]).cast(nw.Int64).sum().alias(f"r{i}")
            for i, c in enumerate(reserved)
        ),
    ).collect()
    row = counts.row(0)
    empty = [c for c, n in zip(columns, row[1 : 1 + len(columns)], strict=True) if n == 0]
    if empty and row[0] > 0:
        raise JourneyDataError(
            f"by={empty[0]!r}: {what}'s column holds no value ({row[0]:,} rows, all missing); "
            "choose a column with values"
        )
    spelled = [(c, n) for c, n in zip(reserved, row[1 + len(columns) :], strict=True) if n]
    if spelled:
        column, n = spelled[0]
        raise JourneyDataError(
            f"by={column!r}: {what}'s column holds {MISSING!r} or {OTHER!r} as a value in "
            f"{n:,} rows; those names are reserved for the segment buckets, rename the value"
        )


def segment_keys(frame: pd.DataFrame, first: str) -> list[str]:
    """The segment columns of a result broken down ``by=``: those before its own first
    column ``first`` (``[]`` without a breakdown, or when ``first`` is not a column).

    Examples
    --------
    >>> segment_keys(pd.DataFrame(columns=["plan", "region", "period", "rate"]), "period")
    ['plan', 'region']
    """
    columns = list(frame.columns)
    return columns[: columns.index(first)] if first in columns else []


def segment_labels(frame: pd.DataFrame, keys: Sequence[str]) -> list[str]:
    """One label per row naming its segment: the values of ``keys`` joined by `` / ``, as
    figures' legends and readings write a crossing.

    Examples
    --------
    >>> segment_labels(pd.DataFrame({"plan": ["pro", "free"], "region": ["EU", "US"]}),
    ...                ["plan", "region"])
    ['pro / EU', 'free / US']
    """
    return [" / ".join(map(str, row)) for row in frame[list(keys)].itertuples(index=False)]


def one_segment(
    frame: pd.DataFrame, first: str, what: str, *, instead: str | None = None
) -> pd.DataFrame:
    """``frame``, a result drawn or read as one journey, without its segment columns.

    A result broken down ``by=`` holds its segment columns before its own first column
    ``first`` (``period``, ``cohort``, ``path``, ...). A table of one segment loses them; a
    table of several is refused, since ``what`` would mix their rows, naming how to pick one
    segment (and ``instead``, a figure that draws every segment, when there is one).

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"plan": ["basic", "plus"], "period": [1, 1], "rate": [0.5, 0.2]})
    >>> one_segment(table[table["plan"] == "plus"], "period", "the figure")
       period  rate
    1       1   0.2
    >>> one_segment(table, "period", "the figure")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    journey_lib.errors.JourneyParameterError: the figure draws one journey, but this table ...
    """
    keys = segment_keys(frame, first)
    segments = len(frame[keys].drop_duplicates()) if keys else 0
    if segments > 1:
        example = frame[keys[0]].iloc[0]
        other = f", or draw every segment with {instead}" if instead else ""
        raise JourneyParameterError(
            f"{what} draws one journey, but this table is broken down by {keys} ({segments} "
            f"segments; their rows would be mixed); pick one segment first, e.g. "
            f"table[table[{keys[0]!r}] == {example!r}]{other}"
        )
    return frame.drop(columns=keys)
