"""Notebook parameters: what a notebook declares in its cell tagged ``parameters`` (names,
types, defaults), and the values given with ``--params`` and ``-p NAME=VALUE``.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import functools
import io
import logging
import os
import re
import tokenize
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ..errors import JourneyParameterError, check_choice
from .files import read_notebook

__all__ = [
    "CommandLineValue",
    "NotebookParameter",
    "flow_anchor",
    "notebook_parameters",
    "read_parameters",
]


#: Parameters the runner fills in itself for the notebooks that declare them.
RUN_FOLDER, DATA_PATH = "run_folder", "data_path"
#: The log the runner read once for every notebook (a prepared folder), and its engine.
PREPARED, ENGINE = "prepared", "engine"


# --------------------------------------------------------------------------------------------
# notebook parameters
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class NotebookParameter:
    """One parameter a notebook declares in its ``parameters`` cell.

    ``type`` is ``"int"``, ``"float"``, ``"str"``, ``"bool"``, ``"list"``, ``"dict"``, or
    ``"any"`` when it cannot be inferred; ``nullable`` says ``None`` is accepted too.
    ``default`` is the default's source text, as written in the cell.
    """

    name: str
    type: str
    default: str
    help: str = ""
    nullable: bool = False

    def describe(self) -> str:
        """The type as a message shows it: ``int``, ``str or None``, ``any``."""
        return f"{self.type} or None" if self.nullable and self.type != "any" else self.type

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` fits: an int fits a float, a bool fits only a bool."""
        if value is None:
            return self.nullable or self.type == "any"
        if self.type == "any":
            return True
        if isinstance(value, bool):
            return self.type == "bool"
        return isinstance(value, _PYTHON_TYPES[self.type])


_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "int": (int,),
    "float": (int, float),
    "str": (str,),
    "bool": (bool,),
    "list": (list,),
    "dict": (dict,),
}


def notebook_parameters(path: str | os.PathLike[str]) -> dict[str, NotebookParameter]:
    """The parameters a notebook declares in its cell tagged ``parameters``.

    Read with :func:`papermill.inspect_notebook`, which takes the type from an annotation
    (``seed: int = 0``) or a ``# type:`` comment and the help from the trailing comment.
    Without either, the type is that of the default when it is a literal (``0`` is an int,
    ``"a"`` text; a ``None`` default accepts anything). Assignments papermill cannot read,
    such as ``cutoff: str | None = None``, are read with :mod:`ast` instead.

    Parameters
    ----------
    path : path
        The ``.ipynb`` file.

    Returns
    -------
    dict of str to NotebookParameter
        In the order the cell declares them; empty when no cell is tagged ``parameters``.

    Examples
    --------
    >>> import tempfile
    >>> import nbformat
    >>> cell = nbformat.v4.new_code_cell(
    ...     'seed: int = 0  # random seed\\ncutoff = None\\nlabel = "all"',
    ...     metadata={"tags": ["parameters"]})
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "demo.ipynb"
    ...     nbformat.write(nbformat.v4.new_notebook(cells=[cell]), path)
    ...     declared = notebook_parameters(path)
    >>> declared["seed"]
    NotebookParameter(name='seed', type='int', default='0', help='random seed', nullable=False)
    >>> [(p.name, p.describe()) for p in declared.values()]
    [('seed', 'int'), ('cutoff', 'any'), ('label', 'str')]
    """
    import papermill
    from papermill.translators import PythonTranslator

    path = Path(path)
    cells = parameter_cells(read_notebook(path))
    if not cells:
        return {}
    # papermill logs lines it cannot parse; the ast pass below reads them instead.
    with _quiet_logger("papermill"):
        try:
            inspected = papermill.inspect_notebook(str(path))
        except ValueError:  # no kernel in the notebook's metadata; reports run python3 anyway
            inspected = {p.name: p._asdict() for p in PythonTranslator.inspect(cells[0])}
    declared = {
        name: _parameter(name, info["inferred_type_name"], info["default"], info["help"])
        for name, info in inspected.items()
    }
    # papermill skips lines it cannot parse (a comment with quotes, a dict default): read them.
    for name, annotation, default, help_text in _assignments(cells[0].source):
        if name not in declared:
            declared[name] = _parameter(name, annotation, default, help_text)
    return declared


def _parameter(
    name: str, annotation: str | None, default: str, help_text: str
) -> NotebookParameter:
    literal = literal_value(default)
    if annotation and annotation != "None":  # papermill writes "None" for "no annotation"
        kind, optional = _annotation_type(annotation)
        return NotebookParameter(name, kind, default, help_text, optional or literal is None)
    if literal is None or literal is NOT_LITERAL:
        return NotebookParameter(name, "any", default, help_text, nullable=True)
    return NotebookParameter(name, _type_name(literal), default, help_text)


NOT_LITERAL = object()
_TYPE_ALIASES = {
    "int": "int",
    "float": "float",
    "str": "str",
    "bool": "bool",
    "list": "list",
    "List": "list",
    "tuple": "list",
    "Tuple": "list",
    "Sequence": "list",
    "dict": "dict",
    "Dict": "dict",
    "Mapping": "dict",
}


def literal_value(source: str) -> Any:
    """The Python literal ``source`` spells, or :data:`NOT_LITERAL` when it is an expression."""
    try:
        return ast.literal_eval(source)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return NOT_LITERAL


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    for name, kinds in (("int", int), ("float", float), ("str", str), ("dict", dict)):
        if isinstance(value, kinds):
            return name
    return "list" if isinstance(value, list | tuple) else "any"


def _annotation_type(annotation: str) -> tuple[str, bool]:
    """``"Optional[str]"`` -> ``("str", True)``; unknown annotations accept anything."""
    text = annotation.replace(" ", "")
    optional = False
    if match := re.fullmatch(r"(?:typing\.)?Optional\[(.+)\]", text):
        text, optional = match.group(1), True
    elif match := re.fullmatch(r"(?:typing\.)?Union\[(.+)\]", text):
        text = match.group(1).replace(",", "|")
    parts = [part for part in text.split("|") if part]
    if "None" in parts:
        parts, optional = [part for part in parts if part != "None"], True
    if len(parts) != 1:
        return "any", True
    base = re.sub(r"^typing\.", "", parts[0].split("[", 1)[0])
    return _TYPE_ALIASES.get(base, "any"), optional


def _assignments(source: str) -> Iterator[tuple[str, str | None, str, str]]:
    """(name, annotation, default source, trailing comment) of the simple assignments in a
    parameters cell."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython magics and the like: papermill's reading stands alone
        return
    comments = {
        token.start[0]: token.string.lstrip("#").strip()
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type == tokenize.COMMENT
    }
    for node in tree.body:
        help_text = comments.get(node.end_lineno or node.lineno, "")
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
            annotation = ast.get_source_segment(source, node.annotation)
            default = ast.get_source_segment(source, node.value) or ""
            yield node.target.id, annotation, default, help_text
        elif (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            default = ast.get_source_segment(source, node.value) or ""
            yield node.targets[0].id, None, default, help_text


def parameter_cells(nb: Any) -> list[Any]:
    """The cells tagged ``parameters`` (papermill injects values after such a cell)."""
    return [cell for cell in nb.cells if "parameters" in cell.get("metadata", {}).get("tags", [])]


@contextlib.contextmanager
def _quiet_logger(name: str) -> Iterator[None]:
    """Raise a logger's level for a while: papermill's parse warnings are not the user's."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


# --------------------------------------------------------------------------------------------
# parameters given
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class CommandLineValue:
    """A value typed as ``NAME=VALUE``: ``value`` is its YAML reading, ``text`` what was typed.

    :func:`run_report` passes ``value``, except to parameters declared ``str`` when ``value``
    is not text: they receive ``text``, so ``label=007`` gives ``"007"``, not the number 7.
    """

    text: str
    value: Any


def read_parameters(
    params_file: str | os.PathLike[str] | None = None, pairs: Iterable[str] = ()
) -> dict[str, Any]:
    """Parameters from a YAML file and ``NAME=VALUE`` pairs, as ``journey report`` reads them.

    The file must hold a mapping; pairs override it. Values are read as YAML (like papermill's
    ``-y``): ``3`` is an int, ``0.5`` a float, ``true`` a bool, ``[a, b]`` a list, ``null``
    None, anything else text. Dates stay text (``2024-01-01`` is not turned into a date), and
    a pair given for a parameter declared ``str`` keeps its text as typed (see
    :class:`CommandLineValue`).

    Parameters
    ----------
    params_file : path, optional
        A YAML file holding a mapping of parameter names to values.
    pairs : iterable of str
        ``NAME=VALUE`` items, applied in order after the file.

    Returns
    -------
    dict
        Parameters for :func:`run_report`: values from the file, and a
        :class:`CommandLineValue` for each pair.

    Raises
    ------
    JourneyParameterError
        The file is missing, not YAML or not a mapping, or a pair is not ``NAME=VALUE``.

    Examples
    --------
    >>> given = read_parameters(None, ["seed=7", "cutoff=2024-07-01", "segments=[a, b]"])
    >>> given["seed"]
    CommandLineValue(text='7', value=7)
    >>> [value.value for value in given.values()]
    [7, '2024-07-01', ['a', 'b']]
    """
    parameters: dict[str, Any] = {}
    if params_file is not None:
        parameters.update(_read_params_file(Path(params_file)))
    for item in pairs:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise JourneyParameterError(f"-p {item!r}: expected NAME=VALUE, e.g. -p seed=7")
        parameters[name] = CommandLineValue(text, _yaml(text, f"-p {item!r}"))
    return parameters


def _read_params_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise JourneyParameterError(f"--params {str(path)!r}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise JourneyParameterError(f"--params {str(path)!r}: cannot read it ({exc})") from None
    loaded = _yaml(text, f"--params {str(path)!r}")
    if loaded is None:
        return {}
    if not isinstance(loaded, dict) or not all(isinstance(key, str) for key in loaded):
        raise JourneyParameterError(
            f"--params {str(path)!r}: expected a mapping of parameter names to values, "
            f"got {type(loaded).__name__}"
        )
    return loaded


def _yaml(text: str, where: str) -> Any:
    import yaml

    try:
        return yaml.load(text, Loader=_yaml_loader())  # a SafeLoader subclass: no objects
    except yaml.YAMLError as exc:
        problem = " ".join(str(exc).split())
        raise JourneyParameterError(f"{where}: not valid YAML ({problem})") from None


@functools.cache
def _yaml_loader() -> type:
    """YAML's safe loader without dates: notebooks take cutoffs as text."""
    import yaml

    timestamp = "tag:yaml.org,2002:timestamp"

    class Loader(yaml.SafeLoader):
        pass

    Loader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != timestamp]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return Loader


def flow_anchor(anchor: str, direction: str) -> dict[str, str | None]:
    """Notebook 01's ``flow_anchor`` and ``flow_direction`` as :func:`journey_lib.path_flows`'
    ``start`` or ``end``: forwards from the anchor (from each journey's first touchpoint when
    it is ``""``), or backwards to it, which needs one.

    Examples
    --------
    >>> flow_anchor("cart", "backwards"), flow_anchor("", "forwards")
    ({'end': 'cart'}, {'start': None})
    """
    check_choice("flow_direction", direction, ("forwards", "backwards"))
    if direction == "backwards":
        if not anchor:
            raise JourneyParameterError(
                "flow_direction='backwards' needs a flow_anchor: the event the journeys lead to"
            )
        return {"end": anchor}
    return {"start": anchor or None}
