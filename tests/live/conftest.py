"""Live tests: the app served for real, on a database of its own that these tests commit to.

Each app here gets a fresh database: a temporary SQLite file, or, when
``TEST_DATABASE_URL`` is PostgreSQL, a schema of that database named for the
test module.  The rolled-back connection of the other tests is not used.
"""
from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from contextlib import contextmanager
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

import config
from registry import create_app
from registry.extensions import db


@pytest.fixture(autouse=True)
def session():
    """Override the rolled-back session of the other tests: the apps here commit for real."""
    yield None


def is_postgres() -> bool:
    return sa.make_url(config.TestingConfig().SQLALCHEMY_DATABASE_URI).get_backend_name() == "postgresql"


def fresh_database_url(tmp_path, schema: str) -> str:
    """An empty database: a new SQLite file, or the PostgreSQL test database's schema ``schema`` made anew."""
    url = sa.make_url(config.TestingConfig().SQLALCHEMY_DATABASE_URI)
    if url.get_backend_name() != "postgresql":
        return f"sqlite:///{tmp_path / (schema + '.db')}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    engine.dispose()
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)


def drop_schema(schema: str) -> None:
    if is_postgres():
        engine = sa.create_engine(config.TestingConfig().SQLALCHEMY_DATABASE_URI)
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        engine.dispose()


def make_app(database_url: str, tmp_path, **settings):
    """The registry on ``database_url`` (migrated, reference data loaded), with ``settings`` on top."""
    from flask_migrate import upgrade

    from registry.seed.reference import load_reference_data

    testing = config.TestingConfig()
    testing.SQLALCHEMY_DATABASE_URI = database_url
    testing.IMPORT_STORAGE_DIR = str(tmp_path / "imports")
    for name, value in settings.items():
        setattr(testing, name, value)
    app = create_app(testing)
    with app.app_context():
        if not sa.inspect(db.engine).has_table("alembic_version"):
            upgrade()
            load_reference_data(plan_start=app.config["PLAN_START_DATE"])
            db.session.commit()
        db.session.remove()
    return app


@contextmanager
def serving(app):
    """``app`` on 127.0.0.1 at a free port, one thread per request (as several gunicorn workers would be)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def call(method: str, url: str, *, headers: dict | None = None, body: object = None, timeout: float = 60):
    """One HTTP request: (status, headers, parsed JSON or text)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={
        **({"Content-Type": "application/json"} if data is not None else {}), **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, answer_headers, raw = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, answer_headers, raw = error.code, error.headers, error.read()
    text = raw.decode("utf-8", "replace")
    is_json = "json" in (answer_headers.get("Content-Type") or "")
    return SimpleNamespace(status=status, headers=answer_headers, body=json.loads(text) if is_json and text else text)


def all_at_once(calls):
    """Run the callables in threads released together; their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, fn):
        barrier.wait()
        try:
            results[i] = fn()
        except BaseException as exc:  # reported by the test, not lost in a thread
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
