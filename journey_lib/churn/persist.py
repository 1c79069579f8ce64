"""Saving and loading churn models safely: the file format behind :meth:`ChurnModel.save`
and :func:`journey_lib.churn.load`.

Models are written with skops, whose format records every type it holds and, on load,
refuses any type not explicitly trusted: unlike a pickle, a file cannot run code of its
choosing when opened. journey-lab trusts exactly the types its own models are made of
(scikit-learn and NumPy classes, and the one function scikit-learn's gradient boosting
keeps); a file holding anything else is refused before a single object is built.

The **model card** travels in the same file, as JSON: the model family and calibration, the
training rows, churners and data fingerprint, how the features were built (the model's
:class:`~journey_lib.churn.FeatureRecipe`: cutoff, horizon, churn definition, windows), the
features and their types, the typical customer behind the reasons, held-out metrics (when
an evaluation is saved with the model) and the package versions it was trained with. This
module reads and writes the file; :mod:`journey_lib.churn.model` makes the card and the
model of it.
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
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, TypeVar

from ..errors import JourneyDataError, JourneyDataWarning

__all__ = ["created", "read", "versions", "write"]

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

Model = TypeVar("Model")


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


def write(
    path: str | os.PathLike[str], *, pipeline: Any, baseline: Any, card: dict[str, Any]
) -> Path:
    """Write a model's two estimators and its card (plain values) to a skops file at
    ``path``, creating its folder; see :meth:`ChurnModel.save`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sklearn.dummy import DummyClassifier
    >>> fitted = DummyClassifier().fit([[0], [1]], [0, 1])
    >>> path = write(pathlib.Path(tempfile.mkdtemp()) / "m.skops", pipeline=fitted,
    ...              baseline=fitted, card={"versions": versions()})
    >>> read(path, lambda pipeline, baseline, card: sorted(card))
    ['versions']
    """
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "pipeline": pipeline,
        "baseline": baseline,
        "card": json.dumps(card),
    }
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Written beside the target and renamed, so that a failed save never leaves half a file.
    handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".partial")
    os.close(handle)
    try:
        _skops().dump(payload, temporary)
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    return target


def read(path: str | os.PathLike[str], build: Callable[[Any, Any, dict[str, Any]], Model]) -> Model:
    """Read a file written by :func:`write`, refusing anything else, and make a model of it
    with ``build(pipeline, baseline, card)``.

    ``build`` raising KeyError, TypeError or ValueError means the card is damaged. See
    :func:`journey_lib.churn.load` for the errors and the warning.
    """
    source = Path(path)
    if not source.is_file():
        raise JourneyDataError(f"no model file at {source}")
    try:
        present = _skops().get_untrusted_types(file=source)
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
        payload = _skops().load(source, trusted=present)
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
        model = build(payload["pipeline"], payload["baseline"], card)
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
            stacklevel=4,  # the caller of journey_lib.churn.load
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


def _skops() -> Any:
    """skops.io, imported when a model is saved or loaded: it imports pytest, which
    ``import journey_lib`` need not pay for."""
    import skops.io

    return skops.io
