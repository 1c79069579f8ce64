"""Adapters: other shapes of customer data turned into the shapes journey-lab works with.

:func:`from_transactions` turns an invoice or payment log (one row per line item or payment,
such as the Online Retail data set) into touchpoint-log columns, ready for
:func:`journey_lib.validate_events`. :func:`validate_customers` and
:func:`from_customer_table` check a one-row-per-customer table (churn tables, CRM exports):
customer ids, churn labels, signup times and numbers stored as text.
"""

from __future__ import annotations

import difflib
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from narwhals.typing import IntoFrame
from pandas.api import types as ptypes

from .._engine import to_pandas
from ..errors import JourneyDataError, JourneyDataWarning, JourneyParameterError
from .parse import duplicated, join_reasons, null_text, parse_ids, parse_timestamps, parse_values
from .validate import CANONICAL_COLUMNS, ValidationReport

__all__ = [
    "CHURNED_LABELS",
    "CUSTOMER_REASONS",
    "RETAINED_LABELS",
    "CustomerReport",
    "from_customer_table",
    "from_transactions",
    "validate_customers",
]

#: Churn-label spellings read as churned, compared after stripping and lower-casing.
CHURNED_LABELS: frozenset[str] = frozenset(
    {"yes", "y", "true", "t", "1", "1.0", "churned", "churn", "exited", "left"}
)
#: Churn-label spellings read as retained, compared after stripping and lower-casing.
RETAINED_LABELS: frozenset[str] = frozenset(
    {"no", "n", "false", "f", "0", "0.0", "retained", "stayed", "active", "not churned"}
)

#: Why :func:`validate_customers` can quarantine a row, in the order a row's reasons are joined.
CUSTOMER_REASONS: tuple[str, ...] = (
    "missing customer id",
    "duplicate customer id",
    "unrecognised churn label",
    "unparseable signup time",
)

# A leading zero marks codes (zip codes, account numbers) that must stay text.
_ZERO_PADDED = r"[+-]?0[0-9]"


def from_transactions(
    frame: IntoFrame,
    *,
    customer: str,
    timestamp: str,
    amount: str,
    event: str = "purchase",
    quantity: str | None = None,
    invoice: str | None = None,
    channel: str | None = None,
    returns: str | None = "return",
) -> pd.DataFrame:
    """Turn a transaction log into touchpoint-log columns, one event per line or invoice.

    A transaction log has one row per payment or invoice line: who, when, how much, and
    possibly how many and on which invoice. The result has the canonical columns of a
    touchpoint log (see :mod:`journey_lib.io.validate`) but is **not validated**: pass it to
    :func:`journey_lib.validate_events` or :func:`journey_lib.load_events`, which parse ids and
    timestamps and quarantine unusable rows. This function never drops a row, apart from the
    invoice aggregation described below.

    Parameters
    ----------
    frame : DataFrame
        The log: pandas, or any frame Narwhals understands (a lazy one is collected first).
        It is not modified.
    customer, timestamp, amount : str
        Columns holding the customer id, the time of the transaction, and its money amount
        (the unit price when ``quantity`` is given).
    event : str, default "purchase"
        Event name of transactions with a value of zero or more.
    quantity : str, optional
        Column of item counts; the value is then ``amount * quantity``.
    invoice : str, optional
        Column of invoice numbers. When given, the lines of each (customer, invoice) pair
        become one event; see Notes.
    channel : str, optional
        Column of sales channels (store, web, ...); without it ``channel`` is missing.
    returns : str or None, default "return"
        Event name of transactions with a negative value (refunds, cancelled invoices). The
        value stays negative, so summing ``value`` gives net revenue. ``None`` names them
        ``event`` too.

    Returns
    -------
    pandas.DataFrame
        ``customer_id, timestamp, event, channel, value`` followed by properties. Without
        ``invoice``: one row per input row, with the input's index, and as properties every
        input column not renamed to a canonical one (``amount`` is renamed to ``value``
        unless ``quantity`` is given, in which case both stay). With ``invoice``: one row per
        (customer, invoice) in order of first appearance, with a fresh RangeIndex, and only
        the invoice column and ``items`` as properties.

    Raises
    ------
    JourneyDataError
        When a named column is absent (the message lists the columns present), or an input
        column that would be dropped has the name of an output column (``event``, ...).
    JourneyParameterError
        When two arguments name the same column, or ``event``/``returns`` is not a
        non-empty string.

    Notes
    -----
    Definitions:

    - *value*: ``amount``, or ``amount * quantity``; a missing amount or quantity counts
      as 0, as a missing value does in a touchpoint log. When an amount or quantity is
      present but not a finite number, the value is that cell's text (``"12,50"``,
      ``"inf"``), so validation quarantines the event as a non-numeric or non-finite value
      instead of it silently counting as 0. The ``value`` column is then of object dtype.
    - *return*: a transaction (or, with ``invoice``, a whole invoice) whose value is
      negative. Its sign decides, not the invoice number: Online Retail's cancellations
      (``C536379``) have negative quantities and so become returns.
    - *invoice aggregation*: lines are grouped by the customer and invoice values as given
      (lines without a customer id still form their invoice's event, which validation then
      quarantines). Each event has the summed value, ``items`` (the number of lines), the
      earliest line's timestamp, and the first non-missing channel. Timestamps are parsed
      as :func:`~journey_lib.validate_events` does, so the result is UTC; an invoice none of
      whose lines' timestamps parse keeps its first unparseable text, to be quarantined. The
      other property columns (product codes, descriptions, ...) describe single lines and
      are dropped.

    Examples
    --------
    Two invoices of three lines, the second one a cancellation:

    >>> import pandas as pd
    >>> lines = pd.DataFrame({
    ...     "InvoiceNo": ["536365", "536365", "C536379"],
    ...     "StockCode": ["85123A", "71053", "22633"],
    ...     "Quantity": [6, 2, -1],
    ...     "UnitPrice": [2.55, 3.39, 1.85],
    ...     "CustomerID": [17850.0, 17850.0, 17850.0],
    ...     "InvoiceDate": ["2010-12-01 08:26", "2010-12-01 08:25", "2010-12-01 09:41"],
    ... })
    >>> events = from_transactions(lines, customer="CustomerID", timestamp="InvoiceDate",
    ...                            amount="UnitPrice", quantity="Quantity",
    ...                            invoice="InvoiceNo")
    >>> events[["customer_id", "timestamp", "event", "value", "items"]]
       customer_id                 timestamp     event  value  items
    0      17850.0 2010-12-01 08:25:00+00:00  purchase  22.08      2
    1      17850.0 2010-12-01 09:41:00+00:00    return  -1.85      1

    Without ``invoice`` every line is an event, and the line's columns stay as properties:

    >>> per_line = from_transactions(lines, customer="CustomerID", timestamp="InvoiceDate",
    ...                              amount="UnitPrice", quantity="Quantity")
    >>> per_line.columns[5:].tolist()
    ['InvoiceNo', 'StockCode', 'Quantity', 'UnitPrice']
    >>> per_line["event"].tolist()
    ['purchase', 'purchase', 'return']
    """
    data = to_pandas(frame, what="transactions")
    _require_columns(
        data,
        "transactions",
        customer=customer,
        timestamp=timestamp,
        amount=amount,
        quantity=quantity,
        invoice=invoice,
        channel=channel,
    )
    labels = {"event": event} | ({} if returns is None else {"returns": returns})
    for name, label in labels.items():
        if not isinstance(label, str) or not label.strip():
            raise JourneyParameterError(f"{name} must be a non-empty event name, got {label!r}")

    numbers, problem = _line_values(data, amount, quantity)
    channels = (
        data[channel] if channel is not None else pd.Series(np.nan, index=data.index, dtype="str")
    )
    if invoice is None:
        renamed = {customer, timestamp, channel} | ({amount} if quantity is None else set())
        properties = [c for c in data.columns if c not in renamed]
        _reject_clashes(properties, CANONICAL_COLUMNS)
        events = pd.DataFrame(
            {
                "customer_id": data[customer],
                "timestamp": data[timestamp],
                "value": numbers,
                "problem": problem,
                "channel": channels,
            },
            index=data.index,
        )
        extra = data[properties]
    else:
        _reject_clashes([invoice], (*CANONICAL_COLUMNS, "items"))
        events, extra = _per_invoice(data, customer, timestamp, invoice, numbers, problem, channels)

    negative = (events["value"] < 0) & events["problem"].isna()
    names = np.where(negative, event if returns is None else returns, event)
    value = events["value"]
    if events["problem"].notna().any():
        value = value.astype(object).where(events["problem"].isna(), events["problem"])
    canonical = pd.DataFrame(
        {
            "customer_id": events["customer_id"],
            "timestamp": events["timestamp"],
            "event": pd.Series(names, index=events.index, dtype="str"),
            "channel": events["channel"],
            "value": value,
        },
        index=events.index,
    )
    return pd.concat([canonical, extra], axis=1)


def _line_values(
    data: pd.DataFrame, amount: str, quantity: str | None
) -> tuple[pd.Series, pd.Series]:
    """Each line's value as float64 (missing -> 0), and the text of the cell that makes it
    unusable (missing where the value is fine)."""
    numbers, bad, infinite = parse_values(data[amount])
    problem = data[amount].astype("str").where(bad | infinite)
    if quantity is not None:
        counts, bad_count, infinite_count = parse_values(data[quantity])
        count_problem = data[quantity].astype("str").where(bad_count | infinite_count)
        problem = problem.where(problem.notna(), count_problem)
        numbers = numbers * counts
    # The text stands for the value; a stray inf must not leak into an invoice's sum.
    return numbers.where(problem.isna(), 0.0), problem


def _per_invoice(
    data: pd.DataFrame,
    customer: str,
    timestamp: str,
    invoice: str,
    numbers: pd.Series,
    problem: pd.Series,
    channels: pd.Series,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per (customer, invoice): the canonical inputs, and the invoice and items."""
    parsed, _, unparseable = parse_timestamps(data[timestamp])
    lines = pd.DataFrame(
        {
            "customer_id": data[customer],
            "invoice": data[invoice],
            "timestamp": parsed,
            "unparsed": data[timestamp].astype("str").where(unparseable),
            "value": numbers,
            "problem": problem,
            "channel": channels,
        },
        index=data.index,
    )
    # dropna=False: lines without a customer or invoice must reach validation, not vanish.
    invoices = (
        lines.groupby(["customer_id", "invoice"], sort=False, dropna=False)
        .agg(
            timestamp=("timestamp", "min"),
            unparsed=("unparsed", "first"),
            value=("value", "sum"),
            problem=("problem", "first"),
            channel=("channel", "first"),
            items=("value", "size"),
        )
        .reset_index()
    )
    lost = invoices["timestamp"].isna() & invoices["unparsed"].notna()
    if lost.any():
        invoices["timestamp"] = (
            invoices["timestamp"].astype(object).where(~lost, invoices["unparsed"])
        )
    extra = invoices[["invoice", "items"]].rename(columns={"invoice": invoice})
    return invoices, extra


@dataclass(frozen=True, repr=False)
class CustomerReport(ValidationReport):
    """What :func:`validate_customers` made of a customer table.

    A :class:`~journey_lib.io.validate.ValidationReport` (same ``clean``, ``quarantine``,
    ``duplicates``, ``n_input``, ``ok`` and ``reason_counts()``) whose ``clean`` is a
    customer table rather than a touchpoint log, so it has its own :meth:`summary`.

    Attributes
    ----------
    notes : tuple of str
        Values that were reinterpreted without quarantining a row, such as
        ``"TotalCharges: 11 blank values read as missing"``.
    """

    notes: tuple[str, ...] = ()

    def summary(self) -> str:
        """A readable account: customers kept (and churned), rows quarantined (why, with an
        example row each), exact duplicates dropped, and values reinterpreted."""
        clean = self.clean
        line = f"  clean        {len(clean):>10,} customers"
        if len(clean) and "churned" in clean.columns:
            line += f", {int(clean['churned'].sum()):,} churned ({clean['churned'].mean():.1%})"
        if "first_seen" in clean.columns and clean["first_seen"].notna().any():
            first_seen = clean["first_seen"]
            line += f", first seen {first_seen.min():%Y-%m-%d} to {first_seen.max():%Y-%m-%d}"
        lines = [f"Customer table: {self.n_input:,} input rows", line]
        lines.append(f"  quarantined  {len(self.quarantine):>10,} rows")
        reasons = self.quarantine[self.reason_column] if len(self.quarantine) else None
        for reason, count in self.reason_counts().items():
            example = reasons.index[reasons.str.contains(reason, regex=False)][0]
            lines.append(f"    {reason:<26}{count:>8,}  e.g. row {example!r}")
        lines.append(f"  duplicates   {self.duplicates:>10,} identical rows dropped (first kept)")
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)


def validate_customers(
    frame: IntoFrame,
    *,
    customer: str | None,
    churn: str | None = None,
    signup: str | None = None,
) -> CustomerReport:
    """Check a one-row-per-customer table and split it into clean rows, quarantine and
    duplicates.

    Parameters
    ----------
    frame : DataFrame
        The table: pandas, or any frame Narwhals understands. It is not modified.
    customer : str or None
        Column of customer ids. ``None`` (to be passed explicitly) for tables without one:
        the row's position, 0 for the first row, becomes its id, so ids are unique within
        the table but mean nothing across tables.
    churn : str, optional
        Column of churn labels, read into a boolean ``churned``.
    signup : str, optional
        Column of signup (or first-purchase) times, read into ``first_seen``.

    Returns
    -------
    CustomerReport
        A :class:`~journey_lib.io.validate.ValidationReport` with ``notes``. Its ``clean`` has
        ``customer_id`` first, then ``churned`` and ``first_seen`` when asked for, then the
        other columns in input order; rows in input order with a fresh RangeIndex. Its
        ``quarantine`` holds unusable input rows as they came in, plus a ``reason`` column
        (``quarantine_reason`` if the table has a ``reason`` column).

    Raises
    ------
    JourneyDataError
        When a named column is absent (the message lists the columns present), or the table
        already has a column named like an output one (``customer_id``, ...) that would be
        overwritten.
    JourneyParameterError
        When two arguments name the same column.

    Notes
    -----
    Parsing rules:

    - ``customer_id``: as in :func:`~journey_lib.validate_events`: int64 when every id is an
      integer (``7``, ``7.0``, ``"7"``), otherwise stripped text.
    - ``churned``: numbers 1/0, booleans, or text in :data:`CHURNED_LABELS` /
      :data:`RETAINED_LABELS` (any case: Yes/No, TRUE/False, y/n, t/f, churned/retained,
      ...).
    - ``first_seen``: parsed like a touchpoint timestamp, UTC. A missing time stays missing
      (NaT); only text that cannot be parsed quarantines the row.
    - other columns: a text column whose every non-blank value is a number becomes float64
      with the blanks (empty text or a spelling of null such as ``"NA"``) as NaN; this is
      listed in ``notes``. Text with leading zeros (``"02139"``) stays text, as codes.

    A row is quarantined, never dropped, when its customer id is missing, its churn label is
    missing or not recognised, its signup time cannot be parsed, or its id appears on more
    than one row. All rows sharing an id are quarantined: which one is right cannot be
    told. The exception are exact copies: a row equal to an earlier usable row in every
    column (after parsing) is counted in ``duplicates`` and dropped, the first copy staying.
    With ``customer=None`` ids are positions, so no two rows are duplicates.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({
    ...     "customerID": ["7590-VHVEG", "5575-GNVDE", "3668-QPYBK", "9237-HQITU"],
    ...     "tenure": [1, 34, 0, 2],
    ...     "TotalCharges": ["29.85", "1889.5", " ", "151.65"],
    ...     "Churn": ["No", "No", "Yes", "maybe"],
    ... })
    >>> report = validate_customers(table, customer="customerID", churn="Churn")
    >>> report.clean
      customer_id  churned  tenure  TotalCharges
    0  7590-VHVEG    False       1         29.85
    1  5575-GNVDE    False      34       1889.50
    2  3668-QPYBK     True       0           NaN
    >>> report.quarantine
       customerID  tenure TotalCharges  Churn                    reason
    3  9237-HQITU       2       151.65  maybe  unrecognised churn label
    >>> report.notes
    ('TotalCharges: 1 blank value read as missing',)
    """
    raw = to_pandas(frame, what="customers")
    _require_columns(raw, "customer table", customer=customer, churn=churn, signup=signup)
    n = len(raw)
    sources = {"customer_id": customer, "churned": churn, "first_seen": signup}
    produced = {column: name for name, column in sources.items() if column is not None}
    others = [c for c in raw.columns if c not in produced]
    # customer_id is created even without an id column: the row numbers.
    outputs = tuple(k for k, source in sources.items() if source is not None or k == "customer_id")
    _reject_clashes(others, outputs)

    masks = {reason: np.zeros(n, dtype=bool) for reason in CUSTOMER_REASONS}
    if customer is None:
        ids = pd.Series(np.arange(n, dtype="int64"), index=raw.index)
    else:
        ids, masks["missing customer id"] = parse_ids(raw[customer])
    parsed = {"customer_id": ids}
    if churn is not None:
        parsed["churned"], masks["unrecognised churn label"] = _parse_churn(raw[churn])
    if signup is not None:
        parsed["first_seen"], _, masks["unparseable signup time"] = parse_timestamps(raw[signup])

    converted = {}
    blanks: dict[str, tuple[np.ndarray, str]] = {}
    for column in others:
        numeric = _numeric_text(raw[column])
        if numeric is not None:
            converted[column], blanks[column] = numeric
    table = pd.concat(
        [pd.DataFrame(parsed, index=raw.index), raw[others].assign(**converted)], axis=1
    )

    usable = ~np.logical_or.reduce(list(masks.values()))
    duplicate = np.zeros(n, dtype=bool)
    duplicate[usable] = duplicated(table.loc[usable])
    # Ids shared by rows that are not exact copies contradict each other.
    identified = ~masks["missing customer id"] & ~duplicate
    masks["duplicate customer id"][identified] = ids[identified].duplicated(keep=False).to_numpy()
    unusable = np.logical_or.reduce(list(masks.values()))

    reason_column = "quarantine_reason" if "reason" in raw.columns else "reason"
    quarantine = raw.loc[unusable].assign(**{reason_column: join_reasons(masks, unusable)})
    kept = ~unusable & ~duplicate
    counts = {column: int(blank[kept].sum()) for column, (blank, _) in blanks.items()}
    notes = tuple(
        f"{column}: {count:,} {blanks[column][1]} value{'s' * (count != 1)} read as missing"
        for column, count in counts.items()
        if count
    )
    return CustomerReport(
        clean=table.loc[kept].reset_index(drop=True),
        quarantine=quarantine,
        duplicates=int(duplicate.sum()),
        n_input=n,
        columns=produced,
        reason_column=reason_column,
        notes=notes,
    )


def from_customer_table(
    frame: IntoFrame,
    *,
    customer: str | None,
    churn: str | None = None,
    signup: str | None = None,
) -> pd.DataFrame:
    """Load a one-row-per-customer table as a clean pandas DataFrame.

    Validates with :func:`validate_customers` and returns its clean rows: ``customer_id``,
    then ``churned`` and ``first_seen`` when asked for, then the other columns. Use
    :func:`validate_customers` to keep the quarantine.

    Parameters
    ----------
    frame : DataFrame
        The table: pandas, or any frame Narwhals understands.
    customer : str or None
        Column of customer ids; ``None`` numbers the rows from 0 instead.
    churn : str, optional
        Column of churn labels (Yes/No, True/False, 1/0, ...), read into bool ``churned``.
    signup : str, optional
        Column of signup times, read into UTC ``first_seen``.

    Returns
    -------
    pandas.DataFrame
        The clean customer table.

    Raises
    ------
    JourneyDataError
        When a named column is absent or no usable row remains.

    Warns
    -----
    JourneyDataWarning
        With the summary, when rows were quarantined or dropped as exact duplicates, or
        values were reinterpreted (blanks in a numeric text column read as missing).

    Examples
    --------
    >>> import pandas as pd
    >>> bank = pd.DataFrame({"CustomerId": [15634602, 15647311], "Balance": [0.0, 83807.86],
    ...                      "Exited": [1, 0]})
    >>> from_customer_table(bank, customer="CustomerId", churn="Exited")
       customer_id  churned   Balance
    0     15634602     True      0.00
    1     15647311    False  83807.86
    """
    report = validate_customers(frame, customer=customer, churn=churn, signup=signup)
    if report.clean.empty:
        raise JourneyDataError("no usable customer row remains:\n" + report.summary())
    if not report.ok or report.duplicates or report.notes:
        warnings.warn(
            "the customer table needed attention; use validate_customers() to see the "
            "quarantine:\n" + report.summary(),
            JourneyDataWarning,
            stacklevel=2,
        )
    return report.clean


def _require_columns(frame: pd.DataFrame, what: str, **named: str | None) -> None:
    """Raise unless the columns named by the arguments (``None``: not used) exist and differ."""
    used = {argument: column for argument, column in named.items() if column is not None}
    columns = list(used.values())
    shared = [c for c in dict.fromkeys(columns) if columns.count(c) > 1]
    if shared:
        arguments = [f"{a}=" for a, c in used.items() if c == shared[0]]
        raise JourneyParameterError(
            f"{' and '.join(arguments)} name the same column {shared[0]!r}; each argument "
            f"needs its own column"
        )
    present = list(frame.columns)
    names = [str(c) for c in present]
    problems = []
    for argument, column in used.items():
        if column in present:
            continue
        close = [c for c in names if c.lower() == str(column).lower()] or (
            difflib.get_close_matches(str(column), names, n=1, cutoff=0.6)
        )
        hint = f", did you mean {close[0]!r}?" if close else ""
        problems.append(f"no column {column!r} (given as {argument}=){hint}")
    if problems:
        listed = f"{present[:30]}{' ...' if len(present) > 30 else ''}"
        raise JourneyDataError(
            f"{what}: {'; '.join(problems)}. Available columns ({len(present)}): {listed}"
        )


def _reject_clashes(kept: list[Any], outputs: tuple[str, ...]) -> None:
    """Raise when an input column that is passed through has an output column's name."""
    clashes = [c for c in kept if c in outputs]
    if clashes:
        raise JourneyDataError(
            f"the input already has column(s) {clashes}, named like columns this function "
            f"creates; rename or drop them, or pass them as the argument that fills that column"
        )


def _parse_churn(raw: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Churn labels as bool, and where the label is missing or not a known spelling."""
    if ptypes.is_bool_dtype(raw) and not raw.hasnans:
        return raw.astype(bool), np.zeros(len(raw), dtype=bool)
    if ptypes.is_numeric_dtype(raw) and not ptypes.is_bool_dtype(raw):
        numbers = raw.astype("float64")
        return numbers == 1, (~numbers.isin([0.0, 1.0])).to_numpy()
    text = raw.astype("str").str.strip().str.lower()
    churned = text.isin(CHURNED_LABELS)
    return churned, (~churned & ~text.isin(RETAINED_LABELS)).to_numpy()


def _numeric_text(raw: pd.Series) -> tuple[pd.Series, tuple[np.ndarray, str]] | None:
    """A text column of numbers with blanks as float64, with where the blanks were and what
    they looked like; None for any other column."""
    if not (isinstance(raw.dtype, pd.StringDtype) or raw.dtype == object):
        return None
    text = raw.astype("str").str.strip()
    blank = null_text(text)
    present = text[~blank]
    # Text that needs no blank to explain it was made text on purpose (ids, codes).
    if not blank.any() or present.empty or present.str.match(_ZERO_PADDED).any():
        return None
    numbers = pd.to_numeric(present, errors="coerce")
    if numbers.isna().any():
        return None
    empty = (text.isna() | (text == "")).to_numpy()
    kind = "blank" if empty[blank].all() else "blank or null-text (such as 'NA')"
    return pd.to_numeric(text.where(~blank)).astype("float64"), (blank, kind)
