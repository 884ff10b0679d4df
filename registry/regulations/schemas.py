"""Regulation schemas: verification regulations (检定规程) and specifications (规范)."""
from __future__ import annotations

from marshmallow import fields, validate

from registry.api.schemas import InputSchema, QueryArgs, RecordSchema, Text, every_field_optional, sort_field
from registry.regulations.models import REGULATION_KINDS, REGULATION_LEVELS, REGULATION_SERIES, REGULATION_STATUSES


class RegulationSchema(RecordSchema):
    id = fields.Integer(dump_only=True)
    code = fields.String(metadata={"description": "Normal form, e.g. JJG(赣) 123-2024"})
    series = fields.String(validate=validate.OneOf(REGULATION_SERIES))
    province = fields.String(allow_none=True)
    number = fields.String()
    year = fields.Integer()
    title = fields.String()
    kind = fields.String(validate=validate.OneOf(REGULATION_KINDS))
    level = fields.String(validate=validate.OneOf(REGULATION_LEVELS))
    status = fields.String(validate=validate.OneOf(REGULATION_STATUSES))
    published_on = fields.Date(allow_none=True)
    implemented_on = fields.Date(allow_none=True)
    abolished_on = fields.Date(allow_none=True)
    is_urgent = fields.Boolean()
    is_carbon = fields.Boolean()
    is_demo = fields.Boolean()


class RegulationCreateSchema(InputSchema):
    code = Text(60, required=True, metadata={"description": "Any spelling: JJG（赣）123—2024"})
    title = Text(600, required=True)
    kind = fields.String(validate=validate.OneOf(REGULATION_KINDS))
    level = fields.String(validate=validate.OneOf(REGULATION_LEVELS))
    status = fields.String(validate=validate.OneOf(REGULATION_STATUSES))
    published_on = fields.Date(allow_none=True)
    implemented_on = fields.Date(allow_none=True)
    abolished_on = fields.Date(allow_none=True)
    is_urgent = fields.Boolean()
    is_carbon = fields.Boolean()
    is_demo = fields.Boolean()


@every_field_optional
class RegulationUpdateSchema(RegulationCreateSchema):
    """Any subset of the fields."""


class RegulationQueryArgs(QueryArgs):
    series = fields.String(validate=validate.OneOf(REGULATION_SERIES))
    level = fields.String(validate=validate.OneOf(REGULATION_LEVELS))
    kind = fields.String(validate=validate.OneOf(REGULATION_KINDS))
    status = fields.String(validate=validate.OneOf(REGULATION_STATUSES))
    is_urgent = fields.Boolean()
    is_carbon = fields.Boolean()
    sort = sort_field("code", "title", "year", "published_on", "id", default="code")
