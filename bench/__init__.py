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
    """Empty the app's database and migrate it afresh: PostgreSQL's public schema is dropped; a SQLite file is
    removed (with its write-ahead log), as a new registry's database starts.

    Dropping SQLite's tables instead would leave their pages on the file's free list, and the next load would
    write into those scattered pages: 0.45 s slower on a 100,000-row import than into a new file, a state
    no user's database is in.
    """
    import os

    import sqlalchemy as sa
    from flask_migrate import upgrade

    from registry.extensions import db

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
                conn.exec_driver_sql("CREATE SCHEMA public")
        else:
            path = db.engine.url.database
            if path and path != ":memory:":
                db.engine.dispose()
                for name in (path, f"{path}-wal", f"{path}-shm"):
                    if os.path.exists(name):
                        os.remove(name)
            else:
                db.metadata.drop_all(db.engine)
                with db.engine.begin() as conn:
                    conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()
