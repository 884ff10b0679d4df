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


class RenewalArgs(MonthsArgs):
    window = fields.String(load_default="apply_now", validate=validate.OneOf(("apply_now", "expired")),
                           metadata={"description": "apply_now: apply-by date within `months` (or passed, while "
                                                    "still valid); expired: expired and still in use"})
    institution_id = Id(strict=False, metadata={"description": "One institution's list (staff only)"})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=EXPIRING_OFFSET_MAX))


class MetrologistArgs(CoverageArgs):
    sort = fields.String(load_default="needed", validate=validate.OneOf(
        [key for name in ("needed", "share", "staff", "registered", "name", "city") for key in (name, f"-{name}")]),
        metadata={"description": "needed (below target first, most registrations needed first), share, staff, "
                                 "registered, name or city; a leading - reverses"})


# --- Response bodies (the services' ``to_dict()``) --------------------------------------------------------------


class _Body(ma.Schema):
    class Meta:
        ordered = True


class RenewalLineSchema(_Body):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    sub_name = fields.String(allow_none=True)
    mode = fields.String(required=True)


class RenewalStandardSchema(_Body):
    id = fields.Integer(required=True)
    certificate_no = fields.String(required=True)
    name = fields.String(required=True)
    category = fields.String(required=True)
    status = fields.String(required=True)
    issued_on = fields.Date(required=True)
    valid_until = fields.Date(required=True)
    institution_id = fields.Integer(required=True)
    institution_name = fields.String(required=True)
    credit_code = fields.String(required=True)
    region_code = fields.String(required=True)
    status_since = fields.Date(allow_none=True)
    validity = fields.String(allow_none=True, metadata={"description": "Validity on the list's date"})


class RenewalSchema(_Body):
    standard = fields.Nested(RenewalStandardSchema, required=True)
    apply_by = fields.Date(required=True, metadata={"description": "Expiry less REEXAMINATION_LEAD_MONTHS"})
    overdue = fields.Boolean(required=True, metadata={"description": "The apply-by date has passed"})
    city = fields.String(allow_none=True)
    city_name = fields.String(allow_none=True)
    city_name_en = fields.String(allow_none=True)
    lines_at_risk = fields.List(fields.Nested(RenewalLineSchema), required=True, metadata={
        "description": "Mandatory lines the holder's city loses if this certificate lapses"})


class RenewalListSchema(_Body):
    as_of = fields.Date(required=True)
    window = fields.String(required=True)
    lead_months = fields.Integer(required=True)
    months = fields.Integer(required=True)
    apply_by_until = fields.Date(required=True)
    expiring_until = fields.Date(required=True)
    region = fields.String(required=True)
    region_name = fields.String(required=True)
    institution_id = fields.Integer(allow_none=True)
    apply_now_total = fields.Integer(required=True)
    overdue_total = fields.Integer(required=True)
    expired_total = fields.Integer(required=True)
    total = fields.Integer(required=True)
    limit = fields.Integer(required=True)
    offset = fields.Integer(required=True)
    items = fields.List(fields.Nested(RenewalSchema), required=True)


class FollowUpPlanSchema(_Body):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    source_document = fields.String(allow_none=True)
    starts_on = fields.Date(required=True)
    deadline = fields.Date(required=True)
    status = fields.String(required=True)


class InstitutionMetrologistsSchema(_Body):
    institution_id = fields.Integer(required=True)
    institution_name = fields.String(required=True)
    credit_code = fields.String(required=True)
    region_code = fields.String(required=True)
    city = fields.String(allow_none=True)
    city_name = fields.String(allow_none=True)
    city_name_en = fields.String(allow_none=True)
    staff = fields.Integer(required=True, metadata={"description": "Employed on the date"})
    registered = fields.Integer(required=True, metadata={"description": "Of them, registered on the date"})
    share = fields.Float(allow_none=True)
    met = fields.Boolean(allow_none=True)
    needed = fields.Integer(allow_none=True, metadata={"description": "Registrations needed to meet the target"})


class MetrologistFollowUpSchema(_Body):
    as_of = fields.Date(required=True)
    region = fields.String(required=True)
    region_name = fields.String(required=True)
    plan = fields.Nested(FollowUpPlanSchema, allow_none=True)
    target = fields.Float(allow_none=True)
    comparator = fields.String(allow_none=True)
    target_region = fields.String(allow_none=True)
    staff = fields.Integer(required=True)
    registered = fields.Integer(required=True)
    share = fields.Float(allow_none=True)
    needed = fields.Integer(allow_none=True)
    below_target = fields.Integer(required=True)
    sort = fields.String(required=True)
    institutions = fields.List(fields.Nested(InstitutionMetrologistsSchema), required=True)


# --- What the endpoints answer: each report's ``to_dict()``, documented from its dataclass --------------------


def _report_schemas():
    from registry.api.openapi import dataclass_schema
    from registry.catalog.models import SUPERVISION_MODES
    from registry.coverage import candidates, services
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
    reasons = tuple(candidates.REASON_LABELS)
    enums.update({"Candidate.reason": reasons, "Evidence.reason": reasons})
    schemas = {name: dataclass_schema(getattr(services, cls), name, enums=enums) for name, cls in (
        ("CoverageReport", "CoverageReport"), ("CoverageByRegion", "RegionTable"),
        ("SinglePoints", "RiskList"), ("CoverageForecast", "Forecast"), ("ExpiringCertificates", "ExpiringList"))}
    # The gaps always carry ``candidates`` (empty unless asked for with candidates=1).
    schemas["CoverageGaps"] = dataclass_schema(candidates.GapListWithCandidates, "CoverageGaps", enums=enums)
    return schemas


REPORT_SCHEMAS = _report_schemas()
