"""journey-lab: customer-journey analytics and analytical CRM.

Everything a notebook needs is importable from here::

    import journey_lib as jl
    sim = jl.simulate(2000, seed=0)
    events = jl.load_events("data/sample/events.csv.gz")
"""

from importlib.metadata import PackageNotFoundError, version

# analytics and io are reachable as jl.analytics and jl.io but stay out of __all__ (the
# redundant alias marks the re-export), so `from journey_lib import *` keeps the standard io.
from . import analytics as analytics
from . import attribution, churn, clv, plots, report, survival, teach, uplift
from . import io as io
from .analytics.activity import churn_rate, lifecycle
from .analytics.compare import compare_segments, segment_scorecard
from .analytics.dates import within
from .analytics.flows import compare_flows, flow_nodes, funnel_dropoff_paths, path_flows
from .analytics.funnels import Step, funnel, funnel_trend, time_to_convert
from .analytics.loyalty import Loyalty, loyalty
from .analytics.paths import as_matrix, paths, sessionize, transition_matrix
from .analytics.progression import stage_funnel, stage_times
from .analytics.retention import retention, retention_curve, retention_matrix
from .analytics.rfm import calibration_holdout, rfm, rfm_segments
from .analytics.segments import Segments, customer_segments
from .analytics.stage_moves import stage_flows
from .analytics.stages import FRAMEWORKS, StageFramework, assign_stages, get_framework
from .analytics.touchpoints import timeline, touchpoints_per_customer, volumes
from .attribution import attribute, attribute_stages
from .attribution import compare as compare_attribution
from .churn.drivers import Drivers, drivers
from .errors import (
    JourneyDataError,
    JourneyDataWarning,
    JourneyError,
    JourneyNotFittedError,
    JourneyParameterError,
)
from .io import load_events, read_events, read_table, write_table
from .io.adapters import from_customer_table, from_transactions, validate_customers
from .io.profile import LogProfile, profile
from .io.validate import CANONICAL_COLUMNS, REQUIRED_COLUMNS, ValidationReport, validate_events
from .monitor import Changes, changes, find_changes, monitor_series
from .scenarios import outcomes, what_if
from .simulator import (
    Campaign,
    GroundTruth,
    Incident,
    Simulation,
    SimulationParameters,
    example_incidents,
    simulate,
)

try:
    __version__ = version("journey-lab")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "CANONICAL_COLUMNS",
    "FRAMEWORKS",
    "REQUIRED_COLUMNS",
    "Campaign",
    "Changes",
    "Drivers",
    "GroundTruth",
    "Incident",
    "JourneyDataError",
    "JourneyDataWarning",
    "JourneyError",
    "JourneyNotFittedError",
    "JourneyParameterError",
    "LogProfile",
    "Loyalty",
    "Segments",
    "Simulation",
    "SimulationParameters",
    "StageFramework",
    "Step",
    "ValidationReport",
    "__version__",
    "as_matrix",
    "assign_stages",
    "attribute",
    "attribute_stages",
    "attribution",
    "calibration_holdout",
    "changes",
    "churn",
    "churn_rate",
    "clv",
    "compare_attribution",
    "compare_flows",
    "compare_segments",
    "customer_segments",
    "drivers",
    "example_incidents",
    "find_changes",
    "flow_nodes",
    "from_customer_table",
    "from_transactions",
    "funnel",
    "funnel_dropoff_paths",
    "funnel_trend",
    "get_framework",
    "lifecycle",
    "load_events",
    "loyalty",
    "monitor_series",
    "outcomes",
    "path_flows",
    "paths",
    "plots",
    "profile",
    "read_events",
    "read_table",
    "report",
    "retention",
    "retention_curve",
    "retention_matrix",
    "rfm",
    "rfm_segments",
    "segment_scorecard",
    "sessionize",
    "simulate",
    "stage_flows",
    "stage_funnel",
    "stage_times",
    "survival",
    "teach",
    "time_to_convert",
    "timeline",
    "touchpoints_per_customer",
    "transition_matrix",
    "uplift",
    "validate_customers",
    "validate_events",
    "volumes",
    "what_if",
    "within",
    "write_table",
]
