"""Several server processes share the rate limits through Redis; production refuses per-process counting."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import config
from registry import create_app
from registry.auth.services import create_user
from registry.extensions import db
from tests.live.conftest import call, drop_schema, fresh_database_url, make_app

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = "live_several_workers"
EMAIL, PASSWORD = "limits@example.test", "Live-tests-only-2026!"


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("workers")
    url = fresh_database_url(tmp_path, SCHEMA)
    app = make_app(url, tmp_path)
    with app.app_context():
        create_user(email=EMAIL, password=PASSWORD, role="regulator", actor=None)
        db.session.commit()
        db.engine.dispose()
    yield url, tmp_path
    drop_schema(SCHEMA)


@pytest.fixture
def redis_url():
    """TEST_REDIS_URL, emptied: the rate-limit counters of earlier runs must not count."""
    import redis

    url = config.TestingConfig.TEST_REDIS_URL
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    except redis.exceptions.ConnectionError as exc:
        pytest.skip(f"no Redis at TEST_REDIS_URL={url}: {exc}")
    yield url
    client.flushdb()
    client.close()


def _environment(url: str, tmp_path: Path, **settings: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items()
           if name not in {"REDIS_URL", "RATELIMIT_STORAGE_URI", "WEB_CONCURRENCY", "GUNICORN_CMD_ARGS"}}
    env.update({"DATABASE_URL": url, "REGISTRY_ENV": "production", "SECRET_KEY": "live-tests-only",
                "REGISTRY_INSTANCE_DIR": str(tmp_path), "LOGIN_LIMIT_PER_ACCOUNT": "5 per minute",
                "LOGIN_LIMIT_PER_ADDRESS": "100 per minute"})
    env.update(settings)
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _gunicorn(env: dict[str, str], *args: str) -> subprocess.Popen:
    """gunicorn as an operator starts it, from the project folder (so it reads gunicorn.conf.py)."""
    return subprocess.Popen([sys.executable, "-m", "gunicorn", *args], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def _started(process: subprocess.Popen, base: str) -> None:
    for _ in range(240):
        if process.poll() is not None:
            raise AssertionError(f"gunicorn exited {process.returncode}: {process.communicate()[1][-3000:]}")
        try:
            if call("GET", base + "/healthz", timeout=2).status == 200:
                return
        except OSError:
            pass
        time.sleep(0.25)
    raise AssertionError("gunicorn did not answer within 60 s")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _wrong_passwords(bases: list[str], attempts: int) -> list[int]:
    """``attempts`` wrong passwords for one account, sent to each server in turn."""
    return [call("POST", bases[i % len(bases)] + "/api/v1/auth/tokens",
                 body={"email": EMAIL, "password": "not the password at all"}).status for i in range(attempts)]


def _two_servers(env: dict[str, str]):
    servers = []
    try:
        for _ in range(2):
            base = f"http://127.0.0.1:{_free_port()}"
            servers.append((_gunicorn(env, "--workers", "1", "--bind", base.removeprefix("http://")), base))
        for process, base in servers:
            _started(process, base)
        return [base for _, base in servers], [process for process, _ in servers]
    except BaseException:
        for process, _ in servers:
            _stop(process)
        raise


def test_two_servers_sharing_redis_allow_five_wrong_passwords_in_all(database, redis_url):
    url, tmp_path = database
    bases, processes = _two_servers(_environment(url, tmp_path, REDIS_URL=redis_url))
    try:
        statuses = _wrong_passwords(bases, 10)
    finally:
        for process in processes:
            _stop(process)
    assert statuses == [401] * 5 + [429] * 5


def test_two_servers_counting_in_memory_would_allow_ten(database, redis_url):
    """What production now refuses: each process counting alone lets twice the attempts through."""
    url, tmp_path = database
    bases, processes = _two_servers(_environment(url, tmp_path, REGISTRY_ENV="development",
                                                 RATELIMIT_STORAGE_URI="memory://"))
    try:
        statuses = _wrong_passwords(bases, 10)
    finally:
        for process in processes:
            _stop(process)
    assert statuses == [401] * 10


def test_gunicorn_refuses_several_workers_counting_in_memory_in_production(database):
    url, tmp_path = database
    process = _gunicorn(_environment(url, tmp_path), "--workers", "2", "--bind", f"127.0.0.1:{_free_port()}")
    try:
        out, err = process.communicate(timeout=120)
    finally:
        _stop(process)
    assert process.returncode == 1, err[-3000:]
    assert "refusing to start" in err and "2 server processes" in err and "REDIS_URL" in err
    assert "Traceback" not in err


def test_gunicorn_counts_the_workers_however_they_are_given(database):
    url, tmp_path = database
    env = _environment(url, tmp_path, WEB_CONCURRENCY="3")
    process = _gunicorn(env, "--bind", f"127.0.0.1:{_free_port()}")
    try:
        _, err = process.communicate(timeout=120)
    finally:
        _stop(process)
    assert process.returncode == 1 and "3 server processes" in err


def test_the_app_refuses_to_start_with_several_processes_counting_in_memory(tmp_path):
    settings = config.Config()
    settings.SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'registry.db'}"
    settings.RATELIMIT_STORAGE_URI, settings.SERVER_PROCESSES = "memory://", 2
    with pytest.raises(RuntimeError, match="2 server processes.*REDIS_URL"):
        create_app(settings)


@pytest.mark.parametrize(("env", "storage", "processes", "refused"), [
    ("production", "memory://", 2, True),
    ("production", "memory://", 1, False),
    ("production", "redis://127.0.0.1:6379/0", 8, False),
    ("development", "memory://", 4, False),
])
def test_which_settings_are_refused(env, storage, processes, refused):
    assert (config.per_process_limits_problem(env, storage, processes) is not None) is refused
