"""Fixtures: one migrated database per run, one rolled-back transaction per test.

The database is SQLite in a temporary file, or PostgreSQL when
``TEST_DATABASE_URL`` is set (read by ``config.TestingConfig``).
"""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import g, request_started
from flask_sqlalchemy.session import Session as FlaskSession
from flask_migrate import upgrade

import config
from registry import create_app
from registry.database.engine import reading
from registry.extensions import db
from registry.seed.reference import load_reference_data


class ConnectionBoundSession(FlaskSession):
    """Always use the test's connection.

    Flask-SQLAlchemy's session picks an engine per mapper, which would bypass
    the connection (and the transaction rolled back after each test).
    """

    def get_bind(self, *args, **kwargs):
        return self.bind


def _testing_config(tmp_path_factory) -> config.TestingConfig:
    testing = config.TestingConfig()
    if testing.SQLALCHEMY_DATABASE_URI == "sqlite://":
        path = tmp_path_factory.mktemp("db") / "registry-test.db"
        testing.SQLALCHEMY_DATABASE_URI = f"sqlite:///{path}"
    testing.IMPORT_STORAGE_DIR = str(tmp_path_factory.mktemp("imports"))
    testing.MAIL_OUTBOX_DIR = str(tmp_path_factory.mktemp("outbox"))
    return testing


def reset_database(engine: sa.Engine) -> None:
    """Drop everything so the suite starts from an empty database."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
    else:
        db.metadata.drop_all(engine)


def _add_test_routes(app) -> None:
    """Routes that fail on purpose, to check what an unexpected error shows (never the traceback)."""

    def boom():
        raise RuntimeError("SELECT password_hash FROM users -- a failure the client must never see")

    app.add_url_rule("/api/_test/boom", "test_api_boom", boom, methods=["GET", "POST"])
    app.add_url_rule("/_test/boom", "test_page_boom", boom)


def _fresh_g(sender, **extra) -> None:
    """Give each test request an empty ``g``, as in production.

    Tests hold one app context open, so without this ``g`` (and the user
    flask-login caches there) would carry over from one request to the next.
    """
    g.__dict__.clear()


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    app = create_app(_testing_config(tmp_path_factory))
    _add_test_routes(app)
    request_started.connect(_fresh_g, app)
    with app.app_context():
        reset_database(db.engine)
        upgrade()
        load_reference_data(plan_start=app.config["PLAN_START_DATE"])
        db.session.commit()
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def session(app):
    """Run each test inside a transaction that is rolled back afterwards.

    Commits made by the code under test release a SAVEPOINT instead, so the
    code behaves as in production while the database stays untouched.
    """
    with app.app_context():
        connection = db.engine.connect()
        # Deferred on SQLite: the test's connection takes the write lock at its first write, so a test
        # may still open a second connection (tests/live/ covers how requests begin for real).
        with reading():
            transaction = connection.begin()
        original = db.session
        db.session = db._make_scoped_session(
            {"bind": connection, "join_transaction_mode": "create_savepoint", "class_": ConnectionBoundSession}
        )
        try:
            yield db.session
        finally:
            db.session.remove()
            db.session = original
            transaction.rollback()
            connection.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture(autouse=True)
def _fresh_rate_limits(app):
    """Login throttling counts per address: start every test with clean counters."""
    from registry.extensions import limiter

    limiter.reset()


@pytest.fixture
def users(session):
    """One account per role; ``institution`` belongs to ``own``, ``other`` to ``other_institution``."""
    from types import SimpleNamespace

    from tests import factories

    own, other = factories.institution(), factories.institution()
    accounts = SimpleNamespace(
        admin=factories.user("admin"), regulator=factories.user("regulator"),
        institution=factories.user("institution", own), other=factories.user("institution", other),
        own=own, other_institution=other,
    )
    session.commit()  # a request that fails rolls back; what the test set up must survive it
    return accounts


class AuthActions:
    """Sign a test client in with a bearer token or a cookie session."""

    def __init__(self, client):
        self._client = client

    def token(self, user, **kwargs) -> dict[str, str]:
        from registry.auth.services import issue_token

        raw, _ = issue_token(user, **kwargs)
        db.session.commit()
        return {"Authorization": f"Bearer {raw}"}

    def headers(self, user) -> dict[str, str]:
        """Bearer headers for ``user``, or none for the anonymous caller (``None``)."""
        return self.token(user) if user is not None else {}

    def login_session(self, user) -> None:
        db.session.commit()
        with self._client.session_transaction() as sess:
            sess["_user_id"] = user.get_id()
            sess["_fresh"] = True

    def csrf_token(self) -> str:
        response = self._client.get("/api/v1/auth/me")
        assert response.status_code == 200, response.get_json()
        return response.headers["X-CSRFToken"]


@pytest.fixture
def auth(client):
    return AuthActions(client)
