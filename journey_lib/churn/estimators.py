"""The scikit-learn pipeline behind each churn model family: how features are encoded and
which estimator, with which settings, learns from them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline

__all__ = ["category_codes", "model_pipeline"]

#: Rows each tree of a forest on a large table is grown on (a bootstrap sample).
_FOREST_SAMPLE = 100_000


def category_codes(numeric: Sequence[str], categorical: Sequence[str]) -> ColumnTransformer:
    """The columns as gradient-boosted trees take them: numbers as they are, text as
    category codes that the trees split natively, unseen and missing ones as missing (which
    they also handle). At most 250 categories per column (the rarest are pooled): the
    booster's limit is 255.

    Examples
    --------
    >>> category_codes(["tenure_days"], ["plan"]).transformers[1][0]
    'categorical'
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OrdinalEncoder

    encoder = OrdinalEncoder(
        handle_unknown="use_encoded_value",
        unknown_value=np.nan,
        encoded_missing_value=np.nan,
        max_categories=250,
    )
    return ColumnTransformer(
        [("numeric", "passthrough", list(numeric)), ("categorical", encoder, list(categorical))],
        verbose_feature_names_out=False,
    )


def model_pipeline(
    model: str,
    numeric: tuple[str, ...],
    categorical: tuple[str, ...],
    random_state: int,
    *,
    large: int | None = None,
) -> Pipeline:
    """The unfitted scikit-learn pipeline of a model family (``"hgb"``, ``"logistic"`` or
    ``"forest"``): column encoding for ``numeric`` and ``categorical`` features, then the
    estimator, with the settings churn tables want.

    ``large``, the row count of a large table, asks for its settings (see
    :func:`journey_lib.churn.train`): the booster learns faster with bigger trees and at
    most 200 of them, and each tree of the forest sees a sample of at most 100,000 rows.

    Examples
    --------
    >>> model_pipeline("logistic", ("tenure_days",), ("plan",), 0).steps[-1][1]
    LogisticRegression(max_iter=5000, random_state=0)
    >>> model_pipeline("hgb", ("tenure_days",), (), 0, large=10**6)[-1].learning_rate
    0.1
    """
    # scikit-learn is imported when a model is built: about a second that importing
    # journey_lib (every notebook kernel and command) need not pay for.
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    if model == "hgb":
        columns = category_codes(numeric, categorical)
        # Small tables: shallow, slow-learning trees with early stopping, as churn tables are
        # small and noisy and scikit-learn's defaults overfit them (0.83 ROC AUC on the IBM
        # telco table against 0.85 with these). Large ones: such trees take 1,000 rounds and
        # half an hour at a million rows; trees of 31 leaves at rate 0.1 learn more in 200
        # rounds (benchmarks/README.md, "Churn model").
        booster = HistGradientBoostingClassifier(
            learning_rate=0.1 if large is not None else 0.03,
            max_depth=None if large is not None else 3,
            max_leaf_nodes=31,
            min_samples_leaf=40,
            l2_regularization=1.0,
            max_iter=200 if large is not None else 1000,
            early_stopping=True,
            n_iter_no_change=20 if large is not None else 50,
            categorical_features=[False] * len(numeric) + [True] * len(categorical),
            random_state=random_state,
        )
        return Pipeline([("columns", columns), ("model", booster)])
    numbers = make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
        StandardScaler(),
    )
    categories = make_pipeline(
        SimpleImputer(strategy="constant", fill_value="(missing)", keep_empty_features=True),
        OneHotEncoder(
            handle_unknown="infrequent_if_exist",
            min_frequency=5,
            max_categories=50,
            sparse_output=False,
        ),
    )
    columns = ColumnTransformer(
        [("numeric", numbers, list(numeric)), ("categorical", categories, list(categorical))],
        verbose_feature_names_out=False,
    )
    if model == "logistic":
        estimator: Any = LogisticRegression(max_iter=5000, random_state=random_state)
    else:
        estimator = RandomForestClassifier(
            n_estimators=300,
            min_samples_leaf=5,
            # A share, not a count: calibration fits the forest on part of the rows.
            max_samples=None if large is None else min(1.0, _FOREST_SAMPLE / large),
            n_jobs=-1,
            random_state=random_state,
        )
    return Pipeline([("columns", columns), ("model", estimator)])
