"""Touchpoint attribution: which channels get credit for conversions, under the usual
rule-based models and a Markov-chain model solved exactly.

:func:`attribute` credits one model, :func:`compare` puts every model side by side and
:func:`attribute_stages` credits moving customers into each journey stage. The paths are
built once with Narwhals, so pandas, Polars (eager or lazy), DuckDB and PySpark logs all
work; only small aggregates (credit per customer and channel, or transition counts) are
collected, and results are pandas tables (one row per channel).

Definitions
-----------
**Touchpoints and conversions.** A *conversion* is a row whose ``event`` is the
``conversion`` event (``"purchase"``); its value is its ``value`` (0 when the column or the
value is missing). A *touchpoint* (touch) is any other row with a value in the ``by`` column
(``channel``); rows without one are skipped. Conversion rows are never touches, so an
earlier purchase does not count toward a later one.

**Paths.** The path of a conversion at time ``t`` is the customer's touches at times
``u`` with ``previous < u <= t`` and ``t - u <= lookback`` (default 30 days, inclusive;
None: unlimited), where ``previous`` is the time of the customer's latest conversion
before ``t``. So a touch counts toward the first conversion at or after it, and only that
one: a touch is never credited twice. A touch at exactly the conversion's time counts
(a page view logged in the same second as the purchase belongs to it); a touch at the
same time as an earlier conversion belongs to that earlier one. Several conversions at
one instant share one path, each credited in full. Touches are ordered by time, ties by
their ``by`` value as text, as in :func:`journey_lib.paths`.

**Conversions without a touch** are not dropped: every model credits them in full to the
row ``(none)`` (count and value), which appears whenever there is such a conversion. So
in every model the ``conversions`` credit sums to the number of conversions and the
``value`` credit to their total value, and credit is never NaN. Every model lists the same
rows: each ``by`` value met on any path, converting or not (see Markov below), with 0 where
it earned nothing.

**Rule-based models.** Each converting path of ``n`` touches splits its conversions (and
their value) over its touches, touch ``k = 1..n`` in order receiving:

``first_touch``
    all of it for ``k = 1``;
``last_touch``
    all of it for ``k = n``;
``last_non_direct``
    all of it for the last touch whose ``by`` value is not ``direct`` (default
    ``"direct"``), or the last touch when every touch is direct (Google Analytics);
``linear``
    ``1 / n`` each;
``position_based``
    40% to the first, 40% to the last and 20% shared equally by the others; one touch
    gets 100%, two touches 50% each (as Google Analytics did);
``time_decay``
    ``2 ** (-(t - u) / half_life)`` for a touch at ``u``, normalised over the path
    (default half-life 7 days, as Google Analytics).

**Markov model** (``model="markov"``, ``order`` k, default 1). Every path is read as the
chain ``start -> s_1 -> ... -> s_n -> end`` whose states are the tuples of the last k
touchpoints (``(start)`` padding before the first: for k = 2, ``(start, a), (a, b)``).
Converting paths end in ``(conversion)`` and count as many times as their conversions;
*non-converting paths* end in ``(null)``: a customer's touches after their last conversion
(all their touches if they never converted) that lie within ``lookback`` of the
customer's last touch. Transition probabilities are the maximum-likelihood estimates from
these counts; the probability ``P`` of reaching ``(conversion)`` from the start solves the
absorbing chain's linear system exactly (no simulation). The *removal effect* of a value
``c`` is ``1 - P_c / P``, where ``P_c`` is that probability once every state containing
``c`` leads to ``(null)``. Removal effects lie in [0, 1] (a chain without ``c`` can only
convert along paths that avoid it) and sum to at least 1; each value's credit is its
removal effect divided by their sum, times the conversions that had a touch (and their
value). Conversions without a touch go to ``(none)`` and are left out of the chain. With a
single value in the log its removal effect is 1 and it receives all credit.

**Intervals.** With ``n_boot > 0``, the customers with a path (converting or not) are
resampled with replacement ``n_boot`` times, and ``*_lower`` / ``*_upper`` are the
percentile interval at coverage ``ci``. A replicate reweights per-customer aggregates
(rule-based credit, Markov transition counts) by how often each customer was drawn, which
equals attributing the resampled log; the log is read once.

**Reserved names.** ``(none)``, ``(start)``, ``(conversion)`` and ``(null)`` must not be
values of the ``by`` column.
"""

from .core import MODELS, attribute, compare
from .journeys import NONE
from .stages import attribute_stages

__all__ = ["MODELS", "NONE", "attribute", "attribute_stages", "compare"]
