"""Scheduled report runs: every notebook re-run with papermill into a dated run folder.

:func:`run_report` (and ``journey report``) runs the notebooks of a folder, in name order,
each with the parameters it declares, and writes one run folder::

    reports/20260101-060000/
        01_touchpoints.ipynb    the executed notebook (kept when it failed, up to the error)
        01_touchpoints.html     the same without code cells, images embedded
        ...
        metrics.json            key figures the notebooks recorded with record_metrics
        manifest.json           parameters, data fingerprint, versions, times and statuses
        index.html              links to all of the above, with statuses
    reports/latest -> 20260101-060000

The rules a run follows:

* **Parameters are checked before anything runs.** A notebook declares its parameters in its
  one cell tagged ``parameters`` (the papermill convention). Every parameter given must be
  declared by a selected notebook and fit the declared type, or :class:`JourneyParameterError`
  lists the valid ones and nothing is run. Each notebook receives only what it declares.
* **Two parameters are filled in by the runner** for notebooks that declare them:
  ``run_folder`` (where :func:`record_metrics` writes) and ``data_path`` (from ``data``).
* **A run is never half-visible.** It is built in ``.<stamp>.partial`` and renamed into place
  when done; ``latest`` then points at it. Earlier runs are never touched.
* **Run folders are named by the UTC start time**, with ``-2``, ``-3`` ... when runs start in
  the same second. An interrupted run (Ctrl-C) stays in its ``.partial`` folder.
* **Each notebook runs in a child process** with its own wall-clock timeout, kernel start
  included; a notebook that exceeds it is stopped, recorded as ``"timeout"`` and its partial
  output is kept. A failure does not stop the others unless ``fail_fast``.
* **Where a notebook stopped** is given as the cell's index in the author's notebook (0-based,
  as nbformat counts, leaving out the cells papermill adds) and the first line of its source.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import datetime as dt
import difflib
import functools
import hashlib
import html
import itertools
import json
import logging
import math
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np

from .errors import JourneyDataError, JourneyParameterError

__all__ = [
    "CommandLineValue",
    "NotebookParameter",
    "NotebookRun",
    "RunResult",
    "data_fingerprint",
    "notebook_parameters",
    "read_parameters",
    "record_metrics",
    "run_report",
]

#: Statuses a notebook can end a run with.
STATUSES: tuple[str, ...] = ("ok", "failed", "timeout", "skipped")
#: Parameters the runner fills in itself for the notebooks that declare them.
RUN_FOLDER, DATA_PATH = "run_folder", "data_path"
#: The kernel every notebook runs on; the runner points it at the current interpreter.
KERNEL = "python3"

_MANIFEST_FORMAT = 1
# Cells papermill (and a timeout) add to an executed notebook; cell indices in messages count
# only the author's cells, so that "cell 2" is the cell the author sees in their notebook.
_TIMEOUT_TAG = "journey-report-timeout"
_ADDED_TAGS = frozenset({"injected-parameters", "papermill-error-cell-tag", _TIMEOUT_TAG})
# Seconds a stopped child gets to exit after SIGTERM before it is killed.
_GRACE = 5.0
_VERSIONS = (
    "journey-lab",
    "pandas",
    "numpy",
    "scikit-learn",
    "scipy",
    "matplotlib",
    "seaborn",
    "narwhals",
    "pyarrow",
    "papermill",
    "nbconvert",
    "nbformat",
    "nbclient",
    "ipykernel",
    "jupyter_client",
    "ipywidgets",
)

# The child process runs papermill only: importing journey_lib there would cost seconds per
# notebook. It writes its outcome to a JSON file; cell details are read from the executed
# notebook by the parent, which also covers children stopped before they could write anything.
_WORKER = """
import json, sys
import papermill
spec = json.loads(open(sys.argv[1], encoding="utf-8").read())
outcome = {"status": "ok"}
try:
    papermill.execute_notebook(
        spec["input"], spec["output"], parameters=spec["parameters"], kernel_name=spec["kernel"],
        language="python", cwd=spec["cwd"], progress_bar=False, log_output=False,
    )
except papermill.PapermillExecutionError as exc:
    outcome = {"status": "failed", "ename": exc.ename, "evalue": exc.evalue}
except BaseException as exc:
    outcome = {"status": "failed", "ename": type(exc).__name__, "evalue": str(exc)}
with open(spec["result"], "w", encoding="utf-8") as handle:
    json.dump(outcome, handle)
"""


# --------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class NotebookParameter:
    """One parameter a notebook declares in its ``parameters`` cell.

    ``type`` is ``"int"``, ``"float"``, ``"str"``, ``"bool"``, ``"list"``, ``"dict"``, or
    ``"any"`` when it cannot be inferred; ``nullable`` says ``None`` is accepted too.
    ``default`` is the default's source text, as written in the cell.
    """

    name: str
    type: str
    default: str
    help: str = ""
    nullable: bool = False

    def describe(self) -> str:
        """The type as a message shows it: ``int``, ``str or None``, ``any``."""
        return f"{self.type} or None" if self.nullable and self.type != "any" else self.type

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` fits: an int fits a float, a bool fits only a bool."""
        if value is None:
            return self.nullable or self.type == "any"
        if self.type == "any":
            return True
        if isinstance(value, bool):
            return self.type == "bool"
        return isinstance(value, _PYTHON_TYPES[self.type])


_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "int": (int,),
    "float": (int, float),
    "str": (str,),
    "bool": (bool,),
    "list": (list,),
    "dict": (dict,),
}


@dataclasses.dataclass
class NotebookRun:
    """How one notebook of a run went. Paths are relative to the run folder."""

    name: str
    status: str
    duration: float = 0.0
    started_at: str | None = None
    finished_at: str | None = None
    parameters: dict[str, Any] = dataclasses.field(default_factory=dict)
    defaults: dict[str, str] = dataclasses.field(default_factory=dict)
    executed: str | None = None
    html: str | None = None
    error: dict[str, Any] | None = None
    html_error: str | None = None

    def problem(self) -> str:
        """One line saying where and why the notebook stopped (empty when it did not)."""
        if self.status == "skipped":
            return "skipped after an earlier failure (fail-fast)"
        if self.error is None:
            return ""
        cell = ""
        if self.error.get("cell_index") is not None:
            cell = f"cell {self.error['cell_index']} `{self.error.get('cell_source', '')}`"
        if self.status == "timeout":
            return f"{self.error['evalue']} in {cell}" if cell else self.error["evalue"]
        what = f"{self.error['ename']}: {_shorten(self.error['evalue'], 160)}"
        return f"{cell}: {what}" if cell else what


@dataclasses.dataclass
class RunResult:
    """The outcome of :func:`run_report`.

    ``folder`` is the finished run folder, ``statuses`` maps each notebook to ``"ok"``,
    ``"failed"``, ``"timeout"`` or ``"skipped"``, ``exit_code`` is 0 when every notebook
    ran and 1 otherwise, ``manifest`` is what ``manifest.json`` holds.
    """

    folder: Path
    notebooks: dict[str, NotebookRun]
    manifest: dict[str, Any]

    @property
    def statuses(self) -> dict[str, str]:
        return {name: run.status for name, run in self.notebooks.items()}

    @property
    def ok(self) -> bool:
        return all(status == "ok" for status in self.statuses.values())

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def summary(self) -> str:
        """A few lines: overall status, then one line per notebook with where it failed."""
        counts = {s: n for s in STATUSES if (n := list(self.statuses.values()).count(s))}
        overall = "ok" if self.ok else "failed"
        tally = ", ".join(f"{n} {status}" for status, n in counts.items())
        lines = [
            f"report {self.folder.name}: {overall} ({tally}) in {self.manifest['duration']:.1f} s",
            f"  {self.folder / 'index.html'}",
        ]
        width = max(len(name) for name in self.notebooks)
        for name, run in self.notebooks.items():
            line = f"  {name:<{width}}  {run.status:<7} {run.duration:6.1f} s"
            lines.append(f"{line}  {run.problem()}".rstrip())
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# metrics
# --------------------------------------------------------------------------------------------


def record_metrics(
    metrics: Mapping[str, Any], *, notebook: str, run_folder: str | os.PathLike[str] | None
) -> dict[str, Any]:
    """Record a notebook's key figures in the run's ``metrics.json``.

    The figures are merged into ``<run_folder>/metrics.json`` under ``notebook`` (a figure
    recorded again replaces the earlier value). Notebooks call it with the ``run_folder``
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

    Returns
    -------
    dict
        The cleaned figures, as written.

    Raises
    ------
    JourneyParameterError
        A value is not a scalar (the message names its key), a key is not text, or the run
        folder does not exist.

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
    """
    if not isinstance(notebook, str) or not notebook:
        raise JourneyParameterError(f"notebook must be a non-empty name, got {notebook!r}")
    cleaned = {_metric_key(key): _metric_value(key, value) for key, value in metrics.items()}
    if run_folder is None or run_folder == "":  # "" would otherwise mean the current folder
        return cleaned
    folder = Path(run_folder)
    if not folder.is_dir():
        raise JourneyParameterError(f"run_folder {str(folder)!r}: no such folder")
    path = folder / "metrics.json"
    recorded = _read_json(path) if path.exists() else {}
    recorded.setdefault(notebook, {}).update(cleaned)
    _write_json(path, recorded)
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
        f"metric {key!r}: {type(value).__name__} {_shorten(repr(value), 40)} is not a number, "
        "text or bool; record a scalar (e.g. float(x) or str(x))"
    )


# --------------------------------------------------------------------------------------------
# notebook parameters
# --------------------------------------------------------------------------------------------


def notebook_parameters(path: str | os.PathLike[str]) -> dict[str, NotebookParameter]:
    """The parameters a notebook declares in its cell tagged ``parameters``.

    Read with :func:`papermill.inspect_notebook`, which takes the type from an annotation
    (``seed: int = 0``) or a ``# type:`` comment and the help from the trailing comment.
    Without either, the type is that of the default when it is a literal (``0`` is an int,
    ``"a"`` text; a ``None`` default accepts anything). Assignments papermill cannot read,
    such as ``cutoff: str | None = None``, are read with :mod:`ast` instead.

    Parameters
    ----------
    path : path
        The ``.ipynb`` file.

    Returns
    -------
    dict of str to NotebookParameter
        In the order the cell declares them; empty when no cell is tagged ``parameters``.

    Examples
    --------
    >>> import tempfile
    >>> import nbformat
    >>> cell = nbformat.v4.new_code_cell(
    ...     'seed: int = 0  # random seed\\ncutoff = None\\nlabel = "all"',
    ...     metadata={"tags": ["parameters"]})
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "demo.ipynb"
    ...     nbformat.write(nbformat.v4.new_notebook(cells=[cell]), path)
    ...     declared = notebook_parameters(path)
    >>> declared["seed"]
    NotebookParameter(name='seed', type='int', default='0', help='random seed', nullable=False)
    >>> [(p.name, p.describe()) for p in declared.values()]
    [('seed', 'int'), ('cutoff', 'any'), ('label', 'str')]
    """
    import papermill
    from papermill.translators import PythonTranslator

    path = Path(path)
    cells = _parameter_cells(_read_notebook(path))
    if not cells:
        return {}
    # papermill logs lines it cannot parse; the ast pass below reads them instead.
    with _quiet_logger("papermill"):
        try:
            inspected = papermill.inspect_notebook(str(path))
        except ValueError:  # no kernel in the notebook's metadata; reports run python3 anyway
            inspected = {p.name: p._asdict() for p in PythonTranslator.inspect(cells[0])}
    declared = {
        name: _parameter(name, info["inferred_type_name"], info["default"], info["help"])
        for name, info in inspected.items()
    }
    for name, annotation, default in _assignments(cells[0].source):
        if name not in declared:
            declared[name] = _parameter(name, annotation, default, "")
    return declared


def _parameter(
    name: str, annotation: str | None, default: str, help_text: str
) -> NotebookParameter:
    literal = _literal(default)
    if annotation and annotation != "None":  # papermill writes "None" for "no annotation"
        kind, optional = _annotation_type(annotation)
        return NotebookParameter(name, kind, default, help_text, optional or literal is None)
    if literal is None or literal is _NOT_LITERAL:
        return NotebookParameter(name, "any", default, help_text, nullable=True)
    return NotebookParameter(name, _type_name(literal), default, help_text)


_NOT_LITERAL = object()
_TYPE_ALIASES = {
    "int": "int",
    "float": "float",
    "str": "str",
    "bool": "bool",
    "list": "list",
    "List": "list",
    "tuple": "list",
    "Tuple": "list",
    "Sequence": "list",
    "dict": "dict",
    "Dict": "dict",
    "Mapping": "dict",
}


def _literal(source: str) -> Any:
    try:
        return ast.literal_eval(source)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return _NOT_LITERAL


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    for name, kinds in (("int", int), ("float", float), ("str", str), ("dict", dict)):
        if isinstance(value, kinds):
            return name
    return "list" if isinstance(value, list | tuple) else "any"


def _annotation_type(annotation: str) -> tuple[str, bool]:
    """``"Optional[str]"`` -> ``("str", True)``; unknown annotations accept anything."""
    text = annotation.replace(" ", "")
    optional = False
    if match := re.fullmatch(r"(?:typing\.)?Optional\[(.+)\]", text):
        text, optional = match.group(1), True
    elif match := re.fullmatch(r"(?:typing\.)?Union\[(.+)\]", text):
        text = match.group(1).replace(",", "|")
    parts = [part for part in text.split("|") if part]
    if "None" in parts:
        parts, optional = [part for part in parts if part != "None"], True
    if len(parts) != 1:
        return "any", True
    base = re.sub(r"^typing\.", "", parts[0].split("[", 1)[0])
    return _TYPE_ALIASES.get(base, "any"), optional


def _assignments(source: str) -> Iterator[tuple[str, str | None, str]]:
    """(name, annotation, default source) of the simple assignments in a parameters cell."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython magics and the like: papermill's reading stands alone
        return
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
            annotation = ast.get_source_segment(source, node.annotation)
            yield node.target.id, annotation, ast.get_source_segment(source, node.value) or ""
        elif (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            yield node.targets[0].id, None, ast.get_source_segment(source, node.value) or ""


def _parameter_cells(nb: Any) -> list[Any]:
    return [cell for cell in nb.cells if "parameters" in cell.get("metadata", {}).get("tags", [])]


# --------------------------------------------------------------------------------------------
# parameters given
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class CommandLineValue:
    """A value typed as ``NAME=VALUE``: ``value`` is its YAML reading, ``text`` what was typed.

    :func:`run_report` passes ``value``, except to parameters declared ``str`` when ``value``
    is not text: they receive ``text``, so ``label=007`` gives ``"007"``, not the number 7.
    """

    text: str
    value: Any


def read_parameters(
    params_file: str | os.PathLike[str] | None = None, pairs: Iterable[str] = ()
) -> dict[str, Any]:
    """Parameters from a YAML file and ``NAME=VALUE`` pairs, as ``journey report`` reads them.

    The file must hold a mapping; pairs override it. Values are read as YAML (like papermill's
    ``-y``): ``3`` is an int, ``0.5`` a float, ``true`` a bool, ``[a, b]`` a list, ``null``
    None, anything else text. Dates stay text (``2024-01-01`` is not turned into a date), and
    a pair given for a parameter declared ``str`` keeps its text as typed (see
    :class:`CommandLineValue`).

    Parameters
    ----------
    params_file : path, optional
        A YAML file holding a mapping of parameter names to values.
    pairs : iterable of str
        ``NAME=VALUE`` items, applied in order after the file.

    Returns
    -------
    dict
        Parameters for :func:`run_report`: values from the file, and a
        :class:`CommandLineValue` for each pair.

    Raises
    ------
    JourneyParameterError
        The file is missing, not YAML or not a mapping, or a pair is not ``NAME=VALUE``.

    Examples
    --------
    >>> given = read_parameters(None, ["seed=7", "cutoff=2024-07-01", "segments=[a, b]"])
    >>> given["seed"]
    CommandLineValue(text='7', value=7)
    >>> [value.value for value in given.values()]
    [7, '2024-07-01', ['a', 'b']]
    """
    parameters: dict[str, Any] = {}
    if params_file is not None:
        parameters.update(_read_params_file(Path(params_file)))
    for item in pairs:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise JourneyParameterError(f"-p {item!r}: expected NAME=VALUE, e.g. -p seed=7")
        parameters[name] = CommandLineValue(text, _yaml(text, f"-p {item!r}"))
    return parameters


def _read_params_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise JourneyParameterError(f"--params {str(path)!r}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise JourneyParameterError(f"--params {str(path)!r}: cannot read it ({exc})") from None
    loaded = _yaml(text, f"--params {str(path)!r}")
    if loaded is None:
        return {}
    if not isinstance(loaded, dict) or not all(isinstance(key, str) for key in loaded):
        raise JourneyParameterError(
            f"--params {str(path)!r}: expected a mapping of parameter names to values, "
            f"got {type(loaded).__name__}"
        )
    return loaded


def _yaml(text: str, where: str) -> Any:
    import yaml

    try:
        return yaml.load(text, Loader=_yaml_loader())  # a SafeLoader subclass: no objects
    except yaml.YAMLError as exc:
        problem = " ".join(str(exc).split())
        raise JourneyParameterError(f"{where}: not valid YAML ({problem})") from None


@functools.cache
def _yaml_loader() -> type:
    """YAML's safe loader without dates: notebooks take cutoffs as text."""
    import yaml

    timestamp = "tag:yaml.org,2002:timestamp"

    class Loader(yaml.SafeLoader):
        pass

    Loader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != timestamp]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return Loader


# --------------------------------------------------------------------------------------------
# data fingerprint
# --------------------------------------------------------------------------------------------


def data_fingerprint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The SHA-256 fingerprint of a data file or folder, as a run manifest records it.

    A file's fingerprint is the SHA-256 of its bytes (what ``sha256sum`` prints). A folder's
    is the SHA-256 of the ``sha256sum``-style lines (``<sha256>  <relative path>``) of all
    its files, subfolders included, in sorted path order, so renaming a file changes it too.
    Hidden files (a name part starting with ``.``) are left out: they are editor and OS
    clutter, not data.

    Parameters
    ----------
    path : path
        A file or a folder.

    Returns
    -------
    dict
        ``path`` (absolute), ``sha256``, ``files`` (count) and ``bytes`` (total size).

    Raises
    ------
    JourneyDataError
        The path does not exist, or the folder holds no file.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     (Path(folder) / "events.csv").write_bytes(b"abc")
    ...     print(data_fingerprint(Path(folder) / "events.csv")["sha256"])
    3
    ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
    """
    path = Path(path).expanduser().resolve()
    if path.is_file():
        return {"path": str(path), "sha256": _file_sha256(path), "files": 1, "bytes": _size(path)}
    if not path.is_dir():
        raise JourneyDataError(f"data path {str(path)!r}: no such file or folder")
    files = sorted(
        (file.relative_to(path).as_posix(), file)
        for file in path.rglob("*")
        if file.is_file() and not any(part.startswith(".") for part in file.relative_to(path).parts)
    )
    if not files:
        raise JourneyDataError(f"data path {str(path)!r}: the folder holds no file")
    digest = hashlib.sha256()
    for relative, file in files:
        digest.update(f"{_file_sha256(file)}  {relative}\n".encode())
    total = sum(_size(file) for _, file in files)
    return {"path": str(path), "sha256": digest.hexdigest(), "files": len(files), "bytes": total}


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _size(path: Path) -> int:
    return path.stat().st_size


# --------------------------------------------------------------------------------------------
# the run
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class _Planned:
    """A notebook about to run: where it is, what it declares and what it will receive."""

    path: Path
    declared: dict[str, NotebookParameter]
    parameters: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.stem


def run_report(
    notebooks_dir: str | os.PathLike[str],
    *,
    parameters: Mapping[str, Any] | None = None,
    only: Sequence[str] | None = None,
    data: str | os.PathLike[str] | None = None,
    out: str | os.PathLike[str] = "reports",
    fail_fast: bool = False,
    timeout: float = 600,
    progress: Callable[[str], None] | None = None,
) -> RunResult:
    """Run the notebooks of a folder with papermill into a new run folder under ``out``.

    Everything is checked first (notebooks, ``only``, parameters and their types, ``data``);
    a problem raises before any notebook runs or any folder is made. Then each notebook runs
    in a child process on the ``python3`` kernel of the current interpreter, with the
    notebooks folder as working folder, and the run folder is written as described in
    :mod:`journey_lib.report`.

    Parameters
    ----------
    notebooks_dir : path
        The folder whose ``*.ipynb`` files are run, in name order.
    parameters : mapping, optional
        Parameter values by name (see :func:`read_parameters`). Each must be declared by a
        selected notebook and fit its type; each notebook receives those it declares.
    only : sequence of str, optional
        Notebooks to run: names with or without ``.ipynb``, or number prefixes (``"01"``).
    data : path, optional
        A data file or folder, passed (made absolute) as ``data_path`` to the notebooks
        declaring it; a ``data_path`` in ``parameters`` means the same. Without either, they
        use their own default. The fingerprint of the data used is recorded either way.
    out : path
        Where run folders go (default ``reports``).
    fail_fast : bool
        Stop at the first notebook that fails or times out; the rest are ``"skipped"``.
    timeout : float
        Seconds each notebook may take, kernel start included (default 600).
    progress : callable, optional
        Called with one line as each notebook starts and finishes (``print`` will do).

    Returns
    -------
    RunResult
        The run folder, each notebook's status, the exit code (0 when all ran, 1 otherwise)
        and the manifest.

    Raises
    ------
    JourneyParameterError
        No or unknown notebooks, a notebook without exactly one ``parameters`` cell, an
        unknown parameter or one of the wrong type (the message lists the valid ones).
    JourneyDataError
        ``data`` does not exist, or a notebook cannot be read.

    Examples
    --------
    >>> result = run_report("notebooks", parameters={"seed": 1}, out="reports")  # doctest: +SKIP
    >>> print(result.summary())  # doctest: +SKIP
    report 20260101-060000: ok (5 ok) in 48.2 s
    """
    if not timeout > 0:
        raise JourneyParameterError(f"timeout must be a positive number of seconds, got {timeout}")
    notebooks_dir = Path(notebooks_dir).resolve()
    planned = _plan(notebooks_dir, only)
    given = dict(parameters or {})
    data_path = _given_data(data, given, planned)
    _assign(planned, given)
    data_info = _data_record(planned, notebooks_dir, data_path)
    say = progress or (lambda line: None)

    started = _utcnow()
    out = Path(out)
    name, partial = _reserve(out, started.strftime("%Y%m%d-%H%M%S"))
    runs: dict[str, NotebookRun] = {}
    exporter = _html_exporter()
    with tempfile.TemporaryDirectory(prefix="journey-report-") as scratch:
        env = _child_env(Path(scratch))
        stop = False
        for number, plan in enumerate(planned, start=1):
            step = f"[{number}/{len(planned)}] {plan.name}"
            if stop:
                runs[plan.name] = _skipped(plan)
                say(f"{step}: skipped")
                continue
            say(f"{step}: running")
            run = _run_notebook(plan, partial, notebooks_dir, timeout, env, Path(scratch))
            _render(exporter, partial, plan, run, notebooks_dir)
            runs[plan.name] = run
            say(f"{step}: {run.status} in {run.duration:.1f} s")
            stop = fail_fast and run.status != "ok"
    finished = _utcnow()
    metrics = partial / "metrics.json"
    if not metrics.exists():
        _write_json(metrics, {})
    manifest = _manifest(name, started, finished, notebooks_dir, given, data_info, runs)
    manifest.update(timeout=timeout, fail_fast=fail_fast, only=list(only) if only else None)
    _write_json(partial / "manifest.json", manifest)
    _write_index(partial / "index.html", manifest, runs, _read_json(metrics))
    folder = out / name
    partial.rename(folder)
    _point_latest(out, name)
    return RunResult(folder=folder, notebooks=runs, manifest=manifest)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _plan(notebooks_dir: Path, only: Sequence[str] | None) -> list[_Planned]:
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
        count = len(_parameter_cells(_read_notebook(path)))
        if count != 1:
            raise JourneyParameterError(
                f"{path.name}: {count} cells are tagged 'parameters'; a report notebook needs "
                "exactly one (papermill injects the parameters after it)"
            )
        planned.append(_Planned(path, notebook_parameters(path)))
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


def _given_data(
    data: str | os.PathLike[str] | None, given: dict[str, Any], planned: list[_Planned]
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
        if (raw.value if isinstance(raw, CommandLineValue) else raw) is None:
            return None  # no path at all: the type check decides whether None is allowed
        data, where = (raw.text if isinstance(raw, CommandLineValue) else raw), DATA_PATH
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


def _assign(planned: list[_Planned], given: dict[str, Any]) -> None:
    """Check every given parameter against the notebooks and hand each notebook its own."""
    declared: dict[str, list[tuple[str, NotebookParameter]]] = {}
    for plan in planned:
        for name, parameter in plan.declared.items():
            declared.setdefault(name, []).append((plan.name, parameter))
    problems = []
    for name, raw in given.items():
        if name == RUN_FOLDER:
            problems.append(f"parameter {RUN_FOLDER!r} is set by the runner, not given")
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
            if name != RUN_FOLDER
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
                f"parameter {name!r}: {_shorten(repr(value), 40)} ({type(value).__name__}) "
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


def _data_record(planned: list[_Planned], notebooks_dir: Path, given: Path | None) -> dict:
    """The data each notebook reads and the fingerprint of every distinct path."""
    paths: dict[str, str | None] = {}
    for plan in planned:
        if given is not None and DATA_PATH in plan.declared:
            paths[plan.name] = str(given)
        elif DATA_PATH in plan.declared:
            default = _literal(plan.declared[DATA_PATH].default)
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


def _reserve(out: Path, stamp: str) -> tuple[str, Path]:
    """A free run name and its ``.partial`` folder; ``-2``, ``-3`` ... within one second."""
    out.mkdir(parents=True, exist_ok=True)
    for attempt in itertools.count(1):
        name = stamp if attempt == 1 else f"{stamp}-{attempt}"
        partial = out / f".{name}.partial"
        if (out / name).exists():
            continue
        try:
            partial.mkdir()  # atomic: two runs never share a partial folder
        except FileExistsError:
            continue
        if (out / name).exists():  # another run finished under this name meanwhile
            partial.rmdir()
            continue
        return name, partial
    raise AssertionError("unreachable")  # pragma: no cover


def _child_env(scratch: Path) -> dict[str, str]:
    """The child's environment: a ``python3`` kernel spec running this very interpreter."""
    spec_dir = scratch / "jupyter" / "kernels" / KERNEL
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": f"Python {platform.python_version()} (journey report)",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    env = dict(os.environ)
    # JUPYTER_PATH comes first in the kernel spec search, before a user's own "python3".
    env["JUPYTER_PATH"] = os.pathsep.join(
        filter(None, [str(scratch / "jupyter"), env.get("JUPYTER_PATH")])
    )
    # Connection files go to the scratch folder too: a stopped kernel leaves its file behind.
    env["JUPYTER_RUNTIME_DIR"] = str(scratch / "runtime")
    # Figures must land in the notebook as inline PNGs even where MPLBACKEND=Agg is set.
    env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    return env


def _run_notebook(
    plan: _Planned, folder: Path, cwd: Path, timeout: float, env: dict[str, str], scratch: Path
) -> NotebookRun:
    run = NotebookRun(plan.name, "failed", started_at=_iso(_utcnow()))
    run.parameters = dict(plan.parameters)
    if RUN_FOLDER in plan.declared:
        run.parameters[RUN_FOLDER] = str(folder.resolve())
    run.defaults = {
        name: p.default for name, p in plan.declared.items() if name not in run.parameters
    }
    output = folder / plan.path.name
    result = scratch / f"{plan.name}.result.json"
    spec = {
        "input": str(plan.path),
        "output": str(output),
        "parameters": run.parameters,
        "kernel": KERNEL,
        "cwd": str(cwd),
        "result": str(result),
    }
    (spec_file := scratch / f"{plan.name}.spec.json").write_text(json.dumps(spec), "utf-8")
    log = scratch / f"{plan.name}.log"
    start = time.monotonic()
    timed_out = _execute(spec_file, log, timeout, env)
    run.duration = time.monotonic() - start
    run.finished_at = _iso(_utcnow())
    run.executed = output.name if output.exists() else None
    outcome = _read_json(result) if result.exists() else None
    if timed_out:
        run.status = "timeout"
        run.error = _timeout_error(output, timeout)
    elif outcome is not None and outcome["status"] == "ok":
        run.status = "ok"
    else:
        run.error = _failure(output, outcome, log)
    return run


def _execute(spec_file: Path, log: Path, timeout: float, env: dict[str, str]) -> bool:
    """Run the worker on ``spec_file``; True when it had to be stopped after ``timeout``."""
    # The child's output (papermill, kernel warnings) goes to a log, not the screen: the
    # runner prints one line per notebook instead of papermill's progress bar.
    with log.open("wb") as sink:
        child = subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(spec_file)],
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # its own process group, so it can be stopped as a whole
        )
        try:
            child.wait(timeout=timeout)
            return False
        except subprocess.TimeoutExpired:
            return True
        finally:
            # Also on KeyboardInterrupt. The kernel, started by the child in a session of its
            # own, exits by itself once its parent is gone (ipykernel's parent poller).
            _stop(child)


def _stop(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is not None:
        return
    _signal(child, signal.SIGTERM)
    try:
        child.wait(timeout=_GRACE)
    except subprocess.TimeoutExpired:
        _signal(child, signal.SIGKILL if hasattr(signal, "SIGKILL") else signal.SIGTERM)
        child.wait()


def _signal(child: subprocess.Popen[bytes], signum: int) -> None:
    try:
        if hasattr(os, "killpg"):
            os.killpg(child.pid, signum)
        else:  # pragma: no cover - Windows has no process groups to signal
            child.send_signal(signum)
    except ProcessLookupError:
        pass


def _failure(output: Path, outcome: dict | None, log: Path) -> dict[str, Any]:
    """Where and why a notebook failed: from its executed copy, else from the child."""
    found = _error_cell(nb) if (nb := _read_partial(output)) is not None else None
    if found is not None:
        return found
    if outcome is not None:
        return {"cell_index": None, "ename": outcome["ename"], "evalue": outcome["evalue"]}
    lines = [line for line in log.read_text("utf-8", "replace").splitlines() if line.strip()]
    evalue = lines[-1] if lines else "the runner's child process ended without a result"
    return {"cell_index": None, "ename": "RunnerError", "evalue": evalue}


def _error_cell(nb: Any) -> dict[str, Any] | None:
    for index, cell in _authored_cells(nb):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error" and not _clean_exit(output):
                return _cell_error(index, cell, output["ename"], output["evalue"])
    for index, cell in _authored_cells(nb):
        if cell.get("metadata", {}).get("papermill", {}).get("exception"):
            return _cell_error(index, cell, "CellExecutionError", "the cell did not complete")
    return None


def _clean_exit(output: Any) -> bool:
    """``sys.exit()`` or ``sys.exit(0)`` in a cell, which papermill does not count as failing."""
    return output.get("ename") == "SystemExit" and output.get("evalue") in ("", "0")


def _timeout_error(output: Path, timeout: float) -> dict[str, Any]:
    """The running cell of a stopped notebook, marked at the top of its executed copy."""
    message = f"stopped after {timeout:g} s"
    nb = _read_partial(output)
    if nb is None:
        return {"cell_index": None, "ename": "Timeout", "evalue": message}
    import nbformat

    running = next(
        (
            (index, cell)
            for index, cell in _authored_cells(nb)
            if cell.get("metadata", {}).get("papermill", {}).get("status") == "running"
        ),
        None,
    )
    error = (
        _cell_error(*running, "Timeout", message)
        if running
        else {"cell_index": None, "ename": "Timeout", "evalue": message}
    )
    where = f" while cell {error['cell_index']} was running" if running else ""
    banner = nbformat.v4.new_markdown_cell(
        f"**journey report stopped this notebook after {timeout:g} s{where}.** "
        "Cells after that point did not run."
    )
    banner.metadata["tags"] = [_TIMEOUT_TAG]
    nb.cells.insert(0, banner)
    nbformat.write(nb, str(output))
    return error


def _authored_cells(nb: Any) -> Iterator[tuple[int, Any]]:
    """(index in the author's notebook, cell), skipping the cells papermill added."""
    index = 0
    for cell in nb.cells:
        if _ADDED_TAGS.isdisjoint(cell.get("metadata", {}).get("tags", [])):
            yield index, cell
            index += 1


def _cell_error(index: int, cell: Any, ename: str, evalue: str) -> dict[str, Any]:
    first = next((line.strip() for line in cell.source.splitlines() if line.strip()), "")
    return {
        "cell_index": index,
        "cell_source": _shorten(first, 80),
        "execution_count": cell.get("execution_count"),
        "ename": ename,
        "evalue": evalue,
    }


def _skipped(plan: _Planned) -> NotebookRun:
    defaults = {name: p.default for name, p in plan.declared.items()}
    return NotebookRun(plan.name, "skipped", parameters=dict(plan.parameters), defaults=defaults)


# --------------------------------------------------------------------------------------------
# outputs: HTML, manifest, index, latest
# --------------------------------------------------------------------------------------------


def _html_exporter() -> Any:
    from nbconvert import HTMLExporter

    # Code cells are left out entirely (readers get the story and the results); images
    # referenced from markdown are embedded, and plot outputs are inline PNGs already.
    return HTMLExporter(
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )


def _render(exporter: Any, folder: Path, plan: _Planned, run: NotebookRun, cwd: Path) -> None:
    if run.executed is None:
        return
    target = folder / _html_name(plan.name)
    try:
        nb = _read_notebook(folder / run.executed)
        resources = {"metadata": {"name": plan.name, "path": str(cwd)}}
        body, _ = exporter.from_notebook_node(nb, resources=resources)
    except Exception as exc:  # a page that cannot render must not lose the rest of the run
        run.html_error = f"{type(exc).__name__}: {exc}"
        return
    target.write_text(body, encoding="utf-8")
    run.html = target.name


def _html_name(name: str) -> str:
    # "index.html" is the run's own page; a notebook called "index" gets another name.
    return f"{name}.notebook.html" if name == "index" else f"{name}.html"


def _manifest(
    name: str,
    started: dt.datetime,
    finished: dt.datetime,
    notebooks_dir: Path,
    given: dict[str, Any],
    data: dict[str, Any],
    runs: dict[str, NotebookRun],
) -> dict[str, Any]:
    overall = "ok" if all(run.status == "ok" for run in runs.values()) else "failed"
    return {
        "format": _MANIFEST_FORMAT,
        "folder": name,
        "status": overall,
        "exit_code": 0 if overall == "ok" else 1,
        "started_at": _iso(started),
        "finished_at": _iso(finished),
        "duration": round((finished - started).total_seconds(), 3),
        "notebooks_dir": str(notebooks_dir),
        "parameters": given,
        "seed": _seeds(runs),
        "data": data,
        "versions": _versions(),
        "notebooks": {
            run.name: dataclasses.asdict(run) | {"duration": round(run.duration, 3)}
            for run in runs.values()
        },
    }


def _seeds(runs: dict[str, NotebookRun]) -> dict[str, Any]:
    """Each notebook's ``seed``: the value passed, else its default."""
    seeds = {}
    for name, run in runs.items():
        if "seed" in run.parameters:
            seeds[name] = run.parameters["seed"]
        elif "seed" in run.defaults:
            default = _literal(run.defaults["seed"])
            seeds[name] = run.defaults["seed"] if default is _NOT_LITERAL else default
    return seeds


def _versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for dist in _VERSIONS:
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    versions["platform"] = platform.platform()
    return versions


def _write_index(
    path: Path, manifest: dict[str, Any], runs: dict[str, NotebookRun], metrics: dict[str, Any]
) -> None:
    esc = html.escape
    rows = []
    for name, run in runs.items():
        links = " ".join(
            f'<a href="{quote(target)}">{label}</a>'
            for label, target in (("report", run.html), ("notebook", run.executed))
            if target
        )
        rows.append(
            f'<tr class="{esc(run.status)}"><td>{esc(name)}</td>'
            f"<td>{esc(run.status)}</td><td>{run.duration:.1f} s</td>"
            f"<td>{links}</td><td>{esc(run.problem())}</td></tr>"
        )
    figures = [
        f"<tr><td>{esc(notebook)}</td><td>{esc(key)}</td><td>{esc(json.dumps(value))}</td></tr>"
        for notebook, values in metrics.items()
        for key, value in values.items()
    ]
    fingerprints = "".join(
        f"<li><code>{esc(f['path'])}</code>: sha256 <code>{esc(str(f.get('sha256')))}</code></li>"
        for f in manifest["data"]["fingerprints"]
    )
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>journey report {esc(manifest["folder"])}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; }}
table {{ border-collapse: collapse; }}
td, th {{ border: 1px solid #ccc; padding: 0.3rem 0.6rem; text-align: left; }}
tr.ok td:nth-child(2) {{ color: #1a7f37; }}
tr.failed td:nth-child(2), tr.timeout td:nth-child(2) {{ color: #cf222e; font-weight: bold; }}
tr.skipped td:nth-child(2) {{ color: #6e7781; }}
</style>
</head>
<body>
<h1>journey report {esc(manifest["folder"])}: {esc(manifest["status"])}</h1>
<p>Started {esc(manifest["started_at"])}, finished {esc(manifest["finished_at"])}
({manifest["duration"]:.1f} s). Data ({esc(manifest["data"]["source"])}):</p>
<ul>{fingerprints or "<li>none</li>"}</ul>
<table>
<tr><th>notebook</th><th>status</th><th>duration</th><th>outputs</th><th>problem</th></tr>
{"".join(rows)}
</table>
<h2>Key figures</h2>
<table>
<tr><th>notebook</th><th>figure</th><th>value</th></tr>
{"".join(figures) or '<tr><td colspan="3">none recorded</td></tr>'}
</table>
<p><a href="manifest.json">manifest.json</a> (parameters, data fingerprint, versions)
&middot; <a href="metrics.json">metrics.json</a></p>
</body>
</html>
"""
    path.write_text(page, encoding="utf-8")


def _point_latest(out: Path, name: str) -> None:
    """Point ``out/latest`` at the run: a relative symlink, else a ``latest.txt`` file."""
    link, marker = out / "latest", out / "latest.txt"
    temporary = out / f".latest.{os.getpid()}"
    try:
        temporary.symlink_to(name, target_is_directory=True)
        os.replace(temporary, link)  # atomic: readers see the old run or the new one
    except (OSError, NotImplementedError):
        temporary.unlink(missing_ok=True)
        _write_text(marker, name + "\n")
        return
    if marker.exists():  # left by a run where symlinks failed; keep it true
        _write_text(marker, name + "\n")


# --------------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------------


def _read_notebook(path: Path) -> Any:
    import nbformat

    try:
        return nbformat.read(str(path), as_version=4)
    except (OSError, ValueError) as exc:  # nbformat raises ValueError subclasses on bad JSON
        raise JourneyDataError(f"{path.name}: not a readable notebook ({exc})") from None


def _read_partial(path: Path) -> Any:
    """An executed notebook, or None when there is none or it was cut off mid-write."""
    try:
        return _read_notebook(path) if path.exists() else None
    except JourneyDataError:
        return None


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise JourneyDataError(f"{path}: not readable JSON ({exc})") from None


def _write_json(path: Path, value: Any) -> None:
    _write_text(path, json.dumps(value, indent=2, ensure_ascii=False) + "\n")


def _write_text(path: Path, text: str) -> None:
    """Write through a temporary file, so a reader never sees half a file."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _shorten(text: str, width: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 3] + "..."


@contextlib.contextmanager
def _quiet_logger(name: str) -> Iterator[None]:
    """Raise a logger's level for a while: papermill's parse warnings are not the user's."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)
