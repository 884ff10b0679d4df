"""The application pages through the test client: each role's pages, the steps, refusals that write nothing."""
from __future__ import annotations

import io
import re
from datetime import date

import pytest
import sqlalchemy as sa

from registry.applications import services
from registry.applications.models import Application, ApplicationDocument, ApplicationEvent, Examiner
from registry.extensions import db
from tests import factories
from tests.pages.support import csrf_from, form_values

PDF = b"%PDF-1.4\n% test document\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REEXAMINATION_DOCUMENTS = ("application_form", "old_certificate", "equipment_certificates", "repeatability_records",
                           "stability_records")


@pytest.fixture(autouse=True)
def document_storage(app, tmp_path):
    """Uploads go to a folder of this test (the storage is built once per app: swap it, then put it back)."""
    from registry.documents.storage import LocalStorage

    before = app.extensions.get("registry.documents")
    app.extensions["registry.documents"] = LocalStorage(str(tmp_path / "documents"))
    yield tmp_path / "documents"
    if before is None:
        app.extensions.pop("registry.documents", None)
    else:
        app.extensions["registry.documents"] = before


def stored_files(root) -> list:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def login(client, auth, user):
    auth.login_session(user)
    return client


def text(response) -> str:
    return response.get_data(as_text=True)


def reexamination(users, *, state="submitted", standard=None):
    """A re-examination of one of ``users.own``'s standards, with its documents, taken to ``state``."""
    standard = standard or factories.standard(users.own, issued_on=date(2022, 3, 1), valid_until=date(2026, 2, 28))
    application = services.create_draft({"kind": "reexamination", "standard_id": standard.id}, actor=users.institution)
    if state == "draft":
        db.session.commit()
        return application
    for kind in REEXAMINATION_DOCUMENTS:
        services.add_document(application, kind, io.BytesIO(PDF), f"{kind}.pdf", actor=users.institution)
    services.submit(application, actor=users.institution)
    if state in ("accepted", "under_review"):
        services.accept(application, actor=users.regulator)
    if state == "under_review":
        examiner = services.create_examiner({"name": f"考评员{application.id}"}, actor=users.regulator)
        services.assign_examiners(application, [examiner.id], actor=users.regulator)
    db.session.commit()
    return application


def post_step(client, application_id: int, step: str, data: dict, *, version: int):
    """Post one step's form as the review page would (its fields carry the step's prefix)."""
    token = csrf_from(client.get("/standards/"))  # every signed-in page carries the session's token
    fields = {f"{step}-{name}": value for name, value in data.items()}
    return client.post(f"/applications/{application_id}/{step}",
                       data={"csrf_token": token, f"{step}-version": str(version), **fields})


def counts() -> tuple[int, int, int]:
    return (db.session.scalar(sa.select(sa.func.count()).select_from(Application)),
            db.session.scalar(sa.select(sa.func.count()).select_from(ApplicationEvent)),
            db.session.scalar(sa.select(sa.func.count()).select_from(ApplicationDocument)))


# --- Who sees what ---------------------------------------------------------------------------------

def test_the_pages_ask_anonymous_visitors_to_log_in(client):
    for url in ("/applications/", "/applications/queue", "/applications/new", "/applications/1"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


def test_the_nav_links_by_role(client, auth, users):
    login(client, auth, users.institution)
    page = text(client.get("/standards/"))
    assert 'href="/applications/"' in page and "考核申请" in page and "/applications/queue" not in page
    login(client, auth, users.regulator)
    page = text(client.get("/standards/"))
    assert 'href="/applications/queue"' in page and "申请受理" in page


def test_another_institution_sees_nothing_of_an_application(client, auth, users, session):
    application = reexamination(users)
    doc = session.scalars(sa.select(ApplicationDocument).where(ApplicationDocument.application_id == application.id)).first()
    login(client, auth, users.other)
    assert client.get(f"/applications/{application.id}").status_code == 404
    assert client.get(f"/applications/{application.id}/documents/{doc.id}").status_code == 404
    assert client.get(f"/applications/{application.id}/details").status_code == 404
    listing = text(client.get("/applications/", query_string={"group": "waiting"}))
    assert f"#{application.id}<" not in listing
    # a step posted against it is not found either, and changes nothing
    before = counts()
    token = csrf_from(client.get("/standards/"))
    response = client.post(f"/applications/{application.id}/withdraw",
                           data={"csrf_token": token, "withdraw-version": str(application.version)})
    assert response.status_code == 404
    session.expire_all()
    assert counts() == before and session.get(Application, application.id).state == "submitted"


def test_institution_users_cannot_open_the_queue_the_roster_or_take_a_regulators_step(client, auth, users, session):
    application = reexamination(users)
    login(client, auth, users.institution)
    for url in ("/applications/queue", "/applications/examiners", "/applications/examiners/new"):
        assert client.get(url).status_code == 404, url
    page = text(client.get(f"/applications/{application.id}"))
    assert 'data-testid="form-accept"' not in page and 'data-testid="form-decide"' not in page
    assert 'data-testid="form-withdraw"' in page  # the applicant's own step before a decision
    before, version = counts(), application.version
    for step, data in (("accept", {}), ("decide", {"decision": "approved", "issued_on": "2026-01-10"}),
                       ("return_for_completion", {"comment": "缺少材料"})):
        response = post_step(client, application.id, step, data, version=version)
        assert response.status_code == 403, step
    session.expire_all()
    fresh = session.get(Application, application.id)
    assert counts() == before and fresh.state == "submitted" and fresh.version == version


def test_a_regulator_cannot_take_the_applicants_steps(client, auth, users, session):
    application = reexamination(users, state="draft")
    login(client, auth, users.regulator)
    page = text(client.get(f"/applications/{application.id}"))
    assert 'data-testid="form-submit"' not in page
    assert client.get(f"/applications/{application.id}/details").status_code == 404
    response = post_step(client, application.id, "submit", {}, version=application.version)
    assert response.status_code == 403
    session.expire_all()
    assert session.get(Application, application.id).state == "draft"


# --- The institution's steps -------------------------------------------------------------------------

def test_an_institution_applies_for_a_re_examination_in_steps(client, auth, users, session, document_storage):
    standard = factories.standard(users.own, name="步骤测试装置", issued_on=date(2022, 3, 1),
                                  valid_until=date(2026, 2, 28))
    other = factories.standard(users.other_institution, name="他人的装置")
    session.commit()
    login(client, auth, users.institution)
    # 1: the kind
    page = client.get("/applications/new")
    assert page.status_code == 200 and "复查考核" in text(page) and "新建考核" in text(page)
    response = client.post("/applications/new", data={"csrf_token": csrf_from(page), "kind": "reexamination"})
    assert response.status_code == 302 and "kind=reexamination" in response.headers["Location"]
    # 2: the standard, only the institution's own
    page = client.get("/applications/new?kind=reexamination")
    assert "步骤测试装置" in text(page) and "他人的装置" not in text(page)
    refused = client.post("/applications/new?kind=reexamination",
                          data={"csrf_token": csrf_from(page), "kind": "reexamination", "standard_id": other.id})
    assert refused.status_code == 422 and session.scalar(sa.select(sa.func.count()).select_from(Application)) == 0
    response = client.post("/applications/new?kind=reexamination",
                           data={"csrf_token": csrf_from(page), "kind": "reexamination", "standard_id": standard.id})
    assert response.status_code == 302
    application = session.scalars(sa.select(Application)).one()
    assert application.kind == "reexamination" and application.standard_id == standard.id
    assert response.headers["Location"].endswith(f"/applications/{application.id}/details")
    # 3: the details
    page = client.get(f"/applications/{application.id}/details")
    values = form_values(page)
    values.update(certificate_no="[2026]赣量标测证字第777号", issued_on="2026-02-01")
    response = client.post(f"/applications/{application.id}/details", data=values)
    assert response.status_code == 302 and response.headers["Location"].endswith("/documents")
    session.expire_all()
    assert session.get(Application, application.id).proposal["certificate_no"] == "[2026]赣量标测证字第777号"
    # 4: the documents: the checklist says what is missing; submitting without them is refused
    page = client.get(f"/applications/{application.id}/documents")
    assert 'data-testid="missing"' in text(page) and "稳定性考核记录" in text(page)
    refused = client.post(f"/applications/{application.id}/submit",
                          data={"csrf_token": csrf_from(page), "submit-version": str(application.version),
                                "from": "documents"})
    assert refused.status_code == 422 and "还缺以下材料，补齐后才能提交：计量标准考核（复查）申请书、原计量标准考核证书" in text(refused)
    session.expire_all()
    assert session.get(Application, application.id).state == "draft"
    for kind in REEXAMINATION_DOCUMENTS:
        response = client.post(f"/applications/{application.id}/documents",
                               data={"csrf_token": csrf_from(page), "kind": kind,
                                     "file": (io.BytesIO(PDF), f"{kind}.pdf")},
                               content_type="multipart/form-data")
        assert response.status_code == 302, text(response)[:500]
    assert len(stored_files(document_storage)) == len(REEXAMINATION_DOCUMENTS)
    page = client.get(f"/applications/{application.id}/documents")
    assert 'data-testid="missing"' not in text(page)
    session.expire_all()
    application = session.get(Application, application.id)
    # 5: submit
    response = client.post(f"/applications/{application.id}/submit",
                           data={"csrf_token": csrf_from(page), "submit-version": str(application.version),
                                 "submit-comment": "请审查", "from": "documents"})
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Application, application.id).state == "submitted"
    # the timeline and "my applications"
    page = text(client.get(f"/applications/{application.id}"))
    assert "提交申请" in page and "请审查" in page and users.institution.email in page
    assert "application_form.pdf" in page
    waiting = text(client.get("/applications/", query_string={"group": "waiting"}))
    assert f"#{application.id}<" in waiting
    drafts = text(client.get("/applications/", query_string={"group": "drafts"}))
    assert f"#{application.id}<" not in drafts


def test_a_file_of_the_wrong_type_under_a_pdf_name_is_refused_and_not_kept(client, auth, users, session,
                                                                           document_storage):
    application = reexamination(users, state="draft")
    login(client, auth, users.institution)
    page = client.get(f"/applications/{application.id}/documents")
    for content, name, message in ((b"PK\x03\x04not really a zip", "申请书.pdf", "只接受"),
                                   (PDF, "../../申请书.pdf", "文件名不能包含路径")):
        response = client.post(f"/applications/{application.id}/documents",
                               data={"csrf_token": csrf_from(page), "kind": "application_form",
                                     "file": (io.BytesIO(content), name)},
                               content_type="multipart/form-data")
        assert response.status_code == 422
        assert message in text(response)
    assert stored_files(document_storage) == []
    assert session.scalar(sa.select(sa.func.count()).select_from(ApplicationDocument)) == 0


def test_a_replacement_that_changes_the_range_is_sent_to_a_new_examination(client, auth, users, session):
    standard = factories.standard(users.own)
    application = services.create_draft({"kind": "replacement", "standard_id": standard.id}, actor=users.institution)
    session.commit()
    login(client, auth, users.institution)
    page = client.get(f"/applications/{application.id}/details")
    assert 'data-testid="replacement-question"' in text(page)
    values = form_values(page)
    values.update(scope_changes="yes", description="更换主标准器")
    response = client.post(f"/applications/{application.id}/details", data=values)
    assert response.status_code == 200 or response.status_code == 422
    body = text(response)
    assert 'data-testid="examine-as-new"' in body and "/applications/new?kind=new" in body
    session.expire_all()
    assert not (session.get(Application, application.id).proposal or {}).get("description")  # nothing saved
    values.update(scope_changes="no")
    assert client.post(f"/applications/{application.id}/details", data=values).status_code == 302
    session.expire_all()
    assert session.get(Application, application.id).proposal["description"] == "更换主标准器"


# --- The regulator's steps ---------------------------------------------------------------------------

def test_the_queue_lists_the_waiting_oldest_first_with_filters(client, auth, users, session):
    first = reexamination(users)
    second = reexamination(users)
    draft = reexamination(users, state="draft")
    login(client, auth, users.regulator)
    page = text(client.get("/applications/queue"))
    assert f"#{first.id}<" in page and f"#{second.id}<" in page and f"#{draft.id}<" not in page
    assert page.index(f"#{first.id}<") < page.index(f"#{second.id}<")
    assert re.search(r"已等待 \d+ 天", page) and "期限" in page  # each row's age against its deadline
    assert f"#{first.id}<" not in text(client.get("/applications/queue", query_string={"kind": "new"}))
    city = users.own.region_code
    assert f"#{first.id}<" in text(client.get("/applications/queue", query_string={"city": city}))
    assert f"#{first.id}<" not in text(client.get("/applications/queue", query_string={"state": "accepted"}))
    assert f"#{first.id}<" not in text(client.get("/applications/queue", query_string={"waited": "30"}))
    # a bad filter is ignored, never a 500
    assert client.get("/applications/queue", query_string={"state": "x", "waited": "y"}).status_code == 200
    # "/applications/" shows a regulator everyone's, by group
    assert f"#{first.id}<" in text(client.get("/applications/", query_string={"group": "waiting"}))


def test_a_regulator_accepts_assigns_and_approves_a_re_examination(client, auth, users, session):
    application = reexamination(users)
    examiner = services.create_examiner({"name": "张考评", "certificate_no": "KPY-001"}, actor=users.regulator)
    session.commit()
    standard_id = application.standard_id
    login(client, auth, users.regulator)
    page = text(client.get(f"/applications/{application.id}"))
    assert 'data-testid="form-accept"' in page and 'data-testid="form-return_for_completion"' in page
    assert 'data-testid="form-decide"' not in page
    assert post_step(client, application.id, "accept", {"comment": "材料齐全"},
                     version=application.version).status_code == 302
    session.expire_all()
    application = session.get(Application, application.id)
    assert application.state == "accepted"
    page = text(client.get(f"/applications/{application.id}"))
    assert "张考评" in page and 'data-testid="form-decide"' in page
    assert post_step(client, application.id, "assign_examiners", {"examiner_ids": str(examiner.id)},
                     version=application.version).status_code == 302
    session.expire_all()
    application = session.get(Application, application.id)
    assert application.state == "under_review" and [e.name for e in application.examiners] == ["张考评"]
    response = post_step(client, application.id, "decide",
                         {"decision": "approved", "certificate_no": "[2026]赣量标测证字第888号",
                          "issued_on": "2026-01-15", "reasons": "符合要求"}, version=application.version)
    assert response.status_code == 302, text(response)[:1000]
    session.expire_all()
    standard = session.get(factories.MeasurementStandard, standard_id)
    assert standard.issued_on == date(2026, 1, 15) and standard.valid_until == date(2030, 1, 14)
    assert standard.certificate_no == "[2026]赣量标测证字第888号"
    page = text(client.get(f"/applications/{application.id}"))
    assert 'data-decision="approved"' in page and "符合要求" in page
    # the standard's page lists its applications and documents
    page = text(client.get(f"/standards/{standard_id}"))
    assert f"/applications/{application.id}" in page and "stability_records.pdf" in page


def test_a_rejection_needs_reasons_and_changes_nothing_else(client, auth, users, session):
    application = reexamination(users, state="accepted")
    standard = application.standard
    before = (standard.issued_on, standard.valid_until, standard.version)
    login(client, auth, users.regulator)
    response = post_step(client, application.id, "decide", {"decision": "rejected"}, version=application.version)
    assert response.status_code == 422
    session.expire_all()
    assert session.get(Application, application.id).state == "accepted"
    response = post_step(client, application.id, "decide", {"decision": "rejected", "reasons": "稳定性不合格"},
                         version=application.version)
    assert response.status_code == 302
    session.expire_all()
    application = session.get(Application, application.id)
    assert application.decision == "rejected" and application.state == "decided"
    assert (application.standard.issued_on, application.standard.valid_until, application.standard.version) == before


def test_a_return_for_completion_asks_for_a_reason_and_reaches_the_applicant(client, auth, users, session):
    application = reexamination(users)
    login(client, auth, users.regulator)
    response = post_step(client, application.id, "return_for_completion", {"comment": ""},
                         version=application.version)
    assert response.status_code == 422 and "请说明需要补正的内容" in text(response)
    assert post_step(client, application.id, "return_for_completion", {"comment": "请补充稳定性考核记录"},
                     version=application.version).status_code == 302
    login(client, auth, users.institution)
    drafts = text(client.get("/applications/", query_string={"group": "drafts"}))
    assert f"#{application.id}<" in drafts
    page = text(client.get(f"/applications/{application.id}/details"))
    assert "请补充稳定性考核记录" in page


def test_a_stale_form_is_refused_with_the_usual_message_and_nothing_written(client, auth, users, session):
    application = reexamination(users)
    old_version = application.version
    services.accept(application, actor=users.regulator)  # someone else acted first
    session.commit()
    login(client, auth, users.regulator)
    before = counts()
    response = post_step(client, application.id, "assign_examiners", {"examiner_ids": "1"}, version=old_version)
    assert response.status_code in (409, 422)
    response = post_step(client, application.id, "decide", {"decision": "rejected", "reasons": "x"},
                         version=old_version)
    assert response.status_code == 409
    assert "此记录已被他人修改，请重新加载后再编辑。" in text(response)
    session.expire_all()
    assert counts() == before and session.get(Application, application.id).state == "accepted"


# --- Documents, export, roster -------------------------------------------------------------------

def test_a_document_downloads_as_an_attachment_for_those_who_may_see_it(client, auth, users, session):
    application = reexamination(users)
    doc = session.scalars(sa.select(ApplicationDocument).where(ApplicationDocument.application_id == application.id,
                                                               ApplicationDocument.kind == "stability_records")).one()
    for user in (users.institution, users.regulator):
        login(client, auth, user)
        response = client.get(f"/applications/{application.id}/documents/{doc.id}")
        assert response.status_code == 200 and response.data == PDF
        assert response.headers["Content-Disposition"].startswith("attachment")
        assert "stability_records.pdf" in response.headers["Content-Disposition"]
    assert client.get(f"/applications/{application.id}/documents/{doc.id + 1000}").status_code == 404
    other = reexamination(users)
    assert client.get(f"/applications/{other.id}/documents/{doc.id}").status_code == 404  # not that one's


def test_the_list_exports_to_excel_with_its_filters(client, auth, users, session):
    from openpyxl import load_workbook

    first = reexamination(users)
    reexamination(users, state="accepted")
    login(client, auth, users.regulator)
    response = client.get("/applications/export.xlsx", query_string={"state": "submitted"})
    assert response.status_code == 200 and response.mimetype == XLSX_TYPE
    assert response.headers["Content-Disposition"].startswith("attachment")
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("编号", "申请类型", "状态")
    assert [row[0] for row in rows[1:]] == [first.id] and rows[1][1] == "复查考核"
    login(client, auth, users.other)
    sheet = load_workbook(io.BytesIO(client.get("/applications/export.xlsx").data)).active
    assert len(list(sheet.iter_rows(values_only=True))) == 1  # the header only: none of theirs


def test_the_examiner_roster_is_kept_by_regulators(client, auth, users, session):
    login(client, auth, users.regulator)
    page = client.get("/applications/examiners/new")
    values = form_values(page)
    values.update(name="李考评", certificate_no="KPY-900", disciplines="04")
    response = client.post("/applications/examiners/new", data=values)
    assert response.status_code == 302
    examiner = session.scalars(sa.select(Examiner).where(Examiner.certificate_no == "KPY-900")).one()
    assert examiner.disciplines == ["04"] and examiner.active
    assert "李考评" in text(client.get("/applications/examiners"))
    page = client.get(f"/applications/examiners/{examiner.id}/edit")
    values = form_values(page)
    values.pop("active", None)  # unticked: no longer on the roster
    assert client.post(f"/applications/examiners/{examiner.id}/edit", data=values).status_code == 302
    session.expire_all()
    assert not session.get(Examiner, examiner.id).active
    row = f'href="/applications/examiners/{examiner.id}/edit"'
    assert row not in text(client.get("/applications/examiners"))
    assert row in text(client.get("/applications/examiners?all=true"))
    # a second examiner with the same number is refused on the form
    values = form_values(client.get("/applications/examiners/new"))
    values.update(name="王考评", certificate_no="KPY-900")
    response = client.post("/applications/examiners/new", data=values)
    assert response.status_code == 409 and "考评员证号已存在" in text(response)


@pytest.mark.parametrize("lang, words, unwanted", [
    ("zh_Hans_CN", ("申请受理", "复查考核", "已提交"), ("Re-examination", "Submitted")),
    ("en", ("Applications", "Re-examination", "Submitted"), ("复查考核", "已提交", "申请受理")),
])
def test_the_queue_speaks_one_language(client, auth, users, session, lang, words, unwanted):
    reexamination(users)
    login(client, auth, users.regulator)
    client.get(f"/lang/{lang}")
    page = text(client.get("/applications/queue"))
    main = page[page.index("<main"):]
    for word in words:
        assert word in main, word
    for word in unwanted:
        assert word not in main, word


def test_the_review_page_shows_the_record_beside_what_the_application_changes(client, auth, users, session):
    standard = factories.standard(users.own, certificate_no="[2022]赣量标测证字第501号", issued_on=date(2022, 3, 1),
                                  valid_until=date(2026, 2, 28))
    application = services.create_draft({"kind": "reexamination", "standard_id": standard.id,
                                         "proposal": {"certificate_no": "[2026]赣量标测证字第502号"}},
                                        actor=users.institution)
    session.commit()
    login(client, auth, users.regulator)
    page = text(client.get(f"/applications/{application.id}"))
    diff = page[page.index('data-testid="diff"'):page.index("</section>", page.index('data-testid="diff"'))]
    row = diff[diff.index('data-field="certificate_no"'):]
    row = row[:row.index("</tr>")]
    assert "<del>[2022]赣量标测证字第501号</del>" in row and "<ins>[2026]赣量标测证字第502号</ins>" in row
    assert 'data-field="issued_on"' in diff and "由决定确定" in diff  # the decision gives the dates


def test_an_approval_after_rectification_goes_through_the_response_and_the_confirmation(client, auth, users, session):
    application = reexamination(users, state="under_review")
    standard_id = application.standard_id
    login(client, auth, users.regulator)
    response = post_step(client, application.id, "decide",
                         {"decision": "approved_after_rectification", "issued_on": "2026-01-20",
                          "rectification_deadline": "2026-03-01", "reasons": "补充稳定性考核"},
                         version=application.version)
    assert response.status_code == 302, text(response)[:500]
    session.expire_all()
    application = session.get(Application, application.id)
    assert application.state == "rectification" and application.rectification_deadline == date(2026, 3, 1)
    assert session.get(factories.MeasurementStandard, standard_id).issued_on == date(2022, 3, 1)  # not yet
    login(client, auth, users.institution)
    page = text(client.get(f"/applications/{application.id}"))
    assert 'data-testid="form-respond_rectification"' in page and "上传材料" in page
    assert post_step(client, application.id, "respond_rectification", {"response": "已补做稳定性考核"},
                     version=application.version).status_code == 302
    session.expire_all()
    application = session.get(Application, application.id)
    login(client, auth, users.regulator)
    page = text(client.get(f"/applications/{application.id}"))
    assert "已补做稳定性考核" in page and 'data-testid="form-confirm_rectification"' in page
    assert post_step(client, application.id, "confirm_rectification", {},
                     version=application.version).status_code == 302
    session.expire_all()
    assert session.get(factories.MeasurementStandard, standard_id).issued_on == date(2026, 1, 20)
    assert 'data-testid="applied"' in text(client.get(f"/applications/{application.id}"))


def test_a_new_standard_application_names_no_standard_and_asks_for_its_fields(client, auth, users, session):
    login(client, auth, users.institution)
    page = client.get("/applications/new?kind=new")
    assert "尚未登记" in text(page) and 'name="standard_id"' not in text(page)
    response = client.post("/applications/new?kind=new", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 302
    application = session.scalars(sa.select(Application)).one()
    assert application.kind == "new" and application.standard_id is None
    page = client.get(f"/applications/{application.id}/details")
    body = text(page)
    for field in ("name", "code", "category", "discipline_code", "range_text", "uncertainty_text"):
        assert f'name="{field}"' in body, field
    assert 'name="issued_on"' not in body  # the certificate is the decision's
    values = form_values(page)
    values.update(name="新建的标准装置", category="social_public", range_text="(0~100) MPa")
    assert client.post(f"/applications/{application.id}/details", data=values).status_code == 302
    session.expire_all()
    proposal = session.get(Application, application.id).proposal
    assert proposal["name"] == "新建的标准装置" and proposal["range_text"] == "(0~100) MPa"


def test_a_standards_page_starts_an_application_about_it(client, auth, users, session):
    standard = factories.standard(users.own, name="从标准页申请的装置")
    session.commit()
    login(client, auth, users.institution)
    page = text(client.get(f"/standards/{standard.id}"))
    assert f'href="/applications/new?standard_id={standard.id}"' in page
    kind_page = client.get(f"/applications/new?standard_id={standard.id}")
    response = client.post(f"/applications/new?standard_id={standard.id}",
                           data={"csrf_token": csrf_from(kind_page), "kind": "sealing"})
    assert response.status_code == 302 and f"standard_id={standard.id}" in response.headers["Location"]
    page = text(client.get(response.headers["Location"]))
    assert f'<option selected value="{standard.id}">' in page or f'value="{standard.id}" selected' in page


def test_a_stale_details_form_is_refused_and_another_institution_cannot_post_one(client, auth, users, session):
    application = reexamination(users, state="draft")
    login(client, auth, users.institution)
    page = client.get(f"/applications/{application.id}/details")
    values = form_values(page)
    services.update_draft(application, {"title": "别人先改了"}, actor=users.institution,
                          expected_version=application.version)
    session.commit()
    values.update(certificate_no="[2026]赣量标测证字第999号")
    response = client.post(f"/applications/{application.id}/details", data=values)
    assert response.status_code == 409 and "此记录已被他人修改，请重新加载后再编辑。" in text(response)
    session.expire_all()
    assert "certificate_no" not in (session.get(Application, application.id).proposal or {})
    login(client, auth, users.other)
    assert client.post(f"/applications/{application.id}/details", data=values).status_code == 404
    session.expire_all()
    assert session.get(Application, application.id).title == "别人先改了"


@pytest.mark.parametrize("kind", ["sealing", "revocation", "resumption", "change", "replacement"])
def test_each_kinds_details_form_saves_what_the_service_accepts(client, auth, users, session, kind):
    standard = factories.standard(users.own)
    application = services.create_draft({"kind": kind, "standard_id": standard.id}, actor=users.institution)
    session.commit()
    login(client, auth, users.institution)
    page = client.get(f"/applications/{application.id}/details")
    values = form_values(page)
    typed = {"sealing": {"effective_on": "2026-03-01"}, "revocation": {"effective_on": "2026-03-01"},
             "resumption": {"effective_on": "2026-03-01"},
             "change": {"topic": "staff", "description": "负责人调整", "responsible_person": "王五"},
             "replacement": {"description": "更换主标准器，范围不变", "scope_changes": "no"}}[kind]
    values.update(typed)
    response = client.post(f"/applications/{application.id}/details", data=values)
    assert response.status_code == 302, text(response)[:800]
    session.expire_all()
    proposal = session.get(Application, application.id).proposal
    expected = {"sealing": {"effective_on": "2026-03-01"}, "revocation": {"effective_on": "2026-03-01"},
                "resumption": {"effective_on": "2026-03-01"},
                "change": {"description": "【负责人或检定人员】负责人调整", "changes": {"responsible_person": "王五"}},
                "replacement": {"description": "更换主标准器，范围不变", "changes": {}}}[kind]
    assert proposal == expected
    # the form shows what was saved when opened again
    again = form_values(client.get(f"/applications/{application.id}/details"))
    for name, value in typed.items():
        if name != "scope_changes":
            assert again[name].strip() == value, name
