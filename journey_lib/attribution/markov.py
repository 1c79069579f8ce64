"""Markov-chain attribution: transitions counted with Narwhals (any engine), the absorbing
chain solved exactly with sparse linear algebra (scipy), removal effects turned into credit.

The model is defined in :mod:`journey_lib.attribution`. Every path contributes the chain
``start -> s_1 -> ... -> s_n -> (conversion | null)`` whose states are the tuples of the
last ``order`` touchpoints (padded with ``(start)``). From transition counts the chain's
probabilities are maximum-likelihood estimates; the conversion probability from the start
state solves ``(I - Q) x = r`` (``Q``: transitions among transient states, ``r``: into
conversion).
"""

from __future__ import annotations

from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.linalg import spsolve

from .bootstrap import CreditFunction, customer_units
from .journeys import (
    CONVERSION,
    CONVERTING,
    KIND,
    NONE,
    NULL,
    PATH,
    START,
    STATE,
    TOUCHES,
    N,
    T,
    V,
)

WEIGHT = "_jl_weight"
VALUE = "_jl_value_sum"


def from_columns(order: int) -> list[str]:
    return [f"_jl_from_{i}" for i in range(order)]


def to_columns(order: int) -> list[str]:
    return [f"_jl_to_{i}" for i in range(order)]


def transition_table(
    rows: nw.LazyFrame, group: list[str], order: int, *, per_customer: bool
) -> nw.LazyFrame:
    """Weighted transition counts between states of ``order`` touchpoints, per
    (``group``, from-state, to-state) and per customer when ``per_customer``.

    A converting path counts as many times as its instant has conversions and carries
    their value on its step into ``(conversion)``; a non-converting path counts once. A
    conversion without a touch is the transition ``start -> (conversion)``, kept so that
    it can be credited to ``(none)``; the chain itself leaves it out.
    """
    keys = [*group, "customer_id"]
    path = [*keys, PATH]
    units = keys if per_customer else group
    state = nw.col(STATE)
    lags = [
        state.shift(lag).over(*path, order_by=[T, STATE]).fill_null(START)
        for lag in range(order, 0, -1)
    ]
    window = [*lags, state]  # the last order + 1 touchpoints, oldest first
    converting = nw.col(CONVERTING) == 1
    weight = nw.when(converting).then(nw.col(N)).otherwise(1).cast(nw.Float64()).alias(WEIGHT)
    touches = rows.filter(nw.col(KIND) == 0).with_columns(
        *(lag.alias(f"_jl_lag_{i}") for i, lag in enumerate(window)),
        state.shift(-1).over(*path, order_by=[T, STATE]).is_null().alias("_jl_last"),
    )
    lagged = [nw.col(f"_jl_lag_{i}") for i in range(order + 1)]
    froms, tos = from_columns(order), to_columns(order)
    steps = touches.select(
        *units,
        *(c.alias(name) for c, name in zip(lagged[:-1], froms, strict=True)),
        *(c.alias(name) for c, name in zip(lagged[1:], tos, strict=True)),
        weight,
        nw.lit(0.0, dtype=nw.Float64()).alias(VALUE),
    )
    end = nw.when(converting).then(nw.lit(CONVERSION)).otherwise(nw.lit(NULL))
    ends = touches.filter(nw.col("_jl_last")).select(
        *units,
        *(c.alias(name) for c, name in zip(lagged[1:], froms, strict=True)),
        *(end.alias(name) for name in tos),
        weight,
        nw.when(converting).then(nw.col(V)).otherwise(0.0).cast(nw.Float64()).alias(VALUE),
    )
    empty = rows.filter((nw.col(KIND) == 1) & (nw.col(TOUCHES) == 0)).select(
        *units,
        *(nw.lit(START, dtype=nw.String()).alias(name) for name in froms),
        *(nw.lit(CONVERSION, dtype=nw.String()).alias(name) for name in tos),
        nw.col(N).cast(nw.Float64()).alias(WEIGHT),
        nw.col(V).cast(nw.Float64()).alias(VALUE),
    )
    return (
        nw.concat([steps, ends, empty], how="vertical")
        .group_by(*units, *froms, *tos)
        .agg(nw.col(WEIGHT).sum(), nw.col(VALUE).sum())
    )


class Chain:
    """The transitions of one goal's paths, indexed for repeated solving.

    ``table`` holds the rows of :func:`transition_table` for one goal; ``units`` the
    customer (0 when not per customer) of each row, among ``n_units``.
    """

    def __init__(self, table: pd.DataFrame, order: int, units: np.ndarray, n_units: int):
        froms, tos = from_columns(order), to_columns(order)
        pairs = pd.MultiIndex.from_frame(table[froms + tos].astype(object))
        codes, uniques = pd.factorize(pairs)
        n_pairs = len(uniques)
        self.counts = sparse.csr_array(
            (table[WEIGHT].to_numpy(float), (units, codes)), shape=(n_units, n_pairs)
        )
        self.values = sparse.csr_array(
            (table[VALUE].to_numpy(float), (units, codes)), shape=(n_units, n_pairs)
        )
        origin = [tuple(p[:order]) for p in uniques]
        target = [tuple(p[order:]) for p in uniques]
        start = (START,) * order
        self.ends = np.array([t[-1] for t in target], dtype=object)
        terminal = np.isin(self.ends, [CONVERSION, NULL])
        # The transition start -> (conversion) is a conversion without a touch.
        self.empty = np.array([o == start for o in origin]) & (self.ends == CONVERSION)
        inner = [t for t, end in zip(target, terminal, strict=True) if not end]
        self.states = list(dict.fromkeys([start, *origin, *inner]))
        index = {s: i for i, s in enumerate(self.states)}
        self.source = np.array([index[o] for o in origin], dtype=np.int64)
        self.target = np.array(
            [-1 if end else index[t] for t, end in zip(target, terminal, strict=True)],
            dtype=np.int64,
        )
        self.channels = sorted({c for s in self.states for c in s} - {START})
        self.contains = np.array(
            [[channel in s for s in self.states] for channel in self.channels], dtype=bool
        ).reshape(len(self.channels), len(self.states))

    @property
    def labels(self) -> list[str]:
        """The channels, then ``(none)`` when some conversion had no touch."""
        return self.channels + [NONE] * bool(self.empty.any())

    def credit(self, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Credit of conversions and value per label, one row per row of ``weights``."""
        counts = np.asarray(self.counts.T @ weights.T).T
        values = np.asarray(self.values.T @ weights.T).T
        converted = (self.ends == CONVERSION) & ~self.empty
        touched = counts[:, converted].sum(axis=1)
        touched_value = values[:, converted].sum(axis=1)
        shares = np.array([self.removal_shares(row) for row in counts])
        conversions = shares * touched[:, None]
        value = shares * touched_value[:, None]
        if self.empty.any():
            conversions = np.column_stack([conversions, counts[:, self.empty].sum(axis=1)])
            value = np.column_stack([value, values[:, self.empty].sum(axis=1)])
        return conversions, value

    def removal_effects(self, counts: np.ndarray) -> np.ndarray:
        """Each channel's removal effect ``1 - P(conversion | channel removed) /
        P(conversion)`` for one set of transition counts; zeros when P(conversion) is 0.

        Removing a channel sends every state containing it to null, so the chain without
        it converts exactly along the paths of the full chain that avoid those states:
        P(conversion | removed) = P(convert and never visit such a state) <= P(conversion).
        Every effect therefore lies in [0, 1] (clipping only removes rounding), and they
        sum to at least 1: each converting path visits the state of its first touchpoint,
        so the effects' numerators, P(convert and visit channel c), cover P(conversion).
        """
        n = len(self.states)
        chain = ~self.empty
        source, target, count = self.source[chain], self.target[chain], counts[chain]
        leaving = np.bincount(source, weights=count, minlength=n)
        probability = np.divide(
            count, leaving[source], out=np.zeros_like(count), where=leaving[source] > 0
        )
        steps = target >= 0
        into = sparse.csr_array((probability[steps], (source[steps], target[steps])), shape=(n, n))
        system = (sparse.eye_array(n, format="csr") - into).tocsr()
        converts = (self.ends[chain] == CONVERSION) & ~steps
        r = np.bincount(source[converts], weights=probability[converts], minlength=n)
        whole = _from_start(system, r, np.ones(n, dtype=bool))
        if whole <= 0:
            return np.zeros(len(self.channels))
        kept = [_from_start(system, r, ~row) for row in self.contains]
        return np.clip(1.0 - np.array(kept) / whole, 0.0, 1.0)

    def removal_shares(self, counts: np.ndarray) -> np.ndarray:
        """Removal effects normalised to sum to 1 (zeros when nothing converts)."""
        effects = self.removal_effects(counts)
        total = effects.sum()
        return effects / total if total > 0 else effects


def _from_start(system: sparse.csr_array, r: np.ndarray, keep: np.ndarray) -> float:
    """The probability of conversion from the start state (index 0, always kept) in the
    chain restricted to the ``keep`` states: the others are null."""
    index = np.flatnonzero(keep)
    return float(spsolve(system[index][:, index].tocsc(), r[index])[0])


def credit_function(
    table: pd.DataFrame, group: list[str], order: int
) -> tuple[list[tuple[Any, str]], int, CreditFunction]:
    """The labels (goal, label) of a collected :func:`transition_table`, how many
    customers it holds (1 when not per customer) and the function giving Markov credit for
    customer weights: one :class:`Chain` per goal, all weighting the same customers."""
    units, n_units = customer_units(table)
    goals = table[group[0]].to_numpy() if group else np.full(len(table), None)
    per_goal = [
        (goal, Chain(table[goals == goal], order, units[goals == goal], n_units))
        for goal in pd.unique(goals)
    ]
    labels = [(goal, label) for goal, chain in per_goal for label in chain.labels]

    def credit(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        empty = np.zeros((len(weights), 0))
        parts = [(empty, empty)] + [chain.credit(weights) for _, chain in per_goal]
        return np.hstack([c for c, _ in parts]), np.hstack([v for _, v in parts])

    return labels, n_units, credit
