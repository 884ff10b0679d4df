"""``registry applications``: list, show, export and act, in each language, through the services' rules."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from registry.applications.models import Application, ApplicationEvent
from registry.audit.models import AuditEvent
from registry.extensions import db
from tests import factories
from tests.applications.support import examiner, in_state
from tests.one_language import mixed_lines


@pytest.fixture
def standard(users):
    found = factories.standard(users.own)
    db.session.commit()
    return found


@pytest.fixture
def submitted(users, standard):
    application = in_state("submitted", users, standard)
    db.session.commit()
    return application


def run(runner, app, *args, lang: str = "zh"):
    """``registry --lang LANG applications ARGS``."""
    from registry import cli

    saved = cli._language
    cli._language = lang  # what ``registry --lang`` sets
    try:
        return runner.invoke(args=["applications", *args])
    finally:
        cli._language = saved


def _trail(application_id: int) -> tuple[int, int]:
    events = db.session.scalar(sa.select(sa.func.count()).select_from(ApplicationEvent)
                               .where(ApplicationEvent.application_id == application_id))
    audits = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                               .where(AuditEvent.entity_type == "applications",
                                      AuditEvent.entity_id == str(application_id)))
    return events, audits


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_list_filters_and_says_one_language(runner, app, users, standard, submitted, lang):
    other = factories.standard(users.other_institution)
    db.session.commit()
    from registry.applications import services

    services.create_draft({"kind": "sealing", "standard_id": other.id, "proposal": {}}, actor=users.regulator)
    db.session.commit()
    result = run(runner, app, "list", "--state", "submitted", lang=lang)
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith(f"#{submitted.id}  ")
    if lang == "en":
        assert "Re-examination  Submitted" in lines[0] and "due by" in lines[0]
        assert lines[1] == "1 in all, showing 1–1"
    else:
        assert "复查考核  已提交" in lines[0] and "期限" in lines[0]
        assert lines[1] == "共 1 件，显示第 1–1 件"
    assert mixed_lines(result.output) == []
    # The institution filter, by credit code; an institution's user sees only its own.
    result = run(runner, app, "list", "--institution", users.other_institution.credit_code, lang=lang)
    assert result.exit_code == 0 and f"#{submitted.id} " not in result.output and "#" in result.output
    result = run(runner, app, "list", "--user", users.institution.email, lang=lang)
    assert result.exit_code == 0 and result.output.count("#") == 1


def test_list_json_pages_and_limits(runner, app, users, standard):
    made = [in_state("draft", users, standard).id for _ in range(3)]
    db.session.commit()
    result = run(runner, app, "list", "--json", "--limit", "2", "--page", "2", lang="en")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["total"] == 3 and data["page"] == 2 and [i["id"] for i in data["items"]] == [min(made)]
    assert data["items"][0]["state"] == "draft" and data["items"][0]["state_label"] == "Draft"
    result = run(runner, app, "list", "--json", "--kind", "new", lang="zh")
    assert json.loads(result.output)["total"] == 0
    result = run(runner, app, "list", "--city", "36", lang="en")
    assert result.exit_code == 2 and "six-digit region code" in result.output


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_show_prints_the_timeline_and_documents(runner, app, submitted, lang):
    result = run(runner, app, "show", str(submitted.id), lang=lang)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "application_form.pdf" in out and "v1" in out
    assert "  (act: return_for_completion | accept | withdraw)" in out
    if lang == "en":
        assert "Draft created  — → Draft" in out and "Submitted  Draft → Submitted" in out
        assert "Timeline:" in out and "Documents:" in out and "Application form" in out
        assert "Steps open: Return for completion, Accept, Withdraw" in out
    else:
        assert "创建草稿  — → 草稿" in out and "提交申请  草稿 → 已提交" in out
        assert "办理记录：" in out and "材料：" in out and "可办理的步骤：退回补正、受理、撤回申请" in out
    assert mixed_lines(out) == []


def test_show_hides_another_institutions_application(runner, app, users, submitted):
    result = run(runner, app, "show", str(submitted.id), "--user", users.other.email, lang="en")
    assert result.exit_code == 1 and "no such application" in result.output and "申请" not in result.output


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_export_writes_the_pages_workbook(runner, app, tmp_path, submitted, lang):
    out = tmp_path / "applications.xlsx"
    result = run(runner, app, "export", str(out), "--state", "submitted", lang=lang)
    assert result.exit_code == 0, result.output
    ws = load_workbook(out).active
    rows = list(ws.iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][0] == submitted.id
    assert rows[0][0] == ("No." if lang == "en" else "编号")
    assert rows[1][2] == ("Submitted" if lang == "en" else "已提交")
    assert ws.title == ("Applications" if lang == "en" else "申请")


def test_export_refuses_another_suffix(runner, app, tmp_path):
    result = run(runner, app, "export", str(tmp_path / "a.csv"), lang="en")
    assert result.exit_code == 2 and not (tmp_path / "a.csv").exists()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_act_takes_steps_as_the_user(runner, app, users, submitted, lang):
    version = submitted.version
    result = run(runner, app, "act", str(submitted.id), "accept", "--user", users.regulator.email,
                 "--comment", "材料齐全", "--expected-version", str(version), lang=lang)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == (f"#{submitted.id}: Accept done; now Accepted (version {version + 1})"
                                     if lang == "en" else
                                     f"#{submitted.id}：已受理，当前状态：已受理（版本 {version + 1}）")
    assert mixed_lines(result.output) == []
    db.session.expire_all()
    assert db.session.get(Application, submitted.id).state == "accepted"
    person = examiner()
    db.session.commit()
    result = run(runner, app, "act", str(submitted.id), "examiners", "--user", users.regulator.email,
                 "--values", json.dumps({"examiner_ids": [person.id]}), lang=lang)
    assert result.exit_code == 0, result.output
    result = run(runner, app, "act", str(submitted.id), "decide", "--user", users.regulator.email,
                 "--values", json.dumps({"outcome": "approved", "values": {"certificate_no": "[2027]赣量标测证字第901号"}}),
                 lang=lang)
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    application = db.session.get(Application, submitted.id)
    assert application.state == "decided" and application.standard.certificate_no == "[2027]赣量标测证字第901号"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_forbidden_step_writes_nothing(runner, app, users, submitted, lang):
    before = _trail(submitted.id)
    # The institution cannot accept its own application.
    result = run(runner, app, "act", str(submitted.id), "accept", "--user", users.institution.email, lang=lang)
    assert result.exit_code == 1
    message = result.output.strip()
    assert message == ("Error: this step is not yours to take" if lang == "en" else "Error: 无权进行此操作")
    assert mixed_lines(result.output) == []
    # A step the state does not allow (close a submitted application) and a stale version.
    result = run(runner, app, "act", str(submitted.id), "close", "--user", users.regulator.email, lang=lang)
    assert result.exit_code == 1 and ("cannot take the step close" in result.output if lang == "en"
                                      else "不能进行此操作" in result.output)
    result = run(runner, app, "act", str(submitted.id), "accept", "--user", users.regulator.email,
                 "--expected-version", str(submitted.version - 1), lang=lang)
    assert result.exit_code == 1
    # A return needs its reason: refused by the service, nothing written.
    result = run(runner, app, "act", str(submitted.id), "return", "--user", users.regulator.email, lang=lang)
    assert result.exit_code == 1 and ("a comment is required" in result.output if lang == "en"
                                      else "须填写说明" in result.output)
    db.session.expire_all()
    assert db.session.get(Application, submitted.id).state == "submitted"
    assert _trail(submitted.id) == before


def test_a_failed_decision_rolls_back_what_it_started(runner, app, users, standard):
    """A decision refused after the service began changing the application leaves no half-step behind."""
    application = in_state("under_review", users, standard)
    db.session.commit()
    before, version = _trail(application.id), application.version
    result = run(runner, app, "act", str(application.id), "decide", "--user", users.regulator.email,
                 "--values", json.dumps({"outcome": "approved", "values": {"issued_on": "2020-01-01"}}), lang="en")
    assert result.exit_code == 1 and "must start after the old one" in result.output
    db.session.expire_all()
    found = db.session.get(Application, application.id)
    assert (found.state, found.decision, found.version) == ("under_review", None, version)
    assert _trail(application.id) == before


def test_act_refuses_unknown_users_steps_and_values(runner, app, users, submitted):
    result = run(runner, app, "act", str(submitted.id), "accept", "--user", "nobody@example.org", lang="en")
    assert result.exit_code == 1 and "no such account" in result.output
    result = run(runner, app, "act", str(submitted.id), "approve", "--user", users.regulator.email, lang="zh")
    assert result.exit_code == 2 and "未知步骤 approve" in result.output
    result = run(runner, app, "act", str(submitted.id), "accept", "--user", users.regulator.email,
                 "--values", "{not json", lang="en")
    assert result.exit_code == 2 and "not valid JSON" in result.output
    result = run(runner, app, "act", str(submitted.id), "accept", "--user", users.regulator.email,
                 "--values", '{"outcome": "approved"}', lang="en")
    assert result.exit_code == 1 and "this step takes no outcome" in result.output
