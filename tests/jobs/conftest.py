"""Background jobs on a database of their own.

A worker in another process cannot see the rolled-back transaction of the
other tests, so these tests commit, into a migrated database of their own:
a temporary SQLite file, or a ``jobs_tests`` schema of the PostgreSQL test
database (dropped at the end).  Each test makes its own institution, users
and certificate numbers, and an app whose queue is a temporary SQLite file
(or Redis) under a queue name of its own.
"""
from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

import config
from registry import create_app
from registry.extensions import db
from tests.jobs.support import WorkerProcess

JOBS_SCHEMA = "jobs_tests"


@pytest.fixture(autouse=True)
def session():
    """Override the rolled-back session of the other tests: these commit for real."""
    yield None


@pytest.fixture(scope="session")
def jobs_database(tmp_path_factory):
    """The URL of a migrated database with the reference data, for these tests only."""
    from flask_migrate import upgrade

    from registry.seed.reference import load_reference_data

    url = sa.make_url(config.TestingConfig().SQLALCHEMY_DATABASE_URI)
    postgres = url.get_backend_name() == "postgresql"
    if postgres:
        _recreate_schema(url, create=True)
        url = url.update_query_dict({"options": f"-csearch_path={JOBS_SCHEMA}"})
    else:
        url = sa.make_url(f"sqlite:///{tmp_path_factory.mktemp('jobs-db') / 'registry.db'}")
    rendered = url.render_as_string(hide_password=False)
    app = create_app(_config(rendered, tmp_path_factory.mktemp("jobs-setup")))
    with app.app_context():
        upgrade()
        load_reference_data(plan_start=app.config["PLAN_START_DATE"])
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    yield rendered
    if postgres:
        _recreate_schema(sa.make_url(config.TestingConfig().SQLALCHEMY_DATABASE_URI), create=False)


def _recreate_schema(url, *, create: bool) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {JOBS_SCHEMA} CASCADE")
        if create:
            conn.exec_driver_sql(f"CREATE SCHEMA {JOBS_SCHEMA}")
    engine.dispose()


def _config(database_url: str, workdir, **settings) -> config.TestingConfig:
    cfg = config.TestingConfig()
    cfg.SQLALCHEMY_DATABASE_URI = database_url
    cfg.REGISTRY_INSTANCE_DIR = str(workdir)
    cfg.IMPORT_STORAGE_DIR = str(workdir / "uploads")
    cfg.IMPORT_INLINE_ONLY = False
    cfg.IMPORT_INLINE_MAX_BYTES = 0  # every upload goes to the queue
    cfg.JOBS_URL = f"sqlite:///{workdir / 'jobs.db'}"
    cfg.JOBS_QUEUE_NAME = f"registry-test-{uuid.uuid4().hex[:10]}"
    cfg.IMPORT_LEASE_SECONDS = 60
    for name, value in settings.items():
        setattr(cfg, name, value)
    return cfg


@pytest.fixture
def make_app(jobs_database, tmp_path):
    """``make_app(**settings)``: an app on the jobs database with these settings (and a queue of its own)."""
    apps = []

    def make(**settings):
        app = create_app(_config(jobs_database, tmp_path, **settings))
        apps.append(app)
        return app

    yield make
    for app in apps:
        with app.app_context():
            queue = app.extensions["jobs"]
            if queue._huey is not None and not queue.huey.immediate:
                queue.huey.flush()  # Redis keeps what it holds: leave nothing behind
            db.engine.dispose()


@pytest.fixture
def people(make_app):
    """Builds, for an app, a new institution with a user and a regulator, committed, and their API tokens."""

    def build(app) -> SimpleNamespace:
        from registry.auth.services import create_user, issue_token
        from tests import factories

        with app.app_context():
            own = factories.institution()
            tag = uuid.uuid4().hex[:8]
            user = create_user(email=f"jobs-{tag}@example.test", password="Jobs-tests-only-2026!", role="institution",
                               credit_code=own.credit_code, actor=None)
            regulator = create_user(email=f"jobs-reg-{tag}@example.test", password="Jobs-tests-only-2026!",
                                    role="regulator", actor=None)
            other = create_user(email=f"jobs-other-{tag}@example.test", password="Jobs-tests-only-2026!",
                                role="institution", credit_code=factories.institution().credit_code, actor=None)
            tokens = {name: {"Authorization": f"Bearer {issue_token(account)[0]}"}
                      for name, account in (("user", user), ("regulator", regulator), ("other", other))}
            result = SimpleNamespace(holder=own.credit_code, user_id=user.id, login_id=user.get_id(), **tokens)
            db.session.commit()
            db.session.remove()
        return result

    return build


@pytest.fixture
def workers(tmp_path):
    """``workers(app, **options)`` starts a ``registry worker``; all are stopped at the end."""
    started: list[WorkerProcess] = []

    def start(app, **options) -> WorkerProcess:
        worker = WorkerProcess(app, tmp_path, **options)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
