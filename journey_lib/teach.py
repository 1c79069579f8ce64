"""Exercises for the teaching notebooks that check themselves.

Each exercise has a question and an answer computed from the data it is bound to (a
simulation's events and ground truth, or the built-in stage frameworks), so the same
notebook teaches on any seed. :meth:`Exercises.check` says *right*, with a line on why, or
what to look at again; it never reveals the answer.

Examples
--------
>>> import journey_lib as jl
>>> exercises = jl.teach.Exercises(jl.simulate(300, seed=1))
>>> exercises.check("stage_of_support_ticket", "retention").correct
True
>>> print(exercises.check("stage_of_support_ticket", "Purchase"))
Not quite. Look again at jl.get_framework('customer_journey').events
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

import numpy as np

from .analytics.retention import churn_rate
from .analytics.stages import get_framework
from .errors import JourneyParameterError
from .simulator import Simulation

__all__ = ["EXERCISES", "Exercise", "Exercises", "Feedback"]

_FILLER = frozenset({"the", "a", "an", "stage", "crm"})


@dataclasses.dataclass(frozen=True)
class Feedback:
    """The verdict on one answer: ``correct`` and a ``message`` (shown as Markdown)."""

    correct: bool
    message: str

    def __str__(self) -> str:
        return self.message

    def _repr_markdown_(self) -> str:
        mark = "✅" if self.correct else "🔎"
        return f"{mark} {self.message}"


@dataclasses.dataclass(frozen=True)
class Exercise:
    """One question, how to compute its answer from a simulation, and how to compare.

    Attributes
    ----------
    question : str
    answer : callable
        ``answer(simulation) -> str | float``.
    why : str
        Said after a right answer.
    hint : str
        Said after a wrong one: where to look again.
    tolerance : float
        For numeric answers: the absolute difference accepted (answers given as a
        percentage, ``64`` for 0.64, are read as shares when the answer is a share).
    """

    question: str
    answer: Callable[[Simulation], Any]
    why: str
    hint: str
    tolerance: float = 0.0


def _stage_of(event: str, framework: str = "customer_journey") -> str:
    return get_framework(framework).events[event]


def _q3_churn_rate(sim: Simulation) -> float:
    table = churn_rate(sim.events, period="quarter")
    third = table[table["period"].dt.month == 7]
    return float(third["churn_rate"].iloc[0])


def _strongest_trust_driver(sim: Simulation) -> str:
    effects = sim.truth.effects
    trust = effects[(effects["outcome"] == "churn") & effects["level"].notna()]
    return str(trust.loc[trust["effect"].idxmax(), "driver"])


def _purchase_share(sim: Simulation) -> float:
    events = sim.events
    reached = events["customer_id"].nunique()
    bought = events.loc[events["event"] == "purchase", "customer_id"].nunique()
    return bought / reached


#: The exercises of the primer notebook, by name.
EXERCISES: dict[str, Exercise] = {
    "stage_of_support_ticket": Exercise(
        question="In the five-stage customer journey, which stage does a support_ticket belong to?",
        answer=lambda sim: _stage_of("support_ticket"),
        why="service after the purchase is where customers decide whether to stay",
        hint="jl.get_framework('customer_journey').events",
    ),
    "business_side_of_awareness": Exercise(
        question="The business mirrors each customer stage with one of its own. Which "
        "business stage mirrors the customer's Awareness?",
        answer=lambda sim: get_framework("business").stages[
            get_framework("customer_journey").stages.index("Awareness")
        ],
        why="the business reaches people as they become aware of it",
        hint="jl.get_framework('business').stages, stage by stage beside the customer journey's",
    ),
    "crm_kind": Exercise(
        question="Of the four kinds of CRM (strategic, operational, analytical, "
        "collaborative), which one uses customer data to understand journeys and predict "
        "churn?",
        answer=lambda sim: "analytical",
        why="operational CRM runs the touchpoints, collaborative CRM shares them across "
        "teams, strategic CRM sets the course, and analytical CRM learns from the data",
        hint="the section on the four kinds of CRM: which kind learns from the data?",
    ),
    "purchase_share": Exercise(
        question="What share of the customers reached bought at least once? (a share "
        "between 0 and 1, or a percentage)",
        answer=_purchase_share,
        why="most people reached never buy: the funnel narrows fastest at the top",
        hint="the distinct customer_id with a purchase event, over all distinct "
        "customer_id in the log",
        tolerance=0.01,
    ),
    "q3_churn_rate": Exercise(
        question="What was the churn rate in the third quarter of 2024 (July to September), "
        "counting a customer as lost after 90 days without a touchpoint?",
        answer=_q3_churn_rate,
        why="churn rate is the share of those active at the start of the period who were "
        "lost by its end",
        hint="jl.churn_rate(events, period='quarter'): the row of the quarter starting in July",
        tolerance=0.01,
    ),
    "strongest_trust_driver": Exercise(
        question="In this simulation, which trust driver has the largest planted effect on churn?",
        answer=_strongest_trust_driver,
        why="broken promises hurt trust most, and lost trust is what makes customers leave",
        hint="sim.truth.effects: the churn effects of the trust drivers (those with a level)",
    ),
}


class Exercises:
    """The exercises bound to one simulation.

    Parameters
    ----------
    simulation : Simulation
        From :func:`journey_lib.simulate`; its log and ground truth give the answers.

    Examples
    --------
    >>> import journey_lib as jl
    >>> exercises = jl.teach.Exercises(jl.simulate(300, seed=1))
    >>> exercises.names()[:2]
    ['stage_of_support_ticket', 'business_side_of_awareness']
    >>> exercises.check("crm_kind", "Analytical CRM").correct
    True
    """

    def __init__(self, simulation: Simulation) -> None:
        self.simulation = simulation

    def names(self) -> list[str]:
        """The exercises, in the order the primer asks them."""
        return list(EXERCISES)

    def ask(self, name: str) -> str:
        """The question of exercise ``name``."""
        return self._exercise(name).question

    def check(self, name: str, answer: Any) -> Feedback:
        """Whether ``answer`` is right; if not, where to look again (never the answer)."""
        exercise = self._exercise(name)
        expected = exercise.answer(self.simulation)
        if isinstance(expected, str):
            correct = _words(answer) == _words(expected)
        else:
            correct = _close(answer, float(expected), exercise.tolerance)
        if correct:
            return Feedback(True, f"Right: {exercise.why}.")
        return Feedback(False, f"Not quite. Look again at {exercise.hint}")

    def _exercise(self, name: str) -> Exercise:
        if name not in EXERCISES:
            raise JourneyParameterError(
                f"no exercise {name!r}; the exercises are {', '.join(EXERCISES)}"
            )
        return EXERCISES[name]


def _words(text: Any) -> str:
    """How answers compare: lower case, ``&`` as ``and``, ``_`` as a space, without
    punctuation or filler words (``the stage``, ``CRM``)."""
    spoken = str(text).lower().replace("&", " and ").replace("_", " ")
    return " ".join(w for w in re.findall(r"[a-z0-9]+", spoken) if w not in _FILLER)


def _close(answer: Any, expected: float, tolerance: float) -> bool:
    try:
        value = float(str(answer).strip().rstrip("%"))
    except ValueError:
        return False
    candidates = [value]
    if 0 <= expected <= 1 and value > 1:
        candidates.append(value / 100)  # a percentage for a share
    return any(bool(np.isclose(v, expected, rtol=0, atol=tolerance)) for v in candidates)
