"""Everything a run checks before any notebook runs: the notebooks selected, the parameters
each receives (checked against what it declares), and the data they read, fingerprinted.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import JourneyDataError, JourneyParameterError
from .files import read_notebook
from .fingerprint import data_fingerprint
from .parameters import (
    DATA_PATH,
    PREPARED,
    RUN_FOLDER,
    CommandLineValue,
    NotebookParameter,
    literal_value,
    notebook_parameters,
    parameter_cells,
)
from .run_profile import CUSTOMERS_PATH
from .text import shorten


@dataclasses.dataclass
class Planned:
    """A notebook about to run: where it is, what it declares and what it will receive."""

    path: Path
    declared: dict[str, NotebookParameter]
    parameters: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.stem


def plan_notebooks(notebooks_dir: Path, only: Sequence[str] | None) -> list[Planned]:
    """The notebooks of ``notebooks_dir`` to run (all, or those ``only`` names), in name
    order, each with the parameters it declares; exactly one parameters cell each."""
    if not notebooks_dir.is_dir():
        raise JourneyParameterError(f"notebooks folder {str(notebooks_dir)!r}: no such folder")
    paths = sorted(
        (p for p in notebooks_dir.glob("*.ipynb") if p.is_file() and not p.name.startswith(".")),
        key=lambda p: p.name,
    )
    if not paths:
        raise JourneyParameterError(f"notebooks folder {str(notebooks_dir)!r}: no .ipynb file")
    planned = []
    for path in _select(paths, only):
        count = len(parameter_cells(read_notebook(path)))
        if count != 1:
            raise JourneyParameterError(
                f"{path.name}: {count} cells are tagged 'parameters'; a report notebook needs "
                "exactly one (papermill injects the parameters after it)"
            )
        planned.append(Planned(path, notebook_parameters(path)))
    return planned


def _select(paths: list[Path], only: Sequence[str] | None) -> list[Path]:
    """The notebooks ``only`` names, in name order; every name must match one."""
    if not only:
        return paths
    chosen: set[Path] = set()
    unknown = []
    for item in (entry.strip() for entry in only):
        matches = [path for path in paths if _matches(path, item)]
        if not matches:
            unknown.append(item)
        chosen.update(matches)
    if unknown:
        valid = ", ".join(path.stem for path in paths)
        raise JourneyParameterError(
            f"unknown notebook {', '.join(map(repr, unknown))} in --only; valid: {valid} "
            "(with or without .ipynb, or their number prefix)"
        )
    return [path for path in paths if path in chosen]


def _matches(path: Path, item: str) -> bool:
    if item in (path.name, path.stem):
        return True
    prefix = re.match(r"\d+", path.stem)
    return bool(prefix and item.isdigit() and int(item) == int(prefix.group()))


def given_data(
    data: str | os.PathLike[str] | None, given: dict[str, Any], planned: list[Planned]
) -> Path | None:
    """The data path given (``data``, or a ``data_path`` parameter, which means the same), made
    absolute: the user wrote it from their folder, the notebooks run in theirs."""
    where = "--data"
    if DATA_PATH in given:
        if data is not None:
            raise JourneyParameterError(
                f"the data path was given twice (--data and the {DATA_PATH} parameter)"
            )
        raw = given[DATA_PATH]
        # From the command line, a path is its text even where YAML reads it otherwise.
        value, text = (raw.value, raw.text) if isinstance(raw, CommandLineValue) else (raw, raw)
        if value is None:
            raise JourneyParameterError(
                f"{DATA_PATH} must be a file or folder; got {text!r} (leave it out to use "
                f"each notebook's own)"
            )
        data, where = text, DATA_PATH
        if not isinstance(data, str | os.PathLike):
            return None  # not a path: the type check reports it
    if data is None:
        return None
    if not any(DATA_PATH in plan.declared for plan in planned):
        names = ", ".join(plan.name for plan in planned)
        raise JourneyParameterError(
            f"{where}: no selected notebook declares a {DATA_PATH} parameter ({names})"
        )
    path = Path(data).expanduser().resolve()
    if not path.exists():
        raise JourneyDataError(f"{where} {str(data)!r}: no such file or folder")
    given[DATA_PATH] = str(path)
    return path


def given_customers(given: dict[str, Any]) -> None:
    """Make a ``customers_path`` parameter given as a path absolute, as :func:`given_data`
    does for the data: the user wrote it from their folder, the notebooks run in theirs
    (``""``, no customer table, stays as it is)."""
    raw = given.get(CUSTOMERS_PATH)
    text = raw.text if isinstance(raw, CommandLineValue) else raw
    if not isinstance(text, str | os.PathLike) or not str(text):
        return  # none given, or not a path: the type check reports it
    path = Path(text).expanduser().resolve()
    if not path.exists():
        raise JourneyDataError(f"{CUSTOMERS_PATH} {str(text)!r}: no such file")
    given[CUSTOMERS_PATH] = str(path)


def customers_used(given: dict[str, Any], planned: list[Planned], notebooks_dir: Path) -> str:
    """The customer table the notebooks read: the one given, else the default of the first
    notebook declaring ``customers_path``, resolved against the notebooks' folder (they run
    in it); ``""`` for none. The summary reads the same table."""
    if CUSTOMERS_PATH in given:
        raw = given[CUSTOMERS_PATH]
        text = raw.text if isinstance(raw, CommandLineValue) else raw
        return str(text) if isinstance(text, str | os.PathLike) else ""
    for plan in planned:
        if CUSTOMERS_PATH in plan.declared:
            default = literal_value(plan.declared[CUSTOMERS_PATH].default)
            if isinstance(default, str) and default:
                return str((notebooks_dir / default).resolve())
            return ""
    return ""


def assign_parameters(planned: list[Planned], given: dict[str, Any]) -> None:
    """Check every given parameter against the notebooks and hand each notebook its own."""
    declared: dict[str, list[tuple[str, NotebookParameter]]] = {}
    for plan in planned:
        for name, parameter in plan.declared.items():
            declared.setdefault(name, []).append((plan.name, parameter))
    problems = []
    for name, raw in given.items():
        if name in (RUN_FOLDER, PREPARED):
            problems.append(f"parameter {name!r} is set by the runner, not given")
        elif name not in declared:
            close = difflib.get_close_matches(name, declared, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(f"unknown parameter {name!r}{hint}: no selected notebook declares it")
        else:
            value, problem = _fit(name, raw, declared[name])
            if problem:
                problems.append(problem)
            else:
                given[name] = value
    if problems:
        valid = ", ".join(
            f"{name} ({entries[0][1].describe()})"
            for name, entries in sorted(declared.items())
            if name not in (RUN_FOLDER, PREPARED)
        )
        raise JourneyParameterError(
            f"{'; '.join(problems)}; the selected notebooks declare: {valid or 'nothing'}"
        )
    for plan in planned:
        plan.parameters = {name: v for name, v in given.items() if name in plan.declared}


def _fit(
    name: str, raw: Any, declarers: list[tuple[str, NotebookParameter]]
) -> tuple[Any, str | None]:
    """The value to pass, or a problem: it must fit every selected notebook declaring it."""
    value = raw.value if isinstance(raw, CommandLineValue) else raw
    if isinstance(raw, CommandLineValue) and not all(p.accepts(value) for _, p in declarers):
        if all(p.type == "str" for _, p in declarers):
            value = raw.text  # typed on the command line for a text parameter: keep it as is
    plain = _plain(value)
    if plain is not None:
        return None, f"parameter {name!r}: {plain}"
    for notebook, parameter in declarers:
        if not parameter.accepts(value):
            return None, (
                f"parameter {name!r}: {shorten(repr(value), 40)} ({type(value).__name__}) "
                f"does not fit {parameter.describe()}, declared in {notebook}"
            )
    return value, None


def _plain(value: Any) -> str | None:
    """Why papermill could not pass ``value`` to a notebook (None when it can)."""
    if value is None or isinstance(value, bool | int | float | str):
        return None
    if isinstance(value, list):
        return next((p for p in map(_plain, value) if p), None)
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            return "mapping keys must be text"
        return next((p for p in map(_plain, value.values()) if p), None)
    return f"{type(value).__name__} cannot be passed to a notebook"


def data_record(planned: list[Planned], notebooks_dir: Path, given: Path | None) -> dict:
    """The data each notebook reads and the fingerprint of every distinct path."""
    paths: dict[str, str | None] = {}
    for plan in planned:
        if given is not None and DATA_PATH in plan.declared:
            paths[plan.name] = str(given)
        elif DATA_PATH in plan.declared:
            default = literal_value(plan.declared[DATA_PATH].default)
            # Notebooks run in their own folder, so a relative default is relative to it.
            usable = isinstance(default, str) and default
            paths[plan.name] = str((notebooks_dir / default).resolve()) if usable else None
    fingerprints = []
    for path in dict.fromkeys(p for p in paths.values() if p is not None):
        try:
            fingerprints.append(data_fingerprint(path))
        except JourneyDataError as exc:  # a default the notebook will complain about itself
            fingerprints.append({"path": path, "sha256": None, "problem": str(exc)})
    source = "given" if given is not None else "default" if paths else "none"
    return {"source": source, "fingerprints": fingerprints, "per_notebook": paths}
