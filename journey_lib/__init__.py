"""journey-lab: customer-journey analytics and analytical CRM."""
from .schema import validate_events, ValidationReport
from .simulate import simulate
