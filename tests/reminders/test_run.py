"""Recording and sending: once per item and threshold, retried with backoff, over a real SMTP server."""
from __future__ import annotations

import socket
import time
from datetime import date, datetime, timedelta, timezone
from email import message_from_bytes
from email.header import decode_header, make_header
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from registry.extensions import db
from registry.reminders import services
from registry.reminders.models import Reminder
from tests import factories

EXPIRY = date(2028, 6, 30)          # apply by 2027-12-30
TWELVE = date(2026, 12, 30)         # 12 months before the apply-by date
NOW = datetime(2026, 12, 30, 1, 0, tzinfo=timezone.utc)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Sink:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


class Refusing:
    async def handle_DATA(self, server, session, envelope):
        return "554 5.7.1 refused by policy"


class Dropping:
    """Hangs up in the middle of the transaction."""

    async def handle_MAIL(self, server, session, envelope, address, options):
        server.transport.close()
        return "250 OK"


@pytest.fixture
def smtp(app, monkeypatch):
    """Start an SMTP server on loopback with a handler; point the registry at it."""
    controllers = []

    def start(handler):
        port = _free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        controller.start()
        controllers.append(controller)
        monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
        monkeypatch.setitem(app.config, "SMTP_PORT", port)
        monkeypatch.setitem(app.config, "SMTP_TIMEOUT", 5)
        return handler

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def province(users):
    standard = factories.standard(users.own, issued_on=date(2024, 7, 1), valid_until=EXPIRY,
                                  certificate_no="[2024]赣量标测证字第00077号")
    db.session.commit()
    return standard


def _rows(channel=None):
    stmt = sa.select(Reminder).order_by(Reminder.id)
    if channel:
        stmt = stmt.where(Reminder.channel == channel)
    return list(db.session.scalars(stmt))


def _subject(envelope) -> str:
    return str(make_header(decode_header(message_from_bytes(envelope.content)["Subject"])))


def test_due_reminders_go_to_the_holders_users_once(app, users, province, smtp):
    sink = smtp(Sink())
    result = services.run(TWELVE, now=NOW)
    assert (result.recorded_inbox, result.recorded_email, result.sent, result.failed) == (1, 1, 1, 0)
    inbox, email = _rows("inbox"), _rows("email")
    assert [(r.user_id, r.threshold, r.status) for r in inbox] == [(users.institution.id, "12m", "sent")]
    assert [(r.recipient, r.status, r.attempts) for r in email] == [(users.institution.email, "sent", 1)]
    assert [e.rcpt_tos for e in sink.messages] == [[users.institution.email]]
    assert "[2024]赣量标测证字第00077号" in _subject(sink.messages[0])
    assert "2027" in _subject(sink.messages[0])

    again = services.run(TWELVE, now=NOW + timedelta(minutes=5))
    assert (again.recorded_inbox, again.recorded_email, again.sent) == (0, 0, 0)
    assert len(sink.messages) == 1
    # Catching up months later sends only the nearest threshold, once.
    later = services.run(date(2027, 10, 1), now=NOW + timedelta(days=275))
    assert (later.recorded_inbox, later.recorded_email, later.sent) == (1, 1, 1)
    assert [r.threshold for r in _rows("inbox")] == ["12m", "3m"]


def test_without_smtp_host_the_mail_is_written_to_the_outbox(app, users, province, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "SMTP_HOST", None)
    monkeypatch.setitem(app.config, "MAIL_OUTBOX_DIR", str(tmp_path / "outbox"))
    assert services.run(TWELVE, now=NOW).sent == 1
    (written,) = Path(tmp_path / "outbox").glob("*.eml")
    assert written.stat().st_mode & 0o777 == 0o600
    assert users.institution.email in written.read_text(encoding="utf-8")


def test_the_recipients_choices_are_kept(app, users, province, smtp):
    sink = smtp(Sink())
    services.save_settings(users.institution, kinds=["certificate_apply_by"], email=True, language="en")
    second = factories.user("institution", users.own)
    services.save_settings(second, kinds=["certificate_apply_by"], email=False, language="zh")
    third = factories.user("institution", users.own)
    services.save_settings(third, kinds=[], email=True, language="zh")
    factories.user("institution", users.own, active=False)
    db.session.commit()
    result = services.run(TWELVE, now=NOW)
    assert (result.recorded_inbox, result.recorded_email, result.sent) == (2, 1, 1)
    assert sorted(r.user_id for r in _rows("inbox")) == sorted([users.institution.id, second.id])
    assert _subject(sink.messages[0]).startswith("Apply for re-examination by")


def test_other_institutions_users_get_nothing(app, users, province, smtp):
    smtp(Sink())
    services.run(TWELVE, now=NOW)
    assert {r.user_id for r in _rows()} == {users.institution.id}


def test_a_refused_mail_is_retried_with_backoff_then_failed(app, users, province, smtp):
    smtp(Refusing())
    first = services.run(TWELVE, now=NOW)
    assert (first.sent, first.retrying, first.failed) == (0, 1, 0)
    (mail,) = _rows("email")
    assert (mail.status, mail.attempts) == ("pending", 1)
    assert mail.last_error.startswith("554")
    retry = app.config["REMINDER_RETRY_SECONDS"]
    assert mail.next_attempt_at == NOW + timedelta(seconds=retry)

    assert services.send_pending(now=NOW + timedelta(seconds=retry - 1)).retrying == 0  # not yet
    when = NOW
    for attempt in range(2, app.config["REMINDER_MAX_ATTEMPTS"] + 1):
        when = when + timedelta(seconds=retry * 2 ** (attempt - 2))
        outcome = services.send_pending(now=when)
        db.session.refresh(mail)
        assert mail.attempts == attempt
    assert (outcome.failed, mail.status) == (1, "failed")
    assert services.failed_count() == 1
    assert services.send_pending(now=when + timedelta(days=30)).as_dict() == {
        "recorded_inbox": 0, "recorded_email": 0, "sent": 0, "retrying": 0, "failed": 0}


def test_a_dropped_connection_is_retried_and_then_sent(app, users, province, smtp):
    smtp(Dropping())
    assert services.run(TWELVE, now=NOW).retrying == 1
    (mail,) = _rows("email")
    assert mail.status == "pending" and mail.last_error
    sink = smtp(Sink())  # the server is back
    assert services.send_pending(now=NOW + timedelta(hours=1)).sent == 1
    db.session.refresh(mail)
    assert (mail.status, mail.attempts, mail.last_error) == ("sent", 2, None)
    assert len(sink.messages) == 1


def test_one_runner_claims_a_mail_and_a_dead_runners_claim_expires(app, users, province, smtp):
    smtp(Refusing())
    services.record_due(TWELVE, now=NOW)
    db.session.commit()
    (mail,) = _rows("email")
    assert services.claim(mail.id, now=NOW) is True
    assert services.claim(mail.id, now=NOW + timedelta(seconds=1)) is False   # another runner
    assert services.send_pending(now=NOW + timedelta(seconds=2)).as_dict()["retrying"] == 0
    lease = app.config["REMINDER_CLAIM_SECONDS"]
    assert services.claim(mail.id, now=NOW + timedelta(seconds=lease + 1)) is True


def test_the_cli_runs_as_on_another_day(app, users, province, runner, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "SMTP_HOST", None)
    monkeypatch.setitem(app.config, "MAIL_OUTBOX_DIR", str(tmp_path))
    result = runner.invoke(args=["reminders", "run", "--today", "2026-12-30"])
    assert result.exit_code == 0, result.output
    assert "记录站内提醒 1 条、电子邮件 1 封；已发送 1" in result.output  # the CLI speaks Chinese by default
    again = runner.invoke(args=["reminders", "run", "--today", "2026-12-30"])
    assert "记录站内提醒 0 条、电子邮件 0 封；已发送 0" in again.output
    bad = runner.invoke(args=["reminders", "run", "--today", "9999-12-31"])
    assert bad.exit_code == 2 and "Traceback" not in bad.output


def test_the_worker_job_runs_the_reminders_unless_left_to_cron(app, users, province, monkeypatch, tmp_path):
    from registry.reminders.tasks import run_reminders_job

    monkeypatch.setitem(app.config, "SMTP_HOST", None)
    monkeypatch.setitem(app.config, "MAIL_OUTBOX_DIR", str(tmp_path))
    monkeypatch.setattr(services, "utcnow", lambda: NOW)
    monkeypatch.setitem(app.config, "REMINDERS_IN_WORKER", False)
    run_reminders_job()
    assert _rows() == []
    monkeypatch.setitem(app.config, "REMINDERS_IN_WORKER", True)
    run_reminders_job()
    assert [(r.channel, r.threshold, r.status) for r in _rows()] == [("inbox", "12m", "sent"), ("email", "12m", "sent")]
