"""The rules a log profile reads names by: which column is which, and what each event is.

Every rule is data in this module, so a user can read exactly why :func:`journey_lib.profile`
chose what it chose, and override any of it with a hint. Names are compared as *words*:
lower case, split at anything that is not a letter or digit and at camelCase humps, so
``case:concept:name``, ``CustomerID`` and ``event_time`` read as ``case concept name``,
``customer id`` and ``event time``.

Column roles
    :data:`COLUMN_WORDS` gives, for each role, the words that suggest it and the words that
    rule it out (``user_session`` is a session, not a user). Content decides among candidates.

Kinds of event
    :data:`KINDS` are the generic steps of a journey that the stage frameworks are built on:
    ``awareness``, ``discovery``, ``evaluation``, ``conversion``, ``retention`` and
    ``advocacy``. :data:`EVENT_KINDS` maps exact event names (the simulator's and widely used
    ones) to a kind; :data:`KIND_WORDS` maps words to a kind for names not listed. An event
    gets a kind only when one of these rules says so; the rest are left unmapped, and the
    profile lists them.

Roles of events
    :data:`CONVERSION_WORDS`, :data:`ACQUISITION_WORDS`, :data:`CHURN_WORDS` and
    :data:`ADVOCACY_WORDS`, in order of preference.

Examples
--------
>>> words("case:concept:name"), words("CustomerID"), words("event_time")
(('case', 'concept', 'name'), ('customer', 'id'), ('event', 'time'))
>>> kind_of("payment_done"), kind_of("ad_view"), kind_of("T02 Check confirmation")
('conversion', 'awareness', None)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from ..errors import JourneyParameterError

__all__ = [
    "ACQUISITION_WORDS",
    "ADVOCACY_WORDS",
    "CHURN_WORDS",
    "COLUMN_WORDS",
    "CONVERSION_WORDS",
    "EVENT_KINDS",
    "KINDS",
    "KIND_WORDS",
    "NOT_CHURN",
    "VOCABULARY",
    "kind_of",
    "matching_rule",
    "stage_mapping",
    "words",
]

#: The generic steps of a journey, in order; stage frameworks map each to one of their stages.
KINDS: tuple[str, ...] = (
    "awareness",
    "discovery",
    "evaluation",
    "conversion",
    "retention",
    "advocacy",
)

#: role -> (words that suggest the role, words that rule it out). A column suggests a role
#: when one of its words is listed; the first listed words weigh most.
COLUMN_WORDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "customer_id": (
        (
            "customer",
            "cust",
            "client",
            "user",
            "account",
            "visitor",
            "member",
            "case",
            "buyer",
            "shopper",
            "subscriber",
            "person",
            "contact",
            "guest",
            "uid",
        ),
        (
            "session",
            "product",
            "item",
            "order",
            "invoice",
            "event",
            "category",
            "task",
            "instance",
            "transaction",
            "channel",
            "deadline",
            "date",
            "time",
            "group",
            "department",
            "responsible",
            "type",
            "cohort",
            "lifecycle",
            "agent",
            "segment",
        ),
    ),
    "timestamp": (
        (
            "timestamp",
            "time",
            "datetime",
            "ts",
            "date",
            "when",
            "at",
            "occurred",
            "created",
            "day",
        ),
        (
            "deadline",
            "planned",
            "updated",
            "modified",
            "ingested",
            "received",
            "loaded",
            "exported",
            "birth",
            "birthday",
            "dob",
            "signup",
            "start",
            "end",
            "startdate",
            "enddate",
            "due",
        ),
    ),
    "event": (
        (
            "event",
            "activity",
            "action",
            "touchpoint",
            "interaction",
            "eventtype",
            "concept",
            "page",
            "step",
            "type",
            "name",
        ),
        ("id", "time", "date", "timestamp", "session", "instance", "transition", "case"),
    ),
    "channel": (
        ("channel", "medium", "source", "utm", "acquisition", "traffic", "origin"),
        ("id", "time", "date"),
    ),
    "value": (
        (
            "value",
            "revenue",
            "amount",
            "price",
            "spent",
            "spend",
            "sales",
            "total",
            "monetary",
            "payment",
            "paid",
            "sum",
        ),
        ("id", "time", "date", "currency", "count", "quantity", "qty"),
    ),
    "session_id": (("session", "visit"), ("time", "date", "count", "duration")),
    "invoice": (("invoice", "order", "transaction", "receipt", "basket"), ("time", "date")),
    "quantity": (("quantity", "qty", "units", "items"), ("id", "price")),
    "churn": (
        ("churn", "churned", "exited", "attrition", "left", "cancelled", "canceled", "lost"),
        ("date", "time", "reason", "score", "probability"),
    ),
    "signup": (
        ("signup", "joined", "registered", "since", "first", "start", "startdate", "created"),
        ("end", "enddate"),
    ),
    "currency": (("currency", "cur", "ccy"), ()),
    # Found by its name only: two values are common (Partner: Yes/No) and say nothing.
    "treatment": (
        ("treatment", "treated", "treat", "holdout", "control", "variant", "arm", "offered"),
        ("id", "time", "date", "reason", "cost", "name", "type"),
    ),
}

#: Kind -> exact event names: the simulator's touchpoints and widely used generic names.
#: The built-in frameworks of :mod:`journey_lib.analytics.stages` are made from this vocabulary.
VOCABULARY: dict[str, tuple[str, ...]] = {
    "awareness": ("ad_view", "ad_impression", "referral_invite"),
    "discovery": ("site_visit", "page_view", "search", "ad_click", "signup", "home", "landing"),
    "evaluation": (
        "product_view",
        "view",
        "add_to_cart",
        "cart",
        "checkout_start",
        "trial_start",
        "demo_request",
    ),
    "conversion": ("purchase", "order", "checkout_complete", "subscription_start"),
    "retention": (
        "order_update",
        "thank_you",
        "surprise_fee",
        "delivery_on_time",
        "delivery_late",
        "support_ticket",
        "ticket_resolved",
        "apology",
        "personalised_offer",
        "generic_offer",
        "retention_offer",
        "unwanted_contact",
        "loyalty_reward",
        "cancellation",
        "renewal",
        "login",
        "app_open",
    ),
    "advocacy": ("review", "referral", "share"),
}
#: Exact event name -> kind, from :data:`VOCABULARY`.
EVENT_KINDS: dict[str, str] = {e: kind for kind, events in VOCABULARY.items() for e in events}

#: Conversion words, most preferred first. Words that name a failure or an unfinished step
#: (:data:`NOT_DONE`) disqualify an event, so ``payment_error`` never converts.
CONVERSION_WORDS: tuple[str, ...] = (
    "purchase",
    "purchased",
    "order",
    "ordered",
    "payment",
    "paid",
    "checkout",
    "transaction",
    "buy",
    "bought",
    "subscribe",
    "subscribed",
    "subscription",
    "conversion",
    "converted",
    "sale",
    "booking",
    "booked",
)
#: Words that say the event is not the finished act (``checkout_start``, ``payment_error``).
NOT_DONE: tuple[str, ...] = (
    "start",
    "started",
    "begin",
    "attempt",
    "error",
    "failed",
    "failure",
    "bug",
    "details",
    "detail",
    "page",
    "view",
    "update",
    "cancel",
    "cancelled",
    "canceled",
    "refund",
    "return",
    "abandon",
    "abandoned",
    "info",
    "add",
    "enter",
    "end",
    "expire",
)
#: Words that make a conversion-like name finished, ranked above a bare conversion word.
DONE: tuple[str, ...] = ("done", "complete", "completed", "success", "successful", "confirmed")

#: (kind, words, unless words), for event names not in :data:`EVENT_KINDS`, tried in this
#: order: ``payment_error`` is evaluation (an error on the way), ``review_page`` is evaluation
#: (reading reviews), ``review`` is advocacy (writing one).
KIND_WORDS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "advocacy",
        ("review", "rating", "rate", "referral", "refer", "share", "recommend", "invite"),
        ("page", "view", "read", "list", "seen"),
    ),
    (
        "retention",
        (
            "support",
            "ticket",
            "complaint",
            "delivery",
            "delivered",
            "shipped",
            "shipment",
            "return",
            "refund",
            "renewal",
            "renew",
            "reorder",
            "loyalty",
            "reward",
            "cancel",
            "cancellation",
            "unsubscribe",
            "churn",
            "login",
            "account",
        ),
        (),
    ),
    (
        "evaluation",
        (
            "error",
            "bug",
            "failed",
            "failure",
            "product",
            "item",
            "catalog",
            "catalogue",
            "detail",
            "details",
            "cart",
            "basket",
            "wishlist",
            "compare",
            "comparison",
            "checkout",
            "shipping",
            "pricing",
            "quote",
            "demo",
            "trial",
            "filter",
            "view",
            "review",
            "reviews",
        ),
        (),
    ),
    # "checkout" alone was read as evaluation above: the conversion words serve as they are.
    (
        "conversion",
        CONVERSION_WORDS,
        NOT_DONE,
    ),
    (
        "discovery",
        (
            "visit",
            "home",
            "homepage",
            "landing",
            "page",
            "search",
            "browse",
            "signup",
            "sign",
            "register",
            "registration",
            "session",
            "open",
            "promo",
        ),
        (),
    ),
    ("awareness", ("ad", "ads", "advert", "impression", "banner", "campaign", "newsletter"), ()),
)

#: Words of the event that makes a customer a customer, most preferred first.
ACQUISITION_WORDS: tuple[str, ...] = (
    "signup",
    "sign",
    "register",
    "registration",
    "registered",
    "install",
    "onboarding",
    "trial",
    "lead",
)
#: Words that make an ending an order's, not the relationship's (``Order Cancelled``).
NOT_CHURN: tuple[str, ...] = (
    "order",
    "item",
    "payment",
    "booking",
    "cart",
    "product",
    "delivery",
    "shipment",
    "invoice",
)
#: Words of an event that ends the relationship, most preferred first.
CHURN_WORDS: tuple[str, ...] = (
    "cancellation",
    "cancel",
    "cancelled",
    "unsubscribe",
    "unsubscribed",
    "churn",
    "churned",
    "close",
    "closed",
    "terminate",
    "terminated",
    "delete",
    "deleted",
)
#: Words of advocacy events: a review, a rating, a referral, a share.
ADVOCACY_WORDS: tuple[str, ...] = (
    "review",
    "rating",
    "referral",
    "refer",
    "share",
    "recommend",
    "invite",
    "testimonial",
)

_HUMP = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SPLIT = re.compile(r"[^a-z0-9]+")


def words(name: object) -> tuple[str, ...]:
    """The words of a column or event name: lower case, split at non-alphanumerics and humps.

    Examples
    --------
    >>> words("user_session"), words("Total day charge"), words("T07-1 Draft intern advice")
    (('user', 'session'), ('total', 'day', 'charge'), ('t07', '1', 'draft', 'intern', 'advice'))
    """
    text = _HUMP.sub(" ", str(name))
    return tuple(w for w in _SPLIT.split(text.lower()) if w)


def stage_mapping(
    mapping: Mapping[str, Iterable[str]] | Mapping[str, str],
) -> tuple[dict[str, str], tuple[str, ...]]:
    """``{event: stage}`` and the stages in order, from either way of writing a stage
    mapping: ``{stage: [events]}`` (stage order is the mapping's) or ``{event: stage}``
    (stage order is first appearance).

    Raises
    ------
    JourneyParameterError
        When an event is listed under two stages.

    Examples
    --------
    >>> stage_mapping({"Aware": ["ad"], "Buy": ["buy", "order"]})
    ({'ad': 'Aware', 'buy': 'Buy', 'order': 'Buy'}, ('Aware', 'Buy'))
    """
    if all(isinstance(v, str) for v in mapping.values()):
        events = dict(mapping)
        return events, tuple(dict.fromkeys(events.values()))
    events = {}
    for stage, names in mapping.items():
        for event in [names] if isinstance(names, str) else names:
            if event in events and events[event] != stage:
                raise JourneyParameterError(
                    f"event {event!r} is listed under both {events[event]!r} and {stage!r}"
                )
            events[event] = stage
    return events, tuple(mapping)


def matching_rule(name: object, rules: Sequence[str]) -> str | None:
    """The first word of ``rules`` that is a word of ``name``, or None.

    Examples
    --------
    >>> matching_rule("payment_done", CONVERSION_WORDS)
    'payment'
    """
    found = {form for word in words(name) for form in _forms(word)}
    return next((w for w in rules if w in found), None)


def _forms(word: str) -> set[str]:
    """A word and its plain forms: ``refunded`` also reads ``refund``, ``shared`` ``share``,
    ``signed`` ``sign``, ``reviews`` ``review``, ``shipping`` ``ship``."""
    forms = {word}
    for suffix, keep in (("ed", ""), ("d", ""), ("s", ""), ("ing", ""), ("ing", "e")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            forms.add(word[: len(word) - len(suffix)] + keep)
    return forms


def kind_of(event: object) -> str | None:
    """The kind of an event by the rules: its exact name first, then its words; None if no
    rule matches.

    Examples
    --------
    >>> kind_of("write_review"), kind_of("review_page"), kind_of("payment_error")
    ('advocacy', 'evaluation', 'evaluation')
    """
    if event in EVENT_KINDS:
        return EVENT_KINDS[event]  # type: ignore[index]
    return next(
        (
            kind
            for kind, listed, unless in KIND_WORDS
            if matching_rule(event, listed) and not matching_rule(event, unless)
        ),
        None,
    )


def is_conversion_name(event: object) -> bool:
    """Whether the name reads as a finished conversion: a conversion word and no word of an
    unfinished or failed step.

    Examples
    --------
    >>> is_conversion_name("payment_done"), is_conversion_name("checkout_start")
    (True, False)
    """
    return bool(matching_rule(event, CONVERSION_WORDS)) and not matching_rule(event, NOT_DONE)
