"""The lifetimes behind the churn notebook's time-to-churn section: from a log or a customer
table, with the segment columns that split customers most, each in a way of its own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..analytics.segments import customer_segments
from ..churn.explain import feature_groups
from ..errors import JourneyDataError
from ..survival import CoxModel, compare_predictions, customer_lifetimes, logrank_test
from ..widgets.base import table_segment_columns
from .formatting import figure_text
from .requirements import tenure_column
from .views import show_reading

if TYPE_CHECKING:
    from .data import ReportData

__all__ = ["holdout_comparison", "lifetimes_after", "report_lifetimes"]


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


def _first_independent(
    blocks: Iterator[tuple[str, np.ndarray]], rows: int, limit: int
) -> list[str]:
    """The names of the first ``limit`` blocks of columns that are neither empty nor sums
    of the blocks chosen before them (and a constant): what a Cox model can tell apart."""
    chosen: list[str] = []
    design = np.ones((rows, 1))
    for name, block in blocks:
        if len(chosen) == limit:
            break
        trial = np.column_stack((design, block))
        if block.shape[1] and np.linalg.matrix_rank(trial) == trial.shape[1]:
            chosen.append(name)
            design = trial
    return chosen


def _distinct_splits(life: pd.DataFrame, ordered: list[str], limit: int) -> list[str]:
    """The first ``limit`` of ``ordered`` whose levels, as indicator columns, are not sums
    of the chosen ones' (and a constant): each adds a way of splitting customers."""
    # A missing value is a level of its own, as the Cox model reads it.
    levels = (
        (c, pd.get_dummies(life[c].astype("string").fillna("(missing)"), drop_first=True))
        for c in ordered
    )
    return _first_independent(((c, d.to_numpy(float)) for c, d in levels), len(life), limit)


def holdout_comparison(
    data: ReportData,
    probability: Any,
    X_train: pd.DataFrame,
    X_test: pd.DataFrame,
    cutoff: Any,
    horizon: Any,
    groups: list[str],
    *,
    features: int = 6,
) -> pd.DataFrame:
    """The churn model against a survival model on the page's held-out customers.

    Each customer's time from the cutoff to churn is their lifetime
    (:func:`journey_lib.survival.customer_lifetimes` with the profile) past the cutoff: a
    churn dated at the last touchpoint before the inactivity that ended the lifetime may
    fall before the cutoff, and counts as at once. A Cox model (ridge 0.1) learns it on the
    training customers from the first column of each of the ``features`` most important
    feature ``groups`` (the churn model's, most important first; missing values as the
    training median; a constant column, or one repeating others, skipped); on the held-out
    ones its
    ``1 - S(horizon)`` goes beside the churn model's ``probability`` of churning by then, in
    :func:`journey_lib.survival.compare_predictions` (concordance, time-dependent AUC and
    Brier score at the horizon; the integrated Brier score of the Cox model's curves).

    Raises
    ------
    JourneyDataError
        On a customer table (its label has no horizon to compare at), or when no feature
        is left for the Cox model.
    """
    if data.events is None:
        raise JourneyDataError("a customer table's churn label has no horizon to compare at")
    life = data.collect(customer_lifetimes(data.events, profile=data.profile))
    outcome = lifetimes_after(life, cutoff)
    days = float(pd.Timedelta(horizon) / pd.Timedelta(days=1))
    columns = feature_groups(list(X_train.columns))
    candidates = [columns[g][0] for g in groups if g in columns]
    candidates = [c for c in candidates if pd.api.types.is_numeric_dtype(X_train[c])]
    # Every held-out customer is judged: a missing feature (no purchase yet: no recency)
    # takes the training customers' median, for the Cox model only.
    medians = X_train[candidates].median()
    train = X_train[candidates].fillna(medians).join(outcome, how="inner")
    test = X_test[candidates].fillna(medians).join(outcome, how="inner")
    chosen = _independent(train, candidates, features)
    if not chosen:
        raise JourneyDataError("no feature varies among the training customers")
    cox = CoxModel(penalizer=0.1).fit(train[[*chosen, "duration", "churned"]], features=chosen)
    grid = np.linspace(days / 10, days, 10)  # its last point is the horizon, exactly
    curves = cox.predict_survival(test, grid.tolist())
    chance = pd.Series(np.asarray(probability, float), index=X_test.index).loc[test.index]
    return compare_predictions(
        test["duration"],
        test["churned"],
        {"churn model": chance.to_numpy(), "Cox model": curves},
        days,
        train=(train["duration"], train["churned"]),
    )


def _independent(frame: pd.DataFrame, ordered: list[str], limit: int) -> list[str]:
    """The first ``limit`` of ``ordered`` that are not constant or sums of those before
    them (and a constant): the Cox model refuses such a feature."""
    standard = (
        (c, ((v - v.mean()) / v.std())[:, None] if v.std() > 0 else np.empty((len(v), 0)))
        for c, v in ((c, frame[c].to_numpy(float)) for c in ordered)
    )
    return _first_independent(standard, len(frame), limit)


def lifetimes_after(life: pd.DataFrame, cutoff: Any) -> pd.DataFrame:
    """Each customer's days from ``cutoff`` to the end of their lifetime (churn, or the
    log's end when still there), at least 0.001 (a churn dated before the cutoff, at the last
    touchpoint before the inactivity, counts as at once), and whether it ended in churn;
    indexed by ``customer_id``. ``life`` is :func:`journey_lib.survival.customer_lifetimes`'
    table.

    Examples
    --------
    >>> life = pd.DataFrame({"customer_id": [1, 2, 3],
    ...     "acquired_at": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-01-15"], utc=True),
    ...     "duration": [100.0, 200.0, 30.0], "churned": [True, False, True]})
    >>> after = lifetimes_after(life, "2024-03-01")
    >>> after["duration"].tolist(), after["churned"].tolist()
    ([40.0, 171.0, 0.001], [1, 0, 1])
    """
    start = pd.Timestamp(cutoff)
    start = start.tz_localize("UTC") if start.tzinfo is None else start.tz_convert("UTC")
    since = (life["acquired_at"] - start) / pd.Timedelta(days=1)
    return pd.DataFrame(
        {
            "duration": (since + life["duration"]).clip(lower=1e-3).to_numpy(),
            "churned": life["churned"].astype(int).to_numpy(),
        },
        index=pd.Index(life["customer_id"], name="customer_id"),
    )
