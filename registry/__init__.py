"""The metrology standards registry (计量标准注册管理系统)."""
from __future__ import annotations

import logging

from flask import Flask


def create_app(config: object | str | None = None, *, web: bool = True, migrations: bool = True) -> Flask:
    """Build the application: configuration, extensions, features, commands.

    ``web=False`` leaves out the pages and the API (their blueprints, schemas and
    flask-smorest): what the data commands (``registry import``, ``coverage``,
    ``seed`` ...) run in, so they start sooner.  Everything they call (services,
    models, translations, the database set-up) is the same.  ``migrations=False``
    leaves out Flask-Migrate (Alembic) too, for commands other than ``db``.
    """
    from config import get_config

    app = Flask(__name__, instance_relative_config=False)
    app.config.from_object(config if config is not None and not isinstance(config, str) else get_config(config))
    logging.basicConfig(level=app.config["LOG_LEVEL"])

    _init_extensions(app, migrations=migrations, web=web)
    if web:
        _register_features(app)
    else:
        from registry import i18n

        i18n.init_app(app)
    _register_commands(app)
    return app


def _init_extensions(app: Flask, *, migrations: bool = True, web: bool = True) -> None:
    from registry import jobs
    from registry.database import engine
    from registry.extensions import cache, db, login_manager

    db.init_app(app)
    cache.init_app(app)
    from registry.coverage import version as coverage_version  # not the reports: imported where they are used

    coverage_version.init_app(app)
    engine.init_app(app)
    from registry.applications import workdays

    workdays.init_app(app)  # the deadlines' calendar: a wrong setting or file stops the start
    jobs.init_app(app)  # the background job queue (`registry worker`)
    if migrations:
        from registry.extensions import migrate

        migrate.init_app(app, db, directory=str(_migrations_dir()))
    login_manager.init_app(app)
    from registry import security

    security.init_app(app, limits=web)  # the rate limiter only where pages and the API are served

    import registry.database.models  # noqa: F401  (every model on the metadata)
    from registry.auth import loader  # noqa: F401  (flask-login user loader)


# Feature packages with pages (``<feature>/views.py`` defining ``bp``), in menu order.  A page
# blueprint whose feature also has an API blueprint is named ``<feature>_pages`` (names are unique).
PAGE_FEATURES = ("main", "auth", "dashboard", "standards", "applications", "institutions", "personnel", "catalog",
                 "regulations", "indicators", "imports", "reminders", "public")


def _register_features(app: Flask) -> None:
    import importlib.util

    from registry import api, errors, i18n
    from registry.web import core as web

    i18n.init_app(app)
    web.init_app(app)
    for feature in PAGE_FEATURES:
        if importlib.util.find_spec(f"registry.{feature}") and importlib.util.find_spec(f"registry.{feature}.views"):
            app.register_blueprint(importlib.import_module(f"registry.{feature}.views").bp)
    api.init_app(app)
    errors.init_app(app)  # after the API: problem+json replaces flask-smorest's error body


def _register_commands(app: Flask) -> None:
    from registry import cli

    cli.init_app(app)


def _migrations_dir():
    from pathlib import Path

    return Path(__file__).resolve().parent.parent / "migrations"
