"""Calendar arithmetic without extra dependencies, and the range of dates the registry accepts."""
from __future__ import annotations

import calendar
from datetime import date

from registry.errors import ValidationError

# Every date the registry takes in (a record's dates, an as-of date) lies in this range: wide enough for any
# certificate or plan, and far enough from the calendar's ends (years 1 and 9999) that adding any horizon a
# report looks ahead (at most 50 years) or a certificate's validity to it is still a date.
EARLIEST = date(1900, 1, 1)
LATEST = date(2999, 12, 31)
RANGE_MESSAGE = (f"日期应在 {EARLIEST.isoformat()} 至 {LATEST.isoformat()} 之间 / "
                 f"the date must be between {EARLIEST.isoformat()} and {LATEST.isoformat()}")


class DateOutOfRange(ValidationError, ValueError):
    """Month arithmetic that would leave the calendar (before year 1 or after year 9999).

    Input is kept within :data:`EARLIEST`..:data:`LATEST`, so this should not happen; if it does, every
    door answers it as invalid input (422, a message), never as a crash.
    """


def within_range(day: date) -> bool:
    return EARLIEST <= day <= LATEST


def add_months(day: date, months: int) -> date:
    """``day`` plus whole months, clamped to the last day of the target month.

    Raises :class:`DateOutOfRange` rather than run past ``date.min`` or ``date.max``.
    """
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    if not date.min.year <= year <= date.max.year:
        raise DateOutOfRange(f"{day.isoformat()} {months:+d} 个月超出日历范围 / "
                             f"{day.isoformat()} {months:+d} months is beyond the calendar")
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def month_end(day: date) -> date:
    return date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])


def month_ends_after(day: date, count: int) -> list[date]:
    """Return the first ``count`` month-ends strictly after ``day``."""
    first = month_end(day)
    skip = 0 if first > day else 1
    start = day.replace(day=1)
    return [month_end(add_months(start, k)) for k in range(skip, skip + count)]
