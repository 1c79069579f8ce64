"""``run_report``: checks, runs and renders every notebook of a folder (by default the suite
shipped with journey-lab) into a run folder built aside, renamed into place when done, and
pointed at by ``latest``; a run stopped by SIGTERM or SIGINT is finished all the same.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from .._engine import LOCAL_MASTER, SPARK_MASTER
from ..errors import JourneyParameterError, ReportInterrupted
from .database_run import database_of, database_record, snapshot
from .execute import (
    Interruption,
    NotebookRun,
    Started,
    child_env,
    finish_notebook,
    skipped_run,
    start_notebook,
    stop,
)
from .files import read_json, write_json, write_text
from .metrics import METRICS_LOCK
from .parameters import DATA_PATH, ENGINE, PREPARED
from .plan import (
    Planned,
    assign_parameters,
    customers_used,
    data_record,
    given_customers,
    given_data,
    plan_notebooks,
)
from .prepare import asked_engine, choose_engine, prepare_run
from .render import build_manifest, html_exporter, render_notebook, write_index
from .run_profile import CUSTOMERS_PATH, PROFILE_FILE, run_profile
from .suite import packaged_notebooks
from .summarise import SummaryOutcome, run_options, summarise
from .text import utcnow

__all__ = ["RunResult", "run_report"]


#: Statuses a notebook can end a run with.
STATUSES: tuple[str, ...] = ("ok", "failed", "timeout", "interrupted", "skipped")

# The signals that interrupt a run: SIGTERM from cron's `timeout` or a service manager,
# SIGINT from Ctrl-C.
_SIGNALS = (signal.SIGTERM, signal.SIGINT)
# A .partial folder untouched for this long (seconds) was left by a runner that was killed
# (SIGKILL, a power cut) and is removed by the next run; a younger one may be a run going on.
STALE = 24 * 3600
# Seconds between looks at the running notebooks: how late an ending is noticed.
_POLL = 0.1
#: Most notebooks run at once by default, whatever the cores: each kernel holds its own
#: share of the log.
MAX_JOBS = 4


@dataclasses.dataclass
class RunResult:
    """The outcome of :func:`run_report`.

    ``folder`` is the finished run folder, ``statuses`` maps each notebook to ``"ok"``,
    ``"failed"``, ``"timeout"``, ``"interrupted"`` or ``"skipped"``, ``exit_code`` is 0 when
    every notebook ran, 1 when one did not, and 130 or 143 when the run was interrupted by
    SIGINT or SIGTERM; ``manifest`` is what ``manifest.json`` holds.
    """

    folder: Path
    notebooks: dict[str, NotebookRun]
    manifest: dict[str, Any]

    @property
    def statuses(self) -> dict[str, str]:
        return {name: run.status for name, run in self.notebooks.items()}

    @property
    def ok(self) -> bool:
        return self.manifest["status"] == "ok"

    @property
    def exit_code(self) -> int:
        return self.manifest["exit_code"]

    @property
    def alerts(self) -> list[dict[str, Any]]:
        """The summary's alerts: figures that moved beyond their threshold (see
        :func:`journey_lib.report.history.raised_alerts`)."""
        return (self.manifest.get("summary") or {}).get("alerts", [])

    def summary(self) -> str:
        """A few lines: overall status, then one line per notebook with where it failed."""
        counts = {s: n for s in STATUSES if (n := list(self.statuses.values()).count(s))}
        overall = self.manifest["status"]
        if self.manifest["signal"] is not None:
            overall += f" by {self.manifest['signal']}"
        tally = ", ".join(f"{n} {status}" for status, n in counts.items())
        lines = [
            f"report {self.folder.name}: {overall} ({tally}) in {self.manifest['duration']:.1f} s",
            f"  {self.folder / 'index.html'}",
        ]
        width = max(len(name) for name in self.notebooks)
        status_width = max(7, *(len(status) for status in counts))
        for name, run in self.notebooks.items():
            line = f"  {name:<{width}}  {run.status:<{status_width}} {run.duration:6.1f} s"
            lines.append(f"{line}  {run.problem()}".rstrip())
        return "\n".join(lines)


def run_report(
    notebooks_dir: str | os.PathLike[str] | None = None,
    *,
    parameters: Mapping[str, Any] | None = None,
    only: Sequence[str] | None = None,
    data: str | os.PathLike[str] | None = None,
    profile: str | os.PathLike[str] | None = None,
    hints: Mapping[str, Any] | None = None,
    out: str | os.PathLike[str] = "reports",
    fail_fast: bool = False,
    timeout: float = 600,
    progress: Callable[[str], None] | None = None,
    engine: str | None = None,
    jobs: int | None = None,
    spark_master: str | None = None,
    table: str | None = None,
    query: str | None = None,
) -> RunResult:
    """Run the notebooks of a folder with papermill into a new run folder under ``out``.

    Everything is checked first (notebooks, ``only``, parameters and their types, ``data``);
    a problem raises before any notebook runs or any folder is made. Then each notebook runs
    in a child process on the ``python3`` kernel of the current interpreter, with the
    notebooks folder as working folder, and the run folder is written as described in
    :mod:`journey_lib.report`. Relative paths (``data``, ``out``) are read from the current
    folder, whichever notebooks run.

    A run stopped by SIGTERM (cron's ``timeout``, a service manager) or SIGINT (Ctrl-C) is
    finished all the same: the notebooks running are stopped, their kernels shut down, and
    recorded as ``"interrupted"``, those not started as ``"skipped"``; the run folder gets
    its manifest (status ``"interrupted"``, the signal, exit code 143 or 130) and page and
    is renamed into place, but ``latest`` stays on the last run that finished. Then
    :class:`ReportInterrupted` is raised. The handlers are installed for the run only, and
    only when ``run_report`` is called from the main thread (Python allows no other): from
    another thread the signals act as they would without it.

    A run first removes the ``.partial`` folders in ``out`` that have not changed for a day
    (left by runners killed outright, SIGKILL or a power cut) and records their names in
    the manifest (``swept``); younger ones may be runs going on, and are left alone.

    Parameters
    ----------
    notebooks_dir : path, optional
        The folder whose ``*.ipynb`` files are run, started in name order. Without it, the suite
        shipped with journey-lab (:func:`packaged_notebooks`), from any current folder. The
        manifest records which ran: ``suite`` is ``"packaged"`` or ``"folder"``, and
        ``notebooks_dir`` the folder.
    parameters : mapping, optional
        Parameter values by name (see :func:`read_parameters`). Each must be declared by a
        selected notebook and fit its type; each notebook receives those it declares.
    only : sequence of str, optional
        Notebooks to run: names with or without ``.ipynb``, or number prefixes (``"01"``).
    data : path or str, optional
        A data file or folder, passed (made absolute) as ``data_path`` to the notebooks
        declaring it; a ``data_path`` in ``parameters`` means the same. Or a database, a
        PostgreSQL URL (``postgresql://user@host:port/database``) or a DuckDB file, with
        ``table`` or ``query``: its rows are read once into a temporary Parquet file which
        the run treats as its data file (:mod:`journey_lib.report.database_run`); the
        manifest names the database without its password. Without either, they
        use their own default. The fingerprint of the data used is recorded either way.
        Given a log, notebooks declaring ``customers_path`` get ``""`` unless it is given
        too: their sample customer table belongs to the sample. A ``customers_path`` given
        is made absolute too (a missing file is refused before any notebook runs), and the
        summary reads the customer table the notebooks read.
    profile : path, optional
        The data's log profile as YAML (``journey profile --out``). Without it the profile
        is inferred from the data (:func:`journey_lib.profile`). Either way it is saved in
        the run folder as ``journey.yaml``, recorded in the manifest, and passed as the
        ``profile`` parameter to every notebook declaring one.
    hints : mapping, optional
        ``columns`` (input column -> role) and ``conversion``: hints for the inference, or
        changes to a given profile.
    out : path
        Where run folders go (default ``reports``).
    fail_fast : bool
        Stop at the first notebook that fails or times out; the rest are ``"skipped"``.
        The notebooks then run one at a time.
    timeout : float
        Seconds each notebook may take, kernel start included (default 600).
    progress : callable, optional
        Called with one line as each notebook starts and finishes, and for each folder
        swept (``print`` will do).
    engine : {"auto", "pandas", "polars", "duckdb", "spark"}, optional
        Where the log stays while the notebooks and the summary analyse it (the same as an
        ``engine`` parameter). ``"auto"`` (the default) is pandas up to
        :data:`journey_lib.report.prepare.AUTO_ROWS` usable rows and DuckDB above; Spark
        only when asked for (each notebook then starts a Spark session on
        ``spark_master``, :func:`journey_lib._engine.spark_session`). Either
        way the log is read and validated once, before any notebook runs
        (:func:`journey_lib.report.prepare.prepare_log`), and every notebook declaring a
        ``prepared`` parameter opens that instead of reading the file again; the engine
        chosen is recorded as the ``engine`` parameter.
    jobs : int, optional
        Notebooks run at once, each in its own kernel with one OpenMP thread, started in
        number order as others end (default: the cores this process may use, at most
        :data:`MAX_JOBS`; 1 with ``fail_fast``). Every kernel holds what it reads of the
        log: with the pandas engine and a log near the memory's size, run fewer. Recorded
        in the manifest.
    spark_master : str, optional
        With ``engine="spark"``, the master URL of every notebook's Spark session and the
        summary's (``local[2]``, ``spark://host:7077``, ``yarn``, ...; default the
        ``JOURNEY_SPARK_MASTER`` environment variable, else ``local[*]``: every core here).
        Executors on other machines read the log the runner prepared in its scratch folder
        (under the system's temporary folder, ``TMPDIR``), which must then be a folder
        they share. Recorded in the manifest.
    table, query : str, optional
        With a database as ``data``: the table (``schema.table`` too) or one ``SELECT``
        whose rows the run reads, exactly one.

    Returns
    -------
    RunResult
        The run folder, each notebook's status, the exit code (0 when all ran, 1 otherwise)
        and the manifest.

    Raises
    ------
    JourneyParameterError
        No or unknown notebooks, a notebook without exactly one ``parameters`` cell, an
        unknown parameter or one of the wrong type (the message lists the valid ones), a
        ``timeout`` that is not positive, ``jobs`` under 1, ``jobs`` over 1 with
        ``fail_fast``, ``spark_master`` without the Spark engine, or the Spark engine
        without pyspark or Java.
    JourneyDataError
        ``data`` does not exist, a database cannot be read (unreachable, refused, no such
        table, no row), or a notebook cannot be read.
    ReportInterrupted
        SIGTERM or SIGINT stopped the run, whose folder was finished all the same: the
        error carries its RunResult, the signal's name and the exit code (143 or 130).

    Examples
    --------
    >>> result = run_report(parameters={"seed": 1}, out="reports")  # doctest: +SKIP
    >>> print(result.summary())  # doctest: +SKIP
    report 20260101-060000: ok (6 ok) in 67.0 s
    """
    if not timeout > 0:
        raise JourneyParameterError(f"timeout must be a positive number of seconds, got {timeout}")
    if jobs is None:
        jobs = 1 if fail_fast else default_jobs()
    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
        raise JourneyParameterError(f"jobs must be a whole number of at least 1, got {jobs!r}")
    if fail_fast and jobs > 1:
        raise JourneyParameterError(
            f"fail_fast runs one notebook at a time, so that none starts after a failure; "
            f"jobs must be 1 with it, got {jobs}"
        )
    suite = "packaged" if notebooks_dir is None else "folder"
    say = progress or (lambda line: None)
    with _notebooks_folder(notebooks_dir) as notebooks, contextlib.ExitStack() as reading:
        planned = plan_notebooks(notebooks, only)
        given = dict(parameters or {})
        database = database_of(data, given, planned, table, query)
        if database is not None:
            data, rows = reading.enter_context(snapshot(database, say))
        data_path = given_data(data, given, planned)
        declared = {name for plan in planned for name in plan.declared}
        data_info = data_record(planned, notebooks, data_path)
        found, profile_info = run_profile(
            declared,
            given,
            data_path or _default_data(data_info),
            profile,
            hints or {},
            data_given=data_path is not None,
        )
        options = run_options(given, declared)
        given_customers(given)
        asked = asked_engine(engine, given)
        if spark_master is not None and asked != "spark":
            raise JourneyParameterError(
                f"spark_master ({spark_master!r}) is the master of the Spark engine's "
                f"sessions; the engine asked for is {asked!r}: add --engine spark"
            )
        if spark_master is not None and not (isinstance(spark_master, str) and spark_master):
            raise JourneyParameterError(
                f"spark_master must be a master URL such as local[2], got {spark_master!r}"
            )
        if asked != "auto":
            choose_engine(asked, None)  # installed? Said before a long read of the log.
        assign_parameters(planned, given)
        # The summary reads the customer table the notebooks read.
        customers = {CUSTOMERS_PATH: customers_used(given, planned, notebooks)}

        started = utcnow()
        out = Path(out)
        with contextlib.ExitStack() as stack:
            if spark_master is not None:
                # Kernels inherit it, and the summary's session in this process reads it.
                stack.enter_context(_environment(SPARK_MASTER, spark_master))
            scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="journey-report-"))
            read = data_path or _default_data(data_info)
            # Before the run's signal handlers: Ctrl-C or SIGTERM stop a long read at once,
            # before any run folder is made.
            named = database.describe() if database is not None else None
            prepared = prepare_run(found, read, planned, data_info, Path(scratch), say, named)
            chosen = choose_engine(asked, prepared)
            for plan in planned:
                if ENGINE in plan.declared:
                    plan.parameters[ENGINE] = chosen
                if PREPARED in plan.declared and prepared is not None:
                    plan.parameters[PREPARED] = str(prepared[0])
            given[ENGINE] = chosen
            interruption = stack.enter_context(_signals_caught())
            swept = _sweep(out, say)
            name, partial = _reserve(out, started.strftime("%Y%m%d-%H%M%S"))
            if found is not None:
                found.to_yaml(partial / PROFILE_FILE)
            runs = _run_notebooks(
                planned,
                partial,
                notebooks,
                timeout,
                fail_fast,
                interruption,
                say,
                Path(scratch),
                jobs,
            )
            summary = (
                summarise(
                    partial,
                    prepared[0] if prepared is not None else read,
                    found,
                    {**given, **customers},
                    runs,
                    options,
                    name,
                    say,
                )
                if interruption.signum is None
                else SummaryOutcome.skipped("the run was interrupted")
            )
            # Read once, after the summary (which runs in this process and finishes before a
            # signal is acted on): the run is recorded as interrupted or not from here on.
            signum = interruption.signum
            if database is not None:
                data_info = database_record(data_info, database, Path(data), rows)
            manifest = build_manifest(
                name, started, utcnow(), notebooks, suite, given, data_info, runs, signum
            )
            if database is not None:
                # What the notebooks were handed was a temporary file, gone after the run.
                manifest["parameters"][DATA_PATH] = database.describe()
                for run in manifest["notebooks"].values():
                    if DATA_PATH in run.get("parameters", {}):
                        run["parameters"][DATA_PATH] = database.describe()
            manifest.update(
                timeout=timeout,
                fail_fast=fail_fast,
                jobs=jobs,
                only=list(only) if only else None,
                spark_master=(os.environ.get(SPARK_MASTER) or LOCAL_MASTER)
                if chosen == "spark"
                else None,
                swept=swept,
                summary=summary.record,
            )
            manifest["parameters"].update(options.given)
            if summary.record["status"] == "failed" and manifest["status"] == "ok":
                manifest.update(status="failed", exit_code=1)
            if profile_info:
                manifest["profile"] = profile_info
            result = _finish(out, name, partial, manifest, runs, summary.sections)
        if signum is not None:
            raise _interrupted(result)
        if interruption.signum is not None:
            # It came while the finished run was being written: pass it on to the handler
            # that was there before, as if it had come just now.
            signal.raise_signal(interruption.signum)
        return result


def _run_notebooks(
    planned: list[Planned],
    partial: Path,
    notebooks: Path,
    timeout: float,
    fail_fast: bool,
    interruption: Interruption,
    say: Callable[[str], None],
    scratch: Path,
    jobs: int,
) -> dict[str, NotebookRun]:
    """Run and render the notebooks, up to ``jobs`` at once, each started in turn as
    another ends. After a signal the running ones are stopped and the rest skipped, as
    after a failure under ``fail_fast`` (which runs one at a time)."""
    runs: dict[str, NotebookRun] = {}
    exporter = html_exporter()
    env = child_env(scratch)
    waiting = list(enumerate(planned, start=1))
    running: list[tuple[str, Started]] = []
    failed = False
    try:
        while waiting or running:
            while waiting and len(running) < jobs and not failed and interruption.signum is None:
                number, plan = waiting.pop(0)
                step = f"[{number}/{len(planned)}] {plan.name}"
                say(f"{step}: running")
                running.append((step, start_notebook(plan, partial, notebooks, env, scratch)))
            if not running:
                break
            interrupted = interruption.pause(_POLL)
            # Who ended is seen (and their end noted) before anything is stopped, so that a
            # notebook that ended by itself is never recorded as stopped.
            due = []
            for step, started in running:
                if started.ended():
                    due.append((step, started, None))
                elif interrupted:
                    due.append((step, started, "interrupted"))
                elif started.elapsed() > timeout:
                    due.append((step, started, "timeout"))
            for _, started, stopped in due:  # every child told at once, then waited for
                if stopped is not None:
                    started.terminate()
            for step, started, stopped in due:
                running.remove((step, started))
                run = finish_notebook(started, stopped, timeout, interruption.name)
                render_notebook(exporter, partial, started.plan, run, notebooks)
                runs[started.plan.name] = run
                say(f"{step}: {run.status} in {run.duration:.1f} s")
                failed = failed or (fail_fast and run.status != "ok")
    finally:
        # On any error of the runner's own (or Ctrl-C without the run's handlers): no child
        # outlives it. All are told first, then each is waited for.
        for _, started in running:
            started.terminate()
        for _, started in running:
            stop(started.child, signalled=True)
    for number, plan in waiting:
        runs[plan.name] = skipped_run(plan, interruption.name)
        say(f"[{number}/{len(planned)}] {plan.name}: skipped")
    return {plan.name: runs[plan.name] for plan in planned}


def default_jobs() -> int:
    """Notebooks run at once by default: the cores this process may use, at most
    :data:`MAX_JOBS`.

    Examples
    --------
    >>> 1 <= default_jobs() <= MAX_JOBS
    True
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cores or 1, MAX_JOBS))


def _finish(
    out: Path,
    name: str,
    partial: Path,
    manifest: dict[str, Any],
    runs: dict[str, NotebookRun],
    summary: str = "",
) -> RunResult:
    """Write the run's records and page, rename its folder into place and, unless it was
    interrupted, point ``latest`` at it (an interrupted run leaves it on the last whole one)."""
    metrics = partial / "metrics.json"
    (partial / METRICS_LOCK).unlink(missing_ok=True)  # every notebook has ended
    if not metrics.exists():
        write_json(metrics, {})
    write_json(partial / "manifest.json", manifest)
    write_index(partial / "index.html", manifest, runs, read_json(metrics), summary)
    folder = out / name
    partial.rename(folder)
    if manifest["status"] != "interrupted":
        point_latest(out, name)
    return RunResult(folder=folder, notebooks=runs, manifest=manifest)


def _interrupted(result: RunResult) -> ReportInterrupted:
    """The error of an interrupted run: how far it got and where it is."""
    ran = sum(status in ("ok", "failed", "timeout") for status in result.statuses.values())
    signal_name = result.manifest["signal"]
    return ReportInterrupted(
        f"report interrupted by {signal_name} after {ran} of {len(result.notebooks)} notebooks; "
        f"what ran is in {result.folder}",
        result=result,
        signal=signal_name,
        exit_code=result.exit_code,
    )


@contextlib.contextmanager
def _environment(name: str, value: str) -> Iterator[None]:
    """``name`` set to ``value`` in this process's environment for the block."""
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


@contextlib.contextmanager
def _signals_caught() -> Iterator[Interruption]:
    """An :class:`Interruption` handling SIGTERM and SIGINT for the ``with`` block, the
    handlers found before it put back after.

    Only the main thread can install signal handlers; in another thread nothing is
    installed (a signal then acts as it would without the run). A signal that is ignored
    (SIGINT in a background job) stays ignored, and one handled outside Python is left to
    that handler, which could not be put back.
    """
    interruption = Interruption()
    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        previous = {
            s: h for s in _SIGNALS if (h := signal.getsignal(s)) not in (signal.SIG_IGN, None)
        }
    try:
        for signum in previous:
            signal.signal(signum, interruption)
        yield interruption
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _sweep(out: Path, say: Callable[[str], None]) -> list[str]:
    """Remove the ``.partial`` folders in ``out`` that neither they nor their files have
    changed in for :data:`STALE` seconds; their names, in order."""
    swept: list[str] = []
    cutoff = time.time() - STALE
    for folder in sorted(out.glob(".*.partial")):
        try:
            touched = max(path.stat().st_mtime for path in [folder, *folder.iterdir()])
        except OSError:  # renamed into place meanwhile by its run, or not a folder
            continue
        if touched > cutoff:
            continue
        try:
            shutil.rmtree(folder)
        except OSError as exc:  # left for whoever may remove it: this run goes on
            say(f"could not remove {folder.name}, an unfinished run: {exc}")
            continue
        say(f"removed {folder.name}, a run that stopped unfinished over a day ago")
        swept.append(folder.name)
    return swept


def _default_data(data_info: dict[str, Any]) -> Path | None:
    """The log the notebooks read by default (the first that declares one)."""
    paths = [p for p in data_info["per_notebook"].values() if p is not None]
    return Path(paths[0]) if paths else None


@contextlib.contextmanager
def _notebooks_folder(notebooks_dir: str | os.PathLike[str] | None) -> Iterator[Path]:
    """The folder given, made absolute (the notebooks run in it), else the packaged suite."""
    if notebooks_dir is None:
        with packaged_notebooks() as folder:
            yield folder
    else:
        yield Path(notebooks_dir).resolve()


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


def point_latest(out: Path, name: str) -> None:
    """Point ``out/latest`` at the run: a relative symlink, else a ``latest.txt`` file."""
    link, marker = out / "latest", out / "latest.txt"
    temporary = out / f".latest.{os.getpid()}"
    try:
        temporary.symlink_to(name, target_is_directory=True)
        os.replace(temporary, link)  # atomic: readers see the old run or the new one
    except (OSError, NotImplementedError):
        temporary.unlink(missing_ok=True)
        write_text(marker, name + "\n")
        return
    if marker.exists():  # left by a run where symlinks failed; keep it true
        write_text(marker, name + "\n")
