"""A report run whose data is a database: the rows read once into a Parquet file, which
the run then treats as its data file; the database recorded without its password.

``journey report --data postgresql://.../crm --table events`` (or ``--data
warehouse.duckdb --table events``) streams the rows into a temporary Parquet file a batch
at a time (:meth:`journey_lib.io.database.DatabaseSource.snapshot`), before the profile is
inferred: from there on the run is a run on that file (the same profile, validation,
quarantine and, above :data:`journey_lib.report.prepare.BATCH_ROWS` rows, validation in
parts). No notebook is handed the URL, so no executed notebook can hold a password; the
manifest names the database, table or query and the fingerprint of the rows read.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import JourneyDataError, JourneyParameterError
from ..io.database import DatabaseSource, database_source, is_database, is_database_url
from .parameters import DATA_PATH, CommandLineValue
from .plan import Planned

__all__ = ["database_of", "database_record", "snapshot"]


def database_of(
    data: str | os.PathLike[str] | None,
    given: dict[str, Any],
    planned: list[Planned],
    table: str | None,
    query: str | None,
) -> DatabaseSource | None:
    """The database a run reads, when its data (``data``, or the ``data_path`` parameter)
    names one; None for a file or folder.

    Raises
    ------
    JourneyParameterError
        When ``table`` or ``query`` comes without a database, or both or neither come with
        one, or no selected notebook reads data.
    """
    raw = data
    if raw is None and DATA_PATH in given:
        value = given[DATA_PATH]
        raw = value.text if isinstance(value, CommandLineValue) else value
    if raw is None or not is_database(raw):
        if table or query:
            named = "--table" if table else "--query"
            raise JourneyParameterError(
                f"{named} names rows of a database (postgresql://... or a .duckdb file); "
                f"the data given is {'none' if raw is None else repr(str(raw))}"
            )
        return None
    if data is not None and DATA_PATH in given:
        raise JourneyParameterError(
            f"the data path was given twice (--data and the {DATA_PATH} parameter)"
        )
    if not any(DATA_PATH in plan.declared for plan in planned):
        names = ", ".join(plan.name for plan in planned)
        raise JourneyParameterError(
            f"--data: no selected notebook declares a {DATA_PATH} parameter ({names})"
        )
    given.pop(DATA_PATH, None)
    path = None if is_database_url(str(raw)) else Path(raw)
    if path is not None and not path.expanduser().is_file():
        raise JourneyDataError(f"--data {str(raw)!r}: no such file")
    source = str(path.expanduser().resolve()) if path is not None else str(raw)
    return database_source(source, table=table, query=query)


@contextmanager
def snapshot(source: DatabaseSource, say: Callable[[str], None]) -> Iterator[tuple[Path, int]]:
    """The rows of ``source`` streamed into a temporary Parquet file, and their count;
    the file is removed on exit. An error meanwhile that names the file names the
    database instead."""
    with tempfile.TemporaryDirectory(prefix="journey-database-") as folder:
        stem = re.sub(r"[^\w.-]+", "_", source.table or "query")
        path = Path(folder) / f"{stem}.parquet"
        say(f"reading {source.describe()}")
        rows = source.snapshot(path)
        say(f"read {rows:,} rows from {source.describe()}")
        try:
            yield path, rows
        except (JourneyDataError, JourneyParameterError) as exc:
            text = str(exc)
            if str(path) not in text:
                raise
            raise type(exc)(text.replace(str(path), source.describe())) from None


def database_record(
    data_info: dict[str, Any], source: DatabaseSource, path: Path, rows: int
) -> dict[str, Any]:
    """``data_info`` (:func:`journey_lib.report.plan.data_record`) as the manifest keeps it
    for a database: where the rows came from in place of the temporary file, with the
    fingerprint of the rows as read (their Parquet file's SHA-256, in the order the
    database gave them) and their count."""
    said = source.describe()
    per_notebook = {
        name: said if value == str(path) else value
        for name, value in data_info.get("per_notebook", {}).items()
    }
    fingerprints = [
        {**entry, "path": said, "rows": rows} if entry.get("path") == str(path) else entry
        for entry in data_info.get("fingerprints", [])
    ]
    return {
        **data_info,
        "database": source.record(),
        "fingerprints": fingerprints,
        "per_notebook": per_notebook,
    }
