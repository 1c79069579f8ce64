"""One family of errors and warnings, so callers can catch everything journey-lab raises.

Every error derives from :class:`JourneyError`. Errors about the data or the arguments also
derive from :class:`ValueError`, so code written against pandas or scikit-learn conventions
(``except ValueError``) keeps working.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any

__all__ = [
    "JourneyDataError",
    "JourneyDataWarning",
    "JourneyError",
    "JourneyNotFittedError",
    "JourneyParameterError",
    "ReportInterrupted",
    "check_choice",
    "check_count",
]


class JourneyError(Exception):
    """Base class of every error journey-lab raises on purpose."""


class JourneyDataError(JourneyError, ValueError):
    """The data cannot be used: a required column is missing, a file is unreadable, or no
    valid row remains. The message names the column or file, the count and an example."""


class JourneyParameterError(JourneyError, ValueError):
    """An argument has an invalid value; the message lists the valid ones."""


class JourneyNotFittedError(JourneyError, ValueError, AttributeError):
    """A model was used before ``fit``; like scikit-learn's ``NotFittedError`` it is also a
    ValueError and an AttributeError (so ``hasattr(model, "params_")`` is False)."""


class ReportInterrupted(JourneyError):
    """A report run stopped by SIGTERM or SIGINT, raised once its run folder was finished
    all the same. ``result`` is the :class:`~journey_lib.report.RunResult`, ``signal`` the
    signal's name (``"SIGTERM"``), ``exit_code`` 128 + its number as a shell reports it (130
    for SIGINT, 143 for SIGTERM); the message says how far the run got and where it is."""

    def __init__(self, message: str, *, result: Any, signal: str, exit_code: int) -> None:
        super().__init__(message)
        self.result = result
        self.signal = signal
        self.exit_code = exit_code


class JourneyDataWarning(UserWarning):
    """Rows were quarantined or values reinterpreted; the data was still usable."""


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> None:
    """Raise :class:`JourneyParameterError` naming the valid values unless ``value`` is one.

    Examples
    --------
    >>> check_choice("period", "week", ("day", "week"))
    >>> check_choice("period", "fortnight", ("day", "week"))
    Traceback (most recent call last):
    ...
    journey_lib.errors.JourneyParameterError: period must be one of 'day', 'week'; got 'fortnight'
    """
    options = tuple(choices)
    if value not in options:
        raise JourneyParameterError(
            f"{name} must be one of {', '.join(map(repr, options))}; got {value!r}"
        )


def check_count(name: str, value: Any, minimum: int = 1) -> None:
    """Raise :class:`JourneyParameterError` unless ``value`` is a whole number of at least
    ``minimum`` (a bool is not a number here).

    Examples
    --------
    >>> check_count("steps", 5)
    >>> check_count("steps", 1, minimum=2)
    Traceback (most recent call last):
    ...
    journey_lib.errors.JourneyParameterError: steps must be a whole number of at least 2, got 1
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise JourneyParameterError(
            f"{name} must be a whole number of at least {minimum}, got {value!r}"
        )
