"""Widgets for notebooks: each a thin view of one journey_lib function (DESIGN principle 6).

Every widget exposes ``.controls`` (its settings, by name), ``.data`` (the DataFrame it
shows, the function's answer for the current settings), ``.params`` (the settings as the
notebooks take them) and ``.to_report_params(path)`` (a YAML file for ``journey report
--params``). Displayed, it shows the live ipywidgets view; executed without a front end or
exported to HTML, a PNG of its current figure.

Examples
--------
>>> from journey_lib import widgets
>>> widgets.FunnelBuilder(events, ["ad_view", "site_visit", "purchase"])  # doctest: +SKIP
"""

from .base import JourneyWidget
from .cohort import CohortExplorer
from .funnel import FunnelBuilder
from .targeting import TargetingWhatIf
from .timeline import CustomerTimeline
from .trust import TrustWhatIf

__all__ = [
    "CohortExplorer",
    "CustomerTimeline",
    "FunnelBuilder",
    "JourneyWidget",
    "TargetingWhatIf",
    "TrustWhatIf",
]
