"""Query arguments for the coverage endpoints."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from registry.api.schemas import Day, Id

# The CLI takes the same offsets (an OFFSET the databases can hold).
EXPIRING_OFFSET_MAX = 10_000_000


class CoverageArgs(ma.Schema):
    as_of = Day(metadata={"description": "The date to compute for (default: today), YYYY-MM-DD"})
    region = fields.String(validate=validate.Regexp(r"^\d{6}$"),
                  metadata={"description": "GB/T 2260 code: 360000 (province, default) or a city"})


class GapsArgs(CoverageArgs):
    candidates = fields.Boolean(load_default=False,
                                metadata={"description": "Also list, for each gap, the institutions that could "
                                                         "close it, ranked with the reason (1/true)"})


class MonthsArgs(CoverageArgs):
    months = fields.Integer(validate=validate.Range(min=1, max=120),
                            metadata={"description": "Months ahead (default: the re-examination lead time)"})


class ForecastArgs(CoverageArgs):
    months = fields.Integer(load_default=24, validate=validate.Range(min=1, max=120),
                            metadata={"description": "How many month-ends to forecast"})


class ExpiringArgs(MonthsArgs):
    institution_id = Id(strict=False, metadata={"description": "One institution's list (staff only)"})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=EXPIRING_OFFSET_MAX))
