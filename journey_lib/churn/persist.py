"""Saving and loading churn models safely, with a model card.

Models are written with skops, whose format records every type it holds and, on load,
refuses any type not explicitly trusted: unlike a pickle, a file cannot run code of its
choosing when opened. journey-lab trusts exactly the types its own models are made of
(scikit-learn and NumPy classes, and the one function scikit-learn's gradient boosting
keeps); a file holding anything else is refused before a single object is built.

The **model card** travels in the same file: the model family and calibration, the
training rows, churners and data fingerprint, how the features were built (cutoff,
horizon, churn definition, windows; when trained on :func:`build_dataset` output), the
features and their types, the typical customer behind the reasons, held-out metrics (when
an evaluation is saved with the model) and the package versions it was trained with.
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import json
import os
import platform
import tempfile
import warnings
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import skops.io as sio

from ..errors import JourneyDataError, JourneyDataWarning

if TYPE_CHECKING:
    from .evaluation import Evaluation
    from .model import ChurnModel

__all__ = ["load", "save"]

FORMAT = "journey-lab churn model"
FORMAT_VERSION = 1
#: Packages whose versions the card records; scikit-learn's must match to load cleanly.
PACKAGES = ("journey-lab", "scikit-learn", "numpy", "pandas", "scipy", "skops", "narwhals")
#: Types outside scikit-learn's classes that journey-lab models hold.
_TRUSTED = frozenset(
    {
        "functools.partial",
        "numpy.dtype",
        # HistGradientBoosting keeps a partial of it to validate inputs.
        "sklearn.utils.validation.check_array",
    }
)


def versions() -> dict[str, str]:
    """Versions of Python and of the packages a model depends on."""
    found = {"python": platform.python_version()}
    for package in PACKAGES:
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "not installed"
    return found


def created() -> str:
    """Now, in UTC, to the second."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def save(model: ChurnModel, path: str | os.PathLike[str], evaluation: Evaluation | None) -> Path:
    """See :meth:`ChurnModel.save`."""
    card = model.card
    if evaluation is not None:
        card["metrics"] = {
            "confidence": evaluation.confidence,
            "n_bootstraps": evaluation.n_bootstraps,
            "table": _records(evaluation),
        }
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "pipeline": model.pipeline,
        "baseline": model.baseline,
        "card": json.dumps(card),
    }
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Written beside the target and renamed, so that a failed save never leaves half a file.
    handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".partial")
    os.close(handle)
    try:
        sio.dump(payload, temporary)
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    return target


def load(path: str | os.PathLike[str]) -> ChurnModel:
    """Load a churn model saved by :meth:`ChurnModel.save`, refusing anything else.

    Parameters
    ----------
    path : str or path
        A ``.skops`` file written by :meth:`ChurnModel.save`.

    Returns
    -------
    ChurnModel
        With its :attr:`ChurnModel.card` as saved.

    Raises
    ------
    JourneyDataError
        When the file is missing, is not a skops file, holds a type journey-lab does not
        trust (a foreign or altered file: nothing is built from it), is damaged, or is not a
        journey-lab churn model.

    Warns
    -----
    JourneyDataWarning
        When the model was trained with another scikit-learn version: its predictions may
        differ, so retrain it.

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> from journey_lib.churn import load, train
    >>> X = pd.DataFrame({"tickets": [0, 1, 2, 3] * 50})
    >>> model = train(X, (X["tickets"] >= 2).astype(int), model="logistic")
    >>> path = model.save(pathlib.Path(tempfile.mkdtemp()) / "churn.skops")
    >>> again = load(path)
    >>> bool((again.predict_proba(X) == model.predict_proba(X)).all())
    True
    """
    source = Path(path)
    if not source.is_file():
        raise JourneyDataError(f"no model file at {source}")
    try:
        present = sio.get_untrusted_types(file=source)
    except Exception as error:
        raise JourneyDataError(
            f"{source} is not a journey-lab churn model: it cannot be read as a skops file "
            f"({type(error).__name__}: {error})"
        ) from error
    refused = sorted(t for t in present if not _trusted(t))
    if refused:
        raise JourneyDataError(
            f"{source} holds {len(refused)} type(s) that journey-lab models never contain, "
            f"e.g. {refused[:3]}; it was not saved by journey-lab or has been altered, and "
            f"nothing was loaded from it"
        )
    try:
        payload = sio.load(source, trusted=present)
    except Exception as error:
        raise JourneyDataError(
            f"{source} is damaged and cannot be loaded ({type(error).__name__}: {error}); "
            f"save the model again"
        ) from error
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise JourneyDataError(
            f"{source} is a skops file but not a journey-lab churn model; load it with "
            f"skops.io.load if you trust it"
        )
    if payload.get("format_version") != FORMAT_VERSION:
        raise JourneyDataError(
            f"{source} has model format {payload.get('format_version')!r}; this journey-lab "
            f"reads format {FORMAT_VERSION}. Use the journey-lab version that saved it"
        )
    try:
        card = json.loads(payload["card"])
        model = _rebuild(payload, card)
    except (KeyError, TypeError, ValueError) as error:
        raise JourneyDataError(
            f"{source} has a damaged model card ({type(error).__name__}: {error}); save the "
            f"model again"
        ) from error
    saved = card.get("versions", {}).get("scikit-learn")
    running = versions()["scikit-learn"]
    if saved != running:
        warnings.warn(
            f"{source} was trained with scikit-learn {saved} and is loaded with {running}: "
            f"its scores may differ; retrain it with this version",
            JourneyDataWarning,
            stacklevel=3,
        )
    return model


def _trusted(name: str) -> bool:
    """One of journey-lab's own types: a scikit-learn class, or a listed type."""
    if name in _TRUSTED:
        return True
    module, _, attribute = name.rpartition(".")
    if not module.startswith("sklearn."):
        return False
    try:
        found = getattr(importlib.import_module(module), attribute)
    except (ImportError, AttributeError):
        return False
    return inspect.isclass(found)


def _rebuild(payload: dict[str, Any], card: dict[str, Any]) -> ChurnModel:
    from .model import ChurnModel

    pipeline, baseline = payload["pipeline"], payload["baseline"]
    for name, estimator in (("pipeline", pipeline), ("baseline", baseline)):
        if not hasattr(estimator, "predict_proba"):
            raise TypeError(f"its {name} is a {type(estimator).__name__}, not a classifier")
    return ChurnModel(
        pipeline=pipeline,
        baseline=baseline,
        base_rate=float(card["base_rate"]),
        model=str(card["model"]),
        calibration=card["calibration"],
        features=tuple(card["features"]),
        numeric=tuple(card["numeric"]),
        categorical=tuple(card["categorical"]),
        training=dict(card["training"]),
        reference=dict(card["reference"]),
        provenance={key: card[key] for key in ("built_from", "created", "versions", "metrics")},
    )


def _records(evaluation: Evaluation) -> list[dict[str, Any]]:
    columns = ["scorer", "metric", "value", "low", "high"]
    return (
        evaluation.metrics[columns]
        .astype({"value": float, "low": float, "high": float})
        .to_dict("records")
    )
