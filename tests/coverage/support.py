"""Helpers for the coverage tests."""
from __future__ import annotations

from datetime import date, timedelta

AS_OF = date(2025, 6, 30)
DAY = timedelta(days=1)


def indicator(report, key: str) -> dict:
    """Return the indicator ``key`` from a report (object or dict)."""
    data = report if isinstance(report, dict) else report.to_dict()
    matches = [item for item in data["indicators"] if item["key"] == key]
    assert len(matches) == 1, f"{key} appears {len(matches)} times"
    return matches[0]
