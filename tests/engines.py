"""The same log on every engine, and results compared as pandas (imported by tests)."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd
import pytest

#: The real public data sets, next to the project (never copied into it).
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

#: Set to 1 (CI's .ci/run does) to make a test that would skip for want of Java, ../shared
#: or an optional package fail instead: what CI is meant to check cannot vanish unseen.
REQUIRE_ALL = "JOURNEY_REQUIRE_ALL"


def missing(reason: str) -> NoReturn:
    """Skip the test because ``reason`` (something this machine lacks), or fail with it
    when ``JOURNEY_REQUIRE_ALL=1``. Every skip for a missing dependency goes through here."""
    if os.environ.get(REQUIRE_ALL, "").strip() not in ("", "0"):
        pytest.fail(f"{reason}; {REQUIRE_ALL} is set, so this test may not skip", pytrace=False)
    pytest.skip(reason)


def shared_file(*parts: str) -> Path:
    """The file ``parts`` under ../shared/data; the test skips (see :func:`missing`) if absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        missing(f"real data {path} is absent (the shared data folder is not next to the repo)")
    return path


def require_module(name: str, why: str) -> ModuleType:
    """``import name``, or skip (see :func:`missing`) saying ``why`` it is needed."""
    try:
        return importlib.import_module(name)
    except ImportError as error:
        missing(f"{name} is not importable ({error}): {why}")


#: Single-machine engines every analytics function is held to; PySpark has its own fixture.
ENGINES = ("pandas", "polars", "polars-lazy", "duckdb")


def to_engine(frame: pd.DataFrame, engine: str, spark: Any = None) -> Any:
    """The pandas ``frame`` as a native frame of ``engine``."""
    if engine == "pandas":
        return frame
    if engine in ("polars", "polars-lazy"):
        import polars as pl

        converted = pl.from_pandas(frame)
        return converted.lazy() if engine == "polars-lazy" else converted
    if engine == "duckdb":
        import duckdb

        return duckdb.from_arrow(nw.from_native(frame).to_arrow())
    if engine == "pyspark":
        return spark.createDataFrame(frame)
    raise ValueError(engine)


def is_kind(result: Any, engine: str) -> bool:
    """Whether ``result`` is the kind of frame ``engine`` should give back (lazy stays lazy)."""
    if engine == "pandas":
        return isinstance(result, pd.DataFrame)
    if engine in ("polars", "polars-lazy"):
        import polars as pl

        return isinstance(result, pl.LazyFrame if engine == "polars-lazy" else pl.DataFrame)
    if engine == "duckdb":
        import duckdb

        return isinstance(result, duckdb.DuckDBPyRelation)
    from pyspark.sql import DataFrame

    return isinstance(result, DataFrame)


def collect(result: Any) -> pd.DataFrame:
    """Any engine's result as a pandas frame with a RangeIndex and UTC time zones."""
    frame = nw.from_native(result)
    if isinstance(frame, nw.LazyFrame):
        frame = frame.collect()
    out = frame.to_pandas().reset_index(drop=True)
    for column in out.columns:
        if isinstance(out[column].dtype, pd.DatetimeTZDtype):
            out[column] = out[column].dt.tz_convert("UTC").dt.as_unit("us")
    return out


def assert_same_frame(got: pd.DataFrame, want: pd.DataFrame, *, sort_by=None, rtol=1e-9):
    """Equal values regardless of engine-specific dtypes (int vs float, null vs NaN)."""
    if sort_by is not None:
        got = got.sort_values(sort_by, kind="stable").reset_index(drop=True)
        want = want.sort_values(sort_by, kind="stable").reset_index(drop=True)
    assert list(got.columns) == list(want.columns)
    assert len(got) == len(want), f"{len(got)} rows, want {len(want)}"
    for column in want.columns:
        g, w = got[column], want[column]
        if pd.api.types.is_numeric_dtype(w) and not pd.api.types.is_bool_dtype(w):
            np.testing.assert_allclose(
                g.astype("float64").to_numpy(),
                w.astype("float64").to_numpy(),
                rtol=rtol,
                equal_nan=True,
                err_msg=column,
            )
        else:
            assert g.isna().tolist() == w.isna().tolist(), column
            assert g[w.notna()].tolist() == w[w.notna()].tolist(), column


def parity(
    func: Callable[..., Any], events: pd.DataFrame, engine: str, *args, spark=None, **kwargs
) -> pd.DataFrame:
    """Run ``func`` on ``events`` converted to ``engine``; check the result's kind and
    return it as pandas."""
    result = func(to_engine(events, engine, spark), *args, **kwargs)
    assert is_kind(result, engine), f"{engine} gave back {type(result)}"
    return collect(result)
