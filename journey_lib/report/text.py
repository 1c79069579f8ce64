"""The UTC time that run folders, manifests and notebook runs record, and its ISO 8601 text;
values shortened to one line for messages.
"""

from __future__ import annotations

import datetime as dt


def utcnow() -> dt.datetime:
    """The current time in UTC, timezone-aware (what runs and manifests record)."""
    return dt.datetime.now(dt.UTC)


def iso_time(moment: dt.datetime) -> str:
    """ISO 8601 to the second, UTC written as ``Z``: ``2026-12-05T01:02:03Z``."""
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def shorten(text: str, width: int) -> str:
    """``text`` on one line, cut to ``width`` characters with ``...`` when longer."""
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 3] + "..."
