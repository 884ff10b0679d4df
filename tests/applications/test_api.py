"""The same steps through /api/v1/applications: the whole path of a re-examination, every forbidden step
refused with nothing written, bad files refused with nothing left in storage, downloads only for those
who may see."""
from __future__ import annotations

import io
import zipfile

import pytest
import sqlalchemy as sa

from registry.applications.models import Application, ApplicationDocument, ApplicationEvent
from registry.audit.models import AuditEvent
from registry.extensions import db
from tests import factories
from tests.applications.conftest import stored_files
from tests.applications.support import NEW_ISSUED, PDF, examiner, in_state
from tests.applications.test_lifecycle import EXPECTED, _expected

BASE = "/api/v1/applications"


def _xlsx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<x/>")
    return buffer.getvalue()


def _upload(client, headers, application_id, kind, data, name):
    return client.post(f"{BASE}/{application_id}/documents", headers=headers,
                       data={"kind": kind, "file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def _post(client, headers, path, body, version):
    return client.post(path, headers={**headers, "If-Match": f'"{version}"'}, json=body)


def test_a_reexamination_from_draft_to_new_certificate(client, auth, users):
    standard = factories.standard(users.own)
    db.session.commit()
    inst, reg = auth.token(users.institution), auth.token(users.regulator)
    created = client.post(BASE, headers=inst, json={"kind": "reexamination", "standard_id": standard.id,
                                                    "proposal": {"issued_on": NEW_ISSUED.isoformat()}})
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    app_id = body["id"]
    assert body["state"] == "draft" and "submit" in body["allowed_actions"]
    assert set(body["missing_documents"]) == {"application_form", "old_certificate", "equipment_certificates",
                                              "repeatability_records", "stability_records"}
    for kind in body["missing_documents"]:
        response = _upload(client, inst, app_id, kind, PDF, f"{kind}.pdf")
        assert response.status_code == 201, response.get_json()
    version = client.get(f"{BASE}/{app_id}", headers=inst).get_json()["version"]
    submitted = _post(client, inst, f"{BASE}/{app_id}/submit", {"comment": "请审查"}, version)
    assert submitted.status_code == 200, submitted.get_json()
    accepted = _post(client, reg, f"{BASE}/{app_id}/accept", {}, submitted.get_json()["version"])
    assert accepted.status_code == 200
    person = client.post("/api/v1/examiners", headers=reg, json={"name": "王考评", "disciplines": ["04"]})
    assert person.status_code == 201
    assigned = _post(client, reg, f"{BASE}/{app_id}/examiners", {"examiner_ids": [person.get_json()["id"]]},
                     accepted.get_json()["version"])
    assert assigned.status_code == 200 and assigned.get_json()["state"] == "under_review"
    stale = _post(client, reg, f"{BASE}/{app_id}/decision", {"outcome": "approved"}, accepted.get_json()["version"])
    assert stale.status_code == 412
    decided = _post(client, reg, f"{BASE}/{app_id}/decision", {"outcome": "approved", "comment": "符合要求"},
                    assigned.get_json()["version"])
    assert decided.status_code == 200, decided.get_json()
    assert decided.get_json()["state"] == "decided"
    shown = client.get(f"/api/v1/standards/{standard.id}", headers=inst).get_json()
    assert (shown["issued_on"], shown["valid_until"]) == ("2027-06-01", "2031-05-31")
    events = client.get(f"{BASE}/{app_id}/events", headers=inst).get_json()
    assert [e["action"] for e in events] == ["create", "submit", "accept", "assign_examiners", "decide"]
    assert events[1]["comment"] == "请审查"
    closed = _post(client, reg, f"{BASE}/{app_id}/close", {}, decided.get_json()["version"])
    assert closed.get_json()["state"] == "closed"


# A valid body for each step endpoint (the API's names for the service steps).
STEPS = {
    "update_draft": ("PATCH", "", {"title": "新标题"}),
    "submit": ("POST", "/submit", {}),
    "withdraw": ("POST", "/withdraw", {"comment": "撤回"}),
    "respond_rectification": ("POST", "/rectification-response", {"response": "已整改"}),
    "return_for_completion": ("POST", "/return", {"comment": "缺材料"}),
    "accept": ("POST", "/accept", {}),
    "assign_examiners": ("POST", "/examiners", None),
    "decide": ("POST", "/decision", {"outcome": "rejected", "comment": "不符合"}),
    "confirm_rectification": ("POST", "/rectification-confirmation", {}),
    "reject_rectification": ("POST", "/rectification-rejection", {"comment": "未整改"}),
    "close": ("POST", "/close", {}),
}
API_STATES = ("draft", "submitted", "accepted", "under_review", "rectification_answered", "decided", "withdrawn")


def _rows():
    return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(t))
                 for t in (ApplicationEvent, AuditEvent, ApplicationDocument))


@pytest.mark.parametrize("state", API_STATES)
def test_every_step_through_the_api(client, auth, users, state):
    exam = examiner("接口考评员")
    db.session.commit()
    tokens = {role: auth.token(getattr(users, role)) for role in ("admin", "regulator", "institution", "other")}
    for action, (method, suffix, body) in STEPS.items():
        for role, headers in tokens.items():
            application = in_state(state, users, factories.standard(users.own))
            db.session.commit()
            before_state, version = application.state, application.version
            rows = _rows()
            data = body if body is not None else {"examiner_ids": [exam.id]}
            response = client.open(f"{BASE}/{application.id}{suffix}", method=method,
                                   headers={**headers, "If-Match": f'"{version}"'}, json=data)
            allowed = _expected(action, role, state)
            if allowed:
                assert response.status_code == 200, (action, role, state, response.get_json())
                continue
            if role == "other":
                expected = 404
            elif (role == "institution") != (EXPECTED[action][0] == {"institution"}):
                expected = 403
            else:
                expected = 409
            assert response.status_code == expected, (action, role, state, response.get_json())
            assert response.mimetype == "application/problem+json"
            db.session.expire_all()
            assert (db.session.get(Application, application.id).state,
                    db.session.get(Application, application.id).version) == (before_state, version)
            assert _rows() == rows, (action, role, state)


def test_bad_files_are_refused_and_nothing_is_left(client, auth, users, app, store):
    application = in_state("draft", users, factories.standard(users.own))
    db.session.commit()
    inst = auth.token(users.institution)
    files_before, rows_before = stored_files(store), _rows()
    # A spreadsheet under a PDF name, a path in the name, an executable, and (below) a file too large.
    # (Werkzeug itself reduces an old browser's "C:\\dir\\name" to the name.)
    for data, name in ((_xlsx(), "申请书.pdf"), (PDF, "../../etc/申请书.pdf"), (PDF, "dir/申请书.pdf"),
                       (b"MZ\x90\x00" + b"\x00" * 100, "申请书.pdf")):
        response = _upload(client, inst, application.id, "application_form", data, name)
        assert response.status_code == 422, (name, response.get_json())
        assert response.get_json()["errors"]["file"], name
    app.config["DOCUMENT_MAX_BYTES"], saved = 1024, app.config["DOCUMENT_MAX_BYTES"]
    try:
        response = _upload(client, inst, application.id, "application_form", PDF + b"0" * 2048, "申请书.pdf")
    finally:
        app.config["DOCUMENT_MAX_BYTES"] = saved
    assert response.status_code == 422 and "MB" in response.get_json()["detail"]
    assert len(files_before) == 5  # the checklist uploaded by in_state
    assert stored_files(store) == files_before
    assert _rows() == rows_before


def test_a_new_version_never_overwrites_and_downloads_are_for_those_who_may_see(client, auth, users, store):
    application = in_state("draft", users, factories.standard(users.own))
    db.session.commit()
    inst = auth.token(users.institution)
    first = _upload(client, inst, application.id, "technical_report", PDF, "技术报告.pdf").get_json()
    second = _upload(client, inst, application.id, "technical_report", PDF + b"%v2\n", "技术报告.pdf").get_json()
    assert (first["version_no"], second["version_no"]) == (1, 2)
    assert len(stored_files(store)) == 5 + 2  # the checklist's five, and these two
    url = f"{BASE}/{application.id}/documents/{first['id']}"
    response = client.get(url, headers=inst)
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%E6%8A%80%E6%9C%AF%E6%8A%A5%E5%91%8A.pdf" in response.headers["Content-Disposition"]
    assert response.mimetype == "application/pdf"
    assert client.get(url, headers=auth.token(users.regulator)).status_code == 200
    assert client.get(url, headers=auth.token(users.other)).status_code == 404
    assert client.get(url).status_code == 401
    listed = client.get(f"{BASE}/{application.id}/documents", headers=auth.token(users.other))
    assert listed.status_code == 404
    assert first["sha256"] != second["sha256"] and len(first["sha256"]) == 64


def test_lists_filter_by_institution_and_the_queue_is_oldest_first(client, auth, users):
    mine = in_state("submitted", users, factories.standard(users.own))
    older = in_state("accepted", users, factories.standard(users.own))
    theirs = in_state("draft", users, factories.standard(users.own))
    theirs.institution_id = users.other_institution.id
    db.session.commit()
    listed = client.get(BASE, headers=auth.token(users.other)).get_json()
    assert [a["id"] for a in listed] == [theirs.id]
    queue = client.get(f"{BASE}?queue=true", headers=auth.token(users.regulator)).get_json()
    assert [a["id"] for a in queue] == [mine.id, older.id]  # submitted in that order
    assert client.get(f"{BASE}?queue=true", headers=auth.token(users.institution)).status_code == 403
    drafts = client.get(f"{BASE}?state=draft", headers=auth.token(users.regulator)).get_json()
    assert [a["id"] for a in drafts] == [theirs.id]
