"""Catalog schemas: versions of the mandatory-verification catalog and their lines."""
from __future__ import annotations

from marshmallow import fields, validate

from registry.api.schemas import MAX_ID, Id, InputSchema, QueryArgs, RecordSchema, Text, every_field_optional, sort_field
from registry.catalog.models import SUPERVISION_MODES, VERIFICATION_FORMS


class CatalogVersionSchema(RecordSchema):
    id = fields.Integer(dump_only=True)
    name = fields.String()
    source_document = fields.String()
    effective_from = fields.Date()
    declared_line_count = fields.Integer()
    is_partial = fields.Boolean()
    description = fields.String(allow_none=True)


class CatalogVersionCreateSchema(InputSchema):
    name = Text(400, required=True)
    source_document = Text(600, required=True)
    effective_from = fields.Date(required=True)
    declared_line_count = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=MAX_ID))
    is_partial = fields.Boolean()
    description = Text(10000, allow_none=True)


@every_field_optional
class CatalogVersionUpdateSchema(CatalogVersionCreateSchema):
    """Any subset of the fields."""


class CatalogVersionQueryArgs(QueryArgs):
    sort = sort_field("name", "effective_from", "id", default="-effective_from")


class CatalogLineSchema(RecordSchema):
    id = fields.Integer(dump_only=True)
    catalog_version_id = fields.Integer()
    code = fields.String()
    name = fields.String()
    sub_name = fields.String(allow_none=True)
    mode = fields.String(validate=validate.OneOf(SUPERVISION_MODES))
    is_mandatory = fields.Boolean(dump_only=True, metadata={"description": "V and P+V lines"})
    verification_form = fields.String(allow_none=True, validate=validate.OneOf(VERIFICATION_FORMS))
    scope_note = fields.String(allow_none=True)
    effective_from = fields.Date(allow_none=True)
    levels = fields.Function(lambda line: line.level_list, metadata={
        "description": "levels at which a standard is expected (province, city, county); empty: every level"})


class CatalogLineCreateSchema(InputSchema):
    code = Text(40, required=True)
    name = Text(400, required=True)
    sub_name = Text(400, allow_none=True)
    mode = Text(20, required=True, metadata={"description": "P, V or P+V"})
    verification_form = fields.String(allow_none=True, validate=validate.OneOf(VERIFICATION_FORMS))
    scope_note = Text(10000, allow_none=True)
    effective_from = fields.Date(allow_none=True)
    levels = fields.Raw(allow_none=True, metadata={
        "description": "province, city and/or county, as a list or a comma-separated string; empty: every level"})


@every_field_optional
class CatalogLineUpdateSchema(CatalogLineCreateSchema):
    """Any subset of the fields."""


class CatalogLineQueryArgs(QueryArgs):
    catalog_version_id = Id(strict=False)
    mode = fields.String(validate=validate.OneOf(SUPERVISION_MODES))
    mandatory = fields.Boolean(metadata={"description": "V and P+V lines (true) or P lines only (false)"})
    sort = sort_field("code", "name", "id", default="code")
