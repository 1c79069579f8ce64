"""Customer timeline: pick or type a customer; their touchpoints along a line, by stage."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw
import pandas as pd
from narwhals.typing import IntoFrame

from .. import plots
from ..analytics.stages import resolve_framework
from ..analytics.touchpoints import chosen_customers, timeline
from ..errors import JourneyParameterError
from ..io.profile import LogProfile
from .base import JourneyWidget

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..churn.dataset import ChurnFeatures
    from ..churn.model import ChurnModel

__all__ = ["CustomerTimeline"]

#: Most customer ids offered in the search box's list; any id in the log can be typed.
MAX_OPTIONS = 1000


class CustomerTimeline(JourneyWidget):
    """One customer's touchpoints on a time line: :func:`journey_lib.timeline` as a widget.

    Control (``.controls["customer"].value``): the customer id as text, typed or picked from
    a search box offering the log's first :data:`MAX_OPTIONS` ids (any id in the log may be
    typed). The text is read as the log's id type: ``"7"`` is the customer ``7`` when the
    log's ids are whole numbers. ``.data`` is ``timeline(events, [customer],
    framework=...)``, drawn with :func:`journey_lib.plots.timeline`; an id not in the log is
    shown as a message.

    With a ``model`` and its features ``X`` (indexed by ``customer_id``), the churn
    probabilities are computed once, when the widget is made; ``.score`` is the chosen
    customer's (None without a model or for a customer not in ``X``) and the title and
    caption show it with the customer's top three reasons
    (:meth:`~journey_lib.churn.ChurnModel.reasons`, ``.reasons``).

    Notebook ``01_touchpoints`` takes a number of customers (``timelines``), not a chosen
    one, so :meth:`to_report_params` writes no setting (an empty mapping).

    Parameters
    ----------
    events : DataFrame
        A touchpoint log of any engine journey_lib accepts.
    customers : id or list of ids, optional
        The customers offered first; the first is shown. By default the log's first
        customer.
    model : ChurnModel, optional
        A trained churn model, to show the customer's score.
    X : DataFrame, optional
        The model's features, indexed by ``customer_id`` (needed with ``model``).
    framework : str, mapping or StageFramework, optional
        The stage framework, as in :func:`journey_lib.timeline`: the profile's stages, else
        ``"customer_journey"``.
    profile : LogProfile, optional
        A log profile (:func:`journey_lib.profile`), for the stages.

    Examples
    --------
    >>> view = CustomerTimeline(events, [42], model=model, X=X)  # doctest: +SKIP
    >>> view.controls["customer"].value = "7"  # doctest: +SKIP
    >>> view.score, view.data  # doctest: +SKIP
    """

    notebook = "01_touchpoints.ipynb"
    report_names = ()

    def __init__(
        self,
        events: IntoFrame,
        customers: Any = None,
        *,
        model: ChurnModel | None = None,
        X: IntoFrame | ChurnFeatures | None = None,
        framework: Any = None,
        profile: LogProfile | None = None,
    ) -> None:
        import ipywidgets as w

        if (model is None) != (X is None):
            raise JourneyParameterError("model and X go together: pass both or neither")
        self.events = events
        self.framework = resolve_framework(framework, profile)
        # A profile lists the events it leaves without a stage once; no warning per click.
        self.unmapped = "ignore" if profile is not None else "warn"
        self.model, self.X = model, X
        self.probabilities: pd.Series | None = None if model is None else model.predict_proba(X)
        self.score: float | None = None
        self.reasons: pd.DataFrame | None = None
        self.customer: Any = None
        ids, self._kind = _describe_ids(events)
        chosen = chosen_customers(customers) if customers is not None else ids[:1]
        options = list(dict.fromkeys(str(c) for c in [*chosen, *ids]))[:MAX_OPTIONS]
        controls = {
            "customer": w.Combobox(
                value=str(chosen[0]) if chosen else "",
                options=options,
                ensure_option=False,
                placeholder="customer id",
                description="customer",
                continuous_update=False,
            ),
        }
        super().__init__(controls)

    def customer_id(self, text: Any) -> Any:
        """The typed text as a customer id of the log's type (``"7"`` -> ``7`` for whole
        number ids).

        Raises
        ------
        JourneyParameterError
            Empty text, or text that cannot be an id of the log's type.
        """
        if not isinstance(text, str):
            return text
        text = text.strip()
        if not text:
            raise JourneyParameterError("type or pick a customer id")
        try:
            if self._kind == "int":
                return int(text)
            if self._kind == "float":
                return float(text)
        except ValueError:
            kind = "whole numbers" if self._kind == "int" else "numbers"
            raise JourneyParameterError(
                f"{text!r} is not a customer id: the log's customer ids are {kind}"
            ) from None
        return text

    def compute(self, params: dict[str, Any]) -> pd.DataFrame:
        self.customer, self.score, self.reasons = None, None, None
        customer = self.customer_id(params["customer"])
        data = timeline(self.events, [customer], framework=self.framework, unmapped=self.unmapped)
        self.customer = customer
        if self.probabilities is not None and customer in self.probabilities.index:
            self.score = float(self.probabilities.loc[customer])
            assert self.model is not None
            self.reasons = self.model.reasons(self.X.loc[[customer]], top=3)
        return data

    def draw(self, data: pd.DataFrame, params: dict[str, Any]) -> Figure:
        figure = plots.timeline(data, framework=self.framework)
        title = f"Customer {self.customer}: touchpoints by stage"
        if self.score is not None:
            title += f" (churn score {self.score:.1%})"
        figure.axes[0].set_title(title)
        return figure

    def caption(self, data: pd.DataFrame, params: dict[str, Any]) -> str:
        if data.empty:
            return ""
        span = data["days_since_first"].max()
        lines = [
            f"customer {self.customer}: {len(data)} touchpoints over {span:.1f} days, "
            f"from {data['timestamp'].min():%Y-%m-%d} to {data['timestamp'].max():%Y-%m-%d}; "
            f"last stage: {data['stage'].iloc[-1]}"
        ]
        if self.probabilities is None:
            return lines[0]
        if self.score is None:
            lines.append("  churn score: none, the customer is not among the scored customers")
            return "\n".join(lines)
        lines.append(f"  churn score: {self.score:.1%}")
        if self.reasons is not None and len(self.reasons):
            reasons = "; ".join(
                f"{row.feature} (+{row.effect * 100:.1f} pts)"
                for row in self.reasons.itertuples(index=False)
            )
            lines.append(f"  top reasons: {reasons}")
        else:
            lines.append("  top reasons: none raise the score above a typical customer's")
        return "\n".join(lines)


def _describe_ids(events: Any) -> tuple[list[Any], str]:
    """The log's first :data:`MAX_OPTIONS` customer ids in log order and their kind
    ("int", "float" or "str")."""
    frame = nw.from_native(events)
    dtype = frame.collect_schema()["customer_id"]
    kind = "int" if dtype.is_integer() else "float" if dtype.is_float() else "str"
    if isinstance(frame, nw.LazyFrame):  # no row order: a sample of the first rows read
        ids = frame.select("customer_id").head(100 * MAX_OPTIONS).collect()["customer_id"]
    else:
        ids = frame["customer_id"]
    ids = ids.drop_nulls().unique(maintain_order=True).head(MAX_OPTIONS)
    return ids.to_list(), kind
