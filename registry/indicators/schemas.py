"""Indicator schemas: targets of the plan, and values recorded for them."""
from __future__ import annotations

from marshmallow import fields, validate

from registry.api.schemas import (
    MAX_ID,
    InputSchema,
    QueryArgs,
    RecordSchema,
    Text,
    every_field_optional,
    sort_field,
)
from registry.indicators.models import COMPARATORS, INDICATOR_KINDS, INDICATOR_SOURCES


def Amount(**kwargs) -> fields.Decimal:  # noqa: N802
    """A Numeric(14, 4) value, exchanged as a decimal string so no digit is lost to floats."""
    metadata = {"type": "string", "format": "decimal", "example": "1800.0000"}
    return fields.Decimal(places=4, as_string=True, allow_nan=False, metadata=metadata, **kwargs)


class IndicatorSchema(RecordSchema):
    key = fields.String()
    name = fields.String()
    name_en = fields.String()
    kind = fields.String(validate=validate.OneOf(INDICATOR_KINDS))
    source = fields.String(validate=validate.OneOf(INDICATOR_SOURCES))
    counts_from = fields.Date(allow_none=True)
    source_document = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    position = fields.Integer()


class IndicatorCreateSchema(InputSchema):
    key = Text(50, required=True, metadata={"description": "lower_case_key"})
    name = Text(400, required=True)
    name_en = Text(400, required=True)
    kind = fields.String(required=True, validate=validate.OneOf(INDICATOR_KINDS))
    source = fields.String(required=True, validate=validate.OneOf(INDICATOR_SOURCES))
    counts_from = fields.Date(allow_none=True)
    source_document = Text(600, allow_none=True)
    description = Text(10000, allow_none=True)
    position = fields.Integer(strict=True, validate=validate.Range(min=0, max=MAX_ID))


@every_field_optional
class IndicatorUpdateSchema(IndicatorCreateSchema):
    """Any subset of the fields except the key."""


class IndicatorQueryArgs(QueryArgs):
    kind = fields.String(validate=validate.OneOf(INDICATOR_KINDS))
    source = fields.String(validate=validate.OneOf(INDICATOR_SOURCES))
    sort = sort_field("position", "key", default="position")


class RecordedValueSchema(RecordSchema):
    id = fields.Integer(dump_only=True)
    indicator_key = fields.String()
    region_code = fields.String()
    as_of = fields.Date()
    value = Amount()
    source = fields.String()
    note = fields.String(allow_none=True)
    is_demo = fields.Boolean()
    recorded_by_id = fields.Integer(allow_none=True, dump_only=True)
    recorded_at = fields.DateTime(dump_only=True)


class RecordedValueCreateSchema(InputSchema):
    indicator_key = Text(50, required=True)
    region_code = Text(50, required=True)
    as_of = fields.Date(required=True)
    value = Amount(required=True)
    source = Text(600, required=True)
    note = Text(10000, allow_none=True)
    is_demo = fields.Boolean()


@every_field_optional
class RecordedValueUpdateSchema(RecordedValueCreateSchema):
    """Any subset of the fields except the indicator."""


class RecordedValueQueryArgs(QueryArgs):
    indicator_key = Text(50)
    region = Text(6)
    as_of_from = fields.Date()
    as_of_until = fields.Date()
    sort = sort_field("as_of", "id", default="-as_of")


class PlanSchema(RecordSchema):
    id = fields.Integer(dump_only=True)
    name = fields.String()
    source_document = fields.String(allow_none=True)
    starts_on = fields.Date()
    deadline = fields.Date()
    description = fields.String(allow_none=True)


class PlanCreateSchema(InputSchema):
    name = Text(400, required=True)
    source_document = Text(600, allow_none=True)
    starts_on = fields.Date(required=True)
    deadline = fields.Date(required=True)
    description = Text(10000, allow_none=True)


@every_field_optional
class PlanUpdateSchema(PlanCreateSchema):
    """Any subset of the fields."""


class PlanQueryArgs(QueryArgs):
    sort = sort_field("starts_on", "name", "id", default="starts_on")


class TargetSchema(RecordSchema):
    id = fields.Integer(dump_only=True)
    plan_id = fields.Integer()
    indicator_key = fields.String()
    region_code = fields.String()
    comparator = fields.String(validate=validate.OneOf(COMPARATORS))
    target = Amount()
    target_max = Amount(allow_none=True)


class TargetCreateSchema(InputSchema):
    plan_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=MAX_ID))
    indicator_key = Text(50, required=True)
    region_code = Text(50, metadata={"description": "the province (default) or a city"})
    comparator = fields.String(required=True, validate=validate.OneOf(COMPARATORS))
    target = Amount(required=True)
    target_max = Amount(allow_none=True)


class TargetUpdateSchema(InputSchema):
    comparator = fields.String(validate=validate.OneOf(COMPARATORS))
    target = Amount()
    target_max = Amount(allow_none=True)


class TargetQueryArgs(QueryArgs):
    plan_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    indicator_key = Text(50)
    region = Text(6)
    sort = sort_field("id", "indicator_key", default="id")
