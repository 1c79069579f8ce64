"""What a report notebook reads: the data as its profile says, which sections apply to it,
and what to tell the reader about it.

A notebook opens its data with one call, asks before each section whether the section
applies, and ends with the notes a reader should know::

    data = jl.report.open_data(data_path, profile, start=start, end=end, engine=engine)
    if data.supports("attribution"):
        credit = data.collect(jl.attribute(data.events))
        ...
    data.about()

The log is a frame of the engine chosen (:data:`ENGINES`): a pandas DataFrame, a Polars
LazyFrame, a DuckDB relation or a Spark DataFrame, which journey_lib's functions take
alike. A notebook hands it to them and collects only their results
(:meth:`ReportData.collect`: tables of periods, steps, segments), never the log; what the
requirements ask of the log (its events, its span, which columns hold values) is asked of
the engine once and kept.

A section that cannot apply (no channel column for attribution, no money values for
customer value, too short a span for a churn horizon, a customer table for a funnel) is
replaced by one sentence saying why, and the notebook carries on. Warnings about the data
raised anywhere in the notebook are collected instead of printed, and :meth:`ReportData.about`
lists them in plain words; other libraries' warnings are kept in ``data.technical`` and
never reach the page.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd

from .._engine import arrow_table, from_pandas, lazy_events, open_parquet, to_pandas
from ..analytics.dates import within
from ..analytics.segments import Segments, customer_segments
from ..churn.dataset import build_dataset
from ..errors import JourneyDataWarning, JourneyError, JourneyParameterError, check_choice
from ..io.profile import LogProfile
from ..io.profile import profile as infer_profile
from ..io.read import read_table
from ..io.validate import ValidationReport
from ..widgets.base import OFFERED_RULES, is_time, table_segment_columns
from .formatting import figure_text
from .prepare import ENGINES, Reading, is_prepared, read_prepared
from .privacy import check_min_cell, suppressed
from .requirements import MIN_CLASS, MIN_REPEAT_BUYERS, REQUIREMENTS
from .tables import formatted, private
from .views import show_reading

__all__ = ["ENGINES", "MIN_CLASS", "MIN_REPEAT_BUYERS", "REQUIREMENTS", "ReportData", "open_data"]

#: Most customers a report's churn models learn from: above it they train (and the page
#: evaluates) on a stratified sample of this many, and the call list still scores everyone.
TRAIN_CUSTOMERS = 20_000


@dataclass
class ReportData:
    """A report notebook's data: the profile, the validated log (or customer table), the
    optional customer table, and the notes for the reader.

    Attributes
    ----------
    profile : LogProfile
    read : ValidationReport or Reading
        Validation of the whole file (a customer table's is a ``CustomerReport``; a log
        prepared by ``journey report``'s is a :class:`journey_lib.report.prepare.Reading`).
    events : DataFrame or None
        The clean log within ``start`` and ``end``, in the engine chosen (a pandas
        DataFrame, a Polars LazyFrame, a DuckDB relation or a Spark DataFrame); None for a
        customer table.
    table : pandas.DataFrame or None
        The clean customer table when the data is one; None for a log.
    customers : pandas.DataFrame or None
        The customer table given beside a log (``customers_path``).
    source : str
        The data file's name (never its folder: paths stay out of reports).
    notes : list of str
        Warnings about the data raised so far, in plain words.
    technical : list of str
        Other warnings (from libraries), kept out of the page.
    shown : set of str
        Reasons already shown, so each is said once.
    failed : dict
        Requirements whose section the data defeated (:meth:`attempt`), with the reason.
    min_cell : int
        The privacy threshold of the pages (see :mod:`journey_lib.report.privacy`): what
        :meth:`formatted` and :meth:`private` hide.
    log : DataFrame or None
        The whole clean log, every date, in the engine chosen: what a widget whose dates
        can be changed reads.
    engine : str
        The engine of :attr:`events` and :attr:`log` (:data:`ENGINES`).
    train_customers : int
        Most customers the churn models learn from (:data:`TRAIN_CUSTOMERS`): a larger
        churn dataset is sampled, stratified by label (:meth:`churn_dataset`, and the call
        list's ``max_train``).
    """

    profile: LogProfile
    read: ValidationReport | Reading
    events: Any
    table: pd.DataFrame | None
    customers: pd.DataFrame | None
    source: str
    notes: list[str] = field(default_factory=list)
    technical: list[str] = field(default_factory=list)
    shown: set[str] = field(default_factory=set)
    failed: dict[str, str] = field(default_factory=dict)
    min_cell: int = 0
    log: Any = None
    engine: str = "pandas"
    train_customers: int = TRAIN_CUSTOMERS

    def collect(self, result: Any) -> pd.DataFrame:
        """``result`` (a journey_lib function's answer on :attr:`events`, in the engine) as
        a pandas DataFrame, computed once; pandas results are returned as they are.

        Examples
        --------
        >>> raw = pd.DataFrame({"user": ["a", "b"], "event": ["visit", "buy"],
        ...                     "ts": ["2024-01-01", "2024-01-02"]})
        >>> data = open_data(raw, quiet=False, engine="polars")
        >>> type(data.events).__name__, type(data.collect(data.events)).__name__
        ('LazyFrame', 'DataFrame')
        """
        return to_pandas(result, what="the result")

    @functools.cached_property
    def facts(self) -> dict[str, Any]:
        """What the requirements ask of the log within the dates, asked of its engine once:
        ``rows``, ``customers``, ``first`` and ``last`` times, ``filled`` (column -> rows
        with a value), ``events`` (event -> rows, a Series), ``spend`` (whether any money
        value is not zero) and ``schema`` (column -> Narwhals dtype).

        Examples
        --------
        >>> raw = pd.DataFrame({"user": ["a", "a", "b"], "event": ["visit", "buy", "visit"],
        ...                     "ts": ["2024-01-01", "2024-01-02", "2024-01-03"]})
        >>> facts = open_data(raw, quiet=False, engine="duckdb").facts
        >>> facts["rows"], facts["customers"], facts["events"].to_dict()
        (3, 2, {'buy': 1, 'visit': 2})
        """
        return _log_facts(self.events)

    def log_size(self) -> dict[str, int]:
        """The log's ``customers`` and ``touchpoints`` within the dates, for a report's
        metrics.

        Examples
        --------
        >>> raw = pd.DataFrame({"user": ["a", "a", "b"], "event": ["visit", "buy", "visit"],
        ...                     "ts": ["2024-01-01", "2024-01-02", "2024-01-03"]})
        >>> open_data(raw, quiet=False).log_size()
        {'customers': 2, 'touchpoints': 3}
        """
        return {"customers": self.facts["customers"], "touchpoints": self.facts["rows"]}

    def first_customers(self, n: int) -> list[Any]:
        """The ``n`` customers of the log within the dates with the smallest ids: the ones a
        page's timelines show (the log is sorted by customer, so they come first in it).

        Examples
        --------
        >>> raw = pd.DataFrame({"user": [3, 1, 2, 1], "event": ["visit"] * 4,
        ...                     "ts": ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"]})
        >>> open_data(raw, quiet=False, engine="duckdb").first_customers(2)
        [1, 2]
        """
        lf, _ = lazy_events(self.events, required=("customer_id",))
        ids = lf.select("customer_id").unique().sort("customer_id").head(n).collect()
        return ids["customer_id"].to_list()

    @property
    def last_time(self) -> pd.Timestamp:
        """The time of the log's last touchpoint within the dates (UTC): where an RFM table
        observes its customers."""
        return self.facts["last"]

    def formatted(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` as the page shows it: numbers written for a reader, in the profile's
        currency, small cells hidden (:func:`journey_lib.report.tables.formatted`).

        Examples
        --------
        >>> raw = pd.DataFrame({"user": ["a", "b"], "event": ["visit", "buy"],
        ...                     "ts": ["2024-01-01", "2024-01-02"]})
        >>> data = open_data(raw, quiet=False, min_cell=5)
        >>> data.formatted(pd.DataFrame({"customers": [3, 40], "share": [0.07, 0.93]}))
          customers share
        0        <5    <5
        1        <5    <5
        """
        return formatted(frame, min_cell=self.min_cell, currency=self.profile.currency)

    def private(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` with the cells the page may not show missing, for a figure to draw
        (:func:`journey_lib.report.tables.private`)."""
        return private(frame, self.min_cell)

    def reading(self, text: str) -> None:
        """Show one line of reading under the figure just drawn (figures drawn so far are
        shown first, so the line sits under its figure)."""
        show_reading(text)

    def why_not(self, requirement: str, **given: Any) -> str | None:
        """Why ``requirement`` (a key of :data:`REQUIREMENTS`) does not hold for this data,
        or None when it does. ``given`` passes values a notebook chose over the profile's
        (``steps=``, ``cutoff=``, ``horizon=``, ``y=``)."""
        if requirement not in REQUIREMENTS:
            raise JourneyParameterError(
                f"unknown requirement {requirement!r}; known: {sorted(REQUIREMENTS)}"
            )
        if requirement in self.failed:
            return self.failed[requirement]
        for check in REQUIREMENTS[requirement][1]:
            reason = check(self, given)
            if reason:
                return reason
        return None

    def supports(self, requirement: str, **given: Any) -> bool:
        """Whether a section applies; when it does not, show one sentence saying why (once:
        later sections failing for the same reason stay silent).

        Examples
        --------
        >>> raw = pd.DataFrame({"user": ["a", "a", "b"], "event": ["visit", "buy", "visit"],
        ...                     "ts": ["2024-01-01", "2024-01-02", "2024-01-03"]})
        >>> data = open_data(raw, quiet=False)
        >>> data.supports("funnel"), data.supports("attribution", display=False)
        (True, False)
        >>> data.why_not("attribution")
        'the log has no channel column'
        """
        show = given.pop("display", True)
        reason = self.why_not(requirement, **given)
        if reason is not None and show and reason not in self.shown:
            self.shown.add(reason)
            title = REQUIREMENTS[requirement][0]
            show_reading(f"*{title} does not apply to this data: {reason}.*")
        return reason is None

    @contextlib.contextmanager
    def attempt(self, requirement: str) -> Iterator[None]:
        """Run a section's code; if the data defeats it (a model that cannot be fitted to it,
        say), show one sentence instead and mark the section as not applying, so later cells
        asking :meth:`supports` skip quietly. Errors in the parameters still fail the
        notebook.

        Examples
        --------
        >>> from journey_lib.errors import JourneyDataError
        >>> raw = pd.DataFrame({"user": ["a", "b"], "event": ["buy", "buy"],
        ...                     "ts": ["2024-01-01", "2024-01-02"]})
        >>> data = open_data(raw, quiet=False)
        >>> with data.attempt("value"):
        ...     raise JourneyDataError("BG/NBD did not converge. Details follow")
        *Customer value could not be estimated on this data: BG/NBD did not converge.*
        >>> data.supports("value")
        False
        """
        try:
            yield
        except JourneyParameterError:
            raise
        except JourneyError as exc:
            reason = _first_sentence(str(exc)).rstrip(".")
            self.failed[requirement] = reason
            self.shown.add(reason)
            title = REQUIREMENTS[requirement][0]
            show_reading(f"*{title} could not be estimated on this data: {reason}.*")

    def breakdown(self, column: str) -> str:
        """``column`` when the log has it with a value somewhere, else ``""`` (no breakdown):
        a report's default breakdown may not exist in someone else's log."""
        if self.events is None or not self.facts["filled"].get(column):
            return ""
        return column

    def segment_columns(self, limit: int | None = None) -> list[str]:
        """The columns a report breaks customers down by, most telling first.

        In order: the customer table's segment-like columns (:attr:`customers`:
        :func:`journey_lib.widgets.base.table_segment_columns`, the one rule the widgets
        offer too: text, boolean or whole-number columns with 2 to 50 values that repeat, not
        dates or times), the log's ``channel`` (read as the customer's first channel), then
        the profile's ``properties``. A name is listed once (a customer table's column wins,
        as in :class:`journey_lib.Segments`); columns with no value and date or time columns
        (:func:`journey_lib.widgets.base.is_time`) are left out. ``[]`` for a customer
        table as the data.

        Examples
        --------
        >>> raw = pd.DataFrame({"user": list("aabbcc"), "event": ["visit", "buy"] * 3,
        ...                     "ts": pd.date_range("2024-01-01", periods=6, freq="D"),
        ...                     "source": ["ads", "ads", "web", "web", "ads", "ads"]})
        >>> data = open_data(raw, quiet=False)
        >>> data.customers = pd.DataFrame({"customer_id": list("abcde"),
        ...                                "plan": ["pro", "basic", "pro", "pro", "basic"]})
        >>> data.segment_columns()
        ['plan', 'channel']
        """
        if self.events is None:
            return []
        found: list[str] = []
        if self.customers is not None and "customer_id" in self.customers:
            found += table_segment_columns(self.customers)
        found += ["channel", *self.profile.properties]
        filled, schema = self.facts["filled"], self.facts["schema"]
        usable = [
            c
            for c in dict.fromkeys(found)
            if self._in_table(c) or (filled.get(c) and not is_time(schema[c]))
        ]
        return usable[:limit] if limit is not None else usable

    def segments(
        self, by: str | list[str], by_rule: str = "first", top: int | None = 10
    ) -> Segments:
        """``by`` as a breakdown for this data's analytics: a :class:`journey_lib.Segments`
        reading columns of the customer table (:attr:`customers`) from it and the others
        from the log, by ``by_rule``, with the ``top`` largest segments kept.

        Examples
        --------
        >>> raw = pd.DataFrame({"user": ["a", "b"], "event": ["visit", "buy"],
        ...                     "ts": ["2024-01-01", "2024-01-02"], "source": ["ads", "web"]})
        >>> spec = open_data(raw, quiet=False).segments("channel", top=5)
        >>> spec.columns, spec.rule, spec.top, spec.customers is None
        (['channel'], 'first', 5, True)
        """
        columns = [by] if isinstance(by, str) else list(by)
        table = None
        if self.customers is not None and any(self._in_table(c) for c in columns):
            table = self.customers
        return Segments(columns, rule=by_rule, top=top, customers=table)

    def segment(
        self, by: str, by_rule: str = "first", top: int | None = 6
    ) -> tuple[Segments | None, str]:
        """The breakdown a report's ``by`` parameter asks for, and its column: ``(segments,
        column)``, or ``(None, "")`` when there is none to use.

        ``by`` names one column or several, comma-separated as notebook 06 takes them.
        These pages break the journey down by one column: the first named; the others are
        left out with one sentence (06 compares each on its own). The column is checked
        once, as the analytics would read it (:func:`journey_lib.customer_segments` of
        :meth:`segments`: a column in neither the log nor the customer table, with no
        value, of dates or times, holding ``(missing)`` or ``(other)`` as a value, a
        customer table listing a customer twice); when it cannot be used the reason is
        shown once, as :meth:`supports` shows it, and the page goes on without segments.

        Raises
        ------
        JourneyParameterError
            ``by_rule`` other than ``"first"`` or ``"last"`` (the rules a page's widgets
            apply; a report has no cutoff for ``"at_cutoff"``).

        Returns
        -------
        segments : Segments or None
            The analytics' ``by=`` (None: no segment asked, or one that cannot be used).
        column : str
            The column broken down by, ``""`` for none: a widget's ``by``.

        Examples
        --------
        >>> raw = pd.DataFrame({"user": ["a", "b"], "event": ["visit", "buy"],
        ...                     "ts": ["2024-01-01", "2024-01-02"], "source": ["ads", "web"]})
        >>> data = open_data(raw, quiet=False)
        >>> spec, column = data.segment("channel")
        >>> spec.columns, column, data.segment("")
        (['channel'], 'channel', (None, ''))
        >>> data.segment("plan")  # doctest: +NORMALIZE_WHITESPACE
        *Comparing segments does not apply to this data: the segment column 'plan' is in
        neither the log nor the customer table, or holds no value.*
        (None, '')
        >>> data.segment("channel, plan")[1]  # doctest: +NORMALIZE_WHITESPACE
        *This page breaks the journey down by one segment column, the first named: channel
        (plan left out; notebook 06 compares each on its own).*
        'channel'
        """
        # A wrong rule is the run's mistake, not the data's: it fails the notebook.
        check_choice("by_rule", by_rule, OFFERED_RULES)
        named = [column.strip() for column in by.split(",") if column.strip()]
        if not named:
            return None, ""
        column, rest = named[0], named[1:]
        if rest:
            self._say(
                "This page breaks the journey down by one segment column, the first named: "
                f"{column} ({', '.join(rest)} left out; notebook 06 compares each on its own)"
            )
        if not self.supports("segments", by=column):
            return None, ""
        try:
            spec = self.segments(column, by_rule, top)
            customer_segments(self.events, spec)
        except JourneyError as exc:
            title = REQUIREMENTS["segments"][0]
            reason = _first_sentence(str(exc)).rstrip(".")
            self._say(f"{title} does not apply to this data: {reason}")
            return None, ""
        return spec, column

    def _say(self, sentence: str) -> None:
        """Show ``sentence`` as a page's note, in italics, once."""
        if sentence not in self.shown:
            self.shown.add(sentence)
            show_reading(f"*{sentence}.*")

    def compared_columns(self, by: str = "", limit: int = 3) -> list[str]:
        """The segment columns a report compares, each on its own: those named in ``by``
        (comma-separated), else the first ``limit`` of :meth:`segment_columns`; ``[]``
        when there are none or a named one is missing (the reason shown once).

        Examples
        --------
        >>> raw = pd.DataFrame({"user": list("aabbcc"), "event": ["visit", "buy"] * 3,
        ...                     "ts": pd.date_range("2024-01-01", periods=6, freq="D"),
        ...                     "source": ["ads", "ads", "web", "web", "ads", "ads"],
        ...                     "device": ["app", "app", "web", "web", "web", "web"]})
        >>> data = open_data(raw, quiet=False)
        >>> data.compared_columns(limit=1), data.compared_columns(" device, channel")
        (['channel'], ['device', 'channel'])
        """
        named = [column.strip() for column in by.split(",") if column.strip()]
        if not self.supports("segments", by=named):
            return []
        return named or self.segment_columns(limit=limit)

    def _in_table(self, column: str) -> bool:
        return (
            self.customers is not None
            and column in self.customers
            and column != "customer_id"
            and bool(self.customers[column].notna().any())
        )

    def steps(self, steps: Any = None) -> list[Any]:
        """The funnel's steps: those given, else the profile's default funnel."""
        return list(steps) if steps else list(self.profile.funnel)

    def churn_dataset(self, cutoff: Any = None, horizon: Any = None) -> tuple | None:
        """Features and churn labels, ``X, y``, or None (after saying why) when no model can
        be trained on this data.

        On a log: :func:`journey_lib.churn.build_dataset` at ``cutoff`` with ``horizon``
        (the profile's when not given), churn as the profile's inactivity, the profile's
        acquisition and conversion events and stages, and the customer table beside it;
        with more customers than :attr:`train_customers`, a stratified sample of that many
        (:meth:`journey_lib.churn.ChurnDataset.sample`), which :meth:`dataset_summary`
        says.
        On a customer table: its columns as features (dates as days before the latest one)
        and its churn label, indexed by customer.
        """
        p = self.profile
        if self.table is not None:
            if not self.supports("churn_table"):
                return None
            table = self.table.set_index("customer_id")
            y = table.pop("churned").astype("int64")
            dates = [c for c in table.columns if pd.api.types.is_datetime64_any_dtype(table[c])]
            for column in dates:
                table[column] = (table[column].max() - table[column]).dt.days
            return table, y
        if not self.supports("churn_window", cutoff=cutoff, horizon=horizon):
            return None
        dataset = build_dataset(
            self.events,
            profile=p,
            cutoff=cutoff or None,
            horizon=horizon or p.horizon,
            customers=self.customers,
        )
        return dataset.sample(self.train_customers)

    def lifetimes(self, limit: int = 3) -> tuple[pd.DataFrame, list[str], str]:
        """Each customer's lifetime for the churn notebook's time-to-churn section, up to
        ``limit`` segment columns (most telling first) and the durations' unit: see
        :func:`journey_lib.report.lifetimes.report_lifetimes`."""
        from .lifetimes import report_lifetimes

        return report_lifetimes(self, limit)

    def campaign(self, **options: Any) -> Any:
        """The campaign notebook's campaign: the one the data logs, else a simulated one;
        see :func:`journey_lib.report.campaigns.report_campaign`."""
        from .campaigns import report_campaign

        return report_campaign(self, **options)

    def logged_uplift(self, seed: int = 0) -> Any:
        """An uplift model of the campaign the log holds, or None: see
        :func:`journey_lib.report.campaigns.logged_uplift`."""
        from .campaigns import logged_uplift

        return logged_uplift(self, seed=seed)

    def dataset_summary(self, dataset: Any) -> pd.DataFrame:
        """Who is in a churn dataset, as a small table for the page; counts below
        :attr:`min_cell` read ``<k`` (the three parts of the log's customers with
        complementary suppression, since their total is shown).

        Examples
        --------
        >>> raw = pd.DataFrame({"user": ["a", "b"], "event": ["visit", "buy"],
        ...                     "ts": ["2024-01-01", "2024-01-02"]})
        >>> data = open_data(raw, quiet=False, min_cell=5)
        >>> y = pd.Series([1, 0, 0, 0, 0, 0, 0, 0])
        >>> data.dataset_summary((pd.DataFrame({"f": range(8)}), y))["value"].tolist()
        ['8', '<5', '1']
        """
        report = getattr(dataset, "report", None)
        if report is None:  # a customer table's X, y
            X, y = dataset
            rows = [
                ("customers", self._count(len(X))),
                ("churned", self._share(int(y.sum()), len(y))),
                ("features", f"{X.shape[1]:,}"),
            ]
        else:
            parts = pd.Series([report.not_acquired, report.already_churned, report.included])
            shown = np.where(
                suppressed(parts, self.min_cell), f"<{self.min_cell}", [f"{n:,}" for n in parts]
            )
            rows = [
                ("features from events before", f"{report.cutoff:%Y-%m-%d}"),
                ("churn judged up to", f"{report.label_end:%Y-%m-%d} ({report.rule})"),
                ("customers in the log", self._count(report.customers_in_log)),
                ("left out: not yet acquired", shown[0]),
                ("left out: already churned", shown[1]),
                ("customers in the dataset", shown[2]),
                ("of whom churned", self._share(report.churned, report.included)),
                ("features", f"{len(report.features):,}"),
            ]
            if len(dataset[1]) < report.included:
                rows.append(
                    (
                        "learnt from",
                        f"a sample of {len(dataset[1]):,}, in the same churn share",
                    )
                )
            rows += [("note", note) for note in report.notes]
        return pd.DataFrame(rows, columns=["", "value"]).set_index("")

    @staticmethod
    def offer_value(value: str) -> float | str | None:
        """The ``value`` report parameter as :meth:`journey_lib.churn.ChurnModel.target`
        takes it: a number, a column name, or None (``""``: past spend).

        Examples
        --------
        >>> ReportData.offer_value("200"), ReportData.offer_value("MonthlyCharges")
        (200.0, 'MonthlyCharges')
        """
        if not value:
            return None
        try:
            return float(value)
        except ValueError:
            return value

    def churn_summary(self) -> pd.DataFrame:
        """A customer table's customers, churned customers and churn rate."""
        churned = self.table["churned"]
        lost = int(churned.sum())
        small = 0 < lost < self.min_cell
        rows = [
            ("customers", self._count(len(churned))),
            ("churned", self._count(lost)),
            ("churn rate", f"<{self.min_cell}" if small else f"{churned.mean():.1%}"),
        ]
        return pd.DataFrame(rows, columns=["", "value"]).set_index("")

    def _count(self, n: int) -> str:
        return figure_text(n, "count", min_cell=self.min_cell)

    def _share(self, part: int, whole: int) -> str:
        """``part`` of ``whole`` with its share, ``<k`` when the part is small."""
        if 0 < part < self.min_cell or 0 < whole < self.min_cell:
            return f"<{self.min_cell}"
        return f"{part:,} ({part / whole:.1%})" if whole else f"{part:,}"

    def quality(self) -> pd.DataFrame:
        """How the rows of the file were used: clean, set aside (by reason), duplicates.

        A small table for the page, in place of a printed summary.
        """
        rows = [("rows read", self.read.n_input), ("usable", self.read.usable)]
        rows += [(f"set aside: {r}", int(n)) for r, n in self.read.reason_counts().items()]
        rows.append(("exact duplicates, counted once", self.read.duplicates))
        return pd.DataFrame(rows, columns=["", "rows"]).set_index("")

    def about(self) -> None:
        """Show the notes a reader should have: how the rows were used, what the columns
        were taken to be, events without a stage, and warnings about the data."""
        show_reading("\n".join(["## About this data", *(f"- {n}" for n in self.about_lines())]))

    def about_lines(self) -> list[str]:
        """The lines :meth:`about` shows."""
        read, p = self.read, self.profile
        what = "customers" if p.shape == "customers" else "rows"
        lines = [f"{read.n_input:,} {what} read from {self.source}."]
        set_aside = read.reason_counts()
        if len(set_aside):
            listed = ", ".join(f"{int(n):,} {reason}" for reason, n in set_aside.items())
            lines.append(f"{read.set_aside:,} rows were set aside: {listed}.")
        if read.duplicates:
            lines.append(f"{read.duplicates:,} exact duplicate rows were counted once.")
        roles = ", ".join(
            f"{_ROLE_WORDS[r]} `{c}`" for c, r in p.columns.items() if r in _ROLE_WORDS
        )
        lines.append(f"Columns read: {roles} ({_how_known(p)}).")
        unused = p.observed.get("unused") or []
        if unused and p.shape != "customers":
            names = ", ".join(f"`{c}`" for c in unused[:8])
            more = f" and {len(unused) - 8} more" if len(unused) > 8 else ""
            lines.append(f"Columns kept but not used by any section: {names}{more}.")
        if p.unmapped and p.shape != "customers":
            names = ", ".join(f"`{e}`" for e in list(p.unmapped)[:8])
            more = f" and {len(p.unmapped) - 8} more" if len(p.unmapped) > 8 else ""
            lines.append(
                f"{len(p.unmapped)} event types have no journey stage: {names}{more} "
                "(no rule reads their names; a profile's `stages` can place them)."
            )
        lines += list(dict.fromkeys(self.notes))
        return lines


def _how_known(p: LogProfile) -> str:
    given = [k for k, v in p.evidence.items() if k.startswith("column") and "[given]" in v]
    return "as given" if given and len(given) == len(p.columns) else "inferred from the data"


_ROLE_WORDS = {
    "customer_id": "customers",
    "timestamp": "times",
    "event": "events",
    "channel": "channels",
    "value": "money",
    "session_id": "sessions",
    "churn": "churn label",
    "signup": "sign-up dates",
    "treatment": "a campaign's arms",
}


def open_data(
    data: Any,
    profile: Mapping[str, Any] | LogProfile | str | os.PathLike[str] | None = None,
    *,
    start: str = "",
    end: str = "",
    customers_path: str = "",
    quiet: bool = False,
    min_cell: int = 0,
    engine: str = "pandas",
) -> ReportData:
    """Read a report's data as its profile says.

    Parameters
    ----------
    data : str, path-like or DataFrame
        The log or customer table, or a folder ``journey report`` prepared from a log
        (:func:`journey_lib.report.prepare.prepare_log`), read as it was validated there.
    profile : mapping, LogProfile, path or None
        The run's profile (``journey report`` passes it as a mapping), a YAML file, or
        None / ``{}`` to infer one from the data.
    start, end : str
        A half-open date range of the log to keep (``""``: from the start, to the end).
    customers_path : str
        A customer table to join to a log's customers (``""``: none).
    quiet : bool, default False
        Collect every later warning of this process instead of printing it, for
        :meth:`ReportData.about`: data warnings there in plain words, others in
        ``technical``, so a report page shows no raw warning text. The report notebooks set
        it; it replaces ``warnings.showwarning`` for the rest of the process (a notebook's
        kernel), so leave it off in a library or a long-lived session.
    min_cell : int, default 0
        Privacy threshold of the pages: :meth:`ReportData.formatted` and
        :meth:`ReportData.private` hide counts below it (0 hides nothing).
    engine : {"pandas", "polars", "duckdb", "spark"}, default "pandas"
        The engine the log stays in (``""`` is pandas): a pandas DataFrame, a Polars
        LazyFrame over the prepared Parquet file, a DuckDB relation on a connection of
        its own, or a Spark DataFrame (:func:`journey_lib._engine.spark_session`). A log
        read here rather than prepared is validated in pandas and handed to the engine. A
        customer table is always pandas.

    Returns
    -------
    ReportData
    """
    min_cell = check_min_cell(min_cell)
    engine = engine or "pandas"
    check_choice("engine", engine, ENGINES)
    notes: list[str] = []
    technical: list[str] = []
    if quiet:
        _collect_warnings(notes, technical)
    customers = read_table(customers_path)[0] if customers_path else None
    if is_prepared(data):
        if not isinstance(profile, LogProfile) and not (isinstance(profile, Mapping) and profile):
            raise JourneyParameterError(
                "a prepared log is read with the profile it was prepared with; pass it"
            )
        found = _as_profile(profile, data)
        path, reading = read_prepared(data)
        notes += [_first_sentence(note) for note in reading.notes]
        log = _open_parquet(path, engine, reading.pandas_columns)
        return _dated(
            found,
            reading,
            log,
            customers,
            reading.source,
            notes,
            technical,
            min_cell,
            engine,
            start,
            end,
        )
    found = _as_profile(profile, data)
    read = found.read(data)
    source = Path(data).name if isinstance(data, str | os.PathLike) else "the data frame"
    if found.shape == "customers":
        if start or end or customers_path:
            notes.append(
                "A customer table has no dates and is its own customer table: the "
                "dates and the customer table given were not used."
            )
        return ReportData(
            found, read, None, read.clean, customers, source, notes, technical, min_cell=min_cell
        )
    log = from_pandas(read.clean, engine)
    return _dated(
        found, read, log, customers, source, notes, technical, min_cell, engine, start, end
    )


def _dated(
    found: LogProfile,
    read: ValidationReport | Reading,
    log: Any,
    customers: pd.DataFrame | None,
    source: str,
    notes: list[str],
    technical: list[str],
    min_cell: int,
    engine: str,
    start: str,
    end: str,
) -> ReportData:
    """The report's data with the log kept within ``start`` and ``end`` (said when rows
    lie outside)."""
    events = within(log, start or None, end or None)
    data = ReportData(
        found,
        read,
        events,
        None,
        customers,
        source,
        notes,
        technical,
        min_cell=min_cell,
        log=log,
        engine=engine,
    )
    left_out = read.usable - data.facts["rows"] if start or end else 0
    if left_out:
        span = f"from {start or 'the start'} to {end or 'the end'}"
        notes.append(f"{left_out:,} usable rows lie outside the dates chosen ({span}).")
    return data


def _open_parquet(path: Path, engine: str, described: list[dict[str, Any]]) -> Any:
    """The prepared log in ``engine``. Read whole into pandas, the other columns of a log
    prepared in parts are typed by the data file's own pandas metadata (``described``),
    as reading that file whole types them."""
    if engine != "pandas" or not described:
        return open_parquet(path, engine)
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    named = {c["name"] for c in described}
    own = [n for n in table.column_names if n not in named]
    # pandas' description of the other columns, as pandas would write them.
    meta = arrow_table(table.select(own).slice(0, 0).to_pandas()).schema.pandas_metadata
    entries = [{k: v for k, v in c.items() if k != "categories"} for c in described]
    meta["columns"] = meta["columns"] + entries
    frame = table.replace_schema_metadata({b"pandas": json.dumps(meta).encode()}).to_pandas()
    for c in described:
        if "categories" in c:
            ordered = bool((c.get("metadata") or {}).get("ordered"))
            kind = pd.CategoricalDtype(c["categories"], ordered=ordered)
            frame[c["name"]] = frame[c["name"]].astype(kind)
    return frame


def _log_facts(events: Any) -> dict[str, Any]:
    """What :attr:`ReportData.facts` holds, in two queries of the log's engine."""
    lf, _ = lazy_events(events)
    schema = dict(lf.collect_schema())

    def filled(column: str) -> nw.Expr:
        # A float NaN is no value, as pandas counts it (Polars and DuckDB count it as one).
        if schema[column].is_float():
            return (~nw.col(column).is_nan()).cast(nw.Int64).sum().alias(column)
        return nw.col(column).count().alias(column)

    aggregates = [
        nw.len().alias("_rows"),
        nw.col("customer_id").n_unique().alias("_customers"),
        nw.col("timestamp").min().alias("_first"),
        nw.col("timestamp").max().alias("_last"),
        *(filled(c) for c in schema),
    ]
    if "value" in schema:
        aggregates.append((nw.col("value").fill_null(0) != 0).any().alias("_spend"))
    row = to_pandas(lf.select(*aggregates).collect().to_native()).iloc[0]
    counts = to_pandas(lf.group_by("event").agg(nw.len().alias("n")).collect().to_native())
    times = [pd.Timestamp(row[k]) for k in ("_first", "_last")]
    return {
        "rows": int(row["_rows"]),
        # Some engines count no customers of an empty log as missing, not as 0.
        "customers": 0 if pd.isna(row["_customers"]) else int(row["_customers"]),
        "first": None if pd.isna(times[0]) else times[0].tz_convert("UTC"),
        "last": None if pd.isna(times[1]) else times[1].tz_convert("UTC"),
        "filled": {c: 0 if pd.isna(row[c]) else int(row[c]) for c in schema},
        "events": counts.set_index("event")["n"].astype("int64").sort_index(),
        "spend": bool(row.get("_spend", False)),
        "schema": schema,
    }


def _as_profile(profile: Any, data: Any) -> LogProfile:
    if isinstance(profile, LogProfile):
        return profile
    if isinstance(profile, Mapping) and profile:
        return LogProfile.from_dict(profile)
    if isinstance(profile, str | os.PathLike) and str(profile):
        return LogProfile.from_yaml(profile)
    return infer_profile(data)


def _collect_warnings(notes: list[str], technical: list[str]) -> None:
    """Route every later warning of this process into ``notes`` (data warnings, first
    line) or ``technical`` (the rest), instead of the page."""

    def show(message: Warning | str, category: type[Warning], *_: Any, **__: Any) -> None:
        text = str(message).strip()
        if issubclass(category, JourneyDataWarning):
            notes.append(_first_sentence(text))
        else:
            technical.append(f"{category.__name__}: {text}")

    warnings.showwarning = show


def _first_sentence(text: str, limit: int = 240) -> str:
    """A warning's first line up to its first full stop, kept short for a list."""
    # A file's folders stay off the page: "/data/x/log.csv" reads "log.csv".
    line = re.sub(r"(?:[A-Za-z]:)?(?:[/\\][^/\\\s'\"]+)+[/\\]", "", text.strip().splitlines()[0])
    line = line.rstrip(":")
    cut = line.find(". ")
    line = line[: cut + 1] if cut > 0 else line
    if len(line) > limit:
        line = line[: limit - 3].rsplit(" ", 1)[0] + "..."
    return line if line.endswith((".", "...")) else line + "."
