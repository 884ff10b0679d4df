"""Fixtures: one migrated database per run, one rolled-back transaction per test.

The database is SQLite in a temporary file, or PostgreSQL when
``TEST_DATABASE_URL`` is set (read by ``config.TestingConfig``).
"""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_sqlalchemy.session import Session as FlaskSession
from flask_migrate import upgrade

import config
from registry import create_app
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
    return testing


def reset_database(engine: sa.Engine) -> None:
    """Drop everything so the suite starts from an empty database."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
    else:
        db.metadata.drop_all(engine)


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    app = create_app(_testing_config(tmp_path_factory))
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
