"""Churn probabilities of variants of customers: the same customers with a few columns
changed, as the explanations score them (shuffled for permutation importance, set to a grid
value for partial dependence, set to the typical customer for reasons).

A gradient-boosted tree's output changes only where the tree splits on a changed column,
and each of the booster's trees reads a handful of the features: on the simulator's churn
table a feature group is read by a tenth of the trees. So for a scikit-learn
``HistGradientBoostingClassifier`` (alone or calibrated, as :func:`journey_lib.churn.train`
fits it) the scorer keeps the leaf each tree gives each customer, walks a variant through
the trees that read a changed column only, and adds the leaves up as the booster does: the
baseline, then each tree in turn. Each probability is then the one scoring the variant
whole gives, to the bit (so customers who reach the same leaves tie, as ROC AUC needs, and
a customer whose change reaches no other leaf keeps their own score). Other models score
every variant whole.

This reads the booster's fitted trees (``_predictors``, each tree's ``predict``), which
scikit-learn does not promise to keep; ``tests/test_churn_variants.py`` holds the result to
scoring whole on every kind of model :func:`train` fits, so a change there fails a test
rather than an explanation.
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
    baseline: float
    trees: list[Any]
    categories: tuple[Any, Any]  # the known categories' bitsets and their columns' map
    reads: np.ndarray  # (trees, columns): tree t splits on column c
    position: dict[str, int]  # an aligned column's position among the booster's inputs
    probability: Callable[[np.ndarray], np.ndarray]

    def leaves(self, trees: Sequence[int], inputs: np.ndarray) -> np.ndarray:
        """The leaf value each of ``trees`` (positions) gives each row: (rows, trees)."""
        from sklearn.utils._openmp_helpers import _openmp_effective_n_threads

        threads = _openmp_effective_n_threads()
        found = np.empty((len(trees), len(inputs)))
        # Blocks of rows that stay in cache: each tree walks every row of its block.
        for begin in range(0, len(inputs), _BLOCK):
            block = inputs[begin : begin + _BLOCK]
            for k, t in enumerate(trees):
                found[k, begin : begin + len(block)] = self.trees[t].predict(
                    block, *self.categories, threads
                )
        return found.T

    def running(self, leaves: np.ndarray) -> np.ndarray:
        """Each row's running raw score, added as the booster adds it: the baseline, then
        each tree's leaf in turn (rows, trees + 1); the last column is the raw score."""
        total = np.empty((len(leaves), leaves.shape[1] + 1))
        total[:, 0] = self.baseline
        total[:, 1:] = leaves
        # Accumulated one term after another (not pairwise, as a sum would be): the very
        # additions scikit-learn makes, so the scores agree to the bit.
        return np.add.accumulate(total, axis=1, out=total)


class VariantScorer:
    """Churn probabilities of variants of ``frame``'s customers, each a row of ``frame``
    with some columns taken from a row of another frame, equal to scoring each variant
    whole.

    Parameters
    ----------
    model : ChurnModel
    frame : pandas.DataFrame
        Customers aligned by :meth:`ChurnModel.align`. A gradient boosting model keeps
        each tree's leaf value for each of them, and the running score after each tree:
        rows x trees x 16 bytes (2,000 customers and 3,000 trees: 96 MB).

    Attributes
    ----------
    base : numpy.ndarray
        ``frame``'s own churn probabilities, equal to ``model.predict_aligned(frame)``.
    treewise : bool
        Whether variants walk only the trees that read a changed column (a gradient
        boosting model; columns that most of its trees read are still scored whole, which
        is quicker for them) or are scored whole (any other model).

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
    >>> bool((with_three == model.predict_aligned(three)).all())
    True
    """

    def __init__(self, model: ChurnModel, frame: pd.DataFrame) -> None:
        self.model = model
        self.frame = frame
        found = _boosters(model.pipeline)
        # A booster fed other columns than the model's (a model saved by hand) is scored whole.
        if found is not None and not all(
            column in b.position for b in found for column in model.features
        ):
            found = None
        self._boosters = found
        self.treewise = found is not None
        if found is None:
            self.base = model.predict_aligned(frame)
            return
        self._sources: dict[int, tuple[pd.DataFrame, list[np.ndarray]]] = {}
        self._inputs = [b.transform(frame) for b in found]
        self._leaves = [
            np.ascontiguousarray(b.leaves(range(len(b.trees)), inputs))
            for b, inputs in zip(found, self._inputs, strict=True)
        ]
        self._running = [b.running(leaves) for b, leaves in zip(found, self._leaves, strict=True)]
        self.base = self._average([running[:, -1] for running in self._running])

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
        readers = [
            b.reads[:, [b.position[c] for c in columns]].any(axis=1) for b in self._boosters or []
        ]
        # Columns most trees read (the top features) are quicker scored whole, to the same bit.
        if self._boosters is None or sum(r.sum() for r in readers) > sum(map(len, readers)) / 2:
            variant = self.frame.iloc[rows].reset_index(drop=True)
            for column in columns:
                variant[column] = donor_frame[column].iloc[donors].reset_index(drop=True)
            return self.model.predict_aligned(variant)
        raws = []
        sources = self._inputs if source is None else self._transformed(source)
        for booster, inputs, leaves, running, reader, taken in zip(
            self._boosters,
            self._inputs,
            self._leaves,
            self._running,
            readers,
            sources,
            strict=True,
        ):
            at = [booster.position[column] for column in columns]
            reading = np.flatnonzero(reader)
            scores = running[rows, -1]
            new = taken[np.ix_(donors, at)]
            old = inputs[np.ix_(rows, at)]
            # Only rows whose inputs change are walked again (a shuffled count of a rare
            # event mostly swaps a zero for a zero), through the trees that read them.
            moved = np.flatnonzero(~((new == old) | (np.isnan(new) & np.isnan(old))).all(axis=1))
            if len(reading) and len(moved):
                after = inputs[rows[moved]]
                after[:, at] = new[moved]
                walked = booster.leaves(reading, after)
                # Rows that reach another leaf of some tree are added up again from the first
                # tree that reads a changed column, their running score before it kept.
                other = (walked != leaves[np.ix_(rows[moved], reading)]).any(axis=1)
                if other.any():
                    again, first = rows[moved[other]], reading[0]
                    tail = np.empty((len(again), len(booster.trees) - first + 1))
                    tail[:, 0] = running[again, first]
                    tail[:, 1:] = leaves[again, first:]
                    tail[:, 1 + reading - first] = walked[other]
                    scores[moved[other]] = np.add.accumulate(tail, axis=1, out=tail)[:, -1]
            raws.append(scores)
        return self._average(raws)

    def _transformed(self, source: pd.DataFrame) -> list[np.ndarray]:
        """``source`` as each booster's inputs, worked out once per source frame (the
        reasons take every group's values from the same typical customer)."""
        assert self._boosters is not None
        kept = self._sources.get(id(source))
        if kept is None:
            # The frame is kept with its inputs, so that its id is not another's later.
            kept = self._sources[id(source)] = (
                source,
                [b.transform(source) for b in self._boosters],
            )
        return kept[1]

    def _average(self, raws: list[np.ndarray]) -> np.ndarray:
        """The model's probability from each booster's raw scores, averaged as scikit-learn's
        ``CalibratedClassifierCV`` does (summed in order, then divided)."""
        assert self._boosters is not None
        total = np.zeros(len(raws[0]))
        for booster, raw in zip(self._boosters, raws, strict=True):
            total += booster.probability(raw)
        return total / len(raws)


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
        or not all(hasattr(booster, a) for a in ("_predictors", "_bin_mapper", "_preprocess_X"))
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
        baseline=float(np.ravel(booster._baseline_prediction)[0]),
        trees=trees,
        categories=booster._bin_mapper.make_known_categories_bitsets(),
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
