"""Scanning series for changes against their baselines, with one false-alarm budget.

**Windows.** A change is a window of consecutive used periods ``[s, e]`` whose level differs
from the baseline's (:mod:`journey_lib.monitor.baseline`). Tested windows: every start at
least :data:`MIN_BEFORE` used periods into the series (a change needs a before), with
lengths on the grid :data:`LENGTHS` (one period is a *spike*), plus every window that runs to
the last used period (an *ongoing* change, whatever its length).

**Score.** A window's observed total ``Y`` is set against the distribution its baseline total
``M`` (rates: out of ``N`` customers) and the series' dispersion ``phi`` at the window's
length give it (:meth:`~journey_lib.monitor.baseline.Baseline.dispersion`: where
neighbouring periods move together, as an order's deliveries and tickets over the next days
do, a month of days varies more than its days one by one), with mean ``M`` and variance
``phi`` times the model's:

* counts: negative binomial with size ``M / (phi - 1)`` (Poisson when ``phi`` is 1), the
  law of counts whose rate itself wanders from period to period, with its long right tail;
* rates: binomial on the effective numbers ``Y / phi`` of ``N / phi`` (quasi-binomial);
* money: ``Y / phi`` Poisson with mean ``M / phi``, the law of an amount made of a Poisson
  number of orders of about ``phi`` each (a day with no order is then no surprise).

The smaller one-sided tail probability ``p`` of ``Y`` becomes the **score**: the normal
quantile with that tail, signed by direction (the threshold below halves ``alpha`` for the
two sides). Beyond the range of floating point, the signed root of the likelihood ratio over
the root of ``phi`` takes over, so huge changes still rank. Without a change the score is
close to a standard normal; the tests measure how close (the baseline was fitted on the same
periods, which narrows it; periods the robust fit left out do not). A window the trend could
follow almost wholly (less than :data:`_LEAST_LEFT` of its variance left after projecting
out the baseline's columns, ``(V - a' (X'VX)^-1 a) / V``, the score test's own measure) is
not tested: there the baseline cannot tell a change from a trend.

**False alarms.** A window is a change when its score exceeds ``z*``, the two-sided normal
quantile of ``alpha / tests``, ``tests`` being every window of every series scanned
(Bonferroni). On an unchanged log, the probability of reporting *any* change is then at most
``alpha`` however many series are scanned, if the baseline and its dispersion describe the
series; where they do not (clustered, overdispersed, trending series), the realised rate is
higher, and that is measured rather than assumed (issue 18). A
change must also move the level by at least ``min_size`` of the baseline (relative), so a
very large log does not report a 2% wobble that no one would act on, and rest on at least
``min_count`` events (counts) or customers (rates, money) (:func:`supported`).

**Which windows.** Of a series' windows beyond ``z*``, the one with the largest likelihood
ratio (over ``phi``) is where the change lies: a longer window around a change can pass
with as high a score, but it mixes changed and unchanged periods, which the ratio penalises.
Windows overlapping it are dropped, and so on, up to ``max_per_series``.

Where a change that passed lies, to the period, is :mod:`journey_lib.monitor.span`'s.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from .baseline import Baseline

__all__ = [
    "LENGTHS",
    "MIN_BEFORE",
    "Found",
    "Limits",
    "likelihood_root",
    "scan",
    "supported",
    "tail_score",
    "threshold",
    "windows",
]

#: Window lengths tested, in periods (every window reaching the last period is tested too).
LENGTHS: tuple[int, ...] = (1, 2, 3, 4, 5, 7, 10, 14, 21, 28, 42, 56, 84, 112, 168, 252, 365)
#: Used periods a window must have before it: two weeks of days, four weeks.
MIN_BEFORE: dict[str, int] = {"day": 14, "week": 4}
#: Below this share of its variance left after the baseline, a window is not tested: the
#: trend can follow it, so the baseline cannot tell a change there.
_LEAST_LEFT = 0.05
_CHUNK = 4_000_000  # floats per block of window sums
_FLOOR_Z = float(stats.norm.isf(1e-300))


@functools.lru_cache(maxsize=256)
def windows(lo: int, hi: int, period: str) -> tuple[np.ndarray, np.ndarray]:
    """First and last period (inclusive) of every window tested in used periods
    ``lo..hi``.

    Examples
    --------
    >>> s, e = windows(0, 6, "week")
    >>> sorted(zip(s.tolist(), e.tolist()))
    [(4, 4), (4, 5), (4, 6), (5, 5), (5, 6), (6, 6)]
    """
    first = lo + MIN_BEFORE[period]
    if first > hi:
        return np.empty(0, "int64"), np.empty(0, "int64")
    starts, ends = [], []
    for length in LENGTHS:
        s = np.arange(first, hi - length + 2)
        starts.append(s)
        ends.append(s + length - 1)
    ongoing = np.arange(first, hi + 1)
    starts.append(ongoing)
    ends.append(np.full(len(ongoing), hi))
    pairs = np.unique(np.column_stack([np.concatenate(starts), np.concatenate(ends)]), axis=0)
    first_periods, last_periods = pairs[:, 0].astype("int64"), pairs[:, 1].astype("int64")
    first_periods.flags.writeable = last_periods.flags.writeable = False  # cached: shared
    return first_periods, last_periods


def threshold(alpha: float, tests: int) -> float:
    """``z*``: the score a window needs when ``tests`` windows share a false-alarm budget
    ``alpha`` (two-sided, Bonferroni).

    Examples
    --------
    >>> round(threshold(0.05, 1), 2), round(threshold(0.05, 100_000), 2)
    (1.96, 5.03)
    """
    return float(stats.norm.isf(alpha / (2.0 * max(tests, 1))))


@dataclass(frozen=True)
class Limits:
    """What a window must pass to be a change: ``|score| >= z_star``, a move of at least
    ``min_size`` of the baseline, and ``min_count`` behind it (:func:`supported`)."""

    z_star: float
    min_size: float
    min_count: float


@dataclass(frozen=True)
class Found:
    """The windows that passed, one entry each: ``series`` (row of the stacked series),
    ``start``, ``end`` (period positions, inclusive), ``score`` (signed), ``strength`` (the
    root of the likelihood ratio over the root of the series' dispersion: where, among
    overlapping windows that all pass, the change lies), ``observed``, ``expected`` and
    ``base`` (the window's totals); and ``best``, every series' highest
    absolute score (0 where nothing could be tested)."""

    series: np.ndarray
    start: np.ndarray
    end: np.ndarray
    score: np.ndarray
    strength: np.ndarray
    observed: np.ndarray
    expected: np.ndarray
    base: np.ndarray
    best: np.ndarray


def scan(
    count: np.ndarray,
    base: np.ndarray,
    used: np.ndarray,
    x: np.ndarray,
    fit: Baseline,
    family: str,
    period: str,
    ranges: np.ndarray,
    limits: Limits,
    *,
    recent_from: np.ndarray | None = None,
) -> Found:
    """Score every window of every series (rows of ``count``, one family, daily or weekly
    ``period``) and keep those within ``limits``.

    ``ranges`` holds each series' first and last used period (``S x 2``; a series with
    ``lo > hi`` is skipped); used periods are consecutive. Windows starting at or after a
    series' ``recent_from`` are left to :func:`journey_lib.monitor.recent.scan_recent`.
    """
    y = np.where(used, count, 0.0)
    n = np.where(used, base, 0.0)
    keep: list[tuple[np.ndarray, ...]] = []
    best = np.zeros(len(y))
    info = fit.information + 1e-9 * (1.0 + np.einsum("spp->s", fit.information))[
        :, None, None
    ] * np.eye(x.shape[1])
    # a' (X'VX)^-1 a is |G a|^2 with G the inverse of the Cholesky factor of X'VX.
    whiten = np.linalg.inv(np.linalg.cholesky(info))
    for lo, hi in np.unique(ranges, axis=0):
        if lo > hi:
            continue
        rows = np.flatnonzero((ranges[:, 0] == lo) & (ranges[:, 1] == hi))
        s, e = windows(int(lo), int(hi), period)
        if not len(s):
            continue
        size = max(1, _CHUNK // (len(s) * x.shape[1]))
        for chunk in np.array_split(rows, max(1, -(-len(rows) // size))):
            found = _score(y[chunk], n[chunk], fit, chunk, x, whiten[chunk], family, s, e)
            z, tested, observed, expected, total, phi = found
            strength = np.abs(likelihood_root(family, observed, expected, total)) / np.sqrt(phi)
            absolute = np.abs(z)
            with np.errstate(divide="ignore", invalid="ignore"):
                moved = np.abs(observed / expected - 1.0) >= limits.min_size
            if recent_from is not None:
                later = s[None, :] >= recent_from[chunk][:, None]
                tested &= ~later
            best[chunk] = np.where(tested, absolute, 0.0).max(axis=1)
            hit = np.nonzero(
                tested
                & (absolute >= limits.z_star)
                & moved
                & supported(family, observed, expected, total, limits.min_count)
            )
            keep.append(
                (
                    chunk[hit[0]],
                    s[hit[1]],
                    e[hit[1]],
                    z[hit],
                    strength[hit],
                    observed[hit],
                    expected[hit],
                    total[hit],
                )
            )
    if keep:
        parts = [np.concatenate(column) for column in zip(*keep, strict=True)]
    else:
        parts = [np.empty(0, "int64")] * 3 + [np.empty(0)] * 5
    return Found(*parts, best=best)


def _score(
    y: np.ndarray,
    n: np.ndarray,
    fit: Baseline,
    rows: np.ndarray,
    x: np.ndarray,
    whiten: np.ndarray,
    family: str,
    s: np.ndarray,
    e: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """Signed scores, whether each window was tested, window totals (observed, expected,
    base) and the dispersion at the window's length for every series of ``rows`` and
    window ``(s, e)``: ``len(rows) x len(s)`` arrays."""

    def window_sums(values: np.ndarray) -> np.ndarray:
        running = np.concatenate([np.zeros_like(values[:, :1]), np.cumsum(values, axis=1)], axis=1)
        return running[:, e + 1] - running[:, s]

    mean, variance = fit.mean[rows], fit.variance[rows]
    observed, expected, raw = window_sums(y), window_sums(mean), window_sums(variance)
    total = window_sums(n)
    # Cumulative V x_t, whitened: rows of (T + 1) x p per series.
    running = np.concatenate(
        [np.zeros((len(rows), 1, x.shape[1])), np.cumsum(variance[:, :, None] * x[None], axis=1)],
        axis=1,
    )
    running = running @ whiten.transpose(0, 2, 1)
    absorbed = np.sum((running[:, e + 1] - running[:, s]) ** 2, axis=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        left = np.where(raw > 0, (raw - absorbed) / raw, 0.0)
    tested = (left >= _LEAST_LEFT) & (expected > 0)
    phi = np.broadcast_to(fit.dispersion(e - s + 1, rows), observed.shape)
    z = tail_score(family, observed, np.where(tested, expected, 1.0), total, phi)
    return np.where(tested, z, 0.0), tested, observed, expected, total, phi


def supported(
    family: str, observed: np.ndarray, expected: np.ndarray, total: np.ndarray, least: float
) -> np.ndarray:
    """Whether a window rests on enough to report: for counts ``least`` events (observed or
    expected), for rates and money ``least`` customers. A rare event going from nothing to
    two is a real surprise to a model and no news to a reader.

    Examples
    --------
    >>> import numpy as np
    >>> supported("count", np.array([2.0, 12.0]), np.array([0.1, 3.0]), None, 10).tolist()
    [False, True]
    """
    if family == "count":
        return np.maximum(observed, expected) >= least
    return total >= least


def likelihood_root(
    family: str, observed: np.ndarray, expected: np.ndarray, total: np.ndarray
) -> np.ndarray:
    """The signed root of the likelihood ratio of a window's own level against the
    baseline's (Poisson for counts and money, binomial for rates), before dispersion.

    Examples
    --------
    >>> import numpy as np
    >>> round(float(likelihood_root("count", np.array([20.0]), np.array([5.0]), None)[0]), 3)
    5.045
    """
    y, m, n = observed, expected, total
    with np.errstate(all="ignore"):
        if family == "rate":
            ratio = special.xlogy(y, y / m) + special.xlogy(n - y, (n - y) / (n - m))
        else:
            ratio = special.xlogy(y, y / m) - (y - m)
        return np.sign(y - m) * np.sqrt(np.maximum(2.0 * ratio, 0.0))


def tail_score(
    family: str, observed: np.ndarray, expected: np.ndarray, total: np.ndarray, phi: np.ndarray
) -> np.ndarray:
    """The signed normal score of window totals ``observed`` under the baseline's law (see
    the module docstring): ``expected`` totals, ``total`` customers (rates) and dispersion
    ``phi``, all arrays of one shape.

    Examples
    --------
    Twenty events where five were expected: a Poisson tail of 3.5e-7; with dispersion 2 the
    negative binomial's longer tail makes it 7.7e-4.

    >>> import numpy as np
    >>> one = np.ones(1)
    >>> float(tail_score("count", 20 * one, 5 * one, one, one)[0]).__round__(2)
    4.96
    >>> float(tail_score("count", 20 * one, 5 * one, one, 2 * one)[0]).__round__(2)
    3.17
    """
    arrays = np.broadcast_arrays(observed, expected, observed if total is None else total, phi)
    shape = arrays[0].shape
    y, m, n, phi = (np.ravel(np.asarray(a, dtype="float64")) for a in arrays)
    direction = np.sign(y - m)
    tail = np.full(y.shape, 0.5)
    # Only the tail on the window's side is computed: the two tails add up to one or more,
    # so the other is the smaller only where this one is half or more (near the mean).
    for side, upper in ((direction > 0, True), (direction < 0, False)):
        if side.any():
            tail[side] = _tail(family, y[side], m[side], n[side], phi[side], upper=upper)
        near = side & (tail >= 0.5)
        if near.any():
            other = _tail(family, y[near], m[near], n[near], phi[near], upper=not upper)
            tail[near] = np.minimum(tail[near], other)
    tail = np.clip(np.nan_to_num(tail, nan=0.5), 0.0, 0.5)
    z = direction * stats.norm.isf(tail)
    # Past floating point (a tail below 1e-300), rank by the likelihood ratio instead.
    far = tail < 1e-300
    if far.any():
        root = np.abs(likelihood_root(family, y[far], m[far], n[far])) / np.sqrt(phi[far])
        z[far] = direction[far] * np.maximum(root, _FLOOR_Z)
    return np.where(np.isfinite(z), z, 0.0).reshape(shape)


def _tail(
    family: str, y: np.ndarray, m: np.ndarray, n: np.ndarray, phi: np.ndarray, *, upper: bool
) -> np.ndarray:
    """One tail probability of each window total under its law (see :func:`tail_score`):
    ``P(Y >= y)`` when ``upper``, else ``P(Y <= y)``."""
    out = np.ones(len(y))
    with np.errstate(all="ignore"):
        if family == "count":
            wanders = phi > 1.0 + 1e-9
            w, p = wanders, ~wanders
            k = m[w] / (phi[w] - 1.0)  # negative binomial size
            q = k / (k + m[w])
            if upper:
                out[w] = special.betainc(y[w], k, 1 - q)
                out[p] = special.gammainc(y[p], m[p])
                out[y <= 0] = 1.0
            else:
                out[w] = special.betainc(k, y[w] + 1, q)
                out[p] = special.gammaincc(y[p] + 1, m[p])
        elif family == "rate":
            yy, nn, p0 = y / phi, n / phi, np.clip(m / n, 1e-12, 1 - 1e-12)
            if upper:
                out = np.where(yy <= 0, 1.0, special.betainc(yy, nn - yy + 1, p0))
            else:
                out = np.where(yy >= nn, 1.0, special.betainc(nn - yy, yy + 1, 1 - p0))
        else:  # money: Y / phi is Poisson with mean M / phi (compound Poisson)
            k, mu = y / phi, m / phi
            if upper:
                out = np.where(k <= 0, 1.0, special.gammainc(k, mu))
            else:
                out = special.gammaincc(k + 1, mu)
    return out
