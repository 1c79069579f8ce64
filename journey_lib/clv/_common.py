"""What the CLV models share: reading the RFM frame, the optimiser, the not-fitted error.

Fitting is in memory: a frame of any engine is converted to pandas once, then everything is
NumPy. Customers with the same history share one row of work (a likelihood term, a
prediction), which is what makes a million customers cheap.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from narwhals.typing import IntoFrame
from scipy.optimize import minimize

from .._engine import to_pandas
from ..errors import (
    JourneyDataError,
    JourneyDataWarning,
    JourneyError,
    JourneyNotFittedError,
    JourneyParameterError,
)

WHAT = "the RFM frame"
HISTORY = ("frequency", "recency", "T")


#: Log-parameters stay within +-30 (e^30 is 1e13): wide enough for any real fit, and it keeps
#: the optimiser's trial steps from overflowing.
LOG_BOUND = 30.0
FLAT = 1e-8  # the smallest curvature of a likelihood, relative to the largest

# A log-likelihood and its gradient in the log-parameters, from the log-parameters.
Objective = Callable[[np.ndarray], tuple[float, np.ndarray]]


class Model:
    """Fitted-model plumbing: attributes ending in ``_`` exist only after ``fit``."""

    _fitted: Histories | None = None

    def __getattr__(self, name: str) -> Any:
        # Only reached when normal lookup fails, i.e. for a fitted attribute before fit.
        if name.endswith("_") and not name.startswith("_"):
            raise not_fitted(self)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def parameters(self) -> pd.DataFrame:
        """The fitted parameters with their standard errors, one row each: a table to show
        where a printed repr would not do.

        Examples
        --------
        >>> from journey_lib import clv
        >>> clv.GammaGamma.from_params(p=6.25, q=3.74, v=15.44).parameters()["estimate"].tolist()
        [6.25, 3.74, 15.44]
        """
        errors = self.__dict__.get("standard_errors_")
        table = pd.DataFrame({"estimate": self.params_})
        table["standard_error"] = errors if errors is not None else float("nan")
        return table.rename_axis(type(self).__name__)

    def _histories(self, rfm_frame: Any, columns: tuple[str, ...]) -> Histories:
        """The fitted customers when ``rfm_frame`` is None, else ``rfm_frame``'s."""
        if "params_" not in self.__dict__:
            raise not_fitted(self)
        if rfm_frame is not None:
            return read_histories(rfm_frame, columns)
        if self._fitted is None:
            raise JourneyParameterError(
                f"this {type(self).__name__} was made from parameters and has no fitted "
                f"customers: pass the rfm_frame of the customers to score"
            )
        return self._fitted


def not_fitted(model: object) -> JourneyNotFittedError:
    name = type(model).__name__
    return JourneyNotFittedError(
        f"this {name} is not fitted yet; call {name}().fit(rfm_frame) with the output of "
        f"journey_lib.rfm first"
    )


def check_params(values: dict[str, float], model: str) -> pd.Series:
    """Given parameters as a Series, each checked to be a positive number."""
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < np.inf:
            raise JourneyParameterError(f"{model}: {name} must be a positive number; got {value!r}")
    return pd.Series({k: float(v) for k, v in values.items()}, name=model)


def customer_label(ids: pd.Index, position: int) -> str:
    """``customer_id 17`` for the customer at ``position``, without NumPy's scalar repr."""
    customer = ids[position]
    customer = customer.item() if isinstance(customer, np.generic) else customer
    return f"customer_id {customer!r}"


def check_penalizer(penalizer_coef: float) -> float:
    if not isinstance(penalizer_coef, int | float) or not 0 <= penalizer_coef < np.inf:
        raise JourneyParameterError(
            f"penalizer_coef must be a number >= 0 (0 means plain maximum likelihood); "
            f"got {penalizer_coef!r}"
        )
    return float(penalizer_coef)


def maximise(
    log_likelihood: Objective,
    start: np.ndarray,
    names: tuple[str, ...],
    *,
    customers: float,
    penalizer_coef: float,
    model: str,
    unscale: np.ndarray | float = 1.0,
) -> np.ndarray:
    """The log-parameters maximising ``log_likelihood`` minus ``penalizer_coef`` times the
    sum of the squared parameters times ``customers``, as lifetimes penalises the mean
    log-likelihood. L-BFGS-B on the log-parameters (so parameters stay positive) with the
    analytic gradient.

    Raises JourneyError when the optimiser stops away from a maximum; its message gives
    the parameters times ``unscale`` (the user's units when the fit rescaled time).
    """

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        ll, grad = log_likelihood(theta)
        params = np.exp(theta)
        penalty = penalizer_coef * float(params @ params)
        # Scaled to a mean, as lifetimes does: tolerances then mean the same at any size.
        return -ll / customers + penalty, -grad / customers + 2 * penalizer_coef * params**2

    def run(theta0: np.ndarray) -> Any:
        return minimize(
            objective,
            theta0,
            jac=True,
            method="L-BFGS-B",
            bounds=[(-LOG_BOUND, LOG_BOUND)] * len(start),
            options={"maxiter": 5000, "ftol": 1e-14, "gtol": 1e-9},
        )

    def optimum(result: Any) -> bool:
        """Whether the point is the optimum to the precision the likelihood is computed
        with: the gradient flat there, or (after a line search that could not go on) no
        step downhill, nor along any parameter either way, doing better by more than
        rounding."""
        inside = np.abs(result.x) < LOG_BOUND
        if np.max(np.abs(result.jac)[inside], initial=0.0) < 1e-5:
            return True
        if "ABNORMAL" not in str(result.message):  # out of iterations, say: not a stall
            return False
        norm = np.linalg.norm(result.jac[inside])
        directions = [-np.where(inside, result.jac, 0.0) / norm] if norm > 0 else []
        for k in np.flatnonzero(inside):
            unit = np.zeros_like(result.x)
            unit[k] = 1.0
            directions += [unit, -unit]
        tolerance = 1e-12 * max(1.0, abs(result.fun))
        for direction in directions:
            for step in (1e-1, 1e-2, 1e-4, 1e-6, 1e-8):
                trial = np.clip(result.x + step * direction, -LOG_BOUND, LOG_BOUND)
                if objective(trial)[0] < result.fun - tolerance:
                    return False
        return True

    result = run(start)
    # L-BFGS-B also stops "abnormally" when a line search cannot improve on a point that is
    # already the optimum to rounding. On a ridge (a likelihood that keeps rising as two
    # parameters run off together) rounding in the gradient leaves it steeper than the
    # likelihood is: the point is an optimum all the same when no step along it improves
    # on it. Judging by the gradient alone let a fit turn on the last digit of a sum that
    # another engine added in another order.
    theta = result.x
    if not result.success and not optimum(result):
        reached = _shown(names, np.exp(theta) * unscale)
        raise JourneyError(
            f"{model} did not converge: the optimiser stopped at {reached} without a flat "
            f"likelihood ({result.message.strip() or 'no progress'}). The data may not fit the "
            f"model; a small penalizer_coef (e.g. 0.001) keeps the parameters finite"
        )
    return theta


def standard_errors(
    log_likelihood: Objective,
    theta: np.ndarray,
    names: tuple[str, ...],
    model: str,
    unscale: np.ndarray | float = 1.0,
) -> np.ndarray:
    """Asymptotic standard errors of the parameters ``exp(theta)``: the observed information
    (the Hessian of the log-likelihood, by central differences of its analytic gradient)
    inverted, then the delta method.

    NaN where the Hessian is not negative definite (to :data:`FLAT` of its largest
    curvature, what its central differences resolve): the likelihood is flat in some direction
    (it keeps rising as a parameter runs off to 0 or infinity), so the data cannot pin the
    parameters down. That is warned about (JourneyDataWarning); predictions are then the
    limit the data supports.
    """
    step = 1e-5
    rows = []
    for i in range(len(theta)):
        shift = np.zeros_like(theta)
        shift[i] = step
        upper, lower = log_likelihood(theta + shift)[1], log_likelihood(theta - shift)[1]
        rows.append((upper - lower) / (2 * step))
    information = -np.array(rows)
    information = (information + information.T) / 2
    curvature = np.linalg.eigvalsh(information)
    # Negative definite to what central differences of the gradient resolve (about 1e-8
    # of the largest curvature; CDNOW's fits are near 1e-2): a flatter direction is a
    # likelihood still rising as parameters run off together (a and b of BG/NBD at 1e9
    # on a log where the dropout chance is the same for everyone: 1e-12).
    if not curvature[-1] > 0 or curvature[0] <= FLAT * curvature[-1]:
        reached = _shown(names, np.exp(theta) * unscale)
        warnings.warn(
            f"{model}: the likelihood is flat at {reached} (a parameter tends to 0 or "
            f"infinity), so the data cannot determine the parameters and standard_errors_ "
            f"are NaN; predictions are the limit the data supports",
            JourneyDataWarning,
            stacklevel=3,
        )
        return np.full(len(theta), np.nan)
    return np.exp(theta) * np.sqrt(np.diag(np.linalg.inv(information)))


@dataclass(frozen=True)
class Histories:
    """Customers of an RFM frame, and their distinct histories.

    ``groups`` holds one row per distinct (frequency, recency, T) or (frequency,
    monetary_value), ``weight`` how many customers share it and ``inverse`` which group each
    customer is in, so ``values[inverse]`` spreads per-group results back to customers.
    """

    ids: pd.Index
    columns: dict[str, np.ndarray]
    groups: dict[str, np.ndarray]
    weight: np.ndarray
    inverse: np.ndarray

    def spread(self, values: np.ndarray, name: str) -> pd.Series:
        """Per-group ``values`` as a Series over the customers, indexed by customer_id."""
        return pd.Series(values[self.inverse], index=self.ids, name=name)


def read_histories(rfm_frame: IntoFrame, columns: tuple[str, ...]) -> Histories:
    """Check ``rfm_frame`` (any engine) and group its customers by ``columns``.

    Raises JourneyDataError naming the column, the count and an example customer for a
    missing column, an empty frame, a missing or duplicated ``customer_id``, values that are
    missing, infinite or negative, a fractional ``frequency``, ``recency`` above ``T``, a
    positive ``recency`` without a repeat purchase, and (when ``monetary_value`` is read) a
    ``monetary_value`` that is not positive for a customer with repeat purchases.
    """
    frame = to_pandas(rfm_frame, what=WHAT)
    needed = ("customer_id", *columns)
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise JourneyDataError(
            f"{WHAT} lacks column(s) {missing}; it has {list(frame.columns)}. Pass the output "
            f"of journey_lib.rfm (customer_id, frequency, recency, T, monetary_value)"
        )
    if len(frame) == 0:
        raise JourneyDataError(f"{WHAT} is empty: there is no customer to fit or score")
    ids = pd.Index(frame["customer_id"], name="customer_id")
    _check(ids.isna(), "'customer_id' is missing", ids, {})
    if ids.has_duplicates:
        repeated = ids.duplicated(keep=False)
        _check(repeated, "'customer_id' repeats (one row per customer is expected)", ids, {})
    values = {name: _numbers(frame[name], name, ids) for name in columns}
    _check_values(values, ids)
    keys = tuple(values[name] for name in columns)
    uniques, inverse, weight = group_rows(keys)
    return Histories(ids, values, dict(zip(columns, uniques, strict=True)), weight, inverse)


def group_rows(
    keys: tuple[np.ndarray, ...],
) -> tuple[tuple[np.ndarray, ...], np.ndarray, np.ndarray]:
    """Distinct rows of equal-length ``keys``: (distinct values per key, inverse, counts).

    One lexsort and a comparison of neighbours; ``np.unique(..., axis=0)`` does the same
    through a structured view and is several times slower.
    """
    order = np.lexsort(keys[::-1])
    ordered = [k[order] for k in keys]
    starts = np.ones(len(order), dtype=bool)
    for k in ordered:
        starts[1:] &= k[1:] == k[:-1]
    starts = ~starts
    starts[0] = True
    inverse = np.empty(len(order), dtype=np.intp)
    inverse[order] = np.cumsum(starts) - 1
    weight = np.diff(np.append(np.flatnonzero(starts), len(order))).astype(np.float64)
    return tuple(k[starts] for k in ordered), inverse, weight


def _numbers(column: pd.Series, name: str, ids: pd.Index) -> np.ndarray:
    if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        raise JourneyDataError(f"{WHAT}: {name!r} is {column.dtype}, not numeric")
    values = column.to_numpy(dtype=np.float64, na_value=np.nan)
    _check(~np.isfinite(values), f"{name!r} is missing or infinite", ids, {name: values})
    if name != "monetary_value":  # spend is checked where it is used: for repeat buyers
        _check(values < 0, f"{name!r} is negative", ids, {name: values})
    return values


def _check_values(values: dict[str, np.ndarray], ids: pd.Index) -> None:
    x = values["frequency"]
    _check(
        x != np.floor(x),
        "'frequency' is not a whole number (it counts repeat purchase periods)",
        ids,
        {"frequency": x},
    )
    if "recency" in values:
        tx, T = values["recency"], values["T"]
        _check(
            tx > T,
            "'recency' (age at the last purchase) is greater than 'T' (age)",
            ids,
            {"recency": tx, "T": T},
        )
        _check(
            (x == 0) & (tx > 0),
            "'recency' is positive while 'frequency' is 0 (without a repeat purchase the "
            "last purchase is the first, at age 0)",
            ids,
            {"frequency": x, "recency": tx},
        )
    if "monetary_value" in values:
        m = values["monetary_value"]
        _check(
            (x > 0) & (m <= 0),
            "'monetary_value' is zero or negative for customers with repeat purchases "
            "(Gamma-Gamma models positive spend: drop or fix refunds and free orders first)",
            ids,
            {"frequency": x, "monetary_value": m},
        )


def _check(bad: np.ndarray, problem: str, ids: pd.Index, shown: dict[str, np.ndarray]) -> None:
    bad = np.asarray(bad)
    if not bad.any():
        return
    first = int(np.argmax(bad))
    count = int(bad.sum())
    detail = ", ".join(f"{name} {values[first]:g}" for name, values in shown.items())
    example = customer_label(ids, first) + (f" ({detail})" if detail else "")
    raise JourneyDataError(
        f"{WHAT}: {problem} for {count:,} customer{'s' if count != 1 else ''}, e.g. {example}"
    )


def _shown(names: tuple[str, ...], values: np.ndarray) -> str:
    return ", ".join(f"{n}={v:.3g}" for n, v in zip(names, values, strict=True))
