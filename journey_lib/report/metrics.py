"""The key figures notebooks record for a run, merged into the run folder's ``metrics.json``."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock

from ..errors import JourneyParameterError
from .files import read_json, write_json
from .text import shorten

__all__ = ["record_metrics"]

#: Where metrics.json keeps the figures of simulated teaching data.
TEACHING = "teaching"
#: Top-level names of metrics.json that are not a notebook's.
RESERVED = frozenset({"summary", TEACHING})
#: The lock file beside metrics.json while notebooks record (the runner removes it).
METRICS_LOCK = ".metrics.json.lock"


def record_metrics(
    metrics: Mapping[str, Any],
    *,
    notebook: str,
    run_folder: str | os.PathLike[str] | None,
    teaching: bool = False,
) -> dict[str, Any]:
    """Record a notebook's key figures in the run's ``metrics.json``.

    The figures are merged into ``<run_folder>/metrics.json`` under ``notebook`` (a figure
    recorded again replaces the earlier value); with ``teaching=True`` under
    ``"teaching"`` and then ``notebook``, so figures of simulated teaching data are never
    read as the data's. The run's summary is kept under ``"summary"``, so neither name
    can be a notebook's. Notebooks call it with the ``run_folder``
    parameter that :func:`run_report` fills in; when a notebook runs interactively,
    ``run_folder`` is ``None`` (or ``""``, a parameter default some notebooks use) and
    nothing is written.

    Parameters
    ----------
    metrics : mapping of str to scalar
        Numbers, text or booleans. NumPy scalars become Python ones; NaN and infinities
        (which JSON cannot hold) and ``None`` are written as ``null``.
    notebook : str
        The key to record under, usually the notebook's name.
    run_folder : path or None
        The run folder, or ``None`` or ``""`` for interactive use.
    teaching : bool, default False
        The figures are of simulated teaching data (the primer's), not of the data.

    Returns
    -------
    dict
        The cleaned figures, as written.

    Raises
    ------
    JourneyParameterError
        A value is not a scalar (the message names its key), a key is not text, the
        notebook is called ``summary`` or ``teaching``, or the run folder does not exist.

    Examples
    --------
    >>> import numpy as np
    >>> record_metrics({"customers": np.int64(2000), "churn_rate": float("nan")},
    ...                notebook="03_retention", run_folder=None)
    {'customers': 2000, 'churn_rate': None}
    >>> import json, tempfile
    >>> with tempfile.TemporaryDirectory() as run:
    ...     _ = record_metrics({"auc": 0.81}, notebook="05_churn", run_folder=run)
    ...     _ = record_metrics({"customers": 2000}, notebook="05_churn", run_folder=run)
    ...     print(json.loads((Path(run) / "metrics.json").read_text()))
    {'05_churn': {'auc': 0.81, 'customers': 2000}}
    >>> with tempfile.TemporaryDirectory() as run:
    ...     _ = record_metrics({"customers": 3000}, notebook="00_primer", run_folder=run,
    ...                        teaching=True)
    ...     print(json.loads((Path(run) / "metrics.json").read_text()))
    {'teaching': {'00_primer': {'customers': 3000}}}
    """
    if not isinstance(notebook, str) or not notebook:
        raise JourneyParameterError(f"notebook must be a non-empty name, got {notebook!r}")
    if notebook in RESERVED:
        raise JourneyParameterError(
            f"notebook {notebook!r}: metrics.json keeps the run's {notebook} under that name; "
            "record under the notebook's own name"
        )
    cleaned = {_metric_key(key): _metric_value(key, value) for key, value in metrics.items()}
    if run_folder is None or run_folder == "":  # "" would otherwise mean the current folder
        return cleaned
    folder = Path(run_folder)
    if not folder.is_dir():
        raise JourneyParameterError(f"run_folder {str(folder)!r}: no such folder")
    path = folder / "metrics.json"
    # Notebooks of one run record at once (journey report runs several together): each
    # reads, merges and writes under the lock, so none loses another's figures.
    with FileLock(folder / METRICS_LOCK):
        recorded = read_json(path) if path.exists() else {}
        section = recorded.setdefault(TEACHING, {}) if teaching else recorded
        section.setdefault(notebook, {}).update(cleaned)
        write_json(path, recorded)
    return cleaned


def _metric_key(key: Any) -> str:
    if not isinstance(key, str):
        raise JourneyParameterError(f"metric names must be text, got {key!r}")
    return key


def _metric_value(key: str, value: Any) -> bool | int | float | str | None:
    # NumPy numbers, booleans and text to Python's; not datetime64, whose item() can be an int.
    if isinstance(value, np.number | np.bool_ | np.str_):
        value = value.item()
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    raise JourneyParameterError(
        f"metric {key!r}: {type(value).__name__} {shorten(repr(value), 40)} is not a number, "
        "text or bool; record a scalar (e.g. float(x) or str(x))"
    )
