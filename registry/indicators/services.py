"""Indicators, plans with their targets, and recorded values (regulators and admins)."""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from flask import current_app

from registry.auth.policy import ensure_can_write
from registry.errors import Conflict, ValidationError
from registry.extensions import db
from registry.records.fields import Cleaner, a_date, boolean, choice, date_order, optional_text, required_text
from registry.indicators.models import (
    COMPARATORS,
    INDICATOR_KINDS,
    INDICATOR_SOURCES,
    PROVINCE_WIDE_INDICATORS,
    Indicator,
    Plan,
    PlanTarget,
    RecordedValue,
)
from registry.institutions.services import region_code
from registry.records.services import apply_changes, audited_create, audited_update, ensure_unique

# Numeric(14, 4): ten digits before the point.
MAX_VALUE = Decimal(10) ** 10
FIELDS = ("key", "name", "name_en", "kind", "source", "counts_from", "source_document", "description", "position")
PLAN_FIELDS = ("name", "source_document", "starts_on", "deadline", "description")
TARGET_FIELDS = ("comparator", "target", "target_max")


def decimal_value(value: Any) -> Decimal:
    try:
        result = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(f"应为数字 / must be a number: {value!r}") from None
    if not result.is_finite() or result < 0:
        raise ValidationError("应为非负数 / must be a non-negative number")
    if result >= MAX_VALUE:
        raise ValidationError(f"数值过大 / must be less than {MAX_VALUE}")
    return result


def _key(value: Any) -> str:
    text = str(value or "").strip()
    if not re.fullmatch(r"[a-z][a-z0-9_]{1,49}", text):
        raise ValidationError("键应为小写字母、数字和下划线 / key: lower-case letters, digits and _")
    return text


def clean_indicator(data: dict[str, Any], *, partial: bool = False, current: Indicator | None = None) -> dict[str, Any]:
    c = Cleaner(data, required=("key", "name", "name_en", "kind", "source"), partial=partial)
    c.field("key", _key)
    c.field("name", required_text(200))
    c.field("name_en", required_text(200))
    c.field("kind", choice(INDICATOR_KINDS))
    c.field("source", choice(INDICATOR_SOURCES))
    c.field("counts_from", a_date(optional=True))
    c.field("source_document", optional_text(300))
    c.field("description", optional_text(5000))
    c.field("position", lambda v: int(v) if isinstance(v, int) and not isinstance(v, bool) else _bad_int(v))
    return c.result("指标 indicator")


def _bad_int(value: Any) -> int:
    raise ValidationError(f"应为整数 / must be a whole number: {value!r}")


def create_indicator(data: dict[str, Any], *, actor: Any) -> Indicator:
    ensure_can_write(actor, Indicator)
    values = clean_indicator(data)
    ensure_unique(Indicator, Indicator.key, values["key"], field="key", label="指标")
    return audited_create(Indicator(**values), actor=actor)


def update_indicator(indicator: Indicator, data: dict[str, Any], *, actor: Any,
                     expected_version: int | None) -> Indicator:
    if "key" in data:
        raise ValidationError("指标键不可修改 / the key cannot change", field="key")
    values = clean_indicator(data, partial=True, current=indicator)
    return audited_update(indicator, lambda obj: apply_changes(obj, values, fields=FIELDS),
                          actor=actor, expected_version=expected_version)


def record_value(data: dict[str, Any], *, actor: Any) -> RecordedValue:
    """Enter a value for an indicator that no registry here counts."""
    ensure_can_write(actor, RecordedValue)
    values = clean_recorded_value(data)
    return audited_create(RecordedValue(recorded_by_id=getattr(actor, "id", None), **values), actor=actor)


RECORDED_FIELDS = ("region_code", "as_of", "value", "source", "note", "is_demo")


def clean_recorded_value(data: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    c = Cleaner(data, required=("indicator_key", "region_code", "as_of", "value", "source"), partial=partial)
    c.field("indicator_key", _recorded_indicator)
    c.field("region_code", region_code)
    c.field("as_of", a_date())
    c.field("value", decimal_value)
    c.field("source", required_text(300))
    c.field("note", optional_text(5000))
    c.field("is_demo", boolean)
    return c.result("指标值 recorded value")


def update_recorded_value(recorded: RecordedValue, data: dict[str, Any], *, actor: Any,
                          expected_version: int | None) -> RecordedValue:
    """Correct a recorded value; the indicator it belongs to cannot change."""
    if "indicator_key" in data:
        raise ValidationError("所属指标不可修改 / the indicator cannot change", field="indicator_key")
    values = clean_recorded_value(data, partial=True)
    return audited_update(recorded, lambda obj: apply_changes(obj, values, fields=RECORDED_FIELDS),
                          actor=actor, expected_version=expected_version)


def _recorded_indicator(value: Any) -> str:
    indicator = db.session.get(Indicator, str(value or ""))
    if indicator is None or indicator.withdrawn_at is not None:
        raise ValidationError(f"未知指标：{value} / unknown indicator {value!r}")
    if indicator.source != "recorded":
        raise ValidationError(f"指标 {value} 由登记数据计算，不能手工录入 / {value} is counted from the registries")
    return indicator.key


# --------------------------------------------------------------------------- plans and their targets

def clean_plan(data: dict[str, Any], *, partial: bool = False, current: Plan | None = None) -> dict[str, Any]:
    c = Cleaner(data, required=("name", "starts_on", "deadline"), partial=partial)
    c.field("name", required_text(200))
    c.field("source_document", optional_text(300))
    c.field("starts_on", a_date())
    c.field("deadline", a_date())
    c.field("description", optional_text(5000))
    date_order(c, "starts_on", "deadline", current)
    values = c.result("规划 plan")
    starts_on = values.get("starts_on", getattr(current, "starts_on", None))
    deadline = values.get("deadline", getattr(current, "deadline", None))
    overlapping = db.session.scalar(
        sa.select(Plan).where(Plan.withdrawn_at.is_(None), Plan.starts_on <= deadline, Plan.deadline >= starts_on,
                              Plan.id != getattr(current, "id", -1)).order_by(Plan.starts_on).limit(1))
    if overlapping is not None:
        message = (f"与规划「{overlapping.name}」（{overlapping.starts_on}—{overlapping.deadline}）的期间重叠 / "
                   f"overlaps the period of plan “{overlapping.name}” ({overlapping.starts_on} to "
                   f"{overlapping.deadline})")
        raise ValidationError(message, errors={"starts_on": [message], "deadline": [message]})
    return values


def create_plan(data: dict[str, Any], *, actor: Any) -> Plan:
    """Add a plan (e.g. 2026–2030); its period must not overlap another plan's."""
    ensure_can_write(actor, Plan)
    values = clean_plan(data)
    ensure_unique(Plan, Plan.name, values["name"], field="name", label="规划")
    return audited_create(Plan(**values), actor=actor)


def update_plan(plan: Plan, data: dict[str, Any], *, actor: Any, expected_version: int | None) -> Plan:
    values = clean_plan(data, partial=True, current=plan)
    if "name" in values:
        ensure_unique(Plan, Plan.name, values["name"], field="name", label="规划", exclude_id=plan.id)
    return audited_update(plan, lambda obj: apply_changes(obj, values, fields=PLAN_FIELDS),
                          actor=actor, expected_version=expected_version)


def _plan_id(value: Any) -> int:
    plan = db.session.get(Plan, value) if isinstance(value, int) and not isinstance(value, bool) else None
    if plan is None or plan.withdrawn_at is not None:
        raise ValidationError(f"未知规划：{value} / unknown plan {value!r}")
    return plan.id


def _indicator_key(value: Any) -> str:
    indicator = db.session.get(Indicator, str(value or ""))
    if indicator is None or indicator.withdrawn_at is not None:
        raise ValidationError(f"未知指标：{value} / unknown indicator {value!r}")
    return indicator.key


def _target_region(value: Any) -> str:
    """The province, or one of its cities (设区市)."""
    from registry.reference.models import Region

    code = region_code(value)
    province = current_app.config["PROVINCE_CODE"]
    region = db.session.get(Region, code)
    if code != province and (region is None or region.parent_code != province):
        raise ValidationError(f"目标只能设在全省或设区市：{value} / a target is set for the province or a city: "
                              f"{value!r}")
    return code


def clean_target(data: dict[str, Any], *, partial: bool = False, current: PlanTarget | None = None,
                 plan_ref: Any = None) -> dict[str, Any]:
    """Clean a target; ``plan_ref`` is a plan already resolved (an import names it, maybe not yet written)."""
    c = Cleaner(data, required=("indicator_key", "comparator", "target") + (("plan_id",) if plan_ref is None else ()),
                partial=partial)
    if plan_ref is None:
        c.field("plan_id", _plan_id)
    else:
        c.out["plan_id"] = plan_ref
    c.field("indicator_key", _indicator_key)
    c.field("region_code", _target_region)
    c.field("comparator", choice(COMPARATORS))
    c.field("target", decimal_value)
    c.field("target_max", lambda v: None if v in (None, "") else decimal_value(v))
    if not partial and "region_code" not in c.out and "region_code" not in c.errors:
        c.out["region_code"] = current_app.config["PROVINCE_CODE"]
    key = c.out.get("indicator_key", getattr(current, "indicator_key", None))
    region = c.out.get("region_code", getattr(current, "region_code", None))
    if key in PROVINCE_WIDE_INDICATORS and region not in (None, current_app.config["PROVINCE_CODE"]):
        c.error("region_code", f"{key} 为全省指标，不能为设区市设目标 / {key} is counted for the whole province: "
                               "it takes no city target")
    comparator = c.out.get("comparator", getattr(current, "comparator", None))
    target = c.out.get("target", getattr(current, "target", None))
    target_max = c.out.get("target_max", getattr(current, "target_max", None))
    if comparator == "between" and (target_max is None or (target is not None and target_max < target)):
        c.error("target_max", "区间目标须有不小于下限的上限 / a range target needs an upper bound ≥ the target")
    return c.result("目标 target")


def create_target(data: dict[str, Any], *, actor: Any) -> PlanTarget:
    """Set an indicator's target in a plan, for the province (default) or a city."""
    ensure_can_write(actor, PlanTarget)
    values = clean_target(data)
    exists = db.session.scalar(sa.select(PlanTarget.id).where(
        PlanTarget.plan_id == values["plan_id"], PlanTarget.indicator_key == values["indicator_key"],
        PlanTarget.region_code == values["region_code"]))
    if exists is not None:
        raise Conflict(f"该规划已为 {values['indicator_key']} 在 {values['region_code']} 设目标（#{exists}）/ the plan "
                       f"already sets a target for {values['indicator_key']} in {values['region_code']} (#{exists})",
                       field="indicator_key")
    return audited_create(PlanTarget(**values), actor=actor)


def update_target(target: PlanTarget, data: dict[str, Any], *, actor: Any,
                  expected_version: int | None) -> PlanTarget:
    """Change a target's value or comparator; its plan, indicator and region stay."""
    fixed = sorted({"plan_id", "indicator_key", "region_code"} & set(data))
    if fixed:
        raise ValidationError("目标所属规划、指标、地区不可修改 / a target's plan, indicator and region cannot change",
                              errors={name: ["不可修改 / cannot change"] for name in fixed})
    values = clean_target(data, partial=True, current=target)
    return audited_update(target, lambda obj: apply_changes(obj, values, fields=TARGET_FIELDS),
                          actor=actor, expected_version=expected_version)
