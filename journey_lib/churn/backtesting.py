"""Backtests: train at one cutoff, test at a later one, as the model will really be used."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from typing import Any

import pandas as pd
from narwhals.typing import IntoFrame

from .._time import duration_us, utc_datetime
from ..errors import JourneyParameterError
from .dataset import build_dataset
from .evaluation import Evaluation
from .model import ChurnModel, train

__all__ = ["Backtest", "backtest"]

_HEADLINE = ("roc_auc", "pr_auc", "brier", "lift_top_10%")


@dataclasses.dataclass(frozen=True)
class Backtest:
    """The results of :func:`backtest`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per (training cutoff, test cutoff) pair: customers and churn rates on both
        sides, and the model's ROC AUC, PR AUC, Brier score and top-10% lift on the test
        customers with bootstrap bounds (``_low``, ``_high``), next to the logistic
        baseline's ROC AUC.
    evaluations : list of Evaluation
        The full evaluation of each pair, in the table's order.
    models : list of ChurnModel
        The model trained at each pair's training cutoff, in the table's order (each with
        its dataset's recipe).
    """

    table: pd.DataFrame
    evaluations: list[Evaluation]
    models: list[ChurnModel]


def backtest(
    events: IntoFrame,
    *,
    cutoffs: Sequence[Any],
    horizon: Any = "90D",
    model: str = "hgb",
    calibrate: bool | str = True,
    random_state: int = 0,
    n_bootstraps: int = 200,
    **dataset_options: Any,
) -> Backtest:
    """Train at each cutoff and test at the next one.

    For consecutive cutoffs ``c_i < c_{i+1}``, a model is trained on
    ``build_dataset(events, cutoff=c_i)`` and evaluated on
    ``build_dataset(events, cutoff=c_{i+1})``: different customers' futures, and the same
    customers later in their lives. The next cutoff must be at least ``horizon`` after the
    previous one, because the training labels are only known ``horizon`` after their cutoff;
    testing earlier would use a model that could not have existed yet.

    Parameters
    ----------
    events : DataFrame
        A touchpoint log of any engine.
    cutoffs : sequence of dates
        At least two, increasing, each at least ``horizon`` after the one before.
    horizon : str or timedelta, default "90D"
    model, calibrate, random_state
        As in :func:`train`.
    n_bootstraps : int, default 200
        Resamples for the intervals (see :meth:`ChurnModel.evaluate`).
    **dataset_options
        Passed to :func:`build_dataset` (``definition``, ``inactivity``, ``customers``...).

    Returns
    -------
    Backtest

    Examples
    --------
    >>> import journey_lib as jl
    >>> sim = jl.simulate(3000, seed=2, progress=False)
    >>> result = jl.churn.backtest(sim.events, cutoffs=["2024-05-01", "2024-08-01"])
    >>> result.table[["train_cutoff", "test_cutoff"]].astype(str).iloc[0].tolist()
    ['2024-05-01 00:00:00+00:00', '2024-08-01 00:00:00+00:00']
    >>> bool(result.table["roc_auc"].iloc[0] > 0.5)
    True
    >>> str(result.models[0].recipe.cutoff.date())
    '2024-05-01'
    """
    moments = [pd.Timestamp(utc_datetime(c, "cutoffs")) for c in cutoffs]
    if len(moments) < 2:
        raise JourneyParameterError(
            f"backtest needs at least two cutoffs (train at one, test at a later one); "
            f"got {len(moments)}"
        )
    span = pd.Timedelta(microseconds=duration_us(horizon, "horizon"))
    for before, after in itertools.pairwise(moments):
        if after < before + span:
            raise JourneyParameterError(
                f"cutoff {after:%Y-%m-%d} is less than the horizon ({horizon}) after "
                f"{before:%Y-%m-%d}: the training labels would not be known yet at test "
                f"time. Space the cutoffs at least the horizon apart"
            )
    datasets = [
        build_dataset(events, cutoff=moment, horizon=horizon, **dataset_options)
        for moment in moments
    ]
    rows, evaluations, models = [], [], []
    for i in range(len(moments) - 1):
        (X_train, y_train), (X_test, y_test) = datasets[i], datasets[i + 1]
        fitted = train(datasets[i], model=model, calibrate=calibrate, random_state=random_state)
        models.append(fitted)
        result = fitted.evaluate(
            X_test,
            y_test,
            n_bootstraps=n_bootstraps,
            random_state=random_state,
        )
        evaluations.append(result)
        metrics = result.metrics.set_index(["scorer", "metric"])
        row: dict[str, Any] = {
            "train_cutoff": moments[i],
            "test_cutoff": moments[i + 1],
            "train_customers": len(X_train),
            "train_churn_rate": float(y_train.mean()),
            "test_customers": len(X_test),
            "test_churn_rate": float(y_test.mean()),
        }
        for metric in _HEADLINE:
            value = metrics.loc[(model, metric)]
            row[metric], row[f"{metric}_low"], row[f"{metric}_high"] = (
                value["value"],
                value["low"],
                value["high"],
            )
        row["baseline_roc_auc"] = metrics.loc[("logistic baseline", "roc_auc"), "value"]
        rows.append(row)
    return Backtest(table=pd.DataFrame(rows), evaluations=evaluations, models=models)
