"""What the breakdown (by=) tests share: simulated logs with a platform that changes over a
customer's life, and the defining property of a breakdown as a reference, each segment's
block being the function run without ``by`` on that segment's customers alone.

Used by tests/test_segments_funnels.py, _progression.py, _rfm.py, _loyalty.py and
_retention.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from engines import assert_same_frame

import journey_lib as jl

#: The platforms a simulated row may be on (or on none).
PLATFORMS = ("web", "app", "tv", "kiosk")


def with_platform(
    events: pd.DataFrame, seed: int = 0, platforms: tuple[str, ...] = PLATFORMS
) -> pd.DataFrame:
    """``events`` with a text ``platform`` drawn at random for each row, so that it changes
    over a customer's life: one of ``platforms`` or missing, each equally likely."""
    rng = np.random.default_rng(seed)
    drawn = rng.choice(np.array([*platforms, ""], dtype=object), len(events))
    drawn[drawn == ""] = None
    return events.assign(platform=pd.Series(drawn, dtype="str", index=events.index))


def simulated(
    n: int,
    seed: int,
    *,
    columns: tuple[str, ...] | None = None,
    platforms: tuple[str, ...] = PLATFORMS,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A simulated log of ``n`` customers (its ``columns`` only, when given) with a random
    platform per row (:func:`with_platform`, the same seed), and its customer table."""
    sim = jl.simulate(n, seed=seed)
    events = sim.events if columns is None else sim.events[list(columns)]
    return with_platform(events, seed, platforms), sim.customers


def by_columns(by: Any) -> list[str]:
    """The segment columns a ``by=`` names."""
    if isinstance(by, jl.Segments):
        return by.columns
    return [by] if isinstance(by, str) else list(by)


def per_segment(
    func: Callable[..., pd.DataFrame],
    events: pd.DataFrame,
    *args: Any,
    by: Any,
    by_rule: str = "first",
    top: int | None = 10,
    framework_of: Callable[[Any], Any] | None = None,
    **options: Any,
) -> pd.DataFrame | None:
    """The defining property as a reference: for every segment of ``jl.customer_segments``,
    ``func`` run WITHOUT ``by`` on the log restricted to that segment's customers (with the
    segment's own framework when ``framework_of`` maps segment values to frameworks), the
    segment columns put first; blocks in segment order. None when there is no segment."""
    columns = by_columns(by)
    segments = jl.customer_segments(events, by, by_rule=by_rule, top=top)
    blocks = []
    for values, members in segments.groupby(columns, sort=True):
        alone = events[events["customer_id"].isin(members["customer_id"])]
        extra = {} if framework_of is None else {"framework": framework_of(values[0])}
        block = func(alone, *args, **options, **extra)
        for i, (column, value) in enumerate(zip(columns, values, strict=True)):
            block.insert(i, column, value)
        blocks.append(block)
    return pd.concat(blocks, ignore_index=True) if blocks else None


def check_blocks(got: pd.DataFrame, want: pd.DataFrame | None) -> None:
    """``got`` is ``want`` (:func:`per_segment`); without a segment, it is empty."""
    if want is None:  # no customer, no segment
        assert len(got) == 0
    else:
        assert_same_frame(got, want)
