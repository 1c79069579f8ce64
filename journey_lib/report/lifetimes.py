"""The lifetimes behind the churn notebook's time-to-churn section: from a log or a customer
table, with the segment columns that split customers most, each in a way of its own."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..analytics.segments import customer_segments
from ..errors import JourneyDataError
from ..survival import customer_lifetimes, logrank_test
from ..widgets.base import table_segment_columns
from .formatting import figure_text
from .requirements import tenure_column
from .views import show_reading

if TYPE_CHECKING:
    from .data import ReportData

__all__ = ["report_lifetimes"]


def report_lifetimes(data: ReportData, limit: int = 3) -> tuple[pd.DataFrame, list[str], str]:
    """Each customer's lifetime for the churn notebook's time-to-churn section: the
    table (``customer_id``, ``duration``, ``churned`` and segment columns), up to
    ``limit`` segment columns, most telling first, and the durations' unit.

    On a log: :func:`journey_lib.survival.customer_lifetimes` with the profile
    (acquisition, churn event, inactivity; to the log's end), in days, and the segments of
    :meth:`~journey_lib.report.ReportData.segment_columns` (a customer table's columns,
    the first channel, the profile's properties). On a customer table: its tenure column
    (:func:`journey_lib.report.requirements.tenure_column`, in the table's own unit),
    customers without one left out and said so, and its segment-like columns.

    The segment columns are ordered by how much their survival curves differ (the
    log-rank chi-square per degree of freedom), so the first splits the curves most; a
    column whose levels add nothing to those before it (telco's "No internet service",
    in several columns alike) is skipped, so a model can tell the columns apart.

    Raises
    ------
    JourneyDataError
        When no customer has churned: no lifetime has ended, so there is no curve.
    """
    if data.table is not None:
        column = tenure_column(data.table)
        # A column already named duration is not the tenure: it gives way.
        life = data.table.drop(columns="duration", errors="ignore")
        life = life.rename(columns={column: "duration"})
        gone = life["duration"].isna() | (life["duration"] < 0)
        if gone.any():
            show_reading(
                f"*{figure_text(int(gone.sum()), 'count', min_cell=data.min_cell)} "
                f"customers have no {column} and are left out of time to churn.*"
            )
        life = life[~gone]
        candidates = [c for c in table_segment_columns(data.table) if c not in (column, "churned")]
        unit = column
    else:
        life = data.collect(customer_lifetimes(data.events, profile=data.profile))
        candidates = data.segment_columns()
        # One column at a time: the top segments of each, not of their combinations.
        for column in candidates:
            segments = data.collect(customer_segments(data.events, data.segments(column)))
            life = life.merge(segments, on="customer_id", how="left")
        unit = "days"
    life = life.assign(churned=life["churned"].astype(bool))
    if not life["churned"].any():
        raise JourneyDataError(
            f"no customer's lifetime has ended in churn among {len(life):,}, so there is "
            "no curve to draw yet"
        )
    strength = {}
    for c in candidates:
        values = life[c].astype("string").fillna("(missing)")
        # A column most customers lack (a review's rating) splits the havers from the
        # rest, not segments.
        if values.nunique() < 2 or (values == "(missing)").mean() > 0.5:
            continue
        test = logrank_test(life.assign(**{c: values}), by=c)
        strength[c] = test.statistic / max(test.dof, 1)
    by = _distinct_splits(life, sorted(strength, key=strength.get, reverse=True), limit)
    columns = ["customer_id", "duration", "churned", *by]
    return life[columns].reset_index(drop=True), by, unit


def _distinct_splits(life: pd.DataFrame, ordered: list[str], limit: int) -> list[str]:
    """The first ``limit`` of ``ordered`` whose levels, as indicator columns, are not sums
    of the chosen ones' (and a constant): each adds a way of splitting customers."""
    chosen: list[str] = []
    design = np.ones((len(life), 1))
    for column in ordered:
        if len(chosen) == limit:
            break
        # A missing value is a level of its own, as the Cox model reads it.
        values = life[column].astype("string").fillna("(missing)")
        levels = pd.get_dummies(values, drop_first=True).to_numpy(float)
        trial = np.column_stack((design, levels))
        if np.linalg.matrix_rank(trial) == trial.shape[1]:
            chosen.append(column)
            design = trial
    return chosen
