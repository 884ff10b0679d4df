"""Applications for examination (计量标准考核申请), their timeline, documents and the examiner roster.

The rules (who may do what in which state, and what a decision writes) are
:mod:`registry.applications.services`; these are only the rows.
"""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.auth.models import User
from registry.database.base import TimestampMixin, UTCDateTime, VersionedMixin, enum_column, utcnow
from registry.extensions import db
from registry.institutions.models import Institution
from registry.standards.models import MeasurementStandard

# kind code -> (Chinese, English), in the order of the forms.
KIND_LABELS = {
    "new": ("新建考核", "New standard"),
    "reexamination": ("复查考核", "Re-examination"),
    "replacement": ("更换", "Replacement"),
    "change": ("变更", "Other change"),
    "sealing": ("封存", "Sealing"),
    "revocation": ("撤销", "Revocation"),
    "resumption": ("恢复使用", "Resumption"),
}
KINDS = tuple(KIND_LABELS)
STATE_LABELS = {
    "draft": ("草稿", "Draft"),
    "submitted": ("已提交", "Submitted"),
    "returned": ("退回补正", "Returned for completion"),
    "accepted": ("已受理", "Accepted"),
    "under_review": ("审查中", "Under review"),
    "rectification": ("整改中", "Rectification"),
    "decided": ("已决定", "Decided"),
    "closed": ("已办结", "Closed"),
    "withdrawn": ("已撤回", "Withdrawn"),
}
STATES = tuple(STATE_LABELS)
DECISION_LABELS = {
    "approved": ("准予", "Approved"),
    "approved_after_rectification": ("整改后准予", "Approved after rectification"),
    "rejected": ("不予", "Rejected"),
}
DECISIONS = tuple(DECISION_LABELS)
# The documents an application carries (申请书, 技术报告 ...).
# The timeline's steps (``ApplicationEvent.action``) and the buttons (``allowed_actions``).
ACTION_LABELS = {
    "create": ("创建草稿", "Draft created"), "update_draft": ("修改申请内容", "Edit the application"),
    "add_document": ("上传材料", "Upload documents"), "submit": ("提交申请", "Submit"),
    "return_for_completion": ("退回补正", "Return for completion"), "accept": ("受理", "Accept"),
    "assign_examiners": ("指派考评员", "Assign examiners"), "decide": ("作出决定", "Decide"),
    "respond_rectification": ("提交整改情况", "Report the rectification"),
    "confirm_rectification": ("确认整改完成", "Confirm the rectification"),
    "reject_rectification": ("整改不合格", "Reject the rectification"),
    "close": ("办结", "Close"), "withdraw": ("撤回申请", "Withdraw"),
}
# The same steps as the timeline tells them (done, not to do).
EVENT_LABELS = {
    "create": ("创建草稿", "Draft created"), "update_draft": ("修改申请内容", "Application edited"),
    "add_document": ("上传材料", "Documents uploaded"), "submit": ("提交申请", "Submitted"),
    "return_for_completion": ("退回补正", "Returned for completion"), "accept": ("受理", "Accepted"),
    "assign_examiners": ("指派考评员", "Examiners assigned"), "decide": ("作出决定", "Decided"),
    "respond_rectification": ("提交整改情况", "Rectification reported"),
    "confirm_rectification": ("确认整改完成", "Rectification confirmed"),
    "reject_rectification": ("整改不合格", "Rectification rejected"),
    "close": ("办结", "Closed"), "withdraw": ("撤回申请", "Withdrawn"),
}
DOCUMENT_KIND_LABELS = {
    "application_form": ("计量标准考核（复查）申请书", "Application form"),
    "technical_report": ("计量标准技术报告", "Technical report"),
    "logbook": ("计量标准履历书", "Logbook (履历书)"),
    "equipment_certificates": ("标准器及主要配套设备检定或校准证书", "Equipment certificates"),
    "repeatability_records": ("重复性试验记录", "Repeatability records"),
    "stability_records": ("稳定性考核记录", "Stability records"),
    "old_certificate": ("原计量标准考核证书", "Previous certificate"),
    "change_form": ("更换/封存/撤销申报表", "Change, sealing or revocation form"),
    "rectification_evidence": ("整改材料", "Rectification evidence"),
    "issued_certificate": ("计量标准考核证书", "Issued certificate"),
    "other": ("其他材料", "Other"),
}
DOCUMENT_KINDS = tuple(DOCUMENT_KIND_LABELS)
ACTOR_SIDES = ("institution", "regulator")

application_examiners = sa.Table(
    "application_examiners",
    db.metadata,
    sa.Column("application_id", sa.ForeignKey("applications.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("examiner_id", sa.ForeignKey("examiners.id"), primary_key=True),
    sa.Index("ix_application_examiners_examiner_id", "examiner_id"),
)


class Examiner(TimestampMixin, VersionedMixin, db.Model):
    """An examiner (计量标准考评员) on the roster the regulator keeps."""

    __tablename__ = "examiners"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), index=True)
    certificate_no: Mapped[str | None] = mapped_column(sa.String(100), unique=True)
    # JJF 1022 discipline codes ("04", "12"), as a list.
    disciplines: Mapped[list] = mapped_column(sa.JSON, default=list)
    organisation: Mapped[str | None] = mapped_column(sa.String(200))
    phone: Mapped[str | None] = mapped_column(sa.String(50))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True, nullable=False)

    def __repr__(self) -> str:
        return f"<Examiner {self.name}>"


class Application(TimestampMixin, VersionedMixin, db.Model):
    """One application by an institution (or a regulator, for sealing and revocation).

    ``proposal`` is what the application asks for, by kind: for ``new`` the
    standard's fields; for ``reexamination`` the new ``issued_on``,
    ``valid_until`` and optionally ``certificate_no``; for ``sealing`` and
    ``revocation`` and ``resumption`` the ``effective_on`` date; for
    ``replacement`` and ``change`` a ``description`` and the ``changes``
    (field → new value).  The decision may fix the final values
    (``decided_values``), which is what the standard receives.
    """

    __tablename__ = "applications"
    __table_args__ = (
        sa.Index("ix_applications_queue", "state", "submitted_at"),
        sa.Index("ix_applications_institution", "institution_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(enum_column(KINDS, "application_kind"))
    state: Mapped[str] = mapped_column(enum_column(STATES, "application_state"), default="draft")
    institution_id: Mapped[int] = mapped_column(sa.ForeignKey("institutions.id"))
    standard_id: Mapped[int | None] = mapped_column(sa.ForeignKey("measurement_standards.id"), index=True)
    applicant_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # Who filed it: an institution, or a regulator (sealing and revocation on its own motion).
    filed_by: Mapped[str] = mapped_column(enum_column(ACTOR_SIDES, "application_side"), default="institution")
    title: Mapped[str | None] = mapped_column(sa.String(300))
    proposal: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    returned_reason: Mapped[str | None] = mapped_column(sa.String(2000))
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A re-examination applied for after its apply-by date: accepted, but flagged.
    late: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)
    review_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision: Mapped[str | None] = mapped_column(enum_column(DECISIONS, "application_decision"))
    decision_reasons: Mapped[str | None] = mapped_column(sa.String(4000))
    decided_values: Mapped[dict | None] = mapped_column(sa.JSON)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    rectification_deadline: Mapped[date | None] = mapped_column(sa.Date)
    rectification_response: Mapped[str | None] = mapped_column(sa.String(4000))
    rectification_responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    institution: Mapped[Institution] = relationship()
    standard: Mapped[MeasurementStandard | None] = relationship()
    applicant: Mapped[User | None] = relationship(foreign_keys=[applicant_id])
    examiners: Mapped[list[Examiner]] = relationship(secondary=application_examiners, order_by=Examiner.name)

    def __repr__(self) -> str:
        return f"<Application {self.id} {self.kind} {self.state}>"


class ApplicationEvent(db.Model):
    """One step of an application's timeline: who moved it from which state to which, and why."""

    __tablename__ = "application_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(sa.String(40))
    from_state: Mapped[str | None] = mapped_column(sa.String(20))
    to_state: Mapped[str] = mapped_column(sa.String(20))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(sa.String(254))
    comment: Mapped[str | None] = mapped_column(sa.String(4000))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class ApplicationDocument(db.Model):
    """One version of one document of an application; a new version is a new row and a new object."""

    __tablename__ = "application_documents"
    __table_args__ = (
        sa.UniqueConstraint("application_id", "kind", "version_no", name="uq_application_documents_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(enum_column(DOCUMENT_KINDS, "application_document_kind"))
    version_no: Mapped[int] = mapped_column(sa.Integer, default=1, nullable=False)
    original_name: Mapped[str] = mapped_column(sa.String(200))
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int] = mapped_column(sa.BigInteger)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    storage_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class StandardCertificate(db.Model):
    """Every certificate a standard has held, with its dates and the application that produced it.

    The standard's own ``issued_on``/``valid_until`` are its current
    certificate; ``certified_since`` on the standard is the start of the
    unbroken run of these, which is what coverage counts from.
    """

    __tablename__ = "standard_certificates"
    __table_args__ = (
        sa.CheckConstraint("valid_until >= issued_on", name="validity_order"),
        sa.Index("ix_standard_certificates_standard", "standard_id", "issued_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    standard_id: Mapped[int] = mapped_column(sa.ForeignKey("measurement_standards.id", ondelete="CASCADE"))
    certificate_no: Mapped[str] = mapped_column(sa.String(100))
    issued_on: Mapped[date] = mapped_column(sa.Date)
    valid_until: Mapped[date] = mapped_column(sa.Date)
    application_id: Mapped[int | None] = mapped_column(sa.ForeignKey("applications.id"), index=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
