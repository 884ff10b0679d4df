"""The ``registry`` command: Flask's CLI with the registry's own commands.

``registry db upgrade`` comes from Flask-Migrate; each feature adds its
commands in ``init_app`` so this module stays a list.
"""
from __future__ import annotations

import sys

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import FlaskGroup, ScriptInfo, with_appcontext

from registry.coverage import cli as coverage_cli
from registry.errors import DomainError
from registry.extensions import db


def _create_app() -> Flask:
    from registry import create_app

    return create_app()


EXIT_DATABASE_BUSY = 3
# Commands that only read: on SQLite their transactions take no write lock (registry.database).
READ_ONLY_COMMANDS = frozenset({"export", "template", "coverage", "routes", "backup"})


class DatabaseBusy(click.ClickException):
    """SQLite's write lock was not had within the busy timeout: a message and exit code 3, no traceback."""

    exit_code = EXIT_DATABASE_BUSY


class RegistryGroup(FlaskGroup):
    """Flask's command group, with read-only commands marked and a busy database reported plainly."""

    def invoke(self, ctx: click.Context):
        from contextlib import nullcontext

        from registry.database import is_lock_timeout, reading

        words = [*getattr(ctx, "_protected_args", ()), *ctx.args]  # the sub-command's name comes first
        name = words[0] if words else None
        try:
            with reading() if name in READ_ONLY_COMMANDS else nullcontext():
                return super().invoke(ctx)
        except Exception as exc:
            if not is_lock_timeout(exc):
                raise
            timeout = ctx.ensure_object(ScriptInfo).load_app().config["SQLITE_BUSY_TIMEOUT_MS"]
            raise DatabaseBusy(
                f"数据库正忙：另一个写入占用数据库超过 {timeout} 毫秒，未写入任何数据，请稍后重试 / "
                f"the database is busy: another writer held it longer than {timeout} ms "
                f"(SQLITE_BUSY_TIMEOUT_MS); nothing was written, try again") from None


@click.group(cls=RegistryGroup, create_app=_create_app, add_default_commands=True)
def main() -> None:
    """计量标准注册管理系统 — Metrology standards registry."""


def init_app(app: Flask) -> None:
    from importers.cli import init_app as init_importers
    from registry.backup import init_app as init_backup
    from registry.imports.cli import imports_group

    app.cli.add_command(seed_command)
    app.cli.add_command(users_group)
    app.cli.add_command(coverage_cli.coverage_group)
    init_importers(app)  # import, export, template
    init_backup(app)  # backup, restore
    app.cli.add_command(imports_group)  # imports purge


@click.command("seed")
@click.option("--demo", is_flag=True, help="Also load the demo province when the registry is empty.")
@with_appcontext
def seed_command(demo: bool) -> None:
    """Load reference data (idempotent) and, with --demo, the demo province."""
    from registry.institutions.models import Institution
    from registry.seed.demo import create_demo_accounts, load_demo_data
    from registry.seed.reference import load_reference_data

    try:
        added = load_reference_data(plan_start=current_app.config["PLAN_START_DATE"])
        click.echo("reference data: " + ", ".join(f"{k} +{v}" for k, v in added.items()))
        if demo:
            if db.session.scalar(sa.select(sa.func.count()).select_from(Institution)):
                click.echo("demo data: skipped (the registry already holds institutions)")
            else:
                counts = load_demo_data(validity_years=current_app.config["CERTIFICATE_VALIDITY_YEARS"])
                click.echo("demo data (演示): " + ", ".join(f"{k} {v}" for k, v in counts.items()))
            accounts = create_demo_accounts()
        db.session.commit()
        if demo and accounts:
            _write_demo_accounts(accounts)
    except Exception:
        db.session.rollback()
        raise


def _write_demo_accounts(accounts: dict[str, str]) -> None:
    """Print the demo accounts and keep them in ``instance/demo-accounts.txt`` (owner-readable only)."""
    import os
    from pathlib import Path

    path = Path(current_app.config["REGISTRY_INSTANCE_DIR"]) / "demo-accounts.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{email}\t{password}" for email, password in accounts.items()]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.fchmod(fd, 0o600)  # also when the file was there before, with a looser mode
    with os.fdopen(fd, "a", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    click.echo(f"demo accounts (演示账号), also in {path}:")
    for line in lines:
        click.echo("  " + line)


@click.group("users")
def users_group() -> None:
    """Manage accounts."""


@users_group.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(["admin", "regulator", "institution"]), required=True)
@click.option("--institution", "credit_code", help="Credit code of the user's institution (role institution).")
@click.option("--password", envvar="REGISTRY_PASSWORD", help="Read from stdin or a prompt when not given.")
@with_appcontext
def users_create(email: str, role: str, credit_code: str | None, password: str | None) -> None:
    """Create an account; the password comes from stdin or a prompt."""
    from registry.auth.services import create_user

    if password is None:
        if sys.stdin.isatty():
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        else:
            password = sys.stdin.readline().rstrip("\n")
    try:
        user = create_user(email=email, password=password, role=role, credit_code=credit_code, actor=None)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    click.echo(f"created {user.email} ({user.role})")
