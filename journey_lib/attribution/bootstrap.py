"""Bootstrap intervals over customers, vectorised: every replicate reweights the same
per-customer aggregates (transition counts, rule-based credit) by how many times each
customer was drawn, instead of rebuilding paths from the log."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

# A function of customer weights (replicates x customers) giving the credit of conversions
# and of value (replicates x labels).
CreditFunction = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]

# Customer weights drawn at a time: bounds memory to about this many integers.
_CHUNK_CELLS = 2_000_000


def customer_units(table: pd.DataFrame) -> tuple[np.ndarray, int]:
    """Each row's customer as a code 0..n-1, and n: the units a replicate draws. A table
    aggregated over customers (no ``customer_id``) is one unit.

    Codes follow the sorted ids, not the rows' order, so a seed draws the same customers
    whichever engine built the table (and in whatever order it returned its rows)."""
    if "customer_id" not in table.columns:
        return np.zeros(len(table), dtype=np.int64), 1
    codes, customers = pd.factorize(table["customer_id"], sort=True)
    return codes, len(customers)


def replicates(
    credit: CreditFunction, n_units: int, n_boot: int, seed: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Credit of conversions and value in ``n_boot`` bootstrap replicates (replicates x
    labels). Each replicate draws ``n_units`` customers with replacement (multinomial
    counts per customer)."""
    rng = np.random.default_rng(seed)
    chunk = max(1, _CHUNK_CELLS // n_units)
    uniform = np.full(n_units, 1.0 / n_units)
    conversions, value = [], []
    for done in range(0, n_boot, chunk):
        draws = rng.multinomial(n_units, uniform, size=min(chunk, n_boot - done))
        c, v = credit(draws.astype(float))
        conversions.append(c)
        value.append(v)
    return np.vstack(conversions), np.vstack(value)


def percentile_interval(samples: np.ndarray, ci: float) -> tuple[np.ndarray, np.ndarray]:
    """The percentile bootstrap interval of each column: its (1 - ci) / 2 and
    (1 + ci) / 2 quantiles (linear interpolation)."""
    lower, upper = np.quantile(samples, [(1 - ci) / 2, (1 + ci) / 2], axis=0)
    return lower, upper
