"""Working days for the applications' deadlines: Monday to Friday, less holidays, plus make-up working days.

China's official calendar (国务院办公厅 each year's 部分节假日安排) moves days: holidays
on weekdays, and weekend days that are worked instead (调休).  The registry
ships no dates: the operator supplies them, as settings
(``APPLICATION_HOLIDAYS``, ``APPLICATION_WORKDAYS``: comma-separated ISO
dates) and/or a file (``APPLICATION_CALENDAR_FILE``), one day a line::

    # 2027 (from the State Council's notice)
    2027-01-01 holiday
    2027-02-07 workday   # a Sunday worked for the Spring Festival

Everything is checked when the application starts (:func:`init_app`): a
malformed line, a weekday called a workday, or a day that is both stops it
with a message naming the setting or the file and line.  The file is read
again only when the settings change (a restart picks up an edited file).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

KINDS = {"holiday": "holiday", "workday": "workday", "休": "holiday", "班": "workday"}


class CalendarError(RuntimeError):
    """The working-day calendar in the settings or its file cannot be used (raised at start-up)."""


@dataclass(frozen=True)
class Calendar:
    """Weekdays off (``holidays``) and weekend days worked (``workdays``)."""

    holidays: frozenset[date]
    workdays: frozenset[date]

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def add_working_days(self, start: date, days: int) -> date:
        """``start`` plus ``days`` working days (``start`` itself not counted)."""
        day, left = start, days
        while left > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                left -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 when ``end`` is not later)."""
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count


def _iso(text: str, where: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise CalendarError(f"{where}: {text.strip()!r} is not a date (YYYY-MM-DD)") from None


def parse_file(path: str | Path) -> list[tuple[date, str, str]]:
    """The file's days as ``(day, "holiday" | "workday", where)``; comments (``#``) and blank lines skipped."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise CalendarError(f"APPLICATION_CALENDAR_FILE {str(path)!r} cannot be read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise CalendarError(f"APPLICATION_CALENDAR_FILE {str(path)!r} is not UTF-8 text") from None
    days = []
    for number, line in enumerate(text.splitlines(), start=1):
        content = line.split("#", 1)[0].strip()
        if not content:
            continue
        where = f"{path}, line {number}"
        parts = content.split()
        if len(parts) != 2 or parts[1].lower() not in KINDS and parts[1] not in KINDS:
            raise CalendarError(f"{where}: expected 'YYYY-MM-DD holiday' or 'YYYY-MM-DD workday', got {content!r}")
        days.append((_iso(parts[0], where), KINDS.get(parts[1].lower(), KINDS.get(parts[1])), where))
    return days


def build(holidays: Iterable[str], workdays: Iterable[str], path: str | None) -> Calendar:
    """The calendar of the settings and the file, checked."""
    days: list[tuple[date, str, str]] = []
    days += [(_iso(text, "APPLICATION_HOLIDAYS"), "holiday", "APPLICATION_HOLIDAYS") for text in holidays or ()]
    days += [(_iso(text, "APPLICATION_WORKDAYS"), "workday", "APPLICATION_WORKDAYS") for text in workdays or ()]
    if path:
        days += parse_file(path)
    seen: dict[date, tuple[str, str]] = {}
    for day, kind, where in days:
        if kind == "workday" and day.weekday() < 5:
            raise CalendarError(f"{where}: {day.isoformat()} is a {day:%A}, already a working day; a workday "
                                "entry is for a Saturday or Sunday worked instead of a holiday (调休)")
        other = seen.get(day)
        if other is not None and other[0] != kind:
            raise CalendarError(f"{where}: {day.isoformat()} is a {kind} here but a {other[0]} in {other[1]}")
        seen[day] = (kind, where)
    return Calendar(frozenset(d for d, (k, _) in seen.items() if k == "holiday"),
                    frozenset(d for d, (k, _) in seen.items() if k == "workday"))


_built: dict[tuple, Calendar] = {}


def _key(config: Any) -> tuple:
    return (tuple(config.get("APPLICATION_HOLIDAYS") or ()), tuple(config.get("APPLICATION_WORKDAYS") or ()),
            config.get("APPLICATION_CALENDAR_FILE") or None)


def calendar(config: Any = None) -> Calendar:
    """The calendar of ``config`` (the current app's by default), built once for each value of the settings."""
    if config is None:
        from flask import current_app

        config = current_app.config
    key = _key(config)
    found = _built.get(key)
    if found is None:
        found = _built[key] = build(*key)
    return found


def init_app(app: Any) -> None:
    """Check the calendar now, so a wrong setting or file stops the start, not a deadline later."""
    calendar(app.config)
