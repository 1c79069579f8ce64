"""Trust what-if (teaching): move the simulator's trust drivers, see churn and advocacy move."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from .. import plots
from ..errors import JourneyParameterError
from ..scenarios import what_if
from ..simulator import TRUST_DRIVERS, Simulation
from .base import JourneyWidget

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["TrustWhatIf"]

#: Decimals kept of a slider's value: its step is 0.05, so this hides only float noise.
_DECIMALS = 4


class TrustWhatIf(JourneyWidget):
    """What if the business kept more promises, or resolved fewer tickets?

    :func:`journey_lib.what_if` as a widget: one slider per trust driver of the simulator
    (``communication``, ``care``, ``fair_treatment``, ``personalisation``,
    ``owning_mistakes``, ``keeping_promises``, ``respect``) and ``service_quality``, each the
    probability that the business gets one opportunity right. Releasing a slider simulates
    the baseline's customers again with the changed levels and shows churn, repeat purchase,
    advocacy and trust beside the baseline's; **reset** puts every slider back. The baseline
    is simulated once; a scenario of a few thousand customers takes a fraction of a second.

    ``.data`` is the :func:`journey_lib.what_if` table, drawn with
    :func:`journey_lib.plots.what_if`. ``.params`` are the settings notebook
    ``00_customer_journey_primer`` takes: ``customers`` and ``seed`` of the baseline and
    ``trust``, the drivers that differ from the baseline (``{}`` when none do).

    Parameters
    ----------
    baseline : Simulation
        The simulation to compare with, from :func:`journey_lib.simulate`.
    **levels
        First positions of sliders, e.g. ``keeping_promises=0.6``; the others start at the
        baseline's levels.

    Examples
    --------
    >>> whatif = TrustWhatIf(jl.simulate(2000, seed=0))  # doctest: +SKIP
    >>> whatif.controls["keeping_promises"].value = 0.5  # doctest: +SKIP
    >>> whatif.data.set_index("measure").loc["churn_rate", "change"]  # doctest: +SKIP
    """

    notebook = "00_customer_journey_primer.ipynb"
    report_names = ("customers", "seed", "trust")

    def __init__(self, baseline: Simulation, **levels: float) -> None:
        import ipywidgets as w

        unknown = sorted(set(levels) - set(TRUST_DRIVERS))
        if unknown:
            raise JourneyParameterError(
                f"unknown trust driver(s) {unknown}; the drivers are {list(TRUST_DRIVERS)}"
            )
        self.baseline = baseline
        self._holding = False
        controls = {
            name: w.FloatSlider(
                value=levels.get(name, getattr(baseline.params, name)),
                min=0.0,
                max=1.0,
                step=0.05,
                description=name.replace("_", " "),
                continuous_update=False,
                style={"description_width": "initial"},
            )
            for name in TRUST_DRIVERS
        }
        self.reset_button = w.Button(description="reset", tooltip="back to the baseline")
        self.reset_button.on_click(lambda _: self.reset())
        super().__init__(controls)
        self.view.children = (self.view.children[0], self.reset_button, *self.view.children[1:])

    @property
    def params(self) -> dict[str, Any]:
        levels = {name: round(float(c.value), _DECIMALS) for name, c in self.controls.items()}
        changed = {
            name: level
            for name, level in levels.items()
            if level != round(getattr(self.baseline.params, name), _DECIMALS)
        }
        return {
            "customers": len(self.baseline.customers),
            "seed": int(self.baseline.seed),
            "trust": changed,
        }

    def reset(self) -> None:
        """Every slider back to the baseline's level, with one re-simulation, not eight."""
        self._holding = True
        try:
            for name, control in self.controls.items():
                control.value = getattr(self.baseline.params, name)
        finally:
            self._holding = False
        self.refresh()

    def compute(self, params: dict[str, Any]) -> pd.DataFrame:
        return what_if(self.baseline, **params["trust"])

    def draw(self, data: pd.DataFrame, params: dict[str, Any]) -> Figure:
        return plots.what_if(data)

    def caption(self, data: pd.DataFrame, params: dict[str, Any]) -> str:
        rows = data.set_index("measure")
        churn = rows.loc["churn_rate"]
        verdict = (
            "within what chance alone could do"
            if abs(churn["change"]) <= churn["margin"]
            else "more than chance alone would do"
        )
        return (
            f"{params['customers']:,} customers reached (seed {params['seed']}); churn among "
            f"buyers {churn['baseline']:.1%} -> {churn['scenario']:.1%}, {verdict} "
            f"(margin ±{churn['margin']:.1%})"
        )

    def _changed(self, change: dict[str, Any]) -> None:
        if not self._holding:
            self.refresh()
