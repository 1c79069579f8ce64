"""Honest evaluation of churn scores: ranking, calibration and targeting metrics with
bootstrap confidence intervals.

Every metric is computed on ``B`` bootstrap resamples of the customers as well as on the
sample itself. Resamples are represented by how many times each customer is drawn (a
multinomial count), so all of them are evaluated at once on the scores sorted a single
time: no model is refitted and no per-resample Python loop touches customers. Intervals are
percentile intervals.

Definitions (scores sorted from highest; tied scores are one block, counted in proportion
when a cut falls inside it, which is the expectation over random tie-breaks)
----------------------------------------------------------------------------------
* ``roc_auc``: area under the ROC curve (trapezoids over the tie blocks).
* ``pr_auc``: average precision, ``sum_k (R_k - R_{k-1}) P_k`` over the tie blocks (as
  scikit-learn's ``average_precision_score``).
* ``brier``: mean squared difference of score and outcome; ``log_loss``: mean negative
  log-likelihood, scores clipped to [1e-15, 1 - 1e-15].
* ``ece``: expected calibration error over ten equal-width score bins: the customer-weighted
  mean of ``|mean score - churn rate|`` per bin.
* ``capture_top_q``: share of all churners among the top ``q`` of customers by score;
  ``lift_top_q``: their churn rate over the overall rate (``capture / q``).

The points of the ROC and precision-recall curves (:func:`roc_points`, :func:`pr_points`)
are the data twins of :func:`journey_lib.plots.roc` and
:func:`journey_lib.plots.precision_recall`.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import JourneyDataError, JourneyParameterError
from ._inputs import binary_labels

__all__ = ["Evaluation", "evaluate_scores", "pr_points", "roc_points"]

TOP_SHARES: tuple[float, ...] = (0.05, 0.10, 0.20)
_EPS = 1e-15
_CHUNK = 16


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """Metrics of one or more scorers on the same customers.

    Attributes
    ----------
    metrics : pandas.DataFrame
        One row per scorer and metric: ``scorer``, ``metric``, ``value``, ``low``, ``high``.
    gains : pandas.DataFrame
        The main scorer's customers by score decile (10 = highest scores): ``decile``,
        ``customers``, ``churn_rate``, ``capture`` (cumulative share of churners) and
        ``lift`` (cumulative), each estimate with ``_low`` and ``_high`` bounds.
    calibration : pandas.DataFrame
        The main scorer's customers in ten score quantile bins: ``bin``, ``customers``,
        ``mean_score``, ``churn_rate`` with ``churn_rate_low`` and ``churn_rate_high``.
    n_bootstraps : int
    confidence : float
    """

    metrics: pd.DataFrame
    gains: pd.DataFrame
    calibration: pd.DataFrame
    n_bootstraps: int
    confidence: float

    def table(self, column: str = "value") -> pd.DataFrame:
        """Metrics as a grid, one column per scorer (the main scorer first)."""
        grid = self.metrics.pivot(index="metric", columns="scorer", values=column)
        order = list(dict.fromkeys(self.metrics["metric"]))
        scorers = list(dict.fromkeys(self.metrics["scorer"]))
        return grid.loc[order, scorers]

    def summary(self) -> str:
        """The headline metrics with intervals, for logs and reports."""
        main = self.metrics[self.metrics["scorer"] == self.metrics["scorer"].iloc[0]]
        share = f"{self.confidence:.0%}"
        lines = [
            f"{main['scorer'].iloc[0]} ({share} bootstrap intervals, {self.n_bootstraps} resamples)"
        ]
        for row in main.itertuples():
            lines.append(f"  {row.metric:<16} {row.value:.4f}  [{row.low:.4f}, {row.high:.4f}]")
        return "\n".join(lines)


def evaluate_scores(
    y: np.ndarray,
    scores: dict[str, np.ndarray],
    *,
    n_bootstraps: int = 200,
    confidence: float = 0.95,
    random_state: int = 0,
    top: Sequence[float] = TOP_SHARES,
) -> Evaluation:
    """Evaluate scorers (name -> churn probabilities) against 0/1 outcomes ``y``.

    The first scorer is the main one, whose gains and calibration tables are returned.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([0, 0, 1, 1])
    >>> result = evaluate_scores(y, {"model": np.array([0.1, 0.4, 0.35, 0.8])}, n_bootstraps=50)
    >>> float(result.table().loc["roc_auc", "model"])
    0.75
    """
    y = np.asarray(y, dtype="float64")
    if y.ndim != 1 or len(y) == 0:
        raise JourneyDataError("no customers to evaluate")
    if y.min() == y.max():
        raise JourneyDataError(
            f"every one of the {len(y)} customers has outcome {int(y[0])}: ranking metrics "
            f"need churners and stayers; evaluate on a larger or different sample"
        )
    if not 0 < confidence < 1:
        raise JourneyParameterError(f"confidence must be between 0 and 1, got {confidence}")
    if n_bootstraps < 10:
        raise JourneyParameterError(f"n_bootstraps must be at least 10, got {n_bootstraps}")
    rng = np.random.default_rng(random_state)
    n = len(y)
    # Row 0 is the sample itself; the others are resamples. The same resamples serve every
    # scorer, so their differences are paired.
    weights = [np.ones((1, n))]
    for start in range(0, n_bootstraps, _CHUNK):
        size = min(_CHUNK, n_bootstraps - start)
        weights.append(rng.multinomial(n, np.full(n, 1.0 / n), size=size).astype("float64"))
    W = np.concatenate(weights)
    alpha = (1 - confidence) / 2

    rows = []
    main_name = next(iter(scores))
    for name, score in scores.items():
        p = np.asarray(score, dtype="float64")
        if p.shape != y.shape:
            raise JourneyDataError(f"{name}: {len(p)} scores for {n} outcomes")
        blocks = _sorted_blocks(y, p, W)
        if name == main_name:
            main_blocks = blocks
        values = _metrics(y, p, W, top, blocks)
        for metric, series in values.items():
            low, high = _interval(series, alpha)
            rows.append((name, metric, float(series[0]), float(low), float(high)))
    metrics = pd.DataFrame(rows, columns=["scorer", "metric", "value", "low", "high"])
    p_main = np.asarray(scores[main_name], dtype="float64")
    return Evaluation(
        metrics=metrics,
        gains=_gains(main_blocks, alpha),
        calibration=_calibration(y, p_main, W, alpha),
        n_bootstraps=n_bootstraps,
        confidence=confidence,
    )


def _sorted_blocks(y: np.ndarray, p: np.ndarray, W: np.ndarray):
    """Cumulative weights, churners and stayers at the end of each tie block, highest
    scores first, with a leading zero column."""
    order = np.argsort(-p, kind="stable")
    ps, ys, Ws = p[order], y[order], W[:, order]
    ends = np.flatnonzero(np.r_[ps[1:] != ps[:-1], True])

    def cumulative(values: np.ndarray) -> np.ndarray:
        return np.pad(np.cumsum(values, axis=1)[:, ends], ((0, 0), (1, 0)))

    return cumulative(Ws), cumulative(Ws * ys), cumulative(Ws * (1 - ys))


def _captured(total: np.ndarray, positives: np.ndarray, share: float) -> np.ndarray:
    """Churners (weighted) among the top ``share`` of customers, tie blocks prorated."""
    target = share * total[:, -1]
    k = np.minimum((total < target[:, None]).sum(axis=1), total.shape[1] - 1)
    k = np.maximum(k, 1)
    rows = np.arange(total.shape[0])
    before, after = total[rows, k - 1], total[rows, k]
    fraction = np.where(
        after > before, (target - before) / np.where(after > before, after - before, 1), 0
    )
    return positives[rows, k - 1] + np.clip(fraction, 0, 1) * (
        positives[rows, k] - positives[rows, k - 1]
    )


def _metrics(
    y: np.ndarray,
    p: np.ndarray,
    W: np.ndarray,
    top: Sequence[float],
    blocks: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> dict[str, np.ndarray]:
    """Every metric for each row of weights ``W``, given :func:`_sorted_blocks`' counts."""
    total, tp, fp = blocks
    positives, negatives = tp[:, -1], fp[:, -1]
    # A resample can lack a class (tiny samples); its ranking metrics are then undefined.
    with np.errstate(invalid="ignore", divide="ignore"):
        tpr, fpr = tp / positives[:, None], fp / negatives[:, None]
        auc = np.sum(np.diff(fpr, axis=1) * (tpr[:, 1:] + tpr[:, :-1]) / 2, axis=1)
        precision = np.where(tp[:, 1:] + fp[:, 1:] > 0, tp[:, 1:] / (tp[:, 1:] + fp[:, 1:]), 0)
        ap = np.sum(np.diff(tpr, axis=1) * precision, axis=1)
    weight = W.sum(axis=1)
    clipped = np.clip(p, _EPS, 1 - _EPS)
    brier = W @ (p - y) ** 2 / weight
    log_loss = W @ -(y * np.log(clipped) + (1 - y) * np.log(1 - clipped)) / weight
    bins = np.minimum((p * 10).astype("int64"), 9)
    onehot = np.eye(10)[bins]
    count, score_sum, churn_sum = W @ onehot, W @ (onehot * p[:, None]), W @ (onehot * y[:, None])
    with np.errstate(invalid="ignore", divide="ignore"):
        gap = np.where(count > 0, np.abs(score_sum - churn_sum) / np.where(count > 0, count, 1), 0)
    ece = np.sum(count * gap, axis=1) / weight
    out = {"roc_auc": auc, "pr_auc": ap, "brier": brier, "log_loss": log_loss, "ece": ece}
    for share in top:
        with np.errstate(invalid="ignore", divide="ignore"):
            capture = _captured(total, tp, share) / positives
        label = f"{share:.0%}"
        out[f"capture_top_{label}"] = capture
        out[f"lift_top_{label}"] = capture / share
    return out


def _interval(series: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    with warnings.catch_warnings():
        # A cell no resample can estimate (say, a decile of a tiny sample) has no interval.
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = np.nanquantile(series[1:], [alpha, 1 - alpha], axis=0)
    return low, high


def _gains(blocks: tuple[np.ndarray, np.ndarray, np.ndarray], alpha: float) -> pd.DataFrame:
    """Deciles by score from :func:`_sorted_blocks`' cumulative counts."""
    total, tp, _ = blocks
    shares = np.arange(1, 11) / 10
    captured = np.stack([_captured(total, tp, s) for s in shares], axis=1)
    cumulative_rows = np.outer(total[:, -1], shares)
    in_decile = np.diff(np.pad(captured, ((0, 0), (1, 0))), axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        capture = captured / tp[:, -1:]
        lift = capture / shares
        rate = in_decile / (cumulative_rows / np.arange(1, 11))
    table = {
        "decile": np.arange(10, 0, -1),
        "customers": np.round(cumulative_rows[0] / np.arange(1, 11)).astype(int),
    }
    for name, series in (("churn_rate", rate), ("capture", capture), ("lift", lift)):
        low, high = _interval(series, alpha)
        table[name], table[f"{name}_low"], table[f"{name}_high"] = series[0], low, high
    return pd.DataFrame(table)


def _calibration(y: np.ndarray, p: np.ndarray, W: np.ndarray, alpha: float) -> pd.DataFrame:
    edges = np.unique(np.quantile(p, np.linspace(0, 1, 11)))
    bins = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, max(len(edges) - 2, 0))
    # Heavily tied scores leave some quantile bins empty: number the occupied ones.
    bins = np.unique(bins, return_inverse=True)[1]
    k = int(bins.max()) + 1
    onehot = np.eye(k)[bins]
    count = W @ onehot
    with np.errstate(invalid="ignore", divide="ignore"):
        observed = (W @ (onehot * y[:, None])) / count
    low, high = _interval(observed, alpha)
    mean_score = (onehot * p[:, None]).sum(axis=0) / onehot.sum(axis=0)
    return pd.DataFrame(
        {
            "bin": np.arange(1, k + 1),
            "customers": onehot.sum(axis=0).astype(int),
            "mean_score": mean_score,
            "churn_rate": observed[0],
            "churn_rate_low": low,
            "churn_rate_high": high,
        }
    )


def roc_points(y: Any, scores: Any) -> pd.DataFrame:
    """The points of a ROC curve: the data twin of :func:`journey_lib.plots.roc`.

    For each threshold ``t`` (the distinct scores, from the highest; scikit-learn's
    ``roc_curve``, which drops points on straight stretches), customers scoring at least
    ``t`` are flagged: ``true_positive_rate`` is the share of churners flagged,
    ``false_positive_rate`` the share of stayers flagged. The first row, threshold
    ``inf``, flags nobody.

    Parameters
    ----------
    y : array-like
        Outcomes: 0/1, booleans or text such as Yes/No (1 = churned).
    scores : array-like or mapping
        Scores, higher meaning likelier to churn, one per outcome; or a mapping of scorer
        name to such scores (``{"model": p, "logistic baseline": q}``), to compare scorers
        on the same customers.

    Returns
    -------
    pandas.DataFrame
        ``threshold``, ``false_positive_rate``, ``true_positive_rate``; for a mapping, a
        ``scorer`` column first, each scorer's points together in the mapping's order.

    Examples
    --------
    >>> roc_points([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
       threshold  false_positive_rate  true_positive_rate
    0        inf                  0.0                 0.0
    1       0.80                  0.0                 0.5
    2       0.40                  0.5                 0.5
    3       0.35                  0.5                 1.0
    4       0.10                  1.0                 1.0
    >>> roc_points([0, 1], {"model": [0.2, 0.9], "coin": [0.5, 0.5]})
      scorer  threshold  false_positive_rate  true_positive_rate
    0  model        inf                  0.0                 0.0
    1  model        0.9                  0.0                 1.0
    2  model        0.2                  1.0                 1.0
    3   coin        inf                  0.0                 0.0
    4   coin        0.5                  1.0                 1.0
    """

    from sklearn.metrics import roc_curve

    def points(labels: np.ndarray, values: np.ndarray) -> pd.DataFrame:
        fpr, tpr, thresholds = roc_curve(labels, values)
        return pd.DataFrame(
            {"threshold": thresholds, "false_positive_rate": fpr, "true_positive_rate": tpr}
        )

    return _per_scorer(y, scores, points)


def pr_points(y: Any, scores: Any) -> pd.DataFrame:
    """The points of a precision-recall curve: the data twin of
    :func:`journey_lib.plots.precision_recall`.

    For each threshold ``t`` (the distinct scores, from the highest; scikit-learn's
    ``precision_recall_curve``), customers scoring at least ``t`` are flagged: ``recall`` is
    the share of churners flagged, ``precision`` the share of the flagged who churned. The
    first row, threshold ``inf``, flags nobody: recall 0 and precision 1 by convention; the
    last, the lowest score, flags everyone: its precision is the base rate. Average
    precision is ``sum((recall[k] - recall[k-1]) * precision[k])`` over the rows.

    Parameters
    ----------
    y, scores : array-like, or a mapping of scorer name to scores
        As for :func:`roc_points`.

    Returns
    -------
    pandas.DataFrame
        ``threshold``, ``recall``, ``precision``, recall rising down the rows; for a
        mapping, a ``scorer`` column first, as in :func:`roc_points`.

    Examples
    --------
    >>> pr_points([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]).round(3)
       threshold  recall  precision
    0        inf     0.0      1.000
    1       0.80     0.5      1.000
    2       0.40     0.5      0.500
    3       0.35     1.0      0.667
    4       0.10     1.0      0.500
    """

    from sklearn.metrics import precision_recall_curve

    def points(labels: np.ndarray, values: np.ndarray) -> pd.DataFrame:
        precision, recall, thresholds = precision_recall_curve(labels, values)
        # scikit-learn lists rising thresholds and ends with the (recall 0, precision 1)
        # point, which has no threshold; reversed, rows run from flagging nobody to
        # flagging everyone.
        return pd.DataFrame(
            {
                "threshold": np.append(thresholds, np.inf)[::-1],
                "recall": recall[::-1],
                "precision": precision[::-1],
            }
        )

    return _per_scorer(y, scores, points)


def _per_scorer(
    y: Any, scores: Any, points: Callable[[np.ndarray, np.ndarray], pd.DataFrame]
) -> pd.DataFrame:
    """``points(labels, values)`` of one array of scores, or of each scorer of a mapping
    stacked under a ``scorer`` column."""
    labels = binary_labels(y).to_numpy()
    if not isinstance(scores, Mapping):
        return points(labels, _checked_scores(labels, scores, "scores"))
    if not scores:
        raise JourneyParameterError("scores must name at least one scorer")
    frames = [
        points(labels, _checked_scores(labels, values, f"scores of {name!r}")).assign(scorer=name)
        for name, values in scores.items()
    ]
    stacked = pd.concat(frames, ignore_index=True)
    return stacked[["scorer", *stacked.columns[:-1]]]


def _checked_scores(labels: np.ndarray, scores: Any, what: str) -> np.ndarray:
    """Scores as floats, checked to match the outcomes and to be finite."""
    values = np.asarray(scores, dtype="float64")
    if values.shape != labels.shape:
        raise JourneyDataError(f"{len(labels)} outcomes but {what} of shape {values.shape}")
    if not np.isfinite(values).all():
        raise JourneyDataError(
            f"{int((~np.isfinite(values)).sum())} {what} are missing or infinite"
        )
    return values
