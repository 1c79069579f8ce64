"""Date ranges: half-open bounds, open ends, every engine."""

from __future__ import annotations

import pandas as pd
import pytest
from engines import ENGINES, assert_same_frame, parity

import journey_lib as jl
from journey_lib.analytics.dates import within

LOG = pd.DataFrame(
    {
        "customer_id": [1, 1, 2, 2, 3],
        "timestamp": pd.to_datetime(
            [
                "2024-06-30 23:59:59.999999",
                "2024-07-01 00:00:00",
                "2024-07-15 12:00",
                "2024-08-01 00:00",
                "2024-08-01 00:00:00.000001",
            ],
            utc=True,
            format="ISO8601",
        ).as_unit("us"),
        "event": ["a", "b", "c", "d", "e"],
    }
)


@pytest.mark.parametrize(
    ("start", "end", "kept"),
    [
        ("2024-07-01", "2024-08-01", ["b", "c"]),
        (None, "2024-07-01", ["a"]),
        ("2024-08-01", "", ["d", "e"]),
        ("", None, ["a", "b", "c", "d", "e"]),
        ("2024-07-01 00:00:00.000001", "2024-08-01 00:00:00.000001", ["c", "d"]),
    ],
)
def test_bounds_are_half_open(start, end, kept):
    assert within(LOG, start, end)["event"].tolist() == kept


@pytest.mark.parametrize("engine", ENGINES)
def test_every_engine_keeps_the_same_rows(engine):
    want = within(LOG, "2024-07-01", "2024-08-01")
    got = parity(within, LOG, engine, "2024-07-01", "2024-08-01")
    assert_same_frame(got, want, sort_by=["event"])


def test_bad_bounds_are_named():
    with pytest.raises(jl.JourneyParameterError, match="must come after start"):
        within(LOG, "2024-08-01", "2024-07-01")
    with pytest.raises(jl.JourneyParameterError, match="start='soon' is not a date"):
        within(LOG, "soon")
