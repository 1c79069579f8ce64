"""Getting data in: reading files and frames (:mod:`.read`) and working out what a log's
columns and events mean (:mod:`.profile`).
"""

from .read import load_events, read_events, read_table, write_table

__all__ = ["load_events", "read_events", "read_table", "write_table"]
