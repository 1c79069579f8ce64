"""Touchpoints read from databases, and tables written back: PostgreSQL and DuckDB files.

A database is named as a file is, and its rows with ``table=`` or ``query=``:

* **PostgreSQL**, ``postgresql://user@host:port/database`` (``postgres://`` too), through
  ADBC's PostgreSQL driver (``adbc-driver-postgresql``, the ``database`` extra), which reads
  PostgreSQL's binary ``COPY`` stream straight into Arrow: :func:`journey_lib.read_table`
  on 1M and 10M rows took 0.50 and 0.67 times as long as ``COPY ... TO STDOUT`` as CSV into
  pandas, and SQLAlchemy with psycopg 5.3 times as long (benchmarks/README.md, "Reading
  from PostgreSQL"). The password
  comes from the URL, ``PGPASSWORD`` or a ``.pgpass`` file (``PGPASSFILE``), as every
  PostgreSQL program finds it (libpq's own rules, with the other ``PG*`` variables); what is
  said or recorded of a URL never holds it (:func:`redact`). A URL's path may name the
  table after the database, ``postgresql://host/database/events`` (``schema.table`` too).
* **DuckDB** database files, ``.duckdb`` or ``.ddb``, opened read-only.

Rows arrive as Arrow record batches (:meth:`DatabaseSource.batches`), so a table can be
streamed into a Parquet file a batch at a time (:meth:`DatabaseSource.snapshot`, which
``journey report`` reads once for every notebook) or into one pandas frame without a second
whole copy (:meth:`DatabaseSource.read`). Numbers that PostgreSQL or DuckDB keep as
decimals arrive as floats (as whole numbers when their scale is 0 and they fit in 64 bits),
dates as dates at midnight. :func:`write_postgres` replaces a table atomically: the rows go
into a new table, which takes the old one's name in the same transaction, so a failed or
killed write leaves the old table as it was.
"""

from __future__ import annotations

import binascii
import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..errors import JourneyDataError, JourneyParameterError

__all__ = [
    "DatabaseSource",
    "database_source",
    "is_database",
    "is_database_url",
    "redact",
    "write_postgres",
]

#: URL schemes read as PostgreSQL.
SCHEMES = ("postgresql", "postgres")
#: File extensions read as DuckDB databases.
DUCKDB_SUFFIXES = (".duckdb", ".ddb")
#: Seconds to wait for a PostgreSQL server to answer, unless the URL says otherwise
#: (libpq waits for ever by default: an address that drops packets would hang a run).
CONNECT_TIMEOUT = 10
#: Bytes of rows in each record batch read (the PostgreSQL driver's own default).
BATCH_BYTES = 16 << 20
#: The schemas of PostgreSQL's own catalogue, never a user's table.
_SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast")
_INSTALL = "pip install 'journey-lab[database]' (adbc-driver-postgresql)"


def is_database_url(source: Any) -> bool:
    """Whether ``source`` is a PostgreSQL URL (text starting ``postgresql://`` or
    ``postgres://``).

    Examples
    --------
    >>> is_database_url("postgresql://ana@db.example.com/crm"), is_database_url("log.csv")
    (True, False)
    """
    return (
        isinstance(source, str)
        and source.partition("://")[0].lower() in SCHEMES
        and ("://" in source)
    )


def is_database(source: Any) -> bool:
    """Whether ``source`` names a database: a PostgreSQL URL or a DuckDB file.

    Examples
    --------
    >>> is_database("warehouse.duckdb"), is_database("postgres://db/crm"), is_database("a.csv")
    (True, True, False)
    """
    if is_database_url(source):
        return True
    if isinstance(source, str | os.PathLike):
        return Path(source).suffix.lower() in DUCKDB_SUFFIXES
    return False


def redact(url: str) -> str:
    """A PostgreSQL URL without its password (in the user part or as ``password=``).

    The URL is taken apart as text, not by :mod:`urllib.parse`, which would cut a password
    holding an unencoded ``#``, ``/`` or ``?`` in the wrong place and show the rest.

    Examples
    --------
    >>> redact("postgresql://ana:s3cret@db.example.com:5432/crm?password=x&sslmode=require")
    'postgresql://ana@db.example.com:5432/crm?sslmode=require'
    >>> redact("postgresql://ana:pa#ss/?@db/crm")
    'postgresql://ana@db/crm'
    """
    scheme, user, _, rest = _url_parts(url)
    rest = re.sub(r"(?i)([?&])password=[^&]*(&|$)", r"\1", rest).replace("?&", "?")
    rest = rest.rstrip("?&")
    return f"{scheme}://{user + '@' if user else ''}{rest}"


def _url_parts(url: str) -> tuple[str, str, str, str]:
    """``scheme, user, password, rest`` of a PostgreSQL URL (rest: host, port, path and
    query). The user part ends at the URL's last ``@``: a password may hold ``@`` unencoded,
    and taking too much as the user part hides more, never shows a password."""
    scheme, _, after = url.partition("://")
    userinfo, at, rest = after.rpartition("@")
    if not at:
        return scheme, "", "", after
    user, _, password = userinfo.partition(":")
    return scheme, user, password, rest


def _scrubbed(text: str, url: str) -> str:
    """``text`` (what a server or libpq said) without the URL's password, as written or
    percent-decoded."""
    password = _url_parts(url)[2]
    for form in {password, unquote(password)} - {""}:
        text = text.replace(form, "***")
    return text


@dataclass(frozen=True)
class DatabaseSource:
    """Rows of a database: a table, or what one ``SELECT`` returns.

    Made by :func:`database_source`, which checks the arguments. ``location`` is the URL
    to connect to (password and all: it is never shown, not even in the repr) or the
    DuckDB file.
    """

    kind: str
    location: str = field(repr=False)
    table: str | None = None
    query: str | None = None

    @property
    def database(self) -> str:
        """The database as it may be shown: the URL without its password, or the file."""
        return redact(self.location) if self.kind == "postgresql" else self.location

    def describe(self) -> str:
        """The rows in words, fit to show and to record (no password).

        Examples
        --------
        >>> database_source("postgresql://ana:pw@db/crm", table="events").describe()
        'table events of postgresql://ana@db/crm'
        """
        what = f"table {self.table}" if self.table else "the query"
        return f"{what} of {self.database}"

    def record(self) -> dict[str, Any]:
        """What a manifest says of the rows: the database (no password), table or query."""
        out: dict[str, Any] = {"kind": self.kind, "database": self.database}
        out.update({"table": self.table} if self.table else {"query": self.query})
        return out

    @contextmanager
    def batches(self, batch_bytes: int = BATCH_BYTES) -> Iterator[pa.RecordBatchReader]:
        """The rows as a stream of Arrow record batches, decimals as numbers.

        Each batch holds about ``batch_bytes`` (PostgreSQL's driver sizes them by bytes;
        DuckDB's are sized by rows, taken as 64 bytes a row). The connection stays open
        while the stream is read.

        Raises
        ------
        JourneyDataError
            When the database cannot be reached or read (one line: what the server said),
            or the table is not there (the tables that are, listed).
        """
        if self.kind == "postgresql":
            opened = _postgres_batches(self, batch_bytes)
        else:
            opened = _duckdb_batches(self, max(1, batch_bytes // 64))
        with opened as reader:
            yield _plain_stream(reader)

    def read(self) -> pd.DataFrame:
        """All the rows as one pandas frame.

        The batches are gathered as Arrow's and handed to pandas column by column, each
        freed as it is converted, so the frame is the only whole copy at the end.

        Raises
        ------
        JourneyDataError
            As :meth:`batches`, and when there is no row.
        """
        with self.batches() as reader, _said(self):
            table = reader.read_all()
        self._check_rows(table.num_rows, table.schema)
        frame = table.to_pandas(self_destruct=True, split_blocks=True, date_as_object=False)
        del table
        return frame

    def snapshot(self, path: str | os.PathLike[str]) -> int:
        """Stream the rows into the Parquet file ``path``, a batch at a time; the rows.

        Raises
        ------
        JourneyDataError
            As :meth:`read`.
        """
        rows = 0
        with self.batches() as reader, _said(self):
            with pq.ParquetWriter(str(path), reader.schema) as writer:
                for batch in reader:
                    writer.write_batch(batch)
                    rows += batch.num_rows
            self._check_rows(rows, reader.schema)
        return rows

    def _check_rows(self, rows: int, schema: pa.Schema) -> None:
        if rows == 0:
            names = schema.names[:10]
            raise JourneyDataError(f"{self.describe()} returns no row (columns: {names})")


def database_source(
    source: str | os.PathLike[str], *, table: str | None = None, query: str | None = None
) -> DatabaseSource:
    """The rows ``table`` or ``query`` of the database ``source``, checked.

    Parameters
    ----------
    source : str or path-like
        ``postgresql://user@host:port/database`` (the table may follow the database,
        ``.../database/events``), or a DuckDB file (``.duckdb``, ``.ddb``).
    table : str, optional
        A table or view, ``schema.name`` too; a bare name is looked for in every schema.
    query : str, optional
        One ``SELECT`` whose rows are read.

    Returns
    -------
    DatabaseSource

    Raises
    ------
    JourneyParameterError
        Unless exactly one of ``table`` and ``query`` is given (the URL's table counts).

    Examples
    --------
    >>> rows = database_source("postgresql://ana@db:5432/crm/sales.events")
    >>> rows.table, rows.database
    ('sales.events', 'postgresql://ana@db:5432/crm')
    """
    if is_database_url(source):
        kind, location, in_url = "postgresql", *_split_table(str(source))
    else:
        kind, location, in_url = "duckdb", str(source), None
    if in_url and table and table != in_url:
        raise JourneyParameterError(
            f"{redact(str(source))} names the table {in_url!r} and table= says {table!r}; "
            f"name it once"
        )
    table = table or in_url
    where = redact(location) if kind == "postgresql" else location
    if bool(table) == bool(query):
        raise JourneyParameterError(
            f"{where} is a {'PostgreSQL' if kind == 'postgresql' else 'DuckDB'} database: "
            f"name the rows with table='events' or query='SELECT ...' (--table or --query "
            f"on the command line), one of them"
        )
    return DatabaseSource(kind, location, table or None, query or None)


def _split_table(url: str) -> tuple[str, str | None]:
    """A URL whose path is ``/database/table`` as the database's URL and the table
    (percent-decoded); other URLs as they are, with no table. Text operations keep the
    rest of the URL exactly as written (libpq reads its own escapes; an empty host, for a
    Unix socket, keeps its ``///``)."""
    scheme, user, password, rest = _url_parts(url)
    address, question, query = rest.partition("?")
    host, slash, path = address.partition("/")
    segments = [s for s in path.split("/") if s] if slash else []
    if len(segments) < 2:
        return url, None
    if len(segments) > 2:
        raise JourneyParameterError(
            f"{redact(url)}: expected .../DATABASE or .../DATABASE/TABLE after the host"
        )
    credentials = f"{user}{':' + password if password else ''}@" if user or password else ""
    database = f"{scheme}://{credentials}{host}/{segments[0]}{question}{query}"
    return database, unquote(segments[1])


# ---- PostgreSQL -----------------------------------------------------------------------


def _connect(url: str) -> Any:
    """An ADBC connection to ``url`` (a connect timeout added unless it has one)."""
    try:
        import adbc_driver_postgresql.dbapi as adbc
    except ImportError:
        raise JourneyDataError(f"reading or writing PostgreSQL needs {_INSTALL}") from None
    given = url
    # Appended as text: the URL's own escapes are libpq's to read (a round trip through
    # urllib would turn %20 into +). PGCONNECT_TIMEOUT, when set, is the user's choice.
    if "connect_timeout=" not in url and not os.environ.get("PGCONNECT_TIMEOUT"):
        url += f"{'&' if '?' in url else '?'}connect_timeout={CONNECT_TIMEOUT}"
    try:
        return adbc.connect(url)
    except adbc.Error as exc:
        said = _server_said(exc, given)
        raise JourneyDataError(
            f"could not connect to {redact(given)}: {said}{_hint(exc)}"
        ) from None


def _server_said(exc: BaseException, url: str) -> str:
    """What the server or libpq said, in one line, without the driver's prefixes (nor the
    statement it quotes) and without the password of ``url``, which libpq may quote."""
    text = str(exc).strip()
    text = re.sub(r"^[A-Z_]+: (\[libpq\] )?", "", text)
    text = re.sub(
        r"^(Failed to connect|Failed to prepare query|Failed to execute query)( '.*?')?: ",
        "",
        text,
        flags=re.DOTALL,
    )
    text = re.sub(r'^connection to server at "[^"]*", port \d+ failed: ', "", text)
    text = re.sub(r"^(FATAL|ERROR):\s+", "", text)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return _scrubbed(lines[0], url) if lines else type(exc).__name__


def _hint(exc: BaseException) -> str:
    text = str(exc)
    if "no password supplied" in text:
        return " (give it in the URL, in PGPASSWORD or in a .pgpass file)"
    if "password authentication failed" in text:
        return " (check the password in the URL, PGPASSWORD or .pgpass)"
    return ""


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@contextmanager
def _postgres_batches(source: DatabaseSource, batch_bytes: int) -> Iterator[pa.RecordBatchReader]:
    import adbc_driver_postgresql
    import adbc_driver_postgresql.dbapi as adbc

    connection = _connect(source.location)
    try:
        with connection.cursor() as cursor:
            hint = adbc_driver_postgresql.StatementOptions.BATCH_SIZE_HINT_BYTES.value
            cursor.adbc_statement.set_options(**{hint: str(int(batch_bytes))})
            if source.table:
                sql = f"SELECT * FROM {_postgres_table(cursor, source)}"
            else:
                sql = str(source.query)
            try:
                cursor.execute(sql)
                reader = cursor.fetch_record_batch()
            except adbc.Error as exc:
                raise JourneyDataError(
                    f"could not read {source.describe()}: {_server_said(exc, source.location)}"
                ) from None
            yield reader
    finally:
        connection.close()


def _postgres_table(cursor: Any, source: DatabaseSource) -> str:
    """The table's quoted, schema-qualified name: as PostgreSQL itself finds the name
    (a bare one along the search path, as a query would), else in the catalogue (a bare
    name in any schema, public first, and as PostgreSQL folds unquoted names, in any case
    when nothing matches exactly); a name not there is an error listing the tables."""
    name = str(source.table)
    schema, _, bare = name.rpartition(".")
    exact = f"{_quoted(schema)}.{_quoted(bare)}" if schema else _quoted(bare)
    cursor.execute(
        "SELECT n.nspname, c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
        "ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)",
        (exact,),
    )
    resolved = cursor.fetchall()
    if resolved:
        return f"{_quoted(resolved[0][0])}.{_quoted(resolved[0][1])}"
    # The catalogue itself, not information_schema: that leaves out materialized views.
    # Tables, views, materialized views, foreign and partitioned tables.
    cursor.execute(
        "SELECT n.nspname, c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
        "ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'v', 'm', 'f', 'p') AND n.nspname "
        f"NOT IN {tuple(_SYSTEM_SCHEMAS)} AND n.nspname NOT LIKE 'pg_temp%' "
        "ORDER BY n.nspname = 'public' DESC, 1, 2"
    )
    tables = cursor.fetchall()

    def matching(fold: Any) -> list[tuple[str, str]]:
        return [
            (s, t)
            for s, t in tables
            if fold(t) == fold(bare) and (not schema or fold(s) == fold(schema))
        ]

    found = matching(str) or matching(str.lower)
    if not found:
        listed = [t if s == "public" else f"{s}.{t}" for s, t in tables][:10]
        raise JourneyDataError(
            f"{redact(source.location)} has no table {name!r}; its tables: {listed}"
        )
    in_public = [pair for pair in found if pair[0] == "public"]
    if len(found) > 1 and not in_public:
        names = [f"{s}.{t}" for s, t in found]
        raise JourneyDataError(f"{name!r} is in several schemas ({names}); name one")
    table_schema, table_name = (in_public or found)[0]
    return f"{_quoted(table_schema)}.{_quoted(table_name)}"


def write_postgres(frame: pd.DataFrame, url: str) -> str:
    """Replace the table a URL names (``postgresql://.../database/table``) with ``frame``.

    The rows are copied (PostgreSQL's ``COPY``) into a new table of a name of their own;
    then, in the same transaction, the old table is dropped and the new one takes its name.
    Until the commit nobody sees the new rows; a failure, or a server killed midway,
    leaves the old table as it was and no new one behind. The table is replaced whole, so
    its indexes and grants go with it. Column types follow the frame's (text, bigint,
    double precision, boolean, timestamp with time zone, ...); the index is not written.

    Parameters
    ----------
    frame : pandas.DataFrame
    url : str
        ``postgresql://user@host:port/database/table`` (``schema.table`` too; the schema
        must exist). The password as for reading: URL, ``PGPASSWORD`` or ``.pgpass``.

    Returns
    -------
    str
        What was written, in words, without the password.

    Raises
    ------
    JourneyDataError
        When the server cannot be reached or refuses the write (one line: what it said).
    """
    from .._engine import arrow_table

    database, table = _split_table(url)
    if not table:
        raise JourneyParameterError(
            f"{redact(url)}: name the table to write after the database, "
            f"postgresql://host/DATABASE/TABLE"
        )
    schema, _, name = table.rpartition(".")
    data = arrow_table(frame)
    # Categories arrive as Arrow dictionaries, which the driver's COPY cannot write.
    data = pa.table(
        [c.cast(c.type.value_type) if pa.types.is_dictionary(c.type) else c for c in data.columns],
        names=data.column_names,
    )
    # A name of its own (within PostgreSQL's 63 bytes whatever the table's name), so that
    # two writers never meet before the rename.
    staged = f"journey_staged_{uuid.uuid4().hex[:16]}"
    import adbc_driver_postgresql.dbapi as adbc

    connection = _connect(database)
    try:
        with connection.cursor() as cursor:
            if not schema:
                # Every statement in one schema: an unqualified name would be created in
                # the search path's first schema but dropped wherever the old table is.
                cursor.execute("SELECT current_schema()")
                schema = cursor.fetchone()[0]
            cursor.adbc_ingest(staged, data, mode="create", db_schema_name=schema)
            cursor.execute(f"DROP TABLE IF EXISTS {_quoted(schema)}.{_quoted(name)}")
            cursor.execute(
                f"ALTER TABLE {_quoted(schema)}.{_quoted(staged)} RENAME TO {_quoted(name)}"
            )
        connection.commit()
    except adbc.Error as exc:
        raise JourneyDataError(
            f"could not write table {table} of {redact(database)}: {_server_said(exc, url)} "
            f"(nothing was changed)"
        ) from None
    finally:
        connection.close()
    return f"table {table} of {redact(database)}"


# ---- DuckDB ---------------------------------------------------------------------------


@contextmanager
def _duckdb_batches(source: DatabaseSource, batch_rows: int) -> Iterator[pa.RecordBatchReader]:
    import duckdb

    try:
        connection = duckdb.connect(source.location, read_only=True)
    except duckdb.Error as exc:
        raise JourneyDataError(
            f"could not read {source.location} as DUCKDB: {_first(exc)}"
        ) from None
    try:
        if source.table:
            tables = connection.sql(
                "SELECT table_schema, table_name FROM information_schema.tables"
            ).fetchall()
            known = {n for _, n in tables} | {f"{schema}.{n}" for schema, n in tables}
            if source.table not in known:
                listed = sorted(n for _, n in tables)[:10]
                raise JourneyDataError(
                    f"{source.location} has no table {source.table!r}; its tables: {listed}"
                )
            relation = connection.table(source.table)
        else:
            try:
                relation = connection.sql(str(source.query))
            except duckdb.Error as exc:
                raise JourneyDataError(
                    f"could not read {source.location} as DUCKDB: {_first(exc)}"
                ) from None
            if relation is None:
                raise JourneyParameterError("query= must be one SELECT that returns rows")
        # DuckDB 1.4 renamed fetch_record_batch (deprecated in 2.0) to to_arrow_reader.
        stream = getattr(relation, "to_arrow_reader", None) or relation.fetch_record_batch
        yield stream(batch_rows)
    finally:
        connection.close()


def _first(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@contextmanager
def _said(source: DatabaseSource) -> Iterator[None]:
    """Errors met while the rows stream in (a server gone midway, say), in one line."""
    try:
        yield
    except (pa.ArrowException, *driver_errors()) as exc:
        said = _server_said(exc, source.location)
        raise JourneyDataError(f"could not read {source.describe()}: {said}") from None


def driver_errors() -> tuple[type[BaseException], ...]:
    """The error classes of the database drivers installed (both are optional): DuckDB's
    and ADBC's."""
    errors: tuple[type[BaseException], ...] = ()
    for module, name in (("duckdb", "Error"), ("adbc_driver_manager", "Error")):
        try:
            errors += (getattr(__import__(module), name),)
        except ImportError:
            pass
    return errors


# ---- Arrow types fit for pandas ---------------------------------------------------------


def _plain_stream(reader: pa.RecordBatchReader) -> pa.RecordBatchReader:
    """``reader`` with decimals as numbers and drivers' own types as their plain storage."""
    schema = pa.schema([_plain_field(field) for field in reader.schema])
    if schema.equals(reader.schema):
        return reader
    batches = (_plain_batch(batch, schema) for batch in reader)
    return pa.RecordBatchReader.from_batches(schema, batches)


def _plain_batch(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    columns = [_as(column, field) for column, field in zip(batch.columns, schema, strict=True)]
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def _as(column: pa.Array, field: pa.Field) -> pa.Array:
    target = field.type
    if column.type == target:
        return column
    if isinstance(column.type, pa.BaseExtensionType):
        column = column.storage
    if pa.types.is_fixed_size_binary(column.type) and column.type.byte_width == 16:
        return _uuid_text(column)
    if _postgres_type(field) == "money":
        return pc.divide(pc.cast(column, pa.float64()), 100.0)
    return pc.cast(column, target)


#: Where a uuid's 32 hex digits go in its 36 characters (8-4-4-4-12, dashes between).
_UUID_DIGITS = np.array([i for i in range(36) if i not in (8, 13, 18, 23)])


def _uuid_text(column: pa.Array) -> pa.Array:
    """16-byte uuids as their canonical text, ``8-4-4-4-12`` lower-case hex digits: the
    bytes hex-encoded at once and the dashes put in by position, no Python per value."""
    size = len(column)
    start = column.offset * 16
    raw = np.frombuffer(column.buffers()[1], dtype=np.uint8)[start : start + size * 16]
    digits = np.frombuffer(binascii.hexlify(raw.tobytes()), dtype=np.uint8).reshape(size, 32)
    text = np.full((size, 36), ord("-"), dtype=np.uint8)
    text[:, _UUID_DIGITS] = digits
    values = text.view("S36").ravel().astype(str)
    return pa.array(values, type=pa.string(), mask=column.is_null().to_numpy(zero_copy_only=False))


def _plain_field(field: pa.Field) -> pa.Field:
    kind = field.type
    if pa.types.is_decimal(kind):
        whole = kind.scale == 0 and kind.precision <= 18
        return field.with_type(pa.int64() if whole else pa.float64())
    # PostgreSQL's numeric arrives as text (an opaque type); its precision and scale in
    # the field's metadata since ADBC 1.13. Its money arrives as whole cents.
    if _postgres_type(field) in ("numeric", "money"):
        whole = _postgres_type(field) == "numeric" and _whole_numeric(field)
        return field.with_type(pa.int64() if whole else pa.float64())
    # A uuid arrives as its 16 bytes: as text, it reads as DuckDB's and a CSV's do.
    if _postgres_type(field) == "uuid" or getattr(kind, "extension_name", "") == "arrow.uuid":
        return field.with_type(pa.string())
    if isinstance(kind, pa.BaseExtensionType):
        return field.with_type(kind.storage_type)
    return field


def _postgres_type(field: pa.Field) -> str | None:
    meta = field.metadata or {}
    value = meta.get(b"POSTGRESQL:type") or meta.get(b"ADBC:postgresql:typname")
    return value.decode() if value else None


def _whole_numeric(field: pa.Field) -> bool:
    """Whether a PostgreSQL ``numeric(p, 0)`` column with p <= 18 (its type modifier is
    ``(p << 16 | s) + 4``; an unconstrained numeric has none)."""
    raw = (field.metadata or {}).get(b"POSTGRESQL:typmod")
    typmod = int(raw) if raw else -1
    if typmod < 4:
        return False
    precision, scale = ((typmod - 4) >> 16) & 0xFFFF, (typmod - 4) & 0xFFFF
    return scale == 0 and precision <= 18
