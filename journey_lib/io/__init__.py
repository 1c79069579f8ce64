"""Getting data in: reading files and frames (:mod:`.read`), checking a touchpoint log
(:mod:`.validate`, with the shared parsers of :mod:`.parse`), turning transaction tables,
customer tables and process logs into one (:mod:`.adapters`), and working out what a log's
columns and events mean (:mod:`.profile`, inferring with :mod:`.columns` and
:mod:`.event_roles` by the word rules of :mod:`.rules`).
"""

from .read import load_events, read_events, read_table, write_table

__all__ = ["load_events", "read_events", "read_table", "write_table"]
