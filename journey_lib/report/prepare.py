"""A run's log, read and validated once and kept as Parquet for every notebook and engine.

``journey report`` reads the data once, before any notebook runs: :func:`prepare_log`
validates it as the profile says (:meth:`journey_lib.LogProfile.read`) and writes a folder
that :func:`journey_lib.report.open_data` opens in any engine::

    prepared/
        events.parquet   the clean log: canonical columns first, sorted by customer and time
        reading.json     how the rows were used: read, set aside (by reason), duplicates

A log is validated whole when it is small, and in parts of ``batch_rows`` rows when it is a
Parquet file larger than that (the only format whose rows can be read a part at a time with
their types fixed by the file). Parts are validated one at a time, so memory follows the
part, not the log; DuckDB then sorts the parts' clean rows into one file and drops exact
duplicates, within a part and across parts alike. The rows, their order and the counts are
those of validating the whole log at once: ties in time keep the file's order, and when one
part's customer ids are all integers but another's are not, every part is read again with
ids as text, as a whole read would have them.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from .._engine import arrow_table, in_microseconds
from ..errors import JourneyDataError, JourneyDataWarning, JourneyParameterError, check_choice
from ..io.profile import LogProfile
from ..io.read import format_of
from ..io.validate import CANONICAL_COLUMNS, REASONS, validate_events
from .parameters import ENGINE, PREPARED, CommandLineValue
from .plan import Planned

__all__ = [
    "AUTO_ROWS",
    "BATCH_ROWS",
    "ENGINES",
    "Reading",
    "asked_engine",
    "choose_engine",
    "is_prepared",
    "prepare_log",
    "prepare_run",
    "read_prepared",
]

#: The engines a report's log can stay in.
ENGINES = ("pandas", "polars", "duckdb", "spark")
#: Usable rows up to which ``journey report --engine auto`` keeps the log in pandas; a
#: larger log stays in DuckDB. At 1M events the three engines take about the same time
#: and pandas the most memory (benchmarks/README.md, "Reports that stay in the engine").
AUTO_ROWS = 2_000_000

#: Rows of a Parquet log validated at a time: a larger log is read in parts of this size
#: (about 1.5 GB of memory at the simulator's columns).
BATCH_ROWS = 2_000_000
#: DuckDB's memory while it sorts a log validated in parts; beyond it, it spills to disk.
MERGE_MEMORY = "4GB"
#: The files of a prepared folder.
EVENTS, READING = "events.parquet", "reading.json"
# Each row's place in the file, carried through validation so ties in time keep file order.
_ROW = "_jl_row"


@dataclass(frozen=True)
class Reading:
    """How the rows of a prepared log were used: what :class:`journey_lib.ValidationReport`
    says of a log, without holding its rows.

    Attributes
    ----------
    source : str
        The data file's name (never its folder), or the database's rows in words
        (:meth:`journey_lib.io.database.DatabaseSource.describe`).
    n_input : int
        Rows read, malformed lines included.
    usable : int
        Clean rows: ``n_input - set_aside - duplicates``.
    duplicates : int
        Exact duplicates of a clean row, counted once.
    reasons : dict
        Reason -> rows set aside for it; a row with several reasons counts under each.
    set_aside : int
        Rows set aside (each once).
    pandas_columns : list of dict
        For a log read in parts from a file pandas wrote, the file's own description of
        its other columns (pandas metadata: a nullable ``Int64``, say; a category column's
        categories too), by which the pandas engine reads them as a whole read does; empty
        otherwise.
    notes : list of str
        What reading the data warned of (:class:`journey_lib.errors.JourneyDataWarning`:
        a file that is not UTF-8, say), for every page's notes.
    """

    source: str
    n_input: int
    usable: int
    duplicates: int
    set_aside: int
    reasons: Mapping[str, int] = field(default_factory=dict)
    pandas_columns: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def reason_counts(self) -> pd.Series:
        """Rows set aside per reason, in :data:`journey_lib.io.validate.REASONS` order, as
        :meth:`journey_lib.ValidationReport.reason_counts` gives them."""
        if not self.reasons:
            return pd.Series(dtype="int64", name="rows")
        order = [r for r in REASONS if r in self.reasons]
        order += sorted(set(self.reasons) - set(order))
        counts = pd.Series([self.reasons[r] for r in order], index=order, dtype="int64")
        return counts.rename("rows").rename_axis("reason")


def is_prepared(path: Any) -> bool:
    """Whether ``path`` is a folder :func:`prepare_log` wrote."""
    return isinstance(path, str | os.PathLike) and (Path(path) / READING).is_file()


def read_prepared(folder: str | os.PathLike[str]) -> tuple[Path, Reading]:
    """The clean log's file and the :class:`Reading` of a prepared folder."""
    folder = Path(folder)
    record = json.loads((folder / READING).read_text(encoding="utf-8"))
    return folder / EVENTS, Reading(**record)


def prepare_log(
    source: str | os.PathLike[str],
    profile: LogProfile,
    folder: str | os.PathLike[str],
    *,
    batch_rows: int = BATCH_ROWS,
    name: str | None = None,
) -> Reading:
    """Validate a log once, as ``profile`` says, into ``folder`` (made if missing).

    Parameters
    ----------
    source : path
        The log: any format :func:`journey_lib.read_table` reads.
    profile : LogProfile
        How to read it; a customer table is not a log and is refused.
    folder : path
        Where ``events.parquet`` and ``reading.json`` go.
    batch_rows : int
        A Parquet log with more rows than this (of shape ``events`` or ``process``, with an
        event column) is validated in parts of this many rows, which needs DuckDB (the
        ``scale`` extra) to sort the parts together; other logs are validated whole.
    name : str, optional
        What the pages call the data (:attr:`Reading.source`); default the file's name.

    Returns
    -------
    Reading

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import journey_lib as jl
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> raw = pd.DataFrame({"user": ["a", "a", "b", None], "event": ["visit"] * 4,
    ...                     "ts": ["2024-01-02", "2024-01-01", "2024-01-03", "2024-01-04"]})
    >>> raw.to_parquet(folder / "log.parquet")
    >>> p = jl.profile(raw, columns={"user": "customer_id", "ts": "timestamp"})
    >>> reading = prepare_log(folder / "log.parquet", p, folder / "prepared", batch_rows=2)
    >>> reading.usable, reading.set_aside, dict(reading.reasons)
    (3, 1, {'missing customer id': 1})
    >>> pd.read_parquet(folder / "prepared" / "events.parquet")["customer_id"].tolist()
    ['a', 'a', 'b']
    """
    if profile.shape == "customers":
        raise JourneyDataError("a customer table is not a touchpoint log; it is read whole")
    source, folder = Path(source), Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    # What the read warns of (a file that is not UTF-8, say) is kept for every page.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", JourneyDataWarning)
        reading = _prepare(source, profile, folder, batch_rows)
    notes = [str(w.message) for w in caught if issubclass(w.category, JourneyDataWarning)]
    for w in caught:  # and said where the caller sees warnings (journey report's console)
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    reading = dataclasses.replace(
        reading, notes=list(dict.fromkeys(notes)), source=name or reading.source
    )
    record = {k: dict(v) if isinstance(v, Mapping) else v for k, v in vars(reading).items()}
    (folder / READING).write_text(json.dumps(record, indent=1), encoding="utf-8")
    return reading


def _prepare(source: Path, profile: LogProfile, folder: Path, batch_rows: int) -> Reading:
    reading = None
    if _in_parts(source, profile, batch_rows):
        reading = _prepare_in_parts(source, profile, folder, batch_rows)
    if reading is None:
        report = profile.read(source)
        _write_clean(report.clean, folder / EVENTS)
        reading = Reading(
            source=source.name,
            n_input=report.n_input,
            usable=len(report.clean),
            duplicates=report.duplicates,
            set_aside=len(report.quarantine),
            reasons={str(r): int(n) for r, n in report.reason_counts().items()},
        )
    return reading


def prepare_run(
    found: LogProfile | None,
    data: Path | None,
    planned: list[Planned],
    data_info: Mapping[str, Any],
    scratch: Path,
    say: Any,
    name: str | None = None,
) -> tuple[Path, Reading] | None:
    """Prepare a run's log once in ``scratch`` for the notebooks declaring ``prepared``:
    the folder and its :class:`Reading`, or None when there is nothing to prepare (no
    profile, a customer table, no data file, no notebook taking it, or notebooks whose
    own default data differ: each then reads its own, as ``data_info`` records). ``name``
    is what the pages call the data (default: the file's name)."""
    taking = [plan.name for plan in planned if PREPARED in plan.declared]
    if found is None or found.shape == "customers" or data is None or not taking:
        return None
    if not Path(data).is_file():
        return None
    read = data_info.get("per_notebook", {})
    if any(read.get(name) != str(data) for name in taking):
        return None
    say(f"reading {name or Path(data).name} once for every notebook")
    folder = scratch / "prepared"
    reading = prepare_log(data, found, folder, name=name)
    say(
        f"read {reading.n_input:,} rows: {reading.usable:,} usable, {reading.set_aside:,} set "
        f"aside, {reading.duplicates:,} duplicates"
    )
    return folder, reading


def asked_engine(engine: str | None, given: Mapping[str, Any]) -> str:
    """The engine a run was asked for: ``engine`` (``--engine``) or the ``engine``
    parameter, ``"auto"`` when neither.

    Raises
    ------
    JourneyParameterError
        When both are given, or the engine is not one of ``auto`` and :data:`ENGINES`.
    """
    if ENGINE in given:
        raw = given[ENGINE]
        value = raw.value if isinstance(raw, CommandLineValue) else raw
        if engine is not None:
            raise JourneyParameterError(
                "the engine was given twice (--engine and the engine parameter)"
            )
        engine = value if isinstance(value, str) else str(value)
    engine = engine or "auto"
    check_choice("engine", engine, ("auto", *ENGINES))
    return engine


def choose_engine(asked: str, prepared: tuple[Path, Reading] | None) -> str:
    """The engine a run uses: the one asked for, or for ``"auto"`` pandas up to
    :data:`AUTO_ROWS` usable rows and DuckDB above (pandas when DuckDB is not installed).

    Raises
    ------
    JourneyParameterError
        When the engine asked for is not installed, or is Spark and no Java runtime is
        found.

    Examples
    --------
    >>> choose_engine("auto", None), choose_engine("polars", None)
    ('pandas', 'polars')
    """
    if asked == "auto":
        rows = prepared[1].usable if prepared is not None else 0
        return "duckdb" if rows > AUTO_ROWS and _installed("duckdb") else "pandas"
    module = _MODULES.get(asked)
    if module is not None and not _installed(module):
        raise JourneyParameterError(
            f"engine {asked!r} is not installed: pip install 'journey-lab[scale]'"
        )
    if asked == "spark" and not _java():
        raise JourneyParameterError(
            "engine 'spark' needs a Java runtime (17 or later) and none was found on PATH "
            "or in JAVA_HOME; install one (apt-get install default-jre-headless)"
        )
    return asked


# The package each engine needs beyond pandas.
_MODULES = {"polars": "polars", "duckdb": "duckdb", "spark": "pyspark"}


def _java() -> bool:
    home = os.environ.get("JAVA_HOME")
    return shutil.which("java") is not None or bool(home and (Path(home) / "bin/java").is_file())


def _installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _in_parts(source: Path, profile: LogProfile, batch_rows: int) -> bool:
    """Whether ``source`` is validated in parts: a Parquet log of more than ``batch_rows``
    rows, with an event column, whose times are stored as times (text or numbers are read
    by rules decided on the whole column: day or month first, an epoch's unit), and no
    two columns named alike but for case (DuckDB, which sorts the parts, tells them not
    apart)."""
    if not source.is_file() or format_of(source) != "parquet":
        return False
    file = pq.ParquetFile(source)
    time_column = profile.column("timestamp")
    names = [n for n in file.schema_arrow.names if n not in _index_columns(file.schema_arrow)]
    renamed = [profile.renames.get(n, n) for n in names]
    return (
        file.metadata.num_rows > batch_rows
        and profile.shape in ("events", "process")
        and profile.column("event") is not None
        and time_column in file.schema_arrow.names
        and pa.types.is_timestamp(file.schema_arrow.field(time_column).type)
        and len({n.lower() for n in renamed}) == len(renamed)
    )


def _index_columns(schema: pa.Schema) -> list[str]:
    """The columns pandas wrote for a frame's index (a whole read makes them the index
    again, and the report drops it)."""
    meta = schema.pandas_metadata or {}
    return [c for c in meta.get("index_columns", []) if isinstance(c, str)]


def _prepare_in_parts(
    source: Path, profile: LogProfile, folder: Path, batch_rows: int
) -> Reading | None:
    try:
        import duckdb
    except ImportError:  # pragma: no cover - the scale extra is part of `make test`
        raise JourneyDataError(
            f"{source.name} has more than {batch_rows:,} rows, which are validated in parts and "
            "sorted together by DuckDB: install journey-lab[scale]"
        ) from None
    parts = folder / "parts"
    parts.mkdir(exist_ok=True)
    counts = _validate_parts(source, profile, parts, batch_rows, text_ids=False)
    if counts is None:  # one part's ids were all integers and another's were not
        counts = _validate_parts(source, profile, parts, batch_rows, text_ids=True)
    if counts is None:  # ids no rule reads alike in every part: read the log whole
        shutil.rmtree(parts)
        return None
    n_input, set_aside, reasons = counts
    written = sorted(parts.glob("*.parquet"))
    columns = pq.read_schema(written[0]).names
    kept = [c for c in columns if c != _ROW]
    listed = ", ".join(_quoted(c) for c in kept)
    con = duckdb.connect()
    # Sorting spills to disk beyond this, so memory follows the part, not the log.
    con.execute(f"SET memory_limit = '{MERGE_MEMORY}'")
    con.execute(f"SET temp_directory = {_text(folder / 'spill')}")
    con.execute("SET enable_progress_bar = false")
    # The parts as one Arrow dataset: no path goes into the SQL, where quotes or brackets
    # in a folder's name would be read as SQL or as a pattern.
    con.register("_jl_parts", ds.dataset([str(p) for p in written], format="parquet"))
    rows = "_jl_parts"
    # Validation saw each row's place in the file, so it dropped no duplicate: exact
    # duplicates, within a part or across parts, are found here. They share customer and
    # time, so the window that finds them reads only rows sharing both (a few, in a log
    # with times to the second); the first copy in the file stays. Ties in time keep the
    # file's order through each row's place in it.
    con.execute(
        f"""
        COPY (
            WITH ties AS (
                SELECT customer_id, timestamp FROM {rows} GROUP BY ALL HAVING count(*) > 1
            ),
            repeated AS (
                SELECT {_ROW} FROM {rows} SEMI JOIN ties USING (customer_id, timestamp)
                QUALIFY row_number() OVER (PARTITION BY {listed} ORDER BY {_ROW}) > 1
            )
            SELECT {listed} FROM {rows} ANTI JOIN repeated USING ({_ROW})
            ORDER BY customer_id, timestamp, {_ROW}
        ) TO {_text(folder / EVENTS)} (FORMAT parquet)
        """
    )
    con.close()
    shutil.rmtree(parts)
    shutil.rmtree(folder / "spill", ignore_errors=True)
    usable = pq.ParquetFile(folder / EVENTS).metadata.num_rows
    clean = n_input - set_aside
    # Read whole, pandas types the other columns by the file's own pandas metadata (a
    # nullable Int64, say): the pandas engine reads them by the same entries.
    described = (pq.read_schema(source).pandas_metadata or {}).get("columns", [])
    others = [
        _with_categories(source, c)
        for c in described
        if c.get("name") in kept and c["name"] not in CANONICAL_COLUMNS
    ]
    return Reading(
        source=source.name,
        n_input=n_input,
        usable=int(usable),
        duplicates=clean - int(usable),
        set_aside=set_aside,
        reasons=reasons,
        pandas_columns=others,
    )


def _with_categories(source: Path, described: dict[str, Any]) -> dict[str, Any]:
    """A column's pandas description, with a category column's categories (which DuckDB's
    sort does not keep: it writes the values as text) under ``categories``."""
    if described.get("pandas_type") != "categorical":
        return described
    column = pq.ParquetFile(source).read_row_group(0, columns=[described["name"]]).column(0)
    dictionary = column.chunk(0).dictionary if column.num_chunks else pa.array([])
    return {**described, "categories": dictionary.to_pylist()}


def _validate_parts(
    source: Path, profile: LogProfile, parts: Path, batch_rows: int, *, text_ids: bool
) -> tuple[int, int, dict[str, int]] | None:
    """Validate ``source`` a part at a time into ``parts``; None when the parts' ids came
    out as different types (integers in one, text in another)."""
    file = pq.ParquetFile(source)
    renames = profile.renames
    roles = [c for c, r in profile.columns.items() if r in CANONICAL_COLUMNS]
    # Every other column (a session id too) is kept as the file has it, in its order.
    index = _index_columns(file.schema_arrow)
    properties = [c for c in file.schema_arrow.names if c not in roles and c not in index]
    n_input = set_aside = 0
    reasons: dict[str, int] = {}
    id_types: set[str] = set()
    written = 0
    for number, batch in enumerate(file.iter_batches(batch_size=batch_rows)):
        raw = batch.select(roles).to_pandas()
        first = n_input
        raw[_ROW] = np.arange(first, first + len(raw), dtype="int64")
        report = validate_events(raw, columns=renames, text_ids=text_ids)
        clean = report.clean
        n_input += len(raw)
        set_aside += len(report.quarantine)
        counts = report.reason_counts()
        for reason, n in counts.items():
            reasons[str(reason)] = reasons.get(str(reason), 0) + int(n)
        # The ids' type follows every id present in the part, set aside or not (as it
        # follows every id of the file read whole); a part without one says nothing of it.
        if counts.get("missing customer id", 0) < len(raw):
            kind = "int" if pd.api.types.is_integer_dtype(clean["customer_id"]) else "text"
            id_types.add(kind)
            if len(id_types) > 1:
                return None
        # A part without a usable row adds none (one is written if no other is).
        if clean.empty and (written or n_input < file.metadata.num_rows):
            continue
        # Properties straight from Arrow, by each clean row's place in the part: their types
        # are the file's, as reading it whole would give.
        taken = batch.select(properties).take(pa.array(clean[_ROW].to_numpy() - first))
        table = arrow_table(clean)
        for name, column in zip(taken.column_names, taken.columns, strict=True):
            table = table.append_column(name, column)
        pq.write_table(in_microseconds(table), parts / f"part-{number:05d}.parquet")
        written += 1
    return n_input, set_aside, reasons


def _write_clean(clean: pd.DataFrame, path: Path) -> None:
    pq.write_table(arrow_table(clean), path)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _text(path: Path) -> str:
    """``path`` as an SQL string literal."""
    return "'" + str(path).replace("'", "''") + "'"
