"""Journey stage frameworks and :func:`assign_stages`.

A stage framework names the stages of a journey in order and says which touchpoints belong
to each. Three are built in:

``customer_journey``
    The customer's side: Awareness -> Investigation & Consideration -> Purchase ->
    Retention -> Advocacy & Loyalty.
``business``
    The business mirror of the same five steps: Reach -> Acquire -> Develop & Nurture ->
    Retention & Service -> Advocacy & Loyalty.
``decision_journey``
    The six-step decision journey: Identification of need -> Discovery -> Evaluation ->
    Trial or purchase -> Confirmation & reassurance -> Assignment of loyalty.

Each maps the simulator's touchpoints and a few widely used generic names. A customer's
second and later purchases belong to the retention (or loyalty) stage, not to the purchase
stage: buying again is what retention looks like.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import narwhals.stable.v2 as nw
from narwhals.typing import IntoFrameT

from ..errors import JourneyDataError, JourneyDataWarning, JourneyParameterError
from ..io.profile import LogProfile
from ..io.rules import KINDS, VOCABULARY, stage_mapping

__all__ = [
    "FRAMEWORKS",
    "KIND_STAGES",
    "StageFramework",
    "assign_stages",
    "get_framework",
    "profile_framework",
    "resolve_framework",
    "segment_frameworks",
]


@dataclass(frozen=True)
class StageFramework:
    """An ordered set of journey stages and the events that belong to each.

    Parameters
    ----------
    name : str
        Short name, used in reports.
    stages : tuple of str
        Stage names, in journey order.
    events : mapping of str to str
        Event name -> stage. An event belongs to one stage.
    repeat : mapping of str to str, optional
        Event name -> stage for a customer's second and later occurrences of that event
        (all occurrences at the customer's earliest time for it count as the first).

    Examples
    --------
    >>> fw = StageFramework.from_mapping({"Aware": ["ad_view"], "Buy": ["purchase"]})
    >>> fw.stages
    ('Aware', 'Buy')
    >>> fw.events["purchase"]
    'Buy'
    """

    name: str
    stages: tuple[str, ...]
    events: Mapping[str, str]
    repeat: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(set(self.stages)) != len(self.stages):
            raise JourneyParameterError(f"stage names repeat in {list(self.stages)}")
        stray = sorted(
            {s for s in (*self.events.values(), *self.repeat.values())} - set(self.stages)
        )
        if stray:
            raise JourneyParameterError(
                f"events are mapped to {stray}, which are not among the stages {list(self.stages)}"
            )

    def to_dict(self) -> dict[str, Any]:
        """Plain values that :func:`get_framework` reads back: ``name``, ``stages`` as
        ``{stage: [events]}`` and ``repeat``.

        Examples
        --------
        >>> fw = StageFramework.from_mapping({"Aware": ["ad"], "Buy": ["buy"]},
        ...                                  repeat={"buy": "Aware"})
        >>> get_framework(fw.to_dict()) == fw
        True
        """
        stages = {s: [e for e, t in self.events.items() if t == s] for s in self.stages}
        return {"name": self.name, "stages": stages, "repeat": dict(self.repeat)}

    @classmethod
    def from_mapping(
        cls,
        mapping: Mapping[str, Iterable[str]] | Mapping[str, str],
        *,
        name: str = "custom",
        repeat: Mapping[str, str] | None = None,
    ) -> StageFramework:
        """Build a framework from ``{stage: [events, ...]}`` (stage order is the mapping's
        order) or from ``{event: stage}`` (stage order is first appearance).

        Raises
        ------
        JourneyParameterError
            When an event is listed under two stages.
        """
        if not mapping:
            raise JourneyParameterError("a stage mapping needs at least one stage")
        events, stages = stage_mapping(mapping)
        return cls(name, stages, events, dict(repeat or {}))


#: Each built-in framework's stages, then its stage for each kind of event (see
#: :data:`journey_lib.io.rules.KINDS`: awareness, discovery, evaluation, conversion,
#: retention, advocacy) and the stage of repeat conversions.
_STAGES: dict[str, tuple[str, ...]] = {
    "customer_journey": (
        "Awareness",
        "Investigation & Consideration",
        "Purchase",
        "Retention",
        "Advocacy & Loyalty",
    ),
    "business": (
        "Reach",
        "Acquire",
        "Develop & Nurture",
        "Retention & Service",
        "Advocacy & Loyalty",
    ),
    "decision_journey": (
        "Identification of need",
        "Discovery",
        "Evaluation",
        "Trial or purchase",
        "Confirmation & reassurance",
        "Assignment of loyalty",
    ),
}
#: Framework -> (kind -> stage, stage of repeat conversions): how a log profile's kinds of
#: event become stages, and what the built-in frameworks are made of.
KIND_STAGES: dict[str, tuple[dict[str, str], str]] = {
    name: (dict(zip(KINDS, (s[0], s[1], s[1], s[2], s[3], s[4]), strict=True)), s[3])
    for name, s in _STAGES.items()
    if len(s) == 5
}
KIND_STAGES["decision_journey"] = (
    dict(zip(KINDS, _STAGES["decision_journey"], strict=True)),
    "Assignment of loyalty",
)
# A trial is where the decision journey's trial-or-purchase stage begins; the five-step
# journeys count it as consideration, as its kind says.
_EXCEPTIONS = {"decision_journey": {"trial_start": "Trial or purchase"}}


def _built_in(name: str) -> StageFramework:
    stage_of, repeat_stage = KIND_STAGES[name]
    events = {e: stage_of[kind] for kind, names in VOCABULARY.items() for e in names}
    events.update(_EXCEPTIONS.get(name, {}))
    repeat = dict.fromkeys(VOCABULARY["conversion"], repeat_stage)
    return StageFramework(name, _STAGES[name], events, repeat)


#: The built-in frameworks by name, made from :data:`journey_lib.io.rules.VOCABULARY`.
FRAMEWORKS: dict[str, StageFramework] = {name: _built_in(name) for name in _STAGES}


def profile_framework(profile: LogProfile, framework: str | None = None) -> StageFramework:
    """The stages of a log as its profile places its events: each event's kind gives its
    stage in ``framework`` (the profile's own by default), the profile's ``stages`` override
    that (in another framework, a hand-placed event goes where the first kind of its stage
    goes), and repeat conversions move to the framework's retention (or loyalty) stage.
    Events without a kind and not placed by hand get no stage.

    Examples
    --------
    >>> from journey_lib.io.profile import LogProfile
    >>> p = LogProfile(conversion="payment_done", stages={"catalog": "Awareness"},
    ...                kinds={"catalog": "evaluation", "payment_done": "conversion"})
    >>> fw = profile_framework(p)
    >>> dict(fw.events), dict(fw.repeat)
    ({'catalog': 'Awareness', 'payment_done': 'Purchase'}, {'payment_done': 'Retention'})
    >>> fw = profile_framework(p, "business")
    >>> fw.events["catalog"], fw.events["payment_done"]
    ('Reach', 'Develop & Nurture')
    """
    name = framework or profile.framework
    for wanted in (name, profile.framework):
        if wanted not in KIND_STAGES:
            raise JourneyParameterError(
                f"unknown stage framework {wanted!r}; built in: {sorted(KIND_STAGES)}"
            )
    own = FRAMEWORKS[profile.framework].stages
    stray = sorted({s for s in profile.stages.values() if s not in own})
    if stray:
        raise JourneyParameterError(
            f"the profile places events in {stray}, which are not stages of "
            f"{profile.framework!r}: {list(own)}"
        )
    stage_of, repeat_stage = KIND_STAGES[name]
    events = {e: stage_of[k] for e, k in profile.kinds.items()}
    # Hand-placed events are in the profile's framework's stages; in another framework
    # they go where the first kind of that stage goes.
    kind_of_stage = {}
    for kind, stage in KIND_STAGES[profile.framework][0].items():
        kind_of_stage.setdefault(stage, kind)
    events.update({e: stage_of[kind_of_stage[s]] for e, s in profile.stages.items()})
    repeat = {profile.conversion: repeat_stage} if profile.conversion in events else {}
    return StageFramework(name, FRAMEWORKS[name].stages, events, repeat)


def resolve_framework(
    framework: str | Mapping[str, Any] | StageFramework | LogProfile | None,
    profile: LogProfile | None = None,
) -> StageFramework:
    """The framework a function uses: ``framework`` when given (with a profile, a built-in
    name means that framework's stages for the profile's events: :func:`profile_framework`),
    else the profile's stages, else ``"customer_journey"``.

    Examples
    --------
    >>> resolve_framework(None).name, resolve_framework("business").name
    ('customer_journey', 'business')
    """
    if isinstance(framework, str) and profile is not None and framework in KIND_STAGES:
        return profile_framework(profile, framework)
    if framework is not None:
        return get_framework(framework)
    if profile is not None:
        return get_framework(profile)
    return FRAMEWORKS["customer_journey"]


def get_framework(
    framework: str | Mapping[str, Any] | StageFramework | LogProfile,
) -> StageFramework:
    """Resolve a framework given by name, as a mapping, as a :class:`StageFramework`, or as
    a log profile (:func:`profile_framework`).

    Examples
    --------
    >>> get_framework("business").stages[0]
    'Reach'
    """
    if isinstance(framework, StageFramework):
        return framework
    if isinstance(framework, LogProfile):
        return profile_framework(framework)
    if isinstance(framework, str):
        try:
            return FRAMEWORKS[framework]
        except KeyError:
            raise JourneyParameterError(
                f"unknown stage framework {framework!r}; built in: {sorted(FRAMEWORKS)}, "
                f"or pass a mapping {{stage: [events]}}"
            ) from None
    if isinstance(framework, Mapping):
        if _is_to_dict(framework):
            return StageFramework.from_mapping(
                framework["stages"], name=framework["name"], repeat=framework["repeat"]
            )
        if segment_frameworks(framework) is not None:
            raise JourneyParameterError(
                f"framework maps {sorted(map(str, framework))[:3]} to frameworks: a framework "
                "per segment, which only journey_lib.stage_funnel reads, with by= naming the "
                "segment column"
            )
        return StageFramework.from_mapping(framework)
    raise JourneyParameterError(
        f"framework must be a name, a mapping or a StageFramework, not {type(framework).__name__}"
    )


def segment_frameworks(
    framework: Any, profile: LogProfile | None = None
) -> dict[str, StageFramework] | None:
    """The frameworks of a **framework per segment**, resolved, or None when ``framework``
    is one framework.

    A framework per segment is a mapping from segment values (text, as
    :func:`journey_lib.customer_segments` writes them) to frameworks, every value a
    framework: a built-in name (with a profile, that framework's stages for the profile's
    events), a :class:`StageFramework` or a mapping ``{stage: [events]}``. A mapping of
    events to stages has text values that are stage names, so the two cannot be confused;
    a mapping mixing frameworks with other values is refused. For one framework whose
    stages are named like the built-in frameworks, give it as a :class:`StageFramework`.

    Raises
    ------
    JourneyParameterError
        For a mapping mixing frameworks with other values, a key that is not text, or a
        value that is not a framework.

    Examples
    --------
    >>> fws = segment_frameworks({"b2b": "business", "consumer": {"Look": ["ad_view"]}})
    >>> fws["b2b"].name, fws["consumer"].stages
    ('business', ('Look',))
    >>> segment_frameworks({"ad_view": "Awareness", "purchase": "Purchase"}) is None
    True
    """
    if not isinstance(framework, Mapping) or not framework or _is_to_dict(framework):
        return None
    values = list(framework.values())
    objects = [isinstance(v, (StageFramework, Mapping)) for v in values]
    names = [isinstance(v, str) and v in FRAMEWORKS for v in values]
    frameworks = [o or n for o, n in zip(objects, names, strict=True)]
    if not any(frameworks):
        return None
    if not all(frameworks):
        odd = next(v for v, f in zip(values, frameworks, strict=True) if not f)
        raise JourneyParameterError(
            f"framework mixes frameworks with other values (such as {odd!r}): a framework per "
            f"segment maps each segment to a built-in name {sorted(FRAMEWORKS)}, a "
            "StageFramework or a {stage: [events]} mapping; for one framework with stages "
            "named like the built-in ones, pass StageFramework.from_mapping(...)"
        )
    keys = [k for k in framework if not isinstance(k, str)]
    if keys:
        raise JourneyParameterError(
            f"a framework per segment is keyed by segment values as text; got {keys[0]!r} "
            f"(write {str(keys[0])!r})"
        )
    return {segment: resolve_framework(fw, profile) for segment, fw in framework.items()}


def _is_to_dict(framework: Mapping[str, Any]) -> bool:
    """Whether a mapping is :meth:`StageFramework.to_dict`'s."""
    return set(framework) == {"name", "stages", "repeat"} and isinstance(
        framework["stages"], Mapping
    )


#: Each customer's first time per repeated event, for a lazy log's stages.
_FIRST = "_jl_first_time"


def assign_stages(
    events: IntoFrameT,
    framework: str | Mapping[str, Any] | StageFramework | LogProfile | None = None,
    *,
    profile: LogProfile | None = None,
    unmapped: Literal["warn", "raise", "ignore"] = "warn",
) -> IntoFrameT:
    """Add a ``stage`` column naming each touchpoint's journey stage.

    Parameters
    ----------
    events : DataFrame
        A touchpoint log (``customer_id``, ``timestamp``, ``event``) of any engine: pandas,
        Polars, DuckDB, PySpark. The result is the same kind; lazy stays lazy.
    framework : str, mapping, StageFramework or LogProfile, optional
        ``"customer_journey"``, ``"business"``, ``"decision_journey"``, a mapping
        ``{stage: [events]}`` / ``{event: stage}``, a :class:`StageFramework`, or a log
        profile. Default: the profile's stages, else ``"customer_journey"``.
    profile : LogProfile, optional
        A log profile (:func:`journey_lib.profile`): its events' stages in ``framework``
        (a built-in name) or in its own framework (:func:`profile_framework`).
    unmapped : {"warn", "raise", "ignore"}, default "warn"
        What to do about events the framework does not map. Their ``stage`` is missing
        either way: a stage is never guessed. ``"warn"`` and ``"raise"`` name the events and
        their counts, which for a lazy frame computes one small aggregation; ``"ignore"``
        computes nothing.

    Returns
    -------
    DataFrame
        ``events`` with a text column ``stage``.

    Raises
    ------
    JourneyDataError
        With ``unmapped="raise"`` when some events are unmapped.

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({
    ...     "customer_id": [1, 1, 1, 1],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03",
    ...                                  "2024-02-01"], utc=True),
    ...     "event": ["ad_view", "purchase", "review", "purchase"]})
    >>> assign_stages(log)["stage"].tolist()
    ['Awareness', 'Purchase', 'Advocacy & Loyalty', 'Retention']
    """
    if unmapped not in ("warn", "raise", "ignore"):
        raise JourneyParameterError(
            f"unmapped must be 'warn', 'raise' or 'ignore', got {unmapped!r}"
        )
    fw = resolve_framework(framework, profile)
    frame = nw.from_native(events)
    missing = [c for c in ("customer_id", "timestamp", "event") if c not in frame.columns]
    if missing:
        raise JourneyDataError(
            f"assign_stages needs columns {missing}; the frame has {list(frame.columns)}"
        )
    none = nw.lit(None, dtype=nw.String())
    # Narwhals' pandas replace_strict fails on an empty mapping: a framework that maps no
    # event (a profile that found no roles) places nothing.
    stage = (
        nw.col("event").replace_strict(fw.events, default=none, return_dtype=nw.String())
        if fw.events
        else none
    )
    lazy = isinstance(frame, nw.LazyFrame)
    if fw.repeat:
        repeated = nw.col("event").is_in(list(fw.repeat))
        if lazy:
            # Each customer's first time per repeated event, joined back: a window over the
            # whole log sorts it (on DuckDB within 1.5 GB, 93 s at 100M events against 16 s).
            firsts = (
                frame.filter(repeated)
                .group_by("customer_id", "event")
                .agg(nw.col("timestamp").min().alias(_FIRST))
            )
            frame = frame.join(firsts, on=["customer_id", "event"], how="left")
            first_time = nw.col(_FIRST)
        else:  # in memory, a window keeps the rows and their index as they are
            first_time = nw.col("timestamp").min().over("customer_id", "event")
        again = repeated & (nw.col("timestamp") > first_time)
        later = nw.col("event").replace_strict(fw.repeat, default=none, return_dtype=nw.String())
        stage = nw.when(again).then(later).otherwise(stage)
    result = frame.with_columns(stage.alias("stage"))
    if lazy and fw.repeat:
        result = result.drop(_FIRST)
    if unmapped != "ignore":
        _report_unmapped(result, fw, unmapped)
    return result.to_native()


def _report_unmapped(frame: Any, fw: StageFramework, action: str) -> None:
    counts = (
        frame.filter(nw.col("stage").is_null() & ~nw.col("event").is_null())
        .group_by("event")
        .agg(nw.len().alias("rows"))
        .sort("rows", descending=True)
    )
    if isinstance(counts, nw.LazyFrame):
        counts = counts.collect()
    if len(counts) == 0:
        return
    listed = ", ".join(f"{e!r} ({n:,} rows)" for e, n in counts.head(10).iter_rows())
    more = f" and {len(counts) - 10} more" if len(counts) > 10 else ""
    message = (
        f"{len(counts)} event type(s) have no stage in framework {fw.name!r}: {listed}{more}. "
        f"Their stage is left missing; pass a mapping {{stage: [events]}} to place them"
    )
    if action == "raise":
        raise JourneyDataError(message)
    warnings.warn(message, JourneyDataWarning, stacklevel=3)
