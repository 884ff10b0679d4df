"""``registry backup PATH`` and ``registry restore PATH``: the whole registry in one file, and back.

- SQLite: SQLite's online backup API copies the live database page by page
  into a new single file (no ``-wal`` beside it) while the registry keeps
  serving; restoring copies it back the same way.
- PostgreSQL: ``pg_dump --format=custom`` of ``DATABASE_URL`` (only the
  registry's schema when the URL sets a ``search_path``), restored with
  ``pg_restore``; both need PostgreSQL's client tools on the ``PATH``.

Backups are created readable by their owner only (0600) and never overwrite
a file.  A restore goes into an empty database unless ``--replace`` is given.
"""
from __future__ import annotations

import os
from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext

from registry.cli import echo, say


def init_app(app: Flask) -> None:
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(path: Path) -> None:
    """Write a consistent copy of the database to PATH (a new file, 0600) while the registry runs."""
    from registry.extensions import db

    url = db.engine.url
    if path.exists():
        raise click.ClickException(say(f"文件 {path} 已存在，未覆盖；请换一个文件名", f"{path} exists; choose a new file name"))
    if url.get_backend_name() == "sqlite":
        _backup_sqlite(_sqlite_path(url), path)
    elif url.get_backend_name() == "postgresql":
        _run_pg_tool("pg_dump", url, ["--format=custom", "--no-owner", f"--file={path}"], creates=path)
    else:
        raise click.ClickException(say(f"不支持备份 {url.get_backend_name()} 数据库",
                                     f"cannot back up a {url.get_backend_name()} database"))
    echo(say(f"已备份 → {path}（{path.stat().st_size} 字节）", f"backup → {path} ({path.stat().st_size} bytes)"))


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Replace what the database holds (default: only into an empty one).")
@with_appcontext
def restore_command(path: Path, replace: bool) -> None:
    """Restore a backup made by ``registry backup`` into the database of DATABASE_URL."""
    from registry.extensions import db

    url = db.engine.url
    if not replace and _holds_registry(db.engine):
        raise click.ClickException(say("数据库不是空的，未恢复；确要覆盖请加 --replace",
                                     "the database is not empty; nothing restored (add --replace to overwrite it)"))
    db.engine.dispose()
    if url.get_backend_name() == "sqlite":
        _restore_sqlite(path, _sqlite_path(url))
    elif url.get_backend_name() == "postgresql":
        options = ["--no-owner", "--exit-on-error", "--single-transaction"]
        if replace:
            options += ["--clean", "--if-exists"]
        _run_pg_tool("pg_restore", url, [*options, str(path)])
    else:
        raise click.ClickException(say(f"不支持恢复到 {url.get_backend_name()} 数据库",
                                     f"cannot restore into a {url.get_backend_name()} database"))
    echo(say(f"已恢复 {path}", f"restored {path}"))


# --- SQLite -----------------------------------------------------------------------


def _sqlite_path(url) -> str:
    if url.database in (None, "", ":memory:"):
        raise click.ClickException(say("内存数据库无法备份或恢复",
                                     "an in-memory database has no file to back up or restore"))
    return url.database


def _connect(path: str | Path):
    import sqlite3

    from flask import current_app

    return sqlite3.connect(str(path), timeout=current_app.config["SQLITE_BUSY_TIMEOUT_MS"] / 1000,
                           isolation_level=None)


def _backup_sqlite(source: str, target: Path) -> None:
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # owner-only before any byte is in it
    os.close(fd)
    try:
        with _closing(_connect(source)) as src, _closing(_connect(target)) as dst:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it
            _check_sqlite(dst, target)
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def _restore_sqlite(backup: Path, target: str) -> None:
    with _closing(_connect(backup)) as src:
        _check_sqlite(src, backup)
        created = not Path(target).exists()
        if created:
            os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        with _closing(_connect(target)) as dst:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode = WAL")


def _check_sqlite(connection, path: Path) -> None:
    import sqlite3

    try:
        ok = connection.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        has_version = connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'").fetchone() is not None
    except sqlite3.DatabaseError as exc:
        raise click.ClickException(say(f"{path} 不是登记簿的备份：{exc}",
                                     f"{path} is not a registry backup: {exc}")) from None
    if not (ok and has_version):
        raise click.ClickException(say(f"{path} 不是完整的登记簿备份", f"{path} is not a whole registry backup"))


class _closing:
    """``with`` for sqlite3 connections (whose own ``with`` commits but does not close)."""

    def __init__(self, connection):
        self.connection = connection

    def __enter__(self):
        return self.connection

    def __exit__(self, *exc):
        self.connection.close()


# --- PostgreSQL -------------------------------------------------------------------


def _run_pg_tool(tool: str, url, arguments: list[str], *, creates: Path | None = None) -> None:
    """Run pg_dump or pg_restore against ``url``; its errors become one clear message."""
    import shutil
    import subprocess

    executable = shutil.which(tool)
    if executable is None:
        raise click.ClickException(
            say(f"找不到 {tool}：请安装与服务器版本一致的 PostgreSQL 客户端（Debian：postgresql-client）",
                f"{tool} not found: install PostgreSQL's client tools matching the server (Debian: postgresql-client)"))
    command = [executable, *_pg_connection_arguments(url, schema=tool == "pg_dump"), *arguments]
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)  # not on the command line, where ps would show it
    result = subprocess.run(command, env=env, capture_output=True, text=True, umask=0o077)
    if result.returncode != 0:
        if creates is not None:
            creates.unlink(missing_ok=True)
        raise click.ClickException(say(f"{tool} 失败（退出码 {result.returncode}）：",
                                     f"{tool} failed (exit {result.returncode}): ") + result.stderr.strip())


def _pg_connection_arguments(url, *, schema: bool) -> list[str]:
    arguments = [f"--dbname={url.database}"]
    if url.host:
        arguments.append(f"--host={url.host}")
    if url.port:
        arguments.append(f"--port={url.port}")
    if url.username:
        arguments.append(f"--username={url.username}")
    name = _search_path_schema(url) if schema else None
    if name:  # the dump holds only the registry's schema (and creates it on restore)
        arguments.append(f"--schema={name}")
    return arguments


def _search_path_schema(url) -> str | None:
    """The schema a URL's ``options=-csearch_path=NAME`` puts the registry in, if any."""
    options = url.query.get("options") or ""
    if isinstance(options, tuple):
        options = " ".join(options)
    for part in options.split():
        if part.startswith("-csearch_path="):
            return part.split("=", 1)[1].split(",")[0].strip() or None
    return None


def _holds_registry(engine) -> bool:
    import sqlalchemy as sa

    try:
        return sa.inspect(engine).has_table("alembic_version")
    except sa.exc.OperationalError:
        return False
