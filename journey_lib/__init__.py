"""journey-lab: customer-journey analytics and analytical CRM.

Everything a notebook needs is importable from here::

    import journey_lib as jl
    sim = jl.simulate(2000, seed=0)
    events = jl.load_events("data/sample/events.csv.gz")
"""

from importlib.metadata import PackageNotFoundError, version

from .adapters import from_customer_table, from_transactions, validate_customers
from .errors import JourneyDataError, JourneyDataWarning, JourneyError, JourneyParameterError
from .io import load_events, read_events, read_table, write_table
from .schema import CANONICAL_COLUMNS, REQUIRED_COLUMNS, ValidationReport, validate_events
from .simulate import GroundTruth, Simulation, SimulationParameters, simulate
from .stages import FRAMEWORKS, StageFramework, assign_stages, get_framework

try:
    __version__ = version("journey-lab")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "CANONICAL_COLUMNS",
    "FRAMEWORKS",
    "REQUIRED_COLUMNS",
    "GroundTruth",
    "JourneyDataError",
    "JourneyDataWarning",
    "JourneyError",
    "JourneyParameterError",
    "Simulation",
    "SimulationParameters",
    "StageFramework",
    "ValidationReport",
    "__version__",
    "assign_stages",
    "from_customer_table",
    "from_transactions",
    "get_framework",
    "load_events",
    "read_events",
    "read_table",
    "simulate",
    "validate_customers",
    "validate_events",
    "write_table",
]
