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

import numpy as np
import pandas as pd

from ..errors import JourneyParameterError

__all__ = ["check_min_cell", "suppressed"]


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
    """Which cells of a table to hide: those from 1 to ``min_cell - 1`` (primary), and
    complements when a total is shown.

    Complements are the smallest shown non-zero cells, added one by one until at least two
    cells are hidden and the hidden cells hold ``min_cell`` or more together: the total
    minus the shown cells then gives away neither one hidden cell nor a group smaller than
    ``min_cell``. (A zero is never a complement: hiding it adds nothing to the group.)

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
    >>> suppressed(pd.Series([100, 1, 2, 0, 30]), 5).tolist()  # 1 + 2 < 5: add 30 too
    [False, True, True, False, True]
    >>> suppressed(counts, 0).any()
    np.False_
    """
    min_cell = check_min_cell(min_cell)
    hidden = (
        (counts > 0) & (counts < min_cell) if min_cell else pd.Series(False, index=counts.index)
    )
    if not hidden.any():
        return hidden
    # Complements in ascending order; a handful of cells at most, so a plain loop.
    for label in counts[~hidden & (counts > 0)].sort_values(kind="stable").index:
        if hidden.sum() >= 2 and counts[hidden].sum() >= min_cell:
            break
        hidden.loc[label] = True
    return hidden
