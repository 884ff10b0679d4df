"""Measurement standard schemas: what the API reads and writes."""
from __future__ import annotations

from datetime import date

from marshmallow import fields, validate

from registry.api.schemas import Id, InputSchema, QueryArgs, RecordSchema, Text, every_field_optional, sort_field
from registry.standards.models import BUILD_KINDS, STANDARD_CATEGORIES, STANDARD_STATUSES, UNCERTAINTY_KINDS
from registry.standards.validity import VALIDITY_STATES, validity


class StandardSchema(RecordSchema):
    id = fields.Integer(dump_only=True)
    certificate_no = fields.String(metadata={"description": "计量标准考核证书编号, e.g. [2016]赣量标证字第006号"})
    name = fields.String()
    code = fields.String(allow_none=True, metadata={"description": "JJF 1022 code, 8 digits"})
    category = fields.String(validate=validate.OneOf(STANDARD_CATEGORIES))
    discipline_code = fields.String(allow_none=True)
    institution_id = fields.Integer()
    range_text = fields.String(allow_none=True)
    range_lower = fields.Float(allow_none=True)
    range_upper = fields.Float(allow_none=True)
    range_unit = fields.String(allow_none=True)
    uncertainty_text = fields.String(allow_none=True)
    uncertainty_kind = fields.String(allow_none=True, validate=validate.OneOf(UNCERTAINTY_KINDS))
    uncertainty_value = fields.Float(allow_none=True)
    uncertainty_unit = fields.String(allow_none=True)
    coverage_factor = fields.Float(allow_none=True)
    issuer = fields.String(allow_none=True)
    issued_on = fields.Date()
    valid_until = fields.Date()
    certified_since = fields.Date(dump_only=True, allow_none=True, metadata={
        "description": "Start of the unbroken run of certificates when a renewal (a re-examination, or a later "
                       "issue date typed with no gap) continued it (else empty: the issue date); coverage counts "
                       "the standard from this date; not writable"})
    responsible_person = fields.String(allow_none=True)
    status = fields.String(validate=validate.OneOf(STANDARD_STATUSES))
    status_since = fields.Date(allow_none=True)
    is_carbon = fields.Boolean()
    build_kind = fields.String(allow_none=True, validate=validate.OneOf(BUILD_KINDS))
    built_on = fields.Date(allow_none=True)
    is_demo = fields.Boolean()
    validity = fields.Method(
        "_validity", dump_only=True,
        metadata={"type": "string", "enum": list(VALIDITY_STATES),
                  "description": "The certificate's state today, from status, status date and certificate dates: "
                                 + ", ".join(VALIDITY_STATES)})
    catalog_line_ids = fields.Method("_catalog_line_ids", dump_only=True,
                                     metadata={"type": "array", "items": {"type": "integer"}})
    regulation_ids = fields.Method("_regulation_ids", dump_only=True,
                                   metadata={"type": "array", "items": {"type": "integer"}})

    def _validity(self, standard) -> str:
        return validity(standard, date.today())

    def _catalog_line_ids(self, standard) -> list[int]:
        return sorted(line.id for line in standard.catalog_lines)

    def _regulation_ids(self, standard) -> list[int]:
        return sorted(regulation.id for regulation in standard.regulations)


class StandardCreateSchema(InputSchema):
    certificate_no = Text(100, required=True)
    name = Text(600, required=True)
    code = Text(20, allow_none=True)
    category = fields.String(required=True, validate=validate.OneOf(STANDARD_CATEGORIES))
    discipline_code = Text(2, allow_none=True)
    institution_id = Id(required=True)
    range_text = Text(600, allow_none=True)
    uncertainty_text = Text(600, allow_none=True)
    issuer = Text(400, allow_none=True)
    issued_on = fields.Date(required=True)
    valid_until = fields.Date(allow_none=True, metadata={"description": "Defaults to issue date + validity years"})
    responsible_person = Text(200, allow_none=True)
    status = fields.String(validate=validate.OneOf(STANDARD_STATUSES))
    status_since = fields.Date(allow_none=True)
    is_carbon = fields.Boolean()
    build_kind = fields.String(allow_none=True, validate=validate.OneOf(BUILD_KINDS))
    built_on = fields.Date(allow_none=True)
    is_demo = fields.Boolean()
    catalog_line_ids = fields.List(Id(), validate=validate.Length(max=200))
    regulation_ids = fields.List(Id(), validate=validate.Length(max=200))


@every_field_optional
class StandardUpdateSchema(StandardCreateSchema):
    """Any subset of the fields."""


class StandardQueryArgs(QueryArgs):
    region = Text(6, metadata={"description": "Region of the holding institution (a city, or the province)"})
    institution_id = Id(strict=False)
    category = fields.String(validate=validate.OneOf(STANDARD_CATEGORIES))
    discipline = Text(2)
    status = fields.String(validate=validate.OneOf(STANDARD_STATUSES))
    expiring_before = fields.Date(metadata={"description": "Valid until before this date"})
    validity = fields.String(validate=validate.OneOf(VALIDITY_STATES),
                             metadata={"description": "The certificate's state on validity_on (default today)"})
    validity_on = fields.Date(metadata={"description": "The date the validity filter is evaluated on"})
    status_undated = fields.Boolean(metadata={
        "description": "true: a status that does not count as in use, recorded without its date "
                       "(such a standard counts as in use on no date)"})
    covers_line = Id(strict=False, metadata={"description": "Serves this catalog line"})
    is_carbon = fields.Boolean()
    sort = sort_field("name", "certificate_no", "valid_until", "issued_on", "id", default="id")
