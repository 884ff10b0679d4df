"""Writers at once, over HTTP, on a database file: they queue; a stale edit is a 412, never a 500.

SQLite writers take the write lock up front (``BEGIN IMMEDIATE``) and wait
up to ``SQLITE_BUSY_TIMEOUT_MS`` for it; one still not had is a 503 with
``Retry-After``.  The same requests on PostgreSQL give the same answers.
"""
from __future__ import annotations

import re
import sqlite3
import threading
import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from registry.audit.models import AuditEvent
from registry.auth.models import ApiToken
from registry.auth.services import create_user, issue_token
from registry.database.base import utcnow
from registry.extensions import db
from registry.standards.models import MeasurementStandard
from tests import factories
from tests.live.conftest import all_at_once, call, drop_schema, fresh_database_url, is_postgres, make_app, serving

PASSWORD = "Live-tests-only-2026!"
SCHEMA = "live_concurrent_writes"
sqlite_only = pytest.mark.skipif(is_postgres(), reason="SQLite's write lock; PostgreSQL locks rows instead")


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    """A served registry (busy timeout 30 s: every writer gets its turn) with a regulator and 30 standards."""
    tmp_path = tmp_path_factory.mktemp("live")
    url = fresh_database_url(tmp_path, SCHEMA)
    app = make_app(url, tmp_path, SQLITE_BUSY_TIMEOUT_MS=30_000)
    with app.app_context():
        holder = factories.institution()
        regulator = create_user(email="regulator@example.test", password=PASSWORD, role="regulator", actor=None)
        ids = [factories.standard(holder, name=f"并发标准{i}").id for i in range(30)]
        raw, _ = issue_token(regulator)
        db.session.commit()
        db.session.remove()
    with serving(app) as base:
        yield SimpleNamespace(app=app, url=url, base=base, standards=ids, path=tmp_path,
                              headers={"Authorization": f"Bearer {raw}"})
    with app.app_context():
        db.engine.dispose()
    drop_schema(SCHEMA)


def _stored(app, standard_id):
    with app.app_context():
        try:
            standard = db.session.get(MeasurementStandard, standard_id)
            updates = db.session.scalars(sa.select(AuditEvent.after).where(
                AuditEvent.entity_type == "measurement_standards", AuditEvent.entity_id == str(standard_id),
                AuditEvent.action == "update")).all()
            return standard.name, standard.version, [after["name"] for after in updates]
        finally:
            db.session.remove()


def test_simultaneous_edits_of_one_record_give_one_200_and_412s(registry):
    standard_id = registry.standards[0]
    url = f"{registry.base}/api/v1/standards/{standard_id}"
    headers = {**registry.headers, "If-Match": '"1"'}
    answers = all_at_once([
        (lambda i=i: call("PATCH", url, headers=headers, body={"name": f"第{i}人的名称"})) for i in range(40)])

    assert not [a for a in answers if isinstance(a, BaseException)]
    statuses = sorted(a.status for a in answers)
    assert statuses == [200] + [412] * 39, statuses
    winner = next(a for a in answers if a.status == 200)
    assert winner.headers["ETag"] == '"2"'
    assert all(a.headers["Content-Type"] == "application/problem+json" for a in answers if a.status == 412)
    assert _stored(registry.app, standard_id) == (winner.body["name"], 2, [winner.body["name"]])


def test_simultaneous_edits_of_different_records_all_succeed(registry):
    targets = registry.standards[1:21]
    answers = all_at_once([
        (lambda sid=sid: call("PATCH", f"{registry.base}/api/v1/standards/{sid}",
                              headers={**registry.headers, "If-Match": '"1"'}, body={"name": f"改名{sid}"}))
        for sid in targets])
    assert [getattr(a, "status", a) for a in answers] == [200] * len(targets)
    assert [_stored(registry.app, sid) for sid in targets] == [(f"改名{sid}", 2, [f"改名{sid}"]) for sid in targets]


@pytest.fixture
def impatient(registry):
    """A second app on the same database that waits only 200 ms for the write lock."""
    app = make_app(registry.url, registry.path, SQLITE_BUSY_TIMEOUT_MS=200)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def lock_holder(registry):
    """Hold SQLite's write lock from another connection, as a long write would; ``release()`` ends it."""
    path = sa.make_url(registry.url).database
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    state = SimpleNamespace(released=False)

    def release():
        if not state.released:
            holder.execute("ROLLBACK")
            state.released = True

    state.release = release
    yield state
    release()
    holder.close()


@sqlite_only
def test_a_lock_not_had_within_the_busy_timeout_is_a_503_with_retry_after(registry, impatient, lock_holder):
    standard_id = registry.standards[25]
    client = impatient.test_client()
    url = f"/api/v1/standards/{standard_id}"

    busy = client.patch(url, headers={**registry.headers, "If-Match": '"1"'}, json={"name": "等不到的修改"})
    assert busy.status_code == 503 and busy.mimetype == "application/problem+json"
    assert busy.headers["Retry-After"] == "1"
    problem = busy.get_json()
    assert problem["type"] == "urn:registry:problem:database-busy" and "请稍后重试" in problem["detail"]
    assert "Traceback" not in busy.get_data(as_text=True) and "locked" not in busy.get_data(as_text=True)

    # Reads do not wait for writers.
    assert client.get(url, headers=registry.headers).status_code == 200

    lock_holder.release()
    assert _stored(registry.app, standard_id) == ("并发标准25", 1, [])
    done = client.patch(url, headers={**registry.headers, "If-Match": '"1"'}, json={"name": "轮到我了"})
    assert done.status_code == 200, done.get_json()


@sqlite_only
def test_a_page_that_cannot_get_the_lock_answers_a_503_page(registry, impatient, lock_holder):
    client = impatient.test_client()
    form = client.get("/login")
    assert form.status_code == 200
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form.get_data(as_text=True)).group(1)
    busy = client.post("/login", data={"email": "regulator@example.test", "password": PASSWORD, "csrf_token": token})
    assert busy.status_code == 503 and busy.mimetype == "text/html"
    assert busy.headers["Retry-After"] == "1"
    assert "数据库正忙" in busy.get_data(as_text=True)


@sqlite_only
def test_a_writer_waits_for_the_lock_to_be_released(registry, lock_holder):
    """Within the busy timeout a write queues behind the one holding the lock, then goes through."""
    standard_id = registry.standards[26]
    timer = threading.Timer(1.0, lock_holder.release)
    timer.start()
    try:
        answer = call("PATCH", f"{registry.base}/api/v1/standards/{standard_id}",
                      headers={**registry.headers, "If-Match": '"1"'}, body={"name": "排队后的修改"})
    finally:
        timer.join()
    assert lock_holder.released
    assert answer.status == 200, answer.body
    assert _stored(registry.app, standard_id) == ("排队后的修改", 2, ["排队后的修改"])


@sqlite_only
def test_a_read_notes_token_use_only_when_it_can(registry, impatient):
    """A GET noting a token's last use does not fail while another connection writes; it skips the note."""
    stale = utcnow() - timedelta(hours=1)
    with impatient.app_context():
        token = db.session.scalar(sa.select(ApiToken))
        token.last_used_at, token_id = stale, token.id
        db.session.commit()
        db.session.remove()
    holder = sqlite3.connect(sa.make_url(registry.url).database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        answer = impatient.test_client().get("/api/v1/auth/me", headers=registry.headers)
        assert answer.status_code == 200, answer.get_json()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert time.monotonic() - started < 60  # it returned at all: nothing waited for the lock for ever
    with impatient.app_context():
        assert db.session.get(ApiToken, token_id).last_used_at == stale
        db.session.remove()
    assert impatient.test_client().get("/api/v1/auth/me", headers=registry.headers).status_code == 200
    with impatient.app_context():
        assert db.session.get(ApiToken, token_id).last_used_at > stale
        db.session.remove()
