"""Loyalty and advocacy: who comes back, who speaks up for the business, and whom they bring.

The last two stages of the journey, retention and advocacy, measured from the log: repeat
purchases, customers in each stage, reviews and referrals period by period, the advocates
themselves, and the referral chains (who brought whom) when the log records them.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd
from narwhals.typing import IntoFrame

from .._engine import in_utc, lazy_events, money, to_pandas, zoned_again
from .._time import period_start
from ..errors import JourneyDataError, JourneyDataWarning, JourneyParameterError, check_choice
from ..io.profile import LogProfile, from_profile
from ..io.rules import matching_rule
from ._periods import flag
from .segments import MISSING, Segments, grouped, segment_table, segments_of
from .stages import StageFramework, assign_stages, resolve_framework

__all__ = ["Loyalty", "loyalty"]

#: Calendar periods loyalty is counted by.
PERIODS = ("week", "month", "quarter", "year")
#: The per-customer flags counted each period, and the rate each one gives.
_FLAGS = {
    "_repeat": ("repeat_buyers", "repeat_purchase_rate"),
    "_retention": ("in_retention", "retention_share"),
    "_advocacy": ("in_advocacy", "advocacy_share"),
    "_review": ("reviewers", "review_rate"),
    "_referral": ("referrers", "referral_rate"),
}
#: The columns of the log loyalty reads.
_READ = ("customer_id", "timestamp", "event", "stage", "value", "rating", "referred_id")
#: Every column of the tables of :class:`Loyalty`, which a ``by`` column may not be named.
_RESERVED = (
    *(name for names in _FLAGS.values() for name in names),
    *("period", "customers", "complete", "buyers"),
    *("advocates", "advocacy_events", "reviews", "referrals", "first_advocacy"),
    *("last_advocacy", "purchases", "value", "rating", "referred", "network"),
    *("referred_by", "referred_at", "root", "depth"),
)


@dataclass(frozen=True)
class Loyalty:
    """The answer of :func:`loyalty`: three tables and their headline figures.

    Attributes
    ----------
    by_period : pandas.DataFrame
        One row per calendar period with a customer in it (see :func:`loyalty`).
    overall : pandas.Series or pandas.DataFrame
        The same measures over the whole log, per buyer; broken down ``by``, a DataFrame
        with one row per segment.
    advocates : pandas.DataFrame
        One row per advocate.
    referrals : pandas.DataFrame or None
        One row per referred customer; None when the log has no ``referred_id`` column.
    by : tuple of str
        The segment columns each table starts with; empty without a breakdown.
    """

    by_period: pd.DataFrame
    overall: pd.Series | pd.DataFrame
    advocates: pd.DataFrame
    referrals: pd.DataFrame | None
    by: tuple[str, ...] = ()

    def summary(self) -> str:
        """The headline figures in a few lines of text (a line per segment when broken
        down ``by``)."""
        if self.by:
            return "\n".join(
                f"{' / '.join(str(row[c]) for c in self.by)}: {row['buyers']:,} buyers, "
                f"{row['repeat_purchase_rate']:.1%} bought again, {row['advocacy_share']:.1%} "
                f"advocacy, {row['advocates']:,} advocates"
                for _, row in self.overall.iterrows()
            )
        o = self.overall
        lines = [
            f"{int(o['buyers']):,} buyers: {o['repeat_purchase_rate']:.1%} bought again, "
            f"{o['retention_share']:.1%} reached retention, {o['advocacy_share']:.1%} advocacy",
            f"reviews from {o['review_rate']:.1%} of buyers, referrals from "
            f"{o['referral_rate']:.1%}; {len(self.advocates):,} advocates",
        ]
        if self.referrals is not None and len(self.referrals):
            deepest = int(self.referrals["depth"].max())
            lines.append(
                f"{len(self.referrals):,} customers were referred; the longest chain has "
                f"{deepest} generation{'s' if deepest != 1 else ''}"
            )
        return "\n".join(lines)


def loyalty(
    events: IntoFrame,
    *,
    period: str | None = None,
    framework: str | Mapping[str, Any] | StageFramework | None = None,
    profile: LogProfile | None = None,
    purchase_event: str | None = None,
    review_event: str | None = None,
    referral_event: str | None = None,
    retention_stage: str | None = None,
    advocacy_stage: str | None = None,
    by: str | Sequence[str] | Segments | None = None,
    by_rule: str = "first",
    top: int | None = 10,
) -> Loyalty:
    """Repeat purchases, retention and advocacy shares, reviews, referrals and advocates.

    Definitions. A customer's **first purchase** is their earliest ``purchase_event``; a
    **repeat purchase** is a later one (purchases at that same first instant are all first).
    Stages come from :func:`journey_lib.assign_stages` with ``framework``; by default its
    **last two stages are retention and advocacy** (Retention and Advocacy & Loyalty in the
    customer journey, where a customer's second and later purchases are Retention). An
    **advocate** is a customer with at least one event in the advocacy stage (a review, a
    referral, a share). In the decision journey the last stage, Assignment of loyalty,
    holds repeat purchases as well as reviews and referrals, so there every repeat buyer is
    an advocate unless ``advocacy_stage`` says otherwise.

    ``by_period``, one row per calendar ``period`` (UTC; weeks from Monday):

    * ``customers``: customers with an event in the period who had made their first
      purchase by its end (the active customer base);
    * of them, ``repeat_buyers`` (a repeat purchase in the period), ``in_retention`` and
      ``in_advocacy`` (an event of that stage in the period), ``reviewers`` and
      ``referrers`` (a ``review_event`` / ``referral_event`` in the period);
    * each count divided by ``customers``: ``repeat_purchase_rate``, ``retention_share``,
      ``advocacy_share``, ``review_rate``, ``referral_rate``;
    * ``complete``: False for the period holding the log's last event, still running.

    ``overall`` counts the same over the whole log with **buyers** (customers with a
    purchase) as the base: ``repeat_purchase_rate`` is then the share of buyers who ever
    bought again, the classic repeat purchase rate. Its ``advocates`` is the length of the
    advocates list, which includes advocates who never bought (a referral before a
    purchase), so it can exceed ``in_advocacy``, the buyers among them.

    ``advocates``, one row per advocate, most referrals first: ``customer_id``,
    ``advocacy_events``, ``reviews``, ``referrals``, ``first_advocacy``,
    ``last_advocacy``, ``purchases``, ``value`` (sum of their purchases' ``value``),
    ``rating`` (mean of a ``rating`` column over their advocacy events, when the log has
    one), and with referral chains ``referred`` (customers they brought directly) and
    ``network`` (everyone down their chains).

    ``referrals``, when the log has a ``referred_id`` column (on ``referral_event`` rows:
    the customer who was referred): one row per referred customer with ``referred_by``
    (their earliest referrer; a later referral of the same customer does not re-parent
    them), ``referred_at``, ``root`` (the first referrer up the chain, who was not
    referred) and ``depth`` (1 = referred by a root). Referrals forming a loop (A brought
    B who brought A) have no root: ``root`` and ``depth`` are missing for them and a
    :class:`~journey_lib.JourneyDataWarning` names them.

    Parameters
    ----------
    events : DataFrame
        A touchpoint log (``customer_id``, ``timestamp``, ``event``, optional ``value``,
        ``rating``, ``referred_id``) of any engine. The counting runs in that engine; the
        tables, small by construction, are returned in pandas.
    period : {"week", "month", "quarter", "year"}, optional
        The profile's period (a week for a daily one), else ``"month"``.
    framework : str, mapping or StageFramework, optional
        As in :func:`journey_lib.assign_stages`; events it does not map count as no stage.
        The profile's stages, else ``"customer_journey"``.
    profile : LogProfile, optional
        A log profile (:func:`journey_lib.profile`): the period, stages, purchase (its
        conversion) and, among its advocacy events, the review and referral when not given.
    purchase_event, review_event, referral_event : str, optional
        The events that are a purchase, a review and a referral; default ``"purchase"``,
        ``"review"`` and ``"referral"``.
    retention_stage, advocacy_stage : str, optional
        The framework's stages counted as retention and advocacy; by default its
        second-to-last and last.
    by : str, list of str or Segments, optional
        Break every table down by segment: a column of the log or, through
        :class:`journey_lib.Segments`, of a customer table; a list for a crossing. The
        segments are :func:`journey_lib.customer_segments`' (``by_rule``, ``(missing)``,
        ``(other)``), read from the whole log.
    by_rule : {"first", "last", "at_cutoff"}, default "first"
        Which value of a ``by`` column that changes over a customer's life counts.
    top : int or None, default 10
        Segments kept by name; customers of the others are in ``(other)``.

    Breakdowns. With ``by`` each table starts with the ``by`` columns (text) and is sorted
    by them first, then as without ``by``:

    * ``by_period``: one block per segment, each what this function gives on that
      segment's customers' rows alone (periods with none of its buyers active have no
      row), except that ``complete`` is read against the whole log's last event, so every
      segment's last period is not marked running just because that segment went quiet;
    * ``overall``: a DataFrame, one row per segment of the log (every customer is in
      one), the same measures over the segment's buyers; a segment without a buyer has 0
      buyers and missing rates (alone, its rows would be refused for want of a purchase);
    * ``advocates``: each advocate's row with their own segment;
    * ``referrals``: each referred customer's row with their own segment (``(missing)``
      for one the log never shows).

    Referral chains cross segments (an enterprise customer may bring a consumer), so
    ``referred``, ``network``, ``root`` and ``depth`` are read over the whole log, as
    without ``by``. The log must still hold a purchase somewhere.

    Returns
    -------
    Loyalty
        ``.by_period``, ``.overall``, ``.advocates``, ``.referrals``, ``.by`` and
        ``.summary()``.

    Raises
    ------
    JourneyDataError
        When a required column is missing, the log has no ``purchase_event`` at all (no
        customer base to measure loyalty in), or a ``by`` column is absent (or, on an
        eager log, holds no value).
    JourneyParameterError
        For an unknown ``period``, a framework with fewer than two stages, or a ``by``
        column named like a column of the tables.

    Examples
    --------
    >>> import pandas as pd, journey_lib as jl
    >>> log = pd.DataFrame({
    ...     "customer_id": [1, 1, 1, 2, 2, 3],
    ...     "timestamp": pd.to_datetime(["2024-01-03", "2024-01-20", "2024-02-05",
    ...                                  "2024-01-10", "2024-02-01", "2024-02-02"], utc=True),
    ...     "event": ["purchase", "review", "purchase", "purchase", "referral", "purchase"],
    ...     "referred_id": [None, None, None, None, 3, None]})
    >>> result = jl.loyalty(log)
    >>> result.by_period[["period", "customers", "repeat_buyers", "in_advocacy"]]
                         period  customers  repeat_buyers  in_advocacy
    0 2024-01-01 00:00:00+00:00          2              0            1
    1 2024-02-01 00:00:00+00:00          3              1            1
    >>> result.overall[["buyers", "repeat_purchase_rate", "advocates"]].tolist()
    [3.0, 0.3333333333333333, 2.0]
    >>> result.referrals[["customer_id", "referred_by", "root", "depth"]]
       customer_id  referred_by  root  depth
    0            3            2     2      1

    By the plan each customer started on:

    >>> log["plan"] = ["basic", "basic", "basic", "plus", "plus", "basic"]
    >>> by_plan = jl.loyalty(log, by="plan")
    >>> by_plan.overall[["plan", "buyers", "repeat_purchase_rate", "advocates"]]
        plan  buyers  repeat_purchase_rate  advocates
    0  basic       2                   0.5          1
    1   plus       1                   0.0          1
    >>> by_plan.by_period[["plan", "period", "customers", "complete"]]
        plan                    period  customers  complete
    0  basic 2024-01-01 00:00:00+00:00          1      True
    1  basic 2024-02-01 00:00:00+00:00          2     False
    2   plus 2024-01-01 00:00:00+00:00          1      True
    3   plus 2024-02-01 00:00:00+00:00          1     False
    """
    if period is None and profile is not None and profile.period == "day":
        period = "week"  # loyalty is not counted by the day
    period = from_profile(profile, "period", period, "month")
    check_choice("period", period, PERIODS)
    purchase_event = from_profile(profile, "conversion", purchase_event, "purchase")
    review_event = review_event or _advocacy(profile, ("review", "rating"), "review")
    referral_event = referral_event or _advocacy(
        profile, ("refer", "referral", "invite"), "referral"
    )
    fw = resolve_framework(framework, profile)
    if len(fw.stages) < 2 and (retention_stage is None or advocacy_stage is None):
        raise JourneyParameterError(
            f"framework {fw.name!r} has {len(fw.stages)} stage(s); loyalty needs its last two "
            f"to be retention and advocacy, or retention_stage= and advocacy_stage="
        )
    retention_stage = fw.stages[-2] if retention_stage is None else retention_stage
    advocacy_stage = fw.stages[-1] if advocacy_stage is None else advocacy_stage
    for name, stage in (("retention_stage", retention_stage), ("advocacy_stage", advocacy_stage)):
        check_choice(name, stage, fw.stages)
    spec = segments_of(by, by_rule, top)
    table, keys, names = None, [], {}
    if spec is not None:
        # Segments come from the log as given (its own stage column, before it is replaced),
        # under working names so that no column of the log or of the counting can clash.
        raw, eager = lazy_events(events)
        names = {f"_jl_by_{i}": c for i, c in enumerate(spec.columns)}
        table = segment_table(raw, spec, reserved=_RESERVED, check=eager)
        table = table.rename({c: k for k, c in names.items()})
        keys = list(names)
    given = lazy_events(assign_stages(events, fw, unmapped="ignore"))[0]
    lf = in_utc(given)

    def collected(frame: nw.LazyFrame) -> pd.DataFrame:
        """A table of the counting as pandas, its times zoned as the log's."""
        return to_pandas(zoned_again(frame, given))

    # Only the columns read: another of the log's (say one named like a working column,
    # _first_buy) cannot clash with the counting.
    lf = lf.select(c for c in _READ if c in lf.collect_schema())
    schema = lf.collect_schema()

    is_purchase = nw.col("event") == purchase_event
    firsts = (
        lf.filter(is_purchase)
        .group_by("customer_id")
        .agg(nw.col("timestamp").min().alias("_first_buy"))
        .with_columns(period_start(nw.col("_first_buy"), period).alias("_buy_period"))
    )
    rows = lf.join(firsts, on="customer_id", how="left").with_columns(
        period_start(nw.col("timestamp"), period).alias("period"),
        flag(is_purchase & (nw.col("timestamp") > nw.col("_first_buy"))).alias("_repeat"),
        flag(nw.col("stage") == retention_stage).alias("_retention"),
        flag(nw.col("stage") == advocacy_stage).alias("_advocacy"),
        flag(nw.col("event") == review_event).alias("_review"),
        flag(nw.col("event") == referral_event).alias("_referral"),
        flag(is_purchase).alias("_buy"),
    )
    flags = list(_FLAGS)

    active = (
        rows.filter(nw.col("_buy_period") <= nw.col("period"))
        .group_by("period", "customer_id")
        .agg(nw.col(flags).max())
    )
    buyers = (
        rows.filter(~nw.col("_first_buy").is_null())
        .group_by("customer_id")
        .agg(nw.len().alias("_buyer"), nw.col(flags).max())
    )
    if table is not None:
        active = active.join(table, on="customer_id", how="left")
        # Every segment gets a row in overall: all its customers, the buyers marked.
        buyers = table.join(buyers, on="customer_id", how="left").with_columns(
            nw.col(flags).fill_null(0)
        )
    by_period = collected(
        active.group_by(*keys, "period")
        .agg(nw.len().alias("customers"), nw.col(flags).sum())
        .sort(*keys, "period")
    )
    counted = grouped(buyers, keys, nw.col("_buyer").count().alias("buyers"), nw.col(flags).sum())
    overall_counts = to_pandas(counted.sort(*keys) if keys else counted)
    if len(by_period) == 0 or int(overall_counts["buyers"].sum()) == 0:
        raise JourneyDataError(
            f"no {purchase_event!r} events in the log, so there is no customer base to measure "
            f"loyalty in; pass purchase_event= if purchases are named otherwise"
        )
    last = collected(lf.select(period_start(nw.col("timestamp").max(), period).alias("now")))
    by_period = _rates(by_period, "customers").assign(
        complete=lambda t: t["period"] < last["now"].iloc[0]
    )
    advocates = _advocates(rows, schema, table, keys, collected)
    if keys:
        per_segment = advocates.groupby(keys).size().rename("advocates").reset_index()
        overall = _rates(overall_counts, "buyers").merge(per_segment, on=keys, how="left")
        overall["advocates"] = overall["advocates"].fillna(0).astype("int64")
    else:
        overall = _rates(overall_counts, "buyers").iloc[0].astype(float)
        overall["advocates"] = float(len(advocates))
    referrals = None
    if "referred_id" in schema:
        referred = (
            lf.filter((nw.col("event") == referral_event) & ~nw.col("referred_id").is_null())
            .select("customer_id", "referred_id", "timestamp")
            .sort("timestamp")
        )
        referrals = _chains(collected(referred))
        advocates = _networks(advocates, referrals)
        if table is not None:
            referrals = _segmented(referrals, table, keys)
    if names:  # the segment columns named back
        by_period, overall, advocates = (
            t.rename(columns=names) for t in (by_period, overall, advocates)
        )
        referrals = None if referrals is None else referrals.rename(columns=names)
    return Loyalty(
        by_period=by_period,
        overall=overall,
        advocates=advocates,
        referrals=referrals,
        by=tuple(names.values()),
    )


def _advocacy(profile: LogProfile | None, words: tuple[str, ...], default: str) -> str:
    """The profile's first advocacy event whose name has one of ``words``, else ``default``."""
    found = [e for e in (profile.advocacy if profile else ()) if matching_rule(e, words)]
    return found[0] if found else default


def _rates(counts: pd.DataFrame, base: str) -> pd.DataFrame:
    """Counts renamed from the flags, each with its rate over ``base``."""
    table = counts.rename(columns={flag: names[0] for flag, names in _FLAGS.items()})
    for count, rate in _FLAGS.values():
        table[count] = table[count].astype("int64")
        table[rate] = table[count] / table[base]
    table[base] = table[base].astype("int64")
    return table.reset_index(drop=True)


def _advocates(
    rows: nw.LazyFrame,
    schema: Any,
    table: nw.LazyFrame | None,
    keys: list[str],
    collected: Callable[[nw.LazyFrame], pd.DataFrame],
) -> pd.DataFrame:
    """One row per customer with an advocacy event, with their purchases (and segment,
    from ``table``) joined, as ``collected`` gives it (as pandas, times zoned as the log's)."""
    extra = [nw.col("rating").mean().alias("rating")] if "rating" in schema else []
    advocacy = (
        rows.filter(nw.col("_advocacy") == 1)
        .group_by("customer_id")
        .agg(
            nw.len().alias("advocacy_events"),
            nw.col("_review").sum().alias("reviews"),
            nw.col("_referral").sum().alias("referrals"),
            nw.col("timestamp").min().alias("first_advocacy"),
            nw.col("timestamp").max().alias("last_advocacy"),
            *extra,
        )
    )
    spend = (
        rows.filter(nw.col("_buy") == 1)
        .with_columns(money(schema).alias("_value"))  # pandas aggregates plain columns only
        .group_by("customer_id")
        .agg(nw.len().alias("purchases"), nw.col("_value").sum().alias("value"))
    )
    joined = advocacy.join(spend, on="customer_id", how="left")
    if table is not None:
        joined = joined.join(table, on="customer_id", how="left")
    out = collected(joined)
    out["purchases"] = out["purchases"].fillna(0).astype("int64")
    out["value"] = out["value"].fillna(0.0).astype("float64")
    for column in ("advocacy_events", "reviews", "referrals"):
        out[column] = out[column].astype("int64")
    columns = [*keys, "customer_id", "advocacy_events", "reviews", "referrals"]
    columns += ["first_advocacy", "last_advocacy", "purchases", "value"]
    columns += ["rating"] if extra else []
    return out[columns].sort_values(
        [*keys, "referrals", "reviews", "customer_id"],
        ascending=[True] * len(keys) + [False, False, True],
        ignore_index=True,
    )


def _segmented(referrals: pd.DataFrame, table: nw.LazyFrame, keys: list[str]) -> pd.DataFrame:
    """The referral table with each referred customer's segment first (``(missing)`` for
    one the log never shows), sorted by segment; only the referred customers' rows of the
    segment table are read."""
    ids = referrals["customer_id"].drop_duplicates().tolist()
    found = to_pandas(table.filter(nw.col("customer_id").is_in(ids)))
    out = referrals.merge(found, on="customer_id", how="left")
    out[keys] = out[keys].fillna(MISSING)
    columns = [*keys, *referrals.columns]
    return out[columns].sort_values([*keys, "referred_at", "customer_id"], ignore_index=True)


def _chains(edges: pd.DataFrame) -> pd.DataFrame:
    """Each referred customer's referrer, the root of their chain and its depth.

    Pointer jumping: every customer's pointer moves from their referrer to their
    referrer's pointer, doubling the distance covered each round, so ``log2`` of the
    longest chain rounds reach every root, for all customers at once. A pointer that has
    not reached a root after that many rounds is in or below a loop."""
    first = edges.drop_duplicates("referred_id", keep="first")
    try:  # ids read with gaps (None) arrive as floats: give them the customer ids' type
        referred = first["referred_id"].astype(first["customer_id"].dtype)
    except (TypeError, ValueError) as exc:
        raise JourneyDataError(
            f"'referred_id' holds values that are not customer ids like 'customer_id' "
            f"({first['customer_id'].dtype}), e.g. {first['referred_id'].iloc[0]!r}: {exc}"
        ) from exc
    nodes = pd.Index(pd.concat([referred, first["customer_id"]], ignore_index=True).unique())
    child, parent_of_child = nodes.get_indexer(referred), nodes.get_indexer(first["customer_id"])
    parent = np.arange(len(nodes))  # a root points to itself
    parent[child] = parent_of_child
    pointer, distance = parent.copy(), (parent != np.arange(len(nodes))).astype("int64")
    for _ in range(int(np.ceil(np.log2(max(len(nodes), 2)))) + 1):
        distance = distance + distance[pointer]
        pointer = pointer[pointer]
    at_root = parent[pointer] == pointer
    if not at_root[child].all():
        loop = nodes[child[~at_root[child]]]
        warnings.warn(
            f"{len(loop)} referred customer(s) are in or below a referral loop (someone "
            f"referred, up the chain, by a customer they referred), e.g. customer "
            f"{loop[0]!r}; their root and depth are left missing",
            JourneyDataWarning,
            stacklevel=3,
        )
    ok = at_root[child]
    table = pd.DataFrame(
        {
            "customer_id": referred.to_numpy(),
            "referred_by": first["customer_id"].to_numpy(),
            "referred_at": first["timestamp"].array,
            "root": pd.Series(nodes[pointer[child]]).where(ok),
            "depth": pd.array(np.where(ok, distance[child], 0), dtype="Int64"),
        }
    )
    table.loc[~ok, "depth"] = pd.NA
    return table.sort_values(["referred_at", "customer_id"], ignore_index=True)


def _networks(advocates: pd.DataFrame, referrals: pd.DataFrame) -> pd.DataFrame:
    """Advocates with ``referred`` (direct) and ``network`` (all descendants) counts.

    Generations are summed from the deepest up, each in one vectorised step, so the work
    is one pass over the referred customers however long the chains."""
    direct = referrals["referred_by"].value_counts()
    rooted = referrals[referrals["depth"].notna()]
    below = pd.Series(0, index=pd.Index(rooted["customer_id"]), dtype="int64")
    network = pd.Series(0, index=direct.index, dtype="int64")
    for depth in sorted(rooted["depth"].unique(), reverse=True):
        generation = rooted[rooted["depth"] == depth]
        # Each member brings themself and everyone below them to their referrer.
        carried = (below.reindex(generation["customer_id"]).fillna(0).to_numpy() + 1).astype(
            "int64"
        )
        gained = pd.Series(carried).groupby(generation["referred_by"].to_numpy()).sum()
        network = network.add(gained, fill_value=0).astype("int64")
        below = below.add(gained, fill_value=0).astype("int64")
    ids = advocates["customer_id"]
    return advocates.assign(
        referred=ids.map(direct).fillna(0).astype("int64").to_numpy(),
        network=ids.map(network).fillna(0).astype("int64").to_numpy(),
    )
