import os
from contextlib import contextmanager

import sqlalchemy as sa

import config
from config import DevelopmentConfig
from registry.extensions import db


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_front_page_counts_the_registries(client):
    response = client.get("/")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "计量标准注册管理系统" in body and "Metrology Standards Registry" in body
    assert "演示数据" not in body  # no demo data loaded in the test database


def test_sqlite_connections_enforce_foreign_keys_and_wal(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            return
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == app.config["SQLITE_BUSY_TIMEOUT_MS"]


def test_default_database_is_sqlite_in_the_instance_folder():
    assert config._default_database_url() == f"sqlite:///{config.INSTANCE_DIR / 'registry.db'}"


def test_development_secret_key_is_random_and_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path)
    monkeypatch.setattr(DevelopmentConfig, "SECRET_KEY", None)
    first = DevelopmentConfig().SECRET_KEY
    second = DevelopmentConfig().SECRET_KEY
    assert first == second and len(first) == 64
    assert (tmp_path / "secret_key").read_text() == first
    other = tmp_path / "other"
    monkeypatch.setattr(config, "INSTANCE_DIR", other)
    assert DevelopmentConfig().SECRET_KEY != first


def test_testing_config_never_writes_a_key_file():
    assert config.TestingConfig().SECRET_KEY.startswith("test-only-")


def test_foreign_keys_are_enforced(app, session):
    from registry.institutions.models import Institution

    session.add(Institution(credit_code="91350100M000100Y43", name="x", region_code="999999", kind="other"))
    try:
        session.flush()
    except sa.exc.IntegrityError:
        session.rollback()
    else:
        raise AssertionError("an institution in an unknown region was accepted")


def _mode(path) -> int:
    import stat

    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_secret_key_file_is_owner_only_from_the_start_and_an_old_one_is_tightened(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path / "instance")
    monkeypatch.setattr(DevelopmentConfig, "SECRET_KEY", None)
    old = os.umask(0o022)
    try:
        key = DevelopmentConfig().SECRET_KEY
    finally:
        os.umask(old)
    assert _mode(tmp_path / "instance" / "secret_key") == 0o600
    assert _mode(tmp_path / "instance") == 0o700
    (tmp_path / "instance" / "secret_key").chmod(0o644)
    assert DevelopmentConfig().SECRET_KEY == key
    assert _mode(tmp_path / "instance" / "secret_key") == 0o600


def app_on(path):
    """The app of the tests' configuration on the SQLite file ``path``."""
    from registry import create_app

    testing = config.TestingConfig()
    testing.SQLALCHEMY_DATABASE_URI = f"sqlite:///{path}"
    return create_app(testing)


@contextmanager
def a_row_written(path):
    """The app on the SQLite file ``path`` writes a row into table ``t``; yields a new connection to it,
    then lets the database go."""
    app = app_on(path)
    with app.app_context():
        with db.engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS t (x INTEGER)")
            conn.exec_driver_sql("INSERT INTO t VALUES (1)")
        with db.engine.connect() as conn:
            yield conn
        db.engine.dispose()


def test_a_sqlite_database_file_and_its_wal_and_shm_are_owner_only(tmp_path):
    fresh = tmp_path / "fresh.db"
    old = os.umask(0o022)
    try:
        with a_row_written(fresh) as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.execute(sa.text("SELECT x FROM t")).scalar() == 1
            for name in (fresh, f"{fresh}-wal", f"{fresh}-shm"):
                assert os.path.exists(name) and _mode(name) == 0o600, name
        # A database made before (0644, with its -wal) is tightened when the app opens it.
        for name in (fresh, f"{fresh}-wal"):
            if os.path.exists(name):
                os.chmod(name, 0o644)
        app = app_on(fresh)
        with app.app_context():
            db.engine.dispose()
        assert _mode(fresh) == 0o600
    finally:
        os.umask(old)


def test_a_new_sqlite_database_takes_the_registry_page_size_and_an_old_one_keeps_its_own(tmp_path):
    import sqlite3

    from registry.database.engine import SQLITE_PAGE_SIZE

    def page_size_seen_by_the_app(path):
        with a_row_written(path) as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() >= 1
            return conn.exec_driver_sql("PRAGMA page_size").scalar()

    assert SQLITE_PAGE_SIZE != 4096
    assert page_size_seen_by_the_app(tmp_path / "new.db") == SQLITE_PAGE_SIZE
    old = tmp_path / "old.db"
    made_before = sqlite3.connect(old)
    made_before.execute("PRAGMA page_size = 4096")
    made_before.execute("CREATE TABLE t (x INTEGER)")
    made_before.commit()
    made_before.close()
    assert page_size_seen_by_the_app(old) == 4096  # kept, with its rows
    assert page_size_seen_by_the_app(old) == 4096
