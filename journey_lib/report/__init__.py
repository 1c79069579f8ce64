"""Scheduled report runs: every notebook re-run with papermill into a dated run folder.

:func:`run_report` (and ``journey report``) runs the notebooks of a folder, started in name
order and several at once (``jobs``), each with the parameters it declares, and writes one
run folder. The folder is by default the
suite shipped with journey-lab (:func:`packaged_notebooks`), so a run works from any current
folder; :func:`copy_suite` (``journey init``) copies it out to edit::

    reports/20260101-060000/
        01_touchpoints.ipynb    the executed notebook (kept when it failed, up to the error)
        01_touchpoints.html     the same without code cells, images embedded
        ...
        summary.html            what a manager reads first: headline figures with their
                                change, four figures, actions, since the last run, about
                                the data (journey_lib.report.summary)
        at_risk.csv, .parquet   who to call today (the churn notebook)
        metrics.json            key figures the notebooks recorded with record_metrics, and
                                the summary's figures and alerts under "summary"
        manifest.json           which notebooks ran (the packaged suite or a folder),
                                parameters, data fingerprint, versions, times and statuses
        index.html              the summary, then the run's details and links
    reports/latest -> 20260101-060000

The rules a run follows:

* **Parameters are checked before anything runs.** A notebook declares its parameters in its
  one cell tagged ``parameters`` (the papermill convention). Every parameter given must be
  declared by a selected notebook and fit the declared type, or :class:`JourneyParameterError`
  lists the valid ones and nothing is run. Each notebook receives only what it declares.
* **Three parameters are filled in by the runner** for notebooks that declare them:
  ``run_folder`` (where :func:`record_metrics` writes), ``data_path`` (from ``data``) and
  ``profile``: the data's log profile, given or inferred once for the whole run, saved as
  ``journey.yaml`` in the run folder and recorded in the manifest. A notebook opens its data
  with :func:`open_data` and shows a sentence instead of a section that cannot apply.
* **Two parameters belong to the run**: ``alerts`` (thresholds by headline figure; a figure
  that moved beyond its threshold is flagged) and ``min_cell`` (small counts hidden on the
  summary, the pages and in metrics.json), checked before anything runs
  (:mod:`journey_lib.report.summarise`).
* **A run is never half-visible.** It is built in ``.<stamp>.partial`` and renamed into place
  when done; ``latest`` then points at it. Earlier runs are never touched.
* **Run folders are named by the UTC start time**, with ``-2``, ``-3`` ... when runs start in
  the same second.
* **A run stopped by SIGTERM or SIGINT is finished all the same** (when :func:`run_report`
  runs in the main thread, the only one Python lets handle signals): the notebooks running
  are stopped, their kernels shut down, and recorded as ``"interrupted"``, those not started as
  ``"skipped"``; the manifest says ``"status": "interrupted"`` with the signal and the exit
  code (143 for SIGTERM, 130 for SIGINT), the folder is renamed into place but ``latest``
  stays on the last run that finished, and :class:`ReportInterrupted` is raised. A
  ``.partial`` folder untouched for a day was left by a runner killed outright: the next
  run removes it and names it in its manifest (``swept``).
* **Each notebook runs in a child process** with its own wall-clock timeout, kernel start
  included; a notebook that exceeds it is stopped, recorded as ``"timeout"`` and its partial
  output is kept. A failure does not stop the others unless ``fail_fast``.
* **Where a notebook stopped** is given as the cell's index in the author's notebook (0-based,
  as nbformat counts, leaving out the cells papermill adds) and the first line of its source.
"""

# Names imported "as" themselves are there as before but outside __all__: the documented
# constants.
from ..errors import ReportInterrupted
from . import campaigns, lifetimes, model_readings, readings, segment_readings, views
from .change_privacy import private_changes
from .data import ReportData, open_data
from .execute import KERNEL as KERNEL
from .execute import NotebookRun
from .fingerprint import data_fingerprint
from .headlines import Headline, headline
from .metrics import record_metrics
from .parameters import DATA_PATH as DATA_PATH
from .parameters import RUN_FOLDER as RUN_FOLDER
from .parameters import CommandLineValue, NotebookParameter, notebook_parameters, read_parameters
from .runner import STATUSES as STATUSES
from .runner import RunResult, run_report
from .suite import copy_suite, packaged_notebooks
from .tables import formatted, private
from .views import show_figure, show_reading

__all__ = [
    "CommandLineValue",
    "Headline",
    "NotebookParameter",
    "NotebookRun",
    "ReportData",
    "ReportInterrupted",
    "RunResult",
    "campaigns",
    "copy_suite",
    "data_fingerprint",
    "formatted",
    "headline",
    "lifetimes",
    "model_readings",
    "notebook_parameters",
    "open_data",
    "packaged_notebooks",
    "private",
    "private_changes",
    "read_parameters",
    "readings",
    "record_metrics",
    "run_report",
    "segment_readings",
    "show_figure",
    "show_reading",
    "views",
]
