"""SHA-256 fingerprints of the data a run reads, a file or a whole folder, for its manifest."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from ..errors import JourneyDataError

__all__ = ["data_fingerprint"]


def data_fingerprint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The SHA-256 fingerprint of a data file or folder, as a run manifest records it.

    A file's fingerprint is the SHA-256 of its bytes (what ``sha256sum`` prints). A folder's
    is the SHA-256 of the ``sha256sum``-style lines (``<sha256>  <relative path>``) of all
    its files, subfolders included, in sorted path order, so renaming a file changes it too.
    Hidden files (a name part starting with ``.``) are left out: they are editor and OS
    clutter, not data.

    Parameters
    ----------
    path : path
        A file or a folder.

    Returns
    -------
    dict
        ``path`` (absolute), ``sha256``, ``files`` (count) and ``bytes`` (total size).

    Raises
    ------
    JourneyDataError
        The path does not exist, or the folder holds no file.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     (Path(folder) / "events.csv").write_bytes(b"abc")
    ...     print(data_fingerprint(Path(folder) / "events.csv")["sha256"])
    3
    ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
    """
    path = Path(path).expanduser().resolve()
    if path.is_file():
        return {"path": str(path), "sha256": _file_sha256(path), "files": 1, "bytes": _size(path)}
    if not path.is_dir():
        raise JourneyDataError(f"data path {str(path)!r}: no such file or folder")
    files = sorted(
        (file.relative_to(path).as_posix(), file)
        for file in path.rglob("*")
        if file.is_file() and not any(part.startswith(".") for part in file.relative_to(path).parts)
    )
    if not files:
        raise JourneyDataError(f"data path {str(path)!r}: the folder holds no file")
    digest = hashlib.sha256()
    for relative, file in files:
        digest.update(f"{_file_sha256(file)}  {relative}\n".encode())
    total = sum(_size(file) for _, file in files)
    return {"path": str(path), "sha256": digest.hexdigest(), "files": len(files), "bytes": total}


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _size(path: Path) -> int:
    return path.stat().st_size
