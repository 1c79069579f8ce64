"""The one log profile a run hands every notebook: given (``--profile``) or inferred from the
data, with the command line's hints applied, before any notebook runs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import JourneyDataError, JourneyParameterError
from ..io.profile import LogProfile, profile
from .parameters import CommandLineValue

__all__ = ["CUSTOMERS_PATH", "PROFILE", "PROFILE_FILE", "run_profile"]

#: The parameter that carries the profile, as a mapping, to the notebooks declaring it.
PROFILE = "profile"
#: The parameter naming an optional customer table.
CUSTOMERS_PATH = "customers_path"
#: Where a run keeps its profile.
PROFILE_FILE = "journey.yaml"


def run_profile(
    declared: set[str],
    given: dict[str, Any],
    data: Path | None,
    profile_file: str | os.PathLike[str] | None,
    hints: Mapping[str, Any],
    *,
    data_given: bool,
) -> tuple[LogProfile | None, dict[str, Any]]:
    """Settle the run's profile and put it into ``given`` as the ``profile`` parameter.

    Parameters
    ----------
    declared : set of str
        Parameters the selected notebooks declare.
    given : dict
        The run's parameters so far; ``profile`` is added (and ``customers_path`` set to
        ``""`` when a log is given without one, so a notebook's sample customer table is
        never joined to someone else's log).
    data : Path or None
        The log the notebooks read: the one given, else the notebooks' default.
    profile_file : path, optional
        A profile written by ``journey profile --out``.
    hints : mapping
        ``columns`` and ``conversion`` from the command line. With a given profile, the
        data is profiled again with the profile's entries and these as hints, so what
        follows from a new conversion (its funnel, its kind) is worked out anew.
    data_given : bool
        Whether ``data`` was given for the run (``--data``) rather than the notebooks'
        default log, whose own customer table stays.

    Returns
    -------
    profile : LogProfile or None
        None when no selected notebook declares ``profile``.
    record : dict
        What the manifest says about it: ``source`` (given or inferred) and ``file``.

    Raises
    ------
    JourneyParameterError
        When a profile is given twice, or given to notebooks that take none.
    JourneyDataError
        When the profile cannot be inferred (no customer or time column, ...); the message
        starts with the data's path.
    """
    hints = {k: v for k, v in hints.items() if v is not None}
    if data_given and CUSTOMERS_PATH in declared and CUSTOMERS_PATH not in given:
        given[CUSTOMERS_PATH] = ""
    if PROFILE not in declared:
        if profile_file is not None or hints or PROFILE in given:
            raise JourneyParameterError(
                "a profile or its hints (--profile, --columns, --conversion) were given, but no "
                "selected notebook declares a profile parameter"
            )
        return None, {}
    if PROFILE in given:
        if profile_file is not None:
            raise JourneyParameterError(
                "the profile was given twice (--profile and the profile parameter)"
            )
        raw = given[PROFILE]
        raw = raw.value if isinstance(raw, CommandLineValue) else raw
        base, source = LogProfile.from_dict(raw), "given as a parameter"
    elif profile_file is not None:
        base, source = LogProfile.from_yaml(profile_file), f"given: {Path(profile_file).name}"
    else:
        base, source = None, "inferred from the data"
    if base is not None and hints:
        source += ", with the command line's hints"
    if base is None or hints:
        if data is None:
            raise JourneyParameterError("no data to read a profile from; give --data")
        try:
            found = profile(data, **_as_hints(base, hints))
        except JourneyDataError as exc:
            raise JourneyDataError(f"{data}: {exc}") from None
    else:
        found = base
    given[PROFILE] = found.to_dict()
    return found, {"source": source, "file": PROFILE_FILE}


def _as_hints(base: LogProfile | None, hints: Mapping[str, Any]) -> dict[str, Any]:
    """A given profile's entries as hints for profiling the data again, with the command
    line's on top, so what follows from them is worked out anew: a new conversion gets its
    own funnel, kinds and acquisition; a column named on the command line takes its role
    from whichever column had it. Every event named must then be in the data."""
    if base is None:
        return dict(hints)
    out: dict[str, Any] = {
        "shape": base.shape,
        "acquisition": base.acquisition,
        "churn_event": base.churn_event,
        "advocacy": base.advocacy or None,
        "framework": base.framework,
        "stages": dict(base.stages) or None,
        "funnel": base.funnel or None,
        "kinds": dict(base.kinds) or None,
        "conversion": base.conversion,
        "period": base.period,
        "inactivity": base.inactivity,
        "horizon": base.horizon,
        "cutoff": base.cutoff,
        "currency": base.currency,
        "columns": dict(base.columns),
    }
    if "columns" in hints:
        roles = set(hints["columns"].values())
        kept = {
            c: r for c, r in base.columns.items() if r not in roles and c not in hints["columns"]
        }
        out["columns"] = {**kept, **hints["columns"]}
    if "conversion" in hints and hints["conversion"] != base.conversion:
        old = base.conversion
        out["conversion"] = hints["conversion"]
        out["funnel"] = None
        if out["acquisition"] == old:
            out["acquisition"] = None
        kinds = {e: k for e, k in base.kinds.items() if e not in (old, hints["conversion"])}
        out["kinds"] = kinds or None
    return out
