"""Uplift models: the change an offer makes to each customer's chance of an outcome, learnt
from a randomised campaign with scikit-learn models.

The **uplift** of a customer with features :math:`x` is
:math:`\\tau(x) = P(y = 1 \\mid x, \\text{treated}) - P(y = 1 \\mid x, \\text{held out})`. For
churn (``y`` = churned) a negative uplift is an offer that keeps the customer; a positive
one, a contact that pushes them away. Three ways to learn it (Künzel et al. 2019):

* **T-learner**: one classifier on the treated, one on the held out; their difference.
* **S-learner**: one classifier with the treatment as a feature; its prediction treated
  less its prediction held out.
* **X-learner**: the T-learner's classifiers :math:`\\mu_1, \\mu_0`; then the imputed
  effects, :math:`y - \\mu_0(x)` for the treated and :math:`\\mu_1(x) - y` for the held out,
  each learnt by a regressor :math:`\\tau_1, \\tau_0`; combined as
  :math:`e \\, \\tau_0(x) + (1 - e) \\, \\tau_1(x)`, :math:`e` the treated share (the
  propensity, constant in a randomised campaign).

**Balance**: in a randomised campaign the two arms have alike features. Each numeric
feature's standardised mean difference (the difference of the arms' means over the pooled
standard deviation) and Welch's t-test p-value, adjusted for testing every feature
(Benjamini-Hochberg), are kept in ``balance_``. A feature whose difference is both large
(above 0.1 in size) and beyond chance (adjusted p below 0.01) gets a warning naming it:
the campaign may not have been randomised, and the uplift may then mix the offer's effect
with who got it. Both conditions, because a small randomised campaign differs by more than
0.1 by chance (rossi's randomised aid: 0.13 in race).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from narwhals.typing import IntoFrame

from .._engine import to_pandas
from .._intervals import benjamini_hochberg
from ..churn._inputs import as_numbers, as_text, tidy_features
from ..churn.estimators import category_codes
from ..errors import (
    JourneyDataError,
    JourneyDataWarning,
    JourneyNotFittedError,
    check_choice,
)

__all__ = ["DEFAULT_TREES", "LEARNERS", "UpliftModel", "fit"]

#: The learners :func:`fit` knows.
LEARNERS: tuple[str, ...] = ("t", "s", "x")
#: Standardised mean difference above which a feature is called unbalanced...
IMBALANCE = 0.1
#: ...when its adjusted p-value is also below this.
BEYOND_CHANCE = 0.01
#: The learners' default trees, classifier and regressor alike: shallow, at least 50
#: customers a leaf, a slow rate and early stopping on a tenth held aside. A campaign is
#: small and an uplift is a small difference of two noisy probabilities; with
#: scikit-learn's defaults the planted effect in :func:`fit`'s example came out anywhere
#: from -0.08 to -0.46 where it is -0.4, and -0.24 where it is 0.
DEFAULT_TREES = {
    "learning_rate": 0.05,
    "max_iter": 300,
    "max_leaf_nodes": 8,
    "min_samples_leaf": 50,
    "early_stopping": True,
}


def _encoded(estimator: Any, numeric: list[str], categorical: list[str]) -> Any:
    """``estimator`` behind the column encoding the churn models' trees use
    (:func:`journey_lib.churn.estimators.category_codes`)."""
    from sklearn.pipeline import make_pipeline

    if not categorical:
        return estimator
    return make_pipeline(category_codes(numeric, categorical), estimator)


def _default_classifier(seed: int | None) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(**DEFAULT_TREES, random_state=seed)


def _default_regressor(seed: int | None) -> Any:
    from sklearn.ensemble import HistGradientBoostingRegressor

    return HistGradientBoostingRegressor(**DEFAULT_TREES, random_state=seed)


class UpliftModel:
    """An uplift model (definitions in :mod:`journey_lib.uplift.models`).

    Parameters
    ----------
    learner : {"t", "s", "x"}
    classifier, regressor : scikit-learn estimators, optional
        Cloned for each part; by default histogram gradient boosting with shallow trees
        and early stopping (:data:`DEFAULT_TREES`). The regressor is used by the X-learner
        only.
    random_state : int, optional

    Attributes
    ----------
    balance_ : pandas.DataFrame
        Per numeric feature: ``treated_mean``, ``holdout_mean``, ``smd`` (standardised mean
        difference), ``p`` and ``p_adjusted`` (Welch's t-test, Benjamini-Hochberg), and
        ``unbalanced``.
    treated_share_ : float
        The share of customers treated.
    """

    def __init__(
        self,
        learner: str = "t",
        *,
        classifier: Any = None,
        regressor: Any = None,
        random_state: int | None = 0,
    ) -> None:
        self.learner = learner
        self.classifier = classifier
        self.regressor = regressor
        self.random_state = random_state

    def _classifier(self) -> Any:
        from sklearn.base import clone

        model = clone(self.classifier or _default_classifier(self.random_state))
        return _encoded(model, self.numeric_, self.categorical_)

    def _regressor(self) -> Any:
        from sklearn.base import clone

        model = clone(self.regressor or _default_regressor(self.random_state))
        return _encoded(model, self.numeric_, self.categorical_)

    def fit(self, X: IntoFrame, treatment: Any, y: Any) -> UpliftModel:
        """Learn the uplift from a randomised campaign's customers: features ``X``,
        ``treatment`` (1 when offered) and outcome ``y`` (1 when it happened)."""
        check_choice("learner", self.learner, LEARNERS)
        X = tidy_features(X)
        t = np.asarray(treatment)
        y = np.asarray(y)
        for name, values in (("treatment", t), ("outcome", y)):
            if values.shape != (len(X),):
                raise JourneyDataError(f"the {name} needs one value per customer of X")
            if not np.isin(values, [0, 1]).all():
                raise JourneyDataError(f"the {name} must be 0 or 1 for every customer")
        t, y = t.astype(bool), y.astype(int)
        for arm, name in ((t, "treated"), (~t, "held-out")):
            if len(np.unique(y[arm])) < 2:
                raise JourneyDataError(
                    f"the {name} customers all have the same outcome: no model can learn "
                    "what the offer changed"
                )
        self.features_ = list(X.columns)
        self.numeric_ = [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c])]
        self.categorical_ = [c for c in X.columns if c not in self.numeric_]
        self.treated_share_ = float(t.mean())
        self.balance_ = _balance(X, t)
        unbalanced = self.balance_[self.balance_["unbalanced"]]
        if len(unbalanced):
            worst = unbalanced["smd"].abs().idxmax()
            warnings.warn(
                f"the arms differ in {len(unbalanced)} feature(s) beyond chance, most in "
                f"{worst!r} (standardised mean difference "
                f"{self.balance_.loc[worst, 'smd']:.2f}, adjusted p "
                f"{self.balance_.loc[worst, 'p_adjusted']:.2g}): the campaign may not have "
                "been randomised, and the uplift may mix the offer's effect with who got it",
                JourneyDataWarning,
                stacklevel=2,
            )
        if self.learner == "s":
            self.model_ = self._classifier().fit(X.assign(_treated=t.astype(int)), y)
        else:
            self.treated_model_ = self._classifier().fit(X[t], y[t])
            self.holdout_model_ = self._classifier().fit(X[~t], y[~t])
        if self.learner == "x":
            imputed_t = y[t] - self.holdout_model_.predict_proba(X[t])[:, 1]
            imputed_c = self.treated_model_.predict_proba(X[~t])[:, 1] - y[~t]
            self.effect_treated_ = self._regressor().fit(X[t], imputed_t)
            self.effect_holdout_ = self._regressor().fit(X[~t], imputed_c)
        return self

    def predict_uplift(self, X: IntoFrame) -> np.ndarray:
        """Each customer's uplift: the offer's change to their chance of the outcome."""
        X = self._features(X)
        if self.learner == "s":
            treated = self.model_.predict_proba(X.assign(_treated=1))[:, 1]
            held = self.model_.predict_proba(X.assign(_treated=0))[:, 1]
            return treated - held
        if self.learner == "t":
            return (
                self.treated_model_.predict_proba(X)[:, 1]
                - self.holdout_model_.predict_proba(X)[:, 1]
            )
        e = self.treated_share_
        return e * self.effect_holdout_.predict(X) + (1 - e) * self.effect_treated_.predict(X)

    def predict_outcome(self, X: IntoFrame, *, offered: bool = False) -> np.ndarray:
        """Each customer's chance of the outcome if offered, or (the default) if not: for
        churn, the risk that today's targeting ranks by, from the same campaign."""
        X = self._features(X)
        if self.learner == "s":
            return self.model_.predict_proba(X.assign(_treated=int(offered)))[:, 1]
        model = self.treated_model_ if offered else self.holdout_model_
        return model.predict_proba(X)[:, 1]

    def _features(self, X: IntoFrame) -> pd.DataFrame:
        if not hasattr(self, "features_"):
            raise JourneyNotFittedError("this UpliftModel is not fitted yet: call fit first")
        X = to_pandas(X)
        missing = [c for c in self.features_ if c not in X.columns]
        if missing:
            raise JourneyDataError(f"X lacks the features {missing} the model was fitted on")
        # One frame built at once: a column set at a time fragments a wide frame.
        columns = {name: as_numbers(X[name]) for name in self.numeric_}
        columns |= {name: as_text(X[name]) for name in self.categorical_}
        return pd.DataFrame(columns, index=X.index)[self.features_]


def _balance(X: pd.DataFrame, t: np.ndarray) -> pd.DataFrame:
    """Each numeric feature's arm means, standardised difference and Welch's test."""
    from scipy.stats import ttest_ind

    numeric = X.select_dtypes(include=["number", "bool"]).astype(float)
    a, b = numeric[t], numeric[~t]
    pooled = np.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2)
    smd = ((a.mean() - b.mean()) / pooled.where(pooled > 0)).fillna(0.0)
    # A feature constant or missing in an arm has no test (its p-value is set to 1 below);
    # scipy's warnings about it would only reach the page as raw text.
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # SmallSampleWarning is one too
        p = ttest_ind(a, b, equal_var=False, nan_policy="omit").pvalue
    # A constant feature has no test: it cannot differ.
    p = np.where(np.isfinite(p), p, 1.0)
    adjusted = benjamini_hochberg(p)
    return pd.DataFrame(
        {
            "treated_mean": a.mean(),
            "holdout_mean": b.mean(),
            "smd": smd,
            "p": p,
            "p_adjusted": adjusted,
            "unbalanced": (smd.abs() > IMBALANCE).to_numpy() & (adjusted < BEYOND_CHANCE),
        }
    )


def fit(X: IntoFrame, treatment: Any, y: Any, learner: str = "t", **options: Any) -> UpliftModel:
    """Fit an :class:`UpliftModel` with ``learner`` ("t", "s" or "x") on a randomised
    campaign's customers.

    Examples
    --------
    Customers with ``x`` above 0 are kept by the offer (churn 20% against 60%); the others
    are not moved by it:

    >>> import numpy as np, pandas as pd, journey_lib as jl
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"x": rng.normal(size=4000)})
    >>> t = rng.integers(0, 2, 4000)
    >>> p = np.where((X["x"] > 0) & (t == 1), 0.2, np.where(X["x"] > 0, 0.6, 0.4))
    >>> churned = (rng.random(4000) < p).astype(int)
    >>> model = jl.uplift.fit(X, t, churned, learner="t")
    >>> u = model.predict_uplift(pd.DataFrame({"x": [-1.0, 1.0]}))
    >>> bool(abs(u[0]) < 0.15 and u[1] < -0.25)
    True
    """
    return UpliftModel(learner, **options).fit(X, treatment, y)
