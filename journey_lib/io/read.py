"""Reading touchpoint logs from files and frames.

:func:`read_events` reads and validates, returning the whole :class:`ValidationReport`;
:func:`load_events` returns just the clean log and warns when rows were quarantined.
"""

from __future__ import annotations

import codecs
import io
import lzma
import os
import warnings
import zipfile
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.json as pa_json

from ..errors import JourneyDataError, JourneyDataWarning, JourneyError, JourneyParameterError
from .database import database_source, driver_errors, is_database_url, redact, write_postgres
from .validate import MALFORMED, ValidationReport, validate_events

__all__ = ["format_of", "load_events", "read_events", "read_table", "write_table"]

_COMPRESSIONS = (".gz", ".bz2", ".xz", ".zst", ".zip")
_FORMATS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".xlsx": "excel",
    ".xlsm": "excel",
    ".duckdb": "duckdb",
    ".ddb": "duckdb",
}
_DELIMITERS = (",", ";", "\t", "|")
# Byte-order marks and the codec that reads past each; UTF-32's little-endian mark begins
# with UTF-16's, so it is looked for first.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# The five bytes Windows-1252 leaves undefined: text without them reads as Windows-1252
# (Excel's and Windows' "ANSI"), whose euro sign and curly quotes Latin-1 would garble.
_CP1252_UNDEFINED = (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d")
# What reads as missing in CSV, as pandas reads it.
_ARROW_NULLS = (
    "",
    "#N/A",
    "#N/A N/A",
    "#NA",
    "-1.#IND",
    "-1.#QNAN",
    "-NaN",
    "-nan",
    "1.#IND",
    "1.#QNAN",
    "<NA>",
    "N/A",
    "NA",
    "NULL",
    "NaN",
    "None",
    "n/a",
    "nan",
    "null",
)
# Errors the readers raise for content they cannot make sense of.
_READ_ERRORS = (
    pa.ArrowException,
    pd.errors.ParserError,
    pd.errors.EmptyDataError,
    UnicodeDecodeError,
    LookupError,  # an unknown encoding=
    ValueError,
    EOFError,
    OSError,
)


def read_table(path: str | os.PathLike, **read_options: Any) -> tuple[pd.DataFrame, list[str]]:
    """Read a CSV, Parquet, JSON(-lines) file or Excel workbook into pandas.

    Parameters
    ----------
    path : str or path-like
        The file. Its format comes from the extension: ``.csv``, ``.tsv``, ``.txt`` (text with
        delimiters), ``.parquet``/``.pq``, ``.jsonl``/``.ndjson``, ``.json``, each optionally
        followed by ``.gz``, ``.bz2``, ``.xz``, ``.zst`` or ``.zip``; ``.xlsx``/``.xlsm``;
        or a DuckDB database file, ``.duckdb``/``.ddb``; or a PostgreSQL database's URL,
        ``postgresql://user@host:port/database`` (see :mod:`journey_lib.io.database` for
        where the password comes from).
    **read_options
        For CSV, read by pyarrow's multithreaded reader (no Python per line): ``sep`` (or
        ``delimiter``), ``encoding``, ``quotechar``, ``escapechar``, ``skiprows``,
        ``usecols``, ``na_values`` and ``dtype`` (a mapping), as in :func:`pandas.read_csv`.
        For workbooks, read by calamine: ``sheet`` (a name, or a 0-based position; the
        first sheet by default), ``skiprows``, ``usecols``, ``na_values`` and ``dtype``, as
        in :func:`pandas.read_excel`. For JSON, ``encoding`` and the options of
        :func:`pandas.read_json`; for Parquet, those of :func:`pandas.read_parquet`. For a
        database, ``table`` (a name, ``schema.name`` too) or ``query`` (one ``SELECT``),
        exactly one; a DuckDB file is opened read-only, PostgreSQL's rows are streamed.

    Returns
    -------
    frame : pandas.DataFrame
        The rows that could be read, every column as the reader typed it.
    malformed : list of str
        CSV lines with the wrong number of fields, ``"expected 3 fields, found 4: <line>"``;
        they are reported rather than silently skipped.

    Notes
    -----
    For CSV without an explicit ``sep`` the delimiter is guessed from the header line among
    ``, ; TAB |``. Without an explicit ``encoding``, a byte-order mark decides (UTF-8, UTF-16
    as Excel's "Unicode text" writes it, UTF-32) and never ends up in a column name; text
    without one is read as UTF-8 when it is valid UTF-8, otherwise as Windows-1252 (what
    Excel and Windows programs write) or, when it has bytes Windows-1252 leaves undefined,
    as Latin-1 (which maps every byte, so nothing is lost), with a
    :class:`JourneyDataWarning`. A workbook's cells keep their types: text stays text (ids
    such as ``"007"`` too), date cells become naive date-times (read later as UTC).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "log.csv"
    >>> _ = path.write_text("id;when;what\\n1;2024-01-01;ad_view\\n2;2024-01-02;a;b\\n")
    >>> frame, malformed = read_table(path)
    >>> frame
       id        when     what
    0   1  2024-01-01  ad_view
    >>> malformed
    ['expected 3 fields, found 4: 2;2024-01-02;a;b']
    """
    if is_database_url(path):
        return _database_rows(path, read_options), []
    path = Path(path)
    if not path.exists():
        raise JourneyDataError(f"{path}: no such file")
    if path.is_dir():
        raise JourneyDataError(f"{path} is a folder, not a file")
    if path.stat().st_size == 0:
        raise JourneyDataError(f"{path} is empty (0 bytes)")
    kind = format_of(path)
    named = sorted({"table", "query"} & set(read_options))
    if named and kind != "duckdb":
        raise JourneyParameterError(
            f"{path} is a file; {' and '.join(f'{n}=' for n in named)} name rows of a "
            f"database (postgresql://... or a .duckdb file)"
        )
    try:
        if kind == "csv":
            frame, malformed = _read_csv(path, dict(read_options))
        elif kind == "excel":
            frame, malformed = _read_excel(path, read_options), []
        elif kind == "parquet":
            frame, malformed = pd.read_parquet(path, **read_options), []
        elif kind == "duckdb":
            frame, malformed = _database_rows(path, read_options), []
        else:
            frame, malformed = _read_json(path, lines=kind == "jsonl", options=read_options), []
    except JourneyError:
        raise  # already says what is wrong (a JourneyParameterError is a ValueError too)
    except (*_READ_ERRORS, *driver_errors()) as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise JourneyDataError(f"could not read {path} as {kind.upper()}: {detail}") from None
    if len(frame) == 0 and not malformed:
        raise JourneyDataError(f"{path} has no data rows (header only: {list(frame.columns)[:10]})")
    return frame, malformed


def _database_rows(source: str | os.PathLike, options: Mapping[str, Any]) -> pd.DataFrame:
    """A database's rows (:mod:`journey_lib.io.database`): ``table=`` or ``query=`` only."""
    unknown = sorted(set(options) - {"table", "query"})
    if unknown:
        where = redact(str(source)) if is_database_url(source) else source
        raise JourneyParameterError(
            f"{where} is a database: name the rows with table='events' or query='SELECT "
            f"...'; {unknown} apply to files, not databases"
        )
    return database_source(source, **options).read()


def read_events(
    source: Any,
    *,
    columns: Mapping[str, str] | None = None,
    as_of: Any = None,
    **read_options: Any,
) -> ValidationReport:
    """Read a touchpoint log from a file or frame and validate it.

    Parameters
    ----------
    source : str, path-like or DataFrame
        A file (see :func:`read_table` for formats) or a frame of any supported engine.
    columns : mapping, optional
        The input's column names -> canonical names (``customer_id``, ``timestamp``,
        ``event``, ``channel``, ``value``).
    as_of : str or datetime-like, optional
        Rows timed after this are quarantined.
    **read_options
        Passed to the file reader.

    Returns
    -------
    ValidationReport
        As :func:`validate_events`; CSV lines with the wrong number of fields are in its
        quarantine too, with every column missing and the line in the reason.

    Examples
    --------
    >>> import pandas as pd
    >>> raw = pd.DataFrame({"customer_id": [1, 1], "timestamp": ["2024-01-01", "2024-01-01"],
    ...                     "event": ["ad_view", "ad_view"]})
    >>> read_events(raw).duplicates
    1
    """
    if isinstance(source, str | os.PathLike):
        id_column = next((k for k, v in (columns or {}).items() if v == "customer_id"), None)
        frame, malformed = read_table(source, **_with_id_as_text(source, id_column, read_options))
        try:
            report = validate_events(frame, columns=columns, as_of=as_of)
        except JourneyDataError as exc:
            where = redact(source) if is_database_url(source) else source
            raise JourneyDataError(f"{where}: {exc}{_other_sheets(source, read_options)}") from None
    else:
        frame, malformed = source, []
        report = validate_events(frame, columns=columns, as_of=as_of)
    return add_malformed(report, malformed) if malformed else report


def load_events(
    source: Any,
    *,
    columns: Mapping[str, str] | None = None,
    as_of: Any = None,
    **read_options: Any,
) -> pd.DataFrame:
    """Load a touchpoint log as a clean pandas DataFrame.

    Reads (when ``source`` is a path) and validates, warns with the validation summary when
    rows were quarantined, and returns the clean rows: canonical columns first, UTC
    timestamps, sorted by customer and time. Use :func:`read_events` to keep the quarantine.

    Parameters
    ----------
    source : str, path-like or DataFrame
        A file: CSV or other delimited text, Parquet or JSON (lines), compressed or not,
        or an Excel workbook (see :func:`read_table`); or a frame of any supported engine.
    columns : mapping, optional
        The input's column names -> canonical names, ``{"user_id": "customer_id"}``.
    as_of : str or datetime-like, optional
        Rows timed after this are quarantined.
    **read_options
        Passed to the file reader (``sep``, ``encoding``, ``sheet``, ...).

    Returns
    -------
    pandas.DataFrame
        The clean touchpoint log.

    Raises
    ------
    JourneyDataError
        When the file is missing, empty or unreadable, a required column is missing, or no
        valid row remains.

    Warns
    -----
    JourneyDataWarning
        When rows were quarantined, with the summary.

    Examples
    --------
    >>> import pandas as pd
    >>> raw = pd.DataFrame({"user": [7, 7], "ts": ["2024-03-01 10:00", "2024-03-01 09:00"],
    ...                     "event": ["purchase", "site_visit"], "value": [25.0, None]})
    >>> load_events(raw, columns={"user": "customer_id", "ts": "timestamp"})
       customer_id                 timestamp       event channel  value
    0            7 2024-03-01 09:00:00+00:00  site_visit     NaN    0.0
    1            7 2024-03-01 10:00:00+00:00    purchase     NaN   25.0
    """
    report = read_events(source, columns=columns, as_of=as_of, **read_options)
    if report.clean.empty:
        raise JourneyDataError("no valid row remains after validation:\n" + report.summary())
    if not report.ok:
        warnings.warn(
            "rows were quarantined; use read_events() to see them:\n" + report.summary(),
            JourneyDataWarning,
            stacklevel=2,
        )
    return report.clean


def format_of(path: Path) -> str:
    """The format a file's extension names: ``"csv"``, ``"parquet"``, ``"jsonl"``,
    ``"json"`` or ``"excel"`` (a compression suffix is looked through).

    Raises
    ------
    JourneyDataError
        For an extension none of them has, or a compressed workbook.

    Examples
    --------
    >>> format_of(Path("log.csv.gz")), format_of(Path("log.parquet"))
    ('csv', 'parquet')
    """
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in _COMPRESSIONS:
        suffixes = suffixes[:-1]
    kind = _FORMATS.get(suffixes[-1]) if suffixes else None
    if kind is None:
        raise JourneyDataError(
            f"{path}: cannot tell the format from the extension; use one of "
            f"{sorted(_FORMATS)}, text formats optionally compressed "
            f"({', '.join(_COMPRESSIONS)})"
        )
    if kind == "excel" and path.suffix.lower() in _COMPRESSIONS:
        raise JourneyDataError(
            f"{path}: a workbook is compressed already; decompress it to "
            f"{path.with_suffix('').name} and read that"
        )
    return kind


def _with_id_as_text(
    source: str | os.PathLike, id_column: str | None, options: dict[str, Any]
) -> dict[str, Any]:
    """Ask CSV and workbook readers for ids as text, so "007" keeps its zeros (validation
    decides)."""
    if is_database_url(source):
        return options
    path = Path(source)
    # A missing path or a folder is left to read_table, whose message names the problem.
    if not path.is_file() or format_of(path) not in ("csv", "excel") or "dtype" in options:
        return options
    return {**options, "dtype": {id_column or "customer_id": "str"}}


# pandas-style names accepted for CSV, and what each sets in pyarrow's reader.
_CSV_OPTIONS = (
    "sep",
    "delimiter",
    "encoding",
    "quotechar",
    "escapechar",
    "skiprows",
    "usecols",
    "na_values",
    "dtype",
)


def _read_csv(path: Path, options: dict[str, Any]) -> tuple[pd.DataFrame, list[str]]:
    unknown = sorted(set(options) - set(_CSV_OPTIONS))
    if unknown:
        raise JourneyParameterError(
            f"unsupported CSV read option(s) {unknown}; supported: {list(_CSV_OPTIONS)}"
        )
    encoding = options.get("encoding")
    if encoding is None:
        # Decided up front: pyarrow would type columns that are not UTF-8 as bytes, and fail
        # inside the malformed-line handler on a line that is not UTF-8.
        encoding, fallback = _text_encoding(path)
        if fallback:
            warnings.warn(
                f"{path} is not valid UTF-8; read it as {fallback} (pass encoding= to choose)",
                JourneyDataWarning,
                stacklevel=4,
            )
    header = _header_line(path, encoding, options.get("skiprows", 0))
    sep = options.get("sep", options.get("delimiter"))
    if sep is None:
        counts = {d: header.count(d) for d in _DELIMITERS}
        sep = max(counts, key=counts.get) if max(counts.values()) else ","
    names = {n.strip().strip('"') for n in header.split(sep)}
    types = {k: _arrow_type(v) for k, v in (options.get("dtype") or {}).items() if k in names}
    return _arrow_csv(path, options, sep, encoding, types)


def _text_encoding(path: Path) -> tuple[str, str | None]:
    """The encoding of a (possibly compressed) text file, and its name in words when it was
    a fallback from UTF-8 worth a warning.

    A byte-order mark decides; otherwise UTF-8 if the whole text decodes as such (checked
    in 16 MB blocks), else Windows-1252 if it has none of the bytes Windows-1252 leaves
    undefined, else Latin-1.
    """
    bom = _bom_encoding(path)
    if bom is not None:
        return bom, None
    decoder = codecs.getincrementaldecoder("utf-8")()
    with _open_stream(path) as stream:
        try:
            while block := stream.read(1 << 24):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            pass
        else:
            return "utf-8", None
    with _open_stream(path) as stream:
        while block := stream.read(1 << 24):
            if any(byte in block for byte in _CP1252_UNDEFINED):
                return "latin-1", "Latin-1"
    return "cp1252", "Windows-1252"


def _bom_encoding(path: Path) -> str | None:
    """The codec a (possibly compressed) file's byte-order mark names, if it has one."""
    with _open_stream(path) as stream:
        head = stream.read(4)
    return next((codec for bom, codec in _BOMS if head.startswith(bom)), None)


def _arrow_csv(
    path: Path, options: dict[str, Any], sep: str, encoding: str, types: dict[str, pa.DataType]
) -> tuple[pd.DataFrame, list[str]]:
    """Read with pyarrow's multithreaded CSV reader (which infers each column's type from the
    whole file), keeping lines with a wrong field count."""
    malformed: list[str] = []

    def keep_bad_line(row: Any) -> str:
        text = row.text if len(row.text) <= 200 else row.text[:200] + "..."
        malformed.append(
            f"expected {row.expected_columns} fields, found {row.actual_columns}: {text}"
        )
        return "skip"

    parse = pa_csv.ParseOptions(
        delimiter=sep,
        quote_char=options.get("quotechar", '"'),
        escape_char=options.get("escapechar", False),
        invalid_row_handler=keep_bad_line,
    )
    read = pa_csv.ReadOptions(encoding=encoding, skip_rows=int(options.get("skiprows", 0)))
    convert = pa_csv.ConvertOptions(
        column_types=types,
        include_columns=list(options.get("usecols", ())),
        null_values=[*_ARROW_NULLS, *options.get("na_values", ())],
        strings_can_be_null=True,
    )
    with _open_stream(path) as stream:
        table = pa_csv.read_csv(stream, read, parse, convert)
    first = table.column_names[:1]
    if first and first[0].startswith("\ufeff"):
        # A mark the codec keeps (an explicit "utf-16-le", say) is not part of the name.
        table = table.rename_columns([first[0].lstrip("\ufeff"), *table.column_names[1:]])
    return table.to_pandas(), malformed


def _header_line(path: Path, encoding: str, skiprows: int) -> str:
    """The first line of a (possibly compressed) text file."""
    with _open_stream(path) as stream:
        head = stream.read(1 << 16)
    lines = head.decode(encoding, errors="replace").lstrip("\ufeff").splitlines()[skiprows:]
    if not lines or not lines[0].strip():
        raise JourneyDataError(f"{path} has no header line")
    return lines[0]


def _open_stream(path: Path) -> Any:
    """A binary stream of the decompressed file: Arrow's codecs, or the standard library
    for .xz and .zip, which Arrow cannot read."""
    suffix = path.suffix.lower()
    if suffix == ".xz":
        return lzma.open(path, "rb")
    if suffix == ".zip":
        archive = zipfile.ZipFile(path)
        members = [m for m in archive.namelist() if not m.endswith("/")]
        if len(members) != 1:
            raise JourneyDataError(f"{path} holds {len(members)} files; expected exactly one")
        return archive.open(members[0])
    return pa.input_stream(str(path), compression="detect")


def _arrow_type(dtype: Any) -> pa.DataType:
    if dtype in (str, "str", "string", object, "object"):
        return pa.string()
    return pa.from_numpy_dtype(np.dtype(dtype))


def _read_json(path: Path, *, lines: bool, options: Mapping[str, Any]) -> pd.DataFrame:
    options = dict(options)
    codec = codecs.lookup(options.pop("encoding", None) or _bom_encoding(path) or "utf-8").name
    if lines and not options and codec == "utf-8":
        try:
            # pyarrow parses JSON lines in C++ threads and decompresses by extension.
            return pa_json.read_json(path).to_pandas()
        except pa.ArrowInvalid:
            pass  # mixed types in a column: pandas copes, more slowly
    # Decompressed here as for CSV, so .zst needs no extra package and .xz no pandas guess;
    # utf-8-sig reads past a byte-order mark, which pandas' JSON parser would choke on.
    codec = "utf-8-sig" if codec == "utf-8" else codec
    with _open_stream(path) as stream, io.TextIOWrapper(stream, encoding=codec) as text:
        # dtype=False: text stays text ("007" is not 7) and dates are left to validation, as
        # for CSV (pandas 3.1 deprecates convert_dates; dtype=False turns that off too).
        return pd.read_json(text, lines=lines, **{"dtype": False, **options})


# pandas-style names accepted for workbooks; ``sheet`` is pandas' ``sheet_name``.
_EXCEL_OPTIONS = ("sheet", "skiprows", "usecols", "na_values", "dtype")


def _read_excel(path: Path, options: Mapping[str, Any]) -> pd.DataFrame:
    """One sheet of a workbook, read by calamine (9x faster than openpyxl, see
    benchmarks/README.md)."""
    from python_calamine import CalamineError

    unknown = sorted(set(options) - set(_EXCEL_OPTIONS))
    if unknown:
        raise JourneyParameterError(
            f"unsupported workbook read option(s) {unknown}; supported: {list(_EXCEL_OPTIONS)}"
        )
    sheet = options.get("sheet", 0)
    rest = {k: v for k, v in options.items() if k != "sheet"}
    try:
        with pd.ExcelFile(path, engine="calamine") as book:
            names = book.sheet_names
            by_position = isinstance(sheet, int) and not isinstance(sheet, bool)
            if not (sheet in names or (by_position and 0 <= sheet < len(names))):
                raise JourneyDataError(
                    f"{path} has no sheet {sheet!r}; its sheets are {names} (pass sheet= "
                    f"with one of the names, or a position from 0)"
                )
            frame = pd.read_excel(book, sheet_name=sheet, **rest)
    except CalamineError as exc:
        raise JourneyDataError(
            f"could not read {path} as an Excel workbook ({exc}); open it in Excel and save "
            f"it as .xlsx, or export the sheet to CSV"
        ) from None
    if frame.columns.empty:
        name = names[sheet] if by_position else sheet
        raise JourneyDataError(f"sheet {name!r} of {path} is empty; pass sheet= to choose")
    return frame


def _other_sheets(source: str | os.PathLike, options: Mapping[str, Any]) -> str:
    """For a workbook whose sheet lacked the log's columns: which sheet was read and which
    others there are; empty for other files."""
    if is_database_url(source) or format_of(Path(source)) != "excel":
        return ""
    path = Path(source)
    with pd.ExcelFile(path, engine="calamine") as book:
        names = book.sheet_names
    if len(names) < 2:
        return ""
    sheet = options.get("sheet", 0)
    read = names[sheet] if isinstance(sheet, int) else sheet
    return f" (read sheet {read!r} of {names}; pass sheet= to read another)"


def add_malformed(report: ValidationReport, malformed: list[str]) -> ValidationReport:
    """``report`` with a file's malformed lines added to its quarantine and input count.

    Each line becomes a quarantined row with every column missing and the line in the
    reason, so clean + quarantine + duplicates still adds up to every line of the file.
    """
    q = report.quarantine
    start = int(q.index.max()) + 1 if len(q) and pd.api.types.is_integer_dtype(q.index) else 0
    start = max(start, report.n_input)
    rows = pd.DataFrame(
        {c: pd.Series(np.nan, index=range(len(malformed)), dtype=object) for c in q.columns},
    )
    rows[report.reason_column] = [f"{MALFORMED}: {line}" for line in malformed]
    rows.index = pd.RangeIndex(start, start + len(malformed))
    return replace(
        report,
        quarantine=pd.concat([q, rows]) if len(q) else rows,
        n_input=report.n_input + len(malformed),
    )


def write_table(frame: pd.DataFrame, path: str | os.PathLike) -> Path | str:
    """Write a frame to CSV, Parquet or JSON lines, chosen by the extension, or to a
    PostgreSQL table.

    Compressed CSV and JSON lines (``.csv.gz``, ...) are written reproducibly: the gzip
    header carries no timestamp, so the same frame always gives the same bytes. Parent
    folders are created.

    Parameters
    ----------
    frame : pandas.DataFrame
    path : str or path-like
        ``.parquet``/``.pq``, ``.csv``/``.tsv``, ``.jsonl``/``.ndjson``, optionally
        compressed; or ``postgresql://user@host:port/database/table``, a table replaced
        atomically (see :func:`journey_lib.io.database.write_postgres`).

    Returns
    -------
    pathlib.Path or str
        The path written; for a table, what was written in words (no password).

    Examples
    --------
    >>> import tempfile, pathlib, pandas as pd
    >>> out = write_table(pd.DataFrame({"a": [1]}), pathlib.Path(tempfile.mkdtemp()) / "t.csv.gz")
    >>> pd.read_csv(out)["a"].tolist()
    [1]
    """
    if is_database_url(path):
        return write_postgres(frame, str(path))
    path = Path(path)
    kind = format_of(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    compression: Any = "infer"
    if path.suffix.lower() == ".gz":
        compression = {"method": "gzip", "mtime": 0}
    if kind == "parquet":
        # Quarantined rows can mix types in one column; Parquet needs one type per column.
        mixed = {c: frame[c].astype("str") for c in frame.columns if frame[c].dtype == object}
        frame.assign(**mixed).to_parquet(path, index=False)
    elif kind == "csv":
        sep = "\t" if ".tsv" in [s.lower() for s in path.suffixes] else ","
        frame.to_csv(path, index=False, sep=sep, compression=compression)
    elif kind == "jsonl":
        frame.to_json(
            path, orient="records", lines=True, date_format="iso", compression=compression
        )
    else:
        raise JourneyDataError(f"{path}: write .jsonl for JSON; plain .json is read-only here")
    return path
