"""The few Narwhals helpers that engine-agnostic modules share."""

from __future__ import annotations

from typing import Any

import narwhals.stable.v2 as nw
import pandas as pd

from .errors import JourneyParameterError


def to_pandas(frame: Any, *, what: str = "events") -> pd.DataFrame:
    """Return ``frame`` as a pandas DataFrame, collecting lazy frames explicitly.

    pandas input is returned as is (copy-on-write makes that safe). Polars, DuckDB, PySpark
    and any other frame Narwhals understands is converted; a lazy frame is computed first.
    """
    if isinstance(frame, pd.DataFrame):
        return frame
    try:
        native = nw.from_native(frame)
    except TypeError:
        raise JourneyParameterError(
            f"{what} must be a DataFrame (pandas, Polars, DuckDB, PySpark, ...); "
            f"got {type(frame).__name__}"
        ) from None
    if isinstance(native, nw.LazyFrame):
        native = native.collect()
    return native.to_pandas()
