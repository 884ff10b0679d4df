"""Every rule of an application's life, in one module: pages, API and CLI call these and nothing else.

Life cycle (each step one function, allowed only to its side and state;
``ACTIONS`` is the table, ``docs/applications.md`` prints it)::

    draft ──submit──▶ submitted ──accept──▶ accepted ──assign_examiners──▶ under_review
      ▲                  │                      │                               │
      └──(update)── returned ◀──return_for_completion                          decide
                                                 └──────────── decide ──────────┤
       approved ─▶ decided (the standard is written)   rejected ─▶ decided (nothing else changes)
       approved_after_rectification ─▶ rectification ──respond_rectification──▶ (response kept)
                                        ──confirm_rectification──▶ decided (the standard is written)
    decided ──close──▶ closed;   withdraw (the applicant, before any decision) ─▶ withdrawn

The applicant side is the institution's users (or a regulator, for a sealing
or revocation it files itself); the regulator side is regulators and admins.
Each step checks the version (ETag/If-Match), writes an
:class:`~registry.applications.models.ApplicationEvent` with the comment and
an audit row.  An approval writes the standard in the same transaction, its
audit rows noted ``application:<id>``.  Services flush; the boundary commits.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, BinaryIO, Iterable, Iterator

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

from registry.applications import workdays
from registry.applications.models import (
    DECISIONS,
    DOCUMENT_KINDS,
    KINDS,
    Application,
    ApplicationDocument,
    ApplicationEvent,
    Examiner,
    StandardCertificate,
)
from registry.audit.services import SYSTEM_ACTOR, audit_note, record, snapshot
from registry.database.base import utcnow
from registry.errors import Conflict, Forbidden, NotFound, ValidationError
from registry.extensions import db
from registry.records.fields import a_date, optional_text
from registry.institutions.models import Institution
from registry.records.services import audited_create, audited_update, check_version
from registry.standards.models import MeasurementStandard
from registry.standards.services import (
    _apply as apply_standard_values,
    clean_standard,
    default_valid_until,
    register_standard,
    update_standard,
)

APPLICANT, REGULATOR = "applicant", "regulator"
# action -> (side, states it may start from)
ACTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "update_draft": (APPLICANT, ("draft", "returned")),
    "submit": (APPLICANT, ("draft", "returned")),
    "withdraw": (APPLICANT, ("draft", "submitted", "returned", "accepted", "under_review")),
    # The applicant completes the file; a regulator adds review documents (the issued certificate ...).
    "add_document": (APPLICANT, ("draft", "returned", "rectification")),
    "respond_rectification": (APPLICANT, ("rectification",)),
    "return_for_completion": (REGULATOR, ("submitted",)),
    "accept": (REGULATOR, ("submitted",)),
    "assign_examiners": (REGULATOR, ("accepted", "under_review")),
    "decide": (REGULATOR, ("accepted", "under_review")),
    "confirm_rectification": (REGULATOR, ("rectification",)),
    "reject_rectification": (REGULATOR, ("rectification",)),
    "close": (REGULATOR, ("decided",)),
}
REVIEW_UPLOAD_STATES = ("accepted", "under_review", "rectification", "decided")
# What each step leads to (decide: by its outcome).
NEXT_STATE = {
    "submit": "submitted", "withdraw": "withdrawn", "return_for_completion": "returned", "accept": "accepted",
    "assign_examiners": "under_review", "confirm_rectification": "decided", "reject_rectification": "decided",
    "close": "closed",
}
WAITING_STATES = ("submitted", "accepted", "under_review", "rectification")
# The documents an institution's application must carry before it can be submitted (JJF 1033's lists,
# see docs/applications.md); an application a regulator files itself needs none.
REQUIRED_DOCUMENTS: dict[str, tuple[str, ...]] = {
    "new": ("application_form", "technical_report", "equipment_certificates"),
    "reexamination": ("application_form", "old_certificate", "equipment_certificates", "repeatability_records",
                      "stability_records"),
    "replacement": ("change_form",),
    "change": (),
    "sealing": ("change_form",),
    "revocation": ("change_form",),
    "resumption": ("application_form",),
}
# Fields a replacement or change may set on the standard; a replacement changing range or uncertainty is
# examined as new (JJF 1033), so it is refused with that advice.
CHANGE_FIELDS = ("name", "responsible_person", "range_text", "uncertainty_text", "issuer", "regulation_ids")
NEW_EXAMINATION_FIELDS = ("range_text", "uncertainty_text")
STANDARD_PROPOSAL_FIELDS = ("name", "code", "category", "discipline_code", "range_text", "uncertainty_text",
                            "issuer", "responsible_person", "catalog_line_ids", "regulation_ids",
                            "certificate_no", "issued_on", "valid_until")
STATUS_KINDS = {"sealing": "sealed", "revocation": "revoked", "resumption": "in_use"}
_DATE = a_date(optional=True)
_COMMENT = optional_text(4000)


# --- Who is asking ---------------------------------------------------------------------------------


def is_regulator(actor: Any) -> bool:
    return actor is None or actor.role in ("admin", "regulator")


def is_applicant(actor: Any, application: Application) -> bool:
    """The side that filed it: the institution's users, or the regulators for what they filed."""
    if application.filed_by == "regulator":
        return is_regulator(actor)
    return actor is None or (actor.role == "institution" and actor.institution_id == application.institution_id)


def can_read(actor: Any, application: Application) -> bool:
    return is_regulator(actor) or actor.institution_id == application.institution_id


def get_application(application_id: Any, *, actor: Any) -> Application:
    """One application the actor may see; another institution's is answered as not existing (404)."""
    found = db.session.get(Application, application_id) if str(application_id).isdigit() else None
    if found is None or not can_read(actor, found):
        raise NotFound("申请不存在 / no such application")
    return found


def may(actor: Any, application: Application, action: str) -> bool:
    if action == "add_document" and is_regulator(actor) and application.state in REVIEW_UPLOAD_STATES:
        return True
    side, states = ACTIONS[action]
    if application.state not in states:
        return False
    if action == "confirm_rectification" and not application.rectification_response:
        return False
    return is_applicant(actor, application) if side == APPLICANT else is_regulator(actor)


def allowed_actions(actor: Any, application: Application) -> set[str]:
    """The steps ``actor`` may take on ``application`` now (pages show a button for each)."""
    return {action for action in ACTIONS if may(actor, application, action)}


def _ensure(actor: Any, application: Application, action: str, expected_version: int | None) -> None:
    if not can_read(actor, application):
        raise NotFound("申请不存在 / no such application")
    side, states = ACTIONS[action]
    allowed_side = is_applicant(actor, application) if side == APPLICANT else is_regulator(actor)
    if not allowed_side:
        raise Forbidden("无权进行此操作 / this step is not yours to take")
    if application.state not in states:
        raise Conflict(f"申请当前状态（{application.state}）不能进行此操作 / "
                       f"an application in state {application.state} cannot take the step {action}", field="state")
    check_version(application, expected_version)


def _step(application: Application, action: str, to_state: str, *, actor: Any, comment: str | None,
          before: dict[str, Any]) -> Application:
    """Move to ``to_state``; write the timeline event and the audit row."""
    from_state = application.state
    application.state = to_state
    db.session.flush()
    db.session.add(ApplicationEvent(
        application_id=application.id, action=action, from_state=from_state, to_state=to_state,
        actor_id=getattr(actor, "id", None), actor_label=getattr(actor, "email", None) or SYSTEM_ACTOR,
        comment=comment, at=utcnow()))
    after = {key: _json(getattr(application, key)) for key in before}
    after["state"] = to_state
    record(action, application, actor=actor, before={**before, "state": from_state}, after=after, note=comment)
    return application


def _json(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def _comment(comment: str | None, *, required: bool = False, field: str = "comment") -> str | None:
    try:
        text = _COMMENT(comment)
    except ValidationError as error:
        raise ValidationError(error.message, field=field) from None
    if required and not text:
        raise ValidationError("须填写说明 / a comment is required", field=field)
    return text


# --- Drafts ---------------------------------------------------------------------------------------


def _standard_for(kind: str, standard_id: Any, institution_id: int) -> MeasurementStandard | None:
    if kind == "new":
        if standard_id not in (None, ""):
            raise ValidationError("新建考核不指定计量标准 / a new-standard application names no standard",
                                  field="standard_id")
        return None
    standard = db.session.get(MeasurementStandard, standard_id) if isinstance(standard_id, int) else None
    if standard is None or standard.institution_id != institution_id or standard.withdrawn_at is not None:
        raise ValidationError("计量标准不存在 / no such standard", field="standard_id")
    return standard


def clean_proposal(kind: str, proposal: Any, standard: MeasurementStandard | None) -> dict[str, Any]:
    """Check what the application asks for; return it JSON-safe (dates as ISO text)."""
    if proposal is None:
        proposal = {}
    if not isinstance(proposal, dict):
        raise ValidationError("申请内容应为对象 / the proposal must be an object", field="proposal")
    if kind == "new":
        allowed = STANDARD_PROPOSAL_FIELDS
    elif kind == "reexamination":
        allowed = ("certificate_no", "issued_on", "valid_until")
    elif kind in STATUS_KINDS:
        allowed = ("effective_on",)
    else:
        allowed = ("description", "changes")
    unknown = sorted(set(proposal) - set(allowed))
    if unknown:
        raise ValidationError(f"不可填写的内容 / unknown fields: {', '.join(unknown)}",
                              errors={f"proposal.{name}": ["不可填写 / not allowed"] for name in unknown})
    out = dict(proposal)
    if kind == "new":
        clean_standard({k: v for k, v in proposal.items()}, partial=True)
    elif kind == "reexamination":
        cleaned = clean_standard(dict(proposal), partial=True)
        out = {k: _json(v) for k, v in cleaned.items()}
    elif kind in STATUS_KINDS:
        try:
            day = _DATE(proposal.get("effective_on"))
        except ValidationError as error:
            raise ValidationError(error.message, field="proposal.effective_on") from None
        out = {"effective_on": day.isoformat()} if day else {}
    else:
        out["description"] = _comment(proposal.get("description"), field="proposal.description")
        changes = proposal.get("changes") or {}
        if not isinstance(changes, dict) or set(changes) - set(CHANGE_FIELDS):
            raise ValidationError(f"可变更的字段：{', '.join(CHANGE_FIELDS)} / changes may set only these fields",
                                  field="proposal.changes")
        if kind == "replacement" and set(changes) & set(NEW_EXAMINATION_FIELDS):
            raise ValidationError("更换后测量范围、不确定度或准确度等级改变的，应按新建计量标准申请考核 / "
                                  "a replacement that changes the range, uncertainty or class is examined as new: "
                                  "apply for a new standard", field="proposal.changes")
        clean_standard(dict(changes), partial=True, current=standard)
        out["changes"] = changes
    return out


def create_draft(data: dict[str, Any], *, actor: Any) -> Application:
    """Start an application (``kind``, ``standard_id``, ``title``, ``proposal``) as a draft.

    An institution's user files for their institution; a regulator files only
    a sealing or revocation (on its own motion), naming the standard.
    """
    kind = data.get("kind")
    if kind not in KINDS:
        raise ValidationError(f"申请类型应为 {', '.join(KINDS)} / kind must be one of {', '.join(KINDS)}",
                              field="kind")
    unknown = sorted(set(data) - {"kind", "standard_id", "title", "proposal", "institution_id"})
    if unknown:
        raise ValidationError(f"不可填写的字段 / unknown fields: {', '.join(unknown)}",
                              errors={name: ["不可填写 / not allowed"] for name in unknown})
    if actor is not None and actor.role == "institution":
        filed_by, institution_id = "institution", actor.institution_id
        if data.get("institution_id") not in (None, institution_id):
            raise ValidationError("机构不存在 / no such institution", field="institution_id")
    else:
        if kind not in ("sealing", "revocation"):
            raise Forbidden("监管人员只能提出封存或撤销 / regulators file only sealings and revocations")
        filed_by = "regulator"
        standard = db.session.get(MeasurementStandard, data.get("standard_id")) \
            if isinstance(data.get("standard_id"), int) else None
        if standard is None:
            raise ValidationError("计量标准不存在 / no such standard", field="standard_id")
        institution_id = standard.institution_id
    standard = _standard_for(kind, data.get("standard_id"), institution_id)
    application = Application(
        kind=kind, state="draft", institution_id=institution_id, standard_id=standard.id if standard else None,
        applicant_id=getattr(actor, "id", None), filed_by=filed_by,
        title=optional_text(300)(data.get("title")), proposal=clean_proposal(kind, data.get("proposal"), standard))
    # The rules are this module's (side, state): registry.records.services' owner checks do not apply.
    db.session.add(application)
    db.session.flush()
    record("create", application, actor=actor)
    db.session.add(ApplicationEvent(
        application_id=application.id, action="create", from_state=None, to_state="draft",
        actor_id=getattr(actor, "id", None), actor_label=getattr(actor, "email", None) or SYSTEM_ACTOR, at=utcnow()))
    return application


def update_draft(application: Application, data: dict[str, Any], *, actor: Any,
                 expected_version: int | None) -> Application:
    """Change a draft's (or returned application's) ``title`` and ``proposal``."""
    _ensure(actor, application, "update_draft", expected_version)
    unknown = sorted(set(data) - {"title", "proposal"})
    if unknown:
        raise ValidationError(f"不可修改的字段 / fields that cannot be set: {', '.join(unknown)}",
                              errors={name: ["不可修改 / cannot be set"] for name in unknown})
    values = {}
    if "title" in data:
        values["title"] = optional_text(300)(data["title"])
    if "proposal" in data:
        values["proposal"] = clean_proposal(application.kind, data["proposal"], application.standard)

    before = {key: _json(getattr(application, key)) for key in values}
    changed = {key: value for key, value in values.items() if getattr(application, key) != value}
    if not changed:
        return application
    for key, value in changed.items():
        setattr(application, key, value)
    db.session.flush()
    record("update", application, actor=actor, before={k: before[k] for k in changed},
           after={k: _json(v) for k, v in changed.items()})
    return application


# --- Steps ------------------------------------------------------------------------------------------


def missing_documents(application: Application) -> list[str]:
    """The checklist's documents not yet uploaded (none for what a regulator filed)."""
    if application.filed_by == "regulator":
        return []
    have = set(db.session.scalars(sa.select(ApplicationDocument.kind).where(
        ApplicationDocument.application_id == application.id).distinct()))
    return [kind for kind in REQUIRED_DOCUMENTS[application.kind] if kind not in have]


def reexamination_due_by(application: Application) -> date | None:
    """A re-examination's apply-by date: the certificate's expiry less ``REEXAMINATION_LEAD_MONTHS``."""
    from registry.coverage.services import reexamination_apply_by

    if application.kind != "reexamination" or application.standard is None:
        return None
    return reexamination_apply_by(application.standard.valid_until, current_app.config["REEXAMINATION_LEAD_MONTHS"])


def submit(application: Application, *, actor: Any, comment: str | None = None,
           expected_version: int | None = None, today: date | None = None) -> Application:
    """Send the application to the regulator; every checklist document must be there.

    A re-examination submitted after its apply-by date is flagged ``late`` (and still accepted).
    """
    _ensure(actor, application, "submit", expected_version)
    comment = _comment(comment)
    missing = missing_documents(application)
    if missing:
        raise ValidationError(f"缺少材料 / documents missing: {', '.join(missing)}",
                              errors={"documents": missing})
    if application.kind in ("sealing", "revocation", "resumption") and not application.proposal.get("effective_on"):
        raise ValidationError("须填写生效日期 / the effective date is required", field="proposal.effective_on")
    if application.kind == "new" and not {"name", "category"} <= set(application.proposal):
        raise ValidationError("须填写计量标准名称和类别 / the standard's name and category are required",
                              field="proposal")
    if application.kind in ("replacement", "change") and not application.proposal.get("description"):
        raise ValidationError("须说明更换或变更的内容 / describe the change", field="proposal.description")
    before = {"submitted_at": _json(application.submitted_at), "late": application.late}
    now = utcnow()
    application.submitted_at = now
    apply_by = reexamination_due_by(application)
    application.late = bool(apply_by and (today or now.date()) > apply_by)
    return _step(application, "submit", "submitted", actor=actor, comment=comment, before=before)


def return_for_completion(application: Application, *, actor: Any, comment: str,
                          expected_version: int | None = None) -> Application:
    """补正: back to the applicant with the reason (required)."""
    _ensure(actor, application, "return_for_completion", expected_version)
    comment = _comment(comment, required=True)
    before = {"returned_reason": application.returned_reason}
    application.returned_reason = comment
    return _step(application, "return_for_completion", "returned", actor=actor, comment=comment, before=before)


def accept(application: Application, *, actor: Any, comment: str | None = None,
           expected_version: int | None = None) -> Application:
    """受理."""
    _ensure(actor, application, "accept", expected_version)
    before = {"accepted_at": None}
    application.accepted_at = utcnow()
    return _step(application, "accept", "accepted", actor=actor, comment=_comment(comment), before=before)


def assign_examiners(application: Application, examiner_ids: list[int], *, actor: Any, comment: str | None = None,
                     expected_version: int | None = None) -> Application:
    """Assign examiners (考评员) from the roster; the application is then under review."""
    _ensure(actor, application, "assign_examiners", expected_version)
    if not isinstance(examiner_ids, (list, tuple)) or not examiner_ids \
            or not all(isinstance(i, int) for i in examiner_ids):
        raise ValidationError("须指定考评员 / name at least one examiner", field="examiner_ids")
    found = list(db.session.scalars(sa.select(Examiner).where(Examiner.id.in_(set(examiner_ids)),
                                                              Examiner.active.is_(True))))
    missing = sorted(set(examiner_ids) - {e.id for e in found})
    if missing:
        raise ValidationError(f"考评员不存在或已停用：{missing} / unknown or inactive examiners {missing}",
                              field="examiner_ids")
    before = {"examiner_ids": sorted(e.id for e in application.examiners)}
    application.examiners = found
    if application.review_started_at is None:
        application.review_started_at = utcnow()
    _step(application, "assign_examiners", "under_review", actor=actor, comment=_comment(comment), before={})
    return application


def decide(application: Application, outcome: str, *, actor: Any, comment: str | None = None,
           values: dict[str, Any] | None = None, rectification_deadline: Any = None,
           expected_version: int | None = None) -> Application:
    """The decision: ``approved`` (the standard is written now), ``approved_after_rectification``
    (整改: a deadline; written when the regulator confirms the response) or ``rejected`` (reasons
    required; nothing but the application changes).

    ``values`` fixes what the standard receives (for 新建 and 复查 the certificate's
    ``certificate_no``, ``issued_on``, ``valid_until``; for 封存/撤销/恢复 ``effective_on``),
    over what the application proposed.
    """
    _ensure(actor, application, "decide", expected_version)
    if outcome not in DECISIONS:
        raise ValidationError(f"决定应为 {', '.join(DECISIONS)} / outcome must be one of {', '.join(DECISIONS)}",
                              field="outcome")
    comment = _comment(comment, required=outcome == "rejected", field="comment")
    before = {"decision": None, "decided_at": None, "rectification_deadline": None, "decided_values": None}
    application.decision = outcome
    application.decision_reasons = comment
    application.decided_by_id = getattr(actor, "id", None)
    if outcome == "rejected":
        application.decided_at = utcnow()
        return _step(application, "decide", "decided", actor=actor, comment=comment, before=before)
    merged = _decided_values(application, values)
    application.decided_values = merged
    if outcome == "approved_after_rectification":
        try:
            deadline = a_date()(rectification_deadline)
        except ValidationError as error:
            raise ValidationError(error.message, field="rectification_deadline") from None
        application.rectification_deadline = deadline
        _check_effect(application, merged)  # refuse now what could never be written later
        return _step(application, "decide", "rectification", actor=actor, comment=comment, before=before)
    application.decided_at = utcnow()
    _write_standard(application, merged, actor=actor)
    return _step(application, "decide", "decided", actor=actor, comment=comment, before=before)


def respond_rectification(application: Application, response: str, *, actor: Any,
                          expected_version: int | None = None) -> Application:
    """The applicant's answer to 整改 (evidence goes up as ``rectification_evidence`` documents)."""
    _ensure(actor, application, "respond_rectification", expected_version)
    response = _comment(response, required=True, field="response")
    before = {"rectification_response": application.rectification_response}
    application.rectification_response = response
    application.rectification_responded_at = utcnow()
    return _step(application, "respond_rectification", "rectification", actor=actor, comment=response,
                 before=before)


def confirm_rectification(application: Application, *, actor: Any, comment: str | None = None,
                          expected_version: int | None = None) -> Application:
    """The rectification is done: the approval takes effect and the standard is written."""
    _ensure(actor, application, "confirm_rectification", expected_version)
    if not application.rectification_response:
        raise Conflict("申请人尚未提交整改情况 / the applicant has not responded yet", field="state")
    application.decided_at = utcnow()
    _write_standard(application, dict(application.decided_values or {}), actor=actor)
    return _step(application, "confirm_rectification", "decided", actor=actor, comment=_comment(comment),
                 before={"decided_at": None})


def reject_rectification(application: Application, *, actor: Any, comment: str,
                         expected_version: int | None = None) -> Application:
    """The rectification failed (or its deadline passed): the application is rejected."""
    _ensure(actor, application, "reject_rectification", expected_version)
    comment = _comment(comment, required=True)
    application.decision = "rejected"
    application.decision_reasons = comment
    application.decided_at = utcnow()
    return _step(application, "reject_rectification", "decided", actor=actor, comment=comment,
                 before={"decision": "approved_after_rectification"})


def close(application: Application, *, actor: Any, comment: str | None = None,
          expected_version: int | None = None) -> Application:
    """办结."""
    _ensure(actor, application, "close", expected_version)
    application.closed_at = utcnow()
    return _step(application, "close", "closed", actor=actor, comment=_comment(comment), before={"closed_at": None})


def withdraw(application: Application, *, actor: Any, comment: str | None = None,
             expected_version: int | None = None) -> Application:
    """The applicant withdraws it, before any decision."""
    _ensure(actor, application, "withdraw", expected_version)
    application.withdrawn_at = utcnow()
    return _step(application, "withdraw", "withdrawn", actor=actor, comment=_comment(comment),
                 before={"withdrawn_at": None})


# --- What an approval writes -----------------------------------------------------------------------


def _decided_values(application: Application, values: dict[str, Any] | None) -> dict[str, Any]:
    if values is not None and not isinstance(values, dict):
        raise ValidationError("决定内容应为对象 / values must be an object", field="values")
    merged = {**(application.proposal or {}), **(values or {})}
    if application.kind == "new":
        checked = clean_standard({**merged, "institution_id": application.institution_id}, partial=True)
        for name in ("certificate_no", "issued_on"):
            if name not in checked:
                raise ValidationError("须填写证书编号和发证日期 / the certificate's number and issue date are required",
                                      field=f"values.{name}")
    elif application.kind == "reexamination":
        checked = clean_standard(
            {k: merged[k] for k in ("certificate_no", "issued_on", "valid_until") if k in merged}, partial=True)
        if "issued_on" not in checked:
            raise ValidationError("须填写新证书的发证日期 / the new certificate's issue date is required",
                                  field="values.issued_on")
        checked.setdefault("valid_until", default_valid_until(checked["issued_on"]))
        merged.update({k: _json(v) for k, v in checked.items()})
    elif application.kind in STATUS_KINDS:
        try:
            day = a_date()(merged.get("effective_on"))
        except ValidationError as error:
            raise ValidationError(error.message, field="values.effective_on") from None
        merged["effective_on"] = day.isoformat()
    return {k: _json(v) for k, v in merged.items()}


def _check_effect(application: Application, values: dict[str, Any]) -> None:
    standard = application.standard
    if application.kind == "reexamination":
        issued_on = date.fromisoformat(values["issued_on"])
        if issued_on > standard.valid_until + timedelta(days=1):
            raise ValidationError(
                "原证书已于新证书发证前过期：复查须在证书有效期内进行，过期后应按新建计量标准考核 / the old certificate "
                f"expired ({standard.valid_until.isoformat()}) before the new one starts: a re-examination renews a "
                "valid certificate; after expiry apply for a new standard (新建)", field="values.issued_on")
        if issued_on <= standard.issued_on:
            raise ValidationError("新证书的发证日期应晚于原证书 / the new certificate must start after the old one's "
                                  f"issue date ({standard.issued_on.isoformat()})", field="values.issued_on")
    elif application.kind == "resumption":
        day = date.fromisoformat(values["effective_on"])
        if not standard.issued_on <= day <= standard.valid_until:
            raise ValidationError("证书在恢复使用之日无效，应申请复查考核 / the certificate is not valid on that day: "
                                  "apply for a re-examination", field="values.effective_on")


def record_certificate(standard: MeasurementStandard, application: Application | None) -> StandardCertificate:
    """Keep ``standard``'s current certificate in its history (once)."""
    found = db.session.scalar(sa.select(StandardCertificate).where(
        StandardCertificate.standard_id == standard.id, StandardCertificate.issued_on == standard.issued_on,
        StandardCertificate.certificate_no == standard.certificate_no))
    if found is None:
        found = StandardCertificate(standard_id=standard.id, certificate_no=standard.certificate_no,
                                    issued_on=standard.issued_on, valid_until=standard.valid_until,
                                    application_id=application.id if application else None)
        db.session.add(found)
        db.session.flush()
    elif application is not None and found.application_id is None:
        # The standard's registration recorded the certificate; the approval that issued it is noted now.
        found.application_id = application.id
        db.session.flush()
    return found


def _write_standard(application: Application, values: dict[str, Any], *, actor: Any) -> None:
    """What an approval does to the standard, audited with ``application:<id>`` as the note."""
    _check_effect(application, values)
    kind = application.kind
    with audit_note(f"application:{application.id}"):
        if kind == "new":
            data = {k: v for k, v in values.items() if k in STANDARD_PROPOSAL_FIELDS}
            data.update(institution_id=application.institution_id, status="in_use")
            standard = register_standard(data, actor=actor)
            application.standard_id = standard.id
            application.standard = standard
            record_certificate(standard, application)
            return
        standard = application.standard
        if kind == "reexamination":
            record_certificate(standard, None)
            since = standard.certified_since or standard.issued_on
            cleaned = clean_standard({k: values[k] for k in ("certificate_no", "issued_on", "valid_until")
                                      if k in values}, partial=True, current=standard)

            def renew(obj: MeasurementStandard) -> None:
                apply_standard_values(obj, cleaned, new=False)
                obj.certified_since = since

            audited_update(standard, renew, actor=actor, expected_version=None)
            record_certificate(standard, application)
        elif kind in STATUS_KINDS:
            update_standard(standard, {"status": STATUS_KINDS[kind], "status_since": values["effective_on"]},
                            actor=actor, expected_version=None, application_id=application.id)
        else:  # replacement, change: the fields given, and the change itself in the standard's history
            changes = dict(values.get("changes") or {})
            if changes:
                update_standard(standard, changes, actor=actor, expected_version=None)
            record(kind, standard, actor=actor, before=None,
                   after={"application_id": application.id, "description": values.get("description"),
                          "changes": changes})


# --- Documents --------------------------------------------------------------------------------------


def add_document(application: Application, kind: str, stream: BinaryIO, filename: str | None, *,
                 actor: Any) -> ApplicationDocument:
    """Store one uploaded file as the next version of ``kind``; refused uploads leave nothing behind.

    The applicant uploads while the application is theirs to complete (draft,
    returned, rectification); a regulator adds review documents (the issued
    certificate ...) once it is accepted.
    """
    from registry.documents.checks import DocumentRefused, store_upload
    from registry.documents.storage import storage

    if not can_read(actor, application):
        raise NotFound("申请不存在 / no such application")
    if not may(actor, application, "add_document"):
        if not (is_applicant(actor, application) or is_regulator(actor)):
            raise Forbidden("无权上传 / you may not upload to this application")
        raise Conflict(f"申请当前状态（{application.state}）不能上传材料 / no uploads in state {application.state}",
                       field="state")
    if kind not in DOCUMENT_KINDS:
        raise ValidationError(f"材料类型应为 {', '.join(DOCUMENT_KINDS)} / unknown document kind", field="kind")
    if filename and ("/" in filename or "\\" in filename or "\x00" in filename):
        # A browser sends the file's own name; a path is a crafted request: refused, not quietly trimmed.
        raise DocumentRefused("文件名不能包含路径 / the file name must not contain a path", field="file")
    store = storage()
    stored = store_upload(stream, filename, storage=store, prefix=f"applications/{application.id}",
                          max_bytes=current_app.config["DOCUMENT_MAX_BYTES"])
    try:
        latest = db.session.scalar(sa.select(sa.func.max(ApplicationDocument.version_no)).where(
            ApplicationDocument.application_id == application.id, ApplicationDocument.kind == kind)) or 0
        document = ApplicationDocument(
            application_id=application.id, kind=kind, version_no=latest + 1, original_name=stored.name,
            content_type=stored.content_type, size=stored.size, sha256=stored.sha256, storage_key=stored.key,
            uploaded_by_id=getattr(actor, "id", None), uploaded_at=utcnow())
        db.session.add(document)
        db.session.flush()
        record("upload", application, actor=actor, before=None, after=snapshot(document))
    except BaseException:
        store.delete(stored.key)
        raise
    return document


def get_document(application: Application, document_id: Any) -> ApplicationDocument:
    found = db.session.get(ApplicationDocument, document_id) if str(document_id).isdigit() else None
    if found is None or found.application_id != application.id:
        raise NotFound("材料不存在 / no such document")
    return found


def open_document(application_id: Any, document_id: Any, *, actor: Any) -> tuple[ApplicationDocument, Iterator[bytes]]:
    """A document and its bytes, for those who may see the application (404 for anyone else)."""
    from registry.documents.storage import ObjectMissing, storage

    application = get_application(application_id, actor=actor)
    document = get_document(application, document_id)
    try:
        return document, storage().open(document.storage_key)
    except ObjectMissing:
        raise NotFound("文件不存在 / the file is missing from storage") from None


def documents_query(application: Application) -> sa.Select:
    return (sa.select(ApplicationDocument).where(ApplicationDocument.application_id == application.id)
            .order_by(ApplicationDocument.kind, ApplicationDocument.version_no.desc()))


def events_query(application: Application) -> sa.Select:
    return (sa.select(ApplicationEvent).where(ApplicationEvent.application_id == application.id)
            .order_by(ApplicationEvent.at, ApplicationEvent.id))


# --- Examiner roster (regulators) ------------------------------------------------------------------

EXAMINER_FIELDS = ("name", "certificate_no", "disciplines", "organisation", "phone", "email", "active")


def _ensure_regulator(actor: Any) -> None:
    if not is_regulator(actor):
        raise Forbidden("考评员名录由监管人员维护 / the examiner roster is kept by regulators")


def _clean_examiner(data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    unknown = sorted(set(data) - set(EXAMINER_FIELDS))
    if unknown:
        raise ValidationError(f"不可填写的字段 / unknown fields: {', '.join(unknown)}",
                              errors={name: ["不可填写 / not allowed"] for name in unknown})
    out: dict[str, Any] = {}
    if "name" in data or not partial:
        name = optional_text(100)(data.get("name"))
        if not name:
            raise ValidationError("须填写姓名 / the name is required", field="name")
        out["name"] = name
    for key, length in (("certificate_no", 100), ("organisation", 200), ("phone", 50), ("email", 254)):
        if key in data:
            out[key] = optional_text(length)(data[key])
    if "disciplines" in data:
        value = data["disciplines"] or []
        if not isinstance(value, list) or not all(isinstance(v, str) and v.isdigit() and len(v) == 2 for v in value):
            raise ValidationError("专业应为两位代码列表 / disciplines: a list of two-digit codes", field="disciplines")
        out["disciplines"] = sorted(set(value))
    if "active" in data:
        if not isinstance(data["active"], bool):
            raise ValidationError("应为 true 或 false / must be true or false", field="active")
        out["active"] = data["active"]
    return out


def create_examiner(data: dict[str, Any], *, actor: Any) -> Examiner:
    _ensure_regulator(actor)
    values = _clean_examiner(data, partial=False)
    if values.get("certificate_no") and db.session.scalar(
            sa.select(Examiner.id).where(Examiner.certificate_no == values["certificate_no"])):
        raise Conflict("考评员证号已存在 / an examiner with this certificate number exists", field="certificate_no")
    return audited_create(Examiner(**{"disciplines": [], "active": True, **values}), actor=actor)


def update_examiner(examiner: Examiner, data: dict[str, Any], *, actor: Any,
                    expected_version: int | None) -> Examiner:
    _ensure_regulator(actor)
    values = _clean_examiner(data, partial=True)
    if values.get("certificate_no") and db.session.scalar(sa.select(Examiner.id).where(
            Examiner.certificate_no == values["certificate_no"], Examiner.id != examiner.id)):
        raise Conflict("考评员证号已存在 / an examiner with this certificate number exists", field="certificate_no")
    check_version(examiner, expected_version)

    def change(obj: Examiner) -> None:
        for key, value in values.items():
            setattr(obj, key, value)

    before = snapshot(examiner)
    change(examiner)
    db.session.flush()
    record("update", examiner, actor=actor, before=before, after=snapshot(examiner))
    return examiner


def get_examiner(examiner_id: Any, *, actor: Any) -> Examiner:
    _ensure_regulator(actor)
    found = db.session.get(Examiner, examiner_id) if str(examiner_id).isdigit() else None
    if found is None:
        raise NotFound("考评员不存在 / no such examiner")
    return found


def examiners_query(actor: Any, *, active: bool | None = None, q: str | None = None) -> sa.Select:
    _ensure_regulator(actor)
    stmt = sa.select(Examiner)
    if active is not None:
        stmt = stmt.where(Examiner.active.is_(active))
    if q:
        stmt = stmt.where(Examiner.name.contains(q, autoescape=True))
    return stmt.order_by(Examiner.name, Examiner.id)


# --- Lists, ages and deadlines ---------------------------------------------------------------------


def add_working_days(start: date, days: int) -> date:
    """``start`` plus ``days`` working days (:mod:`registry.applications.workdays`: Monday to Friday, less
    the holidays, plus the weekend days worked, as the operator configured them)."""
    return workdays.calendar().add_working_days(start, days)


def deadline(application: Application) -> date | None:
    """The date the current step is due by: acceptance, decision, or the rectification deadline."""
    config = current_app.config
    if application.state == "submitted" and application.submitted_at:
        return add_working_days(application.submitted_at.date(), config["APPLICATION_ACCEPTANCE_WORKING_DAYS"])
    if application.state in ("accepted", "under_review") and application.accepted_at:
        return add_working_days(application.accepted_at.date(), config["APPLICATION_DECISION_WORKING_DAYS"])
    if application.state == "rectification":
        return application.rectification_deadline
    return None


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when ``end`` is not later)."""
    return workdays.calendar().working_days_between(start, end)


def age_working_days(application: Application, today: date | None = None) -> int | None:
    """Working days since it was submitted (None for a draft)."""
    if application.submitted_at is None:
        return None
    return working_days_between(application.submitted_at.date(), today or date.today())


def age_days(application: Application, today: date | None = None) -> int | None:
    """Days since it was submitted (None for a draft)."""
    if application.submitted_at is None:
        return None
    return ((today or date.today()) - application.submitted_at.date()).days


def overdue(application: Application, today: date | None = None) -> bool:
    due = deadline(application)
    return due is not None and (today or date.today()) > due


@dataclass
class Age:
    """How long an application has waited (calendar days since submitted) against its current deadline."""

    days: int | None
    deadline: date | None
    overdue: bool


def age(application: Application, today: date) -> Age | None:
    """None once nobody waits on it any more (a draft, a decision, a withdrawal)."""
    days = age_days(application, today)
    if days is None or application.state not in WAITING_STATES:
        return None
    return Age(days, deadline(application), overdue(application, today))


def ages(items: Iterable[Application], today: date) -> dict[int, Age | None]:
    """:func:`age` of each, by id (the lists' and the export's "days waited", "due by", "overdue")."""
    return {a.id: age(a, today) for a in items}


def _filters(stmt: sa.Select, filters: dict[str, Any]) -> sa.Select:
    A = Application
    if filters.get("state"):
        states = filters["state"] if isinstance(filters["state"], (list, tuple)) else [filters["state"]]
        stmt = stmt.where(A.state.in_(states))
    if filters.get("kind"):
        stmt = stmt.where(A.kind == filters["kind"])
    if filters.get("institution_id"):
        stmt = stmt.where(A.institution_id == filters["institution_id"])
    if filters.get("standard_id"):
        stmt = stmt.where(A.standard_id == filters["standard_id"])
    if filters.get("city"):
        stmt = stmt.where(A.institution_id.in_(sa.select(Institution.id).where(
            Institution.region_code.startswith(str(filters["city"])[:4], autoescape=True))))
    if filters.get("submitted_before"):  # the queue by age: waiting since at least this day
        day = filters["submitted_before"]
        stmt = stmt.where(A.submitted_at < datetime.combine(day + timedelta(days=1), datetime.min.time(),
                                                           timezone.utc))
    if filters.get("late") is not None:
        stmt = stmt.where(A.late.is_(bool(filters["late"])))
    return stmt


LIST_OPTIONS = (selectinload(Application.institution), selectinload(Application.standard),
                selectinload(Application.examiners))


def list_query(actor: Any, filters: dict[str, Any] | None = None) -> sa.Select:
    """Applications ``actor`` may see (an institution: its own), newest first, filtered.

    The institution and standard of each come with the page (two queries, not two a row).
    """
    stmt = sa.select(Application).options(*LIST_OPTIONS)
    if not is_regulator(actor):
        stmt = stmt.where(Application.institution_id == actor.institution_id)
    return _filters(stmt, filters or {}).order_by(Application.id.desc())


def queue_query(actor: Any, filters: dict[str, Any] | None = None) -> sa.Select:
    """The regulator's work queue: waiting applications, oldest submitted first."""
    if not is_regulator(actor):
        raise Forbidden("工作队列仅供监管人员 / the work queue is for regulators")
    filters = dict(filters or {})
    filters.setdefault("state", list(WAITING_STATES))
    return (_filters(sa.select(Application).options(*LIST_OPTIONS), filters)
            .order_by(Application.submitted_at, Application.id))
