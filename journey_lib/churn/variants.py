"""Churn probabilities of variants of customers: the same customers with a few columns
changed, as the explanations score them (shuffled for permutation importance, set to a grid
value for partial dependence, set to the typical customer for reasons).

A gradient-boosted tree's output changes only where the tree splits on a changed column,
and each of the booster's trees reads a handful of the features: on the simulator's churn
table a feature group is read by a tenth of the trees. So for a scikit-learn
``HistGradientBoostingClassifier`` (alone or calibrated, as :func:`journey_lib.churn.train`
fits it) a variant's raw score is the customer's own less, over the trees that read a
changed column only, the leaves reached before the change and plus those reached after.
A customer whose changed columns send every such tree to the same leaf gets exactly their
own probability; otherwise the probability equals scoring the variant whole but for
floating-point rounding (about 1e-16). Other models score every variant whole.

This reads the booster's fitted trees (``_predictors``, and ``_predict_iterations`` to walk
a list of them), which scikit-learn does not promise to keep; ``tests/test_churn_variants.py``
holds the result to scoring whole on every kind of model :func:`train` fits, so a change
there fails a test rather than an explanation.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from .model import ChurnModel

__all__ = ["VariantScorer"]

#: Rows walked through the trees at once: blocks that stay in cache (as
#: :meth:`ChurnModel.predict_aligned`).
_BLOCK = 8192


@dataclasses.dataclass(frozen=True)
class _Booster:
    """One fitted booster of a model: how rows reach it, its trees, which columns each
    tree reads, and how its raw score becomes a probability."""

    transform: Callable[[pd.DataFrame], np.ndarray]
    booster: Any
    trees: list[Any]
    reads: np.ndarray  # (trees, columns): tree t splits on column c
    position: dict[str, int]  # an aligned column's position among the booster's inputs
    probability: Callable[[np.ndarray], np.ndarray]


class VariantScorer:
    """Churn probabilities of variants of ``frame``'s customers, each a row of ``frame``
    with some columns taken from a row of another frame.

    Parameters
    ----------
    model : ChurnModel
    frame : pandas.DataFrame
        Customers aligned by :meth:`ChurnModel.align`.

    leaves : bool, default False
        Keep each tree's leaf value for each row of ``frame`` (rows x trees numbers), so
        that every variant's score is summed in one order from its leaves: customers who
        reach the same leaves then score the same to the bit, as scored whole, where
        otherwise they may differ by rounding (ROC AUC counts such ties as halves). Without
        it, a variant whose change reaches no other leaf keeps its row's score exactly.

    Attributes
    ----------
    base : numpy.ndarray
        ``frame``'s own churn probabilities, equal to ``model.predict_aligned(frame)``.
    treewise : bool
        Whether variants walk only the trees that read a changed column (a gradient
        boosting model) or are scored whole (any other).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from journey_lib.churn import train
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"tickets": rng.poisson(1, 800), "visits": rng.poisson(5, 800)})
    >>> y = (rng.random(800) < 0.1 + 0.2 * X["tickets"].clip(upper=3)).astype(int)
    >>> model = train(X, y)
    >>> aligned = model.align(X.head(3))
    >>> scorer = VariantScorer(model, aligned)
    >>> three = aligned.assign(tickets=3)  # each of the three customers with three tickets
    >>> with_three = scorer.mixed([0, 1, 2], ["tickets"], [0, 0, 0], three.head(1))
    >>> bool(np.allclose(with_three, model.predict_aligned(three), rtol=0, atol=1e-12))
    True
    """

    def __init__(self, model: ChurnModel, frame: pd.DataFrame, *, leaves: bool = False) -> None:
        self.model = model
        self.frame = frame
        found = _boosters(model.pipeline)
        # A booster fed other columns than the model's (a model saved by hand) is scored whole.
        if found is not None and not all(
            column in b.position for b in found for column in model.features
        ):
            found = None
        self._boosters = found
        self.treewise = self._boosters is not None
        if self._boosters is None:
            self.base = model.predict_aligned(frame)
            return
        self._inputs = [b.transform(frame) for b in self._boosters]
        self._raw = [
            _walk(b, b.trees, inputs, start=b.booster._baseline_prediction)
            for b, inputs in zip(self._boosters, self._inputs, strict=True)
        ]
        self.base = self._average(self._raw)
        self._leaves = [
            np.column_stack([_walk(b, [tree], inputs) for tree in b.trees]) if leaves else None
            for b, inputs in zip(self._boosters, self._inputs, strict=True)
        ]

    def mixed(
        self,
        rows: Sequence[int] | np.ndarray,
        columns: Sequence[str],
        donors: Sequence[int] | np.ndarray,
        source: pd.DataFrame | None = None,
    ) -> np.ndarray:
        """Churn probabilities of ``frame.iloc[rows]`` with ``columns`` taken from
        ``source.iloc[donors]`` (``source``: the frame itself by default), one per row.

        Parameters
        ----------
        rows, donors : array-like of int
            Positions in ``frame`` and in ``source``, of equal length.
        columns : sequence of str
            The changed columns.
        source : pandas.DataFrame, optional
            Aligned rows to take the columns from (all the model's columns, of the same
            types as ``frame``'s).

        Returns
        -------
        numpy.ndarray
        """
        rows, donors = np.asarray(rows, dtype=np.intp), np.asarray(donors, dtype=np.intp)
        donor_frame = self.frame if source is None else source
        if self._boosters is None:
            variant = self.frame.iloc[rows].reset_index(drop=True)
            for column in columns:
                variant[column] = donor_frame[column].iloc[donors].reset_index(drop=True)
            return self.model.predict_aligned(variant)
        raws = []
        for booster, inputs, raw, leaves in zip(
            self._boosters, self._inputs, self._raw, self._leaves, strict=True
        ):
            taken = inputs if source is None else booster.transform(source)
            at = [booster.position[column] for column in columns]
            reading = booster.reads[:, at].any(axis=1)
            trees = [booster.trees[t] for t in np.flatnonzero(reading)]
            new = taken[np.ix_(donors, at)]
            old = inputs[np.ix_(rows, at)]
            # Only rows whose inputs change are walked again (a shuffled count of a rare
            # event mostly swaps a zero for a zero).
            moved = np.flatnonzero(~((new == old) | (np.isnan(new) & np.isnan(old))).all(axis=1))
            after = inputs[rows[moved]]
            after[:, at] = new[moved]
            if leaves is not None:
                raws.append(_from_leaves(booster, leaves, rows, reading, moved, after))
                continue
            scores = raw[rows]
            if trees and len(moved):
                # Each customer once before the change, however often they are drawn.
                kept, again = np.unique(rows[moved], return_inverse=True)
                before = _walk(booster, trees, inputs[kept])[again]
                # Leaves alike before and after cancel exactly, so a customer whose change
                # reaches no other leaf keeps their own score to the bit.
                scores[moved] -= before - _walk(booster, trees, after)
            raws.append(scores)
        return self._average(raws)

    def _average(self, raws: list[np.ndarray]) -> np.ndarray:
        """The model's probability from each booster's raw scores, averaged as scikit-learn's
        ``CalibratedClassifierCV`` does (summed in order, then divided)."""
        assert self._boosters is not None
        total = np.zeros(len(raws[0]))
        for booster, raw in zip(self._boosters, raws, strict=True):
            total += booster.probability(raw)
        return total / len(raws)


def _from_leaves(
    booster: _Booster,
    leaves: np.ndarray,
    rows: np.ndarray,
    reading: np.ndarray,
    moved: np.ndarray,
    after: np.ndarray,
) -> np.ndarray:
    """Raw scores of variants summed from their leaves in one order: the trees that read
    no changed column from the kept leaves of their row, the others walked again for the
    rows that changed (and their kept leaves for the rest, added as a walk adds them)."""
    # Per row of the frame, then per variant (a row may be drawn many times).
    rest = leaves[:, ~reading].sum(axis=1)[rows]
    read = np.zeros(len(leaves))
    for t in np.flatnonzero(reading):
        read += leaves[:, t]
    read = read[rows]
    if reading.any() and len(moved):
        trees = [booster.trees[t] for t in np.flatnonzero(reading)]
        read[moved] = _walk(booster, trees, after)
    return rest + read + float(np.ravel(booster.booster._baseline_prediction)[0])


def _walk(booster: _Booster, trees: list[Any], inputs: np.ndarray, start: Any = 0.0) -> np.ndarray:
    """The sum of ``trees``' leaves reached by each row of ``inputs``, added in the trees'
    order to ``start`` (as the booster's own prediction adds them)."""
    from sklearn.utils._openmp_helpers import _openmp_effective_n_threads

    raw = np.zeros((len(inputs), 1), order="F")
    raw += start
    threads = _openmp_effective_n_threads()
    # Blocks that stay in cache: each tree walks every row of its block.
    for begin in range(0, len(inputs) if trees else 0, _BLOCK):
        block = slice(begin, begin + _BLOCK)
        booster.booster._predict_iterations(
            inputs[block], [[tree] for tree in trees], raw[block], False, threads
        )
    return raw[:, 0]


def _boosters(pipeline: Any) -> list[_Booster] | None:
    """Each booster of a binary gradient boosting model, alone or calibrated by
    ``CalibratedClassifierCV`` (sigmoid or isotonic); None for any other model."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.frozen import FrozenEstimator

    if isinstance(pipeline, CalibratedClassifierCV):
        found = []
        for member in getattr(pipeline, "calibrated_classifiers_", []):
            estimator = member.estimator
            if isinstance(estimator, FrozenEstimator):  # calibrated on held-out rows
                estimator = estimator.estimator
            if member.method not in ("sigmoid", "isotonic") or len(member.calibrators) != 1:
                return None
            booster = _booster(estimator, _calibrated(member.calibrators[0]))
            if booster is None:
                return None
            found.append(booster)
        return found or None
    booster = _booster(pipeline, None)
    return None if booster is None else [booster]


def _booster(pipeline: Any, calibrate: Callable[[np.ndarray], np.ndarray] | None) -> Any:
    """The :class:`_Booster` of a fitted ``Pipeline`` of column encoding and a binary
    ``HistGradientBoostingClassifier``; None for any other estimator."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline

    if not isinstance(pipeline, Pipeline) or len(pipeline) < 2:
        return None
    booster = pipeline[-1]
    if (
        not isinstance(booster, HistGradientBoostingClassifier)
        or len(booster.classes_) != 2
        or not all(hasattr(booster, a) for a in ("_predictors", "_predict_iterations"))
    ):
        return None
    encode = pipeline[:-1]
    names = [str(name) for name in encode.get_feature_names_out()]
    placed = _placement(booster, len(names))
    if placed is None:
        return None
    trees = [iteration[0] for iteration in booster._predictors]
    reads = np.zeros((len(trees), len(names)), dtype=bool)
    for t, tree in enumerate(trees):
        split = tree.nodes["feature_idx"][~tree.nodes["is_leaf"].astype(bool)]
        reads[t, split] = True
    if calibrate is None:
        # The booster's own probability (its loss's inverse link), as predict_proba gives.
        def calibrate(raw: np.ndarray) -> np.ndarray:
            return booster._loss.predict_proba(raw)[:, 1]

    return _Booster(
        transform=lambda frame: booster._preprocess_X(encode.transform(frame), reset=False),
        booster=booster,
        trees=trees,
        reads=reads,
        position={name: int(placed[i]) for i, name in enumerate(names)},
        probability=calibrate,
    )


def _placement(booster: Any, n: int) -> np.ndarray | None:
    """Where each input column of ``booster`` lies among the columns its trees split on:
    the booster encodes its categorical columns itself and puts them first. None when its
    encoding is not one scikit-learn's own."""
    encoder = getattr(booster, "_preprocessor", None)
    if encoder is None:
        return np.arange(n)
    placed = np.full(n, -1)
    for name, _, columns in encoder.transformers_:
        taken = np.asarray(columns)
        taken = np.flatnonzero(taken) if taken.dtype == bool else taken.astype(int)
        out = encoder.output_indices_.get(name, slice(0, 0))
        if len(taken) != out.stop - out.start:
            return None
        placed[taken] = np.arange(out.start, out.stop)
    return placed if sorted(placed) == list(range(n)) else None


def _calibrated(calibrator: Any) -> Callable[[np.ndarray], np.ndarray]:
    """A calibrated member's probability of churn from the raw score, as scikit-learn's
    ``_CalibratedClassifier.predict_proba`` gives it (a value a rounding above 1 is 1)."""

    def probability(raw: np.ndarray) -> np.ndarray:
        p = np.asarray(calibrator.predict(raw), dtype=float)
        p[(p > 1.0) & (p <= 1.0 + 1e-5)] = 1.0
        return p

    return probability
