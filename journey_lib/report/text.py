"""The UTC time that run folders, manifests and notebook runs record, and its ISO 8601 text;
values shortened to one line for messages.
"""

from __future__ import annotations

import datetime as dt


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _shorten(text: str, width: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 3] + "..."
