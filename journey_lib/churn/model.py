"""Churn models: scikit-learn pipelines that take features as they come.

:func:`train` builds a Pipeline that handles numeric, categorical and missing values itself,
optionally calibrated, and always fits the two baselines a churn model must beat: the base
rate (everyone gets the training churn rate) and a plain logistic regression. The model
keeps the :class:`~journey_lib.churn.FeatureRecipe` its features were built with, saves
itself with its card (:meth:`ChurnModel.save`) and :func:`load` reads it back.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from narwhals.typing import IntoFrame

from ..errors import (
    JourneyDataError,
    JourneyDataWarning,
    JourneyError,
    JourneyParameterError,
    check_choice,
)
from . import explain, fitting, persist, targeting
from ._features import is_count
from ._inputs import as_numbers, as_text, binary_labels, feature_frame, tidy_features
from .dataset import ChurnDataset, ChurnFeatures, FeatureRecipe
from .evaluation import Evaluation, evaluate_scores
from .explain import Importance, PartialDependence
from .targeting import Targeting

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

__all__ = ["CALIBRATIONS", "MODELS", "ChurnModel", "load", "train"]

_BLOCK = 8192
#: Metrics the Markdown card shows (the card itself keeps them all).
_CARD_METRICS = ("roc_auc", "pr_auc", "brier", "ece", "lift_top_10%")

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
        ``rows``, ``churned``, ``fingerprint`` (SHA-256 of the training features and
        labels), and how :func:`train` fitted: ``settings`` (``"small"`` or ``"large"``),
        ``calibration_rows`` and ``baseline_rows`` (see :func:`journey_lib.churn.fitting.fit`;
        absent from models saved before they were recorded).
    reference : dict
        A typical training customer: the median of each number (missing when most are),
        the commonest value of each category; the comparison point of :meth:`reasons`.
    provenance : dict
        ``created`` (UTC), ``versions`` (of Python and the packages), ``metrics`` (held-out
        metrics saved with the model, empty until then) and ``built_from``: a note on where
        the features came from when there is no recipe (``journey churn train`` on a
        customer table records its label and identifier columns), else empty.
        :attr:`card` gathers everything.
    recipe : FeatureRecipe or None
        How the features were built (:func:`build_dataset`'s ``.recipe``, given to
        :func:`train`): the card's ``built_from``, and what
        ``build_features(events, cutoff=..., recipe=model.recipe)`` rebuilds features with.
        None when :func:`train` was not given one.
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
    reference: dict[str, Any]
    provenance: dict[str, Any]
    recipe: FeatureRecipe | None = None

    @property
    def card(self) -> dict[str, Any]:
        """The model card: what the model is, what it was trained on and how well it did,
        in plain values (JSON-ready)."""
        return {
            "model": self.model,
            "calibration": self.calibration,
            "base_rate": self.base_rate,
            "training": dict(self.training),
            "built_from": (
                self.recipe.to_dict()
                if self.recipe is not None
                else dict(self.provenance.get("built_from", {}))
            ),
            "features": list(self.features),
            "numeric": list(self.numeric),
            "categorical": list(self.categorical),
            "reference": dict(self.reference),
            "metrics": dict(self.provenance.get("metrics", {})),
            "created": self.provenance.get("created"),
            "versions": dict(self.provenance.get("versions", {})),
        }

    def describe(self) -> str:
        """The model card as Markdown, for reports and the command line."""
        card = self.card
        training = card["training"]
        lines = [
            f"# Churn model: {card['model']}, calibration {card['calibration']}",
            "",
            f"- trained {card['created']} on {training['rows']:,} customers, "
            f"{training['churned']:,} churned (base rate {card['base_rate']:.1%})",
            f"- training data fingerprint (SHA-256): `{training['fingerprint']}`",
        ]
        if training.get("settings") == "large":
            how = ["fitted with the large-table settings"]
            if training["calibration_rows"]:
                how.append(f"calibrated on {training['calibration_rows']:,} held-out rows")
            if training["baseline_rows"] < training["rows"]:
                how.append(f"logistic baseline on a sample of {training['baseline_rows']:,}")
            lines.append("- " + ", ".join(how))
        built = card["built_from"]
        if "cutoff" in built:
            rule = (
                f"{built['inactivity']} without events"
                if built["definition"] == "inactivity"
                else f"a {built['churn_event']} event"
            )
            lines.append(
                f"- features at cutoff {built['cutoff']}, horizon {built['horizon']}, churn "
                f"as {rule}, windows {', '.join(map(str, built['windows']))}"
            )
        elif "label" in built:
            lines.append(f"- trained on a customer table, labels from column `{built['label']}`")
        else:
            lines.append("- no feature recipe given: how the features were built is not recorded")
        lines.append(
            f"- {len(card['features'])} features: {len(card['numeric'])} numeric, "
            f"{len(card['categorical'])} categorical"
        )
        metrics = card["metrics"]
        if metrics:
            lines += [
                "",
                f"## Held-out metrics ({metrics['confidence']:.0%} bootstrap intervals, "
                f"{metrics['n_bootstraps']} resamples)",
                "",
                "| scorer | metric | value | interval |",
                "|---|---|---|---|",
            ]
            lines += [
                f"| {r['scorer']} | {r['metric']} | {r['value']:.4f} | "
                f"{r['low']:.4f} to {r['high']:.4f} |"
                for r in metrics["table"]
                if r["metric"] in _CARD_METRICS
            ]
        lines += ["", "## Versions", ""]
        lines += [f"- {name} {number}" for name, number in card["versions"].items()]
        return "\n".join(lines)

    def save(self, path: str | os.PathLike[str], *, evaluation: Evaluation | None = None) -> Path:
        """Write the model and its card to a skops file (see :mod:`journey_lib.churn.persist`).

        Parameters
        ----------
        path : str or path
            The file to write, conventionally ``*.skops``; its folder is created.
        evaluation : Evaluation, optional
            Held-out metrics (from :meth:`evaluate`) to record in the card.

        Returns
        -------
        pathlib.Path
            ``path``; :func:`load` reads it back.
        """
        card = self.card
        if evaluation is not None:
            columns = ["scorer", "metric", "value", "low", "high"]
            table = evaluation.metrics[columns].astype(
                {"value": float, "low": float, "high": float}
            )
            card["metrics"] = {
                "confidence": evaluation.confidence,
                "n_bootstraps": evaluation.n_bootstraps,
                "table": table.to_dict("records"),
            }
        return persist.write(path, pipeline=self.pipeline, baseline=self.baseline, card=card)

    def predict_proba(self, X: IntoFrame | ChurnFeatures) -> pd.Series:
        """Each customer's churn probability, indexed as ``X``.

        Columns of ``X`` beyond the model's features are ignored; missing ones are an error.
        """
        frame = self.align(X)
        return pd.Series(self.predict_aligned(frame), index=frame.index, name="churn_probability")

    def baseline_proba(self, X: IntoFrame | ChurnFeatures) -> pd.Series:
        """The logistic baseline's churn probabilities, indexed as ``X``."""
        frame = self.align(X)
        return pd.Series(
            self.predict_aligned(frame, baseline=True), index=frame.index, name="baseline"
        )

    def predict_aligned(self, aligned: pd.DataFrame, *, baseline: bool = False) -> np.ndarray:
        """Churn probabilities of rows already aligned by :meth:`align`, as an array.

        The fast path for scoring many variants of one aligned frame (shuffled, set to a
        grid value, set to the typical customer), as the explanations do where they score a
        variant whole (:mod:`journey_lib.churn.variants`): ``X`` is not aligned again.

        Parameters
        ----------
        aligned : pandas.DataFrame
            The output of :meth:`align`, possibly with values changed.
        baseline : bool, default False
            Score with the logistic baseline instead of the model.

        Returns
        -------
        numpy.ndarray
            One probability per row, in ``aligned``'s order.

        Raises
        ------
        JourneyDataError
            When the columns are not exactly the model's features, in order.

        Examples
        --------
        >>> import pandas as pd
        >>> from journey_lib.churn import train
        >>> X = pd.DataFrame({"tickets": [0, 1, 2, 3] * 50})
        >>> model = train(X, (X["tickets"] >= 2).astype(int), model="logistic")
        >>> aligned = model.align(X.head(2))
        >>> bool((model.predict_aligned(aligned) == model.predict_proba(X.head(2))).all())
        True
        >>> aligned["tickets"] = 3.0  # what if both had three tickets?
        >>> model.predict_aligned(aligned).round(2).tolist()
        [0.99, 0.99]
        """
        if list(aligned.columns) != list(self.features):
            raise JourneyDataError(
                f"predict_aligned takes the model's features in order (model.align(X)); got "
                f"{len(aligned.columns)} columns, e.g. {list(aligned.columns)[:5]}"
            )
        estimator = self.baseline if baseline else self.pipeline
        # Blocks that stay in cache: gradient boosting walks every row once per tree, and
        # walking a frame larger than the cache takes almost twice as long.
        parts = [
            estimator.predict_proba(aligned.iloc[start : start + _BLOCK])[:, 1]
            for start in range(0, len(aligned), _BLOCK)
        ]
        return np.concatenate(parts) if parts else np.empty(0)

    def evaluate(
        self,
        X: IntoFrame | ChurnFeatures,
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

    def align(self, X: IntoFrame | ChurnFeatures) -> pd.DataFrame:
        """``X`` with exactly the model's features, in order and typed as in training.

        Features built at another cutoff differ a little: an event, channel or stage that
        no customer had before one cutoff has no column at it. Such missing count features
        are zero; any other missing feature is an error, and columns the model does not
        use are dropped. Every method reads ``X`` this way, so calling ``align`` first is
        never needed; it shows what the model will see.

        Examples
        --------
        >>> import pandas as pd
        >>> from journey_lib.churn import train
        >>> X = pd.DataFrame({"tenure_days": range(100), "event_apology_90D": [0, 1] * 50})
        >>> model = train(X, (X["tenure_days"] < 30).astype(int), model="logistic")
        >>> model.align(pd.DataFrame({"tenure_days": [3.0], "other": [1]})).to_dict("records")
        [{'tenure_days': 3.0, 'event_apology_90D': 0.0}]
        """
        frame = feature_frame(X)
        zero = [c for c in self.features if c not in frame.columns and is_count(c)]
        if zero:
            frame = pd.concat([frame, pd.DataFrame(0, index=frame.index, columns=zero)], axis=1)
        missing = [c for c in self.features if c not in frame.columns]
        if missing:
            raise JourneyDataError(
                f"X lacks {len(missing)} of the model's features, e.g. {missing[:5]}; build it "
                f"the way the training features were built"
            )
        numeric = set(self.numeric)
        typed = {
            name: as_numbers(frame[name]) if name in numeric else as_text(frame[name])
            for name in self.features
        }
        return pd.DataFrame(typed, index=frame.index)

    def importance(
        self,
        X: IntoFrame | ChurnFeatures,
        y: Any,
        *,
        groups: str | Mapping[str, Sequence[str]] | None = "auto",
        scoring: str = "roc_auc",
        n_repeats: int = 10,
        max_rows: int | None = 2000,
        confidence: float = 0.95,
        random_state: int = 0,
    ) -> Importance:
        """Permutation importance of each feature group, with bootstrap intervals.

        The drop in ROC AUC (or rise in Brier score or log loss) on held-out customers when
        a group's columns are shuffled together; see :mod:`journey_lib.churn.explain` for
        the definitions. It costs ``groups x n_repeats x max_rows`` predictions; a gradient
        boosting model walks again only the trees that split on the shuffled group
        (:mod:`journey_lib.churn.variants`), to the same bit: 12 s for the default
        booster on 135 features of a million-event log and two cores, against 32 s scoring
        every shuffled copy whole. It keeps each sampled customer's leaf values and running
        scores: ``max_rows`` x trees x 16 bytes (96 MB for 2,000 customers and 3,000 trees).

        Parameters
        ----------
        X, y : DataFrame, array-like
            Held-out customers and their 0/1 labels (on training data, importance measures
            what the model memorised).
        groups : "auto", None or mapping, default "auto"
            ``"auto"`` groups each count's windows and trend (:func:`feature_groups`);
            None shuffles every column alone; a mapping names groups of columns (columns
            it leaves out stand alone).
        scoring : {"roc_auc", "brier", "log_loss"}, default "roc_auc"
        n_repeats : int, default 10
            Bootstrap resamples, each with a fresh shuffle.
        max_rows : int or None, default 2000
            Customers sampled from ``X`` (None: all).
        confidence : float, default 0.95
        random_state : int, default 0

        Returns
        -------
        Importance
            ``.table`` (most important first), ``.top(n)``, ``.summary()``, ``.plot()``.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from journey_lib.churn import train
        >>> rng = np.random.default_rng(0)
        >>> X = pd.DataFrame({"late_deliveries": rng.poisson(1, 600),
        ...                   "noise": rng.normal(size=600)})
        >>> y = (rng.random(600) < 0.1 + 0.2 * X["late_deliveries"].clip(upper=3)).astype(int)
        >>> model = train(X, y, model="logistic")
        >>> model.importance(X, y, n_repeats=5).top(2)
        ['late_deliveries', 'noise']
        """
        return explain.permutation_importance(
            self,
            X,
            y,
            groups=groups,
            scoring=scoring,
            n_repeats=n_repeats,
            max_rows=max_rows,
            confidence=confidence,
            random_state=random_state,
        )

    def partial_dependence(
        self,
        X: IntoFrame | ChurnFeatures,
        features: Sequence[str],
        *,
        grid: int = 20,
        max_rows: int | None = 1000,
        random_state: int = 0,
    ) -> PartialDependence:
        """Mean churn probability as each of ``features`` moves over a grid.

        For each grid value ``v`` of a column, every customer's value is set to ``v`` and
        the churn probabilities are averaged (Friedman's partial dependence).

        Parameters
        ----------
        X : DataFrame
            Customers to average over (held-out or not).
        features : sequence of str
            Columns, or feature groups (their widest window stands for them), such as
            ``importance.top(6)``.
        grid : int, default 20
            Numbers: their distinct values when at most ``grid``, else ``grid`` quantiles
            from the 5th to the 95th percentile. Categories: the ``grid`` commonest.
        max_rows : int or None, default 1000
            Customers sampled from ``X`` (None: all).
        random_state : int, default 0

        Returns
        -------
        PartialDependence
            ``.table`` (feature, column, value, churn_probability, share), ``.method`` and
            ``.plot()``.

        Examples
        --------
        >>> import pandas as pd
        >>> from journey_lib.churn import train
        >>> X = pd.DataFrame({"tickets": [0, 1, 2, 3] * 50, "plan": ["a", "b"] * 100})
        >>> y = (X["tickets"] >= 2).astype(int)
        >>> pd_ = train(X, y, model="logistic").partial_dependence(X, ["tickets"])
        >>> bool(pd_.table["churn_probability"].is_monotonic_increasing)
        True
        """
        return explain.partial_dependence(
            self, X, features, grid=grid, max_rows=max_rows, random_state=random_state
        )

    def reasons(
        self,
        X: IntoFrame | ChurnFeatures,
        *,
        top: int = 3,
        groups: str | Mapping[str, Sequence[str]] | None = "auto",
    ) -> pd.DataFrame:
        """Each customer's top reasons for their score.

        A group's effect is the customer's churn probability minus the probability with
        the group's columns set to a typical training customer's (:attr:`reference`); the
        top reasons are the largest positive effects, compared to 1e-12 (the last digits of
        a score vary with the rows scored beside it), ties in the groups' order. A
        one-at-a-time comparison, not a Shapley value (see :mod:`journey_lib.churn.explain`).
        It costs one prediction of ``X`` per feature group, of the customers not already
        typical in it; a gradient boosting model walks only the trees that split on the
        group (:mod:`journey_lib.churn.variants`).

        Parameters
        ----------
        X : DataFrame
            The customers to explain.
        top : int, default 3
            Reasons per customer at most; customers with fewer risk-raising groups get
            fewer rows, and a customer with none, no row.
        groups : "auto", None or mapping, default "auto"
            As in :meth:`importance`.

        Returns
        -------
        pandas.DataFrame
            Long: the customer (named as ``X``'s index), ``rank`` (1 = strongest),
            ``feature``, ``effect`` (probability points), ``values`` (the group's columns
            where the customer is not typical, with the typical value) and the customer's
            ``churn_probability``; ``attrs["method"]`` states the method.

        Examples
        --------
        >>> import pandas as pd
        >>> from journey_lib.churn import train
        >>> X = pd.DataFrame({"tickets": [0, 1, 0, 5] * 50, "visits": [3, 2, 3, 2] * 50})
        >>> y = (X["tickets"] > 2).astype(int)
        >>> model = train(X, y, model="logistic")
        >>> model.reasons(X.tail(1), top=1)[["rank", "feature", "values"]].to_dict("records")
        [{'rank': 1, 'feature': 'tickets', 'values': 'tickets=5 (typical 0.5)'}]
        """
        return explain.reasons(self, X, top=top, groups=groups)

    def target(
        self,
        X: IntoFrame | ChurnFeatures,
        *,
        offer_cost: float,
        save_rate: float,
        value: Any = None,
        budget: int | None = None,
        y: Any = None,
    ) -> Targeting:
        """A ranked contact list for a retention offer, and the profit curve behind it.

        Contacting a customer with churn probability ``p`` and value ``v`` is expected to
        earn ``p * save_rate * v - offer_cost`` (see :mod:`journey_lib.churn.targeting`).
        Customers are ranked by that; by cost (the default) every customer with a positive
        expected value is chosen, and with a ``budget`` at most that many.

        Parameters
        ----------
        X : DataFrame
            The customers, with the model's features.
        offer_cost : float
            Cost of contacting one customer with the offer (its price plus the discount).
        save_rate : float
            Share of the contacted would-be churners whom the offer keeps, in (0, 1].
        value : float, str or Series, optional
            The value of keeping a customer: a constant, a column of ``X``, or values per
            customer aligned on ``X``'s index (a CLV). Defaults to ``value_total``, the past
            spend :func:`build_dataset` computes.
        budget : int, optional
            The most customers to contact.
        y : array-like, optional
            Known outcomes (a held-out set), to add the realised profit curve.

        Returns
        -------
        Targeting
            ``.contacts`` (ranked), ``.curve``, ``.chosen``, ``.expected_profit``,
            ``.threshold``, ``.summary()`` and ``.plot()``.

        Examples
        --------
        >>> import pandas as pd
        >>> from journey_lib.churn import train
        >>> X = pd.DataFrame({"tickets": [0, 1, 2, 3] * 50})
        >>> y = (X["tickets"] >= 2).astype(int)
        >>> model = train(X, y, model="logistic")
        >>> plan = model.target(X, offer_cost=10, save_rate=0.5, value=100)
        >>> chosen = plan.contacts[plan.contacts["contact"]]
        >>> plan.chosen, sorted(X.loc[chosen.index, "tickets"].unique().tolist())
        (100, [2, 3])
        >>> model.target(X, offer_cost=10, save_rate=0.5, value=100, budget=30).chosen
        30
        """
        return targeting.target(
            self,
            X,
            offer_cost=offer_cost,
            save_rate=save_rate,
            value=value,
            budget=budget,
            y=y,
        )

    def __repr__(self) -> str:
        rows, churned = self.training["rows"], self.training["churned"]
        return (
            f"ChurnModel({self.model}, calibration={self.calibration}, "
            f"{len(self.features)} features, trained on {rows:,} customers, {churned:,} churned)"
        )


def train(
    X: IntoFrame | ChurnDataset,
    y: Any = None,
    *,
    recipe: FeatureRecipe | None = None,
    model: str = "hgb",
    calibrate: bool | str = True,
    settings: str = "auto",
    random_state: int = 0,
) -> ChurnModel:
    """Fit a churn model on features ``X`` and 0/1 labels ``y``.

    Parameters
    ----------
    X : DataFrame or ChurnDataset
        One row per customer: the features of :func:`build_dataset` or any table (a
        one-row-per-customer churn table without its label column). Columns that look like
        identifiers are dropped with a warning, as are columns missing on every row; text
        whose values all parse as numbers (blanks aside) is read as numbers; other text is
        categorical. Missing values are handled by the pipeline. A :class:`ChurnDataset`
        brings its labels and recipe: ``train(dataset)``.
    y : array-like
        1 for churned: 0/1, booleans, or text such as Yes/No or True/False; not with a
        ChurnDataset.
    recipe : FeatureRecipe, optional
        How ``X`` was built (the dataset's ``.recipe``, for rows split off it), kept as
        :attr:`ChurnModel.recipe` and in the card; without one the card records no recipe
        and ``journey churn score`` cannot rebuild the features.
    model : {"hgb", "logistic", "forest"}, default "hgb"
        Histogram gradient boosting (native missing values and categories), logistic
        regression (standardised, one-hot, imputed with missing indicators), or a random
        forest (imputed, one-hot).
    calibrate : bool or {"sigmoid", "isotonic"}, default True
        Wrap the model in ``CalibratedClassifierCV``: over five stratified folds for a
        small table, on a held-out stratified share for a large one (see ``settings``).
        True means Platt's sigmoid, which improved the default model's Brier score on the
        telecom table and on simulated logs (it can cost a random forest a little: check
        :meth:`ChurnModel.evaluate`); isotonic regression is more flexible and needs
        thousands of churners not to overfit.
    settings : {"auto", "small", "large"}, default "auto"
        How to fit for the size of the table; ``"auto"`` is ``"large"`` from 100,000 rows
        (:data:`journey_lib.churn.fitting.LARGE`). Small: the booster learns slowly
        (rate 0.03, trees of depth 3, up to 1,000 of them) and is calibrated over five
        folds. Large: trees of 31 leaves at rate 0.1, at most 200, fitted once and
        calibrated on a held-out 10% (at most 100,000 rows); each tree of a forest draws
        at most 100,000 rows; the logistic baseline learns from a stratified sample of
        100,000 rows. Too few customers of the rarer label to calibrate on (under 20 in
        the held-out share) keep ``"auto"`` small and make ``"large"`` an error. At a
        million rows the large settings train in 2.5 times one default
        ``HistGradientBoostingClassifier`` (on the numeric columns) instead of 33 times;
        on 200,000 rows they rank as the small settings do, at a tenth of the time
        (benchmarks/README.md, "Churn model"). The card records which was used.
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
    JourneyParameterError
        When ``y`` is missing, or a ChurnDataset comes with ``y`` or ``recipe``, or the
        recipe was never applied (it has no cutoff).

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_lib.churn import train
    >>> X = pd.DataFrame({"tenure": range(200), "plan": ["a", "b"] * 100})
    >>> y = (X["tenure"] < 60).astype(int)
    >>> fitted = train(X, y, model="logistic")
    >>> fitted.categorical, round(fitted.base_rate, 2), fitted.recipe
    (('plan',), 0.3, None)
    >>> bool(fitted.predict_proba(X.head(3)).gt(0.5).all())
    True

    On a log, the dataset brings its recipe, and a split keeps it with ``recipe=``:

    >>> import journey_lib as jl
    >>> events = jl.simulate(2000, seed=1, progress=False).events
    >>> dataset = jl.churn.build_dataset(events, cutoff="2024-08-01")
    >>> model = train(dataset, model="logistic")
    >>> model.recipe == dataset.recipe, model.card["built_from"]["horizon"]
    (True, '90D')
    >>> X, y = dataset
    >>> half = train(X.iloc[::2], y.iloc[::2], recipe=dataset.recipe, model="logistic")
    >>> half.recipe.cutoff.year
    2024
    """
    X, y, recipe = _training_data(X, y, recipe)
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

    check_choice("settings", settings, fitting.SETTINGS)
    calibration = None
    if calibrate is not False:
        calibration = "sigmoid" if calibrate is True else calibrate
        check_choice("calibrate", calibration, (True, False, *CALIBRATIONS))
    estimator, baseline, details = fitting.fit(
        frame,
        labels,
        model=model,
        calibration=calibration,
        settings=settings,
        numeric=numeric,
        categorical=categorical,
        random_state=random_state,
    )
    training = {
        "rows": len(frame),
        "churned": int(labels.sum()),
        "fingerprint": fingerprint(frame, labels),
        **details,
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
        reference=typical(frame, categorical),
        provenance={
            "built_from": {},
            "created": persist.created(),
            "versions": persist.versions(),
            "metrics": {},
        },
        recipe=recipe,
    )


def load(path: str | os.PathLike[str]) -> ChurnModel:
    """Load a churn model saved by :meth:`ChurnModel.save`, refusing anything else.

    Parameters
    ----------
    path : str or path
        A ``.skops`` file written by :meth:`ChurnModel.save`.

    Returns
    -------
    ChurnModel
        With its :attr:`ChurnModel.card` and :attr:`ChurnModel.recipe` as saved.

    Raises
    ------
    JourneyDataError
        When the file is missing, is not a skops file, holds a type journey-lab does not
        trust (a foreign or altered file: nothing is built from it), is damaged, or is not a
        journey-lab churn model (see :mod:`journey_lib.churn.persist`).

    Warns
    -----
    JourneyDataWarning
        When the model was trained with another scikit-learn version: its predictions may
        differ, so retrain it.

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> from journey_lib.churn import load, train
    >>> X = pd.DataFrame({"tickets": [0, 1, 2, 3] * 50})
    >>> model = train(X, (X["tickets"] >= 2).astype(int), model="logistic")
    >>> path = model.save(pathlib.Path(tempfile.mkdtemp()) / "churn.skops")
    >>> again = load(path)
    >>> bool((again.predict_proba(X) == model.predict_proba(X)).all())
    True
    """
    return persist.read(path, _rebuild)


def _rebuild(pipeline: Any, baseline: Any, card: dict[str, Any]) -> ChurnModel:
    """The model of a saved card and its two estimators."""
    for name, estimator in (("pipeline", pipeline), ("baseline", baseline)):
        if not hasattr(estimator, "predict_proba"):
            raise TypeError(f"its {name} is a {type(estimator).__name__}, not a classifier")
    built = dict(card["built_from"])
    # A recipe's values hold its definition; anything else is a note (or nothing).
    recipe = None
    if "definition" in built:
        try:
            recipe = FeatureRecipe.from_dict(built)
        except JourneyError as exc:
            # Cards saved before FeatureRecipe kept a custom stage framework as its repr:
            # the model still scores tables; only rebuilding its features needs the recipe.
            warnings.warn(
                f"the model's card records how its features were built in a form this "
                f"release cannot rebuild ({exc}); it scores feature tables as before, but "
                f"building them from a log needs build_features(..., recipe=FeatureRecipe(...))",
                JourneyDataWarning,
                stacklevel=4,
            )
    return ChurnModel(
        pipeline=pipeline,
        baseline=baseline,
        base_rate=float(card["base_rate"]),
        model=str(card["model"]),
        calibration=card["calibration"],
        features=tuple(card["features"]),
        numeric=tuple(card["numeric"]),
        categorical=tuple(card["categorical"]),
        training=dict(card["training"]),
        reference=dict(card["reference"]),
        provenance={
            "built_from": {} if recipe is not None else built,
            **{key: card[key] for key in ("created", "versions", "metrics")},
        },
        recipe=recipe,
    )


def _training_data(
    X: Any, y: Any, recipe: FeatureRecipe | None
) -> tuple[Any, Any, FeatureRecipe | None]:
    """``X``, ``y`` and the recipe, from a ChurnDataset or as given, checked."""
    if isinstance(X, ChurnDataset):
        if y is not None or recipe is not None:
            raise JourneyParameterError(
                "a ChurnDataset brings its labels and recipe: pass it alone, train(dataset), "
                "or pass X, y and recipe="
            )
        return X.X, X.y, X.recipe
    if y is None:
        raise JourneyParameterError(
            "train needs labels: train(X, y), or train(dataset) with a ChurnDataset from "
            "build_dataset"
        )
    if recipe is not None:
        if not isinstance(recipe, FeatureRecipe):
            raise JourneyParameterError(
                f"recipe must be a FeatureRecipe (the dataset's .recipe), not "
                f"{type(recipe).__name__}"
            )
        if recipe.cutoff is None:
            raise JourneyParameterError(
                "recipe= is the recipe X was built with (the dataset's .recipe); this one has "
                "no cutoff, so it never built any features"
            )
    return X, y, recipe


def typical(frame: pd.DataFrame, categorical: Sequence[str]) -> dict[str, Any]:
    """A typical row: each number's median (missing when most values are), each category's
    commonest value (missing included)."""
    reference: dict[str, Any] = {}
    for name in frame.columns:
        column = frame[name]
        if name in categorical:
            value = column.value_counts(dropna=False).idxmax()
            reference[name] = None if pd.isna(value) else str(value)
        elif column.notna().mean() < 0.5:
            reference[name] = float("nan")
        else:
            reference[name] = float(column.median())
    return reference


def fingerprint(X: pd.DataFrame, y: pd.Series) -> str:
    """SHA-256 of the features and labels (values, index, column names): the same data
    gives the same fingerprint on any machine."""
    digest = hashlib.sha256()
    digest.update("\x1f".join(X.columns).encode())
    hashed = pd.util.hash_pandas_object(X, index=True).to_numpy()
    digest.update(hashed.tobytes())
    digest.update(np.asarray(y, dtype="int64").tobytes())
    return digest.hexdigest()
