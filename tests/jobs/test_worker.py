"""``registry worker`` in its own process: on SQLite or PostgreSQL, with the queue in SQLite or Redis; killed."""
from __future__ import annotations

import io
import time
import uuid

import pytest
import sqlalchemy as sa

import config
from registry.database.engine import reading
from registry.extensions import db
from registry.imports.models import ImportRun
from registry.imports.tasks import run_import_job
from registry.jobs import jobs
from registry.standards.models import MeasurementStandard
from tests.jobs.support import standards_book, wait_for

FINISHED = ("applied", "previewed", "invalid", "rejected", "failed")


def _post(client, headers, data: bytes, *, dry_run=False) -> int:
    response = client.post("/api/v1/imports", headers=headers, content_type="multipart/form-data",
                           data={"file": (io.BytesIO(data), "book.xlsx"), "dry_run": "true" if dry_run else "false"})
    assert response.status_code == 202, response.get_json()
    return response.get_json()["id"]


def _poll(client, headers, run_id: int) -> dict:
    return client.get(f"/api/v1/imports/{run_id}", headers=headers).get_json()


def _count(app, tag: str) -> int:
    with app.app_context(), reading():  # deferred: no wait for an import's write lock (SQLite)
        n = db.session.scalar(sa.select(sa.func.count()).select_from(MeasurementStandard)
                              .where(MeasurementStandard.certificate_no.like(f"%{tag}%")))
        db.session.remove()
    return n


def _audit_rows(app, run_id: int) -> int:
    from registry.audit.models import AuditEvent

    with app.app_context(), reading():  # deferred: no wait for an import's write lock (SQLite)
        n = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
            AuditEvent.entity_type == "import_runs", AuditEvent.entity_id == str(run_id)))
        db.session.remove()
    return n


def _redis_url() -> str:
    import redis

    url = config.TestingConfig.TEST_REDIS_URL
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError as exc:
        pytest.skip(f"no Redis at {url} ({exc}); .ci/run starts one")
    return url


@pytest.fixture(params=["sqlite-queue", "redis-queue"])
def queue_url(request, tmp_path) -> str:
    return _redis_url() if request.param == "redis-queue" else f"sqlite:///{tmp_path / 'queue.db'}"


def test_a_worker_process_runs_queued_imports_once_each(make_app, people, workers, queue_url):
    app = make_app(JOBS_URL=queue_url)
    who = people(app)
    client = app.test_client()
    tag, preview_tag = "工" + uuid.uuid4().hex[:6].upper(), "览" + uuid.uuid4().hex[:6].upper()
    applied = _post(client, who.user, standards_book(who.holder, tag, 300))
    previewed = _post(client, who.user, standards_book(who.holder, preview_tag, 20), dry_run=True)
    with app.app_context():
        jobs().enqueue(run_import_job, applied)  # delivered twice: it must still run once
    workers(app, workers=2)

    def finished():
        runs = [_poll(client, who.user, run_id) for run_id in (applied, previewed)]
        return runs if all(run["status"] in FINISHED for run in runs) else None

    first, second = wait_for(finished, timeout=90, interval=0.3, what="both runs to finish")
    assert (first["status"], first["attempts"], first["rows_done"], first["progress"]) == ("applied", 1, 300, 1.0)
    assert (second["status"], second["sheets"]["计量标准"]["created"]) == ("previewed", 20)
    assert _count(app, tag) == 300 and _count(app, preview_tag) == 0
    assert _audit_rows(app, applied) == 1  # one 'import' row: applied once


def test_a_worker_killed_mid_import_leaves_nothing_and_the_retry_succeeds(make_app, people, workers):
    """Must hold: kill -9 the worker while it writes; the run fails within the lease; the retry imports it all."""
    lease = 4
    app = make_app(IMPORT_LEASE_SECONDS=lease)
    who = people(app)
    client = app.test_client()
    tag, rows = "杀" + uuid.uuid4().hex[:6].upper(), 9000
    run_id = _post(client, who.user, standards_book(who.holder, tag, rows))
    # Every 1,000 rows checked the slowed worker waits 0.4 s; from 5,000 rows on, checked rows are written
    # (importers.pipeline) into the import's transaction while later ones are checked.
    slow = workers(app, slow=0.4)
    wait_for(lambda: slow.rows_done() >= 7000 or slow.process.poll() is not None, timeout=120,
             what="the worker to be 7,000 rows into the import")
    assert slow.process.poll() is None, slow.log()
    assert _poll(client, who.user, run_id)["status"] == "running"
    slow.kill()
    killed_at = time.monotonic()
    assert slow.process.returncode == -9

    failed = wait_for(lambda: (lambda run: run if run["status"] != "running" else None)(
        _poll(client, who.user, run_id)), timeout=lease + 10, interval=0.2, what="the poller to fail the run")
    elapsed = time.monotonic() - killed_at
    assert (failed["status"], failed["failure_reason"]) == ("failed", "lease_expired"), failed
    # The last heartbeat came at most a second before the kill; polls every 0.2 s (slower on a loaded machine).
    assert lease - 1.5 <= elapsed <= lease + 3, f"failed {elapsed:.1f} s after the kill; the lease is {lease} s"
    assert "nothing was written" in failed["errors"][0]["message"]
    assert _count(app, tag) == 0 and _audit_rows(app, run_id) == 0

    retried = client.post(f"/api/v1/imports/{run_id}/retry", headers=who.user)
    assert retried.status_code == 202, retried.get_json()
    workers(app)
    done = wait_for(lambda: (lambda run: run if run["status"] in FINISHED else None)(
        _poll(client, who.user, run_id)), timeout=180, interval=0.5, what="the retry to finish")
    assert (done["status"], done["attempts"], done["sheets"]["计量标准"]["created"]) == ("applied", 2, rows), done
    assert _count(app, tag) == rows and _audit_rows(app, run_id) == 1


def test_the_worker_fails_a_dead_workers_run_when_it_starts(make_app, people, workers):
    """No poller at all: a worker that starts sweeps what a dead one left behind."""
    from registry.imports import lease

    app = make_app(IMPORT_LEASE_SECONDS=1)
    who = people(app)
    run_id = _post(app.test_client(), who.user, standards_book(who.holder, "扫" + uuid.uuid4().hex[:6], 1))
    with app.app_context():
        jobs().huey.flush()  # and its job message is gone with it
        assert lease.claim(run_id, "dead-worker") == 1
    time.sleep(1.2)
    workers(app)

    def status():
        with app.app_context(), reading():
            run = db.session.get(ImportRun, run_id)
            value = (run.status, run.failure_reason)
            db.session.remove()
        return value if value[0] == "failed" else None

    assert wait_for(status, timeout=60, interval=0.3, what="the sweep") == ("failed", "lease_expired")
