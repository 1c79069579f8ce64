"""`journey report` stopped by a signal: SIGTERM (cron's `timeout`) or SIGINT (Ctrl-C).

The run is finished all the same: the notebook running is stopped with its kernel and
recorded as interrupted, the rest as skipped, and the folder is renamed into place without
moving `latest`. The notebooks here are tiny: 01_sleep writes its kernel's pid into the run
folder, then sleeps a minute (the signal comes while it does); 02_after does nothing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import nbformat
import pytest

from journey_lib.report import ReportInterrupted, run_report
from journey_lib.report.runner import point_latest
from tests.test_cli import JOURNEY

NAMES = ["01_sleep", "02_after"]


def write_notebook(path: Path, *sources: str) -> None:
    cells = [nbformat.v4.new_code_cell(source) for source in sources]
    cells[0].metadata["tags"] = ["parameters"]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)


@pytest.fixture
def notebooks(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    write_notebook(
        folder / "01_sleep.ipynb",
        'run_folder: str = ""',
        "import os, pathlib, time\n"
        "pathlib.Path(run_folder, 'kernel.pid').write_text(str(os.getpid()))\n"
        "time.sleep(60)",
    )
    write_notebook(folder / "02_after.ipynb", 'run_folder: str = ""', "after = 1")
    return folder


def wait_for_kernel(out: Path, runner: subprocess.Popen) -> int:
    """The pid of the sleeping notebook's kernel, once its cell runs."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert runner.poll() is None, runner.communicate()
        for marker in out.glob(".*.partial/kernel.pid"):
            if text := marker.read_text():  # empty while being written: look again
                return int(text)
        time.sleep(0.1)
    raise AssertionError("the sleeping cell never ran")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=["SIGTERM", "SIGINT"]
)
def test_a_signal_finishes_the_run_as_interrupted(notebooks, tmp_path, signum, code):
    out, name = tmp_path / "reports", signal.Signals(signum).name
    (out / "20200101-000000").mkdir(parents=True)  # the last finished run
    point_latest(out, "20200101-000000")
    runner = subprocess.Popen(
        [str(JOURNEY), "report", "--notebooks", str(notebooks), "--out", str(out), "--jobs", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A background job inherits SIGINT ignored, and the run then leaves it so: the
        # runner gets the disposition it has in a terminal.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    kernel = wait_for_kernel(out, runner)
    runner.send_signal(signum)
    stdout, stderr = runner.communicate(timeout=60)

    assert runner.returncode == code, stderr
    (folder,) = (p for p in out.iterdir() if p.name != "20200101-000000" and p.name != "latest")
    assert stderr.splitlines() == [
        f"journey: error: report interrupted by {name} after 0 of 2 notebooks; "
        f"what ran is in {folder}"
    ]
    assert "[1/2] 01_sleep: interrupted in" in stdout and "[2/2] 02_after: skipped" in stdout
    assert f"interrupted by {name} in cell 1 `import os, pathlib, time`" in stdout

    # Finished and in place, but latest stays on the last run that finished.
    assert not list(out.glob(".*"))
    assert os.readlink(out / "latest") == "20200101-000000"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert (manifest["status"], manifest["exit_code"], manifest["signal"]) == (
        "interrupted",
        code,
        name,
    )
    assert manifest["swept"] == []
    runs = manifest["notebooks"]
    assert {n: run["status"] for n, run in runs.items()} == {
        "01_sleep": "interrupted",
        "02_after": "skipped",
    }
    assert (runs["01_sleep"]["error"]["ename"], runs["01_sleep"]["error"]["cell_index"]) == (
        "Interrupted",
        1,
    )
    assert runs["02_after"]["error"]["evalue"] == f"not run: the report was interrupted by {name}"
    executed = nbformat.read(folder / "01_sleep.ipynb", as_version=4)
    banner = f"**journey report was interrupted by {name} while cell 1 was running.**"
    assert executed.cells[0].source.startswith(banner)
    index = (folder / "index.html").read_text()
    # index.html opens on the summary (none: the run was interrupted); the run's details
    # below it say how it ended.
    assert f"Run details: interrupted by {name}</h2>" in index
    assert '<tr class="interrupted">' in index and "No summary: the run was interrupted" in index
    assert (folder / "01_sleep.html").exists() and not (folder / "02_after.ipynb").exists()

    # The kernel did not outlive the run.
    deadline = time.monotonic() + 10
    while alive(kernel) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(kernel)


def test_a_signal_stops_every_notebook_running_at_once(tmp_path):
    """Two notebooks at once (--jobs 2): SIGTERM stops both, kernels and all; the third,
    not started, is skipped."""
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    for name in ("01_sleep", "02_sleep"):
        write_notebook(
            notebooks / f"{name}.ipynb",
            'run_folder: str = ""',
            "import os, pathlib, time\n"
            f"pathlib.Path(run_folder, '{name}.pid').write_text(str(os.getpid()))\n"
            "time.sleep(60)",
        )
    write_notebook(notebooks / "03_after.ipynb", 'run_folder: str = ""', "after = 1")
    out = tmp_path / "reports"
    runner = subprocess.Popen(
        [str(JOURNEY), "report", "--notebooks", str(notebooks), "--out", str(out), "--jobs", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    kernels: dict[str, int] = {}
    deadline = time.monotonic() + 120
    while len(kernels) < 2 and time.monotonic() < deadline:
        assert runner.poll() is None, runner.communicate()
        for marker in out.glob(".*.partial/*.pid"):
            if text := marker.read_text():
                kernels[marker.stem] = int(text)
        time.sleep(0.1)
    assert set(kernels) == {"01_sleep", "02_sleep"}  # both sleeping at the same time
    runner.send_signal(signal.SIGTERM)
    stdout, stderr = runner.communicate(timeout=60)

    assert runner.returncode == 143, stderr
    (folder,) = (p for p in out.iterdir() if p.name != "latest")
    assert "after 0 of 3 notebooks" in stderr
    assert "[3/3] 03_after: running" not in stdout and "[3/3] 03_after: skipped" in stdout
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["jobs"] == 2
    assert {n: run["status"] for n, run in manifest["notebooks"].items()} == {
        "01_sleep": "interrupted",
        "02_sleep": "interrupted",
        "03_after": "skipped",
    }
    assert list(manifest["notebooks"]) == ["01_sleep", "02_sleep", "03_after"]
    deadline = time.monotonic() + 10
    while any(map(alive, kernels.values())) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(map(alive, kernels.values()))


def test_a_notebook_that_ended_before_the_signal_keeps_its_own_status(tmp_path, monkeypatch):
    """Two at once: the quick one has ended (unseen yet) when the signal comes; it is
    recorded as it ended, "ok", and only the one still running as interrupted."""
    from journey_lib.report import runner
    from journey_lib.report.execute import Interruption

    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    write_notebook(notebooks / "01_quick.ipynb", 'run_folder: str = ""', "x = 1")
    write_notebook(
        notebooks / "02_sleep.ipynb", 'run_folder: str = ""', "import time; time.sleep(60)"
    )
    started = []
    start = runner.start_notebook

    def recorded(*args):
        started.append(start(*args))
        return started[-1]

    def pause(self, seconds):
        if len(started) == 2:
            started[0].child.wait()  # the quick one has ended, not yet seen by the runner
            self.signum = signal.SIGINT
            return True
        time.sleep(seconds)
        return False

    monkeypatch.setattr(runner, "start_notebook", recorded)
    monkeypatch.setattr(Interruption, "pause", pause)
    with pytest.raises(ReportInterrupted) as caught:
        run_report(notebooks, out=tmp_path / "out", jobs=2)
    result = caught.value.result
    assert result.statuses == {"01_quick": "ok", "02_sleep": "interrupted"}
    assert str(caught.value).startswith("report interrupted by SIGINT after 1 of 2 notebooks")


def test_the_error_carries_the_run_and_the_handlers_are_put_back(notebooks, tmp_path):
    """In-process: SIGINT comes as the first notebook starts (its child is stopped before
    the kernel is up); the caller's own handlers are back afterwards, never called."""
    called = []

    def own(signum, frame):
        called.append(signum)

    def interrupt(line):
        if line.endswith("01_sleep: running"):
            signal.raise_signal(signal.SIGINT)

    before = {s: signal.signal(s, own) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        with pytest.raises(ReportInterrupted) as caught:
            run_report(notebooks, out=tmp_path / "out", progress=interrupt)
        after = {s: signal.getsignal(s) for s in before}
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)
    assert after == {signal.SIGTERM: own, signal.SIGINT: own} and called == []

    stopped = caught.value
    assert (stopped.signal, stopped.exit_code) == ("SIGINT", 130)
    result = stopped.result
    assert result.statuses == {"01_sleep": "interrupted", "02_after": "skipped"}
    assert (result.exit_code, result.ok) == (130, False)
    assert result.summary().startswith(f"report {result.folder.name}: interrupted by SIGINT")
    assert str(stopped) == (
        f"report interrupted by SIGINT after 0 of 2 notebooks; what ran is in {result.folder}"
    )
    assert result.folder.is_dir() and not (tmp_path / "out" / "latest").exists()


def test_from_another_thread_no_handler_is_installed(notebooks, tmp_path):
    """Python allows signal handlers in the main thread only: elsewhere the run goes on
    without them."""
    results, errors = [], []

    def run():
        try:
            results.append(run_report(notebooks, only=["02"], out=tmp_path / "out"))
        except BaseException as exc:  # handed to the main thread to fail there
            errors.append(exc)

    before = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=120)
    assert errors == [] and [r.statuses for r in results] == [{"02_after": "ok"}]
    assert {s: signal.getsignal(s) for s in before} == before


def test_stale_partial_folders_are_swept(notebooks, tmp_path):
    """A .partial folder untouched for a day was left by a runner killed outright; a
    younger one, or one whose files changed lately, may be a run going on."""
    out = tmp_path / "out"
    stale, fresh, busy = (out / f".2020010{n}-000000.partial" for n in (1, 2, 3))
    two_days_ago = time.time() - 2 * 24 * 3600
    for folder in (stale, fresh, busy):
        folder.mkdir(parents=True)
        (folder / "01_sleep.ipynb").write_text("{}")
    os.utime(stale / "01_sleep.ipynb", (two_days_ago, two_days_ago))
    for folder in (stale, busy):
        os.utime(folder, (two_days_ago, two_days_ago))

    lines = []
    before = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    result = run_report(notebooks, only=["02"], out=out, progress=lines.append)
    assert {s: signal.getsignal(s) for s in before} == before  # put back after a whole run
    assert result.statuses == {"02_after": "ok"} and result.exit_code == 0
    assert not stale.exists() and fresh.is_dir() and busy.is_dir()
    assert result.manifest["swept"] == [stale.name]
    assert json.loads((result.folder / "manifest.json").read_text())["swept"] == [stale.name]
    assert lines[0] == f"removed {stale.name}, a run that stopped unfinished over a day ago"
    assert os.readlink(out / "latest") == result.folder.name
