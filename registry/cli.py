"""The ``registry`` command: Flask's CLI with the registry's own commands.

``registry db upgrade`` comes from Flask-Migrate; each feature adds its
commands in ``init_app``.  The ``registry`` group itself knows every command
by name (``COMMANDS``) and imports one only when it runs, so ``registry
--help`` neither builds the application nor imports the importers, the API
or the database drivers (a test checks).  A command registered in
``init_app`` must be listed in ``COMMANDS`` too (a test checks that as well).
"""
from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING

import click
from flask.cli import FlaskGroup, ScriptInfo, with_appcontext

if TYPE_CHECKING:
    from flask import Flask

# name -> ("module:attribute", one-line help shown by ``registry --help``).
COMMANDS: dict[str, tuple[str, str]] = {
    "db": ("flask_migrate.cli:db", "Perform database migrations."),
    "openapi": ("flask_smorest.spec:openapi_cli", "OpenAPI commands (print or write the API document)."),
    "seed": ("registry.cli:seed_command", "Load reference data (idempotent) and, with --demo, the demo province."),
    "users": ("registry.cli:users_group", "Manage accounts."),
    "coverage": ("registry.coverage.cli:coverage_group", "Indicators against their targets for a date and region."),
    "report": ("registry.coverage.cli:report_command", "Write the dashboard for a date and region as one .xlsx "
               "workbook to send."),
    "import": ("importers.cli:import_command", "Import a workbook (.xlsx, .xls, .ods) or a CSV file: exit 0 "
               "applied (or clean dry run), 1 invalid rows, 2 file refused."),
    "export": ("importers.cli:export_command", "Export the registry in the import format."),
    "template": ("importers.cli:template_command", "Write an empty import workbook."),
    "backup": ("registry.database.backup:backup_command", "Write a consistent copy of the database to PATH (a new file, "
               "0600) while the registry runs."),
    "worker": ("registry.jobs:worker_command", "Run background jobs (big imports, clean-up) until stopped."),
    "imports": ("registry.imports.cli:imports_group", "Import runs and their stored uploads (imports purge)."),
    "reminders": ("registry.reminders.cli:reminders_group", "Record and send reminders that are due (reminders run)."),
    "applications": ("registry.applications.cli:applications_group", "Examination applications: list, show, export, "
                     "and take a step as a user (applications act)."),
    "restore": ("registry.database.backup:restore_command", "Restore a backup made by `registry backup` into the database "
                "of DATABASE_URL."),
}


def _load(name: str) -> click.Command:
    module, _, attribute = COMMANDS[name][0].partition(":")
    return getattr(importlib.import_module(module), attribute)


# Commands that need neither the pages nor the API: their app is built without them (``create_app(web=False)``).
DATA_COMMANDS = frozenset({"db", "seed", "users", "coverage", "report", "import", "export", "template", "backup",
                           "restore", "reminders", "applications"})


def _create_app() -> "Flask":
    from registry import create_app

    ctx = click.get_current_context(silent=True)
    command = ctx.find_root().invoked_subcommand if ctx is not None else None
    return create_app(web=command not in DATA_COMMANDS, migrations=command not in DATA_COMMANDS - {"db"})


# --- The command line's language: one per run, Chinese unless asked -------------------------------------

LANGUAGES = ("zh", "en")
_language: str | None = None  # ``registry --lang``; else REGISTRY_LANG (config IMPORT_LANGUAGE); else zh


def language() -> str:
    """The language the command line speaks: ``registry --lang``, else ``REGISTRY_LANG``, else Chinese."""
    if _language in LANGUAGES:
        return _language
    from flask import current_app, has_app_context

    configured = current_app.config.get("IMPORT_LANGUAGE") if has_app_context() else None
    return configured if configured in LANGUAGES else "zh"


def say(zh: str, en: str) -> str:
    """The message in the command line's language."""
    return en if language() == "en" else zh


def one_language(text: str) -> str:
    """A service's "中文 / English" message cut to the command line's language; other text as it is."""
    if not isinstance(text, str) or " /" not in text and "）/" not in text:
        return text
    from registry.i18n import split_bilingual

    pair = split_bilingual(text)
    return text if pair is None else pair[1] if language() == "en" else pair[0]


def echo(message: str = "", **kwargs) -> None:
    """``click.echo`` in the command line's language."""
    click.echo(one_language(message), **kwargs)


def _set_language(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    global _language
    _language = value
    return value


EXIT_DATABASE_BUSY = 3
# Commands that only read: on SQLite their transactions take no write lock (registry.database.engine).
READ_ONLY_COMMANDS = frozenset({"export", "template", "coverage", "report", "routes", "backup"})


# Whether this process runs one registry command from its own command line (``registry ...``,
# ``python -m registry ...``): set by :meth:`RegistryGroup.main`.
OWN_PROCESS = False


def leave(code: int) -> None:
    """End the command with exit status ``code``: at once when the process is the command's own.

    Tearing down an interpreter that has just imported 100,000 rows frees hundreds of
    thousands of objects one by one (0.2 to 0.5 s after the work is done, committed and
    reported).  The output is flushed, logging shut down and the database connections
    closed (SQLite's as at a normal exit: a write-ahead log left is read back by the next
    opener); then the process exits.  Elsewhere (tests, ``flask --app``) ``sys.exit``.
    """
    if not OWN_PROCESS:
        sys.exit(code)
    import logging
    import os

    database = sys.modules.get("registry.extensions")
    try:
        engine = database.db.engine if database is not None else None
        if engine is not None and engine.dialect.name != "sqlite":
            engine.dispose()  # a server sees the connection closed, not dropped
    except Exception:  # noqa: BLE001 - no app context or engine: nothing to close
        pass
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


class DatabaseBusy(click.ClickException):
    """SQLite's write lock was not had within the busy timeout: a message and exit code 3, no traceback."""

    exit_code = EXIT_DATABASE_BUSY


class RegistryGroup(FlaskGroup):
    """Flask's command group that lists and finds the registry's commands without building the app,
    marks the read-only commands and reports a busy database plainly."""

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in COMMANDS:
            return _load(name)
        return super().get_command(ctx, name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_plugin_commands()
        return sorted(set(click.Group.list_commands(self, ctx)) | set(COMMANDS))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            if name in COMMANDS:
                rows.append((name, COMMANDS[name][1]))
                continue
            command = click.Group.get_command(self, ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str()))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def main(self, args=None, *pargs, **kwargs):
        """Run the command line; ``args=None`` (the process's own arguments) marks the process as the command's.

        A command that holds much memory when it ends (``registry import``) may then leave
        through :func:`leave` without the interpreter's clean-up.  Tests call ``main`` with
        their arguments (click's ``CliRunner``) and always exit normally.
        """
        global OWN_PROCESS
        OWN_PROCESS = args is None
        return super().main(args, *pargs, **kwargs)

    def invoke(self, ctx: click.Context):
        from contextlib import nullcontext

        words = [*getattr(ctx, "_protected_args", ()), *ctx.args]  # the sub-command's name comes first
        name = words[0] if words else None
        if name in READ_ONLY_COMMANDS:
            from registry.database.engine import reading

            context = reading()
        else:
            context = nullcontext()
        try:
            with context:
                return super().invoke(ctx)
        except click.ClickException as exc:  # a service's message, said in the command line's language
            exc.message = one_language(exc.message)
            raise
        except Exception as exc:
            # Only a command that reached the database can have timed out on its lock (and
            # ``registry import --help`` must not import the database layer to find that out).
            database = sys.modules.get("registry.database.engine")
            if database is None or not database.is_lock_timeout(exc):
                raise
            timeout = ctx.ensure_object(ScriptInfo).load_app().config["SQLITE_BUSY_TIMEOUT_MS"]
            raise DatabaseBusy(say(
                f"数据库正忙：另一个写入占用数据库超过 {timeout} 毫秒（SQLITE_BUSY_TIMEOUT_MS），未写入任何数据，请稍后重试",
                f"the database is busy: another writer held it longer than {timeout} ms "
                f"(SQLITE_BUSY_TIMEOUT_MS); nothing was written, try again")) from None


@click.group(cls=RegistryGroup, create_app=_create_app, add_default_commands=True)
@click.option("--lang", type=click.Choice(LANGUAGES), default=None, expose_value=False, is_eager=True,
              callback=_set_language, help="Language of the messages (default: REGISTRY_LANG, else zh).")
def main() -> None:
    """计量标准注册管理系统 — Metrology standards registry."""


def init_app(app: "Flask") -> None:
    """Add the registry's commands to ``app.cli`` (``flask --app wsgi ...`` and the test runner use it)."""
    for name in COMMANDS:
        if name not in ("db", "openapi"):  # Flask-Migrate and flask-smorest add their own
            app.cli.add_command(_load(name), name)


# What ``registry seed`` counts (registry.seed.reference and .demo), in each language.
SEED_LABELS = {
    "regions": ("地区", "regions"), "region_adjacency": ("相邻地区", "region adjacencies"),
    "disciplines": ("专业", "disciplines"), "catalog_lines": ("目录条目", "catalog lines"),
    "indicators": ("指标", "indicators"), "plans": ("规划", "plans"), "targets": ("目标", "targets"),
    "institutions": ("机构", "institutions"), "regulations": ("规程规范", "regulations"),
    "standards": ("计量标准", "standards"), "catalog_links": ("目录关联", "catalog links"), "persons": ("人员", "persons"),
}


def _counts(counts: dict[str, int], sign: str = "") -> str:
    return say("，", ", ").join(f"{say(*SEED_LABELS.get(key, (key, key)))} {sign}{n}" for key, n in counts.items())


@click.command("seed")
@click.option("--demo", is_flag=True, help="Also load the demo province when the registry is empty.")
@with_appcontext
def seed_command(demo: bool) -> None:
    """Load reference data (idempotent) and, with --demo, the demo province."""
    import sqlalchemy as sa
    from flask import current_app

    from registry.extensions import db
    from registry.institutions.models import Institution
    from registry.seed.demo import create_demo_accounts, load_demo_data
    from registry.seed.reference import load_reference_data

    try:
        added = load_reference_data(plan_start=current_app.config["PLAN_START_DATE"])
        echo(say("参考数据：", "reference data: ") + _counts(added, "+"))
        if demo:
            if db.session.scalar(sa.select(sa.func.count()).select_from(Institution)):
                echo(say("演示数据：已跳过（登记簿中已有机构）", "demo data: skipped (the registry already holds institutions)"))
            else:
                counts = load_demo_data(validity_years=current_app.config["CERTIFICATE_VALIDITY_YEARS"])
                echo(say("演示数据：", "demo data: ") + _counts(counts))
            accounts = create_demo_accounts()
        db.session.commit()
        from registry.coverage import cache

        cache.clear()  # seeding writes no audit rows: reports cached before it would outlive it
        if demo:
            _write_demo_accounts(accounts)
    except Exception:
        db.session.rollback()
        raise


def demo_accounts_path(app: "Flask | None" = None) -> "Path":
    """Where the demo accounts of this database are kept: ``instance/demo-accounts-<database>.txt``.

    One file per database (named after it: ``registry`` for ``instance/registry.db``, the
    database's name on PostgreSQL), so seeding a second database never overwrites the first's.
    """
    import re
    from pathlib import Path

    import sqlalchemy as sa
    from flask import current_app

    config = (app or current_app).config
    url = sa.engine.make_url(config["SQLALCHEMY_DATABASE_URI"])
    name = Path(url.database or "").stem if url.get_backend_name() == "sqlite" else (url.database or "")
    if url.get_backend_name() == "sqlite" and (not url.database or url.database == ":memory:"):
        name = "memory"
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or url.get_backend_name()
    return Path(config["REGISTRY_INSTANCE_DIR"]) / f"demo-accounts-{name}.txt"


def _write_demo_accounts(accounts: dict[str, str]) -> None:
    """Keep new demo accounts in this database's accounts file (owner-readable only) and print them all.

    The accounts made by an earlier seed of the same database are printed again from the file
    (their passwords are not stored anywhere else), so set-up always ends with them.
    """
    import os

    path = demo_accounts_path()
    if accounts:
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = [f"{email}\t{password}" for email, password in accounts.items()]
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.fchmod(fd, 0o600)  # also when the file was there before, with a looser mode
        with os.fdopen(fd, "a", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")
    if not path.is_file():
        return
    kept = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    echo(say(f"演示账号（也保存在 {path}）：", f"demo accounts (also in {path}):"))
    for line in kept:
        echo("  " + line)


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
    from registry.errors import DomainError
    from registry.extensions import db

    if password is None:
        if sys.stdin.isatty():
            password = click.prompt(say("密码", "Password"), hide_input=True,
                                    confirmation_prompt=say("再次输入密码", "Repeat for confirmation"))
        else:
            password = sys.stdin.readline().rstrip("\n")
    try:
        user = create_user(email=email, password=password, role=role, credit_code=credit_code, actor=None)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(one_language(exc.message)) from None
    echo(say(f"已创建 {user.email}（{ROLE_NAMES[user.role][0]}）", f"created {user.email} ({user.role})"))


# The roles of ``users create --role``, as the account pages name them (registry.auth.forms.ROLE_LABELS).
ROLE_NAMES = {"admin": ("管理员", "admin"), "regulator": ("监管人员", "regulator"), "institution": ("机构用户", "institution")}
