"""``registry import``, ``registry export`` and ``registry template``."""
from __future__ import annotations

import json
import sys
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

# The database, the importers and their parsers are imported when a command runs, not when
# ``registry --help`` lists it.

EXIT_OK, EXIT_INVALID, EXIT_REJECTED = 0, 1, 2


def init_app(app: Flask) -> None:
    app.cli.add_command(import_command)
    app.cli.add_command(export_command)
    app.cli.add_command(template_command)


class _Progress:
    """A progress bar on stderr, only when stderr is a terminal."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.bar = None
        self.shown = 0

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        if self.bar is None:
            from importers.messages import msg

            self.bar = click.progressbar(length=total, label=msg("导入", "importing"), file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(done - self.shown)
        self.shown = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


def _actor(email: str | None) -> Any:
    import sqlalchemy as sa

    from registry.auth.models import User
    from registry.extensions import db

    if not email:
        return None
    user = db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    if user is None or not user.active:
        from importers.messages import msg

        raise click.UsageError(msg(f"没有这个用户：{email}", f"no active user {email}"))
    return user


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--sheet", metavar="NAME", help="CSV only: the sheet the file is (机构, 计量标准 … or institutions, "
                                              "standards …; default: told by its header).")
@click.option("--lang", type=click.Choice(["zh", "en"]), default=None,
              help="Language of the messages (default: REGISTRY_LANG, else zh).")
@click.option("--dry-run", is_flag=True, help="Validate and show what would change; write nothing.")
@click.option("--as", "as_email", metavar="EMAIL", help="Import as this user (default: the system).")
@click.option("--errors", "errors_out", type=click.Path(dir_okay=False), metavar="OUT.xlsx",
              help="When rows are invalid, write the upload with the bad cells marked here.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@click.option("--catalog-version", metavar="NAME", help="Catalog version for 强检目录 rows (default: in force).")
@click.pass_context
def import_command(ctx: click.Context, file: str, sheet: str | None, lang: str | None, dry_run: bool,
                   as_email: str | None, errors_out: str | None, as_json: bool, catalog_version: str | None) -> None:
    """Import a workbook (.xlsx, .xls, .ods) or a CSV file (UTF-8 or GB18030, one sheet).

    Exit 0 applied (or a clean dry run), 1 invalid rows (nothing written), 2 file refused.
    """
    from contextlib import nullcontext

    from flask import has_app_context
    from flask.cli import ScriptInfo

    from importers.early import start_reading
    from importers.messages import speaking

    # The file is checked before the app is built, and calamine parses it while the app is built
    # (importers.early); run_import uses that only when the app's limits and language are the same.
    # The app's context as ``with_appcontext`` gives it: the one already pushed (tests), else a new one.
    info = ctx.ensure_object(ScriptInfo)
    early = start_reading(file, _configuration(info), lang)
    try:
        with nullcontext() if has_app_context() else info.load_app().app_context(), speaking(lang):
            _import(early, file, sheet, dry_run, as_email, errors_out, as_json, catalog_version)
    finally:
        early.close()


def _configuration(info: Any) -> Any:
    """The configuration the app is built with: the environment's (``config``) when ``registry`` builds it
    (without building it yet), else the given app's (tests, an embedding ``FlaskGroup``)."""
    from registry.cli import _create_app

    if info.create_app is not _create_app:
        return info.load_app().config
    from flask import Config

    from config import get_config

    config = Config(".")
    config.from_object(get_config(None))  # as create_app takes it
    return config


def _import(source: Any, file: str, sheet: str | None, dry_run: bool, as_email: str | None,
            errors_out: str | None, as_json: bool, catalog_version: str | None) -> None:
    from importers.messages import language
    from importers.run import run_import
    from registry.extensions import db

    actor = _actor(as_email)
    progress = _Progress(sys.stderr.isatty() and not as_json)
    try:
        report = run_import(source, actor=actor, dry_run=dry_run, catalog_version=catalog_version,
                            progress=progress, sheet=sheet, lang=language())
        if report.applied:
            db.session.commit()
        else:
            db.session.rollback()
    except BaseException:
        db.session.rollback()
        raise
    finally:
        progress.close()
    if errors_out and report.errors and report.rejected is None:
        from importers.error_workbook import write_error_workbook  # openpyxl: only when there is one to write

        write_error_workbook(file, report.errors, errors_out, sheet=sheet, filename=file, lang=language())
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        _print(report, errors_out)
    from registry.cli import leave

    leave(report.exit_code)  # without the interpreter's clean-up when run as `registry import`


def _print(report: Any, errors_out: str | None) -> None:
    from importers.messages import msg

    if report.rejected is not None:
        click.echo(msg(f"文件被拒绝：{report.rejected}", f"file refused: {report.rejected}"), err=True)
        return
    for sheet, counts in report.sheets.items():
        click.echo(msg(f"{sheet}：新增 {counts['created']} · 更新 {counts['updated']} · 未变 {counts['unchanged']}",
                       f"{sheet}: created {counts['created']} · updated {counts['updated']} · "
                       f"unchanged {counts['unchanged']}"))
    for ignored in report.ignored_columns:
        click.echo(msg(f"忽略的列：{ignored['sheet']} · {ignored['column']}",
                       f"ignored column: {ignored['sheet']} · {ignored['column']}"))
    for change in report.changes:
        fields = "; ".join(f"{name}: {old!r} → {new!r}" for name, (old, new) in change["changes"].items())
        click.echo(msg(f"将更新 {change['sheet']} 第{change['row']}行 {change['key']}：{fields}",
                       f"would update {change['sheet']} row {change['row']} {change['key']}: {fields}"))
    if report.warnings and not report.errors:
        click.echo(msg(f"提示 {len(report.warnings)} 处（不影响导入）：",
                       f"{len(report.warnings)} warnings (imported as given):"))
        for warning in report.warnings:
            click.echo(f"  {_where(warning)}: {warning.message}")
    if report.errors:
        click.echo(msg(f"错误 {len(report.errors)} 处，未写入任何数据：", f"{len(report.errors)} errors, nothing written:"),
                   err=True)
        for error in report.errors:
            click.echo(f"  {_where(error)}: {error.message}", err=True)
        if errors_out:
            click.echo(msg(f"已标出错误的工作簿：{errors_out}", f"marked workbook: {errors_out}"), err=True)
    elif report.dry_run:
        click.echo(msg("预览：未写入任何数据", "dry run: nothing written"))
    else:
        click.echo(msg(f"已导入（导入记录 {report.run_id}）", f"applied (import run {report.run_id})"))


def _where(problem: Any) -> str:
    from importers.messages import msg

    row = msg(f"第{problem.row}行", f"row {problem.row}") if problem.row else None
    return " ".join(part for part in (problem.sheet, row, f"[{problem.column}]" if problem.column else None) if part)


@click.command("export")
@click.argument("out", type=click.Path(dir_okay=False))
@click.option("--kind", "kinds", multiple=True, metavar="K",
              help="institutions, standards, regulations, personnel or catalog (repeatable; default all).")
@click.option("--region", metavar="CODE", help="Only institutions of this GB/T 2260 region, with their records.")
@click.option("--catalog-version", metavar="NAME", help="Catalog version to export (default: in force).")
@click.option("--as", "as_email", metavar="EMAIL", help="Export what this user may read (default: everything).")
@with_appcontext
def export_command(out: str, kinds: tuple[str, ...], region: str | None, catalog_version: str | None,
                   as_email: str | None) -> None:
    """Export the registry in the import format (export → import reports everything unchanged)."""
    from importers.export import export_workbook
    from registry.extensions import db

    try:
        counts = export_workbook(out, actor=_actor(as_email), kinds=kinds or None, region=region,
                                 catalog_version=catalog_version)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    finally:
        db.session.rollback()
    click.echo(", ".join(f"{sheet} {n}" for sheet, n in counts.items()) + f" → {out}")


@click.command("template")
@click.argument("out", type=click.Path(dir_okay=False))
@with_appcontext
def template_command(out: str) -> None:
    """Write an empty import workbook: instructions, headers, an example row, dropdowns."""
    from importers.export import write_template
    from registry.extensions import db

    write_template(out, max_rows=current_app.config["IMPORT_MAX_ROWS"])
    db.session.rollback()
    from registry.cli import say

    click.echo(say("模板", "template") + f" → {out}")
