"""Staff roster actions, including 注册计量师 registrations."""
from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from typing import Any

from flask import current_app

from registry.auth.policy import ensure_can_write, ensure_own_institution
from registry.records.codes import normalize_id_number
from registry.records.dates import add_months
from registry.errors import ValidationError
from registry.extensions import db
from registry.records.fields import Cleaner, References, a_date, boolean, choice, date_order, optional_text, required_text
from registry.institutions.services import institution_id
from registry.personnel.models import REGISTRATION_LEVELS, Person
from registry.records.services import apply_changes, audited_create, audited_update, ensure_unique

FIELDS = ("name", "institution_id", "employed_from", "employed_until", "id_number_hash", "id_number_mask",
          "registration_no", "registration_level", "registration_items", "registered_on",
          "registration_valid_until", "is_demo")
REQUIRED = ("name", "institution_id")
REGISTRATION_FIELDS = ("registration_level", "registered_on")


def hash_id_number(id_number: str) -> str:
    """Keyed hash for matching: the number itself is never stored."""
    key = (current_app.config.get("ID_NUMBER_HASH_KEY") or current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, id_number.encode(), hashlib.sha256).hexdigest()


def mask_id_number(id_number: str) -> str:
    return id_number[:2] + "*" * 14 + id_number[-2:]


def clean_person(data: dict[str, Any], *, partial: bool = False, current: Person | None = None,
                 refs: References | None = None) -> dict[str, Any]:
    """Validate a roster entry; ``refs`` resolves the institution (:class:`registry.records.fields.References`)."""
    c = Cleaner(data, required=REQUIRED, partial=partial)
    c.field("name", required_text(100))
    c.field("institution_id", refs.institution_id if refs else institution_id)
    c.field("employed_from", a_date(optional=True))
    c.field("employed_until", a_date(optional=True))
    c.field("id_number", lambda v: None if v in (None, "") else normalize_id_number(v))
    c.field("registration_no", optional_text(50))
    c.field("registration_level", choice(REGISTRATION_LEVELS, optional=True))
    c.field("registration_items", _items)
    c.field("registered_on", a_date(optional=True))
    c.field("registration_valid_until", a_date(optional=True))
    c.field("is_demo", boolean)
    date_order(c, "employed_from", "employed_until", current)
    date_order(c, "registered_on", "registration_valid_until", current)

    if "id_number" in c.out:
        number = c.out.pop("id_number")
        c.out["id_number_hash"] = hash_id_number(number) if number else None
        c.out["id_number_mask"] = mask_id_number(number) if number else None

    registration_no = c.out.get("registration_no", getattr(current, "registration_no", None))
    if registration_no:
        for name in REGISTRATION_FIELDS:
            if c.out.get(name, getattr(current, name, None)) is None and name not in c.errors:
                c.error(name, "有注册证号时必填 / required with a registration number")
        registered_on = c.out.get("registered_on")
        if registered_on and c.out.get("registration_valid_until") is None and (
                current is None or current.registration_valid_until is None):
            years = current_app.config["REGISTRATION_VALIDITY_YEARS"]
            c.out["registration_valid_until"] = add_months(registered_on, 12 * years) - timedelta(days=1)
    return c.result("人员 person")


def add_person(data: dict[str, Any], *, actor: Any) -> Person:
    ensure_can_write(actor, Person)
    values = clean_person(data)
    ensure_own_institution(actor, values["institution_id"])
    if values.get("registration_no"):
        ensure_unique(Person, Person.registration_no, values["registration_no"], field="registration_no",
                      label="注册证号")
    return audited_create(Person(**values), actor=actor)


def update_person(person: Person, data: dict[str, Any], *, actor: Any, expected_version: int | None) -> Person:
    values = clean_person(data, partial=True, current=person)
    if "institution_id" in values:
        ensure_own_institution(actor, values["institution_id"])
    if values.get("registration_no"):
        ensure_unique(Person, Person.registration_no, values["registration_no"], field="registration_no",
                      exclude_id=person.id, label="注册证号")
    return audited_update(person, lambda obj: apply_changes(obj, values, fields=FIELDS),
                          actor=actor, expected_version=expected_version)


def _items(value: Any) -> list[str] | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ValidationError("注册专业应为文本列表 / items must be a list of text")
    items = [v.strip() for v in value if v.strip()]
    return items or None
