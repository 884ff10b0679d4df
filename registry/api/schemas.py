"""Schema building blocks every feature's ``schemas.py`` uses.

Input schemas declare types and reject unknown fields; the services do the
domain validation (and say what is wrong in both languages).
"""
from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate
from werkzeug.routing import IntegerConverter

from registry.records.dates import EARLIEST, LATEST, RANGE_MESSAGE, within_range

MAX_ID = 2**31 - 1
# The highest page number a list takes, at the API and on the pages: page × page size stays far inside
# the 64-bit OFFSET every database accepts.
MAX_PAGE = 2**31 - 1


class IdConverter(IntegerConverter):
    """``<id:name>``: a positive 32-bit key, so no lookup overflows the database."""

    def __init__(self, map, *args, **kwargs):
        super().__init__(map, min=1, max=MAX_ID)


ID_CONVERTER_DOC = {"type": "integer", "minimum": 1, "maximum": MAX_ID}


def Id(*, strict: bool = True, **kwargs) -> fields.Integer:  # noqa: N802 (a field factory reads like a field class)
    """A record id: strictly an integer in JSON; query strings are text, so there it is parsed."""
    return fields.Integer(strict=strict, validate=validate.Range(min=1, max=MAX_ID), **kwargs)


def Day(**kwargs) -> fields.Date:  # noqa: N802
    """A date the registry accepts (:data:`registry.records.dates.EARLIEST` to :data:`~registry.records.dates.LATEST`)."""
    return fields.Date(validate=validate.Range(min=EARLIEST, max=LATEST, error=RANGE_MESSAGE), **kwargs)


def _moment_in_range(value: datetime) -> None:
    if not within_range(value.date()):
        raise ma.ValidationError(RANGE_MESSAGE)


def Moment(**kwargs) -> fields.DateTime:  # noqa: N802
    """A date and time on a day the registry accepts (see :func:`Day`), so converting it to UTC cannot overflow."""
    return fields.DateTime(validate=_moment_in_range, **kwargs)


def Text(max_length: int, **kwargs) -> fields.String:  # noqa: N802
    return fields.String(validate=validate.Length(max=max_length), **kwargs)


def _unsafe_text(value: Any) -> bool:
    """Text no database column can hold: NUL characters or lone surrogates."""
    if isinstance(value, str):
        return "\x00" in value or any("\ud800" <= c <= "\udfff" for c in value)
    if isinstance(value, dict):
        return any(_unsafe_text(k) or _unsafe_text(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_unsafe_text(v) for v in value)
    return False


class InputSchema(ma.Schema):
    """A request body: unknown fields are an error, never silently dropped."""

    class Meta:
        unknown = ma.RAISE

    @ma.pre_load
    def refuse_unstorable_text(self, data, **kwargs):
        if _unsafe_text(data):
            raise ma.ValidationError("文本含非法字符 / text contains NUL or invalid characters")
        return data


class QueryArgs(ma.Schema):
    """List filters shared by every registry: text search, withdrawn records, sorting."""

    class Meta:
        unknown = ma.EXCLUDE

    q = Text(100, metadata={"description": "Text search on names and numbers"})
    include_withdrawn = fields.Boolean(load_default=False)

    @ma.pre_load
    def refuse_unstorable_text(self, data, **kwargs):
        if _unsafe_text(dict(data)):
            raise ma.ValidationError("参数含非法字符 / a parameter contains invalid characters")
        return data


def sort_field(*names: str, default: str) -> fields.String:
    """``sort=name`` or ``sort=-name`` over a whitelist."""
    choices = [n for name in names for n in (name, "-" + name)]
    return fields.String(load_default=default, validate=validate.OneOf(choices),
                         metadata={"description": "Sort by a field; prefix - for descending"})


class RecordSchema(ma.Schema):
    """What every versioned, withdrawable record answers with."""

    version = fields.Integer(dump_only=True, metadata={"description": "Also the ETag; send it as If-Match"})
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)
    withdrawn_at = fields.DateTime(dump_only=True, allow_none=True)
    withdrawn_reason = fields.String(dump_only=True, allow_none=True)


class WithdrawSchema(InputSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


def every_field_optional(cls):
    """Class decorator for an update schema: the create schema's fields, none required."""
    declared = {}
    for name, field in cls._declared_fields.items():
        field = copy.copy(field)
        field.required = False
        declared[name] = field
    cls._declared_fields = declared
    return cls
