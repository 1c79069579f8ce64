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

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import JourneyDataError
from .estimators import model_pipeline

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

__all__ = ["LARGE", "SETTINGS", "fit"]

#: Rows from which ``settings="auto"`` fits with the large-table settings.
LARGE = 100_000
#: The choices of ``train(settings=...)``.
SETTINGS: tuple[str, ...] = ("auto", "small", "large")
#: Share of a large table held out to calibrate on, and the most rows it takes.
_CALIBRATION_SHARE, _CALIBRATION_ROWS = 0.1, 100_000
#: Rows of a large table the logistic baseline learns from.
_BASELINE_ROWS = 100_000
#: Fewest customers of the rarer label the held-out share must hold to calibrate on.
_CALIBRATION_RARER = 20


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
        ``"auto"`` is ``"large"`` from :data:`LARGE` rows, ``"small"`` below, and also
        ``"small"`` when calibrating on a held-out share would leave fewer than 20
        customers of the rarer label to calibrate on.
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
    rarer = int(min(labels.sum(), len(labels) - labels.sum()))
    share = min(_CALIBRATION_SHARE, _CALIBRATION_ROWS / len(frame))
    too_few = calibration is not None and rarer * share < _CALIBRATION_RARER
    large = settings == "large" or (settings == "auto" and len(frame) >= LARGE and not too_few)
    if large and too_few:
        raise JourneyDataError(
            f"the large-table settings calibrate on a held-out {share:.1%} of the rows, which "
            f"would hold about {rarer * share:.0f} customer(s) of the rarer label ({rarer:,} in "
            f"{len(frame):,} rows), fewer than {_CALIBRATION_RARER}; train with "
            f"settings='small' or calibrate=False"
        )
    estimator: Any = model_pipeline(
        model, numeric, categorical, random_state, large=len(frame) if large else None
    )
    calibration_rows = 0
    if calibration is not None and large:
        kept, held = _split(labels, test_size=share, random_state=random_state)
        estimator.fit(frame.iloc[kept], labels.iloc[kept])
        # Frozen, the fitted model is calibrated on the held-out rows alone (and the saved
        # file holds no split indices).
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.frozen import FrozenEstimator

        estimator = CalibratedClassifierCV(FrozenEstimator(estimator), method=calibration)
        estimator.fit(frame.iloc[held], labels.iloc[held])
        calibration_rows = len(held)
    elif calibration is not None:
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.model_selection import StratifiedKFold

        folds = StratifiedKFold(n_splits=min(5, rarer), shuffle=True, random_state=random_state)
        estimator = CalibratedClassifierCV(estimator, method=calibration, cv=folds)
        estimator.fit(frame, labels)
        calibration_rows = len(frame)
    else:
        estimator.fit(frame, labels)
    baseline = model_pipeline("logistic", numeric, categorical, random_state)
    rows = np.arange(len(frame))
    # A stratified sample needs two rows left out and two of each label; short of that the
    # table is barely over the sample's size and the baseline takes it all.
    if large and len(frame) - _BASELINE_ROWS >= 2 and rarer >= 2:
        rows, _ = _split(labels, train_size=_BASELINE_ROWS, random_state=random_state)
    baseline.fit(frame.iloc[rows], labels.iloc[rows])
    details = {
        "settings": "large" if large else "small",
        "calibration_rows": calibration_rows,
        "baseline_rows": len(rows),
    }
    return estimator, baseline, details


def _split(labels: pd.Series, **size: Any) -> tuple[np.ndarray, np.ndarray]:
    """Row positions of a stratified split of ``labels``, each side in row order."""
    from sklearn.model_selection import train_test_split

    first, second = train_test_split(np.arange(len(labels)), stratify=labels, **size)
    return np.sort(first), np.sort(second)
