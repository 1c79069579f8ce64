"""The machinery every widget shares: settings -> ``.data`` -> figure, and the fallbacks.

A widget is a thin layer over one journey_lib function (its data twin) and one
:mod:`journey_lib.plots` figure. Each change of a control recomputes ``.data`` with the
function and redraws the figure into an :class:`ipywidgets.Output`, as a PNG, so the same
picture serves the live view and the static fallback: the widget's mime bundle holds the
ipywidgets view *and* ``image/png`` and ``text/plain`` of the current state, so a notebook
executed without a front end (papermill) or exported to HTML (nbconvert, which skips widget
views whose state was not saved) still shows the figure.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import pandas as pd

from ..errors import JourneyDataError, JourneyError

if TYPE_CHECKING:
    import ipywidgets
    from matplotlib.figure import Figure

__all__ = ["JourneyWidget", "picker_date"]

#: Resolution of the drawn figures: readable, and small enough to redraw quickly.
DPI = 90


class JourneyWidget:
    """Base class: named controls, a compute step, a figure and the static fallback.

    Subclasses set :attr:`notebook` and :attr:`report_names`, build their controls and call
    ``super().__init__(controls)``, and implement :meth:`compute` (settings to DataFrame)
    and :meth:`draw` (DataFrame to a figure); :meth:`caption` is optional.

    Attributes
    ----------
    controls : dict of str to ipywidgets.ValueWidget
        One control per setting, by setting name; set ``.value`` to change a setting.
    data : pandas.DataFrame
        The table the figure shows (empty when the settings cannot be computed).
    error : str or None
        Why the current settings cannot be shown, or None.
    png : bytes or None
        The current figure as PNG (None on error).
    output : ipywidgets.Output
        Where the figure and caption (or the error message) are drawn.
    view : ipywidgets.VBox
        The controls above the output: what a notebook displays.

    Examples
    --------
    >>> class Volumes(JourneyWidget):  # doctest: +SKIP
    ...     notebook, report_names = "01_touchpoints.ipynb", ()
    ...     def __init__(self, events):
    ...         self.events = events
    ...         super().__init__({"by": ipywidgets.Dropdown(options=["stage", "channel"])})
    ...     def compute(self, params):
    ...         return jl.volumes(self.events, by=params["by"])
    ...     def draw(self, data, params):
    ...         return jl.plots.volumes(data)
    """

    #: The notebook whose parameters :meth:`to_report_params` writes (a file name).
    notebook: ClassVar[str] = ""
    #: The settings that notebook declares as parameters: only these are written.
    report_names: ClassVar[tuple[str, ...]] = ()

    def __init__(self, controls: dict[str, ipywidgets.ValueWidget]) -> None:
        import ipywidgets as w

        self.controls = controls
        self.data = pd.DataFrame()
        self.error: str | None = None
        self.png: bytes | None = None
        self.output = w.Output()
        bar = w.HBox(list(controls.values()), layout=w.Layout(flex_flow="row wrap"))
        self.view = w.VBox([bar, self.output])
        for control in controls.values():
            control.observe(self._changed, names="value")
        self.refresh()

    # -- what subclasses provide ------------------------------------------------------------

    def compute(self, params: dict[str, Any]) -> pd.DataFrame:
        """The data twin: the table for these settings."""
        raise NotImplementedError

    def draw(self, data: pd.DataFrame, params: dict[str, Any]) -> Figure:
        """The figure of ``data`` (a :mod:`journey_lib.plots` function's Figure)."""
        raise NotImplementedError

    def caption(self, data: pd.DataFrame, params: dict[str, Any]) -> str:
        """A line or two of text under the figure (plain text)."""
        return ""

    def is_empty(self, data: pd.DataFrame) -> bool:
        """Whether ``data`` has nothing to draw (shown as a message instead)."""
        return len(data) == 0

    # -- shared behaviour -------------------------------------------------------------------

    @property
    def params(self) -> dict[str, Any]:
        """The current settings, as the notebooks take them: dates as ``YYYY-MM-DD`` text,
        an unset date or choice as ``""``, sequences as lists."""
        return {name: _plain(control.value) for name, control in self.controls.items()}

    def refresh(self) -> None:
        """Recompute :attr:`data` from the controls and redraw; errors become a message (a
        table that cannot be drawn stays in :attr:`data`, with the message and no picture)."""
        params = self.params
        try:
            data = self.compute(params)
            if self.is_empty(data):
                raise JourneyDataError("nothing to show: no customers match these settings")
        except (JourneyError, ValueError) as exc:
            self.data, self.png, self.error = pd.DataFrame(), None, str(exc)
        else:
            # A table that cannot be drawn is still the answer: .data keeps it.
            try:
                png = _png(self.draw(data, params))
            except (JourneyError, ValueError) as exc:
                self.data, self.png, self.error = data, None, str(exc)
            else:
                self.data, self.png, self.error = data, png, None
        self.output.outputs = tuple(self._outputs(params))

    def to_report_params(self, path: str | os.PathLike[str]) -> Path:
        """Write the settings the notebook declares as a YAML file for ``journey report
        --params``; settings the notebook does not take are left out.

        Examples
        --------
        >>> widget.to_report_params("funnel.yaml")  # doctest: +SKIP
        PosixPath('funnel.yaml')
        """
        import yaml

        chosen = self.report_params()
        path = Path(path)
        header = f"# journey report --params {path.name}  (settings for {self.notebook})\n"
        path.write_text(header + yaml.safe_dump(chosen, sort_keys=False), encoding="utf-8")
        return path

    def report_params(self) -> dict[str, Any]:
        """The settings :meth:`to_report_params` writes: those named in :attr:`report_names`.

        Raises
        ------
        JourneyParameterError
            A setting the notebook cannot take (subclasses check their own).
        """
        params = self.params
        return {name: params[name] for name in self.report_names if name in params}

    def text(self) -> str:
        """The current state in words: settings, then the caption or the error."""
        settings = ", ".join(f"{name}={value!r}" for name, value in self.params.items())
        state = f"error: {self.error}" if self.error else self.caption(self.data, self.params)
        return f"{type(self).__name__}({settings})" + (f"\n{state}" if state else "")

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None, **kwargs: Any
    ) -> dict[str, Any]:
        """The ipywidgets view, with a PNG of the current figure and text as fallbacks."""
        bundle = dict(self.view._repr_mimebundle_(include=include, exclude=exclude) or {})
        bundle["text/plain"] = self.text()
        if self.png is not None:
            bundle["image/png"] = base64.b64encode(self.png).decode("ascii")
        return bundle

    def __repr__(self) -> str:
        return self.text()

    def _changed(self, change: dict[str, Any]) -> None:
        self.refresh()

    def _outputs(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.error is not None:
            message = f"Cannot show these settings: {self.error}"
            return [_display({"text/plain": message, "text/html": _warning(message)})]
        outputs = [
            _display(
                {
                    "image/png": base64.b64encode(self.png or b"").decode("ascii"),
                    "text/plain": f"<{type(self).__name__} figure>",
                }
            )
        ]
        caption = self.caption(self.data, params)
        if caption:
            outputs.append(_display({"text/plain": caption}))
        return outputs


def picker_date(value: str | dt.date | None) -> dt.date | None:
    """A setting's date (``"YYYY-MM-DD"``, a date, or ``""``/None for an open end) as a
    DatePicker holds it."""
    if value is None or value == "":
        return None
    return pd.Timestamp(value).date()


def _plain(value: Any) -> Any:
    """A control's value as a notebook parameter."""
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    return value


def _png(figure: Figure) -> bytes:
    """The figure as PNG bytes; the figure is closed so notebooks do not show it twice."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    try:
        figure.savefig(buffer, format="png", dpi=DPI)
    finally:
        plt.close(figure)
    return buffer.getvalue()


def _display(data: dict[str, Any]) -> dict[str, Any]:
    return {"output_type": "display_data", "data": data, "metadata": {}}


def _warning(message: str) -> str:
    return f'<p style="color:#a00;font-weight:bold">{html.escape(message)}</p>'
