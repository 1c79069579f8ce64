"""Point-in-time churn datasets: features from before a cutoff, labels from after it.

Definitions (``c`` is the cutoff, ``H`` the horizon, ``W`` the inactivity window)
----------------------------------------------------------------------------------
* **Before the cutoff** means ``timestamp < c``. Every feature is computed from those
  events only (and from the customer table), so changing or deleting any later event
  leaves ``X`` unchanged.
* A customer is **acquired** at ``c`` when they have an ``acquisition_event`` (any event
  when that is None) before ``c``.
* ``definition="inactivity"`` (as :func:`journey_lib.churn_rate`): a customer is *active
  at t* when they have an event in ``[t - W, t)``. Acquired customers not active at ``c``
  have **already churned**; the others are the population, and ``y = 1`` when they are
  not active at ``c + H``: no event in ``[c + H - W, c + H)``.
* ``definition="event"``: a customer with a ``churn_event`` (say ``"cancellation"``)
  before ``c`` has already churned; ``y = 1`` when the customer has one in
  ``[c, c + H)``.
* The log must reach ``c + H``: its last event (or ``data_end``) at or after it, or the
  labels of the last customers would be guesses.

How a table was built is a :class:`FeatureRecipe`: :func:`build_dataset` and
:func:`build_features` return the recipe they applied beside the features, :func:`train`
keeps it in the model and its card, and scoring rebuilds features with it.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd
from narwhals.typing import IntoFrame

from .._engine import lazy_events, with_microseconds
from .._time import duration_us, instant_us, utc_datetime
from ..analytics.stages import StageFramework, get_framework, profile_framework
from ..errors import JourneyDataError, JourneyDataWarning, JourneyParameterError, check_choice
from ..io.profile import LogProfile, from_profile
from ._features import (
    all_null,
    check_span,
    clean_names,
    customer_features,
    extent,
    fill_counts,
    log_features,
    rfm_features,
    status_table,
    window_spans,
)

__all__ = [
    "ChurnDataset",
    "ChurnFeatures",
    "DatasetReport",
    "FeatureRecipe",
    "build_dataset",
    "build_features",
]


class _Default(str):
    """A default that a recipe or a profile may replace: equal to its text, yet never the
    same object as text a caller passes, so an explicit ``horizon="90D"`` still wins."""


class _DefaultWindows(tuple):
    """The default look-back windows, told apart from an equal sequence a caller passes."""


_90D, _PURCHASE, _JOURNEY = _Default("90D"), _Default("purchase"), _Default("customer_journey")
_INACTIVITY, _TICKET = _Default("inactivity"), _Default("support_ticket")
_RESOLVED = _Default("ticket_resolved")
_WINDOWS = _DefaultWindows(("30D", "90D", "365D"))
_EVENT_SETTINGS = (
    "churn_event",
    "acquisition_event",
    "purchase_event",
    "ticket_event",
    "resolved_event",
)


@dataclasses.dataclass(frozen=True)
class FeatureRecipe:
    """How a churn feature table is built: the churn definition, the horizon and the
    feature settings as one object, checked when it is made.

    :func:`build_dataset` and :func:`build_features` take one as ``recipe=`` and return the
    one they applied (``.recipe``, with the cutoff and whether a customer table joined);
    :func:`train` keeps it in the model (:attr:`ChurnModel.recipe`) and its card, so that
    ``build_features(events, cutoff=now, recipe=model.recipe)`` rebuilds the model's
    features at another moment.

    Parameters
    ----------
    horizon : str or timedelta, default "90D"
        How far after the cutoff a churn counts (labels only: features do not depend on it).
    definition : {"inactivity", "event"}, default "inactivity"
    inactivity : str or timedelta, default "90D"
    churn_event : str, optional
        Required by ``definition="event"``.
    acquisition_event : str or None, default "purchase"
    purchase_event : str, default "purchase"
    windows : sequence of durations, default ("30D", "90D", "365D")
        Shortest first.
    framework : str, mapping or StageFramework, default "customer_journey"
        A built-in name is kept as the name; anything else becomes its StageFramework.
    ticket_event, resolved_event : str
        As in :func:`build_dataset`, where each setting is described.
    cutoff : date or time, optional
        The moment the features were built at (UTC); None in a recipe not applied yet.
        :func:`build_dataset` and :func:`build_features` build at it when given no cutoff.
    customers : bool, default False
        Whether a customer table's columns join the features (building then needs one).

    Durations given as timedeltas are kept as text (``"60 days 00:00:00"``) and windows as
    a tuple, so that :meth:`to_dict` holds plain values only.

    Raises
    ------
    JourneyParameterError
        For an unknown definition or framework, ``definition="event"`` without a
        ``churn_event``, a duration that is not one, or windows that do not grow.

    Examples
    --------
    >>> from journey_lib.churn import FeatureRecipe
    >>> recipe = FeatureRecipe(horizon="60D", windows=["7D", "30D"])
    >>> recipe.windows, recipe.cutoff
    (('7D', '30D'), None)
    >>> FeatureRecipe.from_dict(recipe.to_dict()) == recipe
    True
    >>> FeatureRecipe(definition="event")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    journey_lib.errors.JourneyParameterError: definition="event" needs churn_event, ...
    """

    horizon: str = "90D"
    definition: str = "inactivity"
    inactivity: str = "90D"
    churn_event: str | None = None
    acquisition_event: str | None = "purchase"
    purchase_event: str = "purchase"
    windows: tuple[str, ...] = ("30D", "90D", "365D")
    framework: str | StageFramework = "customer_journey"
    ticket_event: str = "support_ticket"
    resolved_event: str = "ticket_resolved"
    cutoff: pd.Timestamp | None = None
    customers: bool = False

    def __post_init__(self) -> None:
        def settle(name: str, value: Any) -> None:
            # Frozen: the checked, plain form replaces what was given.
            object.__setattr__(self, name, value)

        settle("horizon", _duration_text(self.horizon, "horizon"))
        check_choice("definition", self.definition, ("inactivity", "event"))
        settle("definition", str(self.definition))
        settle("inactivity", _duration_text(self.inactivity, "inactivity"))
        window_spans(self.windows)
        settle("windows", tuple(_duration_text(w, "windows") for w in self.windows))
        if self.definition == "event" and not self.churn_event:
            raise JourneyParameterError(
                'definition="event" needs churn_event, the event that marks churn '
                '(e.g. churn_event="cancellation")'
            )
        for name in _EVENT_SETTINGS:
            settle(name, _plain_name(getattr(self, name)))
        if isinstance(self.framework, str):
            get_framework(self.framework)  # a name it knows
            settle("framework", str(self.framework))
        else:
            settle("framework", get_framework(self.framework))
        if self.cutoff is not None:
            settle("cutoff", pd.Timestamp(utc_datetime(self.cutoff, "cutoff")))
        if not isinstance(self.customers, bool | np.bool_):
            raise JourneyParameterError(
                f"customers must be True or False (whether a customer table joins the "
                f"features); got {self.customers!r}"
            )
        settle("customers", bool(self.customers))

    @property
    def rule(self) -> str:
        """The label in words, for reports."""
        if self.definition == "inactivity":
            return f"no event in the last {self.inactivity} of the {self.horizon} after the cutoff"
        return f"a {self.churn_event!r} event within {self.horizon} after the cutoff"

    def to_dict(self) -> dict[str, Any]:
        """Plain values (JSON-ready) that :meth:`from_dict` reads back: the model card's
        ``built_from``."""
        framework = self.framework
        return {
            "cutoff": None if self.cutoff is None else self.cutoff.isoformat(),
            "horizon": self.horizon,
            "definition": self.definition,
            "inactivity": self.inactivity,
            "churn_event": self.churn_event,
            "acquisition_event": self.acquisition_event,
            "purchase_event": self.purchase_event,
            "windows": list(self.windows),
            "framework": framework if isinstance(framework, str) else framework.to_dict(),
            "ticket_event": self.ticket_event,
            "resolved_event": self.resolved_event,
            "customers": self.customers,
        }

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> FeatureRecipe:
        """The recipe of :meth:`to_dict`'s values (settings left out take their defaults).

        Raises
        ------
        JourneyParameterError
            For a name that is not a setting of a recipe, or a value :class:`FeatureRecipe`
            refuses.
        """
        names = [field.name for field in dataclasses.fields(cls)]
        unknown = sorted(set(values) - set(names))
        if unknown:
            raise JourneyParameterError(
                f"a feature recipe has no setting {unknown[0]!r}; its settings are {names}"
            )
        return cls(**values)


def _duration_text(value: Any, name: str) -> str:
    """A checked duration, kept as the caller wrote it when that is text."""
    duration_us(value, name)
    return str(value) if isinstance(value, str) else str(pd.Timedelta(value))


def _plain_name(value: Any) -> Any:
    """An event name as a plain value: NumPy scalars (event codes) become Python ones, and
    text plain text."""
    if isinstance(value, np.generic):
        return value.item()
    return str(value) if isinstance(value, str) else value


@dataclasses.dataclass(frozen=True)
class DatasetReport:
    """Who is in a churn dataset, who was left out and why.

    Attributes
    ----------
    cutoff, label_end : pandas.Timestamp
        Features use events before ``cutoff``; labels look up to ``label_end`` (c + H).
    definition : str
        ``"inactivity"`` or ``"event"``, with ``rule`` stating the label in words.
    customers_in_log : int
        Customers with any event before ``label_end``.
    not_acquired : int
        Customers without an acquisition event before the cutoff (left out).
    already_churned : int
        Acquired customers who had churned by the cutoff (left out).
    included : int
        Rows of ``X``; ``churned`` of them have ``y = 1``.
    features : tuple of str
        The columns of ``X``.
    dropped_columns : tuple of str
        Customer-table columns left out because they look like identifiers.
    notes : tuple of str
        Features left out and why (a ``channel`` column with no value before the cutoff).
    """

    cutoff: pd.Timestamp
    label_end: pd.Timestamp
    definition: str
    rule: str
    customers_in_log: int
    not_acquired: int
    already_churned: int
    included: int
    churned: int
    features: tuple[str, ...]
    dropped_columns: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def churn_rate(self) -> float:
        """Share of the included customers who churned within the horizon."""
        return self.churned / self.included if self.included else float("nan")

    def summary(self) -> str:
        """A few lines for logs and reports."""
        lines = [
            f"churn dataset at {self.cutoff:%Y-%m-%d %H:%M} UTC, labels to "
            f"{self.label_end:%Y-%m-%d %H:%M} UTC ({self.definition}: {self.rule})",
            f"  {self.customers_in_log:,} customers in the log; left out: "
            f"{self.not_acquired:,} not yet acquired, {self.already_churned:,} already churned",
            f"  {self.included:,} customers, {self.churned:,} churned "
            f"({self.churn_rate:.1%}); {len(self.features)} features",
        ]
        if self.dropped_columns:
            lines.append(f"  identifier-like columns dropped: {list(self.dropped_columns)}")
        lines.extend(f"  {note}" for note in self.notes)
        return "\n".join(lines)


#: Fewest customers of each label :meth:`ChurnDataset.sample` keeps (all, when fewer).
SAMPLE_MIN_CLASS = 50


class ChurnDataset(tuple):
    """``(X, y)``, which unpacks as a pair, with the :class:`DatasetReport` as ``.report``
    and the :class:`FeatureRecipe` that built it as ``.recipe``."""

    report: DatasetReport
    recipe: FeatureRecipe

    def __new__(
        cls, X: pd.DataFrame, y: pd.Series, report: DatasetReport, recipe: FeatureRecipe
    ) -> ChurnDataset:
        made = super().__new__(cls, (X, y))
        made.report = report
        made.recipe = recipe
        return made

    @property
    def X(self) -> pd.DataFrame:
        return self[0]

    @property
    def y(self) -> pd.Series:
        return self[1]

    def sample(self, n: int, random_state: int = 0) -> ChurnDataset:
        """At most ``n`` of its customers, drawn within each label in proportion (a
        stratified sample, so the churn share stays), in their order, with the same report
        and recipe; the dataset itself when it has no more.

        Each label keeps at least :data:`SAMPLE_MIN_CLASS` customers (all it has, if
        fewer), so rare churn still leaves a model something to learn from; the other
        label gives way.

        Examples
        --------
        >>> X = pd.DataFrame({"tickets": range(10)}, index=pd.Index(range(10), name="customer_id"))
        >>> y = pd.Series([1, 0, 0, 0, 0] * 2, index=X.index, name="churned")
        >>> part = ChurnDataset(X, y, None, None).sample(5)  # both who churned stay in it
        >>> len(part.X), int(part.y.sum()), part.X.index.is_monotonic_increasing
        (5, 2, True)
        """
        X, y = self
        if len(y) <= n:
            return self
        labels = y.to_numpy()
        values, counts = np.unique(labels, return_counts=True)
        # Largest remainders: shares of n that add up to n exactly.
        exact = n * counts / counts.sum()
        taken = np.floor(exact).astype(int)
        taken[np.argsort(-(exact - taken), kind="stable")[: n - taken.sum()]] += 1
        floor = np.minimum(counts, SAMPLE_MIN_CLASS)
        short = np.maximum(floor - taken, 0)
        taken = taken + short
        # What the small labels gained, the largest gives back.
        taken[np.argmax(counts)] -= short.sum()
        rng = np.random.default_rng(random_state)
        rows = np.concatenate(
            [
                rng.choice(np.flatnonzero(labels == value), size=k, replace=False)
                for value, k in zip(values, taken, strict=True)
            ]
        )
        rows = np.sort(rows)
        return ChurnDataset(X.iloc[rows], y.iloc[rows], self.report, self.recipe)


@dataclasses.dataclass(frozen=True, eq=False)
class ChurnFeatures:
    """The customers to score, from :func:`build_features`.

    Attributes
    ----------
    X : pandas.DataFrame
        One row per customer to score, indexed by ``customer_id``: what
        :meth:`ChurnModel.predict_proba`, ``reasons`` and ``target`` take.
    recipe : FeatureRecipe
        How ``X`` was built (at its cutoff).
    """

    X: pd.DataFrame
    recipe: FeatureRecipe


def build_dataset(
    events: IntoFrame,
    *,
    cutoff: Any = None,
    profile: LogProfile | None = None,
    horizon: Any = _90D,
    definition: str = _INACTIVITY,
    inactivity: Any = _90D,
    churn_event: str | None = None,
    customers: IntoFrame | None = None,
    acquisition_event: str | None = _PURCHASE,
    purchase_event: str = _PURCHASE,
    windows: Sequence[Any] = _WINDOWS,
    framework: Any = _JOURNEY,
    ticket_event: str = _TICKET,
    resolved_event: str = _RESOLVED,
    data_end: Any = None,
    recipe: FeatureRecipe | None = None,
) -> ChurnDataset:
    """Features at ``cutoff`` and churn labels over the ``horizon`` after it.

    See the module docstring for the exact definitions of the population and the label.

    Parameters
    ----------
    events : DataFrame
        A touchpoint log of any engine (pandas, Polars, DuckDB, PySpark); the result is
        pandas either way.
    cutoff : date or time
        The moment the prediction is made (naive means UTC); when not given, the recipe's,
        else the profile's.
    profile : LogProfile, optional
        A log profile (:func:`journey_lib.profile`). Its cutoff, horizon, inactivity,
        acquisition event, conversion (as ``purchase_event``), churn event and stages take
        the place of the options the caller leaves out; what the caller passes wins, even a
        value equal to the default.
    horizon : str or timedelta, default "90D"
        How far after the cutoff a churn counts.
    definition : {"inactivity", "event"}, default "inactivity"
        Churn as a lapse of ``inactivity`` without events, or as a ``churn_event``.
    inactivity : str or timedelta, default "90D"
        ``W`` for ``definition="inactivity"``.
    churn_event : str, optional
        The event that marks churn, for ``definition="event"``.
    customers : DataFrame, optional
        One row per customer (``customer_id`` and attributes, as from
        :func:`journey_lib.validate_customers`). Its columns join ``X``: dates become days
        before the cutoff (dates after it are future knowledge, made missing and counted in
        a warning) and identifier-like columns are dropped with a warning.
    acquisition_event : str or None, default "purchase"
        The event that makes someone a customer; None: any event.
    purchase_event : str, default "purchase"
        The event whose rows are transactions for the RFM features.
    windows : sequence of durations, default ("30D", "90D", "365D")
        Look-back windows for the counts, shortest first.
    framework : str, mapping or StageFramework, default "customer_journey"
        Journey stages for the per-stage counts and ``stage_reached`` (see
        :func:`journey_lib.assign_stages`).
    ticket_event, resolved_event : str
        Support tickets and their resolutions: ``unresolved_tickets`` counts tickets
        without a later resolution before the cutoff.
    data_end : date or time, optional
        Where the log's observation ends; the log's last event when None.
    recipe : FeatureRecipe, optional
        All of the options above at once (as a model's :attr:`ChurnModel.recipe`, to
        rebuild its dataset at another cutoff); options passed beside it win, and the
        profile then only gives the cutoff. A recipe made with a customer table needs
        ``customers``.

    Returns
    -------
    ChurnDataset
        Unpacks as ``X, y``: ``X`` one row per included customer (index ``customer_id``,
        sorted) and ``y`` the 0/1 label named ``churned``; ``.report`` says who was left out
        and ``.recipe`` is the :class:`FeatureRecipe` applied (for :func:`train`).

    Features
    --------
    ``recency_days`` (since the last event), ``tenure_days`` (since the first),
    ``events_{w}`` and ``trend_events`` (events in the last window minus the earlier
    windows' average per the last window's length: ``n_w0 - (n_w1 - n_w0) * w0 / (w1 - w0)``),
    ``event_{name}_{w}``, ``channel_{name}_{w}`` and ``stage_{name}_{w}`` counts per window,
    ``trend_stage_{name}``, ``stage_reached`` (1-based index of the furthest stage),
    ``channels_used``, ``tickets`` and ``unresolved_tickets``, ``value_total``,
    ``{column}_mean`` of other numeric event columns, lifetimes' RFM as ``rfm_frequency``,
    ``rfm_recency``, ``rfm_T`` and ``rfm_monetary_value`` (daily periods), and the customer
    table's columns. Names are cleaned to letters, digits and underscores.

    Raises
    ------
    JourneyParameterError
        For unknown options, a missing ``churn_event``, or windows that are not increasing.
    JourneyDataError
        When the cutoff lies outside the log, the log ends before ``cutoff + horizon``, or
        no customer is left.

    Examples
    --------
    >>> import journey_lib as jl
    >>> sim = jl.simulate(400, seed=3)
    >>> X, y = dataset = jl.churn.build_dataset(sim.events, cutoff="2024-09-01")
    >>> X.index.name, y.name, len(X) == len(y)
    ('customer_id', 'churned', True)
    >>> bool(set(y.unique()) <= {0, 1})
    True
    >>> dataset.recipe.cutoff, dataset.recipe.horizon
    (Timestamp('2024-09-01 00:00:00+0000', tz='UTC'), '90D')
    """
    recipe = _settle(
        recipe,
        profile,
        cutoff,
        customers,
        {
            "horizon": horizon,
            "definition": definition,
            "inactivity": inactivity,
            "churn_event": churn_event,
            "acquisition_event": acquisition_event,
            "purchase_event": purchase_event,
            "windows": windows,
            "framework": framework,
            "ticket_event": ticket_event,
            "resolved_event": resolved_event,
        },
    )
    horizon_us = duration_us(recipe.horizon, "horizon")
    X, status, dropped, notes = _build(events, recipe, horizon_us, data_end, customers)
    y = status.loc[X.index, "_label"].astype("int64").rename("churned")
    acquired = status["_acquired"]
    report = DatasetReport(
        cutoff=recipe.cutoff,
        label_end=recipe.cutoff + pd.Timedelta(microseconds=horizon_us),
        definition=recipe.definition,
        rule=recipe.rule,
        customers_in_log=len(status),
        not_acquired=int((~acquired).sum()),
        already_churned=int((acquired & status["_gone"]).sum()),
        included=len(X),
        churned=int(y.sum()),
        features=tuple(X.columns),
        dropped_columns=dropped,
        notes=notes,
    )
    return ChurnDataset(X, y, report, recipe)


def build_features(
    events: IntoFrame,
    *,
    cutoff: Any = None,
    profile: LogProfile | None = None,
    definition: str = _INACTIVITY,
    inactivity: Any = _90D,
    churn_event: str | None = None,
    customers: IntoFrame | None = None,
    acquisition_event: str | None = _PURCHASE,
    purchase_event: str = _PURCHASE,
    windows: Sequence[Any] = _WINDOWS,
    framework: Any = _JOURNEY,
    ticket_event: str = _TICKET,
    resolved_event: str = _RESOLVED,
    recipe: FeatureRecipe | None = None,
) -> ChurnFeatures:
    """The features of :func:`build_dataset` without labels: the customers to score now.

    The population is the same (acquired before ``cutoff`` and not churned by it), and so
    are the features; nothing after the cutoff is needed, so the cutoff may be the end of
    the log or later. The options are those of :func:`build_dataset`; to score with a
    model, pass its recipe and the moment: ``recipe=model.recipe, cutoff=...``.

    Returns
    -------
    ChurnFeatures
        ``.X``, one row per customer to score, indexed by ``customer_id``, and ``.recipe``,
        the :class:`FeatureRecipe` applied (its horizon is the recipe's or profile's, else
        the default: features do not depend on it).

    Raises
    ------
    JourneyDataError
        When the cutoff is not after the log's first event, or no customer is left.

    Examples
    --------
    >>> import journey_lib as jl
    >>> sim = jl.simulate(400, seed=3)
    >>> dataset = jl.churn.build_dataset(sim.events, cutoff="2024-09-01", windows=["7D", "30D"])
    >>> scoring = jl.churn.build_features(sim.events, cutoff="2025-01-01", recipe=dataset.recipe)
    >>> scoring.X.index.name, "events_7D" in scoring.X, str(scoring.recipe.cutoff.date())
    ('customer_id', True, '2025-01-01')
    """
    recipe = _settle(
        recipe,
        profile,
        cutoff,
        customers,
        {
            "horizon": _90D,
            "definition": definition,
            "inactivity": inactivity,
            "churn_event": churn_event,
            "acquisition_event": acquisition_event,
            "purchase_event": purchase_event,
            "windows": windows,
            "framework": framework,
            "ticket_event": ticket_event,
            "resolved_event": resolved_event,
        },
    )
    X, _, _, _ = _build(events, recipe, None, None, customers)
    return ChurnFeatures(X, recipe)


def _settle(
    recipe: FeatureRecipe | None,
    profile: LogProfile | None,
    cutoff: Any,
    customers: Any,
    options: dict[str, Any],
) -> FeatureRecipe:
    """The recipe a public function applies: the options the caller passed, then the
    recipe's (without one, the profile's roles, then the defaults); at the cutoff passed,
    else the recipe's, else the profile's."""
    if recipe is not None and not isinstance(recipe, FeatureRecipe):
        raise JourneyParameterError(
            f"recipe must be a FeatureRecipe (a dataset's or a model's .recipe), not "
            f"{type(recipe).__name__}"
        )
    if recipe is None:
        chosen = FeatureRecipe(**_from_profile(options, profile))
    else:
        # churn_event has no default: None there means the caller left it out.
        given = {
            name: value
            for name, value in options.items()
            if not isinstance(value, _Default | _DefaultWindows)
            and not (name == "churn_event" and value is None)
        }
        chosen = dataclasses.replace(recipe, **given)
    if cutoff is None and recipe is not None:
        cutoff = recipe.cutoff
    if chosen.customers and customers is None:
        raise JourneyParameterError(
            "the recipe was built with a customer table (customers=True); pass that table as "
            "customers="
        )
    return dataclasses.replace(
        chosen, cutoff=_cutoff(cutoff, profile), customers=customers is not None
    )


def _from_profile(options: dict[str, Any], profile: LogProfile | None) -> dict[str, Any]:
    """The options with the profile's roles where the caller left the defaults (even an
    explicit value equal to a default wins): what the caller says, then the profile (a
    profile without an acquisition event means any event, as a process log's case begins
    with its first)."""
    out = {
        name: tuple(value) if isinstance(value, _DefaultWindows) else value
        for name, value in options.items()
    }
    if profile is None:
        return out
    if isinstance(options["horizon"], _Default):
        out["horizon"] = profile.horizon
    if isinstance(options["inactivity"], _Default):
        out["inactivity"] = profile.inactivity
    if isinstance(options["acquisition_event"], _Default):
        out["acquisition_event"] = profile.acquisition
    if isinstance(options["purchase_event"], _Default) and profile.conversion is not None:
        out["purchase_event"] = profile.conversion
    if options["churn_event"] is None:
        out["churn_event"] = profile.churn_event
    if isinstance(options["framework"], _Default):
        out["framework"] = profile_framework(profile)
    return out


def _cutoff(cutoff: Any, profile: LogProfile | None) -> Any:
    chosen = from_profile(profile, "cutoff", cutoff, None)
    if chosen is None:
        raise JourneyParameterError("give a cutoff (or a profile with one)")
    return chosen


def _build(
    events: IntoFrame,
    recipe: FeatureRecipe,
    horizon_us: int | None,
    data_end: Any,
    customers: Any,
) -> tuple[pd.DataFrame, pd.DataFrame, tuple[str, ...], tuple[str, ...]]:
    """Features of the population at the recipe's cutoff, the status of every customer
    (labels over ``horizon_us`` when given), the customer-table columns dropped and notes on
    features left out."""
    definition = recipe.definition
    churn_event = recipe.churn_event
    acquisition_event = recipe.acquisition_event
    purchase_event = recipe.purchase_event
    inactivity_us = duration_us(recipe.inactivity, "inactivity")
    window_us = window_spans(recipe.windows)
    cut = recipe.cutoff
    c = instant_us(cut, "cutoff")
    end = c + (horizon_us or 0)

    frame, _ = lazy_events(events)
    schema = frame.collect_schema()
    frame = with_microseconds(frame, "_us")
    first_us, last_us, names = extent(frame, end)
    observed_to = last_us
    if data_end is not None:
        observed_to = instant_us(data_end, "data_end")
    check_span(c, end, first_us, observed_to, labelled=horizon_us is not None)
    if acquisition_event is not None and acquisition_event not in names:
        raise JourneyDataError(
            f"acquisition_event={acquisition_event!r} never occurs before the labels end; "
            f"pass the event that makes someone a customer, or acquisition_event=None to "
            f"count any event"
        )
    if horizon_us is not None and definition == "event" and churn_event not in names:
        warnings.warn(
            f"churn_event={churn_event!r} never occurs in the log: every label is 0",
            JourneyDataWarning,
            stacklevel=3,
        )

    status = status_table(frame, c, end, definition, inactivity_us, churn_event, acquisition_event)
    population = status.index[status["_acquired"] & ~status["_gone"]]
    if population.empty:
        raise JourneyDataError(
            f"no customer is acquired and still active at the cutoff {cut:%Y-%m-%d %H:%M}; "
            f"choose a later cutoff"
        )

    before = frame.filter(nw.col("_us") < c)
    notes: tuple[str, ...] = ()
    channel = "channel" in schema
    if channel and all_null(before, "channel"):
        # An export with an empty channel column: no channel to count, and a column of zeros
        # would only look like information.
        channel = False
        notes = ("no channel features: the log's channel column has no value before the cutoff",)
    X = log_features(
        before,
        schema,
        channel,
        c,
        window_us,
        recipe.framework,
        recipe.ticket_event,
        recipe.resolved_event,
        population,
    )
    X = X.reindex(population)
    if purchase_event in names:
        X = X.join(rfm_features(before, c, purchase_event))
    dropped: tuple[str, ...] = ()
    if customers is not None:
        table, dropped = customer_features(customers, cut, X.index)
        X = X.join(table)
    X = fill_counts(X)
    X.columns = clean_names(X.columns)
    X = X.sort_index()
    return X, status, dropped, notes
