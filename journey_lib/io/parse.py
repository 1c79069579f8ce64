"""Raw columns read as canonical values, and the bookkeeping of rows that cannot be used.

The parsers that :func:`journey_lib.validate_events` and the adapters
(:func:`journey_lib.from_transactions`, :func:`journey_lib.from_customer_table`) share, so a
customer id, a time or an amount reads the same whichever way the data came in. Each parser
takes a pandas Series of raw values and returns the parsed Series (same index) with boolean
NumPy masks of the rows it could not use; it never drops or reorders a row, so the caller
decides what a bad value means (a quarantine reason, a note).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api import types as ptypes
from pandas.tseries.api import guess_datetime_format

__all__ = [
    "NULL_TOKENS",
    "duplicated",
    "join_reasons",
    "null_text",
    "parse_ids",
    "parse_text",
    "parse_timestamps",
    "parse_values",
]

#: Spellings of "nothing here" that arrive as text from exports and spreadsheets.
NULL_TOKENS = frozenset({"", "nan", "na", "n/a", "null", "none", "<na>", "nat"})
# An integer without leading zeros, optionally spelled as a float ("7.0", as CSV writers spell
# integer ids from a float column with gaps).
_CANONICAL_INT = r"^(?:0|-?[1-9][0-9]{0,17})(?:\.0*)?$"
_UTC_SUFFIX = r"\s*(?:UTC|GMT)$"
# A number spelled as text: a Unix epoch where a time is expected.
_EPOCH_TEXT = r"^[-+]?[0-9]+(?:\.[0-9]*)?$"


def null_text(text: pd.Series) -> np.ndarray:
    """True where stripped text is missing, empty or spells a null (:data:`NULL_TOKENS`,
    in any case).

    Examples
    --------
    >>> import pandas as pd
    >>> null_text(pd.Series(["a", "", "NaN", "n/a", None], dtype="str")).tolist()
    [False, True, True, True, True]
    """
    return (text.isna() | text.str.lower().isin(NULL_TOKENS)).to_numpy()


def parse_ids(raw: pd.Series, *, as_text: bool = False) -> tuple[pd.Series, np.ndarray]:
    """Customer ids, and where they are missing.

    Integer ids (integers, whole floats such as ``7.0``, or text such as ``"7"`` without a
    leading zero) become int64 when every present id is one; otherwise every id is stripped
    text, so ``"007"`` and ``"7"`` stay different customers. Missing ids (null, NaN,
    infinite, or text spelling a null) are flagged; their parsed value is a placeholder.
    ``as_text=True`` keeps text ids as text even when every one is an integer (a log read in
    parts, some of whose ids are not, decides once for every part).

    Returns
    -------
    ids : pandas.Series
        int64 or text, on ``raw``'s index.
    missing : numpy.ndarray of bool

    Examples
    --------
    >>> import pandas as pd
    >>> ids, missing = parse_ids(pd.Series([" 7", "8.0", "null"]))
    >>> ids.tolist()[:2], missing.tolist()
    ([7, 8], [False, False, True])
    >>> parse_ids(pd.Series(["007", "7"]))[0].tolist()
    ['007', '7']
    """
    if ptypes.is_bool_dtype(raw):
        raw = raw.astype("object")
    if ptypes.is_integer_dtype(raw) and not raw.hasnans:
        return raw.astype("int64"), np.zeros(len(raw), dtype=bool)
    if ptypes.is_numeric_dtype(raw):
        missing = raw.isna().to_numpy() | ~np.isfinite(raw.to_numpy(dtype="float64", na_value=0))
        present = raw[~missing]
        integral = bool((present == np.floor(present)).all()) and bool(
            (present.abs() < 2**53).all()
        )
        if integral and not as_text:
            return raw.where(~missing, 0).astype("int64"), missing
        return raw.astype("str").str.strip(), missing
    text = raw.astype("str").str.strip()
    missing = null_text(text)
    present = text[~missing]
    if not as_text and len(present) and present.str.fullmatch(_CANONICAL_INT).all():
        # Arrow's kernels: pandas' own text-to-int conversion is ten times slower.
        digits = pa.array(text.where(~missing, "0"), type=pa.large_string())
        digits = pc.replace_substring_regex(digits, r"\.0*$", "")
        ids = pc.cast(digits, pa.int64()).to_numpy(zero_copy_only=False)
        return pd.Series(ids, index=raw.index), missing
    return text, missing


def parse_timestamps(raw: pd.Series) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Times as ``datetime64[us, UTC]``, where they are missing, and where they cannot be
    read.

    Datetime values are converted to UTC (naive ones are UTC). Numbers are Unix epochs, in
    seconds, milliseconds, microseconds or nanoseconds chosen by the column's largest
    magnitude. Text is read as ISO 8601 with any offset (mixed offsets are converted);
    what that refuses is read as an epoch, without a ``" UTC"``/``" GMT"`` suffix, in one
    format guessed from the first such value (month first or day first, whichever reads
    more of the column; month first on a tie), then value by value.

    Returns
    -------
    times : pandas.Series
        ``datetime64[us, UTC]`` on ``raw``'s index, NaT where missing or unreadable.
    missing, unparseable : numpy.ndarray of bool

    Examples
    --------
    >>> import pandas as pd
    >>> times, missing, bad = parse_timestamps(
    ...     pd.Series(["2024-01-01T10:00+02:00", "2024-03-15 08:00:00 UTC", "", "soon"]))
    >>> times.dt.strftime("%Y-%m-%d %H:%M").tolist()[:2]
    ['2024-01-01 08:00', '2024-03-15 08:00']
    >>> missing.tolist(), bad.tolist()
    ([False, False, True, False], [False, False, False, True])
    >>> str(parse_timestamps(pd.Series([1_704_067_200]))[0][0])
    '2024-01-01 00:00:00+00:00'
    """
    if isinstance(raw.dtype, pd.DatetimeTZDtype):
        parsed = raw.dt.tz_convert("UTC")
        missing = parsed.isna().to_numpy()
        return parsed.dt.as_unit("us"), missing, np.zeros(len(raw), dtype=bool)
    if ptypes.is_datetime64_dtype(raw):
        parsed = raw.dt.tz_localize("UTC")
        missing = parsed.isna().to_numpy()
        return parsed.dt.as_unit("us"), missing, np.zeros(len(raw), dtype=bool)
    if ptypes.is_numeric_dtype(raw) and not ptypes.is_bool_dtype(raw):
        return _parse_epochs(raw)

    text = raw.astype("str").str.strip()
    missing = null_text(text)
    parsed = pd.to_datetime(text, utc=True, format="ISO8601", errors="coerce").dt.as_unit("us")
    retry = parsed.isna().to_numpy() & ~missing
    if retry.any():
        parsed.loc[retry] = _parse_other_formats(text[retry])
    unparseable = parsed.isna().to_numpy() & ~missing
    return parsed, missing, unparseable


def parse_text(raw: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Stripped text, missing (NaN) where it is empty or spells a null, and where that is.

    Examples
    --------
    >>> import pandas as pd
    >>> text, missing = parse_text(pd.Series([" email ", "NULL"]))
    >>> text.tolist(), missing.tolist()
    (['email', nan], [False, True])
    """
    text = raw.astype("str").str.strip()
    missing = null_text(text)
    return text.where(~missing), missing


def parse_values(raw: pd.Series) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Amounts as float64 with a missing one read as 0, where a value is present but not a
    number, and where it is infinite.

    Examples
    --------
    >>> import pandas as pd
    >>> values, bad, infinite = parse_values(pd.Series(["19.90", "", "ten", "inf"]))
    >>> values.tolist()[:2], bad.tolist(), infinite.tolist()
    ([19.9, 0.0], [False, False, True, False], [False, False, False, True])
    """
    if ptypes.is_bool_dtype(raw):
        raw = raw.astype("object")
    if ptypes.is_numeric_dtype(raw):
        numbers = raw.astype("float64")
        bad = np.zeros(len(raw), dtype=bool)
    else:
        text = raw.astype("str").str.strip()
        empty = null_text(text)
        numbers = pd.to_numeric(text.where(~empty), errors="coerce").astype("float64")
        bad = numbers.isna().to_numpy() & ~empty
    filled = numbers.fillna(0.0)
    infinite = ~np.isfinite(filled.to_numpy())
    return filled, bad, infinite


def join_reasons(masks: dict[str, np.ndarray], unusable: np.ndarray) -> np.ndarray:
    """The quarantine reason of each unusable row: the names of the ``masks`` true for it,
    in the masks' order, joined with ``"; "``.

    Parameters
    ----------
    masks : dict of str to numpy.ndarray of bool
        Reason -> the rows it applies to, over all rows.
    unusable : numpy.ndarray of bool
        The rows quarantined (those where any mask is true).

    Returns
    -------
    numpy.ndarray of str
        One reason text per unusable row, in row order.

    Examples
    --------
    >>> import numpy as np
    >>> masks = {"missing id": np.array([True, False, True]),
    ...          "bad value": np.array([False, False, True])}
    >>> join_reasons(masks, np.array([True, False, True])).tolist()
    ['missing id', 'missing id; bad value']
    """
    joined = pd.Series("", index=np.flatnonzero(unusable), dtype="str")
    for reason, mask in masks.items():
        hit = mask[unusable]
        if hit.any():
            joined[hit] = (joined[hit] + "; " + reason).str.removeprefix("; ")
    return joined.to_numpy()


def duplicated(rows: pd.DataFrame) -> np.ndarray:
    """True for rows equal to an earlier row in every column. Properties holding lists or
    dicts (JSON exports) are compared by their text.

    Examples
    --------
    >>> import pandas as pd
    >>> duplicated(pd.DataFrame({"id": [1, 1, 1], "tags": [["a"], ["a"], ["b"]]})).tolist()
    [False, True, False]
    """
    try:
        return rows.duplicated(keep="first").to_numpy()
    except TypeError:
        unhashable = {c: rows[c].map(repr) for c in rows.columns if rows[c].dtype == object}
        return rows.assign(**unhashable).duplicated(keep="first").to_numpy()


def _parse_other_formats(text: pd.Series) -> pd.Series:
    """Times the ISO 8601 parser refused, cheapest reading first; NaT where none works.

    Numbers are Unix epochs, their unit chosen by magnitude as for a numeric column (a JSON
    or CSV column mixing epochs with dates, or with junk, arrives as text). A " UTC" or
    " GMT" suffix (REES46, BigQuery exports) is dropped, naive meaning UTC. Then one format
    guessed from the first value ("12/1/2010 8:26" -> "%m/%d/%Y %H:%M") is applied to all at
    once, read month first and day first when the value allows both, keeping the reading
    under which more of the column parses (month first on a tie: a column of dates that
    all have a day of 12 or less cannot tell); only what still fails is parsed value by
    value.
    """
    bare = pd.Series(
        pc.replace_substring_regex(pa.array(text, type=pa.large_string()), _UTC_SUFFIX, ""),
        index=text.index,
        dtype="str",
    )
    parsed = pd.to_datetime(bare, utc=True, format="ISO8601", errors="coerce").dt.as_unit("us")
    epochs = bare.str.fullmatch(_EPOCH_TEXT).to_numpy() & parsed.isna().to_numpy()
    if epochs.any():
        parsed[epochs] = _parse_epochs(bare[epochs].astype("float64"))[0]
    left = parsed.isna()
    if left.any():
        # "05/03/2024" reads month first or day first; the reading under which more of the
        # column parses wins (a "18/03" further down settles it), month first on a tie.
        first = bare[left].iloc[0]
        readings = [guess_datetime_format(first)]
        if readings[0] is not None and readings[0].startswith(("%m", "%d")):
            readings.append(guess_datetime_format(first, dayfirst=True))
        tried = [
            pd.to_datetime(bare[left], utc=True, format=f, errors="coerce")
            for f in dict.fromkeys(readings)
            if f is not None
        ]
        if tried:
            parsed[left] = max(tried, key=lambda times: int(times.notna().sum()))
            left = parsed.isna()
    if left.any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            parsed[left] = pd.to_datetime(bare[left], utc=True, format="mixed", errors="coerce")
    return parsed


def _parse_epochs(raw: pd.Series) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    numbers = raw.astype("float64")
    missing = numbers.isna().to_numpy()
    finite = np.isfinite(numbers.to_numpy(na_value=0.0))
    present = numbers[~missing & finite]
    biggest = present.abs().max() if len(present) else 0.0
    # Seconds since 1970 stay below 1e11 until the year 5138; each finer unit is 1000x larger.
    limits = ((1e11, "s"), (1e14, "ms"), (1e17, "us"), (np.inf, "ns"))
    unit = next(u for limit, u in limits if biggest < limit)
    usable = numbers.where(~missing & finite)
    parsed = pd.to_datetime(usable, unit=unit, utc=True, errors="coerce").dt.as_unit("us")
    unparseable = parsed.isna().to_numpy() & ~missing
    return parsed, missing, unparseable
