"""Browser tests: the real pages in headless Chromium, driven by Playwright.

A live server runs the app in a thread against its own database, filled
once per run with reference data, a small demo province and one account per
role: SQLite in a temporary file, or a ``browser_tests`` schema of the
PostgreSQL database when ``TEST_DATABASE_URL`` is set; big uploads go to a
``registry worker`` started beside it.  These tests commit, so they never
share the rolled-back connection of the other tests.

Chromium is Debian's (``/usr/bin/chromium``, installed by ``.ci/run``) or the
one ``CHROMIUM_PATH`` names.  Without a browser the tests skip and say why.
Screenshots go to ``tests/browser/screenshots/`` (not committed).
"""
from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

import config
from registry import create_app
from registry.extensions import db

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
PASSWORD = "Browser-tests-only-2026!"
BROWSER_SCHEMA = "browser_tests"


@pytest.fixture(autouse=True)
def session():
    """Override the rolled-back session of the other tests: the live server commits for real."""
    yield None


def _browser_config(tmp_path_factory) -> config.TestingConfig:
    testing = config.TestingConfig()
    url = sa.make_url(testing.SQLALCHEMY_DATABASE_URI)
    if url.get_backend_name() == "postgresql":
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {BROWSER_SCHEMA} CASCADE")
            conn.exec_driver_sql(f"CREATE SCHEMA {BROWSER_SCHEMA}")
        engine.dispose()
        testing.SQLALCHEMY_DATABASE_URI = url.update_query_dict(
            {"options": f"-csearch_path={BROWSER_SCHEMA}"}).render_as_string(hide_password=False)
    else:
        testing.SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path_factory.mktemp('browser-db') / 'registry.db'}"
    testing.IMPORT_STORAGE_DIR = str(tmp_path_factory.mktemp("browser-imports"))
    testing.IMPORT_INLINE_ONLY = False
    testing.JOBS_URL = f"sqlite:///{tmp_path_factory.mktemp('browser-jobs') / 'jobs.db'}"
    testing.IMPORT_INLINE_MAX_BYTES = 64 * 1024  # so a modest workbook shows the background progress
    testing.LOGIN_LIMIT_PER_ACCOUNT = "1000 per minute"
    testing.LOGIN_LIMIT_PER_ADDRESS = "1000 per minute"
    return testing


def _fill(app) -> SimpleNamespace:
    from flask_migrate import upgrade

    from registry.auth.services import create_user
    from registry.institutions.models import Institution
    from registry.seed.demo import load_demo_data
    from registry.seed.reference import load_reference_data

    with app.app_context():
        upgrade()
        load_reference_data(plan_start=app.config["PLAN_START_DATE"])
        load_demo_data(institutions_per_city=3, standards_per_institution=4)
        own, other = db.session.scalars(
            sa.select(Institution).where(Institution.kind == "legal_metrology").order_by(Institution.id).limit(2)
        ).all()
        accounts = SimpleNamespace(own=own.id, own_name=own.name, other=other.id, other_name=other.name)
        for role, email, code in (("admin", "admin@example.test", None),
                                  ("regulator", "regulator@example.test", None),
                                  ("institution", "own@example.test", own.credit_code),
                                  ("institution", "other@example.test", other.credit_code)):
            create_user(email=email, password=PASSWORD, role=role, credit_code=code, actor=None)
        db.session.commit()
        db.session.remove()
    return accounts


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """The app served on 127.0.0.1 at a free port, with its data and accounts, and a ``registry worker``."""
    from tests.jobs.support import WorkerProcess

    app = create_app(_browser_config(tmp_path_factory))
    accounts = _fill(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    worker = WorkerProcess(app, tmp_path_factory.mktemp("browser-worker"))
    yield SimpleNamespace(app=app, url=f"http://127.0.0.1:{server.server_port}", accounts=accounts, worker=worker)
    worker.stop()
    server.shutdown()
    with app.app_context():
        db.engine.dispose()


def _chromium() -> str | None:
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright is not installed: `pip install -e '.[dev]'`")
    executable = _chromium()
    if executable is None:
        pytest.skip("no Chromium: install Debian's `chromium` package (as .ci/run does) or set CHROMIUM_PATH")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True,
                                             args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context (no cookies) at a laptop size, Chinese first."""
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 1366, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


class Pages:
    """Actions every browser test needs."""

    EMAILS = {"admin": "admin@example.test", "regulator": "regulator@example.test",
              "institution": "own@example.test", "other": "other@example.test"}

    def __init__(self, page, live_server):
        self.page = page
        self.server = live_server

    def login(self, role: str) -> None:
        page = self.page
        page.goto("/login")
        page.get_by_label("邮箱").fill(self.EMAILS[role])
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.wait_for_load_state()
        assert "/login" not in page.url, page.content()[:2000]

    def screenshot(self, name: str, *, full_page: bool = True) -> Path:
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path


@pytest.fixture
def pages(page, live_server) -> Pages:
    return Pages(page, live_server)
