"""Analytical CRM churn modelling: who is about to leave, and what keeping them is worth.

``build_dataset`` turns a touchpoint log into point-in-time features and labels, with the
``FeatureRecipe`` that built them; ``train`` fits a calibrated scikit-learn model with its
baselines, keeps the recipe and explains it (permutation importance, partial dependence,
each customer's reasons); ``build_features(..., recipe=model.recipe)`` builds the customers
to score alike; ``backtest`` trains at one cutoff and tests at a later one; ``at_risk``
trains at the latest labelled cutoff and lists the customers to call today.
"""

from .backtesting import Backtest, backtest
from .call_list import AtRisk, at_risk
from .dataset import (
    ChurnDataset,
    ChurnFeatures,
    DatasetReport,
    FeatureRecipe,
    build_dataset,
    build_features,
)
from .evaluation import Evaluation
from .explain import Importance, PartialDependence, feature_groups
from .model import CALIBRATIONS, MODELS, ChurnModel, load, train
from .targeting import Targeting

__all__ = [
    "CALIBRATIONS",
    "MODELS",
    "AtRisk",
    "Backtest",
    "ChurnDataset",
    "ChurnFeatures",
    "ChurnModel",
    "DatasetReport",
    "Evaluation",
    "FeatureRecipe",
    "Importance",
    "PartialDependence",
    "Targeting",
    "at_risk",
    "backtest",
    "build_dataset",
    "build_features",
    "feature_groups",
    "load",
    "train",
]
