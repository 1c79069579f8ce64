"""Self-checking exercises: right answers pass in any spelling, wrong ones get a hint."""

from __future__ import annotations

import pandas as pd
import pytest

import journey_lib as jl
from journey_lib.teach import EXERCISES, Exercises


@pytest.fixture(scope="module")
def exercises():
    return Exercises(jl.simulate(1500, seed=3, progress=False))


@pytest.mark.parametrize(
    ("name", "answer"),
    [
        ("stage_of_support_ticket", "Retention"),
        ("stage_of_support_ticket", "the retention stage"),
        ("business_side_of_awareness", "reach"),
        ("crm_kind", "Analytical CRM"),
        ("strongest_trust_driver", "keeping promises"),
        ("strongest_trust_driver", "keeping_promises"),
    ],
)
def test_right_answers_in_any_reasonable_spelling(exercises, name, answer):
    feedback = exercises.check(name, answer)
    assert feedback.correct and feedback.message.startswith("Right: ")


@pytest.mark.parametrize(
    ("name", "answer"),
    [
        ("stage_of_support_ticket", "Purchase"),
        ("stage_of_support_ticket", "Purchase and Retention"),
        ("business_side_of_awareness", "Acquire"),
        ("crm_kind", "operational"),
        ("strongest_trust_driver", "respect"),
        ("purchase_share", "0.99"),
        ("purchase_share", "many"),
    ],
)
def test_wrong_answers_get_a_hint_not_the_answer(exercises, name, answer):
    feedback = exercises.check(name, answer)
    assert not feedback.correct
    assert feedback.message.startswith("Not quite. Look again at ")
    expected = EXERCISES[name].answer(exercises.simulation)
    if isinstance(expected, str):
        assert expected.lower() not in feedback.message.lower()


def test_numeric_answers_are_computed_from_the_data(exercises):
    """The answer key against a count in the simulated log by another route than
    journey_lib.teach's (which goes through nunique and jl.churn_rate)."""
    events = exercises.simulation.events
    bought = events.groupby("customer_id")["event"].agg(lambda e: "purchase" in set(e))
    share = bought.sum() / len(bought)
    assert EXERCISES["purchase_share"].answer(exercises.simulation) == pytest.approx(
        share, abs=1e-12
    )
    assert exercises.check("purchase_share", round(share, 3)).correct
    assert exercises.check("purchase_share", f"{share * 100:.1f}%").correct  # as a percentage
    assert not exercises.check("purchase_share", share + 0.05).correct

    # Q3 2024 with 90 days of inactivity: of those with an event in the 90 days before
    # 1 July, the share with none in the 90 days before 1 October.
    def active(at: str) -> set:
        t = pd.Timestamp(at, tz="UTC")
        recent = events[
            (events["timestamp"] >= t - pd.Timedelta(days=90)) & (events["timestamp"] < t)
        ]
        return set(recent["customer_id"])

    at_start = active("2024-07-01")
    q3 = len(at_start - active("2024-10-01")) / len(at_start)
    assert 0 < q3 < 1 and len(at_start) > 100  # a rate the log can tell apart from 0 or 1
    assert EXERCISES["q3_churn_rate"].answer(exercises.simulation) == pytest.approx(q3, abs=1e-12)
    assert exercises.check("q3_churn_rate", q3).correct
    assert not exercises.check("q3_churn_rate", q3 + 0.1).correct


def test_every_exercise_has_a_question_and_unknown_ones_are_named(exercises):
    for name in exercises.names():
        assert exercises.ask(name).endswith("?") or "(" in exercises.ask(name)
    with pytest.raises(jl.JourneyParameterError, match="the exercises are stage_of_support"):
        exercises.check("nope", 1)
    assert exercises.check("crm_kind", "analytical")._repr_markdown_().startswith("✅")
