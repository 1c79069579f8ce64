"""pyproject.toml is the one source of dependencies; environment.yml must mirror it."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# conda-forge names that differ from PyPI names.
CONDA_TO_PYPI = {"python-duckdb": "duckdb"}
# Conda-only entries: the interpreter, pip itself, and the Java runtime PySpark needs.
CONDA_ONLY = {"python", "pip", "openjdk"}
REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(?:>=\s*([0-9][^,;\s]*))?")


def parse(spec: str) -> tuple[str, str | None]:
    match = REQUIREMENT.match(spec)
    assert match, f"cannot parse requirement {spec!r}"
    return match.group(1).lower().replace("_", "-"), match.group(2)


def pyproject_requirements() -> dict[str, str | None]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        specs += extra
    return dict(parse(s) for s in specs)


def conda_requirements() -> tuple[dict[str, str | None], list]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    pip = [d for d in env["dependencies"] if isinstance(d, dict)]
    return dict(parse(s) for s in conda), pip


def test_environment_mirrors_pyproject():
    wanted = pyproject_requirements()
    conda, _ = conda_requirements()
    mirrored = {CONDA_TO_PYPI.get(k, k): v for k, v in conda.items() if k not in CONDA_ONLY}
    assert set(mirrored) == set(wanted), (
        f"only in pyproject.toml: {sorted(set(wanted) - set(mirrored))}; "
        f"only in environment.yml: {sorted(set(mirrored) - set(wanted))}"
    )
    differing = {k: (wanted[k], mirrored[k]) for k in wanted if wanted[k] != mirrored[k]}
    assert not differing, f"lower bounds differ (pyproject, environment.yml): {differing}"


def test_every_dependency_has_a_lower_bound():
    unbounded = sorted(k for k, v in pyproject_requirements().items() if v is None)
    assert not unbounded, f"pin a lower bound for {unbounded} in pyproject.toml"


def test_python_version_agrees():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    conda, _ = conda_requirements()
    assert project["requires-python"] == f">={conda['python']}"


def test_environment_installs_the_package_itself():
    _, pip = conda_requirements()
    assert any("-e ." in line for entry in pip for line in entry.get("pip", []))
