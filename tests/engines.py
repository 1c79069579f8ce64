"""The same log on every engine, and results compared as pandas (imported by tests)."""

from __future__ import annotations

import importlib
import json
import math
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

#: The settings the whole-report tests run the bundled sample with: the primer on 1,000
#: customers, 04's logistic model, 05's credit with 20 resamples (200 by default), 08's
#: campaign simulated on 20,000 customers (60,000 by default). What an
#: engine computes (the log's tables, the model's features, the credit's per-customer
#: tables) is the same as with the defaults; the fits and resamples are pandas' and numpy's
#: on what the engine collected. The committed defaults run in tests/test_notebooks.py.
SMALL = {"customers": 1000, "model": "logistic", "n_boot": 20, "simulated_customers": 20_000}
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def declared_settings(settings: dict[str, Any], pages: list[str]) -> dict[str, Any]:
    """The ``settings`` that a notebook in ``pages`` (two-digit prefixes) declares in its
    parameters cell: a run refuses a setting no notebook it runs declares."""
    from journey_lib.report import notebook_parameters

    declared = {
        name
        for page in pages
        for path in NOTEBOOKS.glob(f"{page}_*.ipynb")
        for name in notebook_parameters(path)
    }
    return {name: value for name, value in settings.items() if name in declared}


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


def recorded_figures(run: Path) -> dict:
    """The run folder's ``metrics.json`` on one level: ``"notebook.figure"`` -> value."""
    return pd.json_normalize(json.loads((run / "metrics.json").read_text()), sep=".").to_dict(
        "records"
    )[0]


def page_outputs(run: Path) -> dict[str, list[str]]:
    """Each page's text outputs (readings, tables, notes), in order."""
    pages = {}
    for notebook in sorted(run.glob("0*.ipynb")):
        texts = []
        for cell in json.loads(notebook.read_text())["cells"]:
            for output in cell.get("outputs", []):
                data = output.get("data", {})
                for kind in ("text/markdown", "text/plain"):
                    text = "".join(data.get(kind, ""))
                    if text and "Widget" not in text and "<Figure" not in text:
                        texts.append(text)
                if output.get("output_type") == "stream":
                    texts.append("".join(output["text"]))
        pages[notebook.stem] = texts
    return pages


def assert_same_figures(got: Path, want: Path, ignore: tuple[str, ...] = ()) -> int:
    """Every figure the run folder ``got`` recorded equals the run ``want``'s (but those
    named in ``ignore``); the number compared. Floats agree to 1e-9 (engines add sums in
    other orders), but the churn model's and customer value's, fitted on spend summed
    exactly: those to the bit."""
    expected, found = recorded_figures(want), recorded_figures(got)
    for key in ignore:
        expected.pop(key), found.pop(key)
    assert set(found) == set(expected)
    exact = [k for k in expected if k.startswith("04_churn_model.") or k.endswith("mean_clv")]
    for key, value in expected.items():
        if key in exact:
            assert found[key] == value, key
        elif isinstance(value, float) and isinstance(found[key], float):
            assert math.isclose(found[key], value, rel_tol=1e-9, abs_tol=1e-12), key
        else:
            assert found[key] == value, key
    return len(expected)


def assert_same_pages(got: Path, want: Path) -> int:
    """Every reading, table and note of every page of the run folder ``got`` is the text of
    the run ``want``'s; the number of outputs compared."""
    expected, found = page_outputs(want), page_outputs(got)
    assert list(found) == list(expected)
    for page, texts in expected.items():
        assert len(found[page]) == len(texts), page
        for ours, theirs in zip(found[page], texts, strict=True):
            assert ours == theirs, page
    return sum(len(t) for t in expected.values())
