"""A randomised campaign's customers from a touchpoint log: each one's features before it,
whether they were offered, and whether they churned after it.

A log holds a **campaign** when some of its rows carry a treatment flag (the profile's
``treatment`` column: 1/0, true/false, offer/control, treatment/holdout, ...): the rows of
one event name with a flag are one campaign, and a customer's flag says whether they were
offered (1) or held out (0). The campaign **begins** at the midnight (UTC) of the day of its
first row. For its customers:

* **features** are :func:`journey_lib.churn.build_dataset`'s at that moment, from the events
  before it, the campaign's own rows left out;
* the **outcome** is churn ``within`` a window after it (default the profile's horizon). With
  churn as inactivity (a lapse of ``W`` without events) a customer churned within the
  window when they have no event in the ``W`` after it: ``build_dataset``'s label with the
  horizon ``within + W``, so that a customer who left early in the window is counted and one
  still there at its end is not. With churn as an event (``definition="event"``), the event
  within the window. No flagged row counts as activity or as a feature, this campaign's
  or another's: an offer, or the record of a customer held out, is the business's touch,
  not the customer's.

Customers of the campaign whom the features cannot describe (they had churned before it by
the log's definition, or were not yet customers) are left out and counted, as are customers
logged in both arms.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd
from narwhals.typing import IntoFrame

from .._engine import to_pandas
from ..churn.dataset import build_dataset
from ..errors import JourneyDataError, JourneyParameterError
from ..io.profile import LogProfile

__all__ = ["CampaignData", "campaign_dataset", "find_campaigns", "treatment_flags"]

#: Words of a column's name saying it flags the held-out arm.
_HELD_OUT_NAMES = frozenset({"holdout", "control", "held", "heldout"})
#: Values that name no arm themselves: what they mean depends on the column's name.
_PLAIN = frozenset({"1", "0", "true", "false", "t", "f", "yes", "no", "y", "n"})
#: Written values read as offered, and as held out (compared in lower case).
OFFERED = frozenset({"1", "true", "t", "yes", "y", "treatment", "treated", "treat", "offer",
                     "offered", "test", "variant", "contacted"})  # fmt: skip
HELD_OUT = frozenset({"0", "false", "f", "no", "n", "control", "holdout", "hold out",
                      "held out", "held_out", "holdout group", "not offered", "none"})  # fmt: skip


@dataclasses.dataclass(frozen=True)
class CampaignData:
    """A campaign's customers, ready for :func:`journey_lib.uplift.fit`; unpacks as
    ``X, treatment, y``.

    Attributes
    ----------
    X : pandas.DataFrame
        Features at the campaign's start, indexed by ``customer_id``.
    treatment : pandas.Series
        1 offered, 0 held out, aligned with ``X``.
    y : pandas.Series
        1 churned within the window, aligned with ``X``.
    campaign : str
        The campaign's event name (a customer table's treatment column).
    start, end : pandas.Timestamp or None
        The campaign's start (features before it) and the window's end; None for a
        customer table's campaign, which has no times.
    counts : dict
        ``in_campaign`` (customers with a flag), ``both_arms`` and ``not_customers`` (left
        out, see :mod:`journey_lib.uplift.campaigns`), ``used``, ``offered``, ``held_out``.
    example_both_arms : object
        One customer logged in both arms, or None.
    """

    X: pd.DataFrame
    treatment: pd.Series
    y: pd.Series
    campaign: str
    start: pd.Timestamp | None
    end: pd.Timestamp | None
    counts: dict[str, int]
    example_both_arms: Any = None

    def __iter__(self):
        return iter((self.X, self.treatment, self.y))

    def frame(self) -> pd.DataFrame:
        """``treated`` and ``churned`` per customer, as :func:`campaign_effect` takes them."""
        return pd.DataFrame({"treated": self.treatment, "churned": self.y})

    def summary(self) -> str:
        """Who is in the campaign's data, and who was left out, in a few lines."""
        c = self.counts
        when = "" if self.start is None else f" from {self.start:%Y-%m-%d}"
        lines = [
            f"campaign {self.campaign!r}{when}: {c['used']:,} customers, "
            f"{c['offered']:,} offered and {c['held_out']:,} held out"
        ]
        if self.start is not None and self.end is not None:
            lines.append(f"  churn counted from {self.start:%Y-%m-%d} to {self.end:%Y-%m-%d}")
        if c["not_customers"]:
            lines.append(
                f"  {c['not_customers']:,} of the {c['in_campaign']:,} flagged customers are "
                "left out: they had already churned or were not yet customers at its start"
            )
        if c["both_arms"]:
            lines.append(
                f"  {c['both_arms']:,} customers logged both offered and held out are left "
                f"out, e.g. {self.example_both_arms!r}"
            )
        return "\n".join(lines)


def treatment_flags(values: Any, treated_value: Any = None, *, name: str = "") -> pd.Series:
    """Treatment flags read as 1 (offered), 0 (held out) or missing.

    Numbers 1 and 0, booleans and yes/no are read as offered and held out, and so are the
    words of :data:`OFFERED` and :data:`HELD_OUT`; with ``treated_value``, that value (a
    number compared as a number) is 1 and any other present value 0. A column ``name``d
    for the held-out arm (``holdout``, ``control``, ``held_out``) turns the numbers, booleans
    and yes/no around: its 1 means held out.

    Raises
    ------
    JourneyDataError
        When a present value is neither, naming it and how many rows have it, or when
        ``treated_value`` is on no row.

    Examples
    --------
    >>> treatment_flags(["Offer", "control", None, "offer"]).tolist()
    [1, 0, <NA>, 1]
    >>> treatment_flags(["B", "A"], treated_value="B").tolist()
    [1, 0]
    >>> treatment_flags([1, 0], name="holdout").tolist()
    [0, 1]
    """
    series = pd.Series(values)
    present = series.notna()
    if treated_value is not None:
        numeric = pd.api.types.is_number(treated_value) and not isinstance(treated_value, bool)
        if numeric and pd.api.types.is_numeric_dtype(series):
            hit = series == treated_value
        else:
            hit = series.astype("str") == str(treated_value)
        if not (hit & present).any():
            raise JourneyDataError(
                f"treated_value={treated_value!r} is on no row of the treatment flag; its "
                f"values: {sorted(series[present].astype('str').unique().tolist())[:5]}"
            )
        return hit.astype("Int8").where(present, pd.NA)
    text = series[present].astype("str").str.strip().str.lower()
    text = text.str.replace(r"\.0$", "", regex=True)  # 1.0 from a column with gaps
    flags = pd.Series(pd.NA, index=series.index, dtype="Int8")
    flags[present] = np.where(text.isin(OFFERED), 1, np.where(text.isin(HELD_OUT), 0, -1))
    if set(re.split(r"[^a-z]+", name.lower())) & _HELD_OUT_NAMES:
        # "holdout = 1" is a held-out customer: the unnamed values turn around, the arms'
        # own words ("offer", "control") do not.
        plain = text.isin(_PLAIN).to_numpy()
        flags[present] = np.where(plain, 1 - flags[present], flags[present])
    unknown = series[present][(flags[present] == -1).to_numpy()]
    if len(unknown):
        counts = unknown.astype("str").value_counts().head(3)
        listed = ", ".join(
            f"{value!r} ({n:,} row{'s' if n > 1 else ''})" for value, n in counts.items()
        )
        raise JourneyDataError(
            f"the treatment flag of {len(unknown):,} row(s) reads neither as offered nor as "
            f"held out: {listed}; name the offered arm's value with treated_value="
        )
    return flags


def _treatment_column(events: Any, treatment: str | None, profile: LogProfile | None) -> str:
    columns = nw.from_native(events).collect_schema().names()
    name = treatment or (profile.column("treatment") if profile is not None else None)
    name = name or ("treatment" if "treatment" in columns else None)
    if name is None:
        raise JourneyParameterError(
            "the log has no treatment column: name it with treatment= or in the profile "
            "(columns={COLUMN: 'treatment'}); a campaign's rows carry 1 (offered) or 0 (held "
            "out) in it"
        )
    if name not in columns:
        raise JourneyDataError(f"the treatment column {name!r} is not in the log: {columns}")
    return name


def find_campaigns(
    events: IntoFrame, *, profile: LogProfile | None = None, treatment: str | None = None
) -> pd.DataFrame:
    """The campaigns a log holds: one row per event name carrying a treatment flag.

    Returns
    -------
    DataFrame
        ``campaign`` (the event), ``first`` and ``last`` (times of its rows), ``rows``
        and ``customers``, largest first.

    Examples
    --------
    >>> import journey_lib as jl
    >>> sim = jl.simulate(3000, seed=1, campaigns=[jl.Campaign("2024-06-03")])
    >>> found = jl.uplift.find_campaigns(sim.events)
    >>> print(found[["campaign", "customers"]].to_string(index=False))
           campaign  customers
    retention_offer        254
    """
    column = _treatment_column(events, treatment, profile)
    rows = (
        nw.from_native(events)
        .filter(~nw.col(column).is_null())
        .group_by("event")
        .agg(
            nw.col("timestamp").min().alias("first"),
            nw.col("timestamp").max().alias("last"),
            nw.len().alias("rows"),
            nw.col("customer_id").n_unique().alias("customers"),
        )
    )
    table = to_pandas(rows).rename(columns={"event": "campaign"})
    return table.sort_values(["customers", "campaign"], ascending=[False, True], ignore_index=True)


def _span(name: str, value: Any) -> pd.Timedelta:
    try:
        span = pd.Timedelta(value)
    except (TypeError, ValueError) as error:
        raise JourneyParameterError(
            f"{name} must be a duration such as '90D' or '12W', got {value!r}"
        ) from error
    if not span > pd.Timedelta(0):
        raise JourneyParameterError(f"{name} must be a positive duration, got {value!r}")
    return span


def campaign_dataset(
    events: IntoFrame,
    *,
    profile: LogProfile | None = None,
    campaign: str | None = None,
    treatment: str | None = None,
    treated_value: Any = None,
    within: Any = None,
    customers: IntoFrame | None = None,
    **options: Any,
) -> CampaignData:
    """A campaign's customers from a log: features before it, the arm, churn after it
    (definitions in :mod:`journey_lib.uplift.campaigns`).

    Parameters
    ----------
    events : frame of any engine
        A canonical touchpoint log (:func:`journey_lib.read_events` or
        ``LogProfile.read``) with a treatment column on the campaign's rows.
    profile : LogProfile, optional
        Its treatment column, horizon and inactivity, and everything
        :func:`journey_lib.churn.build_dataset` takes from it.
    campaign : str, optional
        The campaign's event name; needed only when several events carry a flag.
    treatment : str, optional
        The treatment column, when the profile does not name it (default ``"treatment"``).
    treated_value : optional
        The value of the offered arm, when the flags are not 1/0 or yes/no words.
    within : str or timedelta, optional
        The window after the start in which churn counts; the profile's horizon, else 90
        days.
    customers : frame, optional
        A customer table whose columns join the features.
    **options
        Passed to :func:`journey_lib.churn.build_dataset` (``definition``, ``inactivity``,
        ``churn_event``, ``windows``, ...).

    Returns
    -------
    CampaignData

    Raises
    ------
    JourneyDataError
        When the log has no flagged rows, a flag cannot be read, the log ends before the
        window's outcome is known, or one arm is empty.
    JourneyParameterError
        When the log holds several campaigns and none is named (or an unknown one is),
        there is no treatment column, ``within`` is no duration, or ``cutoff`` or
        ``horizon`` is given (the campaign sets them).

    Examples
    --------
    >>> import journey_lib as jl
    >>> sim = jl.simulate(3000, seed=1, campaigns=[jl.Campaign("2024-06-03")])
    >>> data = jl.uplift.campaign_dataset(sim.events, profile=jl.profile(sim.events))
    >>> print(data.summary())
    campaign 'retention_offer' from 2024-06-03: 254 customers, 127 offered and 127 held out
      churn counted from 2024-06-03 to 2024-09-01
    >>> X, t, y = data
    >>> len(X) == len(t) == len(y)
    True
    """
    column = _treatment_column(events, treatment, profile)
    found = find_campaigns(events, profile=profile, treatment=column)
    if found.empty:
        raise JourneyDataError(
            f"no row of the log has a treatment flag in {column!r}: it holds no campaign"
        )
    if campaign is None:
        if len(found) > 1:
            listed = ", ".join(f"{c!r} ({n:,} customers)" for c, n in
                               zip(found["campaign"], found["customers"], strict=True))  # fmt: skip
            raise JourneyParameterError(
                f"the log holds {len(found)} campaigns; choose one with campaign=: {listed}"
            )
        campaign = str(found["campaign"].iloc[0])
    elif campaign not in set(found["campaign"]):
        raise JourneyParameterError(
            f"no row of event {campaign!r} has a treatment flag; the campaigns: "
            f"{found['campaign'].tolist()}"
        )
    frame = nw.from_native(events)
    is_campaign = (nw.col("event") == campaign) & ~nw.col(column).is_null()
    rows = to_pandas(frame.filter(is_campaign).select("customer_id", "timestamp", column))
    rows["_arm"] = treatment_flags(rows[column], treated_value, name=column).to_numpy()
    start = pd.Timestamp(rows["timestamp"].min())
    start = start.tz_localize("UTC") if start.tzinfo is None else start.tz_convert("UTC")
    start = start.normalize()
    arms = rows.groupby("customer_id")["_arm"].agg(["min", "max"])
    both = arms.index[arms["min"] != arms["max"]]
    arm = arms.loc[arms["min"] == arms["max"], "min"].astype("int64")

    taken = sorted({"cutoff", "horizon", "recipe"} & set(options))
    if taken:
        raise JourneyParameterError(
            f"campaign_dataset sets {taken[0]} itself (the campaign's start, and the window "
            "after it); give within= for the window"
        )
    definition = options.get("definition", "inactivity")
    window = _span("within", within or (profile.horizon if profile is not None else "90D"))
    horizon = window
    if definition == "inactivity":
        lapse = options.get("inactivity") or (profile.inactivity if profile else "90D")
        horizon = window + _span("inactivity", lapse)
    # Every campaign's rows go, not only this one's: an offer or a hold-out record is the
    # business's, not the customer's activity. The flag goes too: it would tell the model
    # who was offered before.
    rest = frame.filter(nw.col(column).is_null()).drop(column).to_native()
    X, y = build_dataset(
        rest, profile=profile, cutoff=start, horizon=horizon, customers=customers, **options
    )
    used = X.index.intersection(arm.index)
    t = arm.reindex(used).rename("treatment")
    counts = {
        "in_campaign": int(rows["customer_id"].nunique()),
        "both_arms": len(both),
        "not_customers": len(arm) - len(used),
        "used": len(used),
        "offered": int(t.sum()),
        "held_out": int(len(t) - t.sum()),
    }
    if not counts["offered"] or not counts["held_out"]:
        empty = "offered" if not counts["offered"] else "held-out"
        raise JourneyDataError(
            f"campaign {campaign!r} has no {empty} customer the log describes at its start "
            f"({counts['used']:,} customers in all): nothing to compare"
        )
    example = both[0] if len(both) else None
    example = example.item() if isinstance(example, np.generic) else example
    return CampaignData(
        X=X.loc[used],
        treatment=t,
        y=y.loc[used],
        campaign=campaign,
        start=start,
        end=start + window,
        counts=counts,
        example_both_arms=example,
    )
