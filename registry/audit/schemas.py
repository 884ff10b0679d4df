"""Audit trail schemas."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields

from registry.api.schemas import Id, Moment, QueryArgs, Text, sort_field

# Never shown, even hashed.
SECRET_KEYS = frozenset({"password_hash", "token_hash", "id_number_hash"})


class AuditEventSchema(ma.Schema):
    id = fields.Integer()
    occurred_at = fields.DateTime()
    actor_id = fields.Integer(allow_none=True)
    actor_label = fields.String()
    action = fields.String()
    entity_type = fields.String()
    entity_id = fields.String()
    before = fields.Dict(allow_none=True)
    after = fields.Dict(allow_none=True)
    note = fields.String(allow_none=True)
    request_id = fields.String(allow_none=True)

    @ma.post_dump
    def hide_secrets(self, data, **kwargs):
        for side in ("before", "after"):
            if isinstance(data.get(side), dict):
                data[side] = {k: v for k, v in data[side].items() if k not in SECRET_KEYS}
        return data


class AuditQueryArgs(QueryArgs):
    entity_type = Text(50)
    entity_id = Text(50)
    actor_id = Id(strict=False)
    actor = Text(254, metadata={"description": "Actor email (exact)"})
    action = Text(30)
    since = Moment(metadata={"description": "Occurred at or after (ISO 8601)"})
    until = Moment(metadata={"description": "Occurred before (ISO 8601)"})
    sort = sort_field("occurred_at", "id", default="-id")
