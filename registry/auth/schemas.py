"""Account, token and password schemas."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from registry.api.schemas import Id, InputSchema, QueryArgs, RecordSchema, Text, sort_field
from registry.auth.models import ROLES


class TokenRequestSchema(InputSchema):
    email = Text(254, required=True)
    password = Text(1000, required=True, load_only=True)
    name = Text(100, metadata={"description": "A label to recognise the token by, e.g. the script's name"})


class TokenSchema(ma.Schema):
    """A new token: the only time its value is shown."""

    token = fields.String(metadata={"description": "Send as Authorization: Bearer TOKEN"})
    id = fields.Integer()
    name = fields.String(allow_none=True)
    expires_at = fields.DateTime()


class TokenInfoSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String(allow_none=True)
    created_at = fields.DateTime()
    expires_at = fields.DateTime()
    last_used_at = fields.DateTime(allow_none=True)


class UserSchema(RecordSchema):
    class Meta:
        exclude = ("withdrawn_at", "withdrawn_reason")  # accounts are disabled (active), never withdrawn

    id = fields.Integer()
    email = fields.String()
    role = fields.String(validate=validate.OneOf(ROLES))
    institution_id = fields.Integer(allow_none=True)
    display_name = fields.String(allow_none=True)
    active = fields.Boolean()
    last_login_at = fields.DateTime(allow_none=True)


class UserCreateSchema(InputSchema):
    email = Text(254, required=True)
    password = Text(1000, required=True, load_only=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    credit_code = Text(40, allow_none=True, metadata={"description": "The institution of an institution user"})
    display_name = Text(100, allow_none=True)


class UserUpdateSchema(InputSchema):
    role = fields.String(validate=validate.OneOf(ROLES))
    credit_code = Text(40, allow_none=True)
    display_name = Text(100, allow_none=True)
    active = fields.Boolean(metadata={"description": "false ends the user's sessions and tokens"})


class PasswordChangeSchema(InputSchema):
    current_password = Text(1000, required=True, load_only=True)
    new_password = Text(1000, required=True, load_only=True)


class PasswordResetSchema(InputSchema):
    new_password = Text(1000, required=True, load_only=True)


class UserQueryArgs(QueryArgs):
    role = fields.String(validate=validate.OneOf(ROLES))
    active = fields.Boolean()
    institution_id = Id(strict=False)
    sort = sort_field("email", "id", "last_login_at", default="email")
