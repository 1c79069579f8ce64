"""Who to call today: every customer still active at the end of a log, ranked by churn risk,
with the model's reasons in words and the retention offer's decision.

The evaluation of a churn model happens at a past cutoff, on customers whose outcome is
known; nobody can call them any more. :func:`at_risk` turns the same recipe to the present.

Definitions (``H`` the horizon)
-------------------------------
* The **log's end** (``scored_at``) is midnight UTC after its last event: that event's day,
  floored, plus one day. It is also taken as the end of observation (``data_end``).
* The model is trained at the **latest labelled cutoff** (``trained_at``), the log's end
  minus ``H``: the last moment whose churn labels the log holds in full, since labels look
  ``H`` ahead (:func:`~journey_lib.churn.build_dataset`). A log spanning less than one
  horizon has no such cutoff.
* The **customers scored** are those :func:`~journey_lib.churn.build_features` keeps at the
  log's end with the training recipe: acquired before it and not churned by it under the
  recipe's rule (with churn as inactivity, a touchpoint within the last ``inactivity``).
  These are the customers one can still call; customers held out at a past cutoff are not.
* A customer is **at risk** when their churn probability is at least :data:`AT_RISK` (50%).
* **Value at risk** is the sum over the customers scored of churn probability times the
  value of keeping them: the value expected to be lost to churn within ``H`` if nothing is
  done.
* ``value``, ``expected_value`` (``p * save_rate * value - offer_cost``) and ``contact``
  are those of :mod:`journey_lib.churn.targeting`: by cost every customer with a positive
  expected value is contacted, with a ``budget`` at most the best ``budget`` of them.
  ``expected_profit`` is the sum of the contacted customers' expected values.
* With an **uplift model** learnt from a randomised campaign
  (:func:`journey_lib.uplift.fit` on :func:`journey_lib.uplift.campaign_dataset`), each
  customer's ``uplift`` (the change the offer is expected to make to their churn
  probability) replaces ``p * save_rate``: ``expected_value`` is ``-uplift * value -
  offer_cost``, and an offer that would push a customer away is never made. The list stays
  ordered by churn probability; ``uplift`` is missing without a model.
* A customer's **reasons** are their three largest risk-raising feature groups by
  :meth:`~journey_lib.churn.ChurnModel.reasons`, each worded by :func:`reason_text` from
  the group's column where the customer stands furthest from a typical training customer
  (relative to the typical value), with both values. Fewer than three groups raise the
  risk of some customers; their later reasons are missing.
* Reasons cost the model a few hundred rows a second, so they are found for at most
  ``max_reasons`` customers (:data:`MAX_REASONS`), the ones acted on first: the contacted
  customers, then the others, each highest risk first. Up to that many customers scored,
  everyone's are sought; beyond it, the others' reasons are missing.
"""

from __future__ import annotations

import dataclasses
import os
import re
import warnings
from pathlib import Path
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd
from narwhals.typing import IntoFrame

from .._engine import lazy_events, to_pandas, with_microseconds
from .._time import DAY_US, EPOCH, duration_us
from ..analytics.rfm import rfm, rfm_segments
from ..analytics.stages import get_framework
from ..errors import JourneyDataError, check_choice, check_count
from ..io.profile import LogProfile
from ..io.read import write_table
from ._features import clean_names
from .dataset import (
    DatasetReport,
    FeatureRecipe,
    build_dataset,
    build_features,
)
from .explain import feature_groups
from .model import MODELS, ChurnModel, train
from .targeting import Targeting, plan_offers

__all__ = ["AT_RISK", "COLUMNS", "MAX_REASONS", "AtRisk", "at_risk", "reason_text"]

#: The churn probability from which a customer counts as at risk.
AT_RISK = 0.5
#: The columns of :attr:`AtRisk.table`, in order.
COLUMNS = (
    "customer_id",
    "churn_probability",
    "reason_1",
    "reason_2",
    "reason_3",
    "uplift",
    "value",
    "expected_value",
    "contact",
    "segment",
)
#: Most customers given reasons (those acted on first): a larger list gets reasons for
#: its contacted and riskiest customers, whom a team calls first, in about a minute.
MAX_REASONS = 50_000
#: Fewest customers who churned, and who stayed, at the training cutoff.
MIN_CLASS = 10
_REASONS = 3
#: Reasons asked of the model, so that repeated wordings can give way.
_CANDIDATES = 5
_WINDOW = r"(?P<w>\d+(?:D|h|min))"
_THOUSANDS = r"(\d)(?=(\d{3})+(?!\d))"


@dataclasses.dataclass(frozen=True)
class AtRisk:
    """The customers to call today (see :mod:`journey_lib.churn.call_list`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per customer active at the log's end, highest churn probability first, with
        exactly :data:`COLUMNS`: ``customer_id``, ``churn_probability``, ``reason_1`` to
        ``reason_3`` (in words; missing when fewer groups raise the risk, and for the
        customers beyond ``max_reasons``), ``uplift`` (missing unless an uplift model
        decided), ``value`` (of keeping the customer), ``expected_value`` (of an offer),
        ``contact`` (the plan's choice) and ``segment``.
    trained_at : pandas.Timestamp
        The cutoff the model was trained at: the log's end minus the horizon.
    scored_at : pandas.Timestamp
        The log's end, where the customers were scored.
    horizon : str
    model : ChurnModel
        The fitted model, with its recipe.
    plan : Targeting
        The offer plan behind ``contact`` (its profit curve, ``.plot()``).
    reasons_sought : int
        How many customers reasons were sought for: everyone, or the ``max_reasons``
        acted on first (one whose risk no feature group raises has none all the same).
    """

    table: pd.DataFrame
    trained_at: pd.Timestamp
    scored_at: pd.Timestamp
    horizon: str
    model: ChurnModel
    plan: Targeting
    reasons_sought: int

    def metrics(self) -> dict[str, Any]:
        """The list's figures in plain values (JSON-ready), for a report's metrics.

        ``customers_scored``; ``at_risk_customers`` (churn probability at least
        :data:`AT_RISK`); ``value_at_risk`` (sum of churn probability times value);
        ``contacts`` and ``expected_profit`` of the plan; ``reasons_sought`` (how many
        customers reasons were sought for: everyone, or the ``max_reasons`` acted on first);
        ``scored_at`` and ``trained_at``
        as ISO dates; ``horizon``; and the offer: ``offer_cost``, ``save_rate`` (None when
        an uplift model decided), ``budget``, and ``ranking`` (``"risk"`` or ``"uplift"``).
        """
        probability = self.table["churn_probability"]
        return {
            "customers_scored": len(self.table),
            "at_risk_customers": int((probability >= AT_RISK).sum()),
            "value_at_risk": float((probability * self.table["value"]).sum()),
            "contacts": int(self.table["contact"].sum()),
            "expected_profit": self.plan.expected_profit,
            "reasons_sought": self.reasons_sought,
            "scored_at": self.scored_at.date().isoformat(),
            "trained_at": self.trained_at.date().isoformat(),
            "horizon": self.horizon,
            "offer_cost": self.plan.offer_cost,
            "save_rate": self.plan.save_rate,
            "budget": self.plan.budget,
            "ranking": "risk" if self.plan.save_rate is not None else "uplift",
        }

    def summary(self) -> str:
        """The list in one line, for logs and the command line."""
        m = self.metrics()
        budget = "" if m["budget"] is None else f", budget {m['budget']:,}"
        limited = ""
        if m["reasons_sought"] == 0:
            limited = "; no reasons sought"
        elif m["reasons_sought"] < m["customers_scored"]:
            limited = f"; reasons sought for the {m['reasons_sought']:,} acted on first"
        offer = (
            "each customer's uplift"
            if m["save_rate"] is None
            else f"save rate {m['save_rate']:.0%}"
        )
        return (
            f"{m['customers_scored']:,} customers active at {m['scored_at']} scored by a "
            f"{self.model.model} model trained at {m['trained_at']} (horizon {self.horizon}): "
            f"{m['at_risk_customers']:,} at risk (churn probability {AT_RISK:.0%} or more), "
            f"value at risk {m['value_at_risk']:,.2f}; contact {m['contacts']:,} (offer cost "
            f"{m['offer_cost']:,.2f}, {offer}{budget}), expected "
            f"profit {m['expected_profit']:,.2f}{limited}"
        )

    def formatted(self, n: int = 10, *, ids: bool = True) -> pd.DataFrame:
        """The top ``n`` rows for a page: probabilities as percentages, money in whole
        units, the decision as yes/no; the customer as the index, or with ``ids=False``
        the rank (a report page names no customer: the ids stay in ``at_risk.csv``)."""
        top = self.table.head(n)
        shown = pd.DataFrame(
            {
                "churn probability": _figures(top["churn_probability"] * 100) + "%",
                "reason 1": top["reason_1"].fillna(""),
                "reason 2": top["reason_2"].fillna(""),
                "reason 3": top["reason_3"].fillna(""),
                **(
                    {}
                    if top["uplift"].isna().all()
                    else {"churn change if offered": _points(top["uplift"])}
                ),
                "value of keeping": _figures(top["value"]),
                "expected value of an offer": _figures(top["expected_value"]),
                "contact": np.where(top["contact"], "yes", "no"),
                "segment": top["segment"],
            }
        )
        if not ids:
            return shown.set_axis(pd.RangeIndex(1, len(top) + 1, name="rank"))
        return shown.set_axis(pd.Index(top["customer_id"], name="customer"))

    def write(self, folder: str | os.PathLike[str]) -> tuple[Path, Path]:
        """Write :attr:`table` as ``at_risk.csv`` and ``at_risk.parquet`` into ``folder``
        (created if need be): the same rows and columns in both.

        Returns
        -------
        tuple of pathlib.Path
            The CSV and the Parquet file.
        """
        folder = Path(folder)
        return (
            write_table(self.table, folder / "at_risk.csv"),
            write_table(self.table, folder / "at_risk.parquet"),
        )


def at_risk(
    events: IntoFrame,
    *,
    profile: LogProfile | None = None,
    horizon: Any = None,
    inactivity: Any = None,
    customers: IntoFrame | None = None,
    model: str = "hgb",
    seed: int = 0,
    offer_cost: float = 5.0,
    save_rate: float = 0.3,
    budget: int | None = None,
    value: Any = None,
    max_train: int | None = None,
    max_reasons: int | None = MAX_REASONS,
    uplift: Any = None,
) -> AtRisk:
    """Who to call today: train at the latest labelled cutoff and score every customer
    active at the log's end, with reasons in words and the offer's decision.

    See :mod:`journey_lib.churn.call_list` for the definitions: the log's end, the latest
    labelled cutoff (the log's end minus the horizon), who is scored, at risk and value at
    risk.

    Parameters
    ----------
    events : DataFrame
        A touchpoint log of any engine (pandas, Polars, DuckDB, PySpark); the result is
        pandas.
    profile : LogProfile, optional
        As in :func:`~journey_lib.churn.build_dataset`: its horizon, inactivity,
        acquisition, conversion and churn events and stages stand in for the options not
        given. Its cutoff is not used: the cutoff is the latest labelled one.
    horizon : str or timedelta, optional
        How far ahead churn is predicted; the profile's, else ``"90D"``.
    inactivity : str or timedelta, optional
        The inactivity that counts as churn; the profile's, else ``"90D"``.
    customers : DataFrame, optional
        One row per customer: its columns join the features (as in ``build_dataset``), and
        its ``segment`` column, when it has one, gives the ``segment`` of the list.
        Without it, the segment is the RFM segment at the log's end
        (:func:`journey_lib.rfm_segments`; "no purchase yet" for a customer without one),
        or "all" when the log has no purchase.
    model : {"hgb", "logistic", "forest"}, default "hgb"
        The model family, as in :func:`~journey_lib.churn.train`.
    seed : int, default 0
        Seeds the model (and the sample of ``max_train``).
    max_train : int, optional
        Train on a stratified sample of at most this many customers
        (:meth:`~journey_lib.churn.ChurnDataset.sample`); every customer is scored all the
        same. None trains on all of them.
    max_reasons : int or None, default :data:`MAX_REASONS`
        Find reasons for at most this many customers: the contacted ones, then the others,
        each highest risk first; the rest have none. None finds them for everyone (some
        seven hundred customers a second on one core).
    offer_cost, save_rate, budget, value
        The retention offer, as in :meth:`~journey_lib.churn.ChurnModel.target`; the
        defaults (5 per offer, 30% of would-be churners kept, no budget, past spend as the
        value) are placeholders: give your own.
    uplift : UpliftModel, optional
        A fitted :class:`journey_lib.uplift.UpliftModel` (or any object whose
        ``predict_uplift`` takes the features): the offer's decision then follows each
        customer's uplift and ``save_rate`` is not used. Features it was fitted on that
        the scoring table lacks (an event type only the campaign's time had) are missing.

    Returns
    -------
    AtRisk
        ``.table`` (columns :data:`COLUMNS`, highest risk first), ``.trained_at``,
        ``.scored_at``, ``.horizon``, ``.model``, ``.plan``, ``.reasons_sought``, ``.metrics()``,
        ``.summary()``, ``.formatted()`` and ``.write(folder)``.

    Raises
    ------
    JourneyDataError
        When the log is empty or spans less than one horizon (no labelled cutoff), when no
        model can be trained at the latest labelled cutoff (no customer, or fewer than
        :data:`MIN_CLASS` who churned or who stayed: the message says which), or no customer
        is active at the log's end.
    JourneyParameterError
        For an unknown model family or offer setting, a ``max_reasons`` that is not a
        whole number of at least 0, or no value of keeping a customer (a log without money
        needs ``value=``).

    Examples
    --------
    >>> import journey_lib as jl
    >>> sim = jl.simulate(1500, seed=2, progress=False)
    >>> risk = jl.churn.at_risk(sim.events, model="logistic", offer_cost=5, save_rate=0.3)
    >>> str(risk.scored_at.date()), str(risk.trained_at.date()), risk.horizon
    ('2024-12-31', '2024-10-02', '90D')
    >>> list(risk.table.columns) == list(jl.churn.call_list.COLUMNS)
    True
    >>> bool(risk.table["churn_probability"].is_monotonic_decreasing)
    True
    >>> m = risk.metrics()
    >>> m["customers_scored"] == len(risk.table), m["contacts"] == int(risk.table["contact"].sum())
    (True, True)
    """
    check_choice("model", model, MODELS)
    if max_reasons is not None:
        check_count("max_reasons", max_reasons, minimum=0)
    first, last = _extent(events)
    if horizon is None:
        horizon = profile.horizon if profile is not None else "90D"
    end_us = (last // DAY_US + 1) * DAY_US
    cut_us = end_us - duration_us(horizon, "horizon")
    scored_at, trained_at = _stamp(end_us), _stamp(cut_us)
    if cut_us <= first:
        raise JourneyDataError(
            f"the log runs from {_stamp(first):%Y-%m-%d} to {_stamp(last):%Y-%m-%d}, less than "
            f"one horizon ({horizon}) before its end ({scored_at:%Y-%m-%d}): no cutoff has known "
            f"churn labels to train on. Give a shorter horizon or a longer log"
        )
    options: dict[str, Any] = {"horizon": horizon}
    if inactivity is not None:
        options["inactivity"] = inactivity
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            dataset = build_dataset(
                events,
                cutoff=trained_at,
                profile=profile,
                customers=customers,
                data_end=scored_at,
                **options,
            )
            _check_classes(dataset.report)
            if max_train is not None:
                dataset = dataset.sample(max_train, random_state=seed)
            fitted = train(dataset, model=model, random_state=seed)
        except JourneyDataError as exc:
            raise JourneyDataError(
                f"no churn model at the latest cutoff whose labels are known, "
                f"{trained_at:%Y-%m-%d} (the log's end {scored_at:%Y-%m-%d} minus the horizon "
                f"{horizon}): {exc}"
            ) from exc
        try:
            scoring = build_features(
                events, cutoff=scored_at, recipe=dataset.recipe, customers=customers
            )
        except JourneyDataError as exc:
            raise JourneyDataError(
                f"no customer to score at the log's end {scored_at:%Y-%m-%d}: {exc}"
            ) from exc
    _warn_once(caught)

    probability = fitted.predict_proba(scoring)
    change = None
    if uplift is not None:
        features = getattr(uplift, "features_", None) or list(scoring.X.columns)
        change = np.asarray(uplift.predict_uplift(scoring.X.reindex(columns=features)), float)
    plan = plan_offers(
        probability.to_numpy(),
        scoring,
        offer_cost=offer_cost,
        save_rate=None if change is not None else save_rate,
        value=value,
        budget=budget,
        uplift=change,
    )
    decided = plan.contacts.reindex(probability.index)
    contact = decided["contact"].to_numpy(dtype=bool)
    # The customers acted on first: the contacted ones, then the rest, highest risk first.
    first_acted = np.lexsort((-probability.to_numpy(), ~contact))[:max_reasons]
    reasons = pd.DataFrame(
        {
            f"reason_{k + 1}": pd.Series(None, index=probability.index, dtype="str")
            for k in range(_REASONS)
        }
    )
    sought = np.sort(first_acted)  # positions, in the scoring table's order
    if sought.size:
        found = _reasons_in_words(fitted, scoring.X.iloc[sought], dataset.recipe)
        reasons.iloc[sought] = found.to_numpy()
    table = pd.DataFrame(
        {
            "customer_id": probability.index.to_numpy(),
            "churn_probability": probability.to_numpy(),
            **{name: pd.array(reasons[name], dtype="str") for name in reasons.columns},
            "uplift": np.full(len(probability), np.nan) if change is None else change,
            "value": decided["value"].to_numpy(),
            "expected_value": decided["expected_value"].to_numpy(),
            "contact": contact,
            "segment": _segments(events, customers, probability.index, dataset.recipe, scored_at),
        }
    )
    # Highest risk first; equal probabilities keep the customers' order.
    order = np.argsort(-table["churn_probability"].to_numpy(), kind="stable")
    table = table.iloc[order].reset_index(drop=True)
    return AtRisk(
        table=table[list(COLUMNS)],
        trained_at=trained_at,
        scored_at=scored_at,
        horizon=str(dataset.recipe.horizon),
        model=fitted,
        plan=plan,
        reasons_sought=len(sought),
    )


def _check_classes(report: DatasetReport) -> None:
    """Refuse a training set with fewer than :data:`MIN_CLASS` churned or staying customers."""
    stayed = report.included - report.churned
    if min(report.churned, stayed) < MIN_CLASS:
        who = "customer" if report.churned == 1 else "customers"
        raise JourneyDataError(
            f"{report.churned:,} {who} churned and {stayed:,} stayed; a model needs at "
            f"least {MIN_CLASS} of each (a longer log, or a horizon that leaves more history "
            f"before the cutoff)"
        )


def _extent(events: IntoFrame) -> tuple[int, int]:
    """The first and last event times of a log, in microseconds."""
    frame, _ = lazy_events(events)
    frame = with_microseconds(frame, "_us")
    bounds = frame.select(nw.col("_us").min().alias("lo"), nw.col("_us").max().alias("hi"))
    lo, hi = bounds.collect().row(0)
    if lo is None or pd.isna(lo):
        raise JourneyDataError("the log is empty: there is no customer to score")
    return int(lo), int(hi)


def _stamp(us: int) -> pd.Timestamp:
    return pd.Timestamp(EPOCH) + pd.Timedelta(microseconds=us)


def _warn_once(caught: list[warnings.WarningMessage]) -> None:
    """Warn again what building the two tables warned, each message once (the training and
    the scoring table warn alike about the same customer table)."""
    seen: set[tuple[type[Warning], str]] = set()
    for item in caught:
        key = (item.category, str(item.message))
        if key not in seen:
            seen.add(key)
            warnings.warn(item.message, stacklevel=3)


def _segments(
    events: IntoFrame,
    customers: IntoFrame | None,
    ids: pd.Index,
    recipe: FeatureRecipe,
    scored_at: pd.Timestamp,
) -> np.ndarray:
    """The customer table's ``segment``, else the RFM segment at the log's end, else "all"."""
    if customers is not None:
        table = to_pandas(customers, what="customers")
        if "segment" in table.columns:
            segment = table.set_index("customer_id")["segment"].reindex(ids)
            return segment.astype("str").fillna("unknown").to_numpy(dtype=object)
    history = to_pandas(
        rfm(events, observation_end=scored_at, purchase_event=recipe.purchase_event)
    )
    if history.empty:
        return np.full(len(ids), "all", dtype=object)
    segment = to_pandas(rfm_segments(history)).set_index("customer_id")["segment"]
    return segment.reindex(ids).fillna("no purchase yet").to_numpy(dtype=object)


def _reasons_in_words(
    model: ChurnModel, scoring: pd.DataFrame, recipe: FeatureRecipe
) -> pd.DataFrame:
    """``reason_1`` to ``reason_3`` per customer of ``scoring``, in its order: the model's
    top reasons, each worded from the column of its group where the customer is least
    typical; a reason worded as an earlier one of the same customer (two purchase features
    of a customer who never bought) gives way to the next."""
    aligned = model.align(scoring)
    long = model.reasons(aligned, top=_CANDIDATES)
    groups = feature_groups(model.features)
    reference = model.reference
    rows = aligned.index.get_indexer(long.iloc[:, 0])
    words = np.full(len(long), None, dtype=object)
    for group, members in long.groupby("feature", sort=False).indices.items():
        at = rows[members]
        columns = groups[group]
        chosen = _least_typical(aligned.iloc[at], columns, reference)
        for j, column in enumerate(columns):
            hit = chosen == j
            if hit.any():
                values = aligned[column].iloc[at[hit]]
                words[members[hit]] = reason_text(column, values, reference[column], recipe)
    grid = np.full((len(aligned), _CANDIDATES), None, dtype=object)
    grid[rows, long["rank"].to_numpy() - 1] = words
    present = pd.notna(grid)  # writable: a frame's to_numpy() can be a read-only view
    for k in range(1, _CANDIDATES):
        repeated = (grid[:, [k]] == grid[:, :k]).any(axis=1) & present[:, k]
        present[repeated, k] = False
    # Each row's kept reasons first, in rank order.
    order = np.argsort(~present, axis=1, kind="stable")
    kept = np.where(
        np.take_along_axis(present, order, axis=1), np.take_along_axis(grid, order, axis=1), None
    )
    return pd.DataFrame(
        {f"reason_{k + 1}": pd.Series(kept[:, k], dtype="str") for k in range(_REASONS)}
    )


def _least_typical(
    rows: pd.DataFrame, columns: tuple[str, ...], reference: dict[str, Any]
) -> np.ndarray:
    """For each row, the position in ``columns`` of the one furthest from its typical value
    (relative to it: ``|x - t| / (|t| + 1)``); a group's trend only when it stands alone."""
    if len(columns) == 1:
        return np.zeros(len(rows), dtype=int)
    distance = np.full((len(rows), len(columns)), -np.inf)
    for j, column in enumerate(columns):
        typical = reference[column]
        values = rows[column]
        if column.startswith("trend_") or not pd.api.types.is_numeric_dtype(values):
            continue
        gap = (values.astype("float64") - typical).abs() / (abs(typical) + 1)
        distance[:, j] = gap.fillna(-np.inf).to_numpy()
    return np.argmax(distance, axis=1)


def reason_text(
    column: str, values: pd.Series, typical: Any, recipe: FeatureRecipe | None = None
) -> pd.Series:
    """A feature's values in words a manager reads, with the typical value.

    Parameters
    ----------
    column : str
        A feature of :func:`~journey_lib.churn.build_dataset` (``recency_days``,
        ``event_support_ticket_90D``, ``customer_plan``, ...); any other name is shown as
        its words and value.
    values : Series
        The customers' values of ``column``.
    typical : scalar
        A typical training customer's value (:attr:`ChurnModel.reference`).
    recipe : FeatureRecipe, optional
        Names the ticket and purchase events and the stages (the defaults without one).

    Returns
    -------
    Series of str
        One phrase per value, indexed as ``values``; numbers rounded (counts and days whole,
        means to one decimal), missing values as "unknown".

    Examples
    --------
    >>> import pandas as pd
    >>> reason_text("recency_days", pd.Series([63.4, 1.2]), 6.78).tolist()
    ['no touchpoint for 63 days (typical 7)', 'no touchpoint for 1 day (typical 7)']
    >>> reason_text("event_support_ticket_90D", pd.Series([3.0]), 0.0).tolist()
    ['3 support tickets in the last 90 days (typical 0)']
    >>> reason_text("customer_plan", pd.Series(["basic"]), "plus").tolist()
    ['plan: basic (most: plus)']
    """
    values = pd.Series(values)
    if not pd.api.types.is_numeric_dtype(values):
        name = _words(column.removeprefix("customer_"))
        shown = values.astype("str").fillna("unknown")
        usual = "unknown" if typical is None or pd.isna(typical) else str(typical)
        return (name + ": " + shown + f" (most: {usual})").astype("str")
    recipe = recipe or FeatureRecipe()
    stages = list(get_framework(recipe.framework).stages)
    if column == "stage_reached":
        names = np.array(["no stage", *stages], dtype=object)
        index = values.fillna(0).round().clip(0, len(stages)).astype(int).to_numpy()
        typical_at = int(np.clip(round(0 if pd.isna(typical) else typical), 0, len(stages)))
        text = pd.Series(names[index], index=values.index, dtype="str")
        return "furthest stage reached: " + text + f" (typical {names[typical_at]})"
    template, decimals = _template(column, recipe, stages)
    shown = _figures(values, decimals)
    usual = _figures(pd.Series([typical], dtype="float64"), decimals).iloc[0]
    one = shown == "1"
    singular, plural = template.replace("{s}", ""), template.replace("{s}", "s")
    text = _filled(singular, shown).where(one, _filled(plural, shown))
    known = text + f" (typical {usual})"
    # Purchase history is missing for a customer who never bought: one phrase says so.
    unknown = (
        "no purchase yet"
        if column.startswith("rfm_")
        else f"{_words(column.removeprefix('customer_'))}: unknown (typical {usual})"
    )
    return known.where(values.notna(), unknown).astype("str")


def _template(column: str, recipe: FeatureRecipe, stages: list[str]) -> tuple[str, int]:
    """The phrase of a feature, with ``{n}`` for the value and ``{s}`` for a plural's s,
    and the decimals its values are shown with."""
    fixed = {
        "recency_days": "no touchpoint for {n} day{s}",
        "tenure_days": "first touchpoint {n} day{s} ago",
        "events_total": "{n} touchpoint{s} in all",
        "tickets": "{n} support ticket{s} in all",
        "unresolved_tickets": "{n} unresolved support ticket{s}",
        "channels_used": "{n} channel{s} used",
        "value_total": "total spend {n}",
        "rfm_frequency": "repeat purchases on {n} day{s}",
        "rfm_recency": "last purchase {n} day{s} after the first",
        "rfm_T": "first purchase {n} day{s} ago",
        "rfm_monetary_value": "average repeat purchase {n}",
        "trend_events": "trend in touchpoints {n}",
    }
    if column in fixed:
        return fixed[column], 1 if column == "trend_events" else 0
    ticket, purchase = clean_names(pd.Index([recipe.ticket_event, recipe.purchase_event]))
    stage_names = dict(zip(clean_names(pd.Index(stages)), stages, strict=True))
    found = re.fullmatch(rf"events_{_WINDOW}", column)
    if found:
        return f"{{n}} touchpoint{{s}} in the last {_window_words(found['w'])}", 0
    found = re.fullmatch(rf"(?P<kind>event|channel|stage)_(?P<name>.+)_{_WINDOW}", column)
    if found:
        name, window = found["name"], _window_words(found["w"])
        if found["kind"] == "channel":
            return f"{{n}} touchpoint{{s}} via {_words(name)} in the last {window}", 0
        if found["kind"] == "stage":
            stage = stage_names.get(name, _words(name))
            return f"{{n}} touchpoint{{s}} in the {stage} stage in the last {window}", 0
        if name == ticket:
            return f"{{n}} support ticket{{s}} in the last {window}", 0
        if name == purchase:
            return f"{{n}} purchase{{s}} in the last {window}", 0
        return f"{_words(name)}: {{n}} in the last {window}", 0
    found = re.fullmatch(r"trend_stage_(?P<name>.+)", column)
    if found:
        stage = stage_names.get(found["name"], _words(found["name"]))
        return f"trend in the {stage} stage {{n}}", 1
    found = re.fullmatch(r"customer_(?P<name>.+)_days_before", column)
    if found:
        return f"{_words(found['name'])}: {{n}} day{{s}} ago", 0
    if column.startswith("customer_"):
        return f"{_words(column.removeprefix('customer_'))}: {{n}}", 2
    if column.endswith("_mean"):
        return f"average {_words(column.removesuffix('_mean'))} {{n}}", 1
    return f"{_words(column)}: {{n}}", 2


def _filled(template: str, shown: pd.Series) -> pd.Series:
    before, _, after = template.partition("{n}")
    return before + shown + after


def _words(name: str) -> str:
    return name.replace("_", " ").strip()


def _window_words(label: str) -> str:
    """``30D`` as "30 days", ``12h`` as "12 hours", ``90min`` as "90 minutes"."""
    number, unit = re.fullmatch(r"(\d+)(\D+)", label).groups()
    noun = {"D": "day", "h": "hour", "min": "minute"}[unit]
    return f"{number} {noun}{'' if number == '1' else 's'}"


def _points(change: pd.Series) -> pd.Series:
    """Changes in probability as signed percentage points, one decimal ("-4.2 pts")."""
    text = _figures(change * 100, decimals=1)
    return text.where(change.le(0) | change.isna(), "+" + text) + " pts"


def _figures(values: pd.Series, decimals: int = 0) -> pd.Series:
    """Numbers as text: rounded to ``decimals``, no needless ``.0``, thousands separated,
    missing as "unknown"."""
    numbers = pd.to_numeric(pd.Series(values), errors="coerce").astype("float64")
    rounded = numbers.round(decimals) + 0.0  # + 0.0 turns -0.0 into 0.0
    whole = rounded.eq(rounded.round())
    integers = rounded.where(whole).astype("Int64").astype("str")
    text = rounded.astype("str").where(~whole, integers)
    text = text.str.replace(_THOUSANDS, r"\1,", regex=True)
    return text.where(numbers.notna(), "unknown").astype("str")
