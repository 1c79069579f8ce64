"""The built wheel carries the notebook suite, and journey-lab installed from it runs
`journey report` from any folder.

The wheel is built from a copy of the sources (so that the build's files never land in the
checkout) and installed into a fresh virtual environment outside the repository. Installing
every dependency from PyPI would take minutes, so the new environment borrows them from the
project's: a .pth file lists the project's site-packages, and share/jupyter (the data files
of nbconvert, ipykernel and JupyterLab, which an install would put in the new prefix) links
to the project's. Python adds that folder to sys.path but does not process the .pth files
inside it, so the editable install of journey-lab there stays out of sight and journey_lib
can only come from the wheel (a test checks it does).
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# What the build reads: the project's metadata, README and licence, and what the wheel holds.
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "journey_lib", "notebooks", "data")


def run(*args, **options) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=600, **options
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    source = tmp_path_factory.mktemp("source")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=ignore)
        else:
            shutil.copy2(ROOT / name, source / name)
    dist = tmp_path_factory.mktemp("dist")
    run(
        sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check",
        "--no-deps", "--no-build-isolation", "-w", dist, source,
    )  # fmt: skip
    (built,) = dist.glob("journey_lab-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> dict:
    """A fresh virtual environment with the wheel installed: its python, journey and
    site-packages, and an environment for running them without the checkout in sight."""
    root = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=False).create(root)
    python = root / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    # pip of the project's environment installs into the new one (which has no pip), before
    # the .pth exists: nothing outside the new environment is looked at or touched.
    run(
        sys.executable, "-m", "pip", "--python", python, "install", "--quiet",
        "--disable-pip-version-check", "--no-deps", wheel, env=env,
    )  # fmt: skip
    site = Path(
        run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))").stdout.strip()
    )
    (site / "project-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    (root / "share").mkdir(exist_ok=True)
    (root / "share/jupyter").symlink_to(Path(sys.prefix) / "share/jupyter")
    return {"python": python, "journey": root / "bin" / "journey", "site": site, "env": env}


def test_the_wheel_carries_the_notebooks_and_the_sample(wheel):
    with zipfile.ZipFile(wheel) as archive:
        members = set(archive.namelist())
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert len(notebooks) >= 6
    for path in [*notebooks, ROOT / "notebooks/README.md"]:
        assert f"journey_lib/notebooks/{path.name}" in members
    for path in [ROOT / "data/README.md", *(ROOT / "data/sample").iterdir()]:
        assert f"journey_lib/{path.relative_to(ROOT).as_posix()}" in members
    # The Spark sessions' logging, read from beside the module that starts them.
    assert "journey_lib/spark-log4j2.properties" in members
    # pyproject.toml lists the packages one by one: none may be left out of the wheel.
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "journey_lib").rglob("*.py")}
    missing = sorted(modules - members)
    assert not missing, f"not in the wheel (list their packages in pyproject.toml): {missing}"


def test_journey_lib_comes_from_the_wheel(installed, tmp_path):
    code = (
        "import importlib.resources, journey_lib\n"
        "print(journey_lib.__file__)\n"
        "print(importlib.resources.files('journey_lib.notebooks'))\n"
    )
    result = run(installed["python"], "-c", code, cwd=tmp_path, env=installed["env"])
    module, notebooks = map(Path, result.stdout.split("\n")[:2])
    assert module == installed["site"] / "journey_lib/__init__.py"
    assert notebooks == installed["site"] / "journey_lib/notebooks"


def test_installed_journey_report_runs_the_suite_from_an_empty_folder(installed, tmp_path):
    result = run(installed["journey"], "report", "--only", "01", cwd=tmp_path, env=installed["env"])
    assert "01_touchpoints: ok" in result.stdout
    assert [p.name for p in tmp_path.iterdir()] == ["reports"]
    (folder,) = [p for p in (tmp_path / "reports").iterdir() if not p.is_symlink()]
    assert {"index.html", "manifest.json", "01_touchpoints.ipynb", "01_touchpoints.html"} <= {
        p.name for p in folder.iterdir()
    }
    manifest = json.loads((folder / "manifest.json").read_text())
    assert (manifest["status"], manifest["suite"]) == ("ok", "packaged")
    assert manifest["notebooks_dir"] == str(installed["site"] / "journey_lib/notebooks")
    assert manifest["notebooks"]["01_touchpoints"]["status"] == "ok"
    # The notebook's default data path, ../data/sample/events.csv.gz, found the sample shipped.
    (fingerprint,) = manifest["data"]["fingerprints"]
    assert fingerprint["path"] == str(installed["site"] / "journey_lib/data/sample/events.csv.gz")
    sample = ROOT / "data/sample/events.csv.gz"
    assert fingerprint["sha256"] == hashlib.sha256(sample.read_bytes()).hexdigest()
