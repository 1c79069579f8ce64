"""The notebook suite shipped with journey-lab: where an installation keeps it, and a copy of
it to edit (``journey init``).

The wheel carries the repository's ``notebooks/`` as ``journey_lib/notebooks`` and ``data/``
as ``journey_lib/data`` (see pyproject.toml); an editable install finds the repository's own
folders. Either way the two are siblings, as the notebooks' default data path
``../data/sample/events.csv.gz`` expects, and a copy keeps that shape.
"""

from __future__ import annotations

import contextlib
import importlib.resources
import os
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..errors import JourneyError
from ..io.profile import profile
from .run_profile import PROFILE_FILE

__all__ = ["copy_suite", "packaged_notebooks"]

#: The package the notebooks are shipped as.
PACKAGE = "journey_lib.notebooks"


@contextlib.contextmanager
def packaged_notebooks() -> Iterator[Path]:
    """The folder of the notebooks shipped with journey-lab, on disk for the ``with`` block.

    Found through :mod:`importlib.resources`, so it does not depend on the current folder:
    inside an installed wheel it is ``journey_lib/notebooks`` in site-packages, in an editable
    install the repository's ``notebooks/``. The sample data the notebooks read by default is
    in the ``data/sample`` folder beside it.

    Yields
    ------
    Path
        The notebooks folder.

    Raises
    ------
    JourneyError
        This installation carries no notebooks (an editable install made before they were
        packaged; installing again mends it).

    Examples
    --------
    >>> with packaged_notebooks() as folder:
    ...     print(folder.name, (folder / "01_touchpoints.ipynb").is_file())
    notebooks True
    """
    try:
        suite = importlib.resources.files(PACKAGE)
    except ModuleNotFoundError:
        raise JourneyError(
            f"this installation of journey-lab has no notebooks ({PACKAGE} is missing); "
            "install it again, or give a notebooks folder"
        ) from None
    with importlib.resources.as_file(suite) as folder:
        yield folder.resolve()


def copy_suite(folder: str | os.PathLike[str], *, force: bool = False) -> list[Path]:
    """Copy the packaged notebook suite into ``folder``, to edit the notebooks and run them.

    ``folder`` gets the shape of the repository the suite comes from: ``notebooks/`` (the
    notebooks and their README) beside ``data/`` (the data dictionary and ``sample/``, the
    log and customer table the notebooks read by default), and ``journey.yaml``, the
    sample's log profile (:func:`journey_lib.profile`) to edit for another log, so
    ``journey report --notebooks FOLDER/notebooks`` runs the copies as they are.

    Parameters
    ----------
    folder : path
        Where the suite goes; made, with its parents, when missing.
    force : bool
        Overwrite the suite's files where ``folder`` holds them already; other files are left
        alone. Without it, a folder holding notebooks or any file the copy writes is refused.

    Returns
    -------
    list of Path
        The files written: notebooks, their README, the data, then ``journey.yaml``.

    Raises
    ------
    JourneyError
        ``folder`` holds notebooks or the suite's files already and ``force`` is false;
        nothing is written then.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     written = copy_suite(Path(tmp) / "suite")
    ...     print(sorted({p.parent.name for p in written}))
    ['data', 'notebooks', 'sample', 'suite']
    """
    folder = Path(folder)
    with packaged_notebooks() as notebooks:
        data = notebooks.parent / "data"
        sources = [
            *sorted(notebooks.glob("*.ipynb")),
            notebooks / "README.md",
            data / "README.md",
            *sorted(p for p in (data / "sample").iterdir() if p.is_file()),
        ]
        copies = {source: folder / source.relative_to(notebooks.parent) for source in sources}
        starter = folder / PROFILE_FILE
        if not force:
            _refuse_existing(folder, [*copies.values(), starter])
        for source, target in copies.items():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        # The sample's profile, as a starting point to edit for one's own log.
        profile(data / "sample" / "events.csv.gz").to_yaml(starter)
    return [*copies.values(), starter]


def _refuse_existing(folder: Path, targets: Iterable[Path]) -> None:
    """Refuse a folder holding notebooks (theirs or ours) or any file the copy would write."""
    found = dict.fromkeys(sorted((folder / "notebooks").glob("*.ipynb")))
    found.update(dict.fromkeys(target for target in targets if target.exists()))
    if found:
        first, *rest = (str(path.relative_to(folder)) for path in found)
        more = f" and {len(rest)} more" if rest else ""
        raise JourneyError(
            f"{str(folder)!r} already holds notebooks or their data ({first}{more}); "
            "journey init --force (force=True) overwrites the suite's files"
        )
