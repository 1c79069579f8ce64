"""Monitoring the journey across periods: what changed, where and since when.

:mod:`~journey_lib.monitor.series` builds the per-period series, :mod:`~journey_lib.monitor.
baseline` fits what each would be without a change, :mod:`~journey_lib.monitor.scan` scores
every window against it under one false-alarm budget, :mod:`~journey_lib.monitor.recent`
judges the latest quarter's windows against a forecast, :mod:`~journey_lib.monitor.span`
moves a change found to where it lies, :mod:`~journey_lib.monitor.breakdown` splits a change
over segments and :mod:`~journey_lib.monitor.detect` puts them together.
"""

from .detect import Changes, changes, find_changes
from .series import monitor_series

__all__ = ["Changes", "changes", "find_changes", "monitor_series"]
