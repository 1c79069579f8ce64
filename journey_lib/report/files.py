"""Reading and writing a run's files: notebooks, JSON, and text written through a temporary
file so that a reader never sees half of it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..errors import JourneyDataError


def read_notebook(path: Path) -> Any:
    """The notebook at ``path`` (nbformat 4); JourneyDataError naming it when unreadable."""
    import nbformat

    try:
        return nbformat.read(str(path), as_version=4)
    except (OSError, ValueError) as exc:  # nbformat raises ValueError subclasses on bad JSON
        raise JourneyDataError(f"{path.name}: not a readable notebook ({exc})") from None


def read_json(path: Path) -> Any:
    """The JSON value in ``path``; JourneyDataError naming it when unreadable."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise JourneyDataError(f"{path}: not readable JSON ({exc})") from None


def write_json(path: Path, value: Any) -> None:
    """Write ``value`` as indented UTF-8 JSON, through a temporary file."""
    write_text(path, json.dumps(value, indent=2, ensure_ascii=False) + "\n")


def write_text(path: Path, text: str) -> None:
    """Write through a temporary file, so a reader never sees half a file."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
