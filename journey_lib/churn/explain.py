"""Why a churn model scores as it does: permutation importance, partial dependence and each
customer's top reasons.

Definitions
-----------
* A **feature group** is a feature with its variants: the look-back windows of one count
  and its trend (``event_delivery_late_30D``, ``_90D``, ``_365D``). Explanations are per
  group by default (:func:`feature_groups`), because the windows of one count carry much the
  same information: shuffled one at a time, each would look unimportant while the others
  stand in for it.
* **Permutation importance** of a group (Breiman, 2001): the drop in the model's ROC AUC
  (or the rise in its Brier score or log loss) on held-out customers when the group's
  columns are shuffled together among the customers, which breaks their link with the
  outcome and keeps their distribution. Each of ``n_repeats`` repeats draws a bootstrap
  resample of the customers and a fresh shuffle, so the percentile interval over the
  repeats covers both the sampling and the shuffling noise. An interval reaching zero means
  the model does not need the group (other features may stand in for it).
* **Partial dependence** of a column (Friedman, 2001): the mean churn probability over the
  customers when every customer's value of the column is set to each grid value.
* A customer's **reason** effect of a group: their churn probability minus the probability
  with the group's columns set to a typical training customer's values (the median of each
  number, the commonest category), in probability points. Positive effects raise the risk,
  and a customer's top reasons are their largest positive effects. This is a one-at-a-time
  comparison with a reference, as reason codes in credit scoring, not a Shapley value: the
  joint effect of interacting features is not split between them, and effects need not
  add up to the score.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from narwhals.typing import IntoFrame

from ..errors import JourneyDataError, JourneyParameterError, check_choice
from ._inputs import binary_labels
from .variants import VariantScorer

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .dataset import ChurnFeatures
    from .model import ChurnModel

__all__ = ["LOSS_WORDS", "Importance", "PartialDependence", "feature_groups"]

#: Importance scorings: whether higher is better (the metric: :func:`_metric`).
SCORINGS: dict[str, bool] = {"roc_auc": True, "brier": False, "log_loss": False}
#: How each scoring's importance is worded: the change in the metric when a group is shuffled.
LOSS_WORDS: dict[str, str] = {
    "roc_auc": "drop in ROC AUC",
    "brier": "rise in Brier score",
    "log_loss": "rise in log loss",
}
REASONS_METHOD = (
    "Reasons: a customer's churn probability minus the probability with one feature group "
    "set to a typical training customer's values (medians, commonest categories), in "
    "probability points; the largest positive differences first. One group at a time, not "
    "a Shapley value"
)
#: Customers whose reasons are found together (the scorer keeps a leaf per tree for each).
_REASONS_BLOCK = 4096
_WINDOWED = re.compile(r"^(?P<base>.+)_(?P<window>\d+[A-Za-z]+)$")


def feature_groups(columns: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Group the look-back windows and the trend of each count under one name.

    A column ``{base}_{window}`` (a window such as ``30D`` or ``12W``) joins the group
    ``base`` when at least two windows of ``base`` are present, and ``trend_{base}`` joins
    it too (the group is ``base*`` if a column is already named ``base``); every other
    column is a group of its own. A group's columns are ordered widest
    window first, then the trend: the first stands for the group where one column must
    (in :meth:`ChurnModel.partial_dependence`).

    Parameters
    ----------
    columns : sequence of str
        Feature names, such as those of :func:`build_dataset`.

    Returns
    -------
    dict
        Group name to its columns, groups in the order of their first column.

    Examples
    --------
    >>> from journey_lib.churn import feature_groups
    >>> feature_groups(["tickets", "event_review_30D", "event_review_365D", "events_30D",
    ...                 "events_90D", "trend_events", "customer_plan"])
    ... # doctest: +NORMALIZE_WHITESPACE
    {'tickets': ('tickets',), 'event_review': ('event_review_365D', 'event_review_30D'),
     'events': ('events_90D', 'events_30D', 'trend_events'), 'customer_plan': ('customer_plan',)}
    """
    windows: dict[str, list[tuple[pd.Timedelta, str]]] = {}
    for name in columns:
        match = _WINDOWED.match(name)
        if match:
            try:
                span = pd.Timedelta(match["window"])
            except ValueError:
                continue
            windows.setdefault(match["base"], []).append((span, name))
    windowed = {base: found for base, found in windows.items() if len(found) > 1}
    owner = {name: base for base, found in windowed.items() for _, name in found}
    for name in columns:
        if name.startswith("trend_") and name[len("trend_") :] in windowed:
            owner[name] = name[len("trend_") :]
    present = set(columns)
    groups: dict[str, tuple[str, ...]] = {}
    for name in columns:
        base = owner.get(name)
        if base is None:
            groups[name] = (name,)
            continue
        # A column may already bear the base's name; the group then takes a star.
        label = f"{base}*" if base in present else base
        if label in groups:
            continue
        spans = sorted(windowed[base], key=lambda pair: pair[0], reverse=True)
        trend = [f"trend_{base}"] if f"trend_{base}" in owner else []
        groups[label] = tuple(n for _, n in spans) + tuple(trend)
    return groups


@dataclasses.dataclass(frozen=True)
class Importance:
    """Permutation importance of a model's feature groups on held-out customers.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per group, most important first: ``feature`` (the group), ``importance``
        (mean over the repeats), ``low`` and ``high`` (percentile interval), ``columns``
        (how many columns the group holds).
    groups : dict
        Group name to its columns.
    scoring : str
        ``"roc_auc"`` (importance is its drop), ``"brier"`` or ``"log_loss"`` (their rise).
    n_repeats, rows : int
        Bootstrap-and-shuffle repeats, and customers used.
    confidence : float
    method : str
        The definition, in a sentence, for reports.
    """

    table: pd.DataFrame
    groups: dict[str, tuple[str, ...]]
    scoring: str
    n_repeats: int
    rows: int
    confidence: float
    method: str

    def top(self, n: int = 10) -> list[str]:
        """The ``n`` most important groups, most important first."""
        return self.table["feature"].head(n).tolist()

    def summary(self, n: int = 10) -> str:
        """The top ``n`` groups with their intervals, for logs and reports."""
        lines = [self.method]
        for row in self.table.head(n).itertuples():
            lines.append(
                f"  {row.feature:<40} {row.importance:+.4f}  [{row.low:+.4f}, {row.high:+.4f}]"
            )
        return "\n".join(lines)

    @property
    def loss_word(self) -> str:
        """What the importance measures, in words: ``"drop in ROC AUC"`` and the like."""
        return LOSS_WORDS[self.scoring]

    def plot(self, n: int = 15, ax: Axes | None = None) -> Figure:
        """The top ``n`` groups as bars with their intervals: see
        :func:`journey_lib.plots.importance`, which draws it."""
        # plots imports churn, so churn reaches plots only when a figure is drawn.
        from ..plots import importance

        return importance(self, n=n, ax=ax)


@dataclasses.dataclass(frozen=True)
class PartialDependence:
    """Mean churn probability as one column moves over a grid, the others as observed.

    Attributes
    ----------
    table : pandas.DataFrame
        ``feature``, ``column`` (the column varied; a group's first column), ``value`` (the
        grid value), ``churn_probability`` (mean over the customers), ``share`` (customers
        at or below a numeric grid value; with a categorical value's frequency).
    categorical : tuple of str
        The columns whose grid is categories.
    rows : int
        Customers averaged over.
    method : str
        The definition, in a sentence, for reports.
    """

    table: pd.DataFrame
    categorical: tuple[str, ...]
    rows: int
    method: str

    def plot(self, axes: Sequence[Axes] | None = None) -> Figure:
        """One panel per feature, categories as points and numbers as lines: see
        :func:`journey_lib.plots.partial_dependence`, which draws it."""
        from ..plots import partial_dependence

        return partial_dependence(self, axes=axes)


def permutation_importance(
    model: ChurnModel,
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
    """See :meth:`ChurnModel.importance`."""
    check_choice("scoring", scoring, tuple(SCORINGS))
    if n_repeats < 2:
        raise JourneyParameterError(
            f"n_repeats must be at least 2 for an interval; got {n_repeats}"
        )
    if not 0 < confidence < 1:
        raise JourneyParameterError(f"confidence must lie in (0, 1); got {confidence}")
    frame = model.align(X)
    labels = binary_labels(y).to_numpy()
    if len(labels) != len(frame):
        raise JourneyDataError(f"X has {len(frame)} rows but y has {len(labels)}")
    named = resolve_groups(model, groups)
    rng = np.random.default_rng(random_state)
    if max_rows is not None and len(frame) > max_rows:
        kept = np.sort(rng.choice(len(frame), size=max_rows, replace=False))
        frame, labels = frame.iloc[kept], labels[kept]
    n = len(frame)
    metric, higher_is_better = _metric(scoring), SCORINGS[scoring]
    draws = rng.integers(0, n, size=(n_repeats, n))
    # Resamples lacking a class cannot be scored by ROC AUC; redraw them (rare above a few
    # dozen customers of each class).
    for r in range(n_repeats):
        while labels[draws[r]].min() == labels[draws[r]].max():
            draws[r] = rng.integers(0, n, size=n)
    donors = rng.permuted(draws, axis=1)
    scorer = VariantScorer(model, frame)
    scores = scorer.base
    base = np.array([metric(labels[d], scores[d]) for d in draws])
    rows = []
    for name, columns in named.items():
        permuted = scorer.mixed(draws.ravel(), columns, donors.ravel()).reshape(n_repeats, n)
        after = np.array([metric(labels[d], p) for d, p in zip(draws, permuted, strict=True)])
        drops = base - after if higher_is_better else after - base
        tail = (1 - confidence) / 2
        rows.append(
            (
                name,
                float(drops.mean()),
                float(np.quantile(drops, tail)),
                float(np.quantile(drops, 1 - tail)),
                len(columns),
            )
        )
    table = pd.DataFrame(rows, columns=["feature", "importance", "low", "high", "columns"])
    table = table.sort_values("importance", ascending=False, kind="stable", ignore_index=True)
    method = (
        f"Permutation importance: {LOSS_WORDS[scoring]} on {n:,} customers when a feature "
        f"group is shuffled; mean and {confidence:.0%} percentile interval over {n_repeats} "
        f"bootstrap resamples, each with a fresh shuffle"
    )
    return Importance(
        table=table,
        groups=named,
        scoring=scoring,
        n_repeats=n_repeats,
        rows=n,
        confidence=confidence,
        method=method,
    )


def partial_dependence(
    model: ChurnModel,
    X: IntoFrame | ChurnFeatures,
    features: Sequence[str],
    *,
    grid: int = 20,
    max_rows: int | None = 1000,
    random_state: int = 0,
) -> PartialDependence:
    """See :meth:`ChurnModel.partial_dependence`."""
    if grid < 2:
        raise JourneyParameterError(f"grid must be at least 2; got {grid}")
    frame = model.align(X)
    if max_rows is not None and len(frame) > max_rows:
        frame = frame.sample(max_rows, random_state=random_state)
    groups = feature_groups(model.features)
    scorer = VariantScorer(model, frame)
    parts = []
    for feature in features:
        column = _column_of(model, groups, feature)
        observed = frame[column]
        if column in model.categorical:
            counts = observed.value_counts(normalize=True).head(grid)
            values, share = counts.index.to_numpy(dtype=object), counts.to_numpy()
        else:
            present = observed.dropna().to_numpy()
            if len(present) == 0:
                continue
            values = np.unique(present)
            if len(values) > grid:
                values = np.unique(np.quantile(present, np.linspace(0.05, 0.95, grid)))
            share = np.searchsorted(np.sort(present), values, side="right") / len(observed)
        # The customers once per grid value, each taking the column from the grid's row.
        grid_rows = frame.iloc[np.zeros(len(values), dtype=int)].reset_index(drop=True)
        grid_rows[column] = pd.Series(values, dtype=observed.dtype)
        probability = scorer.mixed(
            np.tile(np.arange(len(frame)), len(values)),
            [column],
            np.repeat(np.arange(len(values)), len(frame)),
            grid_rows,
        ).reshape(len(values), len(frame))
        parts.append(
            pd.DataFrame(
                {
                    "feature": feature,
                    "column": column,
                    "value": pd.Series(values, dtype=object),
                    "churn_probability": probability.mean(axis=1),
                    "share": share,
                }
            )
        )
    columns = ["feature", "column", "value", "churn_probability", "share"]
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    method = (
        f"Partial dependence: the mean churn probability of {len(frame):,} customers with "
        f"the column set to each grid value, their other columns as observed"
    )
    return PartialDependence(
        table=table, categorical=model.categorical, rows=len(frame), method=method
    )


def reasons(
    model: ChurnModel,
    X: IntoFrame | ChurnFeatures,
    *,
    top: int = 3,
    groups: str | Mapping[str, Sequence[str]] | None = "auto",
) -> pd.DataFrame:
    """See :meth:`ChurnModel.reasons`."""
    if top < 1:
        raise JourneyParameterError(f"top must be at least 1; got {top}")
    frame = model.align(X)
    named = resolve_groups(model, groups)
    names = list(named)
    scores = np.empty(len(frame))
    effects = np.zeros((len(frame), len(names)))
    # The typical customer, as one row to take each group's columns from.
    typical = pd.DataFrame(
        {c: pd.Series([model.reference[c]], dtype=frame[c].dtype) for c in frame.columns}
    )
    # Customers a block at a time: the scorer keeps each block's inputs per booster.
    for start in range(0, len(frame), _REASONS_BLOCK):
        block = frame.iloc[start : start + _REASONS_BLOCK]
        scorer = VariantScorer(model, block)
        scores[start : start + len(block)] = scorer.base
        for j, name in enumerate(names):
            # A customer already typical in the group's columns (no tickets, say, where the
            # typical customer has none) is unchanged by setting them so: the effect is
            # exactly zero, and only the others are scored again (most, for rare events).
            changed = np.zeros(len(block), dtype=bool)
            for column in named[name]:
                changed |= ~_is_reference(block[column], model.reference[column])
            at = np.flatnonzero(changed)
            if len(at):
                effects[start + at, j] = scorer.base[at] - scorer.mixed(
                    at, named[name], np.zeros(len(at), dtype=int), typical
                )
    keep = min(top, len(names))
    # Ranked on effects rounded to 1e-12: a customer's scores differ in their last digits
    # with the rows scored beside them (the linear algebra sums a row by the shape of the
    # block), and a near-tie must not swap two reasons with who else was scored.
    ranked = np.round(effects, 12)
    order = np.argsort(-ranked, axis=1, kind="stable")[:, :keep]
    chosen = np.take_along_axis(effects, order, axis=1)
    customer, rank = np.nonzero(np.take_along_axis(ranked, order, axis=1) > 0)
    group = order[customer, rank]
    values = np.empty(len(customer), dtype=object)
    for j in np.unique(group):
        at = group == j
        values[at] = _describe(frame.iloc[customer[at]], named[names[j]], model.reference)
    result = pd.DataFrame(
        {
            frame.index.name or "customer": frame.index.to_numpy()[customer],
            "rank": rank + 1,
            "feature": np.asarray(names, dtype=object)[group],
            "effect": chosen[customer, rank],
            "values": values,
            "churn_probability": scores[customer],
        }
    )
    result.attrs["method"] = REASONS_METHOD
    return result


def _is_reference(column: pd.Series, reference: Any) -> np.ndarray:
    """Where ``column`` holds ``reference`` (missing where the reference is missing)."""
    if pd.isna(reference):
        return column.isna().to_numpy()
    return (column == reference).fillna(False).to_numpy(dtype=bool)


def resolve_groups(
    model: ChurnModel, groups: str | Mapping[str, Sequence[str]] | None
) -> dict[str, tuple[str, ...]]:
    """``"auto"`` (:func:`feature_groups`), None (every column alone) or a mapping, checked;
    columns a mapping leaves out stand alone."""
    if groups is None:
        return {name: (name,) for name in model.features}
    if isinstance(groups, str):
        check_choice("groups", groups, ("auto",))
        return feature_groups(model.features)
    named = {str(k): tuple(v) for k, v in groups.items()}
    listed = [c for columns in named.values() for c in columns]
    unknown = [c for c in listed if c not in model.features]
    if unknown:
        raise JourneyParameterError(
            f"groups name {len(unknown)} column(s) the model does not use, e.g. {unknown[:3]}"
        )
    if len(set(listed)) < len(listed):
        twice = sorted({c for c in listed if listed.count(c) > 1})
        raise JourneyParameterError(f"groups must not share columns; shared: {twice[:3]}")
    for name in model.features:
        if name not in listed:
            named[name] = (name,)
    return named


def _column_of(model: ChurnModel, groups: dict[str, tuple[str, ...]], feature: str) -> str:
    if feature in model.features:
        return feature
    if feature in groups:
        return groups[feature][0]
    raise JourneyParameterError(
        f"{feature!r} is neither a feature of the model nor a feature group; e.g. "
        f"{list(groups)[:5]}"
    )


def _describe(rows: pd.DataFrame, columns: Sequence[str], reference: Mapping[str, Any]) -> Any:
    """``column=value (typical t)`` for each of the group's columns where the customer is
    not typical, joined with ``; ``."""
    text = pd.Series("", index=range(len(rows)), dtype=object)
    for column in columns:
        observed = rows[column].reset_index(drop=True)
        typical = reference[column]
        same = observed.eq(typical).fillna(False) | (observed.isna() & pd.isna(typical))
        part = f"{column}=" + _as_text(observed) + f" (typical {_as_text(pd.Series([typical]))[0]})"
        text = text.where(same, text + np.where(text == "", "", "; ") + part)
    return text.to_numpy()


def _as_text(values: pd.Series) -> pd.Series:
    """Numbers without needless decimals (``3`` not ``3.0``), missing as ``missing``."""
    if pd.api.types.is_numeric_dtype(values):
        numbers = values.astype("float64")
        whole = numbers.round().eq(numbers)
        integers = numbers.where(whole).astype("Int64").astype(str)
        text = numbers.round(3).astype(str).where(~whole, integers)
    else:
        text = values.astype(str)
    return text.where(values.notna(), "missing").astype(object)


def _metric(scoring: str) -> Any:
    """The scikit-learn metric of a scoring, imported when an importance is computed."""
    from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

    if scoring == "log_loss":
        return lambda y, p: log_loss(y, p, labels=[0, 1])
    return {"roc_auc": roc_auc_score, "brier": brier_score_loss}[scoring]
