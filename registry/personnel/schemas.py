"""Personnel schemas: technical staff and their 注册计量师 registrations."""
from __future__ import annotations

from marshmallow import fields, validate

from registry.api.schemas import Id, InputSchema, QueryArgs, RecordSchema, Text, every_field_optional, sort_field
from registry.institutions.models import INSTITUTION_KINDS
from registry.personnel.models import REGISTRATION_LEVELS


class PersonSchema(RecordSchema):
    """A member of staff; the national ID number shows only as a mask."""

    id = fields.Integer(dump_only=True)
    name = fields.String()
    institution_id = fields.Integer()
    employed_from = fields.Date(allow_none=True)
    employed_until = fields.Date(allow_none=True)
    id_number_mask = fields.String(allow_none=True)
    registration_no = fields.String(allow_none=True)
    registration_level = fields.String(allow_none=True, validate=validate.OneOf(REGISTRATION_LEVELS))
    registration_items = fields.List(fields.String(), allow_none=True)
    registered_on = fields.Date(allow_none=True)
    registration_valid_until = fields.Date(allow_none=True)
    is_demo = fields.Boolean()


class PersonCreateSchema(InputSchema):
    name = Text(200, required=True)
    institution_id = Id(required=True)
    employed_from = fields.Date(allow_none=True)
    employed_until = fields.Date(allow_none=True)
    id_number = Text(40, allow_none=True, load_only=True,
                     metadata={"description": "Write-only: stored as a keyed hash and a mask"})
    registration_no = Text(100, allow_none=True)
    registration_level = fields.String(allow_none=True, validate=validate.OneOf(REGISTRATION_LEVELS))
    registration_items = fields.List(Text(100), allow_none=True, validate=validate.Length(max=50))
    registered_on = fields.Date(allow_none=True)
    registration_valid_until = fields.Date(allow_none=True)
    is_demo = fields.Boolean()


@every_field_optional
class PersonUpdateSchema(PersonCreateSchema):
    """Any subset of the fields."""


class PersonQueryArgs(QueryArgs):
    institution_id = Id(strict=False)
    region = Text(6)
    registered = fields.Boolean(metadata={"description": "Holds a registration number (false: without one, "
                                                         "leaving out people who had left by employed_on or today)"})
    employed_on = fields.Date(metadata={"description": "Employed on this date (YYYY-MM-DD); also the date the "
                                                       "registration filter is judged on (default today)"})
    institution_kind = fields.String(validate=validate.OneOf(INSTITUTION_KINDS),
                                     metadata={"description": "The employer's kind"})
    registration = fields.String(
        validate=validate.OneOf(("registered", "unregistered", "lapsing")),
        metadata={"description": "On employed_on (default today): registered; unregistered (employed, without a "
                                 "valid registration); lapsing (valid, ending within lapsing_months)"})
    lapsing_months = fields.Integer(validate=validate.Range(min=1, max=120), metadata={
        "description": "For registration=lapsing (default REGISTRATION_RENEWAL_LEAD_MONTHS)"})
    registration_level = fields.String(validate=validate.OneOf(REGISTRATION_LEVELS))
    registration_status = fields.String(
        validate=validate.OneOf(("valid", "expiring", "expired")),
        metadata={"description": "valid today; valid but ending within the renewal lead time; expired"})
    sort = sort_field("name", "registration_valid_until", "id", default="id")
