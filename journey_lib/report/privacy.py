"""Small counts hidden from a report: primary and complementary suppression.

With ``min_cell = k`` (a run parameter; 0 turns it off), a count from 1 to ``k - 1`` is a
cell a reader could use to single out customers, so it is hidden (primary suppression); a
zero singles out nobody and is shown. A total
of the cells is usually shown too, and a single hidden cell could then be recovered as the
total minus the others; so when exactly one cell of a table is hidden, the smallest other
cell is hidden with it (complementary suppression). Two or more hidden cells only reveal
their sum.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..errors import JourneyParameterError

__all__ = ["check_min_cell", "hide_counts", "suppressed"]


def check_min_cell(min_cell: object) -> int:
    """``min_cell`` as a whole number of 0 or more, else a JourneyParameterError.

    Examples
    --------
    >>> check_min_cell(5)
    5
    """
    if isinstance(min_cell, bool) or not isinstance(min_cell, int | np.integer) or min_cell < 0:
        raise JourneyParameterError(
            f"min_cell must be a whole number of customers, 0 or more (0 hides nothing); "
            f"got {min_cell!r}"
        )
    return int(min_cell)


def suppressed(counts: pd.Series, min_cell: int) -> pd.Series:
    """Which cells of a table to hide: those from 1 to ``min_cell - 1``, and the next
    smallest when only one would be hidden and a total is shown.

    Parameters
    ----------
    counts : Series
        The customers in each cell of one table whose total is also shown.
    min_cell : int
        The privacy threshold (0: hide nothing).

    Returns
    -------
    Series of bool
        True where the cell is hidden, aligned with ``counts``.

    Examples
    --------
    >>> counts = pd.Series([120, 3, 40, 15], index=["a", "b", "c", "d"])
    >>> suppressed(counts, 5).tolist()  # "b" is small; "d", the next smallest, hides with it
    [False, True, False, True]
    >>> suppressed(counts, 0).any()
    np.False_
    """
    min_cell = check_min_cell(min_cell)
    hidden = (
        (counts > 0) & (counts < min_cell) if min_cell else pd.Series(False, index=counts.index)
    )
    if hidden.sum() == 1 and len(counts) > 1:
        others = counts[~hidden]
        hidden.loc[others.index[np.argmin(others.to_numpy())]] = True
    return hidden


def hide_counts(recorded: Mapping[str, Any], min_cell: int) -> dict[str, Any]:
    """Figures recorded by notebooks (``metrics.json``'s ``{notebook: {name: value}}``) with
    every whole number from 1 to ``min_cell - 1`` written ``"<min_cell"``.

    Whole numbers are what notebooks record as counts (customers, contacts, conversions
    ...); booleans, text and fractions are left as they are.

    Examples
    --------
    >>> hide_counts({"01": {"customers": 3, "rate": 0.2, "rows_set_aside": 0}}, 5)
    {'01': {'customers': '<5', 'rate': 0.2, 'rows_set_aside': 0}}
    """
    min_cell = check_min_cell(min_cell)

    def hide(value: Any) -> Any:
        small = isinstance(value, int) and not isinstance(value, bool) and 0 < value < min_cell
        return f"<{min_cell}" if small else value

    return {
        notebook: {name: hide(v) for name, v in figures.items()}
        if isinstance(figures, Mapping)
        else figures
        for notebook, figures in recorded.items()
    }
