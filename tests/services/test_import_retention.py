"""Uploads are deleted after ``IMPORT_RETENTION_DAYS``; a run whose upload is gone says so at every door."""
from __future__ import annotations

import io
import os
import time

import pytest

from registry.imports import services
from registry.imports.models import ImportRun
from tests.importers.books import STANDARD_HEADER, xlsx
from tests.importers.test_import import standard_row
from tests.test_pages import csrf_from

DAY = 86400


def _run(user, *rows, dry_run=True) -> ImportRun:
    return services.start_import(io.BytesIO(xlsx({"计量标准": [STANDARD_HEADER, *rows]})), filename="留存.xlsx",
                                 actor=user, dry_run=dry_run)


def _age(run: ImportRun, days: float) -> None:
    stamp = time.time() - days * DAY
    os.utime(services.upload_path(run), (stamp, stamp))


def test_uploads_older_than_the_retention_are_deleted_and_the_rest_kept(users, session):
    old = _run(users.regulator, standard_row("[2099]赣量标留测证字第001号", users.own.credit_code))
    recent = _run(users.regulator, standard_row("[2099]赣量标留测证字第002号", users.own.credit_code))
    waiting = ImportRun(actor_id=users.regulator.id, actor_label="r", filename="排队.xlsx", status="queued")
    session.add(waiting)
    session.flush()
    services.upload_path(waiting).write_bytes(b"queued for a worker that is not running")
    stray = services.upload_path(old).with_name("not-a-run.tmp")
    stray.write_bytes(b"left by a crash")
    for run in (old, waiting):
        _age(run, 31)
    os.utime(stray, (time.time() - 31 * DAY,) * 2)
    _age(recent, 29)

    removed = services.purge_uploads(days=30)
    assert set(removed) == {services.upload_path(old), stray}
    assert not services.upload_available(old)
    assert services.upload_available(recent) and services.upload_available(waiting)  # a queued run keeps its file
    assert services.purge_uploads(days=30) == []


def test_a_retention_of_zero_keeps_everything(users, app, monkeypatch):
    run = _run(users.regulator, standard_row("[2099]赣量标留测证字第003号", users.own.credit_code))
    _age(run, 3650)
    monkeypatch.setitem(app.config, "IMPORT_RETENTION_DAYS", 0)
    assert services.purge_uploads() == []
    assert services.upload_available(run)


def test_registry_imports_purge(users, runner, session):
    run = _run(users.regulator, standard_row("[2099]赣量标留测证字第004号", users.own.credit_code))
    _age(run, 8)
    result = runner.invoke(args=["imports", "purge", "--days", "10"])
    assert result.exit_code == 0, result.output
    assert services.upload_available(run)
    result = runner.invoke(args=["imports", "purge", "--days", "7"])
    assert result.exit_code == 0 and "删除 1 个超过 7 天的上传文件" in result.output, result.output
    assert not services.upload_available(run)
    assert runner.invoke(args=["imports", "purge", "--days", "0"]).exit_code == 2  # not a number of days


def test_a_run_whose_upload_is_gone_says_so_in_the_api_and_on_its_page(client, auth, users, session):
    bad = standard_row("[2099]赣量标留测证字第005号", users.own.credit_code, **{"类别*": "公用"})
    invalid = _run(users.regulator, bad)
    good = _run(users.regulator, standard_row("[2099]赣量标留测证字第006号", users.own.credit_code))
    session.commit()
    assert invalid.status == "invalid" and good.status == "previewed"
    for run in (invalid, good):
        services.upload_path(run).unlink()
    headers = auth.token(users.regulator)

    body = client.get(f"/api/v1/imports/{invalid.id}", headers=headers).get_json()
    assert body["upload_available"] is False and body["status"] == "invalid"  # the report itself stays
    errors = client.get(f"/api/v1/imports/{invalid.id}/errors.xlsx", headers=headers)
    assert errors.status_code == 409 and "上传的文件已不在服务器上" in errors.get_json()["detail"]
    english = client.get(f"/api/v1/imports/{invalid.id}/errors.xlsx", headers={**headers, "Accept-Language": "en"})
    assert "no longer on the server" in english.get_json()["detail"]

    auth.login_session(users.regulator)
    page = client.get(f"/imports/{invalid.id}").get_data(as_text=True)
    assert "无法生成标注错误的工作簿" in page and f"/imports/{invalid.id}/errors.xlsx" not in page
    page = client.get(f"/imports/{good.id}").get_data(as_text=True)
    assert "无法确认导入" in page and f"/imports/{good.id}/confirm" not in page
    token = csrf_from(client.get(f"/imports/{good.id}"))
    response = client.post(f"/imports/{good.id}/confirm", data={"csrf_token": token}, follow_redirects=True)
    assert "上传的文件已不在服务器上" in response.get_data(as_text=True)


@pytest.mark.parametrize("reason, text", [
    ("lease_expired", "停止了响应"), ("error", "意外错误"), ("interrupted", "系统升级时"),
    ("upload_missing", "上传的文件已不在服务器上"), ("account_inactive", "账号已停用"),
])
def test_a_failed_run_page_names_its_reason_and_offers_a_retry_to_its_starter(client, auth, users, session,
                                                                              reason, text):
    run = _run(users.institution, standard_row("[2099]赣量标留测证字第007号", users.own.credit_code))
    run.status, run.failure_reason, run.message = "failed", reason, "stored message / 存的消息"
    session.commit()
    auth.login_session(users.institution)
    page = client.get(f"/imports/{run.id}").get_data(as_text=True)
    assert text in page and "stored message" not in page
    assert f'action="/imports/{run.id}/retry"' in page
    auth.login_session(users.regulator)  # staff read it, but only its starter may retry it
    page = client.get(f"/imports/{run.id}").get_data(as_text=True)
    assert text in page and f'action="/imports/{run.id}/retry"' not in page


def test_the_retry_button_queues_the_run_again(client, auth, users, session, app):
    from registry.jobs import jobs

    run = _run(users.institution, standard_row("[2099]赣量标留测证字第008号", users.own.credit_code))
    run.status, run.failure_reason, run.message = "failed", "lease_expired", "gone / 没了"
    session.commit()
    auth.login_session(users.institution)
    token = csrf_from(client.get(f"/imports/{run.id}"))
    response = client.post(f"/imports/{run.id}/retry", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == f"/imports/{run.id}"
    session.refresh(run)
    assert (run.status, run.failure_reason, run.message) == ("queued", None, None)
    assert ("run_import_job", (run.id,)) in jobs().pending()
    again = client.post(f"/imports/{run.id}/retry", data={"csrf_token": token}, follow_redirects=True)
    assert "只能重试失败的导入" in again.get_data(as_text=True)
    assert client.post(f"/imports/{run.id}/retry").status_code == 400  # no CSRF token
