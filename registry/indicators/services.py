"""Indicator targets and recorded values (regulators and admins)."""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from registry.auth.policy import ensure_can_write
from registry.errors import ValidationError
from registry.extensions import db
from registry.fields import Cleaner, a_date, boolean, choice, optional_text, required_text
from registry.indicators.models import COMPARATORS, INDICATOR_KINDS, INDICATOR_SOURCES, Indicator, RecordedValue
from registry.institutions.services import region_code
from registry.services import apply_changes, audited_create, audited_update, ensure_unique

# Numeric(14, 4): ten digits before the point.
MAX_VALUE = Decimal(10) ** 10
FIELDS = ("key", "name", "name_en", "kind", "source", "comparator", "target", "target_max", "deadline",
          "counts_from", "source_document", "description", "position")


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
    c = Cleaner(data, required=("key", "name", "name_en", "kind", "source", "comparator", "target"), partial=partial)
    c.field("key", _key)
    c.field("name", required_text(200))
    c.field("name_en", required_text(200))
    c.field("kind", choice(INDICATOR_KINDS))
    c.field("source", choice(INDICATOR_SOURCES))
    c.field("comparator", choice(COMPARATORS))
    c.field("target", decimal_value)
    c.field("target_max", lambda v: None if v in (None, "") else decimal_value(v))
    c.field("deadline", a_date(optional=True))
    c.field("counts_from", a_date(optional=True))
    c.field("source_document", optional_text(300))
    c.field("description", optional_text(5000))
    c.field("position", lambda v: int(v) if isinstance(v, int) and not isinstance(v, bool) else _bad_int(v))
    comparator = c.out.get("comparator", getattr(current, "comparator", None))
    target = c.out.get("target", getattr(current, "target", None))
    target_max = c.out.get("target_max", getattr(current, "target_max", None))
    if comparator == "between" and (target_max is None or (target is not None and target_max < target)):
        c.error("target_max", "区间目标须有不小于下限的上限 / a range target needs an upper bound ≥ the target")
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
