"""Reference data schemas (read-only)."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from registry.api.schemas import QueryArgs, Text, sort_field
from registry.reference.models import DISCIPLINE_KINDS, REGION_LEVELS


class RegionSchema(ma.Schema):
    code = fields.String(metadata={"description": "GB/T 2260 code"})
    name = fields.String()
    name_en = fields.String(allow_none=True)
    level = fields.String(validate=validate.OneOf(REGION_LEVELS))
    parent_code = fields.String(allow_none=True)
    table_version = fields.String()


class RegionQueryArgs(QueryArgs):
    level = fields.String(validate=validate.OneOf(REGION_LEVELS))
    parent = Text(6)
    sort = sort_field("code", "name", default="code")


class DisciplineSchema(ma.Schema):
    code = fields.String(metadata={"description": "JJF 1022 level-1 code"})
    name = fields.String()
    name_en = fields.String()
    kind = fields.String(validate=validate.OneOf(DISCIPLINE_KINDS))


class DisciplineQueryArgs(QueryArgs):
    kind = fields.String(validate=validate.OneOf(DISCIPLINE_KINDS))
    sort = sort_field("code", "name", default="code")
