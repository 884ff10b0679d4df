"""Calendar arithmetic without extra dependencies."""
from __future__ import annotations

import calendar
from datetime import date


def add_months(day: date, months: int) -> date:
    """``day`` plus whole months, clamped to the last day of the target month."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def month_end(day: date) -> date:
    return date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])


def month_ends_after(day: date, count: int) -> list[date]:
    """Return the first ``count`` month-ends strictly after ``day``."""
    first = month_end(day)
    skip = 0 if first > day else 1
    start = day.replace(day=1)
    return [month_end(add_months(start, k)) for k in range(skip, skip + count)]
