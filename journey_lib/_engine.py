"""The few Narwhals helpers that engine-agnostic modules share: the only place that looks
at an engine's implementation.

Analytics functions take a touchpoint log of any engine, work on a Narwhals LazyFrame, and
hand back the kind they were given: :func:`lazy_events` opens, :func:`finish` closes. Time is
compared as integer microseconds since the Unix epoch (:func:`with_microseconds`), which every
engine handles alike; :class:`Calendar` numbers calendar periods on any engine. What time
means (durations, instants, period numbers and starts) is :mod:`journey_lib._time`.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import narwhals.stable.v2 as nw
import pandas as pd
from narwhals.typing import IntoFrame

from ._time import (
    DAY,
    EPOCH,
    EPOCH_NAIVE,
    calendar_number,
    days_from_march,
    first_day,
    march_year,
    period_number,
)
from .errors import JourneyDataError, JourneyParameterError

#: Names of the UTC time zone.
UTC_NAMES = frozenset(
    {"UTC", "Etc/UTC", "UCT", "Etc/UCT", "Universal", "Etc/Universal", "Zulu", "Etc/Zulu"}
)


def to_pandas(frame: IntoFrame, *, what: str = "events") -> pd.DataFrame:
    """Return ``frame`` as a pandas DataFrame, collecting lazy frames explicitly.

    pandas input is returned as is (copy-on-write makes that safe). Polars, DuckDB, PySpark
    and any other frame Narwhals understands is converted; a lazy frame is computed first.
    """
    if isinstance(frame, pd.DataFrame):
        return frame
    native = _narwhals(frame, what)
    if isinstance(native, nw.LazyFrame):
        native = native.collect()
    return native.to_pandas()


def open_parquet(path: Any, engine: str) -> Any:
    """The Parquet file ``path`` as a frame of ``engine``: read whole into pandas, a Polars
    LazyFrame scanning it, a DuckDB relation on a connection of its own (without the
    progress bar DuckDB draws for long queries, which a notebook shows as a widget), or a
    Spark DataFrame of :func:`spark_session`."""
    if engine == "pandas":
        return pd.read_parquet(path)
    if engine == "polars":
        import polars as pl

        return pl.scan_parquet(path)
    if engine == "spark":
        # A URI: a bare path would be looked for on the cluster's default file system.
        return spark_session().read.parquet(Path(path).resolve().as_uri())
    return _duckdb_connection().read_parquet(str(path))


def arrow_table(frame: pd.DataFrame) -> Any:
    """``frame`` as an Arrow table; a column mixing types Arrow cannot hold in one (numbers
    and text from a workbook, say) is kept as text."""
    import pyarrow as pa

    errors = (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError)
    try:
        return in_microseconds(pa.Table.from_pandas(frame, preserve_index=False))
    except errors:
        mixed = {}
        for name in frame.columns:
            try:
                pa.array(frame[name], from_pandas=True)
            except errors:
                mixed[name] = frame[name].astype("str").where(frame[name].notna())
        return in_microseconds(pa.Table.from_pandas(frame.assign(**mixed), preserve_index=False))


def in_microseconds(table: Any) -> Any:
    """The Arrow ``table`` with its times in microseconds, the unit every engine holds
    (Arrow's CSV reader and some Parquet files give nanoseconds, which Spark's Parquet
    reader refuses): a time finer than a microsecond is floored to it, as the log's own
    times are read (``as_unit("us")``; before 1970 too)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = []
    for field, column in zip(table.schema, table.columns, strict=True):
        if pa.types.is_timestamp(field.type) and field.type.unit == "ns":
            floored = pc.floor_temporal(column, unit="microsecond")
            column = floored.cast(pa.timestamp("us", field.type.tz))
        columns.append(column)
    fields = [f.with_type(c.type) for f, c in zip(table.schema, columns, strict=True)]
    return pa.Table.from_arrays(columns, schema=pa.schema(fields, metadata=table.schema.metadata))


def from_pandas(frame: pd.DataFrame, engine: str) -> Any:
    """The pandas ``frame`` as a frame of ``engine`` (lazy for Polars, DuckDB and Spark)."""
    if engine == "pandas":
        return frame
    table = arrow_table(frame)
    if engine == "polars":
        import polars as pl

        return pl.from_arrow(table).lazy()
    if engine == "spark":
        return spark_session().createDataFrame(table)
    return _duckdb_connection().from_arrow(table)


#: The environment variable naming the Spark master :func:`spark_session` starts a session
#: on (``local[2]``, ``spark://host:7077``, ``yarn``, ...); ``journey report --spark-master``
#: sets it for its notebooks.
SPARK_MASTER = "JOURNEY_SPARK_MASTER"
#: The master used when none is named: every core of this machine.
LOCAL_MASTER = "local[*]"


def spark_session() -> Any:
    """The Spark session a report's log is read into: the one already running in this
    process (a notebook on a cluster, say), or a new one on the master named by
    :data:`SPARK_MASTER` (:data:`LOCAL_MASTER` when unset).

    A new session reads times in UTC, as every engine here does, and has no web UI (each
    report kernel would take a port for one) and no progress bars. Unless
    ``SPARK_CONF_DIR`` names the user's own configuration, it logs errors only
    (``spark-log4j2.properties`` beside this module): Spark's default prints warnings and
    notices into every run's console. A session already running is used as it is, once
    checked.

    Raises
    ------
    JourneyParameterError
        When the session already running is on another master than :data:`SPARK_MASTER`
        names, or reads times in another zone than UTC (periods would shift).
    """
    from pyspark.errors import PySparkRuntimeError
    from pyspark.sql import SparkSession

    asked = os.environ.get(SPARK_MASTER)
    try:
        running = SparkSession.active()
    except PySparkRuntimeError:  # no session in this process
        running = None
    if running is not None:
        return _checked_session(running, asked)
    master = asked or LOCAL_MASTER
    builder = (
        SparkSession.builder.master(master)
        .appName("journey-lab")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
    )
    own_logging = not os.environ.get("SPARK_CONF_DIR")
    if own_logging:
        logging = Path(__file__).with_name("spark-log4j2.properties")
        builder = builder.config(
            "spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={logging.as_uri()}"
        )
    if master.startswith("local"):
        # Spark's 200 shuffle partitions suit a cluster; on one machine a report's hundreds
        # of small queries each pay for 200 tasks. A cluster keeps its own setting.
        cores = os.cpu_count() or 1
        builder = builder.config("spark.sql.shuffle.partitions", str(2 * cores))
    session = builder.getOrCreate()
    if own_logging:
        session.sparkContext.setLogLevel("ERROR")
    return session


def _checked_session(session: Any, asked: str | None) -> Any:
    """``session``, unless it is on another master than ``asked`` or not in UTC."""
    master = session.conf.get("spark.master", None)
    if asked and master and master != asked:
        raise JourneyParameterError(
            f"a Spark session on {master} is already running in this process, and "
            f"{SPARK_MASTER} asks for {asked}; stop it first (spark.stop()) or ask for {master}"
        )
    zone = session.conf.get("spark.sql.session.timeZone", None)
    if zone not in UTC_NAMES:
        raise JourneyParameterError(
            f"the Spark session running in this process reads times in {zone}, and "
            f"journey-lab counts periods in UTC: "
            f'spark.conf.set("spark.sql.session.timeZone", "UTC") first'
        )
    return session


#: Environment variables that cap the memory of each DuckDB connection opened here
#: (DuckDB's own setting, such as ``2GB``) and name the folder it spills to beyond that;
#: ``journey report`` sets both for its notebooks.
DUCKDB_MEMORY, DUCKDB_SPILL = "JOURNEY_DUCKDB_MEMORY", "JOURNEY_DUCKDB_SPILL"


def _duckdb_connection() -> Any:
    import duckdb

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    if limit := os.environ.get(DUCKDB_MEMORY):
        try:
            con.execute("SET memory_limit = ?", [limit])
        except duckdb.Error as exc:
            raise JourneyParameterError(
                f"{DUCKDB_MEMORY}={limit!r} is no DuckDB memory size (such as 2GB): {exc}"
            ) from None
    if spill := os.environ.get(DUCKDB_SPILL):
        # A folder of each connection's own, which DuckDB makes and removes: its spill files
        # are named alike in every instance, so two sharing a folder would overwrite, and
        # on closing delete, each other's.
        os.makedirs(spill, exist_ok=True)
        own = os.path.join(spill, f"{os.getpid()}-{uuid.uuid4().hex[:12]}")
        con.execute("SET temp_directory = ?", [own])
    return con


def lazy_events(
    events: IntoFrame,
    *,
    required: Iterable[str] = ("customer_id", "timestamp", "event"),
    what: str = "events",
) -> tuple[nw.LazyFrame, bool]:
    """Open a frame of any engine as a Narwhals LazyFrame, checking its columns.

    Returns the LazyFrame and whether the input was eager, for :func:`finish`. A pandas or
    eager Polars frame becomes lazy here and is collected again at the end.

    Raises
    ------
    JourneyDataError
        When a required column is missing, or ``timestamp`` is not a datetime column (the
        message points to :func:`journey_lib.load_events`, which parses times).
    """
    if isinstance(events, pd.DataFrame):
        events = _readable_zone(events)
    frame = _narwhals(events, what)
    schema = frame.collect_schema()
    missing = [c for c in required if c not in schema]
    if missing:
        raise JourneyDataError(
            f"{what} lack required column(s) {missing}; they have {list(schema)}. "
            f"Load or validate the log first (journey_lib.load_events / validate_events)"
        )
    if "timestamp" in schema and not isinstance(schema["timestamp"], nw.Datetime):
        raise JourneyDataError(
            f"{what}: 'timestamp' is {schema['timestamp']}, not a datetime; load the log with "
            f"journey_lib.load_events (or validate_events) so times are parsed to UTC"
        )
    eager = isinstance(frame, nw.DataFrame)
    return (frame.lazy() if eager else frame), eager


def finish(result: nw.LazyFrame, eager: bool) -> Any:
    """The result as the kind of frame the caller gave: collected when the input was eager
    (pandas results get a fresh RangeIndex), left lazy otherwise."""
    if not eager:
        return result.to_native()
    native = result.collect().to_native()
    return native.reset_index(drop=True) if isinstance(native, pd.DataFrame) else native


def with_microseconds(frame: nw.LazyFrame, name: str, column: str = "timestamp") -> nw.LazyFrame:
    """``frame`` with a column ``name``: the datetime ``column`` as integer microseconds
    since 1970-01-01 UTC.

    Zoned times count from the UTC epoch, naive ones as UTC wall clock. DuckDB computes it
    with its own ``epoch_us``, twenty times faster than the duration arithmetic Narwhals
    would write there (which casts through ICU); Spark-like engines add up seconds and
    microseconds (see :func:`_microseconds`).
    """
    impl = frame.implementation
    if impl.is_duckdb():
        us = f"epoch_us({_quoted(column)}) AS {_quoted(name)}"
        return _projected(frame, f"* REPLACE ({us})" if name in frame.columns else f"*, {us}")
    expr = nw.col(column)
    spark = impl.is_spark_like()
    zone = None if spark else getattr(frame.collect_schema()[column], "time_zone", None)
    if zone is not None:
        if zone not in UTC_NAMES:
            expr = expr.dt.convert_time_zone("UTC")
        expr = expr.dt.replace_time_zone(None)
    return frame.with_columns(_microseconds(expr, spark=spark).alias(name))


def in_utc(frame: nw.LazyFrame, column: str = "timestamp") -> nw.LazyFrame:
    """``frame`` with zoned times in ``column`` converted to UTC (the same instants), so
    calendar periods are UTC periods whatever zone the log was given in; naive times, and
    UTC times except on DuckDB, are left as they are.

    On DuckDB zoned times (UTC ones too) become naive UTC wall-clock times instead: a
    DuckDB timestamp with time zone is read in the *connection's* zone by every calendar
    function (the machine's zone unless set), so periods would move with the connection.
    The wall clock is ``make_timestamp(epoch_us(t))``, exact, and plain arithmetic where
    the zone's conversions go through ICU. Results built from it get their zone back with
    :func:`zoned_again`.
    """
    zone = getattr(frame.collect_schema()[column], "time_zone", None)
    if frame.implementation.is_duckdb():
        if zone is None:
            return frame
        name = _quoted(column)
        return _projected(frame, f"* REPLACE (make_timestamp(epoch_us({name})) AS {name})")
    if zone is None or zone in UTC_NAMES:
        return frame
    return frame.with_columns(nw.col(column).dt.convert_time_zone("UTC"))


def zoned_again(result: nw.LazyFrame, log: nw.LazyFrame, column: str = "timestamp") -> nw.LazyFrame:
    """``result``, computed from ``in_utc(log)``, with the UTC zone given back to its
    datetime columns where :func:`in_utc` took it away: on DuckDB, for a log whose
    ``column`` is zoned, every naive datetime column of ``result`` is read as UTC wall clock
    (``timezone('UTC', t)``: an instant, the same on any connection). Other engines, and
    naive logs, are left as they are.

    Examples
    --------
    On a connection in New York's zone, a month starts at midnight UTC all the same:

    >>> import duckdb, narwhals.stable.v2 as nw
    >>> con = duckdb.connect()
    >>> _ = con.execute("SET TimeZone = 'America/New_York'")
    >>> log = nw.from_native(con.sql("SELECT TIMESTAMPTZ '2024-07-01 02:00+00' AS timestamp"))
    >>> months = in_utc(log).select(nw.col("timestamp").dt.truncate("1mo"))
    >>> _ = con.execute("SET TimeZone = 'UTC'")
    >>> zoned_again(months, log).to_native().fetchall()[0][0].isoformat()
    '2024-07-01T00:00:00+00:00'
    """
    if not result.implementation.is_duckdb():
        return result
    if getattr(log.collect_schema()[column], "time_zone", None) is None:
        return result
    naive = [
        _quoted(name)
        for name, dtype in result.collect_schema().items()
        if isinstance(dtype, nw.Datetime) and dtype.time_zone is None
    ]
    if not naive:
        return result
    zoned = ", ".join(f"timezone('UTC', {c}) AS {c}" for c in naive)
    return _projected(result, f"* REPLACE ({zoned})")


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _projected(frame: nw.LazyFrame, projection: str) -> nw.LazyFrame:
    """A DuckDB ``frame`` through one projection of SQL text (on its own connection)."""
    return nw.from_native(frame.to_native().project(projection))


def unpivot(
    frame: nw.LazyFrame,
    on: list[str],
    *,
    index: list[str] | None,
    variable_name: str,
    value_name: str,
) -> nw.LazyFrame:
    """``frame.unpivot(...)`` that also works on relations of any DuckDB connection.

    Narwhals unpivots DuckDB relations through the default connection, which cannot read
    a relation of another; here DuckDB's UNPIVOT runs on the relation's own connection.
    """
    if not frame.implementation.is_duckdb():
        return frame.unpivot(on=on, index=index, variable_name=variable_name, value_name=value_name)

    kept = ", ".join(_quoted(c) for c in [*(index or []), variable_name, value_name])
    source = "_jl_unpivot_source"
    query = (
        f"SELECT {kept} FROM (UNPIVOT {source} ON {', '.join(_quoted(c) for c in on)} "
        f"INTO NAME {_quoted(variable_name)} VALUE {_quoted(value_name)})"
    )
    return nw.from_native(frame.to_native().query(source, query))


def has_as_of_joins(frame: nw.LazyFrame) -> bool:
    """Whether ``frame``'s engine joins as of a key (:func:`join_asof_forward`): pandas,
    Polars and DuckDB; not Spark."""
    impl = frame.implementation
    return impl.is_pandas() or impl.is_polars() or impl.is_duckdb()


def join_asof_forward(
    left: nw.LazyFrame, right: nw.LazyFrame, *, left_on: str, right_on: str, by: str
) -> nw.LazyFrame:
    """``left.join_asof(right, ..., strategy="forward")`` that also works on relations of any
    DuckDB connection: each ``left`` row with the first ``right`` row of the same ``by``
    whose ``right_on`` is at least its ``left_on`` (missing when there is none).

    pandas and Polars join frames sorted by the keys, which they are here; DuckDB's ASOF
    JOIN sorts for itself. Narwhals runs DuckDB's as-of join through the default
    connection, which cannot read a relation of another; here ``ASOF LEFT JOIN`` runs on
    ``left``'s own connection, with ``right``'s query inlined (both sides must come from
    that connection).

    Examples
    --------
    On a connection of one's own:

    >>> import duckdb, narwhals.stable.v2 as nw
    >>> con = duckdb.connect()
    >>> left = nw.from_native(con.sql("FROM (VALUES (1, 10), (1, 30), (2, 5)) t(c, k)"))
    >>> right = nw.from_native(con.sql("FROM (VALUES (1, 12), (1, 25)) t(c, r)"))
    >>> joined = join_asof_forward(left, right, left_on="k", right_on="r", by="c")
    >>> sorted(joined.to_native().fetchall(), key=str)
    [(1, 10, 12), (1, 30, None), (2, 5, None)]
    """
    if not left.implementation.is_duckdb():
        with warnings.catch_warnings():
            # Polars cannot check sortedness within groups; both sides are sorted here.
            warnings.filterwarnings("ignore", "Sortedness of columns cannot be checked")
            return left.sort(left_on).join_asof(
                right.sort(right_on), left_on=left_on, right_on=right_on, by=by, strategy="forward"
            )

    kept = [f"_jl_left.{_quoted(c)}" for c in left.columns]
    kept += [f"_jl_right.{_quoted(c)}" for c in right.columns if c != by]
    query = (
        f"SELECT {', '.join(kept)} FROM _jl_left ASOF LEFT JOIN "
        f"({right.to_native().sql_query()}) AS _jl_right "
        f"ON _jl_left.{_quoted(by)} = _jl_right.{_quoted(by)} "
        f"AND _jl_left.{_quoted(left_on)} <= _jl_right.{_quoted(right_on)}"
    )
    return nw.from_native(left.to_native().query("_jl_left", query))


def on_engine_of(frame: nw.LazyFrame, table: Any) -> nw.LazyFrame:
    """``table`` (a frame of any engine) as a LazyFrame of ``frame``'s engine: the same
    Polars, pandas, DuckDB connection (:func:`on_connection_of`) or Spark session.

    Raises
    ------
    JourneyParameterError
        For an engine it cannot be brought to (a Spark frame without its session), or a
        DuckDB connection that cannot read it.
    """
    if isinstance(table, (nw.DataFrame, nw.LazyFrame)):
        table = table.to_native()
    native = nw.from_native(table)
    impl = frame.implementation
    if native.implementation == impl:
        return native.lazy() if isinstance(native, nw.DataFrame) else native
    if impl.is_polars():
        import polars as pl

        return nw.from_native(pl.from_arrow(native.lazy().collect().to_arrow())).lazy()
    if impl.is_pandas():
        return nw.from_native(native.lazy().collect().to_pandas()).lazy()
    if impl.is_duckdb():
        return nw.from_native(on_connection_of(frame.to_native(), table))
    if impl.is_spark_like() and hasattr(frame.to_native(), "sparkSession"):
        pandas = native.lazy().collect().to_pandas()
        return nw.from_native(frame.to_native().sparkSession.createDataFrame(pandas))
    raise JourneyParameterError(
        f"the customer table is {native.implementation} but the log is {impl}; give the "
        "table as a frame of the log's own engine (a DuckDB relation of the same connection, "
        "a Spark frame of the same session)"
    )


def on_connection_of(log: Any, table: Any) -> Any:
    """``table`` (a frame of any engine) as a DuckDB relation of ``log``'s connection,
    whichever it is; a :class:`JourneyParameterError` where DuckDB cannot read it there."""
    import duckdb

    _jl_table = nw.from_native(table).lazy().collect().to_arrow()
    default = duckdb.from_arrow(_jl_table)
    try:
        log.limit(0).cross(default.limit(0))  # a plan only: which connection is it?
    except duckdb.InvalidInputException:
        pass
    else:
        return default
    # Another connection: DuckDB's replacement scan reads the local Arrow table while the
    # query is bound (and keeps it), unless the connection has a table of that name or
    # replacement scans are off.
    check = (
        "SELECT current_setting('python_enable_replacements') AND NOT EXISTS (SELECT 1 FROM "
        "duckdb_tables() WHERE table_name = '_jl_table' UNION ALL SELECT 1 FROM "
        "duckdb_views() WHERE view_name = '_jl_table')"
    )
    if not log.query("_jl_log", check).fetchall()[0][0]:
        raise JourneyParameterError(
            "the table cannot be read onto the log's DuckDB connection (it has "
            "replacement scans off or a table named _jl_table); make the table on that "
            "connection (con.from_df(table)) and pass the relation"
        )
    return log.query("_jl_log", "SELECT * FROM _jl_table")


def money(schema: Any, column: str = "value") -> nw.Expr:
    """The log's ``value`` as Float64 with a missing one (null or NaN, or no column at all)
    read as 0, as the touchpoint log defines it; NaN is filled too because Polars, DuckDB
    and Spark keep NaN apart from null.

    Raises
    ------
    JourneyDataError
        When the column is there but not numeric.
    """
    if column not in schema:
        return nw.lit(0.0, dtype=nw.Float64())
    if not schema[column].is_numeric():
        raise JourneyDataError(
            f"{column!r} is {schema[column]}, not numeric; load the log with "
            f"journey_lib.load_events so values are parsed"
        )
    return nw.col(column).cast(nw.Float64).fill_nan(0.0).fill_null(0.0)


#: Sums that feed a model are kept in units of one over this (:func:`exact_terms`).
EXACT_PARTS = 1_000_000_000


def exact_terms(expr: nw.Expr, name: str) -> dict[str, nw.Expr]:
    """Two Float64 columns, ``{name}_whole`` and ``{name}_parts``, whose sums give the sum
    of ``expr`` to the nearest billionth, the same to the bit in every engine: sum both
    in the aggregation, then join them with :func:`exact_mean` in the engine or
    :func:`exact_sum` once collected.

    A float sum depends on the order its terms are added in, which differs between
    engines (and between runs of a parallel one): a churn model trained on such totals
    can split differently on a last-bit difference. Whole units (``floor``) and the
    billionths of the rest (rounded half up) are whole numbers, whose float sums are
    exact in any order while they stay below 2**53: up to 9 million terms a group. A value
    of 2**52 or more (a whole number already), an infinity or a NaN is kept whole as it
    is, so the sum is what a float sum gives.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = nw.from_native(pd.DataFrame({"c": ["a", "a", "b"], "v": [12.34, -0.5, 4e-10]}))
    >>> sums = (
    ...     frame.with_columns(**exact_terms(nw.col("v"), "v"))
    ...     .group_by("c").agg(nw.col("v_whole", "v_parts").sum(), nw.len().alias("n"))
    ...     .with_columns(exact_mean("v", nw.col("n")).alias("mean")).sort("c").to_native()
    ... )
    >>> exact_sum(sums, "v").tolist(), sums["mean"].tolist()
    ([11.84, 0.0], [5.92, 0.0])
    """
    # Compared as a float: NaN and the infinities are not small, nor is a missing value.
    small = expr.abs() < float(2**52)
    # Spark's floor is a 64-bit integer; every engine's is a float here.
    whole = nw.when(small).then(expr.floor().cast(nw.Float64)).otherwise(expr)
    parts = nw.when(small).then(((expr - whole) * EXACT_PARTS + 0.5).floor()).otherwise(0.0)
    return {f"{name}_whole": whole, f"{name}_parts": parts.cast(nw.Float64)}


def exact_mean(name: str, count: nw.Expr) -> nw.Expr:
    """The summed :func:`exact_terms` of ``name`` over ``count`` terms, rounded once: the
    billionths over the count's billionths. A division by a column, not by a number:
    Polars divides a column by a number as a product with its reciprocal, which is not
    always the quotient's nearest float."""
    billionths = nw.col(f"{name}_whole") * EXACT_PARTS + nw.col(f"{name}_parts")
    return billionths / (count.cast(nw.Float64) * EXACT_PARTS)


def exact_sum(frame: pd.DataFrame, name: str) -> pd.Series:
    """The sum of :func:`exact_terms`' two summed columns for ``name`` in a collected
    ``frame``, rounded once (exact while the total stays within 9 million), as ``name``."""
    billionths = frame[f"{name}_whole"] * EXACT_PARTS + frame[f"{name}_parts"]
    return (billionths / EXACT_PARTS).rename(name)


#: The column :func:`small_range` numbers.
DIGIT = "_jl_digit"
# count_up counts in base-_BASE digits: _LEVELS digits reach 100**3 - 1 (2,700 years of
# days), far beyond any log a datetime column can hold usefully.
_BASE = 100
_LEVELS = 3


def small_range(log: nw.LazyFrame, n: int) -> nw.LazyFrame:
    """A frame of one column, :data:`DIGIT` = 0, 1, ..., n - 1, on the engine of ``log``.

    Lazy on every engine: a list literal exploded on one row, the count of the first row of
    ``log`` (one row even for an empty log; reading it stops at the first row)."""
    return (
        log.head(1)
        .select(nw.len().alias("_jl_one"))
        .select(nw.lit(list(range(n)), dtype=nw.List(nw.Int64())).alias(DIGIT))
        .explode(DIGIT)
    )


def count_up(frame: nw.LazyFrame, upper: str, name: str, log: nw.LazyFrame) -> nw.LazyFrame:
    """Each row of ``frame`` repeated for ``name`` = 0, 1, ..., ``upper`` (none when upper
    is negative or missing), on the engine of ``log``: a period grid without a per-row loop.
    Base-100 digits, most significant first, are cross-joined on and pruned as they go, so
    rows never exceed 100 times the output."""
    digits = small_range(log, _BASE)
    out = frame.with_columns(nw.lit(0, dtype=nw.Int64()).alias(name))
    for level in reversed(range(_LEVELS)):
        out = (
            out.join(digits, how="cross")
            .with_columns((nw.col(name) * _BASE + nw.col(DIGIT)).alias(name))
            .drop(DIGIT)
            .filter(nw.col(name) * _BASE**level <= nw.col(upper))
        )
    return out


@dataclass(frozen=True)
class Calendar:
    """Calendar periods as consecutive integers and back, in one engine's expressions.

    :meth:`index` numbers the period holding each time and :meth:`with_start` turns a number
    back into the period's first instant, with the arithmetic of :mod:`journey_lib._time` (days
    and weeks from the epoch, months as ``year * 12 + month - 1``, ...). What differs by
    engine is here: how a time becomes microseconds, and the zone of the starts (UTC when
    the log's times are zoned, naive otherwise; Spark's times are always zoned). Times go
    through :func:`in_utc` first: a zoned DuckDB log has naive UTC times after it, and its
    results get their zone back from :func:`zoned_again`.

    Examples
    --------
    >>> import pandas as pd, narwhals.stable.v2 as nw
    >>> frame = nw.from_native(pd.DataFrame({"t": pd.to_datetime(["2024-05-20 10:00"], utc=True)}))
    >>> cal = Calendar.of(frame.lazy(), "quarter", column="t")
    >>> numbered = frame.lazy().select(n=cal.index(nw.col("t")))
    >>> out = cal.with_start(numbered, "n", "start").collect()
    >>> int(out["n"].item()), str(out["start"].item())
    (8097, '2024-04-01 00:00:00+00:00')
    """

    period: str
    aware: bool
    spark: bool

    @classmethod
    def of(cls, frame: nw.LazyFrame, period: str, column: str = "timestamp") -> Calendar:
        """The calendar of ``period`` (one of :data:`journey_lib._time.PERIODS`) for the
        times in ``column`` of ``frame``, naive or in UTC (see :func:`in_utc`)."""
        spark = frame.implementation.is_spark_like()
        zone = getattr(frame.collect_schema()[column], "time_zone", None)
        return cls(period, aware=zone is not None or spark, spark=spark)

    def index(self, ts: nw.Expr, plus: dt.timedelta | None = None) -> nw.Expr:
        """The number of the period holding ``ts`` (shifted by ``plus`` first), Int64."""
        if not self.spark and self.aware:
            # Zoned times (UTC by now) as naive wall-clock ones (DuckDB's are naive already:
            # see in_utc).
            ts = ts.dt.replace_time_zone(None)
        if plus is not None:
            ts = ts + nw.lit(plus)
        if self.period in ("day", "week"):
            return period_number(_microseconds(ts, spark=self.spark), self.period)
        return calendar_number(_i64(ts.dt.year()), _i64(ts.dt.month()), self.period)

    def with_start(self, frame: nw.LazyFrame, index: str, name: str) -> nw.LazyFrame:
        """``frame`` with a column ``name``: the first instant of the period numbered in its
        column ``index``.

        Months, quarters and years are reckoned in steps, through working columns: as one
        expression the calendar arithmetic repeats each operand's text at every use (a
        floor division alone uses it five times in SQL), and DuckDB took about a second to
        plan the 77 KB that the start of a month came to.
        """
        epoch = nw.lit(EPOCH if self.aware else EPOCH_NAIVE)
        number = nw.col(index)
        if self.period in ("day", "week"):
            return frame.with_columns(
                (epoch + first_day(number, self.period) * nw.lit(DAY)).alias(name)
            )
        year, month, days = "_jl_cal_year", "_jl_cal_month", "_jl_cal_days"
        per_year = {"month": 12, "quarter": 4, "year": 1}[self.period]
        if per_year == 1:
            out = frame.with_columns(number.alias(year), nw.lit(1).alias(month))
        else:
            out = frame.with_columns((number // per_year).alias(year)).with_columns(
                ((number - nw.col(year) * per_year) * (12 // per_year) + 1).alias(month)
            )
        march = march_year(nw.col(year), nw.col(month))
        out = out.with_columns(march[0].alias(year), march[1].alias(month))
        out = out.with_columns(days_from_march(nw.col(year), nw.col(month)).alias(days))
        start = epoch + nw.col(days) * nw.lit(DAY)
        return out.with_columns(start.alias(name)).drop(year, month, days)


def _microseconds(expr: nw.Expr, *, spark: bool) -> nw.Expr:
    """Naive (UTC wall-clock) times, or Spark's, as Int64 microseconds since the epoch.

    Spark-like engines lack duration arithmetic in Narwhals; there whole seconds (a cast)
    and the microsecond of the second are added, which is the same for times after 1970.
    """
    if spark:
        return _i64(expr) * 1_000_000 + _i64(expr.dt.microsecond())
    return _i64((expr - nw.lit(EPOCH_NAIVE)).dt.total_microseconds())


def _i64(expr: nw.Expr) -> nw.Expr:
    return expr.cast(nw.Int64())


def _readable_zone(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with zoned times Narwhals cannot read converted to UTC (the same instants).

    Narwhals reads pandas time zones by name and misses names with an underscore or a
    digit (America/New_York, Etc/GMT+5), calling the column's type unknown.
    """
    dtype = frame.dtypes.get("timestamp")
    if not isinstance(dtype, pd.DatetimeTZDtype) or str(dtype.tz) in UTC_NAMES:
        return frame
    if isinstance(nw.from_native(frame).schema["timestamp"], nw.Datetime):
        return frame
    return frame.assign(timestamp=frame["timestamp"].dt.tz_convert("UTC"))


def _narwhals(frame: Any, what: str) -> nw.DataFrame | nw.LazyFrame:
    try:
        return nw.from_native(frame)
    except TypeError:
        raise JourneyParameterError(
            f"{what} must be a DataFrame (pandas, Polars, DuckDB, PySpark, ...); "
            f"got {type(frame).__name__}"
        ) from None
