""":func:`attribute` and :func:`compare`, and the steps they share with
:func:`journey_lib.attribution.attribute_stages`: checking options, crediting the paths
with one model, and presenting the credit with its bootstrap interval."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd
from narwhals.typing import IntoFrame

from .._engine import to_pandas
from .._time import duration_us
from ..errors import JourneyDataError, JourneyParameterError, check_choice
from ..io.profile import LogProfile, from_profile
from . import heuristic, markov
from .bootstrap import percentile_interval, replicates
from .journeys import GOAL, base_rows, journey_rows, open_log

__all__ = ["MODELS", "attribute", "compare"]

#: Every model, rule-based first; ``"markov"`` is the data-driven one.
MODELS: tuple[str, ...] = (*heuristic.HEURISTICS, "markov")
_MEASURES = ("conversions", "value", "share")
_BOUNDS = ("conversions_lower", "conversions_upper", "value_lower", "value_upper")


@dataclass(frozen=True)
class Settings:
    """Checked options shared by every model, and the bootstrap's."""

    lookback_us: int | None
    half_life_us: int
    direct: str
    order: int
    n_boot: int = 0
    ci: float = 0.95
    seed: Any = None

    @classmethod
    def check(
        cls,
        *,
        lookback: Any,
        half_life: Any,
        direct: Any,
        order: Any,
        n_boot: Any = 0,
        ci: Any = 0.95,
        seed: Any = None,
    ) -> Settings:
        if not isinstance(direct, str):
            raise JourneyParameterError(f"direct must name a channel (text), got {direct!r}")
        if not _whole(order) or order < 1:
            raise JourneyParameterError(f"order must be a whole number >= 1, got {order!r}")
        if half_life is None:
            raise JourneyParameterError("half_life must be a positive duration such as '7D'")
        if not _whole(n_boot) or n_boot < 0:
            raise JourneyParameterError(f"n_boot must be a whole number >= 0, got {n_boot!r}")
        if isinstance(ci, bool) or not isinstance(ci, numbers.Real) or not 0 < ci < 1:
            raise JourneyParameterError(f"ci must be a coverage between 0 and 1, got {ci!r}")
        return cls(
            lookback_us=duration_us(lookback, "lookback"),
            half_life_us=duration_us(half_life, "half_life"),
            direct=direct,
            order=int(order),
            n_boot=int(n_boot),
            ci=float(ci),
            seed=seed,
        )


def _whole(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def attribute(
    events: IntoFrame,
    *,
    conversion: str | None = None,
    profile: LogProfile | None = None,
    model: str = "markov",
    by: str = "channel",
    lookback: Any = "30D",
    order: int = 1,
    half_life: Any = "7D",
    direct: str = "direct",
    n_boot: int = 0,
    ci: float = 0.95,
    seed: int | None = 0,
) -> pd.DataFrame:
    """Credit for conversions (and their value) per channel, under one attribution model.

    The definitions (paths, lookback, conversions without a touch, every model) are in
    :mod:`journey_lib.attribution`; read them once.

    Parameters
    ----------
    events : DataFrame
        A touchpoint log (``customer_id``, ``timestamp``, ``event``, the ``by`` column and
        optionally ``value``) of any engine: pandas, Polars, DuckDB, PySpark.
    conversion : str, optional
        The event that is a conversion: the profile's, else ``"purchase"``.
    profile : LogProfile, optional
        A log profile (:func:`journey_lib.profile`), for the conversion when not given.
    model : {"first_touch", "last_touch", "last_non_direct", "linear", "position_based", \
"time_decay", "markov"}, default "markov"
    by : str, default "channel"
        The column whose values receive credit (``"event"`` credits touchpoint types).
    lookback : str, timedelta or None, default "30D"
        How far before a conversion a touch still counts, inclusive; None: unlimited.
    order : int, default 1
        The Markov chain's memory: states are the last ``order`` touchpoints.
    half_life : str or timedelta, default "7D"
        Time decay's half-life (Google Analytics' 7 days).
    direct : str, default "direct"
        The ``by`` value that last non-direct skips.
    n_boot : int, default 0
        Bootstrap replicates over customers for an interval; 0: none.
    ci : float, default 0.95
        The interval's coverage.
    seed : int or None, default 0
        Seeds the bootstrap.

    Returns
    -------
    pandas.DataFrame
        One row per ``by`` value met on any path (converting or not: a value met only on
        paths that did not convert has a row with no credit), plus ``(none)`` when some
        conversion had no touch, ranked by credit (descending, then by name): the ``by``
        column (text), ``conversions`` (credited conversions, summing to the number of
        conversions), ``value`` (credited value, summing to their total value) and
        ``share`` (of conversions). With ``n_boot > 0`` also ``conversions_lower``,
        ``conversions_upper``, ``value_lower`` and ``value_upper``. Always pandas: the
        credit is computed in numpy from small aggregates collected from the engine.

    Raises
    ------
    JourneyParameterError
        For an unknown model or an invalid option.
    JourneyDataError
        When a column is missing or no row is a conversion.

    Examples
    --------
    Customer 1 saw tv, then search, then bought for 30; customer 2 saw search and bought
    for 10; customer 3 saw tv and never bought.

    >>> import pandas as pd
    >>> log = pd.DataFrame({
    ...     "customer_id": [1, 1, 1, 2, 2, 3],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03",
    ...                                  "2024-01-01", "2024-01-02", "2024-01-01"], utc=True),
    ...     "event": ["ad_view", "site_visit", "purchase", "site_visit", "purchase",
    ...               "ad_view"],
    ...     "channel": ["tv", "search", "web", "search", "web", "tv"],
    ...     "value": [0, 0, 30, 0, 10, 0]})
    >>> attribute(log, model="last_touch")
      channel  conversions  value  share
    0  search          2.0   40.0    1.0
    1      tv          0.0    0.0    0.0
    >>> attribute(log, model="linear")[["channel", "conversions", "value"]]
      channel  conversions  value
    0  search          1.5   25.0
    1      tv          0.5   15.0
    >>> attribute(log).round(3)  # Markov: removing search loses every conversion, tv half
      channel  conversions   value  share
    0  search        1.333  26.667  0.667
    1      tv        0.667  13.333  0.333
    """
    check_choice("model", model, MODELS)
    settings = Settings.check(
        lookback=lookback,
        half_life=half_life,
        direct=direct,
        order=order,
        n_boot=n_boot,
        ci=ci,
        seed=seed,
    )
    conversion = from_profile(profile, "conversion", conversion, "purchase")
    rows = _conversion_paths(events, conversion, by, settings)
    credit = credit_frame(model_table(rows, [], model, settings), [], model, settings)
    if len(credit) == 0:
        raise JourneyDataError(f"no conversions: no row has event == {conversion!r}")
    return present(credit, by)


def compare(
    events: IntoFrame,
    models: Sequence[str] | None = None,
    *,
    measure: str = "conversions",
    conversion: str | None = None,
    profile: LogProfile | None = None,
    by: str = "channel",
    lookback: Any = "30D",
    order: int = 1,
    half_life: Any = "7D",
    direct: str = "direct",
) -> pd.DataFrame:
    """Every model's credit side by side: one row per ``by`` value, one column per model.

    The rule-based models are computed together in one pass over the log, Markov in
    another. Options are those of :func:`attribute`, without the bootstrap (``n_boot``,
    ``ci``, ``seed``): compare models first, then attribute the chosen one with intervals.

    Parameters
    ----------
    events : DataFrame
        A touchpoint log of any engine.
    models : sequence of str, optional
        Models to show, in this order; default every model (:data:`MODELS`).
    measure : {"conversions", "value", "share"}, default "conversions"
        Which credit the cells hold.
    conversion, profile, by, lookback, order, half_life, direct
        As for :func:`attribute`.

    Returns
    -------
    pandas.DataFrame
        The ``by`` column (the rows of :func:`attribute`, in text order, so ``(none)``
        comes first), then one float column per model. Every model column sums to the
        number of conversions (``measure="conversions"``), their value, or 1.

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({
    ...     "customer_id": [1, 1, 1, 2, 2],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03",
    ...                                  "2024-01-01", "2024-01-02"], utc=True),
    ...     "event": ["ad_view", "site_visit", "purchase", "site_visit", "purchase"],
    ...     "channel": ["tv", "search", "web", "search", "web"]})
    >>> compare(log, ["first_touch", "last_touch", "linear", "markov"]).round(3)
      channel  first_touch  last_touch  linear  markov
    0  search          1.0         2.0     1.5   1.333
    1      tv          1.0         0.0     0.5   0.667
    """
    chosen = list(MODELS if models is None else models)
    if not chosen:
        raise JourneyParameterError("models must name at least one model")
    for name in chosen:
        check_choice("model", name, MODELS)
    check_choice("measure", measure, _MEASURES)
    settings = Settings.check(lookback=lookback, half_life=half_life, direct=direct, order=order)
    conversion = from_profile(profile, "conversion", conversion, "purchase")
    rows = _conversion_paths(events, conversion, by, settings)
    rules = [m for m in heuristic.HEURISTICS if m in chosen]
    tables = {}
    if rules:
        table = to_pandas(
            heuristic.credit_table(
                rows,
                [],
                rules,
                half_life_us=settings.half_life_us,
                direct=settings.direct,
                per_customer=False,
            )
        )
        for name in rules:
            labels, n_units, credit = heuristic.credit_function(table, [], name)
            tables[name] = _point(labels, n_units, credit)
    if "markov" in chosen:
        table = to_pandas(markov.transition_table(rows, [], settings.order, per_customer=False))
        tables["markov"] = _point(*markov.credit_function(table, [], settings.order))
    if all(t["conversions"].sum() == 0 for t in tables.values()):
        raise JourneyDataError(f"no conversions: no row has event == {conversion!r}")
    wide = pd.DataFrame({by: sorted({label for t in tables.values() for label in t[_LABEL]})})
    for name in chosen:
        cells = tables[name].set_index(_LABEL)[measure]
        wide[name] = wide[by].map(cells).fillna(0.0).astype("float64")
    return wide


_LABEL = "_jl_label"


def _conversion_paths(
    events: IntoFrame, conversion: Any, by: str, settings: Settings
) -> nw.LazyFrame:
    if not isinstance(conversion, str) or not conversion:
        raise JourneyParameterError(f"conversion must name an event, got {conversion!r}")
    frame = open_log(events, by)
    base = base_rows(frame, nw.col("event") == conversion, by)
    return journey_rows(base, [], settings.lookback_us)


def _point(labels: list[tuple[Any, str]], n_units: int, credit) -> pd.DataFrame:
    conversions, value = credit(np.ones((1, n_units)))
    return _table(labels, conversions[0], value[0])


def _table(labels: list[tuple[Any, str]], conversions: np.ndarray, value: np.ndarray):
    table = pd.DataFrame(
        {
            GOAL: pd.Series([g for g, _ in labels], dtype=object),
            _LABEL: pd.Series([label for _, label in labels], dtype="str"),
            "conversions": np.asarray(conversions, dtype=float),
            "value": np.asarray(value, dtype=float),
        }
    )
    total = table.groupby(GOAL, dropna=False, sort=False)["conversions"].transform("sum")
    share = np.divide(
        table["conversions"].to_numpy(),
        total.to_numpy(),
        out=np.zeros(len(table)),
        where=total.to_numpy() > 0,
    )
    return table.assign(share=share)


def model_table(
    rows: nw.LazyFrame, group: list[str], model: str, settings: Settings
) -> pd.DataFrame:
    """The paths of :func:`journey_rows` reduced in the engine to what ``model`` credits
    (Markov: transition counts; rule-based: each label's credit), per goal and, with
    ``settings.n_boot``, per customer; collected to pandas for :func:`credit_frame`.
    Tables of disjoint goals can be concatenated before crediting."""
    per_customer = settings.n_boot > 0
    if model == "markov":
        lazy = markov.transition_table(rows, group, settings.order, per_customer=per_customer)
    else:
        lazy = heuristic.credit_table(
            rows,
            group,
            [model],
            half_life_us=settings.half_life_us,
            direct=settings.direct,
            per_customer=per_customer,
        )
    return to_pandas(lazy)


def credit_frame(
    table: pd.DataFrame, group: list[str], model: str, settings: Settings
) -> pd.DataFrame:
    """The credit of ``model`` per (goal, label) from its :func:`model_table`: columns
    GOAL, the label, conversions, value, share and, with ``settings.n_boot``, the interval
    bounds. Goals without conversions are left out, so no conversion at all gives an empty
    frame."""
    if model == "markov":
        labels, n_units, credit = markov.credit_function(table, group, settings.order)
    else:
        labels, n_units, credit = heuristic.credit_function(table, group, model)
    table = _point(labels, n_units, credit)
    if settings.n_boot > 0:
        conversions, value = replicates(credit, n_units, settings.n_boot, settings.seed)
        bounds = percentile_interval(conversions, settings.ci)
        table["conversions_lower"], table["conversions_upper"] = bounds
        table["value_lower"], table["value_upper"] = percentile_interval(value, settings.ci)
    converted = table.groupby(GOAL, dropna=False, sort=False)["conversions"].transform("sum")
    return table[converted.to_numpy() > 0].reset_index(drop=True)


def present(table: pd.DataFrame, by: str, goal: str | None = None) -> pd.DataFrame:
    """A :func:`credit_frame` for the user: the label column named ``by``, the goal column
    named ``goal`` (or dropped), ranked by credit within a goal."""
    columns = [c for c in (*_MEASURES, *_BOUNDS) if c in table.columns]
    ranked = table.sort_values(
        [GOAL, "conversions", _LABEL], ascending=[True, False, True], kind="stable"
    )
    out = ranked.rename(columns={_LABEL: by, GOAL: goal or GOAL})
    out = out[[goal, by, *columns]] if goal else out[[by, *columns]]
    return out.reset_index(drop=True)
