"""A run's pages and records: each executed notebook as HTML without code cells, the
manifest (parameters, data, versions, times, statuses) and the run's ``index.html``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import platform
import re
import signal
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .execute import NotebookRun
from .files import read_notebook
from .metrics import RESERVED, TEACHING
from .parameters import NOT_LITERAL, literal_value
from .plan import Planned
from .summary_page import page
from .text import iso_time

esc = html.escape
_MANIFEST_FORMAT = 1
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
    "ipyevents",
)


def html_exporter() -> Any:
    """The nbconvert exporter of report pages: results and prose, no code."""
    from nbconvert import HTMLExporter

    # Code cells are left out entirely (readers get the story and the results); images
    # referenced from markdown are embedded, and plot outputs are inline PNGs already.
    return HTMLExporter(
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )


def render_notebook(
    exporter: Any, folder: Path, plan: Planned, run: NotebookRun, cwd: Path
) -> None:
    """Write the HTML page of an executed notebook beside it; a page that cannot render
    is recorded in ``run.html_error`` instead of stopping the run."""
    if run.executed is None:
        return
    target = folder / _html_name(plan.name)
    try:
        nb = read_notebook(folder / run.executed)
        # Without saved widget state nbconvert shows each widget's static PNG fallback; with
        # it, a live view whose JavaScript comes from the network.
        nb.metadata.pop("widgets", None)
        for cell in nb.cells:
            if cell.get("outputs"):
                cell.outputs = readable_outputs(cell.outputs)
        resources = {"metadata": {"name": plan.name, "path": str(cwd)}}
        body, _ = exporter.from_notebook_node(nb, resources=resources)
    except Exception as exc:  # a page that cannot render must not lose the rest of the run
        run.html_error = f"{type(exc).__name__}: {exc}"
        return
    target.write_text(body, encoding="utf-8")
    run.html = target.name


def readable_outputs(outputs: list[Any]) -> list[Any]:
    """A cell's outputs as a page shows them: an error as one line (its type and message,
    folders left out) instead of a traceback, and no stderr text (warnings, logs); the
    executed notebook keeps both in full.

    Examples
    --------
    >>> import nbformat
    >>> error = nbformat.v4.new_output("error", ename="KeyError", evalue="'x'",
    ...                                traceback=["Traceback ...", "  File /tmp/a.py", "KeyError"])
    >>> noise = nbformat.v4.new_output("stream", name="stderr", text="/tmp/x.py: Warning")
    >>> [o["traceback"] for o in readable_outputs([error, noise])]
    [["The notebook stopped here: KeyError: 'x'"]]
    """
    # Imported here: nbformat brings jsonschema's format checkers, about 2 s, which every
    # kernel and command importing journey_lib would pay otherwise.
    from nbformat import NotebookNode

    shown = []
    for output in outputs:
        if output.get("output_type") == "stream" and output.get("name") == "stderr":
            continue
        if output.get("output_type") == "error":
            message = _FOLDERS.sub("", f"{output.get('ename')}: {output.get('evalue')}")
            output = NotebookNode(
                {**output, "traceback": [f"The notebook stopped here: {message}"]}
            )
        shown.append(output)
    return shown


# Folders in a message ("/work/x/data.csv" reads "data.csv"): paths stay off report pages.
_FOLDERS = re.compile(r"(?:[A-Za-z]:)?(?:[/\\][^/\\\s'\"]+)+[/\\]")


def _html_name(name: str) -> str:
    # "index.html" is the run's own page; a notebook called "index" gets another name.
    return f"{name}.notebook.html" if name == "index" else f"{name}.html"


def build_manifest(
    name: str,
    started: dt.datetime,
    finished: dt.datetime,
    notebooks_dir: Path,
    suite: str,
    given: dict[str, Any],
    data: dict[str, Any],
    runs: dict[str, NotebookRun],
    signum: int | None = None,
) -> dict[str, Any]:
    """What ``manifest.json`` holds: the run's status, times, parameters, seeds, data
    fingerprints, package versions and each notebook's outcome.

    The status is ``"interrupted"`` when a signal (``signum``) stopped the run, with exit
    code 128 + its number as a shell reports it (130 for SIGINT, 143 for SIGTERM), else
    ``"ok"`` (0) when every notebook ran and ``"failed"`` (1) otherwise.
    """
    if signum is not None:
        status, exit_code = "interrupted", 128 + signum
    elif all(run.status == "ok" for run in runs.values()):
        status, exit_code = "ok", 0
    else:
        status, exit_code = "failed", 1
    return {
        "format": _MANIFEST_FORMAT,
        "folder": name,
        "status": status,
        "exit_code": exit_code,
        "signal": None if signum is None else signal.Signals(signum).name,
        "started_at": iso_time(started),
        "finished_at": iso_time(finished),
        "duration": round((finished - started).total_seconds(), 3),
        "suite": suite,
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
            default = literal_value(run.defaults["seed"])
            seeds[name] = run.defaults["seed"] if default is NOT_LITERAL else default
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


def write_index(
    path: Path,
    manifest: dict[str, Any],
    runs: dict[str, NotebookRun],
    metrics: dict[str, Any],
    summary: str = "",
) -> None:
    """Write the run's ``index.html``: the summary's sections first (``summary``, as
    :func:`journey_lib.report.summary_page.summary_sections` writes them; a sentence saying
    why when there is none), then the run's details: status, data, one line per notebook,
    the figures each recorded, and links to the records."""
    rows = []
    for name, run in runs.items():
        links = " ".join(
            f'<a href="{quote(target)}">{label}</a>'
            for label, target in (("report", run.html), ("notebook", run.executed))
            if target
        )
        rows.append(
            f'<tr class="{esc(run.status)}"><td>{esc(name)}</td>'
            f'<td class="status">{esc(run.status)}</td><td class="number">'
            f"{run.duration:.1f} s</td><td>{links}</td><td>{esc(run.problem())}</td></tr>"
        )
    # The file's name only: folders stay out of pages (manifest.json keeps the full path).
    fingerprints = "".join(
        f"<li><code>{esc(Path(f['path']).name)}</code>: sha256 "
        f"<code>{esc(str(f.get('sha256')))}</code></li>"
        for f in manifest["data"]["fingerprints"]
    )
    status, interrupted = manifest["status"], ""
    if manifest["signal"] is not None:
        status = f"{status} by {manifest['signal']}"
        interrupted = (
            f"<p>The run was stopped by {esc(manifest['signal'])} before it finished; the "
            "table says which notebooks ran.</p>\n"
        )
    about_summary = manifest.get("summary") or {}
    if not summary:
        why = about_summary.get("reason") or "the run wrote no summary"
        summary = f"<h1>journey report {esc(manifest['folder'])}</h1><p>No summary: {esc(why)}.</p>"
    recorded = {k: v for k, v in metrics.items() if k not in RESERVED}
    body = f"""{summary}
<section id="run"><h2>Run details: {esc(status)}</h2>
{interrupted}<p>Run {esc(manifest["folder"])}, started {esc(manifest["started_at"])}, finished
{esc(manifest["finished_at"])} ({manifest["duration"]:.1f} s). Data
({esc(manifest["data"]["source"])}):</p>
<ul>{fingerprints or "<li>none</li>"}</ul>
<table class="runs">
<tr><th>notebook</th><th>status</th><th>duration</th><th>outputs</th><th>problem</th></tr>
{"".join(rows)}
</table>
<h3>Figures the notebooks recorded</h3>
{_recorded(recorded)}
{_teaching(metrics.get(TEACHING) or {})}
<p><a href="summary.html">summary.html</a> (the summary alone, to print or send)
&middot; <a href="manifest.json">manifest.json</a> (parameters, data fingerprint, versions)
&middot; <a href="metrics.json">metrics.json</a></p>
</section>"""
    path.write_text(page(f"journey report {manifest['folder']}", body), encoding="utf-8")


def _recorded(metrics: dict[str, Any]) -> str:
    """The figures notebooks recorded, one table, values written for a reader."""
    rows = [
        f'<tr><td>{esc(notebook)}</td><td>{esc(key)}</td><td class="number">'
        f"{esc(plain_value(value, key))}</td></tr>"
        for notebook, values in metrics.items()
        if isinstance(values, dict)
        for key, value in values.items()
    ]
    if not rows:
        return "<p>None recorded.</p>"
    return (
        "<table><tr><th>notebook</th><th>figure</th><th>value</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _teaching(metrics: dict[str, Any]) -> str:
    """The teaching notebooks' figures, apart: they describe simulated data, not the data."""
    if not metrics:
        return ""
    return "<h3>Teaching notebooks (simulated data, not the data above)</h3>" + _recorded(metrics)


def plain_value(value: Any, name: str = "") -> str:
    """A recorded value as a page writes it: a rate or share (by its ``name``) as a
    percentage, whole numbers with thousands separators, other numbers to three significant
    digits, yes/no, text as it is (``"<10"`` under min_cell), a dash for none.

    Examples
    --------
    >>> [plain_value(v) for v in (2000, 0.2317888446872782, 18234.56, True, None, "web")]
    ['2,000', '0.232', '18,235', 'yes', '–', 'web']
    >>> plain_value(0.2317888446872782, "conversion_rate")
    '23.2%'
    """
    if isinstance(value, float) and any(w in name for w in ("rate", "share", "probability")):
        return f"{value:.1%}"
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value.is_integer() or abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.3g}"
    return str(value)
