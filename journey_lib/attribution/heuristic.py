"""Rule-based credit: each converting path's conversions are split over its touches by a
weight computed with window functions over the path (any engine), then summed per label.

The rules are defined in :mod:`journey_lib.attribution`.
"""

from __future__ import annotations

import math
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd
from scipy import sparse

from .bootstrap import CreditFunction, customer_units
from .journeys import CONVERTING, KIND, NONE, PATH, STATE, TOUCHES, N, T, V

#: The rule-based models, in the order :func:`journey_lib.attribution.compare` shows them.
HEURISTICS: tuple[str, ...] = (
    "first_touch",
    "last_touch",
    "last_non_direct",
    "linear",
    "position_based",
    "time_decay",
)

_K = "_jl_k"  # the touch's position in its path, from 1


def credit_column(model: str, measure: str) -> str:
    """The internal column holding ``model``'s credit of ``measure`` (conversions, value)."""
    return f"_jl_{measure}_{model}"


def credit_table(
    rows: nw.LazyFrame,
    group: list[str],
    models: list[str],
    *,
    half_life_us: int,
    direct: str,
    per_customer: bool,
) -> nw.LazyFrame:
    """Credit of every model in ``models`` per (``group``, label), and per customer when
    ``per_customer`` (for the bootstrap), from :func:`.journeys.journey_rows`."""
    keys = [*group, "customer_id"]
    path = [*keys, PATH]
    touches = (
        rows.filter((nw.col(KIND) == 0) & (nw.col(CONVERTING) == 1))
        .with_columns(nw.lit(1, dtype=nw.Int64()).alias("_jl_one"))
        .with_columns(nw.col("_jl_one").cum_sum().over(*path, order_by=[T, STATE]).alias(_K))
    )
    extra = {}
    if "last_non_direct" in models:
        last_other = nw.when(nw.col(STATE) != direct).then(nw.col(_K)).max().over(*path)
        extra["_jl_target"] = last_other.fill_null(nw.col(TOUCHES))
    if "time_decay" in models:
        # Weights relative to the path's latest touch (1 there) are proportional to
        # 2^(-(conversion time - touch time) / half-life) and cannot all underflow to 0.
        age = nw.col(T).max().over(*path) - nw.col(T)
        extra["_jl_decay"] = (age * (-math.log(2) / half_life_us)).exp()
    weighted = touches.with_columns(**extra) if extra else touches
    if "time_decay" in models:
        decay = nw.col("_jl_decay")
        weighted = weighted.with_columns((decay / decay.sum().over(*path)).alias("_jl_decay"))
    weighted = weighted.with_columns(_weight(model).alias(f"_jl_w_{model}") for model in models)
    sources = {"conversions": nw.col(N), "value": nw.col(V)}
    measures = {
        credit_column(model, measure): nw.col(f"_jl_w_{model}") * source
        for model in models
        for measure, source in sources.items()
    }
    units = keys if per_customer else group
    credited = weighted.select(*units, STATE, **measures)
    # Touches on non-converting paths earn nothing, but list their labels (as Markov does)
    # and their customers among those the bootstrap draws from.
    idle = rows.filter((nw.col(KIND) == 0) & (nw.col(CONVERTING) == 0)).select(
        *units, STATE, **dict.fromkeys(measures, nw.lit(0.0, dtype=nw.Float64()))
    )
    # A conversion without a touch gives all its credit to NONE, whatever the model.
    empty = rows.filter((nw.col(KIND) == 1) & (nw.col(TOUCHES) == 0)).select(
        *units,
        nw.lit(NONE, dtype=nw.String()).alias(STATE),
        **{
            credit_column(model, measure): source.cast(nw.Float64())
            for model in models
            for measure, source in sources.items()
        },
    )
    return (
        nw.concat([credited, idle, empty], how="vertical")
        .group_by(*units, STATE)
        .agg(nw.col(name).sum() for name in measures)
    )


def _weight(model: str) -> nw.Expr:
    """The share of its path's conversions that a touch receives under ``model``."""
    k, m = nw.col(_K), nw.col(TOUCHES)
    if model == "first_touch":
        return (k == 1).cast(nw.Float64())
    if model == "last_touch":
        return (k == m).cast(nw.Float64())
    if model == "last_non_direct":
        return (k == nw.col("_jl_target")).cast(nw.Float64())
    if model == "linear":
        return 1.0 / m
    if model == "position_based":
        return (
            nw.when(m == 1)
            .then(1.0)
            .when(m == 2)
            .then(0.5)
            .when((k == 1) | (k == m))
            .then(0.4)
            .otherwise(0.2 / (m - 2))
        )
    return nw.col("_jl_decay")


def credit_function(
    table: pd.DataFrame, group: list[str], model: str
) -> tuple[list[tuple[Any, str]], int, CreditFunction]:
    """The labels (goal, label) of a collected :func:`credit_table`, how many customers it
    holds (1 when not per customer) and the function giving ``model``'s credit for
    customer weights: rule-based credit is a sum over customers, so a weighted sum."""
    units, n_units = customer_units(table)
    goals = table[group[0]] if group else pd.Series(None, index=table.index, dtype=object)
    codes, labels = pd.factorize(pd.MultiIndex.from_arrays([goals, table[STATE]]))
    shape = (n_units, len(labels))

    def matrix(measure: str) -> sparse.csr_array:
        values = table[credit_column(model, measure)].to_numpy(float)
        return sparse.csr_array((values, (units, codes)), shape=shape)

    conversions, value = matrix("conversions"), matrix("value")

    def credit(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (
            np.asarray(conversions.T @ weights.T).T,
            np.asarray(value.T @ weights.T).T,
        )

    return list(labels), n_units, credit
