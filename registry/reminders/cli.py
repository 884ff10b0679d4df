"""``registry reminders run``: record and send what is due (cron, every few minutes, any number of machines)."""
from __future__ import annotations

from datetime import date

import click
from flask.cli import with_appcontext


@click.group("reminders")
def reminders_group() -> None:
    """Reminders to institutions: certificates to re-examine, registrations lapsing."""


@reminders_group.command("run")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Run as on this day (YYYY-MM-DD): for tests and catching up.  Default: today.")
@with_appcontext
def run_command(today) -> None:
    """Record the reminders due today and send the e-mails waiting.  Safe to repeat: nothing goes twice."""
    from registry.cli import echo, say
    from registry.records.dates import within_range
    from registry.reminders.services import run

    day = today.date() if today is not None else date.today()
    if not within_range(day):
        raise click.BadParameter(say(f"{day.isoformat()} 不在 1900-01-01 至 2999-12-31 之间",
                                     f"{day.isoformat()} is outside 1900-01-01..2999-12-31"), param_hint="--today")
    result = run(day)
    echo(say(f"{day.isoformat()}：记录站内提醒 {result.recorded_inbox} 条、电子邮件 {result.recorded_email} 封；"
             f"已发送 {result.sent}，待重试 {result.retrying}，失败 {result.failed}",
             f"{day.isoformat()}: recorded {result.recorded_inbox} inbox message(s) and "
             f"{result.recorded_email} e-mail(s); sent {result.sent}, to retry {result.retrying}, "
             f"failed {result.failed}"))
