"""Building applications in any state through the services, for the tests."""
from __future__ import annotations

import io
from datetime import date

from registry.applications import services
from registry.applications.models import Examiner
from registry.extensions import db

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
NEW_ISSUED = date(2027, 6, 1)  # the renewed certificate of a standard valid until 2027-12-31


def upload_checklist(application, actor) -> None:
    for kind in services.REQUIRED_DOCUMENTS[application.kind]:
        services.add_document(application, kind, io.BytesIO(PDF), f"{kind}.pdf", actor=actor)


def examiner(name: str = "考评员甲") -> Examiner:
    found = Examiner(name=name, disciplines=["04"], active=True)
    db.session.add(found)
    db.session.flush()
    return found


def draft(users, standard, kind: str = "reexamination", proposal: dict | None = None):
    if proposal is None:
        proposal = {"issued_on": NEW_ISSUED.isoformat()} if kind == "reexamination" else {}
    application = services.create_draft({"kind": kind, "standard_id": standard.id if standard else None,
                                         "proposal": proposal}, actor=users.institution)
    upload_checklist(application, users.institution)
    return application


def in_state(state: str, users, standard, *, kind: str = "reexamination", proposal: dict | None = None):
    """An application of ``kind`` moved to ``state`` by the steps a real one takes."""
    application = draft(users, standard, kind, proposal)
    reg, inst = users.regulator, users.institution
    if state == "draft":
        return application
    if state == "withdrawn":
        return services.withdraw(application, actor=inst)
    services.submit(application, actor=inst)
    if state == "submitted":
        return application
    if state == "returned":
        return services.return_for_completion(application, actor=reg, comment="缺材料")
    services.accept(application, actor=reg)
    if state == "accepted":
        return application
    services.assign_examiners(application, [examiner().id], actor=reg)
    if state == "under_review":
        return application
    if state in ("rectification", "rectification_answered"):
        services.decide(application, "approved_after_rectification", actor=reg, rectification_deadline="2030-01-31")
        if state == "rectification_answered":
            services.respond_rectification(application, "已整改", actor=inst)
        return application
    services.decide(application, "rejected", actor=reg, comment="不符合要求")
    if state == "decided":
        return application
    return services.close(application, actor=reg)
