"""The notebook suite installed with journey-lab: `journey report` runs it from any folder, and
`journey init` copies it out to edit. Run as users run them: subprocesses, from folders
outside the repository (tmp_path).

In a checkout journey-lab is an editable install, so the packaged suite is the repository's
own notebooks/ and data/ (tests/test_wheel.py checks an installed wheel).
"""

import hashlib
import json
from pathlib import Path

import pytest

import journey_lib as jl
from journey_lib.errors import JourneyError
from journey_lib.report import suite
from tests.test_cli import assert_one_line_error, journey

ROOT = Path(__file__).resolve().parents[1]
# What `journey init` copies, relative to the folder it copies into: the repository's shape.
SUITE_FILES = sorted(
    [
        *(p.relative_to(ROOT) for p in (ROOT / "notebooks").glob("*.ipynb")),
        Path("notebooks/README.md"),
        Path("data/README.md"),
        *(p.relative_to(ROOT) for p in (ROOT / "data/sample").iterdir() if p.is_file()),
    ]
)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def only_run(reports: Path) -> tuple[Path, dict]:
    """The one run folder under ``reports`` and its manifest."""
    (folder,) = [p for p in reports.iterdir() if p.is_dir() and not p.is_symlink()]
    return folder, json.loads((folder / "manifest.json").read_text())


def test_in_a_checkout_the_packaged_suite_is_the_repositorys():
    with jl.report.packaged_notebooks() as folder:
        assert folder == ROOT / "notebooks"


def test_an_install_without_the_notebooks_says_so(monkeypatch):
    monkeypatch.setattr(suite, "PACKAGE", "journey_lib.no_such_package")
    with pytest.raises(JourneyError, match=r"has no notebooks .*install it again"):
        with jl.report.packaged_notebooks():
            pass


def test_report_runs_the_packaged_suite_from_any_folder(tmp_path):
    """`journey report --data mylog.csv` in a folder of the user's own, outside the repository:
    the relative path is the user's, the run folder lands there."""
    jl.simulate(300, seed=3).events.to_csv(tmp_path / "mylog.csv", index=False)
    result = journey("report", "--data", "mylog.csv", "--only", "01", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mylog.csv", "reports"]
    folder, manifest = only_run(tmp_path / "reports")
    assert {"index.html", "manifest.json", "01_touchpoints.ipynb"} <= {
        p.name for p in folder.iterdir()
    }
    assert (manifest["status"], manifest["suite"]) == ("ok", "packaged")
    assert manifest["notebooks_dir"] == str(ROOT / "notebooks")
    assert manifest["data"]["per_notebook"] == {"01_touchpoints": str(tmp_path / "mylog.csv")}
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["01_touchpoints"]["customers"] == 300  # the user's log, not the sample


def test_init_copies_the_suite_in_the_repositorys_shape(tmp_path):
    result = journey("init", "project", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "journey report --notebooks project/notebooks" in result.stdout
    project = tmp_path / "project"
    copied = sorted(p.relative_to(project) for p in project.rglob("*") if p.is_file())
    assert copied == sorted([*SUITE_FILES, Path("journey.yaml")])
    assert all(sha256(project / name) == sha256(ROOT / name) for name in SUITE_FILES)
    # The starter profile is the sample's, ready to edit for another log.
    starter = jl.LogProfile.from_yaml(project / "journey.yaml")
    assert starter == jl.profile(ROOT / "data/sample/events.csv.gz")


def test_init_refuses_a_folder_holding_notebooks_and_writes_nothing(tmp_path):
    assert journey("init", "project", cwd=tmp_path).returncode == 0
    edited = tmp_path / "project/notebooks/01_touchpoints.ipynb"
    edited.write_text("{}")
    again = journey("init", "project", cwd=tmp_path)
    assert_one_line_error(again, 2, "'project' already holds notebooks or their data")
    assert "--force" in again.stderr
    assert edited.read_text() == "{}"

    # Notebooks of the user's own count too: the copies would run beside them.
    own = tmp_path / "own"
    (own / "notebooks").mkdir(parents=True)
    (own / "notebooks/mine.ipynb").write_text("{}")
    refused = journey("init", own, cwd=tmp_path)
    assert_one_line_error(refused, 2, "holds notebooks or their data (notebooks/mine.ipynb);")
    assert [p.name for p in own.rglob("*")] == ["notebooks", "mine.ipynb"]


def test_init_force_overwrites_the_suites_files_only(tmp_path):
    project = tmp_path / "project"
    assert journey("init", project).returncode == 0
    (project / "notebooks/01_touchpoints.ipynb").write_text("{}")
    (project / "notebooks/mine.ipynb").write_text("{}")
    result = journey("init", project, "--force")
    assert result.returncode == 0, result.stderr
    assert sha256(project / "notebooks/01_touchpoints.ipynb") == sha256(
        ROOT / "notebooks/01_touchpoints.ipynb"
    )
    assert (project / "notebooks/mine.ipynb").read_text() == "{}"


def test_report_runs_the_copies_init_made_on_their_own_sample(tmp_path):
    """`journey report --notebooks DIR/notebooks` after `journey init DIR`: the notebooks'
    default data path resolves to the sample copied beside them."""
    assert journey("init", "project", cwd=tmp_path).returncode == 0
    result = journey("report", "--notebooks", "project/notebooks", "--only", "01", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    _, manifest = only_run(tmp_path / "reports")
    assert (manifest["status"], manifest["suite"]) == ("ok", "folder")
    assert manifest["notebooks_dir"] == str(tmp_path / "project/notebooks")
    (fingerprint,) = manifest["data"]["fingerprints"]
    sample = tmp_path / "project/data/sample/events.csv.gz"
    assert fingerprint["path"] == str(sample)
    assert fingerprint["sha256"] == sha256(ROOT / "data/sample/events.csv.gz")
