"""Credit for moving customers into journey stages: :func:`attribute_stages`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import narwhals.stable.v2 as nw
import pandas as pd
from narwhals.typing import IntoFrame

from .._engine import with_microseconds
from ..analytics.stages import StageFramework, assign_stages, resolve_framework
from ..errors import JourneyDataError, JourneyParameterError, check_choice
from ..io.profile import LogProfile
from .core import MODELS, Settings, credit_frame, model_table, present
from .journeys import GOAL, T, base_rows, journey_rows, open_log

__all__ = ["attribute_stages"]

_ENTRY = "_jl_entry"  # the customer's first time in the stage being attributed


def attribute_stages(
    events: IntoFrame,
    framework: str | Mapping[str, Any] | StageFramework | None = None,
    *,
    profile: LogProfile | None = None,
    stages: Sequence[str] | None = None,
    model: str = "markov",
    by: str = "channel",
    lookback: Any = "30D",
    order: int = 1,
    half_life: Any = "7D",
    direct: str = "direct",
    n_boot: int = 0,
    ci: float = 0.95,
    seed: int | None = 0,
    unmapped: Literal["warn", "raise", "ignore"] = "warn",
) -> pd.DataFrame:
    """Credit per channel for bringing customers into each journey stage.

    Events are placed in stages by :func:`journey_lib.assign_stages` (``framework``,
    ``unmapped`` as there). A customer **converts into a stage** the first time they have
    an event in it: at most once per customer and stage, with the value of the stage's
    events at that instant. The path of that conversion is every touch before it, as in
    :mod:`journey_lib.attribution`: rows with a ``by`` value (of any stage, or none) at or
    before that instant and within ``lookback``, other than the stage's own rows at the
    instant. There is no earlier conversion into the same stage to bound it, and a
    customer who reached the stage has no non-converting path toward it (Markov); a
    customer who never reached it has one, their touches within ``lookback`` of their
    last. Each stage is attributed on its own; a stage's first events often have no touch
    before them (the first ad a customer saw *is* their Awareness), so its credit goes to
    ``(none)``. The log is read once per stage, and each stage's paths are reduced to
    their model's table before the next stage's are built.

    Parameters
    ----------
    events : DataFrame
        A touchpoint log of any engine. An existing ``stage`` column is replaced.
    framework : str, mapping or StageFramework, optional
        As in :func:`journey_lib.assign_stages`: the profile's stages, else
        ``"customer_journey"``.
    profile : LogProfile, optional
        A log profile (:func:`journey_lib.profile`), for the stages.
    stages : sequence of str, optional
        The stages to attribute, default all of the framework's.
    model, by, lookback, order, half_life, direct, n_boot, ci, seed
        As for :func:`journey_lib.attribution.attribute`.
    unmapped : {"warn", "raise", "ignore"}, default "warn"
        As in :func:`journey_lib.assign_stages`; unmapped events stay touchpoints.

    Returns
    -------
    pandas.DataFrame
        ``stage`` (in framework order; stages nobody reached are left out), the ``by``
        column, ``conversions`` (customers entering the stage, credited), ``value``,
        ``share`` (within the stage) and, with ``n_boot``, the interval bounds of
        :func:`journey_lib.attribution.attribute`. Each stage's ``conversions`` sum to the
        customers who reached it.

    Raises
    ------
    JourneyParameterError
        For an unknown stage, model or option.
    JourneyDataError
        When a column is missing or nobody reached any of the stages.

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({
    ...     "customer_id": [1, 1, 1, 2, 2],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03",
    ...                                  "2024-01-01", "2024-01-05"], utc=True),
    ...     "event": ["ad_view", "site_visit", "purchase", "ad_view", "site_visit"],
    ...     "channel": ["tv", "web", "web", "social", "web"]})
    >>> attribute_stages(log, model="last_touch", stages=["Purchase"])
          stage channel  conversions  value  share
    0  Purchase     web          1.0    0.0    1.0
    1  Purchase  social          0.0    0.0    0.0
    2  Purchase      tv          0.0    0.0    0.0
    >>> consideration = attribute_stages(log, model="first_touch")
    >>> consideration[consideration["stage"] != "Purchase"]
                               stage channel  conversions  value  share
    0                      Awareness  (none)          2.0    0.0    1.0
    1  Investigation & Consideration  social          1.0    0.0    0.5
    2  Investigation & Consideration      tv          1.0    0.0    0.5
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
    if by == "stage":
        raise JourneyParameterError(
            "by='stage' cannot credit entries into stages; credit a touchpoint column such "
            "as 'channel' or 'event'"
        )
    fw = resolve_framework(framework, profile)
    chosen = list(fw.stages if stages is None else stages)
    unknown = [s for s in chosen if s not in fw.stages]
    if unknown or not chosen:
        raise JourneyParameterError(
            f"stages must be among the framework's {list(fw.stages)}; got {chosen!r}"
        )
    frame = open_log(events, by)
    staged = nw.from_native(assign_stages(frame.to_native(), fw, unmapped=unmapped)).lazy()
    # Times in whole microseconds, as the paths order them (and DuckDB and Spark hold them):
    # rows within one microsecond of the entry are at its instant on every engine.
    staged = with_microseconds(staged, T)
    stage, t = nw.col("stage"), nw.col(T)
    # One stage at a time, each reduced to its model's small table before the next: the
    # paths of all stages at once are the log as many times over, more than an engine's
    # memory holds on a large log. A customer's entry time is joined back from a grouped
    # minimum, which engines spill, rather than taken by a window over the log.
    tables = []
    for name in chosen:
        entries = staged.filter(stage == name).group_by("customer_id").agg(t.min().alias(_ENTRY))
        # Rows after a customer's entry belong to no path into the stage: left out here,
        # before the paths' windows sort them.
        entry = nw.col(_ENTRY)
        log = (
            staged.join(entries, on="customer_id", how="left")
            .filter(entry.is_null() | (t <= entry))
            .with_columns(nw.lit(fw.stages.index(name), dtype=nw.Int64()).alias(GOAL))
        )
        is_entry = (stage == name) & (t == entry)
        rows = journey_rows(base_rows(log, is_entry, by), [GOAL], settings.lookback_us, once=True)
        tables.append(model_table(rows, [GOAL], model, settings))
    credit = credit_frame(pd.concat(tables, ignore_index=True), [GOAL], model, settings)
    if len(credit) == 0:
        raise JourneyDataError(f"no customer reached any of the stages {chosen}")
    table = present(credit, by, goal="stage")
    table["stage"] = table["stage"].map(dict(enumerate(fw.stages))).astype("str")
    return table
