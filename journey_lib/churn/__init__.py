"""Analytical CRM churn modelling: who is about to leave, and what keeping them is worth.

``build_dataset`` turns a touchpoint log into point-in-time features and labels; ``train``
fits a calibrated scikit-learn model with its baselines; ``backtest`` trains at one cutoff
and tests at a later one.
"""

from .backtest import Backtest, backtest
from .dataset import ChurnDataset, DatasetReport, build_dataset
from .evaluation import Evaluation
from .model import CALIBRATIONS, MODELS, ChurnModel, train

__all__ = [
    "CALIBRATIONS",
    "MODELS",
    "Backtest",
    "ChurnDataset",
    "ChurnModel",
    "DatasetReport",
    "Evaluation",
    "backtest",
    "build_dataset",
    "train",
]
