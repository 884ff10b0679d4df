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
    from registry.cli import echo, say
    from registry.imports.services import purge_uploads

    days = days or current_app.config["IMPORT_RETENTION_DAYS"]
    if days <= 0:
        echo(say("IMPORT_RETENTION_DAYS 为 0：上传文件永久保留（用 --days 删除旧文件）",
                 "IMPORT_RETENTION_DAYS is 0: uploads are kept for ever (give --days to delete old ones)"))
        return
    removed = purge_uploads(days=days)
    folder = current_app.config["IMPORT_STORAGE_DIR"]
    echo(say(f"已从 {folder} 删除 {len(removed)} 个超过 {days} 天的上传文件",
             f"deleted {len(removed)} upload(s) older than {days} days from {folder}"))
