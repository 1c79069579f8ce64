"""Drivers: which events and properties go with conversion, churn and advocacy.

:func:`drivers` compares, for every event and every property value, the customers who have
it with those who do not: the share with the outcome in each group, their ratio (lift), the
odds ratio with a confidence interval, and a p-value corrected for testing many features at
once. **These are associations, not causes**: a feature can go with an outcome because both
follow from something else (customers who order more meet more late deliveries *and* stay
longer), so a driver is a lead to check with an experiment, never proof that changing it
changes the outcome.

Definitions
-----------
The **population** and the **outcome** (``y = 1``) of each outcome, and the **feature
window** (the rows a customer's features are read from):

``"conversion"``
    Each customer's *window* starts at their first touchpoint ``f`` and closes at ``f +
    window`` (a closed span: a conversion at its close counts). The population is every
    customer whose window closed by the end of observation (the log's last event, or
    ``data_end``), so no outcome is a guess. ``y = 1`` when their first conversion event
    falls in the window. The conversion event is ``conversion``, else the profile's (a
    profile that names none is refused); only when no profile is given is it
    :data:`FALLBACK_CONVERSION` (``"purchase"``), and only if the log has that event: a log
    without one, no profile and no ``conversion=`` is refused, naming what to pass
    (DESIGN principle 8: roles come from the profile, nothing assumes the simulator's
    names). The features are their rows
    in the window **strictly before** that first conversion (a non-converter: all their
    rows in the window). So neither the conversion itself nor what only follows it
    (a delivery, a review) can predict it; a customer whose first touchpoint is the
    conversion has no feature yet counts in the population. ``window=None`` has no
    close: every customer, converted at any time, non-converters' rows up to the end of
    observation (windows of unequal length: a late arrival has had less time to convert).
``"churn"``
    The churn dataset's own definition (:mod:`journey_lib.churn.dataset`, computed by the
    same code): at ``cutoff`` ``c`` with ``horizon`` ``H``, the population is the customers
    acquired before ``c`` and not churned by it, and ``y`` is the churn label over ``[c, c +
    H)``. The settings come from ``recipe`` (a :class:`~journey_lib.churn.FeatureRecipe`,
    such as a model's), else from the profile as :func:`~journey_lib.churn.build_dataset`
    reads them (horizon, inactivity, acquisition, churn event), else the recipe's defaults;
    ``cutoff`` and ``horizon`` given here win. Features: rows before ``c``.
``"advocacy"``
    The same population at ``c``; ``y = 1`` when the customer has an advocacy event
    (``advocacy_events``, else the profile's, else ``review`` and ``referral``) in ``[c, c +
    H)``. Past advocacy (before ``c``) is a feature like any other. Features: rows before
    ``c``.

A customer **has** an event when they did it at least once in their feature window, and a
log property's value (``channel`` and the profile's properties by default, or
``properties``) when a row of that window carries it; so a customer who used both web and
app has both values. A customer table's column (``customers``) has one value per customer
and no time: it is taken as known throughout, so a column filled in at or after the
outcome (the simulator's ``plan``, chosen at the first purchase) is a consequence of
conversion rather than a driver of it: leave it out with ``customer_columns``. A customer
without a value has none of that column's values; every value is compared with the rest of
the population (value against the rest, not against a reference level).

**Statistics**, per feature, on the 2x2 table of has it / has not by outcome / not (``a,
b`` with the feature, ``c, d`` without; see :mod:`journey_lib._intervals`): rates with and
without; the **lift**, ``rate_with / rate_without``: how many times as likely the outcome
is with the feature as without it. The lift is ``inf`` when some customers with the feature
had the outcome and none without it did (the outcome came *only with it*), ``0`` when none
with it did and some without it did, and NaN when neither group had the outcome or nobody
lacks the feature (no rate without); :func:`lift_text` writes it for a reader ("2.31×",
"only with it", "only without it", "–") and :meth:`Drivers.formatted` uses it. Effects are
read from the odds ratio instead, which a zero cell does not make infinite: the odds ratio
``a d / (b c)`` with Woolf's interval, with 0.5 added to every cell of a table with a zero
cell (Haldane-Anscombe); the two-sided p-value of Pearson's chi-square (no continuity
correction), or of Fisher's exact test when an expected count is under 5. A feature is
**tested** only when at least ``min_customers`` customers have it and at least as many do
not; this floor is applied *before* the correction, and only tested features enter the
Benjamini-Hochberg correction (as ``scipy.stats.false_discovery_control`` computes it),
which controls the expected share of false discoveries among the features called
significant, not each feature's own chance of a false alarm: where many features have real
effects, one without any passes the threshold more often than the nominal 5% of the time.
Rows are sorted tested first, then by effect, the distance of the odds ratio from 1 on the
log scale (strongest either way first), then by p-value. A feature everyone (or no one) has
gets no odds ratio.

**Breakdowns** (``by``, ``by_rule``, ``top``, as every analytic takes them; see
:mod:`journey_lib.analytics.segments`): each customer's segment is read from the whole log
given, and the table holds one block per segment, the segment columns first: each block is
the table the population of that segment alone would give (its own rates, floor and
Benjamini-Hochberg family; for conversion, with the whole log's end of observation). A
segment whose customers all had the outcome, or none did, has no tested feature. The counts
of every segment come from one group-by.

Engines: the features, windows and per-feature counts are computed with Narwhals on the
log's engine. For conversion only the per-feature counts are collected. For churn and
advocacy the population and labels are the churn dataset's, which it collects one row per
customer; the distinct (customer, feature) pairs before the cutoff are collected too and
counted beside them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd
from narwhals.typing import IntoFrame

from .._engine import lazy_events, to_pandas, unpivot, with_microseconds
from .._intervals import association_test, benjamini_hochberg, odds_ratio
from .._time import EPOCH, duration_us, instant_us
from ..analytics.segments import MISSING, Segments, grouped, segment_table, segments_of
from ..errors import JourneyDataError, JourneyParameterError, check_choice, check_count
from ..io.profile import FALLBACK_CONVERSION, LogProfile, from_profile
from ._features import check_span, extent, status_table
from ._inputs import looks_like_id
from .dataset import FeatureRecipe
from .drivers_text import EVENT, feature_label, lift_text, percent_text, ratio_text, small_cells

__all__ = [
    "COLUMNS",
    "EVENT",
    "FALLBACK_CONVERSION",
    "OUTCOMES",
    "Drivers",
    "drivers",
    "feature_label",
    "lift_text",
    "ratio_text",
    "small_cells",
]

#: The outcomes :func:`drivers` reads.
OUTCOMES = ("conversion", "churn", "advocacy")
#: The columns of a driver table (after the segment columns of a breakdown).
COLUMNS = (
    "feature",
    "value",
    "customers_with",
    "customers_without",
    "rate_with",
    "rate_without",
    "lift",
    "odds_ratio",
    "ci_low",
    "ci_high",
    "p_value",
    "p_adjusted",
    "test",
    "tested",
)
#: Advocacy events used when neither the caller nor a profile names any.
_ADVOCACY = ("review", "referral")

# The churn dataset's helpers read times from "_us".
_US, _Y, _STOP = "_us", "_jl_drv_y", "_jl_drv_stop"
_FIRST, _CONV = "_jl_drv_first", "_jl_drv_conv"
_NEVER = np.iinfo(np.int64).max
_KEYS = ("customer_id", "timestamp", "event")


class _Default(str):
    """A default a caller did not pass: equal to its text, never the same object."""


_30D = _Default("30D")


@dataclasses.dataclass(frozen=True)
class Drivers:
    """The answer of :func:`drivers`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per feature: ``feature`` (``"event"`` or the property's column) and
        ``value`` (the event or the property value), ``customers_with`` and
        ``customers_without``, ``rate_with`` and ``rate_without`` (shares with the
        outcome), ``lift`` (``rate_with / rate_without``: ``inf`` when the outcome came
        only with the feature, NaN when there is no rate without it or neither group had
        the outcome; see :func:`lift_text`), ``odds_ratio``, ``ci_low`` and ``ci_high``,
        ``p_value``,
        ``p_adjusted`` (Benjamini-Hochberg), ``test`` (``"chi2"`` or ``"fisher"``) and
        ``tested`` (whether the feature passed the ``min_customers`` floor; the p-values
        and test of one that did not are missing). Sorted as the module docstring says.
    outcome : str
        ``"conversion"``, ``"churn"`` or ``"advocacy"``.
    rule : str
        The population, outcome and feature window in words.
    customers, with_outcome : int
        The population and how many of it had the outcome.
    by : tuple of str
        The segment columns of a breakdown (the table's first columns); empty without one.
    """

    table: pd.DataFrame
    outcome: str
    rule: str
    customers: int
    with_outcome: int
    by: tuple[str, ...] = ()

    @property
    def rate(self) -> float:
        """Share of the population with the outcome."""
        return self.with_outcome / self.customers

    def summary(self, alpha: float = 0.05, top: int = 5) -> str:
        """A few lines: the outcome, and the ``top`` features with an adjusted p-value under
        ``alpha``, strongest first (in any segment of a breakdown, which each line names),
        each with its rates, lift (:func:`lift_text`) and odds ratio."""
        lines = [
            f"{self.outcome}: {self.with_outcome:,} of {self.customers:,} customers "
            f"({self.rate:.1%}); {self.rule}",
            "associations, not causes: each may follow from something else",
        ]
        found = self.table[self.table["tested"] & (self.table["p_adjusted"] < alpha)]
        if found.empty:
            lines.append(f"  no feature passes an adjusted p-value of {alpha:g}")
        strongest = np.argsort(-np.abs(np.log(found["odds_ratio"].to_numpy())), kind="stable")
        for _, row in found.iloc[strongest[:top]].iterrows():
            where = ", ".join(f"{c}={row[c]}" for c in self.by)
            lines.append(
                f"  {f'[{where}] ' if where else ''}"
                f"{feature_label(row['feature'], row['value'])}: {row['rate_with']:.1%} of "
                f"{row['customers_with']:,} customers with it, "
                f"{row['rate_without']:.1%} without (lift {lift_text(row['lift'])}; odds "
                f"ratio {ratio_text(row['odds_ratio'])}, {ratio_text(row['ci_low'])} to "
                f"{ratio_text(row['ci_high'])})"
            )
        return "\n".join(lines)

    def without_small_cells(self, min_cell: int) -> Drivers:
        """These drivers as a page with ``min_cell = k`` may show them: the rows whose 2x2
        table has a cell from 1 to ``k - 1`` left out
        (:func:`~journey_lib.churn.drivers_text.small_cells`, which says why a masked row
        would still give its cell away); the population and outcome counts unchanged.
        ``min_cell = 0`` returns these drivers.

        Examples
        --------
        >>> table = pd.DataFrame({"feature": ["event", "event"], "value": ["signup", "chat"],
        ...     "customers_with": [300, 100], "customers_without": [700, 900],
        ...     "rate_with": [0.6, 0.03], "rate_without": [0.2, 0.33]})
        >>> shown = Drivers(table, "conversion", "rule", 1000, 320).without_small_cells(5)
        >>> shown.table["value"].tolist()  # 3 of chat's 100 had the outcome
        ['signup']
        """
        if not min_cell:
            return self
        kept = self.table[~small_cells(self.table, min_cell)].reset_index(drop=True)
        return dataclasses.replace(self, table=kept)

    def formatted(self, n: int | None = None, *, min_cell: int = 0) -> pd.DataFrame:
        """The table as a reader sees it: every cell text, the ``n`` first rows of each
        segment (all by default), in the table's order.

        Columns: the segment columns of a breakdown, ``driver`` (:func:`feature_label`),
        ``customers with`` and ``customers without`` (thousands separated), ``rate with``
        and ``rate without`` (percentages), ``lift`` (:func:`lift_text`: never ``inf``),
        ``odds ratio`` (:func:`~journey_lib.churn.drivers_text.ratio_text`, with its
        interval, ``"1.30 (1.05–1.60)"``) and ``adjusted p`` (``"<0.001"`` below a
        thousandth; ``"not tested"`` under the floor). A missing number is ``"–"``.

        With ``min_cell = k``, a row whose 2x2 table has a cell from 1 to ``k - 1`` is left
        out before the ``n`` first rows are taken (:meth:`without_small_cells`): written
        ``<k`` in its place, its position among rows sorted by effect would still bound its
        odds ratio, and so its small cell.

        Examples
        --------
        >>> table = pd.DataFrame({
        ...     "feature": ["event", "channel"], "value": ["signup", "web"],
        ...     "customers_with": [1200, 40], "customers_without": [800, 1960],
        ...     "rate_with": [0.25, 0.1], "rate_without": [0.0, 0.15],
        ...     "lift": [float("inf"), 0.1 / 0.15], "odds_ratio": [752.0, 0.63],
        ...     "ci_low": [46.5, 0.25], "ci_high": [12166.0, 1.6],
        ...     "p_value": [1e-90, None], "p_adjusted": [1e-90, None],
        ...     "test": ["chi2", None], "tested": [True, False]})
        >>> found = Drivers(table, "conversion", "a rule", 2000, 300)
        >>> found.formatted()[["driver", "rate without", "lift", "odds ratio", "adjusted p"]]
                  driver rate without          lift         odds ratio  adjusted p
        0         signup         0.0%  only with it  752 (46.5–12,166)      <0.001
        1  channel = web        15.0%         0.67×   0.63 (0.25–1.60)  not tested
        >>> found.formatted(min_cell=5)["driver"].tolist()  # 4 of web's 40 had the outcome
        ['signup']
        """
        table = self.without_small_cells(min_cell).table
        if n is not None:
            table = table.groupby(list(self.by), sort=False).head(n) if self.by else table.head(n)
        drivers = [
            feature_label(f, v) for f, v in zip(table["feature"], table["value"], strict=True)
        ]
        bounds = zip(table["odds_ratio"], table["ci_low"], table["ci_high"], strict=True)
        odds = [
            "–" if pd.isna(r) else f"{ratio_text(r)} ({ratio_text(lo)}–{ratio_text(hi)})"
            for r, lo, hi in bounds
        ]
        adjusted = [
            "not tested" if not tested else "<0.001" if p < 0.001 else f"{p:.3f}"
            for p, tested in zip(table["p_adjusted"], table["tested"], strict=True)
        ]
        return pd.DataFrame(
            {
                **{c: table[c].to_numpy() for c in self.by},
                "driver": drivers,
                "customers with": [f"{k:,}" for k in table["customers_with"]],
                "customers without": [f"{k:,}" for k in table["customers_without"]],
                "rate with": [percent_text(r) for r in table["rate_with"]],
                "rate without": [percent_text(r) for r in table["rate_without"]],
                "lift": [lift_text(x) for x in table["lift"]],
                "odds ratio": odds,
                "adjusted p": adjusted,
            }
        )


def drivers(
    events: IntoFrame,
    outcome: str,
    *,
    profile: LogProfile | None = None,
    customers: IntoFrame | None = None,
    properties: Sequence[str] | None = None,
    customer_columns: Sequence[str] | None = None,
    conversion: str | None = None,
    window: Any = _30D,
    advocacy_events: str | Sequence[str] | None = None,
    cutoff: Any = None,
    horizon: Any = None,
    recipe: FeatureRecipe | None = None,
    data_end: Any = None,
    min_customers: int = 30,
    confidence: float = 0.95,
    by: str | Sequence[str] | Segments | None = None,
    by_rule: str = "first",
    top: int | None = 10,
) -> Drivers:
    """Which events and property values go with an outcome: odds ratios, intervals and
    corrected p-values. **Associations, not causes.**

    The definitions (population, outcome, feature window, statistics, sorting) are in the
    module docstring of :mod:`journey_lib.churn.drivers`.

    Parameters
    ----------
    events : DataFrame
        A touchpoint log of any engine (pandas, Polars, DuckDB, PySpark).
    outcome : {"conversion", "churn", "advocacy"}
    profile : LogProfile, optional
        Gives the conversion event, the advocacy events, the properties, and for churn and
        advocacy the cutoff and the churn dataset's settings, where not given here.
    customers : DataFrame, optional
        A customer table (``customer_id`` and attributes) of the log's engine or pandas.
    properties : sequence of str, optional
        Log columns whose values are features; by default ``channel`` (when the log has
        it) and the profile's properties. ``[]`` for none.
    customer_columns : sequence of str, optional
        The customer table's columns used; by default its text, categorical and boolean
        columns whose names do not look like identifiers.
    conversion : str, optional
        The conversion event; else the profile's. Without a profile,
        :data:`FALLBACK_CONVERSION` (``"purchase"``) when the log has that event; else it
        must be given.
    window : str, timedelta or None, default "30D"
        Conversion only: how long after their first touchpoint a customer may convert.
    advocacy_events : str or sequence of str, optional
        Advocacy only; else the profile's, else ``review`` and ``referral``.
    cutoff, horizon : optional
        Churn and advocacy only: features before ``cutoff``, the outcome within ``horizon``
        after it; else the recipe's, else the profile's (``horizon`` defaults to the
        recipe's default, 90 days).
    recipe : FeatureRecipe, optional
        Churn and advocacy only: the churn dataset's settings (a model's ``.recipe``).
    data_end : date or time, optional
        Where observation ends, when later than the log's last event.
    min_customers : int, default 30
        The floor: customers needed with the feature, and without it, to be tested.
    confidence : float, default 0.95
        Of the odds ratios' intervals.
    by : str, sequence of str or Segments, optional
        A breakdown: one block of the table per segment (see the module docstring).
    by_rule : {"first", "last", "at_cutoff"}, default "first"
        Which value of a log column that changes over time places a customer; for churn
        and advocacy, ``"at_cutoff"`` reads it before the cutoff of the outcome window.
    top : int or None, default 10
        Segments kept by name; the customers of the others form ``(other)``.

    Returns
    -------
    Drivers
        ``.table`` (pandas, one row per feature; with ``by``, the segment columns first and
        one block per segment), ``.summary()``, ``.formatted()`` (the table as text) and
        the population's size. ``lift`` is ``rate_with / rate_without``: ``inf`` when the
        outcome came only with the feature (nobody without it had it), 0 when only
        without it, NaN when there is no rate without it (everyone has the feature) or
        neither group had the outcome; :func:`lift_text` writes these for a reader.

    Raises
    ------
    JourneyParameterError
        For an unknown outcome, a profile without a conversion (or advocacy) event and none
        given, no profile, no ``conversion=`` and no :data:`FALLBACK_CONVERSION` event in
        the log, an option of another outcome (``cutoff`` for conversion, ``window`` for
        churn), a property that is a key column, or a floor or confidence out of range.
    JourneyDataError
        When an event or column named is not in the log, a named column holds no value,
        the cutoff lies outside the log (or the log ends before its horizon), nobody is in
        the population, or everybody (or nobody) in it has the outcome.

    Examples
    --------
    >>> import journey_lib as jl
    >>> from journey_lib.churn.drivers import drivers
    >>> sim = jl.simulate(3000, seed=1)
    >>> found = drivers(sim.events, "conversion", customers=sim.customers,
    ...                 customer_columns=["region"])
    >>> found.customers, found.with_outcome
    (2750, 645)
    >>> table = found.table.set_index(["feature", "value"])
    >>> table.loc[("channel", "search"), ["customers_with", "odds_ratio", "p_adjusted"]].round(3)
    customers_with    1154.000
    odds_ratio           1.295
    p_adjusted           0.015
    Name: (channel, search), dtype: float64
    >>> bool((table.loc["region", "p_adjusted"] > 0.05).all())
    True
    """
    check_choice("outcome", outcome, OUTCOMES)
    check_count("min_customers", min_customers)
    if not (isinstance(confidence, float | int) and 0 < confidence < 1):
        raise JourneyParameterError(f"confidence must be between 0 and 1; got {confidence!r}")
    frame, eager = lazy_events(events)
    schema = frame.collect_schema()
    named = _properties(properties, profile, schema)
    columns = _customer_columns(customers, customer_columns)
    frame = with_microseconds(frame, _US)
    # Columns the caller named must hold values; default ones may be empty.
    checks = (properties is not None, customer_columns is not None)
    if outcome == "conversion":
        _refuse(
            outcome, cutoff=cutoff, horizon=horizon, recipe=recipe, advocacy_events=advocacy_events
        )
        spec = segments_of(by, by_rule, top)
        segments = _segments(frame, spec, eager)
        people, stop, rule = _conversion(frame, profile, conversion, window, data_end)
        rows = frame.join(stop, on="customer_id", how="inner").filter(nw.col(_US) < nw.col(_STOP))
        pairs = _pairs(rows, frame, named, customers, columns, checks)
        if segments is not None:
            people = people.join(segments, on="customer_id", how="inner")
    else:
        _refuse(
            outcome,
            conversion=conversion,
            window=None if window is _30D else window,
            # Advocacy events name the outcome of "advocacy" only; churn has its own label.
            advocacy_events=advocacy_events if outcome == "churn" else None,
        )
        recipe = _recipe(recipe, profile, cutoff, horizon)
        if by_rule == "at_cutoff" and by is not None and not isinstance(by, Segments):
            # The segment a customer was in when the outcome window opened.
            names = by if isinstance(by, str) else tuple(by)
            spec = Segments(names, rule="at_cutoff", top=top, cutoff=recipe.cutoff)
        else:
            spec = segments_of(by, by_rule, top)
        segments = _segments(frame, spec, eager)
        table, cut, rule = _point_in_time(
            frame, outcome, profile, recipe, data_end, advocacy_events
        )
        if segments is not None:
            table = table.merge(to_pandas(segments.collect()), on="customer_id", how="left")
        before = frame.filter(nw.col(_US) < cut)
        found = _pairs(before, frame, named, customers, columns, checks)
        # The labels are the churn dataset's, one row per customer in pandas: the pairs join
        # them there.
        pairs = nw.from_native(to_pandas(found.collect())).lazy()
        people = nw.from_native(table).lazy()
    keys = [] if spec is None else spec.columns
    totals = to_pandas(
        grouped(people, keys, nw.len().alias("_n"), nw.col(_Y).sum().alias("_positive")).collect()
    )
    total, positive = int(totals["_n"].sum()), int(totals["_positive"].fillna(0).sum())
    _check_contrast(outcome, total, positive)
    counts = (
        pairs.join(people, on="customer_id", how="inner")
        .group_by(*keys, "feature", "value")
        .agg(nw.len().alias("customers_with"), nw.col(_Y).sum().alias("_outcomes"))
    )
    counts = to_pandas(counts.collect())
    counts = counts.merge(totals, on=keys) if keys else counts.assign(**totals.iloc[0])
    return Drivers(
        table=_statistics(counts, keys, min_customers, confidence),
        outcome=outcome,
        rule=rule,
        customers=total,
        with_outcome=positive,
        by=tuple(keys),
    )


def _segments(frame: nw.LazyFrame, spec: Segments | None, eager: bool) -> nw.LazyFrame | None:
    """Each customer's segment, read from the whole log given, so that a segment means
    what it means in every analytic."""
    return None if spec is None else segment_table(frame, spec, reserved=COLUMNS, check=eager)


def _refuse(outcome: str, **options: Any) -> None:
    """Refuse an option given that belongs to another outcome: silently ignoring it would
    answer another question than the one asked."""
    given = [name for name, value in options.items() if value is not None]
    if given:
        raise JourneyParameterError(
            f"{given[0]}= does not apply to outcome={outcome!r} (see journey_lib.churn.drivers "
            "for what each outcome reads)"
        )


def _properties(given: Sequence[str] | None, profile: LogProfile | None, schema: Any) -> list[str]:
    """The log columns whose values are features: those given (checked), else ``channel``
    and the profile's properties that the log has."""
    if given is None:
        kept = (["channel"] if "channel" in schema else []) + [
            p for p in from_profile(profile, "properties", None, ()) if p in schema
        ]
        return list(dict.fromkeys(kept))
    if isinstance(given, str):
        given = [given]
    names = list(dict.fromkeys(given))
    keys = [c for c in names if c in _KEYS]
    if keys:
        raise JourneyParameterError(
            f"properties names {keys[0]!r}, a key of the log; name properties such as a "
            "channel, platform or plan (every event is a feature already)"
        )
    absent = [c for c in names if c not in schema]
    if absent:
        raise JourneyDataError(
            f"properties names {absent[0]!r}, which the log does not have; it has {list(schema)}"
        )
    return names


def _customer_columns(customers: Any, given: Sequence[str] | None) -> list[str]:
    """The customer table's columns used: those given, else its text, categorical and
    boolean columns not named like identifiers."""
    if customers is None:
        if given is not None:
            raise JourneyParameterError("customer_columns needs a customer table (customers=)")
        return []
    if given is not None:
        names = [given] if isinstance(given, str) else list(dict.fromkeys(given))
        if "customer_id" in names:
            raise JourneyParameterError(
                "customer_columns names 'customer_id', the key the table joins on"
            )
        return names
    schema = nw.from_native(customers).collect_schema()
    kinds = (nw.String, nw.Categorical, nw.Enum, nw.Boolean)
    return [
        name
        for name, dtype in schema.items()
        if name != "customer_id" and isinstance(dtype, kinds) and not looks_like_id(name)
    ]


def _pairs(
    rows: nw.LazyFrame,
    frame: nw.LazyFrame,
    properties: list[str],
    customers: Any,
    columns: list[str],
    checks: tuple[bool, bool],
) -> nw.LazyFrame:
    """Distinct (customer_id, feature, value): the events and property values of ``rows``
    (the feature windows) and the customer table's values for the customers of ``frame``."""
    if checks[0] and properties:
        _check_values(frame, properties)
    text = nw.String()
    parts = [
        rows.select(
            "customer_id",
            nw.lit(EVENT, dtype=text).alias("feature"),
            nw.col("event").cast(text).alias("value"),
        )
    ]
    schema = rows.collect_schema()
    for name in properties:
        column = nw.col(name)
        if schema[name].is_float():
            # NaN is no value, as null is; Polars, DuckDB and Spark keep the two apart.
            column = column.fill_nan(None)
        parts.append(
            rows.filter(~column.is_null()).select(
                "customer_id",
                nw.lit(name, dtype=text).alias("feature"),
                column.cast(text).alias("value"),
            )
        )
    if columns:
        spec = Segments(tuple(columns), top=None, customers=customers)
        values = segment_table(frame, spec, reserved=(EVENT,), check=checks[1])
        long = unpivot(
            values, columns, index=["customer_id"], variable_name="feature", value_name="value"
        )
        parts.append(long.filter(nw.col("value") != MISSING))
    return nw.concat(parts, how="vertical").unique()


def _check_values(frame: nw.LazyFrame, columns: list[str]) -> None:
    """Refuse a property named by the caller that holds no value in the whole log."""
    counts = frame.select(*(nw.col(c).count() for c in columns)).collect().row(0)
    empty = [c for c, n in zip(columns, counts, strict=True) if n == 0]
    if empty:
        raise JourneyDataError(
            f"properties names {empty[0]!r}, whose column holds no value in the log; "
            "choose a column with values"
        )


def _conversion(
    frame: nw.LazyFrame,
    profile: LogProfile | None,
    conversion: str | None,
    window: Any,
    data_end: Any,
) -> tuple[nw.LazyFrame, nw.LazyFrame, str]:
    """The population with its outcome (``customer_id``, ``_y``), each customer's feature
    window's exclusive end, and the rule in words."""
    if conversion is None and profile is not None and profile.conversion is None:
        raise JourneyParameterError(
            "the profile names no conversion event, so conversion cannot be read; pass "
            "conversion='<event>' (or name it in the profile)"
        )
    event = from_profile(profile, "conversion", conversion, FALLBACK_CONVERSION)
    span = duration_us(window, "window")
    t = nw.col(_US)
    bounds = frame.select(
        t.max().alias("last"), (nw.col("event") == event).cast(nw.Int64()).max().alias("seen")
    )
    last, seen = bounds.collect().row(0)
    if last is None:
        raise JourneyDataError("the log is empty: there is no conversion to compare")
    if not seen:
        names = sorted(frame.select("event").unique().collect()["event"].to_list(), key=str)
        listed = f"{names[:12]}{' and more' if len(names) > 12 else ''}"
        if conversion is None and profile is None:
            # The fallback is a convenience for logs that use its name, never a guess.
            raise JourneyParameterError(
                f"outcome='conversion' needs the conversion event: pass conversion='<event>' "
                f"or profile=jl.profile(events) (with a conversion event). Without either, "
                f"{FALLBACK_CONVERSION!r} is read, but the log has no {FALLBACK_CONVERSION!r} "
                f"event; its events are {listed}"
            )
        raise JourneyDataError(
            f"conversion={event!r} never occurs in the log; its events are {listed}. "
            "Pass conversion='<event>'"
        )
    observed = _observed_to(int(last), data_end)
    # Conditions become columns before grouping: Narwhals' pandas group-by computes a
    # conditional aggregation wrongly.
    marked = frame.with_columns(nw.when(nw.col("event") == event).then(t).alias(_CONV))
    people = marked.group_by("customer_id").agg(
        t.min().alias(_FIRST), nw.col(_CONV).min().alias(_CONV)
    )
    close = nw.lit(observed) if span is None else nw.col(_FIRST) + span
    people = people.with_columns(close.alias(_STOP), nw.col(_CONV).fill_null(_NEVER))
    if span is not None:
        people = people.filter(nw.col(_STOP) <= observed)
    people = people.with_columns(
        (nw.col(_CONV) <= nw.col(_STOP)).cast(nw.Int64()).alias(_Y),
        # Rows strictly before the first conversion, and no later than the window's close.
        nw.min_horizontal(nw.col(_CONV), nw.col(_STOP) + 1).alias(_STOP),
    )
    within = "at any time" if span is None else f"within {window} of their first touchpoint"
    rule = f"a {event!r} {within}; features from their rows strictly before their first {event!r}"
    return people.select("customer_id", _Y), people.select("customer_id", _STOP), rule


def _observed_to(last: int, data_end: Any) -> int:
    """Where observation ends: ``data_end`` when given (not before the last event)."""
    if data_end is None:
        return last
    end = instant_us(data_end, "data_end")
    if end < last:
        raise JourneyDataError(
            f"data_end {_stamp(end)} is before the log's last event ({_stamp(last)}); "
            "observation cannot end before what it observed"
        )
    return end


def _point_in_time(
    frame: nw.LazyFrame,
    outcome: str,
    profile: LogProfile | None,
    recipe: FeatureRecipe,
    data_end: Any,
    advocacy_events: Any,
) -> tuple[pd.DataFrame, int, str]:
    """The churn dataset's population at the recipe's cutoff with the outcome (pandas:
    ``customer_id``, ``_y``), the cutoff in microseconds and the rule in words."""
    c = instant_us(recipe.cutoff, "cutoff")
    end = c + duration_us(recipe.horizon, "horizon")
    first, last, names = extent(frame, end)
    check_span(c, end, first, None if last is None else _observed_to(last, data_end), labelled=True)
    acquisition = recipe.acquisition_event
    if acquisition is not None and acquisition not in names:
        raise JourneyDataError(
            f"acquisition_event={acquisition!r} never occurs before the labels end; pass a "
            "recipe with the event that makes someone a customer, or acquisition_event=None "
            "to count any event"
        )
    status = status_table(
        frame,
        c,
        end,
        recipe.definition,
        duration_us(recipe.inactivity, "inactivity"),
        recipe.churn_event,
        acquisition,
    )
    population = status[status["_acquired"] & ~status["_gone"]]
    if population.empty:
        raise JourneyDataError(
            f"no customer is acquired and still active at the cutoff {_stamp(c)}; choose a "
            "later cutoff"
        )
    who = (
        f"customers acquired ({acquisition or 'any event'}) before {_stamp(c)} and not "
        f"churned by it; features from their rows before it"
    )
    if outcome == "churn":
        label = population["_label"]
        rule = f"{recipe.rule}; {who}"
    else:
        chosen = _advocacy(advocacy_events, profile, names)
        t = nw.col(_US)
        later = frame.filter(nw.col("event").is_in(chosen) & (t >= c) & (t < end))
        advocates = to_pandas(later.select("customer_id").unique().collect())["customer_id"]
        label = pd.Series(population.index.isin(advocates), index=population.index)
        rule = f"a {' or '.join(map(repr, chosen))} within {recipe.horizon} after the cutoff; {who}"
    table = pd.DataFrame(
        {"customer_id": population.index.to_numpy(), _Y: label.to_numpy().astype("int64")}
    )
    return table, c, rule


def _recipe(
    recipe: FeatureRecipe | None, profile: LogProfile | None, cutoff: Any, horizon: Any
) -> FeatureRecipe:
    """The churn dataset's settings as :func:`~journey_lib.churn.build_dataset` takes them:
    the recipe's (the profile then gives only the cutoff), else the profile's roles, else
    the defaults; ``cutoff`` and ``horizon`` given here win."""
    if recipe is not None and not isinstance(recipe, FeatureRecipe):
        raise JourneyParameterError(
            f"recipe must be a FeatureRecipe (a dataset's or a model's .recipe), not "
            f"{type(recipe).__name__}"
        )
    if recipe is None:
        recipe = FeatureRecipe()
        if profile is not None:
            recipe = dataclasses.replace(
                recipe,
                horizon=profile.horizon,
                inactivity=profile.inactivity,
                acquisition_event=profile.acquisition,
                churn_event=profile.churn_event,
            )
    if cutoff is None:
        cutoff = (
            recipe.cutoff
            if recipe.cutoff is not None
            else from_profile(profile, "cutoff", None, None)
        )
    if cutoff is None:
        raise JourneyParameterError("give a cutoff (or a profile or recipe with one)")
    return dataclasses.replace(
        recipe, cutoff=cutoff, horizon=recipe.horizon if horizon is None else horizon
    )


def _advocacy(given: Any, profile: LogProfile | None, names: set[Any]) -> list[str]:
    """The advocacy events: those given (each must occur), else the profile's, else the
    defaults that occur."""
    if given is not None:
        chosen = [given] if isinstance(given, str) else list(dict.fromkeys(given))
        absent = [e for e in chosen if e not in names]
        if absent or not chosen:
            raise JourneyDataError(
                f"advocacy_events names {absent or chosen!r}, which the log does not have "
                f"before the labels end; its events are {sorted(names, key=str)[:12]}"
            )
        return chosen
    if profile is not None:
        if not profile.advocacy:
            raise JourneyParameterError(
                "the profile names no advocacy events; pass advocacy_events=['<event>', ...]"
            )
        return list(profile.advocacy)
    chosen = [e for e in _ADVOCACY if e in names]
    if not chosen:
        raise JourneyDataError(
            f"the log has none of the default advocacy events {list(_ADVOCACY)}; pass "
            "advocacy_events=['<event>', ...]"
        )
    return chosen


def _check_contrast(outcome: str, total: int, positive: int) -> None:
    """Refuse a population with nothing to compare: nobody in it, or one outcome only."""
    if total == 0:
        raise JourneyDataError(
            f"no customer is in the {outcome} population: every customer's window ends after "
            "the log does; choose a shorter window (or pass data_end)"
        )
    if positive in (0, total):
        who = "none" if positive == 0 else "every one"
        raise JourneyDataError(
            f"{who} of the {total:,} customers in the population had the {outcome} outcome: "
            "there is nothing to compare; move the cutoff or widen the horizon or window"
        )


def _statistics(
    counts: pd.DataFrame, keys: list[str], floor: int, confidence: float
) -> pd.DataFrame:
    """The table of the module docstring from per-feature counts of customers
    (``customers_with``) and of those with the outcome (``_outcomes``), beside their
    block's population (``_n``) and positives (``_positive``)."""
    n1 = counts["customers_with"].to_numpy(dtype="int64")
    a = counts["_outcomes"].fillna(0).to_numpy(dtype="int64")
    total = counts["_n"].to_numpy(dtype="int64")
    positive = counts["_positive"].fillna(0).to_numpy(dtype="int64")
    n0 = total - n1
    b, c = n1 - a, positive - a
    d = n0 - c
    with np.errstate(divide="ignore", invalid="ignore"):
        rate_with, rate_without = a / n1, c / n0
        lift = rate_with / rate_without
    ratio, low, high = odds_ratio(a, b, c, d, confidence)
    # Everyone (or no one) has it: there is no second group to compare with.
    empty = (n1 == 0) | (n0 == 0)
    ratio, low, high = (np.where(empty, np.nan, x) for x in (ratio, low, high))
    # A segment whose customers all had the outcome (or none did) has nothing to test.
    tested = (n1 >= floor) & (n0 >= floor) & (positive > 0) & (positive < total)
    p_value = np.full(len(counts), np.nan)
    adjusted = np.full(len(counts), np.nan)
    test = np.full(len(counts), None, dtype=object)
    if tested.any():
        p, kind = association_test(a[tested], b[tested], c[tested], d[tested])
        p_value[tested], test[tested] = p, kind
        # One family of tests per segment, as if each segment were analysed alone.
        family = counts[tested].groupby(keys).ngroup().to_numpy() if keys else None
        adjusted[tested] = benjamini_hochberg(p, family)
    table = pd.DataFrame(
        {
            **{k: counts[k].astype("str").to_numpy() for k in keys},
            "feature": counts["feature"].astype("str").to_numpy(),
            "value": counts["value"].astype("str").to_numpy(),
            "customers_with": n1,
            "customers_without": n0,
            "rate_with": rate_with,
            "rate_without": rate_without,
            "lift": lift,
            "odds_ratio": ratio,
            "ci_low": low,
            "ci_high": high,
            "p_value": p_value,
            "p_adjusted": adjusted,
            "test": pd.array(test, dtype="str"),
            "tested": tested,
        }
    )
    table["_effect"] = np.abs(np.log(ratio))
    table = table.sort_values(
        [*keys, "tested", "_effect", "p_value", "feature", "value"],
        ascending=[True] * len(keys) + [False, False, True, True, True],
        kind="stable",
        na_position="last",
    )
    return table.drop(columns="_effect").reset_index(drop=True)


def _stamp(us: int) -> str:
    return f"{EPOCH + pd.Timedelta(microseconds=us):%Y-%m-%d %H:%M}"
