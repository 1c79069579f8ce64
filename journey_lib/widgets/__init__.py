"""Widgets for notebooks: each a thin view of one journey_lib function (DESIGN principle 6).

Every widget exposes ``.controls`` (its settings, by name), ``.data`` (the DataFrame it
shows, the function's answer for the current settings), ``.params`` (the settings as the
notebooks take them) and ``.to_report_params(path)`` (a YAML file for ``journey report
--params``). Displayed, it shows the live ipywidgets view; executed without a front end or
exported to HTML, a PNG of its current figure.

The widgets: :class:`FunnelBuilder` (:func:`journey_lib.funnel`), :class:`CohortExplorer`
(:func:`journey_lib.retention`), :class:`CustomerTimeline` (:func:`journey_lib.timeline`),
:class:`JourneyMap` (:func:`journey_lib.path_flows`: a journey map; click a node to start
the map there, point at one for its customers), :class:`TargetingWhatIf` and
:class:`TrustWhatIf`.

Examples
--------
>>> from journey_lib import widgets
>>> widgets.FunnelBuilder(events, ["ad_view", "site_visit", "purchase"])  # doctest: +SKIP
"""

from .base import JourneyWidget
from .cohort import CohortExplorer
from .funnel import FunnelBuilder
from .journey_map import JourneyMap
from .targeting import TargetingWhatIf
from .timeline import CustomerTimeline
from .trust import TrustWhatIf

__all__ = [
    "CohortExplorer",
    "CustomerTimeline",
    "FunnelBuilder",
    "JourneyMap",
    "JourneyWidget",
    "TargetingWhatIf",
    "TrustWhatIf",
]
