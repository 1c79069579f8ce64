"""Log profiles: what the columns and events of a log mean, inferred once with the evidence.

:func:`profile` reads a log (a file or a frame) and returns a :class:`LogProfile`: which
column is the customer, the time, the event, the channel, the value; what shape the data
has; which event is the conversion, the acquisition, the churn, the advocacy; the kind of
every event (which the stage frameworks turn into stages); a default funnel; and a period,
cutoff, horizon and inactivity span from the log's own dates. Every choice carries its
evidence and how sure it is, and any of them can be given instead (a *hint*), which always
wins. The rules are data in :mod:`journey_lib.io.rules`; the event definitions are in
:mod:`journey_lib.io.event_roles`.

A profile is frozen, prints as a readable summary, round-trips through YAML
(``journey.yaml``: :meth:`LogProfile.to_yaml`, :meth:`LogProfile.from_yaml`), reads the log
it describes into the canonical touchpoint log (:meth:`LogProfile.read`,
:meth:`LogProfile.load`) and is accepted as ``profile=`` by every function that needs to
know a role, so nothing downstream guesses again.

Shapes
------
``events``        a touchpoint log: customer, time, event (and optional columns);
``process``       a process log: the case is the customer, the activity the event;
``transactions``  no event column, a money column: every row a purchase (or a return when
                  negative), as :func:`journey_lib.from_transactions` reads it;
``customers``     one row per customer with a churn label and no event times.
"""

from __future__ import annotations

import os
import shlex
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd
import yaml

from .._engine import to_pandas
from ..errors import JourneyDataError, JourneyParameterError, check_choice
from . import event_roles
from .adapters import from_transactions, validate_customers
from .columns import SAMPLE_ROWS, guess_columns, properties
from .read import add_malformed, read_events, read_table
from .rules import KINDS, stage_mapping
from .validate import CANONICAL_COLUMNS, ValidationReport, validate_events

__all__ = ["FALLBACK_CONVERSION", "SHAPES", "LogProfile", "from_profile", "profile"]

#: The shapes of data a profile recognises.
SHAPES: tuple[str, ...] = ("events", "process", "transactions", "customers")
# Canonical columns a profile renames input columns to when it reads a log.
_LOG_ROLES = (
    "customer_id",
    "timestamp",
    "event",
    "channel",
    "value",
    "session_id",
    "treatment",
)
_HEADER = (
    "# journey-lab log profile: what the columns and events of this log mean.\n"
    "# Edit any entry and pass the file back (journey report --profile journey.yaml);\n"
    "# 'evidence' says why each entry was chosen; 'observed' describes the log profiled.\n"
)


def _frozen(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class LogProfile:
    """What the columns and events of a log mean. Build one with :func:`profile`.

    Attributes
    ----------
    shape : {"events", "process", "transactions", "customers"}
    columns : mapping
        Input column -> role (``customer_id``, ``timestamp``, ``event``, ``channel``,
        ``value``, ``session_id``; for transactions ``invoice``, ``quantity``; for customer
        tables ``churn``, ``signup``; for either, ``treatment``: a randomised campaign's flag,
        offered or held out, on the campaign's rows of a log or on a table's customers).
    properties : tuple of str
        Segment-like input columns (a few repeated values), kept for breakdowns.
    conversion, acquisition, churn_event : str or None
        The events with these roles (see :mod:`journey_lib.io.event_roles`).
    advocacy : tuple of str
        Events that are advocacy (reviews, referrals, shares).
    kinds : mapping
        Event -> kind, one of :data:`journey_lib.io.rules.KINDS`; the stage frameworks map
        kinds to their stages (:func:`journey_lib.get_framework`).
    unmapped : mapping
        Events no rule placed -> why.
    framework : str
        The stage framework reports use.
    stages : mapping
        Event -> stage of ``framework``, overriding what its kind says.
    segment_frameworks : mapping
        Segment column -> {segment value: built-in framework name}: a framework per segment
        for :func:`journey_lib.stage_funnel` broken down ``by`` that column (segments not
        named use ``framework``, or a ``"*"`` entry). Never inferred: empty unless set in
        ``journey.yaml`` or with ``dataclasses.replace(profile, segment_frameworks=...)``.
    funnel : tuple of str
        The default funnel's steps.
    period, inactivity, horizon : str
        Default period (``day`` ... ``year``), inactivity span and churn horizon (``"30D"``).
    cutoff : str or None
        Default prediction cutoff, ``YYYY-MM-DD``.
    currency : str or None
        Currency of ``value``, when the log says.
    evidence : mapping
        What was chosen -> why, with how sure in brackets.
    observed : mapping
        Facts of the log profiled: rows, customers, event types, first and last time.
    """

    shape: str = "events"
    columns: Mapping[str, str] = field(default_factory=dict)
    properties: tuple[str, ...] = ()
    conversion: str | None = None
    acquisition: str | None = None
    churn_event: str | None = None
    advocacy: tuple[str, ...] = ()
    kinds: Mapping[str, str] = field(default_factory=dict)
    unmapped: Mapping[str, str] = field(default_factory=dict)
    framework: str = "customer_journey"
    stages: Mapping[str, str] = field(default_factory=dict)
    segment_frameworks: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    funnel: tuple[str, ...] = ()
    period: str = "month"
    inactivity: str = "90D"
    horizon: str = "90D"
    cutoff: str | None = None
    currency: str | None = None
    evidence: Mapping[str, str] = field(default_factory=dict)
    observed: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_choice("shape", self.shape, SHAPES)
        check_choice("period", self.period, tuple(event_roles.PERIODS))
        bad = sorted({k for k in self.kinds.values() if k not in KINDS})
        if bad:
            raise JourneyParameterError(f"kinds {bad} are not among {list(KINDS)}")
        roles = list(self.columns.values())
        twice = sorted({r for r in roles if roles.count(r) > 1})
        if twice:
            named = [c for c, r in self.columns.items() if r in twice]
            raise JourneyParameterError(f"columns {named} are all named {twice[0]!r}; keep one")
        per_segment = self.segment_frameworks or {}
        if not isinstance(per_segment, Mapping) or not all(
            isinstance(c, str)
            and isinstance(m, Mapping)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in m.items())
            for c, m in per_segment.items()
        ):
            raise JourneyParameterError(
                "segment_frameworks maps a segment column to {segment value: framework name}, "
                f"all text; got {per_segment!r}"
            )
        # Plain inner dicts, so to_dict() and YAML read them; the outer view is read-only.
        inner = {c: dict(m) for c, m in per_segment.items()}
        object.__setattr__(self, "segment_frameworks", _frozen(inner))
        for name in ("columns", "kinds", "unmapped", "stages", "evidence", "observed"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))
        for name in ("properties", "advocacy", "funnel"):
            object.__setattr__(self, name, tuple(getattr(self, name)))

    def column(self, role: str) -> str | None:
        """The input column playing ``role``, or None.

        Examples
        --------
        >>> LogProfile(columns={"user_id": "customer_id"}).column("customer_id")
        'user_id'
        """
        return next((c for c, r in self.columns.items() if r == role), None)

    @property
    def renames(self) -> dict[str, str]:
        """Input column -> canonical name, for :func:`journey_lib.read_events`; other roles
        (a session id) keep their input name."""
        return {c: r for c, r in self.columns.items() if r in CANONICAL_COLUMNS and c != r}

    def read(self, source: Any, **read_options: Any) -> ValidationReport:
        """Read ``source`` (a file or a frame) as this profile says, into the canonical log.

        Events and process logs are renamed and validated; transactions become purchase
        (and return) events first; a customer table is validated as one (its report is a
        :class:`journey_lib.io.adapters.CustomerReport`). Rows that cannot be used are
        quarantined with a reason, never dropped.

        Examples
        --------
        >>> raw = pd.DataFrame({"user": ["a", "a"], "when": ["2024-01-01", "2024-01-02"],
        ...                     "what": ["visit", "buy"]})
        >>> p = profile(raw, columns={"user": "customer_id", "when": "timestamp",
        ...                           "what": "event"})
        >>> p.read(raw).clean[["customer_id", "event"]].to_dict("list")
        {'customer_id': ['a', 'a'], 'event': ['visit', 'buy']}
        """
        if self.shape == "customers":
            frame = _raw(source, read_options)[0]
            return validate_customers(
                frame,
                customer=self.column("customer_id"),
                churn=self.column("churn"),
                signup=self.column("signup"),
            )
        if self.shape == "transactions" or self.column("event") is None:
            frame, malformed = _raw(source, read_options, self.column("customer_id"))
            events = self._as_events(frame)
            return read_events(events) if not malformed else _with_lines(events, malformed)
        return read_events(source, columns=self.renames, **read_options)

    def load(self, source: Any, **read_options: Any) -> pd.DataFrame:
        """The clean rows of :meth:`read`: the canonical touchpoint log (or customer table)."""
        return self.read(source, **read_options).clean

    def _as_events(self, frame: pd.DataFrame) -> pd.DataFrame:
        if self.shape == "transactions":
            return from_transactions(
                frame,
                customer=self.column("customer_id"),
                timestamp=self.column("timestamp"),
                amount=self.column("value"),
                event=self.conversion or "purchase",
                quantity=self.column("quantity"),
                invoice=self.column("invoice"),
                channel=self.column("channel"),
            )
        # A log without event names: every row is one activity.
        renamed = frame.rename(columns=self.renames)
        if "event" in renamed.columns:
            raise JourneyDataError(
                "the log has a column named 'event' that the profile does not read as the "
                "events; name its role (columns={'event': 'event'}) or rename it"
            )
        return renamed.assign(event=self.conversion or "activity")

    def to_dict(self) -> dict[str, Any]:
        """Plain values (lists, dicts, str), as written to YAML."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Mapping):
                value = dict(value)
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    def to_yaml(self, path: str | os.PathLike[str] | None = None) -> str:
        """The profile as YAML; written to ``path`` too when given.

        Examples
        --------
        >>> p = LogProfile(columns={"user_id": "customer_id"}, conversion="buy")
        >>> LogProfile.from_yaml(p.to_yaml()) == p
        True
        """
        text = _HEADER + yaml.safe_dump(
            self.to_dict(), sort_keys=False, allow_unicode=True, width=100
        )
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    @classmethod
    def from_yaml(cls, source: str | os.PathLike[str]) -> LogProfile:
        """Read a profile from a YAML file or YAML text.

        Raises
        ------
        JourneyParameterError
            When the file holds something other than a profile (unknown entries are named).
        """
        text = source
        # A file that exists is read; other text with a colon or a newline is YAML itself.
        is_text = isinstance(source, str) and ("\n" in source or ":" in source)
        if isinstance(source, os.PathLike) or not is_text or _is_file(source):
            path = Path(source)
            if not path.is_file():
                raise JourneyParameterError(f"profile {str(path)!r}: no such file")
            text = path.read_text(encoding="utf-8")
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise JourneyParameterError(f"profile is not valid YAML: {exc}") from None
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: Any) -> LogProfile:
        """Build a profile from :meth:`to_dict`'s plain values, checking the entries."""
        if not isinstance(data, Mapping):
            raise JourneyParameterError(
                f"a profile is a mapping of entries, not {type(data).__name__}"
            )
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise JourneyParameterError(
                f"unknown profile entries {unknown}; a profile has {sorted(known)}"
            )
        return cls(**{k: v for k, v in data.items() if v is not None or k in _OPTIONAL})

    def __str__(self) -> str:
        return _summary(self)

    def __hash__(self) -> int:
        # Frozen, so hashable; the mappings are read-only views, hashed through the YAML.
        return hash(self.to_yaml())


#: The conversion event functions read when neither an argument nor a profile names one
#: (the simulator's, and many shops', name for a purchase); each function says what it does
#: when the log has no such event.
FALLBACK_CONVERSION = "purchase"


def from_profile(profile: LogProfile | None, entry: str, given: Any, default: Any) -> Any:
    """The value a function uses for a role: ``given`` when it is not None, else the
    profile's ``entry`` when the profile sets it, else ``default``.

    This is the one rule every ``profile=`` parameter follows: what the caller says wins,
    then the profile, then the function's documented default.

    Examples
    --------
    >>> p = LogProfile(conversion="payment_done")
    >>> from_profile(p, "conversion", None, "purchase"), from_profile(None, "conversion", None,
    ...     "purchase"), from_profile(p, "conversion", "order", "purchase")
    ('payment_done', 'purchase', 'order')
    """
    if given is not None:
        return given
    if profile is None:
        return default
    if not isinstance(profile, LogProfile):
        raise JourneyParameterError(
            f"profile must be a LogProfile (from journey_lib.profile), not {type(profile).__name__}"
        )
    value = getattr(profile, entry)
    return default if value is None or value == () else value


_OPTIONAL = frozenset({"conversion", "acquisition", "churn_event", "cutoff", "currency"})


def _raw(
    source: Any, read_options: Mapping[str, Any], id_column: str | None = None
) -> tuple[pd.DataFrame, list[str]]:
    if isinstance(source, str | os.PathLike):
        options = dict(read_options)
        if id_column is not None and _is_text_file(source) and "dtype" not in options:
            options["dtype"] = {id_column: "str"}  # "007" keeps its zeros
        return read_table(source, **options)
    return to_pandas(source), []


def _is_file(source: str) -> bool:
    try:
        return Path(source).is_file()
    except (OSError, ValueError):  # text too long or odd to be a path
        return False


def _is_text_file(source: str | os.PathLike[str]) -> bool:
    suffixes = [s.lower() for s in Path(source).suffixes]
    return any(s in (".csv", ".tsv", ".txt") for s in suffixes)


def _ids_as_text(
    source: Any, frame: pd.DataFrame, column: str | None, read_options: Mapping[str, Any]
) -> pd.DataFrame:
    """The frame with a CSV's integer-looking id column read again as text, so "007" and
    "7" stay two customers (the reader typed the column before anyone knew it held ids)."""
    if column is None or not isinstance(source, str | os.PathLike) or not _is_text_file(source):
        return frame
    if not pd.api.types.is_numeric_dtype(frame[column]):
        return frame
    options = {**read_options, "usecols": [column], "dtype": {column: "str"}}
    ids = read_table(source, **options)[0][column]
    return frame.assign(**{column: ids.to_numpy()})


def _with_lines(events: pd.DataFrame, malformed: list[str]) -> ValidationReport:
    """Validation of adapted rows, with the file's malformed lines in the quarantine."""
    return add_malformed(validate_events(events), malformed)


def profile(
    source: Any,
    *,
    columns: Mapping[str, str] | None = None,
    shape: str | None = None,
    conversion: str | None = None,
    acquisition: str | None = None,
    churn_event: str | None = None,
    advocacy: Sequence[str] | None = None,
    kinds: Mapping[str, str] | None = None,
    framework: str | None = None,
    stages: Mapping[str, Any] | None = None,
    funnel: Sequence[str] | None = None,
    period: str | None = None,
    inactivity: str | None = None,
    horizon: str | None = None,
    cutoff: str | None = None,
    currency: str | None = None,
    **read_options: Any,
) -> LogProfile:
    """Inspect a log and say what its columns and events mean, with the evidence.

    Parameters
    ----------
    source : str, path-like or DataFrame
        A file (CSV, TSV, Parquet, JSON lines, ...; see :func:`journey_lib.read_table`) or a
        frame of any engine (collected to pandas).
    columns : mapping, optional
        Input column -> role (``{"user": "customer_id", "ts": "timestamp"}``), as
        ``columns=`` of :func:`journey_lib.read_events`; roles also ``session_id``,
        ``invoice``, ``quantity``, ``churn``, ``signup``, ``currency``, ``treatment``.
    shape, conversion, acquisition, churn_event, advocacy, kinds, framework, stages : optional
        Hints: each replaces the inference of the same entry of :class:`LogProfile`.
        ``stages`` maps events to stages of the framework (``{event: stage}`` or
        ``{stage: [events]}``).
    funnel, period, inactivity, horizon, cutoff, currency : optional
        Hints for the defaults, likewise.
    **read_options
        Passed to the file reader (``sep``, ``encoding``, ``sheet``, ...).

    Returns
    -------
    LogProfile

    Raises
    ------
    JourneyDataError
        When no column can be the customer or the time (the message lists the columns seen
        and the ``columns=`` that would fix it), or a hint names a column the log lacks.
    JourneyParameterError
        When hints conflict: a role or column named twice, an event that is not in the log,
        the same event in two roles.

    Examples
    --------
    >>> import journey_lib as jl
    >>> raw = pd.DataFrame({
    ...     "user_id": ["u1", "u1", "u1", "u2", "u2", "u3"],
    ...     "event": ["catalog", "cart", "payment_done", "catalog", "cart", "catalog"],
    ...     "timestamp": ["2024-01-01 10:00", "2024-01-01 10:05", "2024-01-01 10:09",
    ...                   "2024-01-02 09:00", "2024-01-02 09:30", "2024-01-03 12:00"]})
    >>> p = jl.profile(raw)
    >>> p.column("customer_id"), p.conversion, p.funnel
    ('user_id', 'payment_done', ('catalog', 'cart', 'payment_done'))
    >>> dict(p.kinds)
    {'catalog': 'evaluation', 'cart': 'evaluation', 'payment_done': 'conversion'}
    """
    conversion, acquisition, churn_event = (
        None if v is None else str(v) for v in (conversion, acquisition, churn_event)
    )
    advocacy, funnel = (None if v is None else _names(v) for v in (advocacy, funnel))
    _check_hints_alone(
        inactivity, horizon, cutoff, funnel, kinds, conversion, advocacy, churn_event
    )
    frame, _ = _raw(source, read_options)
    sample = frame.sample(SAMPLE_ROWS, random_state=0) if len(frame) > SAMPLE_ROWS else frame
    guesses, stats = guess_columns(sample, columns)
    frame = _ids_as_text(source, frame, guesses["customer_id"].column, read_options)
    chosen = {g.column: role for role, g in guesses.items() if g.column is not None}
    evidence = {
        f"column {role}": f"{g.evidence} [{g.confidence}]"
        for role, g in guesses.items()
        if g.column is not None
    }
    kind = shape or _shape(chosen, guesses, stats, frame)
    if shape is not None:
        check_choice("shape", shape, SHAPES)
        evidence["shape"] = "given [given]"
    else:
        evidence["shape"] = f"{_SHAPE_WHY[kind]} [{'sure' if kind != 'events' else 'likely'}]"
    taken = set(chosen)
    observed_columns = list(map(str, frame.columns))
    if kind == "customers":
        if "churn" not in chosen.values():
            raise JourneyParameterError(
                "shape='customers' needs a churn column, and none was found or named; "
                f"name it with columns={{COLUMN: 'churn'}} (the columns: {observed_columns})"
            )
        used = {
            c: r for c, r in chosen.items() if r in ("customer_id", "churn", "signup", "treatment")
        }
        base = LogProfile(shape=kind, columns=used, evidence=evidence)
        table = base.read(frame).clean
        kept = tuple(properties(stats, set(used)))
        return replace(
            base,
            properties=kept,
            observed={
                "rows": len(frame),
                "customers": len(table),
                "columns": observed_columns,
                "unused": _unused(observed_columns, used, kept),
            },
        )
    _require_log_columns(chosen, observed_columns)
    used = {c: r for c, r in chosen.items() if r in (*_LOG_ROLES, "invoice", "quantity")}
    if kind != "transactions":
        used = {c: r for c, r in used.items() if r not in ("invoice", "quantity")}
    base = LogProfile(shape=kind, columns=used, conversion=conversion, evidence=evidence)
    # Events made from rows (transactions, a log without event names) are made from the
    # whole frame, as read() will; otherwise the columns used are enough.
    made = kind == "transactions" or "event" not in used.values()
    log = base.read(frame if made else frame[list(used)]).clean
    if log.empty:
        raise JourneyDataError(
            f"no usable row: every row lacks a customer id, a time or an event in the columns "
            f"chosen ({used})"
        )
    hints = dict(
        kinds=kinds,
        conversion=conversion,
        acquisition=acquisition,
        churn_event=churn_event,
        advocacy=advocacy,
        funnel=funnel,
    )
    counts = event_roles.event_counts(log)
    _check_events(counts, hints)
    roles = _event_roles(log, counts, kind, hints, evidence)
    timing = event_roles.timing(log, roles["conversion"], inactivity=inactivity, horizon=horizon)
    chosen_timing = {}
    for name, given in (
        ("period", period),
        ("inactivity", inactivity),
        ("horizon", horizon),
        ("cutoff", cutoff),
    ):
        value, why = timing[name]
        chosen_timing[name] = given if given is not None else value
        evidence[name] = (
            "given [given]" if why == "given" or given is not None else f"{why} [likely]"
        )
    event_kinds, unmapped = event_roles.event_kinds(log, roles["conversion"], counts)
    if kinds:
        conv = roles["conversion"]
        if conv in kinds and kinds[conv] != "conversion":
            raise JourneyParameterError(
                f"kinds= makes {conv!r} {kinds[conv]!r}, but it is the conversion; give "
                "another conversion= or leave its kind out"
            )
        unknown = sorted(set(kinds) - set(event_kinds) - set(unmapped))
        if unknown:
            raise JourneyParameterError(_absent("kinds", unknown, counts))
        event_kinds.update(kinds)
        unmapped = {e: why for e, why in unmapped.items() if e not in kinds}
    stage_overrides = _stage_overrides(stages, counts)
    unmapped = {e: why for e, why in unmapped.items() if e not in stage_overrides}
    kept = tuple(properties(stats, taken))
    observed = _observed(log, observed_columns)
    observed["unused"] = _unused(observed_columns, used, kept)
    return LogProfile(
        shape=kind,
        columns=used,
        properties=kept,
        kinds=event_kinds,
        unmapped=unmapped,
        framework=framework or "customer_journey",
        stages=stage_overrides,
        currency=currency or _currency(frame, guesses),
        evidence=evidence,
        observed=observed,
        **roles,
        **chosen_timing,
    )


_SHAPE_WHY = {
    "events": "customer, time and event columns: a touchpoint log",
    "process": "the customer column is a case id (or the event concept:name): a process log",
    "transactions": "no event column but a money column: every row is a purchase",
    "customers": "a churn label and one row per customer id: a customer table",
}


def _shape(chosen: dict, guesses: dict, stats: dict, frame: pd.DataFrame) -> str:
    by_role = {r: c for c, r in chosen.items()}
    if "churn" in by_role and "timestamp" not in by_role:
        return "customers"
    if "event" not in by_role:
        return "transactions" if "value" in by_role else "events"
    customer = by_role.get("customer_id")
    event = by_role["event"]
    # Process-mining exports (XES and its CSV form) name the case and concept:name.
    if (customer and "case" in stats[customer].words) or stats[event].words == ("concept", "name"):
        return "process"
    return "events"


def _require_log_columns(chosen: dict[str, str], present: list[str]) -> None:
    roles = set(chosen.values())
    missing = [r for r in ("customer_id", "timestamp") if r not in roles]
    if not missing:
        return
    free = [c for c in present if c not in chosen]
    # Name real columns where there are enough of them; quoted, so the line can be pasted.
    names = free[: len(missing)] if len(free) >= len(missing) else ["COLUMN"] * len(missing)
    spelled = shlex.quote(",".join(f"{c}={r}" for c, r in zip(names, missing, strict=True)))
    what = " or ".join({"customer_id": "the customer", "timestamp": "the time"}[r] for r in missing)
    raise JourneyDataError(
        f"no column can be {what}: the columns are {present}; name them with "
        f"--columns {spelled} (in Python: columns={{...}})"
    )


def _absent(entry: str, events: list[str], counts: pd.DataFrame) -> str:
    listed = ", ".join(f"{e!r}" for e in counts.index[:12])
    more = f" and {len(counts) - 12} more" if len(counts) > 12 else ""
    return f"{entry} names {events}, which the log does not have; its events are {listed}{more}"


def _names(value: Any) -> tuple[str, ...]:
    """Event names from one name or a sequence of them, as text (events are read as text)."""
    if isinstance(value, str | int | float):
        return (str(value),)
    return tuple(str(v) for v in value)


def _check_hints_alone(
    inactivity: Any,
    horizon: Any,
    cutoff: Any,
    funnel: tuple[str, ...] | None,
    kinds: Mapping[str, str] | None,
    conversion: str | None,
    advocacy: tuple[str, ...] | None,
    churn_event: str | None,
) -> None:
    """Refuse hints that cannot be right whatever the log: bad durations or dates, a one-step
    funnel, unknown kinds, an event both conversion (or churn) and advocacy."""
    for name, value in (("inactivity", inactivity), ("horizon", horizon)):
        if value is not None:
            try:
                ok = pd.Timedelta(value) > pd.Timedelta(0)
            except ValueError:
                ok = False
            if not ok:
                raise JourneyParameterError(
                    f"{name} {value!r} is not a positive duration such as '30D' or '12h'"
                )
    if cutoff is not None:
        try:
            pd.Timestamp(cutoff)
        except ValueError:
            raise JourneyParameterError(
                f"cutoff {cutoff!r} is not a date such as 2024-08-01"
            ) from None
    if funnel is not None and len(funnel) < 2:
        raise JourneyParameterError(
            f"a funnel needs at least two steps; funnel= gives {list(funnel)}"
        )
    bad = sorted({k for k in (kinds or {}).values() if k not in KINDS})
    if bad:
        raise JourneyParameterError(f"kinds= uses {bad}, which are not among {list(KINDS)}")
    for role, event in (("conversion", conversion), ("churn_event", churn_event)):
        if event is not None and advocacy and event in advocacy:
            raise JourneyParameterError(
                f"{role} and advocacy both name {event!r}; an event has one role"
            )


def _check_events(counts: pd.DataFrame, hints: dict[str, Any]) -> None:
    """Refuse hints that name events the log lacks, or one event in two roles."""
    present = set(counts.index)
    for name, value in hints.items():
        if value is None:
            continue
        named = [value] if isinstance(value, str) else list(value)
        absent = [e for e in named if e not in present]
        if absent:
            raise JourneyParameterError(_absent(name, absent, counts))
    single = {k: v for k, v in hints.items() if isinstance(v, str)}
    for a, b in (("conversion", "churn_event"), ("acquisition", "churn_event")):
        if single.get(a) is not None and single.get(a) == single.get(b):
            raise JourneyParameterError(
                f"{a} and {b} are both {single[a]!r}; an event has one role"
            )


def _event_roles(
    log: pd.DataFrame,
    counts: pd.DataFrame,
    shape: str,
    hints: dict[str, Any],
    evidence: dict[str, str],
) -> dict[str, Any]:
    """The conversion, acquisition, churn and advocacy events and the default funnel."""
    roles: dict[str, Any] = {}

    def choose(name: str, infer: Any) -> Any:
        if hints[name] is not None:
            evidence[name] = "given [given]"
            return hints[name]
        value, why = infer()
        evidence[name] = f"{why} [{'likely' if value is not None else 'none'}]"
        return value

    roles["conversion"] = choose(
        "conversion", lambda: event_roles.conversion_event(log, shape, counts)
    )
    conv = roles["conversion"]
    roles["acquisition"] = choose(
        "acquisition", lambda: event_roles.acquisition_event(log, conv, shape, counts)
    )
    roles["churn_event"] = choose("churn_event", lambda: event_roles.churn_event(log, conv, counts))

    def funnel_steps() -> tuple[Any, str]:
        return event_roles.default_funnel(log, conv)

    roles["funnel"] = tuple(choose("funnel", funnel_steps) or ())
    kinds, _ = event_roles.event_kinds(log, conv, counts)
    by_hand = [e for e, k in (hints.get("kinds") or {}).items() if k == "advocacy"]
    roles["advocacy"] = tuple(choose("advocacy", lambda: _advocacy(kinds, by_hand)) or ())
    return roles


def _advocacy(kinds: dict[str, str], by_hand: list[str]) -> tuple[tuple[str, ...] | None, str]:
    found = tuple(dict.fromkeys([*event_roles.advocacy_events(kinds), *by_hand]))
    if found:
        return found, f"named like advocacy or made so by hand: {', '.join(map(repr, found))}"
    return None, "no event is named like a review, referral or share"


def _stage_overrides(stages: Mapping[str, Any] | None, counts: pd.DataFrame) -> dict[str, str]:
    """``{event: stage}`` from either spelling of a stage hint, events checked."""
    if not stages:
        return {}
    mapping, _ = stage_mapping(stages)
    absent = sorted(set(mapping) - set(counts.index))
    if absent:
        raise JourneyParameterError(_absent("stages", absent, counts))
    return mapping


def _currency(frame: pd.DataFrame, guesses: dict) -> str | None:
    column = guesses["currency"].column
    if column is None:
        return None
    counts = frame[column].dropna().astype("str").value_counts()
    return str(counts.index[0]) if len(counts) else None


def _unused(columns: list[str], used: Mapping[str, str], kept: tuple[str, ...]) -> list[str]:
    """Columns the profile reads as nothing: kept in the log, but said out loud."""
    return [c for c in columns if c not in used and c not in kept]


def _observed(log: pd.DataFrame, columns: list[str]) -> dict[str, Any]:
    return {
        "rows": len(log),
        "customers": int(log["customer_id"].nunique()),
        "event_types": int(log["event"].nunique()),
        "first": log["timestamp"].min().isoformat(),
        "last": log["timestamp"].max().isoformat(),
        "columns": columns,
    }


def _summary(p: LogProfile) -> str:
    """The profile as a few readable lines, each at most about 100 characters."""
    o = p.observed
    lines = [f"Log profile: {_SHAPE_NAMES[p.shape]}"]
    if "event_types" in o:
        lines.append(
            f"  {o['rows']:,} usable rows, {o['customers']:,} customers, "
            f"{o['event_types']:,} event types, {o['first'][:10]} to {o['last'][:10]}"
        )
    elif o:
        lines.append(f"  {o['rows']:,} rows, {o['customers']:,} customers")
    lines.append("Columns")
    for column, role in p.columns.items():
        why, sure = _split(p.evidence.get(f"column {role}", ""))
        lines.append(_row(role, str(column), f"{sure}: {why}" if sure else why))
    if p.properties:
        lines.append(_row("properties", ", ".join(p.properties), "", wide=True))
    if p.observed.get("unused"):
        lines.append(_row("not used", ", ".join(p.observed["unused"]), "", wide=True))
    if p.shape == "customers":
        return "\n".join(lines)
    lines.append("Events")
    for role in ("conversion", "acquisition", "churn_event"):
        why, _ = _split(p.evidence.get(role, ""))
        lines.append(_row(role, str(getattr(p, role) or "(none)"), why))
    lines.append(_row("advocacy", ", ".join(p.advocacy) or "(none)", ""))
    lines.append("Kinds of event (the stages come from these)")
    for kind in KINDS:
        events = [e for e, k in p.kinds.items() if k == kind]
        if events:
            lines.append(_row(kind, ", ".join(events), "", wide=True))
    if p.unmapped:
        lines.append(_row("no kind", ", ".join(p.unmapped), "", wide=True))
    if p.stages:
        placed = ", ".join(f"{e} -> {s}" for e, s in p.stages.items())
        lines.append(_row("by hand", placed, "", wide=True))
    for column, frameworks in p.segment_frameworks.items():
        placed = ", ".join(f"{value} -> {name}" for value, name in frameworks.items())
        lines.append(_row(f"by {column}", placed, "", wide=True))
    lines.append("Defaults")
    lines.append(_row("funnel", " -> ".join(p.funnel) if p.funnel else "(none)", "", wide=True))
    why, _ = _split(p.evidence.get("funnel", ""))
    lines.append(_row("", why, "", wide=True))
    lines.append(
        _row(
            "timing",
            f"period {p.period}, inactivity {p.inactivity}, horizon {p.horizon}, cutoff {p.cutoff}",
            "",
            wide=True,
        )
    )
    return "\n".join(lines)


def _split(evidence: str) -> tuple[str, str]:
    """``"why [sure]"`` -> ``("why", "sure")``."""
    if evidence.endswith("]") and " [" in evidence:
        why, _, sure = evidence[:-1].rpartition(" [")
        return why, sure
    return evidence, ""


def _row(label: str, value: str, why: str, *, wide: bool = False, width: int = 100) -> str:
    """One aligned entry, wrapped under its value: a label, a value and why."""
    text = f"{value}" if wide or not why else f"{value:<20} {why}"
    return textwrap.fill(
        text,
        width=width,
        initial_indent=f"  {label:<12} ",
        subsequent_indent=" " * 15,
        break_on_hyphens=False,
    )


_SHAPE_NAMES = {
    "events": "a touchpoint log (events)",
    "process": "a process log (cases and activities)",
    "transactions": "a transaction table (every row a purchase)",
    "customers": "a customer table (one row per customer)",
}
