"""Regulation and specification actions."""
from __future__ import annotations

from typing import Any

from registry.auth.policy import ensure_can_write
from registry.records.codes import parse_regulation_code, format_regulation_code
from registry.records.fields import Cleaner, a_date, boolean, choice, date_order, required_text
from registry.regulations.models import REGULATION_KINDS, REGULATION_STATUSES, Regulation
from registry.records.services import apply_changes, audited_create, audited_update, ensure_unique

FIELDS = ("code", "series", "province", "number", "year", "title", "kind", "level", "status",
          "published_on", "implemented_on", "abolished_on", "is_urgent", "is_carbon", "is_demo")
REQUIRED = ("code", "title")
DEFAULT_KIND = {"JJG": "verification_regulation", "JJF": "calibration_specification"}


def clean_regulation(data: dict[str, Any], *, partial: bool = False,
                     current: Regulation | None = None) -> dict[str, Any]:
    """Normalise the code (any spelling) and derive series, province and level from it."""
    c = Cleaner(data, required=REQUIRED, partial=partial)
    c.field("code", parse_regulation_code)
    c.field("title", required_text(300))
    c.field("kind", choice(REGULATION_KINDS))
    c.field("status", choice(REGULATION_STATUSES))
    c.field("published_on", a_date(optional=True))
    c.field("implemented_on", a_date(optional=True))
    c.field("abolished_on", a_date(optional=True))
    c.field("is_urgent", boolean)
    c.field("is_carbon", boolean)
    c.field("is_demo", boolean)
    if "level" in data and data["level"] not in ("national", "local"):
        c.error("level", "取值应为 national / local / must be national or local")
    parts = c.out.pop("code", None)
    if parts:
        c.out.update(
            code=format_regulation_code(parts["series"], parts["number"], parts["year"], parts["province"]),
            series=parts["series"], province=parts["province"], number=parts["number"], year=parts["year"],
            level="local" if parts["province"] else "national",
        )
        if "level" in data and data["level"] != c.out["level"]:
            c.error("level", "级别与编号不符（地方规程编号带省份简称）/ level contradicts the code")
        if not partial and "kind" not in c.out:
            c.out["kind"] = DEFAULT_KIND[parts["series"]]
    if not partial and "status" not in c.out:
        c.out["status"] = "published" if c.out.get("published_on") else "planned"
    date_order(c, "published_on", "implemented_on", current)
    date_order(c, "published_on", "abolished_on", current)
    status = c.out.get("status", getattr(current, "status", None))
    published = c.out.get("published_on", getattr(current, "published_on", None))
    abolished = c.out.get("abolished_on", getattr(current, "abolished_on", None))
    if status in ("published", "implemented", "abolished") and published is None:
        c.error("published_on", "已发布的规程须有发布日期 / a published regulation needs its publication date")
    if status == "abolished" and abolished is None:
        c.error("abolished_on", "已废止的规程须有废止日期 / an abolished regulation needs its abolition date")
    return c.result("规程 regulation")


def create_regulation(data: dict[str, Any], *, actor: Any) -> Regulation:
    ensure_can_write(actor, Regulation)
    values = clean_regulation(data)
    ensure_unique(Regulation, Regulation.code, values["code"], field="code", label="规程编号")
    return audited_create(Regulation(**{"is_urgent": False, "is_carbon": False, **values}), actor=actor)


def update_regulation(regulation: Regulation, data: dict[str, Any], *, actor: Any,
                      expected_version: int | None) -> Regulation:
    values = clean_regulation(data, partial=True, current=regulation)
    if "code" in values:
        ensure_unique(Regulation, Regulation.code, values["code"], field="code", exclude_id=regulation.id,
                      label="规程编号")
    return audited_update(regulation, lambda obj: apply_changes(obj, values, fields=FIELDS),
                          actor=actor, expected_version=expected_version)
