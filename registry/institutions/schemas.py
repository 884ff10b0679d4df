"""Institution schemas: what the API reads and writes."""
from __future__ import annotations

from marshmallow import fields, validate

from registry.api.schemas import InputSchema, QueryArgs, RecordSchema, Text, every_field_optional, sort_field
from registry.institutions.models import INSTITUTION_KINDS


class InstitutionSchema(RecordSchema):
    id = fields.Integer(dump_only=True)
    credit_code = fields.String(metadata={"description": "统一社会信用代码 (GB 32100)"})
    name = fields.String()
    region_code = fields.String(metadata={"description": "GB/T 2260 code"})
    serves_region_code = fields.String(allow_none=True, metadata={
        "description": "the region it serves when wider than its own (a provincial institute: the province); "
                       "null: its own region"})
    kind = fields.String(validate=validate.OneOf(INSTITUTION_KINDS))
    contact = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    is_demo = fields.Boolean()


class InstitutionCreateSchema(InputSchema):
    credit_code = Text(40, required=True)
    name = Text(400, required=True)
    region_code = Text(50, required=True, metadata={"description": "GB/T 2260 code or city name"})
    serves_region_code = Text(50, allow_none=True, metadata={
        "description": "GB/T 2260 code or name of the region served (its own region or one above it); "
                       "null or empty: its own region"})
    kind = fields.String(required=True, validate=validate.OneOf(INSTITUTION_KINDS))
    contact = Text(200, allow_none=True)
    phone = Text(100, allow_none=True)
    is_demo = fields.Boolean()


@every_field_optional
class InstitutionUpdateSchema(InstitutionCreateSchema):
    """Any subset of the fields; institution users may change only contact and phone."""


class InstitutionQueryArgs(QueryArgs):
    region = Text(6)
    kind = fields.String(validate=validate.OneOf(INSTITUTION_KINDS))
    sort = sort_field("name", "credit_code", "region_code", "id", default="name")
