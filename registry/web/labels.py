"""What the standards and institutions pages share: list arguments, labels, form data.

The lists parse their query string with the API's own ``*QueryArgs`` schema
and call the same ``*_query`` function, so a filter means the same thing on
a page, in the API and in an export.
"""
from __future__ import annotations

from datetime import date
from typing import Any, Iterable

from registry.i18n import is_english
from registry.standards.validity import VALIDITY_LABELS, VALIDITY_TAGS
from registry.standards.validity import validity as standard_validity

def label(pair: tuple[str, str] | None, fallback: Any = "—") -> str:
    """One side of a (Chinese, English) label pair, in the page's language."""
    if not pair:
        return fallback
    return pair[1] if is_english() else pair[0]


def label_choices(labels: dict[str, tuple[str, str]], *, blank: str | None = None) -> list[tuple[str, str]]:
    """Select options from a ``{value: (zh, en)}`` map, optionally after a blank one."""
    options = [(value, label(pair)) for value, pair in labels.items()]
    return ([("", blank)] if blank is not None else []) + options


def validity(standard: Any, today: date | None = None) -> str:
    """The validity shown for a standard on ``today`` (:func:`registry.standards.validity.validity`)."""
    return standard_validity(standard, today or date.today())


def validity_label(state: str) -> str:
    return label(VALIDITY_LABELS[state])


def split_codes(text: str | None) -> list[str]:
    """Codes typed one a line or separated by commas or semicolons (either width)."""
    out: list[str] = []
    for part in (text or "").replace("，", ",").replace("；", ",").replace(";", ",").replace("\n", ",").split(","):
        part = part.strip()
        if part and part not in out:
            out.append(part)
    return out


def changed_values(obj: Any, values: dict[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """The submitted values that differ from the record: an edit sends only what the user changed."""
    return {name: values[name] for name in names if name in values and getattr(obj, name) != values[name]}


def form_version(form: Any) -> int:
    """The record version a form was read at; a form without one (tampered) is refused as stale."""
    try:
        return int(form.version.data)
    except (TypeError, ValueError):
        return -1


def template_helpers() -> dict[str, Any]:
    return {"label": label, "validity": validity, "validity_label": validity_label, "validity_tags": VALIDITY_TAGS}


