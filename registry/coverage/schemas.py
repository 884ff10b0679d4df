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


# --- What the endpoints answer: each report's ``to_dict()``, documented from its dataclass --------------------


def _report_schemas():
    from registry.api.openapi import dataclass_schema
    from registry.catalog.models import SUPERVISION_MODES
    from registry.coverage import services
    from registry.indicators.models import COMPARATORS, INDICATOR_KINDS, INDICATOR_SOURCES
    from registry.standards.models import STANDARD_CATEGORIES, STANDARD_STATUSES
    from registry.standards.validity import VALIDITY_STATES

    enums = {"StandardRef.category": STANDARD_CATEGORIES, "StandardRef.status": STANDARD_STATUSES,
             "StandardRef.validity": VALIDITY_STATES, "LineRef.mode": SUPERVISION_MODES}
    for cls in ("IndicatorResult", "ForecastSeries", "ForecastPoint"):
        enums[f"{cls}.comparator"] = COMPARATORS
    for cls in ("IndicatorResult", "ForecastSeries"):
        enums[f"{cls}.kind"] = INDICATOR_KINDS
        enums[f"{cls}.source"] = INDICATOR_SOURCES
    return {name: dataclass_schema(getattr(services, cls), name, enums=enums) for name, cls in (
        ("CoverageReport", "CoverageReport"), ("CoverageByRegion", "RegionTable"), ("CoverageGaps", "GapList"),
        ("SinglePoints", "RiskList"), ("CoverageForecast", "Forecast"), ("ExpiringCertificates", "ExpiringList"))}


REPORT_SCHEMAS = _report_schemas()
