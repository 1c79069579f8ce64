"""Checking and tidying what users hand to the churn model: features and labels."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from .._engine import to_pandas
from ..errors import JourneyDataError, JourneyDataWarning

#: Label spellings read as "churned" (compared lower-case); their opposites as "stayed".
_YES = frozenset({"1", "yes", "y", "true", "t", "churn", "churned", "left", "lost"})
_NO = frozenset({"0", "no", "n", "false", "f", "stay", "stayed", "retained", "active"})


def looks_like_id(name: str, column: pd.Series | None = None) -> bool:
    """An identifier, by name (``id``, ``*_id``, ``*ID``) or, for text with more than 50
    rows, by being different on every row."""
    lowered = name.lower()
    if lowered == "id" or lowered.endswith("_id") or name.endswith("ID"):
        return True
    if column is not None and len(column) > 50:
        text = pd.api.types.is_string_dtype(column) or column.dtype == object
        return bool(text and column.nunique(dropna=True) == len(column))
    return False


def binary_labels(y: Any) -> pd.Series:
    """``y`` as 0/1 integers: booleans, 0/1 numbers, or text such as Yes/No, True/False."""
    series = y if isinstance(y, pd.Series) else pd.Series(np.asarray(y))
    name = series.name if series.name is not None else "y"
    if series.isna().any():
        raise JourneyDataError(
            f"label {name!r} has {int(series.isna().sum())} missing value(s); drop those rows "
            f"or decide what they mean"
        )
    if pd.api.types.is_bool_dtype(series):
        labels = series.astype("int64")
    elif pd.api.types.is_numeric_dtype(series):
        if not series.isin([0, 1]).all():
            odd = series[~series.isin([0, 1])].iloc[0]
            raise JourneyDataError(
                f"label {name!r} must be 0/1, True/False or Yes/No; found {odd!r}"
            )
        labels = series.astype("int64")
    else:
        text = series.astype("str").str.strip().str.lower()
        unknown = ~text.isin(_YES | _NO)
        if unknown.any():
            raise JourneyDataError(
                f"label {name!r} has values that do not read as churned or stayed, e.g. "
                f"{series[unknown].iloc[0]!r} ({int(unknown.sum())} rows); map them to 0/1 "
                f"first"
            )
        labels = text.isin(_YES).astype("int64")
    classes = labels.unique()
    if len(classes) < 2:
        only = "churned" if classes[0] == 1 else "stayed"
        raise JourneyDataError(
            f"label {name!r} has one class only: every one of the {len(labels)} customers "
            f"{only}. A churn model needs both; widen the horizon, move the cutoff or add data"
        )
    return labels.rename("churned")


def feature_frame(X: Any) -> pd.DataFrame:
    """``X`` as a pandas DataFrame: any frame, or the table of :func:`build_features`'
    result (a ``ChurnFeatures``), so that ``model.predict_proba(build_features(...))`` works
    as it did when build_features returned the table itself."""
    # Read by shape, not class: churn.dataset imports this module.
    table = getattr(X, "X", None)
    if hasattr(X, "recipe") and isinstance(table, pd.DataFrame):
        return table
    return to_pandas(X, what="X")


def tidy_features(X: Any, *, stacklevel: int = 3) -> pd.DataFrame:
    """Features as pandas, with identifier-like and all-missing columns dropped (warning
    once) and text that is really numbers (all but blanks parse) made numeric."""
    frame = feature_frame(X).copy()
    if frame.shape[1] == 0:
        raise JourneyDataError("X has no columns: there is nothing to learn from")
    frame.columns = [str(c) for c in frame.columns]
    for name in frame.columns:
        column = frame[name]
        if not pd.api.types.is_numeric_dtype(column) and not _is_datetime(column):
            # Numbers written as text first, so that unique amounts are not taken for ids.
            frame[name] = _numbers_if_numeric(column)
    ids = [c for c in frame.columns if looks_like_id(c, frame[c])]
    empty = [c for c in frame.columns if c not in ids and frame[c].isna().all()]
    if ids:
        warnings.warn(
            f"X columns {ids} look like identifiers and were dropped (a model would memorise "
            f"them); rename a column if it is a real feature",
            JourneyDataWarning,
            stacklevel=stacklevel,
        )
    if empty:
        warnings.warn(
            f"X columns {empty} are missing on every row and were dropped",
            JourneyDataWarning,
            stacklevel=stacklevel,
        )
    frame = frame.drop(columns=ids + empty)
    if frame.shape[1] == 0:
        raise JourneyDataError(
            "no usable feature is left in X: every column looks like an identifier or is "
            "entirely missing"
        )
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_bool_dtype(column):
            frame[name] = column.astype("float64")
        elif _is_datetime(column):
            raise JourneyDataError(
                f"X column {name!r} holds dates; turn it into a number first (say, days "
                f"before the cutoff, as churn.build_dataset does)"
            )
    return frame


def _numbers_if_numeric(column: pd.Series) -> pd.Series:
    """Text whose every non-blank value parses as a number (as TotalCharges in the IBM telco
    table) becomes numbers, blanks missing; other text stays categorical, as strings."""
    # Strings are parsed once per distinct value (a million rows of a few plans in
    # milliseconds, not seconds); other objects row by row, as factorising would take
    # True, 1 and 1.0 for one value.
    strings = pd.api.types.infer_dtype(column, skipna=True) in ("string", "empty")
    codes, uniques = pd.factorize(column) if strings else (None, column)
    text = as_text(pd.Series(uniques, dtype=column.dtype))
    numbers = as_numbers(text)
    parses = text.notna().any() and numbers.notna().sum() == text.notna().sum()
    chosen = numbers if parses else text
    if codes is None:
        return chosen
    values = pd.api.extensions.take(chosen.array, codes, allow_fill=True)
    return pd.Series(values, index=column.index, name=column.name)


def as_numbers(column: pd.Series) -> pd.Series:
    """``column`` as float64; text that does not parse (blanks included) becomes missing."""
    if pd.api.types.is_numeric_dtype(column):
        return column.astype("float64")
    return pd.to_numeric(as_text(column), errors="coerce").astype("float64")


def as_text(column: pd.Series) -> pd.Series:
    """``column`` as stripped strings, blanks and missing values missing."""
    stripped = column.astype("str").str.strip().where(column.notna())
    return stripped.where(stripped != "")


def _is_datetime(column: pd.Series) -> bool:
    return isinstance(column.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(column)
