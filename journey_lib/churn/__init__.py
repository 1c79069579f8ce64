"""Analytical CRM churn modelling: who is about to leave, and what keeping them is worth.

``build_dataset`` turns a touchpoint log into point-in-time features and labels; ``train``
fits a calibrated scikit-learn model with its baselines and explains it (permutation
importance, partial dependence, each customer's reasons); ``backtest`` trains at one cutoff
and tests at a later one.
"""

from .backtesting import Backtest, backtest
from .dataset import ChurnDataset, DatasetReport, build_dataset, build_features
from .evaluation import Evaluation
from .explain import Importance, PartialDependence, feature_groups
from .model import CALIBRATIONS, MODELS, ChurnModel, train
from .persist import load
from .targeting import Targeting

__all__ = [
    "CALIBRATIONS",
    "MODELS",
    "Backtest",
    "ChurnDataset",
    "ChurnModel",
    "DatasetReport",
    "Evaluation",
    "Importance",
    "PartialDependence",
    "Targeting",
    "backtest",
    "build_dataset",
    "build_features",
    "feature_groups",
    "load",
    "train",
]
