"""The import job, its claim, lease and retry, run in this process against a committed database."""
from __future__ import annotations

import io
import threading
import time
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from registry.database.base import utcnow
from registry.database.engine import reading
from registry.extensions import db
from registry.imports import lease, services
from registry.imports.models import ImportRun
from registry.imports.tasks import run_import_job, sweep_runs
from registry.jobs import enqueue_after_commit, jobs
from registry.standards.models import MeasurementStandard
from tests.jobs.support import certificate, standards_book, wait_for


def _post(client, headers, data: bytes, *, dry_run=False):
    return client.post("/api/v1/imports", headers=headers, content_type="multipart/form-data",
                       data={"file": (io.BytesIO(data), "book.xlsx"), "dry_run": "true" if dry_run else "false"})


def _run(app, run_id: int) -> ImportRun:
    with app.app_context(), reading():
        run = db.session.get(ImportRun, run_id)
        db.session.expunge(run)
        db.session.remove()
    return run


def _count(app, tag: str) -> int:
    with app.app_context(), reading():  # deferred: no wait for an import's write lock (SQLite)
        n = db.session.scalar(sa.select(sa.func.count()).select_from(MeasurementStandard)
                              .where(MeasurementStandard.certificate_no.like(f"%{tag}%")))
        db.session.remove()
    return n


def _pending(app) -> list[int]:
    with app.app_context():
        return [args[0] for name, args in jobs().pending() if name == "run_import_job"]


def _job(app, run_id: int) -> None:
    with app.app_context():
        run_import_job(run_id)


def _tag() -> str:
    return "队" + uuid.uuid4().hex[:6].upper()


def test_a_big_upload_is_queued_when_its_request_commits(make_app, people):
    app = make_app()
    who = people(app)
    response = _post(app.test_client(), who.user, standards_book(who.holder, _tag(), 3))
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert body["status"] == "queued" and response.headers["Location"].endswith(f"/api/v1/imports/{body['id']}")
    assert _pending(app) == [body["id"]]
    assert _run(app, body["id"]).attempts == 0

    with app.app_context():  # a transaction that rolls back queues nothing
        enqueue_after_commit(run_import_job, 999_999)
        db.session.rollback()
        db.session.commit()
    assert _pending(app) == [body["id"]]


def test_the_job_runs_the_import_once_however_often_it_is_delivered(make_app, people):
    app = make_app()
    who = people(app)
    tag = _tag()
    run_id = _post(app.test_client(), who.user, standards_book(who.holder, tag, 3)).get_json()["id"]
    _job(app, run_id)
    _job(app, run_id)  # a second delivery: the run is not queued any more
    run = _run(app, run_id)
    assert (run.status, run.attempts, run.rows_done, run.rows_total) == ("applied", 1, 3, 3)
    assert run.worker_id and run.started_at and run.heartbeat_at
    assert _count(app, tag) == 3
    body = app.test_client().get(f"/api/v1/imports/{run_id}", headers=who.user).get_json()
    assert (body["status"], body["progress"], body["attempts"], body["sheets"]["计量标准"]["created"]) == (
        "applied", 1.0, 1, 3)


def test_only_one_of_many_simultaneous_claims_wins(make_app, people):
    app = make_app()
    who = people(app)
    run_id = _post(app.test_client(), who.user, standards_book(who.holder, _tag(), 1)).get_json()["id"]
    results, start = [], threading.Barrier(6)

    def claim(n: int) -> None:
        with app.app_context():
            start.wait()
            results.append(lease.claim(run_id, f"test-worker-{n}"))

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results, key=str) == [1] + [None] * 5
    run = _run(app, run_id)
    assert (run.status, run.attempts) == ("running", 1) and run.worker_id.startswith("test-worker-")


def test_progress_is_visible_to_others_while_the_import_is_uncommitted(make_app, people, monkeypatch):
    app = make_app()
    who = people(app)
    tag = _tag()
    run_id = _post(app.test_client(), who.user, standards_book(who.holder, tag, 4000)).get_json()["id"]
    report = lease.RunLease.update

    def slow(self, done, total):
        report(self, done, total)
        time.sleep(0.6)

    monkeypatch.setattr(lease.RunLease, "update", slow)
    monkeypatch.setattr(lease.RunLease, "__init__", _short_beats(lease.RunLease.__init__))
    job = threading.Thread(target=_job, args=(app, run_id))
    job.start()
    client, seen = app.test_client(), []
    try:
        while job.is_alive():
            written = _count(app, tag)
            body = client.get(f"/api/v1/imports/{run_id}", headers=who.user).get_json()
            if body["status"] == "running":  # so it was running when the rows were counted
                seen.append(body["rows_done"])
                assert written == 0, "rows of an uncommitted import are visible"
            time.sleep(0.05)
    finally:
        job.join()
    progress = sorted(set(seen) - {0})
    assert len(progress) >= 2 and progress[-1] <= 4000, seen
    assert all(0 < p / 4000 <= 1 for p in progress)
    assert _run(app, run_id).status == "applied" and _count(app, tag) == 4000


def _short_beats(init):
    def short(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self.interval = 0.2

    return short


def test_the_poller_fails_a_run_whose_worker_fell_silent_and_it_can_be_retried(make_app, people):
    app = make_app(IMPORT_LEASE_SECONDS=1)
    who = people(app)
    tag = _tag()
    client = app.test_client()
    run_id = _post(client, who.user, standards_book(who.holder, tag, 2)).get_json()["id"]
    with app.app_context():
        assert lease.claim(run_id, "a-worker-that-dies") == 1  # and then says nothing more
    assert client.get(f"/api/v1/imports/{run_id}", headers=who.user).get_json()["status"] == "running"
    time.sleep(1.3)
    body = client.get(f"/api/v1/imports/{run_id}", headers=who.user).get_json()
    assert (body["status"], body["failure_reason"], body["ok"]) == ("failed", "lease_expired", False)
    assert "stopped responding" in body["errors"][0]["message"] and "没有响应" in body["errors"][0]["message"]

    page = _page(app, who.login_id, run_id)
    assert "后台任务进程停止了响应" in page and 'action="/imports/%d/retry"' % run_id in page

    retried = client.post(f"/api/v1/imports/{run_id}/retry", headers=who.user)
    assert retried.status_code == 202, retried.get_json()
    assert retried.get_json()["status"] == "queued" and retried.get_json()["failure_reason"] is None
    assert retried.headers["Location"].endswith(f"/api/v1/imports/{run_id}")
    assert _pending(app) == [run_id, run_id]  # the first delivery is still there: it will find the run taken
    _job(app, run_id)
    run = _run(app, run_id)
    assert (run.status, run.attempts, run.failure_reason, run.message) == ("applied", 2, None, None)
    assert _count(app, tag) == 2
    _job(app, run_id)  # the old delivery: a no-op
    assert _run(app, run_id).attempts == 2


def _page(app, login_id: str, run_id: int, path: str = "") -> str:
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"], sess["_fresh"] = login_id, True
    return client.get(f"/imports/{run_id}{path}").get_data(as_text=True)


def test_who_may_retry_what(make_app, people):
    app = make_app()
    who = people(app)
    client = app.test_client()
    run_id = _post(client, who.user, standards_book(who.holder, _tag(), 1)).get_json()["id"]
    assert client.post(f"/api/v1/imports/{run_id}/retry", headers=who.user).status_code == 409  # queued, not failed
    with app.app_context():
        lease.claim(run_id, "w")
        lease.fail_claimed(run_id, "w", 1, "error", "测试 / test")
    assert client.post(f"/api/v1/imports/{run_id}/retry", headers=who.other).status_code == 404
    assert client.post(f"/api/v1/imports/{run_id}/retry", headers=who.regulator).status_code == 403
    with app.app_context():
        services.upload_path(_run(app, run_id)).unlink()
    refused = client.post(f"/api/v1/imports/{run_id}/retry", headers=who.user)
    assert refused.status_code == 409 and "无法重试" in refused.get_json()["detail"]
    assert _run(app, run_id).status == "failed"
    page = _page(app, who.login_id, run_id)
    assert "无法重试" in page and "/retry" not in page


@pytest.mark.parametrize("moment", ["before it starts", "while it runs"])
def test_a_run_failed_meanwhile_is_rolled_back_not_applied(make_app, people, monkeypatch, moment):
    """A sweep or a poller failed the run after the worker claimed it: the worker must not apply it after all."""
    app = make_app()
    if moment == "while it runs" and app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("on SQLite the import holds the write lock from its start: nobody can fail it meanwhile")
    who = people(app)
    tag = _tag()
    run_id = _post(app.test_client(), who.user, standards_book(who.holder, tag, 1500)).get_json()["id"]
    swept = []

    def sweep_once():
        if not swept:
            with app.app_context(), db.engine.begin() as conn:  # another process's sweep
                conn.execute(lease.runs.update().where(lease.runs.c.id == run_id)
                             .values(status="failed", failure_reason="lease_expired", message="swept"))
            swept.append(True)

    if moment == "before it starts":
        enter = lease.RunLease.__enter__
        monkeypatch.setattr(lease.RunLease, "__enter__", lambda self: (sweep_once(), enter(self))[1])
    else:
        report = lease.RunLease.update
        monkeypatch.setattr(lease.RunLease, "update", lambda self, done, total: (sweep_once(),
                                                                                 report(self, done, total))[1])
    _job(app, run_id)
    run = _run(app, run_id)
    assert swept and (run.status, run.failure_reason, run.message) == ("failed", "lease_expired", "swept")
    assert _count(app, tag) == 0


def test_an_unexpected_error_fails_the_run_with_its_reason(make_app, people, monkeypatch):
    import importers.run

    app = make_app()
    who = people(app)
    run_id = _post(app.test_client(), who.user, standards_book(who.holder, _tag(), 1)).get_json()["id"]

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(importers.run, "run_import", broken)
    _job(app, run_id)
    run = _run(app, run_id)
    assert (run.status, run.failure_reason) == ("failed", "error") and "worker's log" in run.message
    assert "disk on fire" not in run.message


def test_a_job_whose_upload_is_gone_fails_and_says_so(make_app, people):
    app = make_app()
    who = people(app)
    run_id = _post(app.test_client(), who.user, standards_book(who.holder, _tag(), 1)).get_json()["id"]
    with app.app_context():
        services.upload_path(_run(app, run_id)).unlink()
    _job(app, run_id)
    run = _run(app, run_id)
    assert (run.status, run.failure_reason) == ("failed", "upload_missing") and "no longer on the server" in run.message


def test_the_sweep_fails_silent_runs_and_queues_lost_jobs_again(make_app, people):
    app = make_app(IMPORT_LEASE_SECONDS=5)
    who = people(app)
    client = app.test_client()
    silent, lost, fine = (_post(client, who.user, standards_book(who.holder, _tag(), 1)).get_json()["id"]
                          for _ in range(3))
    with app.app_context():
        jobs().huey.flush()  # every job message lost
        jobs().enqueue(run_import_job, fine)  # but this one's
        lease.claim(silent, "gone")
        db.session.execute(lease.runs.update().where(lease.runs.c.id == silent)
                           .values(heartbeat_at=utcnow() - timedelta(seconds=6)))
        db.session.commit()
        sweep_runs()
    assert _run(app, silent).failure_reason == "lease_expired"
    pending = _pending(app)  # (the database is shared with the other tests: their queued runs are swept too)
    assert (pending.count(fine), pending.count(lost), pending.count(silent)) == (1, 1, 0)


def test_immediate_mode_runs_the_job_where_it_is_queued(make_app, people):
    app = make_app(JOBS_IMMEDIATE=True)
    who = people(app)
    tag = _tag()
    response = _post(app.test_client(), who.user, standards_book(who.holder, tag, 2))
    assert response.status_code == 202
    assert _run(app, response.get_json()["id"]).status == "applied" and _count(app, tag) == 2


def test_the_worker_will_not_start_in_immediate_mode(make_app):
    app = make_app(JOBS_IMMEDIATE=True)
    result = app.test_cli_runner().invoke(args=["worker"])
    assert result.exit_code == 1 and "JOBS_IMMEDIATE" in result.output


def test_the_worker_will_not_start_on_a_memory_queue(make_app):
    result = make_app(JOBS_URL="memory://").test_cli_runner().invoke(args=["worker"])
    assert result.exit_code == 1 and "memory://" in result.output


@pytest.mark.parametrize("url", ["ftp://example.org/queue", "postgres://x"])
def test_an_unknown_queue_url_is_refused_with_what_is_expected(make_app, url):
    app = make_app(JOBS_URL=url)
    with app.app_context(), pytest.raises(RuntimeError, match="expected sqlite:///FILE"):
        jobs().huey
