"""The Cox proportional-hazards model of customer lifetimes.

A customer with features :math:`x` churns at the hazard :math:`h(t \\mid x) = h_0(t)
\\exp(\\beta^T (x - \\bar x))`: one baseline hazard over time, scaled by the customer's
features. :math:`\\exp(\\beta_j)` is feature :math:`j`'s **hazard ratio**: the factor one unit
more of it (or being in a level rather than the reference level) multiplies the hazard by,
at every time.

* Fitting maximises the partial likelihood with **Efron's** handling of tied times
  (statsmodels' ``PHReg``, BSD-licensed); on the ``rossi`` recidivism data it gives the
  published coefficients.
* With ``penalizer`` > 0, the objective is the mean log partial likelihood minus
  ``penalizer / 2`` times the squared coefficients of the standardised features (lifelines'
  convention), for many or collinear features; its intervals are then those of the
  penalised fit and read as approximate.
* The baseline cumulative hazard is Breslow's, at the mean features, so a customer's survival
  is :math:`S(t \\mid x) = \\exp(-H_0(t) \\exp(\\beta^T (x - \\bar x)))`.
* The **proportional-hazards check** is Grambsch and Therneau's test on scaled Schoenfeld
  residuals (Efron's expected features at tied times): a small p-value says the feature's
  effect changes over time, so its one hazard ratio is an average.
* **Expected remaining lifetime** of a customer still there at tenure :math:`a`:
  :math:`\\int_a^{a + \\tau} S(u \\mid x) / S(a \\mid x) \\, du`, restricted to a horizon
  :math:`\\tau` because the baseline is not known beyond the data.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from narwhals.typing import IntoFrame
from scipy.stats import chi2, norm, rankdata

from .._engine import to_pandas
from ..errors import JourneyDataError, JourneyNotFittedError, JourneyParameterError, check_choice

__all__ = ["CoxModel"]

#: Customers a batch of expected lifetimes covers: a batch holds customers x baseline times.
#: Small batches keep those arrays in cache and reuse their memory: at 100,000 customers and
#: 400 times, batches of 2,000 took 0.48 s where batches of 20,000 took 2.9 s.
_BATCH = 2_000


class CoxModel:
    """Cox proportional-hazards model with Efron ties (definitions in
    :mod:`journey_lib.survival.cox`).

    Parameters
    ----------
    penalizer : float
        Ridge penalty on the standardised coefficients (0 for the plain fit).
    confidence : float
        Level of the hazard ratios' intervals.

    Attributes
    ----------
    summary_ : pandas.DataFrame
        One row per feature: ``customers`` (rows in the level for a level of a categorical
        feature, else all), ``coef``, ``se``, ``hazard_ratio``, ``low``, ``high`` (of the
        hazard ratio), ``z``, ``p``; categorical features are one column per level but the
        reference level, named ``column=level``.
    baseline_ : pandas.DataFrame
        ``time`` and ``cumulative_hazard`` at the mean features.
    references_ : dict
        The reference level of each categorical feature: its most common level (a missing
        one only when nothing else is there).
    concordance_ : float
        Harrell's C on the training customers.

    Examples
    --------
    >>> import pandas as pd, journey_lib as jl
    >>> c = pd.DataFrame({"duration": [5, 8, 3, 9, 2, 7, 4, 6],
    ...                   "churned": [1, 0, 1, 1, 1, 0, 1, 1],
    ...                   "plan": ["a", "a", "b", "a", "b", "a", "b", "b"]})
    >>> model = jl.survival.CoxModel().fit(c)
    >>> model.summary_.index.tolist(), model.references_
    (['plan=b'], {'plan': 'a'})
    >>> bool(model.summary_.loc["plan=b", "hazard_ratio"] > 1)
    True
    """

    def __init__(self, *, penalizer: float = 0.0, confidence: float = 0.95) -> None:
        self.penalizer = penalizer
        self.confidence = confidence

    # -- fitting -------------------------------------------------------------------------
    def fit(
        self,
        data: IntoFrame,
        *,
        duration: str = "duration",
        observed: str = "churned",
        features: Sequence[str] | None = None,
        entry: str | None = None,
    ) -> CoxModel:
        """Fit on one row per customer: ``duration``, ``observed`` (1 for churn) and the
        ``features`` (every other column when not given).

        With ``entry``, each row is a stretch of a customer's life from ``entry`` to
        ``duration`` (both times since acquisition) with the features as they were then,
        ``observed`` 1 only on the stretch that ends in churn: features that change over
        a life, such as trust after each order (the counting-process form). Concordance is
        not defined for stretches and is NaN.

        Examples
        --------
        Customer 1's plan changed at day 3; customer 2 churned on day 4, customer 3 on 5.

        >>> import pandas as pd, journey_lib as jl
        >>> rows = pd.DataFrame({"start": [0, 3, 0, 0], "duration": [3, 6, 4, 5],
        ...                      "churned": [0, 1, 1, 1], "premium": [0, 1, 1, 0]})
        >>> model = jl.survival.CoxModel().fit(rows, entry="start")
        >>> model.feature_names_, bool(model.baseline_["time"].tolist() == [4, 5, 6])
        (['premium'], True)
        """
        from statsmodels.duration.hazard_regression import PHReg

        if not (np.isfinite(self.penalizer) and self.penalizer >= 0):
            raise JourneyParameterError(f"penalizer must be 0 or more, got {self.penalizer!r}")
        frame = to_pandas(data)
        for name in (duration, observed, *([entry] if entry else [])):
            if name not in frame.columns:
                raise JourneyDataError(
                    f"the customer table has no column {name!r}; its columns are "
                    f"{', '.join(map(repr, frame.columns))}"
                )
        names = [c for c in frame.columns if c not in (duration, observed, entry)]
        features = names if features is None else list(features)
        # The same checks as the curves: one message for a bad duration or flag.
        from .curves import counts_by_time

        counts_by_time(frame[[duration, observed]], duration=duration, observed=observed)
        start = None if entry is None else _entry(frame, entry, duration)
        categorical = [c for c in features if c in frame.columns and not _numeric(frame[c])]
        self.references_ = {c: _reference(_text(frame[c])) for c in categorical}
        self._columns = features
        self._levels = {
            c: sorted(v for v in pd.unique(_text(frame[c])) if v != self.references_[c])
            for c in categorical
        }
        x = self._design(frame)
        self.feature_names_ = list(x.columns)
        self._level_names = {f"{c}={v}" for c, levels in self._levels.items() for v in levels}
        values = x.to_numpy(float)
        self._mean = values.mean(axis=0)
        self._scale = values.std(axis=0)
        self._scale[self._scale == 0] = 1.0
        standard = (values - self._mean) / self._scale
        _check_design(standard, self.feature_names_)
        time = frame[duration].to_numpy(float)
        event = frame[observed].to_numpy(float)
        if not event.any():
            raise JourneyDataError(
                f"no customer has churned ({observed!r} is 0 for all {len(event):,}): a hazard "
                "model needs churns to learn from"
            )
        # A stretch is at risk on (entry, end], as R's counting process: statsmodels counts
        # entry == t at risk too, so it gets the next float above each entry (the same
        # order against every time, no tie with one).
        shifted = None if start is None else np.nextafter(start, np.inf)
        model = PHReg(time, standard, status=event, entry=shifted, ties="efron")
        try:
            beta, hessian = _newton(model, self.penalizer, len(time))
            cov = np.linalg.inv(-hessian)
        except np.linalg.LinAlgError:
            beta, cov = np.full(standard.shape[1], np.inf), None
        # A log hazard ratio of 10 per standard deviation (22,000 times the rate) is no
        # estimate: the likelihood keeps rising as it grows (the customers of a level all
        # churn first, or none does), as in R's "coefficient may be infinite".
        runaway = [n for n, b in zip(self.feature_names_, beta, strict=True) if not abs(b) < 10]
        if runaway or cov is None:
            raise JourneyDataError(
                f"the Cox model has no finite estimate for {', '.join(map(repr, runaway))}: "
                "its customers' churn is separated from the others' (all at the earliest "
                "times, or none), so the likelihood keeps rising; leave it out, merge its "
                "levels, or give penalizer > 0"
            )
        coef = beta / self._scale
        cov = cov / np.outer(self._scale, self._scale)
        se = np.sqrt(np.diag(cov))
        z = norm.ppf(0.5 + self.confidence / 2)
        self.coef_ = pd.Series(coef, index=self.feature_names_, name="coef")
        self.covariance_ = pd.DataFrame(cov, index=self.feature_names_, columns=self.feature_names_)
        self.summary_ = pd.DataFrame(
            {
                # Customers (rows) a coefficient rests on: those in the level, or all.
                "customers": np.where(
                    [name in self._level_names for name in self.feature_names_],
                    (values != 0).sum(axis=0),
                    len(values),
                ).astype(np.int64),
                "coef": coef,
                "se": se,
                "hazard_ratio": np.exp(coef),
                "low": np.exp(coef - z * se),
                "high": np.exp(coef + z * se),
                "z": coef / se,
                "p": 2 * norm.sf(np.abs(coef / se)),
            },
            index=pd.Index(self.feature_names_, name="feature"),
        )
        self._time, self._event, self._x, self._entry = time, event, values, start
        risk = np.exp((values - self._mean) @ coef)
        self.baseline_ = _breslow(time, event, risk, start)
        self.concordance_ = np.nan if entry else concordance(time, event, risk)
        return self

    def _design(self, frame: pd.DataFrame) -> pd.DataFrame:
        missing = [c for c in self._columns if c not in frame.columns]
        if missing:
            raise JourneyDataError(
                f"the customer table has no feature column {', '.join(map(repr, missing))}"
            )
        parts = []
        for c in self._columns:
            column = frame[c]
            if c in self.references_:
                # The levels seen in fitting; a level new at scoring counts as the reference.
                text = _text(column)
                parts.append(
                    pd.DataFrame(
                        {f"{c}={v}": (text == v).to_numpy(float) for v in self._levels[c]},
                        index=frame.index,
                    )
                )
            else:
                values = column.astype(float)
                if values.isna().any():
                    example = frame.loc[values.isna()].index[0]
                    raise JourneyDataError(
                        f"feature {c!r} is missing for {int(values.isna().sum()):,} customers "
                        f"(for example row {example!r}); fill or drop them first"
                    )
                parts.append(values.rename(c).to_frame())
        return pd.concat(parts, axis=1) if parts else pd.DataFrame(index=frame.index)

    def _check(self) -> None:
        if not hasattr(self, "coef_"):
            raise JourneyNotFittedError("this CoxModel is not fitted yet: call fit first")

    # -- scoring -------------------------------------------------------------------------
    def predict_risk(self, data: IntoFrame) -> np.ndarray:
        """Each customer's hazard relative to a customer with the mean features,
        :math:`\\exp(\\beta^T (x - \\bar x))`."""
        self._check()
        x = self._design(to_pandas(data)).to_numpy(float)
        return np.exp((x - self._mean) @ self.coef_.to_numpy())

    def predict_survival(self, data: IntoFrame, times: Sequence[float]) -> pd.DataFrame:
        """Each customer's probability of still being a customer at ``times`` since
        acquisition (one column per time)."""
        risk = self.predict_risk(data)
        h0 = self._baseline_at(np.asarray(times, dtype=float))
        return pd.DataFrame(np.exp(-np.outer(risk, h0)), columns=list(times))

    def _baseline_at(self, times: np.ndarray) -> np.ndarray:
        t = self.baseline_["time"].to_numpy(float)
        h = self.baseline_["cumulative_hazard"].to_numpy(float)
        at = np.searchsorted(t, times, side="right") - 1
        return np.where(at >= 0, h[np.maximum(at, 0)], 0.0)

    def expected_remaining(
        self, data: IntoFrame, *, tenure: str = "duration", horizon: float | None = None
    ) -> np.ndarray:
        """Each active customer's expected further lifetime up to ``horizon`` beyond their
        ``tenure`` (a column, in the duration's unit): the area under their survival curve
        from tenure to tenure + horizon, given they are there at tenure.

        The area stops at the last time the baseline is known (the longest lifetime
        seen): ``horizon`` defaults to that time less the tenure, and a longer one is cut
        there; a tenure at or past it gives NaN. Computed in batches of customers.
        """
        self._check()
        frame = to_pandas(data)
        if tenure not in frame.columns:
            raise JourneyDataError(f"the customer table has no tenure column {tenure!r}")
        risk = self.predict_risk(frame)
        start = frame[tenure].to_numpy(float)
        last = float(self.baseline_["time"].iloc[-1])
        if horizon is not None and not horizon > 0:
            raise JourneyParameterError(f"horizon must be positive, got {horizon!r}")
        # Restricted to the last time the baseline knows: past it the curve is unknown.
        end = (
            np.minimum(start + horizon, last) if horizon is not None else np.full_like(start, last)
        )
        t = self.baseline_["time"].to_numpy(float)
        # The curve is exp(-H_k r) on [t_k, t_k+1): from 0 (H = 0) to the first time, and
        # on from the last time (where the horizon reaches past it, the curve stays flat).
        left = np.concatenate(([0.0], t))
        right = np.concatenate((t, [np.inf]))
        cumulative = np.concatenate(([0.0], self.baseline_["cumulative_hazard"].to_numpy(float)))
        out = np.empty(len(start))
        for lo in range(0, len(start), _BATCH):
            s, e, r = start[lo : lo + _BATCH], end[lo : lo + _BATCH], risk[lo : lo + _BATCH]
            # Each piece's overlap with [tenure, end], times the height of the curve given
            # survival to tenure, exp(-r (H_k - H(tenure))). The exponent is capped at 40:
            # heights below exp(-40) = 4e-18 change no digit that matters, and exp of
            # large arguments and products with the tiny numbers it gives are slow.
            widths = np.minimum(right, e[:, None]) - np.maximum(left, s[:, None])
            exponent = np.outer(r, cumulative) - (r * self._baseline_at(s))[:, None]
            heights = np.exp(-np.clip(exponent, 0.0, 40.0))
            out[lo : lo + _BATCH] = (np.maximum(widths, 0.0) * heights).sum(axis=1)
        # A tenure at or past the last baseline time: nothing is known of what follows.
        out[start >= last] = np.nan
        return out

    def plot(self, *, ax: Any = None) -> Any:
        """The hazard ratios as a forest (see :func:`journey_lib.plots.hazard_ratios`)."""
        from ..plots.lifetimes import hazard_ratios

        self._check()
        return hazard_ratios(self, ax=ax)

    def check_proportional_hazards(self, transform: str = "km") -> pd.DataFrame:
        """Grambsch and Therneau's test of each feature's proportional hazards: the
        correlation of its scaled Schoenfeld residuals with (a transform of) time, as a
        chi-square with one degree of freedom.

        ``transform`` is ``"km"`` (1 - Kaplan-Meier at the churn times, R's ``cox.zph``
        default), ``"rank"`` (the churn times' ranks, tied times sharing their mean rank)
        or ``"identity"``. With ``"km"`` and ``"identity"`` the statistics equal lifelines'
        ``proportional_hazard_test``; its ``"rank"`` breaks ties by row order.
        """
        self._check()
        check_choice("transform", transform, ("rank", "km", "identity"))
        dead = self._event == 1
        residuals = _schoenfeld(
            self._time, self._event, self._x - self._mean, self.coef_.to_numpy(), self._entry
        )
        deaths = int(dead.sum())
        scaled = deaths * residuals @ self.covariance_.to_numpy()
        times = np.sort(self._time[dead])  # the residuals' order
        if transform == "rank":
            times = rankdata(times)
        elif transform == "km":
            # Kaplan-Meier at each churn time, with risk sets that respect entry times.
            unique, counts = np.unique(times, return_counts=True)
            n = _at_risk(unique, self._time, self._entry, np.ones(len(self._time)))
            times = 1 - np.cumprod(1 - counts / n)[np.searchsorted(unique, times)]
        centred = times - times.mean()
        statistic = (centred @ scaled) ** 2 / (
            deaths * self.summary_["se"].to_numpy() ** 2 * (centred**2).sum()
        )
        return pd.DataFrame(
            {"statistic": statistic, "p": chi2.sf(statistic, 1)},
            index=pd.Index(self.feature_names_, name="feature"),
        )


def _entry(frame: pd.DataFrame, entry: str, duration: str) -> np.ndarray:
    """The entry times, checked: numbers, present, at least 0 and before the row's end."""
    values = pd.to_numeric(frame[entry], errors="coerce").to_numpy(float)
    bad = ~np.isfinite(values) | (values < 0) | (values >= frame[duration].to_numpy(float))
    if bad.any():
        example = frame.loc[bad, [entry, duration]].iloc[0].to_dict()
        raise JourneyDataError(
            f"{int(bad.sum()):,} rows have an entry time ({entry!r}) that is missing, negative "
            f"or not before their end ({duration!r}); for example {example}"
        )
    return values


def _check_design(standard: np.ndarray, names: list[str]) -> None:
    """Refuse features that repeat others (one is a sum of others): no model tells them
    apart. Named by a pivoted QR, which keeps the first of each set in the given order."""
    if standard.shape[1] == 0:
        raise JourneyDataError("the Cox model needs at least one feature")
    constant = [n for n, c in zip(names, standard.T, strict=True) if not np.any(c)]
    if constant:
        raise JourneyDataError(
            f"feature {constant[0]!r} is the same for every customer, so it says nothing about "
            "when they leave; leave it out"
        )
    from scipy.linalg import qr

    _, r, pivot = qr(standard, mode="economic", pivoting=True)
    diagonal = np.abs(np.diag(r))
    rank = int((diagonal > diagonal[0] * 1e-9).sum())
    if rank < standard.shape[1]:
        repeated = [names[i] for i in sorted(pivot[rank:])]
        raise JourneyDataError(
            f"feature {', '.join(map(repr, repeated))} repeats the others (it is a sum of "
            "other features' columns, such as two columns that split customers alike), so "
            "no model tells them apart; leave it out"
        )


def _text(column: pd.Series) -> pd.Series:
    """A categorical feature's values as text, a missing value as the level ``(missing)``."""
    return column.astype("string").fillna("(missing)")


def _reference(column: pd.Series) -> str:
    """A categorical feature's reference level: its most common, ``(missing)`` only when
    there is no other (hazard ratios against "no value" read badly)."""
    counts = column.value_counts()
    present = [v for v in counts.index if v != "(missing)"]
    return str(present[0] if present else counts.index[0])


def _numeric(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)


def _newton(model: Any, penalizer: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Maximise the mean log partial likelihood less the ridge penalty; the coefficients and
    the Hessian of the (total) penalised log likelihood."""
    if penalizer == 0:
        from statsmodels.tools.sm_exceptions import ConvergenceWarning

        # A fit that does not converge is caught by the caller's check of the estimates,
        # with a message that says why; statsmodels' own warning would only repeat it.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fit = model.fit()
        return fit.params, model.hessian(fit.params)
    beta = np.zeros(model.exog.shape[1])

    def objective(b: np.ndarray) -> float:
        return model.loglike(b) / n - penalizer / 2 * b @ b

    value = objective(beta)
    for _ in range(100):
        grad = model.score(beta) / n - penalizer * beta
        hess = model.hessian(beta) / n - penalizer * np.eye(len(beta))
        step = np.linalg.solve(hess, -grad)
        shrink = 1.0
        while objective(beta + shrink * step) < value - 1e-12 and shrink > 1e-6:
            shrink /= 2
        beta = beta + shrink * step
        new = objective(beta)
        if abs(new - value) < 1e-12 and np.max(np.abs(grad)) < 1e-8:
            break
        value = new
    return beta, (model.hessian(beta) / n - penalizer * np.eye(len(beta))) * n


def _at_risk(
    times: np.ndarray, exit: np.ndarray, entry: np.ndarray | None, weights: np.ndarray
) -> np.ndarray:
    """Sums of ``weights`` (rows, or rows x columns) over the rows at risk at each of
    ``times``: exit at or after the time, entry before it (no entry: at risk from 0)."""
    order = np.argsort(exit, kind="stable")
    # Sum over rows whose exit is at least t: a cumulative sum from the right.
    tail = np.cumsum(weights[order][::-1], axis=0)[::-1]
    tail = np.concatenate((tail, np.zeros((1, *weights.shape[1:]))))
    sums = tail[np.searchsorted(exit[order], times, side="left")]
    if entry is not None:
        # Less the rows that enter at or after t: not yet at risk.
        later = np.argsort(entry, kind="stable")
        tail = np.cumsum(weights[later][::-1], axis=0)[::-1]
        tail = np.concatenate((tail, np.zeros((1, *weights.shape[1:]))))
        sums = sums - tail[np.searchsorted(entry[later], times, side="left")]
    return sums


def _breslow(
    time: np.ndarray, event: np.ndarray, risk: np.ndarray, entry: np.ndarray | None = None
) -> pd.DataFrame:
    """Breslow's baseline cumulative hazard: at each churn time, churns over the summed risk
    of the customers (rows) at risk then."""
    times, deaths = np.unique(time[event == 1], return_counts=True)
    at_risk = _at_risk(times, time, entry, risk)
    return pd.DataFrame({"time": times, "cumulative_hazard": np.cumsum(deaths / at_risk)})


def _schoenfeld(
    time: np.ndarray,
    event: np.ndarray,
    x: np.ndarray,
    beta: np.ndarray,
    entry: np.ndarray | None = None,
) -> np.ndarray:
    """Schoenfeld residuals of the rows that end in churn (in time order), with Efron's
    expected features at tied times: the mean over the ties' l = 0..d-1 of
    (S1 - l/d T1) / (S0 - l/d T0), S the risk set's sums and T the tied churns'."""
    dead = event == 1
    order = np.argsort(time[dead], kind="stable")
    dtime, dx = time[dead][order], x[dead][order]
    w = np.exp(x @ beta)
    dt = w[dead][order]
    times, dgroup, ties = np.unique(dtime, return_inverse=True, return_counts=True)
    sums = _at_risk(times, time, entry, np.column_stack((w, w[:, None] * x)))
    s0, s1 = sums[:, 0], sums[:, 1:]
    t0 = np.bincount(dgroup, weights=dt, minlength=len(times))
    t1 = np.stack(
        [
            np.bincount(dgroup, weights=dt * dx[:, j], minlength=len(times))
            for j in range(x.shape[1])
        ],
        axis=1,
    ).reshape(len(times), x.shape[1])
    # Each churn's place l among its time's ties, then the mean over l per time.
    start = np.concatenate(([0], np.cumsum(ties)[:-1]))
    place = np.arange(len(dgroup)) - start[dgroup]
    frac = (place / ties[dgroup])[:, None]
    ratio = (s1[dgroup] - frac * t1[dgroup]) / (s0[dgroup] - frac[:, 0] * t0[dgroup])[:, None]
    expected = (
        np.stack(
            [
                np.bincount(dgroup, weights=ratio[:, j], minlength=len(times))
                for j in range(x.shape[1])
            ],
            axis=1,
        ).reshape(len(times), x.shape[1])
        / ties[:, None]
    )
    return dx - expected[dgroup]


def concordance(time: np.ndarray, event: np.ndarray, risk: np.ndarray) -> float:
    """Harrell's C: of the pairs where one customer churned before the other's time (or at
    the time the other was censored: that one was still there), the share where the one who
    churned had the higher risk (ties in risk count half).

    Counted without forming the pairs, in O(n log n): each customer gets a key, twice the
    rank of their time plus 1 when censored, so the customers comparable with a churn at
    time rank ``k`` are those with a key above ``2k``. The pairs whose risk is lower are
    counted one bit of the risk rank at a time: where two ranks first differ at bit ``b``,
    they share the bits above it and the lower one has 0 at ``b``, so each bit is one sorted
    search within groups of equal higher bits.

    Examples
    --------
    >>> import numpy as np
    >>> concordance(np.array([1, 2, 3]), np.array([1, 1, 0]), np.array([3.0, 2.0, 1.0]))
    1.0
    """
    time, event, risk = (np.asarray(a, dtype=float) for a in (time, event, risk))
    churned = event == 1
    rank = rankdata(risk, method="dense").astype(np.int64) - 1
    key = 2 * (rankdata(time, method="dense").astype(np.int64) - 1) + (~churned)
    query = key[churned] - (~churned[churned])  # 2 x time rank of each churn
    width = int(key.max()) + 2
    # Comparable pairs and pairs tied in risk.
    pairs = len(key) - np.searchsorted(np.sort(key), query, side="right")
    same = np.sort(rank * width + key)
    base = rank[churned] * width
    tied = np.searchsorted(same, base + width, side="left") - np.searchsorted(
        same, base + query, side="right"
    )
    lower = np.zeros(len(query), dtype=np.int64)
    for b in range(max(1, int(rank.max()).bit_length())):
        prefix, bit = rank >> (b + 1), (rank >> b) & 1
        zeros = np.sort(prefix[bit == 0] * width + key[bit == 0])
        ones = bit[churned] == 1
        start = prefix[churned][ones] * width
        lower[ones] += np.searchsorted(zeros, start + width, side="left") - np.searchsorted(
            zeros, start + query[ones], side="right"
        )
    total = pairs.sum()
    return float((lower.sum() + tied.sum() / 2) / total) if total else float("nan")
