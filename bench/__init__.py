"""Benchmarks (``python -m bench.<name>``); what several of them share lives here, not in a module of its
own, since ``make bench-smoke`` runs every ``bench/*.py`` but this one."""
from __future__ import annotations

import argparse


def refuse_unless_bench(parser: argparse.ArgumentParser, database_url: str | None, force: bool) -> None:
    """Stop unless a PostgreSQL database is named for benchmarks: they drop and recreate its public schema."""
    if not database_url or force:
        return
    import sqlalchemy as sa

    name = sa.engine.make_url(database_url).database or ""
    if "bench" not in name:
        parser.error(f"refusing to drop the public schema of {name!r}: its name lacks 'bench' (use --force)")


def reset_database(app) -> None:
    """Empty the app's database (PostgreSQL: the public schema; SQLite: every table) and migrate it afresh."""
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from registry.extensions import db

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
                conn.exec_driver_sql("CREATE SCHEMA public")
        else:
            db.metadata.drop_all(db.engine)
            with db.engine.begin() as conn:
                conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()
