"""Field cleaners shared by every record service.

Each cleaner takes a raw value (from a form, JSON or a spreadsheet cell
already converted to Python) and returns the stored value or raises
:class:`ValidationError` with a bilingual message.  :class:`Cleaner` runs them
over a dict and reports every field error at once.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Callable, Iterable, Protocol

from registry.records.dates import EARLIEST, LATEST, RANGE_MESSAGE, within_range
from registry.errors import ValidationError


class References(Protocol):
    """How a clean function resolves references to other records.

    By default (``refs=None``) a reference is an id checked with a query, the
    way the API sends it.  The importer passes what people type in a workbook
    (credit codes, regulation codes, catalog line names) and resolves it
    against maps loaded once per workbook.  Each method returns the stored
    value or raises :class:`ValidationError` naming the value.
    """

    def region_code(self, value: Any) -> str: ...

    def institution_id(self, value: Any) -> Any: ...

    def discipline_code(self, value: Any) -> str | None: ...

    def discipline_exists(self, code: str) -> bool: ...

    def catalog_lines(self, value: Any) -> list: ...

    def regulations(self, value: Any) -> list: ...


class Cleaner:
    """Collect cleaned values and field errors for one record."""

    def __init__(self, data: dict[str, Any], *, required: Iterable[str] = (), partial: bool = False):
        self.data = data
        # A frozenset is kept as given (services pass one built once; imports clean many records).
        self.required = required if required.__class__ is frozenset else set(required)
        self.partial = partial
        self.out: dict[str, Any] = {}
        self.errors: dict[str, list[str]] = {}

    def field(self, name: str, fn: Callable[[Any], Any]) -> None:
        if name not in self.data:
            if not self.partial and name in self.required:
                self.errors[name] = ["必填 / required"]
            return
        try:
            self.out[name] = fn(self.data[name])
        except ValidationError as exc:
            self.errors[name] = [exc.message]

    def fields(self, cleaners: Iterable[tuple[str, Callable[[Any], Any]]]) -> None:
        """:meth:`field` for each ``(name, fn)`` in turn (one call for a whole record: imports clean many)."""
        data, out, errors = self.data, self.out, self.errors
        for name, fn in cleaners:
            if name not in data:
                if not self.partial and name in self.required:
                    errors[name] = ["必填 / required"]
                continue
            try:
                out[name] = fn(data[name])
            except ValidationError as exc:
                errors[name] = [exc.message]

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def result(self, what: str) -> dict[str, Any]:
        if self.errors:
            # ``what`` is "中文 English" ("计量标准 standard"): each side of the message takes its own half.
            zh, _, en = what.partition(" ")
            raise ValidationError(f"{zh}有误 / invalid {en or zh}", errors=self.errors)
        return self.out


def required_text(length: int) -> Callable[[Any], str]:
    def clean(value: Any) -> str:
        text = str(value).strip() if value is not None else ""
        if not text:
            raise ValidationError("必填 / required")
        if len(text) > length:
            raise ValidationError(f"不超过{length}字 / at most {length} characters")
        return text

    return clean


def optional_text(length: int) -> Callable[[Any], str | None]:
    def clean(value: Any) -> str | None:
        text = str(value).strip() if value is not None else ""
        if len(text) > length:
            raise ValidationError(f"不超过{length}字 / at most {length} characters")
        return text or None

    return clean


def choice(choices: tuple[str, ...], *, optional: bool = False) -> Callable[[Any], str | None]:
    def clean(value: Any) -> str | None:
        if optional and value in (None, ""):
            return None
        if value not in choices:
            raise ValidationError(f"取值应为 {' / '.join(choices)} / must be one of {', '.join(choices)}")
        return value

    return clean


def a_date(*, optional: bool = False) -> Callable[[Any], date | None]:
    """A date (ISO text, a date or a datetime) within the registry's range (:data:`registry.records.dates.EARLIEST`
    to :data:`~registry.records.dates.LATEST`), so nothing computed from it leaves the calendar."""
    def clean(value: Any) -> date | None:
        if value.__class__ is date:  # the common case (a spreadsheet's date cell), checked first
            if EARLIEST <= value <= LATEST:
                return value
            raise ValidationError(RANGE_MESSAGE)
        if value in (None, ""):
            if optional:
                return None
            raise ValidationError("必填 / required")
        if isinstance(value, datetime):
            day = value.date()
        elif isinstance(value, date):
            day = value
        else:
            try:
                day = date.fromisoformat(str(value).strip())
            except ValueError:
                raise ValidationError(f"日期无效：{value} / not a date (YYYY-MM-DD): {value!r}") from None
        if not within_range(day):
            raise ValidationError(RANGE_MESSAGE)
        return day

    return clean


def boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise ValidationError("应为是或否 / must be true or false")


def number(*, optional: bool = True, minimum: float | None = None) -> Callable[[Any], float | None]:
    def clean(value: Any) -> float | None:
        if value in (None, ""):
            if optional:
                return None
            raise ValidationError("必填 / required")
        try:
            result = float(value)
        except (TypeError, ValueError):
            raise ValidationError(f"应为数字 / must be a number: {value!r}") from None
        if minimum is not None and result < minimum:
            raise ValidationError(f"不小于{minimum} / at least {minimum}")
        return result

    return clean


def date_order(cleaner: Cleaner, earlier: str, later: str, current: Any = None) -> None:
    """Add an error when ``later`` comes before ``earlier`` (using stored values for a partial edit)."""
    first = cleaner.out.get(earlier, getattr(current, earlier, None) if current is not None else None)
    second = cleaner.out.get(later, getattr(current, later, None) if current is not None else None)
    if first and second and second < first:
        cleaner.error(later, f"不能早于 {earlier}（{first}）/ cannot be before {earlier} ({first})")
