"""Survival curves of customer lifetimes: Kaplan-Meier, Nelson-Aalen and the log-rank test.

The input is one row per customer: how long they have been a customer (``duration``, in any
unit, days by this package's convention) and whether that time ended in churn (``observed``)
or is **censored** (still a customer when the data end, so the lifetime is at least that).

At each distinct time :math:`t_i` with :math:`n_i` customers still at risk (duration at least
:math:`t_i`) and :math:`d_i` churning then:

* **Kaplan-Meier**: :math:`S(t) = \\prod_{t_i \\le t} (1 - d_i / n_i)`, the share still a
  customer after ``t``, with **Greenwood's** variance
  :math:`\\hat V[S(t)] = S(t)^2 \\sum_{t_i \\le t} d_i / (n_i (n_i - d_i))`. Its interval is
  taken on :math:`\\log(-\\log S)` (as SAS, Stata and lifelines do), so it stays within
  [0, 1]: :math:`S^{\\exp(\\pm z \\sigma)}` with
  :math:`\\sigma^2 = \\sum d_i / (n_i (n_i - d_i)) / \\log(S)^2`;
* **Nelson-Aalen**: the cumulative hazard :math:`H(t) = \\sum_{t_i \\le t} d_i / n_i` with
  variance :math:`\\sum d_i / n_i^2`, its interval taken on :math:`\\log H`;
* the **median lifetime**: the first time with :math:`S(t) \\le 0.5`, with the interval of
  Brookmeyer and Crowley (the first times the interval's two bounds reach 0.5);
* the **restricted mean lifetime** up to a horizon :math:`\\tau`: the area under :math:`S`
  from 0 to :math:`\\tau`, with the variance
  :math:`\\sum_{t_i \\le \\tau} A_i^2 d_i / (n_i (n_i - d_i))`, :math:`A_i` the area from
  :math:`t_i` to :math:`\\tau`;
* **conditional survival**: of customers still there at ``survived``, the share there
  ``horizon`` later, :math:`S(s + h) / S(s)`, with Greenwood's sum over the times between;
* the **log-rank test** that segments share one survival curve: observed against expected
  churn in each segment, a chi-square with (segments - 1) degrees of freedom.

Counting happens in the frame's engine (one group-by of segment, duration and outcome), so a
customer table in DuckDB, Polars or Spark gives its curves without leaving the engine; only
the table of distinct times comes back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd
from narwhals.typing import IntoFrameT
from scipy.stats import chi2, norm

from .._engine import to_pandas
from ..errors import JourneyDataError, JourneyParameterError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["CURVE_COLUMNS", "LogRank", "SurvivalCurves", "kaplan_meier", "logrank_test"]

#: Where a curve counts as having reached one half (the median), allowing for rounding.
HALF = 0.5 + 1e-12
#: The columns of :attr:`SurvivalCurves.table` (after any segment columns).
CURVE_COLUMNS: tuple[str, ...] = (
    "time",
    "at_risk",
    "events",
    "censored",
    "survival",
    "survival_low",
    "survival_high",
    "cumulative_hazard",
    "hazard_low",
    "hazard_high",
)


def _z(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise JourneyParameterError(f"confidence must be between 0 and 1, got {confidence!r}")
    return float(norm.ppf(0.5 + confidence / 2))


def _segments(by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def counts_by_time(
    data: IntoFrameT, *, duration: str, observed: str, by: Sequence[str] = ()
) -> pd.DataFrame:
    """Churned and total customers per segment and distinct duration, counted in the frame's
    engine after checking both columns; sorted by segment and time."""
    frame = nw.from_native(data)
    names = frame.collect_schema().names()
    missing = [c for c in (duration, observed, *by) if c not in names]
    if missing:
        raise JourneyDataError(
            f"the customer table has no column {', '.join(map(repr, missing))}; its columns "
            f"are {', '.join(map(repr, names))}"
        )
    schema = frame.collect_schema()
    if not schema[duration].is_numeric():
        raise JourneyDataError(
            f"duration column {duration!r} must hold numbers (a time since acquisition), "
            f"not {schema[duration]}"
        )
    if not (schema[observed] == nw.Boolean or schema[observed].is_numeric()):
        raise JourneyDataError(
            f"observed column {observed!r} must be True/False or 1/0 (churned or not), "
            f"not {schema[observed]}"
        )
    time, flag = nw.col(duration), nw.col(observed).cast(nw.Int64)
    missing_time = time.is_null()
    if schema[duration].is_float():
        missing_time = missing_time | time.is_nan()
    bad = {
        "a missing duration": missing_time,
        "a negative duration": time < 0,
        "a missing churn flag": nw.col(observed).is_null(),
    }
    if schema[observed] != nw.Boolean:
        bad["a churn flag other than 0 or 1"] = ~nw.col(observed).is_in([0, 1])
    found = _collect(frame.select(**{k: v.sum() for k, v in bad.items()}))
    for reason, count in found.iloc[0].items():
        if count:
            example = _collect(frame.filter(bad[reason]).select(duration, observed, *by).head(1))
            raise JourneyDataError(
                f"{int(count):,} customers have {reason} (columns {duration!r} and "
                f"{observed!r}); for example {example.iloc[0].to_dict()}"
            )
    counted = (
        frame.select(*by, duration, _events=flag)
        .group_by([*by, duration])
        .agg(events=nw.col("_events").sum(), leaving=nw.len())
    )
    table = _collect(counted).rename(columns={duration: "time"})
    if table.empty:
        raise JourneyDataError("the customer table has no rows")
    return table.sort_values([*by, "time"], ignore_index=True)


def _collect(frame: Any) -> pd.DataFrame:
    return to_pandas(frame.to_native(), what="the customer table")


def _starts(keys: pd.DataFrame) -> np.ndarray:
    """The row where each segment's block starts, for a table sorted by segment."""
    if keys.shape[1] == 0:
        return np.zeros(len(keys), dtype=np.int64)
    # Group codes rather than comparing values: a missing segment is one segment too.
    codes = keys.groupby(list(keys.columns), sort=False, dropna=False).ngroup().to_numpy()
    new = np.ones(len(keys), dtype=bool)
    new[1:] = codes[1:] != codes[:-1]
    return np.maximum.accumulate(np.where(new, np.arange(len(keys)), 0))


def _group_cumsum(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Running sums within each segment (a segment's start row is its key). Not one running
    sum less the earlier segments' total: that loses digits, and an infinite log term of a
    curve that reached 0 would spill into the next segment."""
    return pd.Series(values, dtype=float).groupby(starts).cumsum().to_numpy()


@dataclass(frozen=True)
class LogRank:
    """The log-rank test that every segment has the same survival curve.

    ``statistic`` is the chi-square, ``dof`` its degrees of freedom (segments - 1, fewer
    when a segment has no customer at risk at any churn time; NaN p-value at 0),
    ``p_value`` the chance of a statistic this large if the curves were the same; ``table``
    gives each segment's customers, observed and expected churn.
    """

    statistic: float
    dof: int
    p_value: float
    table: pd.DataFrame


@dataclass(frozen=True)
class SurvivalCurves:
    """Kaplan-Meier and Nelson-Aalen curves, one per segment (see the module's definitions).

    ``table`` has one row per segment and distinct time, the segment columns first, then
    :data:`CURVE_COLUMNS`; ``by`` names the segment columns (none for one curve).
    """

    table: pd.DataFrame
    by: tuple[str, ...]
    confidence: float
    #: The table before :meth:`private` cut it, for the log-rank test, which needs every
    #: customer's time (the test's statistic is one figure over all of them).
    uncut: pd.DataFrame | None = field(default=None, repr=False)

    def _blocks(self) -> list[tuple[dict[str, Any], pd.DataFrame]]:
        if not self.by:
            return [({}, self.table)]
        return [
            (dict(zip(self.by, key if isinstance(key, tuple) else (key,), strict=True)), rows)
            for key, rows in self.table.groupby(list(self.by), sort=False, dropna=False)
        ]

    def survival_at(self, times: Sequence[float] | float) -> pd.DataFrame:
        """Each segment's survival at ``times``, with its interval (1 before the first
        churn).

        Examples
        --------
        >>> import pandas as pd, journey_lib as jl
        >>> c = pd.DataFrame({"duration": [2, 3, 3, 5], "churned": [1, 1, 0, 1]})
        >>> jl.survival.kaplan_meier(c).survival_at([1, 2, 4])["survival"].tolist()
        [1.0, 0.75, 0.5]
        """
        grid = np.atleast_1d(np.asarray(times, dtype=float))
        out = []
        for keys, rows in self._blocks():
            at = np.searchsorted(rows["time"].to_numpy(float), grid, side="right") - 1
            picked = {
                col: np.where(at >= 0, rows[col].to_numpy(float)[np.maximum(at, 0)], 1.0)
                for col in ("survival", "survival_low", "survival_high")
            }
            out.append(pd.DataFrame({**keys, "time": grid, **picked}))
        return pd.concat(out, ignore_index=True)

    def median(self) -> pd.DataFrame:
        """Each segment's median lifetime with its interval (NaN where a curve never
        reaches 0.5: more than half of the segment is still there).

        Examples
        --------
        >>> import pandas as pd, journey_lib as jl
        >>> c = pd.DataFrame({"duration": [2, 3, 3, 5], "churned": [1, 1, 0, 1]})
        >>> float(jl.survival.kaplan_meier(c).median()["median"].iloc[0])
        3.0
        """

        def first(rows: pd.DataFrame, col: str) -> float:
            # The product of the steps can land a hair above an exact 0.5.
            below = rows["time"].to_numpy(float)[rows[col].to_numpy(float) <= HALF]
            return float(below[0]) if len(below) else np.nan

        return pd.DataFrame(
            [
                {
                    **keys,
                    "customers": int(rows["at_risk"].iloc[0]),
                    "median": first(rows, "survival"),
                    "low": first(rows, "survival_low"),
                    "high": first(rows, "survival_high"),
                }
                for keys, rows in self._blocks()
            ]
        )

    def restricted_mean(self, horizon: float) -> pd.DataFrame:
        """Each segment's mean lifetime up to ``horizon`` (the area under its curve), with
        its standard error and interval.

        A mean over lifetimes that censoring cuts short is not known beyond the data, so
        the mean is restricted: customers who stay past ``horizon`` count ``horizon``. It
        is NaN for a segment whose curve ends before ``horizon`` with customers still
        there (its follow-up is shorter); the interval's low end is at least 0.

        Examples
        --------
        >>> import pandas as pd, journey_lib as jl
        >>> c = pd.DataFrame({"duration": [2, 3, 3, 5], "churned": [1, 1, 0, 1]})
        >>> float(jl.survival.kaplan_meier(c).restricted_mean(4)["mean"].iloc[0])
        3.25
        """
        if not np.isfinite(horizon) or horizon <= 0:
            raise JourneyParameterError(f"horizon must be a positive number, got {horizon!r}")
        z = _z(self.confidence)
        out = []
        for keys, rows in self._blocks():
            t = rows["time"].to_numpy(float)
            s = rows["survival"].to_numpy(float)
            inside = t <= horizon
            t, s = t[inside], s[inside]
            n = rows["at_risk"].to_numpy(float)[inside]
            d = rows["events"].to_numpy(float)[inside]
            # The curve is 1 up to the first time, then s[i] from t[i] to the next time.
            edges = np.concatenate(([0.0], t, [horizon]))
            heights = np.concatenate(([1.0], s))
            pieces = heights * np.diff(edges)
            mean = float(pieces.sum())
            # Area from each time to the horizon: the pieces after it.
            after = np.cumsum(pieces[::-1])[::-1][1:]
            with np.errstate(divide="ignore", invalid="ignore"):
                terms = np.where(d > 0, after**2 * d / (n * (n - d)), 0.0)
            se = float(np.sqrt(terms[np.isfinite(terms)].sum()))
            # Past a curve's last time with customers still there it is not known: the
            # segment's follow-up ends before the horizon.
            last = rows["time"].iloc[-1]
            if horizon > last and rows["survival"].iloc[-1] > 0:
                mean = se = np.nan
            out.append(
                {
                    **keys,
                    "horizon": horizon,
                    "mean": mean,
                    "se": se,
                    "low": max(mean - z * se, 0.0) if np.isfinite(mean) else np.nan,
                    "high": mean + z * se,
                }
            )
        return pd.DataFrame(out)

    def conditional(self, survived: float, horizon: float) -> pd.DataFrame:
        """Of each segment's customers still there at ``survived``, the share still there
        ``horizon`` later, with its interval ("of customers at 12 months, how many reach
        24").

        Examples
        --------
        >>> import pandas as pd, journey_lib as jl
        >>> c = pd.DataFrame({"duration": [2, 3, 3, 5], "churned": [1, 1, 0, 1]})
        >>> round(float(jl.survival.kaplan_meier(c).conditional(2, 2)["survival"].iloc[0]), 4)
        0.6667
        """
        if survived < 0 or horizon <= 0:
            raise JourneyParameterError(
                f"survived must be at least 0 and horizon positive; got {survived!r} and "
                f"{horizon!r}"
            )
        z = _z(self.confidence)
        out = []
        for keys, rows in self._blocks():
            t = rows["time"].to_numpy(float)
            s = rows["survival"].to_numpy(float)
            n = rows["at_risk"].to_numpy(float)
            d = rows["events"].to_numpy(float)
            between = (t > survived) & (t <= survived + horizon)
            start = s[t <= survived][-1] if (t <= survived).any() else 1.0
            still = n[t > survived][0] if (t > survived).any() else 0.0
            with np.errstate(divide="ignore", invalid="ignore"):
                # Nobody left at ``survived``: nothing to say about the share, not 100%.
                share = np.prod(1 - d[between] / n[between]) if start > 0 and still else np.nan
                greenwood = np.sum(d[between] / (n[between] * (n[between] - d[between])))
            low, high = _loglog(np.array([share]), np.array([greenwood]), z)
            out.append(
                {
                    **keys,
                    "survived": survived,
                    "horizon": horizon,
                    "at_risk": int(still),
                    "survival": float(share),
                    "low": float(low[0]),
                    "high": float(high[0]),
                }
            )
        return pd.DataFrame(out)

    def private(self, min_cell: int) -> SurvivalCurves:
        """The curves a page may show under a privacy threshold: segments of fewer than
        ``min_cell`` customers left out, and each curve cut where fewer than ``min_cell``
        are still at risk (a step there would be one or two people's own churn). 0 keeps
        everything.

        Examples
        --------
        >>> import pandas as pd, journey_lib as jl
        >>> c = pd.DataFrame({"duration": [1, 2, 3, 4, 5, 6, 7], "churned": [1] * 7,
        ...                   "plan": ["a"] * 5 + ["b"] * 2})
        >>> shown = jl.survival.kaplan_meier(c, by="plan").private(3)
        >>> shown.table[["plan", "time", "at_risk"]].to_dict("list")
        {'plan': ['a', 'a', 'a'], 'time': [1, 2, 3], 'at_risk': [5, 4, 3]}
        """
        if not min_cell:
            return self
        blocks = [
            rows[rows["at_risk"] >= min_cell]
            for _, rows in self._blocks()
            if rows["at_risk"].iloc[0] >= min_cell
        ]
        table = pd.concat(blocks, ignore_index=True) if blocks else self.table.iloc[:0]
        uncut = self.table if self.uncut is None else self.uncut
        return SurvivalCurves(table=table, by=self.by, confidence=self.confidence, uncut=uncut)

    def logrank(self) -> LogRank:
        """The log-rank test across this object's segments (see :func:`logrank_test`), on
        every customer even after :meth:`private`."""
        if not self.by:
            raise JourneyParameterError(
                "a log-rank test compares segments: give by= to kaplan_meier"
            )
        return _logrank(self.table if self.uncut is None else self.uncut, list(self.by))

    def plot(self, *, ax: Any = None) -> Figure:
        """The curves as steps with their intervals as bands (see
        :func:`journey_lib.plots.survival_curves`)."""
        from ..plots.lifetimes import survival_curves

        return survival_curves(self, ax=ax)


def _loglog(s: np.ndarray, greenwood: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """The interval of a survival probability on log(-log S); (1, 1) where S is 1 and NaN
    where it is 0 (no customer is left to estimate it)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma = np.sqrt(greenwood) / np.abs(np.log(s))
        low = s ** np.exp(z * sigma)
        high = s ** np.exp(-z * sigma)
    one = s >= 1
    low, high = np.where(one, 1.0, low), np.where(one, 1.0, high)
    gone = (s <= 0) | ~np.isfinite(greenwood)
    return np.where(gone, np.nan, low), np.where(gone, np.nan, high)


def kaplan_meier(
    data: IntoFrameT,
    *,
    duration: str = "duration",
    observed: str = "churned",
    by: str | Sequence[str] | None = None,
    confidence: float = 0.95,
) -> SurvivalCurves:
    """Kaplan-Meier survival and Nelson-Aalen cumulative hazard of customer lifetimes, by
    segment, with intervals (definitions in :mod:`journey_lib.survival.curves`).

    Parameters
    ----------
    data : frame of any engine
        One row per customer.
    duration : str
        The customer's time from acquisition to churn, or to the end of the data when they
        have not churned (non-negative numbers).
    observed : str
        True or 1 where the lifetime ended in churn, False or 0 where it is censored.
    by : str or list of str, optional
        Segment columns: one curve per segment.
    confidence : float
        Level of the intervals.

    Returns
    -------
    SurvivalCurves
        With ``median()``, ``restricted_mean(horizon)``, ``conditional(survived, horizon)``,
        ``survival_at(times)``, ``logrank()`` and ``plot()``.

    Raises
    ------
    JourneyDataError
        A column is missing, or a duration is missing or negative, or a churn flag is not
        0 or 1 (the message gives the count and an example).

    Examples
    --------
    Four customers: churned at 2 and 3, one still there at 3, one churned at 5.

    >>> import pandas as pd, journey_lib as jl
    >>> c = pd.DataFrame({"duration": [2, 3, 3, 5], "churned": [1, 1, 0, 1]})
    >>> km = jl.survival.kaplan_meier(c)
    >>> km.table[["time", "at_risk", "events", "survival"]].to_dict("list")
    {'time': [2, 3, 5], 'at_risk': [4, 3, 1], 'events': [1, 1, 1], 'survival': [0.75, 0.5, 0.0]}
    """
    by = _segments(by)
    z = _z(confidence)
    counts = counts_by_time(data, duration=duration, observed=observed, by=by)
    starts = _starts(counts[by])
    leaving = counts["leaving"].to_numpy(np.int64)
    d = counts["events"].to_numpy(np.int64)
    gone_before = _group_cumsum(leaving, starts) - leaving
    total = np.add.reduceat(leaving, np.unique(starts))[np.searchsorted(np.unique(starts), starts)]
    n = total - gone_before
    with np.errstate(divide="ignore", invalid="ignore"):
        hazard = d / n
        s = np.exp(_group_cumsum(np.log1p(-hazard), starts))
        greenwood = _group_cumsum(np.where(d > 0, d / (n * (n - d)), 0.0), starts)
        h = _group_cumsum(hazard, starts)
        h_var = _group_cumsum(d / n**2, starts)
        h_sigma = np.sqrt(h_var) / h
    low, high = _loglog(s, greenwood, z)
    positive = h > 0
    table = counts[by].copy()
    table["time"] = counts["time"]
    table["at_risk"] = n.astype(np.int64)
    table["events"] = d
    table["censored"] = leaving - d
    table["survival"] = s
    table["survival_low"] = low
    table["survival_high"] = high
    table["cumulative_hazard"] = h
    table["hazard_low"] = np.where(positive, h * np.exp(-z * h_sigma), 0.0)
    table["hazard_high"] = np.where(positive, h * np.exp(z * h_sigma), 0.0)
    return SurvivalCurves(table=table, by=tuple(by), confidence=confidence)


def _logrank(table: pd.DataFrame, by: list[str]) -> LogRank:
    """The log-rank test from a curves table (at risk and churned per segment and time)."""
    key = (
        table[by].astype("string").fillna("(missing)").agg(" | ".join, axis=1)
        if len(by) > 1
        else table[by[0]]
    )
    names = pd.unique(key)
    if len(names) < 2:
        raise JourneyDataError(f"the log-rank test needs two segments or more; {by} has one")
    times = np.unique(table["time"].to_numpy(float))
    row = np.searchsorted(times, table["time"].to_numpy(float))
    col = pd.Index(names).get_indexer(key)
    events = np.zeros((len(times), len(names)))
    leaving = np.zeros((len(times), len(names)))
    np.add.at(events, (row, col), table["events"].to_numpy(float))
    np.add.at(leaving, (row, col), (table["events"] + table["censored"]).to_numpy(float))
    # At risk at a time: the segment's customers minus those who left before it.
    at_risk = leaving.sum(axis=0) - (np.cumsum(leaving, axis=0) - leaving)
    n, d = at_risk.sum(axis=1), events.sum(axis=1)
    share = at_risk / n[:, None]
    observed = events.sum(axis=0)
    expected = (share * d[:, None]).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = np.where(n > 1, d * (n - d) / (n - 1), 0.0)
    variance = np.diag((weight[:, None] * share).sum(axis=0)) - (share * weight[:, None]).T @ share
    diff = (observed - expected)[:-1]
    # A generalised inverse, as R's survdiff: a segment whose customers all left before any
    # churn carries no information, and the degrees of freedom are the covariance's rank.
    reduced = variance[:-1, :-1]
    statistic = float(diff @ np.linalg.pinv(reduced) @ diff)
    dof = int(np.linalg.matrix_rank(reduced))
    summary = pd.DataFrame(
        {
            "segment": names,
            "customers": leaving.sum(axis=0).astype(np.int64),
            "observed": observed,
            "expected": expected,
        }
    )
    p_value = float(chi2.sf(statistic, dof)) if dof else np.nan
    return LogRank(statistic, dof, p_value, summary)


def logrank_test(
    data: IntoFrameT,
    *,
    by: str | Sequence[str],
    duration: str = "duration",
    observed: str = "churned",
) -> LogRank:
    """The log-rank test that the segments of ``by`` share one survival curve.

    With :math:`n_{ik}` of segment :math:`k`'s customers at risk at churn time :math:`t_i`,
    :math:`d_i` churning in all and :math:`n_i` at risk in all, segment :math:`k` expects
    :math:`E_k = \\sum_i d_i n_{ik} / n_i` churns against the :math:`O_k` it had; the
    statistic is :math:`(O - E)^T V^{-1} (O - E)` over all segments but one, with the
    hypergeometric covariance
    :math:`V_{kl} = \\sum_i d_i (n_i - d_i) / (n_i - 1) \\, p_{ik} (\\delta_{kl} - p_{il})`,
    :math:`p_{ik} = n_{ik} / n_i`; a chi-square with segments - 1 degrees of freedom.

    Examples
    --------
    >>> import pandas as pd, journey_lib as jl
    >>> c = pd.DataFrame({"duration": [1, 2, 3, 4, 5, 6], "churned": [1] * 6,
    ...                   "plan": ["a", "a", "a", "b", "b", "b"]})
    >>> test = jl.survival.logrank_test(c, by="plan")
    >>> test.table[["segment", "observed"]].to_dict("list")
    {'segment': ['a', 'b'], 'observed': [3.0, 3.0]}
    >>> round(test.p_value, 4)
    0.0246
    """
    by = _segments(by)
    if not by:
        raise JourneyParameterError("by must name at least one segment column")
    return kaplan_meier(data, duration=duration, observed=observed, by=by).logrank()
