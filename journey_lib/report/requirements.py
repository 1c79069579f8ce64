"""What each section of a report needs of its data: :data:`REQUIREMENTS`, each a title and
checks in order, which :meth:`journey_lib.report.ReportData.supports` asks; the first check
failing gives the one sentence the reader sees. Checks read the log's facts, asked of its
engine once (:attr:`journey_lib.report.ReportData.facts`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import narwhals.stable.v2 as nw
import pandas as pd

from .._engine import lazy_events, with_microseconds
from .._time import DAY_US
from ..analytics.stages import profile_framework
from ..io.event_roles import PERIODS
from ..widgets.base import is_time

if TYPE_CHECKING:
    from .data import ReportData

__all__ = ["MIN_CLASS", "MIN_REPEAT_BUYERS", "REQUIREMENTS", "tenure_column"]

#: Fewest customers on each side of a churn label for a model to be worth training.
MIN_CLASS = 10
#: Fewest repeat buyers for the buy-till-you-die models.
MIN_REPEAT_BUYERS = 10


def _days(days: float) -> str:
    """A span in plain words: minutes, hours or days."""
    if days < 1 / 24:
        minutes = round(days * 1440)
        return f"{minutes} minute{'s' * (minutes != 1)}"
    if days < 2:
        hours = round(days * 24)
        return f"{hours} hour{'s' * (hours != 1)}"
    return f"{days:,.0f} days"


def _is_log(data: ReportData, given: dict) -> str | None:
    if data.events is None:
        return "it is a customer table, one row per customer, with no touchpoints over time"
    if data.read.usable == 0:
        return "no row of it could be used"
    if data.facts["rows"] == 0:
        return "no touchpoint lies in the chosen dates"
    return None


def _is_table(data: ReportData, given: dict) -> str | None:
    return None if data.table is not None else "it is a log, not a customer table"


def _has_stages(data: ReportData, given: dict) -> str | None:
    framework = profile_framework(data.profile)
    if data.facts["events"].index.isin(list(framework.events)).any():
        return None
    return "no event of this log belongs to a journey stage by the profile's rules"


def _has_funnel(data: ReportData, given: dict) -> str | None:
    steps = data.steps(given.get("steps"))
    if len(steps) < 2:
        return "no conversion event was found, so there is no default funnel (give --conversion)"
    names = [s[0] if isinstance(s, list | tuple) else s for s in steps]
    absent = [s for s in dict.fromkeys(names) if s not in data.facts["events"].index]
    if absent:
        return f"the funnel's step {absent[0]!r} never happens in the chosen dates"
    return None


def _several_periods(data: ReportData, given: dict) -> str | None:
    period = given.get("period") or data.profile.period
    span = (data.facts["last"] - data.facts["first"]) / pd.Timedelta(days=1)
    if span < 2 * PERIODS.get(period, 1.0):
        return f"the log spans {_days(span)}, less than two {period}s"
    return None


def _has_channel(data: ReportData, given: dict) -> str | None:
    if data.profile.column("channel") is None:
        return "the log has no channel column"
    if not data.facts["filled"].get("channel"):
        return "its channel column is empty"
    return None


def _has_conversion(data: ReportData, given: dict) -> str | None:
    conversion = given.get("conversion") or data.profile.conversion
    if conversion is None:
        return "no event was found to be a conversion (give --conversion)"
    if conversion not in data.facts["events"].index:
        return f"no {conversion!r} event lies in the chosen dates"
    return None


def _has_value(data: ReportData, given: dict) -> str | None:
    if data.profile.column("value") is None and data.profile.shape != "transactions":
        return "the log has no money column"
    if not data.facts["spend"]:
        return "every money value is zero"
    return None


def _repeat_buyers(data: ReportData, given: dict) -> str | None:
    conversion = given.get("conversion") or data.profile.conversion
    lf, _ = lazy_events(data.events)
    bought = with_microseconds(lf.filter(nw.col("event") == conversion), "_us")
    days = bought.select("customer_id", (nw.col("_us") // DAY_US).alias("_day")).unique()
    per = days.group_by("customer_id").agg(nw.len().alias("_days"))
    repeat = int(per.filter(nw.col("_days") > 1).select(nw.len()).collect().item())
    if repeat < MIN_REPEAT_BUYERS:
        return (
            f"the purchase models need at least {MIN_REPEAT_BUYERS} customers who bought on "
            f"more than one day, and {repeat} did"
        )
    return None


def _churn_window(data: ReportData, given: dict) -> str | None:
    p = data.profile
    if not (given.get("cutoff") or p.cutoff):
        return "no cutoff was given and the profile has none"
    cutoff = pd.Timestamp(given.get("cutoff") or p.cutoff, tz="UTC")
    horizon = pd.Timedelta(given.get("horizon") or p.horizon)
    first, last = data.facts["first"], data.facts["last"]
    if cutoff <= first + horizon:
        return (
            f"the cutoff {cutoff:%Y-%m-%d} leaves less than one horizon "
            f"({_days(horizon / pd.Timedelta(days=1))}) of history after the log's start "
            f"({first:%Y-%m-%d})"
        )
    if cutoff + horizon > last:
        return (
            f"the log ends {last:%Y-%m-%d}, before the cutoff {cutoff:%Y-%m-%d} plus the "
            f"horizon ({_days(horizon / pd.Timedelta(days=1))}), so no churn label is known yet"
        )
    return None


def _two_classes(data: ReportData, given: dict) -> str | None:
    y = given.get("y")
    if y is None:
        return None
    churned = int(pd.Series(y).astype(bool).sum())
    kept = len(y) - churned
    if min(churned, kept) < MIN_CLASS:
        return (
            f"a model needs at least {MIN_CLASS} customers who churned and {MIN_CLASS} who "
            f"stayed; here {churned:,} churned and {kept:,} stayed"
        )
    return None


def _has_offer_value(data: ReportData, given: dict) -> str | None:
    if given.get("value") not in (None, ""):
        return None
    X = given.get("X")
    if X is not None and "value_total" in X.columns:
        return None
    return (
        "there is no value per customer to weigh an offer against (give -p value=COLUMN, a "
        "column of the data, or value=AMOUNT)"
    )


def _has_label(data: ReportData, given: dict) -> str | None:
    if data.profile.column("churn") is None:
        return "the table has no churn column"
    return None


#: Column names that mark a customer table's tenure (how long each has been a customer).
_TENURE = re.compile(r"tenure|account.?length|months?.?(as|with).?(a.?)?customer", re.IGNORECASE)


def tenure_column(table: pd.DataFrame) -> str | None:
    """A customer table's tenure: the first column of numbers whose name says so
    (``tenure``, ``Account length``, ``months_as_customer``...), or None.

    Examples
    --------
    >>> tenure_column(pd.DataFrame({"plan": ["a"], "Tenure": [3], "tenure_text": ["3"]}))
    'Tenure'
    """
    for column in table.columns:
        if _TENURE.search(str(column)) and pd.api.types.is_numeric_dtype(table[column]):
            if not pd.api.types.is_bool_dtype(table[column]):
                return str(column)
    return None


def _has_lifetimes(data: ReportData, given: dict) -> str | None:
    if data.table is None:
        return _is_log(data, given)
    if "churned" not in data.table.columns:
        return "the table has no churn column"
    if tenure_column(data.table) is None:
        return (
            "the table has no tenure column (how long each customer has been one, such as "
            "'tenure' or 'account length'), which time to churn needs"
        )
    return None


def _several_events(data: ReportData, given: dict) -> str | None:
    if len(data.facts["events"]) < 2:
        return "the log has one event type only"
    return None


def _has_segments(data: ReportData, given: dict) -> str | None:
    by = given.get("by")
    columns = ([by] if isinstance(by, str) else list(by)) if by else data.segment_columns(limit=1)
    if not columns:
        return (
            "no column of the log or of a customer table divides the customers into segments "
            "(a channel, a plan, a region, ...)"
        )
    filled, schema = data.facts["filled"], data.facts["schema"]
    absent = [c for c in columns if not data._in_table(c) and not filled.get(c)]
    if absent:
        return (
            f"the segment column {absent[0]!r} is in neither the log nor the customer table, "
            "or holds no value"
        )
    # The rule segment_columns applies: a date or time gives nearly every customer a segment.
    timed = [c for c in columns if is_time(data.customers[c] if data._in_table(c) else schema[c])]
    if timed:
        return (
            f"the segment column {timed[0]!r} holds dates or times, which give nearly every "
            "customer a segment of their own (derive a period first, such as a month)"
        )
    return None


Check = Callable[["ReportData", dict], str | None]

#: Requirement -> (section title, checks in order). A section applies when every check
#: passes; the first failing check's reason is what the reader sees.
REQUIREMENTS: dict[str, tuple[str, tuple[Check, ...]]] = {
    "log": ("This section", (_is_log,)),
    "table": ("This section", (_is_table,)),
    "stages": ("The journey by stage", (_is_log, _has_stages)),
    "paths": ("Paths between touchpoints", (_is_log, _several_events)),
    "channels": ("The channel breakdown", (_is_log, _has_channel)),
    "funnel": ("The funnel", (_is_log, _has_funnel)),
    "trend": ("The trend over time", (_is_log, _has_funnel, _several_periods)),
    "retention": ("Retention over time", (_is_log, _several_periods)),
    "conversion": ("This section", (_is_log, _has_conversion)),
    "attribution": ("Attribution", (_is_log, _has_conversion, _has_channel)),
    "value": ("Customer value", (_is_log, _has_conversion, _has_value, _repeat_buyers)),
    "purchases": ("The purchase model", (_is_log, _has_conversion, _repeat_buyers)),
    "loyalty": ("Loyalty and advocacy", (_is_log, _has_conversion, _several_periods)),
    "churn_window": ("A churn model on this log", (_is_log, _churn_window)),
    "churn_table": ("A churn model on this table", (_is_table, _has_label)),
    "churn_labels": ("The churn model", (_two_classes,)),
    "targeting": ("Planning retention offers", (_has_offer_value,)),
    "segments": ("Comparing segments", (_is_log, _has_segments)),
    "changes": ("What changed", (_is_log,)),
    "conversion_drivers": ("What goes with conversion", (_is_log, _has_conversion)),
    "churn_drivers": ("What goes with churn", (_is_log, _churn_window)),
    "survival": ("Time to churn", (_has_lifetimes,)),
    # The campaign notebook always has a campaign (a simulated one without data); only
    # reading it can fail, which ReportData.attempt records.
    "campaign": ("The campaign", ()),
}
