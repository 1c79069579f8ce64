"""`journey report` and journey_lib.report: notebooks re-run into dated run folders.

The notebooks under tests/notebooks are tiny: 01_metrics records key figures and draws a
figure, 02_fails raises in cell 2 unless ``should_fail=False``, 03_sleep sleeps ``seconds``.
Each test runs copies of them, so run folders and outputs never land in the source tree.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import re
import shutil
from importlib import metadata
from pathlib import Path

import nbformat
import numpy as np
import pytest

import journey_lib.report as report
from journey_lib.errors import JourneyDataError, JourneyParameterError
from journey_lib.report import (
    NotebookParameter,
    data_fingerprint,
    notebook_parameters,
    read_parameters,
    record_metrics,
    run_report,
)
from tests.test_cli import assert_one_line_error, journey

SOURCE = Path(__file__).parent / "notebooks"
NAMES = ["01_metrics", "02_fails", "03_sleep"]


@pytest.fixture
def notebooks(tmp_path):
    folder = tmp_path / "notebooks"
    shutil.copytree(SOURCE, folder, ignore=shutil.ignore_patterns("conftest.py", "__pycache__"))
    return folder


def runs_in(out: Path) -> list[Path]:
    return sorted(p for p in out.iterdir() if p.is_dir() and not p.is_symlink())


def write_notebook(path: Path, *sources: str, tags=("parameters",)) -> Path:
    """A notebook whose first cell is tagged ``tags`` and holds ``sources[0]``."""
    cells = [nbformat.v4.new_code_cell(src) for src in sources]
    for cell in cells[:1]:
        cell.metadata["tags"] = list(tags)
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    return path


def code_cells(page: str) -> list[str]:
    """The HTML of each code cell of an nbconvert page."""
    return [c for c in re.split(r'<div class="jp-Cell ', page)[1:] if c.startswith("jp-CodeCell")]


# --------------------------------------------------------------------------------------------
# whole runs
# --------------------------------------------------------------------------------------------


def test_cli_happy_path_writes_a_complete_run_folder(notebooks, tmp_path):
    out = tmp_path / "reports"
    params = tmp_path / "params.yaml"
    params.write_text("seed: 7\nscale: 2  # an int is fine for a float\nlabel: from-file\n")
    data = tmp_path / "events.csv"
    data.write_text("customer_id,event\n" + "1,ad_view\n" * 5)
    result = journey(
        "report", "--notebooks", notebooks, "--out", out, "--params", params,
        "-p", "should_fail=false", "-p", "label=007", "-p", "seed=8", "--data", data,
        "--timeout", 300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    for number, name in enumerate(NAMES, start=1):
        assert f"[{number}/3] {name}: running" in result.stdout
        assert re.search(rf"\[{number}/3\] {name}: ok in \d+\.\d s", result.stdout)

    # Layout: one finished run, latest pointing at it, nothing partial left behind.
    (folder,) = runs_in(out)
    assert re.fullmatch(r"\d{8}-\d{6}", folder.name)
    assert os.readlink(out / "latest") == folder.name
    assert not list(out.glob(".*"))
    expected = {f"{n}.{ext}" for n in NAMES for ext in ("ipynb", "html")}
    assert {p.name for p in folder.iterdir()} == expected | {
        "index.html",
        "manifest.json",
        "metrics.json",
    }

    manifest = json.loads((folder / "manifest.json").read_text())
    assert (manifest["status"], manifest["exit_code"], manifest["folder"]) == ("ok", 0, folder.name)
    started = dt.datetime.fromisoformat(manifest["started_at"])
    finished = dt.datetime.fromisoformat(manifest["finished_at"])
    assert started.tzinfo == dt.UTC and started <= finished
    assert folder.name == started.strftime("%Y%m%d-%H%M%S")
    # -p overrides the file; "007" stays text for a str parameter; each notebook gets its own.
    runs = manifest["notebooks"]
    assert runs["01_metrics"]["parameters"] == {
        "seed": 8,
        "scale": 2,
        "label": "007",
        "data_path": str(data.resolve()),
        # The notebooks ran in the hidden partial folder that was then renamed into place.
        "run_folder": str((out / f".{folder.name}.partial").resolve()),
    }
    assert runs["02_fails"]["parameters"] == {"seed": 8, "should_fail": False}
    assert runs["03_sleep"]["parameters"] == {}
    assert runs["03_sleep"]["defaults"] == {"seconds": "0.0"}
    assert manifest["seed"] == {"01_metrics": 8, "02_fails": 8}
    for run in runs.values():
        assert run["status"] == "ok" and run["error"] is None and run["duration"] > 0
    assert manifest["data"]["source"] == "given"
    assert manifest["data"]["fingerprints"] == [
        {
            "path": str(data.resolve()),
            "sha256": hashlib.sha256(data.read_bytes()).hexdigest(),
            "files": 1,
            "bytes": data.stat().st_size,
        }
    ]
    assert manifest["versions"]["python"] == platform.python_version()
    for package in ("journey-lab", "pandas", "numpy", "scikit-learn", "papermill"):
        assert manifest["versions"][package] == metadata.version(package), package

    metrics = json.loads((folder / "metrics.json").read_text())
    assert list(metrics) == ["01_metrics"]
    figures = metrics["01_metrics"]
    # The notebook records default_rng(seed).normal() * scale, here seed 8 and scale 2.
    assert figures.pop("mean") == pytest.approx(np.random.default_rng(8).normal() * 2)
    assert figures == {"rows": 5, "label": "007", "seed": 8, "missing": None, "flag": True}

    index = (folder / "index.html").read_text()
    for target in [*sorted(expected), "manifest.json", "metrics.json"]:
        assert f'href="{target}"' in index
    assert index.count('<tr class="ok">') == 3

    page = (folder / "01_metrics.html").read_text()
    assert "code_cell_marker_squares" not in page and "record_metrics" not in page
    assert code_cells(page) and all("jp-InputArea" not in cell for cell in code_cells(page))
    # The figure (an output) and the markdown image (a file next to the notebook) are inline.
    assert page.count('src="data:image/png;base64,') == 2 and 'src="pixel.png"' not in page


def test_cli_unknown_parameter_exits_2_lists_the_valid_ones_and_runs_nothing(notebooks, tmp_path):
    out = tmp_path / "reports"
    result = journey("report", "--notebooks", notebooks, "--out", out, "-p", "sed=1")
    assert_one_line_error(result, 2, "unknown parameter 'sed' (did you mean 'seed'?)")
    for valid in ("seed (int)", "scale (float)", "label (str)", "should_fail (bool)", "seconds"):
        assert valid in result.stderr
    assert "run_folder" not in result.stderr  # filled in by the runner, never given
    assert not out.exists() and result.stdout == ""


def test_cli_fail_fast_skips_the_rest_and_exits_1(notebooks, tmp_path):
    out = tmp_path / "reports"
    result = journey(
        "report", "--notebooks", notebooks, "--out", out, "--only", "02,03", "--fail-fast",
        "-p", "seconds=0.5",
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"journey: error: not every notebook ran: 02_fails (failed), 03_sleep (skipped); "
        f"see {runs_in(out)[0] / 'index.html'}"
    ]
    assert "cell 2 `if should_fail:`: ValueError: planted failure" in result.stdout
    assert "03_sleep: running" not in result.stdout
    (folder,) = runs_in(out)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert {n: r["status"] for n, r in manifest["notebooks"].items()} == {
        "02_fails": "failed",
        "03_sleep": "skipped",
    }
    assert manifest["status"] == "failed" and manifest["fail_fast"] is True
    assert not (folder / "03_sleep.ipynb").exists()
    # The skipped notebook's record says what it was given, and no given value as a default.
    skipped = manifest["notebooks"]["03_sleep"]
    assert (skipped["parameters"], skipped["defaults"]) == ({"seconds": 0.5}, {})


def test_a_failing_notebook_does_not_stop_the_others(notebooks, tmp_path):
    result = run_report(notebooks, only=["02_fails", "03"], out=tmp_path / "out", timeout=300)
    assert result.exit_code == 1 and not result.ok
    assert result.statuses == {"02_fails": "failed", "03_sleep": "ok"}
    error = result.manifest["notebooks"]["02_fails"]["error"]
    assert error["cell_index"] == 2 and error["cell_source"] == "if should_fail:"
    assert (error["ename"], error["evalue"]) == ("ValueError", "planted failure")
    summary = result.summary()
    assert "02_fails" in summary and "failed" in summary
    assert "cell 2 `if should_fail:`: ValueError: planted failure" in summary
    assert len(summary.splitlines()) <= 10  # one screen

    # The partial executed notebook and its HTML are kept: run up to the error, not after.
    executed = nbformat.read(result.folder / "02_fails.ipynb", as_version=4)
    outputs = [o for cell in executed.cells for o in cell.get("outputs", [])]
    assert any(o.get("ename") == "ValueError" for o in outputs)
    assert not any("after the planted failure" in o.get("text", "") for o in outputs)
    assert "planted failure" in (result.folder / "02_fails.html").read_text()
    assert result.manifest["status"] == "failed"
    assert json.loads((result.folder / "metrics.json").read_text()) == {}


def sleeping_cell_running(out: Path) -> bool:
    """Whether 03_sleep's executed copy (saved by papermill as each cell starts) shows its
    sleeping cell running."""
    for path in out.rglob("03_sleep.ipynb"):
        try:
            nb = nbformat.read(path, as_version=4)
        except Exception:  # caught mid-write: look again
            return False
        return any(
            cell.source.startswith("import time")
            and cell.metadata.get("papermill", {}).get("status") == "running"
            for cell in nb.cells
        )
    return False


def test_a_notebook_over_its_timeout_is_stopped_and_reported(notebooks, tmp_path, monkeypatch):
    """The runner's clock is replaced by an event: a notebook's time is up once the
    sleeping cell runs, however long the kernel took to start, so every check below holds
    on a fast or a slow machine and none depends on a duration."""
    out, children = tmp_path / "out", []

    def elapsed(started):
        if started.child not in children:
            children.append(started.child)
        return 16.0 if sleeping_cell_running(out) else 0.0

    monkeypatch.setattr(report.execute.Started, "elapsed", elapsed)
    result = run_report(notebooks, only=["03"], parameters={"seconds": 120}, out=out, timeout=15)
    run = result.notebooks["03_sleep"]
    assert result.statuses == {"03_sleep": "timeout"} and result.exit_code == 1
    assert run.error["ename"] == "Timeout" and run.error["cell_index"] == 2
    assert run.problem() == "stopped after 15 s in cell 2 `import time`"
    # The child was stopped by a signal, not left to finish its 120 s sleep.
    (child,) = children
    assert child.returncode is not None and child.returncode < 0
    executed = nbformat.read(result.folder / run.executed, as_version=4)
    banner = "**journey report stopped this notebook after 15 s while cell 2 was running.**"
    assert executed.cells[0].source.startswith(banner)
    assert not any(
        "slept" in o.get("text", "") for c in executed.cells for o in c.get("outputs", [])
    )
    assert banner.strip("*") in (result.folder / "03_sleep.html").read_text()
    assert result.manifest["notebooks"]["03_sleep"]["status"] == "timeout"


def test_only_and_two_runs_in_the_same_second(notebooks, tmp_path, monkeypatch):
    moment = dt.datetime(2026, 1, 1, 6, 0, tzinfo=dt.UTC)
    monkeypatch.setattr(report.runner, "utcnow", lambda: moment)
    out = tmp_path / "out"
    first = run_report(notebooks, only=["03_sleep.ipynb"], out=out, timeout=300)
    manifest = (first.folder / "manifest.json").read_bytes()
    second = run_report(notebooks, only=["3"], out=out, timeout=300)
    assert first.statuses == second.statuses == {"03_sleep": "ok"}
    assert [p.name for p in runs_in(out)] == ["20260101-060000", "20260101-060000-2"]
    assert (first.folder / "manifest.json").read_bytes() == manifest  # never touched again
    assert os.readlink(out / "latest") == "20260101-060000-2"
    assert json.loads((second.folder / "manifest.json").read_text())["only"] == ["3"]


# --------------------------------------------------------------------------------------------
# checked before anything runs
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "fragment"),
    [
        ({"seed": "abc"}, "'abc' (str) does not fit int, declared in 01_metrics"),
        ({"seed": 1.5}, "1.5 (float) does not fit int"),
        ({"seed": True}, "True (bool) does not fit int"),
        ({"should_fail": 1}, "1 (int) does not fit bool, declared in 02_fails"),
        ({"scale": None}, "None (NoneType) does not fit float"),
        ({"label": ["a"]}, "does not fit str"),
        ({"seconds": {1, 2}}, "set cannot be passed to a notebook"),
        ({"run_folder": "x"}, "'run_folder' is set by the runner"),
        ({"nope": 1, "seed": "x"}, "unknown parameter 'nope'"),
    ],
)
def test_wrong_parameters_are_refused_before_anything_runs(notebooks, tmp_path, given, fragment):
    out = tmp_path / "out"
    with pytest.raises(JourneyParameterError, match=re.escape(fragment)) as caught:
        run_report(notebooks, parameters=given, out=out)
    assert "the selected notebooks declare: data_path (str), label (str)" in str(caught.value)
    assert "\n" not in str(caught.value)
    assert not out.exists()


def test_parameters_are_checked_against_the_selected_notebooks_only(notebooks, tmp_path):
    with pytest.raises(JourneyParameterError, match="unknown parameter 'should_fail'"):
        run_report(notebooks, only=["03"], parameters={"should_fail": False}, out=tmp_path)
    with pytest.raises(JourneyParameterError, match="no selected notebook declares a data_path"):
        run_report(notebooks, only=["02", "03"], data=notebooks / "tiny.csv", out=tmp_path)


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"only": ["04"]}, JourneyParameterError, "valid: 01_metrics, 02_fails, 03_sleep"),
        ({"only": ["metrics"]}, JourneyParameterError, "unknown notebook 'metrics'"),
        ({"data": "missing.csv"}, JourneyDataError, "--data 'missing.csv': no such file"),
        (
            {"data": "x.csv", "parameters": {"data_path": "y.csv"}},
            JourneyParameterError,
            "given twice",
        ),
        ({"parameters": {"data_path": "gone/"}}, JourneyDataError, "data_path 'gone/': no such"),
        ({"timeout": 0}, JourneyParameterError, "timeout must be a positive number"),
    ],
)
def test_unusable_arguments(notebooks, tmp_path, kwargs, error, fragment):
    with pytest.raises(error, match=re.escape(fragment)):
        run_report(notebooks, out=tmp_path / "out", **kwargs)
    assert not (tmp_path / "out").exists()


def test_unusable_notebook_folders(tmp_path):
    with pytest.raises(JourneyParameterError, match="no such folder"):
        run_report(tmp_path / "absent", out=tmp_path / "out")
    with pytest.raises(JourneyParameterError, match=r"no \.ipynb file"):
        run_report(tmp_path, out=tmp_path / "out")
    write_notebook(tmp_path / "a.ipynb", "x = 1", tags=())
    with pytest.raises(JourneyParameterError, match=r"a\.ipynb: 0 cells are tagged 'parameters'"):
        run_report(tmp_path, out=tmp_path / "out")
    tagged = [nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}) for _ in "ab"]
    nb = nbformat.v4.new_notebook(cells=tagged)
    nbformat.write(nb, tmp_path / "a.ipynb")
    with pytest.raises(JourneyParameterError, match="2 cells are tagged 'parameters'"):
        run_report(tmp_path, out=tmp_path / "out")
    (tmp_path / "a.ipynb").write_text("{not json")
    with pytest.raises(JourneyDataError, match=r"a\.ipynb: not a readable notebook"):
        run_report(tmp_path, out=tmp_path / "out")
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------------------------
# notebook parameters and parameters given
# --------------------------------------------------------------------------------------------


def test_notebook_parameters_of_the_test_notebooks():
    declared = notebook_parameters(SOURCE / "01_metrics.ipynb")
    assert list(declared) == ["seed", "scale", "label", "data_path", "run_folder"]
    assert declared["seed"] == NotebookParameter("seed", "int", "0", "random seed")
    assert declared["scale"].type == "float" and declared["label"].type == "str"
    assert declared["data_path"].default == '"tiny.csv"'
    assert declared["run_folder"].describe() == "any" and declared["run_folder"].nullable
    fails = notebook_parameters(SOURCE / "02_fails.ipynb")
    assert {n: p.describe() for n, p in fails.items()} == {"should_fail": "bool", "seed": "int"}


def test_types_from_annotations_comments_and_defaults(tmp_path):
    path = write_notebook(
        tmp_path / "types.ipynb",
        "from typing import Optional\n"
        "a: Optional[int] = None  # optional\n"
        "b: str | None = None\n"
        "c: list[str] = []\n"
        'd = "x"  # type: dict\n'
        "e = 1.5\n"
        "f = (1, 2)\n"
        'g = dict(key="value")\n'
        "h: Path = None\n",
    )
    declared = {name: p.describe() for name, p in notebook_parameters(path).items()}
    assert declared == {
        "a": "int or None",
        "b": "str or None",  # papermill cannot read it; ast can
        "c": "list",
        "d": "dict",
        "e": "float",
        "f": "list",
        "g": "any",  # not a literal
        "h": "any",  # a type the runner cannot check
    }
    assert notebook_parameters(write_notebook(tmp_path / "none.ipynb", "x = 1", tags=())) == {}


@pytest.mark.parametrize(
    ("kind", "nullable", "value", "fits"),
    [
        ("float", False, 3, True),
        ("float", False, 3.5, True),
        ("float", False, True, False),
        ("int", False, 3.0, False),
        ("int", True, None, True),
        ("int", False, None, False),
        ("bool", False, 0, False),
        ("list", False, [1], True),
        ("dict", False, {"a": 1}, True),
        ("any", True, object(), True),
    ],
)
def test_parameter_types_accept(kind, nullable, value, fits):
    assert NotebookParameter("x", kind, "0", nullable=nullable).accepts(value) is fits


def test_read_parameters_from_yaml_and_pairs(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("seed: 1\ncutoff: 2024-07-01\nsegments: [a, b]\nrate: 1.5e-3\n")
    given = read_parameters(params, ["seed=2", "flag=true", "empty=", "text=a=b"])
    values = {name: getattr(v, "value", v) for name, v in given.items()}
    assert values == {
        "seed": 2,
        "cutoff": "2024-07-01",  # dates stay text
        "segments": ["a", "b"],
        "rate": 0.0015,
        "flag": True,
        "empty": None,
        "text": "a=b",
    }
    assert read_parameters() == {}


@pytest.mark.parametrize(
    ("content", "pairs", "fragment"),
    [
        (None, [], "no such file"),
        ("- a\n- b\n", [], "expected a mapping of parameter names to values, got list"),
        ("seed: [1,\n", [], "not valid YAML"),
        ("", ["seed"], "expected NAME=VALUE"),
        ("", ["1x=2"], "expected NAME=VALUE"),
        ("", ["x=[1,"], "-p 'x=[1,': not valid YAML"),
    ],
)
def test_read_parameters_refuses_bad_input(tmp_path, content, pairs, fragment):
    params = tmp_path / "params.yaml"
    if content is not None:
        params.write_text(content)
    with pytest.raises(JourneyParameterError, match=re.escape(fragment)):
        read_parameters(params, pairs)


# --------------------------------------------------------------------------------------------
# metrics, fingerprints, latest
# --------------------------------------------------------------------------------------------


def test_record_metrics_merges_and_cleans(tmp_path):
    first = record_metrics(
        {"n": np.int64(3), "rate": np.float32(0.5), "ok": np.bool_(False), "name": "x"},
        notebook="a",
        run_folder=tmp_path,
    )
    assert first == {"n": 3, "rate": 0.5, "ok": False, "name": "x"}
    assert type(first["n"]) is int and type(first["ok"]) is bool
    record_metrics({"n": 4, "nan": float("nan"), "inf": np.inf, "none": None}, notebook="a",
                   run_folder=str(tmp_path))  # fmt: skip
    record_metrics({"auc": 0.8}, notebook="b", run_folder=tmp_path)
    text = (tmp_path / "metrics.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {
        "a": {
            "n": 4,
            "rate": 0.5,
            "ok": False,
            "name": "x",
            "nan": None,
            "inf": None,
            "none": None,
        },
        "b": {"auc": 0.8},
    }


def test_record_metrics_without_a_run_folder_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert record_metrics({"n": np.int16(2)}, notebook="a", run_folder=None) == {"n": 2}
    assert record_metrics({"n": 2}, notebook="a", run_folder="") == {"n": 2}
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("metrics", "fragment"),
    [
        ({"frame": [1, 2]}, "metric 'frame': list [1, 2] is not a number, text or bool"),
        ({"when": dt.date(2024, 1, 1)}, "metric 'when': date"),
        ({"array": np.zeros(2)}, "metric 'array': ndarray"),
        ({1: 2}, "metric names must be text"),
    ],
)
def test_record_metrics_refuses_what_json_cannot_hold(tmp_path, metrics, fragment):
    with pytest.raises(JourneyParameterError, match=re.escape(fragment)):
        record_metrics(metrics, notebook="a", run_folder=tmp_path)
    assert not (tmp_path / "metrics.json").exists()
    with pytest.raises(JourneyParameterError, match="no such folder"):
        record_metrics({"n": 1}, notebook="a", run_folder=tmp_path / "absent")


def test_data_fingerprint_of_a_file_and_a_folder(tmp_path):
    folder = tmp_path / "data"
    (folder / "part=1").mkdir(parents=True)
    (folder / "a.csv").write_bytes(b"abc")
    (folder / "part=1" / "b.csv").write_bytes(b"de")
    (folder / ".DS_Store").write_bytes(b"clutter")
    single = data_fingerprint(folder / "a.csv")
    assert single["sha256"] == hashlib.sha256(b"abc").hexdigest() and single["bytes"] == 3
    lines = "".join(
        f"{hashlib.sha256(content).hexdigest()}  {name}\n"
        for name, content in [("a.csv", b"abc"), ("part=1/b.csv", b"de")]
    )
    whole = data_fingerprint(folder)
    assert whole == {
        "path": str(folder.resolve()),
        "sha256": hashlib.sha256(lines.encode()).hexdigest(),
        "files": 2,
        "bytes": 5,
    }
    (folder / "a.csv").rename(folder / "c.csv")
    assert data_fingerprint(folder)["sha256"] != whole["sha256"]
    with pytest.raises(JourneyDataError, match="no such file or folder"):
        data_fingerprint(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(JourneyDataError, match="holds no file"):
        data_fingerprint(tmp_path / "empty")


def test_latest_falls_back_to_a_text_file_without_symlinks(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("symlinks are not supported here")

    monkeypatch.setattr(Path, "symlink_to", refuse)
    report.runner.point_latest(tmp_path, "20260101-060000")
    assert (tmp_path / "latest.txt").read_text() == "20260101-060000\n"
    assert not (tmp_path / "latest").exists() and len(list(tmp_path.iterdir())) == 1


def test_the_data_fingerprinted_is_the_path_the_notebooks_use(notebooks, tmp_path, monkeypatch):
    planned = report.plan.plan_notebooks(notebooks, None)
    tiny = notebooks / "tiny.csv"
    default = report.plan.data_record(planned, notebooks, None)
    assert default["source"] == "default"
    assert default["per_notebook"] == {"01_metrics": str(tiny)}  # relative to the notebooks
    assert default["fingerprints"] == [data_fingerprint(tiny)]

    # -p data_path=... means the same as --data: relative to where the user is.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.csv").write_text("customer_id,event\n")
    given = read_parameters(None, ["data_path=mine.csv"])
    path = report.plan.given_data(None, given, planned)
    assert path == (tmp_path / "mine.csv").resolve() and given["data_path"] == str(path)
    recorded = report.plan.data_record(planned, notebooks, path)
    assert recorded["source"] == "given"
    assert recorded["fingerprints"] == [data_fingerprint(tmp_path / "mine.csv")]

    for empty in ("data_path=null", "data_path="):
        with pytest.raises(JourneyParameterError, match="data_path must be a file or folder"):
            report.plan.given_data(None, read_parameters(None, [empty]), planned)

    tiny.unlink()  # a default that is missing is recorded; the notebook will say so itself
    (missing,) = report.plan.data_record(planned, notebooks, None)["fingerprints"]
    assert missing["sha256"] is None and "no such file" in missing["problem"]


def test_the_customer_table_the_notebooks_read_is_the_summary_s(tmp_path, monkeypatch):
    from journey_lib.report.parameters import CommandLineValue
    from journey_lib.report.plan import customers_used, given_customers, plan_notebooks

    suite = Path(__file__).resolve().parents[1] / "notebooks"
    planned = plan_notebooks(suite, ["01", "04"])
    # No customers_path given: the churn notebook's default, from the notebooks' folder.
    sample = (suite / ".." / "data" / "sample" / "customers.csv").resolve()
    assert customers_used({}, planned, suite) == str(sample)
    # No notebook declaring one: none.
    assert customers_used({}, plan_notebooks(suite, ["01"]), suite) == ""
    # Given (as typed on the command line, from the user's folder): made absolute.
    (tmp_path / "people.csv").write_text("customer_id,plan\n1,pro\n")
    monkeypatch.chdir(tmp_path)
    given = {"customers_path": CommandLineValue("people.csv", "people.csv")}
    given_customers(given)
    assert given["customers_path"] == str(tmp_path / "people.csv")
    assert customers_used(given, planned, suite) == str(tmp_path / "people.csv")
    # "" (a log given without a table) stays none; a missing file is refused up front.
    empty = {"customers_path": ""}
    given_customers(empty)
    assert customers_used(empty, planned, suite) == ""
    with pytest.raises(JourneyDataError, match=r"customers_path 'absent\.csv': no such file"):
        given_customers({"customers_path": "absent.csv"})


def test_notebooks_run_at_once_record_every_figure(tmp_path):
    """Two notebooks at once (jobs=2), each recording figure after figure: their runs
    overlap, and metrics.json holds every figure of both (each merge is under a lock)."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    for name in ("01_first", "02_second"):
        cells = [
            nbformat.v4.new_code_cell('run_folder: str = ""'),
            nbformat.v4.new_code_cell(
                "import time\n"
                "from journey_lib.report import record_metrics\n"
                "began, count = time.time(), 0\n"
                "while time.time() - began < 3:\n"
                "    count += 1\n"
                "    record_metrics({f'figure_{count}': count}, "
                f"notebook='{name}', run_folder=run_folder)\n"
                "record_metrics({'began': began, 'ended': time.time(), 'count': count}, "
                f"notebook='{name}', run_folder=run_folder)"
            ),
        ]
        cells[0].metadata["tags"] = ["parameters"]
        nbformat.write(nbformat.v4.new_notebook(cells=cells), folder / f"{name}.ipynb")
    result = run_report(folder, out=tmp_path / "out", jobs=2)
    assert result.statuses == {"01_first": "ok", "02_second": "ok"}
    assert result.manifest["jobs"] == 2
    metrics = json.loads((result.folder / "metrics.json").read_text())
    first, second = metrics["01_first"], metrics["02_second"]
    assert first["began"] < second["ended"] and second["began"] < first["ended"]  # overlap
    # Every figure each notebook recorded is there: a lost merge would drop some.
    for figures in (first, second):
        count = figures["count"]
        assert count > 10 and set(figures) == {f"figure_{k}" for k in range(1, count + 1)} | {
            "began",
            "ended",
            "count",
        }
    assert not (result.folder / ".metrics.json.lock").exists()


def test_fail_fast_runs_one_notebook_at_a_time(notebooks, tmp_path):
    with pytest.raises(JourneyParameterError, match="fail_fast runs one notebook at a time"):
        run_report(notebooks, out=tmp_path / "out", fail_fast=True, jobs=2)
    with pytest.raises(JourneyParameterError, match="jobs must be a whole number"):
        run_report(notebooks, out=tmp_path / "out", jobs=0)
    assert not (tmp_path / "out").exists()
