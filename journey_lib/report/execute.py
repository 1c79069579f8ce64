"""Running a notebook with papermill in a child process (started, then finished once it
ends or the runner stops it: a timeout, or a signal its :class:`Interruption` caught), and
reading from its executed copy where and why it failed or was stopped.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .._engine import DUCKDB_MEMORY, DUCKDB_SPILL
from ..errors import JourneyDataError
from .files import read_json, read_notebook
from .parameters import RUN_FOLDER
from .plan import Planned
from .text import iso_time, shorten, utcnow

__all__ = ["NotebookRun"]


#: The kernel every notebook runs on; the runner points it at the current interpreter.
KERNEL = "python3"
#: The memory each notebook's DuckDB may hold before it spills to disk (the report's
#: default; the environment's JOURNEY_DUCKDB_MEMORY wins).
KERNEL_DUCKDB_MEMORY = "1.5GB"

# Cells papermill (and a stop) add to an executed notebook; cell indices in messages count
# only the author's cells, so that "cell 2" is the cell the author sees in their notebook.
_STOPPED_TAG = "journey-report-stopped"
_ADDED_TAGS = frozenset({"injected-parameters", "papermill-error-cell-tag", _STOPPED_TAG})
# Seconds a stopped child gets to exit after SIGTERM before it is killed.
GRACE = 5.0

# The child process runs papermill only: importing journey_lib there would cost seconds per
# notebook. It writes its outcome to a JSON file; cell details are read from the executed
# notebook by the parent, which also covers children stopped before they could write anything.
# The parent stops it with SIGTERM (a timeout, or the run interrupted). Raised here as
# KeyboardInterrupt, it unwinds papermill, whose kernel client shuts the kernel down on the
# way out: the kernel runs in a session of its own, out of reach of the parent's signal. The
# child then ends by the signal all the same, as a stopped child is expected to.
# jsonschema, under papermill's nbformat, imports rfc3987_syntax where it is installed (as
# jupyter-events has it) for its "iri" format, building a grammar as it loads: 2.4 s of every
# notebook's start on this project's 2-core machine, 60% of a one-cell notebook's run.
# Notebook schemas use no such format; without the module jsonschema leaves that format out.
_WORKER = """
import json, signal, sys
sys.modules.setdefault("rfc3987_syntax", None)
signal.signal(signal.SIGTERM, signal.default_int_handler)
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
except KeyboardInterrupt:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.raise_signal(signal.SIGTERM)
except BaseException as exc:
    outcome = {"status": "failed", "ename": type(exc).__name__, "evalue": str(exc)}
with open(spec["result"], "w", encoding="utf-8") as handle:
    json.dump(outcome, handle)
"""


class _Interrupted(Exception):
    """Raised by :class:`Interruption` to cut short the wait for a notebook's child."""


class Interruption:
    """The signal handler of a run: notes the first SIGTERM or SIGINT it receives.

    While the runner waits on the notebooks' children (:meth:`pause`), the signal also cuts
    that wait short, so the children are stopped at once (their kernels shut down) instead
    of when they end; anywhere else it is only noted, and acted on at the next wait. The
    runner skips the notebooks not started yet, and installs it (:func:`signal.signal`) for
    the length of a run.
    """

    def __init__(self) -> None:
        self.signum: int | None = None
        self._waiting = False

    def __call__(self, signum: int, frame: Any) -> None:
        if self.signum is None:
            self.signum = signum
        if self._waiting:
            # Once only: stopping the child, which follows, must not be cut short in turn.
            self._waiting = False
            raise _Interrupted

    @property
    def name(self) -> str | None:
        """The signal's name (``"SIGTERM"``), or None when none came."""
        return None if self.signum is None else signal.Signals(self.signum).name

    def __enter__(self) -> None:
        # Waiting first, then the check: a signal in between is raised by the handler.
        self._waiting = True
        if self.signum is not None:  # came before the wait began
            self._waiting = False
            raise _Interrupted

    def __exit__(self, *exc_info: object) -> None:
        self._waiting = False

    def pause(self, seconds: float) -> bool:
        """Wait ``seconds``, cut short by a signal; whether one has come (now or before)."""
        try:
            with self:
                time.sleep(seconds)
        except _Interrupted:
            pass
        return self.signum is not None


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
        if self.status == "skipped" and self.error is None:  # an interrupted run says why
            return "skipped after an earlier failure (fail-fast)"
        if self.error is None:
            return ""
        cell = ""
        if self.error.get("cell_index") is not None:
            cell = f"cell {self.error['cell_index']} `{self.error.get('cell_source', '')}`"
        if self.status in ("timeout", "interrupted", "skipped"):
            return f"{self.error['evalue']} in {cell}" if cell else self.error["evalue"]
        what = f"{self.error['ename']}: {shorten(self.error['evalue'], 160)}"
        return f"{cell}: {what}" if cell else what


def child_env(scratch: Path) -> dict[str, str]:
    """The child's environment: a ``python3`` kernel spec running this very interpreter,
    inline figures, one OpenMP thread unless ``OMP_NUM_THREADS`` is set, and DuckDB kept
    to :data:`KERNEL_DUCKDB_MEMORY` unless ``JOURNEY_DUCKDB_MEMORY`` is set."""
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
    # One OpenMP thread unless the user chose: scikit-learn's threads spin against each other
    # on a small shared machine (the churn notebook's permutation importance took 274 s with
    # two threads and 20 s with one, to the same figures; benchmarks/README.md).
    env.setdefault("OMP_NUM_THREADS", "1")
    # Each kernel's DuckDB keeps to a share of the memory and spills beyond it into the
    # run's scratch folder (not a .tmp folder beside the notebooks), unless the user chose.
    env.setdefault(DUCKDB_MEMORY, KERNEL_DUCKDB_MEMORY)
    env.setdefault(DUCKDB_SPILL, str(scratch / "duckdb"))
    return env


def planned_run(plan: Planned, status: str, folder: Path | None = None) -> NotebookRun:
    """The record of a notebook before it runs: the parameters it is given (with the run
    folder when it declares one and ``folder`` is known) and the defaults it keeps."""
    parameters = dict(plan.parameters)
    if folder is not None and RUN_FOLDER in plan.declared:
        parameters[RUN_FOLDER] = str(folder.resolve())
    defaults = {name: p.default for name, p in plan.declared.items() if name not in parameters}
    return NotebookRun(plan.name, status, parameters=parameters, defaults=defaults)


def skipped_run(plan: Planned, interrupted_by: str | None) -> NotebookRun:
    """The record of a notebook not run: after a failure (fail-fast), or because the run was
    interrupted by the signal named."""
    run = planned_run(plan, "skipped")
    if interrupted_by is not None:
        evalue = f"not run: the report was interrupted by {interrupted_by}"
        run.error = {"cell_index": None, "ename": "Interrupted", "evalue": evalue}
    return run


@dataclasses.dataclass
class Started:
    """A notebook whose child process is running: what it was given and where it writes."""

    plan: Planned
    run: NotebookRun
    child: subprocess.Popen[bytes]
    began: float  # time.monotonic() at the start
    output: Path
    result: Path
    log: Path
    finished: float | None = None  # time.monotonic() when its end was first seen
    terminated: bool = False  # sent SIGTERM already

    def ended(self) -> bool:
        """Whether the child has ended (by itself, or stopped); the moment it is first seen
        so is its end."""
        if self.finished is None and self.child.poll() is not None:
            self.finished = time.monotonic()
        return self.finished is not None

    def elapsed(self) -> float:
        """Seconds from its start to its end, or to now while it runs."""
        return (self.finished or time.monotonic()) - self.began

    def terminate(self) -> None:
        """Send SIGTERM to its process group, once, without waiting."""
        if not self.terminated and not self.ended():
            self.terminated = True
            _signal(self.child, signal.SIGTERM)


def start_notebook(
    plan: Planned, folder: Path, cwd: Path, env: dict[str, str], scratch: Path
) -> Started:
    """Start executing one planned notebook in a child process (papermill, in a process
    group of its own), its output going to a log in ``scratch``."""
    run = planned_run(plan, "failed", folder)
    run.started_at = iso_time(utcnow())
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
    return Started(plan, run, child, time.monotonic(), output, result, log)


def finish_notebook(
    started: Started, stopped: str | None, timeout: float, interrupted_by: str | None
) -> NotebookRun:
    """The outcome of a started notebook (status, times, the cell that failed or was
    running): its child stopped first, when ``stopped`` says why (``"timeout"`` or
    ``"interrupted"``), else ended by itself."""
    # Should the child be killed before it shut its kernel down, the kernel, in a session
    # of its own, exits by itself once its parent is gone (ipykernel's parent poller).
    stop(started.child, signalled=started.terminated)
    started.ended()
    run, output = started.run, started.output
    run.duration = started.elapsed()
    run.finished_at = iso_time(utcnow())
    run.executed = output.name if output.exists() else None
    outcome = read_json(started.result) if started.result.exists() else None
    if stopped == "timeout":
        run.status = "timeout"
        after = f"after {timeout:g} s"
        run.error = _stopped_error(
            output, "Timeout", f"stopped {after}", f"journey report stopped this notebook {after}"
        )
    elif stopped == "interrupted":
        run.status = "interrupted"
        by = f"interrupted by {interrupted_by}"
        run.error = _stopped_error(output, "Interrupted", by, f"journey report was {by}")
    elif outcome is not None and outcome["status"] == "ok":
        run.status = "ok"
    else:
        run.error = _failure(output, outcome, started.log)
    return run


def stop(child: subprocess.Popen[bytes], *, signalled: bool = False) -> None:
    """Stop a child and its process group: SIGTERM (unless ``signalled`` already: a second
    one would cut short its kernel's shutdown), then SIGKILL after :data:`GRACE` s."""
    if child.poll() is not None:
        return
    if not signalled:
        _signal(child, signal.SIGTERM)
    try:
        child.wait(timeout=GRACE)
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


def _stopped_error(output: Path, ename: str, evalue: str, headline: str) -> dict[str, Any]:
    """The running cell of a stopped notebook, marked at the top of its executed copy with
    ``headline`` and where it stopped."""
    nb = _read_partial(output)
    if nb is None:
        return {"cell_index": None, "ename": ename, "evalue": evalue}
    import nbformat

    # The last cell papermill started: a child that shut down cleanly marked it "completed"
    # on the way out, one killed left it "running"; cells not reached have no start time.
    running = next(
        (
            (index, cell)
            for index, cell in reversed(list(_authored_cells(nb)))
            if cell.get("metadata", {}).get("papermill", {}).get("start_time")
        ),
        None,
    )
    error = (
        _cell_error(*running, ename, evalue)
        if running
        else {"cell_index": None, "ename": ename, "evalue": evalue}
    )
    where = f" while cell {error['cell_index']} was running" if running else ""
    banner = nbformat.v4.new_markdown_cell(
        f"**{headline}{where}.** Cells after that point did not run."
    )
    banner.metadata["tags"] = [_STOPPED_TAG]
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
        "cell_source": shorten(first, 80),
        "execution_count": cell.get("execution_count"),
        "ename": ename,
        "evalue": evalue,
    }


def _read_partial(path: Path) -> Any:
    """An executed notebook, or None when there is none or it was cut off mid-write."""
    try:
        return read_notebook(path) if path.exists() else None
    except JourneyDataError:
        return None
