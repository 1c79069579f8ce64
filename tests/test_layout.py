"""The package's floor plan (../shared/DESIGN.md) held as tests: no import cycle, no function
hiding a module, no private name shared between modules, no file grown past one concept,
figures drawn only in ``journey_lib.plots``.

The import graph is read from the source with :mod:`ast`, so an import inside a function (run
only when called) counts as much as one at the top; imports under ``if TYPE_CHECKING:`` never
run and do not count. An edge goes to the module imported, not to the ``__init__`` of the
packages above it that Python runs first: every submodule would otherwise "import" the flat
API in ``journey_lib/__init__.py``, which imports everything.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

import journey_lib

PACKAGE = Path(journey_lib.__file__).parent
#: One concept each, allowed past the limit (issue 14): the funnel engine and the simulator.
LONG_ALLOWED = {"journey_lib.analytics.funnels", "journey_lib.simulator"}
MAX_LINES = 900


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(inner) for inner in ast.walk(node))
    return skipped


def _source(name: str, node: ast.ImportFrom) -> str:
    """The absolute name of the module a ``from ... import`` in module ``name`` reads."""
    if not node.level:
        return node.module or ""
    package = name.split(".") if MODULES[name].name == "__init__.py" else name.split(".")[:-1]
    base = package[: len(package) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(name: str) -> list[tuple[str, list[str], int]]:
    """(absolute module imported from, names imported, line) of each journey_lib import."""
    path = MODULES[name]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _type_checking_nodes(tree)
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom):
            target = _source(name, node)
            if target.split(".")[0] == "journey_lib":
                found.append((target, [alias.name for alias in node.names], node.lineno))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "journey_lib":
                    found.append((alias.name, [], node.lineno))
    return found


def _graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {name: set() for name in MODULES}
    for name in MODULES:
        for target, names, _ in _imports(name):
            submodules = {f"{target}.{n}" for n in names} & MODULES.keys()
            if submodules:
                edges[name] |= submodules
            if not names or len(submodules) < len(names):
                edges[name].add(target)
    return edges


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in edges:
                    continue
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_cycle():
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert _cycles(edges) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_among_the_package_modules():
    assert _cycles(_graph()) == []


def test_no_private_name_is_imported_from_another_module():
    shared = [
        f"{name}:{line} imports {target}.{imported}"
        for name in MODULES
        for target, names, line in _imports(name)
        for imported in names
        if imported.startswith("_") and not imported.startswith("__")
    ]
    assert shared == []


def test_no_private_name_is_reached_through_another_module():
    reached = []
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        modules = _module_aliases(name, tree)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in modules
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                reached.append(f"{name}:{node.lineno} {node.value.id}.{node.attr}")
    assert reached == []


def _module_aliases(name: str, tree: ast.AST) -> set[str]:
    """Local names bound to another journey_lib module by an import in ``name``."""
    aliases = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            target = _source(name, node)
            for alias in node.names:
                if f"{target}.{alias.name}" in MODULES:
                    aliases.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in MODULES and alias.asname:
                    aliases.add(alias.asname)
    return aliases


def _all_modules() -> dict[str, ModuleType]:
    for info in pkgutil.walk_packages(journey_lib.__path__, "journey_lib."):
        if info.name.split(".")[-1] not in {"notebooks", "data"}:
            importlib.import_module(info.name)
    return {n: m for n, m in sys.modules.items() if n.startswith("journey_lib.")}


def test_no_public_name_shadows_a_module():
    shadowed = []
    for name, module in _all_modules().items():
        parent, _, leaf = name.rpartition(".")
        bound = getattr(sys.modules[parent], leaf, module)
        if bound is not module:
            shadowed.append(f"{parent}.{leaf} is a {type(bound).__name__}, not the module")
    assert shadowed == []


def test_the_modules_are_reachable_as_modules():
    import journey_lib.analytics.retention as retention_module
    import journey_lib.analytics.rfm as rfm_module

    assert isinstance(rfm_module, ModuleType) and rfm_module.rfm is journey_lib.rfm
    assert retention_module.retention is journey_lib.retention
    assert len(rfm_module.RFM_SEGMENTS) == 11


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_outgrows_one_concept(name):
    lines = len(MODULES[name].read_text(encoding="utf-8").splitlines())
    if name not in LONG_ALLOWED:
        assert lines <= MAX_LINES, f"{name} has {lines} lines; split it by concept"


def test_figures_are_drawn_only_in_plots():
    drawing = {"subplots", "figure", "subplot_mosaic"}
    elsewhere = []
    for name, path in MODULES.items():
        if name == "journey_lib.plots" or name.startswith("journey_lib.plots."):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in drawing
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "plt"
            ):
                elsewhere.append(f"{name}:{node.lineno} plt.{node.func.attr}")
    assert elsewhere == []


#: The package's layers, bottom up (DESIGN.md: "Data flows one way").
LAYERS = {
    "errors": 0,
    "_time": 0,
    "_engine": 0,
    "_intervals": 0,
    "io": 1,
    "simulator": 1,
    "retention_campaign": 1,
    "analytics": 2,
    "churn": 3,
    "attribution": 3,
    "clv": 3,
    "survival": 3,
    "uplift": 3,
    "monitor": 3,
    "scenarios": 3,
    "teach": 3,
    "plots": 4,
    "widgets": 4,
    "report": 5,
    "cli": 6,
}
#: Upward imports by design: a result's ``.plot()`` draws with plots (inside the method), and
#: ``journey --version`` reads the package's version.
UPWARD = {
    ("journey_lib.churn.explain", "journey_lib.plots"),
    ("journey_lib.churn.targeting", "journey_lib.plots"),
    ("journey_lib.uplift.targeting", "journey_lib.plots"),
    ("journey_lib.monitor.detect", "journey_lib.plots"),
    ("journey_lib.survival.curves", "journey_lib.plots.lifetimes"),
    ("journey_lib.survival.cox", "journey_lib.plots.lifetimes"),
    ("journey_lib.cli", "journey_lib"),
}


def _layer(name: str) -> int:
    parts = name.split(".")
    return LAYERS[parts[1]] if len(parts) > 1 else max(LAYERS.values()) + 1


def test_every_top_level_module_has_a_layer():
    tops = {name.split(".")[1] for name in MODULES if name.count(".") >= 1}
    assert tops == set(LAYERS)


def test_nothing_imports_upward():
    upward = {
        (name, target)
        for name, targets in _graph().items()
        for target in targets
        if target in MODULES and _layer(target) > _layer(name)
    }
    assert upward == UPWARD


def test_importing_the_package_leaves_the_heavy_machinery_for_when_it_is_used():
    """Every notebook kernel and every ``journey`` command imports journey_lib; the report
    machinery (nbformat, whose jsonschema compiles grammars at import, about 2 s; papermill),
    model files (skops, which imports pytest), scikit-learn (about a second), figures and the
    other engines are imported where they are used. Checked in a fresh interpreter, where
    nothing is loaded yet."""
    import subprocess

    heavy = ["nbformat", "jsonschema", "papermill", "skops", "pytest", "matplotlib"]
    heavy += ["sklearn", "polars", "duckdb", "pyspark", "ipywidgets"]
    code = f"import sys, journey_lib; print([m for m in {heavy!r} if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout
