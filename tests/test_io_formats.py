"""Every shape of export a CRM or a shop writes, read to the same touchpoints.

Each file is written here by hand (bytes, encodings, compressions, workbooks) and every
expected value is worked out from the text next to it.
"""

from __future__ import annotations

import bz2
import datetime as dt
import gzip
import io
import json
import lzma
import warnings
import zipfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from engines import require_module

from journey_lib.errors import JourneyDataError, JourneyDataWarning, JourneyParameterError
from journey_lib.io import load_events, read_events, read_table

# Two customers, "007" with its zeros (so ids stay text), in winter (+01:00) and summer
# (+02:00) time; the notes need more than ASCII and Latin-1: a euro sign and curly quotes.
ROWS = [
    ("007", "2024-03-10T01:30:00+01:00", "view", "e-mail", "café €"),
    ("7", "2024-07-10T01:30:00+02:00", "buy", "", "“quoted”"),
]
HEADER = ("customer_id", "timestamp", "event", "channel", "note")
IDS = ["007", "7"]
TIMES = [pd.Timestamp("2024-03-10 00:30", tz="UTC"), pd.Timestamp("2024-07-09 23:30", tz="UTC")]
NOTES = ["café €", "“quoted”"]


def text(sep: str = ",", newline: str = "\n") -> str:
    lines = [sep.join(HEADER), *(sep.join(row) for row in ROWS)]
    return newline.join(lines) + newline


def zstd(data: bytes) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.CompressedOutputStream(sink, "zstd") as stream:
        stream.write(data)
    return sink.getvalue().to_pybytes()


def zipped(data: bytes, member: str = "export.csv") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(member, data)
    return buffer.getvalue()


COMPRESSORS = {
    "": lambda data: data,
    ".gz": lambda data: gzip.compress(data, mtime=0),
    ".bz2": bz2.compress,
    ".xz": lzma.compress,
    ".zst": zstd,
    ".zip": zipped,
}


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def quiet(source, **options):
    """read_events, failing on any warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return read_events(source, **options)


def assert_the_two_rows(clean: pd.DataFrame) -> None:
    assert clean.columns[0] == "customer_id"
    assert clean["customer_id"].tolist() == IDS
    assert clean["timestamp"].tolist() == TIMES
    assert clean["event"].tolist() == ["view", "buy"]
    assert clean["channel"].iloc[0] == "e-mail" and pd.isna(clean["channel"].iloc[1])
    assert clean["note"].tolist() == NOTES


def data_error(source, *fragments: str, **options) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", JourneyDataWarning)
        with pytest.raises(JourneyDataError) as info:
            load_events(source, **options)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, message
    return message


# --------------------------------------------------------------------------- delimited text


@pytest.mark.parametrize("compression", list(COMPRESSORS))
@pytest.mark.parametrize("sep", [",", ";", "\t", "|"], ids=["comma", "semicolon", "tab", "pipe"])
def test_any_delimiter_in_any_compression(tmp_path, sep, compression):
    name = "export." + ("tsv" if sep == "\t" else "csv") + compression
    path = write(tmp_path, name, COMPRESSORS[compression](text(sep).encode("utf-8")))
    assert_the_two_rows(quiet(path).clean)


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [
        ("utf-8", b""),
        ("utf-8", b"\xef\xbb\xbf"),
        ("utf-16", b""),  # Python's utf-16 writes the byte-order mark itself
        ("utf-16-be", b"\xfe\xff"),
        ("utf-16-le", b"\xff\xfe"),
        ("utf-32", b""),
    ],
    ids=["utf8", "utf8-bom", "utf16", "utf16be-bom", "utf16le-bom", "utf32"],
)
@pytest.mark.parametrize("compression", ["", ".gz"])
def test_unicode_encodings_are_read_without_a_warning(tmp_path, encoding, prefix, compression):
    data = COMPRESSORS[compression](prefix + text(";").encode(encoding))
    clean = quiet(write(tmp_path, "export.csv" + compression, data)).clean
    # A byte-order mark in the first name would hide customer_id: it would not be found,
    # or not be read as text, and "007" would become 7.
    assert_the_two_rows(clean)


def test_excel_unicode_text_export(tmp_path):
    # Excel's "Save as Unicode text": UTF-16 little-endian with a mark, tabs, CRLF, .txt.
    data = b"\xff\xfe" + text("\t", "\r\n").encode("utf-16-le")
    clean = quiet(write(tmp_path, "Export.txt", data)).clean
    assert_the_two_rows(clean)
    assert clean["note"].str.contains("\r").sum() == 0


def test_windows_1252_text_is_read_as_such_with_a_warning(tmp_path):
    path = write(tmp_path, "export.csv", text().encode("cp1252"))
    assert b"\x80" in path.read_bytes() and b"\x93" in path.read_bytes()  # € and “
    with pytest.warns(JourneyDataWarning, match="not valid UTF-8; read it as Windows-1252"):
        clean = read_events(path).clean
    assert_the_two_rows(clean)


def test_bytes_windows_1252_leaves_undefined_are_read_as_latin_1(tmp_path):
    # 0x81 is undefined in Windows-1252, so only Latin-1 reads this without losing a byte.
    data = b"customer_id,timestamp,event,note\n007,2024-01-01,view,caf\xe9 \x81\n"
    path = write(tmp_path, "export.csv", data)
    with pytest.warns(JourneyDataWarning, match="read it as Latin-1"):
        clean = read_events(path).clean
    assert clean["note"].tolist() == ["café \x81"]
    assert clean["customer_id"].tolist() == ["007"]


def test_an_explicit_encoding_that_keeps_the_mark_does_not_name_a_column(tmp_path):
    # "utf-16-le" (unlike "utf-16") leaves the mark in the text; it is not part of the name.
    data = b"\xff\xfe" + text().encode("utf-16-le")
    path = write(tmp_path, "export.csv", data)
    frame, malformed = read_table(path, encoding="utf-16-le")
    assert list(frame.columns) == list(HEADER) and malformed == []
    assert_the_two_rows(quiet(path, encoding="utf-16-le").clean)


def test_names_with_colons_and_spaces(tmp_path):
    # A process-mining export (XES names) and a CRM's spaced, quoted names.
    data = (
        '"Customer ID";"case:concept:name";"time:timestamp";"concept:name";"org:resource"\n'
        '"007";"case-1";"2011-10-11 13:45:40.276000+02:00";"Confirmation";"Resource 21"\n'
        '"7";"case-2";"2011-12-06 13:41:31.788000+01:00";"T02 Check";""\n'
    )
    path = write(tmp_path, "process.csv", data.encode("utf-8"))
    mapping = {"Customer ID": "customer_id", "time:timestamp": "timestamp", "concept:name": "event"}
    clean = quiet(path, columns=mapping).clean
    assert clean["customer_id"].tolist() == ["007", "7"]
    assert clean["timestamp"].tolist() == [
        pd.Timestamp("2011-10-11 11:45:40.276", tz="UTC"),
        pd.Timestamp("2011-12-06 12:41:31.788", tz="UTC"),
    ]
    assert clean["case:concept:name"].tolist() == ["case-1", "case-2"]
    assert clean["org:resource"].iloc[0] == "Resource 21" and pd.isna(clean["org:resource"][1])
    # Unmapped, the spaced name is the suggestion.
    data_error(path, "Did you mean columns={'Customer ID': 'customer_id'")


def test_epoch_columns_in_a_csv(tmp_path):
    data = (
        "customer_id,timestamp,event,seen_ms\n"
        "1,1704067200,view,1704067200000\n"
        "2,1704070800.5,buy,1704070800500\n"
    )
    clean = quiet(write(tmp_path, "epochs.csv", data.encode())).clean
    assert clean["timestamp"].tolist() == [
        pd.Timestamp("2024-01-01 00:00", tz="UTC"),
        pd.Timestamp("2024-01-01 01:00:00.5", tz="UTC"),
    ]
    assert pd.to_datetime(clean["seen_ms"], unit="ms", utc=True).tolist() == (
        clean["timestamp"].tolist()
    )


def test_an_epoch_beside_junk_is_read_and_the_junk_quarantined(tmp_path):
    # "soon" makes the reader keep the column as text; the epoch is still an epoch.
    data = "customer_id,timestamp,event\n1,1704067200000,view\n2,soon,buy\n"
    report = read_events(write(tmp_path, "epochs.csv", data.encode()))
    assert report.clean["timestamp"].tolist() == [pd.Timestamp("2024-01-01", tz="UTC")]
    assert report.quarantine["reason"].tolist() == ["unparseable timestamp"]
    assert report.quarantine["timestamp"].tolist() == ["soon"]


# --------------------------------------------------------------------------- JSON, Parquet


def json_lines(rows: list[dict]) -> bytes:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode()


RECORDS = [dict(zip(HEADER, row, strict=True)) for row in ROWS]


@pytest.mark.parametrize("compression", list(COMPRESSORS))
def test_json_lines_in_any_compression(tmp_path, compression):
    path = write(
        tmp_path, "export.jsonl" + compression, COMPRESSORS[compression](json_lines(RECORDS))
    )
    assert_the_two_rows(quiet(path).clean)


@pytest.mark.parametrize("compression", list(COMPRESSORS))
def test_json_lines_mixing_types_in_any_compression(tmp_path, compression):
    # An epoch in milliseconds among ISO times, a number among text ids: Arrow refuses the
    # column, pandas reads it, without a compression package of its own.
    rows = [dict(RECORDS[0]), {**RECORDS[1], "customer_id": 7, "timestamp": 1720567800000}]
    data = COMPRESSORS[compression](b"\xef\xbb\xbf" + json_lines(rows))
    clean = quiet(write(tmp_path, "export.ndjson" + compression, data)).clean
    assert clean["customer_id"].tolist() == IDS
    assert clean["timestamp"].tolist() == TIMES  # 1720567800000 ms is 2024-07-09 23:30 UTC
    assert clean["note"].tolist() == NOTES


def test_a_json_array_in_utf_16(tmp_path):
    data = json.dumps(RECORDS, ensure_ascii=False).encode("utf-16")
    assert_the_two_rows(quiet(write(tmp_path, "export.json", data)).clean)


def test_parquet_with_zoned_and_epoch_times(tmp_path):
    frame = pd.DataFrame(
        {
            "customer_id": IDS,
            "timestamp": pd.Series(TIMES).dt.tz_convert("Europe/Paris"),
            "event": ["view", "buy"],
            "channel": ["e-mail", None],
            "note": NOTES,
        }
    )
    frame.to_parquet(tmp_path / "zoned.parquet")
    assert_the_two_rows(quiet(tmp_path / "zoned.parquet").clean)
    epochs = frame.assign(timestamp=[1710030600, 1720567800])  # the same two instants
    epochs.to_parquet(tmp_path / "epochs.pq")
    assert_the_two_rows(quiet(tmp_path / "epochs.pq").clean)


# --------------------------------------------------------------------------- workbooks


def workbook(path: Path, sheets: dict[str, list[list]]) -> Path:
    openpyxl = require_module("openpyxl", "openpyxl writes the test workbooks")
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


EXPORT = [
    ["Customer ID", "time:timestamp", "Event Name", "channel", "value"],
    ["007", dt.datetime(2024, 3, 10, 0, 30), "view", "e-mail", None],  # a date-time cell
    [7, "2024-07-10T01:30:00+02:00", "buy", None, 19.9],  # a number; zoned text
    [12, 1704067200, "buy", "store", "5"],  # an epoch; an amount typed as text
]
MAPPING = {"Customer ID": "customer_id", "time:timestamp": "timestamp", "Event Name": "event"}


@pytest.mark.parametrize("extension", [".xlsx", ".xlsm"])
def test_a_workbook_export(tmp_path, extension):
    path = workbook(tmp_path / f"export{extension}", {"Touchpoints": EXPORT, "Notes": [["x"]]})
    clean = quiet(path, columns=MAPPING).clean
    # Text ids keep their zeros, numbers become the same text: "007", "7" and "12" differ.
    assert clean["customer_id"].tolist() == ["007", "12", "7"]
    assert clean["timestamp"].tolist() == [
        TIMES[0],
        pd.Timestamp("2024-01-01", tz="UTC"),
        TIMES[1],
    ]
    assert clean["event"].tolist() == ["view", "buy", "buy"]
    assert clean["channel"].tolist()[:2] == ["e-mail", "store"] and pd.isna(clean["channel"][2])
    assert clean["value"].tolist() == [0.0, 5.0, 19.9]


def test_a_named_or_numbered_sheet(tmp_path):
    other = [["customer_id", "timestamp", "event"], ["a", "2024-01-01", "signup"]]
    path = workbook(tmp_path / "book.xlsx", {"Summary": [["total"], [3]], "Log": other})
    for sheet in ("Log", 1):
        clean = quiet(path, sheet=sheet).clean
        assert clean["customer_id"].tolist() == ["a"]
        assert clean["event"].tolist() == ["signup"]
    frame, malformed = read_table(path)  # the first sheet by default
    assert frame.to_dict("list") == {"total": [3]} and malformed == []
    data_error(
        path,
        f"{path}: missing required column(s)",
        "read sheet 'Summary' of ['Summary', 'Log']; pass sheet= to read another",
    )


@pytest.mark.parametrize("sheet", ["Data", 2, -1])
def test_a_sheet_that_is_not_there(tmp_path, sheet):
    path = workbook(tmp_path / "book.xlsx", {"Summary": [["total"]], "Log": EXPORT})
    data_error(path, str(path), f"has no sheet {sheet!r}", "['Summary', 'Log']", sheet=sheet)


def test_an_empty_sheet_and_a_header_only_sheet(tmp_path):
    path = workbook(tmp_path / "book.xlsx", {"Empty": [], "Header": [EXPORT[0]]})
    data_error(path, f"sheet 'Empty' of {path} is empty")
    data_error(path, str(path), "no data rows", "Customer ID", sheet="Header")


@pytest.mark.parametrize(
    "content",
    [b"customer_id,timestamp,event\n1,2024-01-01,view\n", b"PK\x03\x04" + b"\x00" * 60],
    ids=["csv-named-xlsx", "broken-zip"],
)
def test_an_unreadable_workbook(tmp_path, content):
    path = write(tmp_path, "export.xlsx", content)
    data_error(path, f"could not read {path} as an Excel workbook", "save it as .xlsx")


def test_unknown_workbook_options_are_named(tmp_path):
    path = workbook(tmp_path / "book.xlsx", {"Log": EXPORT})
    with pytest.raises(JourneyParameterError, match=r"unsupported workbook read option\(s\)"):
        read_table(path, sep=";")


@pytest.mark.parametrize(
    ("name", "fragments"),
    [
        ("export.xls", ["export.xls", "cannot tell the format", "'.xlsx'"]),
        ("export", ["export", "cannot tell the format"]),
        ("export.xlsx.gz", ["a workbook is compressed already", "decompress it to export.xlsx"]),
    ],
)
def test_files_whose_name_says_nothing_readable(tmp_path, name, fragments):
    path = write(tmp_path, name, b"customer_id,timestamp,event\n1,2024-01-01,view\n")
    data_error(path, *fragments)


def test_unknown_csv_options_are_named(tmp_path):
    path = write(tmp_path, "export.csv", text().encode())
    with pytest.raises(
        JourneyParameterError, match=r"unsupported CSV read option\(s\) \['sheet'\]"
    ):
        read_table(path, sheet="Log")
