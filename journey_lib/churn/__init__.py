"""Analytical CRM churn modelling: who is about to leave, and what keeping them is worth.

``build_dataset`` turns a touchpoint log into point-in-time features and labels.
"""

from .dataset import ChurnDataset, DatasetReport, build_dataset

__all__ = ["ChurnDataset", "DatasetReport", "build_dataset"]
