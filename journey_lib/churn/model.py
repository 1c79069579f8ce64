"""Churn models: scikit-learn pipelines that take features as they come.

:func:`train` builds a Pipeline that handles numeric, categorical and missing values itself,
optionally calibrated, and always fits the two baselines a churn model must beat: the base
rate (everyone gets the training churn rate) and a plain logistic regression.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from .._frames import check_choice, to_pandas
from ..errors import JourneyDataError
from ._inputs import as_numbers, as_text, binary_labels, tidy_features
from .evaluation import Evaluation, evaluate_scores

__all__ = ["CALIBRATIONS", "MODELS", "ChurnModel", "train"]

#: The model families :func:`train` builds.
MODELS: tuple[str, ...] = ("hgb", "logistic", "forest")
#: Calibration methods of :func:`train` (``calibrate=True`` is Platt's sigmoid).
CALIBRATIONS: tuple[str, ...] = ("sigmoid", "isotonic")


@dataclasses.dataclass
class ChurnModel:
    """A trained churn model, its baselines and what it was trained on.

    Attributes
    ----------
    pipeline : sklearn.pipeline.Pipeline or CalibratedClassifierCV
        The fitted estimator; ``predict_proba`` of a frame with ``features``.
    baseline : sklearn.pipeline.Pipeline
        A logistic regression on the same features (standardised, one-hot, missing values
        imputed with indicators): the simplest model worth beating.
    base_rate : float
        The training churn rate: what a model that knows nothing predicts.
    model : str
        ``"hgb"``, ``"logistic"`` or ``"forest"``.
    calibration : str or None
        ``"isotonic"``, ``"sigmoid"`` or None.
    features, numeric, categorical : tuple of str
        The columns used, and which of them were treated as numbers and as categories.
    training : dict
        ``rows``, ``churned`` and ``fingerprint`` (SHA-256 of the training features and
        labels).
    """

    pipeline: Any
    baseline: Pipeline
    base_rate: float
    model: str
    calibration: str | None
    features: tuple[str, ...]
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    training: dict[str, Any]

    def predict_proba(self, X: Any) -> pd.Series:
        """Each customer's churn probability, indexed as ``X``.

        Columns of ``X`` beyond the model's features are ignored; missing ones are an error.
        """
        frame = self._features(X)
        return pd.Series(
            self.pipeline.predict_proba(frame)[:, 1], index=frame.index, name="churn_probability"
        )

    def baseline_proba(self, X: Any) -> pd.Series:
        """The logistic baseline's churn probabilities, indexed as ``X``."""
        frame = self._features(X)
        return pd.Series(
            self.baseline.predict_proba(frame)[:, 1], index=frame.index, name="baseline"
        )

    def evaluate(
        self,
        X: Any,
        y: Any,
        *,
        n_bootstraps: int = 200,
        confidence: float = 0.95,
        random_state: int = 0,
    ) -> Evaluation:
        """Metrics of the model and its two baselines on held-out customers.

        ROC AUC, PR AUC, Brier score, log loss, expected calibration error, and capture and
        lift in the top 5, 10 and 20%, each with a bootstrap interval (see
        :mod:`journey_lib.churn.evaluation` for the definitions), plus the model's gains and
        calibration tables. The scorers are the model (named by its family), the
        ``logistic baseline`` and the ``base rate`` (the training churn rate for everyone).

        Examples
        --------
        >>> import pandas as pd
        >>> from journey_lib.churn import train
        >>> X = pd.DataFrame({"tenure": range(300)})
        >>> y = (X["tenure"] % 7 < 2).astype(int)
        >>> result = train(X, y, model="logistic").evaluate(X, y, n_bootstraps=20)
        >>> list(result.table().columns)
        ['logistic', 'logistic baseline', 'base rate']
        """
        labels = binary_labels(y)
        model = self.predict_proba(X).to_numpy()
        baseline = self.baseline_proba(X).to_numpy()
        if len(labels) != len(model):
            raise JourneyDataError(f"X has {len(model)} rows but y has {len(labels)}")
        return evaluate_scores(
            labels.to_numpy(),
            {
                self.model: model,
                "logistic baseline": baseline,
                "base rate": np.full(len(model), self.base_rate),
            },
            n_bootstraps=n_bootstraps,
            confidence=confidence,
            random_state=random_state,
        )

    def _features(self, X: Any) -> pd.DataFrame:
        """The model's columns of ``X``, typed as in training."""
        frame = to_pandas(X, what="X")
        missing = [c for c in self.features if c not in frame.columns]
        if missing:
            raise JourneyDataError(
                f"X lacks {len(missing)} of the model's features, e.g. {missing[:5]}; build it "
                f"the way the training features were built"
            )
        frame = frame[list(self.features)].copy()
        for name in self.numeric:
            frame[name] = as_numbers(frame[name])
        for name in self.categorical:
            frame[name] = as_text(frame[name])
        return frame

    def __repr__(self) -> str:
        rows, churned = self.training["rows"], self.training["churned"]
        return (
            f"ChurnModel({self.model}, calibration={self.calibration}, "
            f"{len(self.features)} features, trained on {rows:,} customers, {churned:,} churned)"
        )


def train(
    X: Any,
    y: Any,
    *,
    model: str = "hgb",
    calibrate: bool | str = True,
    random_state: int = 0,
) -> ChurnModel:
    """Fit a churn model on features ``X`` and 0/1 labels ``y``.

    Parameters
    ----------
    X : DataFrame
        One row per customer: the output of :func:`build_dataset` or any table (a
        one-row-per-customer churn table without its label column). Columns that look like
        identifiers are dropped with a warning, as are columns missing on every row; text
        whose values all parse as numbers (blanks aside) is read as numbers; other text is
        categorical. Missing values are handled by the pipeline.
    y : array-like
        1 for churned: 0/1, booleans, or text such as Yes/No or True/False.
    model : {"hgb", "logistic", "forest"}, default "hgb"
        Histogram gradient boosting (native missing values and categories), logistic
        regression (standardised, one-hot, imputed with missing indicators), or a random
        forest (imputed, one-hot).
    calibrate : bool or {"sigmoid", "isotonic"}, default True
        Wrap the model in ``CalibratedClassifierCV`` over five stratified folds. True means
        Platt's sigmoid, which improved the default model's Brier score on the telecom
        table and on simulated logs (it can cost a random forest a little: check
        :meth:`ChurnModel.evaluate`); isotonic regression is more flexible and needs
        thousands of churners not to overfit.
    random_state : int, default 0
        Seeds everything random, so that training is repeatable.

    Returns
    -------
    ChurnModel

    Raises
    ------
    JourneyDataError
        When ``y`` has one class only, missing or unreadable labels, lengths differ, or no
        usable feature is left.

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_lib.churn import train
    >>> X = pd.DataFrame({"tenure": range(200), "plan": ["a", "b"] * 100})
    >>> y = (X["tenure"] < 60).astype(int)
    >>> fitted = train(X, y, model="logistic")
    >>> fitted.categorical, round(fitted.base_rate, 2)
    (('plan',), 0.3)
    >>> bool(fitted.predict_proba(X.head(3)).gt(0.5).all())
    True
    """
    check_choice("model", model, MODELS)
    frame = tidy_features(X)
    labels = binary_labels(y)
    if len(labels) != len(frame):
        raise JourneyDataError(f"X has {len(frame)} rows but y has {len(labels)}")
    if isinstance(y, pd.Series) and y.index.equals(frame.index):
        labels.index = frame.index
    else:
        labels = labels.set_axis(frame.index)
    numeric = tuple(c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c]))
    categorical = tuple(c for c in frame.columns if c not in numeric)

    estimator = _pipeline(model, numeric, categorical, random_state)
    calibration = None
    if calibrate is not False:
        calibration = "sigmoid" if calibrate is True else calibrate
        check_choice("calibrate", calibration, (True, False, *CALIBRATIONS))
        rarer = int(min(labels.sum(), len(labels) - labels.sum()))
        folds = StratifiedKFold(n_splits=min(5, rarer), shuffle=True, random_state=random_state)
        estimator = CalibratedClassifierCV(estimator, method=calibration, cv=folds)
    estimator.fit(frame, labels)
    baseline = _pipeline("logistic", numeric, categorical, random_state)
    baseline.fit(frame, labels)
    training = {
        "rows": len(frame),
        "churned": int(labels.sum()),
        "fingerprint": fingerprint(frame, labels),
    }
    return ChurnModel(
        pipeline=estimator,
        baseline=baseline,
        base_rate=float(labels.mean()),
        model=model,
        calibration=calibration,
        features=tuple(frame.columns),
        numeric=numeric,
        categorical=categorical,
        training=training,
    )


def fingerprint(X: pd.DataFrame, y: pd.Series) -> str:
    """SHA-256 of the features and labels (values, index, column names): the same data
    gives the same fingerprint on any machine."""
    digest = hashlib.sha256()
    digest.update("\x1f".join(X.columns).encode())
    hashed = pd.util.hash_pandas_object(X, index=True).to_numpy()
    digest.update(hashed.tobytes())
    digest.update(np.asarray(y, dtype="int64").tobytes())
    return digest.hexdigest()


def _pipeline(
    model: str, numeric: tuple[str, ...], categorical: tuple[str, ...], random_state: int
) -> Pipeline:
    if model == "hgb":
        # Categories as codes that the booster splits natively; unseen and missing ones as
        # missing, which it also handles. At most 255 categories per column (the rarest
        # are pooled), its limit.
        encoder = OrdinalEncoder(
            handle_unknown="use_encoded_value",
            unknown_value=np.nan,
            encoded_missing_value=np.nan,
            max_categories=250,
        )
        columns = ColumnTransformer(
            [
                ("numeric", "passthrough", list(numeric)),
                ("categorical", encoder, list(categorical)),
            ],
            verbose_feature_names_out=False,
        )
        # Shallow, slow-learning trees with early stopping: churn tables are small and
        # noisy, and scikit-learn's defaults overfit them (0.83 ROC AUC on the IBM telco
        # table against 0.85 with these).
        booster = HistGradientBoostingClassifier(
            learning_rate=0.03,
            max_depth=3,
            min_samples_leaf=40,
            l2_regularization=1.0,
            max_iter=1000,
            early_stopping=True,
            n_iter_no_change=50,
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
            n_estimators=300, min_samples_leaf=5, n_jobs=-1, random_state=random_state
        )
    return Pipeline([("columns", columns), ("model", estimator)])
