"""Application schemas: what ``/api/v1/applications`` and ``/api/v1/examiners`` read and write."""
from __future__ import annotations

from datetime import date

import marshmallow as ma
from flask import g
from flask_smorest.fields import Upload
from marshmallow import fields, validate

from registry.api.schemas import Id, InputSchema, QueryArgs, Text
from registry.applications import services
from registry.applications.models import DECISIONS, DOCUMENT_KINDS, KINDS, STATES


class ApplicationSchema(ma.Schema):
    id = fields.Integer(dump_only=True)
    kind = fields.String(validate=validate.OneOf(KINDS))
    state = fields.String(validate=validate.OneOf(STATES))
    institution_id = fields.Integer()
    standard_id = fields.Integer(allow_none=True)
    applicant_id = fields.Integer(allow_none=True)
    filed_by = fields.String(validate=validate.OneOf(("institution", "regulator")))
    title = fields.String(allow_none=True)
    proposal = fields.Dict(metadata={"description": "What is applied for; its keys depend on the kind "
                                                    "(docs/applications.md)"})
    submitted_at = fields.DateTime(allow_none=True)
    returned_reason = fields.String(allow_none=True)
    accepted_at = fields.DateTime(allow_none=True)
    late = fields.Boolean(metadata={"description": "A re-examination applied for after its apply-by date"})
    decision = fields.String(allow_none=True, validate=validate.OneOf(DECISIONS))
    decision_reasons = fields.String(allow_none=True)
    decided_values = fields.Dict(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    rectification_deadline = fields.Date(allow_none=True)
    rectification_response = fields.String(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    withdrawn_at = fields.DateTime(allow_none=True)
    version = fields.Integer(dump_only=True, metadata={"description": "Also the ETag; send it as If-Match"})
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)
    examiner_ids = fields.Method("_examiner_ids", metadata={"type": "array", "items": {"type": "integer"}})
    deadline = fields.Method("_deadline", metadata={"type": "string", "format": "date", "nullable": True,
                                                    "description": "When the current step is due"})
    overdue = fields.Method("_overdue", metadata={"type": "boolean"})
    allowed_actions = fields.Method("_allowed", metadata={"type": "array", "items": {"type": "string"},
                                                          "description": "The steps the caller may take now"})

    def _examiner_ids(self, application) -> list[int]:
        return sorted(e.id for e in application.examiners)

    def _deadline(self, application) -> str | None:
        due = services.deadline(application)
        return due.isoformat() if due else None

    def _overdue(self, application) -> bool:
        return services.overdue(application, date.today())

    def _allowed(self, application) -> list[str]:
        return sorted(services.allowed_actions(g.get("api_user"), application))


class ApplicationDetailSchema(ApplicationSchema):
    missing_documents = fields.Method("_missing", metadata={
        "type": "array", "items": {"type": "string"}, "description": "Checklist documents not yet uploaded"})

    def _missing(self, application) -> list[str]:
        return services.missing_documents(application)


class ApplicationCreateSchema(InputSchema):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    standard_id = Id(allow_none=True)
    title = Text(300, allow_none=True)
    proposal = fields.Dict(load_default=dict)


class ApplicationUpdateSchema(InputSchema):
    title = Text(300, allow_none=True)
    proposal = fields.Dict()


class ApplicationQueryArgs(QueryArgs):
    state = fields.List(fields.String(validate=validate.OneOf(STATES)), metadata={"description": "One or more"})
    kind = fields.String(validate=validate.OneOf(KINDS))
    institution_id = Id(strict=False)
    standard_id = Id(strict=False)
    city = Text(6, metadata={"description": "Region code of the applicant's city (its first four digits count)"})
    late = fields.Boolean()
    submitted_before = fields.Date(metadata={"description": "Submitted on or before this day (the queue by age)"})
    queue = fields.Boolean(load_default=False, metadata={
        "description": "Regulators: the work queue (waiting states, oldest submitted first)"})


class CommentSchema(InputSchema):
    comment = Text(4000, allow_none=True)


class RequiredCommentSchema(InputSchema):
    comment = fields.String(required=True, validate=validate.Length(min=1, max=4000))


class AssignSchema(InputSchema):
    examiner_ids = fields.List(Id(), required=True, validate=validate.Length(min=1, max=50))
    comment = Text(4000, allow_none=True)


class DecisionSchema(InputSchema):
    outcome = fields.String(required=True, validate=validate.OneOf(DECISIONS))
    comment = Text(4000, allow_none=True, metadata={"description": "Required (the reasons) when rejected"})
    values = fields.Dict(allow_none=True, metadata={
        "description": "What the standard receives, over the proposal: certificate_no, issued_on, valid_until; "
                       "effective_on"})
    rectification_deadline = fields.Date(allow_none=True)


class ResponseSchema(InputSchema):
    response = fields.String(required=True, validate=validate.Length(min=1, max=4000))


class EventSchema(ma.Schema):
    id = fields.Integer()
    action = fields.String()
    from_state = fields.String(allow_none=True)
    to_state = fields.String()
    actor_id = fields.Integer(allow_none=True)
    actor_label = fields.String()
    comment = fields.String(allow_none=True)
    at = fields.DateTime()


class DocumentSchema(ma.Schema):
    id = fields.Integer()
    application_id = fields.Integer()
    kind = fields.String(validate=validate.OneOf(DOCUMENT_KINDS))
    version_no = fields.Integer()
    original_name = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    uploaded_by_id = fields.Integer(allow_none=True)
    uploaded_at = fields.DateTime()


class DocumentUploadSchema(ma.Schema):
    kind = fields.String(required=True, validate=validate.OneOf(DOCUMENT_KINDS))
    file = Upload(required=True, metadata={"description": "PDF, PNG, JPEG, .xlsx or .docx, told by content"})


class ExaminerSchema(ma.Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String()
    certificate_no = fields.String(allow_none=True)
    disciplines = fields.List(fields.String())
    organisation = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    active = fields.Boolean()
    version = fields.Integer(dump_only=True)


class ExaminerCreateSchema(InputSchema):
    name = Text(100, required=True)
    certificate_no = Text(100, allow_none=True)
    disciplines = fields.List(Text(2), validate=validate.Length(max=20))
    organisation = Text(200, allow_none=True)
    phone = Text(50, allow_none=True)
    email = Text(254, allow_none=True)
    active = fields.Boolean()


class ExaminerUpdateSchema(ExaminerCreateSchema):
    name = Text(100)


class ExaminerQueryArgs(QueryArgs):
    active = fields.Boolean()
