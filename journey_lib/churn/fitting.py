"""How :func:`journey_lib.churn.train` fits a model: settings for the size of the table.

A small table (under :data:`LARGE` rows) gets the settings that make the churn quality bars
on small, noisy tables: a slow-learning booster of shallow trees, calibrated over five
stratified folds, so that every row is used to fit and to calibrate. On a large table those
cost half an hour at a million rows (benchmarks/README.md, "Churn model") and buy nothing
that the rows themselves do not: there the booster learns faster with bigger trees, it is
fitted once and calibrated on a held-out stratified share (10%, at most 100,000 rows), and
the logistic baseline, a reference rather than the model, learns from a stratified sample of
100,000 rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline

from ..errors import JourneyDataError
from .estimators import model_pipeline

__all__ = ["LARGE", "SETTINGS", "fit"]

#: Rows from which ``settings="auto"`` fits with the large-table settings.
LARGE = 100_000
#: The choices of ``train(settings=...)``.
SETTINGS: tuple[str, ...] = ("auto", "small", "large")
#: Share of a large table held out to calibrate on, and the most rows it takes.
_CALIBRATION_SHARE, _CALIBRATION_ROWS = 0.1, 100_000
#: Rows of a large table the logistic baseline learns from.
_BASELINE_ROWS = 100_000


def fit(
    frame: pd.DataFrame,
    labels: pd.Series,
    *,
    model: str,
    calibration: str | None,
    settings: str,
    numeric: tuple[str, ...],
    categorical: tuple[str, ...],
    random_state: int,
) -> tuple[Any, Pipeline, dict[str, Any]]:
    """The fitted model, the fitted logistic baseline and how they were fitted.

    Parameters
    ----------
    frame, labels : DataFrame, Series
        Tidy features and 0/1 labels, aligned.
    model : {"hgb", "logistic", "forest"}
        The model family (:func:`journey_lib.churn.estimators.model_pipeline`).
    calibration : {"sigmoid", "isotonic"} or None
        How to calibrate, or not at all.
    settings : {"auto", "small", "large"}
        ``"auto"`` is ``"large"`` from :data:`LARGE` rows, ``"small"`` below.
    numeric, categorical : tuple of str
        The columns to treat as numbers and as categories.
    random_state : int
        Seeds the folds, the held-out share, the baseline's sample and the estimators.

    Returns
    -------
    estimator, baseline, details
        ``details`` holds ``settings`` (``"small"`` or ``"large"``), ``calibration_rows``
        (rows the calibration was fitted on, summed over folds; 0 without calibration) and
        ``baseline_rows``.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"tickets": [0, 1, 2, 3, 4] * 400})
    >>> y = (X["tickets"] >= 3).astype(int)
    >>> _, _, details = fit(X, y, model="hgb", calibration="sigmoid", settings="large",
    ...                     numeric=("tickets",), categorical=(), random_state=0)
    >>> details
    {'settings': 'large', 'calibration_rows': 200, 'baseline_rows': 2000}
    """
    large = settings == "large" or (settings == "auto" and len(frame) >= LARGE)
    rarer = int(min(labels.sum(), len(labels) - labels.sum()))
    estimator: Any = model_pipeline(
        model, numeric, categorical, random_state, large=len(frame) if large else None
    )
    calibration_rows = 0
    if calibration is not None:
        if large:
            share = min(_CALIBRATION_SHARE, _CALIBRATION_ROWS / len(frame))
            if rarer * share < 1:
                raise JourneyDataError(
                    f"the large-table settings calibrate on a held-out {share:.0%} of the "
                    f"rows, which would hold no customer of the rarer label ({rarer:,} in "
                    f"{len(frame):,} rows); train with settings='small'"
                )
            kept, held = train_test_split(
                np.arange(len(frame)),
                test_size=share,
                stratify=labels,
                random_state=random_state,
            )
            folds: Any = [(kept, held)]
            calibration_rows = len(held)
        else:
            folds = StratifiedKFold(n_splits=min(5, rarer), shuffle=True, random_state=random_state)
            calibration_rows = len(frame)
        estimator = CalibratedClassifierCV(estimator, method=calibration, cv=folds)
    estimator.fit(frame, labels)
    baseline = model_pipeline("logistic", numeric, categorical, random_state)
    if large and len(frame) > _BASELINE_ROWS:
        sample, _ = train_test_split(
            np.arange(len(frame)),
            train_size=_BASELINE_ROWS,
            stratify=labels,
            random_state=random_state,
        )
        baseline.fit(frame.iloc[np.sort(sample)], labels.iloc[np.sort(sample)])
    else:
        baseline.fit(frame, labels)
    details = {
        "settings": "large" if large else "small",
        "calibration_rows": calibration_rows,
        "baseline_rows": min(len(frame), _BASELINE_ROWS) if large else len(frame),
    }
    return estimator, baseline, details
