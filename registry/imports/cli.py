"""``registry imports``: the stored uploads of import runs."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext


@click.group("imports")
def imports_group() -> None:
    """Import runs and their stored uploads."""


@imports_group.command("purge")
@click.option("--days", type=click.IntRange(min=1), default=None,
              help="Delete uploads older than this many days (default IMPORT_RETENTION_DAYS).")
@with_appcontext
def purge_command(days: int | None) -> None:
    """Delete old uploads now (the worker does it every hour); runs keep their reports."""
    from registry.imports.services import purge_uploads

    days = days or current_app.config["IMPORT_RETENTION_DAYS"]
    if days <= 0:
        click.echo("IMPORT_RETENTION_DAYS is 0: uploads are kept for ever (give --days to delete old ones)")
        return
    removed = purge_uploads(days=days)
    click.echo(f"deleted {len(removed)} upload(s) older than {days} days from {current_app.config['IMPORT_STORAGE_DIR']}")
